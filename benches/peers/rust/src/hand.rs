//! Backpropagation written by hand with nalgebra, the way a performance engineer writes it:
//! W2 and W3 copied from `tests/common/hand.rs` (every large product through `gemm`,
//! transposed operands read through strided views, no needless clone); W4 written the same
//! way (bias and ReLU fused in place, column by column; bias gradients as contiguous column
//! sums). Stamped out for `f64` and `f32`.

macro_rules! hand {
    ($m:ident, $r:ident) => {
        pub mod $m {
            use autodiff::nalgebra::{Dyn, MatrixView};
            use autodiff::prelude::*;

            type View<'a> = MatrixView<'a, $r, Dyn, Dyn, Dyn, Dyn>;

            /// A strided view of `m`ᵀ, sharing its buffer.
            pub fn t(m: &DMatrix<$r>) -> View<'_> {
                let (r, c) = m.shape();
                MatrixView::from_slice_with_strides_generic(m.as_slice(), Dyn(c), Dyn(r), Dyn(r), Dyn(1))
            }

            fn plain(m: &DMatrix<$r>) -> View<'_> {
                let (r, c) = m.shape();
                MatrixView::from_slice_with_strides_generic(m.as_slice(), Dyn(r), Dyn(c), Dyn(1), Dyn(r))
            }

            /// `a · b` into a new matrix. nalgebra 0.35's `gemm` below its blocked kernel
            /// (a dimension of 5 or less) is unsound with a strided left operand
            /// (dimforge/nalgebra#1616): such products (only in the reduced fixtures used for
            /// validation) copy the left operand first.
            fn mul(a: View<'_>, b: View<'_>) -> DMatrix<$r> {
                let mut out = DMatrix::zeros(a.nrows(), b.ncols());
                if a.nrows().min(a.ncols()).min(b.ncols()) <= 5 {
                    out.gemm(1.0, &a.clone_owned(), &b, 0.0);
                } else {
                    out.gemm(1.0, &a, &b, 0.0);
                }
                out
            }

            /// W1 by hand: q = x + y, f = q·z, df/dx = df/dy = z, df/dz = q.
            #[inline]
            pub fn graph(x: $r, y: $r, z: $r) -> ($r, [$r; 3]) {
                let q = x + y;
                (q * z, [z, z, q])
            }

            /// W2: loss and gradients for w1 and w2.
            pub fn two_layer(
                x: &DMatrix<$r>,
                y: &DMatrix<$r>,
                w1: &DMatrix<$r>,
                w2: &DMatrix<$r>,
            ) -> ($r, DMatrix<$r>, DMatrix<$r>) {
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
                pub w1: DMatrix<$r>,
                pub b1: RowDVector<$r>,
                pub w2: DMatrix<$r>,
                pub b2: RowDVector<$r>,
            }

            /// W3: ReLU hidden layer, biases, mean softmax cross-entropy + L2.
            pub fn spiral(
                x: &DMatrix<$r>,
                labels: &[usize],
                w1: &DMatrix<$r>,
                b1: &RowDVector<$r>,
                w2: &DMatrix<$r>,
                b2: &RowDVector<$r>,
                reg: $r,
            ) -> ($r, SpiralGrad) {
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
                let mut data_loss = 0.0;
                for (i, mut row) in scores.row_iter_mut().enumerate() {
                    let max = row.max();
                    row.apply(|v| *v = (*v - max).exp());
                    let sum = row.sum();
                    row /= sum;
                    data_loss -= row[labels[i]].ln();
                }
                let reg_loss = 0.5 * reg * (w1.norm_squared() + w2.norm_squared());
                let loss = data_loss / n as $r + reg_loss;
                let mut d_scores = scores;
                for (i, &label) in labels.iter().enumerate() {
                    d_scores[(i, label)] -= 1.0;
                }
                d_scores /= n as $r;
                let mut grad_w2 = hidden.tr_mul(&d_scores);
                grad_w2 += w2 * reg;
                let b2_grad = d_scores.row_sum();
                let mut d_hidden = mul(plain(&d_scores), t(w2));
                d_hidden.zip_apply(&hidden, |g, h| {
                    if h <= 0.0 {
                        *g = 0.0
                    }
                });
                let mut grad_w1 = x.tr_mul(&d_hidden);
                grad_w1 += w1 * reg;
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

            /// Gradients of the wide net.
            pub struct WideGrad {
                pub w: [DMatrix<$r>; 3],
                pub b: [RowDVector<$r>; 3],
            }

            /// `m += b` row by row and ReLU, in place, one contiguous column at a time.
            fn bias_relu(m: &mut DMatrix<$r>, b: &RowDVector<$r>) {
                for (j, mut col) in m.column_iter_mut().enumerate() {
                    let bj = b[j];
                    col.apply(|v| *v = (*v + bj).max(0.0));
                }
            }

            /// Column sums (the gradient of a bias), each over a contiguous column.
            fn column_sums(m: &DMatrix<$r>) -> RowDVector<$r> {
                RowDVector::from_iterator(m.ncols(), m.column_iter().map(|c| c.sum()))
            }

            /// W4: 784 → 512 → 512 → 10 (any sizes), ReLU, biases, mean softmax cross-entropy.
            #[allow(clippy::too_many_arguments)]
            pub fn wide(
                x: &DMatrix<$r>,
                labels: &[usize],
                w: [&DMatrix<$r>; 3],
                b: [&RowDVector<$r>; 3],
            ) -> ($r, WideGrad) {
                let n = x.nrows();
                let mut h1 = mul(plain(x), plain(w[0]));
                bias_relu(&mut h1, b[0]);
                let mut h2 = mul(plain(&h1), plain(w[1]));
                bias_relu(&mut h2, b[1]);
                let mut scores = mul(plain(&h2), plain(w[2]));
                for (j, mut col) in scores.column_iter_mut().enumerate() {
                    col.add_scalar_mut(b[2][j]);
                }
                // Softmax in place, row by row: scores become probabilities.
                let mut data_loss = 0.0;
                for (i, mut row) in scores.row_iter_mut().enumerate() {
                    let max = row.max();
                    row.apply(|v| *v = (*v - max).exp());
                    let sum = row.sum();
                    row /= sum;
                    data_loss -= row[labels[i]].ln();
                }
                let loss = data_loss / n as $r;
                let mut d_scores = scores;
                for (i, &label) in labels.iter().enumerate() {
                    d_scores[(i, label)] -= 1.0;
                }
                d_scores /= n as $r;
                let gw3 = mul(t(&h2), plain(&d_scores));
                let gb3 = column_sums(&d_scores);
                let mut dh2 = mul(plain(&d_scores), t(w[2]));
                dh2.zip_apply(&h2, |g, h| {
                    if h <= 0.0 {
                        *g = 0.0
                    }
                });
                let gw2 = mul(t(&h1), plain(&dh2));
                let gb2 = column_sums(&dh2);
                let mut dh1 = mul(plain(&dh2), t(w[1]));
                dh1.zip_apply(&h1, |g, h| {
                    if h <= 0.0 {
                        *g = 0.0
                    }
                });
                let gw1 = mul(t(x), plain(&dh1));
                let gb1 = column_sums(&dh1);
                (
                    loss,
                    WideGrad {
                        w: [gw1, gw2, gw3],
                        b: [gb1, gb2, gb3],
                    },
                )
            }
        }
    };
}

hand!(double, f64);
hand!(single, f32);
