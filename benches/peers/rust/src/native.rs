//! "ours" and "hand" on W1–W7: validation on the fixtures, then the timed
//! steps.
//! One step = loss and gradients, then the SGD update `p ← p − lr·g` (W1: value and
//! gradient only; W7: value, gradient and Hessian-vector product, no update, ours only).

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Imp {
    Ours,
    Hand,
}

macro_rules! native {
    ($m:ident, $r:ident) => {
        pub mod $m {
            use super::Imp;
            use crate::data::{self, relative_error};
            use crate::timing::{emit, measure};
            use crate::{hand, ours};
            use autodiff::optim::sgd_update;
            use autodiff::prelude::*;
            use std::hint::black_box;

            type R = $r;
            const DTYPE: &str = stringify!($r);

            fn m(a: &DMatrix<f64>) -> DMatrix<R> {
                a.map(|v| v as R)
            }
            fn r(a: &RowDVector<f64>) -> RowDVector<R> {
                a.map(|v| v as R)
            }
            fn rm(a: &DMatrix<R>) -> Vec<f64> {
                data::row_major(a)
            }
            fn rv(a: &RowDVector<R>) -> Vec<f64> {
                a.iter().map(|&v| v as f64).collect()
            }
            fn err_m(got: &DMatrix<R>, name: &str) -> f64 {
                relative_error(&rm(got), &data::read(name).1)
            }
            fn err_r(got: &RowDVector<R>, name: &str) -> f64 {
                relative_error(&rv(got), &data::read(name).1)
            }
            fn err_s(got: R, want: f64) -> f64 {
                ((got as f64 - want) / want).abs()
            }

            pub fn w1(imp: Imp, threads: usize, budget: f64, name: &str) {
                let (x, y, z): (R, R, R) = (-2.0, 5.0, -4.0);
                let (v, g) = match imp {
                    Imp::Ours => {
                        let (v, g) = ours::$m::graph_grad(x, y, z);
                        (v, [g.x, g.y, g.z])
                    }
                    Imp::Hand => hand::$m::graph(x, y, z),
                };
                let err = err_s(v, -12.0).max(relative_error(&g.map(|v| v as f64), &[-4.0, -4.0, 3.0]));
                let t = match imp {
                    Imp::Ours => measure(
                        || {
                            let (v, g) = ours::$m::graph_grad(black_box(x), black_box(y), black_box(z));
                            black_box((g.x, g.y, g.z));
                            v as f64
                        },
                        budget,
                    ),
                    Imp::Hand => measure(
                        || {
                            let (v, g) = hand::$m::graph(black_box(x), black_box(y), black_box(z));
                            black_box(g);
                            v as f64
                        },
                        budget,
                    ),
                };
                emit(name, DTYPE, "W1", threads, err, &t);
            }

            struct W2 {
                x: DMatrix<R>,
                y: DMatrix<R>,
                w1: DMatrix<R>,
                w2: DMatrix<R>,
                hand: hand::$m::TwoLayer,
            }

            impl W2 {
                fn new([x, y, w1, w2]: [DMatrix<f64>; 4]) -> Self {
                    let (x, y, w1, w2) = (m(&x), m(&y), m(&w1), m(&w2));
                    let hand = hand::$m::TwoLayer::new(&x, &w1, &w2);
                    W2 { x, y, w1, w2, hand }
                }
                fn grads(&mut self, imp: Imp) -> (R, DMatrix<R>, DMatrix<R>) {
                    match imp {
                        Imp::Ours => {
                            let (l, g) = ours::$m::two_layer_loss_grad(&self.x, &self.y, &self.w1, &self.w2);
                            (l, g.w1, g.w2)
                        }
                        Imp::Hand => {
                            let l = self.hand.grads(&self.x, &self.y, &self.w1, &self.w2);
                            (l, self.hand.gw1.clone(), self.hand.gw2.clone())
                        }
                    }
                }
                fn step(&mut self, imp: Imp) -> R {
                    let lr: R = 1e-4;
                    match imp {
                        Imp::Ours => {
                            let (l, g) = ours::$m::two_layer_loss_grad(&self.x, &self.y, &self.w1, &self.w2);
                            // Applied, then given back to the pool for the next step (README,
                            // "Memory across steps").
                            sgd_update(&mut self.w1, lr, g.w1);
                            sgd_update(&mut self.w2, lr, g.w2);
                            l
                        }
                        Imp::Hand => self
                            .hand
                            .step(&self.x, &self.y, &mut self.w1, &mut self.w2, lr),
                    }
                }
            }

            pub fn w2(imp: Imp, threads: usize, budget: f64, name: &str) {
                let mut s = W2::new(["w2s_x", "w2s_y", "w2s_w1", "w2s_w2"].map(data::matrix));
                let (l, g1, g2) = s.grads(imp);
                let mut err = err_s(l, data::scalar("w2s_loss"))
                    .max(err_m(&g1, "w2s_grad_w1"))
                    .max(err_m(&g2, "w2s_grad_w2"));
                s.step(imp);
                err = err.max(err_s(s.step(imp), data::scalar("w2s_loss_after_1_step")));
                let mut s = W2::new(data::w2_full());
                let t = measure(|| s.step(imp) as f64, budget);
                emit(name, DTYPE, "W2", threads, err, &t);
            }

            struct W3 {
                x: DMatrix<R>,
                labels: Vec<usize>,
                w1: DMatrix<R>,
                b1: RowDVector<R>,
                w2: DMatrix<R>,
                b2: RowDVector<R>,
                hand: hand::$m::Spiral,
            }

            const W3_REG: R = 1e-3;

            impl W3 {
                fn fixture() -> Self {
                    let (x, w1, w2) = (
                        m(&data::matrix("w3_X")),
                        m(&data::matrix("w3_W1")),
                        m(&data::matrix("w3_W2")),
                    );
                    let hand = hand::$m::Spiral::new(&x, &w1, &w2);
                    W3 {
                        x,
                        labels: data::labels("w3_y"),
                        w1,
                        b1: r(&data::row("w3_b1")),
                        w2,
                        b2: r(&data::row("w3_b2")),
                        hand,
                    }
                }
                fn grads(&mut self, imp: Imp) -> (R, DMatrix<R>, RowDVector<R>, DMatrix<R>, RowDVector<R>) {
                    let W3 {
                        x,
                        labels,
                        w1,
                        b1,
                        w2,
                        b2,
                        hand,
                    } = self;
                    match imp {
                        Imp::Ours => {
                            let (l, g) = ours::$m::spiral_loss_grad(x, labels, w1, b1, w2, b2, W3_REG);
                            (l, g.w1, g.b1, g.w2, g.b2)
                        }
                        Imp::Hand => {
                            let l = hand.grads(x, labels, w1, b1, w2, b2, W3_REG);
                            (
                                l,
                                hand.gw1.clone(),
                                hand.gb1.clone(),
                                hand.gw2.clone(),
                                hand.gb2.clone(),
                            )
                        }
                    }
                }
                fn step(&mut self, imp: Imp) -> R {
                    let lr: R = 1.0;
                    match imp {
                        Imp::Ours => {
                            let (l, gw1, gb1, gw2, gb2) = self.grads(imp);
                            sgd_update(&mut self.w1, lr, gw1);
                            sgd_update(&mut self.b1, lr, gb1);
                            sgd_update(&mut self.w2, lr, gw2);
                            sgd_update(&mut self.b2, lr, gb2);
                            l
                        }
                        Imp::Hand => {
                            let W3 {
                                x,
                                labels,
                                w1,
                                b1,
                                w2,
                                b2,
                                hand,
                            } = self;
                            hand.step(x, labels, w1, b1, w2, b2, W3_REG, lr)
                        }
                    }
                }
            }

            pub fn w3(imp: Imp, threads: usize, budget: f64, name: &str) {
                let mut s = W3::fixture();
                let (l, gw1, gb1, gw2, gb2) = s.grads(imp);
                let trace = data::matrix("w3_loss_trace");
                let mut err = err_s(l, data::scalar("w3_loss"))
                    .max(err_m(&gw1, "w3_grad_W1"))
                    .max(err_r(&gb1, "w3_grad_b1"))
                    .max(err_m(&gw2, "w3_grad_W2"))
                    .max(err_r(&gb2, "w3_grad_b2"));
                for k in 0..3 {
                    assert_eq!(trace[(k, 0)], k as f64);
                    err = err.max(err_s(s.step(imp), trace[(k, 1)]));
                }
                let mut s = W3::fixture();
                let t = measure(|| s.step(imp) as f64, budget);
                emit(name, DTYPE, "W3", threads, err, &t);
            }

            struct W4 {
                x: DMatrix<R>,
                labels: Vec<usize>,
                w: [DMatrix<R>; 3],
                b: [RowDVector<R>; 3],
                hand: hand::$m::Wide,
            }

            impl W4 {
                fn new(
                    x: &DMatrix<f64>,
                    labels: Vec<usize>,
                    w: &[DMatrix<f64>; 3],
                    b: &[RowDVector<f64>; 3],
                ) -> Self {
                    let (x, w, b) = (m(x), w.each_ref().map(m), b.each_ref().map(r));
                    let hand = hand::$m::Wide::new(&x, &w);
                    W4 {
                        x,
                        labels,
                        w,
                        b,
                        hand,
                    }
                }
                fn grads(&mut self, imp: Imp) -> (R, [DMatrix<R>; 3], [RowDVector<R>; 3]) {
                    let [w1, w2, w3] = &self.w;
                    let [b1, b2, b3] = &self.b;
                    match imp {
                        Imp::Ours => {
                            let (l, g) =
                                ours::$m::wide_loss_grad(&self.x, &self.labels, w1, b1, w2, b2, w3, b3);
                            (l, [g.w1, g.w2, g.w3], [g.b1, g.b2, g.b3])
                        }
                        Imp::Hand => {
                            let l = self.hand.grads(&self.x, &self.labels, &self.w, &self.b);
                            (l, self.hand.gw.clone(), self.hand.gb.clone())
                        }
                    }
                }
                fn step(&mut self, imp: Imp) -> R {
                    let lr: R = 0.01;
                    match imp {
                        Imp::Ours => {
                            let (l, gw, gb) = self.grads(imp);
                            for (w, g) in self.w.iter_mut().zip(gw) {
                                sgd_update(w, lr, g);
                            }
                            for (b, g) in self.b.iter_mut().zip(gb) {
                                sgd_update(b, lr, g);
                            }
                            l
                        }
                        Imp::Hand => self
                            .hand
                            .step(&self.x, &self.labels, &mut self.w, &mut self.b, lr),
                    }
                }
            }

            pub fn w4(imp: Imp, threads: usize, budget: f64, name: &str) {
                let mut s = W4::new(
                    &data::matrix("w4s_x"),
                    data::labels("w4s_y"),
                    &["w4s_W1", "w4s_W2", "w4s_W3"].map(data::matrix),
                    &["w4s_b1", "w4s_b2", "w4s_b3"].map(data::row),
                );
                let (l, gw, gb) = s.grads(imp);
                let mut err = err_s(l, data::scalar("w4s_loss"));
                for k in 0..3 {
                    err = err.max(err_m(&gw[k], &format!("w4s_grad_W{}", k + 1)));
                    err = err.max(err_r(&gb[k], &format!("w4s_grad_b{}", k + 1)));
                }
                let full = data::w4_full();
                let mut s = W4::new(&full.x, full.labels.clone(), &full.w, &full.b);
                let t = measure(|| s.step(imp) as f64, budget);
                emit(name, DTYPE, "W4", threads, err, &t);
            }

            struct W5 {
                x: DMatrix<R>,
                /// Each step's input, for ours (the loop iterates over them).
                xs: Vec<DMatrix<R>>,
                y: DMatrix<R>,
                wx: DMatrix<R>,
                wh: DMatrix<R>,
                b: RowDVector<R>,
                hand: hand::$m::Rnn,
            }

            const W5_LR: R = 1e-3;

            impl W5 {
                fn new(d: &data::W5) -> Self {
                    let (x, y) = (m(&d.x), m(&d.y));
                    let n = y.nrows();
                    let xs = (0..x.nrows() / n)
                        .map(|t| x.rows(t * n, n).into_owned())
                        .collect();
                    let hand = hand::$m::Rnn::new(&x, &y);
                    W5 {
                        x,
                        xs,
                        y,
                        wx: m(&d.wx),
                        wh: m(&d.wh),
                        b: r(&d.b),
                        hand,
                    }
                }
                fn grads(&mut self, imp: Imp) -> (R, DMatrix<R>, DMatrix<R>, RowDVector<R>) {
                    match imp {
                        Imp::Ours => {
                            let (l, g) =
                                ours::$m::rnn_loss_grad(&self.xs, &self.y, &self.wx, &self.wh, &self.b);
                            (l, g.wx, g.wh, g.b)
                        }
                        Imp::Hand => {
                            let l = self
                                .hand
                                .grads(&self.x, &self.y, &self.wx, &self.wh, &self.b);
                            let hand = &self.hand;
                            (l, hand.gwx.clone(), hand.gwh.clone(), hand.gb.clone())
                        }
                    }
                }
                fn step(&mut self, imp: Imp) -> R {
                    let W5 {
                        x,
                        xs,
                        y,
                        wx,
                        wh,
                        b,
                        hand,
                    } = self;
                    match imp {
                        Imp::Ours => {
                            let (l, g) = ours::$m::rnn_loss_grad(xs, y, wx, wh, b);
                            sgd_update(wx, W5_LR, g.wx);
                            sgd_update(wh, W5_LR, g.wh);
                            sgd_update(b, W5_LR, g.b);
                            l
                        }
                        Imp::Hand => hand.step(x, y, wx, wh, b, W5_LR),
                    }
                }
            }

            /// W5, the tanh RNN: ours (a `for` loop inside `#[differentiate]`) and the
            /// hand-written backpropagation through time.
            pub fn w5(imp: Imp, threads: usize, budget: f64, name: &str) {
                let mut s = W5::new(&data::w5_fixture());
                let (l, gwx, gwh, gb) = s.grads(imp);
                let err = err_s(l, data::scalar("w5s_loss"))
                    .max(err_m(&gwx, "w5s_grad_Wx"))
                    .max(err_m(&gwh, "w5s_grad_Wh"))
                    .max(err_r(&gb, "w5s_grad_b"));
                s.step(imp);
                let err = err.max(err_s(s.step(imp), data::scalar("w5s_loss_after_1_step")));
                let mut s = W5::new(&data::w5_full());
                let t = measure(|| s.step(imp) as f64, budget);
                emit(name, DTYPE, "W5", threads, err, &t);
            }

            /// W6's data, cast to the dtype, and its log-hyperparameters.
            struct W6 {
                d2: DMatrix<R>,
                y: DVector<R>,
                theta: [R; 3],
            }

            const W6_LR: R = 1e-3;

            impl W6 {
                fn new(d: &data::W6) -> Self {
                    W6 {
                        d2: m(&d.d2),
                        y: d.y.map(|v| v as R),
                        theta: d.theta.map(|v| v as R),
                    }
                }
                fn grads(&self, imp: Imp) -> (R, [R; 3]) {
                    let [log_l, log_sf2, log_sn2] = self.theta;
                    match imp {
                        Imp::Ours => {
                            let (l, g) = ours::$m::gp_loss_grad(&self.d2, &self.y, log_l, log_sf2, log_sn2);
                            (l, [g.log_l, g.log_sf2, g.log_sn2])
                        }
                        Imp::Hand => hand::$m::gp(&self.d2, &self.y, self.theta),
                    }
                }
                fn step(&mut self, imp: Imp) -> R {
                    let (l, g) = self.grads(imp);
                    for (t, g) in self.theta.iter_mut().zip(g) {
                        *t -= W6_LR * g;
                    }
                    l
                }
            }

            /// W6, the Gaussian process's negative log marginal likelihood: ours (Cholesky
            /// rules inside `#[differentiate]`) and the textbook gradient by hand.
            pub fn w6(imp: Imp, threads: usize, budget: f64, name: &str) {
                let mut s = W6::new(&data::w6_fixture());
                let (l, g) = s.grads(imp);
                let err = err_s(l, data::scalar("w6s_loss")).max(relative_error(
                    &g.map(|v| v as f64),
                    &data::read("w6s_grad").1,
                ));
                s.step(imp);
                let err = err.max(err_s(s.step(imp), data::scalar("w6s_loss_after_1_step")));
                let mut s = W6::new(&data::w6_full());
                let t = measure(|| s.step(imp) as f64, budget);
                emit(name, DTYPE, "W6", threads, err, &t);
            }

            /// W7: the value, the gradient and the Hessian-vector product of W3's loss at
            /// W3's initial parameters along `data::w7_direction()`, every step at the same
            /// point (no update). Ours only: the hand-written code has no second order.
            pub fn w7(imp: Imp, threads: usize, budget: f64, name: &str) {
                if imp != Imp::Ours {
                    eprintln!("  {name:<10} {DTYPE} W7: not implemented (no Hessian-vector product by hand)");
                    return;
                }
                let s = W3::fixture();
                let (v1, vb1, v2, vb2) = data::w7_direction();
                let v = ours::$m::SpiralLossGrad {
                    w1: m(&v1),
                    b1: r(&vb1),
                    w2: m(&v2),
                    b2: r(&vb2),
                };
                let hvp = |v: ours::$m::SpiralLossGrad| {
                    ours::$m::spiral_loss_hvp(&s.x, &s.labels, &s.w1, &s.b1, &s.w2, &s.b2, W3_REG, v)
                };
                let (l, g, hv) = hvp(v.clone());
                let err = err_s(l, data::scalar("w3_loss"))
                    .max(err_m(&g.w1, "w3_grad_W1"))
                    .max(err_r(&g.b1, "w3_grad_b1"))
                    .max(err_m(&g.w2, "w3_grad_W2"))
                    .max(err_r(&g.b2, "w3_grad_b2"))
                    .max(err_m(&hv.w1, "w7_hv_W1"))
                    .max(err_r(&hv.b1, "w7_hv_b1"))
                    .max(err_m(&hv.w2, "w7_hv_W2"))
                    .max(err_r(&hv.b2, "w7_hv_b2"));
                let t = measure(
                    || {
                        let (l, g, hv) = hvp(black_box(v.clone()));
                        black_box((g, hv));
                        l as f64
                    },
                    budget,
                );
                emit(name, DTYPE, "W7", threads, err, &t);
            }
        }
    };
}

native!(double, f64);
native!(single, f32);
