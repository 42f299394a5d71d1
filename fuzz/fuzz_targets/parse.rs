//! The parser (lexer, layout, grammar) on any text: it must answer with a
//! syntax tree or a `SyntaxError`, never panic or overflow its stack.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = aio_grammar::parse_module(text);
    }
});
