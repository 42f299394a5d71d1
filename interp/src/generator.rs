//! Generators, coroutines and async generators: creation, resuming their
//! frame on the VM's stack (stackless for `for`, `yield from` and `await`),
//! throwing into a chain of delegating frames, the `await` protocol, and
//! the `asend`/`athrow`/`aclose` awaitables of async generators.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::bytecode::{Code, Op};
use crate::exceptions::*;
use crate::object::*;
use crate::ops::lookup_special;
use crate::types::{method, type_name, types, Types};
use crate::value::Value;
use crate::vm::{Frame, FrameKind, Halt, ResumeMode, Vm};

/// Make the generator object for a call of a resumable function.
pub fn new_generator(vm: &mut Vm, f: &Rc<Function>, locals: GenStack) -> Value {
    new_generator_with(vm, f, |stack| *stack = locals)
}

/// The generator for a call of `f` (a `simple_resumable` function) with
/// exactly its positional parameters: they become its first locals, the
/// others start unbound (or as the cells of its closure and its own).
pub fn new_generator_with_args(vm: &mut Vm, f: &Rc<Function>, args: impl IntoIterator<Item = Value>) -> Value {
    let nlocals = f.code.nlocals as usize;
    // Pushed one by one: `extend` and `resize` cost more for these few.
    new_generator_with(vm, f, |locals| {
        for v in args {
            locals.push(v);
        }
        unbound_locals(f, locals, nlocals);
    })
}

/// The locals after the arguments of a new generator of `f`, up to
/// `nlocals`: unbound, its cells made in place.
#[inline(always)]
pub fn unbound_locals(f: &Function, locals: &mut GenStack, nlocals: usize) {
    for _ in locals.len()..nlocals {
        locals.push(Value::Undef);
    }
    if f.code.has_cells() {
        crate::call::prepare_cells(&f.code, locals, &f.closure);
    }
}

static ORIGIN_DEPTH: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// `sys.get_coroutine_origin_tracking_depth()`.
pub fn origin_tracking_depth() -> i64 {
    ORIGIN_DEPTH.load(std::sync::atomic::Ordering::Relaxed)
}

/// `sys.set_coroutine_origin_tracking_depth(depth)`: how many frames
/// `cr_origin` shows (0: none, and `cr_origin` is None).
pub fn set_origin_tracking_depth(depth: i64) {
    ORIGIN_DEPTH.store(depth, std::sync::atomic::Ordering::Relaxed);
}

/// `new_generator` whose locals `fill` writes straight into the new
/// generator (a moved `GenStack` is copied with wide loads of narrow stores,
/// which stall).
#[inline]
pub fn new_generator_with(vm: &mut Vm, f: &Rc<Function>, fill: impl FnOnce(&mut GenStack)) -> Value {
    new_generator_of(vm, &f.code, &f.globals, Generator::names_of(f), fill)
}

/// `new_generator_with` for `code` run with `globals`, named `names` when
/// they are not the code's: what a call of a function of `code` makes, and
/// what a generator expression makes with no function (`Op::Comprehension`).
#[inline(always)]
pub fn new_generator_of(
    vm: &mut Vm,
    code: &Rc<Code>,
    globals: &Rc<Module>,
    names: Option<(Rc<PyStr>, Rc<PyStr>)>,
    fill: impl FnOnce(&mut GenStack),
) -> Value {
    let kind = if code.flags.async_generator {
        GenKind::AsyncGenerator
    } else if code.flags.coroutine {
        GenKind::Coroutine
    } else {
        GenKind::Generator
    };
    // Only a coroutine shows where it was made (`cr_origin`, "never
    // awaited" warnings, task reports).
    let origin = match kind {
        GenKind::Coroutine => vm.frames.last().map(|fr| TbEntry { code: fr.code.clone(), ip: fr.ip.saturating_sub(1) as u32 }),
        _ => None,
    };
    // Written in place, into a recycled generator or a fresh allocation:
    // `Rc::new` of the finished struct built it on the stack and copied its
    // 200 bytes over (a coroutine is made for every call of an `async def`).
    // SAFETY (for callers): `slot` is valid for writes and holds no value.
    #[inline(always)]
    unsafe fn write(
        slot: *mut Generator,
        kind: GenKind,
        code: &Rc<Code>,
        globals: &Rc<Module>,
        names: Option<(Rc<PyStr>, Rc<PyStr>)>,
        origin: Option<TbEntry>,
    ) {
        let (meta, origin_ip) = GenMeta::new(code, names, origin);
        slot.write(Generator {
            kind,
            flags: Cell::new(0),
            origin_ip,
            gc: Default::default(),
            code: code.clone(),
            meta,
            state: RefCell::new(GenState {
                status: GenStatus::Created,
                ip: 0,
                stack: GenStack::new(),
                globals: globals.clone(),
                exc: None,
                delegating: false,
            }),
        });
    }
    let mut g = match vm.gen_pool.pop() {
        Some(mut g) => {
            let slot: *mut Generator = Rc::get_mut(&mut g).expect("a pooled generator is unshared");
            // SAFETY: `slot` is the pool's only reference; the old generator
            // is dropped before the new one is written over it.
            unsafe {
                std::ptr::drop_in_place(slot);
                write(slot, kind, code, globals, names, origin);
            }
            g
        }
        None => {
            let mut g = Rc::<Generator>::new_uninit();
            // SAFETY: a fresh allocation, written before it is assumed initialized.
            unsafe {
                write(Rc::get_mut(&mut g).expect("a fresh Rc").as_mut_ptr(), kind, code, globals, names, origin);
                g.assume_init()
            }
        }
    };
    fill(&mut Rc::get_mut(&mut g).expect("a new generator is unshared").state.get_mut().stack);
    // A coroutine may be part of a cycle before it ever runs (`box =
    // [work()]; box.append(box)`), as any generator.
    crate::gc::track(&g);
    Value::Generator(g)
}

/// Keep a finished generator for `new_generator` to reuse when nothing
/// else refers to it (a coroutine awaited at once finishes and is dropped
/// at the rate of calls: its allocation is recycled instead).
pub fn recycle(vm: &mut Vm, g: Rc<Generator>) {
    const POOL: usize = 64;
    if vm.gen_pool.len() < POOL && Rc::strong_count(&g) == 1 && Rc::weak_count(&g) == 0 {
        vm.gen_pool.push(g);
    }
}

