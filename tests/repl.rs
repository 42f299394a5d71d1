//! The REPL as a user meets it: `aio` in a pseudo-terminal, keys typed into
//! it, and the screen read back through a terminal emulator. Every wait
//! polls the screen for what should appear, with a generous time limit, so
//! the tests are quick on an idle machine and still pass on a loaded one.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

const ROWS: u16 = 30;
const COLS: u16 = 100;
/// How long any one thing may take to show up before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

const UP: &str = "\x1b[A";
const CTRL_C: &str = "\x03";
const CTRL_D: &str = "\x04";

/// A scratch directory used as `$HOME` (where the history file lives) and
/// as the working directory; removed when the test ends.
struct Home(PathBuf);

impl Home {
    fn new() -> Home {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("aio-repl-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Home(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One `aio` session in a pseudo-terminal.
struct Repl {
    screen: Arc<Mutex<vt100::Parser>>,
    /// Everything the session wrote, for the failure message.
    transcript: Arc<Mutex<Vec<u8>>>,
    keys: Box<dyn Write + Send>,
    /// How many prompts had been shown when keys were last typed.
    prompts_before_keys: usize,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
}

impl Repl {
    /// Start `aio ARGS` with `home` as `$HOME`; returns once the first prompt is up.
    fn start(home: &Home, args: &[&str]) -> Repl {
        let pty = native_pty_system().openpty(PtySize { rows: ROWS, cols: COLS, pixel_width: 0, pixel_height: 0 }).expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_aio"));
        cmd.args(args);
        cmd.cwd(home.path());
        cmd.env("HOME", home.path());
        cmd.env("TERM", "xterm");
        let child = pty.slave.spawn_command(cmd).expect("start aio");
        drop(pty.slave);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(NonZeroU16::new(ROWS).unwrap(), NonZeroU16::new(COLS).unwrap(), 0)));
        let transcript = Arc::new(Mutex::new(Vec::new()));
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let (s, t) = (screen.clone(), transcript.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().process(&buf[..n]);
                t.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let keys = pty.master.take_writer().expect("pty writer");
        let repl = Repl { screen, transcript, keys, prompts_before_keys: 0, child, _master: pty.master };
        repl.wait_prompt();
        repl
    }

    /// How many prompts the editor has shown: it turns on bracketed paste
    /// each time it starts reading a line.
    fn prompts(&self) -> usize {
        self.transcript.lock().unwrap().windows(8).filter(|w| w == b"\x1b[?2004h").count()
    }

    /// Type `keys` as they are (no Enter added).
    fn send(&mut self, keys: &str) {
        self.prompts_before_keys = self.prompts();
        self.keys.write_all(keys.as_bytes()).expect("type into the pty");
        self.keys.flush().expect("type into the pty");
    }

    /// Type a line and press Enter; returns once the editor has taken it.
    fn enter(&mut self, line: &str) {
        let entered = self.lines_entered();
        self.send(line);
        self.send("\r");
        self.wait(&format!("the editor to take {line:?}"), |r| r.lines_entered() > entered);
    }

    /// Type a line at the prompt and wait for the next `>>> ` prompt.
    fn run(&mut self, line: &str) {
        self.enter(line);
        self.wait_prompt();
    }

    /// The screen's rows, trailing blanks trimmed, and the cursor's row.
    fn snapshot(&self) -> (Vec<String>, usize) {
        let p = self.screen.lock().unwrap();
        let rows = p.screen().rows(0, COLS).map(|r| r.trim_end().to_string()).collect();
        (rows, p.screen().cursor_position().0 as usize)
    }

    /// The screen's rows, trailing blanks trimmed.
    fn rows(&self) -> Vec<String> {
        self.snapshot().0
    }

    /// The row the cursor is on.
    fn cursor_row(&self) -> String {
        let (mut rows, at) = self.snapshot();
        std::mem::take(&mut rows[at])
    }

    /// What the test saw, for a failure message.
    fn dump(&self) -> String {
        let raw = self.transcript.lock().unwrap();
        let tail = &raw[raw.len().saturating_sub(3000)..];
        format!(
            "--- screen ---\n{}\n--- output (tail, escaped) ---\n{}",
            self.rows().join("\n"),
            String::from_utf8_lossy(tail).escape_debug()
        )
    }

    /// Poll until `ok` holds for the screen; fail the test after [`PATIENCE`].
    fn wait(&self, what: &str, ok: impl Fn(&Repl) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !ok(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}\n{}", self.dump());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait until `text` is somewhere on the screen.
    fn wait_text(&self, text: &str) {
        self.wait(&format!("{text:?} on the screen"), |r| r.rows().iter().any(|row| row.contains(text)));
    }

    /// Wait until a whole row of the screen reads `text`.
    fn wait_row(&self, text: &str) {
        self.wait(&format!("a row {text:?}"), |r| r.rows().iter().any(|row| row == text));
    }

    /// How many times the editor has given the terminal back (a line entered).
    fn lines_entered(&self) -> usize {
        self.transcript.lock().unwrap().windows(8).filter(|w| w == b"\x1b[?2004l").count()
    }

    /// Wait for a new, empty `>>> ` prompt (shown since keys were last typed).
    fn wait_prompt(&self) {
        self.wait_new_prompt(">>>");
    }

    /// Wait for a new, empty `... ` prompt.
    fn wait_more(&self) {
        self.wait_new_prompt("...");
    }

    fn wait_new_prompt(&self, prompt: &str) {
        let n = self.prompts_before_keys;
        self.wait(&format!("a new {prompt:?} prompt"), |r| r.prompts() > n && r.cursor_row() == prompt);
    }

    /// Wait until the cursor's row reads `text` (trailing blanks aside).
    fn wait_cursor_row(&self, text: &str) {
        self.wait(&format!("the cursor's row to read {text:?}"), |r| r.cursor_row() == text);
    }

    /// The row just above the cursor: what the last input printed last.
    fn row_above_cursor(&self) -> String {
        let (mut rows, at) = self.snapshot();
        if at == 0 {
            return String::new();
        }
        std::mem::take(&mut rows[at - 1])
    }

    /// Enter `line` and check that it prints `echo` just before the next prompt.
    fn expect(&mut self, line: &str, echo: &str) {
        self.run(line);
        assert_eq!(self.row_above_cursor(), echo, "after {line:?}\n{}", self.dump());
    }

    /// Paste `text` as a terminal does: bracketed, its newlines sent as
    /// carriage returns (no Enter added).
    fn paste(&mut self, text: &str) {
        self.send(&format!("\x1b[200~{}\x1b[201~", text.replace('\n', "\r")));
    }

    /// Type a compound statement line by line, each answered by the `... `
    /// prompt, and end it with a blank line.
    fn block(&mut self, lines: &[&str]) {
        for line in lines {
            self.enter(line);
            self.wait_more();
        }
        self.run("");
    }

    /// Wait for the process to end; its exit code.
    fn exit_code(&mut self) -> u32 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for aio") {
                return status.exit_code();
            }
            assert!(Instant::now() < deadline, "aio did not exit\n{}", self.dump());
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Repl {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn session() -> (Home, Repl) {
    let home = Home::new();
    let repl = Repl::start(&home, &[]);
    (home, repl)
}

#[test]
fn top_level_await_then_an_expression() {
    let (_home, mut r) = session();
    r.run("await sleep(0.1)");
    assert_eq!(r.row_above_cursor(), ">>> await sleep(0.1)", "a None result echoes nothing\n{}", r.dump());
    r.expect("1 + 2", "3");
    r.expect("await gather(sleep(0.05, 'a'), sleep(0.01, 'b'))", "['a', 'b']");
}

#[test]
fn background_output_goes_above_the_line_being_typed() {
    let (_home, mut r) = session();
    r.block(&["async def ticker():", "    for i in range(3):", "        await sleep(0.3)", "        print('tick', i)"]);
    r.run("import asyncio");
    r.run("t = asyncio.create_task(ticker())");
    // Half a line typed while the ticks come.
    r.send("100 + ");
    r.wait_text("tick 2");
    // The line being typed is redrawn below the ticks.
    r.wait_cursor_row(">>> 100 +");
    r.send("23");
    r.wait_cursor_row(">>> 100 + 23");
    r.send("\r");
    r.wait_text("123");
    r.wait_prompt();
    let rows = r.rows();
    let at = |s: &str| rows.iter().position(|row| row == s).unwrap_or_else(|| panic!("no row {s:?}\n{}", r.dump()));
    let (t0, t1, t2, line, echo) = (at("tick 0"), at("tick 1"), at("tick 2"), at(">>> 100 + 23"), at("123"));
    assert!(t0 < t1 && t1 < t2 && t2 < line && line + 1 == echo, "ticks above the prompt, the result below it\n{}", r.dump());
    // Nothing else was printed into the middle of the line.
    assert_eq!(rows.iter().filter(|row| row.starts_with("tick")).count(), 3, "{}", r.dump());
    r.expect("t.done()", "True");
}

#[test]
fn multi_line_async_def_then_await() {
    let (_home, mut r) = session();
    r.enter("async def add(a, b):");
    r.wait_more();
    r.enter("    await sleep(0.05)");
    r.wait_more();
    r.enter("    return a + b");
    r.wait_more();
    r.enter("");
    r.wait_prompt();
    let rows = r.rows();
    for line in ["... ", "...     await sleep(0.05)", "...     return a + b"] {
        assert!(rows.iter().any(|row| row == line.trim_end()), "continuation row {line:?}\n{}", r.dump());
    }
    r.expect("await add(2, 3)", "5");
    r.expect("await gather(add(1, 1), add(2, 2))", "[2, 4]");
}

#[test]
fn compound_statements_wait_for_a_blank_line() {
    let (_home, mut r) = session();
    // Each is complete on its first line, yet more lines may follow, as in Python.
    let headers = [
        "async def one(): return 1",
        "def two(): return 2",
        "class C: x = 3",
        "for i in range(2): print('for', i)",
        "async for x in agen(): print('got', x)",
        "async with Lock() as l: print('locked')",
        "while False: pass",
        "if True: print('if')",
        "with open('f.txt', 'w') as f: f.write('x')",
    ];
    r.block(&["async def agen():", "    yield 'a'"]);
    r.block(&["def same(f): return f"]);
    for h in headers {
        r.enter(h);
        r.wait_more();
        r.enter("");
        r.wait_prompt();
    }
    // A decorated function, and a try statement, go on to their blank line too.
    r.enter("@same");
    r.wait_more();
    r.enter("async def deco(): return 4");
    r.wait_more();
    r.enter("");
    r.wait_prompt();
    r.enter("try: pass");
    r.wait_more();
    r.enter("finally: print('finally')");
    r.wait_more();
    r.enter("");
    r.wait_prompt();
    r.wait_text("finally");
    for seen in ["for 1", "got a", "locked", "if"] {
        assert!(r.rows().iter().any(|row| row == seen), "{seen:?}\n{}", r.dump());
    }
    r.expect("(await one(), two(), C.x, await deco())", "(1, 2, 3, 4)");
}

#[test]
fn ctrl_c_cancels_the_awaited_task() {
    let (_home, mut r) = session();
    r.block(&[
        "async def slow():",
        "    try:",
        "        print('started')",
        "        await sleep(100)",
        "    except CancelledError:",
        "        print('cancelled')",
        "        raise",
    ]);
    r.enter("await slow()");
    r.wait_row("started");
    let pressed = Instant::now();
    r.send(CTRL_C);
    r.wait_prompt();
    let took = pressed.elapsed();
    assert!(took < Duration::from_secs(1), "the prompt came back after {took:?}\n{}", r.dump());
    // The task saw CancelledError at its await, then the REPL reported the
    // interrupt, each on a line of its own after the terminal's `^C`.
    let rows = r.rows();
    let at = |s: &str| rows.iter().position(|row| row == s).unwrap_or_else(|| panic!("no row {s:?}\n{}", r.dump()));
    let started = at("started");
    assert_eq!(rows[started + 1..started + 4], ["^C", "cancelled", "KeyboardInterrupt"], "{}", r.dump());
    r.expect("await sleep(0.1); 7", "7");
    r.expect("len(all_tasks())", "0");
}

#[test]
fn ctrl_c_stops_code_that_never_yields() {
    let (_home, mut r) = session();
    // Plain code, run without the loop: KeyboardInterrupt, as in Python.
    r.block(&["def spin():", "    print('spinning')", "    while True: pass"]);
    r.enter("spin()");
    r.wait_row("spinning");
    let pressed = Instant::now();
    r.send(CTRL_C);
    r.wait_prompt();
    assert!(pressed.elapsed() < Duration::from_secs(1), "the prompt came back after {:?}\n{}", pressed.elapsed(), r.dump());
    assert_eq!(r.row_above_cursor(), "KeyboardInterrupt", "{}", r.dump());
    // An awaited task that never reaches an await: the loop itself is interrupted.
    r.block(&["async def hog():", "    print('hogging')", "    while True: pass"]);
    r.enter("await hog()");
    r.wait_row("hogging");
    let pressed = Instant::now();
    r.send(CTRL_C);
    r.wait_prompt();
    assert!(pressed.elapsed() < Duration::from_secs(1), "the prompt came back after {:?}\n{}", pressed.elapsed(), r.dump());
    assert!(r.row_above_cursor().starts_with("KeyboardInterrupt"), "{}", r.dump());
    r.expect("await sleep(0.05, 'still fine')", "'still fine'");
}

#[test]
fn ctrl_c_right_after_enter_is_not_lost() {
    let (_home, mut r) = session();
    r.block(&["def spin():", "    while True: pass"]);
    for line in ["await sleep(100)", "spin()"] {
        // Once the editor gives the terminal back, Ctrl-C is a signal, which
        // may come before the line has started to run.
        r.enter(line);
        r.send(CTRL_C);
        r.wait_prompt();
        assert!(r.row_above_cursor().starts_with("KeyboardInterrupt"), "{line:?}\n{}", r.dump());
    }
}

#[test]
fn a_second_ctrl_c_leaves_a_task_that_ignores_cancellation() {
    let (_home, mut r) = session();
    r.block(&[
        "async def stubborn():",
        "    while True:",
        "        try:",
        "            print('waiting')",
        "            await sleep(100)",
        "        except CancelledError:",
        "            print('ignored')",
    ]);
    r.enter("await stubborn()");
    // Pressed before the task first ran, Ctrl-C would cancel it before it
    // could ignore anything.
    r.wait_row("waiting");
    r.send(CTRL_C);
    r.wait_row("ignored");
    r.send(CTRL_C);
    r.wait_prompt();
    assert!(r.row_above_cursor().contains("ignored the cancellation and runs on"), "{}", r.dump());
    r.expect("len(all_tasks())", "1");
    r.expect("await sleep(0.05, 'the prompt works')", "'the prompt works'");
    // Leaving the session does not wait for it for long.
    let left = Instant::now();
    r.send(CTRL_D);
    assert_eq!(r.exit_code(), 0, "{}", r.dump());
    assert!(left.elapsed() < Duration::from_secs(5), "exit took {:?}", left.elapsed());
}

#[test]
fn ctrl_c_at_the_prompt_clears_the_line() {
    let (_home, mut r) = session();
    r.send("this is not code");
    r.wait_cursor_row(">>> this is not code");
    r.send(CTRL_C);
    r.wait_text("KeyboardInterrupt");
    r.wait_prompt();
    r.expect("5", "5");
    // In a block, it drops the lines typed so far.
    r.enter("if True:");
    r.wait_more();
    r.send(CTRL_C);
    r.wait_prompt();
    r.expect("6", "6");
}

#[test]
fn syntax_error_then_a_working_statement() {
    let (_home, mut r) = session();
    r.run("x = = 1");
    r.wait_text("SyntaxError");
    r.expect("2 * 21", "42");
    r.run("def f(:");
    r.wait_text("SyntaxError");
    r.expect("x = 5; x", "5");
}

#[test]
fn tab_completes_attributes() {
    let (_home, mut r) = session();
    r.run("import asyncio");
    r.send("asyncio.ga\t");
    r.wait_cursor_row(">>> asyncio.gather");
    r.send("\x05"); // Ctrl-E: to the end of the line, then finish it.
    r.send("(sleep(0, 'done'))");
    r.send("\r");
    r.wait_prompt();
    r.expect("await _", "['done']");
    // Names defined at the prompt complete too.
    r.run("my_long_name = 1");
    r.send("my_lo\t");
    r.wait_cursor_row(">>> my_long_name");
    r.send("\r");
    r.wait_prompt();
    assert_eq!(r.row_above_cursor(), "1", "{}", r.dump());
}

#[test]
fn underscore_holds_the_last_result() {
    let (_home, mut r) = session();
    r.expect("6 * 7", "42");
    r.expect("_ + 1", "43");
    // A statement, or a None result, leaves it alone.
    r.run("y = 1");
    r.run("None");
    r.expect("_", "43");
    r.expect("await sleep(0, 'slept')", "'slept'");
    r.expect("_.upper()", "'SLEPT'");
}

#[test]
fn ctrl_d_exits_with_status_0() {
    let (_home, mut r) = session();
    r.run("x = 1");
    r.send(CTRL_D);
    assert_eq!(r.exit_code(), 0, "{}", r.dump());
}

#[test]
fn exit_with_a_status() {
    let (_home, mut r) = session();
    r.enter("raise SystemExit(3)");
    assert_eq!(r.exit_code(), 3, "{}", r.dump());
    let (_home, mut r) = session();
    r.enter("quit(4)");
    assert_eq!(r.exit_code(), 4, "{}", r.dump());
}

#[test]
fn exit_and_quit_without_parentheses_say_how_to_leave() {
    let (_home, mut r) = session();
    r.expect("exit", "Use exit() or Ctrl-D (i.e. EOF) to exit");
    r.expect("quit", "Use quit() or Ctrl-D (i.e. EOF) to exit");
    r.enter("exit()");
    assert_eq!(r.exit_code(), 0, "{}", r.dump());
}

#[test]
fn ctrl_d_at_a_continuation_prompt_ends_the_block_not_the_session() {
    let (_home, mut r) = session();
    // As in CPython, Ctrl-D on an empty `... ` line ends the block as a
    // blank line would: it runs, and the session goes on.
    r.enter("for i in range(2):");
    r.wait_more();
    r.enter("    print('line', i)");
    r.wait_more();
    r.send(CTRL_D);
    r.wait_prompt();
    r.wait_row("line 1");
    // A block that cannot run is reported, and the session goes on.
    r.enter("def f():");
    r.wait_more();
    r.send(CTRL_D);
    r.wait_prompt();
    r.wait_text("IndentationError: expected an indented block");
    r.expect("6 * 7", "42");
    // At `>>> `, Ctrl-D leaves.
    r.send(CTRL_D);
    assert_eq!(r.exit_code(), 0, "{}", r.dump());
}

#[test]
fn help_explains_itself_and_shows_signatures_and_docstrings() {
    let (_home, mut r) = session();
    r.expect("help", "Type help() for interactive help, or help(object) for help about object.");
    // A blank line inside the docstring belongs to the string, not to the prompt.
    r.block(&[
        "async def fetch(url, timeout=10):",
        "    \"\"\"Fetch a page.",
        "",
        "    Waits at most timeout seconds.",
        "    \"\"\"",
        "    return url",
    ]);
    r.run("help(fetch)");
    let rows = r.rows();
    let at = rows
        .iter()
        .position(|row| row == "Help on function fetch in module __main__:")
        .unwrap_or_else(|| panic!("no help title\n{}", r.dump()));
    assert_eq!(
        rows[at + 1..at + 7],
        ["", "async fetch(url, timeout=10)", "    Fetch a page.", "", "    Waits at most timeout seconds.", ""],
        "{}",
        r.dump()
    );
    r.expect("fetch.__doc__", "'Fetch a page.\\n\\n    Waits at most timeout seconds.\\n    '");
    r.run("help(len)");
    r.wait_row("len(obj, /)");
    r.run("help()");
    r.wait_text("help(x) shows the documentation of x");
}

#[test]
fn asyncio_is_imported_as_in_a_script() {
    let (_home, mut r) = session();
    // The prelude's names need no import; `asyncio.` needs `import asyncio`.
    r.run("asyncio");
    r.wait_text("NameError: name 'asyncio' is not defined");
    r.expect("await sleep(0, 'from the prelude')", "'from the prelude'");
    r.run("import asyncio");
    r.expect("asyncio.sleep is sleep", "True");
    // As in a script whose top level awaits, the loop is already running.
    r.block(&["async def main():", "    return 1"]);
    r.run("asyncio.run(main())");
    r.wait_text("RuntimeError: asyncio.run() cannot be called from a running event loop");
    r.expect("await main()", "1");
}

#[test]
fn dash_m_asyncio_opens_the_repl() {
    let home = Home::new();
    let mut r = Repl::start(&home, &["-m", "asyncio"]);
    r.wait_text("asyncio REPL");
    // As `python -m asyncio`, the session starts with `import asyncio` entered.
    r.wait_row(">>> import asyncio");
    r.expect("await asyncio.sleep(0.01, 'awaited')", "'awaited'");
    r.expect("asyncio.get_running_loop().is_running()", "True");
    r.send(CTRL_D);
    assert_eq!(r.exit_code(), 0, "{}", r.dump());
}

#[test]
fn the_timeline_of_a_session_is_written_when_it_ends() {
    let home = Home::new();
    let mut r = Repl::start(&home, &["--virtual-time", "--timeline", "session.svg"]);
    r.wait_text("session.svg when it ends");
    r.expect("await gather(sleep(1, 'a'), sleep(2, 'b'))", "['a', 'b']");
    r.send(CTRL_D);
    assert_eq!(r.exit_code(), 0, "{}", r.dump());
    let file = home.path().join("session.svg");
    let svg = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}\n{}", file.display(), r.dump()));
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
}

#[test]
fn replay_writes_the_page_of_an_awaited_expression() {
    let home = Home::new();
    let mut r = Repl::start(&home, &["--virtual-time"]);
    r.block(&["async def work(n):", "    await sleep(n)", "    print('slept', n)", "    return n"]);
    r.expect("await replay(gather(work(1), work(2)), 'work.html')", "[1, 2]");
    r.wait_text("aio: the replay (");
    let file = home.path().join("work.html");
    let page = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}\n{}", file.display(), r.dump()));
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..page.len().min(200)]);
    for event in ["waits on sleep(1.0)", "timer: sleep(2.0) of", "the awaited expression is done", "Task-1 (top level) resumes"] {
        assert!(page.contains(event), "the page lacks {event:?}");
    }
    assert!(page.contains("\"out\":\"slept 1\\nslept 2\\n\""), "the output printed meanwhile");
    // The session goes on, and a page that cannot be written is said at once.
    r.expect(
        "await replay(sleep(0, 'x'), 'no/such/folder/x.html')",
        "FileNotFoundError: [Errno 2] No such file or directory: 'no/such/folder/x.html'",
    );
    r.expect("await replay(sleep(0, 'y'), 'y.txt')", "ValueError: the replay is an .html page: 'y.txt' does not end in .html");
    r.expect("await sleep(1, 'after')", "'after'");
}

