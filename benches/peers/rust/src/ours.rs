//! "ours": the workloads written as a user writes them with `#[differentiate]`. W2 and W3
//! are copied from `tests/common/workloads.rs`; W4, W5 and W6 are written the same way, inline;
//! W7 is W3's function with `hvp` added to its attribute. Each is stamped out for `f64` and
//! `f32` (the scalar type is substituted as a plain identifier, so the macro sees `f64`/`f32`
//! exactly as if written by hand).

macro_rules! ours {
    ($m:ident, $r:ident) => {
        pub mod $m {
            use autodiff::prelude::*;

            /// W1: f = (x + y)·z.
            #[differentiate]
            pub fn graph(x: $r, y: $r, z: $r) -> $r {
                let q = x + y;
                q * z
            }

            /// W2: h = sigmoid(x·w1), y_pred = h·w2, loss = Σ(y_pred − y)².
            #[differentiate(wrt(w1, w2))]
            pub fn two_layer_loss(
                x: &DMatrix<$r>,
                y: &DMatrix<$r>,
                w1: &DMatrix<$r>,
                w2: &DMatrix<$r>,
            ) -> $r {
                let h = sigmoid(x * w1);
                let y_pred = &h * w2;
                (y_pred - y).norm_squared()
            }

            /// W3: 2 → H → 3, ReLU, biases, mean softmax cross-entropy + 0.5·reg·(‖W1‖² + ‖W2‖²).
            /// With `hvp`, also W7: `spiral_loss_hvp` gives the value, the gradient and the
            /// Hessian-vector product along a direction.
            #[differentiate(wrt(w1, b1, w2, b2), hvp)]
            pub fn spiral_loss(
                x: &DMatrix<$r>,
                labels: &[usize],
                w1: &DMatrix<$r>,
                b1: &RowDVector<$r>,
                w2: &DMatrix<$r>,
                b2: &RowDVector<$r>,
                reg: $r,
            ) -> $r {
                let hidden = relu(add_bias(x * w1, b1));
                let scores = add_bias(&hidden * w2, b2);
                let data_loss = softmax_cross_entropy(&scores, labels);
                let reg_loss = 0.5 * reg * (w1.norm_squared() + w2.norm_squared());
                data_loss + reg_loss
            }

            /// W4: two ReLU layers with biases, then scores and mean softmax cross-entropy.
            #[differentiate(wrt(w1, b1, w2, b2, w3, b3))]
            #[allow(clippy::too_many_arguments)]
            pub fn wide_loss(
                x: &DMatrix<$r>,
                labels: &[usize],
                w1: &DMatrix<$r>,
                b1: &RowDVector<$r>,
                w2: &DMatrix<$r>,
                b2: &RowDVector<$r>,
                w3: &DMatrix<$r>,
                b3: &RowDVector<$r>,
            ) -> $r {
                let h1 = relu(add_bias(x * w1, b1));
                let h2 = relu(add_bias(&h1 * w2, b2));
                let scores = add_bias(&h2 * w3, b3);
                softmax_cross_entropy(&scores, labels)
            }

            /// W5: `h_t = tanh(x_t·Wx + h_{t−1}·Wh + b)` from `h_0 = 0`, the recurrence a plain
            /// `for` loop over the steps' inputs, then `loss = Σ(h_T − y)²`.
            #[differentiate(wrt(wx, wh, b))]
            pub fn rnn_loss(
                xs: &[DMatrix<$r>],
                y: &DMatrix<$r>,
                wx: &DMatrix<$r>,
                wh: &DMatrix<$r>,
                b: &RowDVector<$r>,
            ) -> $r {
                let mut h: DMatrix<$r> = DMatrix::zeros(y.nrows(), y.ncols());
                for x in xs.iter() {
                    h = tanh(add_bias(x * wx + &h * wh, b));
                }
                (h - y).norm_squared()
            }

            /// W6: the negative log marginal likelihood of a Gaussian process with a squared
            /// exponential kernel, `½ yᵀK⁻¹y + Σ log Lᵢᵢ + (n/2) log 2π` with `K = σ²_f ·
            /// exp(−D / 2ℓ²) + σ²_n·I = L·Lᵀ`, `D` the squared distances of the inputs (data),
            /// in the log-hyperparameters `log ℓ`, `log σ²_f`, `log σ²_n`.
            #[differentiate(wrt(log_l, log_sf2, log_sn2))]
            pub fn gp_loss(d2: &DMatrix<$r>, y: &DVector<$r>, log_l: $r, log_sf2: $r, log_sn2: $r) -> $r {
                let n = y.len();
                let sf2 = log_sf2.exp();
                let rate = -0.5 * (-2.0 * log_l).exp(); // −1 / 2ℓ²
                let k = d2.map(|v| sf2 * (rate * v).exp()) + DMatrix::identity(n, n) * log_sn2.exp();
                let c = k.cholesky().unwrap();
                let alpha = c.solve(y);
                let l = c.l();
                let mut half_log_det = 0.0;
                for i in 0..n {
                    half_log_det += l[(i, i)].ln();
                }
                let two_pi: $r = 2.0 * std::$r::consts::PI;
                0.5 * y.dot(&alpha) + half_log_det + 0.5 * n as $r * two_pi.ln()
            }
        }
    };
}

ours!(double, f64);
ours!(single, f32);
