//! `_os`: the operating system calls under `os` (which is written in .aio
//! on top of them): files and directories, `stat`, the environment, the
//! process, `urandom`, the terminal size. Failures raise the `OSError`
//! subclass for their errno, with the file name, as CPython words them.

use std::ffi::CString;
use std::io::Read;
use std::os::unix::fs::{DirEntryExt, MetadataExt, PermissionsExt};
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{native_fn, type_name};
use aio_interp::{Value, Vm};

/// A path argument: its text, and whether it came as bytes (results then are bytes too).
pub struct PathArg {
    pub path: String,
    pub bytes: bool,
}

/// `os.fspath(p)` for a native call: str, bytes, or an object with `__fspath__`.
pub fn fspath(vm: &mut Vm, v: &Value, func: &str, param: &str) -> PyResult<PathArg> {
    match v {
        Value::Str(s) => Ok(PathArg { path: s.as_str().to_string(), bytes: false }),
        Value::Bytes(b) => Ok(PathArg { path: String::from_utf8_lossy(&b.b).into_owned(), bytes: true }),
        Value::Instance(_) => {
            if vm.getattr_opt(v, "__fspath__")?.is_some() {
                let r = vm.call_method(v, "__fspath__", vec![])?;
                if matches!(r, Value::Str(_) | Value::Bytes(_)) {
                    return fspath(vm, &r, func, param);
                }
                return Err(type_error(format!("expected {}.__fspath__() to return str or bytes, not {}", type_name(v), type_name(&r))));
            }
            Err(path_type_error(v, func, param))
        }
        _ => Err(path_type_error(v, func, param)),
    }
}

fn path_type_error(v: &Value, func: &str, param: &str) -> PyErr {
    type_error(format!("{func}: {param} should be string, bytes or os.PathLike, not {}", type_name(v)))
}

/// The `OSError` for a failed call on `path` (and `path2` for two-path calls).
pub fn os_err(e: &std::io::Error, path: &str, path2: Option<&str>) -> PyErr {
    let errno = e.raw_os_error().unwrap_or(libc::EIO);
    let mut args = vec![Value::Int(errno as i64), Value::string(strerror(errno)), Value::str(path)];
    if let Some(p2) = path2 {
        args.push(Value::None);
        args.push(Value::str(p2));
    }
    PyErr(new_exception(&os_error_class(errno as i64), args))
}

fn out_path(s: &str, bytes: bool) -> Value {
    if bytes {
        Value::Bytes(Rc::new(PyBytes { b: s.as_bytes().to_vec().into_boxed_slice() }))
    } else {
        Value::str(s)
    }
}

fn arg<'a>(args: &'a Args, i: usize, name: &str) -> PyResult<&'a Value> {
    args.pos
        .get(i)
        .or_else(|| args.kw.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v))
        .ok_or_else(|| type_error(format!("missing required argument '{name}' (pos {})", i + 1)))
}

fn opt_arg(args: &Args, i: usize, name: &str) -> Option<Value> {
    args.pos.get(i).cloned().or_else(|| args.kw.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v.clone())).filter(|v| !v.is_none())
}

fn path_of(vm: &mut Vm, args: &Args, i: usize, func: &str, name: &str) -> PyResult<PathArg> {
    let v = arg(args, i, name)?.clone();
    fspath(vm, &v, func, name)
}

fn getcwd(_vm: &mut Vm, _args: Args) -> PyResult {
    let p = std::env::current_dir().map_err(|e| os_err(&e, "", None))?;
    Ok(Value::string(p.to_string_lossy().into_owned()))
}

fn chdir(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "chdir", "path")?;
    crate::sandbox::check_path(&p.path, true, false)?;
    std::env::set_current_dir(&p.path).map_err(|e| os_err(&e, &p.path, None))?;
    Ok(Value::None)
}

