//! The public functions (`relu`, `softmax`, `svm_loss`, …): by value and by reference, on
//! every supported type, equal to the forwards of the rules of the same names; and the
//! gradient-checking helpers of `gradcheck`.

mod common;

use autodiff_runtime::__private::rules;
use autodiff_runtime::gradcheck::{
    default_step, directional_derivative, dot_product_test, inner, numerical_gradient,
    numerical_gradient_with_step, relative_error, DotProductTest,
};
use autodiff_runtime::{
    add_bias, elu, leaky_relu, log_softmax, maxout, relu, sigmoid, softmax, softmax_cross_entropy,
    square, svm_loss, tanh,
};
use common::{dmatrix, rng, uniform};
use nalgebra::{Const, DMatrix, DVector, Dyn, RowDVector, SMatrix, SVector, Vector3, U1};

/// Every elementwise function, by value and by reference, equals the rule's forward.
macro_rules! elementwise_agree {
    ($x:expr, $y:expr, $alpha:expr) => {{
        let x = $x;
        let y = $y;
        assert_eq!(relu(&x), rules::relu(&x).0);
        assert_eq!(relu(x.clone()), rules::relu(&x).0);
        assert_eq!(sigmoid(&x), rules::sigmoid(&x).0);
        assert_eq!(sigmoid(x.clone()), rules::sigmoid(&x).0);
        assert_eq!(tanh(&x), rules::tanh(&x).0);
        assert_eq!(square(x.clone()), rules::square(&x).0);
        assert_eq!(leaky_relu(&x, $alpha), rules::leaky_relu(&x, $alpha).0);
        assert_eq!(elu(x.clone(), $alpha), rules::elu(&x, $alpha).0);
        assert_eq!(maxout(&x, &y), rules::maxout(&x, &y).0);
        assert_eq!(maxout(x.clone(), &y), rules::maxout(&x, &y).0);
        assert_eq!(maxout(&x, y.clone()), rules::maxout(&x, &y).0);
        assert_eq!(maxout(x.clone(), y.clone()), rules::maxout(&x, &y).0);
    }};
}

#[test]
fn elementwise_functions_agree_with_the_rules_on_every_type() {
    let mut rng = rng(51);
    elementwise_agree!(0.7f64, -0.2f64, 0.1);
    elementwise_agree!(-0.7f64, -0.2f64, 0.1);
    elementwise_agree!(-0.7f32, 0.2f32, 0.1f32);
    elementwise_agree!(dmatrix(&mut rng, 3, 4), dmatrix(&mut rng, 3, 4), 0.3);
    elementwise_agree!(
        dmatrix(&mut rng, 3, 4).map(|v| v as f32),
        dmatrix(&mut rng, 3, 4).map(|v| v as f32),
        0.3f32
    );
    elementwise_agree!(
        uniform::<DVector<f64>>(&mut rng, (Dyn(5), U1)),
        uniform::<DVector<f64>>(&mut rng, (Dyn(5), U1)),
        0.2
    );
    elementwise_agree!(
        uniform::<RowDVector<f64>>(&mut rng, (U1, Dyn(4))),
        uniform::<RowDVector<f64>>(&mut rng, (U1, Dyn(4))),
        0.2
    );
    elementwise_agree!(
        uniform::<SMatrix<f64, 2, 3>>(&mut rng, (Const, Const)),
        uniform::<SMatrix<f64, 2, 3>>(&mut rng, (Const, Const)),
        0.2
    );
    elementwise_agree!(
        uniform::<SVector<f64, 3>>(&mut rng, (Const, U1)),
        uniform::<SVector<f64, 3>>(&mut rng, (Const, U1)),
        0.2
    );
}

#[test]
fn elementwise_functions_compute_the_documented_formulas() {
    assert_eq!(relu(-1.0), 0.0);
    assert_eq!(relu(0.0), 0.0);
    assert_eq!(relu(2.5), 2.5);
    assert_eq!(leaky_relu(-2.0, 0.1), -0.2);
    assert_eq!(elu(-1.0, 2.0), 2.0 * (-1.0f64).exp_m1());
    assert_eq!(elu(3.0, 2.0), 3.0);
    assert_eq!(
        square(Vector3::new(1.0, -2.0, 3.0)),
        Vector3::new(1.0, 4.0, 9.0)
    );
    assert_eq!(sigmoid(0.0), 0.5);
    assert_eq!(sigmoid(-1000.0), 0.0);
    assert_eq!(sigmoid(1000.0f32), 1.0);
    assert_eq!(tanh(0.5), 0.5f64.tanh());
    assert_eq!(
        maxout(Vector3::new(1.0, 5.0, -1.0), Vector3::new(2.0, 3.0, -1.0)),
        Vector3::new(2.0, 5.0, -1.0)
    );
}

