//! The reductions to one element, to the diagonal and along rows or columns (`max`, `min`,
//! `trace`, `row_sum`, `row_mean`, `column_sum`, `column_mean`): values equal to nalgebra's
//! bit for bit, pullbacks against central differences and the dot-product test on dynamic
//! matrices, column and row vectors and static matrices; ties, empty matrices, zero seeds,
//! shape panics; an f32 check.

mod common;

use autodiff_runtime::__private::rules::{self, Seed};
use common::{check_pullback, dmatrix, f32_of, kind, rng, uniform, Rng};
use nalgebra::{
    allocator::Allocator, Const, DMatrix, DVector, DefaultAllocator, Dim, Dyn, OMatrix, RowDVector,
    SMatrix, U1,
};

fn bits<T: nalgebra::Scalar + Copy + Into<f64>, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> Vec<u64>
where
    DefaultAllocator: Allocator<R, C>,
{
    m.iter().map(|&v| v.into().to_bits()).collect()
}

// ------------------------------------------------------------------------ max and min

#[test]
fn max_and_min() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C>,
    {
        let m: OMatrix<f64, R, C> = uniform(rng, shape);
        let (y, h) = rules::max_element(&m);
        assert_eq!(y.to_bits(), m.max().to_bits());
        check_pullback(
            &format!("max {}", kind::<R, C>()),
            rng,
            &m,
            &|m| rules::max_element(m).0,
            &|d, s| h.arg(d, s),
        );
        let (y, h) = rules::min_element(&m);
        assert_eq!(y.to_bits(), m.min().to_bits());
        check_pullback(
            &format!("min {}", kind::<R, C>()),
            rng,
            &m,
            &|m| rules::min_element(m).0,
            &|d, s| h.arg(d, s),
        );
    }
    matrix_types!(case, &mut rng(41));
}

/// Among equal extreme elements the derivative goes to the first in column-major order.
#[test]
fn max_and_min_ties_go_to_the_first_in_column_major_order() {
    // Column-major: 1, 3, 3, 2, -1, -1 (2×3).
    let m = DMatrix::from_row_slice(2, 3, &[1.0, 3.0, -1.0, 3.0, 2.0, -1.0]);
    let (y, h) = rules::max_element(&m);
    assert_eq!(y, 3.0);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(2.0));
    assert_eq!(
        d.unwrap(),
        DMatrix::from_row_slice(2, 3, &[0.0, 0.0, 0.0, 2.0, 0.0, 0.0])
    );
    let (y, h) = rules::min_element(&m);
    assert_eq!(y, -1.0);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(2.0));
    assert_eq!(
        d.unwrap(),
        DMatrix::from_row_slice(2, 3, &[0.0, 0.0, 2.0, 0.0, 0.0, 0.0])
    );
    // Zeros of both signs tie: the first one is selected, and the value is its bits.
    let z = DVector::from_column_slice(&[-0.0f64, 0.0, -1.0]);
    let (y, h) = rules::max_element(&z);
    assert_eq!(y.to_bits(), z.max().to_bits());
    let mut d = None;
    h.arg(&mut d, Seed::Owned(1.0));
    assert_eq!(d.unwrap(), DVector::from_column_slice(&[1.0, 0.0, 0.0]));
}

/// NaN elements: the value is nalgebra's, whatever it is.
#[test]
fn max_and_min_with_nan_match_nalgebra() {
    for v in [
        [f64::NAN, 1.0, 2.0],
        [1.0, f64::NAN, 2.0],
        [1.0, 2.0, f64::NAN],
        [2.0, f64::NAN, 1.0],
    ] {
        let m = DVector::from_column_slice(&v);
        assert_eq!(rules::max_element(&m).0.to_bits(), m.max().to_bits());
        assert_eq!(rules::min_element(&m).0.to_bits(), m.min().to_bits());
    }
}

