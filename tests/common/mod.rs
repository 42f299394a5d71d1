//! Helpers shared by the tests: those that drive aio as a child process next
//! to a real peer (tests/net.rs, tests/process.rs; every wait is bounded in
//! time), and those that read every `.aio` program at hand (tests/fuzz.rs,
//! tests/stack.rs). Each test crate uses some of them.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout};
use std::time::{Duration, Instant};

/// Read lines until one starts with `prefix` (bounded in time).
pub fn line_starting(out: &mut BufReader<ChildStdout>, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("the program ended before printing `{prefix}`");
        }
        if line.starts_with(prefix) {
            return line.trim_end().to_string();
        }
    }
    panic!("no `{prefix}` line in time");
}

/// Wait for a child, killing it if it takes too long.
pub fn finish(mut child: Child, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not end in time");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How many descriptors process `pid` has open.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// The `.aio` files under `dir`, at any depth, appended to `out` (nothing
/// when `dir` does not exist).
pub fn aio_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            aio_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "aio") {
            out.push(p);
        }
    }
}
