//! `list`: construction, item and slice access and assignment, and the
//! list methods (including a stable `sort` whose comparisons may call .aio code).

use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::types::{adjust_slice, check_count, method, method_fast, seq_index, slice_indices, type_name, unpack_slice, Types};
use crate::value::Value;
use crate::vm::Vm;

/// `list(iterable=())`.
pub fn construct(vm: &mut Vm, args: Args) -> PyResult {
    if !args.kw.is_empty() {
        return Err(type_error("list() takes no keyword arguments"));
    }
    match args.pos.first() {
        None => Ok(Value::list(vec![])),
        Some(v) => Ok(Value::list(vm.collect(v)?)),
    }
}

fn index_of(vm: &mut Vm, i: &Value) -> PyResult<i64> {
    match i {
        Value::Int(n) => Ok(*n),
        Value::Bool(_) | Value::BigInt(_) | Value::Instance(_) => match i {
            Value::BigInt(_) => Err(crate::ops::index_too_big()),
            _ => vm.index_value(i).map_err(|_| type_error(format!("list indices must be integers or slices, not {}", type_name(i)))),
        },
        _ => Err(type_error(format!("list indices must be integers or slices, not {}", type_name(i)))),
    }
}

/// `l[i]` / `l[a:b:c]`.
pub fn getitem(vm: &mut Vm, l: &Rc<PyList>, i: &Value) -> PyResult {
    if let Value::Slice(s) = i {
        // The bounds' `__index__` may change the list: its length is read after.
        let (start, stop, step) = unpack_slice(vm, s)?;
        let items = l.borrow();
        let (start, _, step, count) = adjust_slice(items.len(), start, stop, step);
        return Ok(Value::list(crate::types::tuple::pick_items(&items, start, step, count)));
    }
    let n = index_of(vm, i)?;
    let items = l.borrow();
    seq_index(n, items.len()).map(|j| items[j].clone()).ok_or_else(|| index_error("list index out of range"))
}

/// `l[i] = v` / `l[a:b:c] = iterable`.
pub fn setitem(vm: &mut Vm, l: &Rc<PyList>, i: &Value, v: Value) -> PyResult<()> {
    if let Value::Slice(s) = i {
        let (start, stop, step) = unpack_slice(vm, s)?;
        return assign_slice(vm, l, (start, stop, step), v);
    }
    let n = index_of(vm, i)?;
    let mut items = l.borrow_mut();
    match seq_index(n, items.len()) {
        Some(j) => {
            items[j] = v;
            Ok(())
        }
        None => Err(index_error("list assignment index out of range")),
    }
}

/// `l[a:b:c] = v` for a slice whose parts (`[a, b]` or `[a, b, c]`) are
/// ints or None and a list or tuple `v` that fits: done in place, with no
/// slice object or copy of `v`. False, with nothing changed, for the
/// general path (which also raises what is wrong).
pub fn assign_slice_plain(l: &Rc<PyList>, parts: &[Value], v: &Value) -> bool {
    match crate::types::plain_slice_bounds(parts) {
        Some(bounds) => matches!(assign_slice_from_seq(l, bounds, v), Some(Ok(()))),
        None => false,
    }
}

/// `a + b` for a list `a` nothing else holds (a temporary, such as
/// `l[c:c+1] + l[:c]`) and a list `b`: `b`'s items are added to `a`
/// itself, which becomes the result, with no new list and no copy of
/// `a`'s items; a `b` nothing else holds gives its items up rather than
/// copies. Nobody can tell: no name, container or weak reference sees
/// either. `Err` gives the operands back for the general operator.
pub fn concat_into_unique(a: Value, b: Value) -> Result<Value, (Value, Value)> {
    let unique = |l: &Rc<PyList>| Rc::strong_count(l) == 1 && Rc::weak_count(l) == 0;
    match (&a, &b) {
        (Value::List(l), Value::List(m)) if unique(l) => {
            if unique(m) {
                l.borrow_mut().append(&mut m.borrow_mut());
            } else {
                let src = m.borrow();
                l.borrow_mut().extend(src.iter().cloned());
            }
            Ok(a)
        }
        _ => Err((a, b)),
    }
}

