//! The cycle collector: finds containers that only keep each other alive
//! and frees them. Reference counting (`Rc`) frees everything else.
//!
//! DESIGN. It is CPython's collector (gcmodule.c) moved onto `Rc`:
//!
//! - Tracking. Every container that can take part in a cycle (list, dict,
//!   set, instance, function, cell, bound method, generator, class, and a
//!   tuple holding a tracked object) is entered in this thread's registry
//!   when made (`track`) and leaves it when dropped (`GcSlot`'s owner's
//!   `Drop` calls `untrack`). Each object keeps its index in the registry
//!   (`GcSlot`, one word), so both are O(1): a leaving object's place is
//!   taken by the last one (`swap_remove`). Objects never entered (a
//!   module, a code object, a native object, a tuple of ints and strings)
//!   are simply outside: everything they hold counts as referenced from
//!   outside, which can only keep objects alive, never free one early.
//! - Trial deletion. For the objects examined, `refs` starts at each one's
//!   strong count; every reference between two examined objects
//!   (`traverse`) is taken off. What is left over counts references from
//!   outside (the value stack, frames, modules, Rust locals): those objects
//!   are reachable, and so is everything they reach. The rest hold each
//!   other only: garbage. `traverse` must report exactly the strong
//!   references an object holds (one report per counted reference), never
//!   more; an object it cannot read right now (a `RefCell` mutably borrowed)
//!   counts as reachable.
//! - Finalizers (PEP 442). When garbage holds objects with a finalizer
//!   not yet run (an instance whose class has `__del__`, a generator or
//!   coroutine suspended in a `try`/`with` that closing would run), none
//!   of it is freed: the finalizers are queued for the VM's next safe
//!   point, each runs once with its objects whole, and the collection
//!   that follows frees what is still unreachable. A finalizer may
//!   resurrect its object (store it somewhere); that is then simply
//!   reachable, and its finalizer does not run again when it dies.
//! - Freeing. The collector takes a reference to every garbage object,
//!   empties each (`clear`: lists, dicts and sets lose their items,
//!   instances their attributes, cells their value), which breaks every
//!   cycle, then lets go: plain reference counting frees them. No .aio
//!   code runs during this step, so nothing can see a half-cleared object.
//! - Generations. The registry's tail from `young` on is the young
//!   generation: objects made since the last collection. A young
//!   collection examines only those (references from older objects count
//!   as outside ones) and promotes the survivors. It starts when the young
//!   generation grows past `threshold[0]` (700, as CPython); a full
//!   collection replaces every `threshold[1]`-th young one, but only once
//!   the objects promoted since the last full collection exceed a quarter
//!   of those that survived it (CPython's rule for its oldest generation,
//!   against quadratic time on a growing heap). There is no middle
//!   generation: `threshold[2]` is kept for `gc.get_threshold()` only.
//! - When. Allocation only raises a flag; the VM collects at its next
//!   periodic check (`Vm::check_interrupt`, every few thousand jumps and
//!   calls), where no Rust code is in the middle of using an object, or
//!   when `gc.collect()` asks.
//!
//! - Weak references. A weak reference is tracked (it holds its
//!   callback). Before any finalizer runs, the references into the
//!   garbage are cleared (`handle_weakrefs`), as CPython does: those that
//!   are garbage themselves never call back; the callbacks of the others
//!   are queued and run first at the safe point, before `__del__`.

use std::cell::{Cell, RefCell};
use std::mem::ManuallyDrop;
use std::rc::Rc;

use crate::object::*;
use crate::value::Value;

/// Where a tracked object sits in the registry; `UNTRACKED` for the rest.
pub struct GcSlot(Cell<u32>);

const UNTRACKED: u32 = u32::MAX;

impl Default for GcSlot {
    fn default() -> Self {
        GcSlot(Cell::new(UNTRACKED))
    }
}

impl GcSlot {
    /// Is the owner in the registry?
    #[inline(always)]
    pub fn is_tracked(&self) -> bool {
        self.0.get() != UNTRACKED
    }
    /// The owner is being dropped: it leaves the registry.
    #[inline(always)]
    pub fn untrack(&self) {
        let i = self.0.get();
        if i != UNTRACKED {
            self.0.set(UNTRACKED);
            let _ = HEAP.try_with(|h| h.borrow_mut().remove(i as usize));
        }
    }
}

/// The kinds of object the registry holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[doc(hidden)]
pub enum Kind {
    List,
    Tuple,
    Dict,
    Set,
    Instance,
    Function,
    Cell,
    BoundMethod,
    Generator,
    Class,
    WeakRef,
}

