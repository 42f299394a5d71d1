//! The compiler: AST to code objects. Names resolve to slots here (locals,
//! cells, module globals), `try` blocks become exception-table ranges, and
//! `finally` bodies are copied onto every path that leaves them.

use crate::value::Flag;
use std::collections::HashMap;
use std::rc::Rc;

use aio_grammar::ast::*;

use crate::bytecode::{Code, CodeFlags, ExcEntry, Op, Source, INPLACE, NO_CACHE};
use crate::object::{Module as ModuleObj, PyStr};
use crate::scope::{analyze, node_key, Access, ScopeKind, ScopeTable};
use crate::value::Value;

/// A compile-time error: a SyntaxError at `span` (or another kind CPython
/// raises while compiling, such as RecursionError).
#[derive(Debug, Clone)]
pub struct CompileError {
    pub message: String,
    pub span: Span,
    /// Advice for the reader.
    pub notes: Vec<String>,
}

/// The message of the error raised for an expression nested too deeply.
pub const TOO_DEEP: &str = "maximum recursion depth exceeded during compilation";

/// How a module body is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A script or imported module.
    Module,
    /// One REPL input: expression statements echo their value.
    Interactive,
    /// A lone expression whose value the code returns; its module-level
    /// names are looked up at run time (a namespace dict, then the
    /// module, then builtins), as `eval` does.
    Eval,
    /// Statements whose module-level names live in a namespace dict (stores
    /// go there; loads look there, then in the module, then builtins), as
    /// `exec` does.
    Exec,
}

/// Deepest expression nesting the compiler accepts.
const MAX_NESTING: usize = 2000;

/// Compile a parsed module. Globals resolve to slots of `module`.
pub fn compile_module(ast: &Module, source: Rc<Source>, module: &Rc<ModuleObj>, mode: Mode) -> Result<Rc<Code>, CompileError> {
    let future = future_imports(&ast.body)?;
    let table = analyze(ast, true, future.annotations)?;
    let mut c = Compiler { source, module: module.clone(), table, units: Vec::new(), mode, nesting: 0, future };
    c.enter(0, "<module>", "<module>", Span::new(0, 0));
    if mode == Mode::Eval {
        let [Stmt { kind: StmtKind::Expr(e), .. }] = ast.body.as_slice() else {
            return Err(cerr("invalid syntax: expected an expression", ast.body.first().map(|s| s.span).unwrap_or_default()));
        };
        c.expr(e)?;
        c.emit(Op::ReturnValue);
        return Ok(c.leave());
    }
    c.setup_annotations(&ast.body);
    let toplevel_await = contains_toplevel_await(&ast.body);
    // A REPL input is not a module: a string typed at the prompt is echoed.
    if let (Mode::Module, Some(doc)) = (mode, docstring(&ast.body)) {
        c.load_str(doc);
        c.store_name("__doc__");
    }
    for s in &ast.body {
        c.stmt(s)?;
    }
    c.emit(Op::LoadNone);
    c.emit(Op::ReturnValue);
    let mut code = c.leave();
    Rc::get_mut(&mut code).expect("fresh code").flags.toplevel_await = toplevel_await;
    Ok(code)
}

/// The docstring of a module, class or function body: the string literal
/// it starts with, if it does (an f-string is not one).
fn docstring(body: &[Stmt]) -> Option<&str> {
    match &body.first()?.kind {
        StmtKind::Expr(Expr { kind: ExprKind::Str(s), .. }) => Some(s),
        _ => None,
    }
}

/// The `from __future__ import ...` statements that open a module.
#[derive(Default)]
struct Future {
    /// Where each of them starts: one found elsewhere is a SyntaxError.
    starts: Vec<u32>,
    /// `annotations`: annotations are kept as strings, not evaluated.
    annotations: bool,
}

/// The features CPython 3.11 knows (`__future__.all_feature_names`).
const FUTURE_FEATURES: [&str; 10] = [
    "nested_scopes",
    "generators",
    "division",
    "absolute_import",
    "with_statement",
    "print_function",
    "unicode_literals",
    "barry_as_FLUFL",
    "generator_stop",
    "annotations",
];

/// Read the future imports at the top of a module (after its docstring)
/// and check their feature names.
fn future_imports(body: &[Stmt]) -> Result<Future, CompileError> {
    let mut future = Future::default();
    let mut rest = body;
    if let Some(StmtKind::Expr(Expr { kind: ExprKind::Str(_), .. })) = rest.first().map(|s| &s.kind) {
        rest = &rest[1..];
    }
    for s in rest {
        let StmtKind::ImportFrom { module, names, star } = &s.kind else { break };
        if module.name != "__future__" {
            break;
        }
        if *star {
            return Err(cerr("future feature * is not defined", s.span));
        }
        for a in names {
            match a.name.name.as_str() {
                "braces" => return Err(cerr("not a chance", a.name.span)),
                "annotations" => future.annotations = true,
                n if FUTURE_FEATURES.contains(&n) => {}
                n => return Err(cerr(format!("future feature {n} is not defined"), a.name.span)),
            }
        }
        future.starts.push(s.span.start);
    }
    Ok(future)
}

/// Does a module or class body annotate a name anywhere in its own
/// statements (not in nested functions or classes)?
fn has_annotations(body: &[Stmt]) -> bool {
    body.iter().any(|s| match &s.kind {
        StmtKind::AnnAssign { .. } => true,
        StmtKind::If { body, orelse, .. } | StmtKind::While { body, orelse, .. } | StmtKind::For { body, orelse, .. } => {
            has_annotations(body) || has_annotations(orelse)
        }
        StmtKind::With { body, .. } => has_annotations(body),
        StmtKind::Try { body, handlers, orelse, finalbody, .. } => {
            has_annotations(body)
                || handlers.iter().any(|h| has_annotations(&h.body))
                || has_annotations(orelse)
                || has_annotations(finalbody)
        }
        _ => false,
    })
}

fn contains_toplevel_await(body: &[Stmt]) -> bool {
    struct Finder(bool);
    impl Finder {
        fn stmts(&mut self, b: &[Stmt]) {
            for s in b {
                self.stmt(s);
            }
        }
        fn stmt(&mut self, s: &Stmt) {
            match &s.kind {
                StmtKind::Expr(e) | StmtKind::Return(Some(e)) => self.expr(e),
                StmtKind::Assign { targets, value } => {
                    self.expr(value);
                    targets.iter().for_each(|t| self.expr(t));
                }
                StmtKind::AugAssign { target, value, .. } => {
                    self.expr(target);
                    self.expr(value)
                }
                StmtKind::AnnAssign { value: Some(v), .. } => self.expr(v),
                StmtKind::If { test, body, orelse } | StmtKind::While { test, body, orelse } => {
                    self.expr(test);
                    self.stmts(body);
                    self.stmts(orelse);
                }
                StmtKind::For { is_async, iter, body, orelse, target } => {
                    self.0 |= *is_async;
                    self.expr(iter);
                    self.expr(target);
                    self.stmts(body);
                    self.stmts(orelse);
                }
                StmtKind::With { is_async, items, body } => {
                    self.0 |= *is_async;
                    for it in items {
                        self.expr(&it.context);
                    }
                    self.stmts(body);
                }
                StmtKind::Match { subject, cases } => {
                    self.expr(subject);
                    for c in cases {
                        if let Some(g) = &c.guard {
                            self.expr(g);
                        }
                        self.stmts(&c.body);
                    }
                }
                StmtKind::Try { body, handlers, orelse, finalbody, .. } => {
                    self.stmts(body);
                    for h in handlers {
                        if let Some(t) = &h.typ {
                            self.expr(t);
                        }
                        self.stmts(&h.body);
                    }
                    self.stmts(orelse);
                    self.stmts(finalbody);
                }
                StmtKind::Raise { exc, cause } => {
                    for e in [exc, cause].into_iter().flatten() {
                        self.expr(e);
                    }
                }
                StmtKind::Assert { test, msg } => {
                    self.expr(test);
                    if let Some(m) = msg {
                        self.expr(m);
                    }
                }
                StmtKind::Delete(ts) => ts.iter().for_each(|t| self.expr(t)),
                StmtKind::ClassDef(c) => {
                    c.bases.iter().for_each(|b| self.expr(b));
                    c.decorators.iter().for_each(|d| self.expr(d));
                }
                StmtKind::FunctionDef(f) => {
                    f.decorators.iter().for_each(|d| self.expr(d));
                    for p in f.params.posonly.iter().chain(&f.params.args).chain(&f.params.kwonly) {
                        if let Some(d) = &p.default {
                            self.expr(d);
                        }
                    }
                }
                _ => {}
            }
        }
        fn expr(&mut self, e: &Expr) {
            if self.0 {
                return;
            }
            walk_expr_shallow(e, &mut |sub| match &sub.kind {
                ExprKind::Await(_) => {
                    self.0 = true;
                    false
                }
                ExprKind::ListComp { generators, .. } | ExprKind::SetComp { generators, .. } | ExprKind::DictComp { generators, .. } => {
                    if generators.iter().any(|g| g.is_async) {
                        self.0 = true;
                    }
                    true
                }
                ExprKind::Lambda { .. } | ExprKind::GeneratorExp { .. } => false,
                _ => true,
            });
        }
    }
    let mut f = Finder(false);
    f.stmts(body);
    f.0
}

/// Visit `e` and its sub-expressions (not entering lambdas or generator
/// expressions when `f` returns false for them).
fn walk_expr_shallow(e: &Expr, f: &mut dyn FnMut(&Expr) -> bool) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        if !f(e) {
            continue;
        }
        match &e.kind {
            ExprKind::BinOp { left, right, .. } => {
                stack.push(left);
                stack.push(right);
            }
            ExprKind::UnaryOp { operand, .. } => stack.push(operand),
            ExprKind::BoolOp { values, .. } => stack.extend(values.iter()),
            ExprKind::Compare { left, comparators, .. } => {
                stack.push(left);
                stack.extend(comparators.iter());
            }
            ExprKind::IfExp { test, body, orelse } => {
                stack.push(test);
                stack.push(body);
                stack.push(orelse);
            }
            ExprKind::Call { func, args } => {
                stack.push(func);
                for a in args {
                    match a {
                        Arg::Positional(v) | Arg::Starred(v) | Arg::Keyword(_, v) | Arg::DoubleStarred(v) => stack.push(v),
                    }
                }
            }
            ExprKind::Attribute { value, .. } | ExprKind::Starred(value) | ExprKind::Await(value) | ExprKind::YieldFrom(value) => {
                stack.push(value)
            }
            ExprKind::Subscript { value, index } => {
                stack.push(value);
                stack.push(index);
            }
            ExprKind::Slice { lower, upper, step } => stack.extend([lower, upper, step].into_iter().flatten().map(|b| &**b)),
            ExprKind::List(v) | ExprKind::Tuple(v) | ExprKind::Set(v) => stack.extend(v.iter()),
            ExprKind::Dict(items) => {
                for (k, v) in items {
                    if let Some(k) = k {
                        stack.push(k);
                    }
                    stack.push(v);
                }
            }
            ExprKind::ListComp { elt, generators } | ExprKind::SetComp { elt, generators } | ExprKind::GeneratorExp { elt, generators } => {
                stack.push(elt);
                for g in generators {
                    stack.push(&g.iter);
                    stack.extend(g.ifs.iter());
                }
            }
            ExprKind::DictComp { key, value, generators } => {
                stack.push(key);
                stack.push(value);
                for g in generators {
                    stack.push(&g.iter);
                    stack.extend(g.ifs.iter());
                }
            }
            ExprKind::Yield(Some(v)) => stack.push(v),
            ExprKind::NamedExpr { value, .. } => stack.push(value),
            ExprKind::FString(parts) => {
                fn parts_exprs<'a>(parts: &'a [FStringPart], out: &mut Vec<&'a Expr>) {
                    for p in parts {
                        if let FStringPart::Expr { expr, format_spec, .. } = p {
                            out.push(expr);
                            if let Some(s) = format_spec {
                                parts_exprs(s, out);
                            }
                        }
                    }
                }
                parts_exprs(parts, &mut stack);
            }
            _ => {}
        }
    }
}

