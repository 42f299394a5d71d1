//! The event loop: one FIFO ready queue of callbacks, a timer heap ordered
//! by (deadline, creation), a real or virtual clock, and CPython's iteration
//! rule: move every timer due before `now + resolution` to the ready queue,
//! then run only the callbacks that were ready when the iteration began.
//! When nothing is ready, no timer is pending and no worker can wake a
//! task, the program is deadlocked: `DeadlockError`, with a report of what
//! each task waits on. Worker threads (`to_thread`, `run_in_executor`) are
//! green threads with their own frame stacks.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::rc::{Rc, Weak};
use std::sync::OnceLock;
use std::time::Instant;

use smallvec::SmallVec;

use crate::exceptions::*;
use crate::object::*;
use crate::runtime::reactor::{IoCallback, IoHandle, Reactor};
use crate::task::{self, DoneCallback, Future};
use crate::types::{method, native_closure, new_class, types};
use crate::value::Value;
use crate::vm::{Frame, Halt, Vm};

/// What a handle runs.
pub enum Callback {
    /// An .aio callable with its arguments (boxed: the loop's own callbacks,
    /// the common ones, keep the ready queue's entries at three words).
    Call(Box<CallArgs>),
    /// A task's next step, optionally throwing an exception in.
    Step(Rc<Future>, Option<PyErr>),
    /// A task waking because the future it waited on is done.
    Wakeup(Rc<Future>, Rc<Future>),
    /// Resume a worker thread.
    Worker(Rc<Worker>),
    /// Native code.
    Native(NativeCallback),
    /// A watched file descriptor is ready (see `runtime::reactor`).
    Io(Rc<IoHandle>),
}

/// An .aio callable and its arguments (a done callback has one: the future).
pub struct CallArgs(pub Value, pub SmallVec<[Value; 1]>);

impl Callback {
    /// A call of the .aio callable `f`.
    pub fn call(f: Value, args: impl IntoIterator<Item = Value>) -> Callback {
        Callback::Call(Box::new(CallArgs(f, args.into_iter().collect())))
    }
}

const _: () = assert!(std::mem::size_of::<Callback>() == 24);

/// A one-shot native callback.
pub type NativeCallback = Box<dyn FnOnce(&mut Vm) -> PyResult<()>>;

/// A scheduled callback (`Handle`, or `TimerHandle` when it has a deadline).
pub struct Handle {
    pub cb: RefCell<Option<Callback>>,
    pub cancelled: Cell<bool>,
    pub when: Option<f64>,
    /// What the timer stands for, for observers (`sleep(0.25) of Task-2
    /// (producer)`); set only while the run is traced.
    pub label: RefCell<Option<String>>,
}

impl Handle {
    pub fn cancel(&self) {
        if !self.cancelled.get() {
            self.cancelled.set(true);
            self.cb.borrow_mut().take();
        }
    }
}

struct Timer {
    when: f64,
    seq: u64,
    handle: Rc<Handle>,
}

impl PartialEq for Timer {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timer {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, o: &Self) -> Ordering {
        o.when.partial_cmp(&self.when).unwrap_or(Ordering::Equal).then(o.seq.cmp(&self.seq))
    }
}

/// An entry of the ready queue, unpacked: a handle the program can cancel,
/// or one of the loop's own callbacks (a task's step or wake-up), which
/// nobody can cancel and so needs no handle of its own.
enum Entry {
    Handle(Rc<Handle>),
    /// `Callback::Step(task, None)`.
    Step(Rc<Future>),
    /// `Callback::Wakeup(task, fut)` where `fut` is the future the task is
    /// parked on, which it stays parked on until this entry runs (see
    /// [`Future::queue_wakeup`]): read back from the task then.
    Wakeup(Rc<Future>),
    Call(Box<CallArgs>),
    Io(Rc<IoHandle>),
    /// Any other callback (a step throwing in, a native callback, ...).
    Other(Box<Callback>),
}

/// An [`Entry`] in one word: its pointer, with the variant in the three low
/// bits every pointer it holds leaves clear (each points to a block aligned
/// to 8). A program that starts or wakes many tasks at once fills the queue
/// with an entry each: 100,000 of them take 1 MB instead of 2.
struct Ready(std::ptr::NonNull<u8>);

const TAG_BITS: usize = 0b111;
const _: () = assert!(
    std::mem::align_of::<Handle>() >= 8
        && std::mem::align_of::<Future>() >= 8
        && std::mem::align_of::<CallArgs>() >= 8
        && std::mem::align_of::<IoHandle>() >= 8
        && std::mem::align_of::<Callback>() >= 8
);

impl Ready {
    fn pack(e: Entry) -> Ready {
        let (p, tag): (*const u8, usize) = match e {
            Entry::Handle(h) => (Rc::into_raw(h).cast(), 0),
            Entry::Step(t) => (Rc::into_raw(t).cast(), 1),
            Entry::Wakeup(t) => (Rc::into_raw(t).cast(), 2),
            Entry::Call(c) => (Box::into_raw(c).cast_const().cast(), 3),
            Entry::Io(h) => (Rc::into_raw(h).cast(), 4),
            Entry::Other(cb) => (Box::into_raw(cb).cast_const().cast(), 5),
        };
        debug_assert!(p as usize & TAG_BITS == 0);
        // SAFETY: `p` came from an `Rc` or a `Box`: not null, and its low
        // bits are clear (the alignments asserted above).
        Ready(unsafe { std::ptr::NonNull::new_unchecked(p.map_addr(|a| a | tag).cast_mut()) })
    }

    /// The entry back, owning what the word owned.
    fn unpack(self) -> Entry {
        let e = self.entry();
        std::mem::forget(self);
        e
    }

    /// The entry the word stands for, sharing its ownership: the caller
    /// either forgets `self` (`unpack`) or the entry (`describe`).
    fn entry(&self) -> Entry {
        let tag = self.0.as_ptr() as usize & TAG_BITS;
        let p = self.0.as_ptr().map_addr(|a| a & !TAG_BITS).cast_const();
        // SAFETY: `p` and `tag` are what `pack` took apart: the pointer of
        // the variant `tag` names, whose ownership the one copy kept
        // (the other is forgotten) holds.
        unsafe {
            match tag {
                0 => Entry::Handle(Rc::from_raw(p.cast())),
                1 => Entry::Step(Rc::from_raw(p.cast())),
                2 => Entry::Wakeup(Rc::from_raw(p.cast())),
                3 => Entry::Call(Box::from_raw(p.cast_mut().cast())),
                4 => Entry::Io(Rc::from_raw(p.cast())),
                _ => Entry::Other(Box::from_raw(p.cast_mut().cast())),
            }
        }
    }
}

impl Drop for Ready {
    fn drop(&mut self) {
        drop(self.entry());
    }
}

