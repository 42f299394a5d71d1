//! Futures and tasks, native, with CPython's observable behaviour: done
//! callbacks scheduled in registration order, `cancel()` delivered at the
//! task's next step, `Task-N` names, `cancelling()`/`uncancel()`, and the
//! step/wake-up protocol that decides the scheduling order. Also the native
//! `sleep()` coroutine.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use smallvec::SmallVec;

use crate::event_loop::{self, Callback, EventLoop};
use crate::exceptions::*;
use crate::generator::{resume, Resume};
use crate::object::*;
use crate::types::{method, new_class, types};
use crate::value::{Value, ValueRef, ValueWord};
use crate::vm::{Halt, Vm};

/// Where a future is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FutState {
    Pending,
    Cancelled,
    Finished,
}

/// What runs when a future completes.
pub enum DoneCallback {
    /// An .aio callable, called with the future.
    Call(Value),
    /// A task waiting on this future.
    Wakeup(Rc<Future>),
}

/// The done callbacks of a future: most have none or exactly one (the task
/// waiting on it), which live inline.
#[derive(Default)]
pub enum Callbacks {
    #[default]
    None,
    One(DoneCallback),
    Many(Box<Vec<DoneCallback>>),
}

impl Callbacks {
    fn push(&mut self, cb: DoneCallback) {
        *self = match std::mem::take(self) {
            Callbacks::None => Callbacks::One(cb),
            Callbacks::One(first) => Callbacks::Many(Box::new(vec![first, cb])),
            Callbacks::Many(mut v) => {
                v.push(cb);
                Callbacks::Many(v)
            }
        }
    }
    /// The callbacks in registration order.
    pub fn as_slice(&self) -> &[DoneCallback] {
        match self {
            Callbacks::None => &[],
            Callbacks::One(c) => std::slice::from_ref(c),
            Callbacks::Many(v) => v,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }
    fn into_vec(self) -> SmallVec<[DoneCallback; 1]> {
        match self {
            Callbacks::None => SmallVec::new(),
            Callbacks::One(c) => smallvec::smallvec![c],
            Callbacks::Many(v) => SmallVec::from_vec(*v),
        }
    }
    /// Keep the callbacks for which `keep` is true (in order); how many went.
    pub fn retain(&mut self, mut keep: impl FnMut(&DoneCallback) -> PyResult<bool>) -> PyResult<usize> {
        let all = std::mem::take(self).into_vec();
        let n = all.len();
        let mut err = None;
        for c in all {
            let k = match &err {
                Some(_) => true,
                None => keep(&c).unwrap_or_else(|e| {
                    err = Some(e);
                    true
                }),
            };
            if k {
                self.push(c);
            }
        }
        let removed = n - self.as_slice().len();
        match err {
            Some(e) => Err(e),
            None => Ok(removed),
        }
    }
}

/// The task part of a future, in three words: a parked task holds one.
/// Its name, when given or asked for, and its count of cancellation
/// requests, when not zero, live in `TASK_EXTRAS`.
pub struct TaskData {
    coro: ValueWord,
    /// The future this task is suspended on.
    fut_waiter: Cell<Option<Rc<Future>>>,
    /// The N of the default name.
    pub number: u32,
    /// Whether `TASK_EXTRAS` has an entry for the task.
    has_extras: Cell<bool>,
    /// A byte with one valid value: the others tell `Ext`'s variants apart
    /// (a `Cell` would hide them).
    _niche: Niche,
}

/// A byte with one valid value (see `TaskData::_niche`).
#[derive(Clone, Copy)]
#[repr(u8)]
enum Niche {
    Only,
}

const _: () = assert!(std::mem::size_of::<TaskData>() == 24);

/// What a task keeps outside its data: its name, when given or asked for
/// (a default name is made from its number once asked), and its count of
/// cancellation requests, when not zero.
#[derive(Default)]
struct TaskExtras {
    name: Option<Rc<PyStr>>,
    num_cancels: u32,
}

thread_local! {
    /// The extras of tasks, by the address of their data.
    static TASK_EXTRAS: RefCell<std::collections::HashMap<usize, TaskExtras>> = RefCell::default();
}

impl TaskData {
    fn new(coro: Value, number: u32) -> TaskData {
        TaskData { coro: ValueWord::new(coro), fut_waiter: Cell::new(None), number, has_extras: Cell::new(false), _niche: Niche::Only }
    }
    /// The task's coroutine.
    pub fn coro(&self) -> ValueRef<'_> {
        self.coro.get()
    }
    /// The task's coroutine, as a new reference.
    pub fn coro_value(&self) -> Value {
        self.coro.value()
    }
    fn key(&self) -> usize {
        self as *const TaskData as usize
    }
    /// Read the task's extras (the defaults when it has none).
    fn extras<R>(&self, f: impl FnOnce(&TaskExtras) -> R) -> R {
        if !self.has_extras.get() {
            return f(&TaskExtras::default());
        }
        TASK_EXTRAS.with(|t| f(t.borrow().get(&self.key()).expect("a task's extras")))
    }
    /// Change the task's extras, made if it has none.
    fn extras_mut<R>(&self, f: impl FnOnce(&mut TaskExtras) -> R) -> R {
        self.has_extras.set(true);
        TASK_EXTRAS.with(|t| f(t.borrow_mut().entry(self.key()).or_default()))
    }
    /// The task's name, made (once) from its number when it has the default one.
    pub fn name_value(&self) -> Value {
        if let Some(n) = self.extras(|e| e.name.clone()) {
            return Value::Str(n);
        }
        let name = Rc::new(PyStr::from_string(format!("Task-{}", self.number)));
        self.set_name_str(name.clone());
        Value::Str(name)
    }
    fn set_name(&self, name: String) {
        self.set_name_str(Rc::new(PyStr::from_string(name)))
    }
    fn set_name_str(&self, name: Rc<PyStr>) {
        // The old name is dropped after the table is let go.
        let old = self.extras_mut(|e| e.name.replace(name));
        drop(old);
    }
    /// The future the task is suspended on, if any.
    pub fn fut_waiter(&self) -> Option<Rc<Future>> {
        let w = self.fut_waiter.take();
        self.fut_waiter.set(w.clone());
        w
    }
    /// The call that made the task's coroutine (for reports): the
    /// coroutine keeps it.
    pub fn origin(&self) -> Option<TbEntry> {
        match &*self.coro() {
            Value::Generator(g) => g.origin(),
            Value::Object(o) => o.await_iter().and_then(|a| a.origin()),
            _ => None,
        }
    }
    pub fn num_cancels(&self) -> u32 {
        self.extras(|e| e.num_cancels)
    }
    fn set_num_cancels(&self, n: u32) {
        if n != 0 || self.has_extras.get() {
            self.extras_mut(|e| e.num_cancels = n);
        }
    }
}

impl Drop for TaskData {
    #[inline]
    fn drop(&mut self) {
        if self.has_extras.get() {
            self.drop_extras();
        }
    }
}

impl TaskData {
    #[cold]
    #[inline(never)]
    fn drop_extras(&self) {
        let key = self.key();
        // (During thread teardown the table may be gone already.)
        let extras = TASK_EXTRAS.try_with(|t| t.borrow_mut().remove(&key));
        drop(extras);
    }
}

/// What a future carries besides the common part: a task's state, or a
/// gathering future's children. Boxed: a plain future pays a word for it.
enum Ext {
    Task(TaskData),
    /// `gather()`'s outer future: cancelling it cancels the futures in
    /// this tuple (the one `gather()` fills its results from, not a copy);
    /// and its label, if given one.
    Gather(Rc<PyTuple>, Cell<Option<Rc<PyStr>>>),
    /// The waiter future of its own of a task parked on this shared
    /// future (see `SHARED`), with the shared future's label.
    WaiterOf(Rc<Future>, Cell<Option<Rc<PyStr>>>),
}

