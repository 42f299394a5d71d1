//! `open()` and the file objects it returns: `TextIOWrapper` in text mode,
//! `BufferedReader`/`BufferedWriter`/`BufferedRandom` in binary mode, with
//! CPython's modes, encodings and error handlers (see `aio_interp::codecs`),
//! universal newlines,
//! `seek`/`tell`, iteration and the context-manager protocol.
//!
//! A file's bytes are held in memory from the open (for reading) and go to
//! the disk on `flush()` and `close()`: only what changed since the last
//! flush is written, so appending line after line stays linear.

use aio_interp::Flag;
use std::cell::RefCell;
use std::io::{Seek, SeekFrom, Write};
use std::rc::Rc;

use aio_interp::codecs::{self, Codec, Endian};
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, new_class, type_name, types};
use aio_interp::{Value, Vm};

/// An open file.
pub struct File {
    name: Value,
    mode: String,
    binary: bool,
    readable: bool,
    writable: bool,
    append: bool,
    /// The codec and the name it was given by.
    encoding: Option<(Codec, String)>,
    /// `errors=`: what a bad byte or an unencodable character does.
    errors: String,
    /// `newline=`: None translates on read and writes '\n'; '' and '\n' keep
    /// the text as it is; '\r\n' or '\r' is what '\n' becomes on write.
    newline: Option<String>,
    state: RefCell<FileState>,
}

struct FileState {
    data: Vec<u8>,
    pos: usize,
    disk: Option<std::fs::File>,
    /// The first byte that differs from the disk (None: nothing to write).
    dirty_from: Option<usize>,
    /// How long the file is on the disk.
    disk_len: usize,
    closed: bool,
    /// A pipe or terminal: written in order, never sought.
    stream: bool,
    /// `closefd=False`: the descriptor stays open after `close()`.
    keep_fd: bool,
}

impl Drop for FileState {
    fn drop(&mut self) {
        if let (Some(d), true) = (self.disk.take(), self.keep_fd) {
            use std::os::unix::io::IntoRawFd;
            let _ = d.into_raw_fd();
        }
    }
}

thread_local! {
    static CLASSES: [Rc<Class>; 5] = {
        let t = types();
        let uo = new_class("UnsupportedOperation", &[t.exc.os_error.clone(), t.exc.value_error.clone()], Layout::Exception, Some(aio_interp::types::BuiltinType::Exception));
        uo.dict.set_str("__module__", Value::str("io"));
        let names = ["TextIOWrapper", "BufferedReader", "BufferedWriter", "BufferedRandom"];
        let mut cs = vec![uo];
        for n in names {
            let c = new_class(n, std::slice::from_ref(&t.object), Layout::Builtin, None);
            c.dict.set_str("__module__", Value::str("_io"));
            install(&c, n);
            cs.push(c);
        }
        [cs[0].clone(), cs[1].clone(), cs[2].clone(), cs[3].clone(), cs[4].clone()]
    };
}

fn install(c: &Rc<Class>, owner: &'static str) {
    let ms: &[(&str, NativeFnPtr)] = &[
        ("read", read),
        ("read1", read),
        ("readinto", readinto),
        ("readline", readline),
        ("readlines", readlines),
        ("write", write),
        ("writelines", writelines),
        ("close", close),
        ("flush", flush),
        ("seek", seek),
        ("tell", tell),
        ("truncate", truncate),
        ("readable", readable),
        ("writable", writable),
        ("seekable", seekable),
        ("isatty", isatty),
        ("fileno", fileno),
        ("__enter__", enter),
        ("__exit__", exit),
        ("__iter__", enter),
        ("__next__", next_line),
    ];
    for (n, f) in ms {
        method(c, owner, n, *f);
    }
}

/// `io.UnsupportedOperation`.
pub fn unsupported_operation() -> Rc<Class> {
    CLASSES.with(|c| c[0].clone())
}

