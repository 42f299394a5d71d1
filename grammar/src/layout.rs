//! The layout pass between the logos lexer and the parser: it turns line starts
//! into NEWLINE / INDENT / DEDENT tokens, checks brackets, and words lexer errors.

use crate::ast::Span;
use crate::error::{line_number, line_start, SyntaxError, SyntaxErrorKind};
use crate::token::{LexError, Tok};
use logos::Logos;

/// A token with its byte range, as lalrpop wants it.
pub type Spanned<'s> = (usize, Tok<'s>, usize);

/// What the layout pass yields: a token, or the error that ends the input.
pub type LexResult<'s> = Result<Spanned<'s>, SyntaxError>;

/// CPython's tokenizer refuses more than 200 open brackets.
pub const MAX_NESTING: usize = 200;

/// One level of the indentation stack.
#[derive(Clone, Copy, Debug)]
struct Level {
    /// Column with tabs to multiples of 8.
    col: u32,
    /// Column with tabs as 1: when the two orders disagree, tabs and spaces are mixed ambiguously.
    alt: u32,
    /// The indentation of the line that opened this level.
    line: Span,
}

/// The token iterator the parser reads.
pub struct Layout<'s> {
    full: &'s str,
    /// Offset of the lexed text within `full`.
    base: usize,
    end: usize,
    lexer: logos::Lexer<'s, Tok<'s>>,
    levels: Vec<Level>,
    brackets: Vec<(u8, Span)>,
    at_line_start: bool,
    /// DEDENTs still to hand out, all at `dedent_at`, before `held`.
    dedents: usize,
    dedent_at: usize,
    held: Option<Spanned<'s>>,
    eof: bool,
    finished: bool,
    /// Inside an f-string replacement field: as if within brackets, so no layout tokens.
    in_fstring: bool,
}

impl<'s> Layout<'s> {
    /// Lays out a whole source text (a leading byte-order mark is skipped, as
    /// Python skips it when it reads a file).
    pub fn new(src: &'s str) -> Layout<'s> {
        let start = if src.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
        Layout::over(src, start, src.len(), false)
    }

    /// Lays out the expression `full[start..end]` of an f-string replacement field.
    pub fn for_fstring(full: &'s str, start: usize, end: usize) -> Layout<'s> {
        Layout::over(full, start, end, true)
    }

    fn over(full: &'s str, start: usize, end: usize, in_fstring: bool) -> Layout<'s> {
        Layout {
            full,
            base: start,
            end,
            lexer: Tok::lexer(&full[start..end]),
            levels: vec![Level { col: 0, alt: 0, line: Span::new(0, 0) }],
            brackets: Vec::new(),
            at_line_start: !in_fstring,
            dedents: 0,
            dedent_at: 0,
            held: None,
            eof: false,
            finished: false,
            in_fstring,
        }
    }

    /// True once the input has ended: an error after that is a bracket left open.
    pub fn at_end(&self) -> bool {
        self.eof
    }

    fn fail(&mut self, e: SyntaxError) -> Option<LexResult<'s>> {
        self.finished = true;
        Some(Err(e))
    }

    fn end_of_input(&mut self) -> Option<LexResult<'s>> {
        self.eof = true;
        let end = self.end;
        if let Some(&(open, span)) = self.brackets.last() {
            let e = SyntaxError::new(format!("'{}' was never closed", open as char), span).label(span, "this bracket is never closed");
            // An f-string's text is complete; only a real source can go on.
            return self.fail(if self.in_fstring { e } else { e.incomplete() });
        }
        if self.in_fstring {
            self.finished = true;
            return None;
        }
        self.dedents = self.levels.len() - 1;
        self.levels.truncate(1);
        self.dedent_at = end;
        if !self.at_line_start {
            self.at_line_start = true;
            return Some(Ok((end, Tok::Newline, end)));
        }
        self.next()
    }

    /// Measures the indentation of the line whose first token starts at `start`,
    /// and compares it with the stack: `Some(INDENT)`, or DEDENTs left pending.
    fn indentation(&mut self, start: usize) -> Result<Option<Spanned<'s>>, SyntaxError> {
        let ls = line_start(self.full, start);
        let (mut col, mut alt) = (0u32, 0u32);
        for &c in &self.full.as_bytes()[ls..start] {
            match c {
                b' ' => {
                    col += 1;
                    alt += 1;
                }
                b'\t' => {
                    col = (col / 8 + 1) * 8;
                    alt += 1;
                }
                b'\x0C' => {
                    col = 0;
                    alt = 0;
                }
                _ => {}
            }
        }
        let here = Span::new(ls, start);
        let tab_error = || {
            SyntaxError::new("inconsistent use of tabs and spaces in indentation", here)
                .with_kind(SyntaxErrorKind::Tab)
                .note("indent with spaces only (4 per level is the custom), or with tabs only")
        };
        let top = *self.levels.last().expect("the indentation stack is never empty");
        if col == top.col {
            if alt != top.alt {
                return Err(tab_error());
            }
            Ok(None)
        } else if col > top.col {
            if alt <= top.alt {
                return Err(tab_error());
            }
            self.levels.push(Level { col, alt, line: here });
            Ok(Some((ls, Tok::Indent, start)))
        } else {
            let mut popped = top;
            let mut n = 0;
            while self.levels.last().is_some_and(|l| l.col > col) {
                popped = self.levels.pop().expect("checked non-empty");
                n += 1;
            }
            let outer = *self.levels.last().expect("level 0 is never popped");
            if outer.col != col {
                let mut e = SyntaxError::new("unindent does not match any outer indentation level", here)
                    .with_kind(SyntaxErrorKind::Indentation)
                    .label(here, format!("this line is indented {col} columns"))
                    .label(popped.line, format!("the block it ends is indented {} columns", popped.col));
                if outer.col > 0 {
                    e = e.label(outer.line, format!("the block around that is indented {} columns", outer.col));
                }
                let around = if outer.col > 0 { format!("{} columns", outer.col) } else { "none".to_string() };
                return Err(e.note(format!(
                    "this line is indented {col} columns, but the blocks it could close are indented {} and {around}",
                    popped.col
                )));
            }
            if alt != outer.alt {
                return Err(tab_error());
            }
            self.dedents = n;
            self.dedent_at = start;
            Ok(None)
        }
    }

