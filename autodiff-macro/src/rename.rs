//! The user's own code inside the body (constants, conditions), kept as written but with
//! each local variable renamed to the binding that holds its current value.

use crate::ir::{Var, VarId, Verbatim};
use crate::ops;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use std::collections::HashMap;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

/// A name in scope: the value it holds and how many references the user's expression has.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Binding {
    pub var: VarId,
    pub refs: i32,
}

/// The variables in scope, innermost scope last.
#[derive(Clone, Default)]
pub struct Env {
    pub scopes: Vec<HashMap<String, Binding>>,
}

impl Env {
    pub fn lookup(&self, name: &str) -> Option<Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }
}

/// Renders `binding` as the user's expression with `refs` references: `&h`, `(*x)`, `h`.
pub fn render(var: &Var, refs: i32) -> TokenStream {
    let name = &var.name;
    let diff = refs - var.binding_refs;
    match diff {
        0 => quote!(#name),
        1 => quote!(&#name),
        d if d > 0 => {
            let amps = (0..d).map(|_| quote!(&));
            quote!((#(#amps)* #name))
        }
        d => {
            let stars = (0..-d).map(|_| quote!(*));
            quote!((#(#stars)* #name))
        }
    }
}

/// The single identifier of a plain path expression (`x`), if that is what `e` is.
pub fn plain_ident(e: &syn::Expr) -> Option<&syn::Ident> {
    match e {
        syn::Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => p.path.get_ident(),
        _ => None,
    }
}

/// Whether `e` reads a value that depends on a differentiable parameter, other than through
/// a shape query (`x.nrows()`).
pub fn mentions_varied(e: &syn::Expr, env: &Env, vars: &[Var]) -> bool {
    let mut finder = Finder {
        env,
        vars,
        shadowed: Vec::new(),
        found: false,
    };
    finder.visit_expr(e);
    finder.found
}

struct Finder<'a> {
    env: &'a Env,
    vars: &'a [Var],
    shadowed: Vec<String>,
    found: bool,
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(ident) = p.path.get_ident() {
            let name = syn::ext::IdentExt::unraw(ident).to_string();
            if !self.shadowed.contains(&name) {
                if let Some(b) = self.env.lookup(&name) {
                    self.found |= self.vars[b.var].varied;
                }
            }
        }
    }
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if !(ops::is_shape_query(&m.method.to_string()) && m.args.is_empty()) {
            self.visit_expr(&m.receiver);
        }
        for a in &m.args {
            self.visit_expr(a);
        }
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        let before = self.shadowed.len();
        for input in &c.inputs {
            pattern_names(input, &mut self.shadowed);
        }
        self.visit_expr(&c.body);
        self.shadowed.truncate(before);
    }
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let before = self.shadowed.len();
        for stmt in &b.stmts {
            self.visit_stmt(stmt);
            if let syn::Stmt::Local(local) = stmt {
                pattern_names(&local.pat, &mut self.shadowed);
            }
        }
        self.shadowed.truncate(before);
    }
}

/// Every identifier a pattern binds.
pub fn pattern_names(pat: &syn::Pat, out: &mut Vec<String>) {
    struct Names<'a>(&'a mut Vec<String>);
    impl<'ast> Visit<'ast> for Names<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(syn::ext::IdentExt::unraw(&p.ident).to_string());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    Names(out).visit_pat(pat);
}

/// The user's expression with locals renamed to their current bindings.
pub fn verbatim(e: &syn::Expr, env: &Env, vars: &[Var]) -> Verbatim {
    let mut e = e.clone();
    let mut renamer = Renamer {
        env,
        vars,
        shadowed: Vec::new(),
        reads: Vec::new(),
    };
    renamer.visit_expr_mut(&mut e);
    Verbatim {
        tokens: e.to_token_stream(),
        reads: renamer.reads,
    }
}

struct Renamer<'a> {
    env: &'a Env,
    vars: &'a [Var],
    shadowed: Vec<String>,
    reads: Vec<VarId>,
}

impl Renamer<'_> {
    fn replacement(&mut self, e: &syn::Expr) -> Option<syn::Expr> {
        let ident = plain_ident(e)?;
        let name = syn::ext::IdentExt::unraw(ident).to_string();
        if self.shadowed.contains(&name) {
            return None;
        }
        let b = self.env.lookup(&name)?;
        self.reads.push(b.var);
        let var = &self.vars[b.var];
        let mut tokens = render(var, b.refs);
        tokens = respan(tokens, ident.span());
        syn::parse2(tokens).ok()
    }
}

/// `tokens` with every span set to `span`, so that errors in them point at the user's code.
pub fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                t = proc_macro2::TokenTree::Group(group);
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
}

/// A span located at `span` in the user's code that resolves names where the attribute was
/// called, as the generated names of `quote!` do: the generated items are reported at the
/// function's name, but the names they share with the sweeps (`__ad_seed`, `tape`) must
/// resolve alike even when a `macro_rules!` macro wrote the attribute and its caller wrote
/// the function.
pub fn at(span: proc_macro2::Span) -> proc_macro2::Span {
    proc_macro2::Span::call_site().located_at(span)
}

impl VisitMut for Renamer<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if let Some(new) = self.replacement(e) {
            *e = new;
            return;
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
    fn visit_field_value_mut(&mut self, f: &mut syn::FieldValue) {
        if f.colon_token.is_none() {
            if let Some(new) = self.replacement(&f.expr) {
                f.colon_token = Some(Default::default());
                f.expr = new;
                return;
            }
        }
        syn::visit_mut::visit_field_value_mut(self, f);
    }
    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        let before = self.shadowed.len();
        for input in &c.inputs {
            pattern_names(input, &mut self.shadowed);
        }
        self.visit_expr_mut(&mut c.body);
        self.shadowed.truncate(before);
    }
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let before = self.shadowed.len();
        for stmt in &mut b.stmts {
            self.visit_stmt_mut(stmt);
            if let syn::Stmt::Local(local) = stmt {
                pattern_names(&local.pat, &mut self.shadowed);
            }
        }
        self.shadowed.truncate(before);
    }
}

/// Every identifier mentioned anywhere in `tokens`: generated names avoid them all.
pub fn mentioned_idents(tokens: TokenStream, out: &mut std::collections::HashSet<String>) {
    for t in tokens {
        match t {
            proc_macro2::TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            proc_macro2::TokenTree::Group(g) => mentioned_idents(g.stream(), out),
            _ => {}
        }
    }
}
