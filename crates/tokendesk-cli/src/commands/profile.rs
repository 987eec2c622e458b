//! `tokendesk profile …`: add, list, show, rm, export, import.

use std::io::{BufRead, IsTerminal, Read};

use tokendesk_core::api::ImportItem;
use tokendesk_core::catalog;
use tokendesk_core::flow::jwt_bearer::JwtBearer;
use tokendesk_core::flow::token_exchange::{self, ExchangeToken, TokenExchange};
use tokendesk_core::import::{self, Format};
use tokendesk_core::profile::{
    AssertionAlg, AuthMethod, ClientAssertion, Endpoints, GrantKind, Param, ProfileConfig, export,
};
use tokendesk_core::secret::{SecretKind, Sensitive};
use tokendesk_core::{Core, Error, ErrorCode, Result};

use crate::cli::{
    AssertionAlgArg, AuthMethodArg, CibaModeArg, EditArgs, ExchangeTokenArg, HintKindArg,
    ImportArgs, ImportFormatArg, ProfileAddArgs, RichArgs,
};
use crate::output::table;

fn pairs(values: &[String], sep: char, what: &str) -> Result<Vec<Param>> {
    values
        .iter()
        .map(|v| {
            v.split_once(sep)
                .map(|(k, val)| Param::new(k.trim(), val.trim_start()))
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidInput,
                        format!(
                            "{what} \"{v}\" needs the form {}.",
                            if sep == '=' {
                                "KEY=VALUE"
                            } else {
                                "'Name: value'"
                            }
                        ),
                    )
                })
        })
        .collect()
}

pub(crate) fn read_secret_line() -> Result<Sensitive<String>> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("Could not read the secret from stdin: {e}."),
        )
    })?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "stdin gave an empty client secret.",
        ));
    }
    Ok(Sensitive::new(secret))
}

/// Certificates (PEM) from a file.
fn read_pem_file(file: &str) -> Result<String> {
    std::fs::read_to_string(file).map_err(|e| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("Could not read {file}: {e}."),
        )
    })
}

/// A PEM private key from a file, or from stdin with `-`.
pub(crate) fn read_key_file(file: &str) -> Result<Sensitive<String>> {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("Could not read the private key from {file}: {e}."),
        )
    })?;
    Ok(Sensitive::new(text))
}

fn prompt_secret(name: &str) -> Result<Option<Sensitive<String>>> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let s = rpassword::prompt_password(format!(
        "Client secret for \"{name}\" (stored in the OS keychain): "
    ))
    .map_err(|e| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("Could not read the secret: {e}."),
        )
    })?;
    Ok((!s.is_empty()).then(|| Sensitive::new(s)))
}

fn auth_method(a: AuthMethodArg) -> AuthMethod {
    match a {
        AuthMethodArg::Basic => AuthMethod::ClientSecretBasic,
        AuthMethodArg::Post => AuthMethod::ClientSecretPost,
        AuthMethodArg::None => AuthMethod::None,
        AuthMethodArg::PrivateKeyJwt => AuthMethod::PrivateKeyJwt,
        AuthMethodArg::ClientSecretJwt => AuthMethod::ClientSecretJwt,
        AuthMethodArg::TlsClientAuth => AuthMethod::TlsClientAuth,
        AuthMethodArg::SelfSignedTlsClientAuth => AuthMethod::SelfSignedTlsClientAuth,
    }
}

