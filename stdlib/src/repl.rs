//! The interactive session: `aio` with no program. The editor reads lines on
//! a thread of its own while this thread keeps the event loop running, so
//! tasks started at the prompt go on, and print above it, while the user types.

mod complete;
mod interrupt;
mod terminal;

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aio_grammar::ast::StmtKind;
use aio_grammar::SyntaxError;
use aio_interp::bytecode::Code;
use aio_interp::compiler::Mode;
use aio_interp::event_loop::{self, EventLoop, Poll};
use aio_interp::import::{compile_source, new_module};
use aio_interp::object::{Args, Module, PyErr, PyResult};
use aio_interp::types::types;
use aio_interp::{Value, Vm};

pub use complete::Names;
use interrupt::Mode as Ctrl;
use terminal::{Reply, Terminal};

/// How a session starts, from the command line.
pub struct Start {
    /// `--virtual-time`: the clock moves only while something is awaited.
    pub virtual_time: bool,
    /// `aio -m asyncio`: greet as `python -m asyncio` does, whose session
    /// begins with `import asyncio` already entered.
    pub asyncio: bool,
    /// `--timeline OUT`: the file written when the session ends.
    pub timeline: Option<String>,
    /// `--replay OUT`: the page of the whole session, written when it ends.
    pub replay: Option<String>,
}

/// Run the REPL on the terminal; returns the exit status.
pub fn run(vm: &mut Vm, start: &Start) -> u8 {
    let mut session = Session::new(vm);
    session.vm.write_err(&banner(start));
    let mut status = None;
    if start.asyncio {
        session.vm.write_err(">>> import asyncio\n");
        status = session.run_input("import asyncio\n");
    }
    let status = status.unwrap_or_else(|| session.repl());
    session.shutdown();
    crate::finish(session.vm);
    status
}

/// What the session says first.
fn banner(start: &Start) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let clock = if start.virtual_time { ", on a virtual clock (sleeps take no time)" } else { "" };
    let mut b = if start.asyncio {
        format!("asyncio REPL (aio {version}){clock}\nUse \"await\" directly instead of \"asyncio.run()\".\n")
    } else {
        format!("aio {version} REPL{clock}\n`await` works at the prompt and tasks keep running between inputs.\n")
    };
    b.push_str("Type \"help\" for more information. Ctrl-C cancels what runs, Ctrl-D exits.\n");
    if let Some(path) = &start.timeline {
        b.push_str(&format!("The timeline of the session goes to {path} when it ends.\n"));
    }
    if let Some(path) = &start.replay {
        b.push_str(&format!("The replay of the session goes to {path} when it ends.\n"));
    }
    b
}

/// The session's state: one `__main__` module and one event loop for all inputs.
struct Session<'a> {
    vm: &'a mut Vm,
    module: Rc<Module>,
    loop_v: Value,
    names: Arc<Mutex<Names>>,
    term: Terminal,
    /// The lines of an input still being typed.
    lines: Vec<String>,
    /// Ctrl-C at the prompt interrupted a task running meanwhile: the
    /// editor's own report of the key is not repeated.
    key_answered: bool,
}

/// Why an input did not end normally.
enum Failure {
    /// An exception escaped it.
    Error(PyErr),
    /// Ctrl-C cancelled the awaited task.
    Interrupted,
    /// The awaited task could never finish: everything is blocked.
    Deadlock(PyErr),
    /// A second Ctrl-C gave up waiting on a task that does not end; it runs on.
    Abandoned(String),
}

/// What reading a prompt gave.
enum Input {
    Reply(Reply),
    /// A background task raised `SystemExit`.
    Exit(u8),
}

