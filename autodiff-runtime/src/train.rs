//! The training loop: epochs of shuffled minibatches, an [`Optimizer`] step per batch, a
//! [`History`] of loss and accuracy, progress on the terminal, and a [`TrainError`] naming
//! the step where the loss stopped being finite.

use crate::data::{shuffled_batches, Dataset};
use crate::init::seeded_rng;
use crate::nn::{Loss, Mlp};
use crate::optim::Optimizer;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt;
use std::io::IsTerminal;

/// How training reports its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// A progress bar when standard output is a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// A progress bar (on standard output) with the loss and accuracy of the last epoch.
    Bar,
    /// One plain line on standard output every tenth of the epochs, and for the last one.
    Lines,
    /// Nothing.
    Silent,
}

/// What [`train`] does.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// The number of passes over the data.
    pub epochs: usize,
    /// The number of samples per step; `0` (or at least the number of samples) for full-batch
    /// training, one step per epoch on the data in its order.
    pub batch_size: usize,
    /// The loss of the scores.
    pub loss: Loss,
    /// The L2 regularization strength `λ`: the objective adds `½·λ·‖W‖²` per weight matrix.
    pub lambda: f64,
    /// The seed of the minibatch shuffling: with the same model, data and seed, a run is
    /// reproduced exactly.
    pub seed: u64,
    /// How progress is shown.
    pub progress: Progress,
    /// The number of shards each minibatch is cut into, their gradients derived on as many
    /// threads at once ([`Mlp::loss_and_grad_sharded`]). `1` (the default) computes each
    /// step as one batch, whose large matrix products still use every core; more shards
    /// keep the cores busy when the products are too small to split (a small or medium
    /// network). A run depends on the number of shards, not on the number of threads, and
    /// equals the one-shard run to rounding. `0` counts as 1.
    pub shards: usize,
    /// How often the accuracy on the whole training data is measured: after every
    /// `evaluate_every`-th epoch and after the last one; the [`Record`]s of the other epochs
    /// hold NaN. `1` (the default) measures it after every epoch; `0` counts as 1. The pass
    /// is a forward pass over every sample, about a third of a step's work per sample: with
    /// few steps per epoch it is a large part of the time (10 steps of 256 samples out of
    /// 2560 samples: a pass takes about what 3 steps take), which this option saves.
    pub evaluate_every: usize,
}

impl Default for TrainConfig {
    /// 100 full-batch epochs of softmax cross-entropy without regularization, seed 0,
    /// automatic progress, one shard, the accuracy measured after every epoch.
    fn default() -> Self {
        TrainConfig {
            epochs: 100,
            batch_size: 0,
            loss: Loss::SoftmaxCrossEntropy,
            lambda: 0.0,
            seed: 0,
            progress: Progress::Auto,
            shards: 1,
            evaluate_every: 1,
        }
    }
}

impl TrainConfig {
    /// Whether the accuracy is measured after `epoch` (from 1): see
    /// [`TrainConfig::evaluate_every`].
    pub(crate) fn evaluates_after(&self, epoch: usize) -> bool {
        epoch % self.evaluate_every.max(1) == 0 || epoch == self.epochs
    }
}

/// The state after one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The number of optimizer steps taken so far.
    pub step: usize,
    /// The mean over the epoch's minibatches of the objective (loss plus L2 penalty), each
    /// before its step.
    pub loss: f64,
    /// The accuracy on the whole training data at the end of the epoch; NaN when it was not
    /// measured after this epoch ([`TrainConfig::evaluate_every`]).
    pub accuracy: f64,
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {:>5}  step {:>7}  loss {:>10.6}  ",
            self.epoch, self.step, self.loss
        )?;
        if self.accuracy.is_nan() {
            // Not measured after this epoch (`TrainConfig::evaluate_every`).
            write!(f, "accuracy     -")
        } else {
            write!(f, "accuracy {:>5.1}%", 100.0 * self.accuracy)
        }
    }
}

/// What happened during training.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// One record per epoch.
    pub epochs: Vec<Record>,
    /// The objective of every step's minibatch, before the step.
    pub step_losses: Vec<f64>,
}

impl History {
    /// The last epoch's record, if any epoch ran.
    pub fn last(&self) -> Option<&Record> {
        self.epochs.last()
    }

