//! The emission stage, tokens only: the forward sweep of `NAME_fwd` and the reverse closure
//! it returns, printed from the lowered body and its plan into the generated items of
//! `outline` (the gradient struct, the tape, `NAME_fwd` / `NAME_bwd` / `NAME_vjp` /
//! `NAME_grad`, and the hidden adapter through which other differentiated functions call
//! this one).

mod code;
mod forward;
mod graph;
pub mod outline;
mod reverse;

use crate::ir::*;
use crate::plan::{Plan, Tape};
use crate::signature::Signature;
use code::Code;
use forward::Forward;
use graph::Hooks;
use outline::{lent_name, Sweeps};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use reverse::Printer;
use std::collections::{HashMap, HashSet};

/// Everything the emitter needs about the function.
pub struct Function<'a> {
    pub item: &'a syn::ItemFn,
    pub sig: &'a Signature,
    pub body: &'a Body,
    pub plan: &'a Plan<'a>,
    /// The variable of each parameter, in order.
    pub param_vars: &'a [VarId],
    pub krate: TokenStream,
    /// Whether `NAME_graph` is generated too (`#[differentiate(graph)]`).
    pub graph: bool,
}

/// The generated items: the sweeps of the body, and the items around them.
pub fn items(f: &Function) -> syn::Result<TokenStream> {
    kept_borrows(f.body, &f.plan.tape.reads)?;
    let plain = sweeps(f, None);
    let graph = f.graph.then(|| {
        let hooks = Hooks::of(f.body, f.sig, f.param_vars, &f.krate);
        let Sweeps { forward, reverse } = sweeps(f, Some(&hooks));
        let (inputs, output) = (hooks.inputs(), hooks.output(&f.body.result));
        let forward = quote!(#inputs #forward #output);
        let gradients = hooks.gradients;
        outline::GraphSweeps {
            sweeps: Sweeps { forward, reverse },
            gradients,
        }
    });
    Ok(outline::items(
        f.item,
        f.sig,
        &f.krate,
        &plain,
        graph.as_ref(),
    ))
}

/// The parameters the reverse sweep receives as `Lent`: a caller whose own sweep reads the
/// argument no more gives it, and it goes back to the pool after this sweep's last read of
/// it, before the gradients computed later take their buffers.
pub fn lent(sig: &Signature, param_vars: &[VarId]) -> HashSet<VarId> {
    let params = sig.params.iter().zip(param_vars);
    params.filter(|(p, _)| p.lent()).map(|(_, &v)| v).collect()
}

/// The forward sweep and the reverse closure's body (with `NAME_graph`'s hooks, when given).
fn sweeps(f: &Function, graph: Option<&Hooks>) -> Sweeps {
    let code = Code::new(f.body, &f.krate);
    let flags: Vec<syn::Ident> = f.sig.params.iter().map(|p| want_flag(&p.ident)).collect();
    let lent: HashMap<VarId, syn::Ident> = f
        .sig
        .params
        .iter()
        .zip(f.param_vars)
        .filter(|(p, _)| p.lent())
        .map(|(p, &v)| (v, lent_name(&p.ident)))
        .collect();
    let printer = Printer {
        code: &code,
        flags: &flags,
        lent: &lent,
        graph,
    };
    let sweep = printer.sweep(&f.plan.sweep, quote!(__ad_seed));
    let forward = Forward {
        code: &code,
        tape: &f.plan.tape,
        closures: &f.plan.closures,
        moves: &f.plan.moves,
        graph,
    };
    let forward_body = forward.block(&f.body.block);
    let forward_leftovers = forward.give_back(&f.plan.moves.leftovers);
    let value = result_value(f, &code, &f.plan.tape);
    let Gradient {
        values,
        shapes,
        lent_shapes,
    } = gradient(f, &code);
    let unlend = unlend(f.sig);
    let fn_name = &f.item.sig.ident;
    let grad_ty = outline::grad_ty(fn_name);
    let span = crate::rename::at(fn_name.span());
    let alias = code.rules_alias();
    Sweeps {
        forward: quote_spanned! {span=>
            #alias
            #(#shapes)*
            #forward_body
            let __ad_value = #value;
            #forward_leftovers
        },
        reverse: quote_spanned! {span=>
            // Which gradients the caller asked for (all, unless another differentiated
            // function calls this one with constants).
            let [#(#flags),*] = __ad_wanted;
            #(#unlend)*
            #(#lent_shapes)*
            #sweep
            #grad_ty { #(#values,)* }
        },
    }
}

/// The flag that says whether the caller wants the gradient of parameter `x`: `__ad_want_x`.
fn want_flag(ident: &syn::Ident) -> syn::Ident {
    format_ident!("__ad_want_{}", ident)
}

/// The function's value as the forward sweep returns it: the result binding (copied when the
/// reverse sweep still reads it), or the result operand.
fn result_value(f: &Function, code: &Code, tape: &Tape) -> TokenStream {
    match &f.body.result {
        Operand::Var(v) if f.body.vars[*v].binding_refs == 0 => {
            let name = &f.body.vars[*v].name;
            if tape.reads.contains(v) {
                code.copy(*v, quote!(&#name))
            } else {
                quote!(#name)
            }
        }
        other => code.operand_at(other, 0),
    }
}

/// The gradient struct's field values, and the shapes read for them before the sweeps.
struct Gradient {
    /// `x: …` for each differentiable parameter.
    values: Vec<TokenStream>,
    /// The shapes of owned parameters, read by the forward sweep before it moves them.
    shapes: Vec<TokenStream>,
    /// The shapes of `Lent` parameters, read by the reverse sweep before it gives them back.
    lent_shapes: Vec<TokenStream>,
}

/// The value of each gradient field: the adjoint of the parameter, or zeros of its shape
/// where the adjoint may be empty (kept for parameters whose gradient may be all zeros; a
/// borrowed parameter is passed to the reverse sweep again: its shape is read there).
fn gradient(f: &Function, code: &Code) -> Gradient {
    let rules = &code.rules;
    let several = f.sig.params.iter().filter(|p| p.differentiable).count() > 1;
    let mut out = Gradient {
        values: Vec::new(),
        shapes: Vec::new(),
        lent_shapes: Vec::new(),
    };
    for (p, &v) in f.sig.params.iter().zip(f.param_vars) {
        if !p.differentiable {
            continue;
        }
        let ident = &p.ident;
        let var = &f.body.vars[v];
        let d = code.adjoint(v);
        let value = if var.active() && f.plan.reached.contains(&v) {
            quote!(#rules::finish_reached(#d))
        } else {
            let shape = if p.lent() {
                // Read before the sweep, which may give the value back.
                let name = format_ident!("__ad_shape_{}", ident);
                out.lent_shapes
                    .push(quote!(let #name = #rules::shape_of(#ident);));
                quote!(#name)
            } else if p.refs >= 1 {
                quote!(#rules::shape_of(#ident))
            } else {
                let name = format_ident!("__ad_shape_{}", ident);
                out.shapes
                    .push(quote!(let #name = #rules::shape_of(&#ident);));
                quote!(#name)
            };
            let slot = if var.active() {
                quote!(#d)
            } else {
                quote!(::core::option::Option::None)
            };
            quote!(#rules::finish(#slot, #shape))
        };
        // A caller that did not ask for this gradient gets a placeholder, computed for free.
        let flag = want_flag(ident);
        let value = if several {
            quote!(#rules::wanted(#flag, || #value))
        } else {
            value
        };
        out.values.push(quote!(#ident: #value));
    }
    out
}

/// `let x: &T = &*__ad_lent_x;` for each `Lent` parameter: the plain references the reverse
/// sweep reads.
fn unlend(sig: &Signature) -> Vec<TokenStream> {
    sig.params
        .iter()
        .filter(|p| p.lent())
        .map(|p| {
            let (name, lent, owned) = (&p.ident, lent_name(&p.ident), &p.owned);
            quote!(let #name: &#owned = &*#lent;)
        })
        .collect()
}

/// Rejects a borrow of part of a value (`&labels[..2]`, `&p.w`, `&ws[0]`) that the reverse
/// sweep reads: the sweep outlives the forward sweep's locals and may not borrow from its
/// caller beyond the parameters, so it cannot keep such a reference.
fn kept_borrows(body: &Body, reads: &std::collections::HashSet<VarId>) -> syn::Result<()> {
    let mut error: Option<syn::Error> = None;
    crate::walk::for_each_let(&body.block, &mut |var, expr, _| {
        let Expr::Const(borrow) = expr else { return };
        // A borrow that reads no binding (of a `static` or a `const`) lives long enough.
        if body.vars[var].binding_refs > 0 && !borrow.reads.is_empty() && reads.contains(&var) {
            let e = syn::Error::new_spanned(
                &borrow.tokens,
                "the reverse sweep reads this borrowed part of a value, which it cannot keep: \
                 bind an owned copy first and pass a reference to it (`let part = \
                 labels[..2].to_vec();` for part of a slice, `let w = p.w.clone();` for a \
                 matrix), or pass the part as a parameter of its own",
            );
            match &mut error {
                Some(all) => all.combine(e),
                None => error = Some(e),
            }
        }
    });
    error.map_or(Ok(()), Err)
}
