//! Limits on a run: `--timeout` and `--max-instructions` stop a runaway
//! program with the place it stopped and exit status 1; bad values of the
//! flags are usage errors.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn run(args: &[&str], name: &str, program: &str) -> (Output, Duration) {
    let dir = std::env::temp_dir().join(format!("aio-limits-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(format!("{name}.aio"));
    std::fs::write(&file, program).expect("write program");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_aio")).args(args).arg(&file).stdin(Stdio::null()).output().expect("run aio");
    let took = start.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    (out, took)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const SPIN: &str = "print('spinning')\nx = 0\nwhile True:\n    x += 1\n";

#[test]
fn timeout_stops_a_spinning_loop() {
    let (out, took) = run(&["--timeout", "0.5"], "spin", SPIN);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "spinning\n");
    let err = text(&out.stderr);
    assert!(err.contains("spin.aio\", line 3, in <module>\n    while True:"), "{err}");
    assert!(err.ends_with("TimeoutError: --timeout 0.5 reached: aio stopped the program\n"), "{err}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn timeout_cannot_be_caught() {
    let program = "try:\n    while True:\n        pass\nexcept BaseException:\n    print('caught')\n";
    let (out, _) = run(&["--timeout", "0.3"], "catch", program);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert!(text(&out.stderr).contains("TimeoutError: --timeout 0.3 reached"));
}

#[test]
fn timeout_stops_a_sleeping_program() {
    let program = "import time\nprint('start')\ntime.sleep(30)\nprint('never')\n";
    let (out, took) = run(&["--timeout", "0.5"], "sleep", program);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "start\n");
    assert!(text(&out.stderr).contains("sleep.aio\", line 3, in <module>\n    time.sleep(30)"));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn timeout_stops_a_program_awaiting() {
    let program = "import asyncio\nasync def main():\n    print('waiting')\n    await asyncio.sleep(30)\nasyncio.run(main())\n";
    let (out, took) = run(&["--timeout", "0.5"], "await", program);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "waiting\n");
    let err = text(&out.stderr);
    assert!(err.contains("await.aio\", line 5, in <module>"), "{err}");
    assert!(err.contains("TimeoutError: --timeout 0.5 reached"), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn timeout_counts_real_time_under_virtual_time() {
    let (out, took) = run(&["--virtual-time", "--timeout", "0.5"], "vspin", SPIN);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("TimeoutError: --timeout 0.5 reached"));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn max_instructions_stops_a_spinning_loop() {
    let (out, _) = run(&["--max-instructions", "100000"], "steps", SPIN);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "spinning\n");
    let err = text(&out.stderr);
    assert!(err.contains("steps.aio\", line 3, in <module>"), "{err}");
    assert!(err.ends_with("TimeoutError: --max-instructions 100000 reached: aio stopped the program\n"), "{err}");
}

#[test]
fn max_instructions_lets_a_short_program_finish() {
    let program = "total = 0\nfor i in range(1000):\n    total += i\nprint(total)\n";
    let (out, _) = run(&["--max-instructions", "1000000"], "short", program);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "499500\n");
}

#[test]
fn bad_limit_values_are_usage_errors() {
    for args in [["--timeout", "abc"], ["--timeout", "-1"], ["--max-instructions", "12Q"], ["--max-instructions", "0"]] {
        let (out, _) = run(&args, "bad", "print('ran')\n");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stdout), "");
        assert!(text(&out.stderr).contains(args[0]), "{args:?}");
    }
}
