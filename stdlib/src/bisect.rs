//! `_bisect`: binary search in a sorted sequence and insertion that keeps
//! it sorted, as CPython's C module does them: items are read with
//! `a[i]` (a plain list directly), compared with `<`, and `key` is applied
//! to the items, not to `x`.

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::native_fn;
use aio_interp::{Value, Vm};

use crate::params::Sig;

/// The bound arguments of one of the four functions.
struct Search {
    a: Value,
    x: Value,
    lo: usize,
    hi: Option<Value>,
    key: Option<Value>,
}

fn bind(vm: &mut Vm, args: Args, qual: &str) -> PyResult<Search> {
    let mut v = if args.kw.is_empty() && (2..=4).contains(&args.pos.len()) {
        // The common call, bound without the general binder.
        let mut v: Vec<Option<Value>> = args.pos.into_iter().map(Some).collect();
        v.resize(5, None);
        v
    } else {
        Sig { qual, has_self: false, names: &["a", "x", "lo", "hi"], required: 2, kwonly: &["key"] }.bind(args)?
    };
    let key = v[4].take().filter(|k| !k.is_none());
    let hi = v[3].take().filter(|h| !h.is_none());
    let lo = match v[2].take() {
        None => 0,
        Some(l) => {
            let l = vm.index_value(&l)?;
            if l < 0 {
                return Err(value_error("lo must be non-negative"));
            }
            l as usize
        }
    };
    let (Some(a), Some(x)) = (v[0].take(), v[1].take()) else {
        return Err(type_error(format!("{qual}() missing required argument")));
    };
    Ok(Search { a, x, lo, hi, key })
}

/// The item at `i`: a plain list's own, else `a[i]`.
fn item(vm: &mut Vm, a: &Value, i: usize) -> PyResult<Value> {
    if let Value::List(l) = a {
        if let Some(v) = l.get(i) {
            return Ok(v);
        }
    }
    vm.getitem(a, &Value::Int(i as i64))
}

/// The insertion point of `x` (or of `key(x)` when `key_x`) in `a[lo:hi]`:
/// after the items equal to it when `right`, before them otherwise.
fn search(vm: &mut Vm, s: &Search, x: &Value, right: bool) -> PyResult<usize> {
    let mut lo = s.lo;
    let mut hi = match &s.hi {
        // -1 is the C default, meaning the whole sequence, as in CPython.
        Some(h) => match vm.index_value(h)? {
            -1 => vm.len(&s.a)?,
            h => h.max(0) as usize,
        },
        None => vm.len(&s.a)?,
    };
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let mut m = item(vm, &s.a, mid)?;
        if let Some(k) = &s.key {
            m = vm.call(k.clone(), Args::new([m]))?;
        }
        let go_left = if right { vm.lt(x, &m)? } else { !vm.lt(&m, x)? };
        if go_left {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

fn bisect_right(vm: &mut Vm, args: Args) -> PyResult {
    let s = bind(vm, args, "bisect_right")?;
    Ok(Value::Int(search(vm, &s, &s.x, true)? as i64))
}

fn bisect_left(vm: &mut Vm, args: Args) -> PyResult {
    let s = bind(vm, args, "bisect_left")?;
    Ok(Value::Int(search(vm, &s, &s.x, false)? as i64))
}

/// `insort_*`: the search with `key(x)`, then `a.insert(i, x)` (a plain
/// list's own insert, else the sequence's `insert` method).
fn insort(vm: &mut Vm, args: Args, qual: &str, right: bool) -> PyResult {
    let s = bind(vm, args, qual)?;
    let probe = match &s.key {
        Some(k) => vm.call(k.clone(), Args::new([s.x.clone()]))?,
        None => s.x.clone(),
    };
    let at = search(vm, &s, &probe, right)?;
    if let Value::List(l) = &s.a {
        let mut items = l.borrow_mut();
        let at = at.min(items.len());
        items.insert(at, s.x);
        return Ok(Value::None);
    }
    let insert = vm.getattr(&s.a, &aio_interp::intern::intern("insert"))?;
    vm.call(insert, Args::new([Value::Int(at as i64), s.x]))?;
    Ok(Value::None)
}

fn insort_right(vm: &mut Vm, args: Args) -> PyResult {
    insort(vm, args, "insort_right", true)
}

fn insort_left(vm: &mut Vm, args: Args) -> PyResult {
    insort(vm, args, "insort_left", false)
}

/// The `_bisect` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_bisect",
        vec![
            ("bisect_right", native_fn("bisect_right", bisect_right)),
            ("bisect_left", native_fn("bisect_left", bisect_left)),
            ("insort_right", native_fn("insort_right", insort_right)),
            ("insort_left", native_fn("insort_left", insort_left)),
        ],
    ))
}