/// `l[a:b:c] = v` with the slice unpacked (by `types::unpack_slice`).
fn assign_slice(vm: &mut Vm, l: &Rc<PyList>, bounds: (Option<i64>, Option<i64>, i64), v: Value) -> PyResult<()> {
    if let Some(r) = assign_slice_from_seq(l, bounds, &v) {
        return r;
    }
    let step = bounds.2;
    let it = vm.iter(&v).map_err(|e| {
        if e.is(&crate::types::types().exc.type_error) {
            type_error(if step == 1 { "can only assign an iterable" } else { "must assign iterable to extended slice" })
        } else {
            e
        }
    })?;
    let new = vm.collect(&it)?;
    // The bounds are resolved after `v` is read: iterating it may have
    // changed the list.
    assign_slice_moved(l, bounds, new)
}

/// The error of an extended slice assignment of `given` items to `count` places.
fn extended_size_error(given: usize, count: usize) -> PyErr {
    value_error(format!("attempt to assign sequence of size {given} to extended slice of size {count}"))
}

/// Drop the items a slice assignment replaced, once the list is released (a
/// drop may queue a finalizer): in CPython's order, last first for a simple
/// slice and in slice order for an extended one.
fn drop_replaced(old: Vec<Value>, last_first: bool) {
    if last_first {
        old.into_iter().rev().for_each(drop);
    } else {
        drop(old);
    }
}

/// `l[a:b:c] = seq` for a list or tuple `seq` other than `l`: the items are
/// cloned straight from it, with no intermediate vector. `None` when `seq`
/// is something else (the caller collects it).
fn assign_slice_from_seq(l: &Rc<PyList>, bounds: (Option<i64>, Option<i64>, i64), seq: &Value) -> Option<PyResult<()>> {
    if let Value::List(src) = seq {
        if !Rc::ptr_eq(src, l) && Rc::strong_count(src) == 1 && Rc::weak_count(src) == 0 {
            // A temporary (`l[:] = l[c:] + l[:c]`) that is dropped after
            // this: its items are moved, not copied (once the sizes are
            // known to fit: the caller may retry on an error).
            let (_, _, step, count) = adjust_slice(l.len(), bounds.0, bounds.1, bounds.2);
            if step != 1 && src.len() != count {
                return Some(Err(extended_size_error(src.len(), count)));
            }
            let moved = std::mem::take(&mut *src.borrow_mut());
            return Some(assign_slice_moved(l, bounds, moved));
        }
    }
    let src_list;
    let src: &[Value] = match seq {
        Value::List(src) if !Rc::ptr_eq(src, l) => {
            src_list = src.borrow();
            &src_list
        }
        Value::Tuple(t) => &t.items,
        _ => return None,
    };
    let (start, stop, step, count) = adjust_slice(l.len(), bounds.0, bounds.1, bounds.2);
    if step != 1 && src.len() != count {
        return Some(Err(extended_size_error(src.len(), count)));
    }
    let mut items = l.borrow_mut();
    if step == 1 && src.len() != count {
        let stop = stop.max(start) as usize;
        let old: Vec<Value> = items.splice(start as usize..stop, src.iter().cloned()).collect();
        drop(items);
        drop_replaced(old, true);
        return Some(Ok(()));
    }
    // As many items as the slice holds: replaced in place. Ints and other
    // immediates need no keeping.
    let mut old = Vec::new();
    let mut k = start;
    for x in src {
        let prev = std::mem::replace(&mut items[k as usize], x.clone());
        if !prev.is_immediate() {
            old.push(prev);
        }
        k += step;
    }
    drop(items);
    drop_replaced(old, step == 1);
    Some(Ok(()))
}

/// `assign_slice_from_seq` with the new items owned.
fn assign_slice_moved(l: &Rc<PyList>, bounds: (Option<i64>, Option<i64>, i64), new: Vec<Value>) -> PyResult<()> {
    let (start, stop, step, count) = adjust_slice(l.len(), bounds.0, bounds.1, bounds.2);
    let mut items = l.borrow_mut();
    if step == 1 {
        let (start, stop) = (start as usize, stop.max(start) as usize);
        let old: Vec<Value> =
            if start == 0 && stop == items.len() { std::mem::replace(&mut *items, new) } else { items.splice(start..stop, new).collect() };
        drop(items);
        drop_replaced(old, true);
        return Ok(());
    }
    if new.len() != count {
        return Err(extended_size_error(new.len(), count));
    }
    let mut old = Vec::with_capacity(count);
    let mut k = start;
    for x in new {
        old.push(std::mem::replace(&mut items[k as usize], x));
        k += step;
    }
    drop(items);
    drop_replaced(old, false);
    Ok(())
}

