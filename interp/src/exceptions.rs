//! Exceptions: making them (with Python's messages), the methods of
//! `BaseException` and its family, exception groups, and matching.

use crate::value::Flag;
use std::rc::Rc;

use crate::object::*;
use crate::types::{method, types, Types};
use crate::value::Value;
use crate::vm::Vm;

/// A new exception instance of `cls` with these constructor arguments.
pub fn new_exception(cls: &Rc<Class>, args: Vec<Value>) -> Rc<Instance> {
    let data = ExcData { args: std::cell::RefCell::new(Value::tuple(args)), ..Default::default() };
    Rc::new(Instance::bare(cls.clone(), Payload::Exception(Box::new(data))))
}

/// An exception of `cls` with a message.
pub fn err(cls: &Rc<Class>, msg: impl Into<String>) -> PyErr {
    PyErr(new_exception(cls, vec![Value::string(msg.into())]))
}

/// An exception of `cls` with no arguments.
pub fn err_noargs(cls: &Rc<Class>) -> PyErr {
    PyErr(new_exception(cls, vec![]))
}

pub fn type_error(msg: impl Into<String>) -> PyErr {
    err(&types().exc.type_error, msg)
}
pub fn value_error(msg: impl Into<String>) -> PyErr {
    err(&types().exc.value_error, msg)
}
pub fn index_error(msg: impl Into<String>) -> PyErr {
    err(&types().exc.index_error, msg)
}
pub fn key_error(key: Value) -> PyErr {
    PyErr(new_exception(&types().exc.key_error, vec![key]))
}
pub fn attribute_error(msg: impl Into<String>) -> PyErr {
    err(&types().exc.attribute_error, msg)
}
pub fn name_error(name: &str) -> PyErr {
    err(&types().exc.name_error, format!("name '{name}' is not defined")).with_detail(|d| d.name = Value::str(name))
}
pub fn zero_division(msg: impl Into<String>) -> PyErr {
    err(&types().exc.zero_division_error, msg)
}
pub fn overflow_error(msg: impl Into<String>) -> PyErr {
    err(&types().exc.overflow_error, msg)
}
pub fn runtime_error(msg: impl Into<String>) -> PyErr {
    err(&types().exc.runtime_error, msg)
}
pub fn recursion_error() -> PyErr {
    err(&types().exc.recursion_error, "maximum recursion depth exceeded")
}
pub fn not_implemented_error(msg: impl Into<String>) -> PyErr {
    err(&types().exc.not_implemented_error, msg)
}
pub fn import_error(msg: impl Into<String>) -> PyErr {
    err(&types().exc.import_error, msg)
}
/// `StopIteration(value)`, as a generator's return value travels.
pub fn stop_iteration(value: Value) -> PyErr {
    let args = if value.is_none() { vec![] } else { vec![value] };
    PyErr(new_exception(&types().exc.stop_iteration, args))
}
pub fn stop_async_iteration() -> PyErr {
    err_noargs(&types().exc.stop_async_iteration)
}

/// The subclass of `OSError` that `OSError(errno, ...)` makes for `errno`
/// (`OSError` itself when none is more precise).
pub fn os_error_class(errno: i64) -> Rc<Class> {
    let e = &types().exc;
    let c = match errno as libc::c_int {
        libc::EAGAIN | libc::EALREADY | libc::EINPROGRESS => &e.blocking_io_error,
        libc::ECHILD => &e.child_process_error,
        libc::EPIPE | libc::ESHUTDOWN => &e.broken_pipe_error,
        libc::ECONNABORTED => &e.connection_aborted_error,
        libc::ECONNREFUSED => &e.connection_refused_error,
        libc::ECONNRESET => &e.connection_reset_error,
        libc::EEXIST => &e.file_exists_error,
        libc::ENOENT => &e.file_not_found_error,
        libc::EISDIR => &e.is_a_directory_error,
        libc::ENOTDIR => &e.not_a_directory_error,
        libc::EINTR => &e.interrupted_error,
        libc::EACCES | libc::EPERM => &e.permission_error,
        libc::ESRCH => &e.process_lookup_error,
        libc::ETIMEDOUT => &e.timeout_error,
        _ => &e.os_error,
    };
    c.clone()
}

