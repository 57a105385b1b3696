//! A recurrent network written as a plain `for` loop inside `#[differentiate]`: it reads
//! noisy sine waves one value at a time and predicts the next value. Each wave has its own
//! random frequency, phase and amplitude, so the network has to infer them from what it has
//! read so far. The gradient of the loss through every step of the recurrence is derived at
//! compile time; Adam trains on a fresh batch of waves each step, and a held-out set of waves
//! measures the result against the simplest predictor, "the next value is the last one".
//!
//! Prints the loss while it trains and writes the loss curves to
//! `target/plots/rnn_loss.png` (`$CARGO_TARGET_DIR/plots/` when that variable is set).
//!
//! Run with `cargo run --release --example rnn`.

#[path = "common/plot.rs"]
mod plot;

use autodiff::init::{seeded_rng, Init, SeededRng};
use autodiff::optim::{Adam, Optimizer};
use autodiff::prelude::*;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use std::error::Error;
use std::f64::consts::TAU;
use std::time::Instant;

/// Hidden units of the recurrent layer.
const HIDDEN: usize = 32;
/// Values each wave is read for: the network predicts after each of them.
const STEPS: usize = 24;
/// Waves per training batch.
const BATCH: usize = 32;
/// Training steps (one fresh batch each).
const TRAIN_STEPS: usize = 1500;
/// Waves in the held-out set.
const HELD_OUT: usize = 256;
/// The standard deviation of the noise added to every value of a wave.
const NOISE: f64 = 0.05;

/// The mean squared error of the next-value predictions of an Elman RNN over a batch of
/// sequences: `xs[t]` holds value `t` of each sequence (one row per sequence), `ys[t]` the
/// value that follows it. The hidden state starts at zero and is carried from one step to
/// the next by the loop.
#[differentiate(wrt(wx, wh, b, wy, by))]
fn rnn_loss(
    xs: &[DMatrix<f64>],
    ys: &[DMatrix<f64>],
    wx: &DMatrix<f64>,
    wh: &DMatrix<f64>,
    b: &RowDVector<f64>,
    wy: &DMatrix<f64>,
    by: &RowDVector<f64>,
) -> f64 {
    let mut h = DMatrix::zeros(xs[0].nrows(), wh.nrows());
    let mut total = 0.0;
    for (x, y) in xs.iter().zip(ys.iter()) {
        h = tanh(add_bias(x * wx + &h * wh, b));
        let prediction = add_bias(&h * wy, by);
        let error = prediction - y;
        total += error.norm_squared();
    }
    total / (xs.len() * xs[0].nrows()) as f64
}

/// A batch of `waves` noisy sine waves, read for `STEPS` values each: the inputs (value `t`
/// of every wave, one row per wave) and the targets (value `t + 1`).
fn waves(waves: usize, rng: &mut SeededRng) -> (Vec<DMatrix<f64>>, Vec<DMatrix<f64>>) {
    let noise = Normal::new(0.0, NOISE).expect("a positive standard deviation");
    let mut values = DMatrix::zeros(waves, STEPS + 1);
    for mut row in values.row_iter_mut() {
        // Frequency in radians per step (a period of 10 to 40 steps), phase, amplitude.
        let frequency = rng.random_range(TAU / 40.0..TAU / 10.0);
        let phase = rng.random_range(0.0..TAU);
        let amplitude = rng.random_range(0.5..1.0);
        for (t, v) in row.iter_mut().enumerate() {
            *v = amplitude * (frequency * t as f64 + phase).sin() + noise.sample(rng);
        }
    }
    let column = |t: usize| DMatrix::from_iterator(waves, 1, values.column(t).iter().copied());
    (
        (0..STEPS).map(column).collect(),
        (1..=STEPS).map(column).collect(),
    )
}

/// The mean squared error of predicting that the next value is the last one read.
fn repeat_last_loss(xs: &[DMatrix<f64>], ys: &[DMatrix<f64>]) -> f64 {
    let total: f64 = xs.iter().zip(ys).map(|(x, y)| (y - x).norm_squared()).sum();
    total / (xs.len() * xs[0].nrows()) as f64
}

