//! What a report says, besides Python's `Type: message` line, to help the
//! reader fix the mistake: `Did you mean: 'print'?` for a mistyped name,
//! worked out only now, when the report is printed, from what the exception
//! kept; and a hint for the mistakes that CPython answers with a bare
//! message, above all those of async code (a coroutine used as its result,
//! `with` for `async with`, a function where a coroutine was expected).

use std::rc::Rc;

use crate::object::*;
use crate::suggest::closest;
use crate::types::{type_name, types};
use crate::value::Value;
use crate::vm::Vm;

/// The help a report gives beside an exception.
#[derive(Default)]
pub struct Hints {
    /// Short: shown beside the carets under the failing code.
    pub label: Option<String>,
    /// Sentences: shown just above the `Type: message` line.
    pub notes: Vec<String>,
}

/// The hints for `e`; `code` is the source text of the expression that
/// failed in the innermost frame of the program's own code.
pub fn for_exception(vm: &mut Vm, e: &PyErr, code: Option<&str>) -> Hints {
    let t = types();
    let msg = match e.first_arg() {
        Value::Str(s) => s.as_str().to_string(),
        _ => String::new(),
    };
    let mut h = Hints::default();
    if e.is(&t.exc.unbound_local_error) {
        h.notes.extend(unbound_local(e, &msg));
    } else if e.is(&t.exc.name_error) {
        h.label = name_suggestion(vm, e);
    } else if e.is(&t.exc.attribute_error) {
        h.label = attribute_suggestion(vm, e);
        if msg.starts_with("'NoneType' object") {
            h.notes.push(NONE_VALUE.into());
        }
    } else if e.is(&t.exc.module_not_found_error) {
        h.label = module_suggestion(vm, &msg);
    } else if e.is(&t.exc.import_error) {
        h.label = import_suggestion(vm, e);
    } else if e.is(&t.exc.recursion_error) {
        h.notes.extend(endless_recursion(e));
    } else if e.is(&t.exc.type_error) {
        type_error_hints(e, &msg, code, &mut h);
    } else if e.is(&t.exc.value_error) && msg.starts_with("a coroutine was expected, got ") {
        h.notes.push(coroutine_expected(&msg));
    } else if e.is(&t.exc.runtime_error) {
        if msg == "asyncio.run() cannot be called from a running event loop" {
            h.notes
                .push("this code already runs in the event loop: `await` the coroutine here instead of passing it to asyncio.run()".into());
        } else if msg.ends_with("changed size during iteration") {
            h.notes.push("loop over a copy instead, such as `for key in list(d):`, to add or remove items as you go".into());
        }
    } else if e.is(&t.exc.key_error) && subscripted(code) {
        h.notes.push("that key is not in the dict: test with `key in d` first, or use `d.get(key, default)`".into());
    } else if e.is(&t.exc.index_error) && msg.ends_with("index out of range") && subscripted(code) {
        h.notes.push("the indexes of n items go from 0 to n - 1 (and from -n to -1 from the end)".into());
    }
    // A coroutine object where its result was meant, whatever the operation.
    if h.notes.is_empty() && (e.is(&t.exc.type_error) || e.is(&t.exc.attribute_error)) && msg.contains("'coroutine'") {
        h.notes.push(FORGOT_AWAIT.into());
    }
    h
}

/// The name called by the failing expression, when it is a plain call: `handler` of `handler()`.
fn callee(code: Option<&str>) -> Option<&str> {
    let (f, _) = code?.trim().split_once('(')?;
    let plain = !f.is_empty() && f.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    plain.then_some(f)
}

/// Did the failing expression index something (`d[key]`), rather than raise the error itself?
fn subscripted(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.contains('[') && !c.trim_start().starts_with("raise"))
}

const FORGOT_AWAIT: &str =
    "this is a coroutine object, not the value it returns: did you forget `await`? (`await f()` runs f and gives its result)";

const NONE_VALUE: &str =
    "the value is None: did a function without a `return` (or a method like list.sort(), which changes the list in place) give it?";

// ---------------------------------------------------------------- did you mean

