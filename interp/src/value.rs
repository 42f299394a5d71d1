//! `Value`: the 16-byte handle every .aio value travels in. Immediates (None,
//! bools, small ints, floats) live inline; everything else sits behind an `Rc`.

use std::rc::Rc;

use num_bigint::BigInt;

use crate::object::*;

/// An .aio value. Cloning is cheap: a copy or a reference-count increment.
// `repr(C, u64)`: a word of tag and a word of payload, so a value moves as
// two aligned words. With the default layout (a byte of tag, `Bool` at
// offset 1) copies of a `Value` became misaligned byte-range moves that
// stall store forwarding in the dispatch loop.
#[derive(Default)]
#[repr(C, u64)]
pub enum Value {
    #[default]
    None,
    /// The "unbound" marker of an empty local slot or a deleted name; never
    /// visible to programs.
    Undef,
    NotImplemented,
    Ellipsis,
    Bool(Flag),
    /// An int that fits in 64 bits; arithmetic promotes to `BigInt` on overflow.
    Int(i64),
    Float(F64),
    // Every variant above is an immediate, every one below holds an `Rc`
    // (`is_immediate` relies on this order).
    /// An int outside the `i64` range (always normalized: never fits in `Int`).
    BigInt(Rc<BigInt>),
    Str(Rc<PyStr>),
    Bytes(Rc<PyBytes>),
    List(Rc<PyList>),
    Tuple(Rc<PyTuple>),
    Dict(Rc<PyDict>),
    Set(Rc<PySet>),
    /// `frozenset`: the same table, never mutated after construction.
    FrozenSet(Rc<PySet>),
    Range(Rc<PyRange>),
    Slice(Rc<PySlice>),
    Function(Rc<Function>),
    Native(Rc<NativeFn>),
    BoundMethod(Rc<BoundMethod>),
    Class(Rc<Class>),
    Instance(Rc<Instance>),
    Module(Rc<Module>),
    /// Generators, coroutines and async generators.
    Generator(Rc<Generator>),
    /// Builtin iterators (list, range, dict, zip, map, ...).
    Iter(Rc<PyIter>),
    /// A closure cell; lives only in frame slots and closures.
    Cell(Rc<CellObj>),
    /// An asyncio future or task.
    Future(Rc<crate::task::Future>),
    /// A compiled code object (a constant of `MakeFunction`).
    Code(Rc<crate::bytecode::Code>),
    /// Native objects of the runtime and library (tasks, futures, queues, loops, ...).
    Object(Rc<Box<dyn NativeObject>>),
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);

// Every payload is one 8-byte word (an int, a pointer, or `Flag`/`F64`
// below), so the compiler treats `Value` as a pair of scalars: it passes,
// returns and copies a value in two registers. With a `bool` or an `f64`
// payload among them `Value` was an aggregate that moved through memory,
// built with two 8-byte stores and copied with one 16-byte load, a load
// the store buffer cannot forward: a stall of a dozen cycles on almost
// every instruction of the dispatch loop.

/// The payload of `Value::Bool`: a bool as a whole word.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(transparent)]
pub struct Flag(u64);

impl Flag {
    pub const FALSE: Flag = Flag(0);
    pub const TRUE: Flag = Flag(1);
    #[inline(always)]
    pub fn new(b: bool) -> Flag {
        Flag(b as u64)
    }
    #[inline(always)]
    pub fn get(self) -> bool {
        self.0 != 0
    }
}

/// The payload of `Value::Float`: an `f64` kept as its bits.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub struct F64(u64);

impl F64 {
    #[inline(always)]
    pub fn new(x: f64) -> F64 {
        F64(x.to_bits())
    }
    #[inline(always)]
    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}
const _: () = assert!(std::mem::size_of::<Option<Value>>() == 16);
const _: () = assert!(std::mem::size_of::<Result<Value, crate::object::PyErr>>() == 16);

