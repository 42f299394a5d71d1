//! `str`: construction, indexing and slicing by code point, the string
//! methods, `str.format` and printf-style `%` formatting.

use crate::value::Flag;
use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::types::{arg, check_args, check_count, class_function, method, method_fast, slice_indices, type_name, Types};
use crate::value::Value;
use crate::vm::Vm;

thread_local! {
    static ASCII_CHARS: Vec<Rc<PyStr>> = (0u8..128).map(|b| Rc::new(PyStr::new(std::str::from_utf8(&[b]).unwrap_or("")))).collect();
}

/// A one-character string, shared for ASCII.
pub fn char_str(c: &str) -> Rc<PyStr> {
    let b = c.as_bytes();
    if b.len() == 1 && b[0] < 128 {
        return ascii_char(b[0]);
    }
    Rc::new(PyStr::new(c))
}

/// The one-character string of `c` (shared for ASCII).
pub fn char_value(c: char) -> Rc<PyStr> {
    if c.is_ascii() {
        return ascii_char(c as u8);
    }
    let mut buf = [0u8; 4];
    Rc::new(PyStr::new(c.encode_utf8(&mut buf)))
}

/// The shared one-character string of ASCII byte `b` (below 128).
#[inline]
pub fn ascii_char(b: u8) -> Rc<PyStr> {
    ASCII_CHARS.with(|t| t[(b & 0x7f) as usize].clone())
}

/// `str(i)` for an int that fits in 64 bits (one digit: the shared string).
pub fn int_str(i: i64) -> Value {
    let mut buf = itoa::Buffer::new();
    let s = buf.format(i);
    if s.len() == 1 {
        return Value::Str(char_str(s));
    }
    Value::Str(Rc::new(PyStr::new(s)))
}

/// `ascii(x)` from `repr(x)`: non-ASCII characters escaped.
pub fn ascii_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let n = c as u32;
        if n < 128 {
            out.push(c);
        } else if n < 0x100 {
            out.push_str(&format!("\\x{n:02x}"));
        } else if n < 0x10000 {
            out.push_str(&format!("\\u{n:04x}"));
        } else {
            out.push_str(&format!("\\U{n:08x}"));
        }
    }
    out
}

/// `str(object='')` / `str(bytes, encoding)`.
pub fn construct(vm: &mut Vm, mut args: Args) -> PyResult {
    if args.kw.is_empty() && args.pos.len() == 1 {
        match &args.pos[0] {
            Value::Int(i) => return Ok(int_str(*i)),
            Value::Str(_) => return Ok(args.pos[0].clone()),
            _ => {}
        }
    }
    let obj = match args.pos.first() {
        Some(o) => o.clone(),
        None => match args.take_kw("object") {
            Some(o) => o,
            None => return Ok(Value::str("")),
        },
    };
    if args.pos.len() > 1 || args.kw.iter().any(|(k, _)| matches!(k.as_str(), "encoding" | "errors")) {
        if let Some(b) = crate::types::bytes::bytes_like(&obj) {
            let (codec, errors) = crate::codecs::codec_args(&args, 1, "str")?;
            return Ok(Value::string(crate::codecs::decode(codec, &b, &errors)?));
        }
        return Err(type_error(format!("decoding to str: need a bytes-like object, {} found", type_name(&obj))));
    }
    vm.str_value(&obj)
}

fn s(args: &[Value]) -> PyResult<Rc<PyStr>> {
    match args.first() {
        Some(Value::Str(s)) => Ok(s.clone()),
        Some(Value::Instance(i)) => match i.builtin_value() {
            Some(Value::Str(s)) => Ok(s),
            _ => Err(type_error("descriptor requires a 'str' object")),
        },
        _ => Err(type_error("descriptor requires a 'str' object")),
    }
}

fn str_arg(args: &[Value], i: usize, what: &str) -> PyResult<Rc<PyStr>> {
    match args.get(i + 1) {
        Some(Value::Str(s)) => Ok(s.clone()),
        Some(other) => Err(type_error(format!("{what} must be str, not {}", type_name(other)))),
        None => Err(type_error(format!("{what} missing"))),
    }
}

/// `s[i]` and `s[a:b:c]`.
pub fn getitem(vm: &mut Vm, s: &Rc<PyStr>, i: &Value) -> PyResult {
    match i {
        Value::Slice(sl) => {
            let (start, _stop, step, count) = slice_indices(vm, sl, s.char_len())?;
            Ok(slice_of(s, start, step, count))
        }
        _ => {
            let idx = match i {
                Value::BigInt(_) => return Err(crate::ops::index_too_big()),
                Value::Int(_) | Value::Bool(_) | Value::Instance(_) => {
                    vm.index_value(i).map_err(|_| type_error(format!("string indices must be integers, not '{}'", type_name(i))))?
                }
                _ => return Err(type_error(format!("string indices must be integers, not '{}'", type_name(i)))),
            };
            match s.item(idx) {
                Some(c) => Ok(Value::Str(char_value(c))),
                None => Err(index_error("string index out of range")),
            }
        }
    }
}

