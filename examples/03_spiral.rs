//! The spiral of Stanford's CS231n: three interleaved arms of 100 points each, which no line
//! separates, learnt by a 2 → 100 → 3 ReLU network whose gradient is derived at compile
//! time. Shows progress while it trains, saves the model and reloads it, and draws two
//! pictures:
//!
//! - `target/plots/spiral_regions.png`: the decision regions with the points on top;
//! - `target/plots/spiral_loss.png`: the loss, step by step (on a log scale).
//!
//! (`$CARGO_TARGET_DIR/plots/` instead of `target/plots/` when that variable is set.)
//!
//! Run with `cargo run --release --example spiral`.

#[path = "common/plot.rs"]
mod plot;

use autodiff::data::spiral;
use autodiff::init::{seeded_rng, Init};
use autodiff::nn::{Activation, Loss, Mlp};
use autodiff::optim::Sgd;
use autodiff::train::{train, Progress, TrainConfig};
use std::error::Error;
use std::time::Instant;

fn main() -> Result<(), Box<dyn Error>> {
    let data = spiral(100, 3, &mut seeded_rng(0));
    let mut model = Mlp::new(&[2, 100, 3], Activation::Relu, Init::He, &mut seeded_rng(1));
    println!(
        "spiral: {} points in {} classes; model {:?} with {} parameters",
        data.len(),
        data.classes(),
        model.sizes(),
        model.parameter_count()
    );

    // CS231n's recipe: full-batch gradient descent, step size 1, L2 strength 1e-3.
    let config = TrainConfig {
        epochs: 2000,
        batch_size: 0,
        loss: Loss::SoftmaxCrossEntropy,
        lambda: 1e-3,
        seed: 0,
        progress: Progress::Auto,
        // Each step as one batch (the default; see `TrainConfig::shards`).
        shards: 1,
        // The accuracy after every epoch (the default): `steps_to_reach` below reads it.
        evaluate_every: 1,
    };
    let start = Instant::now();
    let history = train(&mut model, &data, &mut Sgd::new(1.0), &config)?;
    let seconds = start.elapsed().as_secs_f64();
    let last = history.last().expect("at least one epoch");
    println!(
        "trained {} steps in {seconds:.2} s: loss {:.4}, training accuracy {:.1}%",
        last.step,
        last.loss,
        100.0 * last.accuracy
    );
    if last.accuracy < 0.97 {
        return Err(format!(
            "expected at least 97% training accuracy, got {:.1}%",
            100.0 * last.accuracy
        )
        .into());
    }
    if let Some(steps) = history.steps_to_reach(0.97) {
        println!("97% training accuracy first reached after {steps} steps");
    }

    let dir = plot::plots_dir();
    let model_path = dir.join("spiral_model.json");
    model.save(&model_path)?;
    let reloaded = Mlp::load(&model_path)?;
    assert_eq!(
        reloaded.forward(&data.x),
        model.forward(&data.x),
        "a reloaded model computes the same scores"
    );
    println!(
        "saved the model to {} and reloaded it: identical scores",
        model_path.display()
    );

    let regions = dir.join("spiral_regions.png");
    let title = format!(
        "2-100-3 ReLU net: {:.1}% training accuracy",
        100.0 * last.accuracy
    );
    plot::png(&regions, (640, 640), |area| {
        plot::decision_regions(area, &model, &data, &title)
    })?;
    let curve = dir.join("spiral_loss.png");
    plot::png(&curve, (720, 420), |area| {
        plot::loss_curves(
            area,
            "spiral: training loss (cross-entropy + L2)",
            &[("", &history.step_losses)],
        )
    })?;
    println!("wrote {} and {}", regions.display(), curve.display());
    Ok(())
}
