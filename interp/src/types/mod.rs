//! The builtin classes (`int`, `str`, `list`, the exception hierarchy, ...)
//! and the methods of the builtin types, one file per type. The classes live
//! in a per-thread registry so that `type_of` needs no VM.

use crate::value::Flag;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::object::*;
use crate::value::Value;

pub mod bytearray;
pub mod bytes;
pub mod complex;
pub mod dict;
pub mod float;
pub mod generic;
pub mod int;
pub mod list;
mod listsort;
pub mod member;
pub mod memoryview;
pub mod object;
pub mod range;
pub mod set;
pub mod slots;
pub mod str;
pub mod tuple;

/// Which builtin type a builtin class is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinType {
    Object,
    Type,
    NoneType,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    List,
    Tuple,
    Dict,
    Set,
    FrozenSet,
    Range,
    Slice,
    Function,
    BuiltinFunction,
    Method,
    Module,
    Generator,
    Coroutine,
    AsyncGenerator,
    Iterator,
    Code,
    Cell,
    NotImplementedType,
    Ellipsis,
    Exception,
    Other,
}

macro_rules! exception_classes {
    ($($field:ident : $name:literal < $base:ident),* $(,)?) => {
        /// The builtin exception classes.
        pub struct ExcTypes {
            pub base_exception: Rc<Class>,
            $(pub $field: Rc<Class>,)*
        }
        fn make_exc_types(object: &Rc<Class>) -> ExcTypes {
            let base_exception = new_class("BaseException", std::slice::from_ref(object), Layout::Exception, Some(BuiltinType::Exception));
            $(let $field = new_class($name, std::slice::from_ref(exception_classes!(@base base_exception $base)), Layout::Exception, Some(BuiltinType::Exception));)*
            ExcTypes { base_exception, $($field,)* }
        }
    };
    (@base $be:ident base_exception) => { &$be };
    (@base $be:ident $other:ident) => { &$other };
}

exception_classes! {
    exception: "Exception" < base_exception,
    system_exit: "SystemExit" < base_exception,
    keyboard_interrupt: "KeyboardInterrupt" < base_exception,
    generator_exit: "GeneratorExit" < base_exception,
    base_exception_group: "BaseExceptionGroup" < base_exception,
    cancelled_error: "CancelledError" < base_exception,
    arithmetic_error: "ArithmeticError" < exception,
    zero_division_error: "ZeroDivisionError" < arithmetic_error,
    floating_point_error: "FloatingPointError" < arithmetic_error,
    system_error: "SystemError" < exception,
    overflow_error: "OverflowError" < arithmetic_error,
    assertion_error: "AssertionError" < exception,
    attribute_error: "AttributeError" < exception,
    buffer_error: "BufferError" < exception,
    eof_error: "EOFError" < exception,
    import_error: "ImportError" < exception,
    module_not_found_error: "ModuleNotFoundError" < import_error,
    lookup_error: "LookupError" < exception,
    index_error: "IndexError" < lookup_error,
    key_error: "KeyError" < lookup_error,
    memory_error: "MemoryError" < exception,
    name_error: "NameError" < exception,
    unbound_local_error: "UnboundLocalError" < name_error,
    os_error: "OSError" < exception,
    file_not_found_error: "FileNotFoundError" < os_error,
    file_exists_error: "FileExistsError" < os_error,
    permission_error: "PermissionError" < os_error,
    is_a_directory_error: "IsADirectoryError" < os_error,
    timeout_error: "TimeoutError" < os_error,
    blocking_io_error: "BlockingIOError" < os_error,
    child_process_error: "ChildProcessError" < os_error,
    connection_error: "ConnectionError" < os_error,
    broken_pipe_error: "BrokenPipeError" < connection_error,
    connection_aborted_error: "ConnectionAbortedError" < connection_error,
    connection_refused_error: "ConnectionRefusedError" < connection_error,
    connection_reset_error: "ConnectionResetError" < connection_error,
    interrupted_error: "InterruptedError" < os_error,
    not_a_directory_error: "NotADirectoryError" < os_error,
    process_lookup_error: "ProcessLookupError" < os_error,
    runtime_error: "RuntimeError" < exception,
    not_implemented_error: "NotImplementedError" < runtime_error,
    recursion_error: "RecursionError" < runtime_error,
    reference_error: "ReferenceError" < exception,
    deadlock_error: "DeadlockError" < runtime_error,
    stop_iteration: "StopIteration" < exception,
    stop_async_iteration: "StopAsyncIteration" < exception,
    syntax_error: "SyntaxError" < exception,
    indentation_error: "IndentationError" < syntax_error,
    tab_error: "TabError" < indentation_error,
    type_error: "TypeError" < exception,
    value_error: "ValueError" < exception,
    unicode_error: "UnicodeError" < value_error,
    unicode_decode_error: "UnicodeDecodeError" < unicode_error,
    unicode_encode_error: "UnicodeEncodeError" < unicode_error,
    unicode_translate_error: "UnicodeTranslateError" < unicode_error,
    invalid_state_error: "InvalidStateError" < exception,
    queue_empty: "QueueEmpty" < exception,
    queue_full: "QueueFull" < exception,
    warning: "Warning" < exception,
    user_warning: "UserWarning" < warning,
    deprecation_warning: "DeprecationWarning" < warning,
    runtime_warning: "RuntimeWarning" < warning,
    pending_deprecation_warning: "PendingDeprecationWarning" < warning,
    syntax_warning: "SyntaxWarning" < warning,
    future_warning: "FutureWarning" < warning,
    import_warning: "ImportWarning" < warning,
    unicode_warning: "UnicodeWarning" < warning,
    bytes_warning: "BytesWarning" < warning,
    resource_warning: "ResourceWarning" < warning,
    encoding_warning: "EncodingWarning" < warning,
}

