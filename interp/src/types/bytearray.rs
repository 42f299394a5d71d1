//! `bytearray`: a mutable byte buffer (a native object) with the bytes
//! methods shared from `bytes.rs`, item and slice assignment, the list-like
//! mutators, and CPython's refusal to resize while a memoryview exports it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::ops::{EQ, GE, GT, LE, LT, NE};
use crate::types::bytes::{byte_value, bytes_like, construct_data, from_iterable, percent_format_bytes};
use crate::types::{method, new_class, seq_index, type_name, types};
use crate::value::Value;
use crate::vm::Vm;

/// A `bytearray`.
pub struct ByteArray {
    pub b: RefCell<Vec<u8>>,
    /// Live memoryviews over this buffer: while any exists it cannot resize.
    pub exports: Cell<usize>,
}

thread_local! {
    static CLASS: Rc<Class> = make_class();
}

/// The `bytearray` class.
pub fn bytearray_class() -> Rc<Class> {
    CLASS.with(|c| c.clone())
}

impl NativeObject for ByteArray {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        bytearray_class()
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("bytearray({})", crate::numfmt::bytes_repr(&self.b.borrow())))
    }
}

/// A new bytearray value.
pub fn new(b: Vec<u8>) -> Value {
    Value::object(ByteArray { b: RefCell::new(b), exports: Cell::new(0) })
}

/// The bytearray behind `v` (itself, or the payload of a subclass instance).
pub fn get(v: &Value) -> Option<&ByteArray> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<ByteArray>(),
        _ => None,
    }
}

/// `get`, also through an instance of a subclass (which holds the value).
fn with<R>(v: &Value, f: impl FnOnce(&ByteArray) -> R) -> Option<R> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<ByteArray>().map(f),
        Value::Instance(i) => match i.builtin_value() {
            Some(Value::Object(o)) => o.as_any().downcast_ref::<ByteArray>().map(f),
            _ => None,
        },
        _ => None,
    }
}

fn this(args: &Args) -> PyResult<Value> {
    let v = args.pos.first().cloned().unwrap_or(Value::None);
    if get(&v).is_some() {
        return Ok(v);
    }
    if let Value::Instance(i) = &v {
        if let Some(p) = i.builtin_value() {
            if get(&p).is_some() {
                return Ok(p);
            }
        }
    }
    Err(type_error(format!("descriptor requires a 'bytearray' object but received a '{}'", type_name(&v))))
}

fn ba(v: &Value) -> &ByteArray {
    get(v).expect("checked by this()")
}

impl ByteArray {
    /// Refuse a change of size while a memoryview exports the buffer.
    fn resizable(&self) -> PyResult<()> {
        if self.exports.get() > 0 {
            return Err(err(&types().exc.buffer_error, "Existing exports of data: object cannot be re-sized"));
        }
        Ok(())
    }
}

fn index_of(vm: &mut Vm, i: &Value, len: usize) -> PyResult<usize> {
    let n = match i {
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => vm.index_value(i),
        _ if crate::ops::lookup_special(i, "__index__").is_some() => vm.index_value(i),
        _ => return Err(type_error(format!("bytearray indices must be integers or slices, not {}", type_name(i)))),
    }
    .map_err(|_| index_error("bytearray index out of range"))?;
    seq_index(n, len).ok_or_else(|| index_error("bytearray index out of range"))
}

fn getitem(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let i = args.pos.get(1).cloned().unwrap_or(Value::None);
    match &i {
        Value::Slice(sl) => {
            let data = ba(&s).b.borrow().clone();
            Ok(new(crate::types::bytes::slice(vm, &data, sl)?))
        }
        _ => {
            let len = ba(&s).b.borrow().len();
            let j = index_of(vm, &i, len)?;
            let x = ba(&s).b.borrow().get(j).copied().unwrap_or(0);
            Ok(Value::Int(x as i64))
        }
    }
}

/// The bytes a slice assignment puts in.
fn assigned_bytes(vm: &mut Vm, v: &Value) -> PyResult<Vec<u8>> {
    if let Some(b) = bytes_like(v) {
        return Ok(b.into_vec());
    }
    if matches!(v, Value::Int(_) | Value::Bool(_) | Value::BigInt(_) | Value::Str(_)) {
        return Err(type_error("can assign only bytes, buffers, or iterables of ints in range(0, 256)"));
    }
    from_iterable(vm, v, "bytearray")
}

