//! `asyncio.Queue`, `LifoQueue` and `PriorityQueue`, native. `get()` and
//! `put()` are small native coroutines that wait on plain loop futures,
//! woken first come, first served, with CPython's hand-off when a woken
//! waiter is cancelled. The storage is `_queue` (a deque, or a list for the
//! LIFO and priority queues). A subclass can override `_init`, `_put`,
//! `_get`, `qsize`, `empty`, `full`, `put_nowait` or `get_nowait`: on an
//! instance of a subclass every such step is a method call, as in CPython;
//! on the library's own classes it goes straight to the native code.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::ops::{GE, LE};
use aio_interp::task::Future;
use aio_interp::types::{method, native_fn, new_class, type_of, types, BuiltinType};
use aio_interp::{Value, Vm};

use super::event::{
    await_outcome, event_ref, get_loop, new_waiter, no_args, property, runs_as_task, waiters_snapshot, Coro, CoroState, Event, Join,
};
use crate::collections::Deque;
use crate::native::{instance_of, native_ref, NativeRef};

/// Which of the library's queue classes an object is (or derives from).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Fifo,
    Lifo,
    Priority,
}

/// The labels of a named queue's `get`, `put` and `join` waits.
type WaitLabels = (Rc<PyStr>, Rc<PyStr>, Rc<PyStr>);

/// An `asyncio.Queue` (or `LifoQueue`, `PriorityQueue`).
pub struct Queue {
    kind: Kind,
    /// `_queue`, made by `_init` (`Undef` before).
    items: RefCell<Value>,
    maxsize: RefCell<Value>,
    /// Futures of the waiting `get()`s and `put()`s, in waiting order.
    getters: RefCell<VecDeque<Rc<Future>>>,
    putters: RefCell<VecDeque<Rc<Future>>>,
    unfinished: Cell<i64>,
    /// `_finished`: an Event, set while no task is unfinished.
    finished: RefCell<Value>,
    /// The loop the queue is bound to (None until its first wait).
    loop_: RefCell<Value>,
    /// `shutdown()` was called (3.13): puts fail, and gets once it is empty.
    is_shutdown: Cell<bool>,
    /// The waits' labels with the queue's name (`Queue 'jobs'.get`, then
    /// `.put` and `.join`), when an observer named it; else `Queue.get`...
    labels: RefCell<Option<WaitLabels>>,
}

thread_local! {
    static CLASSES: [Rc<Class>; 3] = make_classes();
    static SHUT_DOWN: Rc<Class> = {
        let t = types();
        let c = new_class("QueueShutDown", std::slice::from_ref(&t.exc.exception), Layout::Exception, Some(BuiltinType::Exception));
        c.dict.set_str("__module__", Value::str("asyncio.queues"));
        c
    };
    static LABELS: (Rc<PyStr>, Rc<PyStr>) = (aio_interp::intern::intern("Queue.get"), aio_interp::intern::intern("Queue.put"));
}

