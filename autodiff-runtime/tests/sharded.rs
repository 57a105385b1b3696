//! Gradients of a minibatch cut into shards and computed on several threads
//! (`parallel::sharded_grad`, `Mlp::loss_and_grad_sharded`, `TrainConfig::shards`): equal to
//! the one-thread gradient to rounding (1e-12 relative, f64), the same bits in every run with
//! the same number of shards, the L2 penalty counted once, shards of uneven sizes weighted
//! by their sizes.

use autodiff_macro::differentiate;
use autodiff_runtime::data::spiral;
use autodiff_runtime::init::{seeded_rng, Init};
use autodiff_runtime::nn::{Activation, Loss, Mlp, MlpGrad};
use autodiff_runtime::optim::{Adam, Sgd};
use autodiff_runtime::parallel::{shard_range, sharded_grad};
use autodiff_runtime::train::{train, Progress, TrainConfig};
use autodiff_runtime::{add_bias, relu, softmax_cross_entropy};
use nalgebra::{DMatrix, RowDVector};

/// The largest difference between `a` and `b`, relative to the largest magnitude in `b`.
fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    if scale == 0.0 {
        diff
    } else {
        diff / scale
    }
}

#[track_caller]
fn assert_close(name: &str, sharded: &MlpGrad, whole: &MlpGrad) {
    let (s, w) = (sharded.parameters(), whole.parameters());
    assert_eq!(s.len(), w.len());
    for (i, (s, w)) in s.iter().zip(&w).enumerate() {
        let err = relative_error(s, w);
        assert!(
            err <= 1e-12,
            "{name}: parameter {i}: relative error {err:e}"
        );
    }
}

#[test]
fn shard_ranges_cover_the_batch_in_order_with_sizes_within_one() {
    for len in [1, 2, 7, 10, 300, 1437] {
        for shards in 1..=8.min(len) {
            let ranges: Vec<_> = (0..shards).map(|s| shard_range(len, shards, s)).collect();
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges[shards - 1].end, len);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert!(pair[0].len() == pair[1].len() || pair[0].len() == pair[1].len() + 1);
            }
        }
    }
}

/// Dense ReLU and maxout nets, every loss, with and without L2, shard counts that divide the
/// batch and ones that do not (300 rows in 7 shards: sizes 43 and 42).
#[test]
fn sharded_gradients_equal_the_one_thread_gradient_to_rounding() {
    let data = spiral(100, 3, &mut seeded_rng(0));
    for activation in [Activation::Relu, Activation::Maxout] {
        let model = Mlp::new(&[2, 24, 16, 3], activation, Init::He, &mut seeded_rng(1));
        for loss in [Loss::SoftmaxCrossEntropy, Loss::Hinge, Loss::SumOfSquares] {
            for lambda in [0.0, 1e-2] {
                let (value, whole) = model.loss_and_grad(&data.x, &data.labels, loss, lambda);
                for shards in [1, 2, 3, 7, 300] {
                    let (v, sharded) =
                        model.loss_and_grad_sharded(&data.x, &data.labels, loss, lambda, shards);
                    let name = format!("{activation:?} {loss:?} λ={lambda} {shards} shards");
                    assert!(
                        (v - value).abs() <= 1e-12 * value.abs(),
                        "{name}: loss {v} against {value}"
                    );
                    assert_close(&name, &sharded, &whole);
                    sharded.recycle();
                }
                whole.recycle();
            }
        }
    }
}

