//! `_copy`: the recursion of `copy.deepcopy`, with the memo a plain dict,
//! over the builtin containers (list, dict, tuple), the atomic values and
//! the instances of plain classes. Every other object goes to the
//! module's `_deepcopy_uncached`, which is given as an argument, so the
//! two share one memo and one keep-alive list.

use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::native_fn;
use aio_interp::{Value, Vm};

/// `_deepcopy_fast(x, memo, uncached)`: `deepcopy(x, memo)` for a dict memo.
fn deepcopy_fast(vm: &mut Vm, a: Args) -> PyResult {
    let [x, Value::Dict(memo), uncached] = &a.pos[..] else {
        return Err(type_error("_deepcopy_fast(x, memo, uncached): memo must be a dict"));
    };
    let cx = Copier { memo: memo.clone(), uncached: uncached.clone() };
    cx.deep(vm, x)
}

struct Copier {
    memo: Rc<PyDict>,
    uncached: Value,
}

impl Copier {
    /// `deepcopy(x, self.memo)`.
    fn deep(&self, vm: &mut Vm, x: &Value) -> PyResult<Value> {
        let d = Value::Int(crate::builtins::id_of(x));
        if let Some(y) = vm.dict_get(&self.memo, &d)? {
            return Ok(y);
        }
        // The classes `_deep_dispatch` maps to `_deepcopy_atomic` (a class
        // without a metaclass is an instance of `type`; one with a
        // metaclass is returned as itself by `_deepcopy_other` too).
        if matches!(
            x,
            Value::None
                | Value::NotImplemented
                | Value::Ellipsis
                | Value::Bool(_)
                | Value::Int(_)
                | Value::Float(_)
                | Value::BigInt(_)
                | Value::Str(_)
                | Value::Bytes(_)
                | Value::Range(_)
                | Value::Function(_)
                | Value::Class(_)
        ) {
            return Ok(x.clone());
        }
        // Each container level stands for the frames the module's Python
        // code would use (`deepcopy` and `_deepcopy_list`; a tuple's list
        // comprehension one more), so deep nesting ends in the same
        // RecursionError.
        let plain = match x {
            Value::Instance(i) => plain_instance(i),
            _ => None,
        };
        let levels = match x {
            Value::List(_) | Value::Dict(_) => 2,
            Value::Tuple(_) => 3,
            // CPython's `_reconstruct` path: deepcopy, _reconstruct, and
            // deepcopy and _deepcopy_dict for the state.
            Value::Instance(_) if plain.is_some() => 4,
            _ => return vm.call(self.uncached.clone(), Args::new([x.clone(), Value::Dict(self.memo.clone())])),
        };
        let mut entered = 0;
        let r = (|| {
            while entered < levels {
                vm.enter_nested("")?;
                entered += 1;
            }
            self.container(vm, x, &d, plain)
        })();
        for _ in 0..entered {
            vm.leave_nested();
        }
        let y = r?;
        if !y.is(x) {
            vm.dict_set(&self.memo, d, y.clone())?;
            self.keep_alive(vm, x)?;
        }
        Ok(y)
    }

