//! The user of a device sign-in (RFC 8628): `tests/provider/device.mjs` enters the user code on
//! the provider's verification page, signs in and consents — or aborts — with plain HTTP, as
//! someone on another device would.

use std::process::{Command, Stdio};

use tokendesk_core::profile::{AuthMethod, GrantKind, ProfileConfig};

use crate::{Provider, provider_dir};

/// Enters `user_code` at `verification_uri` and approves (as `alice`). Blocks until the
/// provider shows its success page; panics with the script's reason otherwise.
pub fn approve_device(verification_uri: &str, user_code: &str) {
    run_device_user(verification_uri, user_code, &[]);
}

/// Enters `user_code` and presses Abort: the next poll gets `access_denied`.
pub fn deny_device(verification_uri: &str, user_code: &str) {
    run_device_user(verification_uri, user_code, &["--deny"]);
}

fn run_device_user(verification_uri: &str, user_code: &str, args: &[&str]) {
    let out = Command::new("node")
        .arg(provider_dir().join("device.mjs"))
        .arg(verification_uri)
        .arg(user_code)
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .expect("node runs device.mjs");
    assert!(
        out.status.success(),
        "device.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A device-code profile for one of the provider's device clients (`device-app` with its
/// secret, or a public `device-*`), asking for an ID token and a refresh token.
pub fn device_config(p: &Provider, client: &str, method: AuthMethod) -> ProfileConfig {
    ProfileConfig {
        name: client.into(),
        environment: "test".into(),
        issuer: Some(p.issuer.clone()),
        client_id: client.into(),
        auth_method: method,
        grant: GrantKind::DeviceCode,
        scopes: vec!["openid".into(), "offline_access".into(), "profile".into()],
        ..Default::default()
    }
}
