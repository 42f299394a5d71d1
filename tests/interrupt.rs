//! Ctrl-C as Python delivers it: SIGINT is `KeyboardInterrupt` in the code
//! that is running (a loop at the top level, a task that never awaits, a
//! worker thread, `input()`, a long native operation), so the program's
//! `except` and `finally` run; an uncaught one is reported as a traceback
//! and ends the process by SIGINT, as CPython's does. Each program prints
//! a ready line, then gets SIGINT; every wait is bounded.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a run that got SIGINT printed and how it ended, and how long it
/// took to end after the signal.
struct Interrupted {
    stdout: String,
    stderr: String,
    status: ExitStatus,
    answered_in: Duration,
}

fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("aio did not end within {limit:?} of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Run `program`, wait for its line `ready`, let it run `settle` more, send
/// SIGINT and collect the rest. Standard input stays open (a pipe).
fn interrupt(name: &str, program: &str, settle: Duration) -> Interrupted {
    let dir = std::env::temp_dir().join(format!("aio-interrupt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(format!("{name}.aio"));
    std::fs::write(&file, program).expect("write program");
    let mut child = Command::new(env!("CARGO_BIN_EXE_aio"))
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run aio");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("read the ready line");
    assert_eq!(first, "ready\n", "the program did not start");
    std::thread::sleep(settle);
    let sent = Instant::now();
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let status = wait_bounded(&mut child, Duration::from_secs(10));
    let answered_in = sent.elapsed();
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("stdout");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr");
    drop(child.stdin.take());
    let _ = std::fs::remove_dir_all(&dir);
    Interrupted { stdout: first + &rest, stderr, status, answered_in }
}

/// An uncaught `KeyboardInterrupt`: a traceback, and death by SIGINT.
fn assert_uncaught(r: &Interrupted) {
    assert_eq!(r.status.signal(), Some(libc::SIGINT), "status {:?}, stderr: {}", r.status, r.stderr);
    assert!(r.stderr.starts_with("Traceback (most recent call last):\n"), "{}", r.stderr);
    assert!(r.stderr.ends_with("\nKeyboardInterrupt\n"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

const SETTLE: Duration = Duration::from_millis(200);

#[test]
fn a_loop_at_the_top_level_runs_except_and_finally() {
    let program = "x = 0\ntry:\n    print('ready', flush=True)\n    while True:\n        x += 1\nexcept KeyboardInterrupt:\n    print('caught')\nfinally:\n    print('finally')\n";
    let r = interrupt("caught", program, SETTLE);
    assert_eq!(r.stdout, "ready\ncaught\nfinally\n", "{}", r.stderr);
    assert!(r.status.success(), "{:?} {}", r.status, r.stderr);
}

#[test]
fn an_uncaught_interrupt_runs_finally_and_ends_by_sigint() {
    let program = "print('ready', flush=True)\nx = 0\ntry:\n    while True:\n        x += 1\nfinally:\n    print('finally')\n";
    let r = interrupt("uncaught", program, SETTLE);
    assert_eq!(r.stdout, "ready\nfinally\n", "{}", r.stderr);
    assert_uncaught(&r);
    // The place is the loop, inside the try (not the line before it).
    assert!(
        r.stderr.contains("uncaught.aio\", line 5, in <module>\n") || r.stderr.contains("uncaught.aio\", line 4, in <module>\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_task_that_never_awaits_gets_the_interrupt() {
    let program = "import asyncio\nasync def spin():\n    x = 0\n    try:\n        while True:\n            x += 1\n    finally:\n        print('task finally')\nasync def main():\n    t = asyncio.create_task(spin())\n    print('ready', flush=True)\n    await t\nasyncio.run(main())\n";
    let r = interrupt("task", program, SETTLE);
    assert_eq!(r.stdout, "ready\ntask finally\n", "{}", r.stderr);
    assert_uncaught(&r);
    assert!(r.stderr.contains(", in spin\n"), "{}", r.stderr);
}

#[test]
fn input_is_interrupted_not_ended() {
    let program = "print('ready', flush=True)\ntry:\n    s = input()\nexcept KeyboardInterrupt:\n    print('interrupted')\nexcept EOFError:\n    print('end of input')\n";
    let r = interrupt("input", program, SETTLE);
    assert_eq!(r.stdout, "ready\ninterrupted\n", "{}", r.stderr);
    assert!(r.status.success(), "{:?} {}", r.status, r.stderr);
}

#[test]
fn a_busy_worker_thread_stops_cleanly() {
    let program = "import asyncio\ndef work():\n    x = 0\n    while True:\n        x += 1\nasync def main():\n    print('ready', flush=True)\n    try:\n        await asyncio.to_thread(work)\n    finally:\n        print('main finally')\nasyncio.run(main())\n";
    let r = interrupt("worker", program, SETTLE);
    assert_eq!(r.stdout, "ready\nmain finally\n", "{}", r.stderr);
    assert_uncaught(&r);
}

/// Long native operations answer Ctrl-C at once: each of these runs for
/// seconds (many times the allowed answer time) in one call.
#[test]
fn long_native_operations_answer_within_a_moment() {
    let cases = [
        ("repr", "x = [[0] * 1000] * 20000\nprint('ready', flush=True)\nwhile True:\n    s = repr(x)\n"),
        ("sort", "x = [(i * 7919) % 1000003 for i in range(2000000)]\nprint('ready', flush=True)\nwhile True:\n    x.sort(reverse=True)\n    x.sort()\n"),
        ("pow", "print('ready', flush=True)\nwhile True:\n    y = 3 ** 3000000\n"),
        ("repeat", "print('ready', flush=True)\nwhile True:\n    s = 'a' * 400000000\n    del s\n"),
        ("join", "parts = ['ab'] * 5000000\nprint('ready', flush=True)\nwhile True:\n    s = ','.join(parts)\n"),
    ];
    for (name, program) in cases {
        let r = interrupt(name, program, Duration::from_millis(300));
        assert_uncaught(&r);
        // 100 ms is the aim; the margin is for a machine busy with builds.
        assert!(r.answered_in < Duration::from_millis(600), "{name}: answered in {:?}", r.answered_in);
    }
}
