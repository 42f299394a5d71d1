//! The tokens of aio source text, recognised by a logos DFA.
//! Layout tokens (NEWLINE, INDENT, DEDENT) are added afterwards by `layout.rs`.

use logos::{Lexer, Logos};

/// One token. String and number tokens keep their source text; the parser
/// decodes them, so that a bad escape is reported at its literal.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\x0C]+")]
#[logos(skip(r"#[^\r\n]*", allow_greedy = true))]
#[logos(skip r"\\(\r\n|\n|\r)")]
pub enum Tok<'s> {
    /// The end of a logical line (made by the layout pass).
    Newline,
    /// One more level of indentation (made by the layout pass).
    Indent,
    /// One level of indentation less (made by the layout pass).
    Dedent,
    /// A physical line break; the layout pass turns it into `Newline` or drops it.
    #[regex(r"\r\n|\n|\r")]
    LineBreak,
    /// A synthetic `(` that opens a parenthesised list of `with` items:
    /// `with (open(a) as f, open(b) as g):`.
    WithLParen,
    /// The soft keyword `match` opening a match statement (made by the parser's token filter).
    Match,
    /// The soft keyword `case` opening a case block (made by the parser's token filter).
    Case,

    /// An identifier (keywords are recognised by the same callback).
    Name(&'s str),
    /// Matches identifiers and keywords; never produced itself: the callback
    /// turns each match into `Name` or a keyword token.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", word)]
    #[regex(r"[^\x00-\x7F]", unicode_word)]
    Word,
    /// An integer literal as written (`0x_ff`, `1_000`).
    Int(&'s str),
    /// A float literal as written (`1.5e-3`, `.5`).
    Float(&'s str),
    /// An imaginary literal as written (`2j`).
    Imag(&'s str),
    /// Matches the start of a number; never produced itself: the callback
    /// scans the literal and returns `Int`, `Float` or `Imag`.
    #[regex(r"[0-9]", number)]
    #[regex(r"\.[0-9]", number)]
    Number,
    /// A string or bytes literal with its prefix and quotes (`rb'\d'`, `f"{x}"`).
    String(&'s str),
    /// Matches a string's prefix and opening quote; never produced itself:
    /// the callback scans to the closing quote and returns `String`.
    #[regex(r#"([rRbBfFuU]|[rR][bBfF]|[bBfF][rR])?["']"#, string)]
    Quote,

    /// `False`
    #[token("False")]
    False,
    /// `None`
    #[token("None")]
    None,
    /// `True`
    #[token("True")]
    True,
    /// `and`
    #[token("and")]
    And,
    /// `as`
    #[token("as")]
    As,
    /// `assert`
    #[token("assert")]
    Assert,
    /// `async`
    #[token("async")]
    Async,
    /// `await`
    #[token("await")]
    Await,
    /// `break`
    #[token("break")]
    Break,
    /// `class`
    #[token("class")]
    Class,
    /// `continue`
    #[token("continue")]
    Continue,
    /// `def`
    #[token("def")]
    Def,
    /// `del`
    #[token("del")]
    Del,
    /// `elif`
    #[token("elif")]
    Elif,
    /// `else`
    #[token("else")]
    Else,
    /// `except`
    #[token("except")]
    Except,
    /// `finally`
    #[token("finally")]
    Finally,
    /// `for`
    #[token("for")]
    For,
    /// `from`
    #[token("from")]
    From,
    /// `global`
    #[token("global")]
    Global,
    /// `if`
    #[token("if")]
    If,
    /// `import`
    #[token("import")]
    Import,
    /// `in`
    #[token("in")]
    In,
    /// `is`
    #[token("is")]
    Is,
    /// `lambda`
    #[token("lambda")]
    Lambda,
    /// `nonlocal`
    #[token("nonlocal")]
    Nonlocal,
    /// `not`
    #[token("not")]
    Not,
    /// `or`
    #[token("or")]
    Or,
    /// `pass`
    #[token("pass")]
    Pass,
    /// `raise`
    #[token("raise")]
    Raise,
    /// `return`
    #[token("return")]
    Return,
    /// `try`
    #[token("try")]
    Try,
    /// `while`
    #[token("while")]
    While,
    /// `with`
    #[token("with")]
    With,
    /// `yield`
    #[token("yield")]
    Yield,

    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `[`
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `,`
    #[token(",")]
    Comma,
    /// `:`
    #[token(":")]
    Colon,
    /// `;`
    #[token(";")]
    Semi,
    /// `.`
    #[token(".")]
    Dot,
    /// `...`
    #[token("...")]
    Ellipsis,
    /// `->`
    #[token("->")]
    Arrow,
    /// `@`
    #[token("@")]
    At,
    /// `=`
    #[token("=")]
    Assign,
    /// `:=`
    #[token(":=")]
    Walrus,
    /// `!`
    #[token("!")]
    Bang,

    /// `+`
    #[token("+")]
    Plus,
    /// `-`
    #[token("-")]
    Minus,
    /// `*`
    #[token("*")]
    Star,
    /// `/`
    #[token("/")]
    Slash,
    /// `//`
    #[token("//")]
    DoubleSlash,
    /// `%`
    #[token("%")]
    Percent,
    /// `**`
    #[token("**")]
    DoubleStar,
    /// `<<`
    #[token("<<")]
    LShift,
    /// `>>`
    #[token(">>")]
    RShift,
    /// `&`
    #[token("&")]
    Amper,
    /// `|`
    #[token("|")]
    Pipe,
    /// `^`
    #[token("^")]
    Caret,
    /// `~`
    #[token("~")]
    Tilde,

    /// `<`
    #[token("<")]
    Lt,
    /// `>`
    #[token(">")]
    Gt,
    /// `<=`
    #[token("<=")]
    LtE,
    /// `>=`
    #[token(">=")]
    GtE,
    /// `==`
    #[token("==")]
    EqEq,
    /// `!=`
    #[token("!=")]
    NotEq,

    /// `+=`
    #[token("+=")]
    PlusEq,
    /// `-=`
    #[token("-=")]
    MinusEq,
    /// `*=`
    #[token("*=")]
    StarEq,
    /// `/=`
    #[token("/=")]
    SlashEq,
    /// `//=`
    #[token("//=")]
    DoubleSlashEq,
    /// `%=`
    #[token("%=")]
    PercentEq,
    /// `**=`
    #[token("**=")]
    DoubleStarEq,
    /// `@=`
    #[token("@=")]
    AtEq,
    /// `&=`
    #[token("&=")]
    AmperEq,
    /// `|=`
    #[token("|=")]
    PipeEq,
    /// `^=`
    #[token("^=")]
    CaretEq,
    /// `<<=`
    #[token("<<=")]
    LShiftEq,
    /// `>>=`
    #[token(">>=")]
    RShiftEq,
}

/// What went wrong while recognising one token. Positions are byte offsets
/// relative to the text being lexed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LexError {
    /// No token starts here (a stray `$`, `?`, control character or `\`).
    #[default]
    Unrecognized,
    /// A non-ASCII character that cannot start an identifier.
    InvalidCharacter(char),
    /// A quote with no closing quote on its line.
    UnterminatedString,
    /// A triple quote with no closing triple quote before the end of input.
    UnterminatedTripleString,
    /// A malformed number: the message, and the offset of the offending character.
    BadNumber(&'static str, usize),
    /// A binary or octal literal with a digit out of range.
    BadDigit { digit: char, kind: &'static str, at: usize },
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric() || (!c.is_ascii() && is_combining_mark(c))
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

// Combining marks (accents written as a separate code point) may continue an
// identifier, as Python's XID_Continue allows: `cafe\u0301`.
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
        || matches!(c as u32, 0x200C | 0x200D)
}

/// Extends an identifier over any further (possibly non-ASCII) identifier characters.
fn extend_ident<'s>(lex: &mut Lexer<'s, Tok<'s>>) {
    let extra: usize = lex.remainder().chars().take_while(|&c| is_ident_continue(c)).map(char::len_utf8).sum();
    lex.bump(extra);
}

fn word<'s>(lex: &mut Lexer<'s, Tok<'s>>) -> Tok<'s> {
    if lex.remainder().chars().next().is_some_and(|c| !c.is_ascii() && is_ident_continue(c)) {
        extend_ident(lex);
    }
    keyword(lex.slice()).unwrap_or(Tok::Name(lex.slice()))
}

fn unicode_word<'s>(lex: &mut Lexer<'s, Tok<'s>>) -> Result<Tok<'s>, LexError> {
    let c = lex.slice().chars().next().unwrap_or('\u{FFFD}');
    if !is_ident_start(c) {
        return Err(LexError::InvalidCharacter(c));
    }
    extend_ident(lex);
    Ok(Tok::Name(lex.slice()))
}

/// The keyword token spelled `word`, if it is one.
pub fn keyword(word: &str) -> Option<Tok<'static>> {
    Some(match word {
        "False" => Tok::False,
        "None" => Tok::None,
        "True" => Tok::True,
        "and" => Tok::And,
        "as" => Tok::As,
        "assert" => Tok::Assert,
        "async" => Tok::Async,
        "await" => Tok::Await,
        "break" => Tok::Break,
        "class" => Tok::Class,
        "continue" => Tok::Continue,
        "def" => Tok::Def,
        "del" => Tok::Del,
        "elif" => Tok::Elif,
        "else" => Tok::Else,
        "except" => Tok::Except,
        "finally" => Tok::Finally,
        "for" => Tok::For,
        "from" => Tok::From,
        "global" => Tok::Global,
        "if" => Tok::If,
        "import" => Tok::Import,
        "in" => Tok::In,
        "is" => Tok::Is,
        "lambda" => Tok::Lambda,
        "nonlocal" => Tok::Nonlocal,
        "not" => Tok::Not,
        "or" => Tok::Or,
        "pass" => Tok::Pass,
        "raise" => Tok::Raise,
        "return" => Tok::Return,
        "try" => Tok::Try,
        "while" => Tok::While,
        "with" => Tok::With,
        "yield" => Tok::Yield,
        _ => return None,
    })
}

/// Scans a number whose first character (or `.` and first digit) has matched.
fn number<'s>(lex: &mut Lexer<'s, Tok<'s>>) -> Result<Tok<'s>, LexError> {
    let start = lex.span().start;
    let text = &lex.source()[start..];
    let (len, kind) = scan_number(text).map_err(|e| match e {
        LexError::BadNumber(m, at) => LexError::BadNumber(m, at + start),
        LexError::BadDigit { digit, kind, at } => LexError::BadDigit { digit, kind, at: at + start },
        other => other,
    })?;
    lex.bump(len - lex.slice().len());
    let s = lex.slice();
    Ok(match kind {
        NumKind::Int => Tok::Int(s),
        NumKind::Float => Tok::Float(s),
        NumKind::Imag => Tok::Imag(s),
    })
}

enum NumKind {
    Int,
    Float,
    Imag,
}

/// Reads digits of `radix` with single `_` separators from `b[i..]`; returns the new index,
/// or the offset of a misplaced `_`.
fn digits(b: &[u8], mut i: usize, ok: impl Fn(u8) -> bool) -> Result<usize, usize> {
    while i < b.len() {
        if ok(b[i]) {
            i += 1;
        } else if b[i] == b'_' {
            if i + 1 < b.len() && ok(b[i + 1]) {
                i += 2;
            } else {
                return Err(i + 1);
            }
        } else {
            break;
        }
    }
    Ok(i)
}

/// Checks what follows a number, as CPython does: a keyword that may follow
/// a literal (`1if x else 2`) is allowed, any other identifier character is an error.
fn end_of_number(text: &str, i: usize, what: &'static str) -> Result<(), LexError> {
    let rest = &text[i..];
    let Some(c) = rest.chars().next() else {
        return Ok(());
    };
    if !(c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && is_ident_continue(c))) {
        return Ok(());
    }
    let after = &rest[c.len_utf8()..];
    let keyword_follows = match c {
        'a' => after.starts_with("nd"),
        'e' => after.starts_with("lse"),
        'f' => after.starts_with("or"),
        'i' => after.starts_with('f') || after.starts_with('n') || after.starts_with('s'),
        'o' => after.starts_with('r'),
        'n' => after.starts_with("ot"),
        _ => false,
    };
    if keyword_follows {
        Ok(())
    } else {
        Err(LexError::BadNumber(what, i))
    }
}

fn scan_number(text: &str) -> Result<(usize, NumKind), LexError> {
    const DEC: &str = "invalid decimal literal";
    let b = text.as_bytes();
    if b[0] == b'0' && b.len() > 1 && matches!(b[1], b'x' | b'X' | b'o' | b'O' | b'b' | b'B') {
        let (what, radix) = match b[1] {
            b'x' | b'X' => ("invalid hexadecimal literal", 16),
            b'o' | b'O' => ("invalid octal literal", 8),
            _ => ("invalid binary literal", 2),
        };
        let kind = if radix == 8 { "octal" } else { "binary" };
        let mut i = 2;
        if i < b.len() && b[i] == b'_' {
            i += 1;
        }
        let first = i;
        let i = digits(b, i, |c| (c as char).is_digit(radix)).map_err(|at| LexError::BadNumber(what, at))?;
        if i < b.len() && radix != 16 && b[i].is_ascii_digit() {
            return Err(LexError::BadDigit { digit: b[i] as char, kind, at: i });
        }
        if i == first {
            return Err(LexError::BadNumber(what, i));
        }
        end_of_number(text, i, what)?;
        return Ok((i, NumKind::Int));
    }
    let mut kind = NumKind::Int;
    let mut i = 0;
    if b[0] != b'.' {
        i = digits(b, 0, |c| c.is_ascii_digit()).map_err(|at| LexError::BadNumber(DEC, at))?;
    }
    let int_end = i;
    if i < b.len() && b[i] == b'.' {
        kind = NumKind::Float;
        i += 1;
        if i < b.len() && b[i].is_ascii_digit() {
            i = digits(b, i, |c| c.is_ascii_digit()).map_err(|at| LexError::BadNumber(DEC, at))?;
        }
    }
    let mut exponent_missing = false;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            kind = NumKind::Float;
            i = digits(b, j, |c| c.is_ascii_digit()).map_err(|at| LexError::BadNumber(DEC, at))?;
        } else {
            // `1else` is `1` then `else`; `1e` and `1e+` are malformed.
            end_of_number(text, i, DEC).map_err(|_| LexError::BadNumber(DEC, j))?;
            exponent_missing = true;
        }
    }
    if !exponent_missing && i < b.len() && (b[i] == b'j' || b[i] == b'J') {
        i += 1;
        kind = NumKind::Imag;
    } else if matches!(kind, NumKind::Int) && b[0] == b'0' && b[..int_end].iter().any(|&c| c != b'0' && c != b'_') {
        return Err(LexError::BadNumber(
            "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
            0,
        ));
    }
    end_of_number(text, i, DEC)?;
    Ok((i, kind))
}

