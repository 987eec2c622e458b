//! The door without a C library (Linux x86-64): the entry point, the system calls, memory, and
//! what the compiler expects a C library to provide (`memcpy` and its kin).
//!
//! Everything here is small on purpose: the process lives for a few hundred microseconds, asks
//! one socket one question and exits (or becomes another program). Memory is a bump allocator
//! that never frees; system calls are made directly (the numbers and structures are Linux's
//! x86-64 ABI, which does not change).

// SAFETY for the whole module: the entry point reads the stack the kernel set up (argc, argv,
// envp: the System V x86-64 process start); the system calls pass pointers to live, correctly
// sized buffers; the allocator hands out disjoint, aligned regions; the memory functions follow
// their C contracts, which is how the compiler calls them.
#![allow(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::arch::{asm, global_asm};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use tokendesk_door::door::{self, ExecError, Stream, Sys};

// --- entry point ---------------------------------------------------------------------------

// The kernel starts the process here with the stack pointer on argc; the System V ABI wants
// the stack 16-byte aligned at a call.
global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {start}",
    "ud2",
    start = sym start,
);

/// What `_start` calls with the kernel's stack: argc, then argv's pointers, a null, envp's, a null.
unsafe extern "C" fn start(stack: *const usize) -> ! {
    let argc = unsafe { *stack };
    let argv = unsafe { stack.add(1) } as *const *const u8;
    let envp = unsafe { argv.add(argc + 1) };
    let mut envc = 0;
    while !unsafe { *envp.add(envc) }.is_null() {
        envc += 1;
    }
    let process = Bare {
        argv: unsafe { core::slice::from_raw_parts(argv, argc) },
        envp: unsafe { core::slice::from_raw_parts(envp, envc) },
    };
    exit(door::run(&process).into())
}

// --- system calls --------------------------------------------------------------------------

const READ: usize = 0;
const WRITE: usize = 1;
const CLOSE: usize = 3;
const MMAP: usize = 9;
const SOCKET: usize = 41;
const CONNECT: usize = 42;
const SETSOCKOPT: usize = 54;
const EXECVE: usize = 59;
const READLINK: usize = 89;
const EXIT_GROUP: usize = 231;
const OPENAT: usize = 257;

const EINTR: isize = 4;
const ENOENT: isize = 2;
const EACCES: isize = 13;
const ENOTDIR: isize = 20;

unsafe fn syscall(n: usize, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> isize {
    let ret: isize;
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            in("r10") d,
            in("r8") e,
            in("r9") f,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// A system call, again while a signal interrupts it; the result or `-errno`.
fn call(n: usize, args: [usize; 6]) -> isize {
    loop {
        let r = unsafe { syscall(n, args[0], args[1], args[2], args[3], args[4], args[5]) };
        if r != -EINTR {
            return r;
        }
    }
}

fn exit(code: i32) -> ! {
    loop {
        unsafe { syscall(EXIT_GROUP, code as usize, 0, 0, 0, 0, 0) };
    }
}

fn close(fd: isize) {
    unsafe { syscall(CLOSE, fd as usize, 0, 0, 0, 0, 0) };
}

/// Writes all of `bytes` to `fd`.
fn write_all(fd: isize, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        let n = call(
            WRITE,
            [fd as usize, bytes.as_ptr() as usize, bytes.len(), 0, 0, 0],
        );
        if n <= 0 {
            return false;
        }
        bytes = &bytes[n as usize..];
    }
    true
}

/// `bytes` with a NUL after them, for the kernel.
fn c_string(bytes: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(bytes.len() + 1);
    s.extend_from_slice(bytes);
    s.push(0);
    s
}

/// The NUL-terminated string at `p`.
fn c_bytes<'a>(p: *const u8) -> &'a [u8] {
    let mut n = 0;
    while unsafe { core::ptr::read_volatile(p.add(n)) } != 0 {
        n += 1;
    }
    unsafe { core::slice::from_raw_parts(p, n) }
}

/// The target of the symbolic link at `path` (a NUL-terminated string).
fn readlink(path: &[u8]) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4096];
    let n = call(
        READLINK,
        [
            path.as_ptr() as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
            0,
            0,
            0,
        ],
    );
    (n > 0 && (n as usize) < buf.len()).then(|| buf[..n as usize].to_vec())
}

