//! `_decimal_core`: the `Decimal` value type of the `decimal` module and its
//! hot arithmetic. A Decimal is a sign, a coefficient, an exponent and a
//! kind (finite, infinity or NaN); results are exact and then rounded to the
//! current context's precision by its rounding mode, as the General Decimal
//! Arithmetic specification that CPython follows says. The coefficient is a
//! `u128` while it fits (every operation of a context precision below 19
//! digits stays there) and a `BigUint` beyond.
//!
//! decimal.aio keeps the Python surface: `Context` objects, signals,
//! `localcontext`, and the less used methods, which it installs into this
//! class (`install`). The arithmetic here reads the context's `prec` and
//! `rounding` through a cache that `Context.__setattr__` and `setcontext`
//! invalidate, and raises the module's signal classes that `setup` hands in.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::intern::intern;
use aio_interp::object::*;
use aio_interp::ops;
use aio_interp::types::{native_fn, new_class, type_name, types};
use aio_interp::{Value, Vm};
use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::ToPrimitive;

use crate::decimal_digits::count_digits;
use crate::native::{instance_of, native_ref, NativeRef};

// ------------------------------------------------------------ coefficients

/// A coefficient: an unsigned int, kept as a `u128` while it fits.
#[derive(Clone, PartialEq, Eq, Debug)]
enum N {
    S(W),
    B(BigUint),
}

/// A `u128` as two words: a Decimal then needs only 8-byte alignment,
/// which the allocator serves on its fast path (16-byte aligned blocks
/// take its slow one, a quarter of an addition's time).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct W([u64; 2]);

impl W {
    #[inline(always)]
    const fn new(v: u128) -> W {
        W([v as u64, (v >> 64) as u64])
    }
    #[inline(always)]
    fn get(self) -> u128 {
        self.0[0] as u128 | (self.0[1] as u128) << 64
    }
}

/// 10**k for k <= 38 (the powers a `u128` holds).
const fn pow10_table() -> [u128; 39] {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
}
static POW10: [u128; 39] = pow10_table();

fn big_pow10(k: u64) -> BigUint {
    BigUint::from(10u32).pow(u32::try_from(k).unwrap_or(u32::MAX))
}

impl N {
    const ZERO: N = N::S(W::new(0));

    #[inline(always)]
    fn s(v: u128) -> N {
        N::S(W::new(v))
    }

    /// The value when it fits in a `u128`.
    #[inline(always)]
    fn small(&self) -> Option<u128> {
        match self {
            N::S(w) => Some(w.get()),
            N::B(_) => None,
        }
    }

    fn from_big(b: BigUint) -> N {
        match b.to_u128() {
            Some(v) => N::s(v),
            None => N::B(b),
        }
    }

    fn to_big(&self) -> BigUint {
        match self {
            N::S(w) => BigUint::from(w.get()),
            N::B(b) => b.clone(),
        }
    }

    fn is_zero(&self) -> bool {
        self.small() == Some(0)
    }

    fn pow10(k: u64) -> N {
        if k < 39 {
            N::s(POW10[k as usize])
        } else {
            N::B(big_pow10(k))
        }
    }

    /// How many decimal digits (1 for zero).
    #[inline]
    fn digits(&self) -> u64 {
        match self {
            N::S(w) if w.0[1] == 0 => w.0[0].checked_ilog10().map_or(1, |d| d as u64 + 1),
            N::S(w) => w.get().ilog10() as u64 + 1,
            N::B(b) => count_digits(b),
        }
    }

    /// Whether the coefficient has at most `prec` digits, without counting
    /// them when its size settles it.
    fn fits(&self, prec: u64) -> bool {
        match self {
            N::S(w) => prec > 38 || w.get() < POW10[prec as usize],
            N::B(b) => {
                // bits * log10(2) + 1 bounds the digit count from above.
                let bound = (b.bits() as f64 * std::f64::consts::LOG10_2) as u64 + 1;
                bound <= prec || self.digits() <= prec
            }
        }
    }

    fn mul(&self, o: &N) -> N {
        if let (Some(a), Some(b)) = (self.small(), o.small()) {
            if let Some(p) = a.checked_mul(b) {
                return N::s(p);
            }
        }
        N::from_big(self.to_big() * o.to_big())
    }

    fn add(&self, o: &N) -> N {
        if let (Some(a), Some(b)) = (self.small(), o.small()) {
            if let Some(s) = a.checked_add(b) {
                return N::s(s);
            }
        }
        N::from_big(self.to_big() + o.to_big())
    }

    /// self - o, for self >= o.
    fn sub(&self, o: &N) -> N {
        match (self.small(), o.small()) {
            (Some(a), Some(b)) => N::s(a - b),
            _ => N::from_big(self.to_big() - o.to_big()),
        }
    }

    fn add_small(&self, k: u64) -> N {
        self.add(&N::s(k as u128))
    }

    /// self * 10**k.
    fn scale(&self, k: u64) -> N {
        if k == 0 {
            return self.clone();
        }
        if let Some(a) = self.small() {
            if k < 39 {
                if let Some(p) = a.checked_mul(POW10[k as usize]) {
                    return N::s(p);
                }
            }
        }
        N::from_big(self.to_big() * big_pow10(k))
    }

    fn divmod(&self, o: &N) -> (N, N) {
        match (self.small(), o.small()) {
            // One word each: the machine's division, not the 128-bit routine.
            (Some(a), Some(b)) if a <= u64::MAX as u128 && b <= u64::MAX as u128 => {
                let (a, b) = (a as u64, b as u64);
                (N::s((a / b) as u128), N::s((a % b) as u128))
            }
            (Some(a), Some(b)) => (N::s(a / b), N::s(a % b)),
            _ => {
                let (q, r) = self.to_big().div_rem(&o.to_big());
                (N::from_big(q), N::from_big(r))
            }
        }
    }

    /// self % m for a small m.
    fn rem_small(&self, m: u32) -> u32 {
        match self {
            N::S(w) if w.0[1] == 0 => (w.0[0] % m as u64) as u32,
            N::S(w) => (w.get() % m as u128) as u32,
            N::B(b) => (b % m).to_u32().expect("below m"),
        }
    }

    fn div_small(&self, m: u32) -> N {
        match self {
            N::S(w) if w.0[1] == 0 => N::s((w.0[0] / m as u64) as u128),
            N::S(w) => N::s(w.get() / m as u128),
            N::B(b) => N::from_big(b / m),
        }
    }

    fn cmp(&self, o: &N) -> Ordering {
        match (self, o) {
            (N::S(a), N::S(b)) => a.get().cmp(&b.get()),
            (N::S(_), N::B(_)) => Ordering::Less,
            (N::B(_), N::S(_)) => Ordering::Greater,
            (N::B(a), N::B(b)) => a.cmp(b),
        }
    }

    fn text(&self) -> String {
        match self {
            N::S(w) => w.get().to_string(),
            N::B(b) => b.to_str_radix(10),
        }
    }

    /// self % m for the hash modulus.
    fn rem_u64(&self, m: u64) -> u64 {
        match self {
            N::S(w) => (w.get() % m as u128) as u64,
            N::B(b) => (b % m).to_u64().expect("below m"),
        }
    }

