//! `complex`: a native object holding two floats, its arithmetic (mixed
//! with int, float and bool), repr, hash, format and constructor, all with
//! CPython 3.11's rounding, special values and messages.

use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::ops::{lookup_special, num_err};
use crate::types::{class_function, method, new_class, type_name, types};
use crate::value::Value;
use crate::vm::Vm;

/// A complex number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Complex {
    pub re: f64,
    pub im: f64,
}

thread_local! {
    static CLASS: Rc<Class> = make_class();
}

/// The `complex` class.
pub fn complex_class() -> Rc<Class> {
    CLASS.with(|c| c.clone())
}

impl NativeObject for Complex {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        complex_class()
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(repr(*self))
    }
}

/// A complex value.
pub fn new(re: f64, im: f64) -> Value {
    Value::object(Complex { re, im })
}

/// The complex number inside `v` (a complex, or an instance of a subclass).
pub fn get(v: &Value) -> Option<Complex> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<Complex>().copied(),
        Value::Instance(i) => match i.builtin_value() {
            Some(Value::Object(o)) => o.as_any().downcast_ref::<Complex>().copied(),
            _ => None,
        },
        _ => None,
    }
}

/// `v` as a complex operand: a complex, int, bool or float; `None` for
/// other types (the operator then returns `NotImplemented`).
pub fn operand(v: &Value) -> Option<PyResult<Complex>> {
    Some(Ok(match v {
        Value::Int(i) => Complex { re: *i as f64, im: 0.0 },
        Value::Bool(b) => Complex { re: b.get() as i64 as f64, im: 0.0 },
        Value::Float(f) => Complex { re: f.get(), im: 0.0 },
        Value::BigInt(b) => match crate::numfmt::int_to_f64(b) {
            Ok(f) => Complex { re: f, im: 0.0 },
            Err(e) => return Some(Err(num_err(e))),
        },
        _ => return get(v).map(Ok),
    }))
}

// ------------------------------------------------------------ arithmetic

impl Complex {
    pub fn plus(self, o: Complex) -> Complex {
        Complex { re: self.re + o.re, im: self.im + o.im }
    }
    pub fn minus(self, o: Complex) -> Complex {
        Complex { re: self.re - o.re, im: self.im - o.im }
    }
    pub fn times(self, o: Complex) -> Complex {
        Complex { re: self.re * o.re - self.im * o.im, im: self.re * o.im + self.im * o.re }
    }
    /// Division scaled by the larger part of the divisor (Smith's method),
    /// so that intermediate products do not overflow; `None` for a zero divisor.
    pub fn quotient(self, o: Complex) -> Option<Complex> {
        let (abr, abi) = (o.re.abs(), o.im.abs());
        if abr >= abi {
            if abr == 0.0 {
                return None;
            }
            let ratio = o.im / o.re;
            let denom = o.re + o.im * ratio;
            Some(Complex { re: (self.re + self.im * ratio) / denom, im: (self.im - self.re * ratio) / denom })
        } else if abi >= abr {
            let ratio = o.re / o.im;
            let denom = o.re * ratio + o.im;
            Some(Complex { re: (self.re * ratio + self.im) / denom, im: (self.im * ratio - self.re) / denom })
        } else {
            Some(Complex { re: f64::NAN, im: f64::NAN })
        }
    }
    /// `|z|`, or `None` when finite parts give an infinite result.
    pub fn abs(self) -> Option<f64> {
        if !self.re.is_finite() || !self.im.is_finite() {
            if self.re.is_infinite() || self.im.is_infinite() {
                return Some(f64::INFINITY);
            }
            return Some(f64::NAN);
        }
        let r = self.re.hypot(self.im);
        if r.is_infinite() {
            None
        } else {
            Some(r)
        }
    }
}

/// Errors of `**`, as CPython names them.
pub enum PowError {
    ZeroToNegative,
    Overflow,
}

impl From<PowError> for PyErr {
    fn from(e: PowError) -> PyErr {
        match e {
            PowError::ZeroToNegative => zero_division("0.0 to a negative or complex power"),
            PowError::Overflow => overflow_error("complex exponentiation"),
        }
    }
}