fn listdir(vm: &mut Vm, args: Args) -> PyResult {
    let p = match opt_arg(&args, 0, "path") {
        Some(v) => fspath(vm, &v, "listdir", "path")?,
        None => PathArg { path: ".".into(), bytes: false },
    };
    crate::sandbox::check_path(&p.path, true, false)?;
    let rd = std::fs::read_dir(&p.path).map_err(|e| os_err(&e, &p.path, None))?;
    let mut names = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| os_err(&e, &p.path, None))?;
        names.push(out_path(&entry.file_name().to_string_lossy(), p.bytes));
    }
    Ok(Value::list(names))
}

/// `_os.scandir_names(path)`: `(name, kind)` pairs, kind 'd', 'f', 'l' or '?'
/// (what the directory says, without a stat of each entry).
fn scandir_names(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "scandir", "path")?;
    crate::sandbox::check_path(&p.path, true, false)?;
    let rd = std::fs::read_dir(&p.path).map_err(|e| os_err(&e, &p.path, None))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| os_err(&e, &p.path, None))?;
        let kind = match entry.file_type() {
            Ok(t) if t.is_symlink() => "l",
            Ok(t) if t.is_dir() => "d",
            Ok(t) if t.is_file() => "f",
            _ => "?",
        };
        out.push(Value::tuple(vec![
            out_path(&entry.file_name().to_string_lossy(), p.bytes),
            Value::str(kind),
            Value::Int(entry.ino() as i64),
        ]));
    }
    Ok(Value::list(out))
}

fn mode_arg(vm: &mut Vm, args: &Args, i: usize, default: u32) -> PyResult<u32> {
    match opt_arg(args, i, "mode") {
        Some(v) => Ok(vm.index_value(&v)? as u32),
        None => Ok(default),
    }
}

fn mkdir(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "mkdir", "path")?;
    crate::sandbox::check_path(&p.path, false, true)?;
    let mode = mode_arg(vm, &args, 1, 0o777)?;
    let c = CString::new(p.path.as_bytes()).map_err(|_| value_error("embedded null byte"))?;
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    if unsafe { libc::mkdir(c.as_ptr(), mode) } != 0 {
        return Err(os_err(&std::io::Error::last_os_error(), &p.path, None));
    }
    Ok(Value::None)
}

fn rmdir(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "rmdir", "path")?;
    crate::sandbox::check_path(&p.path, false, true)?;
    std::fs::remove_dir(&p.path).map_err(|e| os_err(&e, &p.path, None))?;
    Ok(Value::None)
}

fn remove(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "remove", "path")?;
    crate::sandbox::check_path(&p.path, false, true)?;
    let c = CString::new(p.path.as_bytes()).map_err(|_| value_error("embedded null byte"))?;
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    if unsafe { libc::unlink(c.as_ptr()) } != 0 {
        return Err(os_err(&std::io::Error::last_os_error(), &p.path, None));
    }
    Ok(Value::None)
}

fn rename(vm: &mut Vm, args: Args) -> PyResult {
    let a = path_of(vm, &args, 0, "rename", "src")?;
    let b = path_of(vm, &args, 1, "rename", "dst")?;
    crate::sandbox::check_path(&a.path, false, true)?;
    crate::sandbox::check_path(&b.path, false, true)?;
    std::fs::rename(&a.path, &b.path).map_err(|e| os_err(&e, &a.path, Some(&b.path)))?;
    Ok(Value::None)
}

fn symlink(vm: &mut Vm, args: Args) -> PyResult {
    let a = path_of(vm, &args, 0, "symlink", "src")?;
    let b = path_of(vm, &args, 1, "symlink", "dst")?;
    crate::sandbox::check_path(&b.path, false, true)?;
    std::os::unix::fs::symlink(&a.path, &b.path).map_err(|e| os_err(&e, &a.path, Some(&b.path)))?;
    Ok(Value::None)
}

fn link(vm: &mut Vm, args: Args) -> PyResult {
    let a = path_of(vm, &args, 0, "link", "src")?;
    let b = path_of(vm, &args, 1, "link", "dst")?;
    crate::sandbox::check_path(&a.path, true, true)?;
    crate::sandbox::check_path(&b.path, false, true)?;
    std::fs::hard_link(&a.path, &b.path).map_err(|e| os_err(&e, &a.path, Some(&b.path)))?;
    Ok(Value::None)
}

