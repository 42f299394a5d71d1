//! Socket transports and the loop's reactor methods. A transport is
//! CPython's `_SelectorSocketTransport`, native: it reads when the reactor
//! says its socket is readable and hands the bytes to its protocol, sends
//! at once what it is given and buffers the rest until the socket is
//! writable, pauses its protocol above the high-water mark, and schedules
//! `connection_made`/`connection_lost` with `call_soon`, in CPython's order.
//! The protocol is native (`StreamReaderProtocol`, the fast path) or any
//! .aio object with the protocol methods. A TLS transport runs a rustls
//! connection between the socket and the protocol: `connection_made` (and
//! the waiter) wait for the handshake, whose failure goes to the waiter.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::os::fd::RawFd;
use std::rc::{Rc, Weak};

use aio_interp::event_loop::lp;
use aio_interp::event_loop::{self, Callback, EventLoop};
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::runtime::reactor::{IoCallback, IoHandle, IoWatcher};
use aio_interp::task::Future;
use aio_interp::types::{method, native_fn, new_class, type_name, types};
use aio_interp::{Value, Vm};

use super::streams::{ByteBuf, StreamProto};
use crate::socket::{addr_text, socket_of, socket_value, Socket};

/// The most a read asks of the socket at once (CPython's `max_size`).
const MAX_SIZE: usize = 256 * 1024;

thread_local! {
    /// The buffer reads land in before the protocol takes them.
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(MAX_SIZE));
}

/// `_SelectorSocketTransport`.
pub struct Transport {
    loop_: Value,
    pub sock: Rc<Socket>,
    fd: RawFd,
    /// The transport's own value (for the protocol's callbacks).
    me: RefCell<Weak<Box<dyn NativeObject>>>,
    protocol: RefCell<Value>,
    protocol_connected: Cell<bool>,
    server: RefCell<Value>,
    peername: Value,
    sockname: Value,
    /// The peer for people: `127.0.0.1:40812`.
    pub peer: String,
    buffer: RefCell<ByteBuf>,
    conn_lost: Cell<u32>,
    closing: Cell<bool>,
    paused: Cell<bool>,
    eof: Cell<bool>,
    protocol_paused: Cell<bool>,
    high: Cell<usize>,
    low: Cell<usize>,
    sock_closed: Cell<bool>,
    /// The TLS session over the socket, if the transport has one.
    tls: RefCell<Option<rustls::Connection>>,
    /// A TLS transport's waiter, until its handshake is over.
    handshake: RefCell<Option<Rc<Future>>>,
    /// The `ssl.SSLContext` of a TLS transport (`get_extra_info('sslcontext')`).
    sslcontext: RefCell<Value>,
    /// The name a TLS client asked for (`ssl_object.server_hostname`).
    server_hostname: RefCell<Value>,
    /// `get_extra_info('ssl_object')`, made on first use.
    ssl_object: RefCell<Value>,
}

thread_local! {
    static TRANSPORT_CLASS: Rc<Class> = {
        let c = new_class("_SelectorSocketTransport", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("asyncio.selector_events"));
        let ms: &[(&str, NativeFnPtr)] = &[
            ("write", t_write),
            ("writelines", t_writelines),
            ("write_eof", t_write_eof),
            ("can_write_eof", |_vm, _a| Ok(Value::bool(true))),
            ("close", t_close),
            ("abort", t_abort),
            ("is_closing", |_vm, a| Ok(Value::bool(this(&a)?.closing.get()))),
            ("is_reading", |_vm, a| Ok(Value::bool(this(&a)?.is_reading()))),
            ("pause_reading", t_pause_reading),
            ("resume_reading", t_resume_reading),
            ("get_extra_info", t_get_extra_info),
            ("get_write_buffer_size", |_vm, a| Ok(Value::Int(this(&a)?.buffer.borrow().len() as i64))),
            ("get_write_buffer_limits", |_vm, a| {
                let t = this(&a)?;
                Ok(Value::tuple(vec![Value::Int(t.low.get() as i64), Value::Int(t.high.get() as i64)]))
            }),
            ("set_write_buffer_limits", t_set_write_buffer_limits),
            ("get_protocol", |_vm, a| Ok(this(&a)?.protocol.borrow().clone())),
            ("set_protocol", |_vm, a| {
                let t = this(&a)?;
                *t.protocol.borrow_mut() = a.pos.get(1).cloned().unwrap_or(Value::None);
                t.protocol_connected.set(true);
                Ok(Value::None)
            }),
            ("get_loop", |_vm, a| Ok(this(&a)?.loop_.clone())),
        ];
        for (n, f) in ms {
            method(&c, "_SelectorSocketTransport", n, *f);
        }
        c
    };
}

impl NativeObject for Transport {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        TRANSPORT_CLASS.with(|c| c.clone())
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        let mut info = vec!["_SelectorSocketTransport".to_string()];
        if self.sock_closed.get() {
            info.push("closed".into());
        } else if self.closing.get() {
            info.push("closing".into());
        }
        info.push(format!("fd={}", self.fd));
        if let Some(l) = self.loop_.downcast::<EventLoop>().filter(|l| !l.closed.get()) {
            let r = if l.reactor.is_watching(self.fd, false) { "polling" } else { "idle" };
            info.push(format!("read={r}"));
            let w = if l.reactor.is_watching(self.fd, true) { "polling" } else { "idle" };
            info.push(format!("write=<{w}, bufsize={}>", self.buffer.borrow().len()));
        }
        Ok(format!("<{}>", info.join(" ")))
    }
}

