//! Modules: compiling source into a module, and `import` of the standard
//! modules (native or embedded .aio) and of `.aio` files beside the script.

use std::rc::Rc;

use crate::bytecode::{Code, Source};
use crate::compiler::{compile_module, Mode};
use crate::diagnostic::Diagnostic;
use crate::exceptions::*;
use crate::object::*;
use crate::types::types;
use crate::value::Value;
use crate::vm::Vm;

/// Parse and compile source text for `module`.
pub fn compile_source(name: &str, text: &str, module: &Rc<Module>, mode: Mode) -> Result<Rc<Code>, (Diagnostic, Rc<Source>)> {
    let source = Rc::new(Source::new(name, text));
    let ast = aio_grammar::parse_module(text).map_err(|e| (Diagnostic::from_syntax(&e), source.clone()))?;
    compile_module(&ast, source.clone(), module, mode).map_err(|e| (Diagnostic::from_compile(&e), source))
}

/// A SyntaxError exception for a diagnostic (for errors in imported modules).
pub fn syntax_exception(d: &Diagnostic, source: &Source) -> PyErr {
    let t = types();
    let cls = match d.kind.as_str() {
        "IndentationError" => &t.exc.indentation_error,
        "TabError" => &t.exc.tab_error,
        _ => &t.exc.syntax_error,
    };
    let line = source.line_of(d.span.start);
    let e = err(cls, format!("{} ({}, line {})", d.message, source.name, line));
    e.0.dict_set_str("filename", Value::str(&source.name));
    e.0.dict_set_str("lineno", Value::Int(line as i64));
    e.0.dict_set_str("msg", Value::str(&d.message));
    e.0.dict_set_str("_aio_report", Value::string(d.render(source)));
    e
}

/// A fresh module object with its standard globals.
pub fn new_module(name: &str, file: Option<&str>) -> Rc<Module> {
    let m = Rc::new(Module::new(name));
    m.set("__name__", Value::str(name));
    m.set("__doc__", Value::None);
    if let Some(f) = file {
        m.set("__file__", Value::str(f));
        *m.file.borrow_mut() = Some(f.to_string());
    }
    m
}

impl Vm {
    /// `import name`.
    pub fn import_module(&mut self, name: &str) -> PyResult<Value> {
        if let Some(m) = self.host.module(name) {
            return Ok(m.clone());
        }
        // `a.b`: the package `a` first; the submodule becomes its attribute `b`.
        if let Some((parent, child)) = name.rsplit_once('.') {
            let p = self.import_module(parent)?;
            let m = self.import_leaf(name)?;
            if let Value::Module(pm) = &p {
                pm.set(child, m.clone());
            }
            return Ok(m);
        }
        self.import_leaf(name)
    }

    /// Load module `name` (its full dotted name) from the library or beside the script.
    fn import_leaf(&mut self, name: &str) -> PyResult<Value> {
        if let Some(m) = self.host.module(name) {
            return Ok(m.clone());
        }
        // A module a program (or the library) put in `sys.modules` itself.
        if let Some(m) = self.host.sys_modules().and_then(|d| d.get_str(name)) {
            self.host.cache_module(name, m.clone());
            return Ok(m);
        }
        if let Some(ctor) = self.host.native_module(name) {
            let m = ctor(self)?;
            self.host.add_module(name, m.clone());
            return Ok(m);
        }
        if let Some(src) = self.host.source_module(name) {
            let m = self.load_source_module(name, &format!("<{name}>"), src)?;
            if let Some(hook) = self.host.module_hook() {
                hook(self, name)?;
            }
            return Ok(m);
        }
        if let Some(dir) = self.host.search_dir().filter(|_| !name.contains('.')).map(|d| d.to_path_buf()) {
            // A sibling module in aio's own extension, else in Python's.
            let path = [format!("{name}.aio"), format!("{name}.py")].into_iter().map(|f| dir.join(f)).find(|p| p.is_file());
            if let Some(path) = path {
                let text = std::fs::read_to_string(&path).map_err(|e| import_error(format!("cannot read {}: {e}", path.display())))?;
                let shown = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| name.to_string());
                return self.load_source_module(name, &shown, &text);
            }
        }
        Err(err(&types().exc.module_not_found_error, format!("No module named '{name}'")))
    }

    fn load_source_module(&mut self, name: &str, file: &str, text: &str) -> PyResult<Value> {
        let module = new_module(name, Some(file));
        let code = match compile_source(file, text, &module, Mode::Module) {
            Ok(c) => c,
            Err((d, src)) => return Err(syntax_exception(&d, &src)),
        };
        let mv = Value::Module(module.clone());
        self.host.add_module(name, mv.clone());
        if let Err(e) = self.run_code(code, module) {
            self.host.remove_module(name);
            return Err(e);
        }
        Ok(mv)
    }

    /// Evaluate an expression's source text with the names of `locals`,
    /// then of `globals`, then the builtins (`eval(text, globals, locals)`).
    pub fn eval_source(&mut self, text: &str, globals: Rc<Module>, locals: Option<Rc<PyDict>>) -> PyResult<Value> {
        self.run_source(text.trim(), Mode::Eval, globals, locals)
    }

    /// Run statements whose top-level names live in `locals` (`exec(text,
    /// globals, locals)`): a `def` there binds the function in `locals`.
    pub fn exec_source(&mut self, text: &str, globals: Rc<Module>, locals: Rc<PyDict>) -> PyResult<()> {
        self.run_source(text, Mode::Exec, globals, Some(locals)).map(|_| ())
    }

    fn run_source(&mut self, text: &str, mode: Mode, globals: Rc<Module>, locals: Option<Rc<PyDict>>) -> PyResult<Value> {
        let code = match compile_source("<string>", text, &globals, mode) {
            Ok(c) => c,
            Err((d, src)) => return Err(syntax_exception(&d, &src)),
        };
        let entry = self.frames.len();
        let base = self.stack.len() + 1;
        self.stack.push(Value::None);
        self.stack.resize(base + code.nlocals as usize, Value::Undef);
        self.push_frame(code, base, globals, crate::vm::FrameKind::Call)?;
        self.frames.last_mut().expect("the frame just pushed").locals = locals;
        match self.run(entry)? {
            crate::vm::Halt::Return(v) => Ok(v),
            _ => Err(runtime_error("an expression cannot suspend")),
        }
    }

    /// Register a native module built from a list of names and values.
    pub fn make_native_module(&mut self, name: &str, entries: Vec<(&str, Value)>) -> Value {
        let m = new_module(name, None);
        for (k, v) in entries {
            m.set(k, v);
        }
        Value::Module(m)
    }
}
