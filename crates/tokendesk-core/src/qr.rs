//! QR codes of a device sign-in's verification address, so a phone can open it: SVG for the
//! app, Unicode half blocks for a terminal.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

use crate::error::{Error, ErrorCode, Result};

fn code(text: &str) -> Result<QrCode> {
    // Level M: room for a long verification address, still read off a screen at an angle.
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|e| {
        Error::new(
            ErrorCode::Unsupported,
            format!(
                "The verification address is too long for a QR code ({} bytes: {e}); open it by \
                 hand.",
                text.len()
            ),
        )
    })
}

/// An SVG document (black on white, with the quiet zone), sized by its `viewBox` so the page
/// scales it.
pub fn svg(text: &str) -> Result<String> {
    Ok(code(text)?
        .render::<svg::Color<'_>>()
        .min_dimensions(160, 160)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}

/// Lines of Unicode half blocks (`▀ ▄ █`, two modules per character cell), for a terminal.
/// The light modules and the quiet zone are the drawn ones, as `qrencode -t UTF8` does: on the
/// usual light-on-dark terminal the code then reads dark on light, as scanners expect.
pub fn terminal(text: &str) -> Result<String> {
    Ok(code(text)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:4000/device?user_code=WDJB-MJHT";

    #[test]
    fn svg_is_a_scalable_document_of_the_code() {
        let s = svg(URL).unwrap();
        assert!(s.starts_with("<?xml") && s.contains("<svg"), "{}", &s[..80]);
        assert!(s.contains("viewBox") || s.contains("width="), "sized");
        assert!(s.contains("#000000") && s.contains("#ffffff"));
        // Another address, another picture.
        assert_ne!(s, svg("http://127.0.0.1:4000/device").unwrap());
    }

    #[test]
    fn terminal_text_is_square_half_blocks_with_a_quiet_zone() {
        let t = terminal(URL).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        let width = lines[0].chars().count();
        assert!(
            lines.iter().all(|l| l.chars().count() == width),
            "a rectangle"
        );
        // Two modules per line: the height in lines is half the width, rounded up.
        assert_eq!(lines.len(), width.div_ceil(2));
        assert!(t.chars().all(|c| " ▀▄█\n".contains(c)), "only half blocks");
        // The quiet zone (light, drawn) surrounds the code: the first line is solid.
        assert!(lines[0].chars().all(|c| c == '█'), "{}", lines[0]);
        // The finder patterns make dark modules: not all of it is drawn.
        assert!(t.contains(' ') || t.contains('▀') || t.contains('▄'));
    }

    #[test]
    fn too_long_an_address_says_so() {
        let e = terminal(&"x".repeat(5000)).unwrap_err();
        assert!(e.message.contains("too long"), "{}", e.message);
    }
}