/// Types whose objects can be tracked.
pub trait Traced: Sized {
    #[doc(hidden)]
    const KIND: Kind;
    /// The object's registry slot.
    fn gc_slot(&self) -> &GcSlot;
    /// Report each strong reference the object holds to a tracked object
    /// (exactly once per counted reference); `false` when it cannot be read
    /// now (it then counts as reachable).
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool;
    /// Let go of what the object holds, as far as it can change: the
    /// values move into `out`, dropped once nothing is borrowed.
    fn clear(&self, out: &mut Vec<Value>);
}

macro_rules! traced {
    ($($t:ty => $k:ident),* $(,)?) => {
        /// Run `$body` with `$o` bound to the object `$r` points to, as its type.
        macro_rules! with_obj {
            ($r:expr, $o:ident => $body:expr) => {{
                let r: GcRef = $r;
                match r.kind {
                    $(Kind::$k => {
                        // SAFETY: a registered pointer stays valid until its
                        // object is dropped, which unregisters it first.
                        let $o: &$t = unsafe { &*(r.ptr as *const $t) };
                        $body
                    })*
                }
            }};
        }

        /// The strong count of a registered object.
        fn strong_count(r: GcRef) -> usize {
            match r.kind {
                $(Kind::$k => {
                    // SAFETY: registered pointers come from `Rc::as_ptr` of
                    // live objects; `ManuallyDrop` leaves the count alone.
                    let rc = unsafe { ManuallyDrop::new(Rc::from_raw(r.ptr as *const $t)) };
                    Rc::strong_count(&rc)
                })*
            }
        }

        /// The weak count of a registered object.
        fn weak_count(r: GcRef) -> usize {
            match r.kind {
                $(Kind::$k => {
                    // SAFETY: as for `strong_count`.
                    let rc = unsafe { ManuallyDrop::new(Rc::from_raw(r.ptr as *const $t)) };
                    Rc::weak_count(&rc)
                })*
            }
        }

        /// Take a strong reference to a registered object, as a value-less handle.
        fn retain(r: GcRef) {
            match r.kind {
                // SAFETY: as for `strong_count`; `release` gives it back.
                $(Kind::$k => unsafe { Rc::increment_strong_count(r.ptr as *const $t) },)*
            }
        }

        /// Give back a reference taken by `retain` (which may free the object).
        fn release(r: GcRef) {
            match r.kind {
                // SAFETY: `retain` counted this reference.
                $(Kind::$k => unsafe { Rc::decrement_strong_count(r.ptr as *const $t) },)*
            }
        }
    };
}

traced! {
    PyList => List,
    PyTuple => Tuple,
    PyDict => Dict,
    PySet => Set,
    Instance => Instance,
    Function => Function,
    CellObj => Cell,
    BoundMethod => BoundMethod,
    Generator => Generator,
    Class => Class,
    Box<dyn NativeObject> => WeakRef,
}

/// The tracked objects: addresses and kinds side by side, 9 bytes an
/// object rather than the 16 of a padded `GcRef`.
struct Registry {
    ptrs: Vec<*const ()>,
    kinds: Vec<Kind>,
}

impl Registry {
    fn len(&self) -> usize {
        self.ptrs.len()
    }
    fn get(&self, i: usize) -> Option<GcRef> {
        Some(GcRef { ptr: *self.ptrs.get(i)?, kind: self.kinds[i] })
    }
    fn at(&self, i: usize) -> GcRef {
        GcRef { ptr: self.ptrs[i], kind: self.kinds[i] }
    }
    fn push(&mut self, r: GcRef) {
        self.ptrs.push(r.ptr);
        self.kinds.push(r.kind);
    }
    fn swap_remove(&mut self, i: usize) {
        self.ptrs.swap_remove(i);
        self.kinds.swap_remove(i);
    }
}

/// The registry and the collector's settings.
struct Heap {
    objs: Registry,
    /// The young generation is `objs[young..]`.
    young: usize,
    enabled: bool,
    threshold: [u32; 3],
    /// Young collections since the last full one.
    young_collections: u32,
    /// Objects that survived the last full collection.
    long_lived: usize,
    /// Objects promoted to the old generation since then.
    promoted: usize,
    /// A collection is due at the VM's next check.
    pending: bool,
    collecting: bool,
    /// Finalizers of garbage were queued: the collection to run after them
    /// (`Some(full)`).
    after_finalizers: Option<bool>,
    stats: Stats,
}

/// What the collector has done so far.
#[derive(Clone, Copy, Default, Debug)]
pub struct Stats {
    pub collections: u64,
    pub collected: u64,
    /// The longest collection, in seconds.
    pub worst_pause: f64,
}

