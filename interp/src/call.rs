//! Calls: binding arguments to parameters (with Python's messages), the
//! fast path for simple functions, calling natives, classes and callable
//! instances, class creation (`__build_class__`), the `with` protocol and
//! the `except*` helpers.

use std::cell::RefCell;
use std::rc::Rc;

use smallvec::SmallVec;

use crate::bytecode::Code;
use crate::exceptions::*;
use crate::object::*;
use crate::ops::{lookup_special, lookup_special_in};
use crate::types::{type_name, types};
use crate::value::Value;
use crate::vm::{FrameKind, Halt, Vm};

/// The arguments of `f(*t)`: the tuple's items, moved out when the call
/// holds the only reference to it (the tuple `f(*xs)` built), so that a
/// long one is not held twice.
pub(crate) fn star_args(t: Rc<PyTuple>) -> SmallVec<[Value; 6]> {
    match Rc::try_unwrap(t) {
        Ok(t) => SmallVec::from_vec(t.into_items()),
        Err(t) => t.items.iter().cloned().collect(),
    }
}

/// Can `npos` positional arguments alone bind to the parameters of `f`,
/// every parameter without one taking a default?
#[inline(always)]
fn binds_positionally(f: &Function, npos: usize) -> bool {
    let code = &f.code;
    let argcount = code.argcount as usize;
    let kwonly = code.kwonlyargcount as usize;
    let first_default = argcount - f.defaults.len().min(argcount);
    let kwonly_names = &code.varnames[argcount..argcount + kwonly];
    (npos <= argcount || code.flags.varargs)
        && npos >= first_default
        && kwonly_names.iter().all(|n| f.kwdefaults.iter().any(|(k, _)| k.as_str() == n.as_str()))
}

impl Vm {
    /// Call the callable below the top `argc` stack values. Returns true
    /// when a frame was pushed (the loop continues in it); otherwise the
    /// result replaced the callee and arguments.
    pub(crate) fn call_from_stack(&mut self, argc: usize, kwnames: Option<Rc<PyTuple>>) -> PyResult<bool> {
        if crate::generator::finalizers_due() {
            crate::generator::run_finalizers(self);
        }
        let fpos = self.stack.len() - argc - 1;
        let callee = self.stack[fpos].clone();
        match &callee {
            Value::Function(f) => {
                let code = &f.code;
                // A plain function given its positional parameters, or the
                // first of them and defaults for the rest (`f(*args,
                // **kwargs)` passing on no keywords comes here too).
                let from = (code.argcount as usize).checked_sub(argc).and_then(|missing| f.defaults.len().checked_sub(missing));
                if let (None, true, Some(from)) = (&kwnames, code.simple, from) {
                    let base = fpos + 1;
                    self.stack.extend_from_slice(&f.defaults[from..]);
                    self.stack.resize(base + code.nlocals as usize, Value::Undef);
                    if code.has_cells() {
                        prepare_cells(code, &mut self.stack[base..], &f.closure);
                    }
                    self.push_frame(code.clone(), base, f.globals.clone(), FrameKind::Call)?;
                    return Ok(true);
                }
                if kwnames.is_none() && !code.is_resumable() && self.bind_positional_on_stack(f, fpos + 1, argc) {
                    self.push_frame(code.clone(), fpos + 1, f.globals.clone(), FrameKind::Call)?;
                    return Ok(true);
                }
                if let Some(names) = &kwnames {
                    if let Some(slots) = keyword_slots(f, argc - names.len(), names) {
                        self.bind_keywords_on_stack(f, fpos + 1, argc - names.len(), &slots[..names.len()]);
                        self.push_frame(code.clone(), fpos + 1, f.globals.clone(), FrameKind::Call)?;
                        return Ok(true);
                    }
                }
                let args = self.take_args(argc, kwnames);
                self.enter_function(f, args)
            }
            Value::BoundMethod(bm) => {
                self.stack[fpos] = bm.func.clone();
                self.stack.insert(fpos + 1, bm.self_.clone());
                self.call_from_stack(argc + 1, kwnames)
            }
            Value::Native(n) => {
                let args = self.take_args(argc, kwnames);
                self.stack.pop();
                let r = n.call(self, args)?;
                self.stack.push(r);
                Ok(false)
            }
            Value::Class(cls) if cls.builtin.is_none() && cls.layout == Layout::Object => {
                // `Cls(args)` whose `__init__` takes what the dispatch loop's
                // own path does not (keywords, `*args`, `**kwargs`, cells):
                // the instance is made here and `__init__` runs in a frame
                // of the loop, which hands back the instance when it returns.
                match crate::vm::dispatch::init_function(cls) {
                    Some(init) if !init.code.is_resumable() => {
                        let obj = Value::Instance(Instance::new(cls.clone(), Payload::None));
                        if kwnames.is_none() && binds_positionally(&init, argc + 1) {
                            // Positional arguments bind in place, the
                            // instance going in before them.
                            self.stack[fpos] = obj.clone();
                            self.stack.insert(fpos + 1, obj);
                            self.bind_positional_on_stack(&init, fpos + 1, argc + 1);
                            self.push_frame(init.code.clone(), fpos + 1, init.globals.clone(), FrameKind::Call)?;
                            self.frames.last_mut().expect("the frame just pushed").mode = crate::vm::ResumeMode::Init;
                            return Ok(true);
                        }
                        let mut args = self.take_args(argc, kwnames);
                        args.pos.insert(0, obj.clone());
                        self.stack[fpos] = obj;
                        self.enter_init(&init, args)
                    }
                    _ => self.call_general_from_stack(callee, argc, kwnames),
                }
            }
            Value::Class(cls) if argc == 0 && kwnames.is_none() && crate::ops::builtin_kept(cls) & crate::ops::KEPT_MAKE != 0 => {
                // `OrderedCollection()`: what `make_instance` does for it, with no argument list.
                let obj = self.new_instance(cls, &Args::default())?;
                self.stack[fpos] = obj;
                Ok(false)
            }
            _ => self.call_general_from_stack(callee, argc, kwnames),
        }
    }

    /// `call_from_stack` for any other callable: called from Rust, its
    /// result replacing it and its arguments.
    fn call_general_from_stack(&mut self, callee: Value, argc: usize, kwnames: Option<Rc<PyTuple>>) -> PyResult<bool> {
        let args = self.take_args(argc, kwnames);
        self.stack.pop();
        let r = self.call(callee, args)?;
        self.stack.push(r);
        Ok(false)
    }

    /// Run `init` (an `__init__` given the new instance first in `args`) in
    /// a frame of the dispatch loop, above the instance in the callee's slot.
    /// `init` is no generator function: `enter_function` pushes its frame.
    fn enter_init(&mut self, init: &Rc<Function>, args: Args) -> PyResult<bool> {
        self.enter_function(init, args)?;
        self.frames.last_mut().expect("the frame just pushed").mode = crate::vm::ResumeMode::Init;
        Ok(true)
    }