/// A generator body for module code with top-level `await`: the module
/// body becomes a coroutine run as the main task.
pub fn module_coroutine(code: Rc<Code>, module: Rc<Module>) -> Value {
    let locals: GenStack = std::iter::repeat_n(Value::Undef, code.nlocals as usize).collect();
    let state = GenState { status: GenStatus::Created, ip: 0, stack: locals, globals: module, exc: None, delegating: false };
    Value::Generator(Rc::new(Generator::new(GenKind::Coroutine, code, None, None, state)))
}

fn kind_word(g: &Generator) -> &'static str {
    match g.kind {
        GenKind::Generator => "generator",
        GenKind::Coroutine => "coroutine",
        GenKind::AsyncGenerator => "async generator",
    }
}

impl Vm {
    /// Move a suspended generator's frame onto the stack. `send` is the
    /// value the paused `yield` evaluates to (None: resume to throw).
    pub(crate) fn push_gen_frame_opt(&mut self, g: &Rc<Generator>, mode: ResumeMode, send: Option<Value>) -> PyResult<()> {
        if self.frames.len() >= self.recursion_limit {
            return Err(recursion_error());
        }
        let mut st = g.state.borrow_mut();
        match st.status {
            GenStatus::Running => return Err(value_error(format!("{} already executing", kind_word(g)))),
            GenStatus::Closed => return Err(runtime_error(format!("cannot resume a finished {}", kind_word(g)))),
            GenStatus::Created => {
                if let Some(v) = &send {
                    if !v.is_none() {
                        return Err(type_error(format!("can't send non-None value to a just-started {}", kind_word(g))));
                    }
                }
            }
            GenStatus::Suspended => {}
        }
        let base = self.stack.len();
        let created = st.status == GenStatus::Created;
        let n = st.stack.len();
        self.stack.reserve(n + 1);
        // SAFETY: the saved values move in one copy into reserved room; both
        // lengths are set so that each is owned exactly once.
        unsafe {
            Value::move_words(st.stack.as_ptr(), self.stack.as_mut_ptr().add(base), n);
            st.stack.set_len(0);
            self.stack.set_len(base + n);
        }
        if !created {
            if let Some(v) = send {
                self.stack.push(v);
            }
        }
        st.status = GenStatus::Running;
        let ip = st.ip as usize;
        let globals = st.globals.clone();
        let gen_exc = st.take_exc();
        drop(st);
        let gen_exc = self.resume_exc(gen_exc);
        let caller_exc = std::mem::replace(&mut self.cur_exc, gen_exc);
        self.push_frame_unchecked(Frame::new(g.code.clone(), ip, base, globals, FrameKind::Gen { gen: g.clone(), mode, caller_exc }));
        Ok(())
    }

    pub(crate) fn push_gen_frame(&mut self, g: &Rc<Generator>, mode: ResumeMode, send: Value) -> PyResult<()> {
        self.push_gen_frame_opt(g, mode, Some(send))
    }
}

// ------------------------------------------------------------ delegation chains
//
// A value yielded through a chain of generators suspended inside `yield
// from` (`for v in head`, head delegating to s1, s1 to s2, ...) would be
// passed up one level at a time, each level resumed and suspended again
// for it. Instead, `for` and `Send` resume the deepest generator of the
// chain directly, in the mode the head would have had: what it yields goes
// straight to the resumer, the generators between stay suspended inside
// their `Send` (marked running, as they are), and only when the deepest one
// returns or raises is its delegating parent resumed, at its `Send`. The
// resumer's operand (the head) differs from the generator of the running
// frame exactly when such a chain is being run.

// The walks below read and write the generators' states through
// `RefCell::as_ptr`, without guards: they run no program code and take no
// other borrow, no borrow of a generator's state is held by their callers,
// and every generator of a chain is kept alive by the one before it (whose
// saved values, which hold it, do not change during a walk).

/// The generator on top of `g`'s saved values (its delegate, when it is
/// suspended inside `yield from`).
///
/// # Safety
/// No mutable borrow of `g.state` is alive (see above).
#[inline(always)]
unsafe fn top_generator(g: &Generator) -> Option<&Rc<Generator>> {
    match (*g.state.as_ptr()).stack.last() {
        Some(Value::Generator(s)) => Some(s),
        _ => None,
    }
}

/// The generator to resume for `head`, suspended inside `yield from`: the
/// deepest of its chain of delegates that can be reached by skipping
/// generators, which are marked running on the way. A generator is skipped
/// when it is a plain generator delegating to a suspended plain generator
/// and handles no exception (its delegate, resumed directly, sees the
/// caller's, as it would through it).
#[inline(never)]
pub(crate) fn chain_leaf(head: Rc<Generator>) -> Rc<Generator> {
    let mut cur: &Rc<Generator> = &head;
    // SAFETY: see the walks' rules above.
    unsafe {
        loop {
            let st = cur.state.as_ptr();
            if cur.kind != GenKind::Generator || !(*st).delegating || (*st).exc.is_some() {
                break;
            }
            let Some(next) = top_generator(cur) else { break };
            if next.kind != GenKind::Generator || (*next.state.as_ptr()).status != GenStatus::Suspended {
                break;
            }
            (*st).status = GenStatus::Running;
            cur = next;
        }
    }
    cur.clone()
}

/// The generator of `head`'s chain whose delegate is `sub`. The chain runs
/// from `head` to `sub` (see `chain_leaf`), every link a generator.
fn chain_parent(head: &Rc<Generator>, sub: &Generator) -> Rc<Generator> {
    let mut cur = head;
    // SAFETY: see the walks' rules above.
    unsafe {
        while let Some(next) = top_generator(cur) {
            if std::ptr::eq(Rc::as_ptr(next), sub) {
                break;
            }
            cur = next;
        }
    }
    cur.clone()
}

/// `leaf`, resumed for `head` (see `chain_leaf`), suspended: the
/// generators between them are suspended again.
#[inline(never)]
pub(crate) fn chain_suspended(head: &Rc<Generator>, leaf: &Generator) {
    let mut cur: &Generator = head;
    // SAFETY: see the walks' rules above.
    unsafe {
        while !std::ptr::eq(cur, leaf) {
            (*cur.state.as_ptr()).status = GenStatus::Suspended;
            match top_generator(cur) {
                Some(next) => cur = next,
                None => break,
            }
        }
    }
}

