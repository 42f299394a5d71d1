//! Every syntax error a learner is likely to meet: its kind, its message
//! (CPython's wording where CPython has one), the text its span covers, and
//! whether the REPL should read more lines instead.

use aio_grammar::{parse_module, SyntaxError, SyntaxErrorKind};

fn err(src: &str) -> SyntaxError {
    match parse_module(src) {
        Ok(m) => panic!("{src:?} parsed: {m:?}"),
        Err(e) => e,
    }
}

/// `(source, message, text under the span)`, all `SyntaxError`s that more input cannot fix.
const SYNTAX: &[(&str, &str, &str)] = &[
    ("*a", "can't use starred expression here", "*a"),
    ("(*a)", "cannot use starred expression here", "*a"),
    ("x = *a", "can't use starred expression here", "*a"),
    ("return *a", "can't use starred expression here", "*a"),
    ("for x in *a: pass", "can't use starred expression here", "*a"),
    ("yield *a", "can't use starred expression here", "*a"),
    ("*a = b", "starred assignment target must be in a list or tuple", "*a"),
    ("for *a in x: pass", "starred assignment target must be in a list or tuple", "*a"),
    ("a, *b, *c = d", "multiple starred expressions in assignment", "*c"),
    ("f() = 1", "cannot assign to function call here. Maybe you meant '==' instead of '='?", "f()"),
    ("1 = x", "cannot assign to literal here. Maybe you meant '==' instead of '='?", "1"),
    ("a + b = 1", "cannot assign to expression here. Maybe you meant '==' instead of '='?", "a + b"),
    ("-a = 1", "cannot assign to expression here. Maybe you meant '==' instead of '='?", "-a"),
    ("[x for x in y] = 1", "cannot assign to list comprehension here. Maybe you meant '==' instead of '='?", "[x for x in y]"),
    ("await x = 1", "cannot assign to await expression here. Maybe you meant '==' instead of '='?", "await x"),
    ("a = 1 = 2", "cannot assign to literal", "1"),
    ("not a = 1", "cannot assign to expression", "not a"),
    ("a < b = 1", "cannot assign to comparison", "a < b"),
    ("lambda: x = 1", "cannot assign to lambda", "lambda: x"),
    ("None = 1", "cannot assign to None", "None"),
    ("a, f() = 1, 2", "cannot assign to function call", "f()"),
    ("(a for a in b) = 1", "cannot assign to generator expression", "(a for a in b)"),
    ("a = yield = 1", "assignment to yield expression not possible", "yield"),
    ("with a as f(): pass", "cannot assign to function call", "f()"),
    ("[x for f() in y]", "cannot assign to function call", "f()"),
    ("del f()", "cannot delete function call", "f()"),
    ("del 1", "cannot delete literal", "1"),
    ("del *a", "cannot delete starred", "*a"),
    ("a, b += 1", "'tuple' is an illegal expression for augmented assignment", "a, b"),
    ("f() += 1", "'function call' is an illegal expression for augmented assignment", "f()"),
    ("[a] += 1", "'list' is an illegal expression for augmented assignment", "[a]"),
    ("True += 1", "'True' is an illegal expression for augmented assignment", "True"),
    ("(a, b): int = 1", "only single target (not tuple) can be annotated", "(a, b)"),
    ("[a]: int", "only single target (not list) can be annotated", "[a]"),
    ("f(): int", "illegal target for annotation", "f()"),
    ("a.b := 1", "cannot use assignment expressions with attribute", ":="),
    ("(a.b := 1)", "cannot use assignment expressions with attribute", "a.b"),
    ("f(a=1, b)", "positional argument follows keyword argument", "b"),
    ("f(**k, b)", "positional argument follows keyword argument unpacking", "b"),
    ("f(**k, *a)", "iterable argument unpacking follows keyword argument unpacking", "*a"),
    ("f(a=1, a=2)", "keyword argument repeated: a", "a"),
    ("f(a.b=1)", "expression cannot contain assignment, perhaps you meant \"==\"?", "a.b=1"),
    ("f(True=1)", "cannot assign to True", "True"),
    ("f(x for x in y, 1)", "Generator expression must be parenthesized", "x for x in y"),
    ("f(1, x for x in y)", "Generator expression must be parenthesized", "x for x in y"),
    ("f(x for x in y,)", "Generator expression must be parenthesized", "x for x in y"),
    ("def f(a=1, b): pass", "non-default argument follows default argument", "b"),
    ("lambda a=1, b: 0", "non-default argument follows default argument", "b"),
    ("def f(a, a): pass", "duplicate argument 'a' in function definition", "a"),
    ("lambda a, *a: 0", "duplicate argument 'a' in function definition", "a"),
    ("def f(*): pass", "named arguments must follow bare *", "*"),
    ("def f(x, *, **k): pass", "named arguments must follow bare *", "*"),
    ("def f(**k, a): pass", "arguments cannot follow var-keyword argument", "a"),
    ("def f(a, /, b, /): pass", "/ may appear only once", "/"),
    ("def f(*a, /): pass", "/ must be ahead of *", "/"),
    ("def f(/): pass", "at least one argument must precede /", "/"),
    ("def f(*a, *b): pass", "* argument may appear only once", "*b"),
    ("if x = 1: pass", "invalid syntax. Maybe you meant '==' or ':=' instead of '='?", "x = 1"),
    ("while x = 1: pass", "invalid syntax. Maybe you meant '==' or ':=' instead of '='?", "x = 1"),
    ("if x:\n    pass\nelif y = 2:\n    pass", "invalid syntax. Maybe you meant '==' or ':=' instead of '='?", "y = 2"),
    ("print x", "Missing parentheses in call to 'print'. Did you mean print(...)?", "print x"),
    ("print \"hi\", 1", "Missing parentheses in call to 'print'. Did you mean print(...)?", "print \"hi\", 1"),
    ("from . import x", "relative imports are not supported in .aio", "."),
    ("from ..pkg import x", "relative imports are not supported in .aio", ".."),
    ("from ... import x", "relative imports are not supported in .aio", "..."),
    ("match x:\n    case 1 as _:\n        pass", "cannot use '_' as a target", "_"),
    ("match x:\n    case C(a=1, 2):\n        pass", "positional patterns follow keyword patterns", "2"),
    ("match x:\n    case [*a, *b]:\n        pass", "multiple starred names in sequence pattern", "[*a, *b]"),
    ("match x:\n    case f'{y}':\n        pass", "patterns may only match literals and attribute lookups", "f'{y}'"),
    ("x = (1, 2]", "closing parenthesis ']' does not match opening parenthesis '('", "]"),
    ("x = (1,\n 2]", "closing parenthesis ']' does not match opening parenthesis '(' on line 1", "]"),
    ("x = 1)", "unmatched ')'", ")"),
    ("x = (\n1\n)]", "unmatched ']'", "]"),
    ("x = 'abc", "unterminated string literal (detected at line 1)", "'abc"),
    ("x = 1\ny = \"abc\nz", "unterminated string literal (detected at line 2)", "\"abc"),
    ("1abc", "invalid decimal literal", "1a"),
    ("x = 1_", "invalid decimal literal", "1_"),
    ("x = 1__0", "invalid decimal literal", "1__"),
    ("x = 1e", "invalid decimal literal", "1e"),
    ("x = 1.real", "invalid decimal literal", "1.r"),
    ("012", "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers", "0"),
    ("x = 0x", "invalid hexadecimal literal", "0x"),
    ("x = 0xg", "invalid hexadecimal literal", "0xg"),
    ("x = 0b12", "invalid digit '2' in binary literal", "2"),
    ("x = 0o8", "invalid digit '8' in octal literal", "8"),
    ("x = 1 €", "invalid character '€' (U+20AC)", "€"),
    ("x = “hi”", "invalid character '“' (U+201C)", "“"),
    ("x = 1 $ 2", "invalid character '$' (U+0024)", "$"),
    ("x = \u{1}", "invalid non-printable character U+0001", "\u{1}"),
    ("x = 1\u{a0}", "invalid non-printable character U+00A0", "\u{a0}"),
    ("x = 1\0", "source code cannot contain null bytes", "\0"),
    ("x = \\ 1", "unexpected character after line continuation character", "\\"),
    ("a if b", "expected 'else' after 'if' expression", "if b"),
    ("x = 1 if 2", "expected 'else' after 'if' expression", "if 2"),
    ("else: pass", "invalid syntax: unexpected 'else'", "else"),
    ("elif x: pass", "invalid syntax: unexpected 'elif'", "elif"),
    ("if x:\n    pass\nx = 1\nelse:\n    pass", "invalid syntax: unexpected 'else'", "else"),
    ("x := 1", "invalid syntax: unexpected ':='", ":="),
    ("a = b c", "invalid syntax: unexpected name 'c'", "c"),
    ("async x", "invalid syntax: unexpected name 'x'", "x"),
    ("for in x: pass", "invalid syntax: unexpected 'in'", "in"),
    ("x = ", "invalid syntax: expected an expression after '='", "="),
    ("x = 1 +", "invalid syntax: expected an expression after '+'", "+"),
    ("import", "invalid syntax: expected a name after 'import'", "import"),
    ("f(a b)", "invalid syntax. Perhaps you forgot a comma?", "a b"),
    ("x = [1, 2 3]", "invalid syntax. Perhaps you forgot a comma?", "2 3"),
    ("x = {1: 2, 3}", "':' expected after dictionary key", "}"),
    ("[*a for a in b]", "iterable unpacking cannot be used in comprehension", "*a"),
    ("{*a for a in b}", "iterable unpacking cannot be used in comprehension", "*a"),
    ("{**a for a in b}", "dict unpacking cannot be used in dict comprehension", "**a"),
    ("print(\"a\" + )", "invalid syntax: expected an expression after '+'", "+"),
    ("x = [1, 2 +]", "invalid syntax: expected an expression after '+'", "+"),
    ("if x:\n    pass\nelse if y:\n    pass", "expected ':'", "if"),
    ("if x\n    pass", "expected ':'", "\n"),
    ("if x == 1 print(x)", "expected ':'", "print"),
    ("while True\n    pass", "expected ':'", "\n"),
    ("for x in y print(x)", "expected ':'", "print"),
    ("def f() print(x)", "expected ':'", "print"),
    ("def f() -> int\n    pass", "expected ':'", "\n"),
    ("class A\n    pass", "expected ':'", "\n"),
    ("class A(B)\n    pass", "expected ':'", "\n"),
    ("try\n    pass", "expected ':'", "\n"),
    ("try:\n    pass\nexcept ValueError\n    pass", "expected ':'", "\n"),
    ("try:\n    pass\nfinally\n    pass", "expected ':'", "\n"),
    ("if x:\n    pass\nelse\n    pass", "expected ':'", "\n"),
    ("with a as b\n    pass", "expected ':'", "\n"),
    ("async def f()\n    pass", "expected ':'", "\n"),
    ("lambda: pass", "invalid syntax: a lambda body must be an expression, and 'pass' starts a statement", "pass"),
    ("f = lambda x: return x", "invalid syntax: a lambda body must be an expression, and 'return' starts a statement", "return"),
    ("try:\n    pass\nexcept* A:\n    pass\nexcept B:\n    pass", "cannot have both 'except' and 'except*' on the same 'try'", "except B:"),
    ("try:\n    pass\nexcept A, B:\n    pass", "multiple exception types must be parenthesized", "A, B"),
    ("try:\n    pass\nexcept*:\n    pass", "expected one or more exception types", "except*:"),
    ("class A(**k): pass", "'**' unpacking in a class definition is not supported in .aio", "**k"),
    ("x = '\\x4'", "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-2: truncated \\xXX escape", "\\x4"),
    ("x = '\\u12'", "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-3: truncated \\uXXXX escape", "\\u12"),
    (
        "x = '\\U00110000'",
        "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-9: illegal Unicode character",
        "\\U00110000",
    ),
    ("x = '\\N{DASH}'", "named Unicode escapes (\\N{...}) are not supported in .aio", "\\N{DASH}"),
    ("x = b'é'", "bytes can only contain ASCII literal characters", "b'é'"),
    ("x = 'a' b'b'", "cannot mix bytes and nonbytes literals", "b'b'"),
    ("x = b'a' 'b'", "cannot mix bytes and nonbytes literals", "'b'"),
    ("x = b'a' f'b'", "cannot mix bytes and nonbytes literals", "f'b'"),
    ("f'{x!z}'", "f-string: invalid conversion character: expected 's', 'r', or 'a'", "!z"),
    ("f'{x!}'", "f-string: invalid conversion character: expected 's', 'r', or 'a'", "!}"),
    ("f'{}'", "f-string: empty expression not allowed", "{}"),
    ("f'{ }'", "f-string: empty expression not allowed", "{ }"),
    ("f'{x'", "f-string: expecting '}'", "{x"),
    ("f'{x:{y:{z}}}'", "f-string: expressions nested too deeply", "{"),
    ("f'{a#}'", "f-string expression part cannot include '#'", "#"),
    ("f'{a\\n}'", "f-string expression part cannot include a backslash", "\\"),
    ("f'{a)}'", "f-string: unmatched ')'", ")"),
    ("f'{a(]}'", "f-string: closing parenthesis ']' does not match opening parenthesis '('", "]"),
    ("f'}'", "f-string: single '}' is not allowed", "}"),
    ("f'{a b}'", "f-string: invalid syntax. Perhaps you forgot a comma?", "a b"),
    ("f'{*a}'", "f-string: cannot use starred expression here", "*a"),
    ("f'{x = 1}'", "f-string: expecting '}'", "{x = "),
    ("f'{f\"{a b}\"}'", "f-string: invalid syntax. Perhaps you forgot a comma?", "a b"),
    ("f\"{x[\"a\"]}\"", "f-string: expecting '}'", "f\"{x[\"a"),
];