/// `data[slice] = new`, checking sizes as CPython does; `Ok(true)` when
/// the length changed.
pub fn assign_slice(vm: &mut Vm, data: &mut Vec<u8>, sl: &PySlice, new: &[u8]) -> PyResult<bool> {
    let (start, stop, step, count) = crate::types::slice_indices(vm, sl, data.len())?;
    if step == 1 {
        let s = start as usize;
        let e = (stop.max(start)) as usize;
        let resized = e - s != new.len();
        data.splice(s..e, new.iter().copied());
        return Ok(resized);
    }
    if new.len() != count {
        return Err(value_error(format!("attempt to assign bytes of size {} to extended slice of size {count}", new.len())));
    }
    for (k, &b) in new.iter().enumerate() {
        data[(start + k as i64 * step) as usize] = b;
    }
    Ok(false)
}

fn setitem(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let (i, v) = (args.pos.get(1).cloned().unwrap_or(Value::None), args.pos.get(2).cloned().unwrap_or(Value::None));
    let me = ba(&s);
    match &i {
        Value::Slice(sl) => {
            let new = assigned_bytes(vm, &v)?;
            let mut data = me.b.borrow().clone();
            let (_, _, step, count) = crate::types::slice_indices(vm, sl, data.len())?;
            if step == 1 && count != new.len() {
                me.resizable()?;
            }
            assign_slice(vm, &mut data, sl, &new)?;
            *me.b.borrow_mut() = data;
        }
        _ => {
            let len = me.b.borrow().len();
            let j = index_of(vm, &i, len)?;
            let b = byte_value(vm, &v)?;
            if let Some(x) = me.b.borrow_mut().get_mut(j) {
                *x = b;
            }
        }
    }
    Ok(Value::None)
}

fn delitem(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let i = args.pos.get(1).cloned().unwrap_or(Value::None);
    let me = ba(&s);
    me.resizable()?;
    let len = me.b.borrow().len();
    match &i {
        Value::Slice(sl) => {
            let (start, _, step, count) = crate::types::slice_indices(vm, sl, len)?;
            let drop: std::collections::HashSet<usize> = (0..count).map(|k| (start + k as i64 * step) as usize).collect();
            let kept: Vec<u8> = me.b.borrow().iter().enumerate().filter(|(k, _)| !drop.contains(k)).map(|(_, &c)| c).collect();
            *me.b.borrow_mut() = kept;
        }
        _ => {
            let j = index_of(vm, &i, len)?;
            me.b.borrow_mut().remove(j);
        }
    }
    Ok(Value::None)
}

fn append(vm: &mut Vm, args: Args) -> PyResult {
    crate::types::check_args("bytearray.append", &args, 1, 1)?;
    let s = this(&args)?;
    let b = byte_value(vm, &args.pos[1])?;
    ba(&s).resizable()?;
    ba(&s).b.borrow_mut().push(b);
    Ok(Value::None)
}

fn extend(vm: &mut Vm, args: Args) -> PyResult {
    crate::types::check_args("bytearray.extend", &args, 1, 1)?;
    let s = this(&args)?;
    let v = &args.pos[1];
    let add = match bytes_like(v) {
        Some(b) => b.into_vec(),
        None => {
            if matches!(v, Value::Int(_) | Value::Float(_) | Value::None | Value::Bool(_) | Value::BigInt(_)) {
                return Err(type_error(format!("can't extend bytearray with {}", type_name(v))));
            }
            let items = vm.collect(v)?;
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                out.push(byte_value(vm, &it)?);
            }
            out
        }
    };
    ba(&s).resizable()?;
    ba(&s).b.borrow_mut().extend(add);
    Ok(Value::None)
}

