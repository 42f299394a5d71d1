//! `help(x)`: the documentation of a function, class, module or builtin in
//! the plain-text layout of CPython's pydoc: a title, the signature, the
//! docstring (indentation cleaned), and for classes and modules their members.

use std::rc::Rc;

use aio_interp::attr::{ClassMethod, Property, StaticMethod};
use aio_interp::object::{Args, Class, Function, Module, NativeFn, PyResult};
use aio_interp::types::{native_fn, type_of};
use aio_interp::{Value, Vm};

/// What `help()` with no argument prints: aio has no interactive help
/// prompt, so it says how to ask instead.
const INTRO: &str = "\
Welcome to aio's help.

help(x) shows the documentation of x: the signature and docstring of a
function, the methods of a class, the contents of a module. Give it what
you have at hand, such as help(print), help(gather) or help(str), or a
name as a string: help('asyncio'), help('asyncio.sleep').

A docstring is the string a def, class or module starts with: help shows
it, and __doc__ holds it.
";

/// The native module `_pydoc`, used by `help` (see `lib/_sitebuiltins.aio`).
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module("_pydoc", vec![("help", native_fn("help", help)), ("render_doc", native_fn("render_doc", render_doc))]))
}

/// `_pydoc.help([request])`: print the documentation of `request`.
fn help(vm: &mut Vm, args: Args) -> PyResult {
    let text = match args.pos.first() {
        None => INTRO.to_string(),
        Some(Value::Str(name)) => match locate(vm, name.as_str())? {
            Some(obj) => render(vm, &obj)? + "\n",
            None => format!("No documentation found for {}.\nUse help(str) for help on the str class.\n\n", vm.repr_str(&args.pos[0])?),
        },
        Some(obj) => render(vm, obj)? + "\n",
    };
    vm.write_out(&text)?;
    Ok(Value::None)
}

/// `_pydoc.render_doc(obj)`: the text `help(obj)` prints.
fn render_doc(vm: &mut Vm, args: Args) -> PyResult {
    let obj = args.pos.first().cloned().unwrap_or(Value::None);
    Ok(Value::str(&render(vm, &obj)?))
}

/// Find what a dotted name stands for: a module (the longest importable
/// prefix) and attributes of it, or a builtin and attributes of it.
fn locate(vm: &mut Vm, path: &str) -> PyResult<Option<Value>> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Ok(None);
    }
    let mut found = None;
    for n in (1..=parts.len()).rev() {
        if let Ok(m) = vm.import_module(&parts[..n].join(".")) {
            found = Some((m, n));
            break;
        }
    }
    let (mut obj, used) = match found {
        Some(f) => f,
        None => match vm.builtin(&aio_interp::intern::intern(parts[0])) {
            Ok(v) => (v, 1),
            Err(_) => return Ok(None),
        },
    };
    for p in &parts[used..] {
        match vm.getattr_opt(&obj, p)? {
            Some(v) => obj = v,
            None => return Ok(None),
        }
    }
    Ok(Some(obj))
}

/// The whole of `help(obj)`'s text but its last newline: the title, then
/// the documentation (pydoc's `render_doc`).
pub fn render(vm: &mut Vm, obj: &Value) -> PyResult<String> {
    let mut desc = describe(vm, obj)?;
    let documented = matches!(obj, Value::Module(_) | Value::Class(_)) || is_routine(obj) || obj.downcast::<Property>().is_some();
    let target = if documented { obj.clone() } else { Value::Class(type_of(obj)) };
    let module = module_name(vm, &target)?;
    if let (Some(m), false) = (&module, matches!(obj, Value::Module(_))) {
        // Instances of builtin types name no module, as in CPython.
        if documented || m != "builtins" {
            desc.push_str(&format!(" in module {m}"));
        }
    }
    if !documented {
        desc.push_str(" object");
    }
    Ok(format!("Help on {desc}:\n\n{}", document(vm, &target, None, None)?))
}

/// What kind of thing `obj` is, for the title.
fn describe(vm: &mut Vm, obj: &Value) -> PyResult<String> {
    Ok(match obj {
        Value::Module(m) => format!("module {}", m.name.as_str()),
        Value::Class(c) => format!("class {}", c.name().as_str()),
        Value::Function(f) => format!("function {}", f.name.borrow().as_str()),
        Value::Native(f) => format!("built-in function {}", f.name.as_str()),
        Value::BoundMethod(b) => match &b.func {
            Value::Native(f) => format!("built-in method {}", f.name.as_str()),
            func => format!("method {}", name_of(vm, func)?),
        },
        _ if obj.downcast::<Property>().is_some() => "property".to_string(),
        _ => type_of(obj).name().as_str().to_string(),
    })
}

