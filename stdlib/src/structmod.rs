//! `_struct`: packing values into bytes and back by a format such as
//! `'<hhl'`, with native or standard sizes, alignment and byte orders,
//! and CPython's `struct.error` messages.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{native_fast, native_fn, type_name};
use aio_interp::{Value, Vm};
use num_bigint::BigInt;
use num_traits::ToPrimitive;

thread_local! {
    static ERROR: RefCell<Option<Value>> = const { RefCell::new(None) };
    /// The formats parsed so far, as CPython's `_struct` caches them: a
    /// program uses a few again and again. Emptied when it grows past
    /// `CACHE_MAX`.
    static CACHE: RefCell<HashMap<String, Rc<Format>, foldhash::fast::RandomState>> = RefCell::default();
}

const CACHE_MAX: usize = 100;

fn struct_error(vm: &mut Vm, msg: impl Into<String>) -> PyErr {
    let msg = msg.into();
    let cls = ERROR.with(|e| e.borrow().clone());
    let Some(cls) = cls else { return value_error(msg) };
    match vm.call(cls, Args::new([Value::string(msg)])) {
        Ok(v) => from_raise_operand(vm, v).unwrap_or_else(|e| e),
        Err(e) => e,
    }
}

/// One field of a format: its code, repeat count (the length for `s`/`p`)
/// and where it starts.
#[derive(Clone, Copy)]
struct Field {
    code: u8,
    count: usize,
    offset: usize,
}

/// A parsed format.
struct Format {
    little: bool,
    native: bool,
    fields: Vec<Field>,
    size: usize,
}

fn size_of(code: u8, native: bool) -> Option<usize> {
    Some(match code {
        b'x' | b'c' | b'b' | b'B' | b'?' | b's' | b'p' => 1,
        b'h' | b'H' | b'e' => 2,
        b'i' | b'I' | b'f' => 4,
        b'l' | b'L' => {
            if native {
                8
            } else {
                4
            }
        }
        b'q' | b'Q' | b'd' => 8,
        b'n' | b'N' | b'P' if native => 8,
        _ => return None,
    })
}

fn parse(vm: &mut Vm, fmt: &str) -> PyResult<Format> {
    let b = fmt.as_bytes();
    let (mut i, little, native) = match b.first() {
        Some(b'<') => (1, true, false),
        Some(b'>') | Some(b'!') => (1, false, false),
        Some(b'=') => (1, cfg!(target_endian = "little"), false),
        Some(b'@') => (1, cfg!(target_endian = "little"), true),
        _ => (0, cfg!(target_endian = "little"), true),
    };
    let mut fields = Vec::new();
    let mut off = 0usize;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let mut count: Option<usize> = None;
        if c.is_ascii_digit() {
            let mut n = 0usize;
            while i < b.len() && b[i].is_ascii_digit() {
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add((b[i] - b'0') as usize))
                    .ok_or_else(|| struct_error(vm, "total struct size too long"))?;
                i += 1;
            }
            if i >= b.len() {
                return Err(struct_error(vm, "repeat count given without format specifier"));
            }
            count = Some(n);
        }
        let code = b[i];
        i += 1;
        let Some(sz) = size_of(code, native) else {
            return Err(struct_error(vm, "bad char in struct format"));
        };
        if native && code != b'x' && code != b's' && code != b'p' && code != b'c' {
            off = off.div_ceil(sz) * sz;
        }
        let n = count.unwrap_or(1);
        match code {
            b's' | b'p' => {
                fields.push(Field { code, count: n, offset: off });
                off += n;
            }
            b'x' => off += n,
            _ => {
                for _ in 0..n {
                    fields.push(Field { code, count: 1, offset: off });
                    off += sz;
                }
            }
        }
    }
    Ok(Format { little, native, fields, size: off })
}

fn int_of(vm: &mut Vm, v: &Value) -> PyResult<BigInt> {
    match v {
        Value::Int(i) => Ok(BigInt::from(*i)),
        Value::Bool(b) => Ok(BigInt::from(b.get() as i64)),
        Value::BigInt(b) => Ok((**b).clone()),
        Value::Instance(_) => {
            if vm.getattr_opt(v, "__index__")?.is_some() {
                let r = vm.call_method(v, "__index__", vec![])?;
                return int_of(vm, &r);
            }
            Err(struct_error(vm, "required argument is not an integer"))
        }
        _ => Err(struct_error(vm, "required argument is not an integer")),
    }
}

