//! `m.map(f)` with a closure whose derivatives the macro generated: the forward evaluates the
//! closure once per element and keeps its partial derivatives; the pullbacks contract them
//! with the seed, towards the elements of `m` or towards a scalar the closure captured.
// The forwards return `(value, handle)` pairs of generic nalgebra matrices, spelled out.
#![allow(clippy::type_complexity)]

use super::adjoint::{accumulate, accumulate_elementwise, Seed};
use crate::real::Real;
use crate::value::Value;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// The pullback handle of `m.map(f)`: `K` matrices of partial derivatives, each of the shape
/// of `m`; `partials[k][i]` is the `k`-th partial derivative of `f` at the element `m[i]`.
pub struct Map<M, const K: usize> {
    partials: [M; K],
}

/// `y[i] = f(m[i])` for every element, where `f` returns the value and `K` partial
/// derivatives at that element (with respect to the element itself and to captured scalars,
/// in an order the caller chooses). Derivatives: `d_m += d_y ⊙ partials[k]` for the partial
/// with respect to the element, `d_c += Σᵢ d_y[i]·partials[k][i]` for a captured scalar `c`.
/// The closure is called once per element, in column-major order.
#[inline]
pub fn map<T: Real, R: Dim, C: Dim, const K: usize>(
    m: &OMatrix<T, R, C>,
    mut f: impl FnMut(T) -> (T, [T; K]),
) -> (OMatrix<T, R, C>, Map<OMatrix<T, R, C>, K>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut y = m.copied();
    let mut partials: [OMatrix<T, R, C>; K] = core::array::from_fn(|_| m.copied());
    for (i, v) in y.as_mut_slice().iter_mut().enumerate() {
        let (value, derivatives) = f(*v);
        *v = value;
        for (p, d) in partials.iter_mut().zip(derivatives) {
            p.as_mut_slice()[i] = d;
        }
    }
    (y, Map { partials })
}

impl<T: Real, R: Dim, C: Dim, const K: usize> Map<OMatrix<T, R, C>, K>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// The `k`-th matrix of partial derivatives. Panics when `k >= K`.
    #[inline]
    #[track_caller]
    pub fn partial(&self, k: usize) -> &OMatrix<T, R, C> {
        match self.partials.get(k) {
            Some(p) => p,
            None => panic!("map: partial derivative {k} requested, but the closure returns {K}"),
        }
    }

    /// Pullback of `m.map(f)` to `m` through the `k`-th partial: `d_m += seed ⊙ partials[k]`.
    #[inline]
    #[track_caller]
    pub fn input<'s>(
        &self,
        k: usize,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
    ) where
        T: 's,
    {
        accumulate_elementwise(d_m, seed.into(), self.partial(k), |g, p| g * p);
    }

    /// Pullback of `m.map(f)` to a scalar the closure captured, through the `k`-th partial:
    /// `d_c += Σᵢ seed[i]·partials[k][i]`. A seed given by value goes back to the pool.
    #[inline]
    #[track_caller]
    pub fn captured<'s>(
        &self,
        k: usize,
        d_c: &mut Option<T>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
    ) where
        T: 's + crate::value::Value<Elem = T>,
    {
        let partial = self.partial(k);
        let seed = seed.into();
        if let Some(g) = seed.get() {
            crate::value::assert_same_shape("map", g.shape(), partial.shape());
            accumulate(d_c, g.dot(partial));
        }
        seed.done();
    }
}