/// `del l[i]` / `del l[a:b:c]`.
pub fn delitem(vm: &mut Vm, l: &Rc<PyList>, i: &Value) -> PyResult<()> {
    if let Value::Slice(s) = i {
        let len = l.len();
        let (start, _stop, step, count) = slice_indices(vm, s, len)?;
        if count == 0 {
            return Ok(());
        }
        // The deleted positions run from `lo` to `hi` every `stride`: one
        // pass keeps the others, in linear time.
        let last = start + (count as i64 - 1) * step;
        let (lo, hi) = (start.min(last) as usize, start.max(last) as usize);
        let stride = step.unsigned_abs() as usize;
        let mut items = l.borrow_mut();
        // The list may have shrunk while a bound's `__index__` ran.
        let hi = hi.min(items.len().saturating_sub(1));
        let old = std::mem::take(&mut *items);
        let mut removed = Vec::with_capacity(count);
        items.reserve(old.len() - count.min(old.len()));
        for (j, v) in old.into_iter().enumerate() {
            if j >= lo && j <= hi && (j - lo) % stride == 0 {
                removed.push(v);
            } else {
                items.push(v);
            }
        }
        // The removed values are dropped once the list is no longer borrowed.
        drop(items);
        drop(removed);
        return Ok(());
    }
    let n = index_of(vm, i)?;
    let mut items = l.borrow_mut();
    match seq_index(n, items.len()) {
        Some(j) => {
            items.remove(j);
            Ok(())
        }
        None => Err(index_error("list assignment index out of range")),
    }
}

fn this(args: &Args) -> PyResult<Rc<PyList>> {
    this_of(args.pos.first())
}

/// The list a method was called on (`self`).
fn this_of(v: Option<&Value>) -> PyResult<Rc<PyList>> {
    match v {
        Some(Value::List(l)) => Ok(l.clone()),
        Some(Value::Instance(i)) => match i.builtin_value() {
            Some(Value::List(l)) => Ok(l),
            _ => Err(type_error("descriptor requires a 'list' object")),
        },
        _ => Err(type_error("descriptor requires a 'list' object")),
    }
}

pub(crate) fn append(_vm: &mut Vm, args: &[Value]) -> PyResult {
    let [this, v] = args else {
        return Err(type_error(format!("list.append() takes exactly one argument ({} given)", args.len().saturating_sub(1))));
    };
    // A list itself without the count of `this_of`'s clone.
    match this {
        Value::List(l) => l.push(v.clone()),
        _ => this_of(Some(this))?.push(v.clone()),
    }
    Ok(Value::None)
}

fn extend(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("list.extend", args.len().saturating_sub(1), 1, 1)?;
    let l = this_of(args.first())?;
    let items = vm.collect(&args[1])?;
    l.borrow_mut().extend(items);
    Ok(Value::None)
}

fn insert(vm: &mut Vm, args: &[Value]) -> PyResult {
    if args.len() != 3 {
        return Err(type_error(format!("insert expected 2 arguments, got {}", args.len().saturating_sub(1))));
    }
    let l = this_of(args.first())?;
    let i = vm.index_value(&args[1])?;
    let mut items = l.borrow_mut();
    let n = items.len() as i64;
    let j = if i < 0 { (i + n).max(0) } else { i.min(n) };
    items.insert(j as usize, args[2].clone());
    Ok(Value::None)
}

fn pop(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("pop", args.len().saturating_sub(1), 0, 1)?;
    let l = this_of(args.first())?;
    let i = match args.get(1) {
        Some(v) => vm.index_value(v)?,
        None => -1,
    };
    let mut items = l.borrow_mut();
    if items.is_empty() {
        return Err(index_error("pop from empty list"));
    }
    match seq_index(i, items.len()) {
        Some(j) => Ok(items.remove(j)),
        None => Err(index_error("pop index out of range")),
    }
}

