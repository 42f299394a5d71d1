//! Standard output and error as the VM writes them: buffered stdout,
//! flushed before stderr, captured for tests, teed for `--replay`, and
//! routed to whatever a program binds to `sys.stdout`.

use std::rc::Rc;

use crate::object::*;
use crate::value::Value;

use super::*;

/// Buffered standard output that is flushed before anything goes to stderr.
pub struct Output {
    buf: Vec<u8>,
    /// Captured output (tests) instead of the real stdout.
    pub capture: Option<Vec<u8>>,
    /// Flush at every newline (the REPL, a terminal).
    pub line_buffered: bool,
    /// A copy of everything the program printed, kept for an observer
    /// (`--replay` shows the output printed so far at each event).
    pub tee: Option<String>,
}

impl Default for Output {
    /// Block-buffered standard output.
    fn default() -> Output {
        Output { buf: Vec::with_capacity(1 << 16), capture: None, line_buffered: false, tee: None }
    }
}

impl Output {
    pub fn write(&mut self, s: &str) {
        if let Some(c) = &mut self.capture {
            c.extend_from_slice(s.as_bytes());
            return;
        }
        self.buf.extend_from_slice(s.as_bytes());
        if self.buf.len() > 1 << 16 || (self.line_buffered && s.contains('\n')) {
            self.flush();
        }
    }
    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&self.buf);
            let _ = out.flush();
            self.buf.clear();
        }
    }
}

/// The global slot of `sys.stdout` and the stream it started as.
pub struct SysStdout {
    pub module: Rc<Module>,
    pub slot: u32,
    pub original: Value,
}

impl Vm {
    /// Write to `sys.stdout`: the process's standard output, or the object
    /// a program bound to `sys.stdout` instead (through its `write`).
    pub fn write_out(&mut self, s: &str) -> PyResult<()> {
        if let Some(target) = self.stdout_rebound() {
            self.call_method(&target, "write", vec![Value::str(s)])?;
            return Ok(());
        }
        self.write_out_raw(s);
        Ok(())
    }

    /// What `sys.stdout` is bound to, when that is not the standard output.
    pub fn stdout_rebound(&self) -> Option<Value> {
        let sys = self.sys_stdout.as_ref()?;
        let globals = sys.module.globals.borrow();
        let v = globals.get(sys.slot as usize)?;
        if v.is(&sys.original) {
            None
        } else {
            Some(v.clone())
        }
    }

    /// Write to the process's standard output (through the REPL's printer when one is set).
    pub fn write_out_raw(&mut self, s: &str) {
        // Callbacks of objects that died since the last check print first.
        if crate::weakref::watching() {
            crate::weakref::poll(self);
        }
        if let Some(t) = &mut self.out.tee {
            t.push_str(s);
        }
        if let Some(h) = &mut self.print_hook {
            h(s);
        } else {
            self.out.write(s);
        }
    }

    /// Write to standard error, after flushing standard output.
    pub fn write_err(&mut self, s: &str) {
        self.out.flush();
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(s.as_bytes());
        let _ = e.flush();
    }
}
