//! `_json`: the native encoder and decoder under `json`, with CPython's
//! output (separators, indentation, float reprs, escapes) and its
//! `JSONDecodeError` messages and positions.

use std::cell::RefCell;
use std::fmt::Write;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::numfmt::{float_repr, int_to_str};
use aio_interp::object::*;
use aio_interp::types::{native_fn, type_name};
use aio_interp::{Value, Vm};
use num_bigint::BigInt;

thread_local! {
    static DECODE_ERROR: RefCell<Option<Value>> = const { RefCell::new(None) };
}

// ---------------------------------------------------------------- encoding

/// The encoder's settings, as `JSONEncoder` holds them.
struct Enc {
    skipkeys: bool,
    ensure_ascii: bool,
    check_circular: bool,
    allow_nan: bool,
    sort_keys: bool,
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    default: Option<Value>,
    /// Containers being encoded (by address), to catch a cycle.
    stack: Vec<usize>,
}

/// Append `s` as a JSON string literal.
fn quote(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, ch) in s.char_indices() {
        let esc: Option<&str> = match ch {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\x08' => Some("\\b"),
            '\x0c' => Some("\\f"),
            _ => None,
        };
        let needs = esc.is_some() || (ch as u32) < 0x20 || (ensure_ascii && !ch.is_ascii());
        if !needs {
            continue;
        }
        out.push_str(&s[start..i]);
        start = i + ch.len_utf8();
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let c = ch as u32;
                if c >= 0x10000 {
                    let v = c - 0x10000;
                    let _ = write!(out, "\\u{:04x}\\u{:04x}", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
                } else {
                    let _ = write!(out, "\\u{c:04x}");
                }
            }
        }
    }
    out.push_str(std::str::from_utf8(&bytes[start..]).unwrap_or(""));
    out.push('"');
}

fn float_text(enc: &Enc, x: f64) -> PyResult<String> {
    if x.is_finite() {
        return Ok(float_repr(x));
    }
    if !enc.allow_nan {
        return Err(value_error("Out of range float values are not JSON compliant"));
    }
    Ok(if x.is_nan() {
        "NaN".into()
    } else if x > 0.0 {
        "Infinity".into()
    } else {
        "-Infinity".into()
    })
}

/// The value a builtin-subclass instance stands for (a dict subclass's dict, ...).
fn plain(v: &Value) -> Value {
    if let Value::Instance(i) = v {
        if let Some(b) = i.builtin_value() {
            if matches!(
                b,
                Value::Dict(_) | Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Int(_) | Value::BigInt(_) | Value::Float(_)
            ) {
                return b;
            }
        }
    }
    v.clone()
}

