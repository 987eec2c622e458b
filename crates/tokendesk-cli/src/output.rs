//! Text output: durations, times, tables.

use std::io::{IsTerminal, Write};

/// Writes `text` to stdout. A reader that went away (`| head`) is not an error: the rest is
/// not wanted.
pub fn emit(text: &str) {
    write_to(std::io::stdout().lock(), format_args!("{text}"));
}

/// What [`outln!`](crate::outln), [`out!`](crate::out), [`errln!`](crate::errln) and
/// [`errout!`](crate::errout) do: write, flush, and take a closed pipe (`tokendesk-cli list |
/// head -1`, `2>&1 | head`) as "the rest is not wanted" instead of panicking with a backtrace as
/// `println!` does. The crate denies `println!` and `eprintln!` (clippy's `print_stdout` and
/// `print_stderr`), so no print can bypass this.
pub fn write_to(mut w: impl Write, args: std::fmt::Arguments<'_>) {
    let _ = w.write_fmt(args).and_then(|()| w.flush());
}

/// `println!` that ends quietly on a closed pipe (see [`write_to`]).
#[macro_export]
macro_rules! outln {
    () => { $crate::output::write_to(::std::io::stdout().lock(), format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::output::write_to(::std::io::stdout().lock(), format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that ends quietly on a closed pipe (see [`write_to`]).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_to(::std::io::stdout().lock(), format_args!($($arg)*)) };
}

/// `eprintln!` that ends quietly on a closed pipe (see [`write_to`]).
#[macro_export]
macro_rules! errln {
    () => { $crate::output::write_to(::std::io::stderr().lock(), format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::output::write_to(::std::io::stderr().lock(), format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` that ends quietly on a closed pipe (see [`write_to`]).
#[macro_export]
macro_rules! errout {
    ($($arg:tt)*) => { $crate::output::write_to(::std::io::stderr().lock(), format_args!($($arg)*)) };
}

pub use tokendesk_door::text::{duration, left};

/// An epoch-milliseconds time as RFC 3339 UTC.
pub fn time(ms: i64) -> String {
    tokendesk_core::clock::rfc3339(ms)
}

/// Prints rows as aligned columns; bold header on a terminal only.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        cells
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let head = line(&mut header.iter().copied());
    // One buffered writer, not a write per line (10,000 profiles: bench/list). A closed pipe
    // (`tokendesk list | head`) ends the output quietly.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let _ = if std::io::stdout().is_terminal() {
        writeln!(out, "\x1b[1m{head}\x1b[0m")
    } else {
        writeln!(out, "{head}")
    };
    for r in rows {
        if writeln!(out, "{}", line(&mut r.iter().map(String::as_str))).is_err() {
            return;
        }
    }
    let _ = out.flush();
}

/// Prints the core's progress reports (a step of a sign-in went through) on stderr.
pub struct Progress;

impl tokendesk_core::events::EventSink for Progress {
    fn emit(&self, event: tokendesk_core::events::CoreEvent) {
        if let tokendesk_core::events::CoreEvent::Progress { message, .. } = event {
            crate::errln!("  ✓ {message}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(duration(59_999), "0:59");
        assert_eq!(duration(61_000), "1:01");
        assert_eq!(duration(3_600_000), "1:00:00");
        assert_eq!(duration(90_061_000), "1d 1:01:01");
        assert_eq!(left(Some(10), 20), "expired");
        assert_eq!(left(None, 20), "no expiry");
        assert_eq!(time(0), "1970-01-01T00:00:00Z");
        assert_eq!(time(1_700_000_000_123), "2023-11-14T22:13:20Z");
        assert_eq!(time(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
