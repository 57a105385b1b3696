//! Gradient checks for whole differentiated functions: their parameters are drawn from a
//! seeded generator into one flat vector θ, the derived gradient is compared with central
//! differences of ⟨u, f(θ)⟩, and the vector-Jacobian product passes the dot-product test
//! ⟨u, J v⟩ = ⟨Jᵀu, v⟩ along a random direction v.

use autodiff::prelude::*;
use autodiff::runtime::gradcheck::{numerical_gradient, relative_error};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Relative error allowed between a derived gradient and central differences (f64).
pub const TOLERANCE: f64 = 1e-6;

/// Draws parameters and remembers them as θ.
pub struct Draw {
    rng: ChaCha8Rng,
    pub theta: Vec<f64>,
}

impl Draw {
    pub fn new(seed: u64) -> Self {
        Draw {
            rng: ChaCha8Rng::seed_from_u64(seed),
            theta: Vec::new(),
        }
    }
    /// A value in ±[0.2, 1.5]: away from 0, where relu, abs and friends have kinks.
    pub fn value(&mut self) -> f64 {
        let magnitude = self.rng.random_range(0.2..1.5);
        if self.rng.random_bool(0.5) {
            magnitude
        } else {
            -magnitude
        }
    }
    pub fn positive(&mut self) -> f64 {
        self.rng.random_range(0.5..2.0)
    }
    pub fn scalar(&mut self) -> f64 {
        let v = self.value();
        self.theta.push(v);
        v
    }
    pub fn positive_scalar(&mut self) -> f64 {
        let v = self.positive();
        self.theta.push(v);
        v
    }
    pub fn matrix(&mut self, rows: usize, cols: usize) -> DMatrix<f64> {
        let m = DMatrix::from_fn(rows, cols, |_, _| self.value());
        self.theta.extend(m.iter());
        m
    }
    pub fn positive_matrix(&mut self, rows: usize, cols: usize) -> DMatrix<f64> {
        let m = DMatrix::from_fn(rows, cols, |_, _| self.positive());
        self.theta.extend(m.iter());
        m
    }
    pub fn row(&mut self, cols: usize) -> RowDVector<f64> {
        let m = RowDVector::from_fn(cols, |_, _| self.value());
        self.theta.extend(m.iter());
        m
    }
    /// A seed for the result (not part of θ).
    pub fn seed_matrix(&mut self, rows: usize, cols: usize) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |_, _| self.value())
    }
    pub fn seed(&mut self) -> f64 {
        self.value()
    }
    pub fn direction(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.value()).collect()
    }
}

/// Reads parameters back from θ in the order they were drawn.
pub struct Read<'a> {
    theta: &'a [f64],
    at: usize,
}

impl<'a> Read<'a> {
    pub fn new(theta: &'a [f64]) -> Self {
        Read { theta, at: 0 }
    }
    fn take(&mut self, n: usize) -> &'a [f64] {
        let s = &self.theta[self.at..self.at + n];
        self.at += n;
        s
    }
    pub fn scalar(&mut self) -> f64 {
        self.take(1)[0]
    }
    pub fn matrix(&mut self, rows: usize, cols: usize) -> DMatrix<f64> {
        DMatrix::from_column_slice(rows, cols, self.take(rows * cols))
    }
    pub fn row(&mut self, cols: usize) -> RowDVector<f64> {
        RowDVector::from_column_slice(self.take(cols))
    }
}

/// Concatenates gradients in the order θ was drawn.
pub fn flat(parts: &[&[f64]]) -> Vec<f64> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// ⟨u, y⟩ for matrices.
pub fn inner(u: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    u.dot(y)
}

/// Checks a derived gradient of g(θ) = ⟨u, f(θ)⟩ against central differences, and the
/// dot-product test along a random direction.
#[track_caller]
pub fn check(name: &str, theta: &[f64], derived: &[f64], g: impl Fn(&mut Read) -> f64) {
    assert_eq!(
        theta.len(),
        derived.len(),
        "{name}: the gradient has {} entries for {} parameters",
        derived.len(),
        theta.len()
    );
    let theta_v = DVector::from_column_slice(theta);
    let derived_v = DVector::from_column_slice(derived);
    let eval = |t: &DVector<f64>| g(&mut Read::new(t.as_slice()));
    let numeric = numerical_gradient(&theta_v, eval);
    let error = relative_error(&derived_v, &numeric);
    assert!(
        error <= TOLERANCE,
        "{name}: relative error {error:e}\n derived {derived:?}\n numeric {:?}",
        numeric.as_slice()
    );

    // ⟨u, J v⟩ by central differences along v, against ⟨Jᵀu, v⟩ from the derived VJP.
    let mut draw = Draw::new(theta.len() as u64 + 7);
    let v = DVector::from_vec(draw.direction(theta.len()));
    let t = 1e-5 / v.amax().max(1e-12);
    let forward = (eval(&(&theta_v + t * &v)) - eval(&(&theta_v - t * &v))) / (2.0 * t);
    let adjoint = derived_v.dot(&v);
    let dot_error = (forward - adjoint).abs() / forward.abs().max(adjoint.abs()).max(1e-30);
    assert!(
        dot_error <= TOLERANCE,
        "{name}: dot-product test ⟨u, Jv⟩ = {forward} but ⟨Jᵀu, v⟩ = {adjoint}"
    );
}
