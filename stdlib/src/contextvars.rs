//! The `contextvars` module: `ContextVar`, `Token`, `Context` and
//! `copy_context()`. The current context is `Vm::context`; each task runs
//! in its own (see `aio_interp::context`), so a variable set in one task is
//! not seen by its siblings, exactly as under asyncio.

use std::cell::Cell;
use std::rc::Rc;

use aio_interp::context::{context_class, copy_current, Context};
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, native_fn, new_class, types};
use aio_interp::{Value, Vm};

use crate::params::Sig;

/// A `contextvars.ContextVar`.
pub struct ContextVar {
    name: Rc<PyStr>,
    default: Option<Value>,
}

/// What `ContextVar.set()` returns, for `reset()`.
pub struct Token {
    context: Value,
    var: Value,
    /// The value before the set; `None` when the variable had none.
    old: Option<Value>,
    used: Cell<bool>,
}

/// `Token.MISSING`.
pub struct Missing;

thread_local! {
    static CLASSES: (Rc<Class>, Rc<Class>, Rc<Class>) = make_classes();
}

fn make_classes() -> (Rc<Class>, Rc<Class>, Rc<Class>) {
    let object = std::slice::from_ref(&types().object);
    let var = new_class("ContextVar", object, Layout::Builtin, None);
    let token = new_class("Token", object, Layout::Builtin, None);
    let missing = new_class("Token.MISSING", object, Layout::Builtin, None);
    for c in [&var, &token, &missing] {
        c.dict.set_str("__module__", Value::str("_contextvars"));
    }
    method(&var, "ContextVar", "get", var_get);
    method(&var, "ContextVar", "set", var_set);
    method(&var, "ContextVar", "reset", var_reset);
    var.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", var_new)));
    var.dict
        .set_str("__class_getitem__", aio_interp::attr::ClassMethod::wrap(native_fn("__class_getitem__", |_vm, a| Ok(a.pos[0].clone()))));
    let ctx = context_class();
    let ms: &[(&str, NativeFnPtr)] = &[
        ("run", ctx_run),
        ("copy", ctx_copy),
        ("get", ctx_get),
        ("keys", ctx_keys),
        ("values", ctx_values),
        ("items", ctx_items),
        ("__getitem__", ctx_getitem),
        ("__contains__", ctx_contains),
        ("__len__", ctx_len),
        ("__iter__", ctx_iter),
    ];
    for (n, f) in ms {
        method(&ctx, "Context", n, *f);
    }
    ctx.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", ctx_new)));
    token.dict.set_str("MISSING", Value::object(Missing));
    (var, token, missing)
}

impl NativeObject for ContextVar {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        CLASSES.with(|c| c.0.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "name" => Some(Value::Str(self.name.clone())),
            _ => None,
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        // The address is the object's; `repr` of a native object gets no
        // handle on itself, so the variable's name stands in for it.
        let name = vm.repr_str(&Value::Str(self.name.clone()))?;
        let default = match &self.default {
            Some(d) => format!(" default={}", vm.repr_str(d)?),
            None => String::new(),
        };
        Ok(format!("<ContextVar name={name}{default} at 0x{:x}>", self as *const _ as usize))
    }
}

impl NativeObject for Token {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        CLASSES.with(|c| c.1.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "var" => Some(self.var.clone()),
            "old_value" => Some(self.old.clone().unwrap_or_else(missing)),
            _ => None,
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let var = vm.repr_str(&self.var)?;
        let used = if self.used.get() { " used" } else { "" };
        Ok(format!("<Token{used} var={var} at 0x{:x}>", self as *const _ as usize))
    }
}

impl NativeObject for Missing {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        CLASSES.with(|c| c.2.clone())
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok("<Token.MISSING>".into())
    }
}

fn missing() -> Value {
    CLASSES.with(|c| c.1.dict.get_str("MISSING").unwrap_or(Value::None))
}

