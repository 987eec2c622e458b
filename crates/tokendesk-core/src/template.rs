//! Templates in profiles: provider quirks as data, not code. A `{{name}}` placeholder takes a
//! value captured by the profile's steps (`{{authorizationId}}`) or a generated one:
//!
//! | placeholder | value |
//! |---|---|
//! | `{{uuid}}` | a fresh UUID v4, new at every occurrence |
//! | `{{now}}` | epoch seconds |
//! | `{{now_ms}}` | epoch milliseconds |
//! | `{{now_iso}}` | RFC 3339 UTC, `2026-12-04T07:02:07Z` |
//! | `{{date}}` | the UTC date, `2026-12-04` |
//!
//! Each time placeholder takes an offset: `{{now+300}}` (seconds), `{{date+90d}}`,
//! `{{now_iso-1h}}` (units `s`, `m`, `h`, `d`). A name that is neither captured nor generated
//! is an error that names it and where it stands. JSON templates are parsed first and only
//! their strings are filled, so a value can never break the JSON around it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::clock::{self, Millis};
use crate::error::{Error, Result};

/// Named values captured by steps, for templates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values(BTreeMap<String, String>);

impl Values {
    pub const fn new() -> Self {
        Self(BTreeMap::new())
    }

    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a template fills from: captured values and the clock.
pub struct Context<'a> {
    pub values: &'a Values,
    pub now: Millis,
}

impl Context<'_> {
    /// Fills every `{{…}}` of a text. `place` names where the text stands, for errors.
    pub fn render(&self, text: &str, place: &str) -> Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                return Err(Error::invalid_field(
                    place,
                    format!("A placeholder opened with {{{{ is not closed with }}}}: \"{text}\"."),
                ));
            };
            let name = after[..end].trim();
            out.push_str(&self.value(name, place)?);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Fills the strings of a JSON value (keys and structure stay as they are).
    pub fn render_json(&self, value: &Value, place: &str) -> Result<Value> {
        Ok(match value {
            Value::String(s) => Value::String(self.render(s, place)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.render_json(v, place))
                    .collect::<Result<_>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_json(v, place)?)))
                    .collect::<Result<_>>()?,
            ),
            other => other.clone(),
        })
    }

    fn value(&self, name: &str, place: &str) -> Result<String> {
        if let Some(v) = self.values.get(name) {
            return Ok(v.to_owned());
        }
        let (base, offset) = split_offset(name).map_err(|why| Error::invalid_field(place, why))?;
        let at = self.now.checked_add(offset).ok_or_else(|| {
            Error::invalid_field(place, format!("\"{name}\": the offset is too large."))
        })?;
        Ok(match base {
            "uuid" if offset == 0 => uuid::Uuid::new_v4().to_string(),
            "now" => (at / 1000).to_string(),
            "now_ms" => at.to_string(),
            "now_iso" => clock::rfc3339(at),
            "date" => clock::date(at),
            _ => {
                let captured: Vec<&str> = self.values.names().collect();
                return Err(Error::invalid_field(
                    place,
                    format!(
                        "{{{{{name}}}}} is not a known value. {}Generated: uuid, now, now_ms, \
                         now_iso, date (with an offset such as now+300 or date+90d).",
                        if captured.is_empty() {
                            "No step has captured any value yet. ".to_owned()
                        } else {
                            format!("Captured by the steps: {}. ", captured.join(", "))
                        }
                    ),
                ));
            }
        })
    }
}

/// `now+90d` → ("now", 90 days in ms); `uuid` → ("uuid", 0).
fn split_offset(name: &str) -> std::result::Result<(&str, Millis), String> {
    let Some(i) = name.find(['+', '-']) else {
        return Ok((name, 0));
    };
    let (base, rest) = name.split_at(i);
    let sign: Millis = if rest.starts_with('-') { -1 } else { 1 };
    let amount = &rest[1..];
    let (digits, unit) = match amount.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((j, _)) => amount.split_at(j),
        None => (amount, "s"),
    };
    let n: Millis = digits
        .parse()
        .map_err(|_| format!("\"{name}\": the offset must be a whole number with s, m, h or d."))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("\"{name}\": the offset unit must be s, m, h or d.")),
    };
    // Checked: `now+99999999999999d` overflowed (a panic in debug builds).
    let offset = n
        .checked_mul(unit_ms)
        .map(|ms| sign * ms)
        .ok_or_else(|| format!("\"{name}\": the offset is too large."))?;
    Ok((base.trim(), offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Millis = 1_796_367_727_000; // 2026-12-04T07:02:07Z

    fn ctx(values: &Values) -> Context<'_> {
        Context { values, now: NOW }
    }

    #[test]
    fn captured_and_generated_values_fill_text() {
        let mut v = Values::new();
        v.insert("authorizationId", "a-1");
        let c = ctx(&v);
        assert_eq!(
            c.render("AIS:{{authorizationId}}", "scope").unwrap(),
            "AIS:a-1"
        );
        assert_eq!(c.render("{{now}}", "x").unwrap(), "1796367727");
        assert_eq!(c.render("{{now+300}}", "x").unwrap(), "1796368027");
        assert_eq!(
            c.render("{{now_iso}}", "x").unwrap(),
            "2026-12-04T07:02:07Z"
        );
        assert_eq!(c.render("{{date+90d}}", "x").unwrap(), "2027-03-04");
        assert_eq!(
            c.render("{{now_iso-1h}}", "x").unwrap(),
            "2026-12-04T06:02:07Z"
        );
        let a = c.render("{{uuid}}", "x").unwrap();
        let b = c.render("{{ uuid }}", "x").unwrap();
        assert_eq!(a.len(), 36);
        assert_ne!(a, b, "a fresh uuid every time");
        assert_eq!(c.render("no placeholders", "x").unwrap(), "no placeholders");
    }

    #[test]
    fn unknown_names_and_broken_placeholders_say_what_and_where() {
        let mut v = Values::new();
        v.insert("authorizationId", "a-1");
        let e = ctx(&v).render("{{consentId}}", "claims").unwrap_err();
        assert_eq!(e.fields[0].field, "claims");
        assert!(
            e.message.contains("{{consentId}}") && e.message.contains("authorizationId"),
            "{}",
            e.message
        );
        let e = ctx(&Values::new()).render("{{oops", "scope").unwrap_err();
        assert!(e.message.contains("not closed"), "{}", e.message);
        let e = ctx(&Values::new()).render("{{now+3w}}", "x").unwrap_err();
        assert!(e.message.contains("unit"), "{}", e.message);
    }

    #[test]
    fn json_templates_fill_strings_only_and_stay_json() {
        let mut v = Values::new();
        v.insert("authorizationId", "\"}, \"evil\": {\"");
        let t = json!({"id_token": {"authorizationId": {"value": "{{authorizationId}}", "essential": true}}});
        let out = ctx(&v).render_json(&t, "claims").unwrap();
        assert_eq!(
            out["id_token"]["authorizationId"]["value"],
            "\"}, \"evil\": {\""
        );
        assert_eq!(out["id_token"]["authorizationId"]["essential"], true);
        assert!(
            out.get("evil").is_none(),
            "a value cannot break out of its string"
        );
    }
}
