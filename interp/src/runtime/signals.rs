//! Signals, process-wide: what each signal does when it arrives, on
//! signal-hook. A hooked signal's action is async-signal-safe: by the
//! signal's [`Mode`] it emulates the default action, does nothing, calls
//! the Ctrl-C hook (the VM's `KeyboardInterrupt`, or the REPL's), or marks
//! the signal pending and wakes the loop (see `reactor::signal_wakeup`).
//!
//! Two kinds of handler see a pending signal, as in CPython:
//! - a **Python-level handler** (`signal.signal(SIGUSR1, f)`), called by
//!   [`run_pending`] between instructions (the VM's interrupt check), with
//!   `(signum, None)`;
//! - a **loop handler** (`loop.add_signal_handler`), which the event loop
//!   schedules with `call_soon` once it sees the signal (see `event_loop`).
//!
//! signal-hook always installs its handler with `SA_RESTART`; as CPython's
//! handlers, ours let a blocking system call fail with `EINTR`, so that
//! Ctrl-C interrupts it: [`hook`] clears the flag again.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};

use crate::object::{Args, PyResult};
use crate::value::Value;
use crate::vm::Vm;

/// Signal numbers are below this (`signal.NSIG`).
pub const NSIG: i32 = 65;

/// What a hooked signal does when it arrives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Mode {
    /// The system's default action (`SIG_DFL`), emulated once hooked.
    Default = 0,
    /// Nothing (`SIG_IGN`).
    Ignore = 1,
    /// Ctrl-C's hook: SIGINT while its handler is `default_int_handler`.
    Interrupt = 2,
    /// A Python-level handler runs between instructions.
    Python = 3,
    /// Only the loop's handler runs (`loop.add_signal_handler`).
    Loop = 4,
}

#[allow(clippy::declare_interior_mutable_const)]
const MODE0: AtomicU8 = AtomicU8::new(Mode::Default as u8);
static MODES: [AtomicU8; NSIG as usize] = [MODE0; NSIG as usize];
#[allow(clippy::declare_interior_mutable_const)]
const NOT_HOOKED: AtomicBool = AtomicBool::new(false);
static HOOKED: [AtomicBool; NSIG as usize] = [NOT_HOOKED; NSIG as usize];
/// Signals waiting for their Python-level handler (bit `n - 1` for signal `n`).
static PY_PENDING: AtomicU64 = AtomicU64::new(0);
/// The Ctrl-C hook, a `fn()` (0: none yet).
static INTERRUPT_HOOK: AtomicUsize = AtomicUsize::new(0);

fn mode_of(sig: i32) -> Mode {
    match MODES[sig as usize].load(Ordering::Relaxed) {
        1 => Mode::Ignore,
        2 => Mode::Interrupt,
        3 => Mode::Python,
        4 => Mode::Loop,
        _ => Mode::Default,
    }
}

/// The action of every hooked signal; runs inside the signal handler.
fn action(sig: i32) {
    match mode_of(sig) {
        Mode::Default => {
            let _ = signal_hook::low_level::emulate_default_handler(sig);
        }
        Mode::Ignore => {}
        Mode::Interrupt => {
            let f = INTERRUPT_HOOK.load(Ordering::Relaxed);
            if f != 0 {
                // SAFETY: only `set_interrupt_hook` stores here, and it stores a `fn()`.
                let f: fn() = unsafe { std::mem::transmute::<usize, fn()>(f) };
                f();
            }
        }
        Mode::Python => {
            PY_PENDING.fetch_or(1 << (sig - 1), Ordering::SeqCst);
            super::reactor::signal_wakeup(sig);
        }
        Mode::Loop => super::reactor::signal_wakeup(sig),
    }
}

/// Is `sig` a signal number this system knows (`signal.valid_signals()`)?
pub fn is_valid(sig: i64) -> bool {
    (1..NSIG as i64).contains(&sig) && !(32..34).contains(&sig)
}