impl Ready {
    fn soon(cb: Callback) -> Ready {
        Ready::pack(match cb {
            Callback::Step(t, None) => Entry::Step(t),
            Callback::Wakeup(t, f) if t.queue_wakeup(&f) => Entry::Wakeup(t),
            Callback::Call(c) => Entry::Call(c),
            Callback::Io(h) => Entry::Io(h),
            other => Entry::Other(Box::new(other)),
        })
    }

    /// The callback to run; `None` for a cancelled handle.
    fn take(self) -> Option<(Callback, Option<f64>)> {
        let cb = match self.unpack() {
            Entry::Handle(h) => {
                if h.cancelled.get() {
                    return None;
                }
                let cb = h.cb.borrow_mut().take()?;
                return Some((cb, h.when));
            }
            Entry::Step(t) => Callback::Step(t, None),
            Entry::Wakeup(t) => {
                let f = t.take_queued_wakeup();
                Callback::Wakeup(t, f)
            }
            Entry::Call(c) => Callback::Call(c),
            Entry::Io(h) => Callback::Io(h),
            Entry::Other(cb) => *cb,
        };
        Some((cb, None))
    }

    /// What the entry runs, in words, with the task it runs a step of.
    fn describe(&self) -> Option<(String, Option<Rc<Future>>)> {
        let label = |cb: &Callback, l: Option<&str>| (crate::trace::callback_label(cb, l), crate::trace::callback_task(cb).cloned());
        // Borrowed: the queue keeps the entry.
        let entry = std::mem::ManuallyDrop::new(self.entry());
        let rebuilt = match &*entry {
            Entry::Handle(h) if h.cancelled.get() => return None,
            Entry::Handle(h) => return h.cb.borrow().as_ref().map(|cb| label(cb, h.label.borrow().as_deref())),
            Entry::Other(cb) => return Some(label(cb, None)),
            Entry::Step(t) => Callback::Step(t.clone(), None),
            Entry::Wakeup(t) => Callback::Wakeup(t.clone(), t.queued_wakeup()),
            Entry::Call(c) => Callback::Call(Box::new(CallArgs(c.0.clone(), c.1.clone()))),
            Entry::Io(h) => Callback::Io(h.clone()),
        };
        Some(label(&rebuilt, None))
    }
}

/// An event loop.
pub struct EventLoop {
    ready: RefCell<VecDeque<Ready>>,
    timers: RefCell<BinaryHeap<Timer>>,
    /// The heap's size at which cancelled timers are swept out next.
    timers_sweep_at: Cell<usize>,
    seq: Cell<u64>,
    pub running: Cell<bool>,
    pub stopping: Cell<bool>,
    pub closed: Cell<bool>,
    /// Every task made on this loop that may still be pending, in creation
    /// order (finished ones are pruned: see `register_task`).
    pub tasks: RefCell<Vec<Weak<Future>>>,
    /// The registry's size at which finished tasks are pruned next.
    tasks_prune_at: Cell<usize>,
    /// The task whose step is running.
    pub current: RefCell<Option<Rc<Future>>>,
    resolution: Cell<f64>,
    /// Worker threads that are alive.
    workers: RefCell<Vec<Rc<Worker>>>,
    /// Async generators started on this loop (closed at shutdown).
    pub asyncgens: RefCell<Vec<Weak<Generator>>>,
    pub debug: Cell<bool>,
    /// The contexts of this loop's tasks that have one, by task id (see `context`).
    pub(crate) contexts: RefCell<std::collections::HashMap<u64, Value>>,
    /// The descriptors this loop watches, and the wait on them.
    pub reactor: Reactor,
    /// `add_signal_handler`'s callbacks and their arguments, by signal.
    pub signal_handlers: RefCell<std::collections::BTreeMap<i32, (Value, Vec<Value>)>>,
    /// `set_exception_handler`'s handler (None: the default one).
    pub exception_handler: RefCell<Value>,
    /// `set_task_factory`'s factory (None: tasks are made directly).
    pub task_factory: RefCell<Value>,
    /// `slow_callback_duration`: in debug mode, a task step longer than
    /// this is reported as blocking the loop.
    pub slow_callback_duration: Cell<f64>,
    /// Attributes a program sets on the loop (CPython's loops have a `__dict__`).
    attrs: RefCell<std::collections::HashMap<String, Value>>,
}

impl EventLoop {
    /// The ready queue in the order it runs, for observers: each entry in
    /// words, with the task it runs a step of.
    pub fn ready_entries(&self) -> Vec<(String, Option<Rc<Future>>)> {
        let ready = self.ready.borrow();
        let mut out = Vec::with_capacity(ready.len());
        out.extend(ready.iter().filter_map(Ready::describe));
        out
    }

    /// The pending timers, earliest first, for observers: each deadline
    /// with what the timer stands for.
    pub fn timer_entries(&self) -> Vec<(f64, String)> {
        let timers = self.timers.borrow();
        let mut due: Vec<&Timer> = timers.iter().filter(|t| !t.handle.cancelled.get()).collect();
        // `Timer`'s order is reversed (for the max-heap): the earliest is the greatest.
        due.sort_by(|a, b| b.cmp(a));
        due.iter()
            .filter_map(|t| {
                let cb = t.handle.cb.borrow();
                Some((t.when, crate::trace::callback_label(cb.as_ref()?, t.handle.label.borrow().as_deref())))
            })
            .collect()
    }

    /// Has the program set an exception handler?
    pub fn has_exception_handler(&self) -> bool {
        !self.exception_handler.borrow().is_none()
    }
}

thread_local! {
    /// Reports for exception handlers made where no VM is at hand (a
    /// future's "never retrieved" as it is dropped): the loop and the
    /// context, handed over after the callback that dropped it.
    static DEFERRED: RefCell<Vec<(Value, Value)>> = const { RefCell::new(Vec::new()) };
}

/// Queue `loop.call_exception_handler(context)` for the end of the running callback.
pub fn defer_report(loop_v: Value, context: Value) {
    DEFERRED.with(|d| d.borrow_mut().push((loop_v, context)));
}

/// Hand the deferred reports to their loops' exception handlers.
pub fn run_deferred_reports(vm: &mut Vm) -> PyResult<()> {
    loop {
        let Some((l, ctx)) = DEFERRED.with(|d| d.borrow_mut().pop()) else { return Ok(()) };
        call_exception_handler(vm, &l, ctx)?;
    }
}

thread_local! {
    static LOOP_CLASS: Rc<Class> = {
        let c = new_class("_UnixSelectorEventLoop", &[types().object.clone()], Layout::Builtin, None);
        install_loop_methods(&c);
        c
    };
    static HANDLE_CLASSES: (Rc<Class>, Rc<Class>) = {
        let h = new_class("Handle", &[types().object.clone()], Layout::Builtin, None);
        h.dict.set_str("__module__", Value::str("asyncio"));
        let th = new_class("TimerHandle", std::slice::from_ref(&h), Layout::Builtin, None);
        th.dict.set_str("__module__", Value::str("asyncio"));
        method(&h, "Handle", "cancel", |_vm, a| {
            if let Some(h) = a.pos.first().and_then(|v| v.downcast::<HandleRef>()) {
                h.0.cancel();
            }
            Ok(Value::None)
        });
        method(&h, "Handle", "cancelled", |_vm, a| Ok(Value::bool(a.pos.first().and_then(|v| v.downcast::<HandleRef>()).is_some_and(|h| h.0.cancelled.get()))));
        method(&th, "TimerHandle", "when", |_vm, a| Ok(Value::float(a.pos.first().and_then(|v| v.downcast::<HandleRef>()).and_then(|h| h.0.when).unwrap_or(0.0))));
        (h, th)
    };
}

