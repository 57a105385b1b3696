//! The Gaussian process of the example `gaussian_process` (`examples/common/gaussian_process.rs`):
//! the derived gradient of its negative log marginal likelihood against central differences
//! at several hyperparameters, and its value against the same likelihood computed another
//! way (an LU solve and nalgebra's determinant), on the first ten years of the real series.

#[path = "../examples/common/gaussian_process.rs"]
mod gp;

use autodiff::gradcheck::{numerical_gradient, relative_error};
use autodiff::prelude::*;

/// The first `months` monthly means, as times from the start of the record and values less
/// their mean.
fn data(months: usize) -> (Vec<f64>, DVector<f64>) {
    let points: Vec<(f64, f64)> = gp::monthly_means(gp::WEEKLY_CSV)
        .into_iter()
        .take(months)
        .collect();
    let mean = points.iter().map(|p| p.1).sum::<f64>() / months as f64;
    let times = points.iter().map(|p| p.0 - points[0].0).collect();
    let y = DVector::from_iterator(months, points.iter().map(|p| p.1 - mean));
    (times, y)
}

/// Hyperparameters at the example's start and away from it: short and long trends, weak
/// and strong cycles, little and much noise.
fn thetas() -> Vec<DVector<f64>> {
    let away = [
        [1.2, 0.3, -0.7, 0.4, 0.9, -0.2, -1.0],
        [-0.5, 2.5, 1.5, -0.6, 0.3, 0.8, -3.0],
        [2.0, 3.5, -1.0, -1.5, -0.7, 1.1, 0.5],
    ];
    let away = away.iter().map(|t| DVector::from_column_slice(t));
    std::iter::once(gp::starting_hyperparameters())
        .chain(away)
        .collect()
}

#[test]
fn monthly_means_of_the_weekly_series() {
    let months = gp::monthly_means(gp::WEEKLY_CSV);
    // March 1958 to December 2001 is 526 months, of which 5 have no valid week.
    assert_eq!(months.len(), 521);
    // March 1958 has the weeks of the 29th (316.1) only.
    assert_eq!(months[0], (1958.0 + 2.5 / 12.0, 316.1));
    // December 2001: the weeks of the 1st, 8th, 15th, 22nd and 29th.
    let last = months[months.len() - 1];
    assert_eq!(last.0, 2001.0 + 11.5 / 12.0);
    let december = (370.3 + 370.8 + 371.2 + 371.3 + 371.5) / 5.0;
    assert!((last.1 - december).abs() < 1e-12);
    assert!(months.windows(2).all(|w| w[0].0 < w[1].0));
}

#[test]
fn gradient_matches_central_differences() {
    let (times, y) = data(120);
    let (squared, periodic) = gp::distances(&times, &times);
    for theta in thetas() {
        let (value, g) = gp::negative_log_likelihood_grad(&squared, &periodic, &y, &theta);
        assert_eq!(
            value,
            gp::negative_log_likelihood(&squared, &periodic, &y, &theta)
        );
        let numerical = numerical_gradient(&theta, |t: &DVector<f64>| {
            gp::negative_log_likelihood(&squared, &periodic, &y, t)
        });
        let error = relative_error(&g.theta, &numerical);
        assert!(
            error < 1e-6,
            "at {theta:?}: derived {:?}, central differences {numerical:?}, relative error {error:e}",
            g.theta
        );
    }
}

#[test]
fn value_matches_an_lu_solve_and_the_determinant() {
    let (times, y) = data(60);
    let (squared, periodic) = gp::distances(&times, &times);
    for theta in thetas() {
        let n = y.len();
        let k = gp::kernel(&squared, &periodic, &theta) + DMatrix::identity(n, n) * theta[6].exp();
        let alpha = k.clone().lu().solve(&y).expect("K is invertible");
        let want = 0.5 * y.dot(&alpha)
            + 0.5 * k.determinant().ln()
            + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
        let got = gp::negative_log_likelihood(&squared, &periodic, &y, &theta);
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "at {theta:?}: {got} against {want}"
        );
    }
}
