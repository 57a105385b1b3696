//! Newton-CG (truncated Newton): [`NewtonCg`] minimises a smooth scalar function of any
//! [`Parameters`] value from its gradients and Hessian-vector products alone, never forming
//! the Hessian.

use super::to_f64;
use crate::params::Parameters;
use crate::real::Real;

/// A truncated-Newton (Newton-CG) minimiser, after Nocedal & Wright, *Numerical
/// Optimization* (2nd ed.), Algorithm 7.1 ("Line Search Newton–CG").
///
/// Each outer step at `x` solves `(H + λI) d = −g` (`g` the gradient at `x`, `H` the Hessian,
/// `λ` [`NewtonCg::damping`]) approximately by conjugate gradients, which needs only
/// Hessian-vector products `H·v`, then moves `x ← x + α·d` with a backtracking line search
/// from `α = 1`.
///
/// The conjugate gradients stop at the first of:
/// - the residual `‖(H + λI) z + g‖ ≤ η·‖g‖`, with the forcing term
///   `η = min(cg_tolerance, √‖g‖)`: with the default `cg_tolerance = 0.5` this is exactly
///   Nocedal & Wright's `min(0.5, √‖g‖)·‖g‖`, loose far from a minimum and tightening as `‖g‖`
///   falls, which makes the outer iterations converge superlinearly; a smaller
///   `cg_tolerance` solves each Newton system more exactly (`1e-12` makes it an exact Newton
///   step, up to rounding);
/// - [`NewtonCg::max_cg_iterations`] iterations, keeping the last iterate;
/// - negative curvature, a direction `p` of the conjugate gradients with `pᵀ(H + λI)p ≤ 0`:
///   on the first iteration the step is then the steepest-descent direction `−g`, and after
///   it the last iterate (which is a descent direction), as Nocedal & Wright prescribe.
///
/// The line search takes the first `α = 1, ρ, ρ², …` (`ρ` [`NewtonCg::backtracking`]) where
/// the value is finite and meets the Armijo condition
/// `f(x + αd) ≤ f(x) + c₁·α·gᵀd` (`c₁` [`NewtonCg::armijo`]). When the decrease is too small
/// for the value to show it (the value changes by less than a thousand rounding errors of
/// the scalar type), the same condition is checked on the gradients instead, in the
/// approximate form of Hager & Zhang (2005): `∇f(x + αd)ᵀd ≤ (2c₁ − 1)·gᵀd`. This is what
/// lets the minimiser reach gradients near the rounding level of the value.
///
/// The arithmetic is that of the parameters' scalar type (`f32` or `f64`), the dot products
/// and norms are summed in `f64`.
///
/// ```
/// use autodiff_runtime::optim::NewtonCg;
/// use nalgebra::DMatrix;
///
/// // ½ xᵀAx − bᵀx with A symmetric positive definite: its minimum solves A x = b.
/// let a = DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.0,
///                                         1.0, 3.0, 1.0,
///                                         0.0, 1.0, 2.0]);
/// let b = DMatrix::from_column_slice(3, 1, &[1.0, 2.0, 3.0]);
/// let value = |x: &DMatrix<f64>| (0.5 * x.dot(&(&a * x)) - b.dot(x), &a * x - &b);
/// let value_grad = |x: &DMatrix<f64>| value(x);
/// let hvp = |x: &DMatrix<f64>, v: &DMatrix<f64>| {
///     let (f, g) = value(x);
///     (f, g, &a * v) // the Hessian is A
/// };
///
/// // Conjugate gradients solved to rounding: exact Newton steps, and on a quadratic the
/// // first one lands on the minimum, after at most n = 3 Hessian-vector products.
/// let mut newton = NewtonCg { cg_tolerance: 1e-12, ..NewtonCg::new() };
/// let mut x = DMatrix::zeros(3, 1);
/// let report = newton.minimize(&mut x, value_grad, hvp, 3, 1e-10);
/// assert!(report.converged && report.gradient_norm < 1e-10);
/// assert_eq!(report.steps.len(), 1);
/// assert!(report.steps[0].cg_iterations <= 3 && report.steps[0].step_length == 1.0);
/// assert!((&a * &x - &b).norm() < 1e-10);
///
/// // The default forcing term solves loosely while the gradient is large: more outer steps
/// // (seven here), each of one to three products.
/// let mut x = DMatrix::zeros(3, 1);
/// let report = NewtonCg::new().minimize(&mut x, value_grad, hvp, 100, 1e-10);
/// assert!(report.converged && (&a * &x - &b).norm() < 1e-10);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewtonCg {
    /// The most conjugate-gradient iterations (Hessian-vector products) of one outer step
    /// (default `100`). Exact conjugate gradients need at most as many as there are scalars in
    /// the parameters.
    pub max_cg_iterations: usize,
    /// The largest forcing term `η`: the conjugate gradients stop when their residual is at
    /// most `min(cg_tolerance, √‖g‖)·‖g‖` (default `0.5`, Nocedal & Wright's choice). Where
    /// the Hessian is indefinite a loose tolerance stops the conjugate gradients early and the
    /// steps are short: with few parameters, where a product is cheap, a tighter one can take
    /// far fewer outer steps (Rosenbrock's function from `(−1.2, 1)`: 64 with `0.5`, 23 with
    /// `0.01`).
    pub cg_tolerance: f64,
    /// A Levenberg-style `λ ≥ 0` added to the Hessian (`H + λI`), which shortens the steps
    /// and makes the curvature positive where `H`'s smallest eigenvalue is above `−λ`
    /// (default `0`: plain Newton).
    pub damping: f64,
    /// The `c₁` of the Armijo condition (default `1e-4`).
    pub armijo: f64,
    /// The factor `ρ` by which the line search shortens a rejected step (default `0.5`).
    pub backtracking: f64,
    /// The most times the line search shortens the step before giving up (default `50`,
    /// down to `α = 0.5⁵⁰ ≈ 10⁻¹⁵`); a step that gives up leaves the parameters unchanged
    /// and reports a step length of zero.
    pub max_backtracks: usize,
}