fn this(args: &Args) -> PyResult<&Transport> {
    args.pos.first().and_then(|v| v.downcast::<Transport>()).ok_or_else(|| type_error("descriptor requires a transport"))
}

/// The reactor callback of a transport's socket.
struct Watch(Value);

impl IoWatcher for Watch {
    fn ready(self: Rc<Self>, vm: &mut Vm, write: bool) -> PyResult<()> {
        let t = self.0.downcast::<Transport>().expect("a transport");
        if write {
            t.write_ready(vm)
        } else {
            t.read_ready(vm)
        }
    }
    fn describe(&self, write: bool) -> String {
        let t = self.0.downcast::<Transport>().expect("a transport");
        if write {
            format!("write to {}", t.peer)
        } else {
            format!("read from {}", t.peer)
        }
    }
}

/// Is this an exception that stops the loop rather than the connection?
fn is_fatal(e: &PyErr) -> bool {
    let t = types();
    e.is(&t.exc.system_exit) || e.is(&t.exc.keyboard_interrupt)
}

/// An I/O error that only means "not now".
fn would_block(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted)
}

impl Transport {
    /// The transport as an .aio value.
    pub fn value(&self) -> Value {
        match self.me.borrow().upgrade() {
            Some(rc) => Value::Object(rc),
            None => Value::None,
        }
    }

    pub fn is_closing(&self) -> bool {
        self.closing.get()
    }

    fn is_reading(&self) -> bool {
        !self.closing.get() && !self.paused.get()
    }

    fn reactor(&self) -> &aio_interp::runtime::reactor::Reactor {
        &lp(&self.loop_).reactor
    }

    fn watcher(&self) -> IoCallback {
        IoCallback::Native(Rc::new(Watch(self.value())))
    }

    fn add_reader(&self) -> PyResult<()> {
        if !self.is_reading() {
            return Ok(());
        }
        self.reactor().add_reader(self.fd, self.watcher()).map(|_| ())
    }

    fn call_soon(&self, vm: &mut Vm, f: impl FnOnce(&mut Vm) -> PyResult<()> + 'static) {
        event_loop::call_soon(vm, &self.loop_, Callback::Native(Box::new(f)));
    }

    /// Schedule `protocol.<name>(arg)`: a user protocol's method is a call the trace can name.
    fn schedule_protocol_call(&self, vm: &mut Vm, name: &'static str, arg: Value) -> PyResult<()> {
        let proto = self.protocol.borrow().clone();
        if proto.downcast::<StreamProto>().is_some() {
            let me = self.value();
            self.call_soon(vm, move |vm| {
                let p = proto.downcast::<StreamProto>().expect("a stream protocol");
                match name {
                    "connection_made" => p.connection_made(vm, &me),
                    _ => Ok(()),
                }
            });
        } else {
            let m = vm.getattr(&proto, &aio_interp::intern::intern(name))?;
            event_loop::call_soon_handle(vm, &self.loop_, Callback::call(m, [arg]));
        }
        Ok(())
    }

    fn read_ready(&self, vm: &mut Vm) -> PyResult<()> {
        if self.conn_lost.get() > 0 {
            return Ok(());
        }
        if self.tls.borrow().is_some() {
            return self.tls_read_ready(vm);
        }
        let got = SCRATCH.with(|s| {
            let mut buf = s.borrow_mut();
            buf.clear();
            self.sock.recv_into(&mut buf, MAX_SIZE)
        });
        match got {
            Err(e) if would_block(&e) => Ok(()),
            Err(e) => {
                let exc = os_error_from_io(&e);
                self.fatal_error(vm, exc, "Fatal read error on socket transport")
            }
            Ok(0) => self.read_eof(vm),
            // The bytes go straight from the scratch buffer to the protocol.
            Ok(_) => SCRATCH.with(|s| self.deliver(vm, &s.borrow())),
        }
    }

    /// Hand received bytes to the protocol.
    fn deliver(&self, vm: &mut Vm, data: &[u8]) -> PyResult<()> {
        let proto = self.protocol.borrow().clone();
        if let Some(p) = proto.downcast::<StreamProto>() {
            return p.data_received(vm, data);
        }
        let data = Value::Bytes(Rc::new(PyBytes { b: data.into() }));
        match vm.call_method(&proto, "data_received", vec![data]) {
            Ok(_) => Ok(()),
            Err(e) if is_fatal(&e) => Err(e),
            Err(e) => self.fatal_error(vm, e, "Fatal error: protocol.data_received() call failed."),
        }
    }