fn readlink(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "readlink", "path")?;
    crate::sandbox::check_path(&p.path, true, false)?;
    let t = std::fs::read_link(&p.path).map_err(|e| os_err(&e, &p.path, None))?;
    Ok(out_path(&t.to_string_lossy(), p.bytes))
}

/// `_os.stat(path, follow_symlinks)`: the fields of `os.stat_result`, in order.
fn stat(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "stat", "path")?;
    crate::sandbox::check_path(&p.path, true, false)?;
    let follow = match opt_arg(&args, 1, "follow_symlinks") {
        Some(v) => vm.truthy(&v)?,
        None => true,
    };
    let md = if follow { std::fs::metadata(&p.path) } else { std::fs::symlink_metadata(&p.path) };
    let md = md.map_err(|e| os_err(&e, &p.path, None))?;
    match args.pos.get(2) {
        Some(Value::Class(cls)) if cls.layout == Layout::Builtin => stat_result_of(vm, cls, stat_tuple(&md)),
        _ => Ok(stat_tuple(&md)),
    }
}

/// `_os.stat(path, follow, os.stat_result)`: the struct sequence made
/// here, as `stat_result(fields)` would make it from all its fields (the
/// first ten its items, the rest the `_extra` its properties read), with
/// no .aio code run for it.
fn stat_result_of(vm: &mut Vm, cls: &Rc<Class>, fields: Value) -> PyResult {
    let Value::Tuple(all) = &fields else { return Ok(fields) };
    let (items, extra) = all.items.split_at(10);
    let inst = Instance::new(cls.clone(), Payload::Builtin(std::cell::RefCell::new(Value::tuple(items.to_vec()))));
    vm.generic_setattr(&inst, cls, &aio_interp::intern::intern("_extra"), Value::tuple(extra.to_vec()))?;
    Ok(Value::Instance(inst))
}

fn stat_tuple(md: &std::fs::Metadata) -> Value {
    let i = |n: i64| Value::Int(n);
    let secs = |s: i64, ns: i64| Value::float(s as f64 + ns as f64 * 1e-9);
    let nanos = |s: i64, ns: i64| -> Value {
        let total = s as i128 * 1_000_000_000 + ns as i128;
        match i64::try_from(total) {
            Ok(v) => Value::Int(v),
            Err(_) => Value::BigInt(Rc::new(total.into())),
        }
    };
    Value::tuple(vec![
        i(md.mode() as i64),
        i(md.ino() as i64),
        i(md.dev() as i64),
        i(md.nlink() as i64),
        i(md.uid() as i64),
        i(md.gid() as i64),
        i(md.size() as i64),
        i(md.atime()),
        i(md.mtime()),
        i(md.ctime()),
        secs(md.atime(), md.atime_nsec()),
        secs(md.mtime(), md.mtime_nsec()),
        secs(md.ctime(), md.ctime_nsec()),
        nanos(md.atime(), md.atime_nsec()),
        nanos(md.mtime(), md.mtime_nsec()),
        nanos(md.ctime(), md.ctime_nsec()),
        i(md.blksize() as i64),
        i(md.blocks() as i64),
        i(md.rdev() as i64),
    ])
}

fn chmod(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "chmod", "path")?;
    crate::sandbox::check_path(&p.path, false, true)?;
    let mode = vm.index_value(arg(&args, 1, "mode")?)? as u32;
    std::fs::set_permissions(&p.path, std::fs::Permissions::from_mode(mode)).map_err(|e| os_err(&e, &p.path, None))?;
    Ok(Value::None)
}

fn access(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "access", "path")?;
    crate::sandbox::check_path(&p.path, true, false)?;
    let mode = vm.index_value(arg(&args, 1, "mode")?)? as i32;
    let c = CString::new(p.path.as_bytes()).map_err(|_| value_error("embedded null byte"))?;
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    Ok(Value::bool(unsafe { libc::access(c.as_ptr(), mode) } == 0))
}

