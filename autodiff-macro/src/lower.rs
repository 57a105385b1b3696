//! Lowering of the body: syn's statements and expressions to single-assignment IR values.
//! This is the fence of the language: every construct it does not understand becomes a
//! spanned error that says what to write instead. Variedness (does a value depend on a
//! differentiable parameter?) is known as values are created; a loop's body is lowered again
//! until its carried values' variedness is stable (`lower/loops.rs`).

mod calls;
mod control;
mod loops;
mod writes;

use crate::errors::{closure_message, forbidden, macro_message, offending, unsupported, Errors};
use crate::ir::*;
use crate::names::Names;
use crate::ops::{self, OpDef};
use crate::rename::{self, Binding, Env};
use proc_macro2::Span;
use quote::{quote, ToTokens};
use std::collections::HashMap;
use syn::spanned::Spanned;

/// A lowered expression: an operand and how many references the user's expression has.
#[derive(Clone)]
pub struct Value {
    pub operand: Operand,
    pub refs: i32,
}

impl Value {
    fn var(var: VarId, refs: i32) -> Self {
        Value {
            operand: Operand::Var(var),
            refs,
        }
    }
    /// A placeholder after an error, so that lowering goes on and reports every problem.
    fn error() -> Self {
        Value {
            operand: Operand::Lit(quote!(0.0)),
            refs: 0,
        }
    }
}

pub struct Lowerer<'e> {
    pub vars: Vec<Var>,
    pub env: Env,
    pub names: Names,
    pub errors: &'e mut Errors,
    /// Statements being built, innermost block last.
    blocks: Vec<Vec<Stmt>>,
    /// How deep the block being lowered is nested (the function body is 1).
    depth: usize,
    /// The depth at which `return` may end a block: the function's body, or a `map`
    /// closure's body (where it returns from the closure).
    return_depth: usize,
    /// For each loop being lowered, innermost last: the scope that holds its exit flags.
    loops: Vec<usize>,
    /// How many `map` closures enclose the expression being lowered.
    closures: usize,
    /// The collections and fields of `Parameters` structs (`ws: &[M]`, `p.layers`), whose
    /// elements `ws[i]` reads by the rule `item`, which tells a `Vec` from a matrix by type.
    pub items: std::collections::HashSet<VarId>,
    /// The factorizations named by `let c = a.cholesky().unwrap();`: the name `c` (a value
    /// never defined nor read), the factor `L` and the matrix `a` it factorizes (where
    /// `c.solve(&b)` sends its gradient).
    factors: HashMap<VarId, (VarId, Operand)>,
    /// The source text of each value, for `NAME_graph`'s labels (kept only when asked for).
    labels: Option<HashMap<VarId, String>>,
    /// The scalar type parameter of a function generic over its scalar (`T`).
    pub scalar: Option<syn::Ident>,
    /// How many of the errors recorded are literals reported as operands of `T`.
    literal_errors: usize,
}

impl<'e> Lowerer<'e> {
    pub fn new(names: Names, errors: &'e mut Errors) -> Self {
        Lowerer {
            vars: Vec::new(),
            env: Env {
                scopes: vec![HashMap::new()],
            },
            names,
            errors,
            blocks: vec![Vec::new()],
            depth: 0,
            return_depth: 1,
            closures: 0,
            loops: Vec::new(),
            items: std::collections::HashSet::new(),
            factors: HashMap::new(),
            labels: None,
            scalar: None,
            literal_errors: 0,
        }
    }

    /// Keeps the source text of each value computed (for `NAME_graph`).
    pub fn keep_labels(&mut self) {
        self.labels = Some(HashMap::new());
    }

    /// Declares a parameter.
    pub fn param(
        &mut self,
        ident: &syn::Ident,
        index: usize,
        refs: i32,
        differentiable: bool,
    ) -> VarId {
        let name = self.names.version(ident, true);
        let id = self.new_var(
            name,
            refs,
            differentiable,
            VarKind::Param {
                index,
                differentiable,
            },
        );
        self.bind(ident, Binding { var: id, refs });
        id
    }

    /// Lowers the function body; the result operand is its value.
    pub fn body(mut self, block: &syn::Block) -> (Body, Names) {
        let result = match self.block_value(&block.stmts, block.span()) {
            Some(v) => self.owned_result(v, block.span()),
            None => Operand::Lit(quote!(0.0)),
        };
        let stmts = self.blocks.pop().unwrap_or_default();
        (
            Body {
                vars: self.vars,
                block: Block { stmts },
                result,
                labels: self.labels.unwrap_or_default(),
                short_names: self.names.short(),
            },
            self.names,
        )
    }

