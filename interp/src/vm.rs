//! The virtual machine: one value stack and one frame stack per thread of
//! execution, and the dispatch loop. Calling an .aio function pushes a frame
//! and continues in the same loop, so .aio recursion never grows the Rust
//! stack; generators and coroutines move their frame onto the stack when
//! resumed and off it when they yield. `run` leaves through `Halt`.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::bytecode::{AttrWay, CachedAttr, Code, Op, INPLACE, NO_CACHE};
use crate::exceptions::*;
use crate::object::*;
use crate::types::types;
use crate::value::Value;

/// How a run of the dispatch loop ended (an exception is the `Err` side).
#[derive(Debug)]
pub enum Halt {
    /// The entry frame returned.
    Return(Value),
    /// The entry generator frame yielded; `true` for an async generator's own `yield`.
    Yield(Value, bool),
    /// A worker thread blocked (see `Vm::block_worker`).
    Blocked,
}

/// How a generator frame hands results back to whoever resumed it.
#[derive(Clone, Copy, Debug)]
pub enum ResumeMode {
    /// Resumed from Rust: leave the dispatch loop.
    Native,
    /// Resumed by `ForIter`: exhaustion jumps to the target.
    ForIter(u32),
    /// Resumed by `Send` (`yield from`/`await`): a return jumps to the target.
    Send(u32),
    /// An async generator resumed by an `asend`/`athrow` awaitable at a `Send`;
    /// `closing` for `aclose()`.
    ASend { exit: u32, closing: bool },
    /// Not a generator: a call frame running `__init__` for the new instance
    /// in its callee slot, which its return gives back (see `Op::Call`).
    Init,
}

/// Where the dispatch loop goes after `general_op`.
enum Flow {
    /// On to the next instruction of the same frame.
    Next,
    /// The frame stack changed: start over with the top frame.
    Frame,
    /// Leave the loop.
    Halt(Halt),
}

/// What a frame is, for returning and unwinding.
pub enum FrameKind {
    /// A function call: the result replaces the callee and its arguments.
    Call,
    /// A generator, coroutine or async generator frame.
    Gen { gen: Rc<Generator>, mode: ResumeMode, caller_exc: Value },
}

/// An activation record. Locals live on the value stack from `base`.
// `FrameKind` is kept flat here (`gen`, `mode`, `caller_exc`) so that a call
// frame is pushed with plain word stores: a 32-byte enum field was built on
// the Rust stack and copied with 16-byte loads that stall (see
// `push_frame_unchecked`).
pub struct Frame {
    pub code: Rc<Code>,
    pub ip: usize,
    pub base: usize,
    pub globals: Rc<Module>,
    /// The namespace of a class body.
    pub locals: Option<Rc<PyDict>>,
    /// The generator running in this frame; `None` for a function call.
    pub gen: Option<Rc<Generator>>,
    /// For a generator frame: how it hands results back.
    pub mode: ResumeMode,
    /// For a generator frame: the caller's exception being handled.
    pub caller_exc: Value,
}

impl Frame {
    /// A frame for `kind` at the start of `code`.
    pub fn new(code: Rc<Code>, ip: usize, base: usize, globals: Rc<Module>, kind: FrameKind) -> Frame {
        let (gen, mode, caller_exc) = match kind {
            FrameKind::Call => (None, ResumeMode::Native, Value::None),
            FrameKind::Gen { gen, mode, caller_exc } => (Some(gen), mode, caller_exc),
        };
        Frame { code, ip, base, globals, locals: None, gen, mode, caller_exc }
    }

    /// What the frame is, taken apart for returning and unwinding.
    pub fn into_kind(self) -> FrameKind {
        match self.gen {
            None => FrameKind::Call,
            Some(gen) => FrameKind::Gen { gen, mode: self.mode, caller_exc: self.caller_exc },
        }
    }
}

/// Buffered standard output that is flushed before anything goes to stderr.
pub struct Output {
    buf: Vec<u8>,
    /// Captured output (tests) instead of the real stdout.
    pub capture: Option<Vec<u8>>,
    /// Flush at every newline (the REPL, a terminal).
    pub line_buffered: bool,
    /// A copy of everything the program printed, kept for an observer
    /// (`--replay` shows the output printed so far at each event).
    pub tee: Option<String>,
}

impl Output {
    pub fn write(&mut self, s: &str) {
        if let Some(c) = &mut self.capture {
            c.extend_from_slice(s.as_bytes());
            return;
        }
        self.buf.extend_from_slice(s.as_bytes());
        if self.buf.len() > 1 << 16 || (self.line_buffered && s.contains('\n')) {
            self.flush();
        }
    }
    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&self.buf);
            let _ = out.flush();
            self.buf.clear();
        }
    }
}

/// Produces a builtin on first use: `Ok(None)` when the name is not one.
pub type LazyBuiltin = fn(&mut Vm, &str) -> PyResult<Option<Value>>;
/// Runs after a library module is imported.
pub type ModuleHook = fn(&mut Vm, &str) -> PyResult<()>;

/// A hook the embedding (stdlib) installs to print a writer of its own:
/// the REPL routes output above the prompt.
pub type PrintHook = Box<dyn FnMut(&str)>;

/// The interpreter state.
pub struct Vm {
    pub stack: Vec<Value>,
    pub frames: Vec<Frame>,
    /// The exception being handled (`except` body, `finally` after an error).
    pub cur_exc: Value,
    kwnames: Option<Rc<PyTuple>>,
    /// Builtin names.
    pub builtins: Rc<PyDict>,
    /// Loaded modules by name.
    pub modules: HashMap<String, Value>,
    /// Native module constructors by name (installed by the stdlib).
    pub native_modules: HashMap<&'static str, fn(&mut Vm) -> PyResult<Value>>,
    /// Modules written in .aio and embedded in the binary.
    pub source_modules: HashMap<&'static str, &'static str>,
    /// The folder sibling `.aio` modules are imported from.
    pub search_dir: Option<PathBuf>,
    pub recursion_limit: usize,
    /// Nested dispatch loops (native code calling .aio code).
    pub native_depth: usize,
    /// Levels of native recursion through containers (a `repr`, a
    /// comparison): they count against the recursion limit as CPython's C
    /// recursion does (see `Vm::enter_nested`).
    pub nesting: usize,
    pub out: Output,
    /// Instructions left before the loop checks for Ctrl-C or preemption.
    pub budget: u32,
    reraise: bool,
    /// State owned by the event loop and the library (task registry, ...).
    pub ext: HashMap<&'static str, Value>,
    /// Running a worker thread in real time: a run returns `Halt::Blocked` when its budget runs out.
    pub preempt: bool,
    /// Set by `time.sleep` in a worker: park the worker for this many seconds.
    pub block_request: Option<f64>,
    /// The native depth at which the running worker's frames live.
    pub worker_depth: Option<usize>,
    /// The virtual clock (`--virtual-time`), shared by every loop.
    pub vclock: f64,
    /// Observer of scheduling events.
    pub tracer: Option<Box<dyn crate::event_loop::Tracer>>,
    pub print_hook: Option<PrintHook>,
    /// Under `--virtual-time`.
    pub virtual_time: bool,
    /// The event loop, when one is running (a native object).
    pub running_loop: Option<Value>,
    /// Finished generators nobody else holds, for reuse (see `generator::recycle`).
    pub gen_pool: Vec<Rc<Generator>>,
    /// Builtins made on first use (the asyncio prelude).
    pub lazy_builtin: Option<LazyBuiltin>,
    /// The names `lazy_builtin` can make, for suggestions.
    pub lazy_builtin_names: &'static [&'static str],
    /// Bumped whenever a builtin is rebound, which voids the modules'
    /// builtin caches (see `load_builtin`).
    pub builtins_epoch: u32,
    /// Called after a module is imported (the library finishes its setup).
    pub module_hook: Option<ModuleHook>,
    /// Called when a loop is put in debug mode (`set_debug(True)`,
    /// `asyncio.run(debug=True)`): the library starts reporting slow steps.
    pub debug_hook: Option<fn(&mut Vm)>,
    /// Where `sys.stdout` is bound, so that implicit writes (`print()`, the
    /// REPL's echo) follow a program that rebinds it, as in Python.
    pub sys_stdout: Option<SysStdout>,
    /// `sys.modules`, once `sys` is loaded: kept in step with `modules`.
    pub sys_modules: Option<Rc<PyDict>>,
    /// The current `contextvars` context: a `Context` object, or None while
    /// no variable was ever set (the empty context). A task keeps its own.
    pub context: Value,
    /// Class bodies running in a namespace made by a metaclass's
    /// `__prepare__` that is not a plain dict: the dict the body fills
    /// (by address) and the mapping whose `__setitem__` stores go through.
    pub class_namespaces: Vec<(usize, Value)>,
}

/// The global slot of `sys.stdout` and the stream it started as.
pub struct SysStdout {
    pub module: Rc<Module>,
    pub slot: u32,
    pub original: Value,
}

const BUDGET: u32 = 10_000;

/// Set by Ctrl-C (SIGINT); the VM turns it into KeyboardInterrupt at the
/// next check (backward jumps, calls, loop iterations, sleeps).
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Route Ctrl-C to `INTERRUPTED` instead of killing the process (while
/// SIGINT's handler is `default_int_handler`; see `runtime::signals`).
/// Call it on the thread that runs the VM: Ctrl-C that the system hands to
/// another thread is passed on to this one, so that a blocking read here
/// (`input()`) is interrupted.
pub fn install_sigint_handler() {
    fn on_sigint() {
        let vm_thread = VM_THREAD.load(Ordering::Relaxed);
        // SAFETY: pthread_self and pthread_kill are async-signal-safe, and
        // the VM's thread lives as long as the program runs.
        unsafe {
            if vm_thread != 0 && libc::pthread_self() as u64 != vm_thread {
                libc::pthread_kill(vm_thread as libc::pthread_t, libc::SIGINT);
                return;
            }
        }
        INTERRUPTED.store(true, Ordering::Relaxed);
        crate::runtime::reactor::signal_wakeup(libc::SIGINT);
    }
    // SAFETY: pthread_self has no preconditions.
    VM_THREAD.store(unsafe { libc::pthread_self() } as u64, Ordering::Relaxed);
    crate::runtime::signals::set_interrupt_hook(on_sigint);
}

/// The thread running the VM, as `pthread_self` gives it (0: not known).
static VM_THREAD: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Set by another thread (a watchdog) to have the poke hook run on the
/// VM's thread at its next periodic check, wherever the program is.
pub static POKED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static POKE_HOOK: std::cell::Cell<Option<fn(&mut Vm)>> = const { std::cell::Cell::new(None) };
}

/// What a poke does (the REPL warns about a task holding the loop).
pub fn set_poke_hook(hook: fn(&mut Vm)) {
    POKE_HOOK.with(|h| h.set(Some(hook)));
}

/// The exception a set `INTERRUPTED` stands for, clearing it: `MemoryError`
/// when `--max-memory` was passed, else `KeyboardInterrupt`. `None` when it
/// was not set, or when a limit was reached (the check that sees it stops
/// the program).
fn take_interrupt() -> Option<PyErr> {
    if crate::limits::reached() || !INTERRUPTED.swap(false, Ordering::Relaxed) {
        return None;
    }
    if let Some(e) = crate::limits::take_memory_over() {
        return Some(e);
    }
    Some(err_noargs(&types().exc.keyboard_interrupt))
}

/// Ctrl-C for native code that runs long without the VM at hand (a big
/// power): `KeyboardInterrupt`, once. One load when nothing happened.
#[inline]
pub fn poll_ctrl_c() -> PyResult<()> {
    if INTERRUPTED.load(Ordering::Relaxed) {
        return take_interrupt().map_or(Ok(()), Err);
    }
    Ok(())
}

/// Was Ctrl-C pressed (without clearing the flag)?
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new()
    }
}

impl Vm {
    pub fn new() -> Vm {
        let _ = types();
        Vm {
            stack: Vec::with_capacity(1024),
            frames: Vec::with_capacity(64),
            cur_exc: Value::None,
            kwnames: None,
            builtins: Rc::new(PyDict::new()),
            modules: HashMap::new(),
            native_modules: HashMap::new(),
            source_modules: HashMap::new(),
            search_dir: None,
            recursion_limit: 1000,
            native_depth: 0,
            nesting: 0,
            out: Output { buf: Vec::with_capacity(1 << 16), capture: None, line_buffered: false, tee: None },
            budget: BUDGET,
            reraise: false,
            ext: HashMap::new(),
            preempt: false,
            block_request: None,
            worker_depth: None,
            vclock: 0.0,
            tracer: None,
            print_hook: None,
            virtual_time: false,
            running_loop: None,
            gen_pool: Vec::new(),
            lazy_builtin: None,
            lazy_builtin_names: &[],
            builtins_epoch: 1,
            module_hook: None,
            debug_hook: None,
            sys_stdout: None,
            sys_modules: None,
            context: Value::None,
            class_namespaces: Vec::new(),
        }
    }

    /// Write to `sys.stdout`: the process's standard output, or the object
    /// a program bound to `sys.stdout` instead (through its `write`).
    pub fn write_out(&mut self, s: &str) -> PyResult<()> {
        if let Some(target) = self.stdout_rebound() {
            self.call_method(&target, "write", vec![Value::str(s)])?;
            return Ok(());
        }
        self.write_out_raw(s);
        Ok(())
    }

