//! `_collections`: the native half of `collections`, the double-ended
//! queue `deque` (a ring buffer, O(1) at both ends) and its iterators.

use aio_interp::Flag;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::ops::{EQ, GE, GT, LE, LT, NE};
use aio_interp::types::{method, native_closure, native_fn, new_class, type_name, types};
use aio_interp::{Value, Vm};

use crate::native::{instance_of, native_ref, NativeRef};

/// A `collections.deque`.
pub struct Deque {
    items: RefCell<VecDeque<Value>>,
    /// Set by `__init__`, so a subclass's `__init__` can pass it on.
    maxlen: Cell<Option<usize>>,
    /// Bumped by every mutation, so that iterators notice one.
    state: Cell<u64>,
}

/// An iterator over a deque (forwards or backwards).
pub struct DequeIter {
    deque: Value,
    pos: Cell<usize>,
    state: u64,
    reverse: bool,
}

thread_local! {
    static DEQUE_CLASS: Rc<Class> = make_deque_class();
    static ITER_CLASS: Rc<Class> = {
        let c = new_class("_deque_iterator", &[types().object.clone()], Layout::Builtin, None);
        method(&c, "_deque_iterator", "__iter__", |_vm, a| Ok(a.pos[0].clone()));
        method(&c, "_deque_iterator", "__next__", iter_next);
        c
    };
}

fn make_deque_class() -> Rc<Class> {
    let c = new_class("deque", &[types().object.clone()], Layout::Builtin, None);
    c.dict.set_str("__module__", Value::str("collections"));
    let ms: &[(&str, NativeFnPtr)] = &[
        ("append", append),
        ("appendleft", appendleft),
        ("pop", pop),
        ("popleft", popleft),
        ("extend", extend),
        ("extendleft", extendleft),
        ("clear", clear),
        ("copy", copy),
        ("__copy__", copy),
        ("count", count),
        ("index", index),
        ("insert", insert),
        ("remove", remove),
        ("reverse", reverse),
        ("rotate", rotate),
        ("__len__", len),
        ("__bool__", bool_),
        ("__iter__", iter),
        ("__reversed__", reversed),
        ("__getitem__", getitem),
        ("__setitem__", setitem),
        ("__delitem__", delitem),
        ("__contains__", contains),
        ("__eq__", |vm, a| compare(vm, a, EQ)),
        ("__ne__", |vm, a| compare(vm, a, NE)),
        ("__lt__", |vm, a| compare(vm, a, LT)),
        ("__le__", |vm, a| compare(vm, a, LE)),
        ("__gt__", |vm, a| compare(vm, a, GT)),
        ("__ge__", |vm, a| compare(vm, a, GE)),
        ("__add__", add),
        ("__mul__", mul),
        ("__rmul__", mul),
        ("__iadd__", iadd),
        ("__init__", deque_init),
        ("__repr__", deque_repr),
        ("__imul__", imul),
    ];
    for (n, f) in ms {
        method(&c, "deque", n, *f);
    }
    c.dict.set_str("__hash__", Value::None);
    // `deque[int]` in an annotation is the class itself.
    c.dict.set_str("__class_getitem__", native_fn("__class_getitem__", |_vm, a| Ok(a.pos[0].clone())));
    let maxlen = native_fn("maxlen", |_vm, a| {
        let d = this(&a)?;
        let m = d.maxlen.get();
        Ok(m.map(|n| Value::Int(n as i64)).unwrap_or(Value::None))
    });
    c.dict.set_str(
        "maxlen",
        Value::object(aio_interp::attr::Property { fget: maxlen, fset: Value::None, fdel: Value::None, doc: Value::None }),
    );
    c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", deque_new)));
    c
}

impl NativeObject for Deque {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        DEQUE_CLASS.with(|c| c.clone())
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        self.repr_as(vm, "deque")
    }
}

impl NativeObject for DequeIter {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        ITER_CLASS.with(|c| c.clone())
    }
}

impl Deque {
    fn repr_as(&self, vm: &mut Vm, name: &str) -> PyResult<String> {
        // A deque that contains itself shows as `[...]`, as a list does.
        let key = self as *const Self as usize;
        if !vm.repr_enter(key) {
            return Ok("[...]".into());
        }
        let items: Vec<Value> = self.items.borrow().iter().cloned().collect();
        let r = vm.repr_str(&Value::list(items));
        vm.repr_leave();
        let inner = r?;
        Ok(match self.maxlen.get() {
            Some(n) => format!("{name}({inner}, maxlen={n})"),
            None => format!("{name}({inner})"),
        })
    }

