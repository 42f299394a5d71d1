//! `eval`, `exec` and `compile`: source text run at run time.
//!
//! Globals live in module slots, not in dicts, so a `globals` dict is
//! mirrored by a module kept for that dict: its names are copied in before
//! the code runs and back out after. The same dict always gets the same
//! module, so a function defined by one `exec` sees what a later one binds
//! (doctest runs a docstring's examples that way, one after another).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use aio_interp::bytecode::Code;
use aio_interp::compiler::Mode;
use aio_interp::exceptions::*;
use aio_interp::import::{compile_source, syntax_exception};
use aio_interp::object::*;
use aio_interp::types::{new_class, types};
use aio_interp::{Value, Vm};

use crate::params::Sig;

/// What `compile()` returns: the source, checked, to be compiled for the
/// namespace it runs in (compiled code is tied to its module's slots).
pub struct CodeSource {
    text: String,
    filename: String,
    mode: Mode,
}

/// A globals dict (weakly, by its address) and the module that mirrors it.
type Mirrors = HashMap<usize, (Weak<PyDict>, Rc<Module>)>;

thread_local! {
    static CODE_CLASS: Rc<Class> = new_class("code", std::slice::from_ref(&types().object), Layout::Builtin, None);
    /// The module that mirrors each globals dict, by the dict's address.
    static MIRRORS: RefCell<Mirrors> = RefCell::new(HashMap::new());
}

impl NativeObject for CodeSource {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        CODE_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "co_filename" => Some(Value::str(&self.filename)),
            "co_name" => Some(Value::str("<module>")),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<code object <module> at 0x{:x}, file \"{}\", line 1>", self as *const _ as usize, self.filename))
    }
}

fn mode_of(name: &str) -> PyResult<Mode> {
    match name {
        "exec" => Ok(Mode::Module),
        "eval" => Ok(Mode::Eval),
        "single" => Ok(Mode::Interactive),
        _ => Err(value_error("compile() mode must be 'exec', 'eval' or 'single'")),
    }
}

/// The text of a `source` argument: str, or bytes as UTF-8.
fn source_text(v: &Value, func: &str) -> PyResult<String> {
    match v {
        Value::Str(s) => Ok(s.as_str().to_string()),
        Value::Bytes(b) => {
            String::from_utf8(b.b.to_vec()).map_err(|_| err(&types().exc.syntax_error, "source code cannot be decoded as UTF-8"))
        }
        other => {
            Err(type_error(format!("{func}() arg 1 must be a string, bytes or code object, not {}", aio_interp::types::type_name(other))))
        }
    }
}

/// Compile `text` for `module`, as a SyntaxError when it does not parse.
fn compile_for(text: &str, filename: &str, module: &Rc<Module>, mode: Mode) -> PyResult<Rc<Code>> {
    let code = compile_source(filename, text, module, mode).map_err(|(d, src)| syntax_exception(&d, &src))?;
    if code.flags.toplevel_await {
        return Err(err(&types().exc.syntax_error, format!("'await' outside function ({filename}, line 1)")));
    }
    Ok(code)
}

/// `compile(source, filename, mode, flags=0, dont_inherit=False, optimize=-1)`.
pub fn compile(_vm: &mut Vm, args: Args) -> PyResult {
    let sig = Sig {
        qual: "compile",
        has_self: false,
        names: &["source", "filename", "mode", "flags", "dont_inherit", "optimize"],
        required: 3,
        kwonly: &[],
    };
    let a = sig.bind(args)?;
    let src = a[0].clone().unwrap_or_default();
    if let Some(c) = src.downcast::<CodeSource>() {
        return Ok(Value::object(CodeSource { text: c.text.clone(), filename: c.filename.clone(), mode: c.mode }));
    }
    let text = source_text(&src, "compile")?;
    let filename = match a[1].clone().unwrap_or_default() {
        Value::Str(s) => s.as_str().to_string(),
        other => {
            return Err(type_error(format!("compile() argument 'filename' must be str, not {}", aio_interp::types::type_name(&other))))
        }
    };
    let mode = match a[2].clone().unwrap_or_default() {
        Value::Str(s) => mode_of(s.as_str())?,
        other => return Err(type_error(format!("compile() argument 'mode' must be str, not {}", aio_interp::types::type_name(&other)))),
    };
    let text = if mode == Mode::Eval { text.trim_start_matches([' ', '\t']).to_string() } else { text };
    // Checked now, as CPython reports a syntax error at compile() time.
    compile_for(&text, &filename, &aio_interp::import::new_module("__main__", None), mode)?;
    Ok(Value::object(CodeSource { text, filename, mode }))
}