    /// Turn `npos` positional arguments at `base` into the locals of `f` in
    /// place, for what the dispatch loop's plain path does not take: `*args`,
    /// `**kwargs`, defaults, keyword-only parameters with defaults, cells.
    /// False, with nothing changed, when binding would fail or needs more
    /// (the general path then says why).
    fn bind_positional_on_stack(&mut self, f: &Function, base: usize, npos: usize) -> bool {
        if !binds_positionally(f, npos) {
            return false;
        }
        let argcount = f.code.argcount as usize;
        let extra = if npos > argcount { self.stack.split_off(base + argcount) } else { Vec::new() };
        self.bind_rest_on_stack(f, base, npos.min(argcount), extra);
        true
    }

    /// The end of `bind_positional_on_stack`, its `npos` arguments on the
    /// stack (at most the positional parameters) and `extra` those of
    /// `*args`: defaults, `*args`, `**kwargs`, the other locals, cells.
    #[inline(always)]
    fn bind_rest_on_stack(&mut self, f: &Function, base: usize, npos: usize, extra: Vec<Value>) {
        let code = &f.code;
        let argcount = code.argcount as usize;
        let kwonly = code.kwonlyargcount as usize;
        let first_default = argcount - f.defaults.len().min(argcount);
        for i in npos..argcount {
            self.stack.push(f.defaults[i - first_default].clone());
        }
        for n in &code.varnames[argcount..argcount + kwonly] {
            let v = f.kwdefaults.iter().find(|(k, _)| k.as_str() == n.as_str()).map(|(_, v)| v.clone());
            self.stack.push(v.unwrap_or_default());
        }
        if code.flags.varargs {
            self.stack.push(if extra.is_empty() { Value::empty_tuple() } else { Value::tuple(extra) });
        }
        if code.flags.varkw {
            self.stack.push(Value::dict(PyDict::new()));
        }
        self.stack.resize(base + code.nlocals as usize, Value::Undef);
        if code.has_cells() {
            prepare_cells(code, &mut self.stack[base..], &f.closure);
        }
    }

    /// `f(*xs)` with many items (`items` spilled), no keywords, of the
    /// function below the top of the stack taking `*args`: the items past
    /// its positional parameters become the `*args` tuple as they are, not
    /// by way of the stack (`gather(*tasks)` of 100,000 tasks grew the
    /// stack by as much as the tuple, for good). `Err(items)` when this is
    /// not such a call.
    pub(crate) fn call_star_into_varargs(&mut self, items: SmallVec<[Value; 6]>) -> Result<PyResult<bool>, SmallVec<[Value; 6]>> {
        let Some(Value::Function(f)) = self.stack.last() else { return Err(items) };
        let f = f.clone();
        let argcount = f.code.argcount as usize;
        if !items.spilled() || !f.code.flags.varargs || f.code.is_resumable() || !binds_positionally(&f, items.len()) {
            return Err(items);
        }
        if crate::generator::finalizers_due() {
            crate::generator::run_finalizers(self);
        }
        let base = self.stack.len();
        let mut rest = items.into_vec();
        self.stack.extend(rest.drain(..argcount.min(rest.len())));
        let npos = self.stack.len() - base;
        self.bind_rest_on_stack(&f, base, npos, rest);
        Ok(self.push_frame(f.code.clone(), base, f.globals.clone(), FrameKind::Call).map(|()| true))
    }

    /// Turn `npos` positional and then keyword arguments at `base` into the
    /// locals of `f`, the keywords going to `slots` (from `keyword_slots`)
    /// and the parameters not given taking their defaults.
    fn bind_keywords_on_stack(&mut self, f: &Function, base: usize, npos: usize, slots: &[u16]) {
        let code = &f.code;
        let argcount = code.argcount as usize;
        let kwonly = code.kwonlyargcount as usize;
        // The keyword values move past the new locals (each names a
        // distinct parameter after the positional ones, so they fit before
        // the end of the locals), then each into its slot.
        let nlocals = code.nlocals as usize;
        let nkw = slots.len();
        self.stack.resize(base + nlocals + nkw, Value::Undef);
        self.stack[base + npos..].rotate_left(nkw);
        for &slot in slots.iter().rev() {
            let v = self.stack.pop().expect("keyword argument");
            self.stack[base + slot as usize] = v;
        }
        let locals = &mut self.stack[base..];
        let first_default = argcount - f.defaults.len().min(argcount);
        for (i, slot) in locals.iter_mut().enumerate().take(argcount).skip(npos) {
            if slot.is_undef() {
                *slot = f.defaults[i - first_default].clone();
            }
        }
        for (i, slot) in locals.iter_mut().enumerate().take(argcount + kwonly).skip(argcount) {
            if slot.is_undef() {
                let name = code.varnames[i].as_str();
                if let Some((_, v)) = f.kwdefaults.iter().find(|(k, _)| k.as_str() == name) {
                    *slot = v.clone();
                }
            }
        }
        if code.has_cells() {
            prepare_cells(code, locals, &f.closure);
        }
    }

    /// The call below the top `argc` values, the last `kwnames.len()` of
    /// them keywords, made positional when its callee is a function the
    /// keywords bind to plainly (`keyword_slots`: no `*args`, `**kwargs`
    /// or generator): each keyword value moves to its parameter's slot
    /// and defaults fill the parameters not given, keyword-only ones too. True when it did, the argument count then
    /// in `kw_bound`; the names are left for the caller to clear.
    #[inline(never)]
    pub(crate) fn keywords_in_place(&mut self, argc: usize) -> bool {
        let fpos = self.stack.len() - argc - 1;
        let (Value::Function(f), Some(names)) = (&self.stack[fpos], &self.kwnames) else { return false };
        if self.frames.len() >= self.recursion_limit {
            return false;
        }
        let nkw = names.len();
        let npos = argc - nkw;
        let Some(slots) = keyword_slots(f.as_ref(), npos, names) else { return false };
        let f = f.clone();
        let argcount = f.code.argcount as usize;
        let total = argcount + f.code.kwonlyargcount as usize;
        // The keyword values come off the stack, then every parameter after
        // the positional ones goes on in order: its keyword value or its
        // default (`keyword_slots` saw that each has one or the other).
        let mut values = [const { std::mem::MaybeUninit::<Value>::uninit() }; FAST_KEYWORDS];
        for v in values[..nkw].iter_mut().rev() {
            v.write(self.stack.pop().expect("keyword argument"));
        }
        let mut which = [u8::MAX; 64];
        for (k, &slot) in slots[..nkw].iter().enumerate() {
            which[slot as usize] = k as u8;
        }
        let first_default = argcount - f.defaults.len().min(argcount);
        self.stack.reserve(total - npos);
        for (i, &k) in which.iter().enumerate().take(total).skip(npos) {
            let v = match k {
                // SAFETY: each of the `nkw` values written above is read
                // once: the slots are distinct (`keyword_slots`).
                k if k != u8::MAX => unsafe { values[k as usize].assume_init_read() },
                _ if i < argcount => f.defaults[i - first_default].clone(),
                _ => {
                    let name = &f.code.varnames[i];
                    let (_, v) = f
                        .kwdefaults
                        .iter()
                        .find(|(k, _)| Rc::ptr_eq(k, name) || k.as_str() == name.as_str())
                        .expect("a keyword-only default");
                    v.clone()
                }
            };
            self.stack.push(v);
        }
        self.kw_bound = total as u32;
        true
    }