/// All builtin classes.
pub struct Types {
    pub object: Rc<Class>,
    pub type_: Rc<Class>,
    pub none_type: Rc<Class>,
    pub bool_: Rc<Class>,
    pub int: Rc<Class>,
    pub float: Rc<Class>,
    pub str_: Rc<Class>,
    pub bytes: Rc<Class>,
    pub list: Rc<Class>,
    pub tuple: Rc<Class>,
    pub dict: Rc<Class>,
    pub set: Rc<Class>,
    pub frozenset: Rc<Class>,
    pub range: Rc<Class>,
    pub slice: Rc<Class>,
    pub function: Rc<Class>,
    pub builtin_function: Rc<Class>,
    pub method: Rc<Class>,
    pub module: Rc<Class>,
    pub generator: Rc<Class>,
    pub coroutine: Rc<Class>,
    pub async_generator: Rc<Class>,
    pub code: Rc<Class>,
    pub cell: Rc<Class>,
    pub not_implemented_type: Rc<Class>,
    pub ellipsis: Rc<Class>,
    pub property: Rc<Class>,
    pub member_descriptor: Rc<Class>,
    pub staticmethod: Rc<Class>,
    pub classmethod: Rc<Class>,
    pub super_: Rc<Class>,
    /// `types.GenericAlias` (`list[int]`) and `types.UnionType` (`int | str`).
    pub generic_alias: Rc<Class>,
    pub union_type: Rc<Class>,
    /// Iterator classes by name (`list_iterator`, `zip`, `enumerate`, ...).
    pub iterators: RefCell<Vec<(&'static str, Rc<Class>)>>,
    pub exc: ExcTypes,
}

thread_local! {
    static TYPES: Cell<Option<&'static Types>> = const { Cell::new(None) };
}

/// The builtin classes of this thread's interpreter.
#[inline]
pub fn types() -> &'static Types {
    TYPES.with(|t| match t.get() {
        Some(t) => t,
        None => {
            let made: &'static Types = Box::leak(Box::new(make_types()));
            t.set(Some(made));
            made.install_methods();
            made
        }
    })
}

