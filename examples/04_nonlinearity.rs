//! Why the nonlinearity matters: on the spiral, a linear classifier (scores = x·W + b, the
//! network without its hidden layer) against the 2 → 100 → 3 ReLU network, trained the same
//! way. No line separates the arms, so the linear classifier stays near chance (1/3 for
//! three balanced classes, about half with the best lines), while the network fits them.
//!
//! Writes `target/plots/nonlinearity.png` (`$CARGO_TARGET_DIR/plots/` when that variable is
//! set): both decision regions side by side.
//!
//! Run with `cargo run --release --example nonlinearity`.

#[path = "common/plot.rs"]
mod plot;

use autodiff::data::spiral;
use autodiff::init::{seeded_rng, Init};
use autodiff::nn::{Activation, Mlp};
use autodiff::optim::Sgd;
use autodiff::train::{train, Progress, TrainConfig};
use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let data = spiral(100, 3, &mut seeded_rng(0));
    let config = TrainConfig {
        epochs: 2000,
        lambda: 1e-3,
        progress: Progress::Silent,
        ..TrainConfig::default()
    };

    let mut linear = Mlp::new(
        &[2, 3],
        Activation::Identity,
        Init::Xavier,
        &mut seeded_rng(1),
    );
    let linear_history = train(&mut linear, &data, &mut Sgd::new(1.0), &config)?;
    let mut mlp = Mlp::new(&[2, 100, 3], Activation::Relu, Init::He, &mut seeded_rng(1));
    let mlp_history = train(&mut mlp, &data, &mut Sgd::new(1.0), &config)?;

    let linear_acc = linear_history.last().expect("trained").accuracy;
    let mlp_acc = mlp_history.last().expect("trained").accuracy;
    println!(
        "the same spiral, the same {} full-batch steps of gradient descent:",
        config.epochs
    );
    println!(
        "  linear classifier  x·W + b                  training accuracy {:5.1}%",
        100.0 * linear_acc
    );
    println!(
        "  ReLU network       relu(x·W1 + b1)·W2 + b2  training accuracy {:5.1}%",
        100.0 * mlp_acc
    );
    println!(
        "  chance (three balanced classes)                              {:5.1}%",
        100.0 / 3.0
    );

    let path = plot::plots_dir().join("nonlinearity.png");
    plot::png(&path, (1100, 560), |area| {
        let (left, right) = area.split_horizontally(550);
        plot::decision_regions(
            &left,
            &linear,
            &data,
            &format!(
                "linear classifier: {:.1}% training accuracy",
                100.0 * linear_acc
            ),
        )?;
        plot::decision_regions(
            &right,
            &mlp,
            &data,
            &format!("ReLU net: {:.1}% training accuracy", 100.0 * mlp_acc),
        )
    })?;
    println!("wrote {}", path.display());
    Ok(())
}
