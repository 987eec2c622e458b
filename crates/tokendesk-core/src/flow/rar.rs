//! Rich Authorization Requests (RFC 9396): `authorization_details`, a JSON array of objects
//! each with a `type` — one payment of 12.34 EUR to one IBAN — instead of (or beside) scopes.
//!
//! A profile keeps them as a JSON template (the strings may hold `{{placeholders}}` filled from
//! the steps' captured values, like the `claims` request). They are sent form-encoded as one
//! JSON string (RFC 9396 §3) on the authorization request (plain, in the request object, or
//! pushed), the client-credentials and token-exchange requests and the CIBA request. The token
//! response's `authorization_details` are what was **granted**: [`compare`] says where they
//! differ from what was asked (an amount narrowed, a type dropped), so nothing is hidden.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::error::Result;
use crate::profile::Profile;
use crate::template::Context;

/// The form parameter and token-response member (RFC 9396 §2, §7).
pub const PARAM: &str = "authorization_details";

/// Ready-made details for the common open-banking types, for forms and help: a payment
/// initiation (amount, creditor, IBAN) and account information (actions).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "payment_initiation",
        r#"{
  "type": "payment_initiation",
  "actions": ["initiate", "status", "cancel"],
  "locations": [],
  "instructedAmount": { "currency": "EUR", "amount": "12.34" },
  "creditorName": "Merchant A",
  "creditorAccount": { "iban": "DE02100100109307118603" },
  "remittanceInformationUnstructured": "Ref Number Merchant"
}"#,
    ),
    (
        "account_information",
        r#"{
  "type": "account_information",
  "actions": ["list_accounts", "read_balances", "read_transactions"],
  "locations": []
}"#,
    ),
];

/// The skeleton of a detail of any other type (one the provider lists).
pub fn template_for(kind: &str) -> Value {
    TEMPLATES
        .iter()
        .find(|(k, _)| *k == kind)
        .and_then(|(_, t)| serde_json::from_str(t).ok())
        .unwrap_or_else(|| serde_json::json!({ "type": kind }))
}

/// Reads details (a profile's template or a provider's answer): a JSON array of objects, each
/// with a non-empty string `type`. The error says what is wrong and where.
pub fn parse(text: &str) -> std::result::Result<Vec<Value>, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("The authorization details are not JSON ({e})."))?;
    check(&value)
}

/// [`parse`] for a JSON value already read.
pub fn check(value: &Value) -> std::result::Result<Vec<Value>, String> {
    let Value::Array(items) = value else {
        return Err(
            "The authorization details are a JSON array of objects: [{\"type\": \"…\", …}].".into(),
        );
    };
    for (i, item) in items.iter().enumerate() {
        let Value::Object(o) = item else {
            return Err(format!(
                "Authorization detail {} is not a JSON object: each is {{\"type\": \"…\", …}}.",
                i + 1
            ));
        };
        match o.get("type") {
            Some(Value::String(t)) if !t.trim().is_empty() => {}
            Some(_) => {
                return Err(format!(
                    "Authorization detail {}'s \"type\" is not a non-empty string.",
                    i + 1
                ));
            }
            None => {
                return Err(format!(
                    "Authorization detail {} has no \"type\" (RFC 9396 §2 requires one).",
                    i + 1
                ));
            }
        }
        for field in ["locations", "actions", "datatypes", "privileges"] {
            if let Some(v) = o.get(field)
                && !v
                    .as_array()
                    .is_some_and(|a| a.iter().all(|s| s.as_str().is_some_and(|s| !s.is_empty())))
            {
                return Err(format!(
                    "Authorization detail {}'s \"{field}\" is an array of strings (RFC 9396 §2.2).",
                    i + 1
                ));
            }
        }
    }
    Ok(items.clone())
}

/// The profile's details as written (placeholders unfilled), for comparing with a grant.
pub fn requested(profile: &Profile) -> Option<Vec<Value>> {
    profile
        .config
        .authorization_details
        .as_deref()
        .and_then(|t| parse(t).ok())
        .filter(|d| !d.is_empty())
}