impl Clone for Value {
    // A clone is a bitwise copy plus, for a heap value, one more strong
    // reference, counted in place (see `strong_count_cell`): no call and no
    // jump on the variant, which the hot loop paid on every load of a
    // string, list or object.
    #[inline(always)]
    fn clone(&self) -> Self {
        if !self.is_immediate() {
            // SAFETY: a heap value holds an `Rc`; see `strong_count_cell`.
            unsafe {
                let c = self.strong_count_cell();
                c.set(c.get() + 1);
            }
        }
        // SAFETY: the reference the copy owns was counted above.
        unsafe { Value::read_words(self) }
    }
}

// Moving values word by word. LLVM copies a 16-byte `Value` with one SSE
// load and store, but builds a new one (`Value::Int(n)`, `Value::Bool(b)`)
// with two 8-byte stores. A 16-byte load of a slot just written by two
// 8-byte stores cannot be forwarded from the store buffer and stalls the
// pipeline for a dozen cycles: the dispatch loop did that on almost every
// instruction (push a result, pop it in the next op). Reading and writing
// the stack's values as two words keeps every load inside one store.
impl Value {
    /// Read the value at `src` as two 8-byte words (a bitwise move).
    ///
    /// # Safety
    /// `src` points to a valid `Value`; the caller takes ownership of it
    /// (as with `ptr::read`).
    #[inline(always)]
    pub unsafe fn read_words(src: *const Value) -> Value {
        // Volatile, or LLVM merges the two loads back into one 16-byte load.
        let p = src as *const std::mem::MaybeUninit<u64>;
        let w = [p.read_volatile(), p.add(1).read_volatile()];
        std::mem::transmute::<[std::mem::MaybeUninit<u64>; 2], Value>(w)
    }

    /// Write `v` to `dst` as two 8-byte words, without dropping what was there.
    ///
    /// # Safety
    /// `dst` is valid for writes and aligned (as with `ptr::write`).
    #[inline(always)]
    pub unsafe fn write_words(dst: *mut Value, v: Value) {
        let w = std::mem::transmute::<Value, [std::mem::MaybeUninit<u64>; 2]>(v);
        let p = dst as *mut std::mem::MaybeUninit<u64>;
        p.write(w[0]);
        p.add(1).write(w[1]);
    }

    /// Move `n` values from `src` to `dst` (the ranges do not overlap),
    /// word by word: for the few values of a generator frame a loop is
    /// cheaper than a call to `memcpy`.
    ///
    /// # Safety
    /// `src..src+n` holds valid values whose ownership passes to
    /// `dst..dst+n`, which is valid for writes.
    #[inline(always)]
    pub unsafe fn move_words(src: *const Value, dst: *mut Value, n: usize) {
        for k in 0..n {
            Value::write_words(dst.add(k), Value::read_words(src.add(k)));
        }
    }
}

