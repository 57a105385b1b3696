//! What forward mode (`#[differentiate(jvp)]`, `#[differentiate(hvp)]`) adds to the rules:
//! the elementwise product of two values of any kind, [`emul`], a rule like the others; and
//! the constants a tangent is built from (a zero of a value's shape, the sign or the active
//! pattern of a piecewise rule, a count as a scalar), computed from values of the forward
//! sweep and never differentiated.
//!
//! The macro writes the tangent of each operation with the existing rules and these (the
//! tangent of `tanh(x)` is `t − t ⊙ y ⊙ y`), so that the tangent is itself code the reverse
//! mode differentiates: a Hessian-vector product is the gradient of a directional
//! derivative.
// A rule on `OMatrix<T, R, C>` returns the matrix and its handle.
#![allow(clippy::type_complexity)]

use super::adjoint::{accumulate, accumulate_seed, Seed};
use super::binary::{first_is_max, first_is_min, ComponentMul};
use super::loss::{check_labels, inverse_count, svm_loss};
use super::reads::{Const, Operand};
use super::skipped::Skipped;
use crate::real::Real;
use crate::value::Value;
use core::marker::PhantomData;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// `c = a ⊙ b`, the elementwise product of two values of the same shape: two scalars, or
/// two matrices (then `a.component_mul(&b)`, whose pullbacks it shares). Derivatives
/// `∂c/∂a = b`, `∂c/∂b = a`. Panics with both shapes when they differ.
#[inline]
#[track_caller]
pub fn emul<X: Value>(a: &X, b: &X) -> (X, ComponentMul<X>) {
    crate::value::assert_same_shape("emul", a.dims(), b.dims());
    let mut c = a.copied();
    c.zip_apply_elems(b, |a, b| a * b);
    (c, ComponentMul::new())
}

/// A zero of `x`'s shape: the tangent of a value that does not depend on the direction.
#[inline]
pub fn zeros_like<X: Value>(x: &X) -> X {
    X::zeros(x.shape())
}

/// The sign of each element of `x` (`1`, `−1`, or `0` at zero): the slope of `abs`.
#[inline]
pub fn sign_of<T: Real, X: Value<Elem = T>>(x: &X) -> X {
    x.mapped(|v| {
        if v > T::zero() {
            T::one()
        } else if v < T::zero() {
            -T::one()
        } else {
            T::zero()
        }
    })
}

/// `1` where `x > 0`, else `below`: the slope of `relu` (`below = 0`) and of `leaky_relu`
/// (`below = α`).
#[inline]
pub fn slope_of_positive<T: Real, X: Value<Elem = T>>(x: &X, below: T) -> X {
    x.mapped(|v| if v > T::zero() { T::one() } else { below })
}

/// `1` where `x > 0`, else `0`: the slope of `relu`, read from its output.
#[inline]
pub fn step_of<T: Real, X: Value<Elem = T>>(x: &X) -> X {
    slope_of_positive(x, T::zero())
}

/// `1` where `x ≤ 0`, else `0`: where `elu` follows its exponential, read from its output.
#[inline]
pub fn nonpositive<T: Real, X: Value<Elem = T>>(x: &X) -> X {
    x.mapped(|v| if v > T::zero() { T::zero() } else { T::one() })
}

/// `1` where `pick(a, b)`, else `0`.
#[inline]
fn mask<T: Real, X: Value<Elem = T>>(a: &X, b: &X, pick: impl Fn(T, T) -> bool) -> X {
    let mut m = a.copied();
    m.zip_apply_elems(b, |a, b| if pick(a, b) { T::one() } else { T::zero() });
    m
}

/// `1` where `max(a, b)` (or `maxout`) takes `a`, as the rule decides (ties go to `a`).
#[inline]
pub fn picks_first_max<T: Real, X: Value<Elem = T>>(a: &X, b: &X) -> X {
    mask(a, b, first_is_max)
}

/// `1` where `max(a, b)` (or `maxout`) takes `b`.
#[inline]
pub fn picks_second_max<T: Real, X: Value<Elem = T>>(a: &X, b: &X) -> X {
    mask(a, b, |a, b| !first_is_max(a, b))
}

