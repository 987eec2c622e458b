//! What the desktop shell shows outside its window: the tray menu and the expiry warnings, and
//! the bits of the window's own state it keeps between runs.

use super::Core;
use crate::clock::Millis;
use crate::error::Result;
use crate::tray::TrayMenu;
use crate::warnings::{self, Notified, Warning};

/// Where what was notified is kept (see [`crate::warnings`]).
const NOTIFIED: &str = "notified";

impl Core {
    /// The tray menu now.
    pub fn tray_menu(&self) -> Result<TrayMenu> {
        let window = self.settings()?.warning_window_ms();
        Ok(crate::tray::menu(
            &self.list_profiles()?,
            &self.tokens()?,
            self.now(),
            window,
        ))
    }

    /// The warnings due now that were not given before, marked as given (stored, so a restart
    /// does not repeat them), and when to look again.
    pub fn take_warnings(&self) -> Result<(Vec<Warning>, Option<Millis>)> {
        let window = self.settings()?.warning_window_ms();
        let (profiles, tokens, now) = (self.list_profiles()?, self.tokens()?, self.now());
        let stored = self.store.state(NOTIFIED)?;
        let mut said: Notified = stored
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let due = warnings::due(&profiles, &tokens, &mut said, now, window);
        let json = serde_json::to_string(&said)?;
        if stored.as_deref() != Some(json.as_str()) {
            self.store.put_state(NOTIFIED, &json)?;
        }
        Ok((due, warnings::next_look(&tokens, now, window)))
    }

    /// A named piece of the window's state (its last view, whether a hint was shown).
    pub fn ui_state(&self, name: &str) -> Result<Option<String>> {
        self.store.state(&format!("ui:{name}"))
    }

    pub fn set_ui_state(&self, name: &str, value: &str) -> Result<()> {
        self.store.put_state(&format!("ui:{name}"), value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::api::{Core, CoreOptions};
    use crate::clock::{Clock, FixedClock};
    use crate::home::Home;
    use crate::profile::GrantKind;
    use crate::secret::MemorySecrets;
    use crate::tray::tests::{HOUR, T0, token, with_refresh};
    use crate::warnings::WarningKind;

    fn core(dir: &std::path::Path, clock: Arc<FixedClock>) -> Core {
        Core::open(
            Home::at(dir.to_path_buf()).unwrap(),
            Arc::new(MemorySecrets::default()),
            CoreOptions {
                clock: clock as Arc<dyn Clock>,
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn a_warning_given_is_not_given_again_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::at(T0));
        let first = core(dir.path(), clock.clone());
        let p = crate::tray::tests::profile("corp", GrantKind::AuthorizationCode);
        first.store.insert_profile(&p).unwrap();
        let mut t = with_refresh(
            token("x", GrantKind::AuthorizationCode, T0, T0 + HOUR),
            Some(T0 + 30 * HOUR),
        );
        t.profile_id = p.id.clone();
        first.store.put_token(&t).unwrap();

        let (due, next) = first.take_warnings().unwrap();
        assert!(due.is_empty(), "30 h left: outside the 24 h window");
        assert_eq!(next, Some(T0 + HOUR + 1));
        clock.advance_ms(7 * HOUR);
        let (due, _) = first.take_warnings().unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].kind, WarningKind::RefreshExpiring);
        assert!(first.take_warnings().unwrap().0.is_empty(), "said once");
        drop(first);

        let again = core(dir.path(), clock.clone());
        assert!(
            again.take_warnings().unwrap().0.is_empty(),
            "the store remembers what was said"
        );
        let menu = again.tray_menu().unwrap();
        assert!(
            menu.entries.iter().any(|e| e.text() == "○ corp — expired"),
            "the access token ran out an hour in; the refresh token renews it: {menu:?}"
        );
    }
}
