//! Ctrl-C in the REPL. While an `await` runs, Ctrl-C cancels the awaited
//! task (it sees `CancelledError` at its `await`) instead of raising
//! `KeyboardInterrupt` in whichever task happens to be running; only a
//! loop stuck in one step for a while gets the VM's `KeyboardInterrupt`.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Once;
use std::time::Duration;

use aio_interp::vm::INTERRUPTED;

/// What the session is doing, which decides what Ctrl-C means.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// At the prompt: the editor reads Ctrl-C as a key. A signal comes only
    /// between a line's Enter and its run, and is kept for that run.
    Prompt = 0,
    /// Running an input without `await`: the VM raises `KeyboardInterrupt`.
    Sync = 1,
    /// Awaiting an input's task: Ctrl-C cancels it.
    Task = 2,
}

static MODE: AtomicU8 = AtomicU8::new(Mode::Prompt as u8);
/// Ctrl-C pressed in `Mode::Task`, not yet taken by the session; or pressed
/// in `Mode::Prompt` after the editor gave the terminal back, for the code
/// about to run the line.
static PENDING: AtomicBool = AtomicBool::new(false);

/// Ctrl-C's hook in the REPL (runs inside the signal handler: atomics and
/// `write` only).
fn on_sigint() {
    match MODE.load(Ordering::Relaxed) {
        m if m == Mode::Task as u8 => {
            // A second press before the session took the first: the loop is
            // stuck in a step, so interrupt that step.
            if PENDING.swap(true, Ordering::Relaxed) {
                INTERRUPTED.store(true, Ordering::Relaxed);
            }
        }
        // Not the VM's yet: the loop may be running background tasks.
        m if m == Mode::Prompt as u8 => PENDING.store(true, Ordering::Relaxed),
        _ => INTERRUPTED.store(true, Ordering::Relaxed),
    }
    // A loop waiting on I/O wakes to look at the press.
    aio_interp::runtime::reactor::signal_wakeup(libc::SIGINT);
}

/// Route SIGINT here for the rest of the process (while its handler is
/// `default_int_handler`).
pub fn install() {
    aio_interp::runtime::signals::set_interrupt_hook(on_sigint);
    // A press the session does not take within ~0.3 s means a task is
    // running without yielding: escalate to the VM's KeyboardInterrupt,
    // so Ctrl-C always answers within a second.
    static WATCHDOG: Once = Once::new();
    WATCHDOG.call_once(|| {
        let _ = std::thread::Builder::new().name("aio-sigint".into()).spawn(|| {
            let mut ticks = 0;
            loop {
                std::thread::sleep(Duration::from_millis(100));
                if MODE.load(Ordering::Relaxed) == Mode::Task as u8 && PENDING.load(Ordering::Relaxed) {
                    ticks += 1;
                    if ticks >= 3 {
                        INTERRUPTED.store(true, Ordering::Relaxed);
                        ticks = 0;
                    }
                } else {
                    ticks = 0;
                }
            }
        });
    });
}

/// Enter `mode`, forgetting earlier presses, except one made at the prompt
/// after the line was entered (the editor has given the terminal back then,
/// so the press came as a signal): it goes to the code that runs the line.
pub fn set_mode(mode: Mode) {
    let carried = MODE.load(Ordering::Relaxed) == Mode::Prompt as u8 && PENDING.load(Ordering::Relaxed);
    clear();
    match mode {
        Mode::Sync if carried => INTERRUPTED.store(true, Ordering::Relaxed),
        Mode::Task if carried => PENDING.store(true, Ordering::Relaxed),
        _ => {}
    }
    MODE.store(mode as u8, Ordering::Relaxed);
}

/// Was Ctrl-C pressed while awaiting? Takes the press, and the VM's
/// interrupt too if the watchdog raised it meanwhile: one press, one cancel.
pub fn take() -> bool {
    let pressed = PENDING.swap(false, Ordering::Relaxed);
    INTERRUPTED.swap(false, Ordering::Relaxed) || pressed
}

/// Forget presses not acted on.
pub fn clear() {
    PENDING.store(false, Ordering::Relaxed);
    INTERRUPTED.store(false, Ordering::Relaxed);
}
