//! The `math` module: C-library float functions with CPython's error
//! rules (`math domain error`, `math range error`) and exact big-int ones.

use aio_interp::Flag;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use aio_interp::exceptions::*;
use aio_interp::numfmt::{f64_to_bigint, int_to_f64};
use aio_interp::object::*;
use aio_interp::ops::{builtin_payload, lookup_special, num_err};
use aio_interp::types::{native_fast_kw, native_fn, type_name};
use aio_interp::{Value, Vm};

// The C library's functions, as CPython calls them (Rust's own `asinh`
// and friends round differently in the last place).
extern "C" {
    fn erf(x: f64) -> f64;
    fn erfc(x: f64) -> f64;
    fn asinh(x: f64) -> f64;
    fn acosh(x: f64) -> f64;
    fn atanh(x: f64) -> f64;
    fn dlsym(handle: *mut std::ffi::c_void, symbol: *const std::ffi::c_char) -> *mut std::ffi::c_void;
}

/// The C library's `cbrt`. NB: a plain `extern` declaration links the
/// Rust runtime's own `cbrt`, which differs from glibc's in the last bit
/// (`cbrt(27.0)`), so it is looked up at run time.
fn libc_cbrt(x: f64) -> f64 {
    static CBRT: std::sync::OnceLock<Option<extern "C" fn(f64) -> f64>> = std::sync::OnceLock::new();
    let f = CBRT.get_or_init(|| {
        // SAFETY: RTLD_DEFAULT (null) with a NUL-terminated name; the result,
        // when not null, is the address of `double cbrt(double)`.
        let p = unsafe { dlsym(std::ptr::null_mut(), c"cbrt".as_ptr()) };
        if p.is_null() {
            None
        } else {
            Some(unsafe { std::mem::transmute::<*mut std::ffi::c_void, extern "C" fn(f64) -> f64>(p) })
        }
    });
    match f {
        Some(f) => f(x),
        None => x.cbrt(),
    }
}

fn domain() -> PyErr {
    value_error("math domain error")
}

fn range() -> PyErr {
    overflow_error("math range error")
}

/// A float argument: ints, floats and objects with `__float__`/`__index__`.
pub fn to_f64(vm: &mut Vm, v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => Ok(f.get()),
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(b.get() as i64 as f64),
        Value::BigInt(b) => int_to_f64(b).map_err(num_err),
        Value::Instance(_) | Value::Object(_) => {
            if let Some(f) = lookup_special(v, "__float__") {
                let r = vm.call(f, Args::new([v.clone()]))?;
                return match r {
                    Value::Float(f) => Ok(f.get()),
                    other => Err(type_error(format!("{}.__float__ returned non-float (type {})", type_name(v), type_name(&other)))),
                };
            }
            if let Some(f) = lookup_special(v, "__index__") {
                let r = vm.call(f, Args::new([v.clone()]))?;
                return to_f64(vm, &r);
            }
            match builtin_payload(v) {
                Some(p @ (Value::Float(_) | Value::Int(_) | Value::BigInt(_) | Value::Bool(_))) => to_f64(vm, &p),
                _ => Err(type_error(format!("must be real number, not {}", type_name(v)))),
            }
        }
        _ => Err(type_error(format!("must be real number, not {}", type_name(v)))),
    }
}

/// An integer argument (`__index__` semantics), as a big int.
pub fn to_int(vm: &mut Vm, v: &Value) -> PyResult<BigInt> {
    match v {
        Value::Int(i) => Ok(BigInt::from(*i)),
        Value::Bool(b) => Ok(BigInt::from(b.get() as i64)),
        Value::BigInt(b) => Ok((**b).clone()),
        _ => {
            if let Some(f) = lookup_special(v, "__index__") {
                let r = vm.call(f, Args::new([v.clone()]))?;
                return match r {
                    Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => to_int(vm, &r),
                    other => Err(type_error(format!("__index__ returned non-int (type {})", type_name(&other)))),
                };
            }
            match builtin_payload(v) {
                Some(p @ (Value::Int(_) | Value::BigInt(_) | Value::Bool(_))) => to_int(vm, &p),
                _ => Err(type_error(format!("'{}' object cannot be interpreted as an integer", type_name(v)))),
            }
        }
    }
}

fn one_arg<'a>(name: &str, args: &'a Args) -> PyResult<&'a Value> {
    no_keywords(name, args)?;
    one_pos(name, &args.pos)
}

fn no_keywords(name: &str, args: &Args) -> PyResult<()> {
    if !args.kw.is_empty() {
        return Err(type_error(format!("math.{name}() takes no keyword arguments")));
    }
    Ok(())
}

fn one_pos<'a>(name: &str, pos: &'a [Value]) -> PyResult<&'a Value> {
    match pos {
        [v] => Ok(v),
        _ => Err(type_error(format!("math.{name}() takes exactly one argument ({} given)", pos.len()))),
    }
}

fn two_args<'a>(name: &str, args: &'a Args) -> PyResult<(&'a Value, &'a Value)> {
    if !args.kw.is_empty() {
        return Err(type_error(format!("{name}() takes no keyword arguments")));
    }
    if args.pos.len() != 2 {
        return Err(type_error(format!("{name} expected 2 arguments, got {}", args.pos.len())));
    }
    Ok((&args.pos[0], &args.pos[1]))
}

/// CPython's `math_1`: apply `f`, turning a NaN from a non-NaN into a
/// domain error and an infinity from a finite value into a range error
/// (`can_overflow`) or a domain error (a singularity such as `log(0)`).
fn math_1(vm: &mut Vm, name: &str, args: &[Value], f: fn(f64) -> f64, can_overflow: bool) -> PyResult {
    let x = to_f64(vm, one_pos(name, args)?)?;
    let r = f(x);
    if r.is_nan() && !x.is_nan() {
        return Err(domain());
    }
    if r.is_infinite() && x.is_finite() {
        return Err(if can_overflow { range() } else { domain() });
    }
    Ok(Value::float(r))
}

