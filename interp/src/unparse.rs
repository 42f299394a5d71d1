//! Expressions back to source text, as CPython writes an annotation under
//! `from __future__ import annotations`: normalised spacing, the fewest
//! parentheses the precedence needs, constants by their `repr`.

use aio_grammar::ast::*;

// Binding strength, weakest first (CPython's ast_unparse.c levels).
const TUPLE: u8 = 0;
const TEST: u8 = 1;
const OR: u8 = 2;
const AND: u8 = 3;
const NOT: u8 = 4;
const CMP: u8 = 5;
const BOR: u8 = 6;
const BXOR: u8 = 7;
const BAND: u8 = 8;
const SHIFT: u8 = 9;
const ARITH: u8 = 10;
const TERM: u8 = 11;
const FACTOR: u8 = 12;
const POWER: u8 = 13;
const AWAIT: u8 = 14;
const ATOM: u8 = 15;

/// The text of an annotation expression.
pub fn unparse(e: &Expr) -> String {
    let mut out = String::new();
    expr(&mut out, e, TEST);
    out
}

fn binop(op: BinOp) -> (&'static str, u8) {
    match op {
        BinOp::Add => ("+", ARITH),
        BinOp::Sub => ("-", ARITH),
        BinOp::Mul => ("*", TERM),
        BinOp::MatMul => ("@", TERM),
        BinOp::Div => ("/", TERM),
        BinOp::FloorDiv => ("//", TERM),
        BinOp::Mod => ("%", TERM),
        BinOp::Pow => ("**", POWER),
        BinOp::LShift => ("<<", SHIFT),
        BinOp::RShift => (">>", SHIFT),
        BinOp::BitOr => ("|", BOR),
        BinOp::BitXor => ("^", BXOR),
        BinOp::BitAnd => ("&", BAND),
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
        CmpOp::IsNot => "is not",
        CmpOp::In => "in",
        CmpOp::NotIn => "not in",
    }
}

fn open(out: &mut String, level: u8, pr: u8) {
    if level > pr {
        out.push('(');
    }
}

fn close(out: &mut String, level: u8, pr: u8) {
    if level > pr {
        out.push(')');
    }
}

fn list(out: &mut String, items: &[Expr], level: u8) {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        expr(out, x, level);
    }
}