    /// Move the top `argc` values (the last `kwnames.len()` of them keywords) into `Args`.
    fn take_args(&mut self, argc: usize, kwnames: Option<Rc<PyTuple>>) -> Args {
        let mut args = Args::default();
        if argc == 0 {
            return args;
        }
        let start = self.stack.len() - argc;
        let nkw = kwnames.as_ref().map(|k| k.len()).unwrap_or(0);
        let mut drained = self.stack.drain(start..);
        for _ in 0..argc - nkw {
            args.pos.push(drained.next().expect("argument"));
        }
        if let Some(names) = kwnames {
            for name in names.items.iter() {
                let v = drained.next().expect("keyword argument");
                if let Value::Str(s) = name {
                    args.kw.push((s.clone(), v));
                }
            }
        }
        args
    }

    /// Call `f` with `args`, the callee being on top of the stack: push its
    /// frame (true) or, for a generator function, replace it with the new
    /// generator (false).
    fn enter_function(&mut self, f: &Rc<Function>, args: Args) -> PyResult<bool> {
        let locals = self.bind_args(f, args)?;
        if f.code.is_resumable() {
            let g = crate::generator::new_generator(self, f, GenStack::from_vec(locals));
            self.stack.pop();
            self.stack.push(g);
            return Ok(false);
        }
        let base = self.stack.len();
        self.stack.extend(locals);
        self.push_frame(f.code.clone(), base, f.globals.clone(), FrameKind::Call)?;
        Ok(true)
    }

    /// The items of `xs` in `f(*xs)` (`f` below it on the stack), with
    /// CPython's message when it is not iterable.
    pub(crate) fn star_argument(&mut self, xs: &Value) -> PyResult<SmallVec<[Value; 6]>> {
        match self.collect(xs) {
            Ok(items) => Ok(SmallVec::from_vec(items)),
            Err(e) if e.is(&types().exc.type_error) && self.iter(xs).is_err() => {
                let f = self.stack.last().cloned().unwrap_or_default();
                let f = self.function_str(&f);
                Err(type_error(format!("{f} argument after * must be an iterable, not {}", type_name(xs))))
            }
            Err(e) => Err(e),
        }
    }

    /// How CPython names a callable in the errors of its call's `*` and
    /// `**` arguments: `module.qualname()`, or `qualname()` for builtins.
    pub(crate) fn function_str(&mut self, f: &Value) -> String {
        let qualname = match self.getattr_opt(f, "__qualname__") {
            Ok(Some(Value::Str(q))) => q.as_str().to_string(),
            _ => return self.str_of(f).unwrap_or_default(),
        };
        match self.getattr_opt(f, "__module__") {
            Ok(Some(Value::Str(m))) if m.as_str() != "builtins" => format!("{}.{qualname}()", m.as_str()),
            _ => format!("{qualname}()"),
        }
    }

    /// Call any callable from Rust and wait for its result.
    pub fn call(&mut self, f: Value, args: Args) -> PyResult<Value> {
        match &f {
            Value::Function(func) => {
                if crate::generator::finalizers_due() {
                    crate::generator::run_finalizers(self);
                }
                if func.code.simple && !func.code.has_cells() && args.kw.is_empty() && args.pos.len() == func.code.argcount as usize {
                    // Exactly the positional parameters: the arguments go
                    // straight onto the stack as the first locals (a sort's
                    // `__lt__`, a `key=` function).
                    return self.run_plain_function(func, args.pos);
                }
                if func.code.simple_resumable && args.kw.is_empty() && args.pos.len() == func.code.argcount as usize {
                    // A generator function given its positional parameters
                    // (`iter(obj)` calling a generator `__iter__`): they
                    // move into the new generator with no binding.
                    return Ok(crate::generator::new_generator_with_args(self, func, args.pos));
                }
                let locals = self.bind_args(func, args)?;
                if func.code.is_resumable() {
                    return Ok(crate::generator::new_generator(self, func, GenStack::from_vec(locals)));
                }
                self.run_function(func, locals, None)
            }
            Value::Native(n) => n.call(self, args),
            Value::BoundMethod(bm) => {
                let mut a = Args::default();
                a.pos.push(bm.self_.clone());
                a.pos.extend(args.pos);
                a.kw = args.kw;
                self.call(bm.func.clone(), a)
            }
            Value::Class(cls) => self.call_class(cls, args),
            Value::Instance(_) | Value::Object(_) => match lookup_special(&f, "__call__") {
                Some(c) => {
                    let mut a = Args::default();
                    a.pos.push(f.clone());
                    a.pos.extend(args.pos);
                    a.kw = args.kw;
                    self.call(c, a)
                }
                None => Err(type_error(format!("'{}' object is not callable", type_name(&f)))),
            },
            _ => Err(type_error(format!("'{}' object is not callable", type_name(&f)))),
        }
    }

    /// Call `f` from Rust with the positional arguments `args`: `call`
    /// without an `Args` to build and drop when `f` is a plain .aio
    /// function (or a method of one) taking exactly them, which is how
    /// natives call a key function, `map`'s function or a special method.
    #[inline]
    pub fn call_pos<const N: usize>(&mut self, f: &Value, args: [Value; N]) -> PyResult<Value> {
        match f {
            Value::Function(func) if takes_plain(func, N) => self.run_plain_args(func, None, args),
            Value::BoundMethod(bm) => match &bm.func {
                Value::Function(func) if takes_plain(func, N + 1) => self.run_plain_args(func, Some(bm.self_.clone()), args),
                _ => self.call(f.clone(), Args::new(args)),
            },
            _ => self.call(f.clone(), Args::new(args)),
        }
    }

    /// `call_pos` of a plain function: `this` (a method's instance) and the
    /// arguments go straight onto the stack as its first locals.
    fn run_plain_args(&mut self, func: &Rc<Function>, this: Option<Value>, args: impl IntoIterator<Item = Value>) -> PyResult<Value> {
        if crate::generator::finalizers_due() {
            crate::generator::run_finalizers(self);
        }
        self.enter_native_call()?;
        let nlocals = func.code.nlocals as usize;
        self.stack.reserve(nlocals + 1);
        self.stack.push(Value::Function(func.clone()));
        let base = self.stack.len();
        if let Some(this) = this {
            self.stack.push(this);
        }
        for a in args {
            self.stack.push(a);
        }
        // The locals after the arguments start unbound (a `resize` is an
        // out-of-line call even when there are none).
        while self.stack.len() < base + nlocals {
            self.stack.push(Value::Undef);
        }
        if func.code.has_cells() {
            prepare_cells(&func.code, &mut self.stack[base..], &func.closure);
        }
        self.run_placed_function(func, base, None)
    }

    /// Run a function body with already-bound locals; `namespace` makes it a class body.
    pub(crate) fn run_function(&mut self, func: &Rc<Function>, locals: Vec<Value>, namespace: Option<Rc<PyDict>>) -> PyResult<Value> {
        self.run_function_with(func, locals, namespace)
    }