/// `1` where `min(a, b)` takes `a`, as the rule decides (ties go to `a`).
#[inline]
pub fn picks_first_min<T: Real, X: Value<Elem = T>>(a: &X, b: &X) -> X {
    mask(a, b, first_is_min)
}

/// `1` where `min(a, b)` takes `b`.
#[inline]
pub fn picks_second_min<T: Real, X: Value<Elem = T>>(a: &X, b: &X) -> X {
    mask(a, b, |a, b| !first_is_min(a, b))
}

/// `1/n` for the mean over the `n` rows of `scores`: the weight of each row of a loss.
#[inline]
#[track_caller]
pub fn row_weight<T: Real, R: Dim, C: Dim>(scores: &OMatrix<T, R, C>, labels: &[usize]) -> T
where
    DefaultAllocator: Allocator<R, C>,
{
    check_labels("softmax_cross_entropy", scores.shape(), labels);
    inverse_count(labels.len())
}

/// `onehot(labels) / n`: the target of `softmax_cross_entropy`, weighted by row.
#[track_caller]
pub fn label_weights<T: Real, R: Dim, C: Dim>(
    scores: &OMatrix<T, R, C>,
    labels: &[usize],
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let w: T = row_weight(scores, labels);
    let mut m =
        OMatrix::<T, R, C>::zeros_generic(scores.shape_generic().0, scores.shape_generic().1);
    for (i, &label) in labels.iter().enumerate() {
        m[(i, label)] = w;
    }
    m
}

/// The gradient of `svm_loss(scores, labels)`, constant between the kinks: the slope its
/// tangent is taken along.
#[track_caller]
pub fn svm_slope<T: Real, R: Dim, C: Dim>(
    scores: &OMatrix<T, R, C>,
    labels: &[usize],
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let (_, handle) = svm_loss(scores, labels);
    let mut slope = None;
    handle.arg(
        &mut slope,
        Some(T::one()),
        Operand::<0, _>(scores),
        Const::<0, _>(labels),
    );
    slope.unwrap_or_else(|| {
        OMatrix::<T, R, C>::zeros_generic(scores.shape_generic().0, scores.shape_generic().1)
    })
}

/// The gradient of `m.max()`: `1` at the element it takes (the first of equal largest ones,
/// as the rule), `0` elsewhere.
pub fn max_slope<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut slope = None;
    super::extremes::max_element(m)
        .1
        .arg(&mut slope, Some(T::one()));
    slope.unwrap_or_else(|| {
        OMatrix::<T, R, C>::zeros_generic(m.shape_generic().0, m.shape_generic().1)
    })
}

/// The gradient of `m.min()`: `1` at the element it takes, `0` elsewhere.
pub fn min_slope<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut slope = None;
    super::extremes::min_element(m)
        .1
        .arg(&mut slope, Some(T::one()));
    slope.unwrap_or_else(|| {
        OMatrix::<T, R, C>::zeros_generic(m.shape_generic().0, m.shape_generic().1)
    })
}

/// The pullback handle of a linear, self-adjoint map of a matrix (`lower_half`,
/// `spread_row_sums`): the map itself, which is also its pullback.
pub struct SelfAdjoint<M>(fn(&M) -> M);

impl<T: Real, R: Dim, C: Dim> SelfAdjoint<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// Pullback of the map: the map of the seed.
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        if let Some(g) = seed.get() {
            accumulate(d_m, (self.0)(g));
        }
        seed.done();
    }
}

/// `Φ(m)`: the strictly lower triangle of `m`, its diagonal halved, zeros above; the
/// tangent of a Cholesky factor is `L·Φ(L⁻¹·dA·L⁻ᵀ)`. Linear and self-adjoint (it scales
/// each element).
#[track_caller]
pub fn lower_half<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (OMatrix<T, R, C>, SelfAdjoint<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    (halved_lower(m), SelfAdjoint(halved_lower))
}

