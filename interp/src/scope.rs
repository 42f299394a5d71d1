//! Scope analysis: decides for every name in every function, class,
//! comprehension and module whether it is a local slot, a cell, a free
//! variable, a global or a namespace name, before the compiler emits code.
//! Scopes are keyed by the address of their AST node.

use std::collections::HashMap;

use aio_grammar::ast::*;

use crate::compiler::CompileError;

/// What kind of block a scope is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Class,
    Function,
    Lambda,
    Comprehension,
}

/// How a name is reached from one scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A fast local slot.
    Local,
    /// A local slot holding a cell (captured by an inner scope).
    Cell,
    /// A slot holding a cell received from an enclosing function.
    Free,
    /// A module global (declared `global`, or a module-level name).
    Global,
    /// Not bound here nor in enclosing functions: a global or a builtin.
    GlobalImplicit,
    /// A class-body name: the namespace dict, then globals and builtins.
    Name,
    /// A class-body use of an enclosing function's variable.
    ClassDeref,
}

#[derive(Default, Clone, Copy, Debug)]
struct Flags {
    bound: bool,
    param: bool,
    used: bool,
    global: bool,
    nonlocal: bool,
    /// Bound by a walrus inside a comprehension that lives in this scope.
    walrus_from_comp: bool,
}

/// The analysis of one scope.
#[derive(Debug)]
pub struct Scope {
    pub kind: ScopeKind,
    pub name: String,
    /// Parameters in slot order.
    pub params: Vec<String>,
    /// Every name, in order of first appearance.
    pub order: Vec<String>,
    pub access: HashMap<String, Access>,
    pub is_generator: bool,
    pub is_async: bool,
    /// A class scope whose methods use `super()` or `__class__`.
    pub needs_class_cell: bool,
    pub children: Vec<usize>,
    pub parent: Option<usize>,
    flags: HashMap<String, Flags>,
    /// Names this scope takes from enclosing scopes, in first-use order.
    pub freevars: Vec<String>,
    /// Locals captured by inner scopes, in first-appearance order.
    pub cellvars: Vec<String>,
    /// The comprehension contains `await` or `async for`.
    pub has_async_comprehension: bool,
}

impl Scope {
    fn new(kind: ScopeKind, name: &str, parent: Option<usize>) -> Scope {
        Scope {
            kind,
            name: name.to_string(),
            params: Vec::new(),
            order: Vec::new(),
            access: HashMap::new(),
            is_generator: false,
            is_async: false,
            needs_class_cell: false,
            children: Vec::new(),
            parent,
            flags: HashMap::new(),
            freevars: Vec::new(),
            cellvars: Vec::new(),
            has_async_comprehension: false,
        }
    }
    fn flag(&mut self, name: &str) -> &mut Flags {
        if !self.flags.contains_key(name) {
            self.order.push(name.to_string());
        }
        self.flags.entry(name.to_string()).or_default()
    }
    pub fn is_function_like(&self) -> bool {
        matches!(self.kind, ScopeKind::Function | ScopeKind::Lambda | ScopeKind::Comprehension)
    }
    /// How `name` is reached from this scope.
    pub fn lookup(&self, name: &str) -> Access {
        match self.access.get(name) {
            Some(a) => *a,
            None => match self.kind {
                ScopeKind::Module => Access::Global,
                ScopeKind::Class => Access::Name,
                _ => Access::GlobalImplicit,
            },
        }
    }
}

/// All scopes of a module, the first being the module itself.
pub struct ScopeTable {
    pub scopes: Vec<Scope>,
    by_node: HashMap<usize, usize>,
}

impl ScopeTable {
    /// The scope made for an AST node (function def, class def, lambda or comprehension).
    pub fn of(&self, node: usize) -> usize {
        self.by_node[&node]
    }
}

/// The address that keys a node's scope.
pub fn node_key<T>(node: &T) -> usize {
    node as *const T as usize
}

