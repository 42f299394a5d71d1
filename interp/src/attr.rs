//! Attribute access: instance dicts, lookup along the MRO, descriptors
//! (`property`, `staticmethod`, `classmethod`, user `__get__`/`__set__`),
//! `__getattr__`, method loading for calls, and `super()`.

use crate::value::Flag;
use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::ops::lookup_special;
use crate::types::member::Member;
use crate::types::{method, type_name, type_of, types, Types};
use crate::value::Value;
use crate::vm::Vm;

// ------------------------------------------------------------ descriptor objects

/// `property(fget, fset, fdel, doc)`.
pub struct Property {
    pub fget: Value,
    pub fset: Value,
    pub fdel: Value,
    pub doc: Value,
}

impl NativeObject for Property {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        types().property.clone()
    }
    fn getattr(&self, vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "fget" => Some(self.fget.clone()),
            "fset" => Some(self.fset.clone()),
            "fdel" => Some(self.fdel.clone()),
            "__doc__" => Some(self.doc.clone()),
            // Abstract when any of its functions is (`@property @abstractmethod`).
            "__isabstractmethod__" => {
                for f in [&self.fget, &self.fset, &self.fdel] {
                    if f.is_none() {
                        continue;
                    }
                    if let Some(v) = vm.getattr_opt(f, "__isabstractmethod__")? {
                        if vm.truthy(&v)? {
                            return Ok(Some(Value::Bool(Flag::TRUE)));
                        }
                    }
                }
                Some(Value::Bool(Flag::FALSE))
            }
            _ => None,
        })
    }
}

/// `staticmethod(f)`.
pub struct StaticMethod(pub Value);

impl StaticMethod {
    pub fn wrap(f: Value) -> Value {
        Value::object(StaticMethod(f))
    }
}

impl NativeObject for StaticMethod {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        types().staticmethod.clone()
    }
    fn getattr(&self, vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "__func__" | "__wrapped__" => Some(self.0.clone()),
            _ => vm.getattr_opt(&self.0, name)?,
        })
    }
}

/// `classmethod(f)`.
pub struct ClassMethod(pub Value);

impl ClassMethod {
    pub fn wrap(f: Value) -> Value {
        Value::object(ClassMethod(f))
    }
}

impl NativeObject for ClassMethod {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        types().classmethod.clone()
    }
    fn getattr(&self, vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "__func__" | "__wrapped__" => Some(self.0.clone()),
            _ => vm.getattr_opt(&self.0, name)?,
        })
    }
}

/// The function inside a `staticmethod` (or the value itself).
pub fn unwrap_staticmethod(v: &Value) -> Value {
    match v.downcast::<StaticMethod>() {
        Some(s) => s.0.clone(),
        None => v.clone(),
    }
}

/// The function inside a `classmethod` (or the value itself).
pub fn unwrap_classmethod(v: &Value) -> Value {
    match v.downcast::<ClassMethod>() {
        Some(s) => s.0.clone(),
        None => v.clone(),
    }
}

/// `super(type, obj)`: lookups start after `start` in the MRO of `obj`'s class.
pub struct Super {
    pub start: Rc<Class>,
    pub obj: Value,
    /// The class whose MRO is searched (obj's class, or obj itself for a class).
    pub obj_type: Rc<Class>,
}

impl NativeObject for Super {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        types().super_.clone()
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "__thisclass__" => Some(Value::Class(self.start.clone())),
            "__self__" => Some(self.obj.clone()),
            "__self_class__" => Some(Value::Class(self.obj_type.clone())),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<super: <class '{}'>, <{} object>>", self.start.name().as_str(), self.obj_type.name().as_str()))
    }
}

fn bind(f: Value, obj: Value) -> Value {
    BoundMethod::bind(f, obj)
}

impl Super {
    fn lookup(&self, vm: &mut Vm, name: &str) -> PyResult<Option<Value>> {
        match self.find(name) {
            Some(v) => Ok(Some(descriptor_get(vm, v, if self.of_class() { Value::None } else { self.obj.clone() }, &self.obj_type)?)),
            None => Ok(None),
        }
    }

    /// The attribute `name` of the first class after `start` in the MRO of
    /// `obj_type` that has one, as stored there.
    fn find(&self, name: &str) -> Option<Value> {
        super_find(&self.obj_type, &self.start, name, crate::hash::hash_str(name))
    }

    /// `super()` in a classmethod (the object is the class whose MRO is
    /// searched) leaves functions unbound; in a metaclass method the class
    /// is an instance, and binds.
    fn of_class(&self) -> bool {
        matches!(&self.obj, Value::Class(c) if Rc::ptr_eq(c, &self.obj_type))
    }
}

/// What `super(start, obj).name` finds, `obj_type` being the class of `obj`:
/// the attribute of the first class after `start` in the MRO of `obj_type`
/// that has one, as stored there (`hash` is the name's).
pub fn super_find(obj_type: &Rc<Class>, start: &Rc<Class>, name: &str, hash: i64) -> Option<Value> {
    let mro = obj_type.mro.borrow();
    // The MRO as stored leaves out the class itself.
    let from = if Rc::ptr_eq(obj_type, start) { 0 } else { mro.iter().position(|c| Rc::ptr_eq(c, start)).map_or(mro.len(), |p| p + 1) };
    mro[from..].iter().find_map(|c| c.dict.get_str_hashed(name, hash))
}

/// Apply the descriptor protocol to a class attribute `v` read through
/// `obj` (None when read through the class `cls`).
pub fn descriptor_get(vm: &mut Vm, v: Value, obj: Value, cls: &Rc<Class>) -> PyResult<Value> {
    match &v {
        Value::Function(_) => Ok(if obj.is_none() { v } else { bind(v, obj) }),
        Value::Native(n) if n.is_method() => Ok(if obj.is_none() { v } else { bind(v, obj) }),
        Value::Object(o) => {
            let any = o.as_any();
            if let Some(p) = any.downcast_ref::<Property>() {
                if obj.is_none() {
                    return Ok(v.clone());
                }
                if p.fget.is_none() {
                    return Err(attribute_error("unreadable attribute"));
                }
                return vm.call(p.fget.clone(), Args::new([obj]));
            }
            if let Some(s) = any.downcast_ref::<StaticMethod>() {
                return Ok(s.0.clone());
            }
            if let Some(c) = any.downcast_ref::<ClassMethod>() {
                return Ok(bind(c.0.clone(), Value::Class(cls.clone())));
            }
            if let Some(m) = any.downcast_ref::<Member>() {
                return if obj.is_none() { Ok(v.clone()) } else { m.get(&obj) };
            }
            if let Some(get) = lookup_special(&v, "__get__") {
                return vm.call(get, Args::new([v.clone(), obj, Value::Class(cls.clone())]));
            }
            Ok(v)
        }
        Value::Instance(_) => {
            if let Some(get) = lookup_special(&v, "__get__") {
                return vm.call(get, Args::new([v.clone(), obj, Value::Class(cls.clone())]));
            }
            Ok(v)
        }
        _ => Ok(v),
    }
}

