//! Training throughput (samples per second) on MPI ranks, one thread each, for the networks
//! of `sharded` (the digits net, minibatches of 32 and the full batch; W4's net, minibatches
//! of 256), on random data of their shapes that each rank holds its shard of; and the time of
//! one all-reduce of W4's gradient (5.4 MB) against the time of its step.
//!
//! ```sh
//! cargo build --release -p autodiff-examples --features mpi --example throughput_mpi
//! mpirun -np 1 target/release/examples/throughput_mpi
//! mpirun -np 2 target/release/examples/throughput_mpi
//! mpirun -np 2 target/release/examples/throughput_mpi W4   # only the networks named W4…
//! ```
//!
//! The numbers are in BENCHMARKS.md ("Threads and MPI ranks"), beside `sharded`'s threads.

use autodiff::data::Dataset;
use autodiff::distributed::mpi::collective::{CommunicatorCollectives, SystemOperation};
use autodiff::distributed::{self, Cluster};
use autodiff::init::{seeded_rng, Init};
use autodiff::linalg::set_max_threads;
use autodiff::nn::{Activation, Loss, Mlp};
use autodiff::optim::Sgd;
use autodiff::prelude::*;
use autodiff::train::{Progress, TrainConfig};
use rand::Rng;
use std::time::Instant;

/// This rank's shard of `n` random samples of `features` in [0, 1) with labels below
/// `classes` (the same `n` samples on every rank, each keeping its rows).
fn data(cluster: &Cluster, n: usize, features: usize, classes: usize) -> Dataset {
    let mut rng = seeded_rng(0);
    let x = DMatrix::from_fn(n, features, |_, _| rng.random::<f64>());
    let labels = (0..n).map(|_| rng.random_range(0..classes)).collect();
    let all = Dataset::new(x, labels).expect("one label per sample");
    all.select(&cluster.shard(n).collect::<Vec<_>>())
}

/// Samples per second (of all ranks) of `epochs` epochs, after one to warm up.
fn throughput(
    cluster: &mut Cluster,
    sizes: &[usize],
    data: &Dataset,
    batch: usize,
    epochs: usize,
) -> f64 {
    let mut model = Mlp::new(sizes, Activation::Relu, Init::He, &mut seeded_rng(1));
    let config = TrainConfig {
        epochs,
        batch_size: batch,
        lambda: 1e-4,
        progress: Progress::Silent,
        ..TrainConfig::default()
    };
    let warm = TrainConfig {
        epochs: 1,
        ..config.clone()
    };
    let mut sgd = Sgd::new(1e-3);
    distributed::train(cluster, &mut model, data, &mut sgd, &warm).expect("finite");
    let start = Instant::now();
    distributed::train(cluster, &mut model, data, &mut sgd, &config).expect("finite");
    let samples = (epochs * data.len() * cluster.size()) as f64;
    samples / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cluster = Cluster::init()?;
    set_max_threads(1);
    let digits = data(&cluster, 1437, 64, 10);
    let w4 = data(&cluster, 2560, 784, 10);
    let root = cluster.is_root();
    if root {
        println!(
            "{} ranks, one thread each; samples per second, best of 3 rounds",
            cluster.size()
        );
    }
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
    let only = std::env::args().nth(1).unwrap_or_default();
    for (name, sizes, data, batch, epochs) in runs {
        if !name.contains(&only) {
            continue;
        }
        let mut best = 0.0f64;
        for _ in 0..3 {
            best = best.max(throughput(&mut cluster, sizes, data, batch, epochs));
        }
        if root {
            println!("{name}: {best:.0}");
        }
    }

    // Where a W4 step's time goes: the gradient of this rank's part of a minibatch of 256
    // (all ranks computing at once, no all-reduce), and of half that part.
    let model = Mlp::new(
        &[784, 512, 512, 10],
        Activation::Relu,
        Init::He,
        &mut seeded_rng(1),
    );
    for rows in [256 / cluster.size(), 128 / cluster.size()] {
        let part = w4.select(&(0..rows).collect::<Vec<_>>());
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            cluster.all_reduce_sum(&mut [0.0]); // start together
            let start = Instant::now();
            for _ in 0..10 {
                let (_, grad) =
                    model.loss_and_grad(&part.x, &part.labels, Loss::SoftmaxCrossEntropy, 1e-4);
                grad.recycle();
            }
            best = best.min(start.elapsed().as_secs_f64() / 10.0);
        }
        if root {
            println!(
                "W4 gradient of {rows} rows on each rank at once: {:.2} ms",
                best * 1e3
            );
        }
    }

    // The all-reduce of W4's step alone: its fused buffer (gradient, loss, count).
    let mut buf = vec![1.0; model.parameter_count() + 2];
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..10 {
            cluster.all_reduce_sum(&mut buf);
        }
        best = best.min(start.elapsed().as_secs_f64() / 10.0);
    }
    // MPI's own all-reduce (blocking, its order of summation), for reference.
    let mut library = f64::INFINITY;
    let mut sum = buf.clone();
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..10 {
            cluster
                .world()
                .all_reduce_into(&buf[..], &mut sum[..], SystemOperation::sum());
        }
        library = library.min(start.elapsed().as_secs_f64() / 10.0);
    }
    if root {
        println!(
            "all-reduce of W4's step ({} values, {:.2} MB): {:.3} ms; MPI_Allreduce {:.3} ms \
             (best of 5 rounds of 10)",
            buf.len(),
            buf.len() as f64 * 8.0 / 1e6,
            best * 1e3,
            library * 1e3
        );
    }
    Ok(())
}
