//! What the VM needs from outside the program it runs, kept apart from the
//! execution state.
//!
//! A [`Vm`] is two things. Its own fields are the machine executing
//! bytecode: the value and frame stacks, the exception being handled, the
//! recursion counters and the instruction budget, which the dispatch loop
//! touches on every instruction and which stay plain fields for that reason.
//! Its `host` field, a [`Host`], is everything the machine is plugged into:
//!
//! - modules: those loaded (`sys.modules` kept in step), the library's
//!   native and source modules by name, the folder sibling modules are
//!   imported from;
//! - output: buffered standard output, the REPL's printer, the copy kept
//!   for `--replay`, and where `sys.stdout` is bound;
//! - the clock: real, or virtual under `--virtual-time`;
//! - observers: the tracer behind `--trace`, `--timeline` and `--debug`;
//! - the library's hooks: a module's setup after import, builtins made on
//!   first use, debug mode switched on;
//! - the program's surroundings: `sys.argv`, the running event loop and
//!   the one set as current.
//!
//! The embedding (the library crate, the binary) fills a `Host` through its
//! methods, named for what callers do; its fields are private so that what
//! the VM depends on is this API and nothing else. None of it is on the
//! dispatch loop's path, which is why `Vm` keeps it boxed, after its own
//! fields: where those sit changes the loop's code.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::event_loop::{real_now, Tracer};
use crate::object::*;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

/// Builds a native module (installed by the library).
pub type NativeModule = fn(&mut Vm) -> PyResult<Value>;
/// Produces a builtin on first use: `Ok(None)` when the name is not one.
pub type LazyBuiltin = fn(&mut Vm, &str) -> PyResult<Option<Value>>;
/// Runs after a library module is imported.
pub type ModuleHook = fn(&mut Vm, &str) -> PyResult<()>;
/// Runs when a loop is put in debug mode.
pub type DebugHook = fn(&mut Vm);
/// A hook the embedding (stdlib) installs to print a writer of its own:
/// the REPL routes output above the prompt.
pub type PrintHook = Box<dyn FnMut(&str)>;

/// The VM's surroundings (see the module header).
pub struct Host {
    /// Loaded modules by name.
    modules: HashMap<String, Value>,
    /// `sys.modules`, once `sys` is loaded: kept in step with `modules`.
    sys_modules: Option<Rc<PyDict>>,
    /// Native module constructors by name (installed by the library).
    native_modules: HashMap<&'static str, NativeModule>,
    /// Modules written in .aio and embedded in the binary.
    source_modules: HashMap<&'static str, &'static str>,
    /// The folder sibling `.aio` modules are imported from.
    search_dir: Option<PathBuf>,
    /// Called after a library module is imported (the library finishes its setup).
    module_hook: Option<ModuleHook>,
    /// Builtins made on first use (the asyncio prelude).
    lazy_builtin: Option<LazyBuiltin>,
    /// The names `lazy_builtin` can make, for suggestions.
    lazy_builtin_names: &'static [&'static str],
    out: Output,
    print_hook: Option<PrintHook>,
    /// Where `sys.stdout` is bound, so that implicit writes (`print()`, the
    /// REPL's echo) follow a program that rebinds it, as in Python.
    sys_stdout: Option<SysStdout>,
    /// Under `--virtual-time`.
    virtual_time: bool,
    /// The virtual clock, shared by every loop.
    vclock: f64,
    /// Observer of scheduling events.
    tracer: Option<Box<dyn Tracer>>,
    /// Called when a loop is put in debug mode (`set_debug(True)`,
    /// `asyncio.run(debug=True)`): the library starts reporting slow steps.
    debug_hook: Option<DebugHook>,
    /// `sys.argv`, as the program was given it.
    argv: Option<Value>,
    /// The event loop, when one is running (a native object).
    running_loop: Option<Value>,
    /// The loop `set_event_loop` made current (`get_event_loop` outside a running one).
    current_loop: Option<Value>,
}

impl Default for Host {
    fn default() -> Self {
        Host::new()
    }
}

impl Host {
    /// Nothing registered, real time, output to the process's stdout.
    pub fn new() -> Host {
        Host {
            modules: HashMap::new(),
            sys_modules: None,
            native_modules: HashMap::new(),
            source_modules: HashMap::new(),
            search_dir: None,
            module_hook: None,
            lazy_builtin: None,
            lazy_builtin_names: &[],
            out: Output::default(),
            print_hook: None,
            sys_stdout: None,
            virtual_time: false,
            vclock: 0.0,
            tracer: None,
            debug_hook: None,
            argv: None,
            running_loop: None,
            current_loop: None,
        }
    }

    // ------------------------------------------------------------ modules