thread_local! {
    static HEAP: RefCell<Heap> = const {
        RefCell::new(Heap {
            objs: Registry { ptrs: Vec::new(), kinds: Vec::new() },
            young: 0,
            enabled: true,
            threshold: [700, 10, 10],
            young_collections: 0,
            long_lived: 0,
            promoted: 0,
            pending: false,
            collecting: false,
            after_finalizers: None,
            stats: Stats { collections: 0, collected: 0, worst_pause: 0.0 },
        })
    };
}

impl Heap {
    fn remove(&mut self, i: usize) {
        self.objs.swap_remove(i);
        if let Some(moved) = self.objs.get(i) {
            with_obj!(moved, o => o.gc_slot().0.set(i as u32));
        }
        if self.young > self.objs.len() {
            self.young = self.objs.len();
        }
    }

    fn check_pending(&mut self) {
        if self.enabled && !self.pending && self.threshold[0] > 0 && self.objs.len() - self.young > self.threshold[0] as usize {
            self.pending = true;
        }
    }
}

/// Enter a new container in the registry.
pub fn track<T: Traced>(rc: &Rc<T>) {
    let slot = rc.gc_slot();
    if slot.is_tracked() {
        return;
    }
    enter(slot, GcRef { ptr: Rc::as_ptr(rc) as *const (), kind: T::KIND });
}

/// Enter a coroutine in the registry as it first suspends: coroutines are
/// not tracked when made (most finish without ever suspending), but a
/// suspended one can be part of a cycle.
#[inline]
pub fn track_suspended(g: &Generator) {
    if !g.gc.is_tracked() {
        // Every generator lives in an `Rc`, whose pointer is this one.
        enter(&g.gc, GcRef { ptr: g as *const Generator as *const (), kind: Kind::Generator });
    }
}

fn enter(slot: &GcSlot, r: GcRef) {
    HEAP.with(|h| {
        let mut h = h.borrow_mut();
        slot.0.set(h.objs.len() as u32);
        h.objs.push(r);
        h.check_pending();
    });
}

/// Track the object a new value holds, if it is a container (a tuple only
/// when it holds a tracked object: a tuple of ints and strings can never
/// be part of a cycle).
pub fn track_value(v: &Value) {
    match v {
        Value::List(r) => track(r),
        Value::Dict(r) => track(r),
        Value::Set(r) | Value::FrozenSet(r) => track(r),
        Value::Instance(r) => track(r),
        Value::Function(r) => track(r),
        Value::Cell(r) => track(r),
        Value::BoundMethod(r) => track(r),
        Value::Generator(r) => track(r),
        Value::Class(r) => track(r),
        Value::Tuple(r) => track_tuple(r),
        Value::Object(r) if NativeObject::gc_slot(&***r).is_some() => track(r),
        _ => {}
    }
}

/// Track a new tuple if it holds a tracked object.
#[inline]
pub fn track_tuple(t: &Rc<PyTuple>) {
    if t.items.iter().any(|v| value_ref(v).is_some()) {
        track(t)
    }
}

/// `gc.is_tracked(v)`: is `v` an object the collector looks at?
pub fn is_tracked(v: &Value) -> bool {
    value_ref(v).is_some()
}

/// Is a collection freeing garbage right now? (Its victims' `__del__` is
/// not called: their dicts have been cleared.)
pub fn collecting() -> bool {
    HEAP.try_with(|h| h.try_borrow().map(|h| h.collecting).unwrap_or(false)).unwrap_or(true)
}

/// Is a collection due?
#[inline(always)]
pub fn pending() -> bool {
    HEAP.with(|h| h.borrow().pending)
}

/// A registry entry: a tracked object's address and kind.
#[derive(Clone, Copy)]
pub struct GcRef {
    ptr: *const (),
    kind: Kind,
}

fn gc_ref<T: Traced>(rc: &Rc<T>) -> Option<GcRef> {
    if rc.gc_slot().is_tracked() {
        Some(GcRef { ptr: Rc::as_ptr(rc) as *const (), kind: T::KIND })
    } else {
        None
    }
}

/// The registry entry of the tracked object a value holds.
#[inline]
fn value_ref(v: &Value) -> Option<GcRef> {
    match v {
        Value::List(x) => gc_ref(x),
        Value::Tuple(x) => gc_ref(x),
        Value::Dict(x) => gc_ref(x),
        Value::Set(x) | Value::FrozenSet(x) => gc_ref(x),
        Value::Instance(x) => gc_ref(x),
        Value::Function(x) => gc_ref(x),
        Value::Cell(x) => gc_ref(x),
        Value::BoundMethod(x) => gc_ref(x),
        Value::Generator(x) => gc_ref(x),
        Value::Class(x) => gc_ref(x),
        Value::Object(x) => gc_ref(x),
        _ => None,
    }
}

fn visit_value(v: &Value, visit: &mut dyn FnMut(GcRef)) {
    if let Some(r) = value_ref(v) {
        visit(r);
    }
}