/// A new class with the given bases, its MRO computed by C3.
pub fn new_class(name: &str, bases: &[Rc<Class>], layout: Layout, builtin: Option<BuiltinType>) -> Rc<Class> {
    let cls = Rc::new(Class {
        name: RefCell::new(crate::intern::intern(name)),
        qualname: RefCell::new(crate::intern::intern(name)),
        bases: RefCell::new(bases.to_vec()),
        mro: RefCell::new(Vec::new()),
        dict: Rc::new(PyDict::new()),
        layout,
        builtin,
        // A native class may answer truth natively (`__len__` of a native
        // container): only `object`, with no base, is known not to.
        flags: Cell::new(if bases.is_empty() { 0 } else { crate::object::CLASS_HAS_TRUTH }),
        metaclass: RefCell::new(None),
        attr_cache: RefCell::new(hashbrown::HashMap::new()),
        special_cache: RefCell::new(hashbrown::HashMap::new()),
        init_cache: Default::default(),
        new_cache: Default::default(),
        item_cache: Default::default(),
        builtin_kept: Default::default(),
        version: Cell::new(crate::object::NO_VERSION),
        subclasses: RefCell::new(Vec::new()),
        slots: None,
        keys: (layout == Layout::Exception || builtin.is_none()).then(Default::default),
        // Exceptions carry a `__dict__`, as do the library's own classes
        // (`builtin: None`); `object` and the builtin types do not. Weak
        // references come with the classes that statements make.
        has_dict: layout == Layout::Exception || builtin.is_none(),
        has_weakref: false,
        gc: Default::default(),
    });
    cls.dict.d.borrow_mut().watch(Rc::downgrade(&cls));
    if let Ok(mro) = c3_mro(bases) {
        *cls.mro.borrow_mut() = mro;
    }
    for b in bases {
        b.subclasses.borrow_mut().push(Rc::downgrade(&cls));
    }
    cls
}

/// The C3 linearization of a class with these bases (without the class itself).
pub fn c3_mro(bases: &[Rc<Class>]) -> Result<Vec<Rc<Class>>, String> {
    let mut seqs: Vec<Vec<Rc<Class>>> = bases.iter().map(|b| b.mro_iter()).collect();
    seqs.push(bases.to_vec());
    let mut out: Vec<Rc<Class>> = Vec::new();
    loop {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            return Ok(out);
        }
        let mut found = None;
        for s in &seqs {
            let head = &s[0];
            let in_tail = seqs.iter().any(|t| t[1..].iter().any(|c| Rc::ptr_eq(c, head)));
            if !in_tail {
                found = Some(head.clone());
                break;
            }
        }
        let Some(next) = found else {
            let names: Vec<String> = bases.iter().map(|b| b.name().as_str().to_string()).collect();
            return Err(format!("Cannot create a consistent method resolution order (MRO) for bases {}", names.join(", ")));
        };
        for s in seqs.iter_mut() {
            if Rc::ptr_eq(&s[0], &next) {
                s.remove(0);
            }
        }
        out.push(next);
    }
}

fn make_types() -> Types {
    let object = new_class("object", &[], Layout::Object, Some(BuiltinType::Object));
    let o = std::slice::from_ref(&object);
    let b = |name: &str, bt: BuiltinType| new_class(name, o, Layout::Builtin, Some(bt));
    let int = b("int", BuiltinType::Int);
    let bool_ = new_class("bool", std::slice::from_ref(&int), Layout::Builtin, Some(BuiltinType::Bool));
    let exc = make_exc_types(&object);
    Types {
        type_: new_class("type", o, Layout::Object, Some(BuiltinType::Type)),
        none_type: b("NoneType", BuiltinType::NoneType),
        bool_,
        int,
        float: b("float", BuiltinType::Float),
        str_: b("str", BuiltinType::Str),
        bytes: b("bytes", BuiltinType::Bytes),
        list: b("list", BuiltinType::List),
        tuple: b("tuple", BuiltinType::Tuple),
        dict: b("dict", BuiltinType::Dict),
        set: b("set", BuiltinType::Set),
        frozenset: b("frozenset", BuiltinType::FrozenSet),
        range: b("range", BuiltinType::Range),
        slice: b("slice", BuiltinType::Slice),
        function: b("function", BuiltinType::Function),
        builtin_function: b("builtin_function_or_method", BuiltinType::BuiltinFunction),
        method: b("method", BuiltinType::Method),
        module: b("module", BuiltinType::Module),
        generator: b("generator", BuiltinType::Generator),
        coroutine: b("coroutine", BuiltinType::Coroutine),
        async_generator: b("async_generator", BuiltinType::AsyncGenerator),
        code: b("code", BuiltinType::Code),
        cell: b("cell", BuiltinType::Cell),
        not_implemented_type: b("NotImplementedType", BuiltinType::NotImplementedType),
        ellipsis: b("ellipsis", BuiltinType::Ellipsis),
        property: b("property", BuiltinType::Other),
        member_descriptor: b("member_descriptor", BuiltinType::Other),
        staticmethod: b("staticmethod", BuiltinType::Other),
        classmethod: b("classmethod", BuiltinType::Other),
        super_: b("super", BuiltinType::Other),
        generic_alias: b("GenericAlias", BuiltinType::Other),
        union_type: b("UnionType", BuiltinType::Other),
        iterators: RefCell::new(Vec::new()),
        exc,
        object,
    }
}