impl<'a> Session<'a> {
    fn new(vm: &'a mut Vm) -> Session<'a> {
        let module = new_module("__main__", None);
        if let Ok(b) = vm.import_module("builtins") {
            module.set("__builtins__", b);
        }
        vm.host.add_module("__main__", Value::Module(module.clone()));
        vm.host.set_line_buffered(true);
        // The loop runs for the whole session: code at the prompt may
        // `create_task` without `await`, as in `python -m asyncio`.
        let loop_v = event_loop::new_loop();
        if let Some(l) = loop_v.downcast::<EventLoop>() {
            l.running.set(true);
        }
        vm.host.set_running_loop(Some(loop_v.clone()));
        // Loaded now, not bound: as in a script, `asyncio.` needs `import
        // asyncio`, while the prelude's names need nothing.
        let _ = vm.import_module("asyncio");
        interrupt::install();
        let names = Arc::new(Mutex::new(Names::default()));
        let term = Terminal::start(names.clone(), history_file());
        aio_interp::vm::set_poke_hook(warn_slow);
        vm.builtins.set_str("pstree", aio_interp::types::native_fn("pstree", pstree));
        if let Err(e) = crate::replay::install_repl_helper(vm) {
            let text = aio_interp::diagnostic::format_exception(vm, &e);
            vm.write_err(&text);
        }
        let mut s = Session { vm, module, loop_v, names, term, lines: Vec::new(), key_answered: false };
        s.refresh_names();
        s
    }

    /// Read, run and print until Ctrl-D or `exit()`; the exit status.
    fn repl(&mut self) -> u8 {
        loop {
            let prompt = if self.lines.is_empty() { ">>> " } else { "... " };
            let status = match self.read(prompt) {
                Input::Reply(Reply::Line(text)) => self.take(text),
                Input::Reply(Reply::Interrupted) => {
                    self.abandon();
                    // Answered already, if it interrupted a task running meanwhile.
                    if !std::mem::take(&mut self.key_answered) {
                        self.vm.write_err("KeyboardInterrupt\n");
                    }
                    None
                }
                Input::Reply(Reply::Eof) if self.lines.is_empty() => return 0,
                // Ctrl-D at `... ` ends the block as a blank line would (so
                // CPython does): it runs, or its error is reported, and the
                // session goes on.
                Input::Reply(Reply::Eof) => self.complete(),
                Input::Exit(status) => return status,
            };
            if let Some(status) = status {
                return status;
            }
        }
    }

    /// Show the prompt and run the loop until the user enters something.
    fn read(&mut self, prompt: &str) -> Input {
        interrupt::set_mode(Ctrl::Prompt);
        self.term.begin_prompt(self.vm, prompt);
        let got = loop {
            // Under virtual time the clock stands still at the prompt: it
            // moves only while something is awaited, so timers wait too.
            interrupt::busy(true);
            let polled = event_loop::poll(self.vm, &self.loop_v);
            interrupt::busy(false);
            // Ctrl-C at the prompt went to the task running: it is answered
            // here, not again by the editor or by the next input.
            match interrupt::take_key_interrupt() {
                interrupt::FROM_EDITOR => {
                    interrupt::clear_vm();
                    self.key_answered = true;
                }
                interrupt::FROM_SIGNAL => interrupt::clear(),
                _ => {}
            }
            let wait = match polled {
                Ok(Poll::Ran) => Duration::ZERO,
                Ok(Poll::Wait(w)) if !self.vm.host.virtual_time() => Duration::from_secs_f64(w.clamp(0.0, 1.0)),
                Ok(_) => Duration::from_secs(1),
                Err(e) => {
                    if e.is(&types().exc.system_exit) {
                        return Input::Exit(exit_status(self.vm, &e));
                    }
                    if e.is(&types().exc.keyboard_interrupt) {
                        self.report_interrupted(&e);
                    } else {
                        self.report(&e);
                    }
                    Duration::ZERO
                }
            };
            // With sockets open (a server started at the prompt), idle on
            // them: the terminal thread wakes the wait when a line comes.
            let io = self.loop_v.downcast::<EventLoop>().is_some_and(|l| l.reactor.in_flight() > 0);
            if io && !wait.is_zero() {
                if let Err(e) = event_loop::wait_io(self.vm, &self.loop_v, wait.as_secs_f64()) {
                    if !e.is(&types().exc.keyboard_interrupt) {
                        self.report(&e);
                    }
                }
                if let Some(r) = self.term.reply(Duration::ZERO) {
                    break r;
                }
                continue;
            }
            if let Some(r) = self.term.reply(wait) {
                break r;
            }
        };
        self.term.end_prompt(self.vm);
        Input::Reply(got)
    }

    /// Take what the editor returned; run the input once it is complete.
    /// `Some(status)` ends the session.
    fn take(&mut self, text: String) -> Option<u8> {
        let mut lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
        if lines.len() == 1 {
            return self.feed(lines[0]);
        }
        // Several lines at once (a paste, a recalled block) are one piece:
        // blank lines inside them do not end a block, only their end does.
        if self.lines.is_empty() {
            let blank = lines.iter().take_while(|l| l.trim().is_empty()).count();
            lines.drain(..blank);
            if lines.is_empty() {
                return None;
            }
        }
        let blank_end = lines.last().is_some_and(|l| l.trim().is_empty());
        self.lines.extend(lines.into_iter().map(str::to_string));
        let text = self.lines.join("\n") + "\n";
        let more = if blank_end { reads_on(&text, true) } else { unfinished(&text) };
        if more {
            return None;
        }
        self.complete()
    }

    /// Take one typed line; run the input once it is complete.
    fn feed(&mut self, line: &str) -> Option<u8> {
        if self.lines.is_empty() && line.trim().is_empty() {
            return None;
        }
        self.lines.push(line.to_string());
        let text = self.lines.join("\n") + "\n";
        if reads_on(&text, line.trim().is_empty()) {
            return None;
        }
        self.complete()
    }

    /// The lines typed so far are dropped (Ctrl-C); they stay in the
    /// history, to be recalled and mended.
    fn abandon(&mut self) {
        let lines = std::mem::take(&mut self.lines);
        self.remember(&lines);
    }

    /// Keep an input in the history as one entry, without the blank lines
    /// that ended it.
    fn remember(&mut self, lines: &[String]) {
        let input = lines.join("\n");
        let input = input.trim_end();
        if !input.trim().is_empty() {
            self.term.remember(input);
        }
    }

    /// Run the input typed so far, or report why it cannot run.
    fn complete(&mut self) -> Option<u8> {
        let lines = std::mem::take(&mut self.lines);
        self.remember(&lines);
        self.run_input(&(lines.join("\n") + "\n"))
    }

    /// Compile and run one input.
    fn run_input(&mut self, text: &str) -> Option<u8> {
        match compile_source("<stdin>", text, &self.module, Mode::Interactive) {
            Ok(code) => {
                let status = self.execute(code);
                self.refresh_names();
                status
            }
            Err((d, src)) => {
                self.vm.write_err(&d.render(&src));
                None
            }
        }
    }

    /// Run a compiled input: plainly, or as a task when it awaits.
    fn execute(&mut self, code: Rc<Code>) -> Option<u8> {
        let (stack, frames) = (self.vm.stack.len(), self.vm.frames.len());
        let result = if code.flags.toplevel_await {
            self.await_input(code)
        } else {
            interrupt::set_mode(Ctrl::Sync);
            let r = self.vm.run_code(code, self.module.clone());
            interrupt::set_mode(Ctrl::Prompt);
            r.map(|_| ()).map_err(Failure::Error)
        };
        // An error leaves its frames behind: the next input starts clean.
        self.vm.stack.truncate(stack);
        self.vm.frames.truncate(frames);
        self.vm.host.flush();
        match result {
            Ok(()) => None,
            Err(Failure::Error(e)) if e.is(&types().exc.system_exit) => Some(exit_status(self.vm, &e)),
            Err(Failure::Error(e)) | Err(Failure::Deadlock(e)) => {
                self.report(&e);
                None
            }
            Err(Failure::Interrupted) => {
                self.vm.write_err("KeyboardInterrupt\n");
                None
            }
            Err(Failure::Abandoned(name)) => {
                self.vm.write_err(&format!("KeyboardInterrupt ({name} ignored the cancellation and runs on in the background)\n"));
                None
            }
        }
    }

    /// Run an input with top-level `await` as a task, with the loop, until
    /// it ends; Ctrl-C cancels it.
    fn await_input(&mut self, code: Rc<Code>) -> Result<(), Failure> {
        let coro = aio_interp::generator::module_coroutine(code, self.module.clone());
        let task = aio_interp::task::create_task(self.vm, &self.loop_v, coro, None).map_err(Failure::Error)?;
        interrupt::set_mode(Ctrl::Task);
        // Why the task was cancelled, if it was.
        let mut why: Option<Failure> = None;
        let ended = loop {
            if task.done() {
                break Ok(());
            }
            let mut cancel = interrupt::take().then_some(Failure::Interrupted);
            if cancel.is_none() {
                interrupt::busy(true);
                let stepped = self.step(true);
                interrupt::busy(false);
                if let Err(e) = stepped {
                    let t = types();
                    if e.is(&t.exc.keyboard_interrupt) {
                        interrupt::take();
                        // A task other than the input's, spinning meanwhile, was interrupted.
                        if let Some(other) = aio_interp::task::take_interrupted_task().filter(|o| !Rc::ptr_eq(o, &task)) {
                            self.vm.host.flush();
                            self.vm.write_err("\n");
                            self.tell_interrupted(&other, &e);
                        }
                        cancel = Some(Failure::Interrupted);
                    } else if e.is(&t.exc.deadlock_error) {
                        cancel = Some(Failure::Deadlock(e));
                    } else {
                        break Err(Failure::Error(e));
                    }
                }
            }
            if let Some(reason) = cancel {
                if matches!(reason, Failure::Interrupted) {
                    // The terminal echoed `^C`: what follows starts a line of its own.
                    self.vm.host.flush();
                    self.vm.write_err("\n");
                }
                if why.is_some() {
                    break Err(Failure::Abandoned(task.name()));
                }
                task.cancel(self.vm, Value::None);
                why = Some(reason);
            }
        };
        interrupt::set_mode(Ctrl::Prompt);
        ended?;
        match task.get_result() {
            Err(e) if e.is(&types().exc.cancelled_error) && why.is_some() => Err(why.expect("a reason")),
            Err(e) => Err(Failure::Error(e)),
            Ok(_) => why.map_or(Ok(()), Err),
        }
    }

    /// One turn of the loop while something is awaited: an iteration, or a
    /// short wait for the next timer (a jump to it on a virtual clock).
    /// False when nothing is scheduled at all; while `awaiting`, that is a
    /// deadlock, which `run_once` reports.
    fn step(&mut self, awaiting: bool) -> Result<bool, PyErr> {
        match event_loop::poll(self.vm, &self.loop_v)? {
            Poll::Ran => {}
            Poll::Wait(w) if !self.vm.host.virtual_time() => {
                self.vm.host.flush();
                // Short waits (on the sockets, if any): Ctrl-C is looked at between them.
                event_loop::wait_io(self.vm, &self.loop_v, w.clamp(0.0, 0.02))?;
            }
            Poll::Idle if !awaiting => return Ok(false),
            Poll::Wait(_) | Poll::Idle => event_loop::run_once(self.vm, &self.loop_v)?,
        }
        Ok(true)
    }

    /// Report a `KeyboardInterrupt` that came out of the loop at the
    /// prompt: in which task, at which line; the loop goes on.
    fn report_interrupted(&mut self, e: &PyErr) {
        match aio_interp::task::take_interrupted_task() {
            Some(t) => self.tell_interrupted(&t, e),
            None => self.report(e),
        }
    }

    /// `Task-2 (spin) is interrupted at line 2: n += 1`, then `KeyboardInterrupt`.
    fn tell_interrupted(&mut self, t: &Rc<aio_interp::task::Future>, e: &PyErr) {
        let tb = e.exc().traceback.borrow();
        let at = tb.iter().rev().find(|t| aio_interp::trace::is_user(&t.code)).map(|t| {
            let line = t.code.line_at(t.ip as usize);
            format!(" at line {line}: {}", t.code.source.line_text(line).trim())
        });
        drop(tb);
        let text = format!("{} is interrupted{}\nKeyboardInterrupt\n", aio_interp::trace::task_label(t), at.unwrap_or_default());
        self.vm.write_err(&text);
    }

    /// Report an uncaught exception as a script would.
    fn report(&mut self, e: &PyErr) {
        if e.is(&types().exc.keyboard_interrupt) {
            let text = aio_interp::diagnostic::format_interrupt(e);
            self.vm.write_err(&text);
            return;
        }
        if let Some(Value::Str(r)) = e.0.dict_get_str("_aio_report") {
            self.vm.write_err(r.as_str());
            return;
        }
        let text = aio_interp::diagnostic::format_exception(self.vm, e);
        self.vm.write_err(&text);
    }

    /// Give the editor what it completes from: names in scope and the
    /// attributes of each global.
    fn refresh_names(&mut self) {
        let mut n = Names::default();
        let dir = self.vm.builtins.get_str("dir");
        for (name, value) in self.module.entries() {
            n.globals.push(name.as_str().to_string());
            let Some(dir) = &dir else { continue };
            if let Ok(Value::List(l)) = self.vm.call(dir.clone(), Args::new([value])) {
                let attrs = l.borrow().iter().filter_map(|v| v.as_str().map(|s| s.as_str().to_string())).collect();
                n.attrs.insert(name.as_str().to_string(), attrs);
            }
        }
        n.builtins = self.vm.builtins.keys().iter().filter_map(|k| k.as_str().map(|s| s.as_str().to_string())).collect();
        n.builtins.extend(crate::PRELUDE.iter().chain(crate::SITE_BUILTINS).map(|s| s.to_string()));
        if let Ok(mut shared) = self.names.lock() {
            *shared = n;
        }
    }

    /// The session ends: the terminal goes back to normal, and tasks still
    /// pending are cancelled and given a moment to run their `finally` blocks.
    fn shutdown(&mut self) {
        self.term.close(self.vm);
        interrupt::set_mode(Ctrl::Task);
        let tasks = event_loop::all_tasks(self.vm);
        for t in &tasks {
            if let Value::Future(f) = t {
                f.cancel(self.vm, Value::None);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        let pending = |ts: &[Value]| ts.iter().any(|t| matches!(t, Value::Future(f) if !f.done()));
        while pending(&tasks) && Instant::now() < deadline && !interrupt::take() {
            if !matches!(self.step(false), Ok(true)) {
                break;
            }
        }
        for t in &tasks {
            if let Value::Future(f) = t {
                // Ending the session is not "never retrieved".
                f.set_log_traceback(false);
            }
        }
        self.vm.host.flush();
        if let Some(l) = self.loop_v.downcast::<EventLoop>() {
            l.running.set(false);
        }
        self.vm.host.set_running_loop(None);
        interrupt::set_mode(Ctrl::Prompt);
    }
}

/// `pstree()` at the prompt: the pending tasks of the session's loop as a
/// tree, each task under the task awaiting it, with what it waits on.
fn pstree(vm: &mut Vm, args: Args) -> PyResult {
    if !args.pos.is_empty() || !args.kw.is_empty() {
        return Err(aio_interp::exceptions::type_error("pstree() takes no arguments"));
    }
    let tasks: Vec<Rc<aio_interp::task::Future>> =
        event_loop::all_tasks(vm).into_iter().filter_map(|t| if let Value::Future(f) = t { Some(f) } else { None }).collect();
    let text = aio_interp::trace::task_tree(vm, &tasks);
    vm.write_out(&text)?;
    Ok(Value::None)
}

/// The watchdog saw one task hold the loop for more than a second: name it
/// and its line, once per stretch (it runs on, and Ctrl-C interrupts it).
fn warn_slow(vm: &mut Vm) {
    let Some(t) = aio_interp::sync::running(vm) else { return };
    // The instruction about to run (a loop's jump back has just been taken).
    let at = match vm.frames.iter().rev().find(|f| aio_interp::trace::is_user(&f.code)) {
        Some(f) => {
            let line = f.code.line_at(f.ip);
            format!(" at line {line}: {}", f.code.source.line_text(line).trim())
        }
        None => String::new(),
    };
    let who = aio_interp::trace::task_label(&t);
    vm.write_err(&format!("aio: warning: {who} has held the loop for more than a second{at} (Ctrl-C interrupts it)\n"));
}

/// Does the input typed so far need more lines before it runs? `blank`:
/// its last line is blank, which ends a compound statement, as in Python.
fn reads_on(text: &str, blank: bool) -> bool {
    match aio_grammar::parse_module(text) {
        Ok(m) => !blank && m.body.iter().any(|s| has_block(&s.kind)),
        // Blank lines belong to an open bracket or triple-quoted string;
        // anything else unfinished is reported when a blank line ends it.
        Err(e) if ends_early(&e, text) => !blank || still_open(&e),
        Err(_) => false,
    }
}

/// Does text entered in one piece (a paste) still need lines to run? Only
/// when it stops in the middle of something: an open bracket or string, a
/// block with no body yet. A complete block runs without a blank line after it.
fn unfinished(text: &str) -> bool {
    match aio_grammar::parse_module(text) {
        Ok(_) => false,
        Err(e) => ends_early(&e, text),
    }
}

/// Is the statement a compound one, whose block more lines may extend?
/// (Every kind is named, so that a new one has to be placed here.)
fn has_block(kind: &StmtKind) -> bool {
    match kind {
        StmtKind::If { .. }
        | StmtKind::While { .. }
        | StmtKind::For { .. }
        | StmtKind::FunctionDef(_)
        | StmtKind::ClassDef(_)
        | StmtKind::Try { .. }
        | StmtKind::With { .. }
        | StmtKind::Match { .. } => true,
        StmtKind::Expr(_)
        | StmtKind::Assign { .. }
        | StmtKind::AugAssign { .. }
        | StmtKind::AnnAssign { .. }
        | StmtKind::Break
        | StmtKind::Continue
        | StmtKind::Pass
        | StmtKind::Return(_)
        | StmtKind::Raise { .. }
        | StmtKind::Global(_)
        | StmtKind::Nonlocal(_)
        | StmtKind::Delete(_)
        | StmtKind::Assert { .. }
        | StmtKind::Import(_)
        | StmtKind::ImportFrom { .. } => false,
    }
}

/// Did the input stop where more lines could still complete it? Besides
/// what the parser marks as incomplete, an error at the very end of the
/// input: a nested `try:` still waiting for its `except`, say, fails on the
/// end of its enclosing block, which the next line may yet continue.
fn ends_early(e: &SyntaxError, text: &str) -> bool {
    e.incomplete || (e.span.start == e.span.end && e.span.start as usize >= text.trim_end().len())
}

/// Is the input incomplete because a bracket or a triple-quoted string is
/// open? Blank lines then belong to it; otherwise a blank line ends it.
fn still_open(e: &SyntaxError) -> bool {
    e.message.contains("was never closed") || e.message.contains("unterminated triple-quoted")
}

/// The exit status `SystemExit` asks for.
fn exit_status(vm: &mut Vm, e: &PyErr) -> u8 {
    match e.first_arg() {
        Value::None => 0,
        Value::Int(i) => (i & 0xff) as u8,
        Value::Bool(b) => b.get() as u8,
        other => {
            let s = vm.str_of(&other).unwrap_or_default();
            vm.write_err(&format!("{s}\n"));
            1
        }
    }
}

/// `~/.aio_history`.
fn history_file() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".aio_history"))
}

