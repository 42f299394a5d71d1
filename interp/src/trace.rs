//! Scheduling events as an observer sees them (`--trace`, `--timeline`,
//! `--debug`): the hooks the loop and tasks call, the [`Tracer`] trait, the
//! places in the source each event points at, the deadlock report, and the
//! chain of awaits an exception travels along from task to task. With no
//! tracer, every hook is a single branch on `vm.host.tracing()`.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use crate::bytecode::Code;
use crate::event_loop::{Callback, EventLoop, Handle};
use crate::object::*;
use crate::task::Future;
use crate::types::types;
use crate::value::Value;
use crate::vm::Vm;

// ------------------------------------------------------------ places

/// A line of .aio source: the function and the line an event happened at.
#[derive(Clone)]
pub struct Place {
    pub code: Rc<Code>,
    pub line: usize,
}

impl Place {
    fn at(code: &Rc<Code>, ip: usize) -> Place {
        Place { code: code.clone(), line: code.line_at(ip) }
    }
    /// The function's name (`fetch`, `<module>`).
    pub fn func(&self) -> &str {
        self.code.name.as_str()
    }
    /// The file the line is in.
    pub fn file(&self) -> &str {
        &self.code.source.name
    }
    /// The line's text, without its padding or a trailing comment.
    pub fn text(&self) -> &str {
        without_comment(self.code.source.line_text(self.line)).trim()
    }
}

/// A line of source up to its comment, if any: a `#` outside quotes.
fn without_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' => return &line[..i],
            None => {}
        }
    }
    line
}

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} in {}", self.file(), self.line, self.func())
    }
}

/// Is this code the program's (a file, `-c`, stdin, the REPL), not the
/// embedded library's (`<asyncio>`, `<collections>`)?
pub fn is_user(code: &Code) -> bool {
    let n = code.source.name.as_str();
    !n.starts_with('<') || n == "<string>" || n == "<stdin>"
}

/// The innermost line of user code among the running frames.
pub fn place_in_frames(vm: &Vm) -> Option<Place> {
    vm.frames.iter().rev().find(|f| is_user(&f.code)).map(|f| Place::at(&f.code, f.ip.saturating_sub(1)))
}

/// The line of user code an event comes from: in a running task, its
/// innermost line of user code; outside tasks (a callback run by the loop),
/// only the innermost frame, since the frames below it are those of whoever
/// started the loop.
fn event_place(vm: &Vm) -> Option<Place> {
    if running_task(vm).is_some() {
        return place_in_frames(vm);
    }
    vm.frames.last().filter(|f| is_user(&f.code)).map(|f| Place::at(&f.code, f.ip.saturating_sub(1)))
}

/// The qualified name of a callable (`Timeout._on_timeout`), if it has one.
fn callable_name(f: &Value) -> Option<String> {
    match f {
        Value::Function(func) => Some(func.qualname.borrow().as_str().to_string()),
        Value::BoundMethod(m) => callable_name(&m.func),
        Value::Native(n) => Some(n.name.as_str().to_string()),
        _ => None,
    }
}

/// A callable's name for people (`on_term`, `Server.close`), or its repr's kind.
pub fn callable_label(f: &Value) -> String {
    callable_name(f).unwrap_or_else(|| crate::types::type_name(f))
}

/// Walk a suspended coroutine's `await` chain, outermost first.
pub fn await_chain(coro: &Value) -> Vec<Rc<Generator>> {
    let mut out = Vec::new();
    let mut cur = coro.clone();
    while let Value::Generator(g) = cur {
        out.push(g.clone());
        let st = g.state.borrow();
        if !st.delegating {
            break;
        }
        cur = match st.stack.last() {
            Some(v) => v.clone(),
            None => break,
        };
    }
    out
}

fn gen_place(g: &Generator) -> Place {
    let ip = g.state.borrow().ip as usize;
    Place::at(&g.code, ip.saturating_sub(1))
}

/// Where a suspended task is: its innermost line of user code.
pub fn place_in_task(t: &Future) -> Option<Place> {
    let coro = t.task()?.coro_value();
    await_chain(&coro).iter().rev().find(|g| is_user(&g.code)).map(|g| gen_place(g))
}

/// Where a task was created (the call that made its coroutine).
pub fn task_origin(t: &Future) -> Option<Place> {
    let o = t.task()?.origin()?;
    if !is_user(&o.code) {
        return None;
    }
    Some(Place::at(&o.code, o.ip as usize))
}