/// The preset's profile with every option the user gave laid over it: single values replace
/// the preset's, scopes replace them when given, parameters and headers replace the preset's
/// of the same name.
fn over_preset(a: &ProfileAddArgs, id: &str, mine: ProfileConfig) -> Result<ProfileConfig> {
    let given: Vec<(String, String)> = pairs(&a.preset_params, '=', "--preset-param")?
        .into_iter()
        .map(|p| (p.name, p.value))
        .collect();
    let base = catalog::find(id)?.profile(&given)?;
    let merge = |base: Vec<Param>, mine: Vec<Param>| -> Vec<Param> {
        let mut out: Vec<Param> = base
            .into_iter()
            .filter(|b| !mine.iter().any(|m| m.name.eq_ignore_ascii_case(&b.name)))
            .collect();
        out.extend(mine);
        out
    };
    let e = mine.endpoints;
    let b = base.endpoints;
    Ok(ProfileConfig {
        issuer: mine.issuer.or(base.issuer),
        endpoints: Endpoints {
            authorization: e.authorization.or(b.authorization),
            token: e.token.or(b.token),
            revocation: e.revocation.or(b.revocation),
            introspection: e.introspection.or(b.introspection),
            userinfo: e.userinfo.or(b.userinfo),
            jwks: e.jwks.or(b.jwks),
            par: e.par.or(b.par),
            device_authorization: e.device_authorization.or(b.device_authorization),
            backchannel_authentication: e
                .backchannel_authentication
                .or(b.backchannel_authentication),
        },
        auth_method: if a.auth_method.is_some() {
            mine.auth_method
        } else {
            base.auth_method
        },
        grant: if a.grant.is_some() || a.subject_profile.is_some() {
            mine.grant
        } else {
            base.grant
        },
        scopes: if a.scopes.is_empty() {
            base.scopes
        } else {
            mine.scopes
        },
        audience: mine.audience.or(base.audience),
        resource: mine.resource.or(base.resource),
        redirect_uri: mine.redirect_uri.or(base.redirect_uri),
        api_url: mine.api_url.or(base.api_url),
        authorize_params: merge(base.authorize_params, mine.authorize_params),
        token_params: merge(base.token_params, mine.token_params),
        headers: merge(base.headers, mine.headers),
        // The preset's signing algorithm (Apple's ES256) unless --assertion-alg says another.
        client_assertion: ClientAssertion {
            alg: if a.assertion_alg.is_some() || base.generated_secret.is_none() {
                mine.client_assertion.alg
            } else {
                base.client_assertion.alg
            },
            ..mine.client_assertion
        },
        generated_secret: mine.generated_secret.or(base.generated_secret),
        preset: base.preset,
        ..mine
    })
}

