//! placeholder
use proc_macro::TokenStream;
#[proc_macro_attribute]
pub fn differentiate(_a: TokenStream, i: TokenStream) -> TokenStream { i }
