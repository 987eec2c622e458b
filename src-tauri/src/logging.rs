//! The app's log file, in TokenDesk's home (`logs/tokendesk.log`, rotated daily). The core logs
//! profile ids and operations, never secret values.

use std::path::PathBuf;

pub fn init(dir: PathBuf) {
    let appender = tracing_appender::rolling::daily(dir, "tokendesk.log");
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOKENDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(appender)
        .with_ansi(false)
        .try_init();
}
