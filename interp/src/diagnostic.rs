//! What people see when something goes wrong: syntax errors rendered with
//! ariadne (file, line, column, the span labelled, plain words), uncaught
//! exceptions as a traceback of .aio frames with source lines, chained and
//! grouped exceptions as CPython lays them out, and runtime warnings.

use std::io::IsTerminal;
use std::rc::Rc;

use aio_grammar::ast::Span;

use crate::bytecode::Source;
use crate::exceptions::{exc_line, group_parts};
use crate::object::*;
use crate::value::Value;
use crate::vm::Vm;

/// One report: a syntax or runtime error with labelled places.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// `SyntaxError`, `IndentationError`, `TabError`.
    pub kind: String,
    pub message: String,
    pub span: Span,
    pub labels: Vec<(Span, String)>,
    pub notes: Vec<String>,
    /// More input could complete the program (the REPL reads on).
    pub incomplete: bool,
}

impl Diagnostic {
    pub fn from_syntax(e: &aio_grammar::SyntaxError) -> Diagnostic {
        let kind = match e.kind {
            aio_grammar::SyntaxErrorKind::Syntax => "SyntaxError",
            aio_grammar::SyntaxErrorKind::Indentation => "IndentationError",
            aio_grammar::SyntaxErrorKind::Tab => "TabError",
        };
        Diagnostic {
            kind: kind.into(),
            message: e.message.clone(),
            span: e.span,
            labels: e.labels.clone(),
            notes: e.notes.clone(),
            incomplete: e.incomplete,
        }
    }
    pub fn from_compile(e: &crate::compiler::CompileError) -> Diagnostic {
        let kind = if e.message == crate::compiler::TOO_DEEP { "RecursionError" } else { "SyntaxError" };
        Diagnostic {
            kind: kind.into(),
            message: e.message.clone(),
            span: e.span,
            labels: vec![],
            notes: e.notes.clone(),
            incomplete: false,
        }
    }

    /// Render with ariadne, ending with the `Type: message` line.
    pub fn render(&self, source: &Source) -> String {
        use ariadne::{Color, Config, IndexType, Label, Report, ReportKind};
        let line = source.line_of(self.span.start);
        if source.line_text(line).len() > 240 {
            return self.render_compact(source);
        }
        let color = std::io::stderr().is_terminal();
        let name = source.name.as_str();
        let len = source.text.len();
        let clamp = |s: Span| {
            let a = (s.start as usize).min(len);
            let b = (s.end as usize).clamp(a, len);
            a..b
        };
        // The message is said once, by the `Type: message` line that ends
        // the report as in Python: the label under the offending place
        // says what is there (or nothing), and ariadne's heading, which
        // would repeat the message, is left out.
        let mut report = Report::build(ReportKind::Error, (name, clamp(self.span)))
            .with_config(Config::default().with_color(color).with_index_type(IndexType::Byte));
        // A label inside the offending span already points into it.
        let inside = |s: &Span| *s != self.span && s.start >= self.span.start && s.end <= self.span.end;
        if !self.labels.iter().any(|(s, _)| inside(s)) {
            let here = self.labels.iter().find(|(s, _)| *s == self.span).map_or("here", |(_, m)| m.as_str());
            report = report.with_label(Label::new((name, clamp(self.span))).with_color(Color::Red).with_message(here));
        }
        for (s, m) in self.labels.iter().filter(|(s, _)| *s != self.span) {
            report = report.with_label(Label::new((name, clamp(*s))).with_message(m).with_color(Color::Blue));
        }
        for n in &self.notes {
            report = report.with_note(n);
        }
        let mut buf = Vec::new();
        let _ = report.finish().write((name, ariadne::Source::from(source.text.as_str())), &mut buf);
        let text = String::from_utf8_lossy(&buf);
        let mut out = text.split_once('\n').map_or("", |(_heading, rest)| rest).to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{}: {}\n", self.kind, self.message));
        out
    }