fn visit_class(c: &Rc<Class>, visit: &mut dyn FnMut(GcRef)) {
    if let Some(r) = gc_ref(c) {
        visit(r);
    }
}

/// The entries of a dict that only its owner holds (an instance's,
/// class's or function's namespace). A namespace also held elsewhere
/// (`vars(obj)` kept in a variable) is not looked into: what it holds
/// then counts as reachable, and `clear_owned_dict` leaves it alone.
/// A namespace that is itself tracked is reported as one reference (its
/// entries are its own to report).
fn visit_owned_dict(d: &Rc<PyDict>, visit: &mut dyn FnMut(GcRef)) -> bool {
    if let Some(r) = gc_ref(d) {
        visit(r);
        return true;
    }
    if Rc::strong_count(d) != 1 {
        return true;
    }
    d.traverse(visit)
}

fn clear_owned_dict(d: &Rc<PyDict>, out: &mut Vec<Value>) {
    if !d.gc.is_tracked() && Rc::strong_count(d) == 1 {
        d.clear(out);
    }
}

impl Traced for PyList {
    const KIND: Kind = Kind::List;
    fn gc_slot(&self) -> &GcSlot {
        &self.gc
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        let Ok(items) = self.try_borrow() else { return false };
        items.iter().for_each(|v| visit_value(v, visit));
        true
    }
    fn clear(&self, out: &mut Vec<Value>) {
        if let Ok(mut items) = self.try_borrow_mut() {
            out.append(&mut items);
        }
    }
}

impl Traced for PyTuple {
    const KIND: Kind = Kind::Tuple;
    fn gc_slot(&self) -> &GcSlot {
        &self.gc
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        self.items.iter().for_each(|v| visit_value(v, visit));
        true
    }
    // A tuple cannot change; the mutable objects of its cycle break it.
    fn clear(&self, _out: &mut Vec<Value>) {}
}

impl Traced for PyDict {
    const KIND: Kind = Kind::Dict;
    fn gc_slot(&self) -> &GcSlot {
        &self.gc
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        let Ok(d) = self.d.try_borrow() else { return false };
        for e in d.iter() {
            visit_value(&e.key, visit);
            visit_value(&e.value, visit);
        }
        true
    }
    fn clear(&self, out: &mut Vec<Value>) {
        if let Ok(mut d) = self.d.try_borrow_mut() {
            for e in d.iter() {
                out.push(e.key.clone());
                out.push(e.value.clone());
            }
            d.clear();
        }
    }
}

impl Traced for PySet {
    const KIND: Kind = Kind::Set;
    fn gc_slot(&self) -> &GcSlot {
        &self.gc
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        let Ok(s) = self.s.try_borrow() else { return false };
        s.entries().for_each(|(_, v)| visit_value(v, visit));
        true
    }
    fn clear(&self, out: &mut Vec<Value>) {
        if let Ok(mut s) = self.s.try_borrow_mut() {
            out.extend(s.entries().map(|(_, v)| v.clone()));
            s.clear();
        }
    }
}

impl Traced for Instance {
    const KIND: Kind = Kind::Instance;
    fn gc_slot(&self) -> &GcSlot {
        &self.gc
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        let Ok(cls) = self.class.try_borrow() else { return false };
        visit_class(&cls, visit);
        let Ok(attrs) = self.attrs().try_borrow() else { return false };
        attrs.values.iter().for_each(|v| visit_value(v, visit));
        if let crate::shape::AttrMap::Dict(d) = &attrs.map {
            if !visit_owned_dict(d, visit) {
                return false;
            }
        }
        match &self.payload {
            Payload::None => true,
            Payload::Builtin(v) => match v.try_borrow() {
                Ok(v) => {
                    visit_value(&v, visit);
                    true
                }
                Err(_) => false,
            },
            Payload::Exception(e) => {
                let (Ok(args), Ok(cause), Ok(context), Ok(group)) =
                    (e.args.try_borrow(), e.cause.try_borrow(), e.context.try_borrow(), e.group.try_borrow())
                else {
                    return false;
                };
                visit_value(&args, visit);
                visit_value(&cause, visit);
                visit_value(&context, visit);
                if let Some((msg, excs)) = &*group {
                    visit_value(msg, visit);
                    excs.iter().for_each(|v| visit_value(v, visit));
                }
                true
            }
        }
    }
    fn clear(&self, out: &mut Vec<Value>) {
        if let Ok(mut attrs) = self.attrs().try_borrow_mut() {
            let nslots = attrs.nslots as usize;
            // Slots become unset; shared-key values go (the instance then holds no names).
            out.extend(attrs.values.drain(nslots..));
            attrs.values.iter_mut().for_each(|v| out.push(std::mem::replace(v, Value::Undef)));
            if let crate::shape::AttrMap::Dict(d) = &attrs.map {
                clear_owned_dict(d, out);
            }
        }
        match &self.payload {
            Payload::None => {}
            Payload::Builtin(v) => {
                if let Ok(mut v) = v.try_borrow_mut() {
                    out.push(std::mem::take(&mut *v));
                }
            }
            Payload::Exception(e) => {
                for c in [&e.args, &e.cause, &e.context] {
                    if let Ok(mut v) = c.try_borrow_mut() {
                        out.push(std::mem::take(&mut *v));
                    }
                }
                if let Ok(mut g) = e.group.try_borrow_mut() {
                    if let Some((msg, excs)) = g.take() {
                        out.push(msg);
                        out.extend(excs);
                    }
                }
            }
        }
    }
}

