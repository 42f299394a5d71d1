//! `asyncio.Event`, native: a flag that tasks wait for. `wait()` is a small
//! native coroutine (no frame); the tasks waiting on an event share one
//! future (a task gets a waiter future of its own only when its wait is
//! cancelled or shown), so a task parked on an event costs the coroutine
//! and a word. Also the loop binding shared with the queues, and
//! `Queue.join()`'s wait.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use aio_interp::bytecode::Code;
use aio_interp::event_loop::EventLoop;
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::task::Future;
use aio_interp::types::{method, native_fn, new_class, type_of, types};
use aio_interp::value::ValueWord;
use aio_interp::{Flag, Value, Vm};

use crate::native::{instance_of, native_ref, NativeRef};

/// An `asyncio.Event`.
pub struct Event {
    value: Cell<bool>,
    /// The waiting `wait()`s, in waiting order: the task when a task runs
    /// the wait (it is parked on `shared`, or on a waiter future of its own
    /// made later: see `Future::own_waiter`), else the wait's own future.
    waiters: RefCell<VecDeque<Rc<Future>>>,
    /// The future the tasks waiting now are parked on (None after `set()`).
    shared: RefCell<Option<Rc<Future>>>,
    /// The loop the event is bound to (None until its first wait).
    loop_: RefCell<Value>,
}

thread_local! {
    static EVENT_CLASS: Rc<Class> = make_event_class();
}

fn make_event_class() -> Rc<Class> {
    let c = new_class("Event", &[types().object.clone()], Layout::Builtin, None);
    c.dict.set_str("__module__", Value::str("asyncio.locks"));
    let ms: &[(&str, NativeFnPtr)] = &[
        ("__init__", event_init),
        ("__repr__", event_repr),
        ("is_set", is_set),
        ("set", set),
        ("clear", clear),
        ("wait", wait),
        ("_get_loop", get_loop_method),
    ];
    for (n, f) in ms {
        method(&c, "Event", n, *f);
    }
    c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", event_new)));
    property(
        &c,
        "_value",
        |_vm, a| Ok(Value::bool(this(&a)?.value.get())),
        Some(|vm, a| {
            let v = vm.truthy(&a.pos[1])?;
            this(&a)?.value.set(v);
            Ok(Value::None)
        }),
    );
    property(&c, "_loop", |_vm, a| Ok(this(&a)?.loop_.borrow().clone()), None);
    property(&c, "_waiters", |_vm, a| Ok(snapshot_of(this(&a)?.waiter_futures())), None);
    c
}

/// `_waiters`, `_getters`, `_putters`: a copy (a deque of the futures), for
/// reading; the object's own list is native.
pub(crate) fn waiters_snapshot(w: &RefCell<VecDeque<Rc<Future>>>) -> Value {
    snapshot_of(w.borrow().iter().cloned())
}

fn snapshot_of(futs: impl IntoIterator<Item = Rc<Future>>) -> Value {
    let d = crate::collections::Deque::new_value();
    if let Some(dq) = d.downcast::<crate::collections::Deque>() {
        for f in futs {
            dq.push_back(Value::Future(f));
        }
    }
    d
}

/// A property of a native class, read (and written) by native functions.
pub(crate) fn property(c: &Rc<Class>, name: &str, get: NativeFnPtr, set: Option<NativeFnPtr>) {
    let p = aio_interp::attr::Property {
        fget: native_fn(name, get),
        fset: set.map(|f| native_fn(name, f)).unwrap_or(Value::None),
        fdel: Value::None,
        doc: Value::None,
    };
    c.dict.set_str(name, Value::object(p));
}

/// The `asyncio.Event` class.
pub fn event_class() -> Rc<Class> {
    EVENT_CLASS.with(|c| c.clone())
}

impl NativeObject for Event {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        event_class()
    }
}

impl Event {
    fn new(value: bool) -> Event {
        Event {
            value: Cell::new(value),
            waiters: RefCell::new(VecDeque::new()),
            shared: RefCell::new(None),
            loop_: RefCell::new(Value::None),
        }
    }

    /// A new event, set or not, as a value.
    pub(crate) fn new_value(value: bool) -> Value {
        Value::object(Event::new(value))
    }

    pub(crate) fn clear(&self) {
        self.value.set(false);
    }

