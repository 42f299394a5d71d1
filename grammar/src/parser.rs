//! Glue between the layout pass and the lalrpop parser: the helpers the grammar's
//! actions call (target and argument checks, literals), and the wording of parse errors.

use crate::ast::*;
use crate::error::{line_number, SyntaxError, SyntaxErrorKind};
use crate::layout::{Layout, LexResult, Spanned};
pub(crate) use crate::literal::{float, imaginary, int, strings};
use crate::token::Tok;
use lalrpop_util::ParseError;
use std::cell::Cell;
use std::collections::VecDeque;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_parens, unused_variables, dead_code)]
    grammar
);

/// lalrpop's error with our token and error types.
pub(crate) type PError<'s> = ParseError<usize, Tok<'s>, SyntaxError>;
/// The result of a fallible grammar action.
pub(crate) type PResult<'s, T> = Result<T, PError<'s>>;

fn fail<'s, T>(message: impl Into<String>, span: Span) -> PResult<'s, T> {
    Err(ParseError::User { error: SyntaxError::new(message, span) })
}

fn user<'s>(error: SyntaxError) -> PError<'s> {
    ParseError::User { error }
}

/// Parses a whole source text.
pub fn parse_module(src: &str) -> Result<Module, SyntaxError> {
    if let Some(i) = src.find('\0') {
        return Err(SyntaxError::new("source code cannot contain null bytes", Span::new(i, i + 1)));
    }
    let pulled = Cell::new(0usize);
    let last = Cell::new(None);
    let tokens = Counted { inner: SoftKeywords::new(WithParens::new(Layout::new(src))), pulled: &pulled, last: &last };
    grammar::ModuleParser::new().parse(src, tokens).map_err(|e| {
        let from_lexer = matches!(last.get(), Some(Err(())));
        let reached = match last.get() {
            Some(Ok(at)) => Some(at),
            _ => None,
        };
        let e = explain(src, e, || Box::new(Layout::new(src)), pulled.get());
        if from_lexer {
            e
        } else {
            read_on(src, e, reached)
        }
    })
}

/// After a parse error, CPython's tokenizer reads the rest of the source,
/// and what it finds there wins: a later tokenizer error (an unterminated
/// string, a bad character), or a bracket still open at the end that was
/// opened on a line before the error, as in
///
/// ```text
/// total = sum([1, 2, 3]      <- '(' was never closed
/// print(total)               <- where the parser stopped
/// ```
fn read_on(src: &str, e: SyntaxError, reached: Option<usize>) -> SyntaxError {
    // A missing comma is found one token further on, where CPython's parser looks.
    let stop = if e.message == "invalid syntax. Perhaps you forgot a comma?" { Some(e.span.end as usize) } else { reached };
    let mut layout = Layout::new(src);
    let mut stop_line = None;
    while let Some(t) = layout.next() {
        match t {
            Ok((l, _, _)) => {
                if stop_line.is_none() && stop.is_some_and(|s| l >= s) {
                    stop_line = Some(line_number(src, l));
                }
            }
            Err(later) if layout.at_end() => {
                let opened = line_number(src, later.span.start as usize);
                if stop_line.is_none_or(|l| l > opened) {
                    return SyntaxError { incomplete: false, ..later };
                }
                return e;
            }
            Err(later) => return later,
        }
    }
    e
}

/// Parses the expression `src[start..end]` of an f-string replacement field.
pub(crate) fn parse_fstring_expr(src: &str, start: usize, end: usize) -> Result<Expr, SyntaxError> {
    let make = || -> Box<dyn Iterator<Item = LexResult<'_>> + '_> {
        Box::new(
            std::iter::once(Ok((start, Tok::LParen, start)))
                .chain(Layout::for_fstring(src, start, end))
                .chain([Ok((end, Tok::RParen, end)), Ok((end, Tok::Newline, end))]),
        )
    };
    let pulled = Cell::new(0usize);
    let last = Cell::new(None);
    let result = grammar::ModuleParser::new().parse(src, Counted { inner: make(), pulled: &pulled, last: &last });
    let mut module = result.map_err(|e| {
        let mut e = explain(src, e, make, pulled.get());
        if !e.message.starts_with("f-string") {
            e.message = format!("f-string: {}", e.message);
        }
        e.incomplete = false;
        e
    })?;
    match module.body.pop() {
        Some(Stmt { kind: StmtKind::Expr(e), .. }) if module.body.is_empty() => Ok(e),
        _ => Err(SyntaxError::new("f-string: invalid syntax", Span::new(start, end))),
    }
}

/// Counts the tokens the parser pulls, so that an error can be put in
/// context, and keeps the last: where a token started, or that the lexer failed.
struct Counted<'c, I> {
    inner: I,
    pulled: &'c Cell<usize>,
    last: &'c Cell<Option<Result<usize, ()>>>,
}

impl<'s, I: Iterator<Item = LexResult<'s>>> Iterator for Counted<'_, I> {
    type Item = LexResult<'s>;
    fn next(&mut self) -> Option<LexResult<'s>> {
        let t = self.inner.next();
        if let Some(t) = &t {
            self.pulled.set(self.pulled.get() + 1);
            self.last.set(Some(t.as_ref().map(|t| t.0).map_err(|_| ())));
        }
        t
    }
}

/// Marks the `(` of `with (a as b, c as d):` so that the grammar can tell it
/// from a parenthesised expression without looking ahead: the paren is the
/// items' own when its match is followed by `:` (as CPython's PEG parser decides).
struct WithParens<'s, I> {
    inner: I,
    queue: VecDeque<LexResult<'s>>,
}

impl<'s, I: Iterator<Item = LexResult<'s>>> WithParens<'s, I> {
    fn new(inner: I) -> Self {
        WithParens { inner, queue: VecDeque::new() }
    }
}

impl<'s, I: Iterator<Item = LexResult<'s>>> Iterator for WithParens<'s, I> {
    type Item = LexResult<'s>;
    fn next(&mut self) -> Option<LexResult<'s>> {
        if let Some(t) = self.queue.pop_front() {
            return Some(t);
        }
        let t = self.inner.next()?;
        if !matches!(t, Ok((_, Tok::With, _))) {
            return Some(t);
        }
        let Some(open) = self.inner.next() else {
            return Some(t);
        };
        let Ok(open @ (_, Tok::LParen, _)) = open else {
            self.queue.push_back(open);
            return Some(t);
        };
        let mut depth = 1usize;
        let mut inside = 0usize;
        let mut first_inside = None;
        while depth > 0 {
            let Some(next) = self.inner.next() else { break };
            if let Ok((_, tok, _)) = &next {
                match tok {
                    Tok::LParen | Tok::LBracket | Tok::LBrace => depth += 1,
                    Tok::RParen | Tok::RBracket | Tok::RBrace => depth -= 1,
                    _ => {}
                }
                if inside == 0 {
                    first_inside = Some(*tok);
                }
                inside += 1;
            } else {
                depth = 0;
            }
            self.queue.push_back(next);
        }
        let after = self.inner.next();
        let colon_follows = matches!(after, Some(Ok((_, Tok::Colon, _))));
        // `with ():` is an empty tuple and `with (yield):` a yield expression.
        let items = inside > 1 && !matches!(first_inside, Some(Tok::Yield | Tok::RParen));
        let open = if colon_follows && items { (open.0, Tok::WithLParen, open.2) } else { open };
        self.queue.push_front(Ok(open));
        self.queue.extend(after);
        Some(t)
    }
}

