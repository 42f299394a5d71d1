//! `--replay OUT.html`: a page to step through a run event by event. The
//! [`Recorder`] hears the scheduling events `--trace` hears, tells each in
//! the trace's words, and notes at each one what the loop sees: the ready
//! queue in order, the pending timers, every task's state, line and wait,
//! the locks, queues and events with their holders, waiters and contents,
//! and the output printed so far. The page is one file with its script and
//! style inside; under `--virtual-time` it is the same on every run.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::rc::{Rc, Weak};

use aio_interp::bytecode::Source;
use aio_interp::event_loop::EventLoop;
use aio_interp::object::{Args, Instance, NativeObject, PyErr, PyResult};
use aio_interp::task::{FutState, Future};
use aio_interp::trace::{is_internal, place_in_frames, place_in_task, task_label, Event, Place, Tracer};
use aio_interp::{Value, Vm};

/// Events recorded at most: a longer run's page shows its first ones.
pub const MAX_STEPS: usize = 20_000;
/// Items of a queue and waiters of a lock shown at most.
const MAX_ITEMS: usize = 12;

// ------------------------------------------------------------ what is seen

/// One task at one event.
#[derive(Clone, PartialEq)]
struct TaskView {
    /// `new`, `running`, `ready`, `waiting`, `done`, `failed`, `cancelled`.
    state: &'static str,
    /// What it waits on, or how it ended.
    what: String,
    /// Its line: the index of the source, and the line.
    at: Option<(usize, usize)>,
}

/// One lock, semaphore, condition, queue or event at one event.
#[derive(Clone, PartialEq)]
struct SyncView {
    /// `Lock 'fork'`
    name: String,
    /// The tasks holding it.
    holders: Vec<String>,
    /// The tasks waiting on it, with what for when that is not plain (`get`).
    waiters: Vec<String>,
    /// Its state or contents: `locked`, `value 1`, `2 items: 'a', 'b'`.
    detail: String,
}

/// What the loop sees at one event.
#[derive(Clone, Default, PartialEq)]
struct Snapshot {
    running: Option<usize>,
    ready: Vec<String>,
    timers: Vec<(f64, String)>,
    tasks: Vec<TaskView>,
    syncs: Vec<SyncView>,
    /// How much of the output was printed, in UTF-16 units (the page's).
    out: usize,
}

/// One step of the replay: an event told in a sentence, and what changed
/// since the step before (`None`: nothing).
struct Step {
    t: f64,
    iteration: u64,
    text: String,
    header: bool,
    running: Option<Option<usize>>,
    ready: Option<Vec<String>>,
    timers: Option<Vec<(f64, String)>>,
    tasks: Vec<(usize, TaskView)>,
    syncs: Option<Vec<SyncView>>,
    out: usize,
}

/// A lock, queue or event the program made, held weakly: an observer must
/// not keep alive what the program let go.
pub(crate) enum SyncRef {
    Instance(Weak<Instance>),
    Native(Weak<Box<dyn NativeObject>>),
}

impl SyncRef {
    pub(crate) fn of(v: &Value) -> Option<SyncRef> {
        match v {
            Value::Instance(i) => Some(SyncRef::Instance(Rc::downgrade(i))),
            Value::Object(o) => Some(SyncRef::Native(Rc::downgrade(o))),
            _ => None,
        }
    }
    pub(crate) fn get(&self) -> Option<Value> {
        match self {
            SyncRef::Instance(w) => w.upgrade().map(Value::Instance),
            SyncRef::Native(w) => w.upgrade().map(Value::Object),
        }
    }
}

/// A task the replay follows.
struct Known {
    task: Weak<Future>,
    id: u64,
    name: String,
    label: String,
    /// How it ended, once it has.
    ended: Option<TaskView>,
}

// ------------------------------------------------------------ recording