    /// A TLS transport's socket is readable: feed the records to rustls,
    /// send what it answers, finish the handshake, pass on the plaintext.
    fn tls_read_ready(&self, vm: &mut Vm) -> PyResult<()> {
        let got = SCRATCH.with(|s| {
            let mut buf = s.borrow_mut();
            buf.clear();
            self.sock.recv_into(&mut buf, MAX_SIZE)
        });
        let raw_eof = match got {
            Err(e) if would_block(&e) => return Ok(()),
            Err(e) => return self.tls_failed(vm, os_error_from_io(&e)),
            Ok(n) => n == 0,
        };
        let mut plain = Vec::new();
        let mut closed = raw_eof;
        let (result, handshaking) = {
            let mut tls = self.tls.borrow_mut();
            let Some(c) = tls.as_mut() else { return Ok(()) };
            let mut result = Ok(());
            if raw_eof {
                let _ = c.read_tls(&mut &[][..]);
            } else {
                SCRATCH.with(|s| {
                    let buf = s.borrow();
                    let mut rest: &[u8] = &buf;
                    while !rest.is_empty() && result.is_ok() {
                        if c.read_tls(&mut rest).is_err() {
                            break;
                        }
                        result = c.process_new_packets().map(|_| ());
                    }
                });
            }
            if result.is_ok() {
                match c.process_new_packets() {
                    Ok(state) => closed |= state.peer_has_closed(),
                    Err(e) => result = Err(e),
                }
            }
            let mut buf = [0u8; 16 * 1024];
            while result.is_ok() {
                match c.reader().read(&mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => plain.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
            }
            // A failed handshake ends without an alert: asyncio aborts the
            // connection, and a server does not answer a client that does
            // not speak TLS (as OpenSSL).
            if result.is_err() && c.is_handshaking() {
                let mut sink = Vec::new();
                while c.wants_write() && c.write_tls(&mut sink).is_ok() {}
            }
            (result, c.is_handshaking())
        };
        self.flush_tls(vm)?;
        if let Err(e) = result {
            let exc = crate::ssl::tls_error(vm, &e);
            return self.tls_failed(vm, exc);
        }
        let pending = self.handshake.borrow().is_some() || !self.protocol_connected.get();
        if pending {
            if handshaking {
                if closed {
                    // asyncio's SSL protocol: the peer's EOF during the handshake.
                    let exc = err_noargs(&types().exc.connection_reset_error);
                    return self.tls_failed(vm, exc);
                }
                return Ok(());
            }
            self.handshake_done(vm)?;
            // After connection_made, which is only scheduled: the bytes wait their turn.
            let me = self.value();
            self.call_soon(vm, move |vm| match me.downcast::<Transport>() {
                Some(t) if t.conn_lost.get() == 0 => {
                    if !plain.is_empty() {
                        t.deliver(vm, &plain)?;
                    }
                    if closed {
                        t.read_eof(vm)?;
                    }
                    Ok(())
                }
                _ => Ok(()),
            });
            return Ok(());
        }
        if !plain.is_empty() {
            self.deliver(vm, &plain)?;
        }
        if closed && self.conn_lost.get() == 0 && !self.closing.get() {
            self.read_eof(vm)?;
        }
        Ok(())
    }

    /// The handshake is over: the protocol is connected, the waiter told.
    fn handshake_done(&self, vm: &mut Vm) -> PyResult<()> {
        aio_interp::trace::trace_io(vm, || format!("TLS handshake with {} done", self.peer));
        // An upgraded connection (`start_tls`) has its protocol connected already.
        if !self.protocol_connected.get() {
            self.protocol_connected.set(true);
            self.schedule_protocol_call(vm, "connection_made", self.value())?;
        }
        if let Some(w) = self.handshake.borrow_mut().take() {
            self.call_soon(vm, move |vm| {
                if !w.cancelled() && !w.done() {
                    w.set_result(vm, Value::None)?;
                }
                Ok(())
            });
        }
        Ok(())
    }

    /// A TLS error: during the handshake it is the waiter's; after, fatal.
    fn tls_failed(&self, vm: &mut Vm, exc: PyErr) -> PyResult<()> {
        let waiter = self.handshake.borrow_mut().take();
        match waiter {
            Some(w) => {
                aio_interp::trace::trace_io(vm, || format!("TLS handshake with {} failed", self.peer));
                let why = if self.protocol_connected.get() { Some(exc.clone()) } else { None };
                if !w.cancelled() && !w.done() {
                    w.set_exception(vm, exc)?;
                }
                self.force_close(vm, why);
                Ok(())
            }
            None if !self.protocol_connected.get() => {
                self.force_close(vm, None);
                Ok(())
            }
            None => self.fatal_error(vm, exc, "Fatal error on SSL transport"),
        }
    }

    /// Send what rustls has to send (records, alerts) down the socket.
    fn flush_tls(&self, vm: &mut Vm) -> PyResult<()> {
        let mut out = Vec::new();
        if let Some(c) = self.tls.borrow_mut().as_mut() {
            while c.wants_write() {
                if c.write_tls(&mut out).is_err() {
                    break;
                }
            }
        }
        self.write_raw(vm, &out)
    }

    fn read_eof(&self, vm: &mut Vm) -> PyResult<()> {
        aio_interp::trace::trace_io(vm, || format!("{} closed its end of the connection (EOF)", self.peer));
        let proto = self.protocol.borrow().clone();
        let keep_open = if let Some(p) = proto.downcast::<StreamProto>() {
            p.eof_received(vm)?
        } else {
            match vm.call_method(&proto, "eof_received", vec![]) {
                Ok(v) => vm.truthy(&v)?,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => return self.fatal_error(vm, e, "Fatal error: protocol.eof_received() call failed."),
            }
        };
        if keep_open {
            self.reactor().remove_reader(self.fd);
            Ok(())
        } else {
            self.close(vm);
            Ok(())
        }
    }

    /// `write(data)`: send at once what the socket takes, buffer the rest.
    pub fn write(&self, vm: &mut Vm, data: &[u8]) -> PyResult<()> {
        if self.eof.get() {
            return Err(runtime_error("Cannot call write() after write_eof()"));
        }
        if !data.is_empty() && self.conn_lost.get() == 0 {
            if let Some(c) = self.tls.borrow_mut().as_mut() {
                // rustls holds what is written before the handshake is over.
                let _ = c.writer().write_all(data);
            }
            if self.tls.borrow().is_some() {
                return self.flush_tls(vm);
            }
        }
        self.write_raw(vm, data)
    }

    /// Send bytes as they are: what the socket takes now, the rest buffered.
    fn write_raw(&self, vm: &mut Vm, data: &[u8]) -> PyResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        if self.conn_lost.get() > 0 {
            if self.conn_lost.get() >= 5 {
                vm.write_err("socket.send() raised exception.\n");
            }
            self.conn_lost.set(self.conn_lost.get() + 1);
            return Ok(());
        }
        let mut rest = data;
        if self.buffer.borrow().is_empty() {
            match self.sock.send(data) {
                Ok(n) => {
                    rest = &data[n..];
                    if rest.is_empty() {
                        return Ok(());
                    }
                }
                Err(e) if would_block(&e) => {}
                Err(e) => return self.fatal_error(vm, os_error_from_io(&e), "Fatal write error on socket transport"),
            }
            self.reactor().add_writer(self.fd, self.watcher())?;
        }
        self.buffer.borrow_mut().extend(rest);
        self.maybe_pause_protocol(vm);
        Ok(())
    }

