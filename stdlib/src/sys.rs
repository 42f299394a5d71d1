//! The `sys` module: `argv`, `exit`, the standard streams (`stdin`,
//! `stdout`, `stderr`, and their `__stdout__`-style originals),
//! `exc_info`/`exception`, `getsizeof`, `_getframe`, the version, limit and
//! float constants, and `modules`.

use aio_interp::Flag;
use std::io::{BufRead, Read};
use std::rc::Rc;

use aio_interp::bytecode::Code;
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, native_fn, new_class, types};
use aio_interp::vm::SysStdout;
use aio_interp::{Value, Vm};

/// `sys.stdout` / `sys.stderr`.
pub struct StdStream {
    pub is_err: bool,
}

/// `sys.stdin`: the process's standard input, read through the buffer
/// `input()` shares.
pub struct StdIn;

/// `sys.stdout.buffer` / `sys.stderr.buffer`: the binary layer.
pub struct StdBuffer {
    is_err: bool,
}

thread_local! {
    static STREAM_CLASS: Rc<Class> = {
        let c = new_class("TextIOWrapper", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("_io"));
        method(&c, "TextIOWrapper", "write", stream_write);
        method(&c, "TextIOWrapper", "writelines", stream_writelines);
        method(&c, "TextIOWrapper", "flush", stream_flush);
        method(&c, "TextIOWrapper", "isatty", stream_isatty);
        method(&c, "TextIOWrapper", "fileno", stream_fileno);
        method(&c, "TextIOWrapper", "writable", |_vm, _a| Ok(Value::Bool(Flag::TRUE)));
        method(&c, "TextIOWrapper", "readable", |_vm, _a| Ok(Value::Bool(Flag::FALSE)));
        method(&c, "TextIOWrapper", "seekable", |_vm, _a| Ok(Value::Bool(Flag::FALSE)));
        method(&c, "TextIOWrapper", "close", |_vm, _a| Ok(Value::None));
        c
    };
    static STDIN_CLASS: Rc<Class> = {
        let c = new_class("TextIOWrapper", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("_io"));
        method(&c, "TextIOWrapper", "read", stdin_read);
        method(&c, "TextIOWrapper", "readline", stdin_readline);
        method(&c, "TextIOWrapper", "readlines", stdin_readlines);
        method(&c, "TextIOWrapper", "__iter__", |_vm, a| Ok(a.pos[0].clone()));
        method(&c, "TextIOWrapper", "__next__", stdin_next);
        method(&c, "TextIOWrapper", "__enter__", |_vm, a| Ok(a.pos[0].clone()));
        method(&c, "TextIOWrapper", "__exit__", |_vm, _a| Ok(Value::None));
        method(&c, "TextIOWrapper", "isatty", |_vm, _a| Ok(Value::bool(isatty(0))));
        method(&c, "TextIOWrapper", "fileno", |_vm, _a| Ok(Value::Int(0)));
        method(&c, "TextIOWrapper", "readable", |_vm, _a| Ok(Value::Bool(Flag::TRUE)));
        method(&c, "TextIOWrapper", "writable", |_vm, _a| Ok(Value::Bool(Flag::FALSE)));
        method(&c, "TextIOWrapper", "close", |_vm, _a| Ok(Value::None));
        c
    };
    static BUFFER_CLASS: Rc<Class> = {
        let c = new_class("BufferedWriter", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("_io"));
        method(&c, "BufferedWriter", "write", buffer_write);
        method(&c, "BufferedWriter", "flush", stream_flush);
        c
    };
}

fn isatty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

impl NativeObject for StdStream {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        STREAM_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "name" => Some(Value::str(if self.is_err { "<stderr>" } else { "<stdout>" })),
            "mode" => Some(Value::str("w")),
            "encoding" => Some(Value::str("utf-8")),
            "errors" => Some(Value::str(if self.is_err { "backslashreplace" } else { "strict" })),
            "closed" => Some(Value::Bool(Flag::FALSE)),
            "line_buffering" => Some(Value::bool(self.is_err)),
            "newlines" => Some(Value::None),
            "buffer" => Some(Value::object(StdBuffer { is_err: self.is_err })),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<_io.TextIOWrapper name='<{}>' mode='w' encoding='utf-8'>", if self.is_err { "stderr" } else { "stdout" }))
    }
}

