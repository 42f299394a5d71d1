//! Operators and the core protocols: arithmetic with big-int promotion,
//! comparisons with reflected dunders, truth, hashing, `repr`/`str`,
//! `len`, item access and membership.

use std::cmp::Ordering;
use std::rc::Rc;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};

use crate::exceptions::*;
use crate::object::*;
use crate::types::{type_name, type_of, types};
use crate::value::Value;
use crate::vm::Vm;

const BINOP_SYMBOLS: [&str; 13] = ["+", "-", "*", "@", "/", "//", "%", "**", "<<", ">>", "|", "^", "&"];
const DUNDER: [&str; 13] = [
    "__add__",
    "__sub__",
    "__mul__",
    "__matmul__",
    "__truediv__",
    "__floordiv__",
    "__mod__",
    "__pow__",
    "__lshift__",
    "__rshift__",
    "__or__",
    "__xor__",
    "__and__",
];
const RDUNDER: [&str; 13] = [
    "__radd__",
    "__rsub__",
    "__rmul__",
    "__rmatmul__",
    "__rtruediv__",
    "__rfloordiv__",
    "__rmod__",
    "__rpow__",
    "__rlshift__",
    "__rrshift__",
    "__ror__",
    "__rxor__",
    "__rand__",
];
const IDUNDER: [&str; 13] = [
    "__iadd__",
    "__isub__",
    "__imul__",
    "__imatmul__",
    "__itruediv__",
    "__ifloordiv__",
    "__imod__",
    "__ipow__",
    "__ilshift__",
    "__irshift__",
    "__ior__",
    "__ixor__",
    "__iand__",
];
const CMP_SYMBOLS: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];
const CMP_DUNDER: [&str; 6] = ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"];
/// The reflection of each comparison (`a < b` is `b > a`).
const CMP_SWAP: [u8; 6] = [0, 1, 4, 5, 2, 3];

pub const ADD: u8 = 0;
pub const SUB: u8 = 1;
pub const MUL: u8 = 2;
pub const MATMUL: u8 = 3;
pub const DIV: u8 = 4;
pub const FLOORDIV: u8 = 5;
pub const MOD: u8 = 6;
pub const POW: u8 = 7;
pub const LSHIFT: u8 = 8;
pub const RSHIFT: u8 = 9;
pub const OR: u8 = 10;
pub const XOR: u8 = 11;
pub const AND: u8 = 12;

pub const EQ: u8 = 0;
pub const NE: u8 = 1;
pub const LT: u8 = 2;
pub const LE: u8 = 3;
pub const GT: u8 = 4;
pub const GE: u8 = 5;

pub fn binop_symbol(b: u8) -> &'static str {
    BINOP_SYMBOLS.get(b as usize).copied().unwrap_or("?")
}
pub fn cmpop_symbol(c: u8) -> &'static str {
    CMP_SYMBOLS.get(c as usize).copied().unwrap_or("?")
}

/// The order of an int and a float (either way round) when the int is
/// exact as a float, so that comparing the floats is Python's exact
/// comparison; `None` for NaN and for other operands.
pub fn int_float_order(x: &Value, y: &Value) -> Option<Ordering> {
    const EXACT: u64 = 1 << 53;
    match (x, y) {
        (Value::Int(i), Value::Float(f)) if i.unsigned_abs() <= EXACT => (*i as f64).partial_cmp(&f.get()),
        (Value::Float(f), Value::Int(i)) if i.unsigned_abs() <= EXACT => f.get().partial_cmp(&(*i as f64)),
        _ => None,
    }
}

/// Does ordering `o` satisfy comparison `c`?
#[inline]
pub fn cmp_ord(c: u8, o: Ordering) -> bool {
    match c {
        EQ => o == Ordering::Equal,
        NE => o != Ordering::Equal,
        LT => o == Ordering::Less,
        LE => o != Ordering::Greater,
        GT => o == Ordering::Greater,
        _ => o != Ordering::Less,
    }
}

// ------------------------------------------------------------ numbers

/// A number operand.
pub enum Num<'a> {
    I(i64),
    B(&'a BigInt),
    F(f64),
}

/// The numeric view of a value (bools count as ints).
#[inline]
pub fn as_num(v: &Value) -> Option<Num<'_>> {
    match v {
        Value::Int(i) => Some(Num::I(*i)),
        Value::Bool(b) => Some(Num::I(b.get() as i64)),
        Value::BigInt(b) => Some(Num::B(b)),
        Value::Float(f) => Some(Num::F(f.get())),
        Value::Instance(i) => match &i.payload {
            Payload::Builtin(_) => None,
            _ => None,
        },
        _ => None,
    }
}

pub fn to_bigint(n: &Num) -> BigInt {
    match n {
        Num::I(i) => BigInt::from(*i),
        Num::B(b) => (*b).clone(),
        Num::F(f) => BigInt::from(*f as i64),
    }
}

/// An int operand as f64 (OverflowError when too large).
pub fn num_to_f64(n: &Num) -> PyResult<f64> {
    match n {
        Num::I(i) => Ok(*i as f64),
        Num::B(b) => crate::numfmt::int_to_f64(b).map_err(num_err),
        Num::F(f) => Ok(*f),
    }
}

/// Turn a formatting/arithmetic helper error into an exception.
pub fn num_err(e: crate::numfmt::NumError) -> PyErr {
    use crate::numfmt::NumError;
    match e {
        NumError::Value(m) => value_error(m),
        NumError::Overflow(m) => overflow_error(m),
        NumError::ZeroDivision(m) => zero_division(m),
        NumError::Memory => memory_error(),
    }
}

/// `a ** e` by repeated squaring, answering Ctrl-C between the steps: a
/// power of millions of digits takes seconds.
fn big_pow(a: BigInt, mut e: u32) -> PyResult<BigInt> {
    if a.bits().saturating_mul(u64::from(e)) < 1 << 16 {
        return Ok(num_traits::pow(a, e as usize));
    }
    let mut result = BigInt::from(1);
    let mut base = a;
    loop {
        if e & 1 == 1 {
            result *= &base;
        }
        e >>= 1;
        if e == 0 {
            return Ok(result);
        }
        crate::vm::poll_ctrl_c()?;
        base = &base * &base;
    }
}

/// `a op b` for ints past a machine word. The operands are borrowed:
/// num-bigint's operators on references copy at most the one operand whose
/// buffer becomes the result (a copy of both was a `memcpy` and an
/// allocation each, on every operation).
fn big_binop(op: u8, x: &Num, y: &Num) -> PyResult<Value> {
    let (owned_a, owned_b);
    let a = match x {
        Num::B(b) => *b,
        _ => {
            owned_a = to_bigint(x);
            &owned_a
        }
    };
    let b = match y {
        Num::B(b) => *b,
        _ => {
            owned_b = to_bigint(y);
            &owned_b
        }
    };
    Ok(Value::from_bigint(match op {
        ADD => a + b,
        SUB => a - b,
        MUL => a * b,
        FLOORDIV => {
            if b.is_zero() {
                return Err(zero_division("integer division or modulo by zero"));
            }
            big_div_mod_floor(a, b).0
        }
        MOD => {
            if b.is_zero() {
                return Err(zero_division("integer modulo by zero"));
            }
            big_div_mod_floor(a, b).1
        }
        POW => {
            if b.is_negative() {
                let x = crate::numfmt::int_to_f64(a).map_err(num_err)?;
                let y = crate::numfmt::int_to_f64(b).map_err(num_err)?;
                return float_binop(POW, x, y);
            }
            let e = b.to_u32().ok_or_else(|| overflow_error("exponent too large"))?;
            check_room(a.bits().saturating_mul(u64::from(e)))?;
            big_pow(a.clone(), e)?
        }
        LSHIFT => {
            if b.is_negative() {
                return Err(value_error("negative shift count"));
            }
            let n = b.to_usize().ok_or_else(|| overflow_error("too many digits in integer"))?;
            if !a.is_zero() {
                check_room(a.bits().saturating_add(n as u64))?;
            }
            a << n
        }
        RSHIFT => {
            if b.is_negative() {
                return Err(value_error("negative shift count"));
            }
            match b.to_usize() {
                Some(n) => a >> n,
                None => {
                    if a.is_negative() {
                        BigInt::from(-1)
                    } else {
                        BigInt::zero()
                    }
                }
            }
        }
        AND => a & b,
        OR => a | b,
        XOR => a ^ b,
        DIV => {
            if b.is_zero() {
                return Err(zero_division("division by zero"));
            }
            return crate::numfmt::int_true_div(a, b).map(Value::float).map_err(num_err);
        }
        _ => unreachable!("the caller passes an arithmetic operator"),
    }))
}

/// `(a // b, a % b)`, rounded toward minus infinity as Python divides
/// (`b` not zero). num-bigint divides a dividend of more than 128 words by
/// a divisor of more than 64 with Burnikel-Ziegler recursion, which pads
/// and scans blocks of the divisor's size even when the quotient is a
/// single word: pidigits' `(q*j + r) // (s*j + t)`, one decimal digit out
/// of numbers of thousands of words, spent a third of its time there. A
/// quotient of at most 60 bits is had here instead from the top bits of
/// both operands and corrected by the remainder: a multiply and a subtract
/// pass over the divisor.
pub fn big_div_mod_floor(a: &BigInt, b: &BigInt) -> (BigInt, BigInt) {
    let (na, nb) = (a.bits(), b.bits());
    if nb <= 64 * 64 || na < nb || na - nb > 60 {
        return a.div_mod_floor(b);
    }
    let (ma, mb) = (a.magnitude(), b.magnitude());
    // Bits `shift..` of each: 64 of the divisor (its top one set), at most
    // 124 of the dividend. The estimate is then at most one off either way.
    let shift = nb - 64;
    let mut q = (top_bits(ma, shift) / top_bits(mb, shift)) as u64;
    let mut prod = mb * q;
    while prod > *ma {
        q -= 1;
        prod -= mb;
    }
    let mut r = ma - prod;
    while r >= *mb {
        q += 1;
        r -= mb;
    }
    // |a| = q|b| + r, 0 <= r < |b|: truncated division; floor division
    // rounds down when the signs differ and the division is inexact.
    let (q, r) = (BigInt::from(q), BigInt::from_biguint(a.sign(), r));
    if a.sign() == b.sign() {
        (q, r)
    } else if r.is_zero() {
        (-q, r)
    } else {
        (-q - 1u32, r + b)
    }
}

/// `x >> shift` as a u128, for a shift that leaves at most 128 bits.
fn top_bits(x: &num_bigint::BigUint, shift: u64) -> u128 {
    let (word, bit) = ((shift / 64) as usize, (shift % 64) as u32);
    let mut d = x.iter_u64_digits().skip(word);
    let (lo, mid, hi) = (d.next().unwrap_or(0) as u128, d.next().unwrap_or(0) as u128, d.next().unwrap_or(0) as u128);
    let low = (lo | (mid << 64)) >> bit;
    if bit == 0 {
        low
    } else {
        low | (hi << (128 - bit))
    }
}

