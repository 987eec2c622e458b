//! How WebKitGTK rasterizes the page on Linux, chosen once before the first window exists.
//!
//! WebKitGTK draws with Skia, on the GPU through OpenGL by default. Without a GPU (a virtual
//! machine, a remote desktop, a container, Xvfb) that OpenGL is Mesa's software renderer,
//! llvmpipe, which compiles every shader with LLVM on the CPU before it draws: "GPU" painting
//! then costs more CPU than Skia's own CPU rasterizer, and the first paint waits for those
//! compilations. So when this machine has no GPU we ask WebKit for CPU rasterization
//! (`WEBKIT_SKIA_ENABLE_CPU_RENDERING=1`); with a GPU nothing changes. A value the user set for
//! that variable is always left as it is (`0` forces GPU rasterization).
//!
//! This file is also compiled into the start-up benchmark's bare window
//! (`bench/startup/bare-window`), so the app and its baseline make the same choice.

use std::ffi::OsStr;
use std::path::Path;

/// WebKitGTK's switch between CPU and GPU rasterization.
pub const CPU_RENDERING_VAR: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// Why rasterization was moved to the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftwareGl {
    /// `LIBGL_ALWAYS_SOFTWARE` asks Mesa for its software renderer.
    Forced,
    /// No `/dev/dri/renderD*` device: OpenGL can only be Mesa's software renderer.
    NoRenderNode,
}

impl SoftwareGl {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Forced => "LIBGL_ALWAYS_SOFTWARE is set",
            Self::NoRenderNode => "no GPU render node in /dev/dri",
        }
    }
}

/// The decision, from what the environment says. `None`: leave WebKit's default alone.
pub fn choose(
    cpu_rendering_var: Option<&OsStr>,
    libgl_always_software: Option<&OsStr>,
    has_render_node: bool,
) -> Option<SoftwareGl> {
    if cpu_rendering_var.is_some() {
        return None;
    }
    if libgl_always_software.is_some_and(is_true) {
        return Some(SoftwareGl::Forced);
    }
    (!has_render_node).then_some(SoftwareGl::NoRenderNode)
}

/// Mesa's reading of a boolean environment variable.
fn is_true(value: &OsStr) -> bool {
    let value = value.to_string_lossy().to_ascii_lowercase();
    matches!(value.as_str(), "1" | "true" | "yes" | "y")
}

/// Whether `dir` (normally `/dev/dri`) holds a render node (`renderD128`, …).
pub fn has_render_node(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Applies the choice to this process's environment, which WebKit's processes inherit.
///
/// # Safety
///
/// Changes the environment: call it first thing in `main`, before any other thread exists.
#[allow(unsafe_code)]
pub unsafe fn apply() -> Option<SoftwareGl> {
    let reason = choose(
        std::env::var_os(CPU_RENDERING_VAR).as_deref(),
        std::env::var_os("LIBGL_ALWAYS_SOFTWARE").as_deref(),
        has_render_node(Path::new("/dev/dri")),
    )?;
    // SAFETY: the caller guarantees that no other thread reads or writes the environment.
    unsafe { std::env::set_var(CPU_RENDERING_VAR, "1") };
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<&OsStr> {
        Some(OsStr::new(s))
    }

    #[test]
    fn a_gpu_keeps_webkits_default() {
        assert_eq!(choose(None, None, true), None);
        assert_eq!(choose(None, os("0"), true), None);
        assert_eq!(choose(None, os("false"), true), None);
    }

    #[test]
    fn software_gl_moves_rasterization_to_the_cpu() {
        assert_eq!(choose(None, None, false), Some(SoftwareGl::NoRenderNode));
        assert_eq!(choose(None, os("1"), true), Some(SoftwareGl::Forced));
        assert_eq!(choose(None, os("TRUE"), true), Some(SoftwareGl::Forced));
    }

    #[test]
    fn the_users_setting_wins() {
        assert_eq!(choose(os("0"), None, false), None);
        assert_eq!(choose(os("1"), os("1"), false), None);
    }

    #[test]
    fn render_nodes_are_found_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        assert!(!has_render_node(&dir.join("missing")));
        assert!(!has_render_node(dir));
        std::fs::write(dir.join("card0"), "").unwrap();
        assert!(!has_render_node(dir));
        std::fs::write(dir.join("renderD128"), "").unwrap();
        assert!(has_render_node(dir));
    }
}
