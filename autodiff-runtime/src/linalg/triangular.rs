//! Triangular work of the Cholesky factor's reverse sweep, blocked so that most of it is
//! matrix products: `C ← C·L⁻¹` for a lower-triangular `L` against an n×n right-hand side,
//! where solving one column at a time (nalgebra's triangular solves) runs at a small fraction
//! of the product kernel's speed, and `Lᵀ·G` of two lower-triangular matrices at half a full
//! product's work.

use super::kernel::Strided;
use super::split::each_part;
use super::{max_threads, on_this_thread, product, threads_for_shards};
use crate::buffers::{self, Fill};
use crate::real::Real;
use crate::simd;
use nalgebra::Dyn;
use std::time::Duration;

/// Columns per diagonal block: solved by column operations inside the block, the rest of the
/// work (the update of the columns to the left) by one product per block.
const BLOCK: usize = 64;

/// `C ← C·L⁻¹` in place: `c` holds `rows × n` in column-major order, `l` the `n × n`
/// lower-triangular `L` in column-major order with `ld` rows (the leading block of a larger
/// matrix when `ld > n`; its upper triangle is not read). Blocks of
/// columns from the last to the first: with `L = [L₁₁ 0; L₂₁ L₂₂]` and `Y = C·L⁻¹`,
/// `Y₂ = C₂·L₂₂⁻¹` and then `Y₁ = (C₁ − Y₂·L₂₁)·L₁₁⁻¹`.
pub(crate) fn solve_lower_right<T: Real>(c: &mut [T], rows: usize, l: &[T], ld: usize, n: usize) {
    assert_eq!(c.len(), rows * n, "C is rows × n");
    assert!(
        ld >= n && (n == 0 || l.len() >= (n - 1) * ld + n),
        "L is n × n, ld ≥ n"
    );
    if rows == 0 {
        return;
    }
    let mut end = n;
    while end > 0 {
        let start = end.saturating_sub(BLOCK);
        solve_block(&mut c[rows * start..rows * end], rows, l, ld, start);
        if start > 0 {
            // C₁ ← C₁ − Y₂·L₂₁, with Y₂ the columns just solved and L₂₁ the rows
            // start..end, columns 0..start of L.
            let (left, solved) = c.split_at_mut(rows * start);
            let y2 = Strided {
                data: &solved[..rows * (end - start)],
                rows,
                cols: end - start,
                row_stride: 1,
                col_stride: rows,
            };
            let l21 = Strided {
                data: &l[start..],
                rows: end - start,
                cols: start,
                row_stride: 1,
                col_stride: ld,
            };
            product(left, -T::one(), y2, l21, Some(T::one()));
        }
        end = start;
    }
}

/// The fewest rows of `C` whose solve [`solve_lower_right_by_rows`] splits between threads.
const THREADED_ROWS: usize = 128;