/// Turns the soft keywords `match` and `case` into keyword tokens where they
/// open a match statement or one of its case blocks, so that `match = 3` and
/// `match(x)` stay ordinary names. A line is a match statement when it starts
/// with `match`, an expression starts after it, and it ends in
/// `:` (no simple statement can); `case` is a keyword at the start of the
/// lines of the indented block that follows.
struct SoftKeywords<'s, I> {
    inner: I,
    queue: VecDeque<LexResult<'s>>,
    line_start: bool,
    /// The block depth (INDENT count).
    depth: usize,
    /// Depths whose lines are case blocks.
    case_depths: Vec<usize>,
    /// A match line was just seen: its INDENT opens a case level.
    pending_match: bool,
}

impl<'s, I: Iterator<Item = LexResult<'s>>> SoftKeywords<'s, I> {
    fn new(inner: I) -> Self {
        SoftKeywords { inner, queue: VecDeque::new(), line_start: true, depth: 0, case_depths: Vec::new(), pending_match: false }
    }

    fn pull(&mut self) -> Option<LexResult<'s>> {
        self.queue.pop_front().or_else(|| self.inner.next())
    }

    /// Reads ahead to the end of the logical line starting after the current
    /// token: whether the second token can follow a `match` keyword, and
    /// whether the line ends in `:`.
    fn is_match_line(&mut self) -> bool {
        let mut i = 0;
        let mut second = None;
        let mut before_newline = None;
        loop {
            if i >= self.queue.len() {
                match self.inner.next() {
                    Some(t) => self.queue.push_back(t),
                    None => break,
                }
            }
            let Some(Ok((_, tok, _))) = self.queue.get(i) else { break };
            let tok = *tok;
            if tok == Tok::Newline {
                break;
            }
            if i == 0 {
                second = Some(tok);
            }
            before_newline = Some(tok);
            i += 1;
        }
        // The subject is an expression (or a starred tuple): something must start it.
        let subject_start = second
            .is_some_and(|t| starts_operand(t) || matches!(t, Tok::LParen | Tok::LBracket | Tok::Minus | Tok::Plus | Tok::Star | Tok::Not));
        subject_start && before_newline == Some(Tok::Colon)
    }
}

impl<'s, I: Iterator<Item = LexResult<'s>>> Iterator for SoftKeywords<'s, I> {
    type Item = LexResult<'s>;
    fn next(&mut self) -> Option<LexResult<'s>> {
        let t = self.pull()?;
        let Ok((l, tok, r)) = t else { return Some(t) };
        let at_start = self.line_start;
        self.line_start = matches!(tok, Tok::Newline | Tok::Indent | Tok::Dedent);
        match tok {
            Tok::Indent => {
                self.depth += 1;
                if std::mem::take(&mut self.pending_match) {
                    self.case_depths.push(self.depth);
                }
            }
            Tok::Dedent => {
                self.depth = self.depth.saturating_sub(1);
                while self.case_depths.last().is_some_and(|&d| d > self.depth) {
                    self.case_depths.pop();
                }
            }
            Tok::Newline => {}
            _ if at_start => self.pending_match = false,
            _ => {}
        }
        if !at_start {
            return Some(t);
        }
        match tok {
            Tok::Name("match") if self.is_match_line() => {
                self.pending_match = true;
                Some(Ok((l, Tok::Match, r)))
            }
            Tok::Name("case") if self.case_depths.last() == Some(&self.depth) => Some(Ok((l, Tok::Case, r))),
            _ => Some(t),
        }
    }
}

// ---------------------------------------------------------------- constructors

/// A statement node.
pub(crate) fn stmt(kind: StmtKind, l: usize, r: usize) -> Stmt {
    Stmt { kind, span: Span::new(l, r) }
}

/// An expression node.
pub(crate) fn expr(kind: ExprKind, l: usize, r: usize) -> Expr {
    Expr { kind, span: Span::new(l, r) }
}

pub(crate) fn name(n: Ident) -> Expr {
    Expr { span: n.span, kind: ExprKind::Name(n.name) }
}

pub(crate) fn binop(left: Expr, op: BinOp, right: Expr, l: usize, r: usize) -> Expr {
    expr(ExprKind::BinOp { left: Box::new(left), op, right: Box::new(right) }, l, r)
}

pub(crate) fn unary(op: UnaryOp, operand: Expr, l: usize, r: usize) -> Expr {
    expr(ExprKind::UnaryOp { op, operand: Box::new(operand) }, l, r)
}

pub(crate) fn boolop(op: BoolOp, first: Expr, rest: Vec<Expr>, l: usize, r: usize) -> Expr {
    let mut values = Vec::with_capacity(rest.len() + 1);
    values.push(first);
    values.extend(rest);
    expr(ExprKind::BoolOp { op, values }, l, r)
}

pub(crate) fn compare(left: Expr, rest: Vec<(CmpOp, Expr)>, l: usize, r: usize) -> Expr {
    let (ops, comparators) = rest.into_iter().unzip();
    expr(ExprKind::Compare { left: Box::new(left), ops, comparators }, l, r)
}

pub(crate) fn tuple(mut items: Vec<Expr>, last: Option<Expr>, l: usize, r: usize) -> Expr {
    items.extend(last);
    expr(ExprKind::Tuple(items), l, r)
}

pub(crate) fn slice(lower: Option<Expr>, upper: Option<Expr>, step: Option<Expr>, l: usize, r: usize) -> Expr {
    expr(ExprKind::Slice { lower: lower.map(Box::new), upper: upper.map(Box::new), step: step.map(Box::new) }, l, r)
}

/// `a[*b]` indexes with the tuple `(*b,)`.
pub(crate) fn lone_subscript(e: Expr) -> Expr {
    if matches!(e.kind, ExprKind::Starred(_)) {
        let span = e.span;
        return Expr { kind: ExprKind::Tuple(vec![e]), span };
    }
    e
}

pub(crate) fn dotted(mut d: Ident, n: Ident) -> Ident {
    d.name.push('.');
    d.name.push_str(&n.name);
    d.span = d.span.to(n.span);
    d
}

// ---------------------------------------------------------------- checks

