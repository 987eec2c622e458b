//! `ProfileConfig::validate` on any profile a file, the UI or the CLI can hold: it never panics,
//! and every problem it names is a member of the profile.

use proptest::prelude::*;
use serde_json::Value;
use tokendesk_core::json_object;
use tokendesk_core::profile::ProfileConfig;

use crate::config::config;
use crate::input;

/// The members of a profile as exported (`name`, `endpoints`, `steps`, ...).
pub fn members() -> Vec<String> {
    match serde_json::to_value(ProfileConfig::default()).unwrap() {
        Value::Object(m) => m.keys().cloned().collect(),
        _ => unreachable!(),
    }
}

/// Whether a field path (`steps[0].capture[1].name`, `endpoints.token`) starts at a member.
pub fn names_a_member(field: &str) -> bool {
    let top = field.split(['.', '[']).next().unwrap_or("");
    members().iter().any(|m| m == top)
}

/// A profile's JSON text: read (any member of the wrong type named) and checked, every problem
/// on a member of the profile.
pub fn object(bytes: &[u8]) {
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    match json_object::read::<ProfileConfig>(&m) {
        Ok(config) => {
            if let Err(e) = config.validate() {
                assert!(!e.fields.is_empty(), "{}", e.message);
                for f in &e.fields {
                    assert!(
                        names_a_member(&f.field),
                        "{} is not a member: {}",
                        f.field,
                        f.message
                    );
                }
            }
        }
        Err(wrong) => assert!(m.contains_key(&wrong.member), "{wrong:?}"),
    }
}

pub fn member_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        members()
            .into_iter()
            .map(|m| &*Box::leak(m.into_boxed_str()))
            .collect()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_profile_object(m in input::object(member_names())) {
        object(Value::Object(m).to_string().as_bytes());
    }

    #[test]
    fn a_valid_profile_with_one_member_changed(
        (m, _name) in input::with_odd_field(
            serde_json::from_value(serde_json::json!({
                "name": "cc", "client_id": "abc", "grant": "client_credentials",
                "endpoints": {"token": "https://op.example/token"},
            })).unwrap(),
            member_names(),
        )
    ) {
        object(Value::Object(m).to_string().as_bytes());
    }
}