/// Collects the steps of a run and writes the page at the end.
pub struct Recorder {
    path: String,
    virtual_time: bool,
    /// Tells each event in the trace's words.
    printer: crate::trace::Printer,
    tasks: Vec<Known>,
    started: HashSet<u64>,
    syncs: Vec<(SyncRef, String)>,
    sources: Vec<Rc<Source>>,
    steps: Vec<Step>,
    prev: Snapshot,
    /// What the loop saw as the current iteration began.
    at_iteration: Option<Snapshot>,
    iteration: u64,
    /// Where this recording's output starts in the copy of the output (`Host::tee`).
    out_base: usize,
    /// Whether the copy of the output was started for this recording.
    owns_tee: bool,
    /// The output seen so far: bytes, and UTF-16 units.
    out_bytes: usize,
    out_units: usize,
    /// Events past [`MAX_STEPS`], not recorded.
    left_out: usize,
    /// What the last step says (`the program ends`).
    ending: String,
    written: bool,
}

impl Recorder {
    /// A recorder writing to `path` when the program ends; the output is
    /// copied from now on.
    pub fn new(vm: &mut Vm, path: String) -> Recorder {
        let owns_tee = vm.host.start_tee();
        let out_bytes = vm.host.tee().map_or(0, |t| t.len());
        Recorder {
            path,
            virtual_time: vm.host.virtual_time(),
            printer: crate::trace::Printer::keeping(vm.host.virtual_time()),
            tasks: Vec::new(),
            started: HashSet::new(),
            syncs: Vec::new(),
            sources: Vec::new(),
            steps: Vec::new(),
            prev: Snapshot::default(),
            at_iteration: None,
            iteration: 0,
            out_base: out_bytes,
            owns_tee,
            out_bytes,
            out_units: 0,
            left_out: 0,
            ending: "the program ends".into(),
            written: false,
        }
    }

    /// Follow the tasks already pending (a recording started at the REPL).
    pub fn adopt_tasks(&mut self, vm: &Vm) {
        for t in aio_interp::event_loop::all_tasks(vm) {
            if let Value::Future(f) = t {
                if !is_internal(&f) {
                    self.started.insert(f.id());
                    self.printer.started_before(&f);
                    self.know(&f);
                }
            }
        }
    }

    /// How many events the page shows.
    pub fn steps(&self) -> usize {
        self.steps.len()
    }

    fn know(&mut self, t: &Rc<Future>) {
        if self.tasks.iter().any(|k| k.id == t.id()) {
            return;
        }
        self.tasks.push(Known { task: Rc::downgrade(t), id: t.id(), name: t.name(), label: task_label(t), ended: None });
    }

    fn index(&self, t: &Future) -> Option<usize> {
        let id = t.id();
        self.tasks.iter().rposition(|k| k.id == id)
    }

    fn source(&mut self, p: &Place) -> usize {
        let src = &p.code.source;
        match self.sources.iter().position(|s| Rc::ptr_eq(s, src)) {
            Some(i) => i,
            None => {
                self.sources.push(src.clone());
                self.sources.len() - 1
            }
        }
    }

    fn place(&mut self, p: Option<Place>) -> Option<(usize, usize)> {
        p.map(|p| (self.source(&p), p.line))
    }

    /// Times as the trace shows them.
    fn stamp(&mut self, now: f64) -> f64 {
        self.printer.stamp(now)
    }

    /// How a finished task ended.
    fn outcome(vm: &mut Vm, t: &Future) -> TaskView {
        let (state, what) = match t.state() {
            FutState::Cancelled => ("cancelled", "was cancelled".to_string()),
            _ => match t.exception() {
                Some(e) => ("failed", format!("failed: {}", aio_interp::exceptions::exc_line(vm, &e))),
                None => ("done", "finished".to_string()),
            },
        };
        TaskView { state, what: without_addresses(&what), at: None }
    }

