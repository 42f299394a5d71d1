//! `io.BytesIO`: a binary stream in memory, as CPython's C one behaves
//! (its closed-file errors with a full stop, the zero fill of a write past
//! the end, its own line scanning for iteration and `readlines`).
//!
//! The bytes are kept as one `Vec<u8>`; a write at the end appends to it.

use std::cell::RefCell;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::bytes::need_bytes_like;
use aio_interp::types::{memoryview, method, method_fast, native_fn, new_class, types};
use aio_interp::{Flag, Value, Vm};

use crate::native::{instance_of, native_ref, NativeRef};
use crate::stringio::{at_most, no_args, opt_size};

/// A `BytesIO`.
pub struct BytesIO {
    st: RefCell<State>,
}

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    /// The position; it may lie past the end.
    pos: usize,
    closed: bool,
}

thread_local! {
    static CLASS: Rc<Class> = make_class();
}

fn make_class() -> Rc<Class> {
    let c = new_class("BytesIO", &[types().object.clone()], Layout::Builtin, None);
    c.dict.set_str("__module__", Value::str("_io"));
    let own: &[(&str, FastFnPtr)] = &[
        ("write", write),
        ("writelines", writelines),
        ("getvalue", getvalue),
        ("getbuffer", getbuffer),
        ("read", read),
        ("read1", read),
        ("readinto", readinto),
        ("readline", readline),
        ("readlines", readlines),
        ("seek", seek),
        ("tell", tell),
        ("truncate", truncate),
        ("close", close),
        ("readable", able),
        ("writable", able),
        ("seekable", able),
        ("flush", flush),
        ("isatty", isatty),
        ("__next__", next),
        ("__iter__", |_vm, a| Ok(a.first().cloned().unwrap_or_default())),
    ];
    for (n, f) in own {
        method_fast(&c, "BytesIO", n, *f);
    }
    // What CPython's BytesIO inherits from `_IOBase` and `_BufferedIOBase`:
    // `with` goes through the `closed` and `close` a subclass may redefine.
    let inherited: &[(&str, FastFnPtr)] = &[
        ("fileno", |_vm, _a| Err(err(&crate::file::unsupported_operation(), "fileno"))),
        ("detach", |_vm, _a| Err(err(&crate::file::unsupported_operation(), "detach"))),
        ("__enter__", enter),
        ("__exit__", exit),
    ];
    for (n, f) in inherited {
        method_fast(&c, "_IOBase", n, *f);
    }
    method(&c, "BytesIO", "__init__", init);
    c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", new)));
    let fget = aio_interp::types::native_fast("closed", |_vm, a| Ok(Value::bool(this(a)?.st.borrow().closed)));
    c.dict.set_str("closed", Value::object(aio_interp::attr::Property { fget, fset: Value::None, fdel: Value::None, doc: Value::None }));
    c
}

/// The `BytesIO` class, for `_io`.
pub fn class() -> Rc<Class> {
    CLASS.with(|c| c.clone())
}

impl NativeObject for BytesIO {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        class()
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<_io.BytesIO object at {:#x}>", self as *const Self as usize))
    }
}

impl State {
    /// How many bytes from the position the next line takes, `limit` at
    /// most (CPython's `scan_eol`).
    fn line_len(&self, limit: i64) -> usize {
        let left = self.buf.len().saturating_sub(self.pos);
        let limit = if limit < 0 || limit as usize > left { left } else { limit as usize };
        let s = &self.buf[self.pos.min(self.buf.len())..][..limit];
        s.iter().position(|&b| b == b'\n').map_or(limit, |i| i + 1)
    }

    /// The next `n` bytes (there are as many); the position moves past them.
    fn take(&mut self, n: usize) -> Value {
        let out = Value::bytes(self.buf[self.pos..self.pos + n].to_vec());
        self.pos += n;
        out
    }
}

fn this(args: &[Value]) -> PyResult<NativeRef<BytesIO>> {
    args.first().and_then(native_ref::<BytesIO>).ok_or_else(|| {
        let got = args.first().map_or("NoneType".to_string(), aio_interp::types::type_name);
        type_error(format!("descriptor for '_io.BytesIO' objects doesn't apply to a '{got}' object"))
    })
}

/// The stream, which must be open.
fn open(args: &[Value]) -> PyResult<NativeRef<BytesIO>> {
    let f = this(args)?;
    if f.st.borrow().closed {
        return Err(closed_error());
    }
    Ok(f)
}