    /// The int `(-1)**neg * self`.
    fn to_value(&self, neg: bool) -> Value {
        match self.small() {
            Some(v) if v <= i64::MAX as u128 => Value::Int(if neg { -(v as i64) } else { v as i64 }),
            _ => Value::from_bigint(BigInt::from_biguint(if neg { Sign::Minus } else { Sign::Plus }, self.to_big())),
        }
    }
}

/// A small int argument (an exponent, a sign).
fn small_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(b.get() as i64),
        _ => None,
    }
}

/// An int value as (negative, magnitude).
fn int_parts(v: &Value) -> Option<(bool, N)> {
    match v {
        Value::Int(i) => Some((*i < 0, N::s(i.unsigned_abs() as u128))),
        Value::Bool(b) => Some((false, N::s(b.get() as u128))),
        Value::BigInt(b) => Some((b.sign() == Sign::Minus, N::from_big(b.magnitude().clone()))),
        // An instance of an int subclass (an IntEnum's member): its int.
        Value::Instance(i) => match i.builtin_value()? {
            v @ (Value::Int(_) | Value::BigInt(_)) => int_parts(&v),
            _ => None,
        },
        _ => None,
    }
}

// ------------------------------------------------------------ the value

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Finite,
    Inf,
    NaN,
}

/// A Decimal: `(-1)**sign * coeff * 10**exp` when finite.
#[derive(Clone, Debug)]
pub struct Dec {
    sign: bool,
    kind: Kind,
    coeff: N,
    exp: i64,
}

impl Dec {
    fn finite(sign: bool, coeff: N, exp: i64) -> Dec {
        Dec { sign, kind: Kind::Finite, coeff, exp }
    }
    fn special(sign: bool, kind: Kind) -> Dec {
        Dec { sign, kind, coeff: N::ZERO, exp: 0 }
    }
    fn nan() -> Dec {
        Dec::special(false, Kind::NaN)
    }
    fn is_special(&self) -> bool {
        self.kind != Kind::Finite
    }
    fn is_zero(&self) -> bool {
        self.kind == Kind::Finite && self.coeff.is_zero()
    }
    fn adjusted(&self) -> i64 {
        if self.is_special() {
            0
        } else {
            self.exp + self.coeff.digits() as i64 - 1
        }
    }
    fn negated(&self) -> Dec {
        Dec { sign: !self.sign, ..self.clone() }
    }
}

thread_local! {
    static DEC_CLASS: Rc<Class> = make_class();
    static STATE: RefCell<State> = RefCell::new(State::default());
    /// The current context's `prec` and `rounding` as last read (None:
    /// read them again), apart from `STATE` so that an operation reads
    /// them with no borrow.
    static CACHED: Cell<Option<Ctx>> = const { Cell::new(None) };
    /// The same for the context last given as an argument (as to
    /// `Context.quantize`), emptied with `CACHED`.
    static CACHED_ARG: RefCell<Option<(std::rc::Weak<Instance>, Ctx)>> = const { RefCell::new(None) };
}

/// The module's run-time state: the current context (and its `prec` and
/// `rounding` as last read), the signal classes, and the .aio constructor
/// for the argument types handled there.
#[derive(Default)]
struct State {
    current: Value,
    invalid_operation: Option<Rc<Class>>,
    division_by_zero: Option<Rc<Class>>,
    slow_new: Value,
}

fn dec_class() -> Rc<Class> {
    DEC_CLASS.with(|c| c.clone())
}

impl NativeObject for Dec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        dec_class()
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        // The fields the .aio methods read.
        Ok(match name {
            "_sign" => Some(Value::Int(self.sign as i64)),
            "_coeff" => Some(self.coeff.to_value(false)),
            "_exp" => Some(Value::Int(self.exp)),
            "_special" => Some(match self.kind {
                Kind::Finite => Value::None,
                Kind::Inf => Value::str("F"),
                Kind::NaN => Value::str("n"),
            }),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("Decimal('{}')", sci_text(self, false)))
    }
    fn binary_op(&self, vm: &mut Vm, op: u8, other: &Value, reflected: bool) -> Option<PyResult<Value>> {
        // Another Decimal or an int; the rest (a float, a subclass
        // instance's own methods) take the general path.
        if !matches!(op, ops::ADD | ops::SUB | ops::MUL | ops::DIV | ops::FLOORDIV | ops::MOD) {
            return None;
        }
        let made;
        let o = match other {
            Value::Object(o) => o.as_any().downcast_ref::<Dec>()?,
            _ => {
                let (neg, n) = int_parts(other)?;
                made = Dec::finite(neg, n, 0);
                &made
            }
        };
        let (a, b) = if reflected { (o, self) } else { (self, o) };
        let ctx = match ctx_arg(vm, None) {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        let r = match op {
            ops::ADD => add(a, b, b.sign, &ctx),
            ops::SUB => add(a, b, !b.sign, &ctx),
            ops::MUL => mul(a, b, &ctx),
            ops::DIV => truediv(vm, a, b, &ctx, None),
            ops::FLOORDIV => op_floordiv(vm, a, b, &ctx, None),
            _ => op_mod(vm, a, b, &ctx, None),
        };
        Some(r.map(dv))
    }
    fn has_operators(&self) -> bool {
        true
    }
    fn compare_op(&self, _vm: &mut Vm, op: u8, other: &Value) -> Option<PyResult<Value>> {
        let o = match other {
            Value::Object(o) => Opnd::Borrowed(o.as_any().downcast_ref::<Dec>()?),
            // A subclass instance's own methods go first: the general path.
            Value::Instance(_) => return None,
            _ => convert(other, true)?,
        };
        Some(order_result(op, compare(self, &o)))
    }
}

fn dv(d: Dec) -> Value {
    Value::object(d)
}

fn this(v: &Value) -> PyResult<NativeRef<Dec>> {
    native_ref::<Dec>(v)
        .ok_or_else(|| type_error(format!("descriptor requires a 'decimal.Decimal' object but received '{}'", type_name(v))))
}

/// A Decimal operand: one behind a value, or one made from an int or float.
enum Opnd<'a> {
    Ref(NativeRef<Dec>),
    Borrowed(&'a Dec),
    Own(Dec),
}

impl std::ops::Deref for Opnd<'_> {
    type Target = Dec;
    fn deref(&self) -> &Dec {
        match self {
            Opnd::Ref(r) => r,
            Opnd::Borrowed(d) => d,
            Opnd::Own(d) => d,
        }
    }
}

/// `v` as a Decimal when it is one or an int (and a float, when `floats`).
fn convert(v: &Value, floats: bool) -> Option<Opnd<'_>> {
    if let Some(r) = native_ref::<Dec>(v) {
        return Some(Opnd::Ref(r));
    }
    if let Some((neg, n)) = int_parts(v) {
        return Some(Opnd::Own(Dec::finite(neg, n, 0)));
    }
    match v {
        Value::Float(f) if floats => Some(Opnd::Own(from_f64(f.get()))),
        _ => None,
    }
}

// ------------------------------------------------------------ context

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rounding {
    Down,
    HalfUp,
    HalfEven,
    Ceiling,
    Floor,
    Up,
    HalfDown,
    Up05,
}