fn is_routine(v: &Value) -> bool {
    matches!(v, Value::Function(_) | Value::Native(_) | Value::BoundMethod(_))
}

/// The `__module__` of a class or function, if it has one.
fn module_name(vm: &mut Vm, obj: &Value) -> PyResult<Option<String>> {
    let owner = match obj {
        Value::BoundMethod(b) => b.func.clone(),
        Value::Module(_) => return Ok(None),
        o => o.clone(),
    };
    Ok(match vm.getattr_opt(&owner, "__module__")? {
        Some(Value::Str(s)) => Some(s.as_str().to_string()),
        _ => None,
    })
}

fn name_of(vm: &mut Vm, obj: &Value) -> PyResult<String> {
    Ok(match vm.getattr_opt(obj, "__name__")? {
        Some(Value::Str(s)) => s.as_str().to_string(),
        _ => String::new(),
    })
}

/// The documentation of `obj` (pydoc's `TextDoc.document`): `name` is the
/// name it is known by where it is listed, `cl` the class listing it.
fn document(vm: &mut Vm, obj: &Value, name: Option<&str>, cl: Option<&Rc<Class>>) -> PyResult<String> {
    match obj {
        Value::Module(m) => doc_module(vm, m),
        Value::Class(c) => doc_class(vm, c, name),
        _ if is_routine(obj) => doc_routine(vm, obj, name, cl),
        _ => match obj.downcast::<Property>() {
            Some(p) => {
                let doc = p.doc.clone();
                Ok(doc_data(name.unwrap_or(""), &cleaned(&doc)))
            }
            None => doc_other(vm, obj, name.unwrap_or(""), None),
        },
    }
}

