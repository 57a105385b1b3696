//! Newton-CG, which steps with second derivatives, against gradient descent and Adam, which
//! step with the gradient alone, on a problem with one optimum: a softmax classifier of the
//! spiral's points (CS231n's, 300 points in 3 arms) on 100 fixed random Fourier features of
//! them, `cos(x·Ω + φ)`, with an L2 penalty. Its loss is convex in the weights, and the
//! classifier separates the arms (99.3% training accuracy at the optimum).
//!
//! `#[differentiate(hvp)]` on the loss generates `loss_hvp` next to `loss_grad`: the value, the
//! gradient and the Hessian-vector product `H·v`, which is all Newton-CG needs. It solves each
//! Newton system by conjugate gradients, one product per iteration, and never forms the
//! Hessian.
//!
//! Prints, for each optimizer, the iterations it takes to get within 10⁻⁶ and 10⁻¹⁰ of the
//! optimum and how far it strays after that, the gradients and products it evaluated and its
//! time, and draws the loss minus the optimum, iteration by iteration, to
//! `target/plots/newton.png` (`$CARGO_TARGET_DIR/plots/` when that variable is set). Fails
//! unless Newton-CG converges and gets within 10⁻¹⁰ of the optimum in fewer iterations than
//! either of the others.
//!
//! Run with `cargo run --release --example newton`.

#[path = "common/plot.rs"]
mod plot;

use autodiff::init::seeded_rng;
use autodiff::optim::{Adam, NewtonCg, Optimizer, Sgd};
use autodiff::prelude::*;
use plotters::prelude::*;
use rand_distr::{Distribution, Normal, Uniform};
use std::error::Error;
use std::time::Instant;

/// The random Fourier features of each point.
const FEATURES: usize = 100;
/// The strength of the L2 penalty: small, so that the problem is ill-conditioned.
const LAMBDA: f64 = 1e-4;
/// The iterations of gradient descent and Adam.
const ITERATIONS: usize = 5000;
/// The learning rate of gradient descent: about the largest that converges (30 does not).
const GD_RATE: f64 = 20.0;
/// The learning rate of Adam. At a fixed rate Adam gets close, then oscillates about the
/// optimum; larger rates get close sooner and oscillate farther.
const ADAM_RATE: f64 = 0.03;
/// The distances to the optimum whose iterations are counted.
const TOLERANCES: [f64; 2] = [1e-6, 1e-10];

/// Softmax cross-entropy of the scores `features·w + b`, plus L2 on `w`.
#[differentiate(wrt(w, b), hvp)]
fn loss(
    w: &DMatrix<f64>,
    b: &RowDVector<f64>,
    features: &DMatrix<f64>,
    labels: &[usize],
    lambda: f64,
) -> f64 {
    let scores = add_bias(features * w, b);
    softmax_cross_entropy(&scores, labels) + 0.5 * lambda * w.norm_squared()
}

/// What the optimizers step: the parameters of `loss`.
#[derive(Parameters, Clone)]
struct Weights {
    w: DMatrix<f64>,
    b: RowDVector<f64>,
}

/// One optimizer's run: the loss before each iteration and after the last, the gradients and
/// Hessian-vector products evaluated, the time taken.
struct Run {
    name: &'static str,
    losses: Vec<f64>,
    gradients: usize,
    products: usize,
    seconds: f64,
}

impl Run {
    /// The iterations after which the loss is first within `tolerance` of `best`.
    fn iterations_to(&self, best: f64, tolerance: f64) -> Option<usize> {
        self.losses.iter().position(|&v| v - best <= tolerance)
    }

    /// The largest distance to `best` after the loss is first within `tolerance` of it.
    fn worst_after(&self, best: f64, tolerance: f64) -> Option<f64> {
        let first = self.iterations_to(best, tolerance)?;
        Some(
            self.losses[first..]
                .iter()
                .fold(0.0, |m, &v| m.max(v - best)),
        )
    }
}

