//! The core is everything that is not a window: it must never depend on tauri (or the webview
//! stack below it), directly or through another crate.

use std::process::Command;

#[test]
fn the_core_never_depends_on_tauri() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "tokendesk-core",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"oauth2") && crates.len() > 50,
        "the tree was read: {}",
        crates.len()
    );
    let windowing: Vec<&&str> = crates
        .iter()
        .filter(|c| c.starts_with("tauri") || ["wry", "tao", "webkit2gtk", "gtk"].contains(c))
        .collect();
    assert!(
        windowing.is_empty(),
        "tokendesk-core depends on {windowing:?}"
    );
}
