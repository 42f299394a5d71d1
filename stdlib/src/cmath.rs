//! The `cmath` module: complex square roots, exponentials, logarithms and
//! trigonometry, computed as CPython computes them (scaled to avoid
//! overflow, the same branch cuts) with its `math domain error` and
//! `math range error`.

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::ops::{lookup_special, num_err};
use aio_interp::types::complex::{self, Complex};
use aio_interp::types::{native_fn, type_name};
use aio_interp::{Value, Vm};

extern "C" {
    // Rust's own `asinh` rounds differently from the C library's in the
    // last place; CPython calls the C library's.
    fn asinh(x: f64) -> f64;
    // The C library's complex functions follow C99's Annex G for infinite
    // and NaN parts, as CPython's tables of special values do.
    fn csqrt(z: CDouble) -> CDouble;
    fn cexp(z: CDouble) -> CDouble;
    fn clog(z: CDouble) -> CDouble;
    fn ccosh(z: CDouble) -> CDouble;
    fn csinh(z: CDouble) -> CDouble;
    fn ctanh(z: CDouble) -> CDouble;
    fn casinh(z: CDouble) -> CDouble;
    fn cacosh(z: CDouble) -> CDouble;
    fn catanh(z: CDouble) -> CDouble;
    fn cacos(z: CDouble) -> CDouble;
}

/// A C `double complex`: two doubles, passed as C passes the complex type.
#[repr(C)]
#[derive(Clone, Copy)]
struct CDouble {
    re: f64,
    im: f64,
}

/// `f(z)` by the C library, for a `z` with an infinite or NaN part.
fn annex_g(f: unsafe extern "C" fn(CDouble) -> CDouble, z: Complex) -> Complex {
    // SAFETY: the C library's complex functions are pure functions of a
    // value passed and returned in registers.
    // CPython's tables ignore the sign of a NaN; the C library copies it.
    let unsign = |x: f64| if x.is_nan() { f64::NAN } else { x };
    let r = unsafe { f(CDouble { re: unsign(z.re), im: unsign(z.im) }) };
    c(r.re, r.im)
}

const LARGE: f64 = f64::MAX / 4.0;
const LN2: f64 = std::f64::consts::LN_2;
const SCALE_UP: i32 = 53;
const SCALE_DOWN: i32 = -27;

fn sqrt_large() -> f64 {
    LARGE.sqrt()
}
fn log_large() -> f64 {
    LARGE.ln()
}

fn ldexp(x: f64, e: i32) -> f64 {
    x * 2f64.powi(e)
}

fn c(re: f64, im: f64) -> Complex {
    Complex { re, im }
}

fn domain() -> PyErr {
    value_error("math domain error")
}

fn range() -> PyErr {
    overflow_error("math range error")
}

/// A cmath argument: a complex, anything with `__complex__`, or a real number.
pub fn to_complex(vm: &mut Vm, v: &Value) -> PyResult<Complex> {
    if let Some(z) = complex::get(v) {
        return Ok(z);
    }
    if let Some(f) = lookup_special(v, "__complex__") {
        let r = vm.call(f, Args::new([v.clone()]))?;
        return complex::get(&r).ok_or_else(|| type_error(format!("__complex__ returned non-complex (type {})", type_name(&r))));
    }
    Ok(c(to_real(vm, v)?, 0.0))
}

fn to_real(vm: &mut Vm, v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => Ok(f.get()),
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(b.get() as i64 as f64),
        Value::BigInt(b) => aio_interp::numfmt::int_to_f64(b).map_err(num_err),
        _ => {
            if lookup_special(v, "__float__").is_some() || lookup_special(v, "__index__").is_some() {
                return aio_interp::types::float::to_float(vm, v);
            }
            if let Some(p) = aio_interp::ops::builtin_payload(v) {
                return to_real(vm, &p);
            }
            Err(type_error(format!("must be real number, not {}", type_name(v))))
        }
    }
}

fn one_arg(vm: &mut Vm, name: &str, args: &Args) -> PyResult<Complex> {
    if !args.kw.is_empty() {
        return Err(type_error(format!("cmath.{name}() takes no keyword arguments")));
    }
    if args.pos.len() != 1 {
        return Err(type_error(format!("cmath.{name}() takes exactly one argument ({} given)", args.pos.len())));
    }
    to_complex(vm, &args.pos[0])
}

