//! Matrix products on contiguous buffers, with either operand transposed through strides
//! (never a copy). Every product of the derivative rules goes through [`gemm_into`].
//!
//! `f32`/`f64` products run on the `gemm` crate's kernels (AVX-512 or AVX2, chosen at run
//! time), and on more than one thread once they are large enough for threads to pay
//! ([`PARALLEL_MIN_WORK`]). The kernel copies a transposed operand into scratch it allocates;
//! `kernel.rs` hands it such an operand in pieces (blocks of rows, slices of the inner
//! dimension) so that the copy stays a small part of the product's memory. Thin products (a
//! left operand of at most four columns; `a·b` or `aᵀ·b` into at most four columns) run on
//! the loops of `thin.rs`, faster and without the kernel's packing scratch. Tiny
//! products ([`KERNEL_MIN_WORK`]) and products of any other scalar type run on the simple
//! loops of this module. The measurements behind the thresholds are in `BENCHMARKS.md`
//! ("Matrix products").
//!
//! # Threads
//!
//! A large product is split into blocks of columns of the result, one per thread: the calling
//! thread computes one block and the workers of the runtime's own pool the others (`split.rs`).
//! The threads are the number of cores (`std::thread::available_parallelism`), or
//! `RAYON_NUM_THREADS` when that is set; [`set_max_threads`] caps them for the whole
//! process, e.g. `set_max_threads(1)` when the caller already runs one training per core.
//!
//! Waking a sleeping thread takes longer than such a product (about 0.2 ms on the reference
//! machine), so a product is split only while a worker is awake. After a product (or a
//! large [`crate::optim::sgd_update`]) one worker keeps polling for more work for 0.5 ms, as
//! OpenMP runtimes do, and then sleeps; a product that finds it asleep runs on the calling
//! thread alone and wakes it for the next one. In a training loop the worker stays awake;
//! a single product now and then never waits for it. The polling worker yields its core to
//! other processes, and when one keeps that core busy (the worker's blocks come late three
//! times in a row), products stay on the calling thread for 0.1 s at a time.

// The only module allowed `unsafe`: the `gemm` crate's kernel takes raw pointers, and on
// one core it is 1.15–1.6× faster in f64 than nalgebra's `matrixmultiply` (1.4–5× on thin
// products), and 1.5–1.9× faster again on two cores (BENCHMARKS.md, "Matrix products").
// The module checks every bound before the call.
#[allow(unsafe_code)]
mod kernel;

mod cholesky;
mod split;
mod thin;
mod triangular;

pub(crate) use cholesky::factorize_in_place;
pub(crate) use split::{on_threads, threads_for_shards, zip_chunks};
pub(crate) use triangular::{lower_t_mul_lower, solve_lower_right_by_rows};

use crate::real::Real;
use core::cell::Cell;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::Strided;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, Dyn, MatrixView, OMatrix};

/// An operand of a product: the matrix as stored, or its transpose.
#[derive(Clone, Copy, Debug)]
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
/// With `beta = 0` the old content of `out` is never read (a NaN there does not propagate).
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
    let beta = (beta != T::zero()).then_some(beta);
    product(
        out.as_mut_slice(),
        alpha,
        strided(a, op_a),
        strided(b, op_b),
        beta,
    );
}

/// `out = alpha · a · b + beta · out` (column-major `out`; `beta = None` overwrites it), on
/// whichever of the `gemm` kernel and the loops is faster for the shape and scalar type.
fn product<T: Real>(
    out: &mut [T],
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: Option<T>,
) {
    let work = a.rows.saturating_mul(a.cols).saturating_mul(b.cols);
    if a.rows.min(a.cols).min(b.cols) <= thin::MAX
        && work >= KERNEL_MIN_WORK
        && thin::product(out, alpha, a, b, beta)
    {
        return;
    }
    if work < KERNEL_MIN_WORK || !kernel::supports::<T>() {
        loops_into(out, alpha, a, b, beta);
    } else {
        let threads = threads_for(work);
        if threads > 1 {
            split::by_column_blocks(out, alpha, a, b, beta, threads);
        } else {
            kernel::gemm(out, alpha, a, b, beta);
        }
    }
}

/// The work (m·n·k) from which `f32`/`f64` products run on the `gemm` kernel. Smaller ones
/// (static 3×4 matrices, say) run on the loops below: the kernel's set-up costs more than
/// such a product. Measured on two cores (BENCHMARKS.md, "Matrix products"), f64, GFLOP/s
/// loops / kernel: 4×4·4×4 2.1 / 0.7, 6×6·6×6 3.6 / 2.1, 8×8·8×8 6.2 / 10.1. Thin products,
/// even the spiral net's, are faster on the kernel: 300×2·2×100 10.5 / 23, 100×300·300×3
/// 14 / 15, 2×300·300×100 15 / 43; so thinness alone does not choose the loops.
pub const KERNEL_MIN_WORK: usize = 512;

/// The work (m·n·k) from which a product runs on more than one thread (while one is awake,
/// see the module's documentation). Measured on two cores (BENCHMARKS.md, "Matrix
/// products"), GFLOP/s one thread / two, f64: 96³ 78 / 123, 128³ 82 / 136, 200³ 81 / 150,
/// 64×1000·1000×100 81 / 136; f32 96³ 144 / 231. Below about a million multiply-adds a block
/// takes a few microseconds, and handing it over costs as much.
pub const PARALLEL_MIN_WORK: usize = 1_000_000;

