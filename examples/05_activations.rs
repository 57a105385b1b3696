//! The activation functions compared on the spiral: the same 2 → 100 → 3 network with each
//! hidden activation (sigmoid, tanh, ReLU, leaky ReLU, ELU, maxout), the same data, seeds and
//! optimizer (Adam, full batch). Prints a table of the steps each needed to reach 95%
//! training accuracy and the final accuracy, and writes the loss curves to
//! `target/plots/activations.png` (`$CARGO_TARGET_DIR/plots/` when that variable is set).
//!
//! Run with `cargo run --release --example activations`.

#[path = "common/plot.rs"]
mod plot;

use autodiff::data::spiral;
use autodiff::init::{seeded_rng, Init};
use autodiff::nn::{Activation, Mlp};
use autodiff::optim::Adam;
use autodiff::train::{train, History, Progress, TrainConfig};
use std::error::Error;
use std::time::Instant;

fn main() -> Result<(), Box<dyn Error>> {
    let data = spiral(100, 3, &mut seeded_rng(0));
    let config = TrainConfig {
        epochs: 2000,
        lambda: 1e-3,
        progress: Progress::Silent,
        ..TrainConfig::default()
    };
    println!(
        "2-100-3 network on the spiral, Adam (learning rate 0.01), full batch, {} steps\n",
        config.epochs
    );
    println!(
        "{:<18} {:>12} {:>16} {:>12} {:>9}",
        "activation", "init", "steps to 95%", "final acc.", "time"
    );

    let mut runs: Vec<(String, History)> = Vec::new();
    for activation in Activation::ALL {
        let init = Init::for_activation(activation);
        let mut model = Mlp::new(&[2, 100, 3], activation, init, &mut seeded_rng(1));
        let start = Instant::now();
        let history = train(&mut model, &data, &mut Adam::new(0.01), &config)?;
        let seconds = start.elapsed().as_secs_f64();
        let reached = history
            .steps_to_reach(0.95)
            .map_or("never".to_string(), |s| s.to_string());
        let last = history.last().expect("trained");
        println!(
            "{:<18} {:>12} {:>16} {:>11.1}% {:>8.2}s",
            activation.name(),
            format!("{init:?}"),
            reached,
            100.0 * last.accuracy,
            seconds
        );
        runs.push((activation.name(), history));
    }

    let path = plot::plots_dir().join("activations.png");
    let series: Vec<(&str, &[f64])> = runs
        .iter()
        .map(|(n, h)| (n.as_str(), &h.step_losses[..]))
        .collect();
    plot::png(&path, (800, 480), |area| {
        plot::loss_curves(area, "spiral: training loss by activation", &series)
    })?;
    println!("\nwrote {}", path.display());
    Ok(())
}