    /// What the loop sees now.
    fn snapshot(&mut self, vm: &mut Vm, now: f64) -> Snapshot {
        // On a real clock, times count from the first event, not from a timer's deadline.
        self.stamp(now);
        let loop_v = vm.host.running_loop().cloned();
        let l = loop_v.as_ref().and_then(|l| l.downcast::<EventLoop>());
        let current = l.and_then(|l| l.current.borrow().clone());
        let (ready, timers) = match l {
            Some(l) => (l.ready_entries(), l.timer_entries()),
            None => (Vec::new(), Vec::new()),
        };
        let in_ready: Vec<u64> = ready.iter().filter_map(|(_, t)| t.as_ref().map(|t| t.id())).collect();
        let timers = timers.into_iter().map(|(when, what)| (self.stamp(when), what)).collect();
        let mut running = None;
        let mut tasks = Vec::with_capacity(self.tasks.len());
        // The futures tasks wait on, to find who waits on a lock or a queue.
        let mut waits: Vec<(*const Future, usize)> = Vec::new();
        for i in 0..self.tasks.len() {
            if let Some(v) = &self.tasks[i].ended {
                tasks.push(v.clone());
                continue;
            }
            let Some(t) = self.tasks[i].task.upgrade() else {
                tasks.push(TaskView { state: "done", what: "finished".into(), at: None });
                continue;
            };
            let view = if t.done() {
                Self::outcome(vm, &t)
            } else if current.as_ref().is_some_and(|c| Rc::ptr_eq(c, &t)) {
                running = Some(i);
                let at = place_in_frames(vm).or_else(|| place_in_task(&t));
                TaskView { state: "running", what: String::new(), at: self.place(at) }
            } else {
                let waiter = t.task().and_then(|d| d.fut_waiter());
                if let Some(f) = &waiter {
                    waits.push((Rc::as_ptr(f), i));
                }
                let at = self.place(place_in_task(&t));
                match waiter {
                    Some(f) if !in_ready.contains(&t.id()) => {
                        let on = aio_interp::trace::task_waits_on(&t);
                        let what = format!("{} {on}", aio_interp::trace::wait_verb(&f, &on));
                        TaskView { state: "waiting", what, at }
                    }
                    _ => {
                        let started = self.started.contains(&t.id());
                        let what = if started { "its next step is in the ready queue" } else { "not started yet" };
                        TaskView { state: if started { "ready" } else { "new" }, what: what.into(), at }
                    }
                }
            };
            tasks.push(view);
        }
        let syncs = self.sync_views(vm, &waits);
        let tee_len = vm.host.tee().map_or(0, |t| t.len());
        if tee_len > self.out_bytes {
            if let Some(t) = vm.host.tee() {
                self.out_units += t[self.out_bytes..].encode_utf16().count();
            }
            self.out_bytes = tee_len;
        }
        let ready = ready.into_iter().map(|(what, _)| what).collect();
        Snapshot { running, ready, timers, tasks, syncs, out: self.out_units }
    }

    /// The names of the tasks waiting on any of `futs`.
    fn waiting_on(&self, futs: &[Rc<Future>], waits: &[(*const Future, usize)], what: &str) -> Vec<String> {
        let mut out = Vec::new();
        for f in futs {
            if let Some((_, i)) = waits.iter().find(|(p, _)| *p == Rc::as_ptr(f)) {
                out.push(if what.is_empty() { self.tasks[*i].name.clone() } else { format!("{} ({what})", self.tasks[*i].name) });
            }
        }
        out
    }

