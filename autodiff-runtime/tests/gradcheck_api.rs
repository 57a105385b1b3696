//! The gradient-checking API: it passes derived gradients, and it reports a wrong one by
//! parameter, element and size of the error.

mod common;

use autodiff_macro::differentiate;
use autodiff_runtime::gradcheck::GradCheck;
use autodiff_runtime::nn::{dense, dense_vjp, Activation};
use autodiff_runtime::{add_bias, sigmoid};
use common::{dmatrix, rng};
use nalgebra::{DMatrix, RowDVector};

/// The lecture's two-layer net with a bias.
#[differentiate(crate = autodiff_runtime, wrt(w1, b1, w2))]
fn two_layer(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
) -> f64 {
    let h = sigmoid(add_bias(x * w1, b1));
    (&h * w2 - y).norm_squared()
}

struct Net {
    x: DMatrix<f64>,
    y: DMatrix<f64>,
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
}

fn net() -> Net {
    let mut rng = rng(21);
    Net {
        x: dmatrix(&mut rng, 5, 4),
        y: dmatrix(&mut rng, 5, 2),
        w1: dmatrix(&mut rng, 4, 3),
        b1: common::uniform(&mut rng, (nalgebra::U1, nalgebra::Dyn(3))),
        w2: dmatrix(&mut rng, 3, 2),
    }
}

/// The check of all three parameters with the given gradients.
fn check(
    n: &Net,
    g_w1: &DMatrix<f64>,
    g_b1: &RowDVector<f64>,
    g_w2: &DMatrix<f64>,
) -> autodiff_runtime::gradcheck::GradCheckReport<f64> {
    GradCheck::new()
        .wrt("w1", &n.w1, g_w1, |w1| {
            two_layer(&n.x, &n.y, w1, &n.b1, &n.w2)
        })
        .wrt("b1", &n.b1, g_b1, |b1| {
            two_layer(&n.x, &n.y, &n.w1, b1, &n.w2)
        })
        .wrt("w2", &n.w2, g_w2, |w2| {
            two_layer(&n.x, &n.y, &n.w1, &n.b1, w2)
        })
        .run()
}

#[test]
fn a_derived_gradient_passes_with_a_small_error_per_parameter() {
    let n = net();
    let (_, g) = two_layer_grad(&n.x, &n.y, &n.w1, &n.b1, &n.w2);
    let report = check(&n, &g.w1, &g.b1, &g.w2);
    report.assert_passed();
    assert_eq!(
        report
            .params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["w1", "b1", "w2"]
    );
    assert_eq!(report.get("b1").unwrap().dims, (1, 3));
    assert!(report.worst_relative_error() < 1e-8, "{report}");
    assert!(report.failures().is_empty());
    assert!(report.into_result().is_ok());
}

#[test]
fn a_wrong_gradient_is_reported_by_parameter_and_element() {
    let n = net();
    let (_, g) = two_layer_grad(&n.x, &n.y, &n.w1, &n.b1, &n.w2);
    // A bug in one element of w2's gradient, and the bias gradient of a single sample
    // instead of the sum over the batch.
    let mut bad_w2 = g.w2.clone();
    bad_w2[(2, 1)] += 0.5;
    let bad_b1 = g.b1.scale(1.0 / 5.0);
    let report = check(&n, &g.w1, &bad_b1, &bad_w2);
    assert!(!report.passed());
    let names: Vec<&str> = report.failures().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["b1", "w2"]);
    let w2 = report.get("w2").unwrap();
    assert_eq!(w2.worst_at, (2, 1));
    assert_eq!(w2.derived, bad_w2[(2, 1)]);
    assert!((w2.numerical - g.w2[(2, 1)]).abs() < 1e-6 * g.w2.amax());
    let want = 0.5 / g.w2.amax();
    assert!(
        (w2.relative_error / want - 1.0).abs() < 1e-4,
        "{} vs {want}",
        w2.relative_error
    );
    assert!(report.get("w1").unwrap().passes(1e-6));

    let text = report.to_string();
    assert!(
        text.lines().next().unwrap().starts_with("parameter"),
        "{text}"
    );
    assert!(text.lines().nth(1).unwrap().ends_with("ok"), "{text}");
    assert!(text.lines().nth(2).unwrap().ends_with("FAILED"), "{text}");
    assert!(text.contains("(2,1)"), "{text}");
    let err = report.into_result().unwrap_err();
    assert!(err
        .to_string()
        .starts_with("the derived gradient disagrees with central differences for b1, w2\n"));
}

#[test]
fn a_nan_in_the_gradient_fails() {
    let n = net();
    let (_, g) = two_layer_grad(&n.x, &n.y, &n.w1, &n.b1, &n.w2);
    let mut nan = g.w1.clone();
    nan[(0, 0)] = f64::NAN;
    let report = check(&n, &nan, &g.b1, &g.w2);
    assert!(!report.passed());
    assert!(report.worst_relative_error().is_nan());
}

#[test]
fn vector_valued_functions_are_checked_through_a_seed() {
    let mut rng = rng(22);
    let (x, w, b) = (
        dmatrix(&mut rng, 4, 3),
        dmatrix(&mut rng, 3, 2),
        common::uniform(&mut rng, (nalgebra::U1, nalgebra::Dyn(2))),
    );
    let seed = dmatrix(&mut rng, 4, 2);
    let act = Activation::Tanh;
    let (_, g) = dense_vjp(&x, &w, &b, act, seed.clone());
    let report = GradCheck::new()
        .wrt_vjp("x", &x, &g.x, &seed, |x| dense(x, &w, &b, act))
        .wrt_vjp("w", &w, &g.w, &seed, |w| dense(&x, w, &b, act))
        .wrt_vjp("b", &b, &g.b, &seed, |b: &RowDVector<f64>| {
            dense(&x, &w, b, act)
        })
        .run();
    report.assert_passed();
    // The transposed weight gradient has the wrong shape: caught before any work.
    let result =
        std::panic::catch_unwind(|| GradCheck::new().wrt("w", &w, &g.w.transpose(), |_| 0.0));
    assert!(result.is_err());
}

#[test]
fn f32_functions_are_checked_with_a_looser_tolerance() {
    let x = nalgebra::Vector3::new(0.5f32, -1.0, 2.0);
    let derived = x.map(|v| 3.0 * v * v);
    let report = GradCheck::new()
        .tolerance(1e-2)
        .wrt("x", &x, &derived, |x| x.map(|v| v.powi(3)).sum())
        .run();
    report.assert_passed();
    assert!(report.worst_relative_error() > 0.0);
}
