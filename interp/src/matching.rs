//! The run-time half of the `match` statement: which subjects are
//! sequences and mappings to a pattern, key lookup for mapping patterns,
//! and attribute extraction for class patterns, in CPython's order and
//! with its error messages.

use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::types::{type_of, types};
use crate::value::Value;
use crate::vm::Vm;

/// `__abc_tpflags__` bits a class may carry to declare itself a sequence or a mapping.
const FLAG_SEQUENCE: i64 = 1 << 5;
const FLAG_MAPPING: i64 = 1 << 6;

/// The class and its bases, most derived first.
fn lineage(cls: &Rc<Class>) -> Vec<Rc<Class>> {
    let mut all = vec![cls.clone()];
    all.extend(cls.mro.borrow().iter().cloned());
    all
}

/// Is `c` the class `module.name` (for native classes defined outside this crate)?
fn is_named(c: &Rc<Class>, module: &str, name: &str) -> bool {
    c.name.borrow().as_str() == name
        && match c.dict.get_str("__module__") {
            Some(Value::Str(m)) => m.as_str() == module,
            None => module == "builtins",
            _ => false,
        }
}

fn abc_flags(cls: &Rc<Class>) -> i64 {
    match cls.lookup("__abc_tpflags__") {
        Some(Value::Int(n)) => n,
        _ => 0,
    }
}

/// Does a sequence pattern apply to `v`? Lists, tuples, ranges, deques and
/// their subclasses do; `str`, `bytes` and mappings do not.
pub fn is_sequence(v: &Value) -> bool {
    match v {
        Value::List(_) | Value::Tuple(_) | Value::Range(_) => true,
        Value::Str(_) | Value::Bytes(_) | Value::Dict(_) | Value::Set(_) | Value::FrozenSet(_) => false,
        _ => {
            let t = types();
            let cls = type_of(v);
            lineage(&cls).iter().any(|c| {
                Rc::ptr_eq(c, &t.list) || Rc::ptr_eq(c, &t.tuple) || Rc::ptr_eq(c, &t.range) || is_named(c, "collections", "deque")
            }) || abc_flags(&cls) & FLAG_SEQUENCE != 0
        }
    }
}

/// Does a mapping pattern apply to `v`? Dicts and their subclasses do.
pub fn is_mapping(v: &Value) -> bool {
    match v {
        Value::Dict(_) => true,
        Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Bytes(_) | Value::Int(_) | Value::None => false,
        _ => {
            let t = types();
            let cls = type_of(v);
            lineage(&cls).iter().any(|c| Rc::ptr_eq(c, &t.dict)) || abc_flags(&cls) & FLAG_MAPPING != 0
        }
    }
}

/// The builtin classes whose instances a one-positional-argument class
/// pattern matches as a whole (`int(x)`, `str(s)`).
fn matches_self(cls: &Rc<Class>) -> bool {
    let t = types();
    let own = [&t.bool_, &t.bytes, &t.dict, &t.float, &t.frozenset, &t.int, &t.list, &t.set, &t.str_, &t.tuple];
    lineage(cls).iter().any(|c| own.iter().any(|o| Rc::ptr_eq(c, o)) || is_named(c, "builtins", "bytearray"))
}

fn class_name(cls: &Rc<Class>) -> String {
    cls.name.borrow().as_str().to_string()
}

