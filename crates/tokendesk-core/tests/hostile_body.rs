//! A token endpoint that answers 200 MB (streamed by the hostile provider, never held in its
//! memory): the core cuts it off at its documented limit (`http::RESPONSE_LIMIT`, 4 MiB), says
//! so, keeps what it had, and its memory stays bounded. Alone in its own test binary so that
//! the peak RSS it measures (`VmHWM`) is this case's, not another test's.

use std::time::{Duration, Instant};

use tokendesk_core::ErrorCode;
use tokendesk_core::http::RESPONSE_LIMIT;
use tokendesk_core::profile::{AuthMethod, Endpoints, GrantKind, ProfileConfig};
use tokendesk_testkit::TestCore;
use tokendesk_testkit::hostile::{
    Answer, CLIENT_ID, CLIENT_SECRET, HUGE_BODY, Hostile, Scenario, Stored, peak_rss,
};

/// Generous: the whole process (test harness, provider, core) stays well under it; reading the
/// 200 MB body into memory would not.
const PEAK_RSS_BOUND: u64 = 100 << 20;

#[tokio::test(flavor = "multi_thread")]
async fn a_body_of_200_mb_is_cut_off_at_the_limit_with_memory_bounded() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = t
        .add(
            ProfileConfig {
                name: "cc-huge".into(),
                client_id: CLIENT_ID.into(),
                auth_method: AuthMethod::ClientSecretPost,
                grant: GrantKind::ClientCredentials,
                endpoints: Endpoints {
                    token: Some(h.url("/token/cc")),
                    ..Default::default()
                },
                ..Default::default()
            },
            Some(CLIENT_SECRET),
        )
        .await;
    t.core
        .fetch_token(&profile.id)
        .await
        .expect("an honest answer first");
    let before = Stored::of(&t, &profile.id).await;
    let baseline = peak_rss();

    h.set(Scenario {
        token_answer: Some(Answer::Huge),
        ..Default::default()
    });
    let started = Instant::now();
    let e = tokio::time::timeout(Duration::from_secs(60), t.core.fetch_token(&profile.id))
        .await
        .expect("no hang")
        .expect_err("a 200 MB answer is refused");
    let took = started.elapsed();

    assert_eq!(e.code, ErrorCode::BadResponse, "{}", e.message);
    assert!(
        e.message.contains("larger than 4 MiB") && e.message.contains("/token/cc"),
        "the limit and the URL are named: {}",
        e.message
    );
    assert_eq!(
        Stored::of(&t, &profile.id).await,
        before,
        "the store is as it was"
    );
    // The reader stopped at the limit, so the provider stopped producing: far from 200 MB.
    let streamed = h.streamed();
    assert!(
        streamed < HUGE_BODY / 4 && streamed as usize >= RESPONSE_LIMIT,
        "the provider produced {streamed} bytes"
    );
    let peak = peak_rss().expect("VmHWM (Linux)");
    eprintln!(
        "200 MB body: refused in {took:?} after the provider produced {} MiB; peak RSS {} MiB \
         (before the body: {} MiB)",
        streamed >> 20,
        peak >> 20,
        baseline.unwrap_or(0) >> 20
    );
    assert!(
        peak < PEAK_RSS_BOUND,
        "peak RSS {} MiB, bound {} MiB",
        peak >> 20,
        PEAK_RSS_BOUND >> 20
    );
}
