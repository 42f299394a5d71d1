//! Quickening: instructions that rewrite themselves in place while frames
//! run them, after CPython 3.11's specialising adaptive interpreter (PEP 659).
//!
//! DESIGN
//!
//! The compiler emits generic instructions. Some of them are adaptive: the
//! first time one runs, it looks at its operands and rewrites itself (in
//! `Code::ops`, for every frame running that code) into a form specialised
//! for what it saw; the dispatch loop then runs the instruction again in its
//! new form. A specialised form does its one case with a guard on the
//! operands' types; when the guard fails it de-optimises: it rewrites itself
//! into the generic form, which runs the instruction this time and counts
//! down a wait before it tries to specialise again. A wait that ends with
//! operands no form fits doubles (up to `MAX_BACKOFF`), so an instruction
//! that keeps meeting mixed operands stays generic and pays little.
//!
//! | compiled      | specialised (guard)                                   | generic (fallback)  |
//! |---------------|-------------------------------------------------------|---------------------|
//! | `Binary(b)`   | `BinaryAddInt`, `BinarySubInt` (two ints, no overflow) | `BinaryGeneric`    |
//! |               | `BinaryAddFloat`, `BinarySubFloat`, `BinaryMulFloat`   |                     |
//! |               | (two floats, or a float and an int)                    |                     |
//! |               | `BinaryNum` (two numbers `binary_fast` computes)       |                     |
//! |               | `BinaryAddStr` (two strs)                              |                     |
//! |               | `BinaryNative` (a native object on the left whose      |                     |
//! |               | type has operators: its hook, no method looked up)     |                     |
//! | `Compare(c)`  | `CompareInt` (two ints), `CompareFloat` (two floats), | `CompareGeneric`    |
//! |               | `CompareStr` (two strs), `CompareNative` (as           |                     |
//! |               | `BinaryNative`)                                        |                     |
//! | `ForIter(t)`  | `ForIterRange`, `ForIterList`, `ForIterTuple` (an      | `ForIterGeneric`    |
//! |               | iterator of that kind), `ForIterPairs` (before an      |                     |
//! |               | `UnpackSequence(2)`: a dict's items, an enumerate, a   |                     |
//! |               | zip, whose pairs go on the stack with no tuple)        |                     |
//! | `Call(n)`     | `CallLen` (`len(x)`), `CallIsinstance`                 | `CallGeneric`       |
//! |               | (`isinstance(x, spec)`): the builtin itself            |                     |
//! | `CallMethod(n)` | `CallMethodListAppend` (`list.append` on a list)     | `CallMethodGeneric` |
//!
//! A call quickens only when its callee is a native function (a call of a
//! plain function or a class keeps its arm as it is, which matches the
//! callee once: a form for it would add a guard and save nothing). A
//! builtin is known by its fast entry (`is_native`), not by the object:
//! `len` shadowed by a global, rebound in `builtins`, or replaced by a
//! function of the program fails the guard, while the same native reached
//! another way (`b = len`) keeps it. `CallLen` counts a list, tuple, str or
//! dict inline and calls the builtin for the rest (`__len__`); with
//! `isinstance`, what `types::object::isinstance_quick` answers (a class
//! with no metaclass, or a tuple of them, and no `__class__` of the
//! program's in the way) goes to a conditional jump after it without a
//! bool, the rest calls the builtin; `CallMethodListAppend` pushes in place
//! and, before a `Pop`, leaves nothing to pop. A call with keywords never
//! quickens (its `KwNames` makes every run of it take the general path).
//!
//! The attribute instructions specialise differently, since their generic
//! form already has a polymorphic inline cache (`bytecode::AttrCache`, up to
//! four classes per instruction, answered in the dispatch loop). A generic
//! `LoadAttr`, `LoadAttrKeep`, `StoreAttr`, `StoreAttrKept` or `LoadMethod`
//! specialises on its general path (a miss of those ways, the first run
//! among them), after it filled its way and ran: into a form for the
//! classes it met, which `Code::attr_specs[cache]` describes in plain
//! `Cell`s (no `RefCell` to borrow): per class (up to `SPEC_ENTRIES`) its
//! version tag, the address of its shared keys and the value's index
//! among the instance's values, as CPython 3.11's LOAD_ATTR_INSTANCE_VALUE
//! keeps the type version and the index. Several
//! classes, not one: richards reads `self.packet_pending` on instances of
//! four subclasses, each with its own keys. The `LoadFast...` fused with
//! the instruction (`LoadFastAttr`, ...) specialises with it, sharing the entries.
//!
//! | compiled        | specialised (guard: the class's version tag, then)              |
//! |-----------------|-----------------------------------------------------------------|
//! | `LoadAttr`,     | `LoadAttrInstance`, `LoadAttrKeepInstance`,                     |
//! | `LoadAttrKeep`, | `LoadFastAttrInstance`: the instance's values follow the keys   |
//! | `LoadFastAttr`  | (or it is a `__slots__` value) and the value is set; no class   |
//! |                 | attribute by the name (a property, a plain default) at all      |
//! |                 | `LoadAttrModule`: the same module, its global bound             |
//! | `StoreAttr`,    | `StoreAttrInstance`, `StoreAttrKeptInstance`,                   |
//! | `StoreAttrKept`,| `LoadFastStoreAttrInstance`: as the load, for a class that      |
//! | `LoadFast...`   | stores plainly (no `__setattr__` or data descriptor); also the  |
//! |                 | next value of the keys (`__init__` setting its attributes)      |
//! | `LoadMethod`,   | `LoadMethodInstance`, `LoadFastMethodInstance`: the instance    |
//! | `LoadFastMethod`| follows the keys, which still have the length they had when the |
//! |                 | method's name was none of them (no instance attribute hides it) |
//! |                 | `LoadMethodModule`: as `LoadAttrModule`                         |
//! | `LoadAttr` of a | `LoadAttrClass` (`Strength.REQUIRED`): a plain value of a user  |
//! | class object    | class with no metaclass, read in the namespace of the class on  |
//! |                 | the MRO that holds it, while no `__get__` came to its class     |
//! | `LoadMethod` of | `LoadMethodClass` (`Strength.stronger(a, b)`): a static         |
//! | a class object  | method's function, pushed as `load_method` gives it             |
//!
//! The guard reads the instance's class and compares its version tag
//! (`Class::version`) with the entries': a tag is never another class's,
//! and a class loses its tag when its namespace changes, or that of a
//! class on its MRO (`Class::modified`, which takes its subclasses' too;
//! the next specialisation gives a new one), so one compare proves the
//! class and that what the entry saw of it holds.
//! Replacing a class's plain data by plain data (`Cls.count += 1`, see
//! `dict::never_descriptor`) keeps the tag: no instance attribute resolves
//! differently. Then the instance: its values follow the keys (shared-key
//! values are never unset: a deletion gives the instance a dict of its
//! own), or the slot is set.
//!
//! A failing guard (a class it has no entry for, a class changed since, an
//! instance with a dict of its own or whose `__class__` was assigned, an
//! unset slot) rewrites the form back into the generic instruction, which
//! runs it. A new class takes the generic instruction's general path (its
//! ways miss too), which specialises again at once, in an empty entry or
//! the class's own (a program that sets `Point.ZERO` after making its
//! first point keeps its forms), or in turn over another's; after
//! `STALE_AT_ONCE` entries given to another class or version, the generic
//! instruction waits, counting down on its general path only, so a site
//! that meets more classes than there are entries, or a class changed on
//! every run, settles in its ways.
//!
//! Not quickened: `LoadGlobal`, whose arm already reads the module's slot
//! and then the builtin cache (checked by the builtins' epoch), so that a
//! builtin form would save only the probe of the module's slot; and
//! `UnpackSequence`, whose arm takes a tuple or a list of the right length
//! inline.
//!
//! Each specialised form keeps the generic operand (the operator, with its
//! in-place flag; a comparison's as a mask of the orderings it accepts, see
//! `bytecode::cmp_mask`), so that de-optimising loses nothing. A guard only
//! chooses between the specialised computation and the generic one, both
//! computing the same value: no form raises, or returns, differently from
//! the generic instruction (a division by zero or an overflow fails the
//! guard, and the generic instruction raises or makes the big int).
//!
//! Why the rewrite is sound: `Code::ops` is an `Ops`, a slice of `Cell<Op>`,
//! so writing an instruction through a shared `Code` is interior mutation
//! (no `&Op` into it outlives a read). A code object shared by several
//! frames (recursion, generators, coroutines, threads of the event loop all
//! run on the one thread of a `Vm`) sees one rewrite for all: every form of
//! an instruction is valid in any frame, since each checks its own guard.
//! A rewrite keeps the instruction's stack effect, its jump target and
//! whether it may raise, so `bytecode::check_stack` and the exception
//! table stay true of the rewritten code. Readers other than the dispatch
//! loop (the disassembler, tracebacks, the sync module) read instructions
//! through `Ops::get`, which gives the generic form of a specialised one.
//! The loop rewrites only the instruction it is running, between reading it
//! and the next read; a generic form counts its wait down in place through
//! a `&mut Op` made for that one decrement, while the loop holds no other
//! reference into the instructions (it works on a copy of the one running).

