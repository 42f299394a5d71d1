//! Child processes and pipes, native: `_spawn` starts a program with
//! its standard streams piped, inherited or sent to /dev/null (a `Popen`
//! object: `pid`, `returncode`, `poll`, `send_signal`, `terminate`, `kill`);
//! `_watch_child` waits for its exit on the reactor (a pidfd, readable once
//! the child has exited; the watcher reaps it and calls back, as CPython's
//! child watcher does from its thread); and the pipe transports
//! `_UnixReadPipeTransport` / `_UnixWritePipeTransport`, whose order of
//! `call_soon`s is CPython's unix_events.py. The subprocess transport and
//! protocols above them are .aio (`lib/asyncio.aio`).

use std::cell::{Cell, RefCell};
use std::ffi::OsString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::CommandExt;
use std::rc::{Rc, Weak};

use aio_interp::event_loop::lp;
use aio_interp::event_loop::{self, Callback, EventLoop};
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::runtime::reactor::{IoCallback, IoWatcher, Reactor};
use aio_interp::types::{method, native_fn, new_class, type_name, types};
use aio_interp::{Value, Vm};

use super::streams::ByteBuf;

/// `subprocess.PIPE`, `STDOUT`, `DEVNULL`.
const PIPE: i64 = -1;
const STDOUT: i64 = -2;
const DEVNULL: i64 = -3;

/// The most a read takes from a pipe at once (CPython's `max_size`).
const MAX_SIZE: usize = 256 * 1024;

fn os_err(e: &std::io::Error) -> PyErr {
    os_error_from_io(e)
}

/// `OSError(errno, strerror, filename)`, as the subclass for the errno.
fn os_err_file(e: &std::io::Error, filename: Value) -> PyErr {
    match e.raw_os_error() {
        Some(n) => {
            let cls = os_error_class(n as i64);
            PyErr(new_exception(&cls, vec![Value::Int(n as i64), Value::string(strerror(n)), filename]))
        }
        None => os_err(e),
    }
}

fn pipe_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both are fresh descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn dup(fd: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor, owned here.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

fn set_nonblocking(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor the caller owns.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The descriptor of an int or of an object with `fileno()`.
fn fileno_of(vm: &mut Vm, v: &Value) -> PyResult<RawFd> {
    match v {
        Value::Int(i) => Ok(*i as RawFd),
        other => {
            let n = vm.call_method(other, "fileno", vec![])?;
            Ok(vm.index_value(&n)? as RawFd)
        }
    }
}

/// A program argument: str, bytes or a path-like object.
fn os_arg(vm: &mut Vm, v: &Value) -> PyResult<OsString> {
    match v {
        Value::Str(s) => Ok(OsString::from(s.as_str())),
        Value::Bytes(b) => Ok(OsString::from_vec(b.b.to_vec())),
        other => match aio_interp::ops::lookup_special(other, "__fspath__") {
            Some(f) => {
                let p = vm.call(f, Args::new([other.clone()]))?;
                os_arg(vm, &p)
            }
            None => Err(type_error(format!("expected str, bytes or os.PathLike object, not {}", type_name(other)))),
        },
    }
}

// ------------------------------------------------------------ the child

/// A child process (`subprocess.Popen`, as much of it as asyncio uses).
pub struct Child {
    pub pid: i32,
    args: Value,
    /// The program for people: `sleep`, or a shell command.
    pub name: String,
    /// The exit code once reaped (negative: killed by that signal).
    status: Cell<Option<i32>>,
    /// The parent's ends of the pipes (`PipeFile`s or None): stdin, stdout, stderr.
    pipes: [Value; 3],
}

thread_local! {
    static POPEN_CLASS: Rc<Class> = {
        let c = new_class("Popen", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("subprocess"));
        let ms: &[(&str, NativeFnPtr)] = &[
            ("poll", |_vm, a| Ok(child(&a)?.poll().map(|c| Value::Int(c as i64)).unwrap_or(Value::None))),
            ("wait", |vm, a| Ok(Value::Int(child(&a)?.wait(vm)? as i64))),
            ("send_signal", |vm, a| {
                let sig = vm.index_value(a.pos.get(1).unwrap_or(&Value::None))?;
                child(&a)?.send_signal(vm, sig as i32)?;
                Ok(Value::None)
            }),
            ("terminate", |vm, a| {
                child(&a)?.send_signal(vm, libc::SIGTERM)?;
                Ok(Value::None)
            }),
            ("kill", |vm, a| {
                child(&a)?.send_signal(vm, libc::SIGKILL)?;
                Ok(Value::None)
            }),
        ];
        for (n, f) in ms {
            method(&c, "Popen", n, *f);
        }
        c
    };
}

impl NativeObject for Child {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        POPEN_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "pid" => Some(Value::Int(self.pid as i64)),
            "returncode" => Some(self.status.get().map(|c| Value::Int(c as i64)).unwrap_or(Value::None)),
            "args" => Some(self.args.clone()),
            "stdin" => Some(self.pipes[0].clone()),
            "stdout" => Some(self.pipes[1].clone()),
            "stderr" => Some(self.pipes[2].clone()),
            "_name" => Some(Value::string(self.name.clone())),
            _ => None,
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let rc = self.status.get().map(|c| c.to_string()).unwrap_or_else(|| "None".into());
        Ok(format!("<Popen: returncode: {rc} args: {}>", vm.repr_str(&self.args)?))
    }
}

fn child(args: &Args) -> PyResult<&Child> {
    args.pos.first().and_then(|v| v.downcast::<Child>()).ok_or_else(|| type_error("descriptor requires a Popen object"))
}

/// The exit code of a wait status: the code, or minus the signal.
fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        -libc::WTERMSIG(status)
    } else {
        status
    }
}