    /// A short Python-style report for a line too long to show whole.
    fn render_compact(&self, source: &Source) -> String {
        let line = source.line_of(self.span.start);
        let text = source.line_text(line);
        let start = source.text[..(self.span.start as usize).min(source.text.len())].rfind('\n').map(|p| p + 1).unwrap_or(0);
        let col = (self.span.start as usize).saturating_sub(start);
        let from = text.char_indices().map(|(i, _)| i).filter(|&i| i <= col).rfind(|&i| col - i >= 30 || i == 0).unwrap_or(0);
        let excerpt: String = text[from..].chars().take(80).collect();
        let caret = text[from..col.min(text.len())].chars().count();
        format!(
            "  File \"{}\", line {}, column {}\n    {}{}\n    {}^\n{}: {}\n",
            source.name,
            line,
            text[..col.min(text.len())].chars().count() + 1,
            if from > 0 { "..." } else { "" },
            excerpt,
            " ".repeat(caret + if from > 0 { 3 } else { 0 }),
            self.kind,
            self.message
        )
    }
}

/// The frames of a traceback that the reader is shown, innermost first:
/// the program's own, not those of the library's `.aio` sources.
fn shown_frames(e: &PyErr) -> Vec<TbEntry> {
    e.exc().traceback.borrow().iter().filter(|t| crate::trace::is_user(&t.code)).cloned().collect()
}

/// The source text of the expression that failed in `entry`'s frame.
fn failing_code(entry: &TbEntry) -> Option<String> {
    let span = entry.code.spans.get(entry.ip as usize)?;
    entry.code.source.text.get(span.start as usize..span.end as usize).map(str::to_string)
}

/// The lines of a traceback for one exception (without the chain); `label`
/// goes beside the carets of the innermost frame, and is taken when it does.
fn traceback_lines(frames: &[TbEntry], label: &mut Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    if frames.is_empty() {
        return out;
    }
    out.push("Traceback (most recent call last):".to_string());
    let mut last: Option<(usize, usize, String)> = None;
    let mut repeats = 0;
    let flush = |out: &mut Vec<String>, repeats: &mut usize| {
        if *repeats > 3 {
            out.push(format!("  [Previous line repeated {} more times]", *repeats - 3));
        }
        *repeats = 0;
    };
    for (i, entry) in frames.iter().enumerate().rev() {
        let code = &entry.code;
        let line = code.line_at(entry.ip as usize);
        let key = (Rc::as_ptr(code) as usize, line, code.qualname.as_str().to_string());
        let innermost = i == 0;
        if last.as_ref() == Some(&key) && !(innermost && label.is_some()) {
            repeats += 1;
            if repeats >= 3 {
                continue;
            }
        } else {
            flush(&mut out, &mut repeats);
        }
        last = Some(key);
        let name = code.name.as_str().to_string();
        out.push(format!("  File \"{}\", line {}, in {}", code.source.name, line, name));
        let text = code.source.line_text(line);
        let trimmed = text.trim_start();
        if !trimmed.is_empty() {
            out.push(format!("    {}", trimmed.trim_end()));
            // 3.11-style carets under the failing expression, when it is
            // narrower than the line (or when they carry a label).
            let span = code.spans.get(entry.ip as usize).copied().unwrap_or_default();
            let line_start = code.source.text[..(span.start as usize).min(code.source.text.len())].rfind('\n').map(|p| p + 1).unwrap_or(0);
            let indent = text.len() - trimmed.len();
            let col = (span.start as usize).saturating_sub(line_start);
            let end_col = (span.end as usize).saturating_sub(line_start);
            let placed = code.source.line_of(span.end.saturating_sub(1).max(span.start)) == line && col >= indent && end_col > col;
            let label = if innermost && placed { label.take() } else { None };
            if placed && ((end_col - col) < trimmed.trim_end().len() || label.is_some()) {
                let pre: usize = text[indent..col.min(text.len())].chars().count();
                let width: usize = text.get(col..end_col.min(text.len())).map(|s| s.chars().count()).unwrap_or(1).max(1);
                let carets = format!("    {}{}", " ".repeat(pre), "^".repeat(width));
                out.push(match label {
                    Some(l) => format!("{carets} {l}"),
                    None => carets,
                });
            }
        }
    }
    flush(&mut out, &mut repeats);
    out
}

