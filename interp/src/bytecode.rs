//! Bytecode: the `Op` set, code objects, and the disassembler behind
//! `aio --dis`. Stack effects are written `<before> => <after>`, top on the right.

use std::fmt::Write;
use std::rc::Rc;

use aio_grammar::ast::Span;

use crate::object::PyStr;
use crate::value::Value;

/// One instruction. Operands index the code's `consts`/`names`, name a
/// local slot, or give a jump target (an instruction index).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// Does nothing.
    Nop,
    /// `<a> =>`
    Pop,
    /// `<a> => <a> <a>`
    Dup,
    /// `<x ... (n-1 items)> => <x ...> <x>`: push a copy of the n-th item from the top (1 = top).
    Copy(u32),
    /// Swap the top with the n-th item from the top (2 = the one below it).
    Swap(u32),
    /// `<x1 ... xn-1> <v> => <v> <x1 ... xn-1>`: the top goes down to the n-th place.
    Rot(u32),
    /// `<v> <x1 ... xn-1> => <x1 ... xn-1> <v>`: the n-th item comes up to the top.
    Pull(u32),
    /// `=> <consts[i]>`
    LoadConst(u32),
    /// `=> <None>`
    LoadNone,
    /// `=> <int>`
    LoadInt(i32),
    /// `=> <locals[i]>`; UnboundLocalError if unbound.
    LoadFast(u32),
    /// `<v> =>`, `locals[i] = v`
    StoreFast(u32),
    /// `locals[i]` becomes unbound.
    DeleteFast(u32),
    /// `=> <cell value>` of the cell in slot i.
    LoadDeref(u32),
    /// `<v> =>`, store into the cell in slot i.
    StoreDeref(u32),
    /// Empty the cell in slot i.
    DeleteDeref(u32),
    /// `=> <cell>`: the cell object itself, for building a closure.
    LoadClosure(u32),
    /// Class body: `=> <value>` from the class namespace, else the cell in slot i.
    LoadClassDeref(u32),
    /// `=> <globals[i]>`, falling back to builtins; NameError if neither.
    LoadGlobal(u32),
    /// `<v> =>`, `globals[i] = v`
    StoreGlobal(u32),
    /// Unbind global slot i.
    DeleteGlobal(u32),
    /// Class body: `=> <value of names[i]>` from the namespace, globals, builtins.
    LoadName(u32),
    /// Class body: `<v> =>`, `namespace[names[i]] = v`
    StoreName(u32),
    /// Class body: delete `names[i]` from the namespace.
    DeleteName(u32),
    /// `<obj> => <obj.names[name]>`; `cache` indexes `Code::attr_caches`.
    LoadAttr { name: u32, cache: u16 },
    /// `<v> <obj> =>`, `obj.names[name] = v`
    StoreAttr { name: u32, cache: u16 },
    /// `<obj> => <obj> <obj.names[name]>`: the read of `obj.attr op= v`,
    /// leaving the object for the `StoreAttrKept` that ends it.
    LoadAttrKeep { name: u32, cache: u16 },
    /// `<obj> <v> =>`, `obj.names[name] = v`: the store of `obj.attr op= v`.
    StoreAttrKept { name: u32, cache: u16 },
    /// `<obj> =>`, `del obj.names[i]`
    DeleteAttr(u32),
    /// `<obj> => <method> <obj>` or `<NULL> <obj.names[name]>`: the first half of a method call.
    LoadMethod { name: u32, cache: u16 },
    // Specialised forms of the attribute instructions (see `vm::quicken`):
    // each serves the one class (or module) that `Code::attr_specs[cache]`
    // describes, and keeps its generic operands.
    /// `LoadAttr` of an instance's own value (shared keys or a slot).
    LoadAttrInstance { name: u32, cache: u16 },
    /// `LoadAttrKeep` of an instance's own value.
    LoadAttrKeepInstance { name: u32, cache: u16 },
    /// `LoadFastAttr` of an instance's own value.
    LoadFastAttrInstance { slot: u16, name: u16, cache: u16 },
    /// `LoadAttr` of a module's global.
    LoadAttrModule { name: u32, cache: u16 },
    /// `StoreAttr` into an instance's own value (shared keys or a slot).
    StoreAttrInstance { name: u32, cache: u16 },
    /// `StoreAttrKept` into an instance's own value.
    StoreAttrKeptInstance { name: u32, cache: u16 },
    /// `LoadFastStoreAttr` into an instance's own value.
    LoadFastStoreAttrInstance { slot: u16, name: u16, cache: u16 },
    /// `LoadMethod` of a class's function on an instance no attribute of
    /// which hides it.
    LoadMethodInstance { name: u32, cache: u16 },
    /// `LoadFastMethod` as `LoadMethodInstance`.
    LoadFastMethodInstance { slot: u16, name: u16, cache: u16 },
    /// `LoadMethod` of a module's global (`math.sqrt(x)`).
    LoadMethodModule { name: u32, cache: u16 },
    /// `LoadAttr` of a class's plain value read through the class
    /// (`Strength.REQUIRED`).
    LoadAttrClass { name: u32, cache: u16 },
    /// `LoadMethod` of a static method read through its class
    /// (`Strength.stronger(a, b)`).
    LoadMethodClass { name: u32, cache: u16 },
    /// `<c> <i> => <c[i]>`
    Subscr,
    /// `<v> <c> <i> =>`, `c[i] = v`
    StoreSubscr,
    /// `<c> <i> => <c> <i> <c[i]>`: the read of `c[i] op= v`, leaving the
    /// container and index for the `StoreSubscrKept` that ends it.
    SubscrKeep,
    /// `<c> <i> <v> =>`, `c[i] = v`: the store of `c[i] op= v`.
    StoreSubscrKept,
    /// `<c> <i> =>`, `del c[i]`
    DeleteSubscr,
    /// `<lo> <hi> => <slice>` (n = 2) or `<lo> <hi> <step> => <slice>` (n = 3)
    BuildSlice(u32),
    /// `<c> <lo> <hi> => <c[lo:hi]>` (n = 2) or `<c> <lo> <hi> <step> =>
    /// <c[lo:hi:step]>` (n = 3): `BuildSlice(n)` and `Subscr` in one, so that
    /// slicing a list, tuple or str makes no slice object.
    Slice(u32),
    /// `<v> <c> <lo> <hi> =>` (n = 2) or `<v> <c> <lo> <hi> <step> =>` (n =
    /// 3), `c[lo:hi:step] = v`: `BuildSlice(n)` and `StoreSubscr` in one.
    StoreSlice(u32),
    /// `<a> <b> => <a op b>`; the operand is a `BinOp` index; in-place forms add `INPLACE`.
    Binary(u8),
    /// `<a> => <-a>`
    Neg,
    /// `<a> => <+a>`
    Pos,
    /// `<a> => <~a>`
    Invert,
    /// `<a> => <not a>`
    Not,
    /// `<a> <b> => <a op b>` for `<`, `<=`, `==`, `!=`, `>`, `>=` (a `CmpOp` index).
    Compare(u8),
    /// `<a1> .. <an> <b1> .. <bn> => <(a1, .., an) op (b1, .., bn)>`: two
    /// tuple displays of `n` items compared as tuples, without making them
    /// (`(self.x, self.y) < (other.x, other.y)`).
    CompareTuples { n: u16, cmp: u8 },
    /// `<a> <b> => <a is b>` (negated when the operand is 1).
    Is(u8),
    /// `<a> <b> => <a in b>` (negated when the operand is 1).
    In(u8),
    /// Jump to the target.
    Jump(u32),
    /// `<c> =>`, jump if c is false.
    PopJumpIfFalse(u32),
    /// `<c> =>`, jump if c is true.
    PopJumpIfTrue(u32),
    /// `<c> => <c>` and jump if false, else `=>`.
    JumpIfFalseOrPop(u32),
    /// `<c> => <c>` and jump if true, else `=>`.
    JumpIfTrueOrPop(u32),
    /// `<obj> => <iter(obj)>`
    GetIter,
    /// `<it> => <it> <next(it)>`, or pop `it` and jump when exhausted.
    ForIter(u32),
    /// `<items...n> => <tuple>`
    BuildTuple(u32),
    /// `<items...n> => <list>`
    BuildList(u32),
    /// `<items...n> => <set>`
    BuildSet(u32),
    /// `<k1> <v1> ... <kn> <vn> => <dict>`
    BuildMap(u32),
    /// `<list> <...n-1> <v> => <list> <...>`, append v to the list n deep.
    ListAppend(u32),
    /// `<set> <...n-1> <v> => <set> <...>`
    SetAdd(u32),
    /// `<dict> <...n-1> <k> <v> => <dict> <...>`
    MapAdd(u32),
    /// `<list> <...n-1> <iterable> => <list> <...>`, extend.
    ListExtend(u32),
    /// `<set> <...n-1> <iterable> => <set> <...>`, update.
    SetUpdate(u32),
    /// `<dict> <...n-1> <mapping> => <dict> <...>`, update.
    DictUpdate(u32),
    /// Like `DictUpdate`, but a repeated key is a TypeError (for `f(**a, **b)`).
    DictMerge(u32),
    /// `<list> => <tuple>`
    ListToTuple,
    /// `<seq> => <item n-1> ... <item 0>`: exactly n items, last pushed first.
    UnpackSequence(u32),
    /// `<seq> => <after items...> <list> <before items...>` for `a, *b, c = seq`.
    UnpackEx(u16, u16),
    /// `<v> => <v> <len(v)>`
    GetLen,
    /// `<v> => <v> <bool>`: does a sequence pattern apply to v?
    MatchSequence,
    /// `<v> => <v> <bool>`: does a mapping pattern apply to v?
    MatchMapping,
    /// `<v> <keys> => <v> <keys> <values tuple | None>`: the keys' values in mapping v.
    MatchKeys,
    /// `<v> <keys> => <dict of v's other items>` for `**rest`.
    MatchRest,
    /// `<v> <cls> <names> => <attrs tuple | None>`: n positional sub-patterns, then the keyword `names`.
    MatchClass(u32),
    /// `<v> [<spec>] => <formatted str>`; operand: conversion (0 none, 1 str, 2 repr, 3 ascii) + 4 if a spec is on the stack.
    FormatValue(u8),
    /// `<s1> ... <sn> => <s1 + ... + sn>`
    BuildString(u32),
    /// Set the keyword names (a tuple constant) for the next call.
    KwNames(u32),
    /// `<f> <args...n> => <f(args)>`; the last `len(kwnames)` args are keywords.
    Call(u32),
    /// `<method|NULL> <self|f> <args...n> => <result>`: the second half of a method call.
    CallMethod(u32),
    /// `<f> <args tuple> [<kwargs dict>] => <f(*args, **kwargs)>` (kwargs present when the operand is 1).
    CallEx(u32),
    // Specialised forms of the calls (see `vm::quicken`), each keeping what
    // its generic instruction needs (`Call(n)`, `CallMethod(n)`).
    /// `Call(1)` of the builtin `len`.
    CallLen,
    /// `Call(2)` of the builtin `isinstance`.
    CallIsinstance,
    /// `Call(argc)` after a specialised form's guard failed or no form
    /// fitted a native callee, as `BinaryGeneric`.
    CallGeneric { argc: u32, backoff: u8, wait: u16 },
    /// `CallMethod(1)` of `list.append` on a list.
    CallMethodListAppend,
    /// `CallMethod(argc)` unspecialised, as `CallGeneric`.
    CallMethodGeneric { argc: u32, backoff: u8, wait: u16 },
    /// `[<defaults tuple>] [<kwdefaults dict>] [<annotations tuple>] [<cells...n>] => <function>`
    /// of code const i; `MakeFunction(i)` reads flags from the code object,
    /// and takes one cell per free variable of the code when it has a closure.
    /// The annotations tuple holds names and values in turn.
    MakeFunction(u32),
    /// `<iterator> [<cells...n>] => <result>`: run the comprehension of code
    /// const i over the iterator, with no function made for it: a list, set
    /// or dict comprehension runs in a new frame whose result takes the
    /// iterator's place, a generator expression (or an async comprehension)
    /// is the new generator (or coroutine). Takes one cell per free
    /// variable of the code when it has a closure, as `MakeFunction`.
    Comprehension(u32),
    /// `=> <__build_class__>`
    LoadBuildClass,
    /// Module or class body: bind `__annotations__` to a new dict unless bound.
    SetupAnnotations,
    /// `<v> =>`: return v from the frame.
    ReturnValue,
    /// `<v> => <sent>`: suspend the generator, handing out v; on resume push the sent value.
    /// Operand flags: 1 = inside `yield from`/`await`, 2 = an async generator's own `yield`.
    YieldValue(u32),
    /// `<obj> => <iter>` for `yield from obj`.
    GetYieldFromIter,
    /// `<obj> => <awaitable iterator>`; the operand says where (0 await, 1 `__aenter__`, 2 `__aexit__`).
    GetAwaitable(u32),
    /// `<iter> <v> => <iter> <yielded>` falling through, or `<returned>` jumping to the target.
    Send(u32),
    /// `<obj> => <obj.__aiter__()>`
    GetAIter,
    /// `<aiter> => <aiter> <awaitable of __anext__()>`
    GetANext,
    /// `<aiter> <exc> =>`: end an `async for` on StopAsyncIteration, else re-raise.
    EndAsyncFor,
    /// Raise: 0 re-raise the handled exception, 1 `<exc> =>`, 2 `<exc> <cause> =>`.
    Raise(u32),
    /// `<exc> =>`: raise exc again keeping its traceback.
    Reraise,
    /// `<exc> => <previous handled exception> <exc>`; exc becomes the handled exception.
    PushExcInfo,
    /// `<previous> =>`: restore the handled exception.
    PopExcept,
    /// `<exc> <type> => <exc> <bool>`
    CheckExcMatch,
    /// `except*`: `<eg> <type> => <rest> <match>` (match None if nothing matched).
    CheckEgMatch,
    /// `except*` end: `<orig> <list of raised> => <exc to raise or None>`.
    PrepReraiseStar,
    /// `=> <AssertionError>`
    LoadAssertionError,
    /// `<cm> => <bound __exit__> <cm.__enter__()>`
    BeforeWith,
    /// `<cm> => <bound __aexit__> <awaitable of cm.__aenter__()>`
    BeforeAsyncWith,
    /// `<exit> <prev> <exc> => <exit> <prev> <exc> <exit(type, exc, tb)>`
    WithExceptStart,
    /// `=> <module>` for `import names[i]`.
    ImportName(u32),
    /// `<module> => <module> <module.names[i]>`
    ImportFrom(u32),
    /// `<module> =>`, binding all its public names.
    ImportStar,
    /// `<v> =>`: the REPL echoes repr(v) and sets `_` (not None).
    PrintExpr,
    // Fused instructions (see `fuse`): each stands in for the run it
    // starts, which stays in place after it.
    /// `LoadFast slot; LoadInt k; Binary binop` at once when the local is an
    /// int (`=> <local op k>`, skipping the two), else `LoadFast slot`.
    LoadFastIntBinary { slot: u16, binop: u8, k: i32 },
    /// `LoadFast slot; LoadInt k; Compare cmp` at once when the local is an
    /// int, taking a `PopJumpIf...` that follows too; else `LoadFast slot`.
    LoadFastIntCompare { slot: u16, cmp: u8, k: i32 },
    /// `LoadFast slot; LoadAttr` at once when the local is an object the
    /// `LoadAttr`'s cache (which it shares) serves (`=> <local.attr>`,
    /// skipping the `LoadAttr`), else `LoadFast slot`.
    LoadFastAttr { slot: u16, name: u16, cache: u16 },
    /// `LoadFast slot; StoreAttr` at once when the local is an instance the
    /// `StoreAttr`'s cache (which it shares) stores into plainly (`<v> =>`,
    /// `local.attr = v`, skipping the `StoreAttr`), else `LoadFast slot`.
    LoadFastStoreAttr { slot: u16, name: u16, cache: u16 },
    /// `LoadFast slot; LoadMethod` at once when the `LoadMethod`'s cache
    /// (which it shares) gives the local's method (`=> <method> <local>`,
    /// skipping the `LoadMethod`), else `LoadFast slot`.
    LoadFastMethod { slot: u16, name: u16, cache: u16 },
    /// `LoadFast slot; ReturnValue` at once from a plain function's frame,
    /// else `LoadFast slot`.
    ReturnLocal(u32),
    /// `LoadNone; ReturnValue` at once from a plain function's frame, else
    /// `LoadNone`.
    ReturnNone,
    // Specialised forms (see `vm::quicken`): the dispatch loop rewrites a
    // `Binary` or `Compare` into one of these in place, and back. Each keeps
    // its generic operand.
    /// `Binary(b)` for `+` of two ints.
    BinaryAddInt(u8),
    /// `Binary(b)` for `-` of two ints.
    BinarySubInt(u8),
    /// `Binary(b)` for `+` of two floats, or a float and an int.
    BinaryAddFloat(u8),
    /// `Binary(b)` for `-` of two floats, or a float and an int.
    BinarySubFloat(u8),
    /// `Binary(b)` for `*` of two floats, or a float and an int.
    BinaryMulFloat(u8),
    /// `Binary(b)` for the other operators of two numbers.
    BinaryNum(u8),
    /// `Binary(b)` for `+` of two strs.
    BinaryAddStr(u8),
    /// `Binary(b)` with a native object on the left whose type computes its
    /// operators itself (a `Decimal`, see `NativeObject::has_operators`).
    BinaryNative(u8),
    /// `Binary(op)` after a specialised form's guard failed or no form
    /// fitted: runs `wait` times before specialising again; `backoff` is
    /// the wait it last had, as a power of two.
    BinaryGeneric { op: u8, backoff: u8, wait: u16 },
    /// `Compare` of two ints; the operand is `cmp_mask` of the comparison.
    CompareInt(u8),
    /// `Compare` of two floats; the operand is `cmp_mask` of the comparison.
    CompareFloat(u8),
    /// `Compare` of two strs; the operand is `cmp_mask` of the comparison.
    CompareStr(u8),
    /// `Compare(cmp)` with a native object on the left, as `BinaryNative`.
    CompareNative(u8),
    /// `Compare(cmp)` unspecialised, as `BinaryGeneric`.
    CompareGeneric { cmp: u8, backoff: u8, wait: u16 },
    /// `ForIter(t)` over a range's iterator.
    ForIterRange(u32),
    /// `ForIter(t)` over a list's iterator.
    ForIterList(u32),
    /// `ForIter(t)` over a tuple's iterator.
    ForIterTuple(u32),
    /// `ForIter(t)` before an `UnpackSequence(2)`, over an iterator whose
    /// pairs `iter::next_item_pair` gives (a dict's items, an enumerate, a zip).
    ForIterPairs(u32),
    /// `ForIter(target)` unspecialised, as `BinaryGeneric`.
    ForIterGeneric { target: u32, backoff: u8, wait: u16 },
}