impl Child {
    /// Reap the child if it has exited: its exit code (once known, kept).
    pub fn poll(&self) -> Option<i32> {
        if self.status.get().is_none() {
            let mut st: libc::c_int = 0;
            // SAFETY: waitpid on our own child, without blocking.
            let r = unsafe { libc::waitpid(self.pid, &mut st, libc::WNOHANG) };
            if r == self.pid {
                self.status.set(Some(exit_code(st)));
            } else if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
                // Reaped behind our back: what CPython's watcher reports then.
                self.status.set(Some(255));
            }
        }
        self.status.get()
    }

    /// `wait()`: block until the child exits; its exit code.
    fn wait(&self, vm: &mut Vm) -> PyResult<i32> {
        while self.status.get().is_none() {
            let mut st: libc::c_int = 0;
            // SAFETY: waitpid on our own child, writing into a local.
            let r = unsafe { libc::waitpid(self.pid, &mut st, 0) };
            if r == self.pid {
                self.status.set(Some(exit_code(st)));
            } else {
                let e = std::io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EINTR) => vm.check_interrupt()?,
                    // Reaped elsewhere: the exit code is lost, as CPython then reports 0.
                    Some(libc::ECHILD) => self.status.set(Some(0)),
                    _ => return Err(os_err(&e)),
                }
            }
        }
        Ok(self.status.get().unwrap_or(0))
    }

    /// `send_signal(sig)`: nothing once the child is known to have exited.
    fn send_signal(&self, vm: &mut Vm, sig: i32) -> PyResult<()> {
        if self.poll().is_some() {
            return Ok(());
        }
        aio_interp::trace::trace_io(vm, || {
            format!("sends {} to process {} ({})", aio_interp::runtime::signals::name(sig), self.pid, self.name)
        });
        // SAFETY: kill(2) on our child, which is not reaped yet.
        if unsafe { libc::kill(self.pid, sig) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::ESRCH) {
                return Err(os_err(&e));
            }
        }
        Ok(())
    }
}

/// What one of the child's standard streams becomes.
fn stdio_for(vm: &mut Vm, v: &Value, mine: &mut Option<OwnedFd>, which: usize) -> PyResult<Option<OwnedFd>> {
    match v {
        Value::None => Ok(None),
        Value::Int(PIPE) => {
            let (r, w) = pipe_pair().map_err(|e| os_err(&e))?;
            let (parent, child) = if which == 0 { (w, r) } else { (r, w) };
            *mine = Some(parent);
            Ok(Some(child))
        }
        Value::Int(DEVNULL) => {
            let f = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null").map_err(|e| os_err(&e))?;
            Ok(Some(OwnedFd::from(f)))
        }
        Value::Int(STDOUT) if which == 2 => Ok(None),
        Value::Int(n) if *n < 0 => Err(value_error(format!("invalid stdio value {n}"))),
        other => {
            let fd = fileno_of(vm, other)?;
            Ok(Some(dup(fd).map_err(|e| os_err(&e))?))
        }
    }
}

