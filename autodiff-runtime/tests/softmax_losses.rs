//! The row-wise rules (`softmax`, `log_softmax`) and the losses (`svm_loss`,
//! `softmax_cross_entropy`): pullbacks against central differences and the dot-product test
//! on dynamic matrices, column and row vectors and static matrices; stability at scores of
//! ±1000; the kink of the hinge loss; shape and label panics; an f32 sanity check.

mod common;

use autodiff_runtime::__private::rules::{self, Const, Operand, Output, Seed};
use common::{
    assert_close, assert_f32, assert_f32_scalar, assert_rows_close, check_pullback, dmatrix,
    f32_of, kind, rng, row_of, sample, Rng,
};
use nalgebra::{allocator::Allocator, DMatrix, DefaultAllocator, Dim, Dyn, OMatrix};

// --------------------------------------------------------------- softmax, log_softmax

#[test]
fn softmax_and_log_softmax() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C>,
    {
        let name = kind::<R, C>();
        let m: OMatrix<f64, R, C> = sample(rng, shape, -3.0, 3.0, |_| true);
        let (y, h) = rules::softmax(&m);
        for i in 0..m.nrows() {
            let row: Vec<f64> = row_of(&m, i).iter().map(|v| v.exp()).collect();
            let want: Vec<f64> = row.iter().map(|v| v / row.iter().sum::<f64>()).collect();
            assert_rows_close(
                &format!("softmax {name} row {i}"),
                &row_of(&y, i),
                &want,
                1e-15,
            );
        }
        check_pullback(
            &format!("softmax {name}"),
            rng,
            &m,
            &|m| rules::softmax(m).0,
            &|d, s| h.arg(d, s, Output(&y)),
        );
        let (y, h) = rules::log_softmax(&m);
        for i in 0..m.nrows() {
            let log_sum = row_of(&m, i).iter().map(|v| v.exp()).sum::<f64>().ln();
            let want: Vec<f64> = row_of(&m, i).iter().map(|v| v - log_sum).collect();
            assert_rows_close(
                &format!("log_softmax {name} row {i}"),
                &row_of(&y, i),
                &want,
                1e-14,
            );
        }
        check_pullback(
            &format!("log_softmax {name}"),
            rng,
            &m,
            &|m| rules::log_softmax(m).0,
            &|d, s| h.arg(d, s, Output(&y)),
        );
    }
    matrix_types!(case, &mut rng(26));
    case(&mut rng(27), (Dyn(7), Dyn(9)));
}

#[test]
fn softmax_is_stable_at_large_scores() {
    let m = DMatrix::from_row_slice(
        3,
        3,
        &[
            1000.0, -1000.0, 0.0, 1000.0, 1000.0, 1000.0, -1000.0, -1000.0, -999.0,
        ],
    );
    let (y, h) = rules::softmax(&m);
    let e = (-1.0f64).exp();
    let want = DMatrix::from_row_slice(
        3,
        3,
        &[
            1.0,
            0.0,
            0.0,
            1.0 / 3.0,
            1.0 / 3.0,
            1.0 / 3.0,
            e / (2.0 * e + 1.0),
            e / (2.0 * e + 1.0),
            1.0 / (2.0 * e + 1.0),
        ],
    );
    assert_close("softmax at ±1000", &y, &want, 1e-15);
    let mut d = None;
    h.arg(
        &mut d,
        Seed::Owned(DMatrix::from_fn(3, 3, |i, j| (i + 2 * j) as f64)),
        Output(&y),
    );
    let d = d.unwrap();
    assert!(
        d.iter().all(|v| v.is_finite()),
        "softmax pullback at ±1000: {d}"
    );
    // Row 0 is saturated: its derivative vanishes.
    assert_eq!(d.row(0).iter().map(|v| v.abs()).sum::<f64>(), 0.0);

    let (y, h) = rules::log_softmax(&m);
    let l = (2.0 * e + 1.0).ln();
    let want = DMatrix::from_row_slice(
        3,
        3,
        &[
            0.0,
            -2000.0,
            -1000.0,
            -3f64.ln(),
            -3f64.ln(),
            -3f64.ln(),
            -1.0 - l,
            -1.0 - l,
            -l,
        ],
    );
    assert_close("log_softmax at ±1000", &y, &want, 1e-15);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(DMatrix::repeat(3, 3, 1.0)), Output(&y));
    // Each row of the derivative of Σⱼ log_softmax is 1 − 3·softmax.
    assert_close(
        "log_softmax pullback at ±1000",
        &d.unwrap(),
        &rules::softmax(&m).0.map(|p| 1.0 - 3.0 * p),
        1e-15,
    );
}