fn pow_general(a: Complex, b: Complex) -> Result<Complex, PowError> {
    if b.re == 0.0 && b.im == 0.0 {
        return Ok(Complex { re: 1.0, im: 0.0 });
    }
    if a.re == 0.0 && a.im == 0.0 {
        if b.im != 0.0 || b.re < 0.0 {
            return Err(PowError::ZeroToNegative);
        }
        return Ok(Complex { re: 0.0, im: 0.0 });
    }
    let vabs = a.re.hypot(a.im);
    let mut len = vabs.powf(b.re);
    let at = a.im.atan2(a.re);
    let mut phase = at * b.re;
    if b.im != 0.0 {
        len /= (at * b.im).exp();
        phase += b.im * vabs.ln();
    }
    Ok(Complex { re: len * phase.cos(), im: len * phase.sin() })
}

/// `z ** n` for a small integer `n`, by repeated squaring.
fn pow_int(x: Complex, n: i64) -> Result<Complex, PowError> {
    let powu = |mut n: u64| {
        let mut r = Complex { re: 1.0, im: 0.0 };
        let mut p = x;
        while n > 0 {
            if n & 1 == 1 {
                r = r.times(p);
            }
            n >>= 1;
            if n > 0 {
                p = p.times(p);
            }
        }
        r
    };
    if n > 0 {
        Ok(powu(n as u64))
    } else {
        Complex { re: 1.0, im: 0.0 }.quotient(powu(n.unsigned_abs())).ok_or(PowError::ZeroToNegative)
    }
}

/// `a ** b`, with CPython's choice of algorithm and its errors.
pub fn pow(a: Complex, b: Complex) -> Result<Complex, PowError> {
    let r = if b.im == 0.0 && b.re == b.re.floor() && b.re.abs() <= 100.0 { pow_int(a, b.re as i64)? } else { pow_general(a, b)? };
    if r.re.is_infinite() || r.im.is_infinite() {
        return Err(PowError::Overflow);
    }
    Ok(r)
}

/// `a ** b` for a negative float base and a fractional exponent: a complex.
pub fn real_pow(a: f64, b: f64) -> PyResult<Value> {
    let r = pow(Complex { re: a, im: 0.0 }, Complex { re: b, im: 0.0 })?;
    Ok(new(r.re, r.im))
}

// ------------------------------------------------------------ text

/// A float as a part of a complex repr: the shortest round-trip digits,
/// without the `.0` a float repr adds.
fn part_repr(x: f64) -> String {
    let s = crate::numfmt::float_repr(x);
    match s.strip_suffix(".0") {
        Some(t) => t.to_string(),
        None => s,
    }
}

/// `repr(z)`: `1j`, `(1+2j)`, `(-0-1j)`, `(nan+infj)`.
pub fn repr(z: Complex) -> String {
    if z.re == 0.0 && z.re.is_sign_positive() {
        return format!("{}j", part_repr(z.im));
    }
    let im = part_repr(z.im);
    let sign = if im.starts_with('-') { "" } else { "+" };
    format!("({}{sign}{im}j)", part_repr(z.re))
}

// ------------------------------------------------------------ parsing

/// The length of the float at the start of `s` (`1`, `-2.5e3`, `inf`,
/// `1_000`), or 0 when there is none.
fn float_prefix(s: &[u8]) -> usize {
    let mut i = 0;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        i += 1;
    }
    let rest = &s[i..];
    for word in ["infinity", "inf", "nan"] {
        if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word.as_bytes()) {
            return i + word.len();
        }
    }
    let digits = |i: &mut usize| -> bool {
        let start = *i;
        while *i < s.len() && s[*i].is_ascii_digit() {
            *i += 1;
            if *i + 1 < s.len() && s[*i] == b'_' && s[*i + 1].is_ascii_digit() {
                *i += 1;
            }
        }
        *i > start
    };
    let int_part = digits(&mut i);
    let mut frac_part = false;
    if i < s.len() && s[i] == b'.' {
        let mut j = i + 1;
        frac_part = digits(&mut j);
        if int_part || frac_part {
            i = j;
        }
    }
    if !int_part && !frac_part {
        return 0;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        if digits(&mut j) {
            i = j;
        }
    }
    i
}

fn parse_part(s: &[u8]) -> f64 {
    let t: String = s.iter().filter(|&&c| c != b'_').map(|&c| c as char).collect();
    crate::numfmt::parse_float(&t).unwrap_or(f64::NAN)
}

