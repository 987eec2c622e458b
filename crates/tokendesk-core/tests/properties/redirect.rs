//! Redirect URIs of profiles (`RedirectTarget::parse`) and pasted redirect URLs with their
//! query and fragment (`Callback::from_url`).

use proptest::prelude::*;
use tokendesk_core::loopback::{Callback, RedirectTarget};

use crate::config::config;
use crate::input;

/// A redirect URI: a loopback listener for http on a loopback host, the address itself for
/// anything else, or an error on `redirect_uri`.
pub fn target(text: &str) {
    match RedirectTarget::parse(Some(text)) {
        Ok(RedirectTarget::Loopback {
            host,
            addrs,
            path,
            port,
        }) => {
            let u = url::Url::parse(text).expect("a listener only for a URL");
            assert_eq!(u.scheme(), "http");
            assert!(
                !addrs.is_empty() && addrs.iter().all(|a| a.is_loopback()),
                "{host}"
            );
            assert_eq!(port, u.port().unwrap_or(0));
            assert!(path.starts_with('/'));
        }
        Ok(RedirectTarget::Manual(uri)) => assert_eq!(uri, text),
        Err(e) => assert_eq!(e.fields[0].field, "redirect_uri"),
    }
}

/// A pasted redirect URL: its query and fragment parameters, or an error on `redirect_url`
/// that does not repeat what was pasted (it may carry a code).
pub fn callback(text: &str) {
    match Callback::from_url(text) {
        Ok(c) => assert!(!c.params.is_empty()),
        Err(e) => {
            assert_eq!(e.fields[0].field, "redirect_url");
            if text.trim().len() >= 6 {
                assert!(!e.message.contains(text.trim()), "{}", e.message);
            }
        }
    }
}

fn uri_text() -> impl Strategy<Value = String> {
    prop_oneof![
        input::text(),
        "(https?|com\\.example\\.app|urn:ietf:wg:oauth:2\\.0):(//)?(127\\.0\\.0\\.[0-9]{1,3}|localhost|\\[::1\\]|\\[::ffff:127\\.0\\.0\\.1\\]|[a-z.]{1,10}|0x7f000001|2130706433)(:[0-9]{1,6})?(/[a-z%/.]{0,10})?(\\?[a-z=]{0,6})?(#[a-z]{0,4})?",
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            input::key(&["code", "state", "iss", "error", "id_token", "response"]),
            input::text(),
        ),
        1..6,
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_redirect_uri(text in uri_text()) {
        target(&text);
    }

    #[test]
    fn a_loopback_redirect_uri_round_trips(
        host in prop::sample::select(&["127.0.0.1", "localhost", "[::1]"][..]),
        port in any::<u16>(),
        path in "(/[A-Za-z0-9._~-]{0,10}){0,3}",
    ) {
        let uri = format!("http://{host}:{port}{path}");
        let Ok(RedirectTarget::Loopback { port: p, path: got, .. }) = RedirectTarget::parse(Some(&uri)) else {
            panic!("{uri} is a loopback redirect");
        };
        // Port 80 is http's own: the URL has none, and the listener takes any.
        prop_assert_eq!(p, if port == 80 { 0 } else { port });
        // The path as a URL reads it ("/." is "/").
        prop_assert_eq!(got, url::Url::parse(&uri).unwrap().path().to_owned());
    }

    #[test]
    fn any_pasted_url(text in prop_oneof![uri_text(), input::text()]) {
        callback(&text);
    }

    #[test]
    fn query_and_fragment_parameters_round_trip(query in pairs(), fragment in prop::option::of(pairs())) {
        let mut u = url::Url::parse("http://127.0.0.1:8765/callback").unwrap();
        u.query_pairs_mut().extend_pairs(&query);
        if let Some(f) = &fragment {
            let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(f).finish();
            u.set_fragment(Some(&encoded));
        }
        let c = Callback::from_url(u.as_str()).unwrap();
        let want: Vec<(String, String)> = query.iter().chain(fragment.iter().flatten()).cloned().collect();
        prop_assert_eq!(c.params, want);
    }

    #[test]
    fn a_code_in_an_unusable_paste_stays_out_of_the_error(code in "[A-Za-z0-9]{16}", junk in "[ a-z]{0,8}") {
        let text = format!("{junk}/callback?code={code}&state=s");
        if let Err(e) = Callback::from_url(&text) {
            prop_assert!(!e.message.contains(&code), "{}", e.message);
        }
    }
}