/// What was asked (the profile's details) and what the token response granted, compared;
/// `None` when neither side has any.
pub fn comparison(
    profile: &Profile,
    raw: &serde_json::Map<String, Value>,
) -> Option<DetailsComparison> {
    let requested = requested(profile);
    let granted = granted(raw);
    if requested.is_none() && granted.is_none() {
        return None;
    }
    let differences = compare(requested.as_deref(), granted.as_deref());
    Some(DetailsComparison {
        requested,
        granted,
        differences,
    })
}

/// The profile's details as sent: the template parsed, checked and its strings filled. `None`
/// when the profile has none.
pub fn render(profile: &Profile, ctx: &Context<'_>) -> Result<Option<Value>> {
    let Some(text) = profile
        .config
        .authorization_details
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    else {
        return Ok(None);
    };
    let parsed = parse(text).map_err(|m| crate::Error::invalid_field(PARAM, m))?;
    if parsed.is_empty() {
        return Ok(None);
    }
    Ok(Some(ctx.render_json(&Value::Array(parsed), PARAM)?))
}

/// The form parameter of the profile's details (one JSON string), if it has any.
pub fn param(profile: &Profile, ctx: &Context<'_>) -> Result<Option<(String, String)>> {
    Ok(render(profile, ctx)?.map(|v| (PARAM.to_owned(), v.to_string())))
}

/// The types the profile asks for that the provider does not list in
/// `authorization_details_types_supported` (none when it lists nothing, or has no metadata):
/// worth a warning before sending — the provider will likely answer
/// `invalid_authorization_details`.
pub fn unsupported_types(profile: &Profile) -> Vec<String> {
    let Some(supported) = supported_types(profile) else {
        return Vec::new();
    };
    let Some(Ok(details)) = profile
        .config
        .authorization_details
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(parse)
    else {
        return Vec::new();
    };
    let mut out: Vec<String> = details
        .iter()
        .filter_map(|d| d.get("type")?.as_str())
        .filter(|t| !supported.iter().any(|s| s == t))
        .map(str::to_owned)
        .collect();
    out.dedup();
    out
}

/// `authorization_details_types_supported` from the provider's metadata.
pub fn supported_types(profile: &Profile) -> Option<Vec<String>> {
    let list = profile
        .metadata
        .as_ref()?
        .raw
        .get("authorization_details_types_supported")?
        .as_array()?;
    Some(
        list.iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
    )
}

/// The warning for types the provider does not list, if any.
pub fn unsupported_warning(profile: &Profile) -> Option<String> {
    let types = unsupported_types(profile);
    if types.is_empty() {
        return None;
    }
    let supported = supported_types(profile).unwrap_or_default();
    Some(format!(
        "The provider does not list the authorization details type{} {} in \
         authorization_details_types_supported (it lists {}); it will likely answer \
         invalid_authorization_details.",
        if types.len() == 1 { "" } else { "s" },
        types
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", "),
        if supported.is_empty() {
            "none".to_owned()
        } else {
            supported.join(", ")
        }
    ))
}

/// What was asked and what was granted, side by side, with every difference named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DetailsComparison {
    /// As sent (templates filled); `None` when the request carried none (or it is not known).
    #[ts(type = "unknown[] | null")]
    pub requested: Option<Vec<Value>>,
    /// As the provider answered (token response or introspection); `None` when it sent none.
    #[ts(type = "unknown[] | null")]
    pub granted: Option<Vec<Value>>,
    pub differences: Vec<Difference>,
}

/// One way the grant differs from the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// A requested type is not in the grant at all.
    DroppedType { detail_type: String },
    /// The grant has a type that was not asked for.
    AddedType { detail_type: String },
    /// A field of a detail was granted with another value (a narrowed amount, fewer actions).
    Changed {
        detail_type: String,
        /// A JSON pointer into the detail (`/instructedAmount/amount`).
        path: String,
        #[ts(type = "unknown")]
        requested: Value,
        #[ts(type = "unknown")]
        granted: Value,
    },
    /// A requested field is missing from the granted detail.
    Missing { detail_type: String, path: String },
    /// The request carried details and the provider sent none back (it may not say).
    NoneGranted,
}