#[cfg(test)]
mod tests {
    use super::{reads_on, unfinished};

    /// Feed `lines` one by one as the REPL does; the index of the line after
    /// which the input runs (or is reported), if it does.
    fn ends_after(lines: &[&str]) -> Option<usize> {
        let mut text = String::new();
        for (i, line) in lines.iter().enumerate() {
            text.push_str(line);
            text.push('\n');
            if !reads_on(&text, line.trim().is_empty()) {
                return Some(i);
            }
        }
        None
    }

    #[test]
    fn simple_statements_run_at_once() {
        assert_eq!(ends_after(&["1 + 2"]), Some(0));
        assert_eq!(ends_after(&["await sleep(0.1); 7"]), Some(0));
        assert_eq!(ends_after(&["x = = 1"]), Some(0), "a syntax error is reported at once");
        assert_eq!(ends_after(&["x = 1 +"]), Some(0));
    }

    #[test]
    fn compound_statements_wait_for_a_blank_line() {
        for first in [
            "if x: y",
            "while x: y",
            "for x in y: z",
            "async for x in y: z",
            "def f(): return 1",
            "async def f(): return 1",
            "class C: pass",
            "try: pass",
            "with a: pass",
            "async with a: pass",
        ] {
            assert_eq!(ends_after(&[first, ""]), Some(1), "{first}");
        }
        assert_eq!(ends_after(&["@deco", "async def f():", "    return 1", ""]), Some(3));
        assert_eq!(ends_after(&["if x:", "    y", "else:", "    z", ""]), Some(4));
    }

