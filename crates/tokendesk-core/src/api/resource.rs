//! Starting from an API URL: the discovery walk (RFC 9728 → RFC 8414), which stores nothing.

use super::Core;
use crate::http::Call;
use crate::profile::ProfileId;
use crate::resource::{DiscoverOptions, Walk, chain};

impl Core {
    /// Walks from an API URL to its authorization server; every request is a step of the
    /// answer. Sends no token, stores nothing, records nothing in the exchange log.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn discover_api(
        &self,
        api_url: &str,
        options: &DiscoverOptions,
    ) -> crate::Result<Walk> {
        let call = Call::new(
            &self.http,
            self.clock.as_ref(),
            ProfileId::from("-"),
            "api_discovery",
            &[],
        );
        Ok(chain::walk(&call, api_url, options).await)
    }
}
