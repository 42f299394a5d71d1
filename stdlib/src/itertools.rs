//! `_itertools`: the native half of `itertools`: the iterators that the
//! interpreter already runs as builtin iterator states (`count`, `islice`,
//! `chain`, `cycle`, `repeat`, `filterfalse`), and the combinatoric ones
//! (`product`, `permutations`, `combinations`, ...), which run in loops hot
//! enough to be worth a native state machine.

use std::cell::RefCell;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::iter::{make, IterState};
use aio_interp::object::*;
use aio_interp::ops::{as_num, builtin_payload};
use aio_interp::types::{method, native_fn, new_class, types};
use aio_interp::{Value, Vm};

fn arity(name: &str, args: &Args, min: usize, max: usize) -> PyResult<()> {
    let n = args.pos.len();
    if n < min {
        let how = if min == max { "" } else { "at least " };
        return Err(type_error(format!("{name} expected {how}{min} argument{}, got {n}", if min == 1 { "" } else { "s" })));
    }
    if n > max {
        return Err(type_error(format!("{name} expected at most {max} argument{}, got {n}", if max == 1 { "" } else { "s" })));
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
    let start = args.take_kw("start").or_else(|| args.pos.first().cloned()).unwrap_or(Value::Int(0));
    let step = args.take_kw("step").or_else(|| args.pos.get(1).cloned()).unwrap_or(Value::Int(1));
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("count() got an unexpected keyword argument '{}'", k.as_str())));
    }
    if args.pos.len() > 2 {
        return Err(type_error(format!("count() takes at most 2 arguments ({} given)", args.pos.len())));
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
    const STOP: &str = "Stop argument for islice() must be None or an integer: 0 <= x <= sys.maxsize.";
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
    Ok(make(IterState::Islice { it, next: start, stop, step, pos: 0 }))
}

/// `chain(*iterables)`: each source is made an iterator only when reached.
fn chain(_vm: &mut Vm, args: Args) -> PyResult {
    no_kw("chain", &args)?;
    Ok(make(IterState::Chain { sources: args.pos.into_iter().collect(), cur: None }))
}

/// `cycle(iterable)`.
fn cycle(vm: &mut Vm, args: Args) -> PyResult {
    no_kw("cycle", &args)?;
    arity("cycle", &args, 1, 1)?;
    let it = vm.iter(&args.pos[0])?;
    Ok(make(IterState::Cycle { it: Some(it), saved: Vec::new(), idx: 0 }))
}

/// `repeat(object[, times])`.
fn repeat(vm: &mut Vm, mut args: Args) -> PyResult {
    let object = match args.pos.first().cloned().or_else(|| args.take_kw("object")) {
        Some(o) => o,
        None => return Err(type_error("repeat() missing required argument 'object' (pos 1)")),
    };
    let times = args.pos.get(1).cloned().or_else(|| args.take_kw("times"));
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("repeat() got an unexpected keyword argument '{}'", k.as_str())));
    }
    if args.pos.len() > 2 {
        return Err(type_error(format!("repeat() takes at most 2 arguments ({} given)", args.pos.len())));
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
    Ok(make(IterState::Filter { f: args.pos[0].clone(), it, keep_true: false }))
}

/// Which combinatoric iterator a [`Combinatoric`] is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Product,
    Permutations,
    Combinations,
    CombinationsWithReplacement,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Product => "product",
            Kind::Permutations => "permutations",
            Kind::Combinations => "combinations",
            Kind::CombinationsWithReplacement => "combinations_with_replacement",
        }
    }
}

/// `product`, `permutations`, `combinations` and
/// `combinations_with_replacement`: index vectors over pools of items,
/// advanced in CPython's order.
pub struct Combinatoric {
    kind: Kind,
    /// One pool per position for `product`; a single pool otherwise.
    pools: Vec<Vec<Value>>,
    r: usize,
    state: RefCell<CombState>,
}

struct CombState {
    indices: Vec<usize>,
    /// For `permutations`: how many swaps are left at each position.
    cycles: Vec<usize>,
    started: bool,
    done: bool,
}

