//! The Linux packages' configuration agrees with itself and with what it names: one version
//! everywhere, the AppStream id and desktop entry the bundler makes, every icon at the size its
//! name says, and the generated man pages and completions staged under the names the bundler's
//! file lists expect (scripts/package.sh builds the packages; scripts/package-test.sh installs one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap_complete::Shell;
use serde_json::Value;
use tokendesk_cli::commands::generate;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn config() -> Value {
    serde_json::from_str(&read("src-tauri/tauri.conf.json")).unwrap()
}

/// The package name the bundler is given (packaging/tauri.packages.toml's productName).
fn package_name() -> String {
    let toml = read("packaging/tauri.packages.toml");
    toml.lines()
        .find_map(|l| l.strip_prefix("productName = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("packaging/tauri.packages.toml sets productName")
        .to_owned()
}

fn files(kind: &str) -> BTreeMap<String, String> {
    serde_json::from_value(config()["bundle"]["linux"][kind]["files"].clone()).unwrap()
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        path.display()
    );
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn one_version_in_the_crates_the_app_config_and_the_metainfo() {
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(config()["version"], version, "tauri.conf.json's version");
    let metainfo = read("packaging/linux/dev.tokendesk.desktop.metainfo.xml");
    assert!(
        metainfo.contains(&format!("<release version=\"{version}\"")),
        "the AppStream metainfo describes release {version}: add a <release> when the version changes"
    );
}

#[test]
fn the_metainfo_names_the_app_id_and_the_desktop_entry_the_bundler_makes() {
    let id = config()["identifier"].as_str().unwrap().to_owned();
    let metainfo = read(&format!("packaging/linux/{id}.metainfo.xml"));
    assert!(metainfo.contains(&format!("<id>{id}</id>")));
    // The bundler names the desktop entry after the product name it is given.
    let desktop = format!("{}.desktop", package_name());
    assert!(
        metainfo.contains(&format!(
            "<launchable type=\"desktop-id\">{desktop}</launchable>"
        )),
        "the metainfo launches {desktop}"
    );
    for kind in ["deb", "rpm"] {
        assert_eq!(
            files(kind)
                .get(&format!("/usr/share/metainfo/{id}.metainfo.xml"))
                .map(String::as_str),
            Some(&*format!("../packaging/linux/{id}.metainfo.xml")),
            "the .{kind} installs the metainfo where AppStream looks"
        );
    }
    let main = config()["mainBinaryName"].as_str().unwrap().to_owned();
    assert!(
        metainfo.contains(&format!("<binary>{main}</binary>")),
        "the metainfo provides {main}"
    );
}

#[test]
fn every_hicolor_size_once_each_png_the_size_its_name_says() {
    let config = config();
    let icons: Vec<&str> = config["bundle"]["icon"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    // The first PNG is the window's own icon (tauri-codegen takes it); keep it small.
    assert_eq!(icons[0], "../icons/32x32.png");
    let mut sizes = Vec::new();
    for icon in icons.iter().filter(|i| i.ends_with(".png")) {
        let path = repo().join("src-tauri").join(icon);
        let (w, h) = png_size(&path);
        assert_eq!(w, h, "{icon} is square");
        // A "@2x" name would land in hicolor's 256x256@2 (scale 2) directory, not 256x256.
        assert!(!icon.contains('@'), "{icon}: hicolor wants plain sizes");
        let name = Path::new(icon).file_stem().unwrap().to_str().unwrap();
        if name != "icon" {
            assert_eq!(name, format!("{w}x{h}"), "{icon} is {w}x{h}");
        }
        sizes.push(w);
    }
    sizes.sort();
    assert_eq!(
        sizes,
        [16, 24, 32, 48, 64, 128, 256, 512],
        "each hicolor size once"
    );
    for other in ["../icons/icon.icns", "../icons/icon.ico"] {
        assert!(icons.contains(&other), "{other} for macOS and Windows");
        assert!(repo().join("src-tauri").join(other).is_file());
    }
}

#[test]
fn the_deb_and_the_rpm_install_the_same_files() {
    let (deb, rpm) = (files("deb"), files("rpm"));
    let only = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| -> Vec<String> {
        a.keys().filter(|k| !b.contains_key(*k)).cloned().collect()
    };
    // Debian and Fedora differ in where zsh completions and licences go, nothing else.
    assert_eq!(
        only(&deb, &rpm),
        [
            "/usr/share/doc/tokendesk/copyright",
            "/usr/share/zsh/vendor-completions/_tokendesk"
        ]
    );
    assert_eq!(
        only(&rpm, &deb),
        [
            "/usr/share/licenses/tokendesk/copyright",
            "/usr/share/zsh/site-functions/_tokendesk"
        ]
    );
    for (destination, source) in deb.iter().chain(&rpm) {
        if !source.starts_with("../packaging/stage/") {
            assert!(
                repo().join("src-tauri").join(source).is_file(),
                "{destination}: {source} is in the repository"
            );
        }
    }
}

#[test]
fn the_generated_files_are_staged_where_the_file_lists_take_them() {
    // scripts/package.sh stages `generate completions SHELL DIR` output in packaging/stage/completions.
    let deb = files("deb");
    for (shell, destination) in [
        (
            Shell::Bash,
            "/usr/share/bash-completion/completions/tokendesk",
        ),
        (Shell::Zsh, "/usr/share/zsh/vendor-completions/_tokendesk"),
        (
            Shell::Fish,
            "/usr/share/fish/vendor_completions.d/tokendesk.fish",
        ),
    ] {
        let staged = format!(
            "../packaging/stage/completions/{}",
            generate::completions(shell).name
        );
        assert_eq!(deb.get(destination), Some(&staged), "{shell}'s completions");
    }
    assert_eq!(
        deb.get("/usr/share/man/man1").map(String::as_str),
        Some("../packaging/stage/man1")
    );
    let pages = generate::man_pages().unwrap();
    assert!(pages.iter().any(|p| p.name == "tokendesk.1"));
    for program in ["tokendesk", "tokendesk-cli"] {
        assert_eq!(
            deb.get(&format!("/usr/bin/{program}")),
            Some(&format!("../packaging/stage/bin/{program}")),
            "the .deb installs {program}"
        );
    }
    let script = read("scripts/package.sh");
    for staged in [
        "generate man \"$stage/man1\"",
        "generate completions \"$shell\" \"$stage/completions\"",
    ] {
        assert!(
            script.contains(staged),
            "scripts/package.sh runs `{staged}`"
        );
    }
}

#[test]
fn the_desktop_entry_starts_the_app_and_matches_its_window() {
    let template = read("packaging/linux/tokendesk.desktop");
    for line in [
        "Name=TokenDesk",
        "Exec={{exec}}",
        "Icon={{icon}}",
        // The window's WM_CLASS is the program's name: docks match the window to the entry.
        "StartupWMClass={{exec}}",
        "Type=Application",
        "Terminal=false",
    ] {
        assert!(
            template.lines().any(|l| l == line),
            "the desktop entry has {line}"
        );
    }
    let config = config();
    for kind in ["deb", "rpm"] {
        assert_eq!(
            config["bundle"]["linux"][kind]["desktopTemplate"],
            "../packaging/linux/tokendesk.desktop"
        );
    }
}

#[test]
fn the_bundler_is_the_tauri_crates_own_release() {
    let lock = read("Cargo.lock");
    let tauri = lock
        .split("[[package]]")
        .find(|p| p.contains("\nname = \"tauri\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"').to_owned())
        .expect("tauri in Cargo.lock");
    let package: Value = serde_json::from_str(&read("packaging/package.json")).unwrap();
    assert_eq!(
        package["devDependencies"]["@tauri-apps/cli"], tauri,
        "packaging/package.json pins @tauri-apps/cli at the tauri crate's version"
    );
    let lockfile: Value = serde_json::from_str(&read("packaging/package-lock.json")).unwrap();
    assert_eq!(
        lockfile["packages"]["node_modules/@tauri-apps/cli"]["version"], tauri,
        "packaging/package-lock.json"
    );
}
