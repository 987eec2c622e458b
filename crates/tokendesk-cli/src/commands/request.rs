//! `tokendesk request PROFILE URL`: an API request with the profile's token, renewed once and
//! sent again when the API answers that the token is no good (see [`Core::request`]).

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use tokendesk_core::history::Trigger;
use tokendesk_core::profile::Param;
use tokendesk_core::{ApiRequest, ApiResponse, Core, Error, ErrorCode, Result};

use crate::cli::RequestArgs;
use crate::exit;

pub async fn run(core: &Core, args: &RequestArgs) -> Result<ExitCode> {
    let request = api_request(args)?;
    let profile = core.profile(&args.profile)?;
    let response = core
        .request(
            &profile.id,
            &request,
            Duration::from_secs(args.min_valid),
            Trigger::CommandLine,
        )
        .await
        .map_err(|e| exit::with_login_hint(e, &args.profile))?;
    if response.refreshed && std::io::stderr().is_terminal() {
        errln!("note: the API refused the token; it was renewed once and the request sent again");
    }
    print(args, &response);
    if let Some(message) = response.still_refused() {
        errln!("error: {message}");
    }
    if let Some(advice) = response.challenge.as_ref().and_then(|c| {
        crate::commands::step_up::advice(&args.profile, &profile.config.scopes, response.status, c)
    }) {
        errln!("{advice}");
    }
    Ok(ExitCode::from(status_code(response.status)))
}

/// The exit code for an HTTP status: 0 below 400, then one per class.
pub fn status_code(status: u16) -> u8 {
    match status {
        400..=499 => exit::HTTP_CLIENT_ERROR,
        500.. => exit::HTTP_SERVER_ERROR,
        _ => 0,
    }
}

fn api_request(args: &RequestArgs) -> Result<ApiRequest> {
    let body = match (&args.data, &args.data_file) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(path)) => Some(read_body(path)?),
        (None, None) => None,
    };
    let headers = args
        .headers
        .iter()
        .map(|h| match h.split_once(':') {
            Some((name, value)) => Ok(Param::new(name.trim(), value.trim())),
            None => Err(Error::invalid_field(
                "header",
                format!("-H \"{h}\" is not a header: write it as 'Name: value'."),
            )),
        })
        .collect::<Result<Vec<_>>>()?;
    let method = match (&args.method, &body) {
        (Some(m), _) => m.clone(),
        (None, Some(_)) => "POST".to_owned(),
        (None, None) => "GET".to_owned(),
    };
    Ok(ApiRequest {
        method,
        url: args.url.clone().unwrap_or_default(),
        headers,
        body,
    })
}

/// The body of `--data-file` (`-` for stdin), as text.
fn read_body(path: &str) -> Result<String> {
    let mut bytes = Vec::new();
    let read = match path {
        "-" => std::io::stdin().read_to_end(&mut bytes).map(|_| ()),
        p => std::fs::read(p).map(|b| bytes = b),
    };
    read.map_err(|e| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("Cannot read the request body from {path}: {e}."),
        )
    })?;
    String::from_utf8(bytes).map_err(|_| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("The request body in {path} is not UTF-8 text; `request` sends text bodies."),
        )
    })
}

fn print(args: &RequestArgs, response: &ApiResponse) {
    let mut out = std::io::stdout().lock();
    if args.include {
        let mut head = format!("HTTP {}\n", response.status);
        for h in &response.headers {
            head.push_str(&format!("{}: {}\n", h.name, h.value));
        }
        head.push('\n');
        let _ = out.write_all(head.as_bytes());
    }
    let _ = out.write_all(&response.bytes);
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_by_status_class() {
        assert_eq!(
            [200, 204, 302, 400, 401, 404, 500, 503].map(status_code),
            [0, 0, 0, 9, 9, 9, 10, 10]
        );
    }
}