    #[test]
    fn a_nested_try_waits_for_its_handler() {
        let lines = ["async def f():", "    try:", "        await sleep(1)", "    except CancelledError:", "        raise", ""];
        assert_eq!(ends_after(&lines), Some(5));
        let lines = ["class C:", "    def m(self):", "        try:", "            pass", "        finally:", "            pass", ""];
        assert_eq!(ends_after(&lines), Some(6));
        // A blank line ends it all the same, and the error is reported.
        assert_eq!(ends_after(&["def f():", "    try:", "        pass", ""]), Some(3));
        assert_eq!(ends_after(&["def f():", "    @deco", "    def g(): pass", ""]), Some(3));
    }

    #[test]
    fn a_paste_runs_once_complete_whatever_blank_lines_it_holds() {
        assert!(!unfinished("def f():\n    x = 1\n\n    return x"));
        assert!(!unfinished("class C:\n    a = 1\n\n    def m(self):\n        pass\n\nprint(C)\n"));
        assert!(!unfinished("x = = 1\n"), "an error in the middle is reported at once");
        assert!(unfinished("def f():\n"));
        assert!(unfinished("x = (1,\n\n"));
        assert!(unfinished("s = \"\"\"a\n\nb\n"));
    }

    #[test]
    fn brackets_and_strings_hold_blank_lines() {
        assert_eq!(ends_after(&["x = (1,", "", "2)"]), Some(2));
        assert_eq!(ends_after(&["s = \"\"\"a", "", "b\"\"\""]), Some(2));
        assert_eq!(ends_after(&["for x in y:", ""]), Some(1), "a missing block is reported on the blank line");
    }
}
