//! `_weakref`: the native half of `weakref`: the reference type itself
//! (in the interpreter, `aio_interp::weakref`), reference counts, and the
//! check for dead objects that `gc.collect()` and the weak containers make.

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::native_fn;
use aio_interp::weakref::{poll, ref_class, weak_count};
use aio_interp::{Value, Vm};

fn getweakrefcount(_vm: &mut Vm, args: Args) -> PyResult {
    match &args.pos[..] {
        [obj] => Ok(Value::Int(weak_count(obj) as i64)),
        other => Err(type_error(format!("getweakrefcount() takes exactly one argument ({} given)", other.len()))),
    }
}

/// Run the callbacks of references whose objects have died.
fn check(vm: &mut Vm, _args: Args) -> PyResult {
    poll(vm);
    Ok(Value::None)
}

/// The `_weakref` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let r = Value::Class(ref_class());
    Ok(vm.make_native_module(
        "_weakref",
        vec![
            ("ref", r.clone()),
            ("ReferenceType", r),
            ("getweakrefcount", native_fn("getweakrefcount", getweakrefcount)),
            ("_check", native_fn("_check", check)),
        ],
    ))
}
