//! `--timeline OUT.svg|OUT.html`: a Gantt chart of a run. The [`Recorder`]
//! turns scheduling events into a [`Timeline`] (one lane per task, running
//! slices, waits labelled with what they wait on, wake-ups, outcomes), and
//! [`render`] draws it as hand-written SVG, reporting the boxes of all its
//! text in a [`Layout`] so that tests can check that no two overlap.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use aio_interp::task::{FutState, Future};
use aio_interp::trace::{is_internal, task_func, Event, Tracer};
use aio_interp::Vm;

// ------------------------------------------------------------ the model

/// A moment of the run: loop seconds since the start, and loop iteration.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct At {
    pub t: f64,
    pub it: f64,
}

/// What a span of a lane shows.
#[derive(Clone, Debug, PartialEq)]
pub enum SpanKind {
    /// The task's code runs.
    Run,
    /// A blocking call (`time.sleep`) inside a running step.
    Block,
    /// `await sleep(d)`.
    Sleep,
    /// Awaiting another task (or `gather`, `wait`, ...).
    AwaitTask,
    /// Awaiting a queue, an event, a lock, a future.
    Wait,
    /// `sleep(0)`: giving the other tasks a turn.
    Yield,
    /// Awaiting the outside world: a socket, a pipe, a child process.
    Io,
}

/// One bar of a lane.
#[derive(Clone, Debug)]
pub struct Span {
    pub start: At,
    pub end: At,
    pub kind: SpanKind,
    /// What the task waits on (`Queue.get`), or the blocking call.
    pub label: String,
    pub line: Option<usize>,
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Done,
    Failed(String),
    Cancelled,
}

/// One task.
#[derive(Clone, Debug)]
pub struct Lane {
    /// `Task-2`
    pub name: String,
    /// The coroutine function, `worker`.
    pub func: String,
    pub created: At,
    /// The lane of the task that created this one.
    pub created_by: Option<usize>,
    pub created_line: Option<usize>,
    pub spans: Vec<Span>,
    /// When `cancel()` was asked.
    pub cancel_requests: Vec<At>,
    pub end: Option<(At, Outcome)>,
}

/// One task waking another: from the waker's lane at `from`, to the woken
/// task's lane where it resumes.
#[derive(Clone, Debug)]
pub struct Arrow {
    pub from_lane: usize,
    pub to_lane: usize,
    pub from: At,
    pub to: At,
    pub what: String,
}

/// A task holding a lock or a semaphore, from `start` to `end`.
#[derive(Clone, Debug)]
pub struct Hold {
    pub lane: usize,
    pub start: At,
    pub end: At,
    /// `Lock 'fork'`
    pub what: String,
}

/// The moment every task was blocked with nothing to wake one.
#[derive(Clone, Debug)]
pub struct Deadlock {
    pub at: At,
    /// Where the run's last events are drawn: the end of the waits that
    /// never end, after a stretch of axis standing for "forever".
    pub mark: At,
    /// The cycles of waits, in sentences.
    pub cycles: Vec<String>,
}

impl Deadlock {
    /// Is `at` drawn at the mark (what the loop did to end the run)?
    pub fn after(&self, at: &At) -> bool {
        at.t >= self.mark.t && at.it >= self.mark.it
    }
}

/// A number that changes over the run: a queue's length, a semaphore's value.
#[derive(Clone, Debug)]
pub struct Counter {
    /// `Queue 'q' length`, `Semaphore 'sem' value`
    pub name: String,
    /// Each change: when, and the value from then on.
    pub points: Vec<(At, i64)>,
}

/// A whole run.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    /// The program's name.
    pub title: String,
    pub virtual_time: bool,
    pub end: At,
    pub lanes: Vec<Lane>,
    pub arrows: Vec<Arrow>,
    pub holds: Vec<Hold>,
    pub deadlock: Option<Deadlock>,
    /// Tracks under the lanes: queue lengths and semaphore values.
    pub counters: Vec<Counter>,
}

// ------------------------------------------------------------ recording

/// Where a task is between events.
enum State {
    Running(At),
    Waiting { since: At, kind: SpanKind, label: String, line: Option<usize> },
    Ended,
}

/// While recording, a moment inside an iteration is `iteration + k / STEP`
/// for the `k`th task step of the iteration; [`Recorder::timeline`] then
/// spreads the steps of each iteration over it, one after another, so that
/// a run in which no time passes shows them in order, not side by side.
const STEP: f64 = 4096.0;

/// Collects a [`Timeline`] from scheduling events and writes it at the end.
pub struct Recorder {
    path: String,
    origin: Option<f64>,
    iteration: f64,
    /// Task steps begun in this iteration.
    steps_begun: f64,
    /// Task steps of each iteration, by iteration.
    steps: Vec<f64>,
    /// The iteration of the last event recorded.
    last_it: f64,
    tl: Timeline,
    lane_of: HashMap<u64, usize>,
    state: Vec<State>,
    /// Wake-ups on their way: woken lane -> (waker lane, when, what).
    pending: HashMap<usize, (usize, At, String)>,
    /// Locks held now: (lane, what, since).
    holding: Vec<(usize, String, At)>,
    /// The queues and semaphores counted: each object, whether it is a
    /// queue, and its counter in `tl.counters`.
    counted: Vec<(crate::replay::SyncRef, bool, usize)>,
}

impl Recorder {
    pub fn new(path: String, virtual_time: bool) -> Recorder {
        Recorder {
            path,
            origin: if virtual_time { Some(0.0) } else { None },
            iteration: 0.0,
            steps_begun: 0.0,
            steps: Vec::new(),
            last_it: 0.0,
            tl: Timeline { virtual_time, ..Timeline::default() },
            lane_of: HashMap::new(),
            state: Vec::new(),
            pending: HashMap::new(),
            holding: Vec::new(),
            counted: Vec::new(),
        }
    }

    /// Note the counters whose value changed.
    fn count(&mut self, vm: &mut Vm, now: f64) {
        for k in 0..self.counted.len() {
            let (r, queue, c) = &self.counted[k];
            let (queue, c) = (*queue, *c);
            let Some(v) = r.get() else { continue };
            let value = if queue {
                crate::asyncio::queue::observed_len(vm, &v).map(|n| n as i64)
            } else {
                match &v {
                    aio_interp::Value::Instance(i) => match i.dict_get_str("_value") {
                        Some(aio_interp::Value::Int(n)) => Some(n),
                        _ => None,
                    },
                    _ => None,
                }
            };
            let Some(value) = value else { continue };
            if self.tl.counters[c].points.last().is_some_and(|p| p.1 == value) {
                continue;
            }
            let when = self.at(now);
            self.tl.counters[c].points.push((when, value));
        }
    }

    fn at(&mut self, now: f64) -> At {
        // After a deadlock, what the loop does to end the run (cancelling
        // the blocked tasks) is drawn at the deadlock mark.
        if let Some(d) = &self.tl.deadlock {
            self.last_it = self.iteration;
            return d.mark;
        }
        let origin = *self.origin.get_or_insert(now);
        self.last_it = self.iteration;
        // The step running (or the last one run) in this iteration.
        let k = (self.steps_begun - 1.0).clamp(0.0, STEP - 1.0);
        At { t: (now - origin).max(0.0), it: self.iteration + k / STEP }
    }

