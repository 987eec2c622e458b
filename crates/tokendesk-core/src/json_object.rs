//! A JSON object read into a type whose every field is optional (`#[serde(default)]`), naming
//! the member at fault when one is of the wrong type: serde_json's `from_value` says "invalid
//! type: integer `5`, expected a string" and not which member it was.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A member of the wrong type (`member` empty when no single member is to blame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongMember {
    pub member: String,
    pub why: String,
}

/// The object as `T`, or the first member that `T` cannot take, read on its own.
pub fn read<T: DeserializeOwned>(object: &Map<String, Value>) -> Result<T, WrongMember> {
    serde_json::from_value(Value::Object(object.clone())).map_err(|whole| {
        object
            .iter()
            .find_map(|(name, value)| {
                let alone = Map::from_iter([(name.clone(), value.clone())]);
                serde_json::from_value::<T>(Value::Object(alone))
                    .err()
                    .map(|e| WrongMember {
                        member: name.clone(),
                        why: e.to_string(),
                    })
            })
            .unwrap_or(WrongMember {
                member: String::new(),
                why: whole.to_string(),
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Doc {
        #[allow(dead_code)]
        name: String,
        #[allow(dead_code)]
        count: Option<u32>,
    }

    #[test]
    fn the_member_of_the_wrong_type_is_named() {
        let object = |v: Value| v.as_object().unwrap().clone();
        let e = read::<Doc>(&object(json!({"name": "a", "count": "many", "x": 1}))).unwrap_err();
        assert_eq!(e.member, "count");
        assert!(e.why.contains("expected u32"), "{}", e.why);
        assert!(read::<Doc>(&object(json!({"name": "a", "unknown": [1]}))).is_ok());
    }
}