/// Make sure `sig` has our handler. Signals that cannot be caught
/// (SIGKILL, SIGSTOP) or must not be (SIGSEGV and the other faults) fail
/// with `EINVAL`, as `sigaction` does for the first two.
pub fn hook(sig: i32) -> std::io::Result<()> {
    if !is_valid(sig as i64) || signal_hook::consts::FORBIDDEN.contains(&sig) {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    if HOOKED[sig as usize].load(Ordering::SeqCst) {
        return Ok(());
    }
    super::reactor::prepare();
    // SAFETY: `action` only touches atomics and writes to the wake pipe
    // (async-signal-safe), or emulates the default action.
    unsafe { signal_hook::low_level::register(sig, move || action(sig))? };
    // SAFETY: reads and rewrites the flags of the handler just installed.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(sig, std::ptr::null(), &mut act) == 0 {
            act.sa_flags &= !libc::SA_RESTART;
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
    HOOKED[sig as usize].store(true, Ordering::SeqCst);
    Ok(())
}

/// Set what `sig` does from now on. `Default` on a signal never hooked
/// leaves the system's own default in place.
pub fn set_mode(sig: i32, mode: Mode) -> std::io::Result<()> {
    if sig == libc::SIGKILL || sig == libc::SIGSTOP {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    if mode != Mode::Default || HOOKED[sig as usize].load(Ordering::SeqCst) {
        hook(sig)?;
    }
    MODES[sig as usize].store(mode as u8, Ordering::SeqCst);
    Ok(())
}

/// Route Ctrl-C to `f` while SIGINT's handler is `default_int_handler`.
/// `f` runs inside the signal handler: atomics and `write` only.
pub fn set_interrupt_hook(f: fn()) {
    INTERRUPT_HOOK.store(f as usize, Ordering::SeqCst);
    let keep = HANDLERS.with(|h| h.borrow().get(&libc::SIGINT).is_some_and(|x| !matches!(x, Handler::IntDefault)));
    if !keep {
        let _ = set_mode(libc::SIGINT, Mode::Interrupt);
    }
}

/// Keep SIGINT away from the calling thread (one that only waits for the
/// VM's thread), so that the system hands Ctrl-C to the VM's thread itself:
/// a read it is blocked in then ends with the interrupt at once, even when
/// the end of input comes with it.
pub fn block_interrupt_here() {
    // SAFETY: builds a signal set and changes the calling thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// End the process as an uncaught `KeyboardInterrupt` ends CPython's: by
/// SIGINT itself, with the system's default action, so that the parent (a
/// shell running a loop of commands) knows the user pressed Ctrl-C. Status
/// 130 if the signal does not end it.
pub fn exit_by_interrupt() -> ! {
    // SAFETY: restores the default action, lets this thread take the
    // signal and raises it; nothing else runs in between.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(libc::SIGINT);
    }
    std::process::exit(130);
}

// ------------------------------------------------------------ Python-level handlers

/// A signal's Python-level handler (`signal.getsignal`).
#[derive(Clone)]
pub enum Handler {
    /// `SIG_DFL`.
    Default,
    /// `SIG_IGN`.
    Ignore,
    /// `default_int_handler`: `KeyboardInterrupt` (SIGINT's at start).
    IntDefault,
    /// A callable, called with `(signum, frame)`; a loop's handler puts a
    /// no-op here (`loop` set), as CPython's `_sighandler_noop`.
    Call { f: Value, r#loop: bool },
}

thread_local! {
    static HANDLERS: RefCell<HashMap<i32, Handler>> = RefCell::new(HashMap::new());
}

/// The handler of `sig`: what was set, or the one a program starts with.
pub fn handler(sig: i32) -> Handler {
    HANDLERS.with(|h| h.borrow().get(&sig).cloned()).unwrap_or(match sig {
        libc::SIGINT => Handler::IntDefault,
        // Ignored from the start, by CPython as by Rust's runtime.
        libc::SIGPIPE | libc::SIGXFSZ => Handler::Ignore,
        _ => Handler::Default,
    })
}

/// Install `h` as the handler of `sig` (the caller checked `sig`).
pub fn set_handler(sig: i32, h: Handler) -> std::io::Result<()> {
    let mode = match &h {
        Handler::Default => Mode::Default,
        Handler::Ignore => Mode::Ignore,
        Handler::IntDefault => Mode::Interrupt,
        Handler::Call { r#loop: true, .. } => Mode::Loop,
        Handler::Call { .. } => Mode::Python,
    };
    set_mode(sig, mode)?;
    HANDLERS.with(|t| t.borrow_mut().insert(sig, h));
    Ok(())
}

/// Are Python-level handlers waiting to run?
#[inline]
pub fn pending() -> bool {
    PY_PENDING.load(Ordering::Relaxed) != 0
}

/// Run the Python-level handlers of the signals that arrived, lowest
/// number first. A handler's exception propagates (the signals not yet
/// handled stay pending).
pub fn run_pending(vm: &mut Vm) -> PyResult<()> {
    let mut bits = PY_PENDING.swap(0, Ordering::SeqCst);
    while bits != 0 {
        let sig = bits.trailing_zeros() as i32 + 1;
        bits &= !(1u64 << (sig - 1));
        if let Handler::Call { f, r#loop: false } = handler(sig) {
            crate::trace::trace_io(vm, || format!("signal {}: handler {}() runs", name(sig), crate::trace::callable_label(&f)));
            if let Err(e) = vm.call(f, Args::new([Value::Int(sig as i64), Value::None])) {
                PY_PENDING.fetch_or(bits, Ordering::SeqCst);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// `SIGTERM`, or `signal 40`.
pub fn name(sig: i32) -> String {
    match signal_hook::low_level::signal_name(sig) {
        Some(n) => n.to_string(),
        None if (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&sig) => format!("SIGRTMIN+{}", sig - libc::SIGRTMIN()),
        None => format!("signal {sig}"),
    }
}
