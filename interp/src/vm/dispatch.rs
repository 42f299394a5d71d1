//! The dispatch loop: one arm per hot instruction holding the operand
//! stack in registers, its fast cases inline and everything else handed to
//! `general_op` (see general.rs). `Binary`, `Compare` and `ForIter`
//! rewrite themselves into specialised forms as they run (see quicken.rs).

use std::rc::Rc;

use crate::bytecode::{cmp_mask, AttrWay, CachedAttr, Code, Op, INPLACE, NO_CACHE};
use crate::exceptions::*;
use crate::object::*;
use crate::types::{types, BuiltinType};
use crate::value::Value;

use super::quicken;
use super::*;

impl Vm {
    /// The dispatch loop: the common cases of the hot instructions, with the
    /// operand stack held in registers; everything else goes to `general_op`.
    // `reload!` sets all three registers even where one is not read again.
    // The store arms test whether their helper did the store: that is no
    // guard to fold into the pattern (`collapsible_match`).
    #[allow(unused_assignments, clippy::collapsible_match)]
    pub(super) fn dispatch(&mut self, entry: usize) -> PyResult<Halt> {
        'frame: loop {
            let mut fi = self.frames.len() - 1;
            // SAFETY: the frame at `fi` owns an `Rc` to this code and to its
            // module and stays on the frame stack while it is the running
            // frame; every op that pushes or pops frames switches with
            // `enter_top_frame!`, `continue 'frame` or `return`. Frames may
            // move when the Vec grows; the Code and the Module do not.
            let mut code: &Code = unsafe { &*Rc::as_ptr(&self.frames[fi].code) };
            let mut globals: &Module = unsafe { &*Rc::as_ptr(&self.frames[fi].globals) };
            let mut base = self.frames[fi].base;
            let mut ops = code.ops.as_ptr();
            // The next instruction, as a pointer into `ops` (one register fewer
            // than an index and a base); `ip_index!` gives the frame's index.
            let mut ip = unsafe { ops.add(self.frames[fi].ip) };
            // The operand stack in registers: `sp` is one past the top value,
            // `lp` the frame's first local, `limit` the end of the allocation.
            // The values from `self.stack.len()` up to `sp` belong to this loop
            // until `sync!` gives them back. Anything that may run code, raise
            // or touch `self.stack` happens between `sync!` and `reload!` (the
            // stack may have moved).
            let mut sp: *mut Value;
            let mut lp: *mut Value;
            let mut limit: *mut Value;
            macro_rules! reload {
                () => {{
                    let p = self.stack.as_mut_ptr();
                    sp = p.add(self.stack.len());
                    lp = p.add(base);
                    limit = p.add(self.stack.capacity());
                }};
            }
            // Make the top frame the running one (after a call pushed it or a
            // return popped the one above it); `sp` and `limit` stay.
            macro_rules! enter_top_frame {
                () => {{
                    fi = self.frames.len() - 1;
                    let f = self.frames.get_unchecked(fi);
                    code = &*Rc::as_ptr(&f.code);
                    globals = &*Rc::as_ptr(&f.globals);
                    base = f.base;
                    ops = code.ops.as_ptr();
                    ip = ops.add(f.ip);
                    lp = self.stack.as_mut_ptr().add(base);
                }};
            }
            macro_rules! ip_index {
                () => {
                    ip.offset_from(ops) as usize
                };
            }
            macro_rules! sync {
                () => {{
                    self.stack.set_len(sp.offset_from(self.stack.as_ptr()) as usize);
                }};
            }
            macro_rules! push {
                ($v:expr) => {{
                    let v = $v;
                    if sp == limit {
                        sync!();
                        self.grow_stack();
                        reload!();
                    }
                    Value::write_words(sp, v);
                    sp = sp.add(1);
                }};
            }
            macro_rules! pop {
                () => {{
                    sp = sp.sub(1);
                    Value::read_words(sp)
                }};
            }
            macro_rules! tri {
                ($e:expr) => {
                    match $e {
                        Ok(v) => v,
                        Err(e) => {
                            sync!();
                            self.frames[fi].ip = ip_index!();
                            return Err(e);
                        }
                    }
                };
            }
            // A comparison's result `b`: a conditional jump right after it is
            // taken at once, otherwise the bool is pushed.
            macro_rules! push_or_branch {
                ($b:expr) => {{
                    let b: bool = $b;
                    match *ip {
                        Op::PopJumpIfFalse(t) => ip = if b { ip.add(1) } else { ops.add(t as usize) },
                        Op::PopJumpIfTrue(t) => ip = if b { ops.add(t as usize) } else { ip.add(1) },
                        _ => push!(Value::bool(b)),
                    }
                }};
            }
            // A specialised binary instruction `$b`'s result, an
            // `Option<Value>` (`None`: its guard failed, it de-optimises and
            // runs again); both operands are immediates: overwriting them
            // drops nothing.
            macro_rules! binary_immediate {
                ($b:expr, $v:expr) => {{
                    if let Some(v) = $v {
                        sp = sp.sub(1);
                        Value::write_words(sp.sub(1), v);
                    } else {
                        ip = ip.sub(1);
                        quicken::deopt_binary(ip, $b);
                    }
                    continue;
                }};
            }
            // `x + y` of the two strs on top of the stack, in their place.
            macro_rules! concat_strs {
                ($x:expr, $y:expr) => {{
                    let v = Value::Str(Rc::new(PyStr::concat($x, $y)));
                    pop!().discard();
                    let lhs = Value::read_words(sp.sub(1));
                    Value::write_words(sp.sub(1), v);
                    lhs.discard();
                    continue;
                }};
            }
            // One run of the generic form `$form` (the running instruction)
            // counted off its wait, in place (see `quicken` on the rewrite).
            macro_rules! count_down {
                ($form:ident) => {{
                    if let Op::$form { wait, .. } = &mut *(ip.sub(1) as *mut Op) {
                        *wait -= 1;
                    }
                }};
            }
            // A specialised attribute instruction's guard failed: back to
            // its generic form, which runs the instruction again.
            // The top of the stack replaced by `$v`, the old value dropped.
            macro_rules! replace_top {
                ($v:expr) => {{
                    let v = $v;
                    let old = Value::read_words(sp.sub(1));
                    Value::write_words(sp.sub(1), v);
                    old.discard();
                }};
            }
            macro_rules! attr_deopt {
                () => {{
                    ip = ip.sub(1);
                    quicken::deopt_attr(ip);
                    continue;
                }};
            }
            // A specialised `ForIter(t)`'s step with `$next` (`None`: the
            // iterator is not of its kind, it de-optimises and runs again).
            macro_rules! for_iter_step {
                ($t:expr, $next:expr) => {{
                    let next = match &*sp.sub(1) {
                        Value::Iter(it) => $next(it),
                        _ => None,
                    };
                    match next {
                        Some(Some(v)) => push!(v),
                        Some(None) => {
                            pop!().discard();
                            ip = ops.add($t as usize);
                        }
                        None => {
                            ip = ip.sub(1);
                            quicken::deopt_for_iter(ip, $t);
                        }
                    }
                    continue;
                }};
            }
            // `LoadFast` of the local at `src` (also the first half of each
            // fused `LoadFast...` when its fast case does not apply); an
            // unbound local falls through to `general_op`, which raises.
            macro_rules! load_local {
                ($src:expr) => {{
                    let src: *mut Value = $src;
                    if !(*src).is_undef() {
                        push!((*src).clone());
                        continue;
                    }
                }};
            }
            // A plain function `f` at `fpos` called with its `argc` positional
            // parameters: a new frame whose locals start with the arguments.
            // With `init`, the frame runs `__init__` for the new instance in
            // the callee's slot, which its return gives back (see `return_plain`).
            macro_rules! call_plain {
                ($f:expr, $fpos:expr, $argc:expr) => {
                    call_plain!($f, $fpos, $argc, false)
                };
                ($f:expr, $fpos:expr, $argc:expr, $init:expr) => {{
                    let f: &Rc<Function> = $f;
                    if self.frames.len() < self.recursion_limit {
                        let fcode = f.code.clone();
                        let fglobals = f.globals.clone();
                        // The function itself does not move when pushing moves
                        // the stack (and `f` with it): its closure is read below.
                        let func_ptr = Rc::as_ptr(f);
                        let extra = fcode.nlocals as usize - $argc as usize;
                        let callee_base = $fpos.add(1).offset_from(self.stack.as_ptr()) as usize;
                        for _ in 0..extra {
                            push!(Value::Undef);
                        }
                        if fcode.has_cells() {
                            // Making a cell allocates but runs no program code.
                            let locals = std::slice::from_raw_parts_mut(self.stack.as_mut_ptr().add(callee_base), fcode.nlocals as usize);
                            crate::call::prepare_cells(&fcode, locals, &(*func_ptr).closure);
                        }
                        self.frames[fi].ip = ip_index!();
                        self.budget = self.budget.wrapping_sub(1);
                        if self.budget == 0 || crate::generator::finalizers_due() || INTERRUPTED.load(Ordering::Relaxed) {
                            // A signal handler or a finalizer may run: it may grow the stack.
                            sync!();
                            tri!(self.check_interrupt());
                            reload!();
                        }
                        // The new frame's state is at hand: set it, rather than
                        // read it back from the frame just pushed.
                        let code_ptr = Rc::as_ptr(&fcode);
                        let globals_ptr = Rc::as_ptr(&fglobals);
                        self.push_frame_unchecked(Frame::new(fcode, 0, callee_base, fglobals, FrameKind::Call));
                        fi += 1;
                        if $init {
                            self.frames.get_unchecked_mut(fi).mode = ResumeMode::Init;
                        }
                        code = &*code_ptr;
                        globals = &*globals_ptr;
                        base = callee_base;
                        ops = code.ops.as_ptr();
                        ip = ops;
                        lp = self.stack.as_mut_ptr().add(base);
                        continue;
                    }
                }};
            }
            // A plain function `f` given `$argc` of its positional parameters,
            // the rest having defaults: the defaults are pushed after the
            // arguments.
            macro_rules! call_with_defaults {
                ($f:expr, $argc:expr) => {
                    call_with_defaults!($f, $argc, false)
                };
                ($f:expr, $argc:expr, $init:expr) => {{
                    if self.frames.len() < self.recursion_limit {
                        // Pushing may move the stack, and `$f` with it.
                        let f: Rc<Function> = $f.clone();
                        let defaults = missing_defaults(&f, $argc).unwrap_or_default();
                        for v in defaults {
                            push!(v.clone());
                        }
                        let argc = f.code.argcount;
                        let fpos = sp.sub(argc as usize + 1);
                        call_plain!(&f, fpos, argc, $init);
                    }
                }};
            }
            // [callee, `$n` args] becomes [`$callee`, `$this`, args]: the
            // arguments move up one slot and the old callee is dropped.
            // Evaluates to the callee's slot.
            macro_rules! insert_self {
                ($n:expr, $callee:expr, $this:expr) => {{
                    let callee = $callee;
                    let this = $this;
                    push!(Value::Undef);
                    let fpos = sp.sub($n as usize + 2);
                    std::ptr::copy(fpos.add(1), fpos.add(2), $n as usize);
                    Value::write_words(fpos.add(1), this);
                    let old = Value::read_words(fpos);
                    Value::write_words(fpos, callee);
                    old.discard();
                    fpos
                }};
            }
            // A plain call frame returns `v`: its values go, the caller gets
            // `v` (or, from an `__init__` run by `Call`, the new instance).
            macro_rules! return_plain {
                ($v:expr) => {{
                    let mut v = $v;
                    let callee = lp.sub(1);
                    let mut bad_init = None;
                    let mut binary = None;
                    match self.frames.get_unchecked(fi).mode {
                        ResumeMode::Init => {
                            if !v.is_none() {
                                bad_init = Some(init_returned(&v));
                            }
                            v.discard();
                            v = (*callee).clone();
                        }
                        ResumeMode::Binary(op) => binary = Some(op),
                        _ => {}
                    }
                    while sp > callee {
                        pop!().discard();
                    }
                    self.pop_call_frame();
                    if self.frames.len() == entry {
                        sync!();
                        return Ok(Halt::Return(v));
                    }
                    if let Some(e) = bad_init {
                        // Raised in the caller, after `__init__` returned.
                        v.discard();
                        enter_top_frame!();
                        sync!();
                        self.frames[fi].ip = ip_index!();
                        return Err(e);
                    }
                    if let Some(op) = binary {
                        // <a> <b> below: the result replaces them, unless
                        // the method declined and the protocol goes on, or
                        // an item method's result is not the operator's.
                        enter_top_frame!();
                        if op & crate::ops::ITEM_MODE == 0 && !matches!(v, Value::NotImplemented) {
                            let a = Value::read_words(sp.sub(2));
                            let b = Value::read_words(sp.sub(1));
                            sp = sp.sub(1);
                            Value::write_words(sp.sub(1), v);
                            a.discard();
                            b.discard();
                            continue;
                        }
                        sync!();
                        let r = self.operator_method_returned(op, v);
                        reload!();
                        tri!(r);
                        continue;
                    }
                    push!(v);
                    enter_top_frame!();
                    continue;
                }};
            }
            // Resume generator `g` (suspended, or new when `$status` says
            // Created) in a new frame above the stack's top, resumed in
            // `$mode`: what `push_gen_frame` does, with the values moved in
            // registers (calling it here costs an `await` of a coroutine 7%
            // more instructions). `$send` is what the paused `yield`
            // evaluates to; a new generator has no `yield` to give it to.
            macro_rules! resume_gen {
                ($g:expr, $status:expr, $send:expr, $mode:expr) => {{
                    let g: Rc<Generator> = $g;
                    let send: Value = $send;
                    let new_base = sp.offset_from(self.stack.as_ptr()) as usize;
                    let mut st = g.state.borrow_mut();
                    let n = st.stack.len();
                    while (limit.offset_from(sp) as usize) < n + 1 {
                        sync!();
                        self.grow_stack();
                        reload!();
                    }
                    // The saved values move up in one copy (see `suspend_gen`),
                    // into room for them and the sent value.
                    Value::move_words(st.stack.as_ptr(), sp, n);
                    st.stack.set_len(0);
                    sp = sp.add(n);
                    if $status == GenStatus::Created {
                        send.discard();
                    } else {
                        Value::write_words(sp, send);
                        sp = sp.add(1);
                    }
                    st.status = GenStatus::Running;
                    let gip = skip_jump_to_send(&g.code, st.ip as usize);
                    let gglobals = st.globals.clone();
                    let gen_exc = st.take_exc();
                    drop(st);
                    let gen_exc = self.resume_exc(gen_exc);
                    let caller_exc = std::mem::replace(&mut self.cur_exc, gen_exc);
                    self.frames[fi].ip = ip_index!();
                    let gcode = g.code.clone();
                    let kind = FrameKind::Gen { gen: g, mode: $mode, caller_exc };
                    self.push_frame_unchecked(Frame::new(gcode, gip, new_base, gglobals, kind));
                    enter_top_frame!();
                    continue;
                }};
            }
            // A native call may have allocated past --max-memory (a list
            // growing in append): its MemoryError belongs to this call's
            // line, not to the next backward jump.
            macro_rules! memory_check {
                () => {{
                    if INTERRUPTED.load(Ordering::Relaxed) && crate::limits::memory_over_pending() {
                        sync!();
                        self.frames.get_unchecked_mut(fi).ip = ip_index!();
                        let r = self.interrupt_now();
                        reload!();
                        tri!(r);
                    }
                }};
            }
            // The callee at `fpos`, the stack's top, gives way to the call's
            // result `v` (dropping a callee runs no code).
            macro_rules! replace_callee {
                ($fpos:expr, $v:expr) => {{
                    let callee = Value::read_words($fpos);
                    Value::write_words($fpos, $v);
                    callee.discard();
                }};
            }
            // A native function at `fpos` called with the `argc` values above it.
            macro_rules! call_native {
                ($fpos:expr, $argc:expr) => {{
                    let at = $fpos.offset_from(self.stack.as_ptr()) as usize;
                    sync!();
                    self.frames.get_unchecked_mut(fi).ip = ip_index!();
                    if crate::generator::finalizers_due() {
                        crate::generator::run_finalizers(self);
                    }
                    let r = self.call_native_on_stack(at, $argc as usize);
                    reload!();
                    tri!(r);
                    memory_check!();
                    if self.block_request.is_some() && entry == 0 {
                        sync!();
                        return Ok(Halt::Blocked);
                    }
                    continue;
                }};
            }
            // SAFETY: the compiler balances every code object's stack, so the
            // pops and peeks below never go under the frame's values; `ip`
            // stays inside `ops` (every code object ends in a return or a
            // raise, and jump targets are resolved labels); pushes check
            // `limit`; `sp`, `lp` and `limit` are refreshed whenever
            // `self.stack` may have been reallocated.
            unsafe {
                reload!();
                loop {
                    debug_assert!(ip_index!() < code.ops.len());
                    debug_assert!(sp >= lp);
                    let op = *ip;
                    ip = ip.add(1);
                    match op {
                        Op::Nop => continue,
                        Op::Pop => {
                            pop!().discard();
                            continue;
                        }
                        Op::Dup => {
                            push!((*sp.sub(1)).clone());
                            continue;
                        }
                        Op::Copy(n) => {
                            push!((*sp.sub(n as usize)).clone());
                            continue;
                        }
                        Op::Swap(n) => {
                            let a = Value::read_words(sp.sub(1));
                            let b = Value::read_words(sp.sub(n as usize));
                            Value::write_words(sp.sub(1), b);
                            Value::write_words(sp.sub(n as usize), a);
                            continue;
                        }
                        Op::LoadConst(i) => {
                            push!(code.consts.get_unchecked(i as usize).clone());
                            continue;
                        }
                        Op::LoadNone => {
                            push!(Value::None);
                            continue;
                        }
                        Op::KwNames(i) => {
                            if let Value::Tuple(t) = code.consts.get_unchecked(i as usize) {
                                self.kwnames = Some(t.clone());
                            }
                            continue;
                        }
                        Op::LoadInt(i) => {
                            push!(Value::Int(i as i64));
                            continue;
                        }
                        Op::LoadFast(i) => {
                            let src = lp.add(i as usize);
                            load_local!(src);
                        }
                        Op::LoadFastIntBinary { slot, binop, k } => {
                            let src = lp.add(slot as usize);
                            if let Value::Int(x) = &*src {
                                if let Some(v) = int_binary_fast(binop, *x, k as i64) {
                                    push!(v);
                                    ip = ip.add(2);
                                    continue;
                                }
                            }
                            load_local!(src);
                        }
                        Op::LoadFastIntCompare { slot, cmp, k } => {
                            let src = lp.add(slot as usize);
                            if let Value::Int(x) = &*src {
                                let b = crate::ops::cmp_ord(cmp, x.cmp(&(k as i64)));
                                ip = ip.add(2);
                                push_or_branch!(b);
                                continue;
                            }
                            load_local!(src);
                        }
                        Op::LoadFastAttr { slot, name, cache } => {
                            let src = lp.add(slot as usize);
                            if cache != NO_CACHE {
                                if let Some(v) = load_attr_cached(code, name as u32, cache, &*src) {
                                    push!(v);
                                    ip = ip.add(1);
                                    continue;
                                }
                            }
                            load_local!(src);
                        }
                        Op::LoadFastMethod { slot, name, cache } => {
                            let src = lp.add(slot as usize);
                            if cache != NO_CACHE {
                                if let Some(m) = method_cached(code, name as u32, cache, &*src) {
                                    push!(m);
                                    push!((*src).clone());
                                    ip = ip.add(1);
                                    continue;
                                }
                            }
                            load_local!(src);
                        }
                        Op::LoadFastStoreAttr { slot, name, cache } => {
                            // <v>, the object in the local
                            let src = lp.add(slot as usize);
                            if cache != NO_CACHE && store_attr_cached(code, name as u32, cache, &*src, sp.sub(1)) {
                                sp = sp.sub(1);
                                ip = ip.add(1);
                                continue;
                            }
                            load_local!(src);
                        }
                        Op::StoreFast(i) => {
                            let v = pop!();
                            let dst = lp.add(i as usize);
                            let old = Value::read_words(dst);
                            Value::write_words(dst, v);
                            old.discard();
                            continue;
                        }
                        Op::LoadDeref(i) => {
                            if let Value::Cell(c) = &*lp.add(i as usize) {
                                let v = c.v.borrow().clone();
                                if !v.is_undef() {
                                    push!(v);
                                    continue;
                                }
                            }
                        }
                        Op::LoadClosure(i) => {
                            // The cell itself, for a closure being made.
                            push!((*lp.add(i as usize)).clone());
                            continue;
                        }
                        Op::LoadGlobal(slot) => {
                            // No borrow flag: nothing holds a borrow of a
                            // module's slots or builtin cache across an
                            // instruction, and a clone runs no code.
                            let v = (&*globals.globals.as_ptr()).get_unchecked(slot as usize).clone();
                            if !v.is_undef() {
                                push!(v);
                                continue;
                            }
                            if let Some((epoch, v)) = (&*globals.builtin_cache.as_ptr()).get(slot as usize) {
                                if *epoch == self.builtins_epoch {
                                    push!(v.clone());
                                    continue;
                                }
                            }
                        }
                        Op::StoreGlobal(slot) => {
                            let v = pop!();
                            let old = std::mem::replace(globals.globals.borrow_mut().get_unchecked_mut(slot as usize), v);
                            old.discard();
                            continue;
                        }
                        Op::Binary(b) => {
                            // First run: rewritten into its specialised form, then run again.
                            ip = ip.sub(1);
                            quicken::specialise_binary(ip, b, 0, &*sp.sub(2), &*sp.sub(1));
                            continue;
                        }
                        Op::BinaryAddInt(b) => binary_immediate!(
                            b,
                            match (&*sp.sub(2), &*sp.sub(1)) {
                                (Value::Int(x), Value::Int(y)) => x.checked_add(*y).map(Value::Int),
                                _ => None,
                            }
                        ),
                        Op::BinarySubInt(b) => binary_immediate!(
                            b,
                            match (&*sp.sub(2), &*sp.sub(1)) {
                                (Value::Int(x), Value::Int(y)) => x.checked_sub(*y).map(Value::Int),
                                _ => None,
                            }
                        ),
                        Op::BinaryAddFloat(b) => {
                            binary_immediate!(b, quicken::float_operands(&*sp.sub(2), &*sp.sub(1)).map(|(x, y)| Value::float(x + y)))
                        }
                        Op::BinarySubFloat(b) => {
                            binary_immediate!(b, quicken::float_operands(&*sp.sub(2), &*sp.sub(1)).map(|(x, y)| Value::float(x - y)))
                        }
                        Op::BinaryMulFloat(b) => {
                            binary_immediate!(b, quicken::float_operands(&*sp.sub(2), &*sp.sub(1)).map(|(x, y)| Value::float(x * y)))
                        }
                        Op::BinaryNum(b) => binary_immediate!(b, binary_fast(b, &*sp.sub(2), &*sp.sub(1))),
                        Op::BinaryAddStr(b) => {
                            if let (Value::Str(x), Value::Str(y)) = (&*sp.sub(2), &*sp.sub(1)) {
                                concat_strs!(x, y);
                            }
                            ip = ip.sub(1);
                            quicken::deopt_binary(ip, b);
                            continue;
                        }
                        Op::BinaryNative(b) => {
                            if !matches!(&*sp.sub(2), Value::Object(_)) {
                                ip = ip.sub(1);
                                quicken::deopt_binary(ip, b);
                                continue;
                            }
                            // The hook may run code (a context's attribute).
                            sync!();
                            self.frames[fi].ip = ip_index!();
                            let r = self.binary_native(b);
                            reload!();
                            match r {
                                Some(Ok(())) => continue,
                                Some(Err(e)) => return Err(e),
                                // Declined: the general path.
                                None => {}
                            }
                        }
                        Op::BinaryGeneric { op: b, backoff, wait } => {
                            if wait == 0 {
                                ip = ip.sub(1);
                                quicken::specialise_binary(ip, b, backoff, &*sp.sub(2), &*sp.sub(1));
                                continue;
                            }
                            count_down!(BinaryGeneric);
                            if let Some(v) = binary_fast(b, &*sp.sub(2), &*sp.sub(1)) {
                                // Both operands are immediates (binary_fast
                                // said so): overwriting them drops nothing.
                                sp = sp.sub(1);
                                Value::write_words(sp.sub(1), v);
                                continue;
                            }
                            if b & !INPLACE == crate::ops::ADD {
                                if let (Value::Str(x), Value::Str(y)) = (&*sp.sub(2), &*sp.sub(1)) {
                                    concat_strs!(x, y);
                                }
                            }
                        }
                        Op::Compare(c) => {
                            // First run: rewritten into its specialised form, then run again.
                            ip = ip.sub(1);
                            quicken::specialise_compare(ip, c, 0, &*sp.sub(2), &*sp.sub(1));
                            continue;
                        }
                        Op::CompareInt(mask) => {
                            if let (Value::Int(x), Value::Int(y)) = (&*sp.sub(2), &*sp.sub(1)) {
                                let b = quicken::mask_accepts(mask, Some(x.cmp(y)));
                                sp = sp.sub(2);
                                push_or_branch!(b);
                                continue;
                            }
                            ip = ip.sub(1);
                            quicken::deopt_compare(ip, mask);
                            continue;
                        }
                        Op::CompareFloat(mask) => {
                            if let (Value::Float(x), Value::Float(y)) = (&*sp.sub(2), &*sp.sub(1)) {
                                let b = quicken::mask_accepts(mask, x.get().partial_cmp(&y.get()));
                                sp = sp.sub(2);
                                push_or_branch!(b);
                                continue;
                            }
                            ip = ip.sub(1);
                            quicken::deopt_compare(ip, mask);
                            continue;
                        }
                        Op::CompareStr(mask) => {
                            if let (Value::Str(x), Value::Str(y)) = (&*sp.sub(2), &*sp.sub(1)) {
                                let b = quicken::mask_accepts(mask, Some(quicken::str_order(x, y)));
                                pop!().discard();
                                pop!().discard();
                                push_or_branch!(b);
                                continue;
                            }
                            ip = ip.sub(1);
                            quicken::deopt_compare(ip, mask);
                            continue;
                        }
                        Op::CompareNative(c) => {
                            if !matches!(&*sp.sub(2), Value::Object(_)) {
                                ip = ip.sub(1);
                                quicken::deopt_compare(ip, cmp_mask(c));
                                continue;
                            }
                            sync!();
                            self.frames[fi].ip = ip_index!();
                            let r = self.compare_native(c);
                            reload!();
                            match r {
                                Some(Ok(Value::Bool(b))) => {
                                    push_or_branch!(b.get());
                                    continue;
                                }
                                Some(Ok(v)) => {
                                    push!(v);
                                    continue;
                                }
                                Some(Err(e)) => return Err(e),
                                None => {}
                            }
                        }
                        Op::CompareGeneric { cmp: c, backoff, wait } => {
                            if wait == 0 {
                                ip = ip.sub(1);
                                quicken::specialise_compare(ip, c, backoff, &*sp.sub(2), &*sp.sub(1));
                                continue;
                            }
                            count_down!(CompareGeneric);
                            if let (Value::Int(x), Value::Int(y)) = (&*sp.sub(2), &*sp.sub(1)) {
                                let b = crate::ops::cmp_ord(c, x.cmp(y));
                                sp = sp.sub(2);
                                push_or_branch!(b);
                                continue;
                            }
                            if let (Value::Float(x), Value::Float(y)) = (&*sp.sub(2), &*sp.sub(1)) {
                                // NaN (no ordering) takes the general path.
                                if let Some(o) = x.get().partial_cmp(&y.get()) {
                                    let b = crate::ops::cmp_ord(c, o);
                                    sp = sp.sub(2);
                                    push_or_branch!(b);
                                    continue;
                                }
                            }
                            // `obj == Color.RED`: identity for instances without `__eq__`.
                            if let Some(b) = crate::ops::instances_compare(c, &*sp.sub(2), &*sp.sub(1)) {
                                pop!().discard();
                                pop!().discard();
                                push_or_branch!(b);
                                continue;
                            }
                        }
                        Op::ListAppend(n) => {
                            // A list comprehension's append: <list> ... <v>
                            if let Value::List(l) = &*sp.sub(n as usize + 1) {
                                let v = pop!();
                                l.push(v);
                                continue;
                            }
                        }
                        Op::Is(neg) => {
                            let rhs = pop!();
                            let lhs = pop!();
                            let r = lhs.is(&rhs) != (neg == 1);
                            lhs.discard();
                            rhs.discard();
                            push!(Value::bool(r));
                            continue;
                        }
                        Op::DeleteSubscr => {
                            if del_item_on_stack(sp) {
                                sp = sp.sub(2);
                                continue;
                            }
                        }
                        Op::In(neg) => {
                            if let Some(b) = contains_on_stack(sp) {
                                sp = sp.sub(2);
                                push_or_branch!(b != (neg == 1));
                                continue;
                            }
                        }
                        Op::Not => {
                            if let Value::Bool(b) = &*sp.sub(1) {
                                let v = Value::bool(!b.get());
                                Value::write_words(sp.sub(1), v);
                                continue;
                            }
                        }
                        Op::Jump(t) => {
                            self.budget = self.budget.wrapping_sub(1);
                            // Ctrl-C is seen at the next jump, not only when the
                            // budget runs out: an iteration may take long.
                            if self.budget == 0 || INTERRUPTED.load(Ordering::Relaxed) {
                                // Checked before jumping: an exception raised here
                                // belongs to the loop's body (its try), not to the
                                // code before the loop.
                                sync!();
                                self.frames[fi].ip = ip_index!();
                                tri!(self.check_interrupt());
                                if self.preempt && entry == 0 && self.worker_depth == Some(self.native_depth) {
                                    self.frames[fi].ip = t as usize;
                                    return Ok(Halt::Blocked);
                                }
                                reload!();
                            }
                            ip = ops.add(t as usize);
                            continue;
                        }
                        Op::PopJumpIfFalse(t) | Op::PopJumpIfTrue(t) => {
                            if let Some(b) = (*sp.sub(1)).plain_truth() {
                                pop!().discard();
                                if b == matches!(op, Op::PopJumpIfTrue(_)) {
                                    ip = ops.add(t as usize);
                                }
                                continue;
                            }
                        }
                        Op::JumpIfFalseOrPop(t) | Op::JumpIfTrueOrPop(t) => {
                            if let Value::Bool(b) = &*sp.sub(1) {
                                if b.get() == matches!(op, Op::JumpIfTrueOrPop(_)) {
                                    ip = ops.add(t as usize);
                                } else {
                                    sp = sp.sub(1);
                                }
                                continue;
                            }
                        }
                        Op::BuildList(0) => {
                            // The start of a list comprehension.
                            push!(empty_list(result_room(code, lp, ip == ops.add(1))));
                            continue;
                        }
                        Op::BuildMap(0) => {
                            push!(empty_dict(result_room(code, lp, ip == ops.add(1))));
                            continue;
                        }
                        Op::MapAdd(n) => {
                            // A dict comprehension's insertion: <dict> ... <k> <v>.
                            // Comparing an int or str key with a colliding one
                            // may run an `__eq__`: the stack is synced for it.
                            if let (Value::Dict(d), Value::Int(_) | Value::Str(_)) = (&*sp.sub(n as usize + 2), &*sp.sub(2)) {
                                let d = d.clone();
                                let v = pop!();
                                let k = pop!();
                                sync!();
                                self.frames[fi].ip = ip_index!();
                                let r = self.dict_set(&d, k, v);
                                reload!();
                                tri!(r);
                                continue;
                            }
                        }
                        Op::MakeFunction(i) => {
                            // A function with no defaults or annotations (every
                            // comprehension's): its closure is the cells on the
                            // stack, if it has one.
                            if let Value::Code(fcode) = code.consts.get_unchecked(i as usize) {
                                let fl = &fcode.flags;
                                if !fl.has_annotations && !fl.has_kwdefaults && !fl.has_defaults {
                                    let n = fcode.closure_len();
                                    sp = sp.sub(n);
                                    let closure = values_from(sp, n);
                                    let fglobals = self.frames.get_unchecked(fi).globals.clone();
                                    push!(super::general::function_value(fcode.clone(), fglobals, Vec::new(), Vec::new(), closure, None));
                                    continue;
                                }
                            }
                        }
                        Op::GetIter => {
                            // `for x in <list>` and every comprehension start here.
                            if let Some(it) = crate::iter::iter_builtin(&*sp.sub(1)) {
                                let v = Value::read_words(sp.sub(1));
                                Value::write_words(sp.sub(1), it);
                                v.discard();
                                continue;
                            }
                        }
                        // An f-string's pieces: a str formats as itself.
                        Op::FormatValue(0) if matches!(*sp.sub(1), Value::Str(_)) => continue,
                        Op::BuildString(n) => {
                            let first = sp.sub(n as usize);
                            let s = string_from(first, n as usize);
                            sp = first;
                            push!(s);
                            continue;
                        }
                        Op::BuildTuple(n) => {
                            let first = sp.sub(n as usize);
                            let t = tuple_from(first, n as usize);
                            sp = first;
                            push!(t);
                            continue;
                        }
                        Op::ForIter(t) => {
                            // First run: rewritten into its specialised form, then run again.
                            ip = ip.sub(1);
                            quicken::specialise_for_iter(ip, t, 0, &*sp.sub(1));
                            continue;
                        }
                        Op::ForIterRange(t) => for_iter_step!(t, crate::iter::next_range),
                        Op::ForIterList(t) => for_iter_step!(t, crate::iter::next_list),
                        Op::ForIterTuple(t) => for_iter_step!(t, crate::iter::next_tuple),
                        Op::ForIterPairs(t) => {
                            // `for k, v in d.items()` (or an enumerate, a zip):
                            // the pair goes on the stack as the `UnpackSequence(2)`
                            // after this leaves it, with no tuple.
                            let next = match &*sp.sub(1) {
                                Value::Iter(it) => crate::iter::next_item_pair(it),
                                _ => None,
                            };
                            match next {
                                Some(Some((k, v))) => {
                                    push!(v);
                                    push!(k);
                                    ip = ip.add(1);
                                }
                                Some(None) => {
                                    pop!().discard();
                                    ip = ops.add(t as usize);
                                }
                                None => {
                                    ip = ip.sub(1);
                                    quicken::deopt_for_iter(ip, t);
                                }
                            }
                            continue;
                        }
                        Op::ForIterGeneric { target: t, backoff, wait } => {
                            if wait == 0 {
                                ip = ip.sub(1);
                                quicken::specialise_for_iter(ip, t, backoff, &*sp.sub(1));
                                continue;
                            }
                            count_down!(ForIterGeneric);
                            match &*sp.sub(1) {
                                Value::Iter(it) => {
                                    if let Op::UnpackSequence(2) = *ip {
                                        // `for k, v in d.items()`: the pair goes on the
                                        // stack as the unpacking leaves it, with no tuple.
                                        match crate::iter::next_item_pair(it) {
                                            Some(Some((k, v))) => {
                                                push!(v);
                                                push!(k);
                                                ip = ip.add(1);
                                                continue;
                                            }
                                            Some(None) => {
                                                pop!().discard();
                                                ip = ops.add(t as usize);
                                                continue;
                                            }
                                            None => {}
                                        }
                                    }
                                    let next = match crate::iter::next_fast(it) {
                                        None => crate::iter::next_fast_other(it),
                                        next => next,
                                    };
                                    match next {
                                        Some(Some(v)) => {
                                            push!(v);
                                            continue;
                                        }
                                        Some(None) => {
                                            pop!().discard();
                                            ip = ops.add(t as usize);
                                            continue;
                                        }
                                        None => {}
                                    }
                                }
                                Value::Generator(g) if g.kind == GenKind::Generator => {
                                    // `for x in gen`: the generator runs in a frame of
                                    // this loop until it yields to `StoreFast` here.
                                    let (status, delegating) = gen_status(g);
                                    if matches!(status, GenStatus::Suspended | GenStatus::Created)
                                        && self.frames.len() < self.recursion_limit
                                    {
                                        let mut g = g.clone();
                                        if delegating {
                                            g = crate::generator::chain_leaf(g);
                                        }
                                        resume_gen!(g, status, Value::None, ResumeMode::ForIter(t));
                                    }
                                }
                                _ => {}
                            }
                        }
                        Op::UnpackSequence(n) => {
                            // A tuple or list of the right length: its items go
                            // straight onto the stack, last first, with no
                            // temporary vector.
                            // The `StoreFast`s that follow (`a, b = t`, `for k, v
                            // in ...`) are done here, item by item, saving a
                            // dispatch each; what is left goes on the stack.
                            macro_rules! unpack_items {
                                ($items:expr) => {{
                                    let items: &[Value] = $items;
                                    let mut k = 0;
                                    while k < items.len() {
                                        let Op::StoreFast(slot) = *ip else { break };
                                        let dst = lp.add(slot as usize);
                                        let old = Value::read_words(dst);
                                        Value::write_words(dst, items.get_unchecked(k).clone());
                                        old.discard();
                                        ip = ip.add(1);
                                        k += 1;
                                    }
                                    for v in items[k..].iter().rev() {
                                        Value::write_words(sp, v.clone());
                                        sp = sp.add(1);
                                    }
                                }};
                            }
                            let n = n as usize;
                            let room = limit.offset_from(sp) as usize;
                            let done = match &*sp.sub(1) {
                                Value::Tuple(t) if t.items.len() == n && n < room => {
                                    let seq = Value::read_words(sp.sub(1));
                                    sp = sp.sub(1);
                                    if let Value::Tuple(t) = &seq {
                                        unpack_items!(&t.items);
                                    }
                                    seq.discard();
                                    true
                                }
                                Value::List(l) if l.len() == n && n < room => {
                                    let seq = Value::read_words(sp.sub(1));
                                    sp = sp.sub(1);
                                    if let Value::List(l) = &seq {
                                        unpack_items!(&l.borrow());
                                    }
                                    seq.discard();
                                    true
                                }
                                _ => false,
                            };
                            if done {
                                continue;
                            }
                        }
                        Op::Subscr => {
                            if let Some(v) = subscr_fast(&*sp.sub(2), &*sp.sub(1)) {
                                pop!().discard();
                                let c = Value::read_words(sp.sub(1));
                                Value::write_words(sp.sub(1), v);
                                c.discard();
                                continue;
                            }
                            // `c[i]` of an instance whose `__getitem__` is a plain
                            // function: called as `Call` calls it, [c, i] becoming
                            // [f, c, i] (the result takes the callee's slot).
                            if matches!(*sp.sub(2), Value::Instance(_)) && self.frames.len() < self.recursion_limit {
                                if let Some(f) = crate::ops::item_method_first(&*sp.sub(2), crate::ops::ItemMethod::GetItem) {
                                    push!(Value::Undef);
                                    let fpos = sp.sub(3);
                                    std::ptr::copy(fpos, fpos.add(1), 2);
                                    Value::write_words(fpos, Value::Function(f));
                                    if let Value::Function(f) = &*fpos {
                                        call_plain!(f, fpos, 2);
                                    }
                                }
                            }
                        }
                        Op::SubscrKeep => {
                            if let Some(v) = subscr_fast(&*sp.sub(2), &*sp.sub(1)) {
                                push!(v);
                                continue;
                            }
                        }
                        Op::Slice(n) => {
                            // <c> <lo> <hi> [<step>]
                            let n = n as usize;
                            let parts = std::slice::from_raw_parts(sp.sub(n), n);
                            if let Some(v) = crate::types::slice_plain(&*sp.sub(n + 1), parts) {
                                // The parts are ints or None: immediates, nothing to drop.
                                sp = sp.sub(n);
                                let c = Value::read_words(sp.sub(1));
                                Value::write_words(sp.sub(1), v);
                                c.discard();
                                continue;
                            }
                        }
                        Op::StoreSlice(n) => {
                            // <v> <c> <lo> <hi> [<step>]
                            let n = n as usize;
                            if let Value::List(l) = &*sp.sub(n + 1) {
                                let parts = std::slice::from_raw_parts(sp.sub(n), n);
                                if crate::types::list::assign_slice_plain(l, parts, &*sp.sub(n + 2)) {
                                    // The parts are ints or None, as `assign_slice_plain` required.
                                    sp = sp.sub(n);
                                    pop!().discard();
                                    pop!().discard();
                                    continue;
                                }
                            }
                        }
                        Op::StoreSubscr => {
                            // <v> <c> <i>
                            if store_subscr_fast(&*sp.sub(2), sp.sub(1), sp.sub(3)) {
                                let c = Value::read_words(sp.sub(2));
                                sp = sp.sub(3);
                                c.discard();
                                continue;
                            }
                        }
                        Op::StoreSubscrKept => {
                            // <c> <i> <v>
                            if store_subscr_fast(&*sp.sub(3), sp.sub(2), sp.sub(1)) {
                                let c = Value::read_words(sp.sub(3));
                                sp = sp.sub(3);
                                c.discard();
                                continue;
                            }
                        }
                        Op::Call(n) | Op::CallGeneric { argc: n, .. } if self.kwnames.is_none() => {
                            let fpos = sp.sub(n as usize + 1);
                            match &*fpos {
                                Value::Function(f) if f.code.simple && n == f.code.argcount => {
                                    call_plain!(f, fpos, n);
                                }
                                Value::Function(f) if f.code.simple && n < f.code.argcount && missing_defaults(f, n).is_some() => {
                                    call_with_defaults!(f, n);
                                }
                                Value::Function(f) if f.code.simple_resumable && n == f.code.argcount => {
                                    // A coroutine or generator function: the arguments
                                    // move into the new generator's locals.
                                    let f = f.clone();
                                    let nlocals = f.code.nlocals as usize;
                                    let args = fpos.add(1);
                                    // The callee and arguments are moved out below the
                                    // synced length; making the generator does not
                                    // touch the stack.
                                    sp = fpos;
                                    sync!();
                                    self.frames[fi].ip = ip_index!();
                                    let g = crate::generator::new_generator_with(self, &f, |locals| {
                                        for k in 0..n as usize {
                                            locals.push(Value::read_words(args.add(k)));
                                        }
                                        crate::generator::unbound_locals(&f, locals, nlocals);
                                    });
                                    let callee = Value::read_words(fpos);
                                    callee.discard();
                                    push!(g);
                                    continue;
                                }
                                Value::Native(_) => {
                                    // A native callee may have a specialised form.
                                    match op {
                                        Op::CallGeneric { wait, .. } if wait != 0 => count_down!(CallGeneric),
                                        Op::CallGeneric { backoff, .. } => {
                                            ip = ip.sub(1);
                                            quicken::specialise_call(ip, n, backoff, &*fpos);
                                            continue;
                                        }
                                        _ => {
                                            ip = ip.sub(1);
                                            quicken::specialise_call(ip, n, 0, &*fpos);
                                            continue;
                                        }
                                    }
                                    call_native!(fpos, n);
                                }
                                Value::BoundMethod(bm) => {
                                    // A method taken out of its object (`append =
                                    // lst.append`): [bm, args] becomes [func, self,
                                    // args] when the function has a fast path.
                                    let fast = match &bm.func {
                                        Value::Function(f) => {
                                            f.code.simple && n + 1 == f.code.argcount && self.frames.len() < self.recursion_limit
                                        }
                                        Value::Native(_) => true,
                                        _ => false,
                                    };
                                    if fast {
                                        let func = bm.func.clone();
                                        let this = bm.self_.clone();
                                        let fpos = insert_self!(n, func, this);
                                        if let Value::Function(f) = &*fpos {
                                            call_plain!(f, fpos, n + 1);
                                        }
                                        call_native!(fpos, n + 1);
                                    }
                                }
                                Value::Class(cls) if n == 1 && cls.builtin == Some(BuiltinType::Type) => {
                                    // `type(x)` (CPython specializes it too).
                                    let t = Value::Class(crate::types::type_of(&*fpos.add(1)));
                                    drop_call(fpos, 1);
                                    Value::write_words(fpos, t);
                                    sp = fpos.add(1);
                                    continue;
                                }
                                Value::Class(cls) if cls.builtin.is_none() && cls.layout == Layout::Object => {
                                    // `Cls(args)` whose `__init__` is a plain function:
                                    // the instance is made here and `__init__` runs in
                                    // a frame of this loop, [cls, args] becoming
                                    // [obj, obj, args] (callee and `self`).
                                    if let Some(init) = plain_init(cls, n) {
                                        if self.frames.len() < self.recursion_limit {
                                            let obj = Value::Instance(Instance::new(cls.clone(), Payload::None));
                                            insert_self!(n, obj.clone(), obj);
                                            call_with_defaults!(&init, n + 1, true);
                                        }
                                    }
                                }
                                Value::Class(cls) if cls.builtin.is_none() && cls.layout == Layout::Builtin => {
                                    // `Cls(args)` of a class its native `__new__`
                                    // makes alone (`Decimal(3)`): [cls, args]
                                    // becoming [__new__, cls, args], a native call.
                                    if let Some(new) = native_new(cls) {
                                        let cls = Value::Class(cls.clone());
                                        let fpos = insert_self!(n, Value::Native(new), cls);
                                        call_native!(fpos, n + 1);
                                    }
                                }
                                Value::Class(cls) if cls.builtin.is_some() => {
                                    if let Some(k) = builtin_class_call(code, *ip, n, fpos, lp) {
                                        // The result in the k + 1 slots from the
                                        // callee's, the next k instructions done.
                                        sp = fpos.add(k + 1);
                                        ip = ip.add(k);
                                        memory_check!();
                                        continue;
                                    }
                                    call_native!(fpos, n);
                                }
                                _ => {}
                            }
                        }
                        Op::CallMethod(n) | Op::CallMethodGeneric { argc: n, .. } if self.kwnames.is_none() => {
                            // [method, self, args...]: a method found on the class.
                            let fpos = sp.sub(n as usize + 2);
                            match &*fpos {
                                Value::Function(f) if f.code.simple && n + 1 == f.code.argcount => {
                                    call_plain!(f, fpos, n + 1);
                                }
                                Value::Function(f) if f.code.simple && n + 1 < f.code.argcount && missing_defaults(f, n + 1).is_some() => {
                                    call_with_defaults!(f, n + 1);
                                }
                                Value::Native(_) => {
                                    // As `Call`'s native callee.
                                    match op {
                                        Op::CallMethodGeneric { wait, .. } if wait != 0 => count_down!(CallMethodGeneric),
                                        Op::CallMethodGeneric { backoff, .. } => {
                                            ip = ip.sub(1);
                                            quicken::specialise_call_method(ip, n, backoff, &*fpos, &*fpos.add(1));
                                            continue;
                                        }
                                        _ => {
                                            ip = ip.sub(1);
                                            quicken::specialise_call_method(ip, n, 0, &*fpos, &*fpos.add(1));
                                            continue;
                                        }
                                    }
                                    call_native!(fpos, n + 1);
                                }
                                Value::Undef => {
                                    // [undef, callable, args...]: an attribute that is no
                                    // method of the class (`Cls.static_method(...)`, a
                                    // function stored on a module or an instance). A plain
                                    // function or a native takes the callee's place and
                                    // runs here.
                                    let plain = matches!(&*fpos.add(1), Value::Function(f) if f.code.simple && n == f.code.argcount);
                                    let native = matches!(&*fpos.add(1), Value::Native(_));
                                    if (plain && self.frames.len() < self.recursion_limit) || native {
                                        // The undefined slot needs no drop; each value
                                        // moves one down, read before it is written over.
                                        for k in 0..=n as usize {
                                            Value::write_words(fpos.add(k), Value::read_words(fpos.add(k + 1)));
                                        }
                                        sp = sp.sub(1);
                                        if let Value::Function(f) = &*fpos {
                                            call_plain!(f, fpos, n);
                                        }
                                        // A module's function (`math.sqrt(x)`), a native
                                        // found on a class (`object.__new__(cls)`).
                                        call_native!(fpos, n);
                                    }
                                }
                                _ => {}
                            }
                        }
                        Op::Call(n) | Op::CallGeneric { argc: n, .. } | Op::CallMethod(n) | Op::CallMethodGeneric { argc: n, .. } => {
                            // A call with keywords (the arms above take the others)
                            // of a function they bind to plainly, made positional
                            // in place: its parameters, keyword-only ones too.
                            let argc = match op {
                                Op::CallMethod(_) | Op::CallMethodGeneric { .. } => n + 1,
                                _ => n,
                            };
                            sync!();
                            let done = self.keywords_in_place(argc as usize);
                            reload!();
                            if done {
                                self.kwnames = None;
                                let argc = self.kw_bound;
                                let fpos = sp.sub(argc as usize + 1);
                                if let Value::Function(f) = &*fpos {
                                    call_plain!(f, fpos, argc);
                                }
                            }
                        }
                        Op::CallLen => {
                            // [len, x]
                            let fpos = sp.sub(2);
                            if quicken::is_native(&*fpos, crate::types::object::builtin_len) {
                                let n = match &*sp.sub(1) {
                                    Value::List(l) => Some(l.len()),
                                    Value::Tuple(t) => Some(t.len()),
                                    Value::Str(s) => Some(s.char_len()),
                                    Value::Dict(d) => Some(d.len()),
                                    _ => None,
                                };
                                // Finalizers due run first, as before any native call.
                                if let (Some(n), false) = (n, crate::generator::finalizers_due()) {
                                    pop!().discard();
                                    replace_callee!(fpos, Value::Int(n as i64));
                                    continue;
                                }
                                // `__len__` and the rest, as the call does them.
                                call_native!(fpos, 1);
                            }
                            ip = ip.sub(1);
                            quicken::deopt_call(ip, 1);
                            continue;
                        }
                        Op::CallIsinstance => {
                            // [isinstance, x, cls]
                            let fpos = sp.sub(3);
                            if quicken::is_native(&*fpos, crate::types::object::builtin_isinstance) {
                                let quick = crate::types::object::isinstance_quick(&*sp.sub(2), &*sp.sub(1));
                                if let (Some(b), false) = (quick, crate::generator::finalizers_due()) {
                                    pop!().discard();
                                    pop!().discard();
                                    pop!().discard();
                                    push_or_branch!(b);
                                    continue;
                                }
                                call_native!(fpos, 2);
                            }
                            ip = ip.sub(1);
                            quicken::deopt_call(ip, 2);
                            continue;
                        }
                        Op::CallMethodListAppend => {
                            // [append, list, x]
                            let fpos = sp.sub(3);
                            if let Value::List(l) = &*fpos.add(1) {
                                if quicken::is_native(&*fpos, crate::types::list::append) {
                                    if crate::generator::finalizers_due() {
                                        call_native!(fpos, 2);
                                    }
                                    l.push(pop!());
                                    pop!().discard();
                                    // The `None` it returns is mostly dropped at once.
                                    if let Op::Pop = *ip {
                                        ip = ip.add(1);
                                        pop!().discard();
                                    } else {
                                        replace_callee!(fpos, Value::None);
                                    }
                                    memory_check!();
                                    continue;
                                }
                            }
                            ip = ip.sub(1);
                            quicken::deopt_call_method(ip, 1);
                            continue;
                        }
                        Op::LoadAttr { name, cache } if cache != NO_CACHE => {
                            if let Some(v) = load_attr_cached(code, name, cache, &*sp.sub(1)) {
                                replace_top!(v);
                                continue;
                            }
                        }
                        Op::LoadAttrKeep { name, cache } if cache != NO_CACHE => {
                            if let Some(v) = load_attr_cached(code, name, cache, &*sp.sub(1)) {
                                push!(v);
                                continue;
                            }
                        }
                        Op::LoadMethod { name, cache } if cache != NO_CACHE => {
                            if let Some(m) = method_cached(code, name, cache, &*sp.sub(1)) {
                                let obj = Value::read_words(sp.sub(1));
                                Value::write_words(sp.sub(1), m);
                                push!(obj);
                                continue;
                            }
                            if let Some(v) = module_attr_cached(code, cache, &*sp.sub(1)) {
                                // `math.sqrt(...)`: [undef, function], as `load_method` gives.
                                let obj = Value::read_words(sp.sub(1));
                                Value::write_words(sp.sub(1), Value::Undef);
                                push!(v);
                                obj.discard();
                                continue;
                            }
                        }
                        Op::StoreAttr { name, cache } if cache != NO_CACHE => {
                            // <v> <obj>
                            if store_attr_cached(code, name, cache, &*sp.sub(1), sp.sub(2)) {
                                let obj = Value::read_words(sp.sub(1));
                                sp = sp.sub(2);
                                obj.discard();
                                continue;
                            }
                        }
                        Op::StoreAttrKept { name, cache } if cache != NO_CACHE => {
                            // <obj> <v>
                            if store_attr_cached(code, name, cache, &*sp.sub(2), sp.sub(1)) {
                                let obj = Value::read_words(sp.sub(2));
                                sp = sp.sub(2);
                                obj.discard();
                                continue;
                            }
                        }
                        // The specialised attribute forms (see `quicken`):
                        // a failing guard de-optimises, and the generic
                        // form runs the instruction again.
                        Op::LoadAttrInstance { cache, .. } => {
                            if let Some(v) = quicken::instance_value(code, cache, &*sp.sub(1)) {
                                replace_top!(v.clone());
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::LoadAttrKeepInstance { cache, .. } => {
                            if let Some(v) = quicken::instance_value(code, cache, &*sp.sub(1)) {
                                push!(v.clone());
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::LoadFastAttrInstance { slot, cache, .. } => {
                            let src = lp.add(slot as usize);
                            if let Some(v) = quicken::instance_value(code, cache, &*src) {
                                push!(v.clone());
                                ip = ip.add(1);
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::LoadAttrModule { cache, .. } => {
                            if let Some(v) = quicken::module_value(code, cache, &*sp.sub(1)) {
                                replace_top!(v);
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::StoreAttrInstance { cache, .. } => {
                            // <v> <obj>
                            if quicken::store_instance_value(code, cache, &*sp.sub(1), sp.sub(2)) {
                                let obj = Value::read_words(sp.sub(1));
                                sp = sp.sub(2);
                                obj.discard();
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::StoreAttrKeptInstance { cache, .. } => {
                            // <obj> <v>
                            if quicken::store_instance_value(code, cache, &*sp.sub(2), sp.sub(1)) {
                                let obj = Value::read_words(sp.sub(2));
                                sp = sp.sub(2);
                                obj.discard();
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::LoadFastStoreAttrInstance { slot, cache, .. } => {
                            // <v>, the object in the local
                            if quicken::store_instance_value(code, cache, &*lp.add(slot as usize), sp.sub(1)) {
                                sp = sp.sub(1);
                                ip = ip.add(1);
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::LoadMethodInstance { cache, .. } => {
                            if let Some(m) = quicken::instance_method(code, cache, &*sp.sub(1)) {
                                let m = m.clone();
                                let obj = Value::read_words(sp.sub(1));
                                Value::write_words(sp.sub(1), m);
                                push!(obj);
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::LoadFastMethodInstance { slot, cache, .. } => {
                            let src = lp.add(slot as usize);
                            if let Some(m) = quicken::instance_method(code, cache, &*src) {
                                push!(m.clone());
                                push!((*src).clone());
                                ip = ip.add(1);
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::LoadAttrClass { cache, .. } => {
                            if let Some(v) = quicken::class_value(code, cache, &*sp.sub(1)) {
                                replace_top!(v.clone());
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::LoadMethodClass { cache, .. } => {
                            if let Some(f) = quicken::class_function(code, cache, &*sp.sub(1)) {
                                // [undef, function], as `load_method` gives.
                                let f = f.clone();
                                let obj = Value::read_words(sp.sub(1));
                                Value::write_words(sp.sub(1), Value::Undef);
                                push!(f);
                                obj.discard();
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::LoadMethodModule { cache, .. } => {
                            if let Some(v) = quicken::module_value(code, cache, &*sp.sub(1)) {
                                // [undef, function], as `load_method` gives.
                                let obj = Value::read_words(sp.sub(1));
                                Value::write_words(sp.sub(1), Value::Undef);
                                push!(v);
                                obj.discard();
                                continue;
                            }
                            attr_deopt!();
                        }
                        Op::Send(t) => {
                            if let Value::Generator(g) = &*sp.sub(2) {
                                let (status, delegating) = gen_status(g);
                                let ok = match status {
                                    GenStatus::Suspended => true,
                                    GenStatus::Created => (*sp.sub(1)).is_none(),
                                    _ => false,
                                };
                                if ok && self.frames.len() < self.recursion_limit {
                                    let mut g = g.clone();
                                    if delegating {
                                        g = crate::generator::chain_leaf(g);
                                    }
                                    let v = pop!();
                                    resume_gen!(g, status, v, ResumeMode::Send(t));
                                }
                            }
                        }
                        Op::ReturnValue | Op::ReturnNone
                            if matches!(self.frames.get_unchecked(fi).mode, ResumeMode::Send(_) | ResumeMode::ForIter(_)) =>
                        {
                            // A generator frame resumed by `Send` or `ForIter`
                            // returns: the delegate is done and `Send` jumps to
                            // its exit with the value, or the loop is over.
                            let v = if let Op::ReturnValue = op { pop!() } else { Value::None };
                            while sp > lp {
                                pop!().discard();
                            }
                            let (_, gen, mode, caller_exc) = self.pop_gen_frame();
                            self.cur_exc = caller_exc;
                            gen.state.borrow_mut().close();
                            if let Value::Generator(head) = &*sp.sub(1) {
                                if !Rc::ptr_eq(head, &gen) {
                                    // The deepest generator of a chain is done:
                                    // its parent goes on in its place.
                                    let head = head.clone();
                                    sync!();
                                    let r = crate::generator::chain_finished(self, &head, &gen, mode, Some(v));
                                    reload!();
                                    r.expect("a frame was just popped");
                                    enter_top_frame!();
                                    continue;
                                }
                            }
                            drop(gen);
                            let it = Value::read_words(sp.sub(1));
                            let t = match mode {
                                ResumeMode::Send(t) => {
                                    Value::write_words(sp.sub(1), v);
                                    t
                                }
                                ResumeMode::ForIter(t) => {
                                    v.discard();
                                    sp = sp.sub(1);
                                    t
                                }
                                _ => unreachable!("a generator frame resumed by Send or ForIter"),
                            };
                            if let Value::Generator(g) = it {
                                crate::generator::recycle(self, g);
                            } else {
                                it.discard();
                            }
                            enter_top_frame!();
                            ip = ops.add(t as usize);
                            continue;
                        }
                        Op::YieldValue(flags)
                            if matches!(self.frames.get_unchecked(fi).mode, ResumeMode::Send(_) | ResumeMode::ForIter(_)) =>
                        {
                            // A generator frame resumed by `Send` or `ForIter`
                            // yields: its values move into the generator and the
                            // value goes to the resumer.
                            let v = pop!();
                            self.frames[fi].ip = ip_index!();
                            sync!();
                            let (frame_base, gen, _, caller_exc) = self.pop_gen_frame();
                            self.suspend_gen(&gen, frame_base, ip_index!(), flags & 1 != 0, caller_exc);
                            if let Value::Generator(head) = self.stack.get_unchecked(frame_base - 1) {
                                if !Rc::ptr_eq(head, &gen) {
                                    crate::generator::chain_suspended(head, &gen);
                                }
                            }
                            drop(gen);
                            reload!();
                            push!(v);
                            enter_top_frame!();
                            continue;
                        }
                        Op::YieldValue(_) if matches!(self.frames.get_unchecked(fi).mode, ResumeMode::Drain) => {
                            // A generator drained by a native consumer yields:
                            // the sink takes the value and the frame runs on,
                            // as if resumed at once by `next()` (the `yield`
                            // evaluates to None). A value the sink hands back
                            // suspends the generator on the general path.
                            let v = pop!();
                            match self.sink.take(v) {
                                None => {
                                    push!(Value::None);
                                    continue;
                                }
                                Some(v) => push!(v),
                            }
                        }
                        Op::GetAwaitable(_) => {
                            if let Value::Generator(g) = &*sp.sub(1) {
                                if g.kind == GenKind::Coroutine && g.state.borrow().status != GenStatus::Closed {
                                    continue;
                                }
                            }
                        }
                        Op::ReturnValue if self.frames.get_unchecked(fi).gen.is_none() => {
                            let v = pop!();
                            return_plain!(v);
                        }
                        Op::ReturnNone if self.frames.get_unchecked(fi).gen.is_none() => {
                            return_plain!(Value::None);
                        }
                        Op::ReturnLocal(slot) if self.frames.get_unchecked(fi).gen.is_none() && !(*lp.add(slot as usize)).is_undef() => {
                            let v = (*lp.add(slot as usize)).clone();
                            return_plain!(v);
                        }
                        _ => {}
                    }
                    // The general path: the instruction's full semantics on the synced stack.
                    sync!();
                    let mut at = ip_index!();
                    let r = self.general_op(op, fi, code, &mut at, entry);
                    ip = ops.add(at);
                    match r {
                        Ok(Flow::Next) => reload!(),
                        Ok(Flow::Frame) => continue 'frame,
                        Ok(Flow::Halt(h)) => return Ok(h),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
}

/// The `__init__` a call of `cls` with `argc` arguments can run in a frame of
/// the dispatch loop: a plain function, with `object`'s `__new__` and no
/// metaclass `__call__` in the way (what `Vm::make_instance` does then).
/// Remembered by the class while no class changes (`Class::init_cache`).
#[inline]
fn plain_init(cls: &Rc<Class>, argc: u32) -> Option<Rc<Function>> {
    let f = init_function(cls)?;
    (f.code.simple && missing_defaults(&f, argc + 1).is_some()).then_some(f)
}

/// The `__init__` that calling `cls` runs, when it is a function and
/// nothing else (a metaclass `__call__`, a `__new__` of the program's)
/// takes part in making the instance. Cached per class and class epoch.
pub(crate) fn init_function(cls: &Rc<Class>) -> Option<Rc<Function>> {
    let epoch = crate::dict::class_epoch();
    let cached = cls.init_cache.borrow();
    if cached.0 == epoch {
        return cached.1.clone();
    }
    drop(cached);
    let f = plain_init_uncached(cls);
    *cls.init_cache.borrow_mut() = (epoch, f.clone());
    f
}

/// `init_function` without the cache.
#[inline(never)]
fn plain_init_uncached(cls: &Rc<Class>) -> Option<Rc<Function>> {
    if crate::ops::metaclass_call(cls) {
        return None;
    }
    if !matches!(crate::ops::lookup_special_in(cls, "__new__"), None | Some(Value::Native(_))) {
        return None;
    }
    match crate::ops::lookup_special_in(cls, "__init__") {
        Some(Value::Function(f)) => Some(f),
        _ => None,
    }
}

/// The native `__new__` that alone makes an instance of `cls` (a
/// `Decimal`): a class of native layout whose `__new__` is a static native
/// function, with no `__init__` but `object`'s and no metaclass `__call__`
/// (then `Vm::make_instance` returns `__new__(cls, *args)` and does
/// nothing more). Cached per class and class epoch, as `init_function`.
pub(crate) fn native_new(cls: &Rc<Class>) -> Option<Rc<NativeFn>> {
    let epoch = crate::dict::class_epoch();
    let cached = cls.new_cache.borrow();
    if cached.0 == epoch {
        return cached.1.clone();
    }
    drop(cached);
    let f = native_new_uncached(cls);
    *cls.new_cache.borrow_mut() = (epoch, f.clone());
    f
}

/// `native_new` without the cache.
#[inline(never)]
fn native_new_uncached(cls: &Rc<Class>) -> Option<Rc<NativeFn>> {
    use crate::ops::{builtin_kept, lookup_special_in, KEPT_MAKE};
    if cls.layout != Layout::Builtin
        || cls.builtin.is_some()
        || crate::ops::metaclass_call(cls)
        || builtin_kept(cls) & KEPT_MAKE != 0
        || lookup_special_in(cls, "__init__").is_some()
    {
        return None;
    }
    match lookup_special_in(cls, "__new__")?.downcast::<crate::attr::StaticMethod>()?.0 {
        Value::Native(ref f) => Some(f.clone()),
        _ => None,
    }
}

/// The defaults of the positional parameters of `f` after its first `argc`,
/// when it has them all.
#[inline]
fn missing_defaults(f: &Function, argc: u32) -> Option<&[Value]> {
    let missing = f.code.argcount.checked_sub(argc)? as usize;
    f.defaults.len().checked_sub(missing).map(|from| &f.defaults[from..])
}

/// A new empty list with room for `n` items (out of line, as `tuple_from`).
#[inline(never)]
fn empty_list(n: usize) -> Value {
    Value::list(Vec::with_capacity(n))
}

/// A new empty dict with room for `n` entries (out of line, as `tuple_from`).
#[inline(never)]
fn empty_dict(n: usize) -> Value {
    Value::dict(PyDict::from_data(crate::dict::DictData::with_capacity(n)))
}

/// The room an empty list or dict made by `code` starts with: for the
/// result of a comprehension with one entry per item
/// (`CodeFlags::one_per_item`, made by its first instruction: `[[] for x
/// in xs]` makes others), as many as its iterable (the first local) has
/// left, which spares the result its growing; none elsewhere. A huge
/// iterable's result still grows as it fills.
///
/// # Safety
/// `first_local` points at the running frame's first local when `at_start`.
#[inline(always)]
unsafe fn result_room(code: &Code, first_local: *const Value, at_start: bool) -> usize {
    const MOST: usize = 1 << 16;
    if code.flags.one_per_item && at_start {
        crate::iter::items_left(&*first_local).min(MOST)
    } else {
        0
    }
}

/// A generator's status, and whether it is a plain generator suspended
/// inside `yield from` (its resumer may then run the chain's deepest
/// generator instead, see `generator::chain_leaf`).
#[inline(always)]
fn gen_status(g: &Generator) -> (GenStatus, bool) {
    let st = g.state.borrow();
    (st.status, st.delegating && st.status == GenStatus::Suspended && g.kind == GenKind::Generator)
}

/// Where a generator suspended at `ip` resumes: a generator suspended
/// inside `yield from` or `await` stands at the `Jump` back to its `Send`,
/// and starts at the `Send` instead (a dispatch saved per level of
/// delegation for each value; the saved `ip`, which `throw` and the
/// finalizers read, is unchanged).
#[inline(always)]
fn skip_jump_to_send(code: &Code, ip: usize) -> usize {
    match code.ops.get(ip) {
        Some(Op::Jump(t)) if matches!(code.ops.get(t as usize), Some(Op::Send(_))) => t as usize,
        _ => ip,
    }
}

/// A tuple of the `n` values from `first` up, moved off the stack (out of
/// line: the new arms of the dispatch loop made its hot paths dearer).
///
/// # Safety
/// `first..first + n` holds values whose ownership passes to the tuple.
#[inline(never)]
unsafe fn tuple_from(first: *const Value, n: usize) -> Value {
    Value::tuple(crate::object::TupleInit::moved_from(first, n))
}

/// `In`'s answer for <item> <container> below `sp` when no .aio code takes
/// part (`ops::contains_sure`), the two dropped from the stack (the caller
/// lowers `sp`); `None`, touching nothing, for the general path.
///
/// # Safety
/// The two values below `sp` are live operands.
#[inline(never)]
unsafe fn contains_on_stack(sp: *mut Value) -> Option<bool> {
    let b = crate::ops::contains_sure(&*sp.sub(1), &*sp.sub(2))?;
    Value::read_words(sp.sub(1)).discard();
    Value::read_words(sp.sub(2)).discard();
    Some(b)
}

/// `DeleteSubscr` of <container> <key> below `sp` when no .aio code takes
/// part (`ops::del_item_sure`): true when done, the two dropped from the
/// stack (the caller lowers `sp`); false, touching nothing, otherwise.
///
/// # Safety
/// As `contains_on_stack`.
#[inline(never)]
unsafe fn del_item_on_stack(sp: *mut Value) -> bool {
    if !crate::ops::del_item_sure(&*sp.sub(2), &*sp.sub(1)) {
        return false;
    }
    Value::read_words(sp.sub(1)).discard();
    Value::read_words(sp.sub(2)).discard();
    true
}

/// `BuildString(n)`: the `n` str pieces from `first` up joined, and moved
/// off the stack (dropped).
///
/// # Safety
/// As `tuple_from`.
#[inline(never)]
unsafe fn string_from(first: *const Value, n: usize) -> Value {
    let s = super::general::string_of(std::slice::from_raw_parts(first, n));
    for k in 0..n {
        Value::read_words(first.add(k)).discard();
    }
    s
}

/// The `n` values from `first` up, moved off the stack into a vector (no
/// allocation when `n` is 0).
///
/// # Safety
/// As `tuple_from`.
#[inline(always)]
unsafe fn values_from(first: *const Value, n: usize) -> Vec<Value> {
    let mut items = Vec::with_capacity(n);
    for k in 0..n {
        items.push(Value::read_words(first.add(k)));
    }
    items
}

/// `super_method`'s lookup when the instruction's cache has no answer: the
/// method after `start` in the MRO of `obj_type` (an instance's class), a
/// function or a native method, remembered in cache `cache` for the class
/// and `start`; `None` when `super()` would raise or find no method.
#[inline(never)]
fn super_method_uncached(code: &Code, cache: u16, obj_type: &Rc<Class>, start: &Rc<Class>, name: &Rc<PyStr>) -> Option<Value> {
    if !obj_type.is_subclass(start) {
        return None;
    }
    let f = match crate::attr::super_find(obj_type, start, name.as_str(), name.hash()) {
        Some(f @ Value::Function(_)) => f,
        Some(Value::Native(f)) if f.is_method() => Value::Native(f),
        _ => return None,
    };
    if cache != NO_CACHE {
        code.attr_caches[cache as usize].borrow_mut().fill(crate::bytecode::AttrWay {
            class: Rc::downgrade(obj_type),
            tag: crate::bytecode::SUPER_WAY,
            epoch: crate::dict::class_epoch(),
            found: CachedAttr::Method(f.clone()),
            keys: Rc::as_ptr(start) as usize,
            ..Default::default()
        });
    }
    Some(f)
}

/// `Cls(args)` of a builtin class that needs no argument list (`type(x)`
/// is the loop's): `str(x)` of an int or a str (CPython specializes it too), `list(x)`
/// and `tuple(x)` of a list or a tuple, `range()` of ints, and `super(...)` before a method call (`super_method`). `Some(k)`
/// when done: the result fills the k + 1 slots from `fpos` (k is 1 for
/// `super_method`'s method and object, the `LoadMethod` after the call done
/// too) and the callee and arguments are dropped; `None`, touching nothing,
/// for the general call.
///
/// # Safety
/// As `super_method`: `fpos` points at the callee (a class) of a `Call(n)`
/// with its `n` arguments above it; `next` is the instruction after it.
#[inline(never)]
unsafe fn builtin_class_call(code: &Code, next: Op, n: u32, fpos: *mut Value, lp: *const Value) -> Option<usize> {
    let Value::Class(cls) = &*fpos else { return None };
    let (cls, t) = (Rc::as_ptr(cls), types());
    let v = if std::ptr::eq(cls, Rc::as_ptr(&t.super_)) {
        return ((n == 2 || n == 0) && super_method(code, next, n, fpos, lp)).then_some(1);
    } else if n == 1 && std::ptr::eq(cls, Rc::as_ptr(&t.list)) {
        // A copy of a list's or a tuple's items, as `list::construct` makes.
        match &*fpos.add(1) {
            Value::List(l) => Value::list(l.to_vec()),
            Value::Tuple(x) => Value::list(x.items.to_vec()),
            _ => return None,
        }
    } else if n == 1 && std::ptr::eq(cls, Rc::as_ptr(&t.tuple)) {
        // As `tuple::construct`: a tuple itself, a list's items (`tuple([]) is ()`).
        match &*fpos.add(1) {
            x @ Value::Tuple(_) => x.clone(),
            Value::List(l) if l.is_empty() => Value::empty_tuple(),
            Value::List(l) => Value::tuple(l.to_vec()),
            _ => return None,
        }
    } else if n == 1 && std::ptr::eq(cls, Rc::as_ptr(&t.str_)) {
        match &*fpos.add(1) {
            Value::Int(i) => crate::types::str::int_str(*i),
            s @ Value::Str(_) => s.clone(),
            _ => return None,
        }
    } else if std::ptr::eq(cls, Rc::as_ptr(&t.range)) {
        let int = |k: usize| match &*fpos.add(k) {
            Value::Int(i) => Some(*i),
            _ => None,
        };
        let (start, stop, step) = match n {
            1 => (0, int(1)?, 1),
            2 => (int(1)?, int(2)?, 1),
            3 => (int(1)?, int(2)?, int(3)?),
            _ => return None,
        };
        // A zero step raises: the general path.
        if step == 0 {
            return None;
        }
        Value::Range(Rc::new(PyRange { start, stop, step }))
    } else {
        return None;
    };
    drop_call(fpos, n);
    Value::write_words(fpos, v);
    Some(0)
}

/// `super(C, obj).name` or `super().name` when a method call follows
/// (`next` is the `LoadMethod`): the method found after `C` in the MRO of the
/// instance's class, a function or a native method, pushed with the instance
/// as `load_method` does with a super object, without making one. True when
/// done: `fpos` then holds [method, obj] in place of [super, args]; false,
/// touching nothing, for the general path (a class as `obj`, anything that
/// raises, an attribute that is no method).
///
/// # Safety
/// `fpos` points at the callee of a `Call(n)` with its `n` arguments above
/// it, and the stack has room for two values from `fpos` (the `LoadMethod`
/// pushes two); `lp` points at the locals of the running `code`.
#[inline(never)]
unsafe fn super_method(code: &Code, next: Op, n: u32, fpos: *mut Value, lp: *const Value) -> bool {
    let Op::LoadMethod { name, cache } = next else { return false };
    let name = code.names.get_unchecked(name as usize);
    if name.as_str() == "__class__" {
        return false;
    }
    let (start, obj) = if n == 2 {
        let Value::Class(start) = &*fpos.add(1) else { return false };
        (start.clone(), (*fpos.add(2)).clone())
    } else {
        // `super()`: the `__class__` cell and the first argument, as `attr::super_new` finds them.
        if code.argcount == 0 {
            return false;
        }
        // The cell is a free variable (a parameter of that name is left to the general path).
        let Some(slot) = code.freevars.iter().map(|&s| s as usize).find(|&s| code.varnames[s].as_str() == "__class__") else {
            return false;
        };
        let Value::Cell(c) = &*lp.add(slot) else { return false };
        let Value::Class(start) = &*c.v.borrow() else { return false };
        let first = match &*lp {
            Value::Cell(c) => c.v.borrow().clone(),
            v => v.clone(),
        };
        (start.clone(), first)
    };
    let Value::Instance(inst) = &obj else { return false };
    let obj_type = inst.class();
    // The method the `LoadMethod` found before for this class and `start`.
    let cached = if cache == NO_CACHE {
        None
    } else {
        match code.attr_caches.get_unchecked(cache as usize).borrow().way_for_super(&obj_type, &start) {
            Some(AttrWay { found: CachedAttr::Method(f), .. }) => Some(f.clone()),
            _ => None,
        }
    };
    let f = match cached {
        Some(f) => f,
        None => match super_method_uncached(code, cache, &obj_type, &start, name) {
            Some(f) => f,
            None => return false,
        },
    };
    drop_call(fpos, n);
    Value::write_words(fpos, f);
    Value::write_words(fpos.add(1), obj);
    true
}

/// Drop the callee at `fpos` and its `n` arguments above it, the arguments
/// first, as the general call drops them.
///
/// # Safety
/// The `n + 1` slots from `fpos` hold live values, which are left moved out.
unsafe fn drop_call(fpos: *mut Value, n: u32) {
    for k in (0..=n as usize).rev() {
        Value::read_words(fpos.add(k)).discard();
    }
}

/// `__init__` returned `v`, not None.
#[cold]
fn init_returned(v: &Value) -> PyErr {
    type_error(format!("__init__() should return None, not '{}'", crate::types::type_name(v)))
}

/// `c[i]` for a dict with a str or int key, or a list or tuple with an int index
/// in range: the item, or `None` for the general path.
#[inline(always)]
fn subscr_fast(c: &Value, i: &Value) -> Option<Value> {
    let at = |i: i64, n: usize| {
        let j = if i < 0 { i + n as i64 } else { i };
        (0..n as i64).contains(&j).then_some(j as usize)
    };
    match (c, i) {
        (Value::Dict(d), Value::Str(k)) => d.d.borrow().get_pystr_sure(k).flatten(),
        // An absent key takes the general path, which raises.
        (Value::Dict(d), Value::Int(k)) => d.d.borrow().get_int(*k).flatten(),
        (Value::List(l), Value::Int(i)) => {
            let l = l.borrow();
            // SAFETY: `at` gives an index below the length.
            at(*i, l.len()).map(|j| unsafe { l.get_unchecked(j) }.clone())
        }
        (Value::Tuple(t), Value::Int(i)) => at(*i, t.items.len()).map(|j| unsafe { t.items.get_unchecked(j) }.clone()),
        (Value::Object(o), Value::Int(i)) => o.item_at(*i),
        // `src[pos]` of ASCII text (a tokenizer's loop), `data[i]` of bytes.
        (Value::Str(s), Value::Int(i)) if s.is_ascii() => {
            let b = s.as_str().as_bytes();
            at(*i, b.len()).map(|j| Value::Str(crate::types::str::ascii_char(b[j])))
        }
        (Value::Str(s), Value::Int(i)) => s.item(*i).map(|c| Value::Str(crate::types::str::char_value(c))),
        (Value::Bytes(b), Value::Int(i)) => at(*i, b.b.len()).map(|j| Value::Int(b.b[j] as i64)),
        _ => None,
    }
}

/// `c[i] = v` for a dict with a str or int key, or a list with an int index in
/// range: true when stored, with the index and the value moved out of their
/// slots (which the caller then drops from the stack without dropping
/// them); false, touching nothing, for the general path.
///
/// # Safety
/// `i` and `v` point at live values on the operand stack.
#[inline(always)]
unsafe fn store_subscr_fast(c: &Value, i: *const Value, v: *const Value) -> bool {
    match (c, &*i) {
        (Value::Dict(d), Value::Str(_)) => {
            let Value::Str(k) = Value::read_words(i) else { unreachable!("matched as a str just above") };
            match d.d.borrow_mut().set_pystr_sure(k, Value::read_words(v)) {
                Ok(()) => true,
                // Given back: the slots still hold the key and the value.
                Err(kv) => {
                    std::mem::forget(kv);
                    false
                }
            }
        }
        (Value::Dict(d), Value::Int(k)) => match d.d.borrow_mut().set_int(*k, Value::read_words(v)) {
            Ok(()) => true,
            // Given back: the slot still holds it.
            Err(v) => {
                std::mem::forget(v);
                false
            }
        },
        (Value::List(l), Value::Int(j)) => {
            let n = l.len() as i64;
            let j = if *j < 0 { *j + n } else { *j };
            if j < 0 || j >= n {
                return false;
            }
            // The index is an int: an immediate, nothing to drop.
            let old = std::mem::replace(&mut l.borrow_mut()[j as usize], Value::read_words(v));
            old.discard();
            true
        }
        // Stored as a copy (an array keeps numbers, not values), so the
        // value's slot is dropped here and the caller drops nothing more.
        (Value::Object(o), Value::Int(j)) => {
            if !o.set_item_at(*j, &*v) {
                return false;
            }
            Value::read_words(v).discard();
            true
        }
        _ => false,
    }
}

/// `obj.name` from the instruction's cache: a slot, a value in the
/// instance's dict where the cache says it is, the class of an instance, or
/// a plain value of a user class; `None` for the general path.
///
/// # Safety
/// `name` indexes `code.names` and `cache` `code.attr_caches`.
#[inline(always)]
unsafe fn load_attr_cached(code: &Code, name: u32, cache: u16, obj: &Value) -> Option<Value> {
    match obj {
        Value::Instance(inst) => {
            let c = code.attr_caches.get_unchecked(cache as usize).borrow();
            match c.way_for(inst) {
                Some(AttrWay { found: CachedAttr::Slot(i), .. }) => Some(inst.slot(*i as usize)).filter(|v| !v.is_undef()),
                Some(AttrWay { found: CachedAttr::ClassOf, .. }) => Some(Value::Class(inst.class())),
                Some(w @ AttrWay { found: CachedAttr::Plain(v), .. }) => plain_attr_cached(code, name, w, inst, v),
                Some(w) if !matches!(w.found, CachedAttr::Other | CachedAttr::Property(_)) => {
                    let keys = w.keys as *const crate::shape::SharedKeys;
                    inst.attrs().borrow().get_cached(code.names.get_unchecked(name as usize), keys, &w.index, &w.slot)
                }
                _ => None,
            }
        }
        Value::Class(cls) => {
            // `Cls.CONSTANT`: a plain value of a user class, remembered with
            // the class (see `attr::fill_attr_cache`).
            match code.attr_caches.get_unchecked(cache as usize).borrow().way_for_class(cls) {
                Some(AttrWay { found: CachedAttr::ClassValue(v), .. }) => Some(v.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `inst.name` through a `CachedAttr::Plain` way: the instance's own value
/// when it has one, else the class's value `v`.
///
/// # Safety
/// As `load_attr_cached`.
#[inline(never)]
unsafe fn plain_attr_cached(code: &Code, name: u32, w: &AttrWay, inst: &crate::object::Instance, v: &Value) -> Option<Value> {
    let keys = w.keys as *const crate::shape::SharedKeys;
    let name = code.names.get_unchecked(name as usize);
    let attrs = inst.attrs().borrow();
    if attrs.shadows_cached(name, keys, &w.absent) {
        attrs.get_cached(name, keys, &w.index, &w.slot)
    } else {
        Some(v.clone())
    }
}

/// The method `obj.name` names, from the instruction's cache, when no
/// instance attribute shadows it; `None` for the general path.
///
/// # Safety
/// As `load_attr_cached`.
#[inline(always)]
unsafe fn method_cached(code: &Code, name: u32, cache: u16, obj: &Value) -> Option<Value> {
    let c = code.attr_caches.get_unchecked(cache as usize).borrow();
    // A match rather than `Option::filter`, whose closure is not inlined
    // into the two instructions that use this.
    let way = match obj {
        Value::Instance(inst) => match c.way_for(inst) {
            Some(w)
                if !inst.attrs().borrow().shadows_cached(
                    code.names.get_unchecked(name as usize),
                    w.keys as *const crate::shape::SharedKeys,
                    &w.absent,
                ) =>
            {
                Some(w)
            }
            _ => None,
        },
        // `Cls.method(...)` of a classmethod: its function, with the class.
        Value::Class(cls) => c.way_for_class(cls),
        Value::Object(o) => c.way_for_native(&o.class()),
        _ => c.way_for_tag(crate::attr::builtin_tag(obj)),
    };
    match way {
        Some(AttrWay { found: CachedAttr::Method(m), .. }) => Some(m.clone()),
        _ => None,
    }
}

/// `module.name` from the instruction's cache (see `CachedAttr::ModuleSlot`);
/// `None` for other objects and the general path. Out of line: the method
/// paths of the loop stay as they were.
///
/// # Safety
/// `cache` indexes `code.attr_caches`.
#[inline(never)]
unsafe fn module_attr_cached(code: &Code, cache: u16, obj: &Value) -> Option<Value> {
    let Value::Module(m) = obj else { return None };
    code.attr_caches.get_unchecked(cache as usize).borrow().module_value(m)
}

/// `obj.name = v` through the instruction's cache, for an instance whose
/// class stores plainly: true when stored, with `v` moved out of its slot
/// (which the caller then drops from the stack without dropping it); false,
/// touching nothing, for the general path.
///
/// # Safety
/// As `load_attr_cached`; `v` points at a live value on the operand stack.
#[inline(always)]
unsafe fn store_attr_cached(code: &Code, name: u32, cache: u16, obj: &Value, v: *const Value) -> bool {
    let Value::Instance(inst) = obj else { return false };
    let c = code.attr_caches.get_unchecked(cache as usize).borrow();
    let Some(w) = c.way_for(inst).filter(|w| w.plain_store) else { return false };
    let v = Value::read_words(v);
    match w.found {
        CachedAttr::Slot(i) => inst.set_slot(i as usize, v).discard(),
        _ => {
            let keys = w.keys as *const crate::shape::SharedKeys;
            let name = code.names.get_unchecked(name as usize);
            inst.attrs().borrow_mut().set_cached(name, v, keys, &w.index, &w.slot);
        }
    }
    true
}

/// `Binary` on two ints or two floats without overflow: the result, or
/// `None` for the general path. Only immediates give `Some`.
#[inline(always)]
pub(super) fn binary_fast(op: u8, lhs: &Value, rhs: &Value) -> Option<Value> {
    match (lhs, rhs) {
        (Value::Int(x), Value::Int(y)) => int_binary_fast(op, *x, *y),
        (Value::Float(x), Value::Float(y)) => float_binary_fast(op, x.get(), y.get()),
        // An int operand converts to the nearest float, as `float(int)` does.
        (Value::Float(x), Value::Int(y)) => float_binary_fast(op, x.get(), *y as f64),
        (Value::Int(x), Value::Float(y)) => float_binary_fast(op, *x as f64, y.get()),
        _ => None,
    }
}
/// `+ - * / **` of two floats; a zero divisor takes the general path (which
/// raises), and so does a power of anything but a positive finite base to
/// a finite exponent with a finite result (the cases `numfmt::float_pow`
/// tells apart: signs, infinities, NaN, errors).
#[inline(always)]
fn float_binary_fast(op: u8, x: f64, y: f64) -> Option<Value> {
    match op {
        0 | 16 => Some(Value::float(x + y)),
        1 | 17 => Some(Value::float(x - y)),
        2 | 18 => Some(Value::float(x * y)),
        4 | 20 if y != 0.0 => Some(Value::float(x / y)),
        7 | 23 if x > 0.0 && x.is_finite() && y.is_finite() => {
            let r = x.powf(y);
            r.is_finite().then(|| Value::float(r))
        }
        _ => None,
    }
}

/// `binary_fast` for two ints.
#[inline(always)]
fn int_binary_fast(op: u8, x: i64, y: i64) -> Option<Value> {
    match op {
        0 | 16 => x.checked_add(y).map(Value::Int),
        1 | 17 => x.checked_sub(y).map(Value::Int),
        2 | 18 => x.checked_mul(y).map(Value::Int),
        // Python's `//` and `%` round toward negative infinity; a zero
        // divisor and `i64::MIN // -1` take the general path.
        5 | 21 if y != 0 => x.checked_div(y).map(|q| {
            let r = x - q * y;
            Value::Int(if r != 0 && (r < 0) != (y < 0) { q - 1 } else { q })
        }),
        6 | 22 if y != 0 => x.checked_rem(y).map(|r| Value::Int(if r != 0 && (r < 0) != (y < 0) { r + y } else { r })),
        // A negative exponent gives a float: the general path.
        7 | 23 if (0..=u32::MAX as i64).contains(&y) => x.checked_pow(y as u32).map(Value::Int),
        // A shift that keeps every bit (else a big int); a negative count
        // raises on the general path.
        8 | 24 if (0..64).contains(&y) => {
            let r = x << y;
            (r >> y == x).then_some(Value::Int(r))
        }
        9 | 25 if y >= 0 => Some(Value::Int(x >> y.min(63))),
        10 | 26 => Some(Value::Int(x | y)),
        11 | 27 => Some(Value::Int(x ^ y)),
        12 | 28 => Some(Value::Int(x & y)),
        // Both exact as floats: the quotient of the floats is the correctly
        // rounded one Python gives.
        4 | 20 if y != 0 && x.unsigned_abs() <= 1 << 53 && y.unsigned_abs() <= 1 << 53 => Some(Value::float(x as f64 / y as f64)),
        _ => None,
    }
}