    /// What `sys.stdout` is bound to, when that is not the standard output.
    pub fn stdout_rebound(&self) -> Option<Value> {
        let sys = self.sys_stdout.as_ref()?;
        let globals = sys.module.globals.borrow();
        let v = globals.get(sys.slot as usize)?;
        if v.is(&sys.original) {
            None
        } else {
            Some(v.clone())
        }
    }

    /// Write to the process's standard output (through the REPL's printer when one is set).
    pub fn write_out_raw(&mut self, s: &str) {
        // Callbacks of objects that died since the last check print first.
        if crate::weakref::watching() {
            crate::weakref::poll(self);
        }
        if let Some(t) = &mut self.out.tee {
            t.push_str(s);
        }
        if let Some(h) = &mut self.print_hook {
            h(s);
        } else {
            self.out.write(s);
        }
    }

    /// Write to standard error, after flushing standard output.
    pub fn write_err(&mut self, s: &str) {
        self.out.flush();
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(s.as_bytes());
        let _ = e.flush();
    }

    // ------------------------------------------------------------ frames

    /// Push a frame for `code` whose locals start at `base`.
    #[inline]
    pub(crate) fn push_frame(&mut self, code: Rc<Code>, base: usize, globals: Rc<Module>, kind: FrameKind) -> PyResult<()> {
        if self.frames.len() >= self.recursion_limit {
            return Err(recursion_error());
        }
        self.push_frame_unchecked(Frame::new(code, 0, base, globals, kind));
        Ok(())
    }

    /// `frames.push` with the growth out of line (the call fast path's cost).
    // The fields are written one by one straight into the frame stack: a
    // `Frame` built on the Rust stack and then copied is written as words
    // and read back as 16-byte vectors, a load the CPU cannot forward from
    // its store buffer (the same stall as `Value::read_words` avoids).
    #[inline(always)]
    pub(crate) fn push_frame_unchecked(&mut self, f: Frame) {
        let Frame { code, ip, base, globals, locals, gen, mode, caller_exc } = f;
        if self.frames.len() == self.frames.capacity() {
            self.frames.reserve(64);
        }
        let len = self.frames.len();
        // SAFETY: `len < capacity` after the check above; every field is
        // written before the length covers the slot.
        unsafe {
            let p = self.frames.as_mut_ptr().add(len);
            std::ptr::addr_of_mut!((*p).code).write(code);
            std::ptr::addr_of_mut!((*p).ip).write(ip);
            std::ptr::addr_of_mut!((*p).base).write(base);
            std::ptr::addr_of_mut!((*p).globals).write(globals);
            std::ptr::addr_of_mut!((*p).locals).write(locals);
            std::ptr::addr_of_mut!((*p).gen).write(gen);
            std::ptr::addr_of_mut!((*p).mode).write(mode);
            Value::write_words(std::ptr::addr_of_mut!((*p).caller_exc), caller_exc);
            self.frames.set_len(len + 1);
        }
    }

    /// Pop the top frame when it is a plain call, field by field (see
    /// `push_frame_unchecked`), giving its base; `None` leaves a generator
    /// frame in place.
    #[inline(always)]
    fn pop_call_frame(&mut self) -> Option<usize> {
        let len = self.frames.len();
        debug_assert!(len > 0);
        // SAFETY: the top frame exists (a frame is executing); its fields are
        // moved out before the length drops below it.
        unsafe {
            let p = self.frames.as_mut_ptr().add(len - 1);
            if (*p).gen.is_some() {
                return None;
            }
            let base = (*p).base;
            let code = std::ptr::addr_of!((*p).code).read();
            let globals = std::ptr::addr_of!((*p).globals).read();
            let locals = std::ptr::addr_of!((*p).locals).read();
            // A call frame's `caller_exc` is None: nothing to drop.
            self.frames.set_len(len - 1);
            drop(code);
            drop(globals);
            drop(locals);
            Some(base)
        }
    }

    /// Call the native function (or builtin class) at `self.stack[at]` with
    /// the `argc` values above it as positional arguments, replacing all of
    /// them with the result.
    #[inline]
    fn call_native_on_stack(&mut self, at: usize, argc: usize) -> PyResult<()> {
        if let Value::Native(nf) = &self.stack[at] {
            if let NativeImpl::Fast(f) = nf.imp {
                return self.call_fast_on_stack(f, at, argc);
            }
        }
        let mut args = Args::default();
        // SAFETY: the callee and its arguments are moved out of the stack
        // before its length drops below them.
        let callee = unsafe {
            let p = self.stack.as_ptr().add(at);
            for k in 1..=argc {
                args.pos.push(Value::read_words(p.add(k)));
            }
            let callee = Value::read_words(p);
            self.stack.set_len(at);
            callee
        };
        let r = match &callee {
            Value::Native(nf) => nf.call(self, args),
            Value::Class(cls) => self.call_class(cls, args),
            _ => unreachable!("a native callee or a builtin class"),
        };
        callee.discard();
        self.push(r?);
        Ok(())
    }

    /// `call_native_on_stack` for a fast-call native: the arguments are moved
    /// into a buffer on the Rust stack and lent to it.
    fn call_fast_on_stack(&mut self, f: FastFnPtr, at: usize, argc: usize) -> PyResult<()> {
        const N: usize = 4;
        if argc > N {
            let args: Vec<Value> = self.stack.drain(at + 1..).collect();
            let callee = self.pop();
            let r = f(self, &args);
            callee.discard();
            self.push(r?);
            return Ok(());
        }
        let mut buf = [const { std::mem::MaybeUninit::<Value>::uninit() }; N];
        // SAFETY: the callee and its arguments are moved out of the stack
        // before its length drops below them; the first `argc` slots of `buf`
        // are initialized before they are read and each is dropped once.
        unsafe {
            let p = self.stack.as_ptr().add(at);
            let b = buf.as_mut_ptr() as *mut Value;
            for k in 0..argc {
                Value::write_words(b.add(k), Value::read_words(p.add(k + 1)));
            }
            let callee = Value::read_words(p);
            self.stack.set_len(at);
            let args = std::slice::from_raw_parts(b, argc);
            let r = f(self, args);
            for k in 0..argc {
                Value::read_words(b.add(k)).discard();
            }
            callee.discard();
            self.push(r?);
        }
        Ok(())
    }

    /// A generator frame, popped, yields at `ip`: its values from `base` up
    /// move into the generator, which keeps the exception being handled and
    /// gives the caller's back.
    fn suspend_gen(&mut self, gen: &Generator, base: usize, ip: usize, delegating: bool, caller_exc: Value) {
        let mut st = gen.state.borrow_mut();
        st.stack.clear();
        let n = self.stack.len() - base;
        st.stack.reserve(n);
        // SAFETY: the `n` values above `base` move (one copy of their two
        // words each, no drop) into room reserved for them; both lengths
        // are set so that each value is owned exactly once.
        unsafe {
            Value::move_words(self.stack.as_ptr().add(base), st.stack.as_mut_ptr(), n);
            st.stack.set_len(n);
            self.stack.set_len(base);
        }
        st.ip = ip as u32;
        st.status = GenStatus::Suspended;
        st.delegating = delegating;
        if gen.kind == GenKind::Coroutine {
            crate::gc::track_suspended(gen);
        }
        let exc = std::mem::replace(&mut self.cur_exc, caller_exc);
        // The caller's exception, seen through (see `resume_exc`), is not
        // the generator's own to keep.
        st.exc = if exc.ptr().is_some() && exc.ptr() == self.cur_exc.ptr() { Value::None } else { exc };
    }

    /// The exception being handled inside a generator being resumed: its
    /// own, or else the caller's, as CPython's exception-state stack shows
    /// the caller's through a generator that handles none (so an exception
    /// raised in `__aexit__` gets the body's exception as `__context__`).
    #[inline(always)]
    pub(crate) fn resume_exc(&self, gen_exc: Value) -> Value {
        if gen_exc.is_none() {
            self.cur_exc.clone()
        } else {
            gen_exc
        }
    }

    /// Pop the top frame, a generator's, field by field (see
    /// `push_frame_unchecked`): its base, generator, resume mode and the
    /// caller's exception being handled.
    #[inline(always)]
    fn pop_gen_frame(&mut self) -> (usize, Rc<Generator>, ResumeMode, Value) {
        let len = self.frames.len();
        // SAFETY: the top frame exists (a frame is executing); its fields are
        // moved out before the length drops below it.
        unsafe {
            let p = self.frames.as_mut_ptr().add(len - 1);
            let base = (*p).base;
            let code = std::ptr::addr_of!((*p).code).read();
            let globals = std::ptr::addr_of!((*p).globals).read();
            let locals = std::ptr::addr_of!((*p).locals).read();
            let gen = std::ptr::addr_of!((*p).gen).read();
            let mode = std::ptr::addr_of!((*p).mode).read();
            let caller_exc = Value::read_words(std::ptr::addr_of!((*p).caller_exc));
            self.frames.set_len(len - 1);
            drop(code);
            drop(globals);
            drop(locals);
            (base, gen.expect("a generator frame"), mode, caller_exc)
        }
    }

    /// Drop the stack above `len`, without a call for immediates.
    #[inline(always)]
    fn truncate_stack(&mut self, len: usize) {
        while self.stack.len() > len {
            self.pop().discard();
        }
    }

    /// Run a module's code in its module, returning when the module body returns.
    pub fn run_code(&mut self, code: Rc<Code>, module: Rc<Module>) -> PyResult<Value> {
        self.run_code_in(code, module, None)
    }

    /// Run module-level code whose by-name lookups and stores go to
    /// `locals` first (`exec` and `eval` with a locals mapping).
    pub fn run_code_in(&mut self, code: Rc<Code>, module: Rc<Module>, locals: Option<Rc<PyDict>>) -> PyResult<Value> {
        let entry = self.frames.len();
        let base = self.stack.len();
        self.push(Value::None); // the callee slot below the locals
        let base = base + 1;
        self.stack.resize(base + code.nlocals as usize, Value::Undef);
        self.push_frame(code, base, module, FrameKind::Call)?;
        self.frames.last_mut().expect("the frame just pushed").locals = locals;
        match self.run(entry)? {
            Halt::Return(v) => Ok(v),
            _ => Err(runtime_error("module body suspended")),
        }
    }

    // ------------------------------------------------------------ the loop

    /// Run until the frame at depth `entry` (an index into `frames`) returns,
    /// yields, or lets an exception escape.
    pub fn run(&mut self, entry: usize) -> PyResult<Halt> {
        loop {
            match self.dispatch(entry) {
                Ok(h) => return Ok(h),
                Err(e) => {
                    let reraise = std::mem::take(&mut self.reraise);
                    self.unwind(e, entry, !reraise)?;
                }
            }
        }
    }

    /// Look for a handler for `err`, raised at the current instruction of the
    /// top frame, popping frames that have none. `Ok` means a handler was
    /// found and the loop may continue; `Err` gives the exception back when
    /// it escapes frame `entry`.
    pub(crate) fn unwind(&mut self, err: PyErr, entry: usize, fresh: bool) -> PyResult<()> {
        let mut err = err;
        if fresh {
            self.chain_context(&err);
        }
        let mut first = true;
        loop {
            let Some(frame) = self.frames.last() else { return Err(err) };
            let ip = frame.ip.saturating_sub(1);
            if fresh || !first {
                err.push_traceback(&frame.code, ip);
            }
            first = false;
            let code = frame.code.clone();
            if let Some(h) = code.exc_table.iter().find(|h| (h.start as usize) <= ip && ip < h.end as usize) {
                let base = frame.base;
                self.stack.truncate(base + code.nlocals as usize + h.depth as usize);
                self.push(err.value());
                let f = self.frames.last_mut().expect("frame");
                f.ip = h.target as usize;
                return Ok(());
            }
            let frame = self.frames.pop().expect("frame");
            let frame_base = frame.base;
            match frame.into_kind() {
                FrameKind::Call => {
                    self.stack.truncate(frame_base - 1);
                }
                FrameKind::Gen { gen, mode, caller_exc } => {
                    self.stack.truncate(frame_base);
                    self.cur_exc = caller_exc;
                    gen.state.borrow_mut().close();
                    err = crate::generator::convert_stop_iteration(&gen, err);
                    if let ResumeMode::ASend { closing: true, .. } = mode {
                        // aclose(): GeneratorExit or StopAsyncIteration out of the generator means closed.
                        if err.is(&types().exc.generator_exit) || err.is(&types().exc.stop_async_iteration) {
                            if self.frames.len() == entry {
                                return Err(err);
                            }
                            self.finish_asend_close(&gen)?;
                            return Ok(());
                        }
                    }
                    if matches!(mode, ResumeMode::ASend { .. }) {
                        gen.ag_running.set(false);
                    }
                }
            }
            if self.frames.len() == entry {
                return Err(err);
            }
        }
    }

    /// A closed async generator under `aclose()`: the awaitable returns None.
    fn finish_asend_close(&mut self, gen: &Rc<Generator>) -> PyResult<()> {
        gen.ag_running.set(false);
        let caller = self.frames.last_mut().expect("caller");
        let ip = caller.ip;
        let exit = match caller.code.ops[ip - 1] {
            Op::Send(t) => t,
            _ => return Err(runtime_error("internal: aclose outside send")),
        };
        caller.ip = exit as usize;
        self.stack.pop();
        self.push(Value::None);
        Ok(())
    }

