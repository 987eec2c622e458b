//! `{base}/bank`: a PSD2 bank in the manner of OP Financial Group's PSD2 APIs. **Demo only.**
//!
//! It knows one client, the TPP [`crate::BANK_CLIENT`] (`client_secret_post`), whose RSA key
//! pair is generated at every start; the private half is handed to TokenDesk through
//! [`crate::Sandbox::bank_tpp_key_pem`] — a demo key, as public as the demo secrets. The bank
//! verifies with the public half everything the TPP signs: request objects, JWT-bearer
//! assertions and `x-jws-signature`. The sequence:
//!
//! 1. client credentials (`scope=accounts` or `payments`) → an opaque token;
//! 2. `POST {bank}/accounts-psd2/v1/authorizations` (a consent) or
//!    `POST {bank}/payments-psd2/v1/sepa-payments` (a payment, body signed in a detached JWS)
//!    → `201 {"authorizationId": …}`;
//! 3. `/authorize` with a request object signed PS256 whose `claims` ask for that
//!    `authorizationId`, `response_type=code id_token` answered in the fragment with an ID token
//!    carrying `c_hash`, `s_hash`, `nonce`, `authorizationId` and `acr`; PKCE S256 as everywhere;
//! 4. the code exchange (access, refresh and ID token) — or, for a payment, the JWT-bearer grant;
//! 5. `GET {bank}/accounts-psd2/v1/accounts` answers tokens given for a registered authorization.
//!
//! Every back-channel route (`/token`, `/revoke`, `/introspect`, `/userinfo` and the PSD2 API)
//! requires `x-api-key: <client id>` ([`api_key`]); discovery, the JWKS and the browser's
//! `/authorize` do not — a browser cannot send the header, and metadata is public.

mod accounts;
mod api;
mod api_key;
pub(crate) mod ciba;
mod claims;
mod consent;
pub(crate) mod jwt_bearer;
mod payments;
mod registry;
pub(crate) mod request_object;

use axum::Router;
use axum::routing::{get, post};

pub(crate) use api_key::require as require_api_key;
pub(crate) use claims::requested_authorization_id;
pub(crate) use registry::Registry;

use crate::state::Issuer;

/// The `kid` of the TPP's key: request objects, assertions and payment signatures may name it.
pub const BANK_TPP_KID: &str = "sandbox-bank-tpp-rsa";
/// The acr of every bank sign-in: strong customer authentication (PSD2).
pub const BANK_ACR_SCA: &str = "urn:openbanking:psd2:sca";
/// The acr values the bank knows, in discovery order.
pub(crate) const ACR_VALUES: &[&str] = &[BANK_ACR_SCA, "urn:openbanking:psd2:ca"];
/// Registers an account-information consent (POST, scope `accounts`).
pub const BANK_CONSENTS_PATH: &str = "/accounts-psd2/v1/authorizations";
/// The demo accounts (GET), for a token given for a registered authorization.
pub const BANK_ACCOUNTS_PATH: &str = "/accounts-psd2/v1/accounts";
/// Initiates a SEPA payment (POST, scope `payments`, body signed in `x-jws-signature`).
pub const BANK_PAYMENTS_PATH: &str = "/payments-psd2/v1/sepa-payments";

/// The PSD2 API routes, to be put behind [`require_api_key`] with the bank's OAuth routes.
pub(crate) fn api_routes() -> Router<Issuer> {
    Router::new()
        .route(BANK_CONSENTS_PATH, post(consent::register))
        .route(BANK_ACCOUNTS_PATH, get(accounts::list))
        .route(BANK_PAYMENTS_PATH, post(payments::initiate))
        .route(ciba::BACKCHANNEL_PATH, post(ciba::backchannel))
}

/// The page where the sandbox's user approves or denies CIBA requests (a browser: no API key).
pub(crate) fn public_routes() -> Router<Issuer> {
    Router::new()
        .route(ciba::APPROVE_PATH, get(ciba::page))
        .route(ciba::DECISION_PATH, post(ciba::decide))
}
