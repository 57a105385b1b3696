//! The matrix rules that are not row-wise (reductions, `transpose`, `add_scalar`, `scale`,
//! `add_bias`, `map`): pullbacks against central differences and the dot-product test on
//! dynamic matrices, column and row vectors and static matrices; conventions at zero; shape
//! panics; an f32 sanity check.

mod common;

use autodiff_runtime::__private::rules::{self, Operand, Output, Seed};
use autodiff_runtime::buffers;
use common::{
    assert_f32, assert_f32_scalar, check_pullback, dmatrix, f32_of, kind, rng, sample, uniform, Rng,
};
use nalgebra::{
    allocator::Allocator, DMatrix, DVector, DefaultAllocator, Dim, Dyn, OMatrix, RowDVector, U1,
};

// -------------------------------------------------------------------------- reductions

#[test]
fn sum_and_mean() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C>,
    {
        let m: OMatrix<f64, R, C> = uniform(rng, shape);
        let (y, h) = rules::sum(&m);
        assert_eq!(y, m.sum());
        check_pullback(
            &format!("sum {}", kind::<R, C>()),
            rng,
            &m,
            &|m| rules::sum(m).0,
            &|d, s| h.arg(d, s),
        );
        let (y, h) = rules::mean(&m);
        assert_eq!(y, m.mean());
        check_pullback(
            &format!("mean {}", kind::<R, C>()),
            rng,
            &m,
            &|m| rules::mean(m).0,
            &|d, s| h.arg(d, s),
        );
    }
    matrix_types!(case, &mut rng(21));
}

#[test]
fn mean_of_an_empty_matrix_is_zero() {
    let m = DMatrix::<f64>::zeros(0, 3);
    let (y, h) = rules::mean(&m);
    assert_eq!(y, 0.0);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(1.0));
    assert_eq!(d.unwrap().shape(), (0, 3));
}

#[test]
fn norms_and_dot() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C>,
    {
        let name = kind::<R, C>();
        let m: OMatrix<f64, R, C> = uniform(rng, shape);
        let (y, h) = rules::norm_squared(&m);
        assert_eq!(y, m.norm_squared());
        check_pullback(
            &format!("norm_squared {name}"),
            rng,
            &m,
            &|m| rules::norm_squared(m).0,
            &|d, s| h.arg(d, s, Operand(&m)),
        );
        let (y, h) = rules::norm(&m);
        assert_eq!(y, m.norm());
        check_pullback(
            &format!("norm {name}"),
            rng,
            &m,
            &|m| rules::norm(m).0,
            &|d, s| h.arg(d, s, Operand(&m), Output(&y)),
        );
        let b: OMatrix<f64, R, C> = uniform(rng, shape);
        let (y, h) = rules::dot(&m, &b);
        assert_eq!(y, m.dot(&b));
        check_pullback(
            &format!("dot lhs {name}"),
            rng,
            &m,
            &|a| rules::dot(a, &b).0,
            &|d, s| h.lhs(d, s, Operand(&b)),
        );
        check_pullback(
            &format!("dot rhs {name}"),
            rng,
            &b,
            &|b| rules::dot(&m, b).0,
            &|d, s| h.rhs(d, s, Operand(&m)),
        );
    }
    matrix_types!(case, &mut rng(22));
}

#[test]
fn norm_at_zero_has_zero_derivative() {
    let m = DVector::<f64>::zeros(3);
    let (y, h) = rules::norm(&m);
    assert_eq!(y, 0.0);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(1.0), Operand(&m), Output(&y));
    assert_eq!(d.unwrap(), DVector::zeros(3));
}

#[test]
#[should_panic(expected = "dot: shapes (3, 1) and (4, 1) do not match")]
fn dot_shape_mismatch_panics() {
    let _ = rules::dot(&DVector::<f64>::zeros(3), &DVector::zeros(4));
}

// ------------------------------------------------------- transpose, add_scalar, scale

#[test]
fn transpose() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C> + Allocator<C, R>,
    {
        let m: OMatrix<f64, R, C> = uniform(rng, shape);
        let (y, h) = rules::transpose(&m);
        assert_eq!(y, m.transpose());
        check_pullback(
            &format!("transpose {}", kind::<R, C>()),
            rng,
            &m,
            &|m| rules::transpose(m).0,
            &|d, s| h.arg(d, s),
        );
    }
    matrix_types!(case, &mut rng(23));
}

#[test]
#[should_panic(expected = "transpose: shapes (3, 2) and (2, 2) do not match")]
fn transpose_accumulation_shape_mismatch_panics() {
    let m = DMatrix::<f64>::zeros(3, 2);
    let (_, h) = rules::transpose(&m);
    h.arg(&mut Some(m), Seed::Owned(DMatrix::zeros(2, 2)));
}

