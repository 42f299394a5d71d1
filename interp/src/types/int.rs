//! `int`: construction from strings and numbers, and the int methods.

use std::rc::Rc;

use num_bigint::{BigInt, Sign};
use num_traits::{Signed, ToPrimitive, Zero};

use crate::exceptions::*;
use crate::object::*;
use crate::ops::{lookup_special, num_err};
use crate::types::{check_args, class_function, method, type_name, Types};
use crate::value::Value;
use crate::vm::Vm;

/// `str(n)` for a big int (with CPython's 4300-digit limit).
pub fn bigint_to_string(b: &BigInt) -> PyResult<String> {
    crate::numfmt::int_to_str(b).map_err(num_err)
}

/// The int value of an int-like value as a BigInt.
pub fn to_bigint(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::Bool(b) => Some(BigInt::from(b.get() as i64)),
        Value::BigInt(b) => Some((**b).clone()),
        Value::Instance(i) => i.builtin_value().and_then(|p| to_bigint(&p)),
        _ => None,
    }
}

/// `int(x=0, base=10)`.
pub fn construct(vm: &mut Vm, mut args: Args) -> PyResult {
    let base = args.take_kw("base");
    let x = match args.pos.first() {
        Some(x) => x.clone(),
        None => match args.take_kw("x") {
            Some(x) => x,
            None => {
                if base.is_some() {
                    return Err(type_error("int() missing string argument"));
                }
                return Ok(Value::Int(0));
            }
        },
    };
    if args.pos.len() > 2 {
        return Err(type_error(format!("int() takes at most 2 arguments ({} given)", args.pos.len())));
    }
    let base = base.or_else(|| args.pos.get(1).cloned());
    if let Some(b) = base {
        let b = vm.index_value(&b)?;
        let text = match &x {
            Value::Str(s) => s.as_str().to_string(),
            Value::Bytes(bs) => String::from_utf8_lossy(&bs.b).into_owned(),
            _ => return Err(type_error("int() can't convert non-string with explicit base")),
        };
        if !(b == 0 || (2..=36).contains(&b)) {
            return Err(value_error("int() base must be >= 2 and <= 36, or 0"));
        }
        return crate::numfmt::parse_int_checked(&text, b as u32).map(Value::from_bigint).map_err(num_err);
    }
    to_int(vm, &x)
}

/// `int(x)` for one argument.
pub fn to_int(vm: &mut Vm, x: &Value) -> PyResult {
    match x {
        Value::Int(_) | Value::BigInt(_) => Ok(x.clone()),
        Value::Bool(b) => Ok(Value::Int(b.get() as i64)),
        Value::Float(f) => crate::numfmt::f64_to_bigint(f.get()).map(Value::from_bigint).map_err(num_err),
        Value::Str(s) => crate::numfmt::parse_int_checked(s, 10).map(Value::from_bigint).map_err(num_err),
        Value::Bytes(b) => crate::numfmt::parse_int_checked(&String::from_utf8_lossy(&b.b), 10).map(Value::from_bigint).map_err(num_err),
        _ => {
            for name in ["__int__", "__index__", "__trunc__"] {
                if let Some(f) = lookup_special(x, name) {
                    let r = vm.call(f, Args::new([x.clone()]))?;
                    return match r {
                        Value::Int(_) | Value::BigInt(_) => Ok(r),
                        Value::Bool(b) => Ok(Value::Int(b.get() as i64)),
                        other => Err(type_error(format!("{name} returned non-int (type {})", type_name(&other)))),
                    };
                }
            }
            if let Some(p) = crate::ops::builtin_payload(x) {
                return to_int(vm, &p);
            }
            Err(type_error(format!("int() argument must be a string, a bytes-like object or a real number, not '{}'", type_name(x))))
        }
    }
}

fn self_int(args: &Args) -> PyResult<BigInt> {
    args.pos.first().and_then(to_bigint).ok_or_else(|| type_error("descriptor requires an 'int' object"))
}

fn bit_length(_vm: &mut Vm, args: Args) -> PyResult {
    check_args("int.bit_length", &args, 0, 0)?;
    Ok(Value::Int(self_int(&args)?.bits() as i64))
}

fn bit_count(_vm: &mut Vm, args: Args) -> PyResult {
    let n = self_int(&args)?;
    Ok(Value::Int(n.magnitude().count_ones() as i64))
}

fn conjugate(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::from_bigint(self_int(&args)?))
}

