//! A compact S-expression dump of the AST, in the same format as a dump of
//! CPython's `ast` module, so that shapes can be written down and compared.

#![allow(dead_code)]

use aio_grammar::ast::*;

pub struct Dumper<'a> {
    pub src: &'a str,
    pub spans: bool,
}

fn s(x: &str) -> String {
    let mut out = String::from("\"");
    for ch in x.chars() {
        let o = ch as u32;
        if (32..127).contains(&o) && ch != '\\' && ch != '"' {
            out.push(ch);
        } else {
            out += &format!("\\u{{{o:x}}}");
        }
    }
    out.push('"');
    out
}

fn binop(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::MatMul => "@",
        BinOp::Div => "/",
        BinOp::FloorDiv => "//",
        BinOp::Mod => "%",
        BinOp::Pow => "**",
        BinOp::LShift => "<<",
        BinOp::RShift => ">>",
        BinOp::BitOr => "|",
        BinOp::BitXor => "^",
        BinOp::BitAnd => "&",
    }
}

fn cmpop(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::NotEq => "!=",
        CmpOp::Lt => "<",
        CmpOp::LtE => "<=",
        CmpOp::Gt => ">",
        CmpOp::GtE => ">=",
        CmpOp::Is => "is",
        CmpOp::IsNot => "is-not",
        CmpOp::In => "in",
        CmpOp::NotIn => "not-in",
    }
}

fn float(v: f64) -> String {
    format!("{:016x}", v.to_bits())
}