/// Analyse a module. `toplevel_await` allows `await` at module level (scripts and the REPL).
/// `future_annotations`: annotations are kept as text, so their names are not uses.
pub fn analyze(module: &Module, toplevel_await: bool, future_annotations: bool) -> Result<ScopeTable, CompileError> {
    let mut b = Builder {
        scopes: vec![Scope::new(ScopeKind::Module, "<module>", None)],
        by_node: HashMap::new(),
        cur: 0,
        toplevel_await,
        loop_depth: 0,
        future_annotations,
    };
    for s in &module.body {
        b.stmt(s)?;
    }
    let mut table = ScopeTable { scopes: b.scopes, by_node: b.by_node };
    resolve(&mut table, 0, &[])?;
    Ok(table)
}

struct Builder {
    scopes: Vec<Scope>,
    by_node: HashMap<usize, usize>,
    cur: usize,
    toplevel_await: bool,
    loop_depth: usize,
    future_annotations: bool,
}

fn err(msg: impl Into<String>, span: Span) -> CompileError {
    CompileError { message: msg.into(), span, notes: Vec::new() }
}

impl Builder {
    fn scope(&mut self) -> &mut Scope {
        &mut self.scopes[self.cur]
    }

    fn push(&mut self, kind: ScopeKind, name: &str, key: usize) -> usize {
        let id = self.scopes.len();
        self.scopes.push(Scope::new(kind, name, Some(self.cur)));
        self.scopes[self.cur].children.push(id);
        self.by_node.insert(key, id);
        let prev = self.cur;
        self.cur = id;
        prev
    }

    fn bind(&mut self, name: &str, span: Span) -> Result<(), CompileError> {
        let scope = self.scope();
        let f = scope.flag(name);
        if f.global && f.param {
            return Err(err(format!("name '{name}' is parameter and global"), span));
        }
        f.bound = true;
        Ok(())
    }

    fn use_name(&mut self, name: &str) {
        self.scope().flag(name).used = true;
        if name == "super" || name == "__class__" {
            // `super()` needs the `__class__` cell of the enclosing class.
            let s = self.cur;
            if self.scopes[s].kind == ScopeKind::Function {
                self.scope().flag("__class__").used = true;
            }
        }
    }

    fn in_async_function(&self) -> bool {
        let mut i = self.cur;
        loop {
            let s = &self.scopes[i];
            match s.kind {
                ScopeKind::Function | ScopeKind::Lambda => return s.is_async,
                ScopeKind::Comprehension => i = s.parent.unwrap_or(0),
                ScopeKind::Module => return self.toplevel_await,
                ScopeKind::Class => match s.parent {
                    Some(p) if self.scopes[p].kind == ScopeKind::Module => return self.toplevel_await,
                    Some(p) => i = p,
                    None => return false,
                },
            }
        }
    }

    /// The scope `await` belongs to, checked for legality.
    fn note_await(&mut self, what: &str, span: Span) -> Result<(), CompileError> {
        let mut i = self.cur;
        // Comprehensions become asynchronous; the enclosing function must be async.
        while self.scopes[i].kind == ScopeKind::Comprehension {
            self.scopes[i].has_async_comprehension = true;
            i = self.scopes[i].parent.unwrap_or(0);
        }
        let s = &self.scopes[i];
        let ok = match s.kind {
            ScopeKind::Function => s.is_async,
            ScopeKind::Lambda => false,
            ScopeKind::Module | ScopeKind::Class => self.in_async_function(),
            ScopeKind::Comprehension => unreachable!("the loop above skips comprehension scopes"),
        };
        if !ok {
            let msg = if self.scopes[self.cur].kind == ScopeKind::Comprehension && what == "await" {
                "asynchronous comprehension outside of an asynchronous function".to_string()
            } else {
                format!("'{what}' outside async function")
            };
            let mut e = err(msg, span);
            e.notes.push(match s.kind {
                ScopeKind::Function => {
                    format!("`{}` is a plain function: define it with `async def {}(...)` to use `{what}` in it", s.name, s.name)
                }
                ScopeKind::Lambda => format!("a lambda cannot be async: use an `async def` function for `{what}`"),
                _ => format!("only an `async def` function can use `{what}`"),
            });
            return Err(e);
        }
        Ok(())
    }

