//! Every instruction's full semantics (`general_op`), on the synced
//! operand stack: what the dispatch loop's fast arms leave to it, and the
//! instructions that have no fast arm.

use std::rc::Rc;

use crate::bytecode::{Code, Op};
use crate::exceptions::*;
use crate::object::*;
use crate::types::types;
use crate::value::Value;

use super::*;

impl Vm {
    /// What the cell at stack slot `at` holds (`Undef` when it is empty).
    fn cell_contents(&self, at: usize) -> Value {
        match &self.stack[at] {
            Value::Cell(c) => c.v.borrow().clone(),
            _ => Value::Undef,
        }
    }

    /// Every instruction's full semantics, on the synced operand stack
    /// (`self.stack`). The dispatch loop handles the common cases of the hot
    /// instructions itself and comes here for the rest; an `Err` leaves with
    /// the frame's `ip` still to be saved by the caller.
    #[inline(never)]
    pub(super) fn general_op(&mut self, op: Op, fi: usize, code: &Code, ip: &mut usize, entry: usize) -> PyResult<Flow> {
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        self.frames[fi].ip = *ip;
                        return Err(e);
                    }
                }
            };
        }
        macro_rules! save {
            () => {
                self.frames[fi].ip = *ip;
            };
        }
        // After a `del`: an object may have died whose weak references call back.
        macro_rules! deleted {
            () => {
                if crate::weakref::watching() {
                    save!();
                    crate::weakref::poll(self);
                }
            };
        }
        // An item method (`__getitem__`, ...) of a user class run as a
        // frame of the loop (see `enter_item_method`).
        macro_rules! item_method_frame {
            () => {
                save!();
                if tri!(self.enter_item_method(op)) {
                    return Ok(Flow::Frame);
                }
            };
        }
        let base = self.frames[fi].base;
        match op {
            Op::Nop => {}
            Op::Pop => {
                self.stack.pop();
            }
            Op::Dup => {
                let v = self.top().clone();
                self.push(v);
            }
            Op::Copy(n) => {
                let v = self.stack[self.stack.len() - n as usize].clone();
                self.push(v);
            }
            Op::Swap(n) => {
                let len = self.stack.len();
                self.stack.swap(len - 1, len - n as usize);
            }
            Op::LoadConst(i) => self.push(code.consts[i as usize].clone()),
            Op::LoadNone => self.push(Value::None),
            Op::LoadInt(i) => self.push(Value::Int(i as i64)),
            Op::LoadFast(i) => {
                let v = self.stack[base + i as usize].clone();
                if let Value::Undef = v {
                    let name = code.varnames[i as usize].clone();
                    let e = err(
                        &types().exc.unbound_local_error,
                        format!("cannot access local variable '{}' where it is not associated with a value", name.as_str()),
                    );
                    tri!(Err(self.with_scope(e, fi)));
                }
                self.push(v);
            }
            Op::StoreFast(i) => {
                let v = self.pop();
                self.stack[base + i as usize] = v;
            }
            Op::DeleteFast(i) => {
                if self.stack[base + i as usize].is_undef() {
                    let name = code.varnames[i as usize].clone();
                    tri!(Err(err(
                        &types().exc.unbound_local_error,
                        format!("cannot access local variable '{}' where it is not associated with a value", name.as_str())
                    )));
                }
                self.stack[base + i as usize] = Value::Undef;
                deleted!();
            }
            Op::LoadDeref(i) => {
                let v = self.cell_contents(base + i as usize);
                if v.is_undef() {
                    tri!(Err(self.unbound_cell_error(code, i)));
                }
                self.push(v);
            }
            Op::StoreDeref(i) => {
                let v = self.pop();
                if let Value::Cell(c) = &self.stack[base + i as usize] {
                    *c.v.borrow_mut() = v;
                }
            }
            Op::DeleteDeref(i) => {
                if let Value::Cell(c) = &self.stack[base + i as usize] {
                    let old = std::mem::replace(&mut *c.v.borrow_mut(), Value::Undef);
                    if old.is_undef() {
                        tri!(Err(self.unbound_cell_error(code, i)));
                    }
                }
                deleted!();
            }
            Op::LoadClosure(i) => {
                let v = self.stack[base + i as usize].clone();
                self.push(v);
            }
            Op::LoadClassDeref(i) => {
                let name = code.varnames[i as usize].clone();
                let from_ns = self.frames[fi].locals.as_ref().and_then(|d| d.d.borrow().get_pystr(&name));
                let v = match from_ns {
                    Some(v) => v,
                    None => self.cell_contents(base + i as usize),
                };
                if v.is_undef() {
                    tri!(Err(self.unbound_cell_error(code, i)));
                }
                self.push(v);
            }
            Op::LoadGlobal(slot) => {
                let v = self.frames[fi].globals.globals.borrow()[slot as usize].clone();
                let v = if v.is_undef() { tri!(self.load_builtin(fi, slot)) } else { v };
                self.push(v);
            }
            Op::StoreGlobal(slot) => {
                let v = self.pop();
                self.frames[fi].globals.globals.borrow_mut()[slot as usize] = v;
            }
            Op::DeleteGlobal(slot) => {
                let g = self.frames[fi].globals.clone();
                let old = std::mem::replace(&mut g.globals.borrow_mut()[slot as usize], Value::Undef);
                if old.is_undef() {
                    tri!(Err(name_error(g.name_of_slot(slot).as_str())));
                }
                drop(old);
                deleted!();
            }
            Op::LoadName(i) => {
                let name = code.names[i as usize].clone();
                let v = tri!(self.load_name(fi, &name));
                self.push(v);
            }
            Op::StoreName(i) => {
                let v = self.pop();
                let name = code.names[i as usize].clone();
                match &self.frames[fi].locals {
                    Some(d) => match self.namespace_mapping(d) {
                        Some(m) => {
                            save!();
                            tri!(self.setitem(&m, Value::Str(name), v));
                        }
                        None => d.set_str_rc(name, v),
                    },
                    None => self.frames[fi].globals.set(name.as_str(), v),
                }
            }
            Op::DeleteName(i) => {
                let name = code.names[i as usize].clone();
                if let Some(m) = self.frames[fi].locals.as_ref().and_then(|d| self.namespace_mapping(d)) {
                    save!();
                    tri!(self.delitem(&m, Value::Str(name)));
                    return Ok(Flow::Next);
                }
                let removed = match &self.frames[fi].locals {
                    Some(d) => d.remove_str(name.as_str()).is_some(),
                    None => {
                        let g = &self.frames[fi].globals;
                        let slot = g.slot(name.as_str());
                        !std::mem::replace(&mut g.globals.borrow_mut()[slot as usize], Value::Undef).is_undef()
                    }
                };
                if !removed {
                    tri!(Err(name_error(name.as_str())));
                }
                deleted!();
            }
            Op::ReturnLocal(slot) => return self.general_op(Op::LoadFast(slot), fi, code, ip, entry),
            Op::ReturnNone => self.push(Value::None),
            Op::LoadFastIntBinary { slot, .. }
            | Op::LoadFastIntCompare { slot, .. }
            | Op::LoadFastAttr { slot, .. }
            | Op::LoadFastStoreAttr { slot, .. }
            | Op::LoadFastMethod { slot, .. } => {
                return self.general_op(Op::LoadFast(slot as u32), fi, code, ip, entry);
            }
            Op::LoadAttr { name, cache } | Op::LoadAttrKeep { name, cache } => {
                let obj = if matches!(op, Op::LoadAttr { .. }) { self.pop() } else { self.top().clone() };
                let name = &code.names[name as usize];
                if let Some(v) = tri!(crate::attr::attr_cached_general(self, code, cache, &obj, name)) {
                    self.push(v);
                    return Ok(Flow::Next);
                }
                crate::attr::fill_attr_cache(code, cache, &obj, name);
                let v = tri!(self.getattr(&obj, name));
                super::quicken::specialise_attr(code, *ip - 1, op, cache, &obj, name);
                self.push(v);
            }
            Op::StoreAttr { name, cache } | Op::StoreAttrKept { name, cache } => {
                let (obj, v) = if matches!(op, Op::StoreAttr { .. }) {
                    let obj = self.pop();
                    (obj, self.pop())
                } else {
                    let v = self.pop();
                    (self.pop(), v)
                };
                let name = &code.names[name as usize];
                // A class's attribute is being replaced: nothing to remember
                // of it (a lookup now would keep the old value in the class's
                // lookup cache).
                if !matches!(obj, Value::Class(_)) {
                    crate::attr::fill_attr_cache(code, cache, &obj, name);
                }
                tri!(self.setattr(&obj, name, v));
                super::quicken::specialise_attr(code, *ip - 1, op, cache, &obj, name);
            }
            Op::DeleteAttr(i) => {
                let obj = self.pop();
                tri!(self.delattr(&obj, &code.names[i as usize]));
                drop(obj);
                deleted!();
            }
            Op::LoadMethod { name, cache } => {
                let obj = self.pop();
                let name = &code.names[name as usize];
                if let Some(f) = crate::attr::classmethod_cached(code, cache, &obj, name) {
                    // `self.factory(...)` of a classmethod: called with the class.
                    self.push(f);
                    self.push(Value::Class(crate::types::type_of(&obj)));
                    return Ok(Flow::Next);
                }
                crate::attr::fill_attr_cache(code, cache, &obj, name);
                super::quicken::specialise_attr(code, *ip - 1, op, cache, &obj, name);
                let (m, s) = tri!(self.load_method(obj, name));
                self.push(m);
                self.push(s);
            }
            Op::Subscr | Op::SubscrKeep => {
                item_method_frame!();
                let (c, idx) = if op == Op::Subscr {
                    let idx = self.pop();
                    (self.pop(), idx)
                } else {
                    let len = self.stack.len();
                    (self.stack[len - 2].clone(), self.stack[len - 1].clone())
                };
                let v = tri!(self.getitem(&c, &idx));
                self.push(v);
            }
            Op::StoreSubscr | Op::StoreSubscrKept => {
                item_method_frame!();
                let (c, idx, v) = if op == Op::StoreSubscr {
                    let idx = self.pop();
                    let c = self.pop();
                    (c, idx, self.pop())
                } else {
                    let v = self.pop();
                    let idx = self.pop();
                    (self.pop(), idx, v)
                };
                tri!(self.setitem(&c, idx, v));
            }
            Op::DeleteSubscr => {
                item_method_frame!();
                let idx = self.pop();
                let c = self.pop();
                tri!(self.delitem(&c, idx));
                drop(c);
                deleted!();
            }
            Op::BuildSlice(n) => {
                let s = self.pop_slice(n);
                self.push(s);
            }
            Op::Slice(n) => {
                let s = self.pop_slice(n);
                let c = self.pop();
                let v = tri!(self.getitem(&c, &s));
                self.push(v);
            }
            Op::StoreSlice(n) => {
                let s = self.pop_slice(n);
                let c = self.pop();
                let v = self.pop();
                tri!(self.setitem(&c, s, v));
            }
            // A native form whose hook declined (`Decimal + float`) runs the
            // generic instruction's slow path.
            Op::BinaryGeneric { op: b, .. } | Op::BinaryNative(b) => return self.binary_slow(b, fi, *ip),
            Op::Neg | Op::Pos | Op::Invert => {
                let a = self.pop();
                let v = tri!(match op {
                    Op::Neg => self.unary_neg(&a),
                    Op::Pos => self.unary_pos(&a),
                    _ => self.unary_invert(&a),
                });
                self.push(v);
            }
            Op::Not => {
                let a = self.pop();
                let t = match a {
                    Value::Bool(b) => b.get(),
                    _ => tri!(self.truthy(&a)),
                };
                self.push(Value::bool(!t));
            }
            Op::CompareGeneric { cmp, .. } | Op::CompareNative(cmp) => return self.compare_slow(cmp, fi, *ip),
            // These never leave the loop: they rewrite themselves and run
            // again as another form (see `quicken`).
            Op::Binary(_)
            | Op::BinaryAddInt(_)
            | Op::BinarySubInt(_)
            | Op::BinaryAddFloat(_)
            | Op::BinarySubFloat(_)
            | Op::BinaryMulFloat(_)
            | Op::BinaryNum(_)
            | Op::BinaryAddStr(_)
            | Op::Compare(_)
            | Op::CompareInt(_)
            | Op::CompareFloat(_)
            | Op::CompareStr(_)
            | Op::LoadAttrInstance { .. }
            | Op::LoadAttrKeepInstance { .. }
            | Op::LoadFastAttrInstance { .. }
            | Op::LoadAttrModule { .. }
            | Op::StoreAttrInstance { .. }
            | Op::StoreAttrKeptInstance { .. }
            | Op::LoadFastStoreAttrInstance { .. }
            | Op::LoadMethodInstance { .. }
            | Op::LoadFastMethodInstance { .. }
            | Op::LoadMethodModule { .. }
            | Op::LoadAttrClass { .. }
            | Op::LoadMethodClass { .. } => unreachable!("{op:?} leaves the dispatch loop"),
            Op::CompareTuples { n, cmp } => {
                let (n, at) = (n as usize, self.stack.len() - 2 * n as usize);
                let items: smallvec::SmallVec<[Value; 10]> = self.stack.drain(at..).collect();
                let v = tri!(self.compare_tuple_items(cmp, &items[..n], &items[n..]));
                self.push(v);
            }
            Op::Is(neg) => {
                let rhs = self.pop();
                let lhs = self.pop();
                self.push(Value::bool(lhs.is(&rhs) != (neg == 1)));
            }
            Op::In(neg) => {
                item_method_frame!();
                let container = self.pop();
                let item = self.pop();
                let r = tri!(self.contains(&container, &item));
                self.push(Value::bool(r != (neg == 1)));
            }
            Op::Jump(t) => {
                self.budget = self.budget.wrapping_sub(1);
                if self.budget == 0 || INTERRUPTED.load(Ordering::Relaxed) {
                    // Checked before jumping, as in the fast path.
                    save!();
                    tri!(self.check_interrupt());
                    if self.preempt && entry == 0 && self.worker_depth == Some(self.native_depth) {
                        self.frames[fi].ip = t as usize;
                        return Ok(Flow::Halt(Halt::Blocked));
                    }
                }
                *ip = t as usize;
            }
            Op::PopJumpIfFalse(t) => {
                let c = self.pop();
                let b = match c {
                    Value::Bool(b) => b.get(),
                    _ => {
                        let t = tri!(self.truthy(&c));
                        c.discard();
                        t
                    }
                };
                if !b {
                    *ip = t as usize;
                }
            }
            Op::PopJumpIfTrue(t) => {
                let c = self.pop();
                let b = match c {
                    Value::Bool(b) => b.get(),
                    _ => {
                        let t = tri!(self.truthy(&c));
                        c.discard();
                        t
                    }
                };
                if b {
                    *ip = t as usize;
                }
            }
            Op::JumpIfFalseOrPop(t) => {
                let top = self.top().clone();
                let b = match top {
                    Value::Bool(b) => b.get(),
                    _ => tri!(self.truthy(&top)),
                };
                if !b {
                    *ip = t as usize;
                } else {
                    self.stack.pop();
                }
            }
            Op::JumpIfTrueOrPop(t) => {
                let top = self.top().clone();
                let b = match top {
                    Value::Bool(b) => b.get(),
                    _ => tri!(self.truthy(&top)),
                };
                if b {
                    *ip = t as usize;
                } else {
                    self.stack.pop();
                }
            }
            Op::GetIter => {
                let v = self.pop();
                let it = tri!(self.iter(&v));
                self.push(it);
            }
            Op::ForIterGeneric { target, .. } => return self.for_iter_slow(target, fi, ip),
            // These never leave the loop (see `quicken`).
            Op::ForIter(_) | Op::ForIterRange(_) | Op::ForIterList(_) | Op::ForIterTuple(_) | Op::ForIterPairs(_) => {
                unreachable!("{op:?} leaves the dispatch loop")
            }
            Op::BuildTuple(n) => {
                let items = self.stack.split_off(self.stack.len() - n as usize);
                self.push(Value::tuple(items));
            }
            Op::BuildList(n) => {
                let items = self.stack.split_off(self.stack.len() - n as usize);
                self.push(Value::list(items));
            }
            Op::BuildSet(n) => {
                let items = self.stack.split_off(self.stack.len() - n as usize);
                let s = Rc::new(PySet::default());
                crate::gc::track(&s);
                for it in items {
                    tri!(self.set_add(&s, it));
                }
                self.push(Value::Set(s));
            }
            Op::BuildMap(n) => {
                let items = self.stack.split_off(self.stack.len() - 2 * n as usize);
                let d = Rc::new(PyDict::new());
                crate::gc::track(&d);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    tri!(self.dict_set(&d, k, v));
                }
                self.push(Value::Dict(d));
            }
            Op::ListAppend(n) => {
                let v = self.pop();
                let len = self.stack.len();
                if let Value::List(l) = &self.stack[len - n as usize] {
                    l.push(v);
                }
            }
            Op::SetAdd(n) => {
                let v = self.pop();
                let len = self.stack.len();
                if let Value::Set(s) = self.stack[len - n as usize].clone() {
                    tri!(self.set_add(&s, v));
                }
            }
            Op::MapAdd(n) => {
                let v = self.pop();
                let k = self.pop();
                let len = self.stack.len();
                if let Value::Dict(d) = self.stack[len - n as usize].clone() {
                    tri!(self.dict_set(&d, k, v));
                }
            }
            Op::ListExtend(n) => {
                let v = self.pop();
                let len = self.stack.len();
                let target = self.stack[len - n as usize].clone();
                save!();
                let items = match self.collect(&v) {
                    Ok(items) => items,
                    Err(e) if e.is(&types().exc.type_error) && self.iter(&v).is_err() => {
                        tri!(Err(type_error(format!("Value after * must be an iterable, not {}", crate::types::type_name(&v)))))
                    }
                    Err(e) => tri!(Err(e)),
                };
                if let Value::List(l) = target {
                    l.borrow_mut().extend(items);
                }
            }
            Op::SetUpdate(n) => {
                let v = self.pop();
                let len = self.stack.len();
                let target = self.stack[len - n as usize].clone();
                save!();
                if let Value::Set(s) = target {
                    tri!(crate::types::set::update_from(self, &s, &v));
                }
            }
            Op::DictUpdate(n) | Op::DictMerge(n) => {
                let v = self.pop();
                // `f(*args, **kwargs)` passing on no keywords: nothing to add.
                if matches!(&v, Value::Dict(d) if d.is_empty()) {
                    return Ok(Flow::Next);
                }
                let len = self.stack.len();
                let target = self.stack[len - n as usize].clone();
                save!();
                if let Value::Dict(d) = target {
                    // `DictMerge` builds a call's keywords: [f, args, dict].
                    let callee = matches!(op, Op::DictMerge(_)).then_some(len - n as usize - 2);
                    tri!(self.dict_update_from(&d, &v, callee));
                }
            }
            Op::ListToTuple => {
                let v = self.pop();
                if let Value::List(l) = v {
                    let items = std::mem::take(&mut *l.borrow_mut());
                    self.push(Value::tuple(items));
                }
            }
            Op::UnpackSequence(n) => {
                let v = self.pop();
                save!();
                tri!(self.unpack_sequence(v, n as usize));
            }
            Op::UnpackEx(before, after) => {
                let v = self.pop();
                save!();
                tri!(self.unpack_ex(v, before as usize, after as usize));
            }
            Op::Rot(n) => {
                let v = self.pop();
                let at = self.stack.len() + 1 - n as usize;
                self.stack.insert(at, v);
            }
            Op::Pull(n) => {
                let v = self.stack.remove(self.stack.len() - n as usize);
                self.push(v);
            }
            Op::GetLen => {
                let v = self.top().clone();
                save!();
                let n = tri!(self.len(&v));
                self.push(Value::Int(n as i64));
            }
            Op::MatchSequence => {
                let b = crate::matching::is_sequence(self.top());
                self.push(Value::bool(b));
            }
            Op::MatchMapping => {
                let b = crate::matching::is_mapping(self.top());
                self.push(Value::bool(b));
            }
            Op::MatchKeys => {
                let len = self.stack.len();
                let (v, keys) = (self.stack[len - 2].clone(), self.stack[len - 1].clone());
                save!();
                let values = tri!(self.match_keys(&v, &keys));
                self.push(values);
            }
            Op::MatchRest => {
                let keys = self.pop();
                let v = self.pop();
                save!();
                let rest = tri!(self.match_rest(&v, &keys));
                self.push(rest);
            }
            Op::MatchClass(n) => {
                let names = self.pop();
                let cls = self.pop();
                let v = self.pop();
                save!();
                let attrs = tri!(self.match_class(&v, &cls, &names, n as usize));
                self.push(attrs);
            }
            Op::FormatValue(flags) => {
                let spec = if flags & 4 != 0 { Some(self.pop()) } else { None };
                let v = self.pop();
                save!();
                let s = tri!(self.format_value(v, flags & 3, spec));
                self.push(s);
            }
            Op::BuildString(n) => {
                let at = self.stack.len() - n as usize;
                let s = string_of(&self.stack[at..]);
                self.stack.truncate(at);
                self.push(s);
            }
            Op::KwNames(i) => {
                if let Value::Tuple(t) = &code.consts[i as usize] {
                    self.kwnames = Some(t.clone());
                }
            }
            Op::Call(n) => {
                save!();
                let kw = self.kwnames.take();
                if tri!(self.call_from_stack(n as usize, kw)) {
                    return Ok(Flow::Frame);
                }
                if self.block_request.is_some() && entry == 0 {
                    return Ok(Flow::Halt(Halt::Blocked));
                }
            }
            // A specialised call goes its generic way here.
            Op::CallLen | Op::CallIsinstance | Op::CallGeneric { .. } | Op::CallMethodListAppend | Op::CallMethodGeneric { .. } => {
                return self.general_op(op.generic(), fi, code, ip, entry);
            }
            Op::CallMethod(n) => {
                save!();
                let kw = self.kwnames.take();
                let len = self.stack.len();
                let pos = len - n as usize - 2;
                let pushed = if self.stack[pos].is_undef() {
                    self.stack.remove(pos);
                    tri!(self.call_from_stack(n as usize, kw))
                } else {
                    tri!(self.call_from_stack(n as usize + 1, kw))
                };
                if pushed {
                    return Ok(Flow::Frame);
                }
                if self.block_request.is_some() && entry == 0 {
                    return Ok(Flow::Halt(Halt::Blocked));
                }
            }
            Op::CallEx(has_kw) => {
                save!();
                // [f, tuple, dict?] becomes [f, args..., keyword values...]
                // with the names apart, as `Call` leaves them: the callee
                // then takes the paths `Call` does.
                let kwargs = if has_kw == 1 { Some(self.pop()) } else { None };
                let args = self.pop();
                let items = match args {
                    Value::Tuple(t) => crate::call::star_args(t),
                    // `f(*xs)` alone passes `xs` as it is.
                    other => tri!(self.star_argument(&other)),
                };
                let items = if kwargs.is_none() {
                    match self.call_star_into_varargs(items) {
                        Ok(pushed) => {
                            tri!(pushed);
                            return Ok(Flow::Frame);
                        }
                        Err(items) => items,
                    }
                } else {
                    items
                };
                let mut argc = items.len();
                self.stack.extend(items);
                let mut kwnames = None;
                if let Some(Value::Dict(d)) = kwargs {
                    if !d.is_empty() {
                        let mut names = Vec::with_capacity(d.len());
                        for (k, v) in d.items() {
                            if !matches!(k, Value::Str(_)) {
                                tri!(Err(type_error("keywords must be strings")));
                            }
                            names.push(k);
                            self.stack.push(v);
                        }
                        argc += names.len();
                        kwnames = Some(PyTuple::new_rc(names));
                    }
                }
                if tri!(self.call_from_stack(argc, kwnames)) {
                    return Ok(Flow::Frame);
                }
            }
            Op::MakeFunction(i) => {
                let Value::Code(fcode) = &code.consts[i as usize] else { unreachable!("code constant") };
                let fcode = fcode.clone();
                let closure = self.stack.split_off(self.stack.len() - fcode.closure_len());
                let annotations = if fcode.flags.has_annotations {
                    match self.pop() {
                        Value::Tuple(t) => {
                            let d = PyDict::new();
                            for pair in t.items.chunks(2) {
                                if let [Value::Str(k), v] = pair {
                                    d.set_str_rc(k.clone(), v.clone());
                                }
                            }
                            Some(Rc::new(d))
                        }
                        _ => None,
                    }
                } else {
                    None
                };
                let kwdefaults = if fcode.flags.has_kwdefaults {
                    match self.pop() {
                        Value::Dict(d) => {
                            d.items().into_iter().filter_map(|(k, v)| if let Value::Str(s) = k { Some((s, v)) } else { None }).collect()
                        }
                        _ => vec![],
                    }
                } else {
                    vec![]
                };
                let defaults = if fcode.flags.has_defaults {
                    match self.pop() {
                        Value::Tuple(t) => t.items.to_vec(),
                        _ => vec![],
                    }
                } else {
                    vec![]
                };
                let globals = self.frames[fi].globals.clone();
                self.push(function_value(fcode, globals, defaults, kwdefaults, closure, annotations));
            }
            Op::Comprehension(i) => {
                let Value::Code(ccode) = &code.consts[i as usize] else { unreachable!("code constant") };
                save!();
                if tri!(self.start_comprehension(ccode, fi)) {
                    return Ok(Flow::Frame);
                }
            }
            Op::LoadBuildClass => {
                self.push(crate::types::native_fn("__build_class__", crate::call::build_class));
            }
            Op::SetupAnnotations => match &self.frames[fi].locals {
                Some(ns) => {
                    if ns.get_str("__annotations__").is_none() {
                        ns.set_str("__annotations__", Value::Dict(Rc::new(PyDict::new())));
                    }
                }
                None => {
                    let g = &self.frames[fi].globals;
                    if g.get("__annotations__").is_none() {
                        g.set("__annotations__", Value::Dict(Rc::new(PyDict::new())));
                    }
                }
            },
            Op::ReturnValue => {
                let v = self.pop();
                if let Some(base) = self.pop_call_frame() {
                    self.truncate_stack(base - 1);
                    if self.frames.len() == entry {
                        return Ok(Flow::Halt(Halt::Return(v)));
                    }
                    self.push(v);
                    return Ok(Flow::Frame);
                }
                // A generator frame (a call frame returned above).
                let (frame_base, gen, mode, caller_exc) = self.pop_gen_frame();
                self.stack.truncate(frame_base);
                self.cur_exc = caller_exc;
                gen.state.borrow_mut().close();
                match mode {
                    ResumeMode::Native | ResumeMode::Drain => return Ok(Flow::Halt(Halt::Return(v))),
                    ResumeMode::Init | ResumeMode::Binary(_) => unreachable!("a generator frame is resumed, not called"),
                    ResumeMode::ForIter(t) => {
                        self.stack.pop();
                        self.frames.last_mut().expect("caller").ip = t as usize;
                    }
                    ResumeMode::Send(t) => {
                        self.stack.pop();
                        self.push(v);
                        self.frames.last_mut().expect("caller").ip = t as usize;
                    }
                    ResumeMode::ASend { exit, closing } => {
                        gen.set_ag_running(false);
                        if closing {
                            self.stack.pop();
                            self.push(Value::None);
                            self.frames.last_mut().expect("caller").ip = exit as usize;
                        } else {
                            return Err(stop_async_iteration());
                        }
                    }
                }
                return Ok(Flow::Frame);
            }
            Op::YieldValue(flags) => {
                let v = self.pop();
                save!();
                // `pop_gen_frame` moves the fields out one by one (a whole
                // `Frame` popped is copied through the Rust stack).
                let (frame_base, gen, mode, caller_exc) = self.pop_gen_frame();
                self.suspend_gen(&gen, frame_base, *ip, flags & 1 != 0, caller_exc);
                let own_yield = flags & 2 != 0;
                match mode {
                    ResumeMode::Native | ResumeMode::Drain => return Ok(Flow::Halt(Halt::Yield(v, own_yield))),
                    ResumeMode::Init | ResumeMode::Binary(_) => unreachable!("a generator frame is resumed, not called"),
                    ResumeMode::ForIter(_) | ResumeMode::Send(_) => self.push(v),
                    ResumeMode::ASend { exit, closing } => {
                        if own_yield {
                            gen.set_ag_running(false);
                            if closing {
                                return Err(runtime_error("async generator ignored GeneratorExit"));
                            }
                            self.stack.pop();
                            self.push(v);
                            self.frames.last_mut().expect("caller").ip = exit as usize;
                        } else {
                            self.push(v);
                        }
                    }
                }
                return Ok(Flow::Frame);
            }
            Op::GetYieldFromIter => {
                let v = self.pop();
                let it = match &v {
                    Value::Generator(g) if g.kind == GenKind::Generator => v.clone(),
                    Value::Object(o) if o.await_iter().is_some() => v.clone(),
                    Value::Generator(g) if g.kind == GenKind::Coroutine => {
                        tri!(Err(type_error("cannot 'yield from' a coroutine object in a non-coroutine generator")))
                    }
                    _ => tri!(self.iter(&v)),
                };
                self.push(it);
            }
            Op::GetAwaitable(_) => {
                let v = self.pop();
                save!();
                let a = tri!(crate::generator::get_awaitable(self, v));
                self.push(a);
            }
            Op::Send(t) => {
                let v = self.pop();
                let it = self.top().clone();
                save!();
                match tri!(crate::generator::send_op(self, &it, v, t)) {
                    crate::generator::SendOutcome::Pushed => return Ok(Flow::Frame),
                    crate::generator::SendOutcome::Yielded(y) => self.push(y),
                    crate::generator::SendOutcome::Returned(r) => {
                        self.stack.pop();
                        self.push(r);
                        *ip = t as usize;
                    }
                }
            }
            Op::GetAIter => {
                let v = self.pop();
                save!();
                let it = tri!(crate::generator::get_aiter(self, v));
                self.push(it);
            }
            Op::GetANext => {
                let it = self.top().clone();
                save!();
                let a = tri!(crate::generator::get_anext(self, it));
                self.push(a);
            }
            Op::EndAsyncFor => {
                let exc = self.pop();
                if let Value::Instance(i) = &exc {
                    if i.class().is_subclass(&types().exc.stop_async_iteration) {
                        self.stack.pop();
                        return Ok(Flow::Next);
                    }
                    self.reraise = true;
                    tri!(Err(PyErr(i.clone())));
                }
            }
            Op::Raise(kind) => {
                save!();
                match kind {
                    0 => match &self.cur_exc {
                        Value::Instance(i) => {
                            let e = PyErr(i.clone());
                            self.reraise = true;
                            return Err(e);
                        }
                        _ => return Err(runtime_error("No active exception to reraise")),
                    },
                    1 => {
                        let v = self.pop();
                        let e = tri!(from_raise_operand(self, v));
                        return Err(e);
                    }
                    _ => {
                        let cause = self.pop();
                        let v = self.pop();
                        let e = tri!(from_raise_operand(self, v));
                        let cause = match cause {
                            Value::None => Value::None,
                            c @ Value::Instance(_) if matches!(&c, Value::Instance(i) if i.exc().is_some()) => c,
                            c @ Value::Class(_) => tri!(from_raise_operand(self, c)).value(),
                            _ => tri!(Err(type_error("exception causes must derive from BaseException"))),
                        };
                        *e.exc().cause.borrow_mut() = cause;
                        e.exc().suppress_context.set(true);
                        return Err(e);
                    }
                }
            }
            Op::Reraise => {
                let v = self.pop();
                save!();
                if let Value::Instance(i) = v {
                    self.reraise = true;
                    return Err(PyErr(i));
                }
                return Err(runtime_error("internal: reraise of a non-exception"));
            }
            Op::PushExcInfo => {
                let exc = self.pop();
                let prev = std::mem::replace(&mut self.cur_exc, exc.clone());
                self.push(prev);
                self.push(exc);
            }
            Op::PopExcept => {
                let prev = self.pop();
                self.cur_exc = prev;
            }
            Op::CheckExcMatch => {
                let typ = self.pop();
                let exc = self.top().clone();
                save!();
                let m = tri!(self.exception_matches(&exc, &typ));
                self.push(Value::bool(m));
            }
            Op::CheckEgMatch => {
                let typ = self.pop();
                let exc = self.pop();
                save!();
                let (m, rest) = tri!(crate::call::check_eg_match(self, exc, typ));
                self.push(rest);
                self.push(m);
            }
            Op::PrepReraiseStar => {
                let raised = self.pop();
                let orig = self.pop();
                save!();
                let r = tri!(crate::call::prep_reraise_star(self, orig, raised));
                self.push(r);
            }
            Op::LoadAssertionError => self.push(Value::Class(types().exc.assertion_error.clone())),
            Op::BeforeWith | Op::BeforeAsyncWith => {
                let cm = self.pop();
                save!();
                let (exit, entered) = tri!(crate::call::before_with(self, cm, matches!(op, Op::BeforeAsyncWith)));
                self.push(exit);
                self.push(entered);
            }
            Op::WithExceptStart => {
                let len = self.stack.len();
                let exc = self.stack[len - 1].clone();
                let exit = self.stack[len - 3].clone();
                save!();
                let typ = match &exc {
                    Value::Instance(i) => Value::Class(i.class()),
                    _ => Value::None,
                };
                let tb = match &exc {
                    Value::Instance(i) => exceptions_tb(i),
                    _ => Value::None,
                };
                let r = tri!(self.call(exit, Args::new([typ, exc, tb])));
                self.push(r);
            }
            Op::ImportName(i) => {
                save!();
                let name = code.names[i as usize].clone();
                let m = tri!(self.import_module(name.as_str()));
                self.push(m);
            }
            Op::ImportFrom(i) => {
                let m = self.top().clone();
                save!();
                let name = code.names[i as usize].clone();
                let v = match self.getattr(&m, &name) {
                    Ok(v) => v,
                    Err(e) if e.is(&types().exc.attribute_error) => {
                        let mname = match &m {
                            Value::Module(md) => md.name.as_str().to_string(),
                            _ => "?".into(),
                        };
                        // `from aiohttp import web`: a submodule of a library package.
                        let sub = format!("{mname}.{}", name.as_str());
                        if self.host.is_library_module(sub.as_str()) {
                            let v = tri!(self.import_module(&sub));
                            if let Value::Module(md) = &m {
                                md.set(name.as_str(), v.clone());
                            }
                            self.push(v);
                            return Ok(Flow::Next);
                        }
                        let e = import_error(format!("cannot import name '{}' from '{}'", name.as_str(), mname));
                        tri!(Err(e.with_detail(|d| {
                            d.name = Value::str(&mname);
                            d.name_from = Value::Str(name.clone());
                        })))
                    }
                    Err(e) => tri!(Err(e)),
                };
                self.push(v);
            }
            Op::ImportStar => {
                let m = self.pop();
                if let Value::Module(md) = &m {
                    save!();
                    tri!(self.import_star(md, fi));
                }
            }
            Op::PrintExpr => {
                let v = self.pop();
                if !v.is_none() {
                    save!();
                    let s = tri!(self.repr_str(&v));
                    tri!(self.write_out(&s));
                    tri!(self.write_out("\n"));
                    self.set_builtin("_", v);
                }
            }
        }
        Ok(Flow::Next)
    }

    /// `from m import *`: the names in `m.__all__`, each read as
    /// `getattr(m, name)` (so a module `__getattr__` can supply it), or,
    /// with no `__all__`, every global of `m` not starting with `_`.
    fn import_star(&mut self, md: &Rc<crate::object::Module>, fi: usize) -> PyResult<()> {
        let g = self.frames[fi].globals.clone();
        let Some(all) = md.get("__all__") else {
            for (k, v) in md.entries() {
                if !k.starts_with('_') {
                    g.set(k.as_str(), v);
                }
            }
            return Ok(());
        };
        let module = Value::Module(md.clone());
        for name in self.collect(&all)? {
            let Value::Str(n) = &name else {
                return Err(type_error(format!("Item in {}.__all__ must be str, not {}", md.name, crate::types::type_name(&name))));
            };
            let v = self.getattr(&module, n)?;
            g.set(n.as_str(), v);
        }
        Ok(())
    }

    /// The slice made of the top `n` values (`lo hi` or `lo hi step`), popped.
    fn pop_slice(&mut self, n: u32) -> Value {
        let step = if n == 3 { self.pop() } else { Value::None };
        let stop = self.pop();
        let start = self.pop();
        Value::Slice(Rc::new(PySlice { start, stop, step }))
    }

    pub(super) fn unpack_sequence(&mut self, v: Value, n: usize) -> PyResult<()> {
        let items: Vec<Value> = match &v {
            Value::Tuple(t) => t.items.to_vec(),
            Value::List(l) => l.to_vec(),
            Value::Generator(g) if g.kind == GenKind::Generator => {
                // The generator runs in one loop (see `generator::drain`)
                // until it has given n values and then one more, or ended.
                let mut sink = crate::generator::Sink::CollectAtMost(Vec::with_capacity(n), n);
                if crate::generator::drain(self, g, &mut sink)?.is_some() {
                    return Err(value_error(format!("too many values to unpack (expected {n})")));
                }
                match sink {
                    crate::generator::Sink::CollectAtMost(items, _) => items,
                    _ => unreachable!("a collecting sink"),
                }
            }
            _ => {
                if self.iter(&v).is_err() {
                    return Err(type_error(format!("cannot unpack non-iterable {} object", crate::types::type_name(&v))));
                }
                // Take at most n + 1 items, as Python does.
                let it = self.iter(&v)?;
                let mut out = Vec::with_capacity(n);
                while let Some(x) = self.next(&it)? {
                    out.push(x);
                    if out.len() > n {
                        return Err(value_error(format!("too many values to unpack (expected {n})")));
                    }
                }
                out
            }
        };
        if items.len() != n {
            if items.len() > n {
                return Err(value_error(format!("too many values to unpack (expected {n})")));
            }
            return Err(value_error(format!("not enough values to unpack (expected {n}, got {})", items.len())));
        }
        self.stack.extend(items.into_iter().rev());
        Ok(())
    }

    pub(super) fn unpack_ex(&mut self, v: Value, before: usize, after: usize) -> PyResult<()> {
        if !matches!(v, Value::Tuple(_) | Value::List(_)) && self.iter(&v).is_err() {
            return Err(type_error(format!("cannot unpack non-iterable {} object", crate::types::type_name(&v))));
        }
        let items = self.collect(&v)?;
        if items.len() < before + after {
            return Err(value_error(format!("not enough values to unpack (expected at least {}, got {})", before + after, items.len())));
        }
        let mid_end = items.len() - after;
        let mut out: Vec<Value> = Vec::with_capacity(before + after + 1);
        out.extend(items[..before].iter().cloned());
        out.push(Value::list(items[before..mid_end].to_vec()));
        out.extend(items[mid_end..].iter().cloned());
        self.stack.extend(out.into_iter().rev());
        Ok(())
    }

    /// `<a> <b> => <a> <b> <f> <a> <b>`: operator method `f` of `a` runs in
    /// a frame of the dispatch loop returning into f's slot, and its return
    /// (see `ResumeMode::Binary`, which `op` goes to) finishes the operator,
    /// instead of a loop nested in `binary_op` or `compare`.
    pub(super) fn enter_operator_method(&mut self, f: Rc<Function>, op: u8) -> PyResult<()> {
        let len = self.stack.len();
        let (a, rhs) = (self.stack[len - 2].clone(), self.stack[len - 1].clone());
        self.enter_method_frame(f, [a, rhs], op)
    }

    /// The item method of a user class (`ops::item_method_first`) that
    /// subscript instruction or `in` test `op` calls, started in a frame of
    /// the dispatch loop above the operands, as `enter_operator_method`
    /// does (false: there is none, and nothing changed). Its return goes to
    /// `operator_method_returned`, or for `__getitem__` is the operator's result.
    fn enter_item_method(&mut self, op: Op) -> PyResult<bool> {
        use crate::ops::*;
        let len = self.stack.len();
        // Where the container lies, and the method it is asked for.
        let (at, m) = match op {
            Op::Subscr | Op::SubscrKeep => (len - 2, ItemMethod::GetItem),
            // <v> <c> <i>
            Op::StoreSubscr => (len - 2, ItemMethod::SetItem),
            // <c> <i> <v>
            Op::StoreSubscrKept => (len - 3, ItemMethod::SetItem),
            Op::DeleteSubscr => (len - 2, ItemMethod::DelItem),
            // <item> <container>
            Op::In(_) => (len - 1, ItemMethod::Contains),
            _ => return Ok(false),
        };
        let Some(f) = item_method_first(&self.stack[at], m) else { return Ok(false) };
        let c = self.stack[at].clone();
        macro_rules! top {
            ($k:expr) => {
                self.stack[len - $k].clone()
            };
        }
        match op {
            Op::Subscr => self.enter_method_frame(f, [c, top!(1)], GETITEM_MODE)?,
            Op::SubscrKeep => {
                // <c> <i> stay below the result: the method's operands are copies.
                let i = top!(1);
                self.stack.push(c.clone());
                self.stack.push(i.clone());
                self.enter_method_frame(f, [c, i], GETITEM_MODE)?
            }
            Op::StoreSubscr => self.enter_method_frame(f, [c, top!(1), top!(3)], SETITEM_MODE)?,
            Op::StoreSubscrKept => self.enter_method_frame(f, [c, top!(2), top!(1)], SETITEM_MODE)?,
            Op::DeleteSubscr => self.enter_method_frame(f, [c, top!(1)], DELITEM_MODE)?,
            Op::In(neg) => {
                let mode = if neg == 1 { NOT_CONTAINS_MODE } else { CONTAINS_MODE };
                self.enter_method_frame(f, [c, top!(2)], mode)?
            }
            _ => unreachable!("an item instruction"),
        }
        Ok(true)
    }

    /// The plain function `f` called with `args` in a new frame of the
    /// dispatch loop whose return goes to `ResumeMode::Binary(mode)`.
    fn enter_method_frame<const N: usize>(&mut self, f: Rc<Function>, args: [Value; N], mode: u8) -> PyResult<()> {
        self.stack.push(Value::Function(f.clone()));
        let base = self.stack.len();
        self.stack.extend(args);
        let nlocals = f.code.nlocals as usize;
        self.stack.resize(base + nlocals, Value::Undef);
        if f.code.has_cells() {
            crate::call::prepare_cells(&f.code, &mut self.stack[base..base + nlocals], &f.closure);
        }
        self.push_frame(f.code.clone(), base, f.globals.clone(), FrameKind::Call)?;
        self.frames.last_mut().expect("the frame just pushed").mode = ResumeMode::Binary(mode);
        Ok(())
    }

    /// The return `v` of a method frame in `ResumeMode::Binary(mode)` that
    /// the loop does not finish itself (an operator method's NotImplemented,
    /// an item method's `mode`), on the synced stack: its operands, on top,
    /// make way for the result of the operator or test.
    #[inline(never)]
    pub(super) fn operator_method_returned(&mut self, mode: u8, v: Value) -> PyResult<()> {
        use crate::ops::*;
        let len = self.stack.len();
        match mode {
            SETITEM_MODE => self.truncate_stack(len - 3),
            DELITEM_MODE => {
                self.truncate_stack(len - 2);
                // As after any `del`: an object may have died whose weak references call back.
                if crate::weakref::watching() {
                    crate::weakref::poll(self);
                }
            }
            CONTAINS_MODE | NOT_CONTAINS_MODE => {
                self.truncate_stack(len - 2);
                let t = match &v {
                    Value::Bool(b) => b.get(),
                    _ => self.truthy(&v)?,
                };
                self.push(Value::bool(t != (mode == NOT_CONTAINS_MODE)));
            }
            _ => {
                let b = self.pop();
                let a = self.pop();
                let r = binary_op_declined(self, mode, &a, &b)?;
                self.push(r);
            }
        }
        Ok(())
    }

    pub(super) fn format_value(&mut self, v: Value, conv: u8, spec: Option<Value>) -> PyResult<Value> {
        let v = match conv {
            1 => self.str_value(&v)?,
            2 => self.repr_value(&v)?,
            3 => Value::string(crate::types::str::ascii_escape(&self.repr_str(&v)?)),
            _ => v,
        };
        let spec = match spec {
            Some(Value::Str(s)) => s,
            // An object of the program's formats by its `__format__`.
            _ if matches!(v, Value::Instance(_) | Value::Object(_)) => return Ok(Value::string(self.format(&v, "")?)),
            _ => {
                return self.str_value(&v);
            }
        };
        Ok(Value::string(self.format(&v, spec.as_str())?))
    }
}