    /// `run_function` with the first locals from any sequence (the rest
    /// of the frame's locals start unbound).
    fn run_function_with(
        &mut self,
        func: &Rc<Function>,
        locals: impl IntoIterator<Item = Value>,
        namespace: Option<Rc<PyDict>>,
    ) -> PyResult<Value> {
        self.enter_native_call()?;
        self.stack.push(Value::Function(func.clone()));
        let base = self.stack.len();
        self.stack.extend(locals);
        self.stack.resize(base + func.code.nlocals as usize, Value::Undef);
        self.run_placed_function(func, base, namespace)
    }

    /// `run_function_with` for a plain function with no cells given
    /// exactly its positional parameters: they move onto the stack in one
    /// copy (a generic `extend` takes them one by one), and the locals
    /// after them start unbound.
    fn run_plain_function(&mut self, func: &Rc<Function>, mut pos: SmallVec<[Value; 6]>) -> PyResult<Value> {
        self.enter_native_call()?;
        let nlocals = func.code.nlocals as usize;
        let n = pos.len();
        debug_assert!(n <= nlocals);
        self.stack.reserve(nlocals + 1);
        self.stack.push(Value::Function(func.clone()));
        let base = self.stack.len();
        // SAFETY: the reserve above leaves room for `nlocals` values past
        // `base`; the `n` arguments are moved there, `pos` forgets them
        // before the stack's length covers them, so each is owned once.
        unsafe {
            Value::move_words(pos.as_ptr(), self.stack.as_mut_ptr().add(base), n);
            pos.set_len(0);
            self.stack.set_len(base + n);
        }
        for _ in n..nlocals {
            self.stack.push(Value::Undef);
        }
        self.run_placed_function(func, base, None)
    }

    /// One more level of native code calling .aio code, unless it is one
    /// too many for the recursion limit.
    #[inline]
    fn enter_native_call(&mut self) -> PyResult<()> {
        self.native_depth += 1;
        if self.native_depth > 200 && self.frames.len() + self.native_depth > self.recursion_limit {
            self.native_depth -= 1;
            return Err(recursion_error());
        }
        Ok(())
    }

    /// Run `func` in a nested dispatch loop, its locals placed from `base`
    /// (the callee below them), after `enter_native_call`.
    fn run_placed_function(&mut self, func: &Rc<Function>, base: usize, namespace: Option<Rc<PyDict>>) -> PyResult<Value> {
        let entry = self.frames.len();
        let r = (|| {
            self.push_frame(func.code.clone(), base, func.globals.clone(), FrameKind::Call)?;
            if namespace.is_some() {
                self.frames.last_mut().expect("frame").locals = namespace;
            }
            self.run(entry)
        })();
        self.native_depth -= 1;
        match r {
            Ok(Halt::Return(v)) => Ok(v),
            Ok(_) => Err(runtime_error("function suspended outside a coroutine")),
            Err(e) => {
                if self.frames.len() == entry {
                    self.stack.truncate(base - 1);
                }
                Err(e)
            }
        }
    }

    /// Bind call arguments to the parameters of `f`: the initial locals.
    pub fn bind_args(&mut self, f: &Function, args: Args) -> PyResult<Vec<Value>> {
        let code = &f.code;
        let nlocals = code.nlocals as usize;
        let argcount = code.argcount as usize;
        let kwonly = code.kwonlyargcount as usize;
        let posonly = code.posonlyargcount as usize;
        // Exactly the positional parameters, no cells: the arguments are the locals.
        let plain = !code.flags.varargs && !code.flags.varkw && kwonly == 0 && code.cellvars.is_empty() && code.freevars.is_empty();
        if plain && args.kw.is_empty() && args.pos.len() == argcount {
            let mut locals = Vec::with_capacity(nlocals);
            locals.extend(args.pos);
            locals.resize(nlocals, Value::Undef);
            return Ok(locals);
        }
        let mut locals = vec![Value::Undef; nlocals];
        let npos = args.pos.len();
        let mut all = args.pos;
        // A long list (`f(*many)`) all for `*args` moves into the tuple: a
        // copy would hold the arguments twice at once.
        let rest = (code.flags.varargs && argcount == 0 && all.spilled()).then(|| std::mem::take(&mut all).into_vec());
        let mut pos = all.into_iter();
        for slot in locals.iter_mut().take(npos.min(argcount)) {
            *slot = pos.next().expect("positional");
        }
        let mut slot = argcount + kwonly;
        if code.flags.varargs {
            let rest: Vec<Value> = rest.unwrap_or_else(|| pos.collect());
            locals[slot] = if rest.is_empty() { Value::empty_tuple() } else { Value::tuple(rest) };
            slot += 1;
        } else if npos > argcount {
            let kwonly_names = &code.varnames[argcount..argcount + kwonly];
            let kwonly_given = args.kw.iter().filter(|(k, _)| kwonly_names.iter().any(|n| n.as_str() == k.as_str())).count();
            return Err(too_many_positional(f, npos, kwonly_given));
        }
        let kwdict = if code.flags.varkw {
            let d = Value::dict(PyDict::new());
            let Value::Dict(rc) = &d else { unreachable!("a dict") };
            let rc = rc.clone();
            locals[slot] = d;
            Some(rc)
        } else {
            None
        };
        let mut posonly_as_kw: Vec<String> = Vec::new();
        for (name, value) in args.kw {
            let idx = code.varnames[..argcount + kwonly].iter().position(|n| n.as_str() == name.as_str());
            match idx {
                Some(i) if i < posonly => match &kwdict {
                    Some(d) => d.set_str_rc(name, value),
                    None => posonly_as_kw.push(name.as_str().to_string()),
                },
                Some(i) => {
                    if !locals[i].is_undef() {
                        return Err(type_error(format!(
                            "{}() got multiple values for argument '{}'",
                            f.qualname.borrow().as_str(),
                            name.as_str()
                        )));
                    }
                    locals[i] = value;
                }
                None => match &kwdict {
                    Some(d) => {
                        if d.get_str(name.as_str()).is_some() {
                            return Err(type_error(format!(
                                "{}() got multiple values for keyword argument '{}'",
                                f.qualname.borrow().as_str(),
                                name.as_str()
                            )));
                        }
                        d.set_str_rc(name, value)
                    }
                    None => {
                        return Err(type_error(format!(
                            "{}() got an unexpected keyword argument '{}'",
                            f.qualname.borrow().as_str(),
                            name.as_str()
                        )))
                    }
                },
            }
        }
        if !posonly_as_kw.is_empty() {
            return Err(type_error(format!(
                "{}() got some positional-only arguments passed as keyword arguments: '{}'",
                f.qualname.borrow().as_str(),
                posonly_as_kw.join(", ")
            )));
        }
        let ndefaults = f.defaults.len();
        let first_default = argcount - ndefaults.min(argcount);
        let mut missing: Vec<String> = Vec::new();
        for (i, slot) in locals.iter_mut().enumerate().take(argcount).skip(npos.min(argcount)) {
            if slot.is_undef() {
                if i >= first_default {
                    *slot = f.defaults[i - first_default].clone();
                } else {
                    missing.push(format!("'{}'", code.varnames[i].as_str()));
                }
            }
        }
        if !missing.is_empty() {
            return Err(missing_args(f, "positional", &missing));
        }
        for (i, slot) in locals.iter_mut().enumerate().take(argcount + kwonly).skip(argcount) {
            if slot.is_undef() {
                let name = &code.varnames[i];
                match f.kwdefaults.iter().find(|(k, _)| k.as_str() == name.as_str()) {
                    Some((_, v)) => *slot = v.clone(),
                    None => missing.push(format!("'{}'", name.as_str())),
                }
            }
        }
        if !missing.is_empty() {
            return Err(missing_args(f, "keyword-only", &missing));
        }
        prepare_cells(code, &mut locals, &f.closure);
        Ok(locals)
    }

