//! Times and durations as the command line writes them.

use alloc::format;
use alloc::string::String;

/// `m:ss` under an hour, `h:mm:ss` under a day, `Nd h:mm:ss` above.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h}:{m:02}:{sec:02}")
    } else if h > 0 {
        format!("{h}:{m:02}:{sec:02}")
    } else {
        format!("{m}:{sec:02}")
    }
}

/// Time left until `at`, or "expired", or "no expiry".
pub fn left(at: Option<i64>, now: i64) -> String {
    match at {
        None => "no expiry".into(),
        Some(t) if t <= now => "expired".into(),
        Some(t) => duration(t - now),
    }
}

/// An epoch-milliseconds time as RFC 3339 UTC, to the second (`2026-12-04T07:02:07Z`).
pub fn rfc3339(ms: i64) -> String {
    let (date, rem) = civil(ms);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The UTC calendar date of an epoch-milliseconds time (`2026-12-04`).
pub fn date(ms: i64) -> String {
    civil(ms).0
}

/// `YYYY-MM-DD` and the seconds into that day (Howard Hinnant's civil-from-days).
fn civil(ms: i64) -> (String, i64) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (format!("{year:04}-{month:02}-{day:02}"), rem)
}
