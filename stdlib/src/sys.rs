//! The `sys` module: `argv`, `exit`, `stdout`/`stderr` with `write`, and
//! a few constants.

use aio_interp::Flag;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, native_fn, new_class, types};
use aio_interp::{Value, Vm};

/// `sys.stdout` / `sys.stderr`.
pub struct StdStream {
    pub is_err: bool,
}

thread_local! {
    static STREAM_CLASS: Rc<Class> = {
        let c = new_class("TextIOWrapper", &[types().object.clone()], Layout::Builtin, None);
        method(&c, "TextIOWrapper", "write", stream_write);
        method(&c, "TextIOWrapper", "flush", stream_flush);
        method(&c, "TextIOWrapper", "isatty", |_vm, _a| Ok(Value::Bool(Flag::FALSE)));
        c
    };
}

impl NativeObject for StdStream {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        STREAM_CLASS.with(|c| c.clone())
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<_io.TextIOWrapper name='<{}>' mode='w' encoding='utf-8'>", if self.is_err { "stderr" } else { "stdout" }))
    }
}

fn stream_write(vm: &mut Vm, args: Args) -> PyResult {
    let s = args.pos.first().and_then(|v| v.downcast::<StdStream>()).ok_or_else(|| type_error("write() needs a stream"))?;
    let is_err = s.is_err;
    let text = match args.pos.get(1) {
        Some(Value::Str(t)) => t.clone(),
        Some(other) => return Err(type_error(format!("write() argument must be str, not {}", aio_interp::types::type_name(other)))),
        None => return Err(type_error("write() takes exactly one argument (0 given)")),
    };
    if is_err {
        vm.write_err(&text);
    } else {
        vm.write_out(&text);
    }
    Ok(Value::Int(text.char_len() as i64))
}

fn stream_flush(vm: &mut Vm, _args: Args) -> PyResult {
    vm.out.flush();
    Ok(Value::None)
}

fn sys_exit(_vm: &mut Vm, args: Args) -> PyResult {
    let code = args.pos.first().cloned();
    Err(PyErr(new_exception(&types().exc.system_exit, code.into_iter().collect())))
}

fn getrecursionlimit(vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::Int(vm.recursion_limit as i64))
}

fn setrecursionlimit(vm: &mut Vm, args: Args) -> PyResult {
    let n = vm.index_value(args.pos.first().unwrap_or(&Value::None))?;
    if n < 1 {
        return Err(value_error("recursion limit must be greater or equal than 1"));
    }
    vm.recursion_limit = (n as usize).min(20_000);
    Ok(Value::None)
}

/// Build the `sys` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let argv = vm.ext.get("argv").cloned().unwrap_or_else(|| Value::list(vec![]));
    let modules = Rc::new(PyDict::new());
    for (k, v) in vm.modules.iter() {
        modules.set_str(k, v.clone());
    }
    Ok(vm.make_native_module(
        "sys",
        vec![
            ("argv", argv),
            ("exit", native_fn("exit", sys_exit)),
            ("stdout", Value::object(StdStream { is_err: false })),
            ("stderr", Value::object(StdStream { is_err: true })),
            ("maxsize", Value::Int(i64::MAX)),
            ("version", Value::str("3.11.7 (aio)")),
            ("version_info", Value::tuple(vec![Value::Int(3), Value::Int(11), Value::Int(7), Value::str("final"), Value::Int(0)])),
            ("platform", Value::str("linux")),
            ("byteorder", Value::str("little")),
            ("getrecursionlimit", native_fn("getrecursionlimit", getrecursionlimit)),
            ("setrecursionlimit", native_fn("setrecursionlimit", setrecursionlimit)),
            ("modules", Value::Dict(modules)),
            ("path", Value::list(vec![])),
            ("implementation", Value::str("aio")),
        ],
    ))
}