    fn track_bracket(&mut self, tok: Tok<'s>, start: usize, end: usize) -> Result<(), SyntaxError> {
        let span = Span::new(start, end);
        let open = match tok {
            Tok::LParen => b'(',
            Tok::LBracket => b'[',
            Tok::LBrace => b'{',
            Tok::RParen | Tok::RBracket | Tok::RBrace => {
                let close = self.full.as_bytes()[start];
                let Some((open, open_span)) = self.brackets.pop() else {
                    return Err(SyntaxError::new(format!("unmatched '{}'", close as char), span)
                        .label(span, "nothing was opened for this to close"));
                };
                let expected = match open {
                    b'(' => b')',
                    b'[' => b']',
                    _ => b'}',
                };
                if close != expected {
                    let open_line = line_number(self.full, open_span.start as usize);
                    let mut message =
                        format!("closing parenthesis '{}' does not match opening parenthesis '{}'", close as char, open as char);
                    if open_line != line_number(self.full, start) {
                        message += &format!(" on line {open_line}");
                    }
                    return Err(SyntaxError::new(message, span)
                        .label(open_span, format!("'{}' opened here, so '{}' was expected", open as char, expected as char)));
                }
                return Ok(());
            }
            _ => return Ok(()),
        };
        if self.brackets.len() >= MAX_NESTING {
            return Err(
                SyntaxError::new("too many nested parentheses", span).note(format!("brackets may be nested at most {MAX_NESTING} deep"))
            );
        }
        self.brackets.push((open, span));
        Ok(())
    }

