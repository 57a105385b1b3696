//! Gradient checking as an API: compare a derived gradient with central differences,
//! parameter by parameter, and report the worst relative error of each (like PyTorch's
//! `torch.autograd.gradcheck`).

use super::{default_step, inner, numerical_gradient_with_step};
use crate::params::Parameters;
use crate::real::Real;
use crate::value::Value;
use std::fmt;

/// A gradient check under construction: add each parameter with [`GradCheck::wrt`] (scalar
/// functions) or [`GradCheck::wrt_vjp`] (any function, through a seed), then
/// [`run`](GradCheck::run) it.
///
/// Each parameter is given with its value, the gradient to check (a field of the generated
/// `NameGrad`), and the function of that parameter alone, the others held fixed. The check
/// perturbs each element by `±h·max(1, |v|)` and compares the central difference with the
/// derived gradient.
///
/// ```
/// use autodiff_macro::differentiate; // `autodiff::prelude::*` in a user's crate
/// use autodiff_runtime::gradcheck::GradCheck;
/// use autodiff_runtime::{add_bias, softmax_cross_entropy};
/// use nalgebra::{DMatrix, RowDVector};
///
/// #[differentiate(crate = autodiff_runtime, wrt(w, b))]
/// fn loss(x: &DMatrix<f64>, labels: &[usize], w: &DMatrix<f64>, b: &RowDVector<f64>) -> f64 {
///     softmax_cross_entropy(add_bias(x * w, b), labels)
/// }
///
/// let x = DMatrix::from_row_slice(3, 2, &[0.5, -1.0, 1.5, 0.2, -0.3, 0.8]);
/// let labels = [0, 2, 1];
/// let w = DMatrix::from_fn(2, 3, |i, j| 0.1 * i as f64 - 0.2 * j as f64);
/// let b = RowDVector::from_row_slice(&[0.1, 0.0, -0.1]);
///
/// let (_, grad) = loss_grad(&x, &labels, &w, &b);
/// let report = GradCheck::new()
///     .wrt("w", &w, &grad.w, |w| loss(&x, &labels, w, &b))
///     .wrt("b", &b, &grad.b, |b| loss(&x, &labels, &w, b))
///     .run();
/// println!("{report}");
/// // parameter      shape  relative error    worst at        derived      numerical  result
/// // w                2x3       …               (…,…)           …              …  ok
/// // b                1x3       …               (…,…)           …              …  ok
/// // tolerance 1.0e-6
/// assert!(report.passed());
/// assert!(report.worst_relative_error() < 1e-6);
///
/// // A wrong gradient (the bias gradient without its 1/n) is reported, by name.
/// let wrong = grad.b * 3.0;
/// let report = GradCheck::new().wrt("b", &b, &wrong, |b| loss(&x, &labels, &w, b)).run();
/// let err = report.into_result().unwrap_err();
/// assert!(err.to_string().starts_with("the derived gradient disagrees with central differences for b"));
/// ```
pub struct GradCheck<'a, T: Real> {
    tolerance: T,
    step: T,
    checks: Vec<ParamCheck<T>>,
    _borrows: std::marker::PhantomData<&'a ()>,
}

/// The result of checking one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamCheck<T> {
    /// The parameter's name, as given.
    pub name: String,
    /// The parameter's `(rows, columns)`: `(1, 1)` for a scalar.
    pub dims: (usize, usize),
    /// The largest elementwise difference between the derived and the numerical gradient,
    /// relative to the largest element of the numerical one (see
    /// [`relative_error`](super::relative_error)). NaN when either gradient has a NaN.
    pub relative_error: T,
    /// The `(row, column)` of the element where the difference is largest.
    pub worst_at: (usize, usize),
    /// The derived gradient's element there.
    pub derived: T,
    /// The numerical gradient's element there.
    pub numerical: T,
}

/// Every parameter's check, in the order they were added.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheckReport<T> {
    /// One check per parameter.
    pub params: Vec<ParamCheck<T>>,
    /// The largest relative error that passes.
    pub tolerance: T,
}

