//! Application settings, kept in the store.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Settings {
    /// Seconds after which a copied token is cleared from the clipboard (if it is still there);
    /// 0 keeps it.
    pub clipboard_clear_secs: u32,
    /// Closing the window keeps TokenDesk running in the tray (automatic refresh and the
    /// command line's agent go on); off, closing the window quits.
    pub close_to_tray: bool,
    /// Start TokenDesk, in the tray, when the user logs in.
    pub start_at_login: bool,
    /// Warn this many hours before a refresh token runs out (a sign-in will be needed); 0 never
    /// warns before (a profile that needs a sign-in is still said once).
    pub expiry_warning_hours: u32,
}

/// The longest warning window: 30 days.
pub const MAX_WARNING_HOURS: u32 = 720;

impl Default for Settings {
    fn default() -> Self {
        Self {
            clipboard_clear_secs: 30,
            close_to_tray: true,
            start_at_login: false,
            expiry_warning_hours: 24,
        }
    }
}

impl Settings {
    pub fn validate(&self) -> Result<()> {
        if self.clipboard_clear_secs > 3600 {
            return Err(Error::invalid_field(
                "clipboard_clear_secs",
                "Clear the clipboard within an hour (at most 3600 seconds), or 0 to keep it.",
            ));
        }
        if self.expiry_warning_hours > MAX_WARNING_HOURS {
            return Err(Error::invalid_field(
                "expiry_warning_hours",
                "Warn at most 720 hours (30 days) ahead, or 0 for no warning before a sign-in is needed.",
            ));
        }
        Ok(())
    }

    /// The warning window in milliseconds.
    pub fn warning_window_ms(&self) -> i64 {
        i64::from(self.expiry_warning_hours) * 3_600_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_stored_before_these_fields_existed_read_with_the_defaults() {
        let old: Settings = serde_json::from_str(r#"{"clipboard_clear_secs": 10}"#).unwrap();
        assert_eq!(old.clipboard_clear_secs, 10);
        assert!(old.close_to_tray, "closing to the tray is the default");
        assert!(!old.start_at_login, "starting at login is opt-in");
        assert_eq!(old.expiry_warning_hours, 24);
        assert!(old.validate().is_ok());
        let too_far = Settings {
            expiry_warning_hours: 721,
            ..old
        };
        assert_eq!(
            too_far.validate().unwrap_err().fields[0].field,
            "expiry_warning_hours"
        );
    }
}