    fn owned_result(&mut self, v: Value, span: Span) -> Operand {
        if v.refs != 0 {
            if let Operand::Var(id) = v.operand {
                if self.vars[id].binding_refs != v.refs || v.refs > 1 {
                    self.errors.push_error(syn::Error::new(span, "the result must be an owned value: write `x.clone()` to return a copy of a borrowed one"));
                }
            }
        }
        v.operand
    }

    fn new_var(
        &mut self,
        name: syn::Ident,
        binding_refs: i32,
        varied: bool,
        kind: VarKind,
    ) -> VarId {
        let introduced = self.names.is_temp(&name);
        self.vars.push(Var {
            name,
            binding_refs,
            varied,
            useful: false,
            kind,
            ty: None,
            reread: None,
            introduced,
        });
        self.vars.len() - 1
    }

    fn temp(&mut self, what: &str, span: Span, varied: bool) -> VarId {
        let name = self.names.temp(what, span);
        self.new_var(name, 0, varied, VarKind::Local)
    }

    fn record(&mut self, what: &str, of: VarId) -> VarId {
        let name = crate::names::handle(&self.vars[of].name, what, self.names.short());
        self.new_var(name, 0, false, VarKind::Record)
    }

    fn bind(&mut self, ident: &syn::Ident, b: Binding) {
        if let Some(scope) = self.env.scopes.last_mut() {
            scope.insert(key(ident), b);
        }
    }

    fn push(&mut self, stmt: Stmt) {
        if let Some(block) = self.blocks.last_mut() {
            block.push(stmt);
        }
    }

    fn error<T: ToTokens>(&mut self, node: T, message: impl std::fmt::Display) -> Value {
        self.errors.push(node, message);
        Value::error()
    }

    // ------------------------------------------------------------------------ statements

    /// Lowers statements in a new scope; returns the block's value (tail or `return`).
    fn block_value(&mut self, stmts: &[syn::Stmt], span: Span) -> Option<Value> {
        // A stray `;` is an empty statement: it does nothing, and is not "the last statement".
        let stmts: Vec<&syn::Stmt> = stmts.iter().filter(|s| !is_empty_statement(s)).collect();
        self.depth += 1;
        let value = self.stmts(&stmts);
        self.depth -= 1;
        let _ = span;
        value
    }