// Bits of `Future::flags`.
const BLOCKING: u16 = 1;
/// An exception nobody looked at yet ("never retrieved").
const LOG_TRACEBACK: u16 = 2;
/// The outcome is an exception (`Slot::Done` holds it).
const HAS_EXCEPTION: u16 = 4;
/// A gathering future whose children were cancelled through it.
const CANCEL_REQUESTED: u16 = 8;
/// A task cancelled by the CancelledError its coroutine raised, which
/// `Slot::Done` holds until it is raised again (once; later ones are new).
const OWN_CANCEL: u16 = 16;
/// The slot is `Slot::Cancelling` (checked at every step of a task).
const CANCELLING: u16 = 32;
/// Completed from outside the program: a socket, a pipe, a child process
/// (a wait on it is I/O, in reports and timelines).
const IO_WAIT: u16 = 64;
/// A future that the tasks waiting on an `asyncio.Event` share, instead of
/// a waiter future each: the tasks register no done callback on it, the
/// event keeps them in its waiters and wakes them itself
/// ([`Future::wake_parked`]). A task parked on it gets a future of its own
/// only when one is needed: to cancel its wait alone, or to show it
/// ([`Future::own_waiter`]).
const SHARED: u16 = 128;
/// A task whose wake-up waits in the ready queue as the task alone: the
/// future it wakes from is its `fut_waiter` (see [`Future::queue_wakeup`]).
const WAKE_QUEUED: u16 = 256;
/// The slot holds `Slot::Cancelling` (see [`SlotRepr`]).
const SLOT_CANCELLING: u16 = 512;
/// The slot holds `Slot::Done`.
const SLOT_DONE: u16 = 1024;

/// What a future holds: while pending its done callbacks, once done its
/// outcome (callbacks are scheduled the moment it is done).
enum Slot {
    Pending(Callbacks),
    /// A task whose cancellation is requested for its next step: the
    /// callbacks and the message (rare, so boxed).
    Cancelling(Box<(Callbacks, Value)>),
    /// Finished: the result, or the exception (`HAS_EXCEPTION`); Cancelled:
    /// the message, or the task's own CancelledError (`OWN_CANCEL`).
    Done(Value),
}

impl Default for Slot {
    fn default() -> Slot {
        Slot::Pending(Callbacks::None)
    }
}

/// An asyncio future; a task when it carries task data.
///
/// Kept small, since a parked task costs a task and the future it waits
/// on: one slot holds whatever the state calls for (the result, the
/// exception, or the cancel message), the flags share a word with the id,
/// and the rarer parts are boxed.
pub struct Future {
    loop_: Rc<Box<dyn NativeObject>>,
    state: Cell<FutState>,
    flags: Cell<u16>,
    /// Creation order: the identity hash, so sets of tasks iterate the same way every run.
    id: u32,
    /// A `Slot`, its variant told by the flags `SLOT_CANCELLING` and
    /// `SLOT_DONE` (see [`Future::take_slot`]).
    slot: std::cell::UnsafeCell<SlotRepr>,
    /// The `Ext`, or the label of a future without one (see [`More`]).
    more: More,
}

// 40 bytes: with the reference counts, a future takes a 64-byte block (a
// parked task holds one, and often the future it waits on another).
const _: () = assert!(std::mem::size_of::<Future>() <= 40);
// 24 bytes: a 24-byte block.
const _: () = assert!(std::mem::size_of::<Ext>() <= 24);

/// A `Slot` in two words: `Slot` itself takes three, since both its
/// pending callbacks and its outcome are values that use every tag of a
/// value's first word. Which field holds a value is in the future's flags.
union SlotRepr {
    pending: std::mem::ManuallyDrop<Callbacks>,
    cancelling: std::mem::ManuallyDrop<Box<(Callbacks, Value)>>,
    done: std::mem::ManuallyDrop<Value>,
}

const _: () = assert!(std::mem::size_of::<SlotRepr>() == 16);

impl SlotRepr {
    fn pending(cbs: Callbacks) -> std::cell::UnsafeCell<SlotRepr> {
        std::cell::UnsafeCell::new(SlotRepr { pending: std::mem::ManuallyDrop::new(cbs) })
    }
}

/// What a future carries besides its slot, in one word: nothing, its
/// `Ext` (a task's data, a gathering future's children, ...), or for a
/// future without one its label ("Queue.get", "sleep(1.0)": what a task
/// waiting on it waits for), each the pointer of its box or `Rc` with the
/// low bit telling them apart (a label's is set). A future with an `Ext`
/// keeps its label there.
struct More(Cell<*const u8>);

const _: () = assert!(std::mem::align_of::<Ext>() >= 2 && std::mem::align_of::<PyStr>() >= 2);

impl More {
    fn new(ext: Option<Box<Ext>>) -> More {
        More(Cell::new(ext.map_or(std::ptr::null(), |b| Box::into_raw(b).cast_const().cast())))
    }
    fn ext(&self) -> Option<&Ext> {
        let p = self.0.get();
        if p.is_null() || p as usize & 1 != 0 {
            return None;
        }
        // SAFETY: an even non-null word is the `Box<Ext>` `new` made,
        // freed only by `take`.
        Some(unsafe { &*p.cast::<Ext>() })
    }
    /// The label of a future without an `Ext`: the word's `Rc`, whose
    /// count the caller must leave as it is (`ManuallyDrop`).
    fn own_label(&self) -> Option<std::mem::ManuallyDrop<Rc<PyStr>>> {
        let p = self.0.get();
        if p as usize & 1 == 0 {
            return None;
        }
        // SAFETY: an odd word is an `Rc<PyStr>`'s pointer with the low bit set.
        Some(std::mem::ManuallyDrop::new(unsafe { Rc::from_raw(p.map_addr(|a| a & !1).cast::<PyStr>()) }))
    }
    fn label_cell(&self) -> Option<&Cell<Option<Rc<PyStr>>>> {
        match self.ext()? {
            Ext::Gather(_, l) | Ext::WaiterOf(_, l) => Some(l),
            Ext::Task(_) => None,
        }
    }
    fn label(&self) -> Option<Rc<PyStr>> {
        if let Some(l) = self.own_label() {
            return Some(Rc::clone(&l));
        }
        let cell = self.label_cell()?;
        let l = cell.take();
        cell.set(l.clone());
        l
    }
    fn set_label(&self, label: Rc<PyStr>) {
        if let Some(cell) = self.label_cell() {
            cell.set(Some(label));
            return;
        }
        // Tasks are never labelled (they are awaited as themselves).
        debug_assert!(self.ext().is_none(), "a task is not labelled");
        if self.ext().is_none() {
            let old = self.own_label().map(std::mem::ManuallyDrop::into_inner);
            self.0.set(Rc::into_raw(label).cast::<u8>().map_addr(|a| a | 1));
            drop(old);
        }
    }
    /// The word's contents, leaving it empty.
    fn take(&self) -> (Option<Box<Ext>>, Option<Rc<PyStr>>) {
        let label = self.own_label().map(std::mem::ManuallyDrop::into_inner);
        // SAFETY: the word owned the box, and is emptied below.
        let ext = self.ext().map(|e| unsafe { Box::from_raw((e as *const Ext).cast_mut()) });
        self.0.set(std::ptr::null());
        (ext, label)
    }
}

thread_local! {
    static CLASSES: (Rc<Class>, Rc<Class>) = {
        let t = types();
        // CPython's tasks and futures are its C accelerator's types.
        let fut = new_class("Future", std::slice::from_ref(&t.object), Layout::Builtin, None);
        fut.dict.set_str("__module__", Value::str("_asyncio"));
        let task = new_class("Task", std::slice::from_ref(&fut), Layout::Builtin, None);
        task.dict.set_str("__module__", Value::str("_asyncio"));
        install_future_methods(&fut);
        install_task_methods(&task);
        (fut, task)
    };
    static TASK_COUNTER: Cell<u32> = const { Cell::new(0) };
    static TASK_IDS: Cell<u32> = const { Cell::new(0) };
}

fn next_id() -> u32 {
    TASK_IDS.with(|c| {
        c.set(c.get().wrapping_add(1));
        c.get()
    })
}

/// The `asyncio.Future` class.
pub fn future_class() -> Rc<Class> {
    CLASSES.with(|c| c.0.clone())
}
/// The `asyncio.Task` class.
pub fn task_class() -> Rc<Class> {
    CLASSES.with(|c| c.1.clone())
}

impl Future {
    /// A pending future on the loop `loop_` (an event loop value).
    pub fn new(loop_: Value, task: Option<TaskData>) -> Rc<Future> {
        Future::with_ext(loop_, task.map(|t| Box::new(Ext::Task(t))))
    }