/// The name of the function a task runs (`worker`, `<module>`).
pub fn task_func(t: &Future) -> String {
    let Some(data) = t.task() else { return String::new() };
    match &*data.coro() {
        Value::Generator(g) => {
            if is_user(&g.code) {
                g.code.name.as_str().to_string()
            } else {
                g.qualname().as_str().to_string()
            }
        }
        Value::Object(o) => match o.await_iter().and_then(|a| a.qualname()) {
            Some(name) => name.to_string(),
            None => o.class().name().as_str().to_string(),
        },
        _ => "?".into(),
    }
}

/// `Task-2 (worker)`; the main program's task is `Task-1 (top level)`.
pub fn task_label(t: &Future) -> String {
    let func = task_func(t);
    if func == "<module>" {
        format!("{} (top level)", t.name())
    } else {
        format!("{} ({func})", t.name())
    }
}

/// A task the library makes for its own housekeeping (shutting down async
/// generators, the executor): not shown in traces and timelines.
pub fn is_internal(t: &Future) -> bool {
    let Some(data) = t.task() else { return false };
    match &*data.coro() {
        Value::Generator(g) => !is_user(&g.code) && g.code.name.as_str().starts_with('_'),
        _ => false,
    }
}

/// What a task's awaited future stands for: `Queue.get`, `sleep(1.0)`,
/// `Task-3`, `gather(Task-2, Task-3)`, `Event.wait`.
pub fn waiter_label(f: &Rc<Future>, coro: &Value) -> String {
    // A wait on the outside world says what it waits for (`process 1234 (sleep)`).
    if f.io_wait() {
        if let Some(l) = f.label() {
            return l.as_str().to_string();
        }
    }
    // A lock or a semaphore: which one, and who holds it.
    if let Some(l) = crate::sync::wait_label(f) {
        return l;
    }
    let chain = await_chain(coro);
    // The library function the program called (`q.join()`, `asyncio.wait(...)`)
    // names the wait better than a future deep inside it.
    let called = match chain.iter().rposition(|g| is_user(&g.code)) {
        Some(i) => chain.get(i + 1).map(|g| g.qualname().as_str().to_string()),
        None => None,
    };
    if let Some(c) = &called {
        let short = c.rsplit('.').next().unwrap_or(c);
        let label = f.label();
        let same = label.as_ref().map(|l| l.as_str()) == Some(c.as_str());
        if !short.starts_with('_') && !same && !c.contains("<locals>") {
            return c.clone();
        }
    }
    if let Some(l) = f.label() {
        return in_program_words(l.as_str());
    }
    // An unlabelled sleep (labels are made only while traced).
    let inner = chain.last().and_then(|g| {
        let st = g.state.borrow();
        if st.delegating {
            st.stack.last().cloned()
        } else {
            None
        }
    });
    if let Some(s) = inner.as_ref().unwrap_or(coro).downcast::<crate::task::Sleep>() {
        return format!("sleep({})", crate::numfmt::float_repr(s.delay));
    }
    if f.is_task() {
        return f.name();
    }
    if let Some(kids) = f.gather_children() {
        let names: Vec<String> = kids.iter().map(|k| if k.is_task() { k.name() } else { "a Future".into() }).collect();
        return if names.len() > 4 {
            format!("gather({}, … {} more)", names[..3].join(", "), names.len() - 3)
        } else {
            format!("gather({})", names.join(", "))
        };
    }
    // A future made inside library code: name the library function.
    if let Some(g) = chain.iter().rev().find(|g| !is_user(&g.code)) {
        return in_program_words(g.qualname().as_str());
    }
    "a Future".to_string()
}

/// A library method named as the program wrote what calls it: the end of
/// `async with TaskGroup()` waits for `the TaskGroup`, and `X.__aexit__`
/// is `the end of async with X`.
fn in_program_words(qualname: &str) -> String {
    match qualname.rsplit_once('.') {
        Some(("TaskGroup", "__aexit__")) => "the TaskGroup".to_string(),
        Some((class, "__aexit__")) => format!("the end of async with {class}"),
        Some((class, "__aenter__")) => format!("async with {class}"),
        _ => qualname.to_string(),
    }
}