    /// The copy of a list, dict, tuple or plain instance (with what
    /// `plain_instance` says of it) not in the memo.
    fn container(&self, vm: &mut Vm, x: &Value, d: &Value, plain: Option<(Rc<Class>, Vec<Rc<PyStr>>)>) -> PyResult<Value> {
        match x {
            Value::List(l) => {
                let y = Rc::new(PyList::new(Vec::with_capacity(l.len())));
                // Entered before the items, so that a list holding itself is copied once.
                vm.dict_set(&self.memo, d.clone(), Value::List(y.clone()))?;
                // The list is read as it is at each step, as a `for` loop does.
                let mut i = 0;
                while let Some(v) = l.get(i) {
                    let c = self.deep(vm, &v)?;
                    y.push(c);
                    i += 1;
                }
                Ok(Value::List(y))
            }
            Value::Dict(src) => {
                let y = Rc::new(PyDict::new());
                vm.dict_set(&self.memo, d.clone(), Value::Dict(y.clone()))?;
                let len = src.len();
                let mut pos = 0;
                loop {
                    let (k, v) = {
                        let data = src.d.borrow();
                        match data.next_from(pos) {
                            Some((next, e)) => {
                                pos = next;
                                (e.key.clone(), e.value.clone())
                            }
                            None => break,
                        }
                    };
                    let k = self.deep(vm, &k)?;
                    let v = self.deep(vm, &v)?;
                    vm.dict_set(&y, k, v)?;
                    if src.len() != len {
                        return Err(runtime_error("dictionary changed size during iteration"));
                    }
                }
                Ok(Value::Dict(y))
            }
            Value::Tuple(t) => {
                let mut items = Vec::with_capacity(t.len());
                for v in t.items.iter() {
                    items.push(self.deep(vm, v)?);
                }
                // A tuple reached again while its items were copied has its copy already.
                if let Some(y) = vm.dict_get(&self.memo, d)? {
                    return Ok(y);
                }
                // A tuple of things that did not change needs no copy.
                if items.iter().zip(t.items.iter()).all(|(a, b)| a.is(b)) {
                    return Ok(x.clone());
                }
                Ok(Value::tuple(items))
            }
            Value::Instance(i) => {
                let (cls, names) = plain.expect("a plain instance");
                let y = Instance::new(cls.clone(), Payload::None);
                vm.dict_set(&self.memo, d.clone(), Value::Instance(y.clone()))?;
                // Into the new instance's `__dict__`, past any descriptor
                // of the class, as CPython's `y.__dict__.update(state)`.
                for name in names {
                    if let Some(v) = i.dict_get(&name) {
                        let c = self.deep(vm, &v)?;
                        y.dict_set(name, c);
                    }
                }
                Ok(Value::Instance(y))
            }
            _ => unreachable!("a container"),
        }
    }

    /// `memo[id(memo)].append(x)`, the list made on first use: the
    /// originals stay alive so that no id is reused during the copy.
    fn keep_alive(&self, vm: &mut Vm, x: &Value) -> PyResult<()> {
        let memo = Value::Dict(self.memo.clone());
        let key = Value::Int(crate::builtins::id_of(&memo));
        match vm.dict_get(&self.memo, &key)? {
            Some(Value::List(l)) => l.push(x.clone()),
            Some(other) => {
                vm.call_method(&other, "append", vec![x.clone()])?;
            }
            None => vm.dict_set(&self.memo, key, Value::list(vec![x.clone()]))?,
        }
        Ok(())
    }
}

/// The class and attribute names of an instance that `_deepcopy_other`
/// would copy as a new instance given deep copies of its `__dict__`: its
/// class has no metaclass, `__getattribute__`, `__slots__`, builtin base
/// or `__deepcopy__`, and its attribute names are all strings.
fn plain_instance(i: &Instance) -> Option<(Rc<Class>, Vec<Rc<PyStr>>)> {
    if !matches!(i.payload, Payload::None) {
        return None;
    }
    let cls = i.class();
    if cls.layout != Layout::Object
        || cls.builtin.is_some()
        || cls.metaclass.borrow().is_some()
        || cls.flags.get() & CLASS_HAS_GETATTRIBUTE != 0
        || cls.slot_count() != 0
        || aio_interp::ops::lookup_special_in(&cls, "__deepcopy__").is_some()
    {
        return None;
    }
    let mut names = Vec::new();
    for k in i.dict_keys() {
        match k {
            Value::Str(s) => names.push(s),
            _ => return None,
        }
    }
    Some((cls, names))
}

pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module("_copy", vec![("_deepcopy_fast", native_fn("_deepcopy_fast", deepcopy_fast))]))
}