impl NativeObject for EventLoop {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        LOOP_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "slow_callback_duration" => Some(Value::float(self.slow_callback_duration.get())),
            "_exception_handler" => Some(self.exception_handler.borrow().clone()),
            "_task_factory" => Some(self.task_factory.borrow().clone()),
            _ => self.attrs.borrow().get(name).cloned(),
        })
    }
    fn setattr(&self, vm: &mut Vm, name: &str, value: Value) -> PyResult<bool> {
        match name {
            "slow_callback_duration" => {
                self.slow_callback_duration.set(crate::types::float::to_float(vm, &value)?);
                Ok(true)
            }
            _ if self.class().lookup(name).is_some() => Ok(false),
            _ => {
                self.attrs.borrow_mut().insert(name.to_string(), value);
                Ok(true)
            }
        }
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!(
            "<_UnixSelectorEventLoop running={} closed={} debug={}>",
            py_bool(self.running.get()),
            py_bool(self.closed.get()),
            py_bool(self.debug.get())
        ))
    }
}

/// The classes of `loop.call_soon()`'s and `loop.call_later()`'s handles.
pub fn handle_classes() -> (Rc<Class>, Rc<Class>) {
    HANDLE_CLASSES.with(|c| c.clone())
}

/// The class of event loops (the library adds its I/O methods to it).
pub fn loop_class() -> Rc<Class> {
    LOOP_CLASS.with(|c| c.clone())
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// A handle as an .aio value.
pub struct HandleRef(pub Rc<Handle>);

impl NativeObject for HandleRef {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        HANDLE_CLASSES.with(|c| if self.0.when.is_some() { c.1.clone() } else { c.0.clone() })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let kind = if self.0.when.is_some() { "TimerHandle" } else { "Handle" };
        let mut s = format!("<{kind}");
        if self.0.cancelled.get() {
            s.push_str(" cancelled");
        }
        if let Some(w) = self.0.when {
            s.push_str(&format!(" when={}", crate::numfmt::float_repr(w)));
        }
        let call = match &*self.0.cb.borrow() {
            Some(Callback::Call(c)) => Some((c.0.clone(), c.1.to_vec())),
            _ => None,
        };
        if let Some((f, args)) = call {
            s.push(' ');
            s.push_str(&task::format_callback(vm, &f, &args)?);
        }
        s.push('>');
        Ok(s)
    }
}

/// A new event loop value.
pub fn new_loop() -> Value {
    Value::object(EventLoop {
        ready: RefCell::new(VecDeque::new()),
        timers: RefCell::new(BinaryHeap::new()),
        timers_sweep_at: Cell::new(SWEEP_MIN),
        seq: Cell::new(0),
        running: Cell::new(false),
        stopping: Cell::new(false),
        closed: Cell::new(false),
        tasks: RefCell::new(Vec::new()),
        tasks_prune_at: Cell::new(SWEEP_MIN),
        current: RefCell::new(None),
        resolution: Cell::new(1e-9),
        workers: RefCell::new(Vec::new()),
        asyncgens: RefCell::new(Vec::new()),
        debug: Cell::new(false),
        contexts: RefCell::new(std::collections::HashMap::new()),
        reactor: Reactor::default(),
        signal_handlers: RefCell::new(std::collections::BTreeMap::new()),
        exception_handler: RefCell::new(Value::None),
        task_factory: RefCell::new(Value::None),
        slow_callback_duration: Cell::new(0.1),
        attrs: RefCell::new(std::collections::HashMap::new()),
    })
}

/// The event loop a loop value holds.
pub fn lp(v: &Value) -> &EventLoop {
    v.downcast::<EventLoop>().expect("an event loop")
}

/// The loop clock: virtual seconds, or a monotonic real clock.
pub fn now(vm: &Vm) -> f64 {
    vm.host.now()
}

/// Seconds on the process's monotonic clock.
pub fn real_now() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    // An arbitrary, large-ish epoch, like CPython's monotonic clock.
    1000.0 + start.elapsed().as_secs_f64()
}

/// The running loop, or RuntimeError.
pub fn running_loop(vm: &Vm) -> PyResult<Value> {
    vm.host.running_loop().cloned().ok_or_else(|| runtime_error("no running event loop"))
}

/// Schedule one of the loop's own callbacks for the next iteration.
pub fn call_soon(_vm: &mut Vm, loop_v: &Value, cb: Callback) {
    lp(loop_v).call_soon(cb);
}

/// The smallest size at which the task registry and the timer heap are
/// swept of what is finished or cancelled.
const SWEEP_MIN: usize = 256;

impl EventLoop {
    /// Schedule one of the loop's own callbacks for the next iteration.
    pub fn call_soon(&self, cb: Callback) {
        self.ready.borrow_mut().push_back(Ready::soon(cb));
    }

    /// Add a new task to the registry `all_tasks()` reads.
    pub fn register_task(&self, task: &Rc<Future>) {
        // A weak reference keeps its task's memory block, so finished tasks
        // must leave: sweeping each time the registry doubles costs O(1)
        // a task and keeps it within twice the pending ones.
        if self.tasks.borrow().len() >= self.tasks_prune_at.get() {
            self.prune_tasks();
        }
        self.tasks.borrow_mut().push(Rc::downgrade(task));
    }

    /// Drop the finished and freed tasks from the registry.
    pub fn prune_tasks(&self) {
        let mut tasks = self.tasks.borrow_mut();
        tasks.retain(|w| w.upgrade().is_some_and(|t| !t.done()));
        let live = tasks.len();
        if tasks.capacity() > 4 * live.max(SWEEP_MIN) {
            tasks.shrink_to(2 * live);
        }
        self.tasks_prune_at.set((2 * live).max(SWEEP_MIN));
    }

    /// Add a timer to the heap.
    fn push_timer(&self, timer: Timer) {
        let mut timers = self.timers.borrow_mut();
        // Cancelled timers stay in the heap until their deadline (a
        // `wait_for(..., 3600)` that finishes at once leaves one for an
        // hour): sweep them out each time the heap doubles.
        if timers.len() >= self.timers_sweep_at.get() {
            timers.retain(|t| !t.handle.cancelled.get());
            let live = timers.len();
            if timers.capacity() > 4 * live.max(SWEEP_MIN) {
                timers.shrink_to(2 * live);
            }
            self.timers_sweep_at.set((2 * live).max(SWEEP_MIN));
        }
        timers.push(timer);
    }
}