fn insert(vm: &mut Vm, args: Args) -> PyResult {
    crate::types::check_args("insert", &args, 2, 2)?;
    let s = this(&args)?;
    let i = vm.index_value(&args.pos[1])?;
    let b = byte_value(vm, &args.pos[2])?;
    let me = ba(&s);
    me.resizable()?;
    let len = me.b.borrow().len() as i64;
    let at = if i < 0 { (i + len).max(0) } else { i.min(len) };
    me.b.borrow_mut().insert(at as usize, b);
    Ok(Value::None)
}

fn pop(vm: &mut Vm, args: Args) -> PyResult {
    crate::types::check_args("pop", &args, 0, 1)?;
    let s = this(&args)?;
    let me = ba(&s);
    let len = me.b.borrow().len();
    if len == 0 {
        return Err(index_error("pop from empty bytearray"));
    }
    let i = match args.pos.get(1) {
        None => -1,
        Some(v) => vm.index_value(v)?,
    };
    let j = seq_index(i, len).ok_or_else(|| index_error("pop index out of range"))?;
    me.resizable()?;
    let x = me.b.borrow_mut().remove(j);
    Ok(Value::Int(x as i64))
}

fn remove(vm: &mut Vm, args: Args) -> PyResult {
    crate::types::check_args("bytearray.remove", &args, 1, 1)?;
    let s = this(&args)?;
    let b = byte_value(vm, &args.pos[1])?;
    let me = ba(&s);
    let pos = me.b.borrow().iter().position(|&c| c == b).ok_or_else(|| value_error("value not found in bytearray"))?;
    me.resizable()?;
    me.b.borrow_mut().remove(pos);
    Ok(Value::None)
}

fn clear(_vm: &mut Vm, args: Args) -> PyResult {
    crate::types::check_args("bytearray.clear", &args, 0, 0)?;
    let s = this(&args)?;
    ba(&s).resizable()?;
    ba(&s).b.borrow_mut().clear();
    Ok(Value::None)
}

fn copy(_vm: &mut Vm, args: Args) -> PyResult {
    crate::types::check_args("bytearray.copy", &args, 0, 0)?;
    let s = this(&args)?;
    let data = ba(&s).b.borrow().clone();
    Ok(new(data))
}

fn reverse(_vm: &mut Vm, args: Args) -> PyResult {
    crate::types::check_args("bytearray.reverse", &args, 0, 0)?;
    let s = this(&args)?;
    ba(&s).b.borrow_mut().reverse();
    Ok(Value::None)
}

fn len(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let n = ba(&s).b.borrow().len();
    Ok(Value::Int(n as i64))
}

fn alloc(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let n = ba(&s).b.borrow().len() + 1;
    Ok(Value::Int(n as i64))
}

fn iter(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let items: Vec<Value> = ba(&s).b.borrow().iter().map(|&c| Value::Int(c as i64)).collect();
    vm.iter(&Value::list(items))
}

fn contains(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let data = ba(&s).b.borrow().clone();
    Ok(Value::bool(crate::types::bytes::contains_in(vm, &data, args.pos.get(1).unwrap_or(&Value::None))?))
}

fn compare(args: &Args, op: u8) -> PyResult {
    let s = this(args)?;
    let Some(other) = args.pos.get(1).and_then(bytes_like) else {
        return Ok(Value::NotImplemented);
    };
    let o = ba(&s).b.borrow().as_slice().cmp(&other[..]);
    Ok(Value::bool(match op {
        EQ => o.is_eq(),
        NE => o.is_ne(),
        LT => o.is_lt(),
        LE => o.is_le(),
        GT => o.is_gt(),
        _ => o.is_ge(),
    }))
}

fn add(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let o = args.pos.get(1).unwrap_or(&Value::None);
    let Some(other) = bytes_like(o) else {
        return Err(type_error(format!("can't concat {} to bytearray", type_name(o))));
    };
    let mut v = ba(&s).b.borrow().clone();
    v.extend_from_slice(&other);
    Ok(new(v))
}

fn iadd(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let o = args.pos.get(1).unwrap_or(&Value::None);
    let Some(other) = bytes_like(o) else {
        return Err(type_error(format!("can't concat {} to bytearray", type_name(o))));
    };
    if !other.is_empty() {
        ba(&s).resizable()?;
    }
    ba(&s).b.borrow_mut().extend_from_slice(&other);
    Ok(args.pos[0].clone())
}

