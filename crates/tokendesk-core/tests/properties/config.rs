//! The one proptest configuration of the suite.

use proptest::test_runner::Config;

/// Cases per property in CI; `PROPTEST_CASES` overrides it (the long run sets 20,000).
pub const CI_CASES: u32 = 256;

/// `CI_CASES` (or `PROPTEST_CASES`) cases, no regression files: inputs that once failed are kept
/// in the corpus (`tests/corpus/`), which a plain test runs through the same checks.
pub fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(CI_CASES);
    Config {
        cases,
        failure_persistence: None,
        // Shrinking a failure stays quick; the minimal input goes to the corpus by hand.
        max_shrink_iters: 4096,
        ..Config::default()
    }
}
