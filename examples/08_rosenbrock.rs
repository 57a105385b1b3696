//! The n-dimensional Rosenbrock function, written inside `#[differentiate]` as a `for` loop
//! that reads the elements of its argument, minimized with the derived gradient. Its minimum
//! is at (1, 1, …, 1), at the end of a long, narrow, curved valley where plain gradient
//! descent crawls; L-BFGS (a quasi-Newton method that builds a picture of the curvature from
//! the last few gradients) with a backtracking (Armijo) line search follows the valley to the
//! minimum from the classic start (-1.2, 1, -1.2, 1, …).
//!
//! Checks the derived gradient against the closed form at the start, minimizes the function
//! in 2 dimensions and draws the path of the iterates over a map of the function to
//! `target/plots/rosenbrock_path.png` (`$CARGO_TARGET_DIR/plots/` when that variable is set),
//! then minimizes it in 100 dimensions, printing the value and the gradient's norm as it goes.
//! Fails unless both runs end within `TOLERANCE` of the minimum in every coordinate.
//!
//! Run with `cargo run --release --example rosenbrock`.

#[path = "common/plot.rs"]
mod plot;

use autodiff::prelude::*;
use plotters::prelude::*;
use std::collections::VecDeque;
use std::error::Error;
use std::time::Instant;

/// The largest distance, in any coordinate, from the minimum (1, …, 1) accepted at the end.
const TOLERANCE: f64 = 1e-6;
/// The gradient's norm below which the minimization stops.
const GRADIENT_TOLERANCE: f64 = 1e-10;
/// The most iterations a minimization may take.
const MAX_ITERATIONS: usize = 10_000;
/// The pairs of steps and gradient changes L-BFGS remembers.
const MEMORY: usize = 10;
/// Armijo's constant: a step must decrease the value by at least this fraction of what the
/// slope at the current point promises.
const ARMIJO: f64 = 1e-4;

/// The n-dimensional Rosenbrock function: Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)².
#[differentiate]
fn rosenbrock(x: &DVector<f64>) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        f += 100.0 * a * a + b * b;
    }
    f
}

/// The gradient of the Rosenbrock function worked out by hand.
fn closed_form_gradient(x: &DVector<f64>) -> DVector<f64> {
    let n = x.len();
    DVector::from_fn(n, |i, _| {
        let mut g = 0.0;
        if i + 1 < n {
            g += -400.0 * x[i] * (x[i + 1] - x[i] * x[i]) - 2.0 * (1.0 - x[i]);
        }
        if i > 0 {
            g += 200.0 * (x[i] - x[i - 1] * x[i - 1]);
        }
        g
    })
}

/// The classic start: -1.2 in the even coordinates, 1 in the odd ones.
fn classic_start(n: usize) -> DVector<f64> {
    DVector::from_fn(n, |i, _| if i % 2 == 0 { -1.2 } else { 1.0 })
}

/// The result of a minimization.
struct Minimum {
    /// Every iterate, the start first.
    path: Vec<DVector<f64>>,
    /// The value at the last iterate.
    value: f64,
    /// The gradient's norm at the last iterate.
    gradient_norm: f64,
    /// Evaluations of the function and its gradient, line searches included.
    evaluations: usize,
}

