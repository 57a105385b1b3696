//! [`train`] over MPI: every rank steps through minibatches of its own shard of the data,
//! the ranks' gradients summed by [`Cluster::mean_of_slices`] at every step, or, with an
//! elementwise optimizer and a large model, each rank finishing its own chunk (`owned.rs`).

use super::{ring, Cluster};
use crate::data::Dataset;
use crate::init::seeded_rng;
use crate::nn::Mlp;
use crate::optim::Optimizer;
use crate::parallel::shard_range;
use crate::train::{check_data, History, Progress, Record, Reporter, TrainConfig, TrainError};
use rand::seq::SliceRandom;

/// [`crate::train::train`] on every rank of `cluster` at once, `data` being this rank's
/// shard of the samples (its rows [`Cluster::shard`] of the whole set, say); returns the
/// same [`History`] on every rank, and leaves the same parameters, bit for bit, in every
/// rank's `model`.
///
/// Every rank calls it with the same `model`, optimizer and `config` (checked for the
/// model's parameters: different ones are a [`TrainError::Data`] on every rank).
///
/// - `config.batch_size` is the size of the whole minibatch, over all ranks: an epoch has
///   `⌈n / batch_size⌉` steps, `n` the samples of all ranks, and each rank cuts its shard,
///   shuffled by a generator seeded from `config.seed` and its rank, into that many parts
///   of sizes within one. A step's gradient is the mean over the union of the ranks' parts
///   (the ranks' means weighted by their sizes). A rank with fewer samples than steps is a
///   [`TrainError::Data`] on every rank. The minibatches are not those of a one-process run
///   of the same seed.
/// - With `batch_size` 0 (or at least `n`) each step is the full batch, every rank's whole
///   shard: the run then equals the one-process run on all the samples to rounding.
/// - `config.shards` cuts each rank's part into shards on its threads as in
///   [`crate::train::train`]; the L2 penalty is added once, after the sum over the ranks.
/// - With an optimizer whose update is elementwise ([`Optimizer::elementwise`]: SGD,
///   momentum, Adam) and a model large enough for the ring, each rank updates only its part
///   of the parameters, and the optimizer keeps the state of that part only: it can go on
///   with `distributed::train` on the same ranks, but not with one process's
///   [`crate::train::train`] (a panic that says so; give that a new optimizer).
/// - Progress is shown by rank 0 only; the other ranks are silent.
/// - The accuracy of each epoch's [`Record`] is over all ranks' samples (one more
///   all-reduce, of one number, per epoch that measures it: see
///   [`TrainConfig::evaluate_every`]).
///
/// A rank that fails or hangs makes the others abort after [`Cluster::timeout`]; see the
/// module's documentation.
pub fn train(
    cluster: &mut Cluster,
    model: &mut Mlp,
    data: &Dataset,
    optimizer: &mut impl Optimizer,
    config: &TrainConfig,
) -> Result<History, TrainError> {
    let plan = agree_on_the_data(cluster, model, data, config)?;
    let seed = config.seed ^ (cluster.rank() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut rng = seeded_rng(seed);
    let progress = if cluster.is_root() {
        config.progress
    } else {
        Progress::Silent
    };
    let mut reporter = Reporter::new(progress, config.epochs);
    let mut history = History::default();
    let mut order: Vec<usize> = (0..data.len()).collect();
    for epoch in 1..=config.epochs {
        let mut epoch_loss = 0.0;
        if plan.steps > 1 {
            order.shuffle(&mut rng);
        }
        for k in 0..plan.steps {
            let part = &order[shard_range(data.len(), plan.steps, k)];
            let rows = (plan.steps > 1).then_some(part);
            let step = history.step_losses.len() + 1;
            let counts = plan.step_counts(k);
            let loss = descend(cluster, model, (data, rows, &counts), optimizer, config)
                .map_err(|(what, value)| TrainError::non_finite(what, value, step, epoch))
                .map_err(|e| reporter.fail(e))?;
            history.step_losses.push(loss);
            epoch_loss += loss;
        }
        let accuracy = if config.evaluates_after(epoch) {
            let mut sum = [model.correct_rows(&data.x, &data.labels) as f64];
            cluster.all_reduce_sum(&mut sum);
            sum[0] / plan.samples as f64
        } else {
            f64::NAN
        };
        let record = Record {
            epoch,
            step: history.step_losses.len(),
            loss: epoch_loss / plan.steps as f64,
            accuracy,
        };
        reporter.epoch(&record);
        history.epochs.push(record);
    }
    reporter.finish();
    Ok(history)
}

/// What every rank agreed on before the first step.
struct Plan {
    /// The samples of all ranks.
    samples: usize,
    /// The steps of an epoch.
    steps: usize,
    /// The samples of each rank.
    counts: Vec<usize>,
}

impl Plan {
    /// The samples of each rank in step `k` of an epoch: its part of its shard.
    fn step_counts(&self, k: usize) -> Vec<usize> {
        let part = |&count: &usize| shard_range(count, self.steps, k).len();
        self.counts.iter().map(part).collect()
    }
}

/// One all-reduce of every rank's sample count and of whether its data fits the model, and
/// one of the model's parameters: the same plan, or the same error, on every rank.
fn agree_on_the_data(
    cluster: &mut Cluster,
    model: &Mlp,
    data: &Dataset,
    config: &TrainConfig,
) -> Result<Plan, TrainError> {
    let (rank, size) = (cluster.rank(), cluster.size());
    let fits = check_data(model, data);
    let mut counts = vec![0.0; 2 * size];
    counts[rank] = data.len() as f64;
    counts[size + rank] = f64::from(u8::from(fits.is_err()));
    cluster.all_reduce_sum(&mut counts);
    fits?;
    if let Some(other) = (0..size).find(|&r| counts[size + r] != 0.0) {
        return Err(TrainError::Data(format!(
            "the data of rank {other} does not fit the model (its own error says why)"
        )));
    }
    if !cluster.agree(&model.parameters().concat()) {
        return Err(TrainError::Data(
            "the ranks start from different parameters: create the model from the same seed \
             (or load the same file) on every rank"
                .into(),
        ));
    }
    let samples = counts[..size].iter().sum::<f64>() as usize;
    let steps = match config.batch_size {
        0 => 1,
        b if b >= samples => 1,
        b => samples.div_ceil(b),
    };
    if let Some(r) = (0..size).find(|&r| (counts[r] as usize) < steps) {
        return Err(TrainError::Data(format!(
            "rank {r} holds {} samples, fewer than the {steps} steps of an epoch (minibatches \
             of {} from {samples} samples): give it more, or use fewer ranks or larger batches",
            counts[r], config.batch_size
        )));
    }
    let counts = counts[..size].iter().map(|&c| c as usize).collect();
    Ok(Plan {
        samples,
        steps,
        counts,
    })
}

/// One step: this rank's part `rows` of the minibatch (its whole shard when `None`), of
/// `counts[r]` samples on rank `r`, the sum over the ranks, the penalty and the gradient's
/// norm in one pass, the update; the objective, or what was not finite (and no update).
///
/// With an elementwise optimizer and a gradient that goes by the ring, each rank finishes
/// and updates only its chunk of the parameters (`owned.rs`); otherwise every rank does
/// the whole after one all-reduce.
fn descend(
    cluster: &mut Cluster,
    model: &mut Mlp,
    (data, rows, counts): (&Dataset, Option<&[usize]>, &[usize]),
    optimizer: &mut impl Optimizer,
    config: &TrainConfig,
) -> Result<f64, (&'static str, f64)> {
    let count = rows.map_or(data.len(), <[usize]>::len);
    let mut step = model.batch_grad(
        &data.x,
        &data.labels,
        rows,
        config.loss,
        None,
        config.shards,
    );
    if optimizer.elementwise() && ring::splits(cluster.size(), model.parameter_count()) {
        let mine = (step.loss, step.grad);
        return cluster.owned_step(model, mine, counts, config.lambda, optimizer);
    }
    let (data_loss, _) = cluster.mean_of_slices(count, step.loss, &mut step.grad.parameters_mut());
    let (loss, norm) = model.add_penalty_and_norm(data_loss, &mut step.grad, config.lambda);
    crate::train::apply(model, step.grad, loss, norm, optimizer)
}
