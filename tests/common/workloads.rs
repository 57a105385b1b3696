//! The benchmark workloads as a user writes them: plain Rust with nalgebra and
//! `#[differentiate]`.

use autodiff::prelude::*;

/// The lecture's two-layer net: h = sigmoid(x·w1), y_pred = h·w2, loss = Σ(y_pred − y)².
#[differentiate(wrt(w1, w2))]
pub fn two_layer_loss(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
) -> f64 {
    let h = sigmoid(x * w1);
    let y_pred = &h * w2;
    (y_pred - y).norm_squared()
}

/// The spiral net: 2 → H → 3, ReLU, biases, mean softmax cross-entropy plus
/// 0.5·reg·(‖W1‖² + ‖W2‖²).
#[differentiate(wrt(w1, b1, w2, b2))]
pub fn spiral_loss(
    x: &DMatrix<f64>,
    labels: &[usize],
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    reg: f64,
) -> f64 {
    let hidden = relu(add_bias(x * w1, b1));
    let scores = add_bias(&hidden * w2, b2);
    let data_loss = softmax_cross_entropy(&scores, labels);
    let reg_loss = 0.5 * reg * (w1.norm_squared() + w2.norm_squared());
    data_loss + reg_loss
}

/// One dense layer with ReLU: a building block called by [`wide_loss`].
#[differentiate]
pub fn dense_relu(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
    relu(add_bias(x * w, b))
}

/// The wide net: two ReLU layers (through [`dense_relu`]), then scores and mean softmax
/// cross-entropy.
#[differentiate(wrt(w1, b1, w2, b2, w3, b3))]
#[allow(clippy::too_many_arguments)]
pub fn wide_loss(
    x: &DMatrix<f64>,
    labels: &[usize],
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    w3: &DMatrix<f64>,
    b3: &RowDVector<f64>,
) -> f64 {
    let h1 = dense_relu(x, w1, b1);
    let h2 = dense_relu(&h1, w2, b2);
    let scores = add_bias(&h2 * w3, b3);
    softmax_cross_entropy(&scores, labels)
}
