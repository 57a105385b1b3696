//! The digits example (06) on several processes over MPI: each rank keeps its shard of the
//! training images, derives the gradient of its part of every minibatch, and the ranks sum
//! their gradients with one all-reduce per step (`autodiff::distributed`), so that every rank
//! ends with the same parameters, bit for bit. Rank 0 shows the progress, writes the model
//! and tests it on the held-out images.
//!
//! ```sh
//! cargo build --release -p autodiff-example-digits --features mpi --example digits_mpi
//! mpirun -np 2 target/release/examples/digits_mpi
//! ```
//!
//! (As root, Open MPI wants `mpirun --allow-run-as-root`; with more ranks than cores,
//! `--oversubscribe`.) Run without `mpirun`, it is a job of one rank.

use autodiff::distributed::{self, Cluster};
use autodiff::init::{seeded_rng, Init};
use autodiff::nn::{Activation, Mlp};
use autodiff::optim::Adam;
use autodiff::train::{Progress, TrainConfig};
use std::error::Error;
use std::time::Instant;

#[path = "common/digits.rs"]
mod digits;
use digits::load_digits;

fn main() -> Result<(), Box<dyn Error>> {
    let mut cluster = Cluster::init()?;
    // The same split on every rank (the same seed); each rank keeps its rows of the
    // training set. (A data set in files would be read by each rank for its rows only.)
    let digits = load_digits()?;
    let (train_set, test_set) = digits.split(0.2, &mut seeded_rng(0));
    let rows: Vec<usize> = cluster.shard(train_set.len()).collect();
    let mine = train_set.select(&rows);
    println!(
        "rank {} of {}: training images {}..{} ({} of {})",
        cluster.rank(),
        cluster.size(),
        rows[0],
        rows[rows.len() - 1] + 1,
        mine.len(),
        train_set.len()
    );

    // The same model on every rank: the same seed.
    let mut model = Mlp::new(
        &[64, 64, 10],
        Activation::Relu,
        Init::He,
        &mut seeded_rng(1),
    );
    let config = TrainConfig {
        epochs: 100,
        // Over all ranks: each rank's part of a step is about 32 / ranks images.
        batch_size: 32,
        lambda: 1e-4,
        seed: 2,
        progress: Progress::Lines,
        ..TrainConfig::default()
    };
    let start = Instant::now();
    let history = distributed::train(
        &mut cluster,
        &mut model,
        &mine,
        &mut Adam::new(1e-3),
        &config,
    )?;
    let seconds = start.elapsed().as_secs_f64();
    if !cluster.agree(&model.parameters().concat()) {
        return Err("the ranks ended with different parameters".into());
    }
    if !cluster.is_root() {
        return Ok(());
    }

    let last = history.last().expect("trained");
    println!(
        "{} ranks, {} steps in {:.2} s ({:.0} samples/s): training accuracy {:.1}%; every \
         rank has the same parameters, bit for bit",
        cluster.size(),
        last.step,
        seconds,
        (config.epochs * train_set.len()) as f64 / seconds,
        100.0 * last.accuracy
    );
    let path = std::env::temp_dir().join("digits_mpi_model.json");
    model.save(&path)?;
    println!("rank 0 wrote the model to {}", path.display());

    let predictions = model.predict(&test_set.x);
    let accuracy = autodiff::data::accuracy(&predictions, &test_set.labels);
    println!(
        "held-out accuracy: {:.1}% ({} of {} test images)",
        100.0 * accuracy,
        (accuracy * test_set.len() as f64).round(),
        test_set.len()
    );
    if accuracy < 0.95 {
        return Err(format!(
            "expected at least 95% held-out accuracy, got {:.1}%",
            100.0 * accuracy
        )
        .into());
    }
    Ok(())
}
