//! Unguessable values: codes, tokens, request ids, key ids.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::distributions::Alphanumeric;
use rand::{Rng, RngCore};

/// `bytes` random bytes, base64url without padding.
pub(crate) fn url_safe(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// `len` random ASCII letters and digits, the shape of gateway (Apigee) tokens.
pub(crate) fn alphanumeric(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
