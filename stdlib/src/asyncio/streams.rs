//! Streams, native: `StreamReader` (a byte buffer that read coroutines
//! wait on), `StreamReaderProtocol` (between a transport and a reader) and
//! `StreamWriter` (a transport's front with `drain()`), with
//! `IncompleteReadError` and `LimitOverrunError`. Each read method is a
//! small native coroutine that runs the same steps as CPython's: look at
//! the buffer, else wait on one future that `feed_data`/`feed_eof` completes,
//! so a task wakes in the same iteration as it would there.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use aio_interp::event_loop::EventLoop;
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::task::{self, DoneCallback, Future};
use aio_interp::types::{method, native_closure, native_fn, new_class, type_name, types, BuiltinType};
use aio_interp::{Value, Vm};

use super::transport::{join_data, Transport};
use crate::native::{instance_of, native_ref, NativeRef};

/// CPython's default line limit (64 KiB).
pub const DEFAULT_LIMIT: usize = 1 << 16;

// ------------------------------------------------------------ byte buffer

/// A byte buffer read from the front: taking bytes moves a start index
/// instead of the bytes, and the dead front is reclaimed now and then.
#[derive(Default)]
pub struct ByteBuf {
    data: Vec<u8>,
    start: usize,
}

impl ByteBuf {
    pub fn len(&self) -> usize {
        self.data.len() - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.data[self.start..]
    }
    pub fn extend(&mut self, b: &[u8]) {
        if self.start > 0 && self.start >= self.data.len() / 2 {
            self.data.drain(..self.start);
            self.start = 0;
        }
        self.data.extend_from_slice(b);
    }
    /// Drop the first `n` bytes.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.data.len());
        if self.start == self.data.len() {
            self.data.clear();
            self.start = 0;
        }
    }
    /// Take the first `n` bytes (fewer if there are not as many).
    pub fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        let out = self.as_slice()[..n].to_vec();
        self.consume(n);
        out
    }
    pub fn clear(&mut self) {
        self.data.clear();
        self.start = 0;
    }
}

fn bytes(v: Vec<u8>) -> Value {
    Value::Bytes(Rc::new(PyBytes { b: v.into_boxed_slice() }))
}

// ------------------------------------------------------------ exceptions

thread_local! {
    static EXC: (Rc<Class>, Rc<Class>) = {
        let t = types();
        let ire = new_class("IncompleteReadError", std::slice::from_ref(&t.exc.eof_error), Layout::Exception, Some(BuiltinType::Exception));
        ire.dict.set_str("__module__", Value::str("asyncio.exceptions"));
        method(&ire, "IncompleteReadError", "__init__", |vm, a| {
            let Some(Value::Instance(e)) = a.pos.first() else { return Err(type_error("expected an exception")) };
            let partial = a.pos.get(1).cloned().unwrap_or(Value::None);
            let expected = a.pos.get(2).cloned().unwrap_or(Value::None);
            let n = vm.len(&partial)?;
            let r = if expected.is_none() { "undefined".to_string() } else { vm.repr_str(&expected)? };
            *e.exc().expect("an exception").args.borrow_mut() = Value::tuple(vec![Value::string(format!("{n} bytes read on a total of {r} expected bytes"))]);
            e.dict_set_str("partial", partial);
            e.dict_set_str("expected", expected);
            Ok(Value::None)
        });
        let loe = new_class("LimitOverrunError", std::slice::from_ref(&t.exc.exception), Layout::Exception, Some(BuiltinType::Exception));
        loe.dict.set_str("__module__", Value::str("asyncio.exceptions"));
        method(&loe, "LimitOverrunError", "__init__", |_vm, a| {
            let Some(Value::Instance(e)) = a.pos.first() else { return Err(type_error("expected an exception")) };
            let msg = a.pos.get(1).cloned().unwrap_or(Value::None);
            *e.exc().expect("an exception").args.borrow_mut() = Value::tuple(vec![msg]);
            e.dict_set_str("consumed", a.pos.get(2).cloned().unwrap_or(Value::None));
            Ok(Value::None)
        });
        (ire, loe)
    };
}

fn incomplete_read(partial: Vec<u8>, expected: Option<usize>) -> PyErr {
    let cls = EXC.with(|c| c.0.clone());
    let n = partial.len();
    let r = expected.map(|e| e.to_string()).unwrap_or_else(|| "undefined".into());
    let e = new_exception(&cls, vec![Value::string(format!("{n} bytes read on a total of {r} expected bytes"))]);
    e.dict_set_str("partial", bytes(partial));
    e.dict_set_str("expected", expected.map(|x| Value::Int(x as i64)).unwrap_or(Value::None));
    PyErr(e)
}

fn limit_overrun(msg: &str, consumed: usize) -> PyErr {
    let cls = EXC.with(|c| c.1.clone());
    let e = new_exception(&cls, vec![Value::str(msg)]);
    e.dict_set_str("consumed", Value::Int(consumed as i64));
    PyErr(e)
}

// ------------------------------------------------------------ StreamReader

/// `asyncio.StreamReader`.
pub struct StreamReader {
    loop_: RefCell<Value>,
    buf: RefCell<ByteBuf>,
    limit: Cell<usize>,
    eof: Cell<bool>,
    waiter: RefCell<Option<Rc<Future>>>,
    exception: RefCell<Option<PyErr>>,
    transport: RefCell<Value>,
    paused: Cell<bool>,
    /// What a wait for data is called in reports (`read from 127.0.0.1:40812`).
    label: RefCell<Option<Rc<PyStr>>>,
}

