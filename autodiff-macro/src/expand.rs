//! The pipeline: parse the attribute and the function, lower the body, analyse activity,
//! and emit the generated items. On any error: every error found, with the user's function
//! unchanged, so that callers do not get a cascade of follow-on errors. When the signature is
//! valid and only the body is rejected, the generated items come too, as stubs with the real
//! signatures: a caller of `NAME_grad`, of `NameGrad` or of the function from another
//! differentiated function sees the body's error alone.

use crate::args::Args;
use crate::differentiate::{self, Mask};
use crate::emit::{self, outline, Function};
use crate::errors::Errors;
use crate::lower::Lowerer;
use crate::names::Names;
use crate::{analyse, fields, rename, signature};
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// Expands `#[differentiate(attr)] item`. Never panics; errors become `compile_error!`s.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Ok(block) = syn::parse2::<syn::ItemImpl>(item.clone()) {
        return crate::method::expand_impl(attr, block);
    }
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let error = syn::Error::new_spanned(
                first_tokens(&item),
                format!("#[differentiate] goes on a free function with a body, not on {}: write `fn loss(w: &DMatrix<f64>) -> f64 {{ … }}`", item_kind(&item)),
            );
            let compile_error = error.to_compile_error();
            return quote!(#item #compile_error);
        }
    };
    generate_item(attr, &func, None).into_token_stream()
}

/// The generated items of `func` (a method or an associated function of `owner`'s `impl`
/// block when given), or the function unchanged (with stubs of the items when only its body
/// is rejected) and every error.
pub fn generate_item(
    attr: TokenStream,
    func: &syn::ItemFn,
    owner: Option<&crate::method::Owner>,
) -> outline::Generated {
    match generate(attr, func, owner) {
        Ok(generated) => generated,
        Err(Rejected { error, items }) => {
            let compile_error = error.to_compile_error();
            let outer = items.outer;
            outline::Generated {
                inner: items.inner,
                outer: quote!(#outer #compile_error),
            }
        }
    }
}

/// What the attribute was put on, for the message: "a struct", "an `impl` block", …
fn item_kind(item: &TokenStream) -> &'static str {
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(_)) => "a struct",
        Ok(syn::Item::Enum(_)) => "an enum",
        Ok(syn::Item::Union(_)) => "a union",
        Ok(syn::Item::Const(_)) => "a `const`",
        Ok(syn::Item::Static(_)) => "a `static`",
        Ok(syn::Item::Trait(_) | syn::Item::TraitAlias(_)) => "a trait",
        Ok(syn::Item::Mod(_)) => "a module (put it on each function)",
        Ok(syn::Item::Type(_)) => "a type alias",
        Ok(syn::Item::Use(_)) => "a `use`",
        Ok(syn::Item::ExternCrate(_)) => "an `extern crate`",
        Ok(syn::Item::ForeignMod(_)) => "an `extern` block",
        Ok(syn::Item::Macro(_)) => "a macro",
        _ => "this item",
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

/// A function the macro rejects: every error found, and the items emitted with them.
struct Rejected {
    error: syn::Error,
    /// The function unchanged, plus the generated items as stubs when the signature is valid.
    items: outline::Generated,
}