/// `complex("1+2j")`: CPython's grammar, whitespace and parentheses allowed
/// around it; `None` for a malformed string.
pub fn parse(text: &str) -> Option<Complex> {
    let t = text.trim_matches(crate::numfmt::is_python_space);
    let t = match t.strip_prefix('(').and_then(|u| u.strip_suffix(')')) {
        Some(inner) => inner.trim_matches(crate::numfmt::is_python_space),
        None => t,
    };
    if !t.is_ascii() {
        return None;
    }
    let s = t.as_bytes();
    let is_j = |i: usize| i < s.len() && (s[i] == b'j' || s[i] == b'J');
    let n = float_prefix(s);
    let (z, end) = if n > 0 {
        let x = parse_part(&s[..n]);
        if n < s.len() && (s[n] == b'+' || s[n] == b'-') {
            let m = float_prefix(&s[n..]);
            let (y, after) = if m > 1 || (m == 1 && s[n + 1..].first().is_some_and(u8::is_ascii_digit)) {
                (parse_part(&s[n..n + m]), n + m)
            } else {
                (if s[n] == b'-' { -1.0 } else { 1.0 }, n + 1)
            };
            if !is_j(after) {
                return None;
            }
            (Complex { re: x, im: y }, after + 1)
        } else if is_j(n) {
            (Complex { re: 0.0, im: x }, n + 1)
        } else {
            (Complex { re: x, im: 0.0 }, n)
        }
    } else {
        let mut i = 0;
        let mut y = 1.0;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            if s[i] == b'-' {
                y = -1.0;
            }
            i += 1;
        }
        if !is_j(i) {
            return None;
        }
        (Complex { re: 0.0, im: y }, i + 1)
    };
    if end != s.len() {
        return None;
    }
    Some(z)
}

// ------------------------------------------------------------ construction

/// A constructor argument as a complex, and whether it was one.
fn ctor_part(vm: &mut Vm, v: &Value, first: bool) -> PyResult<(Complex, bool)> {
    if let Some(z) = get(v) {
        return Ok((z, true));
    }
    if let Some(f) = lookup_special(v, "__complex__") {
        let r = vm.call(f, Args::new([v.clone()]))?;
        return match get(&r) {
            Some(z) => Ok((z, true)),
            None => Err(type_error(format!("__complex__ returned non-complex (type {})", type_name(&r)))),
        };
    }
    let numeric = matches!(v, Value::Int(_) | Value::Bool(_) | Value::BigInt(_) | Value::Float(_))
        || lookup_special(v, "__float__").is_some()
        || lookup_special(v, "__index__").is_some()
        || matches!(crate::ops::builtin_payload(v), Some(Value::Int(_) | Value::BigInt(_) | Value::Float(_) | Value::Bool(_)));
    if !numeric {
        return Err(type_error(if first {
            format!("complex() first argument must be a string or a number, not '{}'", type_name(v))
        } else {
            format!("complex() second argument must be a number, not '{}'", type_name(v))
        }));
    }
    let f = crate::types::float::to_float(vm, v)?;
    Ok((Complex { re: f, im: 0.0 }, false))
}

/// `complex(real=0, imag=0)` and `complex("1+2j")`.
pub fn construct(vm: &mut Vm, mut args: Args) -> PyResult<Complex> {
    let real = match args.take_kw("real") {
        Some(v) => Some(v),
        None => args.pos.first().cloned(),
    };
    let imag = match args.take_kw("imag") {
        Some(v) => Some(v),
        None => args.pos.get(1).cloned(),
    };
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("'{}' is an invalid keyword argument for complex()", k.as_str())));
    }
    if args.pos.len() > 2 {
        return Err(type_error(format!("complex() takes at most 2 arguments ({} given)", args.pos.len())));
    }
    let Some(real) = real else {
        return match imag {
            None => Ok(Complex { re: 0.0, im: 0.0 }),
            Some(i) => {
                if let Value::Str(_) = i {
                    return Err(type_error("complex() second arg can't be a string"));
                }
                let (ci, ci_complex) = ctor_part(vm, &i, false)?;
                Ok(Complex { re: if ci_complex { 0.0 - ci.im } else { 0.0 }, im: ci.re })
            }
        };
    };
    if let Value::Str(s) = &real {
        if imag.is_some() {
            return Err(type_error("complex() can't take second arg if first is a string"));
        }
        return parse(s.as_str()).ok_or_else(|| {
            if s.as_str().contains('_') {
                value_error(format!("could not convert string to complex: {}", crate::numfmt::str_repr(s)))
            } else {
                value_error("complex() arg is a malformed string")
            }
        });
    }
    if let Some(Value::Str(_)) = imag {
        return Err(type_error("complex() second arg can't be a string"));
    }
    let (cr, cr_complex) = ctor_part(vm, &real, true)?;
    let Some(imag) = imag else {
        return Ok(cr);
    };
    let (ci, ci_complex) = ctor_part(vm, &imag, false)?;
    let re = if ci_complex { cr.re - ci.im } else { cr.re };
    let im = if cr_complex { ci.re + cr.im } else { ci.re };
    Ok(Complex { re, im })
}

