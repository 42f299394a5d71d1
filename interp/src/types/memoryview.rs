//! `memoryview`: a one-dimensional view of a `bytes` or `bytearray`
//! (indexing, slicing into views, writes through to a bytearray, `cast`
//! to the native integer and float formats, `release` and the context manager).

use std::cell::Cell;
use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::types::bytearray::{self, ByteArray};
use crate::types::bytes::bytes_like;
use crate::types::{method, new_class, seq_index, type_name, types};
use crate::value::Value;
use crate::vm::Vm;

/// A memoryview: `len` items of `fmt` starting at byte `start` of `obj`,
/// `step` bytes apart... in items of `itemsize` bytes.
pub struct MemoryView {
    /// The exporting object: a `bytes` or a `bytearray`.
    obj: Value,
    start: usize,
    /// Distance between items, in bytes (negative for a reversed slice).
    stride: i64,
    len: usize,
    fmt: char,
    released: Cell<bool>,
}

thread_local! {
    static CLASS: Rc<Class> = make_class();
}

/// The `memoryview` class.
pub fn memoryview_class() -> Rc<Class> {
    CLASS.with(|c| c.clone())
}

impl NativeObject for MemoryView {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        memoryview_class()
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        let addr = self as *const Self as usize;
        Ok(if self.released.get() { format!("<released memory at {addr:#x}>") } else { format!("<memory at {addr:#x}>") })
    }
}

impl Drop for MemoryView {
    fn drop(&mut self) {
        if !self.released.get() {
            self.unexport();
        }
    }
}

/// (size in bytes, signed) of a native format (the floats count as signed).
fn format_info(f: char) -> Option<(usize, bool)> {
    Some(match f {
        'B' | 'c' => (1, false),
        'b' => (1, true),
        'H' => (2, false),
        'h' => (2, true),
        'I' => (4, false),
        'i' => (4, true),
        'L' | 'Q' | 'N' => (8, false),
        'l' | 'q' | 'n' => (8, true),
        '?' => (1, false),
        'f' => (4, true),
        'd' => (8, true),
        _ => return None,
    })
}

impl MemoryView {
    fn itemsize(&self) -> usize {
        format_info(self.fmt).map(|f| f.0).unwrap_or(1)
    }
    fn readonly(&self) -> bool {
        bytearray::get(&self.obj).is_none()
    }
    fn live(&self) -> PyResult<()> {
        if self.released.get() {
            return Err(value_error("operation forbidden on released memoryview object"));
        }
        Ok(())
    }
    fn unexport(&self) {
        if let Some(a) = bytearray::get(&self.obj) {
            a.exports.set(a.exports.get().saturating_sub(1));
        }
    }
    /// The whole buffer of the exporter.
    fn base(&self) -> Vec<u8> {
        self.with_base(<[u8]>::to_vec)
    }
    /// `f` of the exporter's buffer, borrowed in place.
    fn with_base<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match (&self.obj, bytearray::get(&self.obj)) {
            (Value::Bytes(b), _) => f(&b.b),
            (_, Some(a)) => f(&a.b.borrow()),
            _ => f(&[]),
        }
    }
    /// The bytes of item `k`.
    fn item_bytes(&self, base: &[u8], k: usize) -> Vec<u8> {
        let at = (self.start as i64 + k as i64 * self.stride) as usize;
        base.get(at..at + self.itemsize()).map(<[u8]>::to_vec).unwrap_or_default()
    }
    /// The bytes the view covers, in order.
    pub fn tobytes(&self) -> Vec<u8> {
        let size = self.itemsize();
        self.with_base(|base| {
            // A contiguous view is one copy of its span.
            if self.stride == size as i64 {
                if let Some(span) = base.get(self.start..self.start + self.len * size) {
                    return span.to_vec();
                }
            }
            let mut out = Vec::with_capacity(self.len * size);
            for k in 0..self.len {
                let at = (self.start as i64 + k as i64 * self.stride) as usize;
                out.extend_from_slice(base.get(at..at + size).unwrap_or_default());
            }
            out
        })
    }
    fn item_value(&self, b: &[u8]) -> Value {
        if self.fmt == 'c' {
            return Value::Bytes(Rc::new(PyBytes { b: b.to_vec().into_boxed_slice() }));
        }
        if self.fmt == '?' {
            return Value::bool(b.first().is_some_and(|&x| x != 0));
        }
        match (self.fmt, b.len()) {
            ('f', 4) => return Value::float(f32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as f64),
            ('d', 8) => return Value::float(f64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])),
            _ => {}
        }
        let (size, signed) = format_info(self.fmt).unwrap_or((1, false));
        let mut raw = [0u8; 8];
        raw[..size].copy_from_slice(&b[..size]);
        let u = u64::from_ne_bytes(raw);
        if signed {
            let shift = 64 - 8 * size as u32;
            Value::Int(((u << shift) as i64) >> shift)
        } else if u > i64::MAX as u64 {
            Value::from_bigint(num_bigint::BigInt::from(u))
        } else {
            Value::Int(u as i64)
        }
    }
    fn view(&self, start: usize, stride: i64, len: usize, fmt: char) -> Value {
        if let Some(a) = bytearray::get(&self.obj) {
            a.exports.set(a.exports.get() + 1);
        }
        Value::object(MemoryView { obj: self.obj.clone(), start, stride, len, fmt, released: Cell::new(false) })
    }
}

