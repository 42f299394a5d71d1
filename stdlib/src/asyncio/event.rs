//! `asyncio.Event`, native: a flag that tasks wait for. `wait()` is a small
//! native coroutine (no frame) whose wait is a plain loop future, so a task
//! parked on an event costs that future and a few words. Also the loop
//! binding shared with the queues, and `Queue.join()`'s wait.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use aio_interp::bytecode::Code;
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::task::Future;
use aio_interp::types::{method, native_fn, new_class, type_of, types};
use aio_interp::{Flag, Value, Vm};

use crate::native::{instance_of, native_ref, NativeRef};

/// An `asyncio.Event`.
pub struct Event {
    value: Cell<bool>,
    /// The futures of the waiting `wait()`s, in waiting order.
    waiters: RefCell<VecDeque<Rc<Future>>>,
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
    property(&c, "_waiters", |_vm, a| Ok(waiters_snapshot(&this(&a)?.waiters)), None);
    c
}

/// `_waiters`, `_getters`, `_putters`: a copy (a deque of the futures), for
/// reading; the object's own list is native.
pub(crate) fn waiters_snapshot(w: &RefCell<VecDeque<Rc<Future>>>) -> Value {
    let d = crate::collections::Deque::new_value();
    if let Some(dq) = d.downcast::<crate::collections::Deque>() {
        for f in w.borrow().iter() {
            dq.push_back(Value::Future(f.clone()));
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
        Event { value: Cell::new(value), waiters: RefCell::new(VecDeque::new()), loop_: RefCell::new(Value::None) }
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
        // By index with short borrows: nothing here may hold the deque while
        // the futures schedule their callbacks.
        let mut i = 0;
        loop {
            let Some(f) = self.waiters.borrow().get(i).cloned() else { break };
            if !f.done() {
                f.set_result(vm, Value::Bool(Flag::TRUE))?;
            }
            i += 1;
        }
        Ok(())
    }

    /// The `finally: self._waiters.remove(fut)` of `wait()`.
    fn remove_waiter(&self, fut: &Rc<Future>) -> PyResult<()> {
        let mut w = self.waiters.borrow_mut();
        match w.iter().position(|f| Rc::ptr_eq(f, fut)) {
            Some(i) => {
                w.remove(i);
                Ok(())
            }
            None => Err(value_error("deque.remove(x): x not in deque")),
        }
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
    if vm.host.tracing() {
        let kind = type_of(&args.pos[0]).name().as_str().to_string();
        let _ = aio_interp::trace::trace_made(vm, &args.pos[0], &kind);
    }
    Ok(Value::None)
}

/// What an observer shows of an event: set or not, and the futures of the
/// waiting `wait()`s; None when `v` is no event.
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
/// (the label names the wait in traces and deadlock reports).
pub(crate) fn new_waiter(lp: Value, label: &Rc<PyStr>) -> PyResult<Rc<Future>> {
    if lp.is_none() {
        return Err(attribute_error("'NoneType' object has no attribute 'create_future'"));
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Created,
    Waiting,
    Done,
}

/// The life of a native coroutine of a queue or an event, in three words:
/// where it was made (for "never awaited" warnings and the reports of the
/// task that runs it), and the future it waits on.
pub(crate) struct Coro {
    code: Option<Rc<Code>>,
    fut: Cell<Option<Rc<Future>>>,
    ip: u32,
    phase: Cell<Phase>,
}

const _: () = assert!(std::mem::size_of::<Coro>() == 24);

impl Coro {
    /// A new coroutine, made by the instruction running in `vm`.
    pub(crate) fn new(vm: &Vm) -> Coro {
        let o = origin_here(vm);
        let ip = o.as_ref().map_or(0, |o| o.ip);
        Coro { code: o.map(|o| o.code), fut: Cell::new(None), ip, phase: Cell::new(Phase::Created) }
    }
    /// The state before this step; the coroutine counts as done unless the
    /// step suspends it again (`wait_on`).
    pub(crate) fn step(&self) -> CoroState {
        let phase = self.phase.replace(Phase::Done);
        match phase {
            Phase::Created => CoroState::Created,
            Phase::Waiting => match self.fut.take() {
                Some(f) => CoroState::Waiting(f),
                None => CoroState::Done,
            },
            Phase::Done => CoroState::Done,
        }
    }
    /// Suspend in `await fut`.
    pub(crate) fn wait_on(&self, fut: Rc<Future>) {
        self.fut.set(Some(fut));
        self.phase.set(Phase::Waiting);
    }
    pub(crate) fn origin(&self) -> Option<TbEntry> {
        self.code.as_ref().map(|code| TbEntry { code: code.clone(), ip: self.ip })
    }
    /// Warn that a coroutine was dropped unstarted.
    pub(crate) fn warn_if_unstarted(&self, name: &str) {
        if self.phase.get() == Phase::Created {
            if let Some(o) = self.origin() {
                aio_interp::diagnostic::warn_never_awaited(name, Some(&o));
            }
        }
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
    target: Value,
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
        Value::object(EventWait::<JOIN> { target, coro: Coro::new(vm) })
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
            super::queue::finished_event(&self.target)
        } else {
            self.target.clone()
        }
    }

    fn start(&self, vm: &mut Vm) -> PyResult<Step> {
        if JOIN && super::queue::unfinished(&self.target) <= 0 {
            return Ok(Step::Return(Value::None));
        }
        let ev_v = self.event();
        let ev = event_ref(&ev_v);
        if ev.value.get() {
            return Ok(Step::Return(self.result()));
        }
        let lp = get_loop(vm, &ev.loop_, &ev_v)?;
        let named = if JOIN { super::queue::join_label(&self.target) } else { None };
        let label = named.unwrap_or_else(|| LABELS.with(|l| if JOIN { l.1.clone() } else { l.0.clone() }));
        let fut = new_waiter(lp, &label)?;
        ev.waiters.borrow_mut().push_back(fut.clone());
        self.coro.wait_on(fut.clone());
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
    fn finish(&self, fut: &Rc<Future>, outcome: PyResult<Value>) -> PyResult<Step> {
        event_ref(&self.event()).remove_waiter(fut)?;
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
            CoroState::Waiting(fut) => self.finish(&fut, await_outcome(&fut)),
            CoroState::Done => Err(runtime_error("cannot reuse already awaited coroutine")),
        }
    }
    fn throw(&self, _vm: &mut Vm, _this: &Value, e: PyErr) -> PyResult<Step> {
        match self.coro.step() {
            CoroState::Waiting(fut) => self.finish(&fut, Err(e)),
            _ => Err(e),
        }
    }
    fn close(&self, _vm: &mut Vm) {
        if let CoroState::Waiting(fut) = self.coro.step() {
            let _ = event_ref(&self.event()).remove_waiter(&fut);
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
        self.coro.warn_if_unstarted(self.name());
    }
}

const _: () = assert!(std::mem::size_of::<Wait>() == 40);
