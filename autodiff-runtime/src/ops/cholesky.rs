//! Rules of the Cholesky factorization `A = L·Lᵀ` of a symmetric positive-definite matrix
//! (nalgebra's `Cholesky`, which reads the lower triangle of `A` only):
//! `a.cholesky().unwrap().l()` and `a.cholesky().unwrap().solve(&b)` (each also with
//! `.expect(..)` in place of `.unwrap()`), and a factorization named once,
//! `let c = a.cholesky().unwrap();`, then used as `c.l()` and `c.solve(&b)` any number of
//! times. The values are nalgebra's own, bit for bit.
//!
//! A named factorization is the factor `L` itself (the rule [`cholesky_l`]): `c.l()` is that
//! value, and `c.solve(&b)` ([`cholesky_factor_solve`]) solves with it, its pullbacks giving
//! `A` its gradient directly (`O(n²)` per column of `b`) rather than through `L`. So the
//! forward sweep factorizes once, and the reverse sweep runs the `O(n³)` pullback of the
//! factorization once, for the sum of the adjoints of every `c.l()`, and only when some
//! `c.l()` reaches the result.
//!
//! `A` is taken as symmetric: the gradient to `A` is the symmetric matrix whose inner product
//! with every symmetric perturbation `dA` is the derivative along it (the rule for a
//! symmetric input, as Murray, "Differentiation of the Cholesky decomposition", 2016, and
//! the major frameworks state it). Through a symmetric construction (`m·mᵀ + c·I`) the
//! gradient to `m` is then exact; for a parameter `A` itself, each off-diagonal pair
//! `(i, j)`, `(j, i)` gets half the derivative along the pair each.
// The forwards return `(value, handle)` pairs of generic nalgebra matrices, spelled out.
#![allow(clippy::type_complexity)]

use super::adjoint::{accumulate, Seed};
use super::inverse::add_product;
use super::reads::{Const, Output};
use crate::buffers::{self, Fill};
use crate::linalg::{factorize_in_place, lower_t_mul_lower, solve_lower_right_by_rows, Op};
use crate::real::Real;
use core::marker::PhantomData;
use nalgebra::{allocator::Allocator, Cholesky, DefaultAllocator, Dim, OMatrix};

/// The Cholesky factor of `a`, or `None` when `a` is not positive definite.
#[track_caller]
fn factorize<T: Real, D: Dim>(what: &str, a: &OMatrix<T, D, D>) -> Option<Cholesky<T, D>>
where
    DefaultAllocator: Allocator<D, D>,
{
    if !a.is_square() {
        panic!("{what}: shape {:?} is not square", a.shape());
    }
    // nalgebra's factorization, blocked and on the threads, bit for bit (`linalg::cholesky`).
    let mut factor = buffers::copy(a);
    let n = factor.nrows();
    if factorize_in_place(factor.as_mut_slice(), n) {
        Some(Cholesky::pack_dirty(factor))
    } else {
        buffers::give_matrix(factor);
        None
    }
}

const NOT_DEFINITE: &str = "the matrix is not positive definite (`.unwrap()` on `None`)";

// ------------------------------------------------------------------------------ factor

/// The pullback handle of `a.cholesky().unwrap().l()`: nothing; the pullback reads the
/// factor `L`, the operation's result.
pub struct CholeskyL<T, D>(PhantomData<fn() -> (T, D)>);

/// `L`, the lower-triangular factor of `A = L·Lᵀ` (zeros above the diagonal), as
/// nalgebra's `a.cholesky().unwrap().l()`; panics as `.unwrap()` when `A` is not positive
/// definite. Derivative `dL = L·Φ(L⁻¹·dA·L⁻ᵀ)`, where `Φ` keeps the lower triangle and halves
/// the diagonal.
#[track_caller]
pub fn cholesky_l<T: Real, D: Dim>(a: &OMatrix<T, D, D>) -> (OMatrix<T, D, D>, CholeskyL<T, D>)
where
    DefaultAllocator: Allocator<D, D>,
{
    let Some(chol) = factorize("cholesky", a) else {
        panic!("cholesky: {NOT_DEFINITE}")
    };
    (chol.unpack(), CholeskyL(PhantomData))
}

