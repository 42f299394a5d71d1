//! `dict`: hashed lookups that may call user `__hash__`/`__eq__`, the dict
//! methods, and the live `keys()`/`values()`/`items()` views.

use crate::value::Flag;
use std::rc::Rc;

use smallvec::SmallVec;

use crate::exceptions::*;
use crate::iter::{DictIterKind, IterState};
use crate::object::*;
use crate::ops::{as_num, num_cmp};
use crate::types::{check_count, class_function, method, method_fast, type_name, types, Types};
use crate::value::Value;
use crate::vm::Vm;

/// Equality of two keys when it needs no .aio code; `None` otherwise.
pub fn simple_eq(a: &Value, b: &Value) -> Option<bool> {
    simple_eq_within(a, b, SIMPLE_EQ_DEPTH)
}

/// How deep in nested tuples `simple_eq` looks before it leaves the rest to
/// the VM, which counts each level against the recursion limit.
const SIMPLE_EQ_DEPTH: u32 = 32;

fn simple_eq_within(a: &Value, b: &Value, depth: u32) -> Option<bool> {
    if a.is(b) {
        return Some(true);
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.as_str() == y.as_str()),
        (Value::Int(x), Value::Int(y)) => Some(x == y),
        (Value::Bytes(x), Value::Bytes(y)) => Some(x.b == y.b),
        (Value::Tuple(x), Value::Tuple(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            if depth == 0 {
                return None;
            }
            for (p, q) in x.items.iter().zip(y.items.iter()) {
                // The items most tuple keys hold compared here, with no
                // call per item.
                let same = match (p, q) {
                    (Value::Str(s), Value::Str(t)) => Rc::ptr_eq(s, t) || s.as_str() == t.as_str(),
                    (Value::Bytes(s), Value::Bytes(t)) => Rc::ptr_eq(s, t) || s.b == t.b,
                    (Value::Int(s), Value::Int(t)) => s == t,
                    _ => simple_eq_within(p, q, depth - 1)?,
                };
                if !same {
                    return Some(false);
                }
            }
            Some(true)
        }
        (Value::Instance(i), _) | (_, Value::Instance(i)) => {
            if let (Some(x), Some(y)) = (plain_tuple(a), plain_tuple(b)) {
                // Namedtuples: compared as their tuples, as their inherited
                // `__eq__` does.
                return simple_eq_within(&x, &y, depth.checked_sub(1)?);
            }
            // A user `__eq__`, or the builtin value of a subclass instance
            // (a namedtuple equals the plain tuple), needs the VM. The
            // class's flag says at once that it has one of its own.
            if i.class().flags.get() & crate::object::CLASS_HAS_EQ != 0
                || crate::ops::lookup_special_in(&i.class(), "__eq__").is_some()
                || crate::ops::builtin_payload(a).is_some()
                || crate::ops::builtin_payload(b).is_some()
            {
                None
            } else {
                Some(false)
            }
        }
        (Value::FrozenSet(_), Value::FrozenSet(_) | Value::Set(_)) => None,
        // A class whose metaclass may define `__eq__`.
        (Value::Class(c), _) | (_, Value::Class(c)) if c.metaclass.borrow().is_some() => None,
        (Value::Object(o), _) | (_, Value::Object(o)) => {
            // A native type with its own `__eq__` (weak references) compares by value.
            if crate::ops::lookup_special_in(&o.class(), "__eq__").is_some() {
                None
            } else {
                Some(false)
            }
        }
        _ => match (as_num(a), as_num(b)) {
            (Some(x), Some(y)) => Some(num_cmp(&x, &y) == Some(std::cmp::Ordering::Equal)),
            _ => Some(false),
        },
    }
}

/// `v` as a tuple when its equality is the tuple's: a tuple, or an
/// instance of a subclass of tuple that defines no `__eq__`/`__hash__`.
fn plain_tuple(v: &Value) -> Option<Value> {
    match v {
        Value::Tuple(_) => Some(v.clone()),
        Value::Instance(i) if i.class().flags.get() & crate::object::CLASS_HASH_OR_EQ == 0 => {
            i.builtin_value().filter(|p| matches!(p, Value::Tuple(_)))
        }
        _ => None,
    }
}