#[test]
fn row_functions_agree_with_the_rules() {
    let mut rng = rng(52);
    let m = dmatrix(&mut rng, 4, 3);
    assert_eq!(softmax(&m), rules::softmax(&m).0);
    assert_eq!(softmax(m.clone()), rules::softmax(&m).0);
    assert_eq!(log_softmax(&m), rules::log_softmax(&m).0);
    let r = RowDVector::from_row_slice(&[1.0f32, 2.0, 3.0]);
    assert_eq!(softmax(&r), rules::softmax(&r).0);
    assert!((softmax(r).sum() - 1.0).abs() < 1e-6);
    let s = SMatrix::<f64, 2, 3>::new(1.0, 2.0, 3.0, -1.0, 0.0, 1000.0);
    assert_eq!(log_softmax(s), rules::log_softmax(&s).0);

    let labels = [2, 0, 1, 1];
    assert_eq!(svm_loss(&m, &labels), rules::svm_loss(&m, &labels).0);
    assert_eq!(svm_loss(m.clone(), &labels), rules::svm_loss(&m, &labels).0);
    assert_eq!(
        softmax_cross_entropy(&m, &labels),
        rules::softmax_cross_entropy(&m, &labels).0
    );
    assert_eq!(
        softmax_cross_entropy(m.clone(), &labels),
        rules::softmax_cross_entropy(&m, &labels).0
    );
    let s32 = s.map(|v| v as f32);
    assert_eq!(
        softmax_cross_entropy(&s32, &[2, 2]),
        rules::softmax_cross_entropy(&s32, &[2, 2]).0
    );

    let row = RowDVector::from_row_slice(&[1.0, 2.0, 3.0]);
    let column = DVector::from_vec(vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(add_bias(&m, &row), rules::add_bias(&m, &row).0);
    assert_eq!(
        add_bias(m.clone(), row.clone()),
        DMatrix::from_fn(4, 3, |i, j| m[(i, j)] + row[j])
    );
    assert_eq!(
        add_bias(&m, column.clone()),
        DMatrix::from_fn(4, 3, |i, j| m[(i, j)] + column[i])
    );
}

#[test]
#[should_panic(expected = "svm_loss: label 3 of row 0 is out of range for 3 classes")]
fn public_losses_check_their_labels() {
    let _ = svm_loss(DMatrix::<f64>::zeros(1, 3), &[3]);
}

// --------------------------------------------------------------------------- gradcheck

#[test]
fn default_steps() {
    assert!((default_step::<f64>() - 6.055e-6).abs() < 1e-8);
    assert!((default_step::<f32>() - 4.92e-3).abs() < 1e-4);
}

#[test]
fn numerical_gradients_are_accurate() {
    // f(x) = Σ sin(xᵢ)·xᵢ², whose gradient is cos(xᵢ)·xᵢ² + 2xᵢ·sin(xᵢ).
    let f = |x: &DMatrix<f64>| x.map(|v| v.sin() * v * v).sum();
    let x = DMatrix::<f64>::from_row_slice(2, 3, &[0.5, -1.0, 2.0, 30.0, -0.1, 0.0]);
    let exact = x.map(|v: f64| v.cos() * v * v + 2.0 * v * v.sin());
    let err = relative_error(&numerical_gradient(&x, f), &exact);
    // The step grows with |x| (here up to 30), so the O(h²) truncation error is ≈ 3e-9.
    assert!(err < 1e-8, "{err:e}");
    assert!((numerical_gradient(&2.0, |x: &f64| x.powi(3)) - 12.0).abs() < 1e-8);
    let g = numerical_gradient_with_step(&1.5f32, 1e-2, |x: &f32| x * x);
    assert!((g - 3.0).abs() < 1e-3);
    // The probe does not leave the point perturbed, and the function sees one change at a time.
    let mut calls = 0;
    let _ = numerical_gradient(&x, |p: &DMatrix<f64>| {
        calls += 1;
        assert_eq!((p - &x).iter().filter(|d| **d != 0.0).count(), 1);
        0.0
    });
    assert_eq!(calls, 12);
}

#[test]
fn relative_error_is_relative_to_the_largest_reference_element() {
    let got = DVector::from_vec(vec![1.0, 2.5, -3.0]);
    let want = DVector::from_vec(vec![1.0, 2.0, -4.0]);
    assert_eq!(relative_error(&got, &want), 0.25);
    assert_eq!(relative_error(&0.0, &0.0), 0.0);
    assert_eq!(relative_error(&1e-31, &0.0), 1e-31 / 1e-30);
    assert_eq!(inner(&got, &want), 1.0 + 5.0 + 12.0);
}

#[test]
fn directional_derivatives() {
    let x = DVector::from_vec(vec![0.3, -0.7]);
    let v = DVector::from_vec(vec![1.0, 2.0]);
    // f(x) = (x₀·x₁, x₀²): J·v = (v₀x₁ + x₀v₁, 2x₀v₀).
    let f = |x: &DVector<f64>| DVector::from_vec(vec![x[0] * x[1], x[0] * x[0]]);
    let jv = directional_derivative(&x, &v, f);
    assert!(relative_error(&jv, &DVector::from_vec(vec![-0.7 + 0.6, 0.6])) < 1e-9);
    assert_eq!(
        directional_derivative(&x, &DVector::zeros(2), f),
        DVector::zeros(2)
    );
}

#[test]
fn the_dot_product_test_catches_a_wrong_pullback() {
    let mut rng = rng(53);
    let x = dmatrix(&mut rng, 3, 3);
    let (u, v) = (dmatrix(&mut rng, 3, 3), dmatrix(&mut rng, 3, 3));
    let f = |x: &DMatrix<f64>| rules::sin(x).0;
    let right = u.component_mul(&x.map(f64::cos));
    assert!(dot_product_test(&x, &v, &u, &right, f).relative_error() < 1e-9);
    let wrong = u.component_mul(&x.map(f64::cos)).transpose();
    assert!(dot_product_test(&x, &v, &u, &wrong, f).relative_error() > 1e-3);
    let test = DotProductTest {
        forward: 1.0f64,
        adjoint: 1.5,
    };
    assert!((test.relative_error() - 1.0 / 3.0).abs() < 1e-15);
}
