//! The `random` module: `random.Random` objects over the Mersenne Twister
//! of [`crate::mt`], and the module functions, bound to one shared instance.

use std::cell::RefCell;
use std::rc::Rc;

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive};

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::ops::builtin_payload;
use aio_interp::types::{method, native_fn, new_class, type_name, types};
use aio_interp::{Value, Vm};

use crate::math::{to_f64, to_int};
use crate::mt;
use crate::native::{instance_of, native_ref, NativeRef};
use crate::params::{no_args, Sig};

/// A `random.Random` instance.
pub struct RandomObj {
    gen: RefCell<mt::Random>,
}

thread_local! {
    static RANDOM_CLASS: Rc<Class> = make_class();
}

fn make_class() -> Rc<Class> {
    let c = new_class("Random", &[types().object.clone()], Layout::Builtin, None);
    c.dict.set_str("__module__", Value::str("random"));
    let ms: &[(&str, NativeFnPtr)] = &[
        ("seed", seed),
        ("random", random),
        ("getrandbits", getrandbits),
        ("randbytes", randbytes),
        ("randrange", randrange),
        ("randint", randint),
        ("choice", choice),
        ("shuffle", shuffle),
        ("sample", sample),
        ("choices", choices),
        ("uniform", uniform),
        ("triangular", triangular),
        ("gauss", gauss),
        ("normalvariate", normalvariate),
        ("lognormvariate", lognormvariate),
        ("expovariate", expovariate),
        ("vonmisesvariate", vonmisesvariate),
        ("gammavariate", gammavariate),
        ("betavariate", betavariate),
        ("paretovariate", paretovariate),
        ("weibullvariate", weibullvariate),
        ("getstate", getstate),
        ("setstate", setstate),
        ("__init__", random_init),
    ];
    for (n, f) in ms {
        method(&c, "Random", n, *f);
    }
    c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", random_new)));
    c
}

impl NativeObject for RandomObj {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        RANDOM_CLASS.with(|c| c.clone())
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<random.Random object at {:#x}>", self as *const Self as usize))
    }
}

/// `Random.__new__(cls, x=None)`: a generator seeded with `x` (from
/// entropy when omitted), as CPython's C type does.
fn random_new(vm: &mut Vm, mut args: Args) -> PyResult {
    let base = RANDOM_CLASS.with(|c| c.clone());
    let cls = match args.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => base.clone(),
    };
    if !args.pos.is_empty() {
        args.pos.remove(0);
    }
    if Rc::ptr_eq(&cls, &base) {
        if args.pos.len() > 1 {
            return Err(type_error(format!("Random() expected at most 1 argument, got {}", args.pos.len())));
        }
        if let Some((k, _)) = args.kw.first() {
            return Err(type_error(format!("Random() got an unexpected keyword argument '{}'", k.as_str())));
        }
    }
    let obj = RandomObj { gen: RefCell::new(mt::Random::new_from_entropy()) };
    if args.pos.len() == 1 {
        seed_with(vm, &obj, &args.pos[0])?;
    }
    Ok(instance_of(&cls, &base, Value::object(obj)))
}

/// `Random.__init__(self, x=None)`: `self.seed(x)` for a subclass (the
/// plain class was seeded by `__new__`).
fn random_init(vm: &mut Vm, args: Args) -> PyResult {
    let (me, a) = bind(args, "Random.__init__", &["x"], 0)?;
    if let Value::Instance(_) = me {
        vm.call_method(&me, "seed", vec![a[0].clone().unwrap_or(Value::None)])?;
    }
    Ok(Value::None)
}

fn this(args: &Args) -> PyResult<NativeRef<RandomObj>> {
    args.pos.first().and_then(native_ref::<RandomObj>).ok_or_else(|| type_error("descriptor requires a 'random.Random' object"))
}

/// Turn an error message of [`mt`] into the exception CPython raises.
fn mt_err(msg: String) -> PyErr {
    let t = types();
    let cls = match mt::exception_type(&msg) {
        "IndexError" => &t.exc.index_error,
        "TypeError" => &t.exc.type_error,
        "ZeroDivisionError" => &t.exc.zero_division_error,
        "OverflowError" => &t.exc.overflow_error,
        _ => &t.exc.value_error,
    };
    err(cls, msg)
}

fn sig<'a>(qual: &'a str, names: &'a [&'a str], required: usize) -> Sig<'a> {
    Sig { qual, has_self: true, names, required, kwonly: &[] }
}