/// The bits of a comparison's mask (`cmp_mask`): the orderings of its
/// operands that make it true, `UNORDERED` for a NaN's.
pub const LESS: u8 = 1;
pub const EQUAL: u8 = 2;
pub const GREATER: u8 = 4;
pub const UNORDERED: u8 = 8;

/// The mask of the comparison `c` (a `CmpOp` index).
pub fn cmp_mask(c: u8) -> u8 {
    match c {
        crate::ops::EQ => EQUAL,
        crate::ops::NE => LESS | GREATER | UNORDERED,
        crate::ops::LT => LESS,
        crate::ops::LE => LESS | EQUAL,
        crate::ops::GT => GREATER,
        _ => GREATER | EQUAL,
    }
}

/// The comparison whose mask is `m` (the inverse of `cmp_mask`).
pub fn mask_cmp(m: u8) -> u8 {
    (0..=crate::ops::GE).find(|&c| cmp_mask(c) == m).unwrap_or(crate::ops::EQ)
}

impl Op {
    /// The target of a jump: a label while compiling, an op index after.
    pub fn jump_target_mut(&mut self) -> Option<&mut u32> {
        match self {
            Op::Jump(t)
            | Op::PopJumpIfFalse(t)
            | Op::PopJumpIfTrue(t)
            | Op::JumpIfFalseOrPop(t)
            | Op::JumpIfTrueOrPop(t)
            | Op::ForIter(t)
            | Op::ForIterRange(t)
            | Op::ForIterList(t)
            | Op::ForIterTuple(t)
            | Op::ForIterPairs(t)
            | Op::ForIterGeneric { target: t, .. }
            | Op::Send(t) => Some(t),
            _ => None,
        }
    }
    pub fn jump_target(mut self) -> Option<u32> {
        self.jump_target_mut().copied()
    }
    /// The instruction as compiled: a specialised form's generic one.
    pub fn generic(self) -> Op {
        match self {
            Op::BinaryAddInt(b)
            | Op::BinarySubInt(b)
            | Op::BinaryAddFloat(b)
            | Op::BinarySubFloat(b)
            | Op::BinaryMulFloat(b)
            | Op::BinaryNum(b)
            | Op::BinaryAddStr(b)
            | Op::BinaryNative(b)
            | Op::BinaryGeneric { op: b, .. } => Op::Binary(b),
            Op::CompareInt(m) | Op::CompareFloat(m) | Op::CompareStr(m) => Op::Compare(mask_cmp(m)),
            Op::CompareNative(cmp) | Op::CompareGeneric { cmp, .. } => Op::Compare(cmp),
            Op::ForIterRange(t) | Op::ForIterList(t) | Op::ForIterTuple(t) | Op::ForIterPairs(t) | Op::ForIterGeneric { target: t, .. } => {
                Op::ForIter(t)
            }
            Op::LoadAttrInstance { name, cache } | Op::LoadAttrModule { name, cache } | Op::LoadAttrClass { name, cache } => {
                Op::LoadAttr { name, cache }
            }
            Op::LoadAttrKeepInstance { name, cache } => Op::LoadAttrKeep { name, cache },
            Op::LoadFastAttrInstance { slot, name, cache } => Op::LoadFastAttr { slot, name, cache },
            Op::StoreAttrInstance { name, cache } => Op::StoreAttr { name, cache },
            Op::StoreAttrKeptInstance { name, cache } => Op::StoreAttrKept { name, cache },
            Op::LoadFastStoreAttrInstance { slot, name, cache } => Op::LoadFastStoreAttr { slot, name, cache },
            Op::LoadMethodInstance { name, cache } | Op::LoadMethodModule { name, cache } | Op::LoadMethodClass { name, cache } => {
                Op::LoadMethod { name, cache }
            }
            Op::LoadFastMethodInstance { slot, name, cache } => Op::LoadFastMethod { slot, name, cache },
            Op::CallLen => Op::Call(1),
            Op::CallIsinstance => Op::Call(2),
            Op::CallGeneric { argc, .. } => Op::Call(argc),
            Op::CallMethodListAppend => Op::CallMethod(1),
            Op::CallMethodGeneric { argc, .. } => Op::CallMethod(argc),
            op => op,
        }
    }
}