impl Value {
    /// The truth of a bool, int, None or an instance of a class without
    /// `__bool__` and `__len__`, which needs no call; `None` for the rest.
    #[inline(always)]
    pub fn plain_truth(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(b.get()),
            Value::Int(i) => Some(*i != 0),
            Value::None => Some(false),
            Value::Instance(i)
                if matches!(i.payload, crate::object::Payload::None)
                    && i.class.borrow().flags.get() & crate::object::CLASS_HAS_TRUTH == 0 =>
            {
                Some(true)
            }
            _ => None,
        }
    }

    /// The variant's tag (the first word of the `repr(C, u64)` layout).
    #[inline(always)]
    pub fn tag(&self) -> u64 {
        // SAFETY: a `repr(C, u64)` enum starts with its `u64` tag.
        unsafe { *(self as *const Value as *const u64) }
    }

    /// No reference to count: copying or forgetting it is free.
    #[inline(always)]
    pub fn is_immediate(&self) -> bool {
        matches!(
            self,
            Value::None | Value::Undef | Value::NotImplemented | Value::Ellipsis | Value::Bool(_) | Value::Int(_) | Value::Float(_)
        )
    }

    /// Drop a value, without a call when it is an immediate or a heap value
    /// that stays alive (the dispatch loop's hot ops drop mostly ints, bools
    /// and shared objects).
    #[inline(always)]
    pub fn discard(self) {
        if !self.is_immediate() {
            // SAFETY: a heap value holds an `Rc`; see `strong_count_cell`.
            // With other strong references left, dropping this one only
            // counts it down (what `Rc::drop` does before anything else).
            let c = unsafe { self.strong_count_cell() };
            if c.get() > 1 {
                c.set(c.get() - 1);
                std::mem::forget(self);
                return;
            }
            drop(self);
        } else {
            std::mem::forget(self);
        }
    }

    /// The strong count of the `Rc` a heap value holds.
    ///
    /// # Safety
    /// `self` is not an immediate. Every heap variant's payload word is an
    /// `Rc` of a sized type, that is a pointer to the `Rc`'s allocation,
    /// which std lays out `#[repr(C)]` with the strong count first (its
    /// source notes the `repr(C)` is kept for code that relies on the field
    /// order). The test `strong_count_is_the_first_word` checks this against
    /// `Rc::strong_count` for every heap variant.
    #[inline(always)]
    unsafe fn strong_count_cell(&self) -> &std::cell::Cell<usize> {
        let rc = *(self as *const Value as *const usize).add(1);
        &*(rc as *const std::cell::Cell<usize>)
    }
}