impl Difference {
    /// For people: "payment_initiation: /instructedAmount/amount was 12.34, granted 10.00".
    pub fn describe(&self) -> String {
        let show = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match self {
            Difference::DroppedType { detail_type } => {
                format!("{detail_type}: asked for, not granted (dropped)")
            }
            Difference::AddedType { detail_type } => {
                format!("{detail_type}: granted, but not asked for")
            }
            Difference::Changed {
                detail_type,
                path,
                requested,
                granted,
            } => format!(
                "{detail_type}: {path} asked {}, granted {}",
                show(requested),
                show(granted)
            ),
            Difference::Missing { detail_type, path } => {
                format!("{detail_type}: {path} asked for, missing from the grant")
            }
            Difference::NoneGranted => {
                "the provider sent no authorization_details back: what it granted is not said"
                    .into()
            }
        }
    }
}

/// Compares what was asked with what was granted. Details are paired by `type` (and, for a
/// type asked more than once, in order); each requested field is compared with the granted
/// one, recursively, and arrays as wholes.
pub fn compare(requested: Option<&[Value]>, granted: Option<&[Value]>) -> Vec<Difference> {
    let mut out = Vec::new();
    let requested = requested.unwrap_or_default();
    let Some(granted) = granted else {
        if !requested.is_empty() {
            out.push(Difference::NoneGranted);
        }
        return out;
    };
    let type_of = |d: &Value| {
        d.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let mut used = vec![false; granted.len()];
    for r in requested {
        let t = type_of(r);
        let found = granted
            .iter()
            .enumerate()
            .find(|(i, g)| !used[*i] && type_of(g) == t);
        match found {
            None => out.push(Difference::DroppedType { detail_type: t }),
            Some((i, g)) => {
                used[i] = true;
                diff_fields(&t, "", r, g, &mut out);
            }
        }
    }
    for (i, g) in granted.iter().enumerate() {
        if !used[i] {
            out.push(Difference::AddedType {
                detail_type: type_of(g),
            });
        }
    }
    out
}

fn diff_fields(t: &str, path: &str, requested: &Value, granted: &Value, out: &mut Vec<Difference>) {
    match (requested, granted) {
        (Value::Object(r), Value::Object(g)) => {
            for (k, rv) in r {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                match g.get(k) {
                    Some(gv) => diff_fields(t, &p, rv, gv, out),
                    None => out.push(Difference::Missing {
                        detail_type: t.to_owned(),
                        path: p,
                    }),
                }
            }
        }
        (r, g) if same_value(r, g) => {}
        // A value the template fills ({{amount}}, {{consentId}}) was sent filled: what it was
        // is in the exchange log, not in the profile.
        (Value::String(r), _) if r.contains("{{") => {}
        (r, g) => out.push(Difference::Changed {
            detail_type: t.to_owned(),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            requested: r.clone(),
            granted: g.clone(),
        }),
    }
}

/// Equal, reading a number sent as a string ("12.34") and one sent as a number (12.34) alike.
fn same_value(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    matches!(
        (a, b),
        (Value::String(_), Value::Number(_)) | (Value::Number(_), Value::String(_))
    ) && matches!((num(a), num(b)), (Some(x), Some(y)) if x == y)
}

/// The granted details in a token response's (or introspection answer's) members, if any:
/// an array, or — from providers that send it as a string — a JSON string of one.
pub fn granted(raw: &serde_json::Map<String, Value>) -> Option<Vec<Value>> {
    match raw.get(PARAM)? {
        Value::String(s) => parse(s).ok(),
        v => check(v).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn details_must_be_an_array_of_objects_with_a_type() {
        assert!(parse(r#"[{"type":"payment_initiation"}]"#).is_ok());
        assert!(parse("[]").unwrap().is_empty());
        let e = parse(r#"{"type":"x"}"#).unwrap_err();
        assert!(e.contains("JSON array"), "{e}");
        let e = parse(r#"[{"type":"x"}, 3]"#).unwrap_err();
        assert!(e.contains("detail 2 is not a JSON object"), "{e}");
        let e = parse(r#"[{"actions":["a"]}]"#).unwrap_err();
        assert!(e.contains("has no \"type\""), "{e}");
        let e = parse(r#"[{"type":""}]"#).unwrap_err();
        assert!(e.contains("non-empty string"), "{e}");
        let e = parse(r#"[{"type":"x","actions":"read"}]"#).unwrap_err();
        assert!(e.contains("\"actions\" is an array of strings"), "{e}");
        let e = parse("[{").unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
    }

    #[test]
    fn every_template_is_valid_details() {
        for (kind, text) in TEMPLATES {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(v["type"], *kind);
            check(&Value::Array(vec![v])).unwrap();
        }
        assert_eq!(
            template_for("openid_credential"),
            json!({"type": "openid_credential"})
        );
    }

    #[test]
    fn an_identical_grant_has_no_differences() {
        let asked = vec![
            json!({"type":"payment_initiation","instructedAmount":{"amount":"12.34","currency":"EUR"}}),
        ];
        assert!(compare(Some(&asked), Some(&asked)).is_empty());
        // A number granted as a number for a string asked is the same amount.
        let granted = vec![
            json!({"type":"payment_initiation","instructedAmount":{"amount":12.34,"currency":"EUR"}}),
        ];
        assert!(compare(Some(&asked), Some(&granted)).is_empty());
    }

    #[test]
    fn a_narrowed_amount_and_a_dropped_type_are_named() {
        let asked = vec![
            json!({"type":"payment_initiation","instructedAmount":{"amount":"12.34","currency":"EUR"},"creditorAccount":{"iban":"DE02"}}),
            json!({"type":"account_information","actions":["list_accounts","read_balances"]}),
        ];
        let granted = vec![
            json!({"type":"payment_initiation","instructedAmount":{"amount":"10.00","currency":"EUR"}}),
        ];
        let d = compare(Some(&asked), Some(&granted));
        assert_eq!(
            d,
            vec![
                Difference::Changed {
                    detail_type: "payment_initiation".into(),
                    path: "/instructedAmount/amount".into(),
                    requested: json!("12.34"),
                    granted: json!("10.00"),
                },
                Difference::Missing {
                    detail_type: "payment_initiation".into(),
                    path: "/creditorAccount".into()
                },
                Difference::DroppedType {
                    detail_type: "account_information".into()
                },
            ]
        );
        assert_eq!(
            d[0].describe(),
            "payment_initiation: /instructedAmount/amount asked 12.34, granted 10.00"
        );
        assert!(d[2].describe().contains("dropped"));
    }

    #[test]
    fn fewer_actions_an_added_type_and_no_answer_are_differences() {
        let asked = vec![json!({"type":"account_information","actions":["a","b"]})];
        let granted = vec![
            json!({"type":"account_information","actions":["a"]}),
            json!({"type":"extra"}),
        ];
        let d = compare(Some(&asked), Some(&granted));
        assert!(matches!(&d[0], Difference::Changed { path, .. } if path == "/actions"));
        assert_eq!(
            d[1],
            Difference::AddedType {
                detail_type: "extra".into()
            }
        );
        assert_eq!(compare(Some(&asked), None), vec![Difference::NoneGranted]);
        assert!(compare(None, None).is_empty());
        // A field a template fills is not compared: its value is only known once sent.
        let asked = vec![json!({"type":"p","instructedAmount":{"amount":"{{amount}}"}})];
        let granted = vec![json!({"type":"p","instructedAmount":{"amount":"3.00"}})];
        assert!(compare(Some(&asked), Some(&granted)).is_empty());
    }

    #[test]
    fn granted_details_are_read_as_an_array_or_a_json_string() {
        let mut raw = serde_json::Map::new();
        assert_eq!(granted(&raw), None);
        raw.insert(PARAM.into(), json!([{"type":"a"}]));
        assert_eq!(granted(&raw), Some(vec![json!({"type":"a"})]));
        raw.insert(PARAM.into(), json!(r#"[{"type":"b"}]"#));
        assert_eq!(granted(&raw), Some(vec![json!({"type":"b"})]));
        raw.insert(PARAM.into(), json!("nonsense"));
        assert_eq!(granted(&raw), None);
    }
}
