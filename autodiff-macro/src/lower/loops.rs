//! Lowering of loops (`for`, `while`, `loop`): the variables the body assigns become
//! carried values, and `break`/`continue` become flags under which the rest of the body is
//! lowered, so that every iteration runs its body to the end.

use super::*;
use proc_macro2::TokenStream;
use syn::visit::Visit;

/// The environment keys of a loop's exit flags: not identifiers, so no user variable has them.
const BREAK: &str = "break#";
const CONTINUE: &str = "continue#";

/// The name of the bindings of an exit flag's environment key, if `key` is one.
pub fn flag_name(key: &str) -> Option<&'static str> {
    match key {
        BREAK => Some("break"),
        CONTINUE => Some("continue"),
        _ => None,
    }
}

/// The head of a loop as written.
enum Head<'a> {
    For(&'a syn::Pat, &'a syn::Expr),
    While(&'a syn::Expr),
    Loop,
}

/// A loop's head, its bindings, its body and the `break` flag at the body's end, lowered.
type LoweredLoop = (LoopHead, Vec<VarId>, Block, Option<VarId>);

/// A variable of the enclosing code the body assigns.
struct CarriedName {
    key: String,
    ident: syn::Ident,
    /// The scope that declares it.
    depth: usize,
    init: Binding,
    /// Whether its value may depend on a differentiable parameter in some iteration.
    varied: bool,
}

/// What an element of the iterator is, for binding the loop's pattern: a value
/// `refs` references deep, or a tuple (`enumerate`, `zip`).
enum Element {
    Value(i32),
    Tuple(Vec<Element>),
}