impl Vm {
    fn dict_find(&mut self, d: &PyDict, key: &Value, hash: i64) -> PyResult<Option<usize>> {
        let data = d.d.borrow();
        let mut need_vm = false;
        let found = data.find(hash, key, |a, b| match simple_eq(a, b) {
            Some(r) => r,
            None => {
                need_vm = true;
                false
            }
        });
        // A key whose `__eq__` is the program's was met: CPython asks it,
        // in probe order, even when a later key is the one.
        if !need_vm {
            return Ok(found);
        }
        let cands: SmallVec<[(usize, Value); 4]> = data.candidates(hash).into_iter().map(|p| (p, data.entry(p).key.clone())).collect();
        drop(data);
        for (p, k) in cands {
            if self.eq(&k, key)? {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }

    /// `d.get(key)`.
    pub fn dict_get(&mut self, d: &PyDict, key: &Value) -> PyResult<Option<Value>> {
        match key {
            Value::Str(s) => {
                if let Some(found) = d.d.borrow().get_pystr_sure(s) {
                    return Ok(found);
                }
            }
            Value::Int(i) => {
                if let Some(found) = d.d.borrow().get_int(*i) {
                    return Ok(found);
                }
            }
            _ => {}
        }
        let h = self.hash(key)?;
        match self.dict_find(d, key, h)? {
            Some(p) => Ok(Some(d.d.borrow().value_at(p))),
            None => Ok(None),
        }
    }

    /// `d[key] = value`.
    pub fn dict_set(&mut self, d: &PyDict, key: Value, value: Value) -> PyResult<()> {
        let value = match &key {
            Value::Str(s) => match d.d.borrow_mut().set_pystr_sure(s.clone(), value) {
                Ok(()) => return Ok(()),
                Err((_, value)) => value,
            },
            Value::Int(i) => match d.d.borrow_mut().set_int(*i, value) {
                Ok(()) => return Ok(()),
                Err(value) => value,
            },
            _ => value,
        };
        let h = self.hash(&key)?;
        match self.dict_find(d, &key, h)? {
            Some(p) => d.d.borrow_mut().set_value_at(p, value),
            None => d.d.borrow_mut().insert_new(h, key, value),
        }
        Ok(())
    }

    /// Remove `key`, returning its value.
    pub fn dict_remove(&mut self, d: &PyDict, key: &Value) -> PyResult<Option<Value>> {
        let h = self.hash(key)?;
        match self.dict_find(d, key, h)? {
            Some(p) => Ok(Some(d.d.borrow_mut().remove_at(p).1)),
            None => Ok(None),
        }
    }

    /// `d.update(other)`; with `merge`, the stack slot of the callee of
    /// `f(**a, **b)` (read only for an error message), a
    /// repeated key is an error naming it.
    pub fn dict_update_from(&mut self, d: &PyDict, other: &Value, merge: Option<usize>) -> PyResult<()> {
        let pairs: Vec<(Value, Value)> = match other {
            Value::Dict(o) => o.items(),
            Value::Object(o) if merge.is_some() && o.as_any().is::<DictView>() => {
                return Err(type_error(format!("'{}' object is not a mapping", type_name(other))));
            }
            _ => {
                // Builtin iterators, lists, tuples and generators have no
                // `keys`: no attribute lookup for them.
                let keyless = matches!(other, Value::Iter(_) | Value::List(_) | Value::Tuple(_) | Value::Generator(_));
                if let Some(keys) = if keyless { None } else { self.getattr_opt(other, "keys")? } {
                    let ks = self.call(keys, Args::default())?;
                    let mut out = Vec::new();
                    for k in self.collect(&ks)? {
                        let v = self.getitem(other, &k)?;
                        out.push((k, v));
                    }
                    out
                } else if let Some(slot) = merge {
                    let f = self.function_str(&self.stack[slot].clone());
                    return Err(type_error(format!("{f} argument after ** must be a mapping, not {}", type_name(other))));
                } else {
                    let mut out = Vec::new();
                    let it = self.iter(other)?;
                    let mut i = 0;
                    loop {
                        // `dict(zip(ks, vs))`, `dict(enumerate(xs))`,
                        // `dict(d.items())`: pairs with no tuple made.
                        if let Value::Iter(pi) = &it {
                            match crate::iter::next_item_pair(pi) {
                                Some(Some(pair)) => {
                                    out.push(pair);
                                    i += 1;
                                    continue;
                                }
                                Some(None) => break,
                                None => {}
                            }
                        }
                        let Some(item) = self.next(&it)? else { break };
                        if let Value::Tuple(t) = &item {
                            if let [k, v] = &t.items[..] {
                                out.push((k.clone(), v.clone()));
                                i += 1;
                                continue;
                            }
                        }
                        let kv = match &item {
                            Value::Tuple(_) | Value::List(_) => self.collect(&item)?,
                            Value::Str(_) => self.collect(&item)?,
                            _ => {
                                if self.iter(&item).is_err() {
                                    return Err(type_error(format!(
                                        "cannot convert dictionary update sequence element #{i} to a sequence"
                                    )));
                                }
                                self.collect(&item)?
                            }
                        };
                        if kv.len() != 2 {
                            return Err(value_error(format!(
                                "dictionary update sequence element #{i} has length {}; 2 is required",
                                kv.len()
                            )));
                        }
                        let mut kv = kv.into_iter();
                        out.push((kv.next().expect("key"), kv.next().expect("value")));
                        i += 1;
                    }
                    out
                }
            }
        };
        for (k, v) in pairs {
            if let Some(slot) = merge {
                if self.dict_get(d, &k)?.is_some() {
                    let name = self.str_of(&k)?;
                    let f = self.function_str(&self.stack[slot].clone());
                    return Err(type_error(format!("{f} got multiple values for keyword argument '{name}'")));
                }
            }
            self.dict_set(d, k, v)?;
        }
        Ok(())
    }
}

/// `dict(mapping_or_iterable=(), **kwargs)`.
pub fn construct(vm: &mut Vm, args: Args) -> PyResult {
    let d = Rc::new(PyDict::new());
    if args.pos.len() > 1 {
        return Err(type_error(format!("dict expected at most 1 argument, got {}", args.pos.len())));
    }
    if let Some(src) = args.pos.first() {
        vm.dict_update_from(&d, src, None)?;
    }
    for (k, v) in args.kw {
        d.set_str_rc(k, v);
    }
    Ok(Value::Dict(d))
}

fn this(args: &Args) -> PyResult<Rc<PyDict>> {
    this_of(args.pos.first())
}

/// The dict a method was called on (`self`).
fn this_of(v: Option<&Value>) -> PyResult<Rc<PyDict>> {
    match v {
        Some(Value::Dict(d)) => Ok(d.clone()),
        Some(Value::Instance(i)) => match i.builtin_value() {
            Some(Value::Dict(d)) => Ok(d),
            _ => Err(type_error("descriptor requires a 'dict' object")),
        },
        _ => Err(type_error("descriptor requires a 'dict' object")),
    }
}

fn get(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("get", args.len().saturating_sub(1), 1, 2)?;
    let found = match args.first() {
        Some(Value::Dict(d)) => vm.dict_get(d, &args[1])?,
        other => {
            let d = this_of(other)?;
            vm.dict_get(&d, &args[1])?
        }
    };
    Ok(found.unwrap_or_else(|| args.get(2).cloned().unwrap_or(Value::None)))
}

fn setdefault(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("setdefault", args.len().saturating_sub(1), 1, 2)?;
    let d = this_of(args.first())?;
    if let Some(v) = vm.dict_get(&d, &args[1])? {
        return Ok(v);
    }
    let v = args.get(2).cloned().unwrap_or(Value::None);
    vm.dict_set(&d, args[1].clone(), v.clone())?;
    Ok(v)
}

fn pop(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("pop", args.len().saturating_sub(1), 1, 2)?;
    let d = this_of(args.first())?;
    match vm.dict_remove(&d, &args[1])? {
        Some(v) => Ok(v),
        None => match args.get(2) {
            Some(default) => Ok(default.clone()),
            None => Err(key_error(args[1].clone())),
        },
    }
}

fn popitem(_vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    let mut data = d.d.borrow_mut();
    match data.last_pos() {
        Some(p) => {
            let (k, v) = data.remove_at(p);
            Ok(Value::tuple([k, v]))
        }
        None => Err(key_error(Value::str("popitem(): dictionary is empty"))),
    }
}

/// `d.keys()`, `d.values()` or `d.items()` (`name` as messages give it).
fn view(args: &[Value], name: &str, kind: DictIterKind) -> PyResult {
    check_count(name, args.len().saturating_sub(1), 0, 0)?;
    let d = this_of(args.first())?;
    Ok(Value::object(DictView { d, kind }))
}
fn keys(_vm: &mut Vm, args: &[Value]) -> PyResult {
    view(args, "dict.keys", DictIterKind::Keys)
}
fn values(_vm: &mut Vm, args: &[Value]) -> PyResult {
    view(args, "dict.values", DictIterKind::Values)
}
fn items(_vm: &mut Vm, args: &[Value]) -> PyResult {
    view(args, "dict.items", DictIterKind::Items)
}

fn update(vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    if args.pos.len() > 2 {
        return Err(type_error(format!("update expected at most 1 argument, got {}", args.pos.len() - 1)));
    }
    if let Some(src) = args.pos.get(1) {
        vm.dict_update_from(&d, src, None)?;
    }
    for (k, v) in args.kw {
        d.set_str_rc(k, v);
    }
    Ok(Value::None)
}

fn copy(_vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("dict.copy", args.len().saturating_sub(1), 0, 0)?;
    let d = this_of(args.first())?;
    let c = PyDict::from_data(d.d.borrow().clone());
    Ok(Value::Dict(Rc::new(c)))
}

fn clear(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.d.borrow_mut().clear();
    Ok(Value::None)
}

fn fromkeys(vm: &mut Vm, args: Args) -> PyResult {
    // args[0] is the class (a classmethod).
    let src = args.pos.get(1).cloned().unwrap_or(Value::None);
    let value = args.pos.get(2).cloned().unwrap_or(Value::None);
    let d = Rc::new(PyDict::new());
    for k in vm.collect(&src)? {
        vm.dict_set(&d, k, value.clone())?;
    }
    Ok(Value::Dict(d))
}

fn d_len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(this(&args)?.len() as i64))
}
fn d_getitem(vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    let k = args.pos.get(1).cloned().unwrap_or(Value::None);
    match vm.dict_get(&d, &k)? {
        Some(v) => Ok(v),
        None => {
            if let Some(Value::Instance(_)) = args.pos.first() {
                if let Some(f) = crate::ops::lookup_special(&args.pos[0], "__missing__") {
                    return vm.call_pos(&f, [args.pos[0].clone(), k]);
                }
            }
            Err(key_error(k))
        }
    }
}
fn d_setitem(vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    vm.dict_set(&d, args.pos.get(1).cloned().unwrap_or(Value::None), args.pos.get(2).cloned().unwrap_or(Value::None))?;
    Ok(Value::None)
}
fn d_delitem(vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    let k = args.pos.get(1).cloned().unwrap_or(Value::None);
    match vm.dict_remove(&d, &k)? {
        Some(_) => Ok(Value::None),
        None => Err(key_error(k)),
    }
}
fn d_contains(vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    Ok(Value::bool(vm.dict_get(&d, args.pos.get(1).unwrap_or(&Value::None))?.is_some()))
}
fn d_iter(vm: &mut Vm, args: Args) -> PyResult {
    vm.iter(&Value::Dict(this(&args)?))
}
fn d_init(vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    if let Some(src) = args.pos.get(1) {
        vm.dict_update_from(&d, src, None)?;
    }
    for (k, v) in args.kw {
        d.set_str_rc(k, v);
    }
    Ok(Value::None)
}
fn d_eq(vm: &mut Vm, args: Args) -> PyResult {
    let d = Value::Dict(this(&args)?);
    vm.compare(crate::ops::EQ, &d, args.pos.get(1).unwrap_or(&Value::None))
}
fn d_reversed(_vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    let mut keys = d.keys();
    keys.reverse();
    Ok(crate::iter::make(IterState::List { list: Rc::new(PyList::new(keys)), idx: 0 }))
}