impl<'a, T: Real> Default for GradCheck<'a, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, T: Real> GradCheck<'a, T> {
    /// An empty check with tolerance `1e-6` (right for `f64`; use
    /// [`tolerance`](GradCheck::tolerance) for `f32`, such as `1e-2`) and the default
    /// relative step ([`default_step`]).
    pub fn new() -> Self {
        GradCheck {
            tolerance: nalgebra::convert(1e-6),
            step: default_step(),
            checks: Vec::new(),
            _borrows: std::marker::PhantomData,
        }
    }

    /// Sets the largest relative error that passes.
    pub fn tolerance(mut self, tolerance: T) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets the relative step `h` of the central differences.
    pub fn step(mut self, h: T) -> Self {
        self.step = h;
        self
    }

    /// Checks `derived` as the gradient of the scalar function `f` at `x`.
    ///
    /// Panics with both shapes when `derived` and `x` differ in shape.
    #[track_caller]
    pub fn wrt<X: Value<Elem = T>>(
        mut self,
        name: &str,
        x: &X,
        derived: &X,
        f: impl FnMut(&X) -> T,
    ) -> Self {
        let shape_ok = x.shape() == derived.shape();
        assert!(
            shape_ok,
            "gradcheck `{name}`: the gradient is {:?} but the parameter is {:?}",
            derived.dims(),
            x.dims()
        );
        let numerical = numerical_gradient_with_step(x, self.step, f);
        let dims = derived.dims();
        let check = compare(name, dims, derived.elems(), numerical.elems());
        self.checks.push(check);
        self
    }

    /// Checks `derived` as the gradient of the scalar function `f` at `x`, any
    /// [`Parameters`] value (a `#[derive(Parameters)]` struct, a `Vec` of matrices, …) with
    /// its gradient of the same structure: one check per leaf, named after its path
    /// (`name.w1`, `name.layers[2]`).
    ///
    /// Panics when `derived` has another structure than `x`.
    ///
    /// ```
    /// use autodiff_runtime::gradcheck::GradCheck;
    /// use autodiff_runtime::Parameters;
    /// use nalgebra::DVector;
    ///
    /// #[derive(Parameters, Clone, Debug, PartialEq)]
    /// #[parameters(crate = autodiff_runtime)] // not needed with `autodiff::prelude::*`
    /// struct Quadratic {
    ///     a: f64,
    ///     v: DVector<f64>,
    /// }
    ///
    /// // f(p) = a·‖v‖²: ∂f/∂a = ‖v‖², ∂f/∂v = 2a·v.
    /// let p = Quadratic { a: 1.5, v: DVector::from_vec(vec![1.0, -2.0]) };
    /// let grad = Quadratic { a: p.v.norm_squared(), v: &p.v * (2.0 * p.a) };
    /// let report = GradCheck::new()
    ///     .wrt_params("p", &p, &grad, |p: &Quadratic| p.a * p.v.norm_squared())
    ///     .run();
    /// assert!(report.passed());
    /// assert_eq!(report.params[1].name, "p.v");
    /// ```
    #[track_caller]
    pub fn wrt_params<P: Parameters<Scalar = T>>(
        mut self,
        name: &str,
        x: &P,
        derived: &P,
        f: impl FnMut(&P) -> T,
    ) -> Self {
        let numerical = numerical_parameters(x, self.step, f);
        let (derived, numerical) = (leaves(derived), leaves(&numerical));
        let mut names = Vec::new();
        let mut path = name.to_string();
        x.describe_leaves(&mut path, &mut |path, dims| {
            names.push((path.to_string(), dims))
        });
        let same = derived.len() == names.len()
            && derived
                .iter()
                .zip(&names)
                .all(|(d, (_, dims))| d.len() == dims.0 * dims.1);
        assert!(
            same,
            "gradcheck `{name}`: the gradient has another structure than the parameters"
        );
        for ((leaf, dims), (derived, numerical)) in names.iter().zip(derived.iter().zip(&numerical))
        {
            self.checks.push(compare(leaf, *dims, derived, numerical));
        }
        self
    }

    /// Checks `derived` as the vector-Jacobian product `Jᵀ·seed` of a function `f` of any
    /// result type at `x` (what `NAME_vjp(…, seed)` returns): the gradient of `⟨seed, f(x)⟩`.
    #[track_caller]
    pub fn wrt_vjp<X: Value<Elem = T>, Y: Value<Elem = T>>(
        self,
        name: &str,
        x: &X,
        derived: &X,
        seed: &Y,
        mut f: impl FnMut(&X) -> Y,
    ) -> Self {
        self.wrt(name, x, derived, |x| inner(seed, &f(x)))
    }

    /// The report of every parameter added.
    pub fn run(self) -> GradCheckReport<T> {
        GradCheckReport {
            params: self.checks,
            tolerance: self.tolerance,
        }
    }
}

/// Each leaf's elements, copied.
fn leaves<P: Parameters>(p: &P) -> Vec<Vec<P::Scalar>> {
    let mut out = Vec::new();
    p.for_each_leaf(&mut |leaf| out.push(leaf.to_vec()));
    out
}

/// The gradient of `f` at `x` by central differences, scalar by scalar over every leaf, with
/// the relative step `h` (as [`numerical_gradient_with_step`]).
fn numerical_parameters<P: Parameters>(
    x: &P,
    h: P::Scalar,
    mut f: impl FnMut(&P) -> P::Scalar,
) -> P {
    let mut gradient = x.zeros_like();
    let mut probe = x.clone();
    for i in 0..x.scalar_count() {
        let v = scalar_at(&mut probe, i, None);
        let step = super::step_at(h, v);
        let (up, down) = (v + step, v - step);
        scalar_at(&mut probe, i, Some(up));
        let f_up = f(&probe);
        scalar_at(&mut probe, i, Some(down));
        let f_down = f(&probe);
        scalar_at(&mut probe, i, Some(v));
        scalar_at(&mut gradient, i, Some((f_up - f_down) / (up - down)));
    }
    gradient
}