impl Lowerer<'_> {
    pub(super) fn for_loop(&mut self, f: &syn::ExprForLoop) {
        if let Some(label) = &f.label {
            return self.errors.push(label, LABEL);
        }
        if let Some((tokens, message)) = forbidden(&f.expr) {
            return self.errors.push(tokens, message);
        }
        if rename::mentions_varied(&f.expr, &self.env, &self.vars) {
            return self.errors.push(&f.expr, "a loop over the elements of a differentiable value is not supported here: the loop's iterator must be constant (a range such as `0..n`, or a constant collection), or a differentiable slice or `Vec` alone (`ws.iter()`, `&ws`, `ws.iter().enumerate()`); loop over positions (`for i in 0..w.len()`, reading `w[i]`), or use whole-matrix operations on the value (`w.sum()`, `w.norm_squared()`, `w.map(|v| …)`)");
        }
        self.lower_loop(Head::For(&f.pat, &f.expr), &f.body, f.span());
    }

    pub(super) fn while_loop(&mut self, w: &syn::ExprWhile) {
        if let Some(label) = &w.label {
            return self.errors.push(label, LABEL);
        }
        if let syn::Expr::Let(l) = &*w.cond {
            return self.errors.push(l, "`while let` is not supported: write `loop { … }` with `if … { break; }`, comparing values");
        }
        if let Some((tokens, message)) = forbidden(&w.cond) {
            return self.errors.push(tokens, message);
        }
        self.lower_loop(Head::While(&w.cond), &w.body, w.span());
    }

    pub(super) fn plain_loop(&mut self, l: &syn::ExprLoop) {
        if let Some(label) = &l.label {
            return self.errors.push(label, LABEL);
        }
        self.lower_loop(Head::Loop, &l.body, l.span());
    }

    /// `break;` or `continue;`: sets the innermost loop's flag.
    pub(super) fn exit(&mut self, e: &syn::Expr) {
        let (key, label, value) = match e {
            syn::Expr::Break(b) => (BREAK, &b.label, b.expr.is_some()),
            syn::Expr::Continue(c) => (CONTINUE, &c.label, false),
            _ => return,
        };
        if label.is_some() {
            return self.errors.push(e, LABEL);
        }
        if value {
            return self.errors.push(e, "`break` with a value is not supported: assign a variable declared before the loop (`result = …; break;`) and read it after the loop");
        }
        let Some(&scope) = self.loops.last() else {
            return self
                .errors
                .push(e, "`break` and `continue` belong in a loop");
        };
        let name = self.names.temp(flag_name(key).unwrap_or("exit"), e.span());
        let var = self.constant_var(name, quote!(true), e.span());
        self.env.scopes[scope].insert(key.to_string(), Binding { var, refs: 0 });
    }

    /// Whether the innermost loop has an exit flag of this kind set somewhere in `stmt`.
    pub(super) fn exits_in(&self, stmt: &syn::Stmt) -> bool {
        !self.loops.is_empty() && Exits::of_stmt(stmt).any()
    }

    /// The statements after one that may `break` or `continue`: lowered under
    /// `if !(break || continue) { … }`, so that they run only when it did neither.
    pub(super) fn rest_unless_exited(&mut self, rest: &[&syn::Stmt], span: Span) {
        let flags: Vec<VarId> = [BREAK, CONTINUE]
            .iter()
            .filter_map(|key| self.env.lookup(key).map(|b| b.var))
            .collect();
        let names = flags.iter().map(|&v| &self.vars[v].name);
        let cond = Verbatim {
            tokens: quote!(!(#(#names)||*)),
            reads: flags.clone(),
        };
        let outer = self.env.clone();
        let (then_block, _, then_env) = self.branch(|this| {
            this.stmts(rest);
            None
        });
        self.env = outer.clone();
        let mut merges = Vec::new();
        let at = quote::quote_spanned!(span=> if);
        self.merge_assigned(&outer, &then_env, &outer, &at, span, &mut merges);
        self.push_if(cond, then_block, Block::default(), merges, span, span);
    }

    fn lower_loop(&mut self, head: Head, body: &syn::Block, span: Span) {
        let (carried, lowered) = self.lower_until_stable(&head, body, span);
        let Some(((head, bindings, block, exit), phis)) = lowered else {
            return;
        };
        let mut out_carried = Vec::new();
        for (c, phi) in carried.iter().zip(phis) {
            // Lowering until stable kept only the variables the body assigned.
            let Some(next) = self.env.scopes[c.depth].get(&c.key).copied() else {
                continue;
            };
            if c.init.refs != 0 || next.refs != 0 {
                self.errors.push_error(syn::Error::new(c.ident.span(), format!("`{}` is assigned in the loop but holds a reference: a value carried from one iteration to the next must be owned (`let mut {} = x.clone();`)", c.key, c.key)));
            }
            let name = self.names.version(&c.ident, false);
            let out = self.new_var(name, 0, self.vars[phi].varied, VarKind::Local);
            self.env.scopes[c.depth].insert(c.key.clone(), Binding { var: out, refs: 0 });
            out_carried.push(Carried {
                phi,
                init: Operand::Var(c.init.var),
                next: Operand::Var(next.var),
                out,
            });
        }
        let name = self.names.temp("loop", span);
        let record = self.new_var(name, 0, false, VarKind::Record);
        self.push(Stmt::Loop(Box::new(Loop {
            head,
            bindings,
            carried: out_carried,
            body: block,
            exit,
            record,
            span,
        })));
    }

    /// Lowers the loop again until the carried values are known: a value is carried when
    /// the body assigns it, and varied when its first value or the body's value is. Returns
    /// them with the lowered loop and the value of each as an iteration starts.
    #[allow(clippy::type_complexity)]
    fn lower_until_stable(
        &mut self,
        head: &Head,
        body: &syn::Block,
        span: Span,
    ) -> (Vec<CarriedName>, Option<(LoweredLoop, Vec<VarId>)>) {
        let mut carried = self.carried_names(body);
        let exits = Exits::of_block(body);
        let (vars, names, errors, env) = (
            self.vars.len(),
            self.names.clone(),
            self.errors.len(),
            self.env.clone(),
        );
        let lowered = loop {
            let phis: Vec<VarId> = carried.iter().map(|c| self.carried_phi(c)).collect();
            let lowered = self.loop_body(head, body, &exits, span);
            let mut again = false;
            let mut kept = Vec::new();
            for (c, &phi) in carried.drain(..).zip(&phis) {
                let next = self.env.scopes[c.depth].get(&c.key).copied();
                match next {
                    Some(next) if next.var != phi => {
                        if self.vars[next.var].varied && !self.vars[phi].varied {
                            again = true;
                            kept.push(CarriedName { varied: true, ..c });
                        } else {
                            kept.push(c);
                        }
                    }
                    _ => again = true,
                }
            }
            carried = kept;
            if !again {
                break lowered.map(|l| (l, phis));
            }
            self.vars.truncate(vars);
            self.names = names.clone();
            self.errors.truncate(errors);
            self.env = env.clone();
        };
        (carried, lowered)
    }

    /// The variables of the enclosing code the body assigns (`x = …`, `x += …`), in the
    /// order they are first assigned.
    fn carried_names(&self, body: &syn::Block) -> Vec<CarriedName> {
        let mut assigned = Assigned::default();
        assigned.visit_block(body);
        let mut out: Vec<CarriedName> = Vec::new();
        for ident in assigned.idents {
            let key = key(&ident);
            if out.iter().any(|c| c.key == key) {
                continue;
            }
            let Some(depth) = self.env.scopes.iter().rposition(|s| s.contains_key(&key)) else {
                continue;
            };
            let init = self.env.scopes[depth][&key];
            out.push(CarriedName {
                varied: self.vars[init.var].varied,
                key,
                ident,
                depth,
                init,
            });
        }
        out
    }

    /// The value of a carried variable when an iteration starts, bound in its scope.
    fn carried_phi(&mut self, c: &CarriedName) -> VarId {
        let name = self.names.version(&c.ident, false);
        let phi = self.new_var(name, 0, c.varied, VarKind::Local);
        let binding = Binding {
            var: phi,
            refs: c.init.refs,
        };
        self.env.scopes[c.depth].insert(c.key.clone(), binding);
        phi
    }

    /// Lowers the head and the body once, in a scope of their own.
    fn loop_body(
        &mut self,
        head: &Head,
        body: &syn::Block,
        exits: &Exits,
        span: Span,
    ) -> Option<LoweredLoop> {
        self.env.scopes.push(HashMap::new());
        self.blocks.push(Vec::new());
        let mut bindings = Vec::new();
        let lowered_head = match head {
            Head::For(pat, iter) => {
                let verbatim = rename::verbatim(iter, &self.env, &self.vars);
                match self.bind_pattern(pat, &element(iter), &mut bindings) {
                    Ok(pattern) => Some(LoopHead::For {
                        pattern,
                        iter: verbatim,
                    }),
                    Err(e) => {
                        self.errors.push_error(e);
                        None
                    }
                }
            }
            Head::While(cond) => Some(LoopHead::While(rename::verbatim(
                cond, &self.env, &self.vars,
            ))),
            Head::Loop => Some(LoopHead::Loop),
        };
        let scope = self.env.scopes.len() - 1;
        for (key, present) in [(BREAK, exits.breaks), (CONTINUE, exits.continues)] {
            if present {
                let name = self.names.temp(flag_name(key).unwrap_or("exit"), span);
                let var = self.constant_var(name, quote!(false), span);
                self.env.scopes[scope].insert(key.to_string(), Binding { var, refs: 0 });
            }
        }
        self.loops.push(scope);
        let outer_return = std::mem::replace(&mut self.return_depth, usize::MAX);
        let _ = self.block_value(&body.stmts, body.span());
        self.return_depth = outer_return;
        self.loops.pop();
        let exit = self.env.scopes[scope].get(BREAK).map(|b| b.var);
        self.env.scopes.pop();
        let block = Block {
            stmts: self.blocks.pop().unwrap_or_default(),
        };
        if matches!(head, Head::Loop) && !exits.breaks {
            self.errors.push_error(syn::Error::new(
                span,
                "this `loop` never ends: end it with `if … { break; }`, comparing values",
            ));
        }
        Some((lowered_head?, bindings, block, exit))
    }

    /// Binds the names of a `for` loop's pattern to constant values of the iteration, and
    /// returns the pattern with the bindings' names.
    fn bind_pattern(
        &mut self,
        pat: &syn::Pat,
        element: &Element,
        bindings: &mut Vec<VarId>,
    ) -> syn::Result<TokenStream> {
        match (pat, element) {
            (syn::Pat::Ident(p), Element::Value(refs))
                if p.by_ref.is_none() && p.subpat.is_none() && p.mutability.is_none() =>
            {
                let name = self.names.version(&p.ident, true);
                let var = self.new_var(name.clone(), *refs, false, VarKind::Local);
                self.bind(&p.ident, Binding { var, refs: *refs });
                bindings.push(var);
                Ok(quote!(#name))
            }
            (syn::Pat::Wild(w), _) => Ok(w.to_token_stream()),
            (syn::Pat::Paren(p), _) => self.bind_pattern(&p.pat, element, bindings),
            (syn::Pat::Reference(r), Element::Value(refs)) if *refs > 0 && r.mutability.is_none() => {
                let inner = self.bind_pattern(&r.pat, &Element::Value(refs - 1), bindings)?;
                Ok(quote!(&#inner))
            }
            (syn::Pat::Tuple(t), Element::Tuple(parts)) if t.elems.len() == parts.len() => {
                let parts = t
                    .elems
                    .iter()
                    .zip(parts)
                    .map(|(p, e)| self.bind_pattern(p, e, bindings))
                    .collect::<syn::Result<Vec<_>>>()?;
                Ok(quote!((#(#parts,)*)))
            }
            // A tuple behind a reference: each part is borrowed.
            (syn::Pat::Tuple(t), Element::Value(refs)) if *refs > 0 => {
                let parts = t
                    .elems
                    .iter()
                    .map(|p| self.bind_pattern(p, &Element::Value(*refs), bindings))
                    .collect::<syn::Result<Vec<_>>>()?;
                Ok(quote!((#(#parts,)*)))
            }
            _ => Err(syn::Error::new_spanned(pat, "bind each element of the loop to a name (`for x in c.iter()`), or to a pair (`for (i, x) in c.iter().enumerate()`)")),
        }
    }

    /// A constant binding of the body: `let name = tokens;`.
    fn constant_var(&mut self, name: syn::Ident, tokens: TokenStream, span: Span) -> VarId {
        let var = self.new_var(name, 0, false, VarKind::Local);
        self.push(Stmt::Let {
            var,
            expr: Expr::Const(Verbatim {
                tokens,
                reads: Vec::new(),
            }),
            span,
        });
        var
    }
}

const LABEL: &str = "labelled loops and labelled `break`/`continue` are not supported: use a flag variable declared before the loops and `break` out of each";

/// What an element of `iter` is: `&T` from `c.iter()` and `&c`, a pair from `.enumerate()`
/// and `.zip(…)`, a value from a range and anything else.
fn element(iter: &syn::Expr) -> Element {
    match strip_parens(iter) {
        syn::Expr::Reference(_) => Element::Value(1),
        syn::Expr::MethodCall(m) => match m.method.to_string().as_str() {
            "iter" => Element::Value(1),
            "enumerate" => Element::Tuple(vec![Element::Value(0), element(&m.receiver)]),
            "zip" => {
                let other = m.args.first().map_or(Element::Value(0), element);
                Element::Tuple(vec![element(&m.receiver), other])
            }
            "copied" | "cloned" => Element::Value(0),
            "rev" | "step_by" | "skip" | "take" | "into_iter" | "chain" => element(&m.receiver),
            _ => Element::Value(0),
        },
        _ => Element::Value(0),
    }
}

/// The identifiers a block assigns (`x = …`, `x += …`), outside closures.
#[derive(Default)]
struct Assigned {
    idents: Vec<syn::Ident>,
}

impl<'ast> Visit<'ast> for Assigned {
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        if let Some(ident) = super::writes::written_name(&a.left) {
            self.idents.push(ident.clone());
        }
        syn::visit::visit_expr_assign(self, a);
    }
    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        if compound(&b.op).is_some() {
            if let Some(ident) = super::writes::written_name(&b.left) {
                self.idents.push(ident.clone());
            }
        }
        syn::visit::visit_expr_binary(self, b);
    }
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if super::writes::part_write(m).is_some() {
            if let Some(ident) = rename::plain_ident(&m.receiver) {
                self.idents.push(ident.clone());
            }
        }
        syn::visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
}

/// Whether a body has `break`s or `continue`s of its own loop (not of loops inside it).
#[derive(Default)]
struct Exits {
    breaks: bool,
    continues: bool,
}

impl Exits {
    fn of_block(b: &syn::Block) -> Self {
        let mut this = Exits::default();
        for stmt in &b.stmts {
            this.visit_stmt(stmt);
        }
        this
    }
    fn of_stmt(s: &syn::Stmt) -> Self {
        let mut this = Exits::default();
        this.visit_stmt(s);
        this
    }
    fn any(&self) -> bool {
        self.breaks || self.continues
    }
}

impl<'ast> Visit<'ast> for Exits {
    fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
        self.breaks = true;
        syn::visit::visit_expr_break(self, b);
    }
    fn visit_expr_continue(&mut self, _: &'ast syn::ExprContinue) {
        self.continues = true;
    }
    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_expr(&f.expr);
    }
    fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
        self.visit_expr(&w.cond);
    }
    fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
}
