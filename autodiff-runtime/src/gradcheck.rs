//! Gradient checking: central-difference derivatives of functions of [`Value`]s, a relative
//! error measure, and the dot-product (adjoint) test, to verify derivative rules and
//! generated reverse sweeps against the functions they differentiate; and [`GradCheck`],
//! which checks a derived gradient parameter by parameter and reports the worst relative
//! error of each (like PyTorch's `gradcheck`).

use crate::real::Real;
use crate::value::Value;

/// The default relative step of the central differences: `∛ε` (about `6e-6` for `f64`,
/// `5e-3` for `f32`), which balances the truncation error (`∝ h²`) against rounding
/// (`∝ ε / h`).
#[inline]
pub fn default_step<T: Real>() -> T {
    T::default_epsilon().cbrt()
}

/// The step used for an element of magnitude `|v|`: `h·max(1, |v|)`.
#[inline]
fn step_at<T: Real>(h: T, v: T) -> T {
    h * v.abs().max(T::one())
}

/// `⟨a, b⟩ = Σᵢ aᵢbᵢ`, the inner product of two values of the same shape.
///
/// Panics when the numbers of elements differ.
#[track_caller]
pub fn inner<T: Real, X: Value<Elem = T>>(a: &X, b: &X) -> X::Elem {
    assert_eq!(
        a.count_elems(),
        b.count_elems(),
        "inner: numbers of elements differ"
    );
    (0..a.count_elems()).fold(T::zero(), |acc, i| acc + a.elem(i) * b.elem(i))
}

/// The gradient of a scalar function `f` at `x` by central differences, with the default
/// relative step ([`default_step`]): `∂f/∂xᵢ ≈ (f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ`, with
/// `hᵢ = h·max(1, |xᵢ|)`. Costs `2·n` calls of `f`.
///
/// ```
/// use autodiff_runtime::gradcheck::{numerical_gradient, relative_error};
/// use nalgebra::DVector;
///
/// let x = DVector::from_vec(vec![0.5, -1.0, 2.0]);
/// // f(x) = Σ xᵢ³, whose gradient is 3xᵢ².
/// let numerical = numerical_gradient(&x, |x: &DVector<f64>| x.map(|v| v.powi(3)).sum());
/// let exact = x.map(|v| 3.0 * v * v);
/// assert!(relative_error(&numerical, &exact) < 1e-8);
/// ```
pub fn numerical_gradient<T: Real, X: Value<Elem = T>>(x: &X, f: impl FnMut(&X) -> X::Elem) -> X {
    numerical_gradient_with_step(x, default_step(), f)
}

/// [`numerical_gradient`] with a relative step `h` of your choice.
pub fn numerical_gradient_with_step<T: Real, X: Value<Elem = T>>(
    x: &X,
    h: X::Elem,
    mut f: impl FnMut(&X) -> X::Elem,
) -> X {
    let mut gradient = X::zeros(x.shape());
    let mut probe = x.clone();
    for i in 0..x.count_elems() {
        let v = x.elem(i);
        let step = step_at(h, v);
        let (up, down) = (v + step, v - step);
        probe.set_elem(i, up);
        let f_up = f(&probe);
        probe.set_elem(i, down);
        let f_down = f(&probe);
        probe.set_elem(i, v);
        // Divide by the representable step, not the requested one.
        gradient.set_elem(i, (f_up - f_down) / (up - down));
    }
    gradient
}

/// The directional derivative `J·v` of `f` at `x` by central differences:
/// `(f(x + t·v) − f(x − t·v)) / 2t`, with `t = h·max(1, maxᵢ|xᵢ|) / maxᵢ|vᵢ|` and the
/// default relative step `h`. Returns zeros when `v = 0`.
pub fn directional_derivative<T: Real, X: Value<Elem = T>, Y: Value<Elem = T>>(
    x: &X,
    v: &X,
    mut f: impl FnMut(&X) -> Y,
) -> Y {
    let v_max = max_abs(v);
    if v_max == T::zero() {
        return Y::zeros(f(x).shape());
    }
    let t = step_at(default_step(), max_abs(x)) / v_max;
    let mut up = x.clone();
    up.zip_apply_elems(v, |x, v| x + t * v);
    let mut down = x.clone();
    down.zip_apply_elems(v, |x, v| x - t * v);
    let mut derivative = f(&up);
    let f_down = f(&down);
    let two_t = t + t;
    derivative.zip_apply_elems(&f_down, |u, d| (u - d) / two_t);
    derivative
}

