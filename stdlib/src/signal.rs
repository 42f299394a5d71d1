//! `_signal`: the native half of the `signal` module (`lib/signal.aio`
//! makes the `Signals` and `Handlers` enums of it, as CPython's signal.py
//! does of its `_signal`), and the loop's `add_signal_handler` /
//! `remove_signal_handler`. The dispositions themselves live in
//! `aio_interp::runtime::signals`.

use std::rc::Rc;

use aio_interp::event_loop::EventLoop;
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::runtime::signals::{self, Handler, NSIG};
use aio_interp::types::{method, native_fn};
use aio_interp::{Value, Vm};

/// The signal constants of this system (Linux).
const NAMES: &[(&str, i32)] = &[
    ("SIGHUP", libc::SIGHUP),
    ("SIGINT", libc::SIGINT),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGILL", libc::SIGILL),
    ("SIGTRAP", libc::SIGTRAP),
    ("SIGABRT", libc::SIGABRT),
    ("SIGIOT", libc::SIGIOT),
    ("SIGBUS", libc::SIGBUS),
    ("SIGFPE", libc::SIGFPE),
    ("SIGKILL", libc::SIGKILL),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGSEGV", libc::SIGSEGV),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGPIPE", libc::SIGPIPE),
    ("SIGALRM", libc::SIGALRM),
    ("SIGTERM", libc::SIGTERM),
    ("SIGSTKFLT", libc::SIGSTKFLT),
    ("SIGCHLD", libc::SIGCHLD),
    ("SIGCLD", libc::SIGCHLD),
    ("SIGCONT", libc::SIGCONT),
    ("SIGSTOP", libc::SIGSTOP),
    ("SIGTSTP", libc::SIGTSTP),
    ("SIGTTIN", libc::SIGTTIN),
    ("SIGTTOU", libc::SIGTTOU),
    ("SIGURG", libc::SIGURG),
    ("SIGXCPU", libc::SIGXCPU),
    ("SIGXFSZ", libc::SIGXFSZ),
    ("SIGVTALRM", libc::SIGVTALRM),
    ("SIGPROF", libc::SIGPROF),
    ("SIGWINCH", libc::SIGWINCH),
    ("SIGIO", libc::SIGIO),
    ("SIGPOLL", libc::SIGPOLL),
    ("SIGPWR", libc::SIGPWR),
    ("SIGSYS", libc::SIGSYS),
];

thread_local! {
    /// `default_int_handler`, one value for every `getsignal` to return.
    static DEFAULT_INT_HANDLER: Value = native_fn("default_int_handler", |_vm, _a| Err(err_noargs(&aio_interp::types::types().exc.keyboard_interrupt)));
    /// The Python-level handler a loop's signal handler puts in place.
    static NOOP_HANDLER: Value = native_fn("_sighandler_noop", |_vm, _a| Ok(Value::None));
}

/// The signal number of an int (or an int enum member).
fn signum(vm: &mut Vm, v: &Value) -> PyResult<i32> {
    let n = vm.index_value(v)?;
    if !(1..NSIG as i64).contains(&n) {
        return Err(value_error("signal number out of range"));
    }
    Ok(n as i32)
}

fn os_err(e: std::io::Error) -> PyErr {
    os_error_from_io(&e)
}

fn is_callable(v: &Value) -> bool {
    match v {
        Value::Function(_) | Value::Native(_) | Value::BoundMethod(_) | Value::Class(_) => true,
        Value::Instance(_) | Value::Object(_) => aio_interp::ops::lookup_special(v, "__call__").is_some(),
        _ => false,
    }
}

/// A handler as `getsignal` gives it: `SIG_DFL` (0), `SIG_IGN` (1), a callable.
fn handler_value(h: Handler) -> Value {
    match h {
        Handler::Default => Value::Int(0),
        Handler::Ignore => Value::Int(1),
        Handler::IntDefault => DEFAULT_INT_HANDLER.with(|v| v.clone()),
        Handler::Call { f, .. } => f,
    }
}

