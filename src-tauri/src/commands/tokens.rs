use std::time::Duration;

use serde::Serialize;
use tauri::AppHandle;
use tokendesk_core::flow::token_ops::TokenHint;
use tokendesk_core::history::{TokenEvent, Trigger};
use tokendesk_core::http::Exchange;
use tokendesk_core::profile::ProfileId;
use tokendesk_core::secret::SecretKind;
use tokendesk_core::token::TokenSet;
use tokendesk_core::{ApiRequest, ApiResponse, Error, ExportFormat, TokenInspection};

use super::Cmd;

/// History rows and exchanges sent to the UI at most.
const LIST_LIMIT: usize = 200;

#[tauri::command]
pub fn list_tokens(state: Cmd<'_>) -> Result<Vec<TokenSet>, Error> {
    state.core.tokens()
}

/// The token sets of these profiles (those that hold one): what the window reads after
/// `token_changed` events, instead of every token set.
#[tauri::command]
pub fn tokens_of(state: Cmd<'_>, ids: Vec<ProfileId>) -> Result<Vec<TokenSet>, Error> {
    state.core.tokens_of(&ids)
}

#[tauri::command]
pub async fn fetch_token(state: Cmd<'_>, id: ProfileId) -> Result<TokenSet, Error> {
    state.core.fetch_token(&id).await
}

#[tauri::command]
pub async fn refresh_token(state: Cmd<'_>, id: ProfileId) -> Result<TokenSet, Error> {
    state.core.refresh(&id, Trigger::Manual).await
}

#[tauri::command]
pub async fn forget_token(state: Cmd<'_>, id: ProfileId) -> Result<(), Error> {
    state.core.forget_token(&id).await
}

/// The raw value, on the user's explicit reveal only.
#[tauri::command]
pub async fn reveal_token(
    state: Cmd<'_>,
    id: ProfileId,
    kind: SecretKind,
) -> Result<String, Error> {
    Ok(state.core.reveal(&id, kind).await?.into_inner())
}

#[derive(Serialize)]
pub struct Copied {
    clear_after_secs: u32,
}

/// Copies the access token (raw, as a header, or as a curl line); the value stays in Rust.
#[tauri::command]
pub async fn copy_token(
    app: AppHandle,
    state: Cmd<'_>,
    id: ProfileId,
    format: ExportFormat,
) -> Result<Copied, Error> {
    let text = state.core.export(&id, format).await?;
    let secs = state.core.settings()?.clipboard_clear_secs;
    crate::clipboard::copy(&app, text, Duration::from_secs(secs.into()))?;
    Ok(Copied {
        clear_after_secs: secs,
    })
}

#[tauri::command]
pub async fn inspect_token(
    state: Cmd<'_>,
    id: ProfileId,
    kind: SecretKind,
) -> Result<TokenInspection, Error> {
    state.core.inspect(&id, kind).await
}

#[tauri::command]
pub fn history(state: Cmd<'_>, id: ProfileId) -> Result<Vec<TokenEvent>, Error> {
    state.core.history(&id, LIST_LIMIT)
}

#[tauri::command]
pub fn exchanges(state: Cmd<'_>, id: ProfileId) -> Result<Vec<Exchange>, Error> {
    state.core.exchanges(&id, LIST_LIMIT)
}

#[tauri::command]
pub async fn revoke_token(state: Cmd<'_>, id: ProfileId, which: TokenHint) -> Result<(), Error> {
    state.core.revoke(&id, which).await
}

#[tauri::command]
pub async fn introspect_token(
    state: Cmd<'_>,
    id: ProfileId,
    which: TokenHint,
) -> Result<serde_json::Value, Error> {
    state.core.introspect(&id, which).await
}

#[tauri::command]
pub async fn userinfo(state: Cmd<'_>, id: ProfileId) -> Result<serde_json::Value, Error> {
    state.core.userinfo(&id).await
}

/// "Try it": an API request with the profile's token (a 401 renews it once and retries).
#[tauri::command]
pub async fn send_request(
    state: Cmd<'_>,
    id: ProfileId,
    request: ApiRequest,
) -> Result<ApiResponse, Error> {
    let min_valid = Duration::from_secs(30);
    state
        .core
        .request(&id, &request, min_valid, Trigger::Manual)
        .await
}

/// The redacted support bundle, as text (it holds no secret).
#[tauri::command]
pub async fn support_bundle(state: Cmd<'_>, id: ProfileId) -> Result<String, Error> {
    state.core.support_bundle(&id).await
}

/// Copies the support bundle to the clipboard (no clearing: it holds no secret).
#[tauri::command]
pub async fn copy_support_bundle(
    app: AppHandle,
    state: Cmd<'_>,
    id: ProfileId,
) -> Result<(), Error> {
    let text = state.core.support_bundle(&id).await?;
    crate::clipboard::copy(
        &app,
        tokendesk_core::secret::Sensitive::new(text),
        Duration::ZERO,
    )
}