impl Dumper<'_> {
    fn pos(&self, at: u32) -> (usize, usize) {
        let at = at as usize;
        let before = &self.src[..at];
        let line = before.matches('\n').count() + 1;
        let col = at - before.rfind('\n').map_or(0, |i| i + 1);
        (line, col)
    }

    fn sp(&self, span: Span) -> String {
        if !self.spans {
            return String::new();
        }
        let (a, b) = self.pos(span.start);
        let (c, d) = self.pos(span.end);
        format!("@{a}:{b}-{c}:{d}")
    }

    pub fn e(&self, e: &Expr) -> String {
        let r = self.ex(e, true);
        r + &self.sp(e.span)
    }

    fn e_nospan(&self, e: &Expr) -> String {
        Dumper { src: self.src, spans: false }.e(e)
    }

    fn opt(&self, e: &Option<Expr>) -> String {
        e.as_ref().map_or("_".into(), |e| self.e(e))
    }

    fn optb(&self, e: &Option<Box<Expr>>) -> String {
        e.as_ref().map_or("_".into(), |e| self.e(e))
    }

    fn lst(&self, xs: &[Expr]) -> String {
        format!("[{}]", xs.iter().map(|x| self.e(x)).collect::<Vec<_>>().join(" "))
    }

    fn fparts(&self, parts: &[FStringPart]) -> String {
        let mut out: Vec<String> = Vec::new();
        let mut lit = String::new();
        for p in parts {
            match p {
                FStringPart::Literal(t) => lit += t,
                FStringPart::Expr { expr, conversion, format_spec, debug_text } => {
                    if let Some(d) = debug_text {
                        lit += d;
                    }
                    if !lit.is_empty() {
                        out.push(format!("lit:{}", s(&lit)));
                        lit.clear();
                    }
                    let conv = conversion.map_or("_".to_string(), |c| c.to_string());
                    let spec = format_spec.as_ref().map_or("_".to_string(), |f| self.fparts(f));
                    out.push(format!("(fv {} {conv} {spec})", self.e_nospan(expr)));
                }
            }
        }
        if !lit.is_empty() {
            out.push(format!("lit:{}", s(&lit)));
        }
        format!("[{}]", out.join(" "))
    }

    fn param(&self, p: &Param) -> String {
        format!("({} {} {})", p.name.name, self.opt(&p.annotation), self.opt(&p.default))
    }

    pub fn params(&self, p: &Params) -> String {
        let j = |v: &[Param]| v.iter().map(|p| self.param(p)).collect::<Vec<_>>().join(" ");
        format!(
            "(params [{}] [{}] {} [{}] {})",
            j(&p.posonly),
            j(&p.args),
            p.vararg.as_ref().map_or("_".into(), |p| self.param(p)),
            j(&p.kwonly),
            p.kwarg.as_ref().map_or("_".into(), |p| self.param(p)),
        )
    }

    fn comps(&self, gs: &[Comprehension]) -> String {
        let v: Vec<String> = gs
            .iter()
            .map(|g| {
                format!("(for{} {} {} {})", if g.is_async { "-async" } else { "" }, self.e(&g.target), self.e(&g.iter), self.lst(&g.ifs))
            })
            .collect();
        format!("[{}]", v.join(" "))
    }

    fn ex(&self, e: &Expr, _spans: bool) -> String {
        match &e.kind {
            ExprKind::Name(n) => n.clone(),
            ExprKind::Int(v) => format!("int:{v}"),
            ExprKind::BigInt(v) => format!("int:{v}"),
            ExprKind::Float(v) => format!("float:{}", float(*v)),
            ExprKind::Imaginary(v) => format!("imag:{}", float(*v)),
            ExprKind::Str(t) => format!("str:{}", s(t)),
            ExprKind::Bytes(b) => format!("bytes:{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
            ExprKind::FString(p) => format!("(f {})", self.fparts(p)),
            ExprKind::True => "True".into(),
            ExprKind::False => "False".into(),
            ExprKind::None => "None".into(),
            ExprKind::Ellipsis => "...".into(),
            ExprKind::BinOp { left, op, right } => {
                format!("({} {} {})", binop(*op), self.e(left), self.e(right))
            }
            ExprKind::UnaryOp { op, operand } => {
                let o = match op {
                    UnaryOp::Not => "not",
                    UnaryOp::Neg => "neg",
                    UnaryOp::Pos => "pos",
                    UnaryOp::Invert => "~",
                };
                format!("({o} {})", self.e(operand))
            }
            ExprKind::BoolOp { op, values } => {
                let o = if *op == BoolOp::And { "and" } else { "or" };
                format!("({o} {})", values.iter().map(|v| self.e(v)).collect::<Vec<_>>().join(" "))
            }
            ExprKind::Compare { left, ops, comparators } => {
                let rest: Vec<String> = ops.iter().zip(comparators).map(|(o, c)| format!("{} {}", cmpop(*o), self.e(c))).collect();
                format!("(cmp {} {})", self.e(left), rest.join(" "))
            }
            ExprKind::IfExp { test, body, orelse } => {
                format!("(ifexp {} {} {})", self.e(test), self.e(body), self.e(orelse))
            }
            ExprKind::Lambda { params, body } => {
                format!("(lambda {} {})", self.params(params), self.e(body))
            }
            ExprKind::Call { func, args } => {
                let mut pos = Vec::new();
                let mut kws = Vec::new();
                for a in args {
                    match a {
                        Arg::Positional(e) => pos.push(self.e(e)),
                        Arg::Starred(e) => pos.push(format!("(* {})", self.e(e))),
                        Arg::Keyword(k, v) => kws.push(format!("(kw {} {})", k.name, self.e(v))),
                        Arg::DoubleStarred(v) => kws.push(format!("(kw ** {})", self.e(v))),
                    }
                }
                format!("(call {} [{}] [{}])", self.e(func), pos.join(" "), kws.join(" "))
            }
            ExprKind::Attribute { value, attr } => format!("(. {} {})", self.e(value), attr.name),
            ExprKind::Subscript { value, index } => {
                format!("(sub {} {})", self.e(value), self.e(index))
            }
            ExprKind::Slice { lower, upper, step } => {
                format!("(slice {} {} {})", self.optb(lower), self.optb(upper), self.optb(step))
            }
            ExprKind::List(v) => format!("(list {})", self.lst(v)),
            ExprKind::Tuple(v) => format!("(tuple {})", self.lst(v)),
            ExprKind::Set(v) => format!("(set {})", self.lst(v)),
            ExprKind::Dict(items) => {
                let v: Vec<String> = items.iter().map(|(k, v)| format!("({} {})", self.opt(k), self.e(v))).collect();
                format!("(dict {})", v.join(" "))
            }
            ExprKind::Starred(v) => format!("(* {})", self.e(v)),
            ExprKind::ListComp { elt, generators } => {
                format!("(listcomp {} {})", self.e(elt), self.comps(generators))
            }
            ExprKind::SetComp { elt, generators } => {
                format!("(setcomp {} {})", self.e(elt), self.comps(generators))
            }
            ExprKind::GeneratorExp { elt, generators } => {
                format!("(genexp {} {})", self.e(elt), self.comps(generators))
            }
            ExprKind::DictComp { key, value, generators } => {
                format!("(dictcomp {} {} {})", self.e(key), self.e(value), self.comps(generators))
            }
            ExprKind::Await(v) => format!("(await {})", self.e(v)),
            ExprKind::Yield(v) => format!("(yield {})", self.optb(v)),
            ExprKind::YieldFrom(v) => format!("(yield-from {})", self.e(v)),
            ExprKind::NamedExpr { target, value } => {
                format!("(:= {} {})", target.name, self.e(value))
            }
        }
    }

    fn body(&self, xs: &[Stmt]) -> String {
        format!("{{{}}}", xs.iter().map(|x| self.st(x)).collect::<Vec<_>>().join(" "))
    }

    fn alias(a: &Alias) -> String {
        match &a.asname {
            Some(n) => format!("{} as {}", a.name.name, n.name),
            None => a.name.name.clone(),
        }
    }

    pub fn st(&self, st: &Stmt) -> String {
        self.st1(st) + &self.sp(st.span)
    }

    fn st1(&self, st: &Stmt) -> String {
        let asy = |b: bool| if b { "-async" } else { "" };
        match &st.kind {
            StmtKind::Expr(e) => format!("(expr {})", self.e(e)),
            StmtKind::Assign { targets, value } => {
                format!("(= {} {})", self.lst(targets), self.e(value))
            }
            StmtKind::AugAssign { target, op, value } => {
                format!("(aug {} {} {})", self.e(target), binop(*op), self.e(value))
            }
            StmtKind::AnnAssign { target, annotation, value } => {
                format!("(ann {} {} {})", self.e(target), self.e(annotation), self.opt(value))
            }
            StmtKind::If { test, body, orelse } => {
                format!("(if {} {} {})", self.e(test), self.body(body), self.body(orelse))
            }
            StmtKind::While { test, body, orelse } => {
                format!("(while {} {} {})", self.e(test), self.body(body), self.body(orelse))
            }
            StmtKind::For { is_async, target, iter, body, orelse } => {
                format!("(for{} {} {} {} {})", asy(*is_async), self.e(target), self.e(iter), self.body(body), self.body(orelse))
            }
            StmtKind::Break => "break".into(),
            StmtKind::Continue => "continue".into(),
            StmtKind::Pass => "pass".into(),
            StmtKind::Return(v) => format!("(return {})", self.opt(v)),
            StmtKind::FunctionDef(f) => format!(
                "(def{} {} {} {} {} {})",
                asy(f.is_async),
                f.name.name,
                self.params(&f.params),
                self.body(&f.body),
                self.lst(&f.decorators),
                self.opt(&f.returns)
            ),
            StmtKind::ClassDef(c) => {
                let ks: Vec<String> = c.keywords.iter().map(|k| format!("(kw {} {})", k.name.name, self.e(&k.value))).collect();
                format!(
                    "(class {} {} [{}] {} {})",
                    c.name.name,
                    self.lst(&c.bases),
                    ks.join(" "),
                    self.body(&c.body),
                    self.lst(&c.decorators)
                )
            }
            StmtKind::Try { body, handlers, orelse, finalbody, star } => {
                let hs: Vec<String> = handlers
                    .iter()
                    .map(|h| {
                        format!("(except {} {} {})", self.opt(&h.typ), h.name.as_ref().map_or("_", |n| n.name.as_str()), self.body(&h.body))
                    })
                    .collect();
                format!(
                    "(try{} {} [{}] {} {})",
                    if *star { "*" } else { "" },
                    self.body(body),
                    hs.join(" "),
                    self.body(orelse),
                    self.body(finalbody)
                )
            }
            StmtKind::Raise { exc, cause } => {
                format!("(raise {} {})", self.opt(exc), self.opt(cause))
            }
            StmtKind::With { is_async, items, body } => {
                let its: Vec<String> = items.iter().map(|i| format!("({} {})", self.e(&i.context), self.opt(&i.target))).collect();
                format!("(with{} [{}] {})", asy(*is_async), its.join(" "), self.body(body))
            }
            StmtKind::Match { subject, cases } => {
                let cs: Vec<String> =
                    cases.iter().map(|c| format!("(case {:?} {} {})", c.pattern.kind, self.opt(&c.guard), self.body(&c.body))).collect();
                format!("(match {} [{}])", self.e(subject), cs.join(" "))
            }
            StmtKind::Global(n) => {
                format!("(global {})", n.iter().map(|i| i.name.clone()).collect::<Vec<_>>().join(" "))
            }
            StmtKind::Nonlocal(n) => {
                format!("(nonlocal {})", n.iter().map(|i| i.name.clone()).collect::<Vec<_>>().join(" "))
            }
            StmtKind::Delete(t) => format!("(del {})", self.lst(t)),
            StmtKind::Assert { test, msg } => {
                format!("(assert {} {})", self.e(test), self.opt(msg))
            }
            StmtKind::Import(names) => {
                format!("(import {})", names.iter().map(Self::alias).collect::<Vec<_>>().join(", "))
            }
            StmtKind::ImportFrom { module, names, star } => {
                let n = if *star { "*".to_string() } else { names.iter().map(Self::alias).collect::<Vec<_>>().join(", ") };
                format!("(from {} {})", module.name, n)
            }
        }
    }

    /// The dump of a whole module, one statement per line.
    pub fn module(&self, m: &Module) -> String {
        m.body.iter().map(|s| self.st(s) + "\n").collect()
    }
}

/// Parses `src` and dumps it without spans; panics on a syntax error.
pub fn shape(src: &str) -> String {
    let m = aio_grammar::parse_module(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
    Dumper { src, spans: false }.module(&m).trim_end().to_string()
}

/// Parses `src` and dumps it with spans.
pub fn shape_with_spans(src: &str) -> String {
    let m = aio_grammar::parse_module(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
    Dumper { src, spans: true }.module(&m).trim_end().to_string()
}