/// `s[start::step]` taking `count` characters (a slice resolved by
/// `types::adjust_slice`): the str itself when that is all of it, as
/// CPython gives.
pub fn slice_of(s: &Rc<PyStr>, start: i64, step: i64, count: usize) -> Value {
    if step == 1 {
        if start == 0 && count == s.char_len() {
            return Value::Str(s.clone());
        }
        let a = s.byte_offset(start as usize);
        let b = s.byte_offset(start as usize + count);
        return Value::str(&s.as_str()[a..b]);
    }
    let mut out = String::with_capacity(count);
    if s.is_ascii() {
        let bytes = s.as_str().as_bytes();
        let mut k = start;
        for _ in 0..count {
            out.push(bytes[k as usize] as char);
            k += step;
        }
        return Value::string(out);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut k = start;
    for _ in 0..count {
        out.push(chars[k as usize]);
        k += step;
    }
    Value::string(out)
}

/// Resolve optional `start`/`end` arguments to a byte range of `s`.
fn sub_range(vm: &mut Vm, s: &PyStr, start: Option<&Value>, end: Option<&Value>) -> PyResult<Option<(usize, usize)>> {
    let n = s.char_len() as i64;
    let norm = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
    // A start past the end is kept: the range is then empty, and even an
    // empty needle is not found there (`"".find("", 1)` is -1).
    let a = match start {
        Some(v) if !v.is_none() => match vm.bound_value(v)? {
            v if v > n => return Ok(None),
            v => norm(v),
        },
        _ => 0,
    };
    let b = match end {
        Some(v) if !v.is_none() => norm(vm.bound_value(v)?),
        _ => n,
    };
    if a > b {
        return Ok(None);
    }
    Ok(Some((s.byte_offset(a as usize), s.byte_offset(b as usize))))
}

fn find_impl(vm: &mut Vm, args: &[Value], reverse: bool) -> PyResult<i64> {
    let hay = s(args)?;
    let needle = str_arg(args, 0, "must be str")?;
    let Some((a, b)) = sub_range(vm, &hay, args.get(2), args.get(3))? else { return Ok(-1) };
    let found = find_in(&hay.as_str()[a..b], needle.as_str(), reverse);
    Ok(match found {
        Some(p) => hay.char_index(a + p) as i64,
        None => -1,
    })
}

/// The byte offset of the first (or, `reverse`, the last) `needle` in
/// `hay`. A whole UTF-8 needle found in UTF-8 text starts and ends on
/// character boundaries, so the byte search serves str too.
pub fn find_in(hay: &str, needle: &str, reverse: bool) -> Option<usize> {
    find_bytes(hay.as_bytes(), needle.as_bytes(), reverse)
}

/// `find_in` over bytes. A one-byte needle (`path.rfind("/")`,
/// `name.find(".")`) is looked for with memchr and a short haystack
/// scanned directly: a searcher's setup alone costs a few hundred
/// instructions, more than scanning a short string. Longer haystacks use
/// memchr's memmem searcher (vectorised where the machine allows).
pub fn find_bytes(h: &[u8], n: &[u8], reverse: bool) -> Option<usize> {
    if let [b] = n {
        return if reverse { memchr::memrchr(*b, h) } else { memchr::memchr(*b, h) };
    }
    if h.len() <= SHORT_HAY {
        return find_short(h, n, reverse);
    }
    if reverse {
        memchr::memmem::rfind(h, n)
    } else {
        memchr::memmem::find(h, n)
    }
}

/// How many times `n` (not empty) occurs in `h` without overlapping.
pub fn count_bytes(h: &[u8], n: &[u8]) -> usize {
    match n {
        [b] => memchr::memchr_iter(*b, h).count(),
        _ => memchr::memmem::find_iter(h, n).count(),
    }
}

/// Haystacks up to this long are searched by `find_short`.
const SHORT_HAY: usize = 64;

/// `find_bytes` in a short haystack: each position whose first byte is the
/// needle's is compared in full, with no searcher to set up (its setup
/// costs more than this whole scan: `"%(asctime)" in fmt`).
fn find_short(h: &[u8], n: &[u8], reverse: bool) -> Option<usize> {
    let Some(&first) = n.first() else { return Some(if reverse { h.len() } else { 0 }) };
    let last = h.len().checked_sub(n.len())?;
    let at = |i: &usize| h[*i] == first && &h[*i..*i + n.len()] == n;
    if reverse {
        (0..=last).rev().find(at)
    } else {
        (0..=last).find(at)
    }
}

fn find(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("find", args.len().saturating_sub(1), 1, 3)?;
    Ok(Value::Int(find_impl(vm, args, false)?))
}
fn rfind(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("rfind", args.len().saturating_sub(1), 1, 3)?;
    Ok(Value::Int(find_impl(vm, args, true)?))
}
fn index(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("index", args.len().saturating_sub(1), 1, 3)?;
    match find_impl(vm, args, false)? {
        -1 => Err(value_error("substring not found")),
        i => Ok(Value::Int(i)),
    }
}
fn rindex(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("rindex", args.len().saturating_sub(1), 1, 3)?;
    match find_impl(vm, args, true)? {
        -1 => Err(value_error("substring not found")),
        i => Ok(Value::Int(i)),
    }
}

fn count(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("count", args.len().saturating_sub(1), 1, 3)?;
    let hay = s(args)?;
    let needle = str_arg(args, 0, "must be str")?;
    let Some((a, b)) = sub_range(vm, &hay, args.get(2), args.get(3))? else { return Ok(Value::Int(0)) };
    let region = &hay.as_str()[a..b];
    if needle.is_empty() {
        return Ok(Value::Int(region.chars().count() as i64 + 1));
    }
    Ok(Value::Int(count_bytes(region.as_bytes(), needle.as_bytes()) as i64))
}

fn prefix_check(vm: &mut Vm, args: &[Value], ends: bool) -> PyResult {
    let hay = s(args)?;
    let name = if ends { "endswith" } else { "startswith" };
    let Some((a, b)) = sub_range(vm, &hay, args.get(2), args.get(3))? else { return Ok(Value::Bool(Flag::FALSE)) };
    let region = &hay.as_str()[a..b];
    let test = |p: &str| if ends { region.ends_with(p) } else { region.starts_with(p) };
    match args.get(1) {
        Some(Value::Str(p)) => Ok(Value::bool(test(p))),
        Some(Value::Tuple(t)) => {
            for p in t.items.iter() {
                match p {
                    Value::Str(p) => {
                        if test(p) {
                            return Ok(Value::Bool(Flag::TRUE));
                        }
                    }
                    other => return Err(type_error(format!("tuple for {name} must only contain str, not {}", type_name(other)))),
                }
            }
            Ok(Value::Bool(Flag::FALSE))
        }
        Some(other) => Err(type_error(format!("{name} first arg must be str or a tuple of str, not {}", type_name(other)))),
        None => Err(type_error(format!("{name}() takes at least 1 argument (0 given)"))),
    }
}
fn startswith(vm: &mut Vm, args: &[Value]) -> PyResult {
    prefix_check(vm, args, false)
}
fn endswith(vm: &mut Vm, args: &[Value]) -> PyResult {
    prefix_check(vm, args, true)
}

fn strip_chars(args: &[Value]) -> PyResult<Option<Vec<char>>> {
    match args.get(1) {
        None | Some(Value::None) => Ok(None),
        Some(Value::Str(c)) => Ok(Some(c.chars().collect())),
        Some(other) => Err(type_error(format!("strip arg must be None or str, not {}", type_name(other)))),
    }
}
fn strip_impl(args: &[Value], left: bool, right: bool) -> PyResult {
    let st = s(args)?;
    let chars = strip_chars(args)?;
    let pred = |c: char| match &chars {
        None => c.is_whitespace(),
        Some(cs) => cs.contains(&c),
    };
    let mut r: &str = st.as_str();
    if left {
        r = r.trim_start_matches(pred);
    }
    if right {
        r = r.trim_end_matches(pred);
    }
    if r.len() == st.len() {
        return Ok(Value::Str(st.clone()));
    }
    Ok(Value::str(r))
}
fn strip(_vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("strip", args.len().saturating_sub(1), 0, 1)?;
    strip_impl(args, true, true)
}
fn lstrip(_vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("lstrip", args.len().saturating_sub(1), 0, 1)?;
    strip_impl(args, true, false)
}
fn rstrip(_vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("rstrip", args.len().saturating_sub(1), 0, 1)?;
    strip_impl(args, false, true)
}

fn split_args(vm: &mut Vm, args: &mut Args) -> PyResult<(Option<Rc<PyStr>>, i64)> {
    let sep = match args.pos.get(1).cloned().or_else(|| args.take_kw("sep")) {
        None | Some(Value::None) => None,
        Some(Value::Str(s)) => {
            if s.is_empty() {
                return Err(value_error("empty separator"));
            }
            Some(s)
        }
        Some(other) => return Err(type_error(format!("must be str or None, not {}", type_name(&other)))),
    };
    let maxsplit = match args.pos.get(2).cloned().or_else(|| args.take_kw("maxsplit")) {
        Some(m) => vm.index_value(&m)?,
        None => -1,
    };
    Ok((sep, maxsplit))
}

fn split(vm: &mut Vm, mut args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let (sep, maxsplit) = split_args(vm, &mut args)?;
    let parts: Vec<Value> = match sep {
        Some(sep) => {
            if maxsplit < 0 {
                st.split(sep.as_str()).map(Value::str).collect()
            } else {
                st.splitn(maxsplit as usize + 1, sep.as_str()).map(Value::str).collect()
            }
        }
        None => split_whitespace(&st, maxsplit),
    };
    Ok(Value::list(parts))
}

fn split_whitespace(s: &str, maxsplit: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        if maxsplit >= 0 && out.len() as i64 == maxsplit {
            out.push(Value::str(rest));
            break;
        }
        match rest.find(char::is_whitespace) {
            Some(p) => {
                out.push(Value::str(&rest[..p]));
                rest = rest[p..].trim_start();
            }
            None => {
                out.push(Value::str(rest));
                break;
            }
        }
    }
    out
}