fn remove(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("list.remove", args.len().saturating_sub(1), 1, 1)?;
    let l = this_of(args.first())?;
    let Some(i) = vm.list_position(&l, &args[1], 0, usize::MAX)? else {
        return Err(value_error("list.remove(x): x not in list"));
    };
    // An `__eq__` may have shortened the list: then nothing goes.
    let removed = (i < l.len()).then(|| l.borrow_mut().remove(i));
    drop(removed);
    Ok(Value::None)
}

fn index(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("index", args.len().saturating_sub(1), 1, 3)?;
    let l = this_of(args.first())?;
    let n = l.len() as i64;
    let (start, stop) = crate::types::search_range(vm, args.get(2), args.get(3), n)?;
    if start < stop {
        if let Some(i) = vm.list_position(&l, &args[1], start as usize, stop as usize)? {
            return Ok(Value::Int(i as i64));
        }
    }
    let r = vm.repr_str(&args[1])?;
    Err(value_error(format!("{r} is not in list")))
}

fn count(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("list.count", args.len().saturating_sub(1), 1, 1)?;
    let l = this_of(args.first())?;
    let mut n = 0;
    let mut from = 0;
    while let Some(i) = vm.list_position(&l, &args[1], from, usize::MAX)? {
        n += 1;
        from = i + 1;
    }
    Ok(Value::Int(n))
}

fn reverse(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.borrow_mut().reverse();
    Ok(Value::None)
}

fn copy(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::list(this(&args)?.to_vec()))
}

fn clear(_vm: &mut Vm, args: Args) -> PyResult {
    let mut items = std::mem::take(&mut *this(&args)?.borrow_mut());
    // Last item first, as CPython releases them.
    while items.pop().is_some() {}
    Ok(Value::None)
}

/// `sorted(items, key=key, reverse=reverse)`: the items in order, or the
/// first error of a key function or comparison.
pub fn sort_values(vm: &mut Vm, items: Vec<Value>, key: Option<Value>, reverse: bool) -> PyResult<Vec<Value>> {
    let (items, r) = sort_items(vm, items, key, reverse);
    r.map(|()| items)
}

/// Sort `items` as `list.sort` does: the key function first runs on every
/// item, then the keys are compared with `<`. Always gives the items back:
/// sorted, or, after an error, unchanged when a key function failed and
/// in the order the sort had reached when a comparison failed.
///
/// `reverse` reverses the items, sorts them stably and reverses them back,
/// so that equal items keep their order.
fn sort_items(vm: &mut Vm, items: Vec<Value>, key: Option<Value>, reverse: bool) -> (Vec<Value>, PyResult<()>) {
    let computed: Option<Vec<Value>> = match key {
        Some(k) if !k.is_none() => {
            let mut ks = Vec::with_capacity(items.len());
            for it in &items {
                match vm.call_pos(&k, [it.clone()]) {
                    Ok(v) => ks.push(v),
                    Err(e) => {
                        // The keys made so far go last first, as CPython releases them.
                        drop_replaced(ks, true);
                        return (items, Err(e));
                    }
                }
            }
            Some(ks)
        }
        _ => None,
    };
    // Without a key function the items are their own keys.
    let keys: &[Value] = computed.as_deref().unwrap_or(&items);
    let mut idx: Vec<usize> = (0..items.len()).collect();
    if reverse {
        idx.reverse();
    }
    let r = sort_keys(vm, &mut idx, keys);
    // The keys go in the order the sort left them, as CPython releases them.
    if let Some(mut ks) = computed {
        for &i in &idx {
            drop(std::mem::replace(&mut ks[i], Value::None));
        }
    }
    if reverse {
        idx.reverse();
    }
    // A sort cut short by Ctrl-C left the order unfinished.
    let r = r.and_then(|()| vm.poll_interrupt());
    let mut items = items;
    let sorted = idx.into_iter().map(|i| std::mem::replace(&mut items[i], Value::None)).collect();
    (sorted, r)
}

