//! `aᵀ·b` when `b` has at most four columns: every entry a dot product of two contiguous
//! columns, written with explicit vector instructions (fused multiply-adds, two accumulators
//! per product) because the compiler does not vectorise a floating-point sum.

use crate::real::Real;
use pulp::{Simd, WithSimd};

/// `out[i, j] = alpha · ⟨a_i, b_j⟩ (+ beta · out[i, j])` for the columns `a_i` of the `k × m` buffer `a` and
/// `b_j` of the `k × n` buffer `b` (`out` is `m × n`, column-major, `n ≤ 4`), when the scalar
/// is `f32` or `f64`; `false`, with nothing written, otherwise.
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
        fill(out, alpha, beta, m, n, |i| {
            arch.dispatch(Dots64 { kernel, i, n })
        });
        return true;
    }
    if let (Some(a), Some(b)) = (T::as_f32s(a), T::as_f32s(b)) {
        let (kernel, arch) = (Kernel32 { a, b, k }, pulp::Arch::new());
        fill(out, alpha, beta, m, n, |i| {
            arch.dispatch(Dots32 { kernel, i, n })
        });
        return true;
    }
    false
}

/// Writes `out` (`m × n`, `n ≤ 4`) row by row: `dots(i)` holds the products of column `i` of
/// `a` with the `n` columns of `b`.
fn fill<T: Real>(
    out: &mut [T],
    alpha: T,
    beta: Option<T>,
    m: usize,
    n: usize,
    dots: impl Fn(usize) -> [f64; 4],
) {
    assert!(n <= 4, "at most four columns");
    for i in 0..m {
        for (j, d) in dots(i).iter().enumerate().take(n) {
            let o = &mut out[i + j * m];
            let v = alpha * T::from_f64_exact(*d);
            *o = match beta {
                None => v,
                Some(beta) => beta * *o + v,
            };
        }
    }
}

macro_rules! dots_kernel {
    ($Kernel:ident, $Dots:ident, $t:ty, $as_simd:ident, $splat:ident, $fma:ident, $add:ident, $reduce:ident) => {
        #[derive(Clone, Copy)]
        struct $Kernel<'a> {
            a: &'a [$t],
            b: &'a [$t],
            k: usize,
        }

        /// The products of column `i` of `a` with the first `n` columns of `b`.
        struct $Dots<'a> {
            kernel: $Kernel<'a>,
            i: usize,
            n: usize,
        }

        impl WithSimd for $Dots<'_> {
            type Output = [f64; 4];

            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) -> [f64; 4] {
                let $Kernel { a, b, k } = self.kernel;
                let x = &a[self.i * k..][..k];
                let (xv, xt) = S::$as_simd(x);
                let mut out = [0.0; 4];
                for (j, o) in out.iter_mut().enumerate().take(self.n) {
                    let y = &b[j * k..][..k];
                    let (yv, yt) = S::$as_simd(y);
                    let (mut acc0, mut acc1) = (simd.$splat(0.0), simd.$splat(0.0));
                    let mut pairs = xv.chunks_exact(2).zip(yv.chunks_exact(2));
                    for (x2, y2) in &mut pairs {
                        acc0 = simd.$fma(x2[0], y2[0], acc0);
                        acc1 = simd.$fma(x2[1], y2[1], acc1);
                    }
                    if xv.len() % 2 == 1 {
                        let last = xv.len() - 1;
                        acc0 = simd.$fma(xv[last], yv[last], acc0);
                    }
                    let tail: $t = xt.iter().zip(yt).map(|(x, y)| x * y).sum();
                    *o = f64::from(simd.$reduce(simd.$add(acc0, acc1)) + tail);
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
    as_simd_f64s,
    splat_f64s,
    mul_add_e_f64s,
    add_f64s,
    reduce_sum_f64s
);
dots_kernel!(
    Kernel32,
    Dots32,
    f32,
    as_simd_f32s,
    splat_f32s,
    mul_add_e_f32s,
    add_f32s,
    reduce_sum_f32s
);
