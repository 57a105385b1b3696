//! The `#[differentiate]` attribute of `autodiff`: reverse-mode differentiation of a Rust
//! function at compile time. This file is a shim; the work is in `expand::expand`.

mod analyse;
mod args;
mod code;
mod emit;
mod errors;
mod expand;
mod forward;
mod ir;
mod lower;
mod names;
mod needs;
mod ops;
mod outline;
mod rename;
mod reverse;
mod signature;
#[cfg(test)]
mod tests;
mod walk;

use proc_macro::TokenStream;

// The reference of the language. Its examples use the `autodiff` facade, which this crate
// cannot depend on: they run as doctests of the facade (its src/lib.rs includes the same
// file), and are left out when rustdoc collects this crate's doctests.
#[cfg_attr(not(doctest), doc = include_str!("differentiate.md"))]
#[proc_macro_attribute]
pub fn differentiate(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr.into(), item.into()).into()
}
