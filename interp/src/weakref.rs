//! Weak references (`weakref.ref`): they reach an object without keeping
//! it alive. An object's death is noticed at the next check: at the next
//! call when an instance with a callback on it died, before output is
//! written, after a `del`, every few thousand instructions and when the
//! program asks; then the callbacks of the references to it run, so
//! `del obj` followed by `print(...)` shows a callback's output first, as
//! CPython's immediate collection does.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use crate::exceptions::*;
use crate::object::*;
use crate::types::{method, new_class, type_name, types};
use crate::value::Value;
use crate::vm::Vm;

/// What a weak reference points at: the kinds of object CPython lets one
/// refer to weakly (instances, classes, functions, methods, generators,
/// sets and the runtime's own objects).
#[derive(Clone)]
pub enum Target {
    Instance(Weak<Instance>),
    Class(Weak<Class>),
    Function(Weak<Function>),
    Method(Weak<BoundMethod>),
    Generator(Weak<Generator>),
    Set(Weak<PySet>),
    FrozenSet(Weak<PySet>),
    Object(Weak<Box<dyn NativeObject>>),
    Future(Weak<crate::task::Future>),
}

impl Target {
    /// The target for `v`, or `None` when `v` cannot be referred to weakly.
    pub fn of(v: &Value) -> Option<Target> {
        Some(match v {
            Value::Instance(i) => Target::Instance(Rc::downgrade(i)),
            Value::Class(c) => Target::Class(Rc::downgrade(c)),
            Value::Function(f) => Target::Function(Rc::downgrade(f)),
            Value::BoundMethod(m) => Target::Method(Rc::downgrade(m)),
            Value::Generator(g) => Target::Generator(Rc::downgrade(g)),
            Value::Set(s) => Target::Set(Rc::downgrade(s)),
            Value::FrozenSet(s) => Target::FrozenSet(Rc::downgrade(s)),
            Value::Object(o) => Target::Object(Rc::downgrade(o)),
            Value::Future(f) => Target::Future(Rc::downgrade(f)),
            _ => return None,
        })
    }

    /// The object, while it lives.
    pub fn get(&self) -> Option<Value> {
        Some(match self {
            Target::Instance(w) => Value::Instance(w.upgrade()?),
            Target::Class(w) => Value::Class(w.upgrade()?),
            Target::Function(w) => Value::Function(w.upgrade()?),
            Target::Method(w) => Value::BoundMethod(w.upgrade()?),
            Target::Generator(w) => Value::Generator(w.upgrade()?),
            Target::Set(w) => Value::Set(w.upgrade()?),
            Target::FrozenSet(w) => Value::FrozenSet(w.upgrade()?),
            Target::Object(w) => Value::Object(w.upgrade()?),
            Target::Future(w) => Value::Future(w.upgrade()?),
        })
    }

    /// The address of the object (alive or not).
    pub fn addr(&self) -> usize {
        match self {
            Target::Instance(w) => w.as_ptr() as usize,
            Target::Class(w) => w.as_ptr() as usize,
            Target::Function(w) => w.as_ptr() as usize,
            Target::Method(w) => w.as_ptr() as usize,
            Target::Generator(w) => w.as_ptr() as usize,
            Target::Set(w) | Target::FrozenSet(w) => w.as_ptr() as usize,
            Target::Object(w) => w.as_ptr() as *const () as usize,
            Target::Future(w) => w.as_ptr() as usize,
        }
    }

    pub fn alive(&self) -> bool {
        match self {
            Target::Instance(w) => w.strong_count() > 0,
            Target::Class(w) => w.strong_count() > 0,
            Target::Function(w) => w.strong_count() > 0,
            Target::Method(w) => w.strong_count() > 0,
            Target::Generator(w) => w.strong_count() > 0,
            Target::Set(w) | Target::FrozenSet(w) => w.strong_count() > 0,
            Target::Object(w) => w.strong_count() > 0,
            Target::Future(w) => w.strong_count() > 0,
        }
    }
}

/// A `weakref.ref` object.
pub struct WeakRef {
    target: Target,
    /// Called with the reference when the object dies (None: no callback).
    pub callback: RefCell<Value>,
    /// The cycle collector cleared the reference: its object is garbage
    /// (maybe not freed yet, while finalizers run), or the reference is.
    cleared: Cell<bool>,
    /// The order references were made in (callbacks of one object run
    /// newest first, as CPython keeps them).
    seq: u64,
    gc: crate::gc::GcSlot,
    /// The object's hash, kept once computed: a dead reference still hashes.
    hash: Cell<Option<i64>>,
    /// Where the object lived and what it was, for the repr.
    addr: usize,
    type_name: String,
}

