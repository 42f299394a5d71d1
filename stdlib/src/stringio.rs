//! `io.StringIO`: a text stream in memory, as CPython's C one behaves
//! (positions in code points, the newline modes, the closed-file errors).
//!
//! The text is kept as one `String`; a write at the end, the common case,
//! appends to it. Positions count code points: while the text is ASCII
//! (its byte length equals its length) they are byte offsets at once.

use std::cell::RefCell;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, method_fast, native_fn, new_class, type_name, types};
use aio_interp::{Flag, Value, Vm};

use crate::native::{instance_of, native_ref, NativeRef};

/// A `StringIO`.
pub struct StringIO {
    st: RefCell<State>,
}

struct State {
    buf: String,
    /// The length of `buf` in code points.
    chars: usize,
    /// The position, in code points; it may lie past the end.
    pos: usize,
    closed: bool,
    /// `newline=`: None, "", "\n", "\r" or "\r\n".
    newline: Option<&'static str>,
    /// The kinds of line end written so far (`SEEN_*`), for `newlines` in
    /// the universal modes (None and "").
    seen: u8,
}

const SEEN_LF: u8 = 1;
const SEEN_CR: u8 = 2;
const SEEN_CRLF: u8 = 4;

thread_local! {
    static CLASS: Rc<Class> = make_class();
}

fn make_class() -> Rc<Class> {
    let c = new_class("StringIO", &[types().object.clone()], Layout::Builtin, None);
    c.dict.set_str("__module__", Value::str("_io"));
    let fast: &[(&str, FastFnPtr)] = &[
        ("write", write),
        ("getvalue", getvalue),
        ("read", read),
        ("readline", readline),
        ("seek", seek),
        ("tell", tell),
        ("truncate", truncate),
        ("close", close),
        ("readable", able),
        ("writable", able),
        ("seekable", able),
        ("detach", |_vm, _a| Err(err(&crate::file::unsupported_operation(), "detach"))),
        ("__next__", next),
    ];
    for (n, f) in fast {
        method_fast(&c, "StringIO", n, *f);
    }
    // What CPython's StringIO inherits from `_IOBase`, named so: a
    // subclass's instance is then what they get, not the wrapped stream
    // (`with`, iteration and these reach a subclass's own methods).
    let inherited: &[(&str, FastFnPtr)] = &[
        ("readlines", readlines),
        ("writelines", writelines),
        ("flush", flush),
        ("isatty", isatty),
        ("fileno", |_vm, _a| Err(err(&crate::file::unsupported_operation(), "fileno"))),
        ("__enter__", enter),
        ("__exit__", exit),
        ("__iter__", enter),
    ];
    for (n, f) in inherited {
        method_fast(&c, "_IOBase", n, *f);
    }
    method(&c, "StringIO", "__init__", init);
    c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", new)));
    let props: &[(&str, FastFnPtr)] = &[
        ("closed", |_vm, a| Ok(Value::bool(this_any(a)?.st.borrow().closed))),
        ("line_buffering", |_vm, a| {
            open(a)?;
            Ok(Value::Bool(Flag::FALSE))
        }),
        ("newlines", newlines),
        ("encoding", |_vm, _a| Ok(Value::None)),
        ("errors", |_vm, _a| Ok(Value::None)),
    ];
    for (n, f) in props {
        let fget = aio_interp::types::native_fast(n, *f);
        c.dict.set_str(n, Value::object(aio_interp::attr::Property { fget, fset: Value::None, fdel: Value::None, doc: Value::None }));
    }
    c
}

/// The `StringIO` class, for `_io`.
pub fn class() -> Rc<Class> {
    CLASS.with(|c| c.clone())
}

impl NativeObject for StringIO {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        class()
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<_io.StringIO object at {:#x}>", self as *const Self as usize))
    }
}

impl State {
    fn new() -> State {
        State { buf: String::new(), chars: 0, pos: 0, closed: false, newline: Some("\n"), seen: 0 }
    }

    /// The byte offset of code point `i` (at most the end).
    fn byte_at(&self, i: usize) -> usize {
        if self.buf.len() == self.chars {
            return i.min(self.buf.len());
        }
        self.buf.char_indices().nth(i).map_or(self.buf.len(), |(b, _)| b)
    }

    /// The text from code point `start`, `n` code points long at most.
    fn slice(&self, start: usize, n: usize) -> &str {
        let a = self.byte_at(start);
        let b = if self.buf.len() == self.chars { (a + n).min(self.buf.len()) } else { a + char_bytes(&self.buf[a..], n) };
        &self.buf[a..b]
    }

