//! Standard output and error as the VM writes them: buffered stdout,
//! flushed before stderr, captured for tests, teed for `--replay`, and
//! routed to whatever a program binds to `sys.stdout`.

use crate::object::*;
use crate::value::Value;

use super::*;

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
        let sys = self.host.sys_stdout()?;
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
        self.host.print(s);
    }

    /// Write to standard error, after flushing standard output.
    pub fn write_err(&mut self, s: &str) {
        self.host.flush();
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(s.as_bytes());
        let _ = e.flush();
    }
}
