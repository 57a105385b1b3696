//! The tangent of `x.exp()` in forward mode, a rule with its own pullbacks (so that `hvp`
//! differentiates it again): `t·eˣ` for a scalar, and for a square matrix the Fréchet
//! derivative `L(A, E)` of the matrix exponential, the upper-right block of
//! `exp([[A, E], [0, A]])`.
//!
//! Its pullbacks, with `G` the seed: to `E`, `L(Aᵀ, G)` (the adjoint identity
//! `⟨G, L(A, E)⟩ = ⟨L(Aᵀ, G), E⟩`); to `A`, the gradient of `⟨Ĝ, exp X⟩` with respect to the
//! block matrix `X = [[A, E], [0, A]]` and `Ĝ = [[0, G], [0, 0]]`, which is `L(Xᵀ, Ĝ)`, summed
//! over the two diagonal blocks where `A` stands.
#![allow(clippy::type_complexity)]

use super::adjoint::{accumulate, accumulate_elementwise2, Seed};
use super::exp::frechet;
use super::reads::Operand;
use crate::real::Real;
use crate::value::Value;
use core::marker::PhantomData;
use nalgebra::{allocator::Allocator, DMatrix, DefaultAllocator, Dim, OMatrix};

/// The values whose `exp` has a tangent: `f32`, `f64`, square matrices.
pub trait ExpTangent: Value {
    /// What the pullbacks keep.
    type Handle;
    /// The tangent of `eˣ` along `t`, and the handle of its pullbacks.
    fn exp_tangent(x: &Self, t: &Self) -> (Self, Self::Handle);
}

/// `d(eˣ)[t]`: see the module's documentation.
#[inline]
#[track_caller]
pub fn exp_tangent<X: ExpTangent>(x: &X, t: &X) -> (X, X::Handle) {
    X::exp_tangent(x, t)
}

/// The pullback handle of the tangent of a scalar's `exp`.
pub struct ScalarExpTangent<T>(PhantomData<fn(&T)>);

macro_rules! scalar_exp_tangent {
    ($t:ty) => {
        impl ExpTangent for $t {
            type Handle = ScalarExpTangent<$t>;
            #[inline]
            fn exp_tangent(x: &$t, t: &$t) -> ($t, ScalarExpTangent<$t>) {
                (t * x.exp(), ScalarExpTangent(PhantomData))
            }
        }
    };
}
scalar_exp_tangent!(f64);
scalar_exp_tangent!(f32);

impl<T: Real + Value<Elem = T>> ScalarExpTangent<T> {
    /// Pullback to `x`: `g·t·eˣ`; reads `x` and `t`.
    #[inline]
    pub fn lhs<'s>(
        &self,
        d_x: &mut Option<T>,
        seed: impl Into<Seed<'s, T>>,
        Operand(x): Operand<0, &T>,
        Operand(t): Operand<1, &T>,
    ) where
        T: 's,
    {
        accumulate_elementwise2(d_x, seed.into(), x, t, |g, x, t| g * t * x.exp());
    }

    /// Pullback to `t`: `g·eˣ`; reads `x`.
    #[inline]
    pub fn rhs<'s>(
        &self,
        d_t: &mut Option<T>,
        seed: impl Into<Seed<'s, T>>,
        Operand(x): Operand<0, &T>,
    ) where
        T: 's,
    {
        super::adjoint::accumulate_elementwise(d_t, seed.into(), x, |g, x| g * x.exp());
    }
}

/// The pullback handle of the tangent of a square matrix's `exp`.
pub struct MatrixExpTangent<M>(PhantomData<fn(&M)>);

impl<T: Real, D: Dim> ExpTangent for OMatrix<T, D, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    type Handle = MatrixExpTangent<Self>;

    #[track_caller]
    fn exp_tangent(a: &Self, e: &Self) -> (Self, MatrixExpTangent<Self>) {
        let (rows, cols) = a.shape();
        assert!(
            rows == cols,
            "exp: the matrix exponential needs a square matrix, not ({rows}, {cols})"
        );
        // L(A, E) = frechet(Aᵀ, E): `frechet` transposes its first argument.
        (
            scaled_frechet(&a.transpose(), e),
            MatrixExpTangent(PhantomData),
        )
    }
}

/// `frechet(a, g, ·)` with `g` scaled to unit size, or zeros for a zero `g`.
fn scaled_frechet<T: Real, D: Dim>(a: &OMatrix<T, D, D>, g: &OMatrix<T, D, D>) -> OMatrix<T, D, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    let size = g.amax();
    if size == T::zero() {
        return g.copied();
    }
    let size = if size.is_finite() { size } else { T::one() };
    frechet(a, g, size)
}

