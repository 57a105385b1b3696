//! The generated items: the gradient struct, the tape, `NAME_fwd` / `NAME_bwd` /
//! `NAME_vjp` / `NAME_grad`, and the hidden adapter through which other differentiated
//! functions call this one.

use crate::analyse::LastUse;
use crate::code::Code;
use crate::forward::Forward;
use crate::ir::*;
use crate::reverse::{Mask, Reverse};
use crate::signature::Signature;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::visit_mut::VisitMut;

/// Everything the emitter needs about the function.
pub struct Function<'a> {
    pub item: &'a syn::ItemFn,
    pub sig: &'a Signature,
    pub body: &'a Body,
    /// The variable of each parameter, in order.
    pub param_vars: &'a [VarId],
    pub krate: TokenStream,
}

/// `two_layer_loss` → `TwoLayerLoss`.
pub fn upper_camel(name: &str) -> String {
    let name = name.strip_prefix("r#").unwrap_or(name);
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            match chars.next() {
                Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

pub fn items(f: &Function) -> syn::Result<TokenStream> {
    let code = Code::new(f.body, &f.krate);
    let all: std::collections::BTreeSet<usize> = f
        .sig
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.differentiable)
        .map(|(i, _)| i)
        .collect();
    let several = all.len() > 1;
    let flags: Vec<syn::Ident> = f
        .sig
        .params
        .iter()
        .map(|p| format_ident!("__ad_want_{}", p.ident))
        .collect();
    let mask = Mask {
        sources: crate::analyse::sources(f.body),
        all,
        flags: flags.clone(),
    };
    // Borrowed differentiable parameters reach the reverse sweep as `Lent`: a caller whose own
    // sweep reads the argument no more gives it, and it goes back to the pool after this
    // sweep's last read of it, before the gradients computed later take their buffers.
    let lent: std::collections::HashMap<VarId, syn::Ident> = f
        .sig
        .params
        .iter()
        .zip(f.param_vars)
        .filter(|(p, _)| is_lent(p))
        .map(|(p, &v)| (v, lent_name(&p.ident)))
        .collect();
    let mut reverse = Reverse::masked(&code, mask, lent);
    let sweep = reverse.sweep(
        &f.body.block,
        &f.body.result,
        quote!(__ad_seed),
        f.param_vars,
    );
    let needs = reverse.needs;
    kept_borrows(f.body, &needs.reads)?;
    let last_use = LastUse::of(&f.body.block, &f.body.result);
    let forward = Forward {
        code: &code,
        needs: &needs,
        last_use: &last_use,
        moved: Default::default(),
    };
    let forward_body = forward.block(&f.body.block);
    let forward_leftovers = forward.recycle_leftovers(&f.body.block, &f.body.result, f.param_vars);

    let value = match &f.body.result {
        Operand::Var(v) if f.body.vars[*v].binding_refs == 0 => {
            let name = &f.body.vars[*v].name;
            if needs.reads.contains(v) {
                code.copy(*v, quote!(&#name))
            } else {
                quote!(#name)
            }
        }
        other => code.operand_at(other, 0),
    };

    let fn_name = &f.item.sig.ident;
    let vis = &f.item.vis;
    let rules = &code.rules;
    let camel = upper_camel(&fn_name.to_string());
    let grad_ty = format_ident!("{}Grad", camel, span = fn_name.span());
    let tape_ty = format_ident!("{}Tape", camel, span = fn_name.span());
    let ret = &f.sig.ret;

    // Gradient fields, and the shapes kept for parameters whose gradient may be all zeros
    // (a borrowed parameter is passed to the reverse sweep again: its shape is read there).
    let mut fields = Vec::new();
    let mut field_values = Vec::new();
    let mut shapes = Vec::new();
    let mut lent_shapes = Vec::new();
    for (p, &v) in f.sig.params.iter().zip(f.param_vars) {
        if !p.differentiable {
            continue;
        }
        let ident = &p.ident;
        let owned = &p.owned;
        let doc = format!("The gradient with respect to `{ident}`: the same shape as `{ident}`.");
        fields.push(quote!(#[doc = #doc] pub #ident: #owned));
        let var = &f.body.vars[v];
        let d = code.adjoint(v);
        let value = if var.active() && needs.reached.contains(&v) {
            quote!(#rules::finish_reached(#d))
        } else {
            let shape = if is_lent(p) {
                // Read before the sweep, which may give the value back.
                let name = format_ident!("__ad_shape_{}", ident);
                lent_shapes.push(quote!(let #name = #rules::shape_of(#ident);));
                quote!(#name)
            } else if p.refs >= 1 {
                quote!(#rules::shape_of(#ident))
            } else {
                let name = format_ident!("__ad_shape_{}", ident);
                shapes.push(quote!(let #name = #rules::shape_of(&#ident);));
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
        let flag = format_ident!("__ad_want_{}", p.ident);
        let value = if several {
            quote!(if #flag { #value } else { #rules::unwanted() })
        } else {
            value
        };
        field_values.push(quote!(#ident: #value));
    }

    let params_fwd = params_with_lifetime(f);
    let params: Vec<TokenStream> = f
        .sig
        .params
        .iter()
        .map(|p| {
            let (i, t) = (&p.ident, &p.ty);
            quote!(#i: #t)
        })
        .collect();
    let names: Vec<&syn::Ident> = f.sig.params.iter().map(|p| &p.ident).collect();
    // Borrowed parameters are not captured by the reverse sweep but passed to it, so that a
    // tape never borrows from a caller's temporary.
    let borrowed: Vec<&crate::signature::Param> =
        f.sig.params.iter().filter(|p| p.refs >= 1).collect();
    let borrowed_names: Vec<&syn::Ident> = borrowed.iter().map(|p| &p.ident).collect();
    let Borrowed {
        tys: borrowed_tys,
        closure_params,
        unlend,
        tape_args,
        adapter_params,
        adapter_args,
        lend_lifetime,
    } = Borrowed::of(&borrowed, rules);
    let borrowed_fields: Vec<TokenStream> = params_fwd
        .iter()
        .zip(&f.sig.params)
        .filter(|(_, p)| p.refs >= 1)
        .map(|(t, _)| t.clone())
        .collect();
    let seed = if names.iter().any(|n| *n == "seed") {
        format_ident!("__ad_seed_in")
    } else {
        format_ident!("seed")
    };
    // A caller reaches these through the path of the function itself: `m::f` names the
    // struct `f` below (brought along by `use m::f`), or, when a module `f` shadows it (the
    // `mod f; pub use f::*;` layout), the module, which holds the free functions.
    let adapter_fwd = crate::code::adapter(fn_name, "fwd");
    let adapter_bwd = crate::code::adapter(fn_name, "bwd");
    let fwd = format_ident!("{}_fwd", fn_name);
    let bwd = format_ident!("{}_bwd", fn_name);
    let vjp = format_ident!("{}_vjp", fn_name);
    let grad = format_ident!("{}_grad", fn_name);
    let param_count = proc_macro2::Literal::usize_unsuffixed(f.sig.params.len());
    let reverse_fn =
        quote!(::core::ops::FnOnce(#ret, [bool; #param_count] #(, #borrowed_tys)*) -> #grad_ty);
    let closure_ty = quote!(impl #reverse_fn + use<>);
    let allow = quote!(#[allow(unused_mut, unused_variables, unused_parens, dead_code, non_snake_case, clippy::all)]);

    let fn_link = format!("[`{fn_name}`]({fn_name}())");
    let grad_doc = format!("The gradient of {fn_link}: one field per differentiable parameter, each of that parameter's shape.");
    let tape_doc = format!("What the reverse sweep of {fn_link} needs, saved by [`{fwd}`]({fwd}()): consumed by [`{bwd}`]({bwd}()).");
    let fwd_doc = format!("The forward sweep of {fn_link}: its value and the tape that [`{bwd}`]({bwd}()) turns into the gradient.");
    let bwd_doc = format!("The reverse sweep of {fn_link}: the vector-Jacobian product of `seed` (the shape of the result) from the tape of [`{fwd}`]({fwd}()).");
    let vjp_doc = format!("The value of {fn_link} and its vector-Jacobian product with `seed`, which has the shape of the result.");
    let grad_fn_doc = format!("The value of {fn_link} and its gradient.");
    let adapter_doc = format!("How other differentiated functions call {fn_link}.");

    let grad_fn = f.sig.scalar_result.then(|| {
        quote! {
            #[doc = #grad_fn_doc]
            #[inline]
            #allow
            #vis fn #grad(#(#params),*) -> (#ret, #grad_ty) {
                #vjp(#(#names,)* 1.0)
            }
        }
    });

    let positional = f.sig.params.iter().map(|p| {
        let ident = &p.ident;
        if p.differentiable {
            quote!(__ad_grad.#ident)
        } else {
            quote!(#rules::NoGrad)
        }
    });
    let positional_ty: Vec<TokenStream> = f
        .sig
        .params
        .iter()
        .map(|p| {
            let owned = &p.owned;
            if p.differentiable {
                quote!(#owned)
            } else {
                quote!(#rules::NoGrad)
            }
        })
        .collect();
    let item = f.item;

    // Spanned at the function's name: an item the attribute cannot go on (a method in an
    // `impl`) is reported there, on the user's code.
    Ok(quote_spanned! {crate::rename::at(fn_name.span())=>
        #item

        // The function counts as used even when only its gradient is called.
        const _: () = {
            let _ = #fn_name;
        };

        #[doc = #grad_doc]
        #[derive(Debug, Clone, PartialEq)]
        #vis struct #grad_ty {
            #(#fields,)*
        }

        #[doc = #tape_doc]
        #[allow(dead_code)]
        #vis struct #tape_ty<'__ad, __AdReverse> {
            reverse: __AdReverse,
            #(#borrowed_fields,)*
            borrows: ::core::marker::PhantomData<&'__ad ()>,
        }

        #[doc = #fwd_doc]
        #[inline]
        #allow
        #vis fn #fwd<'__ad>(#(#params_fwd),*) -> (#ret, #tape_ty<'__ad, #closure_ty>) {
            #(#shapes)*
            #forward_body
            let __ad_value = #value;
            #forward_leftovers
            let reverse = move |__ad_seed: #ret, __ad_wanted: [bool; #param_count] #(, #closure_params)*| -> #grad_ty {
                // Which gradients the caller asked for (all, unless another differentiated
                // function calls this one with constants).
                let [#(#flags),*] = __ad_wanted;
                #(#unlend)*
                #(#lent_shapes)*
                #sweep
                #grad_ty { #(#field_values,)* }
            };
            (__ad_value, #tape_ty { reverse, #(#borrowed_names,)* borrows: ::core::marker::PhantomData })
        }

        #[doc = #bwd_doc]
        #[inline]
        #allow
        #vis fn #bwd<'__ad, __AdReverse: #reverse_fn>(tape: #tape_ty<'__ad, __AdReverse>, seed: #ret) -> #grad_ty {
            (tape.reverse)(seed, [true; #param_count] #(, #tape_args)*)
        }

        #[doc = #vjp_doc]
        #[inline]
        #allow
        #vis fn #vjp(#(#params,)* #seed: #ret) -> (#ret, #grad_ty) {
            let (value, tape) = #fwd(#(#names),*);
            (value, #bwd(tape, #seed))
        }

        #grad_fn

        #[doc = #fwd_doc]
        #[doc(hidden)]
        #[inline]
        #allow
        #vis fn #adapter_fwd(#(#params),*) -> (#ret, #closure_ty) {
            let (value, tape) = #fwd(#(#names),*);
            (value, tape.reverse)
        }

        #[doc = #bwd_doc]
        #[doc(hidden)]
        #[inline]
        #allow
        #vis fn #adapter_bwd<#lend_lifetime __AdReverse: #reverse_fn>(reverse: __AdReverse, seed: #ret, wanted: [bool; #param_count] #(, #adapter_params)*) -> (#(#positional_ty,)*) {
            let __ad_grad = reverse(seed, wanted #(, #adapter_args)*);
            (#(#positional,)*)
        }

        #[doc = #adapter_doc]
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #fn_name {}

        #allow
        impl #fn_name {
            #[doc = #fwd_doc]
            #[doc(hidden)]
            #[inline]
            #vis fn #adapter_fwd(#(#params),*) -> (#ret, #closure_ty) {
                #adapter_fwd(#(#names),*)
            }

            #[doc = #bwd_doc]
            #[doc(hidden)]
            #[inline]
            #vis fn #adapter_bwd<#lend_lifetime __AdReverse: #reverse_fn>(reverse: __AdReverse, seed: #ret, wanted: [bool; #param_count] #(, #adapter_params)*) -> (#(#positional_ty,)*) {
                #adapter_bwd(reverse, seed, wanted #(, #borrowed_names)*)
            }
        }
    })
}

/// The borrowed parameters as each generated item takes or passes them: the reverse sweep
/// takes a differentiable one as a `Lent` (a caller whose own sweep reads the argument no
/// more gives it, and it goes back to the pool after the sweep's last read of it).
struct Borrowed {
    /// The types the reverse sweep takes.
    tys: Vec<TokenStream>,
    /// The reverse closure's parameters.
    closure_params: Vec<TokenStream>,
    /// `let x: &T = &*__ad_lent_x;` for each `Lent` one: the plain references the sweep reads.
    unlend: Vec<TokenStream>,
    /// What `NAME_bwd` passes from the tape.
    tape_args: Vec<TokenStream>,
    /// The adapter's parameters, and what it passes on.
    adapter_params: Vec<TokenStream>,
    adapter_args: Vec<TokenStream>,
    /// `'__ad_lend,` when an adapter parameter needs it.
    lend_lifetime: Option<TokenStream>,
}

impl Borrowed {
    fn of(borrowed: &[&crate::signature::Param], rules: &TokenStream) -> Borrowed {
        // As the reverse sweep takes them: a `Lent` for a differentiable one, the type as written
        // otherwise.
        let borrowed_tys: Vec<TokenStream> = borrowed
            .iter()
            .map(|p| {
                let (ty, owned) = (&p.ty, &p.owned);
                if is_lent(p) {
                    quote!(#rules::Lent<'_, #owned>)
                } else {
                    quote!(#ty)
                }
            })
            .collect();
        // The reverse closure's parameters, and the plain references its body reads them as.
        let closure_params: Vec<TokenStream> = borrowed
            .iter()
            .zip(&borrowed_tys)
            .map(|(p, ty)| {
                let name = if is_lent(p) {
                    lent_name(&p.ident)
                } else {
                    p.ident.clone()
                };
                quote!(#name: #ty)
            })
            .collect();
        let unlend: Vec<TokenStream> = borrowed
            .iter()
            .filter(|p| is_lent(p))
            .map(|p| {
                let (name, lent, owned) = (&p.ident, lent_name(&p.ident), &p.owned);
                quote!(let #name: &#owned = &*#lent;)
            })
            .collect();
        // What `NAME_bwd` passes from the tape, and what the adapter takes and passes on.
        let tape_args: Vec<TokenStream> = borrowed
            .iter()
            .map(|p| {
                let name = &p.ident;
                if is_lent(p) {
                    quote!(#rules::Lent::Borrowed(tape.#name))
                } else {
                    quote!(tape.#name)
                }
            })
            .collect();
        // The adapter takes any argument that borrows as a scalar or matrix parameter, or a
        // `Lent` one (only a differentiable parameter is given one, but the caller cannot tell
        // which are: passing a differentiable value to another parameter is an error of its own).
        let adapter_params: Vec<TokenStream> = borrowed
            .iter()
            .map(|p| {
                let (name, ty, owned) = (&p.ident, &p.ty, &p.owned);
                if p.refs == 1 && p.value_type {
                    quote!(#name: impl #rules::Lend<'__ad_lend, #owned>)
                } else {
                    quote!(#name: #ty)
                }
            })
            .collect();
        let lend_lifetime = borrowed
            .iter()
            .any(|p| p.refs == 1 && p.value_type)
            .then(|| quote!('__ad_lend,));
        let adapter_args: Vec<TokenStream> = borrowed
            .iter()
            .map(|p| {
                let name = &p.ident;
                if is_lent(p) {
                    quote!(#rules::Lend::lend(#name))
                } else if p.refs == 1 && p.value_type {
                    quote!(&*#rules::Lend::lend(#name))
                } else {
                    quote!(#name)
                }
            })
            .collect();
        Borrowed {
            tys: borrowed_tys,
            closure_params,
            unlend,
            tape_args,
            adapter_params,
            adapter_args,
            lend_lifetime,
        }
    }
}

/// Whether the reverse sweep takes `p` as a `Lent` (a borrowed differentiable parameter,
/// which a caller may give instead of lending).
fn is_lent(p: &crate::signature::Param) -> bool {
    p.refs == 1 && p.differentiable
}

/// The reverse closure's own name for the `Lent` parameter `x`: `__ad_lent_x`.
fn lent_name(ident: &syn::Ident) -> syn::Ident {
    let name = ident.to_string();
    format_ident!("__ad_lent_{}", name.strip_prefix("r#").unwrap_or(&name))
}

/// The parameters with every elided lifetime named `'__ad`, the lifetime of the tape.
fn params_with_lifetime(f: &Function) -> Vec<TokenStream> {
    struct Name;
    impl VisitMut for Name {
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.lifetime.is_none() {
                r.lifetime = Some(syn::Lifetime::new("'__ad", proc_macro2::Span::call_site()));
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            if l.ident == "_" {
                *l = syn::Lifetime::new("'__ad", l.span());
            }
        }
    }
    f.sig
        .params
        .iter()
        .map(|p| {
            let mut ty = p.ty.clone();
            Name.visit_type_mut(&mut ty);
            let ident = &p.ident;
            quote!(#ident: #ty)
        })
        .collect()
}

/// Rejects a borrow of part of a value (`&labels[..2]`, `&p.w`, `&ws[0]`) that the reverse
/// sweep reads: the sweep outlives the forward sweep's locals and may not borrow from its
/// caller beyond the parameters, so it cannot keep such a reference.
fn kept_borrows(body: &Body, reads: &std::collections::HashSet<VarId>) -> syn::Result<()> {
    let mut error: Option<syn::Error> = None;
    crate::analyse::for_each_let(&body.block, &mut |var, expr, _| {
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
