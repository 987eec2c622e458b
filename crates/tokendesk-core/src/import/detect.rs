//! Which tool wrote a file: told by its content; a known format in a version TokenDesk does not
//! read is an error saying what to export instead.

use serde_json::Value;

use super::Format;
use crate::error::{Error, ErrorCode, Result};

/// JSON, else YAML, as a JSON value.
pub(crate) fn parse_document(text: &str) -> Result<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Ok(v),
        Err(json_err) => {
            let looks_json = text.trim_start().starts_with(['{', '[']);
            serde_norway::from_str::<Value>(text).map_err(|yaml_err| {
                Error::new(
                    ErrorCode::InvalidInput,
                    if looks_json {
                        format!("not valid JSON ({json_err}).")
                    } else {
                        format!(
                            "neither JSON nor YAML ({yaml_err}). Import a Postman, Insomnia, \
                             OpenAPI or TokenDesk export file, or a Bruno collection folder."
                        )
                    },
                )
            })
        }
    }
}

pub(super) fn wrong(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidInput, message)
}

/// The format of a document, by its content; a known format in a version TokenDesk does not
/// read is an error saying how to export the one it does.
pub fn detect(doc: &Value) -> Result<Format> {
    let s = |key: &str| doc.get(key).and_then(Value::as_str);
    if s("format").is_some_and(|f| f.starts_with("tokendesk-profiles/")) {
        return Ok(Format::Tokendesk);
    }
    if let Some(schema) = doc.pointer("/info/schema").and_then(Value::as_str) {
        if schema.contains("/collection/v2.1") {
            return Ok(Format::Postman);
        }
        if schema.contains("/collection/v2.0") {
            return Err(wrong(
                "Postman collection v2.0 is not supported: export as v2.1 from Postman \
                 (Collection → Export → v2.1).",
            ));
        }
        if schema.contains("getpostman.com") || schema.contains("postman") {
            return Err(wrong(format!(
                "Postman collection schema {schema} is not supported: export as v2.1 from \
                 Postman (Collection → Export → v2.1)."
            )));
        }
    }
    if doc.get("requests").is_some() && doc.get("order").is_some() {
        return Err(wrong(
            "Postman collection v1 is not supported: open it in Postman and export as v2.1 \
             (Collection → Export → v2.1).",
        ));
    }
    if doc.get("_postman_variable_scope").is_some() {
        return Err(wrong(
            "this is a Postman environment, not a collection: import the collection and name \
             this file with --environment.",
        ));
    }
    if s("_type") == Some("export") {
        return match doc.get("__export_format").and_then(Value::as_u64) {
            Some(4) => Ok(Format::Insomnia),
            other => Err(wrong(format!(
                "Insomnia export format {} is not supported: export again from a current \
                 Insomnia (Application → Preferences → Data → Export), as JSON (v4) or YAML (v5).",
                other.map_or("(none)".to_owned(), |v| v.to_string())
            ))),
        };
    }
    if let Some(t) = s("type").filter(|t| t.contains(".insomnia.rest/")) {
        return if t.starts_with("collection.insomnia.rest/5.") {
            Ok(Format::Insomnia)
        } else if t.starts_with("collection.insomnia.rest/") {
            Err(wrong(format!(
                "Insomnia \"{t}\" is not supported: export the collection from a current \
                 Insomnia as YAML v5 (type collection.insomnia.rest/5.0) or JSON v4."
            )))
        } else {
            Err(wrong(format!(
                "this Insomnia file is a \"{t}\", not a request collection: export the \
                 collection (type collection.insomnia.rest/5.0)."
            )))
        };
    }
    if let Some(v) = doc.get("openapi") {
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        return if v.starts_with("3.") {
            Ok(Format::Openapi)
        } else {
            Err(wrong(format!(
                "OpenAPI {v} is not supported: TokenDesk reads OpenAPI 3.0, 3.1 and 3.2."
            )))
        };
    }
    if doc.get("swagger").is_some() {
        return Err(wrong(
            "Swagger (OpenAPI 2.0) is not supported: convert the document to OpenAPI 3 \
             (for example with swagger2openapi) and import that.",
        ));
    }
    Err(wrong(
        "not a format TokenDesk imports: a Postman collection v2.1, an Insomnia export (v4 \
         JSON or v5 YAML), an OpenAPI 3 document, a Bruno collection folder or a TokenDesk \
         export.",
    ))
}