/// `ITERATIONS` steps of `optimizer` from `start`.
fn first_order(
    name: &'static str,
    mut optimizer: impl Optimizer,
    start: &Weights,
    value_grad: impl Fn(&Weights) -> (f64, Weights),
) -> Run {
    let timer = Instant::now();
    let mut p = start.clone();
    let mut losses = Vec::with_capacity(ITERATIONS + 1);
    for _ in 0..ITERATIONS {
        let (value, grad) = value_grad(&p);
        losses.push(value);
        optimizer.update(&mut p, &grad);
    }
    losses.push(value_grad(&p).0);
    Run {
        name,
        gradients: losses.len(),
        losses,
        products: 0,
        seconds: timer.elapsed().as_secs_f64(),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let data = autodiff::data::spiral(100, 3, &mut seeded_rng(0));
    let mut rng = seeded_rng(1);
    let (normal, phase) = (
        Normal::new(0.0, 3.0)?,
        Uniform::new(0.0, std::f64::consts::TAU)?,
    );
    let omega = DMatrix::from_fn(2, FEATURES, |_, _| normal.sample(&mut rng));
    let phi = RowDVector::from_fn(FEATURES, |_, _| phase.sample(&mut rng));
    let scale = (2.0 / FEATURES as f64).sqrt();
    let features = (&data.x * &omega).map_with_location(|_, j, v| scale * (v + phi[j]).cos());
    let labels = &data.labels;
    let start = Weights {
        w: DMatrix::zeros(FEATURES, 3),
        b: RowDVector::zeros(3),
    };

    // The generated functions, with the weights as one `Parameters` value.
    let value_grad = |p: &Weights| {
        let (value, g) = loss_grad(&p.w, &p.b, &features, labels, LAMBDA);
        (value, Weights { w: g.w, b: g.b })
    };
    let hvp = |p: &Weights, v: &Weights| {
        // The direction of the product, as the gradient struct `loss_hvp` takes.
        let tangent = LossGrad {
            w: v.w.clone(),
            b: v.b.clone(),
        };
        let (value, g, hv) = loss_hvp(&p.w, &p.b, &features, labels, LAMBDA, tangent);
        let grad = Weights { w: g.w, b: g.b };
        (value, grad, Weights { w: hv.w, b: hv.b })
    };
    let timer = Instant::now();
    let mut x = start.clone();
    let report = NewtonCg::new().minimize(&mut x, value_grad, hvp, 50, 1e-12);
    let seconds = timer.elapsed().as_secs_f64();
    if !report.converged {
        return Err(format!("Newton-CG did not converge: {report:?}").into());
    }
    let mut losses = vec![report.steps[0].value_before];
    losses.extend(report.steps.iter().map(|s| s.value_after));
    let newton = Run {
        name: "Newton-CG",
        losses,
        gradients: 1 + report
            .steps
            .iter()
            .map(|s| s.value_grad_calls)
            .sum::<usize>(),
        products: report.steps.iter().map(|s| s.hvp_calls).sum(),
        seconds,
    };
    let scores = add_bias(&features * &x.w, &x.b);
    let accuracy = autodiff::data::accuracy(&autodiff::nn::argmax_rows(&scores), labels);

    let runs = [
        newton,
        first_order("gradient descent", Sgd::new(GD_RATE), &start, value_grad),
        first_order("Adam", Adam::new(ADAM_RATE), &start, value_grad),
    ];
    let best = runs
        .iter()
        .flat_map(|r| &r.losses)
        .copied()
        .fold(f64::INFINITY, f64::min);
    println!(
        "spiral on {FEATURES} random Fourier features, softmax + L2 ({LAMBDA:e}): optimum {best:.12}, \
         training accuracy there {:.1}%",
        100.0 * accuracy
    );
    println!("gradient descent at {GD_RATE}, Adam at {ADAM_RATE}, {ITERATIONS} iterations each");
    println!(
        "iterations to get within 1e-6 and 1e-10 of the optimum, and the farthest after that:"
    );
    println!(
        "{:<17} {:>6} {:>6} {:>9} {:>10} {:>6} {:>9}",
        "", "1e-6", "1e-10", "then", "gradients", "H·v", "time"
    );
    let show = |n: Option<usize>| n.map_or("-".to_string(), |n| n.to_string());
    for run in &runs {
        let [near, nearer] = TOLERANCES.map(|t| show(run.iterations_to(best, t)));
        let then = run
            .worst_after(best, TOLERANCES[1])
            .map_or("-".to_string(), |d| format!("{d:.0e}"));
        println!(
            "{:<17} {near:>6} {nearer:>6} {then:>9} {:>10} {:>6} {:>6.1} ms",
            run.name,
            run.gradients,
            run.products,
            1e3 * run.seconds
        );
    }
    let newton = runs[0]
        .iterations_to(best, TOLERANCES[1])
        .unwrap_or(usize::MAX);
    if runs[1..].iter().any(|r| {
        r.iterations_to(best, TOLERANCES[1])
            .is_some_and(|n| n <= newton)
    }) {
        return Err("Newton-CG should reach the optimum in the fewest iterations".into());
    }

    let picture = plot::plots_dir().join("newton.png");
    plot::png(&picture, (720, 440), |area| draw(area, &runs, best))?;
    println!("wrote {}", picture.display());
    Ok(())
}

/// The loss minus the optimum after each iteration (from the first), both axes on a log
/// scale; values at or below 10⁻¹⁵ (the optimum, to rounding) are drawn at 10⁻¹⁵.
fn draw(area: &plot::Area, runs: &[Run], best: f64) -> Result<(), Box<dyn Error>> {
    let floor = 1e-15;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "softmax on random features: loss − optimum",
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (1.0..ITERATIONS as f64).log_scale(),
            (floor..1.0).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("iteration (log scale)")
        .y_desc("loss − optimum (log scale)")
        .x_label_formatter(&|v| format!("{v}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .light_line_style(WHITE.mix(0.0))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    let colours = [
        RGBColor(213, 94, 0),
        RGBColor(0, 114, 178),
        RGBColor(0, 158, 115),
    ];
    for (run, colour) in runs.iter().zip(colours) {
        let points = run.losses.iter().enumerate().skip(1);
        let points = points.map(|(i, &v)| (i as f64, (v - best).max(floor)));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
            .label(run.name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 30, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::Coordinate(250, 170))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()?;
    Ok(())
}