// Each function gets a fast entry, for positional arguments where they
// lie, and a full one for a call with keywords, which it refuses.
macro_rules! unary {
    ($($fname:ident = $name:literal, $f:expr, $over:expr;)*) => {
        $(mod $fname {
            use super::*;
            pub fn pos(vm: &mut Vm, args: &[Value]) -> PyResult {
                math_1(vm, $name, args, $f, $over)
            }
            pub fn full(vm: &mut Vm, args: Args) -> PyResult {
                no_keywords($name, &args)?;
                pos(vm, &args.pos)
            }
        })*
        /// The functions of `unary!`, as the module's entries.
        const UNARY: &[(&str, FastFnPtr, NativeFnPtr)] = &[$(($name, $fname::pos, $fname::full)),*];
    };
}

unary! {
    m_sqrt = "sqrt", f64::sqrt, false;
    m_exp = "exp", f64::exp, true;
    m_exp2 = "exp2", f64::exp2, true;
    m_expm1 = "expm1", f64::exp_m1, true;
    m_cbrt = "cbrt", libc_cbrt, false;
    m_sin = "sin", f64::sin, false;
    m_cos = "cos", f64::cos, false;
    m_tan = "tan", f64::tan, false;
    m_asin = "asin", f64::asin, false;
    m_acos = "acos", f64::acos, false;
    m_atan = "atan", f64::atan, false;
    m_sinh = "sinh", f64::sinh, true;
    m_cosh = "cosh", f64::cosh, true;
    m_tanh = "tanh", f64::tanh, false;
    m_asinh = "asinh", |x| unsafe { asinh(x) }, false;
    m_acosh = "acosh", |x| unsafe { acosh(x) }, false;
    m_atanh = "atanh", |x| unsafe { atanh(x) }, false;
    m_fabs = "fabs", f64::abs, false;
    m_erf = "erf", |x| unsafe { erf(x) }, false;
    m_erfc = "erfc", |x| unsafe { erfc(x) }, false;
}

fn m_log1p(vm: &mut Vm, args: Args) -> PyResult {
    // log1p(-1) is -inf from the C library: a singularity, so a domain error.
    no_keywords("log1p", &args)?;
    math_1(vm, "log1p", &args.pos, f64::ln_1p, false)
}

/// `log` of an int or float; ints too big for a float are split into
/// mantissa and exponent first (`log(10**400)` works).
fn log_helper(vm: &mut Vm, v: &Value, f: fn(f64) -> f64) -> PyResult<f64> {
    let big = match v {
        Value::BigInt(b) => Some((**b).clone()),
        Value::Instance(_) => match builtin_payload(v) {
            Some(Value::BigInt(b)) => Some((*b).clone()),
            _ => None,
        },
        _ => None,
    };
    if let Some(b) = big {
        if !b.is_positive() {
            return Err(domain());
        }
        if let Ok(x) = int_to_f64(&b) {
            return Ok(f(x));
        }
        // b = m * 2**e with 0.5 <= m < 1, computed from the top 64 bits.
        let bits = b.bits();
        let shift = bits - 64;
        let top = (&b >> shift).to_u64().unwrap_or(u64::MAX) as f64;
        let m = top / 2f64.powi(64);
        return Ok(f(m) + f(2.0) * bits as f64);
    }
    let x = to_f64(vm, v)?;
    if x.is_nan() {
        return Ok(x);
    }
    if x <= 0.0 {
        return Err(domain());
    }
    Ok(f(x))
}

fn m_log(vm: &mut Vm, args: Args) -> PyResult {
    if !args.kw.is_empty() {
        return Err(type_error("math.log() takes no keyword arguments"));
    }
    if args.pos.is_empty() || args.pos.len() > 2 {
        return Err(type_error("math.log requires 1 to 2 arguments"));
    }
    let num = log_helper(vm, &args.pos[0], f64::ln)?;
    match args.pos.get(1) {
        None => Ok(Value::float(num)),
        Some(b) => {
            let den = log_helper(vm, b, f64::ln)?;
            if den == 0.0 {
                return Err(zero_division("float division by zero"));
            }
            Ok(Value::float(num / den))
        }
    }
}

fn m_log2(vm: &mut Vm, args: Args) -> PyResult {
    let v = one_arg("log2", &args)?.clone();
    log_helper(vm, &v, f64::log2).map(Value::float)
}

fn m_log10(vm: &mut Vm, args: Args) -> PyResult {
    let v = one_arg("log10", &args)?.clone();
    log_helper(vm, &v, f64::log10).map(Value::float)
}

fn m_pow(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = two_args("pow", &args)?;
    let (x, y) = (to_f64(vm, a)?, to_f64(vm, b)?);
    let r = if !x.is_finite() || !y.is_finite() {
        if x.is_nan() {
            if y == 0.0 {
                1.0
            } else {
                x
            }
        } else if y.is_nan() {
            if x == 1.0 {
                1.0
            } else {
                y
            }
        } else if x.is_infinite() {
            let odd_y = y.is_finite() && (y.abs() % 2.0) == 1.0;
            if y > 0.0 {
                if odd_y {
                    x
                } else {
                    x.abs()
                }
            } else if y == 0.0 {
                1.0
            } else if odd_y {
                0f64.copysign(x)
            } else {
                0.0
            }
        } else if x.abs() == 1.0 {
            1.0
        } else if (y > 0.0 && x.abs() > 1.0) || (y < 0.0 && x.abs() < 1.0) {
            f64::INFINITY
        } else {
            0.0
        }
    } else {
        let r = x.powf(y);
        if r.is_nan() {
            return Err(domain());
        }
        if r.is_infinite() {
            return Err(if x == 0.0 { domain() } else { range() });
        }
        r
    };
    Ok(Value::float(r))
}

