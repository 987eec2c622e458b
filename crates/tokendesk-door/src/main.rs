//! `tokendesk`: the command scripts call (what it answers: the library, `tokendesk_door`).
//!
//! Two builds of the same door:
//! - **without a C library** (the `bare` feature; Linux x86-64 with `panic = "abort"`, the `door`
//!   profile; scripts/door.sh builds it so, and the packages ship it): its own entry point, its
//!   own system calls, a bump allocator (`bare.rs`). Its process costs less than a C program's:
//!   glibc's start-up probes the CPU's features and caches with `cpuid`, which traps to the
//!   hypervisor in a virtual machine, before `main` runs.
//! - **on std** everywhere else (`tokendesk_door::on_std`), started without Rust's runtime
//!   set-up (`no_main`: no stack-overflow handler, which reads /proc/self/maps and maps an
//!   alternate signal stack; no SIGPIPE change, so a closed pipe ends it the way it ends `cat`).
//!
//! Figures: bench/cli.

#![cfg_attr(feature = "bare", no_std)]
#![no_main]
#![deny(clippy::print_stdout, clippy::print_stderr)]

#[cfg(all(
    feature = "bare",
    not(all(panic = "abort", target_os = "linux", target_arch = "x86_64"))
))]
compile_error!(
    "the door without a C library is made for Linux x86-64 with `panic = \"abort\"`: \
     cargo build -p tokendesk-door --profile door --no-default-features --features bare"
);
#[cfg(not(any(feature = "std", feature = "bare")))]
compile_error!("the door is built on std (the default feature) or without a C library (`bare`)");

#[cfg(feature = "bare")]
mod bare;

/// C's `main`, called by the C runtime: Rust's `std::env::args` are set up before it (by an
/// initializer glibc runs), the rest of std needs no set-up.
// SAFETY (the lint is about `no_mangle`): this is the only `main` symbol in the program.
#[cfg(not(feature = "bare"))]
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    std::ffi::c_int::from(tokendesk_door::door::run(&tokendesk_door::on_std::Std))
}