fn int_binop(op: u8, a: i64, b: i64) -> PyResult<Value> {
    let r = match op {
        ADD => a.checked_add(b),
        SUB => a.checked_sub(b),
        MUL => a.checked_mul(b),
        FLOORDIV => {
            if b == 0 {
                return Err(zero_division("integer division or modulo by zero"));
            }
            a.checked_div(b).map(|q| if (a % b != 0) && ((a < 0) != (b < 0)) { q - 1 } else { q })
        }
        MOD => {
            if b == 0 {
                return Err(zero_division("integer modulo by zero"));
            }
            a.checked_rem(b).map(|r| if r != 0 && ((r < 0) != (b < 0)) { r + b } else { r })
        }
        DIV => {
            if b == 0 {
                return Err(zero_division("division by zero"));
            }
            if a.unsigned_abs() < (1 << 53) && b.unsigned_abs() < (1 << 53) {
                return Ok(Value::float(a as f64 / b as f64));
            }
            return crate::numfmt::int_true_div(&BigInt::from(a), &BigInt::from(b)).map(Value::float).map_err(num_err);
        }
        POW => {
            if b < 0 {
                if a == 0 {
                    return Err(zero_division("0.0 cannot be raised to a negative power"));
                }
                return float_binop(POW, a as f64, b as f64);
            }
            match u32::try_from(b) {
                Ok(e) => a.checked_pow(e),
                Err(_) => None,
            }
        }
        LSHIFT => {
            if b < 0 {
                return Err(value_error("negative shift count"));
            }
            if b < 63 && a.unsigned_abs() < (1u64 << (63 - b)) {
                Some(a << b)
            } else if a == 0 {
                Some(0)
            } else {
                None
            }
        }
        RSHIFT => {
            if b < 0 {
                return Err(value_error("negative shift count"));
            }
            Some(if b >= 64 {
                if a < 0 {
                    -1
                } else {
                    0
                }
            } else {
                a >> b
            })
        }
        AND => Some(a & b),
        OR => Some(a | b),
        XOR => Some(a ^ b),
        _ => unreachable!("the caller passes a bitwise operator"),
    };
    match r {
        Some(v) => Ok(Value::Int(v)),
        None => big_binop(op, &Num::I(a), &Num::I(b)),
    }
}

fn float_binop(op: u8, a: f64, b: f64) -> PyResult<Value> {
    Ok(Value::float(match op {
        ADD => a + b,
        SUB => a - b,
        MUL => a * b,
        DIV => {
            if b == 0.0 {
                return Err(zero_division("float division by zero"));
            }
            a / b
        }
        FLOORDIV => {
            if b == 0.0 {
                return Err(zero_division("float floor division by zero"));
            }
            crate::numfmt::float_floordiv(a, b)
        }
        MOD => {
            if b == 0.0 {
                return Err(zero_division("float modulo"));
            }
            crate::numfmt::float_mod(a, b)
        }
        // A negative base to a fractional power is a complex number.
        // A negative finite base to a fractional power is complex; an
        // infinite base is float_pow's (`(-inf) ** 0.5` is inf).
        POW if a < 0.0 && a.is_finite() && b.is_finite() && b != b.floor() => return crate::types::complex::real_pow(a, b),
        POW => crate::numfmt::float_pow(a, b).map_err(num_err)?,
        _ => return Err(type_error("unsupported")),
    }))
}

/// Arithmetic on two numbers; `None` when the operator does not apply.
pub fn numeric_binop(op: u8, a: &Value, b: &Value) -> Option<PyResult<Value>> {
    let (x, y) = (as_num(a)?, as_num(b)?);
    if op == MATMUL {
        return None;
    }
    Some(match (&x, &y) {
        (Num::I(i), Num::I(j)) => {
            // bool op bool stays bool for the bitwise operators.
            if let (Value::Bool(p), Value::Bool(q), AND | OR | XOR) = (a, b, op) {
                return Some(Ok(Value::bool(match op {
                    AND => p.get() & q.get(),
                    OR => p.get() | q.get(),
                    _ => p.get() ^ q.get(),
                })));
            }
            int_binop(op, *i, *j)
        }
        (Num::F(_), _) | (_, Num::F(_)) => {
            if matches!(op, LSHIFT | RSHIFT | AND | OR | XOR) {
                return None;
            }
            let fx = match num_to_f64(&x) {
                Ok(f) => f,
                Err(e) => return Some(Err(e)),
            };
            let fy = match num_to_f64(&y) {
                Ok(f) => f,
                Err(e) => return Some(Err(e)),
            };
            float_binop(op, fx, fy)
        }
        _ => big_binop(op, &x, &y),
    })
}

/// `a op b` with Python's dispatch: numbers, builtin sequences and sets,
/// then `__op__`/`__rop__` (and `__iop__` when `inplace`).
pub fn binary_op(vm: &mut Vm, op: u8, inplace: bool, a: &Value, b: &Value) -> PyResult<Value> {
    // The message names the operands' own types, not a builtin payload's
    // (`'Counter' and 'int'`, not `'dict' and 'int'`).
    binary_op_or_none(vm, op, inplace, a, b)?.ok_or_else(|| binop_type_error(op, inplace, a, b))
}

/// `binary_op`, with None where neither operand supports the operator.
fn binary_op_or_none(vm: &mut Vm, op: u8, inplace: bool, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    if let Some(r) = numeric_binop(op, a, b) {
        return r.map(Some);
    }
    if let Some(r) = native_binop(vm, op, a, b) {
        return r.map(Some);
    }
    if let Some(r) = builtin_binop(vm, op, inplace, a, b)? {
        return Ok(Some(r));
    }
    if op == OR {
        // `int | str`, `list[int] | None`: a union of types.
        if let Some(u) = crate::types::generic::union_or(vm, a, b)? {
            return Ok(Some(u));
        }
    }
    // Native objects (a `deque`, ...) carry their operators in their class
    // too, and a class its metaclass's.
    let a_user = has_user_dunders(a) || matches!(a, Value::Object(_) | Value::Class(_));
    let b_user = has_user_dunders(b) || matches!(b, Value::Object(_) | Value::Class(_));
    if a_user || b_user {
        if inplace && a_user {
            if let Some(f) = lookup_special(a, IDUNDER[op as usize]) {
                let r = vm.call_pos(&f, [a.clone(), b.clone()])?;
                if !matches!(r, Value::NotImplemented) {
                    return Ok(Some(r));
                }
            }
        }
        // A subclass's reflected method goes first when it overrides the
        // one `a`'s class has (an inherited one waits its turn).
        let ta = type_of(a);
        let tb = type_of(b);
        let b_first = !Rc::ptr_eq(&ta, &tb) && tb.is_subclass(&ta) && overrides_reflected(a, b, RDUNDER[op as usize]);
        if b_first {
            if let Some(f) = lookup_special(b, RDUNDER[op as usize]) {
                let r = vm.call_pos(&f, [b.clone(), a.clone()])?;
                if !matches!(r, Value::NotImplemented) {
                    return Ok(Some(r));
                }
            }
        }
        if let Some(f) = lookup_special(a, DUNDER[op as usize]) {
            let r = vm.call_pos(&f, [a.clone(), b.clone()])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(Some(r));
            }
        }
        return binary_after_lhs(vm, op, inplace, a, b, b_first || Rc::ptr_eq(&ta, &tb));
    }
    Ok(None)
}

/// A native number type's operator (a `Decimal`'s) computed without the
/// method call; with a plain number on the left, the right operand's
/// reflected one (no subclass of either can be involved).
fn native_binop(vm: &mut Vm, op: u8, a: &Value, b: &Value) -> Option<PyResult<Value>> {
    match (a, b) {
        (Value::Object(o), _) => o.binary_op(vm, op, b, false),
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_) | Value::Float(_), Value::Object(o)) => o.binary_op(vm, op, a, true),
        _ => None,
    }
}

/// A native number type's comparison (a `Decimal`'s) without the method call.
fn native_compare(vm: &mut Vm, op: u8, a: &Value, b: &Value) -> Option<PyResult<Value>> {
    match (a, b) {
        (Value::Object(o), _) => o.compare_op(vm, op, b),
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_) | Value::Float(_), Value::Object(o)) => {
            o.compare_op(vm, CMP_SWAP[op as usize], a)
        }
        _ => None,
    }
}

/// `b`'s class has reflected method `name` other than the one of `a`'s.
fn overrides_reflected(a: &Value, b: &Value, name: &'static str) -> bool {
    match (lookup_special(b, name), lookup_special(a, name)) {
        (Some(fb), Some(fa)) => !fb.is(&fa),
        (fb, _) => fb.is_some(),
    }
}

/// The end of `binary_op_or_none` once `a`'s own method is missing or
/// declined: `b`'s reflected method (unless it went first or the operands
/// are of one type), then a builtin-type subclass's payload.
fn binary_after_lhs(vm: &mut Vm, op: u8, inplace: bool, a: &Value, b: &Value, b_tried: bool) -> PyResult<Option<Value>> {
    if !b_tried {
        if let Some(f) = lookup_special(b, RDUNDER[op as usize]) {
            let r = vm.call_pos(&f, [b.clone(), a.clone()])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(Some(r));
            }
        }
    }
    // A builtin-type subclass without its own operator: use the builtin value.
    let ua = builtin_payload(a).unwrap_or_else(|| a.clone());
    let ub = builtin_payload(b).unwrap_or_else(|| b.clone());
    if !ua.is(a) || !ub.is(b) {
        return binary_op_or_none(vm, op, inplace, &ua, &ub);
    }
    Ok(None)
}

/// The plain function `a op b` calls first and alone when `a` is an
/// instance of a user class (no builtin base) defining `__op__`, and `b`
/// is an instance of the same class or an int, float, bool or None, whose
/// reflected methods never go first: what `binary_op` would call (with
/// `a`, `b`) before anything else. Not for in-place or `|` operators.
#[inline]
pub fn binary_method_first(op: u8, a: &Value, b: &Value) -> Option<Rc<Function>> {
    if op & crate::bytecode::INPLACE != 0 || op == OR {
        return None;
    }
    operator_method_first(a, b, DUNDER[op as usize])
}

/// What `binary_method_first` is for `binary_op`, for `Vm::compare`: the
/// plain function `__lt__` (...) of `a`'s class that `a < b` calls first
/// and alone. (`!=` of a class with `__eq__` but no `__ne__` has none.)
#[inline]
pub fn compare_method_first(op: u8, a: &Value, b: &Value) -> Option<Rc<Function>> {
    operator_method_first(a, b, CMP_DUNDER[op as usize])
}

/// The method `name` of `a`'s class when `a` is an instance of a user
/// class (no builtin base) and `b` an instance of the same class or an
/// int, float, bool or None, and it is a plain function of two parameters.
#[inline]
fn operator_method_first(a: &Value, b: &Value, name: &'static str) -> Option<Rc<Function>> {
    let Value::Instance(ia) = a else { return None };
    // Borrowed, not cloned: this runs for every operator on instances.
    let class = ia.class.borrow();
    if class.builtin.is_some() || matches!(ia.payload, Payload::Builtin(_)) {
        return None;
    }
    match b {
        Value::Instance(ib) if Rc::ptr_eq(&ib.class.borrow(), &class) => {}
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::None => {}
        _ => return None,
    }
    match lookup_special_in(&class, name)? {
        Value::Function(f) if f.code.simple && f.code.argcount == 2 => Some(f),
        _ => None,
    }
}

/// The methods of the item protocols that `item_method_first` finds.
#[derive(Clone, Copy)]
pub enum ItemMethod {
    GetItem,
    SetItem,
    DelItem,
    Contains,
}

impl ItemMethod {
    /// The method's name and how many parameters it takes.
    fn signature(self) -> (&'static str, u32) {
        match self {
            ItemMethod::GetItem => ("__getitem__", 2),
            ItemMethod::SetItem => ("__setitem__", 3),
            ItemMethod::DelItem => ("__delitem__", 2),
            ItemMethod::Contains => ("__contains__", 2),
        }
    }
}

/// The plain function of two or three parameters that item method `m`
/// (`__getitem__`, ...) is, and that its protocol calls alone, on `c` when
/// it is an instance of a user class with no builtin base: what
/// `Vm::getitem` (...) would call with `c` and the operands. Remembered by
/// the class under its version tag (`Class::item_cache`), which it loses
/// when its namespace or one on its MRO changes (a function replaced
/// included, see `dict::never_descriptor`).
#[inline]
pub fn item_method_first(c: &Value, m: ItemMethod) -> Option<Rc<Function>> {
    let Value::Instance(i) = c else { return None };
    let class = i.class.borrow();
    if matches!(i.payload, Payload::Builtin(_)) {
        return None;
    }
    if let Ok(cache) = class.item_cache.try_borrow() {
        let (version, f) = &cache[m as usize];
        if *version == class.version.get() {
            return f.clone();
        }
    }
    item_method_uncached(&class, m)
}