impl Default for NewtonCg {
    fn default() -> NewtonCg {
        NewtonCg {
            max_cg_iterations: 100,
            cg_tolerance: 0.5,
            damping: 0.0,
            armijo: 1e-4,
            backtracking: 0.5,
            max_backtracks: 50,
        }
    }
}

/// What one outer step of [`NewtonCg`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonStep {
    /// The value at the parameters before the step.
    pub value_before: f64,
    /// The value after the step (the value before, when the line search gave up).
    pub value_after: f64,
    /// The Euclidean norm of the gradient before the step.
    pub gradient_norm: f64,
    /// The Euclidean norm of the gradient after the step.
    pub gradient_norm_after: f64,
    /// The conjugate-gradient iterations completed (each updates the Newton direction).
    pub cg_iterations: usize,
    /// The calls of the Hessian-vector product: one per completed iteration, and one more
    /// when the last product met negative curvature.
    pub hvp_calls: usize,
    /// The calls of the value-and-gradient function: the line search's trial points, and the
    /// gradient at the start of the step when [`NewtonCg::step`] had to evaluate it.
    pub value_grad_calls: usize,
    /// The `α` of `x ← x + α·d` (`1` for a full Newton step; `0` when the line search gave
    /// up and the parameters did not move).
    pub step_length: f64,
    /// Whether the conjugate gradients met a direction of non-positive curvature.
    pub negative_curvature: bool,
}

/// What [`NewtonCg::minimize`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct NewtonReport {
    /// Every outer step, in order.
    pub steps: Vec<NewtonStep>,
    /// The value at the final parameters.
    pub value: f64,
    /// The norm of the gradient at the final parameters.
    pub gradient_norm: f64,
    /// Whether that norm is at most the tolerance (otherwise the iterations ran out or the
    /// line search could not decrease the value).
    pub converged: bool,
}

/// The direction the conjugate gradients found, and what it took.
struct Direction<P> {
    direction: P,
    iterations: usize,
    hvp_calls: usize,
    negative_curvature: bool,
}

