//! Parts of a matrix (`element`, `part_row`, `part_column`, `part_rows`, `part_columns`,
//! `part_view`): values equal to nalgebra's reads bit for bit, of the type nalgebra's
//! `.into_owned()` gives; pullbacks against central differences and the dot-product test on
//! dynamic matrices, column and row vectors and static matrices; pullbacks into a filled
//! slot add into the part only; out-of-range reads panic as nalgebra's; an f32 check.

mod common;

use autodiff_runtime::__private::rules::{self, Seed};
use common::{check_pullback, kind, rng, uniform, Rng};
use nalgebra::{
    allocator::Allocator, DMatrix, DVector, DefaultAllocator, Dim, Dyn, OMatrix, RowDVector,
    SMatrix, U1,
};

fn bits<R: Dim, C: Dim>(m: &OMatrix<f64, R, C>) -> Vec<u64>
where
    DefaultAllocator: Allocator<R, C>,
{
    m.iter().map(|v| v.to_bits()).collect()
}

/// Every rule on every element and part of a matrix of the given shape.
#[test]
fn parts_of_every_matrix_type() {
    fn case<R: Dim, C: Dim>(rng: &mut Rng, shape: (R, C))
    where
        DefaultAllocator: Allocator<R, C>
            + Allocator<U1, C>
            + Allocator<R, U1>
            + Allocator<Dyn, C>
            + Allocator<R, Dyn>
            + Allocator<Dyn, Dyn>,
    {
        let m: OMatrix<f64, R, C> = uniform(rng, shape);
        let (r, c) = m.shape();
        let name = kind::<R, C>();
        for k in [0, r * c / 2, r * c - 1] {
            let (y, h) = rules::element(&m, k);
            assert_eq!(y.to_bits(), m[k].to_bits());
            let (g, u) = check_pullback(
                &format!("element {k} of {name}"),
                rng,
                &m,
                &|m| rules::element(m, k).0,
                &|d, s| h.arg(d, s),
            );
            let mut want = OMatrix::<f64, R, C>::zeros_generic(shape.0, shape.1);
            want[k] = u;
            assert_eq!(g, want);
        }
        for (i, j) in [(0, 0), (r - 1, c - 1), (r / 2, c / 2)] {
            let (y, h) = rules::element(&m, (i, j));
            assert_eq!(y.to_bits(), m[(i, j)].to_bits());
            check_pullback(
                &format!("element ({i}, {j}) of {name}"),
                rng,
                &m,
                &|m| rules::element(m, (i, j)).0,
                &|d, s| h.arg(d, s),
            );
        }
        for i in [0, r - 1] {
            let (y, h) = rules::part_row(&m, i);
            assert_eq!(bits(&y), bits(&m.row(i).into_owned()));
            let (g, u) = check_pullback(
                &format!("row {i} of {name}"),
                rng,
                &m,
                &|m| rules::part_row(m, i).0,
                &|d, s| h.arg(d, s),
            );
            assert_eq!(g.row(i), u);
            assert_eq!(
                g.sum(),
                u.sum(),
                "row {i} of {name}: only the row is reached"
            );
        }
        for j in [0, c - 1] {
            let (y, h) = rules::part_column(&m, j);
            assert_eq!(bits(&y), bits(&m.column(j).into_owned()));
            let (g, u) = check_pullback(
                &format!("column {j} of {name}"),
                rng,
                &m,
                &|m| rules::part_column(m, j).0,
                &|d, s| h.arg(d, s),
            );
            assert_eq!(g.column(j), u);
        }
        for (i, n) in [(0, r), (r / 2, r - r / 2), (r - 1, 1), (r, 0)] {
            let (y, h) = rules::part_rows(&m, i, n);
            assert_eq!(bits(&y), bits(&m.rows(i, n).into_owned()));
            if n > 0 {
                check_pullback(
                    &format!("rows ({i}, {n}) of {name}"),
                    rng,
                    &m,
                    &|m| rules::part_rows(m, i, n).0,
                    &|d, s| h.arg(d, s),
                );
            }
        }
        for (j, n) in [(0, c), (c / 2, c - c / 2), (c - 1, 1)] {
            let (y, h) = rules::part_columns(&m, j, n);
            assert_eq!(bits(&y), bits(&m.columns(j, n).into_owned()));
            check_pullback(
                &format!("columns ({j}, {n}) of {name}"),
                rng,
                &m,
                &|m| rules::part_columns(m, j, n).0,
                &|d, s| h.arg(d, s),
            );
        }
        for (start, size) in [((0, 0), (r, c)), ((r / 2, c / 2), (r - r / 2, c - c / 2))] {
            let (y, h) = rules::part_view(&m, start, size);
            assert_eq!(bits(&y), bits(&m.view(start, size).into_owned()));
            check_pullback(
                &format!("view {start:?} {size:?} of {name}"),
                rng,
                &m,
                &|m| rules::part_view(m, start, size).0,
                &|d, s| h.arg(d, s),
            );
        }
    }
    matrix_types!(case, &mut rng(71));
}

