//! The aio interpreter: compiler, bytecode VM, values, and event loop.
//!
//! Source text is parsed by `aio-grammar`; [`compiler`] turns the AST into
//! [`bytecode::Code`]; [`vm::Vm`] runs it with frames on the heap.

pub mod attr;
pub mod bytecode;
pub mod call;
pub mod charindex;
pub mod codecs;
pub mod compiler;
pub mod context;
pub mod diagnostic;
pub mod dict;
pub mod event_loop;
pub mod exceptions;
pub mod gc;
pub mod generator;
pub mod hash;
pub mod hints;
pub mod host;
pub mod import;
pub mod intern;
pub mod iter;
pub mod limits;
pub mod matching;
pub mod numfmt;
pub mod object;
pub mod ops;
pub mod runtime;
pub mod scope;
pub mod set;
pub mod shape;
pub mod suggest;
pub mod sync;
pub mod task;
pub mod trace;
pub mod types;
pub mod unparse;
pub mod value;
pub mod vm;
pub mod weakref;

pub use object::{Args, PyErr, PyResult};
pub use value::{Flag, Value, F64};
pub use vm::Vm;