impl NewtonCg {
    /// A minimiser with the defaults: at most 100 conjugate-gradient iterations per step,
    /// Nocedal & Wright's forcing term `min(0.5, √‖g‖)`, no damping, Armijo `c₁ = 1e-4`, steps
    /// halved up to 50 times.
    pub fn new() -> NewtonCg {
        NewtonCg::default()
    }

    /// One outer step from `x`, which it updates in place: the gradient at `x` from
    /// `value_grad`, the Newton direction by conjugate gradients on `hvp`, and the line
    /// search on `value_grad`.
    ///
    /// `value_grad(x)` gives the value and the gradient at `x`; `hvp(x, v)` gives the value,
    /// the gradient and the Hessian-vector product `H(x)·v` (what a generated `NAME_hvp`
    /// returns). Only the product of `hvp` is used here: the conjugate gradients' first
    /// product already needs the gradient (its direction is `−g`), so the gradient comes from
    /// `value_grad`. [`NewtonCg::minimize`] takes each step's starting gradient from the
    /// previous line search and so evaluates it only once in all.
    ///
    /// Panics when a gradient or a product has another structure than `x`.
    #[track_caller]
    pub fn step<P: Parameters>(
        &mut self,
        x: &mut P,
        mut value_grad: impl FnMut(&P) -> (f64, P),
        mut hvp: impl FnMut(&P, &P) -> (f64, P, P),
    ) -> NewtonStep {
        let (value, grad) = value_grad(x);
        let (mut step, _, grad) = self.step_from(x, value, grad, &mut value_grad, &mut hvp);
        step.value_grad_calls += 1;
        grad.give_back();
        step
    }

    /// Outer steps from `x` (updated in place) until the gradient's Euclidean norm is at most
    /// `gradient_tolerance`, `max_iterations` steps are taken, or the line search cannot
    /// decrease the value. The closures are those of [`NewtonCg::step`]; the gradient is
    /// evaluated once at the start, then each step starts from the gradient its predecessor's
    /// line search found.
    #[track_caller]
    pub fn minimize<P: Parameters>(
        &mut self,
        x: &mut P,
        mut value_grad: impl FnMut(&P) -> (f64, P),
        mut hvp: impl FnMut(&P, &P) -> (f64, P, P),
        max_iterations: usize,
        gradient_tolerance: f64,
    ) -> NewtonReport {
        let (mut value, mut grad) = value_grad(x);
        let mut gradient_norm = norm(&grad);
        let mut steps = Vec::new();
        while gradient_norm > gradient_tolerance && steps.len() < max_iterations {
            let (step, new_value, new_grad) =
                self.step_from(x, value, grad, &mut value_grad, &mut hvp);
            (value, grad, gradient_norm) = (new_value, new_grad, step.gradient_norm_after);
            steps.push(step);
            if step.step_length == 0.0 {
                break;
            }
        }
        grad.give_back();
        NewtonReport {
            steps,
            value,
            gradient_norm,
            converged: gradient_norm <= gradient_tolerance,
        }
    }