fn halved_lower<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let half = T::one() / (T::one() + T::one());
    let mut out = m.clone();
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            out[(i, j)] = match i.cmp(&j) {
                core::cmp::Ordering::Greater => m[(i, j)],
                core::cmp::Ordering::Equal => m[(i, j)] * half,
                core::cmp::Ordering::Less => T::zero(),
            };
        }
    }
    out
}

/// `m·J` with `J` all ones: each element replaced by the sum of its row. The tangent of a
/// softmax subtracts it. Linear and self-adjoint (`J` is symmetric).
#[track_caller]
pub fn spread_row_sums<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (OMatrix<T, R, C>, SelfAdjoint<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    (spread(m), SelfAdjoint(spread))
}

fn spread<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut out = m.clone();
    for i in 0..m.nrows() {
        let s = m.row(i).iter().fold(T::zero(), |acc, &v| acc + v);
        out.row_mut(i).fill(s);
    }
    out
}

/// The pullback handle of `tangent_if(x, given)`.
pub struct TangentIf<X>(PhantomData<fn(&X)>);

/// The tangent a caller gave for a parameter (`given`), or a zero of its shape: the hidden
/// function that differentiated callers call for a tangent takes a tangent for every
/// argument, and says which ones are real. Linear in `x`.
#[inline]
pub fn tangent_if<X: Value>(x: &X, given: bool) -> (X, TangentIf<X>) {
    let t = if given {
        x.copied()
    } else {
        X::zeros(x.shape())
    };
    (t, TangentIf(PhantomData))
}

impl<X: Value> TangentIf<X> {
    /// Pullback of `tangent_if(x, given)` to `x`: the seed where the tangent was given, and
    /// zero otherwise, written all the same (the reverse sweep counts on every rule's
    /// pullback writing its operand's adjoint).
    #[inline]
    pub fn arg<'s>(
        &self,
        d_x: &mut Option<X>,
        seed: impl Into<Seed<'s, X>>,
        Const(given): Const<0, bool>,
    ) where
        X: 's,
    {
        let seed = seed.into();
        if given {
            accumulate_seed(d_x, seed);
            return;
        }
        if let (None, Some(s)) = (&d_x, seed.get()) {
            *d_x = Some(X::zeros(s.shape()));
        }
        seed.done();
    }
}

/// The differentiated functions with forward mode (`jvp` or `hvp`): the only ones a function
/// with forward mode can call.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no forward mode, and a function with `jvp` or `hvp` calls it",
    label = "called here",
    note = "add `jvp` (or `hvp`) to the `#[differentiate(..)]` of `{Self}`"
)]
pub trait ForwardMode {}

/// Checks that the callee `F` has forward mode (see [`ForwardMode`]).
#[inline]
pub fn forward_mode<F: ForwardMode>() {}

/// The methods and associated functions with forward mode (their adapters, whose types have
/// generated names: the error names the call instead).
#[diagnostic::on_unimplemented(
    message = "this method or associated function has no forward mode, and a function with `jvp` or `hvp` calls it",
    label = "called here",
    note = "add `jvp` (or `hvp`) to the `#[differentiate(..)]` of the method called here"
)]
pub trait MethodForwardMode {}

/// Checks that the method whose adapter is `adapter` has forward mode (see
/// [`MethodForwardMode`]).
#[inline]
pub fn method_forward_mode<A: MethodForwardMode>(adapter: &A) {
    let _ = adapter;
}

/// The fields of a structured parameter that have a tangent: scalars, matrices, and
/// collections of them. A `#[parameters(skip)]` field (read as `Skipped`) has none.
#[diagnostic::on_unimplemented(
    message = "`jvp` and `hvp` have no tangent for a `#[parameters(skip)]` field, and this function reads one as a value",
    label = "a skipped field: a constant",
    note = "read a skipped field only in conditions, loop bounds and other constants, or make it a field of its own"
)]
pub trait FieldTangent {}
impl<M: Value> FieldTangent for &M {}
impl<M: Value> FieldTangent for &Vec<M> {}
impl<M: Value> FieldTangent for &[M] {}

