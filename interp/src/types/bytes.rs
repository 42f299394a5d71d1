//! `bytes`: construction, indexing, `%`-formatting, and the methods that
//! `bytes` and `bytearray` share (each returns its receiver's type where
//! CPython does), all working on raw bytes with ASCII-only case and
//! whitespace rules.

use std::ops::Deref;
use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::types::{bytearray, class_function, memoryview, method, seq_index, type_name, Types};
use crate::value::Value;
use crate::vm::Vm;

/// Which type a shared method answers with: its receiver's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Bytes,
    ByteArray,
}

/// A new `bytes` or `bytearray`.
pub fn make_kind(kind: Kind, b: Vec<u8>) -> Value {
    match kind {
        Kind::Bytes => Value::bytes(b),
        Kind::ByteArray => bytearray::new(b),
    }
}

/// The contents of a bytes-like object: shared for `bytes`, a copy for the
/// mutable ones (a method may run code that changes them).
pub enum Buf {
    Shared(Rc<PyBytes>),
    Owned(Vec<u8>),
}

impl Deref for Buf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Buf::Shared(b) => &b.b,
            Buf::Owned(v) => v,
        }
    }
}

impl Buf {
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            Buf::Shared(b) => b.b.to_vec(),
            Buf::Owned(v) => v,
        }
    }
}

/// The bytes of a bytes-like object (`bytes`, `bytearray`, `memoryview`,
/// or an instance of a `bytes` subclass); `None` for anything else.
pub fn bytes_like(v: &Value) -> Option<Buf> {
    match v {
        Value::Bytes(b) => Some(Buf::Shared(b.clone())),
        Value::Object(o) => {
            if let Some(a) = bytearray::get(v) {
                return Some(Buf::Owned(a.b.borrow().clone()));
            }
            if let Some(b) = o.buffer_bytes() {
                return Some(Buf::Owned(b));
            }
            memoryview::contents(v).map(Buf::Owned)
        }
        Value::Instance(i) => match i.builtin_value() {
            Some(p @ (Value::Bytes(_) | Value::Object(_))) => bytes_like(&p),
            _ => None,
        },
        _ => None,
    }
}

/// `bytes_like`, or CPython's TypeError naming the type.
pub fn need_bytes_like(v: &Value) -> PyResult<Buf> {
    bytes_like(v).ok_or_else(|| type_error(format!("a bytes-like object is required, not '{}'", type_name(v))))
}

/// The items of an iterable of ints in range(256), as `bytes(x)` takes them.
pub fn from_iterable(vm: &mut Vm, v: &Value, name: &str) -> PyResult<Vec<u8>> {
    if let Some(b) = bytes_like(v) {
        return Ok(b.into_vec());
    }
    if let Value::Str(_) = v {
        return Err(type_error("string argument without an encoding"));
    }
    if crate::ops::lookup_special(v, "__iter__").is_none()
        && !matches!(
            v,
            Value::List(_)
                | Value::Tuple(_)
                | Value::Range(_)
                | Value::Set(_)
                | Value::FrozenSet(_)
                | Value::Dict(_)
                | Value::Iter(_)
                | Value::Generator(_)
        )
    {
        return Err(type_error(format!("cannot convert '{}' object to {name}", type_name(v))));
    }
    let items = vm.collect(v)?;
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        out.push(byte_value(vm, &it).map_err(|e| {
            if name == "bytes" && e.is(&crate::types::types().exc.value_error) {
                value_error("bytes must be in range(0, 256)")
            } else {
                e
            }
        })?);
    }
    Ok(out)
}

/// One int in range(256).
pub fn byte_value(vm: &mut Vm, it: &Value) -> PyResult<u8> {
    let n = match it {
        Value::BigInt(_) => return Err(value_error("byte must be in range(0, 256)")),
        _ => vm.index_value(it).map_err(|_| type_error(format!("'{}' object cannot be interpreted as an integer", type_name(it))))?,
    };
    if !(0..256).contains(&n) {
        return Err(value_error("byte must be in range(0, 256)"));
    }
    Ok(n as u8)
}

/// The bytes of `bytes(x)` / `bytearray(x)` from their arguments.
pub fn construct_data(vm: &mut Vm, mut args: Args, name: &str) -> PyResult<Option<Vec<u8>>> {
    let enc = args.take_kw("encoding");
    let errors = args.take_kw("errors");
    let source = match args.take_kw("source") {
        Some(s) => Some(s),
        None => args.pos.first().cloned(),
    };
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("'{}' is an invalid keyword argument for {name}()", k.as_str())));
    }
    if args.pos.len() > 3 {
        return Err(type_error(format!("{name}() takes at most 3 arguments ({} given)", args.pos.len())));
    }
    let enc = enc.or_else(|| args.pos.get(1).cloned());
    let errors = errors.or_else(|| args.pos.get(2).cloned());
    let Some(src) = source else {
        if enc.is_some() || errors.is_some() {
            return Err(type_error(if enc.is_some() { "encoding without a string argument" } else { "errors without a string argument" }));
        }
        return Ok(Some(vec![]));
    };
    if let Value::Str(s) = &src {
        let Some(e) = enc else {
            return Err(type_error("string argument without an encoding"));
        };
        let errors = errors.unwrap_or(Value::str("strict"));
        let r = vm.call_method(&Value::Str(s.clone()), "encode", vec![e, errors])?;
        return Ok(bytes_like(&r).map(Buf::into_vec));
    }
    if enc.is_some() {
        return Err(type_error("encoding without a string argument"));
    }
    if errors.is_some() {
        return Err(type_error("errors without a string argument"));
    }
    match &src {
        Value::Int(n) => {
            if *n < 0 {
                return Err(value_error("negative count"));
            }
            let mut b = crate::ops::try_vec(*n as usize)?;
            b.resize(*n as usize, 0);
            Ok(Some(b))
        }
        Value::Bool(f) => Ok(Some(vec![0; f.get() as usize])),
        Value::BigInt(_) => Err(overflow_error("cannot fit 'int' into an index-sized integer")),
        Value::Bytes(_) => Ok(None),
        _ => {
            if name == "bytes" {
                if let Some(f) = crate::ops::lookup_special(&src, "__bytes__") {
                    let r = vm.call(f, Args::new([src.clone()]))?;
                    return match r {
                        Value::Bytes(b) => Ok(Some(b.b.to_vec())),
                        other => Err(type_error(format!("__bytes__ returned non-bytes (type {})", type_name(&other)))),
                    };
                }
            }
            if bytes_like(&src).is_none() && crate::ops::lookup_special(&src, "__index__").is_some() {
                let n = vm.index_value(&src)?;
                if n < 0 {
                    return Err(value_error("negative count"));
                }
                return Ok(Some(vec![0; n as usize]));
            }
            from_iterable(vm, &src, name).map(Some)
        }
    }
}

