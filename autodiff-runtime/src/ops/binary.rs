//! Elementwise functions of two values: `powf`, `max` and `min` on scalars, `maxout` on
//! scalars and matrices, `component_mul` and `component_div` on matrices. Each rule's value
//! and its two pullbacks `lhs` and `rhs`, with the tie conventions.
// The forwards return `(value, handle)` pairs of generic nalgebra matrices, spelled out.
#![allow(clippy::type_complexity)]

use super::adjoint::{
    accumulate, accumulate_elementwise, accumulate_elementwise2, scalar_seed, Seed,
};
use super::reads::{Operand, Output};
use crate::real::Real;
use crate::value::{assert_same_shape, Value};
use core::marker::PhantomData;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// Whether `a` is the maximum of `a` and `b`: on a tie, and when `b` is NaN (the value is
/// then `a`, as with `f64::max`).
#[inline]
pub(crate) fn first_is_max<T: Real>(a: T, b: T) -> bool {
    a >= b || is_nan(b)
}

/// Whether `a` is the minimum of `a` and `b`: on a tie, and when `b` is NaN.
#[inline]
pub(crate) fn first_is_min<T: Real>(a: T, b: T) -> bool {
    a <= b || is_nan(b)
}

#[inline]
fn is_nan<T: Real>(v: T) -> bool {
    v.partial_cmp(&v).is_none()
}

// -------------------------------------------------------------------------------- powf

/// `x.powf(e)` with both operands differentiable: scalars only.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `{Self}::powf`",
    label = "`powf` is differentiated for scalars only",
    note = "`x.powf(e)` is differentiated for `f32` and `f64`; for a matrix, raise each element \
            with `m.map(|v| v.powf(e))`, or use `powi` for an integer exponent"
)]
pub trait PowfRule: Real + Value<Elem = Self> {}
impl<T: Real + Value<Elem = T>> PowfRule for T {}

/// The pullback handle of `x.powf(e)`.
pub struct Powf<T>(PhantomData<fn(&T)>);

/// `y = xᵉ` for scalars. Derivatives `∂y/∂x = e·xᵉ⁻¹` and `∂y/∂e = y·ln x`, the latter taken
/// as `0` where `y = 0` (at `x = 0`, where `xᵉ` is flat in `e` for `e > 0`).
#[inline]
pub fn powf<T: PowfRule>(x: &T, e: &T) -> (T, Powf<T>) {
    (x.powf(*e), Powf(PhantomData))
}

impl<T: PowfRule> Powf<T> {
    /// Pullback of `x.powf(e)` to `x`; reads `x` and `e`.
    #[inline]
    pub fn lhs<'s>(
        &self,
        d_x: &mut Option<T>,
        seed: impl Into<Seed<'s, T>>,
        Operand(x): Operand<0, &T>,
        Operand(e): Operand<1, &T>,
    ) where
        T: 's,
    {
        if let Some(g) = scalar_seed(seed.into()) {
            accumulate(d_x, g * *e * x.powf(*e - T::one()));
        }
    }
    /// Pullback of `x.powf(e)` to `e`; reads `x` and `y`.
    #[inline]
    pub fn rhs<'s>(
        &self,
        d_e: &mut Option<T>,
        seed: impl Into<Seed<'s, T>>,
        Operand(x): Operand<0, &T>,
        Output(y): Output<&T>,
    ) where
        T: 's,
    {
        if let Some(g) = scalar_seed(seed.into()) {
            let d = if *y == T::zero() {
                T::zero()
            } else {
                g * *y * x.ln()
            };
            accumulate(d_e, d);
        }
    }
}

// --------------------------------------------------------------------------- max, min

/// `a.max(b)` and `a.min(b)`: scalars only.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `{Self}::max` or `{Self}::min` of two values",
    label = "`max` and `min` are differentiated for scalars only",
    note = "`a.max(b)` and `a.min(b)` are differentiated for `f32` and `f64`; for the \
            elementwise maximum of two matrices use `maxout(a, b)`"
)]
pub trait MinMaxRule: Real + Value<Elem = Self> {}
impl<T: Real + Value<Elem = T>> MinMaxRule for T {}

/// The pullback handle of `a.max(b)`.
pub struct Max<T>(PhantomData<fn(&T)>);
/// The pullback handle of `a.min(b)`.
pub struct Min<T>(PhantomData<fn(&T)>);