thread_local! {
    static READER_CLASS: Rc<Class> = {
        let c = new_class("StreamReader", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("asyncio.streams"));
        let ms: &[(&str, NativeFnPtr)] = &[
            ("feed_data", r_feed_data),
            ("feed_eof", |vm, a| {
                reader(&a)?.feed_eof(vm)?;
                Ok(Value::None)
            }),
            ("at_eof", |_vm, a| {
                let r = reader(&a)?;
                Ok(Value::bool(r.eof.get() && r.buf.borrow().is_empty()))
            }),
            ("exception", |_vm, a| Ok(reader(&a)?.exception.borrow().as_ref().map(|e| e.value()).unwrap_or(Value::None))),
            ("set_exception", |vm, a| {
                let e = from_raise_operand(vm, a.pos.get(1).cloned().unwrap_or(Value::None))?;
                reader(&a)?.set_exception(vm, e)?;
                Ok(Value::None)
            }),
            ("set_transport", |_vm, a| {
                reader(&a)?.set_transport(a.pos.get(1).cloned().unwrap_or(Value::None))?;
                Ok(Value::None)
            }),
            ("read", |vm, mut a| {
                let n = a.take_kw("n").or_else(|| a.pos.get(1).cloned()).unwrap_or(Value::Int(-1));
                let n = match n {
                    Value::Int(i) => i,
                    other => return Err(type_error(format!("'{}' object cannot be interpreted as an integer", type_name(&other)))),
                };
                let kind = if n < 0 { Kind::ReadAll(Vec::new()) } else { Kind::Read(n as usize) };
                Ok(ReadOp::make(vm, &a, kind, "StreamReader.read"))
            }),
            ("readline", |vm, a| Ok(ReadOp::make(vm, &a, Kind::Line, "StreamReader.readline"))),
            ("readuntil", |vm, mut a| {
                let sep = match a.take_kw("separator").or_else(|| a.pos.get(1).cloned()) {
                    None => b"\n".to_vec(),
                    Some(Value::Bytes(b)) => b.b.to_vec(),
                    Some(other) => return Err(type_error(format!("a bytes-like object is required, not '{}'", type_name(&other)))),
                };
                Ok(ReadOp::make(vm, &a, Kind::Until(sep), "StreamReader.readuntil"))
            }),
            ("readexactly", |vm, mut a| {
                let n = match a.take_kw("n").or_else(|| a.pos.get(1).cloned()) {
                    Some(Value::Int(i)) => i,
                    Some(other) => return Err(type_error(format!("'{}' object cannot be interpreted as an integer", type_name(&other)))),
                    None => return Err(type_error("readexactly() missing 1 required positional argument: 'n'")),
                };
                Ok(ReadOp::make(vm, &a, Kind::Exactly(n), "StreamReader.readexactly"))
            }),
            ("__aiter__", |_vm, a| Ok(a.pos[0].clone())),
            ("__anext__", |vm, a| Ok(ReadOp::make(vm, &a, Kind::Next, "StreamReader.__anext__"))),
        ];
        for (n, f) in ms {
            method(&c, "StreamReader", n, *f);
        }
        c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", reader_new)));
        method(&c, "StreamReader", "__init__", reader_init);
        c
    };
}

impl NativeObject for StreamReader {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        READER_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "_limit" => Some(Value::Int(self.limit.get() as i64)),
            "_eof" => Some(Value::bool(self.eof.get())),
            "_buffer" => Some(bytes(self.buf.borrow().as_slice().to_vec())),
            "_transport" => Some(self.transport.borrow().clone()),
            "_loop" => Some(self.loop_.borrow().clone()),
            "_paused" => Some(Value::bool(self.paused.get())),
            _ => None,
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let mut info = vec!["StreamReader".to_string()];
        let n = self.buf.borrow().len();
        if n > 0 {
            info.push(format!("{n} bytes"));
        }
        if self.eof.get() {
            info.push("eof".into());
        }
        if self.limit.get() != DEFAULT_LIMIT {
            info.push(format!("limit={}", self.limit.get()));
        }
        if let Some(w) = self.waiter.borrow().clone() {
            info.push(format!("waiter={}", vm.repr_str(&Value::Future(w))?));
        }
        if let Some(e) = self.exception.borrow().clone() {
            info.push(format!("exception={}", vm.repr_str(&e.value())?));
        }
        let t = self.transport.borrow().clone();
        if !t.is_none() {
            info.push(format!("transport={}", vm.repr_str(&t)?));
        }
        if self.paused.get() {
            info.push("paused".into());
        }
        Ok(format!("<{}>", info.join(" ")))
    }
}

fn reader(args: &Args) -> PyResult<NativeRef<StreamReader>> {
    args.pos.first().and_then(native_ref::<StreamReader>).ok_or_else(|| type_error("descriptor requires a StreamReader"))
}

/// `StreamReader.__new__`: a reader with the defaults, which `__init__`
/// sets (a subclass's `__init__` calls it through `super()`).
fn reader_new(vm: &mut Vm, args: Args) -> PyResult {
    let base = READER_CLASS.with(|c| c.clone());
    let cls = match args.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => base.clone(),
    };
    let r = new_reader(super::event_loop_value(vm), DEFAULT_LIMIT);
    Ok(instance_of(&cls, &base, r))
}

/// `StreamReader.__init__(limit=2**16, loop=None)`.
fn reader_init(vm: &mut Vm, mut args: Args) -> PyResult {
    let r = reader(&args)?;
    let limit = args.take_kw("limit").or_else(|| args.pos.get(1).cloned()).unwrap_or(Value::Int(DEFAULT_LIMIT as i64));
    let loop_v = args.take_kw("loop").or_else(|| args.pos.get(2).cloned()).unwrap_or(Value::None);
    let limit = match limit {
        Value::Int(i) => i,
        other => return Err(type_error(format!("'<=' not supported between instances of '{}' and 'int'", type_name(&other)))),
    };
    if limit <= 0 {
        return Err(value_error("Limit cannot be <= 0"));
    }
    r.limit.set(limit as usize);
    *r.loop_.borrow_mut() = if loop_v.is_none() { super::event_loop_value(vm) } else { loop_v };
    Ok(Value::None)
}

/// A new reader on a loop.
pub fn new_reader(loop_v: Value, limit: usize) -> Value {
    Value::object(StreamReader {
        loop_: RefCell::new(loop_v),
        buf: RefCell::new(ByteBuf::default()),
        limit: Cell::new(limit),
        eof: Cell::new(false),
        waiter: RefCell::new(None),
        exception: RefCell::new(None),
        transport: RefCell::new(Value::None),
        paused: Cell::new(false),
        label: RefCell::new(None),
    })
}

fn r_feed_data(vm: &mut Vm, args: Args) -> PyResult {
    let r = reader(&args)?;
    match args.pos.get(1) {
        Some(Value::Bytes(b)) => r.feed_data(vm, &b.b)?,
        Some(other) => return Err(type_error(format!("can't concat {} to bytearray", type_name(other)))),
        None => return Err(type_error("feed_data() missing 1 required positional argument: 'data'")),
    }
    Ok(Value::None)
}

impl StreamReader {
    fn wakeup_waiter(&self, vm: &mut Vm) -> PyResult<()> {
        let w = self.waiter.borrow_mut().take();
        if let Some(w) = w {
            if !w.cancelled() {
                w.set_result(vm, Value::None)?;
            }
        }
        Ok(())
    }

    /// `feed_data(data)`: buffer what came and wake the waiting read.
    pub fn feed_data(&self, vm: &mut Vm, data: &[u8]) -> PyResult<()> {
        if self.eof.get() {
            return Err(err(&types().exc.assertion_error, "feed_data after feed_eof"));
        }
        if data.is_empty() {
            return Ok(());
        }
        self.buf.borrow_mut().extend(data);
        self.wakeup_waiter(vm)?;
        let t = self.transport.borrow().clone();
        if !t.is_none() && !self.paused.get() && self.buf.borrow().len() > 2 * self.limit.get() {
            match t.downcast::<Transport>() {
                Some(tr) => tr.pause_reading(),
                None => {
                    if let Err(e) = vm.call_method(&t, "pause_reading", vec![]) {
                        if e.is(&types().exc.not_implemented_error) {
                            *self.transport.borrow_mut() = Value::None;
                            return Ok(());
                        }
                        return Err(e);
                    }
                }
            }
            self.paused.set(true);
        }
        Ok(())
    }