fn rsplit(vm: &mut Vm, mut args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let (sep, maxsplit) = split_args(vm, &mut args)?;
    let mut parts: Vec<Value> = match sep {
        Some(sep) => {
            if maxsplit < 0 {
                st.rsplit(sep.as_str()).map(Value::str).collect()
            } else {
                st.rsplitn(maxsplit as usize + 1, sep.as_str()).map(Value::str).collect()
            }
        }
        None => {
            let mut out = Vec::new();
            let mut rest = st.trim_end();
            while !rest.is_empty() {
                if maxsplit >= 0 && out.len() as i64 == maxsplit {
                    out.push(Value::str(rest));
                    break;
                }
                match rest.rfind(char::is_whitespace) {
                    Some(p) => {
                        let ch = rest[p..].chars().next().map(|c| c.len_utf8()).unwrap_or(1);
                        out.push(Value::str(&rest[p + ch..]));
                        rest = rest[..p].trim_end();
                    }
                    None => {
                        out.push(Value::str(rest));
                        break;
                    }
                }
            }
            out
        }
    };
    parts.reverse();
    Ok(Value::list(parts))
}

fn splitlines(vm: &mut Vm, mut args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let keep = match args.pos.get(1).cloned().or_else(|| args.take_kw("keepends")) {
        Some(k) => vm.truthy(&k)?,
        None => false,
    };
    let mut out = Vec::new();
    let text = st.as_str();
    let mut start = 0;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let is_break = matches!(c, '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if !is_break {
            continue;
        }
        let mut end = i + c.len_utf8();
        if c == '\r' {
            if let Some(&(_, '\n')) = iter.peek() {
                iter.next();
                end += 1;
            }
        }
        out.push(Value::str(if keep { &text[start..end] } else { &text[start..i] }));
        start = end;
    }
    if start < text.len() {
        out.push(Value::str(&text[start..]));
    }
    Ok(Value::list(out))
}

fn join(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("str.join", args.len().saturating_sub(1), 1, 1)?;
    let sep = s(args)?;
    let joined = match &args[1] {
        Value::List(l) => join_strs(&sep, &l.borrow()),
        Value::Tuple(t) => join_strs(&sep, &t.items),
        _ => None,
    };
    if let Some(v) = joined {
        return Ok(v);
    }
    if vm.iter(&args[1]).is_err() {
        return Err(type_error("can only join an iterable"));
    }
    let items = vm.collect(&args[1])?;
    let mut out = String::new();
    for (i, it) in items.iter().enumerate() {
        if i % 1024 == 0 {
            vm.poll_interrupt()?;
        }
        if i > 0 {
            out.push_str(&sep);
        }
        match it {
            Value::Str(x) => out.push_str(x),
            // A str subclass joins as its text.
            other => match crate::ops::builtin_payload(other) {
                Some(Value::Str(x)) => out.push_str(&x),
                _ => return Err(type_error(format!("sequence item {i}: expected str instance, {} found", type_name(other)))),
            },
        }
    }
    Ok(Value::string(out))
}

/// `sep.join(items)` for a list's or a tuple's items when all are exact
/// strs, the usual case: joined where they lie, in one allocation. `None`
/// for the general path (a str subclass, a wrong item to raise for).
fn join_strs(sep: &PyStr, items: &[Value]) -> Option<Value> {
    let mut ascii = sep.is_ascii();
    for it in items {
        let Value::Str(x) = it else { return None };
        ascii &= x.is_ascii();
    }
    fn text(it: &Value) -> &str {
        match it {
            Value::Str(x) => x.as_str(),
            _ => "",
        }
    }
    let parts = items.iter().enumerate().flat_map(move |(i, it)| [if i > 0 { sep.as_str() } else { "" }, text(it)]);
    Some(Value::Str(Rc::new(PyStr::concat_all(parts, ascii))))
}

fn replace(vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("replace", args.len().saturating_sub(1), 2, 3)?;
    let st = s(args)?;
    let old = str_arg(args, 0, "replace() argument 1")?;
    let new = str_arg(args, 1, "replace() argument 2")?;
    let n = match args.get(3) {
        Some(c) => vm.index_value(c)?,
        None => -1,
    };
    if n < 0 {
        if old.is_empty() {
            let mut out = String::from(new.as_str());
            for c in st.chars() {
                out.push(c);
                out.push_str(&new);
            }
            return Ok(Value::string(out));
        }
        return Ok(Value::string(st.replace(old.as_str(), new.as_str())));
    }
    if old.is_empty() {
        let mut out = String::new();
        let mut left = n;
        for c in st.chars() {
            if left > 0 {
                out.push_str(&new);
                left -= 1;
            }
            out.push(c);
        }
        if left > 0 {
            out.push_str(&new);
        }
        return Ok(Value::string(out));
    }
    Ok(Value::string(st.replacen(old.as_str(), new.as_str(), n as usize)))
}

