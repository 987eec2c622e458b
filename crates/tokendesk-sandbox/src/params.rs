//! Form and query parameters (`application/x-www-form-urlencoded`), parsed by hand so that
//! every problem becomes an OAuth error rather than a framework rejection.

use axum::http::{HeaderMap, header};

#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `a=1&b=2`. A parameter that appears twice is an error (RFC 6749 §3.1); the
    /// error names it.
    pub(crate) fn parse(raw: &[u8]) -> Result<Params, String> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(raw) {
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(format!("parameter `{name}` is repeated"));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Params(pairs))
    }

    /// Parses a form body, refusing other content types.
    pub(crate) fn from_form(headers: &HeaderMap, body: &[u8]) -> Result<Params, String> {
        if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
            let is_form = content_type
                .to_str()
                .ok()
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| {
                    v.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                });
            if !is_form {
                return Err(
                    "send the parameters as an application/x-www-form-urlencoded body".to_owned(),
                );
            }
        }
        Params::parse(body)
    }

    /// A parameter's value; a parameter sent without a value counts as absent (RFC 6749 §3.1).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Sets a parameter, replacing the one of the same name.
    pub(crate) fn set(&mut self, name: &str, value: String) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    /// The names of the parameters sent other than `allowed`, in request order.
    pub(crate) fn names_except(&self, allowed: &[&str]) -> Vec<&str> {
        self.0
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !allowed.contains(n))
            .collect()
    }

    pub(crate) fn require(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("missing required parameter `{name}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        let err = Params::parse(b"a=1&a=2").expect_err("repeated parameter");
        assert!(err.contains("`a`"), "the error names the parameter: {err}");
    }

    #[test]
    fn empty_values_count_as_absent_and_values_are_decoded() {
        let p = Params::parse(b"a=&b=x+y%21").expect("parses");
        assert_eq!(p.get("a"), None);
        assert_eq!(p.get("b"), Some("x y!"));
        assert!(p.require("a").is_err());
    }
}
