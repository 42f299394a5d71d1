//! f-strings as Python 3.11 reads them: literal text with `{{`/`}}` escapes and
//! replacement fields `{expr!r:spec}`, each expression parsed by the one grammar.

use crate::ast::{FStringPart, Span};
use crate::error::SyntaxError;
use crate::literal::{decode_str, push_literal};
use crate::parser::parse_fstring_expr;

/// Format specs may hold fields, whose specs may hold fields, but no deeper (as in CPython).
const MAX_DEPTH: u32 = 2;

/// Parses the body `src[start..end]` of an f-string literal (between its quotes).
pub(crate) fn parse(src: &str, start: usize, end: usize, raw: bool) -> Result<Vec<FStringPart>, SyntaxError> {
    let scanner = Scanner { src, end, raw };
    let (parts, _) = scanner.parts(start, 0, false)?;
    Ok(parts)
}

fn error(message: &str, at: usize, to: usize) -> SyntaxError {
    SyntaxError::new(message, Span::new(at, to.max(at)))
}

struct Scanner<'s> {
    src: &'s str,
    end: usize,
    raw: bool,
}

impl Scanner<'_> {
    /// Reads literal text and fields from `i` to the end of the string, or, in a
    /// format spec, to the `}` that closes the field (returned, not consumed).
    fn parts(&self, mut i: usize, depth: u32, in_spec: bool) -> Result<(Vec<FStringPart>, usize), SyntaxError> {
        let b = self.src.as_bytes();
        let mut parts = Vec::new();
        let mut run = i;
        while i < self.end {
            match b[i] {
                b'{' => {
                    push_literal(&mut parts, decode_str(self.src, run, i, self.raw)?);
                    if !in_spec && i + 1 < self.end && b[i + 1] == b'{' {
                        push_literal(&mut parts, "{".into());
                        i += 2;
                    } else {
                        let (part, next) = self.field(i, depth)?;
                        parts.push(part);
                        i = next;
                    }
                    run = i;
                }
                b'}' => {
                    if in_spec {
                        break;
                    }
                    push_literal(&mut parts, decode_str(self.src, run, i, self.raw)?);
                    if i + 1 < self.end && b[i + 1] == b'}' {
                        push_literal(&mut parts, "}".into());
                        i += 2;
                        run = i;
                    } else {
                        return Err(error("f-string: single '}' is not allowed", i, i + 1).note("write '}}' for a literal brace"));
                    }
                }
                b'\\' if !self.raw => {
                    if b.get(i + 1) == Some(&b'N') && b.get(i + 2) == Some(&b'{') {
                        // `\N{...}` is one escape, not a field.
                        i = self.src[i..self.end].find('}').map_or(self.end, |k| i + k + 1);
                    } else if matches!(b.get(i + 1), Some(b'{' | b'}')) || i + 1 >= self.end {
                        i += 1;
                    } else {
                        i += 2;
                    }
                }
                _ => i += 1,
            }
        }
        let stop = i.min(self.end);
        push_literal(&mut parts, decode_str(self.src, run, stop, self.raw)?);
        Ok((parts, stop))
    }

    /// Reads the replacement field whose `{` is at `open`; returns it and the index after its `}`.
    fn field(&self, open: usize, depth: u32) -> Result<(FStringPart, usize), SyntaxError> {
        let b = self.src.as_bytes();
        let end = self.end;
        if depth >= MAX_DEPTH {
            return Err(error("f-string: expressions nested too deeply", open, open + 1));
        }
        let start = open + 1;
        let mut j = start;
        let mut nest: Vec<(u8, usize)> = Vec::new();
        let mut quote: Option<(u8, bool, usize)> = None;
        let mut eq = None;
        loop {
            if j >= end {
                if let Some((_, _, at)) = quote {
                    return Err(error("f-string: unterminated string", at, end));
                }
                return Err(error("f-string: expecting '}'", open, end));
            }
            let c = b[j];
            if let Some((q, triple, _)) = quote {
                if c == b'\\' {
                    return Err(error("f-string expression part cannot include a backslash", j, j + 1));
                }
                if c == q {
                    if !triple {
                        quote = None;
                    } else if j + 2 < end && b[j + 1] == q && b[j + 2] == q {
                        quote = None;
                        j += 2;
                    }
                }
                j += 1;
                continue;
            }
            match c {
                b'\\' => return Err(error("f-string expression part cannot include a backslash", j, j + 1)),
                b'#' => return Err(error("f-string expression part cannot include '#'", j, j + 1)),
                b'\'' | b'"' => {
                    let triple = j + 2 < end && b[j + 1] == c && b[j + 2] == c;
                    quote = Some((c, triple, j));
                    j += if triple { 3 } else { 1 };
                }
                b'(' | b'[' | b'{' => {
                    nest.push((c, j));
                    j += 1;
                }
                b')' | b']' | b'}' if !nest.is_empty() => {
                    let (o, _) = nest.pop().unwrap_or((b'(', j));
                    let expected = match o {
                        b'(' => b')',
                        b'[' => b']',
                        _ => b'}',
                    };
                    if c != expected {
                        return Err(error(
                            &format!("f-string: closing parenthesis '{}' does not match opening parenthesis '{}'", c as char, o as char),
                            j,
                            j + 1,
                        ));
                    }
                    j += 1;
                }
                b'}' => break,
                b')' | b']' => return Err(error(&format!("f-string: unmatched '{}'", c as char), j, j + 1)),
                b'!' | b'=' | b'<' | b'>' if j + 1 < end && b[j + 1] == b'=' => j += 2,
                b'!' if nest.is_empty() => break,
                b':' if nest.is_empty() => break,
                b'=' if nest.is_empty() => {
                    eq = Some(j);
                    j += 1;
                    while j < end && matches!(b[j], b' ' | b'\t' | b'\n' | b'\r' | b'\x0C') {
                        j += 1;
                    }
                    break;
                }
                _ => j += 1,
            }
        }
        let expr_end = eq.unwrap_or(j);
        if self.src[start..expr_end].trim().is_empty() {
            return Err(error("f-string: empty expression not allowed", open, j + 1));
        }
        let debug_text = eq.map(|_| self.src[start..j].replace("\r\n", "\n"));
        let mut conversion = None;
        if j < end && b[j] == b'!' {
            let c = self.src[j + 1..end].chars().next();
            match c {
                Some(c @ ('s' | 'r' | 'a')) if matches!(b.get(j + 2), Some(b':' | b'}')) && j + 2 < end => {
                    conversion = Some(c);
                    j += 2;
                }
                _ => {
                    let to = j + 1 + c.map_or(0, char::len_utf8);
                    return Err(error("f-string: invalid conversion character: expected 's', 'r', or 'a'", j, to));
                }
            }
        }
        let mut format_spec = None;
        if j < end && b[j] == b':' {
            let (spec, stop) = self.parts(j + 1, depth + 1, true)?;
            format_spec = Some(spec);
            j = stop;
        }
        if j >= end || b[j] != b'}' {
            return Err(error("f-string: expecting '}'", open, j.min(end)));
        }
        let expr = parse_fstring_expr(self.src, start, expr_end)?;
        if debug_text.is_some() && conversion.is_none() && format_spec.is_none() {
            conversion = Some('r');
        }
        let part = FStringPart::Expr { expr: Box::new(expr), conversion, format_spec, debug_text };
        Ok((part, j + 1))
    }
}
