//! `array`: compact sequences of one C numeric type (or of characters), as
//! CPython's module has them. The items live as raw native-endian bytes, so
//! an array of a million floats takes eight megabytes, and are converted to
//! ints, floats or one-character strs as they are read.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::ops::{EQ, GE, GT, LE, LT, NE};
use aio_interp::types::bytes::bytes_like;
use aio_interp::types::{check_count, method_fast, native_fn, new_class, seq_index, slice_indices, type_name, type_of, types};
use aio_interp::{Value, Vm};
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive};

use crate::native::{instance_of, native_ref, NativeRef};

/// The typecodes, in CPython's order.
const TYPECODES: &str = "bBuhHiIlLqQfd";

/// An `array.array`: `data` holds `len * size` bytes.
pub struct Array {
    code: u8,
    size: usize,
    /// `size` as a power of two, for the indexing fast path.
    shift: u32,
    data: RefCell<Vec<u8>>,
}

/// An iterator over an array; it reads the length at each step, so items
/// appended while iterating are seen, as in CPython.
struct ArrayIter {
    array: Value,
    pos: Cell<usize>,
}

thread_local! {
    static ARRAY_CLASS: Rc<Class> = make_array_class();
    static ITER_CLASS: Rc<Class> = {
        let c = new_class("arrayiterator", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("array"));
        method_fast(&c, "arrayiterator", "__iter__", |_vm, a| Ok(a[0].clone()));
        method_fast(&c, "arrayiterator", "__next__", iter_next);
        c
    };
}

fn array_class() -> Rc<Class> {
    ARRAY_CLASS.with(|c| c.clone())
}

fn make_array_class() -> Rc<Class> {
    let c = new_class("array", &[types().object.clone()], Layout::Builtin, None);
    c.dict.set_str("__module__", Value::str("array"));
    let ms: &[(&str, FastFnPtr)] = &[
        ("append", append),
        ("extend", extend),
        ("insert", insert),
        ("pop", pop),
        ("remove", remove),
        ("index", index),
        ("count", count),
        ("reverse", reverse),
        ("buffer_info", buffer_info),
        ("byteswap", byteswap),
        ("tobytes", tobytes),
        ("frombytes", frombytes),
        ("tolist", tolist),
        ("fromlist", fromlist),
        ("tounicode", tounicode),
        ("fromunicode", fromunicode),
        ("__copy__", copy),
        ("__deepcopy__", deepcopy),
        ("__len__", len),
        ("__getitem__", getitem),
        ("__setitem__", setitem),
        ("__delitem__", delitem),
        ("__contains__", contains),
        ("__iter__", iter),
        ("__eq__", |vm, a| compare(vm, a, EQ)),
        ("__ne__", |vm, a| compare(vm, a, NE)),
        ("__lt__", |vm, a| compare(vm, a, LT)),
        ("__le__", |vm, a| compare(vm, a, LE)),
        ("__gt__", |vm, a| compare(vm, a, GT)),
        ("__ge__", |vm, a| compare(vm, a, GE)),
        ("__add__", add),
        ("__mul__", mul),
        ("__rmul__", mul),
        ("__iadd__", iadd),
        ("__imul__", imul),
        ("__repr__", repr),
    ];
    for (n, f) in ms {
        method_fast(&c, "array", n, *f);
    }
    c.dict.set_str("__hash__", Value::None);
    for (name, get) in [("typecode", typecode as FastFnPtr), ("itemsize", itemsize)] {
        let fget = aio_interp::types::native_fast(name, get);
        // CPython's words for its read-only attributes.
        let fset = aio_interp::types::native_closure(name, move |_vm, _a| {
            Err(attribute_error(format!("attribute '{name}' of 'array.array' objects is not writable")))
        });
        c.dict.set_str(name, Value::object(aio_interp::attr::Property { fget, fset, fdel: Value::None, doc: Value::None }));
    }
    c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", array_new)));
    c
}