    /// Write `text` (already a str's text) at the position, as CPython's
    /// `write_str`: newlines translated as `newline=` says, the gap past
    /// the end filled with NULs, earlier text overwritten.
    fn write_str(&mut self, text: &str, ascii: bool) {
        let universal = matches!(self.newline, None | Some(""));
        let mut owned;
        let mut text = text;
        if universal && text.bytes().any(|b| b == b'\r' || b == b'\n') {
            self.seen |= seen_newlines(text);
            if self.newline.is_none() && text.contains('\r') {
                owned = text.replace("\r\n", "\n").replace('\r', "\n");
                text = &owned;
            }
        }
        if let Some(nl @ ("\r" | "\r\n")) = self.newline {
            if text.contains('\n') {
                owned = text.replace('\n', nl);
                text = &owned;
            }
        }
        let n = if ascii { text.len() } else { text.chars().count() };
        if n == 0 {
            return;
        }
        if self.pos >= self.chars {
            let gap = self.pos - self.chars;
            self.buf.extend(std::iter::repeat_n('\0', gap));
            self.buf.push_str(text);
            self.chars = self.pos + n;
        } else {
            let a = self.byte_at(self.pos);
            let b = a + char_bytes(&self.buf[a..], n);
            self.buf.replace_range(a..b, text);
            self.chars = self.chars.max(self.pos + n);
        }
        self.pos += n;
    }

    /// How many code points from the position the next line takes, `limit`
    /// at most, as CPython's `_PyIO_find_line_ending` finds its end.
    fn line_len(&self, limit: i64) -> usize {
        if self.pos >= self.chars {
            return 0;
        }
        let left = self.chars - self.pos;
        let limit = if limit < 0 || limit as usize > left { left } else { limit as usize };
        let s = self.slice(self.pos, limit);
        let end = match self.newline {
            // Translated: only '\n' ends a line.
            None | Some("\n") => s.find('\n').map(|i| i + 1),
            Some("") => s.find(['\r', '\n']).map(|i| if s[i..].starts_with("\r\n") { i + 2 } else { i + 1 }),
            Some(nl) => s.find(nl).map(|i| i + nl.len()),
        };
        match end {
            Some(b) if s.len() == limit => b,
            Some(b) => s[..b].chars().count(),
            None => limit,
        }
    }
}

/// The kinds of line end in `s` (`SEEN_*`).
fn seen_newlines(s: &str) -> u8 {
    let b = s.as_bytes();
    let mut seen = 0;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\n' if i > 0 && b[i - 1] == b'\r' => seen |= SEEN_CRLF,
            b'\n' => seen |= SEEN_LF,
            b'\r' if b.get(i + 1) != Some(&b'\n') => seen |= SEEN_CR,
            _ => {}
        }
    }
    seen
}

/// The bytes the first `n` code points of `s` take (all of `s` when shorter).
fn char_bytes(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(b, _)| b)
}

fn this_any(args: &[Value]) -> PyResult<NativeRef<StringIO>> {
    args.first().and_then(native_ref::<StringIO>).ok_or_else(|| type_error("descriptor requires a '_io.StringIO' object"))
}

/// The stream, which must be open: StringIO's own methods say so without a
/// full stop, as CPython's do.
fn open(args: &[Value]) -> PyResult<NativeRef<StringIO>> {
    let f = this_any(args)?;
    if f.st.borrow().closed {
        return Err(value_error("I/O operation on closed file"));
    }
    Ok(f)
}

/// The check the methods StringIO inherits from `_IOBase` make (with a
/// full stop), through the `closed` attribute a subclass may redefine.
fn check_closed_base(vm: &mut Vm, me: &Value) -> PyResult<()> {
    let closed = match me {
        Value::Object(_) => this_any(std::slice::from_ref(me))?.st.borrow().closed,
        _ => {
            let c = vm.getattr(me, &aio_interp::intern::intern("closed"))?;
            vm.truthy(&c)?
        }
    };
    if closed {
        return Err(value_error("I/O operation on closed file."));
    }
    Ok(())
}

/// At most `max` arguments after self.
pub(crate) fn at_most(name: &str, args: &[Value], max: usize) -> PyResult<()> {
    let n = args.len().saturating_sub(1);
    if n > max {
        return Err(type_error(format!("{name} expected at most {max} argument{}, got {n}", if max == 1 { "" } else { "s" })));
    }
    Ok(())
}