fn rounding_of(v: &Value) -> PyResult<Rounding> {
    let Value::Str(s) = v else {
        return Err(type_error("valid values for rounding are: [ROUND_CEILING, ROUND_FLOOR, ROUND_UP, ROUND_DOWN, ROUND_HALF_UP, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_05UP]"));
    };
    Ok(match s.as_str() {
        "ROUND_DOWN" => Rounding::Down,
        "ROUND_HALF_UP" => Rounding::HalfUp,
        "ROUND_HALF_EVEN" => Rounding::HalfEven,
        "ROUND_CEILING" => Rounding::Ceiling,
        "ROUND_FLOOR" => Rounding::Floor,
        "ROUND_UP" => Rounding::Up,
        "ROUND_HALF_DOWN" => Rounding::HalfDown,
        "ROUND_05UP" => Rounding::Up05,
        _ => return Err(type_error("valid values for rounding are: [ROUND_CEILING, ROUND_FLOOR, ROUND_UP, ROUND_DOWN, ROUND_HALF_UP, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_05UP]")),
    })
}

/// The two settings of a context the arithmetic reads.
#[derive(Clone, Copy, Debug)]
struct Ctx {
    prec: u64,
    rounding: Rounding,
}

fn read_ctx(vm: &mut Vm, c: &Value) -> PyResult<Ctx> {
    let prec = vm.getattr(c, &intern("prec"))?;
    let rounding = vm.getattr(c, &intern("rounding"))?;
    let prec = match prec {
        Value::Int(p) if p >= 1 => p as u64,
        _ => return Err(value_error("valid range for prec is [1, MAX_PREC]")),
    };
    Ok(Ctx { prec, rounding: rounding_of(&rounding)? })
}

/// The context a method uses: its `context` argument, else the current one.
fn ctx_arg(vm: &mut Vm, c: Option<&Value>) -> PyResult<Ctx> {
    if let Some(c) = c.filter(|c| !c.is_none()) {
        let Value::Instance(i) = c else { return read_ctx(vm, c) };
        let hit = CACHED_ARG.with(|a| match &*a.borrow() {
            Some((w, ctx)) if std::ptr::eq(w.as_ptr(), Rc::as_ptr(i)) => Some(*ctx),
            _ => None,
        });
        if let Some(ctx) = hit {
            return Ok(ctx);
        }
        let ctx = read_ctx(vm, c)?;
        CACHED_ARG.with(|a| *a.borrow_mut() = Some((Rc::downgrade(i), ctx)));
        return Ok(ctx);
    }
    if let Some(c) = CACHED.get() {
        return Ok(c);
    }
    let c = read_ctx(vm, &current_ctx())?;
    CACHED.set(Some(c));
    Ok(c)
}

fn current_ctx() -> Value {
    STATE.with(|s| s.borrow().current.clone())
}