/// `item_method_first` without the cache, which it fills.
#[inline(never)]
fn item_method_uncached(class: &Rc<Class>, m: ItemMethod) -> Option<Rc<Function>> {
    if class.builtin.is_some() {
        return None;
    }
    let (name, nargs) = m.signature();
    let f = match lookup_special_in(class, name) {
        Some(Value::Function(f)) if f.code.simple && f.code.argcount == nargs => Some(f),
        _ => None,
    };
    if let Ok(mut cache) = class.item_cache.try_borrow_mut() {
        cache[m as usize] = (class.version_tag(), f.clone());
    }
    f
}

/// Added to a comparison's index in `ResumeMode::Binary`: the method
/// running is `compare_method_first`'s, not `binary_method_first`'s.
pub const COMPARE_MODE: u8 = 0x80;

/// `ResumeMode::Binary` of `c[i]`'s `__getitem__`: its result replaces the
/// two operands as a binary operator's does, NotImplemented included.
pub const GETITEM_MODE: u8 = 0x20;

/// Set in the `ResumeMode::Binary` of the item methods whose result is not
/// an operator's (see `Vm::operator_method_returned`).
pub const ITEM_MODE: u8 = 0x40;
/// `c[i] = v`'s `__setitem__`, under the three operands.
pub const SETITEM_MODE: u8 = ITEM_MODE;
/// `del c[i]`'s `__delitem__`.
pub const DELITEM_MODE: u8 = ITEM_MODE | 1;
/// `x in c`'s `__contains__`.
pub const CONTAINS_MODE: u8 = ITEM_MODE | 2;
/// `x not in c`'s `__contains__`.
pub const NOT_CONTAINS_MODE: u8 = ITEM_MODE | 3;

/// `a op b` after `binary_method_first`'s method returned NotImplemented
/// (or `compare_method_first`'s, when `op` has `COMPARE_MODE`).
pub fn binary_op_declined(vm: &mut Vm, op: u8, a: &Value, b: &Value) -> PyResult<Value> {
    if op == GETITEM_MODE {
        return Ok(Value::NotImplemented);
    }
    if op & COMPARE_MODE != 0 {
        return vm.compare_after_lhs(op & !COMPARE_MODE, a, b, false);
    }
    let same = matches!((a, b), (Value::Instance(x), Value::Instance(y)) if Rc::ptr_eq(&x.class(), &y.class()));
    binary_after_lhs(vm, op, false, a, b, same)?.ok_or_else(|| binop_type_error(op, false, a, b))
}

fn binop_type_error(op: u8, inplace: bool, a: &Value, b: &Value) -> PyErr {
    let sym = format!("{}{}", binop_symbol(op), if inplace { "=" } else { "" });
    // A subclass of str/list/tuple is refused as its builtin base is.
    let (pa, pb) = (builtin_payload(a).unwrap_or_else(|| a.clone()), builtin_payload(b).unwrap_or_else(|| b.clone()));
    if op == ADD {
        match pa {
            Value::Str(_) => return type_error(format!("can only concatenate str (not \"{}\") to str", type_name(b))),
            Value::List(_) => return type_error(format!("can only concatenate list (not \"{}\") to list", type_name(b))),
            Value::Tuple(_) => return type_error(format!("can only concatenate tuple (not \"{}\") to tuple", type_name(b))),
            _ => {}
        }
    }
    if op == MUL && (is_sequence(&pa) || is_sequence(&pb)) {
        let other = if is_sequence(&pa) { b } else { a };
        return type_error(format!("can't multiply sequence by non-int of type '{}'", type_name(other)));
    }
    if op == POW {
        return type_error(format!("unsupported operand type(s) for ** or pow(): '{}' and '{}'", type_name(a), type_name(b)));
    }
    type_error(format!("unsupported operand type(s) for {sym}: '{}' and '{}'", type_name(a), type_name(b)))
}

fn is_sequence(v: &Value) -> bool {
    matches!(v, Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_))
}

/// The repeat count of `seq * n`.
fn repeat_count(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(b.get() as i64),
        // Past 64 bits: `repeat` answers OverflowError, as CPython does.
        Value::BigInt(_) => Some(i64::MIN),
        _ => None,
    }
}

/// The IndexError of a subscript past 64 bits (`seq[2**70]`).
pub fn index_too_big() -> PyErr {
    index_error("cannot fit 'int' into an index-sized integer")
}

fn builtin_binop(vm: &mut Vm, op: u8, inplace: bool, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    Ok(Some(match (op, a, b) {
        (ADD, Value::Str(x), Value::Str(y)) => Value::Str(Rc::new(PyStr::concat(x, y))),
        (ADD, Value::List(x), Value::List(y)) => {
            if inplace {
                let items = y.to_vec();
                x.borrow_mut().extend(items);
                a.clone()
            } else {
                // Room for both at once: the left copy would otherwise be
                // reallocated for the right one.
                let (x, y) = (x.borrow(), y.borrow());
                let mut v = Vec::with_capacity(x.len() + y.len());
                v.extend(x.iter().cloned());
                v.extend(y.iter().cloned());
                Value::list(v)
            }
        }
        (ADD, Value::List(x), _) if inplace => {
            let items = vm.collect(b)?;
            x.borrow_mut().extend(items);
            a.clone()
        }
        (ADD, Value::Tuple(x), Value::Tuple(y)) => {
            let mut v = Vec::with_capacity(x.items.len() + y.items.len());
            v.extend(x.items.iter().cloned());
            v.extend(y.items.iter().cloned());
            Value::tuple(v)
        }
        (ADD, Value::Bytes(x), Value::Bytes(y)) => Value::bytes([&x.b[..], &y.b[..]].concat()),
        // `bytes + bytearray` or `+ memoryview` is bytes.
        (ADD, Value::Bytes(x), _) if !matches!(b, Value::Instance(_)) && crate::types::bytes::bytes_like(b).is_some() => {
            let mut v = x.b.to_vec();
            v.extend_from_slice(&crate::types::bytes::bytes_like(b).map(|o| o.into_vec()).unwrap_or_default());
            Value::Bytes(Rc::new(PyBytes { b: v.into_boxed_slice() }))
        }
        (MUL, Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_), _) if repeat_count(b).is_some() => {
            repeat(vm, a, repeat_count(b).unwrap_or(0), inplace)?
        }
        (MUL, _, Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_)) if repeat_count(a).is_some() => {
            repeat(vm, b, repeat_count(a).unwrap_or(0), false)?
        }
        (MOD, Value::Str(fmt), _) => crate::types::str::percent_format(vm, fmt, b)?,
        (MOD, Value::Bytes(fmt), _) => crate::types::bytes::percent_format(vm, fmt, b)?,
        (OR | AND | SUB | XOR, Value::Set(_) | Value::FrozenSet(_), Value::Set(_) | Value::FrozenSet(_)) => {
            crate::types::set::set_binop(vm, op, inplace, a, b)?
        }
        (OR | AND | SUB | XOR, Value::Object(_), _) | (OR | AND | SUB | XOR, _, Value::Object(_)) => {
            match crate::types::dict::view_binop(vm, op, a, b)? {
                Some(v) => v,
                None => return Ok(None),
            }
        }
        (OR, Value::Dict(x), Value::Dict(y)) => {
            if inplace {
                vm.dict_update_from(x, b, None)?;
                a.clone()
            } else {
                let d = Rc::new(PyDict::from_data(x.d.borrow().clone()));
                vm.dict_update_from(&d, &Value::Dict(y.clone()), None)?;
                Value::Dict(d)
            }
        }
        (OR, Value::Dict(x), _) if inplace => {
            vm.dict_update_from(x, b, None)?;
            a.clone()
        }
        _ => return Ok(None),
    }))
}

fn repeat(vm: &mut Vm, seq: &Value, n: i64, inplace: bool) -> PyResult<Value> {
    if n == i64::MIN {
        return Err(overflow_error("cannot fit 'int' into an index-sized integer"));
    }
    let n = n.max(0) as usize;
    // The total length, or CPython's OverflowError (strings and bytes) or
    // MemoryError (lists and tuples) when it cannot even be counted.
    let total = |len: usize, what: &str| -> PyResult<usize> {
        match len.checked_mul(n).filter(|&t| t <= isize::MAX as usize) {
            Some(t) => Ok(t),
            None if what.is_empty() => Err(memory_error()),
            None => Err(err(&types().exc.overflow_error, what)),
        }
    };
    Ok(match seq {
        Value::Str(s) => {
            let mut out = try_string(total(s.len(), "repeated string is too long")?)?;
            for i in 0..n {
                if i % 1024 == 0 {
                    vm.poll_interrupt()?;
                }
                out.push_str(s.as_str());
            }
            Value::string(out)
        }
        Value::Bytes(b) => {
            let mut out = try_vec(total(b.b.len(), "repeated bytes are too long")?)?;
            for i in 0..n {
                if i % 1024 == 0 {
                    vm.poll_interrupt()?;
                }
                out.extend_from_slice(&b.b);
            }
            Value::Bytes(Rc::new(PyBytes { b: out.into_boxed_slice() }))
        }
        Value::List(l) => {
            let items = l.to_vec();
            let mut out = try_vec(total(items.len(), "")?)?;
            for i in 0..n {
                if i % 1024 == 0 {
                    vm.poll_interrupt()?;
                }
                out.extend(items.iter().cloned());
            }
            if inplace {
                *l.borrow_mut() = out;
                seq.clone()
            } else {
                Value::list(out)
            }
        }
        Value::Tuple(t) => {
            let mut out = try_vec(total(t.items.len(), "")?)?;
            for i in 0..n {
                if i % 1024 == 0 {
                    vm.poll_interrupt()?;
                }
                out.extend(t.items.iter().cloned());
            }
            Value::tuple(out)
        }
        _ => unreachable!("repeat is only called on str, bytes, list and tuple"),
    })
}

/// `MemoryError()`, for an allocation the system refused.
pub fn memory_error() -> PyErr {
    err(&types().exc.memory_error, "")
}

/// `MemoryError` unless the system can give an integer of `bits` bits now:
/// big-integer arithmetic allocates without a fallible path, so the room is
/// asked for first.
fn check_room(bits: u64) -> PyResult<()> {
    check_bytes(usize::try_from(bits / 8 + 16).unwrap_or(usize::MAX))
}

/// `MemoryError` unless the system can give `n` bytes now; for results
/// built by code without a fallible path. Small sizes pass unasked.
pub fn check_bytes(n: usize) -> PyResult<()> {
    crate::limits::memory_room(n)?;
    if n < 1 << 26 {
        return Ok(());
    }
    try_vec::<u8>(n).map(drop)
}

/// `n` as a C `int`, or CPython's OverflowError for an argument that must fit one.
pub fn c_int(n: i64) -> PyResult<i32> {
    i32::try_from(n).map_err(|_| overflow_error("Python int too large to convert to C int"))
}

/// An empty vector with room for `n` items, or `MemoryError` when the
/// system cannot give that much: sizes that come from a program must not
/// abort the process.
pub fn try_vec<T>(n: usize) -> PyResult<Vec<T>> {
    crate::limits::memory_room(n.saturating_mul(std::mem::size_of::<T>()))?;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| memory_error())?;
    Ok(v)
}