/// The file classes, for `io`: TextIOWrapper, BufferedReader, BufferedWriter, BufferedRandom.
pub fn file_classes() -> Vec<Rc<Class>> {
    CLASSES.with(|c| c[1..].to_vec())
}

fn unsupported(what: &str) -> PyErr {
    err(&unsupported_operation(), what)
}

/// `open(file, mode='r', buffering=-1, encoding=None, errors=None, newline=None, closefd=True, opener=None)`.
pub fn open(vm: &mut Vm, args: Args) -> PyResult {
    let sig = crate::params::Sig {
        qual: "open",
        has_self: false,
        names: &["file", "mode", "buffering", "encoding", "errors", "newline", "closefd", "opener"],
        required: 1,
        kwonly: &[],
    };
    let a = sig.bind(args)?;
    let file = a[0].clone().unwrap_or_default();
    let fd = match &file {
        Value::Int(n) => Some(*n),
        Value::Bool(b) => Some(b.get() as i64),
        _ => None,
    };
    let path = match (&file, fd) {
        (_, Some(n)) => crate::os::PathArg { path: n.to_string(), bytes: false },
        (v, None) => crate::os::fspath(vm, v, "open", "file")
            .map_err(|_| type_error(format!("expected str, bytes or os.PathLike object, not {}", type_name(v))))?,
    };
    let closefd = match &a[6] {
        Some(v) => vm.truthy(v)?,
        None => true,
    };
    if fd.is_none() && !closefd {
        return Err(value_error("Cannot use closefd=False with file name"));
    }
    let mode = match a[1].clone() {
        None => "r".to_string(),
        Some(Value::Str(m)) => m.as_str().to_string(),
        Some(other) => return Err(type_error(format!("open() argument 'mode' must be str, not {}", type_name(&other)))),
    };
    let bad_mode = || value_error(format!("invalid mode: '{mode}'"));
    let mut seen = String::new();
    for ch in mode.chars() {
        if !"rwaxbt+".contains(ch) || seen.contains(ch) {
            return Err(bad_mode());
        }
        seen.push(ch);
    }
    let kinds = ["r", "w", "a", "x"].iter().filter(|k| mode.contains(**k)).count();
    if kinds != 1 {
        return Err(value_error("must have exactly one of create/read/write/append mode"));
    }
    let binary = mode.contains('b');
    if binary && mode.contains('t') {
        return Err(value_error("can't have text and binary mode at once"));
    }
    let plus = mode.contains('+');
    let reading = mode.contains('r');
    let (readable, writable) = (reading || plus, !reading || plus);
    if fd.is_none() {
        crate::sandbox::check_path(&path.path, readable, writable)?;
    }
    let encoding_arg = match a[3].clone() {
        None | Some(Value::None) => None,
        Some(Value::Str(s)) => Some(s.as_str().to_string()),
        Some(other) => return Err(type_error(format!("open() argument 'encoding' must be str or None, not {}", type_name(&other)))),
    };
    let errors = match a[4].clone() {
        None | Some(Value::None) => None,
        Some(Value::Str(s)) => Some(s.as_str().to_string()),
        Some(other) => return Err(type_error(format!("open() argument 'errors' must be str or None, not {}", type_name(&other)))),
    };
    let newline = match a[5].clone() {
        None | Some(Value::None) => None,
        Some(Value::Str(s)) => {
            let s = s.as_str().to_string();
            if !["", "\n", "\r", "\r\n"].contains(&s.as_str()) {
                return Err(value_error(format!("illegal newline value: {s}")));
            }
            Some(s)
        }
        Some(other) => return Err(type_error(format!("open() argument 'newline' must be str or None, not {}", type_name(&other)))),
    };
    if binary {
        if encoding_arg.is_some() {
            return Err(value_error("binary mode doesn't take an encoding argument"));
        }
        if errors.is_some() {
            return Err(value_error("binary mode doesn't take an errors argument"));
        }
        if newline.is_some() {
            return Err(value_error("binary mode doesn't take a newline argument"));
        }
    }
    let encoding = if binary {
        None
    } else {
        let shown = encoding_arg.clone().unwrap_or_else(|| "UTF-8".to_string());
        Some((codecs::lookup(&shown)?, shown))
    };
    let name = &path.path;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    if mode.contains('w') {
        opts.write(true).create(true).truncate(true);
    } else if mode.contains('a') {
        opts.write(true).create(true);
    } else if mode.contains('x') {
        opts.write(true).create_new(true);
    } else if plus {
        opts.write(true);
    }
    let (mut disk, stream) = match fd {
        Some(n) => open_fd(n)?,
        None => (open_path(&opts, name, &mode, readable)?, false),
    };
    let mut data = Vec::new();
    if !mode.contains('w') {
        use std::io::Read;
        let _ = disk.read_to_end(&mut data);
    }
    let disk_len = data.len();
    let pos = if mode.contains('a') { data.len() } else { 0 };
    let state = FileState { data, pos, disk: Some(disk), dirty_from: None, disk_len, closed: false, stream, keep_fd: !closefd };
    Ok(Value::object(File {
        name: file,
        mode: if binary { mode.clone() } else { mode.replace('t', "") },
        binary,
        readable,
        writable,
        append: mode.contains('a'),
        encoding,
        errors: errors.unwrap_or_else(|| "strict".to_string()),
        newline,
        state: RefCell::new(state),
    }))
}