#[test]
#[should_panic(expected = "softmax: shapes (2, 2) and (2, 3) do not match")]
fn softmax_seed_shape_mismatch_panics() {
    let (y, h) = rules::softmax(&DMatrix::<f64>::zeros(2, 3));
    h.arg(&mut None, Seed::Owned(DMatrix::zeros(2, 2)), Output(&y));
}

// ------------------------------------------------------------------------------ losses

/// Scores whose hinge margins `s[i, j] − s[i, yᵢ] + 1` (j ≠ yᵢ) are all at least 0.05 away
/// from the kink, with random labels.
fn svm_point<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C)) -> (OMatrix<f64, R, C>, Vec<usize>)
where
    DefaultAllocator: Allocator<R, C>,
{
    use rand::Rng as _;
    loop {
        let m: OMatrix<f64, R, C> = sample(rng, shape, -2.0, 2.0, |_| true);
        let labels: Vec<usize> = (0..m.nrows())
            .map(|_| rng.random_range(0..m.ncols()))
            .collect();
        let clear = labels.iter().enumerate().all(|(i, &l)| {
            (0..m.ncols()).all(|j| j == l || (m[(i, j)] - m[(i, l)] + 1.0).abs() > 0.05)
        });
        let active = labels
            .iter()
            .enumerate()
            .any(|(i, &l)| (0..m.ncols()).any(|j| j != l && m[(i, j)] - m[(i, l)] + 1.0 > 0.0));
        if clear && (active || m.ncols() == 1) {
            return (m, labels);
        }
    }
}

#[test]
fn svm_loss() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C>,
    {
        let name = format!("svm_loss {}", kind::<R, C>());
        let (m, labels) = svm_point(rng, shape);
        let (y, h) = rules::svm_loss(&m, &labels);
        let mut want = 0.0;
        for (i, &l) in labels.iter().enumerate() {
            want += (0..m.ncols())
                .filter(|&j| j != l)
                .map(|j| (m[(i, j)] - m[(i, l)] + 1.0).max(0.0))
                .sum::<f64>();
        }
        assert_close(&name, &y, &(want / m.nrows() as f64), 1e-15);
        check_pullback(
            &name,
            rng,
            &m,
            &|m| rules::svm_loss(m, &labels).0,
            &|d, s| h.arg(d, s, Operand(&m), Const(&labels)),
        );
    }
    let mut rng = rng(28);
    matrix_types!(case, &mut rng);
    case(&mut rng, (Dyn(7), Dyn(6)));
}

#[test]
fn svm_margin_of_exactly_zero_is_inactive() {
    // Row 0: margins 0 (class 1) and −1 (class 2); row 1: margins 0 and 0.5.
    let m = DMatrix::from_row_slice(2, 3, &[2.0, 1.0, 0.0, 0.5, 1.0, -0.5]);
    let labels = [0, 1];
    let (y, h) = rules::svm_loss(&m, &labels);
    assert_eq!(y, 0.25);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(1.0), Operand(&m), Const(&labels));
    assert_eq!(
        d.unwrap(),
        DMatrix::from_row_slice(2, 3, &[0.0, 0.0, 0.0, 0.5, -0.5, 0.0])
    );
}