    /// `feed_eof()`.
    pub fn feed_eof(&self, vm: &mut Vm) -> PyResult<()> {
        self.eof.set(true);
        self.wakeup_waiter(vm)
    }

    /// `set_exception(exc)`: the waiting read, and every later one, raises it.
    pub fn set_exception(&self, vm: &mut Vm, e: PyErr) -> PyResult<()> {
        *self.exception.borrow_mut() = Some(e.clone());
        let w = self.waiter.borrow_mut().take();
        if let Some(w) = w {
            if !w.cancelled() {
                w.set_exception(vm, e)?;
            }
        }
        Ok(())
    }

    /// `set_transport(transport)`.
    pub fn set_transport(&self, t: Value) -> PyResult<()> {
        if !self.transport.borrow().is_none() {
            return Err(err(&types().exc.assertion_error, "Transport already set"));
        }
        if let Some(tr) = t.downcast::<Transport>() {
            *self.label.borrow_mut() = Some(Rc::new(PyStr::from_string(format!("read from {}", tr.peer))));
        } else if let Some(l) = super::subprocess::pipe_label(&t) {
            *self.label.borrow_mut() = Some(Rc::new(PyStr::from_string(l)));
        }
        *self.transport.borrow_mut() = t;
        Ok(())
    }

    fn resume_transport(&self, vm: &mut Vm) -> PyResult<()> {
        self.paused.set(false);
        let t = self.transport.borrow().clone();
        match t.downcast::<Transport>() {
            Some(tr) => tr.resume_reading(),
            None => vm.call_method(&t, "resume_reading", vec![]).map(|_| ()),
        }
    }

    fn maybe_resume_transport(&self, vm: &mut Vm) -> PyResult<()> {
        if self.paused.get() && self.buf.borrow().len() <= self.limit.get() {
            return self.resume_transport(vm);
        }
        Ok(())
    }

    /// `_wait_for_data(func_name)`: the future that the next data completes.
    fn wait_for_data(&self, vm: &mut Vm, func: &str) -> PyResult<Rc<Future>> {
        if self.waiter.borrow().is_some() {
            return Err(runtime_error(format!("{func}() called while another coroutine is already waiting for incoming data")));
        }
        if self.paused.get() {
            self.resume_transport(vm)?;
        }
        let w = Future::new(self.loop_.borrow().clone(), None);
        if let Some(l) = self.label.borrow().clone() {
            w.set_label(l);
            w.set_io_wait();
        } else {
            w.set_label(aio_interp::intern::intern(&format!("StreamReader.{func}")));
        }
        *self.waiter.borrow_mut() = Some(w.clone());
        Ok(w)
    }