    /// `obj.name(*args)`.
    pub fn call_method(&mut self, obj: &Value, name: &str, args: Vec<Value>) -> PyResult<Value> {
        let (m, s) = self.load_method(obj.clone(), &crate::intern::intern(name))?;
        if m.is_undef() {
            return self.call(s, Args::new(args));
        }
        let mut a = Args::default();
        a.pos.push(s);
        a.pos.extend(args);
        self.call(m, a)
    }

    /// Instantiate a class.
    pub fn call_class(&mut self, cls: &Rc<Class>, args: Args) -> PyResult<Value> {
        if cls.builtin.is_none() && cls.layout == Layout::Object && args.kw.is_empty() {
            if let Some(init) = crate::vm::dispatch::init_function(cls) {
                if takes_plain(&init, args.pos.len() + 1) {
                    return self.make_plain_instance(cls, &init, args.pos);
                }
            }
        }
        if let Some(bt) = cls.builtin {
            if cls.layout != Layout::Exception || Rc::ptr_eq(cls, &types().exc.base_exception_group) {
                return crate::types::construct(self, cls, bt, args);
            }
        }
        // A metaclass: its __call__ makes the instance (type's is `type_call`).
        // The borrow ends here: `type_call` takes the metaclass out.
        let meta = cls.metaclass.borrow().clone();
        if let Some(meta) = meta {
            if let Some(call) = lookup_special_in(&meta, "__call__") {
                let mut a = Args::default();
                a.pos.push(Value::Class(cls.clone()));
                a.pos.extend(args.pos);
                a.kw = args.kw;
                return self.call(call, a);
            }
        }
        self.make_instance(cls, args)
    }

    /// `Cls(args)` from Rust (`map(Cls, xs)`, a `key=Cls`) when making the
    /// instance is plain (see `init_function`) and its `__init__` takes
    /// exactly these positional arguments: as the dispatch loop makes one,
    /// with no lookups and no argument list.
    fn make_plain_instance(&mut self, cls: &Rc<Class>, init: &Rc<Function>, pos: SmallVec<[Value; 6]>) -> PyResult<Value> {
        let obj = Value::Instance(Instance::new(cls.clone(), Payload::None));
        let r = self.run_plain_args(init, Some(obj.clone()), pos)?;
        if !r.is_none() {
            return Err(type_error(format!("__init__() should return None, not '{}'", type_name(&r))));
        }
        Ok(obj)
    }

    /// What `type.__call__` does: `__new__`, then `__init__` on its result.
    pub fn make_instance(&mut self, cls: &Rc<Class>, mut args: Args) -> PyResult<Value> {
        if cls.layout == Layout::Builtin
            && args.is_empty()
            && args.kw.is_empty()
            && crate::ops::builtin_kept(cls) & crate::ops::KEPT_MAKE != 0
        {
            // `OrderedCollection()` of a list subclass that keeps list's way
            // of making one: the empty value, with no lookups.
            return self.new_instance(cls, &args);
        }
        let new = lookup_special_in(cls, "__new__");
        let init = lookup_special_in(cls, "__init__");
        let obj = match &new {
            Some(f) if !matches!(f, Value::Native(_)) => {
                let f = crate::attr::unwrap_staticmethod(f);
                let mut a = Args::default();
                a.pos.push(Value::Class(cls.clone()));
                a.pos.extend(args.pos.iter().cloned());
                a.kw = args.kw.clone();
                let o = self.call(f, a)?;
                let is_inst = crate::types::type_of(&o).is_subclass(cls);
                if !is_inst {
                    return Ok(o);
                }
                o
            }
            _ => {
                if init.is_none() && (!args.is_empty() || !args.kw.is_empty()) && cls.layout == Layout::Object {
                    return Err(type_error(format!("{}() takes no arguments", cls.name().as_str())));
                }
                self.new_instance(cls, &args)?
            }
        };
        if let Some(init) = init {
            if args.is_empty() && args.kw.is_empty() && init_of_empty_builtin(cls, &init) {
                return Ok(obj);
            }
            let mut a = Args::default();
            a.pos.push(obj.clone());
            a.pos.extend(std::mem::take(&mut args.pos));
            a.kw = std::mem::take(&mut args.kw);
            let r = self.call(init, a)?;
            if !r.is_none() {
                return Err(type_error(format!("__init__() should return None, not '{}'", type_name(&r))));
            }
        }
        Ok(obj)
    }

    /// A fresh instance of a user class, with the native state its layout needs.
    pub fn new_instance(&mut self, cls: &Rc<Class>, args: &Args) -> PyResult<Value> {
        match cls.layout {
            Layout::Exception => {
                let t = types();
                let group_base = t.exc.base_exception_group.clone();
                if cls.is_subclass(&group_base) {
                    return group_construct(self, cls, &args.pos);
                }
                // OSError(errno, strerror, ...) becomes the subclass for that errno.
                if Rc::ptr_eq(cls, &t.exc.os_error) && args.pos.len() >= 2 {
                    if let Value::Int(errno) = args.pos[0] {
                        let sub = crate::exceptions::os_error_class(errno);
                        if !Rc::ptr_eq(&sub, cls) {
                            return Ok(Value::Instance(new_exception(&sub, args.pos.to_vec())));
                        }
                    }
                }
                Ok(Value::Instance(new_exception(cls, args.pos.to_vec())))
            }
            Layout::Builtin => {
                let base = builtin_base(cls);
                let bt = base.builtin.expect("builtin");
                let value = match bt {
                    crate::types::BuiltinType::List => Value::list(vec![]),
                    crate::types::BuiltinType::Dict => Value::dict(PyDict::new()),
                    crate::types::BuiltinType::Set => Value::set(PySet::default()),
                    _ => {
                        let a = Args { pos: args.pos.clone(), kw: vec![] };
                        crate::types::construct(self, &base, bt, a)?
                    }
                };
                Ok(Value::Instance(Instance::new(cls.clone(), Payload::Builtin(RefCell::new(value)))))
            }
            Layout::Object => Ok(Value::Instance(Instance::new(cls.clone(), Payload::None))),
        }
    }
}

/// The builtin class a subclass of a builtin type derives from.
fn builtin_base(cls: &Rc<Class>) -> Rc<Class> {
    cls.mro.borrow().iter().find(|c| c.builtin.is_some()).cloned().expect("a builtin base")
}

