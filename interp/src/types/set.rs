//! `set` and `frozenset`: hashed membership that may call user dunders,
//! the set methods and operators, with CPython's result orders.

use crate::value::Flag;
use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::ops::{EQ, GE, GT, LE, LT, NE};
use crate::set::{Added, SetData};
use crate::types::{check_count, method, method_fast, type_name, Types};
use crate::value::Value;
use crate::vm::Vm;

impl Vm {
    fn key_eq(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        match crate::types::dict::simple_eq(a, b) {
            Some(r) => Ok(r),
            None => self.eq(a, b),
        }
    }

    /// `s.add(v)`; true when it was new.
    pub fn set_add(&mut self, s: &PySet, v: Value) -> PyResult<bool> {
        let h = self.hash(&v)?;
        let r = s.s.borrow_mut().add(h, v, &mut |a, b| self.key_eq(a, b))?;
        Ok(r == Added::New)
    }

    /// `v in s`.
    pub fn set_contains(&mut self, s: &PySet, v: &Value) -> PyResult<bool> {
        let h = match self.hash(v) {
            Ok(h) => h,
            Err(e) => return self.as_frozenset(v, e, |vm, f| vm.set_contains(s, f)),
        };
        Ok(s.s.borrow().find(h, v, &mut |a, b| self.key_eq(a, b))?.is_some())
    }

    /// `s.discard(v)`; true when it was there.
    pub fn set_discard(&mut self, s: &PySet, v: &Value) -> PyResult<bool> {
        let h = match self.hash(v) {
            Ok(h) => h,
            Err(e) => return self.as_frozenset(v, e, |vm, f| vm.set_discard(s, f)),
        };
        s.s.borrow_mut().discard(h, v, &mut |a, b| self.key_eq(a, b))
    }

    /// A set `v` that could not be hashed (`{1} in some_set`,
    /// `s.discard({1})`) is looked for as the equal frozenset, by `f`;
    /// anything else raises `e`.
    fn as_frozenset(&mut self, v: &Value, e: PyErr, f: impl FnOnce(&mut Vm, &Value) -> PyResult<bool>) -> PyResult<bool> {
        match v {
            Value::Set(inner) => f(self, &Value::FrozenSet(inner.clone())),
            _ => Err(e),
        }
    }
}

/// A new set from values.
pub fn set_from(vm: &mut Vm, items: Vec<Value>) -> PyResult<Value> {
    let s = Rc::new(PySet::default());
    for it in items {
        vm.set_add(&s, it)?;
    }
    Ok(Value::Set(s))
}

/// Fill `target` from any iterable, as CPython's `set_update_internal` does.
pub fn update_from(vm: &mut Vm, target: &PySet, other: &Value) -> PyResult<()> {
    match other {
        Value::Set(o) | Value::FrozenSet(o) => {
            if std::ptr::eq(target, &**o) {
                return Ok(());
            }
            if target.s.borrow().is_empty() {
                // Into an empty set no keys are compared, so no .aio code
                // can run while `o` is borrowed: no copy of its table.
                target.s.borrow_mut().merge(&o.s.borrow(), &mut |_, _| Ok(false))?;
            } else {
                let od = o.s.borrow().clone();
                target.s.borrow_mut().merge(&od, &mut |a, b| vm.key_eq(a, b))?;
            }
        }
        Value::Dict(d) => {
            let keys = d.keys();
            target.s.borrow_mut().reserve_for(keys.len());
            for k in keys {
                vm.set_add(target, k)?;
            }
        }
        _ => {
            for x in vm.collect(other)? {
                vm.set_add(target, x)?;
            }
        }
    }
    Ok(())
}

/// `set(iterable)` / `frozenset(iterable)`.
pub fn construct(vm: &mut Vm, args: Args, frozen: bool) -> PyResult {
    let s = Rc::new(PySet::default());
    if let Some(src) = args.pos.first() {
        if frozen {
            if let Value::FrozenSet(_) = src {
                return Ok(src.clone());
            }
        }
        update_from(vm, &s, src)?;
    }
    Ok(if frozen { Value::FrozenSet(s) } else { Value::Set(s) })
}