/// An empty string with room for `n` bytes, or `MemoryError`.
pub fn try_string(n: usize) -> PyResult<String> {
    crate::limits::memory_room(n)?;
    let mut s = String::new();
    s.try_reserve_exact(n).map_err(|_| memory_error())?;
    Ok(s)
}

// ------------------------------------------------------------ dunder lookup

/// Does this value's class define dunders in .aio code (an instance of a
/// user class, or a user class used as a value)?
pub fn has_user_dunders(v: &Value) -> bool {
    matches!(v, Value::Instance(_))
}

/// `a == b` or `a != b` (`op`) when both are instances whose classes
/// define no `__eq__`/`__ne__`: identity, with no call; `None` otherwise.
#[inline]
pub fn instances_compare(op: u8, a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Instance(x), Value::Instance(y)) if (op == EQ || op == NE) && identity_eq(x) && identity_eq(y) => {
            Some((op == EQ) == Rc::ptr_eq(x, y))
        }
        _ => None,
    }
}

/// Instances of the class compare with `==` and `!=` by identity: no
/// class on its MRO defines `__eq__` or `__ne__`, and it wraps no builtin
/// value.
#[inline]
fn identity_eq(i: &Instance) -> bool {
    matches!(i.payload, Payload::None) && i.class.borrow().flags.get() & CLASS_HAS_EQ == 0
}

/// A special method of `v`'s class, unless only `object` provides it. For
/// a class that is its metaclass's (`type` has none of its own here).
pub fn lookup_special(v: &Value, name: &'static str) -> Option<Value> {
    match v {
        Value::Instance(i) => lookup_special_in(&i.class.borrow(), name),
        Value::Object(o) => lookup_special_in(&o.class(), name),
        Value::Class(c) => lookup_special_in(c.metaclass.borrow().as_ref()?, name),
        _ => None,
    }
}

/// `name` along the MRO of `cls`, skipping `object` itself. The answer is
/// remembered in the class for the current class epoch (see
/// `Class::special_cache`); `name` is static, so its address and length
/// identify it.
pub fn lookup_special_in(cls: &Rc<Class>, name: &'static str) -> Option<Value> {
    let key = (name.as_ptr() as usize, name.len());
    let epoch = crate::dict::class_epoch();
    if let Some((e, found)) = cls.special_cache.borrow().get(&key) {
        if *e == epoch {
            return found.clone();
        }
    }
    let found = lookup_special_uncached(cls, name);
    let mut cache = cls.special_cache.borrow_mut();
    if cache.len() > 256 {
        cache.clear();
    }
    cache.insert(key, (epoch, found.clone()));
    found
}

/// `lookup_special_in` without the cache.
fn lookup_special_uncached(cls: &Rc<Class>, name: &str) -> Option<Value> {
    let object = &types().object;
    if Rc::ptr_eq(cls, object) {
        return None;
    }
    // Hashed once for the whole walk.
    let hash = crate::hash::hash_str(name);
    if let Some(v) = cls.dict.get_str_hashed(name, hash) {
        return Some(v);
    }
    for c in cls.mro.borrow().iter() {
        if Rc::ptr_eq(c, object) {
            return None;
        }
        if let Some(v) = c.dict.get_str_hashed(name, hash) {
            return Some(v);
        }
    }
    None
}

/// The builtin value wrapped by an instance of a builtin-type subclass
/// whose special method `name` is the builtin type's own (no class before
/// the builtin base on its MRO defines it): that method applies, to the
/// value directly.
// Inlined, so that the bit of the constant `name` is found at compile time.
#[inline(always)]
pub fn inherited_builtin_payload(v: &Value, name: &'static str) -> Option<Value> {
    let Value::Instance(i) = v else { return None };
    let Payload::Builtin(p) = &i.payload else { return None };
    let bit = kept_bit(name);
    if bit != 0 {
        // The class's remembered answer, when it is about the kind of value
        // this instance wraps (`__class__` may have changed since it was made).
        let bits = builtin_kept(&i.class.borrow());
        let p = p.borrow();
        if bits >> KEPT_KIND_SHIFT != 0 && bits >> KEPT_KIND_SHIFT == payload_kind(&p) {
            return (bits & bit != 0).then(|| p.clone());
        }
    }
    inherited_builtin_payload_looked_up(i, p, name)
}

/// `inherited_builtin_payload` by looking the method up.
#[inline(never)]
fn inherited_builtin_payload_looked_up(i: &Instance, p: &std::cell::RefCell<Value>, name: &'static str) -> Option<Value> {
    let Some(Value::Native(f)) = lookup_special_in(&i.class.borrow(), name) else { return None };
    // A builtin class's methods name it as their owner. The value is
    // cloned only once it is known to apply.
    let p = p.borrow();
    (f.owner? == type_of(&p).name.borrow().as_str()).then(|| p.clone())
}

/// `len(v)` of a value that has none.
fn no_len(v: &Value) -> PyErr {
    type_error(format!("object of type '{}' has no len()", type_name(v)))
}

/// The bits of `builtin_kept`: the instances keep the base's `__len__`
/// (`__iter__`, ...), which `inherited_builtin_payload` then answers for
/// with no lookup.
pub const KEPT_LEN: u8 = 1;
pub const KEPT_ITER: u8 = 2;
pub const KEPT_GETITEM: u8 = 4;
pub const KEPT_SETITEM: u8 = 8;
pub const KEPT_CONTAINS: u8 = 16;
/// `Cls()` with no arguments makes an empty instance as the base would: no
/// `__new__` of .aio code and the base's own `__init__` (see `Vm::make_instance`).
pub const KEPT_MAKE: u8 = 32;
/// The top bits: the kind of value the base wraps (`payload_kind`).
const KEPT_KIND_SHIFT: u8 = 6;

/// The `KEPT_*` bit of special method `name` (0 for the others).
#[inline(always)]
fn kept_bit(name: &str) -> u8 {
    match name {
        "__len__" => KEPT_LEN,
        "__iter__" => KEPT_ITER,
        "__getitem__" => KEPT_GETITEM,
        "__setitem__" => KEPT_SETITEM,
        "__contains__" => KEPT_CONTAINS,
        _ => 0,
    }
}

/// 1, 2, 3 for a list, dict or set; 0 for other values.
#[inline(always)]
fn payload_kind(v: &Value) -> u8 {
    match v {
        Value::List(_) => 1,
        Value::Dict(_) => 2,
        Value::Set(_) => 3,
        _ => 0,
    }
}

/// For a subclass of list, dict or set: which of the base's special methods
/// its instances keep (`KEPT_*` bits) and, in the top bits, the kind of
/// value the base wraps; 0 for other classes. Remembered in the class for
/// the class epoch: `len(x)`, `for v in x` and `Cls()` then need no lookup.
#[inline]
pub fn builtin_kept(cls: &Rc<Class>) -> u8 {
    let epoch = crate::dict::class_epoch();
    let (e, bits) = cls.builtin_kept.get();
    if e == epoch {
        return bits;
    }
    let bits = builtin_kept_uncached(cls);
    cls.builtin_kept.set((epoch, bits));
    bits
}

/// Whether `cls`'s metaclass has a `__call__`, which makes its instances
/// (`Vm::call_class`).
pub fn metaclass_call(cls: &Class) -> bool {
    cls.metaclass.borrow().as_ref().is_some_and(|m| lookup_special_in(m, "__call__").is_some())
}

/// `builtin_kept` without the memo.
#[inline(never)]
fn builtin_kept_uncached(cls: &Rc<Class>) -> u8 {
    use crate::types::BuiltinType;
    if cls.layout != Layout::Builtin {
        return 0;
    }
    let Some(base) = cls.mro.borrow().iter().find(|c| c.builtin.is_some()).cloned() else { return 0 };
    let kind = match base.builtin {
        Some(BuiltinType::List) => 1,
        Some(BuiltinType::Dict) => 2,
        Some(BuiltinType::Set) => 3,
        _ => return 0,
    };
    // A builtin class's methods name it as their owner.
    let owner = base.name();
    let is_base_native = |v: Option<Value>| matches!(v, Some(Value::Native(f)) if f.owner == Some(owner.as_str()));
    let mut bits = kind << KEPT_KIND_SHIFT;
    for name in ["__len__", "__iter__", "__getitem__", "__setitem__", "__contains__"] {
        if is_base_native(lookup_special_in(cls, name)) {
            bits |= kept_bit(name);
        }
    }
    // (A metaclass's `__call__` would come first, in `Vm::call_class`.)
    if !metaclass_call(cls)
        && matches!(lookup_special_in(cls, "__new__"), None | Some(Value::Native(_)))
        && is_base_native(lookup_special_in(cls, "__init__"))
    {
        bits |= KEPT_MAKE;
    }
    bits
}

/// The builtin value wrapped by an instance of a builtin-type subclass.
pub fn builtin_payload(v: &Value) -> Option<Value> {
    match v {
        Value::Instance(i) => i.builtin_value(),
        _ => None,
    }
}

// ------------------------------------------------------------ native recursion

impl Vm {
    /// Enter one level of native recursion through a container (comparing,
    /// printing, encoding a nested value): as CPython's
    /// `Py_EnterRecursiveCall`, the levels and the frames together may not
    /// pass the recursion limit, and the thread's stack must have room.
    /// `what` ends the message (" in comparison"). Pair with [`Vm::leave_nested`].
    pub fn enter_nested(&mut self, what: &str) -> PyResult<()> {
        if self.frames.len() + self.nesting >= self.recursion_limit || crate::limits::stack_nearly_full() {
            return Err(err(&types().exc.recursion_error, format!("maximum recursion depth exceeded{what}")));
        }
        self.nesting += 1;
        Ok(())
    }

    /// Leave a level entered by [`Vm::enter_nested`].
    pub fn leave_nested(&mut self) {
        self.nesting -= 1;
    }
}

// ------------------------------------------------------------ comparisons