/// `inspect.cleandoc`: tabs expanded, the indentation common to the lines
/// after the first removed, blank lines at both ends dropped.
pub fn cleandoc(doc: &str) -> String {
    let expanded = doc.replace('\t', "        ");
    let lines: Vec<&str> = expanded.split('\n').collect();
    let margin = lines[1..].iter().filter(|l| !l.trim_start().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    out.push(lines[0].trim_start());
    out.extend(lines[1..].iter().map(|l| if l.len() >= margin { &l[margin..] } else { l.trim_start() }));
    while out.first().is_some_and(|l| l.is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// A docstring value, cleaned; empty when there is none.
fn cleaned(doc: &Value) -> String {
    match doc {
        Value::Str(s) => cleandoc(s.as_str()),
        _ => String::new(),
    }
}

/// Every line of `text` prefixed (pydoc's `indent`).
fn indent(text: &str, prefix: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(|l| format!("{prefix}{l}")).collect();
    if let Some(last) = lines.last_mut() {
        *last = last.trim_end().to_string();
    }
    lines.join("\n")
}

/// A section of a module's page: its title and its contents indented.
fn section(title: &str, contents: &str) -> String {
    format!("{title}\n{}\n\n", indent(contents, "    ").trim_end())
}

/// A class's name as seen from module `modname` (qualified when elsewhere).
fn classname(vm: &mut Vm, c: &Rc<Class>, modname: Option<&str>) -> PyResult<String> {
    let name = c.name().as_str().to_string();
    Ok(match module_name(vm, &Value::Class(c.clone()))? {
        Some(m) if Some(m.as_str()) != modname => format!("{m}.{name}"),
        _ => name,
    })
}

// ------------------------------------------------------------ routines

/// A function or method: `[async ]name(signature)[ note]` and its docstring.
fn doc_routine(vm: &mut Vm, obj: &Value, name: Option<&str>, cl: Option<&Rc<Class>>) -> PyResult<String> {
    let realname = name_of(vm, obj)?;
    let name = name.unwrap_or(&realname).to_string();
    let mut note = String::new();
    let (func, bound) = match obj {
        Value::BoundMethod(b) => {
            let imclass = type_of(&b.self_);
            match cl {
                Some(c) if !Rc::ptr_eq(&imclass, c) => {
                    let modname = module_of_class(vm, c)?;
                    note = format!(" from {}", classname(vm, &imclass, modname.as_deref())?);
                }
                Some(_) => {}
                None => note = format!(" method of {} instance", classname(vm, &imclass, None)?),
            }
            (b.func.clone(), true)
        }
        other => (other.clone(), false),
    };
    let asynchronous = match &func {
        Value::Function(f) => f.code.flags.coroutine || f.code.flags.async_generator,
        _ => false,
    };
    let title = if name == realname { realname.clone() } else { format!("{name} = {realname}") };
    let mut argspec = signature(vm, &func, bound)?;
    let mut title = title;
    if realname == "<lambda>" {
        title = format!("{name} lambda ");
        argspec = argspec.trim_start_matches('(').trim_end_matches(')').to_string();
    }
    let decl = format!("{}{title}{argspec}{note}", if asynchronous { "async " } else { "" });
    let mut doc = routine_doc(vm, &func)?;
    if doc.is_empty() {
        if let Some(c) = cl {
            doc = inherited_doc(vm, c, &name)?;
        }
    }
    Ok(if doc.is_empty() { format!("{decl}\n") } else { format!("{decl}\n{}\n", indent(&doc, "    ").trim_end()) })
}

/// A function's own docstring, cleaned, or a builtin's from the table.
fn routine_doc(vm: &mut Vm, func: &Value) -> PyResult<String> {
    if let Value::Native(f) = func {
        return Ok(native_doc(vm, f).map(|(_, d)| d.to_string()).unwrap_or_default());
    }
    let doc = vm.getattr_opt(func, "__doc__")?.unwrap_or(Value::None);
    Ok(cleaned(&doc))
}

/// A method without a docstring shows the one of the method it overrides,
/// as `inspect.getdoc` finds it.
fn inherited_doc(vm: &mut Vm, cl: &Rc<Class>, name: &str) -> PyResult<String> {
    for base in cl.mro_iter().into_iter().skip(1) {
        if base.builtin.is_some() {
            continue;
        }
        if let Some(v) = base.dict.get_str(name) {
            let f = aio_interp::attr::unwrap_classmethod(&aio_interp::attr::unwrap_staticmethod(&v));
            if is_routine(&f) {
                let doc = routine_doc(vm, &f)?;
                if !doc.is_empty() {
                    return Ok(doc);
                }
            }
        }
    }
    Ok(String::new())
}

/// `(a, b=1, *args, c, **kw)`, as `inspect.signature` writes it; `bound`
/// leaves out the first parameter (`self`). A function made by
/// `functools.wraps` shows the signature of the one it wraps.
fn signature(vm: &mut Vm, func: &Value, bound: bool) -> PyResult<String> {
    let mut func = func.clone();
    for _ in 0..100 {
        match vm.getattr_opt(&func, "__wrapped__")? {
            Some(inner) if is_routine(&inner) => func = inner,
            _ => break,
        }
    }
    match &func {
        Value::Function(f) => function_signature(vm, f, bound),
        Value::Native(f) => Ok(match native_doc(vm, f) {
            Some((sig, _)) if !bound => sig[sig.find('(').unwrap_or(0)..].to_string(),
            _ => "(...)".to_string(),
        }),
        Value::BoundMethod(b) => signature(vm, &b.func.clone(), true),
        _ => Ok("(...)".to_string()),
    }
}

fn function_signature(vm: &mut Vm, f: &Function, bound: bool) -> PyResult<String> {
    let code = &f.code;
    let npos = code.argcount as usize;
    let posonly = code.posonlyargcount as usize;
    let nkw = code.kwonlyargcount as usize;
    let names: Vec<String> = code.varnames.iter().map(|n| n.as_str().to_string()).collect();
    let first_default = npos.saturating_sub(f.defaults.len());
    let mut parts: Vec<String> = Vec::new();
    for (i, name) in names.iter().enumerate().take(npos) {
        let mut p = name.clone();
        if i >= first_default {
            p = format!("{p}={}", vm.repr_str(&f.defaults[i - first_default])?);
        }
        parts.push(p);
        if i + 1 == posonly {
            parts.push("/".into());
        }
    }
    let mut next = npos + nkw;
    if code.flags.varargs {
        parts.push(format!("*{}", names[next]));
        next += 1;
    } else if nkw > 0 {
        parts.push("*".into());
    }
    for name in &names[npos..npos + nkw] {
        let default = f.kwdefaults.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v.clone());
        parts.push(match default {
            Some(d) => format!("{name}={}", vm.repr_str(&d)?),
            None => name.clone(),
        });
    }
    if code.flags.varkw {
        parts.push(format!("**{}", names[next]));
    }
    if bound && npos > 0 {
        parts.remove(0);
        if posonly == 1 {
            parts.remove(0);
        }
    }
    Ok(format!("({})", parts.join(", ")))
}

// ------------------------------------------------------------ classes

/// What a class attribute is, for the sections of a class's page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Method,
    ClassMethod,
    StaticMethod,
    ReadonlyProperty,
    DataDescriptor,
    Data,
}

/// The name under which a class's page is headed in its module.
fn module_of_class(vm: &mut Vm, c: &Rc<Class>) -> PyResult<Option<String>> {
    module_name(vm, &Value::Class(c.clone()))
}

/// Is this name shown in a listing? Private names are not, nor the
/// bookkeeping ones every module and class has.
fn visible(name: &str) -> bool {
    const HIDDEN: &[&str] = &[
        "__author__",
        "__builtins__",
        "__cached__",
        "__credits__",
        "__date__",
        "__doc__",
        "__file__",
        "__spec__",
        "__loader__",
        "__module__",
        "__name__",
        "__package__",
        "__path__",
        "__qualname__",
        "__slots__",
        "__version__",
    ];
    if HIDDEN.contains(&name) {
        return false;
    }
    (name.starts_with("__") && name.ends_with("__")) || !name.starts_with('_')
}

/// A class: `class Name(Bases)`, then, behind ` |  `, its constructor's
/// signature, its docstring, its MRO, and its attributes by kind, those it
/// defines first, then those it inherits from each class of its MRO.
fn doc_class(vm: &mut Vm, c: &Rc<Class>, name: Option<&str>) -> PyResult<String> {
    let realname = c.name().as_str().to_string();
    let name = name.unwrap_or(&realname).to_string();
    let modname = module_of_class(vm, c)?;
    let modname = modname.as_deref();
    let mut title = if name == realname { format!("class {realname}") } else { format!("{name} = class {realname}") };
    let bases = c.bases.borrow().clone();
    if !bases.is_empty() {
        let names = bases.iter().map(|b| classname(vm, b, modname)).collect::<PyResult<Vec<_>>>()?;
        title.push_str(&format!("({})", names.join(", ")));
    }
    let mut contents: Vec<String> = Vec::new();
    if let Some(sig) = class_signature(vm, c)? {
        if sig != "()" {
            contents.push(format!("{name}{sig}\n"));
        }
    }
    let doc = match c.dict.get_str("__doc__") {
        Some(d) => cleaned(&d),
        None => class_table_doc(c),
    };
    if !doc.is_empty() {
        contents.push(format!("{doc}\n"));
    }
    let mro = c.mro_iter();
    if mro.len() > 2 {
        contents.push("Method resolution order:".into());
        for base in &mro {
            contents.push(format!("    {}", classname(vm, base, modname)?));
        }
        contents.push(String::new());
    }
    let mut seen: Vec<String> = Vec::new();
    let mut rule = false;
    for (i, owner) in mro.iter().enumerate() {
        // object's own attributes are left out, as are builtin bases' (their
        // natives have neither signatures nor docstrings to show).
        if Rc::ptr_eq(owner, &aio_interp::types::types().object) || (i > 0 && owner.builtin.is_some()) {
            continue;
        }
        let tag = if i == 0 { "defined here".to_string() } else { format!("inherited from {}", classname(vm, owner, modname)?) };
        let mut attrs: Vec<(String, Value)> = owner
            .dict
            .items()
            .into_iter()
            .filter_map(|(k, v)| k.as_str().map(|s| (s.as_str().to_string(), v)))
            .filter(|(k, _)| visible(k) && !seen.contains(k))
            .collect();
        attrs.sort_by(|a, b| a.0.cmp(&b.0));
        seen.extend(attrs.iter().map(|(k, _)| k.clone()));
        let sections = [
            (Kind::Method, "Methods"),
            (Kind::ClassMethod, "Class methods"),
            (Kind::StaticMethod, "Static methods"),
            (Kind::ReadonlyProperty, "Readonly properties"),
            (Kind::DataDescriptor, "Data descriptors"),
            (Kind::Data, "Data and other attributes"),
        ];
        for (kind, title) in sections {
            let members: Vec<&(String, Value)> = attrs.iter().filter(|(_, v)| kind_of(v) == kind).collect();
            if members.is_empty() {
                continue;
            }
            if rule {
                contents.push("-".repeat(70));
            }
            rule = true;
            contents.push(format!("{title} {tag}:\n"));
            for (k, v) in members {
                let text = match kind {
                    Kind::Method => document(vm, v, Some(k), Some(c))?,
                    Kind::ClassMethod => {
                        let bound = vm.getattr_opt(&Value::Class(c.clone()), k)?.unwrap_or(v.clone());
                        document(vm, &bound, Some(k), Some(c))?
                    }
                    Kind::StaticMethod => document(vm, &aio_interp::attr::unwrap_staticmethod(v), Some(k), Some(c))?,
                    Kind::ReadonlyProperty | Kind::DataDescriptor => document(vm, v, Some(k), Some(c))?,
                    Kind::Data => doc_other(vm, v, k, Some(70))? + "\n",
                };
                contents.push(text);
            }
        }
    }
    let contents = contents.join("\n");
    if contents.is_empty() {
        return Ok(format!("{title}\n"));
    }
    Ok(format!("{title}\n{}\n", indent(contents.trim_end(), " |  ")))
}

fn kind_of(v: &Value) -> Kind {
    if v.downcast::<ClassMethod>().is_some() {
        Kind::ClassMethod
    } else if v.downcast::<StaticMethod>().is_some() {
        Kind::StaticMethod
    } else if let Some(p) = v.downcast::<Property>() {
        if p.fset.is_none() && p.fdel.is_none() {
            Kind::ReadonlyProperty
        } else {
            Kind::DataDescriptor
        }
    } else if is_routine(v) {
        Kind::Method
    } else {
        Kind::Data
    }
}

/// How a class is called: the signature of the first user-written
/// `__new__` or `__init__` along its MRO, without its first parameter.
fn class_signature(vm: &mut Vm, c: &Rc<Class>) -> PyResult<Option<String>> {
    for base in c.mro_iter() {
        for special in ["__new__", "__init__"] {
            if let Some(v) = base.dict.get_str(special) {
                let f = aio_interp::attr::unwrap_staticmethod(&v);
                if let Value::Function(_) = f {
                    return signature(vm, &f, true).map(Some);
                }
            }
        }
    }
    Ok(None)
}

// ------------------------------------------------------------ modules and data

/// A module's page: NAME, DESCRIPTION, CLASSES, FUNCTIONS, DATA, FILE.
fn doc_module(vm: &mut Vm, m: &Rc<Module>) -> PyResult<String> {
    let name = m.name.as_str().to_string();
    let doc = cleaned(&m.get("__doc__").unwrap_or(Value::None));
    let (synopsis, description) = match doc.split_once('\n') {
        Some((first, rest)) => (first.trim().to_string(), rest.trim_matches('\n').to_string()),
        None => (doc.trim().to_string(), String::new()),
    };
    let mut out = section("NAME", &if synopsis.is_empty() { name.clone() } else { format!("{name} - {synopsis}") });
    if !description.is_empty() {
        out.push_str(&section("DESCRIPTION", &description));
    }
    let all: Option<Vec<String>> = match m.get("__all__") {
        Some(v) => {
            let items = vm.collect(&v)?;
            Some(items.iter().filter_map(|i| i.as_str().map(|s| s.as_str().to_string())).collect())
        }
        None => None,
    };
    let shown = |k: &str| match &all {
        Some(names) => names.iter().any(|n| n == k),
        None => visible(k),
    };
    let mut members = m.entries();
    members.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let (mut classes, mut funcs, mut data) = (Vec::new(), Vec::new(), Vec::new());
    for (k, v) in members {
        let k = k.as_str().to_string();
        if !shown(&k) {
            continue;
        }
        let here = all.is_some() || module_name(vm, &v)?.as_deref() == Some(name.as_str());
        match &v {
            Value::Class(c) if here => classes.push((k, c.clone())),
            Value::Native(_) => funcs.push((k, v)),
            _ if is_routine(&v) && here => funcs.push((k, v)),
            Value::Module(_) | Value::Class(_) => {}
            _ if is_routine(&v) => {}
            _ => data.push((k, v)),
        }
    }
    if !classes.is_empty() {
        let listed: Vec<Rc<Class>> = classes.iter().map(|(_, c)| c.clone()).collect();
        let mut contents = vec![class_tree(vm, &listed, &name)?];
        for (k, c) in &classes {
            contents.push(doc_class(vm, c, Some(k))?);
        }
        out.push_str(&section("CLASSES", &contents.join("\n")));
    }
    if !funcs.is_empty() {
        let contents = funcs.iter().map(|(k, f)| document(vm, f, Some(k), None)).collect::<PyResult<Vec<_>>>()?;
        out.push_str(&section("FUNCTIONS", &contents.join("\n")));
    }
    if !data.is_empty() {
        let contents = data.iter().map(|(k, v)| doc_other(vm, v, k, Some(70))).collect::<PyResult<Vec<_>>>()?;
        out.push_str(&section("DATA", &contents.join("\n")));
    }
    let file = match m.file.borrow().clone() {
        Some(f) => std::path::absolute(&f).map_or(f, |p| p.display().to_string()),
        None => "(built-in)".into(),
    };
    out.push_str(&section("FILE", &file));
    Ok(out)
}

/// The inheritance tree of a module's classes (pydoc's `getclasstree` and
/// `formattree`): each class under its first base, bases from elsewhere as roots.
fn class_tree(vm: &mut Vm, classes: &[Rc<Class>], modname: &str) -> PyResult<String> {
    let listed = |c: &Rc<Class>| classes.iter().any(|x| Rc::ptr_eq(x, c));
    let mut children: Vec<(Rc<Class>, Vec<Rc<Class>>)> = Vec::new();
    let mut roots: Vec<Rc<Class>> = Vec::new();
    for c in classes {
        let bases = c.bases.borrow().clone();
        if bases.is_empty() {
            if !roots.iter().any(|r| Rc::ptr_eq(r, c)) {
                roots.push(c.clone());
            }
            continue;
        }
        for parent in bases {
            let at = match children.iter().position(|(p, _)| Rc::ptr_eq(p, &parent)) {
                Some(i) => i,
                None => {
                    children.push((parent.clone(), Vec::new()));
                    children.len() - 1
                }
            };
            if !children[at].1.iter().any(|x| Rc::ptr_eq(x, c)) {
                children[at].1.push(c.clone());
            }
            if listed(&parent) {
                break;
            }
        }
    }
    for (parent, _) in &children {
        if !listed(parent) && !roots.iter().any(|r| Rc::ptr_eq(r, parent)) {
            roots.push(parent.clone());
        }
    }
    let mut tree = Tree { children, modname, out: String::new() };
    tree.level(vm, roots, None, "", 0)?;
    Ok(tree.out)
}

/// The class tree being written: each class's subclasses among those listed.
struct Tree<'a> {
    children: Vec<(Rc<Class>, Vec<Rc<Class>>)>,
    modname: &'a str,
    out: String,
}

