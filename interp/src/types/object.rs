//! `object` and `type`: the default methods every class inherits, and
//! `isinstance`/`issubclass`.

use crate::value::Flag;
use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::types::{method, type_of, BuiltinType, Types};
use crate::value::Value;
use crate::vm::Vm;

fn obj_init(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::None)
}

/// A class with abstract methods left (an ABC) cannot be instantiated.
pub fn check_abstract(vm: &mut Vm, cls: &Rc<Class>) -> PyResult<()> {
    let Some(abstracts) = cls.dict.get_str("__abstractmethods__") else { return Ok(()) };
    if !vm.truthy(&abstracts)? {
        return Ok(());
    }
    let mut names: Vec<String> = Vec::new();
    for n in vm.collect(&abstracts)? {
        names.push(vm.str_of(&n)?);
    }
    names.sort();
    Err(type_error(format!(
        "Can't instantiate abstract class {} with abstract method{} {}",
        cls.name().as_str(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    )))
}

fn obj_new(vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Class(c)) => {
            let c = c.clone();
            if c.metaclass.borrow().is_some() {
                check_abstract(vm, &c)?;
            }
            let rest = Args { pos: args.pos[1..].iter().cloned().collect(), kw: vec![] };
            if let Some(bt) = c.builtin {
                return crate::types::construct(vm, &c, bt, rest);
            }
            vm.new_instance(&c, &rest)
        }
        _ => Err(type_error("object.__new__(X): X is not a type object")),
    }
}

fn obj_eq(_vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = (&args.pos[0], args.pos.get(1).unwrap_or(&Value::None));
    Ok(if a.is(b) { Value::Bool(Flag::TRUE) } else { Value::NotImplemented })
}

fn obj_ne(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = (args.pos[0].clone(), args.pos.get(1).cloned().unwrap_or(Value::None));
    let r = vm.compare(crate::ops::EQ, &a, &b)?;
    match r {
        Value::NotImplemented => Ok(r),
        other => Ok(Value::bool(!vm.truthy(&other)?)),
    }
}

fn obj_hash(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(crate::hash::hash_id(args.pos[0].ptr().unwrap_or(0))))
}

fn obj_repr(_vm: &mut Vm, args: Args) -> PyResult {
    let v = &args.pos[0];
    Ok(Value::string(crate::ops::default_object_repr(&type_of(v), v)))
}

fn obj_str(vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::string(vm.repr_str(&args.pos[0])?))
}

fn obj_format(vm: &mut Vm, args: Args) -> PyResult {
    let spec = args.pos.get(1).cloned().unwrap_or(Value::str(""));
    if let Value::Str(s) = &spec {
        if !s.is_empty() {
            return Err(type_error(format!("unsupported format string passed to {}.__format__", crate::types::type_name(&args.pos[0]))));
        }
    }
    Ok(Value::string(vm.str_of(&args.pos[0])?))
}

fn obj_setattr(vm: &mut Vm, args: Args) -> PyResult {
    let (Some(Value::Instance(inst)), Some(Value::Str(name)), Some(v)) = (args.pos.first(), args.pos.get(1), args.pos.get(2)) else {
        return Err(type_error("expected (object, name, value)"));
    };
    let cls = inst.class();
    vm.generic_setattr(inst, &cls, name, v.clone())?;
    Ok(Value::None)
}

fn obj_getattribute(vm: &mut Vm, args: Args) -> PyResult {
    let (Some(obj), Some(Value::Str(name))) = (args.pos.first(), args.pos.get(1)) else {
        return Err(type_error("expected (object, name)"));
    };
    vm.generic_getattr(obj, name)
}

fn obj_delattr(vm: &mut Vm, args: Args) -> PyResult {
    let (Some(Value::Instance(inst)), Some(Value::Str(name))) = (args.pos.first(), args.pos.get(1)) else {
        return Err(type_error("expected (object, name)"));
    };
    vm.generic_delattr(inst, name)?;
    Ok(Value::None)
}

fn obj_init_subclass(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::None)
}

fn obj_subclasshook(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::NotImplemented)
}

fn obj_dir(vm: &mut Vm, args: Args) -> PyResult {
    let v = args.pos[0].clone();
    let mut names: Vec<String> = Vec::new();
    if let Value::Instance(i) = &v {
        names.extend(i.dict_keys().iter().filter_map(|k| k.as_str().map(|s| s.to_string())));
    }
    for c in type_of(&v).mro_iter() {
        names.extend(c.dict.keys().iter().filter_map(|k| k.as_str().map(|s| s.to_string())));
    }
    names.sort();
    names.dedup();
    let _ = vm;
    Ok(Value::list(names.iter().map(|n| Value::str(n)).collect()))
}