/// `C ← C·L⁻¹` as [`solve_lower_right`] (`C` is `rows × n`, `L` is `n × n`), with the rows
/// of `C` (each solved on its own) cut into parts: each part is copied out, solved on a
/// thread of its own (its products too), and copied back, so that all of the solve runs on
/// every thread, not its products only. The parts are the same whether a worker was awake or
/// not, so the result is too.
///
/// When `lower` says that `C` is lower-triangular (square, zeros above its diagonal), so is
/// `C·L⁻¹`: a row `i` solves `x·L = c` with `xⱼ = 0` for `j > i`, so a part of rows `r0..r1`
/// needs only `L`'s leading `r1 × r1` block. Four parts of equal height then do about 0.47 of
/// the full solve's work, and on two threads the last part alone balances the first three.
pub(crate) fn solve_lower_right_by_rows<T: Real>(
    c: &mut [T],
    rows: usize,
    l: &[T],
    n: usize,
    lower: bool,
) {
    if rows < THREADED_ROWS {
        return solve_lower_right(c, rows, l, n, n);
    }
    let threads = threads_for_shards(max_threads());
    let parts = if lower { 4 } else { threads };
    if parts == 1 {
        return solve_lower_right(c, rows, l, n, n);
    }
    // Row boundaries on multiples of 8 (whole vectors of the column operations).
    let bound = |t: usize| ((rows * t / parts).div_ceil(8) * 8).min(rows);
    // The columns a part solves: those up to its last row's diagonal when `C` is lower.
    let width = |t: usize| if lower { bound(t + 1).min(n) } else { n };
    // The parts each thread solves, the last (largest) ones alone when `C` is lower.
    let mut work: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    for t in 0..parts {
        let (r0, r1, w) = (bound(t), bound(t + 1), width(t));
        let mut part = buffers::matrix::<T, _, _>(Dyn(r1 - r0), Dyn(w), Fill::Overwritten);
        for (to, from) in part
            .as_mut_slice()
            .chunks_exact_mut(r1 - r0)
            .zip(c.chunks_exact(rows))
        {
            to.copy_from_slice(&from[r0..r1]);
        }
        let thread = if lower {
            (threads - 1).saturating_sub(parts - 1 - t)
        } else {
            t
        };
        work[thread].push((t, part));
    }
    // About a quarter of a nanosecond per multiply-add, as products run.
    let total = rows * n * n / 2;
    let expected = Duration::from_nanos(u64::try_from(total / 4).unwrap_or(u64::MAX));
    each_part(&mut work, expected, |_, mine| {
        for (_, part) in mine.iter_mut() {
            let (part_rows, w) = part.shape();
            on_this_thread(|| solve_lower_right(part.as_mut_slice(), part_rows, l, n, w));
        }
    });
    for (t, part) in work.into_iter().flatten() {
        let (r0, r1) = (bound(t), bound(t + 1));
        for (to, from) in c
            .chunks_exact_mut(rows)
            .zip(part.as_slice().chunks_exact(r1 - r0))
        {
            to[r0..r1].copy_from_slice(from);
        }
        buffers::give_matrix(part);
    }
}

/// `out ← Lᵀ·G` for lower-triangular `L` and `G` (`n × n`, column-major, zeros above their
/// diagonals). Column `j` of `G` is zero above row `j`, so the block of result columns from
/// `j₀` needs only rows `j₀..n` of `G` and columns `j₀..n` of `Lᵀ`: one product per block,
/// half the work of the full product.
pub(crate) fn lower_t_mul_lower<T: Real>(out: &mut [T], l: &[T], g: &[T], n: usize) {
    assert!(
        out.len() == n * n && l.len() == n * n && g.len() == n * n,
        "n × n"
    );
    for (b, block) in out.chunks_mut(n * BLOCK).enumerate() {
        let j0 = b * BLOCK;
        let lt = Strided {
            data: &l[j0..],
            rows: n,
            cols: n - j0,
            row_stride: n,
            col_stride: 1,
        };
        let g_rows = Strided {
            data: &g[j0 + j0 * n..],
            rows: n - j0,
            cols: block.len() / n,
            row_stride: 1,
            col_stride: n,
        };
        product(block, T::one(), lt, g_rows, None);
    }
}

/// `C_b ← C_b·L_bb⁻¹` for the block of columns `start..start + width` (`block` holds them):
/// from the last column to the first, subtract the solved columns to its right times `L`'s
/// entries below the diagonal, then divide by the diagonal entry.
fn solve_block<T: Real>(block: &mut [T], rows: usize, l: &[T], ld: usize, start: usize) {
    let width = block.len() / rows;
    simd::dispatch(
        #[inline(always)]
        || {
            for j in (0..width).rev() {
                let (head, solved) = block.split_at_mut((j + 1) * rows);
                let column = &mut head[j * rows..];
                let lcol = &l[(start + j) * ld + start..][..width];
                for (i, y) in solved.chunks_exact(rows).enumerate() {
                    let lij = lcol[j + 1 + i];
                    if lij != T::zero() {
                        axpy(column, -lij, y);
                    }
                }
                let d = lcol[j];
                column.iter_mut().for_each(|v| *v /= d);
            }
        },
    );
}