/// CPython's name for the kind of an expression, as its messages use it.
pub(crate) fn expr_name(e: &Expr) -> &'static str {
    match &e.kind {
        ExprKind::Name(_) => "name",
        ExprKind::Attribute { .. } => "attribute",
        ExprKind::Subscript { .. } => "subscript",
        ExprKind::Starred(_) => "starred",
        ExprKind::List(_) => "list",
        ExprKind::Tuple(_) => "tuple",
        ExprKind::Lambda { .. } => "lambda",
        ExprKind::Call { .. } => "function call",
        ExprKind::BoolOp { .. } | ExprKind::BinOp { .. } | ExprKind::UnaryOp { .. } => "expression",
        ExprKind::GeneratorExp { .. } => "generator expression",
        ExprKind::Yield(_) | ExprKind::YieldFrom(_) => "yield expression",
        ExprKind::Await(_) => "await expression",
        ExprKind::ListComp { .. } => "list comprehension",
        ExprKind::SetComp { .. } => "set comprehension",
        ExprKind::DictComp { .. } => "dict comprehension",
        ExprKind::Dict(_) => "dict literal",
        ExprKind::Set(_) => "set display",
        ExprKind::FString(_) => "f-string expression",
        ExprKind::None => "None",
        ExprKind::True => "True",
        ExprKind::False => "False",
        ExprKind::Ellipsis => "ellipsis",
        ExprKind::Int(_) | ExprKind::BigInt(_) | ExprKind::Float(_) | ExprKind::Imaginary(_) | ExprKind::Str(_) | ExprKind::Bytes(_) => {
            "literal"
        }
        ExprKind::Compare { .. } => "comparison",
        ExprKind::IfExp { .. } => "conditional expression",
        ExprKind::NamedExpr { .. } => "named expression",
        ExprKind::Slice { .. } => "slice",
    }
}

/// Whether CPython would add "here. Maybe you meant '==' instead of '='?" to a bad
/// assignment target: the target reads like the left side of a comparison.
fn reads_like_comparison(e: &Expr) -> bool {
    !matches!(
        e.kind,
        ExprKind::List(_)
            | ExprKind::Tuple(_)
            | ExprKind::GeneratorExp { .. }
            | ExprKind::True
            | ExprKind::False
            | ExprKind::None
            | ExprKind::BoolOp { .. }
            | ExprKind::UnaryOp { op: UnaryOp::Not, .. }
            | ExprKind::Compare { .. }
            | ExprKind::IfExp { .. }
            | ExprKind::Lambda { .. }
            | ExprKind::NamedExpr { .. }
            | ExprKind::Yield(_)
            | ExprKind::YieldFrom(_)
            | ExprKind::Starred(_)
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Assign,
    Delete,
}

/// Checks an assignment (or `del`) target; `top` is false inside a tuple or list.
fn check_target(e: &Expr, how: Target, top: bool, hint: bool) -> Result<(), SyntaxError> {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Attribute { .. } | ExprKind::Subscript { .. } => Ok(()),
        ExprKind::Starred(inner) if how == Target::Assign => {
            if top {
                return Err(SyntaxError::new("starred assignment target must be in a list or tuple", e.span));
            }
            check_target(inner, how, false, false)
        }
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            if how == Target::Assign {
                let mut stars = items.iter().filter(|i| matches!(i.kind, ExprKind::Starred(_)));
                if let (Some(_), Some(second)) = (stars.next(), stars.next()) {
                    return Err(SyntaxError::new("multiple starred expressions in assignment", second.span));
                }
            }
            items.iter().try_for_each(|i| check_target(i, how, false, false))
        }
        ExprKind::Yield(_) | ExprKind::YieldFrom(_) if how == Target::Assign => {
            Err(SyntaxError::new("assignment to yield expression not possible", e.span))
        }
        _ => {
            let verb = if how == Target::Assign { "assign to" } else { "delete" };
            let mut message = format!("cannot {verb} {}", expr_name(e));
            if hint && reads_like_comparison(e) {
                message += " here. Maybe you meant '==' instead of '='?";
            }
            Err(SyntaxError::new(message, e.span))
        }
    }
}

/// Rejects a lone `*a` where only a value may stand.
fn not_starred<'s>(e: Expr) -> PResult<'s, Expr> {
    if matches!(e.kind, ExprKind::Starred(_)) {
        return fail("can't use starred expression here", e.span);
    }
    Ok(e)
}

pub(crate) fn not_starred_opt<'s>(e: Option<Expr>) -> PResult<'s, Option<Expr>> {
    e.map(not_starred).transpose()
}

pub(crate) fn paren_starred<'s>(e: Expr) -> PResult<'s, Expr> {
    fail("cannot use starred expression here", e.span)
}

pub(crate) fn expr_stmt<'s>(e: Expr, l: usize, r: usize) -> PResult<'s, Stmt> {
    Ok(stmt(StmtKind::Expr(not_starred(e)?), l, r))
}

pub(crate) fn assign<'s>(first: Expr, mut rest: Vec<Expr>, l: usize, r: usize) -> PResult<'s, Stmt> {
    let value = not_starred(rest.pop().expect("at least one '=' value"))?;
    let single = rest.is_empty();
    let mut targets = Vec::with_capacity(rest.len() + 1);
    targets.push(first);
    targets.extend(rest);
    for t in &targets {
        check_target(t, Target::Assign, true, single).map_err(user)?;
    }
    Ok(stmt(StmtKind::Assign { targets, value }, l, r))
}

pub(crate) fn aug_assign<'s>(target: Expr, op: BinOp, value: Expr, l: usize, r: usize) -> PResult<'s, Stmt> {
    if !matches!(target.kind, ExprKind::Name(_) | ExprKind::Attribute { .. } | ExprKind::Subscript { .. }) {
        let what = expr_name(&target);
        return fail(format!("'{what}' is an illegal expression for augmented assignment"), target.span);
    }
    let value = not_starred(value)?;
    Ok(stmt(StmtKind::AugAssign { target, op, value }, l, r))
}

pub(crate) fn ann_assign<'s>(target: Expr, annotation: Expr, value: Option<Expr>, l: usize, r: usize) -> PResult<'s, Stmt> {
    match target.kind {
        ExprKind::Name(_) | ExprKind::Attribute { .. } | ExprKind::Subscript { .. } => {}
        ExprKind::Tuple(_) => return fail("only single target (not tuple) can be annotated", target.span),
        ExprKind::List(_) => return fail("only single target (not list) can be annotated", target.span),
        _ => return fail("illegal target for annotation", target.span),
    }
    let value = not_starred_opt(value)?;
    Ok(stmt(StmtKind::AnnAssign { target, annotation, value }, l, r))
}

pub(crate) fn delete<'s>(targets: Vec<Expr>, l: usize, r: usize) -> PResult<'s, Stmt> {
    for t in &targets {
        check_target(t, Target::Delete, true, false).map_err(user)?;
    }
    Ok(stmt(StmtKind::Delete(targets), l, r))
}

pub(crate) fn raise(e: Option<(Expr, Option<Expr>)>, l: usize, r: usize) -> Stmt {
    let (exc, cause) = match e {
        Some((exc, cause)) => (Some(exc), cause),
        None => (None, None),
    };
    stmt(StmtKind::Raise { exc, cause }, l, r)
}

pub(crate) fn relative_import<'s>(dots: Span, _l: usize, _r: usize) -> PResult<'s, Stmt> {
    Err(user(
        SyntaxError::new("relative imports are not supported in .aio", dots)
            .note("import a module beside the script by its name: `from helpers import f` finds helpers.aio"),
    ))
}

