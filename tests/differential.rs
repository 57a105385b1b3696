//! Differential testing: random well-formed functions of the stage-1 language, generated
//! from a fixed seed by `autodiff-macro/src/tests/language/`, each with a test that checks
//! the value of each generated item against the function's, bit for bit, its derived
//! gradient against central differences and its vector-Jacobian product by the dot-product
//! test. `autodiff-macro`'s test `differential_file_is_up_to_date` fails when
//! `differential/generated.rs` is not what the generator writes.
//!
//! `differential/regressions.rs` keeps the minimal reductions of the bugs the generated
//! functions found.

mod common;

// Written by the generator (see README, "Long-running checks"); kept exactly as generated.
#[rustfmt::skip]
#[path = "differential/generated.rs"]
mod generated;

#[path = "differential/regressions.rs"]
mod regressions;

use autodiff::nalgebra::{Dim, Matrix, RawStorage};
use autodiff::prelude::*;
use autodiff::runtime::gradcheck::numerical_gradient;
use common::check::{check, Read};

/// [`check`], except where the gradient is below what central differences resolve. Their
/// rounding noise is about `ε·|f|/h ≈ 4e-11·|f|`, so for a gradient much smaller than the
/// function's value the relative error compares noise with noise:
///
/// - flat: both the derived and the numerical gradient below `1e-9·max(1, |f|)` (a
///   `softmax` of a shifted row, a product with a term that is exactly zero) passes;
/// - small: a numerical gradient below `1e-5·max(1, |f|)` must agree with the derived one to
///   `1e-9·max(1, |f|)` in absolute terms, element by element;
/// - anywhere else, the full [`check`]: relative error and the dot-product test.
#[track_caller]
pub fn check_gradient(name: &str, theta: &[f64], derived: &[f64], g: impl Fn(&mut Read) -> f64) {
    let value = g(&mut Read::new(theta));
    let numeric = numerical_gradient(&DVector::from_column_slice(theta), |t: &DVector<f64>| {
        g(&mut Read::new(t.as_slice()))
    });
    let scale = value.abs().max(1.0);
    let largest = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let numeric = numeric.as_slice();
    if largest(numeric) <= 1e-9 * scale && largest(derived) <= 1e-9 * scale {
        return;
    }
    if largest(numeric) <= 1e-5 * scale {
        let diff = numeric
            .iter()
            .zip(derived)
            .fold(0.0f64, |m, (n, d)| m.max((n - d).abs()));
        assert!(diff <= 1e-9 * scale, "{name}: a small gradient differs by {diff:e} (value {value})\n derived {derived:?}\n numeric {numeric:?}");
        return;
    }
    check(name, theta, derived, g);
}

/// A generated function's result, as its shape and elements in column-major order.
pub trait Elements {
    fn shape_and_elements(&self) -> ((usize, usize), Vec<f64>);
}

impl Elements for f64 {
    fn shape_and_elements(&self) -> ((usize, usize), Vec<f64>) {
        ((1, 1), vec![*self])
    }
}

impl<R: Dim, C: Dim, S: RawStorage<f64, R, C>> Elements for Matrix<f64, R, C, S> {
    fn shape_and_elements(&self) -> ((usize, usize), Vec<f64>) {
        (self.shape(), self.iter().copied().collect())
    }
}

/// The value a generated item (`_grad`, `_vjp`, `_fwd`) returns is the function's, bit for
/// bit: the forward sweep must compute the primal exactly as the function does (a rule that
/// computes another function, or the same one another way, shows up here first).
#[track_caller]
pub fn check_value<V: Elements>(item: &str, value: &V, primal: &V) {
    let (value_shape, value) = value.shape_and_elements();
    let (primal_shape, primal) = primal.shape_and_elements();
    let same = value_shape == primal_shape
        && value
            .iter()
            .zip(&primal)
            .all(|(v, p)| v.to_bits() == p.to_bits());
    assert!(
        same,
        "{item}: the value is not the function's, bit for bit\n value    {value_shape:?} {value:?}\n function {primal_shape:?} {primal:?}"
    );
}

/// A generic function called at `f32` gives the value and the gradient it gives at `f64`, up
/// to the rounding of single precision: every element within `F32_TOLERANCE` times the
/// largest magnitude of the `f64` one (or 1, if that is smaller). `f32::EPSILON` is 1.2e-7;
/// the generated functions compose up to a few dozen operations, and the largest difference
/// they show is about one `f32::EPSILON` of that scale (`AUTODIFF_F32_REPORT=1` prints each):
/// the tolerance leaves a factor of 80 for amplification.
pub const F32_TOLERANCE: f64 = 1e-5;