/// `done`, resumed for `head` (see `chain_leaf`), finished: its delegating
/// parent is resumed in its place, in `mode`, as its `Send` would go on:
/// at the exit with `v`, the value `yield from` evaluates to (`Some`), or
/// raising at the `Send` what `done` raised (`None`: the caller unwinds).
#[inline(never)]
pub(crate) fn chain_finished(vm: &mut Vm, head: &Rc<Generator>, done: &Generator, mode: ResumeMode, v: Option<Value>) -> PyResult<()> {
    let parent = chain_parent(head, done);
    {
        let mut st = parent.state.borrow_mut();
        let at_send = match send_at(&parent.code, st.ip as usize) {
            Some(at) => at,
            None => unreachable!("a delegating generator is suspended before its Send"),
        };
        st.status = GenStatus::Suspended;
        st.delegating = false;
        match &v {
            Some(_) => {
                let Op::Send(exit) = parent.code.ops.at(at_send) else { unreachable!("a Send") };
                st.ip = exit;
                let sub = st.stack.pop();
                drop(st);
                drop(sub);
            }
            None => st.ip = at_send as u32 + 1,
        }
    }
    // A frame was just popped: the recursion limit is not reached again.
    vm.push_gen_frame_opt(&parent, mode, v)
}

/// The running frames, outermost first, as (code, index of the running
/// instruction, globals), the generators a chain skips (see `chain_leaf`)
/// included, each at its `Send`: what tracebacks of the running stack show.
pub fn running_frames(vm: &Vm) -> Vec<(Rc<Code>, usize, Rc<Module>)> {
    let mut out = Vec::with_capacity(vm.frames.len());
    for f in &vm.frames {
        if let (Some(leaf), ResumeMode::Send(_) | ResumeMode::ForIter(_)) = (&f.gen, f.mode) {
            if let Some(Value::Generator(head)) = f.base.checked_sub(1).and_then(|i| vm.stack.get(i)) {
                let mut cur = head.clone();
                while !Rc::ptr_eq(&cur, leaf) {
                    let next = {
                        let st = cur.state.borrow();
                        out.push((cur.code.clone(), send_at(&cur.code, st.ip as usize).unwrap_or(0), st.globals.clone()));
                        match st.stack.last() {
                            Some(Value::Generator(s)) => s.clone(),
                            _ => break,
                        }
                    };
                    cur = next;
                }
            }
        }
        out.push((f.code.clone(), f.ip.saturating_sub(1), f.globals.clone()));
    }
    out
}

/// Where the `Send` of a frame suspended inside `yield from` at `ip` is.
fn send_at(code: &Code, ip: usize) -> Option<usize> {
    match code.ops.get(ip)? {
        Op::Jump(t) if matches!(code.ops.get(t as usize)?, Op::Send(_)) => Some(t as usize),
        _ => None,
    }
}

/// The target of the `Send` that a frame suspended inside `yield from`/`await` returns to.
fn send_exit(code: &Code, ip: usize) -> Option<u32> {
    match code.ops.get(ip)? {
        Op::Jump(t) => match code.ops.get(t as usize)? {
            Op::Send(exit) => Some(exit),
            _ => None,
        },
        _ => None,
    }
}

