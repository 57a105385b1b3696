//! `#[differentiate(vjp = rule)]`: functions whose body the macro does not read, with the
//! gradient from a rule of the user's own; their generated items, and differentiated callers
//! that compose them, against central differences and the dot-product test.

mod common;

use autodiff::prelude::*;
use common::check::{check, flat, inner, Draw};

/// `ln(1 + eˣ)`, written to stay finite for large `x`, with a rule that gives the derivative
/// `σ(x)` in closed form instead of through `exp` and `ln_1p`.
#[differentiate(vjp = softplus_rule)]
fn softplus(x: f64) -> f64 {
    if x > 30.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

fn softplus_rule(x: f64, _value: &f64, seed: f64) -> SoftplusGrad {
    SoftplusGrad {
        x: seed / (1.0 + (-x).exp()),
    }
}

/// A weighted sum of squares over raw slices, in a `while` loop the macro would not accept
/// (the body is not read), differentiated with respect to the weights only.
#[differentiate(wrt(w), vjp = weighted_squares_rule)]
fn weighted_squares(w: &DMatrix<f64>, x: &DMatrix<f64>) -> f64 {
    let (w, x) = (w.as_slice(), x.as_slice());
    let mut i = 0;
    let mut total = 0.0;
    while let (Some(a), Some(b)) = (w.get(i), x.get(i)) {
        total += a * b * b;
        i += 1;
    }
    total
}

fn weighted_squares_rule(
    _w: &DMatrix<f64>,
    x: &DMatrix<f64>,
    _value: &f64,
    seed: f64,
) -> WeightedSquaresGrad {
    WeightedSquaresGrad {
        w: x.component_mul(x) * seed,
    }
}

/// A matrix result: `c·m`, with its rule.
#[differentiate(vjp = scaled_rule)]
fn scaled(m: &DMatrix<f64>, c: f64) -> DMatrix<f64> {
    m * c
}

fn scaled_rule(m: &DMatrix<f64>, c: f64, _value: &DMatrix<f64>, seed: DMatrix<f64>) -> ScaledGrad {
    ScaledGrad {
        c: seed.dot(m),
        m: seed * c,
    }
}

/// Callers that compose the rules with the macro's own derivatives.
#[differentiate]
fn caller(x: f64, y: f64) -> f64 {
    softplus(x * y) + softplus(-x) * y
}

#[differentiate(wrt(w, c))]
fn matrix_caller(w: &DMatrix<f64>, x: &DMatrix<f64>, c: f64) -> f64 {
    let s = scaled(w, c);
    weighted_squares(&s, x) + (s * 2.0).sum()
}

#[test]
fn the_items_call_the_function_and_the_rule() {
    let (value, grad) = softplus_grad(0.7);
    assert_eq!(value, softplus(0.7));
    assert_eq!(grad.x, 1.0 / (1.0 + (-0.7f64).exp()));
    // Large arguments stay finite, where `exp` would overflow.
    assert_eq!(softplus_grad(800.0), (800.0, SoftplusGrad { x: 1.0 }));
    let (value, tape) = softplus_fwd(-1.5);
    assert_eq!((value, softplus_bwd(tape, 2.0)), softplus_vjp(-1.5, 2.0));
}

#[test]
fn a_scalar_rule_composed_in_a_caller() {
    for seed in 0..4 {
        let mut draw = Draw::new(seed);
        let (x, y) = (draw.scalar(), draw.scalar());
        let (_, grad) = caller_grad(x, y);
        check("caller", &draw.theta, &[grad.x, grad.y], |r| {
            caller(r.scalar(), r.scalar())
        });
    }
}

#[test]
fn matrix_rules_composed_in_a_caller() {
    for seed in 0..4 {
        let mut draw = Draw::new(10 + seed);
        let (w, c) = (draw.matrix(3, 2), draw.scalar());
        // The data: a constant, drawn outside θ.
        let x = Draw::new(50 + seed).matrix(3, 2);
        let (_, grad) = matrix_caller_grad(&w, &x, c);
        check(
            "matrix_caller",
            &draw.theta,
            &flat(&[grad.w.as_slice(), &[grad.c]]),
            |r| {
                let (w, c) = (r.matrix(3, 2), r.scalar());
                matrix_caller(&w, &x, c)
            },
        );
    }
}

#[test]
fn a_matrix_rule_passes_the_dot_product_test_alone() {
    let mut draw = Draw::new(99);
    let (m, c) = (draw.matrix(2, 3), draw.scalar());
    let u = Draw::new(5).matrix(2, 3);
    let (value, grad) = scaled_vjp(&m, c, u.clone());
    assert_eq!(value, &m * c);
    check(
        "scaled",
        &draw.theta,
        &flat(&[grad.m.as_slice(), &[grad.c]]),
        |r| inner(&u, &scaled(&r.matrix(2, 3), r.scalar())),
    );
}