#[test]
fn virtual_time_sleeps_take_no_time() {
    let home = Home::new();
    let mut r = Repl::start(&home, &["--virtual-time"]);
    r.wait_text("virtual clock");
    r.run("import asyncio");
    r.expect("asyncio.get_running_loop().time()", "0.0");
    let before = Instant::now();
    r.run("await sleep(100)");
    assert!(before.elapsed() < Duration::from_secs(5), "sleep(100) took {:?}", before.elapsed());
    r.expect("asyncio.get_running_loop().time()", "100.0");
    r.run("import time");
    r.expect("time.time()", "946684900.0");
    // Background timers wait while the prompt is up and run on the next await.
    r.run("t = create_task(sleep(50, 'later'))");
    r.expect("t.done()", "False");
    r.expect("await t", "'later'");
    r.expect("asyncio.get_running_loop().time()", "150.0");
}

#[test]
fn definitions_survive_a_runtime_error() {
    let (_home, mut r) = session();
    r.block(&["def f(): return 41"]);
    r.run("1 / 0");
    r.wait_text("ZeroDivisionError: division by zero");
    r.expect("f() + 1", "42");
    r.block(&["async def boom():", "    await sleep(0.01)", "    raise ValueError('boom')"]);
    r.run("await boom()");
    r.wait_text("ValueError: boom");
    r.expect("f()", "41");
}