/// The bytes behind a memoryview value, for the functions that take any
/// bytes-like object; `None` for other values.
pub fn contents(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<MemoryView>().map(MemoryView::tobytes),
        _ => None,
    }
}

/// `memoryview(obj)`.
pub fn new_view(obj: &Value) -> PyResult<Value> {
    if let Some(m) = obj.downcast::<MemoryView>() {
        m.live()?;
        return Ok(m.view(m.start, m.stride, m.len, m.fmt));
    }
    let exporter = match obj {
        Value::Bytes(_) => obj.clone(),
        Value::Instance(i) => match i.builtin_value() {
            Some(p @ Value::Bytes(_)) => p,
            Some(p) if bytearray::get(&p).is_some() => p,
            _ => return Err(type_error(format!("memoryview: a bytes-like object is required, not '{}'", type_name(obj)))),
        },
        _ if bytearray::get(obj).is_some() => obj.clone(),
        _ => return Err(type_error(format!("memoryview: a bytes-like object is required, not '{}'", type_name(obj)))),
    };
    let len = bytes_like(&exporter).map(|b| b.len()).unwrap_or(0);
    if let Some(a) = bytearray::get(&exporter) {
        a.exports.set(a.exports.get() + 1);
    }
    Ok(Value::object(MemoryView { obj: exporter, start: 0, stride: 1, len, fmt: 'B', released: Cell::new(false) }))
}

fn this(args: &Args) -> PyResult<&MemoryView> {
    args.pos.first().and_then(|v| v.downcast::<MemoryView>()).ok_or_else(|| type_error("descriptor requires a 'memoryview' object"))
}

fn live(args: &Args) -> PyResult<&MemoryView> {
    let m = this(args)?;
    m.live()?;
    Ok(m)
}

fn mv_new(_vm: &mut Vm, mut args: Args) -> PyResult {
    args.pos.remove(0);
    let obj = match args.take_kw("object") {
        Some(o) => o,
        None => args.pos.first().cloned().ok_or_else(|| type_error("memoryview() missing required argument 'object' (pos 1)"))?,
    };
    new_view(&obj)
}

fn getitem(vm: &mut Vm, args: Args) -> PyResult {
    let m = live(&args)?;
    let i = args.pos.get(1).cloned().unwrap_or(Value::None);
    match &i {
        Value::Slice(sl) => {
            let (start, _, step, count) = crate::types::slice_indices(vm, sl, m.len)?;
            let first = if count == 0 { m.start } else { (m.start as i64 + start * m.stride) as usize };
            Ok(m.view(first, m.stride * step, count, m.fmt))
        }
        _ => {
            let n = match &i {
                Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => vm.index_value(&i)?,
                _ if crate::ops::lookup_special(&i, "__index__").is_some() => vm.index_value(&i)?,
                _ => return Err(type_error("memoryview: invalid slice key")),
            };
            let k = seq_index(n, m.len).ok_or_else(|| index_error("index out of bounds on dimension 1"))?;
            let item = m.with_base(|base| m.item_bytes(base, k));
            Ok(m.item_value(&item))
        }
    }
}

