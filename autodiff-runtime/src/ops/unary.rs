//! Elementwise functions of one value (`ln`, `sqrt`, `sin`, `cos`, `tan`, `tanh`, `abs`,
//! `recip`, `powi`) on scalars and matrices: each rule's value and pullback. (`exp` has a
//! module of its own: on a square matrix it is the matrix exponential.)
//!
//! Every rule takes any [`Value`] (`f32`, `f64`, an owned nalgebra matrix) and applies the
//! scalar function to each element; the pullback multiplies the seed by the derivative,
//! elementwise, reading either the input `x` or the output `y`, whichever is cheaper.

use super::adjoint::{accumulate_elementwise, Seed};
use super::map_elems;
use super::reads::{Const, Operand, Output};
use crate::real::Real;
use crate::value::{Input, Value};
use core::marker::PhantomData;

unary_rule! {
    /// `y = ln x`, elementwise. Derivative `1 / x`.
    ln, Ln,
    value: |v| v.ln(),
    pullback reads Operand::<0>(x): |g, x| g / x,
}

unary_rule! {
    /// `y = √x`, elementwise. Derivative `1 / (2√x) = 1 / (2y)` (infinite at `x = 0`).
    sqrt, Sqrt,
    value: |v| v.sqrt(),
    pullback reads Output(y): |g, y| g / (y + y),
}

unary_rule! {
    /// `y = sin x`, elementwise. Derivative `cos x`.
    sin, Sin,
    value: |v| v.sin(),
    pullback reads Operand::<0>(x): |g, x| g * x.cos(),
}

unary_rule! {
    /// `y = cos x`, elementwise. Derivative `−sin x`.
    cos, Cos,
    value: |v| v.cos(),
    pullback reads Operand::<0>(x): |g, x| -(g * x.sin()),
}

unary_rule! {
    /// `y = tan x`, elementwise. Derivative `1 + tan² x = 1 + y²`.
    tan, Tan,
    value: |v| v.tan(),
    pullback reads Output(y): |g, y| g * (T::one() + y * y),
}

/// The pullback handle of `tanh(x)`.
pub struct Tanh<X>(PhantomData<fn(&X)>);

/// `y = tanh x`, elementwise. Derivative `1 − tanh² x = 1 − y²`.
///
/// A matrix's elements are computed together, vectorised (within 3 ulp of the standard
/// library's `tanh`); a scalar is the standard library's `tanh`.
#[inline]
pub fn tanh<T: Real, X: Value<Elem = T>>(x: impl Input<X>) -> (X, Tanh<X>) {
    let mut y = x.into_buffer();
    crate::simd::tanh_in_place(y.elems_mut());
    (y, Tanh(PhantomData))
}

impl<T: Real, X: Value<Elem = T>> Tanh<X> {
    /// Pullback of `tanh(x)` to `x`; reads `y` (`Output`).
    #[inline]
    #[track_caller]
    pub fn arg<'s>(&self, d_x: &mut Option<X>, seed: impl Into<Seed<'s, X>>, Output(y): Output<&X>)
    where
        X: 's,
    {
        accumulate_elementwise(d_x, seed.into(), y, |g, y| g * (T::one() - y * y));
    }
}

unary_rule! {
    /// `y = |x|`, elementwise. Derivative `sign x`, taken as `0` at `x = 0`.
    abs, Abs,
    value: |v| v.abs(),
    pullback reads Operand::<0>(x): |g, x| sign(x) * g,
}

unary_rule! {
    /// `y = 1 / x`, elementwise. Derivative `−1 / x² = −y²`.
    recip, Recip,
    value: |v| v.recip(),
    pullback reads Output(y): |g, y| -(g * y * y),
}

/// `−1`, `0` or `1`: the derivative of `|x|`, with `0` at `x = 0` (and for NaN).
#[inline]
fn sign<T: Real>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

/// The pullback handle of `powi(x, n)`.
pub struct Powi<X>(PhantomData<fn(&X)>);

/// `y = xⁿ` for an integer constant `n`, elementwise. Derivative `n·xⁿ⁻¹` (and `0` for
/// `n = 0`, even at `x = 0`).
#[inline]
pub fn powi<T: Real, X: Value<Elem = T>>(x: impl Input<X>, n: i32) -> (X, Powi<X>) {
    (map_elems(x, |v| v.powi(n)), Powi(PhantomData))
}

impl<T: Real, X: Value<Elem = T>> Powi<X> {
    /// Pullback of `powi(x, n)` to `x`; reads `x` and `n`.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_x: &mut Option<X>,
        seed: impl Into<Seed<'s, X>>,
        Operand(x): Operand<0, &X>,
        Const(n): Const<0, i32>,
    ) where
        X: 's,
    {
        let scale: X::Elem = nalgebra::convert(f64::from(n));
        accumulate_elementwise(d_x, seed.into(), x, |g, x| match n {
            0 => T::zero(),
            // `n − 1` overflows only for `i32::MIN`, where `xⁿ / x` is the same power.
            _ => {
                g * scale
                    * n.checked_sub(1)
                        .map_or_else(|| x.powi(n) / x, |m| x.powi(m))
            }
        });
    }
}