/// `ContextVar(name, *, default=...)`.
fn var_new(_vm: &mut Vm, mut args: Args) -> PyResult {
    if !args.pos.is_empty() {
        args.pos.remove(0);
    }
    let default = args.take_kw("default");
    let sig = Sig { qual: "ContextVar", has_self: false, names: &["name"], required: 1, kwonly: &[] };
    let a = sig.bind(args)?;
    let name = match a[0].clone() {
        Some(Value::Str(s)) => s,
        _ => return Err(type_error("context variable name must be a str")),
    };
    Ok(Value::object(ContextVar { name, default }))
}

fn this_var(args: &Args) -> PyResult<(Value, &ContextVar)> {
    let v = args.pos.first().ok_or_else(|| type_error("descriptor requires a 'ContextVar' object"))?;
    let cv = v.downcast::<ContextVar>().ok_or_else(|| type_error("descriptor requires a 'ContextVar' object"))?;
    Ok((v.clone(), cv))
}

/// The current context's value of `var`, if it has one.
fn lookup(vm: &mut Vm, var: &Value) -> PyResult<Option<Value>> {
    let Some(ctx) = vm.context.downcast::<Context>() else { return Ok(None) };
    let vars = ctx.vars.borrow().clone();
    vm.dict_get(&vars, var)
}

fn var_get(vm: &mut Vm, args: Args) -> PyResult {
    let (v, cv) = this_var(&args)?;
    if args.pos.len() > 2 {
        return Err(type_error(format!("get expected at most 1 argument, got {}", args.pos.len() - 1)));
    }
    if let Some(x) = lookup(vm, &v)? {
        return Ok(x);
    }
    if let Some(d) = args.pos.get(1) {
        return Ok(d.clone());
    }
    match &cv.default {
        Some(d) => Ok(d.clone()),
        None => Err(PyErr(new_exception(&types().exc.lookup_error, vec![v.clone()]))),
    }
}

/// The current context, made on the first set.
fn current(vm: &mut Vm) -> Value {
    if vm.context.downcast::<Context>().is_none() {
        vm.context = Context::new_value(Rc::new(PyDict::new()));
    }
    vm.context.clone()
}

/// Put `var = value` (or remove it, for `None`) in context `ctx` as a new mapping.
fn store(vm: &mut Vm, ctx: &Value, var: &Value, value: Option<Value>) -> PyResult<()> {
    let c = ctx.downcast::<Context>().expect("a context");
    let old = c.vars.borrow().clone();
    let new = Rc::new(PyDict::new());
    for (k, v) in old.items() {
        vm.dict_set(&new, k, v)?;
    }
    match value {
        Some(v) => vm.dict_set(&new, var.clone(), v)?,
        None => {
            vm.dict_remove(&new, var)?;
        }
    }
    *c.vars.borrow_mut() = new;
    Ok(())
}

fn var_set(vm: &mut Vm, args: Args) -> PyResult {
    let (v, _) = this_var(&args)?;
    let [_, value] = &args.pos[..] else {
        return Err(type_error(format!("ContextVar.set() takes exactly one argument ({} given)", args.pos.len() - 1)));
    };
    let old = lookup(vm, &v)?;
    let ctx = current(vm);
    store(vm, &ctx, &v, Some(value.clone()))?;
    Ok(Value::object(Token { context: ctx, var: v, old, used: Cell::new(false) }))
}

fn var_reset(vm: &mut Vm, args: Args) -> PyResult {
    let (v, _) = this_var(&args)?;
    let tv = args.pos.get(1).cloned().unwrap_or(Value::None);
    let Some(token) = tv.downcast::<Token>() else {
        return Err(type_error(format!("expected an instance of Token, got {}", vm.repr_str(&tv)?)));
    };
    if token.used.get() {
        return Err(runtime_error(format!("{} has already been used once", vm.repr_str(&tv)?)));
    }
    if !token.var.is(&v) {
        return Err(value_error(format!("{} was created by a different ContextVar", vm.repr_str(&tv)?)));
    }
    if !token.context.is(&vm.context) {
        return Err(value_error(format!("{} was created in a different Context", vm.repr_str(&tv)?)));
    }
    let ctx = token.context.clone();
    store(vm, &ctx, &v, token.old.clone())?;
    token.used.set(true);
    Ok(Value::None)
}

// ------------------------------------------------------------ Context