/// `signal(signalnum, handler)`: install a handler; the old one.
fn signal(vm: &mut Vm, args: Args) -> PyResult {
    let [sig, h] = args.pos.as_slice() else {
        return Err(type_error(format!("signal expected 2 arguments, got {}", args.pos.len())));
    };
    let sig = signum(vm, sig)?;
    let new = match h {
        Value::Int(0) => Handler::Default,
        Value::Int(1) => Handler::Ignore,
        v if DEFAULT_INT_HANDLER.with(|d| d.is(v)) => Handler::IntDefault,
        v if is_callable(v) => Handler::Call { f: v.clone(), r#loop: false },
        Value::Instance(_) => match vm.index_value(h) {
            Ok(0) => Handler::Default,
            Ok(1) => Handler::Ignore,
            _ => return Err(type_error("signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable object")),
        },
        _ => return Err(type_error("signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable object")),
    };
    let old = signals::handler(sig);
    signals::set_handler(sig, new).map_err(os_err)?;
    Ok(handler_value(old))
}

fn getsignal(vm: &mut Vm, args: Args) -> PyResult {
    let sig = signum(vm, args.pos.first().unwrap_or(&Value::None))?;
    Ok(handler_value(signals::handler(sig)))
}

/// `raise_signal(signalnum)`: send it to this process, then run its handler
/// at once (CPython checks for signals before returning).
fn raise_signal(vm: &mut Vm, args: Args) -> PyResult {
    let sig = vm.index_value(args.pos.first().unwrap_or(&Value::None))?;
    let sig = sig.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    // SAFETY: raise(3) refuses a number that is no signal (EINVAL).
    if unsafe { libc::raise(sig) } != 0 {
        return Err(os_err(std::io::Error::last_os_error()));
    }
    vm.check_interrupt()?;
    Ok(Value::None)
}

fn strsignal(vm: &mut Vm, args: Args) -> PyResult {
    let sig = signum(vm, args.pos.first().unwrap_or(&Value::None))?;
    // SAFETY: strsignal returns a string of the C library's; it is copied at once.
    let p = unsafe { libc::strsignal(sig) };
    if p.is_null() {
        return Ok(Value::None);
    }
    let s = unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned();
    if s.starts_with("Unknown signal") {
        return Ok(Value::None);
    }
    Ok(Value::string(s))
}

fn valid_signals(vm: &mut Vm, _args: Args) -> PyResult {
    let sigs: Vec<Value> = (1..NSIG as i64).filter(|&s| signals::is_valid(s)).map(Value::Int).collect();
    aio_interp::types::set::set_from(vm, sigs)
}

/// `alarm(seconds)`: SIGALRM after that many seconds; the seconds left of an earlier one.
fn alarm(vm: &mut Vm, args: Args) -> PyResult {
    let secs = vm.index_value(args.pos.first().unwrap_or(&Value::None))?;
    // SAFETY: alarm(2) takes any count.
    Ok(Value::Int(unsafe { libc::alarm(secs.clamp(0, u32::MAX as i64) as u32) } as i64))
}

/// `pause()`: wait for a signal, then run its handler.
fn pause(vm: &mut Vm, _args: Args) -> PyResult {
    vm.host.flush();
    // SAFETY: pause(2) returns when a signal is caught.
    unsafe { libc::pause() };
    vm.check_interrupt()?;
    Ok(Value::None)
}

fn siginterrupt(vm: &mut Vm, args: Args) -> PyResult {
    signum(vm, args.pos.first().unwrap_or(&Value::None))?;
    Ok(Value::None)
}

/// Build the `_signal` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] = &[
        ("signal", signal),
        ("getsignal", getsignal),
        ("raise_signal", raise_signal),
        ("strsignal", strsignal),
        ("valid_signals", valid_signals),
        ("alarm", alarm),
        ("pause", pause),
        ("siginterrupt", siginterrupt),
    ];
    let mut entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    entries.push(("default_int_handler", DEFAULT_INT_HANDLER.with(|v| v.clone())));
    for (n, v) in NAMES {
        entries.push((n, Value::Int(*v as i64)));
    }
    entries.push(("SIGRTMIN", Value::Int(libc::SIGRTMIN() as i64)));
    entries.push(("SIGRTMAX", Value::Int(libc::SIGRTMAX() as i64)));
    entries.push(("SIG_DFL", Value::Int(0)));
    entries.push(("SIG_IGN", Value::Int(1)));
    entries.push(("NSIG", Value::Int(NSIG as i64)));
    entries.push(("SIG_BLOCK", Value::Int(libc::SIG_BLOCK as i64)));
    entries.push(("SIG_UNBLOCK", Value::Int(libc::SIG_UNBLOCK as i64)));
    entries.push(("SIG_SETMASK", Value::Int(libc::SIG_SETMASK as i64)));
    Ok(vm.make_native_module("_signal", entries))
}

