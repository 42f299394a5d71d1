//! Literals: number text to values, and string, bytes and f-string literals
//! (escapes, line ends, adjacent-literal joining) to their AST nodes.

use crate::ast::*;
use crate::error::SyntaxError;
use crate::fstring;
use crate::parser::{expr, PResult};
use lalrpop_util::ParseError;
use num_bigint::BigInt;

fn fail<'s, T>(message: impl Into<String>, span: Span) -> PResult<'s, T> {
    Err(ParseError::User { error: SyntaxError::new(message, span) })
}

fn user<'s>(error: SyntaxError) -> crate::parser::PError<'s> {
    ParseError::User { error }
}

pub(crate) fn int(text: &str, l: usize, r: usize) -> Expr {
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    let (radix, body) = match digits.get(..2) {
        Some("0x" | "0X") => (16, &digits[2..]),
        Some("0o" | "0O") => (8, &digits[2..]),
        Some("0b" | "0B") => (2, &digits[2..]),
        _ => (10, &digits[..]),
    };
    let kind = match i64::from_str_radix(body, radix) {
        Ok(v) => ExprKind::Int(v),
        Err(_) => match BigInt::parse_bytes(body.as_bytes(), radix) {
            Some(b) => ExprKind::BigInt(Box::new(b)),
            None => ExprKind::Int(0),
        },
    };
    expr(kind, l, r)
}

fn parse_float(text: &str) -> f64 {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    clean.parse().unwrap_or(f64::NAN)
}

pub(crate) fn float(text: &str, l: usize, r: usize) -> Expr {
    expr(ExprKind::Float(parse_float(text)), l, r)
}

pub(crate) fn imaginary(text: &str, l: usize, r: usize) -> Expr {
    expr(ExprKind::Imaginary(parse_float(&text[..text.len() - 1])), l, r)
}