/// Is a wait on `f` (shown as `what`) a wait on the outside world: a
/// socket, a pipe, a child process, or a library call made of such waits?
pub fn is_io_wait(f: &Future, what: &str) -> bool {
    const IO_CALLS: &[&str] = &[
        "Process.",
        "StreamReader.",
        "StreamWriter.",
        "open_connection",
        "open_unix_connection",
        "start_server",
        "start_unix_server",
        "create_subprocess_",
        "Server.",
        "sock_",
    ];
    f.io_wait() || IO_CALLS.iter().any(|c| what.starts_with(c))
}

/// What a suspended task waits on, in words.
pub fn task_waits_on(t: &Future) -> String {
    let Some(data) = t.task() else { return String::new() };
    let coro = data.coro_value();
    match data.fut_waiter() {
        Some(f) => waiter_label(&f, &coro),
        None => "nothing (ready to run)".to_string(),
    }
}

/// `waits for` a lock or a semaphore (held by someone) or what the program
/// calls `the ...` (`the TaskGroup`), `waits on` anything else (`what` is
/// the wait in words).
pub fn wait_verb(f: &Future, what: &str) -> &'static str {
    if crate::sync::waited_sync(f).is_some() || what.starts_with("the ") {
        "waits for"
    } else {
        "waits on"
    }
}

/// `Task-2 (consumer) waits on Queue.get at line 4: item = await q.get()`
pub fn describe_wait(_vm: &mut Vm, t: &Rc<Future>) -> String {
    let what = task_waits_on(t);
    let label = task_label(t);
    let verb = t.task().and_then(|d| d.fut_waiter()).map_or("waits on", |f| wait_verb(&f, &what));
    match place_in_task(t) {
        Some(p) => {
            let inside = if p.func() != task_func(t) && p.func() != "<module>" { format!(" in {}", p.func()) } else { String::new() };
            format!("{label} {verb} {what} at line {}{inside}: {}", p.line, p.text())
        }
        None => match task_origin(t) {
            Some(o) => format!("{label} {verb} {what}; it was created at line {}: {}", o.line, o.text()),
            None => format!("{label} {verb} {what}"),
        },
    }
}

/// The report printed before a `DeadlockError`.
pub fn deadlock_report(vm: &mut Vm, tasks: &[Rc<Future>]) -> String {
    let mut report = String::from("aio: deadlock: every task is blocked and no timer is pending\n");
    for t in tasks {
        report.push_str(&format!("  {}\n", describe_wait(vm, t)));
        let io = t.task().and_then(|d| d.fut_waiter()).is_some_and(|f| is_io_wait(&f, &task_waits_on(t)));
        if io {
            // No descriptor is watched and no child runs, or this would be no deadlock.
            report.push_str("    (a wait on I/O, but the loop watches no socket, pipe or process any more)\n");
        }
    }
    for c in crate::sync::wait_cycles(tasks) {
        report.push_str(&format!("  the tasks wait for each other: {c}\n"));
    }
    report
}

/// The tasks a task awaits: the task it awaits, or the tasks of the
/// `gather` it awaits.
fn awaited_tasks(t: &Future) -> Vec<Rc<Future>> {
    let Some(f) = t.task().and_then(|d| d.fut_waiter()) else { return Vec::new() };
    if f.is_task() {
        return vec![f];
    }
    match f.gather_children() {
        Some(kids) => kids.iter().filter(|k| k.is_task() && !k.done()).cloned().collect(),
        None => Vec::new(),
    }
}