    fn new(maxlen: Option<usize>) -> Deque {
        Deque { items: RefCell::new(VecDeque::new()), maxlen: Cell::new(maxlen), state: Cell::new(0) }
    }
    /// An empty `deque()` value.
    pub(crate) fn new_value() -> Value {
        Value::object(Deque::new(None))
    }
    fn touch(&self) {
        self.state.set(self.state.get().wrapping_add(1));
    }
    /// `popleft()` without the error.
    pub(crate) fn pop_front(&self) -> Option<Value> {
        self.touch();
        self.items.borrow_mut().pop_front()
    }
    pub(crate) fn push_back(&self, v: Value) {
        self.touch();
        let mut d = self.items.borrow_mut();
        if self.maxlen.get() == Some(0) {
            return;
        }
        if Some(d.len()) == self.maxlen.get() {
            d.pop_front();
        }
        d.push_back(v);
    }
    fn push_front(&self, v: Value) {
        self.touch();
        let mut d = self.items.borrow_mut();
        if self.maxlen.get() == Some(0) {
            return;
        }
        if Some(d.len()) == self.maxlen.get() {
            d.pop_back();
        }
        d.push_front(v);
    }
    pub(crate) fn snapshot(&self) -> Vec<Value> {
        self.items.borrow().iter().cloned().collect()
    }
    /// The item at `i`, cloned: searches compare one item at a time, since
    /// an `__eq__` may run code that changes the deque.
    fn item(&self, i: usize) -> Option<Value> {
        self.items.borrow().get(i).cloned()
    }
    pub(crate) fn len(&self) -> usize {
        self.items.borrow().len()
    }
}

fn this(args: &Args) -> PyResult<NativeRef<Deque>> {
    args.pos.first().and_then(native_ref::<Deque>).ok_or_else(|| type_error("descriptor requires a 'collections.deque' object"))
}

fn nargs(name: &str, args: &Args, n: usize) -> PyResult<()> {
    let given = args.pos.len() - 1;
    if !args.kw.is_empty() {
        return Err(type_error(format!("deque.{name}() takes no keyword arguments")));
    }
    if given != n {
        return Err(type_error(match n {
            0 => format!("deque.{name}() takes no arguments ({given} given)"),
            1 => format!("deque.{name}() takes exactly one argument ({given} given)"),
            _ => format!("{name} expected {n} arguments, got {given}"),
        }));
    }
    Ok(())
}

/// `deque.__new__(cls, ...)`: an empty deque; `__init__` fills it.
fn deque_new(_vm: &mut Vm, args: Args) -> PyResult {
    let base = DEQUE_CLASS.with(|c| c.clone());
    let cls = match args.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => base.clone(),
    };
    Ok(instance_of(&cls, &base, Value::object(Deque::new(None))))
}

/// `deque(iterable=(), maxlen=None)`.
fn deque_init(vm: &mut Vm, mut args: Args) -> PyResult {
    let d = this(&args)?;
    args.pos.remove(0);
    let maxlen = args.take_kw("maxlen").or_else(|| args.pos.get(1).cloned());
    let iterable = args.take_kw("iterable").or_else(|| args.pos.first().cloned());
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("'{}' is an invalid keyword argument for deque()", k.as_str())));
    }
    if args.pos.len() > 2 {
        return Err(type_error(format!("deque expected at most 2 arguments, got {}", args.pos.len())));
    }
    let maxlen = match maxlen {
        None | Some(Value::None) => None,
        Some(v @ (Value::Int(_) | Value::Bool(_))) => {
            let n = vm.index_value(&v)?;
            if n < 0 {
                return Err(value_error("maxlen must be non-negative"));
            }
            Some(n as usize)
        }
        Some(Value::BigInt(_)) => return Err(overflow_error("Python int too large to convert to C ssize_t")),
        Some(_) => return Err(type_error("an integer is required")),
    };
    d.maxlen.set(maxlen);
    let items = match iterable {
        Some(src) => items_of(vm, &src)?,
        None => Vec::new(),
    };
    d.touch();
    d.items.borrow_mut().clear();
    for v in items {
        d.push_back(v);
    }
    Ok(Value::None)
}

/// `repr(d)`: `deque([1, 2])`, `deque([1], maxlen=3)`, named for a subclass.
fn deque_repr(vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    let name = aio_interp::types::type_of(&args.pos[0]).name();
    d.repr_as(vm, name.as_str()).map(Value::string)
}

