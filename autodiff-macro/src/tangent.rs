//! Forward mode as a transformation of the IR: after each operation on a value that has a
//! tangent, the operations that compute the tangent of its result (`t_y = t_a·b + a·t_b`
//! after `y = a * b`), written with the same rules the body uses, so that the transformed
//! body is a body like any other. `NAME_jvp` prints it as plain code; `NAME_hvp` gives it to
//! the reverse mode, whose gradient of the directional derivative is the Hessian-vector
//! product (reverse over forward).
//!
//! A value has a tangent when it depends on a parameter that has one; a value without one
//! has the tangent zero, which is never built except where a branch or a loop must hand a
//! tangent on (`zeros_like`). Piecewise rules (`relu`, `abs`, `max`) take their slope as a
//! constant computed from the forward values; every other slope is computed by rules, so
//! that its own derivative is there for the reverse mode.

use crate::errors::Errors;
use crate::ir::*;
use crate::names::Names;
use crate::ops::{self, OpDef};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use std::collections::HashMap;

mod rules;

/// The forward-mode transformation of one body.
pub struct Tangents<'a> {
    pub vars: &'a mut Vec<Var>,
    pub names: &'a mut Names,
    pub errors: &'a mut Errors,
    /// The tangent of each value that has one.
    tangent: HashMap<VarId, Operand>,
    /// Tangents of values passed whole (collections, structs) that a flag gates: the hidden
    /// function's, whose caller may give none and passes the value itself instead. Each
    /// element read of the tangent is `tangent_if(ws[i], flag)`, and a call passes the flag
    /// on with the tangent.
    gated: HashMap<VarId, Verbatim>,
    /// Every value whose tangent an operation read (to bind only the tangents of fields that
    /// are).
    read: std::cell::RefCell<std::collections::HashSet<VarId>>,
    /// Every value whose tangent a call passed on (a field read only so may be a skipped one,
    /// which has none: its tangent goes with a flag that says so).
    called: std::collections::HashSet<VarId>,
}

/// An optional tangent of an operand.
type Tan = Option<Operand>;

impl<'a> Tangents<'a> {
    /// `seeds`: each parameter with a tangent, and the value holding its tangent.
    pub fn new(
        vars: &'a mut Vec<Var>,
        names: &'a mut Names,
        errors: &'a mut Errors,
        seeds: &[(VarId, VarId)],
    ) -> Self {
        let tangent = seeds.iter().map(|&(p, t)| (p, Operand::Var(t))).collect();
        Tangents {
            vars,
            names,
            errors,
            tangent,
            gated: HashMap::new(),
            read: Default::default(),
            called: Default::default(),
        }
    }

    /// The body with its tangents, and the tangent of `result` (a zero of its shape when it
    /// has none).
    pub fn body(&mut self, block: Block, result: &Operand, span: Span) -> (Block, Operand) {
        let mut out = self.block(block);
        let t = match self.tan(result) {
            Some(t) => t,
            None => self.zeros_like(&mut out, result, span),
        };
        (out, t)
    }

    fn tan(&self, o: &Operand) -> Tan {
        let v = o.var()?;
        let t = self.tangent.get(&v).cloned();
        if t.is_some() {
            self.read.borrow_mut().insert(v);
        }
        t
    }

    /// The values whose tangent some operation read.
    pub fn read(&self) -> std::collections::HashSet<VarId> {
        self.read.borrow().clone()
    }

    /// The values whose tangent some call passed on.
    pub fn called(&self) -> std::collections::HashSet<VarId> {
        self.called.clone()
    }

    fn block(&mut self, block: Block) -> Block {
        let mut out = Block::default();
        for stmt in block.stmts {
            self.stmt(stmt, &mut out);
        }
        out
    }

