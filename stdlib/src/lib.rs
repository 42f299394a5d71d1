//! The aio standard library: builtin functions and the modules `sys`,
//! `math`, `random`, `time`, `functools`, `itertools`, `collections`,
//! `contextlib`, `gc` and `asyncio`.

pub mod array;
pub mod asyncio;
pub mod binascii;
pub mod bisect;
pub mod builtins;
pub mod bytesio;
pub mod cmath;
pub mod collections;
pub mod contextvars;
pub mod copy;
pub mod dataclasses;
pub mod datetime;
mod datetime_format;
pub mod decimal_core;
pub mod decimal_digits;
pub mod exec;
pub mod file;
pub mod functools;
pub mod gc;
pub mod hashlib;
pub mod heapq;
pub mod help;
pub mod http;
pub mod itertools;
pub mod json;
pub mod math;
pub mod mt;
pub mod native;
pub mod os;
pub mod params;
pub mod random;
pub mod re;
pub mod repl;
pub mod replay;
pub mod sandbox;
pub mod signal;
pub mod socket;
pub mod source;
pub mod ssl;
pub mod stringio;
pub mod structmod;
pub mod sys;
pub mod time;
pub mod timeit;
pub mod timeline;
pub mod trace;
pub mod traceback;
pub mod tracemalloc;
pub mod weakref;

use std::rc::Rc;

use aio_interp::bytecode::Code;
use aio_interp::object::{Args, Module, PyErr, PyResult};
use aio_interp::{Value, Vm};

/// asyncio's names that are builtins in .aio (the prelude).
pub const PRELUDE: &[&str] = &[
    "sleep",
    "create_task",
    "gather",
    "wait",
    "wait_for",
    "shield",
    "as_completed",
    "timeout",
    "TaskGroup",
    "Queue",
    "LifoQueue",
    "PriorityQueue",
    "QueueEmpty",
    "QueueFull",
    "Event",
    "Lock",
    "Semaphore",
    "BoundedSemaphore",
    "Condition",
    "CancelledError",
    "InvalidStateError",
    "current_task",
    "all_tasks",
    "to_thread",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "ALL_COMPLETED",
];

/// asyncio's submodules: each holds the same objects as `asyncio`, as
/// CPython's do (`asyncio.tasks.Task is asyncio.Task`).
const ASYNCIO_SUBMODULES: &[(&str, &str)] = &[
    (
        "asyncio.exceptions",
        "from asyncio import (BrokenBarrierError, CancelledError, InvalidStateError, TimeoutError, IncompleteReadError,\n    LimitOverrunError, SendfileNotAvailableError)\n",
    ),
    (
        "asyncio.tasks",
        "from asyncio import (Task, create_task, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, wait, wait_for,\n    as_completed, sleep, gather, shield, ensure_future, run_coroutine_threadsafe, current_task, all_tasks,\n    create_eager_task_factory, eager_task_factory)\n",
    ),
    (
        "asyncio.events",
        "from asyncio import (AbstractEventLoopPolicy, AbstractEventLoop, AbstractServer, Handle, TimerHandle,\n    get_event_loop_policy, set_event_loop_policy, get_event_loop, set_event_loop, new_event_loop,\n    get_child_watcher, set_child_watcher, get_running_loop, _get_running_loop, BaseDefaultEventLoopPolicy)\n",
    ),
    ("asyncio.queues", "from asyncio import Queue, PriorityQueue, LifoQueue, QueueFull, QueueEmpty, QueueShutDown\n"),
    ("asyncio.locks", "from asyncio import Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier\n"),
    ("asyncio.futures", "from asyncio import Future, wrap_future, isfuture\n"),
    ("asyncio.runners", "from asyncio import Runner, run\n"),
    (
        "asyncio.streams",
        "from asyncio import (StreamReader, StreamWriter, StreamReaderProtocol, open_connection, start_server,\n    open_unix_connection, start_unix_server)\n",
    ),
    ("asyncio.base_events", "from asyncio import BaseEventLoop, Server\n"),
    ("asyncio.coroutines", "from asyncio import iscoroutinefunction, iscoroutine\n"),
    ("asyncio.timeouts", "from asyncio import Timeout, timeout, timeout_at\n"),
    ("asyncio.taskgroups", "from asyncio import TaskGroup\n"),
    ("asyncio.protocols", "from asyncio import BaseProtocol, Protocol, SubprocessProtocol\n"),
    ("asyncio.threads", "from asyncio import to_thread\n"),
    (
        "asyncio.subprocess",
        "from asyncio._net import (PIPE, STDOUT, DEVNULL, Process, SubprocessStreamProtocol, create_subprocess_exec,\n    create_subprocess_shell)\n",
    ),
    ("asyncio.unix_events", "from asyncio import SelectorEventLoop, DefaultEventLoopPolicy\n"),
    (
        "asyncio.graph",
        "from asyncio import (capture_call_graph, format_call_graph, print_call_graph, FrameCallGraphEntry,\n    FutureCallGraph)\n",
    ),
];