impl Tree<'_> {
    /// Write `level`, sorted by module and name, each class followed by its
    /// subclasses one step further in; a class's bases are named when they
    /// are not just the class it is listed under.
    fn level(&mut self, vm: &mut Vm, level: Vec<Rc<Class>>, parent: Option<&Rc<Class>>, prefix: &str, depth: usize) -> PyResult<()> {
        if depth > 50 {
            return Ok(());
        }
        let mut keyed = Vec::new();
        for c in level {
            let m = module_of_class(vm, &c)?.unwrap_or_default();
            keyed.push((m, c.name().as_str().to_string(), c));
        }
        keyed.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        for (_, _, c) in keyed {
            let mut line = format!("{prefix}{}", classname(vm, &c, Some(self.modname))?);
            let bases = c.bases.borrow().clone();
            let only_parent = bases.len() == 1 && parent.is_some_and(|p| Rc::ptr_eq(p, &bases[0]));
            if !bases.is_empty() && !only_parent {
                let names = bases.iter().map(|b| classname(vm, b, Some(self.modname))).collect::<PyResult<Vec<_>>>()?;
                line.push_str(&format!("({})", names.join(", ")));
            }
            self.out.push_str(&line);
            self.out.push('\n');
            let kids = self.children.iter().find(|(p, _)| Rc::ptr_eq(p, &c)).map(|(_, k)| k.clone());
            if let Some(kids) = kids {
                self.level(vm, kids, Some(&c), &format!("{prefix}    "), depth + 1)?;
            }
        }
        Ok(())
    }
}

