//! A training step (gradient and SGD update) of an `Mlp`, whose gradient is the derived
//! gradient of one differentiated function looping over a `Parameters` struct, against the
//! same step with the layers chained by hand: each layer's derived forward sweep in turn, its
//! tape kept, then each reverse sweep in the opposite order (how `Mlp` computed it before it
//! became a `Parameters` model). Two networks: the spiral's (2 → 100 → 3, ReLU, 300 samples)
//! and W4's (784 → 512 → 512 → 10, ReLU, minibatch 256); softmax cross-entropy, L2 1e-3.
//!
//! `cargo bench --bench model_step` prints the paired ratios, then criterion times both steps
//! of each network (see BENCHMARKS.md).

#[path = "../tests/common/mod.rs"]
mod common;

use autodiff::data::spiral;
use autodiff::init::{seeded_rng, Init};
use autodiff::nn::{activate, l2_penalty_grad, Activation, Loss, Mlp};
use autodiff::optim::{Optimizer, Sgd};
use autodiff::prelude::*;
use common::paired::paired_ratio;
use criterion::Criterion;
use rand::Rng;
use std::hint::black_box;

/// A dense layer taking its input by value, so that successive tapes can sit in one `Vec`.
#[differentiate]
fn dense_moved(
    x: DMatrix<f64>,
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    activation: Activation,
) -> DMatrix<f64> {
    activate(add_bias(x * w, b), activation)
}

/// The first layer, on data: differentiable in its weights only.
#[differentiate(wrt(w, b))]
fn dense_on_data(
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    activation: Activation,
) -> DMatrix<f64> {
    activate(add_bias(x * w, b), activation)
}

/// The gradient of one layer: `(dW, db)`.
type LayerGradient = (DMatrix<f64>, RowDVector<f64>);

/// The loss and its gradient per layer, the layers chained by hand.
fn chained_by_hand(
    mlp: &Mlp,
    x: &DMatrix<f64>,
    labels: &[usize],
    lambda: f64,
) -> (f64, Vec<LayerGradient>) {
    let (ws, bs, acts) = (&mlp.weights, &mlp.biases, &mlp.activations);
    let (mut h, first_tape) = dense_on_data_fwd(x, &ws[0], &bs[0], acts[0]);
    let mut tapes = Vec::with_capacity(ws.len() - 1);
    for i in 1..ws.len() {
        let (out, tape) = dense_moved_fwd(h, &ws[i], &bs[i], acts[i]);
        tapes.push(tape);
        h = out;
    }
    let (data_loss, mut seed) = Loss::SoftmaxCrossEntropy.value_and_grad(&h, labels);
    autodiff::buffers::recycle(h);
    let mut grads = Vec::with_capacity(ws.len());
    for tape in tapes.into_iter().rev() {
        let g = dense_moved_bwd(tape, seed);
        grads.push((g.w, g.b));
        seed = g.x;
    }
    let g = dense_on_data_bwd(first_tape, seed);
    grads.push((g.w, g.b));
    grads.reverse();
    let mut penalty = 0.0;
    for (w, (dw, _)) in ws.iter().zip(&mut grads) {
        let (value, g) = l2_penalty_grad(w, lambda);
        penalty += value;
        *dw += &g.w;
        autodiff::buffers::recycle(g.w);
    }
    (data_loss + penalty, grads)
}

fn step_by_hand(mlp: &mut Mlp, sgd: &mut Sgd, x: &DMatrix<f64>, labels: &[usize]) {
    let (loss, grads) = chained_by_hand(mlp, x, labels, 1e-3);
    black_box(loss);
    let slices: Vec<&[f64]> = grads
        .iter()
        .flat_map(|(w, b)| [w.as_slice(), b.as_slice()])
        .collect();
    sgd.step(mlp.parameters_mut(), slices);
    for (w, b) in grads {
        autodiff::buffers::recycle(w);
        autodiff::buffers::recycle(b);
    }
}