/// nalgebra gives `0` for an empty matrix; the gradient is the empty matrix (all zeros).
#[test]
fn max_and_min_of_an_empty_matrix() {
    let m = DMatrix::<f64>::zeros(0, 3);
    for (y, h) in [rules::max_element(&m), rules::min_element(&m)] {
        assert_eq!(y, 0.0);
        assert_eq!(y, m.max());
        let mut d = None;
        h.arg(&mut d, Seed::Owned(1.0));
        assert_eq!(d.unwrap().shape(), (0, 3));
    }
}

/// A present seed leaves a gradient even when it is zero, as every rule does.
#[test]
fn zero_seeds_leave_zero_gradients() {
    let m = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    let (_, h) = rules::max_element(&m);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(0.0));
    assert_eq!(d, Some(DMatrix::zeros(2, 2)));
    let (_, h) = rules::trace(&m);
    let mut d = None;
    h.arg(&mut d, Seed::Borrowed(&0.0));
    assert_eq!(d, Some(DMatrix::zeros(2, 2)));
    let (_, h) = rules::row_sum(&m);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(RowDVector::zeros(2)));
    assert_eq!(d, Some(DMatrix::zeros(2, 2)));
    let (_, h) = rules::column_mean(&m);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(DVector::zeros(2)));
    assert_eq!(d, Some(DMatrix::zeros(2, 2)));
}

// ------------------------------------------------------------------------------ trace

#[test]
fn trace() {
    fn case<D: Dim>(rng: &mut Rng, d: D)
    where
        DefaultAllocator: Allocator<D, D>,
    {
        let m: OMatrix<f64, D, D> = uniform(rng, (d, d));
        let (y, h) = rules::trace(&m);
        assert_eq!(y.to_bits(), m.trace().to_bits());
        check_pullback(
            &format!("trace {}", kind::<D, D>()),
            rng,
            &m,
            &|m| rules::trace(m).0,
            &|d, s| h.arg(d, s),
        );
    }
    let rng = &mut rng(43);
    case(rng, Dyn(4));
    case(rng, Dyn(1));
    case(rng, Const::<3>);
    let (y, _) = rules::trace(&DMatrix::<f64>::zeros(0, 0));
    assert_eq!(y, 0.0);
}

#[test]
#[should_panic(expected = "trace: shape (2, 3) is not square")]
fn trace_of_a_non_square_matrix_panics() {
    let _ = rules::trace(&DMatrix::<f64>::zeros(2, 3));
}

// ------------------------------------------------------------------- along rows, columns

#[test]
fn row_and_column_sums_and_means() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C> + Allocator<U1, C> + Allocator<R, U1>,
    {
        let m: OMatrix<f64, R, C> = uniform(rng, shape);
        let k = kind::<R, C>();

        let (y, h) = rules::row_sum(&m);
        assert_eq!(bits(&y), bits(&m.row_sum()), "row_sum {k}");
        check_pullback(
            &format!("row_sum {k}"),
            rng,
            &m,
            &|m| rules::row_sum(m).0,
            &|d, s| h.arg(d, s),
        );
        let (y, h) = rules::row_mean(&m);
        assert_eq!(bits(&y), bits(&m.row_mean()), "row_mean {k}");
        check_pullback(
            &format!("row_mean {k}"),
            rng,
            &m,
            &|m| rules::row_mean(m).0,
            &|d, s| h.arg(d, s),
        );
        let (y, h) = rules::column_sum(&m);
        assert_eq!(bits(&y), bits(&m.column_sum()), "column_sum {k}");
        check_pullback(
            &format!("column_sum {k}"),
            rng,
            &m,
            &|m| rules::column_sum(m).0,
            &|d, s| h.arg(d, s),
        );
        let (y, h) = rules::column_mean(&m);
        assert_eq!(bits(&y), bits(&m.column_mean()), "column_mean {k}");
        check_pullback(
            &format!("column_mean {k}"),
            rng,
            &m,
            &|m| rules::column_mean(m).0,
            &|d, s| h.arg(d, s),
        );
    }
    matrix_types!(case, &mut rng(47));
    case(&mut rng(48), (Const::<4>, Const::<1>));
}