/// An open descriptor taken over by a file object, and whether it is a
/// stream (a pipe or terminal that cannot seek).
fn open_fd(n: i64) -> PyResult<(std::fs::File, bool)> {
    use std::os::unix::io::FromRawFd;
    let bad = || os_error_from_io(&std::io::Error::from_raw_os_error(libc::EBADF));
    let fd = i32::try_from(n).map_err(|_| bad())?;
    // SAFETY: fcntl(F_GETFD) only asks whether the descriptor is open.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(bad());
    }
    // SAFETY: lseek with a zero offset does not move a seekable file.
    let stream = unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) } < 0;
    // SAFETY: the descriptor is open; close() gives it up again when closefd=False.
    Ok((unsafe { std::fs::File::from_raw_fd(fd) }, stream))
}

/// The file at `name`, opened for `mode`.
fn open_path(opts: &std::fs::OpenOptions, name: &str, mode: &str, readable: bool) -> PyResult<std::fs::File> {
    let disk = match opts.open(name) {
        Ok(f) => f,
        // A write-only file that cannot be read: open it for writing alone.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && !readable => {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create(!mode.contains('r'));
            if mode.contains('w') {
                o.truncate(true);
            }
            o.open(name).map_err(|e| crate::os::os_err(&e, name, None))?
        }
        Err(e) => return Err(crate::os::os_err(&e, name, None)),
    };
    if std::fs::metadata(name).map(|m| m.is_dir()).unwrap_or(false) {
        return Err(crate::os::os_err(&std::io::Error::from_raw_os_error(libc::EISDIR), name, None));
    }
    Ok(disk)
}

impl NativeObject for File {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        let i = if !self.binary {
            1
        } else if self.readable && self.writable {
            4
        } else if self.readable {
            2
        } else {
            3
        };
        CLASSES.with(|c| c[i].clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "name" => Some(self.name.clone()),
            "mode" => Some(Value::str(&self.mode)),
            "closed" => Some(Value::bool(self.state.borrow().closed)),
            "encoding" if !self.binary => self.encoding.as_ref().map(|(_, s)| Value::str(s)),
            "errors" if !self.binary => Some(Value::str(&self.errors)),
            "newlines" if !self.binary => Some(Value::None),
            "line_buffering" if !self.binary => Some(Value::Bool(Flag::FALSE)),
            _ => None,
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let name = vm.repr_str(&self.name)?;
        let cls = self.class().name();
        if self.binary {
            return Ok(format!("<_io.{} name={name}>", cls.as_str()));
        }
        let enc = self.encoding.as_ref().map(|(_, s)| s.as_str()).unwrap_or("UTF-8");
        Ok(format!("<_io.TextIOWrapper name={name} mode='{}' encoding='{enc}'>", self.mode))
    }
}

