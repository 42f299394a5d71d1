//! The VM and the standard library on whatever compiles, with the output
//! captured, a virtual clock and the sandbox closed (no file, network,
//! process or environment access). A run that goes on past 50 ms gets
//! `KeyboardInterrupt` until it ends; one that still does not end is a
//! hang, which libFuzzer's `-timeout` reports. Exceptions are the program's
//! business; panics, aborts and stack overflows are bugs.

#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aio_interp::compiler::Mode;
use aio_interp::import::{compile_source, new_module};
use aio_interp::vm::INTERRUPTED;
use aio_interp::{Value, Vm};
use libfuzzer_sys::fuzz_target;

/// When the run in progress started (ms since the watchdog's start;
/// `u64::MAX`: none).
static STARTED_MS: AtomicU64 = AtomicU64::new(u64::MAX);
static START: OnceLock<Instant> = OnceLock::new();

/// The watchdog's clock, started with the watchdog on first use.
fn start_watchdog() -> Instant {
    *START.get_or_init(|| {
        aio_stdlib::sandbox::install(aio_stdlib::sandbox::Sandbox::new());
        let start = Instant::now();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(5));
            let began = STARTED_MS.load(Ordering::SeqCst);
            if began != u64::MAX && start.elapsed().as_millis() as u64 > began + 50 {
                INTERRUPTED.store(true, Ordering::SeqCst);
            }
        });
        start
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let start = start_watchdog();
    let mut vm = Vm::new();
    aio_stdlib::install(&mut vm);
    vm.host.set_virtual_time(true);
    vm.host.capture_output();
    vm.host.set_argv(Value::list(vec![Value::str("<fuzz>")]));
    let module = new_module("__main__", Some("<fuzz>"));
    if let Ok(b) = vm.import_module("builtins") {
        module.set("__builtins__", b);
    }
    vm.host.add_module("__main__", Value::Module(module.clone()));
    let Ok(code) = compile_source("<fuzz>", text, &module, Mode::Module) else { return };
    STARTED_MS.store(start.elapsed().as_millis() as u64, Ordering::SeqCst);
    let _ = aio_stdlib::run_main(&mut vm, code, module);
    aio_stdlib::finish(&mut vm);
    STARTED_MS.store(u64::MAX, Ordering::SeqCst);
    INTERRUPTED.store(false, Ordering::SeqCst);
});