impl Types {
    fn install_methods(&'static self) {
        object::install(self);
        int::install(self);
        float::install(self);
        str::install(self);
        bytes::install(self);
        list::install(self);
        tuple::install(self);
        dict::install(self);
        set::install(self);
        range::install(self);
        crate::exceptions::install(self);
        crate::iter::install(self);
        crate::generator::install(self);
        crate::attr::install_descriptors(self);
        generic::install(self);
        slots::install(self);
        member::install(self);
    }

    /// The class for a builtin iterator kind, made on first use.
    pub fn iterator_class(&self, name: &'static str) -> Rc<Class> {
        if let Some((_, c)) = self.iterators.borrow().iter().find(|(n, _)| *n == name) {
            return c.clone();
        }
        let c = new_class(name, std::slice::from_ref(&self.object), Layout::Builtin, Some(BuiltinType::Iterator));
        crate::iter::install_iterator_methods(&c);
        self.iterators.borrow_mut().push((name, c.clone()));
        c
    }
}

/// Register a native method on a builtin class.
pub fn method(cls: &Rc<Class>, owner: &'static str, name: &str, f: NativeFnPtr) {
    let nf = NativeFn { name: crate::intern::intern(name), owner: Some(owner), imp: NativeImpl::Static(f) };
    cls.dict.set_str_rc(crate::intern::intern(name), Value::Native(Rc::new(nf)));
}

/// A fast-call method (positional arguments only) of a builtin class.
pub fn method_fast(cls: &Rc<Class>, owner: &'static str, name: &str, f: FastFnPtr) {
    let nf = NativeFn { name: crate::intern::intern(name), owner: Some(owner), imp: NativeImpl::Fast(f, None) };
    cls.dict.set_str_rc(crate::intern::intern(name), Value::Native(Rc::new(nf)));
}

/// A fast-call native function value (positional arguments only).
pub fn native_fast(name: &str, f: FastFnPtr) -> Value {
    Value::Native(Rc::new(NativeFn { name: crate::intern::intern(name), owner: None, imp: NativeImpl::Fast(f, None) }))
}

/// A native function value that accepts keywords, with a fast entry for
/// the calls that give none (see `NativeImpl::Fast`).
pub fn native_fast_kw(name: &str, fast: FastFnPtr, full: NativeFnPtr) -> Value {
    Value::Native(Rc::new(NativeFn { name: crate::intern::intern(name), owner: None, imp: NativeImpl::Fast(fast, Some(full)) }))
}

/// A native function value (not a method: no `self` binding).
pub fn native_fn(name: &str, f: NativeFnPtr) -> Value {
    Value::Native(Rc::new(NativeFn { name: crate::intern::intern(name), owner: None, imp: NativeImpl::Static(f) }))
}

/// A native function value from a closure.
pub fn native_closure(name: &str, f: impl Fn(&mut crate::vm::Vm, Args) -> PyResult + 'static) -> Value {
    Value::Native(Rc::new(NativeFn { name: crate::intern::intern(name), owner: None, imp: NativeImpl::Dyn(Rc::new(f)) }))
}