thread_local! {
    static COMB_CLASSES: Vec<Rc<Class>> = [Kind::Product, Kind::Permutations, Kind::Combinations, Kind::CombinationsWithReplacement]
        .into_iter()
        .map(|k| {
            let c = new_class(k.name(), &[types().object.clone()], Layout::Builtin, None);
            c.dict.set_str("__module__", Value::str("itertools"));
            method(&c, k.name(), "__iter__", |_vm, a| Ok(a.pos[0].clone()));
            method(&c, k.name(), "__next__", comb_next);
            let ctor: NativeFnPtr = match k {
                Kind::Product => product,
                Kind::Permutations => permutations,
                Kind::Combinations => combinations,
                Kind::CombinationsWithReplacement => combinations_with_replacement,
            };
            c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", ctor)));
            c
        })
        .collect();
}

fn comb_class(kind: Kind) -> Rc<Class> {
    COMB_CLASSES.with(|cs| cs[kind as usize].clone())
}

impl NativeObject for Combinatoric {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        comb_class(self.kind)
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<itertools.{} object at {:#x}>", self.kind.name(), self as *const Self as usize))
    }
}

impl Combinatoric {
    fn make(kind: Kind, pools: Vec<Vec<Value>>, r: usize) -> Value {
        let n = pools.first().map(|p| p.len()).unwrap_or(0);
        let (indices, cycles, done) = match kind {
            Kind::Product => (vec![0; pools.len()], vec![], pools.iter().any(|p| p.is_empty())),
            Kind::Permutations => ((0..n).collect(), (n + 1 - r.min(n)..=n).rev().collect(), r > n),
            Kind::Combinations => ((0..r).collect(), vec![], r > n),
            Kind::CombinationsWithReplacement => (vec![0; r], vec![], n == 0 && r > 0),
        };
        Value::object(Combinatoric { kind, pools, r, state: RefCell::new(CombState { indices, cycles, started: false, done }) })
    }

    /// Move to the next index vector; false when there is none.
    fn advance(&self, st: &mut CombState) -> bool {
        let r = self.r;
        match self.kind {
            Kind::Product => {
                // An odometer: the rightmost position turns fastest.
                for i in (0..st.indices.len()).rev() {
                    st.indices[i] += 1;
                    if st.indices[i] < self.pools[i].len() {
                        return true;
                    }
                    st.indices[i] = 0;
                }
                false
            }
            Kind::Permutations => {
                let n = self.pools[0].len();
                for i in (0..r).rev() {
                    st.cycles[i] -= 1;
                    if st.cycles[i] == 0 {
                        st.indices[i..].rotate_left(1);
                        st.cycles[i] = n - i;
                    } else {
                        let j = n - st.cycles[i];
                        st.indices.swap(i, j);
                        return true;
                    }
                }
                false
            }
            Kind::Combinations => {
                let n = self.pools[0].len();
                let Some(i) = (0..r).rev().find(|&i| st.indices[i] != i + n - r) else {
                    return false;
                };
                st.indices[i] += 1;
                for j in i + 1..r {
                    st.indices[j] = st.indices[j - 1] + 1;
                }
                true
            }
            Kind::CombinationsWithReplacement => {
                let n = self.pools[0].len();
                let Some(i) = (0..r).rev().find(|&i| st.indices[i] != n - 1) else {
                    return false;
                };
                let v = st.indices[i] + 1;
                for x in &mut st.indices[i..] {
                    *x = v;
                }
                true
            }
        }
    }

    fn current(&self, st: &CombState) -> Value {
        let items: Vec<Value> = match self.kind {
            Kind::Product => st.indices.iter().enumerate().map(|(p, &i)| self.pools[p][i].clone()).collect(),
            _ => st.indices[..self.r].iter().map(|&i| self.pools[0][i].clone()).collect(),
        };
        Value::tuple(items)
    }
}

fn comb_next(_vm: &mut Vm, args: Args) -> PyResult {
    let c = args.pos.first().and_then(|v| v.downcast::<Combinatoric>()).ok_or_else(|| type_error("expected an itertools iterator"))?;
    let mut st = c.state.borrow_mut();
    if st.done {
        return Err(stop_iteration(Value::None));
    }
    if st.started && !c.advance(&mut st) {
        st.done = true;
        return Err(stop_iteration(Value::None));
    }
    st.started = true;
    Ok(c.current(&st))
}

/// Drop the class passed to `__new__` (when called as `itertools.product(...)`).
fn skip_cls(args: &mut Args) {
    if matches!(args.pos.first(), Some(Value::Class(_))) {
        args.pos.remove(0);
    }
}

