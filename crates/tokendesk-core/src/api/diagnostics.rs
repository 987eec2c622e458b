//! What happened: the token history, the exchange log, the support bundle.

use super::Core;
use crate::error::Result;
use crate::history::TokenEvent;
use crate::http::Exchange;
use crate::profile::ProfileId;

impl Core {
    pub fn history(&self, id: &ProfileId, limit: usize) -> Result<Vec<TokenEvent>> {
        self.store.events(id, limit)
    }

    /// How many events of each profile the history keeps now: 1,000, or a share of the
    /// store-wide budget in a store of more than 500 profiles.
    pub fn history_kept(&self) -> Result<usize> {
        self.store.events_kept()
    }

    pub fn exchanges(&self, id: &ProfileId, limit: usize) -> Result<Vec<Exchange>> {
        self.store.exchanges(id, limit)
    }

    /// A redacted text bundle of the profile's setup, token, history and exchanges, for a
    /// support ticket.
    pub async fn support_bundle(&self, id: &ProfileId) -> Result<String> {
        let profile = self.profile_by_id(id)?;
        let secret_stored = self.has_client_secret(id).await?;
        let token = self.store.get_token(id)?;
        let history = self.store.events(id, 100)?;
        let exchanges = self
            .store
            .exchanges(id, crate::store::EXCHANGES_KEPT_PER_PROFILE)?;
        Ok(crate::bundle::render(
            &profile,
            secret_stored,
            token.as_ref(),
            &history,
            &exchanges,
            self.last_check(id).as_ref(),
            self.now(),
        ))
    }
}