pub async fn add(core: &Core, a: &ProfileAddArgs) -> Result<()> {
    let can_sign_in = a.issuer.is_some() || a.auth_url.is_some() || a.from_api.is_some();
    let config = ProfileConfig {
        name: a.name.clone(),
        environment: a.environment.clone(),
        issuer: a.issuer.clone(),
        endpoints: Endpoints {
            authorization: a.auth_url.clone(),
            token: a.token_url.clone(),
            revocation: a.revocation_url.clone(),
            introspection: a.introspection_url.clone(),
            userinfo: a.userinfo_url.clone(),
            jwks: a.jwks_url.clone(),
            par: a.par_url.clone(),
            device_authorization: a.device_url.clone(),
            backchannel_authentication: None,
        },
        client_id: a.client_id.clone().unwrap_or_default(),
        auth_method: a.auth_method.map(auth_method).unwrap_or_default(),
        client_assertion: ClientAssertion {
            alg: match a.assertion_alg.unwrap_or(match a.auth_method {
                Some(AuthMethodArg::ClientSecretJwt) => AssertionAlgArg::Hs256,
                _ => AssertionAlgArg::Rs256,
            }) {
                AssertionAlgArg::Rs256 => AssertionAlg::RS256,
                AssertionAlgArg::Ps256 => AssertionAlg::PS256,
                AssertionAlgArg::Es256 => AssertionAlg::ES256,
                AssertionAlgArg::Hs256 => AssertionAlg::HS256,
                AssertionAlgArg::Hs384 => AssertionAlg::HS384,
                AssertionAlgArg::Hs512 => AssertionAlg::HS512,
            },
            kid: a.assertion_kid.clone(),
            audience: a.assertion_audience.clone(),
        },
        signed_request: a.signed_request,
        dpop: a.dpop.map(Into::into),
        par: a.par,
        jarm: a.jarm,
        fapi2: a.fapi2,
        id_token_alg: a.id_token_alg.clone(),
        tls_client_cert: a.tls_cert.as_deref().map(read_pem_file).transpose()?,
        tls_ca: a.ca_cert.as_deref().map(read_pem_file).transpose()?,
        grant: match a.grant {
            Some(g) => g,
            None if a.subject_profile.is_some() => GrantKind::TokenExchange,
            None if can_sign_in => GrantKind::AuthorizationCode,
            None => GrantKind::ClientCredentials,
        },
        jwt_bearer: JwtBearer {
            issuer: a.jwt_issuer.clone(),
            subject: a.jwt_subject.clone(),
            audience: a.jwt_audience.clone(),
            claims: a.jwt_claims.clone(),
            lifetime_secs: None,
        },
        token_exchange: TokenExchange {
            subject_profile: a.subject_profile.clone(),
            subject_token: exchange_token(a.subject_token),
            actor_profile: a.actor_profile.clone(),
            actor_token: exchange_token(a.actor_token),
            requested_token_type: a.requested_token_type.as_deref().map(token_type),
        },
        claims: a.claims.clone(),
        max_age: a.max_age,
        scopes: a
            .scopes
            .iter()
            .flat_map(|s| s.split_whitespace().map(str::to_owned))
            .collect(),
        audience: a.audience.clone(),
        resource: a.resource.clone(),
        redirect_uri: a.redirect_uri.clone(),
        authorize_params: pairs(&a.params, '=', "--param")?,
        token_params: pairs(&a.token_params, '=', "--token-param")?,
        headers: pairs(&a.headers, ':', "--header")?,
        api_url: a.api_url.clone(),
        ..Default::default()
    };
    let mut config = match &a.preset {
        Some(id) => over_preset(a, id, config)?,
        None => config,
    };
    apply_rich(&mut config, &a.rich)?;
    super::sources::apply(&mut config, &a.sources, &[])?;
    if a.subject_profile.is_some() && config.grant != GrantKind::TokenExchange {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "--subject-profile is for --grant token-exchange, not {}.",
                config.grant.as_str().replace('_', "-")
            ),
        ));
    }
    if let Some(url) = &a.from_api {
        return crate::commands::from_api::add(core, a, config, url).await;
    }
    let uses_key = config.key_is_credential();
    // A credential from a command or a variable is not asked for.
    let credential_elsewhere = !config.secrets.of(config.credential_kind()).is_keychain();
    let wrong = match (
        uses_key,
        a.private_key_file.is_some(),
        a.client_secret_stdin,
    ) {
        (true, false, true) => Some(
            "private-key-jwt signs with a private key: give it with --private-key-file, not a \
             client secret.",
        ),
        (false, true, _) if !config.signs() => Some(
            "--private-key-file is for a profile that signs: --auth-method private-key-jwt, \
             --signed-request, --grant jwt-bearer, or steps with a signed body.",
        ),
        _ => None,
    };
    if let Some(message) = wrong {
        return Err(Error::new(ErrorCode::InvalidInput, message));
    }
    // The signing key of a profile that also has a client secret is kept beside it.
    let signing_key = match (&a.private_key_file, uses_key) {
        (Some(file), false) => Some(read_key_file(file)?),
        _ => None,
    };
    let secret = if let Some(file) = a.private_key_file.as_ref().filter(|_| uses_key) {
        Some(read_key_file(file)?)
    } else if a.client_secret_stdin {
        Some(read_secret_line()?)
    } else if config.auth_method.needs_secret() && !uses_key && !credential_elsewhere {
        prompt_secret(&config.name)?
    } else {
        None
    };
    if config.auth_method.needs_secret() && secret.is_none() && !credential_elsewhere {
        errln!(
            "{}",
            if uses_key {
                "note: no private key given; store one with `tokendesk profile set-key NAME FILE` or in the app."
            } else {
                "note: no client secret given; set one later with `tokendesk profile add` again or in the app."
            }
        );
    }
    let tls_key = a.tls_key_file.as_deref().map(read_key_file).transpose()?;
    let profile = core.create_profile(config, secret).await?;
    if let Some(key) = signing_key
        && let Err(e) = core.set_signing_key(&profile.id, Some(key)).await
    {
        core.delete_profile(&profile.id).await?;
        return Err(Error::new(
            e.code,
            format!("{} The profile was not added.", e.message),
        ));
    }
    if let Some(key) = tls_key
        && let Err(e) = core.set_tls_key(&profile.id, Some(key)).await
    {
        core.delete_profile(&profile.id).await?;
        return Err(Error::new(
            e.code,
            format!("{} The profile was not added.", e.message),
        ));
    }
    if profile.config.issuer.is_some()
        && !a.no_discover
        && let Err(e) = core.discover(&profile.id).await
    {
        core.delete_profile(&profile.id).await?;
        return Err(Error::new(
            e.code,
            format!(
                "{} The profile was not added (use --no-discover to add it anyway).",
                e.message
            ),
        ));
    }
    errln!(
        "Added profile \"{}\" ({}).",
        profile.config.name,
        profile.config.grant.as_str().replace('_', " ")
    );
    warn_details(core, &profile.config.name);
    Ok(())
}

