//! The `socket` module: the constants, `socket.socket` objects (over
//! socket2) with CPython's methods, addresses and errors, `getaddrinfo`
//! (the system resolver), `gethostname`, and `socket.gaierror`. The
//! transports of `asyncio` read and write these sockets directly.

use std::cell::{Cell, RefCell};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::rc::Rc;

use socket2::{Domain, Protocol, SockAddr, Type};

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, native_fn, new_class, types};
use aio_interp::{Value, Vm};

/// The constants the module exports, with Linux's values.
pub const CONSTANTS: &[(&str, i64)] = &[
    ("AF_UNSPEC", libc::AF_UNSPEC as i64),
    ("AF_INET", libc::AF_INET as i64),
    ("AF_INET6", libc::AF_INET6 as i64),
    ("AF_UNIX", libc::AF_UNIX as i64),
    ("SOCK_STREAM", libc::SOCK_STREAM as i64),
    ("SOCK_DGRAM", libc::SOCK_DGRAM as i64),
    ("SOCK_RAW", libc::SOCK_RAW as i64),
    ("SOCK_NONBLOCK", libc::SOCK_NONBLOCK as i64),
    ("SOCK_CLOEXEC", libc::SOCK_CLOEXEC as i64),
    ("SOL_SOCKET", libc::SOL_SOCKET as i64),
    ("SO_REUSEADDR", libc::SO_REUSEADDR as i64),
    ("SO_REUSEPORT", libc::SO_REUSEPORT as i64),
    ("SO_KEEPALIVE", libc::SO_KEEPALIVE as i64),
    ("SO_BROADCAST", libc::SO_BROADCAST as i64),
    ("SO_LINGER", libc::SO_LINGER as i64),
    ("SO_RCVBUF", libc::SO_RCVBUF as i64),
    ("SO_SNDBUF", libc::SO_SNDBUF as i64),
    ("SO_ERROR", libc::SO_ERROR as i64),
    ("SO_TYPE", libc::SO_TYPE as i64),
    ("SOMAXCONN", 4096),
    ("IPPROTO_IP", libc::IPPROTO_IP as i64),
    ("IPPROTO_TCP", libc::IPPROTO_TCP as i64),
    ("IPPROTO_UDP", libc::IPPROTO_UDP as i64),
    ("IPPROTO_IPV6", libc::IPPROTO_IPV6 as i64),
    ("IPV6_V6ONLY", libc::IPV6_V6ONLY as i64),
    ("TCP_NODELAY", libc::TCP_NODELAY as i64),
    ("TCP_KEEPIDLE", libc::TCP_KEEPIDLE as i64),
    ("TCP_KEEPINTVL", libc::TCP_KEEPINTVL as i64),
    ("TCP_KEEPCNT", libc::TCP_KEEPCNT as i64),
    ("SHUT_RD", libc::SHUT_RD as i64),
    ("SHUT_WR", libc::SHUT_WR as i64),
    ("SHUT_RDWR", libc::SHUT_RDWR as i64),
    ("AI_PASSIVE", libc::AI_PASSIVE as i64),
    ("AI_CANONNAME", libc::AI_CANONNAME as i64),
    ("AI_NUMERICHOST", libc::AI_NUMERICHOST as i64),
    ("AI_NUMERICSERV", libc::AI_NUMERICSERV as i64),
    ("AI_ADDRCONFIG", libc::AI_ADDRCONFIG as i64),
    ("NI_NUMERICHOST", libc::NI_NUMERICHOST as i64),
    ("NI_NUMERICSERV", libc::NI_NUMERICSERV as i64),
    ("EAI_NONAME", libc::EAI_NONAME as i64),
    ("EAI_AGAIN", libc::EAI_AGAIN as i64),
    ("EAI_SERVICE", libc::EAI_SERVICE as i64),
    ("MSG_PEEK", libc::MSG_PEEK as i64),
    ("MSG_DONTWAIT", libc::MSG_DONTWAIT as i64),
];

/// A socket: the system socket (gone once closed) and what it was made as.
pub struct Socket {
    sock: RefCell<Option<socket2::Socket>>,
    /// The descriptor while open, -1 once closed.
    fd: Cell<RawFd>,
    pub family: i32,
    pub kind: i32,
    pub proto: i32,
    /// `None`: blocking; `Some(0.0)`: non-blocking; else a timeout in seconds.
    timeout: Cell<Option<f64>>,
}

