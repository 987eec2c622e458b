//! Declares the app's commands so capabilities can grant them one by one.

const COMMANDS: &[&str] = &[
    "list_profiles",
    "create_profile",
    "update_profile",
    "duplicate_profile",
    "delete_profile",
    "set_client_secret",
    "has_client_secret",
    "set_tls_key",
    "has_tls_key",
    "set_signing_key",
    "has_signing_key",
    "discover",
    "discover_issuer",
    "list_presets",
    "preset_profile",
    "check_setup",
    "check_config",
    "list_tokens",
    "fetch_token",
    "begin_login",
    "wait_login",
    "complete_login",
    "cancel_login",
    "begin_device_login",
    "begin_ciba_login",
    "wait_device_login",
    "open_device_verification",
    "refresh_token",
    "forget_token",
    "reveal_token",
    "copy_token",
    "inspect_token",
    "history",
    "exchanges",
    "revoke_token",
    "introspect_token",
    "userinfo",
    "send_request",
    "support_bundle",
    "copy_support_bundle",
    "get_settings",
    "set_settings",
    "sandbox_status",
    "add_sandbox_profiles",
    "launch_view",
    "remember_view",
    "close_window",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}