/// A static method on a builtin class (`dict.fromkeys`, `str.maketrans`, `int.from_bytes`).
pub fn class_function(cls: &Rc<Class>, name: &str, f: NativeFnPtr, as_classmethod: bool) {
    let func = native_fn(name, f);
    let wrapped = if as_classmethod { crate::attr::ClassMethod::wrap(func) } else { crate::attr::StaticMethod::wrap(func) };
    cls.dict.set_str(name, wrapped);
}

/// The class of any value.
pub fn type_of(v: &Value) -> Rc<Class> {
    // The common case first, with no look at the thread's builtin classes.
    if let Value::Instance(i) = v {
        return i.class();
    }
    let t = types();
    match v {
        Value::None | Value::Undef => t.none_type.clone(),
        Value::NotImplemented => t.not_implemented_type.clone(),
        Value::Ellipsis => t.ellipsis.clone(),
        Value::Bool(_) => t.bool_.clone(),
        Value::Int(_) | Value::BigInt(_) => t.int.clone(),
        Value::Float(_) => t.float.clone(),
        Value::Str(_) => t.str_.clone(),
        Value::Bytes(_) => t.bytes.clone(),
        Value::List(_) => t.list.clone(),
        Value::Tuple(_) => t.tuple.clone(),
        Value::Dict(_) => t.dict.clone(),
        Value::Set(_) => t.set.clone(),
        Value::FrozenSet(_) => t.frozenset.clone(),
        Value::Range(_) => t.range.clone(),
        Value::Slice(_) => t.slice.clone(),
        Value::Function(_) => t.function.clone(),
        Value::Native(_) => t.builtin_function.clone(),
        Value::BoundMethod(b) => match b.func {
            Value::Native(_) => t.builtin_function.clone(),
            _ => t.method.clone(),
        },
        Value::Class(c) => c.metaclass.borrow().clone().unwrap_or_else(|| t.type_.clone()),
        Value::Instance(i) => i.class(),
        Value::Module(_) => t.module.clone(),
        Value::Generator(g) => match g.kind {
            GenKind::Generator => t.generator.clone(),
            GenKind::Coroutine => t.coroutine.clone(),
            GenKind::AsyncGenerator => t.async_generator.clone(),
        },
        Value::Iter(it) => t.iterator_class(it.state.borrow().type_name()),
        Value::Cell(_) => t.cell.clone(),
        Value::Code(_) => t.code.clone(),
        Value::Future(f) => {
            if f.is_task() {
                crate::task::task_class()
            } else {
                crate::task::future_class()
            }
        }
        Value::Object(o) => o.class(),
    }
}

/// `callable(v)`: a function, a class, or an object with `__call__`.
pub fn is_callable(v: &Value) -> bool {
    match v {
        Value::Function(_) | Value::Native(_) | Value::BoundMethod(_) | Value::Class(_) => true,
        Value::Instance(_) | Value::Object(_) => crate::ops::lookup_special(v, "__call__").is_some(),
        _ => false,
    }
}

/// The type name used in messages (`'int' object is not callable`).
pub fn type_name(v: &Value) -> String {
    match v {
        Value::None => "NoneType".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) | Value::BigInt(_) => "int".into(),
        Value::Float(_) => "float".into(),
        Value::Str(_) => "str".into(),
        Value::List(_) => "list".into(),
        Value::Tuple(_) => "tuple".into(),
        Value::Dict(_) => "dict".into(),
        _ => {
            let cls = type_of(v);
            let name = cls.name().as_str().to_string();
            match cls.dict.get_str("__module__") {
                Some(Value::Str(m)) if is_c_type(m.as_str(), &name) => format!("{}.{name}", m.as_str()),
                _ => name,
            }
        }
    }
}

/// Is `module.name` a class CPython writes in C, whose messages name it
/// with its module (`'datetime.date' object ...`, `'collections.deque'
/// and 'int'`)? The library writes these in .aio or natively, as any class.
fn is_c_type(module: &str, name: &str) -> bool {
    matches!(
        (module, name),
        ("datetime", "date" | "time" | "datetime" | "timedelta" | "timezone" | "tzinfo")
            | ("collections", "deque" | "OrderedDict" | "defaultdict")
            | ("array", "array" | "arrayiterator")
            | ("decimal", "Decimal" | "Context")
            | ("functools", "partial")
            | ("re", "Pattern" | "Match")
            | ("operator", "itemgetter" | "attrgetter" | "methodcaller")
    )
}