fn data(v: &Value) -> Option<&Rc<PySet>> {
    match v {
        Value::Set(s) | Value::FrozenSet(s) => Some(s),
        _ => None,
    }
}

fn copy_set(s: &PySet) -> PyResult<Rc<PySet>> {
    Ok(Rc::new(PySet::new(SetData::copy_of(&s.s.borrow()))))
}

fn wrap(like: &Value, s: Rc<PySet>) -> Value {
    match like {
        Value::FrozenSet(_) => Value::FrozenSet(s),
        _ => Value::Set(s),
    }
}

/// The keys of `from` that `other` holds (`keep == true`) or lacks, in
/// `from`'s order with their stored hashes, when that takes no .aio code.
fn select_plain(from: &SetData, other: &SetData, keep: bool) -> Option<SetData> {
    let mut out = SetData::new();
    for (h, k) in from.entries() {
        if other.contains_sure(h, k)? == keep {
            // Keys of one set are distinct: nothing to compare.
            out.add_distinct(h, k.clone());
        }
    }
    Some(out)
}

/// Every key of `p` is in `q`, when telling takes no .aio code.
fn subset_plain(p: &SetData, q: &SetData) -> Option<bool> {
    for (h, k) in p.entries() {
        if !q.contains_sure(h, k)? {
            return Some(false);
        }
    }
    Some(true)
}

/// `p <= q` when telling takes no .aio code.
fn subset_sure(p: &PySet, q: &PySet) -> Option<bool> {
    if p.len() > q.len() {
        return Some(false);
    }
    subset_plain(&p.s.borrow(), &q.s.borrow())
}

/// `set_compare` of two sets when no .aio code is needed to tell (the
/// keys met compare as ints, strs... do), `None` otherwise. Nothing nests:
/// a key that is itself a set leaves the answer to `set_compare`.
pub fn set_compare_plain(op: u8, a: &Value, b: &Value) -> Option<bool> {
    let (x, y) = (data(a)?, data(b)?);
    Some(match op {
        EQ => x.len() == y.len() && subset_sure(x, y)?,
        NE => !(x.len() == y.len() && subset_sure(x, y)?),
        LE => subset_sure(x, y)?,
        LT => x.len() < y.len() && subset_sure(x, y)?,
        GE => subset_sure(y, x)?,
        GT => x.len() > y.len() && subset_sure(y, x)?,
        _ => return None,
    })
}

fn intersection(vm: &mut Vm, a: &PySet, b: &Value) -> PyResult<Rc<PySet>> {
    if let Value::Set(o) | Value::FrozenSet(o) = b {
        let (small, big) = if o.len() > a.len() { (a, &**o) } else { (&**o, a) };
        if let Some(d) = select_plain(&small.s.borrow(), &big.s.borrow(), true) {
            return Ok(Rc::new(PySet::new(d)));
        }
    }
    let result = Rc::new(PySet::default());
    match b {
        Value::Set(o) | Value::FrozenSet(o) => {
            let (small, big) = if o.len() > a.len() {
                (a.s.borrow().clone(), o.clone())
            } else {
                (o.s.borrow().clone(), Rc::new(PySet::new(a.s.borrow().clone())))
            };
            for (_, k) in small.entries() {
                if vm.set_contains(&big, k)? {
                    vm.set_add(&result, k.clone())?;
                }
            }
        }
        _ => {
            for x in vm.collect(b)? {
                if vm.set_contains(a, &x)? {
                    vm.set_add(&result, x)?;
                }
            }
        }
    }
    Ok(result)
}