/// The await tree of the pending tasks, as `python -m asyncio pstree`
/// draws a process's: each task under the task that awaits it, with what
/// it waits on and where; the running task says so.
pub fn task_tree(vm: &mut Vm, tasks: &[Rc<Future>]) -> String {
    let tasks: Vec<Rc<Future>> = tasks.iter().filter(|t| !is_internal(t)).cloned().collect();
    let running = running_task(vm);
    let kids: Vec<Vec<Rc<Future>>> =
        tasks.iter().map(|t| awaited_tasks(t).into_iter().filter(|k| tasks.iter().any(|x| Rc::ptr_eq(x, k))).collect()).collect();
    let awaited = |t: &Rc<Future>| kids.iter().flatten().any(|k| Rc::ptr_eq(k, t));
    let mut out = String::new();
    let mut shown: Vec<u64> = Vec::new();
    fn line(vm: &mut Vm, t: &Rc<Future>, running: &Option<Rc<Future>>) -> String {
        if running.as_ref().is_some_and(|r| Rc::ptr_eq(r, t)) {
            return match place_in_frames(vm) {
                Some(p) => format!("{} runs now, at line {}: {}", task_label(t), p.line, p.text()),
                None => format!("{} runs now", task_label(t)),
            };
        }
        if t.task().and_then(|d| d.fut_waiter()).is_none() {
            return match place_in_task(t) {
                Some(p) => format!("{} is ready to run, at line {}: {}", task_label(t), p.line, p.text()),
                None => format!("{} is ready to start", task_label(t)),
            };
        }
        describe_wait(vm, t)
    }
    #[allow(clippy::too_many_arguments)]
    fn walk(
        vm: &mut Vm,
        t: &Rc<Future>,
        prefix: &str,
        last: bool,
        root: bool,
        tasks: &[Rc<Future>],
        kids: &[Vec<Rc<Future>>],
        running: &Option<Rc<Future>>,
        shown: &mut Vec<u64>,
        out: &mut String,
    ) {
        let branch = if root {
            ""
        } else if last {
            "└── "
        } else {
            "├── "
        };
        out.push_str(&format!("{prefix}{branch}{}\n", line(vm, t, running)));
        if shown.contains(&t.id()) {
            return;
        }
        shown.push(t.id());
        let Some(i) = tasks.iter().position(|x| Rc::ptr_eq(x, t)) else { return };
        let deeper = if root { String::new() } else { format!("{prefix}{}", if last { "    " } else { "│   " }) };
        for (k, c) in kids[i].iter().enumerate() {
            walk(vm, c, &deeper, k + 1 == kids[i].len(), false, tasks, kids, running, shown, out);
        }
    }
    for t in tasks.iter().filter(|t| !awaited(t)) {
        walk(vm, t, "", true, true, &tasks, &kids, &running, &mut shown, &mut out);
    }
    // Tasks awaiting each other in a circle have no root: show them too.
    for t in &tasks {
        if !shown.contains(&t.id()) {
            walk(vm, t, "", true, true, &tasks, &kids, &running, &mut shown, &mut out);
        }
    }
    if out.is_empty() {
        out.push_str("no task is pending\n");
    }
    out
}

// ------------------------------------------------------------ events

/// Who made a future complete (and so woke the tasks waiting on it).
#[derive(Clone)]
pub enum Cause {
    /// A task, while running or as it finished.
    Task(Rc<Future>),
    /// A callback run because this task finished (gather's, a TaskGroup's), named.
    DoneCallback(Rc<Future>, Option<String>),
    /// A timer (`sleep`, `call_later`), running the named callback if any.
    Timer(Option<String>),
    /// A callback run by the loop (named when it is a function), a worker thread's result.
    Loop(Option<String>),
}

impl Cause {
    /// The task acting, directly or through a callback of its completion.
    pub fn task(&self) -> Option<&Rc<Future>> {
        match self {
            Cause::Task(t) | Cause::DoneCallback(t, _) => Some(t),
            _ => None,
        }
    }

    /// Who is acting right now.
    fn now(vm: &Vm) -> Cause {
        match running_task(vm) {
            Some(r) => Cause::Task(r),
            None => CAUSE.with(|c| c.borrow().clone()).unwrap_or(Cause::Loop(None)),
        }
    }
}