/// A property: its name, and its docstring below it.
fn doc_data(name: &str, doc: &str) -> String {
    if doc.is_empty() {
        format!("{name}\n")
    } else {
        format!("{name}\n{}\n", indent(doc, "    ").trim_end())
    }
}

/// Any other value: `name = repr`, cut to `maxlen` characters.
fn doc_other(vm: &mut Vm, v: &Value, name: &str, maxlen: Option<usize>) -> PyResult<String> {
    let mut repr = vm.repr_str(v)?;
    let line = if name.is_empty() { repr.clone() } else { format!("{name} = {repr}") };
    if let Some(max) = maxlen {
        let over = line.chars().count().saturating_sub(max);
        if over > 0 {
            let keep = repr.chars().count().saturating_sub(over);
            repr = repr.chars().take(keep).collect::<String>() + "...";
        }
    }
    Ok(if name.is_empty() { repr } else { format!("{name} = {repr}") })
}

// ------------------------------------------------------------ builtins

/// The signature and docstring of a builtin, when `f` is the builtin (or
/// the `asyncio` function) of that name.
fn native_doc(vm: &mut Vm, f: &Rc<NativeFn>) -> Option<(&'static str, &'static str)> {
    if f.owner.is_some() {
        return None;
    }
    let name = f.name.as_str();
    let (_, sig, doc) = BUILTIN_DOCS.iter().find(|(n, _, _)| *n == name)?;
    let same = |v: Option<Value>| matches!(v, Some(Value::Native(g)) if Rc::ptr_eq(&g, f));
    let asyncio = vm.host.module("asyncio").cloned();
    let in_asyncio = match asyncio {
        Some(Value::Module(m)) => same(m.get(name)),
        _ => false,
    };
    (same(vm.builtins.get_str(name)) || in_asyncio).then_some((*sig, *doc))
}