fn m_atan2(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = two_args("atan2", &args)?;
    let (y, x) = (to_f64(vm, a)?, to_f64(vm, b)?);
    Ok(Value::float(y.atan2(x)))
}

fn m_copysign(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = two_args("copysign", &args)?;
    let (x, y) = (to_f64(vm, a)?, to_f64(vm, b)?);
    Ok(Value::float(x.copysign(y)))
}

fn m_fmod(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = two_args("fmod", &args)?;
    let (x, y) = (to_f64(vm, a)?, to_f64(vm, b)?);
    if y.is_infinite() && x.is_finite() {
        return Ok(Value::float(x));
    }
    let r = x % y;
    if r.is_nan() && !x.is_nan() && !y.is_nan() {
        return Err(domain());
    }
    Ok(Value::float(r))
}

fn m_remainder(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = two_args("remainder", &args)?;
    let (x, y) = (to_f64(vm, a)?, to_f64(vm, b)?);
    if x.is_nan() {
        return Ok(Value::float(x));
    }
    if y.is_nan() {
        return Ok(Value::float(y));
    }
    if x.is_infinite() || y == 0.0 {
        return Err(domain());
    }
    if y.is_infinite() {
        return Ok(Value::float(x));
    }
    let absx = x.abs();
    let absy = y.abs();
    let m = absx % absy;
    let c = absy - m;
    let r = if m < c {
        m
    } else if m > c {
        -c
    } else {
        // Half-way: choose the even multiple of y.
        m - 2.0 * ((0.5 * (absx - m)) % absy)
    };
    Ok(Value::float(1f64.copysign(x) * r))
}

fn m_modf(vm: &mut Vm, args: Args) -> PyResult {
    let x = to_f64(vm, one_arg("modf", &args)?)?;
    let (frac, int) = if x.is_infinite() {
        (0f64.copysign(x), x)
    } else if x.is_nan() {
        (x, x)
    } else {
        let i = x.trunc();
        ((x - i).copysign(x), i)
    };
    Ok(Value::tuple(vec![Value::float(frac), Value::float(int)]))
}

/// `x = m * 2**e` with `0.5 <= |m| < 1`.
fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(x * 2f64.powi(64));
        return (m, e - 64);
    }
    let m = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (m, exp - 1022)
}

/// `x * 2**e`, exact unless it overflows or underflows.
fn ldexp(x: f64, e: i64) -> f64 {
    let mut x = x;
    let mut e = e.clamp(-2200, 2200) as i32;
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        // Step so that only the last multiplication can round.
        let step = (-e).min(1000);
        if x.abs() * 2f64.powi(-step) < f64::MIN_POSITIVE {
            break;
        }
        x *= 2f64.powi(-step);
        e += step;
    }
    if e >= -1022 {
        x * 2f64.powi(e)
    } else {
        // Two steps keep the single rounding of a subnormal result.
        x * 2f64.powi(-1022) * 2f64.powi(e + 1022)
    }
}

fn m_frexp(vm: &mut Vm, args: Args) -> PyResult {
    let x = to_f64(vm, one_arg("frexp", &args)?)?;
    let (m, e) = frexp(x);
    Ok(Value::tuple(vec![Value::float(m), Value::Int(e as i64)]))
}

fn m_ldexp(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = two_args("ldexp", &args)?;
    let x = to_f64(vm, a)?;
    let e = match b {
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => to_int(vm, b)?,
        Value::Instance(_) if matches!(builtin_payload(b), Some(Value::Int(_) | Value::BigInt(_))) => to_int(vm, b)?,
        _ => return Err(type_error("Expected an int as second argument to ldexp.")),
    };
    if x == 0.0 || !x.is_finite() {
        return Ok(Value::float(x));
    }
    let e = e.to_i64().unwrap_or(if e.is_negative() { i64::MIN } else { i64::MAX });
    if e > i32::MAX as i64 {
        return Err(range());
    }
    if e < i32::MIN as i64 {
        return Ok(Value::float(0f64.copysign(x)));
    }
    let r = ldexp(x, e);
    if r.is_infinite() {
        return Err(range());
    }
    Ok(Value::float(r))
}

fn m_degrees(vm: &mut Vm, args: Args) -> PyResult {
    let x = to_f64(vm, one_arg("degrees", &args)?)?;
    Ok(Value::float(x * (180.0 / std::f64::consts::PI)))
}

fn m_radians(vm: &mut Vm, args: Args) -> PyResult {
    let x = to_f64(vm, one_arg("radians", &args)?)?;
    Ok(Value::float(x * (std::f64::consts::PI / 180.0)))
}

fn m_isfinite(vm: &mut Vm, args: Args) -> PyResult {
    let x = to_f64(vm, one_arg("isfinite", &args)?)?;
    Ok(Value::bool(x.is_finite()))
}

fn m_isinf(vm: &mut Vm, args: Args) -> PyResult {
    let x = to_f64(vm, one_arg("isinf", &args)?)?;
    Ok(Value::bool(x.is_infinite()))
}

fn m_isnan(vm: &mut Vm, args: Args) -> PyResult {
    let x = to_f64(vm, one_arg("isnan", &args)?)?;
    Ok(Value::bool(x.is_nan()))
}