    /// A moment as recorded, `iteration + k / STEP`, as drawn: the steps of
    /// the iteration share it equally, in the order they ran.
    fn spread(&self, it: f64) -> f64 {
        let i = (it + 1e-9).floor();
        let k = ((it - i) * STEP).round();
        let n = self.steps.get(i as usize).copied().unwrap_or(0.0).max(1.0);
        i + k.min(n) / n
    }

    fn lane(&self, t: &Future) -> Option<usize> {
        self.lane_of.get(&t.id()).copied()
    }

    /// Close what a lane is doing at `at`: a running slice or a wait.
    fn close(&mut self, lane: usize, at: At) {
        let st = std::mem::replace(&mut self.state[lane], State::Ended);
        let spans = &mut self.tl.lanes[lane].spans;
        match st {
            State::Running(since) => spans.push(Span {
                start: since,
                end: At { t: at.t, it: since.it + 1.0 / STEP },
                kind: SpanKind::Run,
                label: String::new(),
                line: None,
            }),
            State::Waiting { since, kind, label, line } => {
                spans.push(Span { start: At { t: since.t, it: since.it + 1.0 / STEP }, end: at, kind, label, line })
            }
            State::Ended => {}
        }
    }

    /// The finished timeline (open spans closed at the end of the run).
    pub fn timeline(&mut self, now: f64) -> Timeline {
        // Iterations after the last task event (the library tidying up) are not shown.
        self.iteration = self.last_it;
        let end = self.at(now);
        for lane in 0..self.state.len() {
            self.close(lane, end);
        }
        for (lane, what, start) in std::mem::take(&mut self.holding) {
            self.tl.holds.push(Hold { lane, start, end, what });
        }
        let mut tl = std::mem::take(&mut self.tl);
        let spread = |a: &mut At| a.it = self.spread(a.it);
        for lane in &mut tl.lanes {
            spread(&mut lane.created);
            for sp in &mut lane.spans {
                spread(&mut sp.start);
                spread(&mut sp.end);
            }
            lane.cancel_requests.iter_mut().for_each(spread);
            if let Some((at, _)) = &mut lane.end {
                spread(at);
            }
        }
        for a in &mut tl.arrows {
            spread(&mut a.from);
            spread(&mut a.to);
        }
        for h in &mut tl.holds {
            spread(&mut h.start);
            spread(&mut h.end);
        }
        if let Some(d) = &mut tl.deadlock {
            spread(&mut d.at);
            spread(&mut d.mark);
        }
        for c in &mut tl.counters {
            c.points.iter_mut().for_each(|(at, _)| spread(at));
        }
        tl.end = At { t: end.t, it: self.spread(end.it).floor() + 1.0 };
        tl
    }

    fn write(&mut self, vm: &mut Vm, now: f64) {
        let mut tl = self.timeline(now);
        tl.title = program_title(vm);
        let html = self.path.to_ascii_lowercase().ends_with(".html") || self.path.to_ascii_lowercase().ends_with(".htm");
        let text = if html { render_html(&tl) } else { render(&tl).svg };
        if let Err(e) = std::fs::write(&self.path, text) {
            vm.write_err(&format!("aio: cannot write the timeline to {}: {e}\n", self.path));
        }
    }
}

/// The program's name as it was given (`sys.argv[0]`), or `the program`.
pub fn program_title(vm: &mut Vm) -> String {
    match vm.host.argv().cloned() {
        Some(argv) => match vm.getitem(&argv, &aio_interp::Value::Int(0)) {
            Ok(aio_interp::Value::Str(s)) if !s.as_str().is_empty() => s.as_str().to_string(),
            _ => "the program".into(),
        },
        None => "the program".into(),
    }
}

/// `sleep(332.0192837)` → `sleep(332.019)`: labels are for reading, not for the exact figure.
fn short_numbers(s: &str) -> String {
    let mut out = String::new();
    let mut num = String::new();
    let flush = |num: &mut String, out: &mut String| {
        match num.parse::<f64>() {
            Ok(x) if num.contains('.') && num.len() > 6 => out.push_str(&trim_float(x, 3)),
            _ => out.push_str(num),
        }
        num.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() || (c == '.' && !num.is_empty()) {
            num.push(c);
        } else {
            flush(&mut num, &mut out);
            out.push(c);
        }
    }
    flush(&mut num, &mut out);
    out
}

fn wait_kind(on: &Future, what: &str) -> SpanKind {
    if aio_interp::trace::is_io_wait(on, what) {
        SpanKind::Io
    } else if what.starts_with("sleep(") {
        SpanKind::Sleep
    } else if on.is_task() || on.is_gathering() || what.starts_with("gather(") || what.starts_with("wait") || what == "the TaskGroup" {
        SpanKind::AwaitTask
    } else {
        SpanKind::Wait
    }
}

impl Tracer for Recorder {
    fn event(&mut self, vm: &mut Vm, now: f64, ev: &Event) {
        self.record(vm, now, ev);
        if !self.counted.is_empty() && !matches!(ev, Event::Finish) {
            self.count(vm, now);
        }
    }
}