fn generate(
    attr: TokenStream,
    func: &syn::ItemFn,
    owner: Option<&crate::method::Owner>,
) -> Result<outline::Generated, Rejected> {
    let function_alone = |error| Rejected {
        error,
        items: outline::Generated {
            inner: func.to_token_stream(),
            outer: TokenStream::new(),
        },
    };
    let args: Args = syn::parse2(attr).map_err(function_alone)?;
    let mut errors = Errors::default();
    crate::method::reject_args(func, &args, owner, &mut errors);
    let method_sig = crate::method::signature(&func.sig, owner);
    let sig = signature::check(&method_sig, &args, owner, &mut errors);
    let Some(sig) = sig.filter(|_| errors.is_empty()) else {
        let error = match errors.finish() {
            Err(error) => error,
            Ok(()) => syn::Error::new_spanned(&func.sig, "unsupported signature"),
        };
        return Err(function_alone(error));
    };
    let krate = match &args.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::autodiff),
    };
    reject_graph_of(&args, &sig).map_err(function_alone)?;
    if let Some((_, rule)) = &args.vjp {
        if let Some(keyword) = args.jvp.as_ref().or(args.hvp.as_ref()) {
            let error = syn::Error::new_spanned(
                keyword,
                format!(
                    "`{keyword}` differentiates a body the macro reads; with `vjp = rule` the \
                     body is not read: remove one of the two"
                ),
            );
            return Err(function_alone(error));
        }
        if let Some(keyword) = &args.graph {
            let error = syn::Error::new_spanned(
                keyword,
                "`graph` draws the operations of a body the macro differentiates; with `vjp = \
                 rule` the body is not read: remove one of the two",
            );
            return Err(function_alone(error));
        }
        emit::custom::check_rule_name(func, rule).map_err(function_alone)?;
        let sweeps = emit::custom::sweeps(func, &sig, rule, &krate);
        return Ok(outline::items(func, &sig, &krate, &sweeps, None));
    }
    let graph = args.graph.is_some();
    differentiate(func, &sig, krate.clone(), &args, errors).map_err(|error| {
        let stub = || outline::GraphSweeps {
            sweeps: outline::stub_sweeps(&sig, &krate),
            gradients: Vec::new(),
        };
        let graph = graph.then(stub);
        let sweeps = outline::stub_sweeps(&sig, &krate);
        let mut items = outline::items(func, &sig, &krate, &sweeps, graph.as_ref());
        items
            .inner
            .extend(emit::forward_mode::stubs(func, &sig, &krate, &args));
        Rejected { error, items }
    })
}

/// The generated items of a function whose signature is valid, stage by stage: lower the
/// body to the IR, analyse which values are active, plan the reverse sweep, emit the items.
/// The body lowered to the IR, with the values of the parameters and of the structured
/// parameters' field reads (leaves).
struct Lowered {
    body: crate::ir::Body,
    param_vars: Vec<crate::ir::VarId>,
    leaves: Vec<(fields::Leaf, crate::ir::VarId)>,
    /// The names given out, for the names forward mode adds.
    names: Names,
}

fn lower(
    func: &syn::ItemFn,
    sig: &signature::Signature,
    graph: bool,
    errors: &mut Errors,
) -> Lowered {
    let mut mentioned = std::collections::HashSet::new();
    rename::mentioned_idents(func.to_token_stream(), &mut mentioned);
    let block = match &sig.owner {
        Some(_) => {
            mentioned.insert(crate::method::RECEIVER.to_string());
            crate::method::body(&func.block)
        }
        None => (*func.block).clone(),
    };
    let (block, leaves) = fields::rewrite(&block, sig, errors);
    let mut lowerer = Lowerer::new(Names::new(mentioned), errors);
    lowerer.scalar = sig.generics.as_ref().map(|g| g.scalar.clone());
    let param_vars: Vec<_> = sig
        .params
        .iter()
        .enumerate()
        // A structured parameter is read through its leaves only: the value itself is a
        // constant that carries no adjoint.
        // A collection taken by value is read through a reference to it (`emit::owned_collections`).
        .map(|(i, p)| {
            let refs = if p.collection { 1 } else { p.refs };
            lowerer.param(&p.ident, i, refs, p.differentiable && !p.structured)
        })
        .collect();
    let leaf_vars: Vec<_> = leaves
        .iter()
        .map(|l| lowerer.param(&l.ident, l.param, 1, true))
        .collect();
    let collections = sig
        .params
        .iter()
        .zip(&param_vars)
        .filter(|(p, _)| p.collection);
    lowerer.items = collections
        .map(|(_, &v)| v)
        .chain(leaf_vars.iter().copied())
        .collect();
    if graph {
        lowerer.keep_labels();
    }
    let (body, names) = lowerer.body(&block);
    Lowered {
        body,
        param_vars,
        leaves: leaves.into_iter().zip(leaf_vars).collect(),
        names,
    }
}