/// The bytes that store `v` as one item of the view's format.
fn item_encode(vm: &mut Vm, m: &MemoryView, v: &Value) -> PyResult<Vec<u8>> {
    let bad = || value_error(format!("memoryview: invalid value for format '{}'", m.fmt));
    if m.fmt == 'c' {
        return match bytes_like(v) {
            Some(b) if b.len() == 1 => Ok(b.to_vec()),
            _ => Err(bad()),
        };
    }
    let numeric = matches!(v, Value::Int(_) | Value::Bool(_) | Value::BigInt(_));
    if matches!(m.fmt, 'f' | 'd') && (numeric || matches!(v, Value::Float(_))) {
        let x = crate::types::float::to_float(vm, v)?;
        return Ok(if m.fmt == 'f' { (x as f32).to_ne_bytes().to_vec() } else { x.to_ne_bytes().to_vec() });
    }
    if !numeric {
        return Err(type_error(format!("memoryview: invalid type for format '{}'", m.fmt)));
    }
    let n = vm.index_value(v).map_err(|_| bad())?;
    let (size, signed) = format_info(m.fmt).unwrap_or((1, false));
    let bits = 8 * size as u32;
    let ok = if signed {
        bits == 64 || (-(1i64 << (bits - 1))..(1i64 << (bits - 1))).contains(&n)
    } else {
        n >= 0 && (bits == 64 || n < (1i64 << bits))
    };
    if !ok {
        return Err(bad());
    }
    Ok(n.to_ne_bytes()[..size].to_vec())
}

fn setitem(vm: &mut Vm, args: Args) -> PyResult {
    let m = live(&args)?;
    let Some(target) = bytearray::get(&m.obj) else {
        return Err(type_error("cannot modify read-only memory"));
    };
    let i = args.pos.get(1).cloned().unwrap_or(Value::None);
    let v = args.pos.get(2).cloned().unwrap_or(Value::None);
    let size = m.itemsize();
    let mut writes: Vec<(usize, Vec<u8>)> = Vec::new();
    match &i {
        Value::Slice(sl) => {
            let (start, _, step, count) = crate::types::slice_indices(vm, sl, m.len)?;
            let src = bytes_like(&v).ok_or_else(|| type_error(format!("a bytes-like object is required, not '{}'", type_name(&v))))?;
            if src.len() != count * size {
                return Err(value_error("memoryview assignment: lvalue and rvalue have different structures"));
            }
            for k in 0..count {
                let at = (m.start as i64 + (start + k as i64 * step) * m.stride) as usize;
                writes.push((at, src[k * size..(k + 1) * size].to_vec()));
            }
        }
        _ => {
            let n = vm.index_value(&i).map_err(|_| type_error("memoryview: invalid slice key"))?;
            let k = seq_index(n, m.len).ok_or_else(|| index_error("index out of bounds on dimension 1"))?;
            let at = (m.start as i64 + k as i64 * m.stride) as usize;
            writes.push((at, item_encode(vm, m, &v)?));
        }
    }
    write_through(target, &writes);
    Ok(Value::None)
}

fn write_through(target: &ByteArray, writes: &[(usize, Vec<u8>)]) {
    let mut data = target.b.borrow_mut();
    for (at, bytes) in writes {
        if let Some(dst) = data.get_mut(*at..*at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
}

fn len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(live(&args)?.len as i64))
}

fn tobytes(_vm: &mut Vm, args: Args) -> PyResult {
    let m = live(&args)?;
    Ok(Value::Bytes(Rc::new(PyBytes { b: m.tobytes().into_boxed_slice() })))
}

fn tolist(_vm: &mut Vm, args: Args) -> PyResult {
    let m = live(&args)?;
    let base = m.base();
    Ok(Value::list((0..m.len).map(|k| m.item_value(&m.item_bytes(&base, k))).collect()))
}

fn hex(vm: &mut Vm, args: Args) -> PyResult {
    let m = live(&args)?;
    let data = m.tobytes();
    let sep = args.pos.get(1).cloned();
    let per = args.pos.get(2).cloned();
    Ok(Value::string(crate::types::bytes::hex_with(vm, &data, sep.as_ref(), per.as_ref())?))
}