fn finite(z: Complex) -> bool {
    z.re.is_finite() && z.im.is_finite()
}

// ------------------------------------------------------------ the functions

/// The principal square root, with the sum under the root scaled so that
/// neither overflow nor underflow loses digits.
pub fn sqrt(z: Complex) -> Complex {
    if !finite(z) {
        return annex_g(csqrt, z);
    }
    if z.re == 0.0 && z.im == 0.0 {
        return c(0.0, z.im);
    }
    let mut ax = z.re.abs();
    let ay = z.im.abs();
    let s = if ax < f64::MIN_POSITIVE && ay < f64::MIN_POSITIVE {
        ax = ldexp(ax, SCALE_UP);
        ldexp((ax + ax.hypot(ldexp(ay, SCALE_UP))).sqrt(), SCALE_DOWN)
    } else {
        ax /= 8.0;
        2.0 * (ax + ax.hypot(ay / 8.0)).sqrt()
    };
    let d = ay / (2.0 * s);
    if z.re >= 0.0 {
        c(s, d.copysign(z.im))
    } else {
        c(d, s.copysign(z.im))
    }
}

fn exp(z: Complex) -> PyResult<Complex> {
    if !finite(z) {
        if z.im.is_infinite() && (z.re.is_finite() || z.re == f64::INFINITY) {
            return Err(domain());
        }
        return Ok(annex_g(cexp, z));
    }
    let r = if z.re > log_large() {
        let l = (z.re - 1.0).exp();
        c(l * z.im.cos() * std::f64::consts::E, l * z.im.sin() * std::f64::consts::E)
    } else {
        let l = z.re.exp();
        c(l * z.im.cos(), l * z.im.sin())
    };
    if r.re.is_infinite() || r.im.is_infinite() {
        return Err(range());
    }
    Ok(r)
}

/// The natural logarithm; `None` for zero (a domain error).
fn log(z: Complex) -> Option<Complex> {
    if !finite(z) {
        return Some(annex_g(clog, z));
    }
    let ax = z.re.abs();
    let ay = z.im.abs();
    let re = if ax > LARGE || ay > LARGE {
        (ax / 2.0).hypot(ay / 2.0).ln() + LN2
    } else if ax < f64::MIN_POSITIVE && ay < f64::MIN_POSITIVE {
        if ax > 0.0 || ay > 0.0 {
            ldexp(ax, 53).hypot(ldexp(ay, 53)).ln() - 53.0 * LN2
        } else {
            return None;
        }
    } else {
        let h = ax.hypot(ay);
        if (0.71..=1.73).contains(&h) {
            let (am, an) = if ax > ay { (ax, ay) } else { (ay, ax) };
            ((am - 1.0) * (am + 1.0) + an * an).ln_1p() / 2.0
        } else {
            h.ln()
        }
    };
    Some(c(re, z.im.atan2(z.re)))
}

fn overflowed(r: Complex) -> PyResult<Complex> {
    if r.re.is_infinite() || r.im.is_infinite() {
        Err(range())
    } else {
        Ok(r)
    }
}

fn cosh(z: Complex) -> PyResult<Complex> {
    if !finite(z) {
        if z.im.is_infinite() && !z.re.is_nan() {
            return Err(domain());
        }
        return Ok(annex_g(ccosh, z));
    }
    let r = if z.re.abs() > log_large() {
        let x = z.re - 1f64.copysign(z.re);
        c(z.im.cos() * x.cosh() * std::f64::consts::E, z.im.sin() * x.sinh() * std::f64::consts::E)
    } else {
        c(z.im.cos() * z.re.cosh(), z.im.sin() * z.re.sinh())
    };
    overflowed(r)
}

