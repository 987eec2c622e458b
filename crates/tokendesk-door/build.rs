//! How the door, `tokendesk`, is linked.
//!
//! **Without a C library** (the `bare` feature, Linux x86-64, which the packages ship; built by
//! scripts/door.sh), the program has its own entry point and makes its system calls itself
//! (src/main.rs): `-nostartfiles -nostdlib -static -no-pie`. No loader, no relocations, no C
//! library start-up. Measured in bench/cli: it answers a cached token in less
//! time than `/bin/true` takes to start.
//!
//! **On std otherwise**, statically on Linux with glibc (a static PIE), so a cached token costs no
//! dynamic loader: no `ld.so`, no shared libraries to map and relocate.
//!
//! Only that binary: `tokendesk-cli` and the tests stay dynamic (the whole command line resolves
//! host names through NSS, which wants the shared glibc). Rust's own switch for this,
//! `-C target-feature=+crt-static`, is a compiler flag for a whole build (and breaks proc-macros
//! when applied to the host), so the same link is made here with per-binary link arguments:
//! `-static-pie`, and a search directory in front of the system's in which the libraries rustc
//! names for a dynamic link (`-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc`) are their static
//! archives. That is exactly the set of archives `+crt-static` links (`libgcc_eh` + `libgcc` in
//! place of `libgcc_s`).
//!
//! When the static archives are not installed (Debian's libc6-dev and gcc ship them; Fedora
//! needs glibc-static), or with `TOKENDESK_DYNAMIC_DOOR=1`, the door is linked dynamically like
//! any other program, with a warning.

use std::path::{Path, PathBuf};
use std::process::Command;

const DOOR: &str = "tokendesk";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TOKENDESK_DYNAMIC_DOOR");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let static_already = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .unwrap_or_default()
        .split(',')
        .any(|f| f == "crt-static");
    if std::env::var_os("CARGO_FEATURE_BARE").is_some() {
        // (src/main.rs stops a build for another system, or one that unwinds, with a reason.)
        for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie"] {
            println!("cargo:rustc-link-arg-bin={DOOR}={arg}");
        }
        return;
    }
    if os != "linux" || env != "gnu" || static_already {
        return;
    }
    if std::env::var_os("TOKENDESK_DYNAMIC_DOOR").is_some_and(|v| v != "0") {
        return;
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    match static_libs(&out.join("static-door")) {
        Ok(dir) => {
            println!("cargo:rustc-link-arg-bin={DOOR}=-static-pie");
            println!("cargo:rustc-link-arg-bin={DOOR}=-L{}", dir.display());
        }
        Err(why) => println!(
            "cargo:warning=`tokendesk` is linked dynamically ({why}); it works the same, only \
             its start takes a little longer"
        ),
    }
}

/// A directory with the static archives under the names a dynamic link asks for.
fn static_libs(dir: &Path) -> Result<PathBuf, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for lib in ["c", "m", "pthread", "dl", "rt", "util"] {
        let archive = find(&format!("lib{lib}.a"))?;
        link(&archive, &dir.join(format!("lib{lib}.a")))?;
    }
    // The unwinder and the compiler's runtime, static, where the shared libgcc_s is asked for.
    let script = format!(
        "INPUT({} {})\n",
        find("libgcc_eh.a")?.display(),
        find("libgcc.a")?.display()
    );
    std::fs::write(dir.join("libgcc_s.a"), script).map_err(|e| e.to_string())?;
    find("rcrt1.o")?; // the start file of a static PIE
    Ok(dir.to_path_buf())
}

/// Where the C compiler that links (rustc's default linker, `cc`) finds `file`.
fn find(file: &str) -> Result<PathBuf, String> {
    let cc = std::env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".to_owned());
    let output = Command::new(&cc)
        .arg(format!("-print-file-name={file}"))
        .output()
        .map_err(|e| format!("cannot run {cc}: {e}"))?;
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    // Without it, the compiler prints the bare name back.
    match path.is_absolute() && path.exists() {
        true => Ok(path),
        false => Err(format!("{file} is not installed")),
    }
}

fn link(target: &Path, at: &Path) -> Result<(), String> {
    #[cfg(unix)]
    return std::os::unix::fs::symlink(target, at).map_err(|e| format!("{}: {e}", at.display()));
    #[cfg(not(unix))]
    return std::fs::copy(target, at)
        .map(drop)
        .map_err(|e| format!("{}: {e}", at.display()));
}
