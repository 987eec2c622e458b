//! A JSON object read into a type whose every field is optional (`#[serde(default)]`), naming
//! the member at fault when one is of the wrong type: serde_json's `from_value` says "invalid
//! type: integer `5`, expected a string" and not which member it was.

use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde_json::{Map, Value};

/// A JSON object whose members must be unique, read with `deserialize_map(UniqueMembers)`. An
/// object that names a member twice (`access_token` twice in a token response, `sub` twice in an
/// ID token) is ambiguous: one reader takes the first value, another the last (RFC 8259 §4
/// leaves it open), so a proxy, a log and TokenDesk could disagree on what was said. Such an
/// object is refused, the member named, rather than read either way (RFC 7515 §4 and RFC 7519
/// §4 allow a JWT parser to reject duplicates).
pub struct UniqueMembers;

impl<'de> serde::de::Visitor<'de> for UniqueMembers {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut members: A,
    ) -> Result<Self::Value, A::Error> {
        let mut map = Map::new();
        while let Some((name, value)) = members.next_entry::<String, Value>()? {
            if map.contains_key(&name) {
                return Err(A::Error::custom(format!(
                    "{name} appears twice, an ambiguous answer that TokenDesk does not guess at \
                     (one reader takes the first value, another the last); whoever made it must \
                     name each member once"
                )));
            }
            map.insert(name, value);
        }
        Ok(map)
    }
}

/// A JSON object from bytes, every member named once.
pub fn unique(bytes: &[u8]) -> Result<Map<String, Value>, serde_json::Error> {
    serde::Deserializer::deserialize_map(
        &mut serde_json::Deserializer::from_slice(bytes),
        UniqueMembers,
    )
}

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

    #[test]
    fn a_member_named_twice_is_refused_by_name() {
        let e = unique(br#"{"sub":"alice","aud":"x","sub":"mallory"}"#).unwrap_err();
        assert!(e.to_string().contains("sub appears twice"), "{e}");
        let m = unique(br#"{"sub":"alice","nested":{"sub":"ok"}}"#).unwrap();
        assert_eq!(m["sub"], "alice");
        assert!(unique(b"[1]").is_err());
    }
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