/// `profile edit`: the authorization details and CIBA settings given, the rest as it was.
/// Nothing is stored when the result does not validate.
pub async fn edit(core: &Core, a: &EditArgs) -> Result<()> {
    let profile = core.profile(&a.profile)?;
    let mut config = profile.config.clone();
    let to_keychain: Vec<SecretKind> = [
        (a.secret_keychain, SecretKind::ClientSecret),
        (a.key_keychain, SecretKind::PrivateKey),
        (a.tls_key_keychain, SecretKind::TlsKey),
    ]
    .into_iter()
    .filter_map(|(on, kind)| on.then_some(kind))
    .collect();
    super::sources::apply(&mut config, &a.sources, &to_keychain)?;
    apply_rich(&mut config, &a.rich)?;
    if a.no_resource {
        config.resource = None;
    }
    if let Some(r) = &a.resource {
        config.resource = Some(r.clone());
        config.resource_refused = None;
    }
    if config == profile.config {
        errln!("Nothing to change in profile \"{}\".", profile.config.name);
        return Ok(());
    }
    let updated = core.update_profile(&profile.id, config).await?;
    errln!("Updated profile \"{}\".", updated.config.name);
    warn_details(core, &updated.config.name);
    Ok(())
}

/// A details type the provider does not list, said before anything is sent.
fn warn_details(core: &Core, name: &str) {
    if let Ok(p) = core.profile(name)
        && let Some(w) = tokendesk_core::flow::rar::unsupported_warning(&p)
    {
        errln!("warning: {w}");
    }
}

/// Sets what `RichArgs` gives: authorization details (JSON or @FILE, `''` removes them) and
/// the CIBA settings.
fn apply_rich(config: &mut ProfileConfig, r: &RichArgs) -> Result<()> {
    use tokendesk_core::flow::ciba::{DeliveryMode, HintKind};
    if let Some(d) = &r.authorization_details {
        let text = match d.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file).map_err(|e| {
                Error::new(
                    ErrorCode::InvalidInput,
                    format!("Could not read the authorization details from {file}: {e}."),
                )
            })?,
            None => d.clone(),
        };
        if text.trim().is_empty() {
            config.authorization_details = None;
        } else {
            tokendesk_core::flow::rar::parse(&text).map_err(|m| {
                Error::invalid_field(
                    "authorization_details",
                    format!("--authorization-details: {m}"),
                )
            })?;
            config.authorization_details = Some(text.trim().to_owned());
        }
    }
    let set = |v: &Option<String>| {
        v.as_ref()
            .map(|s| Some(s.clone()).filter(|s| !s.is_empty()))
    };
    if let Some(u) = set(&r.backchannel_url) {
        config.endpoints.backchannel_authentication = u;
    }
    let c = &mut config.ciba;
    if let Some(h) = set(&r.login_hint) {
        c.login_hint = h;
    }
    if let Some(k) = r.hint_kind {
        c.hint_kind = match k {
            HintKindArg::LoginHint => HintKind::LoginHint,
            HintKindArg::IdTokenHint => HintKind::IdTokenHint,
            HintKindArg::LoginHintToken => HintKind::LoginHintToken,
        };
    }
    if let Some(m) = set(&r.binding_message) {
        c.binding_message = m;
    }
    if let Some(a) = set(&r.acr_values) {
        c.acr_values = a;
    }
    if let Some(e) = r.requested_expiry {
        c.requested_expiry = Some(e);
    }
    if let Some(m) = r.ciba_mode {
        c.mode = match m {
            CibaModeArg::Poll => DeliveryMode::Poll,
            CibaModeArg::Ping => DeliveryMode::Ping,
        };
    }
    if let Some(u) = set(&r.notify_url) {
        c.notification_endpoint = u;
    }
    Ok(())
}

fn exchange_token(a: ExchangeTokenArg) -> ExchangeToken {
    match a {
        ExchangeTokenArg::Access => ExchangeToken::Access,
        ExchangeTokenArg::Id => ExchangeToken::Id,
    }
}

/// `--requested-token-type`: RFC 8693's short names, or any URI as given.
fn token_type(t: &str) -> String {
    match t {
        "access" | "access_token" => token_exchange::ACCESS_TOKEN_TYPE.into(),
        "refresh" | "refresh_token" => token_exchange::REFRESH_TOKEN_TYPE.into(),
        "id" | "id_token" => token_exchange::ID_TOKEN_TYPE.into(),
        "jwt" => token_exchange::JWT_TOKEN_TYPE.into(),
        other => other.to_owned(),
    }
}

