//! What the interpreter tells about scheduling, checked against the files
//! beside each program in `tests/trace/`:
//! - `NAME.trace`: the exact stderr of `--virtual-time --trace`;
//! - `NAME.stderr`: lines that must appear, in this order, in the stderr of
//!   a plain `--virtual-time` run (deadlock reports, warnings, await chains).
//!
//! A first line `# aio-flags: --debug` adds flags to both runs. Failing runs
//! must still end with Python's `Type: message` line (from `NAME.err`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("trace")
}

fn run(case: &Path, extra: &[&str]) -> Output {
    let src = std::fs::read_to_string(case).expect("read case");
    let flags: Vec<String> = src
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# aio-flags:"))
        .map(|f| f.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    Command::new(env!("CARGO_BIN_EXE_aio"))
        .arg("--virtual-time")
        .args(&flags)
        .args(extra)
        .arg(case.file_name().expect("file name"))
        .current_dir(case.parent().expect("folder"))
        .stdin(Stdio::null())
        .output()
        .expect("run aio")
}

fn cases(ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/trace")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "aio") && p.with_extension(ext).exists())
        .collect();
    out.sort();
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A line-by-line account of where `got` departs from `want`.
fn diff(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i), g.get(i));
        if a != b {
            return format!(
                "first difference at line {}:\n  want: {}\n  got:  {}\n--- whole output:\n{got}",
                i + 1,
                a.unwrap_or(&"<end>"),
                b.unwrap_or(&"<end>")
            );
        }
    }
    String::new()
}