/// `max(a, b)` for scalars, as `f64::max` (a NaN operand loses). The derivative goes to the
/// operand that is the maximum; on a tie, to the receiver `a`.
#[inline]
pub fn max<T: MinMaxRule>(a: &T, b: &T) -> (T, Max<T>) {
    (if first_is_max(*a, *b) { *a } else { *b }, Max(PhantomData))
}

/// `min(a, b)` for scalars, as `f64::min` (a NaN operand loses). The derivative goes to the
/// operand that is the minimum; on a tie, to the receiver `a`.
#[inline]
pub fn min<T: MinMaxRule>(a: &T, b: &T) -> (T, Min<T>) {
    (if first_is_min(*a, *b) { *a } else { *b }, Min(PhantomData))
}

/// `slot += seed` when `to_this` holds (this operand was selected); nothing otherwise.
#[inline]
fn select_into<T: Real + Value<Elem = T>>(slot: &mut Option<T>, seed: Seed<'_, T>, to_this: bool) {
    if let Some(g) = scalar_seed(seed) {
        accumulate(slot, if to_this { g } else { T::zero() });
    }
}

impl<T: MinMaxRule> Max<T> {
    /// Pullback of `a.max(b)` to `a`; reads `a` and `b`.
    #[inline]
    pub fn lhs<'s>(
        &self,
        d_a: &mut Option<T>,
        seed: impl Into<Seed<'s, T>>,
        Operand(a): Operand<0, &T>,
        Operand(b): Operand<1, &T>,
    ) where
        T: 's,
    {
        select_into(d_a, seed.into(), first_is_max(*a, *b));
    }
    /// Pullback of `a.max(b)` to `b`; reads `a` and `b`.
    #[inline]
    pub fn rhs<'s>(
        &self,
        d_b: &mut Option<T>,
        seed: impl Into<Seed<'s, T>>,
        Operand(a): Operand<0, &T>,
        Operand(b): Operand<1, &T>,
    ) where
        T: 's,
    {
        select_into(d_b, seed.into(), !first_is_max(*a, *b));
    }
}

impl<T: MinMaxRule> Min<T> {
    /// Pullback of `a.min(b)` to `a`; reads `a` and `b`.
    #[inline]
    pub fn lhs<'s>(
        &self,
        d_a: &mut Option<T>,
        seed: impl Into<Seed<'s, T>>,
        Operand(a): Operand<0, &T>,
        Operand(b): Operand<1, &T>,
    ) where
        T: 's,
    {
        select_into(d_a, seed.into(), first_is_min(*a, *b));
    }
    /// Pullback of `a.min(b)` to `b`; reads `a` and `b`.
    #[inline]
    pub fn rhs<'s>(
        &self,
        d_b: &mut Option<T>,
        seed: impl Into<Seed<'s, T>>,
        Operand(a): Operand<0, &T>,
        Operand(b): Operand<1, &T>,
    ) where
        T: 's,
    {
        select_into(d_b, seed.into(), !first_is_min(*a, *b));
    }
}

// ------------------------------------------------------------------------------ maxout

/// The pullback handle of `maxout(a, b)`.
pub struct Maxout<X>(PhantomData<fn(&X)>);

/// The elementwise maximum of two scalars or two matrices of the same shape (a NaN element
/// loses, as with `f64::max`). The derivative of each element goes to `a` where `a ≥ b`
/// (ties included), to `b` elsewhere. Panics with both shapes when they differ.
#[inline]
#[track_caller]
pub fn maxout<T: Real, X: Value<Elem = T>>(a: &X, b: &X) -> (X, Maxout<X>) {
    assert_same_shape("maxout", a.dims(), b.dims());
    let mut y = a.copied();
    y.zip_apply_elems(b, |a, b| if first_is_max(a, b) { a } else { b });
    (y, Maxout(PhantomData))
}

impl<T: Real, X: Value<Elem = T>> Maxout<X> {
    /// Pullback of `maxout(a, b)` to `a`; reads `a` and `b`.
    #[inline]
    #[track_caller]
    pub fn lhs<'s>(
        &self,
        d_a: &mut Option<X>,
        seed: impl Into<Seed<'s, X>>,
        Operand(a): Operand<0, &X>,
        Operand(b): Operand<1, &X>,
    ) where
        X: 's,
    {
        let zero = T::zero();
        accumulate_elementwise2(d_a, seed.into(), a, b, |g, a, b| {
            if first_is_max(a, b) {
                g
            } else {
                zero
            }
        });
    }
    /// Pullback of `maxout(a, b)` to `b`; reads `a` and `b`.
    #[inline]
    #[track_caller]
    pub fn rhs<'s>(
        &self,
        d_b: &mut Option<X>,
        seed: impl Into<Seed<'s, X>>,
        Operand(a): Operand<0, &X>,
        Operand(b): Operand<1, &X>,
    ) where
        X: 's,
    {
        let zero = T::zero();
        accumulate_elementwise2(d_b, seed.into(), a, b, |g, a, b| {
            if first_is_max(a, b) {
                zero
            } else {
                g
            }
        });
    }
}

