//! The regression corpus: every input that ever failed a property, run through the same check
//! by a plain test on every run. `tests/corpus/<parser>/<name>` holds one input, as raw bytes;
//! `<parser>` picks the check below. An input that fails a property (proptest prints the
//! minimal one) is saved there with the fix that makes it pass.

use std::path::Path;

/// A parser's check, of the raw bytes or of them as text.
enum Check {
    Bytes(fn(&[u8])),
    Text(fn(&str)),
}

impl Check {
    fn run(&self, bytes: &[u8]) {
        match self {
            Check::Bytes(check) => check(bytes),
            Check::Text(check) => check(&String::from_utf8_lossy(bytes)),
        }
    }
}

fn check_for(parser: &str) -> Option<Check> {
    use Check::{Bytes, Text};
    Some(match parser {
        "token_body" => Bytes(crate::token_response::body),
        "form_body" => Bytes(crate::token_response::form),
        "error_body" => Bytes(crate::error_body::body),
        "device_answer" => Bytes(crate::device::authorization),
        "discovery" => Bytes(crate::discovery::document),
        "issuer" => Text(crate::discovery::issuer),
        "jwt" => Text(crate::jwt::decode),
        "jwks" => Bytes(crate::jwt::jwks),
        "id_token" => Text(crate::id_token::forged),
        "jarm" => Text(crate::jarm::response),
        "dpop_target" => Text(crate::dpop::target),
        "www_authenticate" => Text(crate::dpop::challenge),
        "dpop_nonce_body" => Bytes(crate::dpop::nonce_body),
        "redirect_uri" => Text(crate::redirect::target),
        "redirect_url" => Text(crate::redirect::callback),
        "agent_line" => Text(crate::agent_request::line),
        "profile_import" => Text(crate::profile_import::text),
        "foreign_import" => Text(crate::foreign_import::text),
        "profile_config" => Bytes(crate::profile_config::object),
        "template" => Text(crate::template::text),
        _ => return None,
    })
}

#[test]
fn every_input_that_ever_failed_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut run = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root).unwrap().flatten().collect();
    dirs.sort_by_key(|d| d.file_name());
    for dir in dirs.into_iter().filter(|d| d.path().is_dir()) {
        let parser = dir.file_name().to_string_lossy().into_owned();
        let check = check_for(&parser)
            .unwrap_or_else(|| panic!("tests/corpus/{parser}: no such parser in corpus.rs"));
        let mut files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        files.sort_by_key(|f| f.file_name());
        for file in files {
            let bytes = std::fs::read(file.path()).unwrap();
            let name = file.file_name().to_string_lossy().into_owned();
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check.run(&bytes)));
            assert!(
                outcome.is_ok(),
                "tests/corpus/{parser}/{name} fails its property again"
            );
            run += 1;
        }
    }
    assert!(run > 0, "the corpus is empty");
}