fn append(_vm: &mut Vm, args: Args) -> PyResult {
    nargs("append", &args, 1)?;
    this(&args)?.push_back(args.pos[1].clone());
    Ok(Value::None)
}

fn appendleft(_vm: &mut Vm, args: Args) -> PyResult {
    nargs("appendleft", &args, 1)?;
    this(&args)?.push_front(args.pos[1].clone());
    Ok(Value::None)
}

fn pop(_vm: &mut Vm, args: Args) -> PyResult {
    nargs("pop", &args, 0)?;
    let d = this(&args)?;
    d.touch();
    let v = d.items.borrow_mut().pop_back();
    v.ok_or_else(|| index_error("pop from an empty deque"))
}

fn popleft(_vm: &mut Vm, args: Args) -> PyResult {
    nargs("popleft", &args, 0)?;
    let d = this(&args)?;
    d.touch();
    let v = d.items.borrow_mut().pop_front();
    v.ok_or_else(|| index_error("pop from an empty deque"))
}

/// The items to add from `src`; a deque extended with itself uses a copy.
fn items_of(vm: &mut Vm, src: &Value) -> PyResult<Vec<Value>> {
    if let Some(d) = native_ref::<Deque>(src) {
        return Ok(d.snapshot());
    }
    vm.collect(src)
}

fn extend(vm: &mut Vm, args: Args) -> PyResult {
    nargs("extend", &args, 1)?;
    let d = this(&args)?;
    for v in items_of(vm, &args.pos[1])? {
        d.push_back(v);
    }
    Ok(Value::None)
}

fn extendleft(vm: &mut Vm, args: Args) -> PyResult {
    nargs("extendleft", &args, 1)?;
    let d = this(&args)?;
    for v in items_of(vm, &args.pos[1])? {
        d.push_front(v);
    }
    Ok(Value::None)
}

fn clear(_vm: &mut Vm, args: Args) -> PyResult {
    nargs("clear", &args, 0)?;
    let d = this(&args)?;
    d.touch();
    let old = std::mem::take(&mut *d.items.borrow_mut());
    drop(old);
    Ok(Value::None)
}

fn copy(_vm: &mut Vm, args: Args) -> PyResult {
    nargs("copy", &args, 0)?;
    let d = this(&args)?;
    let n = Deque::new(d.maxlen.get());
    *n.items.borrow_mut() = d.items.borrow().clone();
    Ok(Value::object(n))
}

fn count(vm: &mut Vm, args: Args) -> PyResult {
    nargs("count", &args, 1)?;
    let d = this(&args)?;
    let state = d.state.get();
    let mut n = 0;
    let mut i = 0;
    while let Some(v) = d.item(i) {
        i += 1;
        if vm.eq(&v, &args.pos[1])? {
            n += 1;
        }
        if d.state.get() != state {
            return Err(runtime_error("deque mutated during iteration"));
        }
    }
    Ok(Value::Int(n))
}

/// Clamp a start/stop argument of `index` as slices do.
fn clamp_index(vm: &mut Vm, v: Option<&Value>, len: usize, default: usize) -> PyResult<usize> {
    let Some(v) = v else { return Ok(default) };
    let i = vm.index_value(v)?;
    let len = len as i64;
    Ok(if i < 0 { (i + len).max(0) } else { i.min(len) } as usize)
}

fn index(vm: &mut Vm, args: Args) -> PyResult {
    if !args.kw.is_empty() {
        return Err(type_error("deque.index() takes no keyword arguments"));
    }
    let given = args.pos.len() - 1;
    if !(1..=3).contains(&given) {
        return Err(type_error(format!(
            "index expected at {} argument{}, got {given}",
            if given < 1 { "least 1" } else { "most 3" },
            if given < 1 { "" } else { "s" }
        )));
    }
    let d = this(&args)?;
    let len = d.len();
    let start = clamp_index(vm, args.pos.get(2), len, 0)?;
    let stop = clamp_index(vm, args.pos.get(3), len, len)?;
    let state = d.state.get();
    for i in start..stop {
        let Some(v) = d.item(i) else { break };
        if vm.eq(&v, &args.pos[1])? {
            return Ok(Value::Int(i as i64));
        }
        if d.state.get() != state {
            return Err(runtime_error("deque mutated during iteration"));
        }
    }
    Err(value_error(format!("{} is not in deque", vm.repr_str(&args.pos[1])?)))
}

