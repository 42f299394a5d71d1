//! `_source`: source text run in a namespace, for the modules written in
//! .aio that need it: `eval` of an annotation kept as text (typing's
//! `get_type_hints`), `exec` of the methods `dataclass` writes for a class,
//! and finding a loaded module by name (where a class was defined).

use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{native_fn, type_name};
use aio_interp::{Value, Vm};

/// The module a `globalns` argument stands for: a module, or a dict of
/// globals copied into a scratch module.
fn globals_module(globalns: &Value) -> PyResult<Rc<Module>> {
    Ok(match globalns {
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
    })
}

/// A `localns` argument: a dict (or dict subclass), or None.
fn locals_dict(localns: &Value) -> PyResult<Option<Rc<PyDict>>> {
    Ok(match localns {
        Value::Dict(d) => Some(d.clone()),
        Value::None => None,
        Value::Instance(i) => match i.builtin_value() {
            Some(Value::Dict(d)) => Some(d),
            _ => return Err(type_error("locals must be a dict")),
        },
        other => return Err(type_error(format!("locals must be a dict, not {}", type_name(other)))),
    })
}

/// `eval(text, globalns, localns)`: the value of an expression.
fn eval(vm: &mut Vm, args: Args) -> PyResult {
    let [Value::Str(text), globalns, localns] = &args.pos[..] else {
        return Err(type_error("eval(text, globalns, localns)"));
    };
    let (globals, locals) = (globals_module(globalns)?, locals_dict(localns)?);
    vm.eval_source(text.as_str(), globals, locals)
}

/// `exec(text, globalns, localns)`: run statements, binding their names in `localns`.
fn exec(vm: &mut Vm, args: Args) -> PyResult {
    let [Value::Str(text), globalns, localns] = &args.pos[..] else {
        return Err(type_error("exec(text, globalns, localns)"));
    };
    let globals = globals_module(globalns)?;
    let locals = locals_dict(localns)?.ok_or_else(|| type_error("exec() needs a dict of locals"))?;
    vm.exec_source(text.as_str(), globals, locals)?;
    Ok(Value::None)
}

/// `module(name)`: the loaded module of that name, or None.
fn module(vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Str(name)) => Ok(vm.host.module(name.as_str()).cloned().unwrap_or(Value::None)),
        _ => Ok(Value::None),
    }
}

/// `source_of(obj)`: `(filename, text)` of the source a function, method,
/// code object, generator or module was compiled from, or None.
fn source_of(vm: &mut Vm, args: Args) -> PyResult {
    let pair = |name: &str, text: &str| Value::tuple(vec![Value::str(name), Value::str(text)]);
    Ok(match args.pos.first() {
        Some(Value::Function(f)) => pair(&f.code.source.name, &f.code.source.text),
        Some(Value::Code(c)) => pair(&c.source.name, &c.source.text),
        Some(Value::Generator(g)) => pair(&g.code.source.name, &g.code.source.text),
        Some(Value::BoundMethod(m)) => {
            let f = m.func.clone();
            return source_of(vm, Args::new([f]));
        }
        Some(Value::Module(m)) => {
            if let Some(text) = vm.host.source_module(m.name.as_str()) {
                return Ok(pair(&format!("<{}>", m.name.as_str()), text));
            }
            let file = m.file.borrow().clone();
            match file.and_then(|f| std::fs::read_to_string(&f).ok().map(|t| (f, t))) {
                Some((f, t)) => pair(&f, &t),
                None => Value::None,
            }
        }
        _ => Value::None,
    })
}

/// The `_source` module.
pub fn module_new(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_source",
        vec![
            ("eval", native_fn("eval", eval)),
            ("exec", native_fn("exec", exec)),
            ("module", native_fn("module", module)),
            ("source_of", native_fn("source_of", source_of)),
        ],
    ))
}