#[test]
fn runs_with_the_same_number_of_shards_agree_bit_for_bit() {
    let data = spiral(60, 3, &mut seeded_rng(3));
    let model = Mlp::new(&[2, 32, 3], Activation::Relu, Init::He, &mut seeded_rng(4));
    let first = model.loss_and_grad_sharded(&data.x, &data.labels, Loss::Hinge, 1e-3, 4);
    for _ in 0..20 {
        let again = model.loss_and_grad_sharded(&data.x, &data.labels, Loss::Hinge, 1e-3, 4);
        assert_eq!(again.0.to_bits(), first.0.to_bits());
        for (a, b) in again.1.parameters().iter().zip(first.1.parameters()) {
            assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
        again.1.recycle();
    }
}

fn config(shards: usize) -> TrainConfig {
    TrainConfig {
        epochs: 15,
        batch_size: 45,
        lambda: 1e-3,
        seed: 5,
        progress: Progress::Silent,
        shards,
        ..TrainConfig::default()
    }
}

/// Whole training runs: two with 3 shards give the same bits; they follow the one-shard
/// run closely (the steps differ by rounding only, which training amplifies a little).
#[test]
fn sharded_training_is_reproducible_and_follows_the_one_shard_run() {
    let data = spiral(50, 3, &mut seeded_rng(6));
    let start = Mlp::new(&[2, 40, 3], Activation::Relu, Init::He, &mut seeded_rng(7));
    let run = |shards: usize| {
        let mut model = start.clone();
        let history = train(&mut model, &data, &mut Adam::new(0.01), &config(shards)).unwrap();
        (model, history)
    };
    let (one_model, one) = run(1);
    let (a_model, a) = run(3);
    let (b_model, b) = run(3);
    assert_eq!(a, b);
    assert_eq!(a_model, b_model);
    assert_eq!(a.step_losses.len(), one.step_losses.len());
    // The first step's loss is computed before any update: equal to rounding.
    assert!((a.step_losses[0] - one.step_losses[0]).abs() <= 1e-12 * one.step_losses[0]);
    for (x, y) in a.step_losses.iter().zip(&one.step_losses) {
        assert!((x - y).abs() <= 1e-6 * y.abs(), "{x} against {y}");
    }
    let (p, q) = (a_model.parameters(), one_model.parameters());
    for (p, q) in p.iter().zip(&q) {
        assert!(relative_error(p, q) < 1e-6);
    }
    // The default is one shard: today's computation.
    assert_eq!(TrainConfig::default().shards, 1);
    let mut model = start.clone();
    let h = train(&mut model, &data, &mut Sgd::new(0.5), &config(0)).unwrap();
    let mut again = start.clone();
    let g = train(&mut again, &data, &mut Sgd::new(0.5), &config(1)).unwrap();
    assert_eq!(h, g);
}

/// The spiral net as a user writes it: a mean loss over the rows (the L2 term outside).
#[differentiate(crate = autodiff_runtime, wrt(w1, b1, w2, b2))]
fn data_loss(
    x: &DMatrix<f64>,
    labels: &[usize],
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
) -> f64 {
    let hidden = relu(add_bias(x * w1, b1));
    let scores = add_bias(&hidden * w2, b2);
    softmax_cross_entropy(&scores, labels)
}

/// The same with the L2 term, as one function: the reference.
#[differentiate(crate = autodiff_runtime, wrt(w1, b1, w2, b2))]
#[allow(clippy::too_many_arguments)]
fn objective(
    x: &DMatrix<f64>,
    labels: &[usize],
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    reg: f64,
) -> f64 {
    let hidden = relu(add_bias(x * w1, b1));
    let scores = add_bias(&hidden * w2, b2);
    softmax_cross_entropy(&scores, labels) + 0.5 * reg * (w1.norm_squared() + w2.norm_squared())
}

#[test]
fn a_users_differentiated_loss_sharded_with_the_penalty_added_once() {
    let data = spiral(100, 3, &mut seeded_rng(8));
    let mut rng = seeded_rng(9);
    let (w1, b1) = (Init::He.weights(2, 50, &mut rng), RowDVector::zeros(50));
    let (w2, b2) = (Init::He.weights(50, 3, &mut rng), RowDVector::zeros(3));
    let reg = 1e-2;
    let (value, whole) = objective_grad(&data.x, &data.labels, &w1, &b1, &w2, &b2, reg);
    for shards in [2, 4, 7] {
        let (mut v, (mut g1, gb1, mut g2, gb2)) = sharded_grad(data.len(), shards, |rows| {
            let x = data.x.rows(rows.start, rows.len()).clone_owned();
            let (v, g) = data_loss_grad(&x, &data.labels[rows], &w1, &b1, &w2, &b2);
            (v, (g.w1, g.b1, g.w2, g.b2))
        });
        v += 0.5 * reg * (w1.norm_squared() + w2.norm_squared());
        g1 += reg * &w1;
        g2 += reg * &w2;
        assert!(
            (v - value).abs() <= 1e-12 * value,
            "{shards} shards: {v} against {value}"
        );
        for (name, s, w) in [
            ("w1", g1.as_slice(), whole.w1.as_slice()),
            ("b1", gb1.as_slice(), whole.b1.as_slice()),
            ("w2", g2.as_slice(), whole.w2.as_slice()),
            ("b2", gb2.as_slice(), whole.b2.as_slice()),
        ] {
            let err = relative_error(s, w);
            assert!(
                err <= 1e-12,
                "{shards} shards: {name}: relative error {err:e}"
            );
        }
    }
}

#[test]
#[should_panic]
fn a_panic_in_a_shard_reaches_the_caller() {
    let _ = sharded_grad(10, 4, |rows| {
        assert!(rows.start < 5, "shard at {} fails", rows.start);
        (0.0, 0.0)
    });
}

/// On more than one core the shards run on more than one thread, shard `i` on the same
/// thread in every call (what keeps each thread's buffer pool balanced).
#[test]
fn shards_run_on_several_threads_each_on_the_same_one_every_call() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads_of_shards = || {
        let seen = std::sync::Mutex::new(vec![None; 4]);
        sharded_grad(8, 4, |rows| {
            seen.lock().unwrap()[rows.start / 2] = Some(std::thread::current().id());
            (0.0, 0.0)
        });
        seen.into_inner().unwrap()
    };
    let first = threads_of_shards();
    let distinct: std::collections::HashSet<_> = first.iter().flatten().collect();
    assert_eq!(first[0], Some(std::thread::current().id()));
    assert_eq!(
        distinct.len(),
        cores.min(4).min(autodiff_runtime::linalg::max_threads())
    );
    for _ in 0..10 {
        assert_eq!(threads_of_shards(), first);
    }
}