    /// `gather()`'s outer future, whose `cancel()` cancels the futures in `children`.
    pub fn new_gathering(loop_: Value, children: Rc<PyTuple>) -> Rc<Future> {
        Future::with_ext(loop_, Some(Box::new(Ext::Gather(children, Cell::new(None)))))
    }

    /// A future for the tasks waiting on an event to share (see `SHARED`),
    /// labelled with what they wait for.
    pub fn new_shared(loop_: Value, label: Rc<PyStr>) -> Rc<Future> {
        let f = Future::with_ext(loop_, None);
        f.set_flag(SHARED, true);
        f.set_label(label);
        f
    }

    /// Is this a future that the waits of an event share?
    pub fn is_shared(&self) -> bool {
        self.flag(SHARED)
    }

    /// For a future made by [`Future::own_waiter`]: the shared future it
    /// stands for.
    pub fn waiter_of(&self) -> Option<&Rc<Future>> {
        match self.more.ext() {
            Some(Ext::WaiterOf(s, _)) => Some(s),
            _ => None,
        }
    }

    /// The future the task `self` waits on, as a future of its own: a
    /// task parked on a pending shared future gets one now, which takes
    /// the shared future's place (with the task's wake-up as its done
    /// callback), as if the wait had made it from the start.
    // Out of line: `task_step` calls it only for a cancelled task, and
    // inlined it grew the step enough that its other helpers were not.
    #[cold]
    #[inline(never)]
    pub fn own_waiter(self: &Rc<Self>, w: Rc<Future>) -> Rc<Future> {
        let Some(t) = self.task() else { return w };
        if !w.is_shared() || w.done() || !t.fut_waiter().is_some_and(|f| Rc::ptr_eq(&f, &w)) {
            return w;
        }
        let label = Cell::new(w.label());
        let own = Rc::new(Future {
            loop_: w.loop_.clone(),
            state: Cell::new(FutState::Pending),
            flags: Cell::new(0),
            // No id of its own: its wait took one when it parked (see
            // `skip_id`), and the ids of later futures must not move.
            id: w.id,
            slot: SlotRepr::pending(Callbacks::One(DoneCallback::Wakeup(self.clone()))),
            more: More::new(Some(Box::new(Ext::WaiterOf(w, label)))),
        });
        t.fut_waiter.set(Some(own.clone()));
        own
    }

    /// May the wake-up of the task `self` from `fut` wait in the ready
    /// queue as the task alone? Yes when `fut` is the future the task is
    /// parked on, which it stays parked on until the wake-up runs (only a
    /// step of the task parks it elsewhere, and a waiter future of its own
    /// replaces only a pending one), unless a wake-up queued so is
    /// already waiting: a task listed twice by an event is woken twice,
    /// and the second wake-up must see the first one's step.
    pub fn queue_wakeup(&self, fut: &Rc<Future>) -> bool {
        let Some(t) = self.task() else { return false };
        if self.flag(WAKE_QUEUED) || !t.fut_waiter().is_some_and(|w| Rc::ptr_eq(&w, fut)) {
            return false;
        }
        self.set_flag(WAKE_QUEUED, true);
        true
    }

    /// The future a wake-up queued by [`Future::queue_wakeup`] wakes the
    /// task `self` from, as the wake-up is taken from the queue to run.
    pub fn take_queued_wakeup(&self) -> Rc<Future> {
        self.set_flag(WAKE_QUEUED, false);
        self.queued_wakeup()
    }

    /// The future the queued wake-up of the task `self` wakes it from.
    pub fn queued_wakeup(&self) -> Rc<Future> {
        self.task().and_then(|t| t.fut_waiter()).expect("a task with a queued wake-up is parked")
    }

    /// The shared future `self` completed: wake `task`, parked on it,
    /// as its waiter future of its own would have (see `SHARED`).
    pub fn wake_parked(self: &Rc<Self>, vm: &mut Vm, task: &Rc<Future>) {
        crate::trace::trace_wakes(vm, task, self);
        self.event_loop().call_soon(Callback::Wakeup(task.clone(), self.clone()));
    }

    fn with_ext(loop_: Value, ext: Option<Box<Ext>>) -> Rc<Future> {
        let Value::Object(loop_) = loop_ else { panic!("a future's loop is an event loop") };
        Rc::new(Future {
            loop_,
            state: Cell::new(FutState::Pending),
            flags: Cell::new(0),
            id: next_id(),
            slot: SlotRepr::pending(Callbacks::None),
            more: More::new(ext),
        })
    }

    /// The pending future's done callbacks: a waiting task as the task,
    /// the others as the callables they are.
    pub fn callbacks(&self) -> Vec<Value> {
        self.with_slot(|s| {
            let cbs = match s {
                Slot::Pending(cbs) => cbs,
                Slot::Cancelling(b) => &b.0,
                Slot::Done(_) => return vec![],
            };
            cbs.as_slice()
                .iter()
                .map(|c| match c {
                    DoneCallback::Wakeup(t) => Value::Future(t.clone()),
                    DoneCallback::Call(v) => v.clone(),
                })
                .collect()
        })
    }

    /// The identity hash.
    pub fn id(&self) -> u64 {
        self.id as u64
    }
    pub fn state(&self) -> FutState {
        self.state.get()
    }
    /// The task data, for a task.
    pub fn task(&self) -> Option<&TaskData> {
        match self.more.ext() {
            Some(Ext::Task(t)) => Some(t),
            _ => None,
        }
    }
    pub fn is_task(&self) -> bool {
        self.task().is_some()
    }
    /// For `gather()`'s outer future: the children.
    pub fn gather_children(&self) -> Option<Vec<Rc<Future>>> {
        match self.more.ext() {
            Some(Ext::Gather(k, _)) => {
                Some(k.items.iter().filter_map(|c| if let Value::Future(f) = c { Some(f.clone()) } else { None }).collect())
            }
            _ => None,
        }
    }
    /// Is this `gather()`'s outer future?
    pub fn is_gathering(&self) -> bool {
        matches!(self.more.ext(), Some(Ext::Gather(..)))
    }
    pub fn done(&self) -> bool {
        self.state.get() != FutState::Pending
    }
    pub fn cancelled(&self) -> bool {
        self.state.get() == FutState::Cancelled
    }