impl Recorder {
    fn record(&mut self, vm: &mut Vm, now: f64, ev: &Event) {
        match ev {
            Event::Iteration { .. } => {
                self.iteration += 1.0;
                self.steps_begun = 0.0;
            }
            Event::Created { task, by, at } => {
                if is_internal(task) {
                    return;
                }
                let when = self.at(now);
                let created_by = by.as_ref().and_then(|b| self.lane(b));
                self.lane_of.insert(task.id(), self.tl.lanes.len());
                self.tl.lanes.push(Lane {
                    name: task.name(),
                    func: task_func(task),
                    created: when,
                    created_by,
                    created_line: at.as_ref().map(|p| p.line),
                    spans: Vec::new(),
                    cancel_requests: Vec::new(),
                    end: None,
                });
                // Until its first step, a new task waits for its turn.
                self.state.push(State::Waiting { since: when, kind: SpanKind::Yield, label: String::new(), line: None });
            }
            Event::Step { task, .. } => {
                let Some(l) = self.lane(task) else { return };
                self.steps_begun += 1.0;
                let i = self.iteration as usize;
                if self.steps.len() <= i {
                    self.steps.resize(i + 1, 0.0);
                }
                self.steps[i] = self.steps_begun;
                let when = self.at(now);
                self.close(l, when);
                self.state[l] = State::Running(when);
                if let Some((from_lane, from, what)) = self.pending.remove(&l) {
                    if from_lane != l {
                        self.tl.arrows.push(Arrow { from_lane, to_lane: l, from, to: when, what });
                    }
                }
            }
            Event::Suspend { task, on, what, at } => {
                let Some(l) = self.lane(task) else { return };
                let when = self.at(now);
                self.close(l, when);
                let label = short_numbers(what);
                self.state[l] = State::Waiting { since: when, kind: wait_kind(on, what), label, line: at.as_ref().map(|p| p.line) };
            }
            Event::Yield { task, at } => {
                let Some(l) = self.lane(task) else { return };
                let when = self.at(now);
                self.close(l, when);
                self.state[l] =
                    State::Waiting { since: when, kind: SpanKind::Yield, label: "sleep(0)".into(), line: at.as_ref().map(|p| p.line) };
            }
            Event::Blocking { secs, what, at } => {
                let Some(t) = current_task(vm) else { return };
                let Some(l) = self.lane(&t) else { return };
                let start = self.at(now);
                let end = At { t: start.t + secs, it: start.it + 1.0 / STEP };
                let label = format!("{what}({})", aio_interp::numfmt::float_repr(*secs));
                self.tl.lanes[l].spans.push(Span { start, end, kind: SpanKind::Block, label, line: at.as_ref().map(|p| p.line) });
            }
            Event::Wakes { task, fut, cause } => {
                let Some(l) = self.lane(task) else { return };
                let Some(by) = cause.task() else { return };
                let Some(from_lane) = self.lane(by) else { return };
                let when = self.at(now);
                let coro = task.task().map(|d| d.coro_value()).unwrap_or(aio_interp::Value::None);
                let what = aio_interp::trace::waiter_label(fut, &coro);
                let from = At { t: when.t, it: when.it + 1.0 / STEP };
                self.pending.insert(l, (from_lane, from, what));
            }
            Event::Done { task } => {
                let Some(l) = self.lane(task) else { return };
                let when = self.at(now);
                self.close(l, when);
                let outcome = match task.state() {
                    FutState::Cancelled => Outcome::Cancelled,
                    _ => match task.exception() {
                        Some(e) => Outcome::Failed(aio_interp::exceptions::exc_line(vm, &e)),
                        None => Outcome::Done,
                    },
                };
                self.tl.lanes[l].end = Some((At { t: when.t, it: when.it + 1.0 / STEP }, outcome));
                self.pending.remove(&l);
            }
            Event::Cancel { task, .. } => {
                let Some(l) = self.lane(task) else { return };
                let when = self.at(now);
                self.tl.lanes[l].cancel_requests.push(when);
            }
            Event::Request { what, status, task, .. } => {
                // The waits of the request are labelled with it; now they say how it ended.
                let Some(l) = task.as_ref().and_then(|t| self.lane(t)) else { return };
                let short = short_numbers(what);
                let done = format!("{short} -> {status}");
                for sp in self.tl.lanes[l].spans.iter_mut().rev().take(8) {
                    if sp.label == short {
                        sp.label = done.clone();
                    }
                }
                if let State::Waiting { label, .. } = &mut self.state[l] {
                    if *label == short {
                        *label = done;
                    }
                }
            }
            Event::Acquire { task, what, .. } => {
                let Some(l) = self.lane(task) else { return };
                let when = self.at(now);
                self.holding.push((l, what.clone(), when));
            }
            Event::Release { task, what } => {
                let Some(l) = self.lane(task) else { return };
                let when = self.at(now);
                if let Some(k) = self.holding.iter().rposition(|(hl, hw, _)| *hl == l && hw == what) {
                    let (lane, what, start) = self.holding.remove(k);
                    self.tl.holds.push(Hold { lane, start, end: when, what });
                }
            }
            Event::Deadlock { cycles, .. } => {
                let at = self.at(now);
                // "Forever" is drawn as a quarter of the run so far.
                // A whole iteration, which spreading leaves where it is.
                let it = (at.it + (at.it * 0.25).max(2.0)).ceil();
                let mark = At { t: at.t + (at.t * 0.25).max(if at.t > 0.0 { 1e-3 } else { 0.0 }), it };
                self.tl.deadlock = Some(Deadlock { at, mark, cycles: cycles.clone() });
            }
            Event::Finish => self.write(vm, now),
            Event::Timer { .. } | Event::Callback { .. } | Event::StepEnd { .. } | Event::Woken { .. } | Event::Io { .. } => {}
            Event::Made { obj, what } => {
                let kind = what.split(' ').next().unwrap_or("");
                let queue = kind.ends_with("Queue");
                if !queue && !kind.ends_with("Semaphore") {
                    return;
                }
                let Some(r) = crate::replay::SyncRef::of(obj) else { return };
                let name = format!("{what} {}", if queue { "length" } else { "value" });
                self.counted.push((r, queue, self.tl.counters.len()));
                self.tl.counters.push(Counter { name, points: Vec::new() });
            }
        }
    }
}

fn current_task(vm: &Vm) -> Option<Rc<Future>> {
    let l = vm.host.running_loop()?.downcast::<aio_interp::event_loop::EventLoop>()?;
    let t = l.current.borrow().clone();
    t
}

// ------------------------------------------------------------ rendering

/// A piece of text in the picture and the box it takes.
#[derive(Clone, Debug)]
pub struct TextBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub text: String,
}

impl TextBox {
    /// Do two boxes share any area?
    pub fn overlaps(&self, o: &TextBox) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// Where everything went.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// The top and height of each lane.
    pub lanes: Vec<(f64, f64)>,
    /// Every piece of text: titles, legend, task names, tick labels, span labels.
    pub texts: Vec<TextBox>,
    /// The tick labels of the time axis (also in `texts`).
    pub ticks: Vec<TextBox>,
}

/// An SVG picture and its layout.
pub struct Rendered {
    pub svg: String,
    pub layout: Layout,
}

const WIDTH: f64 = 1200.0;
const NAME_W: f64 = 190.0;
const RIGHT: f64 = 40.0;
const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";
/// Advance of one character of the monospace font, in ems (DejaVu Sans Mono: 0.602).
const CHAR_EM: f64 = 0.62;

const C_RUN: &str = "#1d4ed8";
const C_BLOCK: &str = "#dc2626";
const C_SLEEP: &str = "#bae6fd";
const C_TASK: &str = "#e9d5ff";
const C_WAIT: &str = "#fde68a";
const C_IO: &str = "#99f6e4";
const C_IO_EDGE: &str = "#0d9488";
const C_YIELD: &str = "#e5e7eb";
const C_ARROW: &str = "#7c3aed";
const C_DONE: &str = "#16a34a";
const C_FAIL: &str = "#dc2626";
const C_CANCEL: &str = "#6b7280";
const C_HOLD: &str = "#9a3412";
const C_DEAD: &str = "#b91c1c";
const C_DEAD_ZONE: &str = "#fee2e2";
const C_COUNT: &str = "#0f766e";
/// The height of a counter track.
const COUNTER_H: f64 = 34.0;

fn text_w(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * CHAR_EM
}