/// Is a class attribute a data descriptor (it wins over the instance dict)?
fn is_data_descriptor(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.as_any().is::<Property>() || o.as_any().is::<Member>(),
        Value::Instance(_) => lookup_special(v, "__set__").is_some() || lookup_special(v, "__delete__").is_some(),
        _ => false,
    }
}

/// `AttributeError` for `obj.name`, keeping both for the report's suggestion.
pub fn no_attribute(obj: &Value, name: &str) -> PyErr {
    let e = match obj {
        Value::Class(c) => attribute_error(format!("type object '{}' has no attribute '{}'", c.name().as_str(), name)),
        Value::Module(m) => attribute_error(format!("module '{}' has no attribute '{}'", m.name.as_str(), name)),
        _ => attribute_error(format!("'{}' object has no attribute '{}'", type_name(obj), name)),
    };
    e.with_detail(|d| {
        d.name = Value::str(name);
        d.obj = obj.clone();
    })
}

/// Give `cls` and every class below it `flag` (a special method set on a
/// class after its subclasses were made).
fn set_class_flag(cls: &Rc<Class>, flag: u32) {
    cls.flags.set(cls.flags.get() | flag);
    let subs: Vec<Rc<Class>> = cls.subclasses.borrow().iter().filter_map(|w| w.upgrade()).collect();
    for s in &subs {
        set_class_flag(s, flag);
    }
}

/// The `__getattribute__` an instance's class defines in Python, if any.
fn own_getattribute(obj: &Value) -> Option<Value> {
    match obj {
        Value::Instance(inst) if inst.class().flags.get() & crate::object::CLASS_HAS_GETATTRIBUTE != 0 => {
            lookup_special(obj, "__getattribute__").filter(|f| !matches!(f, Value::Native(_)))
        }
        _ => None,
    }
}

impl Vm {
    /// `obj.name`: the class's `__getattribute__` when it defines one, else
    /// the generic lookup; `__getattr__` answers for what either lacks.
    pub fn getattr(&mut self, obj: &Value, name: &Rc<PyStr>) -> PyResult<Value> {
        let err = match own_getattribute(obj) {
            Some(ga) => match self.call(ga, Args::new([obj.clone(), Value::Str(name.clone())])) {
                Err(e) if e.is(&types().exc.attribute_error) => e,
                r => return r,
            },
            None => match self.getattr_inner(obj, name) {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => no_attribute(obj, name.as_str()),
                // An AttributeError from a descriptor (a property's getter) asks `__getattr__` too.
                Err(e) if e.is(&types().exc.attribute_error) => e,
                Err(e) => return Err(e),
            },
        };
        if let Value::Instance(_) | Value::Object(_) = obj {
            if let Some(ga) = lookup_special(obj, "__getattr__") {
                return self.call(ga, Args::new([obj.clone(), Value::Str(name.clone())]));
            }
        }
        Err(err)
    }

    /// `object.__getattribute__(obj, name)`: the lookup without the
    /// class's own `__getattribute__` or `__getattr__`.
    pub fn generic_getattr(&mut self, obj: &Value, name: &Rc<PyStr>) -> PyResult<Value> {
        self.getattr_inner(obj, name)?.ok_or_else(|| no_attribute(obj, name.as_str()))
    }

    /// `getattr(obj, name, None)`-like: None when missing (other errors propagate).
    pub fn getattr_opt(&mut self, obj: &Value, name: &str) -> PyResult<Option<Value>> {
        self.lookup_attr(obj, &crate::intern::intern(name))
    }

