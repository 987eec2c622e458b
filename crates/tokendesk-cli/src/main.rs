//! `tokendesk-cli`: the whole command line (`tokendesk` hands it everything but cached tokens).

fn main() -> std::process::ExitCode {
    tokendesk_cli::main()
}