fn map_str(args: &[Value], f: impl Fn(&str) -> String) -> PyResult {
    let st = s(args)?;
    if args.len() > 1 {
        return Err(type_error(format!("takes no arguments ({} given)", args.len() - 1)));
    }
    Ok(Value::string(f(&st)))
}
fn upper(_vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("str.upper", args.len().saturating_sub(1), 0, 0)?;
    map_str(args, |x| x.to_uppercase())
}
fn lower(_vm: &mut Vm, args: &[Value]) -> PyResult {
    check_count("str.lower", args.len().saturating_sub(1), 0, 0)?;
    map_str(args, |x| x.to_lowercase())
}
fn casefold(_vm: &mut Vm, args: Args) -> PyResult {
    check_args("str.casefold", &args, 0, 0)?;
    // Full case folding (`'ß'` folds to `'ss'`), not just lowercasing.
    map_str(&args.pos, caseless::default_case_fold_str)
}
fn swapcase(_vm: &mut Vm, args: Args) -> PyResult {
    map_str(&args.pos, |x| {
        x.chars().map(|c| if c.is_uppercase() { c.to_lowercase().collect::<String>() } else { c.to_uppercase().collect() }).collect()
    })
}
fn title(_vm: &mut Vm, args: Args) -> PyResult {
    map_str(&args.pos, |x| {
        let mut out = String::new();
        let mut prev_cased = false;
        for c in x.chars() {
            if prev_cased {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_cased = c.is_alphabetic();
        }
        out
    })
}
fn capitalize(_vm: &mut Vm, args: Args) -> PyResult {
    map_str(&args.pos, |x| {
        let mut cs = x.chars();
        match cs.next() {
            Some(f) => f.to_uppercase().chain(cs.flat_map(|c| c.to_lowercase())).collect(),
            None => String::new(),
        }
    })
}

fn pred_all(args: Args, nonempty: bool, f: impl Fn(char) -> bool) -> PyResult {
    let st = s(&args.pos)?;
    Ok(Value::bool((!nonempty || !st.is_empty()) && st.chars().all(f)))
}
fn isdigit(_vm: &mut Vm, args: Args) -> PyResult {
    // Decimal digits plus the other digit characters (superscripts and the like).
    pred_all(args, true, |c| {
        crate::numfmt::decimal_value(c).is_some()
            || matches!(c, '\u{b2}' | '\u{b3}' | '\u{b9}' | '\u{2070}'..='\u{2079}' | '\u{2080}'..='\u{2089}' | '\u{2460}'..='\u{2468}')
    })
}
fn isdecimal(_vm: &mut Vm, args: Args) -> PyResult {
    pred_all(args, true, |c| crate::numfmt::decimal_value(c).is_some())
}
fn isnumeric(_vm: &mut Vm, args: Args) -> PyResult {
    pred_all(args, true, |c| c.is_numeric())
}
fn isalpha(_vm: &mut Vm, args: Args) -> PyResult {
    pred_all(args, true, |c| c.is_alphabetic())
}
fn isalnum(_vm: &mut Vm, args: Args) -> PyResult {
    pred_all(args, true, |c| c.is_alphanumeric())
}
fn isspace(_vm: &mut Vm, args: Args) -> PyResult {
    pred_all(args, true, crate::numfmt::is_python_space)
}
fn isascii(_vm: &mut Vm, args: Args) -> PyResult {
    pred_all(args, false, |c| c.is_ascii())
}
fn isprintable(_vm: &mut Vm, args: Args) -> PyResult {
    pred_all(args, false, crate::numfmt::is_printable)
}
fn isupper(_vm: &mut Vm, args: Args) -> PyResult {
    let st = s(&args.pos)?;
    Ok(Value::bool(st.chars().any(|c| c.is_uppercase()) && !st.chars().any(|c| c.is_lowercase())))
}
fn islower(_vm: &mut Vm, args: Args) -> PyResult {
    let st = s(&args.pos)?;
    Ok(Value::bool(st.chars().any(|c| c.is_lowercase()) && !st.chars().any(|c| c.is_uppercase())))
}
fn istitle(_vm: &mut Vm, args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let mut prev_cased = false;
    let mut any = false;
    for c in st.chars() {
        if c.is_uppercase() {
            if prev_cased {
                return Ok(Value::Bool(Flag::FALSE));
            }
            prev_cased = true;
            any = true;
        } else if c.is_lowercase() {
            if !prev_cased {
                return Ok(Value::Bool(Flag::FALSE));
            }
            prev_cased = true;
            any = true;
        } else {
            prev_cased = false;
        }
    }
    Ok(Value::bool(any))
}
fn isidentifier(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(is_identifier(&s(&args.pos)?)))
}

/// `str.isidentifier`: a letter or `_`, then letters, digits and `_`.
pub fn is_identifier(st: &str) -> bool {
    let mut cs = st.chars();
    match cs.next() {
        Some(c) => (c.is_alphabetic() || c == '_') && cs.all(|c| c.is_alphanumeric() || c == '_'),
        None => false,
    }
}

fn pad_args(vm: &mut Vm, args: &Args, name: &str) -> PyResult<(Rc<PyStr>, usize, char)> {
    check_args(name, args, 1, 2)?;
    let st = s(&args.pos)?;
    let width = vm.index_value(&args.pos[1])?.max(0) as usize;
    let fill = match arg(args, 1) {
        Some(Value::Str(f)) if f.char_len() == 1 => f.chars().next().unwrap_or(' '),
        Some(Value::Str(_)) => return Err(type_error("The fill character must be exactly one character long")),
        Some(other) => return Err(type_error(format!("{name}() argument 2 must be str, not {}", type_name(other)))),
        None => ' ',
    };
    crate::ops::check_bytes(width.saturating_mul(fill.len_utf8()).saturating_add(st.len()))?;
    Ok((st, width, fill))
}
fn ljust(vm: &mut Vm, args: Args) -> PyResult {
    let (st, w, f) = pad_args(vm, &args, "ljust")?;
    let n = st.char_len();
    if n >= w {
        return Ok(Value::Str(st));
    }
    Ok(Value::string(format!("{}{}", st.as_str(), f.to_string().repeat(w - n))))
}
fn rjust(vm: &mut Vm, args: Args) -> PyResult {
    let (st, w, f) = pad_args(vm, &args, "rjust")?;
    let n = st.char_len();
    if n >= w {
        return Ok(Value::Str(st));
    }
    Ok(Value::string(format!("{}{}", f.to_string().repeat(w - n), st.as_str())))
}
fn center(vm: &mut Vm, args: Args) -> PyResult {
    let (st, w, f) = pad_args(vm, &args, "center")?;
    let n = st.char_len();
    if n >= w {
        return Ok(Value::Str(st));
    }
    let total = w - n;
    // CPython puts the extra space on the right when the width parity makes it so.
    let left = total / 2 + (total & w & 1);
    let right = total - left;
    Ok(Value::string(format!("{}{}{}", f.to_string().repeat(left), st.as_str(), f.to_string().repeat(right))))
}
fn zfill(vm: &mut Vm, args: Args) -> PyResult {
    check_args("zfill", &args, 1, 1)?;
    let st = s(&args.pos)?;
    let w = vm.index_value(&args.pos[1])?.max(0) as usize;
    let n = st.char_len();
    if n >= w {
        return Ok(Value::Str(st));
    }
    crate::ops::check_bytes(w.saturating_add(st.len()))?;
    let zeros = "0".repeat(w - n);
    let (sign, rest) = match st.chars().next() {
        Some(c @ ('+' | '-')) => (c.to_string(), &st.as_str()[1..]),
        _ => (String::new(), st.as_str()),
    };
    Ok(Value::string(format!("{sign}{zeros}{rest}")))
}

