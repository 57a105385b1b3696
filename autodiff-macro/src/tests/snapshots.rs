//! Snapshots of the pretty-printed expansion of representative functions: every change to
//! generated code shows in review.

use crate::expand::expand;
use quote::quote;

/// The expansion of `item` under `#[differentiate(attr)]`, pretty-printed.
pub fn pretty(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let tokens = expand(attr, item);
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    }
}

#[test]
fn scalar_lecture_example() {
    insta::assert_snapshot!(pretty(quote!(), quote! {
        pub fn f(x: f64, y: f64, z: f64) -> f64 {
            let q = x + y;
            q * z
        }
    }));
}