    fn flag(&self, bit: u16) -> bool {
        self.flags.get() & bit != 0
    }
    fn set_flag(&self, bit: u16, on: bool) {
        let f = self.flags.get();
        self.flags.set(if on { f | bit } else { f & !bit });
    }
    /// `_asyncio_future_blocking`.
    pub fn blocking(&self) -> bool {
        self.flag(BLOCKING)
    }
    pub fn set_blocking(&self, on: bool) {
        self.set_flag(BLOCKING, on)
    }
    /// Whether an exception of this future still waits to be looked at.
    pub fn set_log_traceback(&self, on: bool) {
        self.set_flag(LOG_TRACEBACK, on)
    }
    /// Work on the slot, taken out meanwhile (`f` must not touch it).
    fn with_slot<R>(&self, f: impl FnOnce(&mut Slot) -> R) -> R {
        let mut s = self.take_slot();
        let r = f(&mut s);
        self.put_slot(s);
        r
    }
    /// The slot's contents, leaving it `Slot::Pending` with no callbacks.
    fn take_slot(&self) -> Slot {
        let f = self.flags.get();
        self.flags.set(f & !(SLOT_CANCELLING | SLOT_DONE));
        // SAFETY: the flags tell which field holds a value (`replace_slot`
        // set them with it); it moves out, and the empty callbacks take its
        // place. No reference into the slot outlives these methods.
        unsafe {
            let r = &mut *self.slot.get();
            let s = if f & SLOT_DONE != 0 {
                Slot::Done(std::mem::ManuallyDrop::take(&mut r.done))
            } else if f & SLOT_CANCELLING != 0 {
                Slot::Cancelling(std::mem::ManuallyDrop::take(&mut r.cancelling))
            } else {
                Slot::Pending(std::mem::ManuallyDrop::take(&mut r.pending))
            };
            r.pending = std::mem::ManuallyDrop::new(Callbacks::None);
            s
        }
    }
    /// Put `s` in the slot, returning what it held (dropped by the caller,
    /// after the slot is whole again: a drop may run .aio code).
    fn replace_slot(&self, s: Slot) -> Slot {
        let old = self.take_slot();
        self.put_slot(s);
        old
    }
    /// Put `s` in the slot emptied by `take_slot` (what it holds then, the
    /// empty callbacks, owns nothing and is overwritten).
    fn put_slot(&self, s: Slot) {
        debug_assert!(self.flags.get() & (SLOT_CANCELLING | SLOT_DONE) == 0);
        // SAFETY: the slot holds the empty callbacks `take_slot` left,
        // which own nothing; the flag set tells which field is written.
        let bit = unsafe {
            let r = &mut *self.slot.get();
            match s {
                Slot::Pending(c) => {
                    r.pending = std::mem::ManuallyDrop::new(c);
                    0
                }
                Slot::Cancelling(b) => {
                    r.cancelling = std::mem::ManuallyDrop::new(b);
                    SLOT_CANCELLING
                }
                Slot::Done(v) => {
                    r.done = std::mem::ManuallyDrop::new(v);
                    SLOT_DONE
                }
            }
        };
        self.flags.set(self.flags.get() | bit);
    }
    /// The message of a cancellation requested for a task's next step.
    fn cancel_request(&self) -> Option<Value> {
        if !self.must_cancel() {
            return None;
        }
        self.with_slot(|s| match s {
            Slot::Cancelling(b) => Some(b.1.clone()),
            _ => None,
        })
    }
    /// A task that will be cancelled at its next step.
    pub fn must_cancel(&self) -> bool {
        self.flag(CANCELLING)
    }
    /// Request the cancellation of a task at its next step.
    fn request_cancel(&self, msg: Value) {
        if self.done() {
            return;
        }
        self.set_flag(CANCELLING, true);
        self.with_slot(|s| {
            *s = match std::mem::take(s) {
                Slot::Pending(cbs) => Slot::Cancelling(Box::new((cbs, msg))),
                Slot::Cancelling(mut b) => {
                    b.1 = msg;
                    Slot::Cancelling(b)
                }
                done => done,
            }
        })
    }
    /// Withdraw the requested cancellation, returning its message.
    fn take_cancel_request(&self) -> Option<Value> {
        if !self.must_cancel() {
            return None;
        }
        self.set_flag(CANCELLING, false);
        self.with_slot(|s| match std::mem::take(s) {
            Slot::Cancelling(b) => {
                let (cbs, msg) = *b;
                *s = Slot::Pending(cbs);
                Some(msg)
            }
            other => {
                *s = other;
                None
            }
        })
    }
    /// A gathering future whose children were cancelled through it.
    pub fn cancel_requested(&self) -> bool {
        self.flag(CANCEL_REQUESTED)
    }

    /// The outcome of a done future (None while pending).
    fn outcome(&self) -> Value {
        if self.flags.get() & SLOT_DONE == 0 {
            return Value::None;
        }
        // SAFETY: the flag tells that `done` holds the outcome; cloning a
        // value runs no code, so nothing touches the slot meanwhile.
        unsafe { (*(*self.slot.get()).done).clone() }
    }
    /// The exception of a future finished with one.
    pub fn exception(&self) -> Option<PyErr> {
        if self.state.get() != FutState::Finished || !self.flag(HAS_EXCEPTION) {
            return None;
        }
        match self.outcome() {
            Value::Instance(i) => Some(PyErr(i)),
            _ => None,
        }
    }
    /// The message of a cancelled future (or of a cancellation requested of a task).
    pub fn cancel_message(&self) -> Value {
        match self.state.get() {
            FutState::Finished => Value::None,
            FutState::Pending => self.cancel_request().unwrap_or(Value::None),
            FutState::Cancelled if self.flag(OWN_CANCEL) => Value::None,
            FutState::Cancelled => self.outcome(),
        }
    }

    /// What a task waiting on this future waits for, if labelled.
    pub fn label(&self) -> Option<Rc<PyStr>> {
        self.more.label()
    }
    pub fn set_label(&self, label: Rc<PyStr>) {
        self.more.set_label(label)
    }
    /// Is this a wait on I/O or a child process?
    pub fn io_wait(&self) -> bool {
        self.flag(IO_WAIT)
    }
    /// Mark this as a wait on I/O or a child process.
    pub fn set_io_wait(&self) {
        self.set_flag(IO_WAIT, true)
    }

    /// The loop, as a value.
    pub fn loop_value(&self) -> Value {
        Value::Object(self.loop_.clone())
    }
    pub fn event_loop(&self) -> &EventLoop {
        self.loop_.as_any().downcast_ref::<EventLoop>().expect("a loop")
    }
    /// The task's name (`Task-3`).
    pub fn name(&self) -> String {
        match self.task() {
            Some(t) => match &t.name_value() {
                Value::Str(s) => s.as_str().to_string(),
                _ => "Task".into(),
            },
            None => "Future".into(),
        }
    }

    /// The CancelledError to raise for a cancelled future.
    pub fn make_cancelled_error(&self) -> PyErr {
        // A task cancelled by its own CancelledError re-raises that one (message included), once.
        if self.flag(OWN_CANCEL) {
            self.set_flag(OWN_CANCEL, false);
            let own = self.with_slot(|s| std::mem::replace(s, Slot::Done(Value::None)));
            if let Slot::Done(Value::Instance(e)) = own {
                return PyErr(e);
            }
        }
        let msg = self.cancel_message();
        if msg.is_none() {
            err_noargs(&types().exc.cancelled_error)
        } else {
            PyErr(new_exception(&types().exc.cancelled_error, vec![msg]))
        }
    }

    /// Complete the future with `outcome` in `state`, then move the
    /// callbacks to the loop's ready queue, in registration order.
    fn finish(self: &Rc<Self>, vm: &mut Vm, state: FutState, outcome: Value) {
        self.state.set(state);
        self.set_flag(CANCELLING, false);
        let cbs = match self.replace_slot(Slot::Done(outcome)) {
            Slot::Pending(cbs) => cbs,
            Slot::Cancelling(b) => b.0,
            Slot::Done(_) => Callbacks::None,
        };
        let lp = self.event_loop();
        if self.is_task() {
            crate::context::detach(lp, self);
        }
        for cb in cbs.into_vec() {
            let c = match cb {
                DoneCallback::Call(f) => Callback::call(f, [Value::Future(self.clone())]),
                DoneCallback::Wakeup(t) => {
                    crate::trace::trace_wakes(vm, &t, self);
                    Callback::Wakeup(t, self.clone())
                }
            };
            lp.call_soon(c);
        }
    }

    pub fn set_result(self: &Rc<Self>, vm: &mut Vm, v: Value) -> PyResult<()> {
        if self.done() {
            return Err(err(&types().exc.invalid_state_error, "invalid state"));
        }
        self.finish(vm, FutState::Finished, v);
        Ok(())
    }

    pub fn set_exception(self: &Rc<Self>, vm: &mut Vm, e: PyErr) -> PyResult<()> {
        if self.done() {
            return Err(err(&types().exc.invalid_state_error, "invalid state"));
        }
        if e.class().name().as_str() == "StopIteration" && std::ptr::eq(&*e.class(), &*types().exc.stop_iteration) {
            return Err(type_error("StopIteration interacts badly with generators and cannot be raised into a Future"));
        }
        self.set_flag(HAS_EXCEPTION | LOG_TRACEBACK, true);
        self.finish(vm, FutState::Finished, e.value());
        Ok(())
    }

    /// `Future.cancel()` (the future part; tasks go through `task_cancel`).
    pub fn cancel_future(self: &Rc<Self>, vm: &mut Vm, msg: Value) -> bool {
        self.set_log_traceback(false);
        if self.done() {
            return false;
        }
        self.finish(vm, FutState::Cancelled, msg);
        true
    }

    /// `cancel()` for futures and tasks.
    pub fn cancel(self: &Rc<Self>, vm: &mut Vm, msg: Value) -> bool {
        if let Some(kids) = self.gather_children() {
            if self.done() {
                return false;
            }
            let mut any = false;
            for k in kids {
                if k.cancel(vm, msg.clone()) {
                    any = true;
                }
            }
            if any {
                self.set_flag(CANCEL_REQUESTED, true);
            }
            return any;
        }
        let Some(t) = self.task() else { return self.cancel_future(vm, msg) };
        self.set_log_traceback(false);
        if self.done() {
            return false;
        }
        t.set_num_cancels(t.num_cancels() + 1);
        if let Some(w) = t.fut_waiter() {
            if self.own_waiter(w).cancel(vm, msg.clone()) {
                return true;
            }
        }
        self.request_cancel(msg);
        true
    }

