//! The compiler on whatever parses: bytecode or a compile error (a bad
//! `nonlocal`, `await` outside `async def`, ...), never a panic; and the
//! disassembly of what it made.

#![no_main]

use aio_interp::compiler::Mode;
use aio_interp::import::{compile_source, new_module};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let module = new_module("__main__", Some("<fuzz>"));
    if let Ok(code) = compile_source("<fuzz>", text, &module, Mode::Module) {
        let _ = code.disassemble(Some(&module));
    }
});
