//! Ctrl-C in the REPL. While an `await` runs, Ctrl-C cancels the awaited
//! task (it sees `CancelledError` at its `await`) instead of raising
//! `KeyboardInterrupt` in whichever task happens to be running; only a
//! loop stuck in one step for a while gets the VM's `KeyboardInterrupt`.
//!
//! At the prompt the loop runs the background tasks between keys; a task
//! that never awaits would keep the prompt from ever coming back. While the
//! loop runs there ([`busy`]), Ctrl-C read by the editor is handed to the VM
//! as a `KeyboardInterrupt` in the running task, and a task holding the
//! loop for more than a second is warned about ([`warn_slow`]).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

use aio_interp::vm::{INTERRUPTED, POKED};

/// The watchdog looks this often.
const TICK: Duration = Duration::from_millis(20);
/// A task step running this long is warned about.
const SLOW: Duration = Duration::from_secs(1);

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

/// Milliseconds since the session began when the loop started running at
/// the prompt, plus one (0: it is not running).
static BUSY_SINCE: AtomicU64 = AtomicU64::new(0);
/// Ctrl-C while the loop ran at the prompt: 0 none, [`FROM_EDITOR`] (read
/// as a key), [`FROM_SIGNAL`] (after the editor gave the terminal back).
static BUSY_KEY: AtomicU8 = AtomicU8::new(0);
pub const FROM_EDITOR: u8 = 1;
pub const FROM_SIGNAL: u8 = 2;
/// This stretch of running was warned about already.
static WARNED: AtomicBool = AtomicBool::new(false);
/// The watchdog interrupted the running task for a Ctrl-C at the prompt:
/// where the press came from (as in `BUSY_KEY`).
static KEY_INTERRUPTED: AtomicU8 = AtomicU8::new(0);

fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// The loop starts (`true`) or stops running tasks for the session.
pub fn busy(on: bool) {
    if on {
        WARNED.store(false, Ordering::Relaxed);
        BUSY_SINCE.store(now_ms(), Ordering::Relaxed);
    } else {
        BUSY_SINCE.store(0, Ordering::Relaxed);
        BUSY_KEY.store(0, Ordering::Relaxed);
    }
}

/// The editor read Ctrl-C at the prompt: if the loop is running a task
/// meanwhile, that task is interrupted (by the watchdog, within a tick).
pub fn prompt_key() {
    if BUSY_SINCE.load(Ordering::Relaxed) != 0 {
        BUSY_KEY.store(FROM_EDITOR, Ordering::Relaxed);
    }
}

/// Did the last `KeyboardInterrupt` come from Ctrl-C at the prompt, and
/// from where ([`FROM_EDITOR`], [`FROM_SIGNAL`]; 0: no)? Taken.
pub fn take_key_interrupt() -> u8 {
    KEY_INTERRUPTED.swap(0, Ordering::Relaxed)
}

/// One look of the watchdog at the loop running at the prompt.
fn watch_busy() {
    let since = BUSY_SINCE.load(Ordering::Relaxed);
    if since == 0 {
        return;
    }
    let ran = now_ms().saturating_sub(since);
    // A key during a short run is the prompt's; the editor has it already.
    if BUSY_KEY.load(Ordering::Relaxed) != 0 && ran >= 2 * TICK.as_millis() as u64 {
        let from = BUSY_KEY.swap(0, Ordering::Relaxed);
        if from != 0 {
            KEY_INTERRUPTED.store(from, Ordering::Relaxed);
            INTERRUPTED.store(true, Ordering::Relaxed);
        }
    }
    if ran >= SLOW.as_millis() as u64 && !WARNED.swap(true, Ordering::Relaxed) {
        POKED.store(true, Ordering::Relaxed);
    }
}

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
        // Not the VM's yet: the loop may be running background tasks; if
        // one of them keeps it, the watchdog interrupts that one.
        m if m == Mode::Prompt as u8 => {
            PENDING.store(true, Ordering::Relaxed);
            if BUSY_SINCE.load(Ordering::Relaxed) != 0 {
                BUSY_KEY.store(FROM_SIGNAL, Ordering::Relaxed);
            }
        }
        _ => INTERRUPTED.store(true, Ordering::Relaxed),
    }
    // A loop waiting on I/O wakes to look at the press.
    aio_interp::runtime::reactor::signal_wakeup(libc::SIGINT);
}

/// Route SIGINT here for the rest of the process (while its handler is
/// `default_int_handler`).
pub fn install() {
    aio_interp::runtime::signals::set_interrupt_hook(on_sigint);
    // A press the session does not take within a few ticks means a task
    // is running without yielding: escalate to the VM's KeyboardInterrupt,
    // so Ctrl-C answers within 100 ms.
    static WATCHDOG: Once = Once::new();
    WATCHDOG.call_once(|| {
        let _ = std::thread::Builder::new().name("aio-sigint".into()).spawn(|| {
            let mut ticks = 0;
            loop {
                std::thread::sleep(TICK);
                if MODE.load(Ordering::Relaxed) == Mode::Task as u8 && PENDING.load(Ordering::Relaxed) {
                    ticks += 1;
                    if ticks >= 3 {
                        INTERRUPTED.store(true, Ordering::Relaxed);
                        ticks = 0;
                    }
                } else {
                    ticks = 0;
                }
                watch_busy();
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

/// Forget a `KeyboardInterrupt` the VM has not raised yet.
pub fn clear_vm() {
    INTERRUPTED.store(false, Ordering::Relaxed);
}

/// Forget presses not acted on.
pub fn clear() {
    PENDING.store(false, Ordering::Relaxed);
    INTERRUPTED.store(false, Ordering::Relaxed);
}
