//! Iteration: the builtin iterator objects (over lists, ranges, dicts,
//! `zip`, `map`, `enumerate`, ...) and the protocol (`iter`, `next`).

use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::ops::{builtin_payload, lookup_special};
use crate::types::{method, type_name, types, Types};
use crate::value::Value;
use crate::vm::Vm;

/// The state of a builtin iterator.
pub enum IterState {
    List {
        list: Rc<PyList>,
        idx: usize,
    },
    ListRev {
        list: Rc<PyList>,
        left: usize,
    },
    Tuple {
        t: Rc<PyTuple>,
        idx: usize,
    },
    Range {
        next: i64,
        left: usize,
        step: i64,
    },
    Str {
        s: Rc<PyStr>,
        pos: usize,
    },
    Bytes {
        b: Rc<PyBytes>,
        idx: usize,
    },
    Dict {
        d: Rc<PyDict>,
        pos: usize,
        len: usize,
        kind: DictIterKind,
    },
    Set {
        s: Rc<PySet>,
        pos: usize,
        len: usize,
    },
    Enumerate {
        it: Value,
        count: i64,
        /// The count once it has passed `i64::MAX`.
        big: Option<Box<num_bigint::BigInt>>,
    },
    Zip {
        /// Shared so that each step takes them without copying the list.
        its: Rc<[Value]>,
        strict: bool,
    },
    Map {
        f: Value,
        its: Vec<Value>,
    },
    Filter {
        f: Value,
        it: Value,
        keep_true: bool,
    },
    /// Iteration through `__getitem__` from 0 until IndexError (also `reversed` over `__len__`/`__getitem__`).
    Seq {
        seq: Value,
        idx: i64,
        reverse: bool,
    },
    /// `iter(callable, sentinel)`.
    Callable {
        f: Value,
        sentinel: Value,
    },
    /// `itertools.count(start, step)`.
    Count {
        cur: Value,
        step: Value,
    },
    /// `itertools.chain(*iterables)`.
    Chain {
        sources: Vec<Value>,
        cur: Option<Value>,
    },
    /// `itertools.islice(it, start, stop, step)`.
    Islice {
        it: Value,
        next: usize,
        stop: Option<usize>,
        step: usize,
        pos: usize,
    },
    /// `itertools.repeat(v, n)`.
    Repeat {
        v: Value,
        left: Option<usize>,
    },
    /// `itertools.cycle(it)`.
    Cycle {
        it: Option<Value>,
        saved: Vec<Value>,
        idx: usize,
    },
    Exhausted {
        name: &'static str,
    },
}

/// Which part of a dict an iterator yields.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DictIterKind {
    Keys,
    Values,
    Items,
}

impl IterState {
    /// The iterator's type name (`list_iterator`, `zip`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            IterState::List { .. } => "list_iterator",
            IterState::ListRev { .. } => "list_reverseiterator",
            IterState::Tuple { .. } => "tuple_iterator",
            IterState::Range { .. } => "range_iterator",
            IterState::Str { .. } => "str_ascii_iterator",
            IterState::Bytes { .. } => "bytes_iterator",
            IterState::Dict { kind: DictIterKind::Keys, .. } => "dict_keyiterator",
            IterState::Dict { kind: DictIterKind::Values, .. } => "dict_valueiterator",
            IterState::Dict { kind: DictIterKind::Items, .. } => "dict_itemiterator",
            IterState::Set { .. } => "set_iterator",
            IterState::Enumerate { .. } => "enumerate",
            IterState::Zip { .. } => "zip",
            IterState::Map { .. } => "map",
            IterState::Filter { keep_true: true, .. } => "filter",
            IterState::Filter { .. } => "filterfalse",
            IterState::Seq { reverse: true, .. } => "reversed",
            IterState::Seq { .. } => "iterator",
            IterState::Callable { .. } => "callable_iterator",
            IterState::Count { .. } => "count",
            IterState::Chain { .. } => "chain",
            IterState::Islice { .. } => "islice",
            IterState::Repeat { .. } => "repeat",
            IterState::Cycle { .. } => "cycle",
            IterState::Exhausted { name } => name,
        }
    }
}

