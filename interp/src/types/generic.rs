//! The types of annotations: `types.GenericAlias` (`list[int]`, what a
//! generic class gives when subscripted) and `types.UnionType`
//! (`int | str`, what `|` between classes gives).

use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::types::{method, types, Types};
use crate::value::Value;
use crate::vm::Vm;

/// `origin[args]`: a parameterized generic such as `list[int]`.
pub struct GenericAlias {
    pub origin: Value,
    /// Always a tuple.
    pub args: Value,
}

/// `a | b | ...` of classes: the members, flattened and without repeats.
pub struct UnionType {
    pub args: Vec<Value>,
}

impl GenericAlias {
    /// `origin[item]`: a tuple item gives several arguments.
    pub fn make(origin: Value, item: Value) -> Value {
        let args = match item {
            Value::Tuple(_) => item,
            other => Value::tuple([other]),
        };
        Value::object(GenericAlias { origin, args })
    }
    fn args(&self) -> &[Value] {
        match &self.args {
            Value::Tuple(t) => &t.items,
            _ => &[],
        }
    }
}

impl NativeObject for GenericAlias {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        types().generic_alias.clone()
    }
    fn getattr(&self, vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        match name {
            "__origin__" => Ok(Some(self.origin.clone())),
            "__args__" => Ok(Some(self.args.clone())),
            "__parameters__" => Ok(Some(Value::tuple(parameters(vm, self.args())?))),
            "__class__" | "__mro_entries__" | "__reduce__" | "__copy__" | "__deepcopy__" => Ok(None),
            // Everything else is the origin's: `list[int].append`, `dict[str, int].__name__`.
            _ if types().generic_alias.lookup(name).is_some() => Ok(None),
            _ => vm.getattr_opt(&self.origin, name),
        }
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let mut s = type_repr(vm, &self.origin)?;
        s.push('[');
        if self.args().is_empty() {
            s.push_str("()");
        }
        for (i, a) in self.args().iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&arg_repr(vm, a)?);
        }
        s.push(']');
        Ok(s)
    }
}

impl NativeObject for UnionType {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        types().union_type.clone()
    }
    fn getattr(&self, vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "__args__" => Some(Value::tuple(self.args.clone())),
            "__parameters__" => Some(Value::tuple(parameters(vm, &self.args)?)),
            _ => None,
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let mut parts = Vec::with_capacity(self.args.len());
        for a in &self.args {
            parts.push(match a {
                Value::Class(c) if Rc::ptr_eq(c, &types().none_type) => "None".to_string(),
                _ => arg_repr(vm, a)?,
            });
        }
        Ok(parts.join(" | "))
    }
}

/// How an argument of a generic shows: classes by their qualified name
/// (`int`, `__main__.Node`), `...` as itself, lists of them in brackets,
/// anything else by its repr.
fn arg_repr(vm: &mut Vm, v: &Value) -> PyResult<String> {
    match v {
        Value::Ellipsis => Ok("...".into()),
        Value::List(l) => {
            let items = l.to_vec();
            let mut parts = Vec::with_capacity(items.len());
            for x in &items {
                parts.push(arg_repr(vm, x)?);
            }
            Ok(format!("[{}]", parts.join(", ")))
        }
        _ => type_repr(vm, v),
    }
}

/// A class as typing shows it: `int`, `collections.deque`, `__main__.Node`;
/// other values (aliases, type variables) by their repr.
pub fn type_repr(vm: &mut Vm, v: &Value) -> PyResult<String> {
    if let Value::Class(c) = v {
        let module = match vm.getattr_opt(v, "__module__")? {
            Some(Value::Str(m)) => m.as_str().to_string(),
            _ => "builtins".into(),
        };
        let qualname = c.qualname.borrow().as_str().to_string();
        return Ok(if module == "builtins" { qualname } else { format!("{module}.{qualname}") });
    }
    if let Value::Function(f) = v {
        return Ok(f.name.borrow().as_str().to_string());
    }
    vm.repr_str(v)
}