fn this(args: &Args) -> PyResult<&File> {
    let f = args.pos.first().and_then(|v| v.downcast::<File>()).ok_or_else(|| type_error("descriptor requires a file object"))?;
    if f.state.borrow().closed {
        return Err(value_error("I/O operation on closed file."));
    }
    Ok(f)
}

fn check_readable(f: &File) -> PyResult<()> {
    if !f.readable {
        return Err(unsupported(if f.binary { "read" } else { "not readable" }));
    }
    Ok(())
}

impl File {
    /// The codec the bytes from `start` on are read with: a codec that
    /// reads a byte-order mark has it only at the start of the file.
    fn read_codec(&self, data: &[u8], start: usize) -> Codec {
        let codec = self.encoding.as_ref().map_or(Codec::Utf8 { sig: false }, |e| e.0);
        if start == 0 {
            return codec;
        }
        match codec {
            Codec::Utf8 { .. } => Codec::Utf8 { sig: false },
            Codec::Utf16(None) => Codec::Utf16(Some(if data.starts_with(b"\xfe\xff") { Endian::Big } else { Endian::Little })),
            Codec::Utf32(None) => Codec::Utf32(Some(if data.starts_with(b"\x00\x00\xfe\xff") { Endian::Big } else { Endian::Little })),
            other => other,
        }
    }

    /// Bytes read from the file at `start`, as the value a read returns
    /// (str or bytes).
    fn decode(&self, bytes: &[u8], start: usize) -> PyResult {
        if self.binary {
            return Ok(Value::Bytes(Rc::new(PyBytes { b: bytes.to_vec().into_boxed_slice() })));
        }
        let codec = {
            let st = self.state.borrow();
            self.read_codec(&st.data, start)
        };
        let text = codecs::decode(codec, bytes, &self.errors)?;
        let text = if self.newline.is_none() && text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n") } else { text };
        Ok(Value::string(text))
    }

    /// The bytes a write at `at` puts in the file, and the count write()
    /// returns.
    fn encode(&self, v: &Value, at: usize) -> PyResult<(Vec<u8>, usize)> {
        if self.binary {
            return match aio_interp::types::bytes::bytes_like(v) {
                Some(b) => Ok((b.to_vec(), b.len())),
                None => Err(type_error(format!("a bytes-like object is required, not '{}'", type_name(v)))),
            };
        }
        let s = match v {
            Value::Str(s) => s.as_str().to_string(),
            other => return Err(type_error(format!("write() argument must be str, not {}", type_name(other)))),
        };
        let n = s.chars().count();
        let s = match self.newline.as_deref() {
            Some("\r\n") => s.replace('\n', "\r\n"),
            Some("\r") => s.replace('\n', "\r"),
            _ => s,
        };
        let codec = {
            let st = self.state.borrow();
            self.read_codec(&st.data, at)
        };
        Ok((codecs::encode(codec, &s, &self.errors)?, n))
    }

    /// Write what changed since the last flush to the disk.
    fn sync(&self) -> PyResult<()> {
        let mut st = self.state.borrow_mut();
        let Some(from) = st.dirty_from.take() else { return Ok(()) };
        let len = st.data.len();
        let st = &mut *st;
        let stream = st.stream;
        if let Some(d) = &mut st.disk {
            let r = (|| {
                if stream {
                    d.write_all(&st.data[from..])?;
                    return d.flush();
                }
                d.seek(SeekFrom::Start(from as u64))?;
                d.write_all(&st.data[from..])?;
                if len < st.disk_len {
                    d.set_len(len as u64)?;
                }
                d.flush()
            })();
            r.map_err(|e| os_error_from_io(&e))?;
        }
        st.disk_len = len;
        Ok(())
    }
}