/// `_spawn(args, shell, stdin, stdout, stderr, options)`: start a child.
/// `options` holds Popen's other keywords (`cwd`, `env`, `executable`,
/// `start_new_session`, ...).
fn spawn(vm: &mut Vm, args: Args) -> PyResult {
    let get = |i: usize| args.pos.get(i).cloned().unwrap_or(Value::None);
    let (argv_v, shell) = (get(0), vm.truthy(&get(1))?);
    let (stdin_v, stdout_v, stderr_v, opts) = (get(2), get(3), get(4), get(5));
    let items = vm.collect(&argv_v)?;
    let mut argv: Vec<OsString> = Vec::with_capacity(items.len() + 2);
    for it in &items {
        argv.push(os_arg(vm, it)?);
    }
    if shell {
        let mut sh = vec![OsString::from("/bin/sh"), OsString::from("-c")];
        sh.extend(argv);
        argv = sh;
    }
    if argv.is_empty() {
        return Err(index_error("list index out of range"));
    }
    let name = if shell {
        let text = items.first().map(|c| match c {
            Value::Str(s) => s.as_str().to_string(),
            other => vm.str_of(other).unwrap_or_default(),
        });
        let text = text.unwrap_or_default();
        if text.chars().count() > 40 {
            format!("{}…", text.chars().take(39).collect::<String>())
        } else {
            text
        }
    } else {
        let p = argv[0].to_string_lossy().into_owned();
        p.rsplit('/').next().unwrap_or(&p).to_string()
    };
    crate::sandbox::check_run(&name)?;
    let opt = |vm: &mut Vm, k: &str| -> PyResult<Value> {
        match &opts {
            Value::Dict(d) => Ok(d.get_str(k).unwrap_or(Value::None)),
            Value::None => Ok(Value::None),
            other => vm.getitem(other, &Value::str(k)),
        }
    };
    let executable = opt(vm, "executable")?;
    let program = if executable.is_none() { argv[0].clone() } else { os_arg(vm, &executable)? };
    let err_name = if executable.is_none() { items.first().cloned().unwrap_or(Value::None) } else { executable.clone() };
    let err_name = if shell { Value::str("/bin/sh") } else { err_name };
    let mut cmd = std::process::Command::new(&program);
    cmd.arg0(&argv[0]).args(&argv[1..]);
    let cwd = opt(vm, "cwd")?;
    if !cwd.is_none() {
        let dir = os_arg(vm, &cwd)?;
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(os_err_file(&std::io::Error::from_raw_os_error(libc::ENOTDIR), cwd)),
            Err(e) => return Err(os_err_file(&e, cwd)),
        }
        cmd.current_dir(dir);
    }
    let env = opt(vm, "env")?;
    if !env.is_none() {
        cmd.env_clear();
        let keys = vm.collect(&env)?;
        for k in keys {
            let v = vm.getitem(&env, &k)?;
            let (k, v) = (os_arg(vm, &k)?, os_arg(vm, &v)?);
            cmd.env(k, v);
        }
    }
    let new_session = opt(vm, "start_new_session")?;
    if vm.truthy(&new_session)? {
        // SAFETY: setsid(2) is async-signal-safe, as a pre_exec hook must be.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    // A child that writes to our stdout comes after what was printed so far.
    if stdout_v.is_none() || stderr_v.is_none() {
        vm.host.flush();
    }
    let mut mine: [Option<OwnedFd>; 3] = [None, None, None];
    let child_in = stdio_for(vm, &stdin_v, &mut mine[0], 0)?;
    let child_out = stdio_for(vm, &stdout_v, &mut mine[1], 1)?;
    let child_err = match &stderr_v {
        Value::Int(STDOUT) => match &child_out {
            Some(fd) => Some(fd.try_clone().map_err(|e| os_err(&e))?),
            None => Some(dup(1).map_err(|e| os_err(&e))?),
        },
        v => stdio_for(vm, v, &mut mine[2], 2)?,
    };
    if let Some(fd) = child_in {
        cmd.stdin(fd);
    }
    if let Some(fd) = child_out {
        cmd.stdout(fd);
    }
    if let Some(fd) = child_err {
        cmd.stderr(fd);
    }
    let spawned = cmd.spawn();
    // The child's ends of the pipes close here, in the parent.
    drop(cmd);
    let proc = spawned.map_err(|e| os_err_file(&e, err_name))?;
    let [a, b, c] = mine.map(|fd| fd.map(|fd| Value::object(PipeFile { fd: RefCell::new(Some(fd)), write: false })).unwrap_or(Value::None));
    let a = match a.downcast::<PipeFile>() {
        Some(p) => Value::object(PipeFile { fd: RefCell::new(p.fd.borrow_mut().take()), write: true }),
        None => a,
    };
    let c = Child { pid: proc.id() as i32, args: argv_v, name, status: Cell::new(None), pipes: [a, b, c] };
    aio_interp::trace::trace_io(vm, || format!("starts process {} ({})", c.pid, c.name));
    Ok(Value::object(c))
}

// ------------------------------------------------------------ waiting for the exit

/// The reactor's watch on a child: its pidfd (or, without pidfd, a pipe a
/// thread closes when the child exits).
struct ChildWatch {
    child: Value,
    fd: OwnedFd,
    loop_: Value,
    cb: Value,
    args: Vec<Value>,
}