fn seed_with(vm: &mut Vm, r: &RandomObj, a: &Value) -> PyResult<()> {
    let a = match a {
        Value::Instance(_) => builtin_payload(a).unwrap_or_else(|| a.clone()),
        _ => a.clone(),
    };
    let mut g = r.gen.borrow_mut();
    match &a {
        Value::None => g.seed_entropy(),
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => {
            drop(g);
            let n = to_int(vm, &a)?;
            r.gen.borrow_mut().seed_int(&n);
        }
        Value::Float(x) => g.seed_float(x.get()),
        Value::Str(s) => g.seed_str(s.as_str()),
        Value::Bytes(b) => g.seed_bytes(&b.b),
        _ => return Err(type_error("The only supported seed types are: None,\nint, float, str, bytes, and bytearray.")),
    }
    Ok(())
}

fn seed(vm: &mut Vm, args: Args) -> PyResult {
    let (me, a) = bind(args, "Random.seed", &["a", "version"], 0)?;
    let r = native_ref::<RandomObj>(&me).expect("Random");
    seed_with(vm, &r, a[0].as_ref().unwrap_or(&Value::None))?;
    Ok(Value::None)
}

/// Split `args` into the generator and the bound parameters.
fn bind(args: Args, qual: &str, names: &[&str], required: usize) -> PyResult<(Value, Vec<Option<Value>>)> {
    this(&args)?;
    let me = args.pos[0].clone();
    let vals = sig(qual, names, required).bind(args)?;
    Ok((me, vals))
}

fn gen(me: &Value) -> GenRef {
    GenRef(native_ref::<RandomObj>(me).expect("Random"))
}

/// Mutable access to the generator of a `Random` reached through a value.
struct GenRef(NativeRef<RandomObj>);

impl GenRef {
    fn with<R>(&self, f: impl FnOnce(&mut mt::Random) -> R) -> R {
        f(&mut self.0.gen.borrow_mut())
    }
}

fn random(_vm: &mut Vm, args: Args) -> PyResult {
    let r = this(&args)?;
    no_args("Random.random", &args, true)?;
    let x = r.gen.borrow_mut().random();
    Ok(Value::float(x))
}

fn getrandbits(vm: &mut Vm, args: Args) -> PyResult {
    let (me, a) = bind(args, "Random.getrandbits", &["k"], 1)?;
    let k = vm.index_value(a[0].as_ref().expect("k"))?;
    if k < 0 {
        return Err(value_error("number of bits must be non-negative"));
    }
    let v = gen(&me).with(|g| g.getrandbits(k as u64));
    Ok(Value::from_bigint(v))
}

fn randbytes(vm: &mut Vm, args: Args) -> PyResult {
    let (me, a) = bind(args, "Random.randbytes", &["n"], 1)?;
    let n = vm.index_value(a[0].as_ref().expect("n"))?;
    if n < 0 {
        return Err(value_error("negative argument not allowed"));
    }
    let b = gen(&me).with(|g| g.randbytes(n as usize));
    Ok(Value::Bytes(Rc::new(PyBytes { b: b.into_boxed_slice() })))
}

/// An argument of `randrange`: an int, or an integral float (deprecated in
/// CPython, still accepted), else `non-integer {what} for randrange()`.
fn range_arg(vm: &mut Vm, v: &Value, what: &str) -> PyResult<BigInt> {
    match to_int(vm, v) {
        Ok(n) => Ok(n),
        Err(e) if e.is(&types().exc.type_error) => {
            let i = aio_interp::types::int::to_int(vm, v)?;
            if !vm.eq(&i, v)? {
                return Err(value_error(format!("non-integer {what} for randrange()")));
            }
            to_int(vm, &i)
        }
        Err(e) => Err(e),
    }
}

fn do_randrange(vm: &mut Vm, me: &Value, start: &Value, stop: Option<&Value>, step: Option<&Value>) -> PyResult {
    let istart = range_arg(vm, start, "arg 1")?;
    let stop = stop.filter(|s| !s.is_none());
    let Some(stop) = stop else {
        if step.is_some_and(|s| !matches!(s, Value::Int(1))) {
            return Err(type_error("Missing a non-None stop argument"));
        }
        return gen(me).with(|g| g.randrange(&istart, None, &BigInt::from(1))).map(Value::from_bigint).map_err(mt_err);
    };
    let istop = range_arg(vm, stop, "stop")?;
    let istep = match step {
        Some(s) => range_arg(vm, s, "step")?,
        None => BigInt::from(1),
    };
    let r = gen(me).with(|g| g.randrange(&istart, Some(&istop), &istep));
    r.map(Value::from_bigint).map_err(mt_err)
}