use std::cell::Cell;

use crate::bytecode::{cmp_mask, AttrSpec, Op, SpecEntry, INPLACE, SPEC_CLASS, SPEC_INSTANCE, SPEC_MODULE};
use crate::iter::{DictIterKind, IterState};
use crate::ops::{ADD, DIV, MUL, POW, SUB};
use crate::value::Value;

use super::*;

/// The first wait of a generic instruction, as a power of two.
const FIRST_BACKOFF: u8 = 4;
/// The longest wait, as a power of two.
const MAX_BACKOFF: u8 = 12;

/// The wait, as a power of two, after one of `backoff` ended in another
/// miss: twice as long, up to `2^MAX_BACKOFF`.
fn longer(backoff: u8) -> u8 {
    backoff.saturating_add(1).min(MAX_BACKOFF)
}

/// Replace the instruction at `at`.
///
/// # Safety
/// `at` points into the `ops` of a live code object (`Ops::as_ptr`).
#[inline(always)]
pub(super) unsafe fn rewrite(at: *const Op, op: Op) {
    // `Ops` is a slice of `Cell<Op>`, which has `Op`'s layout.
    (*(at as *const Cell<Op>)).set(op);
}

/// The generic form of `Binary(b)` that waits `2^backoff` runs.
fn binary_generic(b: u8, backoff: u8) -> Op {
    Op::BinaryGeneric { op: b, backoff, wait: 1 << backoff }
}

