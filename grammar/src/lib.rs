//! The aio front end: source text to AST.
pub mod ast;
