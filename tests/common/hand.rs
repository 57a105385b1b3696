//! Backpropagation written by hand, the way a performance engineer writes it with nalgebra:
//! every product through `gemm`, transposed operands read through strided views (no copy,
//! no dot-product loops), no needless clones. The reference the generated code is compared
//! with, in tests (values) and benchmarks (time).

use autodiff::nalgebra::{DMatrixView, Dyn, MatrixView};
use autodiff::prelude::*;

/// A strided view of `m`ᵀ, sharing its buffer.
pub fn t(m: &DMatrix<f64>) -> MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn> {
    let (r, c) = m.shape();
    MatrixView::from_slice_with_strides_generic(m.as_slice(), Dyn(c), Dyn(r), Dyn(r), Dyn(1))
}

fn v(m: &DMatrix<f64>) -> DMatrixView<'_, f64> {
    let (r, c) = m.shape();
    DMatrixView::from_slice(m.as_slice(), r, c)
}

/// `a · b` into a new matrix.
fn mul(
    a: MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn>,
    b: MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn>,
) -> DMatrix<f64> {
    let mut out = DMatrix::zeros(a.nrows(), b.ncols());
    out.gemm(1.0, &a, &b, 0.0);
    out
}

fn plain(m: &DMatrix<f64>) -> MatrixView<'_, f64, Dyn, Dyn, Dyn, Dyn> {
    let (r, c) = m.shape();
    MatrixView::from_slice_with_strides_generic(m.as_slice(), Dyn(r), Dyn(c), Dyn(1), Dyn(r))
}

/// The lecture's two-layer net: loss and gradients for w1 and w2.
pub fn two_layer(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
) -> (f64, DMatrix<f64>, DMatrix<f64>) {
    let _ = v;
    let mut h = x * w1;
    h.apply(|z| *z = 1.0 / (1.0 + (-*z).exp()));
    let mut diff = &h * w2;
    diff -= y;
    let loss = diff.norm_squared();
    diff *= 2.0; // now the gradient of the loss with respect to y_pred
    let grad_w2 = mul(t(&h), plain(&diff));
    let mut grad_h = mul(plain(&diff), t(w2));
    grad_h.zip_apply(&h, |g, s| *g *= s * (1.0 - s));
    let grad_w1 = mul(t(x), plain(&grad_h));
    (loss, grad_w1, grad_w2)
}

/// Gradients of the spiral net, in the order W1, b1, W2, b2.
pub struct SpiralGrad {
    pub w1: DMatrix<f64>,
    pub b1: RowDVector<f64>,
    pub w2: DMatrix<f64>,
    pub b2: RowDVector<f64>,
}

/// The spiral net: ReLU hidden layer, biases, mean softmax cross-entropy + L2.
pub fn spiral(
    x: &DMatrix<f64>,
    labels: &[usize],
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    reg: f64,
) -> (f64, SpiralGrad) {
    let n = x.nrows();
    let mut hidden = x * w1;
    for mut row in hidden.row_iter_mut() {
        row += b1;
        row.apply(|v| *v = v.max(0.0));
    }
    let mut scores = &hidden * w2;
    for mut row in scores.row_iter_mut() {
        row += b2;
    }
    // Softmax in place: scores become probabilities.
    let mut data_loss = 0.0;
    for (i, mut row) in scores.row_iter_mut().enumerate() {
        let max = row.max();
        row.apply(|v| *v = (*v - max).exp());
        let sum = row.sum();
        row /= sum;
        data_loss -= row[labels[i]].ln();
    }
    let reg_loss = 0.5 * reg * (w1.norm_squared() + w2.norm_squared());
    let loss = data_loss / n as f64 + reg_loss;
    // Gradient of the scores, in the probabilities' buffer.
    let mut d_scores = scores;
    for (i, &label) in labels.iter().enumerate() {
        d_scores[(i, label)] -= 1.0;
    }
    d_scores /= n as f64;
    // Products with a dimension of 2 or 3 are below matrixmultiply's threshold: nalgebra's
    // `tr_mul` (dot products of contiguous columns) is the right tool there.
    let mut grad_w2 = hidden.tr_mul(&d_scores);
    grad_w2 += reg * w2;
    let b2_grad = d_scores.row_sum();
    let mut d_hidden = mul(plain(&d_scores), t(w2));
    d_hidden.zip_apply(&hidden, |g, h| {
        if h <= 0.0 {
            *g = 0.0
        }
    });
    let mut grad_w1 = x.tr_mul(&d_hidden);
    grad_w1 += reg * w1;
    let b1_grad = d_hidden.row_sum();
    (
        loss,
        SpiralGrad {
            w1: grad_w1,
            b1: b1_grad,
            w2: grad_w2,
            b2: b2_grad,
        },
    )
}
