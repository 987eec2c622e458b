//! Lenient readers for values gateways send in odd shapes: numbers as strings, epoch times in
//! seconds or milliseconds.

use serde_json::Value;

/// A number sent as a JSON number or as a string (`"3599"`, `" 3599.0 "`).
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|n| n.is_finite())
}

/// A whole number, however sent; fractions are truncated.
pub fn integer(v: &Value) -> Option<i64> {
    number(v).map(|n| n as i64)
}

/// An epoch time in milliseconds, whether sent in seconds or milliseconds. Values above 10^11
/// are taken as milliseconds (10^11 seconds is the year 5138).
pub fn epoch_ms(v: &Value) -> Option<i64> {
    let n = number(v)?;
    if n <= 0.0 {
        return None;
    }
    Some(if n > 1e11 {
        n as i64
    } else {
        (n * 1000.0) as i64
    })
}

/// A provider's text made safe to print in a message: control characters (a terminal escape
/// sequence, a carriage return that overwrites the line) shown as `\u{1b}`, line breaks and
/// tabs as spaces.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => " ".to_owned(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_come_as_numbers_or_strings() {
        assert_eq!(number(&json!(3599)), Some(3599.0));
        assert_eq!(number(&json!("3599")), Some(3599.0));
        assert_eq!(number(&json!(" 12.5 ")), Some(12.5));
        assert_eq!(number(&json!("soon")), None);
        assert_eq!(number(&json!(null)), None);
        assert_eq!(integer(&json!("7")), Some(7));
    }

    #[test]
    fn control_characters_are_shown_not_sent_to_the_terminal() {
        assert_eq!(
            printable("bad\u{1b}[2Jsecret\r\nline"),
            "bad\\u{1b}[2Jsecret  line"
        );
        assert_eq!(printable("plain é"), "plain é");
    }

    #[test]
    fn epochs_in_seconds_and_milliseconds_agree() {
        assert_eq!(epoch_ms(&json!(1_700_000_000)), Some(1_700_000_000_000));
        assert_eq!(epoch_ms(&json!("1700000000123")), Some(1_700_000_000_123));
        assert_eq!(epoch_ms(&json!(0)), None);
    }
}
