//! `_asyncio`: the native core under the `asyncio` module (which is written
//! in .aio, see `lib/asyncio.aio`): loops, futures, tasks and `sleep`, and
//! the hot synchronization objects, `Event` and the queues.

/// `NativeObject` for a native coroutine (a `Queue.get()`, a stream read, a
/// `drain()`...): its class is `coroutine`, it is awaited through its own
/// `AwaitIter`, and its repr is CPython's for a coroutine named `$name`.
macro_rules! native_coroutine {
    ($(const $g:ident: $gt:ty =>)? $ty:ty, |$s:ident| $name:expr) => {
        impl$(<const $g: $gt>)? aio_interp::object::NativeObject for $ty {
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
            fn class(&self) -> std::rc::Rc<aio_interp::object::Class> {
                aio_interp::task::native_coroutine_class()
            }
            fn await_iter(&self) -> Option<&dyn aio_interp::object::AwaitIter> {
                Some(self)
            }
            fn repr(&self, _vm: &mut aio_interp::Vm) -> aio_interp::object::PyResult<String> {
                let $s = self;
                Ok(format!("<coroutine object {} at {:#x}>", $name, self as *const Self as usize))
            }
        }
    };
}

pub mod event;
pub mod queue;
pub mod streams;
pub mod subprocess;
pub mod transport;

use aio_interp::Flag;
use std::rc::Rc;

use aio_interp::event_loop::{self, EventLoop};
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::task::{self, Future};
use aio_interp::types::{native_fn, types};
use aio_interp::{Value, Vm};

fn sleep(vm: &mut Vm, mut args: Args) -> PyResult {
    let delay = args
        .pos
        .first()
        .cloned()
        .or_else(|| args.take_kw("delay"))
        .ok_or_else(|| type_error("sleep() missing 1 required positional argument: 'delay'"))?;
    let result = args.pos.get(1).cloned().or_else(|| args.take_kw("result")).unwrap_or(Value::None);
    let d = match &delay {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::BigInt(_) => aio_interp::types::float::to_float(vm, &delay)?,
        other => {
            return Err(type_error(format!("'<=' not supported between instances of '{}' and 'int'", aio_interp::types::type_name(other))))
        }
    };
    Ok(task::Sleep::make(vm, d, result))
}

fn get_running_loop(vm: &mut Vm, _args: Args) -> PyResult {
    event_loop::running_loop(vm)
}

fn get_running_loop_or_none(vm: &mut Vm, _args: Args) -> PyResult {
    Ok(vm.host.running_loop().cloned().unwrap_or(Value::None))
}

/// The loop `get_event_loop()` returns: the running one, else the current one (made on demand).
pub fn event_loop_value(vm: &mut Vm) -> Value {
    if let Some(l) = vm.host.running_loop() {
        return l.clone();
    }
    if let Some(l) = vm.host.current_loop() {
        if l.downcast::<EventLoop>().is_some_and(|x| !x.closed.get()) {
            return l.clone();
        }
    }
    let l = event_loop::new_loop();
    vm.host.set_current_loop(Some(l.clone()));
    l
}

fn get_event_loop(vm: &mut Vm, _args: Args) -> PyResult {
    Ok(event_loop_value(vm))
}

fn set_event_loop(vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::None) | None => {
            vm.host.set_current_loop(None);
        }
        Some(l) => {
            if l.downcast::<EventLoop>().is_none() {
                return Err(type_error(format!(
                    "loop must be an instance of AbstractEventLoop or None, not '{}'",
                    aio_interp::types::type_name(l)
                )));
            }
            vm.host.set_current_loop(Some(l.clone()));
        }
    }
    Ok(Value::None)
}

fn new_event_loop(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(event_loop::new_loop())
}

fn create_task(vm: &mut Vm, mut args: Args) -> PyResult {
    let name = args.take_kw("name");
    let context = args.take_kw("context");
    let eager = match args.take_kw("eager_start") {
        Some(v) => vm.truthy(&v)?,
        None => false,
    };
    let coro = args.pos.first().cloned().ok_or_else(|| type_error("create_task() missing 1 required positional argument: 'coro'"))?;
    let l = match vm.host.running_loop() {
        Some(l) => l.clone(),
        None => return Err(runtime_error("no running event loop")),
    };
    event_loop::loop_create_task(vm, &l, coro, name, context, eager)
}

