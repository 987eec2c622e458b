//! Step-up authentication (RFC 9470): what a sign-in must bring when an API demands a stronger
//! or more recent authentication, and the check that the new token brings it.

use serde::Deserialize;
use serde_json::Value;
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};
use crate::profile::{Param, ProfileConfig};

/// What a step-up sign-in asks for: sent as `acr_values` and `max_age` on the authorization
/// request, then checked in the new token's `acr` and `auth_time`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(default)]
pub struct LoginDemand {
    /// Space-separated, as in the challenge; the new token's `acr` must be one of them.
    #[ts(optional = nullable)]
    pub acr_values: Option<String>,
    #[ts(optional = nullable)]
    pub max_age: Option<u32>,
}

impl LoginDemand {
    pub fn is_empty(&self) -> bool {
        self.acr_values.is_none() && self.max_age.is_none()
    }

    /// The profile as this sign-in uses it (the stored profile is not changed). `acr_values`
    /// and `max_age` are OpenID Connect parameters, and the ID token is what says how the user
    /// signed in: the sign-in asks for `openid` too.
    pub fn apply(&self, config: &mut ProfileConfig) {
        if !self.is_empty() && !config.scopes.iter().any(|s| s == "openid") {
            config.scopes.insert(0, "openid".into());
        }
        if let Some(a) = &self.acr_values {
            config.authorize_params.retain(|p| p.name != "acr_values");
            config.authorize_params.push(Param::new("acr_values", a));
        }
        if let Some(m) = self.max_age {
            config.max_age = Some(m);
        }
    }

    /// Whether `claims` (the new ID token's, else the access token's) meet the demand, at
    /// `now_s`. `what` names the token the claims come from.
    pub fn check(&self, claims: &Value, what: &str, now_s: i64) -> Result<()> {
        let mut wrong = Vec::new();
        if let Some(wanted) = &self.acr_values {
            let list: Vec<&str> = wanted.split_whitespace().collect();
            match claims.get("acr").and_then(Value::as_str) {
                Some(acr) if list.contains(&acr) => {}
                Some(acr) => wrong.push(format!(
                    "has acr \"{acr}\", not one of the demanded \"{wanted}\""
                )),
                None => wrong.push(format!("has no acr (\"{wanted}\" was demanded)")),
            }
        }
        if let Some(max_age) = self.max_age {
            match claims.get("auth_time").and_then(Value::as_i64) {
                // A few seconds of clock skew between the provider and this machine.
                Some(t) if now_s - t <= i64::from(max_age) + 5 => {}
                Some(t) => wrong.push(format!(
                    "has an auth_time {} s ago, more than the demanded max_age of {max_age} s",
                    now_s - t
                )),
                None => wrong.push(format!(
                    "has no auth_time (a sign-in at most {max_age} s old was demanded)"
                )),
            }
        }
        if wrong.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::CheckFailed,
            format!(
                "The sign-in did not meet the API's demand: the new {what} {}. The provider may \
                 not support that authentication level; the API will refuse the token again.",
                wrong.join(" and ")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn acr_and_auth_time_are_checked() {
        let d = LoginDemand {
            acr_values: Some("urn:mfa urn:hw".into()),
            max_age: Some(60),
        };
        assert!(
            d.check(
                &json!({"acr": "urn:hw", "auth_time": 1000}),
                "ID token",
                1050
            )
            .is_ok()
        );
        let e = d
            .check(
                &json!({"acr": "urn:pwd", "auth_time": 900}),
                "ID token",
                1050,
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::CheckFailed);
        assert!(e.message.contains("\"urn:pwd\""), "{}", e.message);
        assert!(e.message.contains("150 s ago"), "{}", e.message);
        let e = d.check(&json!({}), "access token", 1).unwrap_err();
        assert!(e.message.contains("no acr") && e.message.contains("no auth_time"));
        assert!(LoginDemand::default().check(&json!({}), "x", 0).is_ok());
    }

    #[test]
    fn the_demand_goes_on_the_authorization_request() {
        let mut c = ProfileConfig::default();
        c.authorize_params.push(Param::new("acr_values", "old"));
        LoginDemand {
            acr_values: Some("urn:mfa".into()),
            max_age: Some(30),
        }
        .apply(&mut c);
        assert_eq!(c.authorize_params, [Param::new("acr_values", "urn:mfa")]);
        assert_eq!(c.scopes, ["openid"]);
        assert_eq!(c.max_age, Some(30));
    }
}