    /// Implicit exception chaining: a new exception raised while another is
    /// being handled gets it as `__context__`.
    fn chain_context(&self, err: &PyErr) {
        if let Value::Instance(cur) = &self.cur_exc {
            if Rc::ptr_eq(cur, &err.0) {
                return;
            }
            if !err.context().is_none() {
                return;
            }
            // Avoid a cycle: cut `err` out of cur's context chain.
            let mut o = cur.clone();
            while let Some(d) = o.exc() {
                let next = d.context.borrow().clone();
                match next {
                    Value::Instance(n) => {
                        if Rc::ptr_eq(&n, &err.0) {
                            *o.exc().expect("exception").context.borrow_mut() = Value::None;
                            break;
                        }
                        o = n;
                    }
                    _ => break,
                }
            }
            err.set_context(self.cur_exc.clone());
        }
    }

    // The operand stack's hot operations. `Vec::push`/`pop` are not inlined
    // into the dispatch loop and `pop` returns an `Option`; these are the
    // same operations with the rare cases (growth, underflow) out of line.
    #[inline(always)]
    fn push(&mut self, v: Value) {
        let len = self.stack.len();
        if len == self.stack.capacity() {
            self.grow_stack();
        }
        // SAFETY: `len < capacity` after the check above.
        unsafe {
            Value::write_words(self.stack.as_mut_ptr().add(len), v);
            self.stack.set_len(len + 1);
        }
    }
    #[cold]
    #[inline(never)]
    fn grow_stack(&mut self) {
        self.stack.reserve(self.stack.len().max(1024));
    }
    #[inline(always)]
    fn pop(&mut self) -> Value {
        let len = self.stack.len();
        if len == 0 {
            stack_underflow();
        }
        // SAFETY: `len > 0`; the slot is moved out and the length shortened.
        unsafe {
            self.stack.set_len(len - 1);
            Value::read_words(self.stack.as_ptr().add(len - 1))
        }
    }
    #[inline(always)]
    fn top(&self) -> &Value {
        match self.stack.last() {
            Some(v) => v,
            None => stack_underflow(),
        }
    }