/// A builtin class's docstring, from the table.
fn class_table_doc(c: &Rc<Class>) -> String {
    if c.builtin.is_none() {
        return String::new();
    }
    let name = c.name();
    CLASS_DOCS.iter().find(|(n, _)| *n == name.as_str()).map(|(_, d)| d.to_string()).unwrap_or_default()
}

/// Builtin functions: name, signature, docstring.
const BUILTIN_DOCS: &[(&str, &str, &str)] = &[
    ("abs", "abs(x, /)", "The absolute value of x."),
    ("aiter", "aiter(async_iterable, /)", "The asynchronous iterator of an async iterable: its __aiter__()."),
    ("all", "all(iterable, /)", "True if every item of the iterable is true (also when it is empty)."),
    ("anext", "anext(aiterator, /)", "An awaitable giving the next item of an asynchronous iterator."),
    ("any", "any(iterable, /)", "True if at least one item of the iterable is true (False when it is empty)."),
    ("ascii", "ascii(obj, /)", "Like repr(obj), with every non-ASCII character written as an escape."),
    ("bin", "bin(number, /)", "The binary text of an integer: bin(10) is '0b1010'."),
    ("breakpoint", "breakpoint(*args, **kws)", "Where a debugger would stop; aio has none, so it does nothing."),
    ("callable", "callable(obj, /)", "Whether obj can be called: a function, a class, an object with __call__."),
    ("chr", "chr(i, /)", "The one-character string of Unicode code point i."),
    ("delattr", "delattr(obj, name, /)", "Delete the attribute called name: delattr(x, 'y') is del x.y."),
    ("dir", "dir([object])", "The sorted names in the current scope, or the attributes of object."),
    ("divmod", "divmod(x, y, /)", "The pair (x // y, x % y)."),
    ("format", "format(value, format_spec='', /)", "value formatted by the spec, as in an f-string: format(3.14159, '.2f') is '3.14'."),
    ("getattr", "getattr(object, name[, default])", "The attribute called name: getattr(x, 'y') is x.y.\nWith a default, it is returned when the attribute does not exist."),
    ("globals", "globals()", "The dictionary of the current module's global names."),
    ("hasattr", "hasattr(obj, name, /)", "Whether obj has an attribute called name."),
    ("hash", "hash(obj, /)", "The hash of obj: equal objects have equal hashes."),
    ("hex", "hex(number, /)", "The hexadecimal text of an integer: hex(255) is '0xff'."),
    ("id", "id(obj, /)", "A number that identifies obj among the objects alive at the same time."),
    ("input", "input(prompt='', /)", "Read a line from standard input, without its newline, after writing prompt."),
    ("isinstance", "isinstance(obj, class_or_tuple, /)", "Whether obj is an instance of the class, of a subclass of it, or of one of a tuple of classes."),
    ("issubclass", "issubclass(cls, class_or_tuple, /)", "Whether cls is the class, a subclass of it, or of one of a tuple of classes."),
    ("iter", "iter(iterable) -> iterator\niter(callable, sentinel) -> iterator", "An iterator over the iterable; or one that calls callable until it returns sentinel."),
    ("len", "len(obj, /)", "The number of items in a container."),
    ("locals", "locals()", "A dictionary of the current scope's local names."),
    ("max", "max(iterable, *[, default=obj, key=func])\nmax(arg1, arg2, *args, *[, key=func])", "The largest item of an iterable, or the largest of the arguments.\nkey= gives what to compare; default= what to return for an empty iterable."),
    ("min", "min(iterable, *[, default=obj, key=func])\nmin(arg1, arg2, *args, *[, key=func])", "The smallest item of an iterable, or the smallest of the arguments.\nkey= gives what to compare; default= what to return for an empty iterable."),
    ("next", "next(iterator[, default])", "The next item of the iterator; at its end, default if given, else StopIteration."),
    ("oct", "oct(number, /)", "The octal text of an integer: oct(8) is '0o10'."),
    ("open", "open(file, mode='r', buffering=-1, encoding=None, errors=None, newline=None, closefd=True, opener=None)", "Open a file and return a file object: mode 'r' reads, 'w' writes, 'a' appends, 'b' for bytes."),
    ("ord", "ord(c, /)", "The Unicode code point of a one-character string."),
    ("pow", "pow(base, exp, mod=None)", "base ** exp, or (base ** exp) % mod computed without the big intermediate number."),
    ("print", "print(*args, sep=' ', end='\\n', file=None, flush=False)", "Write the values to a stream, sys.stdout unless file says otherwise.\n\nsep\n  what goes between the values, a space by default.\nend\n  what goes after the last value, a newline by default.\nfile\n  a file-like object (a stream) to write to.\nflush\n  whether to flush the stream at once."),
    ("repr", "repr(obj, /)", "The text that shows obj unambiguously; for many objects, eval(repr(obj)) == obj."),
    ("round", "round(number, ndigits=None)", "number rounded to ndigits decimal digits (an int when ndigits is None); halves round to even."),
    ("setattr", "setattr(obj, name, value, /)", "Set the attribute called name: setattr(x, 'y', v) is x.y = v."),
    ("sorted", "sorted(iterable, /, *, key=None, reverse=False)", "A new sorted list of the items of the iterable.\nkey= gives what to compare; reverse=True sorts from the largest down."),
    ("sum", "sum(iterable, /, start=0)", "start plus the sum of the items of the iterable (numbers, not strings)."),
    ("vars", "vars([object])", "The __dict__ of object; without one, the local names, like locals()."),
    // The asyncio core is native; the prelude makes these builtins.
    ("sleep", "sleep(delay, result=None)", "A coroutine that waits delay seconds, then returns result.\nsleep(0) lets the other ready tasks run once."),
    ("create_task", "create_task(coro, *, name=None, context=None)", "Schedule the coroutine to run as a task on the running loop; return the Task."),
    ("current_task", "current_task(loop=None)", "The task running now, or None outside a task."),
    ("all_tasks", "all_tasks(loop=None)", "The set of the loop's tasks that are not done yet."),
    ("get_running_loop", "get_running_loop()", "The event loop running now; RuntimeError when there is none."),
    ("ensure_future", "ensure_future(coro_or_future, *, loop=None)", "A future for the awaitable: a future as it is, a coroutine wrapped in a task."),
];

