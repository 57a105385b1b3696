//! Methods: `#[differentiate]` on an `impl Model { … }` block differentiates the methods and
//! associated functions in it that carry the attribute too. Each is differentiated like a free
//! function whose receiver `&self` is a structured parameter named `self_` (the field of the
//! gradient of `self`); the generated functions go into the same `impl`, and the types it
//! cannot hold (the gradient struct, the tape, the adapter) next to it.

use crate::errors::Errors;
use crate::signature::Param;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use syn::visit_mut::VisitMut;

/// The type of the `impl` block a differentiated method is in.
#[derive(Clone)]
pub struct Owner {
    /// The type as written after `impl`: `Model`, `crate::nets::Model`.
    pub ty: syn::Type,
    /// Its last name, which the generated types start with: `Model` (`ModelLossGrad`).
    pub name: syn::Ident,
}

/// The name of the receiver in the generated code, and of the gradient's field for it.
pub const RECEIVER: &str = "self_";

/// Expands `#[differentiate(attr)] impl …`: each method with the attribute followed by its
/// generated functions, and after the `impl`, their types. Never panics.
pub fn expand_impl(attr: TokenStream, mut block: syn::ItemImpl) -> TokenStream {
    let owner = match owner(&attr, &block) {
        Ok(owner) => owner,
        Err(error) => {
            let error = error.to_compile_error();
            strip_attributes(&mut block);
            return quote!(#block #error);
        }
    };
    let mut items = Vec::new();
    let mut outer = TokenStream::new();
    for item in std::mem::take(&mut block.items) {
        let syn::ImplItem::Fn(mut method) = item else {
            items.push(item);
            continue;
        };
        let Some(attr) = take_attribute(&mut method.attrs) else {
            items.push(syn::ImplItem::Fn(method));
            continue;
        };
        let generated = generate(attr, method, &owner);
        items.push(syn::ImplItem::Verbatim(generated.inner));
        outer.extend(generated.outer);
    }
    block.items = items;
    quote!(#block #outer)
}

/// One method with the attribute `attr`: its generated items, or the method unchanged and
/// the error.
fn generate(
    attr: syn::Attribute,
    method: syn::ImplItemFn,
    owner: &Owner,
) -> crate::emit::outline::Generated {
    let args = match &attr.meta {
        syn::Meta::Path(_) => TokenStream::new(),
        syn::Meta::List(list) => list.tokens.clone(),
        syn::Meta::NameValue(nv) => {
            let error = syn::Error::new_spanned(
                nv,
                "expected `#[differentiate]` or `#[differentiate(wrt(..))]`",
            );
            return alone(&method, error);
        }
    };
    if let Some(default) = &method.defaultness {
        let error = syn::Error::new_spanned(
            default,
            "a `default fn` cannot be differentiated: remove `default`",
        );
        return alone(&method, error);
    }
    let func = syn::ItemFn {
        attrs: method.attrs,
        vis: method.vis,
        sig: method.sig,
        block: Box::new(method.block),
    };
    crate::expand::generate_item(args, &func, Some(owner))
}

/// The method unchanged, and `error` next to the `impl`.
fn alone(method: &syn::ImplItemFn, error: syn::Error) -> crate::emit::outline::Generated {
    crate::emit::outline::Generated {
        inner: method.to_token_stream(),
        outer: error.to_compile_error(),
    }
}

/// The `impl` block's type, or why the attribute cannot go on this block.
fn owner(attr: &TokenStream, block: &syn::ItemImpl) -> syn::Result<Owner> {
    if !attr.is_empty() {
        return Err(syn::Error::new_spanned(
            attr,
            "the arguments of `#[differentiate]` go on each method of the `impl` block \
             (`#[differentiate(wrt(x))] fn loss(&self, x: f64) -> f64`): write \
             `#[differentiate]` alone on the `impl` block",
        ));
    }
    if let Some((_, trait_, _)) = &block.trait_ {
        return Err(syn::Error::new_spanned(
            trait_,
            "#[differentiate] goes on an inherent `impl Model { … }` block, not on a trait \
             implementation: differentiate the methods in an `impl Model` block and call them \
             from the trait's methods",
        ));
    }
    if !block.generics.params.is_empty() || block.generics.where_clause.is_some() {
        let (generics, where_clause) = (&block.generics, &block.generics.where_clause);
        return Err(syn::Error::new_spanned(
            quote!(#generics #where_clause),
            "generic `impl` blocks are not supported: write the `impl` block for a concrete \
             type (`impl Model`, with `f64` or `f32` fields)",
        ));
    }
    if let Some(unsafety) = &block.unsafety {
        return Err(syn::Error::new_spanned(
            unsafety,
            "an `unsafe impl` cannot be differentiated: remove `unsafe`",
        ));
    }
    let name = match &*block.self_ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        _ => None,
    };
    let Some(name) = name else {
        return Err(syn::Error::new_spanned(
            &block.self_ty,
            "#[differentiate] goes on an `impl` block of a struct named by a path (`impl \
             Model { … }`)",
        ));
    };
    Ok(Owner {
        ty: (*block.self_ty).clone(),
        name: name.clone(),
    })
}

/// Removes `#[differentiate]` from the methods of a rejected block, so that each is not
/// expanded again on its own (and reported once more).
fn strip_attributes(block: &mut syn::ItemImpl) {
    for item in &mut block.items {
        if let syn::ImplItem::Fn(method) = item {
            take_attribute(&mut method.attrs);
        }
    }
}

/// Takes `#[differentiate]` (or `#[autodiff::differentiate(..)]`) out of `attrs`.
fn take_attribute(attrs: &mut Vec<syn::Attribute>) -> Option<syn::Attribute> {
    let at = attrs.iter().position(|a| {
        let last = a.path().segments.last();
        last.is_some_and(|s| s.ident == "differentiate")
    })?;
    Some(attrs.remove(at))
}

/// The receiver `&self` of a method of `owner` as a structured parameter named `self_`; any
/// other receiver, or one outside a differentiated `impl` block, is an error.
pub fn receiver(r: &syn::Receiver, owner: Option<&Owner>, errors: &mut Errors) -> Option<Param> {
    let Some(owner) = owner else {
        errors.push(r, "a method is differentiated from its `impl` block: put `#[differentiate]` on the `impl` block too (`#[differentiate] impl Model { … }`), as the gradient struct must go next to it");
        return None;
    };
    let shared = r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none();
    if !shared {
        let what = match (&r.reference, &r.mutability) {
            (Some(_), Some(_)) => "`&mut self` is not supported",
            (None, _) if r.colon_token.is_none() => "`self` by value is not supported",
            _ => "a receiver of this type is not supported",
        };
        errors.push(r, format!("{what}: take `&self` (and return the value to differentiate; update the struct outside, with the gradient)"));
        return None;
    }
    let ty = &owner.ty;
    Some(Param {
        ident: format_ident!("{}", RECEIVER, span = r.self_token.span),
        ty: syn::parse_quote!(&#ty),
        owned: ty.clone(),
        grad_ty: ty.clone(),
        refs: 1,
        differentiable: true,
        value_type: false,
        structured: true,
        collection: false,
        receiver: true,
    })
}

/// The signature with `Self` replaced by the `impl` block's type, as the generated types
/// outside the block must name it.
pub fn signature(sig: &syn::Signature, owner: Option<&Owner>) -> syn::Signature {
    let mut sig = sig.clone();
    if let Some(owner) = owner {
        let mut replace = ReplaceSelf(&owner.ty);
        for input in &mut sig.inputs {
            if let syn::FnArg::Typed(t) = input {
                replace.visit_type_mut(&mut t.ty);
            }
        }
        if let syn::ReturnType::Type(_, ty) = &mut sig.output {
            replace.visit_type_mut(ty);
        }
    }
    sig
}

struct ReplaceSelf<'a>(&'a syn::Type);

impl VisitMut for ReplaceSelf<'_> {
    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        if let syn::Type::Path(p) = ty {
            if p.qself.is_none() && p.path.is_ident("Self") {
                *ty = self.0.clone();
                return;
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

/// A method's body as the sweeps read it: `self` is `self_`, and `self.f(a)` is the call
/// `Self::f(self_, a)`, differentiated like any call.
pub fn body(block: &syn::Block) -> syn::Block {
    let mut block = block.clone();
    ReceiverCalls.visit_block_mut(&mut block);
    let tokens = rename_self(block.to_token_stream());
    // Renaming an identifier keeps the block well formed; should it not, the body as written.
    syn::parse2(tokens).unwrap_or(block)
}

/// `self.f(a)` → `Self::f(self, a)`.
struct ReceiverCalls;

impl VisitMut for ReceiverCalls {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        let syn::Expr::MethodCall(m) = e else { return };
        let is_self = matches!(&*m.receiver, syn::Expr::Path(p) if p.qself.is_none() && p.path.is_ident("self"));
        if !is_self || m.turbofish.is_some() {
            return;
        }
        let span = m.method.span();
        let mut path = syn::Path::from(syn::Ident::new("Self", span));
        path.segments.push(m.method.clone().into());
        let mut args = syn::punctuated::Punctuated::new();
        args.push((*m.receiver).clone());
        args.extend(m.args.iter().cloned());
        *e = syn::Expr::Call(syn::ExprCall {
            attrs: m.attrs.clone(),
            func: Box::new(syn::Expr::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: None,
                path,
            })),
            paren_token: m.paren_token,
            args,
        });
    }
}

/// Every identifier `self` in `tokens` renamed `self_`.
fn rename_self(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|t| match t {
            proc_macro2::TokenTree::Ident(i) if i == "self" => {
                proc_macro2::TokenTree::Ident(syn::Ident::new(RECEIVER, i.span()))
            }
            proc_macro2::TokenTree::Group(g) => {
                let mut group = proc_macro2::Group::new(g.delimiter(), rename_self(g.stream()));
                group.set_span(g.span());
                proc_macro2::TokenTree::Group(group)
            }
            other => other,
        })
        .collect()
}