/// The builtins defined in `lib/_sitebuiltins.aio`, loaded when first named.
pub const SITE_BUILTINS: &[&str] = &["exit", "quit", "help"];

/// The `builtins` module: the builtin names as a module's attributes.
/// Setting one (`builtins.print = ...`) changes the builtin itself.
fn builtins_module(vm: &mut Vm) -> PyResult<Value> {
    for name in SITE_BUILTINS {
        if vm.builtins.get_str(name).is_none() {
            prelude_builtin(vm, name)?;
        }
    }
    let items = vm.builtins.items();
    let m = aio_interp::import::new_module("builtins", None);
    for (k, v) in items {
        if let Value::Str(k) = k {
            if !k.as_str().starts_with("__aio") {
                m.set(k.as_str(), v);
            }
        }
    }
    Ok(Value::Module(m))
}

/// Install the builtins and register the standard modules.
pub fn install(vm: &mut Vm) {
    builtins::install(vm);
    vm.host.register_native_module("sys", sys::module);
    vm.host.register_native_module("time", time::module);
    vm.host.register_native_module("gc", gc::module);
    vm.host.register_native_module("builtins", builtins_module);
    vm.host.register_native_module("_asyncio", asyncio::module);
    vm.host.register_source_module("asyncio", include_str!("lib/asyncio.aio"));
    vm.host.register_source_module("asyncio._lazy", include_str!("lib/asyncio_lazy.aio"));
    vm.host.register_source_module("asyncio._net", include_str!("lib/asyncio_net.aio"));
    for (name, text) in ASYNCIO_SUBMODULES {
        vm.host.register_source_module(name, text);
    }
    vm.host.register_native_module("math", math::module);
    vm.host.register_native_module("cmath", cmath::module);
    vm.host.register_native_module("socket", socket::module);
    vm.host.register_native_module("_signal", signal::module);
    vm.host.register_source_module("signal", include_str!("lib/signal.aio"));
    vm.host.register_native_module("random", random::module);
    vm.host.register_native_module("_collections", collections::module);
    vm.host.register_native_module("_itertools", itertools::module);
    vm.host.register_native_module("_functools", functools::module);
    vm.host.register_source_module("collections", include_str!("lib/collections.aio"));
    vm.host.register_source_module("itertools", include_str!("lib/itertools.aio"));
    vm.host.register_source_module("functools", include_str!("lib/functools.aio"));
    vm.host.register_source_module("contextlib", include_str!("lib/contextlib.aio"));
    vm.host.register_source_module("operator", include_str!("lib/operator.aio"));
    vm.host.register_source_module("string", include_str!("lib/string.aio"));
    vm.host.register_native_module("_copy", copy::module);
    vm.host.register_source_module("copy", include_str!("lib/copy.aio"));
    vm.host.register_source_module("__future__", include_str!("lib/__future__.aio"));
    vm.host.register_source_module("types", include_str!("lib/types.aio"));
    vm.host.register_native_module("_source", source::module_new);
    vm.host.register_source_module("typing", include_str!("lib/typing.aio"));
    vm.host.register_source_module("enum", include_str!("lib/enum.aio"));
    vm.host.register_native_module("_dataclasses", dataclasses::module);
    vm.host.register_source_module("dataclasses", include_str!("lib/dataclasses.aio"));
    vm.host.register_native_module("_weakref", weakref::module);
    vm.host.register_source_module("weakref", include_str!("lib/weakref.aio"));
    vm.host.register_source_module("inspect", include_str!("lib/inspect.aio"));
    vm.host.register_source_module("abc", include_str!("lib/abc.aio"));
    vm.host.register_source_module("collections.abc", include_str!("lib/collections_abc.aio"));
    vm.host.register_native_module("_pydoc", help::module);
    vm.host.register_source_module("_sitebuiltins", include_str!("lib/_sitebuiltins.aio"));
    vm.host.register_source_module("_structseq", include_str!("lib/_structseq.aio"));
    vm.host.register_native_module("contextvars", contextvars::module);
    vm.host.register_native_module("_os", os::module);
    vm.host.register_native_module("_io", file::module);
    vm.host.register_native_module("_traceback", traceback::module);
    vm.host.register_source_module("traceback", include_str!("lib/traceback.aio"));
    vm.host.register_source_module("doctest", include_str!("lib/doctest.aio"));
    vm.host.register_source_module("logging", include_str!("lib/logging.aio"));
    vm.host.register_source_module("warnings", include_str!("lib/warnings.aio"));
    vm.host.register_source_module("unittest", include_str!("lib/unittest.aio"));
    vm.host.register_source_module("unittest.mock", include_str!("lib/unittest_mock.aio"));
    vm.host.register_source_module("multiprocessing", include_str!("lib/multiprocessing.aio"));
    vm.host.register_source_module("argparse", include_str!("lib/argparse.aio"));
    vm.host.register_source_module("pathlib", include_str!("lib/pathlib.aio"));
    vm.host.register_source_module("fnmatch", include_str!("lib/fnmatch.aio"));
    vm.host.register_source_module("glob", include_str!("lib/glob.aio"));
    vm.host.register_source_module("shutil", include_str!("lib/shutil.aio"));
    vm.host.register_source_module("tempfile", include_str!("lib/tempfile.aio"));
    vm.host.register_source_module("queue", include_str!("lib/queue.aio"));
    vm.host.register_source_module("difflib", include_str!("lib/difflib.aio"));
    vm.host.register_source_module("threading", include_str!("lib/threading.aio"));
    vm.host.register_source_module("concurrent", "# concurrent: the package of concurrent.futures.\n");
    vm.host.register_source_module("concurrent.futures", include_str!("lib/concurrent_futures.aio"));
    vm.host.register_source_module(
        "concurrent.futures.thread",
        "# concurrent.futures.thread: where ThreadPoolExecutor is defined.\nfrom concurrent.futures import ThreadPoolExecutor\n",
    );
    vm.host.register_source_module("io", include_str!("lib/io.aio"));
    vm.host.register_source_module("os", include_str!("lib/os.aio"));
    vm.host.register_source_module("posixpath", include_str!("lib/posixpath.aio"));
    vm.host.register_source_module("urllib", include_str!("lib/urllib.aio"));
    vm.host.register_source_module("urllib.parse", include_str!("lib/urllib_parse.aio"));
    vm.host.register_source_module("multidict", include_str!("lib/multidict.aio"));
    vm.host.register_source_module("yarl", include_str!("lib/yarl.aio"));
    vm.host.register_native_module("_http", http::module);
    vm.host.register_native_module("_ssl", ssl::module);
    vm.host.register_source_module("ssl", include_str!("lib/ssl.aio"));
    vm.host.register_source_module("aiohttp", include_str!("lib/aiohttp/client.aio"));
    vm.host.register_source_module("aiohttp.web", include_str!("lib/aiohttp/web.aio"));
    vm.host.register_source_module("aiohttp.web_request", include_str!("lib/aiohttp/web_request.aio"));
    vm.host.register_source_module("aiohttp.web_response", include_str!("lib/aiohttp/web_response.aio"));
    vm.host.register_source_module("aiohttp.web_app", include_str!("lib/aiohttp/web_app.aio"));
    vm.host.register_source_module("aiohttp.web_exceptions", include_str!("lib/aiohttp/web_exceptions.aio"));
    vm.host.register_source_module("aiohttp.client_exceptions", include_str!("lib/aiohttp/client_exceptions.aio"));
    vm.host.register_native_module("_re", re::module);
    vm.host.register_native_module("_json", json::module);
    vm.host.register_native_module("_hashlib", hashlib::module);
    vm.host.register_native_module("_tracemalloc", tracemalloc::module);
    vm.host.register_source_module("tracemalloc", include_str!("lib/tracemalloc.aio"));
    vm.host.register_native_module("_struct", structmod::module);
    vm.host.register_source_module("hashlib", include_str!("lib/hashlib.aio"));
    vm.host.register_source_module("struct", include_str!("lib/struct.aio"));
    vm.host.register_native_module("_binascii", binascii::module);
    vm.host.register_source_module("binascii", include_str!("lib/binascii.aio"));
    vm.host.register_source_module("base64", include_str!("lib/base64.aio"));
    vm.host.register_native_module("_timeit", timeit::module);
    vm.host.register_source_module("timeit", include_str!("lib/timeit.aio"));
    vm.host.register_source_module("pprint", include_str!("lib/pprint.aio"));
    vm.host.register_source_module("statistics", include_str!("lib/statistics.aio"));
    vm.host.register_source_module("textwrap", include_str!("lib/textwrap.aio"));
    vm.host.register_native_module("_datetime", datetime::module);
    vm.host.register_source_module("datetime", include_str!("lib/datetime.aio"));
    vm.host.register_source_module("_strptime", include_str!("lib/_strptime.aio"));
    vm.host.register_source_module("calendar", include_str!("lib/calendar.aio"));
    vm.host.register_source_module("csv", include_str!("lib/csv.aio"));
    vm.host.register_source_module("shlex", include_str!("lib/shlex.aio"));
    vm.host.register_source_module("fileinput", include_str!("lib/fileinput.aio"));
    vm.host.register_source_module("uuid", include_str!("lib/uuid.aio"));
    vm.host.register_source_module("decimal", include_str!("lib/decimal.aio"));
    vm.host.register_source_module("json", include_str!("lib/json.aio"));
    vm.host.register_source_module("re", include_str!("lib/re.aio"));
    vm.host.register_native_module("_heapq", heapq::module);
    vm.host.register_source_module("heapq", include_str!("lib/heapq.aio"));
    vm.host.register_native_module("_bisect", bisect::module);
    vm.host.register_native_module("_decimal_digits", decimal_digits::module);
    vm.host.register_native_module("_decimal_core", decimal_core::module);
    vm.host.register_source_module("bisect", include_str!("lib/bisect.aio"));
    vm.host.register_source_module("fractions", include_str!("lib/fractions.aio"));
    vm.host.register_native_module("array", array::module);
    vm.host.set_lazy_builtins(prelude_builtin, PRELUDE);
}