/// `a.cholesky().expect(msg).l()`: [`cholesky_l`], panicking with `msg` when `A` is not
/// positive definite.
#[track_caller]
pub fn cholesky_l_expect<T: Real, D: Dim>(
    a: &OMatrix<T, D, D>,
    msg: &str,
) -> (OMatrix<T, D, D>, CholeskyL<T, D>)
where
    DefaultAllocator: Allocator<D, D>,
{
    let Some(chol) = factorize("cholesky", a) else {
        panic!("{msg}")
    };
    (chol.unpack(), CholeskyL(PhantomData))
}

impl<T: Real, D: Dim> CholeskyL<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    /// Pullback of `L = chol(A)` to `A`: with `P = Φ(Lᵀ·Ḡ)` and `S = L⁻ᵀ·P·L⁻¹` (two
    /// triangular solves with `L` from the right), `d_A += (S + Sᵀ)/2`. Only the lower
    /// triangle of the seed matters (`L` has zeros above its diagonal). Reads `L`.
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_a: &mut Option<OMatrix<T, D, D>>,
        seed: impl Into<Seed<'s, OMatrix<T, D, D>>>,
        Output(l): Output<&OMatrix<T, D, D>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        let (r, c) = l.shape_generic();
        let n = l.nrows();
        // P = Φ(Lᵀ·G), with G's upper triangle dropped (it does not reach L). A seed that is
        // diagonal below its upper triangle (from the diagonal of `L` alone: a log-determinant)
        // makes `Lᵀ·G` upper-triangular with diagonal `Lᵢᵢ·Gᵢᵢ`: `P` is then diagonal, with no
        // product to compute.
        let diagonal = (0..n).all(|j| g.column(j).iter().skip(j + 1).all(|v| v.is_zero()));
        let mut p = buffers::matrix(r, c, Fill::Overwritten);
        if diagonal {
            p.fill(T::zero());
            for i in 0..n {
                p[(i, i)] = l[(i, i)] * g[(i, i)];
            }
            seed.done();
        } else {
            let mut g_low = buffers::copy(g);
            g_low.fill_upper_triangle(T::zero(), 1);
            seed.done();
            lower_t_mul_lower(p.as_mut_slice(), l.as_slice(), g_low.as_slice(), n);
            buffers::give_matrix(g_low);
            p.fill_upper_triangle(T::zero(), 1);
        }
        let half = T::one() / (T::one() + T::one());
        for i in 0..n {
            p[(i, i)] *= half;
        }
        // M = P·L⁻¹ (lower-triangular, as P is), then Sᵀ = Mᵀ·L⁻¹ (= L⁻ᵀ·Pᵀ·L⁻¹), by blocked
        // solves whose work is mostly matrix products, their rows split between threads.
        solve_lower_right_by_rows(p.as_mut_slice(), n, l.as_slice(), n, true);
        let mut st = buffers::matrix(r, c, Fill::Overwritten);
        p.transpose_to(&mut st);
        buffers::give_matrix(p);
        solve_lower_right_by_rows(st.as_mut_slice(), n, l.as_slice(), n, false);
        // (S + Sᵀ)/2, in Sᵀ's buffer.
        symmetrize(st.as_mut_slice(), n, half);
        accumulate(d_a, st);
    }
}

