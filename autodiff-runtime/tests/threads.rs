//! Training on one thread and on every core: with the same number of shards, the same bits.
//! The shards' sum, the penalty, the norm, the update and the accuracy pass are shared
//! between the threads, and none of them may depend on how many there are. One test in a
//! file of its own, since the cap on threads is the whole process's.

use autodiff_runtime::data::Dataset;
use autodiff_runtime::init::{seeded_rng, Init};
use autodiff_runtime::linalg::set_max_threads;
use autodiff_runtime::nn::{Activation, Loss, Mlp};
use autodiff_runtime::optim::Sgd;
use autodiff_runtime::train::{train, History, Progress, TrainConfig};
use nalgebra::DMatrix;
use rand::Rng;

/// `n` random samples of 100 features with labels below 10.
fn data(n: usize) -> Dataset {
    let mut rng = seeded_rng(0);
    let x = DMatrix::from_fn(n, 100, |_, _| rng.random::<f64>());
    let labels = (0..n).map(|_| rng.random_range(0..10)).collect();
    Dataset::new(x, labels).unwrap()
}

#[test]
fn one_thread_and_every_core_give_the_same_bits() {
    let data = data(600);
    // 100·512 + 512·128 weights: more than one block per leaf, and enough parameters for
    // a one-shard step to share its penalty and norm between the threads.
    let start = Mlp::new(
        &[100, 512, 128, 10],
        Activation::Relu,
        Init::He,
        &mut seeded_rng(1),
    );
    let run = |threads: usize, shards: usize| -> (Mlp, History, Vec<u64>) {
        set_max_threads(threads);
        let mut model = start.clone();
        let config = TrainConfig {
            epochs: 2,
            batch_size: 128,
            loss: Loss::SoftmaxCrossEntropy,
            lambda: 1e-3,
            progress: Progress::Silent,
            shards,
            ..TrainConfig::default()
        };
        let history = train(&mut model, &data, &mut Sgd::new(0.05), &config).unwrap();
        let grad = model.loss_and_grad_sharded(&data.x, &data.labels, Loss::Hinge, 1e-2, shards);
        let mut bits = vec![grad.0.to_bits()];
        bits.extend(grad.1.parameters().concat().iter().map(|g| g.to_bits()));
        set_max_threads(0);
        (model, history, bits)
    };
    for shards in [1, 2, 3] {
        let (one_model, one, one_grad) = run(1, shards);
        let (all_model, all, all_grad) = run(0, shards);
        assert_eq!(one, all, "{shards} shards: the histories differ");
        assert_eq!(
            one_model, all_model,
            "{shards} shards: the parameters differ"
        );
        assert!(
            one_grad == all_grad,
            "{shards} shards: the gradients differ"
        );
    }
}