fn ensure_future(vm: &mut Vm, mut args: Args) -> PyResult {
    let v = args.pos.first().cloned().unwrap_or(Value::None);
    let l = match args.take_kw("loop") {
        Some(l) if !l.is_none() => l,
        _ => event_loop_value(vm),
    };
    if let Value::Future(_) = v {
        return Ok(v);
    }
    Ok(Value::Future(event_loop::ensure_future(vm, &l, v)?))
}

fn current_task(vm: &mut Vm, _args: Args) -> PyResult {
    Ok(event_loop::current_task(vm))
}

fn all_tasks(vm: &mut Vm, _args: Args) -> PyResult {
    if vm.host.running_loop().is_none() {
        return Err(runtime_error("no running event loop"));
    }
    let tasks = event_loop::all_tasks(vm);
    aio_interp::types::set::set_from(vm, tasks)
}

fn all_tasks_of(_vm: &mut Vm, args: Args) -> PyResult {
    let l = args.pos.first().cloned().unwrap_or(Value::None);
    let tasks = match l.downcast::<EventLoop>() {
        Some(x) => task::pending_tasks(x).into_iter().map(Value::Future).collect(),
        None => vec![],
    };
    Ok(Value::list(tasks))
}

fn iscoroutine(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(match args.pos.first() {
        Some(Value::Generator(g)) => g.kind == GenKind::Coroutine,
        Some(Value::Object(o)) => o.await_iter().is_some_and(|a| a.qualname().is_some()),
        Some(_) => false,
        None => false,
    }))
}

fn iscoroutinefunction(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(match args.pos.first() {
        Some(Value::Function(f)) => f.code.flags.coroutine,
        Some(Value::BoundMethod(b)) => matches!(&b.func, Value::Function(f) if f.code.flags.coroutine),
        // asyncio.sleep is native here and an `async def` in CPython.
        Some(Value::Native(n)) => matches!(n.imp, NativeImpl::Static(f) if std::ptr::fn_addr_eq(f, sleep as NativeFnPtr)),
        _ => false,
    }))
}

fn isfuture(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(matches!(args.pos.first(), Some(Value::Future(_)))))
}

fn future_new(vm: &mut Vm, mut args: Args) -> PyResult {
    let l = match args.take_kw("loop") {
        Some(l) if !l.is_none() => l,
        _ => event_loop_value(vm),
    };
    Ok(Value::Future(Future::new(check_loop(l)?, None)))
}

/// A future's loop must be an event loop (CPython fails on its first use of it).
fn check_loop(l: Value) -> PyResult<Value> {
    if l.downcast::<EventLoop>().is_none() {
        return Err(attribute_error(format!("'{}' object has no attribute 'get_debug'", aio_interp::types::type_name(&l))));
    }
    Ok(l)
}

fn task_new(vm: &mut Vm, mut args: Args) -> PyResult {
    let name = args.take_kw("name");
    let context = args.take_kw("context");
    let eager = match args.take_kw("eager_start") {
        Some(v) => vm.truthy(&v)?,
        None => false,
    };
    let l = match args.take_kw("loop") {
        Some(l) if !l.is_none() => l,
        _ => event_loop_value(vm),
    };
    let coro = args.pos.first().cloned().unwrap_or(Value::None);
    Ok(Value::Future(task::create_task_opts(vm, &l, coro, name, context, eager)?))
}

/// A future for `gather` whose `cancel()` cancels its children (a list of futures).
fn gathering_future(vm: &mut Vm, args: Args) -> PyResult {
    let kids = match args.pos.first() {
        Some(Value::Tuple(t)) => t.clone(),
        _ => return Err(type_error("_gathering_future() expects a tuple of futures")),
    };
    let l = args.pos.get(1).cloned().unwrap_or(Value::None);
    let l = if l.is_none() { event_loop_value(vm) } else { l };
    let l = check_loop(l)?;
    Ok(Value::Future(Future::new_gathering(l, kids)))
}