    /// The loaded module `name`.
    pub fn module(&self, name: &str) -> Option<&Value> {
        self.modules.get(name)
    }

    /// Every loaded module, by name.
    pub fn modules(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.modules.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Record a loaded module, in `sys.modules` too when `sys` is loaded.
    pub fn add_module(&mut self, name: &str, m: Value) {
        if let Some(d) = &self.sys_modules {
            d.set_str(name, m.clone());
        }
        self.modules.insert(name.to_string(), m);
    }

    /// Record a loaded module without touching `sys.modules` (it came
    /// from there, or it is one of the library's own).
    pub fn cache_module(&mut self, name: &str, m: Value) {
        self.modules.insert(name.to_string(), m);
    }

    /// Forget module `name` (its body failed), in `sys.modules` too.
    pub fn remove_module(&mut self, name: &str) {
        self.modules.remove(name);
        if let Some(d) = &self.sys_modules {
            d.remove_str(name);
        }
    }

    /// `sys.modules`, once `sys` is loaded.
    pub fn sys_modules(&self) -> Option<&Rc<PyDict>> {
        self.sys_modules.as_ref()
    }

    /// Bind `sys.modules` (the `sys` module is being built).
    pub fn set_sys_modules(&mut self, d: Rc<PyDict>) {
        self.sys_modules = Some(d);
    }

    /// Make `import name` build the module with `ctor`.
    pub fn register_native_module(&mut self, name: &'static str, ctor: NativeModule) {
        self.native_modules.insert(name, ctor);
    }

    /// Make `import name` run the embedded .aio source `text`.
    pub fn register_source_module(&mut self, name: &'static str, text: &'static str) {
        self.source_modules.insert(name, text);
    }

    /// The constructor of the native module `name`.
    pub fn native_module(&self, name: &str) -> Option<NativeModule> {
        self.native_modules.get(name).copied()
    }

    /// The embedded source of the library module `name`.
    pub fn source_module(&self, name: &str) -> Option<&'static str> {
        self.source_modules.get(name).copied()
    }

    /// Is `name` a module of the library (native or source)?
    pub fn is_library_module(&self, name: &str) -> bool {
        self.source_modules.contains_key(name) || self.native_modules.contains_key(name)
    }