impl Enc {
    fn newline(&self, out: &mut String, level: usize) {
        if let Some(ind) = &self.indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(ind);
            }
        }
    }

    fn enter(&mut self, v: &Value) -> PyResult<Option<usize>> {
        if !self.check_circular {
            return Ok(None);
        }
        let id = v.ptr().unwrap_or(0);
        if self.stack.contains(&id) {
            return Err(value_error("Circular reference detected"));
        }
        self.stack.push(id);
        Ok(Some(id))
    }

    fn leave(&mut self, id: Option<usize>) {
        if id.is_some() {
            self.stack.pop();
        }
    }

    fn encode(&mut self, vm: &mut Vm, out: &mut String, v: &Value, level: usize) -> PyResult<()> {
        if !matches!(v, Value::List(_) | Value::Tuple(_) | Value::Dict(_) | Value::Instance(_) | Value::Object(_)) {
            return self.encode_value(vm, out, v, level);
        }
        vm.enter_nested(" while encoding a JSON object")?;
        let r = self.encode_value(vm, out, v, level);
        vm.leave_nested();
        r
    }

    fn encode_value(&mut self, vm: &mut Vm, out: &mut String, v: &Value, level: usize) -> PyResult<()> {
        match v {
            Value::None => out.push_str("null"),
            Value::Bool(b) => out.push_str(if b.get() { "true" } else { "false" }),
            Value::Int(i) => {
                let mut buf = itoa::Buffer::new();
                out.push_str(buf.format(*i));
            }
            Value::BigInt(b) => out.push_str(&int_to_str(b).map_err(|e| value_error(e.to_string()))?),
            Value::Float(f) => out.push_str(&float_text(self, f.get())?),
            Value::Str(s) => quote(out, s.as_str(), self.ensure_ascii),
            Value::List(_) | Value::Tuple(_) => {
                let items: Vec<Value> = match v {
                    Value::List(l) => l.to_vec(),
                    Value::Tuple(t) => t.items.to_vec(),
                    _ => unreachable!("a list or tuple"),
                };
                if items.is_empty() {
                    out.push_str("[]");
                    return Ok(());
                }
                let id = self.enter(v)?;
                out.push('[');
                self.newline(out, level + 1);
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        out.push_str(&self.item_sep);
                        self.newline(out, level + 1);
                    }
                    self.encode(vm, out, item, level + 1)?;
                }
                self.newline(out, level);
                out.push(']');
                self.leave(id);
            }
            Value::Dict(d) => {
                let mut items = d.items();
                if items.is_empty() {
                    out.push_str("{}");
                    return Ok(());
                }
                let id = self.enter(v)?;
                if self.sort_keys {
                    let keys: Vec<Value> = items.iter().map(|(k, _)| k.clone()).collect();
                    let sorted = aio_interp::types::list::sort_values(vm, keys, None, false)?;
                    let mut by_key = Vec::with_capacity(items.len());
                    for k in sorted {
                        let pos = items.iter().position(|(x, _)| x.is(&k)).unwrap_or(0);
                        by_key.push(items.swap_remove(pos));
                    }
                    items = by_key;
                }
                out.push('{');
                self.newline(out, level + 1);
                let mut first = true;
                for (k, val) in items {
                    let key = match plain(&k) {
                        Value::Str(s) => s.as_str().to_string(),
                        Value::Bool(b) => (if b.get() { "true" } else { "false" }).to_string(),
                        Value::None => "null".to_string(),
                        Value::Int(i) => i.to_string(),
                        Value::BigInt(b) => int_to_str(&b).map_err(|e| value_error(e.to_string()))?,
                        Value::Float(f) => float_text(self, f.get())?,
                        other => {
                            if self.skipkeys {
                                continue;
                            }
                            return Err(type_error(format!("keys must be str, int, float, bool or None, not {}", type_name(&other))));
                        }
                    };
                    if !first {
                        out.push_str(&self.item_sep);
                        self.newline(out, level + 1);
                    }
                    first = false;
                    quote(out, &key, self.ensure_ascii);
                    out.push_str(&self.key_sep);
                    self.encode(vm, out, &val, level + 1)?;
                }
                self.newline(out, level);
                out.push('}');
                self.leave(id);
            }
            Value::Instance(_) if !plain(v).is(v) => {
                let p = plain(v);
                return self.encode(vm, out, &p, level);
            }
            _ => {
                let Some(default) = self.default.clone() else {
                    let cls = aio_interp::types::type_of(v);
                    return Err(type_error(format!("Object of type {} is not JSON serializable", cls.name().as_str())));
                };
                let id = self.enter(v)?;
                let r = vm.call(default, Args::new([v.clone()]))?;
                self.encode(vm, out, &r, level)?;
                self.leave(id);
            }
        }
        Ok(())
    }
}

fn truthy(vm: &mut Vm, v: Option<Value>, dflt: bool) -> PyResult<bool> {
    match v {
        None => Ok(dflt),
        Some(v) => vm.truthy(&v),
    }
}

/// `_json.encode(obj, skipkeys, ensure_ascii, check_circular, allow_nan,
/// sort_keys, indent, separators, default)`, all positional.
fn encode(vm: &mut Vm, a: Args) -> PyResult {
    let get = |i: usize| a.pos.get(i).cloned().filter(|v| !v.is_none());
    let obj = a.pos.first().cloned().unwrap_or(Value::None);
    let indent = match get(6) {
        None => None,
        Some(Value::Str(s)) => Some(s.as_str().to_string()),
        Some(v) => {
            // `indent=2**62` is a MemoryError, as `" " * indent` is.
            let n = vm.index_value(&v)?.max(0) as usize;
            let mut s = aio_interp::ops::try_string(n)?;
            s.extend(std::iter::repeat_n(' ', n));
            Some(s)
        }
    };
    let (item_sep, key_sep) = match get(7) {
        Some(sep) => {
            let parts = vm.collect(&sep)?;
            if parts.len() != 2 {
                return Err(value_error(format!("too many values to unpack (expected 2, got {})", parts.len())));
            }
            (vm.str_of(&parts[0])?, vm.str_of(&parts[1])?)
        }
        None if indent.is_some() => (",".to_string(), ": ".to_string()),
        None => (", ".to_string(), ": ".to_string()),
    };
    let mut enc = Enc {
        skipkeys: truthy(vm, get(1), false)?,
        ensure_ascii: truthy(vm, get(2), true)?,
        check_circular: truthy(vm, get(3), true)?,
        allow_nan: truthy(vm, get(4), true)?,
        sort_keys: truthy(vm, get(5), false)?,
        indent,
        item_sep,
        key_sep,
        default: get(8),
        stack: Vec::new(),
    };
    let mut out = String::new();
    enc.encode(vm, &mut out, &obj, 0)?;
    Ok(Value::string(out))
}