/// Which signal a failed operation raises.
enum Signal {
    Invalid(&'static str),
    DivisionByZero,
}

/// The signal's exception, with CPython's message naming the condition.
fn signal(sig: Signal) -> PyErr {
    let (cls, cond) = STATE.with(|s| {
        let s = s.borrow();
        match sig {
            Signal::Invalid(cond) => (s.invalid_operation.clone(), cond),
            Signal::DivisionByZero => (s.division_by_zero.clone(), "DivisionByZero"),
        }
    });
    let msg = format!("[<class 'decimal.{cond}'>]");
    match cls {
        Some(c) => err(&c, msg),
        None => value_error(msg),
    }
}

fn invalid() -> PyErr {
    signal(Signal::Invalid("InvalidOperation"))
}

// ------------------------------------------------------------ rounding

/// `coeff` with its last `drop` digits removed, rounded by the mode (or
/// scaled up by 10**-drop when drop is negative).
fn round_digits(sign: bool, coeff: &N, drop: i64, rounding: Rounding) -> N {
    if drop <= 0 {
        return coeff.scale(drop.unsigned_abs());
    }
    if let (Some(v), true) = (coeff.small(), drop < 39) {
        // The machine-word case: no coefficient made or compared as N.
        return N::s(div_round(sign, v, POW10[drop as usize], rounding));
    }
    let p = N::pow10(drop as u64);
    let (q, r) = coeff.divmod(&p);
    if r.is_zero() {
        return q;
    }
    let up = rounds_up(sign, r.mul(&N::s(2)).cmp(&p), q.rem_small(10), rounding);
    if up {
        q.add_small(1)
    } else {
        q
    }
}

/// `v / p` rounded by the mode, for a power of ten `p` a `u128` holds:
/// in one machine word when both fit one.
#[inline]
fn div_round(sign: bool, v: u128, p: u128, rounding: Rounding) -> u128 {
    let (q, r) = match (u64::try_from(v), u64::try_from(p)) {
        (Ok(x), Ok(y)) => ((x / y) as u128, (x % y) as u128),
        _ => (v / p, v % p),
    };
    if r == 0 {
        return q;
    }
    // r < p <= 10**38, so 2r still fits; q < 10**38 too.
    let last = if q <= u64::MAX as u128 { q as u64 % 10 } else { (q % 10) as u64 };
    q + rounds_up(sign, (2 * r).cmp(&p), last as u32, rounding) as u128
}

/// Whether a quotient whose last digit is `last` goes up by one, when the
/// dropped remainder compares with half a unit as `half` says.
#[inline]
fn rounds_up(sign: bool, half: Ordering, last: u32, rounding: Rounding) -> bool {
    match rounding {
        Rounding::HalfEven => half == Ordering::Greater || (half == Ordering::Equal && last % 2 == 1),
        Rounding::HalfUp => half != Ordering::Less,
        Rounding::HalfDown => half == Ordering::Greater,
        Rounding::Up => true,
        Rounding::Down => false,
        Rounding::Ceiling => !sign,
        Rounding::Floor => sign,
        Rounding::Up05 => matches!(last, 0 | 5),
    }
}

/// `d` rounded to the context's precision.
fn fix(d: Dec, ctx: &Ctx) -> Dec {
    if d.is_special() || d.coeff.fits(ctx.prec) {
        return d;
    }
    if let (Some(v), true) = (d.coeff.small(), ctx.prec <= 38) {
        return round_word(d.sign, v, d.exp, ctx);
    }
    let drop = d.coeff.digits() - ctx.prec;
    let mut coeff = round_digits(d.sign, &d.coeff, drop as i64, ctx.rounding);
    let mut exp = d.exp + drop as i64;
    if !coeff.fits(ctx.prec) {
        coeff = coeff.div_small(10);
        exp += 1;
    }
    Dec::finite(d.sign, coeff, exp)
}

/// `fix` of a finite coefficient `v` of more digits than the precision,
/// a precision a `u128` holds: machine arithmetic only.
#[inline(never)]
fn round_word(sign: bool, v: u128, exp: i64, ctx: &Ctx) -> Dec {
    let digits = match u64::try_from(v) {
        Ok(x) => x.ilog10() + 1,
        Err(_) => v.ilog10() + 1,
    } as usize;
    let prec = ctx.prec as usize;
    let drop = digits - prec;
    let q = div_round(sign, v, POW10[drop], ctx.rounding);
    // Rounded up to 10**prec (999.7 to 3 digits): one digit more goes.
    if q == POW10[prec] {
        return Dec::finite(sign, N::s(q / 10), exp + drop as i64 + 1);
    }
    Dec::finite(sign, N::s(q), exp + drop as i64)
}

/// The same value with exponent `exp`, rounded when digits go.
fn rescale(d: &Dec, exp: i64, rounding: Rounding) -> Dec {
    if d.is_special() {
        return d.clone();
    }
    let coeff = round_digits(d.sign, &d.coeff, exp - d.exp, rounding);
    Dec::finite(d.sign, coeff, exp)
}

// ------------------------------------------------------------ arithmetic

/// `a + b` with `b`'s sign taken as `bsign` (its opposite for `a - b`).
fn add(a: &Dec, b: &Dec, bsign: bool, ctx: &Ctx) -> PyResult<Dec> {
    if a.is_special() || b.is_special() {
        if a.kind == Kind::NaN || b.kind == Kind::NaN {
            return Ok(Dec::nan());
        }
        if a.kind == Kind::Inf && b.kind == Kind::Inf && a.sign != bsign {
            return Err(invalid());
        }
        return Ok(if a.kind == Kind::Inf { a.clone() } else { Dec::special(bsign, Kind::Inf) });
    }
    if let Some(r) = add_words(a, b, bsign, ctx) {
        return Ok(r);
    }
    let e = a.exp.min(b.exp);
    let x = a.coeff.scale((a.exp - e) as u64);
    let y = b.coeff.scale((b.exp - e) as u64);
    let (sign, total) = if a.sign == bsign {
        (a.sign, x.add(&y))
    } else {
        match x.cmp(&y) {
            Ordering::Greater => (a.sign, x.sub(&y)),
            Ordering::Less => (bsign, y.sub(&x)),
            Ordering::Equal => (false, N::ZERO),
        }
    };
    if total.is_zero() {
        let sign = (a.sign && bsign) || (ctx.rounding == Rounding::Floor && a.sign != bsign);
        return Ok(Dec::finite(sign, N::ZERO, e));
    }
    Ok(fix(Dec::finite(sign, total, e), ctx))
}

/// `add` of finite operands whose aligned coefficients and nonzero sum fit
/// in a u128: machine arithmetic only. None for the general path.
#[inline]
fn add_words(a: &Dec, b: &Dec, bsign: bool, ctx: &Ctx) -> Option<Dec> {
    let (x, y) = (a.coeff.small()?, b.coeff.small()?);
    // Aligned on the smaller exponent: one operand scales, mostly by 10**0.
    let (x, y, e) = if a.exp == b.exp {
        (x, y, a.exp)
    } else {
        let e = a.exp.min(b.exp);
        (x.checked_mul(*POW10.get((a.exp - e) as usize)?)?, y.checked_mul(*POW10.get((b.exp - e) as usize)?)?, e)
    };
    let (sign, total) = if a.sign == bsign {
        (a.sign, x.checked_add(y)?)
    } else if x >= y {
        (a.sign, x - y)
    } else {
        (bsign, y - x)
    };
    // A zero sum takes its sign from the rounding mode: the general path.
    if total == 0 {
        return None;
    }
    Some(fix_small(sign, total, e, ctx))
}

/// `fix` of a finite machine-word result: no rounding looked into when
/// its digits fit.
#[inline(always)]
fn fix_small(sign: bool, coeff: u128, exp: i64, ctx: &Ctx) -> Dec {
    if ctx.prec <= 38 && coeff >= POW10[ctx.prec as usize] {
        return round_word(sign, coeff, exp, ctx);
    }
    Dec::finite(sign, N::s(coeff), exp)
}

fn mul(a: &Dec, b: &Dec, ctx: &Ctx) -> PyResult<Dec> {
    let sign = a.sign ^ b.sign;
    if a.is_special() || b.is_special() {
        if a.kind == Kind::NaN || b.kind == Kind::NaN {
            return Ok(Dec::nan());
        }
        if (a.kind == Kind::Inf && b.is_zero()) || (b.kind == Kind::Inf && a.is_zero()) {
            return Err(invalid());
        }
        return Ok(Dec::special(sign, Kind::Inf));
    }
    if let (Some(x), Some(y)) = (a.coeff.small(), b.coeff.small()) {
        if let Some(p) = x.checked_mul(y) {
            return Ok(fix_small(sign, p, a.exp + b.exp, ctx));
        }
    }
    Ok(fix(Dec::finite(sign, a.coeff.mul(&b.coeff), a.exp + b.exp), ctx))
}

fn truediv(vm: &mut Vm, a: &Dec, b: &Dec, ctx: &Ctx, ctx_value: Option<&Value>) -> PyResult<Dec> {
    let sign = a.sign ^ b.sign;
    if a.is_special() || b.is_special() {
        if a.kind == Kind::NaN || b.kind == Kind::NaN {
            return Ok(Dec::nan());
        }
        if a.kind == Kind::Inf && b.kind == Kind::Inf {
            return Err(invalid());
        }
        if a.kind == Kind::Inf {
            return Ok(Dec::special(sign, Kind::Inf));
        }
        // x / Infinity: zero at the smallest exponent the context allows.
        let c = ctx_value.filter(|c| !c.is_none()).cloned().unwrap_or_else(current_ctx);
        let emax = small_int(&vm.getattr(&c, &intern("Emax"))?).unwrap_or(999999);
        return Ok(Dec::finite(sign, N::ZERO, -emax - ctx.prec as i64 + 1));
    }
    if b.coeff.is_zero() {
        return Err(if a.coeff.is_zero() { signal(Signal::Invalid("DivisionUndefined")) } else { signal(Signal::DivisionByZero) });
    }
    if a.coeff.is_zero() {
        return Ok(Dec::finite(sign, N::ZERO, a.exp - b.exp));
    }
    let la = a.coeff.digits() as i64;
    let lb = b.coeff.digits() as i64;
    let shift = lb - la + ctx.prec as i64 + 1;
    let mut exp = a.exp - b.exp - shift;
    let (mut coeff, rem) =
        if shift >= 0 { a.coeff.scale(shift as u64).divmod(&b.coeff) } else { a.coeff.divmod(&b.coeff.scale(shift.unsigned_abs())) };
    if !rem.is_zero() {
        // A last digit of 0 or 5 would read as exact: make it inexact.
        if coeff.rem_small(5) == 0 {
            coeff = coeff.add_small(1);
        }
    } else {
        let ideal = a.exp - b.exp;
        while exp < ideal && coeff.rem_small(10) == 0 {
            coeff = coeff.div_small(10);
            exp += 1;
        }
    }
    Ok(fix(Dec::finite(sign, coeff, exp), ctx))
}

/// The integer part of a / b (toward zero) and the remainder.
/// `a // b` and `a % b` (the remainder unrounded) in a context of `prec`
/// digits: a quotient needing more digits than that is DivisionImpossible,
/// as the specification (and CPython) have it.
fn divide_int(a: &Dec, b: &Dec, prec: u64) -> PyResult<(Dec, Dec)> {
    let sign = a.sign ^ b.sign;
    if a.is_special() || b.is_special() {
        // The first NaN operand is the result, its sign kept.
        if a.kind == Kind::NaN {
            return Ok((a.clone(), a.clone()));
        }
        if b.kind == Kind::NaN {
            return Ok((b.clone(), b.clone()));
        }
        if a.kind == Kind::Inf {
            if b.kind == Kind::Inf {
                return Err(invalid());
            }
            return Ok((Dec::special(sign, Kind::Inf), Dec::nan()));
        }
        return Ok((Dec::finite(sign, N::ZERO, 0), a.clone()));
    }
    if b.coeff.is_zero() {
        return Err(if a.coeff.is_zero() { signal(Signal::Invalid("DivisionUndefined")) } else { signal(Signal::DivisionByZero) });
    }
    let e = a.exp.min(b.exp);
    let x = a.coeff.scale((a.exp - e) as u64);
    let y = b.coeff.scale((b.exp - e) as u64);
    let (q, r) = x.divmod(&y);
    if !q.is_zero() && q.digits() > prec {
        return Err(signal(Signal::Invalid("DivisionImpossible")));
    }
    Ok((Dec::finite(sign, q, 0), Dec::finite(a.sign, r, e)))
}

/// `a % b`'s checks before the division: a zero divisor, or an infinite
/// dividend, is invalid.
fn check_mod(a: &Dec, b: &Dec) -> PyResult<()> {
    if a.kind == Kind::NaN || b.kind == Kind::NaN {
        // A NaN operand gives NaN first, whatever the other is.
        return Ok(());
    }
    if b.is_zero() || (a.kind == Kind::Inf && b.kind != Kind::NaN) {
        return Err(signal(Signal::Invalid(if b.is_zero() && a.is_zero() { "DivisionUndefined" } else { "InvalidOperation" })));
    }
    Ok(())
}

/// The order of a and b; None when either is a NaN.
fn compare(a: &Dec, b: &Dec) -> Option<Ordering> {
    if a.kind == Kind::NaN || b.kind == Kind::NaN {
        return None;
    }
    if let (Kind::Finite, Kind::Finite, true, Some(x), Some(y)) = (a.kind, b.kind, a.exp == b.exp, a.coeff.small(), b.coeff.small()) {
        // One exponent, machine words: compare the signed coefficients.
        let (na, nb) = (a.sign && x != 0, b.sign && y != 0);
        return Some(match (na, nb) {
            (false, false) => x.cmp(&y),
            (true, true) => y.cmp(&x),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        });
    }
    if a.is_special() || b.is_special() {
        let rank = |d: &Dec| match (d.kind, d.sign) {
            (Kind::Inf, false) => 1,
            (Kind::Inf, true) => -1,
            _ => 0,
        };
        let (ra, rb) = (rank(a), rank(b));
        if ra != rb || ra != 0 {
            return Some(ra.cmp(&rb));
        }
    }
    let (za, zb) = (a.coeff.is_zero(), b.coeff.is_zero());
    if za && zb {
        return Some(Ordering::Equal);
    }
    if za {
        return Some(if b.sign { Ordering::Greater } else { Ordering::Less });
    }
    if zb {
        return Some(if a.sign { Ordering::Less } else { Ordering::Greater });
    }
    if a.sign != b.sign {
        return Some(if a.sign { Ordering::Less } else { Ordering::Greater });
    }
    let mag = match a.adjusted().cmp(&b.adjusted()) {
        Ordering::Equal => {
            let e = a.exp.min(b.exp);
            a.coeff.scale((a.exp - e) as u64).cmp(&b.coeff.scale((b.exp - e) as u64))
        }
        o => o,
    };
    Some(if a.sign { mag.reverse() } else { mag })
}

/// The exact value of a float.
fn from_f64(f: f64) -> Dec {
    if f.is_nan() {
        return Dec::nan();
    }
    let sign = f.is_sign_negative();
    if f.is_infinite() {
        return Dec::special(sign, Kind::Inf);
    }
    if f == 0.0 {
        return Dec::finite(sign, N::ZERO, 0);
    }
    let bits = f.abs().to_bits();
    let biased = (bits >> 52) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (mut m, mut e2) = if biased == 0 { (frac, -1074) } else { (frac | (1u64 << 52), biased - 1075) };
    let tz = m.trailing_zeros() as i64;
    let shift = if e2 < 0 { tz.min(-e2) } else { tz };
    m >>= shift;
    e2 += shift;
    if e2 >= 0 {
        return Dec::finite(sign, N::from_big(BigUint::from(m) << e2 as u64), 0);
    }
    // m / 2**k == m * 5**k / 10**k
    let k = -e2;
    let five = BigUint::from(5u32).pow(k as u32);
    Dec::finite(sign, N::from_big(five * m), -k)
}

// ------------------------------------------------------------ text

/// The scientific (or, with `eng`, engineering) string of CPython's `str`.
fn sci_text(d: &Dec, eng: bool) -> String {
    let sign = if d.sign { "-" } else { "" };
    match d.kind {
        Kind::Inf => return format!("{sign}Infinity"),
        Kind::NaN => return format!("{sign}NaN"),
        Kind::Finite => {}
    }
    let coeff = d.coeff.text();
    let n = coeff.len() as i64;
    let exp = d.exp;
    let leftdigits = exp + n;
    let dotplace = if exp <= 0 && leftdigits > -6 {
        leftdigits
    } else if !eng {
        1
    } else if d.coeff.is_zero() {
        (leftdigits + 1).rem_euclid(3) - 1
    } else {
        (leftdigits - 1).rem_euclid(3) + 1
    };
    let mut out = String::with_capacity(coeff.len() + 8);
    out.push_str(sign);
    if dotplace <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', dotplace.unsigned_abs() as usize));
        out.push_str(&coeff);
    } else if dotplace >= n {
        out.push_str(&coeff);
        out.extend(std::iter::repeat_n('0', (dotplace - n) as usize));
    } else {
        out.push_str(&coeff[..dotplace as usize]);
        out.push('.');
        out.push_str(&coeff[dotplace as usize..]);
    }
    if leftdigits != dotplace {
        out.push_str(&format!("E{:+}", leftdigits - dotplace));
    }
    out
}