fn difference(vm: &mut Vm, a: &PySet, b: &Value) -> PyResult<Rc<PySet>> {
    let result = Rc::new(PySet::default());
    let other: Rc<PySet> = match b {
        Value::Set(o) | Value::FrozenSet(o) => o.clone(),
        _ => {
            let s = Rc::new(PySet::default());
            update_from(vm, &s, b)?;
            s
        }
    };
    if (a.len() >> 2) > other.len() {
        let r = copy_set(a)?;
        // The stored hashes serve: no key is hashed again. `r` is new, so
        // no code can reach it while `other` is borrowed.
        let done = {
            let mut rd = r.s.borrow_mut();
            other.s.borrow().entries().take_while(|(h, k)| rd.discard_sure(*h, k).is_some()).count()
        };
        if done < other.len() {
            // A key's `__eq__` is the program's: the rest of the keys copied
            // out first, as that code may change `other`.
            let keys: Vec<(i64, Value)> = other.s.borrow().entries().skip(done).map(|(h, k)| (h, k.clone())).collect();
            for (h, k) in keys {
                r.s.borrow_mut().discard(h, &k, &mut |a, b| vm.key_eq(a, b))?;
            }
        }
        r.s.borrow_mut().shrink_after_removals();
        return Ok(r);
    }
    if let Some(d) = select_plain(&a.s.borrow(), &other.s.borrow(), false) {
        return Ok(Rc::new(PySet::new(d)));
    }
    let entries: Vec<Value> = a.items();
    for k in entries {
        if !vm.set_contains(&other, &k)? {
            vm.set_add(&result, k)?;
        }
    }
    Ok(result)
}

fn symmetric_difference_update(vm: &mut Vm, target: &PySet, other: &Value) -> PyResult<()> {
    let items = match other {
        Value::Set(o) | Value::FrozenSet(o) => o.items(),
        _ => {
            let s = Rc::new(PySet::default());
            update_from(vm, &s, other)?;
            s.items()
        }
    };
    for k in items {
        if !vm.set_discard(target, &k)? {
            vm.set_add(target, k)?;
        }
    }
    Ok(())
}

/// `a | b`, `a & b`, `a - b`, `a ^ b` (and the in-place forms).
pub fn set_binop(vm: &mut Vm, op: u8, inplace: bool, a: &Value, b: &Value) -> PyResult<Value> {
    let (Some(x), Some(_)) = (data(a), data(b)) else {
        return Err(unsupported_operands(crate::ops::binop_symbol(op), a, b));
    };
    let x = x.clone();
    if inplace && matches!(a, Value::Set(_)) {
        match op {
            crate::ops::OR => update_from(vm, &x, b)?,
            crate::ops::AND => {
                let r = intersection(vm, &x, b)?;
                let d = std::mem::take(&mut *r.s.borrow_mut());
                *x.s.borrow_mut() = d;
            }
            crate::ops::SUB => {
                let items = vm.collect(b)?;
                for k in items {
                    vm.set_discard(&x, &k)?;
                }
                x.s.borrow_mut().shrink_after_removals();
            }
            _ => symmetric_difference_update(vm, &x, b)?,
        }
        return Ok(a.clone());
    }
    let r = match op {
        crate::ops::OR => {
            let r = copy_set(&x)?;
            update_from(vm, &r, b)?;
            r
        }
        crate::ops::AND => intersection(vm, &x, b)?,
        crate::ops::SUB => difference(vm, &x, b)?,
        _ => {
            let r = copy_set(data(b).expect("set"))?;
            symmetric_difference_update(vm, &r, a)?;
            r
        }
    };
    Ok(wrap(a, r))
}