/// The items of a list or tuple as bytes when each is an int in
/// range(256) (`bytes([b])`); `None` leaves the rest, and every error, to
/// `from_iterable`.
fn small_ints(src: &Value) -> Option<Vec<u8>> {
    let ints = |items: &[Value]| {
        let mut out = Vec::with_capacity(items.len());
        for v in items {
            out.push(if let Value::Int(i) = v { u8::try_from(*i).ok()? } else { return None });
        }
        Some(out)
    };
    match src {
        Value::List(l) => ints(&l.borrow()),
        Value::Tuple(t) => ints(&t.items),
        _ => None,
    }
}

/// `bytes(x)`.
pub fn construct(vm: &mut Vm, args: Args) -> PyResult {
    if let ([src @ (Value::List(_) | Value::Tuple(_))], true) = (&args.pos[..], args.kw.is_empty()) {
        if let Some(b) = small_ints(src) {
            return Ok(Value::bytes(b));
        }
    }
    let first = args.pos.first().cloned();
    match construct_data(vm, args, "bytes")? {
        Some(b) => Ok(Value::bytes(b)),
        None => Ok(first.unwrap_or_else(|| Value::bytes(vec![]))),
    }
}

/// `b[i]` / `b[a:b]`.
pub fn getitem(vm: &mut Vm, b: &Rc<PyBytes>, i: &Value) -> PyResult {
    match i {
        Value::Slice(s) => Ok(Value::bytes(slice(vm, &b.b, s)?)),
        _ => {
            let n = match i {
                Value::BigInt(_) => Err(crate::ops::index_too_big()),
                _ => vm.index_value(i).map_err(|_| type_error(format!("byte indices must be integers or slices, not {}", type_name(i)))),
            }?;
            seq_index(n, b.b.len()).map(|j| Value::Int(b.b[j] as i64)).ok_or_else(|| index_error("index out of range"))
        }
    }
}

/// The bytes a slice selects.
pub fn slice(vm: &mut Vm, b: &[u8], s: &PySlice) -> PyResult<Vec<u8>> {
    let (start, _stop, step, count) = crate::types::slice_indices(vm, s, b.len())?;
    if step == 1 {
        let st = start as usize;
        return Ok(b[st..st + count].to_vec());
    }
    Ok((0..count).map(|k| b[(start + k as i64 * step) as usize]).collect())
}

/// `x in b`.
pub fn contains(vm: &mut Vm, b: &PyBytes, x: &Value) -> PyResult<bool> {
    contains_in(vm, &b.b, x)
}

/// `x in data` for any bytes-like container.
pub fn contains_in(vm: &mut Vm, b: &[u8], x: &Value) -> PyResult<bool> {
    if let Some(sub) = bytes_like(x) {
        return Ok(find(b, &sub, 0, b.len() as i64, false) >= 0);
    }
    if !matches!(x, Value::Int(_) | Value::Bool(_) | Value::BigInt(_)) && crate::ops::lookup_special(x, "__index__").is_none() {
        return Err(type_error(format!("a bytes-like object is required, not '{}'", type_name(x))));
    }
    let n = byte_value(vm, x)?;
    Ok(b.contains(&n))
}

// ------------------------------------------------------------ %-formatting

/// `b % args` (and `bytearray % args`), CPython's printf-style for bytes.
pub fn percent_format(vm: &mut Vm, fmt: &PyBytes, args: &Value) -> PyResult<Value> {
    percent_format_bytes(vm, &fmt.b, args).map(Value::bytes)
}

fn arg_bytes(vm: &mut Vm, v: &Value, conv: char) -> PyResult<Vec<u8>> {
    if let Some(b) = bytes_like(v) {
        return Ok(b.into_vec());
    }
    if let Some(f) = crate::ops::lookup_special(v, "__bytes__") {
        let r = vm.call(f, Args::new([v.clone()]))?;
        if let Value::Bytes(b) = r {
            return Ok(b.b.to_vec());
        }
        return Err(type_error(format!("__bytes__ returned non-bytes (type {})", type_name(&r))));
    }
    let _ = conv;
    Err(type_error(format!("%b requires a bytes-like object, or an object that implements __bytes__, not '{}'", type_name(v))))
}