/// `gather()`'s children: `_gather_children(args, done_callback)` is
///
/// ```text
/// arg_to_fut = {}; children = []; nfuts = 0; loop = None
/// for arg in args:
///     if arg not in arg_to_fut:
///         fut = ensure_future(arg, loop=loop)
///         if loop is None: loop = fut.get_loop()
///         nfuts += 1; arg_to_fut[arg] = fut
///         fut.add_done_callback(done_callback)
///     else:
///         fut = arg_to_fut[arg]
///     children.append(fut)
/// return tuple(children), nfuts, loop
/// ```
///
/// with arguments told apart by identity (what `==` is for futures and
/// coroutines) and no dict: a sort of their addresses finds the repeats,
/// and a gather of many tasks does not pay a dict entry for each. When
/// every argument is a future, the children are the arguments' tuple
/// itself: a gather of many tasks holds them once, not twice.
fn gather_children(vm: &mut Vm, args: Args) -> PyResult {
    let items: Rc<PyTuple> = match args.pos.first() {
        Some(Value::Tuple(t)) => t.clone(),
        Some(v) => PyTuple::new_rc(vm.collect(v)?),
        None => PyTuple::new_rc([]),
    };
    let all = &items.items;
    let cb = args.pos.get(1).cloned().unwrap_or(Value::None);
    // first[i]: the index of the first argument identical to argument i,
    // kept only for the repeats (usually there are none).
    let key = |i: usize| all[i].ptr().unwrap_or(usize::MAX - i);
    let mut order: Vec<u32> = (0..all.len() as u32).collect();
    order.sort_by_key(|&i| key(i as usize));
    let mut first: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for w in order.windows(2) {
        let (a, b) = (w[0] as usize, w[1] as usize);
        if key(a) == key(b) {
            let f = first.get(&a).copied().unwrap_or(a);
            first.insert(b, f);
        }
    }
    drop(order);
    // The children, once one differs from its argument (a coroutine made a
    // task); until then they are the arguments.
    let mut children: Option<Vec<Value>> = None;
    let mut nfuts = 0;
    let mut loop_v = Value::None;
    for (i, arg) in all.iter().cloned().enumerate() {
        if let Some(&f) = first.get(&i) {
            if let Some(c) = &mut children {
                c.push(c[f].clone());
            }
            continue;
        }
        let (fut, wrapped) = match arg {
            Value::Future(f) => (f, false),
            other => {
                let l = if loop_v.is_none() { event_loop_value(vm) } else { loop_v.clone() };
                (event_loop::ensure_future(vm, &l, other)?, true)
            }
        };
        if loop_v.is_none() {
            loop_v = fut.loop_value();
        }
        nfuts += 1;
        fut.add_done_callback(vm, task::DoneCallback::Call(cb.clone()));
        if wrapped && children.is_none() {
            let mut c = Vec::with_capacity(all.len());
            c.extend_from_slice(&all[..i]);
            children = Some(c);
        }
        if let Some(c) = &mut children {
            c.push(Value::Future(fut));
        }
    }
    let children = match children {
        Some(c) => Value::tuple(c),
        None => Value::Tuple(items.clone()),
    };
    Ok(Value::tuple(vec![children, Value::Int(nfuts), loop_v]))
}

fn cancel_requested(_vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Future(f)) => Ok(Value::bool(f.cancel_requested())),
        _ => Ok(Value::Bool(Flag::FALSE)),
    }
}

fn make_cancelled_error(_vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Future(f)) => Ok(f.make_cancelled_error().value()),
        _ => Err(type_error("expected a future")),
    }
}

fn cancel_message(_vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Future(f)) => Ok(f.cancel_message()),
        _ => Ok(Value::None),
    }
}

/// `_set_label(fut, label, io=False)`: what a task waiting on `fut` waits
/// for; `io`: the wait is on I/O or a child process.
fn set_label(vm: &mut Vm, args: Args) -> PyResult {
    if let (Some(Value::Future(f)), Some(Value::Str(s))) = (args.pos.first(), args.pos.get(1)) {
        f.set_label(s.clone());
        if let Some(io) = args.pos.get(2) {
            if vm.truthy(io)? {
                f.set_io_wait();
            }
        }
    }
    Ok(Value::None)
}

/// `_sync_name(obj, kind)`: what the program calls the lock (semaphore,
/// ...) `obj` being made: `Lock 'fork'`, `Lock locks['fork']`, `Lock
/// created at line 7`; observers learn of the new object.
fn sync_name(vm: &mut Vm, args: Args) -> PyResult {
    let kind = match args.pos.get(1) {
        Some(Value::Str(s)) => s.as_str().to_string(),
        _ => "Lock".to_string(),
    };
    if let Some(obj) = args.pos.first() {
        let _ = aio_interp::trace::trace_made(vm, obj, &kind);
    }
    Ok(Value::str(&aio_interp::sync::sync_name(vm, &kind)))
}

