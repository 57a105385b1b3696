//! Training throughput (samples per second) on one thread and on all, with each minibatch
//! computed as one batch (large products split between the threads) or cut into shards whose
//! gradients run one per thread (`TrainConfig::shards`). Two networks: the digits example's
//! (64 → 64 → 10, ReLU, minibatches of 32, and the same full batch) and W4's (minibatches of
//! 256, 784 → 512 → 512 → 10, ReLU, softmax cross-entropy), on random data of their shapes.
//!
//! Run with `cargo run --release --example sharded` (`-- W4` runs only the networks whose name
//! holds `W4`); the numbers are in BENCHMARKS.md.

use autodiff::data::Dataset;
use autodiff::init::{seeded_rng, Init};
use autodiff::linalg::set_max_threads;
use autodiff::nn::{Activation, Mlp};
use autodiff::optim::Sgd;
use autodiff::prelude::*;
use autodiff::train::{train, Progress, TrainConfig};
use rand::Rng;
use std::time::Instant;

/// `n` random samples of `features` in [0, 1) with labels below `classes`.
fn data(n: usize, features: usize, classes: usize) -> Dataset {
    let mut rng = seeded_rng(0);
    let x = DMatrix::from_fn(n, features, |_, _| rng.random::<f64>());
    let labels = (0..n).map(|_| rng.random_range(0..classes)).collect();
    Dataset::new(x, labels).expect("one label per sample")
}

/// Samples per second of `epochs` epochs, with `threads` threads and `shards` shards.
fn throughput(
    sizes: &[usize],
    data: &Dataset,
    batch: usize,
    epochs: usize,
    threads: usize,
    shards: usize,
) -> f64 {
    set_max_threads(threads);
    let mut model = Mlp::new(sizes, Activation::Relu, Init::He, &mut seeded_rng(1));
    let config = TrainConfig {
        epochs,
        batch_size: batch,
        lambda: 1e-4,
        progress: Progress::Silent,
        shards,
        ..TrainConfig::default()
    };
    // One epoch to warm the buffer pools and the threads.
    let warm = TrainConfig {
        epochs: 1,
        ..config.clone()
    };
    train(&mut model, data, &mut Sgd::new(1e-3), &warm).expect("finite");
    let start = Instant::now();
    train(&mut model, data, &mut Sgd::new(1e-3), &config).expect("finite");
    (epochs * data.len()) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let digits = data(1437, 64, 10);
    let w4 = data(2560, 784, 10);
    let runs: [(&str, &[usize], &Dataset, usize, usize); 3] = [
        ("digits 64-64-10, batch 32", &[64, 64, 10], &digits, 32, 200),
        (
            "digits 64-64-10, full batch",
            &[64, 64, 10],
            &digits,
            0,
            2000,
        ),
        (
            "W4 784-512-512-10, batch 256",
            &[784, 512, 512, 10],
            &w4,
            256,
            4,
        ),
    ];
    println!("{cores} cores; samples per second, best of 3 rounds");
    let only = std::env::args().nth(1).unwrap_or_default();
    for (name, sizes, data, batch, epochs) in runs {
        if !name.contains(&only) {
            continue;
        }
        let settings = [(1, 1), (cores, 1), (cores, cores)];
        let mut best = [0.0f64; 3];
        for _ in 0..3 {
            for (b, &(threads, shards)) in best.iter_mut().zip(&settings) {
                *b = b.max(throughput(sizes, data, batch, epochs, threads, shards));
            }
        }
        println!(
            "{name}: 1 thread {:.0}; {cores} threads, one batch {:.0} ({:.2}×); {cores} threads, \
             {cores} shards {:.0} ({:.2}×)",
            best[0],
            best[1],
            best[1] / best[0],
            best[2],
            best[2] / best[0]
        );
    }
}