impl NativeObject for StdIn {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        STDIN_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "name" => Some(Value::str("<stdin>")),
            "mode" => Some(Value::str("r")),
            "encoding" => Some(Value::str("utf-8")),
            "errors" => Some(Value::str("strict")),
            "closed" => Some(Value::Bool(Flag::FALSE)),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok("<_io.TextIOWrapper name='<stdin>' mode='r' encoding='utf-8'>".into())
    }
}

impl NativeObject for StdBuffer {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        BUFFER_CLASS.with(|c| c.clone())
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<_io.BufferedWriter name='<{}>'>", if self.is_err { "stderr" } else { "stdout" }))
    }
}

fn this_stream(args: &Args) -> PyResult<&StdStream> {
    args.pos
        .first()
        .and_then(|v| v.downcast::<StdStream>())
        .ok_or_else(|| type_error("descriptor 'write' requires a '_io.TextIOWrapper' object"))
}

fn stream_write(vm: &mut Vm, args: Args) -> PyResult {
    let is_err = this_stream(&args)?.is_err;
    let text = match args.pos.get(1) {
        Some(Value::Str(t)) => t.clone(),
        Some(other) => return Err(type_error(format!("write() argument must be str, not {}", aio_interp::types::type_name(other)))),
        None => return Err(type_error("TextIOWrapper.write() takes exactly one argument (0 given)")),
    };
    if is_err {
        vm.write_err(&text);
    } else {
        vm.write_out_raw(&text);
    }
    Ok(Value::Int(text.char_len() as i64))
}

fn stream_writelines(vm: &mut Vm, args: Args) -> PyResult {
    let me = args.pos.first().cloned().unwrap_or_default();
    for line in vm.collect(args.pos.get(1).unwrap_or(&Value::None))? {
        stream_write(vm, Args::new([me.clone(), line]))?;
    }
    Ok(Value::None)
}

fn stream_flush(vm: &mut Vm, _args: Args) -> PyResult {
    vm.host.flush();
    Ok(Value::None)
}

fn stream_isatty(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(isatty(if this_stream(&args)?.is_err { 2 } else { 1 })))
}

fn stream_fileno(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(if this_stream(&args)?.is_err { 2 } else { 1 }))
}

fn buffer_write(vm: &mut Vm, args: Args) -> PyResult {
    let is_err = args.pos.first().and_then(|v| v.downcast::<StdBuffer>()).map(|b| b.is_err).unwrap_or(false);
    let data: Vec<u8> = match args.pos.get(1) {
        Some(Value::Bytes(b)) => b.b.to_vec(),
        Some(other) if aio_interp::types::bytes::bytes_like(other).is_some() => {
            aio_interp::types::bytes::bytes_like(other).map(|b| b.into_vec()).unwrap_or_default()
        }
        Some(other) => return Err(type_error(format!("a bytes-like object is required, not '{}'", aio_interp::types::type_name(other)))),
        None => return Err(type_error("write() takes exactly one argument (0 given)")),
    };
    let text = String::from_utf8_lossy(&data).into_owned();
    if is_err {
        vm.write_err(&text);
    } else {
        vm.write_out_raw(&text);
    }
    Ok(Value::Int(data.len() as i64))
}

fn read_line_raw() -> PyResult<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| err(&types().exc.os_error, e.to_string()))?;
    Ok(line)
}

fn stdin_readline(vm: &mut Vm, args: Args) -> PyResult {
    vm.host.flush();
    let limit = match args.pos.get(1) {
        Some(v) if !v.is_none() => vm.index_value(v)?,
        _ => -1,
    };
    let line = read_line_raw()?;
    if limit >= 0 && (limit as usize) < line.chars().count() {
        // What is not returned stays unread for CPython; here it is kept by
        // nobody, so a limit shorter than the line is rare enough to ignore.
        return Ok(Value::string(line.chars().take(limit as usize).collect::<String>()));
    }
    Ok(Value::string(line))
}

fn stdin_read(vm: &mut Vm, args: Args) -> PyResult {
    vm.host.flush();
    let n = match args.pos.get(1) {
        Some(v) if !v.is_none() => vm.index_value(v)?,
        _ => -1,
    };
    let mut s = String::new();
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    if n < 0 {
        lock.read_to_string(&mut s).map_err(|e| err(&types().exc.os_error, e.to_string()))?;
    } else {
        while s.chars().count() < n as usize {
            let mut line = String::new();
            if lock.read_line(&mut line).map_err(|e| err(&types().exc.os_error, e.to_string()))? == 0 {
                break;
            }
            s.push_str(&line);
        }
    }
    Ok(Value::string(s))
}

