//! Runs every `.aio` case through the `aio` binary and checks it against
//! its expectations: `NAME.out` is the exact stdout; `NAME.err`, present for
//! failing runs, gives `exit N` and the `Type: message` line that stderr must
//! contain (for a SyntaxError only the type). `NAME.stderr`, written by hand
//! for what aio says beyond CPython (the error reports of `tests/errors/`),
//! lists lines that must appear in stderr in that order (trailing spaces
//! aside); with it, the `.err` line must be the last line of stderr, and no
//! frame of the library's own sources (`File "<asyncio>"`) may show.
//! Cases run with `--virtual-time` from their own folder; `scripts/oracle.py
//! --write` writes expectations. The suites: the conformance corpus in
//! `tests/conformance`, the other cases under `tests/`, the guided tour in
//! `examples/`, and, when it is there, an outside corpus in the same format
//! (`../shared/conformance`, or `$AIO_CONFORMANCE`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if p.is_dir() {
            if !name.starts_with('_') && !name.starts_with('.') {
                collect(&p, out);
            }
        } else if name.ends_with(".aio") {
            out.push(p);
        }
    }
}

/// Is `line` the `.err` file's `Type: message` line (or, when the file gives
/// only the type, a line of that type)?
fn is_exception_line(line: &str, exc: &str) -> bool {
    line == exc || (!exc.contains(':') && line.starts_with(&format!("{exc}:")))
}

