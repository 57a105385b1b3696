//! The runtime of `autodiff`: the derivative rules that generated code calls, gradient
//! checking, and neural-network building blocks whose backward passes are derived by
//! `#[differentiate]`.
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate self as autodiff_runtime;

pub mod buffers;
pub mod data;
#[cfg(feature = "mpi")]
pub mod distributed;
pub mod functions;
pub mod gradcheck;
pub mod graph;
pub mod init;
pub mod linalg;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod parallel;
pub mod params;
pub mod real;
pub mod scalar;
mod simd;
pub mod stats;
pub mod train;
pub mod value;

pub use autodiff_macro::Parameters;
pub use functions::{
    add_bias, elu, leaky_relu, log_softmax, maxout, relu, sigmoid, softmax, softmax_cross_entropy,
    square, svm_loss, tanh,
};
pub use params::Parameters;
pub use real::Real;
pub use scalar::RealScalar;
pub use value::{Arg, Value};

/// What generated code reaches. Not a stable API: only `#[differentiate]` should name it.
#[doc(hidden)]
pub mod __private {
    /// What `NAME_graph` fills.
    pub use crate::graph::{Builder as GraphBuilder, NodeKind as GraphNodeKind};
    pub use crate::ops::skipped::Skipped;
    pub use crate::params::{describe_field, Parameters, ZipLeaves};
    /// The scalar bound of the items generated for a function generic over its scalar.
    pub use crate::scalar::RealScalar;
    /// The rules, flat, as the macro names them.
    pub mod rules {
        pub use crate::ops::activation::*;
        pub use crate::ops::adjoint::*;
        pub use crate::ops::arith::*;
        pub use crate::ops::axis::*;
        pub use crate::ops::binary::*;
        pub use crate::ops::cholesky::*;
        pub use crate::ops::exp::*;
        pub use crate::ops::exp_tangent::*;
        pub use crate::ops::extremes::*;
        pub use crate::ops::inverse::*;
        pub use crate::ops::items::*;
        pub use crate::ops::kronecker::*;
        pub use crate::ops::loss::*;
        pub use crate::ops::map::*;
        pub use crate::ops::matrix::*;
        pub use crate::ops::parts::*;
        pub use crate::ops::reads::*;
        pub use crate::ops::reduce::*;
        pub use crate::ops::skipped::*;
        pub use crate::ops::softmax::*;
        pub use crate::ops::tangent::*;
        pub use crate::ops::unary::*;
        pub use crate::ops::writes::*;
    }
}