    /// One outer step from `x`, whose value and gradient are known: the step, and the value
    /// and gradient where it ends.
    #[track_caller]
    fn step_from<P: Parameters>(
        &self,
        x: &mut P,
        value: f64,
        mut grad: P,
        value_grad: &mut impl FnMut(&P) -> (f64, P),
        hvp: &mut impl FnMut(&P, &P) -> (f64, P, P),
    ) -> (NewtonStep, f64, P) {
        let gradient_norm = norm(&grad);
        let mut step = NewtonStep {
            value_before: value,
            value_after: value,
            gradient_norm,
            gradient_norm_after: gradient_norm,
            cg_iterations: 0,
            hvp_calls: 0,
            value_grad_calls: 0,
            step_length: 0.0,
            negative_curvature: false,
        };
        if gradient_norm == 0.0 || !gradient_norm.is_finite() {
            return (step, value, grad);
        }
        let found = self.direction(x, &grad, gradient_norm, hvp);
        step.cg_iterations = found.iterations;
        step.hvp_calls = found.hvp_calls;
        step.negative_curvature = found.negative_curvature;
        let mut direction = found.direction;
        let mut slope = dot(&mut grad, &direction);
        if slope >= 0.0 || slope.is_nan() {
            // Rounding (or a broken product) left no descent: fall back on steepest descent.
            direction = negated(&grad);
            slope = -gradient_norm * gradient_norm;
        }

        let (c1, eps) = (self.armijo, epsilon::<P::Scalar>());
        let mut alpha = 1.0;
        for _ in 0..=self.max_backtracks {
            let mut trial = x.clone();
            trial.add_scaled(nalgebra::convert(alpha), &direction);
            let (trial_value, mut trial_grad) = value_grad(&trial);
            step.value_grad_calls += 1;
            let accepted = trial_value.is_finite()
                && (trial_value <= value + c1 * alpha * slope
                    || (trial_value <= value + 1e3 * eps * value.abs()
                        && dot(&mut trial_grad, &direction) <= (2.0 * c1 - 1.0) * slope));
            if accepted {
                *x = trial;
                step.value_after = trial_value;
                step.gradient_norm_after = norm(&trial_grad);
                step.step_length = alpha;
                grad.give_back();
                direction.give_back();
                return (step, trial_value, trial_grad);
            }
            trial_grad.give_back();
            alpha *= self.backtracking;
        }
        direction.give_back();
        (step, value, grad)
    }

    /// An approximate solution of `(H + λI) d = −g` at `x` by conjugate gradients (Nocedal &
    /// Wright, Algorithm 7.1), `gradient_norm` being `‖g‖ > 0`.
    fn direction<P: Parameters>(
        &self,
        x: &P,
        grad: &P,
        gradient_norm: f64,
        hvp: &mut impl FnMut(&P, &P) -> (f64, P, P),
    ) -> Direction<P> {
        let tolerance = self.cg_tolerance.min(gradient_norm.sqrt()) * gradient_norm;
        let damping: P::Scalar = nalgebra::convert(self.damping);
        let mut found = Direction {
            direction: grad.zeros_like(),
            iterations: 0,
            hvp_calls: 0,
            negative_curvature: false,
        };
        // The iterate z (found.direction), the residual r = (H + λI) z + g, the conjugate
        // direction p.
        let mut residual = grad.clone();
        let mut conjugate = negated(grad);
        let mut residual_squared = gradient_norm * gradient_norm;
        while found.iterations < self.max_cg_iterations {
            let (_, product_grad, mut product) = hvp(x, &conjugate);
            product_grad.give_back();
            found.hvp_calls += 1;
            if self.damping != 0.0 {
                product.add_scaled(damping, &conjugate);
            }
            let curvature = dot(&mut product, &conjugate);
            if curvature <= 0.0 || curvature.is_nan() {
                found.negative_curvature = curvature <= 0.0;
                product.give_back();
                break;
            }
            let alpha = residual_squared / curvature;
            found
                .direction
                .add_scaled(nalgebra::convert(alpha), &conjugate);
            residual.add_scaled(nalgebra::convert(alpha), &product);
            product.give_back();
            found.iterations += 1;
            let next_squared = norm_squared(&residual);
            if next_squared.sqrt() <= tolerance {
                break;
            }
            let beta: P::Scalar = nalgebra::convert(next_squared / residual_squared);
            residual_squared = next_squared;
            conjugate.zip_leaves_mut(&residual, &mut |p, r| {
                for (p, &r) in p.iter_mut().zip(r) {
                    *p = beta * *p - r;
                }
            });
        }
        if found.iterations == 0 {
            // Negative curvature on the first direction (or no iteration allowed): steepest
            // descent.
            found.direction.give_back();
            found.direction = conjugate;
        } else {
            conjugate.give_back();
        }
        residual.give_back();
        found
    }
}