    fn raise_exception(&self) -> PyResult<()> {
        match self.exception.borrow().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

// ------------------------------------------------------------ read coroutines

/// Which read a [`ReadOp`] runs.
enum Kind {
    /// `read(n)`, n >= 0.
    Read(usize),
    /// `read()`: blocks of `limit` bytes until EOF.
    ReadAll(Vec<u8>),
    Line,
    Until(Vec<u8>),
    Exactly(i64),
    /// `__anext__`: a line, or `StopAsyncIteration` at EOF.
    Next,
}

#[derive(Clone, Copy, PartialEq)]
enum OpState {
    Created,
    /// Suspended on the reader's waiter (kept in `waiting`).
    Waiting,
    Done,
}

/// A read in progress: a native coroutine.
struct ReadOp {
    reader: Value,
    kind: RefCell<Kind>,
    state: Cell<OpState>,
    waiting: RefCell<Option<Rc<Future>>>,
    /// `readuntil`'s `offset`: where the separator cannot start.
    offset: Cell<usize>,
    /// `read()`'s inner `read(limit)` has done its checks (before a wait).
    checked: Cell<bool>,
    qualname: &'static str,
    origin: Option<TbEntry>,
}

fn origin_here(vm: &Vm) -> Option<TbEntry> {
    vm.frames.last().map(|fr| TbEntry { code: fr.code.clone(), ip: fr.ip.saturating_sub(1) as u32 })
}

impl ReadOp {
    fn make(vm: &Vm, args: &Args, kind: Kind, qualname: &'static str) -> Value {
        Value::object(ReadOp {
            reader: args.pos[0].clone(),
            kind: RefCell::new(kind),
            state: Cell::new(OpState::Created),
            waiting: RefCell::new(None),
            offset: Cell::new(0),
            checked: Cell::new(false),
            qualname,
            origin: origin_here(vm),
        })
    }

    fn reader(&self) -> NativeRef<StreamReader> {
        native_ref::<StreamReader>(&self.reader).expect("a StreamReader")
    }

    /// Run until the read completes (`Some`) or must wait for data (`None`).
    /// `resumed`: coming back from a wait.
    fn attempt(&self, vm: &mut Vm, resumed: bool) -> PyResult<Option<Value>> {
        let r = self.reader();
        let mut kind = self.kind.borrow_mut();
        match &mut *kind {
            Kind::Read(n) => {
                if !resumed {
                    r.raise_exception()?;
                    if *n == 0 {
                        return Ok(Some(bytes(vec![])));
                    }
                    if r.buf.borrow().is_empty() && !r.eof.get() {
                        return Ok(None);
                    }
                }
                let data = r.buf.borrow_mut().take(*n);
                r.maybe_resume_transport(vm)?;
                Ok(Some(bytes(data)))
            }
            Kind::ReadAll(blocks) => loop {
                if !self.checked.get() {
                    r.raise_exception()?;
                    self.checked.set(true);
                    if r.buf.borrow().is_empty() && !r.eof.get() {
                        return Ok(None);
                    }
                }
                self.checked.set(false);
                let block = r.buf.borrow_mut().take(r.limit.get());
                r.maybe_resume_transport(vm)?;
                if block.is_empty() {
                    return Ok(Some(bytes(std::mem::take(blocks))));
                }
                blocks.extend_from_slice(&block);
            },
            Kind::Exactly(n) => {
                let n = *n;
                if !resumed {
                    if n < 0 {
                        return Err(value_error("readexactly size can not be less than zero"));
                    }
                    r.raise_exception()?;
                    if n == 0 {
                        return Ok(Some(bytes(vec![])));
                    }
                }
                let n = n as usize;
                if r.buf.borrow().len() < n {
                    if r.eof.get() {
                        let partial = std::mem::take(&mut *r.buf.borrow_mut()).as_slice().to_vec();
                        return Err(incomplete_read(partial, Some(n)));
                    }
                    return Ok(None);
                }
                let data = r.buf.borrow_mut().take(n);
                r.maybe_resume_transport(vm)?;
                Ok(Some(bytes(data)))
            }
            Kind::Until(sep) => {
                let sep = sep.clone();
                drop(kind);
                match self.until(vm, &sep, resumed)? {
                    Until::Found(v) => Ok(Some(bytes(v))),
                    Until::Wait => Ok(None),
                    Until::Incomplete(p) => Err(incomplete_read(p, None)),
                    Until::Overrun(msg, consumed) => Err(limit_overrun(msg, consumed)),
                }
            }
            Kind::Line | Kind::Next => {
                let next = matches!(&*kind, Kind::Next);
                drop(kind);
                let line = match self.until(vm, b"\n", resumed)? {
                    Until::Found(v) => v,
                    Until::Wait => return Ok(None),
                    Until::Incomplete(p) => p,
                    Until::Overrun(msg, consumed) => {
                        {
                            let mut b = r.buf.borrow_mut();
                            if b.as_slice().get(consumed) == Some(&b'\n') {
                                b.consume(consumed + 1);
                            } else {
                                b.clear();
                            }
                        }
                        r.maybe_resume_transport(vm)?;
                        return Err(value_error(msg));
                    }
                };
                if next && line.is_empty() {
                    return Err(stop_async_iteration());
                }
                Ok(Some(bytes(line)))
            }
        }
    }

    /// `readuntil(sep)` up to its next wait.
    fn until(&self, vm: &mut Vm, sep: &[u8], resumed: bool) -> PyResult<Until> {
        let r = self.reader();
        if !resumed {
            if sep.is_empty() {
                return Err(value_error("Separator should be at least one-byte string"));
            }
            r.raise_exception()?;
        }
        let seplen = sep.len();
        let isep = {
            let b = r.buf.borrow();
            let buflen = b.len();
            let offset = self.offset.get();
            let mut found = None;
            if buflen >= offset && buflen - offset >= seplen {
                found = find(&b.as_slice()[offset..], sep).map(|i| offset + i);
                if found.is_none() {
                    let off = buflen + 1 - seplen;
                    self.offset.set(off);
                    if off > r.limit.get() {
                        return Ok(Until::Overrun("Separator is not found, and chunk exceed the limit", off));
                    }
                }
            }
            match found {
                Some(i) => i,
                None => {
                    drop(b);
                    if r.eof.get() {
                        let chunk = std::mem::take(&mut *r.buf.borrow_mut()).as_slice().to_vec();
                        return Ok(Until::Incomplete(chunk));
                    }
                    return Ok(Until::Wait);
                }
            }
        };
        if isep > r.limit.get() {
            return Ok(Until::Overrun("Separator is found, but chunk is longer than limit", isep));
        }
        let chunk = r.buf.borrow_mut().take(isep + seplen);
        r.maybe_resume_transport(vm)?;
        Ok(Until::Found(chunk))
    }

    fn func_name(&self) -> &'static str {
        match &*self.kind.borrow() {
            Kind::Read(_) | Kind::ReadAll(_) => "read",
            Kind::Exactly(_) => "readexactly",
            Kind::Until(_) | Kind::Line | Kind::Next => "readuntil",
        }
    }

    /// Leave the wait: the reader forgets its waiter (CPython's `finally`).
    fn end_wait(&self) -> Option<Rc<Future>> {
        let w = self.waiting.borrow_mut().take();
        if let Some(w) = &w {
            let r = self.reader();
            let mine = r.waiter.borrow().as_ref().is_some_and(|x| Rc::ptr_eq(x, w));
            if mine {
                r.waiter.borrow_mut().take();
            }
        }
        w
    }
}

enum Until {
    Found(Vec<u8>),
    Wait,
    Incomplete(Vec<u8>),
    Overrun(&'static str, usize),
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return hay.iter().position(|&b| b == needle[0]);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

native_coroutine!(ReadOp, |s| s.qualname);

impl AwaitIter for ReadOp {
    fn qualname(&self) -> Option<&str> {
        Some(self.qualname)
    }
    fn origin(&self) -> Option<TbEntry> {
        self.origin.clone()
    }
    fn send(&self, vm: &mut Vm, _this: &Value, _v: Value) -> PyResult<Step> {
        let resumed = match self.state.get() {
            OpState::Done => return Err(runtime_error("cannot reuse already awaited coroutine")),
            OpState::Created => false,
            OpState::Waiting => {
                let w = self.end_wait();
                if let Some(e) = w.and_then(|w| w.error()) {
                    self.state.set(OpState::Done);
                    return Err(e);
                }
                true
            }
        };
        let mut resumed = resumed;
        loop {
            match self.attempt(vm, resumed) {
                Ok(Some(v)) => {
                    self.state.set(OpState::Done);
                    return Ok(Step::Return(v));
                }
                Ok(None) => {
                    let w = match self.reader().wait_for_data(vm, self.func_name()) {
                        Ok(w) => w,
                        Err(e) => {
                            self.state.set(OpState::Done);
                            return Err(e);
                        }
                    };
                    if w.done() {
                        resumed = true;
                        continue;
                    }
                    *self.waiting.borrow_mut() = Some(w.clone());
                    self.state.set(OpState::Waiting);
                    w.set_blocking(true);
                    return Ok(Step::Yield(Value::Future(w)));
                }
                Err(e) => {
                    self.state.set(OpState::Done);
                    return Err(e);
                }
            }
        }
    }
    fn throw(&self, _vm: &mut Vm, _this: &Value, e: PyErr) -> PyResult<Step> {
        self.end_wait();
        self.state.set(OpState::Done);
        Err(e)
    }
    fn close(&self, _vm: &mut Vm) {
        self.end_wait();
        self.state.set(OpState::Done);
    }
}

impl Drop for ReadOp {
    fn drop(&mut self) {
        if self.state.get() == OpState::Created && self.origin.is_some() {
            aio_interp::diagnostic::warn_never_awaited(self.qualname, self.origin.as_ref());
        }
    }
}

// ------------------------------------------------------------ StreamReaderProtocol

/// `asyncio.StreamReaderProtocol`, with the flow control of `FlowControlMixin`.
pub struct StreamProto {
    loop_: Value,
    me: RefCell<Weak<Box<dyn NativeObject>>>,
    reader: RefCell<Value>,
    client_connected_cb: Value,
    writer: RefCell<Value>,
    task: RefCell<Option<Rc<Future>>>,
    transport: RefCell<Value>,
    closed: Rc<Future>,
    paused: Cell<bool>,
    drain_waiters: RefCell<VecDeque<Rc<Future>>>,
    connection_lost: Cell<bool>,
}

thread_local! {
    static PROTO_CLASS: Rc<Class> = {
        let c = new_class("StreamReaderProtocol", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("asyncio.streams"));
        let ms: &[(&str, NativeFnPtr)] = &[
            ("connection_made", |vm, a| {
                proto(&a)?.connection_made(vm, a.pos.get(1).unwrap_or(&Value::None))?;
                Ok(Value::None)
            }),
            ("connection_lost", |vm, a| {
                let e = match a.pos.get(1) {
                    None | Some(Value::None) => None,
                    Some(v) => Some(from_raise_operand(vm, v.clone())?),
                };
                proto(&a)?.connection_lost(vm, e)?;
                Ok(Value::None)
            }),
            ("data_received", |vm, a| {
                match a.pos.get(1) {
                    Some(Value::Bytes(b)) => proto(&a)?.data_received(vm, &b.b)?,
                    _ => return Err(type_error("data_received() expects bytes")),
                }
                Ok(Value::None)
            }),
            ("eof_received", |vm, a| Ok(Value::bool(proto(&a)?.eof_received(vm)?))),
            ("pause_writing", |_vm, a| {
                proto(&a)?.pause_writing();
                Ok(Value::None)
            }),
            ("resume_writing", |vm, a| {
                proto(&a)?.resume_writing(vm);
                Ok(Value::None)
            }),
        ];
        for (n, f) in ms {
            method(&c, "StreamReaderProtocol", n, *f);
        }
        c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", proto_new)));
        c
    };
}

impl NativeObject for StreamProto {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        PROTO_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "_closed" => Some(Value::Future(self.closed.clone())),
            "_stream_reader" => Some(self.reader.borrow().clone()),
            "_stream_writer" => Some(self.writer.borrow().clone()),
            "_transport" => Some(self.transport.borrow().clone()),
            "_client_connected_cb" => Some(self.client_connected_cb.clone()),
            "_paused" => Some(Value::bool(self.paused.get())),
            "_connection_lost" => Some(Value::bool(self.connection_lost.get())),
            "_loop" => Some(self.loop_.clone()),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<asyncio.streams.StreamReaderProtocol object at {:#x}>", self as *const StreamProto as usize))
    }
}

fn proto(args: &Args) -> PyResult<&StreamProto> {
    args.pos.first().and_then(|v| v.downcast::<StreamProto>()).ok_or_else(|| type_error("descriptor requires a StreamReaderProtocol"))
}

/// `StreamReaderProtocol(stream_reader, client_connected_cb=None, loop=None)`.
fn proto_new(vm: &mut Vm, mut args: Args) -> PyResult {
    args.pos.remove(0);
    let reader = args.take_kw("stream_reader").or_else(|| args.pos.first().cloned()).unwrap_or(Value::None);
    let cb = args.take_kw("client_connected_cb").or_else(|| args.pos.get(1).cloned()).unwrap_or(Value::None);
    let loop_v = args.take_kw("loop").or_else(|| args.pos.get(2).cloned()).unwrap_or(Value::None);
    let loop_v = if loop_v.is_none() { super::event_loop_value(vm) } else { loop_v };
    Ok(new_proto(loop_v, reader, cb))
}

/// A new protocol for `reader` (and, on a server, the connection callback).
pub fn new_proto(loop_v: Value, reader: Value, cb: Value) -> Value {
    let closed = Future::new(loop_v.clone(), None);
    let v = Value::object(StreamProto {
        loop_: loop_v,
        me: RefCell::new(Weak::new()),
        reader: RefCell::new(reader),
        client_connected_cb: cb,
        writer: RefCell::new(Value::None),
        task: RefCell::new(None),
        transport: RefCell::new(Value::None),
        closed,
        paused: Cell::new(false),
        drain_waiters: RefCell::new(VecDeque::new()),
        connection_lost: Cell::new(false),
    });
    if let (Value::Object(rc), Some(p)) = (&v, v.downcast::<StreamProto>()) {
        *p.me.borrow_mut() = Rc::downgrade(rc);
    }
    v
}

impl StreamProto {
    fn value(&self) -> Value {
        self.me.borrow().upgrade().map(Value::Object).unwrap_or(Value::None)
    }

    fn reader(&self) -> Option<Value> {
        let r = self.reader.borrow().clone();
        (!r.is_none()).then_some(r)
    }

    /// `connection_made(transport)`: on a server, the client callback runs
    /// now, and a coroutine it returns becomes a task.
    pub fn connection_made(&self, vm: &mut Vm, transport: &Value) -> PyResult<()> {
        *self.transport.borrow_mut() = transport.clone();
        if let Some(t) = transport.downcast::<Transport>() {
            self.closed.set_label(Rc::new(PyStr::from_string(format!("the close of the connection with {}", t.peer))));
            self.closed.set_io_wait();
        }
        if let Some(r) = self.reader() {
            match r.downcast::<StreamReader>() {
                Some(sr) => sr.set_transport(transport.clone())?,
                None => {
                    vm.call_method(&r, "set_transport", vec![transport.clone()])?;
                }
            }
        }
        if self.client_connected_cb.is_none() {
            return Ok(());
        }
        let reader = self.reader.borrow().clone();
        let writer = new_writer(transport.clone(), self.value(), reader.clone(), self.loop_.clone());
        *self.writer.borrow_mut() = writer.clone();
        let res = vm.call(self.client_connected_cb.clone(), Args::new([reader, writer]))?;
        let is_coro = match &res {
            Value::Generator(g) => g.kind == GenKind::Coroutine,
            Value::Object(o) => o.await_iter().is_some_and(|a| a.qualname().is_some()),
            _ => false,
        };
        if is_coro {
            let t = task::create_task(vm, &self.loop_, res, None)?;
            let tv = transport.clone();
            let lv = self.loop_.clone();
            let cb = native_closure("callback", move |vm, a| {
                if let Some(Value::Future(task)) = a.pos.first() {
                    if task.cancelled() {
                        return Ok(Value::None);
                    }
                    if let Some(e) = task.exception() {
                        task.set_log_traceback(false);
                        let report = aio_interp::diagnostic::format_exception(vm, &e);
                        let p = vm.repr_str(&tv)?;
                        vm.write_err(&format!("Unhandled exception in client_connected_cb\ntransport: {p}\n{report}"));
                        if let Some(t) = tv.downcast::<Transport>() {
                            t.close(vm);
                        }
                    }
                }
                let _ = &lv;
                Ok(Value::None)
            });
            t.add_done_callback(vm, DoneCallback::Call(cb));
            *self.task.borrow_mut() = Some(t);
        }
        Ok(())
    }

    /// `connection_lost(exc)`: the reader sees EOF (or the error), `wait_closed()` ends.
    pub fn connection_lost(&self, vm: &mut Vm, exc: Option<PyErr>) -> PyResult<()> {
        if let Some(r) = self.reader() {
            match (r.downcast::<StreamReader>(), &exc) {
                (Some(sr), None) => sr.feed_eof(vm)?,
                (Some(sr), Some(e)) => sr.set_exception(vm, e.clone())?,
                (None, None) => {
                    vm.call_method(&r, "feed_eof", vec![])?;
                }
                (None, Some(e)) => {
                    vm.call_method(&r, "set_exception", vec![e.value()])?;
                }
            }
        }
        if !self.closed.done() {
            match &exc {
                None => self.closed.set_result(vm, Value::None)?,
                Some(e) => {
                    self.closed.set_exception(vm, e.clone())?;
                    // Nobody has to look at it (CPython's __del__ retrieves it).
                    self.closed.set_log_traceback(false);
                }
            }
        }
        self.connection_lost.set(true);
        if self.paused.get() {
            let waiters: Vec<Rc<Future>> = self.drain_waiters.borrow().iter().cloned().collect();
            for w in waiters {
                if !w.done() {
                    match &exc {
                        None => w.set_result(vm, Value::None)?,
                        Some(e) => w.set_exception(vm, e.clone())?,
                    }
                }
            }
        }
        *self.reader.borrow_mut() = Value::None;
        *self.writer.borrow_mut() = Value::None;
        self.task.borrow_mut().take();
        *self.transport.borrow_mut() = Value::None;
        Ok(())
    }

    /// `data_received(data)`.
    pub fn data_received(&self, vm: &mut Vm, data: &[u8]) -> PyResult<()> {
        let r = self.reader.borrow().clone();
        match r.downcast::<StreamReader>() {
            Some(sr) => sr.feed_data(vm, data),
            None if r.is_none() => Ok(()),
            None => vm.call_method(&r, "feed_data", vec![bytes(data.to_vec())]).map(|_| ()),
        }
    }

    /// `eof_received()`: keep the transport open for writing.
    pub fn eof_received(&self, vm: &mut Vm) -> PyResult<bool> {
        let r = self.reader.borrow().clone();
        match r.downcast::<StreamReader>() {
            Some(sr) => sr.feed_eof(vm)?,
            None if r.is_none() => {}
            None => {
                vm.call_method(&r, "feed_eof", vec![])?;
            }
        }
        Ok(true)
    }

    pub fn pause_writing(&self) {
        self.paused.set(true);
    }

    pub fn resume_writing(&self, vm: &mut Vm) {
        self.paused.set(false);
        let waiters: Vec<Rc<Future>> = self.drain_waiters.borrow().iter().cloned().collect();
        for w in waiters {
            if !w.done() {
                let _ = w.set_result(vm, Value::None);
            }
        }
    }
}

// ------------------------------------------------------------ StreamWriter

/// `asyncio.StreamWriter`.
pub struct StreamWriter {
    transport: Value,
    protocol: Value,
    reader: Value,
    loop_: Value,
}

thread_local! {
    static WRITER_CLASS: Rc<Class> = {
        let c = new_class("StreamWriter", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("asyncio.streams"));
        let ms: &[(&str, NativeFnPtr)] = &[
            ("write", w_write),
            ("writelines", |vm, a| {
                let w = writer(&a)?;
                let data = join_data(vm, a.pos.get(1).unwrap_or(&Value::None))?;
                match w.transport.downcast::<Transport>() {
                    Some(t) => t.write(vm, &data)?,
                    None => {
                        vm.call_method(&w.transport, "write", vec![bytes(data)])?;
                    }
                }
                Ok(Value::None)
            }),
            ("write_eof", |vm, a| w_forward(vm, &a, "write_eof")),
            ("can_write_eof", |vm, a| w_forward(vm, &a, "can_write_eof")),
            ("close", |vm, a| {
                let w = writer(&a)?;
                match w.transport.downcast::<Transport>() {
                    Some(t) => t.close(vm),
                    None => {
                        vm.call_method(&w.transport, "close", vec![])?;
                    }
                }
                Ok(Value::None)
            }),
            ("is_closing", |vm, a| w_forward(vm, &a, "is_closing")),
            ("get_extra_info", |vm, mut a| {
                let default = a.take_kw("default").or_else(|| a.pos.get(2).cloned()).unwrap_or(Value::None);
                let w = writer(&a)?;
                let name = a.pos.get(1).cloned().unwrap_or(Value::None);
                match (w.transport.downcast::<Transport>(), &name) {
                    (Some(t), Value::Str(s)) => Ok(t.extra(vm, s.as_str())?.unwrap_or(default)),
                    (Some(_), _) => Ok(default),
                    (None, _) => vm.call_method(&w.transport, "get_extra_info", vec![name, default]),
                }
            }),
            ("drain", |vm, a| {
                let w = writer(&a)?;
                if w.protocol.downcast::<StreamProto>().is_none() {
                    // A protocol written in .aio (a subprocess's): its own _drain_helper().
                    let m = vm.import_module("asyncio._net")?;
                    let f = vm.getattr(&m, &aio_interp::intern::intern("_stream_drain"))?;
                    return vm.call(f, Args::new([a.pos[0].clone()]));
                }
                Ok(Value::object(Drain { writer: a.pos[0].clone(), state: RefCell::new(DrainState::Created), origin: origin_here(vm) }))
            }),
            ("wait_closed", |vm, a| {
                let w = writer(&a)?;
                let closed = match w.protocol.downcast::<StreamProto>() {
                    Some(p) => p.closed.clone(),
                    None => match vm.call_method(&w.protocol, "_get_close_waiter", vec![a.pos[0].clone()])? {
                        Value::Future(f) => f,
                        _ => return Err(type_error("_get_close_waiter() must return a future")),
                    },
                };
                Ok(Value::object(AwaitFuture { fut: closed, qualname: "StreamWriter.wait_closed", started: Cell::new(false), origin: origin_here(vm) }))
            }),
            ("start_tls", |vm, a| {
                writer(&a)?;
                let m = vm.import_module("asyncio._net")?;
                let f = vm.getattr(&m, &aio_interp::intern::intern("_stream_start_tls"))?;
                vm.call(f, a)
            }),
        ];
        for (n, f) in ms {
            method(&c, "StreamWriter", n, *f);
        }
        // The arguments are taken here, so that a subclass (whose
        // `__init__` passes them on to `super().__init__`) gets them too.
        c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", |_vm, mut a| {
            let cls = a.pos.remove(0);
            let get = |a: &mut Args, name: &str, i: usize| a.take_kw(name).or_else(|| a.pos.get(i).cloned()).unwrap_or(Value::None);
            let t = get(&mut a, "transport", 0);
            let p = get(&mut a, "protocol", 1);
            let r = get(&mut a, "reader", 2);
            let l = get(&mut a, "loop", 3);
            let base = WRITER_CLASS.with(|c| c.clone());
            let cls = match cls {
                Value::Class(c) => c,
                _ => base.clone(),
            };
            Ok(instance_of(&cls, &base, new_writer(t, p, r, l)))
        })));
        method(&c, "StreamWriter", "__init__", |_vm, _a| Ok(Value::None));
        c
    };
}