pub fn list(core: &Core) -> Result<()> {
    let rows: Vec<Vec<String>> = core
        .list_profiles()?
        .into_iter()
        .map(|p| {
            vec![
                p.config.name,
                p.config.environment,
                p.config.grant.as_str().replace('_', "-"),
                p.config.client_id,
                p.config
                    .issuer
                    .or(p.config.endpoints.token)
                    .unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "PROFILE",
            "ENVIRONMENT",
            "GRANT",
            "CLIENT ID",
            "ISSUER / TOKEN ENDPOINT",
        ],
        &rows,
    );
    Ok(())
}

pub async fn show(core: &Core, name: &str) -> Result<()> {
    let p = core.profile(name)?;
    let mut v = serde_json::to_value(&p)?;
    let credential = if p.config.key_is_credential() {
        "private_key"
    } else {
        "client_secret"
    };
    let kind = if credential == "private_key" {
        SecretKind::PrivateKey
    } else {
        SecretKind::ClientSecret
    };
    v[credential] = stored(&p, kind, core.has_client_secret(&p.id).await?).into();
    if p.config.tls_client_cert.is_some() {
        v["tls_key"] = stored(&p, SecretKind::TlsKey, core.has_tls_key(&p.id).await?).into();
    }
    if let Some(meta) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("raw");
    }
    outln!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

/// Where a secret is, in words: a command or a variable is named, not run.
fn stored(p: &tokendesk_core::profile::Profile, kind: SecretKind, present: bool) -> String {
    let source = p.config.secrets.of(kind);
    match (source.is_keychain(), present) {
        (true, true) => "stored in the OS keychain".into(),
        (true, false) => "not stored".into(),
        (false, _) => format!("from {}", source.describe()),
    }
}

pub async fn rm(core: &Core, name: &str, deregister: bool) -> Result<()> {
    let p = core.profile(name)?;
    if deregister {
        core.delete_profile_and_registration(&p.id).await?;
        if p.config.registration_client_uri.is_some() {
            errln!("Deleted the client's registration at the server.");
        }
    } else {
        core.delete_profile(&p.id).await?;
        if let Some(uri) = &p.config.registration_client_uri {
            errln!(
                "note: the client {} stays registered at {uri}; `profile rm --deregister` would \
                 have deleted it.",
                p.config.client_id
            );
        }
    }
    errln!(
        "Removed profile \"{}\", its keychain entries, token and history.",
        p.config.name
    );
    Ok(())
}

pub fn export(core: &Core, names: &[String]) -> Result<()> {
    let profiles = if names.is_empty() {
        core.list_profiles()?
    } else {
        names
            .iter()
            .map(|n| core.profile(n))
            .collect::<Result<Vec<_>>>()?
    };
    let configs: Vec<ProfileConfig> = profiles.into_iter().map(|p| p.config).collect();
    outln!("{}", export::write(&configs));
    Ok(())
}

pub async fn import(core: &Core, a: &ImportArgs) -> Result<()> {
    if a.file == "-" && a.client_secret_stdin {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "Read the file or the secrets from stdin, not both.",
        ));
    }
    let input = import::Input {
        path: a.file.clone().into(),
        format: match a.format {
            ImportFormatArg::Auto => None,
            ImportFormatArg::Tokendesk => Some(Format::Tokendesk),
            ImportFormatArg::Postman => Some(Format::Postman),
            ImportFormatArg::Insomnia => Some(Format::Insomnia),
            ImportFormatArg::Bruno => Some(Format::Bruno),
            ImportFormatArg::Openapi => Some(Format::Openapi),
        },
        environment: a.environment.clone(),
        client_id: a.client_id.clone(),
    };
    let plan = if a.file == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            Error::new(
                ErrorCode::InvalidInput,
                format!("Could not read stdin: {e}."),
            )
        })?;
        import::plan_text(&text, &input).map_err(|mut e| {
            e.message = format!("stdin: {}", e.message);
            e
        })?
    } else {
        import::plan(&input)?
    };
    let summary = plan.summary();
    if a.json && a.dry_run {
        outln!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
    } else if a.dry_run {
        out!("{}", plan.describe());
    } else {
        errout!("{}", plan.describe());
    }
    if !plan.errors.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "{}: nothing {}imported: {} problem{} to fix first (listed above).",
                a.file,
                if a.dry_run { "would be " } else { "" },
                plan.errors.len(),
                if plan.errors.len() == 1 { "" } else { "s" }
            ),
        ));
    }
    if a.dry_run {
        return Ok(());
    }
    if plan.profiles.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!("{}: nothing to import (see the warnings above).", a.file),
        ));
    }
    let found = plan.profiles.iter().filter(|p| p.secret.is_some()).count();
    let store_found = found > 0 && (a.store_found_secrets || confirm_found_secrets(found)?);
    // Every secret is asked for before the first profile is created.
    let mut items = Vec::with_capacity(plan.profiles.len());
    let mut notes = Vec::with_capacity(plan.profiles.len());
    for p in plan.profiles {
        let config = p.config;
        let uses_key = config.key_is_credential();
        // Nor is a secret asked for that comes from a command or a variable.
        let elsewhere = !config.secrets.of(config.credential_kind()).is_keychain();
        let found = p
            .secret
            .filter(|_| store_found && !elsewhere)
            .map(|s| s.value);
        let secret =
            if found.is_some() || !config.auth_method.needs_secret() || uses_key || elsewhere {
                found
            } else if a.client_secret_stdin {
                Some(read_secret_line()?)
            } else {
                prompt_secret(&config.name)?
            };
        notes.push(
            if !config.auth_method.needs_secret() || secret.is_some() || elsewhere {
                ""
            } else if uses_key {
                " (no private key yet: tokendesk profile set-key)"
            } else {
                " (no client secret yet)"
            },
        );
        items.push(ImportItem { config, secret });
    }
    let created = core.import_profiles(items, a.rename).await?;
    for (p, note) in created.iter().zip(notes) {
        errln!("Imported \"{}\"{note}.", p.config.name);
    }
    if a.json {
        let created: Vec<_> = created
            .iter()
            .map(|p| serde_json::json!({"id": p.id, "name": p.config.name}))
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"plan": summary, "created": created}))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// On a terminal: whether to store the secrets found in the file. Elsewhere: no (pass
/// --store-found-secrets).
fn confirm_found_secrets(count: usize) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        errln!(
            "The file holds {count} client secret{}: not stored (pass --store-found-secrets to \
             store {} in the OS keychain).",
            if count == 1 { "" } else { "s" },
            if count == 1 { "it" } else { "them" }
        );
        return Ok(false);
    }
    errout!(
        "Store the {count} client secret{} found in the file in the OS keychain? [y/N] ",
        if count == 1 { "" } else { "s" }
    );
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("Could not read the answer: {e}."),
        )
    })?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}