    /// What `result()` of a done future raises, if anything (without copying the result).
    pub fn error(&self) -> Option<PyErr> {
        match self.state.get() {
            FutState::Cancelled => Some(self.make_cancelled_error()),
            FutState::Pending => Some(err(&types().exc.invalid_state_error, "Result is not set.")),
            FutState::Finished => {
                self.set_log_traceback(false);
                self.exception()
            }
        }
    }

    /// `result()`.
    pub fn get_result(&self) -> PyResult<Value> {
        match self.state.get() {
            FutState::Cancelled => Err(self.make_cancelled_error()),
            FutState::Pending => Err(err(&types().exc.invalid_state_error, "Result is not set.")),
            FutState::Finished => {
                self.set_log_traceback(false);
                if let Some(e) = self.exception() {
                    return Err(e);
                }
                Ok(self.outcome())
            }
        }
    }

    pub fn add_done_callback(self: &Rc<Self>, vm: &mut Vm, cb: DoneCallback) {
        let _ = vm;
        if self.done() {
            let c = match cb {
                DoneCallback::Call(f) => Callback::call(f, [Value::Future(self.clone())]),
                DoneCallback::Wakeup(t) => Callback::Wakeup(t, self.clone()),
            };
            self.event_loop().call_soon(c);
        } else {
            self.with_slot(|s| match s {
                Slot::Pending(cbs) => cbs.push(cb),
                Slot::Cancelling(b) => b.0.push(cb),
                Slot::Done(_) => {}
            });
        }
    }

    /// Remove the done callbacks for which `drop` is true; how many went.
    pub fn remove_callbacks(&self, mut drop: impl FnMut(&DoneCallback) -> PyResult<bool>) -> PyResult<usize> {
        // Taken out while deciding: `drop` may run .aio code (`__eq__`),
        // which may add callbacks of its own (kept after ours).
        let mut cbs = self.with_slot(|s| match s {
            Slot::Pending(cbs) => std::mem::take(cbs),
            Slot::Cancelling(b) => std::mem::take(&mut b.0),
            Slot::Done(_) => Callbacks::None,
        });
        let r = cbs.retain(|c| drop(c).map(|d| !d));
        self.with_slot(|s| {
            let added = match s {
                Slot::Pending(cbs) => cbs,
                Slot::Cancelling(b) => &mut b.0,
                Slot::Done(_) => return,
            };
            for c in std::mem::take(added).into_vec() {
                cbs.push(c);
            }
            *added = cbs;
        });
        r
    }
}

impl Drop for Future {
    fn drop(&mut self) {
        if self.flag(LOG_TRACEBACK) {
            self.report_never_retrieved();
        }
        // The slot and `more` own what they hold (see `SlotRepr`, `More`).
        drop(self.take_slot());
        drop(self.more.take());
    }
}

impl Future {
    /// The report of an exception nobody looked at, as the future goes.
    fn report_never_retrieved(&self) {
        let Some(e) = self.exception() else { return };
        let what = if self.is_task() { "Task" } else { "Future" };
        // A loop with an exception handler of the program's gets the report:
        // the future lives on in the context it is handed.
        if self.loop_.as_any().downcast_ref::<EventLoop>().is_some_and(EventLoop::has_exception_handler) {
            let fut = Rc::new(Future {
                loop_: self.loop_.clone(),
                state: Cell::new(self.state.get()),
                flags: Cell::new(self.flags.get() & !LOG_TRACEBACK),
                id: self.id,
                slot: SlotRepr::pending(Callbacks::None),
                more: More::new(self.more.take().0),
            });
            fut.flags.set(fut.flags.get() & !(SLOT_CANCELLING | SLOT_DONE));
            drop(fut.replace_slot(self.take_slot()));
            let ctx = PyDict::new();
            ctx.set_str("message", Value::str(&format!("{what} exception was never retrieved")));
            ctx.set_str("exception", e.value());
            ctx.set_str("future", Value::Future(fut));
            event_loop::defer_report(Value::Object(self.loop_.clone()), Value::Dict(Rc::new(ctx)));
            return;
        }
        let mut msg = format!("{what} exception was never retrieved\n");
        // No VM here: describe the exception from its arguments as plain values.
        let args: Vec<String> = e.args().iter().map(crate::types::debug_repr).collect();
        let exc_repr = format!("{}({})", e.class().name().as_str(), args.join(", "));
        match self.task() {
            Some(t) => {
                let name = match &t.name_value() {
                    Value::Str(s) => s.as_str().to_string(),
                    _ => String::new(),
                };
                let coro = coro_repr(&t.coro(), true);
                msg.push_str(&format!("future: <Task finished name='{name}' coro=<{coro}> exception={exc_repr}>\n"));
                if let Some(o) = t.origin().filter(|o| !o.code.source.name.starts_with('<')) {
                    let line = o.code.line_at(o.ip as usize);
                    let text = o.code.source.line_text(line).trim();
                    msg.push_str(&format!("{name} was created at {}:{line}: {text}\n", o.code.source.name));
                }
            }
            None => msg.push_str(&format!("future: <Future finished exception={exc_repr}>\n")),
        }
        msg.push_str(&crate::diagnostic::plain_traceback(&e));
        crate::diagnostic::emit_warning(&msg);
    }
}

/// Make a task for a coroutine on a loop and schedule its first step; it
/// runs in a copy of the current context.
pub fn create_task(vm: &mut Vm, loop_v: &Value, coro: Value, name: Option<Value>) -> PyResult<Rc<Future>> {
    create_task_in(vm, loop_v, coro, name, None)
}

/// `create_task(coro, name=..., context=...)`: a task that runs in `context`
/// (a `contextvars.Context`), or in a copy of the current one when None.
pub fn create_task_in(vm: &mut Vm, loop_v: &Value, coro: Value, name: Option<Value>, context: Option<Value>) -> PyResult<Rc<Future>> {
    create_task_opts(vm, loop_v, coro, name, context, false)
}

/// [`create_task_in`], and with `eager` (3.12's `eager_start=True`) the
/// first step runs now, inside the call, when the loop is running: a
/// coroutine that finishes without suspending is never scheduled.
pub fn create_task_opts(
    vm: &mut Vm,
    loop_v: &Value,
    coro: Value,
    name: Option<Value>,
    context: Option<Value>,
    eager: bool,
) -> PyResult<Rc<Future>> {
    let is_coro = match &coro {
        Value::Generator(g) => g.kind == GenKind::Coroutine,
        Value::Object(o) => o.await_iter().is_some(),
        _ => false,
    };
    if !is_coro {
        return Err(type_error(format!("a coroutine was expected, got {}", vm.repr_str(&coro)?)));
    }
    let lp = loop_v.downcast::<EventLoop>().ok_or_else(|| runtime_error("no event loop"))?;
    if lp.closed.get() {
        return Err(runtime_error("Event loop is closed"));
    }
    // Every task takes a number, named or not (as CPython's C tasks do).
    let n = TASK_COUNTER.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let name = match name {
        Some(Value::None) | None => None,
        Some(v) => Some(Rc::new(PyStr::from_string(vm.str_of(&v)?))),
    };
    // A task used to take an id of its own besides its future's: skipping
    // one keeps the hashes of tasks, and so the order of sets of tasks.
    next_id();
    let task = Future::new(loop_v.clone(), Some(TaskData::new(coro, n)));
    if let Some(name) = name {
        task.task().expect("a task").set_name_str(name);
    }
    let context = match context {
        Some(c) if !c.is_none() => {
            if c.downcast::<crate::context::Context>().is_none() {
                return Err(type_error(format!("an instance of Context was expected, got {}", vm.repr_str(&c)?)));
            }
            c
        }
        _ => crate::context::copy_current(vm),
    };
    crate::context::attach(lp, &task, context);
    lp.register_task(&task);
    if eager && lp.running.get() {
        crate::event_loop::trace_created(vm, &task);
        task_step(vm, &task, None)?;
        return Ok(task);
    }
    lp.call_soon(Callback::Step(task.clone(), None));
    crate::event_loop::trace_created(vm, &task);
    Ok(task)
}