/// The generic form of `Compare(c)` that waits `2^backoff` runs.
fn compare_generic(c: u8, backoff: u8) -> Op {
    Op::CompareGeneric { cmp: c, backoff, wait: 1 << backoff }
}

/// Both operands of a float form: two floats, or a float and an int.
#[inline(always)]
pub(super) fn float_operands(lhs: &Value, rhs: &Value) -> Option<(f64, f64)> {
    match (lhs, rhs) {
        (Value::Float(x), Value::Float(y)) => Some((x.get(), y.get())),
        // An int operand converts to the nearest float, as `float(int)` does.
        (Value::Float(x), Value::Int(y)) => Some((x.get(), *y as f64)),
        (Value::Int(x), Value::Float(y)) => Some((*x as f64, y.get())),
        _ => None,
    }
}

/// Rewrite the `Binary(b)` (or the generic form at the end of its wait,
/// which last waited `2^backoff`) at `at` into the form its operands call for.
///
/// # Safety
/// As `rewrite`.
#[inline(never)]
pub(super) unsafe fn specialise_binary(at: *const Op, b: u8, backoff: u8, lhs: &Value, rhs: &Value) {
    let base = b & !INPLACE;
    let form = match (lhs, rhs) {
        (Value::Int(_), Value::Int(_)) => match base {
            ADD => Some(Op::BinaryAddInt(b)),
            SUB => Some(Op::BinarySubInt(b)),
            _ => super::dispatch::binary_fast(b, lhs, rhs).map(|_| Op::BinaryNum(b)),
        },
        (Value::Str(_), Value::Str(_)) if base == ADD => Some(Op::BinaryAddStr(b)),
        (Value::Object(o), _) if o.has_operators() => Some(Op::BinaryNative(b)),
        _ if float_operands(lhs, rhs).is_some() => match base {
            ADD => Some(Op::BinaryAddFloat(b)),
            SUB => Some(Op::BinarySubFloat(b)),
            MUL => Some(Op::BinaryMulFloat(b)),
            DIV | POW => super::dispatch::binary_fast(b, lhs, rhs).map(|_| Op::BinaryNum(b)),
            _ => None,
        },
        _ => None,
    };
    rewrite(at, form.unwrap_or_else(|| binary_generic(b, longer(backoff))));
}

/// A specialised binary instruction at `at` met operands its guard refuses:
/// back to the generic form.
///
/// # Safety
/// As `rewrite`.
#[cold]
#[inline(never)]
pub(super) unsafe fn deopt_binary(at: *const Op, b: u8) {
    rewrite(at, binary_generic(b, FIRST_BACKOFF));
}

/// `specialise_binary` for `Compare(c)`.
///
/// # Safety
/// As `rewrite`.
#[inline(never)]
pub(super) unsafe fn specialise_compare(at: *const Op, c: u8, backoff: u8, lhs: &Value, rhs: &Value) {
    let form = match (lhs, rhs) {
        (Value::Int(_), Value::Int(_)) => Op::CompareInt(cmp_mask(c)),
        (Value::Float(_), Value::Float(_)) => Op::CompareFloat(cmp_mask(c)),
        (Value::Str(_), Value::Str(_)) => Op::CompareStr(cmp_mask(c)),
        (Value::Object(o), _) if o.has_operators() => Op::CompareNative(c),
        _ => compare_generic(c, longer(backoff)),
    };
    rewrite(at, form);
}

/// `deopt_binary` for a comparison, given its mask.
///
/// # Safety
/// As `rewrite`.
#[cold]
#[inline(never)]
pub(super) unsafe fn deopt_compare(at: *const Op, mask: u8) {
    rewrite(at, compare_generic(crate::bytecode::mask_cmp(mask), FIRST_BACKOFF));
}

/// The generic form of `ForIter(t)` that waits `2^backoff` runs.
fn for_iter_generic(t: u32, backoff: u8) -> Op {
    Op::ForIterGeneric { target: t, backoff, wait: 1 << backoff }
}

/// `specialise_binary` for `ForIter(t)`, given its iterator.
///
/// # Safety
/// As `rewrite`, and an instruction follows the one at `at` (a `ForIter`
/// starts its loop's body).
#[inline(never)]
pub(super) unsafe fn specialise_for_iter(at: *const Op, t: u32, backoff: u8, it: &Value) {
    let pairs = matches!(*at.add(1), Op::UnpackSequence(2));
    let form = match it {
        Value::Iter(i) => match &*i.state.borrow() {
            IterState::Dict { kind: DictIterKind::Items, .. } | IterState::Enumerate { .. } | IterState::Zip { .. } if pairs => {
                Some(Op::ForIterPairs(t))
            }
            IterState::Range { .. } => Some(Op::ForIterRange(t)),
            IterState::List { .. } => Some(Op::ForIterList(t)),
            IterState::Tuple { .. } => Some(Op::ForIterTuple(t)),
            _ => None,
        },
        _ => None,
    };
    rewrite(at, form.unwrap_or_else(|| for_iter_generic(t, longer(backoff))));
}

/// `deopt_binary` for `ForIter(t)`.
///
/// # Safety
/// As `rewrite`.
#[cold]
#[inline(never)]
pub(super) unsafe fn deopt_for_iter(at: *const Op, t: u32) {
    rewrite(at, for_iter_generic(t, FIRST_BACKOFF));
}