impl IoWatcher for ChildWatch {
    fn ready(self: Rc<Self>, vm: &mut Vm, _write: bool) -> PyResult<()> {
        let c = self.child.downcast::<Child>().expect("a child");
        let Some(code) = c.poll() else { return Ok(()) };
        lp(&self.loop_).reactor.remove_reader(self.fd.as_raw_fd());
        aio_interp::trace::trace_io(vm, || {
            if code < 0 {
                format!("process {} ({}) was killed by {}", c.pid, c.name, aio_interp::runtime::signals::name(-code))
            } else {
                format!("process {} ({}) exited with {code}", c.pid, c.name)
            }
        });
        let mut args = vec![Value::Int(c.pid as i64), Value::Int(code as i64)];
        args.extend(self.args.iter().cloned());
        let r = vm.call(self.cb.clone(), Args::new(args));
        aio_interp::event_loop::callback_outcome(vm, &self.cb, r)
    }
    fn describe(&self, _write: bool) -> String {
        let c = self.child.downcast::<Child>().expect("a child");
        format!("process {} ({})", c.pid, c.name)
    }
}

/// A descriptor that becomes readable when the child `pid` exits.
fn exit_fd(pid: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open(2) takes a pid and flags, and returns a new descriptor.
    let n = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if n >= 0 {
        // SAFETY: a fresh descriptor, owned here.
        return Ok(unsafe { OwnedFd::from_raw_fd(n as RawFd) });
    }
    // No pidfd (an old kernel): a thread waits for the exit without
    // reaping the child, then closes the write end of a pipe.
    let (r, w) = pipe_pair()?;
    std::thread::Builder::new().name(format!("waitpid-{pid}")).spawn(move || {
        // SAFETY: a zeroed siginfo for waitid to fill.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: waitid on our child; WNOWAIT leaves it to be reaped by the loop.
            let rc = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
            if rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                break;
            }
        }
        drop(w);
    })?;
    Ok(r)
}

/// `_watch_child(loop, child, callback, *args)`: `callback(pid, returncode,
/// *args)` once the child exits. Until then the loop has I/O in flight.
fn watch_child(_vm: &mut Vm, args: Args) -> PyResult {
    let loop_v = args.pos.first().cloned().unwrap_or(Value::None);
    if loop_v.downcast::<EventLoop>().is_none() {
        return Err(type_error("_watch_child() needs an event loop"));
    }
    let child_v = args.pos.get(1).cloned().unwrap_or(Value::None);
    let c = child_v.downcast::<Child>().ok_or_else(|| type_error("_watch_child() needs a Popen object"))?;
    let cb = args.pos.get(2).cloned().ok_or_else(|| type_error("_watch_child() needs a callback"))?;
    let fd = exit_fd(c.pid).map_err(|e| os_err(&e))?;
    let raw = fd.as_raw_fd();
    let w = ChildWatch { child: child_v.clone(), fd, loop_: loop_v.clone(), cb, args: args.pos[3..].to_vec() };
    lp(&loop_v).reactor.add_reader(raw, IoCallback::Native(Rc::new(w)))?;
    Ok(Value::None)
}

// ------------------------------------------------------------ pipe files

/// A pipe end the parent keeps (what CPython's `proc.stdout` is).
pub struct PipeFile {
    fd: RefCell<Option<OwnedFd>>,
    write: bool,
}

thread_local! {
    static PIPE_CLASSES: (Rc<Class>, Rc<Class>) = {
        let mk = |name: &'static str| {
            let c = new_class(name, &[types().object.clone()], Layout::Builtin, None);
            c.dict.set_str("__module__", Value::str("_io"));
            method(&c, name, "fileno", |_vm, a| {
                let p = pipe_file(&a)?;
                match p.fd.borrow().as_ref() {
                    Some(fd) => Ok(Value::Int(fd.as_raw_fd() as i64)),
                    None => Err(value_error("I/O operation on closed file")),
                }
            });
            method(&c, name, "close", |_vm, a| {
                pipe_file(&a)?.fd.borrow_mut().take();
                Ok(Value::None)
            });
            c
        };
        (mk("BufferedReader"), mk("BufferedWriter"))
    };
}

impl NativeObject for PipeFile {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        PIPE_CLASSES.with(|c| if self.write { c.1.clone() } else { c.0.clone() })
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "closed" => Some(Value::bool(self.fd.borrow().is_none())),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        let kind = if self.write { "BufferedWriter" } else { "BufferedReader" };
        Ok(match self.fd.borrow().as_ref() {
            Some(fd) => format!("<_io.{kind} name={}>", fd.as_raw_fd()),
            None => format!("<_io.{kind} name=-1>"),
        })
    }
}

fn pipe_file(args: &Args) -> PyResult<&PipeFile> {
    args.pos.first().and_then(|v| v.downcast::<PipeFile>()).ok_or_else(|| type_error("descriptor requires a pipe"))
}

// ------------------------------------------------------------ pipe transports

