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
mod ops;
mod rename;
mod reverse;
mod signature;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Differentiates a function at compile time: see the `autodiff` crate for what it
/// generates and the language it understands.
#[proc_macro_attribute]
pub fn differentiate(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr.into(), item.into()).into()
}