#[test]
fn syntax_errors() {
    let mut failures = Vec::new();
    for &(src, message, text) in SYNTAX {
        let e = err(src);
        let got = src.get(e.span.range()).unwrap_or("<bad span>");
        if e.kind != SyntaxErrorKind::Syntax || e.message != message || got != text || e.incomplete {
            failures.push(format!(
                "{src:?}\n   want {message:?} at {text:?}\n    got {:?} {:?} at {got:?}{}",
                e.kind,
                e.message,
                if e.incomplete { " (incomplete)" } else { "" }
            ));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// `(source, kind, message, text under the span, incomplete)` for the layout errors
/// and for everything the REPL must treat as "more input needed".
const OTHERS: &[(&str, SyntaxErrorKind, &str, &str, bool)] = &[
    ("  x = 1", SyntaxErrorKind::Indentation, "unexpected indent", "  ", false),
    ("x = 1\n    y = 2", SyntaxErrorKind::Indentation, "unexpected indent", "    ", false),
    ("def f(): return\n    x", SyntaxErrorKind::Indentation, "unexpected indent", "    ", false),
    ("if x:\n        a\n    b", SyntaxErrorKind::Indentation, "unindent does not match any outer indentation level", "    ", false),
    ("if x:\n    pass\n  else: pass", SyntaxErrorKind::Indentation, "unindent does not match any outer indentation level", "  ", false),
    ("if x:\npass", SyntaxErrorKind::Indentation, "expected an indented block after 'if' statement on line 1", "pass", false),
    ("x = 1\nwhile x:\nx -= 1", SyntaxErrorKind::Indentation, "expected an indented block after 'while' statement on line 2", "x", false),
    ("def f():\nreturn", SyntaxErrorKind::Indentation, "expected an indented block after function definition on line 1", "return", false),
    ("class A:\nx = 1", SyntaxErrorKind::Indentation, "expected an indented block after class definition on line 1", "x", false),
    (
        "try:\n    x\nexcept* E:\npass",
        SyntaxErrorKind::Indentation,
        "expected an indented block after 'except*' statement on line 3",
        "pass",
        false,
    ),
    ("if x:\n\ta\n        b", SyntaxErrorKind::Tab, "inconsistent use of tabs and spaces in indentation", "        ", false),
    ("if x:\n        a\n\tb", SyntaxErrorKind::Tab, "inconsistent use of tabs and spaces in indentation", "\t", false),
    // Input that ended too early: the REPL reads another line.
    ("if x:", SyntaxErrorKind::Indentation, "expected an indented block after 'if' statement on line 1", "", true),
    ("if x:\n", SyntaxErrorKind::Indentation, "expected an indented block after 'if' statement on line 1", "", true),
    ("def f():\n    if x:\n", SyntaxErrorKind::Indentation, "expected an indented block after 'if' statement on line 2", "", true),
    ("async def f():", SyntaxErrorKind::Indentation, "expected an indented block after function definition on line 1", "", true),
    ("for x in y:", SyntaxErrorKind::Indentation, "expected an indented block after 'for' statement on line 1", "", true),
    ("x = (1, 2", SyntaxErrorKind::Syntax, "'(' was never closed", "(", true),
    ("x = [1,\n2,", SyntaxErrorKind::Syntax, "'[' was never closed", "[", true),
    ("x = ([1,", SyntaxErrorKind::Syntax, "'[' was never closed", "[", true),
    ("foo(a,\n    b", SyntaxErrorKind::Syntax, "'(' was never closed", "(", true),
    ("x = \"\"\"abc", SyntaxErrorKind::Syntax, "unterminated triple-quoted string literal (detected at line 1)", "\"\"\"", true),
    ("x = 1\ny = '''abc\n\nmore\n", SyntaxErrorKind::Syntax, "unterminated triple-quoted string literal (detected at line 4)", "'''", true),
    ("x = \\", SyntaxErrorKind::Syntax, "unexpected EOF while parsing", "\\", true),
    ("x = 1 + \\", SyntaxErrorKind::Syntax, "unexpected EOF while parsing", "\\", true),
    ("@dec", SyntaxErrorKind::Syntax, "expected 'def' or 'class' after a decorator", "", true),
    ("try:\n    pass", SyntaxErrorKind::Syntax, "expected 'except' or 'finally' block", "", true),
    ("try:\n    pass\nx = 1", SyntaxErrorKind::Syntax, "expected 'except' or 'finally' block", "x", false),
];

#[test]
fn layout_and_incomplete_errors() {
    let mut failures = Vec::new();
    for &(src, kind, message, text, incomplete) in OTHERS {
        let e = err(src);
        let got = src.get(e.span.range()).unwrap_or("<bad span>");
        if e.kind != kind || e.message != message || got != text || e.incomplete != incomplete {
            failures.push(format!(
                "{src:?}\n   want {kind:?} {message:?} at {text:?} incomplete={incomplete}\n    got {:?} {:?} at {got:?} incomplete={}",
                e.kind, e.message, e.incomplete
            ));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn labels_point_at_the_other_place() {
    let src = "x = foo(1,\n        2";
    let e = err(src);
    assert_eq!(e.labels.len(), 1);
    assert_eq!(&src[e.labels[0].0.range()], "(");

    let src = "x = [1,\n 2)";
    let e = err(src);
    assert_eq!(&src[e.labels[0].0.range()], "[");

    // Both lines of an inconsistent dedent are labelled.
    let src = "if x:\n        a\n    b\n";
    let e = err(src);
    let labelled: Vec<&str> = e.labels.iter().map(|(s, _)| &src[s.range()]).collect();
    assert_eq!(labelled, ["    ", "        "]);
    assert!(e.labels[0].1.contains("4 columns"));
    assert!(e.labels[1].1.contains("8 columns"));

    // The header that needs a body is labelled.
    let src = "if x:\npass";
    let e = err(src);
    assert_eq!(&src[e.labels[0].0.range()], "if x:");
}

#[test]
fn errors_after_the_first_line_point_at_the_right_line() {
    let src = "x = 1\ny = 2\nz = (3,\n4]\n";
    let e = err(src);
    assert_eq!(aio_grammar::line_number(src, e.span.start as usize), 4);
    let src = "a = 1\r\nb = 'oops\r\nc = 3\r\n";
    let e = err(src);
    assert_eq!(e.message, "unterminated string literal (detected at line 2)");
}

#[test]
fn unknown_escapes_are_not_errors() {
    assert!(parse_module("x = '\\d\\w\\q'").is_ok());
    assert!(parse_module("x = b'\\d'").is_ok());
}

#[test]
fn display_names_the_python_exception() {
    assert_eq!(err("  x").to_string(), "IndentationError: unexpected indent");
    assert_eq!(err("x = )").to_string(), "SyntaxError: unmatched ')'");
}

/// After a parse error the rest of the source is read, as CPython's
/// tokenizer does: a bracket still open at the end that was opened on an
/// earlier line than where the parser stopped is what gets blamed, and a
/// later tokenizer error wins over the parser's.
#[test]
fn what_the_rest_of_the_source_says() {
    let cases: &[(&str, &str, &str)] = &[
        ("total = sum([1, 2, 3]\nprint(total)\n", "'(' was never closed", "("),
        ("d = {\"a\": 1,\n\"b\": 2\nprint(d)\n", "'{' was never closed", "{"),
        ("x = (1 2\ny = 3\n", "'(' was never closed", "("),
        ("foo(a b\n", "'(' was never closed", "("),
        // Where the parser stopped on the bracket's own line, its message stands.
        ("foo(a b c\n", "invalid syntax. Perhaps you forgot a comma?", "a b"),
        ("x = f(a b)\ny = (\n", "invalid syntax. Perhaps you forgot a comma?", "a b"),
        ("print(\"a\"\n\"b\")\nx = \"unterminated\n", "unterminated string literal (detected at line 3)", "\"unterminated"),
        ("x = [1, 2\ny = 3)\n", "closing parenthesis ')' does not match opening parenthesis '[' on line 1", ")"),
    ];
    let mut failures = Vec::new();
    for &(src, message, text) in cases {
        let e = err(src);
        let got = src.get(e.span.range()).unwrap_or("<bad span>");
        if e.message != message || got != text || e.incomplete {
            failures
                .push(format!("{src:?}\n   want {message:?} at {text:?}\n    got {:?} at {got:?} incomplete={}", e.message, e.incomplete));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
