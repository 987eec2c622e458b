//! The regression corpus: every input that ever failed a property, run through the same check
//! by a plain test on every run. `tests/corpus/<parser>/<name>` holds one input, as raw bytes;
//! `<parser>` picks the check below. An input that fails a property (proptest prints the
//! minimal one) is saved there with the fix that makes it pass.

use std::path::Path;

type Check = fn(&[u8]);

fn text(check: fn(&str)) -> impl Fn(&[u8]) {
    move |bytes| check(&String::from_utf8_lossy(bytes))
}

fn check_for(parser: &str) -> Option<Box<dyn Fn(&[u8])>> {
    let raw = |c: Check| -> Option<Box<dyn Fn(&[u8])>> { Some(Box::new(c)) };
    let txt = |c: fn(&str)| -> Option<Box<dyn Fn(&[u8])>> { Some(Box::new(text(c))) };
    match parser {
        "token_body" => raw(crate::token_response::body),
        "form_body" => raw(crate::token_response::form),
        "error_body" => raw(crate::error_body::body),
        "device_answer" => raw(crate::device::authorization),
        "discovery" => raw(crate::discovery::document),
        "issuer" => txt(crate::discovery::issuer),
        "jwt" => txt(crate::jwt::decode),
        "jwks" => raw(crate::jwt::jwks),
        "id_token" => txt(crate::id_token::forged),
        "jarm" => txt(crate::jarm::response),
        "dpop_target" => txt(crate::dpop::target),
        "www_authenticate" => txt(crate::dpop::challenge),
        "dpop_nonce_body" => raw(crate::dpop::nonce_body),
        "redirect_uri" => txt(crate::redirect::target),
        "redirect_url" => txt(crate::redirect::callback),
        "agent_line" => txt(crate::agent_request::line),
        "profile_import" => txt(crate::profile_import::text),
        "profile_config" => raw(crate::profile_config::object),
        "template" => txt(crate::template::text),
        _ => None,
    }
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
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
            assert!(outcome.is_ok(), "tests/corpus/{parser}/{name} fails its property again");
            run += 1;
        }
    }
    assert!(run > 0, "the corpus is empty");
}
