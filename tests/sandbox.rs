//! Limits on a run and the sandbox: `--timeout` and `--max-instructions`
//! stop a runaway program with the place it stopped and exit status 1;
//! `--max-memory` is a `MemoryError`; `--sandbox` refuses each kind of
//! access with a `PermissionError` naming the flag that allows it, and each
//! `--allow-*` flag grants exactly what it names. Bad values of the flags
//! are usage errors.

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

// ------------------------------------------------------------ --max-memory

#[test]
fn max_memory_stops_a_growing_list_with_memory_error() {
    let program = "print('start')\nx = []\nwhile True:\n    x.append('a' * 1000)\n";
    let (out, took) = run(&["--max-memory", "60M"], "grow", program);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "start\n");
    let err = text(&out.stderr);
    assert!(err.contains("grow.aio\", line 4, in <module>"), "{err}");
    assert!(err.ends_with("MemoryError: --max-memory 60M reached\n"), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn max_memory_refuses_a_big_allocation_before_making_it() {
    let program = "try:\n    x = [0] * 10**8\nexcept MemoryError as e:\n    print('refused:', e)\nprint(len([0] * 10**5))\n";
    let (out, _) = run(&["--max-memory", "100M"], "big", program);
    assert_eq!(text(&out.stdout), "refused: --max-memory 100M reached\n100000\n", "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
    // Without the limit the same program makes the list.
    let (out, _) = run(&[], "big", program);
    assert_eq!(text(&out.stdout), "100000\n", "{}", text(&out.stderr));
}

#[test]
fn bad_max_memory_values_are_usage_errors() {
    for v in ["lots", "-5M", "0", "12Q"] {
        let (out, _) = run(&["--max-memory", v], "badmem", "print('ran')\n");
        assert_eq!(out.status.code(), Some(2), "{v}");
        assert!(text(&out.stderr).contains("--max-memory"), "{v}");
    }
}

// ------------------------------------------------------------ --sandbox

/// A scratch folder with `inside/data.txt` and `outside/secret.txt`.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("aio-sandbox-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("inside")).expect("inside");
        std::fs::create_dir_all(dir.join("outside")).expect("outside");
        std::fs::write(dir.join("inside/data.txt"), "data").expect("data");
        std::fs::write(dir.join("outside/secret.txt"), "secret").expect("secret");
        let dir = std::fs::canonicalize(&dir).expect("canonical");
        Scratch(dir)
    }
    fn inside(&self) -> String {
        self.0.join("inside").display().to_string()
    }
    fn outside(&self) -> String {
        self.0.join("outside").display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A program that tries one access of each kind and prints, per line,
/// `KIND allowed`, `KIND refused: MESSAGE` or `KIND failed: ERROR` (the
/// access was allowed and the system said no).
fn probe(s: &Scratch, port: u16, other_port: u16) -> String {
    format!(
        r#"import asyncio, os, socket
INSIDE = {inside:?}
OUTSIDE = {outside:?}

def attempt(kind, f):
    try:
        f()
        print(kind, 'allowed')
    except PermissionError as e:
        print(kind, 'refused:', e)
    except OSError as e:
        print(kind, 'failed:', type(e).__name__)

def connect(port):
    with socket.socket() as c:
        c.connect(('127.0.0.1', port))

async def child():
    p = await asyncio.create_subprocess_exec('true')
    await p.wait()

attempt('read-inside', lambda: open(INSIDE + '/data.txt').read())
attempt('read-outside', lambda: open(OUTSIDE + '/secret.txt').read())
attempt('write-inside', lambda: open(INSIDE + '/new.txt', 'w').close())
attempt('write-outside', lambda: open(OUTSIDE + '/new.txt', 'w').close())
attempt('listdir', lambda: os.listdir(INSIDE))
attempt('env', lambda: os.environ['PATH'])
attempt('getenv', lambda: os.getenv('PATH'))
attempt('connect', lambda: connect({port}))
attempt('connect-other', lambda: connect({other_port}))
attempt('run', lambda: asyncio.run(child()))
attempt('signal', lambda: os.kill(os.getppid(), 0))
"#,
        inside = s.inside(),
        outside = s.outside(),
    )
}

/// Run the probe with `flags`; its lines by kind.
fn probe_with(tag: &str, flags: &[String]) -> (Scratch, std::collections::HashMap<String, String>) {
    let s = Scratch::new(tag);
    let a = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let b = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let (pa, pb) = (a.local_addr().unwrap().port(), b.local_addr().unwrap().port());
    let flags: Vec<String> = flags.iter().map(|f| f.replace("{inside}", &s.inside()).replace("{port}", &pa.to_string())).collect();
    let args: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (out, _) = run(&args, tag, &probe(&s, pa, pb));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    let lines = stdout.lines().filter_map(|l| l.split_once(' ')).map(|(k, rest)| (k.to_string(), rest.to_string())).collect();
    (s, lines)
}

fn allowed(lines: &std::collections::HashMap<String, String>, kind: &str) -> bool {
    let l = &lines[kind];
    assert!(l == "allowed" || l.starts_with("failed") || l.starts_with("refused"), "{kind}: {l}");
    !l.starts_with("refused")
}

/// Every kind of access the probe program tries.
const KINDS: [&str; 11] = [
    "read-inside",
    "read-outside",
    "write-inside",
    "write-outside",
    "listdir",
    "env",
    "getenv",
    "connect",
    "connect-other",
    "run",
    "signal",
];

#[test]
fn without_the_sandbox_everything_is_allowed() {
    let (_s, lines) = probe_with("open", &[]);
    for kind in KINDS {
        assert!(allowed(&lines, kind), "{kind}: {}", lines[kind]);
    }
}

#[test]
fn the_sandbox_refuses_each_kind_of_access_naming_the_flag() {
    let (s, lines) = probe_with("closed", &["--sandbox".into()]);
    for kind in KINDS {
        assert!(!allowed(&lines, kind), "{kind}: {}", lines[kind]);
    }
    let inside = s.inside();
    assert_eq!(
        lines["read-inside"],
        format!("refused: reading '{inside}/data.txt' is not allowed by --sandbox: --allow-read={inside} would allow it")
    );
    assert_eq!(
        lines["write-inside"],
        format!("refused: writing '{inside}/new.txt' is not allowed by --sandbox: --allow-write={inside} would allow it")
    );
    assert_eq!(lines["env"], "refused: reading the environment is not allowed by --sandbox: --allow-env would allow it");
    let connect = &lines["connect"];
    assert!(connect.starts_with("refused: connecting to 127.0.0.1:") && connect.contains("--allow-net=127.0.0.1:"), "{connect}");
    assert_eq!(lines["run"], "refused: running 'true' is not allowed by --sandbox: --allow-run would allow it");
    assert!(lines["signal"].contains("--allow-run would allow it"), "{}", lines["signal"]);
    assert!(!s.0.join("inside/new.txt").exists());
}

#[test]
fn each_allow_flag_grants_exactly_what_it_names() {
    let all = [
        "read-inside",
        "read-outside",
        "write-inside",
        "write-outside",
        "listdir",
        "env",
        "getenv",
        "connect",
        "connect-other",
        "run",
        "signal",
    ];
    let cases: [(&str, &[&str], &[&str]); 5] = [
        ("read", &["--allow-read={inside}"], &["read-inside", "listdir"]),
        ("write", &["--allow-write={inside}"], &["write-inside"]),
        ("net", &["--allow-net=127.0.0.1:{port}"], &["connect"]),
        ("run", &["--allow-run"], &["run", "signal"]),
        ("env", &["--allow-env"], &["env", "getenv"]),
    ];
    for (tag, flags, granted) in cases {
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        let (_s, lines) = probe_with(&format!("allow-{tag}"), &flags);
        for kind in all {
            assert_eq!(allowed(&lines, kind), granted.contains(&kind), "{flags:?}, {kind}: {}", lines[kind]);
        }
    }
}

#[test]
fn a_link_inside_an_allowed_folder_does_not_lead_out() {
    let s = Scratch::new("link");
    std::os::unix::fs::symlink(s.0.join("outside/secret.txt"), s.0.join("inside/link.txt")).expect("symlink");
    let program = format!(
        "try:\n    print(open({:?}).read())\nexcept PermissionError as e:\n    print('refused')\nprint(open({:?}).read())\n",
        s.inside() + "/link.txt",
        s.inside() + "/../inside/data.txt"
    );
    let flag = format!("--allow-read={}", s.inside());
    let (out, _) = run(&[&flag], "link", &program);
    assert_eq!(text(&out.stdout), "refused\ndata\n", "{}", text(&out.stderr));
}

#[test]
fn an_uncaught_refusal_is_a_permission_error_with_status_1() {
    let (out, _) = run(&["--sandbox"], "uncaught", "import os\nprint('before')\nos.listdir('/')\n");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "before\n");
    let err = text(&out.stderr);
    assert!(err.ends_with("PermissionError: reading '/' is not allowed by --sandbox: --allow-read=/ would allow it\n"), "{err}");
}

#[test]
fn bad_allow_flags_are_usage_errors() {
    for flag in ["--allow-read=/no/such/folder/here", "--allow-net=host:port", "--allow-run=yes", "--allow-everything"] {
        let (out, _) = run(&[flag], "badflag", "print('ran')\n");
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert_eq!(text(&out.stdout), "", "{flag}");
    }
}
