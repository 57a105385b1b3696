//! `optim::NewtonCg` on problems whose Hessian-vector products are written by hand: an exact
//! Newton step on a strictly convex quadratic (against nalgebra's LU), damping, Rosenbrock's
//! function against gradient descent, negative curvature on the first and on a later
//! conjugate-gradient iteration, a backtracking line search, a `#[derive(Parameters)]` struct,
//! `f32` parameters, and a regularised logistic regression.

use autodiff_runtime::optim::{NewtonCg, NewtonStep};
use autodiff_runtime::Parameters;
use nalgebra::{DMatrix, DVector, Vector2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A matrix with elements uniform in `[-1, 1)`.
fn uniform(rng: &mut ChaCha8Rng, rows: usize, columns: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, columns, |_, _| rng.random_range(-1.0..1.0))
}

/// A strictly convex quadratic `½ xᵀAx − bᵀx` in `n` dimensions: `A = MᵀM/n + I/2`
/// (eigenvalues in `[0.5, 4.5]` or so) and `b`, both random.
fn quadratic(n: usize) -> (DMatrix<f64>, DMatrix<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let m = uniform(&mut rng, n, n);
    let a = m.transpose() * &m / n as f64 + DMatrix::identity(n, n) * 0.5;
    (a, uniform(&mut rng, n, 1))
}

/// The value and gradient of `½ xᵀAx − bᵀx`.
fn quadratic_value(a: &DMatrix<f64>, b: &DMatrix<f64>, x: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    let ax = a * x;
    (0.5 * x.dot(&ax) - b.dot(x), ax - b)
}

/// Conjugate gradients solved to rounding: exact Newton steps.
fn exact() -> NewtonCg {
    NewtonCg {
        cg_tolerance: 1e-12,
        ..NewtonCg::new()
    }
}

#[test]
fn one_exact_step_solves_a_convex_quadratic() {
    let n = 20;
    let (a, b) = quadratic(n);
    let value_grad = |x: &DMatrix<f64>| quadratic_value(&a, &b, x);
    let hvp = |x: &DMatrix<f64>, v: &DMatrix<f64>| {
        let (f, g) = quadratic_value(&a, &b, x);
        (f, g, &a * v)
    };
    let mut x = DMatrix::zeros(n, 1);
    let report = exact().minimize(&mut x, value_grad, hvp, 1, 1e-10);

    assert!(report.converged, "{report:?}");
    assert!(report.gradient_norm < 1e-10);
    assert_eq!(report.steps.len(), 1);
    let step = report.steps[0];
    assert!(step.cg_iterations <= n, "{step:?}");
    assert_eq!(step.hvp_calls, step.cg_iterations);
    assert_eq!((step.step_length, step.value_grad_calls), (1.0, 1));
    assert!(!step.negative_curvature);
    assert!(step.value_after < step.value_before);
    // The gradient it reports is the one at the new point.
    assert_eq!(step.gradient_norm_after, (&a * &x - &b).norm());

    let solution = a.clone().lu().solve(&b).expect("A is invertible");
    let error = (&x - &solution).amax();
    assert!(error < 1e-9, "|x - A⁻¹b|∞ = {error:e}");
}

#[test]
fn default_forcing_term_converges_superlinearly_on_a_quadratic() {
    let n = 20;
    let (a, b) = quadratic(n);
    let value_grad = |x: &DMatrix<f64>| quadratic_value(&a, &b, x);
    let hvp = |x: &DMatrix<f64>, v: &DMatrix<f64>| {
        let (f, g) = quadratic_value(&a, &b, x);
        (f, g, &a * v)
    };
    let mut x = DMatrix::zeros(n, 1);
    let report = NewtonCg::new().minimize(&mut x, value_grad, hvp, 50, 1e-10);

    assert!(report.converged, "{report:?}");
    assert!((&x - a.clone().lu().solve(&b).unwrap()).amax() < 1e-9);
    // Each step's residual is at most min(0.5, √‖g‖)·‖g‖ (the new gradient is that residual
    // on a quadratic, up to rounding), so the gradient falls at least by half each step…
    for step in &report.steps {
        let forcing = 0.5_f64.min(step.gradient_norm.sqrt());
        assert!(
            step.gradient_norm_after <= forcing * step.gradient_norm * (1.0 + 1e-6) + 1e-14,
            "{step:?}"
        );
    }
    // …each step is cheaper than an exact solve, and the value never rises.
    assert!(report.steps.iter().all(|s| s.cg_iterations < n));
    assert!(report.steps.iter().all(|s| s.value_after <= s.value_before));
}