fn insert(vm: &mut Vm, args: Args) -> PyResult {
    nargs("insert", &args, 2)?;
    let d = this(&args)?;
    let len = d.items.borrow().len();
    if Some(len) == d.maxlen.get() {
        return Err(index_error("deque already at its maximum size"));
    }
    let i = vm.index_value(&args.pos[1])?;
    let n = len as i64;
    let at = if i < 0 { (i + n).max(0) } else { i.min(n) } as usize;
    d.touch();
    d.items.borrow_mut().insert(at, args.pos[2].clone());
    Ok(Value::None)
}

fn remove(vm: &mut Vm, args: Args) -> PyResult {
    nargs("remove", &args, 1)?;
    let d = this(&args)?;
    let state = d.state.get();
    let mut i = 0;
    while let Some(v) = d.item(i) {
        let same = vm.eq(&v, &args.pos[1])?;
        if d.state.get() != state {
            return Err(index_error("deque mutated during remove()."));
        }
        if same {
            d.touch();
            d.items.borrow_mut().remove(i);
            return Ok(Value::None);
        }
        i += 1;
    }
    Err(value_error(format!("{} is not in deque", vm.repr_str(&args.pos[1])?)))
}

fn reverse(_vm: &mut Vm, args: Args) -> PyResult {
    nargs("reverse", &args, 0)?;
    let d = this(&args)?;
    d.touch();
    d.items.borrow_mut().make_contiguous().reverse();
    Ok(Value::None)
}

fn rotate(vm: &mut Vm, args: Args) -> PyResult {
    if args.pos.len() > 2 {
        return Err(type_error(format!("rotate expected at most 1 argument, got {}", args.pos.len() - 1)));
    }
    let d = this(&args)?;
    let n = match args.pos.get(1) {
        Some(v) => vm.index_value(v)?,
        None => 1,
    };
    let len = d.items.borrow().len() as i64;
    if len > 1 {
        d.touch();
        let k = n.rem_euclid(len) as usize;
        d.items.borrow_mut().rotate_right(k);
    }
    Ok(Value::None)
}

fn len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(this(&args)?.items.borrow().len() as i64))
}

fn bool_(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(!this(&args)?.items.borrow().is_empty()))
}

fn iter(_vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    Ok(Value::object(DequeIter { deque: args.pos[0].clone(), pos: Cell::new(0), state: d.state.get(), reverse: false }))
}

fn reversed(_vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    Ok(Value::object(DequeIter { deque: args.pos[0].clone(), pos: Cell::new(0), state: d.state.get(), reverse: true }))
}

fn iter_next(_vm: &mut Vm, args: Args) -> PyResult {
    let it = args.pos.first().and_then(|v| v.downcast::<DequeIter>()).ok_or_else(|| type_error("expected a deque iterator"))?;
    let d = native_ref::<Deque>(&it.deque).expect("deque");
    if d.state.get() != it.state {
        return Err(runtime_error("deque mutated during iteration"));
    }
    let items = d.items.borrow();
    let i = it.pos.get();
    if i >= items.len() {
        return Err(stop_iteration(Value::None));
    }
    it.pos.set(i + 1);
    let at = if it.reverse { items.len() - 1 - i } else { i };
    Ok(items[at].clone())
}

/// Resolve an index argument against the deque's length.
fn position(vm: &mut Vm, d: &Deque, i: &Value) -> PyResult<usize> {
    let i = match i {
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) | Value::Instance(_) => {
            vm.index_value(i).map_err(|_| index_error("deque index out of range"))?
        }
        other => return Err(type_error(format!("sequence index must be integer, not '{}'", type_name(other)))),
    };
    let len = d.items.borrow().len();
    aio_interp::types::seq_index(i, len).ok_or_else(|| index_error("deque index out of range"))
}

fn getitem(vm: &mut Vm, args: Args) -> PyResult {
    nargs("__getitem__", &args, 1)?;
    let d = this(&args)?;
    let i = position(vm, &d, &args.pos[1])?;
    let v = d.items.borrow()[i].clone();
    Ok(v)
}

fn setitem(vm: &mut Vm, args: Args) -> PyResult {
    nargs("__setitem__", &args, 2)?;
    let d = this(&args)?;
    let i = position(vm, &d, &args.pos[1])?;
    let old = std::mem::replace(&mut d.items.borrow_mut()[i], args.pos[2].clone());
    drop(old);
    Ok(Value::None)
}

