//! Gaussian-process regression on the Mauna Loa CO₂ series: the data (monthly means of
//! `examples/data/mauna_loa_co2_weekly.csv`), the kernel, the negative log marginal
//! likelihood under `#[differentiate]`, and the posterior. Shared by the example
//! `gaussian_process` and the facade's test `tests/gaussian_process.rs`.
#![allow(dead_code)]

use autodiff::prelude::*;

/// The weekly series: `date,co2` with dates as `YYYYMMDD` and CO₂ in ppm (empty where a week
/// had no valid measurement).
pub const WEEKLY_CSV: &str = include_str!("../data/mauna_loa_co2_weekly.csv");

/// The number of hyperparameters, all on a log scale: see [`negative_log_likelihood`].
pub const HYPERPARAMETERS: usize = 7;

/// Their names, in the order of `theta`.
pub const NAMES: [&str; HYPERPARAMETERS] = [
    "slow variance",
    "slow length-scale (years)",
    "irregularities variance",
    "irregularities length-scale (years)",
    "seasonal variance",
    "seasonal smoothness",
    "noise variance",
];

/// Where the fit starts: slow variations of 2 ppm over 20 years, irregularities of 0.5 ppm
/// over a year, a smooth cycle of 1 ppm, noise of 0.3 ppm.
pub fn starting_hyperparameters() -> DVector<f64> {
    DVector::from_column_slice(&[
        4f64.ln(),
        20f64.ln(),
        0.25f64.ln(),
        0.0,
        0.0,
        0.0,
        0.09f64.ln(),
    ])
}

/// The monthly means of the weekly series, as (time in years, CO₂ in ppm); the time of a
/// month is its middle (1958 + (month − 0.5)/12 for January 1958, …). Months without any
/// measurement are left out.
pub fn monthly_means(csv: &str) -> Vec<(f64, f64)> {
    let mut months: Vec<(i32, f64, u32)> = Vec::new();
    for line in csv.lines().skip(1) {
        let (date, co2) = line.split_once(',').expect("a line is `date,co2`");
        if co2.trim().is_empty() {
            continue;
        }
        let date: i32 = date.parse().expect("a date is YYYYMMDD");
        let co2: f64 = co2.trim().parse().expect("CO₂ is a number");
        let month = date / 100; // YYYYMM
        match months.last_mut() {
            Some((m, sum, count)) if *m == month => {
                *sum += co2;
                *count += 1;
            }
            _ => months.push((month, co2, 1)),
        }
    }
    months
        .into_iter()
        .map(|(m, sum, count)| {
            let (year, month) = (m / 100, m % 100);
            (
                year as f64 + (month as f64 - 0.5) / 12.0,
                sum / count as f64,
            )
        })
        .collect()
}

/// The least-squares quadratic `c₀ + c₁t + c₂t²` through the points, `t` in years from
/// `origin`: the prior mean, so that the kernel models what the slow rise leaves.
pub fn quadratic_trend(points: &[(f64, f64)], origin: f64) -> [f64; 3] {
    let design = DMatrix::from_fn(points.len(), 3, |i, j| {
        (points[i].0 - origin).powi(j as i32)
    });
    let y = DVector::from_iterator(points.len(), points.iter().map(|p| p.1));
    let normal = design.transpose() * &design;
    let c = normal
        .cholesky()
        .expect("three distinct times")
        .solve(&(design.transpose() * y));
    [c[0], c[1], c[2]]
}

/// The quadratic `c` at `t` years from `origin`.
pub fn trend_at(c: &[f64; 3], origin: f64, t: f64) -> f64 {
    let s = t - origin;
    c[0] + s * (c[1] + s * c[2])
}

/// What the kernel reads of two sets of times `a` and `b`: the squared distances
/// `(aᵢ − bⱼ)²` and `sin²(π(aᵢ − bⱼ))` (a period of one year), as `|a| × |b|` matrices. They
/// do not depend on the hyperparameters, so they are computed once, outside the
/// differentiated function.
pub fn distances(a: &[f64], b: &[f64]) -> (DMatrix<f64>, DMatrix<f64>) {
    let squared = DMatrix::from_fn(a.len(), b.len(), |i, j| (a[i] - b[j]).powi(2));
    let periodic = DMatrix::from_fn(a.len(), b.len(), |i, j| {
        (std::f64::consts::PI * (a[i] - b[j])).sin().powi(2)
    });
    (squared, periodic)
}

