//! Builtins and standard modules.
