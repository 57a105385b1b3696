//! The lecture's twenty-line numpy training loop, with the gradient derived at compile time
//! instead of by hand: a two-layer net (N=64, D_in=1000, H=100, D_out=10), sigmoid hidden
//! layer, sum-of-squares loss, 2000 steps of gradient descent at learning rate 1e-4.
//!
//! Run with `cargo run --release --example two_layer`.

use autodiff::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// h = sigmoid(x·w1), y_pred = h·w2, loss = Σ(y_pred − y)²: the data x and targets y are
/// constants, so no work is spent on their derivatives.
#[differentiate(wrt(w1, w2))]
fn loss(x: &DMatrix<f64>, y: &DMatrix<f64>, w1: &DMatrix<f64>, w2: &DMatrix<f64>) -> f64 {
    let h = sigmoid(x * w1);
    let y_pred = &h * w2;
    (y_pred - y).norm_squared()
}

fn randn(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| rand::Rng::sample(rng, StandardNormal))
}

fn main() {
    let (n, d_in, h, d_out) = (64, 1000, 100, 10);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let x = randn(&mut rng, n, d_in);
    let y = randn(&mut rng, n, d_out);
    let mut w1 = randn(&mut rng, d_in, h);
    let mut w2 = randn(&mut rng, h, d_out);
    let learning_rate = 1e-4;
    for t in 0..2000 {
        let (value, grad) = loss_grad(&x, &y, &w1, &w2);
        if t % 100 == 0 || t == 1999 {
            println!("{t:5} {value:.6}");
        }
        w1 -= learning_rate * grad.w1;
        w2 -= learning_rate * grad.w2;
    }
}