/// One step of a task: resume its coroutine, then act on what it yielded.
pub fn task_step(vm: &mut Vm, task: &Rc<Future>, exc: Option<PyErr>) -> PyResult<()> {
    let t = task.task().expect("a task");
    if task.done() {
        return Ok(());
    }
    let mut exc = exc;
    if task.must_cancel() {
        if !exc.as_ref().is_some_and(|e| e.is(&types().exc.cancelled_error)) {
            exc = Some(task.make_cancelled_error());
        }
        task.take_cancel_request();
    }
    t.fut_waiter.set(None);
    let lp = task.event_loop();
    let outer_context = crate::context::enter(vm, lp, task);
    let prev = lp.current.replace(Some(task.clone()));
    crate::event_loop::trace_step(vm, task, exc.as_ref());
    let coro = t.coro_value();
    let result = match &coro {
        Value::Generator(g) => match exc {
            None => resume(vm, g, Resume::Send(Value::None)),
            Some(e) => resume(vm, g, Resume::Throw(e)),
        },
        Value::Object(o) => {
            let ai = o.await_iter().expect("awaitable");
            let r = match exc {
                None => ai.send(vm, &coro, Value::None),
                Some(e) => ai.throw(vm, &coro, e),
            };
            r.map(|s| match s {
                Step::Yield(v) => Halt::Yield(v, false),
                Step::Return(v) => Halt::Return(v),
            })
        }
        _ => Err(type_error("task coroutine is not a coroutine")),
    };
    // Generators the step dropped are closed now, before the task's result
    // wakes anyone (CPython closes them as their frames are freed).
    if crate::generator::finalizers_due() {
        crate::generator::run_finalizers(vm);
    }
    *lp.current.borrow_mut() = prev;
    crate::context::leave(vm, lp, task, outer_context);
    match result {
        Ok(Halt::Return(v)) => {
            if let Some(msg) = task.take_cancel_request() {
                task.cancel_future(vm, msg);
            } else {
                task.set_result(vm, v)?;
            }
            crate::event_loop::trace_done(vm, task);
        }
        Ok(Halt::Yield(v, _)) => match &v {
            Value::Future(f) => {
                if !f.blocking() {
                    let r = vm.repr_str(&Value::Future(task.clone()))?;
                    let fr = vm.repr_str(&v)?;
                    let e = runtime_error(format!("yield was used instead of yield from in task {r} with {fr}"));
                    lp.call_soon(Callback::Step(task.clone(), Some(e)));
                } else if Rc::ptr_eq(f, task) {
                    let r = vm.repr_str(&v)?;
                    let e = runtime_error(format!("Task cannot await on itself: {r}"));
                    lp.call_soon(Callback::Step(task.clone(), Some(e)));
                } else {
                    f.set_blocking(false);
                    // A shared future's waiters are woken by its event.
                    if !f.is_shared() {
                        f.add_done_callback(vm, DoneCallback::Wakeup(task.clone()));
                    }
                    t.fut_waiter.set(Some(f.clone()));
                    crate::event_loop::trace_suspend(vm, task, f);
                    if let Some(msg) = task.cancel_request() {
                        if task.own_waiter(f.clone()).cancel(vm, msg) {
                            task.take_cancel_request();
                        }
                    }
                }
            }
            Value::None => {
                crate::event_loop::trace_yield(vm, task);
                lp.call_soon(Callback::Step(task.clone(), None));
            }
            other => {
                let r = vm.repr_str(other)?;
                let e = runtime_error(format!("Task got bad yield: {r}"));
                lp.call_soon(Callback::Step(task.clone(), Some(e)));
            }
        },
        Ok(Halt::Blocked) => return Err(runtime_error("task blocked")),
        Err(e) => {
            let tt = types();
            if e.is(&tt.exc.cancelled_error) {
                task.set_flag(OWN_CANCEL, true);
                task.cancel_future(vm, e.value());
                crate::event_loop::trace_done(vm, task);
            } else if e.is(&tt.exc.keyboard_interrupt) || e.is(&tt.exc.system_exit) {
                INTERRUPTED_TASK.with(|t| *t.borrow_mut() = Some(task.clone()));
                task.set_exception(vm, e.clone())?;
                task.set_log_traceback(false);
                return Err(e);
            } else {
                crate::trace::note_task_failed(task, &e);
                task.set_exception(vm, e)?;
                crate::event_loop::trace_done(vm, task);
            }
        }
    }
    crate::trace::trace_step_end(vm, task);
    Ok(())
}

thread_local! {
    /// The last task a `KeyboardInterrupt` or `SystemExit` ended.
    static INTERRUPTED_TASK: std::cell::RefCell<Option<Rc<Future>>> = const { std::cell::RefCell::new(None) };
}

/// The task the last `KeyboardInterrupt` (or `SystemExit`) escaping the
/// loop came from, taken.
pub fn take_interrupted_task() -> Option<Rc<Future>> {
    INTERRUPTED_TASK.with(|t| t.borrow_mut().take())
}

/// A task wakes: the future it waited on is done.
pub fn task_wakeup(vm: &mut Vm, task: &Rc<Future>, fut: &Rc<Future>) -> PyResult<()> {
    if fut.is_shared() && !stays_parked(task, fut) {
        return Ok(());
    }
    crate::event_loop::trace_wake(vm, task, fut);
    match fut.error() {
        None => task_step(vm, task, None),
        Some(e) => {
            crate::trace::note_task_got(task, fut, &e);
            task_step(vm, task, Some(e))
        }
    }
}

/// Is `task` still parked on the shared future `fut`? A task listed twice
/// by an event (a wait driven by hand, then one awaited) is woken once.
#[inline(never)]
fn stays_parked(task: &Future, fut: &Rc<Future>) -> bool {
    task.task().and_then(|t| t.fut_waiter()).is_some_and(|w| Rc::ptr_eq(&w, fut))
}

/// Take an id as a new future would: a wait parked on a shared future
/// takes the one its waiter future of its own took, so the ids (the
/// hashes, and so the order of sets of futures) of later futures and
/// tasks stay as they were.
pub fn skip_id() {
    next_id();
}

// ------------------------------------------------------------ await

impl Future {
    /// `await fut`: suspend until done, then return the result.
    pub fn await_send(self: &Rc<Self>) -> PyResult<Step> {
        if !self.done() {
            self.set_blocking(true);
            return Ok(Step::Yield(Value::Future(self.clone())));
        }
        self.get_result().map(Step::Return)
    }
}

// ------------------------------------------------------------ sleep

/// The coroutine `asyncio.sleep(delay, result)` returns.
pub struct Sleep {
    pub delay: f64,
    pub result: Value,
    state: RefCell<SleepState>,
    origin: Option<TbEntry>,
}

enum SleepState {
    Created,
    /// `sleep(0)`: one bare yield.
    Yielded,
    Waiting {
        fut: Rc<Future>,
        handle: Rc<event_loop::Handle>,
    },
    Done,
}

impl Sleep {
    pub fn make(vm: &Vm, delay: f64, result: Value) -> Value {
        let origin = vm.frames.last().map(|fr| TbEntry { code: fr.code.clone(), ip: fr.ip.saturating_sub(1) as u32 });
        Value::object(Sleep { delay, result, state: RefCell::new(SleepState::Created), origin })
    }
}

impl NativeObject for Sleep {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        native_coroutine_class()
    }
    fn await_iter(&self) -> Option<&dyn AwaitIter> {
        Some(self)
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<coroutine object sleep at {:#x}>", self as *const Sleep as usize))
    }
}