impl NativeObject for StreamWriter {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        WRITER_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "transport" | "_transport" => Some(self.transport.clone()),
            "_protocol" => Some(self.protocol.clone()),
            "_reader" => Some(self.reader.clone()),
            "_loop" => Some(self.loop_.clone()),
            _ => None,
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let mut s = format!("<StreamWriter transport={}", vm.repr_str(&self.transport)?);
        if !self.reader.is_none() {
            s.push_str(&format!(" reader={}", vm.repr_str(&self.reader)?));
        }
        s.push('>');
        Ok(s)
    }
}

/// A new writer.
pub fn new_writer(transport: Value, protocol: Value, reader: Value, loop_v: Value) -> Value {
    Value::object(StreamWriter { transport, protocol, reader, loop_: loop_v })
}

fn writer(args: &Args) -> PyResult<NativeRef<StreamWriter>> {
    args.pos.first().and_then(native_ref::<StreamWriter>).ok_or_else(|| type_error("descriptor requires a StreamWriter"))
}

fn w_write(vm: &mut Vm, args: Args) -> PyResult {
    let w = writer(&args)?;
    let data = args.pos.get(1).cloned().unwrap_or(Value::None);
    match (w.transport.downcast::<Transport>(), &data) {
        (Some(t), Value::Bytes(b)) => t.write(vm, &b.b)?,
        (Some(t), other) if aio_interp::types::bytes::bytes_like(other).is_some() => {
            let b = aio_interp::types::bytes::bytes_like(other).map(|b| b.into_vec()).unwrap_or_default();
            t.write(vm, &b)?
        }
        (Some(_), other) => return Err(type_error(format!("data argument must be a bytes-like object, not '{}'", type_name(other)))),
        (None, _) => {
            vm.call_method(&w.transport, "write", vec![data])?;
        }
    }
    Ok(Value::None)
}