fn sinh(z: Complex) -> PyResult<Complex> {
    if !finite(z) {
        if z.im.is_infinite() && !z.re.is_nan() {
            return Err(domain());
        }
        if z.re == 0.0 && z.im.is_nan() {
            return Ok(c(0.0, f64::NAN));
        }
        return Ok(annex_g(csinh, z));
    }
    let r = if z.re.abs() > log_large() {
        let x = z.re - 1f64.copysign(z.re);
        c(z.im.cos() * x.sinh() * std::f64::consts::E, z.im.sin() * x.cosh() * std::f64::consts::E)
    } else {
        c(z.im.cos() * z.re.sinh(), z.im.sin() * z.re.cosh())
    };
    overflowed(r)
}

fn tanh(z: Complex) -> PyResult<Complex> {
    if !finite(z) {
        if z.im.is_infinite() && z.re.is_finite() {
            return Err(domain());
        }
        if z.re == 0.0 && z.im.is_nan() {
            return Ok(c(f64::NAN, f64::NAN));
        }
        if z.re.is_infinite() && !z.im.is_finite() {
            return Ok(c(1f64.copysign(z.re), 0.0));
        }
        return Ok(annex_g(ctanh, z));
    }
    Ok(if z.re.abs() > log_large() {
        c(1f64.copysign(z.re), 4.0 * z.im.sin() * z.im.cos() * (-2.0 * z.re.abs()).exp())
    } else {
        let tx = z.re.tanh();
        let ty = z.im.tan();
        let cx = 1.0 / z.re.cosh();
        let txty = tx * ty;
        let denom = 1.0 + txty * txty;
        c(tx * (1.0 + ty * ty) / denom, ((ty / denom) * cx) * cx)
    })
}

fn c_asinh(x: f64) -> f64 {
    // SAFETY: the C library's `asinh` is a pure function of a double.
    unsafe { asinh(x) }
}

fn asinh_c(z: Complex) -> Complex {
    if !finite(z) {
        return annex_g(casinh, z);
    }
    if z.re.abs() > LARGE || z.im.abs() > LARGE {
        let l = (z.re / 2.0).hypot(z.im / 2.0).ln() + LN2 * 2.0;
        let re = if z.im >= 0.0 { l.copysign(z.re) } else { -l.copysign(-z.re) };
        c(re, z.im.atan2(z.re.abs()))
    } else {
        let s1 = sqrt(c(1.0 + z.im, -z.re));
        let s2 = sqrt(c(1.0 - z.im, z.re));
        c(c_asinh(s1.re * s2.im - s2.re * s1.im), z.im.atan2(s1.re * s2.re - s1.im * s2.im))
    }
}

fn acos(z: Complex) -> Complex {
    if !finite(z) {
        if z.re.is_infinite() && z.im.is_nan() {
            return c(f64::NAN, f64::INFINITY);
        }
        return annex_g(cacos, z);
    }
    if z.re.abs() > LARGE || z.im.abs() > LARGE {
        let l = (z.re / 2.0).hypot(z.im / 2.0).ln() + LN2 * 2.0;
        let im = if z.re < 0.0 { -l.copysign(z.im) } else { l.copysign(-z.im) };
        c(z.im.abs().atan2(z.re), im)
    } else {
        let s1 = sqrt(c(1.0 - z.re, -z.im));
        let s2 = sqrt(c(1.0 + z.re, z.im));
        c(2.0 * s1.re.atan2(s2.re), c_asinh(s2.re * s1.im - s2.im * s1.re))
    }
}

fn acosh(z: Complex) -> Complex {
    if !finite(z) {
        if z.re == 0.0 && z.im.is_nan() {
            return c(f64::NAN, f64::NAN);
        }
        return annex_g(cacosh, z);
    }
    if z.re.abs() > LARGE || z.im.abs() > LARGE {
        c((z.re / 2.0).hypot(z.im / 2.0).ln() + LN2 * 2.0, z.im.atan2(z.re))
    } else {
        let s1 = sqrt(c(z.re - 1.0, z.im));
        let s2 = sqrt(c(z.re + 1.0, z.im));
        c(c_asinh(s1.re * s2.re + s1.im * s2.im), 2.0 * s1.im.atan2(s2.re))
    }
}