/// `BuildString`'s result: the str parts of an f-string joined.
#[inline(never)]
pub(super) fn string_of(parts: &[Value]) -> Value {
    let strs = parts.iter().filter_map(|p| match p {
        Value::Str(s) => Some(&**s),
        _ => None,
    });
    let ascii = strs.clone().all(|s| s.is_ascii());
    Value::Str(Rc::new(PyStr::concat_all(strs.map(|s| s.as_str()), ascii)))
}

fn exceptions_tb(i: &Rc<Instance>) -> Value {
    crate::exceptions::exc_getattr(i, "__traceback__").unwrap_or(Value::None)
}

impl Vm {
    /// `Op::Comprehension` of `code` on the synced stack, from frame `fi`:
    /// the iterator and the cells above it become the first local and the
    /// free variables of a new frame (true: pushed) or generator. The
    /// frame's callee slot, below its locals, holds None. The cells are
    /// cloned from where they lie on the stack (no allocation for them).
    fn start_comprehension(&mut self, code: &Rc<Code>, fi: usize) -> PyResult<bool> {
        let nlocals = code.nlocals as usize;
        let at = self.stack.len() - code.closure_len();
        let globals = self.frames[fi].globals.clone();
        if code.is_resumable() {
            let it = std::mem::take(&mut self.stack[at - 1]);
            let g = crate::generator::new_generator_of(self, code, &globals, None, |locals| {
                locals.push(it);
                for _ in 1..nlocals {
                    locals.push(Value::Undef);
                }
            });
            if code.has_cells() {
                if let Value::Generator(g) = &g {
                    crate::call::prepare_cells(code, &mut g.state.borrow_mut().stack, &self.stack[at..]);
                }
            }
            self.truncate_stack(at - 1);
            self.push(g);
            return Ok(false);
        }
        // [it, cells] becomes [None, it, locals..., cells]: the cells move
        // above the new locals, which take their clones.
        self.stack.insert(at - 1, Value::None);
        let base = at;
        let top = base + nlocals;
        let ncells = self.stack.len() - (base + 1);
        self.stack.resize(top + ncells, Value::Undef);
        for k in 0..ncells {
            // Every local past the first is below `top`: a cell is never
            // moved onto another.
            self.stack.swap(base + 1 + k, top + k);
        }
        if code.has_cells() {
            let (frame, cells) = self.stack.split_at_mut(top);
            crate::call::prepare_cells(code, &mut frame[base..], cells);
        }
        self.truncate_stack(top);
        if let Err(e) = self.push_frame(code.clone(), base, globals, FrameKind::Call) {
            self.truncate_stack(base - 1);
            return Err(e);
        }
        Ok(true)
    }
}

/// A new function of `code` (`MakeFunction`), known to the cycle collector.
#[inline(never)]
pub(super) fn function_value(
    code: Rc<Code>,
    globals: Rc<Module>,
    defaults: Vec<Value>,
    kwdefaults: Vec<(Rc<PyStr>, Value)>,
    closure: Vec<Value>,
    annotations: Option<Rc<PyDict>>,
) -> Value {
    let f = Function {
        name: std::cell::RefCell::new(code.name.clone()),
        qualname: std::cell::RefCell::new(code.qualname.clone()),
        code,
        globals,
        defaults,
        kwdefaults,
        closure,
        dict: std::cell::RefCell::new(None),
        annotations: std::cell::RefCell::new(annotations),
        gc: Default::default(),
    };
    let f = Rc::new(f);
    crate::gc::track(&f);
    Value::Function(f)
}
