//! `_typing`: what `typing` needs from the interpreter itself: evaluating
//! an annotation kept as text (`get_type_hints` on forward references and
//! under `from __future__ import annotations`) and finding a loaded module
//! by name (where a class's annotations were written).

use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{native_fn, type_name};
use aio_interp::{Value, Vm};

/// `eval_annotation(text, globalns, localns)`: `globalns` is a module or a
/// dict of globals, `localns` a dict or None.
fn eval_annotation(vm: &mut Vm, args: Args) -> PyResult {
    let [Value::Str(text), globalns, localns] = &args.pos[..] else {
        return Err(type_error("eval_annotation(text, globalns, localns)"));
    };
    let globals = match globalns {
        Value::Module(m) => m.clone(),
        Value::Dict(d) => {
            let m = Rc::new(Module::new("<annotations>"));
            for (k, v) in d.items() {
                if let Value::Str(k) = k {
                    m.set(k.as_str(), v);
                }
            }
            m
        }
        other => return Err(type_error(format!("globals must be a module or a dict, not {}", type_name(other)))),
    };
    let locals = match localns {
        Value::Dict(d) => Some(d.clone()),
        Value::None => None,
        Value::Instance(i) => match i.builtin_value() {
            Some(Value::Dict(d)) => Some(d),
            _ => return Err(type_error("locals must be a dict")),
        },
        other => return Err(type_error(format!("locals must be a dict, not {}", type_name(other)))),
    };
    vm.eval_source(text.as_str(), globals, locals)
}

/// `module(name)`: the loaded module of that name, or None.
fn module(vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Str(name)) => Ok(vm.modules.get(name.as_str()).cloned().unwrap_or(Value::None)),
        _ => Ok(Value::None),
    }
}

/// The `_typing` module.
pub fn module_new(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_typing",
        vec![("eval_annotation", native_fn("eval_annotation", eval_annotation)), ("module", native_fn("module", module))],
    ))
}