#[track_caller]
pub fn check_f32<V: Elements>(name: &str, value: &V, value32: &V, grad: &[f64], grad32: &[f64]) {
    let ((shape, value), (shape32, value32)) =
        (value.shape_and_elements(), value32.shape_and_elements());
    assert_eq!(shape, shape32, "{name}: the value at f32 has another shape");
    assert_eq!(
        grad.len(),
        grad32.len(),
        "{name}: the gradient at f32 has another length"
    );
    let close = |what: &str, a: &[f64], b: &[f64]| {
        let scale = a.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        let diff = a
            .iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        if std::env::var_os("AUTODIFF_F32_REPORT").is_some() {
            eprintln!("f32 {name} {what}: {:e}", diff / scale);
        }
        assert!(
            diff <= F32_TOLERANCE * scale,
            "{name}: the {what} at f32 differs from the f64 one by {diff:e} (scale {scale:e})\n f64 {a:?}\n f32 {b:?}"
        );
    };
    close("value", &value, &value32);
    close("gradient", grad, grad32);
}

/// `NAME_jvp` along `v`, seen through the VJP's seed `u`: ⟨u, J v⟩ from the JVP (`u_jv`)
/// equals ⟨Jᵀu, v⟩ from the VJP (`jtu`, flat) to rounding, and the central difference of
/// g(θ) = ⟨u, f(θ)⟩ along v to the differences' accuracy. Both compare against the scale
/// |Jᵀu|·|v| (and the value), so that a derivative that cancels to noise is not compared
/// relatively.
#[track_caller]
pub fn check_jvp(
    name: &str,
    theta: &[f64],
    v: &[f64],
    u_jv: f64,
    jtu: &[f64],
    g: impl Fn(&mut Read) -> f64,
) {
    let dot: f64 = jtu.iter().zip(v).map(|(a, b)| a * b).sum();
    let norm = |x: &[f64]| x.iter().map(|a| a * a).sum::<f64>().sqrt();
    let scale = (norm(jtu) * norm(v)).max(1e-300);
    assert!(
        (u_jv - dot).abs() <= 1e-9 * scale.max(u_jv.abs()),
        "{name}: ⟨u, Jv⟩ = {u_jv} from the JVP but ⟨Jᵀu, v⟩ = {dot} from the VJP"
    );
    let at = |t: f64| {
        let moved: Vec<f64> = theta.iter().zip(v).map(|(a, b)| a + t * b).collect();
        g(&mut Read::new(&moved))
    };
    let value = at(0.0);
    let h = 1e-5 / v.iter().fold(1e-12f64, |m, x| m.max(x.abs()));
    let fd = (at(h) - at(-h)) / (2.0 * h);
    let noise = 1e-9 * value.abs().max(1.0) / h;
    assert!(
        (u_jv - fd).abs() <= 1e-6 * scale.max(u_jv.abs()) + noise,
        "{name}: the JVP gives {u_jv}, central differences along v {fd}"
    );
}

/// `NAME_hvp` along `v` and `w`: its gradient is `NAME_grad`'s (`grad`) to rounding; `H·v`
/// is the central difference of the gradient along v; and ⟨w, H v⟩ = ⟨v, H w⟩.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn check_hvp(
    name: &str,
    theta: &[f64],
    v: &[f64],
    w: &[f64],
    grad: &[f64],
    hvp_grad: &[f64],
    hv: &[f64],
    hw: &[f64],
    gradient_at: impl Fn(&[f64]) -> Vec<f64>,
) {
    let largest = |x: &[f64]| x.iter().fold(0.0f64, |m, a| m.max(a.abs()));
    let scale = largest(grad).max(1e-300);
    for (a, b) in hvp_grad.iter().zip(grad) {
        assert!(
            (a - b).abs() <= 1e-12 * scale,
            "{name}: the HVP's gradient {hvp_grad:?} is not the gradient {grad:?}"
        );
    }
    let h = 1e-5 / v.iter().fold(1e-12f64, |m, x| m.max(x.abs()));
    let moved = |t: f64| -> Vec<f64> { theta.iter().zip(v).map(|(a, b)| a + t * b).collect() };
    let (plus, minus) = (gradient_at(&moved(h)), gradient_at(&moved(-h)));
    let fd: Vec<f64> = plus
        .iter()
        .zip(&minus)
        .map(|(p, m)| (p - m) / (2.0 * h))
        .collect();
    let hscale = largest(&fd).max(largest(hv));
    let noise = 1e-9 * scale.max(1.0) / h;
    for (i, (a, b)) in hv.iter().zip(&fd).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * hscale + noise,
            "{name}: (H·v)[{i}] = {a}, central differences of the gradient {b}\n H·v {hv:?}\n fd  {fd:?}"
        );
    }
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let (whv, vhw) = (dot(w, hv), dot(v, hw));
    let norm = |x: &[f64]| dot(x, x).sqrt();
    let sym = norm(w) * norm(hv).max(norm(hw)) * norm(v).max(1.0);
    // Where H is zero (a piecewise linear function) both sides are rounding noise, of the
    // order of ε times the gradient's scale.
    let floor = 1e-13 * scale.max(1.0) * norm(v) * norm(w);
    assert!(
        (whv - vhw).abs() <= 1e-9 * sym + floor,
        "{name}: ⟨w, Hv⟩ = {whv} but ⟨v, Hw⟩ = {vhw}"
    );
}