    /// The names of the library's modules, native and source.
    pub fn library_module_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.native_modules.keys().chain(self.source_modules.keys()).copied()
    }

    /// The folder sibling modules are imported from.
    pub fn search_dir(&self) -> Option<&Path> {
        self.search_dir.as_deref()
    }

    /// Import sibling modules from `dir` (the script's folder), or from nowhere.
    pub fn set_search_dir(&mut self, dir: Option<PathBuf>) {
        self.search_dir = dir;
    }

    /// What runs after a library module is imported.
    pub fn module_hook(&self) -> Option<ModuleHook> {
        self.module_hook
    }

    /// Run `hook` after each library module is imported.
    pub fn set_module_hook(&mut self, hook: ModuleHook) {
        self.module_hook = Some(hook);
    }

    /// Builtins made on first use by `make`, which can make `names`.
    pub fn set_lazy_builtins(&mut self, make: LazyBuiltin, names: &'static [&'static str]) {
        self.lazy_builtin = Some(make);
        self.lazy_builtin_names = names;
    }

    /// What makes a builtin on first use.
    pub fn lazy_builtin(&self) -> Option<LazyBuiltin> {
        self.lazy_builtin
    }

    /// The builtins made on first use, for suggestions.
    pub fn lazy_builtin_names(&self) -> &'static [&'static str] {
        self.lazy_builtin_names
    }

    // ------------------------------------------------------------ output

    /// Print `s` to standard output: through the REPL's printer when one is
    /// set, copied for an observer when one keeps a copy.
    #[inline]
    pub fn print(&mut self, s: &str) {
        if let Some(t) = &mut self.out.tee {
            t.push_str(s);
        }
        if let Some(h) = &mut self.print_hook {
            h(s);
        } else {
            self.out.write(s);
        }
    }

    /// Write out what standard output holds.
    pub fn flush(&mut self) {
        self.out.flush();
    }

    /// Flush standard output at every newline (the REPL, a terminal).
    pub fn set_line_buffered(&mut self, on: bool) {
        self.out.line_buffered = on;
    }

    /// Route printing through `hook` (the REPL prints above its prompt), or back to stdout.
    pub fn set_print_hook(&mut self, hook: Option<PrintHook>) {
        self.print_hook = hook;
    }

    /// Keep what is printed in memory instead of writing it out (fuzzing).
    pub fn capture_output(&mut self) {
        self.out.capture = Some(Vec::new());
    }

    /// Keep a copy of what is printed from now on; false when a copy was
    /// already being kept (its owner stops it).
    pub fn start_tee(&mut self) -> bool {
        if self.out.tee.is_some() {
            return false;
        }
        self.out.tee = Some(String::new());
        true
    }

    /// The copy of what was printed since `start_tee`.
    pub fn tee(&self) -> Option<&str> {
        self.out.tee.as_deref()
    }

    /// Stop keeping a copy of what is printed.
    pub fn stop_tee(&mut self) {
        self.out.tee = None;
    }

    /// Where `sys.stdout` is bound.
    pub fn sys_stdout(&self) -> Option<&SysStdout> {
        self.sys_stdout.as_ref()
    }

    /// Follow `sys.stdout` (the `sys` module is being built).
    pub fn bind_sys_stdout(&mut self, s: SysStdout) {
        self.sys_stdout = Some(s);
    }

    // ------------------------------------------------------------ clock

    /// The loop clock: virtual seconds, or a monotonic real clock.
    #[inline]
    pub fn now(&self) -> f64 {
        if self.virtual_time {
            self.vclock
        } else {
            real_now()
        }
    }

    /// Does time run on the virtual clock (`--virtual-time`)?
    #[inline]
    pub fn virtual_time(&self) -> bool {
        self.virtual_time
    }

    /// Run on the virtual clock (`--virtual-time`) or on the real one.
    pub fn set_virtual_time(&mut self, on: bool) {
        self.virtual_time = on;
    }

    /// Move the virtual clock on by `secs`.
    pub fn advance_clock(&mut self, secs: f64) {
        self.vclock += secs;
    }

    /// Move the virtual clock on to `when`, if it is not there yet.
    pub fn advance_clock_to(&mut self, when: f64) {
        if when > self.vclock {
            self.vclock = when;
        }
    }

    // ------------------------------------------------------------ observers and hooks

    /// Is an observer following scheduling events?
    #[inline]
    pub fn tracing(&self) -> bool {
        self.tracer.is_some()
    }

    /// Put `tracer` in the observer's place (None: nobody observes).
    pub fn set_tracer(&mut self, tracer: Option<Box<dyn Tracer>>) {
        self.tracer = tracer;
    }

    /// Take the observer out of its place (to call it, or to stand in front of it).
    pub fn take_tracer(&mut self) -> Option<Box<dyn Tracer>> {
        self.tracer.take()
    }

    /// What runs when a loop is put in debug mode.
    pub fn debug_hook(&self) -> Option<DebugHook> {
        self.debug_hook
    }

    /// Run `hook` when a loop is put in debug mode.
    pub fn set_debug_hook(&mut self, hook: DebugHook) {
        self.debug_hook = Some(hook);
    }

    // ------------------------------------------------------------ the program's surroundings

    /// `sys.argv`.
    pub fn argv(&self) -> Option<&Value> {
        self.argv.as_ref()
    }

    /// Give the program its `sys.argv` (a list).
    pub fn set_argv(&mut self, argv: Value) {
        self.argv = Some(argv);
    }

    /// The event loop running now.
    #[inline]
    pub fn running_loop(&self) -> Option<&Value> {
        self.running_loop.as_ref()
    }

    /// A loop starts running (`Some`) or stops (`None`).
    pub fn set_running_loop(&mut self, l: Option<Value>) {
        self.running_loop = l;
    }

    /// The loop set as current (`set_event_loop`, `get_event_loop`).
    pub fn current_loop(&self) -> Option<&Value> {
        self.current_loop.as_ref()
    }

    /// Make `l` the current loop (`set_event_loop`), or none.
    pub fn set_current_loop(&mut self, l: Option<Value>) {
        self.current_loop = l;
    }
}

/// Buffered standard output that is flushed before anything goes to stderr.
pub struct Output {
    buf: Vec<u8>,
    /// Captured output (fuzzing) instead of the real stdout.
    capture: Option<Vec<u8>>,
    /// Flush at every newline (the REPL, a terminal).
    line_buffered: bool,
    /// A copy of everything the program printed, kept for an observer
    /// (`--replay` shows the output printed so far at each event).
    tee: Option<String>,
}

impl Default for Output {
    /// Block-buffered standard output.
    fn default() -> Output {
        Output { buf: Vec::with_capacity(1 << 16), capture: None, line_buffered: false, tee: None }
    }
}

impl Output {
    /// Buffer `s`, writing out when the buffer is full or, line-buffered, at a newline.
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
    /// Write out what the buffer holds.
    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&self.buf);
            let _ = out.flush();
            self.buf.clear();
        }
    }
}

/// The global slot of `sys.stdout` and the stream it started as.
pub struct SysStdout {
    pub module: Rc<Module>,
    pub slot: u32,
    pub original: Value,
}
