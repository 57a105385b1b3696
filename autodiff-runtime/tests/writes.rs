//! Writes into a matrix (`write_element`, `write_row`, `write_column`) and `fill`: values
//! equal to nalgebra's writes bit for bit, done in the buffer of a matrix moved in; both
//! pullbacks of each write (to the matrix written into, to the value written) against central
//! differences and the dot-product test, with every kind of seed and into a filled slot, on
//! dynamic, vector and static shapes.

mod common;

use autodiff_runtime::__private::rules;
use common::{check_pullback, rng, uniform};
use nalgebra::{Const, DMatrix, DVector, Dyn, RowDVector, SMatrix};

#[test]
fn element_writes() {
    let mut rng = rng(1);
    let m: DMatrix<f64> = uniform(&mut rng, (Dyn(3), Dyn(4)));
    let e = 0.75;
    for (i, j) in [(0, 0), (2, 1), (1, 3)] {
        let (y, h) = rules::write_element(&m, &e, (i, j));
        let mut want = m.clone();
        want[(i, j)] = e;
        assert_eq!(y, want);
        let (g, u) = check_pullback(
            &format!("write ({i}, {j}): the matrix"),
            &mut rng,
            &m,
            &|m| rules::write_element(m, &e, (i, j)).0,
            &|d, s| h.matrix(d, s),
        );
        let mut zeroed = u.clone();
        zeroed[(i, j)] = 0.0;
        assert_eq!(g, zeroed, "the element written over gets nothing");
        let (g, u) = check_pullback(
            &format!("write ({i}, {j}): the element"),
            &mut rng,
            &e,
            &|e| rules::write_element(&m, e, (i, j)).0,
            &|d, s| h.part(d, s),
        );
        assert_eq!(g, u[(i, j)]);
    }
    let v: DVector<f64> = uniform(&mut rng, (Dyn(5), Const::<1>));
    let (y, h) = rules::write_element(&v, &e, 3);
    assert_eq!((y[3], y[2]), (e, v[2]));
    check_pullback(
        "write 3 of a vector",
        &mut rng,
        &v,
        &|v| rules::write_element(v, &e, 3).0,
        &|d, s| h.matrix(d, s),
    );
}

#[test]
fn a_moved_matrix_is_written_in_place() {
    let m = DMatrix::from_element(200, 3, 0.5);
    let at = m.as_ptr();
    let (y, _) = rules::write_element(m, &2.0, (199, 2));
    assert_eq!(y.as_ptr(), at);
    assert_eq!(y[(199, 2)], 2.0);
    let (y, _) = rules::write_row(y, &RowDVector::from_element(3, 1.0), 0);
    let (y, _) = rules::write_column(y, &DVector::from_element(200, 3.0), 1);
    assert_eq!(y.as_ptr(), at);
    assert_eq!((y[(0, 0)], y[(0, 1)], y[(199, 2)]), (1.0, 3.0, 2.0));
}

#[test]
fn row_and_column_writes() {
    let mut rng = rng(2);
    let m: DMatrix<f64> = uniform(&mut rng, (Dyn(3), Dyn(4)));
    let r: RowDVector<f64> = uniform(&mut rng, (Const::<1>, Dyn(4)));
    let (y, h) = rules::write_row(&m, &r, 1);
    let mut want = m.clone();
    want.set_row(1, &r);
    assert_eq!(y, want);
    let (g, u) = check_pullback(
        "write_row: the matrix",
        &mut rng,
        &m,
        &|m| rules::write_row(m, &r, 1).0,
        &|d, s| h.matrix(d, s),
    );
    let mut zeroed = u.clone();
    zeroed.row_mut(1).fill(0.0);
    assert_eq!(g, zeroed);
    let (g, u) = check_pullback(
        "write_row: the row",
        &mut rng,
        &r,
        &|r| rules::write_row(&m, r, 1).0,
        &|d, s| h.part(d, s),
    );
    assert_eq!(g, u.row(1));

    let s: SMatrix<f64, 2, 3> = uniform(&mut rng, (Const::<2>, Const::<3>));
    let c: SMatrix<f64, 2, 1> = uniform(&mut rng, (Const::<2>, Const::<1>));
    let (y, h) = rules::write_column(s, &c, 2);
    let mut want = s;
    want.set_column(2, &c);
    assert_eq!(y, want);
    check_pullback(
        "write_column: the static matrix",
        &mut rng,
        &s,
        &|s| rules::write_column(s, &c, 2).0,
        &|d, g| h.matrix(d, g),
    );
    let (g, u) = check_pullback(
        "write_column: the column",
        &mut rng,
        &c,
        &|c| rules::write_column(s, c, 2).0,
        &|d, g| h.part(d, g),
    );
    assert_eq!(g, u.column(2));
}

#[test]
fn fill_of_a_differentiable_element() {
    let mut rng = rng(3);
    let (y, h) = rules::fill(&0.25, DMatrix::zeros(2, 3));
    assert_eq!(y, DMatrix::from_element(2, 3, 0.25));
    let (g, u) = check_pullback(
        "fill",
        &mut rng,
        &0.25,
        &|e| rules::fill(e, DMatrix::zeros(2, 3)).0,
        &|d, s| h.arg(d, s),
    );
    assert_eq!(g, u.sum());
}