// ------------------------------------------------------------ attributes

/// The entry of `s` for the class of instance `obj`, with the instance,
/// when `s` holds one made for the class's current version tag.
///
/// # Safety
/// The class is read with no borrow counted: only `__class__` assignment
/// writes it, under a borrow that runs no program code.
#[inline(always)]
unsafe fn spec_instance<'a>(s: &'a AttrSpec, obj: &'a Value) -> Option<(&'a SpecEntry, &'a crate::object::Instance)> {
    let Value::Instance(inst) = obj else { return None };
    // One compare for the class and its state: a version tag is no other
    // class's, and a changed class has none until it gets a new one.
    let version = (&*inst.class.as_ptr()).version.get();
    // The first entry here: most sites see one class.
    let e = match s.entries.get_unchecked(0) {
        e if e.version.get() == version => e,
        _ => other_entry(s, version)?,
    };
    Some((e, inst))
}

/// The entry of `s` after the first for the class version `version`.
#[inline(never)]
fn other_entry(s: &AttrSpec, version: u64) -> Option<&SpecEntry> {
    s.entries[1..].iter().find(|e| e.version.get() == version)
}

/// The attributes of `inst`, read with no borrow counted.
///
/// # Safety
/// The reference lives only while one instruction reads (or, `mut`,
/// stores) one value: the attributes are borrowed elsewhere only by native
/// code that runs no program code meanwhile, and dropping a value runs
/// none either (`__del__` waits, see `generator::defer_del`).
#[inline(always)]
unsafe fn attrs_of(inst: &crate::object::Instance) -> *mut crate::shape::Attrs {
    inst.attrs().as_ptr()
}

/// `obj.name` through the specialised form of attribute cache `cache`: the
/// instance's own value; `None` for the generic form.
///
/// # Safety
/// `cache` indexes `code.attr_specs`; as `spec_instance` and `attrs_of`.
#[inline(always)]
pub(super) unsafe fn instance_value<'a>(code: &'a Code, cache: u16, obj: &'a Value) -> Option<&'a Value> {
    let (e, inst) = spec_instance(code.attr_specs.get_unchecked(cache as usize), obj)?;
    (*attrs_of(inst)).value_at(e.keys.get(), e.index.get() as usize)
}

/// `obj.name = v` through the specialised form of attribute cache
/// `cache`: true when stored, with `v` moved out of its slot (which the
/// caller then drops from the stack without dropping it); false, touching
/// nothing, for the generic form.
///
/// # Safety
/// As `instance_value`; `v` points at a live value on the operand stack.
#[inline(always)]
pub(super) unsafe fn store_instance_value(code: &Code, cache: u16, obj: &Value, v: *const Value) -> bool {
    let Some((e, inst)) = spec_instance(code.attr_specs.get_unchecked(cache as usize), obj) else { return false };
    (*attrs_of(inst)).store_at(e.keys.get(), e.index.get() as usize, || Value::read_words(v))
}

/// The method `obj.name(...)` calls through the specialised form of
/// attribute cache `cache`, no attribute of the instance hiding it; `None`
/// for the generic form.
///
/// # Safety
/// As `instance_value`.
#[inline(always)]
pub(super) unsafe fn instance_method<'a>(code: &'a Code, cache: u16, obj: &'a Value) -> Option<&'a Value> {
    let (e, inst) = spec_instance(code.attr_specs.get_unchecked(cache as usize), obj)?;
    // The function is written only by the specialiser, never while read.
    (*attrs_of(inst)).hides_none(e.keys.get(), e.index.get()).then(|| &*e.value.as_ptr())
}

/// The entry of `s` for class object `obj` (`Cls.name`), when `s` holds
/// one made for the class's current version tag.
#[inline(always)]
fn spec_class<'a>(s: &'a AttrSpec, obj: &Value) -> Option<&'a SpecEntry> {
    let Value::Class(cls) = obj else { return None };
    let version = cls.version.get();
    match &s.entries[0] {
        e if e.version.get() == version => Some(e),
        _ => other_entry(s, version),
    }
}

/// `Cls.name` through the specialised form of attribute cache `cache`: the
/// value in the namespace that holds it (read there: plain data replaced
/// by plain data keeps the version tag), while it is still no descriptor;
/// `None` for the generic form.
///
/// # Safety
/// `cache` indexes `code.attr_specs`. The namespace is read with no borrow
/// counted: a class's is borrowed mutably only by dict operations, which
/// run no program code on str keys; its entries move only when a key comes
/// or goes, which takes the class's (and its subclasses') version tag.
#[inline(always)]
pub(super) unsafe fn class_value<'a>(code: &'a Code, cache: u16, obj: &'a Value) -> Option<&'a Value> {
    let e = spec_class(code.attr_specs.get_unchecked(cache as usize), obj)?;
    let ns = &*(e.keys.get() as *const crate::dict::DictData);
    let v = &ns.entry(e.index.get() as usize).value;
    match v {
        // An instance whose class gained `__get__` since (the flag stays).
        Value::Instance(i) if (&*i.class.as_ptr()).flags.get() & crate::object::CLASS_HAS_GET != 0 => None,
        _ => Some(v),
    }
}