fn make_classes() -> [Rc<Class>; 3] {
    let q = new_class("Queue", &[types().object.clone()], Layout::Builtin, None);
    let ms: &[(&str, NativeFnPtr)] = &[
        ("__init__", queue_init),
        ("__repr__", queue_repr),
        ("__str__", queue_str),
        ("_format", format_method),
        ("_init", |vm, a| init_as(vm, a, Kind::Fifo)),
        ("_put", |vm, a| put_as(vm, a, Kind::Fifo)),
        ("_get", |vm, a| get_as(vm, a, Kind::Fifo)),
        ("qsize", qsize_method),
        ("empty", empty_method),
        ("full", full_method),
        ("put", put),
        ("get", get),
        ("put_nowait", put_nowait_method),
        ("get_nowait", get_nowait_method),
        ("task_done", task_done),
        ("join", join),
        ("_get_loop", get_loop_method),
        ("shutdown", shutdown),
    ];
    for (n, f) in ms {
        method(&q, "Queue", n, *f);
    }
    q.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", queue_new)));
    // `Queue[int]` in an annotation is the class itself.
    q.dict.set_str("__class_getitem__", native_fn("__class_getitem__", |_vm, a| Ok(a.pos[0].clone())));
    property(&q, "maxsize", |_vm, a| Ok(this(&a)?.maxsize.borrow().clone()), None);
    property(
        &q,
        "_maxsize",
        |_vm, a| Ok(this(&a)?.maxsize.borrow().clone()),
        Some(|_vm, a| {
            *this(&a)?.maxsize.borrow_mut() = a.pos[1].clone();
            Ok(Value::None)
        }),
    );
    property(
        &q,
        "_queue",
        |_vm, a| {
            let q = this(&a)?;
            let v = q.items.borrow().clone();
            if v.is_undef() {
                return Err(no_queue_attr(&a.pos[0]));
            }
            Ok(v)
        },
        Some(|_vm, a| {
            *this(&a)?.items.borrow_mut() = a.pos[1].clone();
            Ok(Value::None)
        }),
    );
    property(
        &q,
        "_unfinished_tasks",
        |_vm, a| Ok(Value::Int(this(&a)?.unfinished.get())),
        Some(|vm, a| {
            let n = vm.index_value(&a.pos[1])?;
            this(&a)?.unfinished.set(n);
            Ok(Value::None)
        }),
    );
    property(&q, "_finished", |_vm, a| Ok(this(&a)?.finished.borrow().clone()), None);
    property(&q, "_loop", |_vm, a| Ok(this(&a)?.loop_.borrow().clone()), None);
    property(&q, "_getters", |_vm, a| Ok(waiters_snapshot(&this(&a)?.getters)), None);
    property(&q, "_putters", |_vm, a| Ok(waiters_snapshot(&this(&a)?.putters)), None);
    let lifo = new_class("LifoQueue", std::slice::from_ref(&q), Layout::Builtin, None);
    method(&lifo, "LifoQueue", "_init", |vm, a| init_as(vm, a, Kind::Lifo));
    method(&lifo, "LifoQueue", "_put", |vm, a| put_as(vm, a, Kind::Lifo));
    method(&lifo, "LifoQueue", "_get", |vm, a| get_as(vm, a, Kind::Lifo));
    let prio = new_class("PriorityQueue", std::slice::from_ref(&q), Layout::Builtin, None);
    method(&prio, "PriorityQueue", "_init", |vm, a| init_as(vm, a, Kind::Priority));
    method(&prio, "PriorityQueue", "_put", |vm, a| put_as(vm, a, Kind::Priority));
    method(&prio, "PriorityQueue", "_get", |vm, a| get_as(vm, a, Kind::Priority));
    for c in [&q, &lifo, &prio] {
        c.dict.set_str("__module__", Value::str("asyncio.queues"));
    }
    [q, lifo, prio]
}

/// The classes `Queue`, `LifoQueue` and `PriorityQueue`.
pub fn queue_classes() -> [Rc<Class>; 3] {
    CLASSES.with(|c| c.clone())
}

/// `QueueShutDown` (3.13): what a put, or a get from an empty queue, raises after `shutdown()`.
pub fn shut_down_class() -> Rc<Class> {
    SHUT_DOWN.with(|c| c.clone())
}

fn shut_down() -> PyErr {
    err_noargs(&shut_down_class())
}

fn class_of(kind: Kind) -> Rc<Class> {
    CLASSES.with(|c| c[kind as usize].clone())
}

impl NativeObject for Queue {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        class_of(self.kind)
    }
}

fn this(args: &Args) -> PyResult<NativeRef<Queue>> {
    args.pos.first().and_then(native_ref::<Queue>).ok_or_else(|| type_error("descriptor requires an 'asyncio.Queue' object"))
}

fn qref(v: &Value) -> NativeRef<Queue> {
    native_ref::<Queue>(v).expect("a Queue")
}

fn no_queue_attr(this: &Value) -> PyErr {
    attribute_error(format!("'{}' object has no attribute '_queue'", type_of(this).name().as_str()))
}

/// The `_finished` event of a queue.
pub(crate) fn finished_event(queue: &Value) -> Value {
    qref(queue).finished.borrow().clone()
}

/// The label of a `join()` wait on a queue the program named (`Queue 'jobs'.join`).
pub(crate) fn join_label(queue: &Value) -> Option<Rc<PyStr>> {
    qref(queue).labels.borrow().as_ref().map(|l| l.2.clone())
}

/// `_unfinished_tasks` of a queue.
pub(crate) fn unfinished(queue: &Value) -> i64 {
    qref(queue).unfinished.get()
}