/// A repr for debugging and disassembly that needs no VM.
pub fn debug_repr(v: &Value) -> String {
    match v {
        Value::Str(s) => crate::numfmt::str_repr(s),
        Value::Int(i) => i.to_string(),
        Value::BigInt(b) => b.to_string(),
        Value::Float(f) => crate::numfmt::float_repr(f.get()),
        Value::Bool(b) => if b.get() { "True" } else { "False" }.into(),
        Value::None => "None".into(),
        Value::Tuple(t) => {
            let items: Vec<String> = t.items.iter().map(debug_repr).collect();
            if items.len() == 1 {
                format!("({},)", items[0])
            } else {
                format!("({})", items.join(", "))
            }
        }
        other => format!("<{}>", type_name(other)),
    }
}

/// Call a builtin class: `int("3")`, `list(x)`, `type(x)`, `ValueError("m")`, ...
pub fn construct(vm: &mut crate::vm::Vm, cls: &Rc<Class>, bt: BuiltinType, args: Args) -> PyResult {
    let t = types();
    match bt {
        BuiltinType::Object => {
            if !args.is_empty() || !args.kw.is_empty() {
                return Err(crate::exceptions::type_error("object() takes no arguments"));
            }
            Ok(Value::Instance(Instance::new(t.object.clone(), Payload::None)))
        }
        BuiltinType::Type => object::type_new(vm, args),
        BuiltinType::NoneType => Ok(Value::None),
        BuiltinType::Bool => match args.pos.first() {
            Some(v) => Ok(Value::bool(vm.truthy(v)?)),
            None => Ok(Value::Bool(Flag::FALSE)),
        },
        BuiltinType::Int => int::construct(vm, args),
        BuiltinType::Float => float::construct(vm, args),
        BuiltinType::Str => str::construct(vm, args),
        BuiltinType::Bytes => bytes::construct(vm, args),
        BuiltinType::List => list::construct(vm, args),
        BuiltinType::Tuple => tuple::construct(vm, args),
        BuiltinType::Dict => dict::construct(vm, args),
        BuiltinType::Set => set::construct(vm, args, false),
        BuiltinType::FrozenSet => set::construct(vm, args, true),
        BuiltinType::Range => range::construct(vm, args),
        BuiltinType::Slice => {
            let a = &args.pos;
            let (start, stop, step) = match a.len() {
                1 => (Value::None, a[0].clone(), Value::None),
                2 => (a[0].clone(), a[1].clone(), Value::None),
                3 => (a[0].clone(), a[1].clone(), a[2].clone()),
                n => return Err(crate::exceptions::type_error(format!("slice expected at most 3 arguments, got {n}"))),
            };
            Ok(Value::Slice(Rc::new(PySlice { start, stop, step })))
        }
        BuiltinType::Exception => crate::exceptions::group_construct(vm, cls, &args.pos),
        // `types.MethodType(func, obj)` and `types.ModuleType(name, doc=None)`.
        BuiltinType::Method => match &args.pos[..] {
            [func, obj] => {
                let callable = match func {
                    Value::Function(_) | Value::Native(_) | Value::BoundMethod(_) | Value::Class(_) => true,
                    _ => crate::ops::lookup_special(func, "__call__").is_some(),
                };
                if !callable {
                    return Err(crate::exceptions::type_error("first argument must be callable"));
                }
                Ok(BoundMethod::bind(func.clone(), obj.clone()))
            }
            other => Err(crate::exceptions::type_error(format!("method expected 2 arguments, got {}", other.len()))),
        },
        BuiltinType::Module => match args.pos.first() {
            Some(Value::Str(name)) => {
                let m = crate::import::new_module(name.as_str(), None);
                if let Some(doc) = args.pos.get(1) {
                    m.set("__doc__", doc.clone());
                }
                Ok(Value::Module(m))
            }
            Some(other) => {
                Err(crate::exceptions::type_error(format!("module.__init__() argument 1 must be str, not {}", type_name(other))))
            }
            None => Err(crate::exceptions::type_error("module.__init__() missing required argument 'name' (pos 1)")),
        },
        BuiltinType::Other => {
            if Rc::ptr_eq(cls, &t.property) {
                crate::attr::property_new(vm, args)
            } else if Rc::ptr_eq(cls, &t.staticmethod) {
                Ok(crate::attr::StaticMethod::wrap(args.pos.first().cloned().unwrap_or(Value::None)))
            } else if Rc::ptr_eq(cls, &t.classmethod) {
                Ok(crate::attr::ClassMethod::wrap(args.pos.first().cloned().unwrap_or(Value::None)))
            } else if Rc::ptr_eq(cls, &t.super_) {
                crate::attr::super_new(vm, args)
            } else if Rc::ptr_eq(cls, &t.generic_alias) {
                generic::construct(vm, args)
            } else {
                Err(crate::exceptions::type_error(format!("cannot create '{}' instances", cls.name().as_str())))
            }
        }
        _ => Err(crate::exceptions::type_error(format!("cannot create '{}' instances", cls.name().as_str()))),
    }
}