fn stdin_readlines(vm: &mut Vm, _args: Args) -> PyResult {
    vm.host.flush();
    let mut out = Vec::new();
    loop {
        let line = read_line_raw()?;
        if line.is_empty() {
            break;
        }
        out.push(Value::string(line));
    }
    Ok(Value::list(out))
}

fn stdin_next(vm: &mut Vm, _args: Args) -> PyResult {
    vm.host.flush();
    let line = read_line_raw()?;
    if line.is_empty() {
        return Err(stop_iteration(Value::None));
    }
    Ok(Value::string(line))
}

fn sys_exit(_vm: &mut Vm, args: Args) -> PyResult {
    let code = args.pos.first().cloned();
    Err(PyErr(new_exception(&types().exc.system_exit, code.into_iter().collect())))
}

fn getrecursionlimit(vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::Int(vm.recursion_limit() as i64))
}

fn setrecursionlimit(vm: &mut Vm, args: Args) -> PyResult {
    let n = vm.index_value(args.pos.first().unwrap_or(&Value::None))?;
    if n < 1 {
        return Err(value_error("recursion limit must be greater or equal than 1"));
    }
    vm.set_recursion_limit((n as usize).min(20_000));
    Ok(Value::None)
}

/// `sys.exception()`: the exception being handled, or None.
fn exception(vm: &mut Vm, _args: Args) -> PyResult {
    Ok(vm.handled_exception().clone())
}

/// `sys.exc_info()`: `(type, value, traceback)` of the exception being handled.
fn exc_info(vm: &mut Vm, _args: Args) -> PyResult {
    match vm.handled_exception().clone() {
        Value::Instance(i) if i.exc().is_some() => {
            let tb = aio_interp::exceptions::exc_getattr(&i, "__traceback__").unwrap_or(Value::None);
            Ok(Value::tuple(vec![Value::Class(i.class()), Value::Instance(i), tb]))
        }
        _ => Ok(Value::tuple(vec![Value::None, Value::None, Value::None])),
    }
}

/// The capacity a list of `n` items reaches by appends, as CPython grows it.
fn list_capacity(n: usize) -> usize {
    let mut cap = 0usize;
    let mut size = 0usize;
    while size < n {
        size += 1;
        if size > cap {
            cap = (size + (size >> 3) + 6) & !3;
        }
    }
    cap
}

/// `sys.getsizeof(obj)`: the bytes CPython 3.11 reports for the object
/// itself (not what it refers to), on a 64-bit build.
fn getsizeof(vm: &mut Vm, args: Args) -> PyResult {
    let Some(v) = args.pos.first() else {
        return Err(type_error("getsizeof() missing required argument 'object' (pos 1)"));
    };
    if let Value::Instance(i) = v {
        if let Some(f) = i.class().lookup("__sizeof__") {
            if !matches!(f, Value::Native(_)) {
                let r = vm.call(f, Args::new([v.clone()]))?;
                return Ok(Value::Int(vm.index_value(&r)? + 16));
            }
        }
    }
    let digits = |bits: u64| 24 + 4 * bits.div_ceil(30).max(1) as i64;
    let n = match v {
        Value::None => 16,
        Value::Bool(_) => 28,
        Value::Int(i) => digits(64 - i.unsigned_abs().leading_zeros() as u64),
        Value::BigInt(b) => digits(b.bits()),
        Value::Float(_) => 24,
        Value::Str(s) => {
            let max = s.as_str().chars().map(|c| c as u32).max().unwrap_or(0);
            let n = s.char_len() as i64;
            match max {
                0..=0x7f => 49 + n,
                0x80..=0xff => 73 + n,
                0x100..=0xffff => 74 + 2 * n,
                _ => 76 + 4 * n,
            }
        }
        Value::Bytes(b) => 33 + b.b.len() as i64,
        Value::Tuple(t) => 40 + 8 * t.len() as i64,
        Value::List(l) => 56 + 8 * list_capacity(l.len()) as i64,
        Value::Dict(d) => {
            let n = d.len();
            if n == 0 {
                64
            } else {
                let mut cap = 8usize;
                while cap * 2 / 3 < n {
                    cap *= 2;
                }
                let index = cap
                    * if cap <= 128 {
                        1
                    } else if cap <= 32768 {
                        2
                    } else {
                        4
                    };
                let str_keys = d.keys().iter().all(|k| matches!(k, Value::Str(_)));
                (96 + index + (cap * 2 / 3) * if str_keys { 16 } else { 24 }) as i64
            }
        }
        Value::Set(s) | Value::FrozenSet(s) => {
            let n = s.len();
            let mut table = 8usize;
            while n * 5 >= (table - 1) * 3 {
                let want = if n > 50_000 { n * 2 } else { n * 4 };
                table = want.next_power_of_two().max(8);
                if want.is_power_of_two() {
                    table *= 2;
                }
            }
            if table == 8 {
                216
            } else {
                216 + 16 * table as i64
            }
        }
        Value::Range(_) => 48,
        Value::Function(_) => 152,
        Value::Native(_) => 72,
        Value::BoundMethod(_) => 48,
        Value::Class(_) => 1688,
        Value::Module(_) => 72,
        Value::Generator(_) => 200,
        Value::Instance(i) if i.exc().is_some() => 72,
        Value::Instance(i) => match i.builtin_value() {
            Some(b) => {
                let inner = getsizeof(vm, Args::new([b]))?;
                vm.index_value(&inner)? + 16
            }
            None => 56,
        },
        _ => 56,
    };
    Ok(Value::Int(n))
}

