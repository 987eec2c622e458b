//! Variables of imported collections: `{{name}}` (Postman, Bruno) and `{{ _.name }}` (Insomnia's
//! Nunjucks), resolved through scopes where the inner one wins.

/// How a file writes a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `{{name}}` (Postman, Bruno).
    Mustache,
    /// `{{ _.name }}`, `{{ name }}`, `{{ _['name'] }}` (Insomnia).
    Nunjucks,
}

/// Variables in scopes: later layers override earlier ones.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    layers: Vec<Vec<(String, String)>>,
}

/// How deep variables may refer to variables.
const DEPTH: usize = 8;

impl Vars {
    pub fn new() -> Self {
        Self::default()
    }

    /// These variables with one more layer on top.
    pub fn with(&self, layer: &[(String, String)]) -> Self {
        let mut v = self.clone();
        if !layer.is_empty() {
            v.layers.push(layer.to_vec());
        }
        v
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.layers
            .iter()
            .rev()
            .find_map(|l| l.iter().rev().find(|(k, _)| k == name))
            .map(|(_, v)| v.as_str())
    }

    /// The text with its variables replaced; the names not defined are pushed to `unresolved`
    /// and stay as written.
    pub fn resolve(&self, text: &str, style: Style, unresolved: &mut Vec<String>) -> String {
        self.resolve_at(text, style, unresolved, DEPTH)
    }

    fn resolve_at(
        &self,
        text: &str,
        style: Style,
        unresolved: &mut Vec<String>,
        depth: usize,
    ) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start + 2..].find("}}") else {
                break;
            };
            out.push_str(&rest[..start]);
            let whole = &rest[start..start + 2 + len + 2];
            let name = name_of(&rest[start + 2..start + 2 + len], style);
            match self.get(&name) {
                Some(v) if depth > 0 => {
                    out.push_str(&self.resolve_at(v, style, unresolved, depth - 1))
                }
                _ => {
                    if !unresolved.contains(&name) {
                        unresolved.push(name);
                    }
                    out.push_str(whole);
                }
            }
            rest = &rest[start + 2 + len + 2..];
        }
        out.push_str(rest);
        out
    }
}

fn name_of(inner: &str, style: Style) -> String {
    let inner = inner.trim();
    match style {
        Style::Mustache => inner.to_owned(),
        Style::Nunjucks => {
            let inner = inner.strip_prefix("_.").unwrap_or(inner);
            if let Some(quoted) = inner.strip_prefix("_[").and_then(|s| s.strip_suffix(']')) {
                quoted.trim_matches(['\'', '"']).to_owned()
            } else {
                inner.to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn inner_scopes_win_and_variables_nest() {
        let v = Vars::new()
            .with(&layer(&[
                ("host", "outer.example"),
                ("base", "https://{{host}}"),
            ]))
            .with(&layer(&[("host", "inner.example")]));
        let mut missing = Vec::new();
        assert_eq!(
            v.resolve("{{base}}/token?x={{nope}}", Style::Mustache, &mut missing),
            "https://inner.example/token?x={{nope}}"
        );
        assert_eq!(
            missing,
            ["nope"],
            "the undefined name is reported, kept as written"
        );
    }

    #[test]
    fn nunjucks_forms() {
        let v = Vars::new().with(&layer(&[("a", "1"), ("b.c", "2")]));
        let mut missing = Vec::new();
        assert_eq!(
            v.resolve(
                "{{ _.a }}-{{a}}-{{ _['a'] }}-{{ _.b.c }}",
                Style::Nunjucks,
                &mut missing
            ),
            "1-1-1-2"
        );
        assert!(missing.is_empty());
    }

    #[test]
    fn a_loop_stops() {
        let v = Vars::new().with(&layer(&[("a", "{{a}}")]));
        let mut missing = Vec::new();
        let out = v.resolve("{{a}}", Style::Mustache, &mut missing);
        assert_eq!(
            out, "{{a}}",
            "a self-reference ends as written after the depth limit"
        );
    }
}