fn utime(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "utime", "path")?;
    crate::sandbox::check_path(&p.path, false, true)?;
    let times = opt_arg(&args, 1, "times");
    let c = CString::new(p.path.as_bytes()).map_err(|_| value_error("embedded null byte"))?;
    let ts = match times {
        None => None,
        Some(t) => {
            let items = vm.collect(&t)?;
            if items.len() != 2 {
                return Err(type_error("utime: 'times' must be either a tuple of two ints or None"));
            }
            let mut out = [libc::timespec { tv_sec: 0, tv_nsec: 0 }; 2];
            for (k, v) in items.iter().enumerate() {
                let f = aio_interp::types::float::to_float(vm, v)?;
                out[k] = libc::timespec { tv_sec: f.floor() as libc::time_t, tv_nsec: ((f - f.floor()) * 1e9) as libc::c_long };
            }
            Some(out)
        }
    };
    let ptr = ts.as_ref().map(|t| t.as_ptr()).unwrap_or(std::ptr::null());
    // SAFETY: `c` is a NUL-terminated path; `ptr` is null or two timespecs.
    if unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), ptr, 0) } != 0 {
        return Err(os_err(&std::io::Error::last_os_error(), &p.path, None));
    }
    Ok(Value::None)
}

fn truncate(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "truncate", "path")?;
    crate::sandbox::check_path(&p.path, false, true)?;
    let n = vm.index_value(arg(&args, 1, "length")?)?;
    let f = std::fs::OpenOptions::new().write(true).open(&p.path).map_err(|e| os_err(&e, &p.path, None))?;
    f.set_len(n.max(0) as u64).map_err(|e| os_err(&e, &p.path, None))?;
    Ok(Value::None)
}

fn realpath(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "realpath", "path")?;
    crate::sandbox::check_path(&p.path, true, false)?;
    match std::fs::canonicalize(&p.path) {
        Ok(r) => Ok(out_path(&r.to_string_lossy(), p.bytes)),
        Err(_) => Ok(Value::None),
    }
}

fn environ_items(_vm: &mut Vm, _args: Args) -> PyResult {
    crate::sandbox::check_env(false)?;
    let items = std::env::vars_os()
        .map(|(k, v)| Value::tuple(vec![Value::string(k.to_string_lossy().into_owned()), Value::string(v.to_string_lossy().into_owned())]))
        .collect();
    Ok(Value::list(items))
}

fn env_str(v: &Value) -> PyResult<String> {
    match v {
        Value::Str(s) => Ok(s.as_str().to_string()),
        other => Err(type_error(format!("str expected, not {}", type_name(other)))),
    }
}

fn putenv(_vm: &mut Vm, args: Args) -> PyResult {
    crate::sandbox::check_env(true)?;
    let k = env_str(arg(&args, 0, "name")?)?;
    let v = env_str(arg(&args, 1, "value")?)?;
    if k.is_empty() || k.contains('=') {
        return Err(value_error("illegal environment variable name"));
    }
    if k.contains('\0') || v.contains('\0') {
        return Err(value_error("embedded null byte"));
    }
    std::env::set_var(k, v);
    Ok(Value::None)
}

fn unsetenv(_vm: &mut Vm, args: Args) -> PyResult {
    crate::sandbox::check_env(true)?;
    let k = env_str(arg(&args, 0, "name")?)?;
    if k.is_empty() || k.contains('=') {
        return Err(value_error("illegal environment variable name"));
    }
    std::env::remove_var(k);
    Ok(Value::None)
}

fn getpid(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::Int(std::process::id() as i64))
}

fn getppid(_vm: &mut Vm, _args: Args) -> PyResult {
    // SAFETY: getppid cannot fail.
    Ok(Value::Int(unsafe { libc::getppid() } as i64))
}