/// The `i`-th scalar of `p` over all its leaves in order, set to `value` when given; returns
/// what it held.
fn scalar_at<P: Parameters>(p: &mut P, i: usize, value: Option<P::Scalar>) -> P::Scalar {
    let (mut offset, mut old) = (0, nalgebra::zero());
    p.for_each_leaf_mut(&mut |leaf| {
        if (offset..offset + leaf.len()).contains(&i) {
            old = leaf[i - offset];
            if let Some(v) = value {
                leaf[i - offset] = v;
            }
        }
        offset += leaf.len();
    });
    old
}

fn compare<T: Real>(
    name: &str,
    dims: (usize, usize),
    derived: &[T],
    numerical: &[T],
) -> ParamCheck<T> {
    let mut worst = 0;
    let mut worst_diff = T::zero();
    let mut scale = T::zero();
    let mut nan = false;
    for (i, (&d, &n)) in derived.iter().zip(numerical).enumerate() {
        let diff = (d - n).abs();
        nan |= is_nan(diff);
        if diff > worst_diff {
            (worst, worst_diff) = (i, diff);
        }
        scale = scale.max(n.abs());
    }
    let tiny: T = nalgebra::convert(1e-30);
    let relative_error = if nan {
        nan_value::<T>()
    } else {
        worst_diff / scale.max(tiny)
    };
    let rows = dims.0.max(1);
    ParamCheck {
        name: name.to_string(),
        dims,
        relative_error,
        worst_at: (worst % rows, worst / rows),
        derived: derived.get(worst).copied().unwrap_or_else(T::zero),
        numerical: numerical.get(worst).copied().unwrap_or_else(T::zero),
    }
}

/// Whether `v` is NaN (`RealField` has no `is_nan`).
#[allow(clippy::eq_op)]
fn is_nan<T: Real>(v: T) -> bool {
    v != v
}

fn nan_value<T: Real>() -> T {
    T::zero() / T::zero()
}

impl<T: Real> ParamCheck<T> {
    /// Whether the relative error is at most `tolerance` (never for NaN).
    pub fn passes(&self, tolerance: T) -> bool {
        self.relative_error <= tolerance
    }
}

impl<T: Real> GradCheckReport<T> {
    /// Whether every parameter passed.
    pub fn passed(&self) -> bool {
        self.params.iter().all(|p| p.passes(self.tolerance))
    }

    /// The parameters that did not pass.
    pub fn failures(&self) -> Vec<&ParamCheck<T>> {
        self.params
            .iter()
            .filter(|p| !p.passes(self.tolerance))
            .collect()
    }

    /// The check of the parameter named `name`.
    pub fn get(&self, name: &str) -> Option<&ParamCheck<T>> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The largest relative error over all parameters (NaN if any is NaN, `0` for none).
    pub fn worst_relative_error(&self) -> T {
        self.params.iter().fold(T::zero(), |m, p| {
            if is_nan(m) || is_nan(p.relative_error) {
                nan_value::<T>()
            } else {
                m.max(p.relative_error)
            }
        })
    }

    /// The report itself when every parameter passed, else an error that prints it.
    pub fn into_result(self) -> Result<Self, GradCheckError<T>> {
        if self.passed() {
            Ok(self)
        } else {
            Err(GradCheckError { report: self })
        }
    }
}

impl<T: Real + fmt::LowerExp> GradCheckReport<T> {
    /// Panics with the report unless every parameter passed: for tests.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "gradient check failed\n{self}");
    }
}

impl<T: Real + fmt::LowerExp> fmt::Display for GradCheckReport<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .params
            .iter()
            .map(|p| p.name.len())
            .max()
            .unwrap_or(0)
            .max("parameter".len());
        writeln!(
            f,
            "{:<width$}  {:>9}  {:>14}  {:>10}  {:>13}  {:>13}  result",
            "parameter", "shape", "relative error", "worst at", "derived", "numerical"
        )?;
        for p in &self.params {
            let verdict = if p.passes(self.tolerance) {
                "ok"
            } else {
                "FAILED"
            };
            writeln!(
                f,
                "{:<width$}  {:>9}  {:>14.3e}  {:>10}  {:>13.6e}  {:>13.6e}  {verdict}",
                p.name,
                format!("{}x{}", p.dims.0, p.dims.1),
                p.relative_error,
                format!("({},{})", p.worst_at.0, p.worst_at.1),
                p.derived,
                p.numerical,
            )?;
        }
        write!(f, "tolerance {:.1e}", self.tolerance)
    }
}

/// A gradient check that failed: the report, with at least one parameter over tolerance.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheckError<T> {
    /// The whole report.
    pub report: GradCheckReport<T>,
}

impl<T: Real + fmt::LowerExp> fmt::Display for GradCheckError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self
            .report
            .failures()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        write!(
            f,
            "the derived gradient disagrees with central differences for {}\n{}",
            names.join(", "),
            self.report
        )
    }
}

impl<T: Real + fmt::LowerExp> std::error::Error for GradCheckError<T> {}