/// A live view of a dict's keys, values or items.
pub struct DictView {
    pub d: Rc<PyDict>,
    pub kind: DictIterKind,
}

impl DictView {
    /// The view's contents as a list of values.
    pub fn items(&self) -> Vec<Value> {
        let data = self.d.d.borrow();
        match self.kind {
            DictIterKind::Keys => data.keys(),
            DictIterKind::Values => data.values(),
            DictIterKind::Items => data.items().into_iter().map(|(k, v)| Value::tuple([k, v])).collect(),
        }
    }
}

thread_local! {
    static VIEW_CLASSES: [Rc<Class>; 3] = {
        let t = types();
        let make = |name: &str| crate::types::new_class(name, std::slice::from_ref(&t.object), Layout::Builtin, None);
        let c = [make("dict_keys"), make("dict_values"), make("dict_items")];
        for (cls, owner) in c.iter().zip(["dict_keys", "dict_values", "dict_items"]) {
            method(cls, owner, "__iter__", view_iter);
            method(cls, owner, "__len__", view_len);
            method(cls, owner, "__contains__", view_contains);
            method(cls, owner, "__reversed__", view_reversed);
            method(cls, owner, "isdisjoint", view_isdisjoint);
        }
        // The set-like views are unhashable, as sets are.
        c[0].dict.set_str("__hash__", Value::None);
        c[2].dict.set_str("__hash__", Value::None);
        c
    };
}