fn kill(vm: &mut Vm, args: Args) -> PyResult {
    let pid = vm.index_value(arg(&args, 0, "pid")?)?;
    let sig = vm.index_value(arg(&args, 1, "signal")?)?;
    // SAFETY: getpid cannot fail.
    let own = pid == i64::from(unsafe { libc::getpid() });
    if !own {
        crate::sandbox::check_signal(pid, sig)?;
    }
    if own && sig != 0 {
        // The program runs on a thread of its own, so a signal sent to the
        // process could be taken by another thread after kill returns.
        // Sent to this thread, it has been handled when pthread_kill returns.
        // SAFETY: pthread_kill on the calling thread with a plain integer.
        let rc = unsafe { libc::pthread_kill(libc::pthread_self(), sig as libc::c_int) };
        if rc != 0 {
            return Err(os_error_from_io(&std::io::Error::from_raw_os_error(rc)));
        }
    } else {
        // SAFETY: kill takes plain integers.
        if unsafe { libc::kill(pid as libc::pid_t, sig as libc::c_int) } != 0 {
            return Err(os_error_from_io(&std::io::Error::last_os_error()));
        }
    }
    // The signal has arrived: its handler runs now, as CPython runs it
    // before the next instruction.
    vm.check_interrupt()?;
    Ok(Value::None)
}

fn ids(_vm: &mut Vm, _args: Args) -> PyResult {
    // SAFETY: these calls cannot fail.
    let (u, g, eu, eg) = unsafe { (libc::getuid(), libc::getgid(), libc::geteuid(), libc::getegid()) };
    Ok(Value::tuple(vec![Value::Int(u as i64), Value::Int(g as i64), Value::Int(eu as i64), Value::Int(eg as i64)]))
}

fn umask(vm: &mut Vm, args: Args) -> PyResult {
    let m = vm.index_value(arg(&args, 0, "mask")?)?;
    // SAFETY: umask cannot fail.
    Ok(Value::Int(unsafe { libc::umask(m as libc::mode_t) } as i64))
}

fn urandom(vm: &mut Vm, args: Args) -> PyResult {
    let n = vm.index_value(arg(&args, 0, "size")?)?;
    if n < 0 {
        return Err(value_error("negative argument not allowed"));
    }
    let mut buf = vec![0u8; n as usize];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf)).map_err(|e| os_error_from_io(&e))?;
    Ok(Value::Bytes(Rc::new(PyBytes { b: buf.into_boxed_slice() })))
}

fn cpu_count(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(std::thread::available_parallelism().map(|n| Value::Int(n.get() as i64)).unwrap_or(Value::None))
}

fn terminal_size(vm: &mut Vm, args: Args) -> PyResult {
    let fd = match args.pos.first() {
        Some(v) => vm.index_value(v)? as i32,
        None => 1,
    };
    // SAFETY: TIOCGWINSZ fills a winsize; an invalid descriptor is an error.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } != 0 {
        return Err(os_error_from_io(&std::io::Error::last_os_error()));
    }
    Ok(Value::tuple(vec![Value::Int(ws.ws_col as i64), Value::Int(ws.ws_row as i64)]))
}

fn os_strerror(vm: &mut Vm, args: Args) -> PyResult {
    let n = vm.index_value(arg(&args, 0, "code")?)?;
    Ok(Value::string(strerror(n as i32)))
}

fn isatty(vm: &mut Vm, args: Args) -> PyResult {
    let fd = vm.index_value(arg(&args, 0, "fd")?)?;
    // SAFETY: isatty only inspects the descriptor.
    Ok(Value::bool(unsafe { libc::isatty(fd as i32) } == 1))
}

fn uname(_vm: &mut Vm, _args: Args) -> PyResult {
    // SAFETY: uname fills the struct it is given.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return Err(os_error_from_io(&std::io::Error::last_os_error()));
    }
    let field = |f: &[libc::c_char]| {
        // SAFETY: uname's fields are NUL-terminated.
        Value::string(unsafe { std::ffi::CStr::from_ptr(f.as_ptr()) }.to_string_lossy().into_owned())
    };
    Ok(Value::tuple(vec![field(&u.sysname), field(&u.nodename), field(&u.release), field(&u.version), field(&u.machine)]))
}

fn times(_vm: &mut Vm, _args: Args) -> PyResult {
    // SAFETY: times fills the struct it is given; sysconf reads a constant.
    let mut t: libc::tms = unsafe { std::mem::zeroed() };
    let elapsed = unsafe { libc::times(&mut t) };
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let f = |x: libc::clock_t| Value::float(x as f64 / hz);
    Ok(Value::tuple(vec![f(t.tms_utime), f(t.tms_stime), f(t.tms_cutime), f(t.tms_cstime), f(elapsed)]))
}