fn m_ulp(vm: &mut Vm, args: Args) -> PyResult {
    let x = to_f64(vm, one_arg("ulp", &args)?)?;
    if x.is_nan() {
        return Ok(Value::float(x));
    }
    let x = x.abs();
    if x.is_infinite() {
        return Ok(Value::float(x));
    }
    let next = next_after(x, f64::INFINITY);
    if next.is_infinite() {
        let prev = next_after(x, -f64::INFINITY);
        return Ok(Value::float(x - prev));
    }
    Ok(Value::float(next - x))
}

fn next_after(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return x + y;
    }
    if x == y {
        return y;
    }
    if x == 0.0 {
        return f64::from_bits(1).copysign(y);
    }
    let bits = x.to_bits();
    let up = (y > x) == (x > 0.0);
    f64::from_bits(if up { bits + 1 } else { bits - 1 })
}

fn m_nextafter(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = two_args("nextafter", &args)?;
    let (x, y) = (to_f64(vm, a)?, to_f64(vm, b)?);
    Ok(Value::float(next_after(x, y)))
}

// ------------------------------------------------------------ gamma

// The Lanczos approximation's constants, written with all their published
// digits; each rounds to the nearest f64.
#[allow(clippy::excessive_precision)]
const LANCZOS_G: f64 = 6.024_680_040_776_729_583_740_234_375;
#[allow(clippy::excessive_precision)]
const LANCZOS_G_MINUS_HALF: f64 = 5.524_680_040_776_729_583_740_234_375;
#[allow(clippy::excessive_precision)]
const LANCZOS_NUM: [f64; 13] = [
    23531376880.410759688572007674451636754734846804940,
    42919803642.649098768957899047001988850926355848959,
    35711959237.355668049440185451547166705960488635843,
    17921034426.037209699919755754458931112671403265390,
    6039542586.3520280050642916443072979210699388420708,
    1439720407.3117216736632230727949123939715485786772,
    248874557.86205415651146038641322942321632125127801,
    31426415.585400194380614231628318205362874684987640,
    2876370.6289353724412254090516208496135991145378768,
    186056.26539522349504029498971604569928220784236328,
    8071.6720023658162106380029022722506138218516325024,
    210.82427775157934587250973392071336271166969580291,
    2.5066282746310002701649081771338373386264310793408,
];
const LANCZOS_DEN: [f64; 13] =
    [0.0, 39916800.0, 120543840.0, 150917976.0, 105258076.0, 45995730.0, 13339535.0, 2637558.0, 357423.0, 32670.0, 1925.0, 66.0, 1.0];

/// The Lanczos sum for `x > 0`, evaluated in the direction that keeps it accurate.
fn lanczos_sum(x: f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    if x < 5.0 {
        for i in (0..13).rev() {
            num = num * x + LANCZOS_NUM[i];
            den = den * x + LANCZOS_DEN[i];
        }
    } else {
        for i in 0..13 {
            num = num / x + LANCZOS_NUM[i];
            den = den / x + LANCZOS_DEN[i];
        }
    }
    num / den
}

/// `sin(pi * x)`, exact at the integers and half-integers.
fn sinpi(x: f64) -> f64 {
    use std::f64::consts::PI;
    let y = x.abs() % 2.0;
    let n = (2.0 * y).round() as i32;
    let r = match n {
        0 => (PI * y).sin(),
        1 => (PI * (y - 0.5)).cos(),
        2 => (PI * (1.0 - y)).sin(),
        3 => -(PI * (y - 1.5)).cos(),
        _ => (PI * (y - 2.0)).sin(),
    };
    1f64.copysign(x) * r
}

/// How a gamma computation failed: a pole or invalid argument, or overflow.
enum MathErr {
    Domain,
    Range,
}

fn tgamma(x: f64) -> Result<f64, MathErr> {
    use std::f64::consts::PI;
    if !x.is_finite() {
        return if x.is_nan() || x > 0.0 { Ok(x) } else { Err(MathErr::Domain) };
    }
    if x == 0.0 {
        return Err(MathErr::Domain);
    }
    if x == x.floor() {
        if x < 0.0 {
            return Err(MathErr::Domain);
        }
        if x <= 23.0 {
            return Ok(range_product(1, x as u64).to_f64().unwrap_or(f64::INFINITY));
        }
    }
    let absx = x.abs();
    if absx < 1e-20 {
        let r = 1.0 / x;
        return if r.is_infinite() { Err(MathErr::Range) } else { Ok(r) };
    }
    if absx > 200.0 {
        return if x < 0.0 { Ok(0.0 / sinpi(x)) } else { Err(MathErr::Range) };
    }
    let y = absx + LANCZOS_G_MINUS_HALF;
    let z = if absx > LANCZOS_G_MINUS_HALF {
        let q = y - absx;
        q - LANCZOS_G_MINUS_HALF
    } else {
        let q = y - LANCZOS_G_MINUS_HALF;
        q - absx
    };
    let z = z * LANCZOS_G / y;
    let r = if x < 0.0 {
        let mut r = -PI / sinpi(absx) / absx * y.exp() / lanczos_sum(absx);
        r -= z * r;
        if absx < 140.0 {
            r /= y.powf(absx - 0.5);
        } else {
            let sqrtpow = y.powf(absx / 2.0 - 0.25);
            r /= sqrtpow;
            r /= sqrtpow;
        }
        r
    } else {
        let mut r = lanczos_sum(absx) / y.exp();
        r += z * r;
        if absx < 140.0 {
            r *= y.powf(absx - 0.5);
        } else {
            let sqrtpow = y.powf(absx / 2.0 - 0.25);
            r *= sqrtpow;
            r *= sqrtpow;
        }
        r
    };
    if r.is_infinite() {
        return Err(MathErr::Range);
    }
    Ok(r)
}

