//! `x.exp()` with the meaning rustc gives it: the exponential of a scalar, and nalgebra's
//! *matrix* exponential of a square matrix, each with its own pullback.
//!
//! nalgebra's `exp` on a square matrix is `eᴬ = Σₖ Aᵏ/k!`, not the exponential of each
//! element, so the rule is chosen by the operand's type: a rule that mapped `exp` over the
//! elements would give the gradient of a different function than the primal computes.
//! Elementwise exponentials of a matrix are written `m.map(|v| v.exp())`.

use super::adjoint::{accumulate, accumulate_elementwise, accumulate_seed, Seed};
use super::reads::Output;
use crate::real::Real;
use crate::value::{Input, Value};
use core::marker::PhantomData;
use nalgebra::{allocator::Allocator, DMatrix, DefaultAllocator, Dim, DimMin, DimMinimum, OMatrix};

/// The values whose `exp()` method has a derivative rule: `f32`, `f64` and square nalgebra
/// matrices (`DMatrix`, `SMatrix<T, N, N>`), each with the pullback of its own `exp`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `exp` method with a derivative rule",
    label = "`exp` is differentiated for `f32`, `f64` and square matrices",
    note = "on a matrix, nalgebra's `exp` is the matrix exponential of a square matrix; for the \
            exponential of each element write `m.map(|v| v.exp())`"
)]
pub trait Exponential: Value {
    /// What the pullback keeps.
    type Handle;
    /// `eˣ` and the handle of its pullback.
    fn exponential(x: impl Input<Self>) -> (Self, Self::Handle);
}

/// `y = x.exp()`: `eˣ` for a scalar, the matrix exponential `eᴬ` for a square matrix (the
/// value is nalgebra's own `exp`, bit for bit).
#[inline]
pub fn exp<X: Exponential>(x: impl Input<X>) -> (X, X::Handle) {
    X::exponential(x)
}

/// The pullback handle of `x.exp()` on a scalar.
pub struct Exp<X>(PhantomData<fn(&X)>);

macro_rules! scalar_exponential {
    ($t:ty) => {
        impl Exponential for $t {
            type Handle = Exp<$t>;
            #[inline]
            fn exponential(x: impl Input<$t>) -> ($t, Exp<$t>) {
                (x.into_buffer().exp(), Exp(PhantomData))
            }
        }
    };
}
scalar_exponential!(f64);
scalar_exponential!(f32);

impl<T: Real + Value<Elem = T>> Exp<T> {
    /// Pullback of `x.exp()` to a scalar `x`: derivative `eˣ = y`; reads `y`.
    #[inline]
    pub fn arg<'s>(&self, d_x: &mut Option<T>, seed: impl Into<Seed<'s, T>>, Output(y): Output<&T>)
    where
        T: 's,
    {
        accumulate_elementwise(d_x, seed.into(), y, |g, y| g * y);
    }
}

/// The pullback handle of `a.exp()` on a square matrix: it keeps `a`, which the pullback
/// reads (the result alone does not determine the derivative).
pub struct MatrixExp<T: Real, D: Dim>
where
    DefaultAllocator: Allocator<D, D>,
{
    a: OMatrix<T, D, D>,
}

impl<T: Real, D> Exponential for OMatrix<T, D, D>
where
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<DimMinimum<D, D>> + Allocator<D>,
{
    type Handle = MatrixExp<T, D>;

    /// nalgebra's `exp`. A dynamic matrix must be square or have one row (nalgebra's
    /// elementwise case): on other shapes nalgebra's `exp` computes no exponential, and the
    /// rule panics, naming the shape.
    #[inline]
    #[track_caller]
    fn exponential(x: impl Input<Self>) -> (Self, MatrixExp<T, D>) {
        let (rows, cols) = x.get().shape();
        assert!(
            rows == cols || rows == 1,
            "exp: the matrix exponential needs a square matrix, not ({rows}, {cols}); for the \
             exponential of each element write `m.map(|v| v.exp())`"
        );
        let y = x.get().exp();
        (y, MatrixExp { a: x.into_buffer() })
    }
}

impl<T: Real, D> MatrixExp<T, D>
where
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<DimMinimum<D, D>> + Allocator<D>,
{
    /// Pullback of `y = eᴬ` to `A`: `d_A += L(Aᵀ, G)`, where `L(X, E)`, the Fréchet
    /// derivative of the exponential at `X` in the direction `E`, is the upper-right block of
    /// `exp([[X, E], [0, X]])`. (`⟨G, L(A, E)⟩ = ⟨L(Aᵀ, G), E⟩` because
    /// `L(A, E) = ∫₀¹ e^{sA} E e^{(1−s)A} ds`.) A matrix of one row is nalgebra's elementwise
    /// case, derivative `y`. Reads `A` (kept in the handle) and `y`.
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_a: &mut Option<OMatrix<T, D, D>>,
        seed: impl Into<Seed<'s, OMatrix<T, D, D>>>,
        Output(y): Output<&OMatrix<T, D, D>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        if self.a.nrows() == 1 {
            return accumulate_elementwise(d_a, seed, y, |g, y| g * y);
        }
        let Some(g) = seed.get() else { return };
        // The derivative is linear in `G`: scaling it to unit size keeps the block
        // matrix's norm, and so the squarings of the exponential, those of `A` alone.
        let size = match g.amax() {
            // A zero seed still reaches `A` (the generated sweep relies on every present seed
            // leaving a contribution): it is its own contribution.
            s if s == T::zero() => return accumulate_seed(d_a, seed),
            s if s.is_finite() => s,
            // An infinite or NaN seed goes through unscaled, as it would through the block.
            _ => T::one(),
        };
        let contribution = frechet(&self.a, g, size);
        seed.done();
        accumulate(d_a, contribution);
    }
}

/// `size · L(Aᵀ, G / size)`: the upper-right block of the exponential of the block matrix
/// `[[Aᵀ, G/size], [0, Aᵀ]]`, scaled back.
pub(super) fn frechet<T: Real, D: Dim>(
    a: &OMatrix<T, D, D>,
    g: &OMatrix<T, D, D>,
    size: T,
) -> OMatrix<T, D, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    let n = a.nrows();
    let mut block = DMatrix::<T>::zeros(2 * n, 2 * n);
    for i in 0..n {
        for j in 0..n {
            let at = a[(j, i)];
            block[(i, j)] = at;
            block[(n + i, n + j)] = at;
            block[(i, n + j)] = g[(i, j)] / size;
        }
    }
    let e = dynamic_exp(block);
    let mut out = g.copied();
    for i in 0..n {
        for j in 0..n {
            out[(i, j)] = e[(i, n + j)] * size;
        }
    }
    out
}

/// nalgebra's `exp` of a dynamic matrix, outside any `where` clause on `D`: one on
/// `DefaultAllocator` would keep rustc from seeing that `DMatrix` is an `OMatrix`.
pub(super) fn dynamic_exp<T: Real>(m: DMatrix<T>) -> DMatrix<T> {
    m.exp()
}