fn complex_new(vm: &mut Vm, mut args: Args) -> PyResult {
    let cls = match args.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => return Err(type_error("complex.__new__(X): X is not a type object")),
    };
    args.pos.remove(0);
    let base = complex_class();
    // `complex(z)` of an exact complex is z itself.
    if Rc::ptr_eq(&cls, &base)
        && args.pos.len() == 1
        && args.kw.is_empty()
        && matches!(&args.pos[0], Value::Object(o) if o.as_any().is::<Complex>())
    {
        return Ok(args.pos[0].clone());
    }
    let z = construct(vm, args)?;
    let obj = new(z.re, z.im);
    if Rc::ptr_eq(&cls, &base) {
        return Ok(obj);
    }
    Ok(Value::Instance(Instance::new(cls, Payload::Builtin(std::cell::RefCell::new(obj)))))
}

// ------------------------------------------------------------ methods

fn this(args: &Args) -> PyResult<Complex> {
    args.pos.first().and_then(get).ok_or_else(|| type_error("descriptor requires a 'complex' object"))
}

fn other(args: &Args) -> Option<PyResult<Complex>> {
    operand(args.pos.get(1)?)
}

macro_rules! binop {
    ($name:ident, $f:expr, $swap:expr) => {
        fn $name(_vm: &mut Vm, args: Args) -> PyResult {
            let a = this(&args)?;
            let Some(b) = other(&args) else { return Ok(Value::NotImplemented) };
            let b = b?;
            let (x, y) = if $swap { (b, a) } else { (a, b) };
            let r: PyResult<Complex> = $f(x, y);
            let r = r?;
            Ok(new(r.re, r.im))
        }
    };
}

fn divide(a: Complex, b: Complex) -> PyResult<Complex> {
    a.quotient(b).ok_or_else(|| zero_division("complex division by zero"))
}

binop!(c_add, |a: Complex, b| Ok(a.plus(b)), false);
binop!(c_radd, |a: Complex, b| Ok(a.plus(b)), true);
binop!(c_sub, |a: Complex, b| Ok(a.minus(b)), false);
binop!(c_rsub, |a: Complex, b| Ok(a.minus(b)), true);
binop!(c_mul, |a: Complex, b| Ok(a.times(b)), false);
binop!(c_rmul, |a: Complex, b| Ok(a.times(b)), true);
binop!(c_div, divide, false);
binop!(c_rdiv, divide, true);

fn pow_dunder(args: &Args, swap: bool) -> PyResult {
    if args.pos.get(2).is_some_and(|m| !m.is_none()) {
        return Err(value_error("complex modulo"));
    }
    let a = this(args)?;
    let Some(b) = other(args) else { return Ok(Value::NotImplemented) };
    let b = b?;
    let (x, y) = if swap { (b, a) } else { (a, b) };
    let r = pow(x, y)?;
    Ok(new(r.re, r.im))
}

fn c_pow(_vm: &mut Vm, args: Args) -> PyResult {
    pow_dunder(&args, false)
}

fn c_rpow(_vm: &mut Vm, args: Args) -> PyResult {
    pow_dunder(&args, true)
}