    fn stmt(&mut self, stmt: Stmt, out: &mut Block) {
        match stmt {
            Stmt::Let { var, expr, span } => {
                let tangent = match &expr {
                    Expr::Const(_) => None,
                    Expr::Call(call) => {
                        let call = call.clone();
                        out.stmts.push(Stmt::Let { var, expr, span });
                        return self.record(out, var, |this, out| this.call(out, &call));
                    }
                    Expr::Op(op) => {
                        let op = op.clone();
                        out.stmts.push(Stmt::Let { var, expr, span });
                        return self.record(out, var, |this, out| this.op(out, var, &op));
                    }
                    Expr::Map(map) => {
                        let map = (**map).clone();
                        out.stmts.push(Stmt::Let { var, expr, span });
                        return self.record(out, var, |this, out| this.map(out, &map));
                    }
                };
                out.stmts.push(Stmt::Let { var, expr, span });
                if let Some(t) = tangent {
                    self.tangent.insert(var, t);
                }
            }
            Stmt::If(i) => self.branch(*i, out),
            Stmt::Loop(l) => self.iterations(*l, out),
        }
    }

    /// Starts the tangent of `param`, a value whose tangent a flag gates (a collection, read
    /// by element; a struct passed whole to methods; a field only passed on to calls), at
    /// `tangent`, with the flag that says whether it is one:
    /// `given[position]` in the hidden function (`given`), and for a field, whether it is not
    /// a `#[parameters(skip)]` one (`is_tangent`, which only its type tells).
    pub fn seed_flagged(
        &mut self,
        param: VarId,
        tangent: VarId,
        given: Option<(VarId, usize)>,
        field: bool,
    ) {
        let mut tokens = Vec::new();
        let mut reads = Vec::new();
        if let Some((given, position)) = given {
            let flag = self.given_flag(given, position);
            tokens.push(flag.tokens);
            reads.extend(flag.reads);
        }
        if field {
            let name = &self.vars[tangent].name;
            tokens.push(quote!(__ad::is_tangent(&#name)));
            reads.push(tangent);
        }
        if tokens.is_empty() {
            tokens.push(quote!(true));
        }
        let flag = Verbatim {
            tokens: quote!(#(#tokens)&&*),
            reads,
        };
        self.tangent.insert(param, Operand::Var(tangent));
        self.gated.insert(tangent, flag);
    }

    /// Starts `param`'s tangent at `tangent`.
    pub fn seed(&mut self, param: VarId, tangent: Operand) {
        self.tangent.insert(param, tangent);
    }

    /// `tangent_if(tangent, given[position])`: the tangent the caller gave for the parameter
    /// at `position`, or zero.
    pub fn given(
        &mut self,
        out: &mut Block,
        tangent: VarId,
        given: VarId,
        position: usize,
        span: Span,
    ) -> Operand {
        let flag = self.given_flag(given, position);
        let t = self.rule(
            out,
            &ops::TANGENT_IF,
            vec![Operand::Var(tangent)],
            vec![flag],
            span,
        );
        if let Some(v) = t.var() {
            let name = crate::names::handle(&self.vars[tangent].name, "given", true).to_string();
            self.rename(out, v, &name);
        }
        t
    }

    /// `given[position]`: whether the hidden function's caller gave the tangent of its
    /// parameter at `position`.
    fn given_flag(&self, given: VarId, position: usize) -> Verbatim {
        let name = &self.vars[given].name;
        Verbatim {
            tokens: quote!(#name[#position]),
            reads: vec![given],
        }
    }

    /// `s·y + t`, at the end of `out`: the function `NAME_hvp` differentiates.
    pub fn weighted(
        &mut self,
        out: &mut Block,
        s: Operand,
        y: Operand,
        t: Operand,
        span: Span,
    ) -> Operand {
        let sy = self.bin(out, &ops::MUL, s, y, span);
        if let Some(v) = sy.var() {
            self.rename(out, v, "weighted_value");
        }
        let weighted = self.bin(out, &ops::ADD, sy, t, span);
        if let Some(v) = weighted.var() {
            self.rename(out, v, "weighted");
        }
        weighted
    }

    /// Keeps the tangent `f` computes (at the end of `out`) as `var`'s, named after it
    /// (`tan_q`) when `f` made it.
    fn record(
        &mut self,
        out: &mut Block,
        var: VarId,
        f: impl FnOnce(&mut Self, &mut Block) -> Tan,
    ) {
        let first_new = self.vars.len();
        let Some(t) = f(self, out) else { return };
        if let Some(v) = t.var().filter(|&v| v >= first_new) {
            let name = crate::names::handle(&self.vars[var].name, "tan", true).to_string();
            self.rename(out, v, &name);
        }
        self.tangent.insert(var, t);
    }

    /// Names the value `v`, made by the last statements of `out`, `name` (and its pullback
    /// handle or tape after it).
    fn rename(&mut self, out: &Block, v: VarId, name: &str) {
        let span = self.vars[v].name.span();
        self.vars[v].name = self.names.named(name, span);
        let made = out.stmts.iter().rev().find_map(|stmt| match stmt {
            Stmt::Let { var, expr, .. } if *var == v => Some(expr),
            _ => None,
        });
        let (record, what) = match made {
            Some(Expr::Op(op)) => (op.handle, "op"),
            Some(Expr::Call(call)) => (call.tape, "tape"),
            _ => return,
        };
        let short = self.names.short();
        self.vars[record].name = crate::names::handle(&self.vars[v].name, what, short);
    }

    /// The tangent of `y = f(args…)`: `__ad_tangent_f(args…, tangents…, given, 0)`, the
    /// hidden function that `jvp` or `hvp` on `f` generates (its value is `0·f + ∇f·t`),
    /// with a tangent for every argument: the argument's own where it has one, the argument
    /// itself (marked as not given, so that `f` takes a zero) where it has none. A callee
    /// without forward mode is a compile error at the call that names it.
    fn call(&mut self, out: &mut Block, call: &Call) -> Tan {
        let tangents: Vec<Tan> = (call.args.iter())
            .map(|a| {
                let v = a.value?;
                let t = self.tangent.get(&v).cloned();
                if t.is_some() {
                    self.called.insert(v);
                }
                t
            })
            .collect();
        if tangents.iter().all(Option::is_none) {
            return None;
        }
        let Some((check, hidden)) = hidden_paths(&call.path) else {
            let callee = &call.path;
            self.errors.push_error(syn::Error::new(
                call.span,
                format!(
                    "`jvp` and `hvp` cannot call `{}`, whose path has type arguments before \
                     the function's name: call it through its type without them \
                     (`Model::f(..)`, `Self::f(..)`)",
                    quote!(#callee).to_string().replace(' ', "")
                ),
            ));
            return None;
        };
        let check = crate::rename::respan(check, call.span);
        self.constant(out, check, Vec::new(), call.span);
        let flags: Vec<Option<Verbatim>> = (tangents.iter())
            .map(|t| {
                let t = t.as_ref()?.var()?;
                self.gated.get(&t).cloned()
            })
            .collect();
        let args = hidden_args(call, &tangents, &flags);
        let var = self.local("tan", call.span);
        let tape_name = crate::names::handle(&self.vars[var].name, "tape", self.names.short());
        let tape = self.record_var(tape_name);
        out.stmts.push(Stmt::Let {
            var,
            expr: Expr::Call(Call {
                path: hidden,
                args,
                tape,
                span: call.span,
            }),
            span: call.span,
        });
        Some(Operand::Var(var))
    }

    // ------------------------------------------------------------------ building blocks

    /// A value only the reverse sweep reads (a pullback handle, a call's tape).
    fn record_var(&mut self, name: syn::Ident) -> VarId {
        self.vars.push(Var {
            name,
            binding_refs: 0,
            varied: false,
            useful: false,
            kind: VarKind::Record,
            ty: None,
            reread: None,
            introduced: true,
        });
        self.vars.len() - 1
    }

    fn local(&mut self, what: &str, span: Span) -> VarId {
        let name = self.names.temp(what, span);
        self.vars.push(Var {
            name,
            binding_refs: 0,
            varied: true,
            useful: false,
            kind: VarKind::Local,
            ty: None,
            reread: None,
            introduced: true,
        });
        self.vars.len() - 1
    }

    /// `let v = rule(operands…, consts…);`, a new value with a tangent's name.
    fn rule(
        &mut self,
        out: &mut Block,
        def: &'static OpDef,
        operands: Vec<Operand>,
        consts: Vec<Verbatim>,
        span: Span,
    ) -> Operand {
        let var = self.local("tan", span);
        // Varied when an operand is: a slope of constants (inside a closure's partial
        // derivative) is a constant.
        let varied = operands
            .iter()
            .any(|o| o.var().is_some_and(|v| self.vars[v].varied));
        self.vars[var].varied = varied;
        let handle_name = crate::names::handle(&self.vars[var].name, "op", self.names.short());
        let handle = self.record_var(handle_name);
        out.stmts.push(Stmt::Let {
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
        Operand::Var(var)
    }

    /// `let c = __ad::helper(reads…);`: a constant computed from values of the forward sweep.
    fn constant(
        &mut self,
        out: &mut Block,
        tokens: TokenStream,
        reads: Vec<VarId>,
        span: Span,
    ) -> Operand {
        let var = self.local("slope", span);
        self.vars[var].varied = false;
        out.stmts.push(Stmt::Let {
            var,
            expr: Expr::Const(Verbatim { tokens, reads }),
            span,
        });
        Operand::Var(var)
    }

    /// An operand as a helper's argument: a reference to it.
    fn arg(&self, o: &Operand) -> (TokenStream, Vec<VarId>) {
        match o {
            Operand::Var(v) => (crate::rename::render(&self.vars[*v], 1), vec![*v]),
            Operand::Lit(tokens) => (quote!(&#tokens), Vec::new()),
        }
    }

    fn helper(
        &mut self,
        out: &mut Block,
        name: &str,
        args: &[&Operand],
        extra: TokenStream,
        span: Span,
    ) -> Operand {
        let helper = syn::Ident::new(name, span);
        let mut reads = Vec::new();
        let mut tokens = Vec::new();
        for a in args {
            let (t, r) = self.arg(a);
            // Spanned at the operation: a helper's type error points at the user's code there.
            let t = crate::rename::respan(t, span);
            tokens.push(t);
            reads.extend(r);
        }
        self.constant(out, quote!(__ad::#helper(#(#tokens,)* #extra)), reads, span)
    }

    fn zeros_like(&mut self, out: &mut Block, o: &Operand, span: Span) -> Operand {
        self.helper(out, "zeros_like", &[o], quote!(), span)
    }

    /// `n` in the scalar type of `like`'s elements.
    fn count(&mut self, out: &mut Block, like: &Operand, n: i32, span: Span) -> Operand {
        self.helper(out, "count_like", &[like], quote!(#n), span)
    }

    fn bin(
        &mut self,
        out: &mut Block,
        def: &'static OpDef,
        a: Operand,
        b: Operand,
        span: Span,
    ) -> Operand {
        self.rule(out, def, vec![a, b], Vec::new(), span)
    }

    fn un(&mut self, out: &mut Block, def: &'static OpDef, a: Operand, span: Span) -> Operand {
        self.rule(out, def, vec![a], Vec::new(), span)
    }

    /// The sum of the terms present (none: no tangent).
    fn sum(&mut self, out: &mut Block, terms: Vec<Tan>, span: Span) -> Tan {
        let mut acc: Tan = None;
        for t in terms.into_iter().flatten() {
            acc = Some(match acc {
                None => t,
                Some(a) => self.bin(out, &ops::ADD, a, t, span),
            });
        }
        acc
    }

    /// `a − b` for tangents that may be absent.
    fn difference(&mut self, out: &mut Block, a: Tan, b: Tan, span: Span) -> Tan {
        match (a, b) {
            (a, None) => a,
            (None, Some(b)) => Some(self.un(out, &ops::NEG, b, span)),
            (Some(a), Some(b)) => Some(self.bin(out, &ops::SUB, a, b, span)),
        }
    }

    /// `t ⊙ y ⊙ y`.
    fn times_square(&mut self, out: &mut Block, t: Operand, y: &Operand, span: Span) -> Operand {
        let ty = self.bin(out, &ops::EMUL, t, y.clone(), span);
        self.bin(out, &ops::EMUL, ty, y.clone(), span)
    }
}

// ------------------------------------------------------------------------------ operations

impl Tangents<'_> {
    /// The tangent of `ws[i]`: the element of the tangent collection, borrowed like the
    /// value's (and read again by the reverse sweep, not kept), gated by its flag if any.
    fn item(&mut self, out: &mut Block, y: &Operand, op: &OpCall, t: Operand) -> Tan {
        let element = self.rule(out, op.op, vec![t.clone()], op.consts.clone(), op.span);
        let (Operand::Var(e), Operand::Var(y)) = (&element, y) else {
            return Some(element);
        };
        self.vars[*e].binding_refs = self.vars[*y].binding_refs;
        if let (Some(read), Operand::Var(source)) = (self.vars[*y].reread, &t) {
            let handle = self.handle_of(out, *e);
            self.vars[*e].reread = Some(Reread {
                handle: handle.unwrap_or(read.handle),
                source: *source,
            });
        }
        let gate = t.var().and_then(|v| self.gated.get(&v).cloned());
        Some(match gate {
            Some(flag) => self.rule(out, &ops::TANGENT_IF, vec![element], vec![flag], op.span),
            None => element,
        })
    }

    /// The pullback handle of the operation that defines `var` in `out`.
    fn handle_of(&self, out: &Block, var: VarId) -> Option<VarId> {
        out.stmts.iter().rev().find_map(|s| match s {
            Stmt::Let {
                var: v,
                expr: Expr::Op(op),
                ..
            } if *v == var => Some(op.handle),
            _ => None,
        })
    }
}

// ----------------------------------------------------------------- closures, branches, loops

impl Tangents<'_> {
    /// The tangent of `y = m.map(|v| body)`: for the element and each captured value with a
    /// tangent, the closure's partial derivative with respect to it, mapped over `m` the same
    /// way (forward mode inside the closure, seeded with 1), times that tangent.
    fn map(&mut self, out: &mut Block, map: &MapCall) -> Tan {
        let mut terms = Vec::new();
        if let Some(t_recv) = self.tan(&map.recv) {
            let d = self.partial(out, map, map.param)?;
            terms.push(Some(self.bin(out, &ops::EMUL, t_recv, d, map.span)));
        }
        for &c in &map.captures {
            let Some(t_c) = self.tan(&Operand::Var(c)) else {
                continue;
            };
            let d = self.partial(out, map, c)?;
            terms.push(Some(self.bin(out, &ops::MUL, d, t_c, map.span)));
        }
        self.sum(out, terms, map.span)
    }

    /// `m.map(|v| ∂body/∂input)`.
    fn partial(&mut self, out: &mut Block, map: &MapCall, input: VarId) -> Option<Operand> {
        let outer = std::mem::take(&mut self.tangent);
        let mut seed_block = Block::default();
        let seed = self.count(&mut seed_block, &Operand::Var(input), 1, map.span);
        self.tangent.insert(input, seed);
        let mut body = self.block(map.body.clone());
        let mut stmts = seed_block.stmts;
        stmts.append(&mut body.stmts);
        let mut body = Block { stmts };
        let result = match self.tan(&map.result) {
            Some(t) => t,
            None => self.zeros_like(&mut body, &map.result, map.span),
        };
        self.tangent = outer;
        let var = self.local("slope", map.span);
        let handle_name = crate::names::handle(&self.vars[var].name, "op", self.names.short());
        let handle = self.record_var(handle_name);
        // The partial derivative varies when the closure's does (not when it is constant).
        self.vars[var].varied = result.var().is_some_and(|v| self.vars[v].varied);
        out.stmts.push(Stmt::Let {
            var,
            expr: Expr::Map(Box::new(MapCall {
                recv: map.recv.clone(),
                param: map.param,
                body,
                result,
                captures: map.captures.clone(),
                handle,
                span: map.span,
            })),
            span: map.span,
        });
        Some(Operand::Var(var))
    }

    /// A branch: each arm with its tangents, and a merged tangent for each merged value that
    /// has one in either arm (a zero of its shape in the other).
    fn branch(&mut self, mut i: If, out: &mut Block) {
        let before = self.tangent.clone();
        let then_block = self.block(std::mem::take(&mut i.then_block));
        let then_tangents = std::mem::replace(&mut self.tangent, before.clone());
        let else_block = self.block(std::mem::take(&mut i.else_block));
        let else_tangents = std::mem::replace(&mut self.tangent, before);
        let (mut then_block, mut else_block) = (then_block, else_block);
        let mut merged = Vec::new();
        let primal_merges = i.merges.clone();
        for m in &primal_merges {
            let t_then = m
                .then_value
                .var()
                .and_then(|v| then_tangents.get(&v).cloned());
            let t_else = m
                .else_value
                .var()
                .and_then(|v| else_tangents.get(&v).cloned());
            if t_then.is_none() && t_else.is_none() {
                continue;
            }
            let then_value = match t_then {
                Some(t) => t,
                None => self.zeros_like(&mut then_block, &m.then_value, i.span),
            };
            let else_value = match t_else {
                Some(t) => t,
                None => self.zeros_like(&mut else_block, &m.else_value, i.span),
            };
            let var = self.local("tan", i.span);
            // Varied when an arm's tangent is: in a closure's partial derivative, both may be
            // constants.
            let varied = |o: &Operand| o.var().is_some_and(|v| self.vars[v].varied);
            self.vars[var].varied = varied(&then_value) || varied(&else_value);
            merged.push((m.var, var));
            let merge = Merge {
                var,
                refs: 0,
                then_value,
                else_value,
            };
            i.merges.push(merge);
        }
        i.then_block = then_block;
        i.else_block = else_block;
        for (v, t) in merged {
            self.tangent.insert(v, Operand::Var(t));
        }
        out.stmts.push(Stmt::If(Box::new(i)));
    }

    /// A loop: each carried value whose first or next value has a tangent carries its
    /// tangent too (a zero of its shape where one of the two has none).
    fn iterations(&mut self, mut l: Loop, out: &mut Block) {
        let original = std::mem::take(&mut l.body);
        let mut with: Vec<bool> = l
            .carried
            .iter()
            .map(|c| self.tan(&c.init).is_some())
            .collect();
        let before = self.tangent.clone();
        let (body, phis) = loop {
            self.tangent = before.clone();
            let phis: Vec<Option<VarId>> = (l.carried.iter().zip(&with))
                .map(|(c, &w)| {
                    w.then(|| {
                        let t = self.local("tan", l.span);
                        self.tangent.insert(c.phi, Operand::Var(t));
                        t
                    })
                })
                .collect();
            let body = self.block(original.clone());
            let grown: Vec<bool> = (l.carried.iter().zip(&with))
                .map(|(c, &w)| w || self.tan(&c.next).is_some())
                .collect();
            if grown == with {
                break (body, phis);
            }
            with = grown;
        };
        let mut body = body;
        let mut carried = Vec::new();
        let mut outs = Vec::new();
        for (c, phi) in l.carried.iter().zip(&phis) {
            let Some(phi) = *phi else { continue };
            let init = match before_tan(&before, &c.init) {
                Some(t) => t,
                None => self.zeros_like(out, &c.init, l.span),
            };
            let next = match self.tan(&c.next) {
                Some(t) => t,
                None => self.zeros_like(&mut body, &c.next, l.span),
            };
            let t_out = self.local("tan", l.span);
            outs.push((c.out, t_out));
            carried.push(Carried {
                phi,
                init,
                next,
                out: t_out,
            });
        }
        self.tangent = before;
        l.carried.extend(carried);
        l.body = body;
        for (v, t) in outs {
            self.tangent.insert(v, Operand::Var(t));
        }
        out.stmts.push(Stmt::Loop(Box::new(l)));
    }
}

fn before_tan(tangents: &HashMap<VarId, Operand>, o: &Operand) -> Tan {
    o.var().and_then(|v| tangents.get(&v).cloned())
}

/// For a call of `m::f` (or `f`, `f::<T>`): the check that the callee has forward mode,
/// `forward_mode::<m::f>()` on its adapter type, and its hidden tangent function
/// `m::__ad_tangent_f` (with the call's generic arguments). For a method or an associated
/// function (`Self::f`, `Model::f`, `m::Model::f`: the segment before the name is a type),
/// the check `method_forward_mode(&Model::__ad_sweeps_f)` on its adapter's value, and the
/// hidden function `Model::__ad_tangent_f` of the same type. `None` when a segment before the
/// name has type arguments.
pub fn hidden_paths(path: &syn::Path) -> Option<(TokenStream, syn::Path)> {
    let last = path.segments.last()?;
    let before = path.segments.len() - 1;
    if path
        .segments
        .iter()
        .take(before)
        .any(|s| !s.arguments.is_none())
    {
        return None;
    }
    let mut hidden = path.clone();
    if let Some(segment) = hidden.segments.last_mut() {
        segment.ident = crate::names::tangent_fn(&last.ident);
    }
    let mut prefix = path.clone();
    prefix.segments.pop();
    let typed = prefix.segments.last().is_some_and(|s| {
        let name = s.ident.to_string();
        name == "Self" || name.starts_with(|c: char| c.is_ascii_uppercase())
    });
    let check = if typed {
        prefix.segments.pop_punct();
        let adapter = crate::names::adapter(&last.ident);
        quote!(__ad::method_forward_mode(&#prefix::#adapter))
    } else {
        let mut adapter = path.clone();
        if let Some(segment) = adapter.segments.last_mut() {
            segment.arguments = syn::PathArguments::None;
        }
        quote!(__ad::forward_mode::<#adapter>())
    };
    Some((check, hidden))
}

/// The arguments of the hidden tangent function for `call`: its own, then a tangent for each
/// (the argument itself where it has none), which ones are given (a tangent's flag where a
/// flag gates it), and the weight 0.
fn hidden_args(call: &Call, tangents: &[Tan], flags: &[Option<Verbatim>]) -> Vec<CallArg> {
    let mut args = call.args.clone();
    for (a, t) in call.args.iter().zip(tangents) {
        args.push(match t {
            Some(Operand::Var(t)) => CallArg {
                value: Some(*t),
                refs: a.refs,
                constant: None,
            },
            _ => a.clone(),
        });
    }
    let mut reads = Vec::new();
    let given = tangents.iter().zip(flags).map(|(t, flag)| match (t, flag) {
        (Some(_), Some(flag)) => {
            reads.extend(flag.reads.iter().copied());
            flag.tokens.clone()
        }
        (t, _) => {
            let given = t.is_some();
            quote!(#given)
        }
    });
    let given = quote!([#(#given),*]);
    let constant = |tokens: TokenStream, reads: Vec<VarId>| CallArg {
        value: None,
        refs: 0,
        constant: Some(Verbatim { tokens, reads }),
    };
    args.push(constant(given, reads));
    args.push(constant(quote!(__ad::zero()), Vec::new()));
    args
}
