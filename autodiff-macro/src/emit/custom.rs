//! The sweeps of a function with a rule of the user's own, `#[differentiate(vjp = RULE)]`:
//! the forward sweep calls the function as written (its body is never read), and the reverse
//! sweep calls `RULE(PARAMS, &value, seed)` for the gradient, through a function pointer of
//! that signature spanned at `RULE`, so that rustc reports a rule whose parameters do not
//! mirror the function's there.

use super::outline::{lent_name, Sweeps};
use crate::signature::Signature;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

/// The forward sweep and the reverse closure's body of `func` with the rule `rule`.
pub fn sweeps(
    func: &syn::ItemFn,
    sig: &Signature,
    rule: &syn::Path,
    krate: &TokenStream,
) -> Sweeps {
    let name = &func.sig.ident;
    let args = call_args(sig);
    let flags = sig
        .params
        .iter()
        .map(|p| format_ident!("__ad_want_{}", p.ident));
    let unlend = sig.params.iter().filter(|p| p.passed_as_lent()).map(|p| {
        let (ident, lent, owned) = (&p.ident, lent_name(&p.ident), &p.owned);
        quote!(let #ident: &#owned = &*#lent;)
    });
    let give_back = sig.params.iter().filter(|p| p.lent()).map(|p| {
        let lent = lent_name(&p.ident);
        quote!(#krate::__private::rules::give_back(#lent);)
    });
    let params = sig.params.iter().map(|p| &p.ident);
    let positional = positional_gradients(sig, krate);
    let rule_fn = rule_fn(name, sig, rule);
    Sweeps {
        forward: quote! {
            let __ad_value = #name(#(#args),*);
            let __ad_kept_value = ::core::clone::Clone::clone(&__ad_value);
        },
        reverse: quote! {
            // The rule gives every gradient: which ones the caller wants does not matter.
            let [#(#flags),*] = __ad_wanted;
            #(#unlend)*
            #rule_fn
            let __ad_grad = __ad_rule(#(#params,)* &__ad_kept_value, __ad_seed);
            #(#give_back)*
            (#(#positional,)*)
        },
    }
}

/// The arguments the forward sweep calls the function with. The function takes its by-value
/// parameters: it gets copies, and the reverse sweep, which hands the rule the same
/// parameters, keeps the originals.
fn call_args(sig: &Signature) -> Vec<TokenStream> {
    let args = sig.params.iter().map(|p| {
        let ident = &p.ident;
        if p.refs == 0 {
            quote!(::core::clone::Clone::clone(&#ident))
        } else {
            quote!(#ident)
        }
    });
    args.collect()
}

/// The rule's gradients by position, as every reverse sweep returns them (`NoGrad` for a
/// constant parameter).
fn positional_gradients(sig: &Signature, krate: &TokenStream) -> Vec<TokenStream> {
    let positional = sig.params.iter().map(|p| {
        let ident = &p.ident;
        match p.differentiable {
            true => quote!(__ad_grad.#ident),
            false => quote!(#krate::__private::rules::NoGrad),
        }
    });
    positional.collect()
}

/// `let __ad_rule: fn(PARAMS, &RET, RET) -> NameGrad = RULE;`: the rule as a function
/// pointer of the signature it must have, so that a rule that differs is reported at its
/// name, with both signatures (and the call to it stays well typed).
fn rule_fn(name: &syn::Ident, sig: &Signature, rule: &syn::Path) -> TokenStream {
    let grad_ty = super::outline::grad_ty(name);
    // `NameGrad<T>` for a function generic over its scalar.
    let grad_args = sig.generics.as_ref().map(|g| {
        let t = &g.scalar;
        quote!(<#t>)
    });
    let (tys, ret) = (sig.params.iter().map(|p| &p.ty), &sig.ret);
    quote_spanned! {rule_span(rule)=>
        let __ad_rule: fn(#(#tys,)* &#ret, #ret) -> #grad_ty #grad_args = #rule;
    }
}

/// A rule named like one of the items generated next to it (`f_vjp`, `f_grad`, …) would be
/// defined twice: said at the rule's name, with a name to use instead.
pub fn check_rule_name(func: &syn::ItemFn, rule: &syn::Path) -> syn::Result<()> {
    let name = func.sig.ident.to_string();
    let Some(rule_name) = rule.get_ident().map(ToString::to_string) else {
        return Ok(());
    };
    let generated = ["vjp", "grad", "fwd", "bwd", "graph"].map(|s| format!("{name}_{s}"));
    if generated.contains(&rule_name) || rule_name == name {
        return Err(syn::Error::new_spanned(
            rule,
            format!(
                "the rule cannot be named `{rule_name}`: #[differentiate] generates an item of \
                 that name next to `{name}`; name the rule `{name}_rule`, for instance"
            ),
        ));
    }
    Ok(())
}

fn rule_span(rule: &syn::Path) -> proc_macro2::Span {
    rule.segments
        .last()
        .map_or_else(proc_macro2::Span::call_site, |s| s.ident.span())
}