fn closed_error() -> PyErr {
    value_error("I/O operation on closed file.")
}

fn new(_vm: &mut Vm, args: Args) -> PyResult {
    let base = class();
    let cls = match args.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => base.clone(),
    };
    Ok(instance_of(&cls, &base, Value::object(BytesIO { st: RefCell::new(State::default()) })))
}

/// `BytesIO(initial_bytes=b'')`.
fn init(_vm: &mut Vm, mut args: Args) -> PyResult {
    let f = this(&args.pos)?;
    if args.pos.len() > 2 {
        return Err(type_error(format!("BytesIO() takes at most 1 argument ({} given)", args.pos.len() - 1)));
    }
    let mut value = args.pos.get(1).cloned();
    for (k, v) in std::mem::take(&mut args.kw) {
        if k.as_str() != "initial_bytes" {
            return Err(type_error(format!("'{}' is an invalid keyword argument for BytesIO()", k.as_str())));
        }
        if value.is_some() {
            return Err(type_error("argument for BytesIO() given by name ('initial_bytes') and position (1)"));
        }
        value = Some(v);
    }
    let buf = match value {
        None | Some(Value::None) => Vec::new(),
        Some(v) => need_bytes_like(&v)?.into_vec(),
    };
    *f.st.borrow_mut() = State { buf, pos: 0, closed: false };
    Ok(Value::None)
}

/// Write `b` at the position, filling a gap past the end with zeros.
fn write_value(f: &BytesIO, b: &Value) -> PyResult<usize> {
    if f.st.borrow().closed {
        return Err(closed_error());
    }
    let data = need_bytes_like(b)?;
    let mut st = f.st.borrow_mut();
    let n = data.len();
    if n == 0 {
        return Ok(0);
    }
    let pos = st.pos;
    if pos >= st.buf.len() {
        st.buf.resize(pos, 0);
        st.buf.extend_from_slice(&data);
    } else {
        let end = (pos + n).min(st.buf.len());
        st.buf.splice(pos..end, data.iter().copied());
    }
    st.pos = pos + n;
    Ok(n)
}

fn write(_vm: &mut Vm, args: &[Value]) -> PyResult {
    if args.len() != 2 {
        return Err(type_error(format!("BytesIO.write() takes exactly one argument ({} given)", args.len().saturating_sub(1))));
    }
    let f = this(args)?;
    Ok(Value::Int(write_value(&f, &args[1])? as i64))
}

/// `writelines(lines)`: each written in turn (BytesIO's own write, as CPython's does).
fn writelines(vm: &mut Vm, args: &[Value]) -> PyResult {
    if args.len() != 2 {
        return Err(type_error(format!("BytesIO.writelines() takes exactly one argument ({} given)", args.len().saturating_sub(1))));
    }
    let f = open(args)?;
    let it = vm.iter(&args[1])?;
    while let Some(line) = vm.next(&it)? {
        write_value(&f, &line)?;
    }
    Ok(Value::None)
}

fn getvalue(_vm: &mut Vm, args: &[Value]) -> PyResult {
    no_args("BytesIO", "getvalue", args)?;
    Ok(Value::bytes(open(args)?.st.borrow().buf.clone()))
}

/// `getbuffer()`: a view of the bytes as they are now.
fn getbuffer(_vm: &mut Vm, args: &[Value]) -> PyResult {
    no_args("BytesIO", "getbuffer", args)?;
    let data = Value::bytes(open(args)?.st.borrow().buf.clone());
    memoryview::new_view(&data)
}

fn read(vm: &mut Vm, args: &[Value]) -> PyResult {
    at_most("read", args, 1)?;
    let size = opt_size(vm, args.get(1))?;
    let f = open(args)?;
    let mut st = f.st.borrow_mut();
    let left = st.buf.len().saturating_sub(st.pos);
    let n = if size < 0 || size as usize > left { left } else { size as usize };
    if n == 0 {
        return Ok(Value::bytes(Vec::new()));
    }
    Ok(st.take(n))
}

