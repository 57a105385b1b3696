//! Training: initialisation, optimizers on numbers derived by hand, minibatches, accuracy,
//! reproducibility with a seed, and the error that names the step where the loss became NaN.

use autodiff_runtime::data::{accuracy, shuffled_batches, Dataset};
use autodiff_runtime::init::{seeded_rng, Init};
use autodiff_runtime::nn::{Activation, Layer, Loss, Mlp};
use autodiff_runtime::optim::{sgd_update, Adam, Momentum, Optimizer, Sgd};
use autodiff_runtime::train::{train, History, Progress, Record, TrainConfig, TrainError};
use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::StandardNormal;

// ---------------------------------------------------------------------------- initialisation

fn mean_and_std(m: &DMatrix<f64>) -> (f64, f64) {
    let n = m.len() as f64;
    let mean = m.sum() / n;
    (mean, (m.map(|v| (v - mean).powi(2)).sum() / n).sqrt())
}

#[test]
fn xavier_and_he_draw_weights_with_their_standard_deviations() {
    let mut rng = seeded_rng(1);
    // 120 000 draws: the sample standard deviation is within 1% of the true one by far.
    let xavier = Init::Xavier.weights(400, 300, &mut rng);
    let (mean, std) = mean_and_std(&xavier);
    assert!(mean.abs() < 0.01 * (2.0f64 / 700.0).sqrt(), "mean {mean}");
    assert!(
        (std / (2.0f64 / 700.0).sqrt() - 1.0).abs() < 0.01,
        "std {std}"
    );
    let he = Init::He.weights(400, 300, &mut rng);
    let (_, std) = mean_and_std(&he);
    assert!(
        (std / (2.0f64 / 400.0).sqrt() - 1.0).abs() < 0.01,
        "std {std}"
    );
    assert_eq!(Init::for_activation(Activation::Relu), Init::He);
    assert_eq!(Init::for_activation(Activation::Tanh), Init::Xavier);
}

#[test]
fn a_seed_gives_the_same_model_and_another_seed_another() {
    let a = Mlp::new(&[2, 8, 3], Activation::Relu, Init::He, &mut seeded_rng(7));
    let b = Mlp::new(&[2, 8, 3], Activation::Relu, Init::He, &mut seeded_rng(7));
    let c = Mlp::new(&[2, 8, 3], Activation::Relu, Init::He, &mut seeded_rng(8));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Biases start at zero, the output layer is affine, maxout gets two weight sets.
    match &a.layers()[1] {
        Layer::Dense { b, activation, .. } => {
            assert!(b.iter().all(|&v| v == 0.0));
            assert_eq!(*activation, Activation::Identity);
        }
        other => panic!("the output layer is dense, got {other:?}"),
    }
    let maxout = Mlp::new(
        &[2, 8, 8, 3],
        Activation::Maxout,
        Init::He,
        &mut seeded_rng(7),
    );
    assert!(matches!(maxout.layers()[0], Layer::Maxout { .. }));
    assert!(matches!(maxout.layers()[1], Layer::Maxout { .. }));
    assert_eq!(maxout.layers()[2].activation(), Activation::Identity);
}

// -------------------------------------------------------------------------------- optimizers

/// Runs `optimizer` on one parameter vector with the given gradients, one step each.
fn run(optimizer: &mut impl Optimizer, mut p: Vec<f64>, grads: &[&[f64]]) -> Vec<Vec<f64>> {
    grads
        .iter()
        .map(|g| {
            optimizer.step(vec![&mut p[..]], vec![g]);
            p.clone()
        })
        .collect()
}

#[test]
fn sgd_steps_against_the_gradient() {
    let trace = run(
        &mut Sgd::new(0.1),
        vec![1.0, -2.0],
        &[&[0.5, -1.0], &[2.0, 0.0]],
    );
    assert_eq!(trace, vec![vec![0.95, -1.9], vec![0.75, -1.9]]);
}

/// `sgd_update` on a parameter large enough to share between threads (when a worker is
/// awake) and on a small one: every entry is `p − η·g`, computed the same way either way.
#[test]
fn sgd_update_updates_every_entry() {
    let mut rng = seeded_rng(9);
    for len in [5, 100_003] {
        let p = DMatrix::<f64>::from_fn(len, 1, |_, _| rng.random_range(-1.0..1.0));
        let g = DMatrix::<f64>::from_fn(len, 1, |_, _| rng.random_range(-1.0..1.0));
        let expected = p.zip_map(&g, |p, g| p - 0.25 * g);
        for _ in 0..3 {
            let mut updated = p.clone();
            autodiff_runtime::linalg::wake_threads();
            sgd_update(&mut updated, 0.25, g.clone());
            assert_eq!(updated, expected, "length {len}");
        }
    }
    let mut wrong = DMatrix::<f64>::zeros(2, 3);
    let refused = std::panic::catch_unwind(move || {
        sgd_update(&mut wrong, 0.1, DMatrix::zeros(3, 2));
    });
    assert!(refused.is_err(), "shapes differ");
}