pub(crate) fn named_expr<'s>(target: Expr, value: Expr, l: usize, r: usize) -> PResult<'s, Expr> {
    let ExprKind::Name(name) = target.kind else {
        return fail(format!("cannot use assignment expressions with {}", expr_name(&target)), target.span);
    };
    let target = Ident { name, span: target.span };
    Ok(expr(ExprKind::NamedExpr { target, value: Box::new(value) }, l, r))
}

// ---------------------------------------------------------------- compound statements

/// Where a block ends: its last statement's end.
fn block_end(body: &[Stmt]) -> u32 {
    body.last().map_or(0, |s| s.span.end)
}

pub(crate) fn if_stmt(l: usize, test: Expr, body: Vec<Stmt>, elifs: Vec<(usize, Expr, Vec<Stmt>)>, orelse: Option<Vec<Stmt>>) -> Stmt {
    let mut tail = orelse.unwrap_or_default();
    for (el, test, body) in elifs.into_iter().rev() {
        let end = block_end(&body).max(block_end(&tail));
        tail = vec![Stmt { kind: StmtKind::If { test, body, orelse: tail }, span: Span { start: el as u32, end } }];
    }
    let end = block_end(&body).max(block_end(&tail));
    Stmt { kind: StmtKind::If { test, body, orelse: tail }, span: Span { start: l as u32, end } }
}

pub(crate) fn match_stmt(l: usize, subject: Expr, cases: Vec<MatchCase>) -> Stmt {
    let end = cases.last().map_or(subject.span.end, |c| block_end(&c.body));
    Stmt { kind: StmtKind::Match { subject, cases }, span: Span { start: l as u32, end } }
}

/// A pattern node.
pub(crate) fn pattern(kind: PatternKind, l: usize, r: usize) -> Pattern {
    Pattern { kind, span: Span::new(l, r) }
}

/// A bare name is a capture (or the wildcard `_`); a dotted name is a value.
pub(crate) fn name_pattern(e: Expr) -> Pattern {
    let span = e.span;
    let kind = match e.kind {
        ExprKind::Name(n) if n == "_" => PatternKind::As { pattern: None, name: None },
        ExprKind::Name(name) => PatternKind::As { pattern: None, name: Some(Ident { name, span }) },
        _ => PatternKind::Value(e),
    };
    Pattern { kind, span }
}

/// `*name`, or `*_` (no name).
pub(crate) fn star_pattern(n: Ident, l: usize, r: usize) -> Pattern {
    let name = if n.name == "_" { None } else { Some(n) };
    pattern(PatternKind::Star(name), l, r)
}

pub(crate) fn as_pattern<'s>(p: Pattern, n: Ident, l: usize, r: usize) -> PResult<'s, Pattern> {
    if n.name == "_" {
        return fail("cannot use '_' as a target", n.span);
    }
    Ok(pattern(PatternKind::As { pattern: Some(Box::new(p)), name: Some(n) }, l, r))
}

pub(crate) fn or_pattern(first: Pattern, rest: Vec<Pattern>, l: usize, r: usize) -> Pattern {
    let mut alts = vec![first];
    alts.extend(rest);
    pattern(PatternKind::Or(alts), l, r)
}

pub(crate) fn sequence_pattern<'s>(mut items: Vec<Pattern>, last: Option<Pattern>, l: usize, r: usize) -> PResult<'s, Pattern> {
    items.extend(last);
    if items.iter().filter(|p| matches!(p.kind, PatternKind::Star(_))).count() > 1 {
        return fail("multiple starred names in sequence pattern", Span::new(l, r));
    }
    Ok(pattern(PatternKind::Sequence(items), l, r))
}

/// Adjacent string literals as a pattern; an f-string is not a literal.
pub(crate) fn string_pattern<'s>(src: &'s str, parts: Vec<(usize, &'s str)>, l: usize, r: usize) -> PResult<'s, Pattern> {
    let e = strings(src, parts, l, r)?;
    if matches!(e.kind, ExprKind::FString(_)) {
        return fail("patterns may only match literals and attribute lookups", e.span);
    }
    Ok(pattern(PatternKind::Value(e), l, r))
}

/// `real + imag` or `real - imag` in a pattern: the right side must be imaginary.
pub(crate) fn complex_pattern<'s>(a: Expr, op: BinOp, b: Expr, l: usize, r: usize) -> PResult<'s, Expr> {
    if !matches!(b.kind, ExprKind::Imaginary(_)) {
        return fail("imaginary number required in complex literal", b.span);
    }
    if matches!(a.kind, ExprKind::Imaginary(_))
        || matches!(&a.kind, ExprKind::UnaryOp { operand, .. } if matches!(operand.kind, ExprKind::Imaginary(_)))
    {
        return fail("real number required in complex literal", a.span);
    }
    Ok(binop(a, op, b, l, r))
}

pub(crate) fn mapping_pattern<'s>(items: Vec<(Option<Expr>, Pattern)>, l: usize, r: usize) -> PResult<'s, Pattern> {
    let (mut keys, mut patterns, mut rest) = (Vec::new(), Vec::new(), None);
    let count = items.len();
    for (i, (k, p)) in items.into_iter().enumerate() {
        match k {
            Some(k) => {
                if rest.is_some() {
                    return fail("invalid syntax", k.span);
                }
                if let ExprKind::Name(_) = k.kind {
                    return fail("invalid syntax", k.span);
                }
                keys.push(k);
                patterns.push(p);
            }
            None => {
                let PatternKind::Star(name) = p.kind else { unreachable!("a `**` item holds a star pattern") };
                match name {
                    Some(n) if i + 1 == count => rest = Some(n),
                    Some(n) => return fail("invalid syntax", n.span),
                    None => return fail("invalid syntax", Span::new(p.span.end as usize - 1, p.span.end as usize)),
                }
            }
        }
    }
    Ok(pattern(PatternKind::Mapping { keys, patterns, rest }, l, r))
}

pub(crate) fn class_pattern<'s>(cls: Expr, args: Vec<(Option<Ident>, Pattern)>, l: usize, r: usize) -> PResult<'s, Pattern> {
    let (mut patterns, mut kwd_attrs, mut kwd_patterns) = (Vec::new(), Vec::<Ident>::new(), Vec::new());
    for (k, p) in args {
        if let PatternKind::Star(_) = p.kind {
            return fail("invalid syntax", p.span);
        }
        match k {
            Some(k) => {
                if kwd_attrs.iter().any(|a| a.name == k.name) {
                    return fail(format!("attribute name repeated in class pattern: {}", k.name), k.span);
                }
                kwd_attrs.push(k);
                kwd_patterns.push(p);
            }
            None if !kwd_attrs.is_empty() => return fail("positional patterns follow keyword patterns", p.span),
            None => patterns.push(p),
        }
    }
    Ok(pattern(PatternKind::Class { cls, patterns, kwd_attrs, kwd_patterns }, l, r))
}

pub(crate) fn while_stmt(l: usize, test: Expr, body: Vec<Stmt>, orelse: Option<Vec<Stmt>>) -> Stmt {
    let orelse = orelse.unwrap_or_default();
    let end = block_end(&body).max(block_end(&orelse));
    Stmt { kind: StmtKind::While { test, body, orelse }, span: Span { start: l as u32, end } }
}

pub(crate) fn for_stmt<'s>(l: usize, target: Expr, iter: Expr, body: Vec<Stmt>, orelse: Option<Vec<Stmt>>) -> PResult<'s, Stmt> {
    check_target(&target, Target::Assign, true, false).map_err(user)?;
    let iter = not_starred(iter)?;
    let orelse = orelse.unwrap_or_default();
    let end = block_end(&body).max(block_end(&orelse));
    let kind = StmtKind::For { is_async: false, target, iter, body, orelse };
    Ok(Stmt { kind, span: Span { start: l as u32, end } })
}

pub(crate) fn except_clause(header: (Option<Expr>, Option<Ident>, bool, Span), body: Vec<Stmt>) -> (ExceptHandler, bool) {
    let (typ, name, star, span) = header;
    (ExceptHandler { typ, name, body, span }, star)
}

pub(crate) fn except_star_bare<'s>(l: usize, r: usize) -> PResult<'s, (Option<Expr>, Option<Ident>, bool, Span)> {
    fail("expected one or more exception types", Span::new(l, r))
}

pub(crate) fn except_tuple<'s>(first: Expr, rest: Vec<Expr>) -> PResult<'s, (Option<Expr>, Option<Ident>, bool, Span)> {
    let span = first.span.to(rest.last().map_or(first.span, |e| e.span));
    Err(user(SyntaxError::new("multiple exception types must be parenthesized", span).note("write them as a tuple: except (A, B):")))
}

pub(crate) fn try_stmt<'s>(
    l: usize,
    body: Vec<Stmt>,
    handlers: Vec<(ExceptHandler, bool)>,
    orelse: Option<Vec<Stmt>>,
    finalbody: Option<Vec<Stmt>>,
) -> PResult<'s, Stmt> {
    let star = handlers.first().is_some_and(|h| h.1);
    if let Some((h, _)) = handlers.iter().find(|h| h.1 != star) {
        return fail("cannot have both 'except' and 'except*' on the same 'try'", h.span);
    }
    let handlers: Vec<ExceptHandler> = handlers.into_iter().map(|h| h.0).collect();
    let orelse = orelse.unwrap_or_default();
    let finalbody = finalbody.unwrap_or_default();
    let handler_end = handlers.last().map_or(0, |h| block_end(&h.body));
    let end = block_end(&body).max(handler_end).max(block_end(&orelse)).max(block_end(&finalbody));
    let kind = StmtKind::Try { body, handlers, orelse, finalbody, star };
    Ok(Stmt { kind, span: Span { start: l as u32, end } })
}