impl Socket {
    /// Wrap a system socket.
    pub fn new(sock: socket2::Socket, family: i32, kind: i32, proto: i32) -> Rc<Socket> {
        let fd = sock.as_raw_fd();
        Rc::new(Socket { sock: RefCell::new(Some(sock)), fd: Cell::new(fd), family, kind, proto, timeout: Cell::new(None) })
    }

    /// The descriptor, or -1 when closed.
    pub fn fd(&self) -> RawFd {
        self.fd.get()
    }

    /// Work on the open socket; `[Errno 9] Bad file descriptor` once closed.
    pub fn with<R>(&self, f: impl FnOnce(&socket2::Socket) -> std::io::Result<R>) -> PyResult<R> {
        match &*self.sock.borrow() {
            Some(s) => f(s).map_err(|e| os_error_from_io(&e)),
            None => Err(os_error(libc::EBADF)),
        }
    }

    /// Like [`Socket::with`], but the raw `io::Result` (transports look at `WouldBlock`).
    pub fn io<R>(&self, f: impl FnOnce(&socket2::Socket) -> std::io::Result<R>) -> std::io::Result<R> {
        match &*self.sock.borrow() {
            Some(s) => f(s),
            None => Err(std::io::Error::from_raw_os_error(libc::EBADF)),
        }
    }

    /// Close the socket (again is fine).
    pub fn close(&self) {
        self.sock.borrow_mut().take();
        self.fd.set(-1);
    }

    pub fn is_closed(&self) -> bool {
        self.sock.borrow().is_none()
    }

    pub fn set_blocking(&self, blocking: bool) -> PyResult<()> {
        self.with(|s| s.set_nonblocking(!blocking))?;
        self.timeout.set(if blocking { None } else { Some(0.0) });
        Ok(())
    }

    /// The local address as Python gives it, or None.
    pub fn sockname(&self) -> Option<Value> {
        self.io(|s| s.local_addr()).ok().map(|a| addr_value(&a, self.family))
    }

    /// The peer's address as Python gives it, or None.
    pub fn peername(&self) -> Option<Value> {
        self.io(|s| s.peer_addr()).ok().map(|a| addr_value(&a, self.family))
    }

    /// `recv(n)`: `Ok(None)` when it would block.
    pub fn recv_into(&self, buf: &mut Vec<u8>, n: usize) -> std::io::Result<usize> {
        buf.reserve(n);
        let spare = &mut buf.spare_capacity_mut()[..n];
        let got = self.io(|s| s.recv(spare))?;
        // SAFETY: recv initialised the first `got` bytes of the spare capacity.
        unsafe { buf.set_len(buf.len() + got) };
        Ok(got)
    }

    /// `send(data)`.
    pub fn send(&self, data: &[u8]) -> std::io::Result<usize> {
        self.io(|s| s.send_with_flags(data, libc::MSG_NOSIGNAL))
    }
}

/// A socket as an .aio value: `socket.socket`, or `asyncio.TransportSocket`
/// (the view of a transport's socket that `server.sockets` and
/// `get_extra_info('socket')` give).
pub struct SocketObj {
    pub sock: Rc<Socket>,
    pub transport: bool,
}

thread_local! {
    static CLASSES: (Rc<Class>, Rc<Class>, Rc<Class>) = {
        let t = types();
        let s = new_class("socket", std::slice::from_ref(&t.object), Layout::Builtin, None);
        s.dict.set_str("__module__", Value::str("socket"));
        install_socket_methods(&s);
        let ts = new_class("TransportSocket", std::slice::from_ref(&t.object), Layout::Builtin, None);
        ts.dict.set_str("__module__", Value::str("asyncio.trsock"));
        install_socket_methods(&ts);
        let gai = new_class("gaierror", std::slice::from_ref(&t.exc.os_error), Layout::Exception, Some(aio_interp::types::BuiltinType::Exception));
        gai.dict.set_str("__module__", Value::str("socket"));
        (s, ts, gai)
    };
}

/// `socket.gaierror`.
pub fn gaierror_class() -> Rc<Class> {
    CLASSES.with(|c| c.2.clone())
}

