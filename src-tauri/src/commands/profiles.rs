use tokendesk_core::Error;
use tokendesk_core::profile::{Profile, ProfileConfig, ProfileId};
use tokendesk_core::provider::discovery::ProviderMetadata;
use tokendesk_core::secret::Sensitive;

use super::Cmd;

#[tauri::command]
pub fn list_profiles(state: Cmd<'_>) -> Result<Vec<Profile>, Error> {
    state.core.list_profiles()
}

#[tauri::command]
pub async fn create_profile(
    state: Cmd<'_>,
    config: ProfileConfig,
    client_secret: Option<String>,
) -> Result<Profile, Error> {
    let secret = client_secret.filter(|s| !s.is_empty()).map(Sensitive::new);
    state.core.create_profile(config, secret).await
}

#[tauri::command]
pub async fn update_profile(
    state: Cmd<'_>,
    id: ProfileId,
    config: ProfileConfig,
) -> Result<Profile, Error> {
    state.core.update_profile(&id, config).await
}

#[tauri::command]
pub async fn duplicate_profile(
    state: Cmd<'_>,
    id: ProfileId,
    name: String,
) -> Result<Profile, Error> {
    state.core.duplicate_profile(&id, &name).await
}

#[tauri::command]
pub async fn delete_profile(state: Cmd<'_>, id: ProfileId) -> Result<(), Error> {
    state.core.delete_profile(&id).await
}

#[tauri::command]
pub async fn set_client_secret(
    state: Cmd<'_>,
    id: ProfileId,
    secret: Option<String>,
) -> Result<(), Error> {
    state
        .core
        .set_client_secret(&id, secret.map(Sensitive::new))
        .await
}

#[tauri::command]
pub async fn has_client_secret(state: Cmd<'_>, id: ProfileId) -> Result<bool, Error> {
    state.core.has_client_secret(&id).await
}

#[tauri::command]
pub async fn set_tls_key(state: Cmd<'_>, id: ProfileId, key: Option<String>) -> Result<(), Error> {
    state.core.set_tls_key(&id, key.map(Sensitive::new)).await
}

#[tauri::command]
pub async fn set_signing_key(
    state: Cmd<'_>,
    id: ProfileId,
    key: Option<String>,
) -> Result<(), Error> {
    state
        .core
        .set_signing_key(&id, key.map(Sensitive::new))
        .await
}

#[tauri::command]
pub async fn has_signing_key(state: Cmd<'_>, id: ProfileId) -> Result<bool, Error> {
    state.core.has_signing_key(&id).await
}

#[tauri::command]
pub async fn has_tls_key(state: Cmd<'_>, id: ProfileId) -> Result<bool, Error> {
    state.core.has_tls_key(&id).await
}

#[tauri::command]
pub async fn discover(state: Cmd<'_>, id: ProfileId) -> Result<Profile, Error> {
    state.core.discover(&id).await
}

/// The setup check ("Check setup"): changes nothing stored.
#[tauri::command]
pub async fn check_setup(
    state: Cmd<'_>,
    id: ProfileId,
) -> Result<tokendesk_core::doctor::SetupReport, Error> {
    state.core.check_setup(&id).await
}

/// The setup check of the profile form before it is saved: a new profile with the secrets
/// typed, or the edits of `id` with its stored secrets where none is typed.
#[tauri::command]
pub async fn check_config(
    state: Cmd<'_>,
    config: ProfileConfig,
    id: Option<ProfileId>,
    secret: Option<String>,
    tls_key: Option<String>,
    signing_key: Option<String>,
) -> Result<tokendesk_core::doctor::SetupReport, Error> {
    let typed = |v: Option<String>| v.filter(|v| !v.is_empty()).map(Sensitive::new);
    state
        .core
        .check_config(
            config,
            id.as_ref(),
            tokendesk_core::TypedSecrets {
                credential: typed(secret),
                tls_key: typed(tls_key),
                signing_key: typed(signing_key),
            },
        )
        .await
}

/// The provider presets, for "New profile → from a provider".
#[tauri::command]
pub fn list_presets() -> Vec<tokendesk_core::catalog::PresetInfo> {
    tokendesk_core::catalog::presets()
        .iter()
        .map(tokendesk_core::catalog::Preset::info)
        .collect()
}

/// A profile from a preset and its parameter values (checked: field errors name each bad one);
/// nothing is stored until the form is saved.
#[tauri::command]
pub fn preset_profile(id: String, params: Vec<(String, String)>) -> Result<ProfileConfig, Error> {
    tokendesk_core::catalog::find(&id)?.profile(&params)
}

#[tauri::command]
pub async fn discover_issuer(state: Cmd<'_>, issuer: String) -> Result<ProviderMetadata, Error> {
    state.core.discover_issuer(&issuer).await
}