/// The full report of an uncaught exception, chain and groups included.
pub fn format_exception(vm: &mut Vm, e: &PyErr) -> String {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    // How the exception crossed tasks, just above its `Type: message` line.
    let hops = crate::trace::await_chain_lines(e);
    format_chain(vm, e, &mut out, &mut seen, "", &hops);
    let mut s = out.join("\n");
    s.push('\n');
    s
}

fn format_chain(vm: &mut Vm, e: &PyErr, out: &mut Vec<String>, seen: &mut Vec<usize>, prefix: &str, hops: &[String]) {
    seen.push(Rc::as_ptr(&e.0) as usize);
    let data = e.exc();
    let cause = data.cause.borrow().clone();
    let context = data.context.borrow().clone();
    if let Value::Instance(c) = &cause {
        if !seen.contains(&(Rc::as_ptr(c) as usize)) {
            format_chain(vm, &PyErr(c.clone()), out, seen, prefix, &[]);
            out.push(prefix.to_string());
            out.push(format!("{prefix}The above exception was the direct cause of the following exception:"));
            out.push(prefix.to_string());
        }
    } else if let Value::Instance(c) = &context {
        if !data.suppress_context.get() && !seen.contains(&(Rc::as_ptr(c) as usize)) {
            format_chain(vm, &PyErr(c.clone()), out, seen, prefix, &[]);
            out.push(prefix.to_string());
            out.push(format!("{prefix}During handling of the above exception, another exception occurred:"));
            out.push(prefix.to_string());
        }
    }
    if let Some((_, excs)) = group_parts(&e.0) {
        out.extend(hops.iter().cloned());
        let tb = traceback_lines(&shown_frames(e), &mut None);
        let mut first = true;
        for l in tb {
            if first {
                out.push(format!("{prefix}  + Exception Group {l}"));
                first = false;
            } else {
                out.push(format!("{prefix}  | {l}"));
            }
        }
        if first {
            out.push(format!("{prefix}  | ExceptionGroup"));
            out.pop();
        }
        out.push(format!("{prefix}  | {}", exc_line(vm, e)));
        for (i, sub) in excs.iter().enumerate() {
            let bar = if i == 0 { "+-+" } else { "  +" };
            out.push(format!("{prefix}  {bar}---------------- {} ----------------", i + 1));
            if let Value::Instance(si) = sub {
                let mut inner = Vec::new();
                format_chain(vm, &PyErr(si.clone()), &mut inner, seen, "", &[]);
                for l in inner {
                    out.push(format!("{prefix}    | {l}"));
                }
            }
        }
        out.push(format!("{prefix}    +------------------------------------"));
        return;
    }
    let frames = shown_frames(e);
    let code = frames.first().and_then(failing_code);
    let mut hints = crate::hints::for_exception(vm, e, code.as_deref());
    for l in traceback_lines(&frames, &mut hints.label) {
        out.push(format!("{prefix}{l}"));
    }
    // A label with no carets to stand beside becomes a note.
    hints.notes.splice(0..0, hints.label.take());
    out.extend(hops.iter().cloned());
    for n in &hints.notes {
        out.push(format!("{prefix}Hint: {n}"));
    }
    out.push(format!("{prefix}{}", exc_line(vm, e)));
    if let Some(Value::List(notes)) = e.0.dict_get_str("__notes__") {
        for n in notes.to_vec() {
            if let Value::Str(s) = n {
                out.push(format!("{prefix}{}", s.as_str()));
            }
        }
    }
}

/// A traceback without the VM: frames and the exception's class and plain arguments.
pub fn plain_traceback(e: &PyErr) -> String {
    let mut out = traceback_lines(&shown_frames(e), &mut None).join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    let args = e.args();
    let name = crate::exceptions::qualified_exc_name(&e.class());
    match args.as_slice() {
        [] => out.push_str(&format!("{name}\n")),
        [Value::Str(s)] => out.push_str(&format!("{name}: {}\n", s.as_str())),
        [one] => out.push_str(&format!("{name}: {}\n", crate::types::debug_repr(one))),
        many => {
            let parts: Vec<String> = many.iter().map(crate::types::debug_repr).collect();
            out.push_str(&format!("{name}: ({})\n", parts.join(", ")));
        }
    }
    out
}