/// Schedule a callback for the next iteration, with a handle to cancel it.
pub fn call_soon_handle(_vm: &mut Vm, loop_v: &Value, cb: Callback) -> Rc<Handle> {
    let h = Rc::new(Handle { cb: RefCell::new(Some(cb)), cancelled: Cell::new(false), when: None, label: RefCell::new(None) });
    lp(loop_v).ready.borrow_mut().push_back(Ready::pack(Entry::Handle(h.clone())));
    h
}

/// Schedule a callback at loop time `when`.
pub fn call_at(_vm: &mut Vm, loop_v: &Value, when: f64, cb: Callback) -> Rc<Handle> {
    let l = lp(loop_v);
    let h = Rc::new(Handle { cb: RefCell::new(Some(cb)), cancelled: Cell::new(false), when: Some(when), label: RefCell::new(None) });
    let seq = l.seq.get();
    l.seq.set(seq + 1);
    l.push_timer(Timer { when, seq, handle: h.clone() });
    h
}

/// Run one callback of the ready queue; `when` is its deadline if it was a timer.
fn run_callback(vm: &mut Vm, loop_v: &Value, cb: Callback, when: Option<f64>) -> PyResult<()> {
    crate::trace::trace_handle(vm, when, &cb);
    let r = run_handle(vm, loop_v, cb);
    crate::trace::trace_handle_done(vm);
    r
}

/// Run the callback itself.
fn run_handle(vm: &mut Vm, loop_v: &Value, cb: Callback) -> PyResult<()> {
    match cb {
        Callback::Step(t, e) => task::task_step(vm, &t, e),
        Callback::Wakeup(t, f) => task::task_wakeup(vm, &t, &f),
        Callback::Worker(w) => run_worker(vm, loop_v, &w),
        Callback::Native(f) => f(vm),
        Callback::Call(call) => {
            // The arguments stay here too, for the report of a failure.
            let r = vm.call(call.0.clone(), Args { pos: call.1.iter().cloned().collect(), kw: Vec::new() });
            callback_outcome_args(vm, &call.0, &call.1, r)
        }
        Callback::Io(h) => {
            if h.cancelled() {
                return Ok(());
            }
            match &h.cb {
                IoCallback::Native(w) => w.clone().ready(vm, h.write),
                IoCallback::Call(f, args) => {
                    let r = vm.call(f.clone(), Args::new(args.iter().cloned()));
                    callback_outcome(vm, f, r)
                }
            }
        }
    }
}

/// What a callback's exception becomes: `SystemExit` and `KeyboardInterrupt`
/// stop the loop, anything else is reported and the loop goes on.
pub fn callback_outcome(vm: &mut Vm, f: &Value, r: PyResult<Value>) -> PyResult<()> {
    callback_outcome_args(vm, f, &[], r)
}

/// [`callback_outcome`] for a callback called with `args`: the report goes
/// through the loop's exception handler, as `Exception in callback f(args)`.
pub fn callback_outcome_args(vm: &mut Vm, f: &Value, args: &[Value], r: PyResult<Value>) -> PyResult<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) => {
            let t = types();
            if e.is(&t.exc.system_exit) || e.is(&t.exc.keyboard_interrupt) {
                return Err(e);
            }
            let what = task::format_callback(vm, f, args).unwrap_or_default();
            let ctx = PyDict::new();
            ctx.set_str("message", Value::str(&format!("Exception in callback {what}")));
            ctx.set_str("exception", e.value());
            let h = Rc::new(Handle {
                cb: RefCell::new(Some(Callback::call(f.clone(), args.iter().cloned()))),
                cancelled: Cell::new(false),
                when: None,
                label: RefCell::new(None),
            });
            ctx.set_str("handle", Value::object(HandleRef(h)));
            match vm.host.running_loop().cloned() {
                Some(l) => call_exception_handler(vm, &l, Value::Dict(Rc::new(ctx))),
                None => default_exception_handler(vm, &Value::Dict(Rc::new(ctx))),
            }
        }
    }
}

/// One iteration of the loop.
pub fn run_once(vm: &mut Vm, loop_v: &Value) -> PyResult<()> {
    // Generators dropped by the last step are closed before the loop looks
    // at what is ready (an async generator's aclose() becomes a callback).
    if crate::generator::finalizers_due() {
        crate::generator::run_finalizers(vm);
    }
    let l = lp(loop_v);
    {
        let mut timers = l.timers.borrow_mut();
        while timers.peek().is_some_and(|t| t.handle.cancelled.get()) {
            timers.pop();
        }
    }
    // A signal that came meanwhile (CPython finds its byte on the self-pipe).
    take_signals(l, loop_v);
    let has_ready = !l.ready.borrow().is_empty() || l.stopping.get();
    let next_timer = l.timers.borrow().peek().map(|t| t.when);
    let runnable_workers = l.workers.borrow().iter().any(|w| w.state.get() == WorkerState::Ready);
    let io = l.reactor.in_flight() > 0;
    if has_ready || runnable_workers {
        // As CPython's select(0): readiness is picked up at every iteration.
        if io {
            select(vm, l, Some(0.0))?;
        }
    } else if io {
        // Wait for the I/O, at most until the next timer is due; a virtual
        // clock runs at real speed meanwhile.
        let timeout = next_timer.map(|when| (when - now(vm)).max(0.0));
        let start = real_now();
        select(vm, l, timeout)?;
        if vm.host.virtual_time() {
            vm.host.advance_clock(real_now() - start);
        }
    } else {
        match next_timer {
            // In real time a loop with signal handlers waits for a signal;
            // a virtual clock has no outside to wait for (as the oracle).
            None if !vm.host.virtual_time() && !l.signal_handlers.borrow().is_empty() => select(vm, l, None)?,
            None => return Err(deadlock(vm, loop_v)),
            Some(when) => {
                if vm.host.virtual_time() {
                    vm.host.advance_clock_to(when);
                    // Far from zero, now + 1e-9 == now: widen the window.
                    let clock = vm.host.now().abs();
                    let ulp = f64::from_bits(clock.to_bits() + 1) - clock;
                    l.resolution.set(f64::max(1e-9, 2.0 * ulp));
                } else {
                    let wait = when - real_now();
                    if wait > 0.0 {
                        // Nothing is watched: only a signal (Ctrl-C) can end the wait early.
                        select(vm, l, Some(wait))?;
                    }
                }
            }
        }
    }
    take_signals(l, loop_v);
    let end = now(vm) + l.resolution.get();
    let mut timers_due = 0;
    {
        let mut timers = l.timers.borrow_mut();
        let mut ready = l.ready.borrow_mut();
        while let Some(t) = timers.peek() {
            if t.when >= end {
                break;
            }
            let t = timers.pop().expect("timer");
            if !t.handle.cancelled.get() {
                crate::trace::trace_timer(vm, &t.handle);
                timers_due += 1;
                ready.push_back(Ready::pack(Entry::Handle(t.handle)));
            }
        }
    }
    let ntodo = l.ready.borrow().len();
    crate::trace::trace_iteration(vm, timers_due);
    for _ in 0..ntodo {
        let entry = l.ready.borrow_mut().pop_front();
        let Some(entry) = entry else { break };
        if let Some((cb, when)) = entry.take() {
            run_callback(vm, loop_v, cb, when)?;
        }
    }
    // Real time: runnable workers get a slice each.
    if !vm.host.virtual_time() {
        let runnable: Vec<Rc<Worker>> = l.workers.borrow().iter().filter(|w| w.state.get() == WorkerState::Ready).cloned().collect();
        for w in runnable {
            run_worker(vm, loop_v, &w)?;
        }
    }
    l.workers.borrow_mut().retain(|w| w.state.get() != WorkerState::Done);
    run_deferred_reports(vm)?;
    vm.check_interrupt()?;
    Ok(())
}