    /// `obj.name`, or None where `getattr` would raise `AttributeError`
    /// (other errors propagate). The same lookup as `getattr`, without
    /// making the exception that `hasattr` and `getattr(obj, name, default)`
    /// would only drop: a miss costs no more than a hit.
    pub fn lookup_attr(&mut self, obj: &Value, name: &Rc<PyStr>) -> PyResult<Option<Value>> {
        let missed = if own_getattribute(obj).is_some() {
            None
        } else {
            match self.getattr_inner(obj, name) {
                Ok(Some(v)) => return Ok(Some(v)),
                Ok(None) => Some(()),
                // An AttributeError from a descriptor (a property's getter) asks `__getattr__` too.
                Err(e) if e.is(&types().exc.attribute_error) => Some(()),
                Err(e) => return Err(e),
            }
        };
        let r = match missed {
            Some(()) => match obj {
                Value::Instance(_) | Value::Object(_) => match lookup_special(obj, "__getattr__") {
                    Some(ga) => self.call(ga, Args::new([obj.clone(), Value::Str(name.clone())])),
                    None => return Ok(None),
                },
                _ => return Ok(None),
            },
            None => self.getattr(obj, name),
        };
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is(&types().exc.attribute_error) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn getattr_inner(&mut self, obj: &Value, name: &Rc<PyStr>) -> PyResult<Option<Value>> {
        let n = name.as_str();
        match obj {
            Value::Instance(inst) => {
                let cls = inst.class();
                let cls_attr = cls.lookup_pystr(name);
                if let Some(a) = &cls_attr {
                    if is_data_descriptor(a) {
                        return descriptor_get(self, a.clone(), obj.clone(), &cls).map(Some);
                    }
                }
                if let Some(v) = inst.dict_get(name) {
                    return Ok(Some(v));
                }
                if let Some(v) = exc_getattr(inst, n) {
                    return Ok(Some(v));
                }
                if let Some(a) = cls_attr {
                    return descriptor_get(self, a, obj.clone(), &cls).map(Some);
                }
                Ok(match n {
                    "__class__" => Some(Value::Class(cls)),
                    "__dict__" => inst.dict().map(Value::Dict),
                    _ => None,
                })
            }
            Value::Class(cls) => {
                if n == "__annotations__" {
                    // A class's own annotations, never a base's (made empty on first use).
                    return Ok(Some(match cls.dict.get_str(n) {
                        Some(v) => v,
                        None if cls.builtin.is_some() => return Err(no_attribute(obj, n)),
                        None => {
                            let d = Value::Dict(Rc::new(PyDict::new()));
                            cls.dict.set_str(n, d.clone());
                            d
                        }
                    }));
                }
                if let Some(v) = cls.lookup_pystr(name) {
                    return descriptor_get(self, v, Value::None, cls).map(Some);
                }
                Ok(match n {
                    "__name__" => Some(Value::Str(cls.name())),
                    "__qualname__" => Some(Value::Str(cls.qualname.borrow().clone())),
                    "__mro__" => Some(Value::tuple(cls.mro_iter().into_iter().map(Value::Class).collect::<Vec<_>>())),
                    "__bases__" => Some(Value::tuple(cls.bases.borrow().iter().cloned().map(Value::Class).collect::<Vec<_>>())),
                    "__base__" => Some(cls.bases.borrow().first().cloned().map(Value::Class).unwrap_or(Value::None)),
                    "__dict__" => Some(Value::Dict(cls.dict.clone())),
                    "__doc__" => Some(Value::None),
                    "__module__" => Some(Value::str("builtins")),
                    "__class__" => Some(Value::Class(type_of(obj))),
                    _ => {
                        // Methods defined on the metaclass.
                        let meta = cls.metaclass.borrow().clone();
                        match meta {
                            Some(m) => match m.lookup(n) {
                                Some(v) => Some(descriptor_get(self, v, obj.clone(), &m)?),
                                None => None,
                            },
                            None => match types().type_.lookup(n) {
                                Some(v) => Some(descriptor_get(self, v, obj.clone(), &types().type_)?),
                                None => None,
                            },
                        }
                    }
                })
            }
            Value::Module(m) => Ok(match m.get(n) {
                Some(v) => Some(v),
                None => match n {
                    "__name__" => Some(Value::Str(m.name.clone())),
                    "__annotations__" => {
                        let d = Value::Dict(Rc::new(PyDict::new()));
                        m.set(n, d.clone());
                        Some(d)
                    }
                    "__dict__" => {
                        let d = Rc::new(PyDict::new());
                        for (k, v) in m.entries() {
                            d.set_str_rc(k, v);
                        }
                        Some(Value::Dict(d))
                    }
                    // A module's own `__getattr__(name)` answers for the names it lacks (PEP 562).
                    // Its AttributeError keeps the module and the name, for the
                    // report's "Did you mean" (as a plain missing attribute does).
                    _ => match m.get("__getattr__") {
                        Some(f) => match self.call_pos(&f, [Value::Str(name.clone())]) {
                            Ok(v) => Some(v),
                            Err(e) if e.is(&types().exc.attribute_error) => {
                                return Err(e.with_detail(|d| {
                                    if d.name.is_none() {
                                        d.name = Value::Str(name.clone());
                                        d.obj = obj.clone();
                                    }
                                }))
                            }
                            Err(e) => return Err(e),
                        },
                        None => None,
                    },
                },
            }),
            Value::Function(f) => {
                if let Some(d) = f.dict.borrow().as_ref() {
                    if let Some(v) = d.get_str(n) {
                        return Ok(Some(v));
                    }
                }
                Ok(match n {
                    "__name__" => Some(Value::Str(f.name.borrow().clone())),
                    "__qualname__" => Some(Value::Str(f.qualname.borrow().clone())),
                    "__module__" => f.globals.get("__name__"),
                    "__doc__" => Some(f.code.doc.clone().map_or(Value::None, Value::Str)),
                    "__defaults__" => Some(if f.defaults.is_empty() { Value::None } else { Value::tuple(f.defaults.clone()) }),
                    "__code__" => Some(Value::Code(f.code.clone())),
                    "__globals__" => Some(Value::Module(f.globals.clone())),
                    "__dict__" => {
                        let d = f.dict.borrow_mut().get_or_insert_with(|| Rc::new(PyDict::new())).clone();
                        Some(Value::Dict(d))
                    }
                    "__class__" => Some(Value::Class(types().function.clone())),
                    "__annotations__" => {
                        Some(Value::Dict(f.annotations.borrow_mut().get_or_insert_with(|| Rc::new(PyDict::new())).clone()))
                    }
                    "__kwdefaults__" => Some(if f.kwdefaults.is_empty() {
                        Value::None
                    } else {
                        let d = PyDict::new();
                        for (k, v) in &f.kwdefaults {
                            d.set_str_rc(k.clone(), v.clone());
                        }
                        Value::Dict(Rc::new(d))
                    }),
                    "__get__" => Some(crate::types::native_closure("__get__", {
                        let f = obj.clone();
                        move |_vm, a| {
                            Ok(if a.pos.first().is_none_or(|o| o.is_none()) { f.clone() } else { bind(f.clone(), a.pos[0].clone()) })
                        }
                    })),
                    _ => self.type_attr(obj, name)?,
                })
            }
            Value::BoundMethod(b) => Ok(match n {
                "__self__" => Some(b.self_.clone()),
                "__func__" => Some(b.func.clone()),
                "__class__" => Some(Value::Class(type_of(obj))),
                "__call__" => self.type_attr(obj, name)?,
                _ => self.getattr_opt(&b.func, n)?,
            }),
            Value::Native(f) => Ok(match n {
                "__name__" | "__qualname__" => Some(Value::Str(f.name.clone())),
                "__doc__" | "__self__" => Some(Value::None),
                "__module__" => Some(Value::str("builtins")),
                "__class__" => Some(Value::Class(types().builtin_function.clone())),
                _ => self.type_attr(obj, name)?,
            }),
            Value::Object(o) => {
                let o = o.clone();
                // A super object searches the MRO first: only `__class__` and
                // what the MRO does not have are its own.
                if let Some(s) = o.as_any().downcast_ref::<Super>() {
                    if n != "__class__" {
                        if let Some(v) = s.lookup(self, n)? {
                            return Ok(Some(v));
                        }
                    }
                }
                let cls = o.class();
                let cls_attr = cls.lookup_pystr(name);
                if let Some(a) = &cls_attr {
                    if is_data_descriptor(a) {
                        return descriptor_get(self, a.clone(), obj.clone(), &cls).map(Some);
                    }
                }
                if let Some(v) = o.getattr(self, obj, n)? {
                    return Ok(Some(v));
                }
                if let Some(a) = cls_attr {
                    return descriptor_get(self, a, obj.clone(), &cls).map(Some);
                }
                Ok(match n {
                    "__class__" => Some(Value::Class(cls)),
                    _ => None,
                })
            }
            _ => match self.type_attr(obj, name)? {
                Some(v) => Ok(Some(v)),
                None => self.builtin_data_attr(obj, n),
            },
        }
    }

    /// `name` from the class of `obj`, bound as its descriptor binds it.
    fn type_attr(&mut self, obj: &Value, name: &Rc<PyStr>) -> PyResult<Option<Value>> {
        let cls = type_of(obj);
        match cls.lookup_pystr(name) {
            Some(v) => descriptor_get(self, v, obj.clone(), &cls).map(Some),
            None => Ok(None),
        }
    }

    /// Data attributes of builtin values (`x.real`, `s.start`, `g.__name__`).
    fn builtin_data_attr(&mut self, obj: &Value, n: &str) -> PyResult<Option<Value>> {
        if let Value::Future(f) = obj {
            if let Some(v) = crate::task::getattr(f, n) {
                return Ok(Some(v));
            }
        }
        Ok(match (obj, n) {
            (_, "__class__") => Some(Value::Class(type_of(obj))),
            (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), "real" | "numerator") => Some(match obj {
                Value::Bool(b) => Value::Int(b.get() as i64),
                o => o.clone(),
            }),
            (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), "imag") => Some(Value::Int(0)),
            (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), "denominator") => Some(Value::Int(1)),
            (Value::Float(_), "real") => Some(obj.clone()),
            (Value::Float(_), "imag") => Some(Value::float(0.0)),
            (Value::Slice(s), "start") => Some(s.start.clone()),
            (Value::Slice(s), "stop") => Some(s.stop.clone()),
            (Value::Slice(s), "step") => Some(s.step.clone()),
            (Value::Range(r), "start") => Some(Value::Int(r.start)),
            (Value::Range(r), "stop") => Some(Value::Int(r.stop)),
            (Value::Range(r), "step") => Some(Value::Int(r.step)),
            (Value::Generator(g), "__name__") => Some(Value::Str(g.name().clone())),
            (Value::Generator(g), "__qualname__") => Some(Value::Str(g.qualname().clone())),
            (Value::Generator(g), "gi_running" | "cr_running" | "ag_running") => {
                Some(Value::bool(g.state.borrow().status == GenStatus::Running))
            }
            (Value::Generator(g), "gi_frame" | "cr_frame" | "ag_frame") => {
                Some(if g.state.borrow().status == GenStatus::Closed { Value::None } else { Value::Bool(Flag::TRUE) })
            }
            (Value::Generator(g), "gi_suspended" | "cr_suspended" | "ag_suspended") => {
                Some(Value::bool(g.state.borrow().status == GenStatus::Suspended))
            }
            (Value::Generator(g), "gi_code" | "cr_code" | "ag_code") => Some(Value::Code(g.code.clone())),
            (Value::Generator(_), "cr_await" | "gi_yieldfrom" | "ag_await") => Some(Value::None),
            // Where the coroutine was made, as (file, line, function) tuples,
            // once sys.set_coroutine_origin_tracking_depth() asked for it;
            // the frame that made it is the one kept.
            (Value::Generator(g), "cr_origin") if g.kind == GenKind::Coroutine => {
                let origin = g.origin();
                Some(match origin {
                    Some(o) if crate::generator::origin_tracking_depth() > 0 => {
                        let entry = Value::tuple(vec![
                            Value::str(&o.code.source.name),
                            Value::Int(o.code.line_at(o.ip as usize) as i64),
                            Value::Str(o.code.name.clone()),
                        ]);
                        Value::tuple([entry])
                    }
                    _ => Value::None,
                })
            }
            (Value::Code(c), "co_name") => Some(Value::Str(c.name.clone())),
            (Value::Code(c), "co_filename") => Some(c.source.name_value()),
            (Value::Code(c), "co_firstlineno") => Some(Value::Int(c.source.line_of(c.span.start) as i64)),
            (Value::Code(c), "co_qualname") => Some(Value::Str(c.qualname.clone())),
            (Value::Code(c), "co_argcount") => Some(Value::Int(c.argcount as i64)),
            (Value::Code(c), "co_posonlyargcount") => Some(Value::Int(c.posonlyargcount as i64)),
            (Value::Code(c), "co_kwonlyargcount") => Some(Value::Int(c.kwonlyargcount as i64)),
            (Value::Code(c), "co_nlocals") => Some(Value::Int(c.nlocals as i64)),
            (Value::Code(c), "co_varnames") => Some(Value::tuple(c.varnames.iter().map(|n| Value::Str(n.clone())).collect::<Vec<_>>())),
            (Value::Code(c), "co_flags") => Some(Value::Int(c.co_flags())),
            (_, "__doc__") => Some(Value::None),
            _ => None,
        })
    }

    /// `obj.name = value`.
    pub fn setattr(&mut self, obj: &Value, name: &Rc<PyStr>, value: Value) -> PyResult<()> {
        let n = name.as_str();
        match obj {
            Value::Instance(inst) => {
                let cls = inst.class();
                if let Some(f) = crate::ops::lookup_special_in(&cls, "__setattr__") {
                    if !matches!(f, Value::Native(_)) {
                        self.call_pos(&f, [obj.clone(), Value::Str(name.clone()), value])?;
                        return Ok(());
                    }
                }
                self.generic_setattr(inst, &cls, name, value)
            }
            Value::Class(cls) => {
                // A metaclass's own __setattr__ (an enum refusing to rebind a member).
                if let Some(f) = lookup_special(obj, "__setattr__").filter(|f| !matches!(f, Value::Native(_))) {
                    self.call_pos(&f, [obj.clone(), Value::Str(name.clone()), value])?;
                    return Ok(());
                }
                self.class_setattr(cls, name, value)
            }
            Value::Module(m) => {
                if m.name.as_str() == "builtins" {
                    self.set_builtin(n, value.clone());
                }
                m.set(n, value);
                Ok(())
            }
            Value::Function(f) => {
                match n {
                    "__name__" => {
                        if let Value::Str(s) = &value {
                            *f.name.borrow_mut() = s.clone();
                        }
                    }
                    "__qualname__" => {
                        if let Value::Str(s) = &value {
                            *f.qualname.borrow_mut() = s.clone();
                        }
                    }
                    "__annotations__" => match value {
                        Value::Dict(d) => *f.annotations.borrow_mut() = Some(d),
                        _ => return Err(type_error("__annotations__ must be set to a dict object")),
                    },
                    _ => f.dict.borrow_mut().get_or_insert_with(|| Rc::new(PyDict::new())).set_str_rc(name.clone(), value),
                }
                Ok(())
            }
            Value::Future(f) if n == "_asyncio_future_blocking" => {
                f.set_blocking(matches!(value, Value::Bool(Flag::TRUE)));
                Ok(())
            }
            Value::Future(f) if n == "_log_traceback" => {
                f.set_log_traceback(matches!(value, Value::Bool(Flag::TRUE)));
                Ok(())
            }
            Value::Object(o) => {
                let o = o.clone();
                let cls = o.class();
                if let Some(a) = cls.lookup_pystr(name) {
                    if let Some(p) = a.downcast::<Property>() {
                        if p.fset.is_none() {
                            return Err(attribute_error(format!("property '{}' of '{}' object has no setter", n, cls.name().as_str())));
                        }
                        self.call(p.fset.clone(), Args::new([obj.clone(), value]))?;
                        return Ok(());
                    }
                }
                if o.setattr(self, n, value)? {
                    return Ok(());
                }
                Err(no_attribute(obj, n))
            }
            _ => Err(no_attribute(obj, n)),
        }
    }

    /// `type.__setattr__`: set a class attribute (`__name__` and
    /// `__qualname__` rename the class).
    pub fn class_setattr(&mut self, cls: &Rc<Class>, name: &Rc<PyStr>, value: Value) -> PyResult<()> {
        let n = name.as_str();
        if cls.builtin.is_some() {
            return Err(type_error(format!("cannot set '{}' attribute of immutable type '{}'", n, cls.name().as_str())));
        }
        match n {
            "__name__" => {
                if let Value::Str(s) = &value {
                    *cls.name.borrow_mut() = s.clone();
                }
            }
            "__qualname__" => {
                if let Value::Str(s) = &value {
                    *cls.qualname.borrow_mut() = s.clone();
                }
            }
            "__del__" | "__getattribute__" | "__bool__" | "__len__" | "__hash__" | "__eq__" | "__ne__" | "__get__" => {
                if matches!(n, "__hash__" | "__eq__") {
                    crate::object::bump_hash_generation();
                }
                set_class_flag(cls, crate::object::class_flag_for(n));
                cls.dict.set_str_rc(name.clone(), value)
            }
            _ => cls.dict.set_str_rc(name.clone(), value),
        }
        Ok(())
    }

    /// `type.__delattr__`: remove a class attribute.
    pub fn class_delattr(&mut self, cls: &Rc<Class>, name: &Rc<PyStr>) -> PyResult<()> {
        if cls.builtin.is_some() {
            return Err(type_error(format!("cannot delete '{}' attribute of immutable type '{}'", name.as_str(), cls.name().as_str())));
        }
        if cls.dict.remove_str(name.as_str()).is_none() {
            return Err(no_attribute(&Value::Class(cls.clone()), name.as_str()));
        }
        Ok(())
    }

    /// `object.__setattr__(inst, name, value)`.
    pub fn generic_setattr(&mut self, inst: &Rc<Instance>, cls: &Rc<Class>, name: &Rc<PyStr>, value: Value) -> PyResult<()> {
        let n = name.as_str();
        if let Some(a) = cls.lookup_pystr(name) {
            if let Some(p) = a.downcast::<Property>() {
                if p.fset.is_none() {
                    return Err(attribute_error(format!("property '{}' of '{}' object has no setter", n, cls.name().as_str())));
                }
                let f = p.fset.clone();
                self.call_pos(&f, [Value::Instance(inst.clone()), value])?;
                return Ok(());
            }
            if let Some(m) = a.downcast::<Member>() {
                return m.set(&Value::Instance(inst.clone()), value);
            }
            if let Value::Instance(_) = &a {
                if let Some(set) = lookup_special(&a, "__set__") {
                    self.call(set, Args::new([a.clone(), Value::Instance(inst.clone()), value]))?;
                    return Ok(());
                }
            }
        }
        if exc_setattr(inst, n, value.clone())? {
            return Ok(());
        }
        if Rc::ptr_eq(cls, &types().object) {
            // Plain `object()` instances have no __dict__.
            return Err(attribute_error(format!("'object' object has no attribute '{n}'")));
        }
        if n == "__class__" {
            if let Value::Class(c) = value {
                if !crate::types::member::same_layout(cls, &c) {
                    let msg = format!("__class__ assignment: '{}' object layout differs from '{}'", c.name().as_str(), cls.name().as_str());
                    return Err(type_error(msg));
                }
                *inst.class.borrow_mut() = c;
                crate::object::bump_hash_generation();
                // Caches of class values (`CachedAttr::ClassValue`) checked
                // that this instance's class then had no `__get__`.
                crate::dict::bump_class_epoch();
                return Ok(());
            }
            return Err(type_error("__class__ must be set to a class"));
        }
        if n == "__dict__" && inst.has_dict() {
            let Value::Dict(d) = value else {
                return Err(type_error(format!("__dict__ must be set to a dictionary, not a '{}'", type_name(&value))));
            };
            inst.set_dict(d);
            return Ok(());
        }
        if !inst.dict_set(name.clone(), value) {
            // No `__dict__`: a plain class attribute cannot be shadowed.
            if cls.lookup_pystr(name).is_some() {
                return Err(attribute_error(format!("'{}' object attribute '{}' is read-only", cls.name().as_str(), n)));
            }
            return Err(no_attribute(&Value::Instance(inst.clone()), n));
        }
        Ok(())
    }

    /// `object.__delattr__(inst, name)`: through a property's deleter or a
    /// slot's descriptor, else out of the `__dict__`.
    pub fn generic_delattr(&mut self, inst: &Rc<Instance>, name: &Rc<PyStr>) -> PyResult<()> {
        let n = name.as_str();
        let obj = Value::Instance(inst.clone());
        let cls = inst.class();
        if let Some(a) = cls.lookup_pystr(name) {
            if let Some(p) = a.downcast::<Property>() {
                if p.fdel.is_none() {
                    return Err(attribute_error(format!("property '{}' of '{}' object has no deleter", n, cls.name().as_str())));
                }
                let f = p.fdel.clone();
                self.call_pos(&f, [obj])?;
                return Ok(());
            }
            if let Some(m) = a.downcast::<Member>() {
                return m.delete(&obj);
            }
        }
        if inst.dict_remove(n).is_none() {
            return Err(no_attribute(&obj, n));
        }
        Ok(())
    }

    /// `del obj.name`.
    pub fn delattr(&mut self, obj: &Value, name: &Rc<PyStr>) -> PyResult<()> {
        let n = name.as_str();
        match obj {
            Value::Instance(inst) => {
                let cls = inst.class();
                if let Some(f) = crate::ops::lookup_special_in(&cls, "__delattr__") {
                    if !matches!(f, Value::Native(_)) {
                        self.call_pos(&f, [obj.clone(), Value::Str(name.clone())])?;
                        return Ok(());
                    }
                }
                self.generic_delattr(inst, name)
            }
            Value::Class(cls) => {
                if let Some(f) = lookup_special(obj, "__delattr__").filter(|f| !matches!(f, Value::Native(_))) {
                    self.call_pos(&f, [obj.clone(), Value::Str(name.clone())])?;
                    return Ok(());
                }
                self.class_delattr(cls, name)
            }
            Value::Module(m) => {
                if m.get(n).is_none() {
                    return Err(no_attribute(obj, n));
                }
                let slot = m.slot(n);
                m.globals.borrow_mut()[slot as usize] = Value::Undef;
                Ok(())
            }
            Value::Function(f) => {
                let removed = f.dict.borrow().as_ref().and_then(|d| d.remove_str(n));
                if removed.is_none() {
                    return Err(no_attribute(obj, n));
                }
                Ok(())
            }
            _ => Err(no_attribute(obj, n)),
        }
    }

    /// The first half of `obj.name(...)`: `(function, obj)` when the
    /// attribute is a plain method (no bound-method object is made), else
    /// `(Undef, attribute)`.
    pub fn load_method(&mut self, obj: Value, name: &Rc<PyStr>) -> PyResult<(Value, Value)> {
        match &obj {
            Value::Instance(inst) if inst.class().flags.get() & crate::object::CLASS_HAS_GETATTRIBUTE == 0 => {
                let cls = inst.class();
                if let Some(a) = cls.lookup_pystr(name) {
                    let plain = matches!(a, Value::Function(_)) || matches!(&a, Value::Native(f) if f.is_method());
                    if plain && !inst.attrs().borrow().shadows(name) {
                        return Ok((a, obj));
                    }
                    // `self.method(...)` of a classmethod: called with the class.
                    if let Value::Object(o) = &a {
                        if let Some(ClassMethod(f @ Value::Function(_))) = o.as_any().downcast_ref::<ClassMethod>() {
                            if !inst.attrs().borrow().shadows(name) {
                                return Ok((f.clone(), Value::Class(cls)));
                            }
                        }
                    }
                }
            }
            Value::Class(cls) if cls.metaclass.borrow().is_none() && !name.as_str().starts_with("__") => {
                // `Cls.method(...)` of a classmethod: its function called with
                // the class, as the bound method `getattr` makes would be. The
                // plain `type` has no attribute of such a name that would win.
                if let Some(Value::Object(o)) = cls.lookup_pystr(name) {
                    if let Some(ClassMethod(f @ Value::Function(_))) = o.as_any().downcast_ref::<ClassMethod>() {
                        return Ok((f.clone(), obj.clone()));
                    }
                }
            }
            Value::Instance(_) | Value::Class(_) | Value::Module(_) | Value::Function(_) => {}
            Value::Object(o) => {
                // super() objects resolve through their own lookup: a plain
                // function found there is called with the object as `self`
                // (`super().__init__(...)`), as `getattr` would bind it.
                if let Some(s) = o.as_any().downcast_ref::<Super>() {
                    if !s.of_class() && name.as_str() != "__class__" {
                        if let Some(a @ Value::Function(_)) = s.find(name.as_str()) {
                            return Ok((a, s.obj.clone()));
                        }
                    }
                } else {
                    if let Some(a) = o.class().lookup_pystr(name) {
                        if matches!(&a, Value::Native(f) if f.is_method()) || matches!(a, Value::Function(_)) {
                            return Ok((a, obj));
                        }
                    }
                }
            }
            _ => {
                let cls = type_of(&obj);
                if let Some(a) = cls.lookup_pystr(name) {
                    if matches!(&a, Value::Native(f) if f.is_method()) {
                        return Ok((a, obj));
                    }
                }
            }
        }
        let v = self.getattr(&obj, name)?;
        Ok((Value::Undef, v))
    }
}

