//! bench/dpop: what a DPoP proof costs to make (RFC 9449), beside the other JWT TokenDesk signs
//! on every client-authenticated request — a private_key_jwt client assertion (PS256, the FAPI
//! choice) — in the same run.
//!
//! Prints the median and p95 per signature and the ratio proof / assertion. The target:
//! a proof's median at most 0.3 ms.

fn main() {
    use std::time::Instant;
    use tokendesk_core::dpop::{DpopAlg, DpopKey};
    use tokendesk_core::flow::assertion;
    use tokendesk_core::profile::{
        AssertionAlg, AuthMethod, ClientAssertion, Endpoints, Profile, ProfileConfig, ProfileId,
    };
    use tokendesk_core::secret::Sensitive;

    let n: usize = std::env::var("DPOP_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let measure = |f: &dyn Fn(usize)| -> Vec<f64> {
        (0..20).for_each(f);
        let mut ms: Vec<f64> = (0..n)
            .map(|i| {
                let t = Instant::now();
                f(i);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        ms
    };
    let at = |v: &[f64], q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    let token = "eyJhbGciOiJQUzI1NiJ9.an-access-token-of-the-usual-length-0123456789abcdef.sig";
    let es = DpopKey::generate(DpopAlg::ES256);
    let ed = DpopKey::generate(DpopAlg::EdDSA);
    let url = "https://api.example/v1/accounts?limit=10";
    let now = 1_700_000_000_000;
    let es256 = measure(&|_| {
        std::hint::black_box(es.proof("GET", url, Some("nonce-1"), Some(token), now));
    });
    let eddsa = measure(&|_| {
        std::hint::black_box(ed.proof("GET", url, Some("nonce-1"), Some(token), now));
    });
    let profile = Profile {
        id: ProfileId::from("bench"),
        config: ProfileConfig {
            name: "bench".into(),
            client_id: "client".into(),
            auth_method: AuthMethod::PrivateKeyJwt,
            client_assertion: ClientAssertion {
                alg: AssertionAlg::PS256,
                kid: Some("k".into()),
                audience: None,
            },
            endpoints: Endpoints {
                token: Some("https://as.example/token".into()),
                ..Default::default()
            },
            ..Default::default()
        },
        metadata: None,
        created_at: 0,
        updated_at: 0,
    };
    let key = Sensitive::new(include_str!("../src/flow/testdata/rsa-2048.pem").to_owned());
    let ps256 = measure(&|_| {
        std::hint::black_box(assertion::sign(&profile, &key, now).unwrap());
    });
    println!("DPoP proof vs client assertion, {n} signatures each (ms per signature)");
    println!("{:<34} {:>9} {:>9}", "case", "median", "p95");
    for (name, v) in [
        ("DPoP proof ES256 (with ath, nonce)", &es256),
        ("DPoP proof EdDSA (with ath, nonce)", &eddsa),
        ("client assertion PS256 (baseline)", &ps256),
    ] {
        println!("{name:<34} {:>9.4} {:>9.4}", at(v, 0.5), at(v, 0.95));
    }
    let target = 0.3;
    println!(
        "ratio ES256 proof / PS256 assertion: {:.3}x; ES256 median {:.4} ms vs target {target} ms: {}",
        at(&es256, 0.5) / at(&ps256, 0.5),
        at(&es256, 0.5),
        if at(&es256, 0.5) <= target {
            "PASS"
        } else {
            "FAIL"
        }
    );
}