impl Vm {
    /// `a op b` for `==, !=, <, <=, >, >=`.
    pub fn compare(&mut self, op: u8, a: &Value, b: &Value) -> PyResult<Value> {
        // Two tuples (a fresh pair against a stored key): their items, as
        // `builtin_compare` would reach them, with no look for methods.
        if let (Value::Tuple(x), Value::Tuple(y)) = (a, b) {
            return self.compare_tuple_items(op, &x.items, &y.items);
        }
        // Two sets of plain keys (`fp <= free`): answered at once.
        if let (Value::Set(_) | Value::FrozenSet(_), Value::Set(_) | Value::FrozenSet(_)) = (a, b) {
            if let Some(r) = crate::types::set::set_compare_plain(op, a, b) {
                return Ok(Value::bool(r));
            }
        }
        if op == EQ || op == NE {
            if let Some(r) = instances_compare(op, a, b) {
                return Ok(Value::bool(r));
            }
            match (a, b) {
                // None, a bool, number or str knows nothing of such an
                // instance either: both sides give NotImplemented.
                (Value::Instance(x), other) | (other, Value::Instance(x))
                    if identity_eq(x)
                        && matches!(other, Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_)) =>
                {
                    return Ok(Value::bool(op == NE));
                }
                _ => {}
            }
        }
        if !has_user_dunders(a) && !has_user_dunders(b) && !matches!(a, Value::Object(_)) && !matches!(b, Value::Object(_)) {
            return self.builtin_compare(op, a, b).map(Value::bool);
        }
        if let Some(r) = native_compare(self, op, a, b) {
            return r;
        }
        let ta = type_of(a);
        let tb = type_of(b);
        if let (Value::Instance(_), Value::Instance(y)) = (a, b) {
            // Two instances of one subclass of a builtin that keeps the
            // builtin's comparison (namedtuples): their values compare, as
            // CPython calls the inherited slot itself.
            if Rc::ptr_eq(&ta, &tb) {
                if let (Some(pa), Some(pb)) = (inherited_builtin_payload(a, CMP_DUNDER[op as usize]), y.builtin_value()) {
                    return self.builtin_compare(op, &pa, &pb).map(Value::bool);
                }
            }
        }
        let swapped = CMP_SWAP[op as usize];
        let b_first = !Rc::ptr_eq(&ta, &tb) && tb.is_subclass(&ta) && lookup_special(b, CMP_DUNDER[swapped as usize]).is_some();
        if b_first {
            if let Some(f) = lookup_special(b, CMP_DUNDER[swapped as usize]) {
                let r = self.call_pos(&f, [b.clone(), a.clone()])?;
                if !matches!(r, Value::NotImplemented) {
                    return Ok(r);
                }
            }
        }
        if let Some(f) = lookup_special(a, CMP_DUNDER[op as usize]) {
            let r = self.call_pos(&f, [a.clone(), b.clone()])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        } else if op == NE {
            // object.__ne__ inverts __eq__.
            if let Some(f) = lookup_special(a, "__eq__") {
                let r = self.call_pos(&f, [a.clone(), b.clone()])?;
                if !matches!(r, Value::NotImplemented) {
                    let t = self.truthy(&r)?;
                    return Ok(Value::bool(!t));
                }
            }
        }
        self.compare_after_lhs(op, a, b, b_first)
    }

    /// The end of `compare` once `a`'s own method is missing or declined:
    /// `b`'s reflected method (unless it went first), a builtin-type
    /// subclass's payload, then identity for `==` and `!=`.
    pub fn compare_after_lhs(&mut self, op: u8, a: &Value, b: &Value, b_tried: bool) -> PyResult<Value> {
        let swapped = CMP_SWAP[op as usize];
        if !b_tried {
            if let Some(f) = lookup_special(b, CMP_DUNDER[swapped as usize]) {
                let r = self.call_pos(&f, [b.clone(), a.clone()])?;
                if !matches!(r, Value::NotImplemented) {
                    return Ok(r);
                }
            } else if op == NE {
                if let Some(f) = lookup_special(b, "__eq__") {
                    let r = self.call_pos(&f, [b.clone(), a.clone()])?;
                    if !matches!(r, Value::NotImplemented) {
                        let t = self.truthy(&r)?;
                        return Ok(Value::bool(!t));
                    }
                }
            }
        }
        let pa = builtin_payload(a);
        let pb = builtin_payload(b);
        if pa.is_some() || pb.is_some() {
            let ua = pa.unwrap_or_else(|| a.clone());
            let ub = pb.unwrap_or_else(|| b.clone());
            return self.builtin_compare(op, &ua, &ub).map(Value::bool);
        }
        match op {
            EQ => Ok(Value::bool(a.is(b))),
            NE => Ok(Value::bool(!a.is(b))),
            _ => Err(order_error(op, a, b)),
        }
    }

    /// Comparison between builtin values.
    pub fn builtin_compare(&mut self, op: u8, a: &Value, b: &Value) -> PyResult<bool> {
        // Containers compare their items: a level of recursion each.
        if matches!(a, Value::List(_) | Value::Tuple(_) | Value::Dict(_) | Value::Set(_) | Value::FrozenSet(_))
            && std::mem::discriminant(a) == std::mem::discriminant(b)
        {
            self.enter_nested(" in comparison")?;
            let r = self.builtin_compare_items(op, a, b);
            self.leave_nested();
            return r;
        }
        self.builtin_compare_items(op, a, b)
    }

    fn builtin_compare_items(&mut self, op: u8, a: &Value, b: &Value) -> PyResult<bool> {
        if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
            return Ok(match num_cmp(&x, &y) {
                Some(o) => cmp_ord(op, o),
                None => op == NE,
            });
        }
        match (a, b) {
            (Value::Str(x), Value::Str(y)) => return Ok(cmp_ord(op, x.as_str().cmp(y.as_str()))),
            (Value::Bytes(x), Value::Bytes(y)) => return Ok(cmp_ord(op, x.b.cmp(&y.b))),
            (Value::List(x), Value::List(y)) => {
                // Lists of different lengths differ, with no item compared
                // (CPython's shortcut; tuples have none).
                if (op == EQ || op == NE) && x.len() != y.len() {
                    return Ok(op == NE);
                }
                let (xs, ys) = (x.to_vec(), y.to_vec());
                return self.seq_compare(op, &xs, &ys);
            }
            // A tuple's items never change, whatever the items' `__eq__`
            // does: compare them in place.
            (Value::Tuple(x), Value::Tuple(y)) => return self.seq_compare(op, &x.items, &y.items),
            _ => {}
        }
        if op == EQ || op == NE {
            let eq = self.builtin_eq(a, b)?;
            return Ok(eq == (op == EQ));
        }
        if let (Value::Set(_) | Value::FrozenSet(_), Value::Set(_) | Value::FrozenSet(_)) = (a, b) {
            return crate::types::set::set_compare(self, op, a, b);
        }
        Err(order_error(op, a, b))
    }

    /// `(xs...) op (ys...)`: two tuples of equal length compared as
    /// `builtin_compare` compares them, for `Op::CompareTuples`.
    pub fn compare_tuple_items(&mut self, op: u8, xs: &[Value], ys: &[Value]) -> PyResult<Value> {
        // The leading items that compare with no code run (ints, strs,
        // bytes: most tuple keys) need no nesting level; the first pair
        // that differs decides `==` and `!=` at once.
        let n = xs.len().min(ys.len());
        let mut same = 0;
        while same < n {
            match plain_eq(&xs[same], &ys[same]) {
                Some(true) => same += 1,
                Some(false) if op == EQ || op == NE => return Ok(Value::bool(op == NE)),
                _ => break,
            }
        }
        if same == n {
            return Ok(Value::bool(cmp_ord(op, xs.len().cmp(&ys.len()))));
        }
        self.enter_nested(" in comparison")?;
        let r = self.seq_compare(op, &xs[same..], &ys[same..]);
        self.leave_nested();
        r.map(Value::bool)
    }

    fn seq_compare(&mut self, op: u8, xs: &[Value], ys: &[Value]) -> PyResult<bool> {
        for (x, y) in xs.iter().zip(ys.iter()) {
            if !self.eq(x, y)? {
                if op == EQ {
                    return Ok(false);
                }
                if op == NE {
                    return Ok(true);
                }
                let r = self.compare(op, x, y)?;
                return self.truthy(&r);
            }
        }
        Ok(cmp_ord(op, xs.len().cmp(&ys.len())))
    }

    /// Equality of builtin values that are not both numbers/strings/sequences.
    fn builtin_eq(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        Ok(match (a, b) {
            (Value::None, Value::None) => true,
            (Value::Dict(x), Value::Dict(y)) => {
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (k, v) in x.items() {
                    match self.dict_get(y, &k)? {
                        Some(w) => {
                            if !self.eq(&v, &w)? {
                                return Ok(false);
                            }
                        }
                        None => return Ok(false),
                    }
                }
                true
            }
            (Value::Set(_) | Value::FrozenSet(_), Value::Set(_) | Value::FrozenSet(_)) => crate::types::set::set_compare(self, EQ, a, b)?,
            (Value::Range(x), Value::Range(y)) => {
                let (lx, ly) = (x.len(), y.len());
                lx == ly && (lx == 0 || (x.start == y.start && (lx == 1 || x.step == y.step)))
            }
            (Value::Slice(x), Value::Slice(y)) => {
                self.eq(&x.start, &y.start)? && self.eq(&x.stop, &y.stop)? && self.eq(&x.step, &y.step)?
            }
            (Value::BoundMethod(x), Value::BoundMethod(y)) => x.self_.is(&y.self_) && x.func.is(&y.func),
            _ => a.is(b),
        })
    }

    /// The first `i` in `from..to` where `l[i] == item` (`in`, `index`,
    /// `count`, `remove`). The length is read at every step, as an `__eq__`
    /// may change the list; items that compare without running code are
    /// compared under one borrow, without copying the list.
    pub fn list_position(&mut self, l: &PyList, item: &Value, from: usize, to: usize) -> PyResult<Option<usize>> {
        let mut i = from;
        loop {
            let x = {
                let items = l.borrow();
                let end = to.min(items.len());
                loop {
                    if i >= end {
                        return Ok(None);
                    }
                    let x = &items[i];
                    match plain_eq(x, item) {
                        Some(true) => return Ok(Some(i)),
                        Some(false) => i += 1,
                        None => break x.clone(),
                    }
                }
            };
            if self.eq(&x, item)? {
                return Ok(Some(i));
            }
            i += 1;
        }
    }

    /// `a == b` as a bool (identity first, as containers compare).
    pub fn eq(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        if let Some(r) = plain_eq(a, b) {
            return Ok(r);
        }
        let r = self.compare(EQ, a, b)?;
        match r {
            Value::Bool(t) => Ok(t.get()),
            other => self.truthy(&other),
        }
    }

    /// `a > b` as a bool (for max, which asks whether each item is greater
    /// than the best so far, as CPython's does).
    pub fn gt(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        self.ordered(GT, a, b)
    }

    /// `a < b` as a bool (for sorting, min, max).
    pub fn lt(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        self.ordered(LT, a, b)
    }

    /// `a < b` (`op` LT) or `a > b` (GT) as a bool: ints, floats and strs
    /// directly, anything else through `compare` and truth.
    #[inline(always)]
    fn ordered(&mut self, op: u8, a: &Value, b: &Value) -> PyResult<bool> {
        let ord = match (a, b) {
            (Value::Int(x), Value::Int(y)) => x.partial_cmp(y),
            (Value::Float(x), Value::Float(y)) => x.get().partial_cmp(&y.get()),
            (Value::Str(x), Value::Str(y)) => x.as_str().partial_cmp(y.as_str()),
            _ => {
                return match self.compare(op, a, b)? {
                    Value::Bool(t) => Ok(t.get()),
                    other => self.truthy(&other),
                }
            }
        };
        let want = if op == LT { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater };
        Ok(ord == Some(want))
    }
}

/// Whether the hash of `v`, just computed, can never change: `Some(false)`
/// for numbers, strs, bytes, frozensets and tuples of them, `Some(true)`
/// for an instance of a builtin's subclass with no `__hash__`/`__eq__` of
/// its own (fixed while the classes stay as they are), `None` otherwise.
fn fixed_hash(v: &Value) -> Option<bool> {
    match v {
        Value::None | Value::Bool(_) | Value::Int(_) | Value::BigInt(_) | Value::Float(_) | Value::Str(_) | Value::Bytes(_) => Some(false),
        Value::FrozenSet(_) | Value::Range(_) => Some(false),
        Value::Tuple(t) => t.kept_hash_with_instances(),
        Value::Instance(i) if i.class().flags.get() & crate::object::CLASS_HASH_OR_EQ == 0 => match i.builtin_value()? {
            Value::Tuple(t) => t.kept_hash_with_instances().map(|_| true),
            Value::Int(_) | Value::Str(_) | Value::Float(_) | Value::Bytes(_) | Value::FrozenSet(_) => Some(true),
            _ => None,
        },
        _ => None,
    }
}

/// `a == b` for values whose comparison runs no code (ints, floats, bools,
/// strs, bytes, None, or the same object); `None` for the rest. Identity comes
/// first, as containers compare: a float is kept by value, so one NaN
/// object is the same as itself here (`x in [x]`).
#[inline]
pub fn plain_eq(a: &Value, b: &Value) -> Option<bool> {
    if a.is(b) {
        return Some(true);
    }
    Some(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.get() == y.get(),
        (Value::Str(x), Value::Str(y)) => x.as_str() == y.as_str(),
        (Value::Bytes(x), Value::Bytes(y)) => x.b == y.b,
        (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) if i.unsigned_abs() < 1 << 53 => (*i as f64) == f.get(),
        (Value::Bool(x), Value::Int(i)) | (Value::Int(i), Value::Bool(x)) => x.get() as i64 == *i,
        (Value::Str(_), Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::None)
        | (Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::None, Value::Str(_))
        | (Value::None, Value::Int(_) | Value::Float(_) | Value::Bool(_))
        | (Value::Int(_) | Value::Float(_) | Value::Bool(_), Value::None) => false,
        _ => return None,
    })
}