    fn write_ready(&self, vm: &mut Vm) -> PyResult<()> {
        if self.conn_lost.get() > 0 {
            return Ok(());
        }
        let sent = self.sock.send(self.buffer.borrow().as_slice());
        match sent {
            Err(e) if would_block(&e) => Ok(()),
            Err(e) => {
                self.reactor().remove_writer(self.fd);
                self.buffer.borrow_mut().clear();
                self.fatal_error(vm, os_error_from_io(&e), "Fatal write error on socket transport")
            }
            Ok(n) => {
                self.buffer.borrow_mut().consume(n);
                self.maybe_resume_protocol(vm);
                if self.buffer.borrow().is_empty() {
                    self.reactor().remove_writer(self.fd);
                    if self.closing.get() {
                        return self.call_connection_lost(vm, None);
                    } else if self.eof.get() {
                        let _ = self.sock.io(|s| s.shutdown(std::net::Shutdown::Write));
                    }
                }
                Ok(())
            }
        }
    }

    fn maybe_pause_protocol(&self, vm: &mut Vm) {
        if self.buffer.borrow().len() <= self.high.get() || self.protocol_paused.get() {
            return;
        }
        self.protocol_paused.set(true);
        let proto = self.protocol.borrow().clone();
        if let Some(p) = proto.downcast::<StreamProto>() {
            p.pause_writing();
        } else if let Err(e) = vm.call_method(&proto, "pause_writing", vec![]) {
            report_protocol_error(vm, "protocol.pause_writing() failed", &e);
        }
    }

    fn maybe_resume_protocol(&self, vm: &mut Vm) {
        if !self.protocol_paused.get() || self.buffer.borrow().len() > self.low.get() {
            return;
        }
        self.protocol_paused.set(false);
        let proto = self.protocol.borrow().clone();
        if let Some(p) = proto.downcast::<StreamProto>() {
            p.resume_writing(vm);
        } else if let Err(e) = vm.call_method(&proto, "resume_writing", vec![]) {
            report_protocol_error(vm, "protocol.resume_writing() failed", &e);
        }
    }

    /// `write_eof()`: shut the sending side once the buffer is out.
    pub fn write_eof(&self, vm: &mut Vm) -> PyResult<()> {
        if self.closing.get() || self.eof.get() {
            return Ok(());
        }
        self.close_notify(vm)?;
        self.eof.set(true);
        if self.buffer.borrow().is_empty() {
            let _ = self.sock.io(|s| s.shutdown(std::net::Shutdown::Write));
        }
        Ok(())
    }

    /// Tell a TLS peer the session ends (once, after the handshake).
    fn close_notify(&self, vm: &mut Vm) -> PyResult<()> {
        if self.conn_lost.get() > 0 || !self.protocol_connected.get() {
            return Ok(());
        }
        let sent = match self.tls.borrow_mut().as_mut() {
            Some(c) if !c.is_handshaking() => {
                c.send_close_notify();
                true
            }
            _ => false,
        };
        if sent {
            self.flush_tls(vm)?;
        }
        Ok(())
    }

    /// `close()`: stop reading; `connection_lost` follows once the buffer is out.
    pub fn close(&self, vm: &mut Vm) {
        if self.closing.get() {
            return;
        }
        if !self.eof.get() {
            let _ = self.close_notify(vm);
        }
        self.closing.set(true);
        self.reactor().remove_reader(self.fd);
        if self.buffer.borrow().is_empty() {
            self.conn_lost.set(self.conn_lost.get() + 1);
            self.reactor().remove_writer(self.fd);
            self.schedule_connection_lost(vm, None);
        }
    }

    fn schedule_connection_lost(&self, vm: &mut Vm, exc: Option<PyErr>) {
        let me = self.value();
        self.call_soon(vm, move |vm| match me.downcast::<Transport>() {
            Some(t) => t.call_connection_lost(vm, exc),
            None => Ok(()),
        });
    }

