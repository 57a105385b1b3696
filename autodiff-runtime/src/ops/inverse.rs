//! Rules that factorize a square matrix `A` with LU (partial pivoting, nalgebra's `LU`):
//! `m.determinant()`, `m.try_inverse().unwrap()` (or `.expect(..)`) and
//! `a.lu().solve(&b).unwrap()` (or `.expect(..)`). Each value is nalgebra's own, bit for bit;
//! the handle keeps what the pullback needs: the LU factor, and never an explicit inverse
//! that the value did not already produce.
//!
//! The pullbacks solve with the transposed factor: `PA = LU` gives `Aᵀ = Uᵀ Lᵀ P`, so
//! `Aᵀ w = g` is one solve with `Uᵀ`, one with `Lᵀ` and the inverse permutation.
// The forwards return `(value, handle)` pairs of generic nalgebra matrices, spelled out.
#![allow(clippy::type_complexity)]

use super::adjoint::{accumulate, scalar_seed, Seed};
use super::reads::Output;
use crate::buffers::{self, Fill};
use crate::linalg::{gemm_into, Op};
use crate::real::Real;
use nalgebra::{
    allocator::Allocator, DMatrix, DefaultAllocator, Dim, DimMin, OMatrix, PermutationSequence, LU,
};

/// The LU factor of a square matrix, unpacked: `P·A = L·U` with `L` unit lower triangular.
pub struct Factor<T: Real, D: Dim>
where
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    p: PermutationSequence<D>,
    l: OMatrix<T, D, D>,
    u: OMatrix<T, D, D>,
}

impl<T: Real, D> Factor<T, D>
where
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    fn new(lu: LU<T, D, D>) -> Self {
        Factor {
            p: lu.p().clone(),
            l: lu.l(),
            u: lu.u(),
        }
    }

    /// `b ← A⁻ᵀ b`: the solution of `Aᵀ x = b`, by `Uᵀ z = b`, `Lᵀ y = z`, `x = P⁻¹ y`.
    /// Returns `false` (and garbage in `b`) when `U` has a zero pivot: `A` is singular.
    fn solve_transposed<C: Dim>(&self, b: &mut OMatrix<T, D, C>) -> bool
    where
        DefaultAllocator: Allocator<D, C>,
    {
        if !self.u.tr_solve_upper_triangular_mut(b) {
            return false;
        }
        // `L` has ones on its diagonal: dividing by them is exact.
        self.l.tr_solve_lower_triangular_mut(b);
        self.p.inv_permute_rows(b);
        true
    }
}

/// `slot += alpha · op_a(a) · op_b(b)`, in a new buffer of shape `(r, c)` from the pool when
/// the slot is empty.
#[track_caller]
pub(crate) fn add_product<T: Real, R: Dim, C: Dim, R1: Dim, C1: Dim, R2: Dim, C2: Dim>(
    slot: &mut Option<OMatrix<T, R, C>>,
    (r, c): (R, C),
    alpha: T,
    (a, op_a): (&OMatrix<T, R1, C1>, Op),
    (b, op_b): (&OMatrix<T, R2, C2>, Op),
) where
    DefaultAllocator: Allocator<R, C> + Allocator<R1, C1> + Allocator<R2, C2>,
{
    match slot {
        Some(acc) => gemm_into(acc, alpha, a, op_a, b, op_b, T::one()),
        None => {
            let mut out = buffers::matrix(r, c, Fill::Overwritten);
            gemm_into(&mut out, alpha, a, op_a, b, op_b, T::zero());
            *slot = Some(out);
        }
    }
}

/// Panics, naming the operation, when a dynamic matrix is not square.
#[track_caller]
fn assert_square<T: Real, D: Dim>(what: &str, m: &OMatrix<T, D, D>)
where
    DefaultAllocator: Allocator<D, D>,
{
    if !m.is_square() {
        panic!("{what}: shape {:?} is not square", m.shape());
    }
}

// ------------------------------------------------------------------------- determinant

/// The pullback handle of `m.determinant()`: the LU factor of `m` and the determinant it
/// gives, or, when `m` is singular (a zero pivot), `m` itself for its cofactors.
pub enum Determinant<T: Real, D: Dim>
where
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    /// An invertible matrix: its factor and `det A` as the factor gives it.
    Regular(Factor<T, D>, T),
    /// A singular matrix (by its LU factor), kept whole.
    Singular(OMatrix<T, D, D>),
}