fn type_mro(_vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Class(c)) => Ok(Value::list(c.mro_iter().into_iter().map(Value::Class).collect())),
        _ => Err(type_error("descriptor 'mro' requires a 'type' object")),
    }
}

fn type_subclasses(_vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Class(c)) => Ok(Value::list(c.subclasses.borrow().iter().filter_map(|w| w.upgrade()).map(Value::Class).collect())),
        _ => Err(type_error("descriptor '__subclasses__' requires a 'type' object")),
    }
}

/// `type(x)` or `type(name, bases, dict, **kw)`.
pub fn type_new(vm: &mut Vm, args: Args) -> PyResult {
    type_new_as(vm, args, None)
}

/// `type(name, bases, dict)` making a class of metaclass `meta`.
fn type_new_as(vm: &mut Vm, args: Args, meta: Option<Rc<Class>>) -> PyResult {
    match args.pos.len() {
        1 => Ok(Value::Class(type_of(&args.pos[0]))),
        3 => {
            let Value::Str(name) = &args.pos[0] else { return Err(type_error("type.__new__() argument 1 must be str")) };
            let bases: Vec<Rc<Class>> = match &args.pos[1] {
                Value::Tuple(t) => t.items.iter().filter_map(|b| b.as_class().cloned()).collect(),
                _ => return Err(type_error("type.__new__() argument 2 must be tuple")),
            };
            let ns = match &args.pos[2] {
                Value::Dict(d) => d.clone(),
                other => match other.as_instance().and_then(|i| i.builtin_value()) {
                    Some(Value::Dict(d)) => d,
                    _ => return Err(type_error(format!("type.__new__() argument 3 must be dict, not {}", crate::types::type_name(other)))),
                },
            };
            let copy = Rc::new(PyDict::from_data(ns.d.borrow().clone()));
            if copy.get_str("__module__").is_none() {
                if let Some(m) = vm.frames.last().and_then(|f| f.globals.get("__name__")) {
                    copy.set_str("__module__", m);
                }
            }
            let cls = match meta {
                Some(m) => crate::call::new_type(vm, name.as_str(), bases, copy, Some(m), args.kw)?,
                None => crate::call::make_class(vm, name.as_str(), bases, copy, None, None, args.kw)?,
            };
            Ok(Value::Class(cls))
        }
        _ => Err(type_error("type() takes 1 or 3 arguments")),
    }
}

/// `type.__new__(mcs, name, bases, ns)` from a metaclass's `__new__`.
fn type_dunder_new(vm: &mut Vm, args: Args) -> PyResult {
    if args.pos.len() != 4 {
        return type_new(vm, Args { pos: args.pos.iter().skip(1).cloned().collect(), kw: vec![] });
    }
    let meta = args.pos[0].as_class().cloned().filter(|m| !Rc::ptr_eq(m, &crate::types::types().type_));
    // The namespace may be the one the class body filled: a plain dict.
    let rest = Args { pos: args.pos[1..].iter().cloned().collect(), kw: args.kw };
    match meta {
        Some(m) => type_new_as(vm, rest, Some(m)),
        None => type_new(vm, rest),
    }
}

fn type_setattr(vm: &mut Vm, args: Args) -> PyResult {
    let (Some(Value::Class(cls)), Some(Value::Str(name)), Some(v)) = (args.pos.first(), args.pos.get(1), args.pos.get(2)) else {
        return Err(type_error("descriptor '__setattr__' requires a 'type' object, a name and a value"));
    };
    vm.class_setattr(cls, name, v.clone())?;
    Ok(Value::None)
}

fn type_delattr(vm: &mut Vm, args: Args) -> PyResult {
    let (Some(Value::Class(cls)), Some(Value::Str(name))) = (args.pos.first(), args.pos.get(1)) else {
        return Err(type_error("descriptor '__delattr__' requires a 'type' object and a name"));
    };
    vm.class_delattr(cls, name)?;
    Ok(Value::None)
}

fn type_call(vm: &mut Vm, mut args: Args) -> PyResult {
    let cls = match args.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => return Err(type_error("descriptor '__call__' requires a 'type' object")),
    };
    args.pos.remove(0);
    if cls.builtin.is_some() {
        return vm.call_class(&cls, args);
    }
    check_abstract(vm, &cls)?;
    vm.make_instance(&cls, args)
}

