//! `_functools`: the native core of `functools.lru_cache`, a callable that
//! looks its arguments up in a dict before calling the wrapped function.
//! Cache hits are the hot path of memoized recursion, so they stay in Rust.

use std::cell::Cell;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, native_fn, new_class, type_of, types};
use aio_interp::{Value, Vm};

/// The object made by `lru_cache(...)(f)`.
pub struct LruWrapper {
    func: Value,
    /// `None` for an unbounded cache.
    maxsize: Option<usize>,
    typed: bool,
    cache: Rc<PyDict>,
    hits: Cell<i64>,
    misses: Cell<i64>,
    /// The `CacheInfo` namedtuple class that `cache_info()` returns.
    info_type: Value,
    /// Attributes set by `update_wrapper` (`__name__`, `__wrapped__`, ...).
    dict: Rc<PyDict>,
}

thread_local! {
    static LRU_CLASS: Rc<Class> = {
        let c = new_class("_lru_cache_wrapper", &[types().object.clone()], Layout::Builtin, None);
        method(&c, "_lru_cache_wrapper", "__call__", lru_call);
        method(&c, "_lru_cache_wrapper", "cache_info", cache_info);
        method(&c, "_lru_cache_wrapper", "cache_clear", cache_clear);
        method(&c, "_lru_cache_wrapper", "__get__", lru_get);
        method(&c, "_lru_cache_wrapper", "__copy__", |_vm, a| Ok(a.pos[0].clone()));
        method(&c, "_lru_cache_wrapper", "__deepcopy__", |_vm, a| Ok(a.pos[0].clone()));
        c
    };
    /// Separates positional from keyword arguments in a cache key.
    static KWD_MARK: Value = Value::Instance(Rc::new(Instance::bare(types().object.clone(), Payload::None)));
}

impl NativeObject for LruWrapper {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        LRU_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        if name == "__dict__" {
            return Ok(Some(Value::Dict(self.dict.clone())));
        }
        Ok(self.dict.get_str(name))
    }
    fn setattr(&self, _vm: &mut Vm, name: &str, value: Value) -> PyResult<bool> {
        self.dict.set_str(name, value);
        Ok(true)
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<functools._lru_cache_wrapper object at {:#x}>", self as *const Self as usize))
    }
}

fn this(args: &Args) -> PyResult<&LruWrapper> {
    args.pos.first().and_then(|v| v.downcast::<LruWrapper>()).ok_or_else(|| type_error("descriptor requires a '_lru_cache_wrapper' object"))
}

/// The cache key of a call, as CPython makes it: a lone `int` or `str`
/// argument is its own key; otherwise the positional arguments, then a
/// marker and the keyword items, then (when typed) the argument types.
fn make_key(w: &LruWrapper, pos: &[Value], kw: &[(Rc<PyStr>, Value)]) -> Value {
    if !w.typed && kw.is_empty() && pos.len() == 1 && matches!(pos[0], Value::Int(_) | Value::BigInt(_) | Value::Str(_)) {
        return pos[0].clone();
    }
    let mut key: Vec<Value> = pos.to_vec();
    if !kw.is_empty() {
        key.push(KWD_MARK.with(|m| m.clone()));
        for (k, v) in kw {
            key.push(Value::Str(k.clone()));
            key.push(v.clone());
        }
    }
    if w.typed {
        key.extend(pos.iter().map(|v| Value::Class(type_of(v))));
        key.extend(kw.iter().map(|(_, v)| Value::Class(type_of(v))));
    }
    Value::tuple(key)
}

fn lru_call(vm: &mut Vm, mut args: Args) -> PyResult {
    let me = args.pos.remove(0);
    let w = me.downcast::<LruWrapper>().ok_or_else(|| type_error("expected an lru_cache wrapper"))?;
    if w.maxsize == Some(0) {
        w.misses.set(w.misses.get() + 1);
        return vm.call(w.func.clone(), args);
    }
    let key = make_key(w, &args.pos, &args.kw);
    if let Some(v) = vm.dict_get(&w.cache, &key)? {
        w.hits.set(w.hits.get() + 1);
        if w.maxsize.is_some() {
            // Most recently used goes last.
            vm.dict_remove(&w.cache, &key)?;
            vm.dict_set(&w.cache, key, v.clone())?;
        }
        return Ok(v);
    }
    w.misses.set(w.misses.get() + 1);
    let func = w.func.clone();
    let result = vm.call(func, args)?;
    let w = me.downcast::<LruWrapper>().expect("wrapper");
    match w.maxsize {
        None => vm.dict_set(&w.cache, key, result.clone())?,
        Some(max) => {
            // A recursive call may have cached this key meanwhile.
            if vm.dict_get(&w.cache, &key)?.is_none() {
                if w.cache.len() >= max {
                    let oldest = w.cache.d.borrow().next_from(0).map(|(_, e)| e.key.clone());
                    if let Some(k) = oldest {
                        vm.dict_remove(&w.cache, &k)?;
                    }
                }
                vm.dict_set(&w.cache, key, result.clone())?;
            }
        }
    }
    Ok(result)
}

fn cache_info(vm: &mut Vm, args: Args) -> PyResult {
    let w = this(&args)?;
    let maxsize = w.maxsize.map(|m| Value::Int(m as i64)).unwrap_or(Value::None);
    let info = Args::new([Value::Int(w.hits.get()), Value::Int(w.misses.get()), maxsize, Value::Int(w.cache.len() as i64)]);
    let t = w.info_type.clone();
    vm.call(t, info)
}

fn cache_clear(_vm: &mut Vm, args: Args) -> PyResult {
    let w = this(&args)?;
    let old = std::mem::take(&mut *w.cache.d.borrow_mut());
    drop(old);
    w.hits.set(0);
    w.misses.set(0);
    Ok(Value::None)
}

/// Read through an instance, the wrapper binds it like a function does.
fn lru_get(_vm: &mut Vm, args: Args) -> PyResult {
    let me = args.pos[0].clone();
    match args.pos.get(1) {
        None | Some(Value::None) => Ok(me),
        Some(obj) => Ok(BoundMethod::bind(me, obj.clone())),
    }
}

/// `_lru_cache_wrapper(user_function, maxsize, typed, cache_info_type)`.
fn lru_cache_wrapper(vm: &mut Vm, args: Args) -> PyResult {
    if args.pos.len() != 4 {
        return Err(type_error(format!("_lru_cache_wrapper expected 4 arguments, got {}", args.pos.len())));
    }
    let maxsize = match &args.pos[1] {
        Value::None => None,
        v => Some(vm.index_value(v)?.max(0) as usize),
    };
    let typed = vm.truthy(&args.pos[2])?;
    Ok(Value::object(LruWrapper {
        func: args.pos[0].clone(),
        maxsize,
        typed,
        cache: Rc::new(PyDict::new()),
        hits: Cell::new(0),
        misses: Cell::new(0),
        info_type: args.pos[3].clone(),
        dict: Rc::new(PyDict::new()),
    }))
}

/// Build the `_functools` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module("_functools", vec![("_lru_cache_wrapper", native_fn("_lru_cache_wrapper", lru_cache_wrapper))]))
}
