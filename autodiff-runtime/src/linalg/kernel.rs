//! The one call into the `gemm` kernels (of the `gemm-f64` and `gemm-f32` crates, the ones
//! the `gemm` crate's `gemm::gemm` dispatches to for these types; its complex and
//! half-precision kernels are not built): a safe wrapper around the raw-pointer kernel that
//! checks every bound first. Nothing else in the crate is allowed `unsafe`.

use crate::real::Real;
use core::any::TypeId;

/// A matrix read from a slice: entry (i, j) is `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct Strided<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a, T> Strided<'a, T> {
    /// The same matrix over `cast(data)`: `T` seen as the kernel's scalar type `U`, which it is.
    fn cast<U>(self, cast: fn(&'a [T]) -> Option<&'a [U]>) -> Strided<'a, U> {
        Strided {
            data: cast(self.data).expect(SAME_TYPE),
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        }
    }

    /// Whether every entry lies inside `data` and every offset the kernel computes from the
    /// strides fits in `isize`.
    fn in_bounds(&self) -> bool {
        let fits = |s: usize| isize::try_from(s).is_ok();
        if self.rows == 0 || self.cols == 0 {
            return fits(self.row_stride) && fits(self.col_stride);
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_stride)
            .zip((self.cols - 1).checked_mul(self.col_stride))
            .and_then(|(r, c)| r.checked_add(c));
        matches!(last, Some(l) if l < self.data.len() && fits(l))
            && fits(self.row_stride)
            && fits(self.col_stride)
    }
}

/// Whether there are `gemm` kernels for `T`: `f32` and `f64` (the `Real` types).
pub(crate) fn supports<T: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<f64>() || TypeId::of::<T>() == TypeId::of::<f32>()
}

/// `out = alpha · a · b + beta · out`, with `out` column-major and contiguous (`a.rows` rows,
/// `b.cols` columns). `beta = None` overwrites `out` without reading it, so a NaN left in
/// the buffer does not propagate. The product runs on the calling thread (splitting large
/// ones between threads is `split.rs`'s work), in blocks of rows and slices of the inner
/// dimension where the kernel would otherwise copy a whole operand into scratch of its own
/// (see [`blocks`]).
///
/// Panics when `T` is not `f32` or `f64` (see [`supports`]) or when a shape or a stride does
/// not fit its slice.
pub(crate) fn gemm<T: Real>(
    out: &mut [T],
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: Option<T>,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    // What the pieces cannot tell; `call` checks everything else of each piece.
    assert_eq!(k, b.rows, "gemm kernel: inner dimensions differ");
    assert_eq!(
        Some(out.len()),
        m.checked_mul(n),
        "gemm kernel: output size"
    );
    if m == 0 || n == 0 || k == 0 {
        return call(out, m, alpha, a, b, beta);
    }
    let (rows, depth) = blocks::<T>(&a, &b);
    for first in (0..m).step_by(rows) {
        let a = Strided {
            data: &a.data[first * a.row_stride..],
            rows: rows.min(m - first),
            ..a
        };
        for p in (0..k).step_by(depth) {
            let cols = depth.min(k - p);
            let a = Strided {
                data: &a.data[p * a.col_stride..],
                cols,
                ..a
            };
            let b = Strided {
                data: &b.data[p * b.row_stride..],
                rows: cols,
                ..b
            };
            // Each slice of the inner dimension after the first adds to what it left.
            let beta = if p == 0 { beta } else { Some(T::one()) };
            call(&mut out[first..], m, alpha, a, b, beta);
        }
    }
}

/// The part of the larger of the result and the copied operand that the kernel's scratch for
/// one call may take: an eighth. Both are in memory during the product anyway (in a backward
/// sweep, a gradient and an activation or a parameter), so the copy adds at most an eighth
/// of the larger; for W4's step 3% of its memory (BENCHMARKS.md, "Allocations").
const SCRATCH_PART: usize = 8;