// ------------------------------------------------------------ the loop's signal handlers

fn loop_arg(args: &Args) -> PyResult<&EventLoop> {
    args.pos.first().and_then(|v| v.downcast::<EventLoop>()).ok_or_else(|| type_error("descriptor requires an event loop"))
}

/// `_check_signal(sig)`: an int that is a valid signal number.
fn check_signal(vm: &mut Vm, sig: &Value) -> PyResult<i32> {
    let int = Value::Class(aio_interp::types::types().int.clone());
    let is_int = matches!(sig, Value::Int(_)) || vm.isinstance(sig, &int)?;
    if !is_int {
        return Err(type_error(format!("sig must be an int, not {}", vm.repr_str(sig)?)));
    }
    let n = vm.index_value(sig)?;
    if !signals::is_valid(n) {
        return Err(value_error(format!("invalid signal number {}", vm.str_of(sig)?)));
    }
    Ok(n as i32)
}

fn is_coroutine_like(v: &Value) -> bool {
    match v {
        Value::Generator(g) => g.kind == GenKind::Coroutine,
        Value::Function(f) => f.code.flags.coroutine,
        Value::BoundMethod(b) => matches!(&b.func, Value::Function(f) if f.code.flags.coroutine),
        Value::Object(o) => o.await_iter().is_some_and(|a| a.qualname().is_some()),
        _ => false,
    }
}

/// `loop.add_signal_handler(sig, callback, *args)`.
fn add_signal_handler(vm: &mut Vm, args: Args) -> PyResult {
    let l = loop_arg(&args)?;
    let (sig_v, cb) = match args.pos.as_slice() {
        [_, s, cb, ..] => (s.clone(), cb.clone()),
        _ => return Err(type_error("add_signal_handler() missing required arguments: 'sig' and 'callback'")),
    };
    if is_coroutine_like(&cb) {
        return Err(type_error("coroutines cannot be used with add_signal_handler()"));
    }
    let sig = check_signal(vm, &sig_v)?;
    if l.closed.get() {
        return Err(runtime_error("Event loop is closed"));
    }
    let noop = NOOP_HANDLER.with(|v| v.clone());
    if let Err(e) = signals::set_handler(sig, Handler::Call { f: noop, r#loop: true }) {
        if e.raw_os_error() == Some(libc::EINVAL) {
            return Err(runtime_error(format!("sig {} cannot be caught", vm.str_of(&sig_v)?)));
        }
        return Err(os_err(e));
    }
    l.signal_handlers.borrow_mut().insert(sig, (cb, args.pos[3..].to_vec()));
    Ok(Value::None)
}

/// `loop.remove_signal_handler(sig)`: whether one was removed.
fn remove_signal_handler(vm: &mut Vm, args: Args) -> PyResult {
    let l = loop_arg(&args)?;
    let sig = check_signal(vm, args.pos.get(1).unwrap_or(&Value::None))?;
    if l.signal_handlers.borrow_mut().remove(&sig).is_none() {
        return Ok(Value::bool(false));
    }
    let h = if sig == libc::SIGINT { Handler::IntDefault } else { Handler::Default };
    signals::set_handler(sig, h).map_err(os_err)?;
    Ok(Value::bool(true))
}

/// Put the signal methods on the loop class.
pub fn install_loop_methods() {
    let c: Rc<Class> = aio_interp::event_loop::loop_class();
    method(&c, "loop", "add_signal_handler", add_signal_handler);
    method(&c, "loop", "remove_signal_handler", remove_signal_handler);
}