    /// Lowers statements in order; in a loop, the statements after one that may `break` or
    /// `continue` are lowered under a branch on the loop's exit flags.
    fn stmts(&mut self, stmts: &[&syn::Stmt]) -> Option<Value> {
        let mut value = None;
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            value = self.stmt(stmt, last);
            if !last && self.exits_in(stmt) {
                if is_exit(stmt) {
                    self.errors.push(
                        stmts[i + 1],
                        "this code never runs: it comes after a `break` or a `continue`; remove it",
                    );
                } else {
                    self.rest_unless_exited(&stmts[i + 1..], stmts[i + 1].span());
                }
                return None;
            }
        }
        value
    }

    fn stmt(&mut self, stmt: &syn::Stmt, last: bool) -> Option<Value> {
        match stmt {
            syn::Stmt::Local(local) => {
                self.local(local);
                None
            }
            syn::Stmt::Item(item) => {
                self.errors.push(item, "items inside a differentiated function are not supported: define them outside the function");
                None
            }
            syn::Stmt::Macro(m) => {
                self.errors.push(&m.mac, macro_message(&m.mac));
                None
            }
            syn::Stmt::Expr(e, semi) => self.expr_stmt(e, semi.is_some(), last),
        }
    }

    fn expr_stmt(&mut self, e: &syn::Expr, semi: bool, last: bool) -> Option<Value> {
        match e {
            syn::Expr::ForLoop(f) => {
                self.for_loop(f);
                None
            }
            syn::Expr::While(w) => {
                self.while_loop(w);
                None
            }
            syn::Expr::Loop(l) => {
                self.plain_loop(l);
                None
            }
            syn::Expr::Break(_) | syn::Expr::Continue(_) => {
                self.exit(e);
                None
            }
            syn::Expr::Assign(a) => {
                self.assign_stmt(a, e);
                None
            }
            syn::Expr::Binary(b) if compound(&b.op).is_some() => {
                self.compound_assign(b);
                None
            }
            syn::Expr::MethodCall(m) if semi || !last => {
                self.method_call_stmt(m, e);
                None
            }
            syn::Expr::Return(r) => self.return_stmt(r, last),
            syn::Expr::If(i) => self.if_stmt(i, semi, last),
            _ if !semi && last => Some(self.expr(e)),
            _ => {
                // An expression statement: its value is computed and dropped.
                let _ = self.expr(e);
                None
            }
        }
    }

    /// `return e;`: only as the last statement of the function (or of a branch that ends it).
    /// Lowers an assignment statement: a write to an element (`v[i] = x`), or to a binding
    /// or a part of one.
    fn assign_stmt(&mut self, a: &syn::ExprAssign, e: &syn::Expr) {
        if let syn::Expr::Index(ix) = strip_parens(&a.left) {
            self.element_write(ix, None, &a.right, e);
            return;
        }
        if let Some(message) = self.reassigned_factor(&a.left) {
            self.errors.push(&a.left, message);
            return;
        }
        let before = self.vars.len();
        let value = self.expr(&a.right);
        self.assign(&a.left, value, before);
    }

    /// Lowers a method call whose value is not used: a write to a part of a matrix, an
    /// error for a write through a view, otherwise the call computed and dropped.
    fn method_call_stmt(&mut self, m: &syn::ExprMethodCall, e: &syn::Expr) {
        if let Some(def) = writes::part_write(m) {
            self.part_write(m, def);
        } else if writes::through_view(e) {
            self.errors.push(e, writes::VIEW_WRITE);
        } else {
            let _ = self.expr(e);
        }
    }

    /// Lowers an `if` statement; its value when it is the block's last expression.
    fn if_stmt(&mut self, i: &syn::ExprIf, semi: bool, last: bool) -> Option<Value> {
        // The branches of an `if` that ends the function may end with `return`: that
        // is their value (`if c { return a; } else { b }`).
        let outer_return = self.return_depth;
        if last && self.depth == self.return_depth {
            self.return_depth = self.depth + 1;
        }
        let value = self.if_expr(i, !semi && last && i.else_branch.is_some());
        self.return_depth = outer_return;
        if semi {
            None
        } else {
            value
        }
    }

    fn return_stmt(&mut self, r: &syn::ExprReturn, last: bool) -> Option<Value> {
        if !self.loops.is_empty() {
            self.errors.push(r, "`return` inside a loop is not supported: assign a variable declared before the loop, `break`, and end the function with that variable");
            return None;
        }
        if self.depth != self.return_depth {
            // An early return from a branch or block: the rest of the function would
            // still be differentiated as if it ran.
            self.errors.push(r, "`return` inside a block or a branch is not supported: give the branch a value instead (`let y = if c { a } else { b };`) and end the function with it");
            return None;
        }
        if !last {
            self.errors.push(r, "`return` is supported only as the last statement: make the value the tail expression of the function");
            return None;
        }
        match &r.expr {
            Some(e) => Some(self.expr(e)),
            None => Some(self.error(
                r,
                "`return` needs a value: the function returns what it differentiates",
            )),
        }
    }

    fn local(&mut self, local: &syn::Local) {
        let (ident, ty) = match local_pattern(&local.pat) {
            Ok(p) => p,
            Err(e) => return self.errors.push_error(e),
        };
        let Some(init) = &local.init else {
            self.errors.push(local, format!("declare `{ident}` with its value: `let {ident} = …;` (a later assignment cannot be differentiated)"));
            return;
        };
        if let Some((_, diverge)) = &init.diverge {
            self.errors.push(
                diverge,
                "`let … else` is not supported: bind the value with a plain `let`",
            );
            return;
        }
        if let syn::Expr::Closure(c) = strip_parens(&init.expr) {
            // A stored closure would be called like a function the macro cannot see into.
            self.errors.push(c, closure_message());
            return;
        }
        let before = self.vars.len();
        if let Some(value) = self.factorization(&init.expr) {
            // No annotation: it names nalgebra's `Cholesky`, which the plain function checks;
            // the generated code holds the factor `L`, under the user's name.
            self.bind_value(&ident, value.clone(), before, None, true);
            if let Some(c) = value.operand.var() {
                if let Some(&(l, _)) = self.factors.get(&c) {
                    self.vars[l].name = self.vars[c].name.clone();
                }
            }
            return;
        }
        let value = self.expr(&init.expr);
        self.bind_value(&ident, value, before, ty.cloned(), true);
    }

    /// Binds `ident` to a lowered value: a value created by this statement takes the user's
    /// name; an existing one is aliased.
    fn bind_value(
        &mut self,
        ident: &syn::Ident,
        value: Value,
        before: VarId,
        ty: Option<syn::Type>,
        new_name: bool,
    ) {
        let binding = match value.operand {
            Operand::Var(id)
                if id >= before
                    && value.refs == self.vars[id].binding_refs
                    && self.vars[id].kind == VarKind::Local =>
            {
                self.vars[id].name = self.names.version(ident, new_name);
                self.vars[id].ty = ty;
                Binding {
                    var: id,
                    refs: value.refs,
                }
            }
            Operand::Var(id) => Binding {
                var: id,
                refs: value.refs,
            },
            Operand::Lit(tokens) => {
                let name = self.names.version(ident, new_name);
                let id = self.new_var(name, 0, false, VarKind::Local);
                self.vars[id].ty = ty;
                self.push(Stmt::Let {
                    var: id,
                    expr: Expr::Const(Verbatim {
                        tokens,
                        reads: vec![],
                    }),
                    span: ident.span(),
                });
                Binding { var: id, refs: 0 }
            }
        };
        self.bind(ident, binding);
    }

    fn assign(&mut self, target: &syn::Expr, value: Value, before: VarId) {
        if writes::through_view(target) {
            return self.errors.push(target, writes::VIEW_WRITE);
        }
        let Some(ident) = rename::plain_ident(target) else {
            self.errors.push(target, "assign to a whole variable (`x = …`) or to an element (`y[i] = …`): assigning to a field or through a reference is not supported");
            return;
        };
        let ident = ident.clone();
        let Some(depth) = self
            .env
            .scopes
            .iter()
            .rposition(|s| s.contains_key(&key(&ident)))
        else {
            self.errors.push(
                target,
                format!("`{ident}` is not a local variable of this function"),
            );
            return;
        };
        // Rebind in the scope that declared the variable, so the new value outlives inner blocks.
        let saved = std::mem::take(&mut self.env.scopes);
        let mut scopes = saved;
        let inner = scopes.split_off(depth + 1);
        self.env.scopes = scopes;
        self.bind_value(&ident, value, before, None, false);
        self.env.scopes.extend(inner);
    }

    /// The error for assigning to a named Cholesky factorization, if `target` is one.
    fn reassigned_factor(&self, target: &syn::Expr) -> Option<String> {
        let ident = rename::plain_ident(target)?;
        let b = self.env.lookup(&key(ident))?;
        self.factors.contains_key(&b.var).then(|| format!("`{ident}` names a Cholesky factorization, which cannot be assigned again: bind the new one to a new name (`let {ident}2 = a.cholesky().unwrap();`)"))
    }

    /// `x op= e` is `x = x op e`: an operation when either side is differentiable, else a
    /// constant computed as written (`i += 1` on a counter).
    fn compound_assign(&mut self, b: &syn::ExprBinary) {
        let Some(op) = compound(&b.op) else { return };
        if let syn::Expr::Index(ix) = strip_parens(&b.left) {
            return self.element_write(ix, Some(op), &b.right, &syn::Expr::Binary(b.clone()));
        }
        let before = self.vars.len();
        let varied = rename::mentions_varied(&b.left, &self.env, &self.vars)
            || rename::mentions_varied(&b.right, &self.env, &self.vars);
        let value = if varied {
            let lhs = self.expr(&b.left);
            let rhs = self.expr(&b.right);
            self.binary_value(op, lhs, rhs, &b.left, &b.right, b.op.span())
        } else {
            // As written, the right side first: it may read the variable (`h += &h * 0.2`).
            let (left, op, right) = (&b.left, &b.op, &b.right);
            let block = quote!({
                let __ad_rhs = #right;
                let mut __ad_lhs = #left;
                __ad_lhs #op __ad_rhs;
                __ad_lhs
            });
            match syn::parse2::<syn::Expr>(block) {
                Ok(e) => self.constant(&e),
                Err(e) => return self.errors.push_error(e),
            }
        };
        self.assign(&b.left, value, before);
    }

    // ----------------------------------------------------------------------- expressions

    /// Lowers an expression to a value.
    pub fn expr(&mut self, e: &syn::Expr) -> Value {
        let first_new = self.vars.len();
        let value = self.expr_value(e);
        // The innermost expression that computed the value names it: `(x + y)` is `x + y`.
        if value.operand.var().is_some_and(|v| v >= first_new) {
            self.label(&value, e);
        }
        value
    }

    /// Names a value by the user's code that computed it, when labels are kept.
    fn label(&mut self, value: &Value, code: &impl quote::ToTokens) {
        if let (Some(labels), Some(v)) = (&mut self.labels, value.operand.var()) {
            labels.entry(v).or_insert_with(|| crate::label::text(code));
        }
    }

    fn expr_value(&mut self, e: &syn::Expr) -> Value {
        if let Some(v) = self.alias(e) {
            return v;
        }
        // Blocks and branches are lowered structurally even when constant: they may assign
        // the function's variables.
        let structural = matches!(e, syn::Expr::If(_) | syn::Expr::Block(_));
        if !structural && !rename::mentions_varied(e, &self.env, &self.vars) {
            return self.constant(e);
        }
        match e {
            syn::Expr::Paren(p) => self.expr(&p.expr),
            syn::Expr::Group(g) => self.expr(&g.expr),
            syn::Expr::Reference(r) => {
                if r.mutability.is_some() {
                    return self.error(r, "`&mut` is not supported in a differentiated function: values are never mutated in place");
                }
                let mut v = self.expr(&r.expr);
                v.refs += 1;
                v
            }
            syn::Expr::Unary(u) => self.unary(u),
            syn::Expr::Binary(b) => self.binary(b),
            syn::Expr::MethodCall(m) => self.method(m),
            syn::Expr::Call(c) => self.call(c),
            syn::Expr::Index(ix) => self.index(ix),
            syn::Expr::If(i) => match self.if_expr(i, true) {
                Some(v) => v,
                None => self.error(
                    i,
                    "this `if` gives no value: end both branches with an expression",
                ),
            },
            syn::Expr::Block(b) if b.label.is_none() => {
                self.env.scopes.push(HashMap::new());
                let v = self.block_value(&b.block.stmts, b.span());
                self.env.scopes.pop();
                v.unwrap_or_else(|| {
                    self.error(b, "this block has no value: end it with an expression")
                })
            }
            other => {
                let message = unsupported(other);
                self.error(offending(other), message)
            }
        }
    }

    /// `x`, `&x`, `*x`, `(x)` and `x.clone()` of a local: the same value, no operation.
    fn alias(&mut self, e: &syn::Expr) -> Option<Value> {
        match e {
            syn::Expr::Paren(p) => self.alias(&p.expr),
            syn::Expr::Group(g) => self.alias(&g.expr),
            syn::Expr::Reference(r) if r.mutability.is_none() => {
                let v = self.alias(&r.expr)?;
                Some(Value {
                    refs: v.refs + 1,
                    ..v
                })
            }
            syn::Expr::Unary(syn::ExprUnary {
                op: syn::UnOp::Deref(_),
                expr,
                ..
            }) => {
                let v = self.alias(expr)?;
                Some(Value {
                    refs: v.refs - 1,
                    ..v
                })
            }
            syn::Expr::MethodCall(m)
                if ops::is_identity_method(&m.method.to_string()) && m.args.is_empty() =>
            {
                let v = self.alias(&m.receiver)?;
                // A copy of a constant local is a copy, as written: a later write into the
                // variable (`y[i] = c`, computed as written) moves the original.
                let constant_local = v.operand.var().is_some_and(|id| {
                    let var = &self.vars[id];
                    !var.varied && var.kind == VarKind::Local && var.binding_refs == 0
                });
                (!constant_local).then_some(Value { refs: 0, ..v })
            }
            _ => {
                let ident = rename::plain_ident(e)?;
                let b = self.env.lookup(&key(ident))?;
                if self.factors.contains_key(&b.var) {
                    return Some(self.error(ident, factor_use(ident)));
                }
                Some(Value::var(b.var, b.refs))
            }
        }
    }

    /// An expression that does not depend on a differentiable parameter: a literal is
    /// inlined, anything else is computed once, as written, into a binding.
    fn constant(&mut self, e: &syn::Expr) -> Value {
        if is_literal(e) {
            return Value {
                operand: Operand::Lit(e.to_token_stream()),
                refs: 0,
            };
        }
        if let syn::Expr::Closure(c) = strip_parens(e) {
            self.errors.push(c, closure_message());
            return Value::error();
        }
        if let Some((tokens, message)) = forbidden(e) {
            self.errors.push(tokens, message);
            return Value::error();
        }
        let refs = leading_refs(e);
        // `&value(…)` borrows a temporary: the value itself is bound and the binding
        // borrowed, so that nothing (the reverse sweep in particular) holds a reference to a
        // temporary of the forward sweep.
        let (bound, binding_refs) = match without_refs(e) {
            inner if refs > 0 && !is_place(inner) => (inner, 0),
            _ => (e, refs),
        };
        let verbatim = self.verbatim(bound);
        let id = self.temp("c", e.span(), false);
        self.vars[id].binding_refs = binding_refs;
        self.push(Stmt::Let {
            var: id,
            expr: Expr::Const(verbatim),
            span: e.span(),
        });
        Value::var(id, refs)
    }

    fn unary(&mut self, u: &syn::ExprUnary) -> Value {
        match u.op {
            syn::UnOp::Neg(_) => {
                let v = self.expr(&u.expr);
                self.op(&ops::NEG, vec![v.operand], vec![], u.span())
            }
            syn::UnOp::Deref(_) => {
                let mut v = self.expr(&u.expr);
                v.refs -= 1;
                v
            }
            _ => self.error(
                u,
                "`!` is not differentiable: it is supported only in `if` conditions",
            ),
        }
    }

    fn binary(&mut self, b: &syn::ExprBinary) -> Value {
        use syn::BinOp::*;
        let op = match b.op {
            Add(_) | Sub(_) | Mul(_) | Div(_) => b.op,
            AddAssign(_) | SubAssign(_) | MulAssign(_) | DivAssign(_) => {
                return self.error(
                    b,
                    "compound assignment is a statement: write `x += e;` on its own line",
                );
            }
            _ => {
                return self.error(b.op, format!("`{}` on a differentiable value is supported only in `if` conditions; arithmetic supports `+ - * /`", b.op.to_token_stream()));
            }
        };
        let lhs = self.expr(&b.left);
        let rhs = self.expr(&b.right);
        self.binary_value(op, lhs, rhs, &b.left, &b.right, b.op.span())
    }

    fn binary_value(
        &mut self,
        op: syn::BinOp,
        lhs: Value,
        rhs: Value,
        _l: &syn::Expr,
        _r: &syn::Expr,
        span: Span,
    ) -> Value {
        let def = match op {
            syn::BinOp::Add(_) | syn::BinOp::AddAssign(_) => &ops::ADD,
            syn::BinOp::Sub(_) | syn::BinOp::SubAssign(_) => &ops::SUB,
            syn::BinOp::Mul(_) | syn::BinOp::MulAssign(_) => &ops::MUL,
            _ => &ops::DIV,
        };
        self.op(def, vec![lhs.operand, rhs.operand], vec![], span)
    }

    /// Emits a primitive operation and returns its result.
    fn op(
        &mut self,
        def: &'static OpDef,
        operands: Vec<Operand>,
        consts: Vec<Verbatim>,
        span: Span,
    ) -> Value {
        self.op_with_handle(def, operands, consts, span).0
    }

    /// [`Lowerer::op`], and the operation's handle.
    fn op_with_handle(
        &mut self,
        def: &'static OpDef,
        operands: Vec<Operand>,
        consts: Vec<Verbatim>,
        span: Span,
    ) -> (Value, VarId) {
        self.reject_literal_operands(&operands);
        let varied = operands
            .iter()
            .any(|o| o.var().is_some_and(|v| self.vars[v].varied));
        let var = self.temp(def.rule, span, varied);
        let handle = self.record("op", var);
        self.push(Stmt::Let {
            var,
            expr: Expr::Op(OpCall {
                op: def,
                operands,
                consts,
                handle,
                span,
            }),
            span,
        });
        (Value::var(var, 0), handle)
    }

    /// Whether a `map` closure's body is being lowered (its reverse sweep runs inside the
    /// closure, from a tape of its own).
    pub(crate) fn in_closure(&self) -> bool {
        self.closures > 0
    }
}