    fn lex_error(&self, e: LexError, start: usize, end: usize) -> SyntaxError {
        let full = self.full;
        let span = Span::new(start, end);
        let at = |pos: usize| {
            let len = full[pos.min(full.len())..].chars().next().map_or(0, char::len_utf8);
            Span::new(pos, pos + len)
        };
        match e {
            LexError::Unrecognized => {
                let c = full[start..].chars().next().unwrap_or('\0');
                if c == '\\' {
                    let rest = &full[start + 1..self.end];
                    if rest.trim_matches([' ', '\t', '\x0C']).is_empty() && !rest.contains(['\n', '\r']) {
                        return SyntaxError::new("unexpected EOF while parsing", at(start))
                            .note("a backslash at the end of a line continues it on the next line")
                            .incomplete();
                    }
                    return SyntaxError::new("unexpected character after line continuation character", at(start))
                        .note("a backslash outside a string joins this line to the next; nothing may follow it, not even a space");
                }
                invalid_character(c, at(start))
            }
            LexError::InvalidCharacter(c) => invalid_character(c, span),
            // One label over the whole string, so the reader sees what it swallowed.
            LexError::UnterminatedString => {
                SyntaxError::new(format!("unterminated string literal (detected at line {})", line_number(full, end)), span)
                    .label(span, "this string is never closed")
            }
            LexError::UnterminatedTripleString => {
                let opener = full[start..].find(['\'', '"']).map_or(start, |i| start + i + 3);
                // The line of the string's last character: a final newline does not start another line.
                let last = if full[start..end].ends_with(['\n', '\r']) { end - 1 } else { end };
                let opener = Span::new(start, opener);
                SyntaxError::new(
                    format!("unterminated triple-quoted string literal (detected at line {})", line_number(full, last)),
                    opener,
                )
                .label(opener, "this string is never closed")
                .incomplete()
            }
            LexError::BadNumber(message, pos) => {
                let pos = pos + self.base;
                let s = if pos <= start { span } else { Span::new(start, at(pos).end as usize) };
                SyntaxError::new(message, s)
            }
            LexError::BadDigit { digit, kind, at: pos } => {
                SyntaxError::new(format!("invalid digit '{digit}' in {kind} literal"), at(pos + self.base))
            }
        }
    }
}

fn invalid_character(c: char, span: Span) -> SyntaxError {
    if c == '\0' {
        return SyntaxError::new("source code cannot contain null bytes", span);
    }
    if c.is_control() || c.is_whitespace() || is_format_character(c) {
        return SyntaxError::new(format!("invalid non-printable character U+{:04X}", c as u32), span);
    }
    let mut e = SyntaxError::new(format!("invalid character '{c}' (U+{:04X})", c as u32), span);
    if matches!(c, '“' | '”' | '‘' | '’') {
        e = e.note("typographic quotes are not string quotes: use ' or \"");
    }
    e
}

/// Invisible formatting characters (Unicode category Cf) that Python refuses as
/// "non-printable": zero-width spaces and joiners, direction marks, the BOM.
fn is_format_character(c: char) -> bool {
    matches!(
        c as u32,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
    )
}

impl<'s> Iterator for Layout<'s> {
    type Item = LexResult<'s>;

