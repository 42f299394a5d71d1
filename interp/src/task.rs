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
use crate::value::Value;
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

/// The task part of a future.
pub struct TaskData {
    pub coro: RefCell<Value>,
    /// The name given to the task; `Undef` until asked for when it is the
    /// default `Task-N` (made on demand, not for every task).
    pub name: RefCell<Value>,
    /// The N of the default name.
    pub number: u64,
    pub must_cancel: Cell<bool>,
    /// The future this task is suspended on.
    pub fut_waiter: RefCell<Option<Rc<Future>>>,
    pub num_cancels: Cell<u32>,
    /// The CancelledError the coroutine raised (becomes the context of later ones).
    pub cancelled_exc: RefCell<Option<PyErr>>,
    /// Creation order, for listings.
    pub id: u64,
    /// The call that made the task's coroutine (for reports).
    pub origin: Option<TbEntry>,
}

impl TaskData {
    /// The task's name, made (once) from its number when it has the default one.
    pub fn name_value(&self) -> Value {
        let mut name = self.name.borrow_mut();
        if name.is_undef() {
            *name = Value::string(format!("Task-{}", self.number));
        }
        name.clone()
    }
}

/// An asyncio future; a task when `task` is set.
pub struct Future {
    pub loop_: Value,
    pub state: Cell<FutState>,
    pub result: RefCell<Value>,
    pub exception: RefCell<Option<PyErr>>,
    /// Done callbacks; most futures have exactly one (the task waiting).
    pub callbacks: RefCell<SmallVec<[DoneCallback; 1]>>,
    pub cancel_msg: RefCell<Value>,
    pub blocking: Cell<bool>,
    /// An exception nobody looked at yet ("never retrieved").
    pub log_traceback: Cell<bool>,
    /// Boxed: a plain future does not pay for a task's fields.
    pub task: Option<Box<TaskData>>,
    /// What a task waiting on this future waits for ("Queue.get", "sleep(1.0)").
    pub label: RefCell<Option<Rc<PyStr>>>,
    /// For `gather()`'s outer future: cancelling it cancels these.
    pub gather_children: RefCell<Option<Box<Vec<Rc<Future>>>>>,
    /// A gathering future whose children were cancelled through it.
    pub cancel_requested: Cell<bool>,
    /// Creation order: the identity hash, so sets of tasks iterate the same way every run.
    pub id: u64,
}

thread_local! {
    static CLASSES: (Rc<Class>, Rc<Class>) = {
        let t = types();
        let fut = new_class("Future", std::slice::from_ref(&t.object), Layout::Builtin, None);
        fut.dict.set_str("__module__", Value::str("asyncio"));
        let task = new_class("Task", std::slice::from_ref(&fut), Layout::Builtin, None);
        task.dict.set_str("__module__", Value::str("asyncio"));
        install_future_methods(&fut);
        install_task_methods(&task);
        (fut, task)
    };
    static TASK_COUNTER: Cell<u64> = const { Cell::new(0) };
    static TASK_IDS: Cell<u64> = const { Cell::new(0) };
}

