//! `C ← C·L⁻¹` for a lower-triangular `L`, blocked so that most of the work is matrix
//! products: the reverse sweep of the Cholesky factor solves with `L` against an n×n
//! right-hand side, where solving one column at a time (nalgebra's triangular solves) runs at
//! a small fraction of the product kernel's speed.

use super::kernel::Strided;
use super::product;
use crate::real::Real;
use crate::simd;

/// Columns per diagonal block: solved by column operations inside the block, the rest of the
/// work (the update of the columns to the left) by one product per block.
const BLOCK: usize = 64;

/// `C ← C·L⁻¹` in place: `c` holds `rows × n` in column-major order, `l` the `n × n`
/// lower-triangular `L` in column-major order (its upper triangle is not read). Blocks of
/// columns from the last to the first: with `L = [L₁₁ 0; L₂₁ L₂₂]` and `Y = C·L⁻¹`,
/// `Y₂ = C₂·L₂₂⁻¹` and then `Y₁ = (C₁ − Y₂·L₂₁)·L₁₁⁻¹`.
pub(crate) fn solve_lower_right<T: Real>(c: &mut [T], rows: usize, l: &[T], n: usize) {
    assert_eq!(c.len(), rows * n, "C is rows × n");
    assert_eq!(l.len(), n * n, "L is n × n");
    if rows == 0 {
        return;
    }
    let mut end = n;
    while end > 0 {
        let start = end.saturating_sub(BLOCK);
        solve_block(&mut c[rows * start..rows * end], rows, l, n, start);
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
                col_stride: n,
            };
            product(left, -T::one(), y2, l21, Some(T::one()));
        }
        end = start;
    }
}

/// `C_b ← C_b·L_bb⁻¹` for the block of columns `start..start + width` (`block` holds them):
/// from the last column to the first, subtract the solved columns to its right times `L`'s
/// entries below the diagonal, then divide by the diagonal entry.
fn solve_block<T: Real>(block: &mut [T], rows: usize, l: &[T], n: usize, start: usize) {
    let width = block.len() / rows;
    simd::dispatch(
        #[inline(always)]
        || {
            for j in (0..width).rev() {
                let (head, solved) = block.split_at_mut((j + 1) * rows);
                let column = &mut head[j * rows..];
                let lcol = &l[(start + j) * n + start..][..width];
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

    /// Against nalgebra's own solve, `(C·L⁻¹)ᵀ = L⁻ᵀ·Cᵀ`, for sizes below, at and across
    /// the block size, with garbage above `L`'s diagonal (never read).
    #[test]
    fn matches_nalgebra() {
        for (rows, n) in [(1, 1), (3, 5), (7, 64), (64, 65), (130, 200), (5, 129)] {
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
            solve_lower_right(got.as_mut_slice(), rows, l.as_slice(), n);
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