/// `_UnixReadPipeTransport` and `_UnixWritePipeTransport` (`write`).
pub struct PipeTransport {
    loop_: Value,
    me: RefCell<Weak<Box<dyn NativeObject>>>,
    write: bool,
    fd: RawFd,
    /// The pipe object (`get_extra_info('pipe')`), None once closed.
    pipe: RefCell<Value>,
    protocol: RefCell<Value>,
    closing: Cell<bool>,
    paused: Cell<bool>,
    buffer: RefCell<ByteBuf>,
    conn_lost: Cell<u32>,
    protocol_paused: Cell<bool>,
    high: Cell<usize>,
    low: Cell<usize>,
    /// What flows through it, for reports: `the stdout of process 1234 (cat)`.
    pub what: String,
}

thread_local! {
    static TRANSPORT_CLASSES: (Rc<Class>, Rc<Class>) = {
        let common: &[(&str, NativeFnPtr)] = &[
            ("close", |vm, a| {
                this(&a)?.close(vm);
                Ok(Value::None)
            }),
            ("is_closing", |_vm, a| Ok(Value::bool(this(&a)?.closing.get()))),
            ("get_extra_info", |_vm, mut a| {
                let default = a.take_kw("default").or_else(|| a.pos.get(2).cloned()).unwrap_or(Value::None);
                let t = this(&a)?;
                match a.pos.get(1) {
                    Some(Value::Str(s)) if s.as_str() == "pipe" => Ok(t.pipe.borrow().clone()),
                    _ => Ok(default),
                }
            }),
            ("get_protocol", |_vm, a| Ok(this(&a)?.protocol.borrow().clone())),
            ("set_protocol", |_vm, a| {
                *this(&a)?.protocol.borrow_mut() = a.pos.get(1).cloned().unwrap_or(Value::None);
                Ok(Value::None)
            }),
            ("get_loop", |_vm, a| Ok(this(&a)?.loop_.clone())),
        ];
        let reading: &[(&str, NativeFnPtr)] = &[
            ("pause_reading", |_vm, a| {
                this(&a)?.pause_reading();
                Ok(Value::None)
            }),
            ("resume_reading", |_vm, a| {
                this(&a)?.resume_reading()?;
                Ok(Value::None)
            }),
            ("is_reading", |_vm, a| Ok(Value::bool(this(&a)?.is_reading()))),
        ];
        let writing: &[(&str, NativeFnPtr)] = &[
            ("write", |vm, a| {
                let data = a.pos.get(1).cloned().unwrap_or(Value::None);
                let Value::Bytes(b) = &data else {
                    return Err(err(&types().exc.assertion_error, vm.repr_str(&data)?));
                };
                this(&a)?.write_data(vm, &b.b)?;
                Ok(Value::None)
            }),
            ("writelines", |vm, a| {
                let data = super::transport::join_data(vm, a.pos.get(1).unwrap_or(&Value::None))?;
                this(&a)?.write_data(vm, &data)?;
                Ok(Value::None)
            }),
            ("write_eof", |vm, a| {
                this(&a)?.write_eof(vm);
                Ok(Value::None)
            }),
            ("can_write_eof", |_vm, _a| Ok(Value::bool(true))),
            ("abort", |vm, a| {
                this(&a)?.close_with(vm, None);
                Ok(Value::None)
            }),
            ("get_write_buffer_size", |_vm, a| Ok(Value::Int(this(&a)?.buffer.borrow().len() as i64))),
            ("get_write_buffer_limits", |_vm, a| {
                let t = this(&a)?;
                Ok(Value::tuple(vec![Value::Int(t.low.get() as i64), Value::Int(t.high.get() as i64)]))
            }),
            ("set_write_buffer_limits", |vm, mut a| {
                let high = a.take_kw("high").or_else(|| a.pos.get(1).cloned()).unwrap_or(Value::None);
                let low = a.take_kw("low").or_else(|| a.pos.get(2).cloned()).unwrap_or(Value::None);
                let t = this(&a)?;
                let num = |vm: &mut Vm, v: &Value| -> PyResult<Option<i64>> { if v.is_none() { Ok(None) } else { vm.index_value(v).map(Some) } };
                let (h, l) = (num(vm, &high)?, num(vm, &low)?);
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
            }),
        ];
        let mk = |name: &'static str, own: &[(&'static str, NativeFnPtr)]| {
            let c = new_class(name, &[types().object.clone()], Layout::Builtin, None);
            c.dict.set_str("__module__", Value::str("asyncio.unix_events"));
            for (n, f) in common.iter().chain(own) {
                method(&c, name, n, *f);
            }
            c
        };
        (mk("_UnixReadPipeTransport", reading), mk("_UnixWritePipeTransport", writing))
    };
}

