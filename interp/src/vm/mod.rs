//! The virtual machine: one value stack and one frame stack per thread of
//! execution, and the dispatch loop. Calling an .aio function pushes a frame
//! and continues in the same loop, so .aio recursion never grows the Rust
//! stack; generators and coroutines move their frame onto the stack when
//! resumed and off it when they yield. `run` leaves through `Halt`.
//!
//! One module per concern: `dispatch` (the loop and its fast arms),
//! `general` (every instruction's full semantics), `frame` (frames and the
//! operand stack, the documented `unsafe`), `unwind` (exceptions in
//! flight), `names` (builtins and namespaces), `halt` (Ctrl-C, limits and
//! the periodic check), `output` (stdout and stderr) and `quicken`
//! (instructions that specialise themselves in place).
//!
//! `Vm` holds the execution state as plain fields, among them those the
//! dispatch loop touches on every instruction (`stack`, `frames`, `budget`);
//! what the machine is plugged into (modules, output, the clock, the
//! tracer, the library's hooks, the event loops) is its `host`, a
//! [`Host`](crate::host::Host) with a narrow API. Fields only the crate
//! needs are `pub(crate)`; the library reaches the rest through methods
//! (`handled_exception`, `set_recursion_limit`, `block_worker`, ...).

use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::bytecode::{Code, INPLACE};
use crate::exceptions::*;
use crate::object::*;
use crate::types::types;
use crate::value::Value;

pub(crate) mod dispatch;
mod frame;
mod general;
mod halt;
mod names;
mod output;
mod quicken;
mod unwind;

pub use frame::{Frame, FrameKind};
use halt::BUDGET;
pub use halt::*;

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
    /// Resumed from Rust by a consumer that takes many values (`list(g)`,
    /// `any(g)`, ...): each value yielded goes to `Vm::sink` and the frame
    /// runs on; a value the sink hands back leaves the loop as `Native` does.
    Drain,
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
    /// Not a generator: a call frame running the `__op__` method of the
    /// binary operator (a `BinOp` index), or the comparison's method (a
    /// `CmpOp` index plus `ops::COMPARE_MODE`), or an item method (one of
    /// `ops::GETITEM_MODE`, `SETITEM_MODE`, ...), whose operands are still
    /// on the caller's stack below the callee slot (see `Op::Binary`).
    Binary(u8),
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

pub use crate::host::{Host, LazyBuiltin, ModuleHook, Output, PrintHook, SysStdout};

/// The interpreter: the execution state, and its surroundings in `host`
/// (see `crate::host`).
pub struct Vm {
    /// The operand stack of every frame, locals first (see `frame`).
    pub stack: Vec<Value>,
    /// The frames being run, innermost last.
    pub frames: Vec<Frame>,
    /// The exception being handled (`except` body, `finally` after an error).
    pub(crate) cur_exc: Value,
    /// The names of the keyword arguments of the call being made (`KwNames`).
    pub(crate) kwnames: Option<Rc<PyTuple>>,
    /// The argument count of a keyword call that `keywords_in_place` made positional.
    pub(crate) kw_bound: u32,
    /// Builtin names.
    pub builtins: Rc<PyDict>,
    /// How deep .aio calls may nest (`sys.setrecursionlimit`).
    pub(crate) recursion_limit: usize,
    /// Nested dispatch loops (native code calling .aio code).
    pub(crate) native_depth: usize,
    /// Levels of native recursion through containers (a `repr`, a
    /// comparison): they count against the recursion limit as CPython's C
    /// recursion does (see `Vm::enter_nested`).
    pub(crate) nesting: usize,
    /// Instructions left before the loop checks for Ctrl-C or preemption.
    pub(crate) budget: u32,
    reraise: bool,
    /// The containers a `repr` is showing (by address), to show a cycle as `[...]`.
    pub(crate) repr_guard: Vec<usize>,
    /// Running a worker thread in real time: a run returns `Halt::Blocked` when its budget runs out.
    pub(crate) preempt: bool,
    /// Set by `time.sleep` in a worker: park the worker for this many seconds.
    pub(crate) block_request: Option<f64>,
    /// The native depth at which the running worker's frames live.
    pub(crate) worker_depth: Option<usize>,
    /// Finished generators nobody else holds, for reuse (see `generator::recycle`).
    pub(crate) gen_pool: Vec<Rc<Generator>>,
    /// Bumped whenever a builtin is rebound, which voids the modules'
    /// builtin caches (see `load_builtin`).
    pub(crate) builtins_epoch: u32,
    /// The current `contextvars` context: a `Context` object, or None while
    /// no variable was ever set (the empty context). A task keeps its own.
    pub context: Value,
    /// Class bodies running in a namespace made by a metaclass's
    /// `__prepare__` that is not a plain dict: the dict the body fills
    /// (by address) and the mapping whose `__setitem__` stores go through.
    pub(crate) class_namespaces: Vec<(usize, Value)>,
    /// Where the generator frame resumed in `ResumeMode::Drain` puts what
    /// it yields (see `generator::drain`).
    pub(crate) sink: crate::generator::Sink,
    /// Modules, output, the clock, observers and the library's hooks,
    /// boxed: none of it is on the dispatch loop's path, and the loop's
    /// code is sensitive to where its own fields sit in `Vm` (with the
    /// host inline and first, fib ran 3.8% more instructions).
    pub host: Box<Host>,
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
            kw_bound: 0,
            builtins: Rc::new(PyDict::new()),
            recursion_limit: 1000,
            native_depth: 0,
            nesting: 0,
            budget: BUDGET,
            reraise: false,
            repr_guard: Vec::new(),
            preempt: false,
            block_request: None,
            worker_depth: None,
            gen_pool: Vec::new(),
            builtins_epoch: 1,
            context: Value::None,
            class_namespaces: Vec::new(),
            sink: crate::generator::Sink::Closed,
            host: Box::new(Host::new()),
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

    /// The exception being handled (`sys.exception()`), or None.
    pub fn handled_exception(&self) -> &Value {
        &self.cur_exc
    }

    /// How deep .aio calls may nest (`sys.getrecursionlimit()`).
    pub fn recursion_limit(&self) -> usize {
        self.recursion_limit
    }

    pub fn set_recursion_limit(&mut self, n: usize) {
        self.recursion_limit = n;
    }

    /// A blocking call (`time.sleep`, a wait for a socket) made by a worker
    /// thread's own code: ask for the worker to be parked `secs` seconds
    /// while the loop runs on, and say so. False elsewhere: the caller blocks.
    pub fn block_worker(&mut self, secs: f64) -> bool {
        if self.worker_depth.is_some() && self.worker_depth == Some(self.native_depth) {
            self.block_request = Some(secs);
            return true;
        }
        false
    }

    /// `a op b` for an operator index (with `INPLACE` for augmented assignment).
    pub fn binary(&mut self, op: u8, a: &Value, b: &Value) -> PyResult<Value> {
        crate::ops::binary_op(self, op & !INPLACE, op & INPLACE != 0, a, b)
    }
}
