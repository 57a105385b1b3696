//! Neural-network building blocks whose backward passes are derived by `#[differentiate]`:
//! activations, dense and maxout layers, losses, L2 regularization and the [`Mlp`].
//!
//! No gradient here is written by hand. Each layer and loss is a differentiated function
//! (with the generated `_grad`, `_vjp`, `_fwd` and `_bwd` next to it); the [`Mlp`] is a
//! `#[derive(Parameters)]` struct whose training objective is one differentiated function,
//! a loop over its layers ([`objective`]).

mod activation;
mod batch;
pub mod file;
mod fully_connected;
mod layer;
mod loss;
mod mlp;

pub use activation::*;
pub use file::{ModelFileError, FORMAT, VERSION};
pub use fully_connected::*;
pub use layer::Layer;
pub use loss::*;
pub use mlp::*;