/// Schedule the handlers of the signals that arrived: each one's handle is
/// queued by a callback of its own, one iteration on, as CPython's
/// `_read_from_self` calls `_handle_signal`.
fn take_signals(l: &EventLoop, loop_v: &Value) {
    let mut bits = crate::runtime::reactor::take_signals();
    while bits != 0 {
        let sig = bits.trailing_zeros() as i32 + 1;
        bits &= !(1u64 << (sig - 1));
        if !l.signal_handlers.borrow().contains_key(&sig) {
            continue;
        }
        let lv = loop_v.clone();
        l.call_soon(Callback::Native(Box::new(move |vm: &mut Vm| {
            let Some((f, args)) = lp(&lv).signal_handlers.borrow().get(&sig).cloned() else { return Ok(()) };
            crate::trace::trace_io(vm, || {
                format!("signal {}: handler {}() scheduled", crate::runtime::signals::name(sig), crate::trace::callable_label(&f))
            });
            call_soon_handle(vm, &lv, Callback::call(f, args));
            Ok(())
        })));
    }
}

/// Wait on the reactor (`timeout` in seconds, `None`: until something
/// happens) and append the handles of the ready descriptors to the ready
/// queue; Ctrl-C ends the wait with `KeyboardInterrupt`.
fn select(vm: &mut Vm, l: &EventLoop, timeout: Option<f64>) -> PyResult<()> {
    let timeout = timeout.map(|t| std::time::Duration::from_secs_f64(t.clamp(0.0, 1e9)));
    if timeout != Some(std::time::Duration::ZERO) {
        // What was printed shows before the wait, which may be long.
        vm.host.flush();
        if crate::vm::interrupted() {
            return vm.check_interrupt();
        }
    }
    let mut ready = l.ready.borrow_mut();
    l.reactor.select(timeout, |h| ready.push_back(Ready::pack(Entry::Io(h))))?;
    drop(ready);
    if crate::vm::interrupted() {
        return vm.check_interrupt();
    }
    Ok(())
}

/// Wait up to `secs` for a watched descriptor, a signal or a wake-up
/// (`runtime::reactor::wake`), queueing the ready callbacks for the next
/// iteration; the REPL idles here while the user types.
pub fn wait_io(vm: &mut Vm, loop_v: &Value, secs: f64) -> PyResult<()> {
    select(vm, lp(loop_v), Some(secs))
}

/// The DeadlockError, after reporting what every task waits on.
fn deadlock(vm: &mut Vm, loop_v: &Value) -> PyErr {
    let tasks: Vec<Rc<Future>> = task::pending_tasks(lp(loop_v)).into_iter().filter(|t| !crate::trace::is_internal(t)).collect();
    crate::trace::trace_deadlock(vm, &tasks);
    let mut report = crate::trace::deadlock_report(vm, &tasks);
    let sigs: Vec<String> = lp(loop_v).signal_handlers.borrow().keys().map(|&s| crate::runtime::signals::name(s)).collect();
    if !sigs.is_empty() {
        report.push_str(&format!(
            "  the loop has handlers for {}, but under --virtual-time a signal from outside is not waited for\n",
            sigs.join(", ")
        ));
    }
    vm.write_err(&report);
    err(&types().exc.deadlock_error, "all tasks are blocked and no timer is pending")
}

pub use crate::trace::describe_wait;

/// What [`poll`] found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Poll {
    /// An iteration ran.
    Ran,
    /// Nothing is due: the next timer is this many loop seconds away.
    Wait(f64),
    /// Nothing is scheduled at all: whatever is awaited now waits forever.
    Idle,
}

/// Run one iteration if anything is due now, never waiting and never moving
/// a virtual clock. The REPL calls this while the user types, when an idle
/// loop is no deadlock: the next input may wake a task.
pub fn poll(vm: &mut Vm, loop_v: &Value) -> PyResult<Poll> {
    let l = lp(loop_v);
    {
        let mut timers = l.timers.borrow_mut();
        while timers.peek().is_some_and(|t| t.handle.cancelled.get()) {
            timers.pop();
        }
    }
    if l.reactor.in_flight() > 0 && l.ready.borrow().is_empty() {
        select(vm, l, Some(0.0))?;
    }
    let busy = !l.ready.borrow().is_empty() || l.workers.borrow().iter().any(|w| w.state.get() == WorkerState::Ready);
    let wait = l.timers.borrow().peek().map(|t| t.when - now(vm));
    match wait {
        _ if busy => {}
        Some(w) if w < l.resolution.get() => {}
        Some(w) => return Ok(Poll::Wait(w)),
        None if l.reactor.in_flight() > 0 => return Ok(Poll::Wait(f64::INFINITY)),
        None => return Ok(Poll::Idle),
    }
    run_once(vm, loop_v)?;
    Ok(Poll::Ran)
}

/// `loop.run_forever()`.
pub fn run_forever(vm: &mut Vm, loop_v: &Value) -> PyResult<()> {
    let l = lp(loop_v);
    if l.closed.get() {
        return Err(runtime_error("Event loop is closed"));
    }
    if l.running.get() {
        return Err(runtime_error("This event loop is already running"));
    }
    if vm.host.running_loop().is_some() {
        return Err(runtime_error("Cannot run the event loop while another loop is running"));
    }
    l.running.set(true);
    vm.host.set_running_loop(Some(loop_v.clone()));
    let r = loop {
        if let Err(e) = run_once(vm, loop_v) {
            break Err(e);
        }
        if l.stopping.get() {
            break Ok(());
        }
    };
    l.stopping.set(false);
    l.running.set(false);
    vm.host.set_running_loop(None);
    r
}

