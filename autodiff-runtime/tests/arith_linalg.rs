//! The arithmetic rules of `arith.rs` (`+ - * /`, unary `-`) on scalars and matrices, with the
//! matrix-product pullbacks checked on non-square shapes, tiny and larger, and the strided
//! views and products of `linalg.rs` against nalgebra's own transpose and product.

mod common;

use autodiff_runtime::__private::rules::{self, Operand, Seed};
use autodiff_runtime::linalg::{gemm_accumulate, gemm_into, view, Op};
use common::{assert_close, check_pullback, dmatrix, rng, uniform, Rng};
use nalgebra::{Const, DMatrix, DVector, Dyn, RowDVector, SMatrix, U1};

/// Checks both pullbacks of `a * b` for dynamic `a` (`m × k`) and `b` (`k × n`).
fn check_product(rng: &mut Rng, m: usize, k: usize, n: usize) {
    let a = dmatrix(rng, m, k);
    let b = dmatrix(rng, k, n);
    let (c, h) = rules::mul(&a, &b);
    assert_close("product value", &c, &(&a * &b), 1e-14);
    let name = format!("({m}×{k})·({k}×{n})");
    check_pullback(
        &format!("mul lhs {name}"),
        rng,
        &a,
        &|a| rules::mul(a, &b).0,
        &|d, s| h.lhs(d, s, Operand(&b)),
    );
    check_pullback(
        &format!("mul rhs {name}"),
        rng,
        &b,
        &|b| rules::mul(&a, b).0,
        &|d, s| h.rhs(d, s, Operand(&a)),
    );
}

#[test]
fn matrix_product_small_non_square() {
    let mut rng = rng(41);
    for (m, k, n) in [(3, 4, 2), (2, 5, 3), (5, 1, 4), (1, 3, 1), (4, 2, 5)] {
        check_product(&mut rng, m, k, n);
    }
}

#[test]
fn matrix_product_large_non_square() {
    let mut rng = rng(42);
    // Above 5 in every dimension the products (forward and both pullbacks) go to
    // `matrixmultiply`; (6, 5, 7) and (7, 9, 3) mix the two paths between the pullbacks.
    for (m, k, n) in [
        (7, 9, 6),
        (6, 6, 6),
        (9, 7, 8),
        (6, 5, 7),
        (7, 9, 3),
        (12, 3, 8),
    ] {
        check_product(&mut rng, m, k, n);
    }
}

#[test]
fn matrix_vector_products() {
    let mut rng = rng(43);
    for (m, k) in [(3, 4), (8, 7)] {
        let a = dmatrix(&mut rng, m, k);
        let x: DVector<f64> = uniform(&mut rng, (Dyn(k), U1));
        let (_, h) = rules::mul(&a, &x);
        check_pullback(
            "matrix·vector lhs",
            &mut rng,
            &a,
            &|a| rules::mul(a, &x).0,
            &|d, s| h.lhs(d, s, Operand(&x)),
        );
        check_pullback(
            "matrix·vector rhs",
            &mut rng,
            &x,
            &|x| rules::mul(&a, x).0,
            &|d, s| h.rhs(d, s, Operand(&a)),
        );
        let r: RowDVector<f64> = uniform(&mut rng, (U1, Dyn(m)));
        let (_, h) = rules::mul(&r, &a);
        check_pullback(
            "row·matrix lhs",
            &mut rng,
            &r,
            &|r| rules::mul(r, &a).0,
            &|d, s| h.lhs(d, s, Operand(&a)),
        );
        check_pullback(
            "row·matrix rhs",
            &mut rng,
            &a,
            &|a| rules::mul(&r, a).0,
            &|d, s| h.rhs(d, s, Operand(&r)),
        );
        // The outer product x·r: a (k × 1)·(1 × m) product.
        let (_, h) = rules::mul(&x, &r);
        check_pullback(
            "outer lhs",
            &mut rng,
            &x,
            &|x| rules::mul(x, &r).0,
            &|d, s| h.lhs(d, s, Operand(&r)),
        );
        check_pullback(
            "outer rhs",
            &mut rng,
            &r,
            &|r| rules::mul(&x, r).0,
            &|d, s| h.rhs(d, s, Operand(&x)),
        );
    }
}