impl NativeObject for Array {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        array_class()
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        self.repr_as(vm, "array")
    }
    #[inline]
    fn item_at(&self, i: i64) -> Option<Value> {
        let data = self.data.borrow();
        let at = slot(i, data.len(), self.shift)?;
        Some(decode(self.code, &data[at..]))
    }
    fn buffer_bytes(&self) -> Option<Vec<u8>> {
        Some(self.data.borrow().clone())
    }
    #[inline]
    fn set_item_at(&self, i: i64, v: &Value) -> bool {
        let Some(bytes) = pack_plain(self.code, v) else { return false };
        let mut data = self.data.borrow_mut();
        let Some(at) = slot(i, data.len(), self.shift) else { return false };
        data[at..at + self.size].copy_from_slice(&bytes[..self.size]);
        true
    }
}

impl NativeObject for ArrayIter {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        ITER_CLASS.with(|c| c.clone())
    }
    fn next_item(&self) -> Option<Option<Value>> {
        Some(self.step())
    }
}

impl ArrayIter {
    /// The next item, or `None` at the end.
    fn step(&self) -> Option<Value> {
        let arr = native_ref::<Array>(&self.array).expect("an iterator's array");
        let i = self.pos.get();
        match arr.get(i) {
            Some(v) => {
                self.pos.set(i + 1);
                Some(v)
            }
            // Exhausted for good, as CPython's lets go of its array.
            None => {
                self.pos.set(usize::MAX);
                None
            }
        }
    }
}

/// Bytes per item of a typecode (`u` is a 4-byte `wchar_t`, as on Linux).
fn item_size(code: u8) -> usize {
    match code {
        b'b' | b'B' => 1,
        b'h' | b'H' => 2,
        b'u' | b'i' | b'I' | b'f' => 4,
        _ => 8,
    }
}

/// The byte offset of item `i` (negative from the end) among `len` bytes
/// of items of `1 << shift` bytes, when in range.
#[inline(always)]
fn slot(i: i64, len: usize, shift: u32) -> Option<usize> {
    let n = (len >> shift) as i64;
    let j = if i < 0 { i + n } else { i };
    ((j as u64) < n as u64).then_some((j as usize) << shift)
}

/// The first `N` bytes of `b`.
#[inline(always)]
fn head<const N: usize>(b: &[u8]) -> [u8; N] {
    b[..N].try_into().expect("an item's bytes")
}

/// The item whose bytes start `b`, as a value: the machine numbers here,
/// the values that need a big int or a str in [`decode_boxed`].
#[inline(always)]
fn decode(code: u8, b: &[u8]) -> Value {
    match code {
        b'd' => Value::float(f64::from_ne_bytes(head(b))),
        b'f' => Value::float(f32::from_ne_bytes(head(b)) as f64),
        b'b' => Value::Int(b[0] as i8 as i64),
        b'B' => Value::Int(b[0] as i64),
        b'h' => Value::Int(i16::from_ne_bytes(head(b)) as i64),
        b'H' => Value::Int(u16::from_ne_bytes(head(b)) as i64),
        b'i' => Value::Int(i32::from_ne_bytes(head(b)) as i64),
        b'I' => Value::Int(u32::from_ne_bytes(head(b)) as i64),
        b'l' | b'q' => Value::Int(i64::from_ne_bytes(head(b))),
        _ => decode_boxed(code, b),
    }
}

fn decode_boxed(code: u8, b: &[u8]) -> Value {
    if code == b'u' {
        // Bytes that are no character (from `frombytes`) read as U+FFFD.
        let c = char::from_u32(u32::from_ne_bytes(head(b))).unwrap_or(char::REPLACEMENT_CHARACTER);
        return Value::string(c.to_string());
    }
    let u = u64::from_ne_bytes(head(b));
    match i64::try_from(u) {
        Ok(i) => Value::Int(i),
        Err(_) => Value::from_bigint(BigInt::from(u)),
    }
}

/// The range of an integer typecode.
fn int_bounds(code: u8) -> (i128, i128) {
    match code {
        b'b' => (i8::MIN as i128, i8::MAX as i128),
        b'B' => (0, u8::MAX as i128),
        b'h' => (i16::MIN as i128, i16::MAX as i128),
        b'H' => (0, u16::MAX as i128),
        b'i' => (i32::MIN as i128, i32::MAX as i128),
        b'I' => (0, u32::MAX as i128),
        b'l' | b'q' => (i64::MIN as i128, i64::MAX as i128),
        _ => (0, u64::MAX as i128),
    }
}

