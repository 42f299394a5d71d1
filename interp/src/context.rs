//! Contexts of `contextvars`: the mapping of context variables that code
//! runs in. Each task runs in its own, a copy of its creator's, as asyncio's
//! tasks do; the library (`contextvars`) gives them their methods.
//!
//! A context's mapping is never changed in place: setting a variable puts a
//! new mapping in the current context, so a copy shares one pointer until
//! either side sets something (CPython shares its immutable HAMT the same way).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::event_loop::EventLoop;
use crate::object::*;
use crate::task::Future;
use crate::types::{new_class, types};
use crate::value::Value;
use crate::vm::Vm;

/// A `contextvars.Context`.
pub struct Context {
    /// `ContextVar -> value`, replaced (never mutated) by a set.
    pub vars: RefCell<Rc<PyDict>>,
    /// Inside `run()`: a context is entered by one runner at a time.
    pub entered: Cell<bool>,
}

thread_local! {
    static CONTEXT_CLASS: Rc<Class> = {
        let c = new_class("Context", std::slice::from_ref(&types().object), Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("_contextvars"));
        c
    };
}

/// The `contextvars.Context` class (its methods are the library's).
pub fn context_class() -> Rc<Class> {
    CONTEXT_CLASS.with(|c| c.clone())
}

impl Context {
    /// A context holding `vars`.
    pub fn new_value(vars: Rc<PyDict>) -> Value {
        Value::object(Context { vars: RefCell::new(vars), entered: Cell::new(false) })
    }
}

impl NativeObject for Context {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        context_class()
    }
}

/// `copy_context()`: a new context with the current one's variables (None,
/// the empty context nobody has set anything in, copies as None).
pub fn copy_current(vm: &Vm) -> Value {
    match vm.context.downcast::<Context>() {
        Some(c) => Context::new_value(c.vars.borrow().clone()),
        None => Value::None,
    }
}

// A task's context lives in its loop's table, by task id, and only when it
// is not the empty one: tasks of programs that never touch contextvars pay
// one test per step.

/// Remember the context a new task runs in.
pub(crate) fn attach(lp: &EventLoop, task: &Future, context: Value) {
    if !context.is_none() {
        lp.contexts.borrow_mut().insert(task.id(), context);
    }
}

/// Forget a finished task's context (it may have finished without a step
/// of its own, cancelled before it started).
pub(crate) fn detach(lp: &EventLoop, task: &Future) {
    let mut contexts = lp.contexts.borrow_mut();
    if !contexts.is_empty() {
        contexts.remove(&task.id());
    }
}

/// Before a task's step: make its context the current one; what was current
/// comes back from [`leave`]. `None` when neither has a context.
// Inlined into `task_step`, where most steps take the early return.
#[inline(always)]
pub(crate) fn enter(vm: &mut Vm, lp: &EventLoop, task: &Future) -> Option<Value> {
    if vm.context.is_none() && lp.contexts.borrow().is_empty() {
        return None;
    }
    let mine = lp.contexts.borrow_mut().remove(&task.id()).unwrap_or(Value::None);
    Some(std::mem::replace(&mut vm.context, mine))
}

/// After a task's step: keep its context (a first `set()` may have made
/// one) until it is done, and restore the one that was current.
#[inline(always)]
pub(crate) fn leave(vm: &mut Vm, lp: &EventLoop, task: &Future, outer: Option<Value>) {
    let mine = std::mem::replace(&mut vm.context, outer.unwrap_or(Value::None));
    if !mine.is_none() && !task.done() {
        lp.contexts.borrow_mut().insert(task.id(), mine);
    }
}
