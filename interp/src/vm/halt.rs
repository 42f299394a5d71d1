//! Leaving the loop from outside: Ctrl-C (SIGINT), a watchdog's poke, the
//! run limits, and the periodic check (every `BUDGET` instructions) that is
//! also the collector's and the signal handlers' safe point.

use crate::exceptions::*;
use crate::object::*;
use crate::types::types;

use super::*;

pub(super) const BUDGET: u32 = 10_000;

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

impl Vm {
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
    pub(super) fn interrupt_now(&mut self) -> PyResult<()> {
        if crate::limits::reached() {
            crate::limits::stop(self);
        }
        take_interrupt().map_or(Ok(()), Err)
    }
}