    /// `set()`: every waiter that is not done yet gets True, in waiting order.
    pub(crate) fn set(&self, vm: &mut Vm) -> PyResult<()> {
        if self.value.get() {
            return Ok(());
        }
        self.value.set(true);
        let shared = self.shared.take();
        if let Some(s) = &shared {
            // No callbacks: its tasks are woken below, in their places.
            s.set_result(vm, Value::Bool(Flag::TRUE))?;
        }
        // By index with short borrows: nothing here may hold the deque while
        // the futures schedule their callbacks.
        let mut i = 0;
        loop {
            let Some(w) = self.waiters.borrow().get(i).cloned() else { break };
            match shared.as_ref().and_then(|s| parked_waiter(&w, s)) {
                Some(Parked::OnShared(s)) => s.wake_parked(vm, &w),
                Some(Parked::Own(f)) if !f.done() => f.set_result(vm, Value::Bool(Flag::TRUE))?,
                Some(Parked::Own(_)) => {}
                None if !w.is_task() && !w.done() => w.set_result(vm, Value::Bool(Flag::TRUE))?,
                None => {}
            }
            i += 1;
        }
        Ok(())
    }

    /// The future the waits parking now share, made by the first of them.
    fn shared_future(&self, lp: Value, label: &Rc<PyStr>) -> PyResult<Rc<Future>> {
        if let Some(s) = self.shared.borrow().as_ref().filter(|s| !s.done()) {
            aio_interp::task::skip_id();
            return Ok(s.clone());
        }
        let s = new_waiter(lp, label, true)?;
        *self.shared.borrow_mut() = Some(s.clone());
        Ok(s)
    }

    /// The `finally: self._waiters.remove(fut)` of `wait()`: `fut` is the
    /// wait's own future, or the shared one for the wait of `task`.
    fn remove_waiter(&self, fut: &Rc<Future>, task: Option<&Rc<Future>>) -> PyResult<()> {
        let mut w = self.waiters.borrow_mut();
        let entry = if fut.is_shared() { task } else { Some(fut) };
        match entry.and_then(|e| w.iter().position(|f| Rc::ptr_eq(f, e))) {
            Some(i) => {
                w.remove(i);
                Ok(())
            }
            // A wait on the shared future that its task did not park in
            // (driven by hand) was never listed.
            None if fut.is_shared() => Ok(()),
            None => Err(value_error("deque.remove(x): x not in deque")),
        }
    }

    /// The waiter futures, in waiting order, as `_waiters` shows them: a
    /// task parked on the shared future gets its own now.
    fn waiter_futures(&self) -> Vec<Rc<Future>> {
        let entries: Vec<Rc<Future>> = self.waiters.borrow().iter().cloned().collect();
        let shared = self.shared.borrow().clone();
        entries
            .into_iter()
            .filter_map(|w| {
                if !w.is_task() {
                    return Some(w);
                }
                match w.task().and_then(|t| t.fut_waiter()) {
                    Some(f) if f.waiter_of().is_some() => Some(f),
                    // (Once `set()` woke it, the shared future stands for
                    // its done one.)
                    Some(f) if f.is_shared() => Some(w.own_waiter(f)),
                    // A wait its task drives by hand: on the shared future.
                    _ => shared.clone(),
                }
            })
            .collect()
    }
}

/// What the listed waiter `w` (a task) of an event is parked on, with `s`
/// the event's shared future.
enum Parked {
    OnShared(Rc<Future>),
    /// A waiter future of its own, made for its wait on `s`.
    Own(Rc<Future>),
}

fn parked_waiter(w: &Rc<Future>, s: &Rc<Future>) -> Option<Parked> {
    let f = w.task()?.fut_waiter()?;
    if Rc::ptr_eq(&f, s) {
        Some(Parked::OnShared(f))
    } else if f.waiter_of().is_some_and(|o| Rc::ptr_eq(o, s)) {
        Some(Parked::Own(f))
    } else {
        None
    }
}

fn this(args: &Args) -> PyResult<NativeRef<Event>> {
    args.pos.first().and_then(native_ref::<Event>).ok_or_else(|| type_error("descriptor requires an 'asyncio.Event' object"))
}

/// The native event behind an `Event` value (or an instance of a subclass).
pub(crate) fn event_ref(v: &Value) -> NativeRef<Event> {
    native_ref::<Event>(v).expect("an Event")
}

