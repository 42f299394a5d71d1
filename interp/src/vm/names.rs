//! Name resolution the dispatch loop falls back on: builtins (cached per
//! global slot and invalidated by epoch), class-body and `exec` namespaces,
//! and the scope a NameError keeps for its suggestion.

use std::rc::Rc;

use crate::bytecode::Code;
use crate::exceptions::*;
use crate::object::*;
use crate::types::types;
use crate::value::Value;

use super::*;

impl Vm {
    pub(super) fn unbound_cell_error(&self, code: &Code, i: u32) -> PyErr {
        let name = code.varnames[i as usize].clone();
        err(
            &types().exc.name_error,
            format!("cannot access free variable '{}' where it is not associated with a value in enclosing scope", name.as_str()),
        )
    }

    /// A global that is not bound: the builtin of that name, remembered per
    /// slot so that `len` or `sleep` in a loop costs one array read.
    pub(super) fn load_builtin(&mut self, fi: usize, slot: u32) -> PyResult<Value> {
        let globals = self.frames[fi].globals.clone();
        if let Some((epoch, v)) = globals.builtin_cache.borrow().get(slot as usize) {
            if *epoch == self.builtins_epoch {
                return Ok(v.clone());
            }
        }
        let name = globals.name_of_slot(slot);
        let v = self.builtin(&name).map_err(|e| self.with_scope(e, fi))?;
        let mut cache = globals.builtin_cache.borrow_mut();
        if cache.len() <= slot as usize {
            cache.resize(slot as usize + 1, (0, Value::Undef));
        }
        cache[slot as usize] = (self.builtins_epoch, v.clone());
        Ok(v)
    }

    /// Rebind a builtin (voiding cached lookups).
    pub fn set_builtin(&mut self, name: &str, v: Value) {
        self.builtins.set_str(name, v);
        self.builtins_epoch = self.builtins_epoch.wrapping_add(1).max(1);
    }

    /// A builtin by name (loading lazy ones), or NameError.
    pub fn builtin(&mut self, name: &PyStr) -> PyResult<Value> {
        if let Some(v) = self.builtins.d.borrow().get_pystr(name) {
            return Ok(v);
        }
        if let Some(hook) = self.host.lazy_builtin() {
            if let Some(v) = hook(self, name.as_str())? {
                return Ok(v);
            }
        }
        Err(name_error(name.as_str()))
    }

    /// The `__prepare__` mapping a class body's stores go through, if its
    /// namespace `d` is not a plain dict.
    pub(super) fn namespace_mapping(&self, d: &Rc<PyDict>) -> Option<Value> {
        let key = Rc::as_ptr(d) as usize;
        self.class_namespaces.iter().rev().find(|(p, _)| *p == key).map(|(_, m)| m.clone())
    }

    pub(super) fn load_name(&mut self, fi: usize, name: &Rc<PyStr>) -> PyResult<Value> {
        if let Some(d) = &self.frames[fi].locals {
            if let Some(v) = d.d.borrow().get_pystr(name) {
                return Ok(v);
            }
        }
        if let Some(v) = self.frames[fi].globals.get(name.as_str()) {
            return Ok(v);
        }
        self.builtin(name).map_err(|e| self.with_scope(e, fi))
    }

    /// A NameError (or UnboundLocalError) keeps the names frame `fi` could
    /// see, so that its report can suggest one; nothing is compared here.
    pub(super) fn with_scope(&self, e: PyErr, fi: usize) -> PyErr {
        if !e.is(&types().exc.name_error) {
            return e;
        }
        let f = &self.frames[fi];
        let mut locals = Vec::new();
        let mut this = Value::None;
        for (i, name) in f.code.varnames.iter().enumerate() {
            let v = match self.stack.get(f.base + i) {
                Some(Value::Cell(c)) => c.v.borrow().clone(),
                Some(v) => v.clone(),
                None => break,
            };
            if v.is_undef() {
                continue;
            }
            if name.as_str() == "self" {
                this = v;
            }
            locals.push(name.clone());
        }
        let scope = Scope { globals: f.globals.clone(), namespace: f.locals.clone(), locals, this };
        e.with_detail(|d| d.scope = Some(scope))
    }
}
