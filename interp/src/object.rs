//! The heap objects behind `Value`: strings, containers, functions, classes,
//! instances, modules, generators, iterators and native objects.

use std::any::Any;
use std::cell::{Cell, Ref, RefCell, RefMut};
use std::mem::MaybeUninit;
use std::rc::Rc;

use smallvec::SmallVec;

use crate::bytecode::Code;
use crate::charindex;
use crate::dict::DictData;
use crate::gc::GcSlot;
use crate::set::SetData;
use crate::shape::{AttrMap, Attrs, SharedKeys};
use crate::value::Value;
use crate::vm::Vm;

/// The result of anything that can raise.
pub type PyResult<T = Value> = Result<T, PyErr>;

/// A raised exception: always an instance of a `BaseException` subclass.
#[derive(Clone)]
pub struct PyErr(pub Rc<Instance>);

impl PyErr {
    pub fn value(&self) -> Value {
        Value::Instance(self.0.clone())
    }
    pub fn class(&self) -> Rc<Class> {
        self.0.class()
    }
    pub fn exc(&self) -> &ExcData {
        self.0.exc().expect("exception instance")
    }
}

impl std::fmt::Debug for PyErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} exception>", self.class().name())
    }
}

// ---------------------------------------------------------------- strings

/// An immutable Unicode string with a cached hash.
pub struct PyStr {
    repr: StrRepr,
    hash: Cell<i64>,
    ascii: bool,
}

/// Strings up to this many bytes live inside the `PyStr` itself.
const INLINE_STR: usize = 22;

// Most strings a program makes are short (names, keys, digits, words): kept
// inline they cost one allocation (the `Rc`) instead of two.
enum StrRepr {
    Inline { len: u8, buf: [u8; INLINE_STR] },
    Heap(Box<str>),
}

/// Python hashes are never -1, so it marks "not computed yet".
const NO_HASH: i64 = -1;

impl PyStr {
    pub fn new(s: &str) -> PyStr {
        let repr = if s.len() <= INLINE_STR {
            let mut buf = [0u8; INLINE_STR];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            StrRepr::Inline { len: s.len() as u8, buf }
        } else {
            StrRepr::Heap(s.into())
        };
        PyStr { ascii: s.is_ascii(), repr, hash: Cell::new(NO_HASH) }
    }
    pub fn from_string(s: String) -> PyStr {
        if s.len() <= INLINE_STR {
            return PyStr::new(&s);
        }
        PyStr { ascii: s.is_ascii(), repr: StrRepr::Heap(s.into_boxed_str()), hash: Cell::new(NO_HASH) }
    }
    /// The concatenation `a + b`, built in place.
    pub fn concat(a: &str, b: &str) -> PyStr {
        let n = a.len() + b.len();
        if n <= INLINE_STR {
            let mut buf = [0u8; INLINE_STR];
            buf[..a.len()].copy_from_slice(a.as_bytes());
            buf[a.len()..n].copy_from_slice(b.as_bytes());
            return PyStr { ascii: a.is_ascii() && b.is_ascii(), repr: StrRepr::Inline { len: n as u8, buf }, hash: Cell::new(NO_HASH) };
        }
        let mut s = String::with_capacity(n);
        s.push_str(a);
        s.push_str(b);
        PyStr::from_string(s)
    }
    /// The concatenation of `parts`, built in place with one allocation at
    /// most (an f-string's pieces, a repr's quotes); `ascii`: whether they
    /// all are.
    pub fn concat_all<'a, I: Iterator<Item = &'a str> + Clone>(parts: I, ascii: bool) -> PyStr {
        let n: usize = parts.clone().map(str::len).sum();
        if n <= INLINE_STR {
            let mut buf = [0u8; INLINE_STR];
            let mut at = 0;
            for p in parts {
                buf[at..at + p.len()].copy_from_slice(p.as_bytes());
                at += p.len();
            }
            return PyStr { ascii, repr: StrRepr::Inline { len: n as u8, buf }, hash: Cell::new(NO_HASH) };
        }
        let mut s = String::with_capacity(n);
        for p in parts {
            s.push_str(p);
        }
        PyStr { ascii, repr: StrRepr::Heap(s.into_boxed_str()), hash: Cell::new(NO_HASH) }
    }
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.repr {
            // SAFETY: the first `len` bytes were copied from a `str`.
            StrRepr::Inline { len, buf } => unsafe { std::str::from_utf8_unchecked(buf.get_unchecked(..*len as usize)) },
            StrRepr::Heap(s) => s,
        }
    }
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }
    /// The same text? Two short strings compare as a few words (their
    /// unused inline bytes are always zero), without a call.
    #[inline]
    pub fn same_text(&self, other: &PyStr) -> bool {
        match (&self.repr, &other.repr) {
            (StrRepr::Inline { len: a, buf: x }, StrRepr::Inline { len: b, buf: y }) => a == b && x == y,
            _ => self.as_str() == other.as_str(),
        }
    }
    /// Length in code points, as `len()` counts.
    pub fn char_len(&self) -> usize {
        let s = self.as_str();
        if self.ascii {
            s.len()
        } else if s.len() >= charindex::MIN_BYTES {
            charindex::char_len(s)
        } else {
            s.chars().count()
        }
    }
    /// `s[i]`: the code point at index `i` (negative: from the end), if in range.
    pub fn item(&self, i: i64) -> Option<char> {
        let s = self.as_str();
        if s.len() >= charindex::MIN_BYTES && !self.ascii {
            return charindex::char_at(s, i);
        }
        let j = crate::types::seq_index(i, self.char_len())?;
        if self.ascii {
            Some(s.as_bytes()[j] as char)
        } else {
            s.chars().nth(j)
        }
    }
    /// Byte offset of code point `i` (i may equal the length).
    pub fn byte_offset(&self, i: usize) -> usize {
        let s = self.as_str();
        if self.ascii {
            i.min(s.len())
        } else if s.len() >= charindex::MIN_BYTES {
            charindex::byte_offset(s, i)
        } else {
            s.char_indices().nth(i).map_or(s.len(), |(b, _)| b)
        }
    }
    /// The index of the code point at byte offset `b` (a boundary).
    pub fn char_index(&self, b: usize) -> usize {
        let s = self.as_str();
        if self.ascii {
            b
        } else if s.len() >= charindex::MIN_BYTES {
            charindex::char_index(s, b)
        } else {
            s[..b].chars().count()
        }
    }
    pub fn hash(&self) -> i64 {
        let h = self.hash.get();
        if h != NO_HASH {
            return h;
        }
        let h = crate::hash::hash_str(self.as_str());
        self.hash.set(h);
        h
    }
}

impl Drop for PyStr {
    fn drop(&mut self) {
        if !self.ascii && self.as_str().len() >= charindex::MIN_BYTES {
            charindex::forget(self.as_str());
        }
    }
}

impl std::fmt::Display for PyStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::ops::Deref for PyStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// An immutable byte string.
pub struct PyBytes {
    pub b: Box<[u8]>,
}

// ---------------------------------------------------------------- containers

/// A mutable list.
#[derive(Default)]
pub struct PyList {
    items: RefCell<Vec<Value>>,
    pub gc: GcSlot,
}