impl NativeObject for SocketObj {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        CLASSES.with(|c| if self.transport { c.1.clone() } else { c.0.clone() })
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "family" => Some(Value::Int(self.sock.family as i64)),
            "type" => Some(Value::Int(self.sock.kind as i64)),
            "proto" => Some(Value::Int(self.sock.proto as i64)),
            _ => None,
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let s = &self.sock;
        let head = if self.transport { "<asyncio.TransportSocket" } else { "<socket.socket" };
        let closed = if s.is_closed() && !self.transport { " [closed]" } else { "" };
        let mut out = format!("{head}{closed} fd={}, family={}, type={}, proto={}", s.fd(), s.family, s.kind, s.proto);
        if !s.is_closed() {
            if let Some(a) = s.sockname() {
                out.push_str(&format!(", laddr={}", vm.repr_str(&a)?));
            }
            if let Some(a) = s.peername() {
                out.push_str(&format!(", raddr={}", vm.repr_str(&a)?));
            }
        }
        out.push('>');
        Ok(out)
    }
}

/// A socket value for `sock`.
pub fn socket_value(sock: Rc<Socket>, transport: bool) -> Value {
    Value::object(SocketObj { sock, transport })
}

/// The socket behind a `socket.socket` or `TransportSocket` value.
pub fn socket_of(v: &Value) -> PyResult<Rc<Socket>> {
    match v.downcast::<SocketObj>() {
        Some(s) => Ok(s.sock.clone()),
        None => Err(type_error(format!("expected a socket, not '{}'", aio_interp::types::type_name(v)))),
    }
}

fn this(args: &Args) -> PyResult<Rc<Socket>> {
    args.pos.first().map(socket_of).unwrap_or_else(|| Err(type_error("descriptor requires a socket")))
}

fn arg(args: &Args, i: usize, what: &str) -> PyResult<Value> {
    args.pos.get(i).cloned().ok_or_else(|| type_error(format!("{what}() takes at least {i} argument{}", if i == 1 { "" } else { "s" })))
}

fn int_arg(v: &Value, what: &str) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(b.get() as i64),
        other => Err(type_error(format!("'{}' object cannot be interpreted as an integer{what}", aio_interp::types::type_name(other)))),
    }
}

// ------------------------------------------------------------ addresses

/// A system address as Python shows it: `('127.0.0.1', 80)`,
/// `('::1', 80, 0, 0)`, or a Unix path (`''` when unnamed).
pub fn addr_value(a: &SockAddr, family: i32) -> Value {
    if let Some(v4) = a.as_socket_ipv4() {
        return Value::tuple(vec![Value::string(v4.ip().to_string()), Value::Int(v4.port() as i64)]);
    }
    if let Some(v6) = a.as_socket_ipv6() {
        return Value::tuple(vec![
            Value::string(v6.ip().to_string()),
            Value::Int(v6.port() as i64),
            Value::Int(v6.flowinfo() as i64),
            Value::Int(v6.scope_id() as i64),
        ]);
    }
    if family == libc::AF_UNIX || a.is_unix() {
        if let Some(p) = a.as_pathname() {
            return Value::string(p.to_string_lossy().into_owned());
        }
        if let Some(name) = a.as_abstract_namespace() {
            let mut b = vec![0u8];
            b.extend_from_slice(name);
            return Value::Bytes(Rc::new(PyBytes { b: b.into_boxed_slice() }));
        }
        return Value::str("");
    }
    Value::None
}

/// `'127.0.0.1:8888'` / `'[::1]:8888'` / the path: an address for people.
pub fn addr_text(a: &SockAddr) -> String {
    if let Some(s) = a.as_socket() {
        return s.to_string();
    }
    match a.as_pathname() {
        Some(p) => p.to_string_lossy().into_owned(),
        None => "an unnamed socket".into(),
    }
}