#[test]
fn add_scalar_and_scale() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C>,
    {
        let name = kind::<R, C>();
        let m: OMatrix<f64, R, C> = uniform(rng, shape);
        let s: f64 = uniform(rng, ());
        let (y, h) = rules::add_scalar(&m, &s);
        assert_eq!(y, m.add_scalar(s));
        check_pullback(
            &format!("add_scalar lhs {name}"),
            rng,
            &m,
            &|m| rules::add_scalar(m, &s).0,
            &|d, g| h.lhs(d, g),
        );
        check_pullback(
            &format!("add_scalar rhs {name}"),
            rng,
            &s,
            &|s| rules::add_scalar(&m, s).0,
            &|d, g| h.rhs(d, g),
        );
        let (y, h) = rules::scale(&m, &s);
        assert_eq!(y, m.scale(s));
        check_pullback(
            &format!("scale lhs {name}"),
            rng,
            &m,
            &|m| rules::scale(m, &s).0,
            &|d, g| h.lhs(d, g, Operand(&s)),
        );
        check_pullback(
            &format!("scale rhs {name}"),
            rng,
            &s,
            &|s| rules::scale(&m, s).0,
            &|d, g| h.rhs(d, g, Operand(&m)),
        );
    }
    matrix_types!(case, &mut rng(24));
}

// ---------------------------------------------------------------------------- add_bias

#[test]
fn add_bias() {
    let mut rng = rng(25);
    for (rows, cols) in [(3, 4), (1, 5), (6, 1), (7, 8)] {
        let m = dmatrix(&mut rng, rows, cols);
        let row: RowDVector<f64> = uniform(&mut rng, (U1, Dyn(cols)));
        let (y, h) = rules::add_bias(&m, &row);
        assert_eq!(y, DMatrix::from_fn(rows, cols, |i, j| m[(i, j)] + row[j]));
        check_pullback(
            "add_bias (row) lhs",
            &mut rng,
            &m,
            &|m| rules::add_bias(m, &row).0,
            &|d, s| h.lhs(d, s),
        );
        check_pullback(
            "add_bias (row) rhs",
            &mut rng,
            &row,
            &|b| rules::add_bias(&m, b).0,
            &|d, s| h.rhs(d, s),
        );
        let column: DVector<f64> = uniform(&mut rng, (Dyn(rows), U1));
        let (y, h) = rules::add_bias(&m, &column);
        assert_eq!(
            y,
            DMatrix::from_fn(rows, cols, |i, j| m[(i, j)] + column[i])
        );
        check_pullback(
            "add_bias (column) lhs",
            &mut rng,
            &m,
            &|m| rules::add_bias(m, &column).0,
            &|d, s| h.lhs(d, s),
        );
        check_pullback(
            "add_bias (column) rhs",
            &mut rng,
            &column,
            &|b| rules::add_bias(&m, b).0,
            &|d, s| h.rhs(d, s),
        );
    }
}

#[test]
#[should_panic(
    expected = "add_bias: shapes (3, 4) and (1, 5) do not fit: a row bias needs one element per column"
)]
fn add_bias_row_mismatch_panics() {
    let _ = rules::add_bias(DMatrix::<f64>::zeros(3, 4), &RowDVector::zeros(5));
}

#[test]
#[should_panic(
    expected = "add_bias: shapes (3, 4) and (4, 1) do not fit: a column bias needs one element per row"
)]
fn add_bias_column_mismatch_panics() {
    let _ = rules::add_bias(DMatrix::<f64>::zeros(3, 4), &DVector::zeros(4));
}

// --------------------------------------------------------------------------------- map

#[test]
fn map_with_a_captured_scalar() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C>,
    {
        let name = kind::<R, C>();
        let m: OMatrix<f64, R, C> = uniform(rng, shape);
        let c: f64 = sample(rng, (), 0.5, 2.0, |_| true);
        // f(v) = sin(c·v): ∂f/∂v = c·cos(c·v), ∂f/∂c = v·cos(c·v).
        let f = |c: f64| move |v: f64| ((c * v).sin(), [c * (c * v).cos(), v * (c * v).cos()]);
        let (y, h) = rules::map(&m, f(c));
        assert_eq!(y, m.map(|v| (c * v).sin()));
        check_pullback(
            &format!("map input {name}"),
            rng,
            &m,
            &|m| rules::map(m, f(c)).0,
            &|d, s| h.input(0, d, s),
        );
        check_pullback(
            &format!("map captured {name}"),
            rng,
            &c,
            &|c| rules::map(&m, f(*c)).0,
            &|d, s| h.captured(1, d, s),
        );
    }
    matrix_types!(case, &mut rng(30));
}