/// `z == x`: an int compares exactly against the real part.
fn equal(vm: &mut Vm, z: Complex, x: &Value) -> PyResult<Option<bool>> {
    Ok(Some(match x {
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => {
            if z.im != 0.0 {
                false
            } else {
                let r = vm.compare(crate::ops::EQ, &Value::float(z.re), x)?;
                vm.truthy(&r)?
            }
        }
        Value::Float(f) => z.im == 0.0 && z.re == f.get(),
        _ => match get(x) {
            Some(w) => z.re == w.re && z.im == w.im,
            None => return Ok(None),
        },
    }))
}

fn c_eq(vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    Ok(match equal(vm, z, args.pos.get(1).unwrap_or(&Value::None))? {
        Some(b) => Value::bool(b),
        None => Value::NotImplemented,
    })
}

fn c_ne(vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    Ok(match equal(vm, z, args.pos.get(1).unwrap_or(&Value::None))? {
        Some(b) => Value::bool(!b),
        None => Value::NotImplemented,
    })
}

/// `hash(z)`: the hashes of the parts combined as CPython does, so that
/// `hash(2+0j) == hash(2)`.
pub fn hash(z: Complex, id: usize) -> i64 {
    let hr = crate::numfmt::hash_float(z.re, id) as u64;
    let hi = crate::numfmt::hash_float(z.im, id) as u64;
    let h = hr.wrapping_add(hi.wrapping_mul(1000003)) as i64;
    if h == -1 {
        -2
    } else {
        h
    }
}

fn c_hash(_vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    Ok(Value::Int(hash(z, args.pos[0].ptr().unwrap_or(0))))
}

fn c_repr(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::string(repr(this(&args)?)))
}

fn c_format(_vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    let spec = match args.pos.get(1) {
        Some(Value::Str(s)) => s.clone(),
        Some(v) => return Err(type_error(format!("format() argument 2 must be str, not {}", type_name(v)))),
        None => return Err(type_error("__format__() takes exactly one argument (0 given)")),
    };
    if spec.is_empty() {
        return Ok(Value::string(repr(z)));
    }
    crate::numfmt::format_complex(z.re, z.im, &spec).map(Value::string).map_err(num_err)
}

fn c_neg(_vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    Ok(new(-z.re, -z.im))
}

fn c_pos(_vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    Ok(new(z.re, z.im))
}

fn c_abs(_vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    z.abs().map(Value::float).ok_or_else(|| overflow_error("absolute value too large"))
}

fn c_bool(_vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    Ok(Value::bool(z.re != 0.0 || z.im != 0.0))
}

fn c_conjugate(_vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    Ok(new(z.re, -z.im))
}

fn c_complex(_vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    Ok(new(z.re, z.im))
}

fn c_getnewargs(_vm: &mut Vm, args: Args) -> PyResult {
    let z = this(&args)?;
    Ok(Value::tuple([Value::float(z.re), Value::float(z.im)]))
}

fn make_class() -> Rc<Class> {
    let c = new_class("complex", &[types().object.clone()], Layout::Builtin, None);
    let ms: &[(&str, NativeFnPtr)] = &[
        ("__add__", c_add),
        ("__radd__", c_radd),
        ("__sub__", c_sub),
        ("__rsub__", c_rsub),
        ("__mul__", c_mul),
        ("__rmul__", c_rmul),
        ("__truediv__", c_div),
        ("__rtruediv__", c_rdiv),
        ("__pow__", c_pow),
        ("__rpow__", c_rpow),
        ("__eq__", c_eq),
        ("__ne__", c_ne),
        ("__hash__", c_hash),
        ("__repr__", c_repr),
        ("__format__", c_format),
        ("__neg__", c_neg),
        ("__pos__", c_pos),
        ("__abs__", c_abs),
        ("__bool__", c_bool),
        ("__complex__", c_complex),
        ("__getnewargs__", c_getnewargs),
        ("conjugate", c_conjugate),
    ];
    for (n, f) in ms {
        method(&c, "complex", n, *f);
    }
    class_function(&c, "__new__", complex_new, false);
    // `real` and `imag` are read-only attributes, of subclasses' instances too.
    let part = |name: &str, f: NativeFnPtr| {
        let fget = crate::types::native_fn(name, f);
        c.dict.set_str(name, Value::object(crate::attr::Property { fget, fset: Value::None, fdel: Value::None, doc: Value::None }));
    };
    part("real", |_vm, a| Ok(Value::float(this(&a)?.re)));
    part("imag", |_vm, a| Ok(Value::float(this(&a)?.im)));
    c
}