pub async fn set_secret(core: &Core, name: &str, remove: bool) -> Result<()> {
    let p = core.profile(name)?;
    let name = &p.config.name;
    if p.config.key_is_credential() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "Profile \"{name}\" authenticates with its private key (private_key_jwt, or a \
                 client secret generated from the key): store the key with `tokendesk profile \
                 set-key {name} FILE`."
            ),
        ));
    }
    if p.config.auth_method.credential() != Some(SecretKind::ClientSecret) {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "Profile \"{name}\" sends no client secret (its authentication method is {}).",
                p.config.auth_method.as_str()
            ),
        ));
    }
    if remove {
        core.set_client_secret(&p.id, None).await?;
        errln!("Removed the client secret of \"{name}\" from the OS keychain.");
        return Ok(());
    }
    let secret = if std::io::stdin().is_terminal() {
        prompt_secret(name)?.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidInput,
                "No client secret was typed; nothing changed.",
            )
        })?
    } else {
        read_secret_line()?
    };
    core.set_client_secret(&p.id, Some(secret)).await?;
    errln!("Stored the client secret of \"{name}\" in the OS keychain.");
    Ok(())
}

pub async fn set_key(core: &Core, name: &str, file: &str) -> Result<()> {
    let p = core.profile(name)?;
    if !p.config.signs() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "Profile \"{}\" signs nothing (not private_key_jwt, no signed request object, \
                 no JWT-bearer grant, no signed step): it has no use for a private key.",
                p.config.name
            ),
        ));
    }
    core.set_signing_key(&p.id, Some(read_key_file(file)?))
        .await?;
    errln!(
        "Stored the private key of \"{}\" in the OS keychain.",
        p.config.name
    );
    Ok(())
}

pub async fn set_tls_key(core: &Core, name: &str, file: &str) -> Result<()> {
    let p = core.profile(name)?;
    core.set_tls_key(&p.id, Some(read_key_file(file)?)).await?;
    errln!(
        "Stored the TLS key of \"{}\" in the OS keychain.",
        p.config.name
    );
    Ok(())
}