/// `atanh`; `None` at the poles ±1 (a domain error).
fn atanh(z: Complex) -> Option<Complex> {
    if !finite(z) {
        return Some(annex_g(catanh, z));
    }
    if z.re < 0.0 {
        let r = atanh(c(-z.re, -z.im))?;
        return Some(c(-r.re, -r.im));
    }
    let ay = z.im.abs();
    if z.re > sqrt_large() || ay > sqrt_large() {
        let h = (z.re / 2.0).hypot(z.im / 2.0);
        Some(c(z.re / 4.0 / h / h, -(std::f64::consts::FRAC_PI_2).copysign(-z.im)))
    } else if z.re == 1.0 && ay < f64::MIN_POSITIVE.sqrt() {
        if ay == 0.0 {
            None
        } else {
            Some(c(-(ay.sqrt() / ay.hypot(2.0).sqrt()).ln(), (2f64.atan2(-ay) / 2.0).copysign(z.im)))
        }
    } else {
        let re = (4.0 * z.re / ((1.0 - z.re) * (1.0 - z.re) + ay * ay)).ln_1p() / 4.0;
        let im = -(-2.0 * z.im).atan2((1.0 - z.re) * (1.0 + z.re) - ay * ay) / 2.0;
        Some(c(re, im))
    }
}

/// `f(i·z)` turned back: the circular functions from the hyperbolic ones.
fn rotate_in(z: Complex) -> Complex {
    c(-z.im, z.re)
}

fn rotate_out(z: Complex) -> Complex {
    c(z.im, -z.re)
}

fn value(z: Complex) -> Value {
    complex::new(z.re, z.im)
}

macro_rules! cfn {
    ($name:ident, $py:literal, |$z:ident| $body:expr) => {
        fn $name(vm: &mut Vm, args: Args) -> PyResult {
            let $z = one_arg(vm, $py, &args)?;
            let r: PyResult<Complex> = $body;
            Ok(value(r?))
        }
    };
}

cfn!(m_sqrt, "sqrt", |z| Ok(sqrt(z)));
cfn!(m_exp, "exp", |z| exp(z));
cfn!(m_log10, "log10", |z| log(z).map(|r| c(r.re / std::f64::consts::LN_10, r.im / std::f64::consts::LN_10)).ok_or_else(domain));
cfn!(m_cosh, "cosh", |z| cosh(z));
cfn!(m_sinh, "sinh", |z| sinh(z));
cfn!(m_tanh, "tanh", |z| tanh(z));
cfn!(m_cos, "cos", |z| cosh(rotate_in(z)));
cfn!(m_sin, "sin", |z| sinh(rotate_in(z)).map(rotate_out));
cfn!(m_tan, "tan", |z| tanh(rotate_in(z)).map(rotate_out));
cfn!(m_asinh, "asinh", |z| Ok(asinh_c(z)));
cfn!(m_asin, "asin", |z| Ok(rotate_out(asinh_c(rotate_in(z)))));
cfn!(m_acos, "acos", |z| Ok(acos(z)));
cfn!(m_acosh, "acosh", |z| Ok(acosh(z)));
cfn!(m_atanh, "atanh", |z| atanh(z).ok_or_else(domain));
cfn!(m_atan, "atan", |z| atanh(rotate_in(z)).map(rotate_out).ok_or_else(domain));

fn m_log(vm: &mut Vm, mut args: Args) -> PyResult {
    let x = args.pos.first().cloned().or_else(|| args.take_kw("x"));
    let base = args.pos.get(1).cloned().or_else(|| args.take_kw("base"));
    if args.pos.len() > 2 {
        return Err(type_error(format!("log expected at most 2 arguments, got {}", args.pos.len())));
    }
    let Some(x) = x else {
        return Err(type_error("log expected at least 1 argument, got 0"));
    };
    let z = to_complex(vm, &x)?;
    let r = log(z).ok_or_else(domain)?;
    match base {
        None => Ok(value(r)),
        Some(b) => {
            let b = to_complex(vm, &b)?;
            let lb = log(b).ok_or_else(domain)?;
            r.quotient(lb).map(value).ok_or_else(domain)
        }
    }
}

fn m_phase(vm: &mut Vm, args: Args) -> PyResult {
    let z = one_arg(vm, "phase", &args)?;
    Ok(Value::float(z.im.atan2(z.re)))
}

