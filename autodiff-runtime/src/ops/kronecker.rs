//! `a.kronecker(&b)`: the Kronecker product `K = A ⊗ B`, the block matrix whose block
//! `(i₁, j₁)` is `A[i₁, j₁]·B`. The value is nalgebra's own, bit for bit; each pullback reads
//! the other operand.
// The forwards return `(value, handle)` pairs of generic nalgebra matrices, spelled out.
#![allow(clippy::type_complexity)]

use super::adjoint::{slot_or_zeros, Seed};
use super::reads::Operand;
use crate::real::Real;
use crate::value::assert_same_shape;
use core::marker::PhantomData;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, DimMul, DimProd, OMatrix};

/// The pullback handle of `a.kronecker(&b)`: the shapes of `a` and `b`.
pub struct Kronecker<T, R1, C1, R2, C2> {
    a: (R1, C1),
    b: (R2, C2),
    of: PhantomData<fn() -> T>,
}

/// `K = A ⊗ B`: `K[i₁·r₂ + i₂, j₁·c₂ + j₂] = A[i₁, j₁]·B[i₂, j₂]` for `B` of shape
/// `(r₂, c₂)`; nalgebra's `kronecker`. Derivatives: `d_A[i₁, j₁] = ⟨block (i₁, j₁) of G, B⟩`,
/// `d_B = Σ_{i₁, j₁} A[i₁, j₁]·(block (i₁, j₁) of G)`.
#[inline]
pub fn kronecker<T: Real, R1, C1, R2: Dim, C2: Dim>(
    a: &OMatrix<T, R1, C1>,
    b: &OMatrix<T, R2, C2>,
) -> (
    OMatrix<T, DimProd<R1, R2>, DimProd<C1, C2>>,
    Kronecker<T, R1, C1, R2, C2>,
)
where
    R1: Dim + DimMul<R2>,
    C1: Dim + DimMul<C2>,
    DefaultAllocator:
        Allocator<R1, C1> + Allocator<R2, C2> + Allocator<DimProd<R1, R2>, DimProd<C1, C2>>,
{
    let handle = Kronecker {
        a: a.shape_generic(),
        b: b.shape_generic(),
        of: PhantomData,
    };
    (a.kronecker(b), handle)
}

fn dims<R: Dim, C: Dim>((r, c): (R, C)) -> (usize, usize) {
    (r.value(), c.value())
}

/// `f(i₁, j₁, block)` for every block of `g` (the seed of `A ⊗ B`), each as a function from
/// the index in `B` to the seed's entry; checks the seed's shape.
#[track_caller]
fn blocks<T: Real, R: Dim, C: Dim>(
    g: &OMatrix<T, R, C>,
    (r1, c1): (usize, usize),
    (r2, c2): (usize, usize),
    mut f: impl FnMut(usize, usize, &dyn Fn(usize, usize) -> T),
) where
    DefaultAllocator: Allocator<R, C>,
{
    assert_same_shape("kronecker", g.shape(), (r1 * r2, c1 * c2));
    for j1 in 0..c1 {
        for i1 in 0..r1 {
            f(i1, j1, &|i2, j2| g[(i1 * r2 + i2, j1 * c2 + j2)]);
        }
    }
}

impl<T: Real, R1, C1, R2: Dim, C2: Dim> Kronecker<T, R1, C1, R2, C2>
where
    R1: Dim + DimMul<R2>,
    C1: Dim + DimMul<C2>,
    DefaultAllocator:
        Allocator<R1, C1> + Allocator<R2, C2> + Allocator<DimProd<R1, R2>, DimProd<C1, C2>>,
{
    /// Pullback of `A ⊗ B` to `A`: `d_A[i₁, j₁] += Σ_{i₂, j₂} G[i₁·r₂ + i₂, j₁·c₂ + j₂]·B[i₂, j₂]`;
    /// reads `B`.
    #[track_caller]
    pub fn lhs<'s>(
        &self,
        d_a: &mut Option<OMatrix<T, R1, C1>>,
        seed: impl Into<Seed<'s, OMatrix<T, DimProd<R1, R2>, DimProd<C1, C2>>>>,
        Operand(b): Operand<1, &OMatrix<T, R2, C2>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        assert_same_shape("kronecker", b.shape(), dims(self.b));
        let acc = slot_or_zeros("kronecker", d_a, self.a);
        blocks(g, dims(self.a), dims(self.b), |i1, j1, block| {
            let mut s = T::zero();
            for j2 in 0..b.ncols() {
                for i2 in 0..b.nrows() {
                    s += block(i2, j2) * b[(i2, j2)];
                }
            }
            acc[(i1, j1)] += s;
        });
        seed.done();
    }

    /// Pullback of `A ⊗ B` to `B`: `d_B[i₂, j₂] += Σ_{i₁, j₁} A[i₁, j₁]·G[i₁·r₂ + i₂, j₁·c₂ + j₂]`;
    /// reads `A`.
    #[track_caller]
    pub fn rhs<'s>(
        &self,
        d_b: &mut Option<OMatrix<T, R2, C2>>,
        seed: impl Into<Seed<'s, OMatrix<T, DimProd<R1, R2>, DimProd<C1, C2>>>>,
        Operand(a): Operand<0, &OMatrix<T, R1, C1>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        assert_same_shape("kronecker", a.shape(), dims(self.a));
        let (r2, c2) = dims(self.b);
        let acc = slot_or_zeros("kronecker", d_b, self.b);
        blocks(g, dims(self.a), (r2, c2), |i1, j1, block| {
            let s = a[(i1, j1)];
            for j2 in 0..c2 {
                for i2 in 0..r2 {
                    acc[(i2, j2)] += s * block(i2, j2);
                }
            }
        });
        seed.done();
    }
}