fn partition_impl(args: Args, reverse: bool) -> PyResult {
    let st = s(&args.pos)?;
    let sep = str_arg(&args.pos, 0, "must be str")?;
    if sep.is_empty() {
        return Err(value_error("empty separator"));
    }
    Ok(match find_in(&st, sep.as_str(), reverse) {
        Some(p) => Value::tuple([Value::str(&st[..p]), Value::Str(sep.clone()), Value::str(&st[p + sep.len()..])]),
        None => {
            if reverse {
                Value::tuple([Value::str(""), Value::str(""), Value::Str(st.clone())])
            } else {
                Value::tuple([Value::Str(st.clone()), Value::str(""), Value::str("")])
            }
        }
    })
}
fn partition(_vm: &mut Vm, args: Args) -> PyResult {
    partition_impl(args, false)
}
fn rpartition(_vm: &mut Vm, args: Args) -> PyResult {
    partition_impl(args, true)
}

fn removeprefix(_vm: &mut Vm, args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let p = str_arg(&args.pos, 0, "removeprefix() argument")?;
    Ok(Value::str(st.strip_prefix(p.as_str()).unwrap_or(&st)))
}
fn removesuffix(_vm: &mut Vm, args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let p = str_arg(&args.pos, 0, "removesuffix() argument")?;
    Ok(Value::str(if p.is_empty() { &st } else { st.strip_suffix(p.as_str()).unwrap_or(&st) }))
}