/// Escape text for XML content and attribute values; drop characters XML 1.0 forbids.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `s` cut to at most `max` characters, with `…` when cut; None when not even
/// three characters and the ellipsis fit.
fn fit(s: &str, max: usize) -> Option<String> {
    let n = s.chars().count();
    if n <= max {
        return Some(s.to_string());
    }
    if max < 4 {
        return None;
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    Some(t)
}

/// Seconds as a short figure: `1.5 s`.
fn secs_text(t: f64) -> String {
    if t == 0.0 {
        "0 s".into()
    } else if t < 1e-3 {
        format!("{:.0} µs", t * 1e6)
    } else if t < 1.0 {
        format!("{} ms", trim_float(t * 1e3, 3))
    } else if t < 120.0 {
        format!("{} s", trim_float(t, 3))
    } else if t < 7200.0 {
        format!("{} min", trim_float(t / 60.0, 2))
    } else {
        format!("{} h", trim_float(t / 3600.0, 2))
    }
}

fn trim_float(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// How the time axis is labelled for a run of a given length.
struct Scale {
    /// Seconds per unit.
    unit: f64,
    /// `ms`; empty for clock labels and iterations.
    name: &'static str,
    /// Steps to choose from, in units.
    steps: &'static [f64],
    /// Labels as `m:ss` / `h:mm` (the unit is then seconds / minutes).
    clock: bool,
    caption: &'static str,
}

const FINE: &[f64] = &[0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0, 250.0, 500.0];

/// Units and steps that suit a span of `span` seconds (or iterations).
fn scale(span: f64, iterations: bool) -> Scale {
    const COUNTS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];
    const CLOCK_S: &[f64] = &[1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0];
    const CLOCK_M: &[f64] = &[1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 180.0, 240.0, 360.0, 720.0];
    const HOURS: &[f64] =
        &[1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 48.0, 72.0, 168.0, 336.0, 720.0, 1440.0, 2160.0, 4320.0, 8760.0, 17520.0, 43800.0, 87600.0];
    let (unit, name, steps, clock, caption) = if iterations {
        (1.0, "", COUNTS, false, "loop iteration")
    } else if span < 1e-3 {
        (1e-6, "µs", FINE, false, "loop time")
    } else if span < 1.0 {
        (1e-3, "ms", FINE, false, "loop time")
    } else if span < 60.0 {
        (1.0, "s", FINE, false, "loop time")
    } else if span < 3600.0 {
        (1.0, "", CLOCK_S, true, "loop time (m:ss)")
    } else if span < 48.0 * 3600.0 {
        (60.0, "", CLOCK_M, true, "loop time (h:mm)")
    } else {
        (3600.0, "h", HOURS, false, "loop time")
    };
    Scale { unit, name, steps, clock, caption }
}

fn tick_label(v: f64, sc: &Scale) -> String {
    if sc.clock {
        let whole = (v / sc.unit).round() as u64;
        return format!("{}:{:02}", whole / 60, whole % 60);
    }
    let n = trim_float(v / sc.unit, 3);
    if sc.name.is_empty() {
        n
    } else {
        format!("{n} {}", sc.name)
    }
}

/// The ticks of the time axis and its caption. The step is the finest
/// round one whose labels keep clear of each other (and at least 64 px apart).
fn ticks(span: f64, plot_w: f64, size: f64, iterations: bool) -> (Vec<(f64, String)>, String) {
    let sc = scale(span, iterations);
    for &units in sc.steps {
        let step = units * sc.unit;
        let n = (span / step + 1e-9).floor() as usize;
        if n > 400 {
            continue;
        }
        let px = step / span * plot_w;
        let label = |i: usize| tick_label(i as f64 * step, &sc);
        let widest = (0..=n).map(|i| text_w(&label(i), size)).fold(0.0, f64::max);
        if px >= (widest + 14.0).max(64.0) {
            return ((0..=n).map(|i| (i as f64 * step, label(i))).collect(), sc.caption.to_string());
        }
    }
    (vec![(0.0, tick_label(0.0, &sc))], sc.caption.to_string())
}

struct Svg {
    out: String,
    layout: Layout,
}

impl Svg {
    fn text(&mut self, x: f64, y: f64, size: f64, anchor: &str, extra: &str, s: &str) -> TextBox {
        let w = text_w(s, size);
        let left = match anchor {
            "middle" => x - w / 2.0,
            "end" => x - w,
            _ => x,
        };
        let _ = writeln!(
            self.out,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size:.1}" text-anchor="{anchor}"{extra}>{}</text>"#,
            xml_escape(s)
        );
        // The box from the text's top (ascent ~0.8 em above the baseline) to its descent.
        let b = TextBox { x: left, y: y - size * 0.8, w, h: size * 1.0, text: s.to_string() };
        self.layout.texts.push(b.clone());
        b
    }
}