fn range_error(vm: &mut Vm, code: u8, size: usize, signed: bool) -> PyErr {
    let named = match code {
        b'b' => Some("byte format requires -128 <= number <= 127"),
        b'B' => Some("ubyte format requires 0 <= number <= 255"),
        b'h' => Some("short format requires -32768 <= number <= 32767"),
        b'H' => Some("ushort format requires 0 <= number <= 65535"),
        _ => None,
    };
    if let Some(m) = named {
        return struct_error(vm, m);
    }
    if signed && size < 8 {
        let hi = (1i64 << (size * 8 - 1)) - 1;
        return struct_error(vm, format!("'{}' format requires {} <= number <= {}", code as char, -hi - 1, hi));
    }
    struct_error(vm, "argument out of range")
}

fn pack_into(vm: &mut Vm, f: &Format, vals: &[Value], out: &mut [u8]) -> PyResult<()> {
    for (fld, v) in f.fields.iter().zip(vals) {
        let o = fld.offset;
        let put = |out: &mut [u8], bytes: &[u8]| {
            let n = bytes.len();
            if f.little {
                out[o..o + n].copy_from_slice(bytes);
            } else {
                for k in 0..n {
                    out[o + k] = bytes[n - 1 - k];
                }
            }
        };
        match fld.code {
            b'c' => match v {
                Value::Bytes(b) if b.b.len() == 1 => out[o] = b.b[0],
                _ => return Err(struct_error(vm, "char format requires a bytes object of length 1")),
            },
            b's' | b'p' => {
                let Value::Bytes(b) = v else {
                    return Err(struct_error(vm, format!("argument for '{}' must be a bytes object", fld.code as char)));
                };
                if fld.code == b's' {
                    let n = b.b.len().min(fld.count);
                    out[o..o + n].copy_from_slice(&b.b[..n]);
                } else if fld.count > 0 {
                    let n = b.b.len().min(fld.count - 1).min(255);
                    out[o] = n as u8;
                    out[o + 1..o + 1 + n].copy_from_slice(&b.b[..n]);
                }
            }
            b'?' => out[o] = vm.truthy(v)? as u8,
            b'e' | b'f' | b'd' => {
                let x = match v {
                    Value::Float(x) => x.get(),
                    Value::Int(i) => *i as f64,
                    Value::Bool(b) => b.get() as i64 as f64,
                    Value::BigInt(b) => b.to_f64().unwrap_or(f64::INFINITY),
                    Value::Instance(_) if vm.getattr_opt(v, "__float__")?.is_some() => aio_interp::types::float::to_float(vm, v)?,
                    _ => return Err(struct_error(vm, "required argument is not a float")),
                };
                match fld.code {
                    b'd' => put(out, &x.to_le_bytes()),
                    b'f' => {
                        let y = x as f32;
                        if y.is_infinite() && x.is_finite() {
                            return Err(overflow_error("float too large to pack with f format"));
                        }
                        put(out, &y.to_le_bytes())
                    }
                    _ => {
                        let h = f64_to_half(x).ok_or_else(|| overflow_error("float too large to pack with e format"))?;
                        put(out, &h.to_le_bytes())
                    }
                }
            }
            code => {
                let sz = size_of(code, f.native).unwrap_or(8);
                let signed = code.is_ascii_lowercase();
                let n = int_of(vm, v)?;
                let (lo, hi) = if signed {
                    (-(BigInt::from(1) << (sz * 8 - 1)), (BigInt::from(1) << (sz * 8 - 1)) - 1)
                } else {
                    (BigInt::from(0), (BigInt::from(1) << (sz * 8)) - 1)
                };
                if n < lo || n > hi {
                    return Err(range_error(vm, code, sz, signed));
                }
                let mut le = n.to_signed_bytes_le();
                let fill = if n.sign() == num_bigint::Sign::Minus { 0xff } else { 0 };
                le.resize(sz, fill);
                put(out, &le[..sz]);
            }
        }
    }
    Ok(())
}

