//! `range`: construction, indexing, slicing, membership, `index`, `count`.

use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::types::{method, seq_index, slice_indices, type_name, Types};
use crate::value::Value;
use crate::vm::Vm;

fn int_arg(vm: &mut Vm, v: &Value) -> PyResult<i64> {
    match v {
        Value::BigInt(_) => Err(overflow_error("Python int too large to convert to C ssize_t")),
        Value::Float(_) | Value::Str(_) | Value::None => {
            Err(type_error(format!("'{}' object cannot be interpreted as an integer", type_name(v))))
        }
        _ => vm.index_value(v),
    }
}

/// `range(stop)`, `range(start, stop[, step])`.
pub fn construct(vm: &mut Vm, args: Args) -> PyResult {
    if !args.kw.is_empty() {
        return Err(type_error("range() takes no keyword arguments"));
    }
    let a = &args.pos;
    let (start, stop, step) = match a.len() {
        1 => (0, int_arg(vm, &a[0])?, 1),
        2 => (int_arg(vm, &a[0])?, int_arg(vm, &a[1])?, 1),
        3 => (int_arg(vm, &a[0])?, int_arg(vm, &a[1])?, int_arg(vm, &a[2])?),
        0 => return Err(type_error("range expected at least 1 argument, got 0")),
        n => return Err(type_error(format!("range expected at most 3 arguments, got {n}"))),
    };
    if step == 0 {
        return Err(value_error("range() arg 3 must not be zero"));
    }
    Ok(Value::Range(Rc::new(PyRange { start, stop, step })))
}

/// `r[i]` / `r[a:b:c]`.
pub fn getitem(vm: &mut Vm, r: &Rc<PyRange>, i: &Value) -> PyResult {
    match i {
        Value::Slice(s) => {
            let (start, _stop, step, count) = slice_indices(vm, s, r.len())?;
            let nstart = r.start + start * r.step;
            let nstep = r.step * step;
            let nstop = nstart + count as i64 * nstep;
            Ok(Value::Range(Rc::new(PyRange { start: nstart, stop: nstop, step: nstep })))
        }
        Value::BigInt(_) => Err(index_error("range object index out of range")),
        _ => {
            let n = vm.index_value(i).map_err(|_| type_error(format!("range indices must be integers or slices, not {}", type_name(i))))?;
            seq_index(n, r.len()).map(|j| Value::Int(r.get(j))).ok_or_else(|| index_error("range object index out of range"))
        }
    }
}

/// `x in r`.
pub fn contains(vm: &mut Vm, r: &PyRange, x: &Value) -> PyResult<bool> {
    match x {
        Value::Int(n) => Ok(range_has(r, *n)),
        Value::Bool(b) => Ok(range_has(r, b.get() as i64)),
        _ => {
            for i in 0..r.len() {
                if vm.eq(&Value::Int(r.get(i)), x)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

fn range_has(r: &PyRange, n: i64) -> bool {
    let in_bounds = if r.step > 0 { n >= r.start && n < r.stop } else { n <= r.start && n > r.stop };
    in_bounds && (n - r.start) % r.step == 0
}

fn this(args: &Args) -> PyResult<Rc<PyRange>> {
    match args.pos.first() {
        Some(Value::Range(r)) => Ok(r.clone()),
        _ => Err(type_error("descriptor requires a 'range' object")),
    }
}

fn index(_vm: &mut Vm, args: Args) -> PyResult {
    let r = this(&args)?;
    match args.pos.get(1) {
        Some(Value::Int(n)) if range_has(&r, *n) => Ok(Value::Int((n - r.start) / r.step)),
        Some(v) => Err(value_error(format!("{} is not in range", crate::types::debug_repr(v)))),
        None => Err(type_error("index() takes exactly one argument (0 given)")),
    }
}

fn count(vm: &mut Vm, args: Args) -> PyResult {
    let r = this(&args)?;
    let x = args.pos.get(1).cloned().unwrap_or(Value::None);
    Ok(Value::Int(contains(vm, &r, &x)? as i64))
}

/// `slice.indices(length)`: the start, stop and step a sequence of that
/// length would use.
fn slice_indices_method(vm: &mut Vm, args: Args) -> PyResult {
    let Some(Value::Slice(s)) = args.pos.first() else { return Err(type_error("descriptor 'indices' requires a 'slice' object")) };
    let Some(n) = args.pos.get(1) else { return Err(type_error("slice.indices() takes exactly one argument (0 given)")) };
    let n = vm.index_value(n)?;
    if n < 0 {
        return Err(crate::exceptions::value_error("length should not be negative"));
    }
    let (start, stop, step, _) = slice_indices(vm, s, n as usize)?;
    Ok(Value::tuple([Value::Int(start), Value::Int(stop), Value::Int(step)]))
}

/// Install the range methods and `slice.indices`.
pub fn install(t: &'static Types) {
    method(&t.range, "range", "index", index);
    method(&t.range, "range", "count", count);
    method(&t.slice, "slice", "indices", slice_indices_method);
}
