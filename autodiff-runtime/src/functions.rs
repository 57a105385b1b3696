//! The neural-network functions users call in ordinary code: activations, row-wise softmax,
//! bias broadcasting and classification losses. Each computes its value with the same code
//! as the derivative rule of the same name, so a function and its differentiated version
//! agree exactly; `#[differentiate]` recognises the calls and emits the rules.
//!
//! Every argument is accepted by value or by reference (`relu(x)` and `relu(&x)`). The
//! elementwise functions work on `f32`, `f64` and owned nalgebra matrices and vectors
//! (`DMatrix`, `DVector`, `RowDVector`, `SMatrix`, `SVector`, …).

use crate::ops::{activation, binary, loss, matrix, softmax as rows, unary};
use crate::real::Real;
use crate::value::{Arg, Value};
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// The element type of the value behind an argument.
type Elem<X> = <<X as Arg>::Value as Value>::Elem;

/// The rectified linear unit `max(0, x)`, elementwise (NaN stays NaN).
///
/// Derivative: `1` for `x > 0`, `0` for `x ≤ 0` (the kink at `0` gets `0`).
#[inline]
pub fn relu<X: Arg>(x: X) -> X::Value {
    activation::relu(x.value()).0
}

/// The leaky rectifier: `x` for `x > 0`, `alpha·x` for `x ≤ 0`, elementwise.
///
/// Derivative: `1` for `x > 0`, `alpha` for `x ≤ 0` (the kink at `0` gets `alpha`).
#[inline]
pub fn leaky_relu<X: Arg>(x: X, alpha: Elem<X>) -> X::Value {
    activation::leaky_relu(x.value(), alpha).0
}

/// The logistic function `1 / (1 + e⁻ˣ)`, elementwise, evaluated without overflow: exactly
/// `0` or `1` (never NaN) for large `|x|`, such as `±1000`.
///
/// Derivative: `σ(x)·(1 − σ(x))`.
#[inline]
pub fn sigmoid<X: Arg>(x: X) -> X::Value {
    activation::sigmoid(x.value()).0
}

/// The hyperbolic tangent, elementwise.
///
/// Derivative: `1 − tanh² x`.
#[inline]
pub fn tanh<X: Arg>(x: X) -> X::Value {
    unary::tanh(x.value()).0
}

/// The exponential linear unit: `x` for `x > 0`, `alpha·(eˣ − 1)` for `x ≤ 0`, elementwise.
///
/// Derivative: `1` for `x > 0`, `alpha·eˣ` for `x ≤ 0`.
#[inline]
pub fn elu<X: Arg>(x: X, alpha: Elem<X>) -> X::Value {
    activation::elu(x.value(), alpha).0
}

/// The elementwise maximum of two scalars or two matrices of the same shape (a NaN element
/// loses, as with `f64::max`).
///
/// Derivative: each element's goes to `a` where `a ≥ b` (ties go to `a`), to `b` elsewhere.
/// Panics with both shapes when they differ.
#[inline]
#[track_caller]
pub fn maxout<A: Arg, B: Arg<Value = A::Value>>(a: A, b: B) -> A::Value {
    binary::maxout(a.value(), b.value()).0
}

/// The square `x²`, elementwise.
///
/// Derivative: `2x`.
#[inline]
pub fn square<X: Arg>(x: X) -> X::Value {
    activation::square(x.value()).0
}

/// The softmax of each row: `exp(m[i, j]) / Σₖ exp(m[i, k])`, with each row's maximum
/// subtracted first, so that it is finite for any finite scores. A `DVector` is a column of
/// one-element rows: use a `RowDVector` for the softmax of a single vector.
///
/// Derivative (per row, for a seed `d_y`): `y ⊙ (d_y − ⟨d_y, y⟩)`.
///
/// ```
/// use nalgebra::RowDVector;
/// let p = autodiff_runtime::softmax(RowDVector::from_row_slice(&[1000.0, 0.0, -1000.0]));
/// assert_eq!(p, RowDVector::from_row_slice(&[1.0, 0.0, 0.0]));
/// ```
#[inline]
pub fn softmax<T: Real, R: Dim, C: Dim, M: Arg<Value = OMatrix<T, R, C>>>(m: M) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    rows::softmax(m.value()).0
}

/// The log of the softmax of each row: `m[i, j] − ln Σₖ exp(m[i, k])`, with each row's
/// maximum subtracted first, so that it is finite for any finite scores.
///
/// Derivative (per row, for a seed `d_y`): `d_y − softmax(m)·Σₖ d_y[i, k]`.
#[inline]
pub fn log_softmax<T: Real, R: Dim, C: Dim, M: Arg<Value = OMatrix<T, R, C>>>(
    m: M,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    rows::log_softmax(m.value()).0
}

/// A batch `DMatrix` plus a bias: a `RowDVector` (one element per column) is added to every
/// row, a `DVector` (one element per row) to every column.
///
/// Derivative: the seed for `m`; the seed summed over the rows (row bias) or the columns
/// (column bias) for `b`. Panics with both shapes when `b` does not fit.
#[inline]
#[track_caller]
pub fn add_bias<M: Arg, B: Arg>(m: M, b: B) -> M::Value
where
    M::Value: matrix::AddBiasRule<B::Value>,
{
    matrix::add_bias(m.value(), b.value()).0
}

/// The multiclass hinge loss with margin 1, averaged over the rows (samples) of `scores`:
/// `(1/n) Σᵢ Σ_{j ≠ yᵢ} max(0, s[i, j] − s[i, yᵢ] + 1)`, `0` for an empty batch.
///
/// Derivative: each active margin (strictly positive; a margin of exactly `0` is inactive)
/// adds `1/n` at `(i, j)` and `−1/n` at `(i, yᵢ)`. Panics unless there is one label per row,
/// each below the number of columns.
#[inline]
#[track_caller]
pub fn svm_loss<T: Real, R: Dim, C: Dim, M: Arg<Value = OMatrix<T, R, C>>>(
    scores: M,
    labels: &[usize],
) -> T
where
    DefaultAllocator: Allocator<R, C>,
{
    loss::svm_value(scores.value(), labels)
}

/// The softmax cross-entropy averaged over the rows (samples) of `scores`:
/// `(1/n) Σᵢ (ln Σⱼ exp(s[i, j]) − s[i, yᵢ])`, `0` for an empty batch, finite for any finite
/// scores.
///
/// Derivative: `(softmax(s) − onehot(y)) / n`. Panics unless there is one label per row,
/// each below the number of columns.
#[inline]
#[track_caller]
pub fn softmax_cross_entropy<T: Real, R: Dim, C: Dim, M: Arg<Value = OMatrix<T, R, C>>>(
    scores: M,
    labels: &[usize],
) -> T
where
    DefaultAllocator: Allocator<R, C>,
{
    loss::cross_entropy_parts(scores.value(), labels).0
}