    fn fatal_error(&self, vm: &mut Vm, exc: PyErr, message: &str) -> PyResult<()> {
        if !exc.is(&types().exc.os_error) {
            report_protocol_error(vm, message, &exc);
        }
        self.force_close(vm, Some(exc));
        Ok(())
    }

    fn force_close(&self, vm: &mut Vm, exc: Option<PyErr>) {
        if self.conn_lost.get() > 0 {
            return;
        }
        if !self.buffer.borrow().is_empty() {
            self.buffer.borrow_mut().clear();
            self.reactor().remove_writer(self.fd);
        }
        if !self.closing.get() {
            self.closing.set(true);
            self.reactor().remove_reader(self.fd);
        }
        self.conn_lost.set(self.conn_lost.get() + 1);
        self.schedule_connection_lost(vm, exc);
    }

    fn call_connection_lost(&self, vm: &mut Vm, exc: Option<PyErr>) -> PyResult<()> {
        if self.sock_closed.get() {
            return Ok(());
        }
        let proto = self.protocol.replace(Value::None);
        let r = if self.protocol_connected.get() {
            if vm.host.tracing() {
                let why = match &exc {
                    Some(e) => format!("is lost: {}", exc_line(vm, e)),
                    None => "is closed".to_string(),
                };
                aio_interp::trace::trace_io(vm, || format!("the connection with {} {why}", self.peer));
            }
            if let Some(p) = proto.downcast::<StreamProto>() {
                p.connection_lost(vm, exc)
            } else {
                let arg = exc.map(|e| e.value()).unwrap_or(Value::None);
                vm.call_method(&proto, "connection_lost", vec![arg]).map(|_| ())
            }
        } else {
            Ok(())
        };
        self.sock.close();
        self.sock_closed.set(true);
        let server = self.server.replace(Value::None);
        if !server.is_none() {
            vm.call_method(&server, "_detach", vec![])?;
        }
        r
    }
}

fn report_protocol_error(vm: &mut Vm, message: &str, e: &PyErr) {
    let report = aio_interp::diagnostic::format_exception(vm, e);
    vm.write_err(&format!("{message}\n{report}"));
}

// ------------------------------------------------------------ making one

/// `_make_socket_transport(loop, sock, protocol, waiter=None, extra=None, server=None)`.
fn make_socket_transport(vm: &mut Vm, args: Args) -> PyResult {
    let sig = crate::params::Sig {
        qual: "_make_socket_transport",
        has_self: false,
        names: &["loop", "sock", "protocol", "waiter", "extra", "server", "tls", "server_hostname", "sslcontext"],
        required: 3,
        kwonly: &[],
    };
    let a = sig.bind(args)?;
    let loop_v = a[0].clone().unwrap_or(Value::None);
    if loop_v.downcast::<EventLoop>().is_none() {
        return Err(type_error("_make_socket_transport() needs an event loop"));
    }
    let sock_v = a[1].clone().unwrap_or(Value::None);
    let sock = socket_of(&sock_v)?;
    let protocol = a[2].clone().unwrap_or(Value::None);
    let waiter = match &a[3] {
        Some(Value::Future(f)) => Some(f.clone()),
        _ => None,
    };
    let server = a[5].clone().unwrap_or(Value::None);
    let tls = match &a[6] {
        Some(cfg) if !cfg.is_none() => {
            let mut c = crate::ssl::connection(vm, cfg, a[7].as_ref().unwrap_or(&Value::None))?;
            c.set_buffer_limit(None);
            Some(c)
        }
        _ => None,
    };
    let given_peer = match &a[4] {
        Some(Value::Dict(d)) => d.get_str("peername"),
        _ => None,
    };
    let peer_addr = sock.io(|s| s.peer_addr()).ok();
    let peername = given_peer.or_else(|| peer_addr.as_ref().map(|a| crate::socket::addr_value(a, sock.family))).unwrap_or(Value::None);
    let peer = match &peer_addr {
        Some(a) if a.as_socket().is_some() => addr_text(a),
        _ => match sock.io(|s| s.local_addr()).ok().and_then(|a| a.as_pathname().map(|p| p.to_string_lossy().into_owned())) {
            Some(p) if !server.is_none() => format!("a client of {p}"),
            Some(p) => p,
            None => peer_addr.as_ref().map(addr_text).unwrap_or_else(|| "the peer".into()),
        },
    };
    let sockname = sock.sockname().unwrap_or(Value::None);
    let fd = sock.fd();
    // CPython turns Nagle's algorithm off for TCP: small writes go out at once.
    if (sock.family == libc::AF_INET || sock.family == libc::AF_INET6) && sock.kind == libc::SOCK_STREAM && sock.proto == libc::IPPROTO_TCP
    {
        let _ = sock.io(|s| s.set_nodelay(true));
    }
    let t = Transport {
        loop_: loop_v.clone(),
        sock,
        fd,
        me: RefCell::new(Weak::new()),
        protocol: RefCell::new(protocol.clone()),
        protocol_connected: Cell::new(true),
        server: RefCell::new(server.clone()),
        peername,
        sockname,
        peer,
        buffer: RefCell::new(ByteBuf::default()),
        conn_lost: Cell::new(0),
        closing: Cell::new(false),
        paused: Cell::new(false),
        eof: Cell::new(false),
        protocol_paused: Cell::new(false),
        high: Cell::new(64 * 1024),
        low: Cell::new(16 * 1024),
        sock_closed: Cell::new(false),
        tls: RefCell::new(None),
        handshake: RefCell::new(None),
        sslcontext: RefCell::new(a[8].clone().unwrap_or(Value::None)),
        server_hostname: RefCell::new(if tls.as_ref().is_some_and(|c| matches!(c, rustls::Connection::Client(_))) {
            a[7].clone().unwrap_or(Value::None)
        } else {
            Value::None
        }),
        ssl_object: RefCell::new(Value::None),
    };
    let v = Value::object(t);
    let Value::Object(rc) = &v else { unreachable!("a native object") };
    let t = v.downcast::<Transport>().expect("a transport");
    *t.me.borrow_mut() = Rc::downgrade(rc);
    if !server.is_none() {
        vm.call_method(&server, "_attach", vec![])?;
        aio_interp::trace::trace_io(vm, || format!("accepted a connection from {}", t.peer));
    } else {
        aio_interp::trace::trace_io(vm, || format!("connected to {}", t.peer));
    }
    if let Some(c) = tls {
        // connection_made and the waiter wait for the handshake.
        *t.tls.borrow_mut() = Some(c);
        t.protocol_connected.set(false);
        *t.handshake.borrow_mut() = waiter;
        t.add_reader()?;
        t.flush_tls(vm)?;
        return Ok(v);
    }
    t.schedule_protocol_call(vm, "connection_made", v.clone())?;
    // Reading starts only once connection_made() has run.
    let me = v.clone();
    t.call_soon(vm, move |_vm| me.downcast::<Transport>().map_or(Ok(()), |t| t.add_reader()));
    if let Some(w) = waiter {
        t.call_soon(vm, move |vm| {
            if !w.cancelled() && !w.done() {
                w.set_result(vm, Value::None)?;
            }
            Ok(())
        });
    }
    Ok(v)
}