// ------------------------------------------------------------------------------- helpers

/// The error for a named Cholesky factorization used otherwise than by its two methods.
pub(crate) fn factor_use(ident: &syn::Ident) -> String {
    format!("`{ident}` names a Cholesky factorization: use it as `{ident}.l()` (the factor `L`) or `{ident}.solve(&b)` (`A⁻¹b`); to pass the factor on, pass `{ident}.l()`")
}

/// `x`, `mut x`, `x: T`: the one identifier a `let` or closure parameter binds.
pub fn local_pattern(pat: &syn::Pat) -> syn::Result<(syn::Ident, Option<&syn::Type>)> {
    match pat {
        syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Ok((p.ident.clone(), None)),
        syn::Pat::Type(t) => {
            let (ident, _) = local_pattern(&t.pat)?;
            Ok((ident, Some(&t.ty)))
        }
        other => Err(syn::Error::new_spanned(other, "bind one value to one name (`let x = …`): patterns and destructuring are not supported")),
    }
}

/// The name of a variable in the environment: `r#x` and `x` are the same variable.
fn key(ident: &syn::Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

fn strip_parens(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip_parens(&p.expr),
        syn::Expr::Group(g) => strip_parens(&g.expr),
        other => other,
    }
}

/// `break;` or `continue;` as a statement.
fn is_exit(stmt: &syn::Stmt) -> bool {
    matches!(
        stmt,
        syn::Stmt::Expr(syn::Expr::Break(_) | syn::Expr::Continue(_), _)
    )
}

