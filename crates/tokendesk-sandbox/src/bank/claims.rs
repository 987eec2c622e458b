//! The OpenID Connect claims request (OIDC Core §5.5) at the bank: which registered
//! authorization a sign-in is for — `{"id_token": {"authorizationId": {"value": X}}}`, in
//! `id_token`, `userinfo` or both (then with the same X).

use serde_json::Value;

/// The `authorizationId` the claims request asks for; the error says what is missing or wrong.
pub(crate) fn requested_authorization_id(claims: Option<&str>) -> Result<String, String> {
    let Some(claims) = claims else {
        return Err(
            "the bank needs the authorizationId of a registered consent or payment: ask for it in \
             claims.id_token.authorizationId (or claims.userinfo) with {\"value\": <id>}"
                .into(),
        );
    };
    let parsed: Value =
        serde_json::from_str(claims).map_err(|e| format!("claims is not JSON ({e})"))?;
    let mut found: Option<String> = None;
    for container in ["id_token", "userinfo"] {
        let Some(asked) = parsed.get(container).and_then(|c| c.get("authorizationId")) else {
            continue;
        };
        let value = asked
            .get("value")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                format!(
                    "claims.{container}.authorizationId must name the authorizationId in \"value\""
                )
            })?;
        match &found {
            Some(first) if first != value => {
                return Err(
                    "claims.id_token.authorizationId and claims.userinfo.authorizationId differ"
                        .into(),
                );
            }
            Some(_) => {}
            None => found = Some(value.to_owned()),
        }
    }
    found.ok_or_else(|| {
        "claims asks for no authorizationId: the bank signs in for a registered consent or \
         payment only (claims.id_token.authorizationId.value)"
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_container_names_the_authorization() {
        let both = r#"{"userinfo": {"authorizationId": {"value": "a1", "essential": true}},
                       "id_token": {"authorizationId": {"value": "a1"}, "acr": {"values": ["x"]}}}"#;
        assert_eq!(requested_authorization_id(Some(both)), Ok("a1".into()));
        let one = r#"{"userinfo": {"authorizationId": {"value": "a2"}}}"#;
        assert_eq!(requested_authorization_id(Some(one)), Ok("a2".into()));
    }

    #[test]
    fn missing_differing_or_valueless_requests_are_refused() {
        for (claims, says) in [
            (None, "needs the authorizationId"),
            (Some("{"), "not JSON"),
            (
                Some(r#"{"id_token": {"acr": null}}"#),
                "asks for no authorizationId",
            ),
            (
                Some(r#"{"id_token": {"authorizationId": null}}"#),
                "\"value\"",
            ),
            (
                Some(
                    r#"{"id_token": {"authorizationId": {"value": "a"}},
                        "userinfo": {"authorizationId": {"value": "b"}}}"#,
                ),
                "differ",
            ),
        ] {
            let e = requested_authorization_id(claims).expect_err("refused");
            assert!(e.contains(says), "{claims:?}: {e}");
        }
    }
}