#[test]
fn traces_match_their_expected_files() {
    let cases = cases("trace");
    assert!(!cases.is_empty(), "no tests/trace/*.trace files");
    let mut failures = Vec::new();
    for case in &cases {
        let want = std::fs::read_to_string(case.with_extension("trace")).expect("read .trace");
        let got = text(&run(case, &["--trace"]).stderr);
        if want != got {
            failures.push(format!("{}: {}", case.display(), diff(&want, &got)));
        }
        // Stable: a second run tells the same story.
        let again = text(&run(case, &["--trace"]).stderr);
        if again != got {
            failures.push(format!("{}: two runs traced differently", case.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn reports_contain_their_expected_lines() {
    let cases = cases("stderr");
    assert!(cases.len() >= 4, "expected the deadlock, never-awaited, await-chain and blocked-loop cases");
    let mut failures = Vec::new();
    for case in &cases {
        let want = std::fs::read_to_string(case.with_extension("stderr")).expect("read .stderr");
        let out = run(case, &[]);
        let got = text(&out.stderr);
        let mut lines = got.lines();
        for w in want.lines() {
            if !lines.any(|g| g == w) {
                failures.push(format!("{}: stderr lacks (in order) the line\n  {w}\n--- stderr:\n{got}", case.display()));
                break;
            }
        }
        // The last line stays Python's `Type: message` (exception groups end with their box).
        if let Ok(err) = std::fs::read_to_string(case.with_extension("err")) {
            let want_last = err.lines().nth(1).unwrap_or("");
            if !want_last.contains("ExceptionGroup") && got.lines().last() != Some(want_last) {
                failures.push(format!("{}: the last stderr line is not `{want_last}`:\n{got}", case.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn tracing_is_off_by_default() {
    let out = run(&dir().join("queue_workers.aio"), &[]);
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn debug_reports_a_long_computation_on_a_real_clock() {
    let code = "import time\nasync def busy():\n    t0 = time.perf_counter()\n    while time.perf_counter() - t0 < 0.3:\n        pass\n\nawait create_task(busy())\n";
    let out = Command::new(env!("CARGO_BIN_EXE_aio")).args(["--debug", "-c", code]).stdin(Stdio::null()).output().expect("run aio");
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Task-2 (busy) blocked the event loop for"), "{err}");
    assert!(err.contains("without an `await` that suspends"), "{err}");
}

/// `asyncio.run(debug=True)` turns the same report on, at the loop's
/// `slow_callback_duration`; `debug=False` leaves it off.
#[test]
fn debug_mode_of_the_loop_reports_slow_steps() {
    let program = |debug: &str, limit: &str| {
        format!(
            "import asyncio, time\nasync def hog():\n    time.sleep(0.2)\nasync def main():\n    asyncio.get_running_loop().slow_callback_duration = {limit}\n    await asyncio.create_task(hog())\n    print('done')\nasyncio.run(main(), debug={debug})\n"
        )
    };
    let run = |code: String| Command::new(env!("CARGO_BIN_EXE_aio")).args(["-c", &code]).stdin(Stdio::null()).output().expect("run aio");
    let slow = run(program("True", "0.05"));
    let err = text(&slow.stderr);
    assert!(slow.status.success(), "{err}");
    assert_eq!(text(&slow.stdout), "done\n");
    assert!(err.contains("Task-2 (hog) blocked the event loop for") && err.contains("time.sleep blocks every task"), "{err}");
    for (debug, limit) in [("True", "1.0"), ("False", "0.05")] {
        let quiet = run(program(debug, limit));
        assert_eq!(text(&quiet.stderr), "", "debug={debug} limit={limit}");
    }
}

#[test]
fn debug_is_quiet_for_a_well_behaved_program() {
    let out = run(&dir().join("queue_workers.aio"), &["--debug"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
}

/// I/O in the story: connections made, accepted, ended, and tasks waiting
/// on sockets (ports differ from run to run, so fragments are checked).
#[test]
fn io_is_told() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("15_echo_server.aio");
    let o = Command::new(env!("CARGO_BIN_EXE_aio"))
        .args(["--virtual-time", "--trace"])
        .arg(&example)
        .stdin(Stdio::null())
        .output()
        .expect("run aio");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    for want in [
        "(client): connected to 127.0.0.1:",
        "accepted a connection from 127.0.0.1:",
        "(client) waits on read from 127.0.0.1:",
        "(handle) waits on read from 127.0.0.1:",
        "closed its end of the connection (EOF)",
        "the connection with 127.0.0.1:",
    ] {
        assert!(err.contains(want), "the trace lacks `{want}`:\n{err}");
    }
}

/// At a deadlock the loop, not the task that ran last, cancels the blocked
/// tasks; quoted lines lose their trailing comments.
#[test]
fn the_loop_cancels_the_leftovers_of_a_deadlock() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("14_deadlock.aio");
    let err = text(&run(&example, &["--trace"]).stderr);
    for want in [
        "the loop cancels Task-1 (top level)\n",
        "the loop cancels alice (diner)\n",
        "the loop cancels bob (diner)\n",
        "alice (diner) waits on sleep(1.0) at line 20: await sleep(1)\n",
    ] {
        assert!(err.contains(want), "the trace lacks `{want}`:\n{err}");
    }
    assert!(!err.contains("(diner) cancels"), "a task is blamed for the loop's cancelling:\n{err}");
    assert!(!err.contains("# meanwhile"), "a quoted line keeps its comment:\n{err}");
}

/// The deadlock example shows who holds which lock: the trace tells each
/// acquisition and release and whom a wait is for, and both the trace and
/// the report name the cycle of waits.
#[test]
fn the_deadlock_example_names_its_cycle() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("14_deadlock.aio");
    let cycle = "alice holds locks['fork'], waits for locks['knife'] held by bob, who waits for locks['fork'] held by alice";
    let report = text(&run(&example, &[]).stderr);
    for want in [
        "  alice (diner) waits for Lock locks['knife'] held by bob at line 23: async with locks[second]:\n".to_string(),
        "  bob (diner) waits for Lock locks['fork'] held by alice at line 23: async with locks[second]:\n".to_string(),
        format!("  the tasks wait for each other: {cycle}\n"),
    ] {
        assert!(report.contains(&want), "the report lacks `{want}`:\n{report}");
    }
    let trace = text(&run(&example, &["--trace"]).stderr);
    let mut at = 0;
    for want in [
        "0.000    alice (diner) acquires Lock locks['fork'] at line 18\n".to_string(),
        "0.000    bob (diner) acquires Lock locks['knife'] at line 18\n".to_string(),
        "1.000    alice (diner) waits for Lock locks['knife'] held by bob at line 23: async with locks[second]:\n".to_string(),
        "1.000    bob (diner) waits for Lock locks['fork'] held by alice at line 23: async with locks[second]:\n".to_string(),
        "1.000    deadlock: every task is blocked and no timer is pending\n".to_string(),
        format!("1.000    deadlock: {cycle}\n"),
        "1.000    alice (diner) releases Lock locks['fork']\n".to_string(),
        "1.000    bob (diner) releases Lock locks['knife']\n".to_string(),
    ] {
        match trace[at..].find(&want) {
            Some(i) => at += i + want.len(),
            None => panic!("the trace lacks (in order) `{want}`:\n{trace}"),
        }
    }
}