    fn sync_views(&mut self, vm: &mut Vm, waits: &[(*const Future, usize)]) -> Vec<SyncView> {
        let mut out = Vec::new();
        self.syncs.retain(|(r, _)| r.get().is_some());
        let objs: Vec<(Value, String)> = self.syncs.iter().filter_map(|(r, name)| Some((r.get()?, name.clone()))).collect();
        for (v, name) in objs {
            if let Some(q) = crate::asyncio::queue::observe(vm, &v) {
                let mut waiters = self.waiting_on(&q.getters, waits, "get");
                waiters.extend(self.waiting_on(&q.putters, waits, "put"));
                let n = q.items.len();
                let shown: Vec<String> = q.items.iter().take(MAX_ITEMS).map(|x| repr_of(vm, x)).collect();
                let mut detail = match n {
                    0 => "empty".to_string(),
                    1 => format!("1 item: {}", shown.join(", ")),
                    _ => format!("{n} items: {}", shown.join(", ")),
                };
                if n > MAX_ITEMS {
                    detail.push_str(&format!(", … {} more", n - MAX_ITEMS));
                }
                if let Value::Int(m) = q.maxsize {
                    if m > 0 {
                        detail.push_str(&format!(" (at most {m})"));
                    }
                }
                if q.unfinished > 0 {
                    detail.push_str(&format!("; {} not yet task_done()", q.unfinished));
                }
                out.push(SyncView { name, holders: Vec::new(), waiters: cap(waiters), detail });
                continue;
            }
            if let Some((set, entries)) = crate::asyncio::event::observe(&v) {
                // A task waiting on an event is listed as itself.
                let mut waiters = Vec::new();
                for e in &entries {
                    match self.tasks.iter().find(|k| e.is_task() && k.id == e.id()) {
                        Some(k) => waiters.push(k.name.clone()),
                        None => waiters.extend(self.waiting_on(std::slice::from_ref(e), waits, "")),
                    }
                }
                let detail = if set { "set" } else { "not set" }.to_string();
                out.push(SyncView { name, holders: Vec::new(), waiters: cap(waiters), detail });
                continue;
            }
            let Value::Instance(i) = &v else { continue };
            let label = aio_interp::sync::sync_label(&v);
            // A condition's own lock carries the condition's name: the condition stands for both.
            let kind = i.class().name().as_str().to_string();
            if kind == "Lock" && label.starts_with("Condition") {
                continue;
            }
            let holders: Vec<String> = aio_interp::sync::holders(&v).iter().map(|t| t.name()).collect();
            let futs: Vec<Rc<Future>> = match i.dict_get_str("_waiters") {
                Some(d) => match d.downcast::<crate::collections::Deque>() {
                    Some(d) => d.snapshot().into_iter().filter_map(|f| if let Value::Future(f) = f { Some(f) } else { None }).collect(),
                    None => Vec::new(),
                },
                None => Vec::new(),
            };
            let mut waiters = self.waiting_on(&futs, waits, "");
            let detail = match i.dict_get_str("_value") {
                Some(Value::Int(n)) => format!("value {n}"),
                _ => {
                    let lock = match i.dict_get_str("_lock") {
                        Some(l) => l,
                        None => v.clone(),
                    };
                    let locked = match &lock {
                        Value::Instance(li) => matches!(li.dict_get_str("_locked"), Some(Value::Bool(b)) if b.get()),
                        _ => false,
                    };
                    if kind == "Condition" {
                        // Who waits to take the lock back, besides those waiting for a notify.
                        if let Some(Value::Instance(li)) = i.dict_get_str("_lock") {
                            if let Some(d) =
                                li.dict_get_str("_waiters").and_then(|d| d.downcast::<crate::collections::Deque>().map(|d| d.snapshot()))
                            {
                                let futs: Vec<Rc<Future>> =
                                    d.into_iter().filter_map(|f| if let Value::Future(f) = f { Some(f) } else { None }).collect();
                                waiters.extend(self.waiting_on(&futs, waits, "the lock"));
                            }
                            if holders.is_empty() {
                                let h: Vec<String> = aio_interp::sync::holders(&Value::Instance(li)).iter().map(|t| t.name()).collect();
                                out.push(SyncView {
                                    name: label,
                                    holders: h,
                                    waiters: cap(waiters),
                                    detail: if locked { "locked" } else { "unlocked" }.into(),
                                });
                                continue;
                            }
                        }
                    }
                    if locked { "locked" } else { "unlocked" }.to_string()
                }
            };
            out.push(SyncView { name: label, holders, waiters: cap(waiters), detail });
        }
        out
    }

    /// Add the steps telling one event.
    fn record(&mut self, vm: &mut Vm, now: f64, ev: &Event) {
        match ev {
            Event::Created { task, .. } if !is_internal(task) => self.know(task),
            Event::Step { task, .. } => {
                self.started.insert(task.id());
            }
            Event::Made { obj, what } => {
                if let Some(r) = SyncRef::of(obj) {
                    self.syncs.push((r, what.clone()));
                }
            }
            _ => {}
        }
        self.printer.event(vm, now, ev);
        if let Event::Iteration { .. } = ev {
            self.iteration += 1;
            if self.steps.len() < MAX_STEPS {
                self.at_iteration = Some(self.snapshot(vm, now));
            }
        }
        let lines = self.printer.take_lines();
        if let Event::Done { task } = ev {
            if let Some(i) = self.index(task) {
                self.tasks[i].ended = Some(Self::outcome(vm, task));
            }
        }
        if lines.is_empty() {
            return;
        }
        if self.steps.len() >= MAX_STEPS {
            self.left_out += lines.len();
            return;
        }
        let snap = self.snapshot(vm, now);
        for (header, text) in lines {
            let s = if header { self.at_iteration.take().unwrap_or_else(|| snap.clone()) } else { snap.clone() };
            self.push(now, text, header, s);
        }
    }