/// The address a value stands for, for a socket of `family` (CPython
/// resolves host names here, as `connect(('localhost', 80))` does).
pub fn addr_from_value(vm: &mut Vm, v: &Value, family: i32) -> PyResult<SockAddr> {
    if family == libc::AF_UNIX {
        return match v {
            Value::Str(s) => SockAddr::unix(s.as_str()).map_err(|e| os_error_from_io(&e)),
            Value::Bytes(b) => {
                let p = std::ffi::OsStr::new(std::str::from_utf8(&b.b).unwrap_or_default());
                SockAddr::unix(p).map_err(|e| os_error_from_io(&e))
            }
            other => Err(type_error(format!("a bytes-like object is required, not '{}'", aio_interp::types::type_name(other)))),
        };
    }
    let items = match v {
        Value::Tuple(t) => t.items.to_vec(),
        other => {
            let fam = if family == libc::AF_INET6 { "AF_INET6" } else { "AF_INET" };
            return Err(type_error(format!("{fam} address must be tuple, not {}", aio_interp::types::type_name(other))));
        }
    };
    let want = if family == libc::AF_INET6 { "2-4" } else { "2" };
    if items.len() < 2 || (family != libc::AF_INET6 && items.len() != 2) || items.len() > 4 {
        return Err(type_error(format!("AF_INET{} address must be a pair (host, port)", if want == "2" { "" } else { "6" })));
    }
    let host = match &items[0] {
        Value::Str(s) => s.as_str().to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(&b.b).into_owned(),
        other => return Err(type_error(format!("str, bytes or bytearray expected, not {}", aio_interp::types::type_name(other)))),
    };
    let port = int_arg(&items[1], "")?;
    if !(0..=65535).contains(&port) {
        return Err(err(&types().exc.overflow_error, "connect(): port must be 0-65535."));
    }
    let port = port as u16;
    let ip = resolve_host(vm, &host, family)?;
    Ok(match ip {
        IpAddr::V4(a) => SockAddr::from(SocketAddrV4::new(a, port)),
        IpAddr::V6(a) => {
            let flow = items.get(2).map(|v| int_arg(v, "")).transpose()?.unwrap_or(0) as u32;
            let scope = items.get(3).map(|v| int_arg(v, "")).transpose()?.unwrap_or(0) as u32;
            SockAddr::from(SocketAddrV6::new(a, port, flow, scope))
        }
    })
}

/// A host for a socket address: numeric, empty (any), `<broadcast>`, or a
/// name resolved by the system.
fn resolve_host(_vm: &mut Vm, host: &str, family: i32) -> PyResult<IpAddr> {
    if host.is_empty() {
        return Ok(if family == libc::AF_INET6 { IpAddr::V6(Ipv6Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::UNSPECIFIED) });
    }
    if host == "<broadcast>" {
        return Ok(IpAddr::V4(Ipv4Addr::BROADCAST));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    let infos = getaddrinfo_raw(Some(host), None, family, libc::SOCK_STREAM, 0, 0)?;
    infos.into_iter().find_map(|i| i.addr.as_socket().map(|s| s.ip())).ok_or_else(|| gai_error(libc::EAI_NONAME))
}

// ------------------------------------------------------------ getaddrinfo

/// One answer of `getaddrinfo`.
pub struct AddrInfo {
    pub family: i32,
    pub kind: i32,
    pub proto: i32,
    pub canonname: String,
    pub addr: SockAddr,
}

/// `socket.gaierror(code, message)` for a resolver error code.
pub fn gai_error(code: i32) -> PyErr {
    // SAFETY: gai_strerror returns a static NUL-terminated message.
    let msg = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(code)) }.to_string_lossy().into_owned();
    PyErr(new_exception(&gaierror_class(), vec![Value::Int(code as i64), Value::string(msg)]))
}