/// `M ← (M + Mᵀ)·half` for the column-major `n × n` `m`, by tiles of 32 × 32 and their
/// mirror tiles, so that the transposed reads stay in cache (element by element, every read
/// of a row missed it: a tenth of W6's step).
fn symmetrize<T: Real>(m: &mut [T], n: usize, half: T) {
    const TILE: usize = 32;
    for j0 in (0..n).step_by(TILE) {
        for i0 in (0..=j0).step_by(TILE) {
            for j in j0..(j0 + TILE).min(n) {
                for i in i0..(i0 + TILE).min(j) {
                    let v = (m[j * n + i] + m[i * n + j]) * half;
                    m[j * n + i] = v;
                    m[i * n + j] = v;
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------- solve

/// The pullback handle of `a.cholesky().unwrap().solve(&b)`: the Cholesky factor of `a`.
pub struct CholeskySolve<T: Real, D: Dim>
where
    DefaultAllocator: Allocator<D, D>,
{
    chol: Cholesky<T, D>,
}

/// `X = A⁻¹B` by the Cholesky factor of `A`, as nalgebra's `a.cholesky().unwrap().solve(&b)`
/// (the factor is kept in the handle); panics as `.unwrap()` when `A` is not positive
/// definite. `b` has `a`'s row dimension type. Derivatives `dX = A⁻¹(dB − dA·X)`.
#[track_caller]
pub fn cholesky_solve<T: Real, D: Dim, C: Dim>(
    a: &OMatrix<T, D, D>,
    b: &OMatrix<T, D, C>,
) -> (OMatrix<T, D, C>, CholeskySolve<T, D>)
where
    DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
{
    let Some(chol) = factorize("cholesky().solve", a) else {
        panic!("cholesky: {NOT_DEFINITE}")
    };
    solve_with(chol, b)
}

/// `a.cholesky().expect(msg).solve(&b)`: [`cholesky_solve`], panicking with `msg` when `A`
/// is not positive definite.
#[track_caller]
pub fn cholesky_solve_expect<T: Real, D: Dim, C: Dim>(
    a: &OMatrix<T, D, D>,
    b: &OMatrix<T, D, C>,
    msg: &str,
) -> (OMatrix<T, D, C>, CholeskySolve<T, D>)
where
    DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
{
    let Some(chol) = factorize("cholesky().solve", a) else {
        panic!("{msg}")
    };
    solve_with(chol, b)
}

fn solve_with<T: Real, D: Dim, C: Dim>(
    chol: Cholesky<T, D>,
    b: &OMatrix<T, D, C>,
) -> (OMatrix<T, D, C>, CholeskySolve<T, D>)
where
    DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
{
    let mut x = buffers::copy(b);
    chol.solve_mut(&mut x);
    (x, CholeskySolve { chol })
}

impl<T: Real, D: Dim> CholeskySolve<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    /// `A⁻¹G` by the kept factor: two triangular solves (`A` is symmetric, so `A⁻ᵀ = A⁻¹`).
    fn adjoint_solve<C: Dim>(&self, g: &OMatrix<T, D, C>) -> OMatrix<T, D, C>
    where
        DefaultAllocator: Allocator<D, C>,
    {
        let mut w = buffers::copy(g);
        self.chol.solve_mut(&mut w);
        w
    }

    /// Pullback of `X = A⁻¹B` to `A`: with `W = A⁻¹G`, `d_A += −(W·Xᵀ + X·Wᵀ)/2` (the
    /// symmetric part of `−W·Xᵀ`); reads `X`.
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
        add_solve_adjoint(d_a, self.chol.l_dirty().shape_generic(), w, x);
    }

    /// Pullback of `X = A⁻¹B` to `B`: `d_B += A⁻¹G`, by two triangular solves with the kept
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

/// `d_A += −(W·Xᵀ + X·Wᵀ)/2`, the pullback to a symmetric `A` of `X = A⁻¹B` with
/// `W = A⁻¹G` (the chained and the named factorization's solve alike); gives `W` back.
fn add_solve_adjoint<T: Real, D: Dim, C: Dim>(
    d_a: &mut Option<OMatrix<T, D, D>>,
    n: (D, D),
    w: OMatrix<T, D, C>,
    x: &OMatrix<T, D, C>,
) where
    DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
{
    let minus_half = -T::one() / (T::one() + T::one());
    add_product(d_a, n, minus_half, (&w, Op::Plain), (x, Op::Transposed));
    add_product(d_a, n, minus_half, (x, Op::Plain), (&w, Op::Transposed));
    buffers::give_matrix(w);
}

// ------------------------------------------------------------- a named factorization

/// The pullback handle of `c.solve(&b)` on a factorization named by
/// `let c = a.cholesky().unwrap();`: nothing; the pullbacks read the factor `L` (the
/// constant the macro passes) and the solution.
pub struct CholeskyFactorSolve<T, D>(PhantomData<fn() -> (T, D)>);

/// `L⁻ᵀ·L⁻¹·G`: two triangular solves with the lower-triangular factor, as nalgebra's
/// `Cholesky::solve_mut` does them (so the bits are nalgebra's: it reads the lower triangle
/// only, which `L` shares with the factorization's own storage).
fn solve_with_factor<T: Real, D: Dim, C: Dim>(
    l: &OMatrix<T, D, D>,
    g: &OMatrix<T, D, C>,
) -> OMatrix<T, D, C>
where
    DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
{
    let mut w = buffers::copy(g);
    l.solve_lower_triangular_unchecked_mut(&mut w);
    l.ad_solve_lower_triangular_unchecked_mut(&mut w);
    w
}

/// `X = A⁻¹B` for `c.solve(&b)`, where `c` is the named factorization of `a`, given as its
/// factor `l` (`A = L·Lᵀ`): the value of nalgebra's `c.solve(&b)`. `a` is the operand the
/// gradient goes to; its values are not read (the factor was computed from them). Derivatives
/// `dX = A⁻¹(dB − dA·X)`.
#[track_caller]
pub fn cholesky_factor_solve<T: Real, D: Dim, C: Dim>(
    a: &OMatrix<T, D, D>,
    b: &OMatrix<T, D, C>,
    l: &OMatrix<T, D, D>,
) -> (OMatrix<T, D, C>, CholeskyFactorSolve<T, D>)
where
    DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
{
    crate::value::assert_same_shape("cholesky().solve", a.shape(), l.shape());
    if b.nrows() != l.nrows() {
        panic!(
            "cholesky().solve: the right-hand side has {} rows, the matrix {}",
            b.nrows(),
            l.nrows()
        );
    }
    (solve_with_factor(l, b), CholeskyFactorSolve(PhantomData))
}

impl<T: Real, D: Dim> CholeskyFactorSolve<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    /// Pullback of `X = A⁻¹B` to `A`: with `W = A⁻¹G`, `d_A += −(W·Xᵀ + X·Wᵀ)/2` (the
    /// symmetric part of `−W·Xᵀ`); reads `X` and the factor.
    #[track_caller]
    pub fn lhs<'s, C: Dim>(
        &self,
        d_a: &mut Option<OMatrix<T, D, D>>,
        seed: impl Into<Seed<'s, OMatrix<T, D, C>>>,
        Output(x): Output<&OMatrix<T, D, C>>,
        Const(l): Const<0, &OMatrix<T, D, D>>,
    ) where
        T: 's,
        DefaultAllocator: Allocator<D, C>,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        let w = solve_with_factor(l, g);
        seed.done();
        add_solve_adjoint(d_a, l.shape_generic(), w, x);
    }

    /// Pullback of `X = A⁻¹B` to `B`: `d_B += A⁻¹G`, by two triangular solves with the
    /// factor.
    #[track_caller]
    pub fn rhs<'s, C: Dim>(
        &self,
        d_b: &mut Option<OMatrix<T, D, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, D, C>>>,
        Const(l): Const<0, &OMatrix<T, D, D>>,
    ) where
        T: 's,
        DefaultAllocator: Allocator<D, C>,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        let w = solve_with_factor(l, g);
        seed.done();
        accumulate(d_b, w);
    }
}

#[cfg(test)]
mod tests {
    /// By tiles, the same as pair by pair, across and within tiles.
    #[test]
    fn symmetrize_by_tiles() {
        for n in [0, 1, 31, 32, 33, 70] {
            let m: Vec<f64> = (0..n * n).map(|k| (k * 7 % 13) as f64 - 6.0).collect();
            let mut got = m.clone();
            super::symmetrize(&mut got, n, 0.5);
            for j in 0..n {
                for i in 0..n {
                    assert_eq!(got[j * n + i], (m[j * n + i] + m[i * n + j]) * 0.5, "n {n}");
                }
            }
        }
    }
}
