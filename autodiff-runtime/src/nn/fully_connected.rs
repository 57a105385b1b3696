//! Dense (fully connected) layers `activation(x·W + b)` and maxout layers, as
//! `#[differentiate]` functions: their backward passes are derived, not written.
//!
//! Each takes its input by reference and is differentiable in it, so that a network passes
//! the adjoint of a layer's input to the layer before it. A caller that is itself
//! differentiated and gives a layer a constant input (the data) gets no `dX = dZ·Wᵀ` product:
//! the reverse sweep of a call computes only the adjoints its caller wants.

use super::activation::{activate, Activation};
use crate::functions::{add_bias, maxout};
use autodiff_macro::differentiate;
use nalgebra::{DMatrix, RowDVector};

/// A dense layer `activation(x·w + b)`: `x` is `n × d_in` (one sample a row), `w` is
/// `d_in × d_out`, `b` has `d_out` elements. Differentiable in `x`, `w` and `b`.
#[differentiate(crate = autodiff_runtime)]
pub fn dense(
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

/// One layer of an [`Mlp`](super::Mlp): [`maxout_dense`] when `activation` is
/// [`Activation::Maxout`] (`w_b` and `b_b` its second map), else [`dense`] (`w_b` and `b_b`
/// unread, empty in an `Mlp`).
#[differentiate(crate = autodiff_runtime)]
pub fn mlp_layer(
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    w_b: &DMatrix<f64>,
    b_b: &RowDVector<f64>,
    activation: Activation,
) -> DMatrix<f64> {
    if activation == Activation::Maxout {
        maxout_dense(x, w, b, w_b, b_b)
    } else {
        dense(x, w, b, activation)
    }
}