/// `loop.create_task(coro, name=..., context=...)`: a task made by the
/// loop's task factory when it has one (called as `factory(loop, coro)`,
/// with `context=` when one is given, then named), else made directly.
pub fn loop_create_task(
    vm: &mut Vm,
    loop_v: &Value,
    coro: Value,
    name: Option<Value>,
    context: Option<Value>,
    eager: bool,
) -> PyResult<Value> {
    let factory = {
        let f = lp(loop_v).task_factory.borrow();
        if f.is_none() {
            None
        } else {
            Some(f.clone())
        }
    };
    let Some(factory) = factory else {
        return Ok(Value::Future(task::create_task_opts(vm, loop_v, coro, name, context, eager)?));
    };
    let mut a = Args::new([loop_v.clone(), coro]);
    if let Some(c) = context.filter(|c| !c.is_none()) {
        a.kw.push((crate::intern::intern("context"), c));
    }
    let t = vm.call(factory, a)?;
    if let Some(n) = name.filter(|n| !n.is_none()) {
        vm.call_method(&t, "set_name", vec![n])?;
    }
    Ok(t)
}

/// Wrap a coroutine in a task; return futures as they are.
pub fn ensure_future(vm: &mut Vm, loop_v: &Value, v: Value) -> PyResult<Rc<Future>> {
    match &v {
        Value::Future(f) => Ok(f.clone()),
        Value::Generator(g) if g.kind == GenKind::Coroutine => factory_task(vm, loop_v, v),
        Value::Object(o) if o.await_iter().is_some() => factory_task(vm, loop_v, v),
        _ => {
            if crate::ops::lookup_special(&v, "__await__").is_some() {
                // An awaitable object: drive it from a small coroutine.
                let wrap = vm.builtins.get_str("__aio_wrap_awaitable");
                if let Some(w) = wrap {
                    let coro = vm.call(w, Args::new([v.clone()]))?;
                    return task::create_task(vm, loop_v, coro, None);
                }
            }
            Err(type_error("An asyncio.Future, a coroutine or an awaitable is required"))
        }
    }
}

/// A task for `ensure_future`, through the loop's task factory.
fn factory_task(vm: &mut Vm, loop_v: &Value, coro: Value) -> PyResult<Rc<Future>> {
    match loop_create_task(vm, loop_v, coro, None, None, false)? {
        Value::Future(f) => Ok(f),
        other => Err(type_error(format!("the task factory returned {}, not a task", vm.repr_str(&other)?))),
    }
}

/// `loop.run_until_complete(future)`.
pub fn run_until_complete(vm: &mut Vm, loop_v: &Value, f: Value) -> PyResult<Value> {
    let l = lp(loop_v);
    if l.closed.get() {
        return Err(runtime_error("Event loop is closed"));
    }
    if l.running.get() {
        return Err(runtime_error("This event loop is already running"));
    }
    let new_task = !matches!(f, Value::Future(_));
    let fut = ensure_future(vm, loop_v, f)?;
    let lv = loop_v.clone();
    let cb = native_closure("_run_until_complete_cb", move |_vm, a| {
        if let Some(Value::Future(f)) = a.pos.first() {
            if !f.cancelled() {
                if let Some(e) = f.exception() {
                    let t = types();
                    if e.is(&t.exc.system_exit) || e.is(&t.exc.keyboard_interrupt) {
                        return Ok(Value::None);
                    }
                }
            }
        }
        lp(&lv).stopping.set(true);
        Ok(Value::None)
    });
    fut.add_done_callback(vm, DoneCallback::Call(cb.clone()));
    let r = run_forever(vm, loop_v);
    let _ = fut.remove_callbacks(|c| Ok(matches!(c, DoneCallback::Call(v) if v.is(&cb))));
    if let Err(e) = r {
        if new_task && fut.done() && !fut.cancelled() {
            fut.set_log_traceback(false);
        }
        return Err(e);
    }
    if !fut.done() {
        return Err(runtime_error("Event loop stopped before Future completed."));
    }
    fut.get_result()
}

// ------------------------------------------------------------ workers

/// A worker thread's state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WorkerState {
    Ready,
    Sleeping,
    Done,
}

/// A green worker thread: a function call with its own frames.
pub struct Worker {
    stack: RefCell<Vec<Value>>,
    frames: RefCell<Vec<Frame>>,
    cur_exc: RefCell<Value>,
    /// The contextvars context the worker runs in, while it is parked.
    context: RefCell<Value>,
    pub state: Cell<WorkerState>,
    fut: Rc<Future>,
    call: RefCell<Option<(Value, Vec<Value>)>>,
}

/// `loop.run_in_executor(None, func, *args)`: start a worker; its result
/// arrives in the returned future through the ready queue. The worker runs
/// in `context` (None: the empty context of a new thread).
pub fn run_in_executor(vm: &mut Vm, loop_v: &Value, func: Value, args: Vec<Value>, context: Value) -> PyResult<Rc<Future>> {
    let fut = Future::new(loop_v.clone(), None);
    fut.set_label(crate::intern::intern("a worker thread"));
    let w = Rc::new(Worker {
        stack: RefCell::new(Vec::new()),
        frames: RefCell::new(Vec::new()),
        cur_exc: RefCell::new(Value::None),
        context: RefCell::new(context),
        state: Cell::new(WorkerState::Ready),
        fut: fut.clone(),
        call: RefCell::new(Some((func, args))),
    });
    lp(loop_v).workers.borrow_mut().push(w.clone());
    // The worker starts at once: under virtual time it runs alone until it
    // sleeps or returns; in real time it gets its first slice.
    run_worker(vm, loop_v, &w)?;
    Ok(fut)
}

