//! Running a profile's steps before a sign-in or a token request (see [`crate::steps`]).

use super::Core;
use crate::error::{Error, ErrorCode, Result};
use crate::events::CoreEvent;
use crate::profile::{Param, Profile};
use crate::secret::SecretKind;
use crate::steps::{self, Step};
use crate::template::{Context, Values};

/// How long a sibling's token must stay valid for a step to use it.
const STEP_TOKEN_MIN_VALID: std::time::Duration = std::time::Duration::from_secs(30);

impl Core {
    /// Runs the profile's steps in order; each one's captured values feed the next ones'
    /// templates, and all of them the sign-in's or the grant's. A step that fails stops
    /// everything before anything is redeemed or stored.
    pub(super) async fn run_steps(&self, profile: &Profile) -> Result<Values> {
        let mut values = Values::new();
        for (i, step) in profile.config.steps.iter().enumerate() {
            let label = step.label(i);
            let summary = self
                .run_step(profile, step, i, &label, &mut values)
                .await
                .map_err(|mut e| {
                    if !e.message.to_lowercase().contains(&label.to_lowercase()) {
                        e.message = format!("{label}: {}", e.message);
                    }
                    e
                })?;
            self.emit(CoreEvent::Progress {
                profile_id: profile.id.clone(),
                message: summary,
            });
        }
        Ok(values)
    }

    async fn run_step(
        &self,
        profile: &Profile,
        step: &Step,
        index: usize,
        label: &str,
        values: &mut Values,
    ) -> Result<String> {
        let ctx = Context {
            values,
            now: self.now(),
        };
        let url = ctx.render(&step.url, "url")?;
        let body = match step.body.as_deref().filter(|b| !b.trim().is_empty()) {
            Some(template) => {
                let parsed: serde_json::Value = serde_json::from_str(template).map_err(|e| {
                    Error::invalid_field("body", format!("The body template is not JSON ({e})."))
                })?;
                Some(serde_json::to_vec(&ctx.render_json(&parsed, "body")?)?)
            }
            None => None,
        };
        let mut headers: Vec<Param> = step
            .headers
            .iter()
            .map(|h| {
                Ok(Param::new(
                    h.name.clone(),
                    ctx.render(&h.value, &format!("headers.{}", h.name))?,
                ))
            })
            .collect::<Result<_>>()?;
        if let Some(header) = step.jws_header.as_deref().filter(|h| !h.trim().is_empty()) {
            let key = self
                .secret(profile, SecretKind::PrivateKey)
                .await?
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidClient,
                        format!(
                            "{label} signs its body ({header}), but profile \"{}\" has no signing \
                             key stored. Add the client's private key (PEM) in the profile.",
                            profile.config.name
                        ),
                    )
                })?;
            let a = &profile.config.client_assertion;
            let jws = steps::detached_jws(
                body.as_deref().unwrap_or_default(),
                key.expose(),
                a.alg,
                a.kid.as_deref(),
            )?;
            headers.push(Param::new(header.trim(), jws));
        }
        let method = http::Method::from_bytes(step.method().to_ascii_uppercase().as_bytes())
            .map_err(|e| Error::invalid_field("method", e.to_string()))?;
        // A sibling's token the API refuses (revoked, or from a provider that restarted while
        // the token looked valid) is renewed once and the step sent again.
        let mut response = None;
        for renew in [false, true] {
            let bearer = match &step.token_from {
                Some(sibling) => Some(self.step_token(sibling, label, renew).await?),
                None => None,
            };
            let mut request = http::Request::builder()
                .method(method.clone())
                .uri(&url)
                .header(http::header::ACCEPT, "application/json");
            if body.is_some() {
                request = request.header(http::header::CONTENT_TYPE, "application/json");
            }
            for h in &headers {
                request = request.header(h.name.as_str(), h.value.as_str());
            }
            if let Some(t) = &bearer {
                request = request.header("authorization", format!("Bearer {}", t.expose()));
            }
            let request = request
                .body(body.clone().unwrap_or_default())
                .map_err(|e| {
                    Error::invalid_field("url", format!("\"{url}\" cannot be requested ({e})."))
                })?;
            // The profile's own headers (x-api-key, a fresh x-request-id) come with every step.
            let mut call = self
                .call(profile, &format!("step:{}", index + 1))
                .await?
                .with_values(values.clone());
            if let Some(t) = &bearer {
                call.scrub(t.expose());
            }
            let sent = call.send(request).await;
            self.record(&call);
            let answer = sent?;
            let retry = answer.status() == 401 && bearer.is_some() && !renew;
            response = Some(answer);
            if !retry {
                break;
            }
        }
        let response = response.expect("the loop sends at least once");
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let ct = response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            return Err(steps::refused(label, status, ct, response.body()));
        }
        steps::capture(step, label, response.body(), values)?;
        let got: Vec<String> = step
            .capture
            .iter()
            .filter_map(|c| values.get(&c.name).map(|v| format!("{} {v}", c.name)))
            .collect();
        Ok(if got.is_empty() {
            format!(
                "{}: {method} {url} → HTTP {status}",
                steps::capitalize(label)
            )
        } else {
            format!("{}: {}", steps::capitalize(label), got.join(", "))
        })
    }
}

impl Core {
    /// The access token of the profile a step takes its token from: a valid one, or with
    /// `renew` a new one (refreshed, or fetched again).
    async fn step_token(
        &self,
        sibling: &str,
        label: &str,
        renew: bool,
    ) -> Result<crate::secret::Sensitive<String>> {
        let other = self.profile(sibling).map_err(|_| {
            Error::invalid_field(
                "token_from",
                format!("No profile named \"{sibling}\" to take the step's token from."),
            )
        })?;
        // Boxed: a sibling's token may run that sibling's own steps.
        let got = if renew {
            Box::pin(self.refresh(&other.id, self.trigger())).await
        } else {
            Box::pin(self.ensure_token(&other.id, STEP_TOKEN_MIN_VALID, self.trigger())).await
        };
        got.map_err(|e| {
            Error::new(
                e.code,
                format!(
                    "{label} needs a token from profile \"{sibling}\", which failed: {}",
                    e.message
                ),
            )
        })?;
        self.reveal(&other.id, SecretKind::AccessToken).await
    }
}