/// The builtin `len` (here, where the dispatch loop knows it by its
/// entry: see `vm::quicken`).
pub fn builtin_len(vm: &mut Vm, args: &[Value]) -> PyResult {
    let [x] = args else {
        return Err(type_error(format!("len() takes exactly one argument ({} given)", args.len())));
    };
    Ok(Value::Int(vm.len(x)? as i64))
}

/// The builtin `isinstance`, as `builtin_len`.
pub fn builtin_isinstance(vm: &mut Vm, args: &[Value]) -> PyResult {
    let [obj, cls] = args else {
        return Err(type_error(format!("isinstance expected 2 arguments, got {}", args.len())));
    };
    Ok(Value::bool(vm.isinstance(obj, cls)?))
}

/// `isinstance(v, spec)` when no code of the program can take part: `spec`
/// a class with no metaclass (so no `__instancecheck__`), or a tuple of
/// such classes, and `v` an instance of it or a value of a builtin type
/// (which claims no other `__class__`). `None`: ask `Vm::isinstance`.
#[inline]
pub fn isinstance_quick(v: &Value, spec: &Value) -> Option<bool> {
    match spec {
        Value::Class(c) => class_has_quick(v, c),
        Value::Tuple(t) => {
            // In order, as the general check goes: a hook of a later class
            // runs only when no earlier one answered yes.
            for s in t.items.iter() {
                let Value::Class(c) = s else { return None };
                if class_has_quick(v, c)? {
                    return Some(true);
                }
            }
            Some(false)
        }
        _ => None,
    }
}

/// `isinstance_quick` for one class.
#[inline(always)]
fn class_has_quick(v: &Value, c: &Class) -> Option<bool> {
    if let Value::Instance(i) = v {
        // A real instance needs no metaclass hook (CPython's exact-type
        // shortcut); a no may still be a hook's, or a yes of a `__class__`
        // its class defines.
        let class = i.class.borrow();
        if class.is_subclass(c) {
            return Some(true);
        }
        let claims = c.metaclass.borrow().is_some() || crate::ops::lookup_special_in(&class, "__class__").is_some();
        return if claims { None } else { Some(false) };
    }
    if c.metaclass.borrow().is_some() {
        return None;
    }
    // The common builtin types by their variant, the rest by their class.
    let kind = match v {
        Value::Int(_) | Value::BigInt(_) => BuiltinType::Int,
        Value::Float(_) => BuiltinType::Float,
        Value::Str(_) => BuiltinType::Str,
        Value::Tuple(_) => BuiltinType::Tuple,
        Value::List(_) => BuiltinType::List,
        Value::Dict(_) => BuiltinType::Dict,
        Value::None => BuiltinType::NoneType,
        _ => return Some(type_of(v).is_subclass(c)),
    };
    Some(match c.builtin {
        Some(BuiltinType::Object) => true,
        Some(b) if is_leaf_kind(b) => kind == b,
        _ => type_of(v).is_subclass(c),
    })
}

/// A builtin type that none of `class_has_quick`'s kinds but its own is
/// an instance of.
#[inline(always)]
fn is_leaf_kind(b: BuiltinType) -> bool {
    use BuiltinType::*;
    matches!(b, Int | Float | Str | Tuple | List | Dict | NoneType)
}

impl Vm {
    /// `isinstance(v, spec)` for a class or a tuple of classes: the cases
    /// `isinstance_quick` answers inline, the rest out of line, so that
    /// the common case pays for no big frame.
    #[inline]
    pub fn isinstance(&mut self, v: &Value, spec: &Value) -> PyResult<bool> {
        if let Some(b) = isinstance_quick(v, spec) {
            return Ok(b);
        }
        self.isinstance_general(v, spec)
    }

    /// `isinstance` past the shortcut for instances.
    #[inline(never)]
    fn isinstance_general(&mut self, v: &Value, spec: &Value) -> PyResult<bool> {
        match spec {
            Value::Class(c) => {
                let t = type_of(v);
                if t.is_subclass(c) {
                    return Ok(true);
                }
                let check = c.metaclass.borrow().as_ref().and_then(|m| crate::ops::lookup_special_in(m, "__instancecheck__"));
                if let Some(f) = check {
                    let r = self.call(f, Args::new([spec.clone(), v.clone()]))?;
                    return self.truthy(&r);
                }
                // An object may claim another class through a `__class__`
                // of its own (a property, as mocks with a spec have).
                if let Value::Instance(_) = v {
                    if t.lookup("__class__").is_some() {
                        if let Value::Class(claimed) = self.getattr(v, &Rc::new(PyStr::new("__class__")))? {
                            return Ok(!Rc::ptr_eq(&claimed, &t) && claimed.is_subclass(c));
                        }
                    }
                }
                Ok(false)
            }
            Value::Tuple(t) => {
                self.enter_nested(" in __instancecheck__")?;
                let mut found = Ok(false);
                for s in t.items.iter() {
                    found = self.isinstance(v, s);
                    if !matches!(found, Ok(false)) {
                        break;
                    }
                }
                self.leave_nested();
                found
            }
            // A union (`int | str`), a typing construct: its class decides.
            Value::Instance(_) | Value::Object(_) => match crate::ops::lookup_special(spec, "__instancecheck__") {
                Some(f) => {
                    let r = self.call(f, Args::new([spec.clone(), v.clone()]))?;
                    self.truthy(&r)
                }
                None => Err(type_error("isinstance() arg 2 must be a type, a tuple of types, or a union")),
            },
            _ => Err(type_error("isinstance() arg 2 must be a type, a tuple of types, or a union")),
        }
    }

