//! Clock skew between this machine and the provider, from the `Date` header of its answer: the
//! usual cause of "token not yet valid", of refused client assertions and of ID tokens that
//! fail their `iat`/`exp` checks.

use super::{CheckRow, Layer};

/// Above this, a warning: tokens and assertions start failing at providers with tight leeway.
pub const WARN_SKEW_S: i64 = 30;
/// Above this, a failure: most providers refuse assertions and tokens this far off.
pub const FAIL_SKEW_S: i64 = 300;

/// The check of one answer's `Date` (an HTTP date), against the local time in the middle of the
/// exchange (`local_ms`).
pub fn skew(date: Option<&str>, local_ms: i64, origin: &str) -> CheckRow {
    let row = CheckRow::new("provider:clock", Layer::Provider, "Clock");
    let Some(date) = date else {
        return row.skip(format!("{origin} sent no Date header to compare with."));
    };
    let Ok(theirs) = httpdate::parse_http_date(date) else {
        return row.skip(format!(
            "{origin} sent a Date header that is not an HTTP date: \"{date}\"."
        ));
    };
    let theirs_ms = theirs
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    // The header has whole seconds: up to a second of difference is the header's, not a skew.
    let skew_s = (local_ms - theirs_ms) / 1000;
    let said = match skew_s {
        0 => format!("This machine's clock agrees with {origin}'s (within a second)."),
        s if s > 0 => format!("This machine's clock is {} ahead of {origin}'s.", span(s)),
        s => format!("This machine's clock is {} behind {origin}'s.", span(-s)),
    };
    let fix = "Set this machine's clock right (turn on network time: `timedatectl set-ntp true`), \
               or ask the provider's operators to fix theirs. Skew makes fresh tokens look not yet \
               valid or already expired, and client assertions refused.";
    match skew_s.abs() {
        s if s > FAIL_SKEW_S => row.fail(said, fix),
        s if s > WARN_SKEW_S => row.warn(said, fix),
        _ => row.pass(said),
    }
}

fn span(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;

    // Sun, 06 Nov 1994 08:49:37 GMT
    const THEN_MS: i64 = 784_111_777_000;

    #[test]
    fn skew_is_judged_by_size_and_direction() {
        let date = Some("Sun, 06 Nov 1994 08:49:37 GMT");
        let r = skew(date, THEN_MS + 400, "op");
        assert_eq!(r.status, Status::Pass, "{}", r.seen);
        let r = skew(date, THEN_MS + 45_000, "op");
        assert_eq!(r.status, Status::Warn);
        assert!(r.seen.contains("45 s ahead"), "{}", r.seen);
        let r = skew(date, THEN_MS - 600_000, "op");
        assert_eq!(r.status, Status::Fail);
        assert!(r.seen.contains("10 min 0 s behind"), "{}", r.seen);
        assert!(r.fix.unwrap().contains("timedatectl"));
        assert_eq!(skew(None, THEN_MS, "op").status, Status::Skipped);
        assert_eq!(
            skew(Some("yesterday"), THEN_MS, "op").status,
            Status::Skipped
        );
    }
}