impl PyList {
    pub fn new(items: Vec<Value>) -> PyList {
        PyList { items: RefCell::new(items), gc: GcSlot::default() }
    }
    pub fn try_borrow(&self) -> Result<Ref<'_, Vec<Value>>, std::cell::BorrowError> {
        self.items.try_borrow()
    }
    pub fn try_borrow_mut(&self) -> Result<RefMut<'_, Vec<Value>>, std::cell::BorrowMutError> {
        self.items.try_borrow_mut()
    }
    #[inline]
    pub fn borrow(&self) -> Ref<'_, Vec<Value>> {
        self.items.borrow()
    }
    #[inline]
    pub fn borrow_mut(&self) -> RefMut<'_, Vec<Value>> {
        self.items.borrow_mut()
    }
    pub fn len(&self) -> usize {
        self.items.borrow().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, i: usize) -> Option<Value> {
        self.items.borrow().get(i).cloned()
    }
    #[inline]
    pub fn push(&self, v: Value) {
        self.items.borrow_mut().push(v)
    }
    /// A snapshot of the items, for iterating while calling back into .aio code.
    pub fn to_vec(&self) -> Vec<Value> {
        self.items.borrow().clone()
    }
}

/// How many items a tuple holds inside its own allocation.
const TUPLE_INLINE: usize = 2;

/// The items of a tuple, read as a slice (`t.items[0]`, `t.items.iter()`).
/// Up to `TUPLE_INLINE` of them live inside the tuple itself
/// (`PyTuple::inline`), so a pair (a dict item, a `zip` or `enumerate`
/// step, a `return a, b`) is one allocation, not two: most tuples a program
/// makes are that small, and making and dropping one is on the path of
/// every such step. A longer tuple keeps its items in a boxed slice. The
/// pointer says where either way, so reading them tests nothing.
pub struct TupleItems {
    /// Set once, as the tuple is made (`PyTuple::new_rc`).
    ptr: Cell<*const Value>,
    len: usize,
}

impl std::ops::Deref for TupleItems {
    type Target = [Value];
    #[inline(always)]
    fn deref(&self) -> &[Value] {
        // SAFETY: `ptr` points at the `len` values the tuple owns, inside
        // it or in its boxed slice, for as long as the tuple lives.
        unsafe { std::slice::from_raw_parts(self.ptr.get(), self.len) }
    }
}

/// A tuple's items before the tuple is made (made only here, so that
/// inline items are never more than `TUPLE_INLINE`).
pub struct TupleInit(Init);

/// Held inline (the first `usize` of the array) or boxed.
enum Init {
    Inline([MaybeUninit<Value>; TUPLE_INLINE], usize),
    Boxed(Box<[Value]>),
}

impl TupleInit {
    /// At most `TUPLE_INLINE` values, held inline.
    fn inline(items: impl IntoIterator<Item = Value>) -> TupleInit {
        let mut buf = [const { MaybeUninit::uninit() }; TUPLE_INLINE];
        let mut n = 0;
        for v in items {
            buf[n].write(v);
            n += 1;
        }
        TupleInit(Init::Inline(buf, n))
    }

    /// The `n` values from `first` up, moved out (the value stack's top,
    /// for `BuildTuple`).
    ///
    /// # Safety
    /// `first..first + n` holds values whose ownership passes to the result.
    #[inline]
    pub unsafe fn moved_from(first: *const Value, n: usize) -> TupleInit {
        if n <= TUPLE_INLINE {
            let mut buf = [const { MaybeUninit::uninit() }; TUPLE_INLINE];
            std::ptr::copy_nonoverlapping(first, buf.as_mut_ptr() as *mut Value, n);
            TupleInit(Init::Inline(buf, n))
        } else {
            let mut items = Vec::with_capacity(n);
            std::ptr::copy_nonoverlapping(first, items.as_mut_ptr(), n);
            items.set_len(n);
            TupleInit(Init::Boxed(items.into_boxed_slice()))
        }
    }
}

/// What a tuple can be made from (`Value::tuple`, `PyTuple::new_rc`): a
/// vector, an array or a `TupleInit`.
pub trait IntoTupleItems {
    fn into_tuple_init(self) -> TupleInit;
}

impl IntoTupleItems for TupleInit {
    #[inline(always)]
    fn into_tuple_init(self) -> TupleInit {
        self
    }
}

impl IntoTupleItems for Vec<Value> {
    fn into_tuple_init(self) -> TupleInit {
        if self.len() <= TUPLE_INLINE {
            TupleInit::inline(self)
        } else {
            TupleInit(Init::Boxed(self.into_boxed_slice()))
        }
    }
}

impl<const N: usize> IntoTupleItems for [Value; N] {
    #[inline(always)]
    fn into_tuple_init(self) -> TupleInit {
        if N <= TUPLE_INLINE {
            TupleInit::inline(self)
        } else {
            TupleInit(Init::Boxed(Box::new(self)))
        }
    }
}

/// An immutable tuple. Made only behind an `Rc` (`PyTuple::new_rc`): a
/// short tuple's `items` point into the tuple itself. Its items are inline
/// exactly when there are at most `TUPLE_INLINE` of them, which a tuple
/// moved out of its `Rc` (`PyTuple::into_items`, `Drop`) goes by.
pub struct PyTuple {
    pub items: TupleItems,
    pub gc: GcSlot,
    /// When the hash below holds (see `PyTuple::cached_hash`).
    hash_stamp: Cell<u32>,
    hash: Cell<i64>,
    /// A short tuple's items (see `TupleItems`); unused by a longer one.
    inline: [MaybeUninit<Value>; TUPLE_INLINE],
}

impl Drop for PyTuple {
    fn drop(&mut self) {
        self.gc.untrack();
        let len = self.items.len;
        // SAFETY: the tuple owns its items, dropped here once: in place
        // when they are inline, else with the box that holds them.
        unsafe {
            if len <= TUPLE_INLINE {
                std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(self.inline.as_mut_ptr() as *mut Value, len));
            } else {
                drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.items.ptr.get() as *mut Value, len)));
            }
        }
    }
}

/// `PyTuple::hash_stamp`: no hash kept.
const HASH_NONE: u32 = 0;
/// `PyTuple::hash_stamp`: the kept hash holds for good (its items are
/// numbers, strs, bytes, frozensets and tuples of those).
const HASH_FOREVER: u32 = u32::MAX;