/// One scheduling event.
pub enum Event<'a> {
    /// An iteration of the loop begins; `timers` timers just came due.
    Iteration { timers: usize },
    /// A task was made, by a running task (or none) at a place.
    Created { task: &'a Rc<Future>, by: Option<Rc<Future>>, at: Option<Place> },
    /// A task's step begins; `throwing` is the exception thrown in.
    Step { task: &'a Rc<Future>, throwing: Option<&'a PyErr> },
    /// A task's step ended (after the Suspend/Yield/Done that ended it).
    StepEnd { task: &'a Rc<Future> },
    /// A task suspended on a future.
    Suspend { task: &'a Rc<Future>, on: &'a Rc<Future>, what: String, at: Option<Place> },
    /// A task gave up the loop for one iteration (`sleep(0)`).
    Yield { task: &'a Rc<Future>, at: Option<Place> },
    /// A future completed while `task` waited on it: its wake-up is scheduled.
    Wakes { task: &'a Rc<Future>, fut: &'a Rc<Future>, cause: Cause },
    /// A task's wake-up runs (its next step follows).
    Woken { task: &'a Rc<Future>, by: &'a Rc<Future> },
    /// A task finished: returned, failed or was cancelled.
    Done { task: &'a Rc<Future> },
    /// `task.cancel()` was asked, by whom and where.
    Cancel { task: &'a Rc<Future>, by: Cause, at: Option<Place> },
    /// A timer came due.
    Timer { when: f64 },
    /// A callback of the program's own (`call_soon`, `call_later`, `add_done_callback`) runs.
    Callback { name: String, timer: bool },
    /// A blocking call (`time.sleep`) holds the whole loop.
    Blocking { secs: f64, what: &'static str, at: Option<Place> },
    /// Something happened on a socket or pipe (`accepted a connection from
    /// 127.0.0.1:40812`), while `task` (if any) ran.
    Io { text: String, task: Option<Rc<Future>> },
    /// An HTTP request got its response: `what` (`GET http://127.0.0.1:8080/x`)
    /// came back with `status` after `secs`, in `task` (if any).
    Request { what: String, status: String, secs: f64, task: Option<Rc<Future>> },
    /// A task acquired a lock or a semaphore (`Lock 'fork'`) at a place.
    Acquire { task: &'a Rc<Future>, what: String, at: Option<Place> },
    /// A task released a lock or a semaphore.
    Release { task: &'a Rc<Future>, what: String },
    /// A lock, semaphore, condition, queue or event was made: the object,
    /// and its name for people (`Queue 'q'`, `Lock locks['fork']`).
    Made { obj: &'a Value, what: String },
    /// Every task is blocked and nothing can wake one: the blocked tasks,
    /// and the cycles of waits among them, told in sentences.
    Deadlock { tasks: &'a [Rc<Future>], cycles: Vec<String> },
    /// The program ends.
    Finish,
}

/// Observer of scheduling events (`--trace`, `--timeline`, `--debug`).
pub trait Tracer {
    /// One event at loop time `now`.
    fn event(&mut self, vm: &mut Vm, now: f64, ev: &Event);
    /// For a temporary observer (the REPL's `replay()`), once it is done:
    /// the tracer it stood in front of, to go back in the host's tracer slot. Other
    /// tracers stay: `None`.
    fn take_before(&mut self) -> Option<Option<Box<dyn Tracer>>> {
        None
    }
}

thread_local! {
    /// What the handle being run stands for (who completes futures now).
    static CAUSE: RefCell<Option<Cause>> = const { RefCell::new(None) };
}

#[cold]
fn emit(vm: &mut Vm, ev: &Event) {
    // The tracer gets the VM (to flush output, read the clock); events it
    // might cause meanwhile are not traced.
    if let Some(mut t) = vm.host.take_tracer() {
        let now = vm.host.now();
        t.event(vm, now, ev);
        if !vm.host.tracing() {
            vm.host.set_tracer(Some(t));
        }
    }
}

fn running_task(vm: &Vm) -> Option<Rc<Future>> {
    let l = vm.host.running_loop()?.downcast::<EventLoop>()?;
    let t = l.current.borrow().clone();
    t
}

/// A task was created.
#[inline]
pub fn trace_created(vm: &mut Vm, t: &Rc<Future>) {
    if vm.host.tracing() {
        let by = running_task(vm);
        let at = event_place(vm).or_else(|| task_origin(t));
        emit(vm, &Event::Created { task: t, by, at });
    }
}
/// A task's step starts.
#[inline]
pub fn trace_step(vm: &mut Vm, t: &Rc<Future>, throwing: Option<&PyErr>) {
    if vm.host.tracing() {
        emit(vm, &Event::Step { task: t, throwing });
    }
}
/// A task's step ended.
#[inline]
pub fn trace_step_end(vm: &mut Vm, t: &Rc<Future>) {
    if vm.host.tracing() {
        emit(vm, &Event::StepEnd { task: t });
    }
}
/// A task suspends on a future.
#[inline]
pub fn trace_suspend(vm: &mut Vm, t: &Rc<Future>, f: &Rc<Future>) {
    if vm.host.tracing() {
        let coro = t.task().expect("task").coro_value();
        let what = waiter_label(f, &coro);
        let at = place_in_task(t);
        emit(vm, &Event::Suspend { task: t, on: f, what, at });
    }
}
/// A task yields for one iteration (`sleep(0)`).
#[inline]
pub fn trace_yield(vm: &mut Vm, t: &Rc<Future>) {
    if vm.host.tracing() {
        let at = place_in_task(t);
        emit(vm, &Event::Yield { task: t, at });
    }
}
/// A task's wake-up runs.
#[inline]
pub fn trace_wake(vm: &mut Vm, t: &Rc<Future>, f: &Rc<Future>) {
    if vm.host.tracing() {
        emit(vm, &Event::Woken { task: t, by: f });
    }
}
/// A future completed with `t` waiting on it.
#[inline]
pub fn trace_wakes(vm: &mut Vm, t: &Rc<Future>, f: &Rc<Future>) {
    if vm.host.tracing() {
        let cause = Cause::now(vm);
        emit(vm, &Event::Wakes { task: t, fut: f, cause });
    }
}
/// A task finished.
#[inline]
pub fn trace_done(vm: &mut Vm, t: &Rc<Future>) {
    if vm.host.tracing() {
        emit(vm, &Event::Done { task: t });
    }
}
/// A task was asked to cancel.
#[inline]
pub fn trace_cancel(vm: &mut Vm, t: &Rc<Future>) {
    if vm.host.tracing() {
        let by = Cause::now(vm);
        let at = event_place(vm);
        emit(vm, &Event::Cancel { task: t, by, at });
    }
}
/// A timer came due.
#[inline]
pub fn trace_timer(vm: &mut Vm, h: &Rc<Handle>) {
    if let (true, Some(when)) = (vm.host.tracing(), h.when) {
        emit(vm, &Event::Timer { when });
    }
}
/// An iteration starts (after the due timers moved to the ready queue).
#[inline]
pub fn trace_iteration(vm: &mut Vm, timers: usize) {
    if vm.host.tracing() {
        emit(vm, &Event::Iteration { timers });
    }
}
/// A handle is about to run: remember who completes futures during it.
#[inline]
pub fn trace_handle(vm: &mut Vm, when: Option<f64>, cb: &Callback) {
    if vm.host.tracing() {
        let cause = match cb {
            Callback::Step(t, _) | Callback::Wakeup(t, _) => Cause::Task(t.clone()),
            Callback::Call(call) => match call.1.first() {
                Some(Value::Future(t)) if t.is_task() => Cause::DoneCallback(t.clone(), callable_name(&call.0)),
                _ if when.is_some() => Cause::Timer(callable_name(&call.0)),
                _ => Cause::Loop(callable_name(&call.0)),
            },
            Callback::Native(_) if when.is_some() => Cause::Timer(None),
            _ => Cause::Loop(None),
        };
        CAUSE.with(|c| *c.borrow_mut() = Some(cause));
        if let Callback::Call(call) = cb {
            if let Some(name) = user_callable_name(&call.0) {
                emit(vm, &Event::Callback { name, timer: when.is_some() });
            }
        }
    }
}

/// A handle has run: what follows until the next one is the loop's own doing
/// (cancelling the leftovers at a deadlock or at the end of `asyncio.run`).
#[inline]
pub fn trace_handle_done(vm: &mut Vm) {
    if vm.host.tracing() {
        CAUSE.with(|c| *c.borrow_mut() = None);
    }
}

/// The name of a function of the program's own (not the library's).
fn user_callable_name(f: &Value) -> Option<String> {
    match f {
        Value::Function(func) if is_user(&func.code) => Some(func.name.borrow().as_str().to_string()),
        Value::BoundMethod(m) => user_callable_name(&m.func),
        _ => None,
    }
}
/// A blocking call holds every task for `secs` seconds (`time.sleep`).
#[inline]
pub fn trace_blocking(vm: &mut Vm, secs: f64, what: &'static str) {
    if vm.host.tracing() {
        let at = event_place(vm);
        emit(vm, &Event::Blocking { secs, what, at });
    }
}
/// Something happened on a socket or pipe; `text` says what, made only when traced.
#[inline]
pub fn trace_io(vm: &mut Vm, text: impl FnOnce() -> String) {
    if vm.host.tracing() {
        let task = running_task(vm);
        emit(vm, &Event::Io { text: text(), task });
    }
}
/// An HTTP request (`what`) got its response (`status`), `secs` after it started.
pub fn trace_request(vm: &mut Vm, what: String, status: String, secs: f64) {
    if vm.host.tracing() {
        let task = running_task(vm);
        emit(vm, &Event::Request { what, status, secs, task });
    }
}
/// The running task acquired `sync` (a lock, a semaphore).
#[inline]
pub fn trace_acquire(vm: &mut Vm, sync: &Value) {
    if vm.host.tracing() {
        if let Some(task) = running_task(vm) {
            let what = crate::sync::sync_label(sync);
            let at = place_in_frames(vm);
            emit(vm, &Event::Acquire { task: &task, what, at });
        }
    }
}
/// The running task released `sync`.
#[inline]
pub fn trace_release(vm: &mut Vm, sync: &Value) {
    if vm.host.tracing() {
        if let Some(task) = running_task(vm) {
            let what = crate::sync::sync_label(sync);
            emit(vm, &Event::Release { task: &task, what });
        }
    }
}
/// A lock, semaphore, condition, queue or event of kind `kind` (`Queue`)
/// is being made: observers learn of it, with the name the program gives it
/// (`Queue 'jobs'`), which is returned (None when nobody observes).
pub fn trace_made(vm: &mut Vm, obj: &Value, kind: &str) -> Option<String> {
    if vm.host.tracing() {
        let what = crate::sync::sync_name(vm, kind);
        emit(vm, &Event::Made { obj, what: what.clone() });
        return Some(what);
    }
    None
}

/// A scheduled callback in words, for observers: `step: Task-2 (worker)`,
/// `wake-up: Task-3 (consumer)`, `callback: on_timeout()`; `label` is what
/// a timer was labelled with, if it was.
pub fn callback_label(cb: &Callback, label: Option<&str>) -> String {
    if let Some(l) = label {
        return l.to_string();
    }
    match cb {
        Callback::Step(t, None) => format!("step: {}", task_label(t)),
        Callback::Step(t, Some(e)) => format!("step: {}, throwing {}", task_label(t), e.class().name().as_str()),
        Callback::Wakeup(t, _) => format!("wake-up: {}", task_label(t)),
        Callback::Call(call) => {
            let args: Vec<String> = call
                .1
                .iter()
                .map(|a| match a {
                    Value::Future(f) if f.is_task() => f.name(),
                    Value::Future(_) => "a Future".to_string(),
                    _ => "…".to_string(),
                })
                .collect();
            format!("callback: {}({})", callable_label(&call.0).replace(".<locals>.", "."), args.join(", "))
        }
        Callback::Worker(_) => "a worker thread's turn".to_string(),
        Callback::Native(_) => "a callback of the loop".to_string(),
        Callback::Io(_) => "a socket or pipe is ready".to_string(),
    }
}

/// The task a scheduled callback runs a step of, if it does.
pub fn callback_task(cb: &Callback) -> Option<&Rc<Future>> {
    match cb {
        Callback::Step(t, _) | Callback::Wakeup(t, _) => Some(t),
        _ => None,
    }
}

/// The loop found a deadlock among `tasks`.
pub fn trace_deadlock(vm: &mut Vm, tasks: &[Rc<Future>]) {
    if vm.host.tracing() {
        let cycles = crate::sync::wait_cycles(tasks);
        emit(vm, &Event::Deadlock { tasks, cycles });
    }
}
/// The program ends: tracers write what they collected.
pub fn trace_finish(vm: &mut Vm) {
    if vm.host.tracing() {
        emit(vm, &Event::Finish);
    }
}

// ------------------------------------------------------------ failure chains

/// One step of an exception's way from task to task.
#[derive(Clone, Debug)]
enum Hop {
    /// The exception ended this task (named) at this place.
    Failed { task: String, at: Option<Place> },
    /// The task (named) got it from awaiting `via` at this place.
    Awaited { task: String, via: String, at: Option<Place> },
}

type HopTable = Vec<(Weak<Instance>, Vec<Hop>)>;

thread_local! {
    static HOPS: RefCell<HopTable> = const { RefCell::new(Vec::new()) };
}

/// Exceptions whose chains are remembered at most; the oldest are forgotten
/// first (a program that keeps thousands of failed tasks' exceptions).
const MAX_CHAINS: usize = 256;

fn add_hop(e: &PyErr, hop: Hop) {
    HOPS.with(|h| {
        let mut h = h.borrow_mut();
        if let Some((_, hops)) = h.iter_mut().rev().find(|(w, _)| w.as_ptr() == Rc::as_ptr(&e.0)) {
            if hops.len() < 64 {
                hops.push(hop);
            }
            return;
        }
        if h.len() >= MAX_CHAINS {
            h.retain(|(w, _)| w.strong_count() > 0);
            if h.len() >= MAX_CHAINS {
                h.drain(..MAX_CHAINS / 2);
            }
        }
        h.push((Rc::downgrade(&e.0), vec![hop]));
    });
}

fn hops_of(e: &Rc<Instance>) -> Vec<Hop> {
    HOPS.with(|h| h.borrow().iter().rev().find(|(w, _)| w.as_ptr() == Rc::as_ptr(e)).map(|(_, v)| v.clone()).unwrap_or_default())
}

fn is_cancel(e: &PyErr) -> bool {
    e.is(&types().exc.cancelled_error)
}

/// A task ended with an exception: the first step of its chain.
pub fn note_task_failed(t: &Rc<Future>, e: &PyErr) {
    if is_cancel(e) {
        return;
    }
    let tb = e.exc().traceback.borrow();
    let at = tb.iter().find(|t| is_user(&t.code)).map(|t| Place::at(&t.code, t.ip as usize));
    drop(tb);
    add_hop(e, Hop::Failed { task: t.name(), at });
}

/// A task is woken with the exception of the future it awaited.
pub fn note_task_got(t: &Rc<Future>, fut: &Rc<Future>, e: &PyErr) {
    if is_cancel(e) {
        return;
    }
    let coro = t.task().expect("task").coro_value();
    let via = waiter_label(fut, &coro);
    add_hop(e, Hop::Awaited { task: t.name(), via, at: place_in_task(t) });
}

fn where_(at: &Option<Place>) -> String {
    match at {
        Some(p) => format!("{}, line {}", p.func(), p.line),
        None => "library code".to_string(),
    }
}

/// The lines that tell how an uncaught exception travelled between tasks
/// (`Task-3 failed in fetch, line 8` / `← awaited by gather in main, line 20
/// (Task-1)`), or nothing when it never left one task.
pub fn await_chain_lines(e: &PyErr) -> Vec<String> {
    if let Some((_, subs)) = crate::exceptions::group_parts(&e.0) {
        return group_chain_lines(e, &subs);
    }
    let hops = hops_of(&e.0);
    let mut out = Vec::new();
    let mut last_task: Option<String> = None;
    for h in &hops {
        match h {
            Hop::Failed { task, at } => {
                if last_task.is_none() {
                    out.push(format!("  {task} failed in {}", where_(at)));
                    last_task = Some(task.clone());
                }
            }
            Hop::Awaited { task, via, at } => {
                if last_task.is_none() {
                    continue;
                }
                let through = if last_task.as_deref() == Some(via.as_str()) { String::new() } else { format!("{via} in ") };
                let place = match at {
                    Some(p) => format!("{through}{}, line {}", p.func(), p.line),
                    None => format!("{through}library code"),
                };
                out.push(format!("  ← awaited by {place} ({task})"));
                last_task = Some(task.clone());
            }
        }
    }
    if out.len() < 2 {
        return Vec::new();
    }
    out.insert(0, "The exception travelled between tasks:".to_string());
    out
}

fn group_chain_lines(e: &PyErr, subs: &[Value]) -> Vec<String> {
    let own = hops_of(&e.0);
    let Some(Hop::Failed { task: owner, at }) = own.first().cloned() else { return Vec::new() };
    let mut leaves = Vec::new();
    fn flatten(v: &Value, out: &mut Vec<Rc<Instance>>) {
        if let Value::Instance(i) = v {
            match crate::exceptions::group_parts(i) {
                Some((_, subs)) => subs.iter().for_each(|s| flatten(s, out)),
                None => out.push(i.clone()),
            }
        }
    }
    subs.iter().for_each(|s| flatten(s, &mut leaves));
    let mut out = Vec::new();
    for (n, leaf) in leaves.iter().enumerate() {
        if let Some(Hop::Failed { task, at }) = hops_of(leaf).first() {
            if *task != owner {
                out.push(format!("  sub-exception {}: {task} failed in {}", n + 1, where_(at)));
            }
        }
    }
    if out.is_empty() {
        return out;
    }
    out.insert(0, "The exceptions came from other tasks:".to_string());
    out.push(format!("  ← gathered into an ExceptionGroup in {} ({owner})", where_(&at)));
    out
}

#[cfg(test)]
mod tests {
    use super::without_comment;

    #[test]
    fn a_quoted_line_loses_its_comment_but_not_a_hash_in_a_string() {
        assert_eq!(without_comment("    await sleep(1)   # wait"), "    await sleep(1)   ");
        assert_eq!(without_comment("print('#1', \"a#b\")  # two"), "print('#1', \"a#b\")  ");
        assert_eq!(without_comment("s = 'it\\'s # not'"), "s = 'it\\'s # not'");
        assert_eq!(without_comment("# only a comment"), "");
    }
}