/// The bytes of `fmt % args`.
pub fn percent_format_bytes(vm: &mut Vm, fmt: &[u8], args: &Value) -> PyResult<Vec<u8>> {
    let is_mapping = matches!(args, Value::Dict(_))
        || (!matches!(args, Value::Tuple(_) | Value::Str(_) | Value::Bytes(_))
            && bytes_like(args).is_none()
            && crate::ops::lookup_special(args, "__getitem__").is_some());
    let items: Vec<Value> = match args {
        Value::Tuple(t) => t.items.to_vec(),
        other => vec![other.clone()],
    };
    let mut out = Vec::with_capacity(fmt.len());
    let mut i = 0;
    let mut next = 0usize;
    let mut used_key = false;
    let take = |next: &mut usize| -> PyResult<Value> {
        let v = items.get(*next).cloned().ok_or_else(|| type_error("not enough arguments for format string"))?;
        *next += 1;
        Ok(v)
    };
    while i < fmt.len() {
        let c = fmt[i];
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        let spec_start = i;
        i += 1;
        if i >= fmt.len() {
            return Err(value_error("incomplete format"));
        }
        let mut key: Option<Vec<u8>> = None;
        if fmt[i] == b'(' {
            let mut depth = 1;
            let start = i + 1;
            i += 1;
            while i < fmt.len() && depth > 0 {
                match fmt[i] {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
                i += 1;
            }
            if depth > 0 {
                return Err(value_error("incomplete format key"));
            }
            key = Some(fmt[start..i - 1].to_vec());
        }
        let mut flags = String::new();
        while i < fmt.len() && b"-+ #0".contains(&fmt[i]) {
            flags.push(fmt[i] as char);
            i += 1;
        }
        let mut width: Option<i64> = None;
        if i < fmt.len() && fmt[i] == b'*' {
            let w = take(&mut next)?;
            let w = match w {
                Value::Int(n) => n,
                _ => return Err(type_error("* wants int")),
            };
            if w < 0 {
                flags.push('-');
            }
            width = Some(w.saturating_abs());
            i += 1;
        } else {
            let s = i;
            while i < fmt.len() && fmt[i].is_ascii_digit() {
                i += 1;
            }
            if i > s {
                let digits = std::str::from_utf8(&fmt[s..i]).unwrap_or("");
                width = Some(digits.parse().map_err(|_| value_error("width too big"))?);
            }
        }
        let mut precision: Option<i64> = None;
        if i < fmt.len() && fmt[i] == b'.' {
            i += 1;
            if i < fmt.len() && fmt[i] == b'*' {
                let p = take(&mut next)?;
                precision = Some(match p {
                    Value::Int(n) => n.max(0),
                    _ => return Err(type_error("* wants int")),
                });
                i += 1;
            } else {
                let s = i;
                while i < fmt.len() && fmt[i].is_ascii_digit() {
                    i += 1;
                }
                let digits = std::str::from_utf8(&fmt[s..i]).unwrap_or("");
                precision = Some(if digits.is_empty() { 0 } else { digits.parse().unwrap_or(i64::MAX) });
            }
        }
        while i < fmt.len() && b"hlL".contains(&fmt[i]) {
            i += 1;
        }
        if i >= fmt.len() {
            return Err(value_error("incomplete format"));
        }
        let conv = fmt[i] as char;
        i += 1;
        // CPython's limits (an `int` precision), then room for the padding:
        // both come from the program and must not abort the process.
        if precision.is_some_and(|p| p > i64::from(i32::MAX)) {
            return Err(value_error("prec too big"));
        }
        crate::ops::check_bytes(width.unwrap_or(0).max(0) as usize)?;
        if !matches!(conv, 's' | 'r' | 'a' | 'b' | 'c' | '%') {
            crate::ops::check_bytes(precision.unwrap_or(0).max(0) as usize)?;
        }
        if conv == '%' {
            out.push(b'%');
            continue;
        }
        let value = match &key {
            Some(k) => {
                if !is_mapping {
                    return Err(type_error("format requires a mapping"));
                }
                used_key = true;
                vm.getitem(args, &Value::bytes(k.clone()))?
            }
            None => take(&mut next)?,
        };
        let left = flags.contains('-');
        let pad = |body: Vec<u8>| -> Vec<u8> {
            let w = width.unwrap_or(0).max(0) as usize;
            if body.len() >= w {
                return body;
            }
            let fill = vec![b' '; w - body.len()];
            if left {
                [body, fill].concat()
            } else {
                [fill, body].concat()
            }
        };
        match conv {
            's' | 'b' => {
                let mut b = arg_bytes(vm, &value, conv)?;
                if let Some(p) = precision {
                    b.truncate(p as usize);
                }
                out.extend(pad(b));
            }
            'r' | 'a' => {
                let text = crate::types::str::ascii_escape(&vm.repr_str(&value)?);
                let mut b = text.into_bytes();
                if let Some(p) = precision {
                    b.truncate(p as usize);
                }
                out.extend(pad(b));
            }
            'c' => {
                let b = match &value {
                    Value::Int(n) => {
                        if !(0..256).contains(n) {
                            return Err(overflow_error("%c arg not in range(256)"));
                        }
                        *n as u8
                    }
                    Value::BigInt(_) => return Err(overflow_error("%c arg not in range(256)")),
                    other => match bytes_like(other) {
                        Some(b) if b.len() == 1 => b[0],
                        _ => return Err(type_error("%c requires an integer in range(256) or a single byte")),
                    },
                };
                out.extend(pad(vec![b]));
            }
            'd' | 'i' | 'u' | 'x' | 'X' | 'o' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                // A number formats as it would in a str, one conversion at a time.
                let mut one = String::from("%");
                one.push_str(&flags);
                if let Some(w) = width {
                    one.push_str(&w.to_string());
                }
                if let Some(p) = precision {
                    one.push('.');
                    one.push_str(&p.to_string());
                }
                one.push(conv);
                let r = crate::types::str::percent_format(vm, &PyStr::new(&one), &Value::tuple([value]))?;
                if let Value::Str(s) = r {
                    out.extend_from_slice(s.as_bytes());
                }
            }
            other => {
                let _ = spec_start;
                return Err(value_error(format!("unsupported format character '{other}' (0x{:x}) at index {}", other as u32, i - 1)));
            }
        }
    }
    if next < items.len() && !is_mapping && !used_key {
        return Err(type_error("not all arguments converted during bytes formatting"));
    }
    Ok(out)
}

// ------------------------------------------------------------ searching

/// CPython's index adjustment: negative counts from the end, then clamped.
fn adjust(start: Option<i64>, end: Option<i64>, len: usize) -> (i64, i64) {
    let len = len as i64;
    let mut s = start.unwrap_or(0);
    let mut e = end.unwrap_or(len);
    if e > len {
        e = len;
    } else if e < 0 {
        e = (e + len).max(0);
    }
    if s < 0 {
        s = (s + len).max(0);
    }
    (s, e)
}

/// The position of `n` in `h[start..end]` (after adjusting), or -1.
fn find(h: &[u8], n: &[u8], start: i64, end: i64, rev: bool) -> i64 {
    if end - start < n.len() as i64 {
        return -1;
    }
    let (s, e) = (start as usize, end as usize);
    if n.is_empty() {
        return if rev { end } else { start };
    }
    crate::types::str::find_bytes(&h[s..e], n, rev).map(|p| (p + s) as i64).unwrap_or(-1)
}