/// What `std::io::Error` says for an `errno` (the ones `execve` gives).
fn strerror(errno: isize) -> String {
    let text = match errno {
        ENOENT => "No such file or directory",
        7 => "Argument list too long",
        8 => "Exec format error",
        12 => "Cannot allocate memory",
        EACCES => "Permission denied",
        ENOTDIR => "Not a directory",
        26 => "Text file busy",
        36 => "File name too long",
        40 => "Too many levels of symbolic links",
        _ => "Error",
    };
    alloc::format!("{text} (os error {errno})")
}

// --- the process -----------------------------------------------------------------------------

struct Bare {
    argv: &'static [*const u8],
    envp: &'static [*const u8],
}

impl Bare {
    fn env_entries(&self) -> impl Iterator<Item = &'static [u8]> + '_ {
        self.envp.iter().map(|&p| c_bytes(p))
    }

    /// Runs `program` with `argv` and `envp` (each NUL-terminated), looked up in `PATH` when it
    /// names no directory; returns only when it cannot (with the `errno` that says why).
    fn execvp(&self, program: &[u8], argv: &[Vec<u8>], envp: &[Vec<u8>]) -> isize {
        let mut argv_p: Vec<*const u8> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_p.push(core::ptr::null());
        let mut envp_p: Vec<*const u8> = envp.iter().map(|e| e.as_ptr()).collect();
        envp_p.push(core::ptr::null());
        let execve = |path: &[u8]| {
            let path = c_string(path);
            call(
                EXECVE,
                [
                    path.as_ptr() as usize,
                    argv_p.as_ptr() as usize,
                    envp_p.as_ptr() as usize,
                    0,
                    0,
                    0,
                ],
            )
        };
        if program.contains(&b'/') {
            return -execve(program);
        }
        let path = self
            .var("PATH")
            .unwrap_or_else(|| b"/bin:/usr/bin".to_vec());
        let mut denied = false;
        for dir in path.split(|&b| b == b':') {
            let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
            let mut full = dir.to_vec();
            full.push(b'/');
            full.extend_from_slice(program);
            match -execve(&full) {
                EACCES => denied = true,
                ENOENT | ENOTDIR => {}
                other => return other,
            }
        }
        if denied { EACCES } else { ENOENT }
    }
}

impl Sys for Bare {
    fn args(&self) -> Vec<Vec<u8>> {
        self.argv
            .iter()
            .skip(1)
            .map(|&p| c_bytes(p).to_vec())
            .collect()
    }

    fn var(&self, name: &str) -> Option<Vec<u8>> {
        self.env_entries().find_map(|e| {
            let value = e.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
            Some(value.to_vec())
        })
    }

    fn data_dir(&self) -> Option<Vec<u8>> {
        tokendesk_door::home::xdg_data_dir(
            self.var("XDG_DATA_HOME").as_deref(),
            self.var("HOME").as_deref(),
        )
    }

    /// The kernel's own name for the directory or file: opened with `O_PATH`, read back from
    /// `/proc/self/fd`.
    fn canonicalize(&self, path: &[u8]) -> Option<Vec<u8>> {
        const AT_FDCWD: isize = -100;
        const O_PATH_CLOEXEC: usize = 0o10000000 | 0o2000000;
        let c = c_string(path);
        let fd = call(
            OPENAT,
            [
                AT_FDCWD as usize,
                c.as_ptr() as usize,
                O_PATH_CLOEXEC,
                0,
                0,
                0,
            ],
        );
        if fd < 0 {
            return None;
        }
        let link = c_string(alloc::format!("/proc/self/fd/{fd}").as_bytes());
        let target = readlink(&link);
        close(fd);
        target.filter(|t| t.starts_with(b"/"))
    }