/// The positional-or-keyword arguments `names` of a native constructor.
fn ctor_args(name: &str, args: &mut Args, names: &[&str], required: usize) -> PyResult<Vec<Option<Value>>> {
    if args.pos.len() > names.len() {
        return Err(type_error(format!("{name}() takes at most {} arguments ({} given)", names.len(), args.pos.len())));
    }
    let mut out: Vec<Option<Value>> = names.iter().enumerate().map(|(i, _)| args.pos.get(i).cloned()).collect();
    for (i, n) in names.iter().enumerate() {
        if let Some(v) = args.take_kw(n) {
            if out[i].is_some() {
                return Err(type_error(format!("argument for {name}() given by name ('{n}') and position ({})", i + 1)));
            }
            out[i] = Some(v);
        }
    }
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("'{}' is an invalid keyword argument for {name}()", k.as_str())));
    }
    for (i, n) in names.iter().enumerate().take(required) {
        if out[i].is_none() {
            return Err(type_error(format!("{name}() missing required argument '{n}' (pos {})", i + 1)));
        }
    }
    Ok(out)
}

/// `r` of `combinations`: a non-negative int.
fn r_arg(vm: &mut Vm, v: &Value) -> PyResult<usize> {
    let r = vm.index_value(v)?;
    if r < 0 {
        return Err(value_error("r must be non-negative"));
    }
    Ok(r as usize)
}

/// `product(*iterables, repeat=1)`.
fn product(vm: &mut Vm, mut args: Args) -> PyResult {
    skip_cls(&mut args);
    let repeat = match args.take_kw("repeat") {
        Some(r) => vm.index_value(&r)?,
        None => 1,
    };
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("'{}' is an invalid keyword argument for product()", k.as_str())));
    }
    if repeat < 0 {
        return Err(value_error("repeat argument cannot be negative"));
    }
    let mut pools = Vec::with_capacity(args.pos.len());
    for a in args.pos.iter() {
        pools.push(vm.collect(a)?);
    }
    let mut all = Vec::with_capacity(pools.len() * repeat as usize);
    for _ in 0..repeat {
        all.extend(pools.iter().cloned());
    }
    Ok(Combinatoric::make(Kind::Product, all, 0))
}

/// `permutations(iterable, r=None)`.
fn permutations(vm: &mut Vm, mut args: Args) -> PyResult {
    skip_cls(&mut args);
    let a = ctor_args("permutations", &mut args, &["iterable", "r"], 1)?;
    let pool = vm.collect(a[0].as_ref().expect("iterable"))?;
    let r = match &a[1] {
        None | Some(Value::None) => pool.len(),
        Some(v @ (Value::Int(_) | Value::Bool(_) | Value::BigInt(_))) => r_arg(vm, v)?,
        Some(_) => return Err(type_error("Expected int as r")),
    };
    Ok(Combinatoric::make(Kind::Permutations, vec![pool], r))
}

/// `combinations(iterable, r)`.
fn combinations(vm: &mut Vm, mut args: Args) -> PyResult {
    skip_cls(&mut args);
    let a = ctor_args("combinations", &mut args, &["iterable", "r"], 2)?;
    let pool = vm.collect(a[0].as_ref().expect("iterable"))?;
    let r = r_arg(vm, a[1].as_ref().expect("r"))?;
    Ok(Combinatoric::make(Kind::Combinations, vec![pool], r))
}

/// `combinations_with_replacement(iterable, r)`.
fn combinations_with_replacement(vm: &mut Vm, mut args: Args) -> PyResult {
    skip_cls(&mut args);
    let a = ctor_args("combinations_with_replacement", &mut args, &["iterable", "r"], 2)?;
    let pool = vm.collect(a[0].as_ref().expect("iterable"))?;
    let r = r_arg(vm, a[1].as_ref().expect("r"))?;
    Ok(Combinatoric::make(Kind::CombinationsWithReplacement, vec![pool], r))
}

/// Build the `_itertools` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] =
        &[("count", count), ("islice", islice), ("chain", chain), ("cycle", cycle), ("repeat", repeat), ("filterfalse", filterfalse)];
    let mut entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    for kind in [Kind::Product, Kind::Permutations, Kind::Combinations, Kind::CombinationsWithReplacement] {
        entries.push((kind.name(), Value::Class(comb_class(kind))));
    }
    Ok(vm.make_native_module("_itertools", entries))
}