#[test]
fn history_is_saved_and_recalled_by_a_later_session() {
    let home = Home::new();
    let file = home.path().join(".aio_history");
    let mut first = Repl::start(&home, &[]);
    first.expect("'hist' + 'ory'", "'history'");
    first.send(CTRL_D);
    assert_eq!(first.exit_code(), 0, "{}", first.dump());
    let saved = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}\n{}", file.display(), first.dump()));
    assert!(saved.contains("'hist' + 'ory'"), "{saved:?}");

    let mut second = Repl::start(&home, &[]);
    second.send(UP);
    second.wait_cursor_row(">>> 'hist' + 'ory'");
    second.send("\r");
    second.wait_prompt();
    assert_eq!(second.row_above_cursor(), "'history'", "{}", second.dump());
}

#[test]
fn history_recalls_a_whole_block_in_the_same_and_a_later_session() {
    let home = Home::new();
    let file = home.path().join(".aio_history");
    let mut first = Repl::start(&home, &[]);
    first.block(&["def twice(x):", "    y = 2 * x", "    return y"]);
    first.expect("twice(4)", "8");
    // Up twice: the block comes back whole, not its first or last line.
    first.send(UP);
    first.wait_cursor_row(">>> twice(4)");
    first.send(UP);
    first.wait_cursor_row("    return y");
    let (rows, at) = first.snapshot();
    assert_eq!(rows[at - 2..at], [">>> def twice(x):", "    y = 2 * x"], "{}", first.dump());
    // Mended and entered, it runs at once, as one input.
    first.send(" + 1");
    first.wait_cursor_row("    return y + 1");
    first.send("\r");
    first.wait_prompt();
    first.expect("twice(4)", "9");
    first.send(CTRL_D);
    assert_eq!(first.exit_code(), 0, "{}", first.dump());
    let saved = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    // One entry a line, readable, its newlines escaped.
    assert!(saved.lines().any(|l| l == "def twice(x):\\n    y = 2 * x\\n    return y + 1"), "{saved:?}");

    let mut second = Repl::start(&home, &[]);
    second.send(UP);
    second.wait_cursor_row(">>> twice(4)");
    second.send(UP);
    second.wait_cursor_row("    return y + 1");
    second.send("\r");
    second.wait_prompt();
    second.expect("twice(5)", "11");
}