/// No arguments after self (a method of `cls` CPython defines with `METH_NOARGS`).
pub(crate) fn no_args(cls: &str, name: &str, args: &[Value]) -> PyResult<()> {
    if args.len() > 1 {
        return Err(type_error(format!("{cls}.{name}() takes no arguments ({} given)", args.len() - 1)));
    }
    Ok(())
}

/// An optional size (`None` or absent: -1), as CPython's
/// `_Py_convert_optional_to_ssize_t` takes it.
pub(crate) fn opt_size(vm: &mut Vm, v: Option<&Value>) -> PyResult<i64> {
    match v {
        None | Some(Value::None) => Ok(-1),
        Some(Value::Int(i)) => Ok(*i),
        Some(v) => {
            let indexable = matches!(v, Value::Bool(_) | Value::BigInt(_))
                || aio_interp::ops::lookup_special(v, "__index__").is_some()
                || matches!(aio_interp::ops::builtin_payload(v), Some(Value::Int(_) | Value::BigInt(_)));
            if !indexable {
                return Err(type_error(format!("argument should be integer or None, not '{}'", type_name(v))));
            }
            vm.index_value(v)
        }
    }
}

fn new(_vm: &mut Vm, args: Args) -> PyResult {
    let base = class();
    let cls = match args.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => base.clone(),
    };
    Ok(instance_of(&cls, &base, Value::object(StringIO { st: RefCell::new(State::new()) })))
}

/// `StringIO(initial_value='', newline='\n')`.
fn init(vm: &mut Vm, mut args: Args) -> PyResult {
    let f = this_any(&args.pos)?;
    if args.pos.len() > 3 {
        return Err(type_error(format!("StringIO() takes at most 2 arguments ({} given)", args.pos.len() - 1)));
    }
    let mut value = args.pos.get(1).cloned();
    let mut newline = args.pos.get(2).cloned();
    for (k, v) in std::mem::take(&mut args.kw) {
        let slot = match k.as_str() {
            "initial_value" => &mut value,
            "newline" => &mut newline,
            other => return Err(type_error(format!("'{other}' is an invalid keyword argument for StringIO()"))),
        };
        if slot.is_some() {
            return Err(type_error(format!("argument for StringIO() given by name ('{}') and position", k.as_str())));
        }
        *slot = Some(v);
    }
    let newline = match newline {
        None => Some("\n"),
        Some(Value::None) => None,
        Some(v) => {
            let text = match &v {
                Value::Str(s) => s.as_str().to_string(),
                other => match aio_interp::ops::builtin_payload(other) {
                    Some(Value::Str(s)) => s.as_str().to_string(),
                    _ => return Err(type_error(format!("newline must be str or None, not {}", type_name(&v)))),
                },
            };
            match ["", "\n", "\r", "\r\n"].into_iter().find(|n| *n == text) {
                Some(n) => Some(n),
                None => return Err(value_error(format!("illegal newline value: {}", vm.repr_str(&v)?))),
            }
        }
    };
    let text = match &value {
        None | Some(Value::None) => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(v) => match aio_interp::ops::builtin_payload(v) {
            Some(Value::Str(s)) => Some(s),
            _ => return Err(type_error(format!("initial_value must be str or None, not {}", type_name(v)))),
        },
    };
    let mut st = f.st.borrow_mut();
    *st = State::new();
    st.newline = newline;
    if let Some(s) = text {
        st.write_str(s.as_str(), s.is_ascii());
        st.pos = 0;
    }
    Ok(Value::None)
}

/// The text of a str (or of a str subclass's instance).
fn str_of(v: &Value) -> Option<Rc<PyStr>> {
    match v {
        Value::Str(s) => Some(s.clone()),
        other => match aio_interp::ops::builtin_payload(other) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        },
    }
}

fn write(_vm: &mut Vm, args: &[Value]) -> PyResult {
    if args.len() != 2 {
        return Err(type_error(format!("StringIO.write() takes exactly one argument ({} given)", args.len().saturating_sub(1))));
    }
    let f = this_any(args)?;
    let Some(s) = str_of(&args[1]) else {
        return Err(type_error(format!("string argument expected, got '{}'", type_name(&args[1]))));
    };
    let n = s.char_len();
    put(&f, s.as_str(), n, s.is_ascii())?;
    Ok(Value::Int(n as i64))
}

/// Write `text`, `n` code points long, as `write` does.
fn put(f: &StringIO, text: &str, n: usize, ascii: bool) -> PyResult<()> {
    let mut st = f.st.borrow_mut();
    if st.closed {
        return Err(value_error("I/O operation on closed file"));
    }
    // The common case: text added at the end, with no newline to translate.
    if st.pos == st.chars && st.newline == Some("\n") {
        st.buf.push_str(text);
        st.chars += n;
        st.pos = st.chars;
    } else {
        st.write_str(text, ascii);
    }
    Ok(())
}