fn delitem(vm: &mut Vm, args: Args) -> PyResult {
    nargs("__delitem__", &args, 1)?;
    let d = this(&args)?;
    let i = position(vm, &d, &args.pos[1])?;
    d.touch();
    let old = d.items.borrow_mut().remove(i);
    drop(old);
    Ok(Value::None)
}

fn contains(vm: &mut Vm, args: Args) -> PyResult {
    nargs("__contains__", &args, 1)?;
    let d = this(&args)?;
    let state = d.state.get();
    let mut i = 0;
    while let Some(v) = d.item(i) {
        i += 1;
        if vm.eq(&v, &args.pos[1])? {
            return Ok(Value::Bool(Flag::TRUE));
        }
        if d.state.get() != state {
            return Err(runtime_error("deque mutated during iteration"));
        }
    }
    Ok(Value::Bool(Flag::FALSE))
}

/// Deques compare like lists, and only with deques.
fn compare(vm: &mut Vm, args: Args, op: u8) -> PyResult {
    let d = this(&args)?;
    let Some(o) = args.pos.get(1).and_then(native_ref::<Deque>) else {
        return Ok(Value::NotImplemented);
    };
    let (a, b) = (Value::list(d.snapshot()), Value::list(o.snapshot()));
    vm.compare(op, &a, &b)
}

fn add(_vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    let other = args.pos.get(1).cloned().unwrap_or(Value::None);
    let Some(o) = native_ref::<Deque>(&other) else {
        return Err(type_error(format!("can only concatenate deque (not \"{}\") to deque", type_name(&other))));
    };
    let n = Deque::new(d.maxlen.get());
    for v in d.snapshot().into_iter().chain(o.snapshot()) {
        n.push_back(v);
    }
    Ok(Value::object(n))
}

fn repeat_count(vm: &mut Vm, v: &Value) -> PyResult<Option<i64>> {
    match v {
        Value::Int(_) | Value::Bool(_) => Ok(Some(vm.index_value(v)?)),
        _ => Ok(None),
    }
}

fn mul(vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    let Some(k) = repeat_count(vm, args.pos.get(1).unwrap_or(&Value::None))? else {
        return Ok(Value::NotImplemented);
    };
    let n = Deque::new(d.maxlen.get());
    let items = d.snapshot();
    for _ in 0..k.max(0) {
        for v in &items {
            n.push_back(v.clone());
        }
    }
    Ok(Value::object(n))
}

fn iadd(vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    for v in items_of(vm, &args.pos[1])? {
        d.push_back(v);
    }
    Ok(args.pos[0].clone())
}

fn imul(vm: &mut Vm, args: Args) -> PyResult {
    let d = this(&args)?;
    let Some(k) = repeat_count(vm, args.pos.get(1).unwrap_or(&Value::None))? else {
        return Ok(Value::NotImplemented);
    };
    let items = d.snapshot();
    if k <= 0 {
        d.touch();
        d.items.borrow_mut().clear();
    }
    for _ in 1..k.max(1) {
        for v in &items {
            d.push_back(v.clone());
        }
    }
    Ok(args.pos[0].clone())
}

/// `_caller_module()`: the `__name__` of the module whose code called the
/// function that calls this (for `namedtuple`'s `__module__`).
fn caller_module(vm: &mut Vm, _args: Args) -> PyResult {
    let n = vm.frames.len();
    let name = if n >= 2 { vm.frames[n - 2].globals.name.clone() } else { aio_interp::intern::intern("__main__") };
    Ok(Value::Str(name))
}

/// `_tuplegetter(index)`: a property reading item `index` of a tuple
/// subclass instance (the fields of a namedtuple), without an .aio frame.
fn tuplegetter(vm: &mut Vm, args: Args) -> PyResult {
    let index = vm.index_value(args.pos.first().unwrap_or(&Value::None))?;
    let getter = native_closure("_tuplegetter", move |_vm, a| {
        let obj = a.pos.first().cloned().unwrap_or(Value::None);
        let items = match &obj {
            Value::Tuple(t) => Some(t.clone()),
            Value::Instance(i) => match i.builtin_value() {
                Some(Value::Tuple(t)) => Some(t),
                _ => None,
            },
            _ => None,
        };
        match items {
            Some(t) => t.items.get(index as usize).cloned().ok_or_else(|| index_error("tuple index out of range")),
            None => Err(type_error(format!(
                "descriptor for index '{index}' for tuple subclasses doesn't apply to '{}' object",
                type_name(&obj)
            ))),
        }
    });
    aio_interp::attr::property_new(vm, Args::new([getter]))
}