thread_local! {
    static REF_CLASS: Rc<Class> = {
        let c = new_class("ReferenceType", std::slice::from_ref(&types().object), Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("weakref"));
        method(&c, "ReferenceType", "__call__", ref_call);
        method(&c, "ReferenceType", "__eq__", ref_eq);
        method(&c, "ReferenceType", "__ne__", ref_ne);
        method(&c, "ReferenceType", "__hash__", ref_hash);
        c.dict.set_str("__new__", crate::attr::StaticMethod::wrap(crate::types::native_fn("__new__", ref_new)));
        c
    };
    /// References with a callback, held weakly: a reference that dies
    /// first never calls back.
    static WATCHED: RefCell<Vec<Weak<Box<dyn NativeObject>>>> = const { RefCell::new(Vec::new()) };
    static POLLING: Cell<bool> = const { Cell::new(false) };
    static SEQ: Cell<u64> = const { Cell::new(0) };
    /// References the cycle collector cleared, with their callbacks, in
    /// the order they are to be called.
    static CLEARED: RefCell<Vec<(Value, Value)>> = const { RefCell::new(Vec::new()) };
    /// Those callbacks are running (the finalizers wait for them).
    static CALLING_BACK: Cell<bool> = const { Cell::new(false) };
}

/// Are the callbacks of cleared references running? (`__del__` and the
/// closing of generators wait until they are done.)
pub fn calling_back() -> bool {
    CALLING_BACK.with(|c| c.get())
}

impl WeakRef {
    /// The object, while it lives and the reference is not cleared.
    pub fn get(&self) -> Option<Value> {
        if self.cleared.get() {
            return None;
        }
        self.target.get()
    }
    /// Does the object live (for this reference)?
    pub fn alive(&self) -> bool {
        !self.cleared.get() && self.target.alive()
    }
    /// The address of the object referred to.
    pub fn target_addr(&self) -> usize {
        self.target.addr()
    }
    /// The order of creation.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// The cycle collector clears the reference: it answers `None` from
    /// now on and its callback never runs from here. The callback, if
    /// any, is given back (for the collector to call or drop).
    pub fn clear(&self) -> Option<Value> {
        if self.cleared.replace(true) {
            return None;
        }
        Some(std::mem::take(&mut *self.callback.borrow_mut())).filter(|c| !c.is_none())
    }
    /// The cycle collector clears a reference that is garbage itself: its
    /// callback never runs (it goes when the reference is freed).
    pub fn cut(&self) {
        self.cleared.set(true);
    }
    /// Has the cycle collector cleared it?
    pub fn is_cleared(&self) -> bool {
        self.cleared.get()
    }
}

impl Drop for WeakRef {
    fn drop(&mut self) {
        self.gc.untrack();
    }
}

/// Queue the callbacks of references the cycle collector cleared (each
/// with its reference), to run before the garbage's finalizers.
pub fn queue_cleared(due: Vec<(Value, Value)>) {
    if due.is_empty() {
        return;
    }
    let _ = CLEARED.try_with(|c| c.borrow_mut().extend(due));
    crate::generator::want_finalizers();
}

/// Run the queued callbacks of cleared references; the number of
/// references that are freed once their callback has run (CPython counts
/// them among the objects a collection frees).
pub fn run_cleared(vm: &mut Vm) -> usize {
    if CLEARED.with(|c| c.borrow().is_empty()) || CALLING_BACK.with(|c| c.replace(true)) {
        return 0;
    }
    let mut freed = 0;
    loop {
        let due = CLEARED.with(|c| std::mem::take(&mut *c.borrow_mut()));
        if due.is_empty() {
            CALLING_BACK.with(|c| c.set(false));
            return freed;
        }
        for (r, cb) in due {
            call_back(vm, &r, cb);
            if let Value::Object(o) = &r {
                freed += (Rc::strong_count(o) == 1) as usize;
            }
        }
    }
}

/// Call a reference's callback; an exception is reported and ignored, as
/// CPython does.
fn call_back(vm: &mut Vm, r: &Value, cb: Value) {
    if let Err(e) = vm.call(cb.clone(), Args::new([r.clone()])) {
        let shown = vm.repr_str(&cb).unwrap_or_else(|_| "<callback>".into());
        let msg = crate::diagnostic::plain_traceback(&e);
        vm.write_err(&format!("Exception ignored in: {shown}\n{msg}"));
    }
}

