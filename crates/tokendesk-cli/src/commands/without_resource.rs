//! `--without-resource` (login, token): after a provider refused the profile's resource
//! (`invalid_target`), the profile stops sending it (the core keeps it as `resource_refused`),
//! and the command says so before it goes on.

use tokendesk_core::profile::Profile;
use tokendesk_core::{Core, Result};

use crate::exit::shell_word;

/// The profile without its resource, said on stderr; unchanged when it sends none.
pub async fn apply(core: &Core, profile: Profile) -> Result<Profile> {
    let Some(resource) = profile.config.resource.clone() else {
        errln!(
            "Profile \"{}\" sends no resource already.",
            profile.config.name
        );
        return Ok(profile);
    };
    let updated = core.stop_sending_resource(&profile.id).await?;
    errln!(
        "Profile \"{}\" no longer sends resource {resource} (a provider that refuses it answers \
         invalid_target); its tokens may not be meant for the API. `tokendesk profile edit {} \
         --resource {}` sends it again.",
        updated.config.name,
        shell_word(&updated.config.name),
        shell_word(&resource)
    );
    Ok(updated)
}
