//! `RealScalar`: the scalar types (`f32`, `f64`) that the free functions and every derivative
//! rule accept, in one bound for functions generic over their scalar.

use crate::ops::arith::{Div, DivRule};
use crate::ops::exp::{Exp, Exponential};
use crate::params::Parameters;
use crate::real::Real;
use crate::value::{Arg, Input, Value};

/// A real scalar that the free functions (`relu`, `sigmoid`, `add_bias`, …) and every
/// derivative rule accept: `f32` and `f64`.
///
/// A function generic over its scalar is written with nalgebra's `RealField`
/// (`fn f<T: RealField + Copy>(x: T) -> T`); one whose body calls the free functions needs
/// this bound instead (`fn f<T: RealScalar>(x: &DMatrix<T>) -> T`), since they are written for
/// `f32` and `f64`. It implies `RealField + Copy`. The items `#[differentiate]` generates
/// for a generic function add `T: RealScalar` to their `where` clause.
///
/// Its supertraits are what the rules implement for `f32` and `f64` one by one rather than
/// for every `T: Real` (so that a rule missing for a matrix is one error, not a blanket
/// implementation that fails later). It has no methods of its own.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not `f32` or `f64`, the scalar types of the derivative rules",
    note = "the items `#[differentiate]` generates for a function generic over its scalar work \
            at `f32` and `f64`"
)]
pub trait RealScalar:
    Real
    + Value<Elem = Self, Shape = ()>
    + Input<Self>
    + Arg<Value = Self>
    + DivRule<Self, Handle = Div<Self, Self>>
    + Exponential<Handle = Exp<Self>>
    + Parameters<Scalar = Self>
{
}

impl<T> RealScalar for T where
    T: Real
        + Value<Elem = T, Shape = ()>
        + Input<T>
        + Arg<Value = T>
        + DivRule<T, Handle = Div<T, T>>
        + Exponential<Handle = Exp<T>>
        + Parameters<Scalar = T>
{
}