/// The `start, stop` arguments of `index` on a sequence of length `n`,
/// resolved as a slice resolves them (past-64-bit bounds clamp).
pub fn search_range(vm: &mut crate::vm::Vm, start: Option<&Value>, stop: Option<&Value>, n: i64) -> PyResult<(i64, i64)> {
    let norm = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
    let start = match start {
        Some(v) => norm(vm.bound_value(v)?),
        None => 0,
    };
    let stop = match stop {
        Some(v) => norm(vm.bound_value(v)?),
        None => n,
    };
    Ok((start, stop))
}

/// Resolve a slice against a sequence length: `(start, stop, step, count)`.
pub fn slice_indices(vm: &mut crate::vm::Vm, s: &PySlice, len: usize) -> PyResult<(i64, i64, i64, usize)> {
    let (start, stop, step) = unpack_slice(vm, s)?;
    Ok(adjust_slice(len, start, stop, step))
}

/// A slice's bounds as integers (None where omitted) and its nonzero step,
/// as CPython's `PySlice_Unpack` gives them: the step first (a zero step
/// raises before the bounds' `__index__` runs), then start, then stop.
/// `__index__` may change the sequence: its length is read after.
pub fn unpack_slice(vm: &mut crate::vm::Vm, s: &PySlice) -> PyResult<(Option<i64>, Option<i64>, i64)> {
    let step = if s.step.is_none() { 1 } else { slice_int(vm, &s.step)? };
    if step == 0 {
        return Err(crate::exceptions::value_error("slice step cannot be zero"));
    }
    let start = if s.start.is_none() { None } else { Some(slice_int(vm, &s.start)?) };
    let stop = if s.stop.is_none() { None } else { Some(slice_int(vm, &s.stop)?) };
    Ok((start, stop, step))
}

/// What `unpack_slice` gives for the parts of a slice, `[start, stop]` or
/// `[start, stop, step]`, when they are all ints or None: nothing runs and
/// nothing can fail. `None` for anything else, a zero step included (the
/// general path raises).
#[inline]
pub fn plain_slice_bounds(parts: &[Value]) -> Option<(Option<i64>, Option<i64>, i64)> {
    let bound = |v: &Value| match v {
        Value::None => Some(None),
        Value::Int(i) => Some(Some(*i)),
        _ => None,
    };
    let step = match parts.get(2) {
        None | Some(Value::None) => 1,
        Some(Value::Int(i)) if *i != 0 => *i,
        _ => return None,
    };
    Some((bound(&parts[0])?, bound(&parts[1])?, step))
}