/// A copy this small (in bytes) is allowed whatever the product's size: cutting small
/// products into pieces costs more than their copy takes (`dy·w2ᵀ` in W2, 64×10·10×100, ran
/// at half speed in slices of 8).
const SMALL_COPY: usize = 32 << 10;

/// The most result columns for which a transposed left operand goes one vector of rows at a
/// time: copying more rows for so few columns costs more than it gives (W4's `h2ᵀ·d3`,
/// 512×256·256×10, f64 / f32: 46 / 114 GFLOP/s in blocks of one vector, 30 / 40 in blocks of
/// four, 24 / 40 whole).
const THIN: usize = 16;

/// The deepest slice of the inner dimension the kernel copies at once (its `kc` is at most
/// this; the scratch for a block of rows is `rows × min(k, KC)`).
const KC: usize = 512;

/// Rows of the result and depth of the inner dimension per kernel call. The kernel copies
/// its operands a panel at a time into a buffer it keeps per thread, except in two cases,
/// where it first copies all of one operand into scratch it allocates for the call:
/// - the left operand read across its rows (transposed: `Xᵀ·dH` in a backward sweep), or
///   with a row count that is not a whole number of vectors: all its rows (`m × min(k, 512)`;
///   1.6 MB for W4's `xᵀ·d1`). A transposed one goes in blocks of rows whose copy is at most
///   [`SCRATCH_PART`] of the result (or of itself, if larger; or [`SMALL_COPY`]), one vector
///   of rows when the result has at most [`THIN`] columns; a remainder of rows on its own.
/// - the right operand read across its rows (`dH·Wᵀ`) when the result has more than a few
///   rows: a `k × n` copy (2 MB for W4's `d2·W2ᵀ`). It goes in slices of the inner
///   dimension, bounded the same way.
///
/// Blocks of 192 rows for W4's `xᵀ·d1` and slices 64 deep for its `d2·W2ᵀ` run at the speed
/// of the whole product (BENCHMARKS.md, "Matrix products").
fn blocks<T>(a: &Strided<'_, T>, b: &Strided<'_, T>) -> (usize, usize) {
    // One 512-bit vector of rows: the kernel's unit (8 f64, 16 f32).
    let lanes = (64 / core::mem::size_of::<T>()).max(1);
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let result = m.saturating_mul(n);
    let small = SMALL_COPY / core::mem::size_of::<T>().max(1);
    let rows = if a.row_stride == 1 {
        if m < lanes {
            m
        } else {
            m - m % lanes
        }
    } else if n <= THIN {
        lanes
    } else {
        let limit = (result.max(m.saturating_mul(k)) / SCRATCH_PART).max(small);
        (limit / k.min(KC) / lanes * lanes).max(lanes)
    };
    let depth = if b.row_stride == 1 {
        k
    } else {
        let limit = (result.max(k.saturating_mul(n)) / SCRATCH_PART).max(small);
        (limit / n).max(lanes)
    };
    (rows, depth)
}

