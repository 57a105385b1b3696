//! The losses of a classifier's scores (softmax cross-entropy, multiclass SVM hinge, sum of
//! squares against one-hot targets) and L2 regularization, as `#[differentiate]` functions.

use crate::functions::{softmax_cross_entropy, svm_loss};
use autodiff_macro::differentiate;
use nalgebra::DMatrix;

/// The loss a classifier is trained with, on scores `n × classes` and one label per row.
/// Each is a mean over the samples, so the size of a minibatch does not scale the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// [`cross_entropy_loss`]: mean of `−log softmax(sᵢ)[yᵢ]`.
    SoftmaxCrossEntropy,
    /// [`hinge_loss`]: the multiclass SVM loss with margin 1.
    Hinge,
    /// [`sum_of_squares_loss`] against the one-hot encoding of the labels.
    SumOfSquares,
}

impl Loss {
    /// The loss of `scores` for `labels` and its gradient with respect to the scores: the
    /// derived gradient of [`classifier_loss`].
    ///
    /// Panics unless there is one label per row, each below the number of columns.
    pub fn value_and_grad(self, scores: &DMatrix<f64>, labels: &[usize]) -> (f64, DMatrix<f64>) {
        let (value, grad) = classifier_loss_grad(scores, labels, self);
        (value, grad.scores)
    }

    /// The loss of `scores` for `labels`, without a gradient: [`classifier_loss`].
    pub fn value(self, scores: &DMatrix<f64>, labels: &[usize]) -> f64 {
        classifier_loss(scores, labels, self)
    }
}

/// The loss `loss` of a classifier's `scores` for `labels`: [`cross_entropy_loss`],
/// [`hinge_loss`], or [`sum_of_squares_loss`] against the one-hot encoding of the labels.
#[differentiate(crate = autodiff_runtime, wrt(scores))]
pub fn classifier_loss(scores: &DMatrix<f64>, labels: &[usize], loss: Loss) -> f64 {
    if loss == Loss::SoftmaxCrossEntropy {
        cross_entropy_loss(scores, labels)
    } else if loss == Loss::Hinge {
        hinge_loss(scores, labels)
    } else {
        sum_of_squares_loss(scores, &one_hot(labels, scores.ncols()))
    }
}

/// The `n × classes` matrix with a `1` at `(i, labels[i])` and `0` elsewhere.
///
/// Panics when a label is not below `classes`.
#[track_caller]
pub fn one_hot(labels: &[usize], classes: usize) -> DMatrix<f64> {
    let mut m = DMatrix::zeros(labels.len(), classes);
    for (i, &y) in labels.iter().enumerate() {
        assert!(
            y < classes,
            "one_hot: label {y} of sample {i} is not below {classes} classes"
        );
        m[(i, y)] = 1.0;
    }
    m
}

/// Softmax cross-entropy averaged over the rows: `(1/n) Σᵢ −log softmax(sᵢ)[yᵢ]`.
#[differentiate(crate = autodiff_runtime, wrt(scores))]
pub fn cross_entropy_loss(scores: &DMatrix<f64>, labels: &[usize]) -> f64 {
    softmax_cross_entropy(scores, labels)
}

/// The multiclass SVM (hinge) loss with margin 1, averaged over the rows:
/// `(1/n) Σᵢ Σ_{j ≠ yᵢ} max(0, s_ij − s_iyᵢ + 1)`.
#[differentiate(crate = autodiff_runtime, wrt(scores))]
pub fn hinge_loss(scores: &DMatrix<f64>, labels: &[usize]) -> f64 {
    svm_loss(scores, labels)
}

/// The sum of squares per sample, averaged over the rows: `(1/n) Σᵢⱼ (s_ij − t_ij)²`, with
/// `n` the number of rows of `targets`.
#[differentiate(crate = autodiff_runtime, wrt(scores))]
pub fn sum_of_squares_loss(scores: &DMatrix<f64>, targets: &DMatrix<f64>) -> f64 {
    let n = targets.nrows() as f64;
    (scores - targets).norm_squared() / n
}

/// The L2 penalty of a weight matrix, `½·λ·‖W‖²` (the sum of the squares of its elements):
/// its gradient is `λ·W`. Biases are conventionally not penalised.
#[differentiate(crate = autodiff_runtime, wrt(w))]
pub fn l2_penalty(w: &DMatrix<f64>, lambda: f64) -> f64 {
    0.5 * lambda * w.norm_squared()
}

/// The sum of [`l2_penalty`] over the weight matrices `weights`: `Σ_W ½·λ·‖W‖²`.
#[differentiate(crate = autodiff_runtime, wrt(weights))]
pub fn l2_penalties(weights: &[DMatrix<f64>], lambda: f64) -> f64 {
    let mut total = 0.0;
    for w in weights.iter() {
        total += l2_penalty(w, lambda);
    }
    total
}