// ------------------------------------------------------------ builtin constructors and methods

/// `property(fget=None, fset=None, fdel=None, doc=None)`.
pub fn property_new(vm: &mut Vm, mut args: Args) -> PyResult {
    let mut it = args.pos.clone().into_iter();
    let fget = it.next().or_else(|| args.take_kw("fget")).unwrap_or(Value::None);
    let fset = it.next().or_else(|| args.take_kw("fset")).unwrap_or(Value::None);
    let fdel = it.next().or_else(|| args.take_kw("fdel")).unwrap_or(Value::None);
    let mut doc = it.next().or_else(|| args.take_kw("doc")).unwrap_or(Value::None);
    // Without a doc of its own, a property documents itself with its getter's.
    if doc.is_none() && !fget.is_none() {
        doc = vm.getattr_opt(&fget, "__doc__")?.unwrap_or(Value::None);
    }
    Ok(Value::object(Property { fget, fset, fdel, doc }))
}

fn prop_self(args: &Args) -> PyResult<&Property> {
    args.pos.first().and_then(|v| v.downcast::<Property>()).ok_or_else(|| type_error("descriptor requires a 'property' object"))
}

fn prop_getter(_vm: &mut Vm, args: Args) -> PyResult {
    let p = prop_self(&args)?;
    let f = args.pos.get(1).cloned().unwrap_or(Value::None);
    Ok(Value::object(Property { fget: f, fset: p.fset.clone(), fdel: p.fdel.clone(), doc: p.doc.clone() }))
}

