//! `--trace` and `--debug`: the scheduling story of a run told line by line
//! on stderr, stamped with loop time, and the warning for a task step that
//! holds the loop too long (`time.sleep` in a task).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use aio_interp::task::{FutState, Future};
use aio_interp::trace::{is_internal, place_in_task, task_label, Cause, Event, Place, Tracer};
use aio_interp::Vm;

/// Several observers behind the host's one tracer slot.
pub struct Tracers(pub Vec<Box<dyn Tracer>>);

impl Tracer for Tracers {
    fn event(&mut self, vm: &mut Vm, now: f64, ev: &Event) {
        for t in &mut self.0 {
            t.event(vm, now, ev);
        }
    }
}

/// Seconds as a person reads them: `2.0 s`, `250 ms`.
pub fn human_secs(d: f64) -> String {
    if d >= 1.0 {
        format!("{d:.1} s")
    } else {
        format!("{:.0} ms", d * 1000.0)
    }
}

fn at_line(at: &Option<Place>) -> String {
    match at {
        Some(p) => format!(" at line {}", p.line),
        None => String::new(),
    }
}

fn at_line_text(at: &Option<Place>) -> String {
    match at {
        Some(p) if !p.text().is_empty() => format!(" at line {}: {}", p.line, p.text()),
        _ => at_line(at),
    }
}

// ------------------------------------------------------------ --trace

/// Prints every scheduling event as a sentence.
pub struct Printer {
    /// Loop time shown as 0 (the first event's time on a real clock).
    origin: Option<f64>,
    virtual_time: bool,
    iteration: u64,
    /// The header of the iteration running now, until something in it is shown.
    pending_header: Option<String>,
    started: HashSet<u64>,
    /// Wake-ups a finishing task causes, told after the line saying it finished.
    after_done: Vec<(u64, String)>,
    /// `--trace=NAME,...`: the names of the tasks followed (with their
    /// children); empty: every task.
    only: Vec<String>,
    /// The tasks followed, by id (with `only`).
    followed: HashSet<u64>,
    /// Where each task's time goes, for the closing summary.
    times: Vec<TaskTimes>,
    /// The deadlines of the timers that came due at the start of this
    /// iteration, in order: a task whose sleep ended late (the loop was
    /// held up) was blocked from its deadline on.
    due: std::collections::VecDeque<f64>,
    /// The timers of this iteration are all known.
    due_closed: bool,
    /// The lines told, kept instead of printed (the replay tells each
    /// event in the trace's words): whether each is an iteration's header,
    /// and its text.
    kept: Option<Vec<(bool, String)>>,
}

/// One task's time, for the summary at the end of a trace.
struct TaskTimes {
    id: u64,
    label: String,
    /// What it does since `since`.
    state: Doing,
    since: f64,
    /// What it does once the running step ends (it suspended or yielded).
    next: Doing,
    running: f64,
    waiting: f64,
    blocked: f64,
    steps: u32,
}

#[derive(Clone, Copy, PartialEq)]
enum Doing {
    /// Ready to go on, held up while the loop runs others.
    Ready,
    Running,
    /// Suspended on an await.
    Waiting,
    Done,
}

impl TaskTimes {
    /// Account for the time since the last change, and do `next` from `now`.
    fn become_(&mut self, next: Doing, now: f64) {
        let d = (now - self.since).max(0.0);
        match self.state {
            Doing::Ready => self.blocked += d,
            Doing::Running => self.running += d,
            Doing::Waiting => self.waiting += d,
            Doing::Done => {}
        }
        if next == Doing::Running {
            self.steps += 1;
        }
        self.state = next;
        self.since = now;
    }
}

impl Printer {
    /// `only`: follow these tasks (by name) and their children; empty: all.
    pub fn new(virtual_time: bool, only: Vec<String>) -> Printer {
        Printer {
            origin: if virtual_time { Some(0.0) } else { None },
            virtual_time,
            iteration: 0,
            pending_header: None,
            started: HashSet::new(),
            after_done: Vec::new(),
            only,
            followed: HashSet::new(),
            times: Vec::new(),
            due: std::collections::VecDeque::new(),
            due_closed: true,
            kept: None,
        }
    }

    /// A printer that keeps its lines for [`Printer::take_lines`] instead
    /// of printing them, and tells every task.
    pub fn keeping(virtual_time: bool) -> Printer {
        Printer { kept: Some(Vec::new()), ..Printer::new(virtual_time, Vec::new()) }
    }