/// An IEEE 754 half-precision value, rounded to nearest even; `None` when too large.
fn f64_to_half(x: f64) -> Option<u16> {
    let sign: u16 = if x.is_sign_negative() { 0x8000 } else { 0 };
    if x.is_nan() {
        return Some(sign | 0x7e00);
    }
    let a = x.abs();
    if a.is_infinite() {
        return Some(sign | 0x7c00);
    }
    if a >= 65520.0 {
        return None;
    }
    if a < 6.103515625e-05 {
        // Subnormal: units of 2**-24.
        let m = (a / 5.960464477539063e-08).round_ties_even() as u16;
        return Some(sign | m);
    }
    let e = a.log2().floor() as i32;
    let mut m = (a / 2f64.powi(e) - 1.0) * 1024.0;
    m = m.round_ties_even();
    let (mut e, mut m) = (e, m as u32);
    if m == 1024 {
        m = 0;
        e += 1;
    }
    Some(sign | (((e + 15) as u16) << 10) | m as u16)
}

fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let e = ((h >> 10) & 0x1f) as i32;
    let m = (h & 0x3ff) as f64;
    sign * match e {
        0 => m * 2f64.powi(-24),
        31 => {
            if m == 0.0 {
                f64::INFINITY
            } else {
                f64::NAN
            }
        }
        _ => (1.0 + m / 1024.0) * 2f64.powi(e - 15),
    }
}

fn unpack_at(f: &Format, buf: &[u8]) -> Vec<Value> {
    let mut out = Vec::with_capacity(f.fields.len());
    for fld in &f.fields {
        let o = fld.offset;
        // The `n` bytes at the field, least significant first, in a word.
        let word = |n: usize| -> u64 {
            let b = &buf[o..o + n];
            let fold = |w: u64, &x: &u8| (w << 8) | x as u64;
            if f.little {
                b.iter().rev().fold(0, fold)
            } else {
                b.iter().fold(0, fold)
            }
        };
        let v = match fld.code {
            b'c' => Value::Bytes(Rc::new(PyBytes { b: Box::new([buf[o]]) })),
            b's' => Value::Bytes(Rc::new(PyBytes { b: buf[o..o + fld.count].to_vec().into_boxed_slice() })),
            b'p' => {
                let n = if fld.count == 0 { 0 } else { (buf[o] as usize).min(fld.count - 1) };
                Value::Bytes(Rc::new(PyBytes { b: buf[o + 1..o + 1 + n].to_vec().into_boxed_slice() }))
            }
            b'?' => Value::bool(buf[o] != 0),
            b'd' => Value::float(f64::from_bits(word(8))),
            b'f' => Value::float(f32::from_bits(word(4) as u32) as f64),
            b'e' => Value::float(half_to_f64(word(2) as u16)),
            code => {
                let sz = size_of(code, f.native).unwrap_or(8);
                let w = word(sz);
                if code.is_ascii_lowercase() {
                    // Sign-extend from the field's width.
                    let shift = 64 - 8 * sz as u32;
                    Value::Int(((w << shift) as i64) >> shift)
                } else {
                    match i64::try_from(w) {
                        Ok(i) => Value::Int(i),
                        Err(_) => Value::from_bigint(BigInt::from(w)),
                    }
                }
            }
        };
        out.push(v);
    }
    out
}

fn fmt_arg(vm: &mut Vm, v: Option<&Value>) -> PyResult<Rc<Format>> {
    match v {
        Some(Value::Str(s)) => cached(vm, s.as_str()),
        Some(Value::Bytes(b)) => cached(vm, &String::from_utf8_lossy(&b.b)),
        Some(other) => Err(type_error(format!("Struct() argument 1 must be a str or bytes object, not {}", type_name(other)))),
        None => Err(type_error("missing format argument")),
    }
}

