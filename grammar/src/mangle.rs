//! Private name mangling: inside a class, an identifier written `__spam`
//! (two leading underscores, not two trailing) stands for `_Class__spam`,
//! so a subclass's `__spam` cannot clash with its base's. Python does this
//! when it compiles: the rewrite applies to names, attribute names,
//! parameters, nested `def`/`class` names, `global`/`nonlocal` lists, import
//! aliases and capture targets, in the class body and in every function
//! nested in it; keyword argument names of calls are left alone, as Python
//! leaves them.

use crate::ast::*;

/// Rewrites the private names of every class in `module` to their mangled form.
pub fn mangle_module(module: &mut Module) {
    stmts(&mut module.body, None);
}

/// `_Class__name` for a private `name` inside class `class`, else `None`.
fn mangled(class: Option<&str>, name: &str) -> Option<String> {
    let class = class?;
    if !name.starts_with("__") || name.ends_with("__") || name.contains('.') {
        return None;
    }
    let stripped = class.trim_start_matches('_');
    if stripped.is_empty() {
        return None;
    }
    Some(format!("_{stripped}{name}"))
}

fn rename(class: Option<&str>, name: &mut String) {
    if let Some(m) = mangled(class, name) {
        *name = m;
    }
}

fn ident(class: Option<&str>, id: &mut Ident) {
    rename(class, &mut id.name);
}

fn stmts(body: &mut [Stmt], class: Option<&str>) {
    for s in body {
        stmt(s, class);
    }
}

fn opt(e: &mut Option<Expr>, class: Option<&str>) {
    if let Some(e) = e {
        expr(e, class);
    }
}

fn exprs(es: &mut [Expr], class: Option<&str>) {
    for e in es {
        expr(e, class);
    }
}

fn stmt(s: &mut Stmt, class: Option<&str>) {
    match &mut s.kind {
        StmtKind::Expr(e) => expr(e, class),
        StmtKind::Assign { targets, value } => {
            exprs(targets, class);
            expr(value, class);
        }
        StmtKind::AugAssign { target, value, .. } => {
            expr(target, class);
            expr(value, class);
        }
        StmtKind::AnnAssign { target, annotation, value } => {
            expr(target, class);
            expr(annotation, class);
            opt(value, class);
        }
        StmtKind::If { test, body, orelse } | StmtKind::While { test, body, orelse } => {
            expr(test, class);
            stmts(body, class);
            stmts(orelse, class);
        }
        StmtKind::For { target, iter, body, orelse, .. } => {
            expr(target, class);
            expr(iter, class);
            stmts(body, class);
            stmts(orelse, class);
        }
        StmtKind::Break | StmtKind::Continue | StmtKind::Pass => {}
        StmtKind::Return(e) => opt(e, class),
        StmtKind::FunctionDef(f) => {
            exprs(&mut f.decorators, class);
            f.bound_as = mangled(class, &f.name.name);
            params(&mut f.params, class);
            opt(&mut f.returns, class);
            stmts(&mut f.body, class);
        }
        StmtKind::ClassDef(c) => {
            exprs(&mut c.decorators, class);
            exprs(&mut c.bases, class);
            for k in &mut c.keywords {
                expr(&mut k.value, class);
            }
            // The body mangles with this class's own name, as written.
            let own = c.name.name.clone();
            stmts(&mut c.body, Some(&own));
            c.bound_as = mangled(class, &c.name.name);
        }
        StmtKind::Try { body, handlers, orelse, finalbody, .. } => {
            stmts(body, class);
            for h in handlers {
                opt(&mut h.typ, class);
                if let Some(n) = &mut h.name {
                    ident(class, n);
                }
                stmts(&mut h.body, class);
            }
            stmts(orelse, class);
            stmts(finalbody, class);
        }
        StmtKind::Raise { exc, cause } => {
            opt(exc, class);
            opt(cause, class);
        }
        StmtKind::With { items, body, .. } => {
            for item in items {
                expr(&mut item.context, class);
                opt(&mut item.target, class);
            }
            stmts(body, class);
        }
        StmtKind::Global(names) | StmtKind::Nonlocal(names) => {
            for n in names {
                ident(class, n);
            }
        }
        StmtKind::Delete(targets) => exprs(targets, class),
        StmtKind::Assert { test, msg } => {
            expr(test, class);
            opt(msg, class);
        }
        StmtKind::Match { subject, cases } => {
            expr(subject, class);
            for case in cases {
                pattern(&mut case.pattern, class);
                opt(&mut case.guard, class);
                stmts(&mut case.body, class);
            }
        }
        StmtKind::Import(aliases) | StmtKind::ImportFrom { names: aliases, .. } => {
            // Only the name bound is private; the module imported is not.
            for a in aliases {
                if let Some(n) = &mut a.asname {
                    ident(class, n);
                }
            }
        }
    }
}

fn params(p: &mut Params, class: Option<&str>) {
    for param in p.posonly.iter_mut().chain(p.args.iter_mut()).chain(p.kwonly.iter_mut()) {
        ident(class, &mut param.name);
        opt(&mut param.annotation, class);
        opt(&mut param.default, class);
    }
    for param in p.vararg.iter_mut().chain(p.kwarg.iter_mut()) {
        ident(class, &mut param.name);
        opt(&mut param.annotation, class);
    }
}