/// `Σ aᵢbᵢ` over every scalar, summed in `f64`. `a` is only read: it is `&mut` because the
/// trait walks two values side by side only through [`Parameters::zip_leaves_mut`].
#[track_caller]
fn dot<P: Parameters>(a: &mut P, b: &P) -> f64 {
    let mut sum = 0.0;
    a.zip_leaves_mut(b, &mut |a, b| {
        sum += a
            .iter()
            .zip(b)
            .map(|(&a, &b)| to_f64(a) * to_f64(b))
            .sum::<f64>();
    });
    sum
}

/// `Σ aᵢ²` over every scalar, summed in `f64`.
fn norm_squared<P: Parameters>(a: &P) -> f64 {
    let mut sum = 0.0;
    a.for_each_leaf(&mut |a| sum += a.iter().map(|&a| to_f64(a) * to_f64(a)).sum::<f64>());
    sum
}

/// The Euclidean norm of all the scalars.
fn norm<P: Parameters>(a: &P) -> f64 {
    norm_squared(a).sqrt()
}

/// `−a`.
fn negated<P: Parameters>(a: &P) -> P {
    let mut minus = a.zeros_like();
    minus.add_scaled(nalgebra::convert(-1.0), a);
    minus
}

/// The machine epsilon of the scalar type, as an `f64`.
fn epsilon<S: Real>() -> f64 {
    if S::as_f32s(&[]).is_some() {
        f32::EPSILON.into()
    } else {
        f64::EPSILON
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, DVector};

    #[test]
    fn dot_products_and_norms_are_summed_in_f64() {
        // 30001² = 900 060 001 is exact in f64 but not in f32 (900 060 032).
        let mut a = vec![
            DMatrix::from_element(1, 1, 30001.0_f32),
            DMatrix::zeros(2, 2),
        ];
        let b = a.clone();
        assert_eq!(dot(&mut a, &b), 900_060_001.0);
        assert_eq!(norm_squared(&a), 900_060_001.0);
        assert_eq!(norm(&DVector::from_vec(vec![3.0_f64, 4.0])), 5.0);
        assert_eq!(a, b, "dot leaves its first operand unchanged");
        assert_eq!(negated(&b)[0][(0, 0)], -30001.0);
    }

    #[test]
    fn epsilon_is_the_scalar_types() {
        assert_eq!(epsilon::<f32>(), f64::from(f32::EPSILON));
        assert_eq!(epsilon::<f64>(), f64::EPSILON);
    }

    /// `H = diag(1, 10)` at any point, gradient `(1, 1)`.
    fn diagonal(_: &DVector<f64>, v: &DVector<f64>) -> (f64, DVector<f64>, DVector<f64>) {
        let g = DVector::from_element(2, 1.0);
        (0.0, g, DVector::from_vec(vec![v[0], 10.0 * v[1]]))
    }

    #[test]
    fn conjugate_gradients_stop_at_the_iteration_limit() {
        let (x, g) = (DVector::zeros(2), DVector::from_element(2, 1.0));
        let limited = |max_cg_iterations| NewtonCg {
            max_cg_iterations,
            cg_tolerance: 1e-12,
            ..NewtonCg::new()
        };
        // No iteration allowed: steepest descent.
        let found = limited(0).direction(&x, &g, g.norm(), &mut diagonal);
        assert_eq!((found.iterations, found.hvp_calls), (0, 0));
        assert_eq!(found.direction, -&g);
        // One: the minimum along −g, −(gᵀg / gᵀHg)·g = −(2/11)·g.
        let found = limited(1).direction(&x, &g, g.norm(), &mut diagonal);
        assert_eq!((found.iterations, found.hvp_calls), (1, 1));
        assert!((found.direction + &g * (2.0 / 11.0)).amax() < 1e-15);
        // Two: the Newton direction −H⁻¹g, exactly (up to rounding) in n = 2 iterations.
        let found = limited(100).direction(&x, &g, g.norm(), &mut diagonal);
        assert_eq!((found.iterations, found.hvp_calls), (2, 2));
        assert!((found.direction - DVector::from_vec(vec![-1.0, -0.1])).amax() < 1e-15);
        assert!(!found.negative_curvature);
    }
}
