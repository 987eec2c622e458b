//! The agent's request lines: whatever a local process writes, the line is a request of this
//! version, a request of another version (the agent then steps aside), or neither.

use proptest::prelude::*;
use serde_json::{Value, json};
use tokendesk_core::agent::{Request, other_version};

use crate::config::config;
use crate::input;

const FIELDS: &[&str] = &[
    "protocol",
    "profile",
    "min_valid_secs",
    "id_token",
    "header",
    "workspaces",
];

fn protocol() -> String {
    serde_json::to_value(Request::new("p", 0, false)).unwrap()["protocol"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A request line: parsed, or not; a line of this version is never taken for another one.
pub fn line(text: &str) {
    let parsed = serde_json::from_str::<Request>(text);
    let other = other_version(text);
    if let Ok(r) = &parsed
        && r.protocol == protocol()
    {
        assert!(!other, "this version's request taken for another's");
    }
    let doc = serde_json::from_str::<Value>(text).ok();
    if let (Ok(r), Some(doc)) = (&parsed, &doc) {
        // `"header": null` asks for header lines for no particular request.
        assert_eq!(
            r.header.is_some(),
            doc.get("header").is_some(),
            "header lines asked for"
        );
    }
    let hello = doc.and_then(|v| v.get("protocol")?.as_str().map(str::to_owned));
    if other {
        let p = hello.expect("another version names its protocol");
        assert!(p.starts_with("tokendesk-agent/") && p != protocol());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_line(text in prop_oneof![
        input::text(),
        input::json_bytes(FIELDS).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        input::object(FIELDS).prop_map(|m| Value::Object(m).to_string()),
    ]) {
        line(&text);
    }

    #[test]
    fn a_request_round_trips(
        profile in input::text(),
        min_valid_secs in any::<u64>(),
        id_token in any::<bool>(),
        header in prop::option::of(prop::option::of(input::text())),
        workspaces in prop::collection::vec(input::text(), 0..3),
    ) {
        let mut r = Request::new(&profile, min_valid_secs, id_token);
        if let Some(h) = &header {
            r = r.with_header(h.as_deref());
        }
        r.workspaces = workspaces.clone();
        let text = serde_json::to_string(&r).unwrap();
        prop_assert!(!text.contains('\n'), "one request, one line");
        let back: Request = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back.profile, &profile);
        prop_assert_eq!(back.min_valid_secs, min_valid_secs);
        prop_assert_eq!(back.id_token, id_token);
        prop_assert_eq!(back.header, header);
        prop_assert_eq!(back.workspaces, workspaces);
        prop_assert!(!other_version(&text));
        line(&text);
    }

    #[test]
    fn another_version_is_told_apart(version in "[0-9a-z./ -]{0,16}", extra in input::object(FIELDS)) {
        let p = format!("tokendesk-agent/{version}");
        let mut v = Value::Object(extra);
        v["protocol"] = json!(p);
        let text = v.to_string();
        prop_assert_eq!(other_version(&text), p != protocol());
        line(&text);
    }
}