fn w_forward(vm: &mut Vm, args: &Args, name: &str) -> PyResult {
    let w = writer(args)?;
    if let Some(t) = w.transport.downcast::<Transport>() {
        return Ok(match name {
            "write_eof" => {
                t.write_eof(vm)?;
                Value::None
            }
            "can_write_eof" => Value::bool(true),
            _ => Value::bool(t.is_closing()),
        });
    }
    vm.call_method(&w.transport, name, vec![])
}

enum DrainState {
    Created,
    /// `await sleep(0)` while the transport closes.
    Yielded,
    Waiting(Rc<Future>),
    Done,
}

/// `drain()`: a native coroutine.
struct Drain {
    writer: Value,
    state: RefCell<DrainState>,
    origin: Option<TbEntry>,
}

impl Drain {
    fn w(&self) -> NativeRef<StreamWriter> {
        native_ref::<StreamWriter>(&self.writer).expect("a StreamWriter")
    }

    /// `_drain_helper()`.
    fn helper(&self, vm: &mut Vm) -> PyResult<Step> {
        let w = self.w();
        let Some(p) = w.protocol.downcast::<StreamProto>() else {
            *self.state.borrow_mut() = DrainState::Done;
            return Ok(Step::Return(Value::None));
        };
        if p.connection_lost.get() {
            *self.state.borrow_mut() = DrainState::Done;
            return Err(err(&types().exc.connection_reset_error, "Connection lost"));
        }
        if !p.paused.get() {
            *self.state.borrow_mut() = DrainState::Done;
            return Ok(Step::Return(Value::None));
        }
        let f = Future::new(w.loop_.clone(), None);
        let label = match w.transport.downcast::<Transport>() {
            Some(t) => format!("drain (write to {})", t.peer),
            None => "StreamWriter.drain".into(),
        };
        f.set_label(Rc::new(PyStr::from_string(label)));
        f.set_io_wait();
        p.drain_waiters.borrow_mut().push_back(f.clone());
        *self.state.borrow_mut() = DrainState::Waiting(f.clone());
        let _ = vm;
        f.set_blocking(true);
        Ok(Step::Yield(Value::Future(f)))
    }