/// Wake the first waiter that is not done yet (CPython's `_wakeup_next`).
fn wakeup_next(vm: &mut Vm, waiters: &RefCell<VecDeque<Rc<Future>>>) -> PyResult<()> {
    loop {
        let w = waiters.borrow_mut().pop_front();
        match w {
            None => return Ok(()),
            Some(w) if !w.done() => return w.set_result(vm, Value::None),
            Some(_) => {}
        }
    }
}

fn queue_new(_vm: &mut Vm, args: Args) -> PyResult {
    let [base, lifo, prio] = queue_classes();
    let cls = match args.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => base.clone(),
    };
    let (kind, native) = if cls.is_subclass(&prio) {
        (Kind::Priority, prio)
    } else if cls.is_subclass(&lifo) {
        (Kind::Lifo, lifo)
    } else {
        (Kind::Fifo, base)
    };
    let q = Queue {
        kind,
        items: RefCell::new(Value::Undef),
        maxsize: RefCell::new(Value::Int(0)),
        getters: RefCell::new(VecDeque::new()),
        putters: RefCell::new(VecDeque::new()),
        unfinished: Cell::new(0),
        finished: RefCell::new(Event::new_value(true)),
        loop_: RefCell::new(Value::None),
        is_shutdown: Cell::new(false),
        labels: RefCell::new(None),
    };
    Ok(instance_of(&cls, &native, Value::object(q)))
}

/// `Queue(maxsize=0)`.
fn queue_init(vm: &mut Vm, mut args: Args) -> PyResult {
    let q = this(&args)?;
    let kw = args.take_kw("maxsize");
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("Queue.__init__() got an unexpected keyword argument '{}'", k.as_str())));
    }
    if args.pos.len() > 2 {
        return Err(type_error(format!("Queue.__init__() takes from 1 to 2 positional arguments but {} were given", args.pos.len())));
    }
    let maxsize = match (args.pos.get(1), kw) {
        (Some(_), Some(_)) => return Err(type_error("Queue.__init__() got multiple values for argument 'maxsize'")),
        (Some(v), None) => v.clone(),
        (None, Some(v)) => v,
        (None, None) => Value::Int(0),
    };
    *q.maxsize.borrow_mut() = maxsize.clone();
    q.getters.borrow_mut().clear();
    q.putters.borrow_mut().clear();
    q.unfinished.set(0);
    q.is_shutdown.set(false);
    *q.finished.borrow_mut() = Event::new_value(true);
    let this = args.pos[0].clone();
    if is_exact(&this) {
        init_storage(&q, q.kind);
    } else {
        vm.call_method(&this, "_init", vec![maxsize])?;
    }
    if vm.host.tracing() {
        let kind = type_of(&this).name().as_str().to_string();
        if let Some(name) = aio_interp::trace::trace_made(vm, &this, &kind).filter(|n| !n.contains(" created at ")) {
            let label = |op: &str| Rc::new(PyStr::new(&format!("{name}.{op}")));
            *q.labels.borrow_mut() = Some((label("get"), label("put"), label("join")));
        }
    }
    Ok(Value::None)
}

/// What an observer shows of a queue.
pub(crate) struct QueueView {
    /// The items, first out first (a priority queue's in heap order).
    pub items: Vec<Value>,
    pub maxsize: Value,
    /// The futures of the waiting `get()`s and `put()`s.
    pub getters: Vec<Rc<Future>>,
    pub putters: Vec<Rc<Future>>,
    pub unfinished: i64,
}

/// How many items a queue holds, for an observer; None when `v` is no queue.
pub(crate) fn observed_len(vm: &mut Vm, v: &Value) -> Option<usize> {
    let q = native_ref::<Queue>(v)?;
    let storage = q.items.borrow().clone();
    if storage.is_undef() {
        return Some(0);
    }
    storage_len(vm, &storage).ok()
}

/// A queue as an observer sees it; None when `v` is no queue.
pub(crate) fn observe(vm: &mut Vm, v: &Value) -> Option<QueueView> {
    let q = native_ref::<Queue>(v)?;
    let storage = q.items.borrow().clone();
    let items = if storage.is_undef() {
        Vec::new()
    } else if let Some(d) = storage.downcast::<Deque>() {
        d.snapshot()
    } else {
        match q.kind {
            // A stack pops from its end: the next item out comes first.
            Kind::Lifo => vm.collect(&storage).map(|mut v| {
                v.reverse();
                v
            }),
            _ => vm.collect(&storage),
        }
        .unwrap_or_default()
    };
    let view = QueueView {
        items,
        maxsize: q.maxsize.borrow().clone(),
        getters: q.getters.borrow().iter().cloned().collect(),
        putters: q.putters.borrow().iter().cloned().collect(),
        unfinished: q.unfinished.get(),
    };
    Some(view)
}