/// `out = alpha · a · b + beta · out` for the `a.rows × b.cols` block of `out` whose entry
/// (i, j) is `out[i + j · col_stride]`, in one call into the kernel.
fn call<T: Real>(
    out: &mut [T],
    col_stride: usize,
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: Option<T>,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(supports::<T>(), "gemm kernel: f32 and f64 only");
    assert_eq!(k, b.rows, "gemm kernel: inner dimensions differ");
    assert!(col_stride >= m, "gemm kernel: output columns overlap");
    let last = match (m, n) {
        (0, _) | (_, 0) => None,
        _ => (n - 1)
            .checked_mul(col_stride)
            .and_then(|c| c.checked_add(m - 1)),
    };
    assert!(
        last.is_none_or(|l| l < out.len()),
        "gemm kernel: output block out of bounds"
    );
    assert!(
        isize::try_from(col_stride).is_ok(),
        "gemm kernel: output stride"
    );
    assert!(
        a.in_bounds() && b.in_bounds(),
        "gemm kernel: strides out of bounds"
    );
    if m == 0 || n == 0 {
        // No entry to write. (Past this point `col_stride ≥ m ≥ 1`: the output's rows are
        // closer together than its columns, the layout the kernels take as it is.)
        return;
    }
    // The kernels' convention is `dst = alpha · dst + beta · lhs · rhs`: their `alpha` is
    // ours `beta`, and `read_dst = false` ignores the old `dst` entirely.
    // (`out_scale` is not read when `read_out` is false.)
    let (read_out, out_scale) = (beta.is_some(), beta.unwrap_or(alpha));
    // SAFETY (both calls): every entry (i, j) of `a`, `b` lies in its slice at
    // i·row_stride + j·col_stride (checked by `in_bounds`, with all offsets below
    // isize::MAX). The kernel writes entry (i, j) of the result, i < m, j < n, at
    // `out[i + j·col_stride]`: inside `out` (the last one is checked above), and distinct
    // entries at distinct places since `col_stride ≥ m`, so it writes each once. `out` is a
    // `&mut` borrow, so it aliases neither input.
    if let Some(out) = T::as_f64s_mut(out) {
        let (a, b) = (a.cast(T::as_f64s), b.cast(T::as_f64s));
        let scalar = |x: T| T::as_f64s(core::slice::from_ref(&x)).expect(SAME_TYPE)[0];
        let kernel = gemm_f64::gemm::f64::get_gemm_fn();
        unsafe {
            run(
                kernel,
                out,
                col_stride,
                read_out,
                a,
                b,
                scalar(out_scale),
                scalar(alpha),
            )
        }
    } else if let Some(out) = T::as_f32s_mut(out) {
        let (a, b) = (a.cast(T::as_f32s), b.cast(T::as_f32s));
        let scalar = |x: T| T::as_f32s(core::slice::from_ref(&x)).expect(SAME_TYPE)[0];
        let kernel = gemm_f32::gemm::f32::get_gemm_fn();
        unsafe {
            run(
                kernel,
                out,
                col_stride,
                read_out,
                a,
                b,
                scalar(out_scale),
                scalar(alpha),
            )
        }
    }
}

const SAME_TYPE: &str = "gemm kernel: `a`, `b` and the scalars are of the type of `out`";

/// The kernels of the `gemm-f64` and `gemm-f32` crates (`gemm_common::gemm_def!`), the ones
/// the `gemm` crate's `gemm::gemm` dispatches to for `f64` and `f32`: AVX-512, AVX2+FMA or
/// scalar, picked at run time. Arguments: `m, n, k`; the result `dst` with its column and
/// row strides and `read_dst`; `lhs` and `rhs`, each with its column and row strides;
/// `alpha, beta` of `dst = alpha · dst + beta · lhs · rhs`; three conjugation flags (for
/// complex types; false); the threads to use.
type Kernel<U> = unsafe fn(
    usize,
    usize,
    usize,
    *mut U,
    isize,
    isize,
    bool,
    *const U,
    isize,
    isize,
    *const U,
    isize,
    isize,
    U,
    U,
    bool,
    bool,
    bool,
    gemm_common::Parallelism,
);

