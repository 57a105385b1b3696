//! The `#[differentiate]` attribute of `autodiff`: reverse-mode differentiation of a Rust
//! function at compile time. This file is a shim; the work is in `expand::expand`.

// The stages, in the order `expand` runs them: `signature` checks the signature, `lower`
// turns the body into the single-assignment IR of `ir`, `analyse` finds the active values,
// `differentiate` plans the reverse sweep (`plan`, with `recycle`'s buffer reuse), and
// `emit` prints the generated items.
mod analyse;
mod args;
mod derive;
mod differentiate;
mod emit;
mod errors;
mod expand;
mod fields;
mod generics;
mod ir;
mod label;
mod lower;
mod method;
mod names;
mod ops;
mod plan;
mod recycle;
mod rename;
mod signature;
mod tangent;
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

/// Derives the runtime's `Parameters` trait (zeros of the same structure, `p += α·g`, the
/// number of scalars, every leaf as a slice) for a struct with named fields, each a scalar,
/// a nalgebra matrix or vector, a `Vec` of those or another `Parameters` struct. A field
/// marked `#[parameters(skip)]` may be of any `Clone` type: a constant, copied into zeros
/// and gradients unchanged. `#[parameters(crate = path)]` on the struct names the path of
/// the `autodiff` crate. The struct may be generic over its scalar, with one type parameter
/// (`struct Model<T: RealField> { w: DMatrix<T> }`). See the trait's documentation in the
/// runtime.
#[proc_macro_derive(Parameters, attributes(parameters))]
pub fn derive_parameters(item: TokenStream) -> TokenStream {
    derive::derive(item.into()).into()
}