    /// Take `task` as started already (a recording that begins while it runs):
    /// its next step resumes it.
    pub fn started_before(&mut self, task: &Future) {
        self.started.insert(task.id());
    }

    /// The lines told since the last call (a keeping printer's): whether
    /// each is an iteration's header, and its text.
    pub fn take_lines(&mut self) -> Vec<(bool, String)> {
        self.kept.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn times_of(&mut self, t: &Future) -> Option<&mut TaskTimes> {
        let id = t.id();
        self.times.iter_mut().rev().find(|x| x.id == id)
    }

    /// Keep the summary's accounts.
    fn account(&mut self, now: f64, ev: &Event) {
        match ev {
            Event::Created { task, .. } if !is_internal(task) && self.follows(task) => self.times.push(TaskTimes {
                id: task.id(),
                label: task_label(task),
                state: Doing::Ready,
                since: now,
                next: Doing::Ready,
                running: 0.0,
                waiting: 0.0,
                blocked: 0.0,
                steps: 0,
            }),
            Event::Step { task, .. } => {
                if let Some(x) = self.times_of(task) {
                    x.become_(Doing::Running, now);
                    x.next = Doing::Ready;
                }
            }
            Event::Suspend { task, .. } => {
                if let Some(x) = self.times_of(task) {
                    x.next = Doing::Waiting;
                }
            }
            Event::StepEnd { task } => {
                let done = task.done();
                if let Some(x) = self.times_of(task) {
                    if x.state == Doing::Running {
                        let next = if done { Doing::Done } else { x.next };
                        x.become_(next, now);
                    }
                }
            }
            Event::Timer { when } => {
                if self.due_closed {
                    self.due.clear();
                    self.due_closed = false;
                }
                self.due.push_back(*when);
            }
            Event::Iteration { .. } => self.due_closed = true,
            Event::Callback { timer: true, .. } => {
                self.due.pop_front();
            }
            Event::Wakes { task, cause, .. } => {
                let due = if let Cause::Timer(_) = cause { self.due.pop_front() } else { None };
                if let Some(x) = self.times_of(task) {
                    if x.state == Doing::Waiting {
                        // Waiting until the deadline, held up after it.
                        let at = due.filter(|d| *d >= x.since && *d < now).unwrap_or(now);
                        x.become_(Doing::Ready, at);
                        x.become_(Doing::Ready, now);
                    }
                }
            }
            Event::Done { task } => {
                if let Some(x) = self.times_of(task) {
                    x.become_(Doing::Done, now);
                }
            }
            _ => {}
        }
    }

    /// The closing summary: each task's time running, waiting and blocked.
    fn summary(&mut self, vm: &mut Vm, now: f64) {
        if self.times.is_empty() {
            return;
        }
        for x in &mut self.times {
            x.become_(Doing::Done, now);
        }
        let w = self.times.iter().map(|x| x.label.chars().count()).max().unwrap_or(4).max(4);
        let t = self.stamp(now);
        let mut text = format!("{t:>7.3}  ── summary: seconds of each task ──\n");
        text.push_str(&format!("           {:<w$}  {:>8}  {:>8}  {:>8}  {:>5}\n", "task", "running", "waiting", "blocked", "steps"));
        for x in &self.times {
            text.push_str(&format!(
                "           {:<w$}  {:>8.3}  {:>8.3}  {:>8.3}  {:>5}\n",
                x.label, x.running, x.waiting, x.blocked, x.steps
            ));
        }
        vm.write_err(&text);
    }

    /// Is `t` one of the tasks followed?
    fn follows(&self, t: &Future) -> bool {
        self.only.is_empty() || self.followed.contains(&t.id())
    }

    /// Is an event about a task followed (or about none, with every task followed)?
    fn shown(&self, ev: &Event) -> bool {
        if self.only.is_empty() {
            return true;
        }
        match ev {
            Event::Created { task, .. }
            | Event::Step { task, .. }
            | Event::Suspend { task, .. }
            | Event::Yield { task, .. }
            | Event::Done { task }
            | Event::Cancel { task, .. }
            | Event::Acquire { task, .. }
            | Event::Release { task, .. } => self.follows(task),
            Event::Wakes { task, cause, .. } => self.follows(task) || cause.task().is_some_and(|t| self.follows(t)),
            Event::Io { task, .. } | Event::Request { task, .. } => task.as_ref().is_some_and(|t| self.follows(t)),
            Event::Deadlock { .. } | Event::Iteration { .. } => true,
            _ => false,
        }
    }

    /// The time shown for loop time `now`: itself on a virtual clock, else
    /// the seconds since the first event told.
    pub fn stamp(&mut self, now: f64) -> f64 {
        let origin = *self.origin.get_or_insert(now);
        if self.virtual_time {
            now
        } else {
            now - origin
        }
    }

    fn flush_header(&mut self, vm: &mut Vm, now: f64) {
        if let Some(h) = self.pending_header.take() {
            if let Some(k) = &mut self.kept {
                k.push((true, h));
                return;
            }
            let t = self.stamp(now);
            vm.write_err(&format!("{t:>7.3}  {h}\n"));
        }
    }

    fn line(&mut self, vm: &mut Vm, now: f64, text: &str) {
        self.flush_header(vm, now);
        if let Some(k) = &mut self.kept {
            k.push((false, text.to_string()));
            return;
        }
        let t = self.stamp(now);
        vm.write_err(&format!("{t:>7.3}    {text}\n"));
    }
}

impl Tracer for Printer {
    fn event(&mut self, vm: &mut Vm, now: f64, ev: &Event) {
        if let Event::Created { task, by, .. } = ev {
            // A task followed, or a child of one.
            if self.only.iter().any(|n| *n == task.name()) || by.as_ref().is_some_and(|b| self.followed.contains(&b.id())) {
                self.followed.insert(task.id());
            }
        }
        self.account(now, ev);
        if let Event::Finish = ev {
            if self.kept.is_none() {
                self.summary(vm, now);
            }
            return;
        }
        if self.shown(ev) {
            self.tell(vm, now, ev);
        }
    }
}

impl Printer {
    /// Tell one event in a sentence.
    fn tell(&mut self, vm: &mut Vm, now: f64, ev: &Event) {
        match ev {
            Event::Iteration { timers } => {
                self.iteration += 1;
                let due = match timers {
                    0 => String::new(),
                    1 => ": 1 timer due".to_string(),
                    n => format!(": {n} timers due"),
                };
                self.pending_header = Some(format!("── iteration {}{due} ──", self.iteration));
            }
            Event::Created { task, by, at } => {
                if is_internal(task) {
                    return;
                }
                let text = match by {
                    Some(b) => format!("{} creates {}{}", task_label(b), task_label(task), at_line(at)),
                    None => match at {
                        Some(p) => format!("{} is created at line {}: {}", task_label(task), p.line, p.text()),
                        None if task.name() == "Task-1" => format!("{} is created to run the program", task_label(task)),
                        None => format!("{} is created by a callback of the loop", task_label(task)),
                    },
                };
                self.line(vm, now, &text);
            }
            Event::Step { task, throwing } => {
                if is_internal(task) {
                    return;
                }
                let text = if self.started.insert(task.id()) {
                    format!("{} starts", task_label(task))
                } else {
                    let with = match throwing {
                        Some(e) => format!(" with {} thrown in", e.class().name().as_str()),
                        None => String::new(),
                    };
                    format!("{} resumes{}{with}", task_label(task), at_line(&place_in_task(task)))
                };
                self.line(vm, now, &text);
            }
            Event::Suspend { task, on, what, at } => {
                if is_internal(task) {
                    return;
                }
                let verb = aio_interp::trace::wait_verb(on, what);
                let text = format!("{} {verb} {what}{}", task_label(task), at_line_text(at));
                self.line(vm, now, &text);
            }
            Event::Yield { task, at } => {
                if is_internal(task) {
                    return;
                }
                let text = format!("{} yields to the other tasks{}", task_label(task), at_line_text(at));
                self.line(vm, now, &text);
            }
            Event::Wakes { task, fut, cause } => {
                if is_internal(task) {
                    return;
                }
                // The `cancel()` line just told this; the task resumes with CancelledError next.
                if fut.cancelled() {
                    return;
                }
                let coro = task.task().map(|d| d.coro_value()).unwrap_or(aio_interp::Value::None);
                // A lock handed on is free for the task woken (whoever held it).
                let sync = aio_interp::sync::waited_sync(fut).map(|s| aio_interp::sync::sync_label(&s));
                let what = sync.clone().unwrap_or_else(|| aio_interp::trace::waiter_label(fut, &coro));
                let outcome = match fut.state() {
                    FutState::Cancelled => "is cancelled",
                    _ if fut.exception().is_some() => "failed",
                    _ if sync.is_some() => "is free",
                    _ => "is done",
                };
                let text = match cause {
                    Cause::Task(t) if Rc::ptr_eq(t, fut) => {
                        // Scheduled as the task finishes, before the line saying so.
                        self.after_done.push((t.id(), format!("{} wakes {}, which awaits it", task_label(t), task_label(task))));
                        return;
                    }
                    Cause::Task(t) if Rc::ptr_eq(t, task) => format!("{} stops waiting: {what} {outcome}", task_label(task)),
                    Cause::Task(t) | Cause::DoneCallback(t, _) if is_internal(t) => {
                        format!("{} is woken: {what} {outcome}", task_label(task))
                    }
                    Cause::Task(t) | Cause::DoneCallback(t, _) => format!("{} wakes {}: {what} {outcome}", task_label(t), task_label(task)),
                    Cause::Timer(_) if what.starts_with("sleep(") => {
                        format!("timer: {what} of {} {}", task_label(task), if outcome == "is done" { "is over" } else { outcome })
                    }
                    // A user's call_later callback completing a future.
                    Cause::Timer(Some(f)) | Cause::Loop(Some(f)) if !f.starts_with('_') => {
                        format!("{f}() wakes {}: {what} {outcome}", task_label(task))
                    }
                    Cause::Timer(_) => format!("timer: {what} of {} times out", task_label(task)),
                    Cause::Loop(_) => format!("{} is woken: {what} {outcome}", task_label(task)),
                };
                self.line(vm, now, &text);
            }
            Event::Done { task } => {
                if is_internal(task) {
                    return;
                }
                let text = match task.state() {
                    FutState::Cancelled => format!("{} is cancelled", task_label(task)),
                    _ => match task.exception() {
                        Some(e) => format!("{} fails with {}", task_label(task), aio_interp::exceptions::exc_line(vm, &e)),
                        None => format!("{} finishes", task_label(task)),
                    },
                };
                self.line(vm, now, &text);
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.after_done).into_iter().partition(|(id, _)| *id == task.id());
                self.after_done = rest;
                for (_, l) in mine {
                    self.line(vm, now, &l);
                }
            }
            Event::Cancel { task, by, at } => {
                if is_internal(task) {
                    return;
                }
                let who = task_label(task);
                let text = match by {
                    Cause::Task(b) if !is_internal(b) => format!("{} cancels {who}{}", task_label(b), at_line(at)),
                    Cause::DoneCallback(b, Some(f)) if f.starts_with("TaskGroup.") => {
                        let why = if b.exception().is_some() { "failed" } else { "ended" };
                        format!("the TaskGroup cancels {who}, since {} {why}", task_label(b))
                    }
                    Cause::DoneCallback(b, f) => {
                        format!("{}() cancels {who}, since {} finished", f.as_deref().unwrap_or("a callback"), task_label(b))
                    }
                    Cause::Timer(Some(f)) if f.to_lowercase().contains("timeout") => format!("the timeout expires: {who} is cancelled"),
                    Cause::Timer(Some(f)) => format!("timer: {f}() cancels {who}{}", at_line(at)),
                    Cause::Loop(Some(f)) => format!("{f}() cancels {who}{}", at_line(at)),
                    Cause::Loop(None) if at.is_none() => format!("the loop cancels {who}"),
                    _ => format!("{who} is asked to cancel{}", at_line(at)),
                };
                self.line(vm, now, &text);
            }
            Event::Blocking { secs, what, at } => {
                let Some(t) = current_task(vm) else { return };
                let text =
                    format!("{} blocks every task: {what}({}){}", task_label(&t), aio_interp::numfmt::float_repr(*secs), at_line(at));
                self.line(vm, now, &text);
            }
            Event::Io { text, task } => {
                let text = match task {
                    Some(t) if !is_internal(t) => format!("{}: {text}", task_label(t)),
                    _ => text.clone(),
                };
                self.line(vm, now, &text);
            }
            Event::Request { what, status, secs, task } => {
                let text = format!("{what} -> {status} in {}", duration_text(*secs));
                let text = match task {
                    Some(t) if !is_internal(t) => format!("{}: {text}", task_label(t)),
                    _ => text,
                };
                self.line(vm, now, &text);
            }
            Event::Callback { name, timer } => {
                let text = if *timer { format!("timer: callback {name}() runs") } else { format!("callback {name}() runs") };
                self.line(vm, now, &text);
            }
            Event::Acquire { task, what, at } => {
                if is_internal(task) {
                    return;
                }
                let text = format!("{} acquires {what}{}", task_label(task), at_line(at));
                self.line(vm, now, &text);
            }
            Event::Release { task, what } => {
                if is_internal(task) {
                    return;
                }
                let text = format!("{} releases {what}", task_label(task));
                self.line(vm, now, &text);
            }
            Event::Deadlock { cycles, .. } => {
                self.line(vm, now, "deadlock: every task is blocked and no timer is pending");
                for c in cycles {
                    self.line(vm, now, &format!("deadlock: {c}"));
                }
            }
            Event::Timer { .. } | Event::StepEnd { .. } | Event::Woken { .. } | Event::Made { .. } | Event::Finish => {}
        }
    }
}