/// The system resolver.
pub fn getaddrinfo_raw(host: Option<&str>, port: Option<&str>, family: i32, kind: i32, proto: i32, flags: i32) -> PyResult<Vec<AddrInfo>> {
    use std::ffi::{CStr, CString};
    if let Some(h) = host {
        crate::sandbox::check_lookup(h)?;
    }
    let chost = host.map(CString::new).transpose().map_err(|_| value_error("embedded null character"))?;
    let cport = port.map(CString::new).transpose().map_err(|_| value_error("embedded null character"))?;
    // SAFETY: a zeroed addrinfo is the documented way to start the hints.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = family;
    hints.ai_socktype = kind;
    hints.ai_protocol = proto;
    hints.ai_flags = flags;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: the strings and hints outlive the call; `res` is freed below.
    let rc = unsafe {
        libc::getaddrinfo(
            chost.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            cport.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            &hints,
            &mut res,
        )
    };
    if rc != 0 {
        if rc == libc::EAI_SYSTEM {
            return Err(os_error(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)));
        }
        return Err(gai_error(rc));
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: `p` walks the list getaddrinfo returned.
        let ai = unsafe { &*p };
        let len = ai.ai_addrlen;
        // SAFETY: ai_addr points at `len` bytes of a socket address.
        let addr = unsafe {
            SockAddr::try_init(|storage, l| {
                std::ptr::copy_nonoverlapping(ai.ai_addr as *const u8, storage as *mut u8, len as usize);
                *l = len;
                Ok(())
            })
        }
        .map(|(_, a)| a);
        let canon = if ai.ai_canonname.is_null() {
            String::new()
        } else {
            // SAFETY: a NUL-terminated name from the resolver.
            unsafe { CStr::from_ptr(ai.ai_canonname) }.to_string_lossy().into_owned()
        };
        if let Ok(addr) = addr {
            out.push(AddrInfo { family: ai.ai_family, kind: ai.ai_socktype, proto: ai.ai_protocol, canonname: canon, addr });
        }
        p = ai.ai_next;
    }
    // SAFETY: `res` came from getaddrinfo.
    unsafe { libc::freeaddrinfo(res) };
    Ok(out)
}

/// `socket.getaddrinfo(host, port, family=0, type=0, proto=0, flags=0)`.
pub fn getaddrinfo(vm: &mut Vm, args: Args) -> PyResult {
    let sig = crate::params::Sig {
        qual: "getaddrinfo",
        has_self: false,
        names: &["host", "port", "family", "type", "proto", "flags"],
        required: 2,
        kwonly: &[],
    };
    let a = sig.bind(args)?;
    let host = match &a[0] {
        Some(Value::None) | None => None,
        Some(Value::Str(s)) => Some(idna(s.as_str())),
        Some(Value::Bytes(b)) => Some(String::from_utf8_lossy(&b.b).into_owned()),
        Some(other) => {
            return Err(type_error(format!("getaddrinfo() argument 1 must be string or None, not {}", aio_interp::types::type_name(other))))
        }
    };
    let port = match &a[1] {
        Some(Value::None) | None => None,
        Some(Value::Int(i)) => Some(i.to_string()),
        Some(Value::Str(s)) => Some(s.as_str().to_string()),
        Some(Value::Bytes(b)) => Some(String::from_utf8_lossy(&b.b).into_owned()),
        Some(_) => return Err(err(&types().exc.os_error, "Int or String expected")),
    };
    let num = |v: &Option<Value>| -> PyResult<i32> { v.as_ref().map(|v| int_arg(v, "")).transpose().map(|x| x.unwrap_or(0) as i32) };
    let (family, kind, proto, flags) = (num(&a[2])?, num(&a[3])?, num(&a[4])?, num(&a[5])?);
    let _ = vm;
    let infos = getaddrinfo_raw(host.as_deref(), port.as_deref(), family, kind, proto, flags)?;
    Ok(Value::list(infos.iter().map(info_value).collect()))
}

/// `(family, type, proto, canonname, sockaddr)`.
pub fn info_value(i: &AddrInfo) -> Value {
    Value::tuple(vec![
        Value::Int(i.family as i64),
        Value::Int(i.kind as i64),
        Value::Int(i.proto as i64),
        Value::string(i.canonname.clone()),
        addr_value(&i.addr, i.family),
    ])
}

fn idna(host: &str) -> String {
    host.to_string()
}

// ------------------------------------------------------------ the socket class

/// Retry a blocking call interrupted by a signal, unless it was Ctrl-C.
fn retry<R>(vm: &mut Vm, mut f: impl FnMut() -> PyResult<R>) -> PyResult<R> {
    loop {
        match f() {
            Err(e) if e.is(&types().exc.interrupted_error) => vm.check_interrupt()?,
            r => return r,
        }
    }
}

