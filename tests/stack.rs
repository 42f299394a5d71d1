//! The compiler's stack discipline, checked on every program at hand: the
//! `.aio` cases under `tests/` and `examples/`, the library's own `.aio`
//! modules, and the shared conformance cases when that folder exists. Each
//! code object's instructions must pop only what is there and reach every
//! instruction at one depth (`bytecode::check_stack`), which the dispatch
//! loop's unchecked stack accesses rely on. Debug builds check each code
//! object as it is compiled; this runs the same check on release builds.

mod common;

use std::path::Path;

use aio_interp::bytecode::check_stack_tree;
use aio_interp::compiler::Mode;
use aio_interp::import::{compile_source, new_module};

#[test]
fn every_program_keeps_the_stack_balanced() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests", "examples", "stdlib/src/lib", "bench", "../shared/conformance", "../shared/bench"] {
        common::aio_files(&root.join(dir), &mut files);
    }
    files.sort();
    // The compiler recurses on nesting: give it the binary's stack.
    let (checked, failures) = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            let mut checked = 0;
            let mut failures = Vec::new();
            for f in &files {
                let Ok(text) = std::fs::read_to_string(f) else { continue };
                let module = new_module("__main__", Some("<check>"));
                // Programs that are meant not to compile are skipped here.
                let Ok(code) = compile_source(&f.display().to_string(), &text, &module, Mode::Module) else { continue };
                checked += 1;
                if let Err(e) = check_stack_tree(&code) {
                    failures.push(format!("{}: {e}", f.display()));
                }
            }
            (checked, failures)
        })
        .expect("thread")
        .join()
        .expect("the check crashed");
    assert!(checked > 500, "only {checked} programs found");
    assert!(failures.is_empty(), "{} programs unbalance the stack:\n{}", failures.len(), failures.join("\n"));
}