/// A builtin not yet loaded: the prelude names come from `asyncio`, and
/// `exit`, `quit` and `help` from `_sitebuiltins`.
fn prelude_builtin(vm: &mut Vm, name: &str) -> PyResult<Option<Value>> {
    let (module, names) = if PRELUDE.contains(&name) {
        ("asyncio", PRELUDE)
    } else if SITE_BUILTINS.contains(&name) {
        ("_sitebuiltins", SITE_BUILTINS)
    } else {
        return Ok(None);
    };
    let m = vm.import_module(module)?;
    for n in names {
        if let Some(v) = vm.getattr_opt(&m, n)? {
            vm.builtins.set_str(n, v);
        }
    }
    Ok(vm.builtins.get_str(name))
}

/// Make sure `asyncio` is loaded and its internal hooks are reachable.
pub(crate) fn load_asyncio(vm: &mut Vm) -> PyResult<Value> {
    let m = vm.import_module("asyncio")?;
    for hook in ["__aio_shutdown_asyncgens", "__aio_wrap_awaitable", "__aio_finalize_asyncgen"] {
        if vm.builtins.get_str(hook).is_none() {
            if let Some(v) = vm.getattr_opt(&m, hook)? {
                vm.builtins.set_str(hook, v);
            }
        }
    }
    Ok(m)
}