/// The type variables among `args`, each once, in order of appearance
/// (looking inside nested generics through their `__parameters__`).
fn parameters(vm: &mut Vm, args: &[Value]) -> PyResult<Vec<Value>> {
    let mut out: Vec<Value> = Vec::new();
    for a in args {
        if is_type_var(a) {
            if !out.iter().any(|p| p.is(a)) {
                out.push(a.clone());
            }
            continue;
        }
        if matches!(a, Value::Class(_)) {
            continue;
        }
        let nested = match a {
            Value::Tuple(t) => parameters(vm, &t.items)?,
            Value::List(l) => {
                let items = l.to_vec();
                parameters(vm, &items)?
            }
            Value::Object(_) | Value::Instance(_) => match vm.getattr_opt(a, "__parameters__")? {
                Some(Value::Tuple(t)) => t.items.to_vec(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        for p in nested {
            if !out.iter().any(|q| q.is(&p)) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// A `typing.TypeVar` (or `ParamSpec`): an instance whose class can substitute it.
fn is_type_var(v: &Value) -> bool {
    match v {
        Value::Instance(i) => i.class().lookup("__typing_subst__").is_some(),
        _ => false,
    }
}

/// Substitute `params` by `values` in `arg`.
fn substitute(vm: &mut Vm, arg: &Value, params: &[Value], values: &[Value]) -> PyResult<Value> {
    if let Some(i) = params.iter().position(|p| p.is(arg)) {
        return Ok(values[i].clone());
    }
    match arg {
        Value::List(l) => {
            let items = l.to_vec();
            let mut out = Vec::with_capacity(items.len());
            for x in &items {
                out.push(substitute(vm, x, params, values)?);
            }
            Ok(Value::list(out))
        }
        Value::Object(_) | Value::Instance(_) => {
            let inner = match vm.getattr_opt(arg, "__parameters__")? {
                Some(Value::Tuple(t)) if !t.is_empty() => t.items.to_vec(),
                _ => return Ok(arg.clone()),
            };
            let mut sub = Vec::with_capacity(inner.len());
            for p in &inner {
                sub.push(substitute(vm, p, params, values)?);
            }
            let item = if sub.len() == 1 { sub.remove(0) } else { Value::tuple(sub) };
            vm.getitem(arg, &item)
        }
        _ => Ok(arg.clone()),
    }
}

/// Can `v` be a member of a `X | Y` union?
fn union_member(v: &Value) -> bool {
    match v {
        Value::None | Value::Class(_) => true,
        Value::Object(o) => o.as_any().is::<GenericAlias>() || o.as_any().is::<UnionType>(),
        _ => false,
    }
}

/// A class whose metaclass has its own `|` answers for itself.
fn meta_has_or(v: &Value) -> bool {
    match v {
        Value::Class(c) => c.metaclass.borrow().as_ref().is_some_and(|m| {
            let own = |name| matches!(crate::ops::lookup_special_in(m, name), Some(f) if !matches!(f, Value::Native(_)));
            own("__or__") || own("__ror__")
        }),
        _ => false,
    }
}

/// `a | b` between classes, `None` and generic aliases: the union, or
/// `None` when `|` means something else for these operands.
pub fn union_or(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    if !union_member(a) || !union_member(b) || (a.is_none() && b.is_none()) || meta_has_or(a) || meta_has_or(b) {
        return Ok(None);
    }
    let mut args: Vec<Value> = Vec::new();
    for side in [a, b] {
        let members = match side.downcast::<UnionType>() {
            Some(u) => u.args.clone(),
            None if side.is_none() => vec![Value::Class(types().none_type.clone())],
            None => vec![side.clone()],
        };
        for m in members {
            let mut seen = false;
            for x in &args {
                if vm.eq(x, &m)? {
                    seen = true;
                    break;
                }
            }
            if !seen {
                args.push(m);
            }
        }
    }
    if args.len() == 1 {
        return Ok(Some(args.remove(0)));
    }
    Ok(Some(Value::object(UnionType { args })))
}

/// `isinstance(v, a | b)` and `issubclass(c, a | b)`: is `test` true of any member?
pub fn union_check(vm: &mut Vm, u: &UnionType, mut test: impl FnMut(&mut Vm, &Value) -> PyResult<bool>) -> PyResult<bool> {
    for a in &u.args {
        if a.downcast::<GenericAlias>().is_some() {
            return Err(type_error("isinstance() argument 2 cannot be a parameterized generic"));
        }
        if test(vm, a)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `cls[item]` for a builtin class: the generic ones give an alias.
pub fn class_getitem(cls: &Rc<Class>, item: &Value) -> PyResult<Value> {
    use crate::types::BuiltinType::*;
    match cls.builtin {
        Some(List | Dict | Tuple | Set | FrozenSet | Type | Iterator | Other) => {
            Ok(GenericAlias::make(Value::Class(cls.clone()), item.clone()))
        }
        _ => Err(type_error(format!("type '{}' is not subscriptable", cls.name().as_str()))),
    }
}

fn this_alias(args: &Args) -> PyResult<(&GenericAlias, Value)> {
    match args.pos.first() {
        Some(v) => match v.downcast::<GenericAlias>() {
            Some(g) => Ok((g, v.clone())),
            None => Err(type_error("descriptor requires a 'types.GenericAlias' object")),
        },
        None => Err(type_error("descriptor requires a 'types.GenericAlias' object")),
    }
}

fn alias_eq(vm: &mut Vm, args: Args) -> PyResult {
    let (g, _) = this_alias(&args)?;
    let Some(other) = args.pos.get(1).and_then(|o| o.downcast::<GenericAlias>()) else {
        return Ok(Value::NotImplemented);
    };
    Ok(Value::bool(vm.eq(&g.origin, &other.origin)? && vm.eq(&g.args, &other.args)?))
}

fn alias_hash(vm: &mut Vm, args: Args) -> PyResult {
    let (g, _) = this_alias(&args)?;
    Ok(Value::Int(vm.hash(&g.origin)? ^ vm.hash(&g.args)?))
}

fn alias_call(vm: &mut Vm, mut args: Args) -> PyResult {
    let (g, _) = this_alias(&args)?;
    let origin = g.origin.clone();
    let this = args.pos.remove(0);
    let r = vm.call(origin, args)?;
    // Instances of user generics remember the alias they were made through.
    if let Value::Instance(_) = &r {
        let _ = vm.setattr(&r, &crate::intern::intern("__orig_class__"), this);
    }
    Ok(r)
}

fn alias_getitem(vm: &mut Vm, args: Args) -> PyResult {
    let (g, this) = this_alias(&args)?;
    let item = args.pos.get(1).cloned().unwrap_or(Value::None);
    let params = parameters(vm, g.args())?;
    if params.is_empty() {
        return Err(type_error(format!("{} is not a generic class", vm.repr_str(&this)?)));
    }
    let values: Vec<Value> = match &item {
        Value::Tuple(t) => t.items.to_vec(),
        other => vec![other.clone()],
    };
    if values.len() != params.len() {
        let more = if values.len() > params.len() { "many" } else { "few" };
        return Err(type_error(format!(
            "Too {more} arguments for {}; actual {}, expected {}",
            vm.repr_str(&this)?,
            values.len(),
            params.len()
        )));
    }
    let mut new_args = Vec::with_capacity(g.args().len());
    for a in g.args().to_vec() {
        new_args.push(substitute(vm, &a, &params, &values)?);
    }
    Ok(Value::object(GenericAlias { origin: g.origin.clone(), args: Value::tuple(new_args) }))
}

fn alias_mro_entries(_vm: &mut Vm, args: Args) -> PyResult {
    let (g, _) = this_alias(&args)?;
    Ok(Value::tuple([g.origin.clone()]))
}

fn alias_instancecheck(_vm: &mut Vm, _args: Args) -> PyResult {
    Err(type_error("isinstance() argument 2 cannot be a parameterized generic"))
}

fn alias_subclasscheck(_vm: &mut Vm, _args: Args) -> PyResult {
    Err(type_error("issubclass() argument 2 cannot be a parameterized generic"))
}

fn or_method(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = (args.pos.first().cloned().unwrap_or(Value::None), args.pos.get(1).cloned().unwrap_or(Value::None));
    Ok(union_or(vm, &a, &b)?.unwrap_or(Value::NotImplemented))
}

fn ror_method(vm: &mut Vm, args: Args) -> PyResult {
    let (a, b) = (args.pos.first().cloned().unwrap_or(Value::None), args.pos.get(1).cloned().unwrap_or(Value::None));
    Ok(union_or(vm, &b, &a)?.unwrap_or(Value::NotImplemented))
}

fn this_union(args: &Args) -> PyResult<&UnionType> {
    args.pos.first().and_then(|v| v.downcast::<UnionType>()).ok_or_else(|| type_error("descriptor requires a 'types.UnionType' object"))
}

fn union_eq(vm: &mut Vm, args: Args) -> PyResult {
    let u = this_union(&args)?;
    let Some(other) = args.pos.get(1).and_then(|o| o.downcast::<UnionType>()) else {
        return Ok(Value::NotImplemented);
    };
    // Order does not matter: `int | str == str | int`.
    if u.args.len() != other.args.len() {
        return Ok(Value::bool(false));
    }
    for a in &u.args {
        let mut found = false;
        for b in &other.args {
            if vm.eq(a, b)? {
                found = true;
                break;
            }
        }
        if !found {
            return Ok(Value::bool(false));
        }
    }
    Ok(Value::bool(true))
}

fn union_hash(vm: &mut Vm, args: Args) -> PyResult {
    let u = this_union(&args)?;
    let mut h: i64 = 0x5f5f_756e_696f;
    for a in &u.args {
        h ^= vm.hash(a)?;
    }
    Ok(Value::Int(h))
}

fn union_instancecheck(vm: &mut Vm, args: Args) -> PyResult {
    let u = this_union(&args)?;
    let obj = args.pos.get(1).cloned().unwrap_or(Value::None);
    Ok(Value::bool(union_check(vm, u, |vm, a| vm.isinstance(&obj, a))?))
}

fn union_subclasscheck(vm: &mut Vm, args: Args) -> PyResult {
    let u = this_union(&args)?;
    let cls = args.pos.get(1).cloned().unwrap_or(Value::None);
    Ok(Value::bool(union_check(vm, u, |vm, a| vm.issubclass(&cls, a))?))
}

/// `types.GenericAlias(origin, args)`.
pub fn construct(_vm: &mut Vm, args: Args) -> PyResult {
    if !args.kw.is_empty() {
        return Err(type_error("GenericAlias() takes no keyword arguments"));
    }
    match &args.pos[..] {
        [origin, item] => Ok(GenericAlias::make(origin.clone(), item.clone())),
        other => Err(type_error(format!("GenericAlias expected 2 arguments, got {}", other.len()))),
    }
}

/// Install the methods of `types.GenericAlias` and `types.UnionType`.
pub fn install(t: &'static Types) {
    let g = &t.generic_alias;
    g.dict.set_str("__module__", Value::str("types"));
    method(g, "GenericAlias", "__eq__", alias_eq);
    method(g, "GenericAlias", "__hash__", alias_hash);
    method(g, "GenericAlias", "__call__", alias_call);
    method(g, "GenericAlias", "__getitem__", alias_getitem);
    method(g, "GenericAlias", "__mro_entries__", alias_mro_entries);
    method(g, "GenericAlias", "__instancecheck__", alias_instancecheck);
    method(g, "GenericAlias", "__subclasscheck__", alias_subclasscheck);
    method(g, "GenericAlias", "__or__", or_method);
    method(g, "GenericAlias", "__ror__", ror_method);
    let u = &t.union_type;
    u.dict.set_str("__module__", Value::str("types"));
    method(u, "UnionType", "__eq__", union_eq);
    method(u, "UnionType", "__hash__", union_hash);
    method(u, "UnionType", "__instancecheck__", union_instancecheck);
    method(u, "UnionType", "__subclasscheck__", union_subclasscheck);
    method(u, "UnionType", "__or__", or_method);
    method(u, "UnionType", "__ror__", ror_method);
    let ty = &t.type_;
    method(ty, "type", "__or__", or_method);
    method(ty, "type", "__ror__", ror_method);
}