/// Run a worker until it blocks, is preempted (real time) or finishes.
fn run_worker(vm: &mut Vm, loop_v: &Value, w: &Rc<Worker>) -> PyResult<()> {
    if w.state.get() == WorkerState::Done {
        return Ok(());
    }
    if w.call.borrow().is_none() && w.frames.borrow().is_empty() {
        // Nothing left to run (its code was unwound): the worker is over.
        w.state.set(WorkerState::Done);
        return Ok(());
    }
    w.state.set(WorkerState::Ready);
    std::mem::swap(&mut vm.stack, &mut *w.stack.borrow_mut());
    std::mem::swap(&mut vm.frames, &mut *w.frames.borrow_mut());
    std::mem::swap(&mut vm.cur_exc, &mut *w.cur_exc.borrow_mut());
    std::mem::swap(&mut vm.context, &mut *w.context.borrow_mut());
    let saved_worker = vm.worker_depth.replace(vm.native_depth);
    vm.preempt = !vm.host.virtual_time();
    let r = (|| -> PyResult<Halt> {
        if let Some((f, args)) = w.call.borrow_mut().take() {
            vm.stack.push(f);
            let n = args.len();
            vm.stack.extend(args);
            if !vm.call_from_stack(n, None)? {
                let v = vm.stack.pop().unwrap_or(Value::None);
                return Ok(Halt::Return(v));
            }
        }
        vm.run(0)
    })();
    vm.preempt = false;
    vm.worker_depth = saved_worker;
    let block = vm.block_request.take();
    std::mem::swap(&mut vm.stack, &mut *w.stack.borrow_mut());
    std::mem::swap(&mut vm.frames, &mut *w.frames.borrow_mut());
    std::mem::swap(&mut vm.cur_exc, &mut *w.cur_exc.borrow_mut());
    std::mem::swap(&mut vm.context, &mut *w.context.borrow_mut());
    let deliver = |vm: &mut Vm, outcome: Result<Value, PyErr>| {
        w.state.set(WorkerState::Done);
        w.stack.borrow_mut().clear();
        w.frames.borrow_mut().clear();
        let fut = w.fut.clone();
        call_soon(
            vm,
            loop_v,
            Callback::Native(Box::new(move |vm: &mut Vm| {
                if fut.cancelled() {
                    return Ok(());
                }
                match outcome {
                    Ok(v) => fut.set_result(vm, v),
                    Err(e) => fut.set_exception(vm, e),
                }
            })),
        );
    };
    match r {
        // A native function run directly (`to_thread(time.sleep, 2)`)
        // returns at once with its sleep still to do: the result waits.
        Ok(Halt::Return(v)) if block.is_some() => {
            w.state.set(WorkerState::Sleeping);
            let when = now(vm) + block.unwrap_or(0.0);
            let w = w.clone();
            call_at(
                vm,
                loop_v,
                when,
                Callback::Native(Box::new(move |vm: &mut Vm| {
                    w.state.set(WorkerState::Done);
                    if w.fut.cancelled() {
                        return Ok(());
                    }
                    w.fut.set_result(vm, v)
                })),
            );
        }
        Ok(Halt::Return(v)) => deliver(vm, Ok(v)),
        Ok(Halt::Blocked) => match block {
            Some(secs) => {
                w.state.set(WorkerState::Sleeping);
                let when = now(vm) + secs;
                call_at(vm, loop_v, when, Callback::Worker(w.clone()));
            }
            None => w.state.set(WorkerState::Ready),
        },
        Ok(Halt::Yield(..)) => deliver(vm, Err(runtime_error("worker yielded"))),
        Err(e) => {
            let t = types();
            if e.is(&t.exc.keyboard_interrupt) {
                // Ctrl-C stops the worker's code (its frames are unwound)
                // and goes on to the loop's caller; whoever still awaits the
                // worker's future sees the interrupt.
                deliver(vm, Err(e.clone()));
                return Err(e);
            }
            deliver(vm, Err(e))
        }
    }
    Ok(())
}

// ------------------------------------------------------------ tracing hooks

pub use crate::trace::{trace_cancel, trace_created, trace_done, trace_step, trace_suspend, trace_wake, trace_yield, Tracer};

// ------------------------------------------------------------ loop methods

fn this(args: &Args) -> PyResult<Value> {
    match args.pos.first() {
        Some(v) if v.downcast::<EventLoop>().is_some() => Ok(v.clone()),
        _ => Err(type_error("descriptor requires an event loop")),
    }
}

fn check_open(loop_v: &Value) -> PyResult<()> {
    if lp(loop_v).closed.get() {
        return Err(runtime_error("Event loop is closed"));
    }
    Ok(())
}

fn m_time(vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::float(now(vm)))
}

fn m_call_soon(vm: &mut Vm, mut args: Args) -> PyResult {
    let l = this(&args)?;
    check_open(&l)?;
    let _ = args.take_kw("context");
    let f = args.pos.get(1).cloned().ok_or_else(|| type_error("call_soon() missing callback"))?;
    let rest = args.pos[2..].to_vec();
    let h = call_soon_handle(vm, &l, Callback::call(f, rest));
    Ok(Value::object(HandleRef(h)))
}

fn m_call_later(vm: &mut Vm, mut args: Args) -> PyResult {
    let l = this(&args)?;
    check_open(&l)?;
    let _ = args.take_kw("context");
    let delay = crate::types::float::to_float(vm, args.pos.get(1).unwrap_or(&Value::None))?;
    let f = args.pos.get(2).cloned().ok_or_else(|| type_error("call_later() missing callback"))?;
    let rest = args.pos[3..].to_vec();
    let when = now(vm) + delay;
    let h = call_at(vm, &l, when, Callback::call(f, rest));
    Ok(Value::object(HandleRef(h)))
}

fn m_call_at(vm: &mut Vm, mut args: Args) -> PyResult {
    let l = this(&args)?;
    check_open(&l)?;
    let _ = args.take_kw("context");
    let when = crate::types::float::to_float(vm, args.pos.get(1).unwrap_or(&Value::None))?;
    let f = args.pos.get(2).cloned().ok_or_else(|| type_error("call_at() missing callback"))?;
    let rest = args.pos[3..].to_vec();
    let h = call_at(vm, &l, when, Callback::call(f, rest));
    Ok(Value::object(HandleRef(h)))
}

fn m_create_future(_vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    Ok(Value::Future(Future::new(l, None)))
}

fn m_create_task(vm: &mut Vm, mut args: Args) -> PyResult {
    let l = this(&args)?;
    let name = args.take_kw("name");
    let context = args.take_kw("context");
    let eager = match args.take_kw("eager_start") {
        Some(v) => vm.truthy(&v)?,
        None => false,
    };
    let coro = args.pos.get(1).cloned().unwrap_or(Value::None);
    loop_create_task(vm, &l, coro, name, context, eager)
}

fn m_run_until_complete(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    run_until_complete(vm, &l, args.pos.get(1).cloned().unwrap_or(Value::None))
}

fn m_run_forever(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    run_forever(vm, &l)?;
    Ok(Value::None)
}

fn m_stop(_vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    lp(&l).stopping.set(true);
    Ok(Value::None)
}

fn m_close(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    let x = lp(&l);
    if x.running.get() {
        return Err(runtime_error("Cannot close a running event loop"));
    }
    x.closed.set(true);
    x.ready.borrow_mut().clear();
    x.timers.borrow_mut().clear();
    x.reactor.clear();
    remove_signal_handlers(x);
    if vm.host.current_loop().is_some_and(|v| v.is(&l)) {
        vm.host.set_current_loop(None);
    }
    Ok(Value::None)
}

/// Forget the loop's signal handlers, restoring each signal's default
/// (`default_int_handler` for SIGINT), as CPython's `close()` does.
pub fn remove_signal_handlers(l: &EventLoop) {
    let sigs: Vec<i32> = l.signal_handlers.borrow_mut().keys().copied().collect();
    l.signal_handlers.borrow_mut().clear();
    for sig in sigs {
        use crate::runtime::signals::{set_handler, Handler};
        let _ = set_handler(sig, if sig == libc::SIGINT { Handler::IntDefault } else { Handler::Default });
    }
}

fn m_is_running(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(lp(&this(&args)?).running.get()))
}

fn m_is_closed(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(lp(&this(&args)?).closed.get()))
}

fn m_run_in_executor(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    check_open(&l)?;
    let func = args.pos.get(2).cloned().ok_or_else(|| type_error("run_in_executor() missing func"))?;
    let rest = args.pos[3..].to_vec();
    Ok(Value::Future(run_in_executor(vm, &l, func, rest, Value::None)?))
}

fn m_get_debug(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(lp(&this(&args)?).debug.get()))
}