/// The system's message for `errno`, as `os.strerror` gives it.
pub fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated message that
    // stays valid until the next call on this thread.
    unsafe {
        let p = libc::strerror(errno);
        if p.is_null() {
            return format!("Unknown error {errno}");
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// `OSError(errno, strerror)`, as the subclass for that errno, with the system's message.
pub fn os_error(errno: i32) -> PyErr {
    os_error_msg(errno, &strerror(errno))
}

/// `OSError(errno, msg)`, as the subclass for that errno.
pub fn os_error_msg(errno: i32, msg: &str) -> PyErr {
    PyErr(new_exception(&os_error_class(errno as i64), vec![Value::Int(errno as i64), Value::str(msg)]))
}

/// The `OSError` for an error of the standard library's I/O.
pub fn os_error_from_io(e: &std::io::Error) -> PyErr {
    match e.raw_os_error() {
        Some(n) => os_error(n),
        None => err(&types().exc.os_error, e.to_string()),
    }
}

/// `TypeError: unsupported operand type(s) for +: 'int' and 'str'`
pub fn unsupported_operands(op: &str, a: &Value, b: &Value) -> PyErr {
    type_error(format!("unsupported operand type(s) for {op}: '{}' and '{}'", crate::types::type_name(a), crate::types::type_name(b)))
}

/// Does exception instance `e` belong to class `cls`?
pub fn is_instance_of(e: &PyErr, cls: &Rc<Class>) -> bool {
    e.class().is_subclass(cls)
}

impl PyErr {
    /// Is this exception an instance of `cls` (or a subclass)?
    pub fn is(&self, cls: &Rc<Class>) -> bool {
        self.class().is_subclass(cls)
    }
    /// The first constructor argument, or None.
    pub fn first_arg(&self) -> Value {
        match &*self.exc().args.borrow() {
            Value::Tuple(t) => t.items.first().cloned().unwrap_or(Value::None),
            _ => Value::None,
        }
    }
    pub fn args(&self) -> Vec<Value> {
        match &*self.exc().args.borrow() {
            Value::Tuple(t) => t.items.to_vec(),
            _ => vec![],
        }
    }
    /// Add a traceback entry as the exception leaves (or is caught in) a frame.
    pub fn push_traceback(&self, code: &Rc<Code>, ip: usize) {
        self.exc().traceback.borrow_mut().push(TbEntry { code: code.clone(), ip: ip as u32 });
    }
    pub fn set_context(&self, ctx: Value) {
        *self.exc().context.borrow_mut() = ctx;
    }
    pub fn context(&self) -> Value {
        self.exc().context.borrow().clone()
    }
    pub fn cause(&self) -> Value {
        self.exc().cause.borrow().clone()
    }
    /// Keep what `fill` sets in the exception's [`ExcDetail`].
    pub fn with_detail(self, fill: impl FnOnce(&mut ExcDetail)) -> PyErr {
        fill(self.exc().detail.borrow_mut().get_or_insert_with(Default::default));
        self
    }
}

use crate::bytecode::Code;

/// Make an exception from what a `raise` statement got: an instance, or a
/// class to call with no arguments.
pub fn from_raise_operand(vm: &mut Vm, v: Value) -> PyResult<PyErr> {
    match &v {
        Value::Instance(i) if i.exc().is_some() => Ok(PyErr(i.clone())),
        Value::Class(c) if c.is_subclass(&types().exc.base_exception) => {
            let inst = vm.call(v.clone(), Args::default())?;
            match inst {
                Value::Instance(i) if i.exc().is_some() => Ok(PyErr(i)),
                other => Err(type_error(format!(
                    "calling {} should have returned an instance of BaseException, not {}",
                    vm.repr_str(&v)?,
                    crate::types::type_name(&other)
                ))),
            }
        }
        _ => Err(type_error("exceptions must derive from BaseException")),
    }
}

/// The `str()` of an exception.
pub fn exc_str(vm: &mut Vm, e: &Rc<Instance>) -> PyResult<String> {
    let data = e.exc().expect("exception");
    let cls = e.class();
    if let Some((msg, _)) = &*data.group.borrow() {
        let n = data.group.borrow().as_ref().map(|g| g.1.len()).unwrap_or(0);
        let msg = vm.str_of(msg)?;
        return Ok(format!("{msg} ({n} sub-exception{})", if n == 1 { "" } else { "s" }));
    }
    let args = match &*data.args.borrow() {
        Value::Tuple(t) => t.items.to_vec(),
        _ => vec![],
    };
    if cls.is_subclass(&types().exc.key_error) && args.len() == 1 {
        return vm.repr_str(&args[0]);
    }
    if cls.is_subclass(&types().exc.os_error) && args.len() >= 2 {
        let errno = vm.str_of(&args[0])?;
        let strerror = vm.str_of(&args[1])?;
        if args.len() >= 3 {
            let fname = vm.repr_str(&args[2])?;
            if let Some(f2) = args.get(4).filter(|f| !f.is_none()) {
                let fname2 = vm.repr_str(f2)?;
                return Ok(format!("[Errno {errno}] {strerror}: {fname} -> {fname2}"));
            }
            return Ok(format!("[Errno {errno}] {strerror}: {fname}"));
        }
        return Ok(format!("[Errno {errno}] {strerror}"));
    }
    match args.len() {
        0 => Ok(String::new()),
        1 => vm.str_of(&args[0]),
        _ => vm.repr_str(&Value::tuple(args)),
    }
}

/// The `repr()` of an exception: `ValueError('boom')`.
pub fn exc_repr(vm: &mut Vm, e: &Rc<Instance>) -> PyResult<String> {
    let data = e.exc().expect("exception");
    let name = e.class().name();
    if let Some((msg, excs)) = &*data.group.borrow() {
        let m = vm.repr_str(msg)?;
        let l = vm.repr_str(&Value::list(excs.clone()))?;
        return Ok(format!("{}({m}, {l})", name.as_str()));
    }
    let args = match &*data.args.borrow() {
        Value::Tuple(t) => t.items.to_vec(),
        _ => vec![],
    };
    let parts: Vec<String> = args.iter().map(|a| vm.repr_str(a)).collect::<PyResult<_>>()?;
    Ok(format!("{}({})", name.as_str(), parts.join(", ")))
}

/// The `Type: message` line Python prints last in a traceback.
pub fn exc_line(vm: &mut Vm, e: &PyErr) -> String {
    let cls = e.class();
    let name = qualified_exc_name(&cls);
    let msg = exc_str(vm, &e.0).unwrap_or_else(|_| "<exception str() failed>".into());
    if msg.is_empty() {
        name
    } else {
        format!("{name}: {msg}")
    }
}

/// The name Python shows for an exception class: module-qualified for
/// asyncio's own (`asyncio.exceptions.CancelledError`).
pub fn qualified_exc_name(cls: &Rc<Class>) -> String {
    let name = cls.name().as_str().to_string();
    let module = cls.dict.get_str("__module__");
    match module {
        Some(Value::Str(m)) if m.as_str() != "builtins" && m.as_str() != "__main__" => format!("{}.{}", m.as_str(), name),
        _ => name,
    }
}

fn self_exc(args: &Args) -> PyResult<Rc<Instance>> {
    match args.pos.first() {
        Some(Value::Instance(i)) if i.exc().is_some() => Ok(i.clone()),
        _ => Err(type_error("descriptor requires a 'BaseException' object")),
    }
}

fn exc_init(_vm: &mut Vm, args: Args) -> PyResult {
    let inst = self_exc(&args)?;
    let data = inst.exc().expect("exception");
    if data.group.borrow().is_none() {
        *data.args.borrow_mut() = Value::tuple(args.pos[1..].to_vec());
    }
    Ok(Value::None)
}

fn exc_str_method(vm: &mut Vm, args: Args) -> PyResult {
    let inst = self_exc(&args)?;
    Ok(Value::string(exc_str(vm, &inst)?))
}

fn exc_repr_method(vm: &mut Vm, args: Args) -> PyResult {
    let inst = self_exc(&args)?;
    Ok(Value::string(exc_repr(vm, &inst)?))
}

fn exc_with_traceback(_vm: &mut Vm, args: Args) -> PyResult {
    let inst = self_exc(&args)?;
    Ok(Value::Instance(inst))
}

fn exc_add_note(vm: &mut Vm, args: Args) -> PyResult {
    let inst = self_exc(&args)?;
    let note = args.pos.get(1).cloned().unwrap_or(Value::None);
    if !matches!(note, Value::Str(_)) {
        return Err(type_error(format!("note must be a str, not '{}'", crate::types::type_name(&note))));
    }
    let notes = match inst.dict_get_str("__notes__") {
        Some(n) => n,
        None => {
            let l = Value::list(vec![]);
            inst.dict_set_str("__notes__", l.clone());
            l
        }
    };
    vm.call_method(&notes, "append", vec![note])?;
    Ok(Value::None)
}

// ------------------------------------------------------------ exception groups

/// `ExceptionGroup(message, exceptions)` construction: validates and fills the group data.
fn group_new(vm: &mut Vm, cls: &Rc<Class>, args: &[Value]) -> PyResult<Rc<Instance>> {
    if args.len() != 2 {
        return Err(type_error(format!("BaseExceptionGroup.__new__() takes exactly 2 arguments ({} given)", args.len())));
    }
    let msg = args[0].clone();
    if !matches!(msg, Value::Str(_)) {
        return Err(type_error("argument 1 must be str, not ".to_string() + &crate::types::type_name(&msg)));
    }
    let excs = vm.collect(&args[1])?;
    if matches!(args[1], Value::Set(_) | Value::FrozenSet(_) | Value::Dict(_)) || excs.is_empty() {
        if excs.is_empty() {
            return Err(value_error("second argument (exceptions) must be a non-empty sequence"));
        }
        return Err(type_error("second argument (exceptions) must be a sequence"));
    }
    let t = types();
    let mut all_exceptions = true;
    for (i, e) in excs.iter().enumerate() {
        match e {
            Value::Instance(inst) if inst.exc().is_some() => {
                if !inst.class().is_subclass(&t.exc.exception) {
                    all_exceptions = false;
                }
            }
            _ => return Err(value_error(format!("Item {i} of second argument (exceptions) is not an exception"))),
        }
    }
    let mut cls = cls.clone();
    if Rc::ptr_eq(&cls, &t.exc.base_exception_group) && all_exceptions {
        cls = exception_group_class();
    } else if cls.is_subclass(&exception_group_class()) && !all_exceptions {
        return Err(type_error("Cannot nest BaseExceptions in an ExceptionGroup"));
    }
    if !all_exceptions && !cls.is_subclass(&exception_group_class()) {
        // A BaseExceptionGroup holding BaseExceptions: fine.
    }
    let inst = new_exception(&cls, args.to_vec());
    *inst.exc().expect("exception").group.borrow_mut() = Some((msg, excs));
    Ok(inst)
}

/// The `ExceptionGroup` class (a subclass of both `BaseExceptionGroup` and `Exception`).
pub fn exception_group_class() -> Rc<Class> {
    thread_local! {
        static EG: Rc<Class> = {
            let t = types();
            let eg = crate::types::new_class("ExceptionGroup", &[t.exc.base_exception_group.clone(), t.exc.exception.clone()], Layout::Exception, Some(crate::types::BuiltinType::Exception));
            eg.dict.set_str("__module__", Value::str("builtins"));
            eg
        };
    }
    EG.with(|c| c.clone())
}

/// Make an exception group instance (for TaskGroup and `except*`).
pub fn make_group(vm: &mut Vm, msg: &str, excs: Vec<Value>) -> PyResult<PyErr> {
    let cls = types().exc.base_exception_group.clone();
    Ok(PyErr(group_new(vm, &cls, &[Value::str(msg), Value::list(excs)])?))
}

/// Called for `SomeGroup(...)`: instance creation for group classes.
pub fn group_construct(vm: &mut Vm, cls: &Rc<Class>, args: &[Value]) -> PyResult<Value> {
    Ok(Value::Instance(group_new(vm, cls, args)?))
}

pub fn group_parts(e: &Rc<Instance>) -> Option<(Value, Vec<Value>)> {
    e.exc()?.group.borrow().clone()
}

/// Split an exception (group) by a matcher: `(match, rest)`, either may be None.
pub fn split_group(vm: &mut Vm, exc: &Value, matcher: &dyn Fn(&mut Vm, &Value) -> PyResult<bool>) -> PyResult<(Value, Value)> {
    let inst = match exc {
        Value::Instance(i) => i.clone(),
        _ => return Ok((Value::None, exc.clone())),
    };
    if matcher(vm, exc)? {
        return Ok((exc.clone(), Value::None));
    }
    let Some((msg, excs)) = group_parts(&inst) else {
        return Ok((Value::None, exc.clone()));
    };
    let mut matched = Vec::new();
    let mut rest = Vec::new();
    for e in excs {
        let (m, r) = split_group(vm, &e, matcher)?;
        if !m.is_none() {
            matched.push(m);
        }
        if !r.is_none() {
            rest.push(r);
        }
    }
    let derive = |vm: &mut Vm, items: Vec<Value>| -> PyResult<Value> {
        if items.is_empty() {
            return Ok(Value::None);
        }
        let new = vm.call_method(&Value::Instance(inst.clone()), "derive", vec![Value::list(items)])?;
        if let (Value::Instance(n), Some(old)) = (&new, inst.exc()) {
            if let Some(nd) = n.exc() {
                *nd.cause.borrow_mut() = old.cause.borrow().clone();
                *nd.context.borrow_mut() = old.context.borrow().clone();
                *nd.traceback.borrow_mut() = old.traceback.borrow().clone();
            }
            if let Some(notes) = inst.dict_get_str("__notes__") {
                n.dict_set_str("__notes__", notes);
            }
        }
        Ok(new)
    };
    let _ = msg;
    let m = derive(vm, matched)?;
    let r = derive(vm, rest)?;
    Ok((m, r))
}

/// A matcher for `except*`/`split`: an exception class, a tuple of them, or a predicate.
pub fn type_matcher(spec: Value) -> impl Fn(&mut Vm, &Value) -> PyResult<bool> {
    move |vm: &mut Vm, e: &Value| -> PyResult<bool> {
        match &spec {
            Value::Class(_) | Value::Tuple(_) => vm.isinstance(e, &spec),
            f => {
                let r = vm.call(f.clone(), Args::new([e.clone()]))?;
                vm.truthy(&r)
            }
        }
    }
}

fn group_self(args: &Args) -> PyResult<Rc<Instance>> {
    match args.pos.first() {
        Some(Value::Instance(i)) if group_parts(i).is_some() => Ok(i.clone()),
        _ => Err(type_error("descriptor requires a 'BaseExceptionGroup' object")),
    }
}

fn group_split(vm: &mut Vm, args: Args) -> PyResult {
    let inst = group_self(&args)?;
    let spec = args.pos.get(1).cloned().ok_or_else(|| type_error("split() takes exactly one argument (0 given)"))?;
    let m = type_matcher(spec);
    let (a, b) = split_group(vm, &Value::Instance(inst), &m)?;
    Ok(Value::tuple([a, b]))
}

fn group_subgroup(vm: &mut Vm, args: Args) -> PyResult {
    let inst = group_self(&args)?;
    let spec = args.pos.get(1).cloned().ok_or_else(|| type_error("subgroup() takes exactly one argument (0 given)"))?;
    let m = type_matcher(spec);
    let (a, _) = split_group(vm, &Value::Instance(inst), &m)?;
    Ok(a)
}

fn group_derive(vm: &mut Vm, args: Args) -> PyResult {
    let inst = group_self(&args)?;
    let (msg, _) = group_parts(&inst).expect("group");
    let excs = args.pos.get(1).cloned().unwrap_or(Value::None);
    let g = group_new(vm, &types().exc.base_exception_group, &[msg, excs])?;
    Ok(Value::Instance(g))
}

/// Attributes that live in an exception's native state.
pub fn exc_getattr(e: &Rc<Instance>, name: &str) -> Option<Value> {
    let data = e.exc()?;
    Some(match name {
        // OSError(errno, strerror, filename, ...) keeps only the first two in `args`.
        "args" if e.class().is_subclass(&types().exc.os_error) => match &*data.args.borrow() {
            Value::Tuple(t) if (3..=5).contains(&t.items.len()) => Value::tuple(t.items[..2].to_vec()),
            other => other.clone(),
        },
        "args" => data.args.borrow().clone(),
        "__cause__" => data.cause.borrow().clone(),
        "__context__" => data.context.borrow().clone(),
        "__suppress_context__" => Value::bool(data.suppress_context.get()),
        "__traceback__" => {
            if data.traceback.borrow().is_empty() {
                Value::None
            } else {
                Value::object(Traceback { entries: data.traceback.borrow().clone() })
            }
        }
        "message" if data.group.borrow().is_some() => data.group.borrow().as_ref().map(|g| g.0.clone()).unwrap_or(Value::None),
        "exceptions" if data.group.borrow().is_some() => {
            Value::tuple(data.group.borrow().as_ref().map(|g| g.1.clone()).unwrap_or_default())
        }
        "value" if e.class().is_subclass(&types().exc.stop_iteration) => first_arg_of(data),
        "code" if e.class().is_subclass(&types().exc.system_exit) => first_arg_of(data),
        "errno" if e.class().is_subclass(&types().exc.os_error) => arg_n(data, 0, 2),
        "strerror" if e.class().is_subclass(&types().exc.os_error) => arg_n(data, 1, 2),
        "filename" if e.class().is_subclass(&types().exc.os_error) => arg_n(data, 2, 3),
        "filename2" if e.class().is_subclass(&types().exc.os_error) => arg_n(data, 4, 5),
        "name"
            if e.class().is_subclass(&types().exc.name_error)
                || e.class().is_subclass(&types().exc.import_error)
                || e.class().is_subclass(&types().exc.attribute_error) =>
        {
            data.detail.borrow().as_ref().map_or(Value::None, |d| d.name.clone())
        }
        "obj" if e.class().is_subclass(&types().exc.attribute_error) => {
            data.detail.borrow().as_ref().map_or(Value::None, |d| d.obj.clone())
        }
        _ => return None,
    })
}

fn first_arg_of(data: &ExcData) -> Value {
    match &*data.args.borrow() {
        Value::Tuple(t) if t.items.len() == 1 => t.items[0].clone(),
        Value::Tuple(t) if t.items.is_empty() => Value::None,
        other => other.clone(),
    }
}

fn arg_n(data: &ExcData, i: usize, min_len: usize) -> Value {
    match &*data.args.borrow() {
        Value::Tuple(t) if t.items.len() >= min_len => t.items[i].clone(),
        _ => Value::None,
    }
}

/// Set an attribute stored in an exception's native state; false if `name` is not one.
pub fn exc_setattr(e: &Rc<Instance>, name: &str, value: Value) -> PyResult<bool> {
    let Some(data) = e.exc() else { return Ok(false) };
    match name {
        "args" => {
            // An OSError keeps the errno and message it was made with when
            // its args are replaced (`self.args = (key, os_error)`).
            if e.class().is_subclass(&types().exc.os_error) && e.dict_get_str("errno").is_none() {
                e.dict_set_str("errno", arg_n(data, 0, 2));
                e.dict_set_str("strerror", arg_n(data, 1, 2));
            }
            *data.args.borrow_mut() = Value::tuple(crate::types::tuple::to_vec_simple(&value))
        }
        "__cause__" => {
            data.suppress_context.set(true);
            *data.cause.borrow_mut() = value;
        }
        "__context__" => *data.context.borrow_mut() = value,
        "__suppress_context__" => data.suppress_context.set(matches!(value, Value::Bool(Flag::TRUE))),
        "__traceback__" => {
            if value.is_none() {
                data.traceback.borrow_mut().clear();
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A traceback object: only enough for `e.__traceback__` to exist.
pub struct Traceback {
    pub entries: Vec<TbEntry>,
}

impl NativeObject for Traceback {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        thread_local! {
            static TB: Rc<Class> = crate::types::new_class("traceback", &[types().object.clone()], Layout::Builtin, None);
        }
        TB.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "tb_lineno" => self.entries.last().map(|e| Value::Int(e.code.line_at(e.ip as usize) as i64)),
            _ => None,
        })
    }
}

/// Install the methods of the exception classes.
pub fn install(t: &'static Types) {
    let be = &t.exc.base_exception;
    method(be, "BaseException", "__init__", exc_init);
    method(be, "BaseException", "__str__", exc_str_method);
    method(be, "BaseException", "__repr__", exc_repr_method);
    method(be, "BaseException", "with_traceback", exc_with_traceback);
    method(be, "BaseException", "add_note", exc_add_note);
    let g = &t.exc.base_exception_group;
    method(g, "BaseExceptionGroup", "split", group_split);
    method(g, "BaseExceptionGroup", "subgroup", group_subgroup);
    method(g, "BaseExceptionGroup", "derive", group_derive);
    for c in [&t.exc.cancelled_error, &t.exc.invalid_state_error] {
        c.dict.set_str("__module__", Value::str("asyncio.exceptions"));
    }
    for c in [&t.exc.queue_empty, &t.exc.queue_full] {
        c.dict.set_str("__module__", Value::str("asyncio.queues"));
    }
}
