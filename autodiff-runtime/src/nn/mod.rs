//! Neural-network building blocks whose backward passes are derived by `#[differentiate]`:
//! activations, dense and maxout layers, losses, L2 regularization and the [`Mlp`].
//!
//! No gradient here is written by hand. Each layer and loss is a differentiated function
//! (with the generated `_grad`, `_vjp`, `_fwd` and `_bwd` next to it); the [`Mlp`] runs the
//! forward sweep (`_fwd`) of each layer in turn, keeps the tapes, and runs the reverse
//! sweeps (`_bwd`) in the opposite order, passing the adjoint of each layer's input to the
//! layer before it.

mod activation;
pub mod file;
mod fully_connected;
mod layer;
mod loss;
mod mlp;

pub use activation::*;
pub use file::{ModelFileError, FORMAT, VERSION};
pub use fully_connected::*;
pub use layer::{Layer, LayerGrad};
pub use loss::*;
pub use mlp::{argmax_rows, Mlp, MlpGrad, ShapeError};