/// A code object's instructions. The dispatch loop rewrites an instruction
/// into a specialised form and back while frames run it (`vm::quicken`), so
/// each is a `Cell`; everything else reads them through `get`, which gives
/// the generic form, as compiled.
pub struct Ops(Box<[std::cell::Cell<Op>]>);

impl Ops {
    pub fn new(ops: Vec<Op>) -> Ops {
        Ops(ops.into_iter().map(std::cell::Cell::new).collect())
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The instruction at `i`, in its generic form.
    pub fn get(&self, i: usize) -> Option<Op> {
        self.0.get(i).map(|op| op.get().generic())
    }
    /// The instruction at `i`, in its generic form; panics past the end.
    pub fn at(&self, i: usize) -> Op {
        self.0[i].get().generic()
    }
    /// The instructions in their generic forms.
    pub fn iter(&self) -> impl Iterator<Item = Op> + '_ {
        self.0.iter().map(|op| op.get().generic())
    }
    /// The first instruction, for the dispatch loop, which reads the
    /// instructions as they are and rewrites them (`Cell<Op>` has `Op`'s
    /// layout).
    pub fn as_ptr(&self) -> *const Op {
        self.0.as_ptr() as *const Op
    }
}

const _: () = assert!(std::mem::size_of::<Op>() == 8);