fn current_task(vm: &Vm) -> Option<Rc<Future>> {
    let l = vm.host.running_loop()?.downcast::<aio_interp::event_loop::EventLoop>()?;
    let t = l.current.borrow().clone();
    t
}

// ------------------------------------------------------------ --debug

thread_local! {
    /// Whether a [`SlowSteps`] observes this thread's loops already.
    static SLOW_STEPS_ON: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Warns when a task step keeps the loop for longer than the loop's
/// `slow_callback_duration` (0.1 s unless the program sets it): on with
/// `--debug`, or once a program puts its loop in debug mode.
pub struct SlowSteps {
    /// Per running task: when its step began and where it resumed.
    running: HashMap<u64, (f64, Option<Place>)>,
    /// The longest blocking call of the step running now.
    blocking: Option<(f64, &'static str, Option<Place>)>,
}

impl Default for SlowSteps {
    fn default() -> Self {
        SLOW_STEPS_ON.with(|on| on.set(true));
        SlowSteps { running: HashMap::new(), blocking: None }
    }
}

impl SlowSteps {
    /// Is one observing already (so debug mode need not add another)?
    pub fn installed() -> bool {
        SLOW_STEPS_ON.with(|on| on.get())
    }
}

/// The running loop's `slow_callback_duration`.
fn slow_step(vm: &Vm) -> f64 {
    vm.host.running_loop().and_then(|l| l.downcast::<aio_interp::event_loop::EventLoop>()).map_or(0.1, |l| l.slow_callback_duration.get())
}

impl Tracer for SlowSteps {
    fn event(&mut self, vm: &mut Vm, _now: f64, ev: &Event) {
        match ev {
            Event::Step { task, .. } => {
                self.running.insert(task.id(), (vm.host.now(), place_in_task(task)));
                self.blocking = None;
            }
            Event::Blocking { secs, what, at } if self.blocking.as_ref().is_none_or(|b| b.0 < *secs) => {
                self.blocking = Some((*secs, what, at.clone()));
            }
            Event::StepEnd { task } => {
                let Some((start, from)) = self.running.remove(&task.id()) else { return };
                let took = vm.host.now() - start;
                let blocking = self.blocking.take();
                if took <= slow_step(vm) || is_internal(task) {
                    return;
                }
                let who = task_label(task);
                let msg = match blocking {
                    Some((_, what, at)) => {
                        let excerpt = at.as_ref().map(|p| format!("    {}\n", p.text())).unwrap_or_default();
                        format!(
                            "aio: warning: {who} blocked the event loop for {}{}: {what} blocks every task; use `await sleep(...)`\n{excerpt}",
                            human_secs(took),
                            at_line(&at)
                        )
                    }
                    None => {
                        let to = if task.done() { None } else { place_in_task(task) };
                        let span = match (from, to) {
                            (Some(a), Some(b)) if a.line != b.line => format!(" between line {} and line {}", a.line, b.line),
                            (Some(a), _) => format!(" after line {}", a.line),
                            (None, Some(b)) => format!(" before line {}", b.line),
                            (None, None) => String::new(),
                        };
                        format!(
                            "aio: warning: {who} blocked the event loop for {}{span}: it ran that long without an `await` that suspends, so every other task waited\n",
                            human_secs(took)
                        )
                    }
                };
                vm.write_err(&msg);
            }
            _ => {}
        }
    }
}

/// A request's duration for people: `12 ms`, `1.25 s`.
fn duration_text(secs: f64) -> String {
    if secs < 1.0 {
        format!("{} ms", (secs * 1000.0).round() as i64)
    } else {
        format!("{secs:.2} s")
    }
}