/// The bytes of an in-range integer item (the first `item_size` of them).
#[inline]
fn pack_int(code: u8, n: i128) -> [u8; 8] {
    let mut b = [0u8; 8];
    match code {
        b'b' | b'B' => b[0] = n as u8,
        b'h' | b'H' => b[..2].copy_from_slice(&(n as u16).to_ne_bytes()),
        b'i' | b'I' => b[..4].copy_from_slice(&(n as u32).to_ne_bytes()),
        _ => b.copy_from_slice(&(n as u64).to_ne_bytes()),
    }
    b
}

/// The bytes of a float item.
#[inline]
fn pack_float(code: u8, x: f64) -> [u8; 8] {
    let mut b = [0u8; 8];
    if code == b'f' {
        b[..4].copy_from_slice(&(x as f32).to_ne_bytes());
    } else {
        b = x.to_ne_bytes();
    }
    b
}

/// The bytes of `v` as an item when it is an int or a float the typecode
/// takes as it is: no method to call, no error to raise. `None` sends the
/// caller to [`pack`].
#[inline]
fn pack_plain(code: u8, v: &Value) -> Option<[u8; 8]> {
    match (code, v) {
        (b'd' | b'f', Value::Float(x)) => Some(pack_float(code, x.get())),
        (b'd' | b'f', Value::Int(i)) => Some(pack_float(code, *i as f64)),
        (b'u' | b'd' | b'f', _) => None,
        (_, Value::Int(i)) => {
            let (lo, hi) = int_bounds(code);
            let n = *i as i128;
            (lo..=hi).contains(&n).then(|| pack_int(code, n))
        }
        _ => None,
    }
}

/// The bytes of `v` as an item of typecode `code`, with CPython's errors.
fn pack(vm: &mut Vm, code: u8, v: &Value) -> PyResult<[u8; 8]> {
    if let Some(b) = pack_plain(code, v) {
        return Ok(b);
    }
    match code {
        b'd' | b'f' => Ok(pack_float(code, crate::math::to_f64(vm, v)?)),
        b'u' => match v {
            Value::Str(s) if s.char_len() == 1 => {
                let c = s.as_str().chars().next().expect("one character");
                Ok(pack_int(b'I', c as i128))
            }
            _ => Err(type_error("array item must be unicode character")),
        },
        _ => {
            let n = match v {
                Value::Int(i) => *i as i128,
                Value::Bool(b) => b.get() as i128,
                _ => {
                    let b = crate::math::to_int(vm, v)?;
                    // Past 128 bits only the sign matters to the range check.
                    b.to_i128().unwrap_or(if b.is_negative() { i128::MIN } else { i128::MAX })
                }
            };
            let (lo, hi) = int_bounds(code);
            if (lo..=hi).contains(&n) {
                Ok(pack_int(code, n))
            } else {
                Err(range_error(code, n))
            }
        }
    }
}

/// CPython's error for an int out of a typecode's range: the words of the
/// C conversion each typecode goes through.
#[cold]
fn range_error(code: u8, n: i128) -> PyErr {
    let beyond_long = i64::try_from(n).is_err();
    let above = n > 0;
    let msg = match code {
        b'b' | b'B' | b'h' | b'H' | b'i' | b'l' if beyond_long => "Python int too large to convert to C long",
        b'b' if above => "signed char is greater than maximum",
        b'b' => "signed char is less than minimum",
        b'B' if above => "unsigned byte integer is greater than maximum",
        b'B' => "unsigned byte integer is less than minimum",
        b'h' if above => "signed short integer is greater than maximum",
        b'h' => "signed short integer is less than minimum",
        b'H' if above => "unsigned short is greater than maximum",
        b'H' => "unsigned short is less than minimum",
        b'i' if above => "signed integer is greater than maximum",
        b'i' => "signed integer is less than minimum",
        b'I' | b'L' if !above => "can't convert negative value to unsigned int",
        b'I' | b'L' if n > u64::MAX as i128 => "Python int too large to convert to C unsigned long",
        b'I' => "unsigned int is greater than maximum",
        b'Q' if !above => "can't convert negative int to unsigned",
        _ => "int too big to convert",
    };
    overflow_error(msg)
}

