//! The test harness shared by the rule tests: seeded random values of every supported type,
//! and `check_pullback`, which checks one pullback against central differences, the
//! dot-product test, and the slot/seed conventions.
#![allow(dead_code)]

use autodiff_runtime::__private::rules::Seed;
use autodiff_runtime::gradcheck::{dot_product_test, inner, numerical_gradient, relative_error};
use autodiff_runtime::Value;
use nalgebra::{
    allocator::Allocator, Const, DMatrix, DVector, DefaultAllocator, Dim, Dyn, OMatrix, RowDVector,
    SMatrix, U1,
};
use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Debug;

/// The tolerance of every f64 comparison against central differences.
pub const TOL: f64 = 1e-6;

pub type Rng = ChaCha8Rng;

pub fn rng(seed: u64) -> Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A value of the given shape with elements uniform in `[lo, hi)`, each resampled until
/// `keep` accepts it (to stay away from kinks and singularities).
pub fn sample<X: Value<Elem = f64>>(
    rng: &mut Rng,
    shape: X::Shape,
    lo: f64,
    hi: f64,
    keep: impl Fn(f64) -> bool,
) -> X {
    let mut x = X::zeros(shape);
    x.apply_elems(|_| loop {
        let v = rng.random_range(lo..hi);
        if keep(v) {
            break v;
        }
    });
    x
}

/// A value of the given shape with elements uniform in `[-1, 1)`.
pub fn uniform<X: Value<Elem = f64>>(rng: &mut Rng, shape: X::Shape) -> X {
    sample(rng, shape, -1.0, 1.0, |_| true)
}

/// A random `rows × cols` dynamic matrix with elements in `[-1, 1)`.
pub fn dmatrix(rng: &mut Rng, rows: usize, cols: usize) -> DMatrix<f64> {
    uniform(rng, (Dyn(rows), Dyn(cols)))
}

/// The types every elementwise rule is checked on, with the shape used for each.
pub trait Shaped: Value<Elem = f64> + Debug + PartialEq {
    fn test_shape() -> Self::Shape;
}
impl Shaped for f64 {
    fn test_shape() {}
}
impl Shaped for DMatrix<f64> {
    fn test_shape() -> (Dyn, Dyn) {
        (Dyn(3), Dyn(4))
    }
}
impl Shaped for DVector<f64> {
    fn test_shape() -> (Dyn, U1) {
        (Dyn(5), U1)
    }
}
impl Shaped for RowDVector<f64> {
    fn test_shape() -> (U1, Dyn) {
        (U1, Dyn(4))
    }
}
impl Shaped for SMatrix<f64, 2, 3> {
    fn test_shape() -> (Const<2>, Const<3>) {
        (Const, Const)
    }
}

/// Runs a generic case function on every [`Shaped`] type.
#[macro_export]
macro_rules! all_types {
    ($case:ident, $rng:expr) => {{
        let rng: &mut $crate::common::Rng = $rng;
        $case::<f64>(rng);
        $case::<nalgebra::DMatrix<f64>>(rng);
        $case::<nalgebra::DVector<f64>>(rng);
        $case::<nalgebra::RowDVector<f64>>(rng);
        $case::<nalgebra::SMatrix<f64, 2, 3>>(rng);
    }};
}

/// `|a − b| ≤ tol·max(1, |b|)`, elementwise.
#[track_caller]
pub fn assert_close<X: Value<Elem = f64> + Debug>(what: &str, a: &X, b: &X, tol: f64) {
    assert_eq!(a.count_elems(), b.count_elems(), "{what}: sizes differ");
    for i in 0..a.count_elems() {
        let (x, y) = (a.elem(i), b.elem(i));
        assert!(
            (x - y).abs() <= tol * y.abs().max(1.0),
            "{what}: element {i}: {x} vs {y}\n got {a:?}\nwant {b:?}"
        );
    }
}