fn read(vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    check_readable(f)?;
    let n = match args.pos.get(1) {
        Some(v) if !v.is_none() => vm.index_value(v)?,
        _ => -1,
    };
    let mut st = f.state.borrow_mut();
    let start = st.pos.min(st.data.len());
    let end = if n < 0 {
        st.data.len()
    } else if f.binary {
        (start + n as usize).min(st.data.len())
    } else {
        start + char_bytes(f, &st.data, start, n as usize)
    };
    st.pos = end;
    let chunk = st.data[start..end].to_vec();
    drop(st);
    f.decode(&chunk, start)
}

/// `readinto(b)`: as many bytes as `b` holds, copied into it; their count.
fn readinto(_vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    check_readable(f)?;
    if !f.binary {
        return Err(attribute_error("'TextIOWrapper' object has no attribute 'readinto'"));
    }
    let buf = args.pos.get(1).cloned().ok_or_else(|| type_error("readinto() takes exactly one argument (0 given)"))?;
    let room = aio_interp::types::memoryview::writable_len(&buf, "readinto() argument")?;
    let mut st = f.state.borrow_mut();
    let start = st.pos.min(st.data.len());
    let end = (start + room).min(st.data.len());
    st.pos = end;
    let chunk = st.data[start..end].to_vec();
    drop(st);
    aio_interp::types::memoryview::fill_writable(&buf, &chunk);
    Ok(Value::Int(chunk.len() as i64))
}

/// How many bytes from `start` hold the next `n` characters of a text file.
fn char_bytes(f: &File, data: &[u8], start: usize, n: usize) -> usize {
    let rest = &data[start..];
    let codec = f.read_codec(data, start);
    match codec {
        Codec::Utf8 { .. } => {
            let mut end = 0;
            // A BOM that decoding skips is not a character.
            if start == 0 && codec == (Codec::Utf8 { sig: true }) && rest.starts_with(b"\xef\xbb\xbf") {
                end = 3;
            }
            for _ in 0..n {
                if end >= rest.len() {
                    break;
                }
                end += match rest[end] {
                    0xc0..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf7 => 4,
                    _ => 1,
                };
            }
            end.min(rest.len())
        }
        Codec::Ascii | Codec::Latin1 => n.min(rest.len()),
        Codec::Legacy(enc) if enc.is_single_byte() => n.min(rest.len()),
        _ => {
            // Multi-byte codecs: decode what is left, and measure the
            // first n characters encoded again.
            let text = codecs::decode(codec, rest, "replace").unwrap_or_default();
            let head: String = text.chars().take(n).collect();
            if head.chars().count() < n {
                return rest.len();
            }
            let mut len = codecs::encode(f.read_codec(data, 1), &head, "replace").map_or(rest.len(), |b| b.len());
            if start == 0
                && matches!(codec, Codec::Utf16(None) | Codec::Utf32(None))
                && (rest.starts_with(b"\xff\xfe") || rest.starts_with(b"\xfe\xff") || rest.starts_with(b"\x00\x00\xfe\xff"))
            {
                len += codec.unit().max(2);
            }
            len.min(rest.len())
        }
    }
}