fn event_new(_vm: &mut Vm, args: Args) -> PyResult {
    let base = event_class();
    let cls = match args.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => base.clone(),
    };
    Ok(instance_of(&cls, &base, Value::object(Event::new(false))))
}

fn event_init(vm: &mut Vm, args: Args) -> PyResult {
    let ev = this(&args)?;
    no_args("Event.__init__", &args, 0)?;
    ev.value.set(false);
    ev.waiters.borrow_mut().clear();
    ev.shared.take();
    if vm.host.tracing() {
        let kind = type_of(&args.pos[0]).name().as_str().to_string();
        let _ = aio_interp::trace::trace_made(vm, &args.pos[0], &kind);
    }
    Ok(Value::None)
}

/// What an observer shows of an event: set or not, and the waiting
/// `wait()`s (their tasks, or their futures when no task runs them); None
/// when `v` is no event.
pub(crate) fn observe(v: &Value) -> Option<(bool, Vec<Rc<Future>>)> {
    let ev = native_ref::<Event>(v)?;
    let waiters = ev.waiters.borrow().iter().cloned().collect();
    Some((ev.value.get(), waiters))
}

/// `TypeError` unless a method got exactly `n` positional arguments after `self` and no keywords.
pub(crate) fn no_args(name: &str, args: &Args, n: usize) -> PyResult<()> {
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("{name}() got an unexpected keyword argument '{}'", k.as_str())));
    }
    let given = args.pos.len();
    if given != n + 1 {
        let takes = if n == 0 { "1 positional argument".to_string() } else { format!("{} positional arguments", n + 1) };
        let was = if given == 1 { "was" } else { "were" };
        return Err(type_error(format!("{name}() takes {takes} but {given} {was} given")));
    }
    Ok(())
}

/// `<asyncio.locks.Event object at 0x... [unset, waiters:1]>`
fn event_repr(_vm: &mut Vm, args: Args) -> PyResult {
    let ev = this(&args)?;
    let base = aio_interp::ops::default_object_repr(&type_of(&args.pos[0]), &args.pos[0]);
    let mut extra = if ev.value.get() { "set".to_string() } else { "unset".to_string() };
    let n = ev.waiters.borrow().len();
    if n > 0 {
        extra.push_str(&format!(", waiters:{n}"));
    }
    Ok(Value::string(format!("{} [{extra}]>", &base[..base.len() - 1])))
}

fn is_set(_vm: &mut Vm, args: Args) -> PyResult {
    no_args("Event.is_set", &args, 0)?;
    Ok(Value::bool(this(&args)?.value.get()))
}

fn set(vm: &mut Vm, args: Args) -> PyResult {
    no_args("Event.set", &args, 0)?;
    this(&args)?.set(vm)?;
    Ok(Value::None)
}

fn clear(_vm: &mut Vm, args: Args) -> PyResult {
    no_args("Event.clear", &args, 0)?;
    this(&args)?.clear();
    Ok(Value::None)
}

fn wait(vm: &mut Vm, args: Args) -> PyResult {
    no_args("Event.wait", &args, 0)?;
    this(&args)?;
    Ok(Wait::make(vm, args.pos[0].clone()))
}

fn get_loop_method(vm: &mut Vm, args: Args) -> PyResult {
    let ev = this(&args)?;
    get_loop(vm, &ev.loop_, &args.pos[0])
}

// ------------------------------------------------------------ loop binding

/// `_LoopBoundMixin._get_loop()`: the running loop; the object is bound to
/// the loop of its first wait, and waiting from another loop is an error.
pub(crate) fn get_loop(vm: &mut Vm, bound: &RefCell<Value>, this: &Value) -> PyResult<Value> {
    let running = vm.host.running_loop().cloned().unwrap_or(Value::None);
    {
        let mut b = bound.borrow_mut();
        if b.is_none() {
            *b = running.clone();
        }
        if b.is(&running) {
            return Ok(running);
        }
    }
    let r = vm.repr_str(this)?;
    Err(runtime_error(format!("{r} is bound to a different event loop")))
}