fn detail_of<T>(e: &PyErr, f: impl FnOnce(&ExcDetail) -> Option<T>) -> Option<T> {
    e.exc().detail.borrow().as_deref().and_then(f)
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

/// `name` is not defined: a name the frame could see (`self.name` first),
/// and whether a module of that name was meant to be imported.
fn name_suggestion(vm: &mut Vm, e: &PyErr) -> Option<String> {
    let (wrong, locals, namespace, globals, this) = detail_of(e, |d| {
        let scope = d.scope.as_ref()?;
        Some((as_string(&d.name)?, scope.locals.clone(), scope.namespace.clone(), scope.globals.clone(), scope.this.clone()))
    })?;
    if !this.is_none() && matches!(vm.getattr_opt(&this, &wrong), Ok(Some(_))) {
        return Some(format!("Did you mean: 'self.{wrong}'?"));
    }
    let mut names: Vec<String> = locals.iter().map(|n| n.as_str().to_string()).collect();
    if let Some(ns) = &namespace {
        names.extend(ns.keys().iter().filter_map(as_string));
    }
    names.extend(globals.entries().into_iter().map(|(n, _)| n.as_str().to_string()));
    names.extend(vm.builtins.keys().iter().filter_map(as_string));
    names.extend(vm.host.lazy_builtin_names().iter().map(|n| n.to_string()));
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let suggestion = closest(&wrong, &refs);
    let module = known_modules(vm).contains(&wrong.as_str());
    match (suggestion, module) {
        (Some(s), true) => Some(format!("Did you mean: '{s}'? Or did you forget to import '{wrong}'?")),
        (Some(s), false) => Some(format!("Did you mean: '{s}'?")),
        (None, true) => Some(format!("Did you forget to import '{wrong}'?")),
        (None, false) => None,
    }
}

/// `obj` has no attribute `name`: the closest of `dir(obj)`.
fn attribute_suggestion(vm: &mut Vm, e: &PyErr) -> Option<String> {
    let (wrong, obj) = detail_of(e, |d| Some((as_string(&d.name)?, d.obj.clone())))?;
    let names = dir(vm, &obj)?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    closest(&wrong, &refs).map(|s| format!("Did you mean: '{s}'?"))
}

/// `from module import name` found no `name`: the closest of the module's names.
fn import_suggestion(vm: &mut Vm, e: &PyErr) -> Option<String> {
    let (module, wrong) = detail_of(e, |d| Some((as_string(&d.name)?, as_string(&d.name_from)?)))?;
    let m = vm.host.module(&module)?.clone();
    let names = dir(vm, &m)?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    closest(&wrong, &refs).map(|s| format!("Did you mean: '{s}'?"))
}

/// `No module named 'asycnio'`: the closest module aio has.
fn module_suggestion(vm: &mut Vm, msg: &str) -> Option<String> {
    let wrong = msg.strip_prefix("No module named '")?.strip_suffix('\'')?;
    let modules = known_modules(vm);
    closest(wrong, &modules).map(|s| format!("Did you mean: '{s}'?"))
}

/// The standard modules a program can import, in a stable order.
fn known_modules(vm: &Vm) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = vm.host.library_module_names().filter(|n| !n.starts_with('_')).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// `dir(obj)`, sorted, through the library's `dir`.
fn dir(vm: &mut Vm, obj: &Value) -> Option<Vec<String>> {
    let f = vm.builtins.get_str("dir")?;
    match vm.call(f, Args::new([obj.clone()])) {
        Ok(Value::List(l)) => Some(l.to_vec().iter().filter_map(as_string).collect()),
        _ => None,
    }
}

// ---------------------------------------------------------------- the rest

/// `cannot access local variable 'count' ...`: assigning anywhere in a
/// function makes a name local in the whole of it.
fn unbound_local(e: &PyErr, msg: &str) -> Option<String> {
    let name = msg.strip_prefix("cannot access local variable '")?.split('\'').next()?.to_string();
    let global = detail_of(e, |d| d.scope.as_ref().map(|s| s.globals.get(&name).is_some())).unwrap_or(false);
    Some(if global {
        format!(
            "`{name}` is assigned in this function, so it is local to all of it and the global `{name}` is not seen; \
             to change the global, write `global {name}` at the start of the function"
        )
    } else {
        format!("`{name}` is assigned in this function, but only after this line: give it a value before using it")
    })
}

/// A function that called itself until the limit: name it.
fn endless_recursion(e: &PyErr) -> Option<String> {
    let tb = e.exc().traceback.borrow();
    let first = tb.first()?;
    let same = tb.iter().take_while(|t| Rc::ptr_eq(&t.code, &first.code)).count();
    if same < 50 {
        return None;
    }
    let name = first.code.name.as_str();
    Some(format!(
        "`{name}` called itself {same} times without stopping: a recursive function needs a base case that returns without calling itself"
    ))
}

/// `a coroutine was expected, got <function main at 0x...>`.
fn coroutine_expected(msg: &str) -> String {
    let got = msg.trim_start_matches("a coroutine was expected, got ");
    match got.strip_prefix("<function ").and_then(|r| r.split(' ').next()) {
        Some(name) => {
            let short = name.rsplit('.').next().unwrap_or(name);
            format!("`{short}` is the function itself: call it, `{short}()`, to get the coroutine to run")
        }
        None => "pass a coroutine object, which calling an `async def` function makes: `f()`, not `f`".into(),
    }
}

fn type_error_hints(e: &PyErr, msg: &str, code: Option<&str>, h: &mut Hints) {
    let obj = detail_of(e, |d| if d.obj.is_none() { None } else { Some(d.obj.clone()) });
    if let Some(obj) = obj {
        // `with` refused the object: perhaps it is the other kind of context manager.
        let has = |m: &'static str| crate::ops::lookup_special(&obj, m).is_some();
        if msg.ends_with("does not support the context manager protocol") && has("__aenter__") {
            h.notes.push(format!("a {} is an asynchronous context manager: use `async with`", type_name(&obj)));
            return;
        }
        if msg.ends_with("does not support the asynchronous context manager protocol") && has("__enter__") {
            h.notes.push(format!("a {} is a plain context manager: use `with`, without `async`", type_name(&obj)));
            return;
        }
    }
    if let Some(what) = msg.strip_prefix("object ").and_then(|m| m.strip_suffix(" can't be used in 'await' expression")) {
        if matches!(what, "function" | "method" | "builtin_function_or_method") {
            let called = code.and_then(|c| c.trim().strip_prefix("await ")).map(|f| format!("await {}()", f.trim()));
            h.label = Some(match &called {
                Some(c) => format!("did you mean `{c}`?"),
                None => "did you mean to call it?".into(),
            });
            h.notes.push("awaiting a function does not call it: call it, and await the coroutine the call returns".into());
        } else if what == "coroutine" {
            h.notes.push(FORGOT_AWAIT.into());
        } else {
            h.notes.push(format!(
                "only a coroutine, a Task or a Future can be awaited, and this is a plain {what}: \
                 use it without `await`, or make the function that gives it an `async def`"
            ));
        }
        return;
    }
    if msg.starts_with("a coroutine was expected, got ") {
        h.notes.push(coroutine_expected(msg));
        return;
    }
    if msg == "An asyncio.Future, a coroutine or an awaitable is required" {
        h.notes.push("pass coroutine objects, tasks or futures: call the `async def` function, `f()`, rather than passing `f`".into());
        return;
    }
    if msg == "'async_generator' object is not iterable" {
        h.notes.push("an async generator gives its items to `async for` (inside an `async def` function): use `async for`".into());
        return;
    }
    if msg.contains("not supported between instances of 'coroutine'") {
        h.notes.push(
            "the values compared are coroutine objects: was an `async def` function passed where a plain function \
             is expected (such as `key=`)?"
                .into(),
        );
        return;
    }
    if let Some(rest) = msg.strip_suffix(" positional arguments but 1 was given") {
        // `C.m() takes 0 positional arguments but 1 was given`: the method forgot `self`.
        if let Some(method) = rest.strip_suffix("() takes 0").filter(|m| m.contains('.') && !m.contains("<locals>")) {
            let short = method.rsplit('.').next().unwrap_or(method);
            h.notes.push(format!("a method receives its instance first: write `def {short}(self):`"));
            return;
        }
    }
    if msg == "'NoneType' object is not callable" {
        let what = callee(code).map_or("the thing called".to_string(), |c| format!("`{c}`"));
        h.notes.push(format!("{what} is None, not a function: a function without `return` gives None"));
    } else if msg.starts_with("can only concatenate str (not \"") {
        h.notes.push("turn the value into text first, with str(value), or write an f-string: f\"text {value}\"".into());
    } else if msg.starts_with("unsupported operand type(s) for +: 'int' and 'str'")
        || msg.starts_with("unsupported operand type(s) for +: 'float' and 'str'")
    {
        h.notes.push("to add numbers, convert the text with int(...) or float(...); to join text, convert the number with str(...)".into());
    } else if let Some(t) = msg.strip_prefix("unhashable type: ") {
        let instead = match t {
            "'list'" => "a tuple instead of a list",
            "'set'" => "a frozenset instead of a set",
            "'dict'" => "a tuple of its items instead of a dict",
            _ => "an immutable value instead",
        };
        h.notes.push(format!("dict keys and set members must be hashable (unchangeable): use {instead}"));
    } else if matches!(msg, "'int' object is not iterable" | "'float' object is not iterable") {
        h.notes.push("a number is not a sequence: to count up to n, loop over `range(n)`".into());
    } else if msg == "'NoneType' object is not iterable" {
        h.notes.push(NONE_VALUE.into());
    } else if msg == "'function' object is not subscriptable" {
        h.notes.push("to call a function, use parentheses: f(x), not f[x]".into());
    }
}