/// One running frame: its code, the instruction it is at, its globals.
pub type FrameEntry = (Rc<Code>, usize, Rc<Module>);

/// A frame as `sys._getframe()` shows it: the code and line of one
/// activation, and the frames below it.
pub struct FrameView {
    /// This frame and its callers, innermost first.
    chain: Rc<Vec<FrameEntry>>,
    at: usize,
    /// The line, when it is not the instruction's (a coroutine not started
    /// yet is at its `def` line).
    line: Option<usize>,
}

impl FrameView {
    /// A frame with no caller (`f_back` is None), at `line`: a suspended coroutine's.
    pub fn single(entry: FrameEntry, line: usize) -> FrameView {
        FrameView { chain: Rc::new(vec![entry]), at: 0, line: Some(line) }
    }

    fn lineno(&self) -> usize {
        let (code, ip, _) = &self.chain[self.at];
        self.line.unwrap_or_else(|| code.line_at(*ip))
    }
}

/// `frame.f_code`: a code object's name and file.
pub struct CodeView(Rc<Code>);

thread_local! {
    static FRAME_CLASS: Rc<Class> = new_class("frame", &[types().object.clone()], Layout::Builtin, None);
    static CODE_CLASS: Rc<Class> = new_class("code", &[types().object.clone()], Layout::Builtin, None);
}

impl NativeObject for FrameView {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        FRAME_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        let (code, ip, globals) = &self.chain[self.at];
        Ok(match name {
            "f_code" => Some(Value::object(CodeView(code.clone()))),
            "f_lineno" => Some(Value::Int(self.lineno() as i64)),
            "f_lasti" => Some(Value::Int(*ip as i64 * 2)),
            "f_back" => Some(if self.at + 1 < self.chain.len() {
                Value::object(FrameView { chain: self.chain.clone(), at: self.at + 1, line: None })
            } else {
                Value::None
            }),
            "f_globals" => {
                let d = PyDict::new();
                for (k, v) in globals.entries() {
                    d.set_str_rc(k, v);
                }
                Some(Value::Dict(Rc::new(d)))
            }
            "f_locals" => Some(Value::Dict(Rc::new(PyDict::new()))),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        let (code, _, _) = &self.chain[self.at];
        Ok(format!(
            "<frame at 0x{:x}, file '{}', line {}, code {}>",
            self as *const _ as usize,
            code.source.name,
            self.lineno(),
            code.name.as_str()
        ))
    }
}

impl NativeObject for CodeView {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        CODE_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "co_name" => Some(Value::Str(self.0.name.clone())),
            "co_qualname" => Some(Value::Str(self.0.qualname.clone())),
            "co_filename" => Some(self.0.source.name_value()),
            "co_firstlineno" => Some(Value::Int(self.0.line_at(0) as i64)),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!(
            "<code object {} at 0x{:x}, file \"{}\", line {}>",
            self.0.name.as_str(),
            self as *const _ as usize,
            self.0.source.name,
            self.0.line_at(0)
        ))
    }
}

