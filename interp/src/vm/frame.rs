//! Frames and the operand stack: the one place where the VM's `unsafe`
//! lives outside the dispatch loop's registers. Frames are written and read
//! field by field, and values move between the stack and generators as
//! plain words; each block says what keeps every value owned exactly once.
//! The compiler balances each code object's stack (checked in debug builds,
//! see `Op::stack_effect`), which is what lets `pop` skip its bounds test in
//! the common case.

use std::rc::Rc;

use crate::bytecode::Code;
use crate::exceptions::*;
use crate::object::*;
use crate::value::Value;

use super::*;

/// What a frame is, for returning and unwinding.
pub enum FrameKind {
    /// A function call: the result replaces the callee and its arguments.
    Call,
    /// A generator, coroutine or async generator frame.
    Gen { gen: Rc<Generator>, mode: ResumeMode, caller_exc: Value },
}

/// An activation record. Locals live on the value stack from `base`.
// `FrameKind` is kept flat here (`gen`, `mode`, `caller_exc`) so that a call
// frame is pushed with plain word stores: a 32-byte enum field was built on
// the Rust stack and copied with 16-byte loads that stall (see
// `push_frame_unchecked`).
pub struct Frame {
    pub code: Rc<Code>,
    pub ip: usize,
    pub base: usize,
    pub globals: Rc<Module>,
    /// The namespace of a class body.
    pub locals: Option<Rc<PyDict>>,
    /// The generator running in this frame; `None` for a function call.
    pub gen: Option<Rc<Generator>>,
    /// For a generator frame: how it hands results back.
    pub mode: ResumeMode,
    /// For a generator frame: the caller's exception being handled.
    pub caller_exc: Value,
}

impl Frame {
    /// A frame for `kind` at the start of `code`.
    pub fn new(code: Rc<Code>, ip: usize, base: usize, globals: Rc<Module>, kind: FrameKind) -> Frame {
        let (gen, mode, caller_exc) = match kind {
            FrameKind::Call => (None, ResumeMode::Native, Value::None),
            FrameKind::Gen { gen, mode, caller_exc } => (Some(gen), mode, caller_exc),
        };
        Frame { code, ip, base, globals, locals: None, gen, mode, caller_exc }
    }

    /// What the frame is, taken apart for returning and unwinding.
    pub fn into_kind(self) -> FrameKind {
        match self.gen {
            None => FrameKind::Call,
            Some(gen) => FrameKind::Gen { gen, mode: self.mode, caller_exc: self.caller_exc },
        }
    }
}

impl Vm {
    /// Push a frame for `code` whose locals start at `base`.
    #[inline]
    pub(crate) fn push_frame(&mut self, code: Rc<Code>, base: usize, globals: Rc<Module>, kind: FrameKind) -> PyResult<()> {
        if self.frames.len() >= self.recursion_limit {
            return Err(recursion_error());
        }
        self.push_frame_unchecked(Frame::new(code, 0, base, globals, kind));
        Ok(())
    }

    /// `frames.push` with the growth out of line (the call fast path's cost).
    // The fields are written one by one straight into the frame stack: a
    // `Frame` built on the Rust stack and then copied is written as words
    // and read back as 16-byte vectors, a load the CPU cannot forward from
    // its store buffer (the same stall as `Value::read_words` avoids).
    #[inline(always)]
    pub(crate) fn push_frame_unchecked(&mut self, f: Frame) {
        let Frame { code, ip, base, globals, locals, gen, mode, caller_exc } = f;
        if self.frames.len() == self.frames.capacity() {
            self.frames.reserve(64);
        }
        let len = self.frames.len();
        // SAFETY: `len < capacity` after the check above; every field is
        // written before the length covers the slot.
        unsafe {
            let p = self.frames.as_mut_ptr().add(len);
            std::ptr::addr_of_mut!((*p).code).write(code);
            std::ptr::addr_of_mut!((*p).ip).write(ip);
            std::ptr::addr_of_mut!((*p).base).write(base);
            std::ptr::addr_of_mut!((*p).globals).write(globals);
            std::ptr::addr_of_mut!((*p).locals).write(locals);
            std::ptr::addr_of_mut!((*p).gen).write(gen);
            std::ptr::addr_of_mut!((*p).mode).write(mode);
            Value::write_words(std::ptr::addr_of_mut!((*p).caller_exc), caller_exc);
            self.frames.set_len(len + 1);
        }
    }