#[test]
fn momentum_accumulates_a_velocity() {
    // By hand: v₁ = −0.05, p₁ = 0.95; v₂ = 0.9·(−0.05) + 0.1 = 0.055, p₂ = 1.005;
    // v₃ = 0.9·0.055 − 0.2 = −0.1505, p₃ = 0.8545.
    let trace = run(
        &mut Momentum::new(0.1, 0.9),
        vec![1.0],
        &[&[0.5], &[-1.0], &[2.0]],
    );
    let want = [0.95, 1.005, 0.8545];
    for (got, want) in trace.iter().zip(want) {
        assert!((got[0] - want).abs() < 1e-15, "{got:?} vs {want}");
    }
}

#[test]
fn adam_follows_its_bias_corrected_update() {
    let mut adam = Adam::new(0.1);
    let trace = run(&mut adam, vec![1.0, -2.0], &[&[0.5, -0.1], &[-1.0, 0.2]]);
    // Step 1: m̂ = g and v̂ = g², so the step is η·g/(|g| + ε), about η·sign(g).
    assert!((trace[0][0] - (1.0 - 0.1 * 0.5 / (0.5 + 1e-8))).abs() < 1e-15);
    assert!((trace[0][1] - (-2.0 + 0.1 * 0.1 / (0.1 + 1e-8))).abs() < 1e-15);
    // Step 2, first element, by hand: m = 0.9·0.05 − 0.1 = −0.055, v = 0.999·0.00025 + 0.001
    // = 0.00124975, m̂ = −0.055/0.19, v̂ = 0.00124975/0.001999, p = 0.9 + 0.1·0.2894737/0.7906880.
    let m_hat = -0.055 / 0.19;
    let v_hat = 0.00124975 / (1.0 - 0.999f64 * 0.999);
    let want = trace[0][0] - 0.1 * m_hat / (v_hat.sqrt() + 1e-8);
    assert!((trace[1][0] - want).abs() < 1e-12);
    assert!((trace[1][0] - 0.9366103542405654).abs() < 1e-12);
    assert!((trace[1][1] - -1.9366103603884888).abs() < 1e-12);
    assert_eq!(adam.steps(), 2);
}

#[test]
#[should_panic(expected = "different layout")]
fn an_optimizer_rejects_a_changed_layout() {
    let mut adam = Adam::new(0.1);
    let mut p = [1.0, 2.0];
    adam.step(vec![&mut p[..]], vec![&[1.0, 1.0]]);
    let mut q = [1.0];
    adam.step(vec![&mut q[..]], vec![&[1.0]]);
}

// ------------------------------------------------------------------------------------- data

#[test]
fn minibatches_cover_every_sample_once_in_a_new_order_each_epoch() {
    let mut rng = seeded_rng(3);
    let epoch1 = shuffled_batches(10, 4, &mut rng);
    let epoch2 = shuffled_batches(10, 4, &mut rng);
    assert_eq!(
        epoch1.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![4, 4, 2]
    );
    for epoch in [&epoch1, &epoch2] {
        let mut all: Vec<usize> = epoch.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }
    assert_ne!(epoch1, epoch2);
    assert_eq!(shuffled_batches(5, 0, &mut rng).len(), 1);
}

#[test]
fn a_split_is_a_shuffled_partition() {
    let x = DMatrix::from_fn(10, 1, |i, _| i as f64);
    let data = Dataset::new(x, (0..10).map(|i| i % 2).collect()).unwrap();
    let (train, test) = data.split(0.3, &mut seeded_rng(4));
    assert_eq!((train.len(), test.len()), (7, 3));
    let mut rows: Vec<f64> = train.x.iter().chain(test.x.iter()).copied().collect();
    assert_ne!(
        rows,
        (0..10).map(|i| i as f64).collect::<Vec<_>>(),
        "shuffled"
    );
    rows.sort_by(f64::total_cmp);
    assert_eq!(rows, (0..10).map(|i| i as f64).collect::<Vec<_>>());
    for part in [&train, &test] {
        for (row, &y) in part.x.iter().zip(&part.labels) {
            assert_eq!(*row as usize % 2, y, "labels follow their samples");
        }
    }
    assert_eq!(
        Dataset::new(DMatrix::zeros(3, 2), vec![0])
            .unwrap_err()
            .to_string(),
        "3 samples but 1 labels"
    );
}

