//! Every layer, activation, loss and the whole `Mlp`: the gradients derived by
//! `#[differentiate]` against central differences (relative error ≤ 1e-6 in f64).

mod common;

use autodiff_runtime::gradcheck::{inner, numerical_gradient, relative_error};
use autodiff_runtime::nn::*;
use autodiff_runtime::Value;
use common::{dmatrix, rng, uniform, Rng, TOL};
use nalgebra::{DMatrix, DVector, Dyn, RowDVector, U1};

/// Asserts that `derived` is the gradient of `f` at `x` within [`TOL`].
#[track_caller]
fn assert_gradient<X: Value<Elem = f64> + std::fmt::Debug>(
    what: &str,
    x: &X,
    derived: &X,
    f: impl FnMut(&X) -> f64,
) {
    let numerical = numerical_gradient(x, f);
    let err = relative_error(derived, &numerical);
    assert!(
        err <= TOL,
        "{what}: relative error {err:e}\nderived   {derived:?}\nnumerical {numerical:?}"
    );
}

fn row(rng: &mut Rng, n: usize) -> RowDVector<f64> {
    uniform(rng, (U1, Dyn(n)))
}

/// The elementwise activations, with the constants the tests use.
const ELEMENTWISE: [Activation; 6] = [
    Activation::Identity,
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Relu,
    Activation::LeakyRelu { alpha: 0.1 },
    Activation::Elu { alpha: 0.7 },
];

#[test]
fn activations_agree_with_the_functions() {
    let z = dmatrix(&mut rng(1), 4, 3);
    let f = autodiff_runtime::functions::sigmoid(&z);
    assert_eq!(activate(z.clone(), Activation::Sigmoid), f);
    assert_eq!(
        activate(z.clone(), Activation::Relu),
        autodiff_runtime::relu(&z)
    );
    assert_eq!(
        activate(z.clone(), Activation::Tanh),
        autodiff_runtime::tanh(&z)
    );
    assert_eq!(
        activate(z.clone(), Activation::LeakyRelu { alpha: 0.1 }),
        autodiff_runtime::leaky_relu(&z, 0.1)
    );
    assert_eq!(
        activate(z.clone(), Activation::Elu { alpha: 0.7 }),
        autodiff_runtime::elu(&z, 0.7)
    );
    assert_eq!(activate(z.clone(), Activation::Identity), z);
}

#[test]
fn every_activation_has_the_gradient_of_its_function() {
    let mut rng = rng(2);
    for activation in ELEMENTWISE {
        // Away from the kink at 0, where central differences straddle two slopes.
        let z: DMatrix<f64> = common::sample(&mut rng, (Dyn(5), Dyn(4)), -3.0, 3.0, |v: f64| {
            v.abs() > 1e-3
        });
        let u = dmatrix(&mut rng, 5, 4);
        let (value, g) = activate_vjp(z.clone(), activation, u.clone());
        assert_eq!(value, activate(z.clone(), activation));
        assert_gradient(&activation.name(), &z, &g.z, |z| {
            inner(&u, &activate(z.clone(), activation))
        });
    }
}

#[test]
fn dense_layers_have_the_gradient_of_their_function_in_every_argument() {
    let mut rng = rng(3);
    for activation in ELEMENTWISE {
        let (x, w, b) = (
            dmatrix(&mut rng, 6, 4),
            dmatrix(&mut rng, 4, 3),
            row(&mut rng, 3),
        );
        let u = dmatrix(&mut rng, 6, 3);
        let (value, g) = dense_vjp(&x, &w, &b, activation, u.clone());
        assert_eq!(value, dense(&x, &w, &b, activation));
        let name = activation.name();
        assert_gradient(&format!("{name}: x"), &x, &g.x, |x| {
            inner(&u, &dense(x, &w, &b, activation))
        });
        assert_gradient(&format!("{name}: w"), &w, &g.w, |w| {
            inner(&u, &dense(&x, w, &b, activation))
        });
        assert_gradient(&format!("{name}: b"), &b, &g.b, |b| {
            inner(&u, &dense(&x, &w, b, activation))
        });
    }
}