    fn push(&mut self, now: f64, text: String, header: bool, snap: Snapshot) {
        if self.steps.len() >= MAX_STEPS {
            self.left_out += 1;
            return;
        }
        let prev = &self.prev;
        let first = self.steps.is_empty();
        let tasks = snap.tasks.iter().enumerate().filter(|(i, v)| prev.tasks.get(*i) != Some(v)).map(|(i, v)| (i, v.clone())).collect();
        let step = Step {
            t: 0.0,
            iteration: self.iteration,
            text: without_addresses(&text),
            header,
            running: (first || snap.running != prev.running).then_some(snap.running),
            ready: (first || snap.ready != prev.ready).then(|| snap.ready.clone()),
            timers: (first || snap.timers != prev.timers).then(|| snap.timers.clone()),
            tasks,
            syncs: (first || snap.syncs != prev.syncs).then(|| snap.syncs.clone()),
            out: snap.out,
        };
        let t = self.stamp(now);
        self.steps.push(Step { t, ..step });
        self.prev = snap;
    }

    /// End the recording with a last step, and write the page; an error
    /// says why it could not be written.
    pub fn finish(&mut self, vm: &mut Vm, now: f64) -> Result<(), String> {
        if self.written {
            return Ok(());
        }
        self.written = true;
        let snap = self.snapshot(vm, now);
        let ending = std::mem::take(&mut self.ending);
        self.push(now, ending, false, snap);
        let title = crate::timeline::program_title(vm);
        let out = vm.host.tee().unwrap_or_default().to_string();
        if self.owns_tee {
            vm.host.stop_tee();
        }
        let page = self.render(&title, out.get(self.out_base..).unwrap_or(""));
        std::fs::write(&self.path, page).map_err(|e| format!("cannot write the replay to {}: {e}", self.path))
    }

    /// Say what the last step says (the REPL's `replay()`: `the awaited expression is done`).
    pub fn set_ending(&mut self, text: &str) {
        self.ending = text.to_string();
    }

    // ------------------------------------------------------------ the page

    fn render(&self, title: &str, out: &str) -> String {
        let mut d = String::with_capacity(64 * 1024);
        d.push_str("{\"title\":");
        json_str(&mut d, title);
        let _ = write!(d, ",\"virtual\":{},\"leftOut\":{},\"max\":{MAX_STEPS}", self.virtual_time, self.left_out);
        d.push_str(",\"sources\":");
        json_array(&mut d, &self.sources, |d, s| {
            d.push_str("{\"name\":");
            json_str(d, &s.name);
            d.push_str(",\"text\":");
            json_str(d, &s.text);
            d.push('}');
        });
        d.push_str(",\"tasks\":");
        json_array(&mut d, &self.tasks, |d, k| json_list(d, &[k.name.clone(), k.label.clone()]));
        d.push_str(",\"out\":");
        json_str(&mut d, out);
        d.push_str(",\"steps\":");
        json_array(&mut d, &self.steps, |d, s| {
            let _ = write!(d, "\n{{\"t\":{},\"i\":{},\"d\":", num(s.t), s.iteration);
            json_str(d, &s.text);
            if s.header {
                d.push_str(",\"h\":1");
            }
            if let Some(r) = &s.running {
                let _ = write!(d, ",\"u\":{}", r.map_or(-1, |i| i as i64));
            }
            if let Some(r) = &s.ready {
                d.push_str(",\"r\":");
                json_list(d, r);
            }
            if let Some(m) = &s.timers {
                d.push_str(",\"m\":");
                json_array(d, m, |d, (t, what)| {
                    let _ = write!(d, "[{},", num(*t));
                    json_str(d, what);
                    d.push(']');
                });
            }
            if !s.tasks.is_empty() {
                d.push_str(",\"s\":");
                json_array(d, &s.tasks, |d, (k, v)| {
                    let _ = write!(d, "[{k},\"{}\",", v.state);
                    json_str(d, &v.what);
                    let (src, line) = v.at.map_or((-1, 0), |(s, l)| (s as i64, l));
                    let _ = write!(d, ",{src},{line}]");
                });
            }
            if let Some(y) = &s.syncs {
                d.push_str(",\"y\":");
                json_array(d, y, |d, v| {
                    d.push('[');
                    json_str(d, &v.name);
                    d.push(',');
                    json_list(d, &v.holders);
                    d.push(',');
                    json_list(d, &v.waiters);
                    d.push(',');
                    json_str(d, &v.detail);
                    d.push(']');
                });
            }
            let _ = write!(d, ",\"o\":{}}}", s.out);
        });
        d.push('}');
        // Split at the marks, not replaced: the data may hold any text.
        let (head, rest) = PAGE.split_once("/*TITLE*/").expect("the page has a title");
        let (middle, tail) = rest.split_once("/*DATA*/").expect("the page has its data");
        let title = crate::timeline::xml_escape(title);
        let mut page = String::with_capacity(head.len() + title.len() + middle.len() + d.len() + tail.len());
        for part in [head, &title, middle, &d, tail] {
            page.push_str(part);
        }
        page
    }
}