impl Array {
    fn new(code: u8, data: Vec<u8>) -> Array {
        let size = item_size(code);
        Array { code, size, shift: size.trailing_zeros(), data: RefCell::new(data) }
    }
    fn len(&self) -> usize {
        self.data.borrow().len() / self.size
    }
    fn get(&self, i: usize) -> Option<Value> {
        let data = self.data.borrow();
        (i < data.len() / self.size).then(|| decode(self.code, &data[i * self.size..]))
    }
    fn values(&self) -> Vec<Value> {
        self.data.borrow().chunks_exact(self.size).map(|b| decode(self.code, b)).collect()
    }
    /// The bytes of `items` as this array's items; on an error nothing is kept.
    fn pack_all(&self, vm: &mut Vm, items: &[Value]) -> PyResult<Vec<u8>> {
        let mut out = Vec::with_capacity(items.len() * self.size);
        for v in items {
            out.extend_from_slice(&pack(vm, self.code, v)?[..self.size]);
        }
        Ok(out)
    }
    fn push(&self, vm: &mut Vm, v: &Value) -> PyResult<()> {
        let b = pack(vm, self.code, v)?;
        self.data.borrow_mut().extend_from_slice(&b[..self.size]);
        Ok(())
    }
    /// A new array value of the same typecode.
    fn with_data(&self, data: Vec<u8>) -> Value {
        Value::object(Array::new(self.code, data))
    }
    fn repr_as(&self, vm: &mut Vm, name: &str) -> PyResult<String> {
        let code = self.code as char;
        if self.len() == 0 {
            return Ok(format!("{name}('{code}')"));
        }
        let inner = if self.code == b'u' { Value::string(self.unicode()) } else { Value::list(self.values()) };
        Ok(format!("{name}('{code}', {})", vm.repr_str(&inner)?))
    }
    fn unicode(&self) -> String {
        self.values().iter().filter_map(|v| v.as_str().map(|s| s.as_str().to_string())).collect()
    }
    /// Resolve an item index (`__index__` semantics); `err` when out of range.
    fn position(&self, vm: &mut Vm, i: &Value, err: &str) -> PyResult<usize> {
        let i = match i {
            Value::BigInt(_) => return Err(index_error("cannot fit 'int' into an index-sized integer")),
            _ => vm
                .index_value(i)
                .map_err(|e| if e.is(&types().exc.type_error) { type_error("array indices must be integers") } else { e })?,
        };
        seq_index(i, self.len()).ok_or_else(|| index_error(err.to_string()))
    }
}

fn this(a: &[Value]) -> PyResult<NativeRef<Array>> {
    a.first().and_then(native_ref::<Array>).ok_or_else(|| type_error("descriptor requires a 'array.array' object"))
}

/// An array argument, when the value is one.
fn as_array(v: &Value) -> Option<NativeRef<Array>> {
    native_ref::<Array>(v)
}

/// `array.__new__(cls, typecode[, initializer])`.
fn array_new(vm: &mut Vm, args: Args) -> PyResult {
    let base = array_class();
    let (cls, rest) = match args.pos.first() {
        Some(Value::Class(c)) => (c.clone(), &args.pos[1..]),
        _ => (base.clone(), &args.pos[..]),
    };
    if !args.kw.is_empty() {
        return Err(type_error("array.array() takes no keyword arguments"));
    }
    if rest.is_empty() {
        return Err(type_error("array() takes at least 1 argument (0 given)"));
    }
    if rest.len() > 2 {
        return Err(type_error(format!("array() takes at most 2 arguments ({} given)", rest.len())));
    }
    let code = match &rest[0] {
        Value::Str(s) if s.char_len() == 1 => s.as_str().chars().next().expect("one character"),
        other => return Err(type_error(format!("array() argument 1 must be a unicode character, not {}", type_name(other)))),
    };
    if !code.is_ascii() || !TYPECODES.contains(code) {
        return Err(value_error("bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)"));
    }
    let a = Array::new(code as u8, Vec::new());
    if let Some(init) = rest.get(1) {
        fill(vm, &a, init)?;
    }
    Ok(instance_of(&cls, &base, Value::object(a)))
}