#[test]
fn softmax_cross_entropy() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C>,
    {
        use rand::Rng as _;
        let name = format!("softmax_cross_entropy {}", kind::<R, C>());
        let m: OMatrix<f64, R, C> = sample(rng, shape, -3.0, 3.0, |_| true);
        let labels: Vec<usize> = (0..m.nrows())
            .map(|_| rng.random_range(0..m.ncols()))
            .collect();
        let (y, h) = rules::softmax_cross_entropy(&m, &labels);
        let want: f64 = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| row_of(&m, i).iter().map(|v| v.exp()).sum::<f64>().ln() - m[(i, l)])
            .sum();
        assert_close(&name, &y, &(want / m.nrows() as f64), 1e-14);
        assert_close(
            &format!("{name} probabilities"),
            h.probabilities(),
            &rules::softmax(&m).0,
            1e-16,
        );
        check_pullback(
            &name,
            rng,
            &m,
            &|m| rules::softmax_cross_entropy(m, &labels).0,
            // The pullback consumes its handle: a fresh one for each call.
            &|d, s| {
                rules::softmax_cross_entropy(&m, &labels)
                    .1
                    .arg(d, s, Const(&labels))
            },
        );
    }
    let mut rng = rng(29);
    matrix_types!(case, &mut rng);
    case(&mut rng, (Dyn(8), Dyn(7)));
}

#[test]
fn softmax_cross_entropy_is_stable_at_large_scores() {
    let m = DMatrix::from_row_slice(2, 3, &[1000.0, -1000.0, 0.0, -1000.0, -1000.0, 1000.0]);
    let labels = [0, 1];
    let (y, h) = rules::softmax_cross_entropy(&m, &labels);
    // Row 0: −ln 1 = 0; row 1: 1000 − (−1000) = 2000.
    assert_eq!(y, 1000.0);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(2.0), Const(&labels));
    assert_eq!(
        d.unwrap(),
        DMatrix::from_row_slice(2, 3, &[0.0, 0.0, 0.0, 0.0, -1.0, 1.0])
    );
    assert_eq!(autodiff_runtime::softmax_cross_entropy(&m, &labels), y);
}

#[test]
fn losses_of_an_empty_batch_are_zero() {
    let m = DMatrix::<f64>::zeros(0, 3);
    assert_eq!(rules::svm_loss(&m, &[]).0, 0.0);
    assert_eq!(rules::softmax_cross_entropy(&m, &[]).0, 0.0);
}

#[test]
#[should_panic(expected = "svm_loss: 2 labels for 3 rows of scores (scores of shape (3, 4))")]
fn svm_label_count_mismatch_panics() {
    let _ = rules::svm_loss(&DMatrix::<f64>::zeros(3, 4), &[0, 1]);
}

#[test]
#[should_panic(expected = "svm_loss: label 4 of row 1 is out of range for 4 classes")]
fn svm_label_out_of_range_panics() {
    let _ = rules::svm_loss(&DMatrix::<f64>::zeros(3, 4), &[0, 4, 1]);
}

#[test]
#[should_panic(
    expected = "softmax_cross_entropy: 4 labels for 3 rows of scores (scores of shape (3, 2))"
)]
fn softmax_cross_entropy_label_count_mismatch_panics() {
    let _ = rules::softmax_cross_entropy(&DMatrix::<f64>::zeros(3, 2), &[0, 1, 1, 0]);
}

#[test]
#[should_panic(expected = "softmax_cross_entropy: label 7 of row 0 is out of range for 2 classes")]
fn softmax_cross_entropy_label_out_of_range_panics() {
    let _ = rules::softmax_cross_entropy(&DMatrix::<f64>::zeros(1, 2), &[7]);
}

#[test]
#[should_panic(
    expected = "softmax_cross_entropy: 1 labels for 2 rows of scores (scores of shape (2, 2))"
)]
fn softmax_cross_entropy_pullback_checks_the_labels() {
    let (_, h) = rules::softmax_cross_entropy(&DMatrix::<f64>::zeros(2, 2), &[0, 1]);
    h.arg(&mut None, Seed::Owned(1.0), Const(&[0]));
}