/// `_json.quote(s, ensure_ascii)`: a str as a JSON string literal.
fn quote_fn(vm: &mut Vm, a: Args) -> PyResult {
    let Some(Value::Str(s)) = a.pos.first() else {
        return Err(type_error(format!("first argument must be a string, not {}", a.pos.first().map(type_name).unwrap_or_default())));
    };
    let ascii = truthy(vm, a.pos.get(1).cloned(), true)?;
    let mut out = String::with_capacity(s.as_str().len() + 2);
    quote(&mut out, s.as_str(), ascii);
    Ok(Value::string(out))
}

// ---------------------------------------------------------------- decoding

struct Dec<'a> {
    s: &'a str,
    b: &'a [u8],
    ascii: bool,
    doc: Value,
    strict: bool,
    object_hook: Option<Value>,
    pairs_hook: Option<Value>,
    parse_float: Option<Value>,
    parse_int: Option<Value>,
    parse_constant: Option<Value>,
    /// Object keys met so far, shared as CPython's decoder shares them.
    memo: std::collections::HashMap<&'a str, Rc<PyStr>, foldhash::fast::RandomState>,
}

impl<'a> Dec<'a> {
    /// The character position of byte `b`.
    fn char_pos(&self, b: usize) -> usize {
        if self.ascii {
            b
        } else {
            self.s[..b.min(self.s.len())].chars().count()
        }
    }

    fn fail(&self, vm: &mut Vm, msg: &str, at: usize) -> PyErr {
        let pos = self.char_pos(at);
        let cls = DECODE_ERROR.with(|e| e.borrow().clone());
        let Some(cls) = cls else { return value_error(msg.to_string()) };
        match vm.call(cls, Args::new([Value::str(msg), self.doc.clone(), Value::Int(pos as i64)])) {
            Ok(v) => from_raise_operand(vm, v).unwrap_or_else(|e| e),
            Err(e) => e,
        }
    }