/// The next line's bytes and where they start. Lines end as `newline=`
/// says: None and '' at '\n', '\r\n' or a lone '\r'; otherwise at that string.
fn readline_bytes(f: &File, limit: i64) -> (usize, Vec<u8>) {
    let mut st = f.state.borrow_mut();
    let start = st.pos.min(st.data.len());
    let data = &st.data;
    let (unit, big) = match f.encoding.as_ref().map(|_| f.read_codec(data, start.max(1))) {
        Some(Codec::Utf16(e)) if !f.binary => (2, e == Some(Endian::Big)),
        Some(Codec::Utf32(e)) if !f.binary => (4, e == Some(Endian::Big)),
        _ => (1, false),
    };
    let at = |i: usize| -> u32 {
        let b = &data[i..i + unit];
        match (unit, big) {
            (1, _) => b[0] as u32,
            (2, false) => u16::from_le_bytes([b[0], b[1]]) as u32,
            (2, true) => u16::from_be_bytes([b[0], b[1]]) as u32,
            (_, false) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            (_, true) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        }
    };
    let (cr, lf) = (b'\r' as u32, b'\n' as u32);
    let mode = if f.binary { Some("\n") } else { f.newline.as_deref() };
    let mut i = start;
    let mut end = data.len();
    while i + unit <= data.len() {
        let u = at(i);
        let next = i + unit;
        let ends = match mode {
            None | Some("") => u == lf || (u == cr && !(next + unit <= data.len() && at(next) == lf)),
            Some("\r") => u == cr,
            Some("\r\n") => u == lf && i >= start + unit && at(i - unit) == cr,
            _ => u == lf,
        };
        if ends {
            end = next;
            break;
        }
        i = next;
    }
    if limit >= 0 {
        let n = if f.binary { limit as usize } else { char_bytes(f, data, start, limit as usize) };
        end = end.min(start + n);
    }
    st.pos = end;
    (start, st.data[start..end].to_vec())
}

fn readline(vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    check_readable(f)?;
    let limit = match args.pos.get(1) {
        Some(v) if !v.is_none() => vm.index_value(v)?,
        _ => -1,
    };
    let (start, line) = readline_bytes(f, limit);
    f.decode(&line, start)
}

fn readlines(vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    check_readable(f)?;
    let hint = match args.pos.get(1) {
        Some(v) if !v.is_none() => vm.index_value(v)?,
        _ => -1,
    };
    let mut out = Vec::new();
    let mut total = 0usize;
    loop {
        let (start, line) = readline_bytes(f, -1);
        if line.is_empty() {
            break;
        }
        total += line.len();
        out.push(f.decode(&line, start)?);
        if hint > 0 && total >= hint as usize {
            break;
        }
    }
    Ok(Value::list(out))
}

fn next_line(_vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    check_readable(f)?;
    let (start, line) = readline_bytes(f, -1);
    if line.is_empty() {
        return Err(stop_iteration(Value::None));
    }
    f.decode(&line, start)
}

fn write(_vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    if !f.writable {
        return Err(unsupported(if f.binary { "write" } else { "not writable" }));
    }
    let v = args.pos.get(1).cloned().ok_or_else(|| type_error("write() takes exactly one argument (0 given)"))?;
    let at = {
        let st = f.state.borrow();
        if f.append {
            st.data.len()
        } else {
            st.pos
        }
    };
    let (bytes, n) = f.encode(&v, at)?;
    {
        let mut st = f.state.borrow_mut();
        if f.append {
            st.pos = st.data.len();
        }
        let pos = st.pos;
        if pos > st.data.len() {
            st.data.resize(pos, 0);
        }
        let end = pos + bytes.len();
        let overlap = end.min(st.data.len());
        st.data[pos..overlap].copy_from_slice(&bytes[..overlap - pos]);
        st.data.extend_from_slice(&bytes[overlap - pos..]);
        st.pos = end;
        st.dirty_from = Some(st.dirty_from.map_or(pos, |d| d.min(pos)));
    }
    // Unflushed text past 64 KiB goes to the disk, as a buffer would.
    let pending = {
        let st = f.state.borrow();
        st.dirty_from.map_or(0, |d| st.data.len().saturating_sub(d))
    };
    if pending > 1 << 16 {
        f.sync()?;
    }
    Ok(Value::Int(n as i64))
}

fn writelines(vm: &mut Vm, args: Args) -> PyResult {
    let me = args.pos.first().cloned().unwrap_or_default();
    this(&args)?;
    for line in vm.collect(args.pos.get(1).unwrap_or(&Value::None))? {
        write(vm, Args::new([me.clone(), line]))?;
    }
    Ok(Value::None)
}

