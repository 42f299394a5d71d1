//! `float`: construction and the float methods.

use crate::exceptions::*;
use crate::object::*;
use crate::ops::{lookup_special, num_err};
use crate::types::{method, type_name, Types};
use crate::value::Value;
use crate::vm::Vm;

/// `float(x=0.0)`.
pub fn construct(vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        None => Ok(Value::float(0.0)),
        Some(x) => to_float(vm, x).map(Value::float),
    }
}

/// `float(x)`.
pub fn to_float(vm: &mut Vm, x: &Value) -> PyResult<f64> {
    match x {
        Value::Float(f) => Ok(f.get()),
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(b.get() as i64 as f64),
        Value::BigInt(b) => crate::numfmt::int_to_f64(b).map_err(num_err),
        Value::Str(s) => crate::numfmt::parse_float(s).ok_or_else(|| value_error(crate::numfmt::float_parse_error(s))),
        _ => {
            if let Some(f) = lookup_special(x, "__float__") {
                let r = vm.call(f, Args::new([x.clone()]))?;
                return match r {
                    Value::Float(f) => Ok(f.get()),
                    other => Err(type_error(format!("{}.__float__ returned non-float (type {})", type_name(x), type_name(&other)))),
                };
            }
            if let Some(f) = lookup_special(x, "__index__") {
                let r = vm.call(f, Args::new([x.clone()]))?;
                return to_float(vm, &r);
            }
            if let Some(p) = crate::ops::builtin_payload(x) {
                return to_float(vm, &p);
            }
            Err(type_error(format!("float() argument must be a string or a real number, not '{}'", type_name(x))))
        }
    }
}

fn self_float(args: &Args) -> PyResult<f64> {
    match args.pos.first() {
        Some(Value::Float(f)) => Ok(f.get()),
        Some(Value::Instance(i)) => match i.builtin_value() {
            Some(Value::Float(f)) => Ok(f.get()),
            _ => Err(type_error("descriptor requires a 'float' object")),
        },
        _ => Err(type_error("descriptor requires a 'float' object")),
    }
}

fn is_integer(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(crate::numfmt::float_is_integer(self_float(&args)?)))
}

fn as_integer_ratio(_vm: &mut Vm, args: Args) -> PyResult {
    let (n, d) = crate::numfmt::float_as_integer_ratio(self_float(&args)?).map_err(num_err)?;
    Ok(Value::tuple([Value::from_bigint(n), Value::from_bigint(d)]))
}

/// `round(x)` of a float: the nearest int, ties to even.
pub fn round_to_int(x: f64) -> PyResult {
    crate::numfmt::round_half_even_to_bigint(x).map(Value::from_bigint).map_err(num_err)
}

fn float_round(vm: &mut Vm, args: Args) -> PyResult {
    let x = self_float(&args)?;
    match args.pos.get(1) {
        None | Some(Value::None) => round_to_int(x),
        Some(d) => {
            let d = match d {
                Value::BigInt(b) => {
                    if num_traits::Signed::is_negative(&**b) {
                        i64::MIN
                    } else {
                        i64::MAX
                    }
                }
                other => vm.index_value(other)?,
            };
            crate::numfmt::round_float(x, d).map(Value::float).map_err(num_err)
        }
    }
}

fn float_int(_vm: &mut Vm, args: Args) -> PyResult {
    crate::numfmt::f64_to_bigint(self_float(&args)?).map(Value::from_bigint).map_err(num_err)
}

fn float_floor(_vm: &mut Vm, args: Args) -> PyResult {
    crate::numfmt::f64_to_bigint(self_float(&args)?.floor()).map(Value::from_bigint).map_err(num_err)
}

fn float_ceil(_vm: &mut Vm, args: Args) -> PyResult {
    crate::numfmt::f64_to_bigint(self_float(&args)?.ceil()).map(Value::from_bigint).map_err(num_err)
}

fn conjugate(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::float(self_float(&args)?))
}

fn float_hex(_vm: &mut Vm, args: Args) -> PyResult {
    let x = self_float(&args)?;
    if x == 0.0 {
        return Ok(Value::str(if x.is_sign_negative() { "-0x0.0p+0" } else { "0x0.0p+0" }));
    }
    if !x.is_finite() {
        return Ok(Value::string(crate::numfmt::float_repr(x)));
    }
    let bits = x.to_bits();
    let sign = if x < 0.0 { "-" } else { "" };
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let mant = bits & ((1 << 52) - 1);
    let (lead, e) = if exp == 0 { (0, -1022) } else { (1, exp - 1023) };
    let mut m = format!("{mant:013x}");
    while m.len() > 1 && m.ends_with('0') {
        m.pop();
    }
    Ok(Value::string(format!("{sign}0x{lead}.{m}p{}{e}", if e >= 0 { "+" } else { "" })))
}

/// Install the float methods.
pub fn install(t: &'static Types) {
    let c = &t.float;
    method(c, "float", "is_integer", is_integer);
    method(c, "float", "as_integer_ratio", as_integer_ratio);
    method(c, "float", "__round__", float_round);
    method(c, "float", "__int__", float_int);
    method(c, "float", "__trunc__", float_int);
    method(c, "float", "__floor__", float_floor);
    method(c, "float", "__ceil__", float_ceil);
    method(c, "float", "conjugate", conjugate);
    method(c, "float", "hex", float_hex);
}
