//! `__slots__`: what a class statement's `__slots__` makes of its instances
//! (a `SlotLayout` of values instead of, or beside, a `__dict__`), and the
//! member descriptors (`C.x`, `<member 'x' of 'C' objects>`) that read,
//! write and delete those values.
//!
//! A class with `__slots__ = ("x", "y")` appends `x` and `y` to its base's
//! layout; each instance then holds one value per name, by position, and
//! no `__dict__` unless `'__dict__'` is among the names or a base has one.
//! The names are not mangled, as aio mangles no private names.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use crate::attr::no_attribute;
use crate::exceptions::{attribute_error, type_error};
use crate::object::*;
use crate::types::{method, type_name, types, BuiltinType, Types};
use crate::value::Value;
use crate::vm::Vm;

/// A member descriptor: slot `index` of the instances of `owner`.
pub struct Member {
    pub name: Rc<PyStr>,
    pub index: usize,
    /// The class whose `__slots__` named it (filled in once it exists; weak,
    /// as the class's own namespace holds the descriptor).
    owner: RefCell<Weak<Class>>,
}

impl NativeObject for Member {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        types().member_descriptor.clone()
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "__name__" => Some(Value::Str(self.name.clone())),
            "__qualname__" => Some(Value::string(format!("{}.{}", self.owner_name(), self.name.as_str()))),
            "__objclass__" => self.owner.borrow().upgrade().map(Value::Class),
            "__doc__" => Some(Value::None),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<member '{}' of '{}' objects>", self.name.as_str(), self.owner_name()))
    }
}

impl Member {
    fn owner_name(&self) -> String {
        self.owner.borrow().upgrade().map(|c| c.name().as_str().to_string()).unwrap_or_default()
    }
    /// Does the descriptor apply to instances of `cls`?
    pub fn applies_to(&self, cls: &Class) -> bool {
        self.owner.borrow().upgrade().is_some_and(|o| cls.is_subclass(&o))
    }
    /// The instance `obj` is, if the descriptor applies to it.
    fn target<'a>(&self, obj: &'a Value) -> PyResult<&'a Rc<Instance>> {
        if let Value::Instance(i) = obj {
            if self.applies_to(&i.class()) {
                return Ok(i);
            }
        }
        Err(type_error(format!(
            "descriptor '{}' for '{}' objects doesn't apply to a '{}' object",
            self.name.as_str(),
            self.owner_name(),
            type_name(obj)
        )))
    }
    /// `obj.name`: the slot's value; an unset slot is an AttributeError.
    pub fn get(&self, obj: &Value) -> PyResult<Value> {
        match self.target(obj)?.slot(self.index) {
            Value::Undef => Err(no_attribute(obj, self.name.as_str())),
            v => Ok(v),
        }
    }
    /// `obj.name = value`.
    pub fn set(&self, obj: &Value, value: Value) -> PyResult<()> {
        self.target(obj)?.set_slot(self.index, value).discard();
        Ok(())
    }
    /// `del obj.name`: CPython names only the attribute when it was unset.
    pub fn delete(&self, obj: &Value) -> PyResult<()> {
        match self.target(obj)?.set_slot(self.index, Value::Undef) {
            Value::Undef => Err(attribute_error(self.name.as_str())),
            old => {
                old.discard();
                Ok(())
            }
        }
    }
}

/// What a class namespace's `__slots__` (or its absence) gives the class.
pub struct SlotPlan {
    pub layout: Option<Rc<SlotLayout>>,
    pub has_dict: bool,
    pub has_weakref: bool,
    /// The descriptors put in the namespace, to be told their class.
    members: Vec<Value>,
}

impl SlotPlan {
    /// The class exists: its descriptors learn their owner.
    pub fn install(&self, cls: &Rc<Class>) {
        for m in &self.members {
            if let Some(m) = m.downcast::<Member>() {
                *m.owner.borrow_mut() = Rc::downgrade(cls);
            }
        }
    }
}