/// What an instruction does to the operand stack: it needs `pops` values
/// and leaves `next` values in their place for the instruction after it
/// (`None`: it never falls through) and `jump` values at its jump target
/// (`None`: it does not jump). Fused instructions are counted as the first
/// instruction of their run: their fast case skips the run to the same
/// depth the run itself reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackEffect {
    pub pops: u32,
    pub next: Option<u32>,
    pub jump: Option<u32>,
}

impl Op {
    /// Can the instruction at index `at` raise (and so enter its handler)?
    /// A backward jump can: it is where Ctrl-C is noticed.
    pub fn may_raise(self, at: usize) -> bool {
        match self {
            Op::Jump(t) => (t as usize) <= at,
            Op::Nop
            | Op::Pop
            | Op::Dup
            | Op::Copy(_)
            | Op::Swap(_)
            | Op::Rot(_)
            | Op::Pull(_)
            | Op::LoadConst(_)
            | Op::LoadNone
            | Op::LoadInt(_)
            | Op::StoreFast(_)
            | Op::LoadClosure(_)
            | Op::KwNames(_)
            | Op::PushExcInfo
            | Op::PopExcept
            | Op::ReturnValue
            | Op::ReturnNone => false,
            _ => true,
        }
    }

    /// The instruction's stack effect in `code` (`MakeFunction` reads the
    /// flags of the code constant it makes a function of).
    pub fn stack_effect(self, code: &Code) -> StackEffect {
        let fall = |pops: u32, pushes: u32| StackEffect { pops, next: Some(pushes), jump: None };
        let end = |pops: u32| StackEffect { pops, next: None, jump: None };
        match self {
            Op::Nop | Op::KwNames(_) | Op::SetupAnnotations => fall(0, 0),
            Op::DeleteFast(_) | Op::DeleteDeref(_) | Op::DeleteGlobal(_) | Op::DeleteName(_) => fall(0, 0),
            Op::Pop => fall(1, 0),
            Op::Dup => fall(1, 2),
            Op::Copy(n) => fall(n, n + 1),
            Op::Swap(n) | Op::Rot(n) | Op::Pull(n) => fall(n, n),
            Op::LoadConst(_)
            | Op::LoadNone
            | Op::LoadInt(_)
            | Op::LoadFast(_)
            | Op::LoadDeref(_)
            | Op::LoadClosure(_)
            | Op::LoadClassDeref(_)
            | Op::LoadGlobal(_)
            | Op::LoadName(_)
            | Op::LoadBuildClass
            | Op::LoadAssertionError
            | Op::ImportName(_)
            | Op::LoadFastIntBinary { .. }
            | Op::LoadFastIntCompare { .. }
            | Op::LoadFastAttr { .. }
            | Op::LoadFastStoreAttr { .. }
            | Op::LoadFastMethod { .. }
            | Op::LoadFastAttrInstance { .. }
            | Op::LoadFastStoreAttrInstance { .. }
            | Op::LoadFastMethodInstance { .. }
            | Op::ReturnLocal(_)
            | Op::ReturnNone => fall(0, 1),
            Op::StoreFast(_) | Op::StoreDeref(_) | Op::StoreGlobal(_) | Op::StoreName(_) => fall(1, 0),
            Op::LoadAttr { .. } | Op::LoadAttrInstance { .. } | Op::LoadAttrModule { .. } | Op::LoadAttrClass { .. } => fall(1, 1),
            Op::StoreAttr { .. } | Op::StoreAttrKept { .. } | Op::StoreAttrInstance { .. } | Op::StoreAttrKeptInstance { .. } => fall(2, 0),
            Op::LoadAttrKeep { .. } | Op::LoadAttrKeepInstance { .. } => fall(1, 2),
            Op::DeleteAttr(_) => fall(1, 0),
            Op::LoadMethod { .. } | Op::LoadMethodInstance { .. } | Op::LoadMethodModule { .. } | Op::LoadMethodClass { .. } => fall(1, 2),
            Op::Subscr => fall(2, 1),
            Op::StoreSubscr | Op::StoreSubscrKept => fall(3, 0),
            Op::SubscrKeep => fall(2, 3),
            Op::DeleteSubscr => fall(2, 0),
            Op::BuildSlice(n) => fall(n, 1),
            Op::Slice(n) => fall(n + 1, 1),
            Op::StoreSlice(n) => fall(n + 2, 0),
            Op::Binary(_)
            | Op::BinaryAddInt(_)
            | Op::BinarySubInt(_)
            | Op::BinaryAddFloat(_)
            | Op::BinarySubFloat(_)
            | Op::BinaryMulFloat(_)
            | Op::BinaryNum(_)
            | Op::BinaryAddStr(_)
            | Op::BinaryNative(_)
            | Op::BinaryGeneric { .. }
            | Op::Compare(_)
            | Op::CompareInt(_)
            | Op::CompareFloat(_)
            | Op::CompareStr(_)
            | Op::CompareNative(_)
            | Op::CompareGeneric { .. }
            | Op::Is(_)
            | Op::In(_) => fall(2, 1),
            Op::CompareTuples { n, .. } => fall(2 * n as u32, 1),
            Op::Neg | Op::Pos | Op::Invert | Op::Not => fall(1, 1),
            Op::Jump(_) => StackEffect { pops: 0, next: None, jump: Some(0) },
            Op::PopJumpIfFalse(_) | Op::PopJumpIfTrue(_) => StackEffect { pops: 1, next: Some(0), jump: Some(0) },
            Op::JumpIfFalseOrPop(_) | Op::JumpIfTrueOrPop(_) => StackEffect { pops: 1, next: Some(0), jump: Some(1) },
            Op::GetIter | Op::GetYieldFromIter | Op::GetAwaitable(_) | Op::GetAIter | Op::ListToTuple => fall(1, 1),
            Op::ForIter(_)
            | Op::ForIterRange(_)
            | Op::ForIterList(_)
            | Op::ForIterTuple(_)
            | Op::ForIterPairs(_)
            | Op::ForIterGeneric { .. } => StackEffect { pops: 1, next: Some(2), jump: Some(0) },
            Op::BuildTuple(n) | Op::BuildList(n) | Op::BuildSet(n) | Op::BuildString(n) => fall(n, 1),
            Op::BuildMap(n) => fall(2 * n, 1),
            Op::ListAppend(n) | Op::SetAdd(n) | Op::ListExtend(n) | Op::SetUpdate(n) | Op::DictUpdate(n) | Op::DictMerge(n) => {
                fall(n + 1, n)
            }
            Op::MapAdd(n) => fall(n + 2, n),
            Op::UnpackSequence(n) => fall(1, n),
            Op::UnpackEx(before, after) => fall(1, before as u32 + after as u32 + 1),
            Op::GetLen | Op::MatchSequence | Op::MatchMapping => fall(1, 2),
            Op::MatchKeys => fall(2, 3),
            Op::MatchRest => fall(2, 1),
            Op::MatchClass(_) => fall(3, 1),
            Op::FormatValue(f) => fall(if f & 4 != 0 { 2 } else { 1 }, 1),
            Op::Call(n) | Op::CallGeneric { argc: n, .. } => fall(n + 1, 1),
            Op::CallMethod(n) | Op::CallMethodGeneric { argc: n, .. } => fall(n + 2, 1),
            Op::CallLen => fall(2, 1),
            Op::CallIsinstance | Op::CallMethodListAppend => fall(3, 1),
            Op::CallEx(k) => fall(2 + k, 1),
            Op::MakeFunction(i) => {
                let (f, cells) = match code.consts.get(i as usize) {
                    Some(Value::Code(c)) => (c.flags, c.closure_len() as u32),
                    _ => (CodeFlags::default(), 0),
                };
                fall(f.has_defaults as u32 + f.has_kwdefaults as u32 + f.has_annotations as u32 + cells, 1)
            }
            Op::Comprehension(i) => {
                let cells = match code.consts.get(i as usize) {
                    Some(Value::Code(c)) => c.closure_len() as u32,
                    _ => 0,
                };
                fall(1 + cells, 1)
            }
            Op::ReturnValue => end(1),
            Op::YieldValue(_) => fall(1, 1),
            Op::Send(_) => StackEffect { pops: 2, next: Some(2), jump: Some(1) },
            Op::GetANext => fall(1, 2),
            Op::EndAsyncFor => fall(2, 0),
            Op::Raise(n) => end(n),
            Op::Reraise => end(1),
            Op::PushExcInfo => fall(1, 2),
            Op::PopExcept => fall(1, 0),
            Op::CheckExcMatch | Op::CheckEgMatch => fall(2, 2),
            Op::PrepReraiseStar => fall(2, 1),
            Op::BeforeWith | Op::BeforeAsyncWith => fall(1, 2),
            Op::WithExceptStart => fall(3, 4),
            Op::ImportFrom(_) => fall(1, 2),
            Op::ImportStar | Op::PrintExpr => fall(1, 0),
        }
    }
}