/// Draw a timeline as SVG.
pub fn render(tl: &Timeline) -> Rendered {
    let n = tl.lanes.len().max(1);
    // Lanes share about 600 px, between 18 and 40 px each: the picture grows with the task count.
    let lane_h = (600.0 / n as f64).clamp(18.0, 40.0).floor();
    let bar_h = (lane_h * 0.62).round().max(12.0);
    let label_size = (bar_h - 3.0).clamp(9.0, 12.0);
    let name_size = (lane_h * 0.5).clamp(10.0, 13.0);
    let tick_size = 11.0;
    let x0 = NAME_W + 10.0;
    let x1 = WIDTH - RIGHT;
    let plot_w = x1 - x0;

    let iterations = tl.end.t <= 0.0;
    let pos = |a: &At| if iterations { a.it } else { a.t };
    let span = pos(&tl.end).max(if iterations { 1.0 } else { 1e-6 });
    let x_of = |v: f64| x0 + (v / span).clamp(0.0, 1.0) * plot_w;

    // The legend names every kind of mark the chart uses, in rows as wide as the picture.
    let mut legend: Vec<(&str, &str)> = vec![
        ("run", "running"),
        ("block", "blocking call"),
        ("sleep", "sleep()"),
        ("task", "awaiting a task"),
        ("wait", "queue/event/lock"),
        ("io", "I/O, process"),
        ("yield", "waiting for a turn"),
    ];
    if !tl.holds.is_empty() {
        legend.push(("hold", "holds a lock"));
    }
    legend.extend([("arrow", "wakes"), ("done", "done"), ("fail", "failed"), ("cancel", "cancelled")]);
    if tl.lanes.iter().any(|l| !l.cancel_requests.is_empty()) {
        legend.push(("cancelreq", "cancel() asked"));
    }
    if tl.deadlock.is_some() {
        legend.push(("deadlock", "deadlock"));
    }
    let mut legend_at = Vec::new();
    let (mut lx, mut ly) = (12.0, 62.0);
    for (key, words) in &legend {
        let w = 16.0 + 5.0 + text_w(words, 11.0);
        if lx + w > WIDTH - 12.0 {
            lx = 12.0;
            ly += 16.0;
        }
        legend_at.push((lx, ly, *key, *words));
        lx += w + 16.0;
    }

    // Below the lanes, the cycles of a deadlock, one line each.
    let cycle_lines: Vec<String> = match &tl.deadlock {
        Some(d) if d.cycles.is_empty() => vec!["deadlock: every task is blocked and no timer is pending".to_string()],
        Some(d) => d.cycles.iter().map(|c| format!("deadlock: {c}")).collect(),
        None => Vec::new(),
    };

    if !tl.counters.is_empty() {
        let w = 16.0 + 5.0 + text_w("queue length, semaphore value", 11.0);
        if lx + w > WIDTH - 12.0 {
            lx = 12.0;
            ly += 16.0;
        }
        legend_at.push((lx, ly, "count", "queue length, semaphore value"));
    }
    let header_h = ly + 16.0;
    let axis_h = 22.0;
    let lanes_top = header_h + axis_h;
    let lanes_h = lane_h * tl.lanes.len() as f64;
    let bottom_axis = tl.lanes.len() > 12;
    let footer_top = lanes_top + lanes_h + if bottom_axis { axis_h + 16.0 } else { 16.0 };
    let counters_top = footer_top + 18.0 * cycle_lines.len() as f64;
    let height = counters_top + COUNTER_H * tl.counters.len() as f64 + if tl.counters.is_empty() { 0.0 } else { 6.0 };

    let mut s = Svg { out: String::new(), layout: Layout { width: WIDTH, height, ..Layout::default() } };
    let _ = writeln!(
        s.out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="{FONT}">"#
    );
    let _ = writeln!(s.out, "<title>{}</title>", xml_escape(&format!("Timeline of {}", tl.title)));
    let _ = writeln!(
        s.out,
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{C_ARROW}"/></marker><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="{C_BLOCK}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2" stroke-opacity="0.5"/></pattern></defs>"##
    );
    let _ = writeln!(s.out, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);

    // Title and summary.
    let title = fit(&format!("Timeline of {}", tl.title), ((WIDTH - 24.0) / text_w("x", 15.0)) as usize).unwrap_or_default();
    s.text(12.0, 22.0, 15.0, "start", r##" font-weight="bold" fill="#111827""##, &title);
    let clock = match &tl.deadlock {
        Some(d) if iterations => format!("a deadlock after {} loop iterations (no time passed: the axis counts iterations)", d.at.it),
        Some(d) => format!("a deadlock after {} of {} loop time", secs_text(d.at.t), if tl.virtual_time { "virtual" } else { "real" }),
        None if iterations => format!("{} loop iterations (no time passed: the axis counts iterations)", tl.end.it),
        None => format!("{} of {} loop time", secs_text(tl.end.t), if tl.virtual_time { "virtual" } else { "real" }),
    };
    let summary = format!("{} tasks · {clock}", tl.lanes.len());
    s.text(12.0, 40.0, 11.0, "start", r##" fill="#4b5563""##, &summary);

    // Legend.
    for (lx, ly, key, words) in legend_at {
        let sw = 16.0;
        match key {
            "run" => rect(&mut s.out, lx, ly - 9.0, sw, 10.0, C_RUN, None),
            "block" => rect(&mut s.out, lx, ly - 9.0, sw, 10.0, "url(#hatch)", None),
            "sleep" => rect(&mut s.out, lx, ly - 9.0, sw, 10.0, C_SLEEP, Some("#38bdf8")),
            "task" => rect(&mut s.out, lx, ly - 9.0, sw, 10.0, C_TASK, Some("#a855f7")),
            "wait" => rect(&mut s.out, lx, ly - 9.0, sw, 10.0, C_WAIT, Some("#f59e0b")),
            "yield" => rect(&mut s.out, lx, ly - 6.0, sw, 4.0, C_YIELD, None),
            "hold" => rect(&mut s.out, lx, ly - 3.0, sw, 3.0, C_HOLD, None),
            "io" => {
                let _ = writeln!(
                    s.out,
                    r#"<rect x="{lx:.1}" y="{:.1}" width="{sw:.1}" height="10.0" fill="{C_IO}" stroke="{C_IO_EDGE}" stroke-width="1" stroke-dasharray="3 2"/>"#,
                    ly - 9.0
                );
            }
            "arrow" => {
                let _ = writeln!(
                    s.out,
                    r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{C_ARROW}" stroke-width="1.5" marker-end="url(#arrow)"/>"#,
                    ly - 4.0,
                    lx + sw,
                    ly - 4.0
                );
            }
            "cancelreq" => {
                let _ = writeln!(
                    s.out,
                    r##"<path d="M{:.1},{:.1} l4,-6 h-8 z" fill="#f97316" stroke="#9a3412" stroke-width="0.6"/>"##,
                    lx + 8.0,
                    ly
                );
            }
            "deadlock" => {
                rect(&mut s.out, lx, ly - 9.0, sw, 10.0, C_DEAD_ZONE, None);
                let _ = writeln!(
                    s.out,
                    r#"<line x1="{lx:.1}" y1="{:.1}" x2="{lx:.1}" y2="{:.1}" stroke="{C_DEAD}" stroke-width="2"/>"#,
                    ly - 10.0,
                    ly + 2.0
                );
            }
            "count" => {
                let _ = writeln!(
                    s.out,
                    r#"<polyline points="{lx:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="none" stroke="{C_COUNT}" stroke-width="1.5"/>"#,
                    ly,
                    lx + 6.0,
                    ly,
                    lx + 6.0,
                    ly - 8.0,
                    lx + sw,
                    ly - 8.0
                );
            }
            "done" => end_mark(&mut s.out, lx + 6.0, ly - 4.0, 5.5, &Outcome::Done),
            "fail" => end_mark(&mut s.out, lx + 6.0, ly - 4.0, 5.5, &Outcome::Failed(String::new())),
            _ => end_mark(&mut s.out, lx + 6.0, ly - 4.0, 5.5, &Outcome::Cancelled),
        }
        s.text(lx + sw + 5.0, ly, 11.0, "start", r##" fill="#374151""##, words);
    }

    // Lane backgrounds and names.
    for (i, lane) in tl.lanes.iter().enumerate() {
        let y = lanes_top + i as f64 * lane_h;
        s.layout.lanes.push((y, lane_h));
        if i % 2 == 1 {
            let _ = writeln!(s.out, r##"<rect x="0" y="{y:.1}" width="{WIDTH}" height="{lane_h:.1}" fill="#f8fafc"/>"##);
        }
        let full = match lane.func.as_str() {
            "" => lane.name.clone(),
            "<module>" => format!("{} top level", lane.name),
            f => format!("{} {f}", lane.name),
        };
        let max = ((NAME_W - 16.0) / text_w("x", name_size)) as usize;
        if let Some(t) = fit(&full, max) {
            let extra = r##" fill="#111827""##;
            s.text(12.0, y + lane_h / 2.0 + name_size * 0.35, name_size, "start", extra, &t);
        }
    }

    // Grid and tick labels.
    let (mut tks, caption) = ticks(span, plot_w, tick_size, iterations);
    // Past a deadlock the axis stands for "forever": no ticks there.
    let dead_x = tl.deadlock.as_ref().map(|d| (x_of(pos(&d.at)), x_of(pos(&d.mark))));
    if let Some((dx, _)) = dead_x {
        tks.retain(|(v, l)| x_of(*v) + text_w(l, tick_size) / 2.0 < dx - 4.0 || *v == 0.0);
    }
    let cap = s.text(x0 - 24.0, lanes_top - 8.0, tick_size, "end", r##" fill="#6b7280" font-style="italic""##, &caption);
    s.layout.ticks.push(cap);
    for (v, label) in &tks {
        let x = x_of(*v);
        let _ = writeln!(
            s.out,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#e5e7eb" stroke-width="1"/>"##,
            lanes_top - 4.0,
            lanes_top + lanes_h
        );
        let put = |s: &mut Svg, y: f64| {
            let w = text_w(label, tick_size);
            let anchor = if x + w / 2.0 > WIDTH - 2.0 { "end" } else { "middle" };
            let b = s.text(if anchor == "end" { WIDTH - 2.0 } else { x }, y, tick_size, anchor, r##" fill="#374151""##, label);
            s.layout.ticks.push(b);
        };
        put(&mut s, lanes_top - 8.0);
        if bottom_axis {
            put(&mut s, lanes_top + lanes_h + 16.0);
        }
    }
    let _ =
        writeln!(s.out, r##"<line x1="{x0:.1}" y1="{lanes_top:.1}" x2="{x1:.1}" y2="{lanes_top:.1}" stroke="#9ca3af" stroke-width="1"/>"##);

    // Lanes: lifetime line, spans, labels, marks.
    for (i, lane) in tl.lanes.iter().enumerate() {
        let y = lanes_top + i as f64 * lane_h;
        let cy = y + lane_h / 2.0;
        let by = cy - bar_h / 2.0;
        let who = format!("{} ({})", lane.name, if lane.func == "<module>" { "top level" } else { &lane.func });
        let _ = writeln!(s.out, r#"<g class="lane" data-task="{}">"#, xml_escape(&lane.name));
        let life_end = lane.end.as_ref().map(|(a, _)| pos(a)).unwrap_or(span);
        let _ = writeln!(
            s.out,
            r##"<line x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="#9ca3af" stroke-width="1" stroke-dasharray="2,2"/>"##,
            x_of(pos(&lane.created)),
            x_of(life_end)
        );
        let created = match lane.created_line {
            Some(l) => format!("{who} created at {} (line {l})", secs_text(lane.created.t)),
            None => format!("{who} created at {}", secs_text(lane.created.t)),
        };
        let _ = writeln!(
            s.out,
            r##"<circle cx="{:.1}" cy="{cy:.1}" r="2.5" fill="#ffffff" stroke="#4b5563" stroke-width="1"><title>{}</title></circle>"##,
            x_of(pos(&lane.created)),
            xml_escape(&created)
        );
        // Draw waits first and runs on top; skip bars hidden under the one just drawn.
        let mut drawn: HashMap<u8, f64> = HashMap::new();
        // Labels placed in this lane, as x ranges: a new one must keep clear of them.
        let mut placed: Vec<(f64, f64)> = Vec::new();
        let mut wanted: Vec<(f64, f64, &str, bool)> = Vec::new();
        let mut order: Vec<&Span> = lane.spans.iter().filter(|sp| sp.kind != SpanKind::Run && sp.kind != SpanKind::Block).collect();
        order.extend(lane.spans.iter().filter(|sp| sp.kind == SpanKind::Run));
        order.extend(lane.spans.iter().filter(|sp| sp.kind == SpanKind::Block));
        for sp in order {
            let (a, b) = (x_of(pos(&sp.start)), x_of(pos(&sp.end)));
            let (fill, stroke, min_w, key) = match sp.kind {
                SpanKind::Run => (C_RUN, None, 2.0, 0u8),
                SpanKind::Block => ("url(#hatch)", None, 2.0, 1),
                SpanKind::Sleep => (C_SLEEP, Some("#38bdf8"), 0.0, 2),
                SpanKind::AwaitTask => (C_TASK, Some("#a855f7"), 0.0, 3),
                SpanKind::Wait => (C_WAIT, Some("#f59e0b"), 0.0, 4),
                SpanKind::Yield => (C_YIELD, None, 0.0, 5),
                SpanKind::Io => (C_IO, Some(C_IO_EDGE), 0.0, 6),
            };
            let w = (b - a).max(min_w);
            if w < 0.5 {
                continue;
            }
            let end_px = drawn.entry(key).or_insert(f64::MIN);
            if a + w <= *end_px + 0.01 {
                continue;
            }
            *end_px = a + w;
            let (h, top) = if sp.kind == SpanKind::Yield { (bar_h * 0.4, cy - bar_h * 0.2) } else { (bar_h, by) };
            let line = sp.line.map(|l| format!(" at line {l}")).unwrap_or_default();
            let tip = match sp.kind {
                SpanKind::Run => format!("{who} runs from {} to {}", secs_text(sp.start.t), secs_text(sp.end.t)),
                SpanKind::Block => format!("{who} blocks every task in {}{line} for {}", sp.label, secs_text(sp.end.t - sp.start.t)),
                SpanKind::Yield if sp.label.is_empty() => format!("{who} waits for its first turn"),
                _ => {
                    let verb = if sp.label.starts_with("the ") { "waits for" } else { "waits on" };
                    format!("{who} {verb} {}{line} from {} to {}", sp.label, secs_text(sp.start.t), secs_text(sp.end.t))
                }
            };
            // I/O waits are dashed: the task waits on the world outside the program.
            let dash = if sp.kind == SpanKind::Io { r#" stroke-dasharray="3 2""# } else { "" };
            let stroke_attr = stroke.map(|c| format!(r#" stroke="{c}" stroke-width="0.8"{dash}"#)).unwrap_or_default();
            let _ = writeln!(
                s.out,
                r#"<rect x="{a:.2}" y="{top:.1}" width="{w:.2}" height="{h:.1}" rx="1.5" fill="{fill}"{stroke_attr}><title>{}</title></rect>"#,
                xml_escape(&tip)
            );
            if matches!(sp.kind, SpanKind::Sleep | SpanKind::AwaitTask | SpanKind::Wait | SpanKind::Io | SpanKind::Block)
                && !sp.label.is_empty()
            {
                wanted.push((a, w, sp.label.as_str(), sp.kind == SpanKind::Block));
            }
        }
        // Labels inside their bars, over all the bars, when there is room;
        // a blocking call's first, since its bar lies on top.
        wanted.sort_by_key(|l| !l.3);
        for (a, w, label, block) in wanted {
            let max = ((w - 8.0) / text_w("x", label_size)).floor();
            if max < 1.0 {
                continue;
            }
            let head = label.split('(').next().unwrap_or("");
            let short = if label.chars().count() > max as usize && !head.is_empty() && head.chars().count() <= max as usize {
                Some(head.to_string())
            } else {
                fit(label, max as usize)
            };
            let clear = |t: &str| {
                let (l, r) = (a + 4.0, a + 4.0 + text_w(t, label_size));
                !placed.iter().any(|&(pl, pr)| l < pr + 2.0 && pl < r + 2.0)
            };
            if let Some(t) = short.filter(|t| clear(t)) {
                placed.push((a + 4.0, a + 4.0 + text_w(&t, label_size)));
                let color = if block { "#ffffff" } else { "#1f2937" };
                s.text(a + 4.0, cy + label_size * 0.35, label_size, "start", &format!(r#" fill="{color}" pointer-events="none""#), &t);
            }
        }
        for c in &lane.cancel_requests {
            let x = x_of(pos(c));
            let _ = writeln!(
                s.out,
                r##"<path d="M{:.1},{:.1} l4,-6 h-8 z" fill="#f97316" stroke="#9a3412" stroke-width="0.6"><title>{}</title></path>"##,
                x,
                by,
                xml_escape(&format!("cancel() of {who} asked at {}", secs_text(c.t)))
            );
        }
        if let Some((at, outcome)) = &lane.end {
            let r = (bar_h * 0.42).clamp(4.5, 7.0);
            let x = x_of(pos(at)) + r + 1.0;
            let tip = match outcome {
                Outcome::Done => format!("{who} finished at {}", secs_text(at.t)),
                Outcome::Failed(e) => format!("{who} failed at {}: {e}", secs_text(at.t)),
                Outcome::Cancelled if tl.deadlock.as_ref().is_some_and(|d| d.after(at)) => {
                    format!("{who} was cancelled by the loop at the deadlock")
                }
                Outcome::Cancelled => format!("{who} was cancelled at {}", secs_text(at.t)),
            };
            let _ = writeln!(s.out, "<g><title>{}</title>", xml_escape(&tip));
            end_mark(&mut s.out, x.min(WIDTH - r - 1.0), cy, r, outcome);
            let _ = writeln!(s.out, "</g>");
        }
        s.out.push_str("</g>\n");
    }

    // Holding a lock: a dark band under the task's bars.
    for h in &tl.holds {
        let y = lanes_top + h.lane as f64 * lane_h + lane_h / 2.0 + bar_h / 2.0 + 1.0;
        let (a, b) = (x_of(pos(&h.start)), x_of(pos(&h.end)));
        let lane = &tl.lanes[h.lane];
        let tip = format!("{} holds {} from {} to {}", lane.name, h.what, secs_text(h.start.t), secs_text(h.end.t));
        let _ = writeln!(
            s.out,
            r#"<rect class="hold" x="{a:.2}" y="{y:.1}" width="{:.2}" height="3.0" fill="{C_HOLD}"><title>{}</title></rect>"#,
            (b - a).max(2.0),
            xml_escape(&tip)
        );
    }

    // A deadlock: from the moment nothing can wake a task, a red zone up to
    // the mark where the waits that never end stop.
    if let (Some(d), Some((dx, mx))) = (&tl.deadlock, dead_x) {
        let tip = format!("deadlock at {}: {}", secs_text(d.at.t), cycle_lines.join("; "));
        let _ = writeln!(
            s.out,
            r#"<g class="deadlock"><title>{}</title><rect x="{dx:.1}" y="{lanes_top:.1}" width="{:.1}" height="{lanes_h:.1}" fill="{C_DEAD_ZONE}" fill-opacity="0.45"/><line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{:.1}" stroke="{C_DEAD}" stroke-width="2"/></g>"#,
            xml_escape(&tip),
            (mx - dx).max(1.0),
            lanes_top - 4.0,
            lanes_top + lanes_h
        );
        let b = s.text(mx - 4.0, lanes_top - 8.0, tick_size, "end", &format!(r#" fill="{C_DEAD}" font-weight="bold""#), "deadlock");
        s.layout.ticks.push(b);
        for (k, line) in cycle_lines.iter().enumerate() {
            let max = ((WIDTH - 24.0) / text_w("x", 11.0)) as usize;
            if let Some(t) = fit(line, max) {
                s.text(12.0, footer_top + 4.0 + 18.0 * k as f64, 11.0, "start", &format!(r#" fill="{C_DEAD}""#), &t);
            }
        }
    }

    // Wake-up arrows, on top of everything but labels' legibility: thin and
    // translucent. One task waking several at one instant (an event set, a
    // gather done) is one bundle: a trunk to the farthest, a head at each.
    // (waker lane, from x, to x, downwards) -> the lanes woken, and what.
    type Bundle = ((usize, i64, i64, bool), Vec<usize>, String);
    let mut bundles: Vec<Bundle> = Vec::new();
    for a in &tl.arrows {
        let (xa, xb) = (x_of(pos(&a.from)), x_of(pos(&a.to)));
        let key = (a.from_lane, (xa * 2.0) as i64, (xb * 2.0) as i64, a.to_lane > a.from_lane);
        match bundles.iter_mut().find(|b| b.0 == key) {
            Some(b) => {
                if !b.1.contains(&a.to_lane) {
                    b.1.push(a.to_lane);
                }
            }
            None => bundles.push((key, vec![a.to_lane], a.what.clone())),
        }
    }
    for ((from_lane, xa2, xb2, down), targets, what) in bundles {
        let (xa, xb) = (xa2 as f64 / 2.0, xb2 as f64 / 2.0);
        let ya = lanes_top + from_lane as f64 * lane_h + lane_h / 2.0;
        // Stop at the edge of the woken task's bar.
        let y_of = |lane: usize| {
            let y0 = lanes_top + lane as f64 * lane_h + lane_h / 2.0;
            if down {
                y0 - bar_h / 2.0
            } else {
                y0 + bar_h / 2.0
            }
        };
        let names: Vec<&str> = targets.iter().map(|&t| tl.lanes[t].name.as_str()).collect();
        let tip = format!("{} wakes {}: {}", tl.lanes[from_lane].name, names.join(", "), what);
        if targets.len() < 3 {
            for &t in &targets {
                let yb = y_of(t);
                let _ = writeln!(
                    s.out,
                    r#"<line x1="{xa:.1}" y1="{ya:.1}" x2="{xb:.1}" y2="{yb:.1}" stroke="{C_ARROW}" stroke-width="1.1" stroke-opacity="0.75" marker-end="url(#arrow)"><title>{}</title></line>"#,
                    xml_escape(&tip)
                );
            }
            continue;
        }
        let far = targets.iter().map(|&t| y_of(t)).fold(ya, |m, y| if down { m.max(y) } else { m.min(y) });
        let _ = write!(
            s.out,
            r#"<g class="wake-bundle"><title>{}</title><polyline points="{xa:.1},{ya:.1} {xb:.1},{:.1} {xb:.1},{far:.1}" fill="none" stroke="{C_ARROW}" stroke-width="1.3" stroke-opacity="0.75"/>"#,
            xml_escape(&tip),
            ya + if down { 4.0 } else { -4.0 }
        );
        for &t in &targets {
            let yb = y_of(t);
            let d = if down { -5.0 } else { 5.0 };
            let _ = write!(
                s.out,
                r#"<path d="M{:.1},{:.1} L{xb:.1},{yb:.1} L{:.1},{:.1}" fill="none" stroke="{C_ARROW}" stroke-width="1.3"/>"#,
                xb - 3.0,
                yb + d,
                xb + 3.0,
                yb + d
            );
        }
        s.out.push_str("</g>\n");
    }
    // Counter tracks: each value over time as a step line, from 0 at the
    // track's foot to the highest value at its head.
    for (k, c) in tl.counters.iter().enumerate() {
        let top = counters_top + COUNTER_H * k as f64;
        let max = c.points.iter().map(|p| p.1).max().unwrap_or(0).max(1);
        let min = c.points.iter().map(|p| p.1).min().unwrap_or(0).min(0);
        let foot = top + COUNTER_H - 6.0;
        let y_of = |v: i64| foot - (v - min) as f64 / (max - min) as f64 * (COUNTER_H - 14.0);
        let values: Vec<String> = c.points.iter().map(|p| p.1.to_string()).collect();
        let _ = writeln!(
            s.out,
            r##"<g class="counter" data-name="{}" data-values="{}"><line x1="{x0:.1}" y1="{foot:.1}" x2="{x1:.1}" y2="{foot:.1}" stroke="#e5e7eb"/>"##,
            xml_escape(&c.name),
            values.join(" ")
        );
        let mut pts = String::new();
        let mut last: Option<i64> = None;
        for (at, v) in &c.points {
            let x = x_of(pos(at));
            if let Some(l) = last {
                let _ = write!(pts, "{x:.1},{:.1} ", y_of(l));
            }
            let _ = write!(pts, "{x:.1},{:.1} ", y_of(*v));
            last = Some(*v);
        }
        if let Some(l) = last {
            let _ = write!(pts, "{:.1},{:.1}", x_of(pos(&tl.end)), y_of(l));
        }
        let tip = format!("{}: from {min} to {max}", c.name);
        let _ = writeln!(
            s.out,
            r#"<polyline points="{}" fill="none" stroke="{C_COUNT}" stroke-width="1.5"><title>{}</title></polyline></g>"#,
            pts.trim_end(),
            xml_escape(&tip)
        );
        let label = format!("{} (max {max})", c.name);
        let chars = ((NAME_W - 16.0) / text_w("x", 11.0)) as usize;
        if let Some(t) = fit(&label, chars) {
            s.text(12.0, top + COUNTER_H / 2.0 + 4.0, 11.0, "start", r##" fill="#374151""##, &t);
        }
    }
    s.out.push_str("</svg>\n");
    Rendered { svg: s.out, layout: s.layout }
}

fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: Option<&str>) {
    let stroke_attr = stroke.map(|c| format!(r#" stroke="{c}" stroke-width="0.8""#)).unwrap_or_default();
    let _ = writeln!(out, r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="1.5" fill="{fill}"{stroke_attr}/>"#);
}

/// ✓ in a green disc, ✗ in a red one, ⊘ in grey.
fn end_mark(out: &mut String, cx: f64, cy: f64, r: f64, o: &Outcome) {
    let k = r * 0.5;
    match o {
        Outcome::Done => {
            let _ = writeln!(
                out,
                r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" fill="{C_DONE}"/><path d="M{:.1},{:.1} l{:.1},{:.1} l{:.1},{:.1}" fill="none" stroke="#fff" stroke-width="1.5"/>"##,
                cx - k,
                cy,
                k * 0.7,
                k * 0.8,
                k * 1.3,
                -k * 1.6
            );
        }
        Outcome::Failed(_) => {
            let _ = writeln!(
                out,
                r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" fill="{C_FAIL}"/><path d="M{:.1},{:.1} l{:.1},{:.1} M{:.1},{:.1} l{:.1},{:.1}" stroke="#fff" stroke-width="1.5"/>"##,
                cx - k,
                cy - k,
                2.0 * k,
                2.0 * k,
                cx + k,
                cy - k,
                -2.0 * k,
                2.0 * k
            );
        }
        Outcome::Cancelled => {
            let _ = writeln!(
                out,
                r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" fill="#fff" stroke="{C_CANCEL}" stroke-width="1.5"/><path d="M{:.1},{:.1} l{:.1},{:.1}" stroke="{C_CANCEL}" stroke-width="1.5"/>"##,
                cx - k,
                cy + k,
                2.0 * k,
                -2.0 * k
            );
        }
    }
}

/// A self-contained page: the chart, what its marks mean, and a table of the tasks.
pub fn render_html(tl: &Timeline) -> String {
    let svg = render(tl).svg;
    let mut h = String::new();
    let title = xml_escape(&format!("Timeline of {}", tl.title));
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #111827; }}
.chart {{ overflow-x: auto; border: 1px solid #e5e7eb; }}
table {{ border-collapse: collapse; font-size: 14px; }}
td, th {{ border-bottom: 1px solid #e5e7eb; padding: 4px 10px; text-align: left; }}
.sw {{ display: inline-block; width: 22px; height: 12px; vertical-align: middle; margin-right: 8px; border-radius: 2px; }}
ul {{ list-style: none; padding-left: 0; line-height: 1.8; }}
code {{ background: #f3f4f6; padding: 0 3px; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>One lane per task, in the order the tasks were created; time runs left to right. Hover over a bar for details.</p>
<div class="chart">
"#
    );
    h.push_str(&svg);
    h.push_str("</div>\n");
    if let Some(d) = &tl.deadlock {
        h.push_str("<h2>Deadlock</h2>\n<p>Every task is blocked and no timer is pending.</p>\n<ul>\n");
        for c in &d.cycles {
            let _ = writeln!(h, "<li>{}</li>", xml_escape(c));
        }
        h.push_str("</ul>\n");
    }
    let _ = write!(
        h,
        r#"<h2>Legend</h2>
<ul>
<li><span class="sw" style="background:{C_RUN}"></span>running: the task's code executes (under virtual time a step takes no time, so it is a thin stroke)</li>
<li><span class="sw" style="background:{C_BLOCK}"></span>a blocking call such as <code>time.sleep</code>: every task waits</li>
<li><span class="sw" style="background:{C_SLEEP}"></span><code>await sleep(d)</code></li>
<li><span class="sw" style="background:{C_TASK}"></span>awaiting another task (<code>await t</code>, <code>gather</code>, <code>wait</code>)</li>
<li><span class="sw" style="background:{C_WAIT}"></span>awaiting a queue, event, lock, condition or future</li>
<li><span class="sw" style="background:{C_IO};border:1px dashed {C_IO_EDGE}"></span>awaiting I/O: a socket, a pipe, a child process</li>
<li><span class="sw" style="background:{C_YIELD};height:5px"></span>waiting for a turn: a new task before its first step, or after <code>await sleep(0)</code></li>
<li><span class="sw" style="background:{C_HOLD};height:3px"></span>the task holds a lock or a semaphore (under its bars)</li>
<li><span class="sw" style="background:{C_DEAD_ZONE};border-right:2px solid {C_DEAD}"></span>a deadlock: no task can go on; the waits that never end reach the red mark</li>
<li><span class="sw" style="background:{C_ARROW};height:2px"></span>one task wakes another (it puts an item, sets an event, finishes...)</li>
<li><span class="sw" style="background:{C_DONE};border-radius:50%;width:12px"></span>the task finished;
<span class="sw" style="background:{C_FAIL};border-radius:50%;width:12px;margin-left:8px"></span>it failed;
<span class="sw" style="border:2px solid {C_CANCEL};border-radius:50%;width:9px;height:9px;margin-left:8px"></span>it was cancelled;
<span class="sw" style="background:#f97316;width:10px;margin-left:8px"></span><code>cancel()</code> was asked</li>
</ul>
<h2>Tasks</h2>
<table>
<tr><th>task</th><th>runs</th><th>created</th><th>by</th><th>ended</th></tr>
"#
    );
    for lane in &tl.lanes {
        let by = lane.created_by.map(|b| tl.lanes[b].name.clone()).unwrap_or_else(|| "the program".into());
        let line = lane.created_line.map(|l| format!(", line {l}")).unwrap_or_default();
        let after_deadlock = |at: &At| tl.deadlock.as_ref().is_some_and(|d| d.after(at));
        let ended = match &lane.end {
            Some((at, Outcome::Cancelled)) if after_deadlock(at) => "cancelled by the loop at the deadlock".into(),
            Some((at, Outcome::Done)) => format!("finished at {}", secs_text(at.t)),
            Some((at, Outcome::Failed(e))) => format!("failed at {}: {e}", secs_text(at.t)),
            Some((at, Outcome::Cancelled)) => format!("cancelled at {}", secs_text(at.t)),
            None => "still pending at the end".into(),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            xml_escape(&lane.name),
            xml_escape(&lane.func),
            secs_text(lane.created.t),
            line,
            xml_escape(&by),
            xml_escape(&ended)
        );
    }
    h.push_str("</table>\n</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(xml_escape("<a & 'b'>\u{1}"), "&lt;a &amp; &apos;b&apos;&gt;");
    }

    #[test]
    fn tick_steps_are_round() {
        let (t, c) = ticks(3600.0 * 5.0, 900.0, 11.0, false);
        assert_eq!((t[1].1.as_str(), c.as_str()), ("0:30", "loop time (h:mm)"), "{t:?}");
        let (t, _) = ticks(3600.0 * 80.0, 900.0, 11.0, false);
        assert!(t.iter().all(|(_, l)| l.ends_with(" h")), "{t:?}");
        let (t, _) = ticks(0.0042, 900.0, 11.0, false);
        assert_eq!(t[1].1, "0.5 ms", "{t:?}");
        assert_eq!(short_numbers("sleep(332.0192837)"), "sleep(332.019)");
        assert_eq!(short_numbers("sleep(0.5)"), "sleep(0.5)");
    }
}