    fn next(&mut self) -> Option<LexResult<'s>> {
        if self.finished {
            return None;
        }
        if self.dedents > 0 {
            self.dedents -= 1;
            return Some(Ok((self.dedent_at, Tok::Dedent, self.dedent_at)));
        }
        if let Some(t) = self.held.take() {
            return Some(Ok(t));
        }
        if self.eof {
            self.finished = true;
            return None;
        }
        loop {
            let Some(res) = self.lexer.next() else {
                return self.end_of_input();
            };
            let span = self.lexer.span();
            let (start, end) = (span.start + self.base, span.end + self.base);
            let tok = match res {
                Ok(t) => t,
                Err(e) => {
                    let e = self.lex_error(e, start, end);
                    return self.fail(e);
                }
            };
            if tok == Tok::LineBreak {
                if !self.brackets.is_empty() || self.in_fstring || self.at_line_start {
                    continue;
                }
                self.at_line_start = true;
                return Some(Ok((start, Tok::Newline, end)));
            }
            let mut first = None;
            if self.at_line_start {
                self.at_line_start = false;
                match self.indentation(start) {
                    Err(e) => return self.fail(e),
                    Ok(indent) => first = indent,
                }
            }
            if let Err(e) = self.track_bracket(tok, start, end) {
                return self.fail(e);
            }
            let tok = (start, tok, end);
            if first.is_some() {
                self.held = Some(tok);
                return first.map(Ok);
            }
            if self.dedents > 0 {
                self.held = Some(tok);
                return self.next();
            }
            return Some(Ok(tok));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The token kinds as short names, layout tokens in capitals.
    fn kinds(src: &str) -> Vec<String> {
        Layout::new(src)
            .map(|r| match r {
                Ok((_, t, _)) => match t {
                    Tok::Newline => "NL".into(),
                    Tok::Indent => "IN".into(),
                    Tok::Dedent => "DE".into(),
                    Tok::Name(n) => n.into(),
                    other => format!("{other:?}"),
                },
                Err(e) => format!("ERR {}", e.message),
            })
            .collect()
    }

    fn error(src: &str) -> SyntaxError {
        Layout::new(src).find_map(Result::err).expect("an error")
    }

    #[test]
    fn blocks() {
        assert_eq!(kinds("if a:\n    b\nc\n").join(" "), "If a Colon NL IN b NL DE c NL");
        assert_eq!(kinds("if a:\n  if b:\n    c\nd").join(" "), "If a Colon NL IN If b Colon NL IN c NL DE DE d NL");
    }

    #[test]
    fn end_of_input_flushes_the_stack() {
        assert_eq!(kinds("if a:\n  if b:\n    c").join(" "), "If a Colon NL IN If b Colon NL IN c NL DE DE");
        assert_eq!(kinds("if a:\n  b\n\n\n").join(" "), "If a Colon NL IN b NL DE");
    }

    #[test]
    fn blank_and_comment_lines_are_skipped() {
        assert_eq!(kinds("a\n\n   # hi\n      \n\t\nb # c\n").join(" "), "a NL b NL");
        assert_eq!(kinds("").len(), 0);
        assert_eq!(kinds("# only\n\n").len(), 0);
    }

    #[test]
    fn no_layout_inside_brackets() {
        assert_eq!(kinds("f(a,\n      b,\n  c)\nd").join(" "), "f LParen a Comma b Comma c RParen NL d NL");
        assert_eq!(kinds("x = [\n1,\n]\n").join(" "), "x Assign LBracket Int(\"1\") Comma RBracket NL");
    }

    #[test]
    fn backslash_continuation_and_crlf() {
        assert_eq!(kinds("a = 1 + \\\n    2\r\nb\r\n").join(" "), "a Assign Int(\"1\") Plus Int(\"2\") NL b NL");
        assert_eq!(kinds("if a:\r\n    b\r\nc").join(" "), "If a Colon NL IN b NL DE c NL");
    }

    #[test]
    fn dedent_mismatch_labels_both_lines() {
        let e = error("if x:\n        a\n    b\n");
        assert_eq!(e.kind, SyntaxErrorKind::Indentation);
        assert_eq!(e.message, "unindent does not match any outer indentation level");
        assert_eq!(e.span, Span::new(16, 20));
        assert_eq!(e.labels[0].0, Span::new(16, 20));
        assert_eq!(e.labels[1].0, Span::new(6, 14));
    }

    #[test]
    fn tabs_and_spaces() {
        let e = error("if x:\n\ta\n        b\n");
        assert_eq!(e.kind, SyntaxErrorKind::Tab);
        assert_eq!(e.message, "inconsistent use of tabs and spaces in indentation");
        // Consistent tabs are fine.
        assert_eq!(kinds("if a:\n\tb\n\tc\n").join(" "), "If a Colon NL IN b NL c NL DE");
    }

    #[test]
    fn brackets() {
        let e = error("x = (1, 2");
        assert_eq!(e.message, "'(' was never closed");
        assert!(e.incomplete);
        assert_eq!(e.span, Span::new(4, 5));
        assert_eq!(error("x = (1, 2]").message, "closing parenthesis ']' does not match opening parenthesis '('");
        assert_eq!(error("x = (1,\n 2]").message, "closing parenthesis ']' does not match opening parenthesis '(' on line 1");
        assert_eq!(error("x = 1)").message, "unmatched ')'");
        let deep = "(".repeat(10_000);
        assert_eq!(error(&deep).message, "too many nested parentheses");
    }

    #[test]
    fn lexer_errors_are_worded() {
        assert_eq!(error("x = 'abc\ny").message, "unterminated string literal (detected at line 1)");
        let e = error("x = 1\ny = \"\"\"abc\n\n");
        assert_eq!(e.message, "unterminated triple-quoted string literal (detected at line 3)");
        assert!(e.incomplete);
        assert_eq!(error("x = 1 €").message, "invalid character '€' (U+20AC)");
        assert_eq!(error("x = \\").message, "unexpected EOF while parsing");
        assert!(error("x = \\").incomplete);
        assert_eq!(error("x = \\ 1").message, "unexpected character after line continuation character");
        assert_eq!(error("x = \u{1}").message, "invalid non-printable character U+0001");
        assert_eq!(error("1abc").message, "invalid decimal literal");
        assert_eq!(error("1abc").span, Span::new(0, 2));
    }

    #[test]
    fn unexpected_indent_is_left_to_the_parser() {
        assert_eq!(kinds("  x\n").join(" "), "IN x NL DE");
    }

    #[test]
    fn fstring_expressions_ignore_newlines() {
        let src = "xx(a,\nb)\ny";
        let toks: Vec<_> = Layout::for_fstring(src, 2, 8).map(|r| r.map(|t| t.1)).collect();
        assert_eq!(toks.len(), 5);
        assert!(toks.iter().all(Result::is_ok));
    }
}