pub(crate) fn with_item<'s>(context: Expr, target: Expr) -> PResult<'s, WithItem> {
    check_target(&target, Target::Assign, true, false).map_err(user)?;
    Ok(WithItem { context, target: Some(target) })
}

pub(crate) fn with_stmt(l: usize, items: Vec<WithItem>, body: Vec<Stmt>) -> Stmt {
    let end = block_end(&body);
    Stmt { kind: StmtKind::With { is_async: false, items, body }, span: Span { start: l as u32, end } }
}

pub(crate) fn make_async(mut s: Stmt, l: usize) -> Stmt {
    match &mut s.kind {
        StmtKind::For { is_async, .. } | StmtKind::With { is_async, .. } => *is_async = true,
        StmtKind::FunctionDef(f) => f.is_async = true,
        _ => {}
    }
    s.span.start = l as u32;
    s
}

pub(crate) fn decorate(decorators: Vec<Expr>, mut s: Stmt) -> Stmt {
    match &mut s.kind {
        StmtKind::FunctionDef(f) => f.decorators = decorators,
        StmtKind::ClassDef(c) => c.decorators = decorators,
        _ => {}
    }
    s
}

// ---------------------------------------------------------------- definitions and calls

/// One entry of a parameter list as written, before its order is checked.
pub(crate) enum ParamItem {
    Plain(Param),
    /// `*` (bare) or `*args`; the span is the whole item.
    Star(Span, Option<Param>),
    DoubleStar(Span, Param),
    Slash(Span),
}

fn params<'s>(items: Vec<ParamItem>) -> PResult<'s, Params> {
    let mut p = Params::default();
    let mut seen_star: Option<Span> = None;
    let mut seen_slash = false;
    let mut seen_default = false;
    let mut kwarg_span: Option<Span> = None;
    for item in items {
        if kwarg_span.is_some() {
            let span = match &item {
                ParamItem::Plain(q) => q.name.span,
                ParamItem::Star(s, _) | ParamItem::DoubleStar(s, _) | ParamItem::Slash(s) => *s,
            };
            return fail("arguments cannot follow var-keyword argument", span);
        }
        match item {
            ParamItem::Slash(span) => {
                if seen_slash {
                    return fail("/ may appear only once", span);
                }
                if seen_star.is_some() {
                    return fail("/ must be ahead of *", span);
                }
                if p.args.is_empty() {
                    return fail("at least one argument must precede /", span);
                }
                seen_slash = true;
                p.posonly = std::mem::take(&mut p.args);
            }
            ParamItem::Star(span, vararg) => {
                if seen_star.is_some() {
                    return fail("* argument may appear only once", span);
                }
                seen_star = Some(span);
                p.vararg = vararg;
            }
            ParamItem::DoubleStar(span, q) => {
                if let (Some(star), None, true) = (seen_star, &p.vararg, p.kwonly.is_empty()) {
                    return fail("named arguments must follow bare *", star);
                }
                kwarg_span = Some(span);
                p.kwarg = Some(q);
            }
            ParamItem::Plain(q) => {
                if seen_star.is_some() {
                    p.kwonly.push(q);
                } else {
                    if q.default.is_some() {
                        seen_default = true;
                    } else if seen_default {
                        return fail("non-default argument follows default argument", q.name.span);
                    }
                    p.args.push(q);
                }
            }
        }
    }
    if let (Some(star), None, true) = (seen_star, &p.vararg, p.kwonly.is_empty()) {
        if p.kwarg.is_none() {
            return fail("named arguments must follow bare *", star);
        }
    }
    let all = p.posonly.iter().chain(&p.args).chain(&p.vararg).chain(&p.kwonly).chain(&p.kwarg);
    let mut seen: Vec<&str> = Vec::new();
    for q in all {
        if seen.contains(&q.name.name.as_str()) {
            return fail(format!("duplicate argument '{}' in function definition", q.name.name), q.name.span);
        }
        seen.push(&q.name.name);
    }
    Ok(p)
}

pub(crate) fn func_def<'s>(l: usize, name: Ident, items: Vec<ParamItem>, returns: Option<Expr>, body: Vec<Stmt>) -> PResult<'s, Stmt> {
    let params = params(items)?;
    let end = block_end(&body);
    let f = FunctionDef { name, bound_as: None, params, body, decorators: Vec::new(), returns, is_async: false };
    Ok(Stmt { kind: StmtKind::FunctionDef(Box::new(f)), span: Span { start: l as u32, end } })
}

pub(crate) fn lambda<'s>(items: Vec<ParamItem>, body: Expr, l: usize, r: usize) -> PResult<'s, Expr> {
    let params = params(items)?;
    Ok(expr(ExprKind::Lambda { params: Box::new(params), body: Box::new(body) }, l, r))
}