    fn forget(&self, f: &Rc<Future>) {
        if let Some(p) = self.w().protocol.downcast::<StreamProto>() {
            p.drain_waiters.borrow_mut().retain(|x| !Rc::ptr_eq(x, f));
        }
    }
}

native_coroutine!(Drain, |_s| "StreamWriter.drain");

impl AwaitIter for Drain {
    fn qualname(&self) -> Option<&str> {
        Some("StreamWriter.drain")
    }
    fn origin(&self) -> Option<TbEntry> {
        self.origin.clone()
    }
    fn send(&self, vm: &mut Vm, _this: &Value, _v: Value) -> PyResult<Step> {
        let state = std::mem::replace(&mut *self.state.borrow_mut(), DrainState::Done);
        match state {
            DrainState::Created => {
                let w = self.w();
                let exc = native_ref::<StreamReader>(&w.reader).and_then(|r| r.exception.borrow().clone());
                if let Some(e) = exc {
                    return Err(e);
                }
                let closing = match w.transport.downcast::<Transport>() {
                    Some(t) => t.is_closing(),
                    None => {
                        let v = vm.call_method(&w.transport, "is_closing", vec![])?;
                        vm.truthy(&v)?
                    }
                };
                if closing {
                    // Give connection_lost() a chance to run first.
                    *self.state.borrow_mut() = DrainState::Yielded;
                    return Ok(Step::Yield(Value::None));
                }
                self.helper(vm)
            }
            DrainState::Yielded => self.helper(vm),
            DrainState::Waiting(f) => {
                self.forget(&f);
                match f.error() {
                    Some(e) => Err(e),
                    None => Ok(Step::Return(Value::None)),
                }
            }
            DrainState::Done => Err(runtime_error("cannot reuse already awaited coroutine")),
        }
    }
    fn throw(&self, _vm: &mut Vm, _this: &Value, e: PyErr) -> PyResult<Step> {
        if let DrainState::Waiting(f) = std::mem::replace(&mut *self.state.borrow_mut(), DrainState::Done) {
            self.forget(&f);
        }
        Err(e)
    }
    fn close(&self, _vm: &mut Vm) {
        if let DrainState::Waiting(f) = std::mem::replace(&mut *self.state.borrow_mut(), DrainState::Done) {
            self.forget(&f);
        }
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        if matches!(*self.state.borrow(), DrainState::Created) && self.origin.is_some() {
            aio_interp::diagnostic::warn_never_awaited("StreamWriter.drain", self.origin.as_ref());
        }
    }
}