#[test]
fn a_history_file_of_one_line_entries_still_loads() {
    let home = Home::new();
    let file = home.path().join(".aio_history");
    // An older file: no header, one entry a line.
    std::fs::write(&file, "old = 20\nold + 1\n").expect("write a history file");
    let mut r = Repl::start(&home, &[]);
    r.send(UP);
    r.wait_cursor_row(">>> old + 1");
    r.send(UP);
    r.wait_cursor_row(">>> old = 20");
    r.send("\r");
    r.wait_prompt();
    r.expect("old + 1", "21");
    r.block(&["if old:", "    print('block', old)"]);
    r.wait_row("block 20");
    r.send(CTRL_D);
    assert_eq!(r.exit_code(), 0, "{}", r.dump());
    let saved = std::fs::read_to_string(&file).expect("read the history file");
    let lines: Vec<&str> = saved.lines().collect();
    assert_eq!(lines.first(), Some(&"#V2"), "{saved:?}");
    for entry in ["old = 20", "old + 1", "if old:\\n    print('block', old)"] {
        assert!(lines.contains(&entry), "{entry:?} in {saved:?}");
    }
}

#[test]
fn a_pasted_block_with_blank_lines_arrives_whole() {
    let (_home, mut r) = session();
    // Typed, the blank lines would end the function; pasted, they do not.
    r.paste(
        "async def total(xs):\n    s = 0\n\n    for x in xs:\n        await sleep(0)\n\n        s += x\n\n    return s\n\n\
         class Box:\n    def __init__(self, v):\n        self.v = v\n\n    def get(self):\n        return self.v\n\n\
         print('defined')\nawait total([1, 2, 3]) + Box(4).get()\n",
    );
    r.run("");
    r.wait_row("defined");
    assert_eq!(r.row_above_cursor(), "10", "{}", r.dump());
    // Without a newline at its end, a complete paste runs on Enter.
    r.paste("def one():\n\n    return 1");
    r.run("");
    r.expect("one() + await total([2])", "3");
}