    /// Pop the top frame when it is a plain call, field by field (see
    /// `push_frame_unchecked`), giving its base; `None` leaves a generator
    /// frame in place.
    #[inline(always)]
    pub(super) fn pop_call_frame(&mut self) -> Option<usize> {
        let len = self.frames.len();
        debug_assert!(len > 0);
        // SAFETY: the top frame exists (a frame is executing); its fields are
        // moved out before the length drops below it.
        unsafe {
            let p = self.frames.as_mut_ptr().add(len - 1);
            if (*p).gen.is_some() {
                return None;
            }
            let base = (*p).base;
            let code = std::ptr::addr_of!((*p).code).read();
            let globals = std::ptr::addr_of!((*p).globals).read();
            let locals = std::ptr::addr_of!((*p).locals).read();
            // A call frame's `caller_exc` is None: nothing to drop.
            self.frames.set_len(len - 1);
            drop(code);
            drop(globals);
            drop(locals);
            Some(base)
        }
    }

    /// Call the native function (or builtin class) at `self.stack[at]` with
    /// the `argc` values above it as positional arguments, replacing all of
    /// them with the result.
    // Only the common case is here, a fast-call native given at most four
    // arguments, so that this function keeps a small frame and few saved
    // registers; the rest is `call_native_general`. Each count has its own
    // straight-line copy (`call_fast_n`): a loop over the arguments cost
    // more than its body.
    #[inline(never)]
    pub(super) fn call_native_on_stack(&mut self, at: usize, argc: usize) -> PyResult<()> {
        debug_assert!(at + argc < self.stack.len());
        // SAFETY: the callee is on the stack, at `at`.
        let f = match unsafe { &*self.stack.as_ptr().add(at) } {
            Value::Native(nf) => match nf.imp {
                NativeImpl::Fast(f, _) => f,
                _ => return self.call_native_general(at, argc),
            },
            _ => return self.call_native_general(at, argc),
        };
        match argc {
            0 => self.call_fast_n::<0>(f, at),
            1 => self.call_fast_n::<1>(f, at),
            2 => self.call_fast_n::<2>(f, at),
            3 => self.call_fast_n::<3>(f, at),
            4 => self.call_fast_n::<4>(f, at),
            _ => self.call_native_general(at, argc),
        }
    }

    /// `call_native_on_stack` for the fast-call native `f` given `N`
    /// arguments: they are moved into a buffer on the Rust stack and lent to
    /// it (the operand stack may move while it runs); the callee stays in
    /// its slot, where the result goes.
    #[inline(always)]
    fn call_fast_n<const N: usize>(&mut self, f: FastFnPtr, at: usize) -> PyResult<()> {
        let mut buf = [const { std::mem::MaybeUninit::<Value>::uninit() }; N];
        // SAFETY: the arguments are moved out of the stack before its length
        // drops below them; the `N` slots of `buf` are initialized before
        // they are read and each is dropped once. The callee stays owned by
        // the stack (a native leaves the stack as long as it found it), and
        // its slot is found again after the call.
        unsafe {
            let p = self.stack.as_ptr().add(at);
            let b = buf.as_mut_ptr() as *mut Value;
            for k in 0..N {
                Value::write_words(b.add(k), Value::read_words(p.add(k + 1)));
            }
            self.stack.set_len(at + 1);
            let r = f(self, std::slice::from_raw_parts(b, N));
            for k in 0..N {
                Value::read_words(b.add(k)).discard();
            }
            debug_assert_eq!(self.stack.len(), at + 1);
            let slot = self.stack.as_mut_ptr().add(at);
            let callee = Value::read_words(slot);
            match r {
                Ok(v) => Value::write_words(slot, v),
                Err(e) => {
                    self.stack.set_len(at);
                    callee.discard();
                    return Err(e);
                }
            }
            callee.discard();
        }
        Ok(())
    }

    /// `call_native_on_stack` for the rest: a native taking `Args`, a
    /// builtin class, more than four arguments.
    #[cold]
    #[inline(never)]
    fn call_native_general(&mut self, at: usize, argc: usize) -> PyResult<()> {
        let mut args = Args::default();
        // SAFETY: the callee and its arguments are moved out of the stack
        // before its length drops below them.
        let callee = unsafe {
            let p = self.stack.as_ptr().add(at);
            for k in 1..=argc {
                args.pos.push(Value::read_words(p.add(k)));
            }
            let callee = Value::read_words(p);
            self.stack.set_len(at);
            callee
        };
        let r = match &callee {
            Value::Native(nf) => nf.call(self, args),
            Value::Class(cls) => self.call_class(cls, args),
            _ => unreachable!("a native callee or a builtin class"),
        };
        callee.discard();
        self.push(r?);
        Ok(())
    }