/// `check_stack` on a code object and every code object in its constants.
pub fn check_stack_tree(code: &Code) -> Result<(), String> {
    check_stack(code)?;
    for c in &code.consts {
        if let Value::Code(inner) = c {
            check_stack_tree(inner)?;
        }
    }
    Ok(())
}

/// Check the compiler's stack discipline on one code object (not the code
/// objects in its constants): every instruction reached finds the values
/// it pops, every path into an instruction arrives at the same depth, and
/// each exception handler starts with the depth its table entry gives plus
/// the exception. The dispatch loop's unchecked stack accesses rest on
/// this. Returns the deepest the stack gets above the locals.
pub fn check_stack(code: &Code) -> Result<u32, String> {
    let n = code.ops.len();
    let mut depth: Vec<Option<u32>> = vec![None; n];
    let mut work = Vec::new();
    let mut max = 0;
    let reach = |at: usize, d: u32, from: usize, depth: &mut Vec<Option<u32>>, work: &mut Vec<usize>| -> Result<(), String> {
        if at >= n {
            return Err(format!("{}: instruction {from} leads past the end", code.qualname.as_str()));
        }
        match depth[at] {
            None => {
                depth[at] = Some(d);
                work.push(at);
                Ok(())
            }
            Some(e) if e == d => Ok(()),
            Some(e) => Err(format!("{}: instruction {at} is reached at depth {e} and at depth {d} (from {from})", code.qualname.as_str())),
        }
    };
    if n > 0 {
        reach(0, 0, 0, &mut depth, &mut work)?;
    }
    loop {
        while let Some(at) = work.pop() {
            let d = depth[at].expect("a reached instruction");
            let op = code.ops.at(at);
            let e = op.stack_effect(code);
            if d < e.pops {
                return Err(format!("{}: instruction {at} ({op:?}) pops {} at depth {d}", code.qualname.as_str(), e.pops));
            }
            let rest = d - e.pops;
            if let Some(k) = e.next {
                max = max.max(rest + k);
                reach(at + 1, rest + k, at, &mut depth, &mut work)?;
            }
            if let (Some(k), Some(t)) = (e.jump, op.jump_target()) {
                max = max.max(rest + k);
                reach(t as usize, rest + k, at, &mut depth, &mut work)?;
            }
        }
        // A handler is entered from any instruction of its range that runs,
        // which must hold at least the values the handler keeps.
        let mut more = false;
        for h in &code.exc_table {
            let mut covered = false;
            for (i, d) in depth.iter().enumerate().take(h.end as usize).skip(h.start as usize) {
                if let Some(d) = *d {
                    if d < h.depth && code.ops.at(i).may_raise(i) {
                        return Err(format!(
                            "{}: instruction {i} ({:?}) is at depth {d} under a handler that keeps {}",
                            code.qualname.as_str(),
                            code.ops.at(i),
                            h.depth
                        ));
                    }
                    covered = true;
                }
            }
            if covered {
                more |= depth.get(h.target as usize).copied().flatten().is_none();
                reach(h.target as usize, h.depth + 1, h.start as usize, &mut depth, &mut work)?;
            }
        }
        if !more {
            return Ok(max);
        }
    }
}

/// Replace the first instruction of common runs by a fused instruction that
/// does the whole run's work and skips it. The run stays in place behind
/// it: a jump into the middle of the run, or the fused instruction's
/// fallback (it does only the first instruction's work when its fast case
/// does not hold), executes the originals as before. A fused instruction's
/// fast case cannot raise, so exception handler ranges are unaffected.
pub fn fuse(ops: &mut [Op]) {
    for i in 0..ops.len().saturating_sub(1) {
        match (ops[i], ops[i + 1]) {
            (Op::LoadFast(slot), Op::ReturnValue) => {
                ops[i] = Op::ReturnLocal(slot);
                continue;
            }
            (Op::LoadNone, Op::ReturnValue) => {
                ops[i] = Op::ReturnNone;
                continue;
            }
            // The cache is the attribute instruction's, set when caches are
            // numbered.
            (Op::LoadFast(slot), Op::LoadAttr { name, .. } | Op::StoreAttr { name, .. } | Op::LoadMethod { name, .. }) => {
                if let (Ok(slot), Ok(name)) = (u16::try_from(slot), u16::try_from(name)) {
                    let cache = NO_CACHE;
                    ops[i] = match ops[i + 1] {
                        Op::LoadAttr { .. } => Op::LoadFastAttr { slot, name, cache },
                        Op::StoreAttr { .. } => Op::LoadFastStoreAttr { slot, name, cache },
                        _ => Op::LoadFastMethod { slot, name, cache },
                    };
                }
                continue;
            }
            _ => {}
        }
        if i + 2 >= ops.len() {
            continue;
        }
        if let (Op::LoadFast(slot), Op::LoadInt(k)) = (ops[i], ops[i + 1]) {
            let Ok(slot) = u16::try_from(slot) else { continue };
            match ops[i + 2] {
                Op::Binary(binop) => ops[i] = Op::LoadFastIntBinary { slot, binop, k },
                Op::Compare(cmp) => ops[i] = Op::LoadFastIntCompare { slot, cmp, k },
                _ => {}
            }
        }
    }
}

/// Flag added to a `BinOp` index in `Op::Binary` for augmented assignment.
pub const INPLACE: u8 = 16;