fn release(_vm: &mut Vm, args: Args) -> PyResult {
    let m = this(&args)?;
    if !m.released.get() {
        m.released.set(true);
        m.unexport();
    }
    Ok(Value::None)
}

fn enter(_vm: &mut Vm, args: Args) -> PyResult {
    live(&args)?;
    Ok(args.pos[0].clone())
}

fn exit(vm: &mut Vm, args: Args) -> PyResult {
    release(vm, Args::new([args.pos[0].clone()]))?;
    Ok(Value::bool(false))
}

fn cast(_vm: &mut Vm, args: Args) -> PyResult {
    let m = live(&args)?;
    let f = match args.pos.get(1) {
        Some(Value::Str(s)) => s.as_str().trim_start_matches('@').to_string(),
        Some(v) => return Err(type_error(format!("cast() argument 'format' must be str, not {}", type_name(v)))),
        None => return Err(type_error("cast() missing required argument 'format' (pos 1)")),
    };
    let mut chars = f.chars();
    let (Some(fc), None) = (chars.next(), chars.next()) else {
        return Err(value_error("memoryview: destination format must be a native single character format prefixed with an optional '@'"));
    };
    let Some((size, _)) = format_info(fc) else {
        return Err(value_error("memoryview: destination format must be a native single character format prefixed with an optional '@'"));
    };
    if m.itemsize() != 1 && size != 1 {
        return Err(type_error("memoryview: cannot cast between two non-byte formats"));
    }
    if m.stride != m.itemsize() as i64 && m.len > 1 {
        return Err(type_error("memoryview: casts are restricted to C-contiguous views"));
    }
    let nbytes = m.len * m.itemsize();
    if nbytes % size != 0 {
        return Err(type_error("memoryview: length is not a multiple of itemsize"));
    }
    Ok(m.view(m.start, size as i64, nbytes / size, fc))
}

fn toreadonly(_vm: &mut Vm, args: Args) -> PyResult {
    let m = live(&args)?;
    let data = m.tobytes();
    let obj = Value::Bytes(Rc::new(PyBytes { b: data.into_boxed_slice() }));
    Ok(Value::object(MemoryView { obj, start: 0, stride: m.itemsize() as i64, len: m.len, fmt: m.fmt, released: Cell::new(false) }))
}

fn iter(vm: &mut Vm, args: Args) -> PyResult {
    let l = tolist(vm, args)?;
    vm.iter(&l)
}

fn eq(vm: &mut Vm, args: Args) -> PyResult {
    let m = this(&args)?;
    let o = args.pos.get(1).cloned().unwrap_or(Value::None);
    if o.is(&args.pos[0]) {
        return Ok(Value::bool(true));
    }
    if m.released.get() {
        return Ok(Value::bool(false));
    }
    if let Some(other) = o.downcast::<MemoryView>() {
        if other.released.get() {
            return Ok(Value::bool(false));
        }
        let (a, b) = (tolist(vm, Args::new([args.pos[0].clone()]))?, tolist(vm, Args::new([o.clone()]))?);
        return vm.compare(crate::ops::EQ, &a, &b);
    }
    match bytes_like(&o) {
        Some(b) if m.fmt == 'B' => Ok(Value::bool(m.tobytes() == b.to_vec())),
        Some(b) => {
            let a = tolist(vm, Args::new([args.pos[0].clone()]))?;
            let other: Vec<Value> = b.iter().map(|&x| Value::Int(x as i64)).collect();
            vm.compare(crate::ops::EQ, &a, &Value::list(other))
        }
        None => Ok(Value::NotImplemented),
    }
}

fn ne(vm: &mut Vm, args: Args) -> PyResult {
    match eq(vm, args)? {
        Value::Bool(b) => Ok(Value::bool(!b.get())),
        other => Ok(other),
    }
}

fn hash(_vm: &mut Vm, args: Args) -> PyResult {
    let m = live(&args)?;
    if !m.readonly() {
        return Err(value_error("cannot hash writable memoryview object"));
    }
    if !matches!(m.fmt, 'B' | 'b' | 'c') {
        return Err(value_error("memoryview: hashing is restricted to formats 'B', 'b' or 'c'"));
    }
    Ok(Value::Int(crate::hash::hash_bytes(&m.tobytes())))
}