/// The initializer of `array(typecode, initializer)`.
fn fill(vm: &mut Vm, a: &Array, init: &Value) -> PyResult<()> {
    let code = a.code as char;
    if let Value::Str(s) = init {
        if a.code != b'u' {
            return Err(type_error(format!("cannot use a str to initialize an array with typecode '{code}'")));
        }
        return extend_unicode(a, s.as_str());
    }
    if let Some(other) = as_array(init) {
        if other.code == b'u' && a.code != b'u' {
            return Err(type_error(format!("cannot use a unicode array to initialize an array with typecode '{code}'")));
        }
        let items = other.values();
        let data = a.pack_all(vm, &items)?;
        *a.data.borrow_mut() = data;
        return Ok(());
    }
    if let Some(b) = bytes_like(init) {
        return extend_bytes(a, &b);
    }
    let items = vm.collect(init)?;
    let data = a.pack_all(vm, &items)?;
    *a.data.borrow_mut() = data;
    Ok(())
}

fn extend_unicode(a: &Array, s: &str) -> PyResult<()> {
    let mut data = a.data.borrow_mut();
    for c in s.chars() {
        data.extend_from_slice(&(c as u32).to_ne_bytes());
    }
    Ok(())
}

fn extend_bytes(a: &Array, b: &[u8]) -> PyResult<()> {
    if !b.len().is_multiple_of(a.size) {
        return Err(value_error("bytes length not a multiple of item size"));
    }
    a.data.borrow_mut().extend_from_slice(b);
    Ok(())
}

fn typecode(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::string((this(a)?.code as char).to_string()))
}

fn itemsize(_vm: &mut Vm, a: &[Value]) -> PyResult {
    Ok(Value::Int(this(a)?.size as i64))
}

fn repr(vm: &mut Vm, a: &[Value]) -> PyResult {
    let arr = this(a)?;
    let name = type_of(&a[0]).name();
    arr.repr_as(vm, name.as_str()).map(Value::string)
}

fn len(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.__len__", a.len() - 1, 0, 0)?;
    Ok(Value::Int(this(a)?.len() as i64))
}

fn append(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.append", a.len() - 1, 1, 1)?;
    this(a)?.push(vm, &a[1])?;
    Ok(Value::None)
}

/// `extend(iterable)`: an array must have the same typecode; items of
/// another iterable go in one by one (those before a bad one stay).
fn extend(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.extend", a.len() - 1, 1, 1)?;
    let arr = this(a)?;
    extend_with(vm, &arr, &a[1])?;
    Ok(Value::None)
}

fn extend_with(vm: &mut Vm, arr: &Array, src: &Value) -> PyResult<()> {
    if let Some(other) = as_array(src) {
        if other.code != arr.code {
            return Err(type_error("can only extend with array of same kind"));
        }
        let more = other.data.borrow().clone();
        arr.data.borrow_mut().extend_from_slice(&more);
        return Ok(());
    }
    let it = vm.iter(src)?;
    while let Some(v) = vm.next(&it)? {
        arr.push(vm, &v)?;
    }
    Ok(())
}

fn insert(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("insert", a.len() - 1, 2, 2)?;
    let arr = this(a)?;
    let i = vm.index_value(&a[1])?;
    let b = pack(vm, arr.code, &a[2])?;
    let n = arr.len() as i64;
    let at = if i < 0 { (i + n).max(0) } else { i.min(n) } as usize;
    let s = arr.size;
    arr.data.borrow_mut().splice(at * s..at * s, b[..s].iter().copied());
    Ok(Value::None)
}

fn pop(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("pop", a.len() - 1, 0, 1)?;
    let arr = this(a)?;
    let i = match a.get(1) {
        Some(v) => vm.index_value(v)?,
        None => -1,
    };
    let n = arr.len();
    if n == 0 {
        return Err(index_error("pop from empty array"));
    }
    let j = seq_index(i, n).ok_or_else(|| index_error("pop index out of range"))?;
    let v = arr.get(j).expect("an index in range");
    arr.data.borrow_mut().drain(j * arr.size..(j + 1) * arr.size);
    Ok(v)
}

/// `item == x` for an item just read from an array: a fresh value, so a
/// NaN item equals nothing (`vm.eq` takes one float for itself).
fn item_eq(vm: &mut Vm, item: &Value, x: &Value) -> PyResult<bool> {
    match (item, x) {
        (Value::Float(p), Value::Float(q)) => Ok(p.get() == q.get()),
        _ => vm.eq(item, x),
    }
}