fn order_error(op: u8, a: &Value, b: &Value) -> PyErr {
    type_error(format!("'{}' not supported between instances of '{}' and '{}'", cmpop_symbol(op), type_name(a), type_name(b)))
}

/// Exact comparison of two numbers (`None` when a NaN is involved).
pub fn num_cmp(a: &Num, b: &Num) -> Option<Ordering> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(y)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(y),
        (Num::F(x), other) => int_float_cmp(other, *x).map(|o| o.reverse()),
        (other, Num::F(y)) => int_float_cmp(other, *y),
        _ => Some(to_bigint(a).cmp(&to_bigint(b))),
    }
}

/// Compare an int with a float exactly.
fn int_float_cmp(i: &Num, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { Ordering::Less } else { Ordering::Greater });
    }
    if let Num::I(x) = i {
        if x.unsigned_abs() < (1 << 53) {
            return (*x as f64).partial_cmp(&f);
        }
    }
    let fl = f.floor();
    let fi = crate::numfmt::f64_to_bigint(fl).ok()?;
    let bi = to_bigint(i);
    match bi.cmp(&fi) {
        Ordering::Equal => Some(if f > fl { Ordering::Less } else { Ordering::Equal }),
        o => Some(o),
    }
}

// ------------------------------------------------------------ unary

impl Vm {
    pub fn unary_neg(&mut self, a: &Value) -> PyResult<Value> {
        match a {
            Value::Int(i) => Ok(match i.checked_neg() {
                Some(n) => Value::Int(n),
                None => Value::from_bigint(-BigInt::from(*i)),
            }),
            Value::Bool(b) => Ok(Value::Int(-(b.get() as i64))),
            Value::BigInt(b) => Ok(Value::from_bigint(-(**b).clone())),
            Value::Float(f) => Ok(Value::float(-f.get())),
            _ => self.unary_dunder(a, "__neg__", "-"),
        }
    }
    pub fn unary_pos(&mut self, a: &Value) -> PyResult<Value> {
        match a {
            Value::Int(_) | Value::BigInt(_) | Value::Float(_) => Ok(a.clone()),
            Value::Bool(b) => Ok(Value::Int(b.get() as i64)),
            _ => self.unary_dunder(a, "__pos__", "+"),
        }
    }
    pub fn unary_invert(&mut self, a: &Value) -> PyResult<Value> {
        match a {
            Value::Int(i) => Ok(Value::Int(!i)),
            Value::Bool(b) => Ok(Value::Int(!(b.get() as i64))),
            Value::BigInt(b) => Ok(Value::from_bigint(-(**b).clone() - 1)),
            _ => self.unary_dunder(a, "__invert__", "~"),
        }
    }
    fn unary_dunder(&mut self, a: &Value, name: &'static str, sym: &str) -> PyResult<Value> {
        if let Some(f) = lookup_special(a, name) {
            return self.call_pos(&f, [a.clone()]);
        }
        if let Some(p) = builtin_payload(a) {
            return match sym {
                "-" => self.unary_neg(&p),
                "+" => self.unary_pos(&p),
                _ => self.unary_invert(&p),
            };
        }
        Err(type_error(format!("bad operand type for unary {sym}: '{}'", type_name(a))))
    }

    /// The truth of a value (`bool(v)`).
    pub fn truthy(&mut self, v: &Value) -> PyResult<bool> {
        Ok(match v {
            Value::None | Value::Undef => false,
            Value::Bool(b) => b.get(),
            Value::Int(i) => *i != 0,
            Value::BigInt(_) => true,
            Value::Float(f) => f.get() != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            Value::Set(s) | Value::FrozenSet(s) => !s.is_empty(),
            Value::Range(r) => !r.is_empty(),
            // No `__bool__` or `__len__` on the class or a base: true without
            // looking either up.
            Value::Instance(i) if matches!(i.payload, Payload::None) && i.class.borrow().flags.get() & CLASS_HAS_TRUTH == 0 => true,
            Value::Instance(_) | Value::Object(_) | Value::Class(_) => {
                if let Some(f) = lookup_special(v, "__bool__") {
                    let r = self.call_pos(&f, [v.clone()])?;
                    return match r {
                        Value::Bool(b) => Ok(b.get()),
                        other => Err(type_error(format!("__bool__ should return bool, returned {}", type_name(&other)))),
                    };
                }
                if let Some(f) = lookup_special(v, "__len__") {
                    let r = self.call_pos(&f, [v.clone()])?;
                    let n = self.index_value(&r)?;
                    if n < 0 {
                        return Err(value_error("__len__() should return >= 0"));
                    }
                    return Ok(n != 0);
                }
                if let Some(p) = builtin_payload(v) {
                    return self.truthy(&p);
                }
                true
            }
            _ => true,
        })
    }

    /// An int value as i64 (`__index__` semantics), with a TypeError otherwise.
    /// A start or end bound of a search (`find`, `index`, `count`): an
    /// integer past 64 bits is clamped, as CPython clamps it to `ssize_t`.
    pub fn bound_value(&mut self, v: &Value) -> PyResult<i64> {
        match v {
            Value::BigInt(b) => Ok(if b.is_negative() { i64::MIN } else { i64::MAX }),
            _ => self.index_value(v),
        }
    }

    pub fn index_value(&mut self, v: &Value) -> PyResult<i64> {
        match v {
            Value::Int(i) => Ok(*i),
            Value::Bool(b) => Ok(b.get() as i64),
            Value::BigInt(_) => Err(overflow_error("Python int too large to convert to C ssize_t")),
            _ => {
                if let Some(f) = lookup_special(v, "__index__") {
                    let r = self.call_pos(&f, [v.clone()])?;
                    return self.index_value(&r);
                }
                if let Some(p) = builtin_payload(v) {
                    return self.index_value(&p);
                }
                Err(type_error(format!("'{}' object cannot be interpreted as an integer", type_name(v))))
            }
        }
    }

    // ------------------------------------------------------------ hashing

    /// `hash(v)`. An int's or a str's, the usual keys, is had inline.
    #[inline]
    pub fn hash(&mut self, v: &Value) -> PyResult<i64> {
        match v {
            Value::Int(i) => Ok(crate::hash::hash_i64(*i)),
            Value::Str(s) => Ok(s.hash()),
            Value::Bytes(b) => Ok(crate::hash::hash_bytes(&b.b)),
            _ => self.hash_any(v),
        }
    }

    /// `hash` of any value.
    fn hash_any(&mut self, v: &Value) -> PyResult<i64> {
        use crate::hash::*;
        Ok(match v {
            Value::None => hash_none(),
            Value::Bool(b) => b.get() as i64,
            Value::Int(i) => hash_i64(*i),
            Value::BigInt(b) => hash_bigint(b),
            Value::Float(f) => hash_f64(f.get(), v.ptr().unwrap_or(0)),
            Value::Str(s) => s.hash(),
            Value::Bytes(b) => hash_bytes(&b.b),
            Value::Tuple(t) => {
                if let Some(h) = t.cached_hash() {
                    return Ok(h);
                }
                let mut acc = TupleHash::new();
                // Whether the hash can be kept: every item's hash is fixed
                // (`Some(true)` when that rests on instances' classes).
                let mut keep = Some(false);
                for x in t.items.iter() {
                    // CPython sets no limit here (and a tuple a million deep
                    // overflows its stack): only the stack's room is
                    // checked, before each step down into a nested tuple.
                    if matches!(x, Value::Tuple(_)) && crate::limits::stack_nearly_full() {
                        return Err(err(&types().exc.recursion_error, "maximum recursion depth exceeded while calculating hash"));
                    }
                    acc.add(self.hash(x)?);
                    keep = match (keep, fixed_hash(x)) {
                        (Some(a), Some(b)) => Some(a || b),
                        _ => None,
                    };
                }
                let h = acc.finish(t.items.len());
                if let Some(with_instances) = keep {
                    t.keep_hash(h, with_instances);
                }
                h
            }
            Value::FrozenSet(s) => {
                let hashes: Vec<i64> = s.s.borrow().entries().map(|(h, _)| h).collect();
                frozenset_hash(&hashes)
            }
            Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::Slice(_) => {
                return Err(type_error(format!("unhashable type: '{}'", type_name(v))))
            }
            Value::Range(r) => hash_tuple(&[hash_i64(r.len() as i64), hash_i64(r.start), hash_i64(r.step)]),
            Value::Instance(i) => {
                let cls = i.class();
                if cls.flags.get() & crate::object::CLASS_HASH_OR_EQ == 0 {
                    // No `__hash__`/`__eq__` of its own or a base's: a
                    // subclass of a hashable builtin (a namedtuple) hashes
                    // as its value, with no lookup.
                    if let Some(
                        p @ (Value::Tuple(_) | Value::Int(_) | Value::Str(_) | Value::Float(_) | Value::Bytes(_) | Value::FrozenSet(_)),
                    ) = i.builtin_value()
                    {
                        return self.hash(&p);
                    }
                }
                match lookup_special_in(&cls, "__hash__") {
                    Some(Value::None) => return Err(type_error(format!("unhashable type: '{}'", cls.name().as_str()))),
                    Some(f) => {
                        let r = self.call_pos(&f, [v.clone()])?;
                        return match r {
                            Value::Int(i) => Ok(if i == -1 { -2 } else { i }),
                            Value::BigInt(b) => Ok(hash_bigint(&b)),
                            Value::Bool(b) => Ok(b.get() as i64),
                            _ => Err(type_error("__hash__ method should return an integer")),
                        };
                    }
                    None => match i.builtin_value() {
                        Some(p) => return self.hash(&p),
                        None => hash_id(v.ptr().unwrap_or(0)),
                    },
                }
            }
            Value::Future(f) => hash_i64(f.id() as i64),
            Value::Object(o) => match lookup_special_in(&o.class(), "__hash__") {
                Some(Value::None) => return Err(type_error(format!("unhashable type: '{}'", type_name(v)))),
                Some(f) => {
                    let r = self.call_pos(&f, [v.clone()])?;
                    return self.index_value(&r);
                }
                None => hash_id(v.ptr().unwrap_or(0)),
            },
            Value::Class(c) if c.metaclass.borrow().is_some() => match lookup_special(v, "__hash__") {
                Some(Value::None) => return Err(type_error(format!("unhashable type: '{}'", type_name(v)))),
                Some(f) => {
                    let r = self.call_pos(&f, [v.clone()])?;
                    return self.index_value(&r);
                }
                None => hash_id(v.ptr().unwrap_or(0)),
            },
            _ => hash_id(v.ptr().unwrap_or(0)),
        })
    }

    // ------------------------------------------------------------ repr / str