/// Minimizes `rosenbrock` from `start` by L-BFGS with a backtracking (Armijo) line search,
/// stopping when the gradient's norm falls below `GRADIENT_TOLERANCE`. Calls `report` with
/// the iteration, the value and the gradient's norm after each iteration.
fn minimize(
    start: DVector<f64>,
    mut report: impl FnMut(usize, f64, f64),
) -> Result<Minimum, Box<dyn Error>> {
    let mut x = start;
    let (mut f, g) = rosenbrock_grad(&x);
    let mut g = g.x;
    let mut evaluations = 1;
    let mut path = vec![x.clone()];
    // The last steps s = x₊ − x and gradient changes y = g₊ − g, with 1 / (y·s).
    let mut memory: VecDeque<(DVector<f64>, DVector<f64>, f64)> = VecDeque::new();
    for iteration in 1..=MAX_ITERATIONS {
        if g.norm() < GRADIENT_TOLERANCE {
            break;
        }
        // The two-loop recursion: the direction −H g, H the inverse Hessian's estimate.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(memory.len());
        for (s, y, rho) in memory.iter().rev() {
            let alpha = rho * s.dot(&q);
            q.axpy(-alpha, y, 1.0);
            alphas.push(alpha);
        }
        // The initial estimate: the identity scaled by the last pair's s·y / y·y.
        if let Some((s, y, _)) = memory.back() {
            q *= s.dot(y) / y.dot(y);
        }
        for ((s, y, rho), alpha) in memory.iter().zip(alphas.iter().rev()) {
            let beta = rho * y.dot(&q);
            q.axpy(alpha - beta, s, 1.0);
        }
        let mut direction = -q;
        let mut slope = g.dot(&direction);
        if slope >= 0.0 {
            // Not a descent direction: fall back to steepest descent and forget the pairs.
            memory.clear();
            direction = -&g;
            slope = -g.norm_squared();
        }
        // The first step of steepest descent is scaled to a length of at most 1.
        let mut step = if memory.is_empty() {
            (1.0 / direction.norm()).min(1.0)
        } else {
            1.0
        };
        // Backtracking: halve the step until the value decreases enough (Armijo).
        let (next, next_f, next_g) = loop {
            let candidate = &x + step * &direction;
            let (value, gradient) = rosenbrock_grad(&candidate);
            evaluations += 1;
            if value.is_finite() && value <= f + ARMIJO * step * slope {
                break (candidate, value, gradient.x);
            }
            step *= 0.5;
            if step < 1e-20 {
                return Err(format!(
                    "the line search found no decrease at iteration {iteration} \
                     (value {f:e}, gradient norm {:e})",
                    g.norm()
                )
                .into());
            }
        };
        let s = &next - &x;
        let y = &next_g - &g;
        let sy = s.dot(&y);
        // Keep the pair only when the curvature along the step is positive, so that the
        // estimate stays positive definite.
        if sy > 1e-12 * s.norm() * y.norm() {
            if memory.len() == MEMORY {
                memory.pop_front();
            }
            memory.push_back((s, y, 1.0 / sy));
        }
        (x, f, g) = (next, next_f, next_g);
        path.push(x.clone());
        report(iteration, f, g.norm());
    }
    Ok(Minimum {
        path,
        value: f,
        gradient_norm: g.norm(),
        evaluations,
    })
}

/// Prints the result of a minimization in `n` dimensions and fails unless it ends within
/// `TOLERANCE` of the minimum in every coordinate.
fn check(n: usize, minimum: &Minimum, seconds: f64) -> Result<(), Box<dyn Error>> {
    let last = minimum.path.last().expect("the path holds the start");
    let distance = last.map(|v| (v - 1.0).abs()).max();
    println!(
        "n = {n}: {} iterations, {} evaluations, {:.2} ms: value {:.3e}, gradient norm {:.3e}, \
         largest distance to the minimum in a coordinate {distance:.3e}",
        minimum.path.len() - 1,
        minimum.evaluations,
        1e3 * seconds,
        minimum.value,
        minimum.gradient_norm
    );
    if distance > TOLERANCE {
        return Err(format!(
            "n = {n}: ended {distance:e} from the minimum (1, …, 1) in a coordinate, \
             more than {TOLERANCE:e}"
        )
        .into());
    }
    Ok(())
}