fn prop_setter(_vm: &mut Vm, args: Args) -> PyResult {
    let p = prop_self(&args)?;
    let f = args.pos.get(1).cloned().unwrap_or(Value::None);
    Ok(Value::object(Property { fget: p.fget.clone(), fset: f, fdel: p.fdel.clone(), doc: p.doc.clone() }))
}

fn prop_deleter(_vm: &mut Vm, args: Args) -> PyResult {
    let p = prop_self(&args)?;
    let f = args.pos.get(1).cloned().unwrap_or(Value::None);
    Ok(Value::object(Property { fget: p.fget.clone(), fset: p.fset.clone(), fdel: f, doc: p.doc.clone() }))
}

fn prop_get(vm: &mut Vm, args: Args) -> PyResult {
    let p = prop_self(&args)?;
    let obj = args.pos.get(1).cloned().unwrap_or(Value::None);
    if obj.is_none() {
        return Ok(args.pos[0].clone());
    }
    let f = p.fget.clone();
    vm.call_pos(&f, [obj])
}

fn prop_set(vm: &mut Vm, args: Args) -> PyResult {
    let p = prop_self(&args)?;
    let f = p.fset.clone();
    if f.is_none() {
        return Err(attribute_error("can't set attribute"));
    }
    vm.call_pos(&f, [args.pos.get(1).cloned().unwrap_or(Value::None), args.pos.get(2).cloned().unwrap_or(Value::None)])
}