/// Means over no rows or no columns are `0`, as nalgebra's; so are their gradients.
#[test]
fn means_of_empty_directions() {
    let m = DMatrix::<f64>::zeros(0, 3);
    let (y, h) = rules::row_mean(&m);
    assert_eq!(y, m.row_mean());
    assert_eq!(y, RowDVector::zeros(3));
    let mut d = None;
    h.arg(&mut d, Seed::Owned(RowDVector::repeat(3, 1.0)));
    assert_eq!(d.unwrap().shape(), (0, 3));
    let m = DMatrix::<f64>::zeros(2, 0);
    let (y, h) = rules::column_mean(&m);
    assert_eq!(y, m.column_mean());
    assert_eq!(y, DVector::zeros(2));
    let mut d = None;
    h.arg(&mut d, Seed::Owned(DVector::repeat(2, 1.0)));
    assert_eq!(d.unwrap().shape(), (2, 0));
}

#[test]
#[should_panic(expected = "row reduction: shapes 3 and 4 do not match")]
fn row_sum_seed_of_the_wrong_length_panics() {
    let (_, h) = rules::row_sum(&DMatrix::<f64>::zeros(2, 4));
    h.arg(&mut None, Seed::Owned(RowDVector::zeros(3)));
}

#[test]
#[should_panic(expected = "column reduction: shapes 3 and 2 do not match")]
fn column_sum_seed_of_the_wrong_length_panics() {
    let (_, h) = rules::column_sum(&DMatrix::<f64>::zeros(2, 4));
    h.arg(&mut None, Seed::Owned(DVector::zeros(3)));
}

// --------------------------------------------------------------------------------- f32

#[test]
fn f32_values_and_pullbacks() {
    let m = f32_of(&dmatrix(&mut rng(49), 3, 3));
    assert_eq!(rules::max_element(&m).0.to_bits(), m.max().to_bits());
    assert_eq!(rules::min_element(&m).0.to_bits(), m.min().to_bits());
    assert_eq!(rules::trace(&m).0.to_bits(), m.trace().to_bits());
    assert_eq!(bits(&rules::row_sum(&m).0), bits(&m.row_sum()));
    assert_eq!(bits(&rules::row_mean(&m).0), bits(&m.row_mean()));
    assert_eq!(bits(&rules::column_sum(&m).0), bits(&m.column_sum()));
    assert_eq!(bits(&rules::column_mean(&m).0), bits(&m.column_mean()));

    let (_, h) = rules::max_element(&m);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(1.0f32));
    let d = d.unwrap();
    assert_eq!(d.sum(), 1.0);
    assert_eq!(m[d.iamax_full()], m.max());
    let (_, h) = rules::trace(&m);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(2.0f32));
    assert_eq!(d.unwrap(), DMatrix::from_diagonal_element(3, 3, 2.0f32));
    let (_, h) = rules::row_mean(&m);
    let mut d = None;
    h.arg(
        &mut d,
        Seed::Owned(RowDVector::from_row_slice(&[3.0f32, 6.0, 9.0])),
    );
    assert_eq!(
        d.unwrap(),
        DMatrix::from_row_slice(3, 3, &[1.0f32, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0])
    );
    let (_, h) = rules::column_sum(&m);
    let mut d = None;
    h.arg(
        &mut d,
        Seed::Borrowed(&DVector::from_column_slice(&[1.0f32, 2.0, 3.0])),
    );
    assert_eq!(
        d.unwrap(),
        DMatrix::from_row_slice(3, 3, &[1.0f32, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0])
    );
}

#[test]
fn static_shapes_have_static_results() {
    let m = SMatrix::<f64, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
    let r: SMatrix<f64, 1, 3> = rules::row_sum(&m).0;
    let c: SMatrix<f64, 2, 1> = rules::column_mean(&m).0;
    assert_eq!(r, m.row_sum());
    assert_eq!(c, m.column_mean());
}