impl NativeObject for PipeTransport {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        TRANSPORT_CLASSES.with(|c| if self.write { c.1.clone() } else { c.0.clone() })
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "_fileno" => Some(Value::Int(self.fd as i64)),
            "_pipe" => Some(self.pipe.borrow().clone()),
            "_protocol" => Some(self.protocol.borrow().clone()),
            "_loop" => Some(self.loop_.clone()),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        let name = if self.write { "_UnixWritePipeTransport" } else { "_UnixReadPipeTransport" };
        let mut info = vec![name.to_string()];
        let open = !self.pipe.borrow().is_none();
        if !open {
            info.push("closed".into());
        } else if self.closing.get() {
            info.push("closing".into());
        }
        info.push(format!("fd={}", self.fd));
        if open {
            let watching = !lp(&self.loop_).closed.get() && lp(&self.loop_).reactor.is_watching(self.fd, self.write);
            info.push(if watching { "polling".into() } else { "idle".into() });
            if self.write {
                info.push(format!("bufsize={}", self.buffer.borrow().len()));
            }
        } else {
            info.push("closed".into());
        }
        Ok(format!("<{}>", info.join(" ")))
    }
}

fn this(args: &Args) -> PyResult<&PipeTransport> {
    args.pos.first().and_then(|v| v.downcast::<PipeTransport>()).ok_or_else(|| type_error("descriptor requires a pipe transport"))
}

/// The reactor callback of a pipe transport.
struct PipeWatch(Value);

impl IoWatcher for PipeWatch {
    fn ready(self: Rc<Self>, vm: &mut Vm, write: bool) -> PyResult<()> {
        let t = self.0.downcast::<PipeTransport>().expect("a pipe transport");
        match (t.write, write) {
            (false, _) => t.read_ready(vm),
            (true, true) => t.write_ready(vm),
            // The read end of a stdin pipe closed: the child is gone.
            (true, false) => {
                let exc = if t.buffer.borrow().is_empty() { None } else { Some(err_noargs(&types().exc.broken_pipe_error)) };
                t.close_with(vm, exc);
                Ok(())
            }
        }
    }
    fn describe(&self, write: bool) -> String {
        let t = self.0.downcast::<PipeTransport>().expect("a pipe transport");
        if write {
            format!("write to {}", t.what)
        } else {
            format!("read from {}", t.what)
        }
    }
}

fn is_fatal(e: &PyErr) -> bool {
    let t = types();
    e.is(&t.exc.system_exit) || e.is(&t.exc.keyboard_interrupt)
}

impl PipeTransport {
    fn value(&self) -> Value {
        self.me.borrow().upgrade().map(Value::Object).unwrap_or(Value::None)
    }
    fn reactor(&self) -> &Reactor {
        &lp(&self.loop_).reactor
    }
    fn watch(&self) -> IoCallback {
        IoCallback::Native(Rc::new(PipeWatch(self.value())))
    }
    fn is_reading(&self) -> bool {
        !self.paused.get() && !self.closing.get()
    }
    fn call_soon(&self, vm: &mut Vm, f: impl FnOnce(&mut Vm) -> PyResult<()> + 'static) {
        event_loop::call_soon(vm, &self.loop_, Callback::Native(Box::new(f)));
    }
    /// `loop.call_soon(protocol.<name>, *args)`.
    fn call_soon_protocol(&self, vm: &mut Vm, name: &str, args: Vec<Value>) -> PyResult<()> {
        let proto = self.protocol.borrow().clone();
        let m = vm.getattr(&proto, &aio_interp::intern::intern(name))?;
        event_loop::call_soon_handle(vm, &self.loop_, Callback::call(m, args));
        Ok(())
    }