impl Value {
    /// A new `str` value.
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::new(PyStr::new(s)))
    }
    pub fn string(s: String) -> Value {
        Value::Str(Rc::new(PyStr::from_string(s)))
    }
    /// A new `bytes` holding `b`.
    pub fn bytes(b: Vec<u8>) -> Value {
        Value::Bytes(Rc::new(PyBytes { b: b.into_boxed_slice() }))
    }
    /// A new tuple (known to the cycle collector when it holds a container).
    pub fn tuple(items: impl IntoTupleItems) -> Value {
        let t = PyTuple::new_rc(items);
        crate::gc::track_tuple(&t);
        Value::Tuple(t)
    }
    /// A new list, known to the cycle collector.
    pub fn list(items: Vec<Value>) -> Value {
        let l = Rc::new(PyList::new(items));
        crate::gc::track(&l);
        Value::List(l)
    }
    /// A new dict, known to the cycle collector.
    pub fn dict(d: PyDict) -> Value {
        let d = Rc::new(d);
        crate::gc::track(&d);
        Value::Dict(d)
    }
    /// A new set, known to the cycle collector.
    pub fn set(s: PySet) -> Value {
        let s = Rc::new(s);
        crate::gc::track(&s);
        Value::Set(s)
    }
    #[inline(always)]
    pub fn float(x: f64) -> Value {
        Value::Float(F64::new(x))
    }
    #[inline(always)]
    pub fn bool(b: bool) -> Value {
        Value::Bool(Flag::new(b))
    }
    /// An int value from a `BigInt`, normalized to `Int` when it fits.
    pub fn from_bigint(b: BigInt) -> Value {
        use num_traits::ToPrimitive;
        match b.to_i64() {
            Some(i) => Value::Int(i),
            None => Value::BigInt(Rc::new(b)),
        }
    }
    /// `()`: one object, as in CPython (`() is ()`), made once per thread.
    pub fn empty_tuple() -> Value {
        thread_local! {
            static EMPTY: Rc<PyTuple> = PyTuple::new_rc([]);
        }
        Value::Tuple(EMPTY.with(Rc::clone))
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }
    pub fn is_undef(&self) -> bool {
        matches!(self, Value::Undef)
    }

    /// `a is b`.
    pub fn is(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (None, None) | (Undef, Undef) | (NotImplemented, NotImplemented) | (Ellipsis, Ellipsis) => true,
            (Bool(a), Bool(b)) => a == b,
            // Small ints are interned in CPython; all of ours compare by value.
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.0 == b.0,
            _ => match (self.ptr(), other.ptr()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }

    /// The address of the heap object, for identity and `id()`.
    pub fn ptr(&self) -> Option<usize> {
        use Value::*;
        Some(match self {
            BigInt(r) => Rc::as_ptr(r) as *const u8 as usize,
            Str(r) => Rc::as_ptr(r) as *const u8 as usize,
            Bytes(r) => Rc::as_ptr(r) as *const u8 as usize,
            List(r) => Rc::as_ptr(r) as *const u8 as usize,
            Tuple(r) => Rc::as_ptr(r) as *const u8 as usize,
            Dict(r) => Rc::as_ptr(r) as *const u8 as usize,
            Set(r) | FrozenSet(r) => Rc::as_ptr(r) as *const u8 as usize,
            Range(r) => Rc::as_ptr(r) as *const u8 as usize,
            Slice(r) => Rc::as_ptr(r) as *const u8 as usize,
            Function(r) => Rc::as_ptr(r) as *const u8 as usize,
            Native(r) => Rc::as_ptr(r) as *const u8 as usize,
            BoundMethod(r) => Rc::as_ptr(r) as *const u8 as usize,
            Class(r) => Rc::as_ptr(r) as *const u8 as usize,
            Instance(r) => Rc::as_ptr(r) as *const u8 as usize,
            Module(r) => Rc::as_ptr(r) as *const u8 as usize,
            Generator(r) => Rc::as_ptr(r) as *const u8 as usize,
            Iter(r) => Rc::as_ptr(r) as *const u8 as usize,
            Cell(r) => Rc::as_ptr(r) as *const u8 as usize,
            Code(r) => Rc::as_ptr(r) as *const u8 as usize,
            Future(r) => Rc::as_ptr(r) as *const u8 as usize,
            Object(r) => Rc::as_ptr(r) as *const u8 as usize,
            _ => return Option::None,
        })
    }

    pub fn as_str(&self) -> Option<&PyStr> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_instance(&self) -> Option<&Rc<Instance>> {
        match self {
            Value::Instance(i) => Some(i),
            _ => None,
        }
    }
    pub fn as_class(&self) -> Option<&Rc<Class>> {
        match self {
            Value::Class(c) => Some(c),
            _ => None,
        }
    }
    /// Downcast a native object.
    pub fn downcast<T: NativeObject>(&self) -> Option<&T> {
        match self {
            Value::Object(o) => o.as_any().downcast_ref::<T>(),
            _ => None,
        }
    }
    /// Wrap a native object as a value.
    pub fn object<T: NativeObject>(o: T) -> Value {
        Value::Object(Rc::new(Box::new(o)))
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::None => write!(f, "None"),
            Value::Undef => write!(f, "<undef>"),
            Value::Bool(b) => write!(f, "{}", b.get()),
            Value::Int(i) => write!(f, "{i}"),
            Value::BigInt(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{:?}", x.get()),
            Value::Str(s) => write!(f, "{:?}", s.as_str()),
            Value::Tuple(t) => write!(f, "{:?}", &t.items[..]),
            Value::List(l) => write!(f, "{:?}", &l.borrow()[..]),
            other => write!(f, "<{}>", crate::types::type_name(other)),
        }
    }
}

/// A value that is a native object, an instance or a generator, in one
/// word (a `Value` takes two): the pointer of its `Rc`, its two low bits
/// telling the kind (each block is aligned to 8). For what a small object
/// holds by the thousand: the event of a parked `Event.wait()`, the
/// coroutine of a task.
pub struct ValueWord(std::ptr::NonNull<u8>);

const OBJECT_BITS: usize = 0;
const INSTANCE_BITS: usize = 1;
const GENERATOR_BITS: usize = 2;

const _: () = assert!(
    std::mem::align_of::<Box<dyn NativeObject>>() >= 4 && std::mem::align_of::<Instance>() >= 4 && std::mem::align_of::<Generator>() >= 4
);