impl NativeObject for DictView {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        VIEW_CLASSES.with(|c| {
            c[match self.kind {
                DictIterKind::Keys => 0,
                DictIterKind::Values => 1,
                DictIterKind::Items => 2,
            }]
            .clone()
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let name = self.class().name();
        let items = Value::list(self.items());
        Ok(format!("{}({})", name.as_str(), vm.repr_str(&items)?))
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "mapping" => Some(Value::Dict(self.d.clone())),
            _ => None,
        })
    }
}

fn view_self(args: &Args) -> PyResult<&DictView> {
    args.pos.first().and_then(|v| v.downcast::<DictView>()).ok_or_else(|| type_error("descriptor requires a dict view"))
}

fn view_iter(_vm: &mut Vm, args: Args) -> PyResult {
    let v = view_self(&args)?;
    Ok(crate::iter::make(IterState::Dict { d: v.d.clone(), pos: 0, len: v.d.len(), kind: v.kind }))
}
fn view_len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(view_self(&args)?.d.len() as i64))
}
fn view_contains(vm: &mut Vm, args: Args) -> PyResult {
    let v = view_self(&args)?;
    let x = args.pos.get(1).cloned().unwrap_or(Value::None);
    let (d, kind) = (v.d.clone(), v.kind);
    Ok(Value::bool(match kind {
        DictIterKind::Keys => vm.dict_get(&d, &x)?.is_some(),
        DictIterKind::Items => match &x {
            Value::Tuple(t) if t.len() == 2 => match vm.dict_get(&d, &t.items[0])? {
                Some(val) => vm.eq(&val, &t.items[1])?,
                None => false,
            },
            _ => false,
        },
        DictIterKind::Values => {
            let vals = d.d.borrow().values();
            let mut found = false;
            for val in vals {
                if vm.eq(&val, &x)? {
                    found = true;
                    break;
                }
            }
            found
        }
    }))
}
fn view_reversed(_vm: &mut Vm, args: Args) -> PyResult {
    let v = view_self(&args)?;
    let mut items = v.items();
    items.reverse();
    Ok(crate::iter::make(IterState::List { list: Rc::new(PyList::new(items)), idx: 0 }))
}
fn view_isdisjoint(vm: &mut Vm, args: Args) -> PyResult {
    let v = view_self(&args)?;
    let items = v.items();
    let other = vm.collect(args.pos.get(1).unwrap_or(&Value::None))?;
    for x in &other {
        for y in &items {
            if vm.eq(x, y)? {
                return Ok(Value::Bool(Flag::FALSE));
            }
        }
    }
    Ok(Value::Bool(Flag::TRUE))
}

