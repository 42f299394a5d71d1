//! Limits on a run, for programs that are not trusted to end: `--timeout`
//! (seconds of real time, even under `--virtual-time`) and
//! `--max-instructions` (steps of the VM). A limit reached stops the program
//! at the VM's next periodic check (`Vm::check_interrupt`), the same safe
//! point that turns Ctrl-C into `KeyboardInterrupt`, so a spinning loop, a
//! sleep and a wait in the event loop all stop; the report names the place
//! and the exit status is 1. The stop cannot be caught: a program that
//! catches everything must still end.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use crate::vm::{Vm, INTERRUPTED};

/// Which limit was reached: 0 none, 1 the timeout, 2 the instruction count.
static HIT: AtomicU8 = AtomicU8::new(0);
/// The timeout, in milliseconds, for the report (0: none).
static TIMEOUT_MS: AtomicU64 = AtomicU64::new(0);
/// The instruction limit (0: none) and the steps still allowed.
static MAX_STEPS: AtomicU64 = AtomicU64::new(0);
static STEPS_LEFT: AtomicU64 = AtomicU64::new(0);
/// The steps handed out at the last check (0: the VM's first budget).
static GIVEN: AtomicU64 = AtomicU64::new(0);

/// How long a stop may wait for the VM's next check before the process ends
/// without it (a native call that blocks and never checks, as `input()`).
const GRACE: Duration = Duration::from_secs(2);

/// Stop the program after `secs` seconds of real time.
pub fn set_timeout(secs: f64) {
    let after = Duration::from_secs_f64(secs.clamp(0.0, 1e9));
    TIMEOUT_MS.store((after.as_millis() as u64).max(1), Ordering::Relaxed);
    let spawned = std::thread::Builder::new().name("aio-timeout".into()).spawn(move || {
        std::thread::sleep(after);
        HIT.store(1, Ordering::SeqCst);
        INTERRUPTED.store(true, Ordering::SeqCst);
        crate::runtime::reactor::wake();
        std::thread::sleep(GRACE);
        // The VM did not reach a check: end here, with what can be said.
        eprintln!("TimeoutError: {} reached (stopped inside a blocking call)", describe(1));
        std::process::exit(1);
    });
    if spawned.is_err() {
        eprintln!("aio: cannot start the --timeout watchdog");
        std::process::exit(2);
    }
}

/// Stop the program after about `n` steps of the VM.
pub fn set_max_instructions(n: u64) {
    MAX_STEPS.store(n.max(1), Ordering::Relaxed);
    STEPS_LEFT.store(n.max(1), Ordering::Relaxed);
}

/// At a periodic check, with `left` of the steps handed out last time still
/// unspent (`budget` at first): the steps to run before the next check, at
/// most `budget`, or `None` when a limit has been reached.
pub fn spend(left: u32, budget: u32) -> Option<u32> {
    if HIT.load(Ordering::Relaxed) != 0 {
        return None;
    }
    if MAX_STEPS.load(Ordering::Relaxed) == 0 {
        return Some(budget);
    }
    let given = match GIVEN.load(Ordering::Relaxed) {
        0 => budget,
        g => g as u32,
    };
    let used = given.saturating_sub(left) as u64;
    let remaining = STEPS_LEFT.load(Ordering::Relaxed).saturating_sub(used);
    STEPS_LEFT.store(remaining, Ordering::Relaxed);
    if remaining == 0 {
        HIT.store(2, Ordering::SeqCst);
        return None;
    }
    let next = remaining.min(budget as u64) as u32;
    GIVEN.store(next as u64, Ordering::Relaxed);
    Some(next)
}

/// The limit that was reached, as the command line spelled it.
fn describe(which: u8) -> String {
    if which == 1 {
        let ms = TIMEOUT_MS.load(Ordering::Relaxed);
        format!("--timeout {}", ms as f64 / 1000.0)
    } else {
        format!("--max-instructions {}", MAX_STEPS.load(Ordering::Relaxed))
    }
}

/// Report the limit reached and where the program was, flush its output and
/// end the process with status 1.
pub fn stop(vm: &mut Vm) -> ! {
    let which = HIT.load(Ordering::SeqCst);
    vm.out.flush();
    let mut text = String::from("Traceback (most recent call last):\n");
    for f in &vm.frames {
        let line = f.code.line_at(f.ip);
        text.push_str(&format!(
            "  File \"{}\", line {}, in {}\n    {}\n",
            f.code.source.name,
            line,
            f.code.name.as_str(),
            f.code.source.line_text(line).trim()
        ));
    }
    text.push_str(&format!("TimeoutError: {} reached: aio stopped the program\n", describe(which)));
    vm.write_err(&text);
    vm.out.flush();
    std::process::exit(1);
}