// ------------------------------------------------------------ the steps a subclass can override

/// An object of the library's own classes (not a subclass): its steps
/// need no method lookup.
fn is_exact(this: &Value) -> bool {
    matches!(this, Value::Object(_))
}

fn init_storage(q: &Queue, kind: Kind) {
    *q.items.borrow_mut() = match kind {
        Kind::Fifo => Deque::new_value(),
        Kind::Lifo | Kind::Priority => Value::list(vec![]),
    };
}

/// `_queue`, or the AttributeError of reading it before `_init` made it.
fn storage(q: &Queue, this: &Value) -> PyResult<Value> {
    let v = q.items.borrow().clone();
    if v.is_undef() {
        return Err(no_queue_attr(this));
    }
    Ok(v)
}

fn storage_len(vm: &mut Vm, v: &Value) -> PyResult<usize> {
    if let Some(d) = v.downcast::<Deque>() {
        return Ok(d.len());
    }
    match v {
        Value::List(l) => Ok(l.len()),
        _ => vm.len(v),
    }
}

fn storage_truthy(vm: &mut Vm, v: &Value) -> PyResult<bool> {
    if let Some(d) = v.downcast::<Deque>() {
        return Ok(d.len() > 0);
    }
    match v {
        Value::List(l) => Ok(!l.is_empty()),
        _ => vm.truthy(v),
    }
}

/// `_put` of the library class `kind` on `_queue`.
fn put_storage(vm: &mut Vm, kind: Kind, items: &Value, item: Value) -> PyResult<()> {
    match kind {
        Kind::Fifo => match items.downcast::<Deque>() {
            Some(d) => {
                d.push_back(item);
                Ok(())
            }
            None => vm.call_method(items, "append", vec![item]).map(drop),
        },
        Kind::Lifo => match items {
            Value::List(l) => {
                l.push(item);
                Ok(())
            }
            _ => vm.call_method(items, "append", vec![item]).map(drop),
        },
        Kind::Priority => heappush(vm, items, item),
    }
}

/// `_get` of the library class `kind` from `_queue`.
fn get_storage(vm: &mut Vm, kind: Kind, items: &Value) -> PyResult<Value> {
    match kind {
        Kind::Fifo => match items.downcast::<Deque>() {
            Some(d) => d.pop_front().ok_or_else(|| index_error("pop from an empty deque")),
            None => vm.call_method(items, "popleft", vec![]),
        },
        Kind::Lifo => match items {
            Value::List(l) => l.borrow_mut().pop().ok_or_else(|| index_error("pop from empty list")),
            _ => vm.call_method(items, "pop", vec![]),
        },
        Kind::Priority => heappop(vm, items),
    }
}

fn do_put(vm: &mut Vm, this: &Value, q: &Queue, item: Value) -> PyResult<()> {
    if is_exact(this) {
        let items = storage(q, this)?;
        put_storage(vm, q.kind, &items, item)
    } else {
        vm.call_method(this, "_put", vec![item]).map(drop)
    }
}

fn do_get(vm: &mut Vm, this: &Value, q: &Queue) -> PyResult<Value> {
    if is_exact(this) {
        let items = storage(q, this)?;
        get_storage(vm, q.kind, &items)
    } else {
        vm.call_method(this, "_get", vec![])
    }
}

fn do_qsize(vm: &mut Vm, this: &Value, q: &Queue) -> PyResult<Value> {
    if is_exact(this) {
        qsize(vm, this, q)
    } else {
        vm.call_method(this, "qsize", vec![])
    }
}

fn do_empty(vm: &mut Vm, this: &Value, q: &Queue) -> PyResult<bool> {
    if is_exact(this) {
        empty(vm, this, q)
    } else {
        let r = vm.call_method(this, "empty", vec![])?;
        vm.truthy(&r)
    }
}

fn do_full(vm: &mut Vm, this: &Value, q: &Queue) -> PyResult<bool> {
    if is_exact(this) {
        full(vm, this, q)
    } else {
        let r = vm.call_method(this, "full", vec![])?;
        vm.truthy(&r)
    }
}