#[test]
fn background_errors_go_above_the_prompt_too() {
    let (_home, mut r) = session();
    r.run("import sys");
    r.block(&[
        "async def warn():",
        "    await sleep(0.2)",
        "    print('warned', file=sys.stderr)",
        "    raise ValueError('in the background')",
    ]);
    r.run("t = create_task(warn())");
    r.send("abc");
    r.wait_row("warned");
    r.wait_cursor_row(">>> abc");
    let rows = r.rows();
    let at = rows.iter().position(|row| row == "warned").unwrap();
    assert_eq!(rows[at + 1], ">>> abc", "{}", r.dump());
    r.send("\x15"); // Ctrl-U: clear the line.
    r.wait_cursor_row(">>>");
    // Dropping the failed task reports its exception, as CPython does.
    r.run("del t");
    r.wait_text("Task exception was never retrieved");
    r.wait_text("ValueError: in the background");
    r.expect("'still here'", "'still here'");
}

#[test]
fn a_server_started_at_the_prompt_keeps_serving_while_the_user_types() {
    let (_home, mut r) = session();
    // asyncio is imported at the prompt as in a script.
    r.run("import asyncio");
    r.block(&[
        "async def handle(reader, writer):",
        "    line = await reader.readline()",
        "    print('served', line)",
        "    writer.write(line.upper())",
        "    await writer.drain()",
        "    writer.close()",
    ]);
    r.run("server = await asyncio.start_server(handle, '127.0.0.1', 0)");
    r.run("print('PORT', server.sockets[0].getsockname()[1])");
    let port = r.rows().iter().find_map(|row| row.strip_prefix("PORT ").map(str::to_string)).expect("the port on the screen");
    // Half a line typed: the prompt is idle while a CPython client connects.
    r.send("6 * ");
    let client = "import socket, sys\ns = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)\ns.sendall(b'hello\\n')\nprint(s.makefile('rb').readline())";
    let out = std::process::Command::new("python3").args(["-c", client, &port]).output().expect("run python3");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "b'HELLO\\n'\n", "{}\n{}", String::from_utf8_lossy(&out.stderr), r.dump());
    r.wait_text("served b'hello\\n'");
    r.send("7\r");
    r.wait_row("42");
    r.wait_prompt();
    // The REPL is a client too.
    r.run("rd, wr = await asyncio.open_connection('127.0.0.1', server.sockets[0].getsockname()[1])");
    r.run("wr.write(b'again\\n')");
    r.expect("await rd.readline()", "b'AGAIN\\n'");
}

