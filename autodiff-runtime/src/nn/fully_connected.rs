//! Dense (fully connected) layers `activation(x·W + b)` and maxout layers, as
//! `#[differentiate]` functions: their backward passes are derived, not written.
//!
//! Each layer comes in two forms. The plain one (`dense`, `maxout_dense`) takes the layer's
//! input by value and differentiates with respect to it too, so that a network can pass the
//! adjoint of a layer's input to the layer before it; taking it by value moves it into the
//! tape instead of borrowing it, so tapes of successive layers can sit in one `Vec`. The
//! `_input` form is for the first layer, whose input is the data: it differentiates with
//! respect to the weights only (`wrt(..)`), so no `dX = dZ·Wᵀ` product is computed.

use super::activation::{activate, Activation};
use crate::functions::{add_bias, maxout};
use autodiff_macro::differentiate;
use nalgebra::{DMatrix, RowDVector};

/// A dense layer `activation(x·w + b)`: `x` is `n × d_in` (one sample a row), `w` is
/// `d_in × d_out`, `b` has `d_out` elements. Differentiable in `x`, `w` and `b`.
#[differentiate(crate = autodiff_runtime)]
pub fn dense(
    x: DMatrix<f64>,
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    activation: Activation,
) -> DMatrix<f64> {
    activate(add_bias(x * w, b), activation)
}

/// [`dense`] on data: the same value, differentiable in `w` and `b` only.
#[differentiate(crate = autodiff_runtime, wrt(w, b))]
pub fn dense_input(
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    activation: Activation,
) -> DMatrix<f64> {
    activate(add_bias(x * w, b), activation)
}

/// A maxout layer `max(x·w_a + b_a, x·w_b + b_b)`, elementwise: two weight sets of the same
/// shapes. Differentiable in `x` and the four parameters; the derivative of each element
/// goes to the larger of the two maps (to `a` on ties).
#[differentiate(crate = autodiff_runtime)]
pub fn maxout_dense(
    x: DMatrix<f64>,
    w_a: &DMatrix<f64>,
    b_a: &RowDVector<f64>,
    w_b: &DMatrix<f64>,
    b_b: &RowDVector<f64>,
) -> DMatrix<f64> {
    let a = add_bias(&x * w_a, b_a);
    let b = add_bias(&x * w_b, b_b);
    maxout(a, b)
}

/// [`maxout_dense`] on data: the same value, differentiable in the four parameters only.
#[differentiate(crate = autodiff_runtime, wrt(w_a, b_a, w_b, b_b))]
pub fn maxout_dense_input(
    x: &DMatrix<f64>,
    w_a: &DMatrix<f64>,
    b_a: &RowDVector<f64>,
    w_b: &DMatrix<f64>,
    b_b: &RowDVector<f64>,
) -> DMatrix<f64> {
    let a = add_bias(x * w_a, b_a);
    let b = add_bias(x * w_b, b_b);
    maxout(a, b)
}