#[test]
fn damping_solves_the_shifted_system() {
    let n = 20;
    let (a, b) = quadratic(n);
    let lambda = 2.0;
    let mut x = uniform(&mut ChaCha8Rng::seed_from_u64(3), n, 1);
    let start = x.clone();
    let mut newton = NewtonCg {
        damping: lambda,
        ..exact()
    };
    let step = newton.step(
        &mut x,
        |x| quadratic_value(&a, &b, x),
        |x, v| {
            let (f, g) = quadratic_value(&a, &b, x);
            (f, g, &a * v)
        },
    );
    // x ← x − (A + λI)⁻¹ g, a full step (a descent direction of the undamped quadratic).
    let g = &a * &start - &b;
    let shifted = &a + DMatrix::identity(n, n) * lambda;
    let expected = &start - shifted.lu().solve(&g).unwrap();
    assert_eq!(step.step_length, 1.0, "{step:?}");
    // The gradient at the start and at the trial point.
    assert_eq!(step.value_grad_calls, 2);
    assert!((&x - expected).amax() < 1e-9);
    assert!(step.value_after < step.value_before);
}

/// Rosenbrock's function `(1 − x)² + 100 (y − x²)²` and its gradient.
fn rosenbrock(p: &Vector2<f64>) -> (f64, Vector2<f64>) {
    let (x, y) = (p[0], p[1]);
    let value = (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
    let grad = Vector2::new(
        -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
        200.0 * (y - x * x),
    );
    (value, grad)
}

/// Rosenbrock's value, gradient, and Hessian times `v`.
fn rosenbrock_hvp(p: &Vector2<f64>, v: &Vector2<f64>) -> (f64, Vector2<f64>, Vector2<f64>) {
    let (x, y) = (p[0], p[1]);
    let hessian = nalgebra::Matrix2::new(
        2.0 - 400.0 * (y - x * x) + 800.0 * x * x,
        -400.0 * x,
        -400.0 * x,
        200.0,
    );
    let (value, grad) = rosenbrock(p);
    (value, grad, hessian * v)
}

#[test]
fn rosenbrock_converges_in_far_fewer_iterations_than_gradient_descent() {
    let start = Vector2::new(-1.2, 1.0);
    // With the default forcing term (64 outer steps): along the curved valley, where the
    // Hessian is indefinite, the truncated conjugate gradients stop after one iteration (on
    // the residual or on negative curvature) and the steps are short. With a tighter forcing
    // term they are Newton steps (23 outer steps, 22 when exact).
    for (cg_tolerance, most_steps) in [(0.5, 100), (1e-2, 30)] {
        let mut p = start;
        let mut newton = NewtonCg {
            cg_tolerance,
            ..NewtonCg::new()
        };
        let report = newton.minimize(&mut p, rosenbrock, rosenbrock_hvp, 200, 1e-10);
        assert!(report.converged, "{report:#?}");
        assert!(
            report.steps.len() < most_steps,
            "{} outer steps",
            report.steps.len()
        );
        assert!((p - Vector2::new(1.0, 1.0)).amax() < 1e-8, "{p:?}");
        assert!(report.steps.iter().all(|s| s.value_after < s.value_before));
    }

    // Gradient descent with the same backtracking line search, from the same start, is still
    // far from the minimum after 1000 steps.
    let mut q = start;
    for _ in 0..1000 {
        let (value, grad) = rosenbrock(&q);
        let mut alpha = 1.0;
        while rosenbrock(&(q - alpha * grad)).0 > value - 1e-4 * alpha * grad.norm_squared() {
            alpha *= 0.5;
        }
        q -= alpha * grad;
    }
    assert!(
        (q - Vector2::new(1.0, 1.0)).amax() > 1e-3,
        "gradient descent reached {q:?}"
    );
}

/// `x⁴/4 − x²/2 + y²/2`: minima at `(±1, 0)`, a saddle at `(0, 0)`, concave in `x` for
/// `|x| < 1/√3`.
fn double_well(p: &Vector2<f64>) -> (f64, Vector2<f64>) {
    let (x, y) = (p[0], p[1]);
    (
        x.powi(4) / 4.0 - x * x / 2.0 + y * y / 2.0,
        Vector2::new(x.powi(3) - x, y),
    )
}

fn double_well_hvp(p: &Vector2<f64>, v: &Vector2<f64>) -> (f64, Vector2<f64>, Vector2<f64>) {
    let (value, grad) = double_well(p);
    (
        value,
        grad,
        Vector2::new((3.0 * p[0] * p[0] - 1.0) * v[0], v[1]),
    )
}

#[test]
fn negative_curvature_on_the_first_iteration_takes_steepest_descent() {
    // The first direction, −g = (0.375, −0.01), has curvature 0.375²·(−0.25) + 0.01² < 0.
    let mut p = Vector2::new(0.5, 0.01);
    let (_, g) = double_well(&p);
    let start = p;
    let step = NewtonCg::new().step(&mut p, double_well, double_well_hvp);
    assert!(step.negative_curvature, "{step:?}");
    assert_eq!((step.cg_iterations, step.hvp_calls), (0, 1));
    assert!(step.value_after < step.value_before, "{step:?}");
    // Along −g: away from the saddle, towards the minimum at (1, 0).
    let moved = p - start;
    assert!(
        (moved.normalize() + g.normalize()).amax() < 1e-12,
        "{moved:?}"
    );
    assert!(p[0] > start[0]);
}

#[test]
fn negative_curvature_on_a_later_iteration_keeps_the_last_iterate() {
    // The first direction (0.099, −1) has positive curvature (the y part dominates), the
    // second one, conjugate to it, mostly along x where the function is concave.
    // (With the default forcing term the first iteration already meets the residual test.)
    let start = Vector2::new(0.1, 1.0);
    let mut p = start;
    let step = exact().step(&mut p, double_well, double_well_hvp);
    assert!(step.negative_curvature, "{step:?}");
    assert_eq!((step.cg_iterations, step.hvp_calls), (1, 2));
    assert!(step.value_after < step.value_before, "{step:?}");
    // The first iterate: the minimum along −g, −(gᵀg / gᵀHg)·g.
    let (_, g, hg) = double_well_hvp(&start, &double_well(&start).1);
    let first_iterate = -g * (g.norm_squared() / g.dot(&hg));
    assert!(
        ((p - start) - first_iterate * step.step_length).amax() < 1e-12,
        "{p:?}"
    );

    // And from there on to a minimum, never increasing the value.
    let report = NewtonCg::new().minimize(&mut p, double_well, double_well_hvp, 100, 1e-12);
    assert!(report.converged, "{report:#?}");
    assert!(
        (p[0].abs() - 1.0).abs() < 1e-10 && p[1].abs() < 1e-10,
        "{p:?}"
    );
    assert!(report.steps.iter().all(|s| s.value_after <= s.value_before));
}

#[test]
fn the_line_search_shortens_an_overshooting_newton_step() {
    // √(1 + x²): convex, but from |x| > 1 the Newton step x − f′/f″ = −x³ overshoots.
    let value_grad = |x: &f64| ((1.0 + x * x).sqrt(), x / (1.0 + x * x).sqrt());
    let hvp = |x: &f64, v: &f64| {
        let (f, g) = value_grad(x);
        (f, g, v / (1.0 + x * x).powf(1.5))
    };
    let mut x = 2.0;
    let step = NewtonCg::new().step(&mut x, value_grad, hvp);
    assert!(step.step_length < 1.0 && step.step_length > 0.0, "{step:?}");
    assert!(step.value_grad_calls > 2, "{step:?}");
    assert!(step.value_after < step.value_before);
    let report = NewtonCg::new().minimize(&mut x, value_grad, hvp, 50, 1e-12);
    assert!(report.converged && x.abs() < 1e-12, "{report:#?}");
}

#[test]
fn a_zero_gradient_takes_no_step() {
    let mut x = DMatrix::from_element(2, 1, 1.0);
    let value_grad = |x: &DMatrix<f64>| {
        (
            0.5 * (x.add_scalar(-1.0)).norm_squared(),
            x.add_scalar(-1.0),
        )
    };
    let hvp = |x: &DMatrix<f64>, v: &DMatrix<f64>| {
        let (f, g) = value_grad(x);
        (f, g, v.clone())
    };
    let step = NewtonCg::new().step(&mut x, value_grad, hvp);
    assert_eq!(
        step,
        NewtonStep {
            value_before: 0.0,
            value_after: 0.0,
            gradient_norm: 0.0,
            gradient_norm_after: 0.0,
            cg_iterations: 0,
            hvp_calls: 0,
            value_grad_calls: 1,
            step_length: 0.0,
            negative_curvature: false,
        }
    );
    let report = NewtonCg::new().minimize(&mut x, value_grad, hvp, 10, 0.0);
    assert!(report.converged && report.steps.is_empty());
    assert_eq!(x, DMatrix::from_element(2, 1, 1.0));
}

/// Two matrices of the same shape, coupled element by element.
#[derive(Parameters, Clone, Debug, PartialEq)]
#[parameters(crate = autodiff_runtime)]
struct Pair {
    w: DMatrix<f64>,
    v: DMatrix<f64>,
}

#[test]
fn a_derived_struct_of_two_matrices() {
    // Σₖ ½ aₖ wₖ² + ½ bₖ vₖ² + c wₖ vₖ − sₖ wₖ − tₖ vₖ, strictly convex for aₖ bₖ > c².
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (rows, columns, c) = (2, 3, 0.8);
    let a = uniform(&mut rng, rows, columns).add_scalar(2.0);
    let b = uniform(&mut rng, rows, columns).add_scalar(2.0);
    let s = uniform(&mut rng, rows, columns);
    let t = uniform(&mut rng, rows, columns);
    let value_grad = |p: &Pair| {
        let value = 0.5 * a.dot(&p.w.component_mul(&p.w))
            + 0.5 * b.dot(&p.v.component_mul(&p.v))
            + c * p.w.dot(&p.v)
            - s.dot(&p.w)
            - t.dot(&p.v);
        let grad = Pair {
            w: a.component_mul(&p.w) + &p.v * c - &s,
            v: b.component_mul(&p.v) + &p.w * c - &t,
        };
        (value, grad)
    };
    let hvp = |p: &Pair, d: &Pair| {
        let (value, grad) = value_grad(p);
        let product = Pair {
            w: a.component_mul(&d.w) + &d.v * c,
            v: b.component_mul(&d.v) + &d.w * c,
        };
        (value, grad, product)
    };
    let mut p = Pair {
        w: DMatrix::zeros(rows, columns),
        v: DMatrix::zeros(rows, columns),
    };
    let report = NewtonCg::new().minimize(&mut p, value_grad, hvp, 50, 1e-12);
    assert!(report.converged, "{report:#?}");
    assert!(report.steps.len() < 10, "{report:#?}");
    // Each element pair solves [[a, c], [c, b]] (w, v) = (s, t).
    for k in 0..rows * columns {
        let det = a[k] * b[k] - c * c;
        let (w, v) = (
            (b[k] * s[k] - c * t[k]) / det,
            (a[k] * t[k] - c * s[k]) / det,
        );
        assert!((p.w[k] - w).abs() < 1e-10 && (p.v[k] - v).abs() < 1e-10);
    }

    // An exact step lands there at once, from anywhere.
    let mut q = Pair {
        w: DMatrix::from_element(rows, columns, 3.0),
        v: DMatrix::from_element(rows, columns, -3.0),
    };
    let report = exact().minimize(&mut q, value_grad, hvp, 1, 1e-10);
    assert!(report.converged && report.steps.len() == 1, "{report:#?}");
    assert!((&q.w - &p.w).amax() < 1e-10 && (&q.v - &p.v).amax() < 1e-10);
}

#[test]
fn f32_parameters() {
    let n = 10;
    let (a, b) = quadratic(n);
    let (a, b) = (a.cast::<f32>(), b.cast::<f32>());
    let value_grad = |x: &DVector<f32>| {
        let ax = &a * x;
        (f64::from(0.5 * x.dot(&ax) - b.dot(x)), ax - &b)
    };
    let hvp = |x: &DVector<f32>, v: &DVector<f32>| {
        let (f, g) = value_grad(x);
        (f, g, &a * v)
    };
    let mut x = DVector::zeros(n);
    let report = NewtonCg::new().minimize(&mut x, value_grad, hvp, 50, 1e-5);
    assert!(report.converged, "{report:#?}");
    let solution = a.cast::<f64>().lu().solve(&b.cast::<f64>()).unwrap();
    assert!((x.cast::<f64>() - solution).amax() < 1e-5);
}

#[test]
fn regularised_logistic_regression() {
    // m samples of d features; labels drawn from a logistic model; loss
    // Σᵢ log(1 + exp(xᵢᵀw)) − yᵢ xᵢᵀw + ½ μ ‖w‖².
    let (m, d, mu) = (200, 5, 1.0);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let features = uniform(&mut rng, m, d) * 2.0;
    let truth = DVector::from_fn(d, |i, _| i as f64 - 2.0);
    let labels = DVector::from_fn(m, |i, _| {
        let p = 1.0 / (1.0 + (-features.row(i).dot(&truth.transpose())).exp());
        f64::from(u8::from(rng.random::<f64>() < p))
    });
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let value_grad = |w: &DVector<f64>| {
        let z = &features * w;
        let value = z
            .iter()
            .zip(labels.iter())
            .map(|(&z, &y)| z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z)
            .sum::<f64>()
            + 0.5 * mu * w.norm_squared();
        let residual = z.map(sigmoid) - &labels;
        (value, features.transpose() * residual + w * mu)
    };
    let hvp = |w: &DVector<f64>, v: &DVector<f64>| {
        let (value, grad) = value_grad(w);
        let weights = (&features * w).map(|z| sigmoid(z) * (1.0 - sigmoid(z)));
        let product = features.transpose() * weights.component_mul(&(&features * v)) + v * mu;
        (value, grad, product)
    };
    let mut w = DVector::zeros(d);
    let report = NewtonCg::new().minimize(&mut w, value_grad, hvp, 50, 1e-9);
    assert!(report.converged, "{report:#?}");
    assert!(
        report.steps.len() <= 15,
        "{} outer steps",
        report.steps.len()
    );
    assert!(report.steps.iter().all(|s| s.value_after < s.value_before));
    assert!(value_grad(&w).1.norm() < 1e-9);
    // The fit recovers the model's signs.
    for i in 0..d {
        assert!(
            truth[i] == 0.0 || w[i].signum() == truth[i].signum(),
            "{w:?}"
        );
    }
}