    /// A generator frame, popped, yields at `ip`: its values from `base` up
    /// move into the generator, which keeps the exception being handled and
    /// gives the caller's back.
    // Paid at every yield of a generator resumed by `for` or `yield from`
    // (once per level of delegation for each value): one borrow, no drops.
    // A resumed generator's saved stack is empty and its `exc` taken (see
    // `push_gen_frame_opt` and `Op::Send`), so both are written over.
    // Inlined: the call's saving and restoring of registers was a fifth
    // of its cost.
    #[inline(always)]
    pub(super) fn suspend_gen(&mut self, gen: &Generator, base: usize, ip: usize, delegating: bool, caller_exc: Value) {
        let mut st = gen.state.borrow_mut();
        debug_assert!(st.stack.is_empty() && st.exc.is_none());
        let n = self.stack.len() - base;
        if n > st.stack.capacity() {
            st.stack.reserve(n);
        }
        let exc = std::mem::replace(&mut self.cur_exc, caller_exc);
        // The caller's exception, seen through (see `resume_exc`), is not
        // the generator's own to keep.
        let own = if exc.ptr().is_some() && exc.ptr() == self.cur_exc.ptr() {
            exc.discard();
            Value::None
        } else {
            exc
        };
        // SAFETY: the `n` values above `base` move (one copy of their two
        // words each, no drop) into room reserved for them; both lengths
        // are set so that each value is owned exactly once.
        unsafe {
            Value::move_words(self.stack.as_ptr().add(base), st.stack.as_mut_ptr(), n);
            st.stack.set_len(n);
            self.stack.set_len(base);
        }
        st.set_exc(own);
        st.ip = ip as u32;
        st.status = GenStatus::Suspended;
        st.delegating = delegating;
        if gen.kind == GenKind::Coroutine {
            drop(st);
            crate::gc::track_suspended(gen);
        }
    }

    /// The exception being handled inside a generator being resumed: its
    /// own, or else the caller's, as CPython's exception-state stack shows
    /// the caller's through a generator that handles none (so an exception
    /// raised in `__aexit__` gets the body's exception as `__context__`).
    #[inline(always)]
    pub(crate) fn resume_exc(&self, gen_exc: Value) -> Value {
        if gen_exc.is_none() {
            // None needs no drop (the call to drop it was not inlined).
            std::mem::forget(gen_exc);
            self.cur_exc.clone()
        } else {
            gen_exc
        }
    }

    /// Pop the top frame, a generator's, field by field (see
    /// `push_frame_unchecked`): its base, generator, resume mode and the
    /// caller's exception being handled.
    #[inline(always)]
    pub(super) fn pop_gen_frame(&mut self) -> (usize, Rc<Generator>, ResumeMode, Value) {
        let len = self.frames.len();
        // SAFETY: the top frame exists (a frame is executing); its fields are
        // moved out before the length drops below it.
        unsafe {
            let p = self.frames.as_mut_ptr().add(len - 1);
            let base = (*p).base;
            let code = std::ptr::addr_of!((*p).code).read();
            let globals = std::ptr::addr_of!((*p).globals).read();
            let locals = std::ptr::addr_of!((*p).locals).read();
            let gen = std::ptr::addr_of!((*p).gen).read();
            let mode = std::ptr::addr_of!((*p).mode).read();
            let caller_exc = Value::read_words(std::ptr::addr_of!((*p).caller_exc));
            self.frames.set_len(len - 1);
            drop(code);
            drop(globals);
            drop(locals);
            (base, gen.expect("a generator frame"), mode, caller_exc)
        }
    }

    /// Drop the stack above `len`, without a call for immediates.
    #[inline(always)]
    pub(super) fn truncate_stack(&mut self, len: usize) {
        while self.stack.len() > len {
            self.pop().discard();
        }
    }

    // The operand stack's hot operations. `Vec::push`/`pop` are not inlined
    // into the dispatch loop and `pop` returns an `Option`; these are the
    // same operations with the rare cases (growth, underflow) out of line.
    #[inline(always)]
    pub(super) fn push(&mut self, v: Value) {
        let len = self.stack.len();
        if len == self.stack.capacity() {
            self.grow_stack();
        }
        // SAFETY: `len < capacity` after the check above.
        unsafe {
            Value::write_words(self.stack.as_mut_ptr().add(len), v);
            self.stack.set_len(len + 1);
        }
    }
    #[cold]
    #[inline(never)]
    pub(super) fn grow_stack(&mut self) {
        self.stack.reserve(self.stack.len().max(1024));
    }
    #[inline(always)]
    pub(super) fn pop(&mut self) -> Value {
        let len = self.stack.len();
        if len == 0 {
            stack_underflow();
        }
        // SAFETY: `len > 0`; the slot is moved out and the length shortened.
        unsafe {
            self.stack.set_len(len - 1);
            Value::read_words(self.stack.as_ptr().add(len - 1))
        }
    }
    #[inline(always)]
    pub(super) fn top(&self) -> &Value {
        match self.stack.last() {
            Some(v) => v,
            None => stack_underflow(),
        }
    }
}

/// The compiler balances every code object's stack; popping an empty one is a bug in it.
#[cold]
#[inline(never)]
pub(super) fn stack_underflow() -> ! {
    panic!("operand stack underflow")
}