/// `y ← y + a·x`.
#[inline(always)]
fn axpy<T: Real>(y: &mut [T], a: T, x: &[T]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    /// Against the full product, for sizes below, at and across the block size.
    #[test]
    fn lower_t_mul_lower_matches_the_full_product() {
        for n in [1, 5, 64, 65, 200] {
            let l = DMatrix::from_fn(n, n, |i, j| {
                if i >= j {
                    (i * 7 + j * 3) as f64 % 5.0 - 2.0
                } else {
                    0.0
                }
            });
            let g = DMatrix::from_fn(n, n, |i, j| {
                if i >= j {
                    (i * 5 + j * 11) as f64 % 7.0 - 3.0
                } else {
                    0.0
                }
            });
            let mut got = DMatrix::from_element(n, n, f64::NAN);
            lower_t_mul_lower(got.as_mut_slice(), l.as_slice(), g.as_slice(), n);
            // Integers: both products are exact.
            assert_eq!(got, l.transpose() * &g, "n {n}");
        }
    }

    /// A lower-triangular `C`: the parts that read only `L`'s leading block give the full
    /// solve's result (lower-triangular too), on the threads or not.
    #[test]
    fn lower_right_hand_sides_by_rows() {
        for n in [1, 9, 127, 128, 200, 333] {
            let mut seed = 7u64;
            let mut draw = || {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            };
            let c = DMatrix::from_fn(n, n, |i, j| if i >= j { draw() } else { 0.0 });
            let scale = 1.0 / n as f64;
            let l = DMatrix::from_fn(n, n, |i, j| {
                if i == j {
                    1.0 + draw().abs()
                } else {
                    scale * draw()
                }
            });
            let mut want = c.clone();
            solve_lower_right(want.as_mut_slice(), n, l.as_slice(), n, n);
            let mut got = c.clone();
            crate::linalg::wake_threads();
            solve_lower_right_by_rows(got.as_mut_slice(), n, l.as_slice(), n, true);
            let mut alone = c.clone();
            crate::linalg::on_this_thread(|| {
                solve_lower_right_by_rows(alone.as_mut_slice(), n, l.as_slice(), n, true)
            });
            assert_eq!(got, alone, "n {n}: on the threads or not");
            assert!(
                (0..n).all(|j| (0..j).all(|i| got[(i, j)] == 0.0)),
                "n {n}: lower"
            );
            let err = (&got - &want).amax() / want.amax();
            assert!(err < 1e-12, "n {n}: relative error {err:e}");
        }
    }

    /// Against nalgebra's own solve, `(C·L⁻¹)ᵀ = L⁻ᵀ·Cᵀ`, for sizes below, at and across
    /// the block size, with garbage above `L`'s diagonal (never read).
    #[test]
    fn matches_nalgebra() {
        for (rows, n) in [
            (1, 1),
            (3, 5),
            (7, 64),
            (64, 65),
            (130, 200),
            (5, 129),
            (300, 150),
        ] {
            let mut seed = 1u64;
            let mut draw = || {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            };
            let c = DMatrix::from_fn(rows, n, |_, _| draw());
            // Off-diagonal entries of order 1/n keep L well conditioned, so that both
            // solves agree to rounding.
            let scale = 1.0 / n as f64;
            let l = DMatrix::from_fn(n, n, |i, j| {
                if i == j {
                    1.0 + draw().abs()
                } else {
                    scale * draw()
                }
            });
            let mut got = c.clone();
            solve_lower_right(got.as_mut_slice(), rows, l.as_slice(), n, n);
            // By rows, on the threads or not: the same parts, the same bits.
            let mut by_rows = c.clone();
            crate::linalg::wake_threads();
            solve_lower_right_by_rows(by_rows.as_mut_slice(), rows, l.as_slice(), n, false);
            let mut by_rows_alone = c.clone();
            crate::linalg::on_this_thread(|| {
                solve_lower_right_by_rows(
                    by_rows_alone.as_mut_slice(),
                    rows,
                    l.as_slice(),
                    n,
                    false,
                )
            });
            assert_eq!(by_rows, by_rows_alone, "rows {rows}, n {n}: by rows");
            let err = (&by_rows - &got).amax() / got.amax();
            assert!(
                err < 1e-12,
                "rows {rows}, n {n}: by rows, relative error {err:e}"
            );
            let want = l
                .lower_triangle()
                .tr_solve_lower_triangular(&c.transpose())
                .expect("nonzero diagonal")
                .transpose();
            let err = (&got - &want).amax() / want.amax();
            assert!(err < 1e-12, "rows {rows}, n {n}: relative error {err:e}");
        }
    }
}