    fn ws(&self, mut i: usize) -> usize {
        while i < self.b.len() && matches!(self.b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }

    fn value(&mut self, vm: &mut Vm, i: usize) -> PyResult<(Value, usize)> {
        let Some(&c) = self.b.get(i) else {
            return Err(self.fail(vm, "Expecting value", i));
        };
        match c {
            b'"' => {
                let (s, e) = self.string(vm, i + 1, false)?;
                Ok((Value::Str(s), e))
            }
            b'{' | b'[' => {
                let (what, r) = if c == b'{' {
                    (" while decoding a JSON object from a unicode string", Self::object as fn(&mut Self, &mut Vm, usize) -> _)
                } else {
                    (" while decoding a JSON array from a unicode string", Self::array as fn(&mut Self, &mut Vm, usize) -> _)
                };
                vm.enter_nested(what)?;
                let r = r(self, vm, i + 1);
                vm.leave_nested();
                r
            }
            b'n' if self.b[i..].starts_with(b"null") => Ok((Value::None, i + 4)),
            b't' if self.b[i..].starts_with(b"true") => Ok((Value::bool(true), i + 4)),
            b'f' if self.b[i..].starts_with(b"false") => Ok((Value::bool(false), i + 5)),
            b'N' if self.b[i..].starts_with(b"NaN") => self.constant(vm, "NaN", f64::NAN, i + 3),
            b'I' if self.b[i..].starts_with(b"Infinity") => self.constant(vm, "Infinity", f64::INFINITY, i + 8),
            b'-' if self.b[i..].starts_with(b"-Infinity") => self.constant(vm, "-Infinity", f64::NEG_INFINITY, i + 9),
            b'-' | b'0'..=b'9' => self.number(vm, i),
            _ => Err(self.fail(vm, "Expecting value", i)),
        }
    }

    fn constant(&mut self, vm: &mut Vm, name: &str, x: f64, end: usize) -> PyResult<(Value, usize)> {
        match &self.parse_constant {
            Some(f) => Ok((vm.call(f.clone(), Args::new([Value::str(name)]))?, end)),
            None => Ok((Value::float(x), end)),
        }
    }

    fn number(&mut self, vm: &mut Vm, start: usize) -> PyResult<(Value, usize)> {
        let b = self.b;
        let mut i = start;
        if b[i] == b'-' {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            _ => return Err(self.fail(vm, "Expecting value", start)),
        }
        let mut is_float = false;
        if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
            is_float = true;
            i += 2;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            let mut j = i + 1;
            if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                j += 1;
            }
            if j < b.len() && b[j].is_ascii_digit() {
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                is_float = true;
                i = j;
            }
        }
        let text = &self.s[start..i];
        if is_float {
            if let Some(f) = &self.parse_float {
                return Ok((vm.call(f.clone(), Args::new([Value::str(text)]))?, i));
            }
            let x: f64 = text.parse().unwrap_or(f64::NAN);
            return Ok((Value::float(x), i));
        }
        if let Some(f) = &self.parse_int {
            return Ok((vm.call(f.clone(), Args::new([Value::str(text)]))?, i));
        }
        match text.parse::<i64>() {
            Ok(n) => Ok((Value::Int(n), i)),
            Err(_) => {
                let big: BigInt = text.parse().map_err(|_| value_error("bad int"))?;
                Ok((Value::from_bigint(big), i))
            }
        }
    }

    /// The end of the run of string bytes from `j` that need no decoding:
    /// up to a quote, a backslash, or (strict) a control character.
    fn plain_run(&self, mut j: usize) -> usize {
        let b = self.b;
        while let Some(&c) = b.get(j) {
            if STRING_STOP[usize::from(c)] && (c == b'"' || c == b'\\' || self.strict) {
                break;
            }
            j += 1;
        }
        j
    }

    /// A string whose opening quote is just before `i`; a `key` is shared
    /// with the earlier keys of the same text.
    fn string(&mut self, vm: &mut Vm, i: usize, key: bool) -> PyResult<(Rc<PyStr>, usize)> {
        let b = self.b;
        // The fast case: no escapes, no control characters.
        let mut j = self.plain_run(i);
        if j < b.len() && b[j] == b'"' {
            let raw = &self.s[i..j];
            let s = if key { self.memo.entry(raw).or_insert_with(|| Rc::new(PyStr::new(raw))).clone() } else { Rc::new(PyStr::new(raw)) };
            return Ok((s, j + 1));
        }
        let mut out = String::from(&self.s[i..j]);
        loop {
            let Some(&c) = b.get(j) else {
                return Err(self.fail(vm, "Unterminated string starting at", i - 1));
            };
            match c {
                b'"' => return Ok((Rc::new(PyStr::from_string(out)), j + 1)),
                b'\\' => {
                    let Some(&e) = b.get(j + 1) else {
                        return Err(self.fail(vm, "Unterminated string starting at", i - 1));
                    };
                    let simple = match e {
                        b'"' => Some('"'),
                        b'\\' => Some('\\'),
                        b'/' => Some('/'),
                        b'b' => Some('\x08'),
                        b'f' => Some('\x0c'),
                        b'n' => Some('\n'),
                        b'r' => Some('\r'),
                        b't' => Some('\t'),
                        _ => None,
                    };
                    if let Some(ch) = simple {
                        out.push(ch);
                        j += 2;
                        continue;
                    }
                    if e != b'u' {
                        return Err(self.fail(vm, "Invalid \\escape", j));
                    }
                    let hex = |k: usize| -> Option<u32> {
                        let h = self.s.get(k..k + 4)?;
                        if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                            return None;
                        }
                        u32::from_str_radix(h, 16).ok()
                    };
                    let Some(u) = hex(j + 2) else {
                        return Err(self.fail(vm, "Invalid \\uXXXX escape", j + 1));
                    };
                    j += 6;
                    let mut code = u;
                    if (0xd800..0xdc00).contains(&u) && b.get(j) == Some(&b'\\') && b.get(j + 1) == Some(&b'u') {
                        if let Some(lo) = hex(j + 2) {
                            if (0xdc00..0xe000).contains(&lo) {
                                code = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                                j += 6;
                            }
                        }
                    }
                    // A lone surrogate cannot live in a Rust string.
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                c if c < 0x20 && self.strict => return Err(self.fail(vm, "Invalid control character at", j)),
                _ => {
                    let k = j;
                    j += 1;
                    j = self.plain_run(j);
                    out.push_str(&self.s[k..j]);
                }
            }
        }
    }

    fn object(&mut self, vm: &mut Vm, i: usize) -> PyResult<(Value, usize)> {
        let mut pairs: Vec<(Value, Value)> = Vec::new();
        let d = Rc::new(PyDict::new());
        let use_pairs = self.pairs_hook.is_some();
        let mut i = self.ws(i);
        if self.b.get(i) == Some(&b'}') {
            return self.finish_object(vm, d, pairs, i + 1);
        }
        loop {
            if self.b.get(i) != Some(&b'"') {
                return Err(self.fail(vm, "Expecting property name enclosed in double quotes", i));
            }
            let (key, e) = self.string(vm, i + 1, true)?;
            i = self.ws(e);
            if self.b.get(i) != Some(&b':') {
                return Err(self.fail(vm, "Expecting ':' delimiter", i));
            }
            i = self.ws(i + 1);
            let (val, e) = self.value(vm, i)?;
            if use_pairs {
                pairs.push((Value::Str(key), val));
            } else {
                d.set_str_rc(key, val);
            }
            i = self.ws(e);
            match self.b.get(i) {
                Some(b',') => {
                    i = self.ws(i + 1);
                }
                Some(b'}') => return self.finish_object(vm, d, pairs, i + 1),
                _ => return Err(self.fail(vm, "Expecting ',' delimiter", i)),
            }
        }
    }

    fn finish_object(&mut self, vm: &mut Vm, d: Rc<PyDict>, pairs: Vec<(Value, Value)>, end: usize) -> PyResult<(Value, usize)> {
        if let Some(h) = self.pairs_hook.clone() {
            let list = Value::list(pairs.into_iter().map(|(k, v)| Value::tuple(vec![k, v])).collect::<Vec<_>>());
            return Ok((vm.call(h, Args::new([list]))?, end));
        }
        let dv = Value::Dict(d);
        if let Some(h) = self.object_hook.clone() {
            return Ok((vm.call(h, Args::new([dv]))?, end));
        }
        Ok((dv, end))
    }

    fn array(&mut self, vm: &mut Vm, i: usize) -> PyResult<(Value, usize)> {
        let mut items = Vec::new();
        let mut i = self.ws(i);
        if self.b.get(i) == Some(&b']') {
            return Ok((Value::list(items), i + 1));
        }
        loop {
            let (v, e) = self.value(vm, i)?;
            items.push(v);
            i = self.ws(e);
            match self.b.get(i) {
                Some(b',') => i = self.ws(i + 1),
                Some(b']') => return Ok((Value::list(items), i + 1)),
                _ => return Err(self.fail(vm, "Expecting ',' delimiter", i)),
            }
        }
    }
}

