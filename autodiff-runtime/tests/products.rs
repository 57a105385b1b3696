//! `linalg::gemm_into` against a naive triple loop, in f64 and f32: empty, tiny, thin, square
//! and threaded shapes, every operand layout, `alpha` and `beta` in {0, 1, other}, and a NaN
//! in the output buffer that `beta = 0` must not read.

mod common;

use autodiff_runtime::linalg::{
    gemm_into, max_threads, products_on_threads, set_max_threads, wake_threads, Op,
    PARALLEL_MIN_WORK,
};
use autodiff_runtime::Real;
use common::{dmatrix, rng, Rng};
use nalgebra::{DMatrix, SMatrix};
use rand::Rng as _;

const LAYOUTS: [(Op, Op); 4] = [
    (Op::Plain, Op::Plain),
    (Op::Transposed, Op::Plain),
    (Op::Plain, Op::Transposed),
    (Op::Transposed, Op::Transposed),
];

/// `op(m)` as an explicit matrix.
fn through(m: &DMatrix<f64>, op: Op) -> DMatrix<f64> {
    match op {
        Op::Plain => m.clone(),
        Op::Transposed => m.transpose(),
    }
}

/// A random matrix that reads as `rows × cols` through `op`.
fn operand(rng: &mut Rng, rows: usize, cols: usize, op: Op) -> DMatrix<f64> {
    match op {
        Op::Plain => dmatrix(rng, rows, cols),
        Op::Transposed => dmatrix(rng, cols, rows),
    }
}

/// `a · b` by the triple loop, and the sum of the magnitudes of each entry's terms (so that
/// errors are measured relative to the terms, which cancellation does not hide).
fn triple_loop(a: &DMatrix<f64>, b: &DMatrix<f64>) -> (DMatrix<f64>, DMatrix<f64>) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let (a, b) = (a.as_slice(), b.as_slice());
    let mut product = DMatrix::zeros(m, n);
    let mut magnitude = DMatrix::zeros(m, n);
    for j in 0..n {
        for i in 0..m {
            let (mut sum, mut size) = (0.0, 0.0);
            for p in 0..k {
                let term = a[i + p * m] * b[p + j * k];
                sum += term;
                size += term.abs();
            }
            product[(i, j)] = sum;
            magnitude[(i, j)] = size;
        }
    }
    (product, magnitude)
}

/// The largest error of `got` against `alpha · product + beta · before`, each entry relative
/// to the magnitude of its terms.
fn relative_error(
    got: &DMatrix<f64>,
    alpha: f64,
    (product, magnitude): &(DMatrix<f64>, DMatrix<f64>),
    beta: f64,
    before: &DMatrix<f64>,
) -> f64 {
    let mut worst = 0.0f64;
    for (i, &got) in got.iter().enumerate() {
        assert!(!got.is_nan(), "NaN at entry {i}");
        // beta = 0 ignores `before`, NaN there included.
        let (old, old_size) = match beta {
            0.0 => (0.0, 0.0),
            _ => (beta * before[i], (beta * before[i]).abs()),
        };
        let want = alpha * product[i] + old;
        let scale = alpha.abs() * magnitude[i] + old_size;
        let error = (got - want).abs();
        worst = worst.max(if scale == 0.0 { error } else { error / scale });
    }
    worst
}

/// Checks `gemm_into` in `T` on an `(m × k) · (k × n)` product, for every layout and every
/// `alpha`, `beta`, against the triple loop in f64 on the same (rounded) inputs.
fn check<T: Real>(rng: &mut Rng, (m, k, n): (usize, usize, usize), to: fn(f64) -> T, tol: f64)
where
    f64: From<T>,
{
    check_each(rng, (m, k, n), to, tol, || {})
}

/// [`check`], calling `prepare` right before each product.
fn check_each<T: Real>(
    rng: &mut Rng,
    (m, k, n): (usize, usize, usize),
    to: fn(f64) -> T,
    tol: f64,
    prepare: fn(),
) where
    f64: From<T>,
{
    let round = |x: &DMatrix<f64>| x.map(|v| f64::from(to(v)));
    for (op_a, op_b) in LAYOUTS {
        let a = round(&operand(rng, m, k, op_a));
        let b = round(&operand(rng, k, n, op_b));
        let reference = triple_loop(&through(&a, op_a), &through(&b, op_b));
        for (alpha, beta) in [
            (1.0, 0.0),
            (0.0, 0.0),
            (-0.75, 0.0),
            (1.0, 1.0),
            (0.5, -2.0),
            (0.0, 3.0),
        ] {
            let before = if beta == 0.0 {
                DMatrix::from_element(m, n, f64::NAN)
            } else {
                round(&dmatrix(rng, m, n))
            };
            let (mut out, a, b) = (before.map(to), a.map(to), b.map(to));
            prepare();
            gemm_into(&mut out, to(alpha), &a, op_a, &b, op_b, to(beta));
            let got = out.map(f64::from);
            let error = relative_error(&got, alpha, &reference, beta, &before);
            assert!(
                error <= tol,
                "({m}×{k})·({k}×{n}) {op_a:?}{op_b:?} alpha {alpha} beta {beta}: relative error {error:e}"
            );
        }
    }
}

