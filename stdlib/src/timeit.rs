//! `_timeit`: runs the source text that `timeit.Timer` builds around a
//! statement given as a string, in a fresh namespace seeded from `globals`.

use aio_interp::compiler::Mode;
use aio_interp::exceptions::*;
use aio_interp::import::{compile_source, new_module, syntax_exception};
use aio_interp::object::*;
use aio_interp::types::native_fn;
use aio_interp::{Value, Vm};

/// `_timeit.run_source(text, globals)`: the module made by running `text`.
fn run_source(vm: &mut Vm, a: Args) -> PyResult {
    let Some(Value::Str(text)) = a.pos.first() else {
        return Err(type_error("run_source() needs the source text"));
    };
    let module = new_module("__timeit__", Some("<timeit-src>"));
    if let Some(Value::Dict(g)) = a.pos.get(1) {
        for (k, v) in g.items() {
            if let Value::Str(k) = k {
                module.set(k.as_str(), v);
            }
        }
    }
    let code = match compile_source("<timeit-src>", text.as_str(), &module, Mode::Module) {
        Ok(c) => c,
        Err((d, src)) => return Err(syntax_exception(&d, &src)),
    };
    vm.run_code(code, module.clone())?;
    Ok(Value::Module(module))
}

/// The `_timeit` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module("_timeit", vec![("run_source", native_fn("run_source", run_source))]))
}