/// The compile-time facts about a code object's parameters and kind.
#[derive(Clone, Copy, Debug, Default)]
pub struct CodeFlags {
    pub varargs: bool,
    pub varkw: bool,
    pub generator: bool,
    pub coroutine: bool,
    pub async_generator: bool,
    /// A class body (names live in a namespace dict).
    pub class_body: bool,
    /// A module body containing top-level `await`.
    pub toplevel_await: bool,
    /// MakeFunction pops a defaults tuple / kwdefaults dict / the closure's cells.
    pub has_defaults: bool,
    pub has_kwdefaults: bool,
    pub has_closure: bool,
    /// MakeFunction pops an annotations tuple.
    pub has_annotations: bool,
    /// A list or dict comprehension with one `for` and no `if`: its result
    /// holds (at most) one entry per item of the iterable in its first
    /// local, and is made with room for them.
    pub one_per_item: bool,
}

impl Code {
    /// CPython's `co_flags` bits for this code: optimized locals (1), new
    /// locals (2), `*args` (4), `**kwargs` (8), generator (0x20), no free
    /// variables (0x40), coroutine (0x80), async generator (0x200).
    pub fn co_flags(&self) -> i64 {
        let f = &self.flags;
        let mut bits = 0;
        if !f.class_body {
            bits |= 1 | 2;
        }
        if f.varargs {
            bits |= 4;
        }
        if f.varkw {
            bits |= 8;
        }
        if f.generator {
            bits |= 0x20;
        }
        if self.freevars.is_empty() && self.cellvars.is_empty() {
            bits |= 0x40;
        }
        if f.coroutine {
            bits |= 0x80;
        }
        if f.async_generator {
            bits |= 0x200;
        }
        bits
    }
}

/// A handler range: an exception raised by an instruction in `start..end`
/// truncates the stack to `depth` values above the locals, pushes the
/// exception and jumps to `target`.
#[derive(Clone, Copy, Debug)]
pub struct ExcEntry {
    pub start: u32,
    pub end: u32,
    pub target: u32,
    pub depth: u32,
}

/// A source file with its line starts, shared by all code compiled from it.
pub struct Source {
    pub name: String,
    pub text: String,
    line_starts: Vec<u32>,
    /// `name` as a str, made once (`co_filename`, read by every frame
    /// walk of `logging` and `traceback`).
    name_str: std::cell::OnceCell<Rc<PyStr>>,
}

impl Source {
    pub fn new(name: &str, text: &str) -> Source {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        Source { name: name.to_string(), text: text.to_string(), line_starts, name_str: Default::default() }
    }
    /// The file name as a str value: `co_filename`.
    pub fn name_value(&self) -> Value {
        Value::Str(self.name_str.get_or_init(|| Rc::new(PyStr::new(&self.name))).clone())
    }
    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: u32) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
    /// The text of a 1-based line, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0) as usize;
        let end = self.line_starts.get(line).map(|&e| e as usize).unwrap_or(self.text.len());
        self.text.get(start..end).unwrap_or("").trim_end_matches(['\n', '\r'])
    }
}

/// A compiled function, class body or module.
pub struct Code {
    pub name: Rc<PyStr>,
    pub qualname: Rc<PyStr>,
    pub ops: Ops,
    /// The source span of each instruction.
    pub spans: Vec<Span>,
    pub consts: Vec<Value>,
    pub names: Vec<Rc<PyStr>>,
    pub exc_table: Vec<ExcEntry>,
    /// Positional parameters (positional-only included).
    pub argcount: u32,
    pub posonlyargcount: u32,
    pub kwonlyargcount: u32,
    /// All local slots: parameters first, then other locals, cells, free variables.
    pub nlocals: u32,
    pub varnames: Vec<Rc<PyStr>>,
    /// Slots that hold cells created at entry (captured locals).
    pub cellvars: Vec<u32>,
    /// Slots that receive the closure's cells at entry.
    pub freevars: Vec<u32>,
    pub flags: CodeFlags,
    pub source: Rc<Source>,
    /// The span of the `def`/`class`/lambda header, for messages.
    pub span: Span,
    /// A function's docstring (the string literal its body starts with),
    /// which becomes the function's `__doc__`.
    pub doc: Option<Rc<PyStr>>,
    /// True when a call can bind positional arguments straight into slots:
    /// no `*args`/`**kwargs`/keyword-only parameters, not resumable (cells,
    /// when the code has them, are made in place: `prepare_cells`).
    pub simple: bool,
    /// The same for a generator or coroutine function: its positional
    /// arguments become the new generator's first locals as they are (cells,
    /// a generator expression's among them, are made in place:
    /// `generator::new_generator_with_args`).
    pub simple_resumable: bool,
    /// One inline cache per attribute instruction (`LoadAttr`, `LoadMethod`,
    /// `StoreAttr`), numbered by their `cache` operand.
    pub attr_caches: Box<[std::cell::RefCell<AttrCache>]>,
    /// Beside each attribute cache, what the instruction's specialised
    /// form serves (see `vm::quicken`).
    pub attr_specs: Box<[AttrSpec]>,
}

/// The classes (or the module) an attribute instruction's specialised form
/// serves, and where the value is for each (see `vm::quicken`). Only the
/// specialiser writes these `Cell`s, so the dispatch loop reads them with
/// no borrow.
#[derive(Default)]
pub struct AttrSpec {
    /// One per class, the first ones filled first (`class` 0: empty); for
    /// a module's form, the first only.
    pub entries: [SpecEntry; SPEC_ENTRIES],
    /// Whether the entries are a module's (`SPEC_MODULE`) or classes'.
    pub kind: std::cell::Cell<u8>,
    /// The generic instruction's wait before it specialises again (counted
    /// on its general path), and the last wait as a power of two.
    pub wait: std::cell::Cell<u16>,
    pub backoff: std::cell::Cell<u8>,
    /// How many times an entry was given to another class, or to a class
    /// changed since (see `quicken::instance_form`).
    pub stale: std::cell::Cell<u8>,
}

/// How many classes one specialised attribute instruction serves.
pub const SPEC_ENTRIES: usize = 4;

/// `AttrSpec::kind` of the forms for instances.
pub const SPEC_INSTANCE: u8 = 1;

/// `AttrSpec::kind` of a module's form.
pub const SPEC_MODULE: u8 = 2;

/// `AttrSpec::kind` of the forms for class objects (`Cls.name`).
pub const SPEC_CLASS: u8 = 3;

/// One class an attribute instruction's specialised form serves.
#[derive(Default)]
pub struct SpecEntry {
    /// The version tag of the class (`Class::version`: no other class's,
    /// and taken away when the class changes), which the guard compares;
    /// 0 for an empty entry and a module's.
    pub version: std::cell::Cell<u64>,
    /// The address of the class, which an entry for the class changed
    /// since is known by; of the module for a module's form (`value`
    /// keeps it alive).
    pub class: std::cell::Cell<usize>,
    /// The address of the class's shared keys, which the instance's values
    /// follow (see `shape`); 0 for a `__slots__` value, and for a method
    /// of a class whose instances have no `__dict__`. For a class's value
    /// read through the class, the address of the namespace (`DictData`)
    /// of the class on its MRO that holds it.
    pub keys: std::cell::Cell<usize>,
    /// A value's index in the instance's values (`shape::Attrs::values`);
    /// for a method, how many keys there were when the name was found not
    /// to be one of them; for a module, its global's slot; for a class's
    /// value, its entry in that namespace.
    pub index: std::cell::Cell<u32>,
    /// A method's function; the module of a module's form; the namespace
    /// holding a class's value.
    pub value: std::cell::Cell<Value>,
}

/// An attribute instruction's cache `cache` has no slot (a code object
/// with more attribute instructions than a `u16` counts).
pub const NO_CACHE: u16 = u16::MAX;

