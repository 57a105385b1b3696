//! Reductions of a matrix to one of its elements or to its diagonal: `m.max()`, `m.min()`
//! (the largest, the smallest element) and `m.trace()`. Each rule's value, as nalgebra
//! computes it, and its pullback, whose seed is a scalar and whose contribution reaches
//! some elements only.

use super::adjoint::{scalar_seed, slot_or_zeros, Seed};
use crate::real::Real;
use core::marker::PhantomData;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// The pullback handle of `m.max()` and `m.min()`: the shape of `m` and the column-major
/// index of the element selected (`None` for an empty matrix).
pub struct Extreme<T, R: Dim, C: Dim> {
    shape: (R, C),
    index: Option<usize>,
    of: PhantomData<fn() -> T>,
}

/// The pullback handle of `m.trace()`: the shape of `m`.
pub struct Trace<T, D: Dim> {
    dim: D,
    of: PhantomData<fn() -> T>,
}

/// The element `keep` selects among those of `m`, folded in nalgebra's iteration order
/// (column-major): the accumulator stays while `keep(acc, v)` holds and becomes `v`
/// otherwise. Returns the value (`0` for an empty matrix, as nalgebra's `max`/`min`) and the
/// handle, which keeps the index of the element the value came from.
#[inline]
fn extreme<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
    keep: impl Fn(T, T) -> bool,
) -> (T, Extreme<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let handle = |index| Extreme {
        shape: m.shape_generic(),
        index,
        of: PhantomData,
    };
    let mut elems = m.iter().copied().enumerate();
    let Some((_, first)) = elems.next() else {
        return (T::zero(), handle(None));
    };
    let (mut acc, mut at) = (first, 0);
    for (i, v) in elems {
        if !keep(acc, v) {
            (acc, at) = (v, i);
        }
    }
    (acc, handle(Some(at)))
}

/// `s = maxᵢ mᵢ`, the largest element, as nalgebra's `Matrix::max`: folded in column-major
/// order with `if acc >= v { acc } else { v }`, and `0` for an empty matrix. Derivative
/// `∂s/∂mₖ = 1` for the element `k` the value came from, `0` elsewhere: among equal largest
/// elements, the first in column-major order (the one nalgebra's fold keeps).
#[inline]
pub fn max_element<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> (T, Extreme<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    extreme(m, |acc, v| acc >= v)
}

/// `s = minᵢ mᵢ`, the smallest element, as nalgebra's `Matrix::min`: folded in column-major
/// order with `if acc <= v { acc } else { v }`, and `0` for an empty matrix. Derivative
/// `∂s/∂mₖ = 1` for the element `k` the value came from, `0` elsewhere: among equal smallest
/// elements, the first in column-major order (the one nalgebra's fold keeps).
#[inline]
pub fn min_element<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> (T, Extreme<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    extreme(m, |acc, v| acc <= v)
}

impl<T: Real, R: Dim, C: Dim> Extreme<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// Pullback of `m.max()` or `m.min()` to `m`: the seed added to the selected element.
    /// A present seed always leaves a gradient in the slot, all zeros for an empty matrix.
    #[inline]
    pub fn arg<'s>(&self, d_m: &mut Option<OMatrix<T, R, C>>, seed: impl Into<Seed<'s, T>>)
    where
        T: 's,
    {
        let Some(g) = scalar_seed(seed.into()) else {
            return;
        };
        let acc = slot_or_zeros("max/min", d_m, self.shape);
        if let Some(k) = self.index {
            acc[k] += g;
        }
    }
}

/// `s = Σᵢ mᵢᵢ`, the sum of the diagonal of a square matrix: nalgebra's `Matrix::trace`.
/// Derivative `∂s/∂mᵢⱼ = 1` for `i = j`, `0` elsewhere. The matrix is square by its type
/// (`DMatrix`, `SMatrix<T, N, N>`); a dynamic one whose dimensions differ panics with its
/// shape.
#[inline]
#[track_caller]
pub fn trace<T: Real, D: Dim>(m: &OMatrix<T, D, D>) -> (T, Trace<T, D>)
where
    DefaultAllocator: Allocator<D, D>,
{
    if !m.is_square() {
        panic!("trace: shape {:?} is not square", m.shape());
    }
    let dim = m.shape_generic().0;
    let of = PhantomData;
    (m.trace(), Trace { dim, of })
}

impl<T: Real, D: Dim> Trace<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    /// Pullback of `m.trace()` to `m`: the seed added to every diagonal element.
    #[inline]
    pub fn arg<'s>(&self, d_m: &mut Option<OMatrix<T, D, D>>, seed: impl Into<Seed<'s, T>>)
    where
        T: 's,
    {
        let Some(g) = scalar_seed(seed.into()) else {
            return;
        };
        let acc = slot_or_zeros("trace", d_m, (self.dim, self.dim));
        for i in 0..self.dim.value() {
            acc[(i, i)] += g;
        }
    }
}