fn next_id() -> u64 {
    TASK_IDS.with(|c| {
        c.set(c.get() + 1);
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
    pub fn new(loop_: Value, task: Option<TaskData>) -> Rc<Future> {
        Rc::new(Future {
            loop_,
            state: Cell::new(FutState::Pending),
            result: RefCell::new(Value::None),
            exception: RefCell::new(None),
            callbacks: RefCell::new(SmallVec::new()),
            cancel_msg: RefCell::new(Value::None),
            blocking: Cell::new(false),
            log_traceback: Cell::new(false),
            task: task.map(Box::new),
            label: RefCell::new(None),
            gather_children: RefCell::new(None),
            cancel_requested: Cell::new(false),
            id: next_id(),
        })
    }
    pub fn is_task(&self) -> bool {
        self.task.is_some()
    }
    pub fn done(&self) -> bool {
        self.state.get() != FutState::Pending
    }
    pub fn cancelled(&self) -> bool {
        self.state.get() == FutState::Cancelled
    }
    pub fn event_loop(&self) -> &EventLoop {
        self.loop_.downcast::<EventLoop>().expect("a loop")
    }
    /// The task's name (`Task-3`).
    pub fn name(&self) -> String {
        match &self.task {
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
        if let Some(prev) = self.task.as_ref().and_then(|t| t.cancelled_exc.borrow_mut().take()) {
            return prev;
        }
        let msg = self.cancel_msg.borrow().clone();
        if msg.is_none() {
            err_noargs(&types().exc.cancelled_error)
        } else {
            PyErr(new_exception(&types().exc.cancelled_error, vec![msg]))
        }
    }

    /// Move the callbacks to the loop's ready queue, in registration order.
    fn schedule_callbacks(self: &Rc<Self>, vm: &mut Vm) {
        let cbs = std::mem::take(&mut *self.callbacks.borrow_mut());
        let lp = self.loop_.clone();
        for cb in cbs {
            let c = match cb {
                DoneCallback::Call(f) => Callback::Call(f, vec![Value::Future(self.clone())]),
                DoneCallback::Wakeup(t) => {
                    crate::trace::trace_wakes(vm, &t, self);
                    Callback::Wakeup(t, self.clone())
                }
            };
            event_loop::call_soon(vm, &lp, c);
        }
    }

    pub fn set_result(self: &Rc<Self>, vm: &mut Vm, v: Value) -> PyResult<()> {
        if self.done() {
            return Err(err(&types().exc.invalid_state_error, "invalid state"));
        }
        *self.result.borrow_mut() = v;
        self.state.set(FutState::Finished);
        self.schedule_callbacks(vm);
        Ok(())
    }

    pub fn set_exception(self: &Rc<Self>, vm: &mut Vm, e: PyErr) -> PyResult<()> {
        if self.done() {
            return Err(err(&types().exc.invalid_state_error, "invalid state"));
        }
        if e.class().name().as_str() == "StopIteration" && std::ptr::eq(&*e.class(), &*types().exc.stop_iteration) {
            return Err(type_error("StopIteration interacts badly with generators and cannot be raised into a Future"));
        }
        *self.exception.borrow_mut() = Some(e);
        self.state.set(FutState::Finished);
        self.log_traceback.set(true);
        self.schedule_callbacks(vm);
        Ok(())
    }

    /// `Future.cancel()` (the future part; tasks go through `task_cancel`).
    pub fn cancel_future(self: &Rc<Self>, vm: &mut Vm, msg: Value) -> bool {
        self.log_traceback.set(false);
        if self.done() {
            return false;
        }
        self.state.set(FutState::Cancelled);
        *self.cancel_msg.borrow_mut() = msg;
        self.schedule_callbacks(vm);
        true
    }

    /// `cancel()` for futures and tasks.
    pub fn cancel(self: &Rc<Self>, vm: &mut Vm, msg: Value) -> bool {
        let children = self.gather_children.borrow().clone();
        if let Some(kids) = children.map(|k| *k) {
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
                self.cancel_requested.set(true);
            }
            return any;
        }
        let Some(t) = &self.task else { return self.cancel_future(vm, msg) };
        self.log_traceback.set(false);
        if self.done() {
            return false;
        }
        t.num_cancels.set(t.num_cancels.get() + 1);
        let waiter = t.fut_waiter.borrow().clone();
        if let Some(w) = waiter {
            if w.cancel(vm, msg.clone()) {
                return true;
            }
        }
        t.must_cancel.set(true);
        *self.cancel_msg.borrow_mut() = msg;
        true
    }

    /// `result()`.
    pub fn get_result(&self) -> PyResult<Value> {
        match self.state.get() {
            FutState::Cancelled => Err(self.make_cancelled_error()),
            FutState::Pending => Err(err(&types().exc.invalid_state_error, "Result is not set.")),
            FutState::Finished => {
                self.log_traceback.set(false);
                if let Some(e) = self.exception.borrow().as_ref() {
                    return Err(e.clone());
                }
                Ok(self.result.borrow().clone())
            }
        }
    }

    pub fn add_done_callback(self: &Rc<Self>, vm: &mut Vm, cb: DoneCallback) {
        if self.done() {
            let lp = self.loop_.clone();
            let c = match cb {
                DoneCallback::Call(f) => Callback::Call(f, vec![Value::Future(self.clone())]),
                DoneCallback::Wakeup(t) => Callback::Wakeup(t, self.clone()),
            };
            event_loop::call_soon(vm, &lp, c);
        } else {
            self.callbacks.borrow_mut().push(cb);
        }
    }
}

impl Drop for Future {
    fn drop(&mut self) {
        if !self.log_traceback.get() {
            return;
        }
        let Some(e) = self.exception.borrow_mut().take() else { return };
        let what = if self.task.is_some() { "Task" } else { "Future" };
        let mut msg = format!("{what} exception was never retrieved\n");
        // No VM here: describe the exception from its arguments as plain values.
        let args: Vec<String> = e.args().iter().map(crate::types::debug_repr).collect();
        let exc_repr = format!("{}({})", e.class().name().as_str(), args.join(", "));
        match &self.task {
            Some(t) => {
                let name = match &t.name_value() {
                    Value::Str(s) => s.as_str().to_string(),
                    _ => String::new(),
                };
                let coro = coro_repr(&t.coro.borrow(), true);
                msg.push_str(&format!("future: <Task finished name='{name}' coro=<{coro}> exception={exc_repr}>\n"));
                if let Some(o) = t.origin.as_ref().filter(|o| !o.code.source.name.starts_with('<')) {
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

/// Make a task for a coroutine on a loop and schedule its first step.
pub fn create_task(vm: &mut Vm, loop_v: &Value, coro: Value, name: Option<Value>) -> PyResult<Rc<Future>> {
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
        Some(Value::None) | None => Value::Undef,
        Some(v) => Value::string(vm.str_of(&v)?),
    };
    let id = next_id();
    // The coroutine now belongs to the task: it no longer counts as "never awaited".
    let origin = match &coro {
        Value::Generator(g) => g.state.borrow_mut().origin.take(),
        Value::Object(o) => o.await_iter().and_then(|a| a.origin()),
        _ => None,
    };
    let data = TaskData {
        coro: RefCell::new(coro),
        name: RefCell::new(name),
        number: n,
        must_cancel: Cell::new(false),
        fut_waiter: RefCell::new(None),
        num_cancels: Cell::new(0),
        cancelled_exc: RefCell::new(None),
        id,
        origin,
    };
    let task = Future::new(loop_v.clone(), Some(data));
    lp.tasks.borrow_mut().push(Rc::downgrade(&task));
    event_loop::call_soon(vm, loop_v, Callback::Step(task.clone(), None));
    crate::event_loop::trace_created(vm, &task);
    Ok(task)
}

/// One step of a task: resume its coroutine, then act on what it yielded.
pub fn task_step(vm: &mut Vm, task: &Rc<Future>, exc: Option<PyErr>) -> PyResult<()> {
    let t = task.task.as_ref().expect("a task");
    if task.done() {
        return Ok(());
    }
    let mut exc = exc;
    if t.must_cancel.get() {
        if !exc.as_ref().is_some_and(|e| e.is(&types().exc.cancelled_error)) {
            exc = Some(task.make_cancelled_error());
        }
        t.must_cancel.set(false);
    }
    *t.fut_waiter.borrow_mut() = None;
    let lp_v = task.loop_.clone();
    let lp = lp_v.downcast::<EventLoop>().expect("loop");
    let prev = lp.current.replace(Some(task.clone()));
    crate::event_loop::trace_step(vm, task, exc.as_ref());
    let coro = t.coro.borrow().clone();
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
    *lp.current.borrow_mut() = prev;
    match result {
        Ok(Halt::Return(v)) => {
            if t.must_cancel.get() {
                t.must_cancel.set(false);
                let msg = task.cancel_msg.borrow().clone();
                task.cancel_future(vm, msg);
            } else {
                task.set_result(vm, v)?;
            }
            crate::event_loop::trace_done(vm, task);
        }
        Ok(Halt::Yield(v, _)) => match &v {
            Value::Future(f) => {
                if !f.blocking.get() {
                    let r = vm.repr_str(&Value::Future(task.clone()))?;
                    let fr = vm.repr_str(&v)?;
                    let e = runtime_error(format!("yield was used instead of yield from in task {r} with {fr}"));
                    event_loop::call_soon(vm, &lp_v, Callback::Step(task.clone(), Some(e)));
                } else if Rc::ptr_eq(f, task) {
                    let r = vm.repr_str(&v)?;
                    let e = runtime_error(format!("Task cannot await on itself: {r}"));
                    event_loop::call_soon(vm, &lp_v, Callback::Step(task.clone(), Some(e)));
                } else {
                    f.blocking.set(false);
                    f.add_done_callback(vm, DoneCallback::Wakeup(task.clone()));
                    *t.fut_waiter.borrow_mut() = Some(f.clone());
                    crate::event_loop::trace_suspend(vm, task, f);
                    if t.must_cancel.get() {
                        let msg = task.cancel_msg.borrow().clone();
                        if f.cancel(vm, msg) {
                            t.must_cancel.set(false);
                        }
                    }
                }
            }
            Value::None => {
                crate::event_loop::trace_yield(vm, task);
                event_loop::call_soon(vm, &lp_v, Callback::Step(task.clone(), None));
            }
            other => {
                let r = vm.repr_str(other)?;
                let e = runtime_error(format!("Task got bad yield: {r}"));
                event_loop::call_soon(vm, &lp_v, Callback::Step(task.clone(), Some(e)));
            }
        },
        Ok(Halt::Blocked) => return Err(runtime_error("task blocked")),
        Err(e) => {
            let tt = types();
            if e.is(&tt.exc.cancelled_error) {
                if let Some(t) = &task.task {
                    *t.cancelled_exc.borrow_mut() = Some(e.clone());
                }
                task.cancel_future(vm, Value::None);
                crate::event_loop::trace_done(vm, task);
            } else if e.is(&tt.exc.keyboard_interrupt) || e.is(&tt.exc.system_exit) {
                task.set_exception(vm, e.clone())?;
                task.log_traceback.set(false);
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

/// A task wakes: the future it waited on is done.
pub fn task_wakeup(vm: &mut Vm, task: &Rc<Future>, fut: &Rc<Future>) -> PyResult<()> {
    crate::event_loop::trace_wake(vm, task, fut);
    match fut.get_result() {
        Ok(_) => task_step(vm, task, None),
        Err(e) => {
            crate::trace::note_task_got(task, fut, &e);
            task_step(vm, task, Some(e))
        }
    }
}

// ------------------------------------------------------------ await

impl Future {
    /// `await fut`: suspend until done, then return the result.
    pub fn await_send(self: &Rc<Self>) -> PyResult<Step> {
        if !self.done() {
            self.blocking.set(true);
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
                if vm.tracer.is_some() {
                    *fut.label.borrow_mut() =
                        Some(Rc::new(PyStr::from_string(format!("sleep({})", crate::numfmt::float_repr(self.delay)))));
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
            f.log_traceback.set(false);
            Ok(f.exception.borrow().as_ref().map(|e| e.value()).unwrap_or(Value::None))
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
    let old = std::mem::take(&mut *f.callbacks.borrow_mut());
    let mut kept = SmallVec::new();
    let mut removed = 0;
    for c in old {
        match &c {
            DoneCallback::Call(v) if v.is(&cb) || vm.eq(v, &cb)? => removed += 1,
            _ => kept.push(c),
        }
    }
    *f.callbacks.borrow_mut() = kept;
    Ok(Value::Int(removed))
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
    Ok(this(&args)?.loop_.clone())
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
}

fn task_data(args: &Args) -> PyResult<Rc<Future>> {
    let f = this(args)?;
    if f.task.is_none() {
        return Err(type_error("descriptor requires a Task object"));
    }
    Ok(f)
}
fn t_get_name(_vm: &mut Vm, args: Args) -> PyResult {
    let f = task_data(&args)?;
    Ok(f.task.as_ref().expect("task").name_value())
}
fn t_set_name(vm: &mut Vm, args: Args) -> PyResult {
    let f = task_data(&args)?;
    let n = vm.str_of(args.pos.get(1).unwrap_or(&Value::None))?;
    *f.task.as_ref().expect("task").name.borrow_mut() = Value::string(n);
    Ok(Value::None)
}
fn t_get_coro(_vm: &mut Vm, args: Args) -> PyResult {
    let f = task_data(&args)?;
    let c = f.task.as_ref().expect("task").coro.borrow().clone();
    Ok(c)
}
fn t_cancelling(_vm: &mut Vm, args: Args) -> PyResult {
    let f = task_data(&args)?;
    Ok(Value::Int(f.task.as_ref().expect("task").num_cancels.get() as i64))
}
fn t_uncancel(_vm: &mut Vm, args: Args) -> PyResult {
    let f = task_data(&args)?;
    let t = f.task.as_ref().expect("task");
    if t.num_cancels.get() > 0 {
        t.num_cancels.set(t.num_cancels.get() - 1);
    }
    Ok(Value::Int(t.num_cancels.get() as i64))
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
        "_asyncio_future_blocking" => Some(Value::bool(f.blocking.get())),
        "_state" => Some(Value::str(match f.state.get() {
            FutState::Pending => "PENDING",
            FutState::Cancelled => "CANCELLED",
            FutState::Finished => "FINISHED",
        })),
        "_loop" => Some(f.loop_.clone()),
        _ => None,
    }
}

/// `repr()` of a future or task.
pub fn repr(vm: &mut Vm, f: &Rc<Future>) -> PyResult<String> {
    let state = match f.state.get() {
        FutState::Pending => {
            if f.task.as_ref().is_some_and(|t| t.must_cancel.get()) {
                "cancelling"
            } else {
                "pending"
            }
        }
        FutState::Cancelled => "cancelled",
        FutState::Finished => "finished",
    };
    let mut parts = vec![state.to_string()];
    if let Some(t) = &f.task {
        parts.push(format!("name={}", vm.repr_str(&t.name_value())?));
        let coro = t.coro.borrow().clone();
        parts.push(format!("coro=<{}>", coro_repr(&coro, f.done())));
    }
    if f.state.get() == FutState::Finished {
        if let Some(e) = f.exception.borrow().clone() {
            parts.push(format!("exception={}", vm.repr_str(&e.value())?));
        } else {
            let r = f.result.borrow().clone();
            parts.push(format!("result={}", vm.repr_str(&r)?));
        }
    }
    let cbs = f.callbacks.borrow();
    if !cbs.is_empty() && f.task.is_none() {
        let names: Vec<String> = cbs
            .iter()
            .map(|c| match c {
                DoneCallback::Wakeup(_) => "Task.task_wakeup()".to_string(),
                DoneCallback::Call(v) => match v {
                    Value::Function(func) => format!(
                        "{}() at {}:{}",
                        func.qualname.borrow().as_str(),
                        func.code.source.name,
                        func.code.source.line_of(func.code.span.start)
                    ),
                    _ => "callback()".to_string(),
                },
            })
            .collect();
        parts.push(format!("cb=[{}]", names.join(", ")));
    }
    drop(cbs);
    if let Some(t) = &f.task {
        if let Some(w) = t.fut_waiter.borrow().clone() {
            parts.push(format!("wait_for={}", repr(vm, &w)?));
        }
    }
    let kind = if f.task.is_some() { "Task" } else { "Future" };
    Ok(format!("<{kind} {}>", parts.join(" ")))
}

/// `main.<locals>.w() running at file:16` / `... done, defined at file:16`.
pub fn coro_repr(coro: &Value, done: bool) -> String {
    match coro {
        Value::Generator(g) => {
            let st = g.state.borrow();
            let src = &g.code.source.name;
            if done || st.status == GenStatus::Closed {
                format!("{}() done, defined at {}:{}", g.qualname.borrow().as_str(), src, g.code.source.line_of(g.code.span.start))
            } else {
                let line = if st.status == GenStatus::Created {
                    g.code.source.line_of(g.code.span.start)
                } else {
                    g.code.line_at((st.ip as usize).saturating_sub(1))
                };
                format!("{}() running at {}:{}", g.qualname.borrow().as_str(), src, line)
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
    let mut tasks = lp.tasks.borrow_mut();
    tasks.retain(|w| w.upgrade().is_some_and(|t| !t.done()));
    tasks.iter().filter_map(Weak::upgrade).collect()
}