fn do_put_nowait(vm: &mut Vm, this: &Value, q: &Queue, item: Value) -> PyResult<()> {
    if is_exact(this) {
        put_nowait(vm, this, q, item)
    } else {
        vm.call_method(this, "put_nowait", vec![item]).map(drop)
    }
}

fn do_get_nowait(vm: &mut Vm, this: &Value, q: &Queue) -> PyResult<Value> {
    if is_exact(this) {
        get_nowait(vm, this, q)
    } else {
        vm.call_method(this, "get_nowait", vec![])
    }
}

// ------------------------------------------------------------ the library's bodies of those steps

/// `qsize()`: `len(self._queue)`.
fn qsize(vm: &mut Vm, this: &Value, q: &Queue) -> PyResult<Value> {
    let items = storage(q, this)?;
    Ok(Value::Int(storage_len(vm, &items)? as i64))
}

/// `empty()`: `not self._queue`.
fn empty(vm: &mut Vm, this: &Value, q: &Queue) -> PyResult<bool> {
    let items = storage(q, this)?;
    Ok(!storage_truthy(vm, &items)?)
}

/// `full()`: `maxsize > 0 and self.qsize() >= maxsize`.
fn full(vm: &mut Vm, this: &Value, q: &Queue) -> PyResult<bool> {
    let max = q.maxsize.borrow().clone();
    if let Value::Int(n) = max {
        if n <= 0 {
            return Ok(false);
        }
        if is_exact(this) {
            let items = storage(q, this)?;
            return Ok(storage_len(vm, &items)? as i64 >= n);
        }
    } else {
        let le = vm.compare(LE, &max, &Value::Int(0))?;
        if vm.truthy(&le)? {
            return Ok(false);
        }
    }
    let size = do_qsize(vm, this, q)?;
    let ge = vm.compare(GE, &size, &max)?;
    vm.truthy(&ge)
}

fn put_nowait(vm: &mut Vm, this: &Value, q: &Queue, item: Value) -> PyResult<()> {
    if q.is_shutdown.get() {
        return Err(shut_down());
    }
    if do_full(vm, this, q)? {
        return Err(err_noargs(&types().exc.queue_full));
    }
    do_put(vm, this, q, item)?;
    q.unfinished.set(q.unfinished.get() + 1);
    let fin = q.finished.borrow().clone();
    event_ref(&fin).clear();
    wakeup_next(vm, &q.getters)
}

fn get_nowait(vm: &mut Vm, this: &Value, q: &Queue) -> PyResult<Value> {
    if do_empty(vm, this, q)? {
        if q.is_shutdown.get() {
            return Err(shut_down());
        }
        return Err(err_noargs(&types().exc.queue_empty));
    }
    let item = do_get(vm, this, q)?;
    wakeup_next(vm, &q.putters)?;
    Ok(item)
}

// ------------------------------------------------------------ methods

fn init_as(_vm: &mut Vm, args: Args, kind: Kind) -> PyResult {
    let q = this(&args)?;
    no_args("_init", &args, 1)?;
    init_storage(&q, kind);
    Ok(Value::None)
}

fn put_as(vm: &mut Vm, args: Args, kind: Kind) -> PyResult {
    let q = this(&args)?;
    no_args("_put", &args, 1)?;
    let items = storage(&q, &args.pos[0])?;
    put_storage(vm, kind, &items, args.pos[1].clone())?;
    Ok(Value::None)
}

fn get_as(vm: &mut Vm, args: Args, kind: Kind) -> PyResult {
    let q = this(&args)?;
    no_args("_get", &args, 0)?;
    let items = storage(&q, &args.pos[0])?;
    get_storage(vm, kind, &items)
}

fn qsize_method(vm: &mut Vm, args: Args) -> PyResult {
    let q = this(&args)?;
    no_args("Queue.qsize", &args, 0)?;
    qsize(vm, &args.pos[0], &q)
}

fn empty_method(vm: &mut Vm, args: Args) -> PyResult {
    let q = this(&args)?;
    no_args("Queue.empty", &args, 0)?;
    Ok(Value::bool(empty(vm, &args.pos[0], &q)?))
}

fn full_method(vm: &mut Vm, args: Args) -> PyResult {
    let q = this(&args)?;
    no_args("Queue.full", &args, 0)?;
    Ok(Value::bool(full(vm, &args.pos[0], &q)?))
}