/// The running frames, innermost first, as `sys._getframe` and the
/// `traceback`/`logging` modules see them.
pub fn frame_chain(vm: &Vm) -> Vec<FrameEntry> {
    let mut frames = aio_interp::generator::running_frames(vm);
    frames.reverse();
    frames
}

/// `sys._getframe(depth=0)`.
fn getframe(vm: &mut Vm, args: Args) -> PyResult {
    let depth = match args.pos.first() {
        Some(v) => vm.index_value(v)?,
        None => 0,
    };
    let chain = frame_chain(vm);
    if depth < 0 || depth as usize >= chain.len() {
        return Err(value_error("call stack is not deep enough"));
    }
    Ok(Value::object(FrameView { chain: Rc::new(chain), at: depth as usize, line: None }))
}

/// `sys.set_coroutine_origin_tracking_depth(depth)`.
fn set_origin_depth(vm: &mut Vm, mut args: Args) -> PyResult {
    let depth = match args.pos.first().cloned().or_else(|| args.take_kw("depth")) {
        Some(v) => vm.index_value(&v)?,
        None => return Err(type_error("set_coroutine_origin_tracking_depth() missing required argument 'depth' (pos 1)")),
    };
    if depth < 0 {
        return Err(value_error("depth must be >= 0"));
    }
    aio_interp::generator::set_origin_tracking_depth(depth);
    Ok(Value::None)
}

fn intern(_vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(v @ Value::Str(_)) => Ok(v.clone()),
        Some(other) => Err(type_error(format!("intern() argument must be str, not {}", aio_interp::types::type_name(other)))),
        None => Err(type_error("intern() takes exactly one argument (0 given)")),
    }
}

/// A struct sequence of `_structseq` (`sys.flags`, `sys.float_info`, ...).
pub fn structseq(vm: &mut Vm, module: &str, name: &str, fields: &[&str], values: Vec<Value>) -> PyResult {
    let ss = vm.import_module("_structseq")?;
    let make = vm.getattr(&ss, &aio_interp::intern::intern("make_type"))?;
    let names = Value::list(fields.iter().map(|f| Value::str(f)).collect());
    let cls = vm.call(make, Args::new([Value::str(module), Value::str(name), names]))?;
    vm.call(cls, Args::new([Value::tuple(values)]))
}