/// The bytes that may end a plain run in a JSON string: a quote, a
/// backslash and the control characters.
const STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// `_json.decode(s, strict, object_hook, object_pairs_hook, parse_float,
/// parse_int, parse_constant, idx)`: the value at `idx` (characters) and
/// where it ends, or with `idx` None the whole document.
fn decode(vm: &mut Vm, a: Args) -> PyResult {
    let get = |i: usize| a.pos.get(i).cloned().filter(|v| !v.is_none());
    let doc = a.pos.first().cloned().unwrap_or(Value::None);
    let Value::Str(s) = &doc else {
        return Err(type_error(format!("the JSON object must be str, bytes or bytearray, not {}", type_name(&doc))));
    };
    let text = s.as_str();
    let strict = truthy(vm, get(1), true)?;
    let mut dec = Dec {
        s: text,
        b: text.as_bytes(),
        ascii: s.is_ascii(),
        doc: doc.clone(),
        strict,
        object_hook: get(2),
        pairs_hook: get(3),
        parse_float: get(4),
        parse_int: get(5),
        parse_constant: get(6),
        memo: Default::default(),
    };
    if let Some(idx) = get(7) {
        // raw_decode: from a character index, returning (value, end).
        let ci = vm.index_value(&idx)?;
        if ci < 0 {
            return Err(value_error("idx cannot be negative"));
        }
        let bi = if dec.ascii {
            (ci as usize).min(text.len())
        } else {
            text.char_indices().nth(ci as usize).map(|(b, _)| b).unwrap_or(text.len())
        };
        let (v, e) = dec.value(vm, bi)?;
        return Ok(Value::tuple(vec![v, Value::Int(dec.char_pos(e) as i64)]));
    }
    let start = dec.ws(0);
    let (v, e) = dec.value(vm, start)?;
    let end = dec.ws(e);
    if end != text.len() {
        return Err(dec.fail(vm, "Extra data", end));
    }
    Ok(v)
}

/// The `_json` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_json",
        vec![
            ("encode", native_fn("encode", encode)),
            ("decode", native_fn("decode", decode)),
            ("quote", native_fn("quote", quote_fn)),
            (
                "_set_error",
                native_fn("_set_error", |_vm, a| {
                    DECODE_ERROR.with(|e| *e.borrow_mut() = a.pos.first().cloned());
                    Ok(Value::None)
                }),
            ),
        ],
    ))
}