// ------------------------------------------------------------ component_mul, component_div

/// The pullback handle of `a.component_mul(&b)`.
pub struct ComponentMul<M>(PhantomData<fn(&M)>);
/// The pullback handle of `a.component_div(&b)`.
pub struct ComponentDiv<M>(PhantomData<fn(&M)>);

/// `c = a ⊙ b`, the elementwise product of two matrices of the same shape. Derivatives
/// `∂c/∂a = b`, `∂c/∂b = a`, elementwise. Panics with both shapes when they differ.
#[inline]
#[track_caller]
pub fn component_mul<T: Real, R: Dim, C: Dim>(
    a: &OMatrix<T, R, C>,
    b: &OMatrix<T, R, C>,
) -> (OMatrix<T, R, C>, ComponentMul<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    assert_same_shape("component_mul", a.shape(), b.shape());
    let mut c = a.copied();
    c.zip_apply_elems(b, |a, b| a * b);
    (c, ComponentMul(PhantomData))
}

/// `c = a ⊘ b`, the elementwise quotient of two matrices of the same shape. Derivatives
/// `∂c/∂a = 1 / b`, `∂c/∂b = −a / b²`, elementwise. Panics with both shapes when they differ.
#[inline]
#[track_caller]
pub fn component_div<T: Real, R: Dim, C: Dim>(
    a: &OMatrix<T, R, C>,
    b: &OMatrix<T, R, C>,
) -> (OMatrix<T, R, C>, ComponentDiv<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    assert_same_shape("component_div", a.shape(), b.shape());
    let mut c = a.copied();
    c.zip_apply_elems(b, |a, b| a / b);
    (c, ComponentDiv(PhantomData))
}

impl<M: Value> ComponentMul<M> {
    /// The handle, for the elementwise product of any two values (`tangent::emul`).
    #[inline]
    pub(crate) fn new() -> Self {
        ComponentMul(PhantomData)
    }

    /// Pullback of `a.component_mul(&b)` to `a`; reads `b`.
    #[inline]
    #[track_caller]
    pub fn lhs<'s>(
        &self,
        d_a: &mut Option<M>,
        seed: impl Into<Seed<'s, M>>,
        Operand(b): Operand<1, &M>,
    ) where
        M: 's,
    {
        accumulate_elementwise(d_a, seed.into(), b, |g, b| g * b);
    }
    /// Pullback of `a.component_mul(&b)` to `b`; reads `a`.
    #[inline]
    #[track_caller]
    pub fn rhs<'s>(
        &self,
        d_b: &mut Option<M>,
        seed: impl Into<Seed<'s, M>>,
        Operand(a): Operand<0, &M>,
    ) where
        M: 's,
    {
        accumulate_elementwise(d_b, seed.into(), a, |g, a| g * a);
    }
}

impl<M: Value> ComponentDiv<M> {
    /// Pullback of `a.component_div(&b)` to `a`; reads `b`.
    #[inline]
    #[track_caller]
    pub fn lhs<'s>(
        &self,
        d_a: &mut Option<M>,
        seed: impl Into<Seed<'s, M>>,
        Operand(b): Operand<1, &M>,
    ) where
        M: 's,
    {
        accumulate_elementwise(d_a, seed.into(), b, |g, b| g / b);
    }
    /// Pullback of `a.component_div(&b)` to `b`; reads `a` and `b`.
    #[inline]
    #[track_caller]
    pub fn rhs<'s>(
        &self,
        d_b: &mut Option<M>,
        seed: impl Into<Seed<'s, M>>,
        Operand(a): Operand<0, &M>,
        Operand(b): Operand<1, &M>,
    ) where
        M: 's,
    {
        accumulate_elementwise2(d_b, seed.into(), a, b, |g, a, b| -(g * a) / (b * b));
    }
}