/// Sort the item numbers `idx` stably by `keys`. Homogeneous ints, floats,
/// strs and int tuples compare with no code to run, by the standard sort
/// (the order is the same); the rest as CPython sorts them, comparison by
/// comparison.
fn sort_keys(vm: &mut Vm, idx: &mut [usize], keys: &[Value]) -> PyResult<()> {
    if keys.iter().all(|k| matches!(k, Value::Int(_))) {
        let ks: Vec<i64> = keys.iter().map(|k| if let Value::Int(i) = k { *i } else { 0 }).collect();
        sort_interruptible(idx, |a, b| ks[a].cmp(&ks[b]));
    } else if keys.iter().all(|k| matches!(k, Value::Str(_))) {
        let ks: Vec<&str> = keys.iter().map(|k| if let Value::Str(s) = k { s.as_str() } else { "" }).collect();
        sort_interruptible(idx, |a, b| ks[a].cmp(ks[b]));
    } else if keys.iter().all(|k| matches!(k, Value::Float(f) if !f.get().is_nan())) {
        let ks: Vec<f64> = keys.iter().map(|k| if let Value::Float(f) = k { f.get() } else { 0.0 }).collect();
        sort_interruptible(idx, |a, b| ks[a].partial_cmp(&ks[b]).unwrap_or(std::cmp::Ordering::Equal));
    } else if let Some((flat, spans)) = int_tuple_keys(keys) {
        // Tuples of ints and bools (`(mine, knobby, count, id)` records):
        // compared item by item as Python compares them, with no call.
        let key = |i: usize| &flat[spans[i].0..spans[i].1];
        sort_interruptible(idx, |a, b| key(a).cmp(key(b)));
    } else {
        sort_running_code(vm, idx, keys)?;
    }
    Ok(())
}

/// Sort `idx` by `keys` whose `<` may run code. As CPython's sort does, the
/// key types decide once how to compare: keys all instances of one class
/// call its `__lt__` directly; non-empty tuple keys are compared item by
/// item here, their first items so when those are all of one class; the
/// rest take the general `<`.
fn sort_running_code(vm: &mut Vm, idx: &mut [usize], keys: &[Value]) -> PyResult<()> {
    let mut lookup = LtLookup::default();
    if one_class(keys.iter()) {
        return super::listsort::sort(idx, |a, b| {
            vm.poll_interrupt()?;
            same_class_lt(vm, &mut lookup, &keys[a], &keys[b])
        });
    }
    if let Some(tuples) = keys
        .iter()
        .map(|k| if let Value::Tuple(t) = k { (!t.items.is_empty()).then_some(&t.items[..]) } else { None })
        .collect::<Option<Vec<&[Value]>>>()
    {
        let mut first = one_class(tuples.iter().map(|t| &t[0])).then_some(&mut lookup);
        return super::listsort::sort(idx, |a, b| {
            vm.poll_interrupt()?;
            tuple_lt(vm, first.as_deref_mut(), tuples[a], tuples[b])
        });
    }
    super::listsort::sort(idx, |a, b| {
        vm.poll_interrupt()?;
        vm.lt(&keys[a], &keys[b])
    })
}

/// Whether the values (at least two) are all instances of one class.
fn one_class<'a>(mut values: impl Iterator<Item = &'a Value>) -> bool {
    let Some(Value::Instance(first)) = values.next() else { return false };
    let class = first.class.borrow();
    let mut more = false;
    for v in values {
        match v {
            Value::Instance(i) if Rc::ptr_eq(&i.class.borrow(), &class) => more = true,
            _ => return false,
        }
    }
    more
}

/// `a < b` for two tuples as CPython's sort compares tuple keys: the first
/// unequal items decide (the shorter tuple first when there are none);
/// when the first items differ and are all of one class (`first`), they
/// compare as `same_class_lt` does.
fn tuple_lt(vm: &mut Vm, first: Option<&mut LtLookup>, a: &[Value], b: &[Value]) -> PyResult<bool> {
    let len = a.len().min(b.len());
    let mut i = 0;
    while i < len && vm.eq(&a[i], &b[i])? {
        i += 1;
    }
    match first {
        _ if i >= len => Ok(a.len() < b.len()),
        Some(lookup) if i == 0 => same_class_lt(vm, lookup, &a[0], &b[0]),
        _ => vm.lt(&a[i], &b[i]),
    }
}

/// The `__lt__` that `compare_method_first` finds for instances of one
/// class, remembered while the class and all class namespaces stay as
/// they are (a comparison may change either).
#[derive(Default)]
struct LtLookup {
    class: Option<Rc<crate::object::Class>>,
    epoch: u64,
    method: Option<Rc<Function>>,
}

