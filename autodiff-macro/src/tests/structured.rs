//! Structured parameters and collections on unusual input: the macro never panics, its
//! expansion is items, and each rejection is one spanned error that names the construct.

use crate::expand::expand;
use proc_macro2::TokenStream;
use quote::quote;

/// The expansion of `item`, which must be a file of items; its `compile_error!` messages.
fn errors_of(attr: TokenStream, item: TokenStream) -> Vec<String> {
    let tokens = expand(attr, item);
    let file: syn::File = match syn::parse2(tokens) {
        Ok(file) => file,
        Err(e) => panic!("the expansion is not a file of items: {e}"),
    };
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "compile_error") =>
            {
                syn::parse2::<syn::LitStr>(m.mac.tokens.clone())
                    .ok()
                    .map(|l| l.value())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn accepted_forms_expand_without_errors() {
    let accepted = [
        quote!(
            fn f(p: &Model, x: &DMatrix<f64>) -> f64 {
                (x * &p.w).sum() + p.inner.s
            }
        ),
        quote!(
            fn f(ws: &[DMatrix<f64>]) -> f64 {
                let mut t = 0.0;
                for (_, w) in ws.iter().enumerate() {
                    t += w.sum();
                }
                t
            }
        ),
        quote!(
            fn f(p: &Model) -> f64 {
                let mut t = 0.0;
                for w in &p.ws {
                    t += w.sum();
                }
                t + p.r#type
            }
        ),
        quote!(
            fn f(ws: Vec<f64>, p: &Model) -> f64 {
                ws[0] * p.v[1] * p.n as f64
            }
        ),
    ];
    for item in accepted {
        assert_eq!(
            errors_of(quote!(), item.clone()),
            Vec::<String>::new(),
            "{item}"
        );
    }
}

#[test]
fn rejected_forms_are_reported_not_panicked() {
    let rejected = [
        (
            quote!(
                fn f(p: &Model) -> f64 {
                    p.0
                }
            ),
            "`p` is a `Parameters` struct",
        ),
        (
            quote!(
                fn f(p: &Model) -> f64 {
                    g(p)
                }
            ),
            "`p` is a `Parameters` struct",
        ),
        (
            quote!(
                fn f(p: &Model) -> f64 {
                    p.norm()
                }
            ),
            "`p` is a `Parameters` struct",
        ),
        (
            quote!(
                fn f(p: &Model) -> f64 {
                    p.layers[0].w.sum()
                }
            ),
            "a field of an element of a `Vec`",
        ),
        (
            quote!(
                fn f(p: &Model) -> f64 {
                    let p = 1.0;
                    p
                }
            ),
            "give this binding another name",
        ),
        (
            quote!(
                fn f(p: &Model) -> f64 {
                    p.a.sum() + p.a.b
                }
            ),
            "is read whole and",
        ),
        (
            quote!(
                fn f(ws: &[f64]) -> f64 {
                    let mut t = 0.0;
                    for ((a, b), w) in ws.iter().enumerate() {
                        t += w;
                    }
                    t
                }
            ),
            "bind the position to a name",
        ),
    ];
    for (item, message) in rejected {
        let errors = errors_of(quote!(), item.clone());
        assert!(
            errors.iter().any(|e| e.contains(message)),
            "{item}: {errors:?}"
        );
    }
}

/// A type named by a raw identifier (`impl r#type`), and a method so named, with and without
/// forward mode: the generated names leave out the `r#` (a name with it is no identifier).
#[test]
fn raw_names_of_a_type_and_its_methods() {
    let errors = errors_of(
        quote!(),
        quote! {
            impl r#type {
                #[differentiate]
                fn score(&self, x: &DMatrix<f64>) -> f64 {
                    (x * &self.w).sum()
                }
                #[differentiate(jvp, hvp)]
                fn r#loop(&self, x: &DMatrix<f64>) -> f64 {
                    let a = self.score(x);
                    Self::sq(a)
                }
                #[differentiate(jvp, hvp)]
                fn sq(v: f64) -> f64 {
                    v * v
                }
            }
        },
    );
    assert!(errors.is_empty(), "{errors:?}");
}
