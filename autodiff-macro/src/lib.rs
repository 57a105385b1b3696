//! The `#[differentiate]` attribute of `autodiff`: reverse-mode differentiation of a Rust
//! function at compile time. This file is a shim; the work is in `expand::expand`.

// The stages, in the order `expand` runs them: `signature` checks the signature, `lower`
// turns the body into the single-assignment IR of `ir`, `analyse` finds the active values,
// `differentiate` plans the reverse sweep (`plan`, with `recycle`'s buffer reuse), and
// `emit` prints the generated items.
mod analyse;
mod args;
mod differentiate;
mod emit;
mod errors;
mod expand;
mod ir;
mod label;
mod lower;
mod names;
mod ops;
mod plan;
mod recycle;
mod rename;
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