    fn round_trip(&self, socket: &[u8], request: &[u8]) -> Option<Vec<u8>> {
        const AF_UNIX: usize = 1;
        const SOCK_STREAM_CLOEXEC: usize = 1 | 0o2000000;
        const SOL_SOCKET: usize = 1;
        const SO_RCVTIMEO: usize = 20;
        // struct sockaddr_un: the family, then the path (108 bytes, NUL-terminated).
        let mut addr = [0u8; 110];
        if socket.len() >= 108 {
            return None;
        }
        addr[..2].copy_from_slice(&(AF_UNIX as u16).to_ne_bytes());
        addr[2..2 + socket.len()].copy_from_slice(socket);
        let fd = call(SOCKET, [AF_UNIX, SOCK_STREAM_CLOEXEC, 0, 0, 0, 0]);
        if fd < 0 {
            return None;
        }
        let answer = (|| {
            let len = 2 + socket.len() + 1;
            if call(CONNECT, [fd as usize, addr.as_ptr() as usize, len, 0, 0, 0]) < 0 {
                return None;
            }
            // A refresh may run inside the agent; give it the time a direct call would have.
            let timeout: [i64; 2] = [60, 0];
            let t = timeout.as_ptr() as usize;
            if call(SETSOCKOPT, [fd as usize, SOL_SOCKET, SO_RCVTIMEO, t, 16, 0]) < 0 {
                return None;
            }
            if !write_all(fd, request) {
                return None;
            }
            let mut answer: Vec<u8> = Vec::with_capacity(4096);
            loop {
                if answer.capacity() - answer.len() < 1024 {
                    answer.reserve(answer.capacity());
                }
                let free = answer.capacity() - answer.len();
                let end = unsafe { answer.as_mut_ptr().add(answer.len()) } as usize;
                let n = call(READ, [fd as usize, end, free, 0, 0, 0]);
                if n < 0 {
                    return None;
                }
                if n == 0 {
                    return Some(answer);
                }
                let before = answer.len();
                unsafe { answer.set_len(before + n as usize) };
                if answer[before..].contains(&b'\n') {
                    return Some(answer);
                }
            }
        })();
        close(fd);
        answer
    }

    fn write(&self, to: Stream, text: &[u8]) -> bool {
        write_all(if to == Stream::Out { 1 } else { 2 }, text)
    }

    fn drain_request(&self) {
        let mut buf = [0u8; 4096];
        // Whether the line read so far has anything but a carriage return.
        let mut line_has_text = false;
        loop {
            let n = call(READ, [0, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0]);
            if n <= 0 {
                return;
            }
            for &b in &buf[..n as usize] {
                match b {
                    b'\n' if !line_has_text => return,
                    b'\n' => line_has_text = false,
                    b'\r' => {}
                    _ => line_has_text = true,
                }
            }
        }
    }

    fn exec(&self, command: &[Vec<u8>], env: &[(String, Option<String>)]) -> Result<u8, ExecError> {
        let argv: Vec<Vec<u8>> = command.iter().map(|a| c_string(a)).collect();
        let changed = |entry: &[u8]| {
            env.iter().any(|(name, _)| {
                entry
                    .strip_prefix(name.as_bytes())
                    .is_some_and(|r| r.starts_with(b"="))
            })
        };
        let mut envp: Vec<Vec<u8>> = self
            .env_entries()
            .filter(|e| !changed(e))
            .map(c_string)
            .collect();
        for (name, value) in env {
            if let Some(value) = value {
                envp.push(c_string(alloc::format!("{name}={value}").as_bytes()));
            }
        }
        Err(match self.execvp(&command[0], &argv, &envp) {
            ENOENT | ENOTDIR => ExecError::NotFound,
            EACCES => ExecError::PermissionDenied,
            errno => ExecError::Other(strerror(errno)),
        })
    }

