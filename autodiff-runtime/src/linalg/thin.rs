//! Thin products, written into `out` with loops that read each operand once, compiled for the
//! processor's widest registers: a left operand of at most four columns (the spiral net's
//! `X·W1` and `dS·W2ᵀ`: each column of the result a combination of them, in one pass),
//! `aᵀ·b` into at most four columns (`Hᵀ·dS`: dot products, in `dots.rs`), and `a·b` into at
//! most four columns (`H·W2`: blocks of rows in registers, in `columns.rs`). On these shapes
//! they are faster than the general kernel and allocate nothing (the kernel packs its
//! operands into scratch it allocates; BENCHMARKS.md, "Matrix products").

mod columns;
mod dots;

use super::Strided;
use crate::real::Real;

/// The most columns of the left operand for [`product`].
pub const MAX: usize = 4;

/// `out = alpha · a · b + beta · out` (`beta = None`: the old `out` is not read) when the
/// shape and layouts suit a loop here; `false`, with nothing written, otherwise.
pub(super) fn product<T: Real>(
    out: &mut [T],
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: Option<T>,
) -> bool {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 || k == 0 {
        return false;
    }
    let a_by_columns = a.row_stride == 1 && a.col_stride == m;
    let a_by_rows = a.col_stride == 1 && a.row_stride == k;
    let b_by_columns = b.row_stride == 1 && b.col_stride == k;
    // aᵀ·b into at most four columns (`Hᵀ·dS`): dot products sharing the loads of a column
    // of `a`. (With few rows instead, `Xᵀ·dH`, the kernel is faster: 39 against 23 GFLOP/s.)
    if a_by_rows && b_by_columns && n <= MAX {
        return dots::product(out, alpha, a.data, b.data, m, k, n, beta);
    }
    // A few result columns from a long left operand (`H·W2`): blocks of rows in registers.
    if a_by_columns && n <= MAX && k > MAX {
        return columns::product(out, alpha, a.data, m, b, beta);
    }
    if a_by_columns && k <= MAX {
        let (a, b) = (a.data, b);
        crate::simd::dispatch(
            #[inline(always)]
            || match beta {
                None => few_inner::<T, false>(out, alpha, a, m, k, b, T::zero()),
                Some(beta) => few_inner::<T, true>(out, alpha, a, m, k, b, beta),
            },
        );
        return true;
    }
    false
}

/// `out[:, j] = alpha · Σ_p b[p, j] · a[:, p]` for `a` (`m × k`, by columns) with `k ≤ 4`:
/// each column of `out` written once, in one pass.
#[inline(always)]
fn few_inner<T: Real, const ACCUMULATE: bool>(
    out: &mut [T],
    alpha: T,
    a: &[T],
    m: usize,
    k: usize,
    b: Strided<'_, T>,
    beta: T,
) {
    let column = |p: usize| &a[p * m..][..m];
    for (j, out_j) in out.chunks_exact_mut(m).enumerate() {
        let s = |p: usize| alpha * b.data[p * b.row_stride + j * b.col_stride];
        match k {
            1 => {
                let (s0, a0) = (s(0), column(0));
                for (o, x0) in out_j.iter_mut().zip(a0) {
                    *o = keep::<T, ACCUMULATE>(*o, beta, s0 * *x0);
                }
            }
            2 => {
                let (s0, s1, a0, a1) = (s(0), s(1), column(0), column(1));
                for ((o, x0), x1) in out_j.iter_mut().zip(a0).zip(a1) {
                    *o = keep::<T, ACCUMULATE>(*o, beta, s0 * *x0 + s1 * *x1);
                }
            }
            3 => {
                let (s0, s1, s2) = (s(0), s(1), s(2));
                let (a0, a1, a2) = (column(0), column(1), column(2));
                for (((o, x0), x1), x2) in out_j.iter_mut().zip(a0).zip(a1).zip(a2) {
                    *o = keep::<T, ACCUMULATE>(*o, beta, s0 * *x0 + s1 * *x1 + s2 * *x2);
                }
            }
            _ => {
                let (s0, s1, s2, s3) = (s(0), s(1), s(2), s(3));
                let (a0, a1, a2, a3) = (column(0), column(1), column(2), column(3));
                let it = out_j.iter_mut().zip(a0).zip(a1).zip(a2).zip(a3);
                for ((((o, x0), x1), x2), x3) in it {
                    *o = keep::<T, ACCUMULATE>(*o, beta, s0 * *x0 + s1 * *x1 + s2 * *x2 + s3 * *x3);
                }
            }
        }
    }
}

/// The new value of an entry of `out`: `beta · old + v` when accumulating, `v` otherwise.
#[inline(always)]
fn keep<T: Real, const ACCUMULATE: bool>(old: T, beta: T, v: T) -> T {
    if ACCUMULATE {
        beta * old + v
    } else {
        v
    }
}