/// A colour for `t` in [0, 1]: dark blue through teal and green to pale yellow.
fn heat(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (38.0, 30.0, 90.0),
        (40.0, 100.0, 150.0),
        (40.0, 160.0, 130.0),
        (150.0, 210.0, 90.0),
        (250.0, 240.0, 170.0),
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let k = (t.floor() as usize).min(STOPS.len() - 2);
    let u = t - k as f64;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    let mix = |p: f64, q: f64| (p + u * (q - p)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The path of the iterates in 2 dimensions over a map of the function: its value on a log
/// scale, in bands a quarter of a decade wide, so that the bands' edges are contours.
fn draw_path(area: &plot::Area, path: &[DVector<f64>]) -> Result<(), Box<dyn Error>> {
    let (xs, ys) = ((-2.0, 2.0), (-1.0, 3.0));
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Rosenbrock in 2-D: L-BFGS from (-1.2, 1) to (1, 1)",
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(xs.0..xs.1, ys.0..ys.1)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(5)
        .y_labels(5)
        .x_desc("x₁")
        .y_desc("x₂")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;

    let cells = 240;
    let (dx, dy) = ((xs.1 - xs.0) / cells as f64, (ys.1 - ys.0) / cells as f64);
    // log₁₀ of the value ranges from about -3 (near the minimum, at this resolution) to 4.
    let (lo, hi) = (-3.0, 4.0);
    chart.draw_series((0..cells * cells).map(|k| {
        let (x, y) = (
            xs.0 + (k % cells) as f64 * dx,
            ys.0 + (k / cells) as f64 * dy,
        );
        let centre = DVector::from_column_slice(&[x + dx / 2.0, y + dy / 2.0]);
        let level = (4.0 * rosenbrock(&centre).max(1e-12).log10()).floor() / 4.0;
        Rectangle::new(
            [(x, y), (x + dx, y + dy)],
            heat((level - lo) / (hi - lo)).filled(),
        )
    }))?;

    let points: Vec<(f64, f64)> = path.iter().map(|p| (p[0], p[1])).collect();
    let red = RGBColor(214, 39, 40);
    chart.draw_series(LineSeries::new(points.iter().copied(), red.stroke_width(2)))?;
    chart.draw_series(
        points
            .iter()
            .map(|&p| Circle::new(p, 3, WHITE.filled().stroke_width(1))),
    )?;
    chart.draw_series(
        points
            .iter()
            .map(|&p| Circle::new(p, 3, BLACK.stroke_width(1))),
    )?;
    let (start, end) = (points[0], points[points.len() - 1]);
    chart.draw_series([
        Circle::new(start, 6, red.filled()),
        Circle::new(end, 6, WHITE.filled()),
    ])?;
    chart.draw_series([
        Text::new(
            "start",
            (start.0 - 0.45, start.1 - 0.02),
            ("sans-serif", 16),
        ),
        Text::new(
            "minimum (1, 1)",
            (end.0 - 0.5, end.1 + 0.25),
            ("sans-serif", 16),
        ),
    ])?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let started = Instant::now();

    // The derived gradient against the closed form, at the start.
    let start = classic_start(100);
    let (value, g) = rosenbrock_grad(&start);
    let expected = closed_form_gradient(&start);
    let difference = (&g.x - &expected).amax();
    assert!(
        difference <= 1e-12 * expected.amax(),
        "the derived gradient differs from the closed form by {difference:e}"
    );
    assert_eq!(value, rosenbrock(&start));
    println!(
        "at the start (-1.2, 1, -1.2, 1, …) in 100 dimensions: value {value}, the derived \
         gradient matches the closed form (largest difference {difference:e})"
    );
    println!(
        "L-BFGS (memory {MEMORY}) with a backtracking (Armijo) line search, until the \
         gradient's norm is below {GRADIENT_TOLERANCE:e}"
    );

    // In 2 dimensions, with the path drawn.
    let timer = Instant::now();
    let minimum = minimize(classic_start(2), |_, _, _| {})?;
    check(2, &minimum, timer.elapsed().as_secs_f64())?;
    let picture = plot::plots_dir().join("rosenbrock_path.png");
    plot::png(&picture, (640, 600), |area| draw_path(area, &minimum.path))?;
    println!("wrote {}", picture.display());

    // In 100 dimensions, with progress.
    let n = 100;
    println!("n = {n}:");
    let timer = Instant::now();
    let minimum = minimize(classic_start(n), |iteration, value, norm| {
        if iteration % 50 == 0 {
            println!("  iteration {iteration:>4}: value {value:.6e}, gradient norm {norm:.3e}");
        }
    })?;
    check(n, &minimum, timer.elapsed().as_secs_f64())?;
    println!("done in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}