    /// `repr(v)` as a str value. An int's digits go straight into the new
    /// str, with no `String` to format, copy and free (the usual items of
    /// a container's repr and of formatted output).
    pub fn repr_value(&mut self, v: &Value) -> PyResult<Value> {
        match v {
            Value::Int(i) => Ok(Value::str(itoa::Buffer::new().format(*i))),
            // Printable ASCII with no quote or backslash: the text between quotes.
            Value::Str(s) if s.is_ascii() && s.as_str().bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'\\' && b != b'\'') => {
                Ok(Value::Str(Rc::new(PyStr::concat_all(["'", s.as_str(), "'"].into_iter(), true))))
            }
            _ => self.repr_str(v).map(Value::string),
        }
    }

    /// `str(v)` as a str value: a str is itself, an int as in `repr_value`.
    pub fn str_value(&mut self, v: &Value) -> PyResult<Value> {
        match v {
            Value::Str(_) => Ok(v.clone()),
            Value::Int(i) => Ok(Value::str(itoa::Buffer::new().format(*i))),
            _ => self.str_of(v).map(Value::string),
        }
    }

    /// `repr(v)`.
    pub fn repr_str(&mut self, v: &Value) -> PyResult<String> {
        match v {
            Value::List(_)
            | Value::Tuple(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::FrozenSet(_)
            | Value::Instance(_)
            | Value::Object(_) => {
                self.enter_nested(" while getting the repr of an object")?;
                let r = self.repr_inner(v);
                self.leave_nested();
                r
            }
            _ => self.repr_inner(v),
        }
    }

    fn repr_inner(&mut self, v: &Value) -> PyResult<String> {
        Ok(match v {
            Value::None => "None".into(),
            Value::Bool(b) => if b.get() { "True" } else { "False" }.into(),
            Value::Int(i) => itoa::Buffer::new().format(*i).to_string(),
            Value::BigInt(b) => crate::types::int::bigint_to_string(b)?,
            Value::Float(f) => crate::numfmt::float_repr(f.get()),
            Value::Str(s) => crate::numfmt::str_repr(s),
            Value::Bytes(b) => crate::numfmt::bytes_repr(&b.b),
            Value::NotImplemented => "NotImplemented".into(),
            Value::Ellipsis => "Ellipsis".into(),
            Value::List(l) => {
                if !self.repr_enter(v.ptr().unwrap_or(0)) {
                    return Ok("[...]".into());
                }
                let items = l.to_vec();
                let r = self.repr_items(&items);
                self.repr_leave();
                format!("[{}]", r?)
            }
            Value::Tuple(t) => {
                if t.items.len() == 1 {
                    format!("({},)", self.repr_str(&t.items[0])?)
                } else {
                    let items = t.items.to_vec();
                    format!("({})", self.repr_items(&items)?)
                }
            }
            Value::Dict(d) => {
                if !self.repr_enter(v.ptr().unwrap_or(0)) {
                    return Ok("{...}".into());
                }
                let r = self.repr_dict_items(d);
                self.repr_leave();
                format!("{{{}}}", r?)
            }
            Value::Set(s) => {
                if s.is_empty() {
                    return Ok("set()".into());
                }
                let items = s.items();
                format!("{{{}}}", self.repr_items(&items)?)
            }
            Value::FrozenSet(s) => {
                if s.is_empty() {
                    return Ok("frozenset()".into());
                }
                let items = s.items();
                format!("frozenset({{{}}})", self.repr_items(&items)?)
            }
            Value::Range(r) => {
                if r.step == 1 {
                    format!("range({}, {})", r.start, r.stop)
                } else {
                    format!("range({}, {}, {})", r.start, r.stop, r.step)
                }
            }
            Value::Slice(s) => format!("slice({}, {}, {})", self.repr_str(&s.start)?, self.repr_str(&s.stop)?, self.repr_str(&s.step)?),
            Value::Function(f) => format!("<function {} at {:#x}>", f.qualname.borrow().as_str(), v.ptr().unwrap_or(0)),
            Value::Native(n) => match n.owner {
                Some(o) => format!("<method '{}' of '{}' objects>", n.name.as_str(), o),
                None => format!("<built-in function {}>", n.name.as_str()),
            },
            Value::BoundMethod(b) => match &b.func {
                Value::Native(n) => {
                    format!("<built-in method {} of {} object at {:#x}>", n.name.as_str(), type_name(&b.self_), b.self_.ptr().unwrap_or(0))
                }
                Value::Function(f) => {
                    let s = self.repr_str(&b.self_)?;
                    format!("<bound method {} of {}>", f.qualname.borrow().as_str(), s)
                }
                other => {
                    let s = self.repr_str(&b.self_)?;
                    format!("<bound method {} of {}>", self.repr_str(other)?, s)
                }
            },
            Value::Class(c) => {
                let custom = c.metaclass.borrow().as_ref().and_then(|m| lookup_special_in(m, "__repr__"));
                if let Some(f) = custom {
                    let r = self.call_pos(&f, [v.clone()])?;
                    return self.str_of(&r);
                }
                let module = match c.dict.get_str("__module__") {
                    Some(Value::Str(m)) if m.as_str() != "builtins" => format!("{}.", m.as_str()),
                    _ => String::new(),
                };
                format!("<class '{}{}'>", module, c.qualname.borrow().as_str())
            }
            Value::Module(m) => format!("<module '{}'>", m.name.as_str()),
            Value::Generator(g) => {
                let kind = match g.kind {
                    GenKind::Generator => "generator",
                    GenKind::Coroutine => "coroutine",
                    GenKind::AsyncGenerator => "async_generator",
                };
                format!("<{} object {} at {:#x}>", kind, g.qualname().as_str(), v.ptr().unwrap_or(0))
            }
            Value::Iter(it) => {
                // `count` and `repeat` show their state, as in CPython.
                let shown = match &*it.state.borrow() {
                    crate::iter::IterState::Count { cur, step } => {
                        Some((cur.clone(), (!matches!(step, Value::Int(1))).then(|| step.clone()), "count"))
                    }
                    crate::iter::IterState::Repeat { v, left } => Some((v.clone(), left.map(|n| Value::Int(n as i64)), "repeat")),
                    _ => None,
                };
                match shown {
                    Some((a, b, name)) => match b {
                        Some(b) => format!("{name}({}, {})", self.repr_str(&a)?, self.repr_str(&b)?),
                        None => format!("{name}({})", self.repr_str(&a)?),
                    },
                    None => format!("<{} object at {:#x}>", type_name(v), v.ptr().unwrap_or(0)),
                }
            }
            Value::Cell(_) => "<cell>".into(),
            Value::Code(c) => format!("<code object {}>", c.name.as_str()),
            Value::Future(f) => crate::task::repr(self, f)?,
            Value::Undef => "<undefined>".into(),
            Value::Instance(i) => {
                if let Some(f) = lookup_special(v, "__repr__") {
                    let r = self.call_pos(&f, [v.clone()])?;
                    return match r {
                        Value::Str(s) => Ok(s.as_str().to_string()),
                        other => Err(type_error(format!("__repr__ returned non-string (type {})", type_name(&other)))),
                    };
                }
                if let Some(p) = i.builtin_value() {
                    return self.repr_builtin_value(v, &p);
                }
                let cls = i.class();
                default_object_repr(&cls, v)
            }
            Value::Object(o) => {
                if let Some(f) = lookup_special(v, "__repr__") {
                    let r = self.call_pos(&f, [v.clone()])?;
                    return self.str_of(&r);
                }
                let o = o.clone();
                o.repr(self)?
            }
        })
    }

    /// The repr of `p`, the builtin value of `v` (an instance of a
    /// subclass): a set's names the subclass (`S({1, 2})`, `S()`), a
    /// list's or a dict's does not.
    pub fn repr_builtin_value(&mut self, v: &Value, p: &Value) -> PyResult<String> {
        match (v, p) {
            (Value::Instance(i), Value::Set(s) | Value::FrozenSet(s)) => {
                let name = i.class().name();
                if s.is_empty() {
                    return Ok(format!("{}()", name.as_str()));
                }
                let items = s.items();
                Ok(format!("{}({{{}}})", name.as_str(), self.repr_items(&items)?))
            }
            _ => self.repr_str(p),
        }
    }

    fn repr_items(&mut self, items: &[Value]) -> PyResult<String> {
        let mut parts = Vec::with_capacity(items.len());
        for it in items {
            self.poll_interrupt()?;
            parts.push(self.repr_str(it)?);
        }
        Ok(parts.join(", "))
    }

    fn repr_dict_items(&mut self, d: &PyDict) -> PyResult<String> {
        let mut parts = Vec::new();
        for (k, v) in d.items() {
            self.poll_interrupt()?;
            parts.push(format!("{}: {}", self.repr_str(&k)?, self.repr_str(&v)?));
        }
        Ok(parts.join(", "))
    }

    /// A `repr` starts showing the container at address `key`: false when
    /// it is already being shown further out (a cycle, shown as `[...]`).
    /// Each `true` is paired with a `repr_leave`.
    pub fn repr_enter(&mut self, key: usize) -> bool {
        if self.repr_guard.contains(&key) {
            return false;
        }
        self.repr_guard.push(key);
        true
    }
    /// The innermost container being shown is done.
    pub fn repr_leave(&mut self) {
        self.repr_guard.pop();
    }

    /// `str(v)`.
    pub fn str_of(&mut self, v: &Value) -> PyResult<String> {
        match v {
            Value::Str(s) => Ok(s.as_str().to_string()),
            Value::Instance(i) => {
                if let Some(f) = lookup_special(v, "__str__") {
                    let r = self.call_pos(&f, [v.clone()])?;
                    return match r {
                        Value::Str(s) => Ok(s.as_str().to_string()),
                        other => Err(type_error(format!("__str__ returned non-string (type {})", type_name(&other)))),
                    };
                }
                if let Some(p) = i.builtin_value() {
                    if lookup_special(v, "__repr__").is_none() {
                        return self.str_of(&p);
                    }
                }
                self.repr_str(v)
            }
            Value::Object(_) => {
                if let Some(f) = lookup_special(v, "__str__") {
                    let r = self.call_pos(&f, [v.clone()])?;
                    return self.str_of(&r);
                }
                self.repr_str(v)
            }
            _ => self.repr_str(v),
        }
    }

    /// `format(v, spec)`.
    pub fn format(&mut self, v: &Value, spec: &str) -> PyResult<String> {
        let r = match v {
            Value::Int(i) => crate::numfmt::format_int_i64(*i, spec),
            Value::Bool(b) if !spec.is_empty() => crate::numfmt::format_int_i64(b.get() as i64, spec),
            Value::BigInt(b) => crate::numfmt::format_int(b, spec),
            Value::Float(f) => crate::numfmt::format_float(f.get(), spec),
            Value::Str(s) => crate::numfmt::format_str(s, spec),
            Value::Instance(_) | Value::Object(_) => {
                if let Some(f) = lookup_special(v, "__format__") {
                    let r = self.call_pos(&f, [v.clone(), Value::str(spec)])?;
                    return self.str_of(&r);
                }
                if let Some(p) = builtin_payload(v) {
                    return self.format(&p, spec);
                }
                if spec.is_empty() {
                    return self.str_of(v);
                }
                return Err(type_error(format!("unsupported format string passed to {}.__format__", type_name(v))));
            }
            _ => {
                if spec.is_empty() {
                    return self.str_of(v);
                }
                return Err(type_error(format!("unsupported format string passed to {}.__format__", type_name(v))));
            }
        };
        r.map_err(num_err)
    }

    // ------------------------------------------------------------ len and items

    /// `len(v)`.
    // The common containers inline, everything else (a call to `__len__`
    // among them) out of line, so that `len(lst)` pays for no big frame.
    #[inline]
    pub fn len(&mut self, v: &Value) -> PyResult<usize> {
        match v {
            Value::List(l) => Ok(l.len()),
            Value::Tuple(t) => Ok(t.len()),
            Value::Dict(d) => Ok(d.len()),
            _ => self.len_general(v),
        }
    }

    /// `len(v)` for what `len` does not inline.
    #[inline(never)]
    fn len_general(&mut self, v: &Value) -> PyResult<usize> {
        Ok(match v {
            Value::Str(s) => s.char_len(),
            Value::Bytes(b) => b.b.len(),
            Value::List(l) => l.len(),
            Value::Tuple(t) => t.len(),
            Value::Dict(d) => d.len(),
            Value::Set(s) | Value::FrozenSet(s) => s.len(),
            Value::Range(r) => {
                let n = r.len();
                if n > isize::MAX as usize {
                    return Err(overflow_error("Python int too large to convert to C ssize_t"));
                }
                n
            }
            Value::Instance(_) | Value::Object(_) | Value::Class(_) => {
                if let Some(p) = inherited_builtin_payload(v, "__len__") {
                    return self.len_general(&p);
                }
                if let Some(f) = lookup_special(v, "__len__") {
                    let r = self.call_pos(&f, [v.clone()])?;
                    if matches!(r, Value::BigInt(_)) {
                        return Err(overflow_error("cannot fit 'int' into an index-sized integer"));
                    }
                    let n = self.index_value(&r)?;
                    if n < 0 {
                        return Err(value_error("__len__() should return >= 0"));
                    }
                    return Ok(n as usize);
                }
                if let Some(p) = builtin_payload(v) {
                    // An int subclass has no len(): the error names the subclass.
                    return self.len_general(&p).map_err(|e| if e.is(&types().exc.type_error) { no_len(v) } else { e });
                }
                return Err(no_len(v));
            }
            _ => return Err(no_len(v)),
        })
    }

    /// `c[i]`.
    pub fn getitem(&mut self, c: &Value, i: &Value) -> PyResult<Value> {
        match c {
            Value::List(l) => crate::types::list::getitem(self, l, i),
            Value::Tuple(t) => crate::types::tuple::getitem(self, t, i),
            Value::Str(s) => crate::types::str::getitem(self, s, i),
            Value::Bytes(b) => crate::types::bytes::getitem(self, b, i),
            Value::Range(r) => crate::types::range::getitem(self, r, i),
            Value::Dict(d) => match self.dict_get(d, i)? {
                Some(v) => Ok(v),
                None => Err(key_error(i.clone())),
            },
            Value::Class(cls) => {
                // The metaclass's `__getitem__` first (`Color['RED']`), then
                // the class's own `__class_getitem__` (`list[int]`).
                if let Some(f) = lookup_special(c, "__getitem__") {
                    return self.call_pos(&f, [c.clone(), i.clone()]);
                }
                if let Some(f) = lookup_special_in(cls, "__class_getitem__") {
                    let f = crate::attr::unwrap_classmethod(&f);
                    return self.call_pos(&f, [c.clone(), i.clone()]);
                }
                if cls.builtin.is_some() {
                    return crate::types::generic::class_getitem(cls, i);
                }
                Err(type_error(format!("type '{}' is not subscriptable", cls.name().as_str())))
            }
            Value::Instance(inst) => {
                // A builtin subclass that keeps the builtin's `__getitem__`
                // (a Counter, a defaultdict-like dict) indexes its payload
                // with no method call.
                let inherited = inherited_builtin_payload(c, "__getitem__");
                let f = if inherited.is_some() { None } else { lookup_special(c, "__getitem__") };
                if let Some(f) = f {
                    return self.call_pos(&f, [c.clone(), i.clone()]);
                }
                if let Some(p) = inherited.or_else(|| inst.builtin_value()) {
                    if let Value::Dict(d) = &p {
                        if let Some(v) = self.dict_get(d, i)? {
                            return Ok(v);
                        }
                        if let Some(f) = lookup_special(c, "__missing__") {
                            return self.call_pos(&f, [c.clone(), i.clone()]);
                        }
                        return Err(key_error(i.clone()));
                    }
                    return self.getitem(&p, i);
                }
                Err(type_error(format!("'{}' object is not subscriptable", type_name(c))))
            }
            Value::Object(o) => {
                if let Value::Int(k) = i {
                    if let Some(v) = o.item_at(*k) {
                        return Ok(v);
                    }
                }
                if let Some(f) = lookup_special(c, "__getitem__") {
                    return self.call_pos(&f, [c.clone(), i.clone()]);
                }
                Err(type_error(format!("'{}' object is not subscriptable", type_name(c))))
            }
            _ => Err(type_error(format!("'{}' object is not subscriptable", type_name(c)))),
        }
    }

    /// `c[i] = v`.
    pub fn setitem(&mut self, c: &Value, i: Value, v: Value) -> PyResult<()> {
        match c {
            Value::List(l) => crate::types::list::setitem(self, l, &i, v),
            Value::Dict(d) => self.dict_set(d, i, v),
            Value::Instance(inst) => {
                if let Some(p) = inherited_builtin_payload(c, "__setitem__") {
                    return self.setitem(&p, i, v);
                }
                if let Some(f) = lookup_special(c, "__setitem__") {
                    self.call_pos(&f, [c.clone(), i, v])?;
                    return Ok(());
                }
                if let Some(p) = inst.builtin_value() {
                    return self.setitem(&p, i, v);
                }
                Err(type_error(format!("'{}' object does not support item assignment", type_name(c))))
            }
            Value::Object(o) => {
                if let Value::Int(k) = i {
                    if o.set_item_at(k, &v) {
                        return Ok(());
                    }
                }
                if let Some(f) = lookup_special(c, "__setitem__") {
                    self.call_pos(&f, [c.clone(), i, v])?;
                    return Ok(());
                }
                Err(type_error(format!("'{}' object does not support item assignment", type_name(c))))
            }
            _ => Err(type_error(format!("'{}' object does not support item assignment", type_name(c)))),
        }
    }

    /// `del c[i]`.
    pub fn delitem(&mut self, c: &Value, i: Value) -> PyResult<()> {
        match c {
            Value::List(l) => crate::types::list::delitem(self, l, &i),
            Value::Dict(d) => match self.dict_remove(d, &i)? {
                Some(_) => Ok(()),
                None => Err(key_error(i)),
            },
            Value::Instance(inst) => {
                if let Some(f) = lookup_special(c, "__delitem__") {
                    self.call_pos(&f, [c.clone(), i])?;
                    return Ok(());
                }
                if let Some(p) = inst.builtin_value() {
                    return self.delitem(&p, i);
                }
                Err(type_error(format!("'{}' object doesn't support item deletion", type_name(c))))
            }
            Value::Object(_) => {
                if let Some(f) = lookup_special(c, "__delitem__") {
                    self.call_pos(&f, [c.clone(), i])?;
                    return Ok(());
                }
                Err(type_error(format!("'{}' object doesn't support item deletion", type_name(c))))
            }
            _ => Err(type_error(format!("'{}' object doesn't support item deletion", type_name(c)))),
        }
    }

    /// `item in container`.
    pub fn contains(&mut self, container: &Value, item: &Value) -> PyResult<bool> {
        match container {
            Value::Str(s) => match item {
                Value::Str(sub) => Ok(crate::types::str::find_in(s.as_str(), sub.as_str(), false).is_some()),
                _ => Err(type_error(format!("'in <string>' requires string as left operand, not {}", type_name(item)))),
            },
            Value::Bytes(b) => crate::types::bytes::contains(self, b, item),
            Value::Dict(d) => Ok(self.dict_get(d, item)?.is_some()),
            Value::Set(s) | Value::FrozenSet(s) => self.set_contains(s, item),
            Value::Range(r) => crate::types::range::contains(self, r, item),
            Value::List(l) => Ok(self.list_position(l, item, 0, usize::MAX)?.is_some()),
            Value::Tuple(t) => {
                // A tuple's items never change, whatever an `__eq__` does.
                for x in t.items.iter() {
                    if self.eq(x, item)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => {
                if let Some(f) = lookup_special(container, "__contains__") {
                    let r = self.call_pos(&f, [container.clone(), item.clone()])?;
                    return self.truthy(&r);
                }
                if let Some(p) = builtin_payload(container) {
                    return self.contains(&p, item);
                }
                if self.iter(container).is_err() {
                    return Err(type_error(format!("argument of type '{}' is not iterable", type_name(container))));
                }
                let it = self.iter(container)?;
                while let Some(x) = self.next(&it)? {
                    if self.eq(&x, item)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }
}

/// `hash(None)`: an address-like constant (CPython 3.11 hashes None by its address).
fn hash_none() -> i64 {
    crate::hash::hash_id(0x5f5f_4e6f_6e65)
}

/// `hash(v)` when no .aio code takes part: an int, a str, None, or a class
/// with no metaclass (hashed by identity, as `hash_any` does).
#[inline]
pub fn hash_sure(v: &Value) -> Option<i64> {
    use crate::hash::*;
    match v {
        Value::Int(i) => Some(hash_i64(*i)),
        Value::Str(s) => Some(s.hash()),
        Value::None => Some(hash_none()),
        Value::Class(c) if c.metaclass.borrow().is_none() => Some(hash_id(v.ptr()?)),
        _ => None,
    }
}

/// `item in container` for a dict, set or frozenset when no .aio code takes
/// part (see `hash_sure`, `DictData::contains_sure`), or a list or tuple
/// whose items up to the first equal one compare with `plain_eq`; `None`
/// for the general path, which then compares from the start, as nothing
/// ran. (`type(x) in {int, str}`, `id(x) in seen`, `v in cell`.)
#[inline]
pub fn contains_sure(container: &Value, item: &Value) -> Option<bool> {
    match container {
        Value::Dict(d) => d.d.borrow().contains_sure(hash_sure(item)?, item),
        Value::Set(s) | Value::FrozenSet(s) => s.s.borrow().contains_sure(hash_sure(item)?, item),
        Value::List(l) => plain_position(&l.borrow(), item),
        Value::Tuple(t) => plain_position(&t.items, item),
        _ => None,
    }
}

/// Is `item` among `items`, when `plain_eq` answers for each up to the
/// first equal one? `None` at the first it cannot answer for.
fn plain_position(items: &[Value], item: &Value) -> Option<bool> {
    for x in items {
        // Two ints, the common case (`v in cell`), with no call.
        let eq = match (x, item) {
            (Value::Int(a), Value::Int(b)) => a == b,
            _ => plain_eq(x, item)?,
        };
        if eq {
            return Some(true);
        }
    }
    Some(false)
}

/// `del d[key]` for a dict holding the int or str `key`, when no .aio code
/// takes part (see `DictData::find_int`) and no weak reference is watched;
/// false, touching nothing, for the general path (which raises for an
/// absent key). (`del seen[id(x)]`.)
#[inline]
pub fn del_item_sure(container: &Value, key: &Value) -> bool {
    let Value::Dict(d) = container else { return false };
    if crate::weakref::watching() {
        return false;
    }
    let removed = {
        let mut data = d.d.borrow_mut();
        let found = match key {
            Value::Int(i) => data.find_int(*i),
            Value::Str(s) => data.find_pystr_sure(s),
            _ => None,
        };
        let Some(Some(p)) = found else { return false };
        data.remove_at(p)
    };
    // Dropped once the dict is free again: a finalizer may look at it.
    drop(removed);
    true
}

/// `<__main__.A object at 0x...>`
pub fn default_object_repr(cls: &Rc<Class>, v: &Value) -> String {
    let module = match cls.dict.get_str("__module__") {
        Some(Value::Str(m)) if m.as_str() != "builtins" => format!("{}.", m.as_str()),
        _ => String::new(),
    };
    format!("<{}{} object at {:#x}>", module, cls.qualname.borrow().as_str(), v.ptr().unwrap_or(0))
}

/// CPython's frozenset hash from the hashes of its items.
fn frozenset_hash(hashes: &[i64]) -> i64 {
    let shuffle = |h: u64| ((h ^ 89869747) ^ (h << 16)).wrapping_mul(3644798167);
    let mut hash: u64 = 0;
    for &h in hashes {
        hash ^= shuffle(h as u64);
    }
    hash ^= (hashes.len() as u64 + 1).wrapping_mul(1927868237);
    hash ^= (hash >> 11) ^ (hash >> 25);
    hash = hash.wrapping_mul(69069).wrapping_add(907133923);
    let h = hash as i64;
    if h == -1 {
        590923713
    } else {
        h
    }
}
