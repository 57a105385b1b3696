//! A real data set that no one here made: the 1797 8×8 images of handwritten digits of the
//! UCI "Optical Recognition of Handwritten Digits" collection (the set scikit-learn calls
//! `load_digits`), shipped inside the `smartcore` crate, so it needs no download at run time.
//!
//! A 64 → 64 → 10 ReLU network trained with Adam on shuffled minibatches of 80% of the
//! images; the accuracy printed at the end is on the other 20%, which training never saw.
//!
//! Run with `cargo run --release --example digits`.

use autodiff::init::{seeded_rng, Init};
use autodiff::nn::{Activation, Mlp};
use autodiff::optim::Adam;
use autodiff::train::{train, Progress, TrainConfig};
use std::error::Error;
use std::time::Instant;

#[path = "common/digits.rs"]
mod digits;
use digits::load_digits;

fn main() -> Result<(), Box<dyn Error>> {
    let digits = load_digits()?;
    let (train_set, test_set) = digits.split(0.2, &mut seeded_rng(0));
    println!(
        "digits: {} images of {} pixels, {} classes; {} to train on, {} held out",
        digits.len(),
        digits.features(),
        digits.classes(),
        train_set.len(),
        test_set.len()
    );

    let mut model = Mlp::new(
        &[64, 64, 10],
        Activation::Relu,
        Init::He,
        &mut seeded_rng(1),
    );
    let config = TrainConfig {
        epochs: 100,
        batch_size: 32,
        lambda: 1e-4,
        seed: 2,
        progress: Progress::Auto,
        ..TrainConfig::default()
    };
    let start = Instant::now();
    let history = train(&mut model, &train_set, &mut Adam::new(1e-3), &config)?;
    let last = history.last().expect("trained");
    println!(
        "{} steps in {:.2} s: training accuracy {:.1}%",
        last.step,
        start.elapsed().as_secs_f64(),
        100.0 * last.accuracy
    );

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

    // Rows: the true digit; columns: the predicted one.
    let mut confusion = [[0usize; 10]; 10];
    for (&y, &p) in test_set.labels.iter().zip(&predictions) {
        confusion[y][p] += 1;
    }
    println!("\nconfusion matrix of the held-out images (rows: true digit, columns: predicted)");
    println!(
        "     {}",
        (0..10).map(|d| format!("{d:>4}")).collect::<String>()
    );
    for (d, row) in confusion.iter().enumerate() {
        println!(
            "{d:>4} {}",
            row.iter().map(|n| format!("{n:>4}")).collect::<String>()
        );
    }
    Ok(())
}