/// Throw `exc` into generator `g`, resumed in `mode`: frames are pushed
/// down its delegation chain. `Ok` means the loop can continue as is;
/// `Err(e)` is the exception to raise in the top frame (or in the caller,
/// when nothing was pushed).
pub fn throw_gen(vm: &mut Vm, g: &Rc<Generator>, exc: PyErr, mode: ResumeMode) -> Result<(), PyErr> {
    let status = g.state.borrow().status;
    match status {
        GenStatus::Created => {
            let mut st = g.state.borrow_mut();
            st.close();
            return Err(exc);
        }
        GenStatus::Closed => return Err(exc),
        GenStatus::Running => return Err(value_error(format!("{} already executing", kind_word(g)))),
        GenStatus::Suspended => {}
    }
    let delegating = g.state.borrow().delegating;
    vm.push_gen_frame_opt(g, mode, None)?;
    if !delegating {
        return Err(exc);
    }
    let sub = vm.stack.last().cloned().unwrap_or(Value::None);
    let frame_ip = vm.frames.last().map(|f| f.ip).unwrap_or(0);
    let Some(exit) = send_exit(&g.code, frame_ip) else { return Err(exc) };
    let is_exit = exc.is(&types().exc.generator_exit);
    match &sub {
        Value::Generator(sg) if sg.kind != GenKind::AsyncGenerator => {
            if is_exit {
                // close() the delegate, then raise GeneratorExit here.
                gen_close(vm, sg)?;
                return Err(exc);
            }
            match throw_gen(vm, sg, exc, ResumeMode::Send(exit)) {
                Ok(()) => Ok(()),
                Err(e) => Err(e),
            }
        }
        Value::Future(_) => {
            // A future's `yield self` raises what is thrown in.
            Err(exc)
        }
        Value::Object(o) if o.await_iter().is_some() => {
            let o = o.clone();
            let ai = o.await_iter().expect("awaitable");
            if is_exit {
                ai.close(vm);
                return Err(exc);
            }
            match ai.throw(vm, &sub, exc) {
                Ok(Step::Yield(y)) => {
                    // Yield again from the same point.
                    let f = vm.frames.last_mut().expect("frame");
                    f.ip -= 1;
                    vm.stack.push(y);
                    Ok(())
                }
                Ok(Step::Return(r)) => {
                    vm.stack.pop();
                    vm.stack.push(r);
                    vm.frames.last_mut().expect("frame").ip = exit as usize;
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        _ => {
            if is_exit {
                if let Some(close) = vm.getattr_opt(&sub, "close").ok().flatten() {
                    vm.call(close, Args::default())?;
                }
                return Err(exc);
            }
            let throw = match vm.getattr_opt(&sub, "throw") {
                Ok(Some(t)) => t,
                _ => return Err(exc),
            };
            match vm.call(throw, Args::new([exc.value()])) {
                Ok(y) => {
                    let f = vm.frames.last_mut().expect("frame");
                    f.ip -= 1;
                    vm.stack.push(y);
                    Ok(())
                }
                Err(e) if e.is(&types().exc.stop_iteration) => {
                    vm.stack.pop();
                    vm.stack.push(e.first_arg());
                    vm.frames.last_mut().expect("frame").ip = exit as usize;
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// How to resume a generator from Rust.
pub enum Resume {
    Send(Value),
    Throw(PyErr),
}

/// Resume a generator from Rust and run it until it yields or finishes.
pub fn resume(vm: &mut Vm, g: &Rc<Generator>, how: Resume) -> PyResult<Halt> {
    let entry = vm.frames.len();
    vm.native_depth += 1;
    let r = (|| match how {
        Resume::Send(v) => {
            vm.push_gen_frame(g, ResumeMode::Native, v)?;
            vm.run(entry)
        }
        Resume::Throw(e) => match throw_gen(vm, g, e, ResumeMode::Native) {
            Ok(()) => vm.run(entry),
            Err(e) => {
                if vm.frames.len() == entry {
                    return Err(e);
                }
                vm.unwind(e, entry, true)?;
                vm.run(entry)
            }
        },
    })();
    vm.native_depth -= 1;
    r
}

/// `next(gen)` from Rust: `None` when finished.
pub fn gen_next(vm: &mut Vm, g: &Rc<Generator>) -> PyResult<Option<Value>> {
    if g.state.borrow().status == GenStatus::Closed {
        return Ok(None);
    }
    match resume(vm, g, Resume::Send(Value::None))? {
        Halt::Yield(v, _) => Ok(Some(v)),
        _ => Ok(None),
    }
}

/// What a generator drained by a native consumer does with the values it
/// yields (see `drain`). Taking a value never runs .aio code: a value whose
/// handling would (a `__bool__`, an `__add__`) is handed back, the
/// generator suspends, and the consumer handles it while the generator is
/// suspended, in the order CPython runs the two.
#[derive(Default)]
pub enum Sink {
    /// No drain is running.
    #[default]
    Closed,
    /// Keep every value (`list(g)`, `tuple(g)`, `set(g)`, `sorted(g)`, ...).
    Collect(Vec<Value>),
    /// Keep up to this many values and hand the next one back (`a, b = g`
    /// takes one more than it needs, to see that there is none).
    CollectAtMost(Vec<Value>, usize),
    /// Take the values whose truth is plain and is not the one looked for
    /// (`any(g)` looks for true, `all(g)` for false).
    Until(bool),
    /// Add up ints while the total fits (`sum(g)`).
    SumInt(i64),
}

impl Sink {
    /// Take `v`, or hand it back.
    #[inline]
    pub fn take(&mut self, v: Value) -> Option<Value> {
        match self {
            Sink::Collect(items) => {
                items.push(v);
                None
            }
            Sink::CollectAtMost(items, n) if items.len() < *n => {
                items.push(v);
                None
            }
            Sink::CollectAtMost(..) => Some(v),
            // A value taken and not kept is discarded (dropping it was a
            // call per value).
            Sink::Until(wanted) => match v.plain_truth() {
                Some(b) if b != *wanted => {
                    v.discard();
                    None
                }
                _ => Some(v),
            },
            Sink::SumInt(acc) => match &v {
                Value::Int(i) => match acc.checked_add(*i) {
                    Some(r) => {
                        *acc = r;
                        None
                    }
                    None => Some(v),
                },
                _ => Some(v),
            },
            Sink::Closed => Some(v),
        }
    }
}

/// Run generator `g` from Rust, giving what it yields to `sink`, in one
/// run of the dispatch loop: its frame stays on the VM's stack from one
/// value to the next instead of being suspended and resumed for each (what
/// `gen_next` costs per value). `Some(v)`: the sink handed `v` back and the
/// generator is suspended after yielding it; `None`: it finished.
pub fn drain(vm: &mut Vm, g: &Rc<Generator>, sink: &mut Sink) -> PyResult<Option<Value>> {
    if g.state.borrow().status == GenStatus::Closed {
        return Ok(None);
    }
    let entry = vm.frames.len();
    vm.native_depth += 1;
    // A drain inside the generator (its body calls `list(h)`) keeps the
    // outer sink aside until it is done.
    let outer = std::mem::replace(&mut vm.sink, std::mem::take(sink));
    let r = match vm.push_gen_frame(g, ResumeMode::Drain, Value::None) {
        Ok(()) => vm.run(entry),
        Err(e) => Err(e),
    };
    *sink = std::mem::replace(&mut vm.sink, outer);
    vm.native_depth -= 1;
    match r? {
        Halt::Yield(v, _) => Ok(Some(v)),
        _ => Ok(None),
    }
}

/// `gen.close()`.
pub fn gen_close(vm: &mut Vm, g: &Rc<Generator>) -> PyResult<()> {
    let status = g.state.borrow().status;
    match status {
        GenStatus::Created | GenStatus::Closed => {
            let mut st = g.state.borrow_mut();
            st.close();
            Ok(())
        }
        GenStatus::Running => Err(value_error(format!("{} already executing", kind_word(g)))),
        GenStatus::Suspended => match resume(vm, g, Resume::Throw(err_noargs(&types().exc.generator_exit))) {
            Ok(Halt::Yield(..)) => Err(runtime_error(format!("{} ignored GeneratorExit", kind_word(g)))),
            Ok(_) => Ok(()),
            Err(e) if e.is(&types().exc.generator_exit) || e.is(&types().exc.stop_iteration) => Ok(()),
            Err(e) => Err(e),
        },
    }
}

/// PEP 479: a StopIteration escaping a generator becomes a RuntimeError.
pub fn convert_stop_iteration(g: &Generator, err: PyErr) -> PyErr {
    let t = types();
    let msg = if err.is(&t.exc.stop_iteration) {
        format!("{} raised StopIteration", kind_word(g))
    } else if g.kind == GenKind::AsyncGenerator && err.is(&t.exc.stop_async_iteration) {
        "async generator raised StopAsyncIteration".to_string()
    } else {
        return err;
    };
    let new = runtime_error(msg);
    *new.exc().cause.borrow_mut() = err.value();
    new.exc().suppress_context.set(true);
    *new.exc().context.borrow_mut() = err.value();
    new
}

// ------------------------------------------------------------ await

/// The iterator `await v` drives.
pub fn get_awaitable(vm: &mut Vm, v: Value) -> PyResult<Value> {
    match &v {
        Value::Generator(g) if g.kind == GenKind::Coroutine => {
            if g.state.borrow().status == GenStatus::Closed {
                return Err(runtime_error("cannot reuse already awaited coroutine"));
            }
            Ok(v)
        }
        Value::Object(o) if o.await_iter().is_some() => Ok(v),
        Value::Future(_) => Ok(v),
        Value::Instance(_) | Value::Object(_) => match lookup_special(&v, "__await__") {
            Some(f) => {
                let it = vm.call(f, Args::new([v.clone()]))?;
                // `return self._coro.__await__()`: the await drives the coroutine itself.
                if let Some(w) = it.downcast::<CoroWrapper>() {
                    return get_awaitable(vm, Value::Generator(w.0.clone()));
                }
                if let Value::Generator(g) = &it {
                    if g.kind == GenKind::Coroutine {
                        return Err(type_error("__await__() returned a coroutine"));
                    }
                }
                if !vm.is_iterator(&it) {
                    return Err(type_error(format!("__await__() returned non-iterator of type '{}'", type_name(&it))));
                }
                Ok(it)
            }
            None => Err(type_error(format!("object {} can't be used in 'await' expression", type_name(&v)))),
        },
        _ => Err(type_error(format!("object {} can't be used in 'await' expression", type_name(&v)))),
    }
}

/// What a `Send` instruction did.
pub enum SendOutcome {
    /// A generator frame was pushed; the loop continues in it.
    Pushed,
    /// The delegate yielded this value (pass it up).
    Yielded(Value),
    /// The delegate finished with this value.
    Returned(Value),
}

/// The `Send` instruction: resume the delegate `it` with `v`.
pub fn send_op(vm: &mut Vm, it: &Value, v: Value, exit: u32) -> PyResult<SendOutcome> {
    match it {
        Value::Generator(g) => {
            if g.state.borrow().status == GenStatus::Closed {
                if g.kind == GenKind::Coroutine {
                    return Err(runtime_error("cannot reuse already awaited coroutine"));
                }
                return Ok(SendOutcome::Returned(Value::None));
            }
            vm.push_gen_frame(g, ResumeMode::Send(exit), v)?;
            Ok(SendOutcome::Pushed)
        }
        Value::Future(f) => Ok(match f.await_send()? {
            Step::Yield(y) => SendOutcome::Yielded(y),
            Step::Return(r) => SendOutcome::Returned(r),
        }),
        Value::Object(o) => {
            if let Some(a) = o.as_any().downcast_ref::<ASend>() {
                return a.step(vm, v, exit);
            }
            if let Some(ai) = o.await_iter() {
                let o = o.clone();
                let _keep = &o;
                return Ok(match ai.send(vm, it, v)? {
                    Step::Yield(y) => SendOutcome::Yielded(y),
                    Step::Return(r) => SendOutcome::Returned(r),
                });
            }
            generic_send(vm, it, v)
        }
        _ => generic_send(vm, it, v),
    }
}

fn generic_send(vm: &mut Vm, it: &Value, v: Value) -> PyResult<SendOutcome> {
    let r = if v.is_none() {
        match vm.next(it) {
            Ok(Some(y)) => return Ok(SendOutcome::Yielded(y)),
            Ok(None) => return Ok(SendOutcome::Returned(Value::None)),
            Err(e) => Err(e),
        }
    } else {
        vm.call_method(it, "send", vec![v])
    };
    match r {
        Ok(y) => Ok(SendOutcome::Yielded(y)),
        Err(e) if e.is(&types().exc.stop_iteration) => Ok(SendOutcome::Returned(e.first_arg())),
        Err(e) => Err(e),
    }
}

// ------------------------------------------------------------ async iteration

/// `aiter(v)` for `async for`.
pub fn get_aiter(vm: &mut Vm, v: Value) -> PyResult<Value> {
    match &v {
        Value::Generator(g) if g.kind == GenKind::AsyncGenerator => Ok(v),
        Value::Generator(g) if is_as_completed(g) => as_completed_aiter(vm, g),
        Value::Instance(_) | Value::Object(_) => match lookup_special(&v, "__aiter__") {
            Some(f) => {
                let it = vm.call(f, Args::new([v.clone()]))?;
                let ok = match &it {
                    Value::Generator(g) => g.kind == GenKind::AsyncGenerator,
                    _ => lookup_special(&it, "__anext__").is_some(),
                };
                if !ok {
                    return Err(type_error(format!(
                        "'async for' received an object from __aiter__ that does not implement __anext__: {}",
                        type_name(&it)
                    )));
                }
                Ok(it)
            }
            None => Err(type_error(format!("'async for' requires an object with __aiter__ method, got {}", type_name(&v)))),
        },
        _ => Err(type_error(format!("'async for' requires an object with __aiter__ method, got {}", type_name(&v)))),
    }
}

/// Is `g` a generator of `asyncio.as_completed()` that has not started?
/// (In 3.11 it is a plain generator; since 3.13 `async for` takes it too.)
fn is_as_completed(g: &Generator) -> bool {
    if g.kind != GenKind::Generator || g.qualname().as_str() != "as_completed" {
        return false;
    }
    let st = g.state.borrow();
    st.status == GenStatus::Created && st.globals.name.as_str() == "asyncio"
}

/// `async for` over an `as_completed()` generator: asyncio's async
/// iterator over the same awaitables (its arguments, `fs` and `timeout`,
/// are the first locals of the generator, which is closed unused).
fn as_completed_aiter(vm: &mut Vm, g: &Rc<Generator>) -> PyResult<Value> {
    let (fs, timeout, module) = {
        let st = g.state.borrow();
        (st.stack.first().cloned().unwrap_or(Value::None), st.stack.get(1).cloned().unwrap_or(Value::None), st.globals.clone())
    };
    let make = module.get("_AsCompleted").ok_or_else(|| runtime_error("asyncio is not loaded"))?;
    g.state.borrow_mut().close();
    vm.call(make, Args::new([fs, timeout]))
}

/// The awaitable of `aiter.__anext__()`.
pub fn get_anext(vm: &mut Vm, it: Value) -> PyResult<Value> {
    match &it {
        Value::Generator(g) if g.kind == GenKind::AsyncGenerator => Ok(ASend::make(g.clone(), ASendKind::Send(Value::None))),
        _ => {
            let Some(f) = lookup_special(&it, "__anext__") else {
                return Err(type_error(format!("'async for' requires an iterator with __anext__ method, got {}", type_name(&it))));
            };
            let a = vm.call(f, Args::new([it.clone()]))?;
            get_awaitable(vm, a).map_err(|_| type_error("'async for' received an invalid object from __anext__"))
        }
    }
}

/// What an async generator awaitable does on its first step.
pub enum ASendKind {
    Send(Value),
    Throw(PyErr),
    Close,
}

/// The awaitable returned by `__anext__`, `asend`, `athrow` and `aclose`.
pub struct ASend {
    gen: Rc<Generator>,
    kind: RefCell<Option<ASendKind>>,
    closing: bool,
}

impl ASend {
    pub fn make(gen: Rc<Generator>, kind: ASendKind) -> Value {
        let closing = matches!(kind, ASendKind::Close);
        Value::object(ASend { gen, kind: RefCell::new(Some(kind)), closing })
    }

    fn step(&self, vm: &mut Vm, v: Value, exit: u32) -> PyResult<SendOutcome> {
        let g = &self.gen;
        let mode = ResumeMode::ASend { exit, closing: self.closing };
        let first = self.kind.borrow_mut().take();
        match first {
            Some(kind) => {
                if g.ag_running() {
                    let what = match kind {
                        ASendKind::Send(_) => "anext(): asynchronous generator is already running",
                        ASendKind::Throw(_) => "athrow(): asynchronous generator is already running",
                        ASendKind::Close => "aclose(): asynchronous generator is already running",
                    };
                    return Err(runtime_error(what));
                }
                let status = g.state.borrow().status;
                match kind {
                    ASendKind::Send(sv) => {
                        if status == GenStatus::Closed || g.ag_closed() {
                            return Err(stop_async_iteration());
                        }
                        g.set_ag_running(true);
                        vm.push_gen_frame(g, mode, sv)?;
                        Ok(SendOutcome::Pushed)
                    }
                    ASendKind::Throw(e) => {
                        if status == GenStatus::Closed {
                            return Err(e);
                        }
                        if status == GenStatus::Created {
                            g.state.borrow_mut().status = GenStatus::Closed;
                            return Err(e);
                        }
                        g.set_ag_running(true);
                        throw_gen(vm, g, e, mode).map(|_| SendOutcome::Pushed)
                    }
                    ASendKind::Close => {
                        g.set_ag_closed(true);
                        if matches!(status, GenStatus::Closed | GenStatus::Created) {
                            g.state.borrow_mut().status = GenStatus::Closed;
                            return Ok(SendOutcome::Returned(Value::None));
                        }
                        g.set_ag_running(true);
                        throw_gen(vm, g, err_noargs(&types().exc.generator_exit), mode).map(|_| SendOutcome::Pushed)
                    }
                }
            }
            None => {
                if g.state.borrow().status == GenStatus::Closed {
                    return Err(runtime_error("cannot reuse already awaited __anext__()/asend()"));
                }
                g.set_ag_running(true);
                vm.push_gen_frame(g, mode, v)?;
                Ok(SendOutcome::Pushed)
            }
        }
    }
}

impl NativeObject for ASend {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        thread_local! {
            static C: Rc<Class> = crate::types::new_class("async_generator_asend", &[types().object.clone()], Layout::Builtin, None);
        }
        C.with(|c| c.clone())
    }
    fn await_iter(&self) -> Option<&dyn AwaitIter> {
        Some(self)
    }
}

impl AwaitIter for ASend {
    /// Driven from Rust (a task stepping the awaitable directly): run it nested.
    fn send(&self, vm: &mut Vm, _this: &Value, v: Value) -> PyResult<Step> {
        let first = self.kind.borrow_mut().take();
        let g = self.gen.clone();
        let halt = match first {
            Some(ASendKind::Send(sv)) => {
                if g.state.borrow().status == GenStatus::Closed {
                    return Err(stop_async_iteration());
                }
                resume(vm, &g, Resume::Send(sv))
            }
            Some(ASendKind::Throw(e)) => resume(vm, &g, Resume::Throw(e)),
            Some(ASendKind::Close) => {
                if matches!(g.state.borrow().status, GenStatus::Closed | GenStatus::Created) {
                    g.state.borrow_mut().status = GenStatus::Closed;
                    return Ok(Step::Return(Value::None));
                }
                match resume(vm, &g, Resume::Throw(err_noargs(&types().exc.generator_exit))) {
                    Ok(Halt::Yield(_, true)) => return Err(runtime_error("async generator ignored GeneratorExit")),
                    Ok(Halt::Yield(y, false)) => return Ok(Step::Yield(y)),
                    Ok(_) => return Ok(Step::Return(Value::None)),
                    Err(e) if e.is(&types().exc.generator_exit) || e.is(&types().exc.stop_async_iteration) => {
                        return Ok(Step::Return(Value::None))
                    }
                    Err(e) => return Err(e),
                }
            }
            None => resume(vm, &g, Resume::Send(v)),
        };
        self.finish(halt)
    }

    /// An exception thrown into the awaitable (a task cancelled while it
    /// waits on it, or before its first step) is thrown into the generator,
    /// so that its `finally` blocks run, as CPython's athrow/asend do.
    fn throw(&self, vm: &mut Vm, _this: &Value, e: PyErr) -> PyResult<Step> {
        self.kind.borrow_mut().take();
        let g = self.gen.clone();
        if g.state.borrow().status == GenStatus::Closed {
            return Err(e);
        }
        match resume(vm, &g, Resume::Throw(e)) {
            Err(e) if self.closing && (e.is(&types().exc.generator_exit) || e.is(&types().exc.stop_async_iteration)) => {
                Ok(Step::Return(Value::None))
            }
            halt => self.finish(halt),
        }
    }
}

impl ASend {
    /// What a step of the generator means for the awaitable.
    fn finish(&self, halt: PyResult<Halt>) -> PyResult<Step> {
        match halt? {
            Halt::Yield(y, true) => {
                if self.closing {
                    return Err(runtime_error("async generator ignored GeneratorExit"));
                }
                Ok(Step::Return(y))
            }
            Halt::Yield(y, false) => Ok(Step::Yield(y)),
            _ => {
                if self.closing {
                    Ok(Step::Return(Value::None))
                } else {
                    Err(stop_async_iteration())
                }
            }
        }
    }
}

// ------------------------------------------------------------ methods

fn self_gen(args: &Args) -> PyResult<Rc<Generator>> {
    match args.pos.first() {
        Some(Value::Generator(g)) => Ok(g.clone()),
        _ => Err(type_error("descriptor requires a generator object")),
    }
}

/// Turn `throw(typ[, val])` arguments into an exception.
fn throw_args(vm: &mut Vm, args: &Args) -> PyResult<PyErr> {
    let typ = args.pos.get(1).cloned().unwrap_or(Value::None);
    let val = args.pos.get(2).cloned().unwrap_or(Value::None);
    match (&typ, &val) {
        (Value::Class(_), Value::None) => from_raise_operand(vm, typ),
        (Value::Class(c), v) => {
            if let Value::Instance(i) = v {
                if i.class().is_subclass(c) {
                    return Ok(PyErr(i.clone()));
                }
            }
            let inst = vm.call(typ.clone(), Args::new([val.clone()]))?;
            from_raise_operand(vm, inst)
        }
        (Value::Instance(_), Value::None) => from_raise_operand(vm, typ),
        (Value::Instance(_), _) => Err(type_error("instance exception may not have a separate value")),
        _ => Err(type_error(format!("exceptions must be classes or instances deriving from BaseException, not {}", type_name(&typ)))),
    }
}

fn step_result(vm: &mut Vm, g: &Rc<Generator>, how: Resume) -> PyResult<Value> {
    if g.state.borrow().status == GenStatus::Closed {
        if let Resume::Throw(e) = how {
            return Err(e);
        }
        if g.kind == GenKind::Coroutine {
            return Err(runtime_error("cannot reuse already awaited coroutine"));
        }
        return Err(stop_iteration(Value::None));
    }
    match resume(vm, g, how)? {
        Halt::Yield(v, _) => Ok(v),
        Halt::Return(v) => Err(stop_iteration(v)),
        Halt::Blocked => Err(runtime_error("generator blocked")),
    }
}

fn gen_send(vm: &mut Vm, args: Args) -> PyResult {
    let g = self_gen(&args)?;
    let v = args.pos.get(1).cloned().unwrap_or(Value::None);
    step_result(vm, &g, Resume::Send(v))
}

fn gen_dunder_next(vm: &mut Vm, args: Args) -> PyResult {
    let g = self_gen(&args)?;
    step_result(vm, &g, Resume::Send(Value::None))
}

fn gen_throw(vm: &mut Vm, args: Args) -> PyResult {
    let g = self_gen(&args)?;
    let e = throw_args(vm, &args)?;
    step_result(vm, &g, Resume::Throw(e))
}

fn gen_close_method(vm: &mut Vm, args: Args) -> PyResult {
    let g = self_gen(&args)?;
    gen_close(vm, &g)?;
    Ok(Value::None)
}

fn gen_iter(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(args.pos[0].clone())
}

fn agen_anext(_vm: &mut Vm, args: Args) -> PyResult {
    let g = self_gen(&args)?;
    Ok(ASend::make(g, ASendKind::Send(Value::None)))
}

fn agen_asend(_vm: &mut Vm, args: Args) -> PyResult {
    let g = self_gen(&args)?;
    Ok(ASend::make(g, ASendKind::Send(args.pos.get(1).cloned().unwrap_or(Value::None))))
}

fn agen_athrow(vm: &mut Vm, args: Args) -> PyResult {
    let g = self_gen(&args)?;
    let e = throw_args(vm, &args)?;
    Ok(ASend::make(g, ASendKind::Throw(e)))
}

fn agen_aclose(_vm: &mut Vm, args: Args) -> PyResult {
    let g = self_gen(&args)?;
    Ok(ASend::make(g, ASendKind::Close))
}

/// What `coro.__await__()` gives: an iterator over the coroutine (CPython's
/// `coroutine_wrapper`), which an `__await__` method may return.
pub struct CoroWrapper(pub Rc<Generator>);

thread_local! {
    static WRAPPER_CLASS: Rc<Class> = {
        let c = crate::types::new_class("coroutine_wrapper", &[types().object.clone()], Layout::Builtin, None);
        method(&c, "coroutine_wrapper", "send", |vm, a| wrapper_forward(vm, a, "send"));
        method(&c, "coroutine_wrapper", "throw", |vm, a| wrapper_forward(vm, a, "throw"));
        method(&c, "coroutine_wrapper", "close", |vm, a| wrapper_forward(vm, a, "close"));
        method(&c, "coroutine_wrapper", "__next__", |vm, mut a| {
            a.pos.truncate(1);
            a.pos.push(Value::None);
            wrapper_forward(vm, a, "send")
        });
        method(&c, "coroutine_wrapper", "__iter__", gen_iter);
        c
    };
}

fn wrapper_forward(vm: &mut Vm, a: Args, name: &str) -> PyResult {
    let g = match a.pos.first().and_then(|v| v.downcast::<CoroWrapper>()) {
        Some(w) => Value::Generator(w.0.clone()),
        None => return Err(type_error("descriptor requires a 'coroutine_wrapper' object")),
    };
    vm.call_method(&g, name, a.pos[1..].to_vec())
}

impl NativeObject for CoroWrapper {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        WRAPPER_CLASS.with(|c| c.clone())
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<coroutine_wrapper object at {:#x}>", self as *const CoroWrapper as usize))
    }
}

/// Install the generator, coroutine and async generator methods.
pub fn install(t: &'static Types) {
    for (c, owner) in [(&t.generator, "generator"), (&t.coroutine, "coroutine")] {
        method(c, owner, "send", gen_send);
        method(c, owner, "throw", gen_throw);
        method(c, owner, "close", gen_close_method);
    }
    method(&t.generator, "generator", "__next__", gen_dunder_next);
    method(&t.generator, "generator", "__iter__", gen_iter);
    method(&t.coroutine, "coroutine", "__await__", |_vm, a| match a.pos.first() {
        Some(Value::Generator(g)) => Ok(Value::object(CoroWrapper(g.clone()))),
        _ => Err(type_error("descriptor '__await__' requires a 'coroutine' object")),
    });
    let a = &t.async_generator;
    method(a, "async_generator", "__aiter__", gen_iter);
    method(a, "async_generator", "__anext__", agen_anext);
    method(a, "async_generator", "asend", agen_asend);
    method(a, "async_generator", "athrow", agen_athrow);
    method(a, "async_generator", "aclose", agen_aclose);
}

thread_local! {
    /// Suspended generators dropped inside a `try`/`with`: their frames,
    /// moved into fresh objects, wait here to be closed at the next safe
    /// point (`run_finalizers`).
    static FINALIZE: RefCell<Vec<Rc<Generator>>> = const { RefCell::new(Vec::new()) };
    static FINALIZE_DUE: Cell<bool> = const { Cell::new(false) };
}

thread_local! {
    /// Instances whose class defines `__del__`, dropped: their state moved
    /// into fresh objects that wait here for `__del__` to be called.
    static DEL_DUE: RefCell<Vec<Rc<Instance>>> = const { RefCell::new(Vec::new()) };
    /// The objects `__del__` has been called on (or is queued for): dropping
    /// one of them again does not call it twice, as PEP 442 says.
    static DEL_DONE: RefCell<hashbrown::HashSet<usize>> = RefCell::new(hashbrown::HashSet::new());
}

/// An instance of a class with `__del__` is being dropped: unless it is
/// the object `__del__` already ran on, its class, `__dict__` and payload
/// move into a new instance that `run_finalizers` calls `__del__` on. The
/// cycle collector's victims are not finalized (their dicts are cleared).
pub fn defer_del(inst: &mut Instance) {
    let me = inst as *const Instance as usize;
    if DEL_DONE.try_with(|d| d.borrow_mut().remove(&me)).unwrap_or(true) || crate::gc::collecting() {
        return;
    }
    let heir = Rc::new(Instance::heir_of(inst));
    let _ = DEL_DONE.try_with(|d| d.borrow_mut().insert(Rc::as_ptr(&heir) as usize));
    let _ = DEL_DUE.try_with(|f| f.borrow_mut().push(heir));
    let _ = FINALIZE_DUE.try_with(|d| d.set(true));
}

/// The cycle collector found `inst` unreachable: queue its `__del__`, to
/// run at the next safe point while the object is still whole (PEP 442).
/// False when its class has no `__del__` or it has run on this object.
pub fn finalize_garbage_instance(inst: &Rc<Instance>) -> bool {
    if inst.class().flags.get() & CLASS_HAS_DEL == 0 {
        return false;
    }
    let me = Rc::as_ptr(inst) as usize;
    let fresh = DEL_DONE.try_with(|d| d.borrow_mut().insert(me)).unwrap_or(false);
    if fresh {
        let _ = DEL_DUE.try_with(|f| f.borrow_mut().push(inst.clone()));
        want_finalizers();
    }
    fresh
}

/// The cycle collector found `g` unreachable: when it is suspended, queue
/// its closing for the next safe point, once, as CPython closes every
/// suspended generator and coroutine it collects (its frame then lets go
/// of what it held). An async generator is closed only when that runs
/// code (a `finally`, an `__exit__`), as when it is dropped. False when
/// there is nothing to do.
pub fn finalize_garbage_generator(g: &Rc<Generator>) -> bool {
    let Ok(st) = g.state.try_borrow() else { return false };
    let async_nothing_to_run = g.kind == GenKind::AsyncGenerator && (g.ag_closed() || !suspended_in_handler(&g.code, st.ip));
    // A generator that never started is closed too (its frame lets go of
    // its arguments); a coroutine that never started is not, it warns.
    let unstarted = st.status == GenStatus::Created && g.kind == GenKind::Generator;
    if !(st.status == GenStatus::Suspended || unstarted) || g.finalized() || async_nothing_to_run {
        return false;
    }
    drop(st);
    g.set_finalized(true);
    let _ = FINALIZE.try_with(|f| f.borrow_mut().push(g.clone()));
    want_finalizers();
    true
}

/// Ask for `run_finalizers` at the next safe point.
pub fn want_finalizers() {
    let _ = FINALIZE_DUE.try_with(|d| d.set(true));
}

/// Is a dropped generator waiting for its `finally` blocks to run?
#[inline(always)]
pub fn finalizers_due() -> bool {
    FINALIZE_DUE.with(|d| d.get())
}

/// Does the generator, suspended at resume point `ip`, sit inside a handler
/// (a `try`, `with` or `async with` block) that closing it would run?
fn suspended_in_handler(code: &Code, ip: u32) -> bool {
    let at = ip.saturating_sub(1);
    code.exc_table.iter().any(|h| h.start <= at && at < h.end)
}

/// Close the generators dropped while suspended in a handler, as CPython
/// does when their last reference goes: `GeneratorExit` is raised at the
/// suspension point so that their `finally` blocks and `__exit__`s run. A
/// failure is reported as "Exception ignored in" and the program goes on.
pub fn run_finalizers(vm: &mut Vm) {
    if crate::weakref::calling_back() {
        return;
    }
    FINALIZE_DUE.with(|d| d.set(false));
    loop {
        // Callbacks of weak references the collector cleared come first.
        crate::weakref::run_cleared(vm);
        let dels = DEL_DUE.with(|f| std::mem::take(&mut *f.borrow_mut()));
        let held = crate::weakref::hold_callbacks(true);
        for inst in dels {
            call_del(vm, inst);
        }
        crate::weakref::hold_callbacks(held);
        // After `__del__`, as CPython clears weak references after finalizing.
        crate::weakref::poll_deaths(vm);
        let due = FINALIZE.with(|f| std::mem::take(&mut *f.borrow_mut()));
        if due.is_empty() {
            if DEL_DUE.with(|f| f.borrow().is_empty()) {
                return;
            }
            continue;
        }
        for g in due {
            if g.kind == GenKind::AsyncGenerator {
                // Closing awaits: the event loop runs it, if there is one.
                // The loop it ran in: the running one, else the one set as
                // current (asyncio.run's, between its run_until_complete calls).
                let lp = vm.host.running_loop().cloned().or_else(|| {
                    vm.host
                        .current_loop()
                        .filter(|l| l.downcast::<crate::event_loop::EventLoop>().is_some_and(|x| !x.closed.get()))
                        .cloned()
                });
                if let (Some(hook), Some(lp)) = (vm.builtins.get_str("__aio_finalize_asyncgen"), lp) {
                    if let Err(e) = vm.call(hook, Args::new([Value::Generator(g), lp])) {
                        vm.write_err(&crate::diagnostic::plain_traceback(&e));
                    }
                }
                continue;
            }
            close_reporting(vm, &g);
        }
    }
}

/// Call `inst.__del__()`; an exception is reported as "Exception ignored
/// in" with the method, as CPython does.
fn call_del(vm: &mut Vm, inst: Rc<Instance>) {
    let cls = inst.class();
    let Some(del) = crate::ops::lookup_special_in(&cls, "__del__") else { return };
    if let Err(e) = vm.call(del.clone(), Args::new([Value::Instance(inst)])) {
        let shown = vm.repr_str(&del).unwrap_or_else(|_| "<__del__>".into());
        let msg = crate::diagnostic::plain_traceback(&e);
        vm.write_err(&format!("Exception ignored in: {shown}\n{msg}"));
    }
}

/// `gen.close()`, with a failure reported rather than raised.
fn close_reporting(vm: &mut Vm, g: &Rc<Generator>) {
    if let Err(e) = gen_close(vm, g) {
        let shown = vm.repr_str(&Value::Generator(g.clone())).unwrap_or_else(|_| "<generator>".into());
        let msg = crate::diagnostic::plain_traceback(&e);
        vm.write_err(&format!("Exception ignored in: {shown}\n{msg}"));
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        self.gc.untrack();
        if self.state.get_mut().status == GenStatus::Suspended
            && !self.ag_closed()
            && !self.finalized()
            && suspended_in_handler(&self.code, self.state.get_mut().ip)
        {
            let st = self.state.get_mut();
            // The frame moves into a new object that outlives this one until
            // it has been closed; this one is left closed.
            let globals = st.globals.clone();
            let closed = GenState { status: GenStatus::Closed, ip: 0, stack: GenStack::new(), globals, exc: None, delegating: false };
            let state = std::mem::replace(st, closed);
            let heir = Rc::new(self.heir(state));
            // During thread teardown nothing can run any more: the frame is dropped.
            let _ = FINALIZE.try_with(|f| f.borrow_mut().push(heir));
            let _ = FINALIZE_DUE.try_with(|d| d.set(true));
            return;
        }
        if self.kind != GenKind::Coroutine {
            return;
        }
        if self.state.get_mut().status != GenStatus::Created {
            return;
        }
        if let Some(o) = self.origin() {
            crate::diagnostic::warn_never_awaited(self.qualname().as_str(), Some(&o));
        }
    }
}
