//! `tuple`: construction, indexing and slicing, `index` and `count`.

use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::types::{arg, check_args, method, seq_index, slice_indices, type_name, Types};
use crate::value::Value;
use crate::vm::Vm;

/// `tuple(iterable=())`.
pub fn construct(vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        None => Ok(Value::empty_tuple()),
        Some(Value::Tuple(_)) => Ok(args.pos[0].clone()),
        Some(v) => {
            let items = vm.collect(v)?;
            // `tuple([]) is ()`, as in CPython.
            Ok(if items.is_empty() { Value::empty_tuple() } else { Value::tuple(items) })
        }
    }
}

/// The items of a tuple or list value (anything else gives one item).
pub fn to_vec_simple(v: &Value) -> Vec<Value> {
    match v {
        Value::Tuple(t) => t.items.to_vec(),
        Value::List(l) => l.to_vec(),
        other => vec![other.clone()],
    }
}

/// The `count` items from `start` every `step` of `items`: a slice
/// resolved by `types::adjust_slice`.
// `to_vec` is what clippy proposes, but it pays a guard and an index per
// item (callgrind: meteor_contest's slices 39.0 M with it, 30.9 M without).
#[allow(clippy::iter_cloned_collect)]
pub fn pick_items(items: &[Value], start: i64, step: i64, count: usize) -> Vec<Value> {
    if step == 1 {
        return items[start as usize..start as usize + count].iter().cloned().collect();
    }
    let mut out = Vec::with_capacity(count);
    let mut i = start;
    for _ in 0..count {
        out.push(items[i as usize].clone());
        i += step;
    }
    out
}

/// `t[start::step]` taking `count` items (a slice resolved by
/// `types::adjust_slice`): the tuple itself when that is all of it, as
/// CPython gives.
pub fn slice_of(t: &Rc<PyTuple>, start: i64, step: i64, count: usize) -> Value {
    if step == 1 && count == t.items.len() {
        return Value::Tuple(t.clone());
    }
    Value::tuple(pick_items(&t.items, start, step, count))
}

/// `t[i]` / `t[a:b]`.
pub fn getitem(vm: &mut Vm, t: &Rc<PyTuple>, i: &Value) -> PyResult {
    match i {
        Value::Int(n) => seq_index(*n, t.len()).map(|j| t.items[j].clone()).ok_or_else(|| index_error("tuple index out of range")),
        Value::Slice(s) => {
            let (start, _, step, count) = slice_indices(vm, s, t.items.len())?;
            Ok(slice_of(t, start, step, count))
        }
        Value::Bool(_) | Value::BigInt(_) | Value::Instance(_) => {
            let n = match i {
                Value::BigInt(_) => Err(crate::ops::index_too_big()),
                _ => vm.index_value(i).map_err(|_| type_error(format!("tuple indices must be integers or slices, not {}", type_name(i)))),
            }?;
            seq_index(n, t.len()).map(|j| t.items[j].clone()).ok_or_else(|| index_error("tuple index out of range"))
        }
        _ => Err(type_error(format!("tuple indices must be integers or slices, not {}", type_name(i)))),
    }
}

fn this(args: &Args) -> PyResult<Rc<PyTuple>> {
    match args.pos.first() {
        Some(Value::Tuple(t)) => Ok(t.clone()),
        Some(Value::Instance(i)) => match i.builtin_value() {
            Some(Value::Tuple(t)) => Ok(t),
            _ => Err(type_error("descriptor requires a 'tuple' object")),
        },
        _ => Err(type_error("descriptor requires a 'tuple' object")),
    }
}

fn index(vm: &mut Vm, args: Args) -> PyResult {
    check_args("index", &args, 1, 3)?;
    let t = this(&args)?;
    let x = &args.pos[1];
    let n = t.items.len() as i64;
    let (start, stop) = crate::types::search_range(vm, arg(&args, 1), arg(&args, 2), n)?;
    for i in start..stop {
        if vm.eq(&t.items[i as usize], x)? {
            return Ok(Value::Int(i));
        }
    }
    Err(value_error("tuple.index(x): x not in tuple"))
}

fn count(vm: &mut Vm, args: Args) -> PyResult {
    check_args("count", &args, 1, 1)?;
    let t = this(&args)?;
    let mut n = 0;
    for v in t.items.iter() {
        if vm.eq(v, &args.pos[1])? {
            n += 1;
        }
    }
    Ok(Value::Int(n))
}

fn t_len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(this(&args)?.len() as i64))
}

fn t_getitem(vm: &mut Vm, args: Args) -> PyResult {
    let t = this(&args)?;
    getitem(vm, &t, args.pos.get(1).unwrap_or(&Value::None))
}

fn t_iter(vm: &mut Vm, args: Args) -> PyResult {
    vm.iter(&Value::Tuple(this(&args)?))
}

/// Install the tuple methods.
pub fn install(t: &'static Types) {
    method(&t.tuple, "tuple", "index", index);
    method(&t.tuple, "tuple", "count", count);
    method(&t.tuple, "tuple", "__len__", t_len);
    method(&t.tuple, "tuple", "__getitem__", t_getitem);
    method(&t.tuple, "tuple", "__iter__", t_iter);
}
