//! `_dataclasses`: the two per-instance steps of `dataclasses` that run
//! once for every record a program makes, done natively: `replace()` (a
//! copy with some fields changed) and the field stores of a frozen
//! class's `__init__` (`object.__setattr__` for each field, in one call).
//! Everything that runs once per class stays in `lib/dataclasses.aio`.

use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::intern::intern;
use aio_interp::object::*;
use aio_interp::types::{native_closure, native_fn, type_name, type_of};
use aio_interp::{Value, Vm};

/// `setattrs(obj, name, value, name, value, ...)`: `object.__setattr__`
/// for each pair, in order (the stores of a frozen class's `__init__`,
/// which go around the class's own `__setattr__`).
fn setattrs(vm: &mut Vm, args: Args) -> PyResult {
    let Some((obj, pairs)) = args.pos.split_first() else {
        return Err(type_error("setattrs(obj, name, value, ...)"));
    };
    let Value::Instance(inst) = obj else {
        return Err(type_error(format!("can't apply this __setattr__ to {} object", type_name(obj))));
    };
    let cls = inst.class();
    for pair in pairs.chunks(2) {
        let [Value::Str(name), value] = pair else {
            return Err(type_error("setattrs(obj, name, value, ...)"));
        };
        vm.generic_setattr(inst, &cls, name, value.clone())?;
    }
    Ok(Value::None)
}

/// What `replace` compares a field's kind and default with: the markers
/// of `lib/dataclasses.aio`.
struct Markers {
    classvar: Value,
    initvar: Value,
    missing: Value,
}

/// `replace(obj, /, **changes)`: `obj.__class__(**changes)`, the fields
/// not named in `changes` taken from `obj` (CPython's order of checks and
/// messages).
fn replace(vm: &mut Vm, args: Args, m: &Markers) -> PyResult {
    let obj = match &args.pos[..] {
        [obj] => obj.clone(),
        [] => return Err(type_error("replace() missing 1 required positional argument: 'obj'")),
        more => return Err(type_error(format!("replace() takes 1 positional argument but {} were given", more.len()))),
    };
    let fields_name = intern("__dataclass_fields__");
    if vm.lookup_attr(&Value::Class(type_of(&obj)), &fields_name)?.is_none() {
        return Err(type_error("replace() should be called on dataclass instances"));
    }
    let fields = match vm.getattr(&obj, &fields_name)? {
        Value::Dict(d) => d.items(),
        other => return Err(type_error(format!("'{}' object has no attribute 'values'", type_name(&other)))),
    };
    let mut changes = args.kw;
    let (field_type, init, name_attr, default) = (intern("_field_type"), intern("init"), intern("name"), intern("default"));
    for (_, f) in fields {
        let kind = vm.getattr(&f, &field_type)?;
        if kind.is(&m.classvar) {
            continue;
        }
        let name = match vm.getattr(&f, &name_attr)? {
            Value::Str(s) => s,
            other => return Err(type_error(format!("attribute name must be string, not '{}'", type_name(&other)))),
        };
        let given = changes.iter().any(|(k, _)| k.as_str() == name.as_str());
        let f_init = vm.getattr(&f, &init)?;
        if !vm.truthy(&f_init)? {
            if given {
                return Err(value_error(format!(
                    "field {} is declared with init=False, it cannot be specified with replace()",
                    name.as_str()
                )));
            }
            continue;
        }
        if !given {
            if kind.is(&m.initvar) && vm.getattr(&f, &default)?.is(&m.missing) {
                return Err(value_error(format!(
                    "InitVar {} must be specified with replace()",
                    aio_interp::numfmt::str_repr(name.as_str())
                )));
            }
            let value = vm.getattr(&obj, &name)?;
            changes.push((name, value));
        }
    }
    let cls = vm.getattr(&obj, &intern("__class__"))?;
    vm.call(cls, Args { pos: Default::default(), kw: changes })
}

/// `make_replace(classvar, initvar, missing)`: the `replace` function,
/// knowing the module's markers.
fn make_replace(_vm: &mut Vm, args: Args) -> PyResult {
    let [classvar, initvar, missing] = &args.pos[..] else {
        return Err(type_error("make_replace(classvar, initvar, missing)"));
    };
    let m = Rc::new(Markers { classvar: classvar.clone(), initvar: initvar.clone(), missing: missing.clone() });
    Ok(native_closure("replace", move |vm, args| replace(vm, args, &m)))
}

/// The `_dataclasses` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_dataclasses",
        vec![("setattrs", native_fn("setattrs", setattrs)), ("make_replace", native_fn("make_replace", make_replace))],
    ))
}