impl LtLookup {
    fn method(&mut self, a: &Value, b: &Value) -> Option<Rc<Function>> {
        let (Value::Instance(x), Value::Instance(y)) = (a, b) else { return None };
        let epoch = crate::dict::class_epoch();
        let class = x.class.borrow();
        if let Some(known) = &self.class {
            if self.epoch == epoch && Rc::ptr_eq(known, &class) && Rc::ptr_eq(known, &y.class.borrow()) {
                return self.method.clone();
            }
        }
        let method = crate::ops::compare_method_first(crate::ops::LT, a, b);
        if Rc::ptr_eq(&class, &y.class.borrow()) {
            *self = LtLookup { class: Some(class.clone()), epoch, method: method.clone() };
        }
        method
    }
}

/// `a < b` for two instances of one class, as CPython's sort compares
/// keys of one type: the class's own `__lt__` is called directly, and
/// only when it answers NotImplemented does the full comparison follow
/// (which calls it again, then `b.__gt__`).
fn same_class_lt(vm: &mut Vm, lookup: &mut LtLookup, a: &Value, b: &Value) -> PyResult<bool> {
    let Some(f) = lookup.method(a, b) else { return vm.lt(a, b) };
    match vm.call_pos(&Value::Function(f), [a.clone(), b.clone()])? {
        Value::Bool(t) => Ok(t.get()),
        Value::NotImplemented => vm.lt(a, b),
        other => vm.truthy(&other),
    }
}

/// All the items of tuple keys in one vector, and each key's span in it.
type IntTupleKeys = (Vec<i64>, Vec<(usize, usize)>);

/// The items of `keys` when each is a tuple of ints and bools: all the
/// items in one vector, and each key's span in it. Such tuples order as
/// their item sequences do (the first unequal item decides, a prefix comes
/// first), and a bool orders as the int it equals.
fn int_tuple_keys(keys: &[Value]) -> Option<IntTupleKeys> {
    // Checked before anything is allocated: tuple keys of other items
    // (pprint's `(_SafeKey, _SafeKey)`) are common.
    let ints = |k: &Value| matches!(k, Value::Tuple(t) if t.items.iter().all(|x| matches!(x, Value::Int(_) | Value::Bool(_))));
    if !keys.iter().all(ints) {
        return None;
    }
    // Room for keys as long as the first: records are alike.
    let width = match keys.first() {
        Some(Value::Tuple(t)) => t.items.len(),
        _ => 0,
    };
    let mut flat = Vec::with_capacity(keys.len() * width);
    let mut spans = Vec::with_capacity(keys.len());
    for k in keys {
        let Value::Tuple(t) = k else { return None };
        let start = flat.len();
        for x in t.items.iter() {
            flat.push(match x {
                Value::Int(i) => *i,
                Value::Bool(b) => b.get() as i64,
                _ => return None,
            });
        }
        spans.push((start, flat.len()));
    }
    Some((flat, spans))
}

/// Sort `idx` by `cmp`, stably, answering Ctrl-C as it goes: blocks are
/// sorted by the standard sort (fast, and short enough to finish), then
/// merged pass by pass by code of our own that can stop anywhere. When
/// Ctrl-C is pressed the order is left unfinished (the caller then raises
/// `KeyboardInterrupt`). The standard sort cannot be cut short: a
/// comparison that starts answering "equal" breaks its total order, which
/// it detects and panics on.
fn sort_interruptible(idx: &mut [usize], cmp: impl Fn(usize, usize) -> std::cmp::Ordering) {
    const BLOCK: usize = 1 << 14;
    let n = idx.len();
    for chunk in idx.chunks_mut(BLOCK) {
        if crate::vm::interrupted() {
            return;
        }
        chunk.sort_by(|&a, &b| cmp(a, b));
    }
    let mut buf = vec![0usize; n];
    let mut width = BLOCK;
    while width < n {
        for start in (0..n).step_by(2 * width) {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j, mut k) = (start, mid, start);
            while i < mid && j < end {
                // Stable: the left run's item goes first unless the right one is smaller.
                if cmp(idx[j], idx[i]) == std::cmp::Ordering::Less {
                    buf[k] = idx[j];
                    j += 1;
                } else {
                    buf[k] = idx[i];
                    i += 1;
                }
                k += 1;
                if k % 4096 == 0 && crate::vm::interrupted() {
                    return;
                }
            }
            buf[k..k + (mid - i)].copy_from_slice(&idx[i..mid]);
            k += mid - i;
            buf[k..k + (end - j)].copy_from_slice(&idx[j..end]);
        }
        idx.copy_from_slice(&buf);
        width *= 2;
    }
}