/// Builtin classes: docstring (their constructors' signatures head it).
const CLASS_DOCS: &[(&str, &str)] = &[
    ("object", "object()\n\nThe base of every class."),
    ("type", "type(object) -> the object's type\ntype(name, bases, dict, **kwds) -> a new type"),
    ("int", "int([x]) -> integer\nint(x, base=10) -> integer\n\nAn integer, of any size: a number or a string converted, 0 with no argument."),
    ("bool", "bool(x) -> bool\n\nTrue when x is true, False otherwise; True and False are its only instances."),
    ("float", "float(x=0, /)\n\nA floating-point number from a number or a string."),
    ("str", "str(object='') -> str\nstr(bytes_or_buffer[, encoding[, errors]]) -> str\n\nText: the str() of an object, or bytes decoded."),
    ("bytes", "bytes(iterable_of_ints) -> bytes\nbytes(string, encoding[, errors]) -> bytes\nbytes(int) -> bytes of that many zero bytes\n\nAn immutable sequence of bytes."),
    ("list", "list(iterable=(), /)\n\nA mutable sequence: empty, or the items of the iterable."),
    ("tuple", "tuple(iterable=(), /)\n\nAn immutable sequence: empty, or the items of the iterable."),
    ("dict", "dict() -> new empty dictionary\ndict(mapping) -> the mapping's pairs\ndict(iterable) -> from (key, value) pairs\ndict(**kwargs) -> from the keyword arguments\n\nA mapping from keys to values, in insertion order."),
    ("set", "set() -> new empty set\nset(iterable) -> the distinct items of the iterable\n\nAn unordered collection of distinct items."),
    ("frozenset", "frozenset() -> empty frozenset\nfrozenset(iterable) -> the distinct items of the iterable\n\nAn immutable set."),
    ("range", "range(stop) -> range object\nrange(start, stop[, step]) -> range object\n\nThe integers from start (0) up to, not including, stop, by step (1)."),
    ("slice", "slice(stop)\nslice(start, stop[, step])\n\nWhat a[start:stop:step] passes to __getitem__."),
    ("property", "property(fget=None, fset=None, fdel=None, doc=None)\n\nAn attribute computed by methods: @property above a getter."),
    ("staticmethod", "staticmethod(function) -> method\n\nA method that takes neither the instance nor the class."),
    ("classmethod", "classmethod(function) -> method\n\nA method that takes the class as its first argument."),
    ("super", "super() -> same as super(__class__, <first argument>)\nsuper(type, obj) -> bound super object\n\nThe next classes of the MRO, to call a method a subclass overrides."),
];

#[cfg(test)]
mod tests {
    use super::cleandoc;

    #[test]
    fn cleandoc_removes_the_common_margin() {
        assert_eq!(
            cleandoc("Add two numbers.\n\n    The margin goes.\n      This keeps two.\n    "),
            "Add two numbers.\n\nThe margin goes.\n  This keeps two."
        );
        assert_eq!(cleandoc("\n    Starts on the second line.\n    "), "Starts on the second line.");
        assert_eq!(cleandoc("one line"), "one line");
    }
}