/// `maxᵢ |xᵢ|` (`0` for an empty value).
fn max_abs<T: Real, X: Value<Elem = T>>(x: &X) -> X::Elem {
    (0..x.count_elems()).fold(T::zero(), |m, i| m.max(x.elem(i).abs()))
}

/// The relative error of `got` against `want`: `maxᵢ |gotᵢ − wantᵢ| / max(maxᵢ |wantᵢ|, tiny)`
/// with `tiny = 1e-30`: the largest elementwise error, relative to the largest element of
/// the reference, so that elements near zero are compared at the reference's scale.
///
/// Panics when the numbers of elements differ.
///
/// ```
/// use autodiff_runtime::gradcheck::relative_error;
/// use nalgebra::Vector2;
///
/// let err: f64 = relative_error(&Vector2::new(1.0, 2.001), &Vector2::new(1.0, 2.0));
/// assert!((err - 0.0005).abs() < 1e-12);
/// ```
#[track_caller]
pub fn relative_error<T: Real, X: Value<Elem = T>>(got: &X, want: &X) -> X::Elem {
    assert_eq!(
        got.count_elems(),
        want.count_elems(),
        "relative_error: numbers of elements differ"
    );
    let diff =
        (0..got.count_elems()).fold(T::zero(), |m, i| m.max((got.elem(i) - want.elem(i)).abs()));
    let tiny: T = nalgebra::convert(1e-30);
    diff / max_abs(want).max(tiny)
}

/// The two sides of the dot-product test for a function `f: X → Y` at a point, with a seed
/// `u` (the shape of `f(x)`) and a direction `v` (the shape of `x`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DotProductTest<T> {
    /// `⟨u, J·v⟩`, with `J·v` by central differences of `f`.
    pub forward: T,
    /// `⟨Jᵀ·u, v⟩`, with `Jᵀ·u` the pullback under test.
    pub adjoint: T,
}

impl<T: Real> DotProductTest<T> {
    /// `|forward − adjoint| / max(|forward|, |adjoint|, tiny)`, with `tiny = 1e-30`.
    pub fn relative_error(&self) -> T {
        let tiny: T = nalgebra::convert(1e-30);
        (self.forward - self.adjoint).abs() / self.forward.abs().max(self.adjoint.abs()).max(tiny)
    }
}

/// The dot-product test of a pullback: `⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩` must hold for every seed `u`
/// and direction `v`, where `jt_u` is what the pullback returned for the seed `u` at `x`, and
/// `J·v` is taken by central differences of `f` ([`directional_derivative`]).
///
/// ```
/// use autodiff_runtime::gradcheck::dot_product_test;
/// use nalgebra::{Matrix2, Vector2};
///
/// let a = Matrix2::new(1.0, 2.0, 3.0, 4.0);
/// let x = Vector2::new(0.5, -0.5);
/// let (u, v) = (Vector2::new(1.0, -2.0), Vector2::new(0.3, 0.7));
/// // f(x) = A·x, so Jᵀ·u = Aᵀ·u.
/// let test = dot_product_test(&x, &v, &u, &(a.transpose() * u), |x: &Vector2<f64>| a * x);
/// assert!(test.relative_error() < 1e-8);
/// ```
pub fn dot_product_test<T: Real, X: Value<Elem = T>, Y: Value<Elem = T>>(
    x: &X,
    v: &X,
    u: &Y,
    jt_u: &X,
    f: impl FnMut(&X) -> Y,
) -> DotProductTest<X::Elem> {
    let jv = directional_derivative(x, v, f);
    DotProductTest {
        forward: inner(u, &jv),
        adjoint: inner(jt_u, v),
    }
}

mod check;
pub use check::{GradCheck, GradCheckError, GradCheckReport, ParamCheck};
