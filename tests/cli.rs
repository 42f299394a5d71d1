//! The command line as a user meets it: flags, missing files, `-c`,
//! `--dis`, and inputs too big to keep as files in the repository.

use std::process::{Command, Output, Stdio};

fn aio(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aio")).args(args).stdin(Stdio::null()).output().expect("run aio")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn version_and_help() {
    let v = aio(&["--version"]);
    assert!(v.status.success());
    assert!(text(&v.stdout).starts_with("aio "));
    let h = aio(&["--help"]);
    assert!(h.status.success());
    assert!(text(&h.stdout).contains("--virtual-time"));
}

#[test]
fn bad_flag_is_a_one_line_error_and_exit_2() {
    let o = aio(&["--no-such-flag", "x.aio"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("unknown option --no-such-flag"), "{err}");
    assert!(err.lines().count() <= 2, "{err}");
}

/// A refusal: exit 2, nothing run, and one line saying why (then the
/// pointer to `--help`); that line.
fn refused(args: &[&str]) -> String {
    let o = aio(args);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(text(&o.stdout), "", "{args:?} ran something");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{args:?}: {err}");
    assert_eq!(lines[1], "Try 'aio --help' for more information.", "{args:?}");
    lines[0].to_string()
}

#[test]
fn a_timeline_it_cannot_write_is_refused_before_anything_runs() {
    let dir = std::env::temp_dir().join(format!("aio-timeline-ext-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("run.png");
    let why = refused(&["--timeline", png.to_str().unwrap(), "-c", "print('ran')"]);
    assert!(why.starts_with("aio: --timeline writes .svg or .html files"), "{why}");
    assert!(why.contains("run.png"), "{why}");
    assert!(!png.exists(), "nothing is written");
    let why = refused(&["--timeline", "timeline", "-c", "print('ran')"]);
    assert!(why.contains(".svg or .html"), "{why}");
    // The extensions it writes, in any case.
    for name in ["t.svg", "t.HTML", "t.htm"] {
        let out = dir.join(name);
        let o = aio(&["--virtual-time", "--timeline", out.to_str().unwrap(), "-c", "print(await sleep(1, 'ran'))"]);
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "ran\n");
        assert!(std::fs::read_to_string(&out).is_ok_and(|t| t.contains("<svg")), "{name}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn options_missing_their_value_are_refused() {
    assert_eq!(refused(&["--timeline"]), "aio: argument expected for the --timeline option");
    assert_eq!(refused(&["-c"]), "aio: argument expected for the -c option");
    assert_eq!(refused(&["-m"]), "aio: argument expected for the -m option");
    assert_eq!(refused(&["--trace", "--no-such-flag"]), "aio: unknown option --no-such-flag");
}

#[test]
fn dash_m_asyncio_without_a_terminal_runs_standard_input() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_aio"))
        .args(["--virtual-time", "-m", "asyncio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run aio");
    child.stdin.take().expect("stdin").write_all(b"import asyncio\nprint(await asyncio.sleep(5, 'top-level await'))\n").unwrap();
    let o = child.wait_with_output().expect("wait for aio");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "top-level await\n");
}

#[test]
fn exit_and_help_in_a_script() {
    let o = aio(&["-c", "print(exit)\nhelp(len)\nquit(5)\nprint('not reached')"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.starts_with("Use exit() or Ctrl-D (i.e. EOF) to exit\nHelp on built-in function len in module builtins:\n\nlen(obj, /)\n"),
        "{out}"
    );
    assert!(!out.contains("not reached"), "{out}");
}

#[test]
fn missing_file_is_exit_2() {
    let o = aio(&["/no/such/file.aio"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("can't open file '/no/such/file.aio'"));
}

#[test]
fn dash_c_runs_code_with_argv() {
    let o = aio(&["-c", "import sys; print(sys.argv, 6 * 7)", "a", "b"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "['-c', 'a', 'b'] 42\n");
}

#[test]
fn script_argv() {
    let dir = std::env::temp_dir().join(format!("aio-argv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("args.aio");
    std::fs::write(&f, "import sys\nprint(sys.argv[1:])\n").unwrap();
    let o = aio(&[f.to_str().unwrap(), "one", "--two"]);
    assert_eq!(text(&o.stdout), "['one', '--two']\n");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_python_script_imports_a_python_module_beside_it() {
    let dir = std::env::temp_dir().join(format!("aio-sibling-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shapes.py"), "SIDES = {'square': 4}\n").unwrap();
    std::fs::write(dir.join("shapes_too.aio"), "NAME = 'aio first'\n").unwrap();
    std::fs::write(dir.join("shapes_too.py"), "NAME = 'py second'\n").unwrap();
    let f = dir.join("main.py");
    std::fs::write(
        &f,
        "import shapes\nimport shapes_too\nprint(shapes.SIDES['square'], __import__('shapes') is shapes, shapes_too.NAME)\n",
    )
    .unwrap();
    let o = aio(&[f.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "4 True aio first\n");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn dis_prints_bytecode() {
    let o = aio(&["--dis", "-c", "def f(a):\n    return a + 1\n"]);
    // --dis must come before -c; -c ends the options.
    let _ = o;
    let dir = std::env::temp_dir().join(format!("aio-dis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("d.aio");
    std::fs::write(&f, "def f(a):\n    return a + 1\nprint(f(1))\n").unwrap();
    let o = aio(&["--dis", f.to_str().unwrap()]);
    assert!(o.status.success());
    let out = text(&o.stdout);
    assert!(out.contains("Disassembly of code f"), "{out}");
    assert!(out.contains("Binary"), "{out}");
    assert!(out.contains("ReturnValue"), "{out}");
    // Global slots are named, and a fused run shows what it stands for.
    assert!(out.lines().any(|l| l.contains("LoadGlobal") && l.trim_end().ends_with("print")), "{out}");
    assert!(out.lines().any(|l| l.contains("LoadFastIntBinary") && l.trim_end().ends_with("a + 1")), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn syntax_error_names_the_place() {
    let o = aio(&["-c", "x = 1\nif x > 0\n    print(x)\n"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("SyntaxError: expected ':'"), "{err}");
    assert!(err.contains("<string>:2:9"), "{err}");
}

#[test]
fn uncaught_exception_shows_a_traceback() {
    let o = aio(&["-c", "def f():\n    return 1 / 0\nf()\n"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.starts_with("Traceback (most recent call last):"), "{err}");
    assert!(err.contains("return 1 / 0"), "{err}");
    assert!(err.trim_end().ends_with("ZeroDivisionError: division by zero"), "{err}");
}

#[test]
fn hundred_thousand_line_file() {
    let dir = std::env::temp_dir().join(format!("aio-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("big.aio");
    let mut src = String::new();
    for i in 0..50_000 {
        src.push_str(&format!("def f{i}(x):\n    return x + {i}\n"));
    }
    src.push_str("print(f49999(1))\n");
    std::fs::write(&f, src).unwrap();
    let start = std::time::Instant::now();
    let o = aio(&[f.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "50000\n");
    assert!(start.elapsed().as_secs() < 20);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn hundred_thousand_deep_expression_is_an_error_not_a_crash() {
    let dir = std::env::temp_dir().join(format!("aio-deep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("deep.aio");
    std::fs::write(&f, format!("x = {}1\n", "-".repeat(100_000))).unwrap();
    let o = aio(&[f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("RecursionError"), "{}", text(&o.stderr));
    std::fs::remove_dir_all(&dir).ok();
}

/// Under `--virtual-time` the wall clock of `datetime`, `time.time()` and
/// `date.today()` moves with the virtual clock: an hour's sleep is an hour
/// later on all of them, at once.
#[test]
fn datetime_now_follows_the_virtual_clock() {
    let program = "import asyncio, datetime, time\n\
        async def main():\n\
        \x20   a, t, u = datetime.datetime.now(), time.time(), datetime.datetime.now(datetime.timezone.utc)\n\
        \x20   await asyncio.sleep(3600)\n\
        \x20   print(round((datetime.datetime.now() - a).total_seconds()), round(time.time() - t))\n\
        \x20   await asyncio.sleep(2 * 86400)\n\
        \x20   print((datetime.datetime.now(datetime.timezone.utc) - u).days, (datetime.date.today() - a.date()).days in (2, 3))\n\
        asyncio.run(main())\n";
    let start = std::time::Instant::now();
    let o = aio(&["--virtual-time", "-c", program]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "3600 3600\n2 True\n");
    assert!(start.elapsed().as_secs() < 10, "the sleeps took real time");
}