impl Tracer for Recorder {
    fn event(&mut self, vm: &mut Vm, now: f64, ev: &Event) {
        if self.written {
            return;
        }
        if let Event::Finish = ev {
            if let Err(e) = self.finish(vm, now) {
                vm.write_err(&format!("aio: {e}\n"));
            }
            return;
        }
        self.record(vm, now, ev);
    }
}

// ------------------------------------------------------------ the REPL's replay()

/// `replay(aw, path)` at the prompt, in the language: `await replay(aw,
/// 'out.html')` awaits `aw` and writes the page of what the loop did
/// meanwhile (every task of the session, not only `aw`'s).
const REPL_HELPER: &str = "\
async def replay(aw, path):
    _replay_begin(path)
    try:
        return await aw
    finally:
        _replay_end()
";

thread_local! {
    /// The recording `replay()` is making, if any.
    static RECORDING: std::cell::RefCell<Option<Rc<std::cell::RefCell<Recorder>>>> = const { std::cell::RefCell::new(None) };
}

/// The tracer while `replay()` records: the session's own tracer (if
/// any) and the recorder, both hearing every event.
struct Recording {
    before: Option<Box<dyn Tracer>>,
    rec: Rc<std::cell::RefCell<Recorder>>,
}

impl Tracer for Recording {
    fn event(&mut self, vm: &mut Vm, now: f64, ev: &Event) {
        if let Some(t) = &mut self.before {
            t.event(vm, now, ev);
        }
        self.rec.borrow_mut().event(vm, now, ev);
    }
    fn take_before(&mut self) -> Option<Option<Box<dyn Tracer>>> {
        Some(self.before.take())
    }
}

/// Is `path` a file name the replay can be written to: an `.html` page?
pub fn check_path(path: &str) -> Result<(), String> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".html") || lower.ends_with(".htm") {
        Ok(())
    } else {
        Err(format!("the replay is an .html page: '{path}' does not end in .html"))
    }
}

/// Make `replay()` a builtin of the session.
pub fn install_repl_helper(vm: &mut Vm) -> PyResult<()> {
    let module = aio_interp::import::new_module("_replay", None);
    module.set("_replay_begin", aio_interp::types::native_fn("_replay_begin", replay_begin));
    module.set("_replay_end", aio_interp::types::native_fn("_replay_end", replay_end));
    let code = match aio_interp::import::compile_source("<replay>", REPL_HELPER, &module, aio_interp::compiler::Mode::Module) {
        Ok(c) => c,
        Err((d, _)) => return Err(aio_interp::exceptions::runtime_error(d.message)),
    };
    vm.run_code(code, module.clone())?;
    if let Some(f) = module.get("replay") {
        vm.builtins.set_str("replay", f);
    }
    Ok(())
}

fn replay_begin(vm: &mut Vm, args: Args) -> PyResult {
    use aio_interp::exceptions::{runtime_error, type_error, value_error};
    let path = match args.pos.first() {
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(v) => {
            return Err(type_error(format!("replay() needs the path of the page as a str, not {}", aio_interp::types::type_name(v))))
        }
        None => return Err(type_error("replay() missing the path of the page")),
    };
    if RECORDING.with(|r| r.borrow().is_some()) {
        return Err(runtime_error("a replay is being recorded already: await one replay() at a time"));
    }
    check_path(&path).map_err(value_error)?;
    // Refused now, not after the run: the file must be writable.
    if let Err(e) = std::fs::File::create(&path) {
        return Err(file_error(&e, &path));
    }
    let mut rec = Recorder::new(vm, path);
    rec.adopt_tasks(vm);
    rec.set_ending("the awaited expression is done");
    let rec = Rc::new(std::cell::RefCell::new(rec));
    RECORDING.with(|r| *r.borrow_mut() = Some(rec.clone()));
    let before = vm.host.take_tracer();
    vm.host.set_tracer(Some(Box::new(Recording { before, rec })));
    Ok(Value::None)
}

