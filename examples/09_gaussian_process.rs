//! Gaussian-process regression on a real series: the monthly means of the weekly CO₂
//! concentration at Mauna Loa, 1958–2001 (Keeling and Whorf, public domain; see
//! `examples/data/README.md`). The kernel's seven hyperparameters (slow variations, faster
//! irregularities, a yearly cycle, noise) are fitted by minimizing the negative log marginal likelihood, written under
//! `#[differentiate]` with `cholesky().unwrap().solve(&y)` and `cholesky().unwrap().l()`
//! (`examples/common/gaussian_process.rs`), with Adam on the derived gradient.
//!
//! The model sees the months up to the end of 1993 and forecasts 1994–2001, which it has not
//! seen. Checks the derived gradient against central differences at the start, prints the
//! fit, the forecast's error against the held-out months and how many of them fall inside
//! the ±2σ band, and draws the data, the posterior mean and the band to
//! `target/plots/gaussian_process.png` (`$CARGO_TARGET_DIR/plots/` when that variable is
//! set). Fails unless the fit lowers the negative log likelihood and the forecast beats the
//! prior mean alone.
//!
//! Run with `cargo run --release --example gaussian_process`.

#[path = "common/gaussian_process.rs"]
mod gp;
#[path = "common/plot.rs"]
mod plot;

use autodiff::gradcheck::{numerical_gradient, relative_error};
use autodiff::optim::{Adam, Optimizer};
use autodiff::prelude::*;
use plotters::prelude::*;
use std::error::Error;
use std::time::Instant;

/// The first year the model does not see.
const HELD_OUT_FROM: f64 = 1994.0;
/// Times are counted in years from here (the start of the record).
const ORIGIN: f64 = 1958.0;
/// Adam's steps and learning rate on the log-hyperparameters.
const STEPS: usize = 150;
const LEARNING_RATE: f64 = 0.05;

/// The forecast and the band, on a fine grid of times.
struct Fit {
    times: Vec<f64>,
    mean: Vec<f64>,
    /// Two standard deviations of an observation (the curve's and the noise's).
    band: Vec<f64>,
}