/// A native coroutine that awaits one future (`wait_closed()`).
pub struct AwaitFuture {
    pub fut: Rc<Future>,
    pub qualname: &'static str,
    pub started: Cell<bool>,
    pub origin: Option<TbEntry>,
}

native_coroutine!(AwaitFuture, |s| s.qualname);

impl AwaitIter for AwaitFuture {
    fn qualname(&self) -> Option<&str> {
        Some(self.qualname)
    }
    fn origin(&self) -> Option<TbEntry> {
        self.origin.clone()
    }
    fn send(&self, _vm: &mut Vm, _this: &Value, _v: Value) -> PyResult<Step> {
        self.started.set(true);
        self.fut.await_send()
    }
}

impl Drop for AwaitFuture {
    fn drop(&mut self) {
        if !self.started.get() && self.origin.is_some() {
            aio_interp::diagnostic::warn_never_awaited(self.qualname, self.origin.as_ref());
        }
    }
}

// ------------------------------------------------------------ helpers for asyncio.aio

/// `_ipaddr_info(host, port, family, type, proto, flowinfo=0, scopeid=0)`:
/// the address info of a numeric host without asking the resolver, or None.
fn ipaddr_info(vm: &mut Vm, args: Args) -> PyResult {
    let get = |i: usize| args.pos.get(i).cloned().unwrap_or(Value::None);
    let (host, port) = (get(0), get(1));
    let num = |v: Value| -> i64 {
        match v {
            Value::Int(i) => i,
            _ => 0,
        }
    };
    let (family, kind, proto) = (num(get(2)) as i32, num(get(3)) as i32, num(get(4)) as i32);
    let (flowinfo, scopeid) = (args.pos.get(5).cloned().unwrap_or(Value::Int(0)), args.pos.get(6).cloned().unwrap_or(Value::Int(0)));
    if ![0, libc::IPPROTO_TCP, libc::IPPROTO_UDP].contains(&proto) || host.is_none() {
        return Ok(Value::None);
    }
    let proto = match kind {
        libc::SOCK_STREAM => libc::IPPROTO_TCP,
        libc::SOCK_DGRAM => libc::IPPROTO_UDP,
        _ => return Ok(Value::None),
    };
    let port = match &port {
        Value::None => Value::Int(0),
        Value::Str(s) if s.is_empty() => Value::Int(0),
        Value::Bytes(b) if b.b.is_empty() => Value::Int(0),
        Value::Int(_) => port.clone(),
        other => {
            let int = vm.builtins.get_str("int").unwrap_or(Value::None);
            match vm.call(int, Args::new([other.clone()])) {
                Ok(v) => v,
                Err(_) => return Ok(Value::None),
            }
        }
    };
    let host = match &host {
        Value::Str(s) => s.as_str().to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(&b.b).into_owned(),
        _ => return Ok(Value::None),
    };
    if host.contains('%') {
        return Ok(Value::None);
    }
    let afs: &[i32] = if family == libc::AF_UNSPEC { &[libc::AF_INET, libc::AF_INET6] } else { std::slice::from_ref(&family) };
    for &af in afs {
        let ok = match af {
            libc::AF_INET => host.parse::<std::net::Ipv4Addr>().is_ok(),
            libc::AF_INET6 => host.parse::<std::net::Ipv6Addr>().is_ok(),
            _ => false,
        };
        if ok {
            let addr = if af == libc::AF_INET6 {
                Value::tuple(vec![Value::string(host.clone()), port.clone(), flowinfo.clone(), scopeid.clone()])
            } else {
                Value::tuple(vec![Value::string(host.clone()), port.clone()])
            };
            return Ok(Value::tuple(vec![Value::Int(af as i64), Value::Int(kind as i64), Value::Int(proto as i64), Value::str(""), addr]));
        }
    }
    Ok(Value::None)
}

/// `_remove_stale_unix_socket(path)`: a socket file left by an earlier server goes.
fn remove_stale_unix_socket(_vm: &mut Vm, args: Args) -> PyResult {
    use std::os::unix::fs::FileTypeExt;
    if let Some(Value::Str(p)) = args.pos.first() {
        if !p.starts_with('\0') {
            if let Ok(m) = std::fs::metadata(p.as_str()) {
                if m.file_type().is_socket() {
                    let _ = std::fs::remove_file(p.as_str());
                }
            }
        }
    }
    Ok(Value::None)
}

/// The stream classes and helpers, for `_asyncio`.
pub fn entries() -> Vec<(&'static str, Value)> {
    let (ire, loe) = EXC.with(|c| c.clone());
    vec![
        ("StreamReader", Value::Class(READER_CLASS.with(|c| c.clone()))),
        ("StreamWriter", Value::Class(WRITER_CLASS.with(|c| c.clone()))),
        ("StreamReaderProtocol", Value::Class(PROTO_CLASS.with(|c| c.clone()))),
        ("IncompleteReadError", Value::Class(ire)),
        ("LimitOverrunError", Value::Class(loe)),
        ("_ipaddr_info", native_fn("_ipaddr_info", ipaddr_info)),
        ("_remove_stale_unix_socket", native_fn("_remove_stale_unix_socket", remove_stale_unix_socket)),
        (
            "_stream_reader",
            native_fn("_stream_reader", |_vm, a| {
                let l = a.pos.first().cloned().unwrap_or(Value::None);
                let limit = match a.pos.get(1) {
                    Some(Value::Int(i)) if *i > 0 => *i as usize,
                    Some(Value::Int(_)) => return Err(value_error("Limit cannot be <= 0")),
                    _ => DEFAULT_LIMIT,
                };
                Ok(new_reader(l, limit))
            }),
        ),
        (
            "_stream_label",
            native_fn("_stream_label", |_vm, a| {
                if let (Some(r), Some(Value::Str(s))) = (a.pos.first().and_then(|v| v.downcast::<StreamReader>()), a.pos.get(1)) {
                    *r.label.borrow_mut() = Some(s.clone());
                }
                Ok(Value::None)
            }),
        ),
        (
            "_stream_buffered",
            native_fn("_stream_buffered", |_vm, a| {
                let n = a.pos.first().and_then(|v| v.downcast::<StreamReader>()).map_or(0, |r| r.buf.borrow().len());
                Ok(Value::Int(n as i64))
            }),
        ),
        (
            "_stream_protocol",
            native_fn("_stream_protocol", |_vm, a| {
                let get = |i: usize| a.pos.get(i).cloned().unwrap_or(Value::None);
                Ok(new_proto(get(0), get(1), get(2)))
            }),
        ),
    ]
}

/// Whether a value is an event loop (for checks in the natives above).
pub fn is_loop(v: &Value) -> bool {
    v.downcast::<EventLoop>().is_some()
}