/// Apply the command-line switches that concern the library: `--trace`,
/// `--debug`, `--timeline OUT` and `--replay OUT` each add an observer of
/// the event loop.
pub fn configure(vm: &mut Vm, trace: Option<Vec<String>>, debug: bool, timeline: Option<String>, replay: Option<String>) {
    let mut observers: Vec<Box<dyn aio_interp::trace::Tracer>> = Vec::new();
    if let Some(only) = trace {
        observers.push(Box::new(trace::Printer::new(vm.host.virtual_time(), only)));
    }
    if debug {
        observers.push(Box::new(trace::SlowSteps::default()));
    }
    if let Some(path) = timeline {
        observers.push(Box::new(timeline::Recorder::new(path, vm.host.virtual_time())));
    }
    if let Some(path) = replay {
        observers.push(Box::new(replay::Recorder::new(vm, path)));
    }
    vm.host.set_tracer(match observers.len() {
        0 => None,
        1 => observers.pop(),
        _ => Some(Box::new(trace::Tracers(observers))),
    });
    vm.host.set_debug_hook(|vm| {
        if !trace::SlowSteps::installed() {
            let slow: Box<dyn aio_interp::trace::Tracer> = Box::new(trace::SlowSteps::default());
            let tracer = match vm.host.take_tracer() {
                None => slow,
                Some(t) => Box::new(trace::Tracers(vec![t, slow])),
            };
            vm.host.set_tracer(Some(tracer));
        }
    });
    vm.host.set_module_hook(|vm, name| {
        if name == "asyncio" {
            load_asyncio(vm)?;
        }
        Ok(())
    });
}