/// The function `Cls.name(...)` calls through the specialised form of
/// attribute cache `cache`: a static method's; `None` for the generic form.
///
/// # Safety
/// `cache` indexes `code.attr_specs`.
#[inline(always)]
pub(super) unsafe fn class_function<'a>(code: &'a Code, cache: u16, obj: &'a Value) -> Option<&'a Value> {
    let e = spec_class(code.attr_specs.get_unchecked(cache as usize), obj)?;
    // The function is written only by the specialiser, never while read.
    Some(&*e.value.as_ptr())
}

/// `module.name` through the specialised form of attribute cache `cache`:
/// the value of the module's global while bound; `None` for the generic form.
///
/// # Safety
/// `cache` indexes `code.attr_specs`.
#[inline(always)]
pub(super) unsafe fn module_value(code: &Code, cache: u16, obj: &Value) -> Option<Value> {
    let Value::Module(m) = obj else { return None };
    let e = code.attr_specs.get_unchecked(cache as usize).entries.get_unchecked(0);
    if Rc::as_ptr(m) as usize != e.class.get() {
        return None;
    }
    // A global keeps its slot for the module's life.
    let g = m.globals.try_borrow_unguarded().ok()?;
    g.get(e.index.get() as usize).filter(|v| !v.is_undef()).cloned()
}

/// A specialised attribute instruction at `at` met an object its guard
/// refuses: back to the generic form, which runs the instruction. A class
/// it has no entry for (or one changed since) misses the generic form's
/// ways too: on that general path it specialises again at once, in an
/// entry of its own (see `free_entry`). (A wait only counts down on the
/// general path: once the ways answer, the instruction stays generic.)
///
/// # Safety
/// As `rewrite`.
#[cold]
#[inline(never)]
pub(super) unsafe fn deopt_attr(at: *const Op) {
    rewrite(at, (*at).generic());
}

/// How many entries an attribute instruction gives to another class, or
/// to its class changed since, before it waits (`free_entry`).
const STALE_AT_ONCE: u8 = 64;

/// Make the generic form of `s`'s instruction wait before it specialises
/// again, twice as long as last time.
fn wait_longer(s: &AttrSpec) {
    let b = s.backoff.get().max(FIRST_BACKOFF);
    s.wait.set(1 << b);
    s.backoff.set(longer(b));
}

/// After the general path of the generic attribute instruction `op` at
/// index `at` of `code` ran for `obj` (and filled its cache): rewrite it
/// (and the `LoadFast...` fused with it) into the form that serves `obj`'s
/// class too, when its wait is over and one does.
pub(super) fn specialise_attr(code: &Code, at: usize, op: Op, cache: u16, obj: &Value, name: &PyStr) {
    let Some(s) = code.attr_specs.get(cache as usize) else { return };
    if s.wait.get() > 0 {
        s.wait.set(s.wait.get() - 1);
        return;
    }
    // Only the instruction as it stands (not one run for another).
    if at >= code.ops.len() || unsafe { *code.ops.as_ptr().add(at) } != op {
        return;
    }
    let form = match obj {
        Value::Instance(inst) => instance_form(code, cache, op, inst, name),
        Value::Module(m) => module_form(code, cache, op, m),
        Value::Class(c) => class_form(code, cache, op, c, name),
        _ => None,
    };
    let Some(form) = form else { return wait_longer(s) };
    let ops = code.ops.as_ptr();
    // SAFETY: `at` and `at - 1` index `code.ops`.
    unsafe {
        rewrite(ops.add(at), form);
        if at > 0 {
            let fused = match (*ops.add(at - 1), form) {
                (Op::LoadFastAttr { slot, name, cache: c }, Op::LoadAttrInstance { .. }) if c == cache => {
                    Some(Op::LoadFastAttrInstance { slot, name, cache })
                }
                (Op::LoadFastStoreAttr { slot, name, cache: c }, Op::StoreAttrInstance { .. }) if c == cache => {
                    Some(Op::LoadFastStoreAttrInstance { slot, name, cache })
                }
                (Op::LoadFastMethod { slot, name, cache: c }, Op::LoadMethodInstance { .. }) if c == cache => {
                    Some(Op::LoadFastMethodInstance { slot, name, cache })
                }
                _ => None,
            };
            if let Some(f) = fused {
                rewrite(ops.add(at - 1), f);
            }
        }
    }
}

/// Empty the entries of `s` for forms of kind `kind` (`SPEC_MODULE` or not).
fn clear_entries(s: &AttrSpec, kind: u8) {
    for e in &s.entries {
        e.version.set(0);
        e.class.set(0);
        e.value.set(Value::None);
    }
    s.kind.set(kind);
}

/// The entry of `s` to fill for the class at address `cls`, now of
/// version `version`, for forms of kind `kind` (the entries of another
/// kind are emptied first): the class's own (made before the class changed),
/// else an empty one, else the next in turn. Giving an entry to another
/// class or version counts, and after `STALE_AT_ONCE` of those there is
/// none: a site meeting more classes than there are entries, or a class
/// changed on every run (`Cls.handler = f` in a loop), settles in its ways.
fn free_entry(s: &AttrSpec, kind: u8, cls: usize, version: u64) -> Option<&SpecEntry> {
    if s.kind.get() != kind {
        clear_entries(s, kind);
    }
    let e = match s.entries.iter().find(|e| e.class.get() == cls) {
        Some(e) if e.version.get() == version => return Some(e),
        Some(e) => e,
        None => match s.entries.iter().find(|e| e.class.get() == 0) {
            Some(e) => return Some(e),
            None => &s.entries[s.stale.get() as usize % s.entries.len()],
        },
    };
    let n = s.stale.get().saturating_add(1);
    s.stale.set(n);
    (n <= STALE_AT_ONCE).then_some(e)
}