fn draw(
    area: &plot::Area,
    title: &str,
    (from, to): (f64, f64),
    train: &[(f64, f64)],
    held_out: &[(f64, f64)],
    fit: &Fit,
) -> Result<(), Box<dyn Error>> {
    let inside = |t: f64| t >= from && t <= to;
    let grid: Vec<usize> = (0..fit.times.len())
        .filter(|&i| inside(fit.times[i]))
        .collect();
    let values = train
        .iter()
        .chain(held_out)
        .filter(|p| inside(p.0))
        .map(|p| p.1)
        .chain(grid.iter().map(|&i| fit.mean[i] + fit.band[i]))
        .chain(grid.iter().map(|&i| fit.mean[i] - fit.band[i]));
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = 0.04 * (hi - lo);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(from..to, (lo - pad)..(hi + pad))?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_desc("year")
        .y_desc("CO₂ (ppm)")
        .x_label_formatter(&|t| format!("{t:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;

    let blue = RGBColor(0, 114, 178);
    // The band: the upper edge forward, the lower edge back.
    let band: Vec<(f64, f64)> = grid
        .iter()
        .map(|&i| (fit.times[i], fit.mean[i] + fit.band[i]))
        .chain(
            grid.iter()
                .rev()
                .map(|&i| (fit.times[i], fit.mean[i] - fit.band[i])),
        )
        .collect();
    chart
        .draw_series([Polygon::new(band, blue.mix(0.25).filled())])?
        .label("±2σ")
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 16, y + 5)], blue.mix(0.25).filled())
        });
    chart
        .draw_series(LineSeries::new(
            grid.iter().map(|&i| (fit.times[i], fit.mean[i])),
            blue.stroke_width(2),
        ))?
        .label("posterior mean")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], blue.stroke_width(2)));
    let seen = train.iter().filter(|p| inside(p.0));
    chart
        .draw_series(seen.map(|&p| Circle::new(p, 2, BLACK.filled())))?
        .label("monthly mean, fitted")
        .legend(|(x, y)| Circle::new((x + 8, y), 3, BLACK.filled()));
    let vermilion = RGBColor(213, 94, 0);
    let unseen = held_out.iter().filter(|p| inside(p.0));
    chart
        .draw_series(unseen.map(|&p| Circle::new(p, 2, vermilion.filled())))?
        .label("monthly mean, held out")
        .legend(move |(x, y)| Circle::new((x + 8, y), 3, vermilion.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let months = gp::monthly_means(gp::WEEKLY_CSV);
    let (train, held_out): (Vec<_>, Vec<_>) = months.iter().partition(|p| p.0 < HELD_OUT_FROM);
    println!(
        "Mauna Loa CO₂: {} monthly means, {:.2}–{:.2}; fitting the {} before {HELD_OUT_FROM}, \
         holding out {}",
        months.len(),
        months[0].0,
        months[months.len() - 1].0,
        train.len(),
        held_out.len()
    );

    // The prior mean: a quadratic through the fitted months; the GP models what it leaves.
    let trend = gp::quadratic_trend(&train, ORIGIN);
    let times: Vec<f64> = train.iter().map(|p| p.0 - ORIGIN).collect();
    let y = DVector::from_iterator(
        train.len(),
        train
            .iter()
            .map(|p| p.1 - gp::trend_at(&trend, ORIGIN, p.0)),
    );
    let (squared, periodic) = gp::distances(&times, &times);
    let nll = |theta: &DVector<f64>| gp::negative_log_likelihood(&squared, &periodic, &y, theta);

    let mut theta = gp::starting_hyperparameters();

    // The derived gradient against central differences, at the start.
    let timer = Instant::now();
    let (start_value, grad) = gp::negative_log_likelihood_grad(&squared, &periodic, &y, &theta);
    let seconds = timer.elapsed().as_secs_f64();
    let numerical = numerical_gradient(&theta, nll);
    let error = relative_error(&grad.theta, &numerical);
    assert!(
        error < 1e-6,
        "the derived gradient differs from central differences by {error:e} (relative)"
    );
    println!(
        "at the start: negative log likelihood {start_value:.3} (value and gradient in \
         {:.1} ms); the derived gradient matches central differences (relative error {error:.1e})",
        1e3 * seconds
    );

    let timer = Instant::now();
    let mut adam = Adam::new(LEARNING_RATE);
    let mut value = start_value;
    for step in 0..STEPS {
        let (v, g) = gp::negative_log_likelihood_grad(&squared, &periodic, &y, &theta);
        value = v;
        if step % 25 == 0 {
            println!("  step {step:>3}: negative log likelihood {v:.4}");
        }
        adam.step(vec![theta.as_mut_slice()], vec![g.theta.as_slice()]);
    }
    let fitted = nll(&theta);
    println!(
        "after {STEPS} Adam steps ({:.2} s): negative log likelihood {fitted:.4} (the step \
         before: {value:.4})",
        timer.elapsed().as_secs_f64()
    );
    for (name, log) in gp::NAMES.iter().zip(theta.iter()) {
        let v = log.exp();
        // Variances are shown as standard deviations, in ppm.
        match name.strip_suffix(" variance") {
            Some(what) => println!("  {what} standard deviation: {:.3} ppm", v.sqrt()),
            None => println!("  {name}: {v:.3}"),
        }
    }
    if fitted >= start_value {
        return Err(format!(
            "the fit did not lower the negative log likelihood ({start_value} → {fitted})"
        )
        .into());
    }

    // The posterior on a fine grid, four points a month, from the start to past the end.
    let first = months[0].0;
    let grid: Vec<f64> = (0..)
        .map(|k| first + k as f64 / 48.0)
        .take_while(|&t| t <= 2002.0)
        .collect();
    let shifted: Vec<f64> = grid.iter().map(|t| t - ORIGIN).collect();
    let (mean, sd) = gp::posterior(&times, &y, &shifted, &theta);
    let noise = theta[6].exp();
    let fit = Fit {
        mean: grid
            .iter()
            .zip(&mean)
            .map(|(&t, m)| m + gp::trend_at(&trend, ORIGIN, t))
            .collect(),
        band: sd.iter().map(|s| 2.0 * (s * s + noise).sqrt()).collect(),
        times: grid,
    };

    // The forecast of the held-out months against the prior mean alone.
    let shifted: Vec<f64> = held_out.iter().map(|p| p.0 - ORIGIN).collect();
    let (forecast, forecast_sd) = gp::posterior(&times, &y, &shifted, &theta);
    let (mut gp_squares, mut trend_squares, mut inside) = (0.0, 0.0, 0);
    for ((p, m), s) in held_out.iter().zip(&forecast).zip(&forecast_sd) {
        let prior = gp::trend_at(&trend, ORIGIN, p.0);
        let residual = p.1 - prior - m;
        gp_squares += residual * residual;
        trend_squares += (p.1 - prior).powi(2);
        if residual.abs() <= 2.0 * (s * s + noise).sqrt() {
            inside += 1;
        }
    }
    let count = held_out.len() as f64;
    let (gp_rmse, trend_rmse) = ((gp_squares / count).sqrt(), (trend_squares / count).sqrt());
    println!(
        "forecast of the {} held-out months ({HELD_OUT_FROM}–2001): RMSE {gp_rmse:.2} ppm \
         (the quadratic alone: {trend_rmse:.2} ppm); {inside} of {} inside the ±2σ band",
        held_out.len(),
        held_out.len()
    );
    if gp_rmse >= trend_rmse {
        return Err("the forecast is no better than the prior mean".into());
    }

    let picture = plot::plots_dir().join("gaussian_process.png");
    plot::png(&picture, (900, 760), |area| {
        let (top, bottom) = area.split_vertically(380);
        draw(
            &top,
            "Mauna Loa CO₂: a Gaussian process fitted to 1958–1993",
            (first, 2002.0),
            &train,
            &held_out,
            &fit,
        )?;
        draw(
            &bottom,
            "The last years fitted and the forecast of 1994–2001",
            (1989.0, 2002.0),
            &train,
            &held_out,
            &fit,
        )
    })?;
    println!("wrote {}", picture.display());
    Ok(())
}