fn count(h: &[u8], n: &[u8], start: i64, end: i64) -> i64 {
    if end - start < n.len() as i64 {
        return 0;
    }
    if n.is_empty() {
        return end - start + 1;
    }
    crate::types::str::count_bytes(&h[start as usize..end as usize], n) as i64
}

// ------------------------------------------------------------ arguments

fn recv(args: &Args) -> PyResult<(Buf, Kind)> {
    let v = args.pos.first().ok_or_else(|| type_error("descriptor needs an argument"))?;
    if bytearray::get(v).is_some() {
        return Ok((bytes_like(v).unwrap_or(Buf::Owned(vec![])), Kind::ByteArray));
    }
    match v {
        Value::Bytes(b) => Ok((Buf::Shared(b.clone()), Kind::Bytes)),
        Value::Instance(i) => match i.builtin_value() {
            Some(Value::Bytes(b)) => Ok((Buf::Shared(b), Kind::Bytes)),
            Some(p) if bytearray::get(&p).is_some() => Ok((bytes_like(&p).unwrap_or(Buf::Owned(vec![])), Kind::ByteArray)),
            _ => Err(type_error(format!("descriptor requires a 'bytes' object but received a '{}'", type_name(v)))),
        },
        _ => Err(type_error(format!("descriptor requires a 'bytes' object but received a '{}'", type_name(v)))),
    }
}

/// Argument `i` (after self) given by position or by keyword `name`.
fn opt<'a>(args: &'a Args, i: usize, name: &str) -> Option<&'a Value> {
    args.pos.get(i + 1).or_else(|| args.kw.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v))
}

fn max_args(args: &Args, name: &str, max: usize) -> PyResult<()> {
    let n = args.pos.len() - 1;
    if n > max {
        return Err(type_error(format!("{name} expected at most {max} argument{}, got {n}", if max == 1 { "" } else { "s" })));
    }
    Ok(())
}

fn need(args: &Args, name: &str, min: usize) -> PyResult<()> {
    let n = args.pos.len() - 1;
    if n < min {
        return Err(type_error(format!("{name} expected at least {min} argument{}, got {n}", if min == 1 { "" } else { "s" })));
    }
    Ok(())
}

fn index_arg(vm: &mut Vm, v: Option<&Value>) -> PyResult<Option<i64>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::BigInt(b)) => Ok(Some(if num_traits::Signed::is_negative(&**b) { i64::MIN / 2 } else { i64::MAX / 2 })),
        Some(x) => {
            vm.index_value(x).map(Some).map_err(|_| type_error("slice indices must be integers or None or have an __index__ method"))
        }
    }
}

/// The needle of `find`/`count`/`index`: bytes-like or one byte as an int.
fn needle(vm: &mut Vm, v: Option<&Value>) -> PyResult<Buf> {
    let v = v.ok_or_else(|| type_error("function missing required argument 'sub' (pos 1)"))?;
    if let Some(b) = bytes_like(v) {
        return Ok(b);
    }
    if matches!(v, Value::Int(_) | Value::Bool(_) | Value::BigInt(_)) || crate::ops::lookup_special(v, "__index__").is_some() {
        return Ok(Buf::Owned(vec![byte_value(vm, v)?]));
    }
    Err(type_error(format!("argument should be integer or bytes-like object, not '{}'", type_name(v))))
}

fn search_args(vm: &mut Vm, args: &Args, name: &str) -> PyResult<(Buf, Buf, i64, i64)> {
    need(args, name, 1)?;
    max_args(args, name, 3)?;
    let (h, _) = recv(args)?;
    let n = needle(vm, args.pos.get(1))?;
    let s = index_arg(vm, args.pos.get(2))?;
    let e = index_arg(vm, args.pos.get(3))?;
    let (s, e) = adjust(s, e, h.len());
    Ok((h, n, s, e))
}

fn b_find(vm: &mut Vm, args: Args) -> PyResult {
    let (h, n, s, e) = search_args(vm, &args, "find")?;
    Ok(Value::Int(find(&h, &n, s, e, false)))
}

fn b_rfind(vm: &mut Vm, args: Args) -> PyResult {
    let (h, n, s, e) = search_args(vm, &args, "rfind")?;
    Ok(Value::Int(find(&h, &n, s, e, true)))
}

fn b_index(vm: &mut Vm, args: Args) -> PyResult {
    let (h, n, s, e) = search_args(vm, &args, "index")?;
    match find(&h, &n, s, e, false) {
        -1 => Err(value_error("subsection not found")),
        p => Ok(Value::Int(p)),
    }
}

fn b_rindex(vm: &mut Vm, args: Args) -> PyResult {
    let (h, n, s, e) = search_args(vm, &args, "rindex")?;
    match find(&h, &n, s, e, true) {
        -1 => Err(value_error("subsection not found")),
        p => Ok(Value::Int(p)),
    }
}

fn b_count(vm: &mut Vm, args: Args) -> PyResult {
    let (h, n, s, e) = search_args(vm, &args, "count")?;
    Ok(Value::Int(count(&h, &n, s, e)))
}

fn tail_match(h: &[u8], p: &[u8], start: i64, end: i64, at_end: bool) -> bool {
    let (len, sl) = (h.len() as i64, p.len() as i64);
    if at_end {
        if end - start < sl || start > len {
            return false;
        }
        let at = (end - sl) as usize;
        &h[at..at + p.len()] == p
    } else {
        if start > len - sl || end - start < sl {
            return false;
        }
        let at = start as usize;
        &h[at..at + p.len()] == p
    }
}

fn starts_ends(vm: &mut Vm, args: &Args, name: &str, at_end: bool) -> PyResult {
    need(args, name, 1)?;
    max_args(args, name, 3)?;
    let (h, _) = recv(args)?;
    let s = index_arg(vm, args.pos.get(2))?;
    let e = index_arg(vm, args.pos.get(3))?;
    let (s, e) = adjust(s, e, h.len());
    let what = &args.pos[1];
    let cands: Vec<Buf> = match what {
        Value::Tuple(t) => {
            let mut v = Vec::new();
            for it in t.items.iter() {
                v.push(bytes_like(it).ok_or_else(|| type_error(format!("a bytes-like object is required, not '{}'", type_name(it))))?);
            }
            v
        }
        other => vec![bytes_like(other)
            .ok_or_else(|| type_error(format!("{name} first arg must be bytes or a tuple of bytes, not {}", type_name(other))))?],
    };
    Ok(Value::bool(cands.iter().any(|p| tail_match(&h, p, s, e, at_end))))
}