/// The specialised form of `op` for instances of `inst`'s class, with an
/// entry for the class in its spec: a value of the instance's own (by its
/// shared keys or a slot), a store into one, or a method no attribute of
/// the instance hides.
fn instance_form(code: &Code, cache: u16, op: Op, inst: &crate::object::Instance, name: &PyStr) -> Option<Op> {
    use crate::bytecode::CachedAttr;
    if inst.exc().is_some() {
        return None;
    }
    let caches = code.attr_caches.get(cache as usize)?.borrow();
    let w = caches.way_for(inst)?;
    let cls = inst.class();
    let attrs = inst.attrs().borrow();
    // The name's index among the values, by the class's shared keys.
    let shared = || {
        let k = cls.keys.as_ref()?;
        let keys = Rc::as_ptr(k) as usize;
        let i = k.index_of(name)?;
        attrs.follows(keys).then_some((keys, attrs.nslots + i as u32))
    };
    let mut method = None;
    let (form, (keys, index)) = match (op, &w.found) {
        (Op::LoadAttr { name, cache }, CachedAttr::Slot(i)) => (Op::LoadAttrInstance { name, cache }, (0, *i)),
        (Op::LoadAttr { name, cache }, CachedAttr::Absent) => (Op::LoadAttrInstance { name, cache }, shared()?),
        (Op::LoadAttrKeep { name, cache }, CachedAttr::Slot(i)) => (Op::LoadAttrKeepInstance { name, cache }, (0, *i)),
        (Op::LoadAttrKeep { name, cache }, CachedAttr::Absent) => (Op::LoadAttrKeepInstance { name, cache }, shared()?),
        (Op::StoreAttr { .. } | Op::StoreAttrKept { .. }, _) if !w.plain_store => return None,
        // A class value that could become a data descriptor (an instance
        // whose class gains `__set__`) without a change of this class.
        (Op::StoreAttr { .. } | Op::StoreAttrKept { .. }, CachedAttr::Plain(v)) if !crate::dict::never_descriptor(v) => return None,
        (Op::StoreAttr { name, cache }, CachedAttr::Slot(i)) => (Op::StoreAttrInstance { name, cache }, (0, *i)),
        (Op::StoreAttr { name, cache }, CachedAttr::Absent | CachedAttr::Plain(_)) => (Op::StoreAttrInstance { name, cache }, shared()?),
        (Op::StoreAttrKept { name, cache }, CachedAttr::Slot(i)) => (Op::StoreAttrKeptInstance { name, cache }, (0, *i)),
        (Op::StoreAttrKept { name, cache }, CachedAttr::Absent | CachedAttr::Plain(_)) => {
            (Op::StoreAttrKeptInstance { name, cache }, shared()?)
        }
        (Op::LoadMethod { name: n, cache }, CachedAttr::Method(m)) => {
            // The keys, and how many there are while the name is none of them.
            let (keys, len) = match &cls.keys {
                Some(k) if k.index_of(name).is_none() => (Rc::as_ptr(k) as usize, k.len() as u32),
                Some(_) => return None,
                None => (0, 0),
            };
            if !attrs.hides_none(keys, len) {
                return None;
            }
            method = Some(m.clone());
            (Op::LoadMethodInstance { name: n, cache }, (keys, len))
        }
        _ => return None,
    };
    let (addr, version) = (Rc::as_ptr(&cls) as usize, cls.version_tag());
    let e = free_entry(&code.attr_specs[cache as usize], SPEC_INSTANCE, addr, version)?;
    e.version.set(version);
    e.class.set(addr);
    e.keys.set(keys);
    e.index.set(index);
    e.value.set(method.unwrap_or(Value::None));
    Some(form)
}

/// The specialised form of `op` for class object `cls` (`Cls.name`), with
/// an entry for the class in its spec: a plain value (as
/// `attr::fill_class_way` finds one: a user class whose metaclass is
/// `type`, a name no dunder) or a static method's function.
fn class_form(code: &Code, cache: u16, op: Op, cls: &Rc<crate::object::Class>, name: &PyStr) -> Option<Op> {
    if cls.builtin.is_some() || cls.metaclass.borrow().is_some() || name.as_str().starts_with("__") {
        return None;
    }
    let (form, keys, index, value) = match op {
        Op::LoadAttr { name: n, cache } => {
            // The class on the MRO whose namespace holds the name, and where.
            let (holder, at) = cls.mro_iter().into_iter().find_map(|c| {
                let at = c.dict.d.borrow().find_pystr_sure(name)??;
                Some((c, at))
            })?;
            let ns = holder.dict.d.borrow();
            let v = &ns.entry(at).value;
            let plain = match v {
                Value::Instance(i) => {
                    matches!(i.payload, crate::object::Payload::None) && i.class.borrow().flags.get() & crate::object::CLASS_HAS_GET == 0
                }
                _ => crate::attr::plain_class_attr(v),
            };
            if !plain {
                return None;
            }
            let keys = holder.dict.d.as_ptr() as usize;
            (Op::LoadAttrClass { name: n, cache }, keys, at as u32, Value::Dict(holder.dict.clone()))
        }
        Op::LoadMethod { name: n, cache } => {
            let Some(Value::Object(o)) = cls.lookup(name.as_str()) else { return None };
            let Some(crate::attr::StaticMethod(f @ Value::Function(_))) = o.as_any().downcast_ref::<crate::attr::StaticMethod>() else {
                return None;
            };
            (Op::LoadMethodClass { name: n, cache }, 0, 0, f.clone())
        }
        _ => return None,
    };
    let (addr, version) = (Rc::as_ptr(cls) as usize, cls.version_tag());
    let e = free_entry(&code.attr_specs[cache as usize], SPEC_CLASS, addr, version)?;
    e.version.set(version);
    e.class.set(addr);
    e.keys.set(keys);
    e.index.set(index);
    e.value.set(value);
    Some(form)
}