    fn read_ready(&self, vm: &mut Vm) -> PyResult<()> {
        let mut buf = vec![0u8; MAX_SIZE];
        // SAFETY: reads into a buffer of the given length.
        let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) {
                return Ok(());
            }
            return self.fatal_error(vm, os_err(&e), e.raw_os_error() == Some(libc::EIO), "Fatal read error on pipe transport");
        }
        if n > 0 {
            buf.truncate(n as usize);
            let proto = self.protocol.borrow().clone();
            let data = Value::Bytes(Rc::new(PyBytes { b: buf.into_boxed_slice() }));
            return match vm.call_method(&proto, "data_received", vec![data]) {
                Ok(_) => Ok(()),
                Err(e) if is_fatal(&e) => Err(e),
                Err(e) => {
                    let report = aio_interp::diagnostic::format_exception(vm, &e);
                    vm.write_err(&format!("Exception in callback _UnixReadPipeTransport._read_ready()\n{report}"));
                    Ok(())
                }
            };
        }
        aio_interp::trace::trace_io(vm, || format!("{} is at its end (EOF)", self.what));
        self.closing.set(true);
        self.reactor().remove_reader(self.fd);
        self.call_soon_protocol(vm, "eof_received", vec![])?;
        self.schedule_connection_lost(vm, None);
        Ok(())
    }

    fn pause_reading(&self) {
        if !self.is_reading() {
            return;
        }
        self.paused.set(true);
        self.reactor().remove_reader(self.fd);
    }

    fn resume_reading(&self) -> PyResult<()> {
        if self.closing.get() || !self.paused.get() {
            return Ok(());
        }
        self.paused.set(false);
        self.reactor().add_reader(self.fd, self.watch()).map(|_| ())
    }

    /// `write(data)`: at once what the pipe takes, the rest when it can.
    fn write_data(&self, vm: &mut Vm, data: &[u8]) -> PyResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        if self.conn_lost.get() > 0 || self.closing.get() {
            if self.conn_lost.get() >= 5 {
                vm.write_err("pipe closed by peer or os.write(pipe, data) raised exception.\n");
            }
            self.conn_lost.set(self.conn_lost.get() + 1);
            return Ok(());
        }
        let mut rest = data;
        if self.buffer.borrow().is_empty() {
            // SAFETY: writes from a slice of the given length.
            let n = unsafe { libc::write(self.fd, data.as_ptr().cast(), data.len()) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) {
                    self.conn_lost.set(self.conn_lost.get() + 1);
                    return self.fatal_error(vm, os_err(&e), true, "Fatal write error on pipe transport");
                }
            } else {
                rest = &data[n as usize..];
                if rest.is_empty() {
                    return Ok(());
                }
            }
            self.reactor().add_writer(self.fd, self.watch())?;
        }
        self.buffer.borrow_mut().extend(rest);
        self.maybe_pause_protocol(vm);
        Ok(())
    }

    fn write_ready(&self, vm: &mut Vm) -> PyResult<()> {
        let n = {
            let b = self.buffer.borrow();
            // SAFETY: writes from the buffer's bytes.
            unsafe { libc::write(self.fd, b.as_slice().as_ptr().cast(), b.len()) }
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) {
                return Ok(());
            }
            self.buffer.borrow_mut().clear();
            self.conn_lost.set(self.conn_lost.get() + 1);
            self.reactor().remove_writer(self.fd);
            return self.fatal_error(vm, os_err(&e), true, "Fatal write error on pipe transport");
        }
        let n = n as usize;
        if n == self.buffer.borrow().len() {
            self.buffer.borrow_mut().clear();
            self.reactor().remove_writer(self.fd);
            self.maybe_resume_protocol(vm);
            if self.closing.get() {
                self.reactor().remove_reader(self.fd);
                return self.call_connection_lost(vm, None);
            }
            return Ok(());
        }
        self.buffer.borrow_mut().consume(n);
        Ok(())
    }

    fn maybe_pause_protocol(&self, vm: &mut Vm) {
        if self.buffer.borrow().len() <= self.high.get() || self.protocol_paused.get() {
            return;
        }
        self.protocol_paused.set(true);
        let proto = self.protocol.borrow().clone();
        if let Err(e) = vm.call_method(&proto, "pause_writing", vec![]) {
            let report = aio_interp::diagnostic::format_exception(vm, &e);
            vm.write_err(&format!("protocol.pause_writing() failed\n{report}"));
        }
    }

    fn maybe_resume_protocol(&self, vm: &mut Vm) {
        if !self.protocol_paused.get() || self.buffer.borrow().len() > self.low.get() {
            return;
        }
        self.protocol_paused.set(false);
        let proto = self.protocol.borrow().clone();
        if let Err(e) = vm.call_method(&proto, "resume_writing", vec![]) {
            let report = aio_interp::diagnostic::format_exception(vm, &e);
            vm.write_err(&format!("protocol.resume_writing() failed\n{report}"));
        }
    }

    /// `write_eof()`: the pipe closes once its buffer is out.
    fn write_eof(&self, vm: &mut Vm) {
        if self.closing.get() {
            return;
        }
        self.closing.set(true);
        if self.buffer.borrow().is_empty() {
            self.reactor().remove_reader(self.fd);
            self.schedule_connection_lost(vm, None);
        }
    }

    /// `close()`.
    fn close(&self, vm: &mut Vm) {
        if self.write {
            if !self.pipe.borrow().is_none() && !self.closing.get() {
                self.write_eof(vm);
            }
        } else if !self.closing.get() {
            self.close_with(vm, None);
        }
    }

    /// `_close(exc)`: stop everything; `connection_lost(exc)` follows.
    fn close_with(&self, vm: &mut Vm, exc: Option<PyErr>) {
        self.closing.set(true);
        if self.write {
            if !self.buffer.borrow().is_empty() {
                self.reactor().remove_writer(self.fd);
            }
            self.buffer.borrow_mut().clear();
        }
        self.reactor().remove_reader(self.fd);
        self.schedule_connection_lost(vm, exc);
    }

    fn fatal_error(&self, vm: &mut Vm, exc: PyErr, quiet: bool, message: &str) -> PyResult<()> {
        // An OSError on a write (or EIO on a read) is the peer going away: not reported.
        if !(quiet || (self.write && exc.is(&types().exc.os_error))) {
            let report = aio_interp::diagnostic::format_exception(vm, &exc);
            vm.write_err(&format!("{message}\n{report}"));
        }
        self.close_with(vm, Some(exc));
        Ok(())
    }

    fn schedule_connection_lost(&self, vm: &mut Vm, exc: Option<PyErr>) {
        let me = self.value();
        self.call_soon(vm, move |vm| match me.downcast::<PipeTransport>() {
            Some(t) => t.call_connection_lost(vm, exc),
            None => Ok(()),
        });
    }

    fn call_connection_lost(&self, vm: &mut Vm, exc: Option<PyErr>) -> PyResult<()> {
        let proto = self.protocol.replace(Value::None);
        let arg = exc.map(|e| e.value()).unwrap_or(Value::None);
        let r = if proto.is_none() { Ok(Value::None) } else { vm.call_method(&proto, "connection_lost", vec![arg]) };
        let pipe = self.pipe.replace(Value::None);
        if !pipe.is_none() {
            self.reactor().remove_reader(self.fd);
            self.reactor().remove_writer(self.fd);
            vm.call_method(&pipe, "close", vec![])?;
        }
        let what = vm.getattr(&proto, &aio_interp::intern::intern("connection_lost")).unwrap_or(Value::None);
        aio_interp::event_loop::callback_outcome(vm, &what, r)
    }
}