    /// `issubclass(c, spec)`.
    pub fn issubclass(&mut self, c: &Value, spec: &Value) -> PyResult<bool> {
        let check = |spec: &Value| match spec {
            Value::Class(s) => s.metaclass.borrow().as_ref().and_then(|m| crate::ops::lookup_special_in(m, "__subclasscheck__")),
            Value::Instance(_) | Value::Object(_) => crate::ops::lookup_special(spec, "__subclasscheck__"),
            _ => None,
        };
        if let (Value::Class(cls), Value::Class(s)) = (c, spec) {
            if cls.is_subclass(s) {
                return Ok(true);
            }
        }
        if let Some(f) = check(spec) {
            let r = self.call(f, Args::new([spec.clone(), c.clone()]))?;
            return self.truthy(&r);
        }
        let Value::Class(cls) = c else { return Err(type_error("issubclass() arg 1 must be a class")) };
        match spec {
            Value::Class(s) => Ok(cls.is_subclass(s)),
            Value::Tuple(t) => {
                self.enter_nested(" in __subclasscheck__")?;
                let mut found = Ok(false);
                for s in t.items.iter() {
                    found = self.issubclass(c, s);
                    if !matches!(found, Ok(false)) {
                        break;
                    }
                }
                self.leave_nested();
                found
            }
            _ => Err(type_error("issubclass() arg 2 must be a class, a tuple of classes, or a union")),
        }
    }
}

/// Install the methods of `object` and `type`.
pub fn install(t: &'static Types) {
    let o = &t.object;
    method(o, "object", "__init__", obj_init);
    o.dict.set_str("__new__", crate::attr::StaticMethod::wrap(crate::types::native_fn("__new__", obj_new)));
    method(o, "object", "__eq__", obj_eq);
    method(o, "object", "__ne__", obj_ne);
    method(o, "object", "__hash__", obj_hash);
    method(o, "object", "__repr__", obj_repr);
    method(o, "object", "__str__", obj_str);
    method(o, "object", "__format__", obj_format);
    method(o, "object", "__setattr__", obj_setattr);
    method(o, "object", "__getattribute__", obj_getattribute);
    method(o, "object", "__delattr__", obj_delattr);
    method(o, "object", "__dir__", obj_dir);
    o.dict.set_str("__init_subclass__", crate::attr::ClassMethod::wrap(crate::types::native_fn("__init_subclass__", obj_init_subclass)));
    o.dict.set_str("__subclasshook__", crate::attr::ClassMethod::wrap(crate::types::native_fn("__subclasshook__", obj_subclasshook)));
    let ty = &t.type_;
    method(ty, "type", "mro", type_mro);
    method(ty, "type", "__subclasses__", type_subclasses);
    method(ty, "type", "__call__", type_call);
    method(ty, "type", "__setattr__", type_setattr);
    method(ty, "type", "__delattr__", type_delattr);
    ty.dict.set_str("__new__", crate::attr::StaticMethod::wrap(crate::types::native_fn("__new__", type_dunder_new)));
    method(ty, "type", "__init__", obj_init);
    method(&t.function, "function", "__call__", |vm, args| callable_call(vm, args, "function"));
    method(&t.builtin_function, "builtin_function_or_method", "__call__", |vm, args| callable_call(vm, args, "builtin_function_or_method"));
    method(&t.method, "method", "__call__", |vm, args| callable_call(vm, args, "method"));
}

/// `f.__call__(...)` of a function, method or builtin: a call of `f`.
fn callable_call(vm: &mut Vm, mut args: Args, owner: &str) -> PyResult {
    if args.pos.is_empty() {
        return Err(type_error(format!("descriptor '__call__' of '{owner}' object needs an argument")));
    }
    let f = args.pos.remove(0);
    vm.call(f, args)
}
