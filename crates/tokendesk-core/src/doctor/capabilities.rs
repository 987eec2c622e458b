//! The profile's choices against what the provider advertises in its metadata: client
//! authentication, grant, response type, PKCE, scopes, signing algorithms, the claims parameter,
//! PAR, DPoP, JARM. A mismatch is named with the advertised values. What the metadata does not
//! list is not judged (many providers leave lists out).

use serde_json::Value;

use super::{CheckRow, Layer};
use crate::flow::SignIn;
use crate::profile::{AuthMethod, Profile};
use crate::provider::discovery::ProviderMetadata;

/// Every capability row for `profile` against `meta`.
pub fn compare(profile: &Profile, meta: &ProviderMetadata) -> Vec<CheckRow> {
    let c = &profile.config;
    let spec = c.grant.spec();
    let browser = spec.sign_in == SignIn::Browser;
    let list = |name: &str| -> Option<Vec<String>> {
        meta.raw.get(name)?.as_array().map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
    };
    let mut rows = Vec::new();

    // Client authentication (RFC 8414 §2: absent means client_secret_basic only).
    let method = c.auth_method.as_str();
    let methods = list("token_endpoint_auth_methods_supported")
        .unwrap_or_else(|| vec!["client_secret_basic".into()]);
    rows.push(listed(
        "client:auth_method",
        "Client authentication method",
        method,
        &methods,
        "token_endpoint_auth_methods_supported",
        format!(
            "Choose one of the advertised methods in the profile (and register the client for \
             it), or ask the provider to enable {method}."
        ),
    ));

    // The grant (RFC 8414 §2: absent means authorization_code and implicit).
    let grants = list("grant_types_supported")
        .unwrap_or_else(|| vec!["authorization_code".into(), "implicit".into()]);
    rows.push(listed(
        "client:grant",
        "Grant",
        spec.grant_type,
        &grants,
        "grant_types_supported",
        format!(
            "The provider does not offer the {} grant: pick an advertised one, or ask for it to \
             be enabled for the client.",
            spec.label
        ),
    ));

    if browser {
        let rt = crate::flow::auth_code::response_type(profile)
            .map(|r| r.as_str().to_owned())
            .unwrap_or_else(|| "code".into());
        if let Some(types) = list("response_types_supported") {
            // Order does not matter in a response type (`id_token code` = `code id_token`).
            let words = |s: &str| {
                let mut w: Vec<&str> = s.split_whitespace().collect();
                w.sort_unstable();
                w.join(" ")
            };
            let ok = types.iter().any(|t| words(t) == words(&rt));
            rows.push(judged(
                "provider:response_type",
                "Response type",
                ok,
                format!(
                    "response_type \"{rt}\"; the provider lists {}.",
                    join(&types)
                ),
                "Use an advertised response type in the profile's authorize parameters.",
            ));
        }
        let pkce = match list("code_challenge_methods_supported") {
            Some(m) if m.iter().any(|m| m == "S256") => {
                CheckRow::new("provider:pkce", Layer::Provider, "PKCE")
                    .pass("TokenDesk sends S256 challenges; the provider lists S256.")
            }
            Some(m) => CheckRow::new("provider:pkce", Layer::Provider, "PKCE").fail(
                format!("The provider lists {} but not S256.", join(&m)),
                "TokenDesk always uses S256 (plain is not safe): ask the provider to allow S256.",
            ),
            None => CheckRow::new("provider:pkce", Layer::Provider, "PKCE").warn(
                "The provider's metadata says nothing about PKCE (no \
                 code_challenge_methods_supported).",
                "TokenDesk sends an S256 challenge anyway; a provider without PKCE ignores it. \
                 If sign-ins fail with invalid_grant at the code exchange, ask whether PKCE is \
                 enabled for the client.",
            ),
        };
        rows.push(pkce);
    }

    if let Some(supported) = list("scopes_supported") {
        let unknown: Vec<&String> = c.scopes.iter().filter(|s| !supported.contains(s)).collect();
        let row = CheckRow::new("provider:scopes", Layer::Provider, "Scopes");
        rows.push(match unknown.as_slice() {
            [] if c.scopes.is_empty() => row.skip("The profile asks for no scope."),
            [] => row.pass(format!(
                "Every scope asked for is advertised: {}.",
                c.scopes.join(" ")
            )),
            some => row.warn(
                format!(
                    "Not in the provider's scopes_supported: {}. It lists {}.",
                    some.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    join(&supported)
                ),
                "Check the scope's spelling; a provider may also refuse it (invalid_scope) or \
                 grant less. Providers do not have to list every scope: if tokens come with it, \
                 ignore this.",
            ),
        });
    }

    // Signing algorithms.
    if matches!(
        c.auth_method,
        AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt
    ) && let Some(algs) = list("token_endpoint_auth_signing_alg_values_supported")
    {
        rows.push(listed(
            "client:assertion_alg",
            "Client assertion algorithm",
            c.client_assertion.alg.as_str(),
            &algs,
            "token_endpoint_auth_signing_alg_values_supported",
            "Sign the client assertion with an advertised algorithm (and a key of its kind)."
                .to_owned(),
        ));
    }
    if c.signed_request
        && let Some(algs) = list("request_object_signing_alg_values_supported")
    {
        rows.push(listed(
            "client:request_object_alg",
            "Request object algorithm",
            c.client_assertion.alg.as_str(),
            &algs,
            "request_object_signing_alg_values_supported",
            "Sign request objects with an advertised algorithm.".to_owned(),
        ));
    }
    if browser
        && c.scopes.iter().any(|s| s == "openid")
        && let Some(algs) = list("id_token_signing_alg_values_supported")
    {
        rows.push(match c.id_token_alg.as_deref() {
            Some(expected) => listed(
                "provider:id_token_alg",
                "ID token algorithm",
                expected,
                &algs,
                "id_token_signing_alg_values_supported",
                format!(
                    "The profile expects ID tokens signed with {expected}: set the expected \
                     algorithm to the one the provider uses."
                ),
            ),
            // Any signature the provider's keys verify is accepted (in FAPI 2.0 mode, only
            // PS256, ES256 and EdDSA).
            None => {
                let usable: Vec<String> = algs
                    .iter()
                    .filter(|a| *a != "none" && !a.starts_with("HS"))
                    .filter(|a| !c.fapi2 || crate::fapi::ALGS.contains(&a.as_str()))
                    .cloned()
                    .collect();
                let row = CheckRow::new(
                    "provider:id_token_alg",
                    Layer::Provider,
                    "ID token algorithm",
                );
                if usable.is_empty() {
                    row.fail(
                        format!(
                            "The provider signs ID tokens with {}: none that the profile accepts \
                             (a public-key signature{}).",
                            join(&algs),
                            if c.fapi2 {
                                ": PS256, ES256 or EdDSA in FAPI 2.0 mode"
                            } else {
                                ""
                            }
                        ),
                        "Ask the provider to sign with a public-key algorithm for this client.",
                    )
                } else {
                    row.pass(format!(
                        "The profile takes any signature the provider's keys verify; it lists {}.",
                        usable.join(", ")
                    ))
                }
            }
        });
    }

    if c.claims.is_some() {
        let ok = meta.raw.get("claims_parameter_supported") == Some(&Value::Bool(true));
        rows.push(judged(
            "provider:claims",
            "Claims parameter",
            ok,
            if ok {
                "The profile sends a claims request; the provider supports the claims parameter."
                    .into()
            } else {
                "The profile sends a claims request, but the provider does not say \
                 claims_parameter_supported: true."
                    .into()
            },
            "The provider may ignore the claims request: check the ID token for the claims you \
             need, or ask the provider to enable the claims parameter.",
        ));
    }

    if browser {
        let par_endpoint =
            meta.pushed_authorization_request_endpoint.is_some() || c.endpoints.par.is_some();
        let row = CheckRow::new(
            "provider:par",
            Layer::Provider,
            "Pushed authorization requests",
        );
        let wanted = crate::flow::par::wanted(profile);
        rows.push(match (wanted, par_endpoint) {
            (true, false) => row.fail(
                "The sign-in pushes its request (PAR), but the provider has no \
                 pushed_authorization_request_endpoint.",
                "Turn PAR off in the profile, or set the PAR endpoint by hand.",
            ),
            (true, true) if meta.require_pushed_authorization_requests => {
                row.pass("The provider requires PAR; the sign-in pushes its request.")
            }
            (true, true) => row.pass("The sign-in pushes its request (PAR)."),
            (false, _) => row.skip("The sign-in does not push its request."),
        });
    }

    if let Some(alg) = c.dpop {
        let algs = &meta.dpop_signing_alg_values_supported;
        let row = CheckRow::new("provider:dpop", Layer::Provider, "DPoP");
        rows.push(if algs.is_empty() {
            row.fail(
                "The profile binds tokens with DPoP, but the provider lists no \
                 dpop_signing_alg_values_supported (it does not support DPoP).",
                "Turn DPoP off in the profile, or ask the provider to enable it.",
            )
        } else if algs.iter().any(|a| a == alg.as_str()) {
            row.pass(format!(
                "DPoP proofs signed with {}; the provider accepts {}.",
                alg.as_str(),
                algs.join(", ")
            ))
        } else {
            row.fail(
                format!(
                    "DPoP proofs signed with {}; the provider accepts only {}.",
                    alg.as_str(),
                    algs.join(", ")
                ),
                "Choose an accepted DPoP algorithm in the profile (a new key is made for it).",
            )
        });
    }

    if c.jarm {
        let modes = list("response_modes_supported").unwrap_or_default();
        let ok = modes.iter().any(|m| m == "jwt" || m.ends_with(".jwt"));
        rows.push(judged(
            "provider:jarm",
            "Signed authorization responses (JARM)",
            ok,
            format!("The provider lists response modes {}.", join(&modes)),
            "The profile asks for a signed response (response_mode=jwt); the provider does not \
             list one: turn JARM off in the profile, or ask for it.",
        ));
    }
    rows
}