/// The types of the parts: those of nalgebra's `.into_owned()`.
#[test]
fn parts_have_the_types_of_owned_views() {
    let m = SMatrix::<f64, 2, 3>::from_fn(|i, j| (i * 3 + j) as f64);
    let _: (SMatrix<f64, 1, 3>, _) = rules::part_row(&m, 1);
    let _: (SMatrix<f64, 2, 1>, _) = rules::part_column(&m, 2);
    let _: (OMatrix<f64, Dyn, nalgebra::U3>, _) = rules::part_rows(&m, 0, 1);
    let _: (OMatrix<f64, nalgebra::U2, Dyn>, _) = rules::part_columns(&m, 1, 2);
    let _: (DMatrix<f64>, _) = rules::part_view(&m, (0, 1), (2, 2));
    let d = DMatrix::<f64>::zeros(3, 4);
    let _: (RowDVector<f64>, _) = rules::part_row(&d, 1);
    let _: (DVector<f64>, _) = rules::part_column(&d, 2);
    let v = DVector::<f64>::zeros(5);
    let _: (DVector<f64>, _) = rules::part_rows(&v, 1, 3);
    let _: (f64, _) = rules::element(&v, 4);
}

/// Two reads of the same matrix add into one adjoint, each into its own part.
#[test]
fn reads_add_into_their_part_of_one_adjoint() {
    let m = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let mut d = None;
    let (_, h) = rules::element(&m, (1, 2));
    h.arg(&mut d, Seed::Owned(2.0));
    let (_, h) = rules::part_row(&m, 1);
    h.arg(
        &mut d,
        Seed::Owned(RowDVector::from_row_slice(&[1.0, 1.0, 1.0])),
    );
    let (_, h) = rules::part_view(&m, (0, 1), (1, 2));
    h.arg(
        &mut d,
        Seed::Borrowed(&DMatrix::from_row_slice(1, 2, &[10.0, 20.0])),
    );
    assert_eq!(
        d.unwrap(),
        DMatrix::from_row_slice(2, 3, &[0.0, 10.0, 20.0, 1.0, 1.0, 3.0])
    );
}

#[test]
#[should_panic(expected = "Matrix index out of bounds")]
fn an_element_out_of_range_panics() {
    let _ = rules::element(&DVector::<f64>::zeros(3), 3);
}

#[test]
#[should_panic(expected = "Matrix index out of bounds")]
fn an_element_pair_out_of_range_panics() {
    let _ = rules::element(&DMatrix::<f64>::zeros(2, 3), (2, 0));
}

#[test]
#[should_panic(expected = "Matrix slicing out of bounds")]
fn a_view_out_of_range_panics() {
    let _ = rules::part_view(&DMatrix::<f64>::zeros(2, 3), (1, 1), (2, 2));
}

#[test]
#[should_panic(expected = "Matrix slicing out of bounds")]
fn rows_out_of_range_panic() {
    let _ = rules::part_rows(&DVector::<f64>::zeros(3), 2, 2);
}

/// In f32: the same values as nalgebra's, and the seed in the part.
#[test]
fn f32_parts() {
    let m = DMatrix::<f32>::from_fn(3, 2, |i, j| 0.25 * i as f32 - 0.5 * j as f32);
    let (y, h) = rules::part_column(&m, 1);
    assert_eq!(y, m.column(1).into_owned());
    let mut d = None;
    h.arg(&mut d, Seed::Owned(DVector::from_element(3, 1.5f32)));
    let d = d.unwrap();
    assert_eq!(d.column(1), DVector::from_element(3, 1.5f32));
    assert_eq!(d.column(0), DVector::zeros(3));
    let (y, h) = rules::element(&m, (2, 1));
    assert_eq!(y, m[(2, 1)]);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(0.5f32));
    assert_eq!(d.unwrap()[(2, 1)], 0.5);
}