/// Set comparisons: equality and the subset/superset orders.
pub fn set_compare(vm: &mut Vm, op: u8, a: &Value, b: &Value) -> PyResult<bool> {
    let (Some(x), Some(y)) = (data(a), data(b)) else {
        return Err(type_error(format!(
            "'{}' not supported between instances of '{}' and '{}'",
            crate::ops::cmpop_symbol(op),
            type_name(a),
            type_name(b)
        )));
    };
    let subset = |vm: &mut Vm, p: &PySet, q: &PySet| -> PyResult<bool> {
        if p.len() > q.len() {
            return Ok(false);
        }
        if let Some(r) = subset_plain(&p.s.borrow(), &q.s.borrow()) {
            return Ok(r);
        }
        for k in p.items() {
            if !vm.set_contains(q, &k)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    Ok(match op {
        EQ => x.len() == y.len() && subset(vm, x, y)?,
        NE => !(x.len() == y.len() && subset(vm, x, y)?),
        LE => subset(vm, x, y)?,
        LT => x.len() < y.len() && subset(vm, x, y)?,
        GE => subset(vm, y, x)?,
        GT => x.len() > y.len() && subset(vm, y, x)?,
        _ => false,
    })
}

fn this(args: &[Value]) -> PyResult<(Value, Rc<PySet>)> {
    match args.first() {
        Some(v @ (Value::Set(s) | Value::FrozenSet(s))) => Ok((v.clone(), s.clone())),
        Some(Value::Instance(i)) => match i.builtin_value() {
            Some(v @ (Value::Set(_) | Value::FrozenSet(_))) => {
                let s = data(&v).expect("set").clone();
                Ok((v, s))
            }
            _ => Err(type_error("descriptor requires a 'set' object")),
        },
        _ => Err(type_error("descriptor requires a 'set' object")),
    }
}

/// The set `s.name(x)` is called on, and its one argument `x`.
fn this_and_one<'a>(name: &str, args: &'a [Value]) -> PyResult<(Rc<PySet>, &'a Value)> {
    let (_, s) = this(args)?;
    check_count(name, args.len() - 1, 1, 1)?;
    Ok((s, &args[1]))
}
fn add(vm: &mut Vm, args: &[Value]) -> PyResult {
    let (s, x) = this_and_one("set.add", args)?;
    vm.set_add(&s, x.clone())?;
    Ok(Value::None)
}
fn discard(vm: &mut Vm, args: &[Value]) -> PyResult {
    let (s, x) = this_and_one("set.discard", args)?;
    vm.set_discard(&s, x)?;
    Ok(Value::None)
}
fn remove(vm: &mut Vm, args: &[Value]) -> PyResult {
    let (s, k) = this_and_one("set.remove", args)?;
    if !vm.set_discard(&s, k)? {
        return Err(key_error(k.clone()));
    }
    Ok(Value::None)
}
fn pop(_vm: &mut Vm, args: Args) -> PyResult {
    let (_, s) = this(&args.pos)?;
    let r = s.s.borrow_mut().pop();
    r.ok_or_else(|| key_error(Value::str("pop from an empty set")))
}
fn clear(_vm: &mut Vm, args: Args) -> PyResult {
    let (_, s) = this(&args.pos)?;
    s.s.borrow_mut().clear();
    Ok(Value::None)
}
fn copy(_vm: &mut Vm, args: Args) -> PyResult {
    let (v, s) = this(&args.pos)?;
    Ok(wrap(&v, copy_set(&s)?))
}
/// `set.__init__(self, iterable=())`: what a subclass's instances are
/// filled by (a plain `set(...)` is made whole by its constructor).
fn init(vm: &mut Vm, args: Args) -> PyResult {
    let (_, s) = this(&args.pos)?;
    if !args.kw.is_empty() {
        return Err(type_error("set() takes no keyword arguments"));
    }
    if args.pos.len() > 2 {
        let name = crate::types::type_name(&args.pos[0]);
        return Err(type_error(format!("{name} expected at most 1 argument, got {}", args.pos.len() - 1)));
    }
    s.s.borrow_mut().clear();
    if let Some(it) = args.pos.get(1) {
        update_from(vm, &s, it)?;
    }
    Ok(Value::None)
}

fn update(vm: &mut Vm, args: Args) -> PyResult {
    let (_, s) = this(&args.pos)?;
    for o in &args.pos[1..] {
        update_from(vm, &s, o)?;
    }
    Ok(Value::None)
}
fn union(vm: &mut Vm, args: Args) -> PyResult {
    let (v, s) = this(&args.pos)?;
    let r = copy_set(&s)?;
    for o in &args.pos[1..] {
        update_from(vm, &r, o)?;
    }
    Ok(wrap(&v, r))
}
fn intersection_m(vm: &mut Vm, args: Args) -> PyResult {
    let (v, s) = this(&args.pos)?;
    let mut r = copy_set(&s)?;
    for o in &args.pos[1..] {
        r = intersection(vm, &r, o)?;
    }
    Ok(wrap(&v, r))
}
fn difference_m(vm: &mut Vm, args: Args) -> PyResult {
    let (v, s) = this(&args.pos)?;
    let mut r = copy_set(&s)?;
    for o in &args.pos[1..] {
        r = difference(vm, &r, o)?;
    }
    Ok(wrap(&v, r))
}
fn symmetric_difference(vm: &mut Vm, args: Args) -> PyResult {
    let (v, s) = this(&args.pos)?;
    let other = args.pos.get(1).cloned().unwrap_or(Value::None);
    let r = Rc::new(PySet::default());
    update_from(vm, &r, &other)?;
    symmetric_difference_update(vm, &r, &Value::Set(s))?;
    Ok(wrap(&v, r))
}
fn intersection_update(vm: &mut Vm, args: Args) -> PyResult {
    let (_, s) = this(&args.pos)?;
    for o in &args.pos[1..] {
        let r = intersection(vm, &s, o)?;
        let d = std::mem::take(&mut *r.s.borrow_mut());
        *s.s.borrow_mut() = d;
    }
    Ok(Value::None)
}
fn difference_update(vm: &mut Vm, args: Args) -> PyResult {
    let (_, s) = this(&args.pos)?;
    for o in &args.pos[1..] {
        for k in vm.collect(o)? {
            vm.set_discard(&s, &k)?;
        }
    }
    s.s.borrow_mut().shrink_after_removals();
    Ok(Value::None)
}
fn sym_diff_update(vm: &mut Vm, args: Args) -> PyResult {
    let (_, s) = this(&args.pos)?;
    symmetric_difference_update(vm, &s, args.pos.get(1).unwrap_or(&Value::None))?;
    Ok(Value::None)
}
fn as_set(vm: &mut Vm, v: &Value) -> PyResult<Value> {
    match v {
        Value::Set(_) | Value::FrozenSet(_) => Ok(v.clone()),
        _ => {
            let items = vm.collect(v)?;
            set_from(vm, items)
        }
    }
}
fn issubset(vm: &mut Vm, args: Args) -> PyResult {
    let (v, _) = this(&args.pos)?;
    let o = as_set(vm, args.pos.get(1).unwrap_or(&Value::None))?;
    Ok(Value::bool(set_compare(vm, LE, &v, &o)?))
}
fn issuperset(vm: &mut Vm, args: Args) -> PyResult {
    let (v, _) = this(&args.pos)?;
    let o = as_set(vm, args.pos.get(1).unwrap_or(&Value::None))?;
    Ok(Value::bool(set_compare(vm, GE, &v, &o)?))
}
fn isdisjoint(vm: &mut Vm, args: Args) -> PyResult {
    let (_, s) = this(&args.pos)?;
    for k in vm.collect(args.pos.get(1).unwrap_or(&Value::None))? {
        if vm.set_contains(&s, &k)? {
            return Ok(Value::Bool(Flag::FALSE));
        }
    }
    Ok(Value::Bool(Flag::TRUE))
}
fn s_len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(this(&args.pos)?.1.len() as i64))
}
fn s_contains(vm: &mut Vm, args: Args) -> PyResult {
    let (_, s) = this(&args.pos)?;
    Ok(Value::bool(vm.set_contains(&s, args.pos.get(1).unwrap_or(&Value::None))?))
}
fn s_iter(vm: &mut Vm, args: Args) -> PyResult {
    let (v, _) = this(&args.pos)?;
    vm.iter(&v)
}

/// Install the set and frozenset methods.
pub fn install(t: &'static Types) {
    let shared: &[(&str, NativeFnPtr)] = &[
        ("copy", copy),
        ("union", union),
        ("intersection", intersection_m),
        ("difference", difference_m),
        ("symmetric_difference", symmetric_difference),
        ("issubset", issubset),
        ("issuperset", issuperset),
        ("isdisjoint", isdisjoint),
        ("__len__", s_len),
        ("__contains__", s_contains),
        ("__iter__", s_iter),
    ];
    let mutating: &[(&str, NativeFnPtr)] = &[
        ("__init__", init),
        ("pop", pop),
        ("clear", clear),
        ("update", update),
        ("intersection_update", intersection_update),
        ("difference_update", difference_update),
        ("symmetric_difference_update", sym_diff_update),
    ];
    for (name, f) in shared {
        method(&t.set, "set", name, *f);
        method(&t.frozenset, "frozenset", name, *f);
    }
    for (name, f) in mutating {
        method(&t.set, "set", name, *f);
    }
    let fast: &[(&str, FastFnPtr)] = &[("add", add), ("discard", discard), ("remove", remove)];
    for (name, f) in fast {
        method_fast(&t.set, "set", name, *f);
    }
}
