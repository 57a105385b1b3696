//! `NAME_graph`'s additions to the sweeps: the node each value of the body becomes, added by
//! the forward sweep right after computing the value, and its gradient, given by the reverse
//! sweep once complete (before the last pullback, which takes it).

use crate::ir::*;
use crate::signature::Signature;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::HashMap;

/// Labels longer than this are cut, so that a node stays a node.
const LONGEST_LABEL: usize = 32;

pub struct Hooks {
    /// `::autodiff::__private`.
    private: TokenStream,
    /// The binding of each drawn value's node index.
    nodes: HashMap<VarId, syn::Ident>,
    /// The statements that add the parameters' nodes, in order.
    inputs: Vec<TokenStream>,
    /// Each differentiable parameter drawn, with its node's position among the inputs.
    pub gradients: Vec<(syn::Ident, usize)>,
}

impl Hooks {
    /// The parameters that are values, then every value the body's top level computes by
    /// an operation, a call or a `map` (nested blocks are not drawn).
    pub fn of(body: &Body, sig: &Signature, param_vars: &[VarId], krate: &TokenStream) -> Self {
        let mut hooks = Hooks {
            private: quote!(#krate::__private),
            nodes: HashMap::new(),
            inputs: Vec::new(),
            gradients: Vec::new(),
        };
        for (p, &v) in sig.params.iter().zip(param_vars) {
            if !(p.differentiable || p.value_type) {
                continue;
            }
            let node = node_name(&body.vars[v].name);
            let (name, differentiable) = (p.ident.to_string(), p.differentiable);
            let ident = &p.ident;
            hooks.inputs.push(quote! {
                let #node = __ad_graph.input(#name, &#ident, #differentiable);
            });
            if differentiable {
                hooks
                    .gradients
                    .push((p.ident.clone(), hooks.inputs.len() - 1));
            }
            hooks.nodes.insert(v, node);
        }
        for stmt in &body.block.stmts {
            if let Stmt::Let { var, expr, .. } = stmt {
                if !matches!(expr, Expr::Const(_)) && body.vars[*var].kind == VarKind::Local {
                    hooks.nodes.insert(*var, node_name(&body.vars[*var].name));
                }
            }
        }
        hooks
    }

    /// The statements that add the parameters' nodes, before the forward sweep.
    pub fn inputs(&self) -> TokenStream {
        self.inputs.iter().cloned().collect()
    }

    /// `__ad_graph.output(node);` for the result, when it is a drawn value.
    pub fn output(&self, result: &Operand) -> TokenStream {
        match result.var().and_then(|v| self.nodes.get(&v)) {
            Some(node) => quote!(__ad_graph.output(#node);),
            None => TokenStream::new(),
        }
    }

    /// After `let var = expr;` at the top level: the value's node, reading the nodes of the
    /// values it reads.
    pub fn forward(&self, body: &Body, var: VarId, expr: &Expr) -> TokenStream {
        let Some(node) = self.nodes.get(&var) else {
            return TokenStream::new();
        };
        let (kind, reads, fallback) = match expr {
            Expr::Op(op) => (
                quote!(Operation),
                op.operands.iter().filter_map(Operand::var).collect(),
                op.op.rule.to_string(),
            ),
            Expr::Call(call) => {
                let path = &call.path;
                let callee = quote!(#path).to_string().replace(' ', "");
                (
                    quote!(Call),
                    call.args.iter().filter_map(|a| a.value).collect(),
                    format!("{callee}(..)"),
                )
            }
            Expr::Map(map) => {
                let mut reads: Vec<VarId> = map.recv.var().into_iter().collect();
                reads.extend(&map.captures);
                (quote!(Map), reads, "map(..)".to_owned())
            }
            Expr::Const(_) => return TokenStream::new(),
        };
        let label = self.label(body, var, &reads).unwrap_or(fallback);
        let inputs = reads.iter().filter_map(|v| self.nodes.get(v));
        let name = &body.vars[var].name;
        let private = &self.private;
        quote! {
            let #node = __ad_graph.operation(#private::GraphNodeKind::#kind, #label, &[#(#inputs),*], &#name);
        }
    }

    /// Before the last pullback from `var`'s adjoint (or the call's reverse sweep): the
    /// gradient of the node, which is complete.
    pub fn gradient(&self, var: VarId, adjoint: &syn::Ident) -> TokenStream {
        let Some(node) = self.nodes.get(&var) else {
            return TokenStream::new();
        };
        quote! {
            if let ::core::option::Option::Some(__ad_gradient) = &#adjoint {
                __ad_graph.gradient(#node, __ad_gradient);
            }
        }
    }

    /// The user's text of the value, each operand the macro introduced (a sub-expression)
    /// written `..`: `(..).exp()`, `1.0 / ..`.
    fn label(&self, body: &Body, var: VarId, reads: &[VarId]) -> Option<String> {
        let mut text = body.labels.get(&var)?.clone();
        for read in reads {
            let introduced = body.vars[*read].introduced;
            if let Some(inner) = body.labels.get(read).filter(|_| introduced) {
                text = text.replacen(inner.as_str(), "..", 1);
            }
        }
        if text.chars().count() > LONGEST_LABEL {
            text = text.chars().take(LONGEST_LABEL - 1).collect::<String>() + "…";
        }
        Some(text)
    }
}

/// `__ad_node_q` for the value `q` (`__ad_node___ad_mul2` for one the macro introduced).
fn node_name(var: &syn::Ident) -> syn::Ident {
    let name = var.to_string();
    format_ident!("__ad_node_{}", name.strip_prefix("r#").unwrap_or(&name))
}
