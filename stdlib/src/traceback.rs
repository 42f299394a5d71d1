//! `_traceback`: the frames of an exception's traceback and of the running
//! stack, as plain tuples for the `traceback` module (written in .aio) to
//! format: file, line, function, source line and the caret line.

use std::rc::Rc;

use aio_interp::bytecode::Code;
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::native_fn;
use aio_interp::{Value, Vm};

/// The carets under the failing expression of `ip`, when it is narrower
/// than its line (as aio's own reports draw them).
fn carets(code: &Code, ip: usize, line: usize) -> Option<String> {
    let text = code.source.line_text(line);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return None;
    }
    let span = code.spans.get(ip).copied().unwrap_or_default();
    let src = &code.source.text;
    let line_start = src[..(span.start as usize).min(src.len())].rfind('\n').map(|p| p + 1).unwrap_or(0);
    let indent = text.len() - trimmed.len();
    let col = (span.start as usize).saturating_sub(line_start);
    let end_col = (span.end as usize).saturating_sub(line_start);
    if code.source.line_of(span.end.saturating_sub(1).max(span.start)) == line
        && col >= indent
        && end_col > col
        && (end_col - col) < trimmed.trim_end().len()
    {
        let pre: usize = text[indent..col.min(text.len())].chars().count();
        let width: usize = text.get(col..end_col.min(text.len())).map(|s| s.chars().count()).unwrap_or(1).max(1);
        return Some(format!("{}{}", " ".repeat(pre), "^".repeat(width)));
    }
    None
}

/// `(filename, lineno, name, line, carets)` for one frame (carets only
/// for the frames of a traceback, as CPython draws them).
fn frame_tuple(code: &Rc<Code>, ip: usize, with_carets: bool) -> Value {
    let line = code.line_at(ip);
    let text = code.source.line_text(line).trim().to_string();
    let c = carets(code, ip, line).filter(|_| with_carets).map(Value::string).unwrap_or(Value::None);
    Value::tuple(vec![Value::str(&code.source.name), Value::Int(line as i64), Value::str(code.name.as_str()), Value::string(text), c])
}

/// `_traceback.extract_tb(exc_or_tb)`: the frames an exception passed
/// (given it or its `__traceback__`), outermost first.
fn extract_tb(_vm: &mut Vm, args: Args) -> PyResult {
    let entries: Vec<TbEntry> = match args.pos.first() {
        Some(Value::Instance(i)) => match i.exc() {
            Some(data) => data.traceback.borrow().clone(),
            None => vec![],
        },
        Some(v) => match v.downcast::<Traceback>() {
            Some(tb) => tb.entries.clone(),
            None => vec![],
        },
        None => vec![],
    };
    Ok(Value::list(entries.iter().rev().map(|e| frame_tuple(&e.code, e.ip as usize, true)).collect()))
}

/// `_traceback.extract_stack()`: the running frames, outermost first.
fn extract_stack(vm: &mut Vm, _args: Args) -> PyResult {
    let frames = vm.frames.iter().map(|f| frame_tuple(&f.code, f.ip.saturating_sub(1), false)).collect();
    Ok(Value::list(frames))
}

/// `_traceback.exc_line(exc)`: the `Type: message` line Python prints last.
fn exc_line_fn(vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Instance(i)) if i.exc().is_some() => Ok(Value::string(exc_line(vm, &PyErr(i.clone())))),
        _ => Err(type_error("exc_line() expects an exception")),
    }
}

/// Build the `_traceback` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_traceback",
        vec![
            ("extract_tb", native_fn("extract_tb", extract_tb)),
            ("extract_stack", native_fn("extract_stack", extract_stack)),
            ("exc_line", native_fn("exc_line", exc_line_fn)),
        ],
    ))
}