impl Vm {
    /// For a mapping pattern: the values of `keys` in `subject` as a tuple,
    /// or None when one is missing. Lookups go through `get`, so a dict
    /// subclass's `__missing__` is not called.
    pub fn match_keys(&mut self, subject: &Value, keys: &Value) -> PyResult<Value> {
        let keys: Vec<Value> = match keys {
            Value::Tuple(t) => t.items.to_vec(),
            _ => Vec::new(),
        };
        let mut seen: Vec<Value> = Vec::new();
        for k in &keys {
            for s in &seen {
                if self.eq(s, k)? {
                    let r = self.repr_str(k)?;
                    return Err(value_error(format!("mapping pattern checks duplicate key ({r})")));
                }
            }
            seen.push(k.clone());
        }
        let mut values = Vec::with_capacity(keys.len());
        if let Value::Dict(d) = subject {
            for k in &keys {
                match self.dict_get(d, k)? {
                    Some(v) => values.push(v),
                    None => return Ok(Value::None),
                }
            }
            return Ok(Value::tuple(values));
        }
        let get = self.getattr(subject, &crate::intern::intern("get"))?;
        // A fresh list: no mapping can hold this very object.
        let missing = Value::list(Vec::new());
        for k in keys {
            let v = self.call(get.clone(), Args::new([k, missing.clone()]))?;
            if v.is(&missing) {
                return Ok(Value::None);
            }
            values.push(v);
        }
        Ok(Value::tuple(values))
    }

    /// For `**rest`: a new dict of the subject's items without `keys`.
    pub fn match_rest(&mut self, subject: &Value, keys: &Value) -> PyResult<Value> {
        let d = Rc::new(PyDict::new());
        self.dict_update_from(&d, subject, None)?;
        if let Value::Tuple(t) = keys {
            for k in t.items.iter() {
                self.dict_remove(&d, k)?;
            }
        }
        Ok(Value::Dict(d))
    }

    /// For a class pattern `cls(p1, ..., pn, a=..., b=...)`: the subject's
    /// attributes named by `__match_args__` and by `names`, as a tuple, or
    /// None when the subject is not an instance or lacks one of them.
    pub fn match_class(&mut self, subject: &Value, cls: &Value, names: &Value, npos: usize) -> PyResult<Value> {
        let Value::Class(c) = cls else {
            return Err(type_error("called match pattern must be a type"));
        };
        if !self.isinstance(subject, cls)? {
            return Ok(Value::None);
        }
        let mut seen: Vec<Rc<PyStr>> = Vec::new();
        let mut out = Vec::new();
        if npos > 0 {
            let match_args = c.lookup("__match_args__");
            let (args, own) = match match_args {
                Some(Value::Tuple(t)) => (t.items.to_vec(), false),
                Some(other) => {
                    return Err(type_error(format!(
                        "{}.__match_args__ must be a tuple (got {})",
                        class_name(c),
                        crate::types::type_name(&other)
                    )));
                }
                None => (Vec::new(), matches_self(c)),
            };
            let allowed = if own { 1 } else { args.len() };
            if allowed < npos {
                let plural = if allowed == 1 { "" } else { "s" };
                return Err(type_error(format!("{}() accepts {allowed} positional sub-pattern{plural} ({npos} given)", class_name(c))));
            }
            if own {
                out.push(subject.clone());
            } else {
                for a in args.iter().take(npos) {
                    let Value::Str(name) = a else {
                        return Err(type_error(format!("__match_args__ elements must be strings (got {})", crate::types::type_name(a))));
                    };
                    match self.match_attr(subject, c, name, &mut seen)? {
                        Some(v) => out.push(v),
                        None => return Ok(Value::None),
                    }
                }
            }
        }
        if let Value::Tuple(t) = names {
            for n in t.items.iter() {
                if let Value::Str(name) = n {
                    match self.match_attr(subject, c, name, &mut seen)? {
                        Some(v) => out.push(v),
                        None => return Ok(Value::None),
                    }
                }
            }
        }
        Ok(Value::tuple(out))
    }

    fn match_attr(&mut self, subject: &Value, cls: &Rc<Class>, name: &Rc<PyStr>, seen: &mut Vec<Rc<PyStr>>) -> PyResult<Option<Value>> {
        if seen.iter().any(|s| s.as_str() == name.as_str()) {
            return Err(type_error(format!("{}() got multiple sub-patterns for attribute '{}'", class_name(cls), name.as_str())));
        }
        seen.push(name.clone());
        match self.getattr(subject, name) {
            Ok(v) => Ok(Some(v)),
            Err(e) if is_instance_of(&e, &types().exc.attribute_error) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