/// The cap set by [`set_max_threads`]; 0 when there is none.
static MAX_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Caps the threads one product (or parameter update) may use, for the whole process; `0`
/// removes the cap. Products smaller than [`PARALLEL_MIN_WORK`] always stay on the calling
/// thread.
pub fn set_max_threads(n: usize) {
    MAX_THREADS.store(n, Ordering::Relaxed);
}

/// The threads a large product uses: the number of cores, or `RAYON_NUM_THREADS` when that is
/// set, capped by [`set_max_threads`]; 1 inside a shard of [`crate::parallel::sharded_grad`],
/// whose shards already keep every core busy.
pub fn max_threads() -> usize {
    if ONE_THREAD_HERE.with(Cell::get) {
        return 1;
    }
    let pool = split::available_threads();
    match MAX_THREADS.load(Ordering::Relaxed) {
        0 => pool,
        cap => cap.min(pool),
    }
}

thread_local! {
    /// Whether products (and shared loops) started on this thread stay on it.
    static ONE_THREAD_HERE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every product and shared loop it starts on the current thread alone (what
/// [`max_threads`] returns there is 1), whatever the process-wide cap: the shards of
/// [`crate::parallel::sharded_grad`] run this way, one per thread, so that their products
/// do not hand blocks to threads that are busy with other shards.
pub(crate) fn on_this_thread<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ONE_THREAD_HERE.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(ONE_THREAD_HERE.with(|c| c.replace(true)));
    f()
}

/// Wakes the threads that large products are split between, and waits until one is ready:
/// the next large product then runs on all of them (without this, one that comes more than
/// 0.5 ms after the last runs on the calling thread alone, see the module's documentation),
/// and ends a back-off that late splits started. Returns at once on one core or under
/// `set_max_threads(1)`.
pub fn wake_threads() {
    split::wake_threads()
}

/// How many products ran on more than one thread so far, in the whole process (see
/// [`PARALLEL_MIN_WORK`] for when they do).
pub fn products_on_threads() -> usize {
    split::split_products()
}

/// The threads for a product of `work` multiply-adds: one below [`PARALLEL_MIN_WORK`], so that
/// small products never touch (or start) the thread pool.
fn threads_for(work: usize) -> usize {
    if work < PARALLEL_MIN_WORK {
        1
    } else {
        max_threads()
    }
}

/// `m` (or its transpose) as a strided matrix over its column-major buffer.
fn strided<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>, op: Op) -> Strided<'_, T>
where
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = m.shape();
    let (rows, cols, row_stride, col_stride) = match op {
        Op::Plain => (r, c, 1, r),
        Op::Transposed => (c, r, r, 1),
    };
    Strided {
        data: m.as_slice(),
        rows,
        cols,
        row_stride,
        col_stride,
    }
}

impl<T: Copy> Strided<'_, T> {
    /// Entry (i, j).
    #[inline]
    fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.row_stride + j * self.col_stride]
    }

    /// Column `j`, when columns are contiguous (row stride 1).
    #[inline]
    fn column(&self, j: usize) -> &[T] {
        &self.data[j * self.col_stride..][..self.rows]
    }

    /// Row `i`, when rows are contiguous (column stride 1).
    #[inline]
    fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.row_stride..][..self.cols]
    }
}

/// `out = alpha · a · b + beta · out` by loops over contiguous slices: one column of `out` at
/// a time, built from axpys of the columns of `a` when they are contiguous (`a` plain), or as
/// dot products of the rows of `a` with the column of `b` (`a` transposed).
fn loops_into<T: Real>(
    out: &mut [T],
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: Option<T>,
) {
    let m = a.rows;
    if m == 0 {
        return;
    }
    for (j, out_col) in out.chunks_exact_mut(m).enumerate() {
        if a.row_stride == 1 {
            axpy_column(out_col, alpha, a, b, j, beta);
        } else {
            dot_column(out_col, alpha, a, b, j, beta);
        }
    }
}

/// Column `j` of `alpha · a · b + beta · out` as `beta · out_j + Σ_p (alpha · b_pj) · a_p`,
/// where `a_p` is a contiguous column of `a`.
#[inline]
fn axpy_column<T: Real>(
    out: &mut [T],
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    j: usize,
    beta: Option<T>,
) {
    match beta {
        None => out.fill(T::zero()),
        Some(beta) if beta != T::one() => out.iter_mut().for_each(|o| *o *= beta),
        Some(_) => {}
    }
    for p in 0..a.cols {
        let s = alpha * b.at(p, j);
        for (o, x) in out.iter_mut().zip(a.column(p)) {
            *o += s * *x;
        }
    }
}

/// Column `j` of `alpha · a · b + beta · out`, each entry the dot product of a contiguous row
/// of `a` with column `j` of `b`.
#[inline]
fn dot_column<T: Real>(
    out: &mut [T],
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    j: usize,
    beta: Option<T>,
) {
    for (i, o) in out.iter_mut().enumerate() {
        let d = if b.row_stride == 1 {
            dot(a.row(i), b.column(j))
        } else {
            (0..a.cols).fold(T::zero(), |s, p| s + a.at(i, p) * b.at(p, j))
        };
        *o = match beta {
            None => alpha * d,
            Some(beta) => beta * *o + alpha * d,
        };
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