/// `socket.socket(family=AF_INET, type=SOCK_STREAM, proto=0, fileno=None)`.
fn socket_new(_vm: &mut Vm, args: Args) -> PyResult {
    let sig =
        crate::params::Sig { qual: "socket", has_self: false, names: &["family", "type", "proto", "fileno"], required: 0, kwonly: &[] };
    let a = sig.bind(args)?;
    let num = |v: &Option<Value>, d: i64| -> PyResult<i64> {
        match v {
            None | Some(Value::None) => Ok(d),
            Some(v) => int_arg(v, ""),
        }
    };
    let family = num(&a[0], libc::AF_INET as i64)? as i32;
    let kind = num(&a[1], libc::SOCK_STREAM as i64)? as i32;
    let proto = num(&a[2], 0)? as i32;
    if let Some(Value::Int(fd)) = &a[3] {
        // SAFETY: the program hands over a descriptor it owns, as in CPython.
        let s = unsafe { socket2::Socket::from_raw_fd(*fd as RawFd) };
        return Ok(socket_value(Socket::new(s, family, kind, proto), false));
    }
    let s =
        socket2::Socket::new(Domain::from(family), Type::from(kind).cloexec(), if proto == 0 { None } else { Some(Protocol::from(proto)) })
            .map_err(|e| os_error_from_io(&e))?;
    Ok(socket_value(Socket::new(s, family, kind, proto), false))
}

/// `socket.socketpair(family=AF_UNIX, type=SOCK_STREAM, proto=0)`.
fn socketpair(_vm: &mut Vm, _args: Args) -> PyResult {
    let (a, b) = socket2::Socket::pair(Domain::UNIX, Type::STREAM.cloexec(), None).map_err(|e| os_error_from_io(&e))?;
    Ok(Value::tuple(vec![
        socket_value(Socket::new(a, libc::AF_UNIX, libc::SOCK_STREAM, 0), false),
        socket_value(Socket::new(b, libc::AF_UNIX, libc::SOCK_STREAM, 0), false),
    ]))
}

fn s_fileno(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(this(&args)?.fd() as i64))
}
fn s_close(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.close();
    Ok(Value::None)
}
fn s_detach(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let fd = s.fd();
    if let Some(sock) = s.sock.borrow_mut().take() {
        std::mem::forget(sock);
    }
    s.fd.set(-1);
    Ok(Value::Int(fd as i64))
}
/// May the program use `addr` (`listen`: bind to it), under `--sandbox`?
/// A Unix socket's path is a file the program writes.
fn check_sandbox(addr: &SockAddr, listen: bool) -> PyResult<()> {
    if let Some(a) = addr.as_socket() {
        return crate::sandbox::check_addr(&a, listen);
    }
    match addr.as_pathname() {
        Some(p) => crate::sandbox::check_path(&p.to_string_lossy(), false, true),
        None => Ok(()),
    }
}