/// Run one case; `Err` describes every way it failed. `virtual_time`:
/// with `--virtual-time` (the expectations hold either way).
fn check(case: &Path, virtual_time: bool) -> Result<(), String> {
    let base = case.with_extension("");
    let want_out =
        std::fs::read_to_string(base.with_extension("out")).map_err(|e| format!("no expectation {}.out: {e}", base.display()))?;
    let (want_code, want_exc) = match std::fs::read_to_string(base.with_extension("err")) {
        Ok(text) => {
            let mut lines = text.lines();
            let code = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse::<i32>().ok()).unwrap_or(1);
            (code, lines.next().map(|s| s.to_string()))
        }
        Err(_) => (0, None),
    };
    let dir = case.parent().expect("case folder");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aio"));
    if virtual_time {
        cmd.arg("--virtual-time");
    }
    let mut child = cmd
        .arg(case.file_name().expect("file name"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start aio: {e}"))?;
    // Drain both pipes on threads of their own: a case that prints more than
    // a pipe holds would otherwise block forever waiting for us to read.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out_reader = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let err_reader = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out_bytes = out_reader.join().unwrap_or_default();
    let err_bytes = err_reader.join().unwrap_or_default();
    let stdout = String::from_utf8_lossy(&out_bytes);
    let stderr = String::from_utf8_lossy(&err_bytes);
    let mut problems = Vec::new();
    let Some(status) = status else {
        return Err(format!("timed out after {}s", TIMEOUT.as_secs()));
    };
    if stdout != want_out {
        problems.push(diff(&want_out, &stdout));
    }
    let code = status.code().unwrap_or(-1);
    if code != want_code {
        problems.push(format!("exit status {code}, expected {want_code}"));
    }
    if let Some(exc) = &want_exc {
        let found = stderr.lines().map(|l| l.trim().trim_start_matches('|').trim()).any(|l| is_exception_line(l, exc));
        if !found {
            problems.push(format!("stderr lacks the line `{exc}`"));
        }
    }
    if let Ok(want) = std::fs::read_to_string(base.with_extension("stderr")) {
        let mut lines = stderr.lines().map(str::trim_end);
        if let Some(missing) = want.lines().map(str::trim_end).find(|w| !lines.any(|g| g == *w)) {
            problems.push(format!("stderr lacks (in this order) the line `{missing}`"));
        }
        // The program's frames only: never those of the library's sources.
        if let Some(frame) = stderr.lines().find(|l| l.trim_start().starts_with("File \"<")) {
            problems.push(format!("the report shows a frame of the library: `{frame}`"));
        }
        if let Some(exc) = &want_exc {
            let last = stderr.lines().last().unwrap_or("");
            if !is_exception_line(last, exc) {
                problems.push(format!("the last line of stderr is `{last}`, not `{exc}`"));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let tail: Vec<&str> = stderr.lines().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect();
    if !tail.is_empty() {
        problems.push(format!("stderr (last lines):\n    {}", tail.join("\n    ")));
    }
    Err(problems.join("\n  "))
}

/// A short line diff: the first lines that differ.
fn diff(want: &str, got: &str) -> String {
    let w: Vec<&str> = want.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let first = w.iter().zip(g.iter()).position(|(a, b)| a != b).unwrap_or(w.len().min(g.len()));
    let mut s = format!("stdout differs from line {}:", first + 1);
    for i in first..(first + 6) {
        match (w.get(i), g.get(i)) {
            (None, None) => break,
            (a, b) => {
                if a != b {
                    if let Some(a) = a {
                        s.push_str(&format!("\n    - {a}"));
                    }
                    if let Some(b) = b {
                        s.push_str(&format!("\n    + {b}"));
                    }
                } else if let Some(a) = a {
                    s.push_str(&format!("\n      {a}"));
                }
            }
        }
    }
    s
}

/// Check every case under `dirs` in parallel and fail with a report.
fn run_suite(name: &str, dirs: &[PathBuf]) {
    run_suite_with(name, dirs, true)
}

/// Check every case under `dirs`, on a virtual clock or in real time.
fn run_suite_with(name: &str, dirs: &[PathBuf], virtual_time: bool) {
    let mut cases = Vec::new();
    for d in dirs {
        assert!(d.is_dir(), "{name}: missing folder {}", d.display());
        collect(d, &mut cases);
    }
    assert!(!cases.is_empty(), "{name}: no cases found");
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().expect("lock");
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(case) = cases.get(i) else { break };
                if let Err(why) = check(case, virtual_time) {
                    failures.lock().expect("lock").push(format!("FAIL {}\n  {why}", case.display()));
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("lock");
    failures.sort();
    let passed = cases.len() - failures.len();
    println!("{name}: {passed} passed, {} failed", failures.len());
    assert!(failures.is_empty(), "{name}: {} of {} cases failed\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The outside corpus: `$AIO_CONFORMANCE` if set (then it must exist),
/// else `../shared/conformance` when a checkout keeps one beside this one.
fn outside_conformance() -> Option<PathBuf> {
    match std::env::var_os("AIO_CONFORMANCE") {
        Some(p) => Some(PathBuf::from(p)),
        None => Some(repo().join("..").join("shared").join("conformance")).filter(|d| d.is_dir()),
    }
}

/// The corpus that ships with the repository: it must be there, in each of
/// its folders, or this fails rather than passing on nothing.
#[test]
fn conformance_corpus() {
    let root = repo().join("tests").join("conformance");
    for part in ["lang", "async", "errors", "stdlib"] {
        let mut cases = Vec::new();
        collect(&root.join(part), &mut cases);
        assert!(!cases.is_empty(), "tests/conformance/{part} holds no cases");
    }
    run_suite("tests/conformance", &[root]);
}

/// Every learner's mistake in `tests/errors/` says what aio shows beyond
/// Python's message, and the table of `tests/errors/README.md` lists it.
#[test]
fn error_cases_have_their_report() {
    let dir = repo().join("tests").join("errors");
    let table = std::fs::read_to_string(dir.join("README.md")).expect("tests/errors/README.md");
    let mut cases = Vec::new();
    collect(&dir, &mut cases);
    assert!(cases.len() >= 30, "tests/errors holds {} cases", cases.len());
    for case in cases {
        let name = case.file_stem().expect("name").to_string_lossy().into_owned();
        assert!(case.with_extension("stderr").is_file(), "{name}.aio has no {name}.stderr");
        assert!(table.contains(&format!("`{name}`")), "the table in tests/errors/README.md lacks `{name}`");
    }
}

#[test]
fn outside_conformance_corpus() {
    let Some(root) = outside_conformance() else {
        // Straight to stderr, past the test harness's capture, so that the
        // skip is seen in a normal `cargo test` run.
        let _ = writeln!(
            std::io::stderr(),
            "note: no ../shared/conformance beside this repository; the outside corpus is skipped (set AIO_CONFORMANCE to run one)"
        );
        return;
    };
    run_suite("outside conformance", &[root]);
}

/// The other cases under `tests/`: corners of the language and the loop,
/// regressions and robustness (hostile input must fail cleanly).
#[test]
fn own_cases() {
    let dirs: Vec<PathBuf> = ["lang", "async", "errors", "stdlib", "regress", "robustness", "io", "http"]
        .iter()
        .map(|d| repo().join("tests").join(d))
        .filter(|d| d.is_dir())
        .collect();
    run_suite("tests/", &dirs);
}

/// The I/O cases (servers on 127.0.0.1, port 0) in real time as well: a
/// virtual clock must not change what a program with sockets prints.
#[test]
fn io_cases_in_real_time() {
    run_suite_with("tests/io (real time)", &[repo().join("tests").join("io")], false);
}

/// The guided tour: every program in `examples/` runs as its `.out` says.
#[test]
fn examples() {
    run_suite("examples/", &[repo().join("examples")]);
}
