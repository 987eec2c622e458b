//! Generators of outside input: JSON trees with adversarial values (huge and odd numbers,
//! strings with control characters, numbers as strings), JSON text (duplicate keys, deep
//! nesting, invalid escapes, cut and spliced), and raw bytes.

use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Number, Value};

/// Strings that parsers of numbers, times and types trip on.
pub const ODD_TEXT: &[&str] = &[
    "",
    " ",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "-1e400",
    "1e-400",
    "0",
    "-0",
    "0x10",
    "18446744073709551616",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "3599",
    " 3599 ",
    "3599.9",
    "-30",
    "1e300",
    "1700000000123",
    "\u{1b}[2J\u{1b}]0;pwned\u{7}",
    "\r\n",
    "\0",
    "null",
    "true",
    "[]",
    "{}",
    "Bearer",
    "bearer",
    "DPoP",
    "BearerToken",
    "\u{202e}",
    "\u{feff}",
    "approved",
    "revoked",
    "\\u0000",
    "%00",
    "=",
    "&",
    "#",
    "?",
];

/// Any text: arbitrary Unicode, JSON syntax and control characters, number-like text.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => "[\\x00-\\x1f\\x7f\"\\\\{}\\[\\]:,=&#?% ]{0,12}",
        2 => number_text(),
        2 => select(ODD_TEXT).prop_map(str::to_owned),
        1 => "[a-z_]{1,12}",
    ]
}

/// Numbers written as text, well or badly.
pub fn number_text() -> impl Strategy<Value = String> {
    "[ +-]{0,2}[0-9]{0,25}(\\.[0-9]{0,6})?([eE][+-]?[0-9]{1,4})? ?"
}

/// A JSON number: any i64, u64 or finite f64, and the edges.
pub fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        select(
            &[
                0i64,
                -1,
                1,
                i64::MAX,
                i64::MIN,
                3599,
                1_700_000_000,
                1_700_000_000_000,
            ][..]
        )
        .prop_map(Value::from),
        select(&[1e300, -1e300, f64::MAX, f64::MIN_POSITIVE, 1e19, 0.5, -0.0][..])
            .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
    ]
}

/// A JSON value that is not an array or object.
pub fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ]
}

/// A member name: one of `names` (the parser's own fields) or any text.
pub fn key(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        2 => select(names).prop_map(str::to_owned),
        1 => text(),
    ]
}

/// A JSON tree of up to 4 levels whose member names are often the parser's own.
pub fn value(names: &'static [&'static str]) -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(names), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A JSON object with members named as the parser's own fields (and others), any values.
pub fn object(names: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((key(names), value(names)), 0..10).prop_map(|kv| kv.into_iter().collect())
}

/// An object with exactly the given `base` members, one of `names` replaced by any value (an
/// odd type for a standard field), and some extra members.
pub fn with_odd_field(
    base: Map<String, Value>,
    names: &'static [&'static str],
) -> impl Strategy<Value = (Map<String, Value>, String)> {
    (
        select(names),
        value(names),
        prop::collection::vec((key(names), leaf()), 0..3),
    )
        .prop_map(move |(name, odd, extra)| {
            let mut m = base.clone();
            for (k, v) in extra {
                m.entry(k).or_insert(v);
            }
            m.insert(name.to_owned(), odd);
            (m, name.to_owned())
        })
}

/// JSON text that parsers meet: valid documents, documents with repeated member names, nested
/// past any limit, with huge numbers or broken escapes, cut or spliced; and raw bytes.
pub fn json_bytes(names: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => value(names).prop_map(|v| v.to_string().into_bytes()),
        2 => duplicate_keys(names).prop_map(String::into_bytes),
        1 => (1usize..600, any::<bool>()).prop_map(|(n, arrays)| deep_text(n, arrays).into_bytes()),
        1 => select(BROKEN_JSON).prop_map(|s| s.as_bytes().to_vec()),
        2 => (value(names), any::<Index>(), text()).prop_map(|(v, at, junk)| splice(&v.to_string(), at, &junk).into_bytes()),
        1 => (value(names), any::<Index>()).prop_map(|(v, at)| { let s = v.to_string(); let b = s.as_bytes(); b[..at.index(b.len() + 1)].to_vec() }),
        2 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

/// An object text in which member names repeat (`{"a":1,"a":"x"}`).
pub fn duplicate_keys(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec((select(names), leaf()), 1..8).prop_map(|members| {
        let mut members = members;
        let first = members[0].clone();
        members.push((first.0, Value::String("second".into())));
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{}:{v}", Value::from(*k)))
            .collect();
        format!("{{{}}}", body.join(","))
    })
}

/// `n` nested arrays or objects.
pub fn deep_text(n: usize, arrays: bool) -> String {
    if arrays {
        format!("{}{}", "[".repeat(n), "]".repeat(n))
    } else {
        format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))
    }
}

const BROKEN_JSON: &[&str] = &[
    "{\"access_token\":\"\\x41\"}",
    "{\"access_token\":\"\\ud800\"}",
    "{\"access_token\":\"\\udc00\\ud800\"}",
    "{\"expires_in\":1e999}",
    "{\"expires_in\":-1e999}",
    "{\"expires_in\":100000000000000000000000000000000000000000000000000}",
    "{\"expires_in\":1.7976931348623157e309}",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{'a':1}",
    "\u{feff}{\"a\":1}",
    "{\"a\":\"\u{0}\"}",
    "{\"a\":NaN}",
    "{\"a\":Infinity}",
    "[1,2",
    "\"unterminated",
    "",
    " ",
    "null",
    "<html><title>Error</title></html>",
];

/// `text` with `junk` put in at a character boundary.
pub fn splice(text: &str, at: Index, junk: &str) -> String {
    let mut i = at.index(text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    format!("{}{junk}{}", &text[..i], &text[i..])
}