/// What an attribute instruction found on the last few classes it met:
/// one way per class (or builtin tag), so a base-class method called on
/// instances of several subclasses hits for each of them. A way is valid
/// while the class epoch (`dict::class_epoch`) it was filled in stays put.
/// The dispatch loop answers from it without walking the class's MRO.
#[derive(Default)]
pub struct AttrCache {
    pub ways: [AttrWay; CACHE_WAYS],
    /// The way the next new class replaces when all are taken.
    next: u8,
}

/// How many classes one attribute instruction remembers.
pub const CACHE_WAYS: usize = 4;

/// The `tag` of a module's way (`CachedAttr::ModuleSlot`).
pub const MODULE_WAY: u64 = u64::MAX - 2;

/// The `tag` of a way that describes a class read as an object (`Cls.name`):
/// no builtin tag (`attr::builtin_tag`) comes near it.
pub const CLASS_WAY: u64 = u64::MAX;

/// The `tag` of a way that describes a native object's class (a deque, a
/// match, a stream): only its methods are remembered, for `LoadMethod`.
pub const NATIVE_WAY: u64 = u64::MAX - 3;

/// The `tag` of a way that describes `super(start, obj).name` for an
/// instance of the way's class (`keys` holds `start`'s address): the
/// method `vm::dispatch::super_method` calls.
pub const SUPER_WAY: u64 = u64::MAX - 1;

impl AttrCache {
    /// The way describing `inst`'s class as it is now.
    #[inline(always)]
    pub fn way_for(&self, inst: &crate::object::Instance) -> Option<&AttrWay> {
        let cls = std::rc::Rc::as_ptr(&inst.class.borrow());
        let epoch = crate::dict::class_epoch();
        self.ways.iter().find(|w| std::ptr::eq(w.class.as_ptr(), cls) && w.tag == 0 && w.epoch == epoch)
    }
    /// The way describing the class object `cls` itself (`Cls.name`, not an
    /// instance's), as it is now.
    #[inline(always)]
    pub fn way_for_class(&self, cls: &std::rc::Rc<crate::object::Class>) -> Option<&AttrWay> {
        let cls = std::rc::Rc::as_ptr(cls);
        let epoch = crate::dict::class_epoch();
        self.ways.iter().find(|w| std::ptr::eq(w.class.as_ptr(), cls) && w.tag == CLASS_WAY && w.epoch == epoch)
    }
    /// The way describing `super(start, obj).name` for an instance `obj` of
    /// class `cls`, as it is now. (`start` is on the MRO of `cls` when the
    /// way was filled, and stays there while the class lives: its address
    /// is no other class's.)
    #[inline(always)]
    pub fn way_for_super(&self, cls: &std::rc::Rc<crate::object::Class>, start: &std::rc::Rc<crate::object::Class>) -> Option<&AttrWay> {
        let (cls, start) = (std::rc::Rc::as_ptr(cls), std::rc::Rc::as_ptr(start) as usize);
        let epoch = crate::dict::class_epoch();
        self.ways.iter().find(|w| std::ptr::eq(w.class.as_ptr(), cls) && w.tag == SUPER_WAY && w.keys == start && w.epoch == epoch)
    }
    /// The way describing native objects of class `cls`, as it is now.
    #[inline(always)]
    pub fn way_for_native(&self, cls: &std::rc::Rc<crate::object::Class>) -> Option<&AttrWay> {
        let cls = std::rc::Rc::as_ptr(cls);
        let epoch = crate::dict::class_epoch();
        self.ways.iter().find(|w| std::ptr::eq(w.class.as_ptr(), cls) && w.tag == NATIVE_WAY && w.epoch == epoch)
    }
    /// The value of module `m`'s global the instruction found before, if
    /// it is still bound (a global keeps its slot for the module's life).
    #[inline(always)]
    pub fn module_value(&self, m: &std::rc::Rc<crate::object::Module>) -> Option<crate::value::Value> {
        let at = std::rc::Rc::as_ptr(m);
        let slot = self.ways.iter().find_map(|w| match &w.found {
            CachedAttr::ModuleSlot(wm, slot) if w.tag == MODULE_WAY && std::ptr::eq(wm.as_ptr(), at) => Some(*slot),
            _ => None,
        })?;
        Some(m.globals.borrow().get(slot as usize)?.clone()).filter(|v| !v.is_undef())
    }
    /// The way describing builtin values of tag `tag` (see `attr::builtin_tag`).
    #[inline(always)]
    pub fn way_for_tag(&self, tag: u64) -> Option<&AttrWay> {
        let epoch = crate::dict::class_epoch();
        self.ways.iter().find(|w| tag != 0 && w.tag == tag && w.epoch == epoch)
    }
    /// Remember `way`: over the way of the same class, else a stale or
    /// empty way, else the oldest.
    pub fn fill(&mut self, way: AttrWay) {
        let epoch = way.epoch;
        let same = |w: &AttrWay| std::ptr::eq(w.class.as_ptr(), way.class.as_ptr()) && w.tag == way.tag;
        let i = match self.ways.iter().position(same) {
            Some(i) => i,
            None => match self.ways.iter().position(|w| w.epoch != epoch) {
                Some(i) => i,
                None => {
                    let i = self.next as usize % CACHE_WAYS;
                    self.next = self.next.wrapping_add(1);
                    i
                }
            },
        };
        self.ways[i] = way;
    }
}

/// One class an attribute instruction met: the class of the object (or the
/// tag of a builtin value) and what that class holds under the name.
#[derive(Default)]
pub struct AttrWay {
    /// The class (a `Weak` keeps its address from being reused by another).
    pub class: std::rc::Weak<crate::object::Class>,
    /// For a builtin value (not an instance), its `Value` tag plus one;
    /// `CLASS_WAY` for the class itself read as an object, `SUPER_WAY` for
    /// `super()` on an instance of the class.
    pub tag: u64,
    /// 0 for an empty way (epochs start at 1).
    pub epoch: u64,
    pub found: CachedAttr,
    /// `StoreAttr` may write the instance directly: no `__setattr__`, and
    /// either a slot or no descriptor and an instance with a plain dict.
    pub plain_store: bool,
    /// Where the name sat in the last instance dict it was found in
    /// (for instances with a dict of their own, see `shape`).
    pub slot: std::cell::Cell<u32>,
    /// The class's shared keys (an address, valid while the class is the
    /// way's: a class keeps its keys), the name's index in them
    /// (`shape::NO_INDEX` until known), and their length when the name was
    /// last found not to be one of them (`Attrs::shadows_cached`).
    pub keys: usize,
    pub index: std::cell::Cell<u32>,
    pub absent: std::cell::Cell<u32>,
}

/// The class's attribute under the instruction's name, as far as the fast
/// paths care.
#[derive(Default)]
pub enum CachedAttr {
    /// Nothing in the class or its MRO: only the instance dict can answer.
    #[default]
    Absent,
    /// A function or native method: `LoadMethod` pushes it with the object.
    Method(Value),
    /// A `__slots__` member: the instance's slot at this index.
    Slot(u32),
    /// `__class__` on an instance of a class that does not define it: the
    /// instance's class (object's `__class__` is a data descriptor, which no
    /// instance dict shadows).
    ClassOf,
    /// A class value that is no descriptor (a default such as `qty = 0` in
    /// the class body, `minimum_degree = 16` read as `self.minimum_degree`):
    /// the instance dict answers first, and when it lacks the name, this
    /// value (the class's while the way's epoch holds).
    Plain(Value),
    /// Read through the class itself (a `CLASS_WAY` way): a value no
    /// descriptor protocol applies to (`Strength.REQUIRED`), which `LoadAttr`
    /// pushes as it is. (A classmethod read that way is a `Method`: its
    /// function, which `LoadMethod` pushes with the class.)
    ClassValue(Value),
    /// A module's global (`math.sqrt`), by its slot: the value bound there
    /// now, when there is one. (The `Weak` keeps the module's address from
    /// being another's.)
    ModuleSlot(std::rc::Weak<crate::object::Module>, u32),
    /// A classmethod's function, read through an instance: `LoadMethod`
    /// pushes it with the instance's class when no instance attribute
    /// shadows it (`attr::classmethod_cached`, on the general path).
    ClassMethod(Value),
    /// A property's getter, read through an instance of a class with no
    /// `__getattr__` (which a getter's AttributeError would reach): the
    /// getter called with the instance, which no instance attribute hides.
    Property(Value),
    /// Anything else (descriptors, native objects): the general path.
    Other,
}

