//! Signed authorization requests (RFC 9101, JAR; OIDC Core §6.1): the parameters of the
//! authorization URL move into a JWT signed with the client's private key, passed as
//! `request`. The URL keeps `client_id`, and — for OpenID Connect providers, which read them
//! from the query too — `response_type` and `scope`.

use serde_json::{Map, Value};
use url::Url;

use super::assertion::sign_jwt;
use crate::clock::Millis;
use crate::error::{Error, ErrorCode, Result};
use crate::profile::{Endpoint, Profile};
use crate::secret::Sensitive;

/// How long a request object is valid: enough to load the sign-in page.
const LIFETIME_SECS: i64 = 300;
/// Parameters that stay in the URL beside `request`.
const KEPT_IN_URL: [&str; 3] = ["client_id", "response_type", "scope"];

/// The authorization URL with its parameters signed into a request object.
pub fn wrap(
    profile: &Profile,
    url: &Url,
    key_pem: Option<&Sensitive<String>>,
    now: Millis,
) -> Result<Url> {
    let c = &profile.config;
    let Some(key_pem) = key_pem else {
        return Err(Error::new(
            ErrorCode::InvalidClient,
            format!(
                "Profile \"{}\" signs its authorization requests, but no private key is stored. \
                 Add the client's private key (PEM) in the profile.",
                c.name
            ),
        ));
    };
    let mut claims = Map::new();
    for (name, value) in url.query_pairs() {
        let claim = claim_value(&name, &value);
        claims.insert(name.into_owned(), claim);
    }
    let iat = now / 1000;
    claims.insert("iss".into(), c.client_id.clone().into());
    claims.insert("aud".into(), audience(profile)?.into());
    claims.insert("jti".into(), uuid::Uuid::new_v4().to_string().into());
    claims.insert("iat".into(), iat.into());
    claims.insert("nbf".into(), iat.into());
    claims.insert("exp".into(), (iat + LIFETIME_SECS).into());
    let jwt = sign_jwt(
        profile,
        key_pem,
        "oauth-authz-req+jwt",
        &Value::Object(claims),
    )?;

    let mut out = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| KEPT_IN_URL.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    out.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("request", &jwt);
    Ok(out)
}

/// `aud`: the provider's issuer identifier (RFC 9101 §4); without one, the authorization
/// endpoint.
fn audience(profile: &Profile) -> Result<String> {
    match profile.issuer() {
        Some(i) => Ok(i.to_owned()),
        None => Ok(profile
            .require_endpoint(Endpoint::Authorization)?
            .to_owned()),
    }
}

/// A parameter as a claim: `claims` and other JSON objects or arrays as JSON (the way an
/// `authorizationId` travels inside `claims`), `max_age` as a number, the rest as strings.
fn claim_value(name: &str, value: &str) -> Value {
    let trimmed = value.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(v) = serde_json::from_str::<Value>(value)
    {
        return v;
    }
    if name == "max_age"
        && let Ok(n) = value.parse::<u64>()
    {
        return n.into();
    }
    value.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{AssertionAlg, AuthMethod, ClientAssertion, ProfileConfig, ProfileId};
    use jsonwebtoken::{DecodingKey, Validation};

    const EC_KEY: &str = include_str!("testdata/ec-p256.pem");
    const EC_PUB: &str = include_str!("testdata/ec-p256.pub.pem");

    fn profile() -> Profile {
        Profile {
            id: ProfileId::from("p1"),
            config: ProfileConfig {
                name: "psd2".into(),
                client_id: "tpp-1".into(),
                issuer: Some("https://bank.example".into()),
                auth_method: AuthMethod::PrivateKeyJwt,
                client_assertion: ClientAssertion {
                    alg: AssertionAlg::ES256,
                    kid: Some("k1".into()),
                    audience: None,
                },
                signed_request: true,
                ..ProfileConfig::default()
            },
            metadata: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn the_parameters_move_into_a_signed_jwt() {
        let url = Url::parse(
            "https://bank.example/authorize?response_type=code&client_id=tpp-1&state=s1\
             &code_challenge=c1&code_challenge_method=S256&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcb\
             &scope=openid+accounts&nonce=n1&max_age=300\
             &claims=%7B%22id_token%22%3A%7B%22authorizationId%22%3A%7B%22value%22%3A%22a-1%22%2C%22essential%22%3Atrue%7D%7D%7D\
             &acr_values=urn%3Aop%3Astrong",
        )
        .unwrap();
        let out = wrap(
            &profile(),
            &url,
            Some(&Sensitive::new(EC_KEY.into())),
            1_700_000_000_000,
        )
        .unwrap();
        let params: Vec<(String, String)> = out.query_pairs().into_owned().collect();
        let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["response_type", "client_id", "scope", "request"]);
        assert!(out.as_str().starts_with("https://bank.example/authorize?"));

        let jwt = &params[3].1;
        let header = jsonwebtoken::decode_header(jwt).unwrap();
        assert_eq!(header.typ.as_deref(), Some("oauth-authz-req+jwt"));
        assert_eq!(header.kid.as_deref(), Some("k1"));
        let mut v = Validation::new(jsonwebtoken::Algorithm::ES256);
        v.set_audience(&["https://bank.example"]);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Value>(
            jwt,
            &DecodingKey::from_ec_pem(EC_PUB.as_bytes()).unwrap(),
            &v,
        )
        .unwrap()
        .claims;
        assert_eq!(claims["iss"], "tpp-1");
        assert_eq!(claims["state"], "s1");
        assert_eq!(claims["code_challenge"], "c1");
        assert_eq!(claims["redirect_uri"], "http://127.0.0.1:5/cb");
        assert_eq!(claims["nonce"], "n1");
        assert_eq!(claims["max_age"], 300);
        assert_eq!(
            claims["claims"]["id_token"]["authorizationId"]["value"],
            "a-1"
        );
        assert_eq!(claims["acr_values"], "urn:op:strong");
        assert_eq!(claims["exp"], 1_700_000_300);
        assert_eq!(claims["nbf"], 1_700_000_000);
    }

    #[test]
    fn without_a_key_it_says_where_to_put_one() {
        let url = Url::parse("https://bank.example/authorize?client_id=tpp-1").unwrap();
        let e = wrap(&profile(), &url, None, 0).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidClient);
        assert!(e.message.contains("no private key is stored"));
    }

    #[test]
    fn any_auth_method_can_sign_requests_with_the_signing_key() {
        // OP's PSD2 clients authenticate with client_secret_post and sign request objects.
        let mut c = profile().config;
        c.endpoints.token = Some("https://bank.example/token".into());
        c.auth_method = AuthMethod::ClientSecretPost;
        assert!(c.validate().is_ok());
    }
}