/// `init` is the `__init__` of a list, dict or set base, which does
/// nothing without arguments on the empty value `new_instance` made.
fn init_of_empty_builtin(cls: &Rc<Class>, init: &Value) -> bool {
    use crate::types::BuiltinType;
    if cls.layout != Layout::Builtin {
        return false;
    }
    let base = builtin_base(cls);
    // A builtin class's methods name it as their owner.
    matches!(base.builtin, Some(BuiltinType::List | BuiltinType::Dict | BuiltinType::Set))
        && matches!(init, Value::Native(f) if f.owner.is_some_and(|o| o == base.name().as_str()))
}

/// `f` is a plain function (no generator, no `*args`, defaults or
/// keyword-only parameters; cells are made in place) of exactly `n`
/// parameters.
#[inline(always)]
fn takes_plain(f: &Function, n: usize) -> bool {
    f.code.simple && f.code.argcount as usize == n
}

/// Calls with at most this many keyword arguments bind them in place.
pub(crate) const FAST_KEYWORDS: usize = 8;

/// The parameter slot of each keyword argument of a call to `f` with
/// `npos` positional arguments and then keywords `names`, when binding
/// them is plain: `f` is no generator and has no `*args` or `**kwargs`,
/// every keyword names a parameter not given otherwise and that may be
/// passed by keyword, and every parameter left out has a default. Any
/// other call (and every error) goes through `bind_args`.
pub(crate) fn keyword_slots(f: &Function, npos: usize, names: &PyTuple) -> Option<[u16; FAST_KEYWORDS]> {
    let code = &f.code;
    let argcount = code.argcount as usize;
    let nparams = argcount + code.kwonlyargcount as usize;
    if code.flags.varargs || code.flags.varkw || code.is_resumable() || npos > argcount || nparams >= 64 || names.len() > FAST_KEYWORDS {
        return None;
    }
    let first_kw = npos.max(code.posonlyargcount as usize);
    let mut given: u64 = (1u64 << npos) - 1;
    let mut slots = [0; FAST_KEYWORDS];
    for (slot, name) in slots.iter_mut().zip(names.items.iter()) {
        let Value::Str(s) = name else { return None };
        // Names are interned: the pointer compare finds them, the text
        // compare serves names made at run time (`f(**{...})`).
        let params = &code.varnames[..nparams];
        let i = match params.iter().position(|n| Rc::ptr_eq(n, s)) {
            Some(i) => i,
            None => params.iter().position(|n| n.as_str() == s.as_str())?,
        };
        if i < first_kw || given & (1 << i) != 0 {
            return None;
        }
        given |= 1 << i;
        *slot = i as u16;
    }
    let first_default = argcount - f.defaults.len().min(argcount);
    // Every positional parameter without a default is given.
    let required = ((1u64 << first_default) - 1) & !((1u64 << npos) - 1);
    let positional_ok = given & required == required;
    let kwonly_ok =
        (argcount..nparams).all(|i| given & (1 << i) != 0 || f.kwdefaults.iter().any(|(k, _)| k.as_str() == code.varnames[i].as_str()));
    (positional_ok && kwonly_ok).then_some(slots)
}

/// Put cells for captured locals and the closure's cells into their slots.
pub fn prepare_cells(code: &Code, locals: &mut [Value], closure: &[Value]) {
    for &slot in &code.cellvars {
        let v = std::mem::take(&mut locals[slot as usize]);
        let cell = Rc::new(CellObj { v: RefCell::new(v), gc: Default::default() });
        crate::gc::track(&cell);
        locals[slot as usize] = Value::Cell(cell);
    }
    for (i, &slot) in code.freevars.iter().enumerate() {
        if let Some(c) = closure.get(i) {
            locals[slot as usize] = c.clone();
        }
    }
}

fn too_many_positional(f: &Function, given: usize, kwonly_given: usize) -> PyErr {
    let code = &f.code;
    let argcount = code.argcount as usize;
    let ndefaults = f.defaults.len();
    let name = f.qualname.borrow().clone();
    let takes = if ndefaults > 0 {
        format!("from {} to {} positional arguments", argcount - ndefaults, argcount)
    } else {
        format!("{} positional argument{}", argcount, if argcount == 1 { "" } else { "s" })
    };
    let was = if given == 1 && kwonly_given == 0 { "was" } else { "were" };
    // The keyword-only arguments that came along are counted too.
    let kwonly = match kwonly_given {
        0 => String::new(),
        n => format!(
            " positional argument{} (and {n} keyword-only argument{})",
            if given == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" }
        ),
    };
    type_error(format!("{}() takes {} but {}{} {} given", name.as_str(), takes, given, kwonly, was))
}

fn missing_args(f: &Function, kind: &str, names: &[String]) -> PyErr {
    let list = match names.len() {
        1 => names[0].clone(),
        2 => format!("{} and {}", names[0], names[1]),
        _ => format!("{}, and {}", names[..names.len() - 1].join(", "), names[names.len() - 1]),
    };
    type_error(format!(
        "{}() missing {} required {} argument{}: {}",
        f.qualname.borrow().as_str(),
        names.len(),
        kind,
        if names.len() == 1 { "" } else { "s" },
        list
    ))
}

/// `__build_class__(body, name, *bases, **keywords)`.
pub fn build_class(vm: &mut Vm, mut args: Args) -> PyResult {
    let metaclass = args.take_kw("metaclass");
    let mut pos = std::mem::take(&mut args.pos).into_iter();
    let body = pos.next().ok_or_else(|| type_error("__build_class__: not enough arguments"))?;
    let name = match pos.next() {
        Some(Value::Str(s)) => s,
        _ => return Err(type_error("__build_class__: name is not a string")),
    };
    let orig_bases: Vec<Value> = pos.collect();
    let (bases, resolved) = resolve_bases(vm, &orig_bases)?;
    let Value::Function(body) = body else { return Err(type_error("__build_class__: func must be a function")) };
    let meta = find_metaclass(metaclass.as_ref(), &bases);
    let (ns, mapping) = match &meta {
        Some(m) => prepare_namespace(vm, m, &name, &bases, &args.kw)?,
        None => (Rc::new(PyDict::new()), None),
    };
    if resolved {
        ns.set_str("__orig_bases__", Value::tuple(orig_bases));
    }
    let mut locals = vec![Value::Undef; body.code.nlocals as usize];
    prepare_cells(&body.code, &mut locals, &body.closure);
    if let Some(m) = &mapping {
        vm.class_namespaces.push((Rc::as_ptr(&ns) as usize, m.clone()));
    }
    let cell = vm.run_function(&body, locals, Some(ns.clone()));
    if mapping.is_some() {
        vm.class_namespaces.pop();
    }
    // The cell behind zero-argument `super()`: type.__new__ fills it.
    let cell = cell?;
    if let Value::Cell(_) = &cell {
        ns.set_str("__classcell__", cell);
    }
    let cls = make_class(vm, name.as_str(), bases, ns, mapping, meta.map(Value::Class), args.kw)?;
    Ok(Value::Class(cls))
}