/// A string's Decimal; None when it does not spell one.
fn parse(text: &str) -> Option<Dec> {
    let s: String = text.trim().chars().filter(|&c| c != '_').collect();
    let (sign, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, &s[..]),
    };
    let low = s.to_ascii_lowercase();
    if low == "inf" || low == "infinity" {
        return Some(Dec::special(sign, Kind::Inf));
    }
    if low == "nan" || low == "snan" || (low.starts_with("nan") && low[3..].bytes().all(|b| b.is_ascii_digit())) {
        return Some(Dec::special(sign, Kind::NaN));
    }
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(p) => {
            let es = &s[p + 1..];
            let body = es.strip_prefix(['+', '-']).unwrap_or(es);
            if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (&s[..p], es.parse::<i64>().ok()?)
        }
        None => (s, 0),
    };
    let (intpart, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits = format!("{intpart}{frac}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let coeff =
        if digits.len() <= 38 { N::s(digits.parse::<u128>().ok()?) } else { N::from_big(BigUint::parse_bytes(digits.as_bytes(), 10)?) };
    Some(Dec::finite(sign, coeff, exp - frac.len() as i64))
}

// ------------------------------------------------------------ hash

const HASH_MODULUS: u64 = (1 << 61) - 1;
const HASH_INF: i64 = 314159;

fn mulmod(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) % HASH_MODULUS as u128) as u64
}

fn powmod(mut base: u64, mut e: u64) -> u64 {
    let mut r = 1u64;
    base %= HASH_MODULUS;
    while e > 0 {
        if e & 1 == 1 {
            r = mulmod(r, base);
        }
        base = mulmod(base, base);
        e >>= 1;
    }
    r
}

