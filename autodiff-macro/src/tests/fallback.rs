//! The expansion of a rejected function: with a valid signature, every generated item comes
//! with the error, with the signature the real expansion has; with an invalid signature, the
//! function alone.

use crate::expand::expand;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// The items of an expansion, each with its bodies emptied (a function's block, and the
/// blocks of the functions of an `impl`), as text: what callers see of them.
fn outlines(tokens: TokenStream) -> Vec<String> {
    let file: syn::File = match syn::parse2(tokens) {
        Ok(file) => file,
        Err(e) => panic!("the expansion is not a file of items: {e}"),
    };
    file.items
        .into_iter()
        .map(|mut item| {
            match &mut item {
                syn::Item::Fn(f) => f.block.stmts.clear(),
                syn::Item::Impl(i) => {
                    for member in &mut i.items {
                        if let syn::ImplItem::Fn(f) = member {
                            f.block.stmts.clear();
                        }
                    }
                }
                _ => {}
            }
            item.into_token_stream().to_string()
        })
        .collect()
}

/// Whether an item is a `compile_error!` invocation.
fn is_error(item: &str) -> bool {
    item.starts_with(":: core :: compile_error !") || item.starts_with("compile_error !")
}

/// The same signature with an accepted body and with a rejected one.
fn accepted_and_rejected(attr: TokenStream, sig: TokenStream) -> (Vec<String>, Vec<String>) {
    let accepted = outlines(expand(attr.clone(), quote!(#sig { x * w.sum() })));
    let rejected = outlines(expand(
        attr,
        quote!(#sig { let mut y = x; while let Some(k) = w.get(0) { y = y * w.sum(); } y }),
    ));
    (accepted, rejected)
}

#[test]
fn rejected_body_keeps_every_generated_item() {
    let cases = [
        (
            quote!(),
            quote!(pub fn f(x: f64, w: &DMatrix<f64>, n: usize) -> f64),
        ),
        (
            quote!(wrt(w)),
            quote!(pub(crate) fn two_layers(x: f64, w: DMatrix<f64>, seed: f64) -> DMatrix<f64>),
        ),
        (
            quote!(crate = ::my_autodiff),
            quote!(fn r#type(x: &f32, w: &SMatrix<f32, 2, 3>, labels: &[usize]) -> f32),
        ),
    ];
    for (attr, sig) in cases {
        let (accepted, rejected) = accepted_and_rejected(attr, sig.clone());
        assert!(
            !accepted.iter().any(|i| is_error(i)),
            "{sig}: {accepted:#?}"
        );
        let (errors, items): (Vec<String>, Vec<String>) =
            rejected.into_iter().partition(|i| is_error(i));
        assert_eq!(errors.len(), 1, "{sig}: one error, for the `while let`");
        assert!(
            errors[0].contains("`while let` is not supported"),
            "{errors:?}"
        );
        // The primal is the function as written; every other item is the real one, bodies
        // aside.
        assert_eq!(items.len(), accepted.len(), "{sig}");
        for (stub, real) in items.iter().zip(&accepted).skip(1) {
            assert_eq!(stub, real, "{sig}");
        }
    }
}

#[test]
fn stubs_never_reach_a_sweep() {
    let out = expand(
        quote!(),
        quote!(
            fn f(x: f64) -> f64 {
                let y = x;
                loop {}
            }
        ),
    )
    .to_string();
    assert!(out.contains("unreachable !"), "{out}");
    assert!(out.contains("rules :: unwanted ()"), "{out}");
    assert!(
        !out.contains("let mut d_") && !out.contains("__ad_d_"),
        "no adjoint of the rejected body: {out}"
    );
}

#[test]
fn invalid_signature_gives_the_function_alone() {
    let signatures = [
        quote!(
            fn f(x: &mut f64) -> f64 {
                loop {}
            }
        ),
        quote!(
            fn f(x: f64) {
                loop {}
            }
        ),
        quote!(
            fn f<T>(x: T) -> f64 {
                loop {}
            }
        ),
        quote!(
            const fn f(x: f64) -> f64 {
                loop {}
            }
        ),
    ];
    for item in signatures {
        let out = outlines(expand(quote!(), item.clone()));
        let (errors, items): (Vec<String>, Vec<String>) =
            out.into_iter().partition(|i| is_error(i));
        assert!(!errors.is_empty(), "{item}");
        assert_eq!(items.len(), 1, "{item}: the function alone, got {items:#?}");
        assert!(items[0].contains("fn f"), "{items:?}");
    }
    // A `wrt(..)` that names no parameter is an error of the signature too.
    let out = outlines(expand(
        quote!(wrt(q)),
        quote!(
            fn f(x: f64) -> f64 {
                loop {}
            }
        ),
    ));
    assert_eq!(out.iter().filter(|i| !is_error(i)).count(), 1, "{out:#?}");
}
