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
    if code.source.line_of(span.end.saturating_sub(1).max(span.start)) != line || col < indent || end_col <= col {
        return None;
    }
    let segment = text.get(col..end_col.min(text.len()))?;
    let anchors = anchors(segment);
    if (end_col - col) >= trimmed.trim_end().len() && anchors.is_none() {
        return None;
    }
    let pre: usize = text[indent..col.min(text.len())].chars().count();
    let marks: String = segment
        .char_indices()
        .map(|(i, _)| match anchors {
            Some((l, r)) if i < l || i >= r => '~',
            _ => '^',
        })
        .collect();
    Some(format!("{}{}", " ".repeat(pre), marks))
}

/// Where the operator of a binary operation, or the brackets of a
/// subscript, lie in `segment` (byte offsets): CPython 3.11 marks them
/// with `^` and the operands with `~`.
fn anchors(segment: &str) -> Option<(usize, usize)> {
    use aio_grammar::ast::{ExprKind, StmtKind};
    let module = aio_grammar::parse_module(segment).ok()?;
    let [stmt] = module.body.as_slice() else { return None };
    let StmtKind::Expr(e) = &stmt.kind else { return None };
    let b = segment.as_bytes();
    match &e.kind {
        ExprKind::BinOp { left, right, .. } => {
            let (op_start, op_end) = (left.span.end as usize, right.span.start as usize);
            let op = segment.get(op_start..op_end)?;
            let offset = op.len() - op.trim_start().len();
            let mut l = op_start + offset;
            let mut r = l + 1;
            if offset + 1 < op.len() && !op.as_bytes()[offset + 1].is_ascii_whitespace() {
                r += 1;
            }
            while l < b.len() && (b[l].is_ascii_whitespace() || b[l] == b')' || b[l] == b'#') {
                l += 1;
                r += 1;
            }
            Some((l, r))
        }
        ExprKind::Subscript { value, index } => {
            let mut l = value.span.end as usize;
            let mut r = index.span.end as usize + 1;
            while l < b.len() && b[l] != b'[' {
                l += 1;
            }
            while r < b.len() && b[r] != b']' {
                r += 1;
            }
            if r < b.len() {
                r += 1;
            }
            Some((l, r))
        }
        _ => None,
    }
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
    let frames = aio_interp::generator::running_frames(vm).iter().map(|(code, ip, _)| frame_tuple(code, *ip, false)).collect();
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