    /// The dispatch loop: the common cases of the hot instructions, with the
    /// operand stack held in registers; everything else goes to `general_op`.
    // `reload!` sets all three registers even where one is not read again.
    #[allow(unused_assignments)]
    fn dispatch(&mut self, entry: usize) -> PyResult<Halt> {
        'frame: loop {
            let mut fi = self.frames.len() - 1;
            // SAFETY: the frame at `fi` owns an `Rc` to this code and to its
            // module and stays on the frame stack while it is the running
            // frame; every op that pushes or pops frames switches with
            // `enter_top_frame!`, `continue 'frame` or `return`. Frames may
            // move when the Vec grows; the Code and the Module do not.
            let mut code: &Code = unsafe { &*Rc::as_ptr(&self.frames[fi].code) };
            let mut globals: &Module = unsafe { &*Rc::as_ptr(&self.frames[fi].globals) };
            let mut base = self.frames[fi].base;
            let mut ops = code.ops.as_ptr();
            // The next instruction, as a pointer into `ops` (one register fewer
            // than an index and a base); `ip_index!` gives the frame's index.
            let mut ip = unsafe { ops.add(self.frames[fi].ip) };
            // The operand stack in registers: `sp` is one past the top value,
            // `lp` the frame's first local, `limit` the end of the allocation.
            // The values from `self.stack.len()` up to `sp` belong to this loop
            // until `sync!` gives them back. Anything that may run code, raise
            // or touch `self.stack` happens between `sync!` and `reload!` (the
            // stack may have moved).
            let mut sp: *mut Value;
            let mut lp: *mut Value;
            let mut limit: *mut Value;
            macro_rules! reload {
                () => {{
                    let p = self.stack.as_mut_ptr();
                    sp = p.add(self.stack.len());
                    lp = p.add(base);
                    limit = p.add(self.stack.capacity());
                }};
            }
            // Make the top frame the running one (after a call pushed it or a
            // return popped the one above it); `sp` and `limit` stay.
            macro_rules! enter_top_frame {
                () => {{
                    fi = self.frames.len() - 1;
                    let f = self.frames.get_unchecked(fi);
                    code = &*Rc::as_ptr(&f.code);
                    globals = &*Rc::as_ptr(&f.globals);
                    base = f.base;
                    ops = code.ops.as_ptr();
                    ip = ops.add(f.ip);
                    lp = self.stack.as_mut_ptr().add(base);
                }};
            }
            macro_rules! ip_index {
                () => {
                    ip.offset_from(ops) as usize
                };
            }
            macro_rules! sync {
                () => {{
                    self.stack.set_len(sp.offset_from(self.stack.as_ptr()) as usize);
                }};
            }
            macro_rules! push {
                ($v:expr) => {{
                    let v = $v;
                    if sp == limit {
                        sync!();
                        self.grow_stack();
                        reload!();
                    }
                    Value::write_words(sp, v);
                    sp = sp.add(1);
                }};
            }
            macro_rules! pop {
                () => {{
                    sp = sp.sub(1);
                    Value::read_words(sp)
                }};
            }
            macro_rules! tri {
                ($e:expr) => {
                    match $e {
                        Ok(v) => v,
                        Err(e) => {
                            sync!();
                            self.frames[fi].ip = ip_index!();
                            return Err(e);
                        }
                    }
                };
            }
            // A comparison's result `b`: a conditional jump right after it is
            // taken at once, otherwise the bool is pushed.
            macro_rules! push_or_branch {
                ($b:expr) => {{
                    let b: bool = $b;
                    match *ip {
                        Op::PopJumpIfFalse(t) => ip = if b { ip.add(1) } else { ops.add(t as usize) },
                        Op::PopJumpIfTrue(t) => ip = if b { ops.add(t as usize) } else { ip.add(1) },
                        _ => push!(Value::bool(b)),
                    }
                }};
            }
            // A plain function `f` at `fpos` called with its `argc` positional
            // parameters: a new frame whose locals start with the arguments.
            // With `init`, the frame runs `__init__` for the new instance in
            // the callee's slot, which its return gives back (see `return_plain`).
            macro_rules! call_plain {
                ($f:expr, $fpos:expr, $argc:expr) => {
                    call_plain!($f, $fpos, $argc, false)
                };
                ($f:expr, $fpos:expr, $argc:expr, $init:expr) => {{
                    let f: &Rc<Function> = $f;
                    if self.frames.len() < self.recursion_limit {
                        let fcode = f.code.clone();
                        let fglobals = f.globals.clone();
                        let extra = fcode.nlocals as usize - $argc as usize;
                        let callee_base = $fpos.add(1).offset_from(self.stack.as_ptr()) as usize;
                        for _ in 0..extra {
                            push!(Value::Undef);
                        }
                        self.frames[fi].ip = ip_index!();
                        self.budget = self.budget.wrapping_sub(1);
                        if self.budget == 0 || crate::generator::finalizers_due() || INTERRUPTED.load(Ordering::Relaxed) {
                            // A signal handler or a finalizer may run: it may grow the stack.
                            sync!();
                            tri!(self.check_interrupt());
                            reload!();
                        }
                        // The new frame's state is at hand: set it, rather than
                        // read it back from the frame just pushed.
                        let code_ptr = Rc::as_ptr(&fcode);
                        let globals_ptr = Rc::as_ptr(&fglobals);
                        self.push_frame_unchecked(Frame::new(fcode, 0, callee_base, fglobals, FrameKind::Call));
                        fi += 1;
                        if $init {
                            self.frames.get_unchecked_mut(fi).mode = ResumeMode::Init;
                        }
                        code = &*code_ptr;
                        globals = &*globals_ptr;
                        base = callee_base;
                        ops = code.ops.as_ptr();
                        ip = ops;
                        lp = self.stack.as_mut_ptr().add(base);
                        continue;
                    }
                }};
            }
            // A plain function `f` given `$argc` of its positional parameters,
            // the rest having defaults: the defaults are pushed after the
            // arguments.
            macro_rules! call_with_defaults {
                ($f:expr, $argc:expr) => {
                    call_with_defaults!($f, $argc, false)
                };
                ($f:expr, $argc:expr, $init:expr) => {{
                    if self.frames.len() < self.recursion_limit {
                        // Pushing may move the stack, and `$f` with it.
                        let f: Rc<Function> = $f.clone();
                        let defaults = missing_defaults(&f, $argc).unwrap_or_default();
                        for v in defaults {
                            push!(v.clone());
                        }
                        let argc = f.code.argcount;
                        let fpos = sp.sub(argc as usize + 1);
                        call_plain!(&f, fpos, argc, $init);
                    }
                }};
            }
            // [callee, `$n` args] becomes [`$callee`, `$this`, args]: the
            // arguments move up one slot and the old callee is dropped.
            // Evaluates to the callee's slot.
            macro_rules! insert_self {
                ($n:expr, $callee:expr, $this:expr) => {{
                    let callee = $callee;
                    let this = $this;
                    push!(Value::Undef);
                    let fpos = sp.sub($n as usize + 2);
                    std::ptr::copy(fpos.add(1), fpos.add(2), $n as usize);
                    Value::write_words(fpos.add(1), this);
                    let old = Value::read_words(fpos);
                    Value::write_words(fpos, callee);
                    old.discard();
                    fpos
                }};
            }
            // A plain call frame returns `v`: its values go, the caller gets
            // `v` (or, from an `__init__` run by `Call`, the new instance).
            macro_rules! return_plain {
                ($v:expr) => {{
                    let mut v = $v;
                    let callee = lp.sub(1);
                    let mut bad_init = None;
                    if let ResumeMode::Init = self.frames.get_unchecked(fi).mode {
                        if !v.is_none() {
                            bad_init = Some(init_returned(&v));
                        }
                        v.discard();
                        v = (*callee).clone();
                    }
                    while sp > callee {
                        pop!().discard();
                    }
                    self.pop_call_frame();
                    if self.frames.len() == entry {
                        sync!();
                        return Ok(Halt::Return(v));
                    }
                    if let Some(e) = bad_init {
                        // Raised in the caller, after `__init__` returned.
                        v.discard();
                        enter_top_frame!();
                        sync!();
                        self.frames[fi].ip = ip_index!();
                        return Err(e);
                    }
                    push!(v);
                    enter_top_frame!();
                    continue;
                }};
            }
            // A native function at `fpos` called with the `argc` values above it.
            macro_rules! call_native {
                ($fpos:expr, $argc:expr) => {{
                    let at = $fpos.offset_from(self.stack.as_ptr()) as usize;
                    sync!();
                    self.frames[fi].ip = ip_index!();
                    if crate::generator::finalizers_due() {
                        crate::generator::run_finalizers(self);
                    }
                    let r = self.call_native_on_stack(at, $argc as usize);
                    reload!();
                    tri!(r);
                    // A native call may have allocated past --max-memory (a
                    // list growing in append): its MemoryError belongs to
                    // this call's line, not to the next backward jump.
                    if INTERRUPTED.load(Ordering::Relaxed) && crate::limits::memory_over_pending() {
                        let r = self.interrupt_now();
                        reload!();
                        tri!(r);
                    }
                    if self.block_request.is_some() && entry == 0 {
                        sync!();
                        return Ok(Halt::Blocked);
                    }
                    continue;
                }};
            }
            // SAFETY: the compiler balances every code object's stack, so the
            // pops and peeks below never go under the frame's values; `ip`
            // stays inside `ops` (every code object ends in a return or a
            // raise, and jump targets are resolved labels); pushes check
            // `limit`; `sp`, `lp` and `limit` are refreshed whenever
            // `self.stack` may have been reallocated.
            unsafe {
                reload!();
                loop {
                    debug_assert!(ip_index!() < code.ops.len());
                    debug_assert!(sp >= lp);
                    let op = *ip;
                    ip = ip.add(1);
                    match op {
                        Op::Nop => continue,
                        Op::Pop => {
                            pop!().discard();
                            continue;
                        }
                        Op::Dup => {
                            push!((*sp.sub(1)).clone());
                            continue;
                        }
                        Op::Copy(n) => {
                            push!((*sp.sub(n as usize)).clone());
                            continue;
                        }
                        Op::Swap(n) => {
                            let a = Value::read_words(sp.sub(1));
                            let b = Value::read_words(sp.sub(n as usize));
                            Value::write_words(sp.sub(1), b);
                            Value::write_words(sp.sub(n as usize), a);
                            continue;
                        }
                        Op::LoadConst(i) => {
                            push!(code.consts.get_unchecked(i as usize).clone());
                            continue;
                        }
                        Op::LoadNone => {
                            push!(Value::None);
                            continue;
                        }
                        Op::LoadInt(i) => {
                            push!(Value::Int(i as i64));
                            continue;
                        }
                        Op::LoadFast(i) => {
                            let src = lp.add(i as usize);
                            if !(*src).is_undef() {
                                push!((*src).clone());
                                continue;
                            }
                        }
                        Op::LoadFastIntBinary { slot, binop, k } => {
                            let src = lp.add(slot as usize);
                            if let Value::Int(x) = &*src {
                                if let Some(v) = int_binary_fast(binop, *x, k as i64) {
                                    push!(v);
                                    ip = ip.add(2);
                                    continue;
                                }
                            }
                            if !(*src).is_undef() {
                                push!((*src).clone());
                                continue;
                            }
                        }
                        Op::LoadFastIntCompare { slot, cmp, k } => {
                            let src = lp.add(slot as usize);
                            if let Value::Int(x) = &*src {
                                let b = crate::ops::cmp_ord(cmp, x.cmp(&(k as i64)));
                                ip = ip.add(2);
                                push_or_branch!(b);
                                continue;
                            }
                            if !(*src).is_undef() {
                                push!((*src).clone());
                                continue;
                            }
                        }
                        Op::StoreFast(i) => {
                            let v = pop!();
                            let dst = lp.add(i as usize);
                            let old = Value::read_words(dst);
                            Value::write_words(dst, v);
                            old.discard();
                            continue;
                        }
                        Op::LoadDeref(i) => {
                            if let Value::Cell(c) = &*lp.add(i as usize) {
                                let v = c.v.borrow().clone();
                                if !v.is_undef() {
                                    push!(v);
                                    continue;
                                }
                            }
                        }
                        Op::LoadGlobal(slot) => {
                            // No borrow flag: nothing holds a borrow of a
                            // module's slots or builtin cache across an
                            // instruction, and a clone runs no code.
                            let v = (&*globals.globals.as_ptr()).get_unchecked(slot as usize).clone();
                            if !v.is_undef() {
                                push!(v);
                                continue;
                            }
                            if let Some((epoch, v)) = (&*globals.builtin_cache.as_ptr()).get(slot as usize) {
                                if *epoch == self.builtins_epoch {
                                    push!(v.clone());
                                    continue;
                                }
                            }
                        }
                        Op::StoreGlobal(slot) => {
                            let v = pop!();
                            let old = std::mem::replace(globals.globals.borrow_mut().get_unchecked_mut(slot as usize), v);
                            old.discard();
                            continue;
                        }
                        Op::Binary(b) => {
                            if let Some(v) = binary_fast(b, &*sp.sub(2), &*sp.sub(1)) {
                                // Both operands are immediates (binary_fast
                                // said so): overwriting them drops nothing.
                                sp = sp.sub(1);
                                Value::write_words(sp.sub(1), v);
                                continue;
                            }
                            if b & !INPLACE == crate::ops::ADD {
                                if let (Value::Str(x), Value::Str(y)) = (&*sp.sub(2), &*sp.sub(1)) {
                                    let v = Value::Str(Rc::new(PyStr::concat(x, y)));
                                    pop!().discard();
                                    let lhs = Value::read_words(sp.sub(1));
                                    Value::write_words(sp.sub(1), v);
                                    lhs.discard();
                                    continue;
                                }
                            }
                        }
                        Op::Compare(c) => {
                            if let (Value::Int(x), Value::Int(y)) = (&*sp.sub(2), &*sp.sub(1)) {
                                let b = crate::ops::cmp_ord(c, x.cmp(y));
                                sp = sp.sub(2);
                                push_or_branch!(b);
                                continue;
                            }
                            if let (Value::Float(x), Value::Float(y)) = (&*sp.sub(2), &*sp.sub(1)) {
                                // NaN (no ordering) takes the general path.
                                if let Some(o) = x.get().partial_cmp(&y.get()) {
                                    let b = crate::ops::cmp_ord(c, o);
                                    sp = sp.sub(2);
                                    push_or_branch!(b);
                                    continue;
                                }
                            }
                        }
                        Op::ListAppend(n) => {
                            // A list comprehension's append: <list> ... <v>
                            if let Value::List(l) = &*sp.sub(n as usize + 1) {
                                let v = pop!();
                                l.push(v);
                                continue;
                            }
                        }
                        Op::Is(neg) => {
                            let rhs = pop!();
                            let lhs = pop!();
                            let r = lhs.is(&rhs) != (neg == 1);
                            lhs.discard();
                            rhs.discard();
                            push!(Value::bool(r));
                            continue;
                        }
                        Op::Not => {
                            if let Value::Bool(b) = &*sp.sub(1) {
                                let v = Value::bool(!b.get());
                                Value::write_words(sp.sub(1), v);
                                continue;
                            }
                        }
                        Op::Jump(t) => {
                            self.budget = self.budget.wrapping_sub(1);
                            // Ctrl-C is seen at the next jump, not only when the
                            // budget runs out: an iteration may take long.
                            if self.budget == 0 || INTERRUPTED.load(Ordering::Relaxed) {
                                // Checked before jumping: an exception raised here
                                // belongs to the loop's body (its try), not to the
                                // code before the loop.
                                sync!();
                                self.frames[fi].ip = ip_index!();
                                tri!(self.check_interrupt());
                                if self.preempt && entry == 0 && self.worker_depth == Some(self.native_depth) {
                                    self.frames[fi].ip = t as usize;
                                    return Ok(Halt::Blocked);
                                }
                                reload!();
                            }
                            ip = ops.add(t as usize);
                            continue;
                        }
                        Op::PopJumpIfFalse(t) | Op::PopJumpIfTrue(t) => {
                            if let Some(b) = quick_truth(&*sp.sub(1)) {
                                sp = sp.sub(1);
                                if b == matches!(op, Op::PopJumpIfTrue(_)) {
                                    ip = ops.add(t as usize);
                                }
                                continue;
                            }
                        }
                        Op::JumpIfFalseOrPop(t) | Op::JumpIfTrueOrPop(t) => {
                            if let Value::Bool(b) = &*sp.sub(1) {
                                if b.get() == matches!(op, Op::JumpIfTrueOrPop(_)) {
                                    ip = ops.add(t as usize);
                                } else {
                                    sp = sp.sub(1);
                                }
                                continue;
                            }
                        }
                        Op::ForIter(t) => {
                            if let Value::Iter(it) = &*sp.sub(1) {
                                match crate::iter::next_fast(it) {
                                    Some(Some(v)) => {
                                        push!(v);
                                        continue;
                                    }
                                    Some(None) => {
                                        pop!().discard();
                                        ip = ops.add(t as usize);
                                        continue;
                                    }
                                    None => {}
                                }
                            }
                        }
                        Op::UnpackSequence(n) => {
                            // A tuple or list of the right length: its items go
                            // straight onto the stack, last first, with no
                            // temporary vector.
                            // The `StoreFast`s that follow (`a, b = t`, `for k, v
                            // in ...`) are done here, item by item, saving a
                            // dispatch each; what is left goes on the stack.
                            macro_rules! unpack_items {
                                ($items:expr) => {{
                                    let items: &[Value] = $items;
                                    let mut k = 0;
                                    while k < items.len() {
                                        let Op::StoreFast(slot) = *ip else { break };
                                        let dst = lp.add(slot as usize);
                                        let old = Value::read_words(dst);
                                        Value::write_words(dst, items.get_unchecked(k).clone());
                                        old.discard();
                                        ip = ip.add(1);
                                        k += 1;
                                    }
                                    for v in items[k..].iter().rev() {
                                        Value::write_words(sp, v.clone());
                                        sp = sp.add(1);
                                    }
                                }};
                            }
                            let n = n as usize;
                            let room = limit.offset_from(sp) as usize;
                            let done = match &*sp.sub(1) {
                                Value::Tuple(t) if t.items.len() == n && n < room => {
                                    let seq = Value::read_words(sp.sub(1));
                                    sp = sp.sub(1);
                                    if let Value::Tuple(t) = &seq {
                                        unpack_items!(&t.items);
                                    }
                                    seq.discard();
                                    true
                                }
                                Value::List(l) if l.len() == n && n < room => {
                                    let seq = Value::read_words(sp.sub(1));
                                    sp = sp.sub(1);
                                    if let Value::List(l) = &seq {
                                        unpack_items!(&l.borrow());
                                    }
                                    seq.discard();
                                    true
                                }
                                _ => false,
                            };
                            if done {
                                continue;
                            }
                        }
                        Op::Subscr => {
                            if let (Value::Dict(d), Value::Str(k)) = (&*sp.sub(2), &*sp.sub(1)) {
                                let v = d.d.borrow().get_pystr(k);
                                if let Some(v) = v {
                                    pop!().discard();
                                    let dict = Value::read_words(sp.sub(1));
                                    Value::write_words(sp.sub(1), v);
                                    dict.discard();
                                    continue;
                                }
                            }
                            if let (Value::List(l), Value::Int(i)) = (&*sp.sub(2), &*sp.sub(1)) {
                                let l = l.borrow();
                                let n = l.len() as i64;
                                let j = if *i < 0 { *i + n } else { *i };
                                if j >= 0 && j < n {
                                    let v = l.get_unchecked(j as usize).clone();
                                    drop(l);
                                    sp = sp.sub(1);
                                    let list = Value::read_words(sp.sub(1));
                                    Value::write_words(sp.sub(1), v);
                                    list.discard();
                                    continue;
                                }
                            }
                            if let (Value::Tuple(t), Value::Int(i)) = (&*sp.sub(2), &*sp.sub(1)) {
                                let n = t.items.len() as i64;
                                let j = if *i < 0 { *i + n } else { *i };
                                if j >= 0 && j < n {
                                    let v = t.items.get_unchecked(j as usize).clone();
                                    sp = sp.sub(1);
                                    let tuple = Value::read_words(sp.sub(1));
                                    Value::write_words(sp.sub(1), v);
                                    tuple.discard();
                                    continue;
                                }
                            }
                        }
                        Op::StoreSubscr => {
                            // <v> <c> <i>
                            match (&*sp.sub(2), &*sp.sub(1)) {
                                (Value::Dict(_), Value::Str(_)) => {
                                    let Value::Str(k) = pop!() else { unreachable!("matched as a str just above") };
                                    let d = pop!();
                                    let v = pop!();
                                    if let Value::Dict(d) = &d {
                                        d.d.borrow_mut().set_str_rc(k, v);
                                    }
                                    d.discard();
                                    continue;
                                }
                                (Value::List(l), Value::Int(i)) => {
                                    let n = l.len() as i64;
                                    let j = if *i < 0 { *i + n } else { *i };
                                    if j >= 0 && j < n {
                                        pop!().discard();
                                        let list = pop!();
                                        let v = pop!();
                                        if let Value::List(l) = &list {
                                            let old = std::mem::replace(&mut l.borrow_mut()[j as usize], v);
                                            old.discard();
                                        }
                                        list.discard();
                                        continue;
                                    }
                                }
                                _ => {}
                            }
                        }
                        Op::Call(n) if self.kwnames.is_none() => {
                            let fpos = sp.sub(n as usize + 1);
                            match &*fpos {
                                Value::Function(f) if f.code.simple && n == f.code.argcount => {
                                    call_plain!(f, fpos, n);
                                }
                                Value::Function(f) if f.code.simple && n < f.code.argcount && missing_defaults(f, n).is_some() => {
                                    call_with_defaults!(f, n);
                                }
                                Value::Function(f) if f.code.simple_resumable && n == f.code.argcount => {
                                    // A coroutine or generator function: the arguments
                                    // move into the new generator's locals.
                                    let f = f.clone();
                                    let nlocals = f.code.nlocals as usize;
                                    let args = fpos.add(1);
                                    // The callee and arguments are moved out below the
                                    // synced length; making the generator does not
                                    // touch the stack.
                                    sp = fpos;
                                    sync!();
                                    self.frames[fi].ip = ip_index!();
                                    let g = crate::generator::new_generator_with(self, &f, |locals| {
                                        for k in 0..n as usize {
                                            locals.push(Value::read_words(args.add(k)));
                                        }
                                        for _ in n as usize..nlocals {
                                            locals.push(Value::Undef);
                                        }
                                    });
                                    let callee = Value::read_words(fpos);
                                    callee.discard();
                                    push!(g);
                                    continue;
                                }
                                Value::Native(_) => {
                                    call_native!(fpos, n);
                                }
                                Value::BoundMethod(bm) => {
                                    // A method taken out of its object (`append =
                                    // lst.append`): [bm, args] becomes [func, self,
                                    // args] when the function has a fast path.
                                    let fast = match &bm.func {
                                        Value::Function(f) => {
                                            f.code.simple && n + 1 == f.code.argcount && self.frames.len() < self.recursion_limit
                                        }
                                        Value::Native(_) => true,
                                        _ => false,
                                    };
                                    if fast {
                                        let func = bm.func.clone();
                                        let this = bm.self_.clone();
                                        let fpos = insert_self!(n, func, this);
                                        if let Value::Function(f) = &*fpos {
                                            call_plain!(f, fpos, n + 1);
                                        }
                                        call_native!(fpos, n + 1);
                                    }
                                }
                                Value::Class(cls) if cls.builtin.is_none() && cls.layout == Layout::Object => {
                                    // `Cls(args)` whose `__init__` is a plain function:
                                    // the instance is made here and `__init__` runs in
                                    // a frame of this loop, [cls, args] becoming
                                    // [obj, obj, args] (callee and `self`).
                                    if let Some(init) = plain_init(cls, n) {
                                        if self.frames.len() < self.recursion_limit {
                                            let obj = Value::Instance(Instance::new(cls.clone(), Payload::None));
                                            insert_self!(n, obj.clone(), obj);
                                            call_with_defaults!(&init, n + 1, true);
                                        }
                                    }
                                }
                                Value::Class(cls) if cls.builtin.is_some() => {
                                    if n == 1 && Rc::ptr_eq(cls, &types().str_) {
                                        // `str(x)` of an int or a str (CPython specializes it too).
                                        let v = match &*sp.sub(1) {
                                            Value::Int(i) => Some(crate::types::str::int_str(*i)),
                                            s @ Value::Str(_) => Some(s.clone()),
                                            _ => None,
                                        };
                                        if let Some(v) = v {
                                            pop!().discard();
                                            let cls = Value::read_words(sp.sub(1));
                                            Value::write_words(sp.sub(1), v);
                                            cls.discard();
                                            continue;
                                        }
                                    }
                                    call_native!(fpos, n);
                                }
                                _ => {}
                            }
                        }
                        Op::CallMethod(n) if self.kwnames.is_none() => {
                            // [method, self, args...]: a method found on the class.
                            let fpos = sp.sub(n as usize + 2);
                            match &*fpos {
                                Value::Function(f) if f.code.simple && n + 1 == f.code.argcount => {
                                    call_plain!(f, fpos, n + 1);
                                }
                                Value::Function(f) if f.code.simple && n + 1 < f.code.argcount && missing_defaults(f, n + 1).is_some() => {
                                    call_with_defaults!(f, n + 1);
                                }
                                Value::Native(_) => {
                                    call_native!(fpos, n + 1);
                                }
                                _ => {}
                            }
                        }
                        Op::LoadAttr { name, cache } if cache != NO_CACHE => {
                            if let Value::Instance(inst) = &*sp.sub(1) {
                                let c = code.attr_caches.get_unchecked(cache as usize).borrow();
                                let v = match c.way_for(inst) {
                                    Some(AttrWay { found: CachedAttr::Slot(i), .. }) => {
                                        Some(inst.slot(*i as usize)).filter(|v| !v.is_undef())
                                    }
                                    Some(AttrWay { found: CachedAttr::ClassOf, .. }) => Some(Value::Class(inst.class())),
                                    Some(w) if !matches!(w.found, CachedAttr::Other) => {
                                        let keys = w.keys as *const crate::shape::SharedKeys;
                                        inst.attrs().borrow().get_cached(code.names.get_unchecked(name as usize), keys, &w.index, &w.slot)
                                    }
                                    _ => None,
                                };
                                if let Some(v) = v {
                                    drop(c);
                                    let obj = Value::read_words(sp.sub(1));
                                    Value::write_words(sp.sub(1), v);
                                    obj.discard();
                                    continue;
                                }
                            } else if let Value::Class(cls) = &*sp.sub(1) {
                                // `Cls.CONSTANT`: a plain value in a user class without
                                // a metaclass, from the class's own lookup cache. Dunder
                                // names (`__annotations__` is the class's own, never a
                                // base's) take the general path.
                                let name = code.names.get_unchecked(name as usize);
                                if cls.builtin.is_none() && cls.metaclass.borrow().is_none() && !name.as_str().starts_with("__") {
                                    if let Some(v) = cls.lookup_pystr(name).filter(plain_class_attr) {
                                        let obj = Value::read_words(sp.sub(1));
                                        Value::write_words(sp.sub(1), v);
                                        obj.discard();
                                        continue;
                                    }
                                }
                            }
                        }
                        Op::LoadMethod { name, cache } if cache != NO_CACHE => {
                            let c = code.attr_caches.get_unchecked(cache as usize).borrow();
                            let obj = &*sp.sub(1);
                            let way = match obj {
                                Value::Instance(inst) => c.way_for(inst).filter(|w| {
                                    let keys = w.keys as *const crate::shape::SharedKeys;
                                    !inst.attrs().borrow().shadows_cached(code.names.get_unchecked(name as usize), keys, &w.absent)
                                }),
                                _ => c.way_for_tag(crate::attr::builtin_tag(obj)),
                            };
                            if let Some(AttrWay { found: CachedAttr::Method(m), .. }) = way {
                                let m = m.clone();
                                drop(c);
                                let obj = Value::read_words(sp.sub(1));
                                Value::write_words(sp.sub(1), m);
                                push!(obj);
                                continue;
                            }
                        }
                        Op::StoreAttr { name, cache } if cache != NO_CACHE => {
                            if let Value::Instance(inst) = &*sp.sub(1) {
                                let c = code.attr_caches.get_unchecked(cache as usize).borrow();
                                if let Some(w) = c.way_for(inst).filter(|w| w.plain_store) {
                                    let obj = pop!();
                                    let v = pop!();
                                    if let Value::Instance(inst) = &obj {
                                        match w.found {
                                            CachedAttr::Slot(i) => inst.set_slot(i as usize, v).discard(),
                                            _ => {
                                                let keys = w.keys as *const crate::shape::SharedKeys;
                                                let name = code.names.get_unchecked(name as usize);
                                                inst.attrs().borrow_mut().set_cached(name, v, keys, &w.index, &w.slot);
                                            }
                                        }
                                    }
                                    drop(c);
                                    obj.discard();
                                    continue;
                                }
                            }
                        }
                        Op::Send(t) => {
                            // Resume a generator or coroutine delegate in a new
                            // frame: what `push_gen_frame` does, with the values
                            // moved in registers (calling it here costs an
                            // `await` of a coroutine 7% more instructions).
                            if let Value::Generator(g) = &*sp.sub(2) {
                                let status = g.state.borrow().status;
                                let ok = match status {
                                    GenStatus::Suspended => true,
                                    GenStatus::Created => (*sp.sub(1)).is_none(),
                                    _ => false,
                                };
                                if ok && self.frames.len() < self.recursion_limit {
                                    let g = g.clone();
                                    let v = pop!();
                                    let new_base = sp.offset_from(self.stack.as_ptr()) as usize;
                                    let mut st = g.state.borrow_mut();
                                    let n = st.stack.len();
                                    while (limit.offset_from(sp) as usize) < n + 1 {
                                        sync!();
                                        self.grow_stack();
                                        reload!();
                                    }
                                    // The saved values move up in one copy (see `suspend_gen`).
                                    Value::move_words(st.stack.as_ptr(), sp, n);
                                    st.stack.set_len(0);
                                    sp = sp.add(n);
                                    if status == GenStatus::Created {
                                        v.discard();
                                    } else {
                                        push!(v);
                                    }
                                    st.status = GenStatus::Running;
                                    let gip = st.ip as usize;
                                    let gglobals = st.globals.clone();
                                    let gen_exc = std::mem::take(&mut st.exc);
                                    drop(st);
                                    let gen_exc = self.resume_exc(gen_exc);
                                    let caller_exc = std::mem::replace(&mut self.cur_exc, gen_exc);
                                    self.frames[fi].ip = ip_index!();
                                    let gcode = g.code.clone();
                                    let kind = FrameKind::Gen { gen: g, mode: ResumeMode::Send(t), caller_exc };
                                    self.push_frame_unchecked(Frame::new(gcode, gip, new_base, gglobals, kind));
                                    enter_top_frame!();
                                    continue;
                                }
                            }
                        }
                        Op::ReturnValue if matches!(self.frames.get_unchecked(fi).mode, ResumeMode::Send(_)) => {
                            // A generator frame resumed by `Send` returns: the
                            // delegate is done and `Send` jumps to its exit.
                            let v = pop!();
                            while sp > lp {
                                pop!().discard();
                            }
                            let (_, gen, mode, caller_exc) = self.pop_gen_frame();
                            let ResumeMode::Send(t) = mode else { unreachable!("a generator frame resumed by Send") };
                            self.cur_exc = caller_exc;
                            gen.state.borrow_mut().close();
                            drop(gen);
                            let it = Value::read_words(sp.sub(1));
                            Value::write_words(sp.sub(1), v);
                            if let Value::Generator(g) = it {
                                crate::generator::recycle(self, g);
                            } else {
                                it.discard();
                            }
                            enter_top_frame!();
                            ip = ops.add(t as usize);
                            continue;
                        }
                        Op::YieldValue(flags)
                            if matches!(self.frames.get_unchecked(fi).mode, ResumeMode::Send(_) | ResumeMode::ForIter(_)) =>
                        {
                            // A generator frame resumed by `Send` or `ForIter`
                            // yields: its values move into the generator and the
                            // value goes to the resumer.
                            let v = pop!();
                            self.frames[fi].ip = ip_index!();
                            sync!();
                            let (frame_base, gen, _, caller_exc) = self.pop_gen_frame();
                            self.suspend_gen(&gen, frame_base, ip_index!(), flags & 1 != 0, caller_exc);
                            drop(gen);
                            reload!();
                            push!(v);
                            enter_top_frame!();
                            continue;
                        }
                        Op::GetAwaitable(_) => {
                            if let Value::Generator(g) = &*sp.sub(1) {
                                if g.kind == GenKind::Coroutine && g.state.borrow().status != GenStatus::Closed {
                                    continue;
                                }
                            }
                        }
                        Op::ReturnValue if self.frames.get_unchecked(fi).gen.is_none() => {
                            let v = pop!();
                            return_plain!(v);
                        }
                        Op::ReturnNone if self.frames.get_unchecked(fi).gen.is_none() => {
                            return_plain!(Value::None);
                        }
                        Op::ReturnLocal(slot) if self.frames.get_unchecked(fi).gen.is_none() && !(*lp.add(slot as usize)).is_undef() => {
                            let v = (*lp.add(slot as usize)).clone();
                            return_plain!(v);
                        }
                        _ => {}
                    }
                    // The general path: the instruction's full semantics on the synced stack.
                    sync!();
                    let mut at = ip_index!();
                    let r = self.general_op(op, fi, code, &mut at, entry);
                    ip = ops.add(at);
                    match r {
                        Ok(Flow::Next) => reload!(),
                        Ok(Flow::Frame) => continue 'frame,
                        Ok(Flow::Halt(h)) => return Ok(h),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }

    /// Every instruction's full semantics, on the synced operand stack
    /// (`self.stack`). The dispatch loop handles the common cases of the hot
    /// instructions itself and comes here for the rest; an `Err` leaves with
    /// the frame's `ip` still to be saved by the caller.
    #[inline(never)]
    fn general_op(&mut self, op: Op, fi: usize, code: &Code, ip: &mut usize, entry: usize) -> PyResult<Flow> {
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        self.frames[fi].ip = *ip;
                        return Err(e);
                    }
                }
            };
        }
        macro_rules! save {
            () => {
                self.frames[fi].ip = *ip;
            };
        }
        // After a `del`: an object may have died whose weak references call back.
        macro_rules! deleted {
            () => {
                if crate::weakref::watching() {
                    save!();
                    crate::weakref::poll(self);
                }
            };
        }
        let base = self.frames[fi].base;
        match op {
            Op::Nop => {}
            Op::Pop => {
                self.stack.pop();
            }
            Op::Dup => {
                let v = self.top().clone();
                self.push(v);
            }
            Op::Copy(n) => {
                let v = self.stack[self.stack.len() - n as usize].clone();
                self.push(v);
            }
            Op::Swap(n) => {
                let len = self.stack.len();
                self.stack.swap(len - 1, len - n as usize);
            }
            Op::LoadConst(i) => self.push(code.consts[i as usize].clone()),
            Op::LoadNone => self.push(Value::None),
            Op::LoadInt(i) => self.push(Value::Int(i as i64)),
            Op::LoadFast(i) => {
                let v = self.stack[base + i as usize].clone();
                if let Value::Undef = v {
                    let name = code.varnames[i as usize].clone();
                    let e = err(
                        &types().exc.unbound_local_error,
                        format!("cannot access local variable '{}' where it is not associated with a value", name.as_str()),
                    );
                    tri!(Err(self.with_scope(e, fi)));
                }
                self.push(v);
            }
            Op::StoreFast(i) => {
                let v = self.pop();
                self.stack[base + i as usize] = v;
            }
            Op::DeleteFast(i) => {
                if self.stack[base + i as usize].is_undef() {
                    let name = code.varnames[i as usize].clone();
                    tri!(Err(err(
                        &types().exc.unbound_local_error,
                        format!("cannot access local variable '{}' where it is not associated with a value", name.as_str())
                    )));
                }
                self.stack[base + i as usize] = Value::Undef;
                deleted!();
            }
            Op::LoadDeref(i) => {
                let v = match &self.stack[base + i as usize] {
                    Value::Cell(c) => c.v.borrow().clone(),
                    _ => Value::Undef,
                };
                if v.is_undef() {
                    tri!(Err(self.unbound_cell_error(code, i)));
                }
                self.push(v);
            }
            Op::StoreDeref(i) => {
                let v = self.pop();
                if let Value::Cell(c) = &self.stack[base + i as usize] {
                    *c.v.borrow_mut() = v;
                }
            }
            Op::DeleteDeref(i) => {
                if let Value::Cell(c) = &self.stack[base + i as usize] {
                    let old = std::mem::replace(&mut *c.v.borrow_mut(), Value::Undef);
                    if old.is_undef() {
                        tri!(Err(self.unbound_cell_error(code, i)));
                    }
                }
                deleted!();
            }
            Op::LoadClosure(i) => {
                let v = self.stack[base + i as usize].clone();
                self.push(v);
            }
            Op::LoadClassDeref(i) => {
                let name = code.varnames[i as usize].clone();
                let from_ns = self.frames[fi].locals.as_ref().and_then(|d| d.d.borrow().get_pystr(&name));
                let v = match from_ns {
                    Some(v) => v,
                    None => match &self.stack[base + i as usize] {
                        Value::Cell(c) => c.v.borrow().clone(),
                        _ => Value::Undef,
                    },
                };
                if v.is_undef() {
                    tri!(Err(self.unbound_cell_error(code, i)));
                }
                self.push(v);
            }
            Op::LoadGlobal(slot) => {
                let v = self.frames[fi].globals.globals.borrow()[slot as usize].clone();
                let v = if v.is_undef() { tri!(self.load_builtin(fi, slot)) } else { v };
                self.push(v);
            }
            Op::StoreGlobal(slot) => {
                let v = self.pop();
                self.frames[fi].globals.globals.borrow_mut()[slot as usize] = v;
            }
            Op::DeleteGlobal(slot) => {
                let g = self.frames[fi].globals.clone();
                let old = std::mem::replace(&mut g.globals.borrow_mut()[slot as usize], Value::Undef);
                if old.is_undef() {
                    tri!(Err(name_error(g.name_of_slot(slot).as_str())));
                }
                drop(old);
                deleted!();
            }
            Op::LoadName(i) => {
                let name = code.names[i as usize].clone();
                let v = tri!(self.load_name(fi, &name));
                self.push(v);
            }
            Op::StoreName(i) => {
                let v = self.pop();
                let name = code.names[i as usize].clone();
                match &self.frames[fi].locals {
                    Some(d) => match self.namespace_mapping(d) {
                        Some(m) => {
                            save!();
                            tri!(self.setitem(&m, Value::Str(name), v));
                        }
                        None => d.set_str_rc(name, v),
                    },
                    None => self.frames[fi].globals.set(name.as_str(), v),
                }
            }
            Op::DeleteName(i) => {
                let name = code.names[i as usize].clone();
                if let Some(m) = self.frames[fi].locals.as_ref().and_then(|d| self.namespace_mapping(d)) {
                    save!();
                    tri!(self.delitem(&m, Value::Str(name)));
                    return Ok(Flow::Next);
                }
                let removed = match &self.frames[fi].locals {
                    Some(d) => d.remove_str(name.as_str()).is_some(),
                    None => {
                        let g = &self.frames[fi].globals;
                        let slot = g.slot(name.as_str());
                        !std::mem::replace(&mut g.globals.borrow_mut()[slot as usize], Value::Undef).is_undef()
                    }
                };
                if !removed {
                    tri!(Err(name_error(name.as_str())));
                }
                deleted!();
            }
            Op::ReturnLocal(slot) => return self.general_op(Op::LoadFast(slot), fi, code, ip, entry),
            Op::ReturnNone => self.push(Value::None),
            Op::LoadFastIntBinary { slot, .. } | Op::LoadFastIntCompare { slot, .. } => {
                return self.general_op(Op::LoadFast(slot as u32), fi, code, ip, entry);
            }
            Op::LoadAttr { name, cache } => {
                let obj = self.pop();
                let name = &code.names[name as usize];
                crate::attr::fill_attr_cache(code, cache, &obj, name);
                let v = tri!(self.getattr(&obj, name));
                self.push(v);
            }
            Op::StoreAttr { name, cache } => {
                let obj = self.pop();
                let v = self.pop();
                let name = &code.names[name as usize];
                crate::attr::fill_attr_cache(code, cache, &obj, name);
                tri!(self.setattr(&obj, name, v));
            }
            Op::DeleteAttr(i) => {
                let obj = self.pop();
                tri!(self.delattr(&obj, &code.names[i as usize]));
                drop(obj);
                deleted!();
            }
            Op::LoadMethod { name, cache } => {
                let obj = self.pop();
                let name = &code.names[name as usize];
                crate::attr::fill_attr_cache(code, cache, &obj, name);
                let (m, s) = tri!(self.load_method(obj, name));
                self.push(m);
                self.push(s);
            }
            Op::Subscr => {
                let idx = self.pop();
                let c = self.pop();
                let v = tri!(self.getitem(&c, &idx));
                self.push(v);
            }
            Op::StoreSubscr => {
                let idx = self.pop();
                let c = self.pop();
                let v = self.pop();
                tri!(self.setitem(&c, idx, v));
            }
            Op::DeleteSubscr => {
                let idx = self.pop();
                let c = self.pop();
                tri!(self.delitem(&c, idx));
                drop(c);
                deleted!();
            }
            Op::BuildSlice(n) => {
                let step = if n == 3 { self.pop() } else { Value::None };
                let stop = self.pop();
                let start = self.pop();
                self.push(Value::Slice(Rc::new(PySlice { start, stop, step })));
            }
            Op::Binary(b) => {
                let rhs = self.pop();
                let lhs = self.pop();
                let v = tri!(self.binary(b, &lhs, &rhs));
                self.push(v);
            }
            Op::Neg => {
                let a = self.pop();
                let v = tri!(self.unary_neg(&a));
                self.push(v);
            }
            Op::Pos => {
                let a = self.pop();
                let v = tri!(self.unary_pos(&a));
                self.push(v);
            }
            Op::Invert => {
                let a = self.pop();
                let v = tri!(self.unary_invert(&a));
                self.push(v);
            }
            Op::Not => {
                let a = self.pop();
                let t = match a {
                    Value::Bool(b) => b.get(),
                    _ => tri!(self.truthy(&a)),
                };
                self.push(Value::bool(!t));
            }
            Op::Compare(c) => {
                let rhs = self.pop();
                let lhs = self.pop();
                let v = tri!(self.compare(c, &lhs, &rhs));
                self.push(v);
            }
            Op::CompareTuples { n, cmp } => {
                let (n, at) = (n as usize, self.stack.len() - 2 * n as usize);
                let items: smallvec::SmallVec<[Value; 10]> = self.stack.drain(at..).collect();
                let v = tri!(self.compare_tuple_items(cmp, &items[..n], &items[n..]));
                self.push(v);
            }
            Op::Is(neg) => {
                let rhs = self.pop();
                let lhs = self.pop();
                self.push(Value::bool(lhs.is(&rhs) != (neg == 1)));
            }
            Op::In(neg) => {
                let container = self.pop();
                let item = self.pop();
                let r = tri!(self.contains(&container, &item));
                self.push(Value::bool(r != (neg == 1)));
            }
            Op::Jump(t) => {
                self.budget = self.budget.wrapping_sub(1);
                if self.budget == 0 || INTERRUPTED.load(Ordering::Relaxed) {
                    // Checked before jumping, as in the fast path.
                    save!();
                    tri!(self.check_interrupt());
                    if self.preempt && entry == 0 && self.worker_depth == Some(self.native_depth) {
                        self.frames[fi].ip = t as usize;
                        return Ok(Flow::Halt(Halt::Blocked));
                    }
                }
                *ip = t as usize;
            }
            Op::PopJumpIfFalse(t) => {
                let c = self.pop();
                let b = match c {
                    Value::Bool(b) => b.get(),
                    _ => {
                        let t = tri!(self.truthy(&c));
                        c.discard();
                        t
                    }
                };
                if !b {
                    *ip = t as usize;
                }
            }
            Op::PopJumpIfTrue(t) => {
                let c = self.pop();
                let b = match c {
                    Value::Bool(b) => b.get(),
                    _ => {
                        let t = tri!(self.truthy(&c));
                        c.discard();
                        t
                    }
                };
                if b {
                    *ip = t as usize;
                }
            }
            Op::JumpIfFalseOrPop(t) => {
                let top = self.top().clone();
                let b = match top {
                    Value::Bool(b) => b.get(),
                    _ => tri!(self.truthy(&top)),
                };
                if !b {
                    *ip = t as usize;
                } else {
                    self.stack.pop();
                }
            }
            Op::JumpIfTrueOrPop(t) => {
                let top = self.top().clone();
                let b = match top {
                    Value::Bool(b) => b.get(),
                    _ => tri!(self.truthy(&top)),
                };
                if b {
                    *ip = t as usize;
                } else {
                    self.stack.pop();
                }
            }
            Op::GetIter => {
                let v = self.pop();
                let it = tri!(self.iter(&v));
                self.push(it);
            }
            Op::ForIter(t) => {
                let it = self.top().clone();
                match &it {
                    Value::Iter(i) => match tri!(crate::iter::next_builtin(self, i)) {
                        Some(v) => self.push(v),
                        None => {
                            self.stack.pop();
                            *ip = t as usize;
                        }
                    },
                    Value::Generator(g) if g.kind == GenKind::Generator => {
                        save!();
                        let status = g.state.borrow().status;
                        if status == GenStatus::Closed {
                            self.stack.pop();
                            *ip = t as usize;
                        } else {
                            tri!(self.push_gen_frame(g, ResumeMode::ForIter(t), Value::None));
                            return Ok(Flow::Frame);
                        }
                    }
                    _ => {
                        save!();
                        match tri!(self.next(&it)) {
                            Some(v) => self.push(v),
                            None => {
                                self.stack.pop();
                                *ip = t as usize;
                            }
                        }
                    }
                }
            }
            Op::BuildTuple(n) => {
                let items = self.stack.split_off(self.stack.len() - n as usize);
                self.push(Value::tuple(items));
            }
            Op::BuildList(n) => {
                let items = self.stack.split_off(self.stack.len() - n as usize);
                self.push(Value::list(items));
            }
            Op::BuildSet(n) => {
                let items = self.stack.split_off(self.stack.len() - n as usize);
                let s = Rc::new(PySet::default());
                crate::gc::track(&s);
                for it in items {
                    tri!(self.set_add(&s, it));
                }
                self.push(Value::Set(s));
            }
            Op::BuildMap(n) => {
                let items = self.stack.split_off(self.stack.len() - 2 * n as usize);
                let d = Rc::new(PyDict::new());
                crate::gc::track(&d);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    tri!(self.dict_set(&d, k, v));
                }
                self.push(Value::Dict(d));
            }
            Op::ListAppend(n) => {
                let v = self.pop();
                let len = self.stack.len();
                if let Value::List(l) = &self.stack[len - n as usize] {
                    l.push(v);
                }
            }
            Op::SetAdd(n) => {
                let v = self.pop();
                let len = self.stack.len();
                if let Value::Set(s) = self.stack[len - n as usize].clone() {
                    tri!(self.set_add(&s, v));
                }
            }
            Op::MapAdd(n) => {
                let v = self.pop();
                let k = self.pop();
                let len = self.stack.len();
                if let Value::Dict(d) = self.stack[len - n as usize].clone() {
                    tri!(self.dict_set(&d, k, v));
                }
            }
            Op::ListExtend(n) => {
                let v = self.pop();
                let len = self.stack.len();
                let target = self.stack[len - n as usize].clone();
                save!();
                let items = match self.collect(&v) {
                    Ok(items) => items,
                    Err(e) if e.is(&types().exc.type_error) && self.iter(&v).is_err() => {
                        tri!(Err(type_error(format!("Value after * must be an iterable, not {}", crate::types::type_name(&v)))))
                    }
                    Err(e) => tri!(Err(e)),
                };
                if let Value::List(l) = target {
                    l.borrow_mut().extend(items);
                }
            }
            Op::SetUpdate(n) => {
                let v = self.pop();
                let len = self.stack.len();
                let target = self.stack[len - n as usize].clone();
                save!();
                if let Value::Set(s) = target {
                    tri!(crate::types::set::update_from(self, &s, &v));
                }
            }
            Op::DictUpdate(n) | Op::DictMerge(n) => {
                let v = self.pop();
                let len = self.stack.len();
                let target = self.stack[len - n as usize].clone();
                save!();
                if let Value::Dict(d) = target {
                    let merge = matches!(op, Op::DictMerge(_));
                    tri!(self.dict_update_from(&d, &v, merge));
                }
            }
            Op::ListToTuple => {
                let v = self.pop();
                if let Value::List(l) = v {
                    let items = std::mem::take(&mut *l.borrow_mut());
                    self.push(Value::tuple(items));
                }
            }
            Op::UnpackSequence(n) => {
                let v = self.pop();
                save!();
                tri!(self.unpack_sequence(v, n as usize));
            }
            Op::UnpackEx(before, after) => {
                let v = self.pop();
                save!();
                tri!(self.unpack_ex(v, before as usize, after as usize));
            }
            Op::Rot(n) => {
                let v = self.pop();
                let at = self.stack.len() + 1 - n as usize;
                self.stack.insert(at, v);
            }
            Op::Pull(n) => {
                let v = self.stack.remove(self.stack.len() - n as usize);
                self.push(v);
            }
            Op::GetLen => {
                let v = self.top().clone();
                save!();
                let n = tri!(self.len(&v));
                self.push(Value::Int(n as i64));
            }
            Op::MatchSequence => {
                let b = crate::matching::is_sequence(self.top());
                self.push(Value::bool(b));
            }
            Op::MatchMapping => {
                let b = crate::matching::is_mapping(self.top());
                self.push(Value::bool(b));
            }
            Op::MatchKeys => {
                let len = self.stack.len();
                let (v, keys) = (self.stack[len - 2].clone(), self.stack[len - 1].clone());
                save!();
                let values = tri!(self.match_keys(&v, &keys));
                self.push(values);
            }
            Op::MatchRest => {
                let keys = self.pop();
                let v = self.pop();
                save!();
                let rest = tri!(self.match_rest(&v, &keys));
                self.push(rest);
            }
            Op::MatchClass(n) => {
                let names = self.pop();
                let cls = self.pop();
                let v = self.pop();
                save!();
                let attrs = tri!(self.match_class(&v, &cls, &names, n as usize));
                self.push(attrs);
            }
            Op::FormatValue(flags) => {
                let spec = if flags & 4 != 0 { Some(self.pop()) } else { None };
                let v = self.pop();
                save!();
                let s = tri!(self.format_value(v, flags & 3, spec));
                self.push(s);
            }
            Op::BuildString(n) => {
                let parts = self.stack.split_off(self.stack.len() - n as usize);
                let mut s = String::new();
                for p in &parts {
                    if let Value::Str(ps) = p {
                        s.push_str(ps.as_str());
                    }
                }
                self.push(Value::string(s));
            }
            Op::KwNames(i) => {
                if let Value::Tuple(t) = &code.consts[i as usize] {
                    self.kwnames = Some(t.clone());
                }
            }
            Op::Call(n) => {
                save!();
                let kw = self.kwnames.take();
                if tri!(self.call_from_stack(n as usize, kw)) {
                    return Ok(Flow::Frame);
                }
                if self.block_request.is_some() && entry == 0 {
                    return Ok(Flow::Halt(Halt::Blocked));
                }
            }
            Op::CallMethod(n) => {
                save!();
                let kw = self.kwnames.take();
                let len = self.stack.len();
                let pos = len - n as usize - 2;
                let pushed = if self.stack[pos].is_undef() {
                    self.stack.remove(pos);
                    tri!(self.call_from_stack(n as usize, kw))
                } else {
                    tri!(self.call_from_stack(n as usize + 1, kw))
                };
                if pushed {
                    return Ok(Flow::Frame);
                }
                if self.block_request.is_some() && entry == 0 {
                    return Ok(Flow::Halt(Halt::Blocked));
                }
            }
            Op::CallEx(has_kw) => {
                save!();
                let kwargs = if has_kw == 1 { Some(self.pop()) } else { None };
                let args = self.pop();
                let f = self.pop();
                let mut a = Args::default();
                if let Value::Tuple(t) = &args {
                    a.pos.extend(t.items.iter().cloned());
                }
                if let Some(Value::Dict(d)) = kwargs {
                    for (k, v) in d.items() {
                        match k {
                            Value::Str(s) => a.kw.push((s, v)),
                            _ => tri!(Err(type_error("keywords must be strings"))),
                        }
                    }
                }
                if tri!(self.call_args_push(f, a)) {
                    return Ok(Flow::Frame);
                }
            }
            Op::MakeFunction(i) => {
                let Value::Code(fcode) = &code.consts[i as usize] else { unreachable!("code constant") };
                let fcode = fcode.clone();
                let closure = if fcode.flags.has_closure {
                    match self.pop() {
                        Value::Tuple(t) => t.items.to_vec(),
                        _ => vec![],
                    }
                } else {
                    vec![]
                };
                let annotations = if fcode.flags.has_annotations {
                    match self.pop() {
                        Value::Tuple(t) => {
                            let d = PyDict::new();
                            for pair in t.items.chunks(2) {
                                if let [Value::Str(k), v] = pair {
                                    d.set_str_rc(k.clone(), v.clone());
                                }
                            }
                            Some(Rc::new(d))
                        }
                        _ => None,
                    }
                } else {
                    None
                };
                let kwdefaults = if fcode.flags.has_kwdefaults {
                    match self.pop() {
                        Value::Dict(d) => {
                            d.items().into_iter().filter_map(|(k, v)| if let Value::Str(s) = k { Some((s, v)) } else { None }).collect()
                        }
                        _ => vec![],
                    }
                } else {
                    vec![]
                };
                let defaults = if fcode.flags.has_defaults {
                    match self.pop() {
                        Value::Tuple(t) => t.items.to_vec(),
                        _ => vec![],
                    }
                } else {
                    vec![]
                };
                let globals = self.frames[fi].globals.clone();
                let f = Function {
                    name: std::cell::RefCell::new(fcode.name.clone()),
                    qualname: std::cell::RefCell::new(fcode.qualname.clone()),
                    code: fcode,
                    globals,
                    defaults,
                    kwdefaults,
                    closure,
                    dict: std::cell::RefCell::new(None),
                    annotations: std::cell::RefCell::new(annotations),
                    gc: Default::default(),
                };
                let f = Rc::new(f);
                crate::gc::track(&f);
                self.push(Value::Function(f));
            }
            Op::LoadBuildClass => {
                self.push(crate::types::native_fn("__build_class__", crate::call::build_class));
            }
            Op::SetupAnnotations => match &self.frames[fi].locals {
                Some(ns) => {
                    if ns.get_str("__annotations__").is_none() {
                        ns.set_str("__annotations__", Value::Dict(Rc::new(PyDict::new())));
                    }
                }
                None => {
                    let g = &self.frames[fi].globals;
                    if g.get("__annotations__").is_none() {
                        g.set("__annotations__", Value::Dict(Rc::new(PyDict::new())));
                    }
                }
            },
            Op::ReturnValue => {
                let v = self.pop();
                if let Some(base) = self.pop_call_frame() {
                    self.truncate_stack(base - 1);
                    if self.frames.len() == entry {
                        return Ok(Flow::Halt(Halt::Return(v)));
                    }
                    self.push(v);
                    return Ok(Flow::Frame);
                }
                // A generator frame (a call frame returned above).
                let (frame_base, gen, mode, caller_exc) = self.pop_gen_frame();
                self.stack.truncate(frame_base);
                self.cur_exc = caller_exc;
                gen.state.borrow_mut().close();
                match mode {
                    ResumeMode::Native => return Ok(Flow::Halt(Halt::Return(v))),
                    ResumeMode::Init => unreachable!("a generator frame is resumed, not initialising"),
                    ResumeMode::ForIter(t) => {
                        self.stack.pop();
                        self.frames.last_mut().expect("caller").ip = t as usize;
                    }
                    ResumeMode::Send(t) => {
                        self.stack.pop();
                        self.push(v);
                        self.frames.last_mut().expect("caller").ip = t as usize;
                    }
                    ResumeMode::ASend { exit, closing } => {
                        gen.ag_running.set(false);
                        if closing {
                            self.stack.pop();
                            self.push(Value::None);
                            self.frames.last_mut().expect("caller").ip = exit as usize;
                        } else {
                            return Err(stop_async_iteration());
                        }
                    }
                }
                return Ok(Flow::Frame);
            }
            Op::YieldValue(flags) => {
                let v = self.pop();
                save!();
                // `pop_gen_frame` moves the fields out one by one (a whole
                // `Frame` popped is copied through the Rust stack).
                let (frame_base, gen, mode, caller_exc) = self.pop_gen_frame();
                self.suspend_gen(&gen, frame_base, *ip, flags & 1 != 0, caller_exc);
                let own_yield = flags & 2 != 0;
                match mode {
                    ResumeMode::Native => return Ok(Flow::Halt(Halt::Yield(v, own_yield))),
                    ResumeMode::Init => unreachable!("a generator frame is resumed, not initialising"),
                    ResumeMode::ForIter(_) | ResumeMode::Send(_) => self.push(v),
                    ResumeMode::ASend { exit, closing } => {
                        if own_yield {
                            gen.ag_running.set(false);
                            if closing {
                                return Err(runtime_error("async generator ignored GeneratorExit"));
                            }
                            self.stack.pop();
                            self.push(v);
                            self.frames.last_mut().expect("caller").ip = exit as usize;
                        } else {
                            self.push(v);
                        }
                    }
                }
                return Ok(Flow::Frame);
            }
            Op::GetYieldFromIter => {
                let v = self.pop();
                let it = match &v {
                    Value::Generator(g) if g.kind == GenKind::Generator => v.clone(),
                    Value::Object(o) if o.await_iter().is_some() => v.clone(),
                    Value::Generator(g) if g.kind == GenKind::Coroutine => {
                        tri!(Err(type_error("cannot 'yield from' a coroutine object in a non-coroutine generator")))
                    }
                    _ => tri!(self.iter(&v)),
                };
                self.push(it);
            }
            Op::GetAwaitable(_) => {
                let v = self.pop();
                save!();
                let a = tri!(crate::generator::get_awaitable(self, v));
                self.push(a);
            }
            Op::Send(t) => {
                let v = self.pop();
                let it = self.top().clone();
                save!();
                match tri!(crate::generator::send_op(self, &it, v, t)) {
                    crate::generator::SendOutcome::Pushed => return Ok(Flow::Frame),
                    crate::generator::SendOutcome::Yielded(y) => self.push(y),
                    crate::generator::SendOutcome::Returned(r) => {
                        self.stack.pop();
                        self.push(r);
                        *ip = t as usize;
                    }
                }
            }
            Op::GetAIter => {
                let v = self.pop();
                save!();
                let it = tri!(crate::generator::get_aiter(self, v));
                self.push(it);
            }
            Op::GetANext => {
                let it = self.top().clone();
                save!();
                let a = tri!(crate::generator::get_anext(self, it));
                self.push(a);
            }
            Op::EndAsyncFor => {
                let exc = self.pop();
                if let Value::Instance(i) = &exc {
                    if i.class().is_subclass(&types().exc.stop_async_iteration) {
                        self.stack.pop();
                        return Ok(Flow::Next);
                    }
                    self.reraise = true;
                    tri!(Err(PyErr(i.clone())));
                }
            }
            Op::Raise(kind) => {
                save!();
                match kind {
                    0 => match &self.cur_exc {
                        Value::Instance(i) => {
                            let e = PyErr(i.clone());
                            self.reraise = true;
                            return Err(e);
                        }
                        _ => return Err(runtime_error("No active exception to reraise")),
                    },
                    1 => {
                        let v = self.pop();
                        let e = tri!(from_raise_operand(self, v));
                        return Err(e);
                    }
                    _ => {
                        let cause = self.pop();
                        let v = self.pop();
                        let e = tri!(from_raise_operand(self, v));
                        let cause = match cause {
                            Value::None => Value::None,
                            c @ Value::Instance(_) if matches!(&c, Value::Instance(i) if i.exc().is_some()) => c,
                            c @ Value::Class(_) => tri!(from_raise_operand(self, c)).value(),
                            _ => tri!(Err(type_error("exception causes must derive from BaseException"))),
                        };
                        *e.exc().cause.borrow_mut() = cause;
                        e.exc().suppress_context.set(true);
                        return Err(e);
                    }
                }
            }
            Op::Reraise => {
                let v = self.pop();
                save!();
                if let Value::Instance(i) = v {
                    self.reraise = true;
                    return Err(PyErr(i));
                }
                return Err(runtime_error("internal: reraise of a non-exception"));
            }
            Op::PushExcInfo => {
                let exc = self.pop();
                let prev = std::mem::replace(&mut self.cur_exc, exc.clone());
                self.push(prev);
                self.push(exc);
            }
            Op::PopExcept => {
                let prev = self.pop();
                self.cur_exc = prev;
            }
            Op::CheckExcMatch => {
                let typ = self.pop();
                let exc = self.top().clone();
                save!();
                let m = tri!(self.exception_matches(&exc, &typ));
                self.push(Value::bool(m));
            }
            Op::CheckEgMatch => {
                let typ = self.pop();
                let exc = self.pop();
                save!();
                let (m, rest) = tri!(crate::call::check_eg_match(self, exc, typ));
                self.push(rest);
                self.push(m);
            }
            Op::PrepReraiseStar => {
                let raised = self.pop();
                let orig = self.pop();
                save!();
                let r = tri!(crate::call::prep_reraise_star(self, orig, raised));
                self.push(r);
            }
            Op::LoadAssertionError => self.push(Value::Class(types().exc.assertion_error.clone())),
            Op::BeforeWith => {
                let cm = self.pop();
                save!();
                let (exit, entered) = tri!(crate::call::before_with(self, cm, false));
                self.push(exit);
                self.push(entered);
            }
            Op::BeforeAsyncWith => {
                let cm = self.pop();
                save!();
                let (exit, entered) = tri!(crate::call::before_with(self, cm, true));
                self.push(exit);
                self.push(entered);
            }
            Op::WithExceptStart => {
                let len = self.stack.len();
                let exc = self.stack[len - 1].clone();
                let exit = self.stack[len - 3].clone();
                save!();
                let typ = match &exc {
                    Value::Instance(i) => Value::Class(i.class()),
                    _ => Value::None,
                };
                let tb = match &exc {
                    Value::Instance(i) => exceptions_tb(i),
                    _ => Value::None,
                };
                let r = tri!(self.call(exit, Args::new([typ, exc, tb])));
                self.push(r);
            }
            Op::ImportName(i) => {
                save!();
                let name = code.names[i as usize].clone();
                let m = tri!(self.import_module(name.as_str()));
                self.push(m);
            }
            Op::ImportFrom(i) => {
                let m = self.top().clone();
                save!();
                let name = code.names[i as usize].clone();
                let v = match self.getattr(&m, &name) {
                    Ok(v) => v,
                    Err(e) if e.is(&types().exc.attribute_error) => {
                        let mname = match &m {
                            Value::Module(md) => md.name.as_str().to_string(),
                            _ => "?".into(),
                        };
                        // `from aiohttp import web`: a submodule of a library package.
                        let sub = format!("{mname}.{}", name.as_str());
                        if self.source_modules.contains_key(sub.as_str()) || self.native_modules.contains_key(sub.as_str()) {
                            let v = tri!(self.import_module(&sub));
                            if let Value::Module(md) = &m {
                                md.set(name.as_str(), v.clone());
                            }
                            self.push(v);
                            return Ok(Flow::Next);
                        }
                        let e = import_error(format!("cannot import name '{}' from '{}'", name.as_str(), mname));
                        tri!(Err(e.with_detail(|d| {
                            d.name = Value::str(&mname);
                            d.name_from = Value::Str(name.clone());
                        })))
                    }
                    Err(e) => tri!(Err(e)),
                };
                self.push(v);
            }
            Op::ImportStar => {
                let m = self.pop();
                if let Value::Module(md) = &m {
                    let g = self.frames[fi].globals.clone();
                    for (k, v) in md.entries() {
                        if !k.starts_with('_') {
                            g.set(k.as_str(), v);
                        }
                    }
                }
            }
            Op::PrintExpr => {
                let v = self.pop();
                if !v.is_none() {
                    save!();
                    let s = tri!(self.repr_str(&v));
                    tri!(self.write_out(&s));
                    tri!(self.write_out("\n"));
                    self.set_builtin("_", v);
                }
            }
        }
        Ok(Flow::Next)
    }

    fn unbound_cell_error(&self, code: &Code, i: u32) -> PyErr {
        let name = code.varnames[i as usize].clone();
        err(
            &types().exc.name_error,
            format!("cannot access free variable '{}' where it is not associated with a value in enclosing scope", name.as_str()),
        )
    }

    /// A global that is not bound: the builtin of that name, remembered per
    /// slot so that `len` or `sleep` in a loop costs one array read.
    fn load_builtin(&mut self, fi: usize, slot: u32) -> PyResult<Value> {
        let globals = self.frames[fi].globals.clone();
        if let Some((epoch, v)) = globals.builtin_cache.borrow().get(slot as usize) {
            if *epoch == self.builtins_epoch {
                return Ok(v.clone());
            }
        }
        let name = globals.name_of_slot(slot);
        let v = self.builtin(&name).map_err(|e| self.with_scope(e, fi))?;
        let mut cache = globals.builtin_cache.borrow_mut();
        if cache.len() <= slot as usize {
            cache.resize(slot as usize + 1, (0, Value::Undef));
        }
        cache[slot as usize] = (self.builtins_epoch, v.clone());
        Ok(v)
    }

    /// Rebind a builtin (voiding cached lookups).
    pub fn set_builtin(&mut self, name: &str, v: Value) {
        self.builtins.set_str(name, v);
        self.builtins_epoch = self.builtins_epoch.wrapping_add(1).max(1);
    }

    /// A builtin by name (loading lazy ones), or NameError.
    pub fn builtin(&mut self, name: &PyStr) -> PyResult<Value> {
        if let Some(v) = self.builtins.d.borrow().get_pystr(name) {
            return Ok(v);
        }
        if let Some(hook) = self.lazy_builtin {
            if let Some(v) = hook(self, name.as_str())? {
                return Ok(v);
            }
        }
        Err(name_error(name.as_str()))
    }

    /// The `__prepare__` mapping a class body's stores go through, if its
    /// namespace `d` is not a plain dict.
    fn namespace_mapping(&self, d: &Rc<PyDict>) -> Option<Value> {
        let key = Rc::as_ptr(d) as usize;
        self.class_namespaces.iter().rev().find(|(p, _)| *p == key).map(|(_, m)| m.clone())
    }

    fn load_name(&mut self, fi: usize, name: &Rc<PyStr>) -> PyResult<Value> {
        if let Some(d) = &self.frames[fi].locals {
            if let Some(v) = d.d.borrow().get_pystr(name) {
                return Ok(v);
            }
        }
        if let Some(v) = self.frames[fi].globals.get(name.as_str()) {
            return Ok(v);
        }
        self.builtin(name).map_err(|e| self.with_scope(e, fi))
    }

    /// A NameError (or UnboundLocalError) keeps the names frame `fi` could
    /// see, so that its report can suggest one; nothing is compared here.
    fn with_scope(&self, e: PyErr, fi: usize) -> PyErr {
        if !e.is(&types().exc.name_error) {
            return e;
        }
        let f = &self.frames[fi];
        let mut locals = Vec::new();
        let mut this = Value::None;
        for (i, name) in f.code.varnames.iter().enumerate() {
            let v = match self.stack.get(f.base + i) {
                Some(Value::Cell(c)) => c.v.borrow().clone(),
                Some(v) => v.clone(),
                None => break,
            };
            if v.is_undef() {
                continue;
            }
            if name.as_str() == "self" {
                this = v;
            }
            locals.push(name.clone());
        }
        let scope = Scope { globals: f.globals.clone(), namespace: f.locals.clone(), locals, this };
        e.with_detail(|d| d.scope = Some(scope))
    }

    /// Raise KeyboardInterrupt if Ctrl-C was pressed, run the handlers of
    /// signals that arrived; reset the budget. It may run .aio code: the
    /// dispatch loop saves its registers around it.
    pub fn check_interrupt(&mut self) -> PyResult<()> {
        // What the budget has left tells how many steps ran since the last check.
        match crate::limits::spend(self.budget, BUDGET) {
            Some(next) => self.budget = next,
            None => crate::limits::stop(self),
        }
        // The periodic check is also the collector's safe point: no
        // instruction is half done and no Rust code holds an object's borrow.
        if crate::gc::pending() {
            crate::gc::collect_due();
        }
        if crate::weakref::watching() {
            crate::weakref::poll(self);
        }
        if crate::generator::finalizers_due() {
            crate::generator::run_finalizers(self);
        }
        if let Some(e) = take_interrupt() {
            return Err(e);
        }
        if POKED.load(Ordering::Relaxed) && POKED.swap(false, Ordering::Relaxed) {
            if let Some(hook) = POKE_HOOK.with(|h| h.get()) {
                hook(self);
            }
        }
        if crate::runtime::signals::pending() {
            // Python-level signal handlers run here, between instructions.
            crate::runtime::signals::run_pending(self)?;
        }
        Ok(())
    }

    /// For long native operations (the repr of a big list, a sort, a big
    /// power, building a long string): `KeyboardInterrupt` if Ctrl-C was
    /// pressed, or the stop of a limit reached, so that they are answered
    /// at once. Runs no other code (no signal handler, no collection): the
    /// operation's data may be half made. One load when nothing happened.
    #[inline]
    pub fn poll_interrupt(&mut self) -> PyResult<()> {
        if INTERRUPTED.load(Ordering::Relaxed) {
            return self.interrupt_now();
        }
        Ok(())
    }

    #[cold]
    fn interrupt_now(&mut self) -> PyResult<()> {
        if crate::limits::reached() {
            crate::limits::stop(self);
        }
        take_interrupt().map_or(Ok(()), Err)
    }

    /// Does exception `exc` match the `except` clause type `typ`?
    pub fn exception_matches(&mut self, exc: &Value, typ: &Value) -> PyResult<bool> {
        match typ {
            Value::Class(c) => {
                if !c.is_subclass(&types().exc.base_exception) {
                    return Err(type_error("catching classes that do not inherit from BaseException is not allowed"));
                }
                Ok(matches!(exc, Value::Instance(i) if i.class().is_subclass(c)))
            }
            Value::Tuple(t) => {
                for item in t.items.iter() {
                    if self.exception_matches(exc, item)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Err(type_error("catching classes that do not inherit from BaseException is not allowed")),
        }
    }

    fn unpack_sequence(&mut self, v: Value, n: usize) -> PyResult<()> {
        let items: Vec<Value> = match &v {
            Value::Tuple(t) => t.items.to_vec(),
            Value::List(l) => l.to_vec(),
            _ => {
                if self.iter(&v).is_err() {
                    return Err(type_error(format!("cannot unpack non-iterable {} object", crate::types::type_name(&v))));
                }
                // Take at most n + 1 items, as Python does.
                let it = self.iter(&v)?;
                let mut out = Vec::with_capacity(n);
                while let Some(x) = self.next(&it)? {
                    out.push(x);
                    if out.len() > n {
                        return Err(value_error(format!("too many values to unpack (expected {n})")));
                    }
                }
                out
            }
        };
        if items.len() != n {
            if items.len() > n {
                return Err(value_error(format!("too many values to unpack (expected {n})")));
            }
            return Err(value_error(format!("not enough values to unpack (expected {n}, got {})", items.len())));
        }
        self.stack.extend(items.into_iter().rev());
        Ok(())
    }

    fn unpack_ex(&mut self, v: Value, before: usize, after: usize) -> PyResult<()> {
        if !matches!(v, Value::Tuple(_) | Value::List(_)) && self.iter(&v).is_err() {
            return Err(type_error(format!("cannot unpack non-iterable {} object", crate::types::type_name(&v))));
        }
        let items = self.collect(&v)?;
        if items.len() < before + after {
            return Err(value_error(format!("not enough values to unpack (expected at least {}, got {})", before + after, items.len())));
        }
        let mid_end = items.len() - after;
        let mut out: Vec<Value> = Vec::with_capacity(before + after + 1);
        out.extend(items[..before].iter().cloned());
        out.push(Value::list(items[before..mid_end].to_vec()));
        out.extend(items[mid_end..].iter().cloned());
        self.stack.extend(out.into_iter().rev());
        Ok(())
    }

    fn format_value(&mut self, v: Value, conv: u8, spec: Option<Value>) -> PyResult<Value> {
        let v = match conv {
            1 => Value::string(self.str_of(&v)?),
            2 => Value::string(self.repr_str(&v)?),
            3 => Value::string(crate::types::str::ascii_escape(&self.repr_str(&v)?)),
            _ => v,
        };
        let spec = match spec {
            Some(Value::Str(s)) => s,
            _ => {
                if let Value::Str(_) = v {
                    return Ok(v);
                }
                return Ok(Value::string(self.str_of(&v)?));
            }
        };
        Ok(Value::string(self.format(&v, spec.as_str())?))
    }

    // ------------------------------------------------------------ binary operators

    /// `a op b` for an operator index (with `INPLACE` for augmented assignment).
    pub fn binary(&mut self, op: u8, a: &Value, b: &Value) -> PyResult<Value> {
        crate::ops::binary_op(self, op & !INPLACE, op & INPLACE != 0, a, b)
    }
}

/// The `__init__` a call of `cls` with `argc` arguments can run in a frame of
/// the dispatch loop: a plain function, with `object`'s `__new__` and no
/// metaclass `__call__` in the way (what `Vm::make_instance` does then).
#[inline]
fn plain_init(cls: &Rc<Class>, argc: u32) -> Option<Rc<Function>> {
    if let Some(m) = &*cls.metaclass.borrow() {
        if crate::ops::lookup_special_in(m, "__call__").is_some() {
            return None;
        }
    }
    if !matches!(crate::ops::lookup_special_in(cls, "__new__"), None | Some(Value::Native(_))) {
        return None;
    }
    match crate::ops::lookup_special_in(cls, "__init__") {
        Some(Value::Function(f)) if f.code.simple && missing_defaults(&f, argc + 1).is_some() => Some(f),
        _ => None,
    }
}

/// The defaults of the positional parameters of `f` after its first `argc`,
/// when it has them all.
#[inline]
fn missing_defaults(f: &Function, argc: u32) -> Option<&[Value]> {
    let missing = f.code.argcount.checked_sub(argc)? as usize;
    f.defaults.len().checked_sub(missing).map(|from| &f.defaults[from..])
}

/// A class attribute that reads as itself through its class (no descriptor
/// protocol applies): what `Cls.name` gives without `attr::descriptor_get`.
#[inline]
fn plain_class_attr(v: &Value) -> bool {
    match v {
        Value::Object(_) | Value::Native(_) => false,
        Value::Instance(i) => crate::ops::lookup_special_in(&i.class.borrow(), "__get__").is_none(),
        _ => true,
    }
}

/// `__init__` returned `v`, not None.
#[cold]
fn init_returned(v: &Value) -> PyErr {
    type_error(format!("__init__() should return None, not '{}'", crate::types::type_name(v)))
}

fn exceptions_tb(i: &Rc<Instance>) -> Value {
    crate::exceptions::exc_getattr(i, "__traceback__").unwrap_or(Value::None)
}

/// The compiler balances every code object's stack; popping an empty one is a bug in it.
#[cold]
#[inline(never)]
fn stack_underflow() -> ! {
    panic!("operand stack underflow")
}

/// The truth of a bool, int or None without a call; `None` for the rest.
#[inline(always)]
fn quick_truth(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(b.get()),
        Value::Int(i) => Some(*i != 0),
        Value::None => Some(false),
        _ => None,
    }
}