    fn stmts(&mut self, body: &[Stmt]) -> Result<(), CompileError> {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), CompileError> {
        match &s.kind {
            StmtKind::Expr(e) => self.expr(e)?,
            StmtKind::Assign { targets, value } => {
                self.expr(value)?;
                for t in targets {
                    self.target(t)?;
                }
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.expr(value)?;
                if let ExprKind::Name(n) = &target.kind {
                    self.use_name(n);
                }
                self.target(target)?;
            }
            StmtKind::AnnAssign { target, annotation, value } => {
                if let Some(v) = value {
                    self.expr(v)?;
                }
                if !self.scopes[self.cur].is_function_like() && !self.future_annotations {
                    self.expr(annotation)?;
                }
                if let ExprKind::Name(n) = &target.kind {
                    if self.scopes[self.cur].flags.get(n.as_str()).is_some_and(|f| f.global || f.nonlocal)
                        && self.scopes[self.cur].kind != ScopeKind::Module
                    {
                        let kind = if self.scopes[self.cur].flags[n.as_str()].global { "global" } else { "nonlocal" };
                        return Err(err(format!("annotated name '{n}' can't be {kind}"), target.span));
                    }
                    if value.is_some() || self.scopes[self.cur].is_function_like() {
                        self.bind(n, target.span)?;
                    }
                } else {
                    self.target(target)?;
                }
            }
            StmtKind::If { test, body, orelse } => {
                self.expr(test)?;
                self.stmts(body)?;
                self.stmts(orelse)?;
            }
            StmtKind::While { test, body, orelse } => {
                self.expr(test)?;
                self.loop_depth += 1;
                self.stmts(body)?;
                self.loop_depth -= 1;
                self.stmts(orelse)?;
            }
            StmtKind::For { is_async, target, iter, body, orelse } => {
                if *is_async {
                    self.note_await("async for", s.span)?;
                }
                self.expr(iter)?;
                self.target(target)?;
                self.loop_depth += 1;
                self.stmts(body)?;
                self.loop_depth -= 1;
                self.stmts(orelse)?;
            }
            StmtKind::Break => {
                if self.loop_depth == 0 {
                    return Err(err("'break' outside loop", s.span));
                }
            }
            StmtKind::Continue => {
                if self.loop_depth == 0 {
                    return Err(err("'continue' not properly in loop", s.span));
                }
            }
            StmtKind::Pass => {}
            StmtKind::Return(v) => {
                if !matches!(self.scopes[self.cur].kind, ScopeKind::Function) {
                    return Err(err("'return' outside function", s.span));
                }
                if let Some(v) = v {
                    if self.scopes[self.cur].is_async && self.scopes[self.cur].is_generator {
                        return Err(err("'return' with value in async generator", s.span));
                    }
                    self.expr(v)?;
                }
            }
            StmtKind::FunctionDef(f) => {
                for d in &f.decorators {
                    self.expr(d)?;
                }
                self.params_defaults(&f.params)?;
                if let Some(r) = f.returns.as_ref().filter(|_| !self.future_annotations) {
                    self.expr(r)?;
                }
                self.bind(f.binding(), f.name.span)?;
                let prev = self.push(ScopeKind::Function, &f.name.name, node_key(&**f));
                self.scope().is_async = f.is_async;
                self.params(&f.params)?;
                let saved_loops = std::mem::replace(&mut self.loop_depth, 0);
                self.stmts(&f.body)?;
                self.loop_depth = saved_loops;
                self.cur = prev;
            }
            StmtKind::ClassDef(c) => {
                for d in &c.decorators {
                    self.expr(d)?;
                }
                for b in &c.bases {
                    self.expr(b)?;
                }
                for k in &c.keywords {
                    self.expr(&k.value)?;
                }
                self.bind(c.binding(), c.name.span)?;
                let prev = self.push(ScopeKind::Class, &c.name.name, node_key(&**c));
                let saved_loops = std::mem::replace(&mut self.loop_depth, 0);
                self.stmts(&c.body)?;
                self.loop_depth = saved_loops;
                self.cur = prev;
            }
            StmtKind::Try { body, handlers, orelse, finalbody, star } => {
                self.stmts(body)?;
                for h in handlers {
                    if let Some(t) = &h.typ {
                        self.expr(t)?;
                    }
                    if let Some(n) = &h.name {
                        self.bind(&n.name, n.span)?;
                    }
                    if *star {
                        // break/continue/return may not leave an except* block.
                        check_star_body(&h.body)?;
                    }
                    self.stmts(&h.body)?;
                }
                self.stmts(orelse)?;
                self.stmts(finalbody)?;
            }
            StmtKind::Raise { exc, cause } => {
                if let Some(e) = exc {
                    self.expr(e)?;
                }
                if let Some(c) = cause {
                    self.expr(c)?;
                }
            }
            StmtKind::With { is_async, items, body } => {
                if *is_async {
                    self.note_await("async with", s.span)?;
                }
                for it in items {
                    self.expr(&it.context)?;
                    if let Some(t) = &it.target {
                        self.target(t)?;
                    }
                }
                self.stmts(body)?;
            }
            StmtKind::Match { subject, cases } => {
                self.expr(subject)?;
                for c in cases {
                    self.pattern(&c.pattern)?;
                    if let Some(g) = &c.guard {
                        self.expr(g)?;
                    }
                    self.stmts(&c.body)?;
                }
            }
            StmtKind::Global(names) => {
                for n in names {
                    let kind = self.scopes[self.cur].kind;
                    let f = self.scope().flag(&n.name);
                    if f.param {
                        return Err(err(format!("name '{}' is parameter and global", n.name), n.span));
                    }
                    if f.nonlocal {
                        return Err(err(format!("name '{}' is nonlocal and global", n.name), n.span));
                    }
                    if (f.used || f.bound) && kind != ScopeKind::Module {
                        let what = if f.bound { "assigned to" } else { "used" };
                        return Err(err(format!("name '{}' is {what} before global declaration", n.name), n.span));
                    }
                    f.global = true;
                }
            }
            StmtKind::Nonlocal(names) => {
                if self.scopes[self.cur].kind == ScopeKind::Module {
                    return Err(err("nonlocal declaration not allowed at module level", s.span));
                }
                for n in names {
                    let f = self.scope().flag(&n.name);
                    if f.param {
                        return Err(err(format!("name '{}' is parameter and nonlocal", n.name), n.span));
                    }
                    if f.global {
                        return Err(err(format!("name '{}' is nonlocal and global", n.name), n.span));
                    }
                    if f.used || f.bound {
                        let what = if f.bound { "assigned to" } else { "used" };
                        return Err(err(format!("name '{}' is {what} before nonlocal declaration", n.name), n.span));
                    }
                    f.nonlocal = true;
                }
            }
            StmtKind::Delete(targets) => {
                for t in targets {
                    self.target(t)?;
                }
            }
            StmtKind::Assert { test, msg } => {
                self.expr(test)?;
                if let Some(m) = msg {
                    self.expr(m)?;
                }
            }
            StmtKind::Import(aliases) => {
                for a in aliases {
                    let name = match &a.asname {
                        Some(n) => n.name.clone(),
                        None => a.name.name.split('.').next().unwrap_or("").to_string(),
                    };
                    self.bind(&name, a.name.span)?;
                }
            }
            StmtKind::ImportFrom { names, star, module } => {
                if *star && self.scopes[self.cur].kind != ScopeKind::Module {
                    return Err(err("import * only allowed at module level", module.span));
                }
                for a in names {
                    let n = a.asname.as_ref().unwrap_or(&a.name);
                    self.bind(&n.name, n.span)?;
                }
            }
        }
        Ok(())
    }

