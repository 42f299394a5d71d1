//! `_tracemalloc`: the counts under `tracemalloc` (written in .aio on top
//! of them). The allocator counts the bytes and blocks the whole process
//! holds (see `aio_interp::limits`), not which line asked for them.

use aio_interp::limits;
use aio_interp::object::*;
use aio_interp::types::native_fn;
use aio_interp::{Value, Vm};

fn start(_vm: &mut Vm, _args: Args) -> PyResult {
    limits::trace_start();
    Ok(Value::None)
}

fn stop(_vm: &mut Vm, _args: Args) -> PyResult {
    limits::trace_stop();
    Ok(Value::None)
}

fn is_tracing(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::bool(limits::tracing()))
}

/// `(current, peak, blocks)` while tracing, else `(0, 0, 0)`.
fn traced(_vm: &mut Vm, _args: Args) -> PyResult {
    let (now, peak, blocks) = limits::traced().unwrap_or((0, 0, 0));
    Ok(Value::tuple(vec![Value::Int(now as i64), Value::Int(peak as i64), Value::Int(blocks as i64)]))
}

fn reset_peak(_vm: &mut Vm, _args: Args) -> PyResult {
    limits::trace_reset_peak();
    Ok(Value::None)
}

fn clear_traces(_vm: &mut Vm, _args: Args) -> PyResult {
    limits::trace_clear();
    Ok(Value::None)
}

/// Build the `_tracemalloc` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] = &[
        ("start", start),
        ("stop", stop),
        ("is_tracing", is_tracing),
        ("traced", traced),
        ("reset_peak", reset_peak),
        ("clear_traces", clear_traces),
    ];
    Ok(vm.make_native_module("_tracemalloc", fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect()))
}
