//! The lecture's examples: the computational graph f = (x + y)·z, and the two-layer net
//! whose gradients the lecture derives by hand.

mod common;

use autodiff::prelude::*;
use common::{hand, workloads};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

#[differentiate]
fn f(x: f64, y: f64, z: f64) -> f64 {
    let q = x + y;
    q * z
}

#[test]
fn computational_graph_gives_the_slide_numbers() {
    let (value, grad) = f_grad(-2.0, 5.0, -4.0);
    assert_eq!(value, -12.0);
    assert_eq!((grad.x, grad.y, grad.z), (-4.0, -4.0, 3.0));
}

fn randn(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| rand::Rng::sample(rng, StandardNormal))
}

#[test]
fn two_layer_net_matches_hand_written_backprop() {
    let (n, d_in, h, d_out) = (64, 1000, 100, 10);
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let x = randn(&mut rng, n, d_in);
    let y = randn(&mut rng, n, d_out);
    let w1 = randn(&mut rng, d_in, h);
    let w2 = randn(&mut rng, h, d_out);
    let (loss, grad) = workloads::two_layer_loss_grad(&x, &y, &w1, &w2);
    let (hand_loss, hand_w1, hand_w2) = hand::two_layer(&x, &y, &w1, &w2);
    assert!(
        (loss - hand_loss).abs() <= 1e-12 * hand_loss.abs(),
        "{loss} vs {hand_loss}"
    );
    let e1 = (&grad.w1 - &hand_w1).amax() / hand_w1.amax();
    let e2 = (&grad.w2 - &hand_w2).amax() / hand_w2.amax();
    assert!(
        e1 <= 1e-12 && e2 <= 1e-12,
        "relative differences {e1:e} {e2:e}"
    );
}

#[test]
fn two_layer_training_decreases_the_loss() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let x = randn(&mut rng, 64, 1000);
    let y = randn(&mut rng, 64, 10);
    let mut w1 = randn(&mut rng, 1000, 100);
    let mut w2 = randn(&mut rng, 100, 10);
    let first = workloads::two_layer_loss(&x, &y, &w1, &w2);
    for _ in 0..50 {
        let (_, g) = workloads::two_layer_loss_grad(&x, &y, &w1, &w2);
        w1 -= 1e-4 * g.w1;
        w2 -= 1e-4 * g.w2;
    }
    let last = workloads::two_layer_loss(&x, &y, &w1, &w2);
    assert!(last < 0.5 * first, "loss went from {first} to {last}");
}
