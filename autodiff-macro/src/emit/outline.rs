//! The generated items as the signature decides them: their names, visibility, parameters,
//! types and doc comments, printed around the two sweeps that the body decides. A function
//! whose signature is valid but whose body is rejected gets the same items around stub
//! sweeps, so that its callers type-check and the body's error is the only one they see.

use crate::generics::Printed;
use crate::method::Owner;
use crate::signature::{Param, Signature};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::visit_mut::VisitMut;

/// The code of the two sweeps, which the body decides; the items around it come from the
/// signature alone.
pub struct Sweeps {
    /// The statements of `NAME_fwd` that compute the result into `__ad_value` (and what the
    /// reverse closure captures).
    pub forward: TokenStream,
    /// The body of the reverse closure: from `__ad_seed`, the flags `__ad_wanted` and the
    /// borrowed parameters, the gradient struct.
    pub reverse: TokenStream,
}

/// The stub sweeps of a function whose body was rejected. They never run: the crate does not
/// compile, the body's error being reported with them. The forward sweep's value is a
/// placeholder of the result's type (not a call of the function, which a parameter of the
/// same name would shadow), and the reverse sweep is never reached.
/// `NAME_graph`'s sweeps (with the nodes and gradients added), and for each differentiable
/// parameter drawn, its node's index.
pub struct GraphSweeps {
    pub sweeps: Sweeps,
    pub gradients: Vec<(syn::Ident, usize)>,
}