fn make_class() -> Rc<Class> {
    let c = new_class("memoryview", &[types().object.clone()], Layout::Builtin, None);
    let ms: &[(&str, NativeFnPtr)] = &[
        ("tobytes", tobytes),
        ("tolist", tolist),
        ("hex", hex),
        ("release", release),
        ("cast", cast),
        ("toreadonly", toreadonly),
        ("__enter__", enter),
        ("__exit__", exit),
        ("__len__", len),
        ("__getitem__", getitem),
        ("__setitem__", setitem),
        ("__iter__", iter),
        ("__eq__", eq),
        ("__ne__", ne),
        ("__hash__", hash),
    ];
    for (n, f) in ms {
        method(&c, "memoryview", n, *f);
    }
    c.dict.set_str("__new__", crate::attr::StaticMethod::wrap(crate::types::native_fn("__new__", mv_new)));
    let attrs: &[(&str, NativeFnPtr)] = &[
        ("obj", |_vm, a| Ok(live(&a)?.obj.clone())),
        ("nbytes", |_vm, a| live(&a).map(|m| Value::Int((m.len * m.itemsize()) as i64))),
        ("readonly", |_vm, a| live(&a).map(|m| Value::bool(m.readonly()))),
        ("format", |_vm, a| live(&a).map(|m| Value::str(&m.fmt.to_string()))),
        ("itemsize", |_vm, a| live(&a).map(|m| Value::Int(m.itemsize() as i64))),
        ("ndim", |_vm, a| live(&a).map(|_| Value::Int(1))),
        ("shape", |_vm, a| live(&a).map(|m| Value::tuple([Value::Int(m.len as i64)]))),
        ("strides", |_vm, a| live(&a).map(|m| Value::tuple([Value::Int(m.stride)]))),
        ("suboffsets", |_vm, a| live(&a).map(|_| Value::tuple([]))),
        ("contiguous", contiguous),
        ("c_contiguous", contiguous),
        ("f_contiguous", contiguous),
    ];
    for (name, f) in attrs {
        let fget = crate::types::native_fn(name, *f);
        c.dict.set_str(name, Value::object(crate::attr::Property { fget, fset: Value::None, fdel: Value::None, doc: Value::None }));
    }
    c
}

fn contiguous(_vm: &mut Vm, args: Args) -> PyResult {
    let m = live(&args)?;
    Ok(Value::bool(m.stride == m.itemsize() as i64 || m.len <= 1))
}

/// How many bytes `readinto`-style calls may write into `buf` (a
/// bytearray or a live, writable view of one); `who` starts the TypeError
/// for anything else (`readinto() argument`, `recv_into() argument 1`).
pub fn writable_len(buf: &Value, who: &str) -> PyResult<usize> {
    if let Some(a) = bytearray::get(buf) {
        return Ok(a.b.borrow().len());
    }
    if let Some(m) = buf.downcast::<MemoryView>() {
        m.live()?;
        if bytearray::get(&m.obj).is_some() {
            return Ok(m.len * m.itemsize());
        }
    }
    Err(type_error(format!("{who} must be read-write bytes-like object, not {}", type_name(buf))))
}

/// Copy `data` to the start of `buf`, which [`writable_len`] accepted and
/// which holds at least `data.len()` bytes; a view writes through, item by
/// item in its own order (a strided view scatters the bytes as CPython's
/// buffer copy does).
pub fn fill_writable(buf: &Value, data: &[u8]) {
    if let Some(a) = bytearray::get(buf) {
        let mut b = a.b.borrow_mut();
        let n = data.len().min(b.len());
        b[..n].copy_from_slice(&data[..n]);
        return;
    }
    if let Some(m) = buf.downcast::<MemoryView>() {
        let Some(target) = bytearray::get(&m.obj) else { return };
        let size = m.itemsize();
        let writes: Vec<(usize, Vec<u8>)> = data
            .chunks(size)
            .take(m.len)
            .enumerate()
            .map(|(k, chunk)| ((m.start as i64 + k as i64 * m.stride) as usize, chunk.to_vec()))
            .collect();
        write_through(target, &writes);
    }
}