/// Set operators on dict views (`d.keys() & other`): the result is a set.
pub fn view_binop(vm: &mut Vm, op: u8, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let to_set = |vm: &mut Vm, v: &Value| -> PyResult<Option<Value>> {
        if let Some(view) = v.downcast::<DictView>() {
            if view.kind == DictIterKind::Values {
                return Ok(None);
            }
            let items = view.items();
            return Ok(Some(crate::types::set::set_from(vm, items)?));
        }
        match v {
            Value::Set(_) | Value::FrozenSet(_) => Ok(Some(v.clone())),
            Value::List(_) | Value::Tuple(_) | Value::Dict(_) => {
                let items = vm.collect(v)?;
                Ok(Some(crate::types::set::set_from(vm, items)?))
            }
            _ => Ok(None),
        }
    };
    if a.downcast::<DictView>().is_none() && b.downcast::<DictView>().is_none() {
        return Ok(None);
    }
    let (Some(x), Some(y)) = (to_set(vm, a)?, to_set(vm, b)?) else { return Ok(None) };
    crate::types::set::set_binop(vm, op, false, &x, &y).map(Some)
}

/// Install the dict methods.
pub fn install(t: &'static Types) {
    let c = &t.dict;
    // The methods a program calls most, given their arguments in place.
    let fast: &[(&str, FastFnPtr)] =
        &[("get", get), ("setdefault", setdefault), ("pop", pop), ("keys", keys), ("values", values), ("items", items), ("copy", copy)];
    for (name, f) in fast {
        method_fast(c, "dict", name, *f);
    }
    let methods: &[(&str, NativeFnPtr)] = &[
        ("popitem", popitem),
        ("update", update),
        ("clear", clear),
        ("__len__", d_len),
        ("__getitem__", d_getitem),
        ("__setitem__", d_setitem),
        ("__delitem__", d_delitem),
        ("__contains__", d_contains),
        ("__iter__", d_iter),
        ("__init__", d_init),
        ("__eq__", d_eq),
        ("__reversed__", d_reversed),
    ];
    for (name, f) in methods {
        method(c, "dict", name, *f);
    }
    class_function(c, "fromkeys", fromkeys, true);
}
