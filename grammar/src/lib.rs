//! The aio front end: source text to AST. logos finds the tokens, `layout`
//! adds NEWLINE/INDENT/DEDENT, and the lalrpop grammar builds the tree.

pub mod ast;
mod error;
mod fstring;
pub mod layout;
mod literal;
mod mangle;
mod parser;
pub mod token;

pub use error::{line_number, SyntaxError, SyntaxErrorKind};

/// Parses a whole source file (or one REPL input) into a module.
///
/// On failure the error says what is wrong in plain words, where, and
/// whether more input could complete it (`SyntaxError::incomplete`).
pub fn parse_module(source: &str) -> Result<ast::Module, SyntaxError> {
    let mut module = parser::parse_module(source)?;
    mangle::mangle_module(&mut module);
    Ok(module)
}
