//! The JWT-bearer grant (RFC 7523 §2.1): the client signs an assertion with its own key and
//! trades it for an access token — PSD2 payment exemptions (the assertion carries the
//! `authorizationId` and `acr` a step registered), and Google-style service accounts (the
//! assertion names the account and the scopes).
//!
//! The assertion: `iss` (the client id unless set), `sub` (the client id unless set), `aud`
//! (the token endpoint unless set), `iat`, `exp`, a fresh `jti`, and the profile's extra claims
//! — a JSON template filled from the steps' values. Signed with the client's signing key and
//! the profile's assertion algorithm and `kid`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use super::{
    FetchFuture, FetchInput, GrantKind, GrantSpec, SignIn, assertion, profile_token_params,
    token_ops,
};
use crate::error::{Error, ErrorCode, Result};
use crate::profile::{Endpoint, Profile};
use crate::provider::hints::{self, Operation};
use crate::provider::response::TokenResponse;
use crate::secret::Sensitive;
use crate::template::Context;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub const SPEC: GrantSpec = GrantSpec {
    kind: GrantKind::JwtBearer,
    name: "jwt_bearer",
    label: "JWT bearer",
    grant_type: GRANT_TYPE,
    summary: "The client signs an assertion (RFC 7523): PSD2 payment exemptions, service accounts.",
    sign_in: SignIn::None,
    needs: &[Endpoint::Token],
    signs: true,
    fetch: Some(fetch),
};

/// What the assertion says; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct JwtBearer {
    /// `iss`; default: the client id.
    pub issuer: Option<String>,
    /// `sub`; default: the client id.
    pub subject: Option<String>,
    /// `aud`; default: the token endpoint URL.
    pub audience: Option<String>,
    /// Extra claims, a JSON object template (`{"authorizationId": "{{authorizationId}}"}`).
    pub claims: Option<String>,
    /// Seconds the assertion is valid; default 300.
    pub lifetime_secs: Option<u32>,
}

fn fetch(input: FetchInput<'_>) -> FetchFuture<'_> {
    Box::pin(request(input))
}

async fn request(input: FetchInput<'_>) -> Result<TokenResponse> {
    let profile = input.profile;
    let url = profile.require_endpoint(Endpoint::Token)?.to_owned();
    let now = input.call.now_ms();
    let jwt = sign(
        profile,
        input.signing_key,
        &Context {
            values: input.values,
            now,
        },
    )?;
    let scope = profile.config.scopes.join(" ");
    let mut form: Vec<(&str, &str)> = vec![("grant_type", GRANT_TYPE), ("assertion", &jwt)];
    if !scope.is_empty() {
        form.push(("scope", &scope));
    }
    let extra = profile_token_params(profile, input.call)?;
    form.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let request = token_ops::authenticated_post(profile, input.credential, &url, form, now)?;
    let response = input.call.send_for_oauth(request).await?;
    hints::token_answer(&response, &input.call.last_response(), Operation::JwtBearer)
}

/// Signs the assertion; the error says what is missing (the key) or wrong (the claims).
pub fn sign(
    profile: &Profile,
    key: Option<&Sensitive<String>>,
    ctx: &Context<'_>,
) -> Result<String> {
    let c = &profile.config;
    let j = &c.jwt_bearer;
    let Some(key) = key else {
        return Err(Error::new(
            ErrorCode::InvalidClient,
            format!(
                "Profile \"{}\" uses the JWT-bearer grant but no signing key is stored. Add the \
                 client's private key (PEM) in the profile; it is kept in the OS keychain.",
                c.name
            ),
        ));
    };
    let audience = match &j.audience {
        Some(a) => ctx.render(a, "jwt_bearer.audience")?,
        None => profile.require_endpoint(Endpoint::Token)?.to_owned(),
    };
    let iat = ctx.now / 1000;
    let mut claims = Map::new();
    let mut put = |k: &str, v: Value| {
        claims.insert(k.to_owned(), v);
    };
    put(
        "iss",
        ctx.render(
            j.issuer.as_deref().unwrap_or(&c.client_id),
            "jwt_bearer.issuer",
        )?
        .into(),
    );
    put(
        "sub",
        ctx.render(
            j.subject.as_deref().unwrap_or(&c.client_id),
            "jwt_bearer.subject",
        )?
        .into(),
    );
    put("aud", audience.into());
    put("iat", iat.into());
    put(
        "exp",
        (iat + i64::from(j.lifetime_secs.unwrap_or(300))).into(),
    );
    put("jti", uuid::Uuid::new_v4().to_string().into());
    if let Some(template) = j.claims.as_deref().filter(|t| !t.trim().is_empty()) {
        let parsed: Value = serde_json::from_str(template).map_err(|e| {
            Error::invalid_field(
                "jwt_bearer.claims",
                format!("The assertion's extra claims are not JSON ({e})."),
            )
        })?;
        let Value::Object(extra) = ctx.render_json(&parsed, "jwt_bearer.claims")? else {
            return Err(Error::invalid_field(
                "jwt_bearer.claims",
                "The assertion's extra claims must be a JSON object.",
            ));
        };
        claims.extend(extra);
    }
    assertion::sign_jwt(profile, key, "JWT", &Value::Object(claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{AssertionAlg, Endpoints, ProfileConfig, ProfileId};
    use crate::template::Values;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    const KEY: &str = include_str!("testdata/rsa-2048.pem");
    const PUBLIC: &str = include_str!("testdata/rsa-2048.pub.pem");

    #[test]
    fn the_assertion_carries_defaults_and_templated_claims() {
        let mut config = ProfileConfig {
            name: "exemption".into(),
            client_id: "tpp-1".into(),
            endpoints: Endpoints {
                token: Some("https://bank.example/token".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        config.client_assertion.alg = AssertionAlg::PS256;
        config.client_assertion.kid = Some("k1".into());
        config.jwt_bearer.claims = Some(
            r#"{"authorizationId": "{{authorizationId}}", "acr": "urn:openbanking:psd2:sca"}"#
                .into(),
        );
        let profile = Profile {
            id: ProfileId::from("p"),
            config,
            metadata: None,
            created_at: 0,
            updated_at: 0,
        };
        let mut values = Values::new();
        values.insert("authorizationId", "auth-42");
        let ctx = Context {
            values: &values,
            now: 1_700_000_000_000,
        };
        let jwt = sign(&profile, Some(&Sensitive::new(KEY.to_owned())), &ctx).unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::PS256);
        assert_eq!(header.kid.as_deref(), Some("k1"));
        let mut v = Validation::new(Algorithm::PS256);
        v.set_audience(&["https://bank.example/token"]);
        v.validate_exp = false;
        let claims = jsonwebtoken::decode::<Value>(
            &jwt,
            &DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap(),
            &v,
        )
        .expect("verifies with the public key")
        .claims;
        assert_eq!(claims["iss"], "tpp-1");
        assert_eq!(claims["sub"], "tpp-1");
        assert_eq!(claims["authorizationId"], "auth-42");
        assert_eq!(claims["exp"], 1_700_000_300);
        assert!(claims["jti"].as_str().unwrap().len() >= 32);

        let e = sign(&profile, None, &ctx).unwrap_err();
        assert!(e.message.contains("no signing key"), "{}", e.message);
        let e = sign(
            &profile,
            Some(&Sensitive::new(KEY.to_owned())),
            &Context {
                values: &Values::new(),
                now: 0,
            },
        )
        .unwrap_err();
        assert!(e.message.contains("{{authorizationId}}"), "{}", e.message);
    }
}