// -------------------------------------------------------------------- f32 sanity checks

#[test]
fn f32_softmax_and_losses() {
    let mut rng = rng(32);
    let s32 = f32_of(&sample(&mut rng, (Dyn(4), Dyn(5)), -3.0, 3.0, |_| true));
    let s = s32.map(f64::from);
    let u32_ = f32_of(&dmatrix(&mut rng, 4, 5));
    let u = u32_.map(f64::from);
    let labels = [0, 4, 2, 2];
    let (y32, h32) = rules::softmax(&s32);
    let (y, h) = rules::softmax(&s);
    assert_f32("softmax f32", &y32, &y);
    let (mut d32, mut d) = (None, None);
    h32.arg(&mut d32, Seed::Borrowed(&u32_), Output(&y32));
    h.arg(&mut d, Seed::Borrowed(&u), Output(&y));
    assert_f32("softmax f32 pullback", &d32.unwrap(), &d.unwrap());
    let (y32, h32) = rules::log_softmax(&s32);
    let (y, h) = rules::log_softmax(&s);
    assert_f32("log_softmax f32", &y32, &y);
    let (mut d32, mut d) = (None, None);
    h32.arg(&mut d32, Seed::Borrowed(&u32_), Output(&y32));
    h.arg(&mut d, Seed::Borrowed(&u), Output(&y));
    assert_f32("log_softmax f32 pullback", &d32.unwrap(), &d.unwrap());
    for (y32, y) in [
        (
            rules::svm_loss(&s32, &labels).0,
            rules::svm_loss(&s, &labels).0,
        ),
        (
            rules::softmax_cross_entropy(&s32, &labels).0,
            rules::softmax_cross_entropy(&s, &labels).0,
        ),
    ] {
        assert_f32_scalar("loss f32", y32, y);
    }
    let (_, h32) = rules::softmax_cross_entropy(&s32, &labels);
    let (_, h) = rules::softmax_cross_entropy(&s, &labels);
    let (mut d32, mut d) = (None, None);
    h32.arg(&mut d32, Seed::Owned(1.0f32), Const(&labels));
    h.arg(&mut d, Seed::Owned(1.0), Const(&labels));
    assert_f32(
        "softmax_cross_entropy f32 pullback",
        &d32.unwrap(),
        &d.unwrap(),
    );
    let (y32, _) =
        rules::softmax_cross_entropy(&DMatrix::from_row_slice(1, 2, &[1000.0f32, -1000.0]), &[1]);
    assert_eq!(y32, 2000.0);
}

/// A zero seed (the loss's result reached no output) leaves the gradient empty and gives
/// the probabilities' buffer back to the pool, where the next matrix of that shape finds it.
#[test]
fn softmax_cross_entropy_with_a_zero_seed_gives_its_buffer_back() {
    autodiff_runtime::buffers::release();
    let scores = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 0.5, -1.0, 0.0, 3.0]);
    let labels = [2usize, 0];
    let (_, h) = rules::softmax_cross_entropy(&scores, &labels);
    let buffer = h.probabilities().as_ptr();
    let mut d = None;
    h.arg(&mut d, Seed::Zero, Const(&labels[..]));
    assert!(d.is_none());
    let before = autodiff_runtime::buffers::stats();
    let next = autodiff_runtime::buffers::matrix::<f64, _, _>(
        Dyn(2),
        Dyn(3),
        autodiff_runtime::buffers::Fill::Zeros,
    );
    let after = autodiff_runtime::buffers::stats();
    assert_eq!(
        (
            after.reused - before.reused,
            after.allocated - before.allocated
        ),
        (1, 0)
    );
    assert_eq!(next.as_ptr(), buffer, "in the probabilities' buffer");
}
