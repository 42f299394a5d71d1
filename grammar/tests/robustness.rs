//! Hostile and huge inputs: each must give a clean `SyntaxError` or a parse,
//! never a panic, a hang or a stack overflow.

use aio_grammar::ast::{ExprKind, StmtKind};
use aio_grammar::{parse_module, SyntaxErrorKind};
use std::time::{Duration, Instant};

const DEEP: usize = 10_000;

fn ok(src: &str) -> aio_grammar::ast::Module {
    parse_module(src).unwrap_or_else(|e| panic!("{}: {e:?}", &src[..src.len().min(60)]))
}

#[test]
fn deep_nesting_of_brackets_is_refused() {
    for (open, close) in [("(", ")"), ("[", "]"), ("{", "}")] {
        let src = format!("x = {}1{}", open.repeat(DEEP), close.repeat(DEEP));
        let e = parse_module(&src).unwrap_err();
        assert_eq!(e.message, "too many nested parentheses");
        assert_eq!(e.span.start, 4 + 200);
        // Unclosed, too.
        assert_eq!(parse_module(&open.repeat(DEEP)).unwrap_err().message, "too many nested parentheses");
    }
    // Just under the limit parses.
    let src = format!("x = {}1{}", "(".repeat(199), ")".repeat(199));
    assert!(matches!(ok(&src).body[0].kind, StmtKind::Assign { .. }));
    let src = format!("f'{{{}1{}}}'", "(".repeat(DEEP), ")".repeat(DEEP));
    assert!(parse_module(&src).unwrap_err().message.contains("too many nested parentheses"));
}

#[test]
fn deep_expression_chains_parse() {
    let sources = [
        format!("x = {}1", "-".repeat(DEEP)),
        format!("x = {}1", "- ".repeat(DEEP)),
        format!("x = {}a", "not ".repeat(DEEP)),
        format!("x = {}a", "~".repeat(DEEP)),
        format!("x = 1{}", "+1".repeat(DEEP)),
        format!("x = a{}", " ** a".repeat(DEEP)),
        format!("x = a{}", " if b else a".repeat(DEEP)),
        format!("x = a{}", " or a".repeat(DEEP)),
        format!("x = a{}", " < a".repeat(DEEP)),
        format!("x = a{}", ".b".repeat(DEEP)),
        format!("x = f{}", "()".repeat(DEEP)),
        format!("x = a{}", "[0]".repeat(DEEP)),
        format!("x = {}1", "lambda: ".repeat(DEEP)),
        format!("{}1", "x = ".repeat(DEEP)),
        format!("x = {}", "'a' ".repeat(DEEP)),
        format!("x = [{}]", "1, ".repeat(DEEP)),
        format!("f({})", "a, ".repeat(DEEP)),
    ];
    for src in &sources {
        ok(src);
    }
}

#[test]
fn deep_chains_inside_fstrings_parse() {
    ok(&format!("x = f'{{{}1}}'", "-".repeat(DEEP)));
    ok(&format!("x = f'{{a{}}}'", ".b".repeat(DEEP)));
}

#[test]
fn deep_targets_and_blocks() {
    // Nested tuple targets are checked by a walk that the bracket limit bounds.
    let src = format!("{}a{} = 1", "(a, ".repeat(150), ")".repeat(150));
    ok(&src);
    // Deeply indented blocks.
    let mut src = String::new();
    for i in 0..100 {
        src += &format!("{}if x:\n", " ".repeat(i));
    }
    src += &format!("{}pass\n", " ".repeat(100));
    ok(&src);
}