/// The index of the first item equal to `x` in `from..to`.
fn find(vm: &mut Vm, arr: &Array, x: &Value, from: usize, to: usize) -> PyResult<Option<usize>> {
    let mut i = from;
    while i < to {
        let Some(v) = arr.get(i) else { break };
        if item_eq(vm, &v, x)? {
            return Ok(Some(i));
        }
        i += 1;
    }
    Ok(None)
}

fn remove(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.remove", a.len() - 1, 1, 1)?;
    let arr = this(a)?;
    let j = find(vm, &arr, &a[1], 0, usize::MAX)?.ok_or_else(|| value_error("array.remove(x): x not in array"))?;
    arr.data.borrow_mut().drain(j * arr.size..(j + 1) * arr.size);
    Ok(Value::None)
}

fn index(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("index", a.len() - 1, 1, 3)?;
    let arr = this(a)?;
    let (from, to) = aio_interp::types::search_range(vm, a.get(2), a.get(3), arr.len() as i64)?;
    let found = find(vm, &arr, &a[1], from as usize, to.max(0) as usize)?;
    found.map(|i| Value::Int(i as i64)).ok_or_else(|| value_error("array.index(x): x not in array"))
}

fn count(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.count", a.len() - 1, 1, 1)?;
    let arr = this(a)?;
    let mut n = 0;
    let mut i = 0;
    while let Some(v) = arr.get(i) {
        if item_eq(vm, &v, &a[1])? {
            n += 1;
        }
        i += 1;
    }
    Ok(Value::Int(n))
}

fn contains(vm: &mut Vm, a: &[Value]) -> PyResult {
    let arr = this(a)?;
    Ok(Value::bool(find(vm, &arr, &a[1], 0, usize::MAX)?.is_some()))
}

fn reverse(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.reverse", a.len() - 1, 0, 0)?;
    let arr = this(a)?;
    let s = arr.size;
    let mut data = arr.data.borrow_mut();
    let reversed: Vec<u8> = data.chunks_exact(s).rev().flatten().copied().collect();
    *data = reversed;
    Ok(Value::None)
}

/// `buffer_info()`: the address of the items and their count.
fn buffer_info(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.buffer_info", a.len() - 1, 0, 0)?;
    let arr = this(a)?;
    let data = arr.data.borrow();
    // An empty array has no buffer: CPython gives its null pointer.
    let addr = if data.is_empty() { 0 } else { data.as_ptr() as i64 };
    Ok(Value::tuple(vec![Value::Int(addr), Value::Int((data.len() / arr.size) as i64)]))
}

fn byteswap(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.byteswap", a.len() - 1, 0, 0)?;
    let arr = this(a)?;
    let s = arr.size;
    for item in arr.data.borrow_mut().chunks_exact_mut(s) {
        item.reverse();
    }
    Ok(Value::None)
}

fn tobytes(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.tobytes", a.len() - 1, 0, 0)?;
    Ok(Value::bytes(this(a)?.data.borrow().clone()))
}

fn frombytes(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.frombytes", a.len() - 1, 1, 1)?;
    let arr = this(a)?;
    let src = &a[1];
    if let Some(other) = as_array(src) {
        // As a buffer an array is bytes only when its items are bytes.
        if other.size != 1 {
            return Err(type_error("a bytes-like object is required"));
        }
        let b = other.data.borrow().clone();
        extend_bytes(&arr, &b)?;
    } else if let Some(b) = bytes_like(src) {
        extend_bytes(&arr, &b)?;
    } else {
        return Err(type_error(format!("a bytes-like object is required, not '{}'", type_name(src))));
    }
    Ok(Value::None)
}

fn tolist(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.tolist", a.len() - 1, 0, 0)?;
    Ok(Value::list(this(a)?.values()))
}

/// `fromlist(list)`: all the items or, on a bad one, none.
fn fromlist(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.fromlist", a.len() - 1, 1, 1)?;
    let arr = this(a)?;
    let Value::List(l) = &a[1] else {
        return Err(type_error("arg must be list"));
    };
    let items: Vec<Value> = l.borrow().to_vec();
    let more = arr.pack_all(vm, &items)?;
    arr.data.borrow_mut().extend_from_slice(&more);
    Ok(Value::None)
}

fn tounicode(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.tounicode", a.len() - 1, 0, 0)?;
    let arr = this(a)?;
    if arr.code != b'u' {
        return Err(value_error("tounicode() may only be called on unicode type arrays"));
    }
    Ok(Value::string(arr.unicode()))
}