fn put_nowait_method(vm: &mut Vm, mut args: Args) -> PyResult {
    let q = this(&args)?;
    let item = item_arg("Queue.put_nowait", &mut args)?;
    put_nowait(vm, &args.pos[0], &q, item)?;
    Ok(Value::None)
}

fn get_nowait_method(vm: &mut Vm, args: Args) -> PyResult {
    let q = this(&args)?;
    no_args("Queue.get_nowait", &args, 0)?;
    get_nowait(vm, &args.pos[0], &q)
}

/// The `item` argument of `put`/`put_nowait`.
fn item_arg(name: &str, args: &mut Args) -> PyResult<Value> {
    if let Some(v) = args.take_kw("item") {
        if args.pos.len() == 1 {
            args.pos.push(v);
        } else {
            return Err(type_error(format!("{name}() got multiple values for argument 'item'")));
        }
    }
    if args.pos.len() == 1 {
        return Err(type_error(format!("{name}() missing 1 required positional argument: 'item'")));
    }
    no_args(name, args, 1)?;
    Ok(args.pos[1].clone())
}

fn put(vm: &mut Vm, mut args: Args) -> PyResult {
    this(&args)?;
    let item = item_arg("Queue.put", &mut args)?;
    Ok(QueueOp::make(vm, args.pos[0].clone(), Some(item)))
}

fn get(vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?;
    no_args("Queue.get", &args, 0)?;
    Ok(QueueOp::make(vm, args.pos[0].clone(), None))
}

fn task_done(vm: &mut Vm, args: Args) -> PyResult {
    let q = this(&args)?;
    no_args("Queue.task_done", &args, 0)?;
    let n = q.unfinished.get();
    if n <= 0 {
        return Err(value_error("task_done() called too many times"));
    }
    q.unfinished.set(n - 1);
    if n == 1 {
        let fin = q.finished.borrow().clone();
        event_ref(&fin).set(vm)?;
    }
    Ok(Value::None)
}

/// `shutdown(immediate=False)` (3.13): later puts raise QueueShutDown, and
/// gets once the queue is empty (at once with `immediate`, which drops the
/// items, each counted as done); every waiting put and get wakes to see it.
fn shutdown(vm: &mut Vm, mut args: Args) -> PyResult {
    let q = this(&args)?;
    let immediate = match args.take_kw("immediate").or_else(|| args.pos.get(1).cloned()) {
        Some(v) => vm.truthy(&v)?,
        None => false,
    };
    let this = args.pos[0].clone();
    q.is_shutdown.set(true);
    if immediate {
        while !do_empty(vm, &this, &q)? {
            do_get(vm, &this, &q)?;
            if q.unfinished.get() > 0 {
                q.unfinished.set(q.unfinished.get() - 1);
            }
        }
        if q.unfinished.get() == 0 {
            let fin = q.finished.borrow().clone();
            event_ref(&fin).set(vm)?;
        }
    }
    for waiters in [&q.getters, &q.putters] {
        loop {
            let w = waiters.borrow_mut().pop_front();
            match w {
                None => break,
                Some(w) if !w.done() => w.set_result(vm, Value::None)?,
                Some(_) => {}
            }
        }
    }
    Ok(Value::None)
}

fn join(vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?;
    no_args("Queue.join", &args, 0)?;
    Ok(Join::make(vm, args.pos[0].clone()))
}

fn get_loop_method(vm: &mut Vm, args: Args) -> PyResult {
    let q = this(&args)?;
    get_loop(vm, &q.loop_, &args.pos[0])
}

/// `maxsize=1 _queue=[1] _getters[1] tasks=1`
fn format(vm: &mut Vm, q: &Queue) -> PyResult<String> {
    let max = q.maxsize.borrow().clone();
    let mut s = format!("maxsize={}", vm.repr_str(&max)?);
    let items = q.items.borrow().clone();
    if !items.is_undef() && storage_truthy(vm, &items)? {
        let list = match items.downcast::<Deque>() {
            Some(d) => d.snapshot(),
            None => vm.collect(&items)?,
        };
        s.push_str(&format!(" _queue={}", vm.repr_str(&Value::list(list))?));
    }
    let n = q.getters.borrow().len();
    if n > 0 {
        s.push_str(&format!(" _getters[{n}]"));
    }
    let n = q.putters.borrow().len();
    if n > 0 {
        s.push_str(&format!(" _putters[{n}]"));
    }
    let n = q.unfinished.get();
    if n != 0 {
        s.push_str(&format!(" tasks={n}"));
    }
    if q.is_shutdown.get() {
        s.push_str(" shutdown");
    }
    Ok(s)
}

