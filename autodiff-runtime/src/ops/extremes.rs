//! Reductions of a matrix to one of its elements or to its diagonal: `m.max()`, `m.min()`
//! (the largest, the smallest element) and `m.trace()`. Each rule's value, as nalgebra
//! computes it, and its pullback, whose seed is a scalar and whose contribution reaches
//! some elements only.

use super::adjoint::{scalar_seed, Seed};
use crate::buffers::{self, Fill};
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
/// index of the element it came from.
#[inline]
fn fold_extreme<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
    keep: impl Fn(T, T) -> bool,
) -> (T, Option<usize>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut elems = m.iter().copied().enumerate();
    let Some((_, first)) = elems.next() else {
        return (T::zero(), None);
    };
    let (mut acc, mut at) = (first, 0);
    for (i, v) in elems {
        if !keep(acc, v) {
            (acc, at) = (v, i);
        }
    }
    (acc, Some(at))
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
    let (value, index) = fold_extreme(m, |acc, v| acc >= v);
    let shape = m.shape_generic();
    let of = PhantomData;
    (value, Extreme { shape, index, of })
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
    let (value, index) = fold_extreme(m, |acc, v| acc <= v);
    let shape = m.shape_generic();
    let of = PhantomData;
    (value, Extreme { shape, index, of })
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
        let acc =
            d_m.get_or_insert_with(|| buffers::matrix(self.shape.0, self.shape.1, Fill::Zeros));
        if let Some(k) = self.index {
            acc[k] += g;
        }
    }
}

/// `s = Σᵢ mᵢᵢ`, the sum of the diagonal of a square matrix, as nalgebra's `Matrix::trace`
/// (in the order of the diagonal, from `0`). Derivative `∂s/∂mᵢⱼ = 1` for `i = j`, `0`
/// elsewhere. The matrix is square by its type (`DMatrix`, `SMatrix<T, N, N>`); a dynamic
/// one whose dimensions differ panics with its shape.
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
    let mut s = T::zero();
    for i in 0..dim.value() {
        s += m[(i, i)];
    }
    (
        s,
        Trace {
            dim,
            of: PhantomData,
        },
    )
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
        let acc = d_m.get_or_insert_with(|| buffers::matrix(self.dim, self.dim, Fill::Zeros));
        for i in 0..self.dim.value() {
            acc[(i, i)] += g;
        }
    }
}