#[test]
fn static_matrix_products() {
    let mut rng = rng(44);
    let a: SMatrix<f64, 2, 3> = uniform(&mut rng, (Const, Const));
    let b: SMatrix<f64, 3, 4> = uniform(&mut rng, (Const, Const));
    let (c, h) = rules::mul(&a, &b);
    assert_eq!(c, a * b);
    check_pullback(
        "static lhs",
        &mut rng,
        &a,
        &|a| rules::mul(a, &b).0,
        &|d, s| h.lhs(d, s, Operand(&b)),
    );
    check_pullback(
        "static rhs",
        &mut rng,
        &b,
        &|b| rules::mul(&a, b).0,
        &|d, s| h.rhs(d, s, Operand(&a)),
    );
    let a: SMatrix<f64, 7, 6> = uniform(&mut rng, (Const, Const));
    let b: SMatrix<f64, 6, 8> = uniform(&mut rng, (Const, Const));
    let (_, h) = rules::mul(&a, &b);
    check_pullback(
        "static large lhs",
        &mut rng,
        &a,
        &|a| rules::mul(a, &b).0,
        &|d, s| h.lhs(d, s, Operand(&b)),
    );
    check_pullback(
        "static large rhs",
        &mut rng,
        &b,
        &|b| rules::mul(&a, b).0,
        &|d, s| h.rhs(d, s, Operand(&a)),
    );
}

#[test]
fn scalar_and_scaling_products() {
    let mut rng = rng(45);
    let (a, b): (f64, f64) = (uniform(&mut rng, ()), uniform(&mut rng, ()));
    let (_, h) = rules::mul(&a, &b);
    check_pullback(
        "scalar lhs",
        &mut rng,
        &a,
        &|a| rules::mul(a, &b).0,
        &|d, s| h.lhs(d, s, Operand(&b)),
    );
    check_pullback(
        "scalar rhs",
        &mut rng,
        &b,
        &|b| rules::mul(&a, b).0,
        &|d, s| h.rhs(d, s, Operand(&a)),
    );
    let m = dmatrix(&mut rng, 3, 4);
    let (_, h) = rules::mul(&a, &m);
    check_pullback(
        "s·m lhs",
        &mut rng,
        &a,
        &|a| rules::mul(a, &m).0,
        &|d, s| h.lhs(d, s, Operand(&m)),
    );
    check_pullback(
        "s·m rhs",
        &mut rng,
        &m,
        &|m| rules::mul(&a, m).0,
        &|d, s| h.rhs(d, s, Operand(&a)),
    );
    let (_, h) = rules::mul(&m, &a);
    check_pullback(
        "m·s lhs",
        &mut rng,
        &m,
        &|m| rules::mul(m, &a).0,
        &|d, s| h.lhs(d, s, Operand(&a)),
    );
    check_pullback(
        "m·s rhs",
        &mut rng,
        &a,
        &|a| rules::mul(&m, a).0,
        &|d, s| h.rhs(d, s, Operand(&m)),
    );
}

#[test]
fn sums_differences_negation_and_quotients() {
    let mut rng = rng(46);
    let a = dmatrix(&mut rng, 3, 4);
    let b = dmatrix(&mut rng, 3, 4);
    let (_, h) = rules::add(&a, &b);
    check_pullback(
        "add lhs",
        &mut rng,
        &a,
        &|a| rules::add(a, &b).0,
        &|d, s| h.lhs(d, s),
    );
    check_pullback(
        "add rhs",
        &mut rng,
        &b,
        &|b| rules::add(&a, b).0,
        &|d, s| h.rhs(d, s),
    );
    let (_, h) = rules::sub(&a, &b);
    check_pullback(
        "sub lhs",
        &mut rng,
        &a,
        &|a| rules::sub(a, &b).0,
        &|d, s| h.lhs(d, s),
    );
    check_pullback(
        "sub rhs",
        &mut rng,
        &b,
        &|b| rules::sub(&a, b).0,
        &|d, s| h.rhs(d, s),
    );
    let (_, h) = rules::neg(&a);
    check_pullback("neg", &mut rng, &a, &|a| rules::neg(a).0, &|d, s| {
        h.arg(d, s)
    });
    let s = 1.7;
    let (_, h) = rules::div(&a, &s);
    check_pullback(
        "m/s lhs",
        &mut rng,
        &a,
        &|a| rules::div(a, &s).0,
        &|d, g| h.lhs(d, g, Operand(&s)),
    );
    check_pullback(
        "m/s rhs",
        &mut rng,
        &s,
        &|s| rules::div(&a, s).0,
        &|d, g| h.rhs(d, g, Operand(&a), Operand(&s)),
    );
    let t = -0.6;
    let (_, h) = rules::div(&t, &s);
    check_pullback(
        "s/s lhs",
        &mut rng,
        &t,
        &|t| rules::div(t, &s).0,
        &|d, g| h.lhs(d, g, Operand(&s)),
    );
    check_pullback(
        "s/s rhs",
        &mut rng,
        &s,
        &|s| rules::div(&t, s).0,
        &|d, g| h.rhs(d, g, Operand(&t), Operand(&s)),
    );
}

#[test]
#[should_panic(expected = "matrix product: shapes (3, 4) and (3, 4) do not fit")]
fn product_shape_mismatch_panics() {
    let _ = rules::mul(&DMatrix::<f64>::zeros(3, 4), &DMatrix::zeros(3, 4));
}