/// The report of Ctrl-C: where the program was, and `KeyboardInterrupt`.
pub fn format_interrupt(e: &PyErr) -> String {
    let tb = e.exc().traceback.borrow();
    let user = tb.iter().find(|t| !t.code.source.name.starts_with('<'));
    match user {
        Some(t) => {
            let line = t.code.line_at(t.ip as usize);
            format!(
                "\n  (interrupted in {}, line {}: {})\nKeyboardInterrupt\n",
                t.code.qualname.as_str(),
                line,
                t.code.source.line_text(line).trim()
            )
        }
        None => "\nKeyboardInterrupt\n".to_string(),
    }
}

thread_local! {
    /// The places a never-awaited warning was given for: as Python's
    /// warnings filter does, a place warns once (`sorted(xs, key=fetch)`
    /// makes many coroutines on one line).
    static WARNED: std::cell::RefCell<std::collections::HashSet<(String, usize, String)>> = Default::default();
}

/// `file:line: RuntimeWarning: coroutine 'f' was never awaited`
pub fn warn_never_awaited(qualname: &str, origin: Option<&TbEntry>) {
    let mut msg = String::new();
    if let Some(o) = origin {
        let line = o.code.line_at(o.ip as usize);
        // At the REPL, each input is a new place.
        let key = (o.code.source.name.clone(), line, qualname.to_string());
        // At the thread's end the set may be gone (a coroutine dropped with
        // a thread-local table of modules): the warning is given then.
        if key.0 != "<stdin>" && !WARNED.try_with(|w| w.borrow_mut().insert(key)).unwrap_or(true) {
            return;
        }
        msg.push_str(&format!("{}:{}: RuntimeWarning: coroutine '{}' was never awaited\n", o.code.source.name, line, qualname));
        let text = o.code.source.line_text(line).trim();
        if !text.is_empty() {
            msg.push_str(&format!("  {text}\n"));
        }
        // The call that made the coroutine, when the line calls the coroutine
        // function itself (`fetch(url)`, not `sorted(xs, key=fetch)`).
        let short = qualname.rsplit('.').next().unwrap_or(qualname);
        let call = failing_code(o).filter(|c| {
            let callee = c.split('(').next().unwrap_or("");
            c.ends_with(')') && !c.contains('\n') && (callee == short || callee.ends_with(&format!(".{short}")))
        });
        msg.push_str(&match call {
            Some(c) => format!("Hint: a coroutine runs only when awaited: write `await {c}`, or start it with `create_task({c})`\n"),
            None => "Hint: a coroutine runs only when awaited: write `await` before the call, or start it with create_task()\n".into(),
        });
    } else {
        msg.push_str(&format!("RuntimeWarning: coroutine '{qualname}' was never awaited\n"));
    }
    emit_warning(&msg);
}

/// Write a warning to stderr (stdout is flushed first by the caller's Vm when it can).
pub fn emit_warning(msg: &str) {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(msg.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(src: &str) -> String {
        let e = aio_grammar::parse_module(src).expect_err("a syntax error");
        Diagnostic::from_syntax(&e).render(&Source::new("t.aio", src))
    }

    #[test]
    fn a_syntax_error_says_its_message_once() {
        let out = render("total = sum([1, 2, 3]\nprint(total)\n");
        assert_eq!(out.matches("was never closed").count(), 1, "{out}");
        assert!(out.ends_with("SyntaxError: '(' was never closed\n"), "{out}");
        assert!(out.contains("this bracket is never closed"), "{out}");
        assert!(!out.lines().any(|l| l.starts_with("Error:")), "{out}");
    }

    #[test]
    fn an_unterminated_string_has_one_label() {
        let out = render("print(\"hello)\n");
        assert_eq!(out.matches("never closed").count(), 1, "{out}");
        assert_eq!(out.matches("unterminated string literal").count(), 1, "{out}");
    }

    #[test]
    fn an_error_without_a_label_of_its_own_is_underlined() {
        let out = render("def f()\n    pass\n");
        assert!(out.contains("╰── here"), "{out}");
        assert_eq!(out.matches("expected ':'").count(), 1, "{out}");
    }
}