/// `_make_pipe_transport(loop, pipe, protocol, waiter, write, what)`: a
/// read or write transport on a pipe, as `connect_read_pipe` /
/// `connect_write_pipe` make (CPython's `_make_read_pipe_transport`).
fn make_pipe_transport(vm: &mut Vm, args: Args) -> PyResult {
    let get = |i: usize| args.pos.get(i).cloned().unwrap_or(Value::None);
    let (loop_v, pipe, protocol, waiter, write) = (get(0), get(1), get(2), get(3), vm.truthy(&get(4))?);
    if loop_v.downcast::<EventLoop>().is_none() {
        return Err(type_error("_make_pipe_transport() needs an event loop"));
    }
    let fd = fileno_of(vm, &pipe)?;
    // SAFETY: fstat into a zeroed struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(os_err(&std::io::Error::last_os_error()));
    }
    let kind = st.st_mode & libc::S_IFMT;
    let (fifo, sock, chr) = (kind == libc::S_IFIFO, kind == libc::S_IFSOCK, kind == libc::S_IFCHR);
    if !(fifo || sock || chr) {
        return Err(value_error(if write {
            "Pipe transport is only for pipes, sockets and character devices"
        } else {
            "Pipe transport is for pipes/sockets only."
        }));
    }
    set_nonblocking(fd).map_err(|e| os_err(&e))?;
    let what = match get(5) {
        Value::Str(s) => s.as_str().to_string(),
        _ => format!("pipe {fd}"),
    };
    let t = PipeTransport {
        loop_: loop_v.clone(),
        me: RefCell::new(Weak::new()),
        write,
        fd,
        pipe: RefCell::new(pipe),
        protocol: RefCell::new(protocol.clone()),
        closing: Cell::new(false),
        paused: Cell::new(false),
        buffer: RefCell::new(ByteBuf::default()),
        conn_lost: Cell::new(0),
        protocol_paused: Cell::new(false),
        high: Cell::new(64 * 1024),
        low: Cell::new(16 * 1024),
        what,
    };
    let v = Value::object(t);
    let Value::Object(rc) = &v else { unreachable!("a native object") };
    let t = v.downcast::<PipeTransport>().expect("a pipe transport");
    *t.me.borrow_mut() = Rc::downgrade(rc);
    t.call_soon_protocol(vm, "connection_made", vec![v.clone()])?;
    // Reading (for a write pipe: watching for the reader to go away)
    // starts once connection_made() has run.
    if !write || fifo || sock {
        let me = v.clone();
        t.call_soon(vm, move |_vm| {
            let t = me.downcast::<PipeTransport>().expect("a pipe transport");
            if (t.write && !t.closing.get()) || t.is_reading() {
                t.reactor().add_reader(t.fd, t.watch())?;
            }
            Ok(())
        });
    }
    if let Value::Future(w) = waiter {
        t.call_soon(vm, move |vm| {
            if !w.cancelled() && !w.done() {
                w.set_result(vm, Value::None)?;
            }
            Ok(())
        });
    }
    Ok(v)
}

/// The natives of `asyncio.aio`'s subprocess code.
pub fn entries() -> Vec<(&'static str, Value)> {
    vec![
        ("_spawn", native_fn("_spawn", spawn)),
        ("_watch_child", native_fn("_watch_child", watch_child)),
        ("_make_pipe_transport", native_fn("_make_pipe_transport", make_pipe_transport)),
    ]
}

/// The label of a reader's waits when its transport is a pipe.
pub fn pipe_label(t: &Value) -> Option<String> {
    t.downcast::<PipeTransport>().map(|p| format!("read from {}", p.what))
}