/// The parameters of the network.
struct Rnn {
    wx: DMatrix<f64>,
    wh: DMatrix<f64>,
    b: RowDVector<f64>,
    wy: DMatrix<f64>,
    by: RowDVector<f64>,
}

impl Rnn {
    fn new(rng: &mut SeededRng) -> Rnn {
        Rnn {
            wx: Init::Xavier.weights(1, HIDDEN, rng),
            wh: Init::Xavier.weights(HIDDEN, HIDDEN, rng),
            b: RowDVector::zeros(HIDDEN),
            wy: Init::Xavier.weights(HIDDEN, 1, rng),
            by: RowDVector::zeros(1),
        }
    }

    fn loss(&self, xs: &[DMatrix<f64>], ys: &[DMatrix<f64>]) -> f64 {
        rnn_loss(xs, ys, &self.wx, &self.wh, &self.b, &self.wy, &self.by)
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut data_rng = seeded_rng(0);
    let (test_xs, test_ys) = waves(HELD_OUT, &mut data_rng);
    let baseline = repeat_last_loss(&test_xs, &test_ys);
    let mut model = Rnn::new(&mut seeded_rng(1));
    let start_loss = model.loss(&test_xs, &test_ys);
    println!(
        "RNN with {HIDDEN} hidden units, next value of noisy sine waves read for {STEPS} steps \
         (noise σ = {NOISE}); Adam at 0.01 (0.001 for the last third), {TRAIN_STEPS} steps of {BATCH} fresh waves"
    );
    println!(
        "held-out mean squared error ({HELD_OUT} waves): {start_loss:.4} untrained, \
         {baseline:.4} repeating the last value, {:.4} for the noise alone",
        NOISE * NOISE
    );

    let mut optimizer = Adam::new(0.01);
    let (mut train_curve, mut test_curve) = (Vec::new(), Vec::new());
    let started = Instant::now();
    for step in 0..TRAIN_STEPS {
        // A tenth of the learning rate for the last third, to settle.
        if step == 2 * TRAIN_STEPS / 3 {
            optimizer.learning_rate = 0.001;
        }
        let (xs, ys) = waves(BATCH, &mut data_rng);
        let (loss, g) = rnn_loss_grad(
            &xs, &ys, &model.wx, &model.wh, &model.b, &model.wy, &model.by,
        );
        if !loss.is_finite() {
            return Err(format!("the training loss is {loss} at step {step}").into());
        }
        optimizer.step(
            vec![
                model.wx.as_mut_slice(),
                model.wh.as_mut_slice(),
                model.b.as_mut_slice(),
                model.wy.as_mut_slice(),
                model.by.as_mut_slice(),
            ],
            vec![
                g.wx.as_slice(),
                g.wh.as_slice(),
                g.b.as_slice(),
                g.wy.as_slice(),
                g.by.as_slice(),
            ],
        );
        train_curve.push(loss);
        test_curve.push(model.loss(&test_xs, &test_ys));
        if step % 100 == 99 {
            println!(
                "step {:>4}: training batch {loss:.4}, held-out {:.4}",
                step + 1,
                test_curve[step]
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let end_loss = model.loss(&test_xs, &test_ys);
    println!(
        "trained in {seconds:.1} s: held-out loss {start_loss:.4} → {end_loss:.4} \
         (repeating the last value: {baseline:.4}, {:.1}× the trained network's)",
        baseline / end_loss
    );
    if end_loss >= 0.5 * baseline {
        return Err(format!(
            "expected the trained network to halve the loss of repeating the last value \
             ({baseline:.4}), got {end_loss:.4}"
        )
        .into());
    }

    let curve = plot::plots_dir().join("rnn_loss.png");
    let flat = vec![baseline; TRAIN_STEPS];
    plot::png(&curve, (720, 420), |area| {
        plot::loss_curves(
            area,
            "RNN on noisy sine waves: next-value mean squared error",
            &[
                ("training batch", &train_curve),
                ("held-out waves", &test_curve),
                ("repeat the last value", &flat),
            ],
        )
    })?;
    println!("wrote {}", curve.display());
    Ok(())
}