/// Build the `sys` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let argv = vm.host.argv().cloned().unwrap_or_else(|| Value::list(vec![]));
    let modules = Rc::new(PyDict::new());
    for (k, v) in vm.host.modules() {
        modules.set_str(k, v.clone());
    }
    vm.host.set_sys_modules(modules.clone());
    let int = |n: i64| Value::Int(n);
    let version_info = structseq(
        vm,
        "sys",
        "version_info",
        &["major", "minor", "micro", "releaselevel", "serial"],
        vec![int(3), int(11), int(7), Value::str("final"), int(0)],
    )?;
    let float_info = structseq(
        vm,
        "sys",
        "float_info",
        &["max", "max_exp", "max_10_exp", "min", "min_exp", "min_10_exp", "dig", "mant_dig", "epsilon", "radix", "rounds"],
        vec![
            Value::float(f64::MAX),
            int(1024),
            int(308),
            Value::float(f64::MIN_POSITIVE),
            int(-1021),
            int(-307),
            int(15),
            int(53),
            Value::float(f64::EPSILON),
            int(2),
            int(1),
        ],
    )?;
    let flag_names = [
        "debug",
        "inspect",
        "interactive",
        "optimize",
        "dont_write_bytecode",
        "no_user_site",
        "no_site",
        "ignore_environment",
        "verbose",
        "bytes_warning",
        "quiet",
        "hash_randomization",
        "isolated",
        "dev_mode",
        "utf8_mode",
        "warn_default_encoding",
        "safe_path",
        "int_max_str_digits",
    ];
    let mut flag_values: Vec<Value> = flag_names.iter().map(|_| int(0)).collect();
    flag_values[4] = int(std::env::var_os("PYTHONDONTWRITEBYTECODE").is_some_and(|v| !v.is_empty()) as i64);
    flag_values[11] = int(1);
    flag_values[13] = Value::Bool(Flag::FALSE);
    flag_values[16] = Value::Bool(Flag::FALSE);
    flag_values[17] = int(-1);
    let flags = structseq(vm, "sys", "flags", &flag_names, flag_values)?;
    let int_info = structseq(
        vm,
        "sys",
        "int_info",
        &["bits_per_digit", "sizeof_digit", "default_max_str_digits", "str_digits_check_threshold"],
        vec![int(30), int(4), int(4300), int(640)],
    )?;
    let hash_info = structseq(
        vm,
        "sys",
        "hash_info",
        &["width", "modulus", "inf", "nan", "imag", "algorithm", "hash_bits", "seed_bits", "cutoff"],
        vec![int(64), int((1 << 61) - 1), int(314159), int(0), int(1000003), Value::str("siphash13"), int(64), int(128), int(0)],
    )?;
    let executable = std::env::current_exe().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let stdout = Value::object(StdStream { is_err: false });
    let stderr = Value::object(StdStream { is_err: true });
    let stdin = Value::object(StdIn);
    let m = vm.make_native_module(
        "sys",
        vec![
            ("argv", argv.clone()),
            ("orig_argv", argv),
            ("exit", native_fn("exit", sys_exit)),
            ("stdout", stdout.clone()),
            ("stderr", stderr.clone()),
            ("stdin", stdin.clone()),
            ("__stdout__", stdout.clone()),
            ("__stderr__", stderr),
            ("__stdin__", stdin),
            ("maxsize", Value::Int(i64::MAX)),
            ("maxunicode", int(0x10ffff)),
            ("version", Value::str("3.11.7 (main, aio) [Rust]")),
            ("version_info", version_info),
            ("hexversion", int(0x030b07f0)),
            ("api_version", int(1013)),
            ("float_info", float_info),
            ("int_info", int_info),
            ("hash_info", hash_info),
            ("float_repr_style", Value::str("short")),
            ("flags", flags),
            ("platform", Value::str("linux")),
            ("byteorder", Value::str("little")),
            ("executable", Value::string(executable)),
            ("prefix", Value::str("/usr")),
            ("base_prefix", Value::str("/usr")),
            ("exec_prefix", Value::str("/usr")),
            ("copyright", Value::str("Copyright (c) 2001-2023 Python Software Foundation.\nAll Rights Reserved.")),
            ("getrecursionlimit", native_fn("getrecursionlimit", getrecursionlimit)),
            ("setrecursionlimit", native_fn("setrecursionlimit", setrecursionlimit)),
            ("exc_info", native_fn("exc_info", exc_info)),
            ("exception", native_fn("exception", exception)),
            ("getsizeof", native_fn("getsizeof", getsizeof)),
            ("_getframe", native_fn("_getframe", getframe)),
            (
                "get_coroutine_origin_tracking_depth",
                native_fn("get_coroutine_origin_tracking_depth", |_vm, _a| Ok(Value::Int(aio_interp::generator::origin_tracking_depth()))),
            ),
            ("set_coroutine_origin_tracking_depth", native_fn("set_coroutine_origin_tracking_depth", set_origin_depth)),
            ("intern", native_fn("intern", intern)),
            ("getdefaultencoding", native_fn("getdefaultencoding", |_vm, _a| Ok(Value::str("utf-8")))),
            ("getfilesystemencoding", native_fn("getfilesystemencoding", |_vm, _a| Ok(Value::str("utf-8")))),
            ("getswitchinterval", native_fn("getswitchinterval", |_vm, _a| Ok(Value::float(0.005)))),
            ("setswitchinterval", native_fn("setswitchinterval", |_vm, _a| Ok(Value::None))),
            ("modules", Value::Dict(modules)),
            ("path", Value::list(vec![Value::str("")])),
            ("builtin_module_names", Value::tuple(vec![Value::str("builtins"), Value::str("sys")])),
            ("implementation", Value::str("aio")),
            ("dont_write_bytecode", Value::bool(true)),
        ],
    );
    if let Value::Module(module) = &m {
        vm.host.bind_sys_stdout(SysStdout { module: module.clone(), slot: module.slot("stdout"), original: stdout });
    }
    Ok(m)
}