/// The parsed format `fmt`, from the cache when it was parsed before.
fn cached(vm: &mut Vm, fmt: &str) -> PyResult<Rc<Format>> {
    if let Some(f) = CACHE.with(|c| c.borrow().get(fmt).cloned()) {
        return Ok(f);
    }
    let f = Rc::new(parse(vm, fmt)?);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_MAX {
            c.clear();
        }
        c.insert(fmt.to_string(), f.clone());
    });
    Ok(f)
}

fn buffer(v: Option<&Value>) -> PyResult<aio_interp::types::bytes::Buf> {
    match v {
        Some(other) => match aio_interp::types::bytes::bytes_like(other) {
            Some(b) => Ok(b),
            None => Err(type_error(format!("a bytes-like object is required, not '{}'", type_name(other)))),
        },
        None => Err(type_error("missing buffer argument")),
    }
}

fn pack(vm: &mut Vm, a: Args) -> PyResult {
    let f = fmt_arg(vm, a.pos.first())?;
    let vals = &a.pos[1..];
    if vals.len() != f.fields.len() {
        return Err(struct_error(vm, format!("pack expected {} items for packing (got {})", f.fields.len(), vals.len())));
    }
    let mut out = vec![0u8; f.size];
    pack_into(vm, &f, vals, &mut out)?;
    Ok(Value::Bytes(Rc::new(PyBytes { b: out.into_boxed_slice() })))
}

fn unpack(vm: &mut Vm, a: &[Value]) -> PyResult {
    if a.len() != 2 {
        return Err(type_error(format!("unpack expected 2 arguments, got {}", a.len())));
    }
    let f = fmt_arg(vm, a.first())?;
    let buf = buffer(a.get(1))?;
    if buf.len() != f.size {
        return Err(struct_error(vm, format!("unpack requires a buffer of {} bytes", f.size)));
    }
    Ok(Value::tuple(unpack_at(&f, &buf)))
}

fn unpack_from(vm: &mut Vm, mut a: Args) -> PyResult {
    let off_kw = a.take_kw("offset");
    let f = fmt_arg(vm, a.pos.first())?;
    let buf = buffer(a.pos.get(1))?;
    let off = match off_kw.or_else(|| a.pos.get(2).cloned()) {
        Some(v) => vm.index_value(&v)?,
        None => 0,
    };
    let off = if off < 0 { off + buf.len() as i64 } else { off };
    if off < 0 || off as usize + f.size > buf.len() {
        return Err(struct_error(
            vm,
            format!(
                "unpack_from requires a buffer of at least {} bytes for unpacking {} bytes at offset {} (actual buffer size is {})",
                f.size + off.max(0) as usize,
                f.size,
                off,
                buf.len()
            ),
        ));
    }
    Ok(Value::tuple(unpack_at(&f, &buf[off as usize..])))
}

fn iter_unpack(vm: &mut Vm, a: Args) -> PyResult {
    let f = fmt_arg(vm, a.pos.first())?;
    let buf = buffer(a.pos.get(1))?;
    if f.size == 0 {
        return Err(struct_error(vm, "cannot iteratively unpack with a struct of length 0"));
    }
    if buf.len() % f.size != 0 {
        return Err(struct_error(vm, format!("iterative unpacking requires a buffer of a multiple of {} bytes", f.size)));
    }
    let items: Vec<Value> = buf.chunks(f.size).map(|c| Value::tuple(unpack_at(&f, c))).collect();
    vm.iter(&Value::list(items))
}

fn calcsize(vm: &mut Vm, a: Args) -> PyResult {
    let f = fmt_arg(vm, a.pos.first())?;
    Ok(Value::Int(f.size as i64))
}

/// The `_struct` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_struct",
        vec![
            ("pack", native_fn("pack", pack)),
            ("unpack", native_fast("unpack", unpack)),
            ("unpack_from", native_fn("unpack_from", unpack_from)),
            ("iter_unpack", native_fn("iter_unpack", iter_unpack)),
            ("calcsize", native_fn("calcsize", calcsize)),
            (
                "_set_error",
                native_fn("_set_error", |_vm, a| {
                    ERROR.with(|e| *e.borrow_mut() = a.pos.first().cloned());
                    Ok(Value::None)
                }),
            ),
        ],
    ))
}
