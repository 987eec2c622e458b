//! The TypeScript types of the DTOs the UI receives, generated from these Rust types into
//! `ui/src/lib/bindings/`. The test fails when the committed files are stale; run it with
//! `TOKENDESK_UPDATE_BINDINGS=1` to regenerate them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::{Config, TS};

use crate::api::{DeviceLoginStarted, ExportFormat, LoginStarted, TokenInspection};
use crate::error::Error;
use crate::events::CoreEvent;
use crate::flow::token_ops::TokenHint;
use crate::history::TokenEvent;
use crate::http::Exchange;
use crate::profile::{Profile, ProfileConfig};
use crate::provider::discovery::ProviderMetadata;
use crate::settings::Settings;
use crate::token::{TokenSet, TokenState};

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings")
}

/// Writes every DTO type (and what it uses) into `dir`.
fn export_all(dir: &Path) {
    let cfg = Config::new().with_large_int("number").with_out_dir(dir);
    Profile::export_all(&cfg).unwrap();
    ProfileConfig::export_all(&cfg).unwrap();
    ProviderMetadata::export_all(&cfg).unwrap();
    TokenSet::export_all(&cfg).unwrap();
    TokenState::export_all(&cfg).unwrap();
    TokenInspection::export_all(&cfg).unwrap();
    TokenEvent::export_all(&cfg).unwrap();
    Exchange::export_all(&cfg).unwrap();
    LoginStarted::export_all(&cfg).unwrap();
    DeviceLoginStarted::export_all(&cfg).unwrap();
    crate::api::CibaLoginStarted::export_all(&cfg).unwrap();
    crate::api::CibaLoginOptions::export_all(&cfg).unwrap();
    crate::flow::rar::DetailsComparison::export_all(&cfg).unwrap();
    ExportFormat::export_all(&cfg).unwrap();
    CoreEvent::export_all(&cfg).unwrap();
    Error::export_all(&cfg).unwrap();
    Settings::export_all(&cfg).unwrap();
    TokenHint::export_all(&cfg).unwrap();
    crate::api::ApiRequest::export_all(&cfg).unwrap();
    crate::api::ApiResponse::export_all(&cfg).unwrap();
    crate::flow::GrantInfo::export_all(&cfg).unwrap();
    crate::doctor::SetupReport::export_all(&cfg).unwrap();
    crate::catalog::PresetInfo::export_all(&cfg).unwrap();
    crate::import::PlanSummary::export_all(&cfg).unwrap();
    crate::import::ImportReq::export_all(&cfg).unwrap();
    crate::resource::Walk::export_all(&cfg).unwrap();
    crate::api::ClientChoice::export_all(&cfg).unwrap();
    crate::resource::step_up::LoginDemand::export_all(&cfg).unwrap();
    crate::workspace::WorkspaceStatus::export_all(&cfg).unwrap();
    crate::store::Origin::export_all(&cfg).unwrap();
    // The grant registry as data: the UI's grant list reads it.
    let grants = serde_json::to_string_pretty(&crate::flow::grant_infos()).unwrap();
    std::fs::write(
        dir.join("grants.ts"),
        format!(
            "// Generated from tokendesk-core's grant registry (flow/mod.rs). Do not edit.\n\
             import type {{ GrantInfo }} from './GrantInfo';\n\n\
             export const GRANTS: GrantInfo[] = {grants};\n"
        ),
    )
    .unwrap();
}

/// Every `.ts` file below `dir`, by relative path.
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|x| x == "ts") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn typescript_bindings_are_current() {
    let fresh = tempfile::tempdir().unwrap();
    export_all(fresh.path());
    let generated = read_dir(fresh.path());
    assert!(
        generated.contains_key("TokenSet.ts"),
        "export wrote nothing"
    );
    if std::env::var_os("TOKENDESK_UPDATE_BINDINGS").is_some() {
        let dir = committed_dir();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &generated {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        return;
    }
    let committed = read_dir(&committed_dir());
    let stale: Vec<&String> = generated
        .keys()
        .chain(committed.keys())
        .filter(|k| generated.get(*k) != committed.get(*k))
        .collect();
    assert!(
        stale.is_empty(),
        "ui/src/lib/bindings is stale ({stale:?}); regenerate with \
         TOKENDESK_UPDATE_BINDINGS=1 cargo test -p tokendesk-core --lib bindings"
    );
}
