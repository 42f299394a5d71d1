//! Exceptions in flight: finding a handler frame by frame, closing the
//! generators they leave, implicit chaining (`__context__`), and `except`
//! clause matching.

use std::rc::Rc;

use crate::bytecode::Op;
use crate::exceptions::*;
use crate::object::*;
use crate::types::types;
use crate::value::Value;

use super::*;

impl Vm {
    /// Look for a handler for `err`, raised at the current instruction of the
    /// top frame, popping frames that have none. `Ok` means a handler was
    /// found and the loop may continue; `Err` gives the exception back when
    /// it escapes frame `entry`.
    pub(crate) fn unwind(&mut self, err: PyErr, entry: usize, fresh: bool) -> PyResult<()> {
        let mut err = err;
        if fresh {
            self.chain_context(&err);
        }
        let mut first = true;
        loop {
            let Some(frame) = self.frames.last() else { return Err(err) };
            let ip = frame.ip.saturating_sub(1);
            if fresh || !first {
                err.push_traceback(&frame.code, ip);
            }
            first = false;
            let code = frame.code.clone();
            if let Some(h) = code.exc_table.iter().find(|h| (h.start as usize) <= ip && ip < h.end as usize) {
                let base = frame.base;
                self.stack.truncate(base + code.nlocals as usize + h.depth as usize);
                self.push(err.value());
                let f = self.frames.last_mut().expect("frame");
                f.ip = h.target as usize;
                return Ok(());
            }
            let frame = self.frames.pop().expect("frame");
            let frame_base = frame.base;
            match frame.into_kind() {
                FrameKind::Call => {
                    self.stack.truncate(frame_base - 1);
                }
                FrameKind::Gen { gen, mode, caller_exc } => {
                    self.stack.truncate(frame_base);
                    self.cur_exc = caller_exc;
                    gen.state.borrow_mut().close();
                    err = crate::generator::convert_stop_iteration(&gen, err);
                    if let (ResumeMode::Send(_) | ResumeMode::ForIter(_), Some(Value::Generator(head))) = (mode, self.stack.last()) {
                        if !Rc::ptr_eq(head, &gen) {
                            // The deepest generator of a chain raised: its
                            // parent gets the exception at its `Send`.
                            let head = head.clone();
                            crate::generator::chain_finished(self, &head, &gen, mode, None)?;
                            continue;
                        }
                    }
                    if let ResumeMode::ASend { closing: true, .. } = mode {
                        // aclose(): GeneratorExit or StopAsyncIteration out of the generator means closed.
                        if err.is(&types().exc.generator_exit) || err.is(&types().exc.stop_async_iteration) {
                            if self.frames.len() == entry {
                                return Err(err);
                            }
                            self.finish_asend_close(&gen)?;
                            return Ok(());
                        }
                    }
                    if matches!(mode, ResumeMode::ASend { .. }) {
                        gen.set_ag_running(false);
                    }
                }
            }
            if self.frames.len() == entry {
                return Err(err);
            }
        }
    }

    /// A closed async generator under `aclose()`: the awaitable returns None.
    pub(super) fn finish_asend_close(&mut self, gen: &Rc<Generator>) -> PyResult<()> {
        gen.set_ag_running(false);
        let caller = self.frames.last_mut().expect("caller");
        let ip = caller.ip;
        let exit = match caller.code.ops.at(ip - 1) {
            Op::Send(t) => t,
            _ => return Err(runtime_error("internal: aclose outside send")),
        };
        caller.ip = exit as usize;
        self.stack.pop();
        self.push(Value::None);
        Ok(())
    }

    /// Implicit exception chaining: a new exception raised while another is
    /// being handled gets it as `__context__`.
    pub(super) fn chain_context(&self, err: &PyErr) {
        if let Value::Instance(cur) = &self.cur_exc {
            if Rc::ptr_eq(cur, &err.0) {
                return;
            }
            if !err.context().is_none() {
                return;
            }
            // Avoid a cycle: cut `err` out of cur's context chain.
            let mut o = cur.clone();
            while let Some(d) = o.exc() {
                let next = d.context.borrow().clone();
                match next {
                    Value::Instance(n) => {
                        if Rc::ptr_eq(&n, &err.0) {
                            *o.exc().expect("exception").context.borrow_mut() = Value::None;
                            break;
                        }
                        o = n;
                    }
                    _ => break,
                }
            }
            err.set_context(self.cur_exc.clone());
        }
    }

    /// Does exception `exc` match the `except` clause type `typ`?
    pub fn exception_matches(&mut self, exc: &Value, typ: &Value) -> PyResult<bool> {
        match typ {
            Value::Class(c) => {
                if !c.is_subclass(&types().exc.base_exception) {
                    return Err(type_error("catching classes that do not inherit from BaseException is not allowed"));
                }
                Ok(matches!(exc, Value::Instance(i) if i.class().is_subclass(c)))
            }
            Value::Tuple(t) => {
                for item in t.items.iter() {
                    if self.exception_matches(exc, item)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Err(type_error("catching classes that do not inherit from BaseException is not allowed")),
        }
    }
}