/// `iter(v)` of a builtin container (or an instance of a subclass that
/// iterates as its base), an iterator or a generator, which needs no VM;
/// `None` for the other values. Out of line: inlined into
/// the dispatch loop, it made the loop's other paths dearer.
#[inline(never)]
pub fn iter_builtin(v: &Value) -> Option<Value> {
    Some(match v {
        Value::List(l) => make(IterState::List { list: l.clone(), idx: 0 }),
        Value::Tuple(t) => make(IterState::Tuple { t: t.clone(), idx: 0 }),
        Value::Range(r) => make(IterState::Range { next: r.start, left: r.len(), step: r.step }),
        Value::Str(s) => make(IterState::Str { s: s.clone(), pos: 0 }),
        Value::Bytes(b) => make(IterState::Bytes { b: b.clone(), idx: 0 }),
        Value::Dict(d) => make(IterState::Dict { d: d.clone(), pos: 0, len: d.len(), kind: DictIterKind::Keys }),
        Value::Set(s) | Value::FrozenSet(s) => make(IterState::Set { s: s.clone(), pos: 0, len: s.len() }),
        Value::Iter(_) => v.clone(),
        Value::Generator(g) if g.kind == GenKind::Generator => v.clone(),
        // An instance of a subclass of list, dict, ... that keeps the
        // builtin's `__iter__`: the iterator of the value it wraps.
        Value::Instance(_) => return crate::ops::inherited_builtin_payload(v, "__iter__").and_then(|p| iter_builtin(&p)),
        _ => return None,
    })
}

/// How many items a builtin iterator over a sized container has left (0
/// when it cannot tell): the room a comprehension's result is made with.
pub fn items_left(v: &Value) -> usize {
    let Value::Iter(it) = v else { return 0 };
    match &*it.state.borrow() {
        IterState::List { list, idx } => list.len().saturating_sub(*idx),
        IterState::Tuple { t, idx } => t.items.len().saturating_sub(*idx),
        IterState::Range { left, .. } => *left,
        IterState::Dict { d, pos, .. } => d.len().saturating_sub(*pos),
        _ => 0,
    }
}

/// Wrap a state as an iterator value.
pub fn make(state: IterState) -> Value {
    Value::Iter(Rc::new(PyIter { state: std::cell::RefCell::new(state) }))
}