fn b_startswith(vm: &mut Vm, args: Args) -> PyResult {
    starts_ends(vm, &args, "startswith", false)
}

fn b_endswith(vm: &mut Vm, args: Args) -> PyResult {
    starts_ends(vm, &args, "endswith", true)
}

// ------------------------------------------------------------ splitting

const SPACE: &[u8] = b" \t\n\r\x0b\x0c";

fn is_space(c: u8) -> bool {
    SPACE.contains(&c)
}

fn split_whitespace(h: &[u8], maxsplit: i64, rev: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut left = maxsplit;
    if !rev {
        let mut i = 0;
        let n = h.len();
        while i < n {
            while i < n && is_space(h[i]) {
                i += 1;
            }
            if i == n {
                break;
            }
            if left == 0 {
                out.push(h[i..].to_vec());
                break;
            }
            let s = i;
            while i < n && !is_space(h[i]) {
                i += 1;
            }
            out.push(h[s..i].to_vec());
            left -= 1;
        }
    } else {
        let mut i = h.len();
        while i > 0 {
            while i > 0 && is_space(h[i - 1]) {
                i -= 1;
            }
            if i == 0 {
                break;
            }
            if left == 0 {
                out.push(h[..i].to_vec());
                break;
            }
            let e = i;
            while i > 0 && !is_space(h[i - 1]) {
                i -= 1;
            }
            out.push(h[i..e].to_vec());
            left -= 1;
        }
        out.reverse();
    }
    out
}

fn split_sep(h: &[u8], sep: &[u8], maxsplit: i64, rev: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut left = maxsplit;
    if !rev {
        let mut rest = h;
        while left != 0 {
            match crate::types::str::find_bytes(rest, sep, false) {
                Some(p) => {
                    out.push(rest[..p].to_vec());
                    rest = &rest[p + sep.len()..];
                    left -= 1;
                }
                None => break,
            }
        }
        out.push(rest.to_vec());
    } else {
        let mut rest = h;
        while left != 0 {
            match crate::types::str::find_bytes(rest, sep, true) {
                Some(p) => {
                    out.push(rest[p + sep.len()..].to_vec());
                    rest = &rest[..p];
                    left -= 1;
                }
                None => break,
            }
        }
        out.push(rest.to_vec());
        out.reverse();
    }
    out
}

fn list_of(kind: Kind, parts: Vec<Vec<u8>>) -> Value {
    Value::list(parts.into_iter().map(|p| make_kind(kind, p)).collect())
}

fn split_common(vm: &mut Vm, args: &Args, name: &str, rev: bool) -> PyResult {
    max_args(args, name, 2)?;
    let (h, kind) = recv(args)?;
    let sep = opt(args, 0, "sep").cloned().unwrap_or(Value::None);
    let maxsplit = match opt(args, 1, "maxsplit") {
        None => -1,
        Some(v) => vm.index_value(v)?,
    };
    let maxsplit = if maxsplit < 0 { i64::MAX } else { maxsplit };
    if sep.is_none() {
        return Ok(list_of(kind, split_whitespace(&h, maxsplit, rev)));
    }
    let sep = need_bytes_like(&sep)?;
    if sep.is_empty() {
        return Err(value_error("empty separator"));
    }
    Ok(list_of(kind, split_sep(&h, &sep, maxsplit, rev)))
}

fn b_split(vm: &mut Vm, args: Args) -> PyResult {
    split_common(vm, &args, "split", false)
}

fn b_rsplit(vm: &mut Vm, args: Args) -> PyResult {
    split_common(vm, &args, "rsplit", true)
}

fn b_splitlines(vm: &mut Vm, args: Args) -> PyResult {
    max_args(&args, "splitlines", 1)?;
    let (h, kind) = recv(&args)?;
    let keep = match opt(&args, 0, "keepends") {
        None => false,
        Some(v) => vm.truthy(v)?,
    };
    let mut out = Vec::new();
    let mut i = 0;
    let n = h.len();
    while i < n {
        let s = i;
        while i < n && h[i] != b'\n' && h[i] != b'\r' {
            i += 1;
        }
        let e = i;
        if i < n {
            if h[i] == b'\r' && i + 1 < n && h[i + 1] == b'\n' {
                i += 2;
            } else {
                i += 1;
            }
        }
        out.push(h[s..if keep { i } else { e }].to_vec());
    }
    Ok(list_of(kind, out))
}

fn partition_common(args: &Args, rev: bool) -> PyResult {
    if args.pos.len() != 2 {
        let name = if rev { "rpartition" } else { "partition" };
        return Err(type_error(format!("{name}() takes exactly one argument ({} given)", args.pos.len() - 1)));
    }
    let (h, kind) = recv(args)?;
    let sep = need_bytes_like(&args.pos[1])?;
    if sep.is_empty() {
        return Err(value_error("empty separator"));
    }
    let pos = crate::types::str::find_bytes(&h, &sep, rev);
    let parts = match pos {
        Some(p) => [h[..p].to_vec(), sep.to_vec(), h[p + sep.len()..].to_vec()],
        None if rev => [vec![], vec![], h.to_vec()],
        None => [h.to_vec(), vec![], vec![]],
    };
    Ok(Value::tuple(parts.into_iter().map(|p| make_kind(kind, p)).collect::<Vec<_>>()))
}

fn b_partition(_vm: &mut Vm, args: Args) -> PyResult {
    partition_common(&args, false)
}

fn b_rpartition(_vm: &mut Vm, args: Args) -> PyResult {
    partition_common(&args, true)
}

// ------------------------------------------------------------ transforming

