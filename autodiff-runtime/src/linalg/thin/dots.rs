//! `aᵀ·b` when `b` has at most four columns: every entry a dot product of two contiguous
//! columns, written with explicit vector instructions (fused multiply-adds) because the
//! compiler does not vectorise a floating-point sum. Four columns of `a` go together, so
//! that each chunk of a column of `b` is loaded once for four products (up to 16
//! accumulators); the last entries of each column go through a partly filled vector.

use crate::real::Real;
use pulp::{Simd, WithSimd};

/// `out[i, j] = alpha · ⟨a_i, b_j⟩ (+ beta · out[i, j])` for the columns `a_i` of the `k × m`
/// buffer `a` and `b_j` of the `k × n` buffer `b` (`out` is `m × n`, column-major, `n ≤ 4`),
/// when the scalar is `f32` or `f64`; `false`, with nothing written, otherwise.
#[allow(clippy::too_many_arguments)]
pub(super) fn product<T: Real>(
    out: &mut [T],
    alpha: T,
    a: &[T],
    b: &[T],
    m: usize,
    k: usize,
    n: usize,
    beta: Option<T>,
) -> bool {
    if let (Some(a), Some(b)) = (T::as_f64s(a), T::as_f64s(b)) {
        let (kernel, arch) = (Kernel64 { a, b, k }, pulp::Arch::new());
        fill(out, alpha, beta, m, n, |i, rows| {
            arch.dispatch(Dots64 { kernel, i, rows, n })
        });
        return true;
    }
    if let (Some(a), Some(b)) = (T::as_f32s(a), T::as_f32s(b)) {
        let (kernel, arch) = (Kernel32 { a, b, k }, pulp::Arch::new());
        fill(out, alpha, beta, m, n, |i, rows| {
            arch.dispatch(Dots32 { kernel, i, rows, n })
        });
        return true;
    }
    false
}

/// Columns of `a` taken together: each column of `b` is loaded once for all of them.
const ROWS: usize = 4;

/// Writes `out` (`m × n`, `n ≤ 4`) [`ROWS`] rows at a time: `dots(i, rows)` holds the
/// products of columns `i..i + rows` of `a` with the `n` columns of `b`.
fn fill<T: Real>(
    out: &mut [T],
    alpha: T,
    beta: Option<T>,
    m: usize,
    n: usize,
    dots: impl Fn(usize, usize) -> [[f64; 4]; ROWS],
) {
    assert!(n <= 4, "at most four columns");
    for i in (0..m).step_by(ROWS) {
        let rows = ROWS.min(m - i);
        let block = dots(i, rows);
        for (r, row) in block.iter().enumerate().take(rows) {
            for (j, d) in row.iter().enumerate().take(n) {
                let o = &mut out[i + r + j * m];
                let v = alpha * T::from_f64_exact(*d);
                *o = match beta {
                    None => v,
                    Some(beta) => beta * *o + v,
                };
            }
        }
    }
}

macro_rules! dots_kernel {
    ($Kernel:ident, $Dots:ident, $t:ty, $vec:ident, $as_simd:ident, $splat:ident, $fma:ident, $reduce:ident, $partial_load:ident) => {
        #[derive(Clone, Copy)]
        struct $Kernel<'a> {
            a: &'a [$t],
            b: &'a [$t],
            k: usize,
        }

        /// The products of columns `i..i + rows` of `a` with the first `n` columns of `b`.
        struct $Dots<'a> {
            kernel: $Kernel<'a>,
            i: usize,
            rows: usize,
            n: usize,
        }

        impl WithSimd for $Dots<'_> {
            type Output = [[f64; 4]; ROWS];

            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
                match (self.rows, self.n) {
                    (ROWS, 1) => self.block::<S, ROWS, 1>(simd),
                    (ROWS, 2) => self.block::<S, ROWS, 2>(simd),
                    (ROWS, 3) => self.block::<S, ROWS, 3>(simd),
                    (ROWS, _) => self.block::<S, ROWS, 4>(simd),
                    (_, 1) => self.rows_one_by_one::<S, 1>(simd),
                    (_, 2) => self.rows_one_by_one::<S, 2>(simd),
                    (_, 3) => self.rows_one_by_one::<S, 3>(simd),
                    _ => self.rows_one_by_one::<S, 4>(simd),
                }
            }
        }

        impl $Dots<'_> {
            /// The last rows (fewer than [`ROWS`]), one at a time.
            #[inline(always)]
            fn rows_one_by_one<S: Simd, const N: usize>(self, simd: S) -> [[f64; 4]; ROWS] {
                let mut out = [[0.0; 4]; ROWS];
                for r in 0..self.rows {
                    let one = $Dots {
                        i: self.i + r,
                        rows: 1,
                        ..self
                    };
                    out[r] = one.block::<S, 1, N>(simd)[0];
                }
                out
            }

            /// `R × N` dot products at once: per chunk of `k`, `R + N` loads feed `R · N`
            /// fused multiply-adds (at most 16 accumulators).
            #[inline(always)]
            fn block<S: Simd, const R: usize, const N: usize>(self, simd: S) -> [[f64; 4]; ROWS] {
                let $Kernel { a, b, k } = self.kernel;
                let xs: [&[$t]; R] = core::array::from_fn(|r| &a[(self.i + r) * k..][..k]);
                let ys: [&[$t]; N] = core::array::from_fn(|j| &b[j * k..][..k]);
                let (head, _) = S::$as_simd(xs[0]);
                let chunks = head.len();
                let xv: [&[S::$vec]; R] = xs.map(|x| &S::$as_simd(x).0[..chunks]);
                let yv: [&[S::$vec]; N] = ys.map(|y| &S::$as_simd(y).0[..chunks]);
                let mut acc = [[simd.$splat(0.0); N]; R];
                for c in 0..chunks {
                    let y: [S::$vec; N] = core::array::from_fn(|j| yv[j][c]);
                    for (acc_r, x) in acc.iter_mut().zip(&xv) {
                        let x = x[c];
                        for (acc_rj, y) in acc_r.iter_mut().zip(&y) {
                            *acc_rj = simd.$fma(x, *y, *acc_rj);
                        }
                    }
                }
                // The last entries (fewer than a vector's lanes), in partly filled vectors.
                let done = chunks * (core::mem::size_of::<S::$vec>() / core::mem::size_of::<$t>());
                if done < k {
                    let y: [S::$vec; N] =
                        core::array::from_fn(|j| simd.$partial_load(&ys[j][done..]));
                    for (acc_r, x) in acc.iter_mut().zip(&xs) {
                        let x = simd.$partial_load(&x[done..]);
                        for (acc_rj, y) in acc_r.iter_mut().zip(&y) {
                            *acc_rj = simd.$fma(x, *y, *acc_rj);
                        }
                    }
                }
                let mut out = [[0.0; 4]; ROWS];
                for (out_r, acc_r) in out.iter_mut().zip(&acc) {
                    for (o, acc_rj) in out_r.iter_mut().zip(acc_r) {
                        *o = f64::from(simd.$reduce(*acc_rj));
                    }
                }
                out
            }
        }
    };
}

dots_kernel!(
    Kernel64,
    Dots64,
    f64,
    f64s,
    as_simd_f64s,
    splat_f64s,
    mul_add_e_f64s,
    reduce_sum_f64s,
    partial_load_f64s
);
dots_kernel!(
    Kernel32,
    Dots32,
    f32,
    f32s,
    as_simd_f32s,
    splat_f32s,
    mul_add_e_f32s,
    reduce_sum_f32s,
    partial_load_f32s
);