/// Advance a builtin iterator.
pub fn next_builtin(vm: &mut Vm, it: &Rc<PyIter>) -> PyResult<Option<Value>> {
    if let Some(item) = next_fast(it) {
        return Ok(item);
    }
    let mut st = it.state.borrow_mut();
    match &mut *st {
        IterState::List { .. } | IterState::Tuple { .. } | IterState::Range { .. } => unreachable!("answered by next_fast"),
        IterState::ListRev { list, left } => {
            let l = list.borrow();
            if *left > 0 && *left <= l.len() {
                *left -= 1;
                return Ok(Some(l[*left].clone()));
            }
            Ok(None)
        }
        IterState::Str { s, pos } => {
            let rest = &s.as_str()[*pos..];
            match rest.chars().next() {
                Some(c) => {
                    *pos += c.len_utf8();
                    let mut buf = [0u8; 4];
                    Ok(Some(Value::Str(crate::types::str::char_str(c.encode_utf8(&mut buf)))))
                }
                None => Ok(None),
            }
        }
        IterState::Bytes { b, idx } => {
            if *idx < b.b.len() {
                let v = b.b[*idx];
                *idx += 1;
                return Ok(Some(Value::Int(v as i64)));
            }
            Ok(None)
        }
        IterState::Dict { d, pos, len, kind } => {
            let data = d.d.borrow();
            if data.len() != *len {
                *len = usize::MAX;
                return Err(runtime_error("dictionary changed size during iteration"));
            }
            match data.next_from(*pos) {
                Some((p, e)) => {
                    *pos = p;
                    Ok(Some(match kind {
                        DictIterKind::Keys => e.key.clone(),
                        DictIterKind::Values => e.value.clone(),
                        DictIterKind::Items => Value::tuple([e.key.clone(), e.value.clone()]),
                    }))
                }
                None => Ok(None),
            }
        }
        IterState::Set { s, pos, len } => {
            let data = s.s.borrow();
            if data.len() != *len {
                *len = usize::MAX;
                return Err(runtime_error("Set changed size during iteration"));
            }
            match data.next_from(*pos) {
                Some((p, k)) => {
                    *pos = p;
                    Ok(Some(k))
                }
                None => Ok(None),
            }
        }
        IterState::Enumerate { it: inner, .. } => {
            let inner = inner.clone();
            drop(st);
            match vm.next(&inner)? {
                Some(v) => {
                    let mut st = it.state.borrow_mut();
                    if let IterState::Enumerate { count, big, .. } = &mut *st {
                        let c = match big {
                            Some(b) => {
                                let c = Value::from_bigint((**b).clone());
                                **b += 1;
                                c
                            }
                            None => {
                                let c = *count;
                                match count.checked_add(1) {
                                    Some(n) => *count = n,
                                    None => *big = Some(Box::new(num_bigint::BigInt::from(c) + 1)),
                                }
                                Value::Int(c)
                            }
                        };
                        return Ok(Some(Value::tuple([c, v])));
                    }
                    Ok(None)
                }
                None => Ok(None),
            }
        }
        IterState::Zip { its, strict } => {
            let its = its.clone();
            let strict = *strict;
            drop(st);
            if its.is_empty() {
                return Ok(None);
            }
            let mut out = Vec::with_capacity(its.len());
            for (i, x) in its.iter().enumerate() {
                match vm.next(x)? {
                    Some(v) => out.push(v),
                    None => {
                        if strict {
                            if i > 0 {
                                return Err(value_error(format!(
                                    "zip() argument {} is shorter than argument{} 1{}",
                                    i + 1,
                                    if i > 1 { "s" } else { "" },
                                    if i > 1 { format!("-{i}") } else { String::new() }
                                )));
                            }
                            for (j, y) in its.iter().enumerate().skip(1) {
                                if vm.next(y)?.is_some() {
                                    return Err(value_error(format!(
                                        "zip() argument {} is longer than argument{} 1{}",
                                        j + 1,
                                        if j > 1 { "s" } else { "" },
                                        if j > 1 { format!("-{j}") } else { String::new() }
                                    )));
                                }
                            }
                        }
                        *it.state.borrow_mut() = IterState::Exhausted { name: "zip" };
                        return Ok(None);
                    }
                }
            }
            Ok(Some(Value::tuple(out)))
        }
        IterState::Map { f, its } => {
            if let [x] = &its[..] {
                // `map(f, xs)`: one argument, no list of iterators to copy
                // nor argument list to build.
                let (f, x) = (f.clone(), x.clone());
                drop(st);
                return match vm.next(&x)? {
                    Some(v) => vm.call_pos(&f, [v]).map(Some),
                    None => Ok(None),
                };
            }
            let (f, its) = (f.clone(), its.clone());
            drop(st);
            let mut args = Args::default();
            for x in &its {
                match vm.next(x)? {
                    Some(v) => args.pos.push(v),
                    None => return Ok(None),
                }
            }
            vm.call(f, args).map(Some)
        }
        IterState::Filter { f, it: inner, keep_true } => {
            let (f, inner, keep) = (f.clone(), inner.clone(), *keep_true);
            drop(st);
            while let Some(v) = vm.next(&inner)? {
                let t = if f.is_none() {
                    vm.truthy(&v)?
                } else {
                    let r = vm.call_pos(&f, [v.clone()])?;
                    vm.truthy(&r)?
                };
                if t == keep {
                    return Ok(Some(v));
                }
            }
            Ok(None)
        }
        IterState::Seq { seq, idx, reverse } => {
            let (seq, i, reverse) = (seq.clone(), *idx, *reverse);
            drop(st);
            if i < 0 {
                return Ok(None);
            }
            match vm.getitem(&seq, &Value::Int(i)) {
                Ok(v) => {
                    if let IterState::Seq { idx, .. } = &mut *it.state.borrow_mut() {
                        *idx = if reverse { i - 1 } else { i + 1 };
                    }
                    Ok(Some(v))
                }
                Err(e) if e.is(&types().exc.index_error) || e.is(&types().exc.stop_iteration) => {
                    *it.state.borrow_mut() = IterState::Exhausted { name: "iterator" };
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        }
        IterState::Callable { f, sentinel } => {
            let (f, sentinel) = (f.clone(), sentinel.clone());
            drop(st);
            let v = vm.call(f, Args::default())?;
            if vm.eq(&v, &sentinel)? {
                *it.state.borrow_mut() = IterState::Exhausted { name: "callable_iterator" };
                return Ok(None);
            }
            Ok(Some(v))
        }
        IterState::Count { cur, step } => {
            let (c, s) = (cur.clone(), step.clone());
            drop(st);
            let n = vm.binary(crate::ops::ADD, &c, &s)?;
            if let IterState::Count { cur, .. } = &mut *it.state.borrow_mut() {
                *cur = n;
            }
            Ok(Some(c))
        }
        IterState::Chain { .. } => {
            drop(st);
            loop {
                // The current source; a new one is made an iterator when reached.
                let (current, fresh) = {
                    let mut st = it.state.borrow_mut();
                    let IterState::Chain { sources, cur } = &mut *st else { return Ok(None) };
                    match cur {
                        Some(c) => (c.clone(), false),
                        None if sources.is_empty() => return Ok(None),
                        None => (sources.remove(0), true),
                    }
                };
                let current = if fresh {
                    let i = vm.iter(&current)?;
                    if let IterState::Chain { cur, .. } = &mut *it.state.borrow_mut() {
                        *cur = Some(i.clone());
                    }
                    i
                } else {
                    current
                };
                match vm.next(&current)? {
                    Some(v) => return Ok(Some(v)),
                    None => {
                        if let IterState::Chain { cur, .. } = &mut *it.state.borrow_mut() {
                            *cur = None;
                        }
                    }
                }
            }
        }
        IterState::Islice { it: inner, next, stop, step, pos } => {
            let (inner, target, stop_at) = (inner.clone(), *next, *stop);
            let step = *step;
            let mut p = *pos;
            drop(st);
            if stop_at.is_some_and(|s| target >= s) {
                // Consume up to stop as CPython does, then finish.
                while stop_at.is_some_and(|s| p < s) {
                    if vm.next(&inner)?.is_none() {
                        break;
                    }
                    p += 1;
                }
                *it.state.borrow_mut() = IterState::Exhausted { name: "islice" };
                return Ok(None);
            }
            while p < target {
                if vm.next(&inner)?.is_none() {
                    *it.state.borrow_mut() = IterState::Exhausted { name: "islice" };
                    return Ok(None);
                }
                p += 1;
            }
            match vm.next(&inner)? {
                Some(v) => {
                    if let IterState::Islice { next, pos, .. } = &mut *it.state.borrow_mut() {
                        *pos = p + 1;
                        *next = target + step;
                    }
                    Ok(Some(v))
                }
                None => {
                    *it.state.borrow_mut() = IterState::Exhausted { name: "islice" };
                    Ok(None)
                }
            }
        }
        IterState::Repeat { v, left } => match left {
            Some(0) => Ok(None),
            Some(n) => {
                *n -= 1;
                Ok(Some(v.clone()))
            }
            None => Ok(Some(v.clone())),
        },
        IterState::Cycle { it: src, saved, idx } => {
            if let Some(s) = src.clone() {
                drop(st);
                let r = vm.next(&s)?;
                let mut st = it.state.borrow_mut();
                let IterState::Cycle { it: src, saved, .. } = &mut *st else { return Ok(None) };
                match r {
                    Some(v) => {
                        saved.push(v.clone());
                        return Ok(Some(v));
                    }
                    None => *src = None,
                }
                drop(st);
                return next_builtin(vm, it);
            }
            if saved.is_empty() {
                return Ok(None);
            }
            let v = saved[*idx % saved.len()].clone();
            *idx = (*idx + 1) % saved.len();
            Ok(Some(v))
        }
        IterState::Exhausted { .. } => Ok(None),
    }
}

impl Vm {
    /// `iter(v)`.
    pub fn iter(&mut self, v: &Value) -> PyResult<Value> {
        if let Some(it) = iter_builtin(v) {
            return Ok(it);
        }
        if !matches!(v, Value::Instance(_) | Value::Object(_) | Value::Class(_)) {
            return Err(type_error(format!("'{}' object is not iterable", type_name(v))));
        }
        if let Some(p) = crate::ops::inherited_builtin_payload(v, "__iter__") {
            return self.iter(&p);
        }
        if let Some(f) = lookup_special(v, "__iter__") {
            let it = match &f {
                // A generator `__iter__` (`yield from self.left`): the
                // generator is made here, with no argument list.
                Value::Function(func) if func.code.simple_resumable && func.code.argcount == 1 => {
                    crate::generator::new_generator_with_args(self, func, [v.clone()])
                }
                _ => self.call_pos(&f, [v.clone()])?,
            };
            if !self.is_iterator(&it) {
                return Err(type_error(format!("iter() returned non-iterator of type '{}'", type_name(&it))));
            }
            return Ok(it);
        }
        if lookup_special(v, "__getitem__").is_some() {
            return Ok(make(IterState::Seq { seq: v.clone(), idx: 0, reverse: false }));
        }
        if let Some(p) = builtin_payload(v) {
            return self.iter(&p);
        }
        Err(type_error(format!("'{}' object is not iterable", type_name(v))))
    }

    /// Does `v` support `next()`?
    pub fn is_iterator(&self, v: &Value) -> bool {
        match v {
            Value::Iter(_) => true,
            Value::Generator(g) => g.kind == GenKind::Generator,
            Value::Instance(_) | Value::Object(_) => lookup_special(v, "__next__").is_some(),
            _ => false,
        }
    }

    /// `next(it)`: `None` when exhausted.
    pub fn next(&mut self, it: &Value) -> PyResult<Option<Value>> {
        match it {
            Value::Iter(i) => next_builtin(self, i),
            Value::Generator(g) if g.kind == GenKind::Generator => crate::generator::gen_next(self, g),
            Value::Object(o) => match o.next_item() {
                Some(next) => Ok(next),
                None => self.next_by_method(it),
            },
            Value::Instance(_) => self.next_by_method(it),
            _ => Err(type_error(format!("'{}' object is not an iterator", type_name(it)))),
        }
    }

    /// `next(it)` through the iterator's `__next__`.
    fn next_by_method(&mut self, it: &Value) -> PyResult<Option<Value>> {
        match lookup_special(it, "__next__") {
            Some(f) => match self.call_pos(&f, [it.clone()]) {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.is(&types().exc.stop_iteration) => Ok(None),
                Err(e) => Err(e),
            },
            None => Err(type_error(format!("'{}' object is not an iterator", type_name(it)))),
        }
    }

    /// All items of an iterable.
    pub fn collect(&mut self, v: &Value) -> PyResult<Vec<Value>> {
        match v {
            Value::List(l) => Ok(l.to_vec()),
            Value::Tuple(t) => Ok(t.items.to_vec()),
            // No code runs while a set's keys are copied out.
            Value::Set(s) | Value::FrozenSet(s) => Ok(s.items()),
            // Nor while a dict's keys, or a view's entries, are.
            Value::Dict(d) => Ok(d.d.borrow().keys()),
            Value::Object(o) => match o.as_any().downcast_ref::<crate::types::dict::DictView>() {
                Some(view) => Ok(view.items()),
                None => self.collect_by_next(v),
            },
            Value::Generator(g) if g.kind == GenKind::Generator => {
                // Collecting runs no code between values: the generator
                // runs to its end in one loop (see `generator::drain`).
                let mut sink = crate::generator::Sink::Collect(Vec::with_capacity(8));
                while let Some(v) = crate::generator::drain(self, g, &mut sink)? {
                    sink.take(v);
                }
                match sink {
                    crate::generator::Sink::Collect(items) => Ok(items),
                    _ => unreachable!("a collecting sink"),
                }
            }
            _ => self.collect_by_next(v),
        }
    }

    /// `collect` through the iterator protocol.
    fn collect_by_next(&mut self, v: &Value) -> PyResult<Vec<Value>> {
        let it = self.iter(v)?;
        let mut out = Vec::new();
        while let Some(x) = self.next(&it)? {
            out.push(x);
        }
        Ok(out)
    }
}

fn iter_self(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(args.pos.first().cloned().unwrap_or(Value::None))
}

fn iter_next(vm: &mut Vm, args: Args) -> PyResult {
    let it = args.pos.first().cloned().unwrap_or(Value::None);
    match vm.next(&it)? {
        Some(v) => Ok(v),
        None => Err(stop_iteration(Value::None)),
    }
}

fn iter_length_hint(_vm: &mut Vm, args: Args) -> PyResult {
    if let Some(Value::Iter(i)) = args.pos.first() {
        return Ok(Value::Int(match &*i.state.borrow() {
            IterState::List { list, idx } => list.len().saturating_sub(*idx) as i64,
            IterState::Tuple { t, idx } => t.len().saturating_sub(*idx) as i64,
            IterState::Range { left, .. } => *left as i64,
            _ => 0,
        }));
    }
    Ok(Value::Int(0))
}

/// The methods every builtin iterator class has.
pub fn install_iterator_methods(c: &Rc<Class>) {
    method(c, "iterator", "__iter__", iter_self);
    method(c, "iterator", "__next__", iter_next);
    method(c, "iterator", "__length_hint__", iter_length_hint);
}

/// Nothing to install up front: iterator classes are made on first use.
pub fn install(_t: &'static Types) {}

/// The next item of a list, tuple or range iterator without the VM:
/// `Some(Some(v))` an item, `Some(None)` exhausted, `None` for the other
/// kinds (they may run code; use `next_builtin`).
#[inline]
pub fn next_fast(it: &PyIter) -> Option<Option<Value>> {
    let mut st = it.state.borrow_mut();
    match &mut *st {
        IterState::Range { next, left, step } => Some(range_step(next, left, *step).map(Value::Int)),
        IterState::List { list, idx } => Some(list_step(list, idx).or_else(|| {
            *st = IterState::Exhausted { name: "list_iterator" };
            None
        })),
        IterState::Tuple { t, idx } => Some(tuple_step(t, idx)),
        _ => None,
    }
}

/// A range iterator's next item (`None` at its end).
#[inline(always)]
fn range_step(next: &mut i64, left: &mut usize, step: i64) -> Option<i64> {
    if *left == 0 {
        return None;
    }
    let v = *next;
    *left -= 1;
    if *left > 0 {
        *next += step;
    }
    Some(v)
}

/// A list iterator's next item (`None` at the list's end, when the
/// iterator becomes exhausted).
#[inline(always)]
fn list_step(list: &PyList, idx: &mut usize) -> Option<Value> {
    let l = list.borrow();
    let v = l.get(*idx)?.clone();
    *idx += 1;
    Some(v)
}

/// A tuple iterator's next item.
#[inline(always)]
fn tuple_step(t: &PyTuple, idx: &mut usize) -> Option<Value> {
    let v = t.items.get(*idx)?.clone();
    *idx += 1;
    Some(v)
}

/// `next_fast` for a range iterator, `None` for any other.
#[inline(always)]
pub fn next_range(it: &PyIter) -> Option<Option<Value>> {
    match &mut *it.state.borrow_mut() {
        IterState::Range { next, left, step } => Some(range_step(next, left, *step).map(Value::Int)),
        _ => None,
    }
}

/// `next_fast` for a list iterator, `None` for any other (an exhausted
/// one among them).
#[inline(always)]
pub fn next_list(it: &PyIter) -> Option<Option<Value>> {
    let mut st = it.state.borrow_mut();
    let IterState::List { list, idx } = &mut *st else { return None };
    Some(list_step(list, idx).or_else(|| {
        *st = IterState::Exhausted { name: "list_iterator" };
        None
    }))
}

/// `next_fast` for a tuple iterator, `None` for any other.
#[inline(always)]
pub fn next_tuple(it: &PyIter) -> Option<Option<Value>> {
    match &mut *it.state.borrow_mut() {
        IterState::Tuple { t, idx } => Some(tuple_step(t, idx)),
        _ => None,
    }
}

/// `next_fast` for a dict iterator, and for an enumerate or a two-way zip
/// over lists, tuples or ranges (kept apart: a dict arm in `next_fast` made
/// every list step dearer). `None` for other iterators, and when the dict
/// changed size (the general path raises).
#[inline(never)]
pub fn next_fast_other(it: &PyIter) -> Option<Option<Value>> {
    let mut st = it.state.borrow_mut();
    match &mut *st {
        IterState::Dict { d, pos, len, kind } => dict_step(d, pos, *len, |e| match kind {
            DictIterKind::Keys => e.key.clone(),
            DictIterKind::Values => e.value.clone(),
            DictIterKind::Items => Value::tuple([e.key.clone(), e.value.clone()]),
        }),
        // An enumerate straight over a list, tuple or range only: one of
        // another enumerate would step it here again, as deep as they nest.
        IterState::Enumerate { it: Value::Iter(inner), .. } if steps_natively(inner) => {
            drop(st);
            next_item_pair(it).map(|pair| pair.map(|(a, b)| Value::tuple([a, b])))
        }
        IterState::Zip { .. } => {
            drop(st);
            next_item_pair(it).map(|pair| pair.map(|(a, b)| Value::tuple([a, b])))
        }
        IterState::Set { s, pos, len } => set_step(s, pos, *len),
        _ => None,
    }
}

/// `for k, v in d.items()` / `for i, x in enumerate(seq)` / `zip(xs, ys)`:
/// the next pair of a dict items iterator, an enumerate or a zip, without the tuple the loop would
/// unpack at once. `None` for other iterators, and as in `next_fast`.
#[inline(never)]
pub fn next_item_pair(it: &PyIter) -> Option<Option<(Value, Value)>> {
    let mut st = it.state.borrow_mut();
    match &mut *st {
        IterState::Dict { d, pos, len, kind: DictIterKind::Items } => dict_step(d, pos, *len, |e| (e.key.clone(), e.value.clone())),
        // `for i, x in enumerate(seq)` over a list, tuple, range...: the
        // count and the item with no tuple. A count about to pass
        // `i64::MAX` and other inner iterators take the general path.
        IterState::Enumerate { it: Value::Iter(inner), count, big: None } if *count < i64::MAX => {
            let item = next_fast(inner).or_else(|| next_fast_other(inner))?;
            Some(item.map(|v| {
                let c = *count;
                *count += 1;
                (Value::Int(c), v)
            }))
        }
        // `for a, b in zip(xs, ys)` over lists, tuples or ranges (not
        // strict: a length check raises on the general path).
        IterState::Zip { its, strict: false } if its.len() == 2 => {
            let (Value::Iter(a), Value::Iter(b)) = (&its[0], &its[1]) else { return None };
            if !steps_natively(a) || !steps_natively(b) {
                return None;
            }
            // The second is stepped only when the first gave an item, as
            // zip does; either ending ends the loop.
            let Some(Some(x)) = next_fast(a) else { return Some(None) };
            match next_fast(b) {
                Some(Some(y)) => Some(Some((x, y))),
                _ => Some(None),
            }
        }
        _ => None,
    }
}

/// Whether `next_fast` steps `it` (a list, tuple or range iterator that has
/// not ended), so a step of it cannot fall to the general path.
fn steps_natively(it: &PyIter) -> bool {
    matches!(&*it.state.borrow(), IterState::List { .. } | IterState::Tuple { .. } | IterState::Range { .. })
}

/// One step of a set iterator at `pos`: `Some(None)` at the end, `None`
/// when the set changed size (the general path raises).
#[inline(always)]
fn set_step(s: &PySet, pos: &mut usize, len: usize) -> Option<Option<Value>> {
    let data = s.s.borrow();
    if data.len() != len {
        return None;
    }
    Some(data.next_from(*pos).map(|(p, k)| {
        *pos = p;
        k
    }))
}

/// One step of a dict iterator at `pos`, taking what `take` makes of the
/// entry: `Some(None)` at the end, `None` when the dict changed size (the
/// general path raises).
#[inline(always)]
fn dict_step<R>(d: &PyDict, pos: &mut usize, len: usize, take: impl FnOnce(&crate::dict::Entry) -> R) -> Option<Option<R>> {
    let data = d.d.borrow();
    if data.len() != len {
        return None;
    }
    Some(data.next_from(*pos).map(|(p, e)| {
        *pos = p;
        take(e)
    }))
}
