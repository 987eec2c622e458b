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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            clipboard_clear_secs: 30,
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
        Ok(())
    }
}