// Descriptor-level I/O: os.open/read/write/close, for programs that use them.

fn fd_open(vm: &mut Vm, args: Args) -> PyResult {
    let p = path_of(vm, &args, 0, "open", "path")?;
    let flags = vm.index_value(arg(&args, 1, "flags")?)? as i32;
    let access = flags & libc::O_ACCMODE;
    let writes = access != libc::O_RDONLY || flags & (libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND) != 0;
    crate::sandbox::check_path(&p.path, access != libc::O_WRONLY, writes)?;
    let mode = mode_arg(vm, &args, 2, 0o777)?;
    let c = CString::new(p.path.as_bytes()).map_err(|_| value_error("embedded null byte"))?;
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC, mode) };
    if fd < 0 {
        return Err(os_err(&std::io::Error::last_os_error(), &p.path, None));
    }
    Ok(Value::Int(fd as i64))
}

fn fd_close(vm: &mut Vm, args: Args) -> PyResult {
    let fd = vm.index_value(arg(&args, 0, "fd")?)?;
    // SAFETY: closing a descriptor the program names; a bad one is EBADF.
    if unsafe { libc::close(fd as i32) } != 0 {
        return Err(os_error_from_io(&std::io::Error::last_os_error()));
    }
    Ok(Value::None)
}

fn fd_read(vm: &mut Vm, args: Args) -> PyResult {
    let fd = vm.index_value(arg(&args, 0, "fd")?)?;
    let n = vm.index_value(arg(&args, 1, "length")?)?.max(0) as usize;
    vm.host.flush();
    let mut buf = vec![0u8; n];
    // SAFETY: `buf` has room for `n` bytes.
    let got = unsafe { libc::read(fd as i32, buf.as_mut_ptr() as *mut libc::c_void, n) };
    if got < 0 {
        return Err(os_error_from_io(&std::io::Error::last_os_error()));
    }
    buf.truncate(got as usize);
    Ok(Value::Bytes(Rc::new(PyBytes { b: buf.into_boxed_slice() })))
}

fn fd_write(vm: &mut Vm, args: Args) -> PyResult {
    let fd = vm.index_value(arg(&args, 0, "fd")?)?;
    let data = match arg(&args, 1, "data")? {
        Value::Bytes(b) => b.b.to_vec(),
        other if aio_interp::types::bytes::bytes_like(other).is_some() => {
            aio_interp::types::bytes::bytes_like(other).map(|b| b.into_vec()).unwrap_or_default()
        }
        other => return Err(type_error(format!("a bytes-like object is required, not '{}'", type_name(other)))),
    };
    if fd == 1 || fd == 2 {
        vm.host.flush();
    }
    // SAFETY: `data` holds `data.len()` bytes.
    let n = unsafe { libc::write(fd as i32, data.as_ptr() as *const libc::c_void, data.len()) };
    if n < 0 {
        return Err(os_error_from_io(&std::io::Error::last_os_error()));
    }
    Ok(Value::Int(n as i64))
}

fn fspath_fn(vm: &mut Vm, args: Args) -> PyResult {
    let v = arg(&args, 0, "path")?.clone();
    match &v {
        Value::Str(_) | Value::Bytes(_) => Ok(v),
        Value::Instance(_) if vm.getattr_opt(&v, "__fspath__")?.is_some() => {
            let r = vm.call_method(&v, "__fspath__", vec![])?;
            if matches!(r, Value::Str(_) | Value::Bytes(_)) {
                Ok(r)
            } else {
                Err(type_error(format!("expected {}.__fspath__() to return str or bytes, not {}", type_name(&v), type_name(&r))))
            }
        }
        _ => Err(type_error(format!("expected str, bytes or os.PathLike object, not {}", type_name(&v)))),
    }
}