/// [`scaled_frechet`] of the `2n × 2n` block matrices, outside any `where` clause on a
/// dimension: one would keep rustc from seeing that `DMatrix` is an `OMatrix`.
fn block_frechet<T: Real>(x: &DMatrix<T>, hat: &DMatrix<T>) -> DMatrix<T> {
    scaled_frechet(x, hat)
}

impl<T: Real, D: Dim> MatrixExpTangent<OMatrix<T, D, D>>
where
    DefaultAllocator: Allocator<D, D>,
{
    /// Pullback to `A`: the diagonal blocks of `L(Xᵀ, Ĝ)`; reads `A` and `E`.
    #[track_caller]
    pub fn lhs<'s>(
        &self,
        d_a: &mut Option<OMatrix<T, D, D>>,
        seed: impl Into<Seed<'s, OMatrix<T, D, D>>>,
        Operand(a): Operand<0, &OMatrix<T, D, D>>,
        Operand(e): Operand<1, &OMatrix<T, D, D>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        let n = a.nrows();
        let (mut x, mut hat) = (
            DMatrix::<T>::zeros(2 * n, 2 * n),
            DMatrix::<T>::zeros(2 * n, 2 * n),
        );
        for i in 0..n {
            for j in 0..n {
                x[(i, j)] = a[(i, j)];
                x[(n + i, n + j)] = a[(i, j)];
                x[(i, n + j)] = e[(i, j)];
                hat[(i, n + j)] = g[(i, j)];
            }
        }
        let block = block_frechet(&x, &hat);
        let mut contribution = g.copied();
        for i in 0..n {
            for j in 0..n {
                contribution[(i, j)] = block[(i, j)] + block[(n + i, n + j)];
            }
        }
        seed.done();
        accumulate(d_a, contribution);
    }

    /// Pullback to `E`: `L(Aᵀ, G)`; reads `A`.
    #[track_caller]
    pub fn rhs<'s>(
        &self,
        d_e: &mut Option<OMatrix<T, D, D>>,
        seed: impl Into<Seed<'s, OMatrix<T, D, D>>>,
        Operand(a): Operand<0, &OMatrix<T, D, D>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        let contribution = scaled_frechet(a, g);
        seed.done();
        accumulate(d_e, contribution);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tangent against central differences of nalgebra's `exp`, and both pullbacks by the
    /// dot-product test against central differences of ⟨G, L(A, E)⟩.
    #[test]
    fn matrix_exp_tangent_and_its_pullbacks() {
        let a = DMatrix::from_row_slice(3, 3, &[0.3, -0.5, 0.2, 0.1, 0.4, -0.3, -0.2, 0.6, 0.1]);
        let e = DMatrix::from_row_slice(3, 3, &[0.7, 0.1, -0.4, 0.2, -0.6, 0.5, 0.3, 0.2, -0.1]);
        let h = 1e-6;
        let (l, handle) = exp_tangent(&a, &e);
        let fd = ((&a + &e * h).exp() - (&a - &e * h).exp()) / (2.0 * h);
        assert!((&l - &fd).amax() < 1e-8, "L {l} against {fd}");
        let g = DMatrix::from_row_slice(3, 3, &[0.2, -0.3, 0.5, 0.9, 0.1, -0.7, 0.4, 0.6, -0.2]);
        let f = DMatrix::from_row_slice(3, 3, &[-0.1, 0.8, 0.3, 0.5, -0.4, 0.2, 0.6, 0.1, 0.7]);
        let (mut d_a, mut d_e) = (None, None);
        handle.lhs(
            &mut d_a,
            Some(g.clone()),
            Operand::<0, _>(&a),
            Operand::<1, _>(&e),
        );
        handle.rhs(&mut d_e, Some(g.clone()), Operand::<0, _>(&a));
        let pair = |a: &DMatrix<f64>, e: &DMatrix<f64>| g.dot(&exp_tangent(a, e).0);
        let along_a = (pair(&(&a + &f * h), &e) - pair(&(&a - &f * h), &e)) / (2.0 * h);
        let along_e = (pair(&a, &(&e + &f * h)) - pair(&a, &(&e - &f * h))) / (2.0 * h);
        assert!((d_a.unwrap().dot(&f) - along_a).abs() < 1e-7, "to A");
        assert!((d_e.unwrap().dot(&f) - along_e).abs() < 1e-7, "to E");
        let (s, sh) = exp_tangent(&0.5, &2.0);
        assert!((s - 2.0 * 0.5f64.exp()).abs() < 1e-15);
        let (mut dx, mut dt) = (None, None);
        sh.lhs(
            &mut dx,
            Some(1.0),
            Operand::<0, _>(&0.5),
            Operand::<1, _>(&2.0),
        );
        sh.rhs(&mut dt, Some(1.0), Operand::<0, _>(&0.5));
        assert!((dx.unwrap() - 2.0 * 0.5f64.exp()).abs() < 1e-15);
        assert!((dt.unwrap() - 0.5f64.exp()).abs() < 1e-15);
    }
}