fn fromunicode(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.fromunicode", a.len() - 1, 1, 1)?;
    let arr = this(a)?;
    let Value::Str(s) = &a[1] else {
        return Err(type_error(format!("fromunicode() argument must be str, not {}", type_name(&a[1]))));
    };
    if arr.code != b'u' {
        return Err(value_error("fromunicode() may only be called on unicode type arrays"));
    }
    extend_unicode(&arr, s.as_str())?;
    Ok(Value::None)
}

fn copy(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.__copy__", a.len() - 1, 0, 0)?;
    let arr = this(a)?;
    let data = arr.data.borrow().clone();
    Ok(arr.with_data(data))
}

/// `__deepcopy__(memo)`: the items are numbers or characters, so a copy.
fn deepcopy(_vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.__deepcopy__", a.len() - 1, 1, 1)?;
    let arr = this(a)?;
    let data = arr.data.borrow().clone();
    Ok(arr.with_data(data))
}

fn getitem(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.__getitem__", a.len() - 1, 1, 1)?;
    let arr = this(a)?;
    if let Value::Slice(sl) = &a[1] {
        let (start, _, step, count) = slice_indices(vm, sl, arr.len())?;
        let s = arr.size;
        let data = arr.data.borrow();
        let mut out = Vec::with_capacity(count * s);
        for k in 0..count as i64 {
            let i = (start + k * step) as usize;
            out.extend_from_slice(&data[i * s..(i + 1) * s]);
        }
        return Ok(arr.with_data(out));
    }
    let i = arr.position(vm, &a[1], "array index out of range")?;
    Ok(arr.get(i).expect("an index in range"))
}

fn setitem(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.__setitem__", a.len() - 1, 2, 2)?;
    let arr = this(a)?;
    let s = arr.size;
    if let Value::Slice(sl) = &a[1] {
        let Some(other) = as_array(&a[2]) else {
            return Err(type_error(format!("can only assign array (not \"{}\") to array slice", type_name(&a[2]))));
        };
        if other.code != arr.code {
            return Err(type_error("bad argument type for built-in operation"));
        }
        // A copy first: the source may be the array itself.
        let src = other.data.borrow().clone();
        let (start, _, step, count) = slice_indices(vm, sl, arr.len())?;
        let mut data = arr.data.borrow_mut();
        if step == 1 {
            let at = start as usize * s;
            data.splice(at..at + count * s, src);
            return Ok(Value::None);
        }
        if src.len() / s != count {
            return Err(value_error(format!("attempt to assign array of size {} to extended slice of size {count}", src.len() / s)));
        }
        for (k, item) in src.chunks_exact(s).enumerate() {
            let i = (start + k as i64 * step) as usize;
            data[i * s..(i + 1) * s].copy_from_slice(item);
        }
        return Ok(Value::None);
    }
    let i = arr.position(vm, &a[1], "array assignment index out of range")?;
    let b = pack(vm, arr.code, &a[2])?;
    // The conversion may have run code that shrank the array.
    let mut data = arr.data.borrow_mut();
    if (i + 1) * s > data.len() {
        return Err(index_error("array assignment index out of range"));
    }
    data[i * s..(i + 1) * s].copy_from_slice(&b[..s]);
    Ok(Value::None)
}

fn delitem(vm: &mut Vm, a: &[Value]) -> PyResult {
    check_count("array.__delitem__", a.len() - 1, 1, 1)?;
    let arr = this(a)?;
    let s = arr.size;
    if let Value::Slice(sl) = &a[1] {
        let (start, _, step, count) = slice_indices(vm, sl, arr.len())?;
        let mut data = arr.data.borrow_mut();
        if step == 1 {
            let at = start as usize * s;
            data.drain(at..at + count * s);
            return Ok(Value::None);
        }
        let mut gone = vec![false; data.len() / s];
        for k in 0..count as i64 {
            gone[(start + k * step) as usize] = true;
        }
        let kept: Vec<u8> = data.chunks_exact(s).zip(&gone).filter(|(_, g)| !**g).flat_map(|(item, _)| item.iter().copied()).collect();
        *data = kept;
        return Ok(Value::None);
    }
    let i = arr.position(vm, &a[1], "array assignment index out of range")?;
    arr.data.borrow_mut().drain(i * s..(i + 1) * s);
    Ok(Value::None)
}