/// `;` on its own, which syn keeps as an empty verbatim expression.
fn is_empty_statement(stmt: &syn::Stmt) -> bool {
    matches!(stmt, syn::Stmt::Expr(syn::Expr::Verbatim(tokens), _) if tokens.is_empty())
}

fn compound(op: &syn::BinOp) -> Option<syn::BinOp> {
    match op {
        syn::BinOp::AddAssign(_)
        | syn::BinOp::SubAssign(_)
        | syn::BinOp::MulAssign(_)
        | syn::BinOp::DivAssign(_) => Some(*op),
        _ => None,
    }
}

impl Lowerer<'_> {
    /// In a function generic over its scalar `T`, a number literal is never a `T`: an operand
    /// written as one (`x * 2.0`) is reported with the ways to write a constant of `T`.
    /// After any other error, an operand may be the placeholder `0.0` of [`Value::error`]:
    /// the check stops there (rustc still reports the literals in the function itself).
    fn reject_literal_operands(&mut self, operands: &[Operand]) {
        let Some(t) = &self.scalar else { return };
        if self.errors.len() > self.literal_errors {
            return;
        }
        for o in operands {
            let Operand::Lit(tokens) = o else { continue };
            let Ok(e) = syn::parse2::<syn::Expr>(tokens.clone()) else {
                continue;
            };
            if is_literal(&e) {
                let mut text = tokens.to_string().replace(' ', "");
                if !text.contains(['.', 'e', '_']) {
                    text.push_str(".0");
                }
                let message = format!("a number literal is not a `{t}`: in a function generic over its scalar, write the constant `{text}` as `nalgebra::convert({text})` (with `let c: {t} = …` when its type is not inferred), `{t}::from_f64({text}).unwrap()`, or `{t}::one()`/`{t}::zero()`");
                self.errors.push(tokens, message);
                self.literal_errors += 1;
            }
        }
    }
}

fn is_literal(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Lit(l) => matches!(l.lit, syn::Lit::Float(_) | syn::Lit::Int(_)),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => is_literal(expr),
        syn::Expr::Paren(p) => is_literal(&p.expr),
        _ => false,
    }
}

/// `e` without its leading `&`s (and parentheses).
fn without_refs(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Reference(r) => without_refs(&r.expr),
        syn::Expr::Paren(p) => without_refs(&p.expr),
        other => other,
    }
}

/// A place expression (a variable, a field, an element, a dereference): borrowing it
/// borrows what already exists, not a temporary.
fn is_place(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Path(_) | syn::Expr::Field(_) | syn::Expr::Index(_) => true,
        syn::Expr::Unary(u) => matches!(u.op, syn::UnOp::Deref(_)),
        syn::Expr::Paren(p) => is_place(&p.expr),
        syn::Expr::Group(g) => is_place(&g.expr),
        _ => false,
    }
}

fn leading_refs(e: &syn::Expr) -> i32 {
    match e {
        syn::Expr::Reference(r) => 1 + leading_refs(&r.expr),
        syn::Expr::Paren(p) => leading_refs(&p.expr),
        _ => 0,
    }
}