impl Traced for Function {
    const KIND: Kind = Kind::Function;
    fn gc_slot(&self) -> &GcSlot {
        &self.gc
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        self.defaults.iter().for_each(|v| visit_value(v, visit));
        self.kwdefaults.iter().for_each(|(_, v)| visit_value(v, visit));
        self.closure.iter().for_each(|v| visit_value(v, visit));
        let Ok(d) = self.dict.try_borrow() else { return false };
        match &*d {
            Some(d) => visit_owned_dict(d, visit),
            None => true,
        }
    }
    // Defaults and closure cannot change; the cells and containers in them can.
    fn clear(&self, out: &mut Vec<Value>) {
        if let Ok(d) = self.dict.try_borrow() {
            if let Some(d) = &*d {
                clear_owned_dict(d, out);
            }
        }
    }
}

impl Traced for CellObj {
    const KIND: Kind = Kind::Cell;
    fn gc_slot(&self) -> &GcSlot {
        &self.gc
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        let Ok(v) = self.v.try_borrow() else { return false };
        visit_value(&v, visit);
        true
    }
    fn clear(&self, out: &mut Vec<Value>) {
        if let Ok(mut v) = self.v.try_borrow_mut() {
            out.push(std::mem::replace(&mut *v, Value::Undef));
        }
    }
}

impl Traced for BoundMethod {
    const KIND: Kind = Kind::BoundMethod;
    fn gc_slot(&self) -> &GcSlot {
        &self.gc
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        visit_value(&self.self_, visit);
        visit_value(&self.func, visit);
        true
    }
    fn clear(&self, _out: &mut Vec<Value>) {}
}

impl Traced for Generator {
    const KIND: Kind = Kind::Generator;
    fn gc_slot(&self) -> &GcSlot {
        &self.gc
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        let Ok(st) = self.state.try_borrow() else { return false };
        // A running generator's values are on the VM's stack (outside).
        st.stack.iter().for_each(|v| visit_value(v, visit));
        if let Some(e) = &st.exc {
            visit_value(&Value::Instance(e.clone()), visit);
        }
        true
    }
    // A generator with `finally` blocks to run was closed before (see
    // `finalize_garbage`); what is left here has none.
    fn clear(&self, out: &mut Vec<Value>) {
        if let Ok(mut st) = self.state.try_borrow_mut() {
            if st.status != GenStatus::Running {
                if st.status == GenStatus::Created && self.kind == GenKind::Coroutine {
                    // (Closed now, it does not warn again when dropped.)
                    if let Some(o) = self.origin() {
                        crate::diagnostic::warn_never_awaited(self.qualname().as_str(), Some(&o));
                    }
                }
                st.status = GenStatus::Closed;
                out.extend(st.stack.drain(..));
                out.push(st.take_exc());
            }
        }
    }
}

impl Traced for Class {
    const KIND: Kind = Kind::Class;
    fn gc_slot(&self) -> &GcSlot {
        &self.gc
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        let (Ok(bases), Ok(mro), Ok(meta)) = (self.bases.try_borrow(), self.mro.try_borrow(), self.metaclass.try_borrow()) else {
            return false;
        };
        bases.iter().for_each(|c| visit_class(c, visit));
        mro.iter().for_each(|c| visit_class(c, visit));
        if let Some(m) = &*meta {
            visit_class(m, visit);
        }
        // The remembered `__init__` is a reference of the class's own.
        if let Some(r) = self.init_cache.try_borrow().ok().and_then(|c| c.1.as_ref().and_then(gc_ref)) {
            visit(r);
        }
        if let Ok(c) = self.item_cache.try_borrow() {
            c.iter().filter_map(|(_, f)| f.as_ref().and_then(gc_ref)).for_each(&mut *visit);
        }
        visit_owned_dict(&self.dict, visit)
    }
    fn clear(&self, out: &mut Vec<Value>) {
        clear_owned_dict(&self.dict, out);
        for l in [&self.bases, &self.mro] {
            if let Ok(mut l) = l.try_borrow_mut() {
                out.extend(l.drain(..).map(Value::Class));
            }
        }
        if let Ok(mut m) = self.metaclass.try_borrow_mut() {
            out.extend(m.take().map(Value::Class));
        }
        if let Ok(mut c) = self.attr_cache.try_borrow_mut() {
            c.clear();
        }
        if let Ok(mut c) = self.init_cache.try_borrow_mut() {
            out.extend(c.1.take().map(Value::Function));
        }
        if let Ok(mut c) = self.item_cache.try_borrow_mut() {
            out.extend(c.iter_mut().filter_map(|(_, f)| f.take().map(Value::Function)));
        }
    }
}

