//! Lowering of the body: syn's statements and expressions to single-assignment IR values.
//! This is the fence of the language: every construct it does not understand becomes a
//! spanned error that says what to write instead. Variedness (does a value depend on a
//! differentiable parameter?) is known as values are created, since the body has no loops.

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
        }
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
        self.vars.push(Var {
            name,
            binding_refs,
            varied,
            useful: false,
            kind,
            ty: None,
        });
        self.vars.len() - 1
    }

    fn temp(&mut self, what: &str, span: Span, varied: bool) -> VarId {
        let name = self.names.temp(what, span);
        self.new_var(name, 0, varied, VarKind::Local)
    }

    fn record(&mut self, what: &str, of: VarId) -> VarId {
        let name = crate::names::handle(&self.vars[of].name, what);
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
        let mut value = None;
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            value = self.stmt(stmt, last);
        }
        self.depth -= 1;
        let _ = span;
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
            syn::Expr::Assign(a) => {
                let before = self.vars.len();
                let value = self.expr(&a.right);
                self.assign(&a.left, value, before);
                None
            }
            syn::Expr::Binary(b) if compound(&b.op).is_some() => {
                self.compound_assign(b);
                None
            }
            syn::Expr::Return(r) => {
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
            syn::Expr::If(i) => {
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
            _ if !semi && last => Some(self.expr(e)),
            _ => {
                // An expression statement: its value is computed and dropped.
                let _ = self.expr(e);
                None
            }
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
        let Some(ident) = rename::plain_ident(target) else {
            self.errors.push(target, "assign to a whole variable (`x = …`): assigning to a field, an element or through a reference is not supported");
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

    fn compound_assign(&mut self, b: &syn::ExprBinary) {
        let Some(op) = compound(&b.op) else { return };
        let before = self.vars.len();
        let lhs = self.expr(&b.left);
        let rhs = self.expr(&b.right);
        let value = self.binary_value(op, lhs, rhs, &b.left, &b.right, b.op.span());
        self.assign(&b.left, value, before);
    }

    // ----------------------------------------------------------------------- expressions

    /// Lowers an expression to a value.
    pub fn expr(&mut self, e: &syn::Expr) -> Value {
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
                Some(Value { refs: 0, ..v })
            }
            _ => {
                let ident = rename::plain_ident(e)?;
                let b = self.env.lookup(&key(ident))?;
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
        let verbatim = rename::verbatim(bound, &self.env, &self.vars);
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
        Value::var(var, 0)
    }

    fn method(&mut self, m: &syn::ExprMethodCall) -> Value {
        let name = syn::ext::IdentExt::unraw(&m.method).to_string();
        if let Some(turbofish) = &m.turbofish {
            return self.error(
                turbofish,
                "type arguments on a method are not supported here: annotate the `let` instead",
            );
        }
        if name == "map" {
            return self.map(m);
        }
        let Some(def) = ops::method(&name) else {
            return self.error(&m.method, format!("the method `{name}` has no derivative rule: use a method that has one ({}), or write the computation as a #[differentiate] function and call it", ops::METHOD_NAMES));
        };
        let operands_after = def.operands() - 1;
        if m.args.len() != operands_after + def.consts {
            return self.error(
                m,
                format!(
                    "`.{name}(..)` takes {} argument{} here",
                    operands_after + def.consts,
                    if operands_after + def.consts == 1 {
                        ""
                    } else {
                        "s"
                    }
                ),
            );
        }
        let recv = self.expr(&m.receiver);
        let mut operands = vec![recv.operand];
        for a in m.args.iter().take(operands_after) {
            operands.push(self.expr(a).operand);
        }
        let consts = m
            .args
            .iter()
            .skip(operands_after)
            .map(|a| self.const_arg(a))
            .collect();
        self.op(def, operands, consts, m.method.span())
    }

    /// A constant argument of a rule (`alpha`, `labels`, `n`): kept as written when it is a
    /// literal or names a binding, computed once into a binding otherwise.
    fn const_arg(&mut self, a: &syn::Expr) -> Verbatim {
        if rename::mentions_varied(a, &self.env, &self.vars) {
            self.errors.push(
                a,
                "this argument must be a constant: it cannot depend on a differentiable parameter",
            );
            return Verbatim {
                tokens: quote!(0.0),
                reads: vec![],
            };
        }
        if is_literal(a) || self.alias(a).is_some() {
            return rename::verbatim(a, &self.env, &self.vars);
        }
        let v = self.constant(a);
        match v.operand {
            Operand::Var(id) => Verbatim {
                tokens: rename::render(&self.vars[id], v.refs),
                reads: vec![id],
            },
            Operand::Lit(tokens) => Verbatim {
                tokens,
                reads: vec![],
            },
        }
    }

    fn call(&mut self, c: &syn::ExprCall) -> Value {
        let syn::Expr::Path(func) = &*c.func else {
            return self.error(
                &c.func,
                "only calls of a function by its path are supported (`f(x)` or `m::f(x)`)",
            );
        };
        if func.qself.is_some() {
            return self.error(&c.func, "qualified paths (`<T as Trait>::f`) are not supported: call a #[differentiate] function by its path");
        }
        let path = &func.path;
        if let Some(seg) = path.segments.iter().find(|s| !s.arguments.is_none()) {
            return self.error(&seg.arguments, "calls with type arguments are not supported (generic functions come in a later stage)");
        }
        let Some(last) = path.segments.last() else {
            return self.error(&c.func, "empty path");
        };
        if let Some(first) = path.segments.first().filter(|_| path.segments.len() > 1) {
            // `f64::floor(x)`, `std::cmp::max(a, b)`: functions of the standard library have
            // no derivative rule and cannot be #[differentiate] functions.
            const STD: &[&str] = &[
                "f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32",
                "u64", "u128", "usize", "std", "core", "alloc", "nalgebra",
            ];
            if STD.contains(&first.ident.to_string().as_str()) {
                let name = path.to_token_stream().to_string().replace(' ', "");
                return self.error(&c.func, format!("`{name}` has no derivative rule: call a function with a rule (`relu`, `sigmoid`, `tanh`, …, or a method such as `x.exp()`), or a #[differentiate] function of your own"));
            }
        }
        if let Some(ident) = path.get_ident() {
            if self.env.lookup(&key(ident)).is_some() {
                return self.error(&c.func, format!("`{ident}` is a local variable, not a function: a differentiable value can be passed only to a function with a derivative rule or a #[differentiate] function"));
            }
        }
        let callee = syn::ext::IdentExt::unraw(&last.ident).to_string();
        if let Some(def) = ops::function(&callee) {
            return self.function(def, c, &last.ident);
        }
        let mut args = Vec::new();
        for a in &c.args {
            if rename::mentions_varied(a, &self.env, &self.vars) {
                let v = self.expr(a);
                let value = match v.operand {
                    Operand::Var(id) => Some(id),
                    Operand::Lit(_) => None,
                };
                args.push(CallArg {
                    value,
                    refs: v.refs,
                    constant: None,
                });
            } else {
                let refs = self
                    .alias(a)
                    .map(|v| v.refs)
                    .unwrap_or_else(|| leading_refs(a));
                args.push(CallArg {
                    value: None,
                    refs,
                    constant: Some(rename::verbatim(a, &self.env, &self.vars)),
                });
            }
        }
        let var = self.temp(&callee, c.span(), true);
        let tape = self.record("tape", var);
        self.push(Stmt::Let {
            var,
            expr: Expr::Call(Call {
                path: path.clone(),
                args,
                tape,
                span: c.span(),
            }),
            span: c.span(),
        });
        Value::var(var, 0)
    }

    fn function(&mut self, def: &'static OpDef, c: &syn::ExprCall, name: &syn::Ident) -> Value {
        let expected = def.operands() + def.consts;
        if c.args.len() != expected {
            return self.error(
                c,
                format!(
                    "`{name}` takes {expected} argument{}",
                    if expected == 1 { "" } else { "s" }
                ),
            );
        }
        let operands = c
            .args
            .iter()
            .take(def.operands())
            .map(|a| self.expr(a).operand)
            .collect();
        let consts = c
            .args
            .iter()
            .skip(def.operands())
            .map(|a| self.const_arg(a))
            .collect();
        self.op(def, operands, consts, name.span())
    }

    fn map(&mut self, m: &syn::ExprMethodCall) -> Value {
        let closure = match m.args.first() {
            Some(syn::Expr::Closure(c)) if m.args.len() == 1 => c,
            _ => return self.error(m, "`map` takes one closure on a scalar: `m.map(|v| …)`"),
        };
        if closure.inputs.len() != 1 {
            return self.error(
                &closure.inputs,
                "the closure of `map` takes exactly one parameter, the element: `|v| …`",
            );
        }
        let (param_ident, _) = match local_pattern(&closure.inputs[0]) {
            Ok(p) => p,
            Err(e) => {
                self.errors.push_error(e);
                return Value::error();
            }
        };
        let recv = self.expr(&m.receiver);
        let recv_varied = recv.operand.var().is_some_and(|v| self.vars[v].varied);
        let first_inner = self.vars.len();
        self.env.scopes.push(HashMap::new());
        let pname = self.names.version(&param_ident, true);
        let param = self.new_var(pname, 0, recv_varied, VarKind::Local);
        self.bind(
            &param_ident,
            Binding {
                var: param,
                refs: 0,
            },
        );
        self.blocks.push(Vec::new());
        let outer_return = std::mem::replace(&mut self.return_depth, self.depth + 1);
        let result = self.expr(&closure.body);
        self.return_depth = outer_return;
        let body = Block {
            stmts: self.blocks.pop().unwrap_or_default(),
        };
        self.env.scopes.pop();
        if result.refs != 0 {
            self.errors.push(
                &closure.body,
                "the closure of `map` must return a scalar value",
            );
        }
        let mut captures = Vec::new();
        crate::analyse::block_reads(&body, &mut |v| {
            if v < first_inner && !captures.contains(&v) {
                captures.push(v);
            }
        });
        if let Operand::Var(v) = result.operand {
            if v < first_inner && !captures.contains(&v) {
                captures.push(v);
            }
        }
        let varied = recv_varied || captures.iter().any(|&v| self.vars[v].varied);
        let var = self.temp("map", m.method.span(), varied);
        let handle = self.record("op", var);
        let call = MapCall {
            recv: recv.operand,
            param,
            body,
            result: result.operand,
            captures,
            handle,
            span: m.method.span(),
        };
        self.push(Stmt::Let {
            var,
            expr: Expr::Map(Box::new(call)),
            span: m.span(),
        });
        Value::var(var, 0)
    }

    // ---------------------------------------------------------------------------- branches

    /// `if c { … } else { … }`: lowers both branches and merges the variables they assign
    /// (and the value, when the `if` is an expression).
    fn if_expr(&mut self, i: &syn::ExprIf, want_value: bool) -> Option<Value> {
        if let syn::Expr::Let(l) = &*i.cond {
            self.errors.push(
                l,
                "`if let` is not supported: compare values with `if a > b { … }`",
            );
            return None;
        }
        if let Some((tokens, message)) = forbidden(&i.cond) {
            self.errors.push(tokens, message);
            return None;
        }
        let cond = rename::verbatim(&i.cond, &self.env, &self.vars);
        let outer = self.env.clone();

        let (then_block, then_value, then_env) = self.branch(|this| {
            this.env.scopes.push(HashMap::new());
            let v = this.block_value(&i.then_branch.stmts, i.then_branch.span());
            this.env.scopes.pop();
            v
        });
        self.env = outer.clone();
        let (else_block, else_value, else_env) = self.branch(|this| match &i.else_branch {
            None => None,
            Some((_, e)) => match &**e {
                syn::Expr::If(nested) => this.if_expr(nested, want_value),
                syn::Expr::Block(b) => {
                    this.env.scopes.push(HashMap::new());
                    let v = this.block_value(&b.block.stmts, b.span());
                    this.env.scopes.pop();
                    v
                }
                other => Some(this.expr(other)),
            },
        });
        self.env = outer.clone();

        let mut merges = Vec::new();
        let mut value = None;
        if want_value {
            match (then_value, else_value) {
                (Some(t), Some(e)) => {
                    if t.refs != e.refs {
                        self.errors.push(i, "both branches must give a value of the same kind (both owned or both borrowed)");
                    }
                    let varied = self.varied(&t.operand) || self.varied(&e.operand);
                    let var = self.temp("if", i.span(), varied);
                    self.vars[var].binding_refs = t.refs;
                    merges.push(Merge {
                        var,
                        refs: t.refs,
                        then_value: t.operand,
                        else_value: e.operand,
                    });
                    value = Some(Value::var(var, t.refs));
                }
                (None, None) if i.else_branch.is_some() => {}
                _ => {
                    self.errors.push(i, "an `if` used as a value needs an `else` branch, and both branches need a value");
                    value = Some(Value::error());
                }
            }
        }
        for (depth, scope) in outer.scopes.iter().enumerate() {
            let mut names: Vec<_> = scope.iter().collect();
            names.sort_by_key(|(n, _)| n.as_str());
            for (name, before) in names {
                let t = then_env.scopes[depth].get(name).copied().unwrap_or(*before);
                let e = else_env.scopes[depth].get(name).copied().unwrap_or(*before);
                if t == *before && e == *before {
                    continue;
                }
                if t.refs != e.refs {
                    self.errors.push(i, format!("`{name}` is assigned values of different kinds in the two branches (owned and borrowed)"));
                }
                let ident = syn::Ident::new(name, i.if_token.span);
                let varied = self.vars[t.var].varied || self.vars[e.var].varied;
                let merged = self.names.version(&ident, false);
                let var = self.new_var(merged, t.refs, varied, VarKind::Local);
                merges.push(Merge {
                    var,
                    refs: t.refs,
                    then_value: Operand::Var(t.var),
                    else_value: Operand::Var(e.var),
                });
                self.env.scopes[depth].insert(name.clone(), Binding { var, refs: t.refs });
            }
        }
        let name = self.names.temp("if", i.if_token.span);
        let record = self.new_var(name, 0, false, VarKind::Record);
        self.push(Stmt::If(Box::new(If {
            cond,
            then_block,
            else_block,
            merges,
            record,
            span: i.span(),
        })));
        value
    }

    fn branch(
        &mut self,
        f: impl FnOnce(&mut Self) -> Option<Value>,
    ) -> (Block, Option<Value>, Env) {
        self.blocks.push(Vec::new());
        let value = f(self);
        let block = Block {
            stmts: self.blocks.pop().unwrap_or_default(),
        };
        (block, value, self.env.clone())
    }

    fn varied(&self, o: &Operand) -> bool {
        o.var().is_some_and(|v| self.vars[v].varied)
    }
}

// ------------------------------------------------------------------------------- helpers

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