fn data_arg(v: &Value) -> PyResult<Rc<PyBytes>> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        other if aio_interp::types::bytes::bytes_like(other).is_some() => Ok(Rc::new(PyBytes {
            b: aio_interp::types::bytes::bytes_like(other).map(|b| b.into_vec()).unwrap_or_default().into_boxed_slice(),
        })),
        other => Err(type_error(format!("data argument must be a bytes-like object, not '{}'", type_name(other)))),
    }
}

fn t_write(vm: &mut Vm, args: Args) -> PyResult {
    let t = this(&args)?;
    let data = data_arg(args.pos.get(1).unwrap_or(&Value::None))?;
    t.write(vm, &data.b)?;
    Ok(Value::None)
}

/// `writelines(list_of_data)`: the pieces joined, then written.
pub fn join_data(vm: &mut Vm, v: &Value) -> PyResult<Vec<u8>> {
    let mut all = Vec::new();
    for item in vm.collect(v)? {
        all.extend_from_slice(&data_arg(&item)?.b);
    }
    Ok(all)
}

fn t_writelines(vm: &mut Vm, args: Args) -> PyResult {
    let t = this(&args)?;
    let data = join_data(vm, args.pos.get(1).unwrap_or(&Value::None))?;
    t.write(vm, &data)?;
    Ok(Value::None)
}

fn t_write_eof(vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.write_eof(vm)?;
    Ok(Value::None)
}

fn t_close(vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.close(vm);
    Ok(Value::None)
}

fn t_abort(vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.force_close(vm, None);
    Ok(Value::None)
}

fn t_pause_reading(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.pause_reading();
    Ok(Value::None)
}

fn t_resume_reading(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.resume_reading()?;
    Ok(Value::None)
}

impl Transport {
    /// `pause_reading()`: stop watching the socket until `resume_reading()`.
    pub fn pause_reading(&self) {
        if !self.is_reading() {
            return;
        }
        self.paused.set(true);
        self.reactor().remove_reader(self.fd);
    }
    /// `resume_reading()`.
    pub fn resume_reading(&self) -> PyResult<()> {
        if self.closing.get() || !self.paused.get() {
            return Ok(());
        }
        self.paused.set(false);
        self.add_reader()
    }
    /// `get_extra_info(name)`.
    pub fn extra(&self, vm: &mut Vm, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "peername" => Some(self.peername.clone()),
            "sockname" => Some(self.sockname.clone()),
            "socket" => Some(socket_value(self.sock.clone(), true)),
            "sslcontext" if !self.sslcontext.borrow().is_none() => Some(self.sslcontext.borrow().clone()),
            "cipher" if self.tls_ready() => self.tls.borrow().as_ref().and_then(crate::ssl::cipher_of),
            "compression" if self.tls_ready() => Some(Value::None),
            "ssl_object" if self.tls_ready() => Some(self.ssl_object(vm)?),
            "peercert" if self.tls_ready() => {
                let obj = self.ssl_object(vm)?;
                Some(vm.call_method(&obj, "getpeercert", vec![])?)
            }
            _ => None,
        })
    }

    /// Has a TLS transport finished its handshake?
    fn tls_ready(&self) -> bool {
        self.handshake.borrow().is_none() && self.tls.borrow().as_ref().is_some_and(|c| !c.is_handshaking())
    }

    /// The `ssl.SSLObject` that answers for the session (made once).
    fn ssl_object(&self, vm: &mut Vm) -> PyResult<Value> {
        let cached = self.ssl_object.borrow().clone();
        if !cached.is_none() {
            return Ok(cached);
        }
        let server_side = self.tls.borrow().as_ref().is_some_and(|c| matches!(c, rustls::Connection::Server(_)));
        let m = vm.import_module("ssl")?;
        let make = vm.getattr(&m, &aio_interp::intern::intern("_session_object"))?;
        let context = self.sslcontext.borrow().clone();
        let hostname = self.server_hostname.borrow().clone();
        let obj = vm.call(make, Args::new([self.value(), context, Value::bool(server_side), hostname]))?;
        *self.ssl_object.borrow_mut() = obj.clone();
        Ok(obj)
    }

    /// What `ssl.SSLObject` asks of the session (see `ssl::session_info`).
    fn tls_info(&self, what: &str) -> Value {
        self.tls.borrow().as_ref().map(|c| crate::ssl::session_info(c, what)).unwrap_or(Value::None)
    }

    /// `loop.start_tls()`: the connection goes on over TLS; `waiter` learns
    /// how the handshake went, and the protocol is not told again that the
    /// connection is made.
    fn start_tls(
        &self,
        vm: &mut Vm,
        protocol: Value,
        conn: rustls::Connection,
        sslcontext: Value,
        hostname: Value,
        waiter: Rc<Future>,
    ) -> PyResult<()> {
        let client = matches!(conn, rustls::Connection::Client(_));
        *self.tls.borrow_mut() = Some(conn);
        *self.handshake.borrow_mut() = Some(waiter);
        *self.sslcontext.borrow_mut() = sslcontext;
        *self.server_hostname.borrow_mut() = if client { hostname } else { Value::None };
        *self.protocol.borrow_mut() = protocol;
        if !self.paused.get() && !self.closing.get() && !self.reactor().is_watching(self.fd, false) {
            self.add_reader()?;
        }
        self.flush_tls(vm)
    }
}