/// The hash of an int or float of the same value, as CPython's.
fn hash(d: &Dec) -> PyResult<i64> {
    match d.kind {
        Kind::NaN => return Err(type_error("Cannot hash a signaling NaN value.")),
        Kind::Inf => return Ok(if d.sign { -HASH_INF } else { HASH_INF }),
        Kind::Finite => {}
    }
    let exp_hash = if d.exp >= 0 {
        powmod(10, d.exp as u64)
    } else {
        // 10's inverse modulo the (prime) modulus.
        powmod(powmod(10, HASH_MODULUS - 2), d.exp.unsigned_abs())
    };
    let h = mulmod(d.coeff.rem_u64(HASH_MODULUS), exp_hash) as i64;
    let ans = if d.sign { -h } else { h };
    Ok(if ans == -1 { -2 } else { ans })
}

// ------------------------------------------------------------ methods

/// Positional and keyword arguments of a method bound to `names` (self
/// first), absent ones None.
fn bind(args: &Args, names: &[&str]) -> PyResult<Vec<Value>> {
    if args.pos.len() > names.len() {
        return Err(type_error(format!("{}() takes at most {} arguments ({} given)", names[0], names.len() - 1, args.pos.len() - 1)));
    }
    let mut out: Vec<Value> = args.pos.iter().cloned().collect();
    out.resize(names.len(), Value::None);
    for (k, v) in &args.kw {
        match names.iter().position(|n| *n == k.as_str()) {
            Some(i) if i >= args.pos.len() => out[i] = v.clone(),
            _ => return Err(type_error(format!("'{}' is an invalid keyword argument for this function", k.as_str()))),
        }
    }
    Ok(out)
}

/// A method taking keywords as well: `$fast` gets the bound arguments.
macro_rules! kw_method {
    ($fast:expr, $($name:literal),*) => {
        (|vm: &mut Vm, args: Args| -> PyResult {
            let a = bind(&args, &["self", $($name),*])?;
            $fast(vm, &a[..])
        }) as NativeFnPtr
    };
}

fn arg(a: &[Value], i: usize) -> Option<&Value> {
    a.get(i).filter(|v| !v.is_none())
}

/// A binary arithmetic dunder: `op(self, other)`, or `op(other, self)` when
/// reflected.
/// An arithmetic kernel: `a op b` in a context (the context value too, for
/// the rare case that reads more of it).
type ArithFn = fn(&mut Vm, &Dec, &Dec, &Ctx, Option<&Value>) -> PyResult<Dec>;

fn arith(vm: &mut Vm, a: &[Value], reflected: bool, op: ArithFn) -> PyResult {
    let me = this(&a[0])?;
    // A float too is NotImplemented: the operator's TypeError names both types.
    let Some(other) = convert(a.get(1).unwrap_or(&Value::None), false) else {
        return Ok(Value::NotImplemented);
    };
    let ctx = ctx_arg(vm, arg(a, 2))?;
    let r = if reflected { op(vm, &other, &me, &ctx, arg(a, 2))? } else { op(vm, &me, &other, &ctx, arg(a, 2))? };
    Ok(dv(r))
}

fn op_add(_vm: &mut Vm, a: &Dec, b: &Dec, c: &Ctx, _: Option<&Value>) -> PyResult<Dec> {
    add(a, b, b.sign, c)
}
fn op_sub(_vm: &mut Vm, a: &Dec, b: &Dec, c: &Ctx, _: Option<&Value>) -> PyResult<Dec> {
    add(a, b, !b.sign, c)
}
fn op_mul(_vm: &mut Vm, a: &Dec, b: &Dec, c: &Ctx, _: Option<&Value>) -> PyResult<Dec> {
    mul(a, b, c)
}
fn op_div(vm: &mut Vm, a: &Dec, b: &Dec, c: &Ctx, cv: Option<&Value>) -> PyResult<Dec> {
    truediv(vm, a, b, c, cv)
}
fn op_floordiv(_vm: &mut Vm, a: &Dec, b: &Dec, c: &Ctx, _: Option<&Value>) -> PyResult<Dec> {
    Ok(divide_int(a, b, c.prec)?.0)
}
fn op_mod(_vm: &mut Vm, a: &Dec, b: &Dec, c: &Ctx, _: Option<&Value>) -> PyResult<Dec> {
    check_mod(a, b)?;
    Ok(fix(divide_int(a, b, c.prec)?.1, c))
}

fn divmod_values(vm: &mut Vm, a: &[Value], reflected: bool) -> PyResult {
    let me = this(&a[0])?;
    let Some(other) = convert(a.get(1).unwrap_or(&Value::None), false) else {
        return Ok(Value::NotImplemented);
    };
    let ctx = ctx_arg(vm, arg(a, 2))?;
    let (x, y): (&Dec, &Dec) = if reflected { (&other, &me) } else { (&me, &other) };
    check_mod(x, y)?;
    let (q, r) = divide_int(x, y, ctx.prec)?;
    Ok(Value::tuple(vec![dv(q), dv(fix(r, &ctx))]))
}

/// A comparison's result from the order (None: a NaN is involved, which
/// is unequal to everything and invalid to order).
fn order_result(op: u8, o: Option<Ordering>) -> PyResult {
    let Some(o) = o else {
        return match op {
            ops::EQ => Ok(Value::bool(false)),
            ops::NE => Ok(Value::bool(true)),
            _ => Err(invalid()),
        };
    };
    Ok(Value::bool(match op {
        ops::EQ => o == Ordering::Equal,
        ops::NE => o != Ordering::Equal,
        ops::LT => o == Ordering::Less,
        ops::LE => o != Ordering::Greater,
        ops::GT => o == Ordering::Greater,
        _ => o != Ordering::Less,
    }))
}

fn cmp_values(_vm: &mut Vm, a: &[Value], op: u8) -> PyResult {
    let me = this(&a[0])?;
    let Some(other) = convert(a.get(1).unwrap_or(&Value::None), true) else {
        return Ok(Value::NotImplemented);
    };
    order_result(op, compare(&me, &other))
}

fn dec_new(vm: &mut Vm, args: Args) -> PyResult {
    let base = dec_class();
    let (cls, rest) = match args.pos.first() {
        Some(Value::Class(c)) => (c.clone(), &args.pos[1..]),
        _ => (base.clone(), &args.pos[..]),
    };
    let mut value = rest.first().cloned();
    for (k, v) in &args.kw {
        match k.as_str() {
            "value" if value.is_none() => value = Some(v.clone()),
            "context" => {}
            n => return Err(type_error(format!("'{n}' is an invalid keyword argument for this function"))),
        }
    }
    let Some(value) = value else {
        return Ok(instance_of(&cls, &base, dv(Dec::finite(false, N::ZERO, 0))));
    };
    let d = if let Some(r) = native_ref::<Dec>(&value) {
        if Rc::ptr_eq(&cls, &base) && matches!(value, Value::Object(_)) {
            return Ok(value);
        }
        (*r).clone()
    } else if let Some((neg, n)) = int_parts(&value) {
        Dec::finite(neg, n, 0)
    } else {
        match &value {
            Value::Str(s) => parse(s.as_str()).ok_or_else(|| signal(Signal::Invalid("ConversionSyntax")))?,
            Value::Float(f) => from_f64(f.get()),
            _ => {
                let slow = STATE.with(|s| s.borrow().slow_new.clone());
                let r = vm.call_pos(&slow, [value.clone()])?;
                match native_ref::<Dec>(&r) {
                    Some(d) => (*d).clone(),
                    None => return Ok(r),
                }
            }
        }
    };
    Ok(instance_of(&cls, &base, dv(d)))
}

