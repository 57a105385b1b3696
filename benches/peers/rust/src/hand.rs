//! Backpropagation written by hand with nalgebra, the way a performance engineer writes it:
//! every buffer (activations, intermediate gradients, parameter gradients) is allocated once,
//! in a workspace built for the workload's shapes, and reused by every step; every product
//! goes through nalgebra's `gemm` into those buffers, transposed operands read through
//! strided views (no copy); bias and activation are fused in place, one contiguous column at
//! a time; the SGD update is in place. A step allocates nothing itself (matrixmultiply, under
//! nalgebra's large products, allocates its packing buffers on each call). Stamped out for
//! `f64` and `f32`.

macro_rules! hand {
    ($m:ident, $r:ident) => {
        pub mod $m {
            use autodiff::nalgebra::{Dim, Dyn, MatrixView, StorageMut};
            use autodiff::prelude::*;

            type View<'a> = MatrixView<'a, $r, Dyn, Dyn, Dyn, Dyn>;

            /// A strided view of `m`ᵀ, sharing its buffer.
            fn t(m: &DMatrix<$r>) -> View<'_> {
                t_rows(m, 0, m.nrows())
            }

            /// A strided view of (rows `first` … `first + count − 1` of `m`)ᵀ, sharing its buffer.
            fn t_rows(m: &DMatrix<$r>, first: usize, count: usize) -> View<'_> {
                let (r, c) = m.shape();
                MatrixView::from_slice_with_strides_generic(
                    &m.as_slice()[first..],
                    Dyn(c),
                    Dyn(count),
                    Dyn(r),
                    Dyn(1),
                )
            }

            /// `out ← aᵀ·b`. nalgebra 0.35's `gemm` below its blocked kernel (a dimension of 5
            /// or less) reads a strided left operand out of bounds (dimforge/nalgebra#1616), so
            /// such products (W3's, with 2 inputs and 3 classes, and the reduced fixtures) take
            /// `gemm_tr` instead: dot products of contiguous columns, no copy.
            fn tr_mul(out: &mut DMatrix<$r>, a: &DMatrix<$r>, b: &DMatrix<$r>) {
                if a.nrows().min(a.ncols()).min(b.ncols()) <= 5 {
                    out.gemm_tr(1.0, a, b, 0.0);
                } else {
                    out.gemm(1.0, &t(a), b, 0.0);
                }
            }

            /// `out ← aᵀ·b` over rows `first` … `first + count − 1` of `a` and of `b` (as
            /// `tr_mul`: `gemm_tr` below nalgebra's blocked kernel).
            fn tr_mul_rows(
                out: &mut DMatrix<$r>,
                a: &DMatrix<$r>,
                b: &DMatrix<$r>,
                first: usize,
                count: usize,
            ) {
                let bv = b.rows(first, count);
                if a.ncols().min(count).min(b.ncols()) <= 5 {
                    out.gemm_tr(1.0, &a.rows(first, count), &bv, 0.0);
                } else {
                    out.gemm(1.0, &t_rows(a, first, count), &bv, 0.0);
                }
            }

            /// `p ← p − lr·g`, in place.
            fn sgd<D: Dim, C: Dim, S>(p: &mut Matrix<$r, D, C, S>, g: &Matrix<$r, D, C, S>, lr: $r)
            where
                S: StorageMut<$r, D, C>,
            {
                p.zip_apply(g, |w, g| *w -= lr * g);
            }

            /// The contiguous columns of `m`.
            fn columns(m: &mut DMatrix<$r>) -> std::slice::ChunksExactMut<'_, $r> {
                let n = m.nrows();
                m.as_mut_slice().chunks_exact_mut(n)
            }

            /// Rows `first` … `first + count − 1` of every column of `m`, contiguous slices.
            fn block_columns(
                m: &mut DMatrix<$r>,
                first: usize,
                count: usize,
            ) -> impl Iterator<Item = &mut [$r]> {
                columns(m).map(move |c| &mut c[first..first + count])
            }

            /// `m ← max(m + b, 0)` with the row `b` added to every row: bias and ReLU in one
            /// pass.
            fn bias_relu(m: &mut DMatrix<$r>, b: &RowDVector<$r>) {
                for (col, &bj) in columns(m).zip(b.iter()) {
                    col.iter_mut().for_each(|v| *v = (*v + bj).max(0.0));
                }
            }

            /// `m ← m + b` with the row `b` added to every row.
            fn add_bias(m: &mut DMatrix<$r>, b: &RowDVector<$r>) {
                for (col, &bj) in columns(m).zip(b.iter()) {
                    col.iter_mut().for_each(|v| *v += bj);
                }
            }

            /// The gradient through a ReLU whose output is `h`, in place.
            fn relu_back(g: &mut DMatrix<$r>, h: &DMatrix<$r>) {
                g.zip_apply(h, |g, h| {
                    if h <= 0.0 {
                        *g = 0.0
                    }
                });
            }

            /// `out ← column sums of m` (the gradient of a bias).
            fn column_sums(out: &mut RowDVector<$r>, m: &DMatrix<$r>) {
                for (o, col) in out.iter_mut().zip(m.as_slice().chunks_exact(m.nrows())) {
                    *o = col.iter().sum();
                }
            }

            /// The mean softmax cross-entropy of the rows of `scores`; `scores` becomes its
            /// gradient, (softmax − one-hot)/N.
            fn softmax_cross_entropy(scores: &mut DMatrix<$r>, labels: &[usize]) -> $r {
                let n = scores.nrows() as $r;
                let mut loss = 0.0;
                for (mut row, &label) in scores.row_iter_mut().zip(labels) {
                    let max = row.max();
                    row.apply(|v| *v = (*v - max).exp());
                    let sum = row.sum();
                    row /= sum;
                    loss -= row[label].ln();
                    row[label] -= 1.0;
                }
                *scores /= n;
                loss / n
            }

            /// W1 by hand: q = x + y, f = q·z, df/dx = df/dy = z, df/dz = q.
            #[inline]
            pub fn graph(x: $r, y: $r, z: $r) -> ($r, [$r; 3]) {
                let q = x + y;
                (q * z, [z, z, q])
            }

            /// W2's workspace: `h = sigmoid(x·w1)`, `d` (first `y_pred`, then the gradient of
            /// the loss with respect to it), `dh`, and the gradients.
            pub struct TwoLayer {
                h: DMatrix<$r>,
                d: DMatrix<$r>,
                dh: DMatrix<$r>,
                pub gw1: DMatrix<$r>,
                pub gw2: DMatrix<$r>,
            }

            impl TwoLayer {
                pub fn new(x: &DMatrix<$r>, w1: &DMatrix<$r>, w2: &DMatrix<$r>) -> Self {
                    let n = x.nrows();
                    TwoLayer {
                        h: DMatrix::zeros(n, w1.ncols()),
                        d: DMatrix::zeros(n, w2.ncols()),
                        dh: DMatrix::zeros(n, w1.ncols()),
                        gw1: DMatrix::zeros(w1.nrows(), w1.ncols()),
                        gw2: DMatrix::zeros(w2.nrows(), w2.ncols()),
                    }
                }

                /// W2's loss `Σ (sigmoid(x·w1)·w2 − y)²`; the gradients go to `gw1`, `gw2`.
                pub fn grads(
                    &mut self,
                    x: &DMatrix<$r>,
                    y: &DMatrix<$r>,
                    w1: &DMatrix<$r>,
                    w2: &DMatrix<$r>,
                ) -> $r {
                    self.h.gemm(1.0, x, w1, 0.0);
                    self.h.apply(|z| *z = 1.0 / (1.0 + (-*z).exp()));
                    self.d.gemm(1.0, &self.h, w2, 0.0);
                    let mut loss = 0.0;
                    for (d, &y) in self.d.as_mut_slice().iter_mut().zip(y.as_slice()) {
                        let e = *d - y;
                        loss += e * e;
                        *d = 2.0 * e;
                    }
                    tr_mul(&mut self.gw2, &self.h, &self.d);
                    self.dh.gemm(1.0, &self.d, &t(w2), 0.0);
                    self.dh.zip_apply(&self.h, |g, s| *g *= s * (1.0 - s));
                    tr_mul(&mut self.gw1, x, &self.dh);
                    loss
                }

                /// One training step: the loss, the gradients, the SGD update in place.
                pub fn step(
                    &mut self,
                    x: &DMatrix<$r>,
                    y: &DMatrix<$r>,
                    w1: &mut DMatrix<$r>,
                    w2: &mut DMatrix<$r>,
                    lr: $r,
                ) -> $r {
                    let loss = self.grads(x, y, w1, w2);
                    sgd(w1, &self.gw1, lr);
                    sgd(w2, &self.gw2, lr);
                    loss
                }
            }

            /// W3's workspace: the hidden layer, the scores (then their gradient), the
            /// gradient of the hidden layer, and the parameters' gradients.
            pub struct Spiral {
                hidden: DMatrix<$r>,
                scores: DMatrix<$r>,
                d_hidden: DMatrix<$r>,
                pub gw1: DMatrix<$r>,
                pub gb1: RowDVector<$r>,
                pub gw2: DMatrix<$r>,
                pub gb2: RowDVector<$r>,
            }

            impl Spiral {
                pub fn new(x: &DMatrix<$r>, w1: &DMatrix<$r>, w2: &DMatrix<$r>) -> Self {
                    let n = x.nrows();
                    Spiral {
                        hidden: DMatrix::zeros(n, w1.ncols()),
                        scores: DMatrix::zeros(n, w2.ncols()),
                        d_hidden: DMatrix::zeros(n, w1.ncols()),
                        gw1: DMatrix::zeros(w1.nrows(), w1.ncols()),
                        gb1: RowDVector::zeros(w1.ncols()),
                        gw2: DMatrix::zeros(w2.nrows(), w2.ncols()),
                        gb2: RowDVector::zeros(w2.ncols()),
                    }
                }

                /// W3's loss: ReLU hidden layer, biases, mean softmax cross-entropy
                /// + 0.5·reg·(‖W1‖² + ‖W2‖²); the gradients go to `gw1`, `gb1`, `gw2`, `gb2`.
                #[allow(clippy::too_many_arguments)]
                pub fn grads(
                    &mut self,
                    x: &DMatrix<$r>,
                    labels: &[usize],
                    w1: &DMatrix<$r>,
                    b1: &RowDVector<$r>,
                    w2: &DMatrix<$r>,
                    b2: &RowDVector<$r>,
                    reg: $r,
                ) -> $r {
                    self.hidden.gemm(1.0, x, w1, 0.0);
                    bias_relu(&mut self.hidden, b1);
                    self.scores.gemm(1.0, &self.hidden, w2, 0.0);
                    add_bias(&mut self.scores, b2);
                    let data_loss = softmax_cross_entropy(&mut self.scores, labels);
                    let loss = data_loss + 0.5 * reg * (w1.norm_squared() + w2.norm_squared());
                    let d_scores = &self.scores;
                    tr_mul(&mut self.gw2, &self.hidden, d_scores);
                    self.gw2.zip_apply(w2, |g, w| *g += reg * w);
                    column_sums(&mut self.gb2, d_scores);
                    self.d_hidden.gemm(1.0, d_scores, &t(w2), 0.0);
                    relu_back(&mut self.d_hidden, &self.hidden);
                    tr_mul(&mut self.gw1, x, &self.d_hidden);
                    self.gw1.zip_apply(w1, |g, w| *g += reg * w);
                    column_sums(&mut self.gb1, &self.d_hidden);
                    loss
                }

                /// One training step: the loss, the gradients, the SGD update in place.
                #[allow(clippy::too_many_arguments)]
                pub fn step(
                    &mut self,
                    x: &DMatrix<$r>,
                    labels: &[usize],
                    w1: &mut DMatrix<$r>,
                    b1: &mut RowDVector<$r>,
                    w2: &mut DMatrix<$r>,
                    b2: &mut RowDVector<$r>,
                    reg: $r,
                    lr: $r,
                ) -> $r {
                    let loss = self.grads(x, labels, w1, b1, w2, b2, reg);
                    sgd(w1, &self.gw1, lr);
                    sgd(b1, &self.gb1, lr);
                    sgd(w2, &self.gw2, lr);
                    sgd(b2, &self.gb2, lr);
                    loss
                }
            }

            /// W4's workspace: the two hidden layers, the scores (then their gradient), the
            /// hidden layers' gradients, and the parameters' gradients.
            pub struct Wide {
                h1: DMatrix<$r>,
                h2: DMatrix<$r>,
                scores: DMatrix<$r>,
                dh2: DMatrix<$r>,
                dh1: DMatrix<$r>,
                pub gw: [DMatrix<$r>; 3],
                pub gb: [RowDVector<$r>; 3],
            }

            impl Wide {
                pub fn new(x: &DMatrix<$r>, w: &[DMatrix<$r>; 3]) -> Self {
                    let n = x.nrows();
                    Wide {
                        h1: DMatrix::zeros(n, w[0].ncols()),
                        h2: DMatrix::zeros(n, w[1].ncols()),
                        scores: DMatrix::zeros(n, w[2].ncols()),
                        dh2: DMatrix::zeros(n, w[1].ncols()),
                        dh1: DMatrix::zeros(n, w[0].ncols()),
                        gw: w.each_ref().map(|w| DMatrix::zeros(w.nrows(), w.ncols())),
                        gb: w.each_ref().map(|w| RowDVector::zeros(w.ncols())),
                    }
                }

                /// W4's loss: two ReLU layers with biases, then scores and mean softmax
                /// cross-entropy; the gradients go to `gw`, `gb`.
                pub fn grads(
                    &mut self,
                    x: &DMatrix<$r>,
                    labels: &[usize],
                    w: &[DMatrix<$r>; 3],
                    b: &[RowDVector<$r>; 3],
                ) -> $r {
                    self.h1.gemm(1.0, x, &w[0], 0.0);
                    bias_relu(&mut self.h1, &b[0]);
                    self.h2.gemm(1.0, &self.h1, &w[1], 0.0);
                    bias_relu(&mut self.h2, &b[1]);
                    self.scores.gemm(1.0, &self.h2, &w[2], 0.0);
                    add_bias(&mut self.scores, &b[2]);
                    let loss = softmax_cross_entropy(&mut self.scores, labels);
                    let d_scores = &self.scores;
                    tr_mul(&mut self.gw[2], &self.h2, d_scores);
                    column_sums(&mut self.gb[2], d_scores);
                    self.dh2.gemm(1.0, d_scores, &t(&w[2]), 0.0);
                    relu_back(&mut self.dh2, &self.h2);
                    tr_mul(&mut self.gw[1], &self.h1, &self.dh2);
                    column_sums(&mut self.gb[1], &self.dh2);
                    self.dh1.gemm(1.0, &self.dh2, &t(&w[1]), 0.0);
                    relu_back(&mut self.dh1, &self.h1);
                    tr_mul(&mut self.gw[0], x, &self.dh1);
                    column_sums(&mut self.gb[0], &self.dh1);
                    loss
                }

                /// One training step: the loss, the gradients, the SGD update in place.
                pub fn step(
                    &mut self,
                    x: &DMatrix<$r>,
                    labels: &[usize],
                    w: &mut [DMatrix<$r>; 3],
                    b: &mut [RowDVector<$r>; 3],
                    lr: $r,
                ) -> $r {
                    let loss = self.grads(x, labels, w, b);
                    for (w, g) in w.iter_mut().zip(&self.gw) {
                        sgd(w, g, lr);
                    }
                    for (b, g) in b.iter_mut().zip(&self.gb) {
                        sgd(b, g, lr);
                    }
                    loss
                }
            }

            /// W5's workspace: every hidden state h_0 … h_T stacked by rows (h_t in rows t·N …
            /// (t + 1)·N − 1; h_0 = 0 is never written), the gradients of every step's
            /// pre-activation stacked the same way (step t's in rows (t − 1)·N … t·N − 1), the
            /// gradient of the hidden state being walked back, and the parameters' gradients.
            /// Stacked, the products that do not depend on the recurrence are one product each
            /// over all steps: x·Wx, the gradient of Wx and the gradient of Wh.
            pub struct Rnn {
                n: usize,
                hs: DMatrix<$r>,
                dz: DMatrix<$r>,
                dh: DMatrix<$r>,
                pub gwx: DMatrix<$r>,
                pub gwh: DMatrix<$r>,
                pub gb: RowDVector<$r>,
            }

            impl Rnn {
                /// For inputs `x` (T·N × D, step t's in rows (t − 1)·N … t·N − 1) and targets
                /// `y` (N × H).
                pub fn new(x: &DMatrix<$r>, y: &DMatrix<$r>) -> Self {
                    let (n, h) = y.shape();
                    assert!(
                        n > 0 && x.nrows() % n == 0,
                        "x holds whole steps of y's batch"
                    );
                    let steps = x.nrows() / n;
                    Rnn {
                        n,
                        hs: DMatrix::zeros((steps + 1) * n, h),
                        dz: DMatrix::zeros(steps * n, h),
                        dh: DMatrix::zeros(n, h),
                        gwx: DMatrix::zeros(x.ncols(), h),
                        gwh: DMatrix::zeros(h, h),
                        gb: RowDVector::zeros(h),
                    }
                }

                /// W5's loss `Σ (h_T − y)²` with h_0 = 0 and h_t = tanh(x_t·Wx + h_{t−1}·Wh + b);
                /// the gradients go to `gwx`, `gwh`, `gb`.
                pub fn grads(
                    &mut self,
                    x: &DMatrix<$r>,
                    y: &DMatrix<$r>,
                    wx: &DMatrix<$r>,
                    wh: &DMatrix<$r>,
                    b: &RowDVector<$r>,
                ) -> $r {
                    let n = self.n;
                    let steps = self.dz.nrows() / n;
                    // Forward. Every step's x_t·Wx + b at once, into h_1 … h_T.
                    self.hs.rows_mut(n, steps * n).gemm(1.0, x, wx, 0.0);
                    for (col, &bj) in block_columns(&mut self.hs, n, steps * n).zip(b.iter()) {
                        col.iter_mut().for_each(|v| *v += bj);
                    }
                    // Then the recurrence (h_0 = 0: step 1 has no recurrent product).
                    for k in 1..=steps {
                        if k > 1 {
                            let (prev, mut cur) = self
                                .hs
                                .rows_range_pair_mut((k - 1) * n..k * n, k * n..(k + 1) * n);
                            cur.gemm(1.0, &prev, wh, 1.0);
                        }
                        for col in block_columns(&mut self.hs, k * n, n) {
                            col.iter_mut().for_each(|v| *v = v.tanh());
                        }
                    }
                    // The loss; dh ← its gradient with respect to h_T, 2·(h_T − y).
                    let rows = self.hs.nrows();
                    let last = self
                        .hs
                        .as_slice()
                        .chunks_exact(rows)
                        .map(|c| &c[steps * n..]);
                    let mut loss = 0.0;
                    for ((d, h), y) in columns(&mut self.dh)
                        .zip(last)
                        .zip(y.as_slice().chunks_exact(n))
                    {
                        for ((d, &h), &y) in d.iter_mut().zip(h).zip(y) {
                            let e = h - y;
                            loss += e * e;
                            *d = 2.0 * e;
                        }
                    }
                    // Backward through time: dz_t = dh ⊙ (1 − h_t²), then dh ← dz_t·Whᵀ, the
                    // gradient of h_{t−1} (not needed for h_0).
                    for k in (1..=steps).rev() {
                        let h = self
                            .hs
                            .as_slice()
                            .chunks_exact(rows)
                            .map(|c| &c[k * n..(k + 1) * n]);
                        let dh = self.dh.as_slice().chunks_exact(n);
                        for ((dz, h), dh) in block_columns(&mut self.dz, (k - 1) * n, n).zip(h).zip(dh) {
                            for ((dz, &h), &dh) in dz.iter_mut().zip(h).zip(dh) {
                                *dz = dh * (1.0 - h * h);
                            }
                        }
                        if k > 1 {
                            self.dh
                                .gemm(1.0, &self.dz.rows((k - 1) * n, n), &t(wh), 0.0);
                        }
                    }
                    // The parameters' gradients, each one product over the stacked steps:
                    // Σ_t x_tᵀ·dz_t, Σ_{t≥2} h_{t−1}ᵀ·dz_t (h_0 = 0), Σ_t column sums of dz_t.
                    tr_mul(&mut self.gwx, x, &self.dz);
                    if steps > 1 {
                        // Rows N … T·N − 1: h_1 … h_{T−1} in `hs`, dz_2 … dz_T in `dz`.
                        tr_mul_rows(&mut self.gwh, &self.hs, &self.dz, n, (steps - 1) * n);
                    } else {
                        self.gwh.fill(0.0);
                    }
                    column_sums(&mut self.gb, &self.dz);
                    loss
                }

                /// One training step: the loss, the gradients, the SGD update in place.
                pub fn step(
                    &mut self,
                    x: &DMatrix<$r>,
                    y: &DMatrix<$r>,
                    wx: &mut DMatrix<$r>,
                    wh: &mut DMatrix<$r>,
                    b: &mut RowDVector<$r>,
                    lr: $r,
                ) -> $r {
                    let loss = self.grads(x, y, wx, wh, b);
                    sgd(wx, &self.gwx, lr);
                    sgd(wh, &self.gwh, lr);
                    sgd(b, &self.gb, lr);
                    loss
                }
            }

            /// W6 by hand: the Gaussian process's negative log marginal likelihood and its
            /// gradient in the log-hyperparameters `θ = (log ℓ, log σ²_f, log σ²_n)` by the
            /// textbook formula `∂/∂θⱼ = ½ tr((K⁻¹ − ααᵀ)·∂K/∂θⱼ)`, `α = K⁻¹y`: one Cholesky
            /// factorization, `K⁻¹` from it, and one pass over the n² entries for the three
            /// traces (`∂K/∂log ℓ = K_f ⊙ D / ℓ²`, `∂K/∂log σ²_f = K_f`, `∂K/∂log σ²_n = σ²_n·I`).
            /// The kernel matrices are allocated per step (n² each, against the n³ work).
            pub fn gp(d2: &DMatrix<$r>, y: &DVector<$r>, theta: [$r; 3]) -> ($r, [$r; 3]) {
                let n = y.len();
                let inv_l2 = (-2.0 * theta[0]).exp();
                let (sf2, sn2) = (theta[1].exp(), theta[2].exp());
                let kf = d2.map(|v| sf2 * (-0.5 * inv_l2 * v).exp());
                let mut k = kf.clone();
                for i in 0..n {
                    k[(i, i)] += sn2;
                }
                let chol = k.cholesky().expect("K is positive definite");
                let alpha = chol.solve(y);
                let half_log_det: $r = chol.l_dirty().diagonal().iter().map(|v| v.ln()).sum();
                let two_pi: $r = 2.0 * std::$r::consts::PI;
                let loss = 0.5 * y.dot(&alpha) + half_log_det + 0.5 * n as $r * two_pi.ln();
                let kinv = chol.inverse();
                let (mut g_l, mut g_f, mut g_n) = (0.0, 0.0, 0.0);
                for j in 0..n {
                    for i in 0..n {
                        let w = kinv[(i, j)] - alpha[i] * alpha[j];
                        let f = w * kf[(i, j)];
                        g_f += f;
                        g_l += f * d2[(i, j)];
                    }
                    g_n += kinv[(j, j)] - alpha[j] * alpha[j];
                }
                (loss, [0.5 * inv_l2 * g_l, 0.5 * g_f, 0.5 * sn2 * g_n])
            }
        }
    };
}

hand!(double, f64);
hand!(single, f32);