/// The kernel between two sets of times from their [`distances`], with `theta` as in
/// [`negative_log_likelihood`], without the noise. Plain nalgebra, for the posterior.
pub fn kernel(
    squared: &DMatrix<f64>,
    periodic: &DMatrix<f64>,
    theta: &DVector<f64>,
) -> DMatrix<f64> {
    let (slow_variance, slow_rate) = (theta[0].exp(), -0.5 * (-2.0 * theta[1]).exp());
    let (wiggle_variance, wiggle_rate) = (theta[2].exp(), -0.5 * (-2.0 * theta[3]).exp());
    let (season_variance, season_rate) = (theta[4].exp(), -2.0 * (-2.0 * theta[5]).exp());
    squared
        .map(|v| slow_variance * (slow_rate * v).exp() + wiggle_variance * (wiggle_rate * v).exp())
        + periodic.map(|v| season_variance * (season_rate * v).exp())
}

/// The negative log marginal likelihood `½ yᵀK⁻¹y + ½ log det K + (n/2) log 2π` of the
/// observations `y` (the prior mean already subtracted) under a Gaussian process whose
/// covariance between times `s` and `t`, `d = s − t`, is
///
/// `K(s, t) = σ²_slow · exp(−d² / 2ℓ²) + σ²_irr · exp(−d² / 2m²)
///           + σ²_season · exp(−2 sin²(πd) / λ²) + σ²_noise·[s = t]`,
///
/// slow variations of length-scale `ℓ` years, faster irregularities of length-scale `m`, a cycle
/// of one year whose shape is as smooth as `λ` makes it, and independent noise. `theta` holds
/// `log σ²_slow`, `log ℓ`, `log σ²_irr`, `log m`, `log σ²_season`, `log λ` and
/// `log σ²_noise`: any real values are valid. `squared` and
/// `periodic` are the times' [`distances`]. `log det K` is twice the sum of the logarithms
/// of the diagonal of `K`'s Cholesky factor.
#[differentiate(wrt(theta))]
pub fn negative_log_likelihood(
    squared: &DMatrix<f64>,
    periodic: &DMatrix<f64>,
    y: &DVector<f64>,
    theta: &DVector<f64>,
) -> f64 {
    let n = y.len();
    let slow_variance = theta[0].exp();
    let slow_rate = -0.5 * (-2.0 * theta[1]).exp(); // −1 / 2ℓ²
    let wiggle_variance = theta[2].exp();
    let wiggle_rate = -0.5 * (-2.0 * theta[3]).exp(); // −1 / 2m²
    let season_variance = theta[4].exp();
    let season_rate = -2.0 * (-2.0 * theta[5]).exp(); // −2 / λ²
    let noise_variance = theta[6].exp();
    let k = squared
        .map(|v| slow_variance * (slow_rate * v).exp() + wiggle_variance * (wiggle_rate * v).exp())
        + periodic.map(|v| season_variance * (season_rate * v).exp())
        + DMatrix::identity(n, n) * noise_variance;
    let c = k.cholesky().unwrap();
    let alpha = c.solve(y);
    let l = c.l();
    let mut half_log_det = 0.0;
    for i in 0..n {
        half_log_det += l[(i, i)].ln();
    }
    0.5 * y.dot(&alpha) + half_log_det + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
}

/// The posterior at new times: the mean and the standard deviation of the latent curve
/// (without the observation noise) at each, given the observations `y` at `times`.
pub fn posterior(
    times: &[f64],
    y: &DVector<f64>,
    new_times: &[f64],
    theta: &DVector<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let (squared, periodic) = distances(times, times);
    let k = kernel(&squared, &periodic, theta)
        + DMatrix::identity(times.len(), times.len()) * theta[6].exp();
    let chol = k
        .cholesky()
        .expect("the kernel matrix is positive definite");
    let (squared, periodic) = distances(times, new_times);
    let cross = kernel(&squared, &periodic, theta); // n × m
    let mean = cross.transpose() * chol.solve(y);
    // The variance at t: k(t, t) − vᵀv with v = L⁻¹k(·, t).
    let v = chol
        .l()
        .solve_lower_triangular(&cross)
        .expect("L has a nonzero diagonal");
    let prior = theta[0].exp() + theta[2].exp() + theta[4].exp();
    let sd = (0..new_times.len())
        .map(|j| (prior - v.column(j).norm_squared()).max(0.0).sqrt())
        .collect();
    (mean.iter().copied().collect(), sd)
}