fn s_bind(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let addr = addr_from_value(vm, &arg(&args, 1, "bind")?, s.family)?;
    check_sandbox(&addr, true)?;
    s.with(|x| x.bind(&addr))?;
    Ok(Value::None)
}
fn s_listen(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let backlog = match args.pos.get(1) {
        Some(v) => int_arg(v, "")?.clamp(0, 4096) as i32,
        None => 128,
    };
    s.with(|x| x.listen(backlog))?;
    Ok(Value::None)
}
fn s_accept(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let (conn, addr) = retry(vm, || s.with(|x| x.accept()))?;
    let _ = conn.set_cloexec(true);
    let c = Socket::new(conn, s.family, s.kind, s.proto);
    Ok(Value::tuple(vec![socket_value(c, false), addr_value(&addr, s.family)]))
}
fn s_connect(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let addr = addr_from_value(vm, &arg(&args, 1, "connect")?, s.family)?;
    check_sandbox(&addr, false)?;
    retry(vm, || s.with(|x| x.connect(&addr)))?;
    Ok(Value::None)
}
fn s_connect_ex(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let addr = addr_from_value(vm, &arg(&args, 1, "connect_ex")?, s.family)?;
    check_sandbox(&addr, false)?;
    Ok(Value::Int(match s.io(|x| x.connect(&addr)) {
        Ok(()) => 0,
        Err(e) => e.raw_os_error().unwrap_or(libc::EIO) as i64,
    }))
}
fn s_recv(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let n = int_arg(&arg(&args, 1, "recv")?, "")?;
    if n < 0 {
        return Err(value_error("negative buffersize in recv"));
    }
    let mut buf = Vec::new();
    retry(vm, || s.recv_into(&mut buf, n as usize).map_err(|e| os_error_from_io(&e)))?;
    Ok(Value::Bytes(Rc::new(PyBytes { b: buf.into_boxed_slice() })))
}
/// `recv_into(buffer, nbytes=0)`: at most `nbytes` (or the buffer's size) into the buffer.
fn s_recv_into(vm: &mut Vm, mut args: Args) -> PyResult {
    let nbytes = args.take_kw("nbytes");
    let s = this(&args)?;
    let buf = arg(&args, 1, "recv_into")?;
    let room = aio_interp::types::memoryview::writable_len(&buf, "recv_into() argument 1")?;
    let n = match args.pos.get(2).or(nbytes.as_ref()) {
        Some(v) => int_arg(v, "")?,
        None => 0,
    };
    if n < 0 {
        return Err(value_error("negative buffersize in recv_into"));
    }
    if n as usize > room {
        return Err(value_error("buffer too small for requested bytes"));
    }
    let want = if n == 0 { room } else { n as usize };
    let mut data = Vec::new();
    retry(vm, || s.recv_into(&mut data, want).map_err(|e| os_error_from_io(&e)))?;
    aio_interp::types::memoryview::fill_writable(&buf, &data);
    Ok(Value::Int(data.len() as i64))
}
fn bytes_arg(v: &Value, what: &str) -> PyResult<Rc<PyBytes>> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        other if aio_interp::types::bytes::bytes_like(other).is_some() => Ok(Rc::new(PyBytes {
            b: aio_interp::types::bytes::bytes_like(other).map(|b| b.into_vec()).unwrap_or_default().into_boxed_slice(),
        })),
        other => Err(type_error(format!("a bytes-like object is required, not '{}'{what}", aio_interp::types::type_name(other)))),
    }
}
fn s_send(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let data = bytes_arg(&arg(&args, 1, "send")?, "")?;
    let n = retry(vm, || s.send(&data.b).map_err(|e| os_error_from_io(&e)))?;
    Ok(Value::Int(n as i64))
}
fn s_sendall(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let data = bytes_arg(&arg(&args, 1, "sendall")?, "")?;
    let mut pos = 0;
    while pos < data.b.len() {
        pos += retry(vm, || s.send(&data.b[pos..]).map_err(|e| os_error_from_io(&e)))?;
    }
    Ok(Value::None)
}
fn s_shutdown(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let how = match int_arg(&arg(&args, 1, "shutdown")?, "")? as i32 {
        libc::SHUT_RD => std::net::Shutdown::Read,
        libc::SHUT_WR => std::net::Shutdown::Write,
        _ => std::net::Shutdown::Both,
    };
    s.with(|x| x.shutdown(how))?;
    Ok(Value::None)
}
fn s_setblocking(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let flag = vm.truthy(&arg(&args, 1, "setblocking")?)?;
    s.set_blocking(flag)?;
    Ok(Value::None)
}
fn s_getblocking(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    Ok(Value::bool(s.timeout.get() != Some(0.0)))
}
fn s_settimeout(vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    match arg(&args, 1, "settimeout")? {
        Value::None => s.set_blocking(true)?,
        v => {
            let t = aio_interp::types::float::to_float(vm, &v)?;
            if t < 0.0 {
                return Err(value_error("Timeout value out of range"));
            }
            s.with(|x| {
                x.set_nonblocking(t == 0.0)?;
                let d = (t > 0.0).then(|| std::time::Duration::from_secs_f64(t));
                x.set_read_timeout(d)?;
                x.set_write_timeout(d)
            })?;
            s.timeout.set(Some(t));
        }
    }
    Ok(Value::None)
}
fn s_gettimeout(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(this(&args)?.timeout.get().map(Value::float).unwrap_or(Value::None))
}
fn s_getsockname(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let a = s.with(|x| x.local_addr())?;
    Ok(addr_value(&a, s.family))
}
fn s_getpeername(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let a = s.with(|x| x.peer_addr())?;
    Ok(addr_value(&a, s.family))
}
fn s_setsockopt(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let level = int_arg(&arg(&args, 1, "setsockopt")?, "")? as i32;
    let opt = int_arg(&arg(&args, 2, "setsockopt")?, "")? as i32;
    let value = arg(&args, 3, "setsockopt")?;
    let bytes: Vec<u8> = match &value {
        Value::Bytes(b) => b.b.to_vec(),
        v => (int_arg(v, "")? as libc::c_int).to_ne_bytes().to_vec(),
    };
    s.with(|x| {
        // SAFETY: the option value is a live buffer of the given length.
        let r = unsafe { libc::setsockopt(x.as_raw_fd(), level, opt, bytes.as_ptr().cast(), bytes.len() as libc::socklen_t) };
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    })?;
    Ok(Value::None)
}
fn s_getsockopt(_vm: &mut Vm, args: Args) -> PyResult {
    let s = this(&args)?;
    let level = int_arg(&arg(&args, 1, "getsockopt")?, "")? as i32;
    let opt = int_arg(&arg(&args, 2, "getsockopt")?, "")? as i32;
    let buflen = args.pos.get(3).map(|v| int_arg(v, "")).transpose()?;
    let n = buflen.unwrap_or(std::mem::size_of::<libc::c_int>() as i64).clamp(0, 1024) as usize;
    let mut buf = vec![0u8; n.max(std::mem::size_of::<libc::c_int>())];
    let got = s.with(|x| {
        let mut len = n as libc::socklen_t;
        // SAFETY: `buf` has room for `len` bytes.
        let r = unsafe { libc::getsockopt(x.as_raw_fd(), level, opt, buf.as_mut_ptr().cast(), &mut len) };
        if r == 0 {
            Ok(len as usize)
        } else {
            Err(std::io::Error::last_os_error())
        }
    })?;
    if buflen.is_some() {
        return Ok(Value::Bytes(Rc::new(PyBytes { b: buf[..got].to_vec().into_boxed_slice() })));
    }
    let mut word = [0u8; 4];
    word.copy_from_slice(&buf[..4]);
    Ok(Value::Int(libc::c_int::from_ne_bytes(word) as i64))
}
fn s_enter(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(args.pos[0].clone())
}
fn s_exit(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.close();
    Ok(Value::None)
}

