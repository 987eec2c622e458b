//! Importing profiles: all of a plan's profiles or none, and the secrets found stored where
//! secrets go.

use super::Core;
use super::profiles::{check_credential, credential_kind};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::events::CoreEvent;
use crate::import::ImportPlan;
use crate::profile::{Profile, ProfileConfig, ProfileId};
use crate::secret::Sensitive;

/// A profile to import and its client credential, if one is to be stored.
pub struct ImportItem {
    pub config: ProfileConfig,
    pub secret: Option<Sensitive<String>>,
}

impl Core {
    /// What the app's Import does: a plan's profiles created, all or none, with the client
    /// secrets the file held when `store_found` (otherwise none is kept). A plan with errors,
    /// or with no profile, creates nothing.
    pub async fn import_plan(
        &self,
        plan: ImportPlan,
        store_found: bool,
        rename: bool,
    ) -> Result<Vec<Profile>> {
        if !plan.errors.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                format!(
                    "Nothing imported: {} problem{} to fix first: {}",
                    plan.errors.len(),
                    if plan.errors.len() == 1 { "" } else { "s" },
                    plan.errors.join(" ")
                ),
            ));
        }
        if plan.profiles.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                "Nothing to import: the file defines no OAuth 2.0 settings TokenDesk can use \
                 (see the warnings).",
            ));
        }
        let items = plan
            .profiles
            .into_iter()
            .map(|p| ImportItem {
                config: p.config,
                secret: p.secret.filter(|_| store_found).map(|s| s.value),
            })
            .collect();
        self.import_profiles(items, rename).await
    }

    /// Creates every profile or none: all are checked first (valid, names free — or, with
    /// `rename`, given a free name with a ` (2)` suffix), then created with their secrets; a
    /// failure half-way takes back what was created.
    #[tracing::instrument(skip_all, fields(profiles = items.len()), err)]
    pub async fn import_profiles(
        &self,
        mut items: Vec<ImportItem>,
        rename: bool,
    ) -> Result<Vec<Profile>> {
        let mut taken: Vec<String> = self
            .list_profiles()?
            .into_iter()
            .map(|p| p.config.name)
            .collect();
        let mut clashes = Vec::new();
        for (i, item) in items.iter_mut().enumerate() {
            if let Err(e) = item.config.validate() {
                return Err(Error::invalid(
                    e.fields
                        .into_iter()
                        .map(|f| FieldError {
                            field: format!("profiles[{i}].{}", f.field),
                            message: format!("Profile \"{}\": {}", item.config.name, f.message),
                        })
                        .collect(),
                ));
            }
            if let Some(secret) = &item.secret {
                check_credential(&item.config, secret)?;
            }
            let name = &item.config.name;
            if taken.contains(name) {
                if rename {
                    let free = (2..)
                        .map(|n| format!("{name} ({n})"))
                        .find(|n| !taken.contains(n))
                        .unwrap_or_default();
                    item.config.name = free;
                } else {
                    clashes.push(name.clone());
                }
            }
            taken.push(item.config.name.clone());
        }
        if !clashes.is_empty() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "Nothing imported: {} already exist{} ({}). Rename or remove {}, or import \
                     with --rename to add a \" (2)\" suffix.",
                    if clashes.len() == 1 {
                        "a profile of that name"
                    } else {
                        "profiles of those names"
                    },
                    if clashes.len() == 1 { "s" } else { "" },
                    clashes
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if clashes.len() == 1 { "it" } else { "them" },
                ),
            ));
        }
        let mut created: Vec<Profile> = Vec::new();
        for item in items {
            match self.import_one(item).await {
                Ok(p) => created.push(p),
                Err(e) => {
                    for p in created.iter().rev() {
                        if let Err(undo) = self.delete_profile(&p.id).await {
                            tracing::warn!(profile = %p.id, error = %undo.message, "import not taken back");
                        }
                    }
                    return Err(e);
                }
            }
        }
        self.emit(CoreEvent::ProfilesChanged);
        Ok(created)
    }

    async fn import_one(&self, item: ImportItem) -> Result<Profile> {
        self.check_links(None, &item.config)?;
        let now = self.now();
        let profile = Profile {
            id: ProfileId::random(),
            config: item.config,
            metadata: None,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_profile(&profile)?;
        if let Some(secret) = item.secret
            && let Err(e) = self.store_imported_secret(&profile, secret).await
        {
            self.store.delete_profile(&profile.id)?;
            return Err(e);
        }
        tracing::info!(profile = %profile.id, "profile imported");
        Ok(profile)
    }

    /// Where an imported secret goes: the OS keychain entry of the profile's credential. The
    /// one place to change when secrets can come from another source.
    async fn store_imported_secret(
        &self,
        profile: &Profile,
        secret: Sensitive<String>,
    ) -> Result<()> {
        self.keychain_set(&profile.id, credential_kind(&profile.config), secret)
            .await
    }
}
