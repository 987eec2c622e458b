//! The door, `tokendesk`: what scripts call for a token. A plain `tokendesk token PROFILE`,
//! `tokendesk exec PROFILE -- COMMAND…`, `tokendesk credential kubectl|git PROFILE` and
//! `tokendesk refresh PROFILE` are answered by the running token agent over its user-only socket;
//! everything else (and these when no agent answers) is handed to `tokendesk-cli`, installed
//! beside the door, with the same arguments, environment and exit code.
//!
//! This library is everything the door does that is not a system call: reading those command
//! lines ([`args`]), the agent's protocol ([`protocol`]), where the agent's socket is ([`home`]),
//! the answers in each tool's format and the exit codes ([`answer`], [`exit`], [`text`]), and the
//! door's course ([`door::run`]) over the few system services it needs ([`door::Sys`]).
//!
//! It is `no_std` (with `alloc`) so that on Linux the door is a program without a C library:
//! glibc's start-up alone (its CPU feature and cache probes, which trap to the hypervisor in a
//! virtual machine) costs more than the whole answer. The program is `src/main.rs`; the same
//! library serves `tokendesk-cli` (the same answers when the agent is not running) and
//! `tokendesk-core` (the agent's side of the protocol).

#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod answer;
pub mod args;
pub mod door;
pub mod exit;
pub mod home;
#[cfg(feature = "std")]
pub mod on_std;
pub mod protocol;
pub mod text;