fn do_format(vm: &mut Vm, this: &Value, q: &Queue) -> PyResult<String> {
    if is_exact(this) {
        format(vm, q)
    } else {
        let r = vm.call_method(this, "_format", vec![])?;
        vm.str_of(&r)
    }
}

fn format_method(vm: &mut Vm, args: Args) -> PyResult {
    let q = this(&args)?;
    no_args("Queue._format", &args, 0)?;
    format(vm, &q).map(Value::string)
}

/// `<Queue at 0x... maxsize=1 _queue=[1] tasks=1>`
fn queue_repr(vm: &mut Vm, args: Args) -> PyResult {
    let q = this(&args)?;
    let this = &args.pos[0];
    let body = do_format(vm, this, &q)?;
    Ok(Value::string(format!("<{} at {:#x} {body}>", type_of(this).name().as_str(), this.ptr().unwrap_or(0))))
}

/// `<Queue maxsize=1 _queue=[1] tasks=1>`
fn queue_str(vm: &mut Vm, args: Args) -> PyResult {
    let q = this(&args)?;
    let this = &args.pos[0];
    let body = do_format(vm, this, &q)?;
    Ok(Value::string(format!("<{} {body}>", type_of(this).name().as_str())))
}

// ------------------------------------------------------------ heapq, for PriorityQueue

fn heap_list(v: &Value) -> PyResult<&Rc<PyList>> {
    match v {
        Value::List(l) => Ok(l),
        _ => Err(type_error("heap argument must be a list")),
    }
}

fn changed_size() -> PyErr {
    runtime_error("list changed size during iteration")
}

/// Move the item at `pos` up towards `start` while it is smaller than its parent.
fn sift_down(vm: &mut Vm, heap: &PyList, start: usize, mut pos: usize) -> PyResult<()> {
    let size = heap.len();
    if pos >= size {
        return Err(index_error("index out of range"));
    }
    while pos > start {
        let parent_pos = (pos - 1) >> 1;
        let (new, parent) = {
            let h = heap.borrow();
            (h[pos].clone(), h[parent_pos].clone())
        };
        let lt = vm.lt(&new, &parent)?;
        if heap.len() != size {
            return Err(changed_size());
        }
        if !lt {
            break;
        }
        heap.borrow_mut().swap(parent_pos, pos);
        pos = parent_pos;
    }
    Ok(())
}

/// Move the smaller child up from `pos` until a leaf, then sift that leaf's item down.
fn sift_up(vm: &mut Vm, heap: &PyList, mut pos: usize) -> PyResult<()> {
    let end = heap.len();
    let start = pos;
    let limit = end >> 1;
    while pos < limit {
        let mut child = 2 * pos + 1;
        if child + 1 < end {
            let (a, b) = {
                let h = heap.borrow();
                (h[child].clone(), h[child + 1].clone())
            };
            let lt = vm.lt(&a, &b)?;
            if !lt {
                child += 1;
            }
            if heap.len() != end {
                return Err(changed_size());
            }
        }
        heap.borrow_mut().swap(pos, child);
        pos = child;
    }
    sift_down(vm, heap, start, pos)
}

fn heappush(vm: &mut Vm, heap: &Value, item: Value) -> PyResult<()> {
    let l = heap_list(heap)?;
    l.push(item);
    sift_down(vm, l, 0, l.len() - 1)
}

fn heappop(vm: &mut Vm, heap: &Value) -> PyResult<Value> {
    let l = heap_list(heap)?;
    let Some(last) = l.borrow_mut().pop() else { return Err(index_error("index out of range")) };
    if l.is_empty() {
        return Ok(last);
    }
    let top = std::mem::replace(&mut l.borrow_mut()[0], last);
    sift_up(vm, l, 0)?;
    Ok(top)
}

// ------------------------------------------------------------ get() and put()

/// The coroutine `Queue.get()` or `Queue.put(item)` returns.
pub struct QueueOp {
    queue: Value,
    /// The item of a `put()`; `None` for a `get()`.
    item: Option<Value>,
    coro: Coro,
}

