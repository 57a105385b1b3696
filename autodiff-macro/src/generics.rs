//! Functions generic over their scalar (`fn f<T: RealField>(x: T, m: &DMatrix<T>) -> T`): the
//! one type parameter the attribute accepts, every other generic parameter rejected, and the
//! generics the generated items carry (the function's own, plus the runtime's scalar bound).

use crate::errors::Errors;
use crate::signature::Generics;
use proc_macro2::TokenStream;
use quote::quote;

/// The traits that make a type parameter the scalar: nalgebra's `RealField`, or the
/// runtime's `RealScalar` or `Real` (which imply it).
const SCALAR_BOUNDS: &[&str] = &["RealField", "RealScalar", "Real"];

/// The function's generics when they are one scalar type parameter (`None` for a function
/// without generics, or when they are rejected: the errors say why).
pub fn check(generics: &syn::Generics, errors: &mut Errors) -> Option<Generics> {
    let before = errors.len();
    let mut scalar: Option<&syn::Ident> = None;
    for param in &generics.params {
        match param {
            syn::GenericParam::Lifetime(l) => errors.push(
                l,
                format!(
                    "lifetime parameters are not supported: leave `{}` out and let the references' \
                     lifetimes be elided (`m: &DMatrix<T>`)",
                    l.lifetime
                ),
            ),
            syn::GenericParam::Const(c) => errors.push(
                c,
                format!(
                    "const generic parameters are not supported: write the dimensions as \
                     literals (`SMatrix<T, 2, 3>`) or use dynamic matrices (`DMatrix<T>`) \
                     instead of `{}`",
                    c.ident
                ),
            ),
            syn::GenericParam::Type(t) if scalar.is_some() => errors.push(
                t,
                format!(
                    "a differentiated function has at most one type parameter, its scalar \
                     (`T: RealField`): write a concrete type instead of `{}`",
                    t.ident
                ),
            ),
            syn::GenericParam::Type(t) => {
                if !bound_by_scalar(t, generics.where_clause.as_ref()) {
                    let name = &t.ident;
                    errors.push(t, format!("the type parameter of a differentiated function is its scalar: bound `{name}` by nalgebra's `RealField` (`{name}: RealField`, in the prelude), or write a concrete type instead of `{name}`"));
                }
                scalar = Some(&t.ident);
            }
        }
    }
    if let Some(w) = &generics.where_clause {
        check_where(w, scalar, errors);
    }
    let scalar = scalar?.clone();
    (errors.len() == before).then(|| Generics {
        scalar,
        written: generics.clone(),
    })
}

/// A `where` clause says more about the scalar (`T: RealField + Copy`); one without a scalar
/// type parameter, or a bound on a lifetime, is rejected.
fn check_where(w: &syn::WhereClause, scalar: Option<&syn::Ident>, errors: &mut Errors) {
    if scalar.is_none() {
        errors.push(w, "a `where` clause is supported only on a function generic over its scalar (`fn f<T>(x: T) -> T where T: RealField`): remove it");
        return;
    }
    for predicate in &w.predicates {
        if let syn::WherePredicate::Lifetime(l) = predicate {
            errors.push(l, "lifetime bounds are not supported: remove this bound");
        }
    }
}

/// Whether `t` is bound by one of [`SCALAR_BOUNDS`], inline or in the `where` clause.
fn bound_by_scalar(t: &syn::TypeParam, where_clause: Option<&syn::WhereClause>) -> bool {
    let scalar_bound = |b: &syn::TypeParamBound| match b {
        syn::TypeParamBound::Trait(tb) => tb
            .path
            .segments
            .last()
            .is_some_and(|s| SCALAR_BOUNDS.iter().any(|n| s.ident == n)),
        _ => false,
    };
    let in_where = where_clause.into_iter().flat_map(|w| &w.predicates);
    t.bounds.iter().any(scalar_bound)
        || in_where.filter_map(type_predicate).any(|p| {
            matches!(&p.bounded_ty, syn::Type::Path(b) if b.qself.is_none() && b.path.is_ident(&t.ident))
                && p.bounds.iter().any(scalar_bound)
        })
}

fn type_predicate(p: &syn::WherePredicate) -> Option<&syn::PredicateType> {
    match p {
        syn::WherePredicate::Type(t) => Some(t),
        _ => None,
    }
}

/// The generics of a generated item: the function's type parameter with its bounds (after
/// `lifetimes`, when given), and the `where` clause with the runtime's scalar bound added.
pub struct Printed {
    /// `T: RealField + Copy`: what goes inside `<…>` of an item's declaration.
    pub params: TokenStream,
    /// `<T: RealField + Copy>`: the generics of an item that has no others.
    pub decl: TokenStream,
    /// `<T>`: the arguments of a generated type.
    pub args: TokenStream,
    /// `T,`: the type parameter, for `use<…>`.
    pub captures: TokenStream,
    /// `where T: RealField + Copy, T: krate::__private::RealScalar`.
    pub where_clause: TokenStream,
}

impl Printed {
    /// The generics of the items of a function that is not generic: none.
    pub fn none() -> Printed {
        Printed {
            params: TokenStream::new(),
            decl: TokenStream::new(),
            args: TokenStream::new(),
            captures: TokenStream::new(),
            where_clause: TokenStream::new(),
        }
    }

    pub fn of(generics: Option<&Generics>, krate: &TokenStream) -> Printed {
        let Some(g) = generics else {
            return Printed::none();
        };
        let t = &g.scalar;
        // The type parameter as written, without a default (which a function cannot have).
        let params = g.written.type_params().map(|p| syn::TypeParam {
            eq_token: None,
            default: None,
            ..p.clone()
        });
        let params = quote!(#(#params),*);
        let predicates = g.written.where_clause.iter().flat_map(|w| &w.predicates);
        Printed {
            decl: quote!(<#params>),
            params,
            args: quote!(<#t>),
            captures: quote!(#t),
            where_clause: quote!(where #(#predicates,)* #t: #krate::__private::RealScalar),
        }
    }

    /// `T: RealField,` for an item's `<…>` after other parameters; empty without generics.
    pub fn params_after(&self) -> TokenStream {
        let params = &self.params;
        if params.is_empty() {
            quote!()
        } else {
            quote!(#params,)
        }
    }

    /// `T,` for a type's arguments after others; empty without generics.
    pub fn captures_after(&self) -> TokenStream {
        let captures = &self.captures;
        if captures.is_empty() {
            quote!()
        } else {
            quote!(#captures,)
        }
    }

    /// The field of a tape that marks the type parameter, which no other field may hold
    /// (`PhantomData<fn() -> T>`), and its value; nothing without generics.
    pub fn marker(&self) -> (TokenStream, TokenStream) {
        let captures = &self.captures;
        if captures.is_empty() {
            return (quote!(), quote!());
        }
        (
            quote!(::core::marker::PhantomData<fn() -> #captures>,),
            quote!(::core::marker::PhantomData,),
        )
    }
}
