//! `_copy`: the recursion of `copy.deepcopy` over the builtin containers
//! (list, dict, tuple) and the atomic values, with the memo a plain dict.
//! Every other object goes to the module's `_deepcopy_uncached`, which is
//! given as an argument, so the two share one memo and one keep-alive list.

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
        let levels = match x {
            Value::List(_) | Value::Dict(_) => 2,
            Value::Tuple(_) => 3,
            _ => return vm.call(self.uncached.clone(), Args::new([x.clone(), Value::Dict(self.memo.clone())])),
        };
        let mut entered = 0;
        let r = (|| {
            while entered < levels {
                vm.enter_nested("")?;
                entered += 1;
            }
            self.container(vm, x, &d)
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

    /// The copy of a list, dict or tuple not in the memo.
    fn container(&self, vm: &mut Vm, x: &Value, d: &Value) -> PyResult<Value> {
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

pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module("_copy", vec![("_deepcopy_fast", native_fn("_deepcopy_fast", deepcopy_fast))]))
}
