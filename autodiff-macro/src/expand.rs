//! The pipeline: parse the attribute and the function, lower the body, analyse activity,
//! and emit the generated items. On any error: the user's function unchanged, plus every
//! error found, so that callers do not get a cascade of follow-on errors.

use crate::args::Args;
use crate::emit::{self, Function};
use crate::errors::Errors;
use crate::lower::Lowerer;
use crate::names::Names;
use crate::{analyse, rename, signature};
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// Expands `#[differentiate(attr)] item`. Never panics; errors become `compile_error!`s.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let error = syn::Error::new_spanned(
                first_tokens(&item),
                "#[differentiate] goes on a free function with a body, such as `fn loss(w: &DMatrix<f64>) -> f64 { … }`",
            );
            let compile_error = error.to_compile_error();
            return quote!(#item #compile_error);
        }
    };
    match generate(attr, &func) {
        Ok(tokens) => tokens,
        Err(error) => {
            let compile_error = error.to_compile_error();
            quote!(#func #compile_error)
        }
    }
}

/// The first few tokens of an item (its keyword and name), where a "wrong item" error points.
fn first_tokens(item: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    for t in item.clone() {
        let stop = matches!(&t, proc_macro2::TokenTree::Group(g) if g.delimiter() != proc_macro2::Delimiter::Bracket);
        if stop {
            break;
        }
        out.extend(std::iter::once(t));
    }
    if out.is_empty() {
        item.clone()
    } else {
        out
    }
}

fn generate(attr: TokenStream, func: &syn::ItemFn) -> syn::Result<TokenStream> {
    let args: Args = syn::parse2(attr)?;
    let mut errors = Errors::default();
    let sig = signature::check(&func.sig, &args, &mut errors);
    let Some(sig) = sig else {
        errors.finish()?;
        return Err(syn::Error::new_spanned(&func.sig, "unsupported signature"));
    };

    let mut mentioned = std::collections::HashSet::new();
    rename::mentioned_idents(func.to_token_stream(), &mut mentioned);
    let mut lowerer = Lowerer::new(Names::new(mentioned), &mut errors);
    let param_vars: Vec<_> = sig
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| lowerer.param(&p.ident, i, p.refs, p.differentiable))
        .collect();
    let (mut body, _names) = lowerer.body(&func.block);
    errors.finish()?;

    analyse::mark_useful(&mut body);
    let krate = match &args.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::autodiff),
    };
    Ok(emit::items(&Function { item: func, sig: &sig, body: &body, param_vars: &param_vars, krate }))
}