#[test]
fn map_with_one_partial_and_with_none() {
    let m = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    let (y, h) = rules::map(&m, |v| (v * v, [2.0 * v]));
    assert_eq!(y, m.map(|v| v * v));
    let mut d = Some(DMatrix::repeat(2, 2, 1.0));
    h.input(0, &mut d, Seed::Owned(DMatrix::repeat(2, 2, 0.5)));
    assert_eq!(d.unwrap(), m.map(|v| 1.0 + v));
    let (y, _) = rules::map(&m, |v| (v + 1.0, []));
    assert_eq!(y, m.add_scalar(1.0));
}

/// The pullback to a captured scalar only reads its seed: a seed given by value goes back to
/// the pool, and the next matrix of its size is made in its buffer instead of a new one.
#[test]
fn map_captured_gives_an_owned_seed_back_to_the_pool() {
    buffers::release();
    let m = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let (_, h) = rules::map(&m, |v| (v * v, [2.0 * v]));
    let seed = DMatrix::repeat(2, 3, 1.0);
    let buffer = seed.as_ptr();
    let mut d = None;
    h.captured(0, &mut d, Seed::Owned(seed));
    assert_eq!(d, Some(2.0 * m.sum()));
    let before = buffers::stats();
    let next = buffers::matrix::<f64, _, _>(Dyn(2), Dyn(3), buffers::Fill::Zeros);
    let after = buffers::stats();
    assert_eq!(
        (
            after.reused - before.reused,
            after.allocated - before.allocated
        ),
        (1, 0),
        "the next 2×3 matrix comes from the pool"
    );
    assert_eq!(next.as_ptr(), buffer, "in the seed's buffer");
}

#[test]
#[should_panic(expected = "map: partial derivative 2 requested, but the closure returns 2")]
fn map_partial_out_of_range_panics() {
    let m = DMatrix::<f64>::zeros(2, 2);
    let (_, h) = rules::map(&m, |v| (v, [1.0, 0.0]));
    h.input(2, &mut None, Seed::Owned(m));
}

// -------------------------------------------------------------------- f32 sanity checks

#[test]
fn f32_reductions_and_matrix_operations() {
    let mut rng = rng(31);
    let m32 = f32_of(&dmatrix(&mut rng, 3, 4));
    let m = m32.map(f64::from);
    let (y32, h32) = rules::norm(&m32);
    let (y, h) = rules::norm(&m);
    assert_f32_scalar("norm f32", y32, y);
    let (mut d32, mut d) = (None, None);
    h32.arg(&mut d32, Seed::Owned(1.0f32), Operand(&m32), Output(&y32));
    h.arg(&mut d, Seed::Owned(1.0), Operand(&m), Output(&y));
    assert_f32("norm f32 pullback", &d32.unwrap(), &d.unwrap());
    let (y32, h32) = rules::mean(&m32);
    assert_f32_scalar("mean f32", y32, m.mean());
    let mut d32 = None;
    h32.arg(&mut d32, Seed::Owned(1.0f32));
    assert_f32(
        "mean f32 pullback",
        &d32.unwrap(),
        &DMatrix::repeat(3, 4, 1.0 / 12.0),
    );
    let (y32, h32) = rules::transpose(&m32);
    assert_f32("transpose f32", &y32, &m.transpose());
    let mut d32 = None;
    h32.arg(&mut d32, Seed::Borrowed(&y32));
    assert_eq!(d32.unwrap(), m32);
    let b32 = RowDVector::from_row_slice(&[1.0f32, 2.0, 3.0, 4.0]);
    let (y32, h32) = rules::add_bias(&m32, &b32);
    assert_f32(
        "add_bias f32",
        &y32,
        &rules::add_bias(&m, &b32.map(f64::from)).0,
    );
    let mut d32 = None;
    h32.rhs(&mut d32, Seed::Owned(DMatrix::repeat(3, 4, 1.0f32)));
    assert_eq!(d32.unwrap(), RowDVector::repeat(4, 3.0));
    let (y32, h32) = rules::map(&m32, |v| (v.exp(), [v.exp()]));
    assert_f32("map f32", &y32, &m.map(f64::exp));
    let mut d32 = None;
    h32.captured(0, &mut d32, Seed::Owned(DMatrix::repeat(3, 4, 1.0f32)));
    assert_f32_scalar("map f32 captured", d32.unwrap(), m.map(f64::exp).sum());
}