fn expr(out: &mut String, e: &Expr, level: u8) {
    match &e.kind {
        ExprKind::Name(n) => out.push_str(n),
        ExprKind::Int(i) => out.push_str(&i.to_string()),
        ExprKind::BigInt(b) => out.push_str(&b.to_string()),
        ExprKind::Float(f) => out.push_str(&float_text(*f)),
        ExprKind::Imaginary(f) => {
            out.push_str(&crate::numfmt::float_repr(*f).trim_end_matches(".0").replace("inf", "1e309"));
            out.push('j');
        }
        ExprKind::Str(s) => out.push_str(&crate::numfmt::str_repr(s)),
        ExprKind::Bytes(b) => out.push_str(&crate::numfmt::bytes_repr(b)),
        ExprKind::FString(parts) => {
            let mut body = String::new();
            fstring_body(&mut body, parts);
            out.push('f');
            out.push_str(&crate::numfmt::str_repr(&body));
        }
        ExprKind::True => out.push_str("True"),
        ExprKind::False => out.push_str("False"),
        ExprKind::None => out.push_str("None"),
        ExprKind::Ellipsis => out.push_str("..."),
        ExprKind::BinOp { left, op, right } => {
            let (sym, pr) = binop(*op);
            let right_assoc = matches!(op, BinOp::Pow) as u8;
            open(out, level, pr);
            expr(out, left, pr + right_assoc);
            out.push(' ');
            out.push_str(sym);
            out.push(' ');
            expr(out, right, pr + 1 - right_assoc);
            close(out, level, pr);
        }
        ExprKind::UnaryOp { op, operand } => {
            let (sym, pr) = match op {
                UnaryOp::Not => ("not ", NOT),
                UnaryOp::Neg => ("-", FACTOR),
                UnaryOp::Pos => ("+", FACTOR),
                UnaryOp::Invert => ("~", FACTOR),
            };
            open(out, level, pr);
            out.push_str(sym);
            expr(out, operand, pr);
            close(out, level, pr);
        }
        ExprKind::BoolOp { op, values } => {
            let (sym, pr) = match op {
                BoolOp::And => (" and ", AND),
                BoolOp::Or => (" or ", OR),
            };
            open(out, level, pr);
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push_str(sym);
                }
                expr(out, v, pr + 1);
            }
            close(out, level, pr);
        }
        ExprKind::Compare { left, ops, comparators } => {
            open(out, level, CMP);
            expr(out, left, CMP + 1);
            for (op, c) in ops.iter().zip(comparators) {
                out.push(' ');
                out.push_str(cmpop(*op));
                out.push(' ');
                expr(out, c, CMP + 1);
            }
            close(out, level, CMP);
        }
        ExprKind::IfExp { test, body, orelse } => {
            open(out, level, TEST);
            expr(out, body, TEST + 1);
            out.push_str(" if ");
            expr(out, test, TEST + 1);
            out.push_str(" else ");
            expr(out, orelse, TEST);
            close(out, level, TEST);
        }
        ExprKind::Lambda { params, body } => {
            open(out, level, TEST);
            out.push_str("lambda");
            let mut ps = String::new();
            params_text(&mut ps, params);
            if !ps.is_empty() {
                out.push(' ');
                out.push_str(&ps);
            }
            out.push_str(": ");
            expr(out, body, TEST);
            close(out, level, TEST);
        }
        ExprKind::Call { func, args } => {
            expr(out, func, ATOM);
            out.push('(');
            if let [Arg::Positional(g @ Expr { kind: ExprKind::GeneratorExp { .. }, .. })] = args.as_slice() {
                comprehension_text(out, g, true);
            } else {
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match a {
                        Arg::Positional(v) => expr(out, v, TEST),
                        Arg::Starred(v) => {
                            out.push('*');
                            expr(out, v, BOR);
                        }
                        Arg::Keyword(k, v) => {
                            out.push_str(&k.name);
                            out.push('=');
                            expr(out, v, TEST);
                        }
                        Arg::DoubleStarred(v) => {
                            out.push_str("**");
                            expr(out, v, BOR);
                        }
                    }
                }
            }
            out.push(')');
        }
        ExprKind::Attribute { value, attr } => {
            expr(out, value, ATOM);
            // `1 .real`: a dot right after an int would read as a float.
            if matches!(value.kind, ExprKind::Int(_) | ExprKind::BigInt(_)) {
                out.push(' ');
            }
            out.push('.');
            out.push_str(&attr.name);
        }
        ExprKind::Subscript { value, index } => {
            expr(out, value, ATOM);
            out.push('[');
            match &index.kind {
                ExprKind::Tuple(items) if !items.is_empty() => {
                    list(out, items, TEST);
                    if items.len() == 1 {
                        out.push(',');
                    }
                }
                _ => expr(out, index, TUPLE),
            }
            out.push(']');
        }
        ExprKind::Slice { lower, upper, step } => {
            if let Some(l) = lower {
                expr(out, l, TEST);
            }
            out.push(':');
            if let Some(u) = upper {
                expr(out, u, TEST);
            }
            if let Some(s) = step {
                out.push(':');
                expr(out, s, TEST);
            }
        }
        ExprKind::List(items) => {
            out.push('[');
            list(out, items, TEST);
            out.push(']');
        }
        ExprKind::Tuple(items) => match items.len() {
            0 => out.push_str("()"),
            1 => {
                out.push('(');
                expr(out, &items[0], TEST);
                out.push_str(",)");
            }
            _ => {
                open(out, level, TUPLE);
                list(out, items, TEST);
                close(out, level, TUPLE);
            }
        },
        ExprKind::Set(items) => {
            out.push('{');
            list(out, items, TEST);
            out.push('}');
        }
        ExprKind::Dict(items) => {
            out.push('{');
            for (i, (k, v)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match k {
                    Some(k) => {
                        expr(out, k, TEST);
                        out.push_str(": ");
                        expr(out, v, TEST);
                    }
                    None => {
                        out.push_str("**");
                        expr(out, v, BOR);
                    }
                }
            }
            out.push('}');
        }
        ExprKind::Starred(v) => {
            out.push('*');
            expr(out, v, BOR);
        }
        ExprKind::ListComp { .. } | ExprKind::SetComp { .. } | ExprKind::DictComp { .. } | ExprKind::GeneratorExp { .. } => {
            comprehension_text(out, e, false)
        }
        ExprKind::Await(v) => {
            open(out, level, AWAIT);
            out.push_str("await ");
            expr(out, v, ATOM);
            close(out, level, AWAIT);
        }
        ExprKind::Yield(v) => {
            out.push_str("(yield");
            if let Some(v) = v {
                out.push(' ');
                expr(out, v, TEST);
            }
            out.push(')');
        }
        ExprKind::YieldFrom(v) => {
            out.push_str("(yield from ");
            expr(out, v, TEST);
            out.push(')');
        }
        ExprKind::NamedExpr { target, value } => {
            open(out, level, TUPLE);
            out.push_str(&target.name);
            out.push_str(" := ");
            expr(out, value, ATOM);
            close(out, level, TUPLE);
        }
    }
}

