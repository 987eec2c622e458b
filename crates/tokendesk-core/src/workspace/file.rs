//! One profile file of a workspace: TOML, the profile's stable `id` first, then what differs from
//! the defaults, in the order of [`ProfileConfig`]; secret *sources* only, never values. Read with
//! the line and column of what is wrong; written back in place, keeping comments and key order.

use serde::Deserialize;
use serde_json::{Map, Value};
use toml_edit::{DocumentMut, Item, TableLike};

use crate::profile::{ProfileConfig, ProfileId};

/// A profile read from its file.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileFile {
    pub id: ProfileId,
    pub config: ProfileConfig,
}

/// What is wrong with a file, where (1-based line and column) when it can be pointed at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct FileProblem {
    #[ts(optional = nullable)]
    pub line: Option<usize>,
    #[ts(optional = nullable)]
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

fn at(text: &str, span: Option<std::ops::Range<usize>>, message: String) -> FileProblem {
    let (line, column) = match span {
        Some(s) => {
            let before = &text[..s.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            (Some(line), Some(column))
        }
        None => (None, None),
    };
    FileProblem {
        line,
        column,
        message,
    }
}

/// Reads a profile file; every problem found is returned (a syntax error stops at the first).
pub fn parse(text: &str) -> Result<ProfileFile, Vec<FileProblem>> {
    let doc = match toml_edit::Document::parse(text) {
        Ok(d) => d,
        Err(e) => return Err(vec![at(text, e.span(), e.message().trim().to_owned())]),
    };
    // Parsed once; the profile read from the parsed values. Only a value of the wrong type is
    // read again, through toml_edit's deserializer, for its line and column.
    let raw = match Value::deserialize(toml_edit::de::Deserializer::from(doc.clone())) {
        Ok(v) => v,
        Err(e) => return Err(vec![at(text, e.span(), e.message().trim().to_owned())]),
    };
    let config: ProfileConfig = match serde_json::from_value(raw.clone()) {
        Ok(c) => c,
        Err(json) => {
            let e = toml_edit::de::from_str::<ProfileConfig>(text).err();
            return Err(vec![match e {
                Some(e) => at(text, e.span(), e.message().trim().to_owned()),
                None => at(text, None, json.to_string()),
            }]);
        }
    };
    let mut problems = Vec::new();
    let id = match raw.get("id") {
        Some(Value::String(id)) if valid_id(id) => Some(ProfileId::from(id.as_str())),
        Some(_) => {
            problems.push(at(
                text,
                key_span(&doc, &["id"]),
                "id must be a string of letters, digits, - and _ (at most 64), unique in the \
                 workspace."
                    .into(),
            ));
            None
        }
        None => {
            problems.push(FileProblem {
                line: None,
                column: None,
                message: format!(
                    "No id: add `id = \"{}\"` at the top; it keys the profile's tokens and \
                     history on each machine, so keep it when you rename the profile.",
                    ProfileId::random()
                ),
            });
            None
        }
    };
    let known = serde_json::to_value(&config).unwrap_or(Value::Null);
    let mut unknown = Vec::new();
    if let Value::Object(raw) = &raw {
        let fields: Map<String, Value> = raw
            .iter()
            .filter(|(k, _)| k.as_str() != "id")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        unknown_keys(
            &Value::Object(fields),
            &known,
            &mut Vec::new(),
            &mut unknown,
        );
    }
    for path in unknown {
        let parts: Vec<&str> = path.iter().map(String::as_str).collect();
        problems.push(at(
            text,
            key_span(&doc, &parts),
            format!(
                "Unknown field `{}`: check its spelling (a newer TokenDesk may know it).",
                path.join(".")
            ),
        ));
    }
    if let Err(e) = config.validate() {
        for f in &e.fields {
            let parts: Vec<&str> = f.field.split('.').collect();
            problems.push(at(
                text,
                key_span(&doc, &parts),
                format!("{}: {}", f.field, f.message),
            ));
        }
        if e.fields.is_empty() {
            problems.push(at(text, None, e.message));
        }
    }
    match id {
        Some(id) if problems.is_empty() => Ok(ProfileFile { id, config }),
        _ => Err(problems),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Keys of `raw` (the file) that `known` (the profile as read back) does not have.
fn unknown_keys(raw: &Value, known: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match (raw, known) {
        (Value::Object(r), Value::Object(k)) => {
            for (key, value) in r {
                path.push(key.clone());
                match k.get(key) {
                    Some(kv) => unknown_keys(value, kv, path, out),
                    None => out.push(path.clone()),
                }
                path.pop();
            }
        }
        (Value::Array(r), Value::Array(k)) => {
            for (i, (rv, kv)) in r.iter().zip(k).enumerate() {
                path.push(i.to_string());
                unknown_keys(rv, kv, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn key_span(doc: &toml_edit::Document<&str>, path: &[&str]) -> Option<std::ops::Range<usize>> {
    let mut table: &dyn TableLike = doc.as_table();
    let mut span = None;
    for (i, part) in path.iter().enumerate() {
        let (key, item) = table.get_key_value(part)?;
        span = key.span().or(span);
        if i + 1 < path.len() {
            table = match item {
                Item::ArrayOfTables(a) => {
                    let n: usize = path.get(i + 1)?.parse().ok()?;
                    return a.get(n).and_then(|t| {
                        path.get(i + 2)
                            .and_then(|k| t.key(k))
                            .and_then(|k| k.span())
                            .or(span.clone())
                    });
                }
                other => other.as_table_like()?,
            };
        }
    }
    span
}

/// The profile as a new file's text.
pub fn render(id: &ProfileId, config: &ProfileConfig) -> String {
    document(id, config).to_string()
}

/// The file's text with the profile's new settings: unchanged keys keep their place, comments
/// and formatting; changed values are replaced in place; new keys are appended to their table.
pub fn update(text: &str, id: &ProfileId, config: &ProfileConfig) -> Result<String, FileProblem> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| at(text, e.span(), e.message().trim().to_owned()))?;
    let fresh = document(id, config);
    merge(doc.as_table_mut(), fresh.as_table());
    Ok(doc.to_string())
}

fn merge(old: &mut dyn TableLike, new: &dyn TableLike) {
    let gone: Vec<String> = old
        .iter()
        .map(|(k, _)| k.to_owned())
        .filter(|k| !new.contains_key(k))
        .collect();
    for k in gone {
        old.remove(&k);
    }
    for (k, n) in new.iter() {
        match old.get_mut(k) {
            Some(o) if o.is_table_like() && n.is_table_like() && !o.is_inline_table() => {
                if let (Some(ot), Some(nt)) = (o.as_table_like_mut(), n.as_table_like()) {
                    merge(ot, nt);
                }
            }
            Some(o) if as_json(o) == as_json(n) => {}
            Some(o) => match (o.as_value().map(|v| v.decor().clone()), n.clone()) {
                (Some(decor), Item::Value(mut v)) => {
                    *v.decor_mut() = decor;
                    *o = Item::Value(v);
                }
                (_, item) => *o = item,
            },
            None => {
                old.insert(k, n.clone());
            }
        }
    }
}

fn as_json(item: &Item) -> Option<Value> {
    let mut doc = DocumentMut::new();
    doc.insert("v", item.clone());
    let mut v: Value = toml_edit::de::from_document(doc).ok()?;
    v.get_mut("v").map(Value::take)
}

fn document(id: &ProfileId, config: &ProfileConfig) -> DocumentMut {
    let mut fields = Map::new();
    fields.insert("id".into(), Value::String(id.to_string()));
    let value = serde_json::to_value(config).unwrap_or(Value::Null);
    let default = serde_json::to_value(ProfileConfig::default()).unwrap_or(Value::Null);
    if let (Value::Object(v), Value::Object(d)) = (value, default) {
        for (k, v) in v {
            // Name and environment always say what the file is; the rest only when set.
            let keep = matches!(k.as_str(), "name" | "environment");
            if let Some(v) = pruned(v, d.get(&k), keep) {
                fields.insert(k, v);
            }
        }
    }
    let mut doc = toml_edit::ser::to_document(&fields).unwrap_or_default();
    expand(doc.as_table_mut());
    doc
}

/// `value` without nulls and without what equals the default; `None` when nothing is left.
fn pruned(value: Value, default: Option<&Value>, keep: bool) -> Option<Value> {
    if !keep && Some(&value) == default {
        return None;
    }
    match value {
        Value::Null => None,
        Value::Object(m) => {
            let d = default.and_then(Value::as_object);
            let m: Map<String, Value> = m
                .into_iter()
                .filter_map(|(k, v)| {
                    let dv = d.and_then(|d| d.get(&k));
                    // Inside a tagged source, `from` says which it is even when default.
                    let keep = k == "from";
                    pruned(v, dv, keep).map(|v| (k, v))
                })
                .collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        Value::Array(a) => Some(Value::Array(a.into_iter().map(strip_nulls).collect())),
        v => Some(v),
    }
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        v => v,
    }
}

/// Inline tables as `[table]` sections and arrays of tables as `[[array]]`: easier to read and
/// to merge in git.
fn expand(table: &mut toml_edit::Table) {
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_owned()).collect();
    for k in keys {
        let Some(item) = table.get_mut(&k) else {
            continue;
        };
        let taken = std::mem::take(item);
        let mut expanded = match taken {
            Item::Value(toml_edit::Value::InlineTable(t)) => Item::Table(t.into_table()),
            Item::Value(toml_edit::Value::Array(a))
                if !a.is_empty() && a.iter().all(|v| v.is_inline_table()) =>
            {
                let mut tables = toml_edit::ArrayOfTables::new();
                for v in a {
                    if let toml_edit::Value::InlineTable(t) = v {
                        tables.push(t.into_table());
                    }
                }
                Item::ArrayOfTables(tables)
            }
            other => other,
        };
        match &mut expanded {
            Item::Table(t) => {
                expand(t);
                // A table of tables only (`[secrets]`) needs no header of its own.
                let only_tables = t.iter().all(|(_, i)| i.is_table());
                t.set_implicit(only_tables);
            }
            Item::ArrayOfTables(a) => a.iter_mut().for_each(expand),
            _ => {}
        }
        *item = expanded;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{AuthMethod, Endpoints, GrantKind, Param};
    use crate::secret_source::SecretSource;

    fn config() -> ProfileConfig {
        let mut c = ProfileConfig {
            name: "gateway".into(),
            environment: "test".into(),
            endpoints: Endpoints {
                token: Some("https://api.example/oauth/token".into()),
                ..Default::default()
            },
            client_id: "my-app".into(),
            auth_method: AuthMethod::ClientSecretPost,
            grant: GrantKind::ClientCredentials,
            scopes: vec!["accounts".into()],
            headers: vec![Param::new("x-api-key", "my-app")],
            ..Default::default()
        };
        c.secrets.client_secret = SecretSource::Command {
            argv: vec!["pass".into(), "show".into(), "team/op/client".into()],
            timeout_secs: None,
        };
        c
    }

    #[test]
    fn a_profile_round_trips_through_its_file_with_only_what_is_set() {
        let id = ProfileId::from("gw-1");
        let text = render(&id, &config());
        assert!(
            text.starts_with("id = \"gw-1\"\nname = \"gateway\""),
            "{text}"
        );
        assert!(text.contains("[secrets.client_secret]"), "{text}");
        assert!(!text.contains("[secrets]\n"), "{text}");
        assert!(text.contains("[[headers]]"), "{text}");
        assert!(!text.contains("refresh"), "defaults are left out: {text}");
        let back = parse(&text).unwrap();
        assert_eq!(back.id, id);
        assert_eq!(back.config, config());
    }

    #[test]
    fn an_edit_keeps_comments_and_key_order() {
        let text = "# The team's gateway client.\nid = \"gw-1\"\nname = \"gateway\" # shown in the list\nenvironment = \"test\"\nclient_id = \"my-app\"\nauth_method = \"client_secret_post\"\ngrant = \"client_credentials\"\nscopes = [\"accounts\"]\n\n[endpoints]\n# from the portal\ntoken = \"https://api.example/oauth/token\"\n";
        let mut c = parse(text).unwrap().config;
        c.client_id = "other-app".into();
        c.api_url = Some("https://api.example".into());
        let out = update(text, &ProfileId::from("gw-1"), &c).unwrap();
        assert!(out.starts_with("# The team's gateway client.\nid = \"gw-1\"\nname = \"gateway\" # shown in the list\n"), "{out}");
        assert!(
            out.contains("client_id = \"other-app\"\nauth_method"),
            "in place: {out}"
        );
        assert!(out.contains("# from the portal\ntoken ="), "{out}");
        assert_eq!(parse(&out).unwrap().config, c);
    }

    #[test]
    fn problems_are_named_with_line_and_column() {
        let e = parse("id = \"a\"\nname = \"x\"\nclient_id = \n").unwrap_err();
        assert_eq!(e[0].line, Some(3), "{e:?}");

        let e = parse("id = \"a\"\nname = \"x\"\nclient_id = \"c\"\ngrant = \"client_credentials\"\nclient_secrett = \"s\"\n").unwrap_err();
        let unknown = e
            .iter()
            .find(|p| p.message.contains("client_secrett"))
            .unwrap();
        assert_eq!((unknown.line, unknown.column), (Some(5), Some(1)));
        assert!(
            e.iter()
                .any(|p| p.message.contains("token endpoint") || p.message.contains("issuer")),
            "the missing endpoint is named: {e:?}"
        );

        let e =
            parse("name = \"x\"\nclient_id = \"c\"\nissuer = \"https://a.example\"\n").unwrap_err();
        assert!(e[0].message.starts_with("No id"), "{e:?}");

        let e = parse("id = \"a\"\nname = \"x\"\nclient_id = \"c\"\nissuer = \"https://a.example\"\n[endpoints]\ntokn = \"https://a.example/t\"\n").unwrap_err();
        assert_eq!(e[0].line, Some(6), "{e:?}");
        assert!(e[0].message.contains("endpoints.tokn"), "{e:?}");
    }
}