/// The specialised form of `op` for module `m`, with its spec's entry:
/// the global its cache way found.
fn module_form(code: &Code, cache: u16, op: Op, m: &Rc<Module>) -> Option<Op> {
    use crate::bytecode::CachedAttr;
    let caches = code.attr_caches.get(cache as usize)?.borrow();
    let slot = caches.ways.iter().find_map(|w| match &w.found {
        CachedAttr::ModuleSlot(wm, slot) if w.tag == crate::bytecode::MODULE_WAY && std::ptr::eq(wm.as_ptr(), Rc::as_ptr(m)) => Some(*slot),
        _ => None,
    })?;
    let form = match op {
        Op::LoadAttr { name, cache } => Op::LoadAttrModule { name, cache },
        Op::LoadMethod { name, cache } => Op::LoadMethodModule { name, cache },
        _ => return None,
    };
    // One module per form: a new one replaces the last.
    let s = &code.attr_specs[cache as usize];
    clear_entries(s, SPEC_MODULE);
    let e = &s.entries[0];
    e.class.set(Rc::as_ptr(m) as usize);
    e.index.set(slot);
    e.value.set(Value::Module(m.clone()));
    Some(form)
}

/// Is `f` the native function whose fast entry is `entry`? A native is
/// known by its entry, not by its object: any function value made with it
/// does what the entry does, and nothing else can share it.
#[inline(always)]
pub(super) fn is_native(f: &Value, entry: FastFnPtr) -> bool {
    matches!(f, Value::Native(nf) if matches!(nf.imp, NativeImpl::Fast(g, _) if std::ptr::fn_addr_eq(g, entry)))
}

/// The generic form of `Call(n)` that waits `2^backoff` runs.
fn call_generic(n: u32, backoff: u8) -> Op {
    Op::CallGeneric { argc: n, backoff, wait: 1 << backoff }
}

/// The generic form of `CallMethod(n)` that waits `2^backoff` runs.
fn call_method_generic(n: u32, backoff: u8) -> Op {
    Op::CallMethodGeneric { argc: n, backoff, wait: 1 << backoff }
}

/// `specialise_binary` for `Call(n)` (given no keywords) of the native
/// `callee`.
///
/// # Safety
/// As `rewrite`.
#[inline(never)]
pub(super) unsafe fn specialise_call(at: *const Op, n: u32, backoff: u8, callee: &Value) {
    let form = match n {
        1 if is_native(callee, crate::types::object::builtin_len) => Op::CallLen,
        2 if is_native(callee, crate::types::object::builtin_isinstance) => Op::CallIsinstance,
        _ => call_generic(n, longer(backoff)),
    };
    rewrite(at, form);
}

/// `deopt_binary` for `Call(n)`.
///
/// # Safety
/// As `rewrite`.
#[cold]
#[inline(never)]
pub(super) unsafe fn deopt_call(at: *const Op, n: u32) {
    rewrite(at, call_generic(n, FIRST_BACKOFF));
}

/// `specialise_binary` for `CallMethod(n)` (given no keywords) of the
/// native `method` on `this`.
///
/// # Safety
/// As `rewrite`.
#[inline(never)]
pub(super) unsafe fn specialise_call_method(at: *const Op, n: u32, backoff: u8, method: &Value, this: &Value) {
    let form = match (n, this) {
        (1, Value::List(_)) if is_native(method, crate::types::list::append) => Op::CallMethodListAppend,
        _ => call_method_generic(n, longer(backoff)),
    };
    rewrite(at, form);
}

/// `deopt_binary` for `CallMethod(n)`.
///
/// # Safety
/// As `rewrite`.
#[cold]
#[inline(never)]
pub(super) unsafe fn deopt_call_method(at: *const Op, n: u32) {
    rewrite(at, call_method_generic(n, FIRST_BACKOFF));
}

/// Does the comparison of `mask` accept ordering `o` (`None`: unordered, a NaN)?
#[inline(always)]
pub(super) fn mask_accepts(mask: u8, o: Option<std::cmp::Ordering>) -> bool {
    let bit = match o {
        Some(o) => 1 << (o as i8 + 1),
        None => crate::bytecode::UNORDERED,
    };
    mask & bit != 0
}

/// The order of two strs: by code point, which is their UTF-8 bytes'
/// order; two short equal ones are seen equal as a few words.
#[inline(always)]
pub(super) fn str_order(x: &crate::object::PyStr, y: &crate::object::PyStr) -> std::cmp::Ordering {
    if x.same_text(y) {
        return std::cmp::Ordering::Equal;
    }
    x.as_str().cmp(y.as_str())
}