/// `system(command)`: run `command` with `/bin/sh -c`, sharing this
/// process's standard streams, and wait for it. The result is the wait
/// status (the exit code times 256, or the signal number), as `os.system`
/// gives it. What the program printed is not flushed first, as in CPython.
fn system(vm: &mut Vm, args: Args) -> PyResult {
    use std::os::unix::process::ExitStatusExt;
    // A file-system path converter, with os.fspath's message for a wrong type.
    let command = fspath_fn(vm, Args::new([arg(&args, 0, "command")?.clone()]))?;
    let command = fspath(vm, &command, "system", "command")?.path;
    crate::sandbox::check_run("/bin/sh")?;
    let status = std::process::Command::new("/bin/sh").arg("-c").arg(&command).status().map_err(|e| os_err(&e, "/bin/sh", None))?;
    Ok(Value::Int(status.into_raw() as i64))
}

/// Set in a child made by `fork()`: the command line then ends the
/// process itself when the program finishes, as the thread that waited for
/// the program's thread exists only in the parent.
static FORKED_CHILD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process is a child made by `os.fork()`.
pub fn in_forked_child() -> bool {
    FORKED_CHILD.load(std::sync::atomic::Ordering::SeqCst)
}

fn last_os_err() -> PyErr {
    os_error_from_io(&std::io::Error::last_os_error())
}

/// `fork()`: 0 in the child, the child's pid in the parent. What the
/// program printed and has not flushed yet is in both, as in CPython.
fn fork(_vm: &mut Vm, _args: Args) -> PyResult {
    crate::sandbox::check_run("fork")?;
    // SAFETY: the child goes on running this thread alone; the other
    // threads (the waiting main thread, helpers) are not needed by it.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(last_os_err());
    }
    if pid == 0 {
        FORKED_CHILD.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    Ok(Value::Int(pid as i64))
}

/// `waitpid(pid, options)`: `(pid, status)`, retried when a signal interrupts it.
fn waitpid(vm: &mut Vm, args: Args) -> PyResult {
    let pid = vm.index_value(arg(&args, 0, "pid")?)? as libc::pid_t;
    let options = vm.index_value(arg(&args, 1, "options")?)? as libc::c_int;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid writes the status into a local.
        let r = unsafe { libc::waitpid(pid, &mut status, options) };
        if r >= 0 {
            return Ok(Value::tuple(vec![Value::Int(r as i64), Value::Int(if r == 0 { 0 } else { status as i64 })]));
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(os_error_from_io(&e));
        }
        vm.check_interrupt()?;
    }
}

/// `pipe()`: `(read_fd, write_fd)`, not inherited by spawned programs.
fn pipe(_vm: &mut Vm, _args: Args) -> PyResult {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills the two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(last_os_err());
    }
    Ok(Value::tuple(vec![Value::Int(fds[0] as i64), Value::Int(fds[1] as i64)]))
}

/// `dup(fd)`: a new descriptor for the same file, not inherited.
fn dup(vm: &mut Vm, args: Args) -> PyResult {
    let fd = vm.index_value(arg(&args, 0, "fd")?)? as libc::c_int;
    // SAFETY: F_DUPFD_CLOEXEC on a plain integer; a bad one is EBADF.
    let r = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if r < 0 {
        return Err(last_os_err());
    }
    Ok(Value::Int(r as i64))
}

/// `set_blocking(fd, blocking)`: clear or set `O_NONBLOCK`.
fn set_blocking(vm: &mut Vm, args: Args) -> PyResult {
    let fd = vm.index_value(arg(&args, 0, "fd")?)? as libc::c_int;
    let blocking = vm.truthy(arg(&args, 1, "blocking")?)?;
    // SAFETY: F_GETFL/F_SETFL on a plain integer; a bad one is EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(last_os_err());
    }
    let new = if blocking { flags & !libc::O_NONBLOCK } else { flags | libc::O_NONBLOCK };
    // SAFETY: as above.
    if new != flags && unsafe { libc::fcntl(fd, libc::F_SETFL, new) } < 0 {
        return Err(last_os_err());
    }
    Ok(Value::None)
}