/// The class of `weakref.ref` objects (`weakref.ReferenceType`).
pub fn ref_class() -> Rc<Class> {
    REF_CLASS.with(|c| c.clone())
}

impl NativeObject for WeakRef {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        ref_class()
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "__callback__" => Some(self.callback.borrow().clone()),
            _ => None,
        })
    }
    fn gc_slot(&self) -> Option<&crate::gc::GcSlot> {
        Some(&self.gc)
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        let me = self as *const WeakRef as usize;
        Ok(if self.alive() {
            format!("<weakref at {me:#x}; to '{}' at {:#x}>", self.type_name, self.addr)
        } else {
            format!("<weakref at {me:#x}; dead>")
        })
    }
}

/// `ref(obj, callback=None)`: a new weak reference (`cls` is `ref` or a
/// subclass, whose instances wrap it).
pub fn new_ref(obj: &Value, callback: Value) -> PyResult<Value> {
    // `__slots__` without `'__weakref__'` leave no room for references.
    let refusing = matches!(obj, Value::Instance(i) if !i.class().has_weakref);
    let Some(target) = Target::of(obj).filter(|_| !refusing) else {
        return Err(type_error(format!("cannot create weak reference to '{}' object", type_name(obj))));
    };
    let r = WeakRef {
        target,
        cleared: Cell::new(false),
        seq: SEQ.with(|s| s.replace(s.get() + 1)),
        gc: Default::default(),
        hash: Cell::new(None),
        addr: obj.ptr().unwrap_or(0),
        type_name: crate::types::type_of(obj).name().as_str().to_string(),
        callback: RefCell::new(callback.clone()),
    };
    let v = Value::object(r);
    if let Value::Object(o) = &v {
        crate::gc::track(o);
    }
    if !callback.is_none() {
        if let Value::Instance(i) = obj {
            let cls = i.class();
            cls.flags.set(cls.flags.get() | crate::object::CLASS_WEAK_CALLBACK);
        }
        if let Value::Object(o) = &v {
            WATCHED.with(|w| w.borrow_mut().push(Rc::downgrade(o)));
        }
    }
    Ok(v)
}

/// `ref.__new__(cls, obj, callback=None)`: a reference, wrapped in an
/// instance when `cls` is a subclass of `ref` (`WeakMethod`).
fn ref_new(_vm: &mut Vm, args: Args) -> PyResult {
    let (cls, obj, callback) = match &args.pos[..] {
        [Value::Class(c), obj] => (c.clone(), obj.clone(), Value::None),
        [Value::Class(c), obj, cb] => (c.clone(), obj.clone(), cb.clone()),
        [_, ..] => return Err(type_error("ref.__new__(X): X is not a type object")),
        [] => return Err(type_error("ref.__new__(): not enough arguments")),
    };
    let r = new_ref(&obj, callback)?;
    if Rc::ptr_eq(&cls, &ref_class()) {
        return Ok(r);
    }
    Ok(Value::Instance(Instance::new(cls, Payload::Builtin(RefCell::new(r)))))
}

/// The `WeakRef` behind `v` (a reference, or an instance of a subclass of `ref`).
pub fn as_ref(v: &Value) -> Option<(Rc<Box<dyn NativeObject>>, &WeakRef)> {
    let o = match v {
        Value::Object(o) => o,
        _ => return None,
    };
    o.as_any().downcast_ref::<WeakRef>().map(|r| (o.clone(), r))
}

fn this(args: &Args) -> PyResult<Value> {
    let v = args.pos.first().cloned().unwrap_or(Value::None);
    let v = match &v {
        Value::Instance(i) => i.builtin_value().unwrap_or(v.clone()),
        _ => v,
    };
    if as_ref(&v).is_none() {
        return Err(type_error("descriptor requires a 'weakref.ReferenceType' object"));
    }
    Ok(v)
}

fn ref_call(_vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    let (_, r) = as_ref(&v).expect("checked");
    Ok(r.get().unwrap_or(Value::None))
}

fn ref_eq(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    let other = args.pos.get(1).cloned().unwrap_or(Value::None);
    let other = match &other {
        Value::Instance(i) => i.builtin_value().unwrap_or(other.clone()),
        _ => other,
    };
    let (_, a) = as_ref(&v).expect("checked");
    let Some((_, b)) = as_ref(&other) else { return Ok(Value::NotImplemented) };
    match (a.get(), b.get()) {
        (Some(x), Some(y)) => Ok(Value::bool(vm.eq(&x, &y)?)),
        _ => Ok(Value::bool(v.is(&other))),
    }
}