fn lgamma(x: f64) -> Result<f64, MathErr> {
    if !x.is_finite() {
        return Ok(if x.is_nan() { x } else { f64::INFINITY });
    }
    if x == x.floor() && x <= 2.0 {
        return if x <= 0.0 { Err(MathErr::Domain) } else { Ok(0.0) };
    }
    let absx = x.abs();
    if absx < 1e-20 {
        return Ok(-absx.ln());
    }
    let mut r = lanczos_sum(absx).ln() - LANCZOS_G;
    r += (absx - 0.5) * ((absx + LANCZOS_G - 0.5).ln() - 1.0);
    if x < 0.0 {
        // The reflection formula for negative x.
        r = std::f64::consts::PI.ln() - sinpi(absx).abs().ln() - absx.ln() - r;
    }
    if r.is_infinite() {
        return Err(MathErr::Range);
    }
    Ok(r)
}

fn gamma_like(vm: &mut Vm, name: &str, args: &Args, f: fn(f64) -> Result<f64, MathErr>) -> PyResult {
    let x = to_f64(vm, one_arg(name, args)?)?;
    match f(x) {
        Ok(r) => Ok(Value::float(r)),
        Err(MathErr::Domain) => Err(domain()),
        Err(MathErr::Range) => Err(range()),
    }
}

fn m_gamma(vm: &mut Vm, args: Args) -> PyResult {
    gamma_like(vm, "gamma", &args, tgamma)
}

fn m_lgamma(vm: &mut Vm, args: Args) -> PyResult {
    gamma_like(vm, "lgamma", &args, lgamma)
}

// ------------------------------------------------------------ rounding to int

/// `floor`/`ceil`: ints come back unchanged, objects may define
/// `__floor__`/`__ceil__`, anything else goes through float.
fn round_to_int(vm: &mut Vm, name: &str, args: &[Value], dunder: &'static str, f: fn(f64) -> f64) -> PyResult {
    let v = one_pos(name, args)?;
    match v {
        Value::Int(_) | Value::BigInt(_) => return Ok(v.clone()),
        Value::Bool(b) => return Ok(Value::Int(b.get() as i64)),
        Value::Float(x) => return f64_to_bigint(f(x.get())).map(Value::from_bigint).map_err(num_err),
        Value::Instance(_) | Value::Object(_) => {
            if let Some(m) = lookup_special(v, dunder) {
                return vm.call(m, Args::new([v.clone()]));
            }
            if let Some(p @ (Value::Int(_) | Value::BigInt(_) | Value::Bool(_))) = builtin_payload(v) {
                return Ok(Value::from_bigint(to_int(vm, &p)?));
            }
        }
        _ => {}
    }
    let x = to_f64(vm, v)?;
    f64_to_bigint(f(x)).map(Value::from_bigint).map_err(num_err)
}

fn m_floor(vm: &mut Vm, args: &[Value]) -> PyResult {
    round_to_int(vm, "floor", args, "__floor__", f64::floor)
}

fn m_ceil(vm: &mut Vm, args: &[Value]) -> PyResult {
    round_to_int(vm, "ceil", args, "__ceil__", f64::ceil)
}

// The full entries of `floor`, `ceil` and `trunc`, taken only by a call
// with keywords, which they refuse.
macro_rules! refusing_keywords {
    ($($full:ident = $pos:ident, $name:literal;)*) => {
        $(fn $full(vm: &mut Vm, args: Args) -> PyResult {
            no_keywords($name, &args)?;
            $pos(vm, &args.pos)
        })*
    };
}

refusing_keywords! {
    m_floor_full = m_floor, "floor";
    m_ceil_full = m_ceil, "ceil";
    m_trunc_full = m_trunc, "trunc";
}

fn m_trunc(vm: &mut Vm, args: &[Value]) -> PyResult {
    let v = one_pos("trunc", args)?;
    match v {
        Value::Int(_) | Value::BigInt(_) => Ok(v.clone()),
        Value::Bool(b) => Ok(Value::Int(b.get() as i64)),
        Value::Float(x) => f64_to_bigint(x.get()).map(Value::from_bigint).map_err(num_err),
        _ => {
            if let Some(m) = lookup_special(v, "__trunc__") {
                return vm.call(m, Args::new([v.clone()]));
            }
            match builtin_payload(v) {
                Some(p @ (Value::Int(_) | Value::BigInt(_) | Value::Bool(_) | Value::Float(_))) => m_trunc(vm, &[p]),
                _ => Err(type_error(format!("type {} doesn't define __trunc__ method", type_name(v)))),
            }
        }
    }
}

// ------------------------------------------------------------ integers

fn m_gcd(vm: &mut Vm, args: Args) -> PyResult {
    if !args.kw.is_empty() {
        return Err(type_error("gcd() takes no keyword arguments"));
    }
    let mut g = BigInt::zero();
    let mut small: u64 = 0;
    let mut all_small = true;
    for a in args.pos.iter() {
        match a {
            Value::Int(i) if all_small => small = gcd_u64(small, i.unsigned_abs()),
            _ => {
                if all_small {
                    all_small = false;
                    g = BigInt::from(small);
                }
                g = gcd_big(g, to_int(vm, a)?);
            }
        }
    }
    Ok(if all_small { Value::from_bigint(BigInt::from(small)) } else { Value::from_bigint(g) })
}