impl AwaitIter for Sleep {
    fn qualname(&self) -> Option<&str> {
        Some("sleep")
    }
    fn origin(&self) -> Option<TbEntry> {
        self.origin.clone()
    }
    fn send(&self, vm: &mut Vm, _this: &Value, _v: Value) -> PyResult<Step> {
        let state = std::mem::replace(&mut *self.state.borrow_mut(), SleepState::Done);
        match state {
            SleepState::Created => {
                if self.delay <= 0.0 {
                    *self.state.borrow_mut() = SleepState::Yielded;
                    return Ok(Step::Yield(Value::None));
                }
                let lp = event_loop::running_loop(vm)?;
                let fut = Future::new(lp.clone(), None);
                // What the task waits on, for observers (a sleep never deadlocks).
                if vm.host.tracing() {
                    fut.set_label(Rc::new(PyStr::from_string(format!("sleep({})", crate::numfmt::float_repr(self.delay)))));
                }
                let f2 = fut.clone();
                let result = self.result.clone();
                let when = event_loop::now(vm) + self.delay;
                let handle = event_loop::call_at(
                    vm,
                    &lp,
                    when,
                    Callback::Native(Box::new(move |vm: &mut Vm| {
                        if !f2.cancelled() {
                            f2.set_result(vm, result)?;
                        }
                        Ok(())
                    })),
                );
                if vm.host.tracing() {
                    let d = crate::numfmt::float_repr(self.delay);
                    let label = match crate::sync::running(vm) {
                        Some(t) => format!("sleep({d}) of {}", crate::trace::task_label(&t)),
                        None => format!("sleep({d})"),
                    };
                    *handle.label.borrow_mut() = Some(label);
                }
                *self.state.borrow_mut() = SleepState::Waiting { fut: fut.clone(), handle };
                fut.await_send()
            }
            SleepState::Yielded => Ok(Step::Return(self.result.clone())),
            SleepState::Waiting { fut, handle } => {
                if !fut.done() {
                    *self.state.borrow_mut() = SleepState::Waiting { fut: fut.clone(), handle };
                    return fut.await_send();
                }
                handle.cancel();
                fut.get_result().map(Step::Return)
            }
            SleepState::Done => Err(runtime_error("cannot reuse already awaited coroutine")),
        }
    }
    fn throw(&self, _vm: &mut Vm, _this: &Value, e: PyErr) -> PyResult<Step> {
        let state = std::mem::replace(&mut *self.state.borrow_mut(), SleepState::Done);
        if let SleepState::Waiting { handle, .. } = state {
            handle.cancel();
        }
        Err(e)
    }
    fn close(&self, _vm: &mut Vm) {
        let state = std::mem::replace(&mut *self.state.borrow_mut(), SleepState::Done);
        if let SleepState::Waiting { handle, .. } = state {
            handle.cancel();
        }
    }
}

/// The class of native coroutine objects (`sleep()`, `Queue.get()`, ...):
/// `coroutine`, with `send`, `throw`, `close` and `__await__`.
pub fn native_coroutine_class() -> Rc<Class> {
    thread_local! {
        static C: Rc<Class> = {
            let c = new_class("coroutine", &[types().object.clone()], Layout::Builtin, None);
            install_native_coroutine_methods(&c);
            c
        };
    }
    C.with(|c| c.clone())
}

/// `send`, `throw`, `close` and `__await__` for native coroutine objects.
fn install_native_coroutine_methods(c: &Rc<Class>) {
    fn ai(v: &Value) -> PyResult<&dyn AwaitIter> {
        match v {
            Value::Object(o) => o.await_iter().ok_or_else(|| type_error("expected a coroutine")),
            _ => Err(type_error("expected a coroutine")),
        }
    }
    method(c, "coroutine", "__await__", |_vm, a| Ok(a.pos[0].clone()));
    method(c, "coroutine", "__iter__", |_vm, a| Ok(a.pos[0].clone()));
    method(c, "coroutine", "send", |vm, a| {
        let this = a.pos[0].clone();
        match ai(&this)?.send(vm, &this, a.pos.get(1).cloned().unwrap_or(Value::None))? {
            Step::Yield(y) => Ok(y),
            Step::Return(r) => Err(stop_iteration(r)),
        }
    });
    method(c, "coroutine", "__next__", |vm, a| {
        let this = a.pos[0].clone();
        match ai(&this)?.send(vm, &this, Value::None)? {
            Step::Yield(y) => Ok(y),
            Step::Return(r) => Err(stop_iteration(r)),
        }
    });
    method(c, "coroutine", "throw", |vm, a| {
        let this = a.pos[0].clone();
        let e = from_raise_operand(vm, a.pos.get(1).cloned().unwrap_or(Value::None))?;
        match ai(&this)?.throw(vm, &this, e)? {
            Step::Yield(y) => Ok(y),
            Step::Return(r) => Err(stop_iteration(r)),
        }
    });
    method(c, "coroutine", "close", |vm, a| {
        ai(&a.pos[0])?.close(vm);
        Ok(Value::None)
    });
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if matches!(*self.state.borrow(), SleepState::Created) && self.origin.is_some() {
            crate::diagnostic::warn_never_awaited("sleep", self.origin.as_ref());
        }
    }
}

// ------------------------------------------------------------ methods

fn this(args: &Args) -> PyResult<Rc<Future>> {
    match args.pos.first() {
        Some(Value::Future(f)) => Ok(f.clone()),
        _ => Err(type_error("descriptor requires a Future object")),
    }
}

fn f_result(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.get_result()
}
fn f_exception(_vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    match f.state.get() {
        FutState::Cancelled => Err(f.make_cancelled_error()),
        FutState::Pending => Err(err(&types().exc.invalid_state_error, "Exception is not set.")),
        FutState::Finished => {
            f.set_log_traceback(false);
            Ok(f.exception().map(|e| e.value()).unwrap_or(Value::None))
        }
    }
}
fn f_done(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(this(&args)?.done()))
}
fn f_cancelled(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(this(&args)?.cancelled()))
}
fn f_cancel(vm: &mut Vm, mut args: Args) -> PyResult {
    let f = this(&args)?;
    let msg = args.take_kw("msg").or_else(|| args.pos.get(1).cloned()).unwrap_or(Value::None);
    // Traced before it happens: cancelling wakes the task, and the story reads in that order.
    if f.is_task() && !f.done() {
        crate::event_loop::trace_cancel(vm, &f);
    }
    Ok(Value::bool(f.cancel(vm, msg)))
}
fn f_add_done_callback(vm: &mut Vm, mut args: Args) -> PyResult {
    let f = this(&args)?;
    let _ = args.take_kw("context");
    let cb = args.pos.get(1).cloned().ok_or_else(|| type_error("add_done_callback() missing 1 required positional argument: 'fn'"))?;
    f.add_done_callback(vm, DoneCallback::Call(cb));
    Ok(Value::None)
}
fn f_remove_done_callback(vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    let cb = args.pos.get(1).cloned().unwrap_or(Value::None);
    let removed = f.remove_callbacks(|c| match c {
        DoneCallback::Call(v) => Ok(v.is(&cb) || vm.eq(v, &cb)?),
        DoneCallback::Wakeup(_) => Ok(false),
    })?;
    Ok(Value::Int(removed as i64))
}
fn f_set_result(vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    f.set_result(vm, args.pos.get(1).cloned().unwrap_or(Value::None))?;
    Ok(Value::None)
}
fn f_set_exception(vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    let e = args.pos.get(1).cloned().unwrap_or(Value::None);
    let e = from_raise_operand(vm, e)?;
    f.set_exception(vm, e)?;
    Ok(Value::None)
}
fn f_get_loop(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(this(&args)?.loop_value())
}
fn f_await(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(args.pos[0].clone())
}

fn install_future_methods(c: &Rc<Class>) {
    let ms: &[(&str, NativeFnPtr)] = &[
        ("result", f_result),
        ("exception", f_exception),
        ("done", f_done),
        ("cancelled", f_cancelled),
        ("cancel", f_cancel),
        ("add_done_callback", f_add_done_callback),
        ("remove_done_callback", f_remove_done_callback),
        ("set_result", f_set_result),
        ("set_exception", f_set_exception),
        ("get_loop", f_get_loop),
        ("__await__", f_await),
        ("__iter__", f_await),
    ];
    for (n, f) in ms {
        method(c, "Future", n, *f);
    }
    // `asyncio.Task[int]` in an annotation: a generic alias, as in CPython.
    c.dict.set_str(
        "__class_getitem__",
        crate::attr::ClassMethod::wrap(crate::types::native_fn("__class_getitem__", |_vm, a| {
            Ok(crate::types::generic::GenericAlias::make(a.pos[0].clone(), a.pos.get(1).cloned().unwrap_or(Value::None)))
        })),
    );
}