#[test]
fn maxout_layers_have_the_gradient_of_their_function_in_every_argument() {
    let mut rng = rng(4);
    let (x, w_a, b_a) = (
        dmatrix(&mut rng, 6, 4),
        dmatrix(&mut rng, 4, 3),
        row(&mut rng, 3),
    );
    let (w_b, b_b) = (dmatrix(&mut rng, 4, 3), row(&mut rng, 3));
    let u = dmatrix(&mut rng, 6, 3);
    let f = |x: &DMatrix<f64>,
             w_a: &DMatrix<f64>,
             b_a: &RowDVector<f64>,
             w_b: &DMatrix<f64>,
             b_b: &RowDVector<f64>| { inner(&u, &maxout_dense(x, w_a, b_a, w_b, b_b)) };
    let (value, g) = maxout_dense_vjp(&x, &w_a, &b_a, &w_b, &b_b, u.clone());
    let a = autodiff_runtime::add_bias(&x * &w_a, &b_a);
    let b = autodiff_runtime::add_bias(&x * &w_b, &b_b);
    assert_eq!(value, a.zip_map(&b, f64::max));
    assert!(
        a.zip_map(&b, |a, b| (a > b) as u8).sum() > 0,
        "both maps win somewhere"
    );
    assert!(
        a.zip_map(&b, |a, b| (a < b) as u8).sum() > 0,
        "both maps win somewhere"
    );
    assert_gradient("x", &x, &g.x, |x| f(x, &w_a, &b_a, &w_b, &b_b));
    assert_gradient("w_a", &w_a, &g.w_a, |w| f(&x, w, &b_a, &w_b, &b_b));
    assert_gradient("b_a", &b_a, &g.b_a, |b| f(&x, &w_a, b, &w_b, &b_b));
    assert_gradient("w_b", &w_b, &g.w_b, |w| f(&x, &w_a, &b_a, w, &b_b));
    assert_gradient("b_b", &b_b, &g.b_b, |b| f(&x, &w_a, &b_a, &w_b, b));
}

#[test]
fn every_loss_has_the_gradient_of_its_function() {
    let mut rng = rng(5);
    let scores = dmatrix(&mut rng, 7, 4).scale(3.0);
    let labels = [0, 3, 1, 2, 2, 0, 1];
    for loss in [Loss::SoftmaxCrossEntropy, Loss::Hinge, Loss::SumOfSquares] {
        let (value, grad) = loss.value_and_grad(&scores, &labels);
        assert_eq!(value, loss.value(&scores, &labels));
        assert_gradient(&format!("{loss:?}"), &scores, &grad, |s| {
            loss.value(s, &labels)
        });
    }
}