/// Scans a string literal whose prefix and opening quote have matched.
fn string<'s>(lex: &mut Lexer<'s, Tok<'s>>) -> Result<Tok<'s>, LexError> {
    let quote = *lex.slice().as_bytes().last().unwrap_or(&b'"');
    let rest = lex.remainder().as_bytes();
    let triple = rest.len() >= 2 && rest[0] == quote && rest[1] == quote;
    let mut i = if triple { 2 } else { 0 };
    loop {
        let Some(&c) = rest.get(i) else {
            lex.bump(rest.len());
            return Err(if triple { LexError::UnterminatedTripleString } else { LexError::UnterminatedString });
        };
        match c {
            b'\\' => {
                // A backslash escapes the next character even in a raw string,
                // and `\` + CRLF is one escape.
                i += if rest.get(i + 1) == Some(&b'\r') && rest.get(i + 2) == Some(&b'\n') { 3 } else { 2 };
                if i > rest.len() {
                    i = rest.len();
                }
            }
            b'\n' | b'\r' if !triple => {
                lex.bump(i);
                return Err(LexError::UnterminatedString);
            }
            _ if c == quote => {
                if !triple {
                    lex.bump(i + 1);
                    break;
                }
                if rest.get(i + 1) == Some(&quote) && rest.get(i + 2) == Some(&quote) {
                    lex.bump(i + 3);
                    break;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(Tok::String(lex.slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(s: &str) -> Vec<Result<Tok<'_>, LexError>> {
        Tok::lexer(s).collect()
    }

    #[test]
    fn keywords_and_names() {
        assert_eq!(
            lex("if iffy café match _"),
            vec![Ok(Tok::If), Ok(Tok::Name("iffy")), Ok(Tok::Name("café")), Ok(Tok::Name("match")), Ok(Tok::Name("_"))]
        );
        assert_eq!(lex("ñandú"), vec![Ok(Tok::Name("ñandú"))]);
    }

    #[test]
    fn numbers() {
        assert_eq!(
            lex("0x_ff 1_000 1.5e-3 .5 5. 2j 1_000.5 0o17 0b1 00"),
            vec![
                Ok(Tok::Int("0x_ff")),
                Ok(Tok::Int("1_000")),
                Ok(Tok::Float("1.5e-3")),
                Ok(Tok::Float(".5")),
                Ok(Tok::Float("5.")),
                Ok(Tok::Imag("2j")),
                Ok(Tok::Float("1_000.5")),
                Ok(Tok::Int("0o17")),
                Ok(Tok::Int("0b1")),
                Ok(Tok::Int("00")),
            ]
        );
        assert_eq!(lex("1if"), vec![Ok(Tok::Int("1")), Ok(Tok::If)]);
        assert!(matches!(lex("1é")[0], Err(LexError::BadNumber("invalid decimal literal", 1))));
        assert_eq!(lex("x.y"), vec![Ok(Tok::Name("x")), Ok(Tok::Dot), Ok(Tok::Name("y"))]);
        assert_eq!(lex("..."), vec![Ok(Tok::Ellipsis)]);
    }

    #[test]
    fn bad_numbers() {
        assert!(matches!(lex("1abc")[0], Err(LexError::BadNumber("invalid decimal literal", _))));
        assert!(matches!(lex("012")[0], Err(LexError::BadNumber(m, _)) if m.starts_with("leading zeros")));
        assert!(matches!(lex("0x")[0], Err(LexError::BadNumber("invalid hexadecimal literal", _))));
        assert!(matches!(lex("1_")[0], Err(LexError::BadNumber("invalid decimal literal", _))));
        assert!(matches!(lex("1__0")[0], Err(LexError::BadNumber("invalid decimal literal", _))));
        assert!(matches!(lex("1e")[0], Err(LexError::BadNumber("invalid decimal literal", _))));
        assert!(matches!(lex("0b12")[0], Err(LexError::BadDigit { digit: '2', .. })));
        assert!(matches!(lex("0o8")[0], Err(LexError::BadDigit { digit: '8', .. })));
    }

    #[test]
    fn strings() {
        assert_eq!(lex(r#"'a' "b" rb'\d' f"{x}""#).len(), 4);
        assert_eq!(lex(r#"'''a'b''c'''"#), vec![Ok(Tok::String("'''a'b''c'''"))]);
        assert_eq!(lex(r#"'a\'b'"#), vec![Ok(Tok::String(r#"'a\'b'"#))]);
        assert_eq!(lex("'abc\n")[0], Err(LexError::UnterminatedString));
        assert_eq!(lex("'''abc\n")[0], Err(LexError::UnterminatedTripleString));
        assert_eq!(lex("r'\\'")[0], Err(LexError::UnterminatedString));
    }

    #[test]
    fn stray_characters() {
        assert_eq!(lex("€")[0], Err(LexError::InvalidCharacter('€')));
        assert_eq!(lex("$")[0], Err(LexError::Unrecognized));
    }
}
