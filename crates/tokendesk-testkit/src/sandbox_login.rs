//! A headless browser for the built-in sandbox's one-button login: it opens the authorization
//! URL, presses Approve, and takes the answer to the redirect URI as a browser does — an answer
//! in the fragment (hybrid `code id_token`) the way TokenDesk's relay page passes it on,
//! `GET <path>?<fragment>`. An error redirect of the sandbox is passed on the same way.

use std::sync::{Arc, Mutex};

use tokendesk_core::browser::BrowserLauncher;

#[derive(Clone, Default)]
pub struct SandboxLogin {
    /// The redirect the sandbox answered with (fragment included), once the walk got there.
    pub redirect: Arc<Mutex<Option<String>>>,
}

impl BrowserLauncher for SandboxLogin {
    fn open(&self, url: &str) -> tokendesk_core::Result<()> {
        // In the background, as a browser: the caller starts listening only after this returns.
        let (url, seen) = (url.to_owned(), self.redirect.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the headless browser");
            if let Err(why) = runtime.block_on(walk(&url, &seen)) {
                eprintln!("SandboxLogin: {why}");
            }
        });
        Ok(())
    }
}

async fn walk(url: &str, seen: &Mutex<Option<String>>) -> Result<(), String> {
    tokendesk_core::http::install_tls_provider();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let page = http.get(url).send().await.map_err(|e| e.to_string())?;
    let redirect = match location(&page) {
        // Refused at once: an error redirect.
        Some(location) => location,
        None => {
            let status = page.status();
            let html = page.text().await.map_err(|e| e.to_string())?;
            let (Some(action), Some(request_id)) = (
                attribute(&html, "action=\""),
                attribute(&html, "name=\"request_id\" value=\""),
            ) else {
                return Err(format!("no login form on the page (HTTP {status}): {html}"));
            };
            let body = format!("request_id={request_id}&decision=approve");
            let approved = http
                .post(action)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            location(&approved)
                .ok_or_else(|| format!("Approve did not redirect (HTTP {})", approved.status()))?
        }
    };
    *seen.lock().expect("not poisoned") = Some(redirect.clone());
    let target = match redirect.split_once('#') {
        Some((address, fragment)) => {
            let path = address.split_once('?').map_or(address, |(p, _)| p);
            format!("{path}?{fragment}")
        }
        None => redirect,
    };
    let delivered = http.get(&target).send().await.map_err(|e| e.to_string())?;
    if !delivered.status().is_success() {
        return Err(format!(
            "the redirect URI answered HTTP {}",
            delivered.status()
        ));
    }
    Ok(())
}

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .status()
        .is_redirection()
        .then(|| response.headers().get("location")?.to_str().ok())
        .flatten()
        .map(str::to_owned)
}

/// The value after `marker` up to the closing quote (the sandbox's page escapes nothing in the
/// values read here: URLs without `&`, base64url ids).
fn attribute<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let start = html.find(marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(&html[start..start + len])
}