/// The value of a constant numeric expression, as CPython's constant
/// folding computes it (`-1`, `10**10`, `2*3+1`); None when not foldable.
fn fold_number(e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Int(n) => Some(Value::Int(*n)),
        ExprKind::Float(f) => Some(Value::float(*f)),
        ExprKind::UnaryOp { op: UnaryOp::Neg, operand } => match fold_number(operand)? {
            Value::Int(n) => n.checked_neg().map(Value::Int),
            Value::Float(f) => Some(Value::float(-f.get())),
            _ => None,
        },
        ExprKind::UnaryOp { op: UnaryOp::Pos, operand } => fold_number(operand),
        ExprKind::BinOp { left, op, right } => {
            let (a, b) = (fold_number(left)?, fold_number(right)?);
            match (a, b) {
                (Value::Int(x), Value::Int(y)) => match op {
                    BinOp::Add => x.checked_add(y).map(Value::Int),
                    BinOp::Sub => x.checked_sub(y).map(Value::Int),
                    BinOp::Mul => x.checked_mul(y).map(Value::Int),
                    BinOp::Pow if (0..64).contains(&y) => x.checked_pow(y as u32).map(Value::Int),
                    _ => None,
                },
                (Value::Float(x), Value::Float(y)) => match op {
                    BinOp::Add => Some(Value::float(x.get() + y.get())),
                    BinOp::Sub => Some(Value::float(x.get() - y.get())),
                    BinOp::Mul => Some(Value::float(x.get() * y.get())),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// An enclosing construct that `break`, `continue` and `return` must unwind.
#[derive(Clone)]
enum FBlock {
    While {
        start: Label,
        end: Label,
    },
    /// The iterator sits on the stack.
    For {
        start: Label,
        end: Label,
    },
    /// The body of a `try` that has a `finally`.
    FinallyTry {
        body: Rc<Vec<Stmt>>,
    },
    /// The exceptional copy of a `finally` body: `<prev> <exc>` on the stack.
    FinallyEnd,
    /// A `with` body: the exit function on the stack.
    With {
        is_async: bool,
    },
    /// An `except` body: the previous handled exception on the stack.
    HandlerCleanup {
        name: Option<String>,
    },
    /// The body of a `try` with handlers.
    TryExcept,
}

type Label = u32;

struct FBlockEntry {
    block: FBlock,
    /// The handler active around the block.
    outer_handler: Option<(Label, u32)>,
    /// Persistent stack depth at the block's start.
    depth: u32,
}

/// One code object under construction.
struct Unit {
    scope: usize,
    name: String,
    qualname: String,
    ops: Vec<Op>,
    spans: Vec<Span>,
    /// The handler (label, depth) active for each op.
    handlers: Vec<Option<(Label, u32)>>,
    consts: Vec<Value>,
    const_keys: HashMap<ConstKey, u32>,
    names: Vec<Rc<PyStr>>,
    name_index: HashMap<String, u32>,
    labels: Vec<u32>,
    fblocks: Vec<FBlockEntry>,
    handler: Option<(Label, u32)>,
    /// Values kept on the stack by enclosing constructs at statement level.
    depth: u32,
    slots: HashMap<String, u32>,
    varnames: Vec<String>,
    span: Span,
    cur_span: Span,
    /// A function's docstring, for its code object.
    doc: Option<Rc<PyStr>>,
}

#[derive(Hash, PartialEq, Eq)]
enum ConstKey {
    Int(i64),
    Str(String),
    Float(u64),
}

struct Compiler {
    source: Rc<Source>,
    module: Rc<ModuleObj>,
    table: ScopeTable,
    units: Vec<Unit>,
    mode: Mode,
    nesting: usize,
    future: Future,
}

/// The state of one pattern being compiled.
struct PatCtx {
    /// Captured names, in the order their values sit on the stack (bottom first).
    stores: Vec<(String, Span)>,
    /// Items above the captures that the pattern still has to match.
    on_top: usize,
    /// May this pattern be irrefutable (a bare capture or `_`)?
    allow_irrefutable: bool,
    /// `fail[k]`: the landing pad that pops k items.
    fail: Vec<Label>,
}

fn cerr(msg: impl Into<String>, span: Span) -> CompileError {
    CompileError { message: msg.into(), span, notes: Vec::new() }
}

const NO_LABEL: u32 = u32::MAX;

fn binop_index(op: BinOp) -> u8 {
    op as u8
}

fn cmpop_index(op: CmpOp) -> u8 {
    op as u8
}

impl Compiler {
    fn unit(&mut self) -> &mut Unit {
        self.units.last_mut().expect("a unit")
    }
    fn u(&self) -> &Unit {
        self.units.last().expect("a unit")
    }

    fn enter(&mut self, scope: usize, name: &str, qualname: &str, span: Span) {
        let s = &self.table.scopes[scope];
        let mut slots = HashMap::new();
        let mut varnames = Vec::new();
        if s.is_function_like() || s.kind == ScopeKind::Class {
            let mut add = |n: &str| {
                if !slots.contains_key(n) {
                    slots.insert(n.to_string(), varnames.len() as u32);
                    varnames.push(n.to_string());
                }
            };
            for p in &s.params {
                add(p);
            }
            if s.is_function_like() {
                for n in &s.order {
                    if matches!(s.lookup(n), Access::Local | Access::Cell) {
                        add(n);
                    }
                }
            }
            for n in &s.cellvars {
                add(n);
            }
            if s.kind == ScopeKind::Class && s.needs_class_cell {
                add("__class__");
            }
            for n in &s.freevars {
                add(n);
            }
        }
        self.units.push(Unit {
            scope,
            name: name.to_string(),
            qualname: qualname.to_string(),
            ops: Vec::new(),
            spans: Vec::new(),
            handlers: Vec::new(),
            consts: Vec::new(),
            const_keys: HashMap::new(),
            names: Vec::new(),
            name_index: HashMap::new(),
            labels: Vec::new(),
            fblocks: Vec::new(),
            handler: None,
            depth: 0,
            slots,
            varnames,
            span,
            cur_span: span,
            doc: None,
        });
    }

    fn leave(&mut self) -> Rc<Code> {
        let u = self.units.pop().expect("a unit");
        let s = &self.table.scopes[u.scope];
        let mut ops = u.ops;
        for t in ops.iter_mut().filter_map(Op::jump_target_mut) {
            *t = u.labels[*t as usize];
        }
        crate::bytecode::fuse(&mut ops);
        // Each attribute instruction gets its own inline cache.
        let mut ncaches: u16 = 0;
        for op in ops.iter_mut() {
            if let Op::LoadAttr { cache, .. }
            | Op::LoadMethod { cache, .. }
            | Op::StoreAttr { cache, .. }
            | Op::LoadAttrKeep { cache, .. }
            | Op::StoreAttrKept { cache, .. } = op
            {
                if ncaches < NO_CACHE {
                    *cache = ncaches;
                    ncaches += 1;
                }
            }
        }
        // A fused attribute instruction shares the cache of the one after
        // it, which fills it on the general path.
        for i in 1..ops.len() {
            ops[i - 1] = match (ops[i - 1], ops[i]) {
                (Op::LoadFastAttr { slot, name, .. }, Op::LoadAttr { cache, .. }) => Op::LoadFastAttr { slot, name, cache },
                (Op::LoadFastStoreAttr { slot, name, .. }, Op::StoreAttr { cache, .. }) => Op::LoadFastStoreAttr { slot, name, cache },
                (Op::LoadFastMethod { slot, name, .. }, Op::LoadMethod { cache, .. }) => Op::LoadFastMethod { slot, name, cache },
                (op, _) => op,
            };
        }
        let attr_caches = (0..ncaches).map(|_| Default::default()).collect();
        let attr_specs = (0..ncaches).map(|_| Default::default()).collect();
        // Runs of instructions sharing a handler become table entries.
        let mut exc_table = Vec::new();
        let mut i = 0;
        while i < u.handlers.len() {
            if let Some((label, depth)) = u.handlers[i] {
                let start = i;
                while i < u.handlers.len() && u.handlers[i] == Some((label, depth)) {
                    i += 1;
                }
                exc_table.push(ExcEntry { start: start as u32, end: i as u32, target: u.labels[label as usize], depth });
            } else {
                i += 1;
            }
        }
        // make_function refines the parameter facts.
        let (argcount, posonly, kwonly) = (s.params.len() as u32, 0, 0);
        let mut flags = CodeFlags::default();
        match s.kind {
            ScopeKind::Function | ScopeKind::Lambda | ScopeKind::Comprehension => {
                if s.is_async && s.is_generator {
                    flags.async_generator = true;
                } else if s.is_async {
                    flags.coroutine = true;
                } else if s.is_generator {
                    flags.generator = true;
                }
            }
            ScopeKind::Class => flags.class_body = true,
            ScopeKind::Module => {}
        }
        let slot = |n: &str| u.slots[n];
        let mut cellvars: Vec<u32> = s.cellvars.iter().map(|n| slot(n)).collect();
        if s.kind == ScopeKind::Class && s.needs_class_cell {
            cellvars.push(slot("__class__"));
        }
        let freevars: Vec<u32> = s.freevars.iter().map(|n| slot(n)).collect();
        let plain_args = !flags.varargs && !flags.varkw && kwonly == 0 && !flags.class_body;
        let resumable = flags.generator || flags.coroutine || flags.async_generator;
        let code = Rc::new(Code {
            name: Rc::new(PyStr::new(&u.name)),
            qualname: Rc::new(PyStr::new(&u.qualname)),
            ops: crate::bytecode::Ops::new(ops),
            spans: u.spans,
            consts: u.consts,
            names: u.names,
            exc_table,
            argcount,
            posonlyargcount: posonly,
            kwonlyargcount: kwonly,
            nlocals: u.varnames.len() as u32,
            varnames: u.varnames.iter().map(|n| crate::intern::intern(n)).collect(),
            cellvars,
            freevars,
            flags,
            source: self.source.clone(),
            span: u.span,
            doc: u.doc,
            simple: plain_args && !resumable,
            simple_resumable: plain_args && resumable,
            attr_caches,
            attr_specs,
        });
        #[cfg(debug_assertions)]
        if let Err(e) = crate::bytecode::check_stack(&code) {
            panic!("the compiler unbalanced the stack: {e}");
        }
        code
    }

    // ------------------------------------------------------------ emitting

    fn emit(&mut self, op: Op) -> usize {
        let u = self.unit();
        u.ops.push(op);
        u.spans.push(u.cur_span);
        u.handlers.push(u.handler);
        u.ops.len() - 1
    }
    fn new_label(&mut self) -> Label {
        let u = self.unit();
        u.labels.push(NO_LABEL);
        (u.labels.len() - 1) as Label
    }
    fn bind_label(&mut self, l: Label) {
        let u = self.unit();
        u.labels[l as usize] = u.ops.len() as u32;
    }
    fn set_span(&mut self, span: Span) -> Span {
        std::mem::replace(&mut self.unit().cur_span, span)
    }

    fn konst(&mut self, v: Value, key: Option<ConstKey>) -> u32 {
        let u = self.unit();
        if let Some(k) = &key {
            if let Some(&i) = u.const_keys.get(k) {
                return i;
            }
        }
        let i = u.consts.len() as u32;
        u.consts.push(v);
        if let Some(k) = key {
            u.const_keys.insert(k, i);
        }
        i
    }
    fn load_const(&mut self, v: Value) {
        let key = match &v {
            Value::Int(i) => Some(ConstKey::Int(*i)),
            Value::Str(s) => Some(ConstKey::Str(s.as_str().to_string())),
            Value::Float(f) => Some(ConstKey::Float(f.get().to_bits())),
            _ => None,
        };
        let i = self.konst(v, key);
        self.emit(Op::LoadConst(i));
    }
    fn load_str(&mut self, s: &str) {
        self.load_const(Value::str(s));
    }
    fn name_idx(&mut self, name: &str) -> u32 {
        let u = self.unit();
        if let Some(&i) = u.name_index.get(name) {
            return i;
        }
        let i = u.names.len() as u32;
        u.names.push(crate::intern::intern(name));
        u.name_index.insert(name.to_string(), i);
        i
    }

    fn push_fblock(&mut self, block: FBlock) {
        let outer = self.u().handler;
        self.push_fblock_under(block, outer);
    }
    /// `push_fblock` for a block whose early exit runs under `outer`
    /// rather than the handler active now: an `except` clause's exit
    /// belongs outside the clause's own handlers, as in CPython.
    fn push_fblock_under(&mut self, block: FBlock, outer: Option<(Label, u32)>) {
        let u = self.unit();
        let e = FBlockEntry { block, outer_handler: outer, depth: u.depth };
        u.fblocks.push(e);
    }
    fn pop_fblock(&mut self) {
        self.unit().fblocks.pop();
    }
    fn set_handler(&mut self, label: Label) -> Option<(Label, u32)> {
        let u = self.unit();
        let depth = u.depth;
        u.handler.replace((label, depth))
    }
    fn restore_handler(&mut self, h: Option<(Label, u32)>) {
        self.unit().handler = h;
    }

    fn is_async_gen(&self) -> bool {
        let s = &self.table.scopes[self.u().scope];
        s.is_async && s.is_generator
    }

    // ------------------------------------------------------------ names

    fn load_name(&mut self, name: &str) {
        self.name_op(name, [Op::LoadFast, Op::LoadDeref, Op::LoadClassDeref, Op::LoadGlobal, Op::LoadName]);
    }
    fn store_name(&mut self, name: &str) {
        self.name_op(name, [Op::StoreFast, Op::StoreDeref, Op::StoreDeref, Op::StoreGlobal, Op::StoreName]);
    }
    fn delete_name(&mut self, name: &str) {
        self.name_op(name, [Op::DeleteFast, Op::DeleteDeref, Op::DeleteDeref, Op::DeleteGlobal, Op::DeleteName]);
    }
    /// Emit the access to `name` that its scope resolves it to. `ops` are the
    /// op for a local slot, a cell, a class body's free variable, a module
    /// global and a name looked up at run time, in that order.
    fn name_op(&mut self, name: &str, ops: [fn(u32) -> Op; 5]) {
        let [fast, deref, class_deref, global, by_name] = ops;
        let op = match self.table.scopes[self.u().scope].lookup(name) {
            Access::Local => fast(self.u().slots[name]),
            Access::Cell | Access::Free => deref(self.u().slots[name]),
            Access::ClassDeref => class_deref(self.u().slots[name]),
            Access::Global | Access::GlobalImplicit if matches!(self.mode, Mode::Eval | Mode::Exec) && self.u().scope == 0 => {
                by_name(self.name_idx(name))
            }
            Access::Global | Access::GlobalImplicit => global(self.module.slot(name)),
            Access::Name => by_name(self.name_idx(name)),
        };
        self.emit(op);
    }

    // ------------------------------------------------------------ statements

    fn stmts(&mut self, body: &[Stmt]) -> Result<(), CompileError> {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), CompileError> {
        let prev = self.set_span(s.span);
        let r = self.stmt_inner(s);
        self.set_span(prev);
        r
    }

    fn stmt_inner(&mut self, s: &Stmt) -> Result<(), CompileError> {
        match &s.kind {
            StmtKind::Expr(e) => {
                self.expr(e)?;
                // Interactive input echoes every expression statement of the
                // module level, also inside `for`, `if`, `with` and `try`
                // bodies (`for i in range(3): i` prints three values), but
                // not those of function or class bodies.
                if self.mode == Mode::Interactive && self.u().scope == 0 {
                    self.emit(Op::PrintExpr);
                } else {
                    self.emit(Op::Pop);
                }
            }
            StmtKind::Assign { targets, value } => {
                if let Some((ts, vs)) = swap_assign(targets, value) {
                    // `a, b = b, a`: the values are reordered on the stack
                    // rather than packed into a tuple and unpacked again.
                    for v in vs {
                        self.expr(v)?;
                    }
                    self.emit(Op::Swap(vs.len() as u32));
                    for t in ts {
                        self.store_target(t)?;
                    }
                } else {
                    self.expr(value)?;
                    for (i, t) in targets.iter().enumerate() {
                        if i + 1 < targets.len() {
                            self.emit(Op::Dup);
                        }
                        self.store_target(t)?;
                    }
                }
            }
            StmtKind::AugAssign { target, op, value } => self.aug_assign(target, *op, value)?,
            StmtKind::AnnAssign { target, annotation, value } => self.ann_assign(target, annotation, value.as_ref())?,
            StmtKind::If { test, body, orelse } => {
                let else_l = self.new_label();
                self.jump_if(test, false, else_l)?;
                self.stmts(body)?;
                if orelse.is_empty() {
                    self.bind_label(else_l);
                } else {
                    let end = self.new_label();
                    self.emit(Op::Jump(end));
                    self.bind_label(else_l);
                    self.stmts(orelse)?;
                    self.bind_label(end);
                }
            }
            StmtKind::While { test, body, orelse } => {
                let start = self.new_label();
                let else_l = self.new_label();
                let end = self.new_label();
                self.bind_label(start);
                self.jump_if(test, false, else_l)?;
                self.push_fblock(FBlock::While { start, end });
                self.stmts(body)?;
                self.pop_fblock();
                self.emit(Op::Jump(start));
                self.bind_label(else_l);
                self.stmts(orelse)?;
                self.bind_label(end);
            }
            StmtKind::For { is_async: false, target, iter, body, orelse } => {
                let start = self.new_label();
                let else_l = self.new_label();
                let end = self.new_label();
                self.expr(iter)?;
                self.emit(Op::GetIter);
                self.unit().depth += 1;
                self.bind_label(start);
                let prev = self.set_span(iter.span);
                self.emit(Op::ForIter(else_l));
                self.set_span(prev);
                self.store_target(target)?;
                self.push_fblock(FBlock::For { start, end });
                self.stmts(body)?;
                self.pop_fblock();
                self.emit(Op::Jump(start));
                self.unit().depth -= 1;
                self.bind_label(else_l);
                self.stmts(orelse)?;
                self.bind_label(end);
            }
            StmtKind::For { is_async: true, target, iter, body, orelse } => {
                let start = self.new_label();
                let stop = self.new_label();
                let end = self.new_label();
                self.expr(iter)?;
                self.emit(Op::GetAIter);
                self.unit().depth += 1;
                self.bind_label(start);
                let saved = self.set_handler(stop);
                let prev = self.set_span(iter.span);
                self.emit(Op::GetANext);
                self.await_loop()?;
                self.set_span(prev);
                self.restore_handler(saved);
                self.store_target(target)?;
                self.push_fblock(FBlock::For { start, end });
                self.stmts(body)?;
                self.pop_fblock();
                self.emit(Op::Jump(start));
                // StopAsyncIteration lands here with `<aiter> <exc>`.
                self.bind_label(stop);
                self.emit(Op::EndAsyncFor);
                self.unit().depth -= 1;
                self.stmts(orelse)?;
                self.bind_label(end);
            }
            StmtKind::Break => self.break_continue(s.span, true)?,
            StmtKind::Continue => self.break_continue(s.span, false)?,
            StmtKind::Pass => {}
            StmtKind::Return(v) => {
                match v {
                    Some(v) => self.expr(v)?,
                    None => {
                        self.emit(Op::LoadNone);
                    }
                }
                self.unwind_all(true)?;
                self.emit(Op::ReturnValue);
            }
            StmtKind::FunctionDef(f) => self.function_def(f)?,
            StmtKind::ClassDef(c) => self.class_def(c)?,
            StmtKind::Try { body, handlers, orelse, finalbody, star } => {
                if finalbody.is_empty() {
                    self.try_except(body, handlers, orelse, *star)?;
                } else {
                    self.try_finally(body, handlers, orelse, finalbody, *star)?;
                }
            }
            StmtKind::Raise { exc, cause } => match (exc, cause) {
                (None, _) => {
                    self.emit(Op::Raise(0));
                }
                (Some(e), None) => {
                    self.expr(e)?;
                    self.emit(Op::Raise(1));
                }
                (Some(e), Some(c)) => {
                    self.expr(e)?;
                    self.expr(c)?;
                    self.emit(Op::Raise(2));
                }
            },
            StmtKind::With { is_async, items, body } => self.with(items, body, *is_async)?,
            StmtKind::Match { subject, cases } => self.match_stmt(subject, cases)?,
            StmtKind::Global(_) | StmtKind::Nonlocal(_) => {}
            StmtKind::Delete(targets) => {
                for t in targets {
                    self.delete_target(t)?;
                }
            }
            StmtKind::Assert { test, msg } => {
                let end = self.new_label();
                self.jump_if(test, true, end)?;
                self.emit(Op::LoadAssertionError);
                if let Some(m) = msg {
                    self.expr(m)?;
                    self.emit(Op::Call(1));
                }
                self.emit(Op::Raise(1));
                self.bind_label(end);
            }
            StmtKind::Import(aliases) => {
                for a in aliases {
                    let idx = self.name_idx(&a.name.name);
                    let prev = self.set_span(a.name.span);
                    self.emit(Op::ImportName(idx));
                    self.set_span(prev);
                    match &a.asname {
                        // `import a.b as c` binds the innermost module, which ImportName gives.
                        Some(n) => self.store_name(&n.name),
                        None => {
                            // `import a.b` binds the package `a`.
                            let first = a.name.name.split('.').next().unwrap_or("").to_string();
                            if first != a.name.name {
                                self.emit(Op::Pop);
                                let top = self.name_idx(&first);
                                self.emit(Op::ImportName(top));
                            }
                            self.store_name(&first);
                        }
                    }
                }
            }
            StmtKind::ImportFrom { module, names, star } => {
                if module.name == "__future__" && !self.future.starts.contains(&s.span.start) {
                    return Err(cerr("from __future__ imports must occur at the beginning of the file", s.span));
                }
                let idx = self.name_idx(&module.name);
                let prev = self.set_span(module.span);
                self.emit(Op::ImportName(idx));
                self.set_span(prev);
                if *star {
                    self.emit(Op::ImportStar);
                } else {
                    for a in names {
                        let i = self.name_idx(&a.name.name);
                        let prev = self.set_span(a.name.span);
                        self.emit(Op::ImportFrom(i));
                        self.set_span(prev);
                        let bind = a.asname.as_ref().unwrap_or(&a.name);
                        self.store_name(&bind.name);
                    }
                    self.emit(Op::Pop);
                }
            }
        }
        Ok(())
    }

    /// `match`: the subject stays on the stack while the cases try it in
    /// turn; each case matches a copy (the last one the subject itself),
    /// keeps what it captures on the stack, and binds the names only once
    /// the whole pattern has matched (as CPython does).
    fn match_stmt(&mut self, subject: &Expr, cases: &[MatchCase]) -> Result<(), CompileError> {
        self.expr(subject)?;
        let end = self.new_label();
        for (i, case) in cases.iter().enumerate() {
            let last = i + 1 == cases.len();
            let mut pc = PatCtx { stores: Vec::new(), on_top: 0, allow_irrefutable: case.guard.is_some() || last, fail: Vec::new() };
            if !last {
                self.emit(Op::Dup);
            }
            self.pattern(&case.pattern, &mut pc)?;
            for (name, _) in pc.stores.iter().rev() {
                self.store_name(name);
            }
            if let Some(g) = &case.guard {
                let fail = self.fail_label(&mut pc, 0);
                self.jump_if(g, false, fail)?;
            }
            if !last {
                self.emit(Op::Pop);
            }
            self.stmts(&case.body)?;
            // The last case's failure pads pop nothing but the pattern's own items.
            if !last || pc.fail.len() > 1 {
                self.emit(Op::Jump(end));
            }
            self.fail_pops(&pc);
        }
        self.bind_label(end);
        Ok(())
    }

    /// The label that pops `pops` items and goes on to the next alternative.
    fn fail_label(&mut self, pc: &mut PatCtx, pops: usize) -> Label {
        while pc.fail.len() <= pops {
            let l = self.new_label();
            pc.fail.push(l);
        }
        pc.fail[pops]
    }

    /// Jumps to failure (through `op`) with the pattern's captures and
    /// pending items, plus `extra`, to pop.
    fn jump_fail(&mut self, pc: &mut PatCtx, extra: usize, op: fn(u32) -> Op) {
        let pops = pc.on_top + pc.stores.len() + extra;
        let l = self.fail_label(pc, pops);
        self.emit(op(l));
    }

    /// The failure landing pads: each pops one item and falls into the next.
    fn fail_pops(&mut self, pc: &PatCtx) {
        for (k, &l) in pc.fail.iter().enumerate().rev() {
            self.bind_label(l);
            if k > 0 {
                self.emit(Op::Pop);
            }
        }
    }

    /// Keeps the matched value on top as the capture `name`, below the items still being matched.
    fn capture(&mut self, name: &Ident, pc: &mut PatCtx) -> Result<(), CompileError> {
        if pc.stores.iter().any(|(n, _)| *n == name.name) {
            return Err(cerr(format!("multiple assignments to name '{}' in pattern", name.name), name.span));
        }
        if pc.on_top > 0 {
            self.emit(Op::Rot(pc.on_top as u32 + 1));
        }
        pc.stores.push((name.name.clone(), name.span));
        Ok(())
    }

    /// `<v> =>`: matches v against `p`, or jumps to a failure pad.
    fn pattern(&mut self, p: &Pattern, pc: &mut PatCtx) -> Result<(), CompileError> {
        let prev = self.set_span(p.span);
        let r = self.pattern_inner(p, pc);
        self.set_span(prev);
        r
    }

    /// A sub-pattern of a sequence, mapping or class pattern, which may be irrefutable.
    fn subpattern(&mut self, p: &Pattern, pc: &mut PatCtx) -> Result<(), CompileError> {
        pc.on_top -= 1;
        let allow = std::mem::replace(&mut pc.allow_irrefutable, true);
        let r = self.pattern(p, pc);
        pc.allow_irrefutable = allow;
        r
    }

    fn pattern_inner(&mut self, p: &Pattern, pc: &mut PatCtx) -> Result<(), CompileError> {
        match &p.kind {
            PatternKind::Value(e) => {
                self.expr(e)?;
                self.emit(Op::Compare(cmpop_index(CmpOp::Eq)));
                self.jump_fail(pc, 0, Op::PopJumpIfFalse);
            }
            PatternKind::Singleton(e) => {
                self.expr(e)?;
                self.emit(Op::Is(0));
                self.jump_fail(pc, 0, Op::PopJumpIfFalse);
            }
            PatternKind::As { pattern: None, name } => {
                if !pc.allow_irrefutable {
                    let e = match name {
                        Some(n) => CompileError {
                            message: format!("name capture '{}' makes remaining patterns unreachable", n.name),
                            span: p.span,
                            notes: vec![format!(
                                "a bare name matches anything and binds it; to compare with the value of a variable, use a dotted name such as `Color.{}`",
                                n.name.to_uppercase()
                            )],
                        },
                        None => CompileError {
                            message: "wildcard makes remaining patterns unreachable".to_string(),
                            span: p.span,
                            notes: vec!["`_` matches anything: put this case last".to_string()],
                        },
                    };
                    return Err(e);
                }
                match name {
                    Some(n) => self.capture(n, pc)?,
                    None => {
                        self.emit(Op::Pop);
                    }
                }
            }
            PatternKind::As { pattern: Some(inner), name } => {
                self.emit(Op::Dup);
                pc.on_top += 1;
                self.pattern(inner, pc)?;
                pc.on_top -= 1;
                match name {
                    Some(n) => self.capture(n, pc)?,
                    None => {
                        self.emit(Op::Pop);
                    }
                }
            }
            PatternKind::Star(name) => match name {
                Some(n) => self.capture(n, pc)?,
                None => {
                    self.emit(Op::Pop);
                }
            },
            PatternKind::Sequence(items) => {
                let n = items.len();
                let star = items.iter().position(|i| matches!(i.kind, PatternKind::Star(_)));
                self.emit(Op::MatchSequence);
                self.jump_fail(pc, 1, Op::PopJumpIfFalse);
                if star.is_none() || n > 1 {
                    self.emit(Op::GetLen);
                    let want = if star.is_some() { n - 1 } else { n };
                    self.emit(Op::LoadInt(want as i32));
                    let cmp = if star.is_some() { CmpOp::GtE } else { CmpOp::Eq };
                    self.emit(Op::Compare(cmpop_index(cmp)));
                    self.jump_fail(pc, 1, Op::PopJumpIfFalse);
                }
                match star {
                    None => self.emit(Op::UnpackSequence(n as u32)),
                    Some(si) => self.emit(Op::UnpackEx(si as u16, (n - si - 1) as u16)),
                };
                pc.on_top += n;
                for item in items {
                    self.subpattern(item, pc)?;
                }
            }
            PatternKind::Mapping { keys, patterns, rest } => {
                self.emit(Op::MatchMapping);
                self.jump_fail(pc, 1, Op::PopJumpIfFalse);
                if keys.is_empty() && rest.is_none() {
                    self.emit(Op::Pop);
                    return Ok(());
                }
                self.check_mapping_keys(keys)?;
                if !keys.is_empty() {
                    self.emit(Op::GetLen);
                    self.emit(Op::LoadInt(keys.len() as i32));
                    self.emit(Op::Compare(cmpop_index(CmpOp::GtE)));
                    self.jump_fail(pc, 1, Op::PopJumpIfFalse);
                }
                for k in keys {
                    self.expr(k)?;
                }
                self.emit(Op::BuildTuple(keys.len() as u32));
                if !keys.is_empty() {
                    self.emit(Op::MatchKeys);
                    self.emit(Op::Dup);
                    self.emit(Op::LoadNone);
                    self.emit(Op::Is(1));
                    self.jump_fail(pc, 3, Op::PopJumpIfFalse);
                    self.emit(Op::UnpackSequence(keys.len() as u32));
                }
                pc.on_top += 2 + keys.len();
                for item in patterns {
                    self.subpattern(item, pc)?;
                }
                pc.on_top -= 2;
                match rest {
                    Some(n) => {
                        self.emit(Op::MatchRest);
                        self.capture(n, pc)?;
                    }
                    None => {
                        self.emit(Op::Pop);
                        self.emit(Op::Pop);
                    }
                }
            }
            PatternKind::Class { cls, patterns, kwd_attrs, kwd_patterns } => {
                self.expr(cls)?;
                let names: Vec<Value> = kwd_attrs.iter().map(|a| Value::string(a.name.clone())).collect();
                self.load_const(Value::tuple(names));
                self.emit(Op::MatchClass(patterns.len() as u32));
                self.emit(Op::Dup);
                self.emit(Op::LoadNone);
                self.emit(Op::Is(1));
                self.jump_fail(pc, 1, Op::PopJumpIfFalse);
                let n = patterns.len() + kwd_patterns.len();
                if n == 0 {
                    self.emit(Op::Pop);
                    return Ok(());
                }
                self.emit(Op::UnpackSequence(n as u32));
                pc.on_top += n;
                for item in patterns.iter().chain(kwd_patterns) {
                    self.subpattern(item, pc)?;
                }
            }
            PatternKind::Or(alts) => self.or_pattern(alts, pc)?,
        }
        Ok(())
    }

    /// `p1 | p2 | ...`: each alternative tries a copy of the value with its
    /// own captures, which are put in the first alternative's order.
    fn or_pattern(&mut self, alts: &[Pattern], pc: &mut PatCtx) -> Result<(), CompileError> {
        let end = self.new_label();
        let mut control: Option<Vec<(String, Span)>> = None;
        for (i, alt) in alts.iter().enumerate() {
            let last = i + 1 == alts.len();
            let mut sub = PatCtx { stores: Vec::new(), on_top: 0, allow_irrefutable: last && pc.allow_irrefutable, fail: Vec::new() };
            self.emit(Op::Dup);
            self.pattern(alt, &mut sub)?;
            let mut cur: Vec<String> = sub.stores.iter().map(|(n, _)| n.clone()).collect();
            match &control {
                None => control = Some(sub.stores.clone()),
                Some(ctl) => {
                    let same = ctl.len() == cur.len() && ctl.iter().all(|(n, _)| cur.contains(n));
                    if !same {
                        return Err(cerr("alternative patterns bind different names", alt.span));
                    }
                    let n = cur.len();
                    for (name, _) in ctl {
                        let j = cur.iter().position(|c| c == name).expect("the same names");
                        if n - j > 1 {
                            self.emit(Op::Pull((n - j) as u32));
                        }
                        let c = cur.remove(j);
                        cur.push(c);
                    }
                }
            }
            // The value under the captures goes.
            let n = cur.len();
            if n > 0 {
                self.emit(Op::Pull(n as u32 + 1));
            }
            self.emit(Op::Pop);
            self.emit(Op::Jump(end));
            self.fail_pops(&sub);
        }
        self.jump_fail(pc, 1, Op::Jump);
        self.bind_label(end);
        let control = control.unwrap_or_default();
        let n = control.len();
        if pc.on_top > 0 {
            for _ in 0..n {
                self.emit(Op::Rot((pc.on_top + n) as u32));
            }
        }
        for (name, span) in control {
            if pc.stores.iter().any(|(s, _)| *s == name) {
                return Err(cerr(format!("multiple assignments to name '{name}' in pattern"), span));
            }
            pc.stores.push((name, span));
        }
        Ok(())
    }

    /// `target: annotation [= value]`. In a module or class body the
    /// annotation of a name goes into `__annotations__`; other annotations
    /// are evaluated there (for their errors) and dropped; a function
    /// evaluates none.
    fn ann_assign(&mut self, target: &Expr, annotation: &Expr, value: Option<&Expr>) -> Result<(), CompileError> {
        if let Some(v) = value {
            self.expr(v)?;
            self.store_target(target)?;
        }
        let in_function = self.table.scopes[self.u().scope].is_function_like();
        match &target.kind {
            ExprKind::Name(n) => {
                if !in_function {
                    self.annotation(annotation)?;
                    let i = self.name_idx("__annotations__");
                    self.emit(Op::LoadName(i));
                    self.load_str(n);
                    self.emit(Op::StoreSubscr);
                }
            }
            _ => {
                // `obj.attr: T` and `obj[i]: T` without a value still evaluate the object (and index).
                if value.is_none() {
                    match &target.kind {
                        ExprKind::Attribute { value: obj, .. } => {
                            self.expr(obj)?;
                            self.emit(Op::Pop);
                        }
                        ExprKind::Subscript { value: obj, index } => {
                            self.expr(obj)?;
                            self.emit(Op::Pop);
                            self.subscript_index(index)?;
                            self.emit(Op::Pop);
                        }
                        _ => {}
                    }
                }
                if !in_function && !self.future.annotations {
                    self.expr(annotation)?;
                    self.emit(Op::Pop);
                }
            }
        }
        Ok(())
    }

    /// A mapping pattern may not name the same literal key twice (`1`,
    /// `1.0` and `True` being the same key).
    fn check_mapping_keys(&mut self, keys: &[Expr]) -> Result<(), CompileError> {
        #[derive(PartialEq)]
        enum Key {
            Str(String),
            None,
            Num(f64),
        }
        let mut seen: Vec<Key> = Vec::new();
        for k in keys {
            let (key, shown) = match &k.kind {
                ExprKind::Str(s) => (Key::Str(s.clone()), crate::types::debug_repr(&Value::string(s.clone()))),
                ExprKind::None => (Key::None, "None".to_string()),
                ExprKind::True => (Key::Num(1.0), "True".to_string()),
                ExprKind::False => (Key::Num(0.0), "False".to_string()),
                _ => match fold_number(k) {
                    Some(v @ Value::Int(n)) => (Key::Num(n as f64), crate::types::debug_repr(&v)),
                    Some(v @ Value::Float(f)) => (Key::Num(f.get()), crate::types::debug_repr(&v)),
                    _ => continue,
                },
            };
            if seen.contains(&key) {
                return Err(cerr(format!("mapping pattern checks duplicate key ({shown})"), k.span));
            }
            seen.push(key);
        }
        Ok(())
    }

    /// Push an annotation's value: the expression evaluated, or under
    /// `from __future__ import annotations` its source text.
    fn annotation(&mut self, e: &Expr) -> Result<(), CompileError> {
        if self.future.annotations {
            self.load_str(&crate::unparse::unparse(e));
            Ok(())
        } else {
            self.expr(e)
        }
    }

    /// Start a module or class body that annotates names with an empty
    /// `__annotations__`.
    fn setup_annotations(&mut self, body: &[Stmt]) {
        if has_annotations(body) {
            self.emit(Op::SetupAnnotations);
        }
    }

    fn aug_assign(&mut self, target: &Expr, op: BinOp, value: &Expr) -> Result<(), CompileError> {
        let opcode = Op::Binary(binop_index(op) | INPLACE);
        match &target.kind {
            ExprKind::Name(n) => {
                self.load_name(n);
                self.expr(value)?;
                self.emit(opcode);
                self.store_name(n);
            }
            // The object (and index) stay on the stack under the value from
            // the read to the store, as CPython's copies and swaps leave them.
            ExprKind::Attribute { value: obj, attr } => {
                self.expr(obj)?;
                let i = self.name_idx(&attr.name);
                self.emit(Op::LoadAttrKeep { name: i, cache: NO_CACHE });
                self.expr(value)?;
                self.emit(opcode);
                self.emit(Op::StoreAttrKept { name: i, cache: NO_CACHE });
            }
            ExprKind::Subscript { value: obj, index } => {
                self.expr(obj)?;
                self.subscript_index(index)?;
                self.emit(Op::SubscrKeep);
                self.expr(value)?;
                self.emit(opcode);
                self.emit(Op::StoreSubscrKept);
            }
            _ => return Err(cerr("illegal expression for augmented assignment", target.span)),
        }
        Ok(())
    }

    fn break_continue(&mut self, span: Span, is_break: bool) -> Result<(), CompileError> {
        // Unwind the blocks inside the innermost loop, then jump.
        let n = self.u().fblocks.len();
        let mut loop_at = None;
        for i in (0..n).rev() {
            if matches!(self.u().fblocks[i].block, FBlock::While { .. } | FBlock::For { .. }) {
                loop_at = Some(i);
                break;
            }
        }
        let Some(li) = loop_at else {
            return Err(cerr(if is_break { "'break' outside loop" } else { "'continue' not properly in loop" }, span));
        };
        let saved_handler = self.u().handler;
        let saved_depth = self.u().depth;
        for i in (li + 1..n).rev() {
            self.unwind_block(i, false)?;
        }
        let (start, end, is_for) = match self.u().fblocks[li].block {
            FBlock::While { start, end } => (start, end, false),
            FBlock::For { start, end, .. } => (start, end, true),
            _ => unreachable!("break and continue find only loop blocks"),
        };
        if is_break {
            if is_for {
                let h = self.u().fblocks[li].outer_handler;
                self.unit().handler = h;
                self.emit(Op::Pop);
            }
            self.emit(Op::Jump(end));
        } else {
            self.emit(Op::Jump(start));
        }
        self.unit().handler = saved_handler;
        self.unit().depth = saved_depth;
        Ok(())
    }

    /// Emit the exit code of every enclosing block (for `return`).
    fn unwind_all(&mut self, preserve_tos: bool) -> Result<(), CompileError> {
        let saved_handler = self.u().handler;
        let saved_depth = self.u().depth;
        let n = self.u().fblocks.len();
        for i in (0..n).rev() {
            self.unwind_block(i, preserve_tos)?;
        }
        self.unit().handler = saved_handler;
        self.unit().depth = saved_depth;
        Ok(())
    }

    /// Emit what leaving fblock `i` early requires. Runs under the handler
    /// that was active outside the block.
    fn unwind_block(&mut self, i: usize, preserve_tos: bool) -> Result<(), CompileError> {
        let outer = self.u().fblocks[i].outer_handler;
        let depth = self.u().fblocks[i].depth;
        self.unit().handler = outer;
        self.unit().depth = depth + preserve_tos as u32;
        let block = self.u().fblocks[i].block.clone();
        match block {
            FBlock::While { .. } | FBlock::TryExcept => {}
            FBlock::For { .. } => {
                if preserve_tos {
                    self.emit(Op::Swap(2));
                }
                self.emit(Op::Pop);
            }
            FBlock::FinallyTry { body } => {
                // Run the finally body with only the outer blocks active.
                let saved: Vec<FBlockEntry> = self.unit().fblocks.drain(i..).collect();
                self.stmts(&body)?;
                let u = self.unit();
                u.fblocks.extend(saved);
            }
            FBlock::FinallyEnd => {
                // <prev> <exc> [<ret>]
                if preserve_tos {
                    self.emit(Op::Swap(2));
                }
                self.emit(Op::Pop);
                if preserve_tos {
                    self.emit(Op::Swap(2));
                }
                self.emit(Op::PopExcept);
            }
            FBlock::With { is_async } => {
                if preserve_tos {
                    self.emit(Op::Swap(2));
                }
                self.emit(Op::LoadNone);
                self.emit(Op::LoadNone);
                self.emit(Op::LoadNone);
                self.emit(Op::Call(3));
                if is_async {
                    self.emit(Op::GetAwaitable(2));
                    self.await_loop()?;
                }
                self.emit(Op::Pop);
            }
            FBlock::HandlerCleanup { name } => {
                if preserve_tos {
                    self.emit(Op::Swap(2));
                }
                self.emit(Op::PopExcept);
                if let Some(n) = name {
                    self.emit(Op::LoadNone);
                    self.store_name(&n);
                    self.delete_name(&n);
                }
            }
        }
        Ok(())
    }

    fn try_except(&mut self, body: &[Stmt], handlers: &[ExceptHandler], orelse: &[Stmt], star: bool) -> Result<(), CompileError> {
        let except_l = self.new_label();
        let end = self.new_label();
        let saved = self.set_handler(except_l);
        self.push_fblock_under(FBlock::TryExcept, saved);
        self.stmts(body)?;
        self.pop_fblock();
        self.restore_handler(saved);
        self.stmts(orelse)?;
        self.emit(Op::Jump(end));
        self.bind_label(except_l);
        if star {
            self.star_handlers(handlers, end)?;
        } else {
            self.handlers(handlers, end)?;
        }
        self.bind_label(end);
        Ok(())
    }

    /// The `except` clauses: entered with `<exc>` on the stack.
    fn handlers(&mut self, handlers: &[ExceptHandler], end: Label) -> Result<(), CompileError> {
        let cleanup = self.new_label();
        self.emit(Op::PushExcInfo);
        self.unit().depth += 1;
        let saved = self.set_handler(cleanup);
        for h in handlers {
            let prev_span = self.set_span(h.span);
            let next = self.new_label();
            if let Some(t) = &h.typ {
                self.expr(t)?;
                self.emit(Op::CheckExcMatch);
                self.emit(Op::PopJumpIfFalse(next));
            }
            match &h.name {
                Some(n) => {
                    self.store_name(&n.name);
                    let name_cleanup = self.new_label();
                    let inner = self.set_handler(name_cleanup);
                    self.push_fblock_under(FBlock::HandlerCleanup { name: Some(n.name.clone()) }, saved);
                    self.set_span(prev_span);
                    self.stmts(&h.body)?;
                    self.pop_fblock();
                    // The way out of the clause is outside its handlers, as
                    // in CPython: the stack no longer holds what they keep.
                    self.restore_handler(saved);
                    self.emit(Op::PopExcept);
                    self.emit(Op::LoadNone);
                    self.store_name(&n.name);
                    self.delete_name(&n.name);
                    self.emit(Op::Jump(end));
                    self.restore_handler(inner);
                    // An exception inside the body: unbind the name, re-raise to cleanup.
                    self.bind_label(name_cleanup);
                    self.emit(Op::LoadNone);
                    self.store_name(&n.name);
                    self.delete_name(&n.name);
                    self.emit(Op::Reraise);
                }
                None => {
                    self.emit(Op::Pop);
                    self.push_fblock_under(FBlock::HandlerCleanup { name: None }, saved);
                    self.set_span(prev_span);
                    self.stmts(&h.body)?;
                    self.pop_fblock();
                    let in_clause = self.unit().handler;
                    self.restore_handler(saved);
                    self.emit(Op::PopExcept);
                    self.emit(Op::Jump(end));
                    self.restore_handler(in_clause);
                }
            }
            self.bind_label(next);
        }
        // No clause matched: re-raise.
        self.emit(Op::Reraise);
        self.restore_handler(saved);
        self.unit().depth -= 1;
        self.bind_label(cleanup);
        self.emit(Op::Swap(2));
        self.emit(Op::PopExcept);
        self.emit(Op::Reraise);
        Ok(())
    }

    /// `except*` clauses, entered with `<exc>` on the stack. Each clause
    /// splits off the matching part of the group; what was raised or left
    /// unmatched is re-raised at the end.
    fn star_handlers(&mut self, handlers: &[ExceptHandler], end: Label) -> Result<(), CompileError> {
        let cleanup = self.new_label();
        let reraise = self.new_label();
        // <exc> => <prev> <orig>   then keep: <prev> <orig> <raised list> <rest>
        self.emit(Op::PushExcInfo);
        self.unit().depth += 1;
        let saved = self.set_handler(cleanup);
        self.emit(Op::BuildList(0));
        self.emit(Op::Copy(2));
        self.unit().depth += 3;
        for h in handlers {
            let prev_span = self.set_span(h.span);
            let next = self.new_label();
            let typ = h.typ.as_ref().ok_or_else(|| cerr("expected exception type after 'except*'", h.span))?;
            // <rest> <type> => <rest'> <match>
            self.expr(typ)?;
            self.emit(Op::CheckEgMatch);
            self.emit(Op::Copy(1));
            self.emit(Op::LoadNone);
            self.emit(Op::Is(0));
            let matched = self.new_label();
            self.emit(Op::PopJumpIfFalse(matched));
            self.emit(Op::Pop);
            self.emit(Op::Jump(next));
            self.bind_label(matched);
            // The matched group becomes the handled exception for the body.
            let body_exc = self.new_label();
            self.emit(Op::PushExcInfo);
            self.unit().depth += 1;
            match &h.name {
                Some(n) => self.store_name(&n.name),
                None => {
                    self.emit(Op::Pop);
                }
            }
            let inner = self.set_handler(body_exc);
            self.set_span(prev_span);
            self.stmts(&h.body)?;
            self.restore_handler(inner);
            self.emit(Op::PopExcept);
            self.unit().depth -= 1;
            if let Some(n) = &h.name {
                self.emit(Op::LoadNone);
                self.store_name(&n.name);
                self.delete_name(&n.name);
            }
            self.emit(Op::Jump(next));
            // Raised in the body: <prev> <orig> <list> <rest> <prevm> <exc2>: record it.
            self.bind_label(body_exc);
            self.emit(Op::Swap(2));
            self.emit(Op::PopExcept);
            if let Some(n) = &h.name {
                self.emit(Op::LoadNone);
                self.store_name(&n.name);
                self.delete_name(&n.name);
            }
            self.emit(Op::ListAppend(2));
            self.bind_label(next);
        }
        // <prev> <orig> <list> <rest>
        self.unit().depth -= 3;
        self.restore_handler(saved);
        self.emit(Op::ListAppend(1));
        self.emit(Op::PrepReraiseStar);
        self.emit(Op::Copy(1));
        self.emit(Op::LoadNone);
        self.emit(Op::Is(0));
        self.emit(Op::PopJumpIfFalse(reraise));
        self.emit(Op::Pop);
        self.emit(Op::PopExcept);
        self.emit(Op::Jump(end));
        self.bind_label(reraise);
        self.emit(Op::Swap(2));
        self.emit(Op::PopExcept);
        self.emit(Op::Reraise);
        self.unit().depth -= 1;
        self.bind_label(cleanup);
        self.emit(Op::Swap(2));
        self.emit(Op::PopExcept);
        self.emit(Op::Reraise);
        Ok(())
    }

    fn try_finally(
        &mut self,
        body: &[Stmt],
        handlers: &[ExceptHandler],
        orelse: &[Stmt],
        finalbody: &[Stmt],
        star: bool,
    ) -> Result<(), CompileError> {
        let fin_exc = self.new_label();
        let end = self.new_label();
        let saved = self.set_handler(fin_exc);
        // Leaving early runs the finally body outside its own handler: an
        // exception there must not run it a second time.
        self.push_fblock_under(FBlock::FinallyTry { body: Rc::new(finalbody.to_vec()) }, saved);
        if handlers.is_empty() {
            self.stmts(body)?;
        } else {
            self.try_except(body, handlers, orelse, star)?;
        }
        self.pop_fblock();
        self.restore_handler(saved);
        self.stmts(finalbody)?;
        self.emit(Op::Jump(end));
        // The exceptional path: <exc> on the stack.
        self.bind_label(fin_exc);
        let cleanup = self.new_label();
        self.emit(Op::PushExcInfo);
        self.unit().depth += 1;
        let saved = self.set_handler(cleanup);
        self.unit().depth += 1;
        self.push_fblock_under(FBlock::FinallyEnd, saved);
        self.stmts(finalbody)?;
        self.pop_fblock();
        self.unit().depth -= 1;
        self.emit(Op::Reraise);
        self.restore_handler(saved);
        self.unit().depth -= 1;
        self.bind_label(cleanup);
        self.emit(Op::Swap(2));
        self.emit(Op::PopExcept);
        self.emit(Op::Reraise);
        self.bind_label(end);
        Ok(())
    }

    fn with(&mut self, items: &[WithItem], body: &[Stmt], is_async: bool) -> Result<(), CompileError> {
        let Some((first, rest)) = items.split_first() else {
            return self.stmts(body);
        };
        let exc_l = self.new_label();
        let end = self.new_label();
        let prev = self.set_span(first.context.span);
        self.expr(&first.context)?;
        if is_async {
            self.emit(Op::BeforeAsyncWith);
            self.emit(Op::GetAwaitable(1));
            self.await_loop()?;
        } else {
            self.emit(Op::BeforeWith);
        }
        self.set_span(prev);
        self.unit().depth += 1;
        let saved = self.set_handler(exc_l);
        // Leaving early calls `__exit__` outside the block's own handler,
        // which would call it again if it raised.
        self.push_fblock_under(FBlock::With { is_async }, saved);
        match &first.target {
            Some(t) => self.store_target(t)?,
            None => {
                self.emit(Op::Pop);
            }
        }
        if rest.is_empty() {
            self.stmts(body)?;
        } else {
            self.with(rest, body, is_async)?;
        }
        self.pop_fblock();
        self.restore_handler(saved);
        let prev = self.set_span(first.context.span);
        self.emit(Op::LoadNone);
        self.emit(Op::LoadNone);
        self.emit(Op::LoadNone);
        self.emit(Op::Call(3));
        if is_async {
            self.emit(Op::GetAwaitable(2));
            self.await_loop()?;
        }
        self.emit(Op::Pop);
        self.emit(Op::Jump(end));
        // <exit> <exc>
        self.bind_label(exc_l);
        let cleanup = self.new_label();
        let suppress = self.new_label();
        self.emit(Op::PushExcInfo);
        self.unit().depth += 1;
        let saved = self.set_handler(cleanup);
        self.emit(Op::WithExceptStart);
        if is_async {
            self.emit(Op::GetAwaitable(2));
            self.await_loop()?;
        }
        self.emit(Op::PopJumpIfTrue(suppress));
        self.emit(Op::Reraise);
        self.restore_handler(saved);
        self.bind_label(suppress);
        self.emit(Op::Pop);
        self.emit(Op::PopExcept);
        self.emit(Op::Pop);
        self.emit(Op::Jump(end));
        self.bind_label(cleanup);
        self.emit(Op::Swap(2));
        self.emit(Op::PopExcept);
        self.emit(Op::Reraise);
        self.unit().depth -= 2;
        self.set_span(prev);
        self.bind_label(end);
        Ok(())
    }

    /// `<awaitable iter>` => `<result>`: the send/yield loop of `await`.
    fn await_loop(&mut self) -> Result<(), CompileError> {
        let send = self.new_label();
        let exit = self.new_label();
        self.emit(Op::LoadNone);
        self.bind_label(send);
        self.emit(Op::Send(exit));
        self.emit(Op::YieldValue(1));
        self.emit(Op::Jump(send));
        self.bind_label(exit);
        Ok(())
    }

    // ------------------------------------------------------------ definitions

    fn function_def(&mut self, f: &FunctionDef) -> Result<(), CompileError> {
        for d in &f.decorators {
            self.expr(d)?;
        }
        let scope = self.table.of(node_key(f));
        let qualname = self.child_qualname(&f.name.name);
        let header = Span::new(f.name.span.start as usize, f.name.span.end as usize);
        self.make_function(scope, &f.name.name, &qualname, &f.params, f.returns.as_ref(), header, |c| {
            c.unit().doc = docstring(&f.body).map(|d| Rc::new(PyStr::new(d)));
            // The docstring stays in the body too: evaluating it does nothing.
            c.stmts(&f.body)?;
            if !matches!(f.body.last().map(|s| &s.kind), Some(StmtKind::Return(_))) {
                c.emit(Op::LoadNone);
                c.emit(Op::ReturnValue);
            }
            Ok(())
        })?;
        for _ in &f.decorators {
            self.emit(Op::Call(1));
        }
        self.store_name(f.binding());
        Ok(())
    }

    fn child_qualname(&self, name: &str) -> String {
        let u = self.u();
        let s = &self.table.scopes[u.scope];
        match s.kind {
            ScopeKind::Module => name.to_string(),
            ScopeKind::Class => format!("{}.{}", u.qualname, name),
            _ => format!("{}.<locals>.{}", u.qualname, name),
        }
    }

    /// Compile a function-like scope and emit the code that makes the function.
    // Each argument is a separate part of the definition (def and lambda share this).
    #[allow(clippy::too_many_arguments)]
    fn make_function(
        &mut self,
        scope: usize,
        name: &str,
        qualname: &str,
        params: &Params,
        returns: Option<&Expr>,
        span: Span,
        body: impl FnOnce(&mut Compiler) -> Result<(), CompileError>,
    ) -> Result<(), CompileError> {
        // Defaults, evaluated now in the enclosing scope.
        let defaults: Vec<&Expr> = params.posonly.iter().chain(&params.args).filter_map(|p| p.default.as_ref()).collect();
        let has_defaults = !defaults.is_empty();
        if has_defaults {
            for d in &defaults {
                self.expr(d)?;
            }
            self.emit(Op::BuildTuple(defaults.len() as u32));
        }
        let kwdefaults: Vec<(&str, &Expr)> =
            params.kwonly.iter().filter_map(|p| p.default.as_ref().map(|d| (p.name.name.as_str(), d))).collect();
        let has_kwdefaults = !kwdefaults.is_empty();
        if has_kwdefaults {
            for (n, d) in &kwdefaults {
                self.load_str(n);
                self.expr(d)?;
            }
            self.emit(Op::BuildMap(kwdefaults.len() as u32));
        }
        // Annotations, as a flat tuple of names and values.
        let mut annotated = 0;
        let ordered = params.posonly.iter().chain(&params.args).chain(&params.vararg).chain(&params.kwonly).chain(&params.kwarg);
        for (n, a) in ordered.filter_map(|p| p.annotation.as_ref().map(|a| (p.name.name.as_str(), a))).chain(returns.map(|r| ("return", r)))
        {
            self.load_str(n);
            self.annotation(a)?;
            annotated += 1;
        }
        if annotated > 0 {
            self.emit(Op::BuildTuple(2 * annotated));
        }
        self.enter(scope, name, qualname, span);
        body(self)?;
        let mut code = self.leave();
        {
            let c = Rc::get_mut(&mut code).expect("fresh code");
            c.argcount = (params.posonly.len() + params.args.len()) as u32;
            c.posonlyargcount = params.posonly.len() as u32;
            c.kwonlyargcount = params.kwonly.len() as u32;
            c.flags.varargs = params.vararg.is_some();
            c.flags.varkw = params.kwarg.is_some();
            c.flags.has_defaults = has_defaults;
            c.flags.has_kwdefaults = has_kwdefaults;
            c.flags.has_annotations = annotated > 0;
            c.flags.has_closure = !c.freevars.is_empty();
            let plain_args = !c.flags.varargs && !c.flags.varkw && c.kwonlyargcount == 0;
            c.simple = c.simple && plain_args;
            c.simple_resumable = c.simple_resumable && plain_args;
        }
        self.emit_closure(scope)?;
        let i = self.konst(Value::Code(code), None);
        self.emit(Op::MakeFunction(i));
        Ok(())
    }

    /// Push the cells a child scope closes over (if any), which its
    /// `MakeFunction` takes off the stack as they are: no tuple between.
    fn emit_closure(&mut self, child: usize) -> Result<(), CompileError> {
        let frees = self.table.scopes[child].freevars.clone();
        if frees.is_empty() {
            return Ok(());
        }
        for n in &frees {
            let slot = match self.u().slots.get(n.as_str()) {
                Some(&s) => s,
                None => return Err(cerr(format!("internal: no cell for '{n}'"), self.u().cur_span)),
            };
            self.emit(Op::LoadClosure(slot));
        }
        Ok(())
    }

    fn class_def(&mut self, c: &ClassDef) -> Result<(), CompileError> {
        for d in &c.decorators {
            self.expr(d)?;
        }
        let scope = self.table.of(node_key(c));
        let qualname = self.child_qualname(&c.name.name);
        self.emit(Op::LoadBuildClass);
        self.enter(scope, &c.name.name, &qualname, c.name.span);
        let n = self.name_idx("__name__");
        self.emit(Op::LoadName(n));
        let m = self.name_idx("__module__");
        self.emit(Op::StoreName(m));
        self.load_str(&qualname);
        let q = self.name_idx("__qualname__");
        self.emit(Op::StoreName(q));
        if let Some(doc) = docstring(&c.body) {
            self.load_str(doc);
            let d = self.name_idx("__doc__");
            self.emit(Op::StoreName(d));
        }
        self.setup_annotations(&c.body);
        self.stmts(&c.body)?;
        if self.table.scopes[scope].needs_class_cell {
            let slot = self.u().slots["__class__"];
            self.emit(Op::LoadClosure(slot));
        } else {
            self.emit(Op::LoadNone);
        }
        self.emit(Op::ReturnValue);
        let mut code = self.leave();
        Rc::get_mut(&mut code).expect("fresh code").flags.has_closure = !self.table.scopes[scope].freevars.is_empty();
        self.emit_closure(scope)?;
        let i = self.konst(Value::Code(code), None);
        self.emit(Op::MakeFunction(i));
        self.load_str(&c.name.name);
        let args: Vec<Arg> = c
            .bases
            .iter()
            .map(|b| Arg::Positional(b.clone()))
            .chain(c.keywords.iter().map(|k| Arg::Keyword(k.name.clone(), k.value.clone())))
            .collect();
        self.call_args(&args, 2, c.name.span)?;
        for _ in &c.decorators {
            self.emit(Op::Call(1));
        }
        self.store_name(c.binding());
        Ok(())
    }

    // ------------------------------------------------------------ targets

    fn store_target(&mut self, t: &Expr) -> Result<(), CompileError> {
        match &t.kind {
            ExprKind::Name(n) => self.store_name(n),
            ExprKind::Attribute { value, attr } => {
                self.expr(value)?;
                let i = self.name_idx(&attr.name);
                let prev = self.set_span(t.span);
                self.emit(Op::StoreAttr { name: i, cache: NO_CACHE });
                self.set_span(prev);
            }
            ExprKind::Subscript { value, index } => {
                self.expr(value)?;
                let op = if matches!(index.kind, ExprKind::Slice { .. }) {
                    Op::StoreSlice(self.slice_parts(index)?)
                } else {
                    self.subscript_index(index)?;
                    Op::StoreSubscr
                };
                let prev = self.set_span(t.span);
                self.emit(op);
                self.set_span(prev);
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let star = items.iter().position(|i| matches!(i.kind, ExprKind::Starred(_)));
                let prev = self.set_span(t.span);
                match star {
                    None => {
                        self.emit(Op::UnpackSequence(items.len() as u32));
                    }
                    Some(si) => {
                        if items.iter().filter(|i| matches!(i.kind, ExprKind::Starred(_))).count() > 1 {
                            return Err(cerr("multiple starred expressions in assignment", t.span));
                        }
                        self.emit(Op::UnpackEx(si as u16, (items.len() - si - 1) as u16));
                    }
                }
                self.set_span(prev);
                for i in items {
                    match &i.kind {
                        ExprKind::Starred(inner) => self.store_target(inner)?,
                        _ => self.store_target(i)?,
                    }
                }
            }
            ExprKind::Starred(_) => return Err(cerr("starred assignment target must be in a list or tuple", t.span)),
            _ => return Err(cerr("cannot assign to expression", t.span)),
        }
        Ok(())
    }

    fn delete_target(&mut self, t: &Expr) -> Result<(), CompileError> {
        match &t.kind {
            ExprKind::Name(n) => self.delete_name(n),
            ExprKind::Attribute { value, attr } => {
                self.expr(value)?;
                let i = self.name_idx(&attr.name);
                self.emit(Op::DeleteAttr(i));
            }
            ExprKind::Subscript { value, index } => {
                self.expr(value)?;
                self.subscript_index(index)?;
                let prev = self.set_span(t.span);
                self.emit(Op::DeleteSubscr);
                self.set_span(prev);
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                for i in items {
                    self.delete_target(i)?;
                }
            }
            _ => return Err(cerr("cannot delete expression", t.span)),
        }
        Ok(())
    }

    // ------------------------------------------------------------ expressions

    /// Compile `e` as a condition: jump to `target` when its truth equals `cond`.
    fn jump_if(&mut self, e: &Expr, cond: bool, target: Label) -> Result<(), CompileError> {
        match &e.kind {
            ExprKind::UnaryOp { op: UnaryOp::Not, operand } => return self.jump_if(operand, !cond, target),
            ExprKind::BoolOp { op, values } => {
                let is_and = *op == BoolOp::And;
                if is_and != cond {
                    // `a and b` jumping when false (or `a or b` when true): any operand decides.
                    for v in values {
                        self.jump_if(v, cond, target)?;
                    }
                } else {
                    let skip = self.new_label();
                    let (last, init) = values.split_last().expect("two or more values");
                    for v in init {
                        self.jump_if(v, !cond, skip)?;
                    }
                    self.jump_if(last, cond, target)?;
                    self.bind_label(skip);
                }
                return Ok(());
            }
            _ => {}
        }
        self.expr(e)?;
        let prev = self.set_span(e.span);
        self.emit(if cond { Op::PopJumpIfTrue(target) } else { Op::PopJumpIfFalse(target) });
        self.set_span(prev);
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<(), CompileError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            self.nesting = 0;
            return Err(cerr(TOO_DEEP, e.span));
        }
        let prev = self.set_span(e.span);
        let r = self.expr_inner(e);
        self.set_span(prev);
        self.nesting = self.nesting.saturating_sub(1);
        r
    }

    fn expr_inner(&mut self, e: &Expr) -> Result<(), CompileError> {
        match &e.kind {
            ExprKind::Name(n) => self.load_name(n),
            ExprKind::Int(i) => {
                if let Ok(small) = i32::try_from(*i) {
                    self.emit(Op::LoadInt(small));
                } else {
                    self.load_const(Value::Int(*i));
                }
            }
            ExprKind::BigInt(b) => {
                // CPython refuses decimal literals over 4300 digits (not hex, octal or binary ones).
                let text = self.source.text.get(e.span.range()).unwrap_or("");
                let decimal = !text.starts_with("0x")
                    && !text.starts_with("0X")
                    && !text.starts_with("0o")
                    && !text.starts_with("0O")
                    && !text.starts_with("0b")
                    && !text.starts_with("0B");
                let digits = text.chars().filter(|c| c.is_ascii_digit()).count();
                if decimal && digits > crate::numfmt::INT_MAX_STR_DIGITS {
                    return Err(cerr(format!("Exceeds the limit (4300 digits) for integer string conversion: value has {digits} digits; use sys.set_int_max_str_digits() to increase the limit - Consider hexadecimal for big integer literals to avoid this"), e.span));
                }
                self.load_const(Value::from_bigint((**b).clone()));
            }
            ExprKind::Float(f) => self.load_const(Value::float(*f)),
            ExprKind::Imaginary(f) => self.load_const(crate::types::complex::new(0.0, *f)),
            ExprKind::Str(s) => self.load_str(s),
            ExprKind::Bytes(b) => self.load_const(Value::Bytes(Rc::new(crate::object::PyBytes { b: b.clone().into_boxed_slice() }))),
            ExprKind::FString(parts) => self.fstring(parts)?,
            ExprKind::True => self.load_const(Value::Bool(Flag::TRUE)),
            ExprKind::False => self.load_const(Value::Bool(Flag::FALSE)),
            ExprKind::None => {
                self.emit(Op::LoadNone);
            }
            ExprKind::Ellipsis => self.load_const(Value::Ellipsis),
            ExprKind::BinOp { left, op, right } => {
                self.expr(left)?;
                self.expr(right)?;
                self.emit(Op::Binary(binop_index(*op)));
            }
            ExprKind::UnaryOp { op, operand } => {
                // Fold `-<int>` so that `-9223372036854775808` stays a small int.
                if let (UnaryOp::Neg, ExprKind::Int(i)) = (op, &operand.kind) {
                    if let Ok(small) = i32::try_from(-*i) {
                        self.emit(Op::LoadInt(small));
                    } else {
                        self.load_const(Value::Int(-*i));
                    }
                    return Ok(());
                }
                // And `-<float>` (`x ** -1.5`), as CPython folds it.
                if let (UnaryOp::Neg, ExprKind::Float(f)) = (op, &operand.kind) {
                    self.load_const(Value::float(-*f));
                    return Ok(());
                }
                self.expr(operand)?;
                self.emit(match op {
                    UnaryOp::Not => Op::Not,
                    UnaryOp::Neg => Op::Neg,
                    UnaryOp::Pos => Op::Pos,
                    UnaryOp::Invert => Op::Invert,
                });
            }
            ExprKind::BoolOp { op, values } => {
                let end = self.new_label();
                let (last, init) = values.split_last().expect("two or more values");
                for v in init {
                    self.expr(v)?;
                    self.emit(if *op == BoolOp::And { Op::JumpIfFalseOrPop(end) } else { Op::JumpIfTrueOrPop(end) });
                }
                self.expr(last)?;
                self.bind_label(end);
            }
            ExprKind::Compare { left, ops, comparators } => {
                if let [op] = ops[..] {
                    if let Some((xs, ys)) = self.tuple_displays(left, &comparators[0], op) {
                        for item in xs.iter().chain(ys) {
                            self.expr(item)?;
                        }
                        self.emit(Op::CompareTuples { n: xs.len() as u16, cmp: cmpop_index(op) });
                        return Ok(());
                    }
                }
                self.expr(left)?;
                if ops.len() == 1 {
                    self.expr(&comparators[0])?;
                    self.compare_op(ops[0]);
                } else {
                    let cleanup = self.new_label();
                    let end = self.new_label();
                    for (i, (op, c)) in ops.iter().zip(comparators).enumerate() {
                        self.expr(c)?;
                        if i + 1 < ops.len() {
                            self.emit(Op::Swap(2));
                            self.emit(Op::Copy(2));
                            self.compare_op(*op);
                            self.emit(Op::JumpIfFalseOrPop(cleanup));
                        } else {
                            self.compare_op(*op);
                        }
                    }
                    self.emit(Op::Jump(end));
                    self.bind_label(cleanup);
                    self.emit(Op::Swap(2));
                    self.emit(Op::Pop);
                    self.bind_label(end);
                }
            }
            ExprKind::IfExp { test, body, orelse } => {
                let else_l = self.new_label();
                let end = self.new_label();
                self.jump_if(test, false, else_l)?;
                self.expr(body)?;
                self.emit(Op::Jump(end));
                self.bind_label(else_l);
                self.expr(orelse)?;
                self.bind_label(end);
            }
            ExprKind::Lambda { params, body } => {
                let scope = self.table.of(node_key(e));
                let qualname = self.child_qualname("<lambda>");
                self.make_function(scope, "<lambda>", &qualname, params, None, e.span, |c| {
                    c.expr(body)?;
                    c.emit(Op::ReturnValue);
                    Ok(())
                })?;
            }
            ExprKind::Call { func, args } => self.call(func, args, e.span)?,
            ExprKind::Attribute { value, attr } => {
                self.expr(value)?;
                let i = self.name_idx(&attr.name);
                self.emit(Op::LoadAttr { name: i, cache: NO_CACHE });
            }
            ExprKind::Subscript { value, index } => {
                self.expr(value)?;
                if matches!(index.kind, ExprKind::Slice { .. }) {
                    let n = self.slice_parts(index)?;
                    self.emit(Op::Slice(n));
                } else {
                    self.subscript_index(index)?;
                    self.emit(Op::Subscr);
                }
            }
            ExprKind::Slice { .. } => self.slice(e)?,
            ExprKind::Tuple(items) => {
                if let Some(c) = self.const_tuple(items) {
                    self.load_const(c);
                } else if items.iter().any(|i| matches!(i.kind, ExprKind::Starred(_))) {
                    self.starred_list(items)?;
                    self.emit(Op::ListToTuple);
                } else {
                    for i in items {
                        self.expr(i)?;
                    }
                    self.emit(Op::BuildTuple(items.len() as u32));
                }
            }
            ExprKind::List(items) => {
                if items.iter().any(|i| matches!(i.kind, ExprKind::Starred(_))) {
                    self.starred_list(items)?;
                } else {
                    for i in items {
                        self.expr(i)?;
                    }
                    self.emit(Op::BuildList(items.len() as u32));
                }
            }
            ExprKind::Set(items) => {
                if items.len() > 2 {
                    if let Some(frozen) = self.const_frozenset(items) {
                        // As CPython: the set is filled from a frozenset constant,
                        // which decides the iteration order of the result.
                        self.emit(Op::BuildSet(0));
                        self.load_const(frozen);
                        self.emit(Op::SetUpdate(1));
                        return Ok(());
                    }
                }
                if items.iter().any(|i| matches!(i.kind, ExprKind::Starred(_))) {
                    self.emit(Op::BuildSet(0));
                    for i in items {
                        match &i.kind {
                            ExprKind::Starred(inner) => {
                                self.expr(inner)?;
                                self.emit(Op::SetUpdate(1));
                            }
                            _ => {
                                self.expr(i)?;
                                self.emit(Op::SetAdd(1));
                            }
                        }
                    }
                } else {
                    for i in items {
                        self.expr(i)?;
                    }
                    self.emit(Op::BuildSet(items.len() as u32));
                }
            }
            ExprKind::Dict(items) => {
                let mut pending = 0;
                let mut built = false;
                for (k, v) in items {
                    match k {
                        Some(k) => {
                            self.expr(k)?;
                            self.expr(v)?;
                            pending += 1;
                        }
                        None => {
                            if !built {
                                self.emit(Op::BuildMap(pending));
                                built = true;
                            } else if pending > 0 {
                                self.emit(Op::BuildMap(pending));
                                self.emit(Op::DictUpdate(1));
                            }
                            pending = 0;
                            self.expr(v)?;
                            self.emit(Op::DictUpdate(1));
                        }
                    }
                }
                if !built {
                    self.emit(Op::BuildMap(pending));
                } else if pending > 0 {
                    self.emit(Op::BuildMap(pending));
                    self.emit(Op::DictUpdate(1));
                }
            }
            ExprKind::Starred(_) => return Err(cerr("can't use starred expression here", e.span)),
            ExprKind::ListComp { .. } | ExprKind::SetComp { .. } | ExprKind::DictComp { .. } | ExprKind::GeneratorExp { .. } => {
                self.comprehension(e)?
            }
            ExprKind::Await(v) => {
                self.expr(v)?;
                self.emit(Op::GetAwaitable(0));
                self.await_loop()?;
            }
            ExprKind::Yield(v) => {
                match v {
                    Some(v) => self.expr(v)?,
                    None => {
                        self.emit(Op::LoadNone);
                    }
                }
                let flag = if self.is_async_gen() { 2 } else { 0 };
                self.emit(Op::YieldValue(flag));
            }
            ExprKind::YieldFrom(v) => {
                self.expr(v)?;
                self.emit(Op::GetYieldFromIter);
                self.await_loop()?;
            }
            ExprKind::NamedExpr { target, value } => {
                self.expr(value)?;
                self.emit(Op::Dup);
                self.store_name(&target.name);
            }
        }
        Ok(())
    }

    /// The items of `a` and `b` when `a op b` compares two tuple displays
    /// of the same length without starred items (not both constant): the
    /// tuples need not be made (`Op::CompareTuples`).
    fn tuple_displays<'e>(&mut self, a: &'e Expr, b: &'e Expr, op: CmpOp) -> Option<(&'e [Expr], &'e [Expr])> {
        if matches!(op, CmpOp::Is | CmpOp::IsNot | CmpOp::In | CmpOp::NotIn) {
            return None;
        }
        let (ExprKind::Tuple(xs), ExprKind::Tuple(ys)) = (&a.kind, &b.kind) else { return None };
        let starred = |items: &[Expr]| items.iter().any(|i| matches!(i.kind, ExprKind::Starred(_)));
        if xs.len() != ys.len() || xs.is_empty() || xs.len() > 64 || starred(xs) || starred(ys) {
            return None;
        }
        if self.const_tuple(xs).is_some() && self.const_tuple(ys).is_some() {
            return None;
        }
        Some((xs, ys))
    }

    fn compare_op(&mut self, op: CmpOp) {
        match op {
            CmpOp::Is => self.emit(Op::Is(0)),
            CmpOp::IsNot => self.emit(Op::Is(1)),
            CmpOp::In => self.emit(Op::In(0)),
            CmpOp::NotIn => self.emit(Op::In(1)),
            _ => self.emit(Op::Compare(cmpop_index(op))),
        };
    }

    fn const_tuple(&mut self, items: &[Expr]) -> Option<Value> {
        if items.is_empty() {
            return Some(Value::empty_tuple());
        }
        let mut vals = Vec::with_capacity(items.len());
        for i in items {
            vals.push(match &i.kind {
                ExprKind::Int(n) => Value::Int(*n),
                ExprKind::Float(f) => Value::float(*f),
                ExprKind::Str(s) => Value::str(s),
                ExprKind::True => Value::Bool(Flag::TRUE),
                ExprKind::False => Value::Bool(Flag::FALSE),
                ExprKind::None => Value::None,
                _ => return None,
            });
        }
        Some(Value::tuple(vals))
    }

    /// A frozenset of constant items, built in source order.
    fn const_frozenset(&mut self, items: &[Expr]) -> Option<Value> {
        let mut data = crate::set::SetData::new();
        for i in items {
            let (v, h) = match &i.kind {
                ExprKind::Str(s) => {
                    let v = Value::str(s);
                    let h = crate::hash::hash_str(s);
                    (v, h)
                }
                ExprKind::True => (Value::Bool(Flag::TRUE), 1),
                ExprKind::False => (Value::Bool(Flag::FALSE), 0),
                _ => match fold_number(i)? {
                    Value::Int(n) => (Value::Int(n), crate::hash::hash_i64(n)),
                    Value::Float(f) => (Value::Float(f), crate::hash::hash_f64(f.get(), 0)),
                    _ => return None,
                },
            };
            if matches!(v, Value::Float(f) if f.get().is_nan()) {
                return None;
            }
            data.add(h, v, &mut |a, b| Ok(crate::types::dict::simple_eq(a, b).unwrap_or(false))).ok()?;
        }
        // CPython merges code constants by rebuilding a frozenset from its
        // own items, in iteration order: the layout of a second insertion.
        let mut merged = crate::set::SetData::new();
        for (h, v) in data.entries() {
            merged.add(h, v.clone(), &mut |a, b| Ok(crate::types::dict::simple_eq(a, b).unwrap_or(false))).ok()?;
        }
        Some(Value::FrozenSet(std::rc::Rc::new(crate::object::PySet::new(merged))))
    }

    /// `[a, *b, c]` as a list.
    fn starred_list(&mut self, items: &[Expr]) -> Result<(), CompileError> {
        self.emit(Op::BuildList(0));
        for i in items {
            match &i.kind {
                ExprKind::Starred(inner) => {
                    self.expr(inner)?;
                    self.emit(Op::ListExtend(1));
                }
                _ => {
                    self.expr(i)?;
                    self.emit(Op::ListAppend(1));
                }
            }
        }
        Ok(())
    }

    fn subscript_index(&mut self, index: &Expr) -> Result<(), CompileError> {
        match &index.kind {
            ExprKind::Slice { .. } => self.slice(index),
            ExprKind::Tuple(items) if items.iter().any(|i| matches!(i.kind, ExprKind::Slice { .. })) => {
                for i in items {
                    self.subscript_index(i)?;
                }
                self.emit(Op::BuildTuple(items.len() as u32));
                Ok(())
            }
            _ => self.expr(index),
        }
    }

    fn slice(&mut self, e: &Expr) -> Result<(), CompileError> {
        let n = self.slice_parts(e)?;
        self.emit(Op::BuildSlice(n));
        Ok(())
    }

    /// Push a slice expression's parts (`lo`, `hi` and `step` when given,
    /// None for an omitted bound): how many, for `BuildSlice`, `Slice` or
    /// `StoreSlice`.
    fn slice_parts(&mut self, e: &Expr) -> Result<u32, CompileError> {
        let ExprKind::Slice { lower, upper, step } = &e.kind else { unreachable!("called only on a slice expression") };
        for part in [lower, upper] {
            match part {
                Some(p) => self.expr(p)?,
                None => {
                    self.emit(Op::LoadNone);
                }
            }
        }
        match step {
            Some(s) => {
                self.expr(s)?;
                Ok(3)
            }
            None => Ok(2),
        }
    }

    fn call(&mut self, func: &Expr, args: &[Arg], span: Span) -> Result<(), CompileError> {
        let simple = args.iter().all(|a| matches!(a, Arg::Positional(_) | Arg::Keyword(..)));
        if let (ExprKind::Attribute { value, attr }, true) = (&func.kind, simple) {
            self.expr(value)?;
            let i = self.name_idx(&attr.name);
            let prev = self.set_span(func.span);
            self.emit(Op::LoadMethod { name: i, cache: NO_CACHE });
            self.set_span(prev);
            let n = self.push_simple_args(args)?;
            let prev = self.set_span(span);
            self.emit(Op::CallMethod(n));
            self.set_span(prev);
            return Ok(());
        }
        self.expr(func)?;
        self.call_args(args, 0, span)
    }

    fn push_simple_args(&mut self, args: &[Arg]) -> Result<u32, CompileError> {
        let mut kwnames = Vec::new();
        for a in args {
            match a {
                Arg::Positional(v) => self.expr(v)?,
                Arg::Keyword(n, v) => {
                    self.expr(v)?;
                    kwnames.push(Value::Str(crate::intern::intern(&n.name)));
                }
                _ => unreachable!("star arguments took the other path"),
            }
        }
        if !kwnames.is_empty() {
            let i = self.konst(Value::tuple(kwnames), None);
            self.emit(Op::KwNames(i));
        }
        Ok(args.len() as u32)
    }

    /// Push the arguments and call; `extra` positional arguments are already on the stack.
    fn call_args(&mut self, args: &[Arg], extra: u32, span: Span) -> Result<(), CompileError> {
        let simple = args.iter().all(|a| matches!(a, Arg::Positional(_) | Arg::Keyword(..)));
        if simple {
            let n = self.push_simple_args(args)?;
            let prev = self.set_span(span);
            self.emit(Op::Call(n + extra));
            self.set_span(prev);
            return Ok(());
        }
        // General form: a positional tuple and a keyword dict. The
        // positional arguments (all of them first, as CPython evaluates
        // them) make the tuple directly when none is starred.
        let mut positional = args.iter().filter(|a| matches!(a, Arg::Positional(_) | Arg::Starred(_)));
        if let (0, Some(Arg::Starred(v)), None) = (extra, positional.next(), positional.next()) {
            // `f(*xs)`: `CallEx` takes `xs` as it is (a tuple is not copied).
            self.expr(v)?;
        } else if args.iter().any(|a| matches!(a, Arg::Starred(_))) {
            self.emit(Op::BuildList(extra));
            for a in args {
                match a {
                    Arg::Positional(v) => {
                        self.expr(v)?;
                        self.emit(Op::ListAppend(1));
                    }
                    Arg::Starred(v) => {
                        self.expr(v)?;
                        self.emit(Op::ListExtend(1));
                    }
                    _ => {}
                }
            }
            self.emit(Op::ListToTuple);
        } else {
            let mut n = extra;
            for a in args {
                if let Arg::Positional(v) = a {
                    self.expr(v)?;
                    n += 1;
                }
            }
            self.emit(Op::BuildTuple(n));
        }
        let has_kw = args.iter().any(|a| matches!(a, Arg::Keyword(..) | Arg::DoubleStarred(_)));
        if has_kw {
            // Each run of `name=value` keywords is one dict, merged into the
            // first (the first run, or an empty dict) in order, so that a
            // name given twice is reported where CPython reports it.
            let mut built = false;
            let mut run = 0;
            for a in args {
                match a {
                    Arg::Keyword(n, v) => {
                        self.load_str(&n.name);
                        self.expr(v)?;
                        run += 1;
                    }
                    Arg::DoubleStarred(v) => {
                        self.keyword_run(&mut built, &mut run);
                        if !built {
                            self.emit(Op::BuildMap(0));
                            built = true;
                        }
                        self.expr(v)?;
                        self.emit(Op::DictMerge(1));
                    }
                    _ => {}
                }
            }
            self.keyword_run(&mut built, &mut run);
        }
        let prev = self.set_span(span);
        self.emit(Op::CallEx(has_kw as u32));
        self.set_span(prev);
        Ok(())
    }

    /// End a run of `run` keyword arguments (their names and values on the
    /// stack): a dict, merged into the keyword dict if one is `built`.
    fn keyword_run(&mut self, built: &mut bool, run: &mut u32) {
        if *run == 0 {
            return;
        }
        self.emit(Op::BuildMap(*run));
        if *built {
            self.emit(Op::DictMerge(1));
        }
        *built = true;
        *run = 0;
    }

    fn fstring(&mut self, parts: &[FStringPart]) -> Result<(), CompileError> {
        let mut n = 0;
        for p in parts {
            match p {
                FStringPart::Literal(s) => {
                    if !s.is_empty() {
                        self.load_str(s);
                        n += 1;
                    }
                }
                FStringPart::Expr { expr, conversion, format_spec, debug_text } => {
                    if let Some(t) = debug_text {
                        self.load_str(t);
                        n += 1;
                    }
                    self.expr(expr)?;
                    let mut conv = match conversion {
                        Some('s') => 1,
                        Some('r') => 2,
                        Some('a') => 3,
                        _ => 0,
                    };
                    if debug_text.is_some() && conversion.is_none() && format_spec.is_none() {
                        conv = 2;
                    }
                    if let Some(spec) = format_spec {
                        self.fstring(spec)?;
                        conv |= 4;
                    }
                    self.emit(Op::FormatValue(conv));
                    n += 1;
                }
            }
        }
        if n != 1 {
            self.emit(Op::BuildString(n));
        }
        Ok(())
    }

    fn comprehension(&mut self, e: &Expr) -> Result<(), CompileError> {
        let scope = self.table.of(node_key(e));
        let (generators, name) = match &e.kind {
            ExprKind::ListComp { generators, .. } => (generators, "<listcomp>"),
            ExprKind::SetComp { generators, .. } => (generators, "<setcomp>"),
            ExprKind::DictComp { generators, .. } => (generators, "<dictcomp>"),
            ExprKind::GeneratorExp { generators, .. } => (generators, "<genexpr>"),
            _ => unreachable!("called only on a comprehension"),
        };
        let qualname = self.child_qualname(name);
        let is_async_scope = self.table.scopes[scope].is_async;
        let is_genexp = matches!(e.kind, ExprKind::GeneratorExp { .. });
        self.enter(scope, name, &qualname, e.span);
        match &e.kind {
            ExprKind::ListComp { .. } => {
                self.emit(Op::BuildList(0));
            }
            ExprKind::SetComp { .. } => {
                self.emit(Op::BuildSet(0));
            }
            ExprKind::DictComp { .. } => {
                self.emit(Op::BuildMap(0));
            }
            _ => {}
        }
        self.comp_generator(e, generators, 0, if is_genexp { 0 } else { 1 })?;
        if is_genexp {
            self.emit(Op::LoadNone);
        }
        self.emit(Op::ReturnValue);
        let mut code = self.leave();
        {
            let c = Rc::get_mut(&mut code).expect("fresh code");
            c.argcount = 1;
            c.flags.has_closure = !c.freevars.is_empty();
            c.flags.one_per_item = !is_genexp && generators.len() == 1 && generators[0].ifs.is_empty() && !generators[0].is_async;
        }
        let i = self.konst(Value::Code(code), None);
        self.expr(&generators[0].iter)?;
        self.emit(if generators[0].is_async { Op::GetAIter } else { Op::GetIter });
        // Taking the cells after the iterator is made changes nothing a
        // program sees: no function is made to hold them.
        self.emit_closure(scope)?;
        self.emit(Op::Comprehension(i));
        if is_async_scope && !is_genexp {
            self.emit(Op::GetAwaitable(0));
            self.await_loop()?;
        }
        Ok(())
    }

    /// One `for` clause of a comprehension body; `depth` counts the values
    /// (result container and iterators) below the element on the stack.
    fn comp_generator(&mut self, e: &Expr, gens: &[Comprehension], i: usize, depth: u32) -> Result<(), CompileError> {
        let g = &gens[i];
        let start = self.new_label();
        let end = self.new_label();
        if i == 0 {
            let slot = self.u().slots[".0"];
            self.emit(Op::LoadFast(slot));
        } else {
            self.expr(&g.iter)?;
            self.emit(if g.is_async { Op::GetAIter } else { Op::GetIter });
        }
        self.bind_label(start);
        let stop = self.new_label();
        if g.is_async {
            // On StopAsyncIteration keep what is below the element plus this iterator.
            let outer_depth = std::mem::replace(&mut self.unit().depth, depth + 1);
            let saved = self.set_handler(stop);
            self.unit().depth = outer_depth;
            self.emit(Op::GetANext);
            self.await_loop()?;
            self.restore_handler(saved);
        } else {
            self.emit(Op::ForIter(end));
        }
        self.store_target(&g.target)?;
        for cond in &g.ifs {
            self.jump_if(cond, false, start)?;
        }
        if i + 1 < gens.len() {
            self.comp_generator(e, gens, i + 1, depth + 1)?;
        } else {
            match &e.kind {
                ExprKind::ListComp { elt, .. } => {
                    self.expr(elt)?;
                    self.emit(Op::ListAppend(depth + 1));
                }
                ExprKind::SetComp { elt, .. } => {
                    self.expr(elt)?;
                    self.emit(Op::SetAdd(depth + 1));
                }
                ExprKind::DictComp { key, value, .. } => {
                    self.expr(key)?;
                    self.expr(value)?;
                    self.emit(Op::MapAdd(depth + 1));
                }
                ExprKind::GeneratorExp { elt, .. } => {
                    self.expr(elt)?;
                    let flag = if self.is_async_gen() { 2 } else { 0 };
                    self.emit(Op::YieldValue(flag));
                    self.emit(Op::Pop);
                }
                _ => unreachable!("called only on a comprehension"),
            }
        }
        self.emit(Op::Jump(start));
        if g.is_async {
            self.bind_label(stop);
            self.emit(Op::EndAsyncFor);
        }
        self.bind_label(end);
        Ok(())
    }
}

/// The targets and values of an assignment of a tuple display of two or
/// three values to as many targets, none starred (`a, b = b, a`): one
/// `Swap` puts the values in the order the targets take them.
fn swap_assign<'a>(targets: &'a [Expr], value: &'a Expr) -> Option<(&'a [Expr], &'a [Expr])> {
    let [target] = targets else { return None };
    let (ExprKind::Tuple(ts) | ExprKind::List(ts)) = &target.kind else { return None };
    let ExprKind::Tuple(vs) = &value.kind else { return None };
    let starred = |e: &Expr| matches!(e.kind, ExprKind::Starred(_));
    if !(2..=3).contains(&vs.len()) || ts.len() != vs.len() || ts.iter().any(starred) || vs.iter().any(starred) {
        return None;
    }
    Some((ts, vs))
}
