//! Compiler, VM and event loop.