/// Read `__slots__` from the namespace `ns` of a new class with `bases`,
/// check it as CPython does, and put a member descriptor in `ns` for each
/// new slot (in sorted order, as CPython lists them).
pub fn plan(vm: &mut Vm, bases: &[Rc<Class>], ns: &PyDict) -> PyResult<SlotPlan> {
    // The base layout: every base's slots must be a start of the longest.
    let mut base_layout: Option<Rc<SlotLayout>> = None;
    for l in bases.iter().filter_map(|b| b.slots.as_ref()) {
        if base_layout.as_ref().is_none_or(|b| l.names.len() > b.names.len()) {
            base_layout = Some(l.clone());
        }
    }
    if let Some(best) = &base_layout {
        if bases.iter().filter_map(|b| b.slots.as_ref()).any(|l| !best.extends(l)) {
            return Err(type_error("multiple bases have instance lay-out conflict"));
        }
    }
    let base_dict = bases.iter().any(|b| b.has_dict);
    let base_weakref = bases.iter().any(|b| b.has_weakref);
    let Some(spec) = ns.get_str("__slots__") else {
        return Ok(SlotPlan { layout: base_layout, has_dict: true, has_weakref: true, members: Vec::new() });
    };
    let items = match &spec {
        Value::Str(_) => vec![spec.clone()],
        other => vm.collect(other)?,
    };
    let (mut add_dict, mut add_weakref) = (false, false);
    let mut names: Vec<Rc<PyStr>> = Vec::new();
    for item in items {
        let Value::Str(s) = item else {
            return Err(type_error(format!("__slots__ items must be strings, not '{}'", type_name(&item))));
        };
        if !crate::types::str::is_identifier(&s) {
            return Err(type_error("__slots__ must be identifiers"));
        }
        match s.as_str() {
            "__dict__" => {
                if base_dict || add_dict {
                    return Err(type_error("__dict__ slot disallowed: we already got one"));
                }
                add_dict = true;
            }
            "__weakref__" => {
                if base_weakref || add_weakref {
                    return Err(type_error("__weakref__ slot disallowed: either we already got one, or __itemsize__ != 0"));
                }
                add_weakref = true;
            }
            _ => names.push(crate::intern::intern(s.as_str())),
        }
    }
    if !names.is_empty() {
        // int, bytes and tuple keep their items inside the object itself.
        let var_sized = |c: &Rc<Class>| matches!(c.builtin, Some(BuiltinType::Int | BuiltinType::Bytes | BuiltinType::Tuple));
        if let Some(b) = bases.iter().find(|b| b.mro_iter().iter().any(var_sized)) {
            return Err(type_error(format!("nonempty __slots__ not supported for subtype of '{}'", b.name().as_str())));
        }
    }
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    names.dedup_by(|a, b| a.as_str() == b.as_str());
    for n in &names {
        if ns.get_str(n).is_some() {
            return Err(crate::exceptions::value_error(format!("'{}' in __slots__ conflicts with class variable", n.as_str())));
        }
    }
    let start = base_layout.as_ref().map_or(0, |l| l.names.len());
    let mut members = Vec::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        let m = Value::object(Member { name: n.clone(), index: start + i, owner: RefCell::new(Weak::new()) });
        ns.set_str_rc(n.clone(), m.clone());
        members.push(m);
    }
    let layout = if names.is_empty() {
        base_layout
    } else {
        let mut all = base_layout.as_ref().map(|l| l.names.clone()).unwrap_or_default();
        all.extend(names);
        Some(Rc::new(SlotLayout { names: all, parent: base_layout }))
    };
    Ok(SlotPlan { layout, has_dict: base_dict || add_dict, has_weakref: base_weakref || add_weakref, members })
}

/// May an instance of `old` become one of `new` (`obj.__class__ = new`)?
/// Only when both lay out their instances alike.
pub fn same_layout(old: &Class, new: &Class) -> bool {
    let slots_alike = match (&old.slots, &new.slots) {
        (None, None) => true,
        (Some(a), Some(b)) => Rc::ptr_eq(a, b),
        _ => false,
    };
    slots_alike && old.layout == new.layout && old.has_dict == new.has_dict
}

fn this(args: &Args) -> PyResult<&Member> {
    args.pos.first().and_then(|v| v.downcast::<Member>()).ok_or_else(|| type_error("descriptor requires a 'member_descriptor' object"))
}

fn member_get(_vm: &mut Vm, args: Args) -> PyResult {
    let m = this(&args)?;
    match args.pos.get(1) {
        None | Some(Value::None) => Ok(args.pos[0].clone()),
        Some(obj) => m.get(obj),
    }
}

fn member_set(_vm: &mut Vm, args: Args) -> PyResult {
    let m = this(&args)?;
    let [_, obj, value] = &args.pos[..] else {
        return Err(type_error(format!("expected 2 arguments, got {}", args.pos.len().saturating_sub(1))));
    };
    m.set(obj, value.clone())?;
    Ok(Value::None)
}

fn member_delete(_vm: &mut Vm, args: Args) -> PyResult {
    let m = this(&args)?;
    let [_, obj] = &args.pos[..] else {
        return Err(type_error(format!("expected 1 argument, got {}", args.pos.len().saturating_sub(1))));
    };
    m.delete(obj)?;
    Ok(Value::None)
}

/// The methods of `member_descriptor`.
pub fn install(t: &'static Types) {
    let c = &t.member_descriptor;
    method(c, "member_descriptor", "__get__", member_get);
    method(c, "member_descriptor", "__set__", member_set);
    method(c, "member_descriptor", "__delete__", member_delete);
}