impl Code {
    /// The 1-based source line of instruction `ip`.
    pub fn line_at(&self, ip: usize) -> usize {
        let span = self.spans.get(ip).copied().unwrap_or_default();
        self.source.line_of(span.start)
    }
    /// True when entering the code makes cells (captured locals) or takes
    /// a closure's: see `call::prepare_cells`.
    #[inline]
    pub fn has_cells(&self) -> bool {
        !self.cellvars.is_empty() || !self.freevars.is_empty()
    }
    /// How many cells `MakeFunction` takes for a function of this code: one
    /// per free variable when it has a closure.
    #[inline]
    pub fn closure_len(&self) -> usize {
        if self.flags.has_closure {
            self.freevars.len()
        } else {
            0
        }
    }
    pub fn is_resumable(&self) -> bool {
        self.flags.generator || self.flags.coroutine || self.flags.async_generator
    }

    /// A readable listing of this code and the code objects nested in it;
    /// `module` (the one the code was compiled for) names its global slots.
    pub fn disassemble(&self, module: Option<&crate::object::Module>) -> String {
        let mut out = String::new();
        self.disassemble_into(&mut out, module);
        out
    }

    fn disassemble_into(&self, out: &mut String, module: Option<&crate::object::Module>) {
        let kind = if self.flags.async_generator {
            "async generator"
        } else if self.flags.coroutine {
            "coroutine"
        } else if self.flags.generator {
            "generator"
        } else if self.flags.class_body {
            "class body"
        } else {
            "code"
        };
        let _ = writeln!(
            out,
            "Disassembly of {} {} ({}:{}):",
            kind,
            self.qualname.as_str(),
            self.source.name,
            self.source.line_of(self.span.start)
        );
        if !self.varnames.is_empty() {
            let names: Vec<&str> = self.varnames.iter().map(|n| n.as_str()).collect();
            let _ = writeln!(out, "  locals: {}", names.join(", "));
        }
        let targets: std::collections::HashSet<u32> =
            self.ops.iter().filter_map(|op| op.jump_target()).chain(self.exc_table.iter().map(|e| e.target)).collect();
        let mut last_line = 0;
        for (i, op) in self.ops.iter().enumerate() {
            let line = self.line_at(i);
            let line_col = if line != last_line {
                last_line = line;
                format!("{line:>4}")
            } else {
                "    ".to_string()
            };
            let mark = if targets.contains(&(i as u32)) { ">>" } else { "  " };
            let _ = writeln!(out, "{line_col} {mark}{i:>5} {}", self.describe(&op, module));
        }
        if !self.exc_table.is_empty() {
            let _ = writeln!(out, "  exception table:");
            for e in &self.exc_table {
                let _ = writeln!(out, "    {} to {} -> {} [{}]", e.start, e.end, e.target, e.depth);
            }
        }
        for c in &self.consts {
            if let Value::Code(code) = c {
                out.push('\n');
                code.disassemble_into(out, module);
            }
        }
    }

    fn describe(&self, op: &Op, module: Option<&crate::object::Module>) -> String {
        let global = |i: u32| module.map(|m| m.name_of_slot(i).as_str().to_string()).unwrap_or_else(|| format!("slot {i}"));
        let name = |i: u32| self.names.get(i as usize).map(|n| n.as_str().to_string()).unwrap_or_default();
        let local = |i: u32| self.varnames.get(i as usize).map(|n| n.as_str().to_string()).unwrap_or_default();
        let konst = |i: u32| match self.consts.get(i as usize) {
            Some(Value::Code(c)) => format!("<code {}>", c.qualname.as_str()),
            Some(v) => crate::types::debug_repr(v),
            None => String::new(),
        };
        let opname = format!("{op:?}");
        let opname: String = opname.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let detail = match *op {
            _ if op.jump_target().is_some() => format!("to {}", op.jump_target().unwrap_or_default()),
            Op::LoadConst(i) | Op::KwNames(i) | Op::MakeFunction(i) | Op::Comprehension(i) => konst(i),
            Op::LoadFast(i)
            | Op::StoreFast(i)
            | Op::DeleteFast(i)
            | Op::LoadDeref(i)
            | Op::StoreDeref(i)
            | Op::DeleteDeref(i)
            | Op::LoadClosure(i)
            | Op::LoadClassDeref(i)
            | Op::ReturnLocal(i) => local(i),
            Op::LoadGlobal(i) | Op::StoreGlobal(i) | Op::DeleteGlobal(i) => global(i),
            Op::LoadName(i)
            | Op::StoreName(i)
            | Op::DeleteName(i)
            | Op::LoadAttr { name: i, .. }
            | Op::StoreAttr { name: i, .. }
            | Op::LoadAttrKeep { name: i, .. }
            | Op::StoreAttrKept { name: i, .. }
            | Op::DeleteAttr(i)
            | Op::LoadMethod { name: i, .. }
            | Op::ImportName(i)
            | Op::ImportFrom(i) => name(i),
            Op::Binary(b) => {
                let inplace = b & INPLACE != 0;
                format!("{}{}", crate::ops::binop_symbol(b & !INPLACE), if inplace { "=" } else { "" })
            }
            Op::Compare(c) => crate::ops::cmpop_symbol(c).to_string(),
            Op::CompareTuples { n, cmp } => format!("{n} items {}", crate::ops::cmpop_symbol(cmp)),
            Op::LoadInt(v) => v.to_string(),
            Op::LoadFastIntBinary { slot, binop, k } => {
                format!("{} {} {k}", local(slot as u32), crate::ops::binop_symbol(binop & !INPLACE))
            }
            Op::LoadFastIntCompare { slot, cmp, k } => format!("{} {} {k}", local(slot as u32), crate::ops::cmpop_symbol(cmp)),
            Op::LoadFastAttr { slot, name: i, .. }
            | Op::LoadFastStoreAttr { slot, name: i, .. }
            | Op::LoadFastMethod { slot, name: i, .. } => {
                format!("{}.{}", local(slot as u32), name(i as u32))
            }
            Op::Copy(n)
            | Op::Swap(n)
            | Op::Rot(n)
            | Op::Pull(n)
            | Op::MatchClass(n)
            | Op::BuildTuple(n)
            | Op::BuildList(n)
            | Op::BuildSet(n)
            | Op::BuildMap(n)
            | Op::BuildString(n)
            | Op::Call(n)
            | Op::CallMethod(n)
            | Op::CallEx(n)
            | Op::UnpackSequence(n)
            | Op::BuildSlice(n)
            | Op::Slice(n)
            | Op::StoreSlice(n)
            | Op::ListAppend(n)
            | Op::SetAdd(n)
            | Op::MapAdd(n)
            | Op::ListExtend(n)
            | Op::SetUpdate(n)
            | Op::DictUpdate(n)
            | Op::DictMerge(n)
            | Op::Raise(n)
            | Op::YieldValue(n)
            | Op::GetAwaitable(n) => n.to_string(),
            Op::Is(n) | Op::In(n) | Op::FormatValue(n) => n.to_string(),
            Op::UnpackEx(a, b) => format!("{a}, {b}"),
            _ => String::new(),
        };
        if detail.is_empty() {
            opname
        } else {
            format!("{opname:<18} {detail}")
        }
    }
}