/// One argument of a call as written, before its order is checked.
pub(crate) enum ArgItem {
    Positional(Expr),
    /// An unparenthesised generator expression: only valid as the sole argument.
    Generator(Expr),
    Starred(Expr, Span),
    DoubleStarred(Expr, Span),
    /// `key=value`; the key is checked to be a plain name.
    Keyword(Expr, Expr, Span),
}

fn args<'s>(items: Vec<ArgItem>) -> PResult<'s, Vec<Arg>> {
    let n = items.len();
    let mut out = Vec::with_capacity(n);
    let mut seen_keyword = false;
    let mut seen_double = false;
    let mut names: Vec<String> = Vec::new();
    for item in items {
        let generator = matches!(item, ArgItem::Generator(_));
        match item {
            ArgItem::Positional(e) | ArgItem::Generator(e) => {
                if n > 1 && generator {
                    return fail("Generator expression must be parenthesized", e.span);
                }
                if seen_double {
                    return fail("positional argument follows keyword argument unpacking", e.span);
                }
                if seen_keyword {
                    return fail("positional argument follows keyword argument", e.span);
                }
                out.push(Arg::Positional(e));
            }
            ArgItem::Starred(e, span) => {
                if seen_double {
                    return fail("iterable argument unpacking follows keyword argument unpacking", span);
                }
                out.push(Arg::Starred(e));
            }
            ArgItem::DoubleStarred(e, _) => {
                seen_double = true;
                out.push(Arg::DoubleStarred(e));
            }
            ArgItem::Keyword(k, v, span) => {
                let name = match k.kind {
                    ExprKind::Name(name) => name,
                    ExprKind::True | ExprKind::False | ExprKind::None => {
                        return fail(format!("cannot assign to {}", expr_name(&k)), k.span);
                    }
                    _ => {
                        return fail("expression cannot contain assignment, perhaps you meant \"==\"?", span);
                    }
                };
                if names.contains(&name) {
                    return fail(format!("keyword argument repeated: {name}"), k.span);
                }
                names.push(name.clone());
                seen_keyword = true;
                out.push(Arg::Keyword(Ident { name, span: k.span }, v));
            }
        }
    }
    Ok(out)
}

pub(crate) fn call<'s>(src: &str, func: Expr, lparen: usize, mut items: Vec<ArgItem>, l: usize, r: usize) -> PResult<'s, Expr> {
    // A sole generator argument borrows the call's parentheses, as in CPython: `sum(x for x in y)`.
    if let [ArgItem::Generator(g)] = &mut items[..] {
        if src[g.span.end as usize..r].contains(',') {
            return fail("Generator expression must be parenthesized", g.span);
        }
        g.span = Span::new(lparen, r);
    }
    let args = args(items)?;
    Ok(expr(ExprKind::Call { func: Box::new(func), args }, l, r))
}

pub(crate) fn class_def<'s>(l: usize, name: Ident, items: Option<Vec<ArgItem>>, body: Vec<Stmt>) -> PResult<'s, Stmt> {
    let items = items.unwrap_or_default();
    let mut star_spans =
        items.iter().filter_map(|a| if let ArgItem::Starred(_, s) = a { Some(*s) } else { None }).collect::<Vec<_>>().into_iter();
    let double_star_span = items.iter().find_map(|a| if let ArgItem::DoubleStarred(_, s) = a { Some(*s) } else { None });
    let mut bases = Vec::new();
    let mut keywords = Vec::new();
    for a in args(items)? {
        match a {
            Arg::Positional(e) => bases.push(e),
            Arg::Starred(e) => {
                let span = star_spans.next().unwrap_or(e.span);
                bases.push(Expr { kind: ExprKind::Starred(Box::new(e)), span });
            }
            Arg::Keyword(name, value) => keywords.push(Keyword { name, value }),
            Arg::DoubleStarred(e) => {
                let span = double_star_span.unwrap_or(e.span);
                return fail("'**' unpacking in a class definition is not supported in .aio", span);
            }
        }
    }
    let end = block_end(&body);
    let c = ClassDef { name, bound_as: None, bases, keywords, body, decorators: Vec::new() };
    Ok(Stmt { kind: StmtKind::ClassDef(Box::new(c)), span: Span { start: l as u32, end } })
}

pub(crate) fn comprehension<'s>(target: Expr, iter: Expr, ifs: Vec<Expr>, is_async: bool) -> PResult<'s, Comprehension> {
    check_target(&target, Target::Assign, true, false).map_err(user)?;
    Ok(Comprehension { target, iter, ifs, is_async })
}

// ---------------------------------------------------------------- error wording

/// The tokens around a parse error, from a second run of the layout pass.
#[derive(Default)]
struct Context<'s> {
    /// The current logical line's tokens before the offending one.
    line: Vec<Spanned<'s>>,
    /// The previous logical line's tokens.
    prev_line: Vec<Spanned<'s>>,
    /// The rest of the logical line, from the offending token on.
    rest: Vec<Spanned<'s>>,
    /// Brackets open at the offending token.
    depth: usize,
    /// The innermost open bracket, and where it is in `line`.
    innermost: Option<(Tok<'s>, usize)>,
}

impl<'s> Context<'s> {
    fn build(tokens: impl Iterator<Item = LexResult<'s>>, index: usize) -> Context<'s> {
        let mut ctx = Context::default();
        let mut depth = 0usize;
        let mut open: Vec<(Tok<'s>, usize)> = Vec::new();
        for (i, t) in tokens.enumerate() {
            let Ok(t) = t else { break };
            if i >= index {
                if t.1 == Tok::Newline || ctx.rest.len() > 4096 {
                    break;
                }
                ctx.rest.push(t);
                continue;
            }
            match t.1 {
                Tok::Newline | Tok::Indent | Tok::Dedent => {
                    if !ctx.line.is_empty() {
                        ctx.prev_line = std::mem::take(&mut ctx.line);
                    }
                    continue;
                }
                Tok::LParen | Tok::LBracket | Tok::LBrace | Tok::WithLParen => {
                    depth += 1;
                    open.push((t.1, ctx.line.len()));
                }
                Tok::RParen | Tok::RBracket | Tok::RBrace => {
                    depth = depth.saturating_sub(1);
                    open.pop();
                }
                _ => {}
            }
            ctx.line.push(t);
        }
        ctx.depth = depth;
        ctx.innermost = open.last().copied();
        ctx
    }

    fn first(&self) -> Option<Tok<'s>> {
        self.line.first().map(|t| t.1)
    }

    /// The keyword that starts the logical line, looking past `async`.
    fn header_keyword(&self) -> Option<Tok<'s>> {
        match self.line.first()?.1 {
            Tok::Async => self.line.get(1).map(|t| t.1),
            t => Some(t),
        }
    }
}