/// A float as `repr` writes it, with infinity spelled as a literal can be.
fn float_text(f: f64) -> String {
    if f.is_infinite() {
        return "1e309".into();
    }
    crate::numfmt::float_repr(f)
}

fn comprehension_text(out: &mut String, e: &Expr, bare: bool) {
    let (open_c, close_c, gens) = match &e.kind {
        ExprKind::ListComp { elt, generators } => {
            out.push('[');
            expr(out, elt, TEST);
            ('[', ']', generators)
        }
        ExprKind::SetComp { elt, generators } => {
            out.push('{');
            expr(out, elt, TEST);
            ('{', '}', generators)
        }
        ExprKind::DictComp { key, value, generators } => {
            out.push('{');
            expr(out, key, TEST);
            out.push_str(": ");
            expr(out, value, TEST);
            ('{', '}', generators)
        }
        ExprKind::GeneratorExp { elt, generators } => {
            if !bare {
                out.push('(');
            }
            expr(out, elt, TEST);
            ('(', ')', generators)
        }
        _ => return,
    };
    let _ = open_c;
    for g in gens {
        out.push_str(if g.is_async { " async for " } else { " for " });
        expr(out, &g.target, TUPLE);
        out.push_str(" in ");
        expr(out, &g.iter, TEST + 1);
        for c in &g.ifs {
            out.push_str(" if ");
            expr(out, c, TEST + 1);
        }
    }
    if !(bare && close_c == ')') {
        out.push(close_c);
    }
}

fn params_text(out: &mut String, p: &Params) {
    let mut parts: Vec<String> = Vec::new();
    let one = |p: &Param| {
        let mut s = p.name.name.clone();
        if let Some(d) = &p.default {
            s.push('=');
            expr(&mut s, d, TEST);
        }
        s
    };
    parts.extend(p.posonly.iter().map(one));
    if !p.posonly.is_empty() {
        parts.push("/".into());
    }
    parts.extend(p.args.iter().map(one));
    match &p.vararg {
        Some(v) => parts.push(format!("*{}", v.name.name)),
        None if !p.kwonly.is_empty() => parts.push("*".into()),
        None => {}
    }
    parts.extend(p.kwonly.iter().map(one));
    if let Some(k) = &p.kwarg {
        parts.push(format!("**{}", k.name.name));
    }
    out.push_str(&parts.join(", "));
}

fn fstring_body(out: &mut String, parts: &[FStringPart]) {
    for p in parts {
        match p {
            FStringPart::Literal(s) => out.push_str(&s.replace('{', "{{").replace('}', "}}")),
            FStringPart::Expr { expr: e, conversion, format_spec, debug_text } => {
                if let Some(d) = debug_text {
                    out.push_str(d);
                }
                out.push('{');
                let mut inner = String::new();
                expr(&mut inner, e, TEST + 1);
                if inner.starts_with('{') {
                    out.push(' ');
                }
                out.push_str(&inner);
                if let Some(c) = conversion {
                    out.push('!');
                    out.push(*c);
                }
                if let Some(spec) = format_spec {
                    out.push(':');
                    fstring_body(out, spec);
                }
                out.push('}');
            }
        }
    }
}