    /// The number of steps after which the training accuracy first reached `accuracy`, if it
    /// did (checked at the end of each epoch).
    pub fn steps_to_reach(&self, accuracy: f64) -> Option<usize> {
        self.epochs
            .iter()
            .find(|r| r.accuracy >= accuracy)
            .map(|r| r.step)
    }
}

/// Why training stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainError {
    /// The loss of a minibatch (or its gradient) became NaN or infinite; the model keeps the
    /// parameters it had before that step.
    NonFinite {
        /// `"loss"` or `"gradient"`.
        what: &'static str,
        /// The offending value (the loss, or the gradient's norm).
        value: f64,
        /// The step (from 1) whose minibatch gave it.
        step: usize,
        /// The epoch (from 1) of that step.
        epoch: usize,
    },
    /// The data does not fit the model or the configuration.
    Data(String),
}

impl TrainError {
    /// A loss or gradient norm (`what`) that is not finite, at `step` of `epoch`.
    pub(crate) fn non_finite(what: &'static str, value: f64, step: usize, epoch: usize) -> Self {
        TrainError::NonFinite {
            what,
            value,
            step,
            epoch,
        }
    }
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::NonFinite {
                what,
                value,
                step,
                epoch,
            } => write!(
                f,
                "the {what} became {value} at step {step} (epoch {epoch}): training stopped before \
                 that step's update; lower the learning rate, or check the data for NaN or \
                 infinite values"
            ),
            TrainError::Data(message) => write!(f, "cannot train on this data: {message}"),
        }
    }
}

impl std::error::Error for TrainError {}

/// Trains `model` on `data` with `optimizer` for `config.epochs` epochs and returns the
/// history, or the error that stopped it.
///
/// Each epoch shuffles the samples with a generator seeded from `config.seed` (drawn once
/// per run, so epochs differ), cuts them into minibatches, and for each takes the derived
/// gradient of the objective ([`Mlp::loss_and_grad`], or [`Mlp::loss_and_grad_sharded`] on
/// several threads when `config.shards` is above 1) and one optimizer step.
///
/// ```
/// use autodiff_runtime::data::spiral;
/// use autodiff_runtime::init::{seeded_rng, Init};
/// use autodiff_runtime::nn::{Activation, Mlp};
/// use autodiff_runtime::optim::Adam;
/// use autodiff_runtime::train::{train, Progress, TrainConfig};
///
/// let data = spiral(20, 3, &mut seeded_rng(0));
/// let mut model = Mlp::new(&[2, 16, 3], Activation::Relu, Init::He, &mut seeded_rng(1));
/// let config = TrainConfig { epochs: 20, batch_size: 10, progress: Progress::Silent, ..TrainConfig::default() };
/// let history = train(&mut model, &data, &mut Adam::new(0.01), &config)?;
/// assert_eq!(history.epochs.len(), 20);
/// assert_eq!(history.last().unwrap().step, 20 * 6); // 60 samples, batches of 10
/// # Ok::<(), autodiff_runtime::train::TrainError>(())
/// ```
pub fn train(
    model: &mut Mlp,
    data: &Dataset,
    optimizer: &mut impl Optimizer,
    config: &TrainConfig,
) -> Result<History, TrainError> {
    check_data(model, data)?;
    let mut rng = seeded_rng(config.seed);
    let full_batch = config.batch_size == 0 || config.batch_size >= data.len();
    let mut reporter = Reporter::new(config.progress, config.epochs);
    let mut history = History::default();
    for epoch in 1..=config.epochs {
        let mut epoch_loss = 0.0;
        let batches = if full_batch {
            Vec::new()
        } else {
            shuffled_batches(data.len(), config.batch_size, &mut rng)
        };
        let count = batches.len().max(1);
        for k in 0..count {
            let rows = batches.get(k).map(Vec::as_slice);
            let step = history.step_losses.len() + 1;
            let loss = descend(model, data, rows, optimizer, config)
                .map_err(|(what, value)| TrainError::non_finite(what, value, step, epoch))
                .map_err(|e| reporter.fail(e))?;
            history.step_losses.push(loss);
            epoch_loss += loss;
        }
        let record = Record {
            epoch,
            step: history.step_losses.len(),
            loss: epoch_loss / count as f64,
            accuracy: if config.evaluates_after(epoch) {
                model.correct_rows(&data.x, &data.labels) as f64 / data.len() as f64
            } else {
                f64::NAN
            },
        };
        reporter.epoch(&record);
        history.epochs.push(record);
    }
    reporter.finish();
    Ok(history)
}