/// `_acquired(sync)`: the running task has acquired `sync`; returns that
/// task (the new holder), or None outside tasks.
fn acquired(vm: &mut Vm, args: Args) -> PyResult {
    if let Some(sync) = args.pos.first() {
        aio_interp::trace::trace_acquire(vm, sync);
    }
    Ok(aio_interp::sync::running(vm).map_or(Value::None, Value::Future))
}

/// `_released(sync, holders)`: the running task releases `sync`; from the
/// list of holders (a semaphore's) goes the running task, or else the oldest.
fn released(vm: &mut Vm, args: Args) -> PyResult {
    if let Some(sync) = args.pos.first() {
        aio_interp::trace::trace_release(vm, sync);
    }
    if let Some(Value::List(l)) = args.pos.get(1) {
        let me = aio_interp::sync::running(vm);
        let mut items = l.borrow_mut();
        let mine = items.iter().position(|v| matches!((v, &me), (Value::Future(a), Some(b)) if Rc::ptr_eq(a, b)));
        if let Some(i) = mine.or(if items.is_empty() { None } else { Some(0) }) {
            items.remove(i);
        }
    }
    Ok(Value::None)
}

/// `_sync_wait(sync, fut)`: a task waits on `fut` to acquire `sync`.
fn sync_wait(_vm: &mut Vm, args: Args) -> PyResult {
    if let (Some(sync), Some(Value::Future(f))) = (args.pos.first(), args.pos.get(1)) {
        aio_interp::sync::note_wait(sync, f);
    }
    Ok(Value::None)
}

/// `_to_thread(loop, func)`: run `func()` on a worker thread in a copy of
/// the current context (what `to_thread` does; `run_in_executor` does not copy).
fn to_thread(vm: &mut Vm, args: Args) -> PyResult {
    let [l, func] = &args.pos[..] else { return Err(type_error("_to_thread() takes 2 arguments")) };
    let context = aio_interp::context::copy_current(vm);
    Ok(Value::Future(aio_interp::event_loop::run_in_executor(vm, l, func.clone(), vec![], context)?))
}

/// The frames `Task.get_stack()` finds, each with its line: a pending
/// task's coroutine frame (where it is suspended, or running, or its `def`
/// line before it starts), or for a task that failed the frames of its
/// exception's traceback, outermost first; `limit` keeps the innermost
/// ones of a stack, the outermost ones of a traceback.
fn task_stack(vm: &Vm, f: &Rc<Future>, limit: Option<i64>) -> Vec<(crate::sys::FrameEntry, usize)> {
    let Some(t) = f.task() else { return vec![] };
    let Value::Generator(g) = &*t.coro() else { return vec![] };
    let globals = g.state.borrow().globals.clone();
    let mut frames = Vec::new();
    let status = g.state.borrow().status;
    if !f.done() && status != GenStatus::Closed {
        let ip = task::live_ip(vm, g).saturating_sub(1);
        let line = if status == GenStatus::Created { g.code.source.line_of(g.code.span.start) } else { g.code.line_at(ip) };
        frames.push(((g.code.clone(), ip, globals), line));
        if let Some(n) = limit {
            frames.truncate(n.max(0) as usize);
        }
    } else if let Some(e) = f.exception().filter(|_| !f.cancelled()) {
        let tb = e.exc().traceback.borrow();
        for entry in tb.iter().rev() {
            if limit.is_some_and(|n| frames.len() as i64 >= n) {
                break;
            }
            let line = entry.code.line_at(entry.ip as usize);
            frames.push(((entry.code.clone(), entry.ip as usize, globals.clone()), line));
        }
    }
    frames
}

fn stack_limit(vm: &mut Vm, args: &mut Args) -> PyResult<Option<i64>> {
    match args.take_kw("limit").or_else(|| args.pos.get(1).cloned()) {
        None | Some(Value::None) => Ok(None),
        Some(v) => Ok(Some(vm.index_value(&v)?)),
    }
}

/// `Task.get_stack(*, limit=None)`.
fn task_get_stack(vm: &mut Vm, mut args: Args) -> PyResult {
    let Some(Value::Future(f)) = args.pos.first().cloned() else { return Err(type_error("descriptor 'get_stack' requires a Task")) };
    let limit = stack_limit(vm, &mut args)?;
    let frames = task_stack(vm, &f, limit);
    Ok(Value::list(frames.into_iter().map(|(e, line)| Value::object(crate::sys::FrameView::single(e, line))).collect()))
}