/// `out = out_scale · out + alpha · a · b` (`out` read only when `read_out`) on the calling
/// thread, through `kernel`, for the `a.rows × b.cols` block of `out` whose entry (i, j) is
/// `out[i + j · col_stride]`.
///
/// # Safety
///
/// What [`call`] checks: the shapes agree, the strides reach only entries inside each slice
/// (the output's last entry included), every offset fits in `isize`, `col_stride ≥ m ≥ 1`
/// and `n ≥ 1`.
#[allow(clippy::too_many_arguments)]
unsafe fn run<U>(
    kernel: Kernel<U>,
    out: &mut [U],
    col_stride: usize,
    read_out: bool,
    a: Strided<'_, U>,
    b: Strided<'_, U>,
    out_scale: U,
    alpha: U,
) {
    // SAFETY: the caller's contract; the pointers outlive the call, which runs on this
    // thread only.
    unsafe {
        kernel(
            a.rows,
            b.cols,
            a.cols,
            out.as_mut_ptr(),
            col_stride as isize,
            1,
            read_out,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            out_scale,
            alpha,
            false,
            false,
            false,
            gemm_common::Parallelism::None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(data: &[f64], rows: usize, cols: usize) -> Strided<'_, f64> {
        Strided {
            data,
            rows,
            cols,
            row_stride: 1,
            col_stride: rows,
        }
    }

    #[test]
    fn a_short_operand_panics_before_the_call() {
        let (a, b) = ([1.0; 5], [1.0; 6]);
        let mut out = [0.0; 6];
        let result = std::panic::catch_unwind(move || {
            gemm(&mut out, 1.0, plain(&a, 3, 2), plain(&b, 2, 3), None)
        });
        assert!(result.is_err());
    }

    #[test]
    fn strides_past_the_slice_panic_before_the_call() {
        let (a, b) = ([1.0; 6], [1.0; 6]);
        let mut out = [0.0; 9];
        let wide = Strided {
            col_stride: 4,
            ..plain(&a, 3, 2)
        };
        let result =
            std::panic::catch_unwind(move || gemm(&mut out, 1.0, wide, plain(&b, 2, 3), None));
        assert!(result.is_err());
    }

    #[test]
    fn empty_dimensions() {
        let mut out = [f64::NAN; 6];
        gemm(&mut out, 1.0, plain(&[], 3, 0), plain(&[], 0, 2), None);
        assert_eq!(out, [0.0; 6]);
        let mut none: [f64; 0] = [];
        gemm(
            &mut none,
            1.0,
            plain(&[], 0, 4),
            plain(&[1.0; 8], 4, 2),
            Some(1.0),
        );
        gemm(
            &mut none,
            1.0,
            plain(&[1.0; 8], 2, 4),
            plain(&[], 4, 0),
            None,
        );
    }

    /// A transposed operand goes in pieces whose copy stays within an eighth of the larger of
    /// the result and the operand (or is one vector of rows, or the whole); a plain one whole.
    #[test]
    fn blocks_bound_the_copy_of_a_transposed_operand() {
        fn transposed(data: &[f64], rows: usize, cols: usize) -> Strided<'_, f64> {
            Strided {
                data,
                rows,
                cols,
                row_stride: cols,
                col_stride: 1,
            }
        }
        let data = vec![0.0; 784 * 512];
        // W4's `xᵀ·d1` and `d2·W2ᵀ`, as documented on `blocks`.
        let (x_t, d1) = (transposed(&data, 784, 256), plain(&data, 256, 512));
        assert_eq!(blocks(&x_t, &d1), (192, 256));
        let (d2, w2_t) = (plain(&data, 256, 512), transposed(&data, 512, 512));
        assert_eq!(blocks(&d2, &w2_t), (256, 64));
        for (m, k, n) in [(600, 64, 100), (300, 600, 40), (523, 77, 45), (9, 5000, 3)] {
            let (a, b) = (transposed(&data, m, k), transposed(&data, k, n));
            let (rows, depth) = blocks(&a, &b);
            let copy_a = rows * k.min(KC);
            let bound = |size: usize| (size / SCRATCH_PART).max(SMALL_COPY / 8);
            assert!(rows == 8 || rows >= m || copy_a <= bound((m * n).max(m * k)));
            assert!(depth == 8 || depth >= k || depth * n <= bound((m * n).max(k * n)));
            assert!(rows >= 8 && depth >= 8);
        }
        // Plain operands whole, but for rows that do not fill a vector.
        let (a, b) = (plain(&data, 123, 77), plain(&data, 77, 45));
        assert_eq!(blocks(&a, &b), (120, 77));
    }

    #[test]
    fn other_types_are_refused() {
        assert!(supports::<f32>() && supports::<f64>());
        assert!(!supports::<i32>());
    }
}