/// Bases that are not classes but have `__mro_entries__` (`Generic[T]`,
/// `list[int]`, `NamedTuple`) stand for the classes it gives. The flag
/// says whether any did.
fn resolve_bases(vm: &mut Vm, orig: &[Value]) -> PyResult<(Vec<Rc<Class>>, bool)> {
    let mut bases = Vec::with_capacity(orig.len());
    let mut resolved = false;
    for b in orig {
        match b {
            Value::Class(c) => bases.push(c.clone()),
            _ => {
                let Some(f) = vm.getattr_opt(b, "__mro_entries__")? else {
                    return Err(type_error(format!("bases must be types, not {}", type_name(b))));
                };
                let r = vm.call(f, Args::new([Value::tuple(orig.to_vec())]))?;
                let Value::Tuple(t) = r else { return Err(type_error("__mro_entries__ must return a tuple")) };
                for c in t.items.iter() {
                    match c {
                        Value::Class(c) => bases.push(c.clone()),
                        other => return Err(type_error(format!("bases must be types, not {}", type_name(other)))),
                    }
                }
                resolved = true;
            }
        }
    }
    Ok((bases, resolved))
}

/// The metaclass of a new class: the one asked for, else the most derived
/// among the bases' (`None` for plain `type`).
fn find_metaclass(asked: Option<&Value>, bases: &[Rc<Class>]) -> Option<Rc<Class>> {
    let t = types();
    let mut winner = match asked {
        Some(Value::Class(m)) if !Rc::ptr_eq(m, &t.type_) => Some(m.clone()),
        Some(Value::Class(_)) => None,
        _ => None,
    };
    for b in bases {
        if let Some(m) = b.metaclass.borrow().clone() {
            match &winner {
                Some(w) if w.is_subclass(&m) => {}
                Some(w) if !m.is_subclass(w) && asked.is_some() => {}
                _ => winner = Some(m),
            }
        }
    }
    winner
}

/// The namespace a class body fills: a fresh dict, or what the
/// metaclass's `__prepare__(name, bases, **kw)` makes. For a dict
/// subclass, the dict it wraps and the object itself (its `__setitem__`
/// sees the body's stores).
fn prepare_namespace(
    vm: &mut Vm,
    meta: &Rc<Class>,
    name: &Rc<PyStr>,
    bases: &[Rc<Class>],
    kw: &[(Rc<PyStr>, Value)],
) -> PyResult<(Rc<PyDict>, Option<Value>)> {
    if lookup_special_in(meta, "__prepare__").is_none() {
        return Ok((Rc::new(PyDict::new()), None));
    }
    let prepare = vm.getattr(&Value::Class(meta.clone()), &crate::intern::intern("__prepare__"))?;
    let bases_v = Value::tuple(bases.iter().map(|b| Value::Class(b.clone())).collect::<Vec<_>>());
    let mut a = Args::new([Value::Str(name.clone()), bases_v]);
    a.kw = kw.to_vec();
    match vm.call(prepare, a)? {
        Value::Dict(d) => Ok((d, None)),
        mapping @ Value::Instance(_) => match mapping.as_instance().and_then(|i| i.builtin_value()) {
            Some(Value::Dict(d)) => Ok((d, Some(mapping))),
            _ => Err(type_error(format!("{}.__prepare__() must return a mapping, not {}", meta.name().as_str(), type_name(&mapping)))),
        },
        other => Err(type_error(format!("{}.__prepare__() must return a mapping, not {}", meta.name().as_str(), type_name(&other)))),
    }
}

/// Create a class object from its parts (also `type(name, bases, dict)`):
/// through the metaclass's own `__new__` and `__init__` when it has them,
/// else directly; `kw` are the class keywords (for `__init_subclass__`).
pub fn make_class(
    vm: &mut Vm,
    name: &str,
    bases: Vec<Rc<Class>>,
    ns: Rc<PyDict>,
    mapping: Option<Value>,
    metaclass: Option<Value>,
    kw: Vec<(Rc<PyStr>, Value)>,
) -> PyResult<Rc<Class>> {
    let meta = match metaclass {
        Some(Value::Class(m)) if !Rc::ptr_eq(&m, &types().type_) => Some(m),
        _ => bases.iter().find_map(|b| b.metaclass.borrow().clone()),
    };
    if let Some(m) = &meta {
        if let Some(new) = lookup_special_in(m, "__new__") {
            if !matches!(new, Value::Native(_)) {
                let new = crate::attr::unwrap_staticmethod(&new);
                let bases_v = Value::tuple(bases.iter().map(|b| Value::Class(b.clone())).collect::<Vec<_>>());
                let ns_v = mapping.unwrap_or_else(|| Value::Dict(ns.clone()));
                let mut a = Args::new([Value::Class(m.clone()), Value::str(name), bases_v.clone(), ns_v.clone()]);
                a.kw = kw.clone();
                let r = vm.call(new, a)?;
                if let Value::Class(c) = &r {
                    if let Some(init) = lookup_special_in(m, "__init__") {
                        if !matches!(init, Value::Native(_)) {
                            let mut a = Args::new([r.clone(), Value::str(name), bases_v, ns_v]);
                            a.kw = kw;
                            vm.call(init, a)?;
                        }
                    }
                    return Ok(c.clone());
                }
                return Err(type_error("metaclass __new__ must return a class"));
            }
        }
    }
    new_type(vm, name, bases, ns, meta, kw)
}