/// Checks the pullback of `f` (a function of one operand `x`, the others held fixed) at `x`:
///
/// - with a random seed `u`, it equals the central-difference gradient of `⟨u, f(x)⟩`
///   (relative error ≤ [`TOL`]), and passes the dot-product test `⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩` for a
///   random direction `v`;
/// - `Borrowed` and `Owned` seeds give the same (bitwise) result, and so do the seeds made
///   from `&Option` and `Option` slots;
/// - `Seed::Zero` leaves an empty slot empty and a filled slot unchanged;
/// - into a filled slot, the contribution is added to what was there.
///
/// Returns the gradient `Jᵀ·u` and the seed `u`.
#[track_caller]
pub fn check_pullback<X, Y>(
    name: &str,
    rng: &mut Rng,
    x: &X,
    f: &dyn Fn(&X) -> Y,
    pullback: &dyn Fn(&mut Option<X>, Seed<'_, Y>),
) -> (X, Y)
where
    X: Value<Elem = f64> + Debug + PartialEq,
    Y: Value<Elem = f64> + Debug,
{
    let y = f(x);
    let u: Y = uniform(rng, y.shape());
    let v: X = uniform(rng, x.shape());

    let mut borrowed = None;
    pullback(&mut borrowed, Seed::Borrowed(&u));
    let g = borrowed.unwrap_or_else(|| panic!("{name}: a non-zero seed left the slot empty"));

    let mut owned = None;
    pullback(&mut owned, Seed::Owned(u.clone()));
    assert_eq!(
        owned.as_ref(),
        Some(&g),
        "{name}: Owned and Borrowed seeds differ"
    );
    let mut from_ref = None;
    pullback(&mut from_ref, Seed::from(&Some(u.clone())));
    assert_eq!(
        from_ref.as_ref(),
        Some(&g),
        "{name}: a seed from `&Some(u)` differs"
    );
    let mut from_slot = None;
    pullback(&mut from_slot, Seed::from(Some(u.clone())));
    assert_eq!(
        from_slot.as_ref(),
        Some(&g),
        "{name}: a seed from `Some(u)` differs"
    );

    let mut empty = None;
    pullback(&mut empty, Seed::Zero);
    assert!(empty.is_none(), "{name}: Seed::Zero filled an empty slot");
    pullback(&mut empty, Seed::from(&None));
    assert!(
        empty.is_none(),
        "{name}: a seed from `&None` filled an empty slot"
    );
    let old: X = uniform(rng, x.shape());
    let mut kept = Some(old.clone());
    pullback(&mut kept, Seed::Zero);
    assert_eq!(
        kept.as_ref(),
        Some(&old),
        "{name}: Seed::Zero changed a filled slot"
    );

    let mut want = old.clone();
    want.add_assign_ref(&g);
    let mut acc = Some(old.clone());
    pullback(&mut acc, Seed::Borrowed(&u));
    assert_close(
        &format!("{name}: accumulation (Borrowed)"),
        acc.as_ref().unwrap(),
        &want,
        1e-13,
    );
    let mut acc = Some(old.clone());
    pullback(&mut acc, Seed::Owned(u.clone()));
    assert_close(
        &format!("{name}: accumulation (Owned)"),
        acc.as_ref().unwrap(),
        &want,
        1e-13,
    );

    let numerical = numerical_gradient(x, |x| inner(&u, &f(x)));
    let err = relative_error(&g, &numerical);
    assert!(
        err <= TOL,
        "{name}: pullback vs central differences: relative error {err:e}\n pullback {g:?}\nnumerical {numerical:?}"
    );
    let test = dot_product_test(x, &v, &u, &g, f);
    assert!(
        test.relative_error() <= TOL,
        "{name}: dot-product test failed: {test:?}"
    );
    (g, u)
}

/// Runs a generic case `case(rng, shape)` on a 3×4 `DMatrix`, a 5-element `DVector`, a
/// 4-element `RowDVector` and a 2×3 `SMatrix`.
#[macro_export]
macro_rules! matrix_types {
    ($case:ident, $rng:expr) => {{
        let rng: &mut $crate::common::Rng = $rng;
        $case(rng, (nalgebra::Dyn(3), nalgebra::Dyn(4)));
        $case(rng, (nalgebra::Dyn(5), nalgebra::U1));
        $case(rng, (nalgebra::U1, nalgebra::Dyn(4)));
        $case(rng, (nalgebra::Const::<2>, nalgebra::Const::<3>));
    }};
}

/// The name of a shape's type, for messages.
pub fn kind<R: Dim, C: Dim>() -> &'static str {
    std::any::type_name::<(R, C)>()
}

/// Row `i` of `m`.
pub fn row_of<R: Dim, C: Dim>(m: &OMatrix<f64, R, C>, i: usize) -> Vec<f64>
where
    DefaultAllocator: Allocator<R, C>,
{
    m.row(i).iter().copied().collect()
}

/// `assert_close` on two rows, callable from generic cases (where a `DefaultAllocator`
/// bound hides the allocator of concrete vector types).
pub fn assert_rows_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_close(
        what,
        &DVector::from_column_slice(got),
        &DVector::from_column_slice(want),
        tol,
    );
}

/// An f64 matrix rounded to f32.
pub fn f32_of(m: &DMatrix<f64>) -> DMatrix<f32> {
    m.map(|v| v as f32)
}

/// An f32 result against the f64 result of the same rule at the same (f32-representable)
/// point.
#[track_caller]
pub fn assert_f32(what: &str, got: &DMatrix<f32>, want: &DMatrix<f64>) {
    assert_close(what, &got.map(f64::from), want, 2e-6);
}

/// [`assert_f32`] for scalars.
#[track_caller]
pub fn assert_f32_scalar(what: &str, got: f32, want: f64) {
    assert_close(what, &f64::from(got), &want, 2e-6);
}