fn expandtabs(vm: &mut Vm, mut args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let size = match args.pos.get(1).cloned().or_else(|| args.take_kw("tabsize")) {
        Some(t) => crate::ops::c_int(vm.index_value(&t)?)?.into(),
        None => 8,
    };
    let mut out = String::new();
    let mut col = 0i64;
    for c in st.chars() {
        match c {
            '\t' => {
                if size > 0 {
                    let spaces = size - col % size;
                    crate::ops::check_bytes(out.len().saturating_add(spaces as usize))?;
                    out.push_str(&" ".repeat(spaces as usize));
                    col += spaces;
                }
            }
            '\n' | '\r' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    Ok(Value::string(out))
}

fn encode(_vm: &mut Vm, args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let (codec, errors) = crate::codecs::codec_args(&args, 1, "encode")?;
    let bytes = crate::codecs::encode(codec, &st, &errors)?;
    Ok(Value::Bytes(Rc::new(PyBytes { b: bytes.into_boxed_slice() })))
}

fn translate(vm: &mut Vm, args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let table = args.pos.get(1).cloned().unwrap_or(Value::None);
    let mut out = String::new();
    for c in st.chars() {
        match vm.getitem(&table, &Value::Int(c as i64)) {
            Ok(Value::None) => {}
            Ok(Value::Str(r)) => out.push_str(&r),
            Ok(Value::Int(i)) => out.push(char::from_u32(i as u32).unwrap_or(c)),
            Ok(_) => return Err(type_error("character mapping must return integer, None or str")),
            Err(e) if e.is(&crate::types::types().exc.lookup_error) => out.push(c),
            Err(e) => return Err(e),
        }
    }
    Ok(Value::string(out))
}

fn maketrans(vm: &mut Vm, args: Args) -> PyResult {
    let d = Rc::new(PyDict::new());
    match (args.pos.first(), args.pos.get(1), args.pos.get(2)) {
        (Some(Value::Dict(m)), None, None) => {
            for (k, v) in m.items() {
                let key = match &k {
                    Value::Str(s) if s.char_len() == 1 => Value::Int(s.chars().next().unwrap_or('\0') as i64),
                    other => other.clone(),
                };
                vm.dict_set(&d, key, v)?;
            }
        }
        (Some(Value::Str(a)), Some(Value::Str(b)), rest) => {
            if a.char_len() != b.char_len() {
                return Err(value_error("the first two maketrans arguments must have equal length"));
            }
            for (x, y) in a.chars().zip(b.chars()) {
                vm.dict_set(&d, Value::Int(x as i64), Value::Int(y as i64))?;
            }
            if let Some(Value::Str(z)) = rest {
                for x in z.chars() {
                    vm.dict_set(&d, Value::Int(x as i64), Value::None)?;
                }
            }
        }
        _ => return Err(type_error("maketrans() argument error")),
    }
    Ok(Value::Dict(d))
}

fn str_format(vm: &mut Vm, mut args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let pos: Vec<Value> = args.pos.drain(1..).collect();
    let kw = std::mem::take(&mut args.kw);
    Ok(Value::string(format_template(vm, &st, &pos, &|_vm, name| Ok(kw.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v.clone())))?))
}

fn format_map(vm: &mut Vm, args: Args) -> PyResult {
    let st = s(&args.pos)?;
    let mapping = args.pos.get(1).cloned().unwrap_or(Value::None);
    Ok(Value::string(format_template(vm, &st, &[], &|vm, name| vm.getitem(&mapping, &Value::str(name)).map(Some))?))
}

type KwLookup<'a> = dyn Fn(&mut Vm, &str) -> PyResult<Option<Value>> + 'a;

/// `str.format`: replacement fields with indexes, names, attributes, items,
/// conversions and (nested) format specs.
pub fn format_template(vm: &mut Vm, tpl: &str, pos: &[Value], kw: &KwLookup) -> PyResult<String> {
    let mut numbering = Numbering { auto: 0, manual: false };
    format_fields(vm, tpl, pos, kw, &mut numbering, 2)
}

/// Automatic field numbering, shared by a template and the fields nested
/// in its format specs (`'{:.{}f}'.format(x, 2)` numbers `x` 0 and `2` 1).
struct Numbering {
    auto: usize,
    manual: bool,
}

/// The fields of `tpl`; `depth` is how many more levels of nested fields
/// may follow (CPython allows one inside a spec).
fn format_fields(vm: &mut Vm, tpl: &str, pos: &[Value], kw: &KwLookup, numbering: &mut Numbering, depth: u32) -> PyResult<String> {
    if depth == 0 {
        return Err(value_error("Max string recursion exceeded"));
    }
    let mut out = String::new();
    let chars: Vec<char> = tpl.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '}' {
            if chars.get(i + 1) == Some(&'}') {
                out.push('}');
                i += 2;
                continue;
            }
            return Err(value_error("Single '}' encountered in format string"));
        }
        if c != '{' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            out.push('{');
            i += 2;
            continue;
        }
        // Find the matching close brace, allowing nested fields in the spec.
        let mut open = 1;
        let mut j = i + 1;
        while j < chars.len() && open > 0 {
            match chars[j] {
                '{' => open += 1,
                '}' => open -= 1,
                _ => {}
            }
            if open > 0 {
                j += 1;
            }
        }
        if j >= chars.len() {
            return Err(value_error("Single '{' encountered in format string"));
        }
        let field: String = chars[i + 1..j].iter().collect();
        i = j + 1;
        let (name_part, spec) = match field.find(':') {
            Some(p) if !field[..p].contains('[') || field[..p].contains(']') => (&field[..p], Some(&field[p + 1..])),
            _ => (&field[..], None),
        };
        let (name_part, conv) = match name_part.rfind('!') {
            Some(p) => (&name_part[..p], Some(&name_part[p + 1..])),
            None => (name_part, None),
        };
        // The first name: index or keyword; then .attr and [key] parts.
        let first_end = name_part.find(['.', '[']).unwrap_or(name_part.len());
        let first = &name_part[..first_end];
        let mut value = if first.is_empty() {
            if numbering.manual {
                return Err(value_error("cannot switch from manual field specification to automatic field numbering"));
            }
            let v = pos
                .get(numbering.auto)
                .cloned()
                .ok_or_else(|| index_error(format!("Replacement index {} out of range for positional args tuple", numbering.auto)))?;
            numbering.auto += 1;
            v
        } else if let Ok(n) = first.parse::<usize>() {
            if numbering.auto > 0 {
                return Err(value_error("cannot switch from automatic field numbering to manual field specification"));
            }
            numbering.manual = true;
            pos.get(n).cloned().ok_or_else(|| index_error(format!("Replacement index {n} out of range for positional args tuple")))?
        } else {
            match kw(vm, first)? {
                Some(v) => v,
                None => return Err(key_error(Value::str(first))),
            }
        };
        let mut rest = &name_part[first_end..];
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                value = vm.getattr(&value, &crate::intern::intern(&r[..end]))?;
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').ok_or_else(|| value_error("Missing ']' in format string"))?;
                let key = &r[..end];
                let k = match key.parse::<i64>() {
                    Ok(n) => Value::Int(n),
                    Err(_) => Value::str(key),
                };
                value = vm.getitem(&value, &k)?;
                rest = &r[end + 1..];
            } else {
                return Err(value_error("Only '.' or '[' may follow ']' in format field specifier"));
            }
        }
        let value = match conv {
            None => value,
            Some("r") => Value::string(vm.repr_str(&value)?),
            Some("s") => Value::string(vm.str_of(&value)?),
            Some("a") => Value::string(ascii_escape(&vm.repr_str(&value)?)),
            Some(other) => return Err(value_error(format!("Unknown conversion specifier {other}"))),
        };
        let spec = match spec {
            Some(sp) if sp.contains('{') => format_fields(vm, sp, pos, kw, numbering, depth - 1)?,
            Some(sp) => sp.to_string(),
            None => String::new(),
        };
        out.push_str(&vm.format(&value, &spec)?);
    }
    Ok(out)
}

/// The argument a `*` width or precision takes from `items`, as CPython
/// reads it: an int (a bool counts), never anything with `__index__`; a
/// precision must fit a C int, a width a C ssize_t.
fn star_arg(vm: &mut Vm, v: Value, precision: bool) -> PyResult<i64> {
    let v = &v;
    if !matches!(v, Value::Int(_) | Value::Bool(_) | Value::BigInt(_)) {
        return Err(type_error("* wants int"));
    }
    // A precision too big for a C int is OverflowError, however big.
    let n = match v {
        Value::BigInt(_) if precision => i64::MAX,
        _ => vm.index_value(v)?,
    };
    if precision {
        crate::ops::c_int(n)?;
    }
    Ok(n)
}

/// CPython's limits on a `%` conversion's width (a `Py_ssize_t`) and
/// precision (an `int`), then room for the padding it asks for: widths come
/// from the program and must not abort the process.
fn percent_room(width: &str, precision: Option<&str>, conv: char) -> PyResult<()> {
    let limit = |digits: &str, max: u64| match digits.parse::<u64>() {
        Ok(n) if n <= max => Some(n as usize),
        _ if digits.is_empty() => Some(0),
        _ => None,
    };
    let w = limit(width, isize::MAX as u64).ok_or_else(|| value_error("width too big"))?;
    let p = limit(precision.unwrap_or(""), i32::MAX as u64).ok_or_else(|| value_error("precision too big"))?;
    crate::ops::check_bytes(w)?;
    // A precision only truncates a string; it pads a number with zeros.
    if !matches!(conv, 's' | 'r' | 'a' | 'c' | '%') {
        crate::ops::check_bytes(p)?;
    }
    Ok(())
}

/// The arguments of `fmt % args` as CPython's formatter walks them: a
/// tuple's items one by one, or any other value once; a key (`%(name)s`)
/// replaces them by the mapping's value for it, to be used once.
struct PercentArgs<'a> {
    /// The tuple's items, or the one value.
    items: std::borrow::Cow<'a, [Value]>,
    /// The next item, or for a single value: -2 unused, -1 used.
    next: isize,
    /// The tuple's length, or -1 for a single value.
    len: isize,
}

impl PercentArgs<'_> {
    fn next(&mut self) -> PyResult<Value> {
        if self.next >= self.len {
            return Err(type_error("not enough arguments for format string"));
        }
        let i = self.next;
        self.next += 1;
        Ok(if self.len < 0 { self.items[0].clone() } else { self.items[i as usize].clone() })
    }
}