/// Empty, tiny, thin (the spiral net's products, forward and backward) and mid-size shapes,
/// and a few random ones.
fn shapes(rng: &mut Rng) -> Vec<(usize, usize, usize)> {
    let mut shapes = vec![
        (0, 3, 4),
        (3, 0, 4),
        (3, 4, 0),
        (0, 0, 0),
        (1, 1, 1),
        (1, 7, 1),
        (5, 1, 6),
        (2, 3, 4),
        (8, 8, 8),
        (300, 2, 100),
        (300, 100, 3),
        (100, 300, 3),
        (300, 3, 100),
        (2, 300, 100),
        // At most four result columns from a left operand of more: blocks of rows in
        // registers, single vectors, a partly filled last vector.
        (7, 9, 1),
        (37, 50, 4),
        (130, 20, 2),
        (64, 5, 3),
        (9, 300, 4),
        (33, 65, 17),
        (64, 100, 50),
        // Transposed operands that the kernel takes in blocks of rows (the left) or slices
        // of the inner dimension (the right), with remainders; rows not a whole number of
        // vectors; a thin result (one vector of rows at a time).
        (200, 64, 100),
        (100, 300, 40),
        (123, 77, 45),
        (37, 50, 12),
    ];
    for _ in 0..6 {
        shapes.push((
            rng.random_range(0..40),
            rng.random_range(0..40),
            rng.random_range(0..40),
        ));
    }
    shapes
}

#[test]
fn f64_products_match_the_triple_loop() {
    let mut rng = rng(101);
    for shape in shapes(&mut rng) {
        check::<f64>(&mut rng, shape, |v| v, 1e-12);
    }
}

#[test]
fn f32_products_match_the_triple_loop() {
    let mut rng = rng(102);
    for shape in shapes(&mut rng) {
        check::<f32>(&mut rng, shape, |v| v as f32, 1e-4);
    }
}

/// Products large enough to run on more than one thread (when there is more than one core).
#[test]
fn threaded_products_match_the_triple_loop() {
    let mut rng = rng(103);
    let side = |work: usize| (work as f64).cbrt().ceil() as usize + 1;
    let s = side(PARALLEL_MIN_WORK);
    check::<f64>(&mut rng, (s, s, s), |v| v, 1e-12);
    check::<f32>(&mut rng, (s, s, s), |v| v as f32, 1e-4);
}

/// Products split into column blocks between threads: blocks of unequal widths, widths not a
/// multiple of the kernel's tiles, transposed operands. A product splits only while a worker
/// is awake, hence `wake_threads` before each.
#[test]
fn split_products_match_the_triple_loop() {
    if max_threads() < 2 {
        return; // one core: nothing is split
    }
    let mut rng = rng(105);
    let before = products_on_threads();
    for shape in [(64, 1000, 100), (40, 800, 33), (1000, 64, 100)] {
        check_each::<f64>(&mut rng, shape, |v| v, 1e-12, wake_threads);
        check_each::<f32>(&mut rng, shape, |v| v as f32, 1e-4, wake_threads);
    }
    assert!(products_on_threads() > before, "no product was split");
}

#[test]
fn the_thread_cap_applies_and_lifts() {
    let default = max_threads();
    assert!(default >= 1);
    set_max_threads(1);
    assert_eq!(max_threads(), 1);
    set_max_threads(0);
    assert_eq!(max_threads(), default);
}

/// Static-size matrices go through the same code: a tiny product and one above the size
/// where the kernel takes over.
#[test]
fn static_sizes() {
    let mut rng = rng(104);
    let a = SMatrix::<f64, 2, 3>::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let b = SMatrix::<f64, 2, 4>::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let mut out = SMatrix::<f64, 3, 4>::from_element(f64::NAN);
    gemm_into(&mut out, 2.0, &a, Op::Transposed, &b, Op::Plain, 0.0);
    assert!((out - 2.0 * a.transpose() * b).amax() < 1e-14);

    let a = SMatrix::<f32, 9, 12>::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let b = SMatrix::<f32, 10, 12>::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let before = SMatrix::<f32, 9, 10>::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let mut out = before;
    gemm_into(&mut out, 1.0, &a, Op::Plain, &b, Op::Transposed, 1.0);
    assert!((out - (a * b.transpose() + before)).amax() < 1e-5);
}