/// `get_blocking(fd)`: whether `O_NONBLOCK` is clear.
fn get_blocking(vm: &mut Vm, args: Args) -> PyResult {
    let fd = vm.index_value(arg(&args, 0, "fd")?)? as libc::c_int;
    // SAFETY: F_GETFL on a plain integer; a bad one is EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(last_os_err());
    }
    Ok(Value::bool(flags & libc::O_NONBLOCK == 0))
}

/// `_real_clock()`: seconds on the machine's monotonic clock, which
/// `--virtual-time` does not replace: waits on other processes run in real time.
fn real_clock(_vm: &mut Vm, _args: Args) -> PyResult {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    Ok(Value::float(START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64()))
}

/// `_real_sleep(seconds)`: sleep on the machine's clock (see `_real_clock`).
fn real_sleep(vm: &mut Vm, args: Args) -> PyResult {
    let secs = aio_interp::types::float::to_float(vm, arg(&args, 0, "seconds")?)?;
    if secs > 0.0 && secs.is_finite() {
        std::thread::sleep(std::time::Duration::from_secs_f64(secs));
    }
    vm.check_interrupt()?;
    Ok(Value::None)
}

/// `_exit(n)`: end the process now, with no cleanup and no flushing.
fn exit_now(vm: &mut Vm, args: Args) -> PyResult {
    let n = vm.index_value(arg(&args, 0, "status")?)?;
    // SAFETY: _exit ends the process; nothing runs after it.
    unsafe { libc::_exit(n as libc::c_int) }
}

/// Build the `_os` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] = &[
        ("system", system),
        ("fork", fork),
        ("waitpid", waitpid),
        ("pipe", pipe),
        ("dup", dup),
        ("_exit", exit_now),
        ("set_blocking", set_blocking),
        ("_real_clock", real_clock),
        ("_real_sleep", real_sleep),
        ("get_blocking", get_blocking),
        ("getcwd", getcwd),
        ("chdir", chdir),
        ("listdir", listdir),
        ("scandir_names", scandir_names),
        ("mkdir", mkdir),
        ("rmdir", rmdir),
        ("remove", remove),
        ("unlink", remove),
        ("rename", rename),
        ("replace", rename),
        ("symlink", symlink),
        ("link", link),
        ("readlink", readlink),
        ("stat", stat),
        ("chmod", chmod),
        ("access", access),
        ("utime", utime),
        ("truncate", truncate),
        ("realpath", realpath),
        ("environ_items", environ_items),
        ("putenv", putenv),
        ("unsetenv", unsetenv),
        ("getpid", getpid),
        ("getppid", getppid),
        ("kill", kill),
        ("ids", ids),
        ("umask", umask),
        ("urandom", urandom),
        ("cpu_count", cpu_count),
        ("terminal_size", terminal_size),
        ("strerror", os_strerror),
        ("isatty", isatty),
        ("uname", uname),
        ("times", times),
        ("open", fd_open),
        ("close", fd_close),
        ("read", fd_read),
        ("write", fd_write),
        ("fspath", fspath_fn),
    ];
    let mut entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    let consts: &[(&str, i64)] = &[
        ("O_RDONLY", libc::O_RDONLY as i64),
        ("O_WRONLY", libc::O_WRONLY as i64),
        ("O_RDWR", libc::O_RDWR as i64),
        ("O_APPEND", libc::O_APPEND as i64),
        ("O_CREAT", libc::O_CREAT as i64),
        ("O_EXCL", libc::O_EXCL as i64),
        ("O_TRUNC", libc::O_TRUNC as i64),
        ("O_NONBLOCK", libc::O_NONBLOCK as i64),
        ("O_CLOEXEC", libc::O_CLOEXEC as i64),
        ("F_OK", libc::F_OK as i64),
        ("R_OK", libc::R_OK as i64),
        ("W_OK", libc::W_OK as i64),
        ("X_OK", libc::X_OK as i64),
        ("WNOHANG", libc::WNOHANG as i64),
    ];
    for (n, v) in consts {
        entries.push((n, Value::Int(*v)));
    }
    Ok(vm.make_native_module("_os", entries))
}
