//! Lowering of `map` closures and of branches: each branch lowered on its own, then the
//! variables it assigns merged.

use super::*;

impl Lowerer<'_> {
    pub(super) fn map(&mut self, m: &syn::ExprMethodCall) -> Value {
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
        let (param, body, result) = self.closure_body(&param_ident, closure, recv_varied);
        if result.refs != 0 {
            self.errors.push(
                &closure.body,
                "the closure of `map` must return a scalar value",
            );
        }
        let captures = captures(&body, &result.operand, first_inner);
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

    /// The closure of `map` lowered in a scope of its own, its parameter bound to the element.
    fn closure_body(
        &mut self,
        param_ident: &syn::Ident,
        closure: &syn::ExprClosure,
        recv_varied: bool,
    ) -> (VarId, Block, Value) {
        self.env.scopes.push(HashMap::new());
        let pname = self.names.version(param_ident, true);
        let param = self.new_var(pname, 0, recv_varied, VarKind::Local);
        self.bind(
            param_ident,
            Binding {
                var: param,
                refs: 0,
            },
        );
        self.blocks.push(Vec::new());
        let outer_return = std::mem::replace(&mut self.return_depth, self.depth + 1);
        // The closure's body is not the loop's: `return` there returns from the closure.
        let outer_loops = std::mem::take(&mut self.loops);
        self.closures += 1;
        let result = self.expr(&closure.body);
        self.closures -= 1;
        self.loops = outer_loops;
        self.return_depth = outer_return;
        let body = Block {
            stmts: self.blocks.pop().unwrap_or_default(),
        };
        self.env.scopes.pop();
        (param, body, result)
    }

    // ---------------------------------------------------------------------------- branches

    /// `if c { … } else { … }`: lowers both branches and merges the variables they assign
    /// (and the value, when the `if` is an expression).
    pub(super) fn if_expr(&mut self, i: &syn::ExprIf, want_value: bool) -> Option<Value> {
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
        let cond = self.verbatim(&i.cond);
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
        let value = match want_value {
            true => self.merge_value(i, then_value, else_value, &mut merges),
            false => None,
        };
        self.merge_assigned(
            &outer,
            &then_env,
            &else_env,
            i,
            i.if_token.span,
            &mut merges,
        );
        self.push_if(
            cond,
            then_block,
            else_block,
            merges,
            i.if_token.span,
            i.span(),
        );
        value
    }

    /// The value of an `if` used as a value: the merge of its branches' values.
    fn merge_value(
        &mut self,
        i: &syn::ExprIf,
        then_value: Option<Value>,
        else_value: Option<Value>,
        merges: &mut Vec<Merge>,
    ) -> Option<Value> {
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
                Some(Value::var(var, t.refs))
            }
            (None, None) if i.else_branch.is_some() => None,
            _ => {
                self.errors.push(i, "an `if` used as a value needs an `else` branch, and both branches need a value");
                Some(Value::error())
            }
        }
    }

    /// Merges the variables of `outer` that either branch assigned: after the branch, each
    /// holds the value of the branch that ran.
    pub(super) fn merge_assigned(
        &mut self,
        outer: &Env,
        then_env: &Env,
        else_env: &Env,
        at: &dyn ToTokens,
        span: Span,
        merges: &mut Vec<Merge>,
    ) {
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
                    self.errors.push(at, format!("`{name}` is assigned values of different kinds in the two branches (owned and borrowed)"));
                }
                let varied = self.vars[t.var].varied || self.vars[e.var].varied;
                // A loop's exit flags are not the user's variables: they get a generated name.
                let merged = match super::loops::flag_name(name) {
                    Some(what) => self.names.temp(what, span),
                    None => self.names.version(&syn::Ident::new(name, span), false),
                };
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
    }

    /// Pushes the branch, with the record of which arm ran.
    pub(super) fn push_if(
        &mut self,
        cond: Verbatim,
        then_block: Block,
        else_block: Block,
        merges: Vec<Merge>,
        name_span: Span,
        span: Span,
    ) {
        let name = self.names.temp("if", name_span);
        let record = self.new_var(name, 0, false, VarKind::Record);
        self.push(Stmt::If(Box::new(If {
            cond,
            then_block,
            else_block,
            merges,
            record,
            span,
        })));
    }

    pub(super) fn branch(
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

    pub(super) fn varied(&self, o: &Operand) -> bool {
        o.var().is_some_and(|v| self.vars[v].varied)
    }
}

/// The values of the enclosing function a closure's body reads: those defined before the
/// closure's first value.
fn captures(body: &Block, result: &Operand, first_inner: VarId) -> Vec<VarId> {
    let mut captures = Vec::new();
    let mut capture = |v: VarId| {
        if v < first_inner && !captures.contains(&v) {
            captures.push(v);
        }
    };
    crate::walk::block_reads(body, &mut capture);
    result.var().into_iter().for_each(&mut capture);
    captures
}