/// `Binary` on two ints or two floats without overflow: the result, or
/// `None` for the general path. Only immediates give `Some`.
#[inline(always)]
fn binary_fast(op: u8, lhs: &Value, rhs: &Value) -> Option<Value> {
    match (lhs, rhs) {
        (Value::Int(x), Value::Int(y)) => int_binary_fast(op, *x, *y),
        (Value::Float(x), Value::Float(y)) => float_binary_fast(op, x.get(), y.get()),
        // An int operand converts to the nearest float, as `float(int)` does.
        (Value::Float(x), Value::Int(y)) => float_binary_fast(op, x.get(), *y as f64),
        (Value::Int(x), Value::Float(y)) => float_binary_fast(op, *x as f64, y.get()),
        _ => None,
    }
}
/// `+ - * /` of two floats; a zero divisor takes the general path (which raises).
#[inline(always)]
fn float_binary_fast(op: u8, x: f64, y: f64) -> Option<Value> {
    match op {
        0 | 16 => Some(Value::float(x + y)),
        1 | 17 => Some(Value::float(x - y)),
        2 | 18 => Some(Value::float(x * y)),
        4 | 20 if y != 0.0 => Some(Value::float(x / y)),
        _ => None,
    }
}

/// `binary_fast` for two ints.
#[inline(always)]
fn int_binary_fast(op: u8, x: i64, y: i64) -> Option<Value> {
    match op {
        0 | 16 => x.checked_add(y).map(Value::Int),
        1 | 17 => x.checked_sub(y).map(Value::Int),
        2 | 18 => x.checked_mul(y).map(Value::Int),
        // Python's `//` and `%` round toward negative infinity; a zero
        // divisor and `i64::MIN // -1` take the general path.
        5 | 21 if y != 0 => x.checked_div(y).map(|q| {
            let r = x - q * y;
            Value::Int(if r != 0 && (r < 0) != (y < 0) { q - 1 } else { q })
        }),
        6 | 22 if y != 0 => x.checked_rem(y).map(|r| Value::Int(if r != 0 && (r < 0) != (y < 0) { r + y } else { r })),
        10 | 26 => Some(Value::Int(x | y)),
        11 | 27 => Some(Value::Int(x ^ y)),
        12 | 28 => Some(Value::Int(x & y)),
        // Both exact as floats: the quotient of the floats is the correctly
        // rounded one Python gives.
        4 | 20 if y != 0 && x.unsigned_abs() <= 1 << 53 && y.unsigned_abs() <= 1 << 53 => Some(Value::float(x as f64 / y as f64)),
        _ => None,
    }
}