pub fn stub_sweeps(sig: &Signature, krate: &TokenStream) -> Sweeps {
    let ret = &sig.ret;
    Sweeps {
        forward: quote!(let __ad_value: #ret = #krate::__private::rules::unwanted();),
        reverse: quote!(::core::unreachable!(
            "#[differentiate] rejected the body of this function"
        )),
    }
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

/// The gradient struct of `fn_name`: `NameGrad`.
pub fn grad_ty(fn_name: &syn::Ident) -> syn::Ident {
    grad_ty_of(None, fn_name)
}

/// The type of a function's adapter: `__AdSweeps_loss`, or for a method, named after its
/// type too, `__AdSweeps_Model_loss`.
pub fn adapter_ty_of(owner: Option<&Owner>, fn_name: &syn::Ident) -> syn::Ident {
    let name = syn::ext::IdentExt::unraw(fn_name).to_string();
    let hidden = match owner {
        Some(o) => format!("{}_{name}", syn::ext::IdentExt::unraw(&o.name)),
        None => name,
    };
    format_ident!("__AdSweeps_{}", hidden, span = fn_name.span())
}

/// The gradient struct of `fn_name`, a method of `owner` when given: `ModelNameGrad`.
pub fn grad_ty_of(owner: Option<&Owner>, fn_name: &syn::Ident) -> syn::Ident {
    format_ident!("{}Grad", camel(owner, fn_name), span = fn_name.span())
}

/// `two_layer_loss` → `TwoLayerLoss`; for a method of `Model`, `ModelTwoLayerLoss`.
fn camel(owner: Option<&Owner>, fn_name: &syn::Ident) -> String {
    let prefix = owner.map_or(String::new(), |o| upper_camel(&o.name.to_string()));
    prefix + &upper_camel(&fn_name.to_string())
}

/// The generated items: for a free function all of them, side by side; for a method, the
/// functions associated to its `impl` (`inner`) and the types the `impl` cannot hold
/// (`outer`), emitted next to it.
pub struct Generated {
    pub inner: TokenStream,
    pub outer: TokenStream,
}

impl quote::ToTokens for Generated {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.inner.to_tokens(tokens);
        self.outer.to_tokens(tokens);
    }
}

/// The names of the generated items.
struct Names {
    grad_ty: syn::Ident,
    tape_ty: syn::Ident,
    fwd: syn::Ident,
    bwd: syn::Ident,
    vjp: syn::Ident,
    grad: syn::Ident,
    /// The adapter's type, whose methods `fwd` and `bwd` other differentiated functions call.
    adapter_ty: syn::Ident,
    /// The adapter's value. A caller reaches it through the path of the function itself:
    /// `m::f` names the struct `f` (brought along by `use m::f`), which has it as an
    /// associated constant, or, when a module `f` shadows the struct (the
    /// `mod f; pub use f::*;` layout), the module, which has it as a constant.
    adapter: syn::Ident,
    /// The trait of the reverse closure (`FnOnce(seed, wanted, borrowed…) -> NameGrad`), so
    /// that the signatures that take or return it name it in one word.
    reverse_trait: syn::Ident,
    /// The tuple of gradients the reverse closure returns, one per parameter in order
    /// (`NoGrad` for a constant): a caller knows the position of each argument, not the name
    /// of the parameter.
    grads_ty: syn::Ident,
    /// How the generated functions call each other: by name, or `Self::` before it for a
    /// method.
    inner_path: TokenStream,
    /// How the adapter, outside a method's `impl`, calls its sweeps: `<Model>::`.
    outer_path: TokenStream,
}

impl Names {
    fn of(fn_name: &syn::Ident, owner: Option<&Owner>) -> Names {
        let camel = camel(owner, fn_name);
        let (inner_path, outer_path) = match owner {
            Some(o) => {
                let ty = &o.ty;
                (quote!(Self::), quote!(<#ty>::))
            }
            None => (TokenStream::new(), TokenStream::new()),
        };
        Names {
            inner_path,
            outer_path,
            grad_ty: grad_ty_of(owner, fn_name),
            tape_ty: format_ident!("{}Tape", camel, span = fn_name.span()),
            fwd: format_ident!("{}_fwd", fn_name),
            bwd: format_ident!("{}_bwd", fn_name),
            vjp: format_ident!("{}_vjp", fn_name),
            grad: format_ident!("{}_grad", fn_name),
            adapter_ty: adapter_ty_of(owner, fn_name),
            adapter: crate::names::adapter(fn_name),
            reverse_trait: format_ident!("__AdReverse{}", camel, span = fn_name.span()),
            grads_ty: format_ident!("__AdGrads{}", camel, span = fn_name.span()),
        }
    }
}

/// The doc comment of each generated item.
struct Docs {
    grad: String,
    tape: String,
    fwd: String,
    bwd: String,
    vjp: String,
    grad_fn: String,
    adapter: String,
}

impl Docs {
    fn of(fn_name: &syn::Ident, n: &Names, owner: Option<&Owner>) -> Docs {
        let fn_link = match owner {
            Some(o) => format!("[`{0}::{fn_name}`]({0}::{fn_name}())", o.name),
            None => format!("[`{fn_name}`]({fn_name}())"),
        };
        // A method's sweeps are linked as `Self::NAME_fwd` from inside its `impl` and
        // `Model::NAME_fwd` from outside it: `Model::` names both.
        let prefix = owner.map_or(String::new(), |o| format!("{}::", o.name));
        let (fwd, bwd) = (format!("{prefix}{}", n.fwd), format!("{prefix}{}", n.bwd));
        Docs {
            grad: format!("The gradient of {fn_link}: one field per differentiable parameter, each of that parameter's shape."),
            tape: format!("What the reverse sweep of {fn_link} needs, saved by [`{fwd}`]({fwd}()): consumed by [`{bwd}`]({bwd}())."),
            fwd: format!("The forward sweep of {fn_link}: its value and the tape that [`{bwd}`]({bwd}()) turns into the gradient."),
            bwd: format!("The reverse sweep of {fn_link}: the vector-Jacobian product of `seed` (the shape of the result) from the tape of [`{fwd}`]({fwd}())."),
            vjp: format!("The value of {fn_link} and its vector-Jacobian product with `seed`, which has the shape of the result."),
            grad_fn: format!("The value of {fn_link} and its gradient."),
            adapter: format!("How other differentiated functions call {fn_link}."),
        }
    }
}

/// The fields of the gradient struct: one per differentiable parameter, of its owned type.
fn fields(sig: &Signature) -> Vec<TokenStream> {
    sig.params
        .iter()
        .filter(|p| p.differentiable)
        .map(|p| {
            let (ident, grad_ty) = (&p.ident, &p.grad_ty);
            let doc = match p.receiver {
                true => "The gradient with respect to `self`: of its type, a field per field."
                    .to_string(),
                false => {
                    format!("The gradient with respect to `{ident}`: the same shape as `{ident}`.")
                }
            };
            quote!(#[doc = #doc] pub #ident: #grad_ty)
        })
        .collect()
}

/// What the reverse sweep gives its caller, one per parameter, as types: the gradient of a
/// differentiable one, `NoGrad` for a constant (a caller knows the position of each argument,
/// not the name of the parameter).
fn positional_types(sig: &Signature, rules: &TokenStream) -> Vec<TokenStream> {
    sig.params
        .iter()
        .map(|p| match p.differentiable {
            true => quote::ToTokens::to_token_stream(&p.grad_ty),
            false => quote!(#rules::NoGrad),
        })
        .collect()
}

/// The gradient struct's values from the reverse sweep's positional gradients: the pattern
/// that binds them (`(_, w)`) and the fields (`w`).
fn positional_pattern(sig: &Signature) -> (Vec<TokenStream>, Vec<&syn::Ident>) {
    let pattern = sig
        .params
        .iter()
        .map(|p| match p.differentiable {
            true => quote::ToTokens::to_token_stream(&p.ident),
            false => quote!(_),
        })
        .collect();
    let fields = sig
        .params
        .iter()
        .filter(|p| p.differentiable)
        .map(|p| &p.ident)
        .collect();
    (pattern, fields)
}

/// The generated items of `item` (whose checked signature is `sig`) around `sweeps`: the
/// function as written, the gradient struct, the tape, `NAME_fwd`, `NAME_bwd`, `NAME_vjp`,
/// `NAME_grad` where the result is a scalar, and the hidden adapter for other
/// differentiated functions.
pub fn items(
    item: &syn::ItemFn,
    sig: &Signature,
    krate: &TokenStream,
    sweeps: &Sweeps,
    graph: Option<&GraphSweeps>,
) -> Generated {
    let outline = Outline::new(item, sig, krate);
    let fn_name = &item.sig.ident;
    let types = outline.types();
    let sweep_fns = outline.sweep_fns(sweeps);
    let graph_fns = graph.map(|g| outline.graph_fns(g, krate));
    let (adapter, reached) = outline.adapters();
    let Some(owner) = &sig.owner else {
        // Spanned at the function's name: an item the attribute cannot go on (an associated
        // function in an `impl` without the attribute) is reported there, on the user's code.
        let inner = quote_spanned! {outline.span=>
            #item

            #types
            #sweep_fns
            #graph_fns
            #adapter
            #reached
        };
        return Generated {
            inner,
            outer: TokenStream::new(),
        };
    };
    let ty = &owner.ty;
    Generated {
        inner: quote_spanned! {outline.span=>
            #item
            #sweep_fns
            #graph_fns
            #reached
        },
        outer: quote_spanned! {outline.span=>
            // The method counts as used even when only its gradient is called.
            const _: () = {
                let _ = <#ty>::#fn_name;
            };

            #types
            #adapter
        },
    }
}

/// What the generated items are made of, from the signature.
struct Outline<'a> {
    fn_name: &'a syn::Ident,
    sig: &'a Signature,
    vis: &'a syn::Visibility,
    span: proc_macro2::Span,
    rules: TokenStream,
    names: Names,
    docs: Docs,
    params: Params,
    borrowed: Borrowed,
    /// `FnOnce(seed, wanted, borrowed…) -> (gradients…)`: what the reverse closure is.
    reverse_fn: TokenStream,
    /// `impl __AdReverseF + use<>`: the reverse closure as a signature names it.
    closure_ty: TokenStream,
    /// `#[allow(…)]` for the lints generated code may trip (an unused binding, `mut` or
    /// import, parentheses kept for precedence, an item only another function calls).
    allow: TokenStream,
    /// The generics of the items, for a function generic over its scalar.
    generics: Printed,
    /// `NameGrad<T>`, or `NameGrad`: the gradient struct as a type.
    grad: TokenStream,
}

impl<'a> Outline<'a> {
    fn new(item: &'a syn::ItemFn, sig: &'a Signature, krate: &TokenStream) -> Self {
        let fn_name = &item.sig.ident;
        let rules = quote!(#krate::__private::rules);
        let owner = sig.owner.as_ref();
        let names = Names::of(fn_name, owner);
        let docs = Docs::of(fn_name, &names, owner);
        let params = Params::of(sig);
        let borrowed = Borrowed::of(sig, &rules);
        let (ret, grad_ty, reverse_trait) = (&sig.ret, &names.grad_ty, &names.reverse_trait);
        let (count, tys) = (&params.count, &borrowed.tys);
        let generics = Printed::of(sig.generics.as_ref(), krate);
        let (args, captures) = (&generics.args, &generics.captures);
        let grad = quote!(#grad_ty #args);
        let grads_ty = &names.grads_ty;
        Outline {
            reverse_fn: quote!(::core::ops::FnOnce(#ret, [bool; #count] #(, #tys)*) -> #grads_ty #args),
            closure_ty: quote!(impl #reverse_trait #args + use<#captures>),
            generics,
            grad,
            allow: quote!(#[allow(unused, non_snake_case, clippy::all)]),
            fn_name,
            sig,
            vis: &item.vis,
            span: crate::rename::at(fn_name.span()),
            rules,
            names,
            docs,
            params,
            borrowed,
        }
    }

    /// The gradient struct, the trait of the reverse closure, and the tape.
    fn types(&self) -> TokenStream {
        let Outline {
            vis,
            names,
            docs,
            reverse_fn,
            ..
        } = self;
        let (grad_ty, tape_ty, reverse_trait) =
            (&names.grad_ty, &names.tape_ty, &names.reverse_trait);
        let (grad_doc, tape_doc) = (&docs.grad, &docs.tape);
        let Printed {
            decl,
            args,
            where_clause,
            ..
        } = &self.generics;
        let params_after = self.generics.params_after();
        let fields = fields(self.sig);
        let borrowed_fields = &self.params.borrowed_fields;
        // The tape's lifetime is that of its borrowed parameters; without one, a marker holds it.
        let phantom = borrowed_fields
            .is_empty()
            .then(|| quote!(::core::marker::PhantomData<&'__ad ()>,));
        let (scalar, _) = self.generics.marker();
        let grads_ty = &names.grads_ty;
        let positional = positional_types(self.sig, &self.rules);
        quote_spanned! {self.span=>
            #[doc = #grad_doc]
            #[derive(Debug, Clone, PartialEq)]
            #vis struct #grad_ty #decl #where_clause {
                #(#fields,)*
            }

            type #grads_ty #args = (#(#positional,)*);
            #[doc(hidden)]
            #vis trait #reverse_trait #decl: #reverse_fn #where_clause {}
            impl<#params_after __AdF: #reverse_fn> #reverse_trait #args for __AdF #where_clause {}

            #[doc = #tape_doc]
            #[allow(dead_code)]
            #vis struct #tape_ty<'__ad, #params_after __AdReverse>(__AdReverse, #(#borrowed_fields,)* #phantom #scalar) #where_clause;
        }
    }

    /// `NAME_fwd` around the sweeps, `NAME_bwd`, `NAME_vjp` and `NAME_grad`.
    fn sweep_fns(&self, sweeps: &Sweeps) -> TokenStream {
        let fwd_doc = &self.docs.fwd;
        let fwd_fn = self.fwd_fn(quote!(#[doc = #fwd_doc]), &self.names.fwd, None, sweeps);
        let (bwd_fn, vjp_fn, grad_fn) = (self.bwd_fn(), self.vjp_fn(), self.grad_fn());
        quote_spanned! {self.span=>
            #fwd_fn

            #bwd_fn

            #vjp_fn

            #grad_fn
        }
    }

    /// `NAME_bwd`: the tape's reverse closure run with the seed, its gradients gathered into
    /// the gradient struct.
    fn bwd_fn(&self) -> TokenStream {
        let Outline {
            vis, names, allow, ..
        } = self;
        let Names {
            tape_ty,
            bwd,
            reverse_trait,
            ..
        } = names;
        let grad_ty = &self.grad;
        let Printed {
            args: generic_args,
            where_clause,
            ..
        } = &self.generics;
        let (params_after, captures_after) =
            (self.generics.params_after(), self.generics.captures_after());
        let ret = &self.sig.ret;
        let count = &self.params.count;
        let tape_args = &self.borrowed.tape_args;
        let (pattern, fields) = positional_pattern(self.sig);
        let (grad_name, bwd_doc) = (&names.grad_ty, &self.docs.bwd);
        quote_spanned! {self.span=>
            #[doc = #bwd_doc]
            #[inline]
            #allow
            #vis fn #bwd<'__ad, #params_after __AdReverse: #reverse_trait #generic_args>(tape: #tape_ty<'__ad, #captures_after __AdReverse>, seed: #ret) -> #grad_ty #where_clause {
                let (#(#pattern,)*) = (tape.0)(seed, [true; #count] #(, #tape_args)*);
                #grad_name { #(#fields),* }
            }
        }
    }

    /// `NAME_vjp`: `NAME_fwd`, then `NAME_bwd` with the given seed.
    fn vjp_fn(&self) -> TokenStream {
        let Outline {
            vis, names, allow, ..
        } = self;
        let Names { fwd, bwd, vjp, .. } = names;
        let grad_ty = &self.grad;
        let Printed {
            decl, where_clause, ..
        } = &self.generics;
        let ret = &self.sig.ret;
        let Params {
            typed: params,
            names: args,
            seed,
            ..
        } = &self.params;
        let (vjp_doc, path) = (&self.docs.vjp, &names.inner_path);
        quote_spanned! {self.span=>
            #[doc = #vjp_doc]
            #[inline]
            #allow
            #vis fn #vjp #decl (#(#params,)* #seed: #ret) -> (#ret, #grad_ty) #where_clause {
                let (value, tape) = #path #fwd(#(#args),*);
                (value, #path #bwd(tape, #seed))
            }
        }
    }

    /// A forward sweep as a function named `name` (`NAME_fwd`, or `NAME_graph`'s own, which
    /// takes one more parameter): the sweep, then the reverse closure in the tape.
    fn fwd_fn(
        &self,
        doc: TokenStream,
        name: &syn::Ident,
        extra_param: Option<TokenStream>,
        sweeps: &Sweeps,
    ) -> TokenStream {
        let Outline {
            vis,
            names,
            allow,
            closure_ty,
            ..
        } = self;
        let Names { tape_ty, .. } = names;
        let where_clause = &self.generics.where_clause;
        let (params_after, captures_after) =
            (self.generics.params_after(), self.generics.captures_after());
        let used = self.mark_used();
        let ret = &self.sig.ret;
        let Params {
            with_lifetime: params,
            borrowed_names,
            count,
            ..
        } = &self.params;
        let closure_params = &self.borrowed.closure_params;
        let Sweeps { forward, reverse } = sweeps;
        let receiver = self.receiver_binding();
        let phantom = borrowed_names
            .is_empty()
            .then(|| quote!(::core::marker::PhantomData,));
        let (_, scalar) = self.generics.marker();
        quote_spanned! {self.span=>
            #doc
            #[inline]
            #allow
            #vis fn #name<'__ad, #params_after>(#(#params,)* #extra_param) -> (#ret, #tape_ty<'__ad, #captures_after #closure_ty>) #where_clause {
                #receiver
                #used
                #forward
                let reverse = move |__ad_seed: #ret, __ad_wanted: [bool; #count] #(, #closure_params)*| {
                    #reverse
                };
                (__ad_value, #tape_ty(reverse, #(#borrowed_names,)* #phantom #scalar))
            }
        }
    }

    /// `let _ = NAME;` (with its generic arguments): a free function counts as used where its
    /// forward sweep is (when only its gradient is called), unless a parameter of the same
    /// name shadows it; none for a method, used by a constant next to its `impl` (`items`).
    fn mark_used(&self) -> Option<TokenStream> {
        let fn_name = self.fn_name;
        let shadowed = self.sig.params.iter().any(|p| p.ident == *fn_name);
        let captures = &self.generics.captures;
        (self.sig.owner.is_none() && !shadowed).then(|| match self.sig.generics {
            Some(_) => quote!(let _ = #fn_name::<#captures>;),
            None => quote!(let _ = #fn_name;),
        })
    }

    /// `let self_ = self;` for a method: its sweeps name its receiver `self_`, the field of
    /// its gradient. None for a free function or a method without a receiver.
    fn receiver_binding(&self) -> Option<TokenStream> {
        self.sig.owner.as_ref()?;
        let receiver = self.sig.params.iter().find(|p| p.receiver)?;
        let ident = &receiver.ident;
        Some(quote!(let #ident = self;))
    }

    /// `NAME_graph`: the forward sweep with a node added after each value, the reverse
    /// sweep with each value's gradient given to its node, run with the seed 1 (a hidden
    /// `NAME_fwd` of its own fills the graph, `NAME_bwd` runs its reverse closure).
    fn graph_fns(&self, graph: &GraphSweeps, krate: &TokenStream) -> TokenStream {
        let Outline {
            vis,
            names,
            allow,
            fn_name,
            ..
        } = self;
        let Params {
            typed: params,
            names: args,
            ..
        } = &self.params;
        let (graph_fn, graph_fwd) = (
            format_ident!("{}_graph", fn_name),
            format_ident!("__ad_graph_fwd_{}", fn_name),
        );
        let builder = quote!(__ad_graph: #krate::__private::GraphBuilder);
        let fwd_fn = self.fwd_fn(
            quote!(#[doc(hidden)]),
            &graph_fwd,
            Some(builder),
            &graph.sweeps,
        );
        let (bwd, path) = (&names.bwd, &names.inner_path);
        let label = fn_name.to_string();
        let gradients = graph
            .gradients
            .iter()
            .map(|(ident, node)| quote!(__ad_graph.gradient(#node, &__ad_grad.#ident);));
        let doc = format!("The computational graph of [`{fn_name}`]({fn_name}()) at these arguments: each input and operation with its value and the gradient of the result with respect to it, computed by the same sweeps as its gradient. Draw it with `to_svg`, `write_svg` or `to_dot`.");
        quote_spanned! {self.span=>
            #fwd_fn

            #[doc = #doc]
            #allow
            #vis fn #graph_fn(#(#params),*) -> #krate::graph::Graph {
                let __ad_graph = #krate::__private::GraphBuilder::new(#label);
                let (_, tape) = #path #graph_fwd(#(#args,)* __ad_graph.clone());
                let __ad_grad = #path #bwd(tape, 1.0);
                #(#gradients)*
                __ad_graph.finish()
            }
        }
    }

    /// `NAME_grad`, where the result is a scalar: `NAME_vjp` with the seed 1.
    fn grad_fn(&self) -> Option<TokenStream> {
        let Outline {
            vis,
            names,
            docs,
            allow,
            ..
        } = self;
        let Names {
            vjp, inner_path, ..
        } = names;
        let (grad_ty, decl, where_clause) =
            (&self.grad, &self.generics.decl, &self.generics.where_clause);
        let ret = &self.sig.ret;
        let Params {
            typed: params,
            names: args,
            ..
        } = &self.params;
        let rules = &self.rules;
        let one = match &self.sig.generics {
            Some(_) => quote!(#rules::one()),
            None => quote!(1.0),
        };
        self.sig.scalar_result.then(|| {
            let (grad, grad_fn_doc) = (&names.grad, &docs.grad_fn);
            quote_spanned! {self.span=>
                #[doc = #grad_fn_doc]
                #[inline]
                #allow
                #vis fn #grad #decl (#(#params),*) -> (#ret, #grad_ty) #where_clause {
                    #inner_path #vjp(#(#args,)* #one)
                }
            }
        })
    }

    /// The hidden adapter through which other differentiated functions call this one: a value
    /// whose methods run the sweeps (`fwd`, and `bwd` with the flags of the gradients wanted
    /// and the borrowed arguments lent or given); and, for a method, the associated constant
    /// that reaches it.
    fn adapters(&self) -> (TokenStream, TokenStream) {
        let fns = self.adapter_fns();
        match self.sig.owner {
            None => (self.free_fn_adapter(fns), TokenStream::new()),
            Some(_) => self.method_adapter(fns),
        }
    }

    /// The adapter's method `fwd`, which returns the value and the reverse sweep callers
    /// run: `tape_y(seed, wanted, args…)`.
    fn adapter_fns(&self) -> TokenStream {
        let Outline {
            vis,
            names,
            docs,
            closure_ty,
            ..
        } = self;
        let Names {
            fwd, outer_path, ..
        } = names;
        let ret = &self.sig.ret;
        let Params {
            outer_typed: params,
            outer_names: args,
            ..
        } = &self.params;
        let fwd_doc = &docs.fwd;
        let Printed {
            decl, where_clause, ..
        } = &self.generics;
        quote_spanned! {self.span=>
            #[doc = #fwd_doc]
            #[inline]
            #vis fn fwd #decl (self, #(#params),*) -> (#ret, #closure_ty) #where_clause {
                let (value, tape) = #outer_path #fwd(#(#args),*);
                (value, tape.0)
            }
        }
    }

    /// A free function's adapter: the struct named like it, reached through a constant of
    /// the same name both next to it and in it: `m::f::__ad_sweeps_f` finds one whether
    /// `m::f` names the struct or a module `f` that holds the function.
    fn free_fn_adapter(&self, fns: TokenStream) -> TokenStream {
        let (vis, adapter, ty) = (self.vis, &self.names.adapter, self.fn_name);
        quote_spanned! {self.span=>
            #[doc(hidden)]
            #[allow(non_camel_case_types, dead_code)]
            #vis struct #ty {}

            #[doc(hidden)]
            #[allow(non_upper_case_globals)]
            #vis const #adapter: #ty = #ty {};

            #[allow(unused, non_snake_case, non_upper_case_globals, clippy::all)]
            impl #ty {
                #[doc(hidden)]
                #vis const #adapter: #ty = #ty {};

                #fns
            }
        }
    }

    /// A method's adapter, a unit struct, and the associated constant of its type that
    /// reaches it (`Self::__ad_sweeps_loss`, `Model::__ad_sweeps_loss`).
    fn method_adapter(&self, fns: TokenStream) -> (TokenStream, TokenStream) {
        let Outline {
            vis, names, allow, ..
        } = self;
        let (adapter, adapter_ty, adapter_doc) =
            (&names.adapter, &names.adapter_ty, &self.docs.adapter);
        let items = quote_spanned! {self.span=>
            #[doc = #adapter_doc]
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis struct #adapter_ty;

            #allow
            impl #adapter_ty {
                #fns
            }
        };
        let reached = quote_spanned! {self.span=>
            #[doc = #adapter_doc]
            #[doc(hidden)]
            #[allow(non_upper_case_globals)]
            #vis const #adapter: #adapter_ty = #adapter_ty;
        };
        (items, reached)
    }
}

/// The parameters as the generated items take and pass them.
struct Params {
    /// `x: T`, as written.
    typed: Vec<TokenStream>,
    /// `x: T` with every elided lifetime named `'__ad`, the lifetime of the tape.
    with_lifetime: Vec<TokenStream>,
    names: Vec<syn::Ident>,
    /// The borrowed parameters, which are not captured by the reverse sweep but passed to it,
    /// so that a tape never borrows from a caller's temporary: their names, and their fields
    /// in the tape.
    borrowed_names: Vec<syn::Ident>,
    borrowed_fields: Vec<syn::Type>,
    /// The name of `NAME_vjp`'s seed, which a parameter `seed` pushes aside.
    seed: syn::Ident,
    count: proc_macro2::Literal,
    /// `typed` and `names` outside a method's `impl`, where its receiver is `self_: &Model`.
    outer_typed: Vec<TokenStream>,
    outer_names: Vec<syn::Ident>,
}

impl Params {
    fn of(sig: &Signature) -> Params {
        let outer_typed: Vec<TokenStream> = sig
            .params
            .iter()
            .map(|p| {
                let (i, t) = (&p.ident, &p.ty);
                quote!(#i: #t)
            })
            .collect();
        let outer_names: Vec<syn::Ident> = sig.params.iter().map(|p| p.ident.clone()).collect();
        // A method's own items take its receiver as `&self`.
        let receiver = |p: &Param, other: &TokenStream, lifetime: TokenStream| match p.receiver {
            true => quote!(&#lifetime self),
            false => other.clone(),
        };
        let typed = sig
            .params
            .iter()
            .zip(&outer_typed)
            .map(|(p, t)| receiver(p, t, TokenStream::new()))
            .collect();
        let with_lifetime: Vec<TokenStream> = params_with_lifetime(sig);
        let with_lifetime_self = sig
            .params
            .iter()
            .zip(&with_lifetime)
            .map(|(p, t)| receiver(p, t, quote!('__ad)))
            .collect();
        let borrowed_fields = types_with_lifetime(sig)
            .into_iter()
            .zip(&sig.params)
            .filter(|(_, p)| p.refs >= 1)
            .map(|(t, _)| t)
            .collect();
        let names: Vec<syn::Ident> = sig
            .params
            .iter()
            .map(|p| match p.receiver {
                true => syn::Ident::new("self", p.ident.span()),
                false => p.ident.clone(),
            })
            .collect();
        let seed = if names.iter().any(|n| n == "seed") {
            format_ident!("__ad_seed_in")
        } else {
            format_ident!("seed")
        };
        Params {
            typed,
            with_lifetime: with_lifetime_self,
            outer_typed,
            outer_names,
            borrowed_names: borrowed(sig).map(|p| p.ident.clone()).collect(),
            borrowed_fields,
            names,
            seed,
            count: proc_macro2::Literal::usize_unsuffixed(sig.params.len()),
        }
    }
}

/// The parameters taken by reference.
fn borrowed(sig: &Signature) -> impl Iterator<Item = &Param> {
    sig.params.iter().filter(|p| p.refs >= 1)
}

/// The borrowed parameters as each generated item takes or passes them: the reverse sweep
/// takes a scalar or matrix as a `Lent` (a caller whose own sweep reads the argument no more
/// gives it, and a differentiable one goes back to the pool after the sweep's last read of it).
struct Borrowed {
    /// The types the reverse sweep takes.
    tys: Vec<TokenStream>,
    /// The reverse closure's parameters.
    closure_params: Vec<TokenStream>,
    /// What `NAME_bwd` passes from the tape (`tape.1`, `tape.2.into()`).
    tape_args: Vec<TokenStream>,
}

impl Borrowed {
    fn of(sig: &Signature, rules: &TokenStream) -> Borrowed {
        let borrowed: Vec<&Param> = borrowed(sig).collect();
        let tys: Vec<TokenStream> = borrowed
            .iter()
            .map(|p| {
                let (ty, owned) = (&p.ty, &p.owned);
                if p.passed_as_lent() {
                    quote!(#rules::Lent<'_, #owned>)
                } else {
                    quote!(#ty)
                }
            })
            .collect();
        // The reverse closure's parameters; its body reads a `Lent` one as a plain reference.
        let closure_params: Vec<TokenStream> = borrowed
            .iter()
            .zip(&tys)
            .map(|(p, ty)| {
                let name = if p.passed_as_lent() {
                    lent_name(&p.ident)
                } else {
                    p.ident.clone()
                };
                quote!(#name: #ty)
            })
            .collect();
        let tape_args: Vec<TokenStream> = borrowed
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let field = syn::Index::from(i + 1);
                if p.passed_as_lent() {
                    quote!(tape.#field.into())
                } else {
                    quote!(tape.#field)
                }
            })
            .collect();
        Borrowed {
            tys,
            closure_params,
            tape_args,
        }
    }
}

/// The reverse closure's own name for the `Lent` parameter `x`: `__ad_lent_x`.
pub fn lent_name(ident: &syn::Ident) -> syn::Ident {
    let name = ident.to_string();
    format_ident!("__ad_lent_{}", name.strip_prefix("r#").unwrap_or(&name))
}

/// The parameters with every elided lifetime named `'__ad`, the lifetime of the tape.
fn params_with_lifetime(sig: &Signature) -> Vec<TokenStream> {
    sig.params
        .iter()
        .zip(types_with_lifetime(sig))
        .map(|(p, ty)| {
            let ident = &p.ident;
            quote!(#ident: #ty)
        })
        .collect()
}

/// The parameters' types with every elided lifetime named `'__ad`.
fn types_with_lifetime(sig: &Signature) -> Vec<syn::Type> {
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
    sig.params
        .iter()
        .map(|p| {
            let mut ty = p.ty.clone();
            Name.visit_type_mut(&mut ty);
            ty
        })
        .collect()
}