/// printf-style `fmt % args`.
pub fn percent_format(vm: &mut Vm, fmt: &PyStr, args: &Value) -> PyResult<Value> {
    let mut args_at = match args {
        Value::Tuple(t) => PercentArgs { items: std::borrow::Cow::Borrowed(&t.items[..]), next: 0, len: t.items.len() as isize },
        other => PercentArgs { items: std::borrow::Cow::Borrowed(std::slice::from_ref(other)), next: -2, len: -1 },
    };
    // Any value with `__getitem__` but a tuple or a str serves `%(key)s`
    // (and excuses arguments left over), as `PyMapping_Check` says; asked
    // only when it matters.
    let mapping = || match args {
        Value::Tuple(_) | Value::Str(_) => None,
        Value::Dict(_) | Value::List(_) => Some(args),
        other => crate::ops::lookup_special(other, "__getitem__").is_some().then_some(args),
    };
    let text = fmt.as_str();
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < b.len() {
        let Some(k) = b[i..].iter().position(|&c| c == b'%') else {
            out.push_str(&text[i..]);
            break;
        };
        out.push_str(&text[i..i + k]);
        i += k + 1;
        if i >= b.len() {
            return Err(value_error("incomplete format"));
        }
        // Only `%%` is a literal percent: `%5%` takes an argument and then
        // finds `%` no conversion, as in CPython.
        if b[i] == b'%' {
            out.push('%');
            i += 1;
            continue;
        }
        if b[i] == b'(' {
            let Some(m) = mapping() else { return Err(type_error("format requires a mapping")) };
            let mut depth = 1;
            let start = i + 1;
            i += 1;
            while i < b.len() && depth > 0 {
                match b[i] {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
                i += 1;
            }
            if depth > 0 {
                return Err(value_error("incomplete format key"));
            }
            let key = Value::str(&text[start..i - 1]);
            let found = match (m, &key) {
                (Value::Dict(d), Value::Str(k)) => d.d.borrow().get_pystr_sure(k).flatten(),
                _ => None,
            };
            let v = match found {
                Some(v) => v,
                None => vm.getitem(m, &key)?,
            };
            args_at = PercentArgs { items: std::borrow::Cow::Owned(vec![v]), next: -2, len: -1 };
        }
        let mut flags = String::new();
        while i < b.len() && b"-+ #0".contains(&b[i]) {
            flags.push(b[i] as char);
            i += 1;
        }
        let width = if i < b.len() && b[i] == b'*' {
            let w = star_arg(vm, args_at.next()?, false)?;
            // A negative width from the arguments left-justifies, as the `-` flag does.
            if w < 0 {
                flags.push('-');
            }
            i += 1;
            std::borrow::Cow::Owned(w.unsigned_abs().to_string())
        } else {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            std::borrow::Cow::Borrowed(&text[start..i])
        };
        let mut precision: Option<std::borrow::Cow<str>> = None;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            if i < b.len() && b[i] == b'*' {
                precision = Some(std::borrow::Cow::Owned(star_arg(vm, args_at.next()?, true)?.max(0).to_string()));
                i += 1;
            } else {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                precision = Some(std::borrow::Cow::Borrowed(&text[start..i]));
            }
        }
        while i < b.len() && b"hlL".contains(&b[i]) {
            i += 1;
        }
        if i >= b.len() {
            return Err(value_error("incomplete format"));
        }
        let conv = text[i..].chars().next().unwrap_or('%');
        let conv_at = i;
        i += conv.len_utf8();
        percent_room(&width, precision.as_deref(), conv)?;
        let value = args_at.next()?;
        // The common conversions with no flags, width or precision.
        if flags.is_empty() && width.is_empty() && precision.is_none() {
            match (conv, &value) {
                ('s', Value::Str(s)) => {
                    out.push_str(s.as_str());
                    continue;
                }
                ('s' | 'd' | 'i' | 'u', Value::Int(n)) => {
                    out.push_str(itoa::Buffer::new().format(*n));
                    continue;
                }
                ('s', v) => {
                    out.push_str(&vm.str_of(v)?);
                    continue;
                }
                _ => {}
            }
        }
        let left = flags.contains('-');
        let mut spec = String::new();
        if left {
            spec.push('<');
        } else if flags.contains('0') && conv != 's' && conv != 'r' {
            spec.push_str("0>");
            spec.clear();
            spec.push('=');
        }
        if flags.contains('+') {
            spec.push('+');
        } else if flags.contains(' ') {
            spec.push(' ');
        }
        if flags.contains('#') {
            spec.push('#');
        }
        if flags.contains('0') && !left && conv != 's' && conv != 'r' {
            spec = spec.replacen('=', "", 1);
            spec.push('0');
        }
        spec.push_str(&width);
        let piece = match conv {
            's' | 'r' | 'a' => {
                let mut text = match conv {
                    's' => vm.str_of(&value)?,
                    'r' => vm.repr_str(&value)?,
                    _ => ascii_escape(&vm.repr_str(&value)?),
                };
                if let Some(p) = &precision {
                    let n: usize = p.parse().unwrap_or(0);
                    text = text.chars().take(n).collect();
                }
                let w: usize = width.parse().unwrap_or(0);
                let n = text.chars().count();
                if n < w {
                    if left {
                        format!("{text}{}", " ".repeat(w - n))
                    } else {
                        format!("{}{text}", " ".repeat(w - n))
                    }
                } else {
                    text
                }
            }
            'd' | 'i' | 'u' => {
                let n = match &value {
                    Value::Float(f) => {
                        crate::numfmt::f64_to_bigint(f.get().trunc()).map(Value::from_bigint).map_err(crate::ops::num_err)?
                    }
                    Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => value.clone(),
                    other => {
                        if crate::ops::lookup_special(other, "__int__").is_some()
                            || crate::ops::lookup_special(other, "__index__").is_some()
                        {
                            crate::types::int::to_int(vm, other)?
                        } else {
                            return Err(type_error(format!("%{conv} format: a real number is required, not {}", type_name(other))));
                        }
                    }
                };
                match &precision {
                    Some(p) => int_with_precision(vm, &n, 'd', &flags, &width, p)?,
                    None => vm.format(&n, &format!("{spec}d"))?,
                }
            }
            'x' | 'X' | 'o' => {
                if !matches!(value, Value::Int(_) | Value::BigInt(_) | Value::Bool(_)) {
                    return Err(type_error(format!("%{conv} format: an integer is required, not {}", type_name(&value))));
                }
                match &precision {
                    Some(p) => int_with_precision(vm, &value, conv, &flags, &width, p)?,
                    None => vm.format(&value, &format!("{spec}{conv}"))?,
                }
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let f = match &value {
                    Value::Float(_) | Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => value.clone(),
                    other => {
                        if crate::ops::lookup_special(other, "__float__").is_some() {
                            Value::float(crate::types::float::to_float(vm, other)?)
                        } else {
                            return Err(type_error(format!("must be real number, not {}", type_name(other))));
                        }
                    }
                };
                let f = Value::float(crate::types::float::to_float(vm, &f)?);
                let p = match precision.as_deref() {
                    None => "6",
                    Some("") => "0",
                    Some(p) => p,
                };
                vm.format(&f, &format!("{spec}.{p}{conv}"))?
            }
            'c' => match &value {
                Value::Int(i) => {
                    char::from_u32(*i as u32).map(|c| c.to_string()).ok_or_else(|| overflow_error("%c arg not in range(0x110000)"))?
                }
                Value::Str(s) if s.char_len() == 1 => s.as_str().to_string(),
                _ => return Err(type_error("%c requires int or char")),
            },
            other => {
                let at = text[..conv_at].chars().count();
                return Err(value_error(format!("unsupported format character '{other}' (0x{:x}) at index {at}", other as u32)));
            }
        };
        out.push_str(&piece);
    }
    if args_at.next < args_at.len && mapping().is_none() {
        return Err(type_error("not all arguments converted during string formatting"));
    }
    Ok(Value::string(out))
}

