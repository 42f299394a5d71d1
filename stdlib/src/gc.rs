//! The `gc` module: the cycle collector's controls (see `aio_interp::gc`
//! for how it works). `collect()` gives the number of unreachable objects
//! it found, as CPython's does; the callbacks of weak references to the
//! objects that died run before it returns.

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{native_fn, type_name};
use aio_interp::{Value, Vm};

fn int_arg(v: &Value, what: &str) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(b.get() as i64),
        other => Err(type_error(format!("'{}' object cannot be interpreted as an integer{what}", type_name(other)))),
    }
}

fn collect(vm: &mut Vm, mut args: Args) -> PyResult {
    let gen = match args.pos.first().cloned().or_else(|| args.take_kw("generation")) {
        Some(v) => int_arg(&v, "")?,
        None => 2,
    };
    if !(0..=2).contains(&gen) {
        return Err(value_error("invalid generation"));
    }
    let found = aio_interp::gc::collect_now(vm, gen == 2);
    // The callbacks of weak references to what died (in a cycle or before) run now.
    aio_interp::weakref::poll(vm);
    Ok(Value::Int(found as i64))
}

fn enable(_vm: &mut Vm, _args: Args) -> PyResult {
    aio_interp::gc::set_enabled(true);
    Ok(Value::None)
}

fn disable(_vm: &mut Vm, _args: Args) -> PyResult {
    aio_interp::gc::set_enabled(false);
    Ok(Value::None)
}

fn isenabled(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::bool(aio_interp::gc::is_enabled()))
}

fn get_count(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::tuple(aio_interp::gc::count().iter().map(|&n| Value::Int(n as i64)).collect::<Vec<_>>()))
}

fn get_threshold(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::tuple(aio_interp::gc::threshold().iter().map(|&n| Value::Int(n as i64)).collect::<Vec<_>>()))
}

fn set_threshold(_vm: &mut Vm, args: Args) -> PyResult {
    if args.pos.is_empty() || args.pos.len() > 3 {
        return Err(type_error(format!("set_threshold() takes 1 to 3 arguments ({} given)", args.pos.len())));
    }
    if !args.kw.is_empty() {
        return Err(type_error("set_threshold() takes no keyword arguments"));
    }
    let mut t = aio_interp::gc::threshold();
    for (i, v) in args.pos.iter().enumerate() {
        let n = int_arg(v, "")?;
        t[i] = n.clamp(0, u32::MAX as i64) as u32;
    }
    aio_interp::gc::set_threshold(t);
    Ok(Value::None)
}

fn is_tracked(_vm: &mut Vm, args: Args) -> PyResult {
    let Some(v) = args.pos.first() else { return Err(type_error("is_tracked() takes exactly one argument (0 given)")) };
    Ok(Value::bool(aio_interp::gc::is_tracked(v)))
}

/// Build the `gc` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] = &[
        ("collect", collect),
        ("enable", enable),
        ("disable", disable),
        ("isenabled", isenabled),
        ("get_count", get_count),
        ("get_threshold", get_threshold),
        ("set_threshold", set_threshold),
        ("is_tracked", is_tracked),
    ];
    let entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    Ok(vm.make_native_module("gc", entries))
}
