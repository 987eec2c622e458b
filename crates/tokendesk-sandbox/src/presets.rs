//! The ready-made TokenDesk profiles for this sandbox (feature `presets`): one place that says
//! which issuer, client, scopes, URLs and key each preset gets, for the app, the command line and
//! the tests alike.

use tokendesk_core::presets::{self, Preset, SandboxBank, SandboxClients};
use tokendesk_core::{Core, Result};

use crate::{
    BANK_ACCOUNTS_PATH, BANK_CLIENT, BANK_CONSENTS_PATH, BANK_TPP_KID, CC_CLIENT, CC_SCOPES,
    Sandbox, Style, USER_SCOPES, WEB_CLIENT,
};

/// Every preset for the running sandbox (TokenDesk creates those whose names are free).
pub fn presets(s: &Sandbox) -> Vec<Preset> {
    let (standard, gateway, bank) = (
        s.issuer(Style::Standard),
        s.issuer(Style::Gateway),
        s.issuer(Style::Bank),
    );
    let consents_url = format!("{bank}{BANK_CONSENTS_PATH}");
    let accounts_url = format!("{bank}{BANK_ACCOUNTS_PATH}");
    presets::sandbox(&SandboxClients {
        standard_issuer: &standard,
        gateway_issuer: &gateway,
        cc: CC_CLIENT,
        cc_scopes: CC_SCOPES,
        web: WEB_CLIENT,
        user_scopes: USER_SCOPES,
        bank: SandboxBank {
            issuer: &bank,
            client: BANK_CLIENT,
            signing_key: s.bank_tpp_key_pem(),
            kid: BANK_TPP_KID,
            consents_url: &consents_url,
            accounts_url: &accounts_url,
        },
    })
}

/// After a start (a new TPP key), hands the key to the stored bank profiles; returns how many.
pub async fn renew_bank_key(core: &Core, s: &Sandbox) -> Result<usize> {
    presets::renew_sandbox_bank_key(
        core,
        &s.issuer(Style::Bank),
        BANK_CLIENT.0,
        s.bank_tpp_key_pem(),
    )
    .await
}