fn repeat_count(vm: &mut Vm, v: &Value) -> PyResult<Option<usize>> {
    if !matches!(v, Value::Int(_) | Value::Bool(_) | Value::BigInt(_)) && crate::ops::lookup_special(v, "__index__").is_none() {
        return Ok(None);
    }
    let n = vm.index_value(v)?;
    Ok(Some(n.max(0) as usize))
}

fn mul(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let Some(n) = repeat_count(vm, args.pos.get(1).unwrap_or(&Value::None))? else {
        return Ok(Value::NotImplemented);
    };
    let data = ba(&s).b.borrow().clone();
    crate::ops::check_bytes(data.len().saturating_mul(n))?;
    Ok(new(data.repeat(n)))
}

fn imul(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let Some(n) = repeat_count(vm, args.pos.get(1).unwrap_or(&Value::None))? else {
        return Ok(Value::NotImplemented);
    };
    let me = ba(&s);
    if n != 1 {
        me.resizable()?;
    }
    let data = me.b.borrow().clone();
    crate::ops::check_bytes(data.len().saturating_mul(n))?;
    *me.b.borrow_mut() = data.repeat(n);
    Ok(args.pos[0].clone())
}

fn modulo(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let data = ba(&s).b.borrow().clone();
    Ok(new(percent_format_bytes(vm, &data, args.pos.get(1).unwrap_or(&Value::None))?))
}

fn repr(_vm: &mut Vm, args: Args) -> PyResult {
    let v = args.pos.first().cloned().unwrap_or(Value::None);
    let name = crate::types::type_of(&v).name().as_str().to_string();
    let body = with(&v, |a| crate::numfmt::bytes_repr(&a.b.borrow())).unwrap_or_default();
    Ok(Value::string(format!("{name}({body})")))
}

fn ba_new(vm: &mut Vm, mut args: Args) -> PyResult {
    let cls = match args.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => return Err(type_error("bytearray.__new__(X): X is not a type object")),
    };
    args.pos.remove(0);
    let first = args.pos.first().cloned();
    let data = match construct_data(vm, args, "bytearray")? {
        Some(d) => d,
        None => match first.as_ref().and_then(bytes_like) {
            Some(b) => b.into_vec(),
            None => vec![],
        },
    };
    let obj = new(data);
    if Rc::ptr_eq(&cls, &bytearray_class()) {
        return Ok(obj);
    }
    Ok(Value::Instance(Instance::new(cls, Payload::Builtin(RefCell::new(obj)))))
}

fn make_class() -> Rc<Class> {
    let c = new_class("bytearray", &[types().object.clone()], Layout::Builtin, None);
    crate::types::bytes::install_shared(&c, "bytearray");
    let ms: &[(&str, NativeFnPtr)] = &[
        ("append", append),
        ("extend", extend),
        ("insert", insert),
        ("pop", pop),
        ("remove", remove),
        ("clear", clear),
        ("copy", copy),
        ("reverse", reverse),
        ("__alloc__", alloc),
        ("__len__", len),
        ("__getitem__", getitem),
        ("__setitem__", setitem),
        ("__delitem__", delitem),
        ("__iter__", iter),
        ("__contains__", contains),
        ("__eq__", |_vm, a| compare(&a, EQ)),
        ("__ne__", |_vm, a| compare(&a, NE)),
        ("__lt__", |_vm, a| compare(&a, LT)),
        ("__le__", |_vm, a| compare(&a, LE)),
        ("__gt__", |_vm, a| compare(&a, GT)),
        ("__ge__", |_vm, a| compare(&a, GE)),
        ("__add__", add),
        ("__iadd__", iadd),
        ("__mul__", mul),
        ("__rmul__", mul),
        ("__imul__", imul),
        ("__mod__", modulo),
        ("__repr__", repr),
        ("__str__", repr),
    ];
    for (n, f) in ms {
        method(&c, "bytearray", n, *f);
    }
    c.dict.set_str("__hash__", Value::None);
    c.dict.set_str("__new__", crate::attr::StaticMethod::wrap(crate::types::native_fn("__new__", ba_new)));
    c
}