/// Joins adjacent string literals: `"a" 'b'`, `b"x" b'y'`, `"a" f"{b}"`.
pub(crate) fn strings<'s>(src: &'s str, parts: Vec<(usize, &'s str)>, l: usize, r: usize) -> PResult<'s, Expr> {
    let mut text = String::new();
    let mut bytes = Vec::new();
    let mut fparts: Option<Vec<FStringPart>> = None;
    let mut saw_bytes = false;
    let mut saw_str = false;
    for (at, lit) in parts {
        let quote_at = lit.find(['\'', '"']).unwrap_or(0);
        let prefix = lit[..quote_at].to_ascii_lowercase();
        let q = lit.as_bytes()[quote_at];
        let triple = lit.len() >= quote_at + 6 && lit.as_bytes()[quote_at + 1] == q && lit.as_bytes()[quote_at + 2] == q;
        let qlen = if triple { 3 } else { 1 };
        let body_start = at + quote_at + qlen;
        let body_end = at + lit.len() - qlen;
        let raw = prefix.contains('r');
        let lit_span = Span::new(at, at + lit.len());
        if prefix.contains('b') {
            saw_bytes = true;
            if saw_str {
                return fail("cannot mix bytes and nonbytes literals", lit_span);
            }
            decode_bytes(src, body_start, body_end, raw, lit_span, &mut bytes).map_err(user)?;
            continue;
        }
        saw_str = true;
        if saw_bytes {
            return fail("cannot mix bytes and nonbytes literals", lit_span);
        }
        if prefix.contains('f') {
            let parsed = fstring::parse(src, body_start, body_end, raw).map_err(user)?;
            let list = fparts.get_or_insert_with(Vec::new);
            if !text.is_empty() {
                push_literal(list, std::mem::take(&mut text));
            }
            for p in parsed {
                match p {
                    FStringPart::Literal(s) => push_literal(list, s),
                    other => list.push(other),
                }
            }
        } else {
            let s = decode_str(src, body_start, body_end, raw).map_err(user)?;
            match &mut fparts {
                Some(list) => push_literal(list, s),
                None => text.push_str(&s),
            }
        }
    }
    let kind = if saw_bytes {
        ExprKind::Bytes(bytes)
    } else if let Some(list) = fparts {
        ExprKind::FString(list)
    } else {
        ExprKind::Str(text)
    };
    Ok(expr(kind, l, r))
}

/// Appends literal text, merging it with a literal before it.
pub(crate) fn push_literal(list: &mut Vec<FStringPart>, s: String) {
    if s.is_empty() {
        return;
    }
    if let Some(FStringPart::Literal(prev)) = list.last_mut() {
        prev.push_str(&s);
    } else {
        list.push(FStringPart::Literal(s));
    }
}

fn unicode_error(src: &str, body_start: usize, from: usize, to: usize, what: &str) -> SyntaxError {
    let (a, b) = (from - body_start, to.saturating_sub(body_start + 1));
    let to = to.min(src.len());
    SyntaxError::new(format!("(unicode error) 'unicodeescape' codec can't decode bytes in position {a}-{b}: {what}"), Span::new(from, to))
}

/// Reads `n` hex digits at `i`; `None` when fewer are there.
fn hex_digits(b: &[u8], i: usize, n: usize) -> Option<u32> {
    let digits = b.get(i..i + n)?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// Decodes the body `src[start..end]` of a str literal (or an f-string's literal
/// run): escapes unless `raw`, and line ends as `\n`.
pub(crate) fn decode_str(src: &str, start: usize, end: usize, raw: bool) -> Result<String, SyntaxError> {
    let body = &src[start..end];
    if !body.contains(['\\', '\r']) {
        return Ok(body.to_string());
    }
    let b = src.as_bytes();
    let mut out = String::with_capacity(body.len());
    let mut i = start;
    let mut run = start;
    while i < end {
        let c = b[i];
        if c == b'\r' {
            out.push_str(&src[run..i]);
            out.push('\n');
            i += if b.get(i + 1) == Some(&b'\n') && i + 1 < end { 2 } else { 1 };
            run = i;
            continue;
        }
        if c != b'\\' || raw {
            i += 1;
            continue;
        }
        out.push_str(&src[run..i]);
        let esc = i;
        i += 1;
        if i >= end {
            // A backslash that ends an f-string's literal run, as in `f"\{x}"`.
            out.push('\\');
            run = i;
            break;
        }
        let e = b[i];
        i += 1;
        match e {
            b'\n' => {}
            b'\r' => {
                if i < end && b[i] == b'\n' {
                    i += 1;
                }
            }
            _ if simple_escape(e).is_some() => out.push(char::from(simple_escape(e).unwrap_or_default())),
            b'0'..=b'7' => {
                let v = octal_escape(b, e, &mut i, end);
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
            }
            b'x' | b'u' | b'U' => {
                let (n, what) = match e {
                    b'x' => (2, "truncated \\xXX escape"),
                    b'u' => (4, "truncated \\uXXXX escape"),
                    _ => (8, "truncated \\UXXXXXXXX escape"),
                };
                let avail = if i + n <= end { hex_digits(b, i, n) } else { None };
                let Some(v) = avail else {
                    let stop = (i..end.min(i + n)).find(|&j| !b[j].is_ascii_hexdigit()).unwrap_or(end.min(i + n));
                    return Err(unicode_error(src, start, esc, stop, what));
                };
                i += n;
                match char::from_u32(v) {
                    Some(ch) => out.push(ch),
                    None if (0xD800..0xE000).contains(&v) => {
                        return Err(SyntaxError::new(
                            "lone surrogate escapes (\\ud800 to \\udfff) are not supported in .aio strings",
                            Span::new(esc, i),
                        )
                        .note("write the character itself, or its full \\U escape"));
                    }
                    None => return Err(unicode_error(src, start, esc, i, "illegal Unicode character")),
                }
            }
            b'N' => {
                let close = src[i..end].find('}').map_or(end, |k| i + k + 1);
                return Err(SyntaxError::new("named Unicode escapes (\\N{...}) are not supported in .aio", Span::new(esc, close))
                    .note("write the character itself, or its \\u or \\U escape"));
            }
            _ => {
                // An unknown escape keeps its backslash, as in Python: '\d' is two characters.
                i = esc + 1;
                out.push('\\');
            }
        }
        run = i;
    }
    out.push_str(&src[run..end.max(run)]);
    Ok(out)
}

fn decode_bytes(src: &str, start: usize, end: usize, raw: bool, lit_span: Span, out: &mut Vec<u8>) -> Result<(), SyntaxError> {
    let b = src.as_bytes();
    if !src[start..end].is_ascii() {
        return Err(SyntaxError::new("bytes can only contain ASCII literal characters", lit_span)
            .note("write other bytes as escapes, such as \\xe9"));
    }
    let mut i = start;
    while i < end {
        let c = b[i];
        if c == b'\r' {
            out.push(b'\n');
            i += if i + 1 < end && b[i + 1] == b'\n' { 2 } else { 1 };
            continue;
        }
        if c != b'\\' || raw || i + 1 >= end {
            out.push(c);
            i += 1;
            continue;
        }
        let esc = i;
        let e = b[i + 1];
        i += 2;
        match e {
            b'\n' => {}
            b'\r' => {
                if i < end && b[i] == b'\n' {
                    i += 1;
                }
            }
            _ if simple_escape(e).is_some() => out.push(simple_escape(e).unwrap_or_default()),
            b'0'..=b'7' => out.push((octal_escape(b, e, &mut i, end) & 0xFF) as u8),
            b'x' => {
                let Some(v) = (if i + 2 <= end { hex_digits(b, i, 2) } else { None }) else {
                    return Err(SyntaxError::new(
                        format!("(value error) invalid \\x escape at position {}", esc - start),
                        Span::new(esc, (i + 2).min(end)),
                    ));
                };
                out.push(v as u8);
                i += 2;
            }
            _ => {
                out.push(b'\\');
                i = esc + 1;
            }
        }
    }
    Ok(())
}

/// The byte a one-letter escape stands for (`\n`, `\t`, `\\`, ...), the
/// same in `str` and `bytes` literals.
fn simple_escape(e: u8) -> Option<u8> {
    Some(match e {
        b'\\' | b'\'' | b'"' => e,
        b'a' => 7,
        b'b' => 8,
        b'f' => 12,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'v' => 11,
        _ => return None,
    })
}

/// An octal escape whose first digit `first` was read: up to two more
/// digits from `b[*i..end]`, advancing `*i` past them.
fn octal_escape(b: &[u8], first: u8, i: &mut usize, end: usize) -> u32 {
    let mut v = u32::from(first - b'0');
    let mut n = 1;
    while n < 3 && *i < end && (b'0'..=b'7').contains(&b[*i]) {
        v = v * 8 + u32::from(b[*i] - b'0');
        *i += 1;
        n += 1;
    }
    v
}