/// `s = det A`, nalgebra's `determinant` (explicit formulas up to 3×3, LU beyond, whose
/// determinant is taken from the factor computed here, the same bits). Derivative
/// `∂s/∂A = det(A)·A⁻ᵀ`, the cofactor matrix. A dynamic matrix that is not square panics.
#[track_caller]
pub fn determinant<T: Real, D>(m: &OMatrix<T, D, D>) -> (T, Determinant<T, D>)
where
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    assert_square("determinant", m);
    let lu = LU::new(buffers::copy(m));
    let det = if m.nrows() <= 3 {
        m.determinant()
    } else {
        lu.determinant()
    };
    let handle = if lu.is_invertible() {
        let of_factor = lu.determinant();
        Determinant::Regular(Factor::new(lu), of_factor)
    } else {
        Determinant::Singular(buffers::copy(m))
    };
    (det, handle)
}

impl<T: Real, D> Determinant<T, D>
where
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    /// Pullback of `m.determinant()` to `m`: `d_m += g·det(A)·A⁻ᵀ`, the solution of
    /// `Aᵀ X = g·det(A)·I` by the kept factor (no inverse is formed). For a singular `A`
    /// (a zero pivot), `det(A)·A⁻ᵀ` is the cofactor matrix, computed from the minors: its
    /// entry `(i, j)` is `(−1)^(i+j)` times the determinant of `A` without row `i` and
    /// column `j` (zero when the rank is below `n − 1`).
    #[track_caller]
    pub fn arg<'s>(&self, d_m: &mut Option<OMatrix<T, D, D>>, seed: impl Into<Seed<'s, T>>)
    where
        T: 's,
    {
        let Some(g) = scalar_seed(seed.into()) else {
            return;
        };
        match self {
            Determinant::Regular(factor, det) => {
                let n = factor.u.shape_generic().0;
                let mut x = buffers::matrix(n, n, Fill::Zeros);
                x.fill_diagonal(g * *det);
                let solved = factor.solve_transposed(&mut x);
                debug_assert!(solved, "determinant: the factor of an invertible matrix");
                accumulate(d_m, x);
            }
            Determinant::Singular(a) => {
                let mut c = cofactors(a);
                c.apply(|v| *v *= g);
                accumulate(d_m, c);
            }
        }
    }
}

/// The cofactor matrix of `a`: `(−1)^(i+j)·det(a without row i and column j)`.
fn cofactors<T: Real, D: Dim>(a: &OMatrix<T, D, D>) -> OMatrix<T, D, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    let n = a.nrows();
    let whole = DMatrix::from_iterator(n, n, a.iter().copied());
    let mut c = a.clone_owned();
    for j in 0..n {
        for i in 0..n {
            let minor = whole.clone().remove_row(i).remove_column(j);
            let sign = if (i + j) % 2 == 0 {
                T::one()
            } else {
                -T::one()
            };
            c[(i, j)] = sign * minor.determinant();
        }
    }
    c
}

// ----------------------------------------------------------------------------- inverse

/// The pullback handle of `m.try_inverse().unwrap()`: nothing; the pullback reads the
/// inverse, the operation's result.
pub struct Inverse<T, D>(core::marker::PhantomData<fn() -> (T, D)>);

/// `Y = A⁻¹`, nalgebra's `try_inverse`, and the panic of `.unwrap()` on a matrix that is
/// not invertible. Derivative `dY = −Y·dA·Y`.
#[track_caller]
pub fn inverse<T: Real, D: Dim>(a: &OMatrix<T, D, D>) -> (OMatrix<T, D, D>, Inverse<T, D>)
where
    DefaultAllocator: Allocator<D, D>,
{
    try_inverse(a).unwrap_or_else(|| {
        panic!("try_inverse: the matrix is not invertible (`.unwrap()` on `None`)")
    })
}

/// `m.try_inverse().expect(msg)`: [`inverse`], panicking with `msg` on a matrix that is not
/// invertible.
#[track_caller]
pub fn inverse_expect<T: Real, D: Dim>(
    a: &OMatrix<T, D, D>,
    msg: &str,
) -> (OMatrix<T, D, D>, Inverse<T, D>)
where
    DefaultAllocator: Allocator<D, D>,
{
    try_inverse(a).unwrap_or_else(|| panic!("{msg}"))
}

#[track_caller]
fn try_inverse<T: Real, D: Dim>(a: &OMatrix<T, D, D>) -> Option<(OMatrix<T, D, D>, Inverse<T, D>)>
where
    DefaultAllocator: Allocator<D, D>,
{
    assert_square("try_inverse", a);
    let mut y = buffers::copy(a);
    y.try_inverse_mut()
        .then_some((y, Inverse(core::marker::PhantomData)))
}