impl Vm {
    /// The generic `ForIter(t)`'s slow path, on the synced stack (`<it> =>
    /// <it> <next(it)>`, or `<it> =>` jumping to `t` at its end; `ip` is
    /// the instruction after it): a generator runs in a frame of the loop.
    #[inline(never)]
    pub(super) fn for_iter_slow(&mut self, t: u32, fi: usize, ip: &mut usize) -> PyResult<Flow> {
        self.frames[fi].ip = *ip;
        let it = self.top().clone();
        let next = match &it {
            Value::Iter(i) => crate::iter::next_builtin(self, i)?,
            Value::Generator(g) if g.kind == GenKind::Generator => {
                if g.state.borrow().status != GenStatus::Closed {
                    self.push_gen_frame(g, ResumeMode::ForIter(t), Value::None)?;
                    return Ok(Flow::Frame);
                }
                None
            }
            _ => self.next(&it)?,
        };
        match next {
            Some(v) => self.push(v),
            None => {
                self.stack.pop();
                *ip = t as usize;
            }
        }
        Ok(Flow::Next)
    }

    /// The generic binary instruction's slow path, on the synced stack
    /// (`<a> <b> => <a op b>`): an operator method of the program's runs in
    /// a frame of the loop, anything else in `binary`.
    #[inline(never)]
    pub(super) fn binary_slow(&mut self, b: u8, fi: usize, ip: usize) -> PyResult<Flow> {
        self.frames[fi].ip = ip;
        let len = self.stack.len();
        if let Some(f) = crate::ops::binary_method_first(b, &self.stack[len - 2], &self.stack[len - 1]) {
            self.enter_operator_method(f, b)?;
            return Ok(Flow::Frame);
        }
        let rhs = self.pop();
        let lhs = self.pop();
        let (lhs, rhs) = if b == crate::ops::ADD && matches!(lhs, Value::List(_)) {
            match crate::types::list::concat_into_unique(lhs, rhs) {
                Ok(v) => {
                    self.push(v);
                    return Ok(Flow::Next);
                }
                Err(operands) => operands,
            }
        } else {
            (lhs, rhs)
        };
        let v = self.binary(b, &lhs, &rhs)?;
        lhs.discard();
        rhs.discard();
        self.push(v);
        Ok(Flow::Next)
    }

    /// `BinaryNative`'s operator, on the synced stack with a native object
    /// under the top: its type's hook, called as `ops::binary_op` would
    /// call it first (no number, no method of the program's comes before
    /// it; a subclass instance on the right makes the hook decline). Some
    /// when it answered (the result replaced the operands, or the error
    /// it raised), None when it declined (the operands stay).
    pub(super) fn binary_native(&mut self, b: u8) -> Option<PyResult<()>> {
        let rhs = self.pop();
        let lhs = self.pop();
        let Value::Object(o) = &lhs else { unreachable!("BinaryNative's guard") };
        let r = o.binary_op(self, b & !INPLACE, &rhs, false);
        if r.is_none() {
            self.push(lhs);
            self.push(rhs);
            return None;
        }
        lhs.discard();
        rhs.discard();
        Some(r?.map(|v| self.push(v)))
    }

    /// `CompareNative`'s comparison, as `binary_native`: its result, the
    /// operands gone, or None with them in place.
    pub(super) fn compare_native(&mut self, c: u8) -> Option<PyResult<Value>> {
        let rhs = self.pop();
        let lhs = self.pop();
        let Value::Object(o) = &lhs else { unreachable!("CompareNative's guard") };
        let r = o.compare_op(self, c, &rhs);
        if r.is_none() {
            self.push(lhs);
            self.push(rhs);
            return None;
        }
        lhs.discard();
        rhs.discard();
        r
    }

    /// The generic comparison's slow path, as `binary_slow`.
    #[inline(never)]
    pub(super) fn compare_slow(&mut self, c: u8, fi: usize, ip: usize) -> PyResult<Flow> {
        self.frames[fi].ip = ip;
        let len = self.stack.len();
        // Two sets of plain keys (`fp <= free`): answered in place.
        if let Some(r) = crate::types::set::set_compare_plain(c, &self.stack[len - 2], &self.stack[len - 1]) {
            self.pop().discard();
            self.pop().discard();
            self.push(Value::bool(r));
            return Ok(Flow::Next);
        }
        // Tested here first: most comparisons that come here (an int
        // and a float) have no method to look for.
        if matches!(self.stack[len - 2], Value::Instance(_)) {
            if let Some(f) = crate::ops::compare_method_first(c, &self.stack[len - 2], &self.stack[len - 1]) {
                self.enter_operator_method(f, c | crate::ops::COMPARE_MODE)?;
                return Ok(Flow::Frame);
            }
        }
        let rhs = self.pop();
        let lhs = self.pop();
        // An int and a float (`u < 0`), which the loop leaves here.
        let v = match crate::ops::int_float_order(&lhs, &rhs) {
            Some(o) => Value::bool(crate::ops::cmp_ord(c, o)),
            None => self.compare(c, &lhs, &rhs)?,
        };
        // Mostly values still held elsewhere (`fp <= free`): no call.
        lhs.discard();
        rhs.discard();
        self.push(v);
        Ok(Flow::Next)
    }
}
