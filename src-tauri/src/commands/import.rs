//! Importing Postman, Insomnia, Bruno, OpenAPI and TokenDesk exports.

use tokendesk_core::Error;
use tokendesk_core::import::{ImportReq, PlanSummary};
use tokendesk_core::profile::Profile;

use super::Cmd;

/// What an import would create, and where secrets were found (never their values). Async: off
/// the main thread while a file or a folder is read.
#[tauri::command]
pub async fn plan_import(req: ImportReq) -> Result<PlanSummary, Error> {
    Ok(req.plan()?.summary())
}

/// Plans again and creates every planned profile or none.
#[tauri::command]
pub async fn import_file(state: Cmd<'_>, req: ImportReq) -> Result<Vec<Profile>, Error> {
    let plan = req.plan_to_import()?;
    state
        .core
        .import_plan(plan, req.store_found_secrets, req.rename)
        .await
}