impl QueueOp {
    fn make(vm: &Vm, queue: Value, item: Option<Value>) -> Value {
        Value::object(QueueOp { queue, item, coro: Coro::new(vm) })
    }

    fn name(&self) -> &'static str {
        if self.item.is_some() {
            "Queue.put"
        } else {
            "Queue.get"
        }
    }

    fn waiters<'a>(&self, q: &'a Queue) -> &'a RefCell<VecDeque<Rc<Future>>> {
        if self.item.is_some() {
            &q.putters
        } else {
            &q.getters
        }
    }

    /// Whether the operation must wait: `full()` for a put, `empty()` for a get.
    fn blocked(&self, vm: &mut Vm, q: &Queue) -> PyResult<bool> {
        if self.item.is_some() {
            do_full(vm, &self.queue, q)
        } else {
            do_empty(vm, &self.queue, q)
        }
    }

    /// The `while` loop of `put`/`get`: wait while blocked, then do it.
    fn run(&self, vm: &mut Vm) -> PyResult<Step> {
        let q = qref(&self.queue);
        if self.blocked(vm, &q)? {
            if q.is_shutdown.get() {
                return Err(shut_down());
            }
            let lp = get_loop(vm, &q.loop_, &self.queue)?;
            let named = q.labels.borrow().clone();
            let (get, put) = named.map_or_else(|| LABELS.with(|l| l.clone()), |(g, p, _)| (g, p));
            let label = if self.item.is_some() { put } else { get };
            let fut = new_waiter(lp, &label, false)?;
            self.waiters(&q).borrow_mut().push_back(fut.clone());
            self.coro.wait_on(fut.clone(), runs_as_task(vm, self as *const QueueOp as *const u8));
            return fut.await_send();
        }
        match &self.item {
            Some(item) => do_put_nowait(vm, &self.queue, &q, item.clone()).map(|_| Step::Return(Value::None)),
            None => do_get_nowait(vm, &self.queue, &q).map(Step::Return),
        }
    }

    /// The `except:` block around `await waiter`: withdraw the waiter, and
    /// if it had been woken, pass the wake-up on to the next one.
    fn wait_failed(&self, vm: &mut Vm, fut: &Rc<Future>, e: PyErr) -> PyErr {
        fut.cancel(vm, Value::None);
        let q = qref(&self.queue);
        {
            let mut w = self.waiters(&q).borrow_mut();
            if let Some(i) = w.iter().position(|f| Rc::ptr_eq(f, fut)) {
                w.remove(i);
            }
        }
        match self.blocked(vm, &q) {
            Err(e2) => return e2,
            Ok(false) if !fut.cancelled() => {
                if let Err(e2) = wakeup_next(vm, self.waiters(&q)) {
                    return e2;
                }
            }
            Ok(_) => {}
        }
        e
    }
}

native_coroutine!(QueueOp, |s| s.name());

impl AwaitIter for QueueOp {
    fn send(&self, vm: &mut Vm, _this: &Value, v: Value) -> PyResult<Step> {
        match self.coro.step() {
            CoroState::Created => {
                if !v.is_none() {
                    return Err(type_error("can't send non-None value to a just-started coroutine"));
                }
                self.run(vm)
            }
            CoroState::Waiting(fut) => match await_outcome(&fut) {
                Ok(_) => self.run(vm),
                Err(e) => Err(self.wait_failed(vm, &fut, e)),
            },
            CoroState::Done => Err(runtime_error("cannot reuse already awaited coroutine")),
        }
    }
    fn throw(&self, vm: &mut Vm, _this: &Value, e: PyErr) -> PyResult<Step> {
        match self.coro.step() {
            CoroState::Waiting(fut) => Err(self.wait_failed(vm, &fut, e)),
            _ => Err(e),
        }
    }
    fn close(&self, vm: &mut Vm) {
        if let CoroState::Waiting(fut) = self.coro.step() {
            let _ = self.wait_failed(vm, &fut, err_noargs(&types().exc.generator_exit));
        }
    }
    fn qualname(&self) -> Option<&str> {
        Some(self.name())
    }
    fn origin(&self) -> Option<TbEntry> {
        self.coro.origin()
    }
}

impl Drop for QueueOp {
    fn drop(&mut self) {
        let name = self.name();
        self.coro.warn_if_unstarted(name);
    }
}