fn randrange(vm: &mut Vm, args: Args) -> PyResult {
    let (me, a) = bind(args, "Random.randrange", &["start", "stop", "step"], 1)?;
    do_randrange(vm, &me, a[0].as_ref().expect("start"), a[1].as_ref(), a[2].as_ref())
}

fn randint(vm: &mut Vm, args: Args) -> PyResult {
    let (me, a) = bind(args, "Random.randint", &["a", "b"], 2)?;
    let b1 = vm.binary(aio_interp::ops::ADD, a[1].as_ref().expect("b"), &Value::Int(1))?;
    do_randrange(vm, &me, a[0].as_ref().expect("a"), Some(&b1), None)
}

fn below(me: &Value, n: usize) -> usize {
    gen(me).with(|g| g.randbelow(&BigInt::from(n))).to_usize().unwrap_or(0)
}

fn choice(vm: &mut Vm, args: Args) -> PyResult {
    let (me, a) = bind(args, "Random.choice", &["seq"], 1)?;
    let seq = a[0].clone().expect("seq");
    let n = vm.len(&seq)?;
    if n == 0 {
        return Err(index_error("Cannot choose from an empty sequence"));
    }
    let i = below(&me, n);
    vm.getitem(&seq, &Value::Int(i as i64))
}

fn shuffle(vm: &mut Vm, args: Args) -> PyResult {
    let (me, a) = bind(args, "Random.shuffle", &["x"], 1)?;
    let x = a[0].clone().expect("x");
    let list = match &x {
        Value::List(l) => Some(l.clone()),
        Value::Instance(_) if !aio_interp::ops::lookup_special(&x, "__setitem__").is_some_and(|f| !matches!(f, Value::Native(_))) => {
            match builtin_payload(&x) {
                Some(Value::List(l)) => Some(l),
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(l) = list {
        let mut items = l.borrow_mut();
        gen(&me).with(|g| g.shuffle(&mut items));
        return Ok(Value::None);
    }
    let n = vm.len(&x)?;
    for i in (1..n).rev() {
        let j = below(&me, i + 1);
        let (vi, vj) = (vm.getitem(&x, &Value::Int(i as i64))?, vm.getitem(&x, &Value::Int(j as i64))?);
        vm.setitem(&x, Value::Int(i as i64), vj)?;
        vm.setitem(&x, Value::Int(j as i64), vi)?;
    }
    Ok(Value::None)
}

fn is_sequence(v: &Value) -> bool {
    match v {
        Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Range(_) | Value::Bytes(_) => true,
        Value::Instance(_) => matches!(builtin_payload(v), Some(Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Bytes(_))),
        _ => false,
    }
}

fn sample(vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?;
    let me = args.pos[0].clone();
    let a = Sig { qual: "Random.sample", has_self: true, names: &["population", "k"], required: 2, kwonly: &["counts"] }.bind(args)?;
    let pop = a[0].clone().expect("population");
    if !is_sequence(&pop) {
        return Err(type_error("Population must be a sequence.  For dicts or sets, use sorted(d)."));
    }
    let n = vm.len(&pop)?;
    let k = vm.index_value(a[1].as_ref().expect("k"))?;
    let counts = a[2].clone().filter(|c| !c.is_none());
    let idx = match counts {
        Some(c) => {
            let items = vm.collect(&c)?;
            let mut cs = Vec::with_capacity(items.len());
            for it in &items {
                match it {
                    Value::Int(i) => cs.push(*i),
                    Value::Bool(b) => cs.push(b.get() as i64),
                    _ => return Err(type_error("Counts must be integers")),
                }
            }
            if k < 0 {
                return Err(value_error("Sample larger than population or is negative"));
            }
            gen(&me).with(|g| g.sample_counts_indices(n, &cs, k as usize)).map_err(mt_err)?
        }
        None => {
            if k < 0 {
                return Err(value_error("Sample larger than population or is negative"));
            }
            gen(&me).with(|g| g.sample_indices(n, k as usize)).map_err(mt_err)?
        }
    };
    let mut out = Vec::with_capacity(idx.len());
    for i in idx {
        out.push(vm.getitem(&pop, &Value::Int(i as i64))?);
    }
    Ok(Value::list(out))
}

fn floats(vm: &mut Vm, v: &Value) -> PyResult<Vec<f64>> {
    let items = vm.collect(v)?;
    let mut out = Vec::with_capacity(items.len());
    for x in &items {
        out.push(to_f64(vm, x)?);
    }
    Ok(out)
}

fn choices(vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?;
    let me = args.pos[0].clone();
    let a = Sig { qual: "Random.choices", has_self: true, names: &["population", "weights"], required: 1, kwonly: &["cum_weights", "k"] }
        .bind(args)?;
    let pop = a[0].clone().expect("population");
    let weights = a[1].clone().filter(|w| !w.is_none());
    let cum = a[2].clone().filter(|w| !w.is_none());
    let k = match &a[3] {
        Some(k) => vm.index_value(k)?.max(0) as usize,
        None => 1,
    };
    let n = vm.len(&pop)?;
    if weights.is_none() && cum.is_none() {
        let nf = n as f64;
        let mut out = Vec::with_capacity(k);
        for _ in 0..k {
            let i = (gen(&me).with(|g| g.random()) * nf).floor() as i64;
            out.push(vm.getitem(&pop, &Value::Int(i))?);
        }
        return Ok(Value::list(out));
    }
    let w = match &weights {
        Some(w @ (Value::Int(_) | Value::Bool(_))) if vm.iter(w).is_err() => {
            return Err(type_error(format!("The number of choices must be a keyword argument: k={}", vm.repr_str(w)?)));
        }
        Some(w) => Some(floats(vm, w)?),
        None => None,
    };
    let c = match &cum {
        Some(c) => Some(floats(vm, c)?),
        None => None,
    };
    let idx = gen(&me).with(|g| g.choices_indices(n, w.as_deref(), c.as_deref(), k)).map_err(mt_err)?;
    let mut out = Vec::with_capacity(idx.len());
    for i in idx {
        out.push(vm.getitem(&pop, &Value::Int(i as i64))?);
    }
    Ok(Value::list(out))
}

/// The float parameters of a distribution, with their defaults.
fn float_params(vm: &mut Vm, args: Args, qual: &str, names: &[&str], defaults: &[Option<f64>]) -> PyResult<(Value, Vec<f64>)> {
    let required = defaults.iter().take_while(|d| d.is_none()).count();
    let (me, a) = bind(args, qual, names, required)?;
    let mut out = Vec::with_capacity(names.len());
    for (v, d) in a.iter().zip(defaults) {
        out.push(match v {
            Some(v) => to_f64(vm, v)?,
            None => d.unwrap_or(0.0),
        });
    }
    Ok((me, out))
}

fn uniform(vm: &mut Vm, args: Args) -> PyResult {
    let (me, p) = float_params(vm, args, "Random.uniform", &["a", "b"], &[None, None])?;
    let x = gen(&me).with(|g| g.uniform(p[0], p[1]));
    Ok(Value::float(x))
}

fn triangular(vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?;
    let me = args.pos[0].clone();
    let a = sig("Random.triangular", &["low", "high", "mode"], 0).bind(args)?;
    let low = match &a[0] {
        Some(v) => to_f64(vm, v)?,
        None => 0.0,
    };
    let high = match &a[1] {
        Some(v) => to_f64(vm, v)?,
        None => 1.0,
    };
    let mode = match &a[2] {
        Some(Value::None) | None => None,
        Some(v) => Some(to_f64(vm, v)?),
    };
    let x = gen(&me).with(|g| g.triangular(low, high, mode));
    Ok(Value::float(x))
}

fn gauss(vm: &mut Vm, args: Args) -> PyResult {
    let (me, p) = float_params(vm, args, "Random.gauss", &["mu", "sigma"], &[Some(0.0), Some(1.0)])?;
    let x = gen(&me).with(|g| g.gauss(p[0], p[1]));
    Ok(Value::float(x))
}

fn normalvariate(vm: &mut Vm, args: Args) -> PyResult {
    let (me, p) = float_params(vm, args, "Random.normalvariate", &["mu", "sigma"], &[Some(0.0), Some(1.0)])?;
    let x = gen(&me).with(|g| g.normalvariate(p[0], p[1]));
    Ok(Value::float(x))
}

fn lognormvariate(vm: &mut Vm, args: Args) -> PyResult {
    let (me, p) = float_params(vm, args, "Random.lognormvariate", &["mu", "sigma"], &[None, None])?;
    let x = gen(&me).with(|g| g.lognormvariate(p[0], p[1])).map_err(mt_err)?;
    Ok(Value::float(x))
}

fn expovariate(vm: &mut Vm, args: Args) -> PyResult {
    let (me, p) = float_params(vm, args, "Random.expovariate", &["lambd"], &[None])?;
    let x = gen(&me).with(|g| g.expovariate(p[0])).map_err(mt_err)?;
    Ok(Value::float(x))
}

fn vonmisesvariate(vm: &mut Vm, args: Args) -> PyResult {
    let (me, p) = float_params(vm, args, "Random.vonmisesvariate", &["mu", "kappa"], &[None, None])?;
    let x = gen(&me).with(|g| g.vonmisesvariate(p[0], p[1]));
    Ok(Value::float(x))
}

fn gammavariate(vm: &mut Vm, args: Args) -> PyResult {
    let (me, p) = float_params(vm, args, "Random.gammavariate", &["alpha", "beta"], &[None, None])?;
    let x = gen(&me).with(|g| g.gammavariate(p[0], p[1])).map_err(mt_err)?;
    Ok(Value::float(x))
}

fn betavariate(vm: &mut Vm, args: Args) -> PyResult {
    let (me, p) = float_params(vm, args, "Random.betavariate", &["alpha", "beta"], &[None, None])?;
    let x = gen(&me).with(|g| g.betavariate(p[0], p[1])).map_err(mt_err)?;
    Ok(Value::float(x))
}

fn paretovariate(vm: &mut Vm, args: Args) -> PyResult {
    let (me, p) = float_params(vm, args, "Random.paretovariate", &["alpha"], &[None])?;
    let x = gen(&me).with(|g| g.paretovariate(p[0])).map_err(mt_err)?;
    Ok(Value::float(x))
}

fn weibullvariate(vm: &mut Vm, args: Args) -> PyResult {
    let (me, p) = float_params(vm, args, "Random.weibullvariate", &["alpha", "beta"], &[None, None])?;
    let x = gen(&me).with(|g| g.weibullvariate(p[0], p[1])).map_err(mt_err)?;
    Ok(Value::float(x))
}

/// `getstate()`: `(3, (624 words and the position), gauss_next)`.
fn getstate(_vm: &mut Vm, args: Args) -> PyResult {
    let r = this(&args)?;
    no_args("Random.getstate", &args, true)?;
    let (words, gauss_next) = r.gen.borrow().getstate();
    let internal = Value::tuple(words.into_iter().map(|w| Value::Int(w as i64)).collect::<Vec<_>>());
    Ok(Value::tuple(vec![Value::Int(3), internal, gauss_next.map(Value::float).unwrap_or(Value::None)]))
}

fn setstate(vm: &mut Vm, args: Args) -> PyResult {
    let (me, a) = bind(args, "Random.setstate", &["state"], 1)?;
    let state = a[0].clone().expect("state");
    let parts = vm.collect(&state)?;
    let version = parts.first().cloned().unwrap_or(Value::None);
    if !matches!(version, Value::Int(3)) || parts.len() != 3 {
        let v = vm.repr_str(&version)?;
        return Err(value_error(format!("state with version {v} passed to Random.setstate() of version 3")));
    }
    let internal = match &parts[1] {
        Value::Tuple(t) => t.items.to_vec(),
        other => return Err(type_error(format!("state vector must be a tuple, not {}", type_name(other)))),
    };
    let mut words = Vec::with_capacity(internal.len());
    for w in &internal {
        let n = to_int(vm, w)?;
        if n.is_negative() {
            return Err(overflow_error("can't convert negative int to unsigned"));
        }
        words.push(n.to_u64().ok_or_else(|| overflow_error("Python int too large to convert to C unsigned long"))?);
    }
    let gauss_next = match &parts[2] {
        Value::None => None,
        v => Some(to_f64(vm, v)?),
    };
    gen(&me).with(|g| g.setstate(&words, gauss_next)).map_err(mt_err)?;
    Ok(Value::None)
}

/// Build the `random` module: the `Random` class and the methods of one
/// shared, entropy-seeded instance as functions.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let cls = RANDOM_CLASS.with(|c| c.clone());
    let inst = Value::object(RandomObj { gen: RefCell::new(mt::Random::new_from_entropy()) });
    let names = [
        "seed",
        "random",
        "getrandbits",
        "randbytes",
        "randrange",
        "randint",
        "choice",
        "shuffle",
        "sample",
        "choices",
        "uniform",
        "triangular",
        "gauss",
        "normalvariate",
        "lognormvariate",
        "expovariate",
        "vonmisesvariate",
        "gammavariate",
        "betavariate",
        "paretovariate",
        "weibullvariate",
        "getstate",
        "setstate",
    ];
    let mut entries: Vec<(&str, Value)> = Vec::new();
    for n in names {
        let f = cls.dict.get_str(n).expect("method");
        entries.push((n, BoundMethod::bind(f, inst.clone())));
    }
    entries.push(("Random", Value::Class(cls)));
    Ok(vm.make_native_module("random", entries))
}