fn m_polar(vm: &mut Vm, args: Args) -> PyResult {
    let z = one_arg(vm, "polar", &args)?;
    let r = z.abs().ok_or_else(range)?;
    Ok(Value::tuple(vec![Value::float(r), Value::float(z.im.atan2(z.re))]))
}

fn m_rect(vm: &mut Vm, args: Args) -> PyResult {
    if args.pos.len() != 2 {
        return Err(type_error(format!("rect expected 2 arguments, got {}", args.pos.len())));
    }
    let r = to_real(vm, &args.pos[0])?;
    let phi = to_real(vm, &args.pos[1])?;
    if !r.is_finite() || !phi.is_finite() {
        if r != 0.0 && !r.is_nan() && phi.is_infinite() {
            return Err(domain());
        }
        let z = if r.is_infinite() && phi.is_finite() && phi != 0.0 {
            let s = if r > 0.0 { 1.0 } else { -1.0 };
            c(s * f64::INFINITY.copysign(phi.cos()), s * f64::INFINITY.copysign(phi.sin()))
        } else if phi == 0.0 {
            c(r, if r.is_sign_negative() && !r.is_nan() { -phi } else { phi })
        } else if r == 0.0 {
            c(0.0, 0.0)
        } else if r.is_infinite() {
            c(f64::INFINITY, f64::NAN)
        } else {
            c(f64::NAN, f64::NAN)
        };
        return Ok(complex::new(z.re, z.im));
    }
    Ok(if phi == 0.0 { complex::new(r, r * phi) } else { complex::new(r * phi.cos(), r * phi.sin()) })
}

fn m_isfinite(vm: &mut Vm, args: Args) -> PyResult {
    let z = one_arg(vm, "isfinite", &args)?;
    Ok(Value::bool(finite(z)))
}

fn m_isinf(vm: &mut Vm, args: Args) -> PyResult {
    let z = one_arg(vm, "isinf", &args)?;
    Ok(Value::bool(z.re.is_infinite() || z.im.is_infinite()))
}

fn m_isnan(vm: &mut Vm, args: Args) -> PyResult {
    let z = one_arg(vm, "isnan", &args)?;
    Ok(Value::bool(z.re.is_nan() || z.im.is_nan()))
}

fn m_isclose(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b, rel, abs) = crate::math::isclose_args(vm, args)?;
    let a = to_complex(vm, &a)?;
    let b = to_complex(vm, &b)?;
    if a == b {
        return Ok(Value::bool(true));
    }
    if a.re.is_infinite() || a.im.is_infinite() || b.re.is_infinite() || b.im.is_infinite() {
        return Ok(Value::bool(false));
    }
    let m = |z: Complex| z.re.hypot(z.im);
    let diff = m(a.minus(b));
    Ok(Value::bool(diff <= rel * m(b) || diff <= rel * m(a) || diff <= abs))
}

/// Build the `cmath` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] = &[
        ("sqrt", m_sqrt),
        ("exp", m_exp),
        ("log", m_log),
        ("log10", m_log10),
        ("sin", m_sin),
        ("cos", m_cos),
        ("tan", m_tan),
        ("asin", m_asin),
        ("acos", m_acos),
        ("atan", m_atan),
        ("sinh", m_sinh),
        ("cosh", m_cosh),
        ("tanh", m_tanh),
        ("asinh", m_asinh),
        ("acosh", m_acosh),
        ("atanh", m_atanh),
        ("phase", m_phase),
        ("polar", m_polar),
        ("rect", m_rect),
        ("isfinite", m_isfinite),
        ("isinf", m_isinf),
        ("isnan", m_isnan),
        ("isclose", m_isclose),
    ];
    let mut entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    entries.extend([
        ("pi", Value::float(std::f64::consts::PI)),
        ("e", Value::float(std::f64::consts::E)),
        ("tau", Value::float(std::f64::consts::TAU)),
        ("inf", Value::float(f64::INFINITY)),
        ("nan", Value::float(f64::NAN)),
        ("infj", complex::new(0.0, f64::INFINITY)),
        ("nanj", complex::new(0.0, f64::NAN)),
    ]);
    Ok(vm.make_native_module("cmath", entries))
}