fn join(values: &[String]) -> String {
    if values.is_empty() {
        "nothing".into()
    } else {
        values.join(", ")
    }
}

/// A row for `value` being in the provider's `field` list.
fn listed(
    id: &str,
    title: &str,
    value: &str,
    advertised: &[String],
    field: &str,
    fix: String,
) -> CheckRow {
    let row = CheckRow::new(id, layer_of(id), title);
    if advertised.iter().any(|a| a == value) {
        row.pass(format!("{value}; the provider lists it in {field}."))
    } else {
        row.fail(
            format!(
                "The profile uses {value}; the provider's {field} lists {}.",
                join(advertised)
            ),
            fix,
        )
    }
}

fn judged(id: &str, title: &str, ok: bool, seen: String, fix: &str) -> CheckRow {
    let row = CheckRow::new(id, layer_of(id), title);
    if ok {
        row.pass(seen)
    } else {
        row.warn(seen, fix)
    }
}

fn layer_of(id: &str) -> Layer {
    if id.starts_with("client:") {
        Layer::Client
    } else {
        Layer::Provider
    }
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;
    use crate::profile::{GrantKind, ProfileConfig, ProfileId};
    use serde_json::json;

    fn profile(config: ProfileConfig) -> Profile {
        Profile {
            id: ProfileId::from("p"),
            config,
            metadata: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn meta(raw: Value) -> ProviderMetadata {
        let mut m: ProviderMetadata = serde_json::from_value(raw.clone()).unwrap();
        m.raw = raw;
        m
    }

    fn row<'a>(rows: &'a [CheckRow], id: &str) -> &'a CheckRow {
        rows.iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no {id} in {rows:?}"))
    }

    #[test]
    fn mismatches_are_named_with_what_is_advertised() {
        let p = profile(ProfileConfig {
            name: "web".into(),
            client_id: "c".into(),
            auth_method: AuthMethod::ClientSecretBasic,
            grant: GrantKind::AuthorizationCode,
            scopes: vec!["openid".into(), "payments".into()],
            id_token_alg: Some("ES256".into()),
            ..Default::default()
        });
        let m = meta(json!({
            "issuer": "https://op.example",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "accounts"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }));
        let rows = compare(&p, &m);
        let auth = row(&rows, "client:auth_method");
        assert_eq!(auth.status, Status::Fail);
        assert!(
            auth.seen.contains("client_secret_basic")
                && auth.seen.contains("client_secret_post, private_key_jwt"),
            "{}",
            auth.seen
        );
        assert_eq!(row(&rows, "client:grant").status, Status::Pass);
        assert_eq!(row(&rows, "provider:response_type").status, Status::Pass);
        assert_eq!(row(&rows, "provider:pkce").status, Status::Pass);
        let scopes = row(&rows, "provider:scopes");
        assert_eq!(scopes.status, Status::Warn);
        assert!(
            scopes.seen.contains("scopes_supported: payments."),
            "only the unknown scope is named: {}",
            scopes.seen
        );
        let alg = row(&rows, "provider:id_token_alg");
        assert_eq!(alg.status, Status::Fail);
        assert!(alg.seen.contains("ES256") && alg.seen.contains("RS256"));
        assert_eq!(row(&rows, "provider:par").status, Status::Skipped);
    }

    #[test]
    fn without_an_expected_algorithm_any_public_key_signature_will_do() {
        let config = ProfileConfig {
            name: "web".into(),
            client_id: "c".into(),
            grant: GrantKind::AuthorizationCode,
            scopes: vec!["openid".into()],
            ..Default::default()
        };
        let m = meta(json!({"issuer": "https://op.example",
            "id_token_signing_alg_values_supported": ["PS256"]}));
        let rows = compare(&profile(config.clone()), &m);
        assert_eq!(row(&rows, "provider:id_token_alg").status, Status::Pass);
        // FAPI 2.0 mode takes PS256, ES256 and EdDSA only.
        let m = meta(json!({"issuer": "https://op.example",
            "id_token_signing_alg_values_supported": ["RS256", "HS256"]}));
        let fapi = profile(ProfileConfig {
            fapi2: true,
            ..config
        });
        let alg = compare(&fapi, &m)
            .into_iter()
            .find(|r| r.id == "provider:id_token_alg")
            .unwrap();
        assert_eq!(alg.status, Status::Fail, "{}", alg.seen);
    }

    #[test]
    fn absent_lists_take_the_rfc_defaults() {
        let p = profile(ProfileConfig {
            name: "cc".into(),
            client_id: "c".into(),
            auth_method: AuthMethod::ClientSecretPost,
            grant: GrantKind::ClientCredentials,
            dpop: Some(crate::dpop::DpopAlg::ES256),
            ..Default::default()
        });
        let rows = compare(&p, &meta(json!({"issuer": "https://op.example"})));
        // RFC 8414: basic only, and authorization_code + implicit.
        assert_eq!(row(&rows, "client:auth_method").status, Status::Fail);
        assert_eq!(row(&rows, "client:grant").status, Status::Fail);
        assert_eq!(row(&rows, "provider:dpop").status, Status::Fail);
        assert!(
            rows.iter().all(|r| r.id != "provider:pkce"),
            "no PKCE without a browser"
        );
    }
}
