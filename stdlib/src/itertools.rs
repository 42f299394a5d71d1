//! `_itertools`: the native half of `itertools`, the iterators that the
//! interpreter already runs as builtin iterator states (`count`, `islice`,
//! `chain`, `cycle`, `repeat`, `filterfalse`).

use aio_interp::exceptions::*;
use aio_interp::iter::{make, IterState};
use aio_interp::object::*;
use aio_interp::ops::{as_num, builtin_payload};
use aio_interp::types::native_fn;
use aio_interp::{Value, Vm};

fn arity(name: &str, args: &Args, min: usize, max: usize) -> PyResult<()> {
    let n = args.pos.len();
    if n < min {
        let how = if min == max { "" } else { "at least " };
        return Err(type_error(format!(
            "{name} expected {how}{min} argument{}, got {n}",
            if min == 1 { "" } else { "s" }
        )));
    }
    if n > max {
        return Err(type_error(format!(
            "{name} expected at most {max} argument{}, got {n}",
            if max == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

fn no_kw(name: &str, args: &Args) -> PyResult<()> {
    if !args.kw.is_empty() {
        return Err(type_error(format!("{name}() takes no keyword arguments")));
    }
    Ok(())
}

fn is_number(v: &Value) -> bool {
    as_num(v).is_some()
        || matches!(v, Value::Float(_))
        || builtin_payload(v).is_some_and(|p| as_num(&p).is_some() || matches!(p, Value::Float(_)))
        || aio_interp::ops::lookup_special(v, "__add__").is_some()
}

/// `count(start=0, step=1)`.
fn count(_vm: &mut Vm, mut args: Args) -> PyResult {
    let start = args
        .take_kw("start")
        .or_else(|| args.pos.first().cloned())
        .unwrap_or(Value::Int(0));
    let step = args
        .take_kw("step")
        .or_else(|| args.pos.get(1).cloned())
        .unwrap_or(Value::Int(1));
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!(
            "count() got an unexpected keyword argument '{}'",
            k.as_str()
        )));
    }
    if args.pos.len() > 2 {
        return Err(type_error(format!(
            "count() takes at most 2 arguments ({} given)",
            args.pos.len()
        )));
    }
    if !is_number(&start) || !is_number(&step) {
        return Err(type_error("a number is required"));
    }
    Ok(make(IterState::Count { cur: start, step }))
}

/// An `islice` bound: None or an int in `0..=sys.maxsize`.
fn slice_bound(vm: &mut Vm, v: &Value, msg: &str) -> PyResult<Option<usize>> {
    match v {
        Value::None => Ok(None),
        Value::Int(_) | Value::Bool(_) | Value::Instance(_) => match vm.index_value(v) {
            Ok(n) if n >= 0 => Ok(Some(n as usize)),
            _ => Err(value_error(msg)),
        },
        _ => Err(value_error(msg)),
    }
}

/// `islice(iterable, stop)` or `islice(iterable, start, stop[, step])`.
fn islice(vm: &mut Vm, args: Args) -> PyResult {
    no_kw("islice", &args)?;
    arity("islice", &args, 2, 4)?;
    let it = vm.iter(&args.pos[0])?;
    const STOP: &str =
        "Stop argument for islice() must be None or an integer: 0 <= x <= sys.maxsize.";
    const INDICES: &str = "Indices for islice() must be None or an integer: 0 <= x <= sys.maxsize.";
    const STEP: &str = "Step for islice() must be a positive integer or None.";
    let (start, stop, step) = if args.pos.len() == 2 {
        (0, slice_bound(vm, &args.pos[1], STOP)?, 1)
    } else {
        let stop = slice_bound(vm, &args.pos[2], STOP)?;
        let start = slice_bound(vm, &args.pos[1], INDICES)?.unwrap_or(0);
        let step = match args.pos.get(3) {
            None | Some(Value::None) => 1,
            Some(v) => match slice_bound(vm, v, STEP)? {
                Some(0) | None => return Err(value_error(STEP)),
                Some(s) => s,
            },
        };
        (start, stop, step)
    };
    Ok(make(IterState::Islice {
        it,
        next: start,
        stop,
        step,
        pos: 0,
    }))
}

/// `chain(*iterables)`: each source is made an iterator only when reached.
fn chain(_vm: &mut Vm, args: Args) -> PyResult {
    no_kw("chain", &args)?;
    Ok(make(IterState::Chain {
        sources: args.pos.into_iter().collect(),
        cur: None,
    }))
}

/// `cycle(iterable)`.
fn cycle(vm: &mut Vm, args: Args) -> PyResult {
    no_kw("cycle", &args)?;
    arity("cycle", &args, 1, 1)?;
    let it = vm.iter(&args.pos[0])?;
    Ok(make(IterState::Cycle {
        it: Some(it),
        saved: Vec::new(),
        idx: 0,
    }))
}

/// `repeat(object[, times])`.
fn repeat(vm: &mut Vm, mut args: Args) -> PyResult {
    let object = match args.pos.first().cloned().or_else(|| args.take_kw("object")) {
        Some(o) => o,
        None => {
            return Err(type_error(
                "repeat() missing required argument 'object' (pos 1)",
            ))
        }
    };
    let times = args.pos.get(1).cloned().or_else(|| args.take_kw("times"));
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!(
            "repeat() got an unexpected keyword argument '{}'",
            k.as_str()
        )));
    }
    if args.pos.len() > 2 {
        return Err(type_error(format!(
            "repeat() takes at most 2 arguments ({} given)",
            args.pos.len()
        )));
    }
    let left = match times {
        None => None,
        Some(t) => Some(vm.index_value(&t)?.max(0) as usize),
    };
    Ok(make(IterState::Repeat { v: object, left }))
}

/// `filterfalse(predicate, iterable)`.
fn filterfalse(vm: &mut Vm, args: Args) -> PyResult {
    no_kw("filterfalse", &args)?;
    arity("filterfalse", &args, 2, 2)?;
    let it = vm.iter(&args.pos[1])?;
    Ok(make(IterState::Filter {
        f: args.pos[0].clone(),
        it,
        keep_true: false,
    }))
}

/// Build the `_itertools` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] = &[
        ("count", count),
        ("islice", islice),
        ("chain", chain),
        ("cycle", cycle),
        ("repeat", repeat),
        ("filterfalse", filterfalse),
    ];
    let entries = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    Ok(vm.make_native_module("_itertools", entries))
}
