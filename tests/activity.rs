//! Activity analysis: constants cost no derivative work. Proof by counting the matrix
//! products the rules perform.

mod common;

use autodiff::prelude::*;
use autodiff::runtime::stats::products;
use common::workloads;

fn products_during(f: impl FnOnce()) -> usize {
    let before = products();
    f();
    products() - before
}

#[test]
fn two_layer_loss_spends_no_product_on_the_data() {
    let x = DMatrix::from_fn(8, 20, |i, j| ((i * 7 + j * 3) % 11) as f64 * 0.1 - 0.5);
    let y = DMatrix::from_fn(8, 3, |i, j| ((i + j) % 5) as f64 * 0.2);
    let w1 = DMatrix::from_fn(20, 7, |i, j| ((i * 3 + j) % 7) as f64 * 0.05 - 0.15);
    let w2 = DMatrix::from_fn(7, 3, |i, j| ((i + 2 * j) % 4) as f64 * 0.1 - 0.2);
    let forward = products_during(|| {
        workloads::two_layer_loss_fwd(&x, &y, &w1, &w2);
    });
    let (_, tape) = workloads::two_layer_loss_fwd(&x, &y, &w1, &w2);
    let reverse = products_during(|| {
        workloads::two_layer_loss_bwd(tape, 1.0);
    });
    // Forward: x·w1 and h·w2. Reverse: one product for ∂w2, one for the hidden layer's
    // adjoint, one for ∂w1; none for ∂x, since x is a constant.
    assert_eq!((forward, reverse), (2, 3));
}

#[differentiate]
fn all_differentiable(x: &DMatrix<f64>, w1: &DMatrix<f64>, w2: &DMatrix<f64>) -> f64 {
    (sigmoid(x * w1) * w2).sum()
}

#[test]
fn a_differentiable_input_costs_one_more_product() {
    let x = DMatrix::from_element(4, 5, 0.1);
    let (w1, w2) = (
        DMatrix::from_element(5, 3, 0.2),
        DMatrix::from_element(3, 2, 0.3),
    );
    let (_, tape) = all_differentiable_fwd(&x, &w1, &w2);
    assert_eq!(
        products_during(|| drop(all_differentiable_bwd(tape, 1.0))),
        4
    );
}

#[test]
fn a_call_computes_only_the_gradients_its_caller_needs() {
    // wide_loss calls dense_relu(x, w1, b1) with the data x, a constant of wide_loss: the
    // callee differentiates x by default, but is told not to spend a product on it.
    let x = DMatrix::from_fn(6, 12, |i, j| ((i * 5 + j) % 7) as f64 * 0.1 - 0.3);
    let labels = [0, 1, 2, 3, 0, 1];
    let (w1, b1) = (
        DMatrix::from_fn(12, 8, |i, j| ((i + j) % 5) as f64 * 0.1 - 0.2),
        RowDVector::from_element(8, 0.1),
    );
    let (w2, b2) = (
        DMatrix::from_fn(8, 8, |i, j| ((i * j) % 3) as f64 * 0.1 - 0.1),
        RowDVector::from_element(8, 0.0),
    );
    let (w3, b3) = (
        DMatrix::from_fn(8, 4, |i, j| ((i + 2 * j) % 4) as f64 * 0.1 - 0.15),
        RowDVector::from_element(4, 0.2),
    );
    let (_, tape) = workloads::wide_loss_fwd(&x, &labels, &w1, &b1, &w2, &b2, &w3, &b3);
    let reverse = products_during(|| drop(workloads::wide_loss_bwd(tape, 1.0)));
    // ∂w3 and the adjoint of h2; inside the second layer ∂w2 and the adjoint of h1; inside
    // the first layer ∂w1 only.
    assert_eq!(reverse, 5);
}