/// Binary gcd of two machine words.
fn gcd_u64(mut a: u64, mut b: u64) -> u64 {
    if a == 0 || b == 0 {
        return a | b;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// The gcd of two big integers, by Lehmer's method: the quotients of
/// Euclid's algorithm are found from the leading 62 bits of both numbers in
/// machine arithmetic, and only their combined effect (a 2x2 matrix of
/// cofactors) is applied to the full numbers, in place, in one pass over
/// their limbs; each pass stands for dozens of Euclid steps. num-bigint's
/// own gcd (binary, bit by bit over the full width) is many times slower on
/// the sizes Fraction arithmetic makes. Once both fit a word the binary gcd
/// finishes.
fn gcd_big(a: BigInt, b: BigInt) -> BigInt {
    let (a, b) = (a.into_parts().1, b.into_parts().1);
    let (a, b) = if a >= b { (a, b) } else { (b, a) };
    let (mut a, mut b) = (a.to_u32_digits(), b.to_u32_digits());
    while b.len() > 2 {
        let bits = a.len() * 32 - a[a.len() - 1].leading_zeros() as usize;
        let shift = bits - 62;
        let (mut x, mut y) = (window(&a, shift), window(&b, shift));
        let (mut ca, mut cb, mut cc, mut cd) = (1i128, 0i128, 0i128, 1i128);
        while y + cc != 0 && y + cd != 0 {
            let q = (x + ca) / (y + cc);
            if q != (x + cb) / (y + cd) {
                break;
            }
            (ca, cc) = (cc, ca - q * cc);
            (cb, cd) = (cd, cb - q * cd);
            (x, y) = (y, x - q * y);
        }
        if cb == 0 {
            // The leading bits decided nothing (the quotient is too large
            // for them): one full division step.
            let (big_a, big_b) = (num_bigint::BigUint::new(a), num_bigint::BigUint::new(b));
            let r = &big_a % &big_b;
            (a, b) = (big_b.to_u32_digits(), r.to_u32_digits());
            continue;
        }
        // a, b = ca*a + cb*b, cc*a + cd*b: the cofactors stay below 2**62,
        // so each limb's terms and carry fit an i128.
        let (mut carry_a, mut carry_b) = (0i128, 0i128);
        for i in 0..a.len() {
            let (ai, bi) = (a[i] as i128, b.get(i).copied().unwrap_or(0) as i128);
            let ta = ca * ai + cb * bi + carry_a;
            let tb = cc * ai + cd * bi + carry_b;
            a[i] = ta as u32;
            if i < b.len() {
                b[i] = tb as u32;
            } else {
                b.push(tb as u32);
            }
            carry_a = ta >> 32;
            carry_b = tb >> 32;
        }
        while a.last() == Some(&0) {
            a.pop();
        }
        while b.last() == Some(&0) {
            b.pop();
        }
        if a.len() < b.len() || (a.len() == b.len() && a.iter().rev().lt(b.iter().rev())) {
            std::mem::swap(&mut a, &mut b);
        }
    }
    let (a, b) = (num_bigint::BigUint::new(a), num_bigint::BigUint::new(b));
    let Some(small_b) = b.to_u64() else { unreachable!("the loop leaves b within two limbs") };
    if small_b == 0 {
        return BigInt::from(a);
    }
    let Some(r) = (&a % &b).to_u64() else { unreachable!("a remainder of a word-sized divisor fits a word") };
    BigInt::from(gcd_u64(small_b, r))
}

/// The 62 bits of the little-endian limbs `v` from bit `shift` up.
fn window(v: &[u32], shift: usize) -> i128 {
    let (limb, bit) = (shift / 32, shift % 32);
    let mut w: u128 = 0;
    for k in (0..3).rev() {
        w = (w << 32) | v.get(limb + k).copied().unwrap_or(0) as u128;
    }
    ((w >> bit) & ((1u128 << 62) - 1)) as i128
}

fn m_lcm(vm: &mut Vm, args: Args) -> PyResult {
    if !args.kw.is_empty() {
        return Err(type_error("lcm() takes no keyword arguments"));
    }
    let mut l = BigInt::one();
    for a in args.pos.iter() {
        let n = to_int(vm, a)?;
        if l.is_zero() || n.is_zero() {
            l = BigInt::zero();
        } else {
            l = l.lcm(&n);
        }
    }
    Ok(Value::from_bigint(l.abs()))
}

fn m_isqrt(vm: &mut Vm, args: Args) -> PyResult {
    let n = to_int(vm, one_arg("isqrt", &args)?)?;
    if n.is_negative() {
        return Err(value_error("isqrt() argument must be nonnegative"));
    }
    Ok(Value::from_bigint(n.sqrt()))
}

/// The product of the integers in `lo..hi`, by binary splitting.
fn range_product(lo: u64, hi: u64) -> BigInt {
    if hi <= lo {
        return BigInt::one();
    }
    if hi - lo <= 16 {
        let mut p = BigInt::one();
        let mut acc: u128 = 1;
        for i in lo..hi {
            match acc.checked_mul(i as u128) {
                Some(a) if a < (1u128 << 120) => acc = a,
                _ => {
                    p *= acc;
                    acc = i as u128;
                }
            }
        }
        return p * acc;
    }
    let mid = lo + (hi - lo) / 2;
    range_product(lo, mid) * range_product(mid, hi)
}

fn m_factorial(vm: &mut Vm, args: Args) -> PyResult {
    let n = to_int(vm, one_arg("factorial", &args)?)?;
    if n.is_negative() {
        return Err(value_error("factorial() not defined for negative values"));
    }
    let Some(n) = n.to_u64().filter(|&n| n <= i64::MAX as u64) else {
        return Err(overflow_error("factorial() argument should not exceed 9223372036854775807"));
    };
    Ok(Value::from_bigint(range_product(1, n + 1)))
}

/// `comb`'s and `perm`'s checks: both non-negative (else ValueError); false
/// when `k > n`, where both are 0.
fn n_k_in_range(n: &BigInt, k: &BigInt) -> PyResult<bool> {
    if n.is_negative() {
        return Err(value_error("n must be a non-negative integer"));
    }
    if k.is_negative() {
        return Err(value_error("k must be a non-negative integer"));
    }
    Ok(k <= n)
}

fn m_comb(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = two_args("comb", &args)?;
    let n = to_int(vm, a)?;
    let k = to_int(vm, b)?;
    if !n_k_in_range(&n, &k)? {
        return Ok(Value::Int(0));
    }
    let k = std::cmp::min(k.clone(), &n - &k);
    let Some(k) = k.to_u64() else {
        return Err(overflow_error(format!("min(n - k, k) must not exceed {}", i64::MAX)));
    };
    // C(n, k) = prod_{i=1..k} (n - k + i) / i, exact at each step.
    let mut r = BigInt::one();
    let base = &n - BigInt::from(k);
    for i in 1..=k {
        r = r * (&base + BigInt::from(i)) / BigInt::from(i);
    }
    Ok(Value::from_bigint(r))
}

fn m_perm(vm: &mut Vm, args: Args) -> PyResult {
    if !args.kw.is_empty() {
        return Err(type_error("perm() takes no keyword arguments"));
    }
    if args.pos.is_empty() || args.pos.len() > 2 {
        return Err(type_error(if args.pos.is_empty() {
            "perm expected at least 1 argument, got 0".to_string()
        } else {
            format!("perm expected at most 2 arguments, got {}", args.pos.len())
        }));
    }
    let n = to_int(vm, &args.pos[0])?;
    let k = match args.pos.get(1) {
        None | Some(Value::None) => None,
        Some(k) => Some(to_int(vm, k)?),
    };
    let Some(k) = k else {
        return m_factorial(vm, Args::new([Value::from_bigint(n)]));
    };
    if !n_k_in_range(&n, &k)? {
        return Ok(Value::Int(0));
    }
    let Some(k) = k.to_u64() else {
        return Err(overflow_error(format!("k must not exceed {}", i64::MAX)));
    };
    let mut r = BigInt::one();
    let mut f = n.clone();
    for _ in 0..k {
        r *= &f;
        f -= 1;
    }
    Ok(Value::from_bigint(r))
}

// ------------------------------------------------------------ sums and norms

fn m_fsum(vm: &mut Vm, args: Args) -> PyResult {
    let src = one_arg("fsum", &args)?.clone();
    let it = vm.iter(&src)?;
    let mut p: Vec<f64> = Vec::new();
    let mut special_sum = 0.0f64;
    let mut inf_sum = 0.0f64;
    while let Some(item) = vm.next(&it)? {
        let mut x = to_f64(vm, &item)?;
        let xsave = x;
        let mut i = 0;
        for j in 0..p.len() {
            let mut y = p[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let yr = hi - x;
            let lo = y - yr;
            if lo != 0.0 {
                p[i] = lo;
                i += 1;
            }
            x = hi;
        }
        p.truncate(i);
        if x != 0.0 {
            if !x.is_finite() {
                if xsave.is_finite() {
                    return Err(overflow_error("intermediate overflow in fsum"));
                }
                if xsave.is_infinite() {
                    inf_sum += xsave;
                }
                special_sum += xsave;
                p.clear();
            } else {
                p.push(x);
            }
        }
    }
    if special_sum != 0.0 {
        if inf_sum.is_nan() {
            return Err(value_error("-inf + inf in fsum"));
        }
        return Ok(Value::float(special_sum));
    }
    let mut hi = 0.0;
    let mut n = p.len();
    if n > 0 {
        n -= 1;
        hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        // Half-even rounding across several partials.
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
    }
    Ok(Value::float(hi))
}

/// CPython's `vector_norm`: the Euclidean norm of finite non-negative
/// values whose largest is `max`, correctly rounded in nearly all cases.
fn vector_norm(vec: &mut [f64], max: f64, found_nan: bool) -> f64 {
    if max.is_infinite() {
        return max;
    }
    if found_nan {
        return f64::NAN;
    }
    if max == 0.0 || vec.len() <= 1 {
        return max;
    }
    let (_, max_e) = frexp(max);
    if max_e < -1023 {
        for x in vec.iter_mut() {
            *x /= f64::MIN_POSITIVE;
        }
        return f64::MIN_POSITIVE * vector_norm(vec, max / f64::MIN_POSITIVE, found_nan);
    }
    let scale = ldexp(1.0, -max_e as i64);
    let mut csum = 1.0f64;
    let mut frac1 = 0.0f64;
    let mut frac2 = 0.0f64;
    for &v in vec.iter() {
        let x = v * scale;
        let pr_hi = x * x;
        let pr_lo = x.mul_add(x, -pr_hi);
        let sm_hi = csum + pr_hi;
        let sm_lo = (csum - sm_hi) + pr_hi;
        csum = sm_hi;
        frac1 += pr_lo;
        frac2 += sm_lo;
    }
    let mut h = (csum - 1.0 + (frac1 + frac2)).sqrt();
    let pr_hi = -h * h;
    let pr_lo = (-h).mul_add(h, -pr_hi);
    let sm_hi = csum + pr_hi;
    let sm_lo = (csum - sm_hi) + pr_hi;
    csum = sm_hi;
    frac1 += pr_lo;
    frac2 += sm_lo;
    let x = csum - 1.0 + (frac1 + frac2);
    h += x / (2.0 * h);
    h / scale
}

fn m_hypot(vm: &mut Vm, args: Args) -> PyResult {
    if !args.kw.is_empty() {
        return Err(type_error("hypot() takes no keyword arguments"));
    }
    let mut v = Vec::with_capacity(args.pos.len());
    let mut max = 0.0f64;
    let mut found_nan = false;
    for a in args.pos.iter() {
        let x = to_f64(vm, a)?.abs();
        found_nan |= x.is_nan();
        if x > max {
            max = x;
        }
        v.push(x);
    }
    Ok(Value::float(vector_norm(&mut v, max, found_nan)))
}

fn m_dist(vm: &mut Vm, args: Args) -> PyResult {
    let (p, q) = two_args("dist", &args)?;
    let (p, q) = (p.clone(), q.clone());
    let p = vm.collect(&p)?;
    let q = vm.collect(&q)?;
    if p.len() != q.len() {
        return Err(value_error("both points must have the same number of dimensions"));
    }
    let mut v = Vec::with_capacity(p.len());
    let mut max = 0.0f64;
    let mut found_nan = false;
    for (a, b) in p.iter().zip(q.iter()) {
        let x = (to_f64(vm, a)? - to_f64(vm, b)?).abs();
        found_nan |= x.is_nan();
        if x > max {
            max = x;
        }
        v.push(x);
    }
    Ok(Value::float(vector_norm(&mut v, max, found_nan)))
}

fn m_prod(vm: &mut Vm, mut args: Args) -> PyResult {
    let start = args.take_kw("start").unwrap_or(Value::Int(1));
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("'{}' is an invalid keyword argument for prod()", k.as_str())));
    }
    if args.pos.len() != 1 {
        return Err(type_error(format!("prod() takes exactly 1 positional argument ({} given)", args.pos.len())));
    }
    let it = vm.iter(&args.pos[0])?;
    let mut acc = start;
    while let Some(x) = vm.next(&it)? {
        acc = vm.binary(aio_interp::ops::MUL, &acc, &x)?;
    }
    Ok(acc)
}