#[test]
fn a_hundred_thousand_lines() {
    let mut src = String::new();
    let mut i = 0;
    while i * 6 < 100_000 {
        src += &format!(
            "def f{i}(a, b=1, *c, **d):\n    x = a + b * 2 - len(c)\n    if x > {i}:\n        return [y for y in c if y]\n    return f\"{{x}} {{d!r}}\"\n\n"
        );
        i += 1;
    }
    assert!(src.lines().count() >= 100_000);
    let start = Instant::now();
    let m = ok(&src);
    let took = start.elapsed();
    assert_eq!(m.body.len(), i);
    // Generous enough for an unoptimised build; release parses this in well under a second.
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn a_five_thousand_digit_integer() {
    let digits = "9".repeat(5000);
    let m = ok(&format!("x = {digits}"));
    let StmtKind::Assign { value, .. } = &m.body[0].kind else { panic!() };
    assert!(matches!(&value.kind, ExprKind::BigInt(b) if b.to_string() == digits));
    let hex = format!("0x{}", "f".repeat(5000));
    ok(&hex);
}

#[test]
fn awkward_bytes() {
    assert_eq!(parse_module("x = 1\0").unwrap_err().message, "source code cannot contain null bytes");
    assert_eq!(parse_module("'\0'").unwrap_err().message, "source code cannot contain null bytes");
    assert_eq!(parse_module("\u{7}").unwrap_err().message, "invalid non-printable character U+0007");
    assert_eq!(parse_module("x = \u{1b}[31m").unwrap_err().message, "invalid non-printable character U+001B");
    assert_eq!(parse_module("x = 1\u{feff}").unwrap_err().message, "invalid non-printable character U+FEFF");
    assert!(parse_module("\u{feff}x = 1").is_ok(), "a byte-order mark starts a file");
    assert_eq!(parse_module("\u{feff}  x = 1").unwrap_err().message, "unexpected indent");
    assert_eq!(parse_module("x = 1\u{200b}").unwrap_err().message, "invalid non-printable character U+200B");
    assert!(parse_module("x = '\u{7}\u{1b}'").is_ok(), "control characters are fine inside strings");
    assert!(parse_module("# \u{1}\u{7f} in a comment\n").is_ok());
    assert!(parse_module("\x0c\nx = 1\n").is_ok(), "form feed");
}

#[test]
fn unterminated_things() {
    for (src, message, incomplete) in [
        ("'abc", "unterminated string literal (detected at line 1)", false),
        ("x = '''abc", "unterminated triple-quoted string literal (detected at line 1)", true),
        ("x = f'''{a}", "unterminated triple-quoted string literal (detected at line 1)", true),
        ("x = (", "'(' was never closed", true),
        ("x = [1, {2: (", "'(' was never closed", true),
        ("r'\\'", "unterminated string literal (detected at line 1)", false),
        ("'abc\\\ndef", "unterminated string literal (detected at line 2)", false),
    ] {
        let e = parse_module(src).unwrap_err();
        assert_eq!((e.message.as_str(), e.incomplete), (message, incomplete), "{src:?}");
    }
}

#[test]
fn tabs_and_spaces() {
    let e = parse_module("if x:\n\tif y:\n\t    a\n        b\n").unwrap_err();
    assert_eq!(e.kind, SyntaxErrorKind::Tab);
    // Tabs alone, and spaces alone, are fine; so is a consistent mixture.
    ok("if x:\n\ty\n\tz\n");
    ok("if x:\n\tif y:\n\t\tz\n");
    ok("if x:\n  \ty\n  \tz\n");
}

#[test]
fn every_prefix_of_a_program_gives_a_clean_answer() {
    let program = "import asyncio\n\nasync def worker(name, q):\n    while True:\n        item = await q.get()\n        print(f\"{name}: {item!r:>5}\", end='')\n        q.task_done()\n\n@decorator(x=[1, 2], *args)\nclass A(B, metaclass=M):\n    '''Doc.'''\n    def f(self, a, /, b=2, *, c): return lambda: (yield)\n\ntry:\n    x = {k: v for k, v in d.items() if v}\nexcept* (E, F) as g:\n    pass\n";
    for end in 0..=program.len() {
        if program.is_char_boundary(end) {
            let _ = parse_module(&program[..end]);
        }
    }
    // And with each single byte removed.
    for skip in 0..program.len() {
        let mut s = program[..skip].to_string();
        s += &program[skip + 1..];
        let _ = parse_module(&s);
    }
}

/// Deterministic random edits of a program full of tricky constructs: every
/// result must be a parse or an error whose spans lie on character boundaries.
#[test]
fn random_mutations_never_panic() {
    let seed = "async def main(a, /, b=1, *c, d, **e) -> None:\n    x = f'{a!r:>{b}} {c=}' rb'\\d' \"\"\"doc\n\"\"\"\n    [y async for y in z if await y]\n    with (open(p) as f, g):\n        del x[1:2, ::3], y.z\n    try:\n        lambda *, k=(1, 2): k\n    except* (E, F) as g:\n        pass\n@dec\nclass A(B, metaclass=M):\n    café: int = 0x_ff + 1_000.5e-3 + 2j\n";
    let pieces = [
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "'",
        "\"",
        "'''",
        "f'",
        "rb'",
        "\\",
        "\n",
        "\r\n",
        "\t",
        "    ",
        ":",
        "=",
        ":=",
        "*",
        "**",
        ",",
        ".",
        "#",
        "{x}",
        "{x!r:>{w}}",
        "é",
        "€",
        "😀",
        "\u{0}",
        "\u{1}",
        "0x",
        "1e",
        "1_",
        "lambda",
        "yield",
        "await",
        "async",
        "def",
        "if",
        "else",
        "with",
        "match",
        "print",
        "@",
        "!",
        "f'{",
        "}'",
        "\\N{",
        "\u{feff}",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut rnd = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for _ in 0..3000 {
        let mut s = seed.to_string();
        for _ in 0..1 + rnd(4) {
            let mut at = rnd(s.len());
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + rnd(4)).min(s.len());
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            let piece = if rnd(2) == 0 { "" } else { pieces[rnd(pieces.len())] };
            s.replace_range(at..end, piece);
        }
        if let Err(e) = parse_module(&s) {
            assert!(s.get(e.span.range()).is_some(), "{s:?}: {e:?}");
            for (span, _) in &e.labels {
                assert!(s.get(span.range()).is_some(), "{s:?}: {e:?}");
            }
        }
    }
}
