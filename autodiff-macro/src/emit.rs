//! The emission stage, tokens only: the forward sweep of `NAME_fwd` and the reverse closure
//! it returns, printed from the lowered body and its plan into the generated items of
//! `outline` (the gradient struct, the tape, `NAME_fwd` / `NAME_bwd` / `NAME_vjp` /
//! `NAME_grad`, and the hidden adapter through which other differentiated functions call
//! this one).

mod code;
pub mod custom;
mod forward;
pub mod forward_mode;
mod graph;
pub mod outline;
mod reverse;

use crate::fields::Leaf;
use crate::ir::*;
use crate::plan::{Plan, Tape};
use crate::signature::{Param, Signature};
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
    /// The fields read of structured parameters, each with its variable.
    pub leaves: &'a [(Leaf, VarId)],
    pub krate: TokenStream,
    /// Whether `NAME_graph` is generated too (`#[differentiate(graph)]`).
    pub graph: bool,
}

/// The generated items: the sweeps of the body, and the items around them.
pub fn items(f: &Function) -> syn::Result<outline::Generated> {
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
    let (flags, lent) = (want_flags(f), lent_names(f));
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
    let gradient = gradient(f, &code);
    let (values, shapes, lent_shapes) = (&gradient.values, &gradient.shapes, &gradient.lent_shapes);
    let unlend = unlend(f.sig);
    let leaves = bind_leaves(f);
    let top_level = crate::walk::defined_in(&f.body.block);
    let rereads = code.rereads(&top_level, |h| f.plan.tape.reads.contains(&h));
    let (owned, reborrowed) = owned_collections(f.sig);
    let span = crate::rename::at(f.item.sig.ident.span());
    let alias = code.rules_alias();
    Sweeps {
        forward: quote_spanned! {span=>
            #alias
            #(#owned)*
            #(#leaves)*
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
            #(#reborrowed)*
            #(#leaves)*
            #(#lent_shapes)*
            #rereads
            #sweep
            (#(#values,)*)
        },
    }
}

/// The flag of each parameter that says whether the caller wants its gradient, in order.
fn want_flags(f: &Function) -> Vec<syn::Ident> {
    let params = f.sig.params.iter();
    params.map(|p| want_flag(&p.ident, f.body)).collect()
}

/// The name the reverse sweep gives each parameter it receives as `Lent`, by variable.
fn lent_names(f: &Function) -> HashMap<VarId, syn::Ident> {
    let params = f.sig.params.iter().zip(f.param_vars);
    let lent = params.filter(|(p, _)| p.lent());
    lent.map(|(p, &v)| (v, lent_name(&p.ident))).collect()
}

/// The flag that says whether the caller wants the gradient of parameter `x`: `want_x`
/// (`__ad_want_x` where the user's code mentions such names: `names`).
fn want_flag(ident: &syn::Ident, body: &Body) -> syn::Ident {
    let name = syn::ext::IdentExt::unraw(ident);
    match body.short_names {
        true => format_ident!("want_{}", name),
        false => format_ident!("__ad_want_{}", name),
    }
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

/// The gradients the reverse sweep returns, and the shapes read for them before the sweeps.
struct Gradient {
    /// One per parameter, in order: the gradient of a differentiable one, `NoGrad` for a
    /// constant.
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
    for (index, (p, &v)) in f.sig.params.iter().zip(f.param_vars).enumerate() {
        let value = if !p.differentiable {
            quote!(#rules::NoGrad)
        } else if p.collection {
            wanted_collection_gradient(f, code, p, v)
        } else if p.structured {
            wanted_structured_gradient(f, code, p, index)
        } else {
            let value = out.value_gradient(f, code, p, v);
            // A caller that did not ask for this gradient gets a placeholder, computed for free.
            let flag = want_flag(&p.ident, f.body);
            if several {
                quote!(#rules::wanted(#flag, || #value))
            } else {
                value
            }
        };
        out.values.push(value);
    }
    out
}

/// The gradient of a collection parameter where the caller wants it, an empty `Vec` where not.
fn wanted_collection_gradient(f: &Function, code: &Code, p: &Param, v: VarId) -> TokenStream {
    let value = collection_gradient(f, code, v);
    let flag = want_flag(&p.ident, f.body);
    let unwanted = quote!(::std::vec::Vec::new());
    quote!(if #flag { #value } else { #unwanted })
}

/// The gradient of a structured parameter where the caller wants it, a placeholder of its
/// shape where not.
fn wanted_structured_gradient(f: &Function, code: &Code, p: &Param, index: usize) -> TokenStream {
    let value = structured_gradient(f, code, index);
    let (ident, owned, krate) = (&p.ident, &p.owned, &f.krate);
    let flag = want_flag(ident, f.body);
    let unwanted = quote!(<#owned as #krate::__private::Parameters>::placeholder_like(&#ident));
    quote!(if #flag { #value } else { #unwanted })
}

impl Gradient {
    /// The gradient of a scalar or matrix parameter: its adjoint, finished with zeros of its
    /// shape where it may be empty (the shape read in the sweep that can still see it).
    fn value_gradient(&mut self, f: &Function, code: &Code, p: &Param, v: VarId) -> TokenStream {
        let rules = &code.rules;
        let var = &f.body.vars[v];
        let d = code.adjoint(v);
        if var.active() && f.plan.reached.contains(&v) {
            return quote!(#rules::finish_reached(#d));
        }
        let shape = self.shape(code, p);
        let slot = if var.active() {
            quote!(#d)
        } else {
            quote!(::core::option::Option::None)
        };
        quote!(#rules::finish(#slot, #shape))
    }

    /// The shape of parameter `p`: read where needed, or bound before a sweep that may move
    /// or give back the value (the binding added to `shapes` or `lent_shapes`).
    fn shape(&mut self, code: &Code, p: &Param) -> TokenStream {
        let (rules, ident) = (&code.rules, &p.ident);
        if p.lent() {
            // Read before the sweep, which may give the value back.
            let name = format_ident!("__ad_shape_{}", ident);
            self.lent_shapes
                .push(quote!(let #name = #rules::shape_of(#ident);));
            quote!(#name)
        } else if p.refs >= 1 {
            quote!(#rules::shape_of(#ident))
        } else {
            let name = format_ident!("__ad_shape_{}", ident);
            self.shapes
                .push(quote!(let #name = #rules::shape_of(&#ident);));
            quote!(#name)
        }
    }
}

/// A collection taken by value (`ws: Vec<M>`) is moved into a binding of its own that the
/// reverse sweep captures, and both sweeps read it through a reference of the parameter's
/// name: `let __ad_owned_ws = ws; let ws = &__ad_owned_ws;` in the forward sweep, the second
/// again in the reverse sweep.
fn owned_collections(sig: &Signature) -> (Vec<TokenStream>, Vec<TokenStream>) {
    sig.params
        .iter()
        .filter(|p| p.collection && p.refs == 0)
        .map(|p| {
            let (name, owned) = (&p.ident, format_ident!("__ad_owned_{}", p.ident));
            let reborrow = quote!(let #name = &#owned;);
            (quote!(let #owned = #name; #reborrow), reborrow)
        })
        .unzip()
}

/// `let p__w1 = &p.w1;` for each field read of a structured parameter: both sweeps start
/// with these, so that a leaf is a borrowed value like a parameter taken by reference.
fn bind_leaves(f: &Function) -> Vec<TokenStream> {
    f.leaves
        .iter()
        .filter_map(|(leaf, _)| {
            let param = f.sig.params.get(leaf.param)?;
            let (ident, borrow) = (&leaf.ident, leaf.borrow(&param.ident));
            // The whole of a parameter taken by value is borrowed too.
            let borrow = match leaf.whole && param.refs == 0 {
                true => quote!(&#borrow),
                false => borrow,
            };
            Some(quote!(let #ident = #borrow;))
        })
        .collect()
}

/// The gradient of a structured parameter, of its own type: zeros of its structure, but for
/// the fields read, which take their leaves' adjoints (`g.w1 = …; g.inner = zeros but b;
/// g.inner.b = …;`).
fn structured_gradient(f: &Function, code: &Code, index: usize) -> TokenStream {
    let (param, owned) = (&f.sig.params[index].ident, &f.sig.params[index].owned);
    let leaves: Vec<(&[syn::Ident], TokenStream)> = f
        .leaves
        .iter()
        // A leaf the result does not depend on (a constant field read in a condition) keeps
        // the zeros, or the copy of a skipped field, that `zeros_except` gives it.
        .filter(|(leaf, v)| leaf.param == index && !leaf.whole && f.body.vars[*v].active())
        .map(|(leaf, v)| (leaf.path.as_slice(), leaf_gradient(code, leaf, *v)))
        .collect();
    let krate = &f.krate;
    let trait_ = quote!(#krate::__private::Parameters);
    let mut stmts = Vec::new();
    let taken = assemble(&trait_, param, &[], &leaves, &mut stmts);
    let fields = quote!({
        let mut __ad_g = <#owned as #trait_>::zeros_except(&#param, &[#(#taken),*]);
        #(#stmts)*
        __ad_g
    });
    // The parameter passed whole to methods: their gradients of it are added.
    let whole = f.leaves.iter().find(|(leaf, v)| {
        leaf.param == index && leaf.whole && f.body.vars[*v].active() && f.plan.reached.contains(v)
    });
    match whole {
        Some((_, v)) => {
            let (rules, d) = (&code.rules, code.adjoint(*v));
            quote!(#rules::finish_whole(#fields, #d))
        }
        None => fields,
    }
}

/// The statements that fill the fields of the gradient below `prefix` from the leaves; returns
/// the names of the fields at that level that they assign.
fn assemble(
    trait_: &TokenStream,
    param: &syn::Ident,
    prefix: &[syn::Ident],
    leaves: &[(&[syn::Ident], TokenStream)],
    stmts: &mut Vec<TokenStream>,
) -> Vec<String> {
    let mut children: Vec<&syn::Ident> = Vec::new();
    for (path, _) in leaves {
        if path.len() > prefix.len()
            && path.starts_with(prefix)
            && !children.contains(&&path[prefix.len()])
        {
            children.push(&path[prefix.len()]);
        }
    }
    for &child in &children {
        let mut sub = prefix.to_vec();
        sub.push(child.clone());
        match leaves.iter().find(|(path, _)| *path == sub.as_slice()) {
            Some((_, value)) => stmts.push(quote!(__ad_g #(.#sub)* = #value;)),
            None => {
                let mut inner = Vec::new();
                let taken = assemble(trait_, param, &sub, leaves, &mut inner);
                stmts.push(quote!(__ad_g #(.#sub)* = #trait_::zeros_except(&#param #(.#sub)*, &[#(#taken),*]);));
                stmts.extend(inner);
            }
        }
    }
    children
        .iter()
        .map(|c| syn::ext::IdentExt::unraw(*c).to_string())
        .collect()
}

/// The adjoint of an active leaf as its gradient: the adjoint when the sweep reached it, zeros
/// of the leaf's shape otherwise.
///
/// Always through `finish_like`, even where a derivative surely reached the leaf: the leaf's
/// type decides what its gradient is (a skipped field's is the field itself, copied).
fn leaf_gradient(code: &Code, leaf: &Leaf, v: VarId) -> TokenStream {
    let rules = &code.rules;
    let d = code.adjoint(v);
    let ident = &leaf.ident;
    quote!(#rules::finish_like(#d, #ident))
}

/// The gradient of a collection parameter (`ws: &[M]`): its adjoint, or zeros of its lengths
/// and shapes.
fn collection_gradient(f: &Function, code: &Code, v: VarId) -> TokenStream {
    let rules = &code.rules;
    let ident = &f.body.vars[v].name;
    if !f.body.vars[v].active() {
        return quote!(#rules::finish_items(::core::option::Option::None, #ident));
    }
    // Always through `finish_items`: an element no derivative reached is still a placeholder.
    let d = code.adjoint(v);
    quote!(#rules::finish_items(#d, #ident))
}

/// `let x: &T = &*__ad_lent_x;` for each parameter passed as a `Lent`: the plain references
/// the reverse sweep reads.
fn unlend(sig: &Signature) -> Vec<TokenStream> {
    sig.params
        .iter()
        .filter(|p| p.passed_as_lent())
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