    fn params_defaults(&mut self, p: &Params) -> Result<(), CompileError> {
        for param in p.posonly.iter().chain(&p.args).chain(&p.kwonly) {
            if let Some(d) = &param.default {
                self.expr(d)?;
            }
        }
        if self.future_annotations {
            return Ok(());
        }
        for param in p.posonly.iter().chain(&p.args).chain(&p.kwonly).chain(&p.vararg).chain(&p.kwarg) {
            if let Some(a) = &param.annotation {
                self.expr(a)?;
            }
        }
        Ok(())
    }

    fn params(&mut self, p: &Params) -> Result<(), CompileError> {
        let ordered = p.posonly.iter().chain(&p.args).chain(&p.kwonly).chain(&p.vararg).chain(&p.kwarg);
        for param in ordered {
            let name = param.name.name.clone();
            let f = self.scope().flag(&name);
            f.param = true;
            f.bound = true;
            self.scope().params.push(name);
        }
        Ok(())
    }

    fn target(&mut self, t: &Expr) -> Result<(), CompileError> {
        match &t.kind {
            ExprKind::Name(n) => self.bind(n, t.span),
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                for i in items {
                    self.target(i)?;
                }
                Ok(())
            }
            ExprKind::Starred(inner) => self.target(inner),
            ExprKind::Attribute { value, .. } => self.expr(value),
            ExprKind::Subscript { value, index } => {
                self.expr(value)?;
                self.expr(index)
            }
            _ => self.expr(t),
        }
    }

    fn comprehension(&mut self, e: &Expr, gens: &[Comprehension], elts: &[&Expr], is_genexp: bool) -> Result<(), CompileError> {
        // The first iterable is evaluated in the enclosing scope.
        self.expr(&gens[0].iter)?;
        let name = match &e.kind {
            ExprKind::ListComp { .. } => "<listcomp>",
            ExprKind::SetComp { .. } => "<setcomp>",
            ExprKind::DictComp { .. } => "<dictcomp>",
            _ => "<genexpr>",
        };
        let prev = self.push(ScopeKind::Comprehension, name, node_key(e));
        {
            let f = self.scope().flag(".0");
            f.param = true;
            f.bound = true;
            self.scope().params.push(".0".into());
        }
        self.scope().is_generator = is_genexp;
        for (i, g) in gens.iter().enumerate() {
            if i > 0 {
                self.expr(&g.iter)?;
            }
            if g.is_async {
                self.scopes[self.cur].has_async_comprehension = true;
            }
            self.target(&g.target)?;
            for cond in &g.ifs {
                self.expr(cond)?;
            }
        }
        for el in elts {
            self.expr(el)?;
        }
        let me = self.cur;
        self.cur = prev;
        if self.scopes[me].has_async_comprehension {
            if is_genexp {
                // An async generator expression: legal anywhere, async itself.
                self.scopes[me].is_async = true;
            } else {
                self.scopes[me].is_async = true;
                // A list/set/dict comprehension with `async for` or `await` must be awaited.
                let saved = self.cur;
                self.note_await("await", e.span)
                    .map_err(|_| err("asynchronous comprehension outside of an asynchronous function", e.span))?;
                self.cur = saved;
            }
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<(), CompileError> {
        match &e.kind {
            ExprKind::Name(n) => self.use_name(n),
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
            ExprKind::FString(parts) => self.fstring(parts)?,
            ExprKind::BinOp { left, right, .. } => {
                self.expr(left)?;
                self.expr(right)?;
            }
            ExprKind::UnaryOp { operand, .. } => self.expr(operand)?,
            ExprKind::BoolOp { values, .. } => {
                for v in values {
                    self.expr(v)?;
                }
            }
            ExprKind::Compare { left, comparators, .. } => {
                self.expr(left)?;
                for c in comparators {
                    self.expr(c)?;
                }
            }
            ExprKind::IfExp { test, body, orelse } => {
                self.expr(test)?;
                self.expr(body)?;
                self.expr(orelse)?;
            }
            ExprKind::Lambda { params, body } => {
                self.params_defaults(params)?;
                let prev = self.push(ScopeKind::Lambda, "<lambda>", node_key(e));
                self.params(params)?;
                self.expr(body)?;
                self.cur = prev;
            }
            ExprKind::Call { func, args } => {
                self.expr(func)?;
                for a in args {
                    match a {
                        Arg::Positional(v) | Arg::Starred(v) | Arg::Keyword(_, v) | Arg::DoubleStarred(v) => self.expr(v)?,
                    }
                }
            }
            ExprKind::Attribute { value, .. } => self.expr(value)?,
            ExprKind::Subscript { value, index } => {
                self.expr(value)?;
                self.expr(index)?;
            }
            ExprKind::Slice { lower, upper, step } => {
                for x in [lower, upper, step].into_iter().flatten() {
                    self.expr(x)?;
                }
            }
            ExprKind::List(items) | ExprKind::Tuple(items) | ExprKind::Set(items) => {
                for i in items {
                    self.expr(i)?;
                }
            }
            ExprKind::Dict(items) => {
                for (k, v) in items {
                    if let Some(k) = k {
                        self.expr(k)?;
                    }
                    self.expr(v)?;
                }
            }
            ExprKind::Starred(v) => self.expr(v)?,
            ExprKind::ListComp { elt, generators } | ExprKind::SetComp { elt, generators } => {
                self.comprehension(e, generators, &[elt], false)?
            }
            ExprKind::GeneratorExp { elt, generators } => self.comprehension(e, generators, &[elt], true)?,
            ExprKind::DictComp { key, value, generators } => self.comprehension(e, generators, &[key, value], false)?,
            ExprKind::Await(v) => {
                self.note_await("await", e.span)?;
                self.expr(v)?;
            }
            ExprKind::Yield(v) => {
                self.note_yield(e.span)?;
                if let Some(v) = v {
                    self.expr(v)?;
                }
            }
            ExprKind::YieldFrom(v) => {
                self.note_yield(e.span)?;
                if self.scopes[self.cur].is_async {
                    return Err(err("'yield from' inside async function", e.span));
                }
                self.expr(v)?;
            }
            ExprKind::NamedExpr { target, value } => {
                self.expr(value)?;
                self.walrus_target(target)?;
            }
        }
        Ok(())
    }

    fn note_yield(&mut self, span: Span) -> Result<(), CompileError> {
        let s = &mut self.scopes[self.cur];
        match s.kind {
            ScopeKind::Function | ScopeKind::Lambda => {
                s.is_generator = true;
                Ok(())
            }
            ScopeKind::Comprehension => Err(err("'yield' inside list comprehension", span)),
            _ => Err(err("'yield' outside function", span)),
        }
    }

    fn walrus_target(&mut self, target: &Ident) -> Result<(), CompileError> {
        if self.scopes[self.cur].kind != ScopeKind::Comprehension {
            return self.bind(&target.name, target.span);
        }
        // In a comprehension, `:=` binds in the nearest enclosing non-comprehension scope.
        let mut i = self.cur;
        while self.scopes[i].kind == ScopeKind::Comprehension {
            let f = self.scopes[i].flag(&target.name);
            if f.param || (f.bound && !f.nonlocal && !f.global) {
                return Err(err(
                    format!("assignment expression cannot rebind comprehension iteration variable '{}'", target.name),
                    target.span,
                ));
            }
            i = self.scopes[i].parent.unwrap_or(0);
        }
        let outer_kind = self.scopes[i].kind;
        if outer_kind == ScopeKind::Class {
            return Err(err("assignment expression within a comprehension cannot be used in a class body", target.span));
        }
        {
            let f = self.scopes[i].flag(&target.name);
            f.bound = true;
            f.walrus_from_comp = true;
        }
        let mut j = self.cur;
        while self.scopes[j].kind == ScopeKind::Comprehension {
            let f = self.scopes[j].flag(&target.name);
            if outer_kind == ScopeKind::Module {
                f.global = true;
            } else {
                f.nonlocal = true;
            }
            f.bound = true;
            j = self.scopes[j].parent.unwrap_or(0);
        }
        Ok(())
    }

    fn fstring(&mut self, parts: &[FStringPart]) -> Result<(), CompileError> {
        for p in parts {
            if let FStringPart::Expr { expr, format_spec, .. } = p {
                self.expr(expr)?;
                if let Some(spec) = format_spec {
                    self.fstring(spec)?;
                }
            }
        }
        Ok(())
    }
}

impl Builder {
    /// The names a pattern captures are bound; its values and classes are read.
    fn pattern(&mut self, p: &Pattern) -> Result<(), CompileError> {
        match &p.kind {
            PatternKind::Value(e) | PatternKind::Singleton(e) => self.expr(e)?,
            PatternKind::Sequence(items) | PatternKind::Or(items) => {
                for i in items {
                    self.pattern(i)?;
                }
            }
            PatternKind::Star(name) => {
                if let Some(n) = name {
                    self.bind(&n.name, n.span)?;
                }
            }
            PatternKind::Mapping { keys, patterns, rest } => {
                for k in keys {
                    self.expr(k)?;
                }
                for i in patterns {
                    self.pattern(i)?;
                }
                if let Some(n) = rest {
                    self.bind(&n.name, n.span)?;
                }
            }
            PatternKind::Class { cls, patterns, kwd_patterns, .. } => {
                self.expr(cls)?;
                for i in patterns.iter().chain(kwd_patterns) {
                    self.pattern(i)?;
                }
            }
            PatternKind::As { pattern, name } => {
                if let Some(i) = pattern {
                    self.pattern(i)?;
                }
                if let Some(n) = name {
                    self.bind(&n.name, n.span)?;
                }
            }
        }
        Ok(())
    }
}

fn check_star_body(body: &[Stmt]) -> Result<(), CompileError> {
    for s in body {
        match &s.kind {
            StmtKind::Break | StmtKind::Continue | StmtKind::Return(_) => {
                return Err(err("'break', 'continue' and 'return' cannot appear in an except* block", s.span));
            }
            StmtKind::If { body, orelse, .. } => {
                check_star_body(body)?;
                check_star_body(orelse)?;
            }
            StmtKind::With { body, .. } => check_star_body(body)?,
            StmtKind::Match { cases, .. } => {
                for c in cases {
                    check_star_body(&c.body)?;
                }
            }
            StmtKind::Try { body, handlers, orelse, finalbody, .. } => {
                check_star_body(body)?;
                for h in handlers {
                    check_star_body(&h.body)?;
                }
                check_star_body(orelse)?;
                check_star_body(finalbody)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Resolve scope `id` given the names bound by enclosing function scopes;
/// returns the names it needs from enclosing scopes.
fn resolve(table: &mut ScopeTable, id: usize, enclosing: &[String]) -> Result<Vec<String>, CompileError> {
    let kind = table.scopes[id].kind;
    let order = table.scopes[id].order.clone();
    let flags = table.scopes[id].flags.clone();
    let mut access: HashMap<String, Access> = HashMap::new();
    for name in &order {
        let f = flags[name];
        let a = if f.global {
            Access::Global
        } else if f.nonlocal {
            if !enclosing.contains(name) {
                return Err(err(format!("no binding for nonlocal '{name}' found"), Span::default()));
            }
            Access::Free
        } else {
            match kind {
                ScopeKind::Module => Access::Global,
                ScopeKind::Class => {
                    if f.bound {
                        Access::Name
                    } else if enclosing.contains(name) {
                        Access::ClassDeref
                    } else {
                        Access::Name
                    }
                }
                _ => {
                    if f.bound {
                        Access::Local
                    } else if enclosing.contains(name) {
                        Access::Free
                    } else {
                        Access::GlobalImplicit
                    }
                }
            }
        };
        access.insert(name.clone(), a);
    }
    // Names visible to child function scopes.
    let mut child_env: Vec<String> = enclosing.to_vec();
    if matches!(kind, ScopeKind::Function | ScopeKind::Lambda | ScopeKind::Comprehension) {
        for name in &order {
            if matches!(access[name], Access::Local) {
                child_env.push(name.clone());
            }
        }
    }
    if kind == ScopeKind::Class {
        // Methods may use `__class__` (also implicitly, through `super()`).
        child_env.push("__class__".into());
    }
    let children = table.scopes[id].children.clone();
    let mut cellvars: Vec<String> = Vec::new();
    let mut freevars: Vec<String> = order.iter().filter(|n| matches!(access[*n], Access::Free | Access::ClassDeref)).cloned().collect();
    for c in children {
        let needed = resolve(table, c, &child_env)?;
        for name in needed {
            if kind == ScopeKind::Class && name == "__class__" {
                table.scopes[id].needs_class_cell = true;
                continue;
            }
            match access.get(&name).copied() {
                Some(Access::Local) | Some(Access::Cell) => {
                    access.insert(name.clone(), Access::Cell);
                    if !cellvars.contains(&name) {
                        cellvars.push(name);
                    }
                }
                Some(Access::Free) | Some(Access::ClassDeref) => {}
                _ => {
                    // Passed through this scope to a deeper one.
                    if kind != ScopeKind::Class && !access.contains_key(&name) {
                        access.insert(name.clone(), Access::Free);
                    }
                    if !freevars.contains(&name) {
                        freevars.push(name);
                    }
                }
            }
        }
    }
    let s = &mut table.scopes[id];
    s.access = access;
    s.cellvars = cellvars;
    s.freevars = freevars.clone();
    Ok(freevars)
}