/// A background task that never awaits cannot freeze the session: Ctrl-C
/// at the prompt interrupts it (reported with its line) and the prompt
/// comes back within a second, with the loop still running the other tasks.
#[test]
fn ctrl_c_interrupts_a_task_spinning_at_the_prompt() {
    let (_home, mut r) = session();
    r.run("ticks = []");
    r.block(&["async def tick():", "    while True:", "        await sleep(0.02)", "        ticks.append(1)"]);
    r.block(&["async def spin():", "    while True: pass"]);
    r.run("t = create_task(tick())");
    r.run("s = create_task(spin())");
    // The loop runs the spinning task at the prompt from now on.
    std::thread::sleep(Duration::from_millis(200));
    let pressed = Instant::now();
    r.send(CTRL_C);
    r.wait_text("(spin) is interrupted at line 2: while True: pass");
    r.wait_prompt();
    assert!(pressed.elapsed() < Duration::from_secs(1), "the prompt took {:?} to come back\n{}", pressed.elapsed(), r.dump());
    r.expect("s.done(), type(s.exception()).__name__", "(True, 'KeyboardInterrupt')");
    // The loop is alive: the ticking task goes on.
    r.run("n = len(ticks)");
    std::thread::sleep(Duration::from_millis(300));
    r.expect("len(ticks) > n, t.done()", "(True, False)");
}