/// An integer conversion of `%` formatting with a precision (`%.3d`,
/// `%#.4x`): the digits are zero-padded to the precision, then the sign and
/// the `0x`/`0o` prefix go before them, then the width pads (with zeros
/// after the sign under the `0` flag, else with spaces).
fn int_with_precision(vm: &mut Vm, n: &Value, conv: char, flags: &str, width: &str, precision: &str) -> PyResult<String> {
    let text = vm.format(n, &conv.to_string())?;
    let (negative, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d.to_string()),
        None => (false, text),
    };
    let p: usize = precision.parse().unwrap_or(0);
    let digits = if digits.len() < p { format!("{}{digits}", "0".repeat(p - digits.len())) } else { digits };
    let mut prefix = String::new();
    if negative {
        prefix.push('-');
    } else if flags.contains('+') {
        prefix.push('+');
    } else if flags.contains(' ') {
        prefix.push(' ');
    }
    if flags.contains('#') {
        match conv {
            'x' => prefix.push_str("0x"),
            'X' => prefix.push_str("0X"),
            'o' => prefix.push_str("0o"),
            _ => {}
        }
    }
    let w: usize = width.parse().unwrap_or(0);
    let len = prefix.len() + digits.len();
    let pad = w.saturating_sub(len);
    Ok(if flags.contains('-') {
        format!("{prefix}{digits}{}", " ".repeat(pad))
    } else if flags.contains('0') {
        format!("{prefix}{}{digits}", "0".repeat(pad))
    } else {
        format!("{}{prefix}{digits}", " ".repeat(pad))
    })
}

fn str_len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(s(&args.pos)?.char_len() as i64))
}

fn str_getitem(vm: &mut Vm, args: Args) -> PyResult {
    let st = s(&args.pos)?;
    getitem(vm, &st, args.pos.get(1).unwrap_or(&Value::None))
}

fn str_contains(vm: &mut Vm, args: Args) -> PyResult {
    let st = Value::Str(s(&args.pos)?);
    Ok(Value::bool(vm.contains(&st, args.pos.get(1).unwrap_or(&Value::None))?))
}

fn str_format_spec(vm: &mut Vm, args: Args) -> PyResult {
    let st = Value::Str(s(&args.pos)?);
    let spec = match args.pos.get(1) {
        Some(Value::Str(sp)) => sp.as_str().to_string(),
        _ => String::new(),
    };
    Ok(Value::string(vm.format(&st, &spec)?))
}

fn str_iter(vm: &mut Vm, args: Args) -> PyResult {
    vm.iter(&Value::Str(s(&args.pos)?))
}

fn str_add(vm: &mut Vm, args: Args) -> PyResult {
    let st = Value::Str(s(&args.pos)?);
    vm.binary(crate::ops::ADD, &st, args.pos.get(1).unwrap_or(&Value::None))
}

fn str_eq(vm: &mut Vm, args: Args) -> PyResult {
    let st = Value::Str(s(&args.pos)?);
    vm.compare(crate::ops::EQ, &st, args.pos.get(1).unwrap_or(&Value::None))
}

fn str_hash(vm: &mut Vm, args: Args) -> PyResult {
    let st = Value::Str(s(&args.pos)?);
    Ok(Value::Int(vm.hash(&st)?))
}

/// Install the str methods.
pub fn install(t: &'static Types) {
    let c = &t.str_;
    let methods: &[(&str, NativeFnPtr)] = &[
        ("split", split),
        ("rsplit", rsplit),
        ("splitlines", splitlines),
        ("casefold", casefold),
        ("swapcase", swapcase),
        ("title", title),
        ("capitalize", capitalize),
        ("isdigit", isdigit),
        ("isdecimal", isdecimal),
        ("isnumeric", isnumeric),
        ("isalpha", isalpha),
        ("isalnum", isalnum),
        ("isspace", isspace),
        ("isascii", isascii),
        ("isprintable", isprintable),
        ("isupper", isupper),
        ("islower", islower),
        ("istitle", istitle),
        ("isidentifier", isidentifier),
        ("ljust", ljust),
        ("rjust", rjust),
        ("center", center),
        ("zfill", zfill),
        ("partition", partition),
        ("rpartition", rpartition),
        ("removeprefix", removeprefix),
        ("removesuffix", removesuffix),
        ("expandtabs", expandtabs),
        ("encode", encode),
        ("translate", translate),
        ("format", str_format),
        ("format_map", format_map),
        ("__len__", str_len),
        ("__getitem__", str_getitem),
        ("__contains__", str_contains),
        ("__format__", str_format_spec),
        ("__iter__", str_iter),
        ("__add__", str_add),
        ("__eq__", str_eq),
        ("__hash__", str_hash),
    ];
    for (name, f) in methods {
        method(c, "str", name, *f);
    }
    // The methods a program calls most, given their arguments in place.
    let fast: &[(&str, FastFnPtr)] = &[
        ("join", join),
        ("startswith", startswith),
        ("endswith", endswith),
        ("find", find),
        ("rfind", rfind),
        ("index", index),
        ("rindex", rindex),
        ("count", count),
        ("strip", strip),
        ("lstrip", lstrip),
        ("rstrip", rstrip),
        ("replace", replace),
        ("upper", upper),
        ("lower", lower),
    ];
    for (name, f) in fast {
        method_fast(c, "str", name, *f);
    }
    class_function(c, "maketrans", maketrans, false);
}