#[test]
fn accuracy_is_the_fraction_right() {
    assert_eq!(accuracy(&[0, 1, 2, 2], &[0, 1, 1, 2]), 0.75);
    assert_eq!(accuracy(&[], &[]), 0.0);
}

// --------------------------------------------------------------------------------- training

/// Three Gaussian blobs in the plane, 30 points each.
fn blobs(seed: u64) -> Dataset {
    let mut rng = seeded_rng(seed);
    let centres = [(0.0, 2.0), (-2.0, -1.0), (2.0, -1.0)];
    let mut x = DMatrix::zeros(90, 2);
    let mut labels = Vec::new();
    for i in 0..90 {
        let (cx, cy) = centres[i % 3];
        x[(i, 0)] = cx + 0.5 * rng.sample::<f64, _>(StandardNormal);
        x[(i, 1)] = cy + 0.5 * rng.sample::<f64, _>(StandardNormal);
        labels.push(i % 3);
    }
    Dataset::new(x, labels).unwrap()
}

fn config(epochs: usize, batch_size: usize, seed: u64) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size,
        seed,
        lambda: 1e-3,
        progress: Progress::Silent,
        ..TrainConfig::default()
    }
}

fn fit(seed: u64) -> (Mlp, History) {
    let data = blobs(1);
    let mut mlp = Mlp::new(&[2, 16, 3], Activation::Relu, Init::He, &mut seeded_rng(2));
    let history = train(
        &mut mlp,
        &data,
        &mut Momentum::new(0.05, 0.9),
        &config(20, 16, seed),
    )
    .unwrap();
    (mlp, history)
}

#[test]
fn training_learns_and_records_its_history() {
    let (mlp, history) = fit(5);
    let data = blobs(1);
    assert_eq!(history.epochs.len(), 20);
    assert_eq!(
        history.step_losses.len(),
        20 * 6,
        "90 samples in batches of 16: 6 steps an epoch"
    );
    assert_eq!(history.epochs[2].step, 18);
    let last = history.last().unwrap();
    assert_eq!(last.accuracy, mlp.accuracy(&data.x, &data.labels));
    assert!(last.accuracy >= 0.95, "accuracy {}", last.accuracy);
    assert!(
        last.loss < history.epochs[0].loss / 2.0,
        "the loss falls: {:?}",
        history.epochs
    );
    let reached = history.steps_to_reach(0.95).unwrap();
    assert!(history
        .epochs
        .iter()
        .filter(|r| r.step < reached)
        .all(|r| r.accuracy < 0.95));
}

#[test]
fn a_run_is_reproduced_exactly_by_its_seed() {
    let (a, history_a) = fit(5);
    let (b, history_b) = fit(5);
    assert_eq!(a, b, "bit-identical parameters");
    assert_eq!(history_a, history_b);
    let (c, _) = fit(6);
    assert_ne!(a, c, "another shuffling seed gives another run");
}

#[test]
fn full_batch_training_takes_one_step_an_epoch() {
    let data = blobs(1);
    let mut mlp = Mlp::new(
        &[2, 8, 3],
        Activation::Tanh,
        Init::Xavier,
        &mut seeded_rng(2),
    );
    let history = train(&mut mlp, &data, &mut Adam::new(0.05), &config(30, 0, 0)).unwrap();
    assert_eq!(history.step_losses.len(), 30);
    assert_eq!(history.epochs[29].step, 30);
    assert_eq!(history.epochs[0].loss, history.step_losses[0]);
}

/// Measuring the accuracy less often changes nothing else: the same parameters and losses,
/// the accuracy of the measured epochs (every third and the last), NaN for the others.
#[test]
fn the_accuracy_measured_every_few_epochs_leaves_training_unchanged() {
    let data = blobs(1);
    let start = Mlp::new(&[2, 8, 3], Activation::Relu, Init::He, &mut seeded_rng(2));
    let fit = |evaluate_every: usize| {
        let mut mlp = start.clone();
        let config = TrainConfig {
            evaluate_every,
            ..config(10, 16, 4)
        };
        let history = train(&mut mlp, &data, &mut Sgd::new(0.1), &config).unwrap();
        (mlp, history)
    };
    let (every, all) = fit(1);
    let (some, few) = fit(3);
    assert_eq!(every, some);
    assert_eq!(all.step_losses, few.step_losses);
    for (a, b) in all.epochs.iter().zip(&few.epochs) {
        assert_eq!((a.epoch, a.step, a.loss), (b.epoch, b.step, b.loss));
        if b.epoch % 3 == 0 || b.epoch == 10 {
            assert_eq!(a.accuracy, b.accuracy, "epoch {}", b.epoch);
        } else {
            assert!(b.accuracy.is_nan(), "epoch {}", b.epoch);
            assert!(b.to_string().ends_with("accuracy     -"), "{b}");
        }
    }
    assert_eq!(fit(0).1, all, "0 counts as 1");
}