/// What `type.__new__` does: the class object itself, its `__class__`
/// cell filled, `__set_name__` called on its attributes and the parent's
/// `__init_subclass__` with the class keywords.
pub fn new_type(
    vm: &mut Vm,
    name: &str,
    mut bases: Vec<Rc<Class>>,
    ns: Rc<PyDict>,
    meta: Option<Rc<Class>>,
    kw: Vec<(Rc<PyStr>, Value)>,
) -> PyResult<Rc<Class>> {
    let t = types();
    if bases.is_empty() {
        bases.push(t.object.clone());
    }
    for b in &bases {
        if matches!(
            b.builtin,
            Some(
                crate::types::BuiltinType::Bool
                    | crate::types::BuiltinType::Range
                    | crate::types::BuiltinType::Slice
                    | crate::types::BuiltinType::Function
                    | crate::types::BuiltinType::NoneType
            )
        ) {
            return Err(type_error(format!("type '{}' is not an acceptable base type", b.name().as_str())));
        }
    }
    let mro = crate::types::c3_mro(&bases).map_err(type_error)?;
    let layout = bases.iter().map(|b| b.layout).find(|l| *l != Layout::Object).unwrap_or(Layout::Object);
    let qualname = match ns.remove_str("__qualname__") {
        Some(Value::Str(s)) => s,
        _ => crate::intern::intern(name),
    };
    let cell = ns.remove_str("__classcell__");
    if ns.get_str("__eq__").is_some() && ns.get_str("__hash__").is_none() {
        ns.set_str("__hash__", Value::None);
    }
    let slots = crate::types::member::plan(vm, &bases, &ns)?;
    // Every class has its own `__doc__`: None rather than a base's docstring.
    if ns.get_str("__doc__").is_none() {
        ns.set_str("__doc__", Value::None);
    }
    for special in ["__init_subclass__", "__class_getitem__"] {
        if let Some(f @ Value::Function(_)) = ns.get_str(special) {
            ns.set_str(special, crate::attr::ClassMethod::wrap(f));
        }
    }
    let cls = Rc::new(Class {
        name: RefCell::new(crate::intern::intern(name)),
        qualname: RefCell::new(qualname),
        bases: RefCell::new(bases),
        mro: RefCell::new(mro),
        dict: ns,
        layout,
        builtin: None,
        flags: std::cell::Cell::new(0),
        metaclass: RefCell::new(meta),
        attr_cache: RefCell::new(hashbrown::HashMap::new()),
        special_cache: RefCell::new(hashbrown::HashMap::new()),
        init_cache: Default::default(),
        new_cache: Default::default(),
        item_cache: Default::default(),
        builtin_kept: Default::default(),
        version: std::cell::Cell::new(crate::object::NO_VERSION),
        subclasses: RefCell::new(Vec::new()),
        slots: slots.layout.clone(),
        keys: slots.has_dict.then(Default::default),
        has_dict: slots.has_dict,
        has_weakref: slots.has_weakref,
        gc: Default::default(),
    });
    slots.install(&cls);
    // Flags a base has, and those the class's own special methods give.
    let mut flags = cls.mro.borrow().iter().fold(0, |f, b| f | b.flags.get());
    for name in crate::object::FLAGGED_SPECIALS {
        if cls.dict.get_str(name).is_some() {
            flags |= crate::object::class_flag_for(name);
        }
    }
    // A native base's `__get__` is in no base's flags.
    if cls.mro.borrow().iter().any(|b| b.builtin.is_some() && b.dict.get_str("__get__").is_some()) {
        flags |= crate::object::CLASS_HAS_GET;
    }
    cls.flags.set(flags);
    cls.dict.d.borrow_mut().watch(Rc::downgrade(&cls));
    crate::gc::track(&cls);
    for b in cls.bases.borrow().iter() {
        let mut subs = b.subclasses.borrow_mut();
        subs.retain(|w| w.strong_count() > 0);
        subs.push(Rc::downgrade(&cls));
    }
    if let Some(Value::Cell(c)) = cell {
        *c.v.borrow_mut() = Value::Class(cls.clone());
    }
    for (k, v) in cls.dict.items() {
        if let Some(f) = lookup_special(&v, "__set_name__") {
            vm.call(f, Args::new([v.clone(), Value::Class(cls.clone()), k]))?;
        }
    }
    if let Some(parent) = cls.mro.borrow().first().cloned() {
        if let Some(f) = lookup_special_in(&parent, "__init_subclass__") {
            let f = crate::attr::unwrap_classmethod(&f);
            let mut a = Args::default();
            a.pos.push(Value::Class(cls.clone()));
            a.kw = kw;
            vm.call(f, a)?;
        }
    }
    Ok(cls)
}

/// `with`: `(bound __exit__, result of __enter__)`; for `async with`, the
/// second is the awaitable of `__aenter__`.
pub fn before_with(vm: &mut Vm, cm: Value, is_async: bool) -> PyResult<(Value, Value)> {
    let (enter_name, exit_name) = if is_async { ("__aenter__", "__aexit__") } else { ("__enter__", "__exit__") };
    let enter = lookup_special(&cm, enter_name);
    let exit = lookup_special(&cm, exit_name);
    let (Some(enter), Some(exit)) = (enter, exit) else {
        let what = if is_async { "asynchronous context manager" } else { "context manager" };
        // The report tells `with` from `async with` by looking at the object.
        let e = type_error(format!("'{}' object does not support the {what} protocol", type_name(&cm)));
        return Err(e.with_detail(|d| d.obj = cm));
    };
    let bound_exit = BoundMethod::bind(exit, cm.clone());
    let entered = vm.call(enter, Args::new([cm]))?;
    Ok((bound_exit, entered))
}

/// `except* T`: split the exception into `(matched, rest)`.
pub fn check_eg_match(vm: &mut Vm, exc: Value, typ: Value) -> PyResult<(Value, Value)> {
    let t = types();
    let check = |c: &Value| -> PyResult<()> {
        match c {
            Value::Class(cls) => {
                if !cls.is_subclass(&t.exc.base_exception) {
                    return Err(type_error("catching classes that do not inherit from BaseException is not allowed"));
                }
                if cls.is_subclass(&t.exc.base_exception_group) {
                    return Err(type_error("catching ExceptionGroup with except* is not allowed. Use except instead."));
                }
                Ok(())
            }
            _ => Err(type_error("catching classes that do not inherit from BaseException is not allowed")),
        }
    };
    match &typ {
        Value::Tuple(items) => {
            for i in items.items.iter() {
                check(i)?;
            }
        }
        other => check(other)?,
    }
    let inst = match &exc {
        Value::Instance(i) => i.clone(),
        _ => return Ok((Value::None, exc)),
    };
    if group_parts(&inst).is_none() {
        if vm.exception_matches(&exc, &typ)? {
            let g = make_group(vm, "", vec![exc.clone()])?;
            if let Some(d) = inst.exc() {
                *g.exc().traceback.borrow_mut() = d.traceback.borrow().clone();
            }
            return Ok((g.value(), Value::None));
        }
        return Ok((Value::None, exc));
    }
    let m = type_matcher(typ);
    let (matched, rest) = split_group(vm, &exc, &m)?;
    Ok((matched, rest))
}

/// The exception an `except*` block ends with: re-raised parts keep the
/// original group's shape; new exceptions are grouped with them.
pub fn prep_reraise_star(vm: &mut Vm, orig: Value, raised: Value) -> PyResult<Value> {
    let excs: Vec<Value> = match &raised {
        Value::List(l) => l.to_vec().into_iter().filter(|v| !v.is_none()).collect(),
        _ => vec![],
    };
    if excs.is_empty() {
        return Ok(Value::None);
    }
    let orig_inst = match &orig {
        Value::Instance(i) => i.clone(),
        _ => return Ok(excs[0].clone()),
    };
    if group_parts(&orig_inst).is_none() {
        return Ok(excs[0].clone());
    }
    let mut orig_leaves = Vec::new();
    collect_leaves(&orig, &mut orig_leaves);
    let mut raised_new = Vec::new();
    let mut reraised_leaves = Vec::new();
    for e in &excs {
        let mut leaves = Vec::new();
        collect_leaves(e, &mut leaves);
        if leaves.iter().all(|l| orig_leaves.iter().any(|o| o == l)) {
            reraised_leaves.extend(leaves);
        } else {
            raised_new.push(e.clone());
        }
    }
    let keep = reraised_leaves.clone();
    let matcher = move |_vm: &mut Vm, e: &Value| -> PyResult<bool> {
        let id = e.ptr().unwrap_or(0);
        Ok(keep.contains(&id))
    };
    let reraised = if reraised_leaves.is_empty() { Value::None } else { split_group(vm, &orig, &matcher)?.0 };
    if raised_new.is_empty() {
        return Ok(reraised);
    }
    let mut all = raised_new;
    if !reraised.is_none() {
        all.push(reraised);
    }
    if all.len() == 1 {
        return Ok(all.remove(0));
    }
    Ok(make_group(vm, "", all)?.value())
}

fn collect_leaves(e: &Value, out: &mut Vec<usize>) {
    if let Value::Instance(i) = e {
        if let Some((_, excs)) = group_parts(i) {
            for x in &excs {
                collect_leaves(x, out);
            }
            return;
        }
    }
    out.push(e.ptr().unwrap_or(0));
}
