//! `a·b` into at most four columns with `a` stored by columns (the spiral net's `H·W2`): a
//! block of rows of the result stays in vector registers while the columns of `a` stream
//! past, each multiplied by the matching entries of `b`. Written with explicit vector
//! instructions (fused multiply-adds): compiled from plain loops, the accumulators live in
//! memory. Unlike the general kernel, it packs nothing, so it allocates nothing.

use crate::linalg::Strided;
use crate::real::Real;
use pulp::{Simd, WithSimd};

/// Vectors of rows per block: `4 × n ≤ 16` accumulators, within the 16 vector registers of
/// AVX2 (AVX-512 has 32).
const BLOCK: usize = 4;

/// `out = alpha · a · b (+ beta · out)` for `a` (`m × k`, by columns) and `b` (`k × n`, any
/// strides, `n ≤ 4`), `out` `m × n` column-major, when the scalar is `f32` or `f64`;
/// `false`, with nothing written, otherwise.
pub(super) fn product<T: Real>(
    out: &mut [T],
    alpha: T,
    a: &[T],
    m: usize,
    b: Strided<'_, T>,
    beta: Option<T>,
) -> bool {
    assert!(b.cols <= 4, "at most four columns");
    let (k, n, b_rs, b_cs) = (b.rows, b.cols, b.row_stride, b.col_stride);
    // The same call for either scalar type, with `T`'s slices read as that type.
    macro_rules! run_as {
        ($Columns:ident, $as:ident, $as_mut:ident) => {
            let scalar = |v: &T| T::$as(core::slice::from_ref(v)).map(|s| s[0]);
            if let (Some(out), Some(a), Some(b), Some(alpha)) =
                (T::$as_mut(out), T::$as(a), T::$as(b.data), scalar(&alpha))
            {
                let beta = beta.as_ref().and_then(scalar);
                let columns = $Columns {
                    out,
                    alpha,
                    beta,
                    a,
                    m,
                    k,
                    b,
                    b_rs,
                    b_cs,
                    n,
                };
                pulp::Arch::new().dispatch(columns);
                return true;
            }
        };
    }
    run_as!(Columns64, as_f64s, as_f64s_mut);
    run_as!(Columns32, as_f32s, as_f32s_mut);
    false
}

macro_rules! columns_kernel {
    ($Columns:ident, $t:ty, $vec:ident, $as_simd:ident, $as_mut_simd:ident, $splat:ident, $fma:ident, $mul:ident, $partial_load:ident, $partial_store:ident) => {
        struct $Columns<'a> {
            out: &'a mut [$t],
            alpha: $t,
            beta: Option<$t>,
            a: &'a [$t],
            m: usize,
            k: usize,
            b: &'a [$t],
            b_rs: usize,
            b_cs: usize,
            n: usize,
        }

        impl WithSimd for $Columns<'_> {
            type Output = ();

            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) {
                match self.n {
                    0 => {}
                    1 => self.columns::<S, 1>(simd),
                    2 => self.columns::<S, 2>(simd),
                    3 => self.columns::<S, 3>(simd),
                    _ => self.columns::<S, 4>(simd),
                }
            }
        }

        impl $Columns<'_> {
            /// The whole product with `N` columns: blocks of `BLOCK` vectors of rows, then
            /// single vectors, then the last rows in a partly filled vector.
            #[inline(always)]
            fn columns<S: Simd, const N: usize>(mut self, simd: S) {
                let lanes = core::mem::size_of::<S::$vec>() / core::mem::size_of::<$t>();
                let mut row = 0;
                while row + BLOCK * lanes <= self.m {
                    self.rows::<S, N, BLOCK>(simd, row);
                    row += BLOCK * lanes;
                }
                while row + lanes <= self.m {
                    self.rows::<S, N, 1>(simd, row);
                    row += lanes;
                }
                if row < self.m {
                    self.last_rows::<S, N>(simd, row);
                }
            }

            /// Rows `row..m` (fewer than a vector's lanes) of the `N` columns of the result,
            /// with partial loads and stores.
            #[inline(always)]
            fn last_rows<S: Simd, const N: usize>(&mut self, simd: S, row: usize) {
                let height = self.m - row;
                let mut acc = [simd.$splat(0.0); N];
                for p in 0..self.k {
                    let x = simd.$partial_load(&self.a[p * self.m + row..][..height]);
                    for (j, acc_j) in acc.iter_mut().enumerate() {
                        *acc_j = simd.$fma(x, simd.$splat(self.coefficient(p, j)), *acc_j);
                    }
                }
                let alpha = simd.$splat(self.alpha);
                for (j, acc_j) in acc.iter().enumerate() {
                    let out = &mut self.out[j * self.m + row..][..height];
                    let v = simd.$mul(alpha, *acc_j);
                    let v = match self.beta {
                        None => v,
                        Some(beta) => simd.$fma(simd.$splat(beta), simd.$partial_load(out), v),
                    };
                    simd.$partial_store(out, v);
                }
            }

            /// Entry `(p, j)` of `b`.
            #[inline(always)]
            fn coefficient(&self, p: usize, j: usize) -> $t {
                self.b[p * self.b_rs + j * self.b_cs]
            }

            /// Rows `row..row + R · lanes` of the `N` columns of the result.
            #[inline(always)]
            fn rows<S: Simd, const N: usize, const R: usize>(&mut self, simd: S, row: usize) {
                let lanes = core::mem::size_of::<S::$vec>() / core::mem::size_of::<$t>();
                let height = R * lanes;
                let mut acc = [[simd.$splat(0.0); R]; N];
                for p in 0..self.k {
                    let (column, _) = S::$as_simd(&self.a[p * self.m + row..][..height]);
                    for (j, acc_j) in acc.iter_mut().enumerate() {
                        let s = simd.$splat(self.coefficient(p, j));
                        for (acc_jr, x) in acc_j.iter_mut().zip(column) {
                            *acc_jr = simd.$fma(*x, s, *acc_jr);
                        }
                    }
                }
                let alpha = simd.$splat(self.alpha);
                for (j, acc_j) in acc.iter().enumerate() {
                    let out = &mut self.out[j * self.m + row..][..height];
                    let (out, _) = S::$as_mut_simd(out);
                    for (o, acc_jr) in out.iter_mut().zip(acc_j) {
                        *o = match self.beta {
                            None => simd.$mul(alpha, *acc_jr),
                            Some(beta) => {
                                simd.$fma(simd.$splat(beta), *o, simd.$mul(alpha, *acc_jr))
                            }
                        };
                    }
                }
            }
        }
    };
}

columns_kernel!(
    Columns64,
    f64,
    f64s,
    as_simd_f64s,
    as_mut_simd_f64s,
    splat_f64s,
    mul_add_e_f64s,
    mul_f64s,
    partial_load_f64s,
    partial_store_f64s
);
columns_kernel!(
    Columns32,
    f32,
    f32s,
    as_simd_f32s,
    as_mut_simd_f32s,
    splat_f32s,
    mul_add_e_f32s,
    mul_f32s,
    partial_load_f32s,
    partial_store_f32s
);