fn ref_ne(vm: &mut Vm, args: Args) -> PyResult {
    match ref_eq(vm, args)? {
        Value::Bool(b) => Ok(Value::bool(!b.get())),
        other => Ok(other),
    }
}

fn ref_hash(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    let (_, r) = as_ref(&v).expect("checked");
    if let Some(h) = r.hash.get() {
        return Ok(Value::Int(h));
    }
    let Some(obj) = r.get() else { return Err(type_error("weak object has gone away")) };
    let h = vm.hash(&obj)?;
    r.hash.set(Some(h));
    Ok(Value::Int(h))
}

/// Is any reference with a callback still waiting for its object to die?
#[inline]
pub fn watching() -> bool {
    WATCHED.with(|w| !w.borrow().is_empty())
}

thread_local! {
    /// An instance with a weak reference callback on it died.
    static WEAK_DUE: Cell<bool> = const { Cell::new(false) };
    /// The addresses of such instances, in the order they died.
    static DEATHS: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// The instance at `addr`, which a weak reference with a callback may
/// point at, died: the callbacks run at the next safe point, in the order
/// their objects died.
pub fn target_died(addr: usize) {
    let _ = DEATHS.try_with(|d| d.borrow_mut().push(addr));
    let _ = WEAK_DUE.try_with(|d| d.set(true));
    crate::generator::want_finalizers();
}

/// The addresses [`target_died`] noted since the last call, oldest first.
fn take_deaths() -> Vec<usize> {
    DEATHS.try_with(|d| std::mem::take(&mut *d.borrow_mut())).unwrap_or_default()
}

/// At a safe point: when an instance with a callback on it died, run the
/// callbacks that are due.
pub fn poll_deaths(vm: &mut Vm) {
    if WEAK_DUE.with(|d| d.replace(false)) {
        poll(vm);
        // Deaths with no callback left to order (poll takes the rest).
        take_deaths();
    }
}

/// Hold the callbacks back (`true`) or let them run again (`false`);
/// the previous setting. `__del__` runs with them held, since CPython
/// clears an object's weak references only after finalizing it.
pub fn hold_callbacks(on: bool) -> bool {
    POLLING.with(|p| p.replace(on))
}

/// Run the callbacks of references whose objects have died since the last
/// check. An exception in a callback is reported and ignored, as CPython does.
pub fn poll(vm: &mut Vm) {
    if !watching() || POLLING.with(|p| p.replace(true)) {
        return;
    }
    loop {
        let due: Vec<Value> = WATCHED.with(|w| {
            let mut w = w.borrow_mut();
            let mut due = Vec::new();
            w.retain(|weak| match weak.upgrade() {
                None => false,
                Some(o) => {
                    let dead = o.as_any().downcast_ref::<WeakRef>().is_none_or(|r| !r.alive());
                    if dead {
                        due.push(Value::Object(o));
                    }
                    !dead
                }
            });
            due
        });
        if due.is_empty() {
            break;
        }
        // Objects whose deaths were noted call back in that order, the rest after.
        let deaths = take_deaths();
        let mut due = due;
        if !deaths.is_empty() {
            let mut order = hashbrown::HashMap::with_capacity(deaths.len());
            for (k, a) in deaths.into_iter().enumerate() {
                order.entry(a).or_insert(k);
            }
            due.sort_by_key(|r| as_ref(r).and_then(|(_, w)| order.get(&w.addr).copied()).unwrap_or(usize::MAX));
        }
        for r in due {
            let Some((_, wr)) = as_ref(&r) else { continue };
            if wr.is_cleared() {
                // The collector took its callback, or it was garbage itself.
                continue;
            }
            let cb = std::mem::take(&mut *wr.callback.borrow_mut());
            if cb.is_none() {
                continue;
            }
            call_back(vm, &r, cb);
        }
    }
    POLLING.with(|p| p.set(false));
}

/// How many weak references point at `v` (`weakref.getweakrefcount`).
pub fn weak_count(v: &Value) -> usize {
    match v {
        Value::Instance(i) => Rc::weak_count(i),
        Value::Function(f) => Rc::weak_count(f),
        Value::Generator(g) => Rc::weak_count(g),
        Value::Set(s) | Value::FrozenSet(s) => Rc::weak_count(s),
        Value::Object(o) => Rc::weak_count(o),
        _ => 0,
    }
}
