//! The syntax error the front end reports: CPython's kind, a plain message,
//! the offending span, extra labelled spans, and whether more input could fix it.

use crate::ast::Span;
use std::fmt;

/// Which of CPython's exception types the error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// `SyntaxError`
    Syntax,
    /// `IndentationError`
    Indentation,
    /// `TabError`
    Tab,
}

impl SyntaxErrorKind {
    /// The Python exception name.
    pub fn name(self) -> &'static str {
        match self {
            SyntaxErrorKind::Syntax => "SyntaxError",
            SyntaxErrorKind::Indentation => "IndentationError",
            SyntaxErrorKind::Tab => "TabError",
        }
    }
}

/// A syntax error with everything a diagnostic needs.
#[derive(Clone, Debug)]
pub struct SyntaxError {
    /// SyntaxError, IndentationError or TabError.
    pub kind: SyntaxErrorKind,
    /// Plain words, as CPython would say them.
    pub message: String,
    /// The offending place (byte offsets).
    pub span: Span,
    /// Further labelled places, e.g. the bracket that was never closed.
    pub labels: Vec<(Span, String)>,
    /// Extra advice.
    pub notes: Vec<String>,
    /// True when the input ended too early and more lines could complete it
    /// (an open bracket, a block header with no body yet, an unterminated
    /// triple-quoted string, a trailing backslash).
    pub incomplete: bool,
}

impl SyntaxError {
    /// A `SyntaxError` at `span`.
    pub fn new(message: impl Into<String>, span: Span) -> SyntaxError {
        SyntaxError {
            kind: SyntaxErrorKind::Syntax,
            message: message.into(),
            span,
            labels: Vec::new(),
            notes: Vec::new(),
            incomplete: false,
        }
    }

    /// The same error as another kind.
    pub fn with_kind(mut self, kind: SyntaxErrorKind) -> SyntaxError {
        self.kind = kind;
        self
    }

    /// Adds a labelled span.
    pub fn label(mut self, span: Span, text: impl Into<String>) -> SyntaxError {
        self.labels.push((span, text.into()));
        self
    }

    /// Adds a note.
    pub fn note(mut self, text: impl Into<String>) -> SyntaxError {
        self.notes.push(text.into());
        self
    }

    /// Marks the error as one that more input could fix.
    pub fn incomplete(mut self) -> SyntaxError {
        self.incomplete = true;
        self
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// The 1-based line number of byte offset `pos` in `src` (`\n`, `\r\n` and `\r` end lines).
pub fn line_number(src: &str, pos: usize) -> usize {
    let b = &src.as_bytes()[..pos.min(src.len())];
    let mut line = 1;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && src.as_bytes().get(i + 1) != Some(&b'\n')) {
            line += 1;
        }
    }
    line
}

/// The byte offset where the line holding `pos` starts.
pub fn line_start(src: &str, pos: usize) -> usize {
    let b = src.as_bytes();
    let mut i = pos.min(b.len());
    while i > 0 && b[i - 1] != b'\n' && b[i - 1] != b'\r' {
        i -= 1;
    }
    i
}
