//! The ready-made TokenDesk profiles for this sandbox (feature `presets`): one place that says
//! which issuer, client, scopes, URLs and key each preset gets, for the app, the command line and
//! the tests alike.

use tokendesk_core::presets::{self, Preset, SandboxApi, SandboxBank, SandboxClients, SandboxFapi};
use tokendesk_core::{Core, Result};

use crate::{
    BANK_ACCOUNTS_PATH, BANK_CLIENT, BANK_CONSENTS_PATH, BANK_TPP_KID, CC_CLIENT, CC_SCOPES,
    FAPI_CLIENT, FAPI_CLIENT_KID, Sandbox, Style, USER_SCOPES, WEB_CLIENT,
};

/// Every preset for the running sandbox (TokenDesk creates those whose names are free).
pub fn presets(s: &Sandbox) -> Vec<Preset> {
    let (standard, gateway, bank, fapi) = (
        s.issuer(Style::Standard),
        s.issuer(Style::Gateway),
        s.issuer(Style::Bank),
        s.issuer(Style::Fapi),
    );
    let userinfo_url = format!("{fapi}/userinfo");
    let consents_url = format!("{bank}{BANK_CONSENTS_PATH}");
    let accounts_url = format!("{bank}{BANK_ACCOUNTS_PATH}");
    let api_resource = format!("{}{}", s.base_url(), crate::API_PATH);
    let api_url = format!("{api_resource}/me");
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
        fapi: SandboxFapi {
            issuer: &fapi,
            client_id: FAPI_CLIENT,
            signing_key: s.fapi_client_key_pem(),
            kid: FAPI_CLIENT_KID,
            userinfo_url: &userinfo_url,
        },
        api: SandboxApi {
            url: &api_url,
            resource: &api_resource,
            scope: crate::API_SCOPE,
        },
    })
}

/// After a start (new client keys), hands the bank's TPP key and the FAPI client's key to the
/// stored profiles that sign as those clients; returns how many got one.
pub async fn renew_client_keys(core: &Core, s: &Sandbox) -> Result<usize> {
    let bank = presets::renew_sandbox_client_key(
        core,
        &s.issuer(Style::Bank),
        BANK_CLIENT.0,
        s.bank_tpp_key_pem(),
    )
    .await?;
    let fapi = presets::renew_sandbox_client_key(
        core,
        &s.issuer(Style::Fapi),
        FAPI_CLIENT,
        s.fapi_client_key_pem(),
    )
    .await?;
    Ok(bank + fapi)
}