fn step_derived(mlp: &mut Mlp, sgd: &mut Sgd, x: &DMatrix<f64>, labels: &[usize]) {
    let (loss, grad) = mlp.loss_and_grad(x, labels, Loss::SoftmaxCrossEntropy, 1e-3);
    black_box(loss);
    sgd.update(mlp, &grad);
    grad.recycle();
}

/// Criterion's timing of both steps for a network of `sizes` on `x`, in the group `name`.
fn time_both(c: &mut Criterion, name: &str, sizes: &[usize], x: &DMatrix<f64>, labels: &[usize]) {
    let mlp = Mlp::new(sizes, Activation::Relu, Init::He, &mut seeded_rng(1));
    let mut group = c.benchmark_group(name);
    group.sample_size(20);
    let (mut a, mut b) = (mlp.clone(), mlp);
    let (mut sgd_a, mut sgd_b) = (Sgd::new(1e-3), Sgd::new(1e-3));
    group.bench_function("parameters_model", |bench| {
        bench.iter(|| step_derived(&mut a, &mut sgd_a, x, labels))
    });
    group.bench_function("chained_by_hand", |bench| {
        bench.iter(|| step_by_hand(&mut b, &mut sgd_b, x, labels))
    });
    group.finish();
}

/// The paired ratio derived ÷ by hand for a network of `sizes` on `x`, after checking that
/// both compute the same gradient.
fn ratio(sizes: &[usize], x: &DMatrix<f64>, labels: &[usize], rounds: usize) -> f64 {
    let mlp = Mlp::new(sizes, Activation::Relu, Init::He, &mut seeded_rng(1));
    let (value, grad) = mlp.loss_and_grad(x, labels, Loss::SoftmaxCrossEntropy, 1e-3);
    let (by_hand, grads) = chained_by_hand(&mlp, x, labels, 1e-3);
    let flat: Vec<f64> = grads
        .iter()
        .flat_map(|(w, b)| w.iter().chain(b.iter()).copied())
        .collect();
    let derived: Vec<f64> = grad.parameters().into_iter().flatten().copied().collect();
    assert!((value - by_hand).abs() <= 1e-12 * value.abs());
    let scale = flat.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = flat
        .iter()
        .zip(&derived)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        worst <= 1e-12 * scale,
        "the two gradients differ by {worst}"
    );

    let (mut a, mut b) = (mlp.clone(), mlp);
    let (mut sgd_a, mut sgd_b) = (Sgd::new(1e-3), Sgd::new(1e-3));
    paired_ratio(
        rounds,
        || step_derived(&mut a, &mut sgd_a, x, labels),
        || step_by_hand(&mut b, &mut sgd_b, x, labels),
    )
}

fn main() {
    if let Some(threads) = std::env::var("MODEL_STEP_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        autodiff::linalg::set_max_threads(threads);
    }
    let data = spiral(100, 3, &mut seeded_rng(0));
    let spiral_ratio = ratio(&[2, 100, 3], &data.x, &data.labels, 101);

    let mut rng = seeded_rng(2);
    let x = DMatrix::from_fn(256, 784, |_, _| rng.random_range(0.0..1.0));
    let labels: Vec<usize> = (0..256).map(|_| rng.random_range(0..10)).collect();
    let w4_ratio = ratio(&[784, 512, 512, 10], &x, &labels, 31);

    let mut c = Criterion::default().configure_from_args();
    time_both(
        &mut c,
        "model_step_spiral",
        &[2, 100, 3],
        &data.x,
        &data.labels,
    );
    time_both(&mut c, "model_step_w4", &[784, 512, 512, 10], &x, &labels);
    c.final_summary();

    println!("training step, Parameters model ÷ layers chained by hand (median of paired rounds):");
    println!("| network | ratio |");
    println!("| --- | --- |");
    println!("| spiral, 2 → 100 → 3, 300 samples | {spiral_ratio:.3} |");
    println!("| W4, 784 → 512 → 512 → 10, batch 256 | {w4_ratio:.3} |");
}