/// The module a globals dict runs in, with the dict's names copied in.
fn mirror(vm: &mut Vm, globals: &Rc<PyDict>) -> PyResult<Rc<Module>> {
    if globals.get_str("__builtins__").is_none() {
        globals.set_str("__builtins__", Value::Dict(vm.builtins.clone()));
    }
    let key = Rc::as_ptr(globals) as usize;
    let found = MIRRORS.with(|m| {
        let mut m = m.borrow_mut();
        m.retain(|_, (w, _)| w.strong_count() > 0);
        m.get(&key).filter(|(w, _)| w.upgrade().is_some_and(|d| Rc::ptr_eq(&d, globals))).map(|(_, module)| module.clone())
    });
    let module = match found {
        Some(m) => m,
        None => {
            let name = match globals.get_str("__name__") {
                Some(Value::Str(s)) => s.as_str().to_string(),
                _ => "builtins".to_string(),
            };
            let m = Rc::new(Module::new(&name));
            MIRRORS.with(|ms| ms.borrow_mut().insert(key, (Rc::downgrade(globals), m.clone())));
            m
        }
    };
    // The dict is the truth: names deleted from it go from the module too.
    for (name, _) in module.entries() {
        if globals.get_str(name.as_str()).is_none() {
            module.globals.borrow_mut()[module.slot(name.as_str()) as usize] = Value::Undef;
        }
    }
    for (k, v) in globals.items() {
        match &k {
            Value::Str(s) => module.set(s.as_str(), v),
            other => return Err(type_error(format!("globals keys must be strings, not {}", aio_interp::types::type_name(other)))),
        }
    }
    Ok(module)
}

/// Copy the module's names back into the globals dict after a run.
fn unmirror(globals: &Rc<PyDict>, module: &Rc<Module>) {
    let names = module.names.borrow().clone();
    let values = module.globals.borrow().clone();
    for (name, v) in names.into_iter().zip(values) {
        if v.is_undef() {
            globals.remove_str(name.as_str());
        } else {
            globals.set_str_rc(name, v);
        }
    }
}

/// Where code runs: the module, the locals mapping, and the globals dict to update after.
struct Namespace {
    module: Rc<Module>,
    locals: Option<Rc<PyDict>>,
    globals: Option<Rc<PyDict>>,
}

fn namespace(vm: &mut Vm, globals: Option<Value>, locals: Option<Value>, func: &str) -> PyResult<Namespace> {
    let locals = match locals {
        None | Some(Value::None) => None,
        Some(Value::Dict(d)) => Some(d),
        Some(other) => return Err(type_error(format!("locals must be a mapping, not {}", aio_interp::types::type_name(&other)))),
    };
    match globals {
        None | Some(Value::None) => {
            let frame = vm.frames.last().ok_or_else(|| runtime_error(format!("{func}() called with no frame")))?;
            let module = frame.globals.clone();
            let in_function = frame.code.name.as_str() != "<module>";
            let locals = match locals {
                Some(l) => Some(l),
                None if in_function => match crate::builtins::locals(vm, Args::default())? {
                    Value::Dict(d) => Some(d),
                    _ => None,
                },
                None => None,
            };
            Ok(Namespace { module, locals, globals: None })
        }
        Some(Value::Dict(g)) => {
            let module = mirror(vm, &g)?;
            let locals = locals.filter(|l| !Rc::ptr_eq(l, &g));
            Ok(Namespace { module, locals, globals: Some(g) })
        }
        Some(other) => Err(type_error(format!("{func}() globals must be a dict, not {}", aio_interp::types::type_name(&other)))),
    }
}

fn run(vm: &mut Vm, source: &Value, ns: Namespace, want: Mode, func: &str) -> PyResult {
    let (text, filename, mode) = match source.downcast::<CodeSource>() {
        Some(c) => (c.text.clone(), c.filename.clone(), c.mode),
        None => {
            let t = source_text(source, func)?;
            let t = if want == Mode::Eval { t.trim_start_matches([' ', '\t']).to_string() } else { t };
            (t, "<string>".to_string(), want)
        }
    };
    let code = compile_for(&text, &filename, &ns.module, mode)?;
    let r = vm.run_code_in(code, ns.module.clone(), ns.locals);
    if let Some(g) = &ns.globals {
        unmirror(g, &ns.module);
    }
    let v = r?;
    Ok(if mode == Mode::Eval { v } else { Value::None })
}

fn bind3(func: &'static str, args: Args) -> PyResult<(Value, Option<Value>, Option<Value>)> {
    let sig = Sig { qual: func, has_self: false, names: &["source", "globals", "locals"], required: 1, kwonly: &[] };
    let mut a = sig.bind(args)?.into_iter();
    let src = a.next().flatten().unwrap_or_default();
    Ok((src, a.next().flatten(), a.next().flatten()))
}

/// `exec(source, globals=None, locals=None)`.
pub fn exec(vm: &mut Vm, args: Args) -> PyResult {
    let (src, g, l) = bind3("exec", args)?;
    let ns = namespace(vm, g, l, "exec")?;
    run(vm, &src, ns, Mode::Module, "exec")
}

/// `eval(source, globals=None, locals=None)`.
pub fn eval(vm: &mut Vm, args: Args) -> PyResult {
    let (src, g, l) = bind3("eval", args)?;
    if let Some(c) = src.downcast::<CodeSource>() {
        if c.mode != Mode::Eval {
            let ns = namespace(vm, g, l, "eval")?;
            return run(vm, &src, ns, c.mode, "eval");
        }
    }
    let ns = namespace(vm, g, l, "eval")?;
    run(vm, &src, ns, Mode::Eval, "eval")
}