/// The slot of a native object that has none: never tracked.
fn no_slot() -> &'static GcSlot {
    thread_local! {
        static NONE: &'static GcSlot = Box::leak(Box::default());
    }
    NONE.with(|s| *s)
}

/// Weak references are the native objects the registry holds: a
/// reference holds its callback (and a reference in a cycle is garbage
/// with it, as in CPython).
impl Traced for Box<dyn NativeObject> {
    const KIND: Kind = Kind::WeakRef;
    fn gc_slot(&self) -> &GcSlot {
        let inner: &dyn NativeObject = &**self;
        match NativeObject::gc_slot(inner) {
            Some(s) => s,
            None => no_slot(),
        }
    }
    fn traverse(&self, visit: &mut dyn FnMut(GcRef)) -> bool {
        let Some(w) = self.as_any().downcast_ref::<crate::weakref::WeakRef>() else { return true };
        let Ok(cb) = w.callback.try_borrow() else { return false };
        visit_value(&cb, visit);
        true
    }
    fn clear(&self, out: &mut Vec<Value>) {
        if let Some(w) = self.as_any().downcast_ref::<crate::weakref::WeakRef>() {
            w.cut();
            if let Ok(mut cb) = w.callback.try_borrow_mut() {
                out.push(std::mem::take(&mut *cb));
            }
        }
    }
}

// ------------------------------------------------------------ collecting

/// The weak reference a registry entry of kind `WeakRef` is.
fn weakref_at<'a>(r: GcRef) -> Option<&'a crate::weakref::WeakRef> {
    debug_assert!(r.kind == Kind::WeakRef);
    // SAFETY: a registered pointer of kind WeakRef points to a live native
    // object; the caller uses it while the registry still holds it.
    let o = unsafe { &*(r.ptr as *const Box<dyn NativeObject>) };
    o.as_any().downcast_ref()
}

/// Clear the weak references into the garbage, as CPython does before
/// any finalizer runs: those that are garbage themselves (their callbacks
/// never run), and those that point at a garbage object, whose callbacks
/// are queued to run before the finalizers; for each object, the newest
/// reference first.
fn handle_weakrefs(garbage: &[GcRef]) {
    let mut targets: hashbrown::HashMap<usize, usize> = hashbrown::HashMap::new();
    for (i, &r) in garbage.iter().enumerate() {
        match r.kind {
            Kind::WeakRef => {
                if let Some(w) = weakref_at(r) {
                    w.cut();
                }
            }
            Kind::Instance | Kind::Class | Kind::Function | Kind::BoundMethod | Kind::Generator | Kind::Set if weak_count(r) > 0 => {
                targets.insert(r.ptr as usize, i);
            }
            _ => {}
        }
    }
    if targets.is_empty() {
        return;
    }
    let refs: Vec<GcRef> = HEAP.with(|h| {
        let h = h.borrow();
        let weak = h.objs.kinds.iter().enumerate().filter(|&(_, &k)| k == Kind::WeakRef);
        weak.map(|(i, _)| h.objs.at(i)).collect()
    });
    let mut due = Vec::new();
    for r in refs {
        let Some(w) = weakref_at(r) else { continue };
        if w.is_cleared() {
            continue;
        }
        let Some(&at) = targets.get(&w.target_addr()) else { continue };
        if let Some(cb) = w.clear() {
            retain(r);
            // SAFETY: `retain` took the strong reference this `Rc` owns.
            let rc = unsafe { Rc::from_raw(r.ptr as *const Box<dyn NativeObject>) };
            due.push((at, std::cmp::Reverse(w.seq()), Value::Object(rc), cb));
        }
    }
    due.sort_by_key(|d| (d.0, d.1));
    crate::weakref::queue_cleared(due.into_iter().map(|(_, _, r, cb)| (r, cb)).collect());
}