#[test]
fn the_losses_have_their_documented_values() {
    // Independent values: two samples, two classes.
    let scores = DMatrix::from_row_slice(2, 2, &[2.0, 0.0, 0.5, 1.0]);
    let labels = [0, 0];
    let ce = ((1.0 + (-2.0f64).exp()).ln() + (1.0 + (0.5f64).exp()).ln()) / 2.0;
    assert!((cross_entropy_loss(&scores, &labels) - ce).abs() < 1e-15);
    // Margins: sample 0: 0 − 2 + 1 < 0; sample 1: 1 − 0.5 + 1 = 1.5.
    assert_eq!(hinge_loss(&scores, &labels), 0.75);
    // (2−1)² + 0² + (0.5−1)² + 1² = 2.25, over 2 samples.
    assert_eq!(Loss::SumOfSquares.value(&scores, &labels), 1.125);
    assert_eq!(
        one_hot(&[1, 0], 3),
        DMatrix::from_row_slice(2, 3, &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    );
}

#[test]
fn the_l2_penalty_has_the_gradient_lambda_w() {
    let w = dmatrix(&mut rng(6), 3, 4);
    let (value, g) = l2_penalty_grad(&w, 0.3);
    assert!((value - 0.15 * w.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-15);
    assert_gradient("l2", &w, &g.w, |w| l2_penalty(w, 0.3));
    assert!(relative_error(&g.w, &w.scale(0.3)) < 1e-15);
}

/// A random `Mlp` with the given sizes: hidden layers with `activation`, identity scores.
fn random_mlp(rng: &mut Rng, sizes: &[usize], activation: Activation) -> Mlp {
    let last = sizes.len() - 2;
    let layers = sizes
        .windows(2)
        .enumerate()
        .map(|(i, s)| {
            let (n_in, n_out) = (s[0], s[1]);
            if i < last && activation == Activation::Maxout {
                Layer::Maxout {
                    w_a: dmatrix(rng, n_in, n_out),
                    b_a: row(rng, n_out),
                    w_b: dmatrix(rng, n_in, n_out),
                    b_b: row(rng, n_out),
                }
            } else {
                let activation = if i < last {
                    activation
                } else {
                    Activation::Identity
                };
                Layer::Dense {
                    w: dmatrix(rng, n_in, n_out),
                    b: row(rng, n_out),
                    activation,
                }
            }
        })
        .collect();
    Mlp::from_layers(layers).unwrap()
}

/// The parameters of `mlp` as one vector, and a copy of `mlp` with parameters `p`.
fn flatten(mlp: &Mlp) -> DVector<f64> {
    DVector::from_iterator(
        mlp.parameter_count(),
        mlp.parameters().into_iter().flatten().copied(),
    )
}
fn with_parameters(mlp: &Mlp, p: &DVector<f64>) -> Mlp {
    let mut out = mlp.clone();
    let mut values = p.iter();
    for slot in out.parameters_mut().into_iter().flatten() {
        *slot = *values.next().unwrap();
    }
    out
}

#[test]
fn the_whole_mlp_has_the_gradient_of_its_loss_for_every_activation_and_loss() {
    let mut rng = rng(7);
    let x = dmatrix(&mut rng, 8, 3);
    let labels = [0, 1, 2, 1, 0, 2, 2, 1];
    let losses = [Loss::SoftmaxCrossEntropy, Loss::Hinge, Loss::SumOfSquares];
    for (k, activation) in Activation::ALL.into_iter().enumerate() {
        let mlp = random_mlp(&mut rng, &[3, 5, 4, 3], activation);
        let loss = losses[k % 3];
        let lambda = 0.05;
        let (value, grad) = mlp.loss_and_grad(&x, &labels, loss, lambda);
        assert_eq!(value, mlp.loss(&x, &labels, loss, lambda));
        let derived = DVector::from_iterator(
            mlp.parameter_count(),
            grad.parameters().into_iter().flatten().copied(),
        );
        assert_gradient(
            &format!("{} with {loss:?}", activation.name()),
            &flatten(&mlp),
            &derived,
            |p| with_parameters(&mlp, p).loss(&x, &labels, loss, lambda),
        );
    }
}

#[test]
fn an_mlp_of_one_layer_is_a_linear_classifier_with_the_right_gradient() {
    let mut rng = rng(8);
    let x = dmatrix(&mut rng, 5, 2);
    let labels = [0, 1, 2, 1, 0];
    let mlp = random_mlp(&mut rng, &[2, 3], Activation::Relu);
    assert_eq!(mlp.layers()[0].activation(), Activation::Identity);
    let (_, grad) = mlp.loss_and_grad(&x, &labels, Loss::SoftmaxCrossEntropy, 0.0);
    let derived = DVector::from_iterator(
        mlp.parameter_count(),
        grad.parameters().into_iter().flatten().copied(),
    );
    assert_gradient("linear", &flatten(&mlp), &derived, |p| {
        with_parameters(&mlp, p).loss(&x, &labels, Loss::SoftmaxCrossEntropy, 0.0)
    });
}

#[test]
fn layers_that_do_not_fit_are_rejected_with_the_layer_named() {
    let mut rng = rng(9);
    let good = |rng: &mut Rng, i, o| Layer::Dense {
        w: dmatrix(rng, i, o),
        b: row(rng, o),
        activation: Activation::Relu,
    };
    let err = Mlp::from_layers(vec![good(&mut rng, 2, 4), good(&mut rng, 3, 2)]).unwrap_err();
    assert_eq!(err.layer, 1);
    assert_eq!(
        err.to_string(),
        "layer 1: takes 3 inputs but layer 0 has 4 outputs"
    );
    let bad_bias = Layer::Dense {
        w: dmatrix(&mut rng, 2, 4),
        b: row(&mut rng, 3),
        activation: Activation::Tanh,
    };
    let err = Mlp::from_layers(vec![bad_bias]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer 0: the bias b has 3 elements but the weights have 4 columns"
    );
    assert!(Mlp::from_layers(vec![]).is_err());
    let maxout_dense = Layer::Dense {
        w: dmatrix(&mut rng, 2, 4),
        b: row(&mut rng, 4),
        activation: Activation::Maxout,
    };
    assert!(Mlp::from_layers(vec![maxout_dense])
        .unwrap_err()
        .message
        .contains("maxout"));
}

#[test]
fn the_forward_pass_is_the_layers_applied_in_order() {
    let mut rng = rng(10);
    let mlp = random_mlp(&mut rng, &[3, 4, 2], Activation::Tanh);
    let x = dmatrix(&mut rng, 5, 3);
    let layers = mlp.layers();
    let (l0, l1) = match layers.as_slice() {
        [Layer::Dense { w: w0, b: b0, .. }, Layer::Dense { w: w1, b: b1, .. }] => {
            ((w0, b0), (w1, b1))
        }
        _ => unreachable!(),
    };
    let h = autodiff_runtime::tanh(autodiff_runtime::add_bias(&x * l0.0, l0.1));
    let scores = autodiff_runtime::add_bias(&h * l1.0, l1.1);
    assert_eq!(mlp.forward(&x), scores);
    assert_eq!(mlp.sizes(), vec![3, 4, 2]);
    assert_eq!(mlp.predict(&x), argmax_rows(&scores));
    assert_eq!(
        argmax_rows(&DMatrix::from_row_slice(
            2,
            3,
            &[0.0, 2.0, 1.0, 5.0, 5.0, -1.0]
        )),
        vec![1, 0]
    );
}

#[test]
fn the_data_costs_no_derivative_work() {
    // Three dense layers: 3 forward products, 3 weight gradients, and input adjoints for
    // the two layers after the first only: the first layer's input is data.
    let mut rng = rng(11);
    let mlp = random_mlp(&mut rng, &[3, 5, 4, 3], Activation::Relu);
    let x = dmatrix(&mut rng, 6, 3);
    let before = autodiff_runtime::stats::products();
    let _ = mlp.loss_and_grad(&x, &[0, 1, 2, 0, 1, 2], Loss::SoftmaxCrossEntropy, 0.0);
    assert_eq!(autodiff_runtime::stats::products() - before, 3 + 3 + 2);
}

/// A user's function that calls the layer functions by path: differentiated through them.
#[autodiff_macro::differentiate(crate = autodiff_runtime, wrt(w1, b1, w2, b2))]
fn two_layers_by_path(
    x: &DMatrix<f64>,
    labels: &[usize],
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    activation: Activation,
) -> f64 {
    let h = autodiff_runtime::nn::dense(x, w1, b1, activation);
    let scores = autodiff_runtime::nn::dense(&h, w2, b2, Activation::Identity);
    cross_entropy_loss(&scores, labels) + l2_penalty(w1, 0.1)
}

#[test]
fn user_functions_differentiate_through_the_layers() {
    let mut rng = rng(12);
    let (x, labels) = (dmatrix(&mut rng, 6, 3), [0, 1, 2, 0, 1, 2]);
    let (w1, b1, w2, b2) = (
        dmatrix(&mut rng, 3, 4),
        row(&mut rng, 4),
        dmatrix(&mut rng, 4, 3),
        row(&mut rng, 3),
    );
    let act = Activation::Elu { alpha: 0.5 };
    let f = |w1: &DMatrix<f64>, b1: &RowDVector<f64>, w2: &DMatrix<f64>, b2: &RowDVector<f64>| {
        two_layers_by_path(&x, &labels, w1, b1, w2, b2, act)
    };
    let (_, g) = two_layers_by_path_grad(&x, &labels, &w1, &b1, &w2, &b2, act);
    assert_gradient("w1", &w1, &g.w1, |w| f(w, &b1, &w2, &b2));
    assert_gradient("b1", &b1, &g.b1, |b| f(&w1, b, &w2, &b2));
    assert_gradient("w2", &w2, &g.w2, |w| f(&w1, &b1, w, &b2));
    assert_gradient("b2", &b2, &g.b2, |b| f(&w1, &b1, &w2, b));
}