fn from_float(_vm: &mut Vm, args: Args) -> PyResult {
    let (cls, rest) = match args.pos.first() {
        Some(Value::Class(c)) => (c.clone(), &args.pos[1..]),
        _ => (dec_class(), &args.pos[..]),
    };
    let d = match rest.first() {
        Some(Value::Float(f)) => from_f64(f.get()),
        Some(v) => match int_parts(v) {
            Some((neg, n)) => Dec::finite(neg, n, 0),
            None => return Err(type_error("argument must be int or float")),
        },
        None => return Err(type_error("from_float() takes exactly one argument (0 given)")),
    };
    Ok(instance_of(&cls, &dec_class(), dv(d)))
}

fn m_str(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::str(&sci_text(&*this(&a[0])?, false)))
}
fn m_eng(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::str(&sci_text(&*this(&a[0])?, true)))
}
fn m_repr(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::str(&format!("Decimal('{}')", sci_text(&*this(&a[0])?, false))))
}
fn m_hash(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::Int(hash(&*this(&a[0])?)?))
}
fn m_bool(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    Ok(Value::bool(d.is_special() || !d.coeff.is_zero()))
}
fn m_int(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    match d.kind {
        Kind::NaN => return Err(value_error("cannot convert NaN to integer")),
        Kind::Inf => return Err(overflow_error("cannot convert Infinity to integer")),
        Kind::Finite => {}
    }
    let n = if d.exp >= 0 { d.coeff.scale(d.exp as u64) } else { round_digits(false, &d.coeff, -d.exp, Rounding::Down) };
    Ok(n.to_value(d.sign && !n.is_zero()))
}
fn m_float(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    if d.kind == Kind::NaN {
        return Ok(Value::float(f64::NAN));
    }
    let f: f64 = sci_text(&d, false).parse().map_err(|_| value_error("could not convert Decimal to float"))?;
    Ok(Value::float(f))
}
fn m_neg(vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    if d.is_special() {
        return Ok(dv(d.negated()));
    }
    let ctx = ctx_arg(vm, arg(a, 1))?;
    let sign = !d.sign && !d.coeff.is_zero();
    Ok(dv(fix(Dec::finite(sign, d.coeff.clone(), d.exp), &ctx)))
}
fn m_pos(vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    if d.is_zero() {
        return Ok(dv(Dec::finite(false, N::ZERO, d.exp)));
    }
    let ctx = ctx_arg(vm, arg(a, 1))?;
    Ok(dv(fix((*d).clone(), &ctx)))
}
fn m_abs(vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    if d.is_special() {
        return Ok(dv(Dec::special(false, d.kind)));
    }
    let ctx = ctx_arg(vm, arg(a, 1))?;
    Ok(dv(fix(Dec::finite(false, d.coeff.clone(), d.exp), &ctx)))
}
fn m_copy_abs(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    Ok(dv(Dec { sign: false, ..(*d).clone() }))
}
fn m_copy_negate(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(dv(this(&a[0])?.negated()))
}
fn m_fix(vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    let ctx = ctx_arg(vm, arg(a, 1))?;
    if d.is_special() || d.coeff.fits(ctx.prec) {
        return Ok(a[0].clone());
    }
    Ok(dv(fix((*d).clone(), &ctx)))
}
fn m_rescale(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    let exp = a.get(1).and_then(small_int).ok_or_else(|| type_error("_rescale() needs an int exponent"))?;
    let rounding = rounding_of(a.get(2).unwrap_or(&Value::None))?;
    Ok(dv(rescale(&d, exp, rounding)))
}
/// The rounding a method uses: its `rounding` argument, else the context's.
fn rounding_arg(a: &[Value], i: usize, ctx: &Ctx) -> PyResult<Rounding> {
    match arg(a, i) {
        Some(r) => rounding_of(r),
        None => Ok(ctx.rounding),
    }
}
fn m_quantize(vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    let target = a.get(1).unwrap_or(&Value::None);
    let Some(q) = convert(target, false) else {
        return Err(type_error(format!("conversion from {} to Decimal is not supported", type_name(target))));
    };
    let ctx = ctx_arg(vm, arg(a, 3))?;
    if d.is_special() || q.is_special() {
        // A (quiet) NaN operand is the result, two infinities the first.
        if d.kind == Kind::NaN {
            return Ok(a[0].clone());
        }
        if q.kind == Kind::NaN {
            return Ok(dv(Dec::clone(&q)));
        }
        if d.kind == Kind::Inf && q.kind == Kind::Inf {
            return Ok(a[0].clone());
        }
        return Err(invalid());
    }
    let r = rescale(&d, q.exp, rounding_arg(a, 2, &ctx)?);
    if !r.coeff.fits(ctx.prec) {
        return Err(invalid());
    }
    Ok(dv(r))
}
fn m_to_integral(vm: &mut Vm, a: &[Value]) -> PyResult {
    let d = this(&a[0])?;
    if d.is_special() || d.exp >= 0 {
        return Ok(a[0].clone());
    }
    let ctx = ctx_arg(vm, arg(a, 2))?;
    Ok(dv(rescale(&d, 0, rounding_arg(a, 1, &ctx)?)))
}
fn m_adjusted(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::Int(this(&a[0])?.adjusted()))
}
fn m_cmp(_vm: &mut Vm, a: &[Value]) -> PyResult {
    // -1, 0 or 1, None when not comparable; a NaN counts as zero.
    let me = this(&a[0])?;
    let Some(other) = convert(a.get(1).unwrap_or(&Value::None), true) else {
        return Ok(Value::None);
    };
    let as_zero = |d: &Dec| if d.kind == Kind::NaN { Dec::finite(false, N::ZERO, 0) } else { d.clone() };
    let o = compare(&as_zero(&me), &as_zero(&other)).expect("no NaN left");
    Ok(Value::Int(o as i64))
}
fn m_self(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(a[0].clone())
}

/// The predicates: which one by the kind and sign.
fn m_is_nan(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::bool(this(&a[0])?.kind == Kind::NaN))
}
fn m_is_infinite(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::bool(this(&a[0])?.kind == Kind::Inf))
}
fn m_is_finite(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::bool(this(&a[0])?.kind == Kind::Finite))
}
fn m_is_zero(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::bool(this(&a[0])?.is_zero()))
}
fn m_is_signed(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::bool(this(&a[0])?.sign))
}

