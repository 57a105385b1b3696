//! A model written as a Rust struct, its loss as a `&self` method: the gradient of `self` is
//! derived, and Adam steps the struct in place, as a PyTorch user writes `loss.backward();
//! opt.step()`.
//!
//! The model: two hidden ReLU layers (64 → 32 → 32 → 10) whose scores are divided by a
//! learned temperature, `softplus(t)`, positive for any `t`. `softplus(t) = ln(1 + eᵗ)` has a
//! derivative rule of our own (`vjp = softplus_rule`): computed naively, `eᵗ` overflows for
//! large `t`, and the derivative, the sigmoid of `t`, is simplest written directly. Trained on
//! the UCI 8×8 handwritten digits (80% of the images, minibatches of 32), it is tested on the
//! other 20%.
//!
//! Run with `cargo run --release --example model_struct`.

use autodiff::data::Dataset;
use autodiff::init::{seeded_rng, Init};
use autodiff::nn::argmax_rows;
use autodiff::optim::{Adam, Optimizer};
use autodiff::prelude::*;
use rand::seq::SliceRandom;
use std::error::Error;

#[path = "common/digits.rs"]
mod digits;

/// `ln(1 + eᵗ)`, without overflow for large `t`.
#[differentiate(vjp = softplus_rule)]
fn softplus(t: f64) -> f64 {
    t.max(0.0) + (-t.abs()).exp().ln_1p()
}

/// The derivative of softplus, the sigmoid `1 / (1 + e⁻ᵗ)`, times the seed.
fn softplus_rule(t: f64, _value: &f64, seed: f64) -> SoftplusGrad {
    SoftplusGrad {
        t: seed / (1.0 + (-t).exp()),
    }
}

/// The network: every field a parameter, all of them learned.
#[derive(Parameters, Clone, Debug, PartialEq)]
struct Model {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
    w3: DMatrix<f64>,
    b3: RowDVector<f64>,
    /// The temperature is `softplus(t)`.
    t: f64,
}

#[differentiate]
impl Model {
    /// The class scores of a batch (one image a row), divided by the temperature.
    #[differentiate]
    fn scores(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let h1 = relu(add_bias(x * &self.w1, &self.b1));
        let h2 = relu(add_bias(&h1 * &self.w2, &self.b2));
        add_bias(&h2 * &self.w3, &self.b3) / softplus(self.t)
    }

    /// Softmax cross-entropy of the scores, plus L2 on the weights.
    #[differentiate(wrt(self))]
    fn loss(&self, x: &DMatrix<f64>, labels: &[usize], lambda: f64) -> f64 {
        let weights = self.w1.norm_squared() + self.w2.norm_squared() + self.w3.norm_squared();
        softmax_cross_entropy(&self.scores(x), labels) + 0.5 * lambda * weights
    }

    /// He-initialised weights, zero biases, temperature softplus(0.5) ≈ 0.97.
    fn new(sizes: [usize; 4], seed: u64) -> Model {
        let mut rng = seeded_rng(seed);
        let mut layer = |i: usize| {
            let w = Init::He.weights(sizes[i], sizes[i + 1], &mut rng);
            (w, RowDVector::zeros(sizes[i + 1]))
        };
        let ((w1, b1), (w2, b2), (w3, b3)) = (layer(0), layer(1), layer(2));
        Model {
            w1,
            b1,
            w2,
            b2,
            w3,
            b3,
            t: 0.5,
        }
    }

    /// The fraction of the rows of `x` classified as their label.
    fn accuracy(&self, data: &Dataset) -> f64 {
        autodiff::data::accuracy(&argmax_rows(&self.scores(&data.x)), &data.labels)
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let images = digits::load_digits()?;
    let (train_set, test_set) = images.split(0.2, &mut seeded_rng(0));
    let mut model = Model::new([64, 32, 32, 10], 1);
    let mut adam = Adam::new(2e-3);
    let mut order: Vec<usize> = (0..train_set.len()).collect();
    let mut rng = seeded_rng(2);
    let lambda = 1e-4;
    for epoch in 1..=40 {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for batch in order.chunks(32) {
            let batch = train_set.select(batch);
            // The loss and the gradient of `self`, a `Model` of the same shapes...
            let (loss, grad) = model.loss_grad(&batch.x, &batch.labels, lambda);
            // ... and one optimizer step on every field.
            adam.update(&mut model, &grad.self_);
            total += loss;
        }
        if epoch % 10 == 0 {
            let batches = order.len().div_ceil(32) as f64;
            println!(
                "epoch {epoch:2}: mean loss {:.4}, training accuracy {:.1}%, temperature {:.3}",
                total / batches,
                100.0 * model.accuracy(&train_set),
                softplus(model.t)
            );
        }
    }
    let accuracy = model.accuracy(&test_set);
    println!(
        "held-out accuracy: {:.1}% on {} images",
        100.0 * accuracy,
        test_set.len()
    );
    if accuracy < 0.95 {
        return Err(format!("expected at least 95% held-out accuracy, got {accuracy}").into());
    }
    Ok(())
}