/// `readinto(b)`: as many bytes as `b` holds, copied into it; their count.
fn readinto(_vm: &mut Vm, args: &[Value]) -> PyResult {
    if args.len() != 2 {
        return Err(type_error(format!("BytesIO.readinto() takes exactly one argument ({} given)", args.len().saturating_sub(1))));
    }
    let room = memoryview::writable_len(&args[1], "readinto() argument")?;
    let f = open(args)?;
    let mut st = f.st.borrow_mut();
    let start = st.pos.min(st.buf.len());
    let end = (start + room).min(st.buf.len());
    let chunk = st.buf[start..end].to_vec();
    st.pos = st.pos.max(end);
    drop(st);
    memoryview::fill_writable(&args[1], &chunk);
    Ok(Value::Int(chunk.len() as i64))
}

fn readline(vm: &mut Vm, args: &[Value]) -> PyResult {
    at_most("readline", args, 1)?;
    let limit = opt_size(vm, args.get(1))?;
    let f = open(args)?;
    let mut st = f.st.borrow_mut();
    let n = st.line_len(limit);
    Ok(st.take(n))
}

/// `readlines(hint=None)`: the lines left, until they total `hint` bytes.
fn readlines(vm: &mut Vm, args: &[Value]) -> PyResult {
    at_most("readlines", args, 1)?;
    let hint = opt_size(vm, args.get(1))?;
    let f = open(args)?;
    let mut st = f.st.borrow_mut();
    let mut out = Vec::new();
    let mut total = 0i64;
    loop {
        let n = st.line_len(-1);
        if n == 0 {
            break;
        }
        out.push(st.take(n));
        total += n as i64;
        if hint > 0 && total >= hint {
            break;
        }
    }
    Ok(Value::list(out))
}

fn next(_vm: &mut Vm, args: &[Value]) -> PyResult {
    let f = open(args)?;
    let mut st = f.st.borrow_mut();
    match st.line_len(-1) {
        0 => Err(stop_iteration(Value::None)),
        n => Ok(st.take(n)),
    }
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
        return Err(value_error(format!("invalid whence ({whence}, should be 0, 1 or 2)")));
    }
    if pos < 0 && whence == 0 {
        return Err(value_error(format!("negative seek value {pos}")));
    }
    let base = match whence {
        0 => 0,
        1 => st.pos as i64,
        _ => st.buf.len() as i64,
    };
    let pos = base.checked_add(pos).ok_or_else(|| overflow_error("new position too large"))?;
    st.pos = pos.max(0) as usize;
    Ok(Value::Int(st.pos as i64))
}

fn tell(_vm: &mut Vm, args: &[Value]) -> PyResult {
    no_args("BytesIO", "tell", args)?;
    Ok(Value::Int(open(args)?.st.borrow().pos as i64))
}

fn truncate(vm: &mut Vm, args: &[Value]) -> PyResult {
    at_most("truncate", args, 1)?;
    let f = this(args)?;
    let size = match args.get(1) {
        None | Some(Value::None) => f.st.borrow().pos as i64,
        v => opt_size(vm, v)?,
    };
    open(args)?;
    if size < 0 {
        return Err(value_error(format!("negative size value {size}")));
    }
    let mut st = f.st.borrow_mut();
    if (size as usize) < st.buf.len() {
        st.buf.truncate(size as usize);
    }
    Ok(Value::Int(size))
}

fn close(_vm: &mut Vm, args: &[Value]) -> PyResult {
    no_args("BytesIO", "close", args)?;
    let f = this(args)?;
    let mut st = f.st.borrow_mut();
    st.closed = true;
    st.buf = Vec::new();
    Ok(Value::None)
}

fn flush(_vm: &mut Vm, args: &[Value]) -> PyResult {
    no_args("BytesIO", "flush", args)?;
    open(args)?;
    Ok(Value::None)
}

fn able(_vm: &mut Vm, args: &[Value]) -> PyResult {
    open(args)?;
    Ok(Value::Bool(Flag::TRUE))
}

fn isatty(_vm: &mut Vm, args: &[Value]) -> PyResult {
    no_args("BytesIO", "isatty", args)?;
    open(args)?;
    Ok(Value::Bool(Flag::FALSE))
}

/// `__enter__`: the stream, unless closed (through a subclass's own `closed`).
fn enter(vm: &mut Vm, args: &[Value]) -> PyResult {
    let me = args.first().cloned().unwrap_or_default();
    let closed = match &me {
        Value::Object(_) => this(args)?.st.borrow().closed,
        _ => {
            let c = vm.getattr(&me, &aio_interp::intern::intern("closed"))?;
            vm.truthy(&c)?
        }
    };
    if closed {
        return Err(closed_error());
    }
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