/// Queue the finalizers of the garbage that has one not yet run (an
/// instance's `__del__`, the closing of a generator suspended in a `try`):
/// true when any was queued.
fn finalize_garbage(garbage: &[GcRef]) -> bool {
    let mut queued = false;
    for &r in garbage {
        match r.kind {
            Kind::Instance => {
                retain(r);
                // SAFETY: `retain` took the strong reference this `Rc` owns.
                let inst = unsafe { Rc::from_raw(r.ptr as *const Instance) };
                queued |= crate::generator::finalize_garbage_instance(&inst);
            }
            Kind::Generator => {
                retain(r);
                // SAFETY: as above.
                let g = unsafe { Rc::from_raw(r.ptr as *const Generator) };
                queued |= crate::generator::finalize_garbage_generator(&g);
            }
            _ => {}
        }
    }
    queued
}

/// How many objects CPython 3.11 would count for a garbage object: some
/// hold objects of their own there that are part of the object here.
fn weight(r: GcRef) -> usize {
    let untracked = |d: &Rc<PyDict>| !d.gc.is_tracked() as usize;
    let holds_tracked = |vs: &mut dyn Iterator<Item = &Value>| vs.filter(|v| value_ref(v).is_some()).take(1).count();
    match r.kind {
        // A function: its `__dict__` once attributes are set, the tuple of
        // its closure's cells, and its defaults when they hold containers.
        Kind::Function => {
            // SAFETY: a registered pointer of kind Function points to a live Function.
            let f = unsafe { &*(r.ptr as *const Function) };
            1 + f.dict.try_borrow().map_or(0, |d| d.as_ref().map_or(0, untracked))
                + !f.closure.is_empty() as usize
                + holds_tracked(&mut f.defaults.iter())
                + holds_tracked(&mut f.kwdefaults.iter().map(|(_, v)| v))
        }
        // An instance whose `__dict__` was made a dict object.
        Kind::Instance => {
            // SAFETY: as above, for Instance.
            let i = unsafe { &*(r.ptr as *const Instance) };
            1 + i.attrs().try_borrow().map_or(0, |a| match &a.map {
                crate::shape::AttrMap::Dict(d) if a.dict_made => untracked(d),
                _ => 0,
            })
        }
        // A class: its dict, `__mro__` and `__bases__` tuples, and the
        // descriptors it adds (`__dict__`, `__weakref__`, its own slots).
        Kind::Class => {
            // SAFETY: as above, for Class.
            let c = unsafe { &*(r.ptr as *const Class) };
            let Ok(bases) = c.bases.try_borrow() else { return 1 };
            let adds = |has: fn(&Class) -> bool| (has(c) && !bases.iter().any(|b| has(b))) as usize;
            let own_slots = match &c.slots {
                Some(l) if !bases.iter().any(|b| b.slots.as_ref().is_some_and(|s| Rc::ptr_eq(s, l))) => {
                    l.names.len() - l.parent.as_ref().map_or(0, |p| p.names.len())
                }
                _ => 0,
            };
            3 + untracked(&c.dict) + adds(|k| k.has_dict) + adds(|k| k.has_weakref) + own_slots
        }
        // A dict of numbers and strings is one CPython does not track.
        Kind::Dict => {
            // SAFETY: as above, for PyDict.
            let d = unsafe { &*(r.ptr as *const PyDict) };
            d.d.try_borrow().map_or(1, |d| d.iter().any(|e| value_ref(&e.key).is_some() || value_ref(&e.value).is_some()) as usize)
        }
        _ => 1,
    }
}

/// Collect the young generation, or everything when `full`, and give the
/// number of objects freed (as CPython counts them). Garbage with
/// finalizers not yet run is not freed: the finalizers are queued for the
/// VM's next safe point, where they see their objects whole (PEP 442), and
/// a collection of the same kind is due after them (`finalizing()` says
/// so), which frees what they left unreachable.
pub fn collect(full: bool) -> usize {
    let start = std::time::Instant::now();
    let Some(garbage) = HEAP.with(|h| {
        let mut h = h.borrow_mut();
        if h.collecting {
            return None;
        }
        h.pending = false;
        h.collecting = true;
        let from = if full { 0 } else { h.young };
        Some(find_garbage(&h.objs, from))
    }) else {
        return 0;
    };
    handle_weakrefs(&garbage);
    if finalize_garbage(&garbage) {
        HEAP.with(|h| {
            let mut h = h.borrow_mut();
            h.collecting = false;
            h.pending = h.enabled;
            h.after_finalizers = Some(full);
        });
        return 0;
    }
    let n = garbage.iter().map(|&r| weight(r)).sum();
    // Keep every garbage object alive while their contents go, so that no
    // object is freed while another still points to it.
    garbage.iter().for_each(|&r| retain(r));
    let mut out = Vec::new();
    for &r in &garbage {
        with_obj!(r, o => o.clear(&mut out));
    }
    drop(out);
    garbage.iter().for_each(|&r| release(r));
    HEAP.with(|h| {
        let mut h = h.borrow_mut();
        let survivors = h.objs.len() - h.young.min(h.objs.len());
        if full {
            h.young_collections = 0;
            h.promoted = 0;
            h.long_lived = h.objs.len();
        } else {
            h.young_collections += 1;
            h.promoted += survivors;
        }
        h.young = h.objs.len();
        h.collecting = false;
        h.stats.collections += 1;
        h.stats.collected += n as u64;
        let pause = start.elapsed().as_secs_f64();
        if pause > h.stats.worst_pause {
            h.stats.worst_pause = pause;
        }
    });
    n
}

