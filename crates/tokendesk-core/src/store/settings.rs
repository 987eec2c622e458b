use rusqlite::OptionalExtension;

use super::Store;
use crate::error::Result;
use crate::settings::Settings;

impl Store {
    pub fn settings(&self) -> Result<Settings> {
        let v: Option<String> = self
            .conn()
            .query_row("SELECT value FROM settings WHERE key = 'app'", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(v.map(|v| serde_json::from_str(&v))
            .transpose()?
            .unwrap_or_default())
    }

    pub fn put_settings(&self, s: &Settings) -> Result<()> {
        self.conn().execute(
            "INSERT INTO settings (key, value) VALUES ('app', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [serde_json::to_string(s)?],
        )?;
        Ok(())
    }

    /// A small piece of the app's own state by name (what was notified, the window's last
    /// view): never a secret.
    pub fn state(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [format!("{STATE}{name}")],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn put_state(&self, name: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [format!("{STATE}{name}"), value.to_owned()],
        )?;
        Ok(())
    }

    /// Remembers the newest DPoP nonce an origin gave (not a secret: the server hands it to
    /// anyone), so the next process's first proof carries it.
    pub fn put_dpop_nonce(&self, origin: &str, nonce: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [format!("{DPOP_NONCE}{origin}"), nonce.to_owned()],
        )?;
        Ok(())
    }

    /// The DPoP nonces remembered, by origin.
    pub fn dpop_nonces(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut q =
            conn.prepare("SELECT key, value FROM settings WHERE key LIKE 'dpop_nonce:%'")?;
        let rows = q.query_map([], |r| {
            let key: String = r.get(0)?;
            Ok((key[DPOP_NONCE.len()..].to_owned(), r.get(1)?))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

const DPOP_NONCE: &str = "dpop_nonce:";
const STATE: &str = "state:";
