//! `open()`: text (and binary) files with `read`, `readline`, `write`,
//! iteration and the context-manager protocol.

use aio_interp::Flag;
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, new_class, types};
use aio_interp::{Value, Vm};

/// An open file: its whole content is read at open (reading) or buffered until close (writing).
pub struct File {
    name: String,
    mode: String,
    binary: bool,
    state: RefCell<FileState>,
}

struct FileState {
    data: Vec<u8>,
    pos: usize,
    out: Option<std::fs::File>,
    closed: bool,
}

thread_local! {
    static FILE_CLASS: Rc<Class> = {
        let c = new_class("TextIOWrapper", &[types().object.clone()], Layout::Builtin, None);
        let ms: &[(&str, NativeFnPtr)] = &[
            ("read", read),
            ("readline", readline),
            ("readlines", readlines),
            ("write", write),
            ("writelines", writelines),
            ("close", close),
            ("flush", flush),
            ("__enter__", enter),
            ("__exit__", exit),
            ("__iter__", enter),
            ("__next__", next_line),
        ];
        for (n, f) in ms {
            method(&c, "TextIOWrapper", n, *f);
        }
        c
    };
}

fn os_error(cls: &Rc<Class>, errno: i64, msg: &str, name: &str) -> PyErr {
    PyErr(new_exception(cls, vec![Value::Int(errno), Value::str(msg), Value::str(name)]))
}

/// `open(file, mode='r', encoding=None)`.
pub fn open(_vm: &mut Vm, mut args: Args) -> PyResult {
    let name = match args.pos.first().cloned().or_else(|| args.take_kw("file")) {
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(other) => {
            return Err(type_error(format!("expected str, bytes or os.PathLike object, not {}", aio_interp::types::type_name(&other))))
        }
        None => return Err(type_error("open() missing required argument 'file' (pos 1)")),
    };
    let mode = match args.pos.get(1).cloned().or_else(|| args.take_kw("mode")) {
        Some(Value::Str(m)) => m.as_str().to_string(),
        _ => "r".to_string(),
    };
    let binary = mode.contains('b');
    let t = types();
    let state = if mode.contains('w') || mode.contains('a') || mode.contains('x') {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true);
        if mode.contains('a') {
            opts.append(true);
        } else {
            opts.truncate(true);
        }
        let f = opts.open(&name).map_err(|e| io_err(&e, &name, t))?;
        FileState { data: vec![], pos: 0, out: Some(f), closed: false }
    } else {
        let data = std::fs::read(&name).map_err(|e| io_err(&e, &name, t))?;
        FileState { data, pos: 0, out: None, closed: false }
    };
    Ok(Value::object(File { name, mode, binary, state: RefCell::new(state) }))
}

fn io_err(e: &std::io::Error, name: &str, t: &aio_interp::types::Types) -> PyErr {
    match e.kind() {
        std::io::ErrorKind::NotFound => os_error(&t.exc.file_not_found_error, 2, "No such file or directory", name),
        std::io::ErrorKind::PermissionDenied => os_error(&t.exc.permission_error, 13, "Permission denied", name),
        _ => {
            if std::path::Path::new(name).is_dir() {
                return os_error(&t.exc.is_a_directory_error, 21, "Is a directory", name);
            }
            os_error(&t.exc.os_error, e.raw_os_error().unwrap_or(5) as i64, &e.to_string(), name)
        }
    }
}

impl NativeObject for File {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        FILE_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "name" => Some(Value::str(&self.name)),
            "mode" => Some(Value::str(&self.mode)),
            "closed" => Some(Value::bool(self.state.borrow().closed)),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<_io.TextIOWrapper name='{}' mode='{}' encoding='UTF-8'>", self.name, self.mode))
    }
}

fn this(args: &Args) -> PyResult<&File> {
    let f = args.pos.first().and_then(|v| v.downcast::<File>()).ok_or_else(|| type_error("expected a file"))?;
    if f.state.borrow().closed {
        return Err(value_error("I/O operation on closed file."));
    }
    Ok(f)
}

fn text(f: &File, bytes: &[u8]) -> PyResult {
    if f.binary {
        return Ok(Value::Bytes(Rc::new(PyBytes { b: bytes.to_vec().into_boxed_slice() })));
    }
    aio_interp::types::str::decode_bytes(bytes)
}

fn read(vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    let n = match args.pos.get(1) {
        Some(v) if !v.is_none() => vm.index_value(v)?,
        _ => -1,
    };
    let mut st = f.state.borrow_mut();
    let start = st.pos;
    let end = if n < 0 { st.data.len() } else { (start + n as usize).min(st.data.len()) };
    st.pos = end;
    let chunk = st.data[start..end].to_vec();
    drop(st);
    text(f, &chunk)
}

fn readline(_vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    let mut st = f.state.borrow_mut();
    let start = st.pos;
    let end = st.data[start..].iter().position(|&b| b == b'\n').map(|p| start + p + 1).unwrap_or(st.data.len());
    st.pos = end;
    let chunk = st.data[start..end].to_vec();
    drop(st);
    text(f, &chunk)
}

fn readlines(vm: &mut Vm, args: Args) -> PyResult {
    let mut out = Vec::new();
    loop {
        let line = readline(vm, Args::new([args.pos[0].clone()]))?;
        let empty = match &line {
            Value::Str(s) => s.is_empty(),
            Value::Bytes(b) => b.b.is_empty(),
            _ => true,
        };
        if empty {
            break;
        }
        out.push(line);
    }
    Ok(Value::list(out))
}

fn next_line(vm: &mut Vm, args: Args) -> PyResult {
    let line = readline(vm, args)?;
    match &line {
        Value::Str(s) if s.is_empty() => Err(stop_iteration(Value::None)),
        _ => Ok(line),
    }
}

fn write(_vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    let (bytes, n) = match args.pos.get(1) {
        Some(Value::Str(s)) => (s.as_bytes().to_vec(), s.char_len()),
        Some(Value::Bytes(b)) => (b.b.to_vec(), b.b.len()),
        _ => return Err(type_error("write() argument must be str")),
    };
    let mut st = f.state.borrow_mut();
    match &mut st.out {
        Some(out) => {
            out.write_all(&bytes).map_err(|e| err(&types().exc.os_error, e.to_string()))?;
        }
        None => return Err(err(&types().exc.os_error, "not writable")),
    }
    Ok(Value::Int(n as i64))
}

fn writelines(vm: &mut Vm, args: Args) -> PyResult {
    for line in vm.collect(args.pos.get(1).unwrap_or(&Value::None))? {
        write(vm, Args::new([args.pos[0].clone(), line]))?;
    }
    Ok(Value::None)
}

fn close(_vm: &mut Vm, args: Args) -> PyResult {
    if let Some(f) = args.pos.first().and_then(|v| v.downcast::<File>()) {
        let mut st = f.state.borrow_mut();
        if let Some(out) = &mut st.out {
            let _ = out.flush();
        }
        st.out = None;
        st.closed = true;
    }
    Ok(Value::None)
}

fn flush(_vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    if let Some(out) = &mut f.state.borrow_mut().out {
        let _ = out.flush();
    }
    Ok(Value::None)
}

fn enter(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?;
    Ok(args.pos[0].clone())
}

fn exit(vm: &mut Vm, args: Args) -> PyResult {
    close(vm, Args::new([args.pos[0].clone()]))?;
    Ok(Value::Bool(Flag::FALSE))
}