fn t_get_extra_info(vm: &mut Vm, mut args: Args) -> PyResult {
    let default = args.take_kw("default").or_else(|| args.pos.get(2).cloned()).unwrap_or(Value::None);
    let t = this(&args)?;
    let name = match args.pos.get(1) {
        Some(Value::Str(s)) => s.as_str().to_string(),
        _ => return Ok(default),
    };
    Ok(t.extra(vm, &name)?.unwrap_or(default))
}

fn t_set_write_buffer_limits(vm: &mut Vm, mut args: Args) -> PyResult {
    let high = args.take_kw("high").or_else(|| args.pos.get(1).cloned()).unwrap_or(Value::None);
    let low = args.take_kw("low").or_else(|| args.pos.get(2).cloned()).unwrap_or(Value::None);
    let t = this(&args)?;
    let num = |v: &Value| -> PyResult<Option<i64>> {
        match v {
            Value::None => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            other => Err(type_error(format!("'{}' object cannot be interpreted as an integer", type_name(other)))),
        }
    };
    let (h, l) = (num(&high)?, num(&low)?);
    let high = match (h, l) {
        (Some(h), _) => h,
        (None, None) => 64 * 1024,
        (None, Some(l)) => 4 * l,
    };
    let low = l.unwrap_or(high / 4);
    if !(high >= low && low >= 0) {
        return Err(value_error(format!("high ({high}) must be >= low ({low}) must be >= 0")));
    }
    t.high.set(high as usize);
    t.low.set(low as usize);
    t.maybe_pause_protocol(vm);
    Ok(Value::None)
}

// ------------------------------------------------------------ the loop's reactor methods

/// A reactor registration as an .aio value (what `_add_reader` returns).
pub struct IoHandleRef(pub Rc<IoHandle>);

thread_local! {
    static HANDLE_CLASS: Rc<Class> = {
        let c = new_class("Handle", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("asyncio.events"));
        method(&c, "Handle", "cancel", |_vm, a| {
            if let Some(h) = a.pos.first().and_then(|v| v.downcast::<IoHandleRef>()) {
                h.0.cancel();
            }
            Ok(Value::None)
        });
        method(&c, "Handle", "cancelled", |_vm, a| {
            Ok(Value::bool(a.pos.first().and_then(|v| v.downcast::<IoHandleRef>()).is_some_and(|h| h.0.cancelled())))
        });
        c
    };
}

impl NativeObject for IoHandleRef {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        HANDLE_CLASS.with(|c| c.clone())
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<Handle{} fd={}>", if self.0.cancelled() { " cancelled" } else { "" }, self.0.fd))
    }
}

/// The descriptor of an int or of an object with `fileno()`.
fn fileno(vm: &mut Vm, v: &Value) -> PyResult<RawFd> {
    match v {
        Value::Int(i) => Ok(*i as RawFd),
        other => match vm.call_method(other, "fileno", vec![]) {
            Ok(Value::Int(i)) => Ok(i as RawFd),
            _ => Err(value_error(format!("Invalid file object: {}", vm.repr_str(other)?))),
        },
    }
}

fn loop_of(args: &Args) -> PyResult<Value> {
    match args.pos.first() {
        Some(v) if v.downcast::<EventLoop>().is_some() => Ok(v.clone()),
        _ => Err(type_error("descriptor requires an event loop")),
    }
}

fn check_no_transport(vm: &mut Vm, l: &EventLoop, fd: RawFd) -> PyResult<()> {
    for write in [false, true] {
        if let Some(h) = l.reactor.handle(fd, write) {
            if let IoCallback::Native(_) = &h.cb {
                let _ = vm;
                return Err(runtime_error(format!("File descriptor {fd} is used by transport")));
            }
        }
    }
    Ok(())
}