    fn hand_over(&self) -> u8 {
        let full = readlink(b"/proc/self/exe\0").and_then(|me| {
            let dir = &me[..me.iter().rposition(|&b| b == b'/')?];
            Some(tokendesk_door::home::join(dir, door::FULL))
        });
        let mut argv = Vec::from([c_string(b"tokendesk")]);
        argv.extend(self.argv.iter().skip(1).map(|&p| c_string(c_bytes(p))));
        let envp: Vec<Vec<u8>> = self.env_entries().map(c_string).collect();
        let program = full.unwrap_or_else(|| door::FULL.as_bytes().to_vec());
        let errno = self.execvp(&program, &argv, &envp);
        let said = door::cannot_run(&String::from_utf8_lossy(&program), &strerror(errno));
        self.write(Stream::Err, said.as_bytes());
        1
    }
}

// --- memory ----------------------------------------------------------------------------------

/// Memory for the whole run: a bump allocator over a static arena (its pages are touched only
/// as they are used), with `mmap` for anything that does not fit. Nothing is freed: the process
/// exits within milliseconds.
struct Bump {
    arena: UnsafeCell<[u8; ARENA]>,
    used: AtomicUsize,
}

const ARENA: usize = 256 * 1024;

// SAFETY: the door has one thread; `used` hands out each byte once in any case.
unsafe impl Sync for Bump {}

#[global_allocator]
static MEMORY: Bump = Bump {
    arena: UnsafeCell::new([0; ARENA]),
    used: AtomicUsize::new(0),
};

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.arena.get() as usize;
        let used = self.used.load(Ordering::Relaxed);
        let start = (base + used).next_multiple_of(layout.align());
        let end = start + layout.size();
        if end <= base + ARENA {
            self.used.store(end - base, Ordering::Relaxed);
            return start as *mut u8;
        }
        const PROT_READ_WRITE: usize = 3;
        const MAP_PRIVATE_ANONYMOUS: usize = 0x02 | 0x20;
        let len = layout.size().next_multiple_of(4096);
        let p = call(
            MMAP,
            [
                0,
                len,
                PROT_READ_WRITE,
                MAP_PRIVATE_ANONYMOUS,
                usize::MAX,
                0,
            ],
        );
        if p < 0 || layout.align() > 4096 {
            return core::ptr::null_mut();
        }
        p as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The newest allocation grows in place.
        let base = self.arena.get() as usize;
        let used = self.used.load(Ordering::Relaxed);
        if ptr as usize + layout.size() == base + used && ptr as usize + new_size <= base + ARENA {
            self.used
                .store(ptr as usize + new_size - base, Ordering::Relaxed);
            return ptr;
        }
        let new =
            unsafe { self.alloc(Layout::from_size_align_unchecked(new_size, layout.align())) };
        if !new.is_null() {
            unsafe { memcpy(new, ptr, layout.size().min(new_size)) };
        }
        new
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    struct Stderr;
    impl core::fmt::Write for Stderr {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            write_all(2, s.as_bytes());
            Ok(())
        }
    }
    let _ = core::fmt::write(
        &mut Stderr,
        format_args!("tokendesk: internal error: {info}\n"),
    );
    exit(101)
}

/// `core` is built to unwind and names this routine; with `panic = "abort"` nothing unwinds,
/// so it is never called.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

// --- what the compiler expects of a C library ----------------------------------------------

#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _, options(nostack, preserves_flags));
    }
    dest
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize).wrapping_sub(src as usize) >= n {
        // No overlap that a forward copy would overwrite before reading.
        return unsafe { memcpy(dest, src, n) };
    }
    unsafe {
        asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dest.add(n).wrapping_sub(1) => _,
            inout("rsi") src.add(n).wrapping_sub(1) => _,
            options(nostack),
        );
    }
    dest
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _, in("al") c as u8, options(nostack, preserves_flags));
    }
    dest
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        let (x, y) = unsafe {
            (
                core::ptr::read_volatile(a.add(i)),
                core::ptr::read_volatile(b.add(i)),
            )
        };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

#[unsafe(no_mangle)]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    unsafe { memcmp(a, b, n) }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn strlen(s: *const u8) -> usize {
    c_bytes(s).len()
}