/// The tangent of a field read of a structured parameter: the tangent's own field, checked
/// to be one that has a tangent ([`FieldTangent`]).
#[inline]
pub fn field_tangent<F: FieldTangent>(field: F) -> F {
    field
}

/// Zero in any scalar type.
#[inline]
pub fn zero<T: Real>() -> T {
    T::zero()
}

/// `n` in the scalar type of `x`'s elements (the count of `powi`, a number of rows).
#[inline]
pub fn count_like<T: Real, X: Value<Elem = T>>(_x: &X, n: i32) -> T {
    let magnitude = T::from_count(n.unsigned_abs() as usize);
    if n < 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Whether a field of a structured parameter's tangent, passed on to a call, is a tangent:
/// a value's is, a `#[parameters(skip)]` field's ([`Skipped`]) is not.
pub trait IsTangent {
    /// Whether this is a tangent.
    fn is_tangent(&self) -> bool;
}

impl<T: ?Sized> IsTangent for &T {
    #[inline(always)]
    fn is_tangent(&self) -> bool {
        true
    }
}

impl<T> IsTangent for Skipped<'_, T> {
    #[inline(always)]
    fn is_tangent(&self) -> bool {
        false
    }
}

/// See [`IsTangent`].
#[inline(always)]
pub fn is_tangent<X: IsTangent>(x: &X) -> bool {
    x.is_tangent()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    #[test]
    fn emul_multiplies_elementwise_and_its_pullbacks_pass_the_dot_product_test() {
        let a = DMatrix::from_row_slice(2, 2, &[1.0, -2.0, 3.0, 0.5]);
        let b = DMatrix::from_row_slice(2, 2, &[0.25, 4.0, -1.0, 2.0]);
        let (c, h) = emul(&a, &b);
        assert_eq!(c, a.component_mul(&b));
        let u: DMatrix<f64> = DMatrix::from_row_slice(2, 2, &[0.3, -0.7, 1.1, 0.9]);
        let (va, vb) = (
            DMatrix::from_row_slice(2, 2, &[0.2, 0.1, -0.4, 0.6]),
            DMatrix::from_row_slice(2, 2, &[-0.5, 0.8, 0.3, -0.2]),
        );
        // ⟨u, J·(va, vb)⟩ = ⟨Jᵀ·u, (va, vb)⟩, J·(va, vb) = va ⊙ b + a ⊙ vb.
        let forward = u.dot(&(va.component_mul(&b) + a.component_mul(&vb)));
        let (mut d_a, mut d_b) = (None, None);
        let seed = Some(u.clone());
        h.lhs(&mut d_a, &seed, Operand::<1, _>(&b));
        h.rhs(&mut d_b, &seed, Operand::<0, _>(&a));
        let backward = d_a.unwrap().dot(&va) + d_b.unwrap().dot(&vb);
        assert!((forward - backward).abs() < 1e-14);
        let (s, _) = emul(&3.0, &-2.0);
        assert_eq!(s, -6.0);
    }

    #[test]
    fn lower_half_is_self_adjoint() {
        let m = DMatrix::from_row_slice(2, 2, &[1.0, -2.0, 3.0, 0.5]);
        let (l, h) = lower_half(&m);
        assert_eq!(l, DMatrix::from_row_slice(2, 2, &[0.5, 0.0, 3.0, 0.25]));
        let u: DMatrix<f64> = DMatrix::from_row_slice(2, 2, &[0.3, -0.7, 1.1, 0.9]);
        let mut d = None;
        h.arg(&mut d, Some(u.clone()));
        assert!((u.dot(&l) - d.unwrap().dot(&m)).abs() < 1e-14);
    }

    #[test]
    fn spread_row_sums_is_self_adjoint() {
        let m = DMatrix::from_row_slice(2, 3, &[1.0, -2.0, 0.5, 3.0, 0.25, -1.0]);
        let (s, h) = spread_row_sums(&m);
        assert_eq!(s.as_slice(), &[-0.5, 2.25, -0.5, 2.25, -0.5, 2.25]);
        let u: DMatrix<f64> = DMatrix::from_row_slice(2, 3, &[0.3, -0.7, 1.1, 0.9, 0.2, -0.4]);
        let mut d = None;
        h.arg(&mut d, Some(u.clone()));
        assert!((u.dot(&s) - d.unwrap().dot(&m)).abs() < 1e-14);
    }

    #[test]
    fn slopes_of_extremes_and_losses_match_their_pullbacks() {
        let m = DMatrix::from_row_slice(2, 2, &[1.0, 4.0, 4.0, -2.0]);
        // Column-major [1, 4, 4, −2]: the first 4 is at index 1, (1, 0); the smallest at 3.
        assert_eq!(max_slope(&m).as_slice(), &[0.0, 1.0, 0.0, 0.0]);
        assert_eq!(min_slope(&m).as_slice(), &[0.0, 0.0, 0.0, 1.0]);
        let labels = [1, 0];
        assert_eq!(label_weights(&m, &labels).as_slice(), &[0.0, 0.5, 0.5, 0.0]);
        assert_eq!(row_weight(&m, &labels), 0.5);
        // Row 0 (label 1): 1 − 4 + 1 < 0, inactive; row 1 (label 0): −2 − 4 + 1 < 0.
        assert_eq!(svm_slope(&m, &labels), DMatrix::zeros(2, 2));
        let close = DMatrix::from_row_slice(2, 2, &[3.5, 4.0, 4.0, 3.8]);
        // Row 0: 3.5 − 4 + 1 > 0: +1/2 at (0, 0), −1/2 at (0, 1); row 1: 3.8 − 4 + 1 > 0.
        assert_eq!(
            svm_slope(&close, &labels).as_slice(),
            &[0.5, -0.5, -0.5, 0.5]
        );
    }

    #[test]
    fn tangent_if_gives_the_tangent_or_zero_and_always_writes_its_pullback() {
        let t = DMatrix::from_row_slice(1, 2, &[1.5, -2.0]);
        let (given, h) = tangent_if(&t, true);
        assert_eq!(given, t);
        let (not_given, _) = tangent_if(&t, false);
        assert_eq!(not_given, DMatrix::zeros(1, 2));
        let u = DMatrix::from_row_slice(1, 2, &[0.5, 3.0]);
        let mut d = None;
        h.arg(&mut d, Some(u.clone()), Const::<0, _>(true));
        assert_eq!(d, Some(u.clone()));
        // Not given: a zero, written all the same.
        let mut d = None;
        h.arg(&mut d, Some(u), Const::<0, _>(false));
        assert_eq!(d, Some(DMatrix::zeros(1, 2)));
        let skipped = 3usize;
        assert!(is_tangent(&&t) && !is_tangent(&Skipped(&skipped)));
    }

    #[test]
    fn constants_of_tangents() {
        let x = DMatrix::from_row_slice(1, 3, &[-2.0, 0.0, 5.0]);
        assert_eq!(zeros_like(&x), DMatrix::zeros(1, 3));
        assert_eq!(sign_of(&x).as_slice(), &[-1.0, 0.0, 1.0]);
        assert_eq!(slope_of_positive(&x, 0.1).as_slice(), &[0.1, 0.1, 1.0]);
        let y = DMatrix::from_row_slice(1, 3, &[1.0, 0.0, 6.0]);
        assert_eq!(picks_first_max(&x, &y).as_slice(), &[0.0, 1.0, 0.0]);
        assert_eq!(picks_second_max(&x, &y).as_slice(), &[1.0, 0.0, 1.0]);
        assert_eq!(picks_first_min(&x, &y).as_slice(), &[1.0, 1.0, 1.0]);
        assert_eq!(picks_second_min(&x, &y).as_slice(), &[0.0, 0.0, 0.0]);
        assert_eq!(step_of(&x).as_slice(), &[0.0, 0.0, 1.0]);
        assert_eq!(nonpositive(&x).as_slice(), &[1.0, 1.0, 0.0]);
        assert_eq!(count_like(&2.0f32, -3), -3.0f32);
    }
}