/// `super()` and `super(type, obj)`.
pub fn super_new(vm: &mut Vm, args: Args) -> PyResult {
    let (start, obj) = if args.pos.len() >= 2 {
        let start = match &args.pos[0] {
            Value::Class(c) => c.clone(),
            _ => return Err(type_error("super() argument 1 must be a type")),
        };
        (start, args.pos[1].clone())
    } else if args.pos.len() == 1 {
        return Err(type_error("super() with one argument is not supported"));
    } else {
        // Zero-argument form: the `__class__` cell and first argument of the calling frame.
        let frame = vm.frames.last().ok_or_else(|| runtime_error("super(): no arguments"))?;
        let code = frame.code.clone();
        let base = frame.base;
        let cls_slot = code.varnames.iter().position(|n| n.as_str() == "__class__");
        let cls = match cls_slot.map(|s| vm.stack[base + s].clone()) {
            Some(Value::Cell(c)) => c.v.borrow().clone(),
            _ => return Err(runtime_error("super(): __class__ cell not found")),
        };
        let Value::Class(cls) = cls else { return Err(runtime_error("super(): empty __class__ cell")) };
        if code.argcount == 0 && !code.flags.varargs {
            return Err(runtime_error("super(): no arguments"));
        }
        let first = match vm.stack[base].clone() {
            Value::Cell(c) => c.v.borrow().clone(),
            v => v,
        };
        if first.is_undef() {
            return Err(runtime_error("super(): arg[0] deleted"));
        }
        (cls, first)
    };
    let obj_type = match &obj {
        Value::Class(c) if c.is_subclass(&start) => c.clone(),
        _ => {
            let t = type_of(&obj);
            if !t.is_subclass(&start) {
                return Err(type_error("super(type, obj): obj must be an instance or subtype of type"));
            }
            t
        }
    };
    Ok(Value::object(Super { start, obj, obj_type }))
}