/// What a method cannot have yet: `graph`, `vjp = rule`, and the name `self_`, which its
/// generated code gives the receiver (a parameter or a binding of that name).
pub fn reject_args(
    func: &syn::ItemFn,
    args: &crate::args::Args,
    owner: Option<&Owner>,
    errors: &mut Errors,
) {
    if owner.is_none() {
        return;
    }
    if let Some(keyword) = &args.graph {
        errors.push(keyword, "`graph` draws free functions only: move the computation into a free function with `#[differentiate(graph)]` and call it from the method");
    }
    if let Some((keyword, _)) = &args.vjp {
        errors.push(keyword, "`vjp = rule` is for free functions only: write the function with its rule as a free function and call it from the method");
    }
    if func.sig.receiver().is_none() {
        return;
    }
    for input in &func.sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            if matches!(&*t.pat, syn::Pat::Ident(p) if p.ident == RECEIVER) {
                errors.push(&t.pat, "a parameter of a differentiated method cannot be named `self_`, the field of the gradient of `self`: rename it");
                return;
            }
        }
    }
    if let Some(taken) = find_ident(func.block.to_token_stream(), RECEIVER) {
        errors.push(taken, "a differentiated method cannot use the name `self_`, which its generated code gives `self` (the field of the gradient of `self`): rename it");
    }
}

/// The first identifier `name` in `tokens`.
fn find_ident(tokens: TokenStream, name: &str) -> Option<proc_macro2::Ident> {
    tokens.into_iter().find_map(|t| match t {
        proc_macro2::TokenTree::Ident(i) if i == name => Some(i),
        proc_macro2::TokenTree::Group(g) => find_ident(g.stream(), name),
        _ => None,
    })
}
