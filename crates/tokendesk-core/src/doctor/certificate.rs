//! What a certificate says about itself: whom it names and how long it stays valid — the
//! provider's (from the TLS handshake) and the client's own (mutual TLS).

use der::{Decode, DecodePem};
use x509_cert::Certificate;

use super::Status;

/// Fewer days than this left: a warning.
pub const WARN_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub subject: String,
    pub issuer: String,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
}

pub fn from_der(der: &[u8]) -> Result<Facts, String> {
    Certificate::from_der(der)
        .map(|c| facts(&c))
        .map_err(|e| format!("not an X.509 certificate ({e})"))
}

/// The first certificate of a PEM chain (the client's own).
pub fn from_pem(pem: &str) -> Result<Facts, String> {
    let start = pem
        .find("-----BEGIN CERTIFICATE-----")
        .ok_or("no -----BEGIN CERTIFICATE----- in it")?;
    let end = pem[start..]
        .find("-----END CERTIFICATE-----")
        .map(|i| start + i + "-----END CERTIFICATE-----".len())
        .ok_or("no -----END CERTIFICATE----- after its start")?;
    Certificate::from_pem(&pem[start..end])
        .map(|c| facts(&c))
        .map_err(|e| format!("not a PEM X.509 certificate ({e})"))
}

fn facts(c: &Certificate) -> Facts {
    let tbs = &c.tbs_certificate;
    let ms = |t: &x509_cert::time::Time| t.to_unix_duration().as_millis() as i64;
    Facts {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        not_before_ms: ms(&tbs.validity.not_before),
        not_after_ms: ms(&tbs.validity.not_after),
    }
}

impl Facts {
    /// Whole days of validity left (negative once expired).
    pub fn days_left(&self, now_ms: i64) -> i64 {
        (self.not_after_ms - now_ms).div_euclid(86_400_000)
    }

    /// Expired or not yet valid: a failure; under [`WARN_DAYS`] left: a warning.
    pub fn judge(&self, now_ms: i64) -> (Status, String) {
        let days = self.days_left(now_ms);
        if now_ms < self.not_before_ms {
            return (
                Status::Fail,
                format!("the certificate of {} is not valid yet", self.subject),
            );
        }
        match days {
            d if d < 0 => (
                Status::Fail,
                format!(
                    "the certificate of {} expired {} day{} ago",
                    self.subject,
                    -d,
                    if d == -1 { "" } else { "s" }
                ),
            ),
            d if d < WARN_DAYS => (
                Status::Warn,
                format!(
                    "the certificate of {} expires in {d} day{}",
                    self.subject,
                    if d == 1 { "" } else { "s" }
                ),
            ),
            d => (
                Status::Pass,
                format!("the certificate of {} is valid {d} more days", self.subject),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;
    const DAY: i64 = 86_400_000;

    fn facts(before: i64, after: i64) -> Facts {
        Facts {
            subject: "CN=op.example".into(),
            issuer: "CN=ca".into(),
            not_before_ms: before,
            not_after_ms: after,
        }
    }

    #[test]
    fn days_left_decide_the_outcome() {
        let (s, said) = facts(NOW - DAY, NOW + 90 * DAY + 5).judge(NOW);
        assert_eq!(s, Status::Pass, "{said}");
        assert!(said.contains("90 more days"), "{said}");
        assert_eq!(facts(NOW - DAY, NOW + 10 * DAY).judge(NOW).0, Status::Warn);
        let (s, said) = facts(NOW - 9 * DAY, NOW - 2 * DAY).judge(NOW);
        assert_eq!(s, Status::Fail);
        assert!(said.contains("expired 2 days ago"), "{said}");
        assert_eq!(facts(NOW + DAY, NOW + 9 * DAY).judge(NOW).0, Status::Fail);
    }

    #[test]
    fn a_pem_chain_gives_its_first_certificate() {
        let made = rcgen::generate_simple_self_signed(vec!["client.example".into()]).unwrap();
        let pem = made.cert.pem();
        let f = from_pem(&format!("junk before\n{pem}{pem}")).unwrap();
        assert!(f.subject.contains("CN=rcgen self signed cert"), "{f:?}");
        assert!(f.not_after_ms > f.not_before_ms);
        assert!(from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
        assert!(from_pem("nothing").is_err());
    }
}
