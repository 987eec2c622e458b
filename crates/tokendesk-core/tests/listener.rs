//! The sign-in's loopback listener under attack while a real sign-in waits for its redirect:
//! requests to other paths, without the state or with a wrong one, a provider error without the
//! state, a web page's request (an `Origin`, fetch metadata that is not a navigation), a
//! DNS-rebound host name, a port scanner, 1,000 idle connections. Only the browser's redirect
//! completes the sign-in, even during the flood, and the listener closes when the sign-in ends.

use std::time::{Duration, Instant};

use tokendesk_core::profile::ProfileConfig;
use tokendesk_testkit::hostile::{CLIENT_SECRET, Hostile};
use tokendesk_testkit::{Flood, TestCore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// One raw HTTP/1.1 GET of `target` on `addr` with `headers` (a `Host` of `addr` unless given);
/// the status and the page.
async fn get(addr: &str, target: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut head = format!("GET {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head += &format!("Host: {addr}\r\n");
    }
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    s.write_all(format!("{head}\r\n").as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    (out[9..12].parse().unwrap(), out)
}

/// What is tried, the request target, its headers, the status it must get.
type Attack<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, u16);

/// What a browser sends when the provider redirects it to the listener.
const NAVIGATION: [(&str, &str); 3] = [
    ("Sec-Fetch-Mode", "navigate"),
    ("Sec-Fetch-Dest", "document"),
    ("Sec-Fetch-Site", "cross-site"),
];

#[tokio::test(flavor = "multi_thread")]
async fn only_the_browsers_redirect_completes_a_sign_in_under_attack() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = t
        .add(
            ProfileConfig {
                name: "attacked".into(),
                ..h.web_config()
            },
            Some(CLIENT_SECRET),
        )
        .await;
    let started = t.core.begin_login(&profile.id).await.unwrap();
    assert!(started.listening);
    let waiting = tokio::spawn({
        let (core, id) = (t.core.clone(), started.login_id.clone());
        async move { core.wait_login(&id, Duration::from_secs(120)).await }
    });
    // The provider's answer, as the browser would be sent it: a real code and the real state.
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&started.auth_url)
        .send()
        .await
        .unwrap();
    let redirect = Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let addr = format!(
        "{}:{}",
        redirect.host_str().unwrap(),
        redirect.port().unwrap()
    );
    let path = redirect.path().to_owned();
    let good = format!("{path}?{}", redirect.query().unwrap());
    let with_state = |state: Option<&str>| {
        let mut u = redirect.clone();
        let pairs: Vec<(String, String)> = redirect
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "state")
            .collect();
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        if let Some(state) = state {
            q.append_pair("state", state);
        }
        drop(q);
        format!("{path}?{}", u.query().unwrap())
    };

    // Every request but the browser's own redirect: a small page, and nothing changes.
    let rebound = format!("evil.example:{}", redirect.port().unwrap());
    let attacks: Vec<Attack> = vec![
        (
            "another path",
            "/favicon.ico".into(),
            NAVIGATION.to_vec(),
            404,
        ),
        ("no state", with_state(None), NAVIGATION.to_vec(), 400),
        (
            "a wrong state",
            with_state(Some("guessed")),
            NAVIGATION.to_vec(),
            400,
        ),
        (
            "a provider error without the state",
            format!("{path}?error=access_denied"),
            NAVIGATION.to_vec(),
            400,
        ),
        (
            "a web page's fetch, even with the right state",
            good.clone(),
            vec![
                ("Origin", "https://evil.example"),
                ("Sec-Fetch-Mode", "cors"),
            ],
            403,
        ),
        (
            "a web page's image",
            good.clone(),
            vec![("Sec-Fetch-Mode", "no-cors"), ("Sec-Fetch-Dest", "image")],
            403,
        ),
        (
            "a DNS-rebound host name",
            good.clone(),
            vec![("Host", rebound.as_str())],
            421,
        ),
    ];
    for (what, target, headers, status) in &attacks {
        let (got, page) = get(&addr, target, headers).await;
        assert_eq!(got, *status, "{what}: {page}");
        assert!(!page.contains("received the sign-in"), "{what}");
        assert!(page.len() < 1024, "{what}: a small page");
    }
    // A port scanner: connections opened and closed at once.
    for _ in 0..300 {
        drop(TcpStream::connect(&addr).await.unwrap());
    }
    assert!(
        !waiting.is_finished(),
        "the sign-in still waits for its own redirect"
    );

    // 1,000 idle connections, held by another process; then the browser's redirect.
    let flood = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || Flood::open(&addr, 1000, Duration::from_secs(60))
    })
    .await
    .unwrap();
    assert_eq!(flood.opened, 1000, "the listener accepts every connection");
    let sent = Instant::now();
    let (status, page) = get(&addr, &good, &NAVIGATION).await;
    let answered_in = sent.elapsed();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("received the sign-in"), "{page}");
    let set = tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the sign-in completes")
        .unwrap()
        .unwrap();
    assert!(set.access_expires_at.is_some());
    println!(
        "1,000 idle connections opened in {:?} by another process; the browser's redirect was \
         answered {answered_in:?} after it was sent",
        flood.took
    );

    // The sign-in has ended: the listener is gone, the flood's connections with it.
    let mut closed = false;
    for _ in 0..100 {
        if TcpStream::connect(&addr).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closed, "the listener closes when the sign-in ends");
    drop(flood);
    // The token stored is the one this sign-in brought, and one code was redeemed: the
    // attacks (one of them with a real code) redeemed nothing.
    let stored = t.core.token(&profile.id).unwrap().unwrap();
    assert_eq!(stored.obtained_at, set.obtained_at);
    let redeemed = t
        .core
        .exchanges(&profile.id, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.operation.starts_with("token"))
        .count();
    assert_eq!(redeemed, 1);
}