fn strip_common(args: &Args, name: &str, left: bool, right: bool) -> PyResult {
    max_args(args, name, 1)?;
    let (h, kind) = recv(args)?;
    let chars: Vec<u8> = match args.pos.get(1) {
        None | Some(Value::None) => SPACE.to_vec(),
        Some(v) => need_bytes_like(v)?.into_vec(),
    };
    let mut s = 0;
    let mut e = h.len();
    if left {
        while s < e && chars.contains(&h[s]) {
            s += 1;
        }
    }
    if right {
        while e > s && chars.contains(&h[e - 1]) {
            e -= 1;
        }
    }
    Ok(make_kind(kind, h[s..e].to_vec()))
}

fn b_strip(_vm: &mut Vm, args: Args) -> PyResult {
    strip_common(&args, "strip", true, true)
}

fn b_lstrip(_vm: &mut Vm, args: Args) -> PyResult {
    strip_common(&args, "lstrip", true, false)
}

fn b_rstrip(_vm: &mut Vm, args: Args) -> PyResult {
    strip_common(&args, "rstrip", false, true)
}

fn map_bytes(args: &Args, name: &str, f: impl Fn(&[u8]) -> Vec<u8>) -> PyResult {
    if args.pos.len() > 1 || !args.kw.is_empty() {
        return Err(type_error(format!("{name}() takes no arguments ({} given)", args.pos.len() - 1)));
    }
    let (h, kind) = recv(args)?;
    Ok(make_kind(kind, f(&h)))
}

fn b_lower(_vm: &mut Vm, args: Args) -> PyResult {
    map_bytes(&args, "lower", |h| h.to_ascii_lowercase())
}

fn b_upper(_vm: &mut Vm, args: Args) -> PyResult {
    map_bytes(&args, "upper", |h| h.to_ascii_uppercase())
}

fn b_swapcase(_vm: &mut Vm, args: Args) -> PyResult {
    map_bytes(&args, "swapcase", |h| {
        h.iter().map(|&c| if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() }).collect()
    })
}

fn b_capitalize(_vm: &mut Vm, args: Args) -> PyResult {
    map_bytes(&args, "capitalize", |h| {
        h.iter().enumerate().map(|(i, &c)| if i == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect()
    })
}

fn b_title(_vm: &mut Vm, args: Args) -> PyResult {
    map_bytes(&args, "title", |h| {
        let mut prev_cased = false;
        h.iter()
            .map(|&c| {
                let r = if prev_cased { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() };
                prev_cased = c.is_ascii_alphabetic();
                r
            })
            .collect()
    })
}

fn pad_args(vm: &mut Vm, args: &Args, name: &str) -> PyResult<(Buf, Kind, usize, u8)> {
    need(args, name, 1)?;
    max_args(args, name, 2)?;
    let (h, kind) = recv(args)?;
    let w = vm.index_value(&args.pos[1])?.max(0) as usize;
    let fill = match args.pos.get(2) {
        None => b' ',
        Some(v) => match bytes_like(v) {
            Some(b) if b.len() == 1 => b[0],
            _ => return Err(type_error(format!("{name}() argument 2 must be a byte string of length 1, not {}", type_name(v)))),
        },
    };
    crate::ops::check_bytes(w)?;
    Ok((h, kind, w, fill))
}

fn b_center(vm: &mut Vm, args: Args) -> PyResult {
    let (h, kind, w, fill) = pad_args(vm, &args, "center")?;
    if w <= h.len() {
        return Ok(make_kind(kind, h.to_vec()));
    }
    let total = w - h.len();
    // CPython puts the odd byte on the left when the width is odd.
    let left = total / 2 + (total & w & 1);
    let mut out = vec![fill; left];
    out.extend_from_slice(&h);
    out.resize(w, fill);
    Ok(make_kind(kind, out))
}

fn b_ljust(vm: &mut Vm, args: Args) -> PyResult {
    let (h, kind, w, fill) = pad_args(vm, &args, "ljust")?;
    let mut out = h.to_vec();
    if w > out.len() {
        out.resize(w, fill);
    }
    Ok(make_kind(kind, out))
}

fn b_rjust(vm: &mut Vm, args: Args) -> PyResult {
    let (h, kind, w, fill) = pad_args(vm, &args, "rjust")?;
    if w <= h.len() {
        return Ok(make_kind(kind, h.to_vec()));
    }
    let mut out = vec![fill; w - h.len()];
    out.extend_from_slice(&h);
    Ok(make_kind(kind, out))
}

fn b_zfill(vm: &mut Vm, args: Args) -> PyResult {
    if args.pos.len() != 2 {
        return Err(type_error(format!("zfill() takes exactly one argument ({} given)", args.pos.len() - 1)));
    }
    let (h, kind) = recv(&args)?;
    let w = vm.index_value(&args.pos[1])?.max(0) as usize;
    if w <= h.len() {
        return Ok(make_kind(kind, h.to_vec()));
    }
    let fill = w - h.len();
    let mut out = crate::ops::try_vec(w)?;
    let (sign, rest) = match h.first() {
        Some(&c @ (b'+' | b'-')) => (Some(c), &h[1..]),
        _ => (None, &h[..]),
    };
    if let Some(s) = sign {
        out.push(s);
    }
    out.extend(std::iter::repeat_n(b'0', fill));
    out.extend_from_slice(rest);
    Ok(make_kind(kind, out))
}

fn b_expandtabs(vm: &mut Vm, args: Args) -> PyResult {
    max_args(&args, "expandtabs", 1)?;
    let (h, kind) = recv(&args)?;
    let tab = match opt(&args, 0, "tabsize") {
        None => 8,
        Some(v) => crate::ops::c_int(vm.index_value(v)?)?.into(),
    };
    let mut out = Vec::new();
    let mut col: i64 = 0;
    for &c in h.iter() {
        match c {
            b'\t' => {
                if tab > 0 {
                    let n = tab - col % tab;
                    crate::ops::check_bytes(out.len().saturating_add(n as usize))?;
                    out.extend(std::iter::repeat_n(b' ', n as usize));
                    col += n;
                }
            }
            b'\n' | b'\r' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    Ok(make_kind(kind, out))
}

fn b_replace(vm: &mut Vm, args: Args) -> PyResult {
    need(&args, "replace", 2)?;
    max_args(&args, "replace", 3)?;
    let (h, kind) = recv(&args)?;
    let old = need_bytes_like(&args.pos[1])?;
    let new = need_bytes_like(&args.pos[2])?;
    let mut left = match args.pos.get(3) {
        None => -1,
        Some(v) => vm.index_value(v)?,
    };
    if left < 0 {
        left = i64::MAX;
    }
    let mut out = Vec::with_capacity(h.len());
    if old.is_empty() {
        for (i, &c) in h.iter().enumerate() {
            if (i as i64) < left {
                out.extend_from_slice(&new);
            }
            out.push(c);
        }
        if (h.len() as i64) < left {
            out.extend_from_slice(&new);
        }
        return Ok(make_kind(kind, out));
    }
    let mut rest = &h[..];
    while left > 0 {
        match crate::types::str::find_bytes(rest, &old, false) {
            Some(p) => {
                out.extend_from_slice(&rest[..p]);
                out.extend_from_slice(&new);
                rest = &rest[p + old.len()..];
                left -= 1;
            }
            None => break,
        }
    }
    out.extend_from_slice(rest);
    Ok(make_kind(kind, out))
}

fn b_removeprefix(_vm: &mut Vm, args: Args) -> PyResult {
    let (h, kind) = recv(&args)?;
    let p = need_bytes_like(args.pos.get(1).unwrap_or(&Value::None))?;
    Ok(make_kind(kind, h.strip_prefix(&p[..]).unwrap_or(&h).to_vec()))
}

fn b_removesuffix(_vm: &mut Vm, args: Args) -> PyResult {
    let (h, kind) = recv(&args)?;
    let p = need_bytes_like(args.pos.get(1).unwrap_or(&Value::None))?;
    Ok(make_kind(kind, h.strip_suffix(&p[..]).unwrap_or(&h).to_vec()))
}

fn b_join(vm: &mut Vm, args: Args) -> PyResult {
    let (sep, kind) = recv(&args)?;
    let items = vm.collect(args.pos.get(1).unwrap_or(&Value::None))?;
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&sep);
        }
        match bytes_like(it) {
            Some(b) => out.extend_from_slice(&b),
            None => return Err(type_error(format!("sequence item {i}: expected a bytes-like object, {} found", type_name(it)))),
        }
    }
    Ok(make_kind(kind, out))
}