/// Bumped when an instance's hash may change without the instance
/// changing: `__hash__` or `__eq__` assigned to a class, an instance's
/// `__class__` assigned. A tuple holding instances keeps its hash with the
/// generation it was computed in.
static HASH_GENERATION: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// See `HASH_GENERATION`.
pub fn bump_hash_generation() {
    let g = HASH_GENERATION.load(std::sync::atomic::Ordering::Relaxed);
    // Wrapping would make old stamps look current: past the last
    // generation, instances keep no hash at all.
    if g < HASH_FOREVER - 1 {
        HASH_GENERATION.store(g + 1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn hash_generation() -> u32 {
    HASH_GENERATION.load(std::sync::atomic::Ordering::Relaxed)
}

impl PyTuple {
    /// A new tuple (not yet known to the cycle collector: see `Value::tuple`).
    pub fn new_rc(items: impl IntoTupleItems) -> Rc<PyTuple> {
        let init = match items.into_tuple_init().0 {
            Init::Boxed(b) if b.len() <= TUPLE_INLINE => TupleInit::inline(b.into_vec()).0,
            init => init,
        };
        let (inline, ptr, len) = match init {
            Init::Inline(buf, n) => (buf, std::ptr::null(), n),
            Init::Boxed(b) => {
                let len = b.len();
                ([const { MaybeUninit::uninit() }; TUPLE_INLINE], Box::into_raw(b) as *const Value, len)
            }
        };
        let t = Rc::new(PyTuple {
            items: TupleItems { ptr: Cell::new(ptr), len },
            gc: GcSlot::default(),
            hash_stamp: Cell::new(HASH_NONE),
            hash: Cell::new(0),
            inline,
        });
        if len <= TUPLE_INLINE {
            // Inline items: their place is known now the tuple has its own.
            t.items.ptr.set(t.inline.as_ptr() as *const Value);
        }
        t
    }
    /// The items of a tuple taken out of its `Rc` (`Rc::try_unwrap`).
    pub fn into_items(self) -> Vec<Value> {
        let t = std::mem::ManuallyDrop::new(self);
        t.gc.untrack();
        let len = t.items.len;
        // SAFETY: the items are moved out once; `ManuallyDrop` keeps
        // `Drop` from dropping them again. Inline ones are read from this
        // copy of the tuple, not through `items.ptr` (the `Rc`'s place).
        unsafe {
            if len <= TUPLE_INLINE {
                let mut items = Vec::with_capacity(len);
                std::ptr::copy_nonoverlapping(t.inline.as_ptr() as *const Value, items.as_mut_ptr(), len);
                items.set_len(len);
                items
            } else {
                Box::from_raw(std::ptr::slice_from_raw_parts_mut(t.items.ptr.get() as *mut Value, len)).into_vec()
            }
        }
    }
    /// The hash kept from an earlier `hash()`, while it holds. A tuple's
    /// hash is its items' hashes combined, so it is kept only when no
    /// item's hash can change (CPython 3.11 keeps none; the answer is the
    /// same): see `Vm::hash`.
    #[inline]
    pub fn cached_hash(&self) -> Option<i64> {
        let stamp = self.hash_stamp.get();
        (stamp == HASH_FOREVER || (stamp != HASH_NONE && stamp == hash_generation() && stamp != HASH_FOREVER - 1)).then(|| self.hash.get())
    }
    /// Keep `hash`; `with_instances` when an item's hash depends on its
    /// class (see `HASH_GENERATION`).
    pub fn keep_hash(&self, hash: i64, with_instances: bool) {
        self.hash.set(hash);
        self.hash_stamp.set(if with_instances { hash_generation() } else { HASH_FOREVER });
    }
    /// Whether the kept hash depends on the classes of instances, if a hash is kept.
    pub fn kept_hash_with_instances(&self) -> Option<bool> {
        self.cached_hash().map(|_| self.hash_stamp.get() != HASH_FOREVER)
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A dict: an insertion-ordered hash table.
#[derive(Default)]
pub struct PyDict {
    pub d: RefCell<DictData>,
    pub gc: GcSlot,
}

impl PyDict {
    pub fn new() -> PyDict {
        PyDict::default()
    }
    /// A dict holding `d`.
    pub fn from_data(d: DictData) -> PyDict {
        PyDict { d: RefCell::new(d), gc: GcSlot::default() }
    }
    pub fn len(&self) -> usize {
        self.d.borrow().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Lookup by a `str` key (no user `__eq__` can run).
    pub fn get_str(&self, key: &str) -> Option<Value> {
        self.d.borrow().get_str(key)
    }
    /// Lookup by a `str` key whose hash is already known.
    #[inline]
    pub fn get_str_hashed(&self, key: &str, hash: i64) -> Option<Value> {
        self.d.borrow().get_str_hashed(key, hash)
    }
    /// Insert under a `str` key.
    pub fn set_str(&self, key: &str, value: Value) {
        self.d.borrow_mut().set_str(key, value)
    }
    pub fn set_str_rc(&self, key: Rc<PyStr>, value: Value) {
        self.d.borrow_mut().set_str_rc(key, value)
    }
    pub fn remove_str(&self, key: &str) -> Option<Value> {
        self.d.borrow_mut().remove_str(key)
    }
    /// A snapshot of the entries, in order.
    pub fn items(&self) -> Vec<(Value, Value)> {
        self.d.borrow().items()
    }
    pub fn keys(&self) -> Vec<Value> {
        self.d.borrow().keys()
    }
}

/// A set or frozenset.
#[derive(Default)]
pub struct PySet {
    pub s: RefCell<SetData>,
    pub gc: GcSlot,
}

impl PySet {
    pub fn new(data: SetData) -> PySet {
        PySet { s: RefCell::new(data), gc: GcSlot::default() }
    }
    pub fn len(&self) -> usize {
        self.s.borrow().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn items(&self) -> Vec<Value> {
        self.s.borrow().items()
    }
}

/// `range(start, stop, step)`.
pub struct PyRange {
    pub start: i64,
    pub stop: i64,
    pub step: i64,
}

impl PyRange {
    pub fn len(&self) -> usize {
        range_len(self.start, self.stop, self.step)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, i: usize) -> i64 {
        self.start + (i as i64) * self.step
    }
}

/// Number of items of `range(start, stop, step)`.
pub fn range_len(start: i64, stop: i64, step: i64) -> usize {
    let (lo, hi, st) = if step > 0 { (start as i128, stop as i128, step as i128) } else { (stop as i128, start as i128, -(step as i128)) };
    if lo >= hi {
        0
    } else {
        ((hi - lo - 1) / st + 1) as usize
    }
}

/// `slice(start, stop, step)`.
pub struct PySlice {
    pub start: Value,
    pub stop: Value,
    pub step: Value,
}

// ---------------------------------------------------------------- functions

/// A function defined in .aio code, with its defaults and closure.
pub struct Function {
    pub code: Rc<Code>,
    pub globals: Rc<Module>,
    pub defaults: Vec<Value>,
    pub kwdefaults: Vec<(Rc<PyStr>, Value)>,
    /// The cells of the free variables, in `code.freevars` order.
    pub closure: Vec<Value>,
    pub name: RefCell<Rc<PyStr>>,
    pub qualname: RefCell<Rc<PyStr>>,
    /// Attributes set on the function (`__wrapped__`, `__doc__`, user attributes).
    pub dict: RefCell<Option<Rc<PyDict>>>,
    /// `__annotations__`, made empty on first use when the function has none.
    pub annotations: RefCell<Option<Rc<PyDict>>>,
    pub gc: GcSlot,
}

/// Positional and keyword arguments of a native call.
#[derive(Default)]
pub struct Args {
    pub pos: SmallVec<[Value; 6]>,
    pub kw: Vec<(Rc<PyStr>, Value)>,
}

impl Args {
    pub fn new(pos: impl IntoIterator<Item = Value>) -> Args {
        Args { pos: pos.into_iter().collect(), kw: Vec::new() }
    }
    pub fn len(&self) -> usize {
        self.pos.len()
    }
    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }
    /// Remove and return keyword argument `name`.
    pub fn take_kw(&mut self, name: &str) -> Option<Value> {
        let i = self.kw.iter().position(|(k, _)| k.as_str() == name)?;
        Some(self.kw.remove(i).1)
    }
}

/// The signature of native functions.
pub type NativeFnPtr = fn(&mut Vm, Args) -> PyResult;

/// The signature of natives that take positional arguments only: they
/// borrow them where they lie instead of receiving an `Args`.
pub type FastFnPtr = fn(&mut Vm, &[Value]) -> PyResult;

/// How a native function is implemented.
#[derive(Clone)]
pub enum NativeImpl {
    Static(NativeFnPtr),
    /// Positional arguments given where they lie: the hot builtins and
    /// methods. Without a full entry, keywords are a TypeError (as for
    /// CPython's fast-call builtins); with one (`enumerate`, `min`,
    /// `sorted`: keywords accepted but rarely given), it takes the calls
    /// that have keywords.
    Fast(FastFnPtr, Option<NativeFnPtr>),
    /// A closure, for functions made at run time (`functools.partial`, bound helpers).
    Dyn(NativeClosure),
}

/// A native function made at run time.
pub type NativeClosure = Rc<dyn Fn(&mut Vm, Args) -> PyResult>;

/// A function implemented in Rust.
pub struct NativeFn {
    pub name: Rc<PyStr>,
    /// `Some(class name)` for methods of builtin types (`str.upper`): such a
    /// function binds `self` when read through an instance.
    pub owner: Option<&'static str>,
    pub imp: NativeImpl,
}

impl NativeFn {
    pub fn is_method(&self) -> bool {
        self.owner.is_some()
    }
    /// Call with `args`, from anywhere.
    pub fn call(&self, vm: &mut Vm, args: Args) -> PyResult {
        match &self.imp {
            NativeImpl::Static(f) => f(vm, args),
            NativeImpl::Dyn(f) => {
                let f = f.clone();
                f(vm, args)
            }
            NativeImpl::Fast(f, full) => match full {
                _ if args.kw.is_empty() => f(vm, &args.pos),
                Some(full) => full(vm, args),
                None => Err(crate::exceptions::type_error(format!("{}() takes no keyword arguments", self.qualified_name()))),
            },
        }
    }
    /// `len` or `list.append`, as messages name it.
    pub fn qualified_name(&self) -> String {
        match self.owner {
            Some(o) => format!("{o}.{}", self.name.as_str()),
            None => self.name.as_str().to_string(),
        }
    }
}

/// A function bound to its first argument.
pub struct BoundMethod {
    pub self_: Value,
    pub func: Value,
    pub gc: GcSlot,
}

impl BoundMethod {
    /// `func` bound to `self_`, as a value.
    pub fn bind(func: Value, self_: Value) -> Value {
        let m = Rc::new(BoundMethod { self_, func, gc: GcSlot::default() });
        crate::gc::track(&m);
        Value::BoundMethod(m)
    }
}

/// A closure cell.
#[derive(Default)]
pub struct CellObj {
    pub v: RefCell<Value>,
    pub gc: GcSlot,
}

// ---------------------------------------------------------------- classes

/// Which builtin layout the instances of a class carry (inherited by subclasses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A plain object with a `__dict__`.
    Object,
    /// An exception: `args`, traceback, cause, context.
    Exception,
    /// A subclass of a builtin container or scalar: the instance wraps a builtin value.
    Builtin,
}

/// A class (type object).
pub struct Class {
    pub name: RefCell<Rc<PyStr>>,
    pub qualname: RefCell<Rc<PyStr>>,
    pub bases: RefCell<Vec<Rc<Class>>>,
    /// The method resolution order, without the class itself.
    pub mro: RefCell<Vec<Rc<Class>>>,
    pub dict: Rc<PyDict>,
    pub layout: Layout,
    /// For builtin classes, which builtin type this is.
    pub builtin: Option<crate::types::BuiltinType>,
    /// Dunder methods this class (or a base) defines in .aio code; refreshed
    /// when a class dict changes.
    pub flags: Cell<u32>,
    pub metaclass: RefCell<Option<Rc<Class>>>,
    /// `lookup_pystr` answers by name object, valid for the class epoch
    /// they were found in (see `dict::class_epoch`). The name is kept so
    /// its address cannot be reused by another string while cached.
    pub attr_cache: RefCell<hashbrown::HashMap<usize, AttrCacheEntry>>,
    /// `ops::lookup_special_in` answers (`object` skipped), by the address
    /// and length of the static name, valid for the class epoch they were
    /// found in: special-method lookups in operators and calls neither hash
    /// the name nor walk the MRO while no class changes.
    pub special_cache: RefCell<hashbrown::HashMap<(usize, usize), SpecialCacheEntry>>,
    /// The `__init__` that `Cls(...)` runs in a frame of the dispatch loop
    /// (a plain function with no `__new__` or metaclass `__call__` in the
    /// way: `vm::dispatch::plain_init`), or `None` when there is none, for
    /// the class epoch it was found in (0: not looked for).
    pub init_cache: RefCell<(u64, Option<Rc<crate::object::Function>>)>,
    /// Likewise the native `__new__` that alone makes an instance
    /// (`vm::dispatch::native_new`).
    pub new_cache: RefCell<(u64, Option<Rc<NativeFn>>)>,
    /// What `ops::item_method_first` answers for the class, one pair per
    /// `ops::ItemMethod`: the version tag it was found under (0: not
    /// looked for) and the function, if any. The tag guards it, as
    /// CPython 3.11's BINARY_SUBSCR_GETITEM guards the type's `__getitem__`.
    pub item_cache: RefCell<[(u64, Option<Rc<crate::object::Function>>); 4]>,
    /// For a subclass of list, dict or set: which of the base's methods
    /// its instances keep (`ops::builtin_kept`, a bit per `ops::KEPT_*`),
    /// for the class epoch they were found in (0: not looked for).
    pub builtin_kept: Cell<(u64, u8)>,
    /// The classes made with this one among their bases (`__subclasses__()`).
    pub subclasses: RefCell<Vec<std::rc::Weak<Class>>>,
    /// The class's version tag (CPython's `tp_version_tag`): a number no
    /// other class ever had, given when an attribute instruction first
    /// specialises for the class (`version_tag`) and taken away whenever
    /// what its attributes resolve to may have changed (`modified`);
    /// `NO_VERSION` meanwhile. The specialised attribute instructions
    /// (`vm::quicken`) guard on it.
    pub version: Cell<u64>,
    /// The `__slots__` values its instances carry (see `types::member`).
    pub slots: Option<Rc<SlotLayout>>,
    /// The attribute names its instances share (see `shape`); `None` when
    /// they have no `__dict__`.
    pub keys: Option<Rc<SharedKeys>>,
    /// Its instances have a `__dict__`: no `__slots__`, or `'__dict__'` among
    /// them, or a base whose instances have one.
    pub has_dict: bool,
    /// Its instances can be weakly referenced (the same rule with `'__weakref__'`).
    pub has_weakref: bool,
    pub gc: GcSlot,
}

/// The `__slots__` of a class and its bases: an instance keeps one value
/// per name, at the name's position. A class that declares no slots of its
/// own shares its base's layout (the same `Rc`), so equal layouts are the
/// same object.
pub struct SlotLayout {
    /// Every slot, a base's first (mangled names, as the descriptors say).
    pub names: Vec<Rc<PyStr>>,
    /// The layout this one extends, if a base has slots.
    pub parent: Option<Rc<SlotLayout>>,
}

impl SlotLayout {
    /// Does this layout start with `other` (is it `other` or made from it)?
    pub fn extends(self: &Rc<Self>, other: &Rc<SlotLayout>) -> bool {
        let mut l = Some(self);
        while let Some(x) = l {
            if Rc::ptr_eq(x, other) {
                return true;
            }
            l = x.parent.as_ref();
        }
        false
    }
}

/// A special-method lookup remembered by a class: the class epoch it was
/// found in, and what was found (`None`: the class does not define it).
pub type SpecialCacheEntry = (u64, Option<Value>);

/// One remembered MRO lookup.
pub struct AttrCacheEntry {
    epoch: u64,
    found: Option<Value>,
    _name: Rc<PyStr>,
}

/// The last version tag given to a class (see `Class::version`).
static CLASS_VERSION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `Class::version` of a class with no version tag: no specialised
/// instruction's entry holds it (an empty entry holds 0, which no class
/// has either).
pub const NO_VERSION: u64 = u64::MAX;

impl Class {
    /// The class's version tag, given now if it has none. Its bases get
    /// theirs first: a class with a tag has tagged bases, so a change to
    /// an untagged class has no tag to take away below it (`modified`).
    pub fn version_tag(&self) -> u64 {
        if self.version.get() == NO_VERSION {
            for b in self.mro.borrow().iter() {
                b.version_tag();
            }
            self.version.set(CLASS_VERSION.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
        }
        self.version.get()
    }
    /// The class's namespace, or that of a class on its MRO, changed: no
    /// version tag for it and for every subclass (whose MRO holds it). A
    /// class with none has no tagged subclass: building classes (every
    /// method put in a namespace) costs one test each.
    pub fn modified(&self) {
        if self.version.get() == NO_VERSION {
            return;
        }
        self.version.set(NO_VERSION);
        for sub in self.subclasses.borrow().iter() {
            if let Some(sub) = sub.upgrade() {
                sub.modified();
            }
        }
    }
    pub fn name(&self) -> Rc<PyStr> {
        self.name.borrow().clone()
    }
    /// `self` followed by the MRO.
    pub fn mro_iter(self: &Rc<Self>) -> Vec<Rc<Class>> {
        let mut v = Vec::with_capacity(self.mro.borrow().len() + 1);
        v.push(self.clone());
        v.extend(self.mro.borrow().iter().cloned());
        v
    }
    /// Look an attribute up along the MRO.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        self.lookup_hashed(name, crate::hash::hash_str(name))
    }
    /// `lookup` by a string object: answered from the class's cache while
    /// no class namespace has changed, else by walking the MRO.
    pub fn lookup_pystr(&self, name: &Rc<PyStr>) -> Option<Value> {
        let key = Rc::as_ptr(name) as usize;
        let epoch = crate::dict::class_epoch();
        if let Some(e) = self.attr_cache.borrow().get(&key) {
            if e.epoch == epoch {
                return e.found.clone();
            }
        }
        let found = self.lookup_hashed(name.as_str(), name.hash());
        let mut cache = self.attr_cache.borrow_mut();
        if cache.len() > 4096 {
            cache.clear();
        }
        cache.insert(key, AttrCacheEntry { epoch, found: found.clone(), _name: name.clone() });
        found
    }
    /// The MRO walk hashes the name once for every dict it looks in.
    fn lookup_hashed(&self, name: &str, hash: i64) -> Option<Value> {
        if let Some(v) = self.dict.get_str_hashed(name, hash) {
            return Some(v);
        }
        for c in self.mro.borrow().iter() {
            if let Some(v) = c.dict.get_str_hashed(name, hash) {
                return Some(v);
            }
        }
        None
    }
    /// `issubclass(self, other)`.
    pub fn is_subclass(&self, other: &Class) -> bool {
        std::ptr::eq(self, other) || self.mro.borrow().iter().any(|c| std::ptr::eq(&**c, other))
    }
    /// How many `__slots__` values its instances carry.
    pub fn slot_count(&self) -> usize {
        self.slots.as_ref().map_or(0, |l| l.names.len())
    }
}

/// An instance of a class defined in .aio (or of a builtin exception class).
pub struct Instance {
    pub class: RefCell<Rc<Class>>,
    /// The `__slots__` values and the `__dict__` (see `shape`).
    attrs: RefCell<Attrs>,
    pub payload: Payload,
    pub gc: GcSlot,
}

/// Native state carried by an instance, decided by its class's layout.
pub enum Payload {
    None,
    /// Boxed: an exception's state is large and most instances are not exceptions.
    Exception(Box<ExcData>),
    /// The builtin value of an instance of a subclass of `list`, `dict`, `int`, ...
    Builtin(RefCell<Value>),
}

impl Instance {
    /// A new instance of `cls` with no attributes (and a `__dict__` if its
    /// class gives it one) and unset slots, known to the cycle collector.
    pub fn new(cls: Rc<Class>, payload: Payload) -> Rc<Instance> {
        let i = Rc::new(Instance::bare(cls, payload));
        crate::gc::track(&i);
        i
    }
    /// The instance itself, not yet tracked.
    pub fn bare(cls: Rc<Class>, payload: Payload) -> Instance {
        let attrs = RefCell::new(Attrs::new(cls.slot_count(), cls.keys.as_ref()));
        Instance { class: RefCell::new(cls), attrs, payload, gc: GcSlot::default() }
    }
    /// A new instance taking over `old`'s class, attributes and payload
    /// (which `old` loses), for `__del__` to run on after `old` is dropped.
    pub fn heir_of(old: &mut Instance) -> Instance {
        let none = Attrs { values: Vec::new(), map: AttrMap::NoDict, nslots: 0, dict_made: false };
        Instance {
            class: RefCell::new(old.class.get_mut().clone()),
            attrs: RefCell::new(std::mem::replace(old.attrs.get_mut(), none)),
            payload: std::mem::replace(&mut old.payload, Payload::None),
            gc: GcSlot::default(),
        }
    }
    /// The attribute storage, for the VM's caches and the cycle collector.
    #[inline(always)]
    pub fn attrs(&self) -> &RefCell<Attrs> {
        &self.attrs
    }
    /// Does the instance have a `__dict__`?
    pub fn has_dict(&self) -> bool {
        !matches!(self.attrs.borrow().map, AttrMap::NoDict)
    }
    /// The `__dict__`, if the instance has one (from now on its storage).
    pub fn dict(&self) -> Option<Rc<PyDict>> {
        let mut a = self.attrs.borrow_mut();
        a.dict_made = true;
        a.own_dict()
    }
    /// `obj.__dict__ = d`: `d` becomes the instance's storage.
    pub fn set_dict(&self, d: Rc<PyDict>) {
        let mut a = self.attrs.borrow_mut();
        let nslots = a.nslots as usize;
        a.values.truncate(nslots);
        a.map = AttrMap::Dict(d);
        a.dict_made = true;
    }
    /// `name` in the instance's `__dict__`.
    #[inline]
    pub fn dict_get(&self, name: &PyStr) -> Option<Value> {
        self.attrs.borrow().get(name)
    }
    /// `name` in the instance's `__dict__`, by text.
    pub fn dict_get_str(&self, name: &str) -> Option<Value> {
        self.dict_get(&PyStr::new(name))
    }
    /// Store `name` in the `__dict__`; false when there is none.
    pub fn dict_set(&self, name: Rc<PyStr>, value: Value) -> bool {
        self.attrs.borrow_mut().set(&name, value)
    }
    /// Store `name` in the `__dict__` (instances without one ignore it:
    /// the library sets attributes only on its own exception instances).
    pub fn dict_set_str(&self, name: &str, value: Value) {
        self.dict_set(crate::intern::intern(name), value);
    }
    /// Remove `name` from the `__dict__`, returning its value.
    pub fn dict_remove(&self, name: &str) -> Option<Value> {
        self.attrs.borrow_mut().remove(name)
    }
    /// The names in the `__dict__`, in order.
    pub fn dict_keys(&self) -> Vec<Value> {
        self.attrs.borrow().keys()
    }
    /// Slot `i`'s value (`Undef` while unset).
    #[inline]
    pub fn slot(&self, i: usize) -> Value {
        let a = self.attrs.borrow();
        if i < a.nslots as usize {
            a.values[i].clone()
        } else {
            Value::Undef
        }
    }
    /// Set slot `i` (`Undef` unsets it), returning the old value.
    #[inline]
    pub fn set_slot(&self, i: usize, value: Value) -> Value {
        let mut a = self.attrs.borrow_mut();
        if i < a.nslots as usize {
            std::mem::replace(&mut a.values[i], value)
        } else {
            Value::Undef
        }
    }
    pub fn class(&self) -> Rc<Class> {
        self.class.borrow().clone()
    }
    pub fn exc(&self) -> Option<&ExcData> {
        match &self.payload {
            Payload::Exception(e) => Some(&**e),
            _ => None,
        }
    }
    pub fn builtin_value(&self) -> Option<Value> {
        match &self.payload {
            Payload::Builtin(v) => Some(v.borrow().clone()),
            _ => None,
        }
    }
}

/// The state of an exception instance.
#[derive(Default)]
pub struct ExcData {
    pub args: RefCell<Value>,
    pub traceback: RefCell<Vec<TbEntry>>,
    pub cause: RefCell<Value>,
    pub context: RefCell<Value>,
    pub suppress_context: Cell<bool>,
    /// For exception groups: the message and the sub-exceptions.
    pub group: RefCell<Option<(Value, Vec<Value>)>>,
    /// What a few exceptions keep about their cause (see [`ExcDetail`]).
    pub detail: RefCell<Option<Box<ExcDetail>>>,
}

/// What CPython keeps on some exceptions, and what a report needs to offer
/// a fix: `NameError.name`, `AttributeError.name` and `.obj`,
/// `ImportError.name` and the name `from m import x` missed, the object a
/// `with` refused, and the scope a missing name was looked up in. Raising
/// only stores these; the report works out its suggestions from them.
#[derive(Default)]
pub struct ExcDetail {
    /// `NameError.name`, `AttributeError.name`, `ImportError.name` (the module).
    pub name: Value,
    /// `AttributeError.obj`, or the object a `with` statement refused.
    pub obj: Value,
    /// The name `from module import name` did not find.
    pub name_from: Value,
    /// Where a name was looked up, for a NameError or UnboundLocalError.
    pub scope: Option<Scope>,
}

/// The names a frame could see when a lookup failed.
pub struct Scope {
    pub globals: Rc<Module>,
    /// The namespace of a class body.
    pub namespace: Option<Rc<PyDict>>,
    /// The frame's bound local variables.
    pub locals: Vec<Rc<PyStr>>,
    /// The frame's `self`, if it has one.
    pub this: Value,
}

/// One line of a traceback: a code object and the instruction that was running.
#[derive(Clone)]
pub struct TbEntry {
    pub code: Rc<Code>,
    pub ip: u32,
}

// ---------------------------------------------------------------- modules

/// A module: its globals live in slots that compiled code indexes directly.
pub struct Module {
    pub name: Rc<PyStr>,
    pub file: RefCell<Option<String>>,
    pub globals: RefCell<Vec<Value>>,
    pub names: RefCell<Vec<Rc<PyStr>>>,
    pub index: RefCell<hashbrown::HashMap<Rc<str>, u32>>,
    /// For unbound global slots: the builtin the name resolved to, and the
    /// `Vm::builtins_epoch` it was found in (a later epoch voids it).
    pub builtin_cache: RefCell<Vec<(u32, Value)>>,
}

impl Module {
    pub fn new(name: &str) -> Module {
        Module {
            name: Rc::new(PyStr::new(name)),
            file: RefCell::new(None),
            globals: RefCell::new(Vec::new()),
            names: RefCell::new(Vec::new()),
            index: RefCell::new(hashbrown::HashMap::new()),
            builtin_cache: RefCell::new(Vec::new()),
        }
    }
    /// The slot of global `name`, created (unbound) if new.
    pub fn slot(&self, name: &str) -> u32 {
        if let Some(&i) = self.index.borrow().get(name) {
            return i;
        }
        let i = self.names.borrow().len() as u32;
        self.names.borrow_mut().push(Rc::new(PyStr::new(name)));
        self.globals.borrow_mut().push(Value::Undef);
        self.index.borrow_mut().insert(name.into(), i);
        i
    }
    pub fn get(&self, name: &str) -> Option<Value> {
        let i = *self.index.borrow().get(name)?;
        let v = self.globals.borrow()[i as usize].clone();
        if v.is_undef() {
            None
        } else {
            Some(v)
        }
    }
    pub fn set(&self, name: &str, value: Value) {
        let i = self.slot(name);
        self.globals.borrow_mut()[i as usize] = value;
    }
    pub fn name_of_slot(&self, slot: u32) -> Rc<PyStr> {
        self.names.borrow()[slot as usize].clone()
    }
    /// The bound names, in definition order.
    pub fn entries(&self) -> Vec<(Rc<PyStr>, Value)> {
        let names = self.names.borrow();
        let globals = self.globals.borrow();
        names.iter().zip(globals.iter()).filter(|(_, v)| !v.is_undef()).map(|(n, v)| (n.clone(), v.clone())).collect()
    }
}

// ---------------------------------------------------------------- generators

/// What kind of resumable function a generator object runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenKind {
    Generator,
    Coroutine,
    AsyncGenerator,
}

/// Where a generator is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenStatus {
    Created,
    Suspended,
    Running,
    Closed,
}

/// A generator, coroutine or async generator object.
pub struct Generator {
    pub kind: GenKind,
    /// `AG_RUNNING`, `AG_CLOSED`, `FINALIZED`.
    pub(crate) flags: Cell<u8>,
    /// The instruction of the origin `meta` holds (see [`GenMeta`]).
    pub(crate) origin_ip: u16,
    pub gc: GcSlot,
    pub code: Rc<Code>,
    /// Where a coroutine was made, and the names when they are not the code's.
    pub(crate) meta: GenMeta,
    pub state: RefCell<GenState>,
}

// Bits of `Generator::flags`.
/// For async generators: an `asend`/`athrow` is in progress.
const AG_RUNNING: u8 = 1;
/// For async generators: `aclose()` has started or finished.
const AG_CLOSED: u8 = 2;
/// Already handed to the finalizers once (a frame moved out of a dropped
/// generator): dropping it again does not queue it again.
const FINALIZED: u8 = 4;

impl Generator {
    /// A generator in `state`, made by calling `code` (`names`: those of
    /// a renamed function; `origin`: where a coroutine was made).
    #[inline(always)]
    pub fn new(
        kind: GenKind,
        code: Rc<Code>,
        names: Option<(Rc<PyStr>, Rc<PyStr>)>,
        origin: Option<TbEntry>,
        state: GenState,
    ) -> Generator {
        let (meta, origin_ip) = GenMeta::new(&code, names, origin);
        Generator { kind, flags: Cell::new(0), origin_ip, gc: GcSlot::default(), code, meta, state: RefCell::new(state) }
    }
    /// The heir of a generator dropped while suspended in `try`/`with`:
    /// its frame in `state`, already handed to the finalizers.
    pub fn heir(&self, state: GenState) -> Generator {
        Generator {
            kind: self.kind,
            flags: Cell::new(FINALIZED),
            origin_ip: self.origin_ip,
            gc: GcSlot::default(),
            code: self.code.clone(),
            meta: self.meta.clone(),
            state: RefCell::new(state),
        }
    }
    #[inline]
    fn flag(&self, bit: u8) -> bool {
        self.flags.get() & bit != 0
    }
    #[inline]
    fn set_flag(&self, bit: u8, on: bool) {
        let f = self.flags.get();
        self.flags.set(if on { f | bit } else { f & !bit });
    }
    /// For async generators: an `asend`/`athrow` is in progress.
    pub fn ag_running(&self) -> bool {
        self.flag(AG_RUNNING)
    }
    pub fn set_ag_running(&self, on: bool) {
        self.set_flag(AG_RUNNING, on)
    }
    /// For async generators: `aclose()` has started or finished.
    pub fn ag_closed(&self) -> bool {
        self.flag(AG_CLOSED)
    }
    pub fn set_ag_closed(&self, on: bool) {
        self.set_flag(AG_CLOSED, on)
    }
    /// Handed to the finalizers once already.
    pub fn finalized(&self) -> bool {
        self.flag(FINALIZED)
    }
    pub fn set_finalized(&self, on: bool) {
        self.set_flag(FINALIZED, on)
    }
    /// The names of a generator made by calling `f`: `None` when they are
    /// its code's, as unless the function was renamed.
    pub fn names_of(f: &Function) -> Option<(Rc<PyStr>, Rc<PyStr>)> {
        let (name, qualname) = (f.name.borrow(), f.qualname.borrow());
        if Rc::ptr_eq(&name, &f.code.name) && Rc::ptr_eq(&qualname, &f.code.qualname) {
            None
        } else {
            Some((name.clone(), qualname.clone()))
        }
    }
    /// `__name__`.
    pub fn name(&self) -> &Rc<PyStr> {
        match self.meta.boxed() {
            Some(r) => &r.name,
            None => &self.code.name,
        }
    }
    /// `__qualname__`.
    pub fn qualname(&self) -> &Rc<PyStr> {
        match self.meta.boxed() {
            Some(r) => &r.qualname,
            None => &self.code.qualname,
        }
    }
    /// Where the coroutine was made (see `cr_origin`).
    pub fn origin(&self) -> Option<TbEntry> {
        if let Some(r) = self.meta.boxed() {
            return r.origin.clone();
        }
        self.meta.origin_code().map(|code| TbEntry { code: Rc::clone(&code), ip: self.origin_ip as u32 })
    }
}

// With the reference counts, a generator takes a 128-byte block: a
// coroutine parked on an `await` of a program with many tasks costs it.
const _: () = assert!(std::mem::size_of::<Generator>() <= 112);

/// What a generator keeps of its making, in one word: nothing (null);
/// where a coroutine was made (for "never awaited" warnings, `cr_origin`
/// and task reports), as the `Rc<Code>` of the call, its instruction kept
/// beside the word by the generator (`origin_ip`); or, with the low bit
/// set, a box with the names of a renamed function and the origin, which
/// also holds an origin whose instruction does not fit in 16 bits.
pub struct GenMeta(*const u8);

const _: () = assert!(std::mem::align_of::<Code>() >= 2 && std::mem::align_of::<Renamed>() >= 2);

impl GenMeta {
    /// The word for these names and origin of a generator running `code`,
    /// and the origin's instruction to keep beside it.
    // Inlined: a coroutine is made for every call of an `async def`.
    #[inline(always)]
    pub(crate) fn new(code: &Code, names: Option<(Rc<PyStr>, Rc<PyStr>)>, origin: Option<TbEntry>) -> (GenMeta, u16) {
        match (names, origin) {
            (None, None) => (GenMeta(std::ptr::null()), 0),
            (None, Some(o)) if o.ip <= u16::MAX as u32 => (GenMeta(Rc::into_raw(o.code).cast()), o.ip as u16),
            (names, origin) => (GenMeta::boxed_new(code, names, origin), 0),
        }
    }
    #[cold]
    #[inline(never)]
    fn boxed_new(code: &Code, names: Option<(Rc<PyStr>, Rc<PyStr>)>, origin: Option<TbEntry>) -> GenMeta {
        let (name, qualname) = names.unwrap_or_else(|| (code.name.clone(), code.qualname.clone()));
        GenMeta::from_box(Box::new(Renamed { name, qualname, origin }))
    }
    fn from_box(b: Box<Renamed>) -> GenMeta {
        GenMeta(Box::into_raw(b).cast_const().cast::<u8>().map_addr(|a| a | 1))
    }
    /// The box, when the word holds one.
    #[inline]
    fn boxed(&self) -> Option<&Renamed> {
        let p = self.0;
        if p as usize & 1 == 0 {
            return None;
        }
        // SAFETY: an odd word is the pointer of the `Box<Renamed>` `new`
        // made, with the low bit set, owned by the word until its drop.
        Some(unsafe { &*p.map_addr(|a| a & !1).cast::<Renamed>() })
    }
    /// The origin's code, when the word holds it (the count left as it is).
    #[inline]
    fn origin_code(&self) -> Option<std::mem::ManuallyDrop<Rc<Code>>> {
        let p = self.0;
        if p.is_null() || p as usize & 1 != 0 {
            return None;
        }
        // SAFETY: an even non-null word is an `Rc<Code>`'s pointer, owned by
        // the word; the `ManuallyDrop` leaves its count alone.
        Some(std::mem::ManuallyDrop::new(unsafe { Rc::from_raw(p.cast::<Code>()) }))
    }
}

impl Clone for GenMeta {
    fn clone(&self) -> GenMeta {
        if let Some(r) = self.boxed() {
            return GenMeta::from_box(Box::new(r.clone()));
        }
        match self.origin_code() {
            Some(code) => GenMeta(Rc::into_raw(Rc::clone(&code)).cast()),
            None => GenMeta(std::ptr::null()),
        }
    }
}

impl Drop for GenMeta {
    #[inline]
    fn drop(&mut self) {
        if let Some(code) = self.origin_code() {
            drop(std::mem::ManuallyDrop::into_inner(code));
        } else if self.boxed().is_some() {
            self.drop_box();
        }
    }
}

impl GenMeta {
    #[cold]
    #[inline(never)]
    fn drop_box(&mut self) {
        // SAFETY: the word owns the box (see `boxed`), dropped once here.
        drop(unsafe { Box::from_raw(self.0.map_addr(|a| a & !1).cast::<Renamed>().cast_mut()) });
    }
}

/// The names of a generator whose function was renamed before the call
/// (or those of its code, for an origin the word cannot hold).
#[derive(Clone)]
pub struct Renamed {
    name: Rc<PyStr>,
    qualname: Rc<PyStr>,
    origin: Option<TbEntry>,
}

/// A suspended generator's values: a coroutine parked in an `await` holds
/// a few (its arguments and the awaited object), kept inline.
pub type GenStack = SmallVec<[Value; 3]>;

/// The suspended frame of a generator.
pub struct GenState {
    pub status: GenStatus,
    /// Resume point.
    pub ip: u32,
    /// Locals and operand stack, saved while suspended.
    pub stack: GenStack,
    pub globals: Rc<Module>,
    /// The exception being handled inside the generator when it yielded:
    /// an exception is an instance, so one word holds it.
    pub exc: Option<Rc<Instance>>,
    /// `yield from`/`await` target while suspended inside one.
    pub delegating: bool,
}

impl GenState {
    /// The saved exception, taken, as the value the VM handles.
    #[inline(always)]
    pub fn take_exc(&mut self) -> Value {
        match self.exc.take() {
            Some(e) => Value::Instance(e),
            None => Value::None,
        }
    }
    /// Save `exc` (None, or an exception instance) as the exception being handled.
    #[inline(always)]
    pub fn set_exc(&mut self, exc: Value) {
        self.exc = match exc {
            Value::Instance(e) => Some(e),
            other => {
                debug_assert!(other.is_none(), "the exception being handled is an instance or None");
                None
            }
        };
    }
    /// The generator is done (returned, raised or was closed): its values go.
    pub fn close(&mut self) {
        self.status = GenStatus::Closed;
        self.stack.clear();
    }
}

// ---------------------------------------------------------------- iterators

/// A builtin iterator.
pub struct PyIter {
    pub state: RefCell<crate::iter::IterState>,
}

// ---------------------------------------------------------------- native objects

/// One step of an awaitable iterator: it yielded (suspend) or returned.
pub enum Step {
    Yield(Value),
    Return(Value),
}

/// A native object that can sit under `await` (a future, `sleep()`, ...):
/// the `Send` instruction drives it directly.
pub trait AwaitIter {
    /// Resume with a value (None for the first step).
    fn send(&self, vm: &mut Vm, this: &Value, v: Value) -> PyResult<Step>;
    /// Resume by raising `e` at the suspension point.
    fn throw(&self, vm: &mut Vm, this: &Value, e: PyErr) -> PyResult<Step> {
        let _ = (vm, this);
        Err(e)
    }
    /// Release what a suspended step holds (timers, callbacks).
    fn close(&self, _vm: &mut Vm) {}
    /// For native coroutine objects (`sleep()`, `Queue.get()`, `Event.wait()`):
    /// the name they go by in reprs, reports and warnings. `None` for other
    /// awaitables; `asyncio.iscoroutine` is true exactly when it is `Some`.
    fn qualname(&self) -> Option<&str> {
        None
    }
    /// Where a native coroutine was made, for the reports of the task that
    /// runs it ("it was created at line 21").
    fn origin(&self) -> Option<TbEntry> {
        None
    }
}

/// Objects implemented in Rust by the runtime or the library (tasks, futures,
/// queues, the loop, ...). Their methods live in the dict of their class.
pub trait NativeObject: Any {
    /// When the object is awaitable: how `await` drives it.
    fn await_iter(&self) -> Option<&dyn AwaitIter> {
        None
    }
    fn as_any(&self) -> &dyn Any;
    /// The object's class, for `type()`, `isinstance` and method lookup.
    fn class(&self) -> Rc<Class>;
    /// A data attribute that is not in the class dict.
    fn getattr(&self, _vm: &mut Vm, _this: &Value, _name: &str) -> PyResult<Option<Value>> {
        Ok(None)
    }
    /// Set a data attribute; `Ok(false)` means "no such attribute".
    fn setattr(&self, _vm: &mut Vm, _name: &str, _value: Value) -> PyResult<bool> {
        Ok(false)
    }
    /// `repr()`, when the class does not define `__repr__`.
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<{} object>", self.class().name().as_str()))
    }
    /// The cycle collector's slot, for the native objects it tracks
    /// (weak references).
    fn gc_slot(&self) -> Option<&crate::gc::GcSlot> {
        None
    }
    /// `self[i]` for an int index when the object has the item at hand
    /// (an `array.array`'s): no method lookup, no argument tuple. `None`
    /// for the general path through `__getitem__`, which also raises.
    fn item_at(&self, _i: i64) -> Option<Value> {
        None
    }
    /// `self[i] = v` likewise: true when stored, false (nothing changed)
    /// for the general path through `__setitem__`.
    fn set_item_at(&self, _i: i64, _v: &Value) -> bool {
        false
    }
    /// The object's contents as a buffer, for `bytes(x)` and every
    /// argument that takes a bytes-like object (an `array.array`'s machine
    /// bytes); `None`: not bytes-like.
    fn buffer_bytes(&self) -> Option<Vec<u8>> {
        None
    }
    /// `next(self)` for an iterator that steps with no code run (an
    /// `array.array`'s): `Some(Some(item))`, or `Some(None)` when
    /// exhausted; `None` for the general path through `__next__`.
    fn next_item(&self) -> Option<Option<Value>> {
        None
    }
    /// `this <op> other` (`other <op> this` when `reflected`) for a native
    /// number type that computes it with no method call (a `Decimal`'s):
    /// `None` for the general path through the operator methods, which
    /// also gives the errors.
    fn binary_op(&self, _vm: &mut Vm, _op: u8, _other: &Value, _reflected: bool) -> Option<PyResult<Value>> {
        None
    }
    /// `this <op> other` for a comparison op, likewise.
    fn compare_op(&self, _vm: &mut Vm, _op: u8, _other: &Value) -> Option<PyResult<Value>> {
        None
    }
    /// Whether `binary_op` and `compare_op` answer for this type: then an
    /// operator with such an object on the left quickens into a form that
    /// calls them first (see `vm::quicken`).
    fn has_operators(&self) -> bool {
        false
    }
}

// Tracked containers leave the cycle collector's registry when dropped.
macro_rules! untrack_on_drop {
    ($($t:ty),*) => {
        $(impl Drop for $t {
            #[inline(always)]
            fn drop(&mut self) {
                self.gc.untrack();
            }
        })*
    };
}
untrack_on_drop!(PyDict, PySet, Function, BoundMethod, CellObj, Class);

impl Drop for PyList {
    fn drop(&mut self) {
        self.gc.untrack();
        // Last item first, as CPython frees a list's items (the order in
        // which their `__del__` methods run shows it).
        let items = self.items.get_mut();
        while let Some(v) = items.pop() {
            // Ints and shared items need no call to let go of.
            v.discard();
        }
    }
}

/// `Class::flags` bit: the class or a base defines `__del__`.
pub const CLASS_HAS_DEL: u32 = 1;
/// `Class::flags` bit: the class or a base defines `__getattribute__`, so
/// every attribute read on its instances goes through it (no cached ways).
pub const CLASS_HAS_GETATTRIBUTE: u32 = 2;

/// `Class::flags` bit: a weak reference with a callback was made to an
/// instance of the class, so a dropped instance asks for the callbacks to
/// run at the next safe point.
pub const CLASS_WEAK_CALLBACK: u32 = 4;

/// `Class::flags` bit: the class or a base defines `__bool__` or
/// `__len__`, or a base is a native class; without it an instance is true.
pub const CLASS_HAS_TRUTH: u32 = 8;

/// `Class::flags` bit: the class or a base defines `__eq__` or `__ne__`;
/// without it instances are equal only to themselves.
pub const CLASS_HAS_EQ: u32 = 16;

/// `Class::flags` bit: the class or a base defines `__hash__` in .aio (or
/// has it assigned).
pub const CLASS_HAS_HASH: u32 = 32;

/// `Class::flags` bit: the class or a base defines `__get__`, so its
/// instances stored on a class may be descriptors; without it such an
/// instance (with no builtin payload) reads through the class as itself.
pub const CLASS_HAS_GET: u32 = 64;

/// Without these `Class::flags` bits an instance of a subclass of a
/// hashable builtin (a namedtuple) hashes and compares as its value.
pub const CLASS_HASH_OR_EQ: u32 = CLASS_HAS_HASH | CLASS_HAS_EQ;

/// The special methods that give a class a `Class::flags` bit.
pub const FLAGGED_SPECIALS: [&str; 8] = ["__del__", "__getattribute__", "__bool__", "__len__", "__hash__", "__eq__", "__ne__", "__get__"];

/// The `Class::flags` bits a class gets from defining `name` itself.
pub fn class_flag_for(name: &str) -> u32 {
    match name {
        "__del__" => CLASS_HAS_DEL,
        "__getattribute__" => CLASS_HAS_GETATTRIBUTE,
        "__bool__" | "__len__" => CLASS_HAS_TRUTH,
        "__hash__" => CLASS_HAS_HASH,
        "__eq__" | "__ne__" => CLASS_HAS_EQ,
        "__get__" => CLASS_HAS_GET,
        _ => 0,
    }
}

impl Drop for Instance {
    #[inline(always)]
    fn drop(&mut self) {
        self.gc.untrack();
        let flags = self.class.get_mut().flags.get();
        if flags & (CLASS_HAS_DEL | CLASS_WEAK_CALLBACK) != 0 {
            if flags & CLASS_WEAK_CALLBACK != 0 {
                crate::weakref::target_died(self as *const Instance as usize);
            }
            if flags & CLASS_HAS_DEL != 0 {
                crate::generator::defer_del(self);
            }
        }
    }
}
