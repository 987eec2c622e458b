//! Profile export files: any text is read into valid profiles or refused naming the field
//! (`format`, `profiles[1].client_id`); an export of valid profiles reads back equal.

use proptest::prelude::*;
use serde_json::{Value, json};
use tokendesk_core::ErrorCode;
use tokendesk_core::flow::GrantKind;
use tokendesk_core::profile::export::{FORMAT, read, write};
use tokendesk_core::profile::{Endpoints, Param, ProfileConfig, RefreshPolicy};

use crate::config::config;
use crate::input;
use crate::profile_config::{member_names, names_a_member};

/// An export text: profiles that are each valid and named once, or an input error whose
/// every field is `format`, `profiles` or a member of one listed profile.
pub fn text(t: &str) {
    match read(t) {
        Ok(configs) => {
            let doc: Value = serde_json::from_str(t).unwrap();
            assert_eq!(doc["format"], FORMAT);
            assert_eq!(configs.len(), doc["profiles"].as_array().unwrap().len());
            for (i, c) in configs.iter().enumerate() {
                assert!(c.validate().is_ok());
                assert!(
                    !configs[..i].iter().any(|o| o.name == c.name),
                    "{} twice",
                    c.name
                );
            }
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message);
            let count = serde_json::from_str::<Value>(t)
                .ok()
                .and_then(|d| d.get("profiles")?.as_array().map(Vec::len))
                .unwrap_or(0);
            for f in &e.fields {
                let ok = f.field == "format"
                    || f.field == "profiles"
                    || f.field.strip_prefix("profiles[").and_then(|rest| {
                        let (i, after) = rest.split_once(']')?;
                        let i: usize = i.parse().ok()?;
                        let member = after.strip_prefix('.');
                        Some(i < count && member.is_none_or(|m| names_a_member(m) || m.is_empty()))
                    }) == Some(true);
                assert!(
                    ok,
                    "the error names no field of the file: {} ({})",
                    f.field, f.message
                );
            }
        }
    }
}

fn config_() -> impl Strategy<Value = ProfileConfig> {
    let word = "[A-Za-z0-9:._/-]{1,12}";
    (
        (
            "[^\\x00-\\x1f]{1,40}",
            input::text(),
            input::text(),
            prop::option::of(input::text()),
        ),
        (
            prop::collection::vec(word, 0..4),
            prop::option::of(any::<u32>()),
        ),
        prop::collection::vec(("x_[a-z]{1,8}", input::text()), 0..3),
        prop::collection::vec(("x-[a-z]{1,8}", "[ -~]{0,20}"), 0..3),
        (any::<bool>(), 0u8..=90, any::<u32>()),
        prop::option::of("https://api\\.example/[a-z/]{0,12}"),
    )
        .prop_map(
            |(
                (name, environment, client_id, audience),
                (scopes, max_age),
                params,
                headers,
                (auto, pct, secs),
                api_url,
            )| {
                ProfileConfig {
                    // Never blank, so that few are filtered out.
                    name: format!("n{name}"),
                    environment,
                    client_id: format!("c{client_id}"),
                    audience,
                    grant: GrantKind::ClientCredentials,
                    endpoints: Endpoints {
                        token: Some("https://op.example/token".into()),
                        ..Endpoints::default()
                    },
                    scopes,
                    max_age,
                    token_params: params.into_iter().map(|(k, v)| Param::new(k, v)).collect(),
                    headers: headers.into_iter().map(|(k, v)| Param::new(k, v)).collect(),
                    refresh: RefreshPolicy {
                        auto,
                        remaining_percent: pct,
                        min_seconds_before: secs,
                    },
                    api_url,
                    ..ProfileConfig::default()
                }
            },
        )
        .prop_filter("a valid profile", |c| c.validate().is_ok())
}

fn configs() -> impl Strategy<Value = Vec<ProfileConfig>> {
    prop::collection::vec(config_(), 0..4).prop_map(|mut v| {
        let mut seen = std::collections::HashSet::new();
        v.retain(|c| seen.insert(c.name.clone()));
        v
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn an_export_reads_back_equal(configs in configs()) {
        let t = write(&configs);
        prop_assert_eq!(read(&t).unwrap(), configs);
        text(&t);
    }

    #[test]
    fn any_text(t in prop_oneof![
        input::text(),
        input::json_bytes(&["format", "profiles"]).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]) {
        text(&t);
    }

    #[test]
    fn any_profiles_in_a_file(
        format in prop_oneof![Just(Value::from(FORMAT)), input::leaf()],
        profiles in prop::collection::vec(input::object(member_names()).prop_map(Value::Object), 0..4),
    ) {
        text(&json!({"format": format, "profiles": profiles}).to_string());
    }

    #[test]
    fn a_member_of_the_wrong_type_is_named(
        (m, name) in input::with_odd_field(
            serde_json::from_value(json!({
                "name": "cc", "client_id": "abc", "grant": "client_credentials",
                "endpoints": {"token": "https://op.example/token"},
            })).unwrap(),
            member_names(),
        )
    ) {
        let t = json!({"format": FORMAT, "profiles": [Value::Object(m.clone())]}).to_string();
        text(&t);
        let wrong_alone = |member: &str| {
            serde_json::from_value::<ProfileConfig>(json!({member: m[member]})).is_err()
        };
        match read(&t) {
            Ok(_) => prop_assert!(!wrong_alone(&name)),
            Err(e) => {
                for f in e.fields.iter().filter(|f| f.message.starts_with("Not readable")) {
                    let member = f.field.strip_prefix("profiles[0].").unwrap();
                    prop_assert!(wrong_alone(member), "{} is named but reads: {}", member, e.message);
                }
            }
        }
    }

    #[test]
    fn a_name_twice_is_refused(c in config_()) {
        let t = write(&[c.clone(), c]);
        let e = read(&t).unwrap_err();
        prop_assert_eq!(&e.fields[0].field, "profiles[1].name");
    }
}