/// `c[start:stop:step]` for a list, tuple or str `c` whose slice parts
/// (`[start, stop]` or `[start, stop, step]`) are ints or None: what the
/// general path gives, with no slice object made. `None` for anything else
/// (a user class's `__getitem__` gets a real slice there).
pub fn slice_plain(c: &Value, parts: &[Value]) -> Option<Value> {
    let (start, stop, step) = plain_slice_bounds(parts)?;
    match c {
        Value::List(l) => {
            let items = l.borrow();
            let (start, _, step, count) = adjust_slice(items.len(), start, stop, step);
            Some(Value::list(tuple::pick_items(&items, start, step, count)))
        }
        Value::Tuple(t) => {
            let (start, _, step, count) = adjust_slice(t.items.len(), start, stop, step);
            Some(tuple::slice_of(t, start, step, count))
        }
        Value::Str(s) => {
            let (start, _, step, count) = adjust_slice(s.char_len(), start, stop, step);
            Some(str::slice_of(s, start, step, count))
        }
        _ => None,
    }
}

/// A slice's bounds (None where omitted) and nonzero step resolved against
/// a sequence length, as CPython's `PySlice_AdjustIndices` does: `(start,
/// stop, step, count)`, with `start + k * step` for `k < count` the indices
/// selected.
pub fn adjust_slice(len: usize, start: Option<i64>, stop: Option<i64>, step: i64) -> (i64, i64, i64, usize) {
    let len = len as i64;
    // As CPython clamps it: `-step` below cannot overflow.
    let step = step.max(-i64::MAX);
    let (lower, upper) = if step < 0 { (-1, len - 1) } else { (0, len) };
    let clamp = |v: i64| -> i64 {
        if v < 0 {
            v.saturating_add(len).max(lower)
        } else {
            v.min(upper)
        }
    };
    let start = match start {
        Some(v) => clamp(v),
        None if step < 0 => upper,
        None => lower,
    };
    let stop = match stop {
        Some(v) => clamp(v),
        None if step < 0 => lower,
        None => upper,
    };
    let count = if step > 0 {
        if start < stop {
            ((stop - start - 1) / step + 1) as usize
        } else {
            0
        }
    } else if stop < start {
        ((start - stop - 1) / (-step) + 1) as usize
    } else {
        0
    };
    (start, stop, step, count)
}

fn slice_int(vm: &mut crate::vm::Vm, v: &Value) -> PyResult<i64> {
    match v {
        Value::BigInt(b) => Ok(if num_traits::Signed::is_negative(&**b) { i64::MIN / 2 } else { i64::MAX / 2 }),
        _ => vm
            .index_value(v)
            .map_err(|_| crate::exceptions::type_error("slice indices must be integers or None or have an __index__ method")),
    }
}

/// Normalize a sequence index (negative counts from the end); `None` when out of range.
pub fn seq_index(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let j = if i < 0 { i + len } else { i };
    if j >= 0 && j < len {
        Some(j as usize)
    } else {
        None
    }
}

/// Check a native method's argument count, with CPython's wording.
pub fn check_args(name: &str, args: &Args, min: usize, max: usize) -> PyResult<()> {
    if !args.kw.is_empty() {
        return Err(crate::exceptions::type_error(format!("{name}() takes no keyword arguments")));
    }
    check_count(name, args.pos.len().saturating_sub(1), min, max)
}

/// `check_args` for a fast-call method given `n` arguments after `self`.
#[inline]
pub fn check_count(name: &str, n: usize, min: usize, max: usize) -> PyResult<()> {
    if n >= min && n <= max {
        return Ok(());
    }
    count_error(name, n, min, max)
}

#[cold]
fn count_error(name: &str, n: usize, min: usize, max: usize) -> PyResult<()> {
    if n < min || n > max {
        if min == max {
            if min == 0 {
                return Err(crate::exceptions::type_error(format!("{name}() takes no arguments ({n} given)")));
            }
            if min == 1 {
                return Err(crate::exceptions::type_error(format!("{name}() takes exactly one argument ({n} given)")));
            }
            return Err(crate::exceptions::type_error(format!("{name}() takes exactly {min} arguments ({n} given)")));
        }
        if n < min {
            return Err(crate::exceptions::type_error(format!(
                "{name} expected at least {min} argument{}, got {n}",
                if min == 1 { "" } else { "s" }
            )));
        }
        return Err(crate::exceptions::type_error(format!(
            "{name} expected at most {max} argument{}, got {n}",
            if max == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

/// The argument at position `i` of a native method (after self), or a default.
pub fn arg(args: &Args, i: usize) -> Option<&Value> {
    args.pos.get(i + 1)
}