fn staticmethod_func(_vm: &mut Vm, args: Args) -> PyResult {
    let s = args.pos.first().and_then(|v| v.downcast::<StaticMethod>()).ok_or_else(|| type_error("staticmethod expected"))?;
    Ok(s.0.clone())
}

/// Install `property` methods (`getter`, `setter`, `deleter`, `__get__`, `__set__`).
pub fn install_descriptors(t: &'static Types) {
    method(&t.property, "property", "getter", prop_getter);
    method(&t.property, "property", "setter", prop_setter);
    method(&t.property, "property", "deleter", prop_deleter);
    method(&t.property, "property", "__get__", prop_get);
    method(&t.property, "property", "__set__", prop_set);
    method(&t.staticmethod, "staticmethod", "__call__", |vm, mut args| {
        let f = staticmethod_func(vm, Args::new([args.pos.remove(0)]))?;
        vm.call(f, args)
    });
}

// ------------------------------------------------------------ inline caches

/// Remember in attribute cache `cache` of `code` what the class of `obj`
/// holds under `name` (see `bytecode::AttrCache`); the dispatch loop's fast
/// paths answer from it. Only instances and builtin values are cached.
pub fn fill_attr_cache(code: &crate::bytecode::Code, cache: u16, obj: &Value, name: &Rc<PyStr>) {
    use crate::bytecode::{AttrWay, CachedAttr, NO_CACHE};
    if cache == NO_CACHE {
        return;
    }
    let (class, tag) = match obj {
        Value::Class(cls) => return fill_class_way(code, cache, cls, name),
        Value::Module(m) => return fill_module_way(code, cache, m, name),
        // Reads go through the class's `__getattribute__`: nothing to cache.
        Value::Instance(inst) if inst.class().flags.get() & crate::object::CLASS_HAS_GETATTRIBUTE != 0 => return,
        // The way for this class is current: what the general path is taken
        // for (a property, a slot not yet set, a method an instance
        // attribute hides) would fill the same way again.
        Value::Instance(inst) if code.attr_caches[cache as usize].borrow().way_for(inst).is_some() => return,
        Value::Instance(inst) => (inst.class(), 0),
        // A super object finds its methods through the MRO (`load_method`).
        Value::Object(o) if o.as_any().is::<Super>() => return,
        Value::Object(o) => {
            let cls = o.class();
            if code.attr_caches[cache as usize].borrow().way_for_native(&cls).is_some() {
                return;
            }
            (cls, crate::bytecode::NATIVE_WAY)
        }
        _ => match builtin_tag(obj) {
            0 => return,
            tag => (type_of(obj), tag),
        },
    };
    let attr = class.lookup_pystr(name);
    let found = match &attr {
        None if tag == 0 && name.as_str() == "__class__" => CachedAttr::ClassOf,
        None => CachedAttr::Absent,
        Some(a @ Value::Function(_)) => CachedAttr::Method(a.clone()),
        Some(a @ Value::Native(f)) if f.is_method() => CachedAttr::Method(a.clone()),
        Some(Value::Object(o)) if tag == 0 && matches!(o.as_any().downcast_ref::<ClassMethod>(), Some(ClassMethod(Value::Function(_)))) => {
            CachedAttr::ClassMethod(unwrap_classmethod(attr.as_ref().expect("matched")))
        }
        Some(a) if tag == 0 && !name.as_str().starts_with("__") && is_plain_class_value(a) => CachedAttr::Plain(a.clone()),
        Some(a)
            if tag == 0
                && a.downcast::<Property>().is_some_and(|p| !p.fget.is_none())
                && crate::ops::lookup_special_in(&class, "__getattr__").is_none() =>
        {
            CachedAttr::Property(a.downcast::<Property>().expect("matched").fget.clone())
        }
        // A slot: the way serves this class only, so the descriptor's check
        // that it applies to the instance is made here, once.
        Some(a) => match a.downcast::<Member>() {
            Some(m) if tag == 0 && m.applies_to(&class) => CachedAttr::Slot(m.index as u32),
            _ => CachedAttr::Other,
        },
    };
    let plain_store = match obj {
        Value::Instance(inst) => {
            (matches!(found, CachedAttr::Slot(_)) || (attr.is_none() || matches!(found, CachedAttr::Plain(_))) && inst.has_dict())
                && inst.exc().is_none()
                && !Rc::ptr_eq(&class, &types().object)
                && name.as_str() != "__class__"
                && !matches!(crate::ops::lookup_special_in(&class, "__setattr__"), Some(f) if !matches!(f, Value::Native(_)))
        }
        _ => false,
    };
    code.attr_caches[cache as usize].borrow_mut().fill(AttrWay {
        class: Rc::downgrade(&class),
        tag,
        epoch: crate::dict::class_epoch(),
        found,
        plain_store,
        slot: Default::default(),
        keys: class.keys.as_ref().map_or(0, |k| Rc::as_ptr(k) as usize),
        index: std::cell::Cell::new(crate::shape::NO_INDEX),
        absent: std::cell::Cell::new(u32::MAX),
    });
}

