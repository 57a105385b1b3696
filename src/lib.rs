//! `autodiff`: exact gradients of Rust functions, derived at compile time.
//!
//! Put `#[differentiate]` on a function written with scalars and nalgebra matrices and get
//! its gradient function next to it: no tape at run time, no graph, no nightly compiler.
//!
//! ```
//! use autodiff::prelude::*;
//!
//! #[differentiate]
//! fn f(x: f64, y: f64, z: f64) -> f64 {
//!     let q = x + y;
//!     q * z
//! }
//!
//! let (value, grad) = f_grad(-2.0, 5.0, -4.0);
//! assert_eq!(value, -12.0);
//! assert_eq!((grad.x, grad.y, grad.z), (-4.0, -4.0, 3.0));
//! ```
//!
//! The reference of the attribute is its own page, [`differentiate`]: the items it generates,
//! which parameters are differentiated, the language of the body with the derivative of every
//! operation, and what is rejected and what to write instead. The networks built on it are in
//! [`nn`], [`train`] and the modules next to them.
#![forbid(unsafe_code)]

pub use autodiff_macro::differentiate;
pub use autodiff_runtime as runtime;
/// Data-parallel training on several processes over MPI (feature `mpi`): a `Cluster` of
/// ranks, each training on its shard of the data, the gradients summed at every step by a
/// ring all-reduce that gives every rank the same bits and times out instead of hanging.
#[cfg(feature = "mpi")]
pub use autodiff_runtime::distributed;
/// Pictures of a computation as the lecture draws its circuits: [`graph::Graph`], with the
/// forward value and the gradient of every node, as Graphviz text or SVG.
pub use autodiff_runtime::graph;
/// Low level: the matrix products behind the derivative rules (`gemm_into`, with transposed
/// operands read through strides), and the cap on the threads a large product uses
/// (`set_max_threads`).
pub use autodiff_runtime::linalg;
/// Networks built on `#[differentiate]`: layers, losses and the `Mlp` (`nn`), initialisation
/// (`init`), optimizers (`optim`), data sets and minibatches (`data`), the training loop
/// (`train`) and gradient checking (`gradcheck`).
pub use autodiff_runtime::{buffers, data, gradcheck, init, nn, optim, parallel, params, train};
pub use nalgebra;

/// Everything a differentiated function needs: the attribute, nalgebra's matrix types and
/// the free functions with derivative rules (their derivatives are listed with the
/// attribute, [`differentiate`]), `Parameters` (the trait of structured parameters and its
/// derive), nalgebra's `RealField` and the runtime's `RealScalar` (the bounds of a function
/// generic over its scalar).
/// The traits it brings into scope have no method that nalgebra's matrices could pick
/// instead of their own, so a glob import never changes what ordinary nalgebra code means.
pub mod prelude {
    pub use autodiff_macro::differentiate;
    pub use autodiff_runtime::functions::{
        add_bias, elu, leaky_relu, log_softmax, maxout, relu, sigmoid, softmax,
        softmax_cross_entropy, square, svm_loss, tanh,
    };
    /// The trait of structured parameters and its derive, `#[derive(Parameters)]`.
    pub use autodiff_runtime::Parameters;
    /// The bound of a generic function whose body calls the free functions (`relu`,
    /// `sigmoid`, `add_bias`, …): `f32` and `f64`. It has no methods.
    pub use autodiff_runtime::RealScalar;
    /// The bound of a function generic over its scalar (`fn f<T: RealField>(x: T) -> T`).
    /// Its methods are implemented for scalars only, never for matrices, and a scalar's own
    /// methods of the same names (`f64::max`) are picked before them.
    pub use nalgebra::RealField;
    pub use nalgebra::{DMatrix, DVector, Matrix, RowDVector, SMatrix, SVector};
}

#[doc(hidden)]
pub use autodiff_runtime::__private;

/// The examples of the reference of `#[differentiate]` (its documentation, written in the
/// macro crate, which cannot depend on this one), run as doctests of this crate.
#[cfg(doctest)]
#[doc = include_str!("../autodiff-macro/src/differentiate.md")]
pub struct DifferentiateReference;

/// The examples of the README, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct Readme;