fn make_class() -> Rc<Class> {
    let c = new_class("Decimal", &[types().object.clone()], Layout::Builtin, None);
    c.dict.set_str("__module__", Value::str("decimal"));
    c.dict.set_str("__doc__", Value::str("Decimal('3.14'), Decimal(7), Decimal(0.1) (exactly): a decimal number."));
    let arith_methods: &[(&str, FastFnPtr, NativeFnPtr)] = &[
        ("__add__", |vm, a| arith(vm, a, false, op_add), kw_method!(|vm, a| arith(vm, a, false, op_add), "other", "context")),
        ("__radd__", |vm, a| arith(vm, a, true, op_add), kw_method!(|vm, a| arith(vm, a, true, op_add), "other", "context")),
        ("__sub__", |vm, a| arith(vm, a, false, op_sub), kw_method!(|vm, a| arith(vm, a, false, op_sub), "other", "context")),
        ("__rsub__", |vm, a| arith(vm, a, true, op_sub), kw_method!(|vm, a| arith(vm, a, true, op_sub), "other", "context")),
        ("__mul__", |vm, a| arith(vm, a, false, op_mul), kw_method!(|vm, a| arith(vm, a, false, op_mul), "other", "context")),
        ("__rmul__", |vm, a| arith(vm, a, true, op_mul), kw_method!(|vm, a| arith(vm, a, true, op_mul), "other", "context")),
        ("__truediv__", |vm, a| arith(vm, a, false, op_div), kw_method!(|vm, a| arith(vm, a, false, op_div), "other", "context")),
        ("__rtruediv__", |vm, a| arith(vm, a, true, op_div), kw_method!(|vm, a| arith(vm, a, true, op_div), "other", "context")),
        (
            "__floordiv__",
            |vm, a| arith(vm, a, false, op_floordiv),
            kw_method!(|vm, a| arith(vm, a, false, op_floordiv), "other", "context"),
        ),
        ("__rfloordiv__", |vm, a| arith(vm, a, true, op_floordiv), kw_method!(|vm, a| arith(vm, a, true, op_floordiv), "other", "context")),
        ("__mod__", |vm, a| arith(vm, a, false, op_mod), kw_method!(|vm, a| arith(vm, a, false, op_mod), "other", "context")),
        ("__rmod__", |vm, a| arith(vm, a, true, op_mod), kw_method!(|vm, a| arith(vm, a, true, op_mod), "other", "context")),
        ("__divmod__", |vm, a| divmod_values(vm, a, false), kw_method!(|vm, a| divmod_values(vm, a, false), "other", "context")),
        ("__rdivmod__", |vm, a| divmod_values(vm, a, true), kw_method!(|vm, a| divmod_values(vm, a, true), "other", "context")),
        ("__neg__", m_neg, kw_method!(m_neg, "context")),
        ("__pos__", m_pos, kw_method!(m_pos, "context")),
        ("__abs__", m_abs, kw_method!(m_abs, "context")),
        ("_fix", m_fix, kw_method!(m_fix, "context")),
        ("quantize", m_quantize, kw_method!(m_quantize, "exp", "rounding", "context")),
        ("to_integral_value", m_to_integral, kw_method!(m_to_integral, "rounding", "context")),
        ("to_integral", m_to_integral, kw_method!(m_to_integral, "rounding", "context")),
        ("to_integral_exact", m_to_integral, kw_method!(m_to_integral, "rounding", "context")),
        ("__str__", m_str, kw_method!(m_str, "eng", "context")),
        ("to_eng_string", m_eng, kw_method!(m_eng, "context")),
    ];
    for (name, fast, full) in arith_methods {
        let nf = NativeFn { name: intern(name), owner: Some("Decimal"), imp: NativeImpl::Fast(*fast, Some(*full)) };
        c.dict.set_str_rc(intern(name), Value::Native(Rc::new(nf)));
    }
    let plain: &[(&str, FastFnPtr)] = &[
        ("__repr__", m_repr),
        ("__hash__", m_hash),
        ("__bool__", m_bool),
        ("__int__", m_int),
        ("__trunc__", m_int),
        ("__float__", m_float),
        ("__eq__", |vm, a| cmp_values(vm, a, ops::EQ)),
        ("__ne__", |vm, a| cmp_values(vm, a, ops::NE)),
        ("__lt__", |vm, a| cmp_values(vm, a, ops::LT)),
        ("__le__", |vm, a| cmp_values(vm, a, ops::LE)),
        ("__gt__", |vm, a| cmp_values(vm, a, ops::GT)),
        ("__ge__", |vm, a| cmp_values(vm, a, ops::GE)),
        ("_cmp", m_cmp),
        ("_rescale", m_rescale),
        ("copy_abs", m_copy_abs),
        ("copy_negate", m_copy_negate),
        ("adjusted", m_adjusted),
        ("is_nan", m_is_nan),
        ("_isnan", m_is_nan),
        ("is_infinite", m_is_infinite),
        ("_isinf", m_is_infinite),
        ("is_finite", m_is_finite),
        ("is_zero", m_is_zero),
        ("is_signed", m_is_signed),
        ("__copy__", m_self),
    ];
    for (name, f) in plain {
        aio_interp::types::method_fast(&c, "Decimal", name, *f);
    }
    c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", dec_new)));
    c.dict.set_str("from_float", aio_interp::attr::ClassMethod::wrap(native_fn("from_float", from_float)));
    c
}

// ------------------------------------------------------------ module functions

/// `_make(sign, coeff, exp)`: the finite Decimal of those parts.
fn make(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let sign = a.first().and_then(small_int).unwrap_or(0) != 0;
    let (neg, coeff) = a.get(1).and_then(int_parts).ok_or_else(|| type_error("_make() coefficient must be an int"))?;
    let _ = neg;
    let exp = a.get(2).and_then(small_int).ok_or_else(|| overflow_error("exponent out of range"))?;
    Ok(dv(Dec::finite(sign, coeff, exp)))
}

/// `_special(sign, kind)`: Infinity ("F") or NaN ("n").
fn make_special(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let sign = a.first().and_then(small_int).unwrap_or(0) != 0;
    let kind = match a.get(1) {
        Some(Value::Str(s)) if s.as_str() == "F" => Kind::Inf,
        _ => Kind::NaN,
    };
    Ok(dv(Dec::special(sign, kind)))
}

/// `setup(InvalidOperation, DivisionByZero, slow_new)`: what the arithmetic
/// raises, and the constructor for arguments other than int, str, float
/// and Decimal.
fn setup(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let class = |v: Option<&Value>| match v {
        Some(Value::Class(c)) => Ok(c.clone()),
        _ => Err(type_error("setup() takes the signal classes")),
    };
    let (inv, dbz) = (class(a.first())?, class(a.get(1))?);
    let slow = a.get(2).cloned().unwrap_or(Value::None);
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.invalid_operation = Some(inv);
        s.division_by_zero = Some(dbz);
        s.slow_new = slow;
    });
    Ok(Value::None)
}

fn getcontext(_vm: &mut Vm, _a: &[Value]) -> PyResult {
    Ok(current_ctx())
}

fn set_current(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let c = a.first().cloned().unwrap_or(Value::None);
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.current = c;
        CACHED.set(None);
    });
    Ok(Value::None)
}

/// A context's setting changed: read them again at the next operation.
fn invalidate(_vm: &mut Vm, _a: &[Value]) -> PyResult {
    CACHED.set(None);
    CACHED_ARG.with(|a| *a.borrow_mut() = None);
    Ok(Value::None)
}

/// `install(name, function)`: a method written in .aio, into the class.
fn install(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let (Some(Value::Str(name)), Some(f)) = (a.first(), a.get(1)) else {
        return Err(type_error("install(name, function)"));
    };
    dec_class().dict.set_str(name.as_str(), f.clone());
    Ok(Value::None)
}

pub fn module(vm: &mut Vm) -> PyResult<Value> {
    use aio_interp::types::native_fast;
    Ok(vm.make_native_module(
        "_decimal_core",
        vec![
            ("Decimal", Value::Class(dec_class())),
            ("_make", native_fast("_make", make)),
            ("_special", native_fast("_special", make_special)),
            ("setup", native_fast("setup", setup)),
            ("getcontext", native_fast("getcontext", getcontext)),
            ("set_current", native_fast("set_current", set_current)),
            ("invalidate", native_fast("invalidate", invalidate)),
            ("install", native_fast("install", install)),
        ],
    ))
}