fn pattern(p: &mut Pattern, class: Option<&str>) {
    match &mut p.kind {
        PatternKind::Value(e) | PatternKind::Singleton(e) => expr(e, class),
        PatternKind::Sequence(ps) | PatternKind::Or(ps) => {
            for q in ps {
                pattern(q, class);
            }
        }
        PatternKind::Star(n) => {
            if let Some(n) = n {
                ident(class, n);
            }
        }
        PatternKind::Mapping { keys, patterns, rest } => {
            exprs(keys, class);
            for q in patterns {
                pattern(q, class);
            }
            if let Some(n) = rest {
                ident(class, n);
            }
        }
        PatternKind::Class { cls, patterns, kwd_patterns, .. } => {
            expr(cls, class);
            for q in patterns.iter_mut().chain(kwd_patterns.iter_mut()) {
                pattern(q, class);
            }
        }
        PatternKind::As { pattern: inner, name } => {
            if let Some(q) = inner {
                pattern(q, class);
            }
            if let Some(n) = name {
                ident(class, n);
            }
        }
    }
}

fn generators(gens: &mut [Comprehension], class: Option<&str>) {
    for g in gens {
        expr(&mut g.target, class);
        expr(&mut g.iter, class);
        exprs(&mut g.ifs, class);
    }
}

fn fstring(parts: &mut [FStringPart], class: Option<&str>) {
    for part in parts {
        if let FStringPart::Expr { expr: e, format_spec, .. } = part {
            expr(e, class);
            if let Some(spec) = format_spec {
                fstring(spec, class);
            }
        }
    }
}

fn expr(e: &mut Expr, class: Option<&str>) {
    if class.is_none() {
        // Outside any class nothing is mangled, and no class can hide in
        // an expression: the walk stops here.
        return;
    }
    match &mut e.kind {
        ExprKind::Name(n) => rename(class, n),
        ExprKind::Int(_)
        | ExprKind::BigInt(_)
        | ExprKind::Float(_)
        | ExprKind::Imaginary(_)
        | ExprKind::Str(_)
        | ExprKind::Bytes(_)
        | ExprKind::True
        | ExprKind::False
        | ExprKind::None
        | ExprKind::Ellipsis => {}
        ExprKind::FString(parts) => fstring(parts, class),
        ExprKind::BinOp { left, right, .. } => {
            expr(left, class);
            expr(right, class);
        }
        ExprKind::UnaryOp { operand, .. } => expr(operand, class),
        ExprKind::BoolOp { values, .. } => exprs(values, class),
        ExprKind::Compare { left, comparators, .. } => {
            expr(left, class);
            exprs(comparators, class);
        }
        ExprKind::IfExp { test, body, orelse } => {
            expr(test, class);
            expr(body, class);
            expr(orelse, class);
        }
        ExprKind::Lambda { params: p, body } => {
            params(p, class);
            expr(body, class);
        }
        ExprKind::Call { func, args } => {
            expr(func, class);
            for a in args {
                match a {
                    Arg::Positional(v) | Arg::Starred(v) | Arg::Keyword(_, v) | Arg::DoubleStarred(v) => expr(v, class),
                }
            }
        }
        ExprKind::Attribute { value, attr } => {
            expr(value, class);
            ident(class, attr);
        }
        ExprKind::Subscript { value, index } => {
            expr(value, class);
            expr(index, class);
        }
        ExprKind::Slice { lower, upper, step } => {
            for part in [lower, upper, step].into_iter().flatten() {
                expr(part, class);
            }
        }
        ExprKind::List(es) | ExprKind::Tuple(es) | ExprKind::Set(es) => exprs(es, class),
        ExprKind::Dict(items) => {
            for (k, v) in items {
                opt(k, class);
                expr(v, class);
            }
        }
        ExprKind::Starred(v) | ExprKind::Await(v) | ExprKind::YieldFrom(v) => expr(v, class),
        ExprKind::Yield(v) => {
            if let Some(v) = v {
                expr(v, class);
            }
        }
        ExprKind::ListComp { elt, generators: g }
        | ExprKind::SetComp { elt, generators: g }
        | ExprKind::GeneratorExp { elt, generators: g } => {
            expr(elt, class);
            generators(g, class);
        }
        ExprKind::DictComp { key, value, generators: g } => {
            expr(key, class);
            expr(value, class);
            generators(g, class);
        }
        ExprKind::NamedExpr { target, value } => {
            ident(class, target);
            expr(value, class);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangles_only_private_names_inside_a_class() {
        assert_eq!(mangled(Some("A"), "__x").as_deref(), Some("_A__x"));
        assert_eq!(mangled(Some("_B"), "__x").as_deref(), Some("_B__x"));
        assert_eq!(mangled(Some("A"), "__init__"), None);
        assert_eq!(mangled(Some("A"), "_x"), None);
        assert_eq!(mangled(Some("__"), "__x"), None);
        assert_eq!(mangled(None, "__x"), None);
    }

    #[test]
    fn rewrites_attributes_and_names_in_methods() {
        let mut m = crate::parse_module("class A:\n    def __f(self):\n        return self.__g + __h\n").unwrap();
        mangle_module(&mut m);
        let text = format!("{m:?}");
        assert!(text.contains("bound_as: Some(\"_A__f\")"));
        assert!(text.contains("\"_A__g\""));
        assert!(text.contains("Name(\"_A__h\")"));
    }
}