fn iter(_vm: &mut Vm, a: &[Value]) -> PyResult {
    this(a)?;
    Ok(Value::object(ArrayIter { array: a[0].clone(), pos: Cell::new(0) }))
}

fn iter_next(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let it = a.first().and_then(|v| v.downcast::<ArrayIter>()).ok_or_else(|| type_error("expected an array iterator"))?;
    it.step().ok_or_else(|| stop_iteration(Value::None))
}

/// Arrays compare item by item, as lists do, and only with arrays.
fn compare(vm: &mut Vm, a: &[Value], op: u8) -> PyResult {
    let arr = this(a)?;
    let Some(other) = a.get(1).and_then(as_array) else {
        return Ok(Value::NotImplemented);
    };
    let (n, m) = (arr.len(), other.len());
    if (op == EQ || op == NE) && n != m {
        return Ok(Value::bool(op == NE));
    }
    let mut i = 0;
    while let (Some(x), Some(y)) = (arr.get(i), other.get(i)) {
        if !item_eq(vm, &x, &y)? {
            return vm.compare(op, &x, &y);
        }
        i += 1;
    }
    vm.compare(op, &Value::Int(n as i64), &Value::Int(m as i64))
}

/// The other array of `a + b` or `a += b`, with CPython's errors.
fn same_kind(arr: &Array, other: &Value) -> PyResult<Vec<u8>> {
    let Some(o) = as_array(other) else {
        return Err(type_error(format!("can only append array (not \"{}\") to array", type_name(other))));
    };
    if o.code != arr.code {
        return Err(type_error("bad argument type for built-in operation"));
    }
    let data = o.data.borrow().clone();
    Ok(data)
}

fn add(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let arr = this(a)?;
    let more = same_kind(&arr, &a[1])?;
    let mut data = arr.data.borrow().clone();
    data.extend_from_slice(&more);
    Ok(arr.with_data(data))
}

fn iadd(_vm: &mut Vm, a: &[Value]) -> PyResult {
    let arr = this(a)?;
    if as_array(&a[1]).is_none() {
        return Err(type_error(format!("can only extend array with array (not \"{}\")", type_name(&a[1]))));
    }
    let more = same_kind(&arr, &a[1])?;
    arr.data.borrow_mut().extend_from_slice(&more);
    Ok(a[0].clone())
}

/// The count of `a * n`, with CPython's error for a non-integer.
fn repeat_count(vm: &mut Vm, n: &Value) -> PyResult<usize> {
    match n {
        Value::Int(_) | Value::Bool(_) => {}
        Value::BigInt(_) => return Err(overflow_error("cannot fit 'int' into an index-sized integer")),
        other if aio_interp::ops::lookup_special(other, "__index__").is_some() => {}
        other => return Err(type_error(format!("can't multiply sequence by non-int of type '{}'", type_name(other)))),
    }
    Ok(vm.index_value(n)?.max(0) as usize)
}

fn repeated(data: &[u8], n: usize) -> PyResult<Vec<u8>> {
    if n != 0 && data.len().checked_mul(n).is_none_or(|t| t > isize::MAX as usize) {
        return Err(aio_interp::ops::memory_error());
    }
    Ok(data.repeat(n))
}

fn mul(vm: &mut Vm, a: &[Value]) -> PyResult {
    let arr = this(a)?;
    let n = repeat_count(vm, &a[1])?;
    let data = repeated(&arr.data.borrow(), n)?;
    Ok(arr.with_data(data))
}

fn imul(vm: &mut Vm, a: &[Value]) -> PyResult {
    let arr = this(a)?;
    let n = repeat_count(vm, &a[1])?;
    let data = repeated(&arr.data.borrow(), n)?;
    *arr.data.borrow_mut() = data;
    Ok(a[0].clone())
}

/// The `array` module.
pub fn module(_vm: &mut Vm) -> PyResult<Value> {
    let m = aio_interp::import::new_module("array", None);
    let cls = Value::Class(array_class());
    m.set("array", cls.clone());
    m.set("ArrayType", cls);
    m.set("typecodes", Value::str(TYPECODES));
    Ok(Value::Module(m))
}
