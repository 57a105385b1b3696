//! The runtime of `autodiff`: the derivative rules that generated code calls, gradient
//! checking, and neural-network building blocks whose backward passes are derived by
//! `#[differentiate]`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate self as autodiff_runtime;

pub mod linalg;
pub mod ops;
pub mod real;
pub mod value;

pub use real::Real;
pub use value::{Arg, Value};

/// What generated code reaches. Not a stable API: only `#[differentiate]` should name it.
#[doc(hidden)]
pub mod __private {
    /// The rules, flat, as the macro names them.
    pub mod rules {
        pub use crate::ops::adjoint::*;
        pub use crate::ops::arith::*;
    }
}