/// What a block header is called in "expected an indented block after ...".
fn block_owner(line: &[Spanned<'_>]) -> Option<&'static str> {
    let mut toks = line.iter().map(|t| t.1);
    let mut kw = toks.next()?;
    if kw == Tok::Async {
        kw = toks.next()?;
    }
    Some(match kw {
        Tok::If => "'if' statement",
        Tok::Elif => "'elif' statement",
        Tok::Else => "'else' statement",
        Tok::While => "'while' statement",
        Tok::For => "'for' statement",
        Tok::With => "'with' statement",
        Tok::Try => "'try' statement",
        Tok::Finally => "'finally' statement",
        Tok::Except if toks.next() == Some(Tok::Star) => "'except*' statement",
        Tok::Except => "'except' statement",
        Tok::Def => "function definition",
        Tok::Class => "class definition",
        _ => return None,
    })
}

fn is_header(tok: Tok<'_>) -> bool {
    matches!(
        tok,
        Tok::If | Tok::Elif | Tok::Else | Tok::While | Tok::For | Tok::Def | Tok::Class | Tok::Try | Tok::Except | Tok::Finally | Tok::With
    )
}

/// Literal and name tokens: a whole operand on their own.
fn is_atom(tok: Tok<'_>) -> bool {
    matches!(
        tok,
        Tok::Name(_) | Tok::Int(_) | Tok::Float(_) | Tok::Imag(_) | Tok::String(_) | Tok::None | Tok::True | Tok::False | Tok::Ellipsis
    )
}

/// Tokens that can end an expression.
fn ends_expression(tok: Tok<'_>) -> bool {
    is_atom(tok) || matches!(tok, Tok::RParen | Tok::RBracket | Tok::RBrace)
}

/// Tokens that start an expression and cannot continue one.
fn starts_operand(tok: Tok<'_>) -> bool {
    is_atom(tok) || matches!(tok, Tok::Lambda | Tok::Await | Tok::LBrace | Tok::Tilde)
}

/// Operators after which an operand must follow.
fn is_operator(tok: Tok<'_>) -> bool {
    matches!(
        tok,
        Tok::Plus
            | Tok::Minus
            | Tok::Star
            | Tok::Slash
            | Tok::DoubleSlash
            | Tok::Percent
            | Tok::DoubleStar
            | Tok::At
            | Tok::LShift
            | Tok::RShift
            | Tok::Amper
            | Tok::Pipe
            | Tok::Caret
            | Tok::Tilde
            | Tok::Lt
            | Tok::Gt
            | Tok::LtE
            | Tok::GtE
            | Tok::EqEq
            | Tok::NotEq
            | Tok::Assign
            | Tok::Walrus
            | Tok::And
            | Tok::Or
            | Tok::Not
            | Tok::In
            | Tok::Is
            | Tok::If
            | Tok::Else
            | Tok::Await
    )
}

fn is_statement_keyword(tok: Tok<'_>) -> bool {
    matches!(
        tok,
        Tok::Pass
            | Tok::Return
            | Tok::Del
            | Tok::Raise
            | Tok::Import
            | Tok::From
            | Tok::Global
            | Tok::Nonlocal
            | Tok::Assert
            | Tok::Break
            | Tok::Continue
            | Tok::Yield
            | Tok::While
            | Tok::For
            | Tok::Def
            | Tok::Class
            | Tok::With
            | Tok::Try
            | Tok::If
    )
}

/// How the fallback message names a token.
fn describe(src: &str, tok: Tok<'_>, l: usize, r: usize) -> String {
    match tok {
        Tok::Newline => "end of line".into(),
        Tok::Indent => "indent".into(),
        Tok::Dedent => "end of block".into(),
        Tok::Name(n) => format!("name '{n}'"),
        Tok::Int(s) | Tok::Float(s) | Tok::Imag(s) => format!("number {s}"),
        Tok::String(_) => "string".into(),
        Tok::WithLParen => "'('".into(),
        Tok::Match => "'match'".into(),
        Tok::Case => "'case'".into(),
        // The parentheses around an f-string's expression are not in the source.
        Tok::RParen if l == r => "end of the replacement field".into(),
        _ => format!("'{}'", src.get(l..r).unwrap_or("?")),
    }
}

/// Turns lalrpop's error into the sentence a learner should read.
fn explain<'s>(
    src: &'s str,
    err: PError<'s>,
    tokens: impl FnOnce() -> Box<dyn Iterator<Item = LexResult<'s>> + 's>,
    pulled: usize,
) -> SyntaxError {
    match err {
        ParseError::User { error } => error,
        ParseError::UnrecognizedEof { location, expected } => {
            let ctx = Context::build(tokens(), pulled);
            let has = |s: &str| expected.iter().any(|e| e.trim_matches('"') == s);
            let span = Span::new(location, location);
            if has("INDENT") {
                return indented_block_expected(src, &ctx, span).incomplete();
            }
            let e = if has("except") && has("finally") && !has("else") {
                SyntaxError::new("expected 'except' or 'finally' block", span)
            } else if has("def") && has("class") && !has("if") {
                SyntaxError::new("expected 'def' or 'class' after a decorator", span)
            } else {
                SyntaxError::new("unexpected end of input", span)
            };
            e.incomplete()
        }
        ParseError::UnrecognizedToken { token: (l, tok, r), expected } => {
            let ctx = Context::build(tokens(), pulled.saturating_sub(1));
            unexpected_token(src, &ctx, l, tok, r, &expected)
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            SyntaxError::new(format!("invalid syntax: unexpected {}", describe(src, tok, l, r)), Span::new(l, r))
        }
        ParseError::InvalidToken { location } => SyntaxError::new("invalid syntax", Span::new(location, location)),
    }
}

fn indented_block_expected(src: &str, ctx: &Context<'_>, span: Span) -> SyntaxError {
    let header = &ctx.prev_line;
    let mut e = match (block_owner(header), header.first()) {
        (Some(what), Some(first)) => {
            let line = line_number(src, first.0);
            let last = header.last().map_or(first.2, |t| t.2);
            SyntaxError::new(format!("expected an indented block after {what} on line {line}"), span)
                .label(Span::new(first.0, last), "this header needs an indented body")
        }
        _ => SyntaxError::new("expected an indented block", span),
    };
    e = e.note("indent the body of the block, for example by 4 spaces, or write `pass` for an empty one");
    e.with_kind(SyntaxErrorKind::Indentation)
}

fn unexpected_token<'s>(src: &'s str, ctx: &Context<'s>, l: usize, tok: Tok<'s>, r: usize, expected: &[String]) -> SyntaxError {
    let has = |s: &str| expected.iter().any(|e| e.trim_matches('"') == s);
    let span = Span::new(l, r);
    let at_end = src[l.min(src.len())..].trim().is_empty();

    if tok == Tok::Indent {
        return SyntaxError::new("unexpected indent", span)
            .with_kind(SyntaxErrorKind::Indentation)
            .note("this line is indented more than the one before it, but does not start a block");
    }
    if has("INDENT") {
        let e = indented_block_expected(src, ctx, span);
        return if at_end { e.incomplete() } else { e };
    }

    if let [(ps, Tok::Name(n @ ("print" | "exec")), _)] = ctx.line[..] {
        if starts_operand(tok) && tok != Tok::LBrace {
            let end = ctx.rest.last().map_or(r, |t| t.2);
            return SyntaxError::new(format!("Missing parentheses in call to '{n}'. Did you mean {n}(...)?"), Span::new(ps, end));
        }
    }

    if ctx.depth == 0 && tok == Tok::Assign && matches!(ctx.header_keyword(), Some(Tok::If | Tok::Elif | Tok::While)) {
        let start = ctx.line.get(1).map_or(l, |t| t.0);
        let end = ctx.rest.get(1).map_or(r, |t| t.2);
        return SyntaxError::new("invalid syntax. Maybe you meant '==' or ':=' instead of '='?", Span::new(start, end))
            .label(span, "'=' assigns; '==' compares");
    }

    // A lambda's body is one expression: `lambda: pass` is not.
    if is_statement_keyword(tok) && ctx.line.last().is_some_and(|t| t.1 == Tok::Colon) {
        let mut level = 0i32;
        for t in ctx.line.iter().rev().skip(1) {
            match t.1 {
                Tok::RParen | Tok::RBracket | Tok::RBrace => level += 1,
                Tok::LParen | Tok::LBracket | Tok::LBrace => level -= 1,
                Tok::Colon if level == 0 => break,
                Tok::Lambda if level == 0 => {
                    return SyntaxError::new(
                        format!("invalid syntax: a lambda body must be an expression, and '{}' starts a statement", &src[l..r]),
                        span,
                    )
                    .label(Span::new(t.0, t.2), "this lambda")
                    .note("use a def for a function whose body needs statements");
                }
                _ => {}
            }
            if level < 0 {
                break;
            }
        }
    }

    if has(":") && ctx.depth == 0 && ctx.header_keyword().is_some_and(is_header) && tok != Tok::Walrus {
        let word = ctx.line.iter().find(|t| t.1 != Tok::Async).map_or("", |t| &src[t.0..t.2]);
        let e = SyntaxError::new("expected ':'", span);
        if ctx.header_keyword() == Some(Tok::Else) && tok == Tok::If {
            return e.note("'else if' is spelled 'elif' in Python");
        }
        return e.note(format!("end the `{word}` line with ':' to start its block"));
    }

    if has("else") && !has("elif") && !has("pass") {
        let start = ctx.line.iter().rev().find(|t| t.1 == Tok::If).map_or(l, |t| t.0);
        return SyntaxError::new("expected 'else' after 'if' expression", Span::new(start, l.max(start)))
            .note("a conditional expression needs both branches: `a if condition else b`");
    }

    if has("except") && has("finally") && !has("else") {
        return SyntaxError::new("expected 'except' or 'finally' block", span)
            .note("a `try` block must be followed by `except` or `finally` at the same indentation");
    }

    if let (Tok::For | Tok::Async, Some((_, at))) = (tok, ctx.innermost) {
        if let Some(&(ss, star @ (Tok::Star | Tok::DoubleStar), _)) = ctx.line.get(at + 1) {
            let message = if star == Tok::DoubleStar {
                "dict unpacking cannot be used in dict comprehension"
            } else {
                "iterable unpacking cannot be used in comprehension"
            };
            let end = ctx.line.last().map_or(l, |t| t.2);
            return SyntaxError::new(message, Span::new(ss, end));
        }
    }

    if ctx.depth > 0 && starts_operand(tok) && ctx.line.last().is_some_and(|t| ends_expression(t.1)) {
        let prev = ctx.line.last().map_or(l, |t| t.0);
        return SyntaxError::new("invalid syntax. Perhaps you forgot a comma?", Span::new(prev, r));
    }

    if has(":") && matches!(ctx.innermost, Some((Tok::LBrace, _))) && matches!(tok, Tok::Comma | Tok::RBrace) {
        return SyntaxError::new("':' expected after dictionary key", span)
            .note("a dict display pairs every key with a value: {key: value, ...}");
    }

    if let Some(e) = fstring_quote_reused(ctx, l, r) {
        return e;
    }

    if tok == Tok::Walrus {
        let what = match ctx.line.iter().rev().take(2).map(|t| t.1).collect::<Vec<_>>()[..] {
            [Tok::Name(_), Tok::Dot] => Some("attribute"),
            [Tok::RBracket, ..] => Some("subscript"),
            [Tok::RParen, ..] => Some("function call"),
            [Tok::Int(_) | Tok::Float(_) | Tok::String(_), ..] => Some("literal"),
            _ => None,
        };
        if let Some(what) = what {
            return SyntaxError::new(format!("cannot use assignment expressions with {what}"), span)
                .note("only a plain name can be the target of ':='");
        }
    }

    let closes = matches!(tok, Tok::RParen | Tok::RBracket | Tok::RBrace | Tok::Comma);
    if has("name") && (tok == Tok::Newline || closes && ctx.line.last().is_some_and(|t| is_operator(t.1))) {
        if let Some(&(ps, prev, pe)) = ctx.line.last() {
            let message = match prev {
                Tok::Import | Tok::Global | Tok::Nonlocal => {
                    format!("invalid syntax: expected a name after '{}'", &src[ps..pe])
                }
                _ => format!("invalid syntax: expected an expression after {}", describe(src, prev, ps, pe)),
            };
            return SyntaxError::new(message, Span::new(ps, pe));
        }
    }

    let mut e = SyntaxError::new(format!("invalid syntax: unexpected {}", describe(src, tok, l, r)), span);
    match tok {
        Tok::Else | Tok::Elif => {
            e = e.note(format!(
                "'{}' must line up with the `if`{} it belongs to, right after that block",
                &src[l..r],
                if tok == Tok::Else { ", `for`, `while` or `try`" } else { "" }
            ));
        }
        Tok::Except | Tok::Finally => {
            e = e.note(format!("'{}' must line up with its `try`, right after the try block", &src[l..r]));
        }
        Tok::Walrus => {
            e = e.note("an assignment expression needs parentheses here: `(name := value)`");
        }
        Tok::Async => {}
        _ => {}
    }
    if ctx.first().is_none() && tok == Tok::Dedent {
        e.message = "invalid syntax: unexpected end of block".into();
    }
    e
}

/// In Python 3.11 an f-string ends at its own quote even inside braces, so
/// `f"{d["key"]}"` is the f-string `f"{d["` followed by a stray `key`.
fn fstring_quote_reused(ctx: &Context<'_>, l: usize, r: usize) -> Option<SyntaxError> {
    let &(fs, Tok::String(text), fe) = ctx.line.last()? else {
        return None;
    };
    let prefix = &text[..text.find(['\'', '"'])?];
    if fe != l || !prefix.to_ascii_lowercase().contains('f') {
        return None;
    }
    let quote = text[prefix.len()..].chars().next()?;
    let inner = &text[prefix.len() + 1..text.len() - 1];
    let opens = inner.matches('{').count();
    let closes = inner.matches('}').count();
    if opens <= closes {
        return None;
    }
    let other = if quote == '"' { '\'' } else { '"' };
    Some(
        SyntaxError::new("f-string: expecting '}'", Span::new(fs, r))
            .label(Span::new(fe - 1, fe), "the f-string ends at this quote")
            .note(format!("inside an f-string's braces, quote strings with {other} instead of {quote}")),
    )
}