#[test]
#[should_panic(expected = "`+`: shapes (3, 4) and (4, 3) do not match")]
fn sum_shape_mismatch_panics() {
    let _ = rules::add(DMatrix::<f64>::zeros(3, 4), &DMatrix::zeros(4, 3));
}

#[test]
#[should_panic(expected = "matrix product: shapes (3, 4) and (4, 2) do not fit into (3, 3)")]
fn product_pullback_into_a_slot_of_the_wrong_shape_panics() {
    let a = DMatrix::<f64>::zeros(3, 2);
    let b = DMatrix::<f64>::zeros(2, 4);
    let (c, h) = rules::mul(&a, &b);
    h.lhs(&mut Some(DMatrix::zeros(3, 3)), Seed::Owned(c), Operand(&b));
}

// ------------------------------------------------------------------------------ linalg

#[test]
fn transposed_view_equals_transpose() {
    let mut rng = rng(47);
    for (r, c) in [(3, 4), (1, 5), (5, 1), (7, 2), (6, 9), (0, 3)] {
        let m = dmatrix(&mut rng, r, c);
        assert_eq!(
            view(&m, Op::Transposed).clone_owned(),
            m.transpose(),
            "{r}×{c}"
        );
        assert_eq!(view(&m, Op::Plain).clone_owned(), m, "{r}×{c}");
    }
    let s: SMatrix<f64, 2, 3> = uniform(&mut rng, (Const, Const));
    assert_eq!(
        view(&s, Op::Transposed).clone_owned(),
        DMatrix::from_iterator(3, 2, s.transpose().iter().copied())
    );
}

/// `gemm_into` with every combination of transposed operands, against nalgebra's product of
/// explicit transposes, with non-trivial `alpha` and `beta`.
#[test]
fn gemm_into_every_operand_layout() {
    let mut rng = rng(48);
    for (m, k, n) in [
        (3, 4, 2),
        (2, 7, 9),
        (5, 5, 5),
        (6, 6, 6),
        (7, 9, 6),
        (8, 3, 10),
        (9, 7, 1),
        (1, 8, 7),
        (4, 0, 3),
    ] {
        for (op_a, op_b) in [
            (Op::Plain, Op::Plain),
            (Op::Transposed, Op::Plain),
            (Op::Plain, Op::Transposed),
            (Op::Transposed, Op::Transposed),
        ] {
            let a = match op_a {
                Op::Plain => dmatrix(&mut rng, m, k),
                Op::Transposed => dmatrix(&mut rng, k, m),
            };
            let b = match op_b {
                Op::Plain => dmatrix(&mut rng, k, n),
                Op::Transposed => dmatrix(&mut rng, n, k),
            };
            let oa = if matches!(op_a, Op::Plain) {
                a.clone()
            } else {
                a.transpose()
            };
            let ob = if matches!(op_b, Op::Plain) {
                b.clone()
            } else {
                b.transpose()
            };
            let before = dmatrix(&mut rng, m, n);
            let mut out = before.clone();
            gemm_into(&mut out, 0.5, &a, op_a, &b, op_b, -2.0);
            let want = &oa * &ob * 0.5 - &before * 2.0;
            assert_close(
                &format!("gemm ({m}, {k}, {n}) {}", layout(op_a, op_b)),
                &out,
                &want,
                1e-14,
            );

            let mut slot = None;
            gemm_accumulate(&mut slot, (Dyn(m), Dyn(n)), &a, op_a, &b, op_b);
            assert_close(
                "gemm_accumulate into None",
                slot.as_ref().unwrap(),
                &(&oa * &ob),
                1e-14,
            );
            gemm_accumulate(&mut slot, (Dyn(m), Dyn(n)), &a, op_a, &b, op_b);
            assert_close(
                "gemm_accumulate into Some",
                slot.as_ref().unwrap(),
                &(&oa * &ob * 2.0),
                1e-14,
            );
        }
    }
}

#[test]
fn gemm_into_f32_with_a_transposed_left_operand() {
    let mut rng = rng(49);
    for (m, k, n) in [(3, 4, 2), (7, 9, 6)] {
        let a = dmatrix(&mut rng, k, m).map(|v| v as f32);
        let b = dmatrix(&mut rng, k, n).map(|v| v as f32);
        let mut out = DMatrix::<f32>::zeros(m, n);
        gemm_into(&mut out, 1.0, &a, Op::Transposed, &b, Op::Plain, 0.0);
        let want = a.transpose() * &b;
        assert!((out - want).amax() < 1e-5);
    }
}

fn layout(a: Op, b: Op) -> String {
    let name = |op| if matches!(op, Op::Plain) { "N" } else { "T" };
    format!("{}{}", name(a), name(b))
}