/// `loop.create_future()` for a waiter, labelled with what it waits for
/// (the label names the wait in traces and deadlock reports); `shared`:
/// for the waits of an event to share.
pub(crate) fn new_waiter(lp: Value, label: &Rc<PyStr>, shared: bool) -> PyResult<Rc<Future>> {
    if lp.is_none() {
        return Err(attribute_error("'NoneType' object has no attribute 'create_future'"));
    }
    if shared {
        return Ok(Future::new_shared(lp, label.clone()));
    }
    let f = Future::new(lp, None);
    f.set_label(label.clone());
    Ok(f)
}

/// Where a native coroutine is made: the running instruction of the caller.
pub(crate) fn origin_here(vm: &Vm) -> Option<TbEntry> {
    vm.frames.last().map(|fr| TbEntry { code: fr.code.clone(), ip: fr.ip.saturating_sub(1) as u32 })
}

/// Where a native coroutine of a queue or an event is in its life.
pub(crate) enum CoroState {
    /// Made, not started.
    Created,
    /// Suspended in `await fut`.
    Waiting(Rc<Future>),
    Done,
}

/// Where a native coroutine is, with what it keeps of its life: where it
/// was made (for "never awaited" warnings and the reports of the task that
/// runs it), and while suspended the future it waits on. A coroutine
/// awaited by another (the common case) drops its origin when it suspends:
/// reports name the awaiting coroutine's. One run as a task's own
/// coroutine keeps both, boxed.
#[derive(Default)]
enum Life {
    Created(Option<Rc<Code>>, u32),
    /// Running, or done: a step took it out of `Created` or a wait.
    Stepped(Option<Rc<Code>>, u32),
    Waiting(Rc<Future>),
    WaitingAsTask(Box<(Rc<Future>, TbEntry)>),
    #[default]
    Done,
}

/// The life of a native coroutine of a queue or an event, in two words: a
/// task parked on an event holds one.
pub(crate) struct Coro {
    life: Cell<Life>,
}

const _: () = assert!(std::mem::size_of::<Coro>() == 16);

impl Coro {
    /// A new coroutine, made by the instruction running in `vm`.
    pub(crate) fn new(vm: &Vm) -> Coro {
        let o = origin_here(vm);
        let ip = o.as_ref().map_or(0, |o| o.ip);
        Coro { life: Cell::new(Life::Created(o.map(|o| o.code), ip)) }
    }
    /// The state before this step; the coroutine counts as done unless the
    /// step suspends it again (`wait_on`).
    pub(crate) fn step(&self) -> CoroState {
        match self.life.take() {
            Life::Created(code, ip) => {
                self.put(Life::Stepped(code, ip));
                CoroState::Created
            }
            Life::Waiting(f) => CoroState::Waiting(f),
            Life::WaitingAsTask(b) => {
                let (f, o) = *b;
                self.put(Life::Stepped(Some(o.code), o.ip));
                CoroState::Waiting(f)
            }
            stepped @ Life::Stepped(..) => {
                self.put(stepped);
                CoroState::Done
            }
            Life::Done => CoroState::Done,
        }
    }
    /// Put `life` in place of the `Done` a `take` left (which owns nothing,
    /// so no drop runs).
    #[inline(always)]
    fn put(&self, life: Life) {
        let old = self.life.replace(life);
        debug_assert!(matches!(old, Life::Done));
        std::mem::forget(old);
    }
    /// Suspend in `await fut`; `as_task`: the coroutine is the running
    /// task's own (see [`runs_as_task`]).
    pub(crate) fn wait_on(&self, fut: Rc<Future>, as_task: bool) {
        let life = match self.life.take() {
            Life::Created(Some(code), ip) | Life::Stepped(Some(code), ip) if as_task => {
                Life::WaitingAsTask(Box::new((fut, TbEntry { code, ip })))
            }
            _ => Life::Waiting(fut),
        };
        self.put(life);
    }
    pub(crate) fn origin(&self) -> Option<TbEntry> {
        let life = self.life.take();
        let o = match &life {
            Life::Created(Some(code), ip) | Life::Stepped(Some(code), ip) => Some(TbEntry { code: code.clone(), ip: *ip }),
            Life::WaitingAsTask(b) => Some(b.1.clone()),
            _ => None,
        };
        self.life.set(life);
        o
    }
    /// Warn that a coroutine was dropped unstarted.
    pub(crate) fn warn_if_unstarted(&mut self, name: &str) {
        if let Life::Created(Some(code), ip) = self.life.get_mut() {
            aio_interp::diagnostic::warn_never_awaited(name, Some(&TbEntry { code: code.clone(), ip: *ip }));
        }
    }
}