fn int_index(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::from_bigint(self_int(&args)?))
}

fn int_float(_vm: &mut Vm, args: Args) -> PyResult {
    crate::numfmt::int_to_f64(&self_int(&args)?).map(Value::float).map_err(num_err)
}

fn int_round(_vm: &mut Vm, args: Args) -> PyResult {
    let n = self_int(&args)?;
    match args.pos.get(1) {
        None | Some(Value::None) => Ok(Value::from_bigint(n)),
        Some(d) => {
            let d = to_bigint(d).ok_or_else(|| type_error("'float' object cannot be interpreted as an integer"))?;
            if !d.is_negative() {
                return Ok(Value::from_bigint(n));
            }
            let p = num_traits::pow(BigInt::from(10), (-d).to_usize().unwrap_or(0));
            let (q, r) = num_integer::Integer::div_mod_floor(&n, &p);
            let twice = &r * 2;
            let q = if twice > p || (twice == p && num_integer::Integer::is_odd(&q)) { q + 1 } else { q };
            Ok(Value::from_bigint(q * p))
        }
    }
}

fn as_integer_ratio(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::tuple([Value::from_bigint(self_int(&args)?), Value::Int(1)]))
}

fn to_bytes(vm: &mut Vm, mut args: Args) -> PyResult {
    let n = self_int(&args)?;
    let length = match args.pos.get(1).cloned().or_else(|| args.take_kw("length")) {
        Some(l) => vm.index_value(&l)? as usize,
        None => 1,
    };
    let order = args.pos.get(2).cloned().or_else(|| args.take_kw("byteorder")).unwrap_or(Value::str("big"));
    let signed = match args.take_kw("signed") {
        Some(s) => vm.truthy(&s)?,
        None => false,
    };
    if n.is_negative() && !signed {
        return Err(overflow_error("can't convert negative int to unsigned"));
    }
    let mut bytes = if signed { n.to_signed_bytes_le() } else { n.to_bytes_le().1 };
    if n.is_zero() {
        bytes.clear();
    }
    if bytes.len() > length {
        return Err(overflow_error("int too big to convert"));
    }
    let fill = if n.is_negative() { 0xff } else { 0 };
    bytes.resize(length, fill);
    match order.as_str().map(|s| s.as_str()) {
        Some("big") => bytes.reverse(),
        Some("little") => {}
        _ => return Err(value_error("byteorder must be either 'little' or 'big'")),
    }
    Ok(Value::Bytes(Rc::new(PyBytes { b: bytes.into_boxed_slice() })))
}

fn from_bytes(vm: &mut Vm, mut args: Args) -> PyResult {
    let data = args.pos.first().cloned().or_else(|| args.take_kw("bytes")).unwrap_or(Value::None);
    let order = args.pos.get(1).cloned().or_else(|| args.take_kw("byteorder")).unwrap_or(Value::str("big"));
    let signed = match args.take_kw("signed") {
        Some(s) => vm.truthy(&s)?,
        None => false,
    };
    let mut bytes: Vec<u8> = match crate::types::bytes::bytes_like(&data) {
        Some(b) => b.into_vec(),
        None => crate::types::bytes::from_iterable(vm, &data, "bytes")?,
    };
    match order.as_str().map(|s| s.as_str()) {
        Some("big") => {}
        Some("little") => bytes.reverse(),
        _ => return Err(value_error("byteorder must be either 'little' or 'big'")),
    }
    let n = if signed { BigInt::from_signed_bytes_be(&bytes) } else { BigInt::from_bytes_be(Sign::Plus, &bytes) };
    Ok(Value::from_bigint(n))
}

/// Install the int methods.
pub fn install(t: &'static Types) {
    let c = &t.int;
    method(c, "int", "bit_length", bit_length);
    method(c, "int", "bit_count", bit_count);
    method(c, "int", "conjugate", conjugate);
    method(c, "int", "__index__", int_index);
    method(c, "int", "__int__", int_index);
    method(c, "int", "__float__", int_float);
    method(c, "int", "__round__", int_round);
    method(c, "int", "__trunc__", int_index);
    method(c, "int", "__floor__", int_index);
    method(c, "int", "__ceil__", int_index);
    method(c, "int", "as_integer_ratio", as_integer_ratio);
    method(c, "int", "to_bytes", to_bytes);
    class_function(c, "from_bytes", from_bytes, false);
    let _ = ToPrimitive::to_i64(&BigInt::zero());
}