/// `obj.name` from cache `cache` of `code`, for the reads the dispatch
/// loop leaves to the general path but whose answer the cache already
/// knows, without the `__getattribute__` check, the class lookup and the
/// cache fill the general path would make again for each read. `None`
/// where the cache does not say: the general path then answers.
///
/// - A native object (a frame, a code object, a match) whose class has no
///   attribute `name`: the object's own answer (`f.f_back`,
///   `f.f_code.co_filename` in a frame walk). When it has none either,
///   the general path asks again (a native object's `getattr` is a plain
///   read) and makes the error or asks `__getattr__`.
/// - A method of an instance's class, the instance not hiding it: the
///   method bound to it (`self.method` read as a value, as
///   `self.method(*args, **kwargs)` does).
pub fn attr_cached_general(vm: &mut Vm, code: &crate::bytecode::Code, cache: u16, obj: &Value, name: &PyStr) -> PyResult<Option<Value>> {
    use crate::bytecode::{AttrWay, CachedAttr, NO_CACHE};
    if cache == NO_CACHE {
        return Ok(None);
    }
    match obj {
        Value::Object(o) => {
            let absent = matches!(
                code.attr_caches[cache as usize].borrow().way_for_native(&o.class()),
                Some(AttrWay { found: CachedAttr::Absent, .. })
            );
            if !absent {
                return Ok(None);
            }
            o.getattr(vm, obj, name.as_str())
        }
        Value::Instance(inst) if inst.exc().is_none() => {
            let c = code.attr_caches[cache as usize].borrow();
            if let Some(AttrWay { found: CachedAttr::Property(get), .. }) = c.way_for(inst) {
                let get = get.clone();
                // The getter may fill this cache again.
                drop(c);
                return vm.call(get, Args::new([obj.clone()])).map(Some);
            }
            let Some(w @ AttrWay { found: CachedAttr::Method(f @ Value::Function(_)), .. }) = c.way_for(inst) else { return Ok(None) };
            if inst.attrs().borrow().shadows_cached(name, w.keys as *const crate::shape::SharedKeys, &w.absent) {
                return Ok(None);
            }
            Ok(Some(bind(f.clone(), obj.clone())))
        }
        _ => Ok(None),
    }
}

/// `inst.name(...)` of a classmethod that cache `cache` of `code` holds
/// for the class of instance `obj`, no instance attribute shadowing it:
/// its function, to be called with the class (what `load_method` finds,
/// without the lookup).
pub fn classmethod_cached(code: &crate::bytecode::Code, cache: u16, obj: &Value, name: &PyStr) -> Option<Value> {
    use crate::bytecode::{CachedAttr, NO_CACHE};
    let Value::Instance(inst) = obj else { return None };
    if cache == NO_CACHE {
        return None;
    }
    let c = code.attr_caches[cache as usize].borrow();
    let w = c.way_for(inst)?;
    let CachedAttr::ClassMethod(f) = &w.found else { return None };
    let keys = w.keys as *const crate::shape::SharedKeys;
    (!inst.attrs().borrow().shadows_cached(name, keys, &w.absent)).then(|| f.clone())
}

/// `fill_attr_cache` for a class read as an object (`Cls.name`): a plain
/// value, or a classmethod's function (see `CachedAttr::ClassValue`), of a
/// user class whose metaclass is `type`, for a name that is no dunder (the
/// class's own `__annotations__`, type's `__name__` and the like: the general
/// path). `getattr` and `load_method` give the same for such a class.
fn fill_class_way(code: &crate::bytecode::Code, cache: u16, cls: &Rc<Class>, name: &Rc<PyStr>) {
    use crate::bytecode::{AttrWay, CachedAttr, CLASS_WAY};
    if cls.builtin.is_some() || cls.metaclass.borrow().is_some() || name.as_str().starts_with("__") {
        return;
    }
    let found = match cls.lookup_pystr(name) {
        Some(Value::Object(o)) => match o.as_any().downcast_ref::<ClassMethod>() {
            Some(ClassMethod(f @ Value::Function(_))) => CachedAttr::Method(f.clone()),
            _ => CachedAttr::Other,
        },
        Some(v) if plain_class_attr(&v) => CachedAttr::ClassValue(v),
        _ => CachedAttr::Other,
    };
    code.attr_caches[cache as usize].borrow_mut().fill(AttrWay {
        class: Rc::downgrade(cls),
        tag: CLASS_WAY,
        epoch: crate::dict::class_epoch(),
        found,
        ..Default::default()
    });
}

/// `fill_attr_cache` for a module: the slot of its global `name`, whose
/// value is then the attribute while it is bound (a module's own globals
/// come before its type's attributes and its `__getattr__`).
fn fill_module_way(code: &crate::bytecode::Code, cache: u16, m: &Rc<Module>, name: &Rc<PyStr>) {
    use crate::bytecode::{AttrWay, CachedAttr};
    let Some(&slot) = m.index.borrow().get(name.as_str()) else { return };
    // One way per instruction for modules (with no class, the ways of two
    // modules are the same way to `fill`).
    code.attr_caches[cache as usize].borrow_mut().fill(AttrWay {
        tag: crate::bytecode::MODULE_WAY,
        epoch: crate::dict::class_epoch(),
        found: CachedAttr::ModuleSlot(Rc::downgrade(m), slot),
        ..Default::default()
    });
}

/// Does reading class attribute `v` through the class give `v` itself
/// (no descriptor protocol applies: a function read through its class is
/// the function)? An instance of a class that never defined `__get__`
/// (`Color.RED`) is told by its class's flags, with no lookup.
pub fn plain_class_attr(v: &Value) -> bool {
    match v {
        Value::Object(_) | Value::Native(_) => false,
        Value::Instance(i) => {
            (matches!(i.payload, Payload::None) && i.class.borrow().flags.get() & CLASS_HAS_GET == 0)
                || crate::ops::lookup_special_in(&i.class.borrow(), "__get__").is_none()
        }
        _ => true,
    }
}

/// Is a class attribute neither a descriptor nor a function, so that an
/// instance's own value hides it on reading and writing alike (what
/// `descriptor_get` returns unchanged and `generic_setattr` steps over)?
fn is_plain_class_value(v: &Value) -> bool {
    match v {
        Value::Function(_) | Value::Native(_) | Value::Object(_) => false,
        Value::Instance(_) => ["__get__", "__set__", "__delete__"].iter().all(|n| lookup_special(v, n).is_none()),
        _ => true,
    }
}

/// For values whose class follows from their variant alone (str, list,
/// dict, int, ...): the variant's tag plus one; 0 for the rest.
#[inline(always)]
pub fn builtin_tag(v: &Value) -> u64 {
    match v {
        Value::Str(_)
        | Value::List(_)
        | Value::Dict(_)
        | Value::Tuple(_)
        | Value::Set(_)
        | Value::FrozenSet(_)
        | Value::Bytes(_)
        | Value::Int(_)
        | Value::BigInt(_)
        | Value::Float(_)
        | Value::Bool(_)
        | Value::Range(_) => v.tag() + 1,
        _ => 0,
    }
}