/// The automatic collection the VM runs when `pending()`: young, or full
/// when enough young ones have run and the old generation has grown.
pub fn collect_due() -> usize {
    let full = HEAP.with(|h| {
        let mut h = h.borrow_mut();
        // After finalizers, the collection that found their objects again.
        h.after_finalizers.take().unwrap_or(false) || (h.young_collections + 1 >= h.threshold[1].max(1) && h.promoted > h.long_lived / 4)
    });
    collect(full)
}

/// `gc.collect()`: a collection; when it found garbage with finalizers,
/// they run at once and a second collection frees what they left
/// unreachable, so the count is CPython's (which does both in one).
pub fn collect_now(vm: &mut crate::vm::Vm, full: bool) -> usize {
    let n = collect(full);
    // Weak references freed once their callbacks ran count too, as in CPython.
    let n = n + crate::weakref::run_cleared(vm);
    if HEAP.with(|h| h.borrow_mut().after_finalizers.take()).is_none() {
        return n;
    }
    crate::generator::run_finalizers(vm);
    n + collect(full)
}

/// Trial deletion over the registry entries from index `from`: the ones
/// that only the others hold.
fn find_garbage(reg: &Registry, from: usize) -> Vec<GcRef> {
    let (ptrs, kinds) = (&reg.ptrs[from..], &reg.kinds[from..]);
    let n = ptrs.len();
    // Equal lengths, said once, spare a bounds check at every access below.
    assert_eq!(kinds.len(), n);
    let obj = |i: usize| GcRef { ptr: ptrs[i], kind: kinds[i] };
    let index = |r: GcRef| -> Option<usize> {
        let i = with_obj!(r, o => o.gc_slot().0.get()) as usize;
        i.checked_sub(from).filter(|&i| i < n)
    };
    // Outside references: the strong count less the references from the others.
    let mut refs: Vec<isize> = (0..n).map(|i| strong_count(obj(i)) as isize).collect();
    let readable: Vec<bool> = (0..n)
        .map(|i| {
            with_obj!(obj(i), o => o.traverse(&mut |c| {
                if let Some(j) = index(c) {
                    refs[j] -= 1;
                }
            }))
        })
        .collect();
    // Everything reachable from an object with outside references (or one
    // that could not be read) stays.
    let mut reachable = vec![false; n];
    let mut work: Vec<usize> = (0..n).filter(|&i| refs[i] > 0 || !readable[i]).collect();
    for &i in &work {
        reachable[i] = true;
    }
    while let Some(i) = work.pop() {
        with_obj!(obj(i), o => o.traverse(&mut |c| {
            if let Some(j) = index(c) {
                if !reachable[j] {
                    reachable[j] = true;
                    work.push(j);
                }
            }
        }));
    }
    (0..n).filter(|&i| !reachable[i]).map(obj).collect()
}

// ------------------------------------------------------------ the gc module's state

/// `gc.enable()` / `gc.disable()`.
pub fn set_enabled(on: bool) {
    HEAP.with(|h| {
        let mut h = h.borrow_mut();
        h.enabled = on;
        if on {
            h.check_pending();
        } else {
            h.pending = false;
        }
    });
}

/// `gc.isenabled()`.
pub fn is_enabled() -> bool {
    HEAP.with(|h| h.borrow().enabled)
}

/// `gc.get_threshold()`.
pub fn threshold() -> [u32; 3] {
    HEAP.with(|h| h.borrow().threshold)
}

/// `gc.set_threshold(...)`.
pub fn set_threshold(t: [u32; 3]) {
    HEAP.with(|h| {
        let mut h = h.borrow_mut();
        h.threshold = t;
        h.check_pending();
    });
}

/// `gc.get_count()`: young objects, young collections since the last full one, 0.
pub fn count() -> [usize; 3] {
    HEAP.with(|h| {
        let h = h.borrow();
        [h.objs.len() - h.young.min(h.objs.len()), h.young_collections as usize, 0]
    })
}

/// How many objects are tracked now.
pub fn tracked() -> usize {
    HEAP.with(|h| h.borrow().objs.len())
}

/// What the collector has done so far.
pub fn stats() -> Stats {
    HEAP.with(|h| h.borrow().stats)
}
