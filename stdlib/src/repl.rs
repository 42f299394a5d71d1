//! The interactive session.

use aio_interp::Vm;

/// Run the REPL; returns the exit status.
pub fn run(vm: &mut Vm, _virtual_time: bool) -> u8 {
    use std::io::Read;
    let mut text = String::new();
    let _ = std::io::stdin().read_to_string(&mut text);
    let module = aio_interp::import::new_module("__main__", Some("<stdin>"));
    match aio_interp::import::compile_source("<stdin>", &text, &module, aio_interp::compiler::Mode::Module) {
        Ok(code) => match crate::run_main(vm, code, module) {
            Ok(()) => 0,
            Err(e) => {
                let t = aio_interp::diagnostic::format_exception(vm, &e);
                vm.write_err(&t);
                1
            }
        },
        Err((d, src)) => {
            vm.write_err(&d.render(&src));
            1
        }
    }
}