fn ctx_new(_vm: &mut Vm, args: Args) -> PyResult {
    if args.pos.len() > 1 || !args.kw.is_empty() {
        return Err(type_error("Context() does not accept any arguments"));
    }
    Ok(Context::new_value(Rc::new(PyDict::new())))
}

fn this_ctx(args: &Args) -> PyResult<(Value, &Context)> {
    let v = args.pos.first().ok_or_else(|| type_error("descriptor requires a 'Context' object"))?;
    let c = v.downcast::<Context>().ok_or_else(|| type_error("descriptor requires a 'Context' object"))?;
    Ok((v.clone(), c))
}

fn vars_of(args: &Args) -> PyResult<Rc<PyDict>> {
    Ok(this_ctx(args)?.1.vars.borrow().clone())
}

/// `ctx.run(callable, *args, **kwargs)`: call it with `ctx` as the current context.
fn ctx_run(vm: &mut Vm, mut args: Args) -> PyResult {
    let (me, c) = this_ctx(&args)?;
    if args.pos.len() < 2 {
        return Err(type_error("run() missing 1 required positional argument"));
    }
    if c.entered.get() {
        return Err(runtime_error(format!("cannot enter context: {} is already entered", vm.repr_str(&me)?)));
    }
    c.entered.set(true);
    let outer = std::mem::replace(&mut vm.context, me.clone());
    args.pos.remove(0);
    let f = args.pos.remove(0);
    let r = vm.call(f, args);
    vm.context = outer;
    if let Some(c) = me.downcast::<Context>() {
        c.entered.set(false);
    }
    r
}

fn ctx_copy(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Context::new_value(vars_of(&args)?))
}

fn check_var(vm: &mut Vm, v: &Value) -> PyResult<()> {
    if v.downcast::<ContextVar>().is_none() {
        return Err(type_error(format!("a ContextVar key was expected, got {}", vm.repr_str(v)?)));
    }
    Ok(())
}

fn ctx_get(vm: &mut Vm, args: Args) -> PyResult {
    let vars = vars_of(&args)?;
    let key = args.pos.get(1).cloned().ok_or_else(|| type_error("get expected at least 1 argument, got 0"))?;
    check_var(vm, &key)?;
    Ok(vm.dict_get(&vars, &key)?.unwrap_or_else(|| args.pos.get(2).cloned().unwrap_or(Value::None)))
}

fn ctx_getitem(vm: &mut Vm, args: Args) -> PyResult {
    let vars = vars_of(&args)?;
    let key = args.pos.get(1).cloned().unwrap_or(Value::None);
    check_var(vm, &key)?;
    vm.dict_get(&vars, &key)?.ok_or_else(|| key_error(key))
}

fn ctx_contains(vm: &mut Vm, args: Args) -> PyResult {
    let vars = vars_of(&args)?;
    let key = args.pos.get(1).cloned().unwrap_or(Value::None);
    check_var(vm, &key)?;
    Ok(Value::bool(vm.dict_get(&vars, &key)?.is_some()))
}

fn ctx_len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(vars_of(&args)?.len() as i64))
}

fn ctx_keys(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::list(vars_of(&args)?.keys()))
}

fn ctx_values(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::list(vars_of(&args)?.d.borrow().values()))
}

fn ctx_items(_vm: &mut Vm, args: Args) -> PyResult {
    let items = vars_of(&args)?.items().into_iter().map(|(k, v)| Value::tuple(vec![k, v])).collect();
    Ok(Value::list(items))
}

fn ctx_iter(vm: &mut Vm, args: Args) -> PyResult {
    let keys = Value::list(vars_of(&args)?.keys());
    vm.iter(&keys)
}

fn copy_context(vm: &mut Vm, _args: Args) -> PyResult {
    match copy_current(vm) {
        Value::None => Ok(Context::new_value(Rc::new(PyDict::new()))),
        c => Ok(c),
    }
}

/// Build the `contextvars` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let (var, token, _) = CLASSES.with(|c| c.clone());
    Ok(vm.make_native_module(
        "contextvars",
        vec![
            ("ContextVar", Value::Class(var)),
            ("Token", Value::Class(token)),
            ("Context", Value::Class(context_class())),
            ("copy_context", native_fn("copy_context", copy_context)),
        ],
    ))
}