/// `Task.print_stack(*, limit=None, file=None)`: the stack (or the
/// traceback, with the exception's line) as CPython's traceback module
/// prints it, to `file` or stderr.
fn task_print_stack(vm: &mut Vm, mut args: Args) -> PyResult {
    let Some(Value::Future(f)) = args.pos.first().cloned() else { return Err(type_error("descriptor 'print_stack' requires a Task")) };
    let file = args.take_kw("file").or_else(|| args.pos.get(2).cloned()).unwrap_or(Value::None);
    let limit = stack_limit(vm, &mut args)?;
    let frames = task_stack(vm, &f, limit);
    let exc = if f.done() && !f.cancelled() { f.exception() } else { None };
    let r = vm.repr_str(&Value::Future(f.clone()))?;
    let mut text = if frames.is_empty() {
        format!("No stack for {r}\n")
    } else if exc.is_some() {
        format!("Traceback for {r} (most recent call last):\n")
    } else {
        format!("Stack for {r} (most recent call last):\n")
    };
    for ((code, _, _), line) in &frames {
        let line = *line;
        text.push_str(&format!("  File \"{}\", line {}, in {}\n", code.source.name, line, code.name.as_str()));
        let src = code.source.line_text(line).trim();
        if !src.is_empty() {
            text.push_str(&format!("    {src}\n"));
        }
    }
    if let Some(e) = exc {
        let name = aio_interp::exceptions::qualified_exc_name(&e.class());
        let msg = vm.str_of(&e.value())?;
        text.push_str(&if msg.is_empty() { format!("{name}\n") } else { format!("{name}: {msg}\n") });
    }
    if file.is_none() {
        vm.write_err(&text);
    } else {
        vm.call_method(&file, "write", vec![Value::str(&text)])?;
    }
    Ok(Value::None)
}

/// How a frame shows in a call graph: `async` for a coroutine's, the
/// generator kinds for theirs, nothing for a function's.
fn frame_tag(code: &aio_interp::bytecode::Code) -> &'static str {
    if code.flags.coroutine {
        "async"
    } else if code.flags.async_generator {
        "async generator"
    } else if code.flags.generator {
        "generator"
    } else {
        ""
    }
}

fn frame_item(code: &Rc<aio_interp::bytecode::Code>, ip: usize, line: usize, globals: Rc<Module>) -> Value {
    let tag = frame_tag(code);
    Value::tuple(vec![Value::object(crate::sys::FrameView::single((code.clone(), ip, globals), line)), Value::str(tag)])
}

/// `_call_stack(future, depth)`: the frames of a call graph's stack,
/// innermost first, as (frame, tag) pairs. For the running task (or
/// `future` None), the running frames of the program from the `depth`-th
/// on, down to the task's coroutine; for another task, its chain of
/// awaiting coroutines; for a plain future, none.
fn call_stack(vm: &mut Vm, args: Args) -> PyResult {
    let fut = args.pos.first().cloned().unwrap_or(Value::None);
    let depth = match args.pos.get(1) {
        Some(v) => vm.index_value(v)?,
        None => 1,
    };
    let current = event_loop::current_task(vm);
    let mut out = Vec::new();
    let target = if fut.is_none() { current.clone() } else { fut.clone() };
    let Value::Future(f) = &target else { return Ok(Value::list(out)) };
    let Some(t) = f.task() else { return Ok(Value::list(out)) };
    if target.is(&current) {
        let coro = t.coro_value();
        let mut skip = depth.max(1) - 1;
        for fr in vm.frames.iter().rev() {
            if !aio_interp::trace::is_user(&fr.code) {
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let ip = fr.ip.saturating_sub(1);
            out.push(frame_item(&fr.code, ip, fr.code.line_at(ip), fr.globals.clone()));
            if fr.gen.as_ref().is_some_and(|g| matches!(&coro, Value::Generator(c) if Rc::ptr_eq(c, g))) {
                break;
            }
        }
    } else {
        for g in aio_interp::trace::await_chain(&t.coro()).iter().rev() {
            if !aio_interp::trace::is_user(&g.code) {
                continue;
            }
            let st = g.state.borrow();
            let ip = (st.ip as usize).saturating_sub(1);
            let line = if st.status == GenStatus::Created { g.code.source.line_of(g.code.span.start) } else { g.code.line_at(ip) };
            out.push(frame_item(&g.code, ip, line, st.globals.clone()));
        }
    }
    Ok(Value::list(out))
}

/// `_done_callbacks(future)`: its pending callbacks, a waiting task as the task.
fn done_callbacks(_vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Future(f)) => Ok(Value::list(f.callbacks())),
        _ => Ok(Value::list(vec![])),
    }
}