fn sort(vm: &mut Vm, mut args: Args) -> PyResult {
    let l = this(&args)?;
    if args.pos.len() > 1 {
        return Err(type_error("sort() takes no positional arguments"));
    }
    let key = args.take_kw("key");
    let reverse = match args.take_kw("reverse") {
        Some(r) => vm.truthy(&r)?,
        None => false,
    };
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("'{}' is an invalid keyword argument for sort()", k.as_str())));
    }
    // The list stays empty while it is sorted. What a key function or a
    // comparison puts in it is dropped when the sorted items come back;
    // then, unless one of them failed, the sort fails with ValueError.
    let items = std::mem::take(&mut *l.borrow_mut());
    let (items, r) = sort_items(vm, items, key, reverse);
    let added = std::mem::replace(&mut *l.borrow_mut(), items);
    let modified = !added.is_empty();
    drop_replaced(added, true);
    r?;
    if modified {
        return Err(value_error("list modified during sort"));
    }
    Ok(Value::None)
}

fn l_len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(this(&args)?.len() as i64))
}

fn l_getitem(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    getitem(vm, &l, args.pos.get(1).unwrap_or(&Value::None))
}

fn l_setitem(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    setitem(vm, &l, args.pos.get(1).unwrap_or(&Value::None), args.pos.get(2).cloned().unwrap_or(Value::None))?;
    Ok(Value::None)
}

fn l_delitem(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    delitem(vm, &l, args.pos.get(1).unwrap_or(&Value::None))?;
    Ok(Value::None)
}

fn l_contains(vm: &mut Vm, args: Args) -> PyResult {
    let l = Value::List(this(&args)?);
    Ok(Value::bool(vm.contains(&l, args.pos.get(1).unwrap_or(&Value::None))?))
}

fn l_iter(vm: &mut Vm, args: Args) -> PyResult {
    vm.iter(&Value::List(this(&args)?))
}

fn l_reversed(_vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    let left = l.len();
    Ok(crate::iter::make(crate::iter::IterState::ListRev { list: l, left }))
}

fn l_init(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    let items = match args.pos.get(1) {
        Some(v) => vm.collect(v)?,
        None => vec![],
    };
    *l.borrow_mut() = items;
    Ok(Value::None)
}

fn l_eq(vm: &mut Vm, args: Args) -> PyResult {
    let l = Value::List(this(&args)?);
    vm.compare(crate::ops::EQ, &l, args.pos.get(1).unwrap_or(&Value::None))
}

fn l_add(vm: &mut Vm, args: Args) -> PyResult {
    let l = Value::List(this(&args)?);
    vm.binary(crate::ops::ADD, &l, args.pos.get(1).unwrap_or(&Value::None))
}

fn l_iadd(vm: &mut Vm, args: Args) -> PyResult {
    let l = this(&args)?;
    let items = vm.collect(args.pos.get(1).unwrap_or(&Value::None))?;
    l.borrow_mut().extend(items);
    Ok(args.pos[0].clone())
}

/// Install the list methods.
pub fn install(t: &'static Types) {
    let c = &t.list;
    let fast: &[(&str, FastFnPtr)] =
        &[("append", append), ("insert", insert), ("pop", pop), ("extend", extend), ("remove", remove), ("index", index), ("count", count)];
    for (name, f) in fast {
        method_fast(c, "list", name, *f);
    }
    let methods: &[(&str, NativeFnPtr)] = &[
        ("reverse", reverse),
        ("copy", copy),
        ("clear", clear),
        ("sort", sort),
        ("__len__", l_len),
        ("__getitem__", l_getitem),
        ("__setitem__", l_setitem),
        ("__delitem__", l_delitem),
        ("__contains__", l_contains),
        ("__iter__", l_iter),
        ("__reversed__", l_reversed),
        ("__init__", l_init),
        ("__eq__", l_eq),
        ("__add__", l_add),
        ("__iadd__", l_iadd),
    ];
    for (name, f) in methods {
        method(c, "list", name, *f);
    }
}