#[test]
fn a_nan_in_the_data_stops_training_at_the_first_step_with_the_model_untouched() {
    let mut data = blobs(1);
    data.x[(40, 1)] = f64::NAN;
    let mut mlp = Mlp::new(&[2, 8, 3], Activation::Relu, Init::He, &mut seeded_rng(2));
    let before = mlp.clone();
    let err = train(&mut mlp, &data, &mut Sgd::new(0.1), &config(5, 0, 0)).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                what: "loss",
                step: 1,
                epoch: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("the loss became NaN at step 1 (epoch 1)"),
        "{err}"
    );
    assert_eq!(mlp, before);
}

#[test]
fn a_diverging_learning_rate_stops_training_with_the_step_named() {
    let data = blobs(1);
    let mut mlp = Mlp::new(&[2, 8, 3], Activation::Relu, Init::He, &mut seeded_rng(2));
    let cfg = TrainConfig {
        loss: Loss::SumOfSquares,
        ..config(50, 10, 0)
    };
    let err = train(&mut mlp, &data, &mut Sgd::new(1e3), &cfg).unwrap_err();
    let TrainError::NonFinite {
        step, epoch, value, ..
    } = err.clone()
    else {
        panic!("{err:?}")
    };
    assert!(step > 1 && !value.is_finite());
    assert_eq!(
        epoch,
        (step - 1) / 9 + 1,
        "90 samples in batches of 10: 9 steps an epoch"
    );
    assert!(
        err.to_string()
            .contains(&format!("at step {step} (epoch {epoch})")),
        "{err}"
    );
    // The parameters are those of the last finite step.
    assert!(mlp
        .parameters()
        .iter()
        .flat_map(|p| p.iter())
        .all(|v| v.is_finite()));
}

#[test]
fn data_that_does_not_fit_the_model_is_an_error() {
    let data = blobs(1);
    let mut wide = Mlp::new(&[3, 4, 3], Activation::Relu, Init::He, &mut seeded_rng(2));
    let err = train(&mut wide, &data, &mut Sgd::new(0.1), &config(1, 0, 0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot train on this data: the samples have 2 features but the model takes 3 inputs"
    );
    let mut two_classes = Mlp::new(&[2, 4, 2], Activation::Relu, Init::He, &mut seeded_rng(2));
    let err = train(
        &mut two_classes,
        &data,
        &mut Sgd::new(0.1),
        &config(1, 0, 0),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot train on this data: sample 2 has label 2 but the model has 2 classes"
    );
}

#[test]
fn a_record_prints_as_one_line() {
    let record = Record {
        epoch: 3,
        step: 30,
        loss: 0.5,
        accuracy: 0.975,
    };
    assert_eq!(
        record.to_string(),
        "epoch     3  step      30  loss   0.500000  accuracy  97.5%"
    );
}

#[test]
fn the_spiral_follows_the_cs231n_generator() {
    let data = autodiff_runtime::data::spiral(5, 3, &mut seeded_rng(9));
    assert_eq!((data.len(), data.features(), data.classes()), (15, 2, 3));
    assert_eq!(data.labels, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    for j in 0..3 {
        for i in 0..5 {
            let (x, y) = (data.x[(5 * j + i, 0)], data.x[(5 * j + i, 1)]);
            // r = linspace(0, 1, 5).
            assert!(((x * x + y * y).sqrt() - i as f64 / 4.0).abs() < 1e-12);
            if i > 0 {
                // t = linspace(4j, 4j + 4, 5) + 0.2·noise: the angle is near its mean.
                let t = x.atan2(y);
                let mean = 4.0 * j as f64 + i as f64;
                let off = (t - mean).rem_euclid(std::f64::consts::TAU);
                let off = off.min(std::f64::consts::TAU - off);
                assert!(off < 0.2 * 5.0, "angle {t} is far from {mean}");
            }
        }
    }
    assert_eq!(
        data,
        autodiff_runtime::data::spiral(5, 3, &mut seeded_rng(9))
    );
}