fn m_set_debug(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    let d = vm.truthy(args.pos.get(1).unwrap_or(&Value::None))?;
    if d && !lp(&l).debug.replace(d) {
        if let Some(hook) = vm.host.debug_hook() {
            hook(vm);
        }
    }
    lp(&l).debug.set(d);
    Ok(Value::None)
}

fn m_shutdown_asyncgens(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    let gens: Vec<Value> = lp(&l)
        .asyncgens
        .borrow_mut()
        .drain(..)
        .filter_map(|w| w.upgrade())
        .filter(|g| g.state.borrow().status != GenStatus::Closed)
        .map(Value::Generator)
        .collect();
    let f = vm.builtins.get_str("__aio_shutdown_asyncgens").ok_or_else(|| runtime_error("asyncio is not loaded"))?;
    vm.call(f, Args::new([Value::list(gens)]))
}

/// `loop.call_exception_handler(context)`: the program's handler, else
/// the default one; a handler that fails is reported by the default one.
pub fn call_exception_handler(vm: &mut Vm, loop_v: &Value, ctx: Value) -> PyResult<()> {
    let handler = lp(loop_v).exception_handler.borrow().clone();
    if handler.is_none() {
        return default_exception_handler(vm, &ctx);
    }
    match vm.call(handler, Args::new([loop_v.clone(), ctx.clone()])) {
        Ok(_) => Ok(()),
        Err(e) => {
            let t = types();
            if e.is(&t.exc.system_exit) || e.is(&t.exc.keyboard_interrupt) {
                return Err(e);
            }
            let outer = PyDict::new();
            outer.set_str("message", Value::str("Unhandled error in exception handler"));
            outer.set_str("exception", e.value());
            outer.set_str("context", ctx);
            default_exception_handler(vm, &Value::Dict(Rc::new(outer)))
        }
    }
}

/// `loop.default_exception_handler(context)`: the message, the other keys
/// in sorted order as `key: repr(value)`, then the exception's traceback,
/// on stderr (what CPython's logger prints).
pub fn default_exception_handler(vm: &mut Vm, ctx: &Value) -> PyResult<()> {
    let get = |vm: &mut Vm, k: &str| -> PyResult<Option<Value>> {
        match vm.getitem(ctx, &Value::str(k)) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is(&types().exc.key_error) => Ok(None),
            Err(e) => Err(e),
        }
    };
    let message = match get(vm, "message")? {
        Some(m) if vm.truthy(&m)? => vm.str_of(&m)?,
        _ => "Unhandled exception in event loop".to_string(),
    };
    let mut text = message;
    let mut keys: Vec<String> = Vec::new();
    for k in vm.collect(ctx)? {
        keys.push(vm.str_of(&k)?);
    }
    keys.sort();
    for k in keys {
        if k == "message" || k == "exception" {
            continue;
        }
        let v = get(vm, &k)?.unwrap_or(Value::None);
        text.push_str(&format!("\n{k}: {}", vm.repr_str(&v)?));
    }
    text.push('\n');
    if let Some(Value::Instance(e)) = get(vm, "exception")? {
        if e.exc().is_some() {
            text.push_str(&crate::diagnostic::format_exception(vm, &PyErr(e)));
        }
    }
    vm.write_err(&text);
    Ok(())
}

fn context_arg(args: &Args, what: &str) -> PyResult<Value> {
    args.pos.get(1).cloned().ok_or_else(|| type_error(format!("{what}() missing 1 required positional argument: 'context'")))
}

fn m_call_exception_handler(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    call_exception_handler(vm, &l, context_arg(&args, "call_exception_handler")?)?;
    Ok(Value::None)
}

fn m_default_exception_handler(vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?;
    default_exception_handler(vm, &context_arg(&args, "default_exception_handler")?)?;
    Ok(Value::None)
}

fn m_set_exception_handler(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    let h =
        args.pos.get(1).cloned().ok_or_else(|| type_error("set_exception_handler() missing 1 required positional argument: 'handler'"))?;
    if !h.is_none() && !crate::types::is_callable(&h) {
        return Err(type_error(format!("A callable object or None is expected, got {}", vm.repr_str(&h)?)));
    }
    *lp(&l).exception_handler.borrow_mut() = h;
    Ok(Value::None)
}

fn m_get_exception_handler(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(lp(&this(&args)?).exception_handler.borrow().clone())
}

fn m_set_task_factory(_vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    let f = args.pos.get(1).cloned().ok_or_else(|| type_error("set_task_factory() missing 1 required positional argument: 'factory'"))?;
    if !f.is_none() && !crate::types::is_callable(&f) {
        return Err(type_error("task factory must be a callable or None"));
    }
    *lp(&l).task_factory.borrow_mut() = f;
    Ok(Value::None)
}

fn m_get_task_factory(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(lp(&this(&args)?).task_factory.borrow().clone())
}

fn install_loop_methods(c: &Rc<Class>) {
    let ms: &[(&str, NativeFnPtr)] = &[
        ("time", m_time),
        ("call_soon", m_call_soon),
        ("call_soon_threadsafe", m_call_soon),
        ("call_later", m_call_later),
        ("call_at", m_call_at),
        ("create_future", m_create_future),
        ("create_task", m_create_task),
        ("run_until_complete", m_run_until_complete),
        ("run_forever", m_run_forever),
        ("stop", m_stop),
        ("close", m_close),
        ("is_running", m_is_running),
        ("is_closed", m_is_closed),
        ("run_in_executor", m_run_in_executor),
        ("get_debug", m_get_debug),
        ("set_debug", m_set_debug),
        ("shutdown_asyncgens", m_shutdown_asyncgens),
        ("call_exception_handler", m_call_exception_handler),
        ("default_exception_handler", m_default_exception_handler),
        ("set_exception_handler", m_set_exception_handler),
        ("get_exception_handler", m_get_exception_handler),
        ("set_task_factory", m_set_task_factory),
        ("get_task_factory", m_get_task_factory),
    ];
    for (n, f) in ms {
        method(c, "loop", n, *f);
    }
}

/// The methods `asyncio` exposes that need the loop's internals.
pub fn current_task(vm: &Vm) -> Value {
    match vm.host.running_loop() {
        Some(l) => lp(l).current.borrow().clone().map(Value::Future).unwrap_or(Value::None),
        None => Value::None,
    }
}

/// Pending tasks of the running loop.
pub fn all_tasks(vm: &Vm) -> Vec<Value> {
    match vm.host.running_loop() {
        Some(l) => task::pending_tasks(lp(l)).into_iter().map(Value::Future).collect(),
        None => vec![],
    }
}

/// Register an async generator with the running loop (for shutdown).
pub fn track_asyncgen(vm: &Vm, g: &Rc<Generator>) {
    if let Some(l) = vm.host.running_loop() {
        let l = lp(l);
        let mut gens = l.asyncgens.borrow_mut();
        if !gens.iter().any(|w| w.upgrade().is_some_and(|x| Rc::ptr_eq(&x, g))) {
            gens.push(Rc::downgrade(g));
        }
    }
}