/// Is the native coroutine at `at` the running task's own coroutine (made
/// a task itself, as `create_task(event.wait())`)?
pub(crate) fn runs_as_task(vm: &Vm, at: *const u8) -> bool {
    current_task(vm).is_some_and(|t| is_coro_of(&t, at))
}

/// Is the native coroutine at `at` the task `t`'s own coroutine?
fn is_coro_of(t: &Future, at: *const u8) -> bool {
    match t.task().map(|d| d.coro()).as_deref() {
        Some(Value::Object(o)) => std::ptr::eq(&***o as *const dyn NativeObject as *const u8, at),
        _ => false,
    }
}

/// How the future of a finished `await fut` ends the wait: its result, or
/// the error `await` raises (CPython's `Future.__await__`).
pub(crate) fn await_outcome(fut: &Future) -> PyResult<Value> {
    if !fut.done() {
        return Err(runtime_error("await wasn't used with future"));
    }
    fut.get_result()
}

// ------------------------------------------------------------ wait()

/// The coroutine `Event.wait()` returns (`JOIN` false: the target is the
/// event), or `Queue.join()` (`JOIN` true: the target is the queue, and it
/// waits on the queue's `_finished` event while tasks are unfinished).
pub struct EventWait<const JOIN: bool> {
    /// The event or queue waited on, as it was given (the native object,
    /// or an instance of a subclass wrapping it).
    target: ValueWord,
    coro: Coro,
}

/// `Event.wait()`.
pub(crate) type Wait = EventWait<false>;
/// `Queue.join()`.
pub(crate) type Join = EventWait<true>;

thread_local! {
    static LABELS: (Rc<PyStr>, Rc<PyStr>) = (aio_interp::intern::intern("Event.wait"), aio_interp::intern::intern("Queue.join"));
}

impl<const JOIN: bool> EventWait<JOIN> {
    pub(crate) fn make(vm: &Vm, target: Value) -> Value {
        Value::object(EventWait::<JOIN> { target: ValueWord::new(target), coro: Coro::new(vm) })
    }

    fn name(&self) -> &'static str {
        if JOIN {
            "Queue.join"
        } else {
            "Event.wait"
        }
    }

    /// The event waited on (for `join()`, the queue's `_finished`).
    fn event(&self) -> Value {
        if JOIN {
            super::queue::finished_event(&self.target.value())
        } else {
            self.target.value()
        }
    }

    fn start(&self, vm: &mut Vm) -> PyResult<Step> {
        if JOIN && super::queue::unfinished(&self.target.value()) <= 0 {
            return Ok(Step::Return(Value::None));
        }
        let ev_v = self.event();
        let ev = event_ref(&ev_v);
        if ev.value.get() {
            return Ok(Step::Return(self.result()));
        }
        let lp = get_loop(vm, &ev.loop_, &ev_v)?;
        let named = if JOIN { super::queue::join_label(&self.target.value()) } else { None };
        let label = named.unwrap_or_else(|| LABELS.with(|l| if JOIN { l.1.clone() } else { l.0.clone() }));
        // A wait run by a task parks it on the shared future, listed as
        // itself; any other gets a future of its own.
        let (fut, as_task) = match current_task(vm) {
            Some(t) => {
                let s = ev.shared_future(lp, &label)?;
                let as_task = is_coro_of(&t, this_ptr(self));
                ev.waiters.borrow_mut().push_back(t);
                (s, as_task)
            }
            None => {
                let f = new_waiter(lp, &label, false)?;
                ev.waiters.borrow_mut().push_back(f.clone());
                (f, false)
            }
        };
        self.coro.wait_on(fut.clone(), as_task);
        fut.await_send()
    }

    fn result(&self) -> Value {
        if JOIN {
            Value::None
        } else {
            Value::Bool(Flag::TRUE)
        }
    }

    /// The `finally` of `wait()`, then how the wait ends.
    fn finish(&self, vm: &Vm, fut: &Rc<Future>, outcome: PyResult<Value>) -> PyResult<Step> {
        event_ref(&self.event()).remove_waiter(fut, current_task(vm).as_ref())?;
        outcome.map(|_| Step::Return(self.result()))
    }
}