fn register(vm: &mut Vm, args: Args, write: bool, public: bool) -> PyResult {
    let loop_v = loop_of(&args)?;
    let l = lp(&loop_v);
    if l.closed.get() {
        return Err(runtime_error("Event loop is closed"));
    }
    let fd = fileno(vm, args.pos.get(1).unwrap_or(&Value::None))?;
    if public {
        check_no_transport(vm, l, fd)?;
    }
    let f = args.pos.get(2).cloned().ok_or_else(|| type_error("missing callback"))?;
    let rest = args.pos[3..].to_vec();
    let h =
        if write { l.reactor.add_writer(fd, IoCallback::Call(f, rest))? } else { l.reactor.add_reader(fd, IoCallback::Call(f, rest))? };
    Ok(if public { Value::None } else { Value::object(IoHandleRef(h)) })
}

fn unregister(vm: &mut Vm, args: Args, write: bool, public: bool) -> PyResult {
    let loop_v = loop_of(&args)?;
    let l = lp(&loop_v);
    if l.closed.get() {
        return Ok(Value::bool(false));
    }
    let fd = fileno(vm, args.pos.get(1).unwrap_or(&Value::None))?;
    if public {
        check_no_transport(vm, l, fd)?;
    }
    Ok(Value::bool(if write { l.reactor.remove_writer(fd) } else { l.reactor.remove_reader(fd) }))
}

/// Put the reactor methods on the loop class.
pub fn install_loop_methods() {
    let c = event_loop::loop_class();
    let ms: &[(&str, NativeFnPtr)] = &[
        ("add_reader", |vm, a| register(vm, a, false, true)),
        ("add_writer", |vm, a| register(vm, a, true, true)),
        ("remove_reader", |vm, a| unregister(vm, a, false, true)),
        ("remove_writer", |vm, a| unregister(vm, a, true, true)),
        ("_add_reader", |vm, a| register(vm, a, false, false)),
        ("_add_writer", |vm, a| register(vm, a, true, false)),
        ("_remove_reader", |vm, a| unregister(vm, a, false, false)),
        ("_remove_writer", |vm, a| unregister(vm, a, true, false)),
    ];
    for (n, f) in ms {
        method(&c, "loop", n, *f);
    }
}

/// `_transport_start_tls(transport, protocol, tls_config, server_hostname, sslcontext, waiter)`.
fn transport_start_tls(vm: &mut Vm, args: Args) -> PyResult {
    let [transport, protocol, config, hostname, sslcontext, waiter] = &args.pos[..] else {
        return Err(type_error("_transport_start_tls() takes 6 arguments"));
    };
    let t = match transport.downcast::<Transport>() {
        Some(t) if t.tls.borrow().is_none() => t,
        _ => return Err(type_error(format!("transport {} is not supported by start_tls()", vm.repr_str(transport)?))),
    };
    let Value::Future(waiter) = waiter else { return Err(type_error("_transport_start_tls() needs a future")) };
    let mut conn = crate::ssl::connection(vm, config, hostname)?;
    conn.set_buffer_limit(None);
    if vm.host.tracing() {
        aio_interp::trace::trace_io(vm, || format!("TLS handshake with {} begins", t.peer));
    }
    t.start_tls(vm, protocol.clone(), conn, sslcontext.clone(), hostname.clone(), waiter.clone())?;
    Ok(Value::None)
}

/// `_tls_info(transport, what)`: a fact of a TLS session (see `Transport::tls_info`).
fn tls_info(_vm: &mut Vm, args: Args) -> PyResult {
    match (args.pos.first().and_then(|v| v.downcast::<Transport>()), args.pos.get(1)) {
        (Some(t), Some(Value::Str(what))) => Ok(t.tls_info(what.as_str())),
        _ => Ok(Value::None),
    }
}

/// The natives that `asyncio.aio`'s networking code is built on.
pub fn entries() -> Vec<(&'static str, Value)> {
    vec![
        ("_transport_start_tls", native_fn("_transport_start_tls", transport_start_tls)),
        ("_tls_info", native_fn("_tls_info", tls_info)),
        ("_make_socket_transport", native_fn("_make_socket_transport", make_socket_transport)),
        (
            "_transport_socket",
            native_fn("_transport_socket", |_vm, a| {
                let s = socket_of(a.pos.first().unwrap_or(&Value::None))?;
                Ok(socket_value(s, true))
            }),
        ),
        (
            "_trace_request",
            native_fn("_trace_request", |vm, a| {
                if vm.host.tracing() {
                    if let (Some(Value::Str(what)), Some(Value::Str(status))) = (a.pos.first(), a.pos.get(1)) {
                        let started = match a.pos.get(2) {
                            Some(Value::Float(f)) => f.get(),
                            Some(Value::Int(i)) => *i as f64,
                            _ => event_loop::now(vm),
                        };
                        let secs = (event_loop::now(vm) - started).max(0.0);
                        aio_interp::trace::trace_request(vm, what.as_str().to_string(), status.as_str().to_string(), secs);
                    }
                }
                Ok(Value::None)
            }),
        ),
        (
            "_trace_io",
            native_fn("_trace_io", |vm, a| {
                if let Some(Value::Str(s)) = a.pos.first() {
                    let s = s.clone();
                    aio_interp::trace::trace_io(vm, || s.as_str().to_string());
                }
                Ok(Value::None)
            }),
        ),
    ]
}