fn close(_vm: &mut Vm, args: Args) -> PyResult {
    if let Some(f) = args.pos.first().and_then(|v| v.downcast::<File>()) {
        if f.state.borrow().closed {
            return Ok(Value::None);
        }
        let r = f.sync();
        let mut st = f.state.borrow_mut();
        if let (Some(d), true) = (st.disk.take(), st.keep_fd) {
            use std::os::unix::io::IntoRawFd;
            let _ = d.into_raw_fd();
        }
        st.closed = true;
        st.data = Vec::new();
        r?;
    }
    Ok(Value::None)
}

fn flush(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?.sync()?;
    Ok(Value::None)
}

fn seek(vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    let off = vm.index_value(args.pos.get(1).ok_or_else(|| type_error("seek expected at least 1 argument, got 0"))?)?;
    let whence = match args.pos.get(2) {
        Some(v) => vm.index_value(v)?,
        None => 0,
    };
    let mut st = f.state.borrow_mut();
    let base = match whence {
        0 => 0,
        1 => {
            if !f.binary && off != 0 {
                return Err(unsupported("can't do nonzero cur-relative seeks"));
            }
            st.pos as i64
        }
        2 => {
            if !f.binary && off != 0 {
                return Err(unsupported("can't do nonzero end-relative seeks"));
            }
            st.data.len() as i64
        }
        _ => return Err(value_error(format!("invalid whence ({whence}, should be 0, 1 or 2)"))),
    };
    let p = base + off;
    if p < 0 {
        return Err(if f.binary {
            os_error_msg(libc::EINVAL, "Invalid argument")
        } else {
            value_error(format!("negative seek position {off}"))
        });
    }
    st.pos = p as usize;
    Ok(Value::Int(p))
}

fn tell(_vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    Ok(Value::Int(f.state.borrow().pos as i64))
}

fn truncate(vm: &mut Vm, args: Args) -> PyResult {
    let f = this(&args)?;
    if !f.writable {
        return Err(unsupported("File not open for writing"));
    }
    let mut st = f.state.borrow_mut();
    let size = match args.pos.get(1) {
        Some(v) if !v.is_none() => vm.index_value(v)?.max(0) as usize,
        _ => st.pos,
    };
    st.data.resize(size, 0);
    st.dirty_from = Some(st.dirty_from.map_or(size, |d| d.min(size)));
    Ok(Value::Int(size as i64))
}

fn readable(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(this(&args)?.readable))
}

fn writable(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::bool(this(&args)?.writable))
}

fn seekable(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?;
    Ok(Value::Bool(Flag::TRUE))
}

fn isatty(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?;
    Ok(Value::Bool(Flag::FALSE))
}

fn fileno(_vm: &mut Vm, args: Args) -> PyResult {
    use std::os::unix::io::AsRawFd;
    let f = this(&args)?;
    Ok(Value::Int(f.state.borrow().disk.as_ref().map(|d| d.as_raw_fd() as i64).unwrap_or(-1)))
}

fn enter(_vm: &mut Vm, args: Args) -> PyResult {
    this(&args)?;
    Ok(args.pos[0].clone())
}

fn exit(vm: &mut Vm, args: Args) -> PyResult {
    close(vm, Args::new([args.pos[0].clone()]))?;
    Ok(Value::Bool(Flag::FALSE))
}

/// Build the `_io` module: `open`, the file classes, `StringIO`, `BytesIO` and `UnsupportedOperation`.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let mut entries =
        vec![("open", aio_interp::types::native_fn("open", open)), ("UnsupportedOperation", Value::Class(unsupported_operation()))];
    for (n, c) in ["TextIOWrapper", "BufferedReader", "BufferedWriter", "BufferedRandom"].into_iter().zip(file_classes()) {
        entries.push((n, Value::Class(c)));
    }
    entries.push(("StringIO", Value::Class(crate::stringio::class())));
    entries.push(("BytesIO", Value::Class(crate::bytesio::class())));
    Ok(vm.make_native_module("_io", entries))
}
