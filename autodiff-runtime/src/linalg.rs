//! Matrix products on contiguous buffers, with either operand transposed through a strided
//! view (never a copy), so that every product reaches nalgebra's blocked `gemm`.

use crate::real::Real;
use core::any::TypeId;
use nalgebra::{
    allocator::Allocator, DMatrixViewMut, DefaultAllocator, Dim, Dyn, MatrixView, OMatrix,
};

/// An operand of a product: the matrix as stored, or its transpose.
#[derive(Clone, Copy)]
pub enum Op {
    /// Use the matrix as it is.
    Plain,
    /// Use the transpose, read through swapped strides.
    Transposed,
}

/// A dynamic view of `m` (or of its transpose), sharing its buffer.
#[inline]
pub fn view<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
    op: Op,
) -> MatrixView<'_, T, Dyn, Dyn, Dyn, Dyn>
where
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = m.shape();
    match op {
        Op::Plain => MatrixView::from_slice_with_strides_generic(
            m.as_slice(),
            Dyn(r),
            Dyn(c),
            Dyn(1),
            Dyn(r),
        ),
        Op::Transposed => MatrixView::from_slice_with_strides_generic(
            m.as_slice(),
            Dyn(c),
            Dyn(r),
            Dyn(r),
            Dyn(1),
        ),
    }
}

/// The shape of `m` as seen through `op`.
#[inline]
pub fn shape_through<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>, op: Op) -> (usize, usize)
where
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = m.shape();
    match op {
        Op::Plain => (r, c),
        Op::Transposed => (c, r),
    }
}

/// `out = alpha · op_a(a) · op_b(b) + beta · out`, with `out` any contiguous matrix.
/// Panics with the shapes when they do not fit.
#[inline]
#[track_caller]
#[allow(clippy::too_many_arguments)]
pub fn gemm_into<T: Real, R0: Dim, C0: Dim, R1: Dim, C1: Dim, R2: Dim, C2: Dim>(
    out: &mut OMatrix<T, R0, C0>,
    alpha: T,
    a: &OMatrix<T, R1, C1>,
    op_a: Op,
    b: &OMatrix<T, R2, C2>,
    op_b: Op,
    beta: T,
) where
    DefaultAllocator: Allocator<R0, C0> + Allocator<R1, C1> + Allocator<R2, C2>,
{
    let (ar, ac) = shape_through(a, op_a);
    let (br, bc) = shape_through(b, op_b);
    let (or, oc) = out.shape();
    if ac != br || (or, oc) != (ar, bc) {
        panic!("matrix product: shapes ({ar}, {ac}) and ({br}, {bc}) do not fit into ({or}, {oc})");
    }
    crate::stats::count_product();
    let mut out_view: DMatrixViewMut<'_, T> =
        DMatrixViewMut::from_slice(out.as_mut_slice(), or, oc);
    match (op_a, op_b) {
        (Op::Transposed, Op::Plain) if !reaches_blocked_gemm::<T>(or, oc, ac) => {
            // nalgebra 0.35's small-matrix `gemm` walks the columns of its left operand with a
            // loop count taken from the strided slice's bounding box, not from the column's
            // length (dimforge/nalgebra#1616): with a transposed left operand (row stride > 1)
            // it writes past the output column. aᵀ·b is a table of dot products of the
            // contiguous columns of `a` and `b`: computed here, faster than `gemm_tr`.
            tr_mul_into(
                out.as_mut_slice(),
                alpha,
                a.as_slice(),
                b.as_slice(),
                ac,
                beta,
            )
        }
        (Op::Transposed, _) if !reaches_blocked_gemm::<T>(or, oc, ac) => {
            out_view.gemm_tr(alpha, &view(a, Op::Plain), &view(b, op_b), beta)
        }
        _ => out_view.gemm(alpha, &view(a, op_a), &view(b, op_b), beta),
    }
}

/// `out = alpha · aᵀ · b + beta · out` on column-major buffers, where the columns of `a` and
/// `b` have length `k`: each entry is the dot product of two contiguous columns.
fn tr_mul_into<T: Real>(out: &mut [T], alpha: T, a: &[T], b: &[T], k: usize, beta: T) {
    if k == 0 {
        out.iter_mut().for_each(|o| {
            *o = if beta == T::zero() {
                T::zero()
            } else {
                beta * *o
            }
        });
        return;
    }
    let rows = a.len() / k;
    for (b_col, out_col) in b.chunks_exact(k).zip(out.chunks_exact_mut(rows.max(1))) {
        for (a_col, o) in a.chunks_exact(k).zip(out_col.iter_mut()) {
            let d = alpha * dot(a_col, b_col);
            *o = if beta == T::zero() { d } else { beta * *o + d };
        }
    }
}

/// The sum of a slice, with four independent accumulators so the compiler can vectorise it.
#[inline]
pub(crate) fn sum<T: Real>(a: &[T]) -> T {
    let mut acc = [T::zero(); 4];
    let a4 = a.chunks_exact(4);
    let tail = a4.remainder().iter().fold(T::zero(), |s, x| s + *x);
    for x in a4 {
        for l in 0..4 {
            acc[l] += x[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The dot product of two slices of equal length, with four independent accumulators so the
/// compiler can vectorise it.
#[inline]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::zero(); 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail = ra.iter().zip(rb).fold(T::zero(), |s, (x, y)| s + *x * *y);
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Whether nalgebra's `gemm` hands an `(m × k) · (k × n)` product of dynamic views to the
/// blocked `matrixmultiply` kernel, which takes arbitrary strides: `f32` or `f64` and every
/// one of `m`, `n`, `k` above nalgebra's small-size threshold (5, in `blas_uninit.rs`).
/// Otherwise `gemm` takes its column-by-column path, which is only sound for a left operand
/// with unit row stride.
#[inline]
fn reaches_blocked_gemm<T: Real>(m: usize, n: usize, k: usize) -> bool {
    const SMALL_DIM: usize = 5;
    let float =
        TypeId::of::<T>() == TypeId::of::<f64>() || TypeId::of::<T>() == TypeId::of::<f32>();
    float && m > SMALL_DIM && n > SMALL_DIM && k > SMALL_DIM
}

/// `slot += op_a(a) · op_b(b)`: accumulates in place with `beta = 1` when the slot holds a
/// value, writes a fresh product otherwise.
#[inline]
#[track_caller]
pub fn gemm_accumulate<T: Real, R0: Dim, C0: Dim, R1: Dim, C1: Dim, R2: Dim, C2: Dim>(
    slot: &mut Option<OMatrix<T, R0, C0>>,
    shape: (R0, C0),
    a: &OMatrix<T, R1, C1>,
    op_a: Op,
    b: &OMatrix<T, R2, C2>,
    op_b: Op,
) where
    DefaultAllocator: Allocator<R0, C0> + Allocator<R1, C1> + Allocator<R2, C2>,
{
    match slot {
        Some(acc) => gemm_into(acc, T::one(), a, op_a, b, op_b, T::one()),
        None => {
            let mut fresh =
                crate::buffers::matrix(shape.0, shape.1, crate::buffers::Fill::Overwritten);
            gemm_into(&mut fresh, T::one(), a, op_a, b, op_b, T::zero());
            *slot = Some(fresh);
        }
    }
}
