//! The one call into the `gemm` crate: a safe wrapper around its raw-pointer `gemm::gemm`
//! that checks every bound first. Nothing else in the crate is allowed `unsafe`.

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

impl<T> Strided<'_, T> {
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

/// Whether the `gemm` crate has kernels for `T`: `f32` and `f64` (the `Real` types).
pub(crate) fn supports<T: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<f64>() || TypeId::of::<T>() == TypeId::of::<f32>()
}

/// `out = alpha · a · b + beta · out`, with `out` column-major and contiguous (`a.rows` rows,
/// `b.cols` columns). `beta = None` overwrites `out` without reading it, so a NaN left in
/// the buffer does not propagate. The product runs on the calling thread (splitting large
/// ones between threads is `split.rs`'s work).
///
/// Panics when `T` is not `f32` or `f64` (see [`supports`]) or when a shape or a stride does
/// not fit its slice.
pub(crate) fn gemm<T: Copy + 'static>(
    out: &mut [T],
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: Option<T>,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(supports::<T>(), "gemm kernel: f32 and f64 only");
    assert_eq!(k, b.rows, "gemm kernel: inner dimensions differ");
    assert_eq!(
        Some(out.len()),
        m.checked_mul(n),
        "gemm kernel: output size"
    );
    assert!(isize::try_from(m).is_ok(), "gemm kernel: output stride");
    assert!(
        a.in_bounds() && b.in_bounds(),
        "gemm kernel: strides out of bounds"
    );
    // The crate's convention is `dst = alpha · dst + beta · lhs · rhs`: its `alpha` is ours
    // `beta`, and `read_dst = false` ignores the old `dst` entirely.
    // (`out_scale` is not read when `read_out` is false.)
    let (read_out, out_scale) = (beta.is_some(), beta.unwrap_or(alpha));
    // SAFETY: `T` is f32 or f64, and `gemm::gemm` picks its kernel by `T`'s type id. Every entry
    // (i, j) of `a`, `b` lies in its slice at i·row_stride + j·col_stride (checked by
    // `in_bounds`, with all offsets below isize::MAX); `out` holds exactly m·n entries,
    // column-major (row stride 1, column stride m), so no two entries overlap and the
    // kernel writes each entry once. `out` is a `&mut` borrow, so it aliases neither input.
    // The pointers outlive the call, which runs on this thread only.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            m as isize,
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
            gemm::Parallelism::None,
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

    #[test]
    fn other_types_are_refused() {
        assert!(supports::<f32>() && supports::<f64>());
        assert!(!supports::<i32>());
    }
}