/// `graph` on a function it cannot draw: a matrix result, or a function generic over its
/// scalar.
fn reject_graph_of(args: &Args, sig: &signature::Signature) -> Result<(), syn::Error> {
    let Some(keyword) = &args.graph else {
        return Ok(());
    };
    if !sig.scalar_result {
        return Err(syn::Error::new_spanned(
            keyword,
            "`graph` draws a function whose result is a scalar (`f32` or `f64`), as the \
             gradient of that result is what its pictures show: draw a scalar loss of this \
             result instead",
        ));
    }
    if sig.generics.is_some() {
        return Err(syn::Error::new_spanned(
            keyword,
            "`graph` draws a function written for `f64`, not one generic over its scalar: \
             remove `graph` here, and draw a copy of this function written for `f64`",
        ));
    }
    Ok(())
}

fn differentiate(
    func: &syn::ItemFn,
    sig: &signature::Signature,
    krate: TokenStream,
    args: &Args,
    mut errors: Errors,
) -> syn::Result<outline::Generated> {
    let graph = args.graph.is_some();
    let Lowered {
        mut body,
        param_vars,
        leaves,
        names,
    } = lower(func, sig, graph, &mut errors);
    if graph {
        reject_control_flow_in_graph(&body, &mut errors);
        reject_structured_in_graph(sig, &mut errors);
    }
    errors.finish()?;
    let forward_mode = match args.jvp.is_some() || args.hvp.is_some() {
        true => Some(emit::forward_mode::items(emit::forward_mode::Request {
            func,
            sig,
            body: body.clone(),
            names,
            param_vars: &param_vars,
            leaves: &leaves,
            krate: &krate,
            jvp: args.jvp.as_ref(),
            hvp: args.hvp.as_ref(),
        })?),
        false => None,
    };

    analyse::mark_useful(&mut body);
    let mask = Mask {
        sources: analyse::sources(&body),
        all: sig.differentiable(),
    };
    let lent = emit::lent(sig, &param_vars);
    let leaf_vars = leaves.iter().map(|(_, v)| *v);
    let inputs: Vec<_> = param_vars.iter().copied().chain(leaf_vars).collect();
    let plan = differentiate::function(&body, &inputs, mask, &lent);
    let mut generated = emit::items(&Function {
        item: func,
        sig,
        body: &body,
        plan: &plan,
        param_vars: &param_vars,
        leaves: &leaves,
        krate,
        graph,
    })?;
    if let Some(forward_mode) = forward_mode {
        generated.inner.extend(forward_mode.inner);
        generated.outer.extend(forward_mode.outer);
    }
    Ok(generated)
}

/// `graph` draws scalars and matrices: a structured or collection parameter, whose value is
/// neither, is rejected at its type.
fn reject_structured_in_graph(sig: &signature::Signature, errors: &mut Errors) {
    for p in sig
        .params
        .iter()
        .filter(|p| p.differentiable && (p.structured || p.collection))
    {
        let name = &p.ident;
        errors.push(&p.ty, format!("`graph` draws scalar and matrix parameters, not `{name}`, a struct or a collection of them: draw a function that takes the values it reads as parameters of its own, or leave `{name}` out of `wrt(..)`"));
    }
}

/// `graph` draws each value once: a branch or a loop, whose values differ from call to call
/// and from iteration to iteration, is rejected at its keyword.
fn reject_control_flow_in_graph(body: &crate::ir::Body, errors: &mut Errors) {
    for stmt in &body.block.stmts {
        let span = match stmt {
            crate::ir::Stmt::If(i) => i.span,
            crate::ir::Stmt::Loop(l) => l.span,
            crate::ir::Stmt::Let { .. } => continue,
        };
        errors.push_error(syn::Error::new(
            span,
            "`graph` draws functions without `if` or loops (each value is one node): move the \
             straight-line part into a function of its own with `#[differentiate(graph)]`, \
             or draw the function without this branch or loop",
        ));
    }
}
