//! `_decimal_digits`: the digit work the `decimal` module does on its
//! coefficients (plain ints), free of the 4300-digit limit that `str(int)`
//! and `int(str)` keep (CPython's decimal has no such limit: a Decimal of
//! a 100,000-digit coefficient prints and parses), and counting digits
//! without writing them out.

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{native_fn, type_name};
use aio_interp::{Value, Vm};
use num_bigint::{BigInt, BigUint, Sign};
use num_traits::Zero;

/// The magnitude of an int argument.
fn magnitude(name: &str, args: &Args) -> PyResult<BigUint> {
    match args.pos.first() {
        Some(Value::Int(i)) => Ok(BigUint::from(i.unsigned_abs())),
        Some(Value::Bool(b)) => Ok(BigUint::from(b.get() as u8)),
        Some(Value::BigInt(b)) => Ok(b.magnitude().clone()),
        Some(v) => Err(type_error(format!("{name}() argument must be int, not {}", type_name(v)))),
        None => Err(type_error(format!("{name}() takes exactly one argument (0 given)"))),
    }
}

/// How many decimal digits `n` has (1 for zero).
pub fn count_digits(n: &BigUint) -> u64 {
    let bits = n.bits();
    if bits <= 64 {
        let v = n.iter_u64_digits().next().unwrap_or(0);
        return if v == 0 { 1 } else { v.ilog10() as u64 + 1 };
    }
    // 2**(bits-1) <= n < 2**bits: the count is the estimate from the
    // bit length or one more, settled by one comparison with a power of
    // ten (the estimate's rounding error is far below one digit).
    let est = ((bits - 1) as f64 * std::f64::consts::LOG10_2).floor() as u64 + 1;
    let ten_est = BigUint::from(10u32).pow(est as u32);
    if *n >= ten_est {
        est + 1
    } else if *n < ten_est / 10u32 {
        est - 1
    } else {
        est
    }
}

/// `_decimal_digits.count(n)`: the number of decimal digits of `|n|`.
fn count(_vm: &mut Vm, args: Args) -> PyResult {
    let n = magnitude("count", &args)?;
    Ok(Value::Int(count_digits(&n) as i64))
}

/// `_decimal_digits.text(n)`: the decimal digits of `|n|`, any length.
fn text(_vm: &mut Vm, args: Args) -> PyResult {
    let n = magnitude("text", &args)?;
    Ok(Value::str(&n.to_str_radix(10)))
}

/// `_decimal_digits.value(s)`: the int an all-ASCII-digit str spells, any length.
fn value(_vm: &mut Vm, args: Args) -> PyResult {
    let Some(Value::Str(s)) = args.pos.first() else {
        return Err(type_error("value() argument must be str"));
    };
    let s = s.as_str();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(value_error(format!("not a run of digits: {s:?}")));
    }
    let n = BigUint::parse_bytes(s.as_bytes(), 10).unwrap_or_else(BigUint::zero);
    Ok(Value::from_bigint(BigInt::from_biguint(Sign::Plus, n)))
}

pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_decimal_digits",
        vec![("count", native_fn("count", count)), ("text", native_fn("text", text)), ("value", native_fn("value", value))],
    ))
}
