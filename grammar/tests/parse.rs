//! Successful parses: the AST shape of the tricky constructs, written as the
//! S-expressions of `common::Dumper`, the same dump CPython's `ast` module gives
//! for these sources (the expectations in `CPYTHON_SHAPES` were produced by it).

mod common;
use aio_grammar::ast::*;
use aio_grammar::parse_module;
use common::{shape, shape_with_spans};

/// The dump of a source holding one expression statement.
fn expr(src: &str) -> String {
    let s = shape(src);
    s.strip_prefix("(expr ").and_then(|s| s.strip_suffix(')')).map_or(s.clone(), str::to_string)
}

/// The single expression of a one-statement source.
fn parse_expr(src: &str) -> Expr {
    let mut m = parse_module(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
    match m.body.pop().map(|s| s.kind) {
        Some(StmtKind::Expr(e)) => e,
        Some(StmtKind::Assign { value, .. }) => value,
        other => panic!("not an expression: {other:?}"),
    }
}

#[test]
fn precedence() {
    assert_eq!(expr("-2**2"), "(neg (** int:2 int:2))");
    assert_eq!(expr("2**-1"), "(** int:2 (neg int:1))");
    assert_eq!(expr("2**3**2"), "(** int:2 (** int:3 int:2))");
    assert_eq!(expr("1 + 2 * 3"), "(+ int:1 (* int:2 int:3))");
    assert_eq!(expr("1 - 2 - 3"), "(- (- int:1 int:2) int:3)");
    assert_eq!(expr("not a == b"), "(not (cmp a == b))");
    assert_eq!(expr("not a and b or c"), "(or (and (not a) b) c)");
    assert_eq!(expr("a or b or c"), "(or a b c)");
    assert_eq!(expr("(a or b) or c"), "(or (or a b) c)");
    assert_eq!(expr("a | b ^ c & d << e + f"), "(| a (^ b (& c (<< d (+ e f)))))");
    assert_eq!(expr("~a + -b - +c"), "(- (+ (~ a) (neg b)) (pos c))");
    assert_eq!(expr("a @ b // c % d / e"), "(/ (% (// (@ a b) c) d) e)");
    assert_eq!(expr("-await x ** 2"), "(neg (** (await x) int:2))");
    assert_eq!(expr("await f(x)[1].y"), "(await (. (sub (call f [x] []) int:1) y))");
    assert_eq!(expr("not not a"), "(not (not a))");
    assert_eq!(expr("- - a"), "(neg (neg a))");
    assert_eq!(expr("a if b else c if d else e"), "(ifexp b a (ifexp d c e))");
    assert_eq!(expr("a is not b"), "(cmp a is-not b)");
    assert_eq!(expr("a not in b"), "(cmp a not-in b)");
}

#[test]
fn chained_comparisons() {
    assert_eq!(expr("a < b <= c"), "(cmp a < b <= c)");
    assert_eq!(expr("a == b != c > d >= e is f is not g in h not in i"), "(cmp a == b != c > d >= e is f is-not g in h not-in i)");
}

#[test]
fn lambdas() {
    assert_eq!(expr("lambda: a if b else c"), "(lambda (params [] [] _ [] _) (ifexp b a c))");
    assert_eq!(
        expr("lambda a, /, b=1, *args, c, d=2, **kw: 0"),
        "(lambda (params [(a _ _)] [(b _ int:1)] (args _ _) [(c _ _) (d _ int:2)] (kw _ _)) int:0)"
    );
    assert_eq!(expr("lambda *, k: k"), "(lambda (params [] [] _ [(k _ _)] _) k)");
    assert_eq!(expr("lambda x,: x"), "(lambda (params [] [(x _ _)] _ [] _) x)");
    assert_eq!(expr("lambda *a, **k: 0"), "(lambda (params [] [] (a _ _) [] (k _ _)) int:0)");
    assert_eq!(expr("lambda: (yield)"), "(lambda (params [] [] _ [] _) (yield _))");
    assert_eq!(expr("a if b else lambda: c"), "(ifexp b a (lambda (params [] [] _ [] _) c))");
    assert_eq!(expr("lambda x=lambda: 1: x"), "(lambda (params [] [(x _ (lambda (params [] [] _ [] _) int:1))] _ [] _) x)");
}

#[test]
fn assignments() {
    assert_eq!(shape("a, *b, c = d"), "(= [(tuple [a (* b) c])] d)");
    assert_eq!(shape("[a, *b] = c"), "(= [(list [a (* b)])] c)");
    assert_eq!(shape("*a, = b"), "(= [(tuple [(* a)])] b)");
    assert_eq!(shape("a = b = c = 1"), "(= [a b c] int:1)");
    assert_eq!(
        shape("a.b, c[1], (d, e) = 1, 2, (3, 4)"),
        "(= [(tuple [(. a b) (sub c int:1) (tuple [d e])])] (tuple [int:1 int:2 (tuple [int:3 int:4])]))"
    );
    assert_eq!(shape("x: int = 1"), "(ann x int int:1)");
    assert_eq!(shape("x: list[int]"), "(ann x (sub list int) _)");
    assert_eq!(shape("(x): int"), "(ann x int _)");
    assert_eq!(shape("x += 1"), "(aug x + int:1)");
    assert_eq!(shape("x //= y"), "(aug x // y)");
    assert_eq!(shape("x.y **= 2"), "(aug (. x y) ** int:2)");
    assert_eq!(shape("x = yield"), "(= [x] (yield _))");
    assert_eq!(shape("x = yield a, b"), "(= [x] (yield (tuple [a b])))");
    assert_eq!(shape("x = *a, b"), "(= [x] (tuple [(* a) b]))");
    assert_eq!(shape("return *a, b"), "(return (tuple [(* a) b]))");
}

/// Sources and the dump of CPython 3.11's AST for them.
const CPYTHON_SHAPES: &[(&str, &str)] = &[
    ("x[1:2, ::3]", "(expr (sub x (tuple [(slice int:1 int:2 _) (slice _ _ int:3)])))"),
    ("x[::]", "(expr (sub x (slice _ _ _)))"),
    ("x[a:b:c, d]", "(expr (sub x (tuple [(slice a b c) d])))"),
    ("x[*a]", "(expr (sub x (tuple [(* a)])))"),
    ("x[*a, b]", "(expr (sub x (tuple [(* a) b])))"),
    ("x[a:=1]", "(expr (sub x (:= a int:1)))"),
    ("x[1:]", "(expr (sub x (slice int:1 _ _)))"),
    ("print(*a, sep=\"\")", "(expr (call print [(* a)] [(kw sep str:\"\")]))"),
    ("f(*a, *b, c=1, **d, e=2, **f)", "(expr (call f [(* a) (* b)] [(kw c int:1) (kw ** d) (kw e int:2) (kw ** f)]))"),
    ("f(x for x in y)", "(expr (call f [(genexp x [(for x y [])])] []))"),
    ("f((x for x in y), 1)", "(expr (call f [(genexp x [(for x y [])]) int:1] []))"),
    ("[x for x in y if x if not x for z in x]", "(expr (listcomp x [(for x y [x (not x)]) (for z x [])]))"),
    ("{k: v for k, v in d.items()}", "(expr (dictcomp k v [(for (tuple [k v]) (call (. d items) [] []) [])]))"),
    ("{x for x in y}", "(expr (setcomp x [(for x y [])]))"),
    ("{**a, 'b': 1, **c}", "(expr (dict (_ a) (str:\"b\" int:1) (_ c)))"),
    ("{*a, b}", "(expr (set [(* a) b]))"),
    ("(a, *b)", "(expr (tuple [a (* b)]))"),
    ("[*a, *b]", "(expr (list [(* a) (* b)]))"),
    ("(yield)", "(expr (yield _))"),
    ("for a, b in x: pass", "(for (tuple [a b]) x {pass} {})"),
    ("for (a, b) in x: pass", "(for (tuple [a b]) x {pass} {})"),
    ("for x, in y: pass", "(for (tuple [x]) y {pass} {})"),
    ("for x in *a, *b: pass", "(for x (tuple [(* a) (* b)]) {pass} {})"),
    ("for x in y:\n    continue\nelse:\n    break", "(for x y {continue} {break})"),
    ("def gen():\n    x = yield\n    y = yield from z\n    yield a, b\n    yield *a, b\n    return *a, b", "(def gen (params [] [] _ [] _) {(= [x] (yield _)) (= [y] (yield-from z)) (expr (yield (tuple [a b]))) (expr (yield (tuple [(* a) b]))) (return (tuple [(* a) b]))} [] _)"),
    ("def f():\n    return a, b", "(def f (params [] [] _ [] _) {(return (tuple [a b]))} [] _)"),
    ("async def main():\n    await x\n    async for a in b: pass\n    async with a as b, c: pass\n    [x async for x in y]\n    [await x for x in y]\n    (x async for x in y if await x)", "(def-async main (params [] [] _ [] _) {(expr (await x)) (for-async a b {pass} {}) (with-async [(a b) (c _)] {pass}) (expr (listcomp x [(for-async x y [])])) (expr (listcomp (await x) [(for x y [])])) (expr (genexp x [(for-async x y [(await x)])]))} [] _)"),
    ("@dec\n@dec.attr(1)[0]\n@(lambda f: f)\n@a if b else c\nclass A(B, C, metaclass=M):\n    x: int = 1\n    def f(self) -> int: return 1", "(class A [B C] [(kw metaclass M)] {(ann x int int:1) (def f (params [] [(self _ _)] _ [] _) {(return int:1)} [] int)} [dec (sub (call (. dec attr) [int:1] []) int:0) (lambda (params [] [(f _ _)] _ [] _) f) (ifexp b a c)])"),
    ("@a.b\nasync def f(): pass", "(def-async f (params [] [] _ [] _) {pass} [(. a b)] _)"),
    ("class E: pass", "(class E [] [] {pass} [])"),
    ("class G(*bases, x=1): pass", "(class G [(* bases)] [(kw x int:1)] {pass} [])"),
    ("if (n := len(a)) > 10: pass", "(if (cmp (:= n (call len [a] [])) > int:10) {pass} {})"),
    ("while chunk := f.read(): pass", "(while (:= chunk (call (. f read) [] [])) {pass} {})"),
    ("f(x := 1)", "(expr (call f [(:= x int:1)] []))"),
    ("[y := 1, y**2]", "(expr (list [(:= y int:1) (** y int:2)]))"),
    ("try:\n    pass\nexcept* ValueError as e:\n    pass\nexcept* (TypeError, KeyError):\n    pass", "(try* {pass} [(except ValueError e {pass}) (except (tuple [TypeError KeyError]) _ {pass})] {} {})"),
    ("try:\n    pass\nexcept:\n    pass\nelse:\n    pass\nfinally:\n    pass", "(try {pass} [(except _ _ {pass})] {pass} {pass})"),
    ("try:\n    pass\nfinally:\n    pass", "(try {pass} [] {} {pass})"),
    ("with (open(a) as f, open(b) as g):\n    pass", "(with [((call open [a] []) f) ((call open [b] []) g)] {pass})"),
    ("with (a, b):\n    pass", "(with [(a _) (b _)] {pass})"),
    ("with (a, b) as c:\n    pass", "(with [((tuple [a b]) c)] {pass})"),
    ("with (a).b as c: pass", "(with [((. a b) c)] {pass})"),
    ("with ():\n    pass", "(with [((tuple []) _)] {pass})"),
    ("global a, b", "(global a b)"),
    ("def f():\n    nonlocal x", "(def f (params [] [] _ [] _) {(nonlocal x)} [] _)"),
    ("del a, b[1], c.d", "(del [a (sub b int:1) (. c d)])"),
    ("del (a, b)", "(del [(tuple [a b])])"),
    ("del [a, b],", "(del [(list [a b])])"),
    ("assert x, \"msg\"", "(assert x str:\"msg\")"),
    ("import a.b.c as d, e", "(import a.b.c as d, e)"),
    ("from m import a as b, c", "(from m a as b, c)"),
    ("from m import (a, b,)", "(from m a, b)"),
    ("from m import *", "(from m *)"),
    ("from a.b import c", "(from a.b c)"),
    ("raise X from Y", "(raise X Y)"),
    ("raise", "(raise _ _)"),
    ("x = 1; y = 2;", "(= [x] int:1)\n(= [y] int:2)"),
    ("if x: y; z", "(if x {(expr y) (expr z)} {})"),
    ("if x:\n    pass\nelif y:\n    pass\nelif z:\n    pass\nelse:\n    pass", "(if x {pass} {(if y {pass} {(if z {pass} {pass})})})"),
    ("while x:\n    pass\nelse:\n    pass", "(while x {pass} {pass})"),
    ("def f(a, b: int = 1, *, c: str, **d: dict) -> None: pass", "(def f (params [] [(a _ _) (b int int:1)] _ [(c str _)] (d dict _)) {pass} [] None)"),
    ("def f(a, b, /, c): pass", "(def f (params [(a _ _) (b _ _)] [(c _ _)] _ [] _) {pass} [] _)"),
    ("def f(a=1, /, b=2, *c, d, e=3, **f): pass", "(def f (params [(a _ int:1)] [(b _ int:2)] (c _ _) [(d _ _) (e _ int:3)] (f _ _)) {pass} [] _)"),
    ("match = 3\nmatch.x = 1\ncase = 4\ntype = 5\n_ = 6\nprint(match, case, type, _)\nmatch(x)\nmatch[x]", "(= [match] int:3)\n(= [(. match x)] int:1)\n(= [case] int:4)\n(= [type] int:5)\n(= [_] int:6)\n(expr (call print [match case type _] []))\n(expr (call match [x] []))\n(expr (sub match x))"),
    ("café = 1\nñ = café", "(= [café] int:1)\n(= [ñ] café)"),
    ("x = ...\nx = a @ b\nx @= b", "(= [x] ...)\n(= [x] (@ a b))\n(aug x @ b)"),
    ("x = (1,)\nx = ()\nx = [\n    1,\n    2,\n]", "(= [x] (tuple [int:1]))\n(= [x] (tuple []))\n(= [x] (list [int:1 int:2]))"),
    ("x = 1 + \\\n    2", "(= [x] (+ int:1 int:2))"),
    ("x = f(\n    a,\n    b=1,\n)", "(= [x] (call f [a] [(kw b int:1)]))"),
    ("x = a if b else c", "(= [x] (ifexp b a c))"),
    ("return", "(return _)"),];

#[test]
fn shapes_match_cpython() {
    let mut failures = Vec::new();
    for &(src, want) in CPYTHON_SHAPES {
        let got = shape(src);
        if got != want {
            failures.push(format!("{src:?}\n  want {want}\n   got {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn empty_and_comment_only_sources() {
    for src in ["", "\n", "\n\n\n", "# just a comment", "# a\n\n   # b\n\t\n", "  \n\t\n", "\r\n\r\n"] {
        assert_eq!(parse_module(src).map(|m| m.body.len()).ok(), Some(0), "{src:?}");
    }
}

#[test]
fn line_endings_and_trailing_newlines() {
    assert_eq!(shape("x = 1"), "(= [x] int:1)");
    assert_eq!(shape("if x:\n    y"), "(if x {(expr y)} {})");
    assert_eq!(shape("if x:\r\n    y = 1\r\nz = 2\r\n"), "(if x {(= [y] int:1)} {})\n(= [z] int:2)");
    assert_eq!(shape("if x:\r    y = 1\rz = 2"), "(if x {(= [y] int:1)} {})\n(= [z] int:2)");
    assert_eq!(shape("s = '''a\r\nb'''"), "(= [s] str:\"a\\u{a}b\")");
    assert_eq!(shape("x = 1 + \\\r\n  2"), "(= [x] (+ int:1 int:2))");
    assert_eq!(shape("if x:\n    y\n    # trailing comment"), "(if x {(expr y)} {})");
    assert_eq!(shape("if x:\n    y\n\n\n  # odd comment\nz"), "(if x {(expr y)} {})\n(expr z)");
    assert_eq!(shape("x = [1,  # one\n     2]  # two\n"), "(= [x] (list [int:1 int:2]))");
}

#[test]
fn integers() {
    let value = |src: &str| parse_expr(src).kind;
    assert_eq!(value("0x_ff"), ExprKind::Int(255));
    assert_eq!(value("0o17"), ExprKind::Int(15));
    assert_eq!(value("0b1_01"), ExprKind::Int(5));
    assert_eq!(value("1_000_000"), ExprKind::Int(1_000_000));
    assert_eq!(value("00"), ExprKind::Int(0));
    assert_eq!(value("9223372036854775807"), ExprKind::Int(i64::MAX));
    assert!(matches!(value("9223372036854775808"), ExprKind::BigInt(b) if b.to_string() == "9223372036854775808"));
    assert!(matches!(value("0xFFFFFFFFFFFFFFFFFFFF"), ExprKind::BigInt(b) if b.to_string() == "1208925819614629174706175"));
    let digits = "7".repeat(5000);
    assert!(matches!(value(&digits), ExprKind::BigInt(b) if b.to_string() == digits));
    // `-9223372036854775808` negates a big literal, as in Python.
    assert!(matches!(value("-9223372036854775808"), ExprKind::UnaryOp { op: UnaryOp::Neg, .. }));
}

#[test]
fn floats_and_imaginary() {
    let value = |src: &str| parse_expr(src).kind;
    assert_eq!(value("1.5e-3"), ExprKind::Float(1.5e-3));
    assert_eq!(value("1_000.5"), ExprKind::Float(1000.5));
    assert_eq!(value(".5"), ExprKind::Float(0.5));
    assert_eq!(value("5."), ExprKind::Float(5.0));
    assert_eq!(value("1E5"), ExprKind::Float(100000.0));
    assert_eq!(value("1e+5"), ExprKind::Float(100000.0));
    assert_eq!(value("1e400"), ExprKind::Float(f64::INFINITY));
    assert_eq!(value("2j"), ExprKind::Imaginary(2.0));
    assert_eq!(value("1.5J"), ExprKind::Imaginary(1.5));
    assert_eq!(expr("1if x else 2"), "(ifexp x int:1 int:2)");
    assert_eq!(expr("x[1:2]"), "(sub x (slice int:1 int:2 _))");
    assert_eq!(expr("1 .real"), "(. int:1 real)");
}

#[test]
fn string_literals() {
    let value = |src: &str| match parse_expr(src).kind {
        ExprKind::Str(s) => s,
        other => panic!("{src}: {other:?}"),
    };
    assert_eq!(value(r#"'\n\t\\\'\"\x41\u00e9\U0001F600\101\0\a\b\f\v\r'"#), "\n\t\\'\"Aé😀A\0\x07\x08\x0c\x0b\r");
    assert_eq!(value(r"'\d\w'"), "\\d\\w");
    assert_eq!(value("'a\\\nb'"), "ab");
    assert_eq!(value(r"r'\n\d'"), "\\n\\d");
    assert_eq!(value(r"R'\''"), "\\'");
    assert_eq!(value("u'x' U\"y\""), "xy");
    assert_eq!(value("'a' \"b\" '''c''' \"\"\"d\"\"\""), "abcd");
    assert_eq!(value("'''a\nb'''"), "a\nb");
    assert_eq!(value("\"\"\"it's \"quoted\" \"\"\""), "it's \"quoted\" ");
    assert_eq!(value(r"'\777'"), "\u{1ff}");
    assert_eq!(value("''"), "");
    assert_eq!(value("'日本語'"), "日本語");
}

#[test]
fn bytes_literals() {
    let value = |src: &str| match parse_expr(src).kind {
        ExprKind::Bytes(b) => b,
        other => panic!("{src}: {other:?}"),
    };
    assert_eq!(value(r"b'\x41\101\n\d\u00e9'"), b"AA\n\\d\\u00e9");
    assert_eq!(value(r"rb'\d' BR'\x'"), b"\\d\\x");
    assert_eq!(value("b'a' b'b'"), b"ab");
    assert_eq!(value(r"b'\777'"), b"\xff");
}

#[test]
fn fstrings() {
    assert_eq!(
        expr("f'{a}{b!r}{c:>10}{d!s:{e}}{{}}'"),
        "(f [(fv a _ _) (fv b r _) (fv c _ [lit:\">10\"]) (fv d s [(fv e _ _)]) lit:\"{}\"])"
    );
    // `{x=}` prints its own text first and defaults to repr, unless a spec is given.
    assert_eq!(expr("f'{x=}'"), "(f [lit:\"x=\" (fv x r _)])");
    assert_eq!(expr("f'{x = }'"), "(f [lit:\"x = \" (fv x r _)])");
    assert_eq!(expr("f'{x=!s}'"), "(f [lit:\"x=\" (fv x s _)])");
    assert_eq!(expr("f'{x=:>8}'"), "(f [lit:\"x=\" (fv x _ [lit:\">8\"])])");
    assert_eq!(expr("f'{x:{y}.{z}f}'"), "(f [(fv x _ [(fv y _ _) lit:\".\" (fv z _ _) lit:\"f\"])])");
    assert_eq!(expr("f'{n:,}'"), "(f [(fv n _ [lit:\",\"])])");
    assert_eq!(expr("f'{a[\"b\"]}' f\"{a['b']}\""), "(f [(fv (sub a str:\"b\") _ _) (fv (sub a str:\"b\") _ _)])");
    assert_eq!(expr("f'{f\"{x}\"}'"), "(f [(fv (f [(fv x _ _)]) _ _)])");
    assert_eq!(expr("f'''{f'{f\"{x}\"}'}'''"), "(f [(fv (f [(fv (f [(fv x _ _)]) _ _)]) _ _)])");
    assert_eq!(expr("f'{x,}' f'{x, y}'"), "(f [(fv (tuple [x]) _ _) (fv (tuple [x y]) _ _)])");
    assert_eq!(expr("f'{ {\"a\": 1}[\"a\"] }'"), "(f [(fv (sub (dict (str:\"a\" int:1)) str:\"a\") _ _)])");
    assert_eq!(expr("f'{(lambda: 1)()}'"), "(f [(fv (call (lambda (params [] [] _ [] _) int:1) [] []) _ _)])");
    assert_eq!(expr("f'{a!=b}' f'{a<=b}' f'{a==b}'"), "(f [(fv (cmp a != b) _ _) (fv (cmp a <= b) _ _) (fv (cmp a == b) _ _)])");
    assert_eq!(expr("f'{(x:=1)}'"), "(f [(fv (:= x int:1) _ _)])");
    assert_eq!(expr("f'{x:=1}'"), "(f [(fv x _ [lit:\"=1\"])])");
    assert_eq!(expr("f'{yield}'"), "(f [(fv (yield _) _ _)])");
    assert_eq!(expr("f'{await x}'"), "(f [(fv (await x) _ _)])");
    // Escapes apply to the literal text, not inside a raw f-string.
    assert_eq!(expr(r"f'a\n{b}\t'"), "(f [lit:\"a\\u{a}\" (fv b _ _) lit:\"\\u{9}\"])");
    assert_eq!(expr(r"fr'\d{a}\n' rf'{b}\w'"), "(f [lit:\"\\u{5c}d\" (fv a _ _) lit:\"\\u{5c}n\" (fv b _ _) lit:\"\\u{5c}w\"])");
    assert_eq!(expr(r"f'\{x}'"), "(f [lit:\"\\u{5c}\" (fv x _ _)])");
    // Joining with plain literals; no empty literal parts.
    assert_eq!(expr("'a' f'b{c}' 'd' f'' 'e'"), "(f [lit:\"ab\" (fv c _ _) lit:\"de\"])");
    assert_eq!(expr("f'plain'"), "(f [lit:\"plain\"])");
    assert_eq!(expr("f''"), "(f [])");
    assert_eq!(expr("f'''{\na\n+\nb\n}'''"), "(f [(fv (+ a b) _ _)])");
}

#[test]
fn fstring_spans_point_into_the_source() {
    let src = "x = f'ab{foo.bar + 1!r:>{width}}'";
    let e = parse_expr(src);
    let ExprKind::FString(parts) = e.kind else { panic!() };
    let FStringPart::Expr { expr, format_spec, .. } = &parts[1] else { panic!() };
    assert_eq!(&src[expr.span.range()], "foo.bar + 1");
    let ExprKind::BinOp { left, .. } = &expr.kind else { panic!() };
    assert_eq!(&src[left.span.range()], "foo.bar");
    let Some(spec) = format_spec else { panic!() };
    let FStringPart::Expr { expr: w, .. } = &spec[1] else { panic!() };
    assert_eq!(&src[w.span.range()], "width");

    let src = "f'{a}' f\"{f'{inner}'}\"";
    assert_eq!(shape_with_spans(src).matches("@").count(), 2);
    let e = parse_expr(src);
    let ExprKind::FString(parts) = e.kind else { panic!() };
    let FStringPart::Expr { expr, .. } = &parts[1] else { panic!() };
    let ExprKind::FString(inner) = &expr.kind else { panic!() };
    let FStringPart::Expr { expr, .. } = &inner[0] else { panic!() };
    assert_eq!(&src[expr.span.range()], "inner");
    assert_eq!(expr.span.start, 13);
}

#[test]
fn spans() {
    assert_eq!(shape_with_spans("x = f(a)"), "(= [x@1:0-1:1] (call f@1:4-1:5 [a@1:6-1:7] [])@1:4-1:8)@1:0-1:8");
    assert_eq!(
        shape_with_spans("if a:\n    b\nelif c:\n    d\n"),
        "(if a@1:3-1:4 {(expr b@2:4-2:5)@2:4-2:5} {(if c@3:5-3:6 {(expr d@4:4-4:5)@4:4-4:5} {})@3:0-4:5})@1:0-4:5"
    );
    assert_eq!(
        shape_with_spans("@d\nasync def f():\n    pass\n"),
        "(def-async f (params [] [] _ [] _) {pass@3:4-3:8} [d@1:1-1:2] _)@2:0-3:8"
    );
    assert_eq!(shape_with_spans("(a, b)"), "(expr (tuple [a@1:1-1:2 b@1:4-1:5])@1:0-1:6)@1:0-1:6");
    assert_eq!(shape_with_spans("a, b"), "(expr (tuple [a@1:0-1:1 b@1:3-1:4])@1:0-1:4)@1:0-1:4");
    assert_eq!(shape_with_spans("(a)"), "(expr a@1:1-1:2)@1:0-1:3");
    assert_eq!(
        shape_with_spans("sum(x for x in y)"),
        "(expr (call sum@1:0-1:3 [(genexp x@1:4-1:5 [(for x@1:10-1:11 y@1:15-1:16 [])])@1:3-1:17] [])@1:0-1:17)@1:0-1:17"
    );
    let src = "try:\n    a\nexcept E as e:\n    b\n";
    let m = parse_module(src).unwrap();
    let StmtKind::Try { handlers, .. } = &m.body[0].kind else { panic!() };
    assert_eq!(&src[handlers[0].span.range()], "except E as e:");
    let src = "import a.b as c";
    let m = parse_module(src).unwrap();
    let StmtKind::Import(names) = &m.body[0].kind else { panic!() };
    assert_eq!(&src[names[0].name.span.range()], "a.b");
    assert_eq!(names[0].name.name, "a.b");
}

#[test]
fn statements_on_one_line_and_blocks() {
    assert_eq!(shape("if x: y = 1; z = 2"), "(if x {(= [y] int:1) (= [z] int:2)} {})");
    assert_eq!(shape("while x: pass"), "(while x {pass} {})");
    assert_eq!(shape("class A: pass"), "(class A [] [] {pass} [])");
    assert_eq!(shape("def f(): return 1"), "(def f (params [] [] _ [] _) {(return int:1)} [] _)");
    assert_eq!(shape("x = 1;"), "(= [x] int:1)");
    assert_eq!(
        shape("def f():\n    if x:\n        return 1\n    return 2\nf()"),
        "(def f (params [] [] _ [] _) {(if x {(return int:1)} {}) (return int:2)} [] _)\n(expr (call f [] []))"
    );
    assert_eq!(shape("if x:\n\tif y:\n\t\tz\n\tw"), "(if x {(if y {(expr z)} {}) (expr w)} {})");
}

#[test]
fn soft_keywords_are_names() {
    assert_eq!(shape("match = 3"), "(= [match] int:3)");
    assert_eq!(shape("match(x)"), "(expr (call match [x] []))");
    assert_eq!(shape("case, type, _ = 1, 2, 3"), "(= [(tuple [case type _])] (tuple [int:1 int:2 int:3]))");
    assert_eq!(shape("print(match, case)"), "(expr (call print [match case] []))");
}

#[test]
fn unicode_identifiers() {
    assert_eq!(shape("café = 1\nñandú = café"), "(= [café] int:1)\n(= [ñandú] café)");
    assert_eq!(shape("π = 2.5"), format!("(= [π] float:{:016x})", 2.5f64.to_bits()));
    assert_eq!(shape("変数 = 1"), "(= [変数] int:1)");
}

#[test]
fn await_and_yield_parse_anywhere() {
    // Scope rules are the compiler's business.
    assert_eq!(shape("await x"), "(expr (await x))");
    assert_eq!(shape("x = [await y async for y in z]"), "(= [x] (listcomp (await y) [(for-async y z [])]))");
    assert_eq!(shape("yield x"), "(expr (yield x))");
    assert_eq!(shape("yield from g()"), "(expr (yield-from (call g [] [])))");
    assert_eq!(shape("async with a: pass"), "(with-async [(a _)] {pass})");
    assert_eq!(shape("async for x in y: pass"), "(for-async x y {pass} {})");
}
