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
//! | `Compare(c)`  | `CompareInt` (two ints), `CompareFloat` (two floats)   | `CompareGeneric`    |
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

use crate::bytecode::{cmp_mask, Op, INPLACE};
use crate::iter::{DictIterKind, IterState};
use crate::ops::{ADD, DIV, MUL, POW, SUB};
use crate::value::Value;

use super::*;

/// The first wait of a generic instruction, as a power of two.
const FIRST_BACKOFF: u8 = 4;
/// The longest wait, as a power of two.
const MAX_BACKOFF: u8 = 12;

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
        _ if float_operands(lhs, rhs).is_some() => match base {
            ADD => Some(Op::BinaryAddFloat(b)),
            SUB => Some(Op::BinarySubFloat(b)),
            MUL => Some(Op::BinaryMulFloat(b)),
            DIV | POW => super::dispatch::binary_fast(b, lhs, rhs).map(|_| Op::BinaryNum(b)),
            _ => None,
        },
        _ => None,
    };
    rewrite(at, form.unwrap_or_else(|| binary_generic(b, backoff.saturating_add(1).min(MAX_BACKOFF))));
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
        _ => compare_generic(c, backoff.saturating_add(1).min(MAX_BACKOFF)),
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
    rewrite(at, form.unwrap_or_else(|| for_iter_generic(t, backoff.saturating_add(1).min(MAX_BACKOFF))));
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
        _ => call_generic(n, backoff.saturating_add(1).min(MAX_BACKOFF)),
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
        _ => call_method_generic(n, backoff.saturating_add(1).min(MAX_BACKOFF)),
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
        let v = self.binary(b, &lhs, &rhs)?;
        self.push(v);
        Ok(Flow::Next)
    }

    /// The generic comparison's slow path, as `binary_slow`.
    #[inline(never)]
    pub(super) fn compare_slow(&mut self, c: u8, fi: usize, ip: usize) -> PyResult<Flow> {
        self.frames[fi].ip = ip;
        let len = self.stack.len();
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
        self.push(v);
        Ok(Flow::Next)
    }
}