/// Run a main module: plainly, or as the main task when it has top-level `await`.
pub fn run_main(vm: &mut Vm, code: Rc<Code>, module: Rc<Module>) -> Result<(), PyErr> {
    if code.flags.toplevel_await {
        let asyncio = load_asyncio(vm)?;
        let run = vm.getattr(&asyncio, &aio_interp::intern::intern("run"))?;
        let coro = aio_interp::generator::module_coroutine(code, module);
        vm.call(run, Args::new([coro]))?;
        return Ok(());
    }
    vm.run_code(code, module).map(|_| ())
}

/// Work left when the program ends (weakref finalizers, flushing, the
/// timeline file).
pub fn finish(vm: &mut Vm) {
    if let Some(m) = vm.host.module("weakref").cloned() {
        if let Ok(Some(f)) = vm.getattr_opt(&m, "_at_exit") {
            if let Err(e) = vm.call(f, Args::default()) {
                let text = aio_interp::diagnostic::format_exception(vm, &e);
                vm.write_err(&format!("Exception ignored in atexit callback\n{text}"));
            }
        }
    }
    if let Some(Value::Module(main)) = vm.host.module("__main__").cloned() {
        clear_main(vm, &main);
    }
    vm.host.flush();
    aio_interp::trace::trace_finish(vm);
}

/// At the end of the program `__main__`'s globals go, as CPython's teardown
/// clears the module: names with one leading underscore first, then the
/// others in the order they were bound; the `__del__` methods and the
/// `finally` blocks of suspended generators that this frees run as each goes.
fn clear_main(vm: &mut Vm, main: &Module) {
    let names: Vec<_> = main.entries().into_iter().map(|(n, _)| n).collect();
    let private = |n: &str| n.starts_with('_') && !n.starts_with("__");
    for first in [true, false] {
        for n in names.iter().filter(|n| private(n.as_str()) == first && n.as_str() != "__builtins__") {
            main.set(n.as_str(), Value::None);
            if aio_interp::generator::finalizers_due() {
                aio_interp::generator::run_finalizers(vm);
            }
        }
    }
}

/// Call `asyncio.run(coro)`.
pub fn asyncio_run(vm: &mut Vm, coro: Value) -> PyResult<Value> {
    let asyncio = load_asyncio(vm)?;
    let run = vm.getattr(&asyncio, &aio_interp::intern::intern("run"))?;
    vm.call(run, Args::new([coro]))
}