/// The arguments of `isclose(a, b, *, rel_tol=1e-09, abs_tol=0.0)` (math's
/// and cmath's): the two values, then the checked tolerances.
pub fn isclose_args(vm: &mut Vm, mut args: Args) -> PyResult<(Value, Value, f64, f64)> {
    let rel = args.take_kw("rel_tol");
    let abs = args.take_kw("abs_tol");
    let a = match args.pos.first().cloned().or_else(|| args.take_kw("a")) {
        Some(a) => a,
        None => return Err(type_error("isclose() missing required argument 'a' (pos 1)")),
    };
    let b = match args.pos.get(1).cloned().or_else(|| args.take_kw("b")) {
        Some(b) => b,
        None => return Err(type_error("isclose() missing required argument 'b' (pos 2)")),
    };
    if args.pos.len() > 2 {
        return Err(type_error(format!("isclose() takes exactly 2 positional arguments ({} given)", args.pos.len())));
    }
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("isclose() got an unexpected keyword argument '{}'", k.as_str())));
    }
    let rel = match rel {
        Some(r) => to_f64(vm, &r)?,
        None => 1e-9,
    };
    let abs = match abs {
        Some(r) => to_f64(vm, &r)?,
        None => 0.0,
    };
    if rel < 0.0 || abs < 0.0 {
        return Err(value_error("tolerances must be non-negative"));
    }
    Ok((a, b, rel, abs))
}

