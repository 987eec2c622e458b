//! Identifiers compared for security — issuers, audiences, client ids, subjects — follow one
//! rule: simple string comparison, as OpenID Connect Core §3.1.3.7, RFC 9207 §2.4 and RFC 8414
//! §3.3 ask. No case folding, no trailing-slash trimming, no normalisation: `https://op/x/` is
//! not `https://op/x`, and `https://OP` is not `https://op`. Every such comparison in TokenDesk
//! goes through here.

/// Whether two identifiers are the same.
pub fn same(a: &str, b: &str) -> bool {
    a == b
}

/// Whether `want` is one of `list`.
pub fn listed<S: AsRef<str>>(list: &[S], want: &str) -> bool {
    list.iter().any(|x| same(x.as_ref(), want))
}

/// Whether two URLs differ only in a trailing slash: never a match, but worth telling the user
/// (they typed `https://op/` for an issuer that calls itself `https://op`).
pub fn differ_only_by_trailing_slash(a: &str, b: &str) -> bool {
    !same(a, b) && a.trim_end_matches('/') == b.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_compare_exactly() {
        assert!(same("https://op.example/x", "https://op.example/x"));
        assert!(!same("https://op.example/x/", "https://op.example/x"));
        assert!(!same("https://OP.example", "https://op.example"));
        assert!(!same("app ", "app"));
        assert!(listed(&["a", "app"], "app"));
        assert!(!listed(&["App"], "app"));
        assert!(differ_only_by_trailing_slash("https://op/", "https://op"));
        assert!(!differ_only_by_trailing_slash("https://op", "https://op"));
        assert!(!differ_only_by_trailing_slash("https://op/a", "https://op"));
    }
}