impl ValueWord {
    /// `v`, which must be a native object, an instance or a generator.
    #[inline]
    pub fn new(v: Value) -> ValueWord {
        let p: *const u8 = match v {
            Value::Object(o) => Rc::into_raw(o).cast::<u8>().map_addr(|a| a | OBJECT_BITS),
            Value::Instance(i) => Rc::into_raw(i).cast::<u8>().map_addr(|a| a | INSTANCE_BITS),
            Value::Generator(g) => Rc::into_raw(g).cast::<u8>().map_addr(|a| a | GENERATOR_BITS),
            _ => unreachable!("a ValueWord holds an object, an instance or a generator"),
        };
        // SAFETY: the pointer of an `Rc` is not null.
        ValueWord(unsafe { std::ptr::NonNull::new_unchecked(p.cast_mut()) })
    }

    /// The value, owning the word's reference: forgotten by all but `drop`.
    #[inline]
    fn take(&self) -> Value {
        let p = self.0.as_ptr().cast_const();
        let at = p.map_addr(|a| a & !3);
        // SAFETY: `p` is what `new` made of an `Rc` of the kind its bits tell.
        unsafe {
            match p as usize & 3 {
                OBJECT_BITS => Value::Object(Rc::from_raw(at.cast())),
                INSTANCE_BITS => Value::Instance(Rc::from_raw(at.cast())),
                _ => Value::Generator(Rc::from_raw(at.cast())),
            }
        }
    }

    /// The value, to read: what it derefs to lives as long as the word.
    #[inline]
    pub fn get(&self) -> ValueRef<'_> {
        ValueRef(std::mem::ManuallyDrop::new(self.take()), std::marker::PhantomData)
    }

    /// The value, as a new reference.
    #[inline]
    pub fn value(&self) -> Value {
        let p = self.0.as_ptr().cast_const();
        let at = p.map_addr(|a| a & !3);
        // SAFETY: as in `take`; the count goes up for the new reference.
        unsafe {
            match p as usize & 3 {
                OBJECT_BITS => {
                    Rc::increment_strong_count(at.cast::<Box<dyn NativeObject>>());
                    Value::Object(Rc::from_raw(at.cast()))
                }
                INSTANCE_BITS => {
                    Rc::increment_strong_count(at.cast::<Instance>());
                    Value::Instance(Rc::from_raw(at.cast()))
                }
                _ => {
                    Rc::increment_strong_count(at.cast::<Generator>());
                    Value::Generator(Rc::from_raw(at.cast()))
                }
            }
        }
    }
}

impl Drop for ValueWord {
    fn drop(&mut self) {
        drop(self.take());
    }
}

/// The value a [`ValueWord`] holds, borrowed from it.
pub struct ValueRef<'a>(std::mem::ManuallyDrop<Value>, std::marker::PhantomData<&'a ValueWord>);

impl std::ops::Deref for ValueRef<'_> {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `strong_count_cell` reads an `Rc`'s strong count as the first word
    /// of its allocation; this holds for every heap variant or the clone
    /// and discard shortcuts would corrupt counts.
    #[test]
    fn strong_count_is_the_first_word() {
        fn check(v: Value, count: impl Fn(&Value) -> usize) {
            let copy = v.clone();
            // SAFETY: `v` is a heap value.
            assert_eq!(unsafe { v.strong_count_cell() }.get(), count(&v));
            assert_eq!(count(&v), 2);
            copy.discard();
            assert_eq!(count(&v), 1);
        }
        check(Value::str("a string that is not short at all"), |v| match v {
            Value::Str(r) => Rc::strong_count(r),
            _ => 0,
        });
        check(Value::list(vec![Value::Int(1)]), |v| match v {
            Value::List(r) => Rc::strong_count(r),
            _ => 0,
        });
        check(Value::tuple([]), |v| match v {
            Value::Tuple(r) => Rc::strong_count(r),
            _ => 0,
        });
        check(Value::Dict(Rc::new(PyDict::new())), |v| match v {
            Value::Dict(r) => Rc::strong_count(r),
            _ => 0,
        });
        check(Value::from_bigint(BigInt::from(1u8) << 100), |v| match v {
            Value::BigInt(r) => Rc::strong_count(r),
            _ => 0,
        });
    }
}