fn task_data(args: &Args) -> PyResult<Rc<Future>> {
    let f = this(args)?;
    if !f.is_task() {
        return Err(type_error("descriptor requires a Task object"));
    }
    Ok(f)
}
fn t_get_name(_vm: &mut Vm, args: Args) -> PyResult {
    let f = task_data(&args)?;
    Ok(f.task().expect("task").name_value())
}
fn t_set_name(vm: &mut Vm, args: Args) -> PyResult {
    let f = task_data(&args)?;
    let n = vm.str_of(args.pos.get(1).unwrap_or(&Value::None))?;
    f.task().expect("task").set_name(n);
    Ok(Value::None)
}
fn t_get_coro(_vm: &mut Vm, args: Args) -> PyResult {
    let f = task_data(&args)?;
    Ok(f.task().expect("task").coro_value())
}
fn t_cancelling(_vm: &mut Vm, args: Args) -> PyResult {
    let f = task_data(&args)?;
    Ok(Value::Int(f.task().expect("task").num_cancels() as i64))
}
fn t_uncancel(_vm: &mut Vm, args: Args) -> PyResult {
    let f = task_data(&args)?;
    let t = f.task().expect("task");
    if t.num_cancels() > 0 {
        t.set_num_cancels(t.num_cancels() - 1);
    }
    Ok(Value::Int(t.num_cancels() as i64))
}

fn install_task_methods(c: &Rc<Class>) {
    let ms: &[(&str, NativeFnPtr)] = &[
        ("get_name", t_get_name),
        ("set_name", t_set_name),
        ("get_coro", t_get_coro),
        ("cancelling", t_cancelling),
        ("uncancel", t_uncancel),
    ];
    for (n, f) in ms {
        method(c, "Task", n, *f);
    }
}

/// Data attributes of futures.
pub fn getattr(f: &Rc<Future>, name: &str) -> Option<Value> {
    match name {
        "_asyncio_future_blocking" => Some(Value::bool(f.blocking())),
        "_state" => Some(Value::str(match f.state.get() {
            FutState::Pending => "PENDING",
            FutState::Cancelled => "CANCELLED",
            FutState::Finished => "FINISHED",
        })),
        "_loop" => Some(f.loop_value()),
        // Where the future was made, kept by CPython in debug mode only; not kept here.
        "_source_traceback" => Some(Value::None),
        _ => None,
    }
}

/// `repr()` of a future or task, in CPython's order: the state, a task's
/// name, coroutine and the future it waits for, the outcome, the callbacks.
pub fn repr(vm: &mut Vm, f: &Rc<Future>) -> PyResult<String> {
    let state = match f.state.get() {
        // A task that was asked to cancel (`cancelling()` is not 0).
        FutState::Pending if f.task().is_some_and(|t| t.num_cancels() > 0) => "cancelling",
        FutState::Pending => "pending",
        FutState::Cancelled => "cancelled",
        FutState::Finished => "finished",
    };
    let mut parts = vec![state.to_string()];
    if let Some(t) = f.task() {
        parts.push(format!("name={}", vm.repr_str(&t.name_value())?));
        parts.push(format!("coro=<{}>", coro_repr_live(vm, &t.coro(), f.done())));
        if let Some(w) = t.fut_waiter() {
            let w = f.own_waiter(w);
            parts.push(format!("wait_for={}", repr(vm, &w)?));
        }
    }
    if f.state.get() == FutState::Finished {
        if let Some(e) = f.exception() {
            parts.push(format!("exception={}", vm.repr_str(&e.value())?));
        } else {
            let r = f.outcome();
            parts.push(format!("result={}", vm.repr_str(&r)?));
        }
    }
    let cbs = f.callbacks();
    if !cbs.is_empty() {
        let mut names = Vec::with_capacity(cbs.len());
        for c in &cbs {
            // A task waiting on the future is its wake-up method.
            names.push(if let Value::Future(_) = c { "Task.task_wakeup()".to_string() } else { format_callback(vm, c, &[])? });
        }
        let shown = match names.len() {
            1 | 2 => names.join(", "),
            n => format!("{}, <{} more>, {}", names[0], n - 2, names[n - 1]),
        };
        parts.push(format!("cb=[{shown}]"));
    }
    let kind = if f.is_task() {
        "Task"
    } else if f.is_gathering() {
        "_GatheringFuture"
    } else {
        "Future"
    };
    Ok(format!("<{kind} {}>", parts.join(" ")))
}

/// A callback as CPython's reprs show it: `f(1, 2) at file:3` for an .aio
/// function (its qualified name, the arguments, where it was defined),
/// `Class.method()` for a method, a partial's function with its arguments.
pub fn format_callback(vm: &mut Vm, f: &Value, args: &[Value]) -> PyResult<String> {
    let mut suffix = String::from("(");
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            suffix.push_str(", ");
        }
        suffix.push_str(&vm.repr_str(a)?);
    }
    suffix.push(')');
    let mut f = f.clone();
    // functools.partial(g, 1)() shows as g(1)().
    while crate::types::type_name(&f) == "functools.partial" {
        let (Some(inner), Some(pargs)) = (vm.getattr_opt(&f, "func")?, vm.getattr_opt(&f, "args")?) else { break };
        let pargs = vm.collect(&pargs)?;
        let mut s = String::from("(");
        for (i, a) in pargs.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&vm.repr_str(a)?);
        }
        s.push(')');
        suffix = s + &suffix;
        f = inner;
    }
    let name = match &f {
        Value::Function(func) => func.qualname.borrow().as_str().to_string(),
        _ => match vm.getattr_opt(&f, "__qualname__")? {
            Some(Value::Str(s)) => s.as_str().to_string(),
            _ => match vm.getattr_opt(&f, "__name__")? {
                Some(Value::Str(s)) => s.as_str().to_string(),
                _ => vm.repr_str(&f)?,
            },
        },
    };
    Ok(match &f {
        Value::Function(func) => {
            format!("{name}{suffix} at {}:{}", func.code.source.name, func.code.source.line_of(func.code.span.start))
        }
        _ => format!("{name}{suffix}"),
    })
}

/// The instruction a generator is at: its frame's, when it is running
/// (the line a running task's repr shows is the live one).
pub fn live_ip(vm: &Vm, g: &Rc<Generator>) -> usize {
    let st = g.state.borrow();
    if st.status == GenStatus::Running {
        if let Some(fr) = vm.frames.iter().rev().find(|fr| fr.gen.as_ref().is_some_and(|x| Rc::ptr_eq(x, g))) {
            return fr.ip;
        }
    }
    st.ip as usize
}

/// [`coro_repr`] with a running coroutine's line taken from its live frame.
pub fn coro_repr_live(vm: &Vm, coro: &Value, done: bool) -> String {
    if let Value::Generator(g) = coro {
        let status = g.state.borrow().status;
        if status == GenStatus::Running && !done {
            let line = g.code.line_at(live_ip(vm, g).saturating_sub(1));
            return format!("{}() running at {}:{}", g.qualname().as_str(), g.code.source.name, line);
        }
    }
    coro_repr(coro, done)
}

/// `main.<locals>.w() running at file:16` / `... done, defined at file:16`.
pub fn coro_repr(coro: &Value, done: bool) -> String {
    match coro {
        Value::Generator(g) => {
            let st = g.state.borrow();
            let src = &g.code.source.name;
            if done || st.status == GenStatus::Closed {
                format!("{}() done, defined at {}:{}", g.qualname().as_str(), src, g.code.source.line_of(g.code.span.start))
            } else {
                let line = if st.status == GenStatus::Created {
                    g.code.source.line_of(g.code.span.start)
                } else {
                    g.code.line_at((st.ip as usize).saturating_sub(1))
                };
                format!("{}() running at {}:{}", g.qualname().as_str(), src, line)
            }
        }
        Value::Object(o) => match o.await_iter().and_then(|a| a.qualname()) {
            Some(name) => format!("{name}()"),
            None => "coroutine()".to_string(),
        },
        _ => "coroutine()".to_string(),
    }
}

/// Pending tasks of a loop, in creation order.
pub fn pending_tasks(lp: &EventLoop) -> Vec<Rc<Future>> {
    lp.prune_tasks();
    lp.tasks.borrow().iter().filter_map(Weak::upgrade).collect()
}