fn run_until_complete(vm: &mut Vm, args: Args) -> PyResult {
    let l = args.pos.first().cloned().unwrap_or(Value::None);
    event_loop::run_until_complete(vm, &l, args.pos.get(1).cloned().unwrap_or(Value::None))
}

/// Build the `_asyncio` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let t = types();
    let fns: &[(&str, NativeFnPtr)] = &[
        ("sleep", sleep),
        ("get_running_loop", get_running_loop),
        ("_get_running_loop", get_running_loop_or_none),
        ("get_event_loop", get_event_loop),
        ("_get_event_loop", get_event_loop),
        ("set_event_loop", set_event_loop),
        ("new_event_loop", new_event_loop),
        ("create_task", create_task),
        ("ensure_future", ensure_future),
        ("current_task", current_task),
        ("all_tasks", all_tasks),
        ("_all_tasks_of", all_tasks_of),
        ("iscoroutine", iscoroutine),
        ("iscoroutinefunction", iscoroutinefunction),
        ("isfuture", isfuture),
        ("_gathering_future", gathering_future),
        ("_gather_children", gather_children),
        ("_cancel_requested", cancel_requested),
        ("_make_cancelled_error", make_cancelled_error),
        ("_cancel_message", cancel_message),
        ("_set_label", set_label),
        ("_sync_name", sync_name),
        ("_acquired", acquired),
        ("_released", released),
        ("_sync_wait", sync_wait),
        ("_run_until_complete", run_until_complete),
        ("_to_thread", to_thread),
        ("_call_stack", call_stack),
        ("_done_callbacks", done_callbacks),
    ];
    let mut entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    let future_cls = task::future_class();
    future_cls.dict.set_str(
        "__new__",
        aio_interp::attr::StaticMethod::wrap(native_fn("__new__", |vm, mut a| {
            a.pos.remove(0);
            future_new(vm, a)
        })),
    );
    let task_cls = task::task_class();
    task_cls.dict.set_str(
        "__new__",
        aio_interp::attr::StaticMethod::wrap(native_fn("__new__", |vm, mut a| {
            a.pos.remove(0);
            task_new(vm, a)
        })),
    );
    aio_interp::types::method(&task_cls, "Task", "get_stack", task_get_stack);
    aio_interp::types::method(&task_cls, "Task", "print_stack", task_print_stack);
    let (handle, timer_handle) = event_loop::handle_classes();
    entries.push(("Handle", Value::Class(handle)));
    entries.push(("TimerHandle", Value::Class(timer_handle)));
    let loop_cls = event_loop::loop_class();
    loop_cls.dict.set_str("__module__", Value::str("asyncio.unix_events"));
    loop_cls.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", |_vm, _a| Ok(event_loop::new_loop()))));
    entries.push(("_UnixSelectorEventLoop", Value::Class(loop_cls)));
    entries.push(("Event", Value::Class(event::event_class())));
    let [q, lifo, prio] = queue::queue_classes();
    entries.push(("Queue", Value::Class(q)));
    entries.push(("LifoQueue", Value::Class(lifo)));
    entries.push(("PriorityQueue", Value::Class(prio)));
    entries.push(("QueueShutDown", Value::Class(queue::shut_down_class())));
    entries.push(("Future", Value::Class(future_cls)));
    entries.push(("Task", Value::Class(task_cls)));
    entries.push(("CancelledError", Value::Class(t.exc.cancelled_error.clone())));
    entries.push(("InvalidStateError", Value::Class(t.exc.invalid_state_error.clone())));
    entries.push(("TimeoutError", Value::Class(t.exc.timeout_error.clone())));
    entries.push(("QueueEmpty", Value::Class(t.exc.queue_empty.clone())));
    entries.push(("QueueFull", Value::Class(t.exc.queue_full.clone())));
    entries.extend(streams::entries());
    entries.extend(transport::entries());
    entries.extend(subprocess::entries());
    transport::install_loop_methods();
    crate::signal::install_loop_methods();
    Ok(vm.make_native_module("_asyncio", entries))
}