fn install_socket_methods(c: &Rc<Class>) {
    let ms: &[(&str, NativeFnPtr)] = &[
        ("fileno", s_fileno),
        ("close", s_close),
        ("detach", s_detach),
        ("bind", s_bind),
        ("listen", s_listen),
        ("accept", s_accept),
        ("connect", s_connect),
        ("connect_ex", s_connect_ex),
        ("recv", s_recv),
        ("recv_into", s_recv_into),
        ("send", s_send),
        ("sendall", s_sendall),
        ("shutdown", s_shutdown),
        ("setblocking", s_setblocking),
        ("getblocking", s_getblocking),
        ("settimeout", s_settimeout),
        ("gettimeout", s_gettimeout),
        ("getsockname", s_getsockname),
        ("getpeername", s_getpeername),
        ("setsockopt", s_setsockopt),
        ("getsockopt", s_getsockopt),
        ("__enter__", s_enter),
        ("__exit__", s_exit),
    ];
    for (n, f) in ms {
        method(c, "socket", n, *f);
    }
}

fn gethostname(_vm: &mut Vm, _args: Args) -> PyResult {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer has room for the name and its NUL.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return Err(os_error_from_io(&std::io::Error::last_os_error()));
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(Value::string(String::from_utf8_lossy(&buf[..end]).into_owned()))
}

/// Build the `socket` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let t = types();
    let mut entries: Vec<(&str, Value)> = CONSTANTS.iter().map(|(n, v)| (*n, Value::Int(*v))).collect();
    let cls = CLASSES.with(|c| c.0.clone());
    cls.dict.set_str(
        "__new__",
        aio_interp::attr::StaticMethod::wrap(native_fn("__new__", |vm, mut a| {
            a.pos.remove(0);
            socket_new(vm, a)
        })),
    );
    entries.push(("socket", Value::Class(cls.clone())));
    entries.push(("SocketType", Value::Class(cls)));
    entries.push(("socketpair", native_fn("socketpair", socketpair)));
    entries.push(("getaddrinfo", native_fn("getaddrinfo", getaddrinfo)));
    entries.push(("gethostname", native_fn("gethostname", gethostname)));
    entries.push(("gaierror", Value::Class(gaierror_class())));
    entries.push(("error", Value::Class(t.exc.os_error.clone())));
    entries.push(("timeout", Value::Class(t.exc.timeout_error.clone())));
    entries.push(("has_ipv6", Value::bool(true)));
    Ok(vm.make_native_module("socket", entries))
}
