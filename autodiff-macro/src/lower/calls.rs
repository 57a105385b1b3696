//! Lowering of calls: methods and free functions with derivative rules, their constant
//! arguments, and calls to other differentiated functions.

use super::*;

impl Lowerer<'_> {
    pub(super) fn method(&mut self, m: &syn::ExprMethodCall) -> Value {
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
        if ops::is_identity_method(&name) && m.args.is_empty() {
            // A copy of a value computed here (`m.row(i).into_owned()`): the same value, no
            // operation (a copy of a variable is an alias, see `alias`).
            let v = self.expr(&m.receiver);
            return Value { refs: 0, ..v };
        }
        if let Some(factor) = self.factor_receiver(&m.receiver) {
            return self.factor_method(m, factor);
        }
        if let Some(value) = self.method_chain(m) {
            return value;
        }
        if let Some((_, calls)) = factorization_at(m) {
            let a = calls[0].receiver.to_token_stream().to_string();
            return self.error(m, format!("name the Cholesky factorization to use it: `let c = {a}.cholesky().unwrap();`, then `c.l()` and `c.solve(&b)` (or write the chains `{a}.cholesky().unwrap().l()` and `{a}.cholesky().unwrap().solve(&b)`)"));
        }
        let Some(def) = ops::method(&name, m.args.len()) else {
            // `m.qr().r()`: the method without a rule is the innermost one.
            let m = innermost_without_rule(m);
            let name = syn::ext::IdentExt::unraw(&m.method).to_string();
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

    /// `v[i]` or `m[(i, j)]` on a differentiable value: the element, an operation whose
    /// constant is the index. The index must be a constant; a range of elements is written
    /// with a view method.
    pub(super) fn index(&mut self, ix: &syn::ExprIndex) -> Value {
        if let syn::Expr::Range(r) = strip_parens(&ix.index) {
            return self.error(r, "a range of elements (`v[a..b]`) is not supported: write `v.rows(a, n)` for the `n` elements of a column vector from `a`, `v.columns(a, n)` for a row vector, or `m.view((i, j), (r, c))` for a block of a matrix");
        }
        if rename::mentions_varied(&ix.index, &self.env, &self.vars) {
            return self.error(&ix.index, "the index must be a constant: it cannot depend on a differentiable value (constants are literals, loop variables, shapes such as `x.len()`, and parameters that are not differentiated); to choose an element by a comparison, branch on it: `if y > 0.0 { v[0] } else { v[1] }`");
        }
        let source = self.expr(&ix.expr);
        let index = self.const_arg(&ix.index);
        match source.operand.var() {
            Some(collection) if self.items.contains(&collection) => {
                let operands = vec![source.operand];
                let (value, handle) =
                    self.op_with_handle(&ops::ITEM, operands, vec![index], ix.span());
                // The element is borrowed, and borrowed again by the reverse sweep (outside
                // `map` closures, whose sweep keeps what it reads).
                if let (Some(v), false) = (value.operand.var(), self.in_closure()) {
                    self.vars[v].binding_refs = 1;
                    self.vars[v].reread = Some(Reread {
                        handle,
                        source: collection,
                    });
                }
                value
            }
            _ => self.op(&ops::ELEMENT, vec![source.operand], vec![index], ix.span()),
        }
    }

    /// A chain of methods with one derivative rule (`m.try_inverse().unwrap()`,
    /// `a.lu().solve(&b).expect("…")`, `a.cholesky().unwrap().l()`: [`ops::chain`]), lowered
    /// as that rule: the innermost receiver is operand 0, the other methods' arguments the
    /// next operands, `expect`'s message the constant. `None` when `m` ends no such chain.
    fn method_chain(&mut self, m: &syn::ExprMethodCall) -> Option<Value> {
        let (def, calls) = chain_at(m)?;
        let innermost = calls[0];
        let recv = self.expr(&innermost.receiver);
        let mut operands = vec![recv.operand];
        let mut consts = Vec::new();
        for call in &calls[1..] {
            let name = syn::ext::IdentExt::unraw(&call.method).to_string();
            let constant = ops::is_chain_constant(&name);
            for a in &call.args {
                if constant {
                    consts.push(self.const_arg(a));
                } else {
                    operands.push(self.expr(a).operand);
                }
            }
        }
        Some(self.op(def, operands, consts, innermost.method.span()))
    }

    /// `a.cholesky().unwrap()` (or `.expect(..)`) with a differentiable `a`, bound by a `let`:
    /// the factor `L` (the rule of `.l()`), and a name for the factorization that holds no
    /// value of its own (it is never read; [`Lowerer::factors`] maps it to `L` and `a`), so
    /// that `c` and `let l = c.l();` are told apart. `None` when `e` is not that chain, or is
    /// constant (then computed as written).
    pub(in crate::lower) fn factorization(&mut self, e: &syn::Expr) -> Option<Value> {
        let syn::Expr::MethodCall(m) = strip_parens(e) else {
            return None;
        };
        let (def, calls) = factorization_at(m)?;
        if !rename::mentions_varied(e, &self.env, &self.vars) {
            return None;
        }
        let a = self.expr(&calls[0].receiver);
        let consts = calls[1].args.iter().map(|a| self.const_arg(a)).collect();
        let value = self.op(def, vec![a.operand.clone()], consts, calls[0].method.span());
        let l = value.operand.var()?;
        let name = self.temp("factorization", m.span(), true);
        self.factors.insert(name, (l, a.operand));
        Some(Value::var(name, 0))
    }

    /// The named factorization `recv` is (`c` in `c.solve(&b)`), if it is one.
    fn factor_receiver(&self, recv: &syn::Expr) -> Option<VarId> {
        let ident = rename::plain_ident(strip_parens(recv))?;
        let b = self.env.lookup(&key(ident))?;
        self.factors.contains_key(&b.var).then_some(b.var)
    }

    /// `c.l()` (the factor `L`) or `c.solve(&b)` on a named factorization `c`; any other
    /// method is an error.
    fn factor_method(&mut self, m: &syn::ExprMethodCall, factor: VarId) -> Value {
        let name = syn::ext::IdentExt::unraw(&m.method).to_string();
        let Some((l, a)) = self.factors.get(&factor).cloned() else {
            return Value::error();
        };
        match (name.as_str(), m.args.len()) {
            ("l", 0) => Value::var(l, 0),
            ("solve", 1) => {
                let b = self.expr(&m.args[0]);
                let l = Verbatim {
                    tokens: rename::render(&self.vars[l], self.vars[l].binding_refs + 1),
                    reads: vec![l],
                };
                self.op(
                    &ops::CHOLESKY_FACTOR_SOLVE,
                    vec![a, b.operand],
                    vec![l],
                    m.method.span(),
                )
            }
            _ => {
                let c = rename::plain_ident(strip_parens(&m.receiver))
                    .map_or_else(|| self.vars[factor].name.to_string(), ToString::to_string);
                self.error(&m.method, format!("`.{name}(..)` of a named Cholesky factorization has no derivative rule: use `{c}.l()` (the factor `L`) or `{c}.solve(&b)` (`A⁻¹b`)"))
            }
        }
    }

    /// The user's expression, renamed, as a constant; an error where it reads a named
    /// factorization, whose binding holds the factor `L`, not nalgebra's `Cholesky`.
    pub(in crate::lower) fn verbatim(&mut self, e: &syn::Expr) -> Verbatim {
        let verbatim = rename::verbatim(e, &self.env, &self.vars);
        if let Some(&v) = verbatim.reads.iter().find(|v| self.factors.contains_key(v)) {
            let message = factor_use(&self.vars[v].name);
            self.errors.push(e, message);
        }
        verbatim
    }

    /// A constant argument of a rule (`alpha`, `labels`, `n`): kept as written when it is a
    /// literal or names a binding, computed once into a binding otherwise.
    pub(super) fn const_arg(&mut self, a: &syn::Expr) -> Verbatim {
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
            return self.verbatim(a);
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

    pub(super) fn call(&mut self, c: &syn::ExprCall) -> Value {
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
        if let Some(constructor) = matrix_constructor(path) {
            if constructor.ends_with("::from_element") {
                return self.filled(c, path);
            }
            // `DVector::zeros(n)` whose shape depends on a differentiable value, `DVector::from_vec(…)`.
            return self.error(c, format!("`{constructor}(..)` with a differentiable argument has no derivative rule: give it constant arguments (shapes such as `x.len()` are constants), then write the elements (`y[i] = e`), or fill it with `from_element(.., e)`"));
        }
        if let Some(rejected) = self.reject_call_path(c, path) {
            return rejected;
        }
        let Some(last) = path.segments.last() else {
            return self.error(&c.func, "empty path");
        };
        let callee = syn::ext::IdentExt::unraw(&last.ident).to_string();
        if let Some(def) = ops::function(&callee) {
            return self.function(def, c, &last.ident);
        }
        let args = self.call_args(c);
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

    /// The error for a call by a path that cannot name a differentiated function: type
    /// arguments before the name, `f(..)`-style arguments, a function of the standard library,
    /// the scalar's or nalgebra's, or a local variable called.
    fn reject_call_path(&mut self, c: &syn::ExprCall, path: &syn::Path) -> Option<Value> {
        let last_args = path.segments.last().map(|s| &s.arguments);
        let leading = path
            .segments
            .iter()
            .take(path.segments.len().saturating_sub(1));
        if let Some(seg) = leading.into_iter().find(|s| !s.arguments.is_none()) {
            return Some(self.error(&seg.arguments, "type arguments are supported on the function's name only (`m::g::<T>(x)`): remove these"));
        }
        if let Some(args @ syn::PathArguments::Parenthesized(_)) = last_args {
            return Some(self.error(args, "call a #[differentiate] function by its path, with its scalar in angle brackets if any (`g::<T>(x)`)"));
        }
        if let Some(first) = path.segments.first().filter(|_| path.segments.len() > 1) {
            // `f64::floor(x)`, `std::cmp::max(a, b)`: functions of the standard library have
            // no derivative rule and cannot be #[differentiate] functions; nor have the
            // scalar type parameter's (`T::exp(x)`) and nalgebra's traits' functions.
            const STD: &[&str] = &[
                "f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32",
                "u64", "u128", "usize", "std", "core", "alloc", "nalgebra",
            ];
            let scalar = self.scalar.as_ref().is_some_and(|t| first.ident == *t);
            let first_name = first.ident.to_string();
            if STD.contains(&first_name.as_str())
                || scalar
                || ["RealField", "ComplexField"].contains(&first_name.as_str())
            {
                let name = path.to_token_stream().to_string().replace(' ', "");
                return Some(self.error(&c.func, format!("`{name}` has no derivative rule: call a function with a rule (`relu`, `sigmoid`, `tanh`, …, or a method such as `x.exp()`), or a #[differentiate] function of your own")));
            }
        }
        if let Some(ident) = path.get_ident() {
            if self.env.lookup(&key(ident)).is_some() {
                return Some(self.error(&c.func, format!("`{ident}` is a local variable, not a function: a differentiable value can be passed only to a function with a derivative rule or a #[differentiate] function")));
            }
        }
        None
    }

    /// `P::from_element(.., e)` with a differentiable element `e`: `P::zeros(..)` (the same
    /// type and shape, a constant) filled with `e`. The shape must be constant.
    fn filled(&mut self, c: &syn::ExprCall, path: &syn::Path) -> Value {
        let Some(element) = c.args.last() else {
            return self.error(c, "`from_element` takes the element as its last argument");
        };
        let shape: Vec<&syn::Expr> = c.args.iter().take(c.args.len() - 1).collect();
        if let Some(a) = shape
            .iter()
            .find(|a| rename::mentions_varied(a, &self.env, &self.vars))
        {
            return self.error(
                a,
                "the shape must be a constant: it cannot depend on a differentiable value",
            );
        }
        let mut zeros = path.clone();
        if let Some(last) = zeros.segments.last_mut() {
            last.ident = syn::Ident::new("zeros", last.ident.span());
        }
        let template = match syn::parse2::<syn::Expr>(quote!(#zeros(#(#shape),*))) {
            Ok(e) => self.const_arg(&e),
            Err(e) => {
                self.errors.push_error(e);
                return Value::error();
            }
        };
        let value = self.expr(element);
        let name = path.segments.last().map_or(c.span(), |s| s.ident.span());
        self.op(&ops::FILL, vec![value.operand], vec![template], name)
    }

    /// The arguments of a call to a differentiated function: a differentiable value
    /// lowered, a constant as written (with how many references it is passed by).
    fn call_args(&mut self, c: &syn::ExprCall) -> Vec<CallArg> {
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
                    constant: Some(self.verbatim(a)),
                });
            }
        }
        args
    }

    pub(super) fn function(
        &mut self,
        def: &'static OpDef,
        c: &syn::ExprCall,
        name: &syn::Ident,
    ) -> Value {
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
}

/// `DVector::zeros`, `SMatrix::<f64, 2, 2>::new`, …: a function of a nalgebra matrix type, as
/// written (without type arguments), if `path` names one.
fn matrix_constructor(path: &syn::Path) -> Option<String> {
    let n = path.segments.len();
    let ty = path.segments.iter().nth(n.checked_sub(2)?)?;
    let name = ty.ident.to_string();
    crate::signature::MATRIX_TYPES
        .contains(&name.as_str())
        .then(|| format!("{name}::{}", path.segments[n - 1].ident))
}

/// The innermost method of a chain `m.a().b().c()` whose receiver is a method call without a
/// derivative rule, so that an error names the method that needs one (`qr`), not a method
/// applied to its result (`r`).
fn innermost_without_rule(m: &syn::ExprMethodCall) -> &syn::ExprMethodCall {
    let mut at = m;
    while let syn::Expr::MethodCall(inner) = strip_parens(&at.receiver) {
        let name = syn::ext::IdentExt::unraw(&inner.method).to_string();
        let handled = ops::method(&name, inner.args.len()).is_some()
            || chain_at(inner).is_some()
            || name == "map"
            || ops::is_identity_method(&name)
            || ops::is_shape_query(&name);
        if handled {
            break;
        }
        at = inner;
    }
    at
}

/// The rule of the chain of methods that `m` ends, with the chain's calls from the innermost
/// out (`[lu(), solve(&b), unwrap()]`), or `None` when `m` ends no chain of [`ops::chain`].
fn chain_at(m: &syn::ExprMethodCall) -> Option<(&'static OpDef, Vec<&syn::ExprMethodCall>)> {
    let mut calls = vec![m];
    while calls.len() < ops::LONGEST_CHAIN {
        match strip_parens(&calls[calls.len() - 1].receiver) {
            syn::Expr::MethodCall(inner) => calls.push(inner),
            _ => break,
        }
    }
    calls.reverse();
    // The longest chain first: `x.f().try_inverse().unwrap()` is `try_inverse` of `x.f()`.
    (0..calls.len()).find_map(|skip| {
        let chain = &calls[skip..];
        let names: Vec<(String, usize)> = chain
            .iter()
            .map(|c| {
                (
                    syn::ext::IdentExt::unraw(&c.method).to_string(),
                    c.args.len(),
                )
            })
            .collect();
        let names: Vec<(&str, usize)> = names.iter().map(|(n, a)| (n.as_str(), *a)).collect();
        ops::chain(&names).map(|def| (def, chain.to_vec()))
    })
}

/// The factorization `m` is, `a.cholesky().unwrap()` or `.expect(..)` ([`ops::factorization`]),
/// with its two calls from the innermost out.
fn factorization_at(
    m: &syn::ExprMethodCall,
) -> Option<(&'static OpDef, [&syn::ExprMethodCall; 2])> {
    let syn::Expr::MethodCall(inner) = strip_parens(&m.receiver) else {
        return None;
    };
    let name = |c: &syn::ExprMethodCall| syn::ext::IdentExt::unraw(&c.method).to_string();
    let (a, b) = (name(inner), name(m));
    let def = ops::factorization(&[(&a, inner.args.len()), (&b, m.args.len())])?;
    Some((def, [inner, m]))
}