impl<T: Real, D: Dim> Inverse<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    /// Pullback of `Y = A⁻¹` to `A`: `d_A += −Yᵀ·G·Yᵀ`; reads `Y`.
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
        let Some(g) = seed.get() else { return };
        let n = y.shape_generic();
        let mut gyt = buffers::matrix(n.0, n.1, Fill::Overwritten);
        gemm_into(
            &mut gyt,
            T::one(),
            g,
            Op::Plain,
            y,
            Op::Transposed,
            T::zero(),
        );
        seed.done();
        add_product(d_a, n, -T::one(), (y, Op::Transposed), (&gyt, Op::Plain));
        buffers::give_matrix(gyt);
    }
}

// ---------------------------------------------------------------------------- LU solve

/// The pullback handle of `a.lu().solve(&b).unwrap()`: the LU factor of `a`.
pub struct LuSolve<T: Real, D: Dim>
where
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    factor: Factor<T, D>,
}

/// `X = A⁻¹B`: nalgebra's `a.lu().solve(&b)` (one factorization, kept in the handle), and
/// the panic of `.unwrap()` when `A` is singular. `b` has `a`'s row dimension type
/// (`DMatrix`/`DVector` with `DMatrix`, `SMatrix<T, N, K>` with `SMatrix<T, N, N>`).
/// Derivatives: `dX = A⁻¹(dB − dA·X)`.
#[track_caller]
pub fn lu_solve<T: Real, D, C: Dim>(
    a: &OMatrix<T, D, D>,
    b: &OMatrix<T, D, C>,
) -> (OMatrix<T, D, C>, LuSolve<T, D>)
where
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D> + Allocator<D, C>,
{
    try_lu_solve(a, b)
        .unwrap_or_else(|| panic!("lu().solve: the matrix is singular (`.unwrap()` on `None`)"))
}

/// `a.lu().solve(&b).expect(msg)`: [`lu_solve`], panicking with `msg` when `A` is singular.
#[track_caller]
pub fn lu_solve_expect<T: Real, D, C: Dim>(
    a: &OMatrix<T, D, D>,
    b: &OMatrix<T, D, C>,
    msg: &str,
) -> (OMatrix<T, D, C>, LuSolve<T, D>)
where
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D> + Allocator<D, C>,
{
    try_lu_solve(a, b).unwrap_or_else(|| panic!("{msg}"))
}

#[track_caller]
fn try_lu_solve<T: Real, D, C: Dim>(
    a: &OMatrix<T, D, D>,
    b: &OMatrix<T, D, C>,
) -> Option<(OMatrix<T, D, C>, LuSolve<T, D>)>
where
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D> + Allocator<D, C>,
{
    assert_square("lu().solve", a);
    let lu = LU::new(buffers::copy(a));
    let mut x = buffers::copy(b);
    if !lu.solve_mut(&mut x) {
        buffers::give_matrix(x);
        return None;
    }
    let factor = Factor::new(lu);
    Some((x, LuSolve { factor }))
}

impl<T: Real, D> LuSolve<T, D>
where
    D: DimMin<D, Output = D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    /// `A⁻ᵀ G` by the kept factor.
    fn adjoint_solve<C: Dim>(&self, g: &OMatrix<T, D, C>) -> OMatrix<T, D, C>
    where
        DefaultAllocator: Allocator<D, C>,
    {
        let mut w = buffers::copy(g);
        let solved = self.factor.solve_transposed(&mut w);
        debug_assert!(solved, "lu().solve: the factor of an invertible matrix");
        w
    }

    /// Pullback of `X = A⁻¹B` to `A`: `d_A += −(A⁻ᵀG)·Xᵀ`, `A⁻ᵀG` by one solve with the
    /// transposed factor; reads `X`.
    #[track_caller]
    pub fn lhs<'s, C: Dim>(
        &self,
        d_a: &mut Option<OMatrix<T, D, D>>,
        seed: impl Into<Seed<'s, OMatrix<T, D, C>>>,
        Output(x): Output<&OMatrix<T, D, C>>,
    ) where
        T: 's,
        DefaultAllocator: Allocator<D, C>,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        let w = self.adjoint_solve(g);
        seed.done();
        let n = self.factor.u.shape_generic();
        add_product(d_a, n, -T::one(), (&w, Op::Plain), (x, Op::Transposed));
        buffers::give_matrix(w);
    }

    /// Pullback of `X = A⁻¹B` to `B`: `d_B += A⁻ᵀG`, by one solve with the transposed
    /// factor.
    #[track_caller]
    pub fn rhs<'s, C: Dim>(
        &self,
        d_b: &mut Option<OMatrix<T, D, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, D, C>>>,
    ) where
        T: 's,
        DefaultAllocator: Allocator<D, C>,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        let w = self.adjoint_solve(g);
        seed.done();
        accumulate(d_b, w);
    }
}