/// `stream.write(text)` when `stream` is a StringIO itself (not a
/// subclass's instance, whose `write` may be its own), without the method
/// call; `None` for any other stream.
pub fn write_exact(stream: &Value, text: &str) -> Option<PyResult<()>> {
    let Value::Object(_) = stream else { return None };
    let f = native_ref::<StringIO>(stream)?;
    let ascii = text.is_ascii();
    let n = if ascii { text.len() } else { text.chars().count() };
    Some(put(&f, text, n, ascii))
}

fn getvalue(_vm: &mut Vm, args: &[Value]) -> PyResult {
    no_args("StringIO", "getvalue", args)?;
    Ok(Value::str(&open(args)?.st.borrow().buf))
}

fn read(vm: &mut Vm, args: &[Value]) -> PyResult {
    at_most("read", args, 1)?;
    let size = opt_size(vm, args.get(1))?;
    let f = open(args)?;
    let mut st = f.st.borrow_mut();
    let left = st.chars.saturating_sub(st.pos);
    let n = if size < 0 || size as usize > left { left } else { size as usize };
    if n == 0 {
        return Ok(Value::str(""));
    }
    let out = Value::str(st.slice(st.pos, n));
    st.pos += n;
    Ok(out)
}

/// The next line, `limit` code points at most; the position moves past it.
fn take_line(f: &StringIO, limit: i64) -> Value {
    let mut st = f.st.borrow_mut();
    let n = st.line_len(limit);
    if n == 0 {
        return Value::str("");
    }
    let out = Value::str(st.slice(st.pos, n));
    st.pos += n;
    out
}

fn readline(vm: &mut Vm, args: &[Value]) -> PyResult {
    at_most("readline", args, 1)?;
    let limit = opt_size(vm, args.get(1))?;
    let f = open(args)?;
    Ok(take_line(&f, limit))
}

/// The next line for iteration: a subclass's own `readline` when it has
/// one, as CPython's `stringio_iternext` does. `None` at the end.
fn next_line(vm: &mut Vm, me: &Value) -> PyResult<Option<Value>> {
    let line = match me {
        Value::Object(_) => {
            let f = open(std::slice::from_ref(me))?;
            take_line(&f, -1)
        }
        _ => {
            open(std::slice::from_ref(me))?;
            let line = vm.call_method(me, "readline", Vec::new())?;
            if str_of(&line).is_none() {
                return Err(err(
                    &types().exc.os_error,
                    format!("readline() should have returned a str object, not '{}'", type_name(&line)),
                ));
            }
            line
        }
    };
    Ok(if str_of(&line).is_some_and(|s| s.as_str().is_empty()) { None } else { Some(line) })
}

fn next(vm: &mut Vm, args: &[Value]) -> PyResult {
    let me = args.first().cloned().unwrap_or_default();
    match next_line(vm, &me)? {
        Some(line) => Ok(line),
        None => Err(stop_iteration(Value::None)),
    }
}

/// `readlines(hint=-1)`: the lines left, as `_IOBase.readlines` collects
/// them (it stops once they are more than `hint` long).
fn readlines(vm: &mut Vm, args: &[Value]) -> PyResult {
    at_most("readlines", args, 1)?;
    let me = args.first().cloned().unwrap_or_default();
    let hint = opt_size(vm, args.get(1))?;
    check_closed_base(vm, &me)?;
    let mut out = Vec::new();
    let mut total = 0usize;
    while let Some(line) = next_line(vm, &me)? {
        let n = str_of(&line).map_or(0, |s| s.char_len());
        out.push(line);
        if hint > 0 {
            if n as i64 > hint - total as i64 {
                break;
            }
            total += n;
        }
    }
    Ok(Value::list(out))
}

/// `writelines(lines)`: each through `write`, a subclass's own when it has one.
fn writelines(vm: &mut Vm, args: &[Value]) -> PyResult {
    if args.len() != 2 {
        return Err(type_error(format!("StringIO.writelines() takes exactly one argument ({} given)", args.len().saturating_sub(1))));
    }
    let me = args[0].clone();
    check_closed_base(vm, &me)?;
    let it = vm.iter(&args[1])?;
    while let Some(line) = vm.next(&it)? {
        match &me {
            Value::Object(_) => write(vm, &[me.clone(), line])?,
            _ => vm.call_method(&me, "write", vec![line])?,
        };
    }
    Ok(Value::None)
}