fn m_isclose(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b, rel, abs) = isclose_args(vm, args)?;
    let a = to_f64(vm, &a)?;
    let b = to_f64(vm, &b)?;
    if a == b {
        return Ok(Value::Bool(Flag::TRUE));
    }
    if a.is_infinite() || b.is_infinite() {
        return Ok(Value::Bool(Flag::FALSE));
    }
    let diff = (b - a).abs();
    Ok(Value::bool((diff <= (rel * b).abs()) || (diff <= (rel * a).abs()) || (diff <= abs)))
}

/// Build the `math` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] = &[
        ("isqrt", m_isqrt),
        ("log", m_log),
        ("log2", m_log2),
        ("log10", m_log10),
        ("log1p", m_log1p),
        ("pow", m_pow),
        ("atan2", m_atan2),
        ("gamma", m_gamma),
        ("lgamma", m_lgamma),
        ("copysign", m_copysign),
        ("fmod", m_fmod),
        ("remainder", m_remainder),
        ("modf", m_modf),
        ("frexp", m_frexp),
        ("ldexp", m_ldexp),
        ("degrees", m_degrees),
        ("radians", m_radians),
        ("isfinite", m_isfinite),
        ("isinf", m_isinf),
        ("isnan", m_isnan),
        ("isclose", m_isclose),
        ("ulp", m_ulp),
        ("nextafter", m_nextafter),
        ("gcd", m_gcd),
        ("lcm", m_lcm),
        ("factorial", m_factorial),
        ("comb", m_comb),
        ("perm", m_perm),
        ("prod", m_prod),
        ("fsum", m_fsum),
        ("hypot", m_hypot),
        ("dist", m_dist),
    ];
    let mut entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    let rounding: &[(&str, FastFnPtr, NativeFnPtr)] =
        &[("floor", m_floor, m_floor_full), ("ceil", m_ceil, m_ceil_full), ("trunc", m_trunc, m_trunc_full)];
    entries.extend(UNARY.iter().chain(rounding).map(|(n, f, full)| (*n, native_fast_kw(n, *f, *full))));
    entries.push(("pi", Value::float(std::f64::consts::PI)));
    entries.push(("e", Value::float(std::f64::consts::E)));
    entries.push(("tau", Value::float(std::f64::consts::TAU)));
    entries.push(("inf", Value::float(f64::INFINITY)));
    entries.push(("nan", Value::float(f64::NAN)));
    Ok(vm.make_native_module("math", entries))
}
