//! The way to each origin the profile talks to: DNS, TCP, then one HTTP request over the
//! profile's TLS settings, which shows the server's certificate (valid for the host — else the
//! request fails — and for how long), that a client certificate is accepted, and the server's
//! `Date` for the clock check.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use url::Url;

use super::{ClockSample, Core, Schedule};
use crate::doctor::{CheckRow, Layer, Status, certificate};
use crate::error::ErrorCode;
use crate::flow::SignIn;
use crate::http::TlsSetup;
use crate::profile::{Endpoint, Profile};

const STEP_TIMEOUT: Duration = Duration::from_secs(5);

impl Core {
    pub(super) async fn check_network(
        &self,
        profile: &Profile,
        tls: &TlsSetup,
        schedule: Schedule,
    ) -> (Vec<CheckRow>, Option<ClockSample>) {
        // Each origin once, with what it serves: the issuer (its discovery document) and the
        // endpoints the grant uses.
        let mut origins: BTreeMap<String, (Url, Vec<&'static str>)> = BTreeMap::new();
        let issuer = profile
            .config
            .issuer
            .as_deref()
            .and_then(|i| crate::provider::discovery::candidate_urls(i).ok())
            .and_then(|urls| urls.into_iter().next())
            .map(|u| ("discovery document", u));
        let endpoints = used_endpoints(profile)
            .into_iter()
            .filter_map(|which| Some((which.label(), profile.endpoint(which)?.to_owned())));
        for (label, url) in issuer.into_iter().chain(endpoints) {
            let Ok(url) = Url::parse(&url) else { continue };
            let serves = &mut origins
                .entry(url.origin().ascii_serialization())
                .or_insert_with(|| (url, Vec::new()))
                .1;
            if !serves.contains(&label) {
                serves.push(label);
            }
        }
        if origins.is_empty() {
            return (
                vec![
                    CheckRow::new("network", Layer::Network, "Network").skip(
                        "No endpoint to reach (discovery failed, and none is typed by hand).",
                    ),
                ],
                None,
            );
        }
        let checks = origins
            .into_values()
            .map(|(url, serves)| self.check_origin(url, serves, tls));
        let results = match schedule {
            Schedule::Parallel => futures_util::future::join_all(checks).await,
            Schedule::Sequential => {
                let mut out = Vec::new();
                for check in checks {
                    out.push(check.await);
                }
                out
            }
        };
        let sample = results.iter().find_map(|(_, s)| s.clone());
        (results.into_iter().map(|(r, _)| r).collect(), sample)
    }

    async fn check_origin(
        &self,
        url: Url,
        serves: Vec<&'static str>,
        tls: &TlsSetup,
    ) -> (CheckRow, Option<ClockSample>) {
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let serving = serves.join(", ");
        let row = CheckRow::new(
            format!("network:{host}:{port}"),
            Layer::Network,
            format!("Network: {host}:{port}"),
        );
        let mut seen = vec![format!("serves the {serving}")];
        let lookup =
            tokio::time::timeout(STEP_TIMEOUT, tokio::net::lookup_host((host.as_str(), port)));
        let addrs: Vec<std::net::SocketAddr> = match lookup.await {
            Ok(Ok(a)) => a.collect(),
            Ok(Err(e)) => {
                return (
                    row.fail(
                        format!("DNS: {host} does not resolve ({e})."),
                        "Check the host name in the issuer or endpoint, and this machine's DNS \
                         (a VPN the provider needs?).",
                    ),
                    None,
                );
            }
            Err(_) => {
                return (
                    row.fail(
                        format!(
                            "DNS: no answer for {host} within {} s.",
                            STEP_TIMEOUT.as_secs()
                        ),
                        "Check this machine's DNS settings and network.",
                    ),
                    None,
                );
            }
        };
        let Some(addr) = addrs.first().copied() else {
            return (
                row.fail(
                    format!("DNS: {host} has no address."),
                    "Check the host name.",
                ),
                None,
            );
        };
        seen.push(format!("{host} resolves to {}", addr.ip()));
        let started = Instant::now();
        match tokio::time::timeout(STEP_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => seen.push(format!(
                "TCP connect in {:.1} ms",
                started.elapsed().as_secs_f64() * 1000.0
            )),
            Ok(Err(e)) => {
                return (
                    row.fail(
                        format!("{}; TCP: cannot connect to {addr} ({e}).", seen.join("; ")),
                        format!(
                            "Check that the provider is up and that nothing (firewall, proxy) \
                             blocks port {port} from this machine."
                        ),
                    ),
                    None,
                );
            }
            Err(_) => {
                return (
                    row.fail(
                        format!(
                            "{}; TCP: no connection to {addr} within {} s.",
                            seen.join("; "),
                            STEP_TIMEOUT.as_secs()
                        ),
                        "A firewall may drop the packets, or the provider is down.",
                    ),
                    None,
                );
            }
        }
        let target = url.as_str();
        let sent = self.now();
        let probe = match self.http.probe(target, tls).await {
            Ok(p) => p,
            Err(e) => {
                let fix = match e.code {
                    ErrorCode::Tls => {
                        "The server's certificate is not trusted for this host (self-signed, a \
                         private CA, expired, or for another name), or it refused the client \
                         certificate. For a private CA, add its certificate to the profile's \
                         extra CA certificates."
                    }
                    _ => "Check that the provider is up and reachable from this machine.",
                };
                return (
                    row.fail(format!("{}; {}", seen.join("; "), e.message), fix),
                    None,
                );
            }
        };
        let mid = (sent + self.now()) / 2;
        let mut status = Status::Pass;
        let mut fix = None;
        if url.scheme() == "https" {
            match probe.peer_certificate.as_deref().map(certificate::from_der) {
                Some(Ok(facts)) => {
                    let (judged, said) = facts.judge(self.now());
                    seen.push(format!("TLS: {said}"));
                    if judged != Status::Pass {
                        status = judged;
                        fix = Some(
                            "Tell the provider's operators: its certificate must be renewed before \
                             it expires, or every client stops working."
                                .to_owned(),
                        );
                    }
                }
                Some(Err(e)) => seen.push(format!("TLS: the server's certificate is {e}")),
                None => seen.push("TLS: no certificate information".into()),
            }
            if tls.ca_pem.is_some() {
                seen.push("the profile's extra CA certificates trusted".into());
            }
            if tls.identity_pem.is_some() {
                seen.push(
                    "the client certificate was presented and the connection accepted".into(),
                );
            }
        } else if !addr.ip().is_loopback() {
            status = Status::Warn;
            fix = Some(
                "Use https: over plain http, secrets and tokens cross the network readable by \
                 anyone on the way."
                    .to_owned(),
            );
            seen.push("plain http to a host that is not this machine".into());
        }
        seen.push(format!("HTTP answered (GET {target}: {})", probe.status));
        let sample = Some((probe.date, mid, url.origin().ascii_serialization()));
        let seen = format!("{}.", seen.join("; "));
        let row = match (status, fix) {
            (Status::Warn, Some(f)) => row.warn(seen, f),
            (Status::Fail, Some(f)) => row.fail(seen, f),
            _ => row.pass(seen),
        };
        (row, sample)
    }
}

/// The endpoints the profile's grant uses.
fn used_endpoints(profile: &Profile) -> Vec<Endpoint> {
    let c = &profile.config;
    let spec = c.grant.spec();
    let mut out = vec![Endpoint::Token];
    out.extend(spec.needs.iter().copied());
    if spec.sign_in == SignIn::Browser {
        out.push(Endpoint::Authorization);
        if crate::flow::par::wanted(profile) {
            out.push(Endpoint::PushedAuthorization);
        }
    }
    if c.scopes.iter().any(|s| s == "openid") || c.jarm {
        out.push(Endpoint::Jwks);
    }
    out.dedup();
    out
}