fn replay_end(vm: &mut Vm, _args: Args) -> PyResult {
    let Some(rec) = RECORDING.with(|r| r.borrow_mut().take()) else { return Ok(Value::None) };
    let mut tracer = vm.host.take_tracer();
    vm.host.set_tracer(match tracer.as_mut().and_then(|t| t.take_before()) {
        Some(before) => before,
        None => tracer,
    });
    let now = aio_interp::event_loop::now(vm);
    let mut rec = rec.borrow_mut();
    match rec.finish(vm, now) {
        Ok(()) => {
            vm.write_err(&format!("aio: the replay ({} events) is in {}\n", rec.steps(), rec.path));
            Ok(Value::None)
        }
        Err(e) => Err(aio_interp::exceptions::runtime_error(e)),
    }
}

/// `FileNotFoundError: [Errno 2] No such file or directory: 'x/out.html'`
fn file_error(e: &std::io::Error, path: &str) -> PyErr {
    match e.raw_os_error() {
        Some(n) => {
            let cls = aio_interp::exceptions::os_error_class(n as i64);
            let strerror = e.to_string();
            let strerror = strerror.split(" (os error").next().unwrap_or(&strerror).to_string();
            PyErr(aio_interp::exceptions::new_exception(&cls, vec![Value::Int(n as i64), Value::str(&strerror), Value::str(path)]))
        }
        None => aio_interp::exceptions::os_error_from_io(e),
    }
}

/// At most [`MAX_ITEMS`] names, and how many more.
fn cap(mut names: Vec<String>) -> Vec<String> {
    if names.len() > MAX_ITEMS {
        let more = names.len() - MAX_ITEMS;
        names.truncate(MAX_ITEMS);
        names.push(format!("… {more} more"));
    }
    names
}

/// A value's repr for the page, without addresses (`<Job object at 0x…>`):
/// the page must be the same on every run.
fn repr_of(vm: &mut Vm, v: &Value) -> String {
    let r = vm.repr_str(v).unwrap_or_else(|_| format!("<{} object>", aio_interp::types::type_name(v)));
    let r: String = if r.chars().count() > 80 { r.chars().take(79).chain(std::iter::once('…')).collect() } else { r };
    without_addresses(&r)
}

/// `at 0x7f3a2c` becomes `at 0x…`.
pub fn without_addresses(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(" at 0x") {
        let (head, tail) = rest.split_at(i + " at 0x".len());
        out.push_str(head);
        let hex = tail.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex > 0 {
            out.push('…');
        }
        rest = &tail[hex..];
    }
    out.push_str(rest);
    out
}

/// A number for the page's data: shortest form, and never NaN.
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".into()
    }
}

/// A JSON string that is safe inside a `<script>` element.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON array of strings.
fn json_list(out: &mut String, items: &[String]) {
    json_array(out, items, |out, s| json_str(out, s));
}

/// A JSON array, each item written by `item`.
fn json_array<T>(out: &mut String, items: &[T], mut item: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(out, x);
    }
    out.push(']');
}

/// The page: its data goes where `/*DATA*/` is.
const PAGE: &str = include_str!("replay.html");

#[cfg(test)]
mod tests {
    use super::{json_str, without_addresses};

    #[test]
    fn addresses_are_left_out() {
        assert_eq!(without_addresses("<Job object at 0x7f3a2c10>"), "<Job object at 0x…>");
        assert_eq!(without_addresses("a at 0xg"), "a at 0xg");
    }

    #[test]
    fn strings_cannot_end_the_script() {
        let mut s = String::new();
        json_str(&mut s, "</script>\"\n\u{1}");
        assert_eq!(s, "\"\\u003c/script\\u003e\\\"\\n\\u0001\"");
    }
}