/// The same while an input awaits: Ctrl-C reaches the spinning task, and a
/// task holding the loop for over a second is named, with its line.
#[test]
fn a_task_holding_the_loop_is_named_and_interrupted_while_awaiting() {
    let (_home, mut r) = session();
    r.block(&["async def spin():", "    n = 0", "    while True:", "        n += 1"]);
    r.enter("s = create_task(spin(), name='spinner'); await sleep(0.05)");
    // The line is where the loop was caught: its header or its body.
    r.wait_text("aio: warning: spinner (spin) has held the loop for more than a second at line ");
    let pressed = Instant::now();
    r.send(CTRL_C);
    r.wait_text("spinner (spin) is interrupted at line ");
    r.wait_prompt();
    assert!(pressed.elapsed() < Duration::from_secs(1), "the prompt took {:?} to come back\n{}", pressed.elapsed(), r.dump());
    r.expect("await sleep(0.05); 'alive'", "'alive'");
}

/// `pstree()` at the prompt draws the pending tasks, each under the task
/// awaiting it, with what it waits on.
#[test]
fn pstree_shows_the_await_tree_of_the_tasks() {
    let (_home, mut r) = session();
    r.block(&["async def leaf(d):", "    await sleep(d)"]);
    r.block(&["async def parent():", "    await gather(leaf(100), leaf(200))"]);
    r.run("p = create_task(parent(), name='parent')");
    r.run("await sleep(0)");
    r.run("pstree()");
    let rows = r.rows();
    let at = rows
        .iter()
        .position(|row| row.starts_with("parent (parent) waits on gather("))
        .unwrap_or_else(|| panic!("no parent row\n{}", r.dump()));
    assert!(rows[at + 1].starts_with("├── Task-") && rows[at + 1].contains("(leaf) waits on sleep(100"), "{}", r.dump());
    assert!(rows[at + 2].starts_with("└── Task-") && rows[at + 2].contains("(leaf) waits on sleep(200"), "{}", r.dump());
    r.run("p.cancel()");
    r.run("await sleep(0.01)");
    r.expect("pstree()", "no task is pending");
}

#[test]
fn the_sandbox_and_the_memory_limit_hold_at_the_prompt() {
    let home = Home::new();
    let mut r = Repl::start(&home, &["--sandbox", "--allow-env", "--max-memory", "200M"]);
    r.run("import os");
    r.run("open('notes.txt', 'w')");
    let refused = "PermissionError: writing 'notes.txt' is not allowed by --sandbox: --allow-write=";
    assert!(r.rows().iter().any(|row| row.starts_with(refused)), "{}", r.dump());
    r.expect("'HOME' in os.environ", "True");
    r.run("x = [0] * 10**9");
    assert_eq!(r.row_above_cursor(), "MemoryError: --max-memory 200M reached", "{}", r.dump());
    // The session goes on.
    r.expect("6 * 7", "42");
}