native_coroutine!(const JOIN: bool => EventWait<JOIN>, |s| s.name());

impl<const JOIN: bool> AwaitIter for EventWait<JOIN> {
    fn send(&self, vm: &mut Vm, _this: &Value, v: Value) -> PyResult<Step> {
        match self.coro.step() {
            CoroState::Created => {
                if !v.is_none() {
                    return Err(type_error("can't send non-None value to a just-started coroutine"));
                }
                self.start(vm)
            }
            CoroState::Waiting(fut) => self.finish(vm, &fut, await_outcome(&fut)),
            CoroState::Done => Err(runtime_error("cannot reuse already awaited coroutine")),
        }
    }
    fn throw(&self, vm: &mut Vm, _this: &Value, e: PyErr) -> PyResult<Step> {
        match self.coro.step() {
            CoroState::Waiting(fut) => self.finish(vm, &fut, Err(e)),
            _ => Err(e),
        }
    }
    fn close(&self, vm: &mut Vm) {
        if let CoroState::Waiting(fut) = self.coro.step() {
            let ev_v = self.event();
            let ev = event_ref(&ev_v);
            // The wait's task: the running one whose awaits end in this
            // wait, else (closed from outside) the one parked on `fut`
            // whose awaits end here or in a coroutine being closed now
            // (running, its values on the VM's stack), else the running
            // one listed (a wait it drove by hand).
            let at = this_ptr(self);
            let cur = current_task(vm);
            let task = cur.clone().filter(|t| awaits_in(t, at) == Some(true)).or_else(|| {
                let ws = ev.waiters.borrow();
                let parked: Vec<&Rc<Future>> = ws.iter().filter(|t| stays_parked_on(t, &fut)).collect();
                let found =
                    parked.iter().find(|t| awaits_in(t, at) == Some(true)).or_else(|| parked.iter().find(|t| awaits_in(t, at).is_none()));
                found.map(|t| (*t).clone()).or_else(|| cur.filter(|c| ws.iter().any(|w| Rc::ptr_eq(w, c))))
            });
            // Its task stays parked, on a future of its own that no
            // `set()` completes.
            if let Some(t) = &task {
                t.own_waiter(fut.clone());
            }
            let _ = ev.remove_waiter(&fut, task.as_ref());
        }
    }
    fn qualname(&self) -> Option<&str> {
        Some(self.name())
    }
    fn origin(&self) -> Option<TbEntry> {
        self.coro.origin()
    }
}

impl<const JOIN: bool> Drop for EventWait<JOIN> {
    fn drop(&mut self) {
        let name = self.name();
        self.coro.warn_if_unstarted(name);
    }
}

// 24 bytes: a 32-byte block (a task parked on an event holds one).
const _: () = assert!(std::mem::size_of::<Wait>() == 24);

/// The task whose step is running.
fn current_task(vm: &Vm) -> Option<Rc<Future>> {
    vm.host.running_loop().and_then(|l| l.downcast::<EventLoop>()).and_then(|l| l.current.borrow().clone())
}

fn this_ptr<T>(w: &T) -> *const u8 {
    w as *const T as *const u8
}

/// Does the chain of awaits of `task` end in the native awaitable at `at`?
/// None when it ends in a running coroutine (one being closed).
fn awaits_in(task: &Future, at: *const u8) -> Option<bool> {
    let Some(t) = task.task() else { return Some(false) };
    let last = match aio_interp::trace::await_chain(&t.coro()).last() {
        Some(g) => match g.state.try_borrow() {
            Ok(st) if st.status == GenStatus::Running => return None,
            Ok(st) if st.delegating => st.stack.last().cloned(),
            _ => return Some(false),
        },
        None => Some(t.coro_value()),
    };
    Some(match last {
        Some(Value::Object(o)) => std::ptr::eq(&**o as *const dyn NativeObject as *const u8, at),
        _ => false,
    })
}

/// Is the listed waiter `w` a task parked on the shared future `s`?
fn stays_parked_on(w: &Future, s: &Rc<Future>) -> bool {
    w.task().and_then(|t| t.fut_waiter()).is_some_and(|f| Rc::ptr_eq(&f, s) || f.waiter_of().is_some_and(|o| Rc::ptr_eq(o, s)))
}