fn b_maketrans(_vm: &mut Vm, args: Args) -> PyResult {
    // A static method: the arguments are `from` and `to`.
    if args.pos.len() != 2 {
        return Err(type_error(format!("maketrans expected 2 arguments, got {}", args.pos.len())));
    }
    let from = need_bytes_like(&args.pos[0])?;
    let to = need_bytes_like(&args.pos[1])?;
    if from.len() != to.len() {
        return Err(value_error("maketrans arguments must have same length"));
    }
    let mut table: Vec<u8> = (0..=255).collect();
    for (a, b) in from.iter().zip(to.iter()) {
        table[*a as usize] = *b;
    }
    Ok(Value::bytes(table))
}

fn b_translate(_vm: &mut Vm, args: Args) -> PyResult {
    need(&args, "translate", 1)?;
    let (h, kind) = recv(&args)?;
    let table = match &args.pos[1] {
        Value::None => None,
        v => {
            let t = need_bytes_like(v)?;
            if t.len() != 256 {
                return Err(value_error("translation table must be 256 characters long"));
            }
            Some(t)
        }
    };
    let mut deleted = [false; 256];
    if let Some(v) = opt(&args, 1, "delete") {
        for &c in need_bytes_like(v)?.iter() {
            deleted[usize::from(c)] = true;
        }
    }
    let out = h
        .iter()
        .filter(|&&c| !deleted[usize::from(c)])
        .map(|&c| match &table {
            Some(t) => t[c as usize],
            None => c,
        })
        .collect();
    Ok(make_kind(kind, out))
}

// ------------------------------------------------------------ predicates

fn predicate(args: &Args, name: &str, empty: bool, f: impl Fn(&[u8]) -> bool) -> PyResult {
    if args.pos.len() > 1 {
        return Err(type_error(format!("{name}() takes no arguments ({} given)", args.pos.len() - 1)));
    }
    let (h, _) = recv(args)?;
    Ok(Value::bool(if h.is_empty() { empty } else { f(&h) }))
}

fn b_isalnum(_vm: &mut Vm, a: Args) -> PyResult {
    predicate(&a, "isalnum", false, |h| h.iter().all(u8::is_ascii_alphanumeric))
}
fn b_isalpha(_vm: &mut Vm, a: Args) -> PyResult {
    predicate(&a, "isalpha", false, |h| h.iter().all(u8::is_ascii_alphabetic))
}
fn b_isascii(_vm: &mut Vm, a: Args) -> PyResult {
    predicate(&a, "isascii", true, |h| h.is_ascii())
}
fn b_isdigit(_vm: &mut Vm, a: Args) -> PyResult {
    predicate(&a, "isdigit", false, |h| h.iter().all(u8::is_ascii_digit))
}
fn b_isspace(_vm: &mut Vm, a: Args) -> PyResult {
    predicate(&a, "isspace", false, |h| h.iter().all(|&c| is_space(c)))
}
fn b_islower(_vm: &mut Vm, a: Args) -> PyResult {
    predicate(&a, "islower", false, |h| h.iter().any(u8::is_ascii_lowercase) && !h.iter().any(u8::is_ascii_uppercase))
}
fn b_isupper(_vm: &mut Vm, a: Args) -> PyResult {
    predicate(&a, "isupper", false, |h| h.iter().any(u8::is_ascii_uppercase) && !h.iter().any(u8::is_ascii_lowercase))
}
fn b_istitle(_vm: &mut Vm, a: Args) -> PyResult {
    predicate(&a, "istitle", false, |h| {
        let (mut cased, mut prev) = (false, false);
        for &c in h {
            if c.is_ascii_uppercase() {
                if prev {
                    return false;
                }
                prev = true;
                cased = true;
            } else if c.is_ascii_lowercase() {
                if !prev {
                    return false;
                }
                prev = true;
                cased = true;
            } else {
                prev = false;
            }
        }
        cased
    })
}

// ------------------------------------------------------------ conversions

