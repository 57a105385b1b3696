//! Shared pieces of generated code: names of bindings and adjoint slots, operands as the
//! rules take them, and every path into the runtime, built from one place.

use crate::ir::*;
use crate::names;
use crate::rename;
use proc_macro2::TokenStream;
use quote::quote;

pub struct Code<'a> {
    pub body: &'a Body,
    /// `__ad`: the name the sweeps give the rules (see [`Code::rules_alias`]).
    pub rules: TokenStream,
    /// `::autodiff::__private::rules` (or under the path given by `crate = …`).
    rules_path: TokenStream,
}

impl<'a> Code<'a> {
    pub fn new(body: &'a Body, krate: &TokenStream) -> Self {
        Code {
            body,
            rules: quote!(__ad),
            rules_path: quote!(#krate::__private::rules),
        }
    }

    /// `use ::autodiff::__private::rules as __ad;`, at the top of `NAME_fwd`, whose body holds
    /// both sweeps: each rule is then named `__ad::mul`, which keeps every line of the sweeps
    /// short enough to read.
    pub fn rules_alias(&self) -> TokenStream {
        let path = &self.rules_path;
        quote!(use #path as __ad;)
    }

    pub fn name(&self, v: VarId) -> syn::Ident {
        self.body.vars[v].name.clone()
    }

    /// The adjoint slot of a value.
    pub fn adjoint(&self, v: VarId) -> syn::Ident {
        names::adjoint(&self.body.vars[v].name, self.body.short_names)
    }

    /// An operand as a rule takes it: one reference (`&h`, a `&T` parameter as is, `&2.0`).
    pub fn operand_ref(&self, o: &Operand) -> TokenStream {
        match o {
            Operand::Var(v) => rename::render(&self.body.vars[*v], 1),
            Operand::Lit(tokens) => quote!(&#tokens),
        }
    }

    /// A value as the user's code has it, `refs` references deep. A value below its
    /// binding's depth (an owned copy of a borrowed parameter) is cloned.
    pub fn operand_at(&self, o: &Operand, refs: i32) -> TokenStream {
        match o {
            Operand::Lit(tokens) => tokens.clone(),
            Operand::Var(v) => {
                let var = &self.body.vars[*v];
                if refs < var.binding_refs {
                    self.copy(*v, rename::render(var, refs + 1))
                } else {
                    rename::render(var, refs)
                }
            }
        }
    }

    /// A copy of the value behind the reference `inner` to `v`: in storage from the runtime's
    /// pool when `v` is a differentiable value, by `Clone` otherwise (a constant of any type).
    pub fn copy(&self, v: VarId, inner: TokenStream) -> TokenStream {
        let var = &self.body.vars[v];
        // An element read is copied by the runtime whatever it is: a skipped field's by
        // `Clone`, out of its `Skipped` wrapper.
        if var.is_value() || var.reread.is_some() {
            let rules = &self.rules;
            quote!(#rules::copied(#inner))
        } else {
            quote!(::core::clone::Clone::clone(#inner))
        }
    }

    /// `let w = handle.element_of(ws);` for each element among `vars` that the reverse sweep
    /// borrows again ([`Reread`]), where `has_handle` says its handle is at hand.
    pub fn rereads(&self, vars: &[VarId], has_handle: impl Fn(VarId) -> bool) -> TokenStream {
        vars.iter()
            .filter_map(|&v| Some((v, self.body.vars[v].reread?)))
            .filter(|(_, r)| has_handle(r.handle))
            .map(|(v, r)| {
                let (name, handle) = (self.name(v), self.name(r.handle));
                let source = self.operand_ref(&Operand::Var(r.source));
                quote!(let #name = #handle.element_of(#source);)
            })
            .collect()
    }

    /// A tuple pattern or expression of bindings: `()`, `(a,)`, `(a, b)`.
    pub fn tuple_pattern(&self, vars: &[VarId]) -> TokenStream {
        let names = vars.iter().map(|&v| self.name(v));
        quote!((#(#names,)*))
    }
}

/// `m::f` → `m::f::__ad_sweeps_f.fwd`: a sweep of what `#[differentiate]` generated for `f`,
/// reached through the same path as `f` itself (a `use` of `f` brings it along).
/// A method or an associated function (`Self::f`, `Model::f`: the segment before the name is
/// `Self` or a type, named in UpperCamelCase) is reached through its type:
/// `Self::__ad_sweeps_f.fwd`. The scalar of a generic callee (`g::<T>`) goes to the forward
/// sweep (`g::__ad_sweeps_g.fwd::<T>`); the reverse sweep infers it from its tape.
pub fn callee_item(path: &syn::Path, sweep: &str) -> TokenStream {
    let sweep = syn::Ident::new(sweep, proc_macro2::Span::call_site());
    let mut path = path.clone();
    let Some(mut last) = path.segments.pop().map(syn::punctuated::Pair::into_value) else {
        return quote!(#path);
    };
    let item = crate::names::adapter(&last.ident);
    let turbofish = match std::mem::take(&mut last.arguments) {
        syn::PathArguments::AngleBracketed(mut a) if sweep == "fwd" => {
            a.colon2_token = Some(Default::default());
            Some(a)
        }
        _ => None,
    };
    if path
        .segments
        .last()
        .is_some_and(|owner| names_type(&owner.ident))
    {
        path.segments.pop_punct();
    } else {
        path.segments.push(last);
    }
    quote!(#path::#item.#sweep #turbofish)
}

/// `Self`, or a name in UpperCamelCase: a type rather than a module.
fn names_type(ident: &syn::Ident) -> bool {
    let name = ident.to_string();
    name.chars().next().is_some_and(char::is_uppercase)
}