/// One optimizer step on the minibatch `rows` of `data` (every row when `None`): its
/// objective, or what was not finite (and no step).
fn descend(
    model: &mut Mlp,
    data: &Dataset,
    rows: Option<&[usize]>,
    optimizer: &mut impl Optimizer,
    config: &TrainConfig,
) -> Result<f64, (&'static str, f64)> {
    let step = model.batch_grad(
        &data.x,
        &data.labels,
        rows,
        config.loss,
        Some(config.lambda),
        config.shards,
    );
    apply(model, step.grad, step.loss, step.norm, optimizer)
}

/// The optimizer's step from `grad`, unless the loss or the gradient's `norm` is not finite:
/// the loss, or what was not finite (and no step). The gradient's buffers go back to the
/// pool.
pub(crate) fn apply(
    model: &mut Mlp,
    grad: Mlp,
    loss: f64,
    norm: f64,
    optimizer: &mut impl Optimizer,
) -> Result<f64, (&'static str, f64)> {
    if !loss.is_finite() {
        return Err(("loss", loss));
    }
    if !norm.is_finite() {
        return Err(("gradient", norm));
    }
    optimizer.update(model, &grad);
    grad.recycle();
    Ok(loss)
}

/// Whether `data` fits `model`: samples, one label each, the model's inputs and classes.
pub(crate) fn check_data(model: &Mlp, data: &Dataset) -> Result<(), TrainError> {
    let sizes = model.sizes();
    let (inputs, classes) = (sizes[0], sizes[sizes.len() - 1]);
    if data.is_empty() {
        return Err(TrainError::Data("there are no samples".into()));
    }
    if data.x.nrows() != data.labels.len() {
        return Err(TrainError::Data(format!(
            "{} samples but {} labels",
            data.x.nrows(),
            data.labels.len()
        )));
    }
    if data.features() != inputs {
        return Err(TrainError::Data(format!(
            "the samples have {} features but the model takes {inputs} inputs",
            data.features()
        )));
    }
    if let Some((i, y)) = data.labels.iter().enumerate().find(|(_, &y)| y >= classes) {
        return Err(TrainError::Data(format!(
            "sample {i} has label {y} but the model has {classes} classes"
        )));
    }
    Ok(())
}

/// Shows progress: a bar, lines, or nothing.
pub(crate) enum Reporter {
    Bar(ProgressBar),
    Lines { every: usize, epochs: usize },
    Silent,
}

impl Reporter {
    pub(crate) fn new(progress: Progress, epochs: usize) -> Reporter {
        let progress = match progress {
            Progress::Auto if std::io::stdout().is_terminal() => Progress::Bar,
            Progress::Auto => Progress::Lines,
            other => other,
        };
        match progress {
            Progress::Bar => {
                let bar = ProgressBar::with_draw_target(
                    Some(epochs as u64),
                    ProgressDrawTarget::stdout(),
                );
                let style = ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30.cyan/blue}] epoch {pos}/{len}  {msg}  ({eta} left)",
                )
                .expect("the template is valid")
                .progress_chars("=> ");
                bar.set_style(style);
                Reporter::Bar(bar)
            }
            Progress::Lines => Reporter::Lines {
                every: (epochs / 10).max(1),
                epochs,
            },
            _ => Reporter::Silent,
        }
    }

    pub(crate) fn epoch(&mut self, record: &Record) {
        match self {
            Reporter::Bar(bar) => {
                let accuracy = if record.accuracy.is_nan() {
                    "-".to_string()
                } else {
                    format!("{:.1}%", 100.0 * record.accuracy)
                };
                bar.set_message(format!("loss {:.4}  accuracy {accuracy}", record.loss));
                bar.set_position(record.epoch as u64);
            }
            Reporter::Lines { every, epochs } => {
                if record.epoch % *every == 0 || record.epoch == *epochs || record.epoch == 1 {
                    println!("{record}");
                }
            }
            Reporter::Silent => {}
        }
    }

    pub(crate) fn fail(&mut self, error: TrainError) -> TrainError {
        if let Reporter::Bar(bar) = self {
            bar.abandon_with_message(error.to_string());
        }
        error
    }

    pub(crate) fn finish(&mut self) {
        if let Reporter::Bar(bar) = self {
            bar.finish();
        }
    }
}
