//! Reductions of a matrix to a scalar (`sum`, `mean`, `norm_squared`, `norm`, `dot`): each
//! rule's value, as nalgebra computes it, and its pullback, whose seed is a scalar.

use super::adjoint::{accumulate_broadcast, accumulate_scaled, scalar_seed, Seed};
use super::reads::{Operand, Output};
use crate::real::Real;
use crate::value::{assert_same_shape, Value};
use core::marker::PhantomData;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// The pullback handle of `m.sum()`: the shape of `m`.
pub struct Sum<M: Value> {
    shape: M::Shape,
}

/// The pullback handle of `m.mean()`: the shape of `m`.
pub struct Mean<M: Value> {
    shape: M::Shape,
    count: usize,
}

/// The pullback handle of `m.norm_squared()`.
pub struct NormSquared<M>(PhantomData<fn(&M)>);
/// The pullback handle of `m.norm()`.
pub struct Norm<M>(PhantomData<fn(&M)>);
/// The pullback handle of `a.dot(&b)`.
pub struct Dot<M>(PhantomData<fn(&M)>);

/// `s = Σᵢ mᵢ`. Derivative `∂s/∂mᵢ = 1`.
#[inline]
pub fn sum<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> (T, Sum<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    (
        m.sum(),
        Sum {
            shape: m.shape_generic(),
        },
    )
}

/// `s = (Σᵢ mᵢ) / n` over the `n` elements (`0` for an empty matrix, as nalgebra's `mean`).
/// Derivative `∂s/∂mᵢ = 1 / n`.
#[inline]
pub fn mean<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> (T, Mean<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    (
        m.mean(),
        Mean {
            shape: m.shape_generic(),
            count: m.len(),
        },
    )
}

/// `s = Σᵢ mᵢ²`. Derivative `∂s/∂mᵢ = 2mᵢ`.
#[inline]
pub fn norm_squared<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (T, NormSquared<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    (m.norm_squared(), NormSquared(PhantomData))
}

/// `s = √(Σᵢ mᵢ²)`, the Frobenius (Euclidean) norm. Derivative `∂s/∂mᵢ = mᵢ / s`, taken as
/// `0` at `m = 0`.
#[inline]
pub fn norm<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> (T, Norm<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    (m.norm(), Norm(PhantomData))
}

/// `s = Σᵢ aᵢbᵢ` for two matrices of the same shape. Derivatives `∂s/∂a = b`, `∂s/∂b = a`.
/// Panics with both shapes when they differ.
#[inline]
#[track_caller]
pub fn dot<T: Real, R: Dim, C: Dim>(
    a: &OMatrix<T, R, C>,
    b: &OMatrix<T, R, C>,
) -> (T, Dot<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    assert_same_shape("dot", a.shape(), b.shape());
    (a.dot(b), Dot(PhantomData))
}

impl<T: Real, M: Value<Elem = T>> Sum<M> {
    /// Pullback of `m.sum()` to `m`: the seed in every element.
    #[inline]
    pub fn arg<'s>(&self, d_m: &mut Option<M>, seed: impl Into<Seed<'s, M::Elem>>)
    where
        M::Elem: 's,
    {
        if let Some(g) = scalar_seed(seed.into()) {
            accumulate_broadcast(d_m, self.shape, g);
        }
    }
}

impl<T: Real, M: Value<Elem = T>> Mean<M> {
    /// Pullback of `m.mean()` to `m`: the seed divided by the number of elements, in every
    /// element.
    #[inline]
    pub fn arg<'s>(&self, d_m: &mut Option<M>, seed: impl Into<Seed<'s, M::Elem>>)
    where
        M::Elem: 's,
    {
        if let Some(g) = scalar_seed(seed.into()) {
            accumulate_broadcast(d_m, self.shape, g / T::from_count(self.count.max(1)));
        }
    }
}

impl<T: Real, M: Value<Elem = T>> NormSquared<M> {
    /// Pullback of `m.norm_squared()` to `m`; reads `m`.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_m: &mut Option<M>,
        seed: impl Into<Seed<'s, M::Elem>>,
        Operand(m): Operand<0, &M>,
    ) where
        M::Elem: 's,
    {
        if let Some(g) = scalar_seed(seed.into()) {
            accumulate_scaled(d_m, m, g + g);
        }
    }
}

impl<T: Real, M: Value<Elem = T>> Norm<M> {
    /// Pullback of `m.norm()` to `m`; reads `m` and the norm `y`.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_m: &mut Option<M>,
        seed: impl Into<Seed<'s, M::Elem>>,
        Operand(m): Operand<0, &M>,
        Output(y): Output<&M::Elem>,
    ) where
        M::Elem: 's,
    {
        if let Some(g) = scalar_seed(seed.into()) {
            let s = if *y == T::zero() { T::zero() } else { g / *y };
            accumulate_scaled(d_m, m, s);
        }
    }
}

impl<T: Real, M: Value<Elem = T>> Dot<M> {
    /// Pullback of `a.dot(&b)` to `a`; reads `b`.
    #[inline]
    #[track_caller]
    pub fn lhs<'s>(
        &self,
        d_a: &mut Option<M>,
        seed: impl Into<Seed<'s, M::Elem>>,
        Operand(b): Operand<1, &M>,
    ) where
        M::Elem: 's,
    {
        if let Some(g) = scalar_seed(seed.into()) {
            accumulate_scaled(d_a, b, g);
        }
    }
    /// Pullback of `a.dot(&b)` to `b`; reads `a`.
    #[inline]
    #[track_caller]
    pub fn rhs<'s>(
        &self,
        d_b: &mut Option<M>,
        seed: impl Into<Seed<'s, M::Elem>>,
        Operand(a): Operand<0, &M>,
    ) where
        M::Elem: 's,
    {
        if let Some(g) = scalar_seed(seed.into()) {
            accumulate_scaled(d_b, a, g);
        }
    }
}