/// `_count_elements(mapping, iterable)`: `mapping[x] = mapping.get(x, 0) + 1`
/// for each item, straight on the dict when the mapping's class keeps
/// dict's own `get` and `__setitem__` (the loop of `Counter(iterable)`).
fn count_elements(vm: &mut Vm, args: Args) -> PyResult {
    if args.pos.len() != 2 {
        return Err(type_error(format!("_count_elements expected 2 arguments, got {}", args.pos.len())));
    }
    let (mapping, iterable) = (&args.pos[0], &args.pos[1]);
    let native = |name: &'static str| matches!(aio_interp::ops::lookup_special(mapping, name), None | Some(Value::Native(_)));
    let direct = match mapping {
        Value::Dict(d) => Some(d.clone()),
        Value::Instance(i) if native("get") && native("__setitem__") => match i.builtin_value() {
            Some(Value::Dict(d)) => Some(d),
            _ => None,
        },
        _ => None,
    };
    let it = vm.iter(iterable)?;
    let one = Value::Int(1);
    while let Some(x) = vm.next(&it)? {
        match &direct {
            Some(d) => {
                let n = match vm.dict_get(d, &x)? {
                    Some(c) => vm.binary(aio_interp::ops::ADD, &c, &one)?,
                    None => one.clone(),
                };
                vm.dict_set(d, x, n)?;
            }
            None => {
                let c = vm.call_method(mapping, "get", vec![x.clone(), Value::Int(0)])?;
                let n = vm.binary(aio_interp::ops::ADD, &c, &one)?;
                vm.setitem(mapping, x, n)?;
            }
        }
    }
    Ok(Value::None)
}

/// `_namedtuple_new(typename, fields, defaults)`: the `__new__` of a
/// namedtuple class (a static method), binding positional and keyword
/// arguments to the fields with the messages of a function
/// `__new__(_cls, f1, f2=d, ...)`.
fn namedtuple_new(_vm: &mut Vm, args: Args) -> PyResult {
    let [Value::Str(typename), Value::Tuple(fields), Value::Dict(defaults)] = &args.pos[..] else {
        return Err(type_error("_namedtuple_new(typename, fields, defaults)"));
    };
    let (typename, fields, defaults) = (typename.clone(), fields.clone(), defaults.clone());
    let new = native_closure("__new__", move |vm, mut a| {
        let cls = match a.pos.first() {
            Some(Value::Class(c)) => c.clone(),
            _ => return Err(type_error(format!("{typename}.__new__(): not enough arguments"))),
        };
        a.pos.remove(0);
        let n = fields.len();
        let values: Vec<Value> = if a.kw.is_empty() && a.pos.len() == n {
            a.pos.into_iter().collect()
        } else {
            let names: Vec<&str> = fields.items.iter().map(|f| f.as_str().map(|s| s.as_str()).unwrap_or("")).collect();
            let required = names.iter().take_while(|n| defaults.get_str(n).is_none()).count();
            let qual = format!("{typename}.__new__");
            let sig = crate::params::Sig { qual: &qual, has_self: true, names: &names, required, kwonly: &[] };
            let mut full = Args { pos: std::iter::once(Value::None).chain(a.pos).collect(), kw: a.kw };
            // `Sig` counts `_cls`, as Python's messages do.
            full.pos[0] = Value::Class(cls.clone());
            let bound = sig.bind(full)?;
            let mut out = Vec::with_capacity(n);
            for (i, v) in bound.into_iter().enumerate() {
                out.push(match v {
                    Some(v) => v,
                    None => defaults.get_str(names[i]).unwrap_or(Value::None),
                });
            }
            out
        };
        vm.new_instance(&cls, &Args::new([Value::tuple(values)]))
    });
    Ok(aio_interp::attr::StaticMethod::wrap(new))
}

/// Build the `_collections` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let cls = DEQUE_CLASS.with(|c| c.clone());
    Ok(vm.make_native_module(
        "_collections",
        vec![
            ("deque", Value::Class(cls)),
            ("_caller_module", native_fn("_caller_module", caller_module)),
            ("_tuplegetter", native_fn("_tuplegetter", tuplegetter)),
            ("_count_elements", native_fn("_count_elements", count_elements)),
            ("_namedtuple_new", native_fn("_namedtuple_new", namedtuple_new)),
        ],
    ))
}