fn seek(vm: &mut Vm, args: &[Value]) -> PyResult {
    if args.len() < 2 {
        return Err(type_error(format!("seek expected at least 1 argument, got {}", args.len().saturating_sub(1))));
    }
    if args.len() > 3 {
        return Err(type_error(format!("seek expected at most 2 arguments, got {}", args.len() - 1)));
    }
    let pos = vm.index_value(&args[1])?;
    let whence = match args.get(2) {
        Some(v) => vm.index_value(v)?,
        None => 0,
    };
    let f = open(args)?;
    let mut st = f.st.borrow_mut();
    if !(0..=2).contains(&whence) {
        return Err(value_error(format!("Invalid whence ({whence}, should be 0, 1 or 2)")));
    }
    if pos < 0 && whence == 0 {
        return Err(value_error(format!("Negative seek position {pos}")));
    }
    if whence != 0 && pos != 0 {
        return Err(err(&types().exc.os_error, "Can't do nonzero cur-relative seeks"));
    }
    st.pos = match whence {
        0 => pos as usize,
        1 => st.pos,
        _ => st.chars,
    };
    Ok(Value::Int(st.pos as i64))
}

fn tell(_vm: &mut Vm, args: &[Value]) -> PyResult {
    no_args("StringIO", "tell", args)?;
    Ok(Value::Int(open(args)?.st.borrow().pos as i64))
}

fn truncate(vm: &mut Vm, args: &[Value]) -> PyResult {
    at_most("truncate", args, 1)?;
    let f = this_any(args)?;
    let size = match args.get(1) {
        None | Some(Value::None) => f.st.borrow().pos as i64,
        v => opt_size(vm, v)?,
    };
    open(args)?;
    if size < 0 {
        return Err(value_error(format!("Negative size value {size}")));
    }
    let mut st = f.st.borrow_mut();
    if (size as usize) < st.chars {
        let b = st.byte_at(size as usize);
        st.buf.truncate(b);
        st.chars = size as usize;
    }
    Ok(Value::Int(size))
}

fn close(_vm: &mut Vm, args: &[Value]) -> PyResult {
    no_args("StringIO", "close", args)?;
    let f = this_any(args)?;
    let mut st = f.st.borrow_mut();
    st.closed = true;
    st.buf = String::new();
    st.chars = 0;
    Ok(Value::None)
}

/// `flush()`: nothing to do. CPython's asks `_IOBase`'s own closed flag,
/// which StringIO's `close` never sets, so it does not raise either.
fn flush(_vm: &mut Vm, args: &[Value]) -> PyResult {
    no_args("StringIO", "flush", args)?;
    this_any(args)?;
    Ok(Value::None)
}

fn able(_vm: &mut Vm, args: &[Value]) -> PyResult {
    open(args)?;
    Ok(Value::Bool(Flag::TRUE))
}

fn isatty(vm: &mut Vm, args: &[Value]) -> PyResult {
    let me = args.first().cloned().unwrap_or_default();
    this_any(args)?;
    check_closed_base(vm, &me)?;
    Ok(Value::Bool(Flag::FALSE))
}

fn enter(vm: &mut Vm, args: &[Value]) -> PyResult {
    let me = args.first().cloned().unwrap_or_default();
    this_any(args)?;
    check_closed_base(vm, &me)?;
    Ok(me)
}

/// `__exit__`: `self.close()`, a subclass's own when it has one.
fn exit(vm: &mut Vm, args: &[Value]) -> PyResult {
    let me = args.first().cloned().unwrap_or_default();
    match &me {
        Value::Object(_) => close(vm, &args[..1])?,
        _ => vm.call_method(&me, "close", Vec::new())?,
    };
    Ok(Value::None)
}

/// `newlines`: the kinds of line end written, in the universal modes.
fn newlines(_vm: &mut Vm, args: &[Value]) -> PyResult {
    let f = open(args)?;
    let st = f.st.borrow();
    if !matches!(st.newline, None | Some("")) {
        return Ok(Value::None);
    }
    let names = [(SEEN_CR, "\r"), (SEEN_LF, "\n"), (SEEN_CRLF, "\r\n")];
    let seen: Vec<Value> = names.iter().filter(|(bit, _)| st.seen & bit != 0).map(|(_, s)| Value::str(s)).collect();
    Ok(match seen.len() {
        0 => Value::None,
        1 => seen[0].clone(),
        _ => Value::tuple(seen),
    })
}
