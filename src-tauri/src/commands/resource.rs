//! Starting from an API URL: the discovery walk, a profile made from it, the dynamic
//! registration (RFC 7591/7592), and the step-up sign-in (RFC 9470).

use serde_json::Value;
use tokendesk_core::api::ClientChoice;
use tokendesk_core::profile::{Profile, ProfileConfig, ProfileId};
use tokendesk_core::resource::step_up::LoginDemand;
use tokendesk_core::resource::{DiscoverOptions, Walk};
use tokendesk_core::{Error, LoginStarted};

use super::Cmd;

/// The walk from an API URL to its authorization server; stores nothing.
#[tauri::command]
pub async fn discover_api(
    state: Cmd<'_>,
    api_url: String,
    authorization_server: Option<String>,
    code_grant: bool,
) -> Result<Walk, Error> {
    let options = DiscoverOptions {
        authorization_server: authorization_server.filter(|s| !s.is_empty()),
        code_grant,
    };
    state.core.discover_api(&api_url, &options).await
}

/// A profile from `config` (its name, scopes… and `api_url`) and the API's chain.
#[tauri::command]
pub async fn create_profile_from_api(
    state: Cmd<'_>,
    config: ProfileConfig,
    authorization_server: Option<String>,
    client: ClientChoice,
) -> Result<Profile, Error> {
    let options = DiscoverOptions {
        authorization_server: authorization_server.filter(|s| !s.is_empty()),
        code_grant: config.grant == tokendesk_core::flow::GrantKind::AuthorizationCode,
    };
    let made = state
        .core
        .create_profile_from_api(config, &options, client.into())
        .await?;
    Ok(made.profile)
}

/// After an `invalid_target`: the profile stops sending its resource (and says so).
#[tauri::command]
pub async fn stop_sending_resource(state: Cmd<'_>, id: ProfileId) -> Result<Profile, Error> {
    state.core.stop_sending_resource(&id).await
}

#[tauri::command]
pub async fn registration(state: Cmd<'_>, id: ProfileId) -> Result<Value, Error> {
    state.core.registration(&id).await
}

#[tauri::command]
pub async fn update_registration(
    state: Cmd<'_>,
    id: ProfileId,
    add_redirect_uris: Vec<String>,
    remove_redirect_uris: Vec<String>,
) -> Result<Value, Error> {
    state
        .core
        .update_registration(&id, &add_redirect_uris, &remove_redirect_uris)
        .await
}

#[tauri::command]
pub async fn delete_registration(state: Cmd<'_>, id: ProfileId) -> Result<Profile, Error> {
    state.core.delete_registration(&id).await
}

#[tauri::command]
pub async fn delete_profile_and_registration(state: Cmd<'_>, id: ProfileId) -> Result<(), Error> {
    state.core.delete_profile_and_registration(&id).await
}

/// A step-up sign-in: the scopes are added to the profile, the demand goes on this
/// authorization request only. Then `wait_login`/`complete_login`, then `check_login_demand`.
#[tauri::command]
pub async fn begin_step_up_login(
    state: Cmd<'_>,
    id: ProfileId,
    scope_add: Vec<String>,
    demand: LoginDemand,
) -> Result<LoginStarted, Error> {
    state.core.add_scopes(&id, &scope_add).await?;
    let started = state.core.begin_login_with(&id, &demand).await?;
    super::login::open_browser(started).await
}

/// Whether the new token's `acr`/`auth_time` meet the demand; `false` when no token says.
#[tauri::command]
pub async fn check_login_demand(
    state: Cmd<'_>,
    id: ProfileId,
    demand: LoginDemand,
) -> Result<bool, Error> {
    state.core.check_login_demand(&id, &demand).await
}