fn b_decode(_vm: &mut Vm, args: Args) -> PyResult {
    let (b, _) = recv(&args)?;
    let (codec, errors) = crate::codecs::codec_args(&args, 1, "decode")?;
    Ok(Value::string(crate::codecs::decode(codec, &b, &errors)?))
}

/// `data.hex(sep, bytes_per_sep)`, also for memoryview.
pub fn hex_with(vm: &mut Vm, data: &[u8], sep: Option<&Value>, per: Option<&Value>) -> PyResult<String> {
    let sep: Option<u8> = match sep {
        None | Some(Value::None) => None,
        Some(Value::Str(s)) => {
            if s.char_len() != 1 {
                return Err(value_error("sep must be length 1."));
            }
            let c = s.chars().next().unwrap_or(' ');
            if !c.is_ascii() {
                return Err(value_error("sep must be ASCII."));
            }
            Some(c as u8)
        }
        Some(v) => match bytes_like(v) {
            Some(b) if b.len() == 1 => Some(b[0]),
            Some(_) => return Err(value_error("sep must be length 1.")),
            None => return Err(type_error(format!("object of type '{}' has no len()", type_name(v)))),
        },
    };
    let per = match per {
        None => 1,
        Some(v) => vm.index_value(v)?,
    };
    let digits = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let Some(sep) = sep.filter(|_| per != 0 && !data.is_empty()) else {
        return Ok(digits(data));
    };
    let size = per.unsigned_abs() as usize;
    let mut groups: Vec<String> = Vec::new();
    if per > 0 {
        // Groups counted from the right.
        let first = data.len() % size;
        if first > 0 {
            groups.push(digits(&data[..first]));
        }
        for c in data[first..].chunks(size) {
            groups.push(digits(c));
        }
    } else {
        for c in data.chunks(size) {
            groups.push(digits(c));
        }
    }
    Ok(groups.join(&(sep as char).to_string()))
}

fn b_hex(vm: &mut Vm, args: Args) -> PyResult {
    max_args(&args, "hex", 2)?;
    let (b, _) = recv(&args)?;
    let sep = opt(&args, 0, "sep").cloned();
    let per = opt(&args, 1, "bytes_per_sep").cloned();
    Ok(Value::string(hex_with(vm, &b, sep.as_ref(), per.as_ref())?))
}

/// The bytes of `bytes.fromhex(s)`.
pub fn parse_hex(s: &str) -> PyResult<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let bad = |i: usize| value_error(format!("non-hexadecimal number found in fromhex() arg at position {}", s[..i].chars().count()));
    while i < b.len() {
        if b[i].is_ascii_whitespace() || b[i] == 0x0b {
            i += 1;
            continue;
        }
        let hi = (b[i] as char).to_digit(16).ok_or_else(|| bad(i))?;
        i += 1;
        let lo = b.get(i).and_then(|&c| (c as char).to_digit(16)).ok_or_else(|| bad(i.min(b.len())))?;
        i += 1;
        out.push((hi * 16 + lo) as u8);
    }
    Ok(out)
}

fn b_fromhex(vm: &mut Vm, args: Args) -> PyResult {
    let s = match args.pos.get(1) {
        Some(Value::Str(s)) => s.clone(),
        Some(v) => return Err(type_error(format!("fromhex() argument must be str, not {}", type_name(v)))),
        None => return Err(type_error("fromhex() takes exactly one argument (0 given)")),
    };
    let data = parse_hex(&s)?;
    match args.pos.first() {
        Some(Value::Class(c)) if Rc::ptr_eq(c, &crate::types::types().bytes) => Ok(Value::bytes(data)),
        Some(Value::Class(c)) if Rc::ptr_eq(c, &bytearray::bytearray_class()) => Ok(bytearray::new(data)),
        Some(cls) => vm.call(cls.clone(), Args::new([Value::bytes(data)])),
        None => Ok(Value::bytes(data)),
    }
}

fn b_len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(recv(&args)?.0.len() as i64))
}

fn b_bytes(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bytes(recv(&args)?.0.into_vec()))
}

fn b_getnewargs(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::tuple([Value::bytes(recv(&args)?.0.into_vec())]))
}

/// The methods `bytes` and `bytearray` share.
pub fn shared_methods() -> &'static [(&'static str, NativeFnPtr)] {
    &[
        ("capitalize", b_capitalize),
        ("center", b_center),
        ("count", b_count),
        ("decode", b_decode),
        ("endswith", b_endswith),
        ("expandtabs", b_expandtabs),
        ("find", b_find),
        ("hex", b_hex),
        ("index", b_index),
        ("isalnum", b_isalnum),
        ("isalpha", b_isalpha),
        ("isascii", b_isascii),
        ("isdigit", b_isdigit),
        ("islower", b_islower),
        ("isspace", b_isspace),
        ("istitle", b_istitle),
        ("isupper", b_isupper),
        ("join", b_join),
        ("ljust", b_ljust),
        ("lower", b_lower),
        ("lstrip", b_lstrip),
        ("partition", b_partition),
        ("removeprefix", b_removeprefix),
        ("removesuffix", b_removesuffix),
        ("replace", b_replace),
        ("rfind", b_rfind),
        ("rindex", b_rindex),
        ("rjust", b_rjust),
        ("rpartition", b_rpartition),
        ("rsplit", b_rsplit),
        ("rstrip", b_rstrip),
        ("split", b_split),
        ("splitlines", b_splitlines),
        ("startswith", b_startswith),
        ("strip", b_strip),
        ("swapcase", b_swapcase),
        ("title", b_title),
        ("translate", b_translate),
        ("upper", b_upper),
        ("zfill", b_zfill),
    ]
}

/// Install the shared methods, `fromhex` and `maketrans` on a class.
pub fn install_shared(c: &Rc<Class>, owner: &'static str) {
    for (name, f) in shared_methods() {
        method(c, owner, name, *f);
    }
    class_function(c, "fromhex", b_fromhex, true);
    class_function(c, "maketrans", b_maketrans, false);
}

/// Install the bytes methods.
pub fn install(t: &'static Types) {
    let c = &t.bytes;
    install_shared(c, "bytes");
    method(c, "bytes", "__len__", b_len);
    method(c, "bytes", "__bytes__", b_bytes);
    method(c, "bytes", "__getnewargs__", b_getnewargs);
}
