//! The elementwise rules (unary functions, activations, `powf`, `max`, `min`, `maxout`,
//! `component_mul`, `component_div`): pullbacks against central differences and the
//! dot-product test on every supported type, the derivative conventions at kinks and ties,
//! stability, shape panics, and an f32 sanity check per family.
// The rules take `impl Input<X>`: the tests pass references on purpose (as generated code
// does for values it still needs), which clippy would rather see moved.
#![allow(clippy::needless_borrows_for_generic_args)]

mod common;

use autodiff_runtime::__private::rules::{self, Const, Operand, Output, Seed};
use common::{assert_close, assert_f32, check_pullback, dmatrix, rng, sample, Rng, Shaped};
use nalgebra::{DMatrix, DVector, Dyn, RowDVector, SMatrix};

/// What a unary pullback reads, wrapped as its signature names it: the operand `x`
/// (`reads x`) or the result `y` (`reads y`).
macro_rules! read {
    (x, $x:expr, $y:expr) => {
        Operand($x)
    };
    (y, $x:expr, $y:expr) => {
        Output($y)
    };
}

/// One test per unary rule on every [`Shaped`] type: the forward equals the scalar function
/// elementwise, and the pullback passes [`check_pullback`]. `$read` is what `arg` reads.
macro_rules! unary_test {
    // A pullback that reads only what its handle keeps (`relu`'s sign pattern).
    ($test:ident: $rule:ident() reads nothing,
     domain $lo:expr, $hi:expr, keep |$k:ident| $keep:expr, value |$r:ident| $value:expr) => {
        #[test]
        fn $test() {
            fn case<X: Shaped>(rng: &mut Rng) {
                let name = format!("{}::<{}>", stringify!($rule), std::any::type_name::<X>());
                let x: X = sample(rng, X::test_shape(), $lo, $hi, |$k: f64| $keep);
                let (y, h) = rules::$rule(&x);
                let mut want = x.clone();
                want.apply_elems(|$r: f64| $value);
                assert_close(&format!("{name} value"), &y, &want, 1e-15);
                check_pullback(&name, rng, &x, &|x| rules::$rule(x).0, &|d, s| h.arg(d, s));
            }
            all_types!(case, &mut rng(line!() as u64));
        }
    };
    ($test:ident: $rule:ident($($extra:expr),*) reads $read:ident,
     domain $lo:expr, $hi:expr, keep |$k:ident| $keep:expr, value |$r:ident| $value:expr) => {
        #[test]
        fn $test() {
            fn case<X: Shaped>(rng: &mut Rng) {
                let name = format!("{}::<{}>", stringify!($rule), std::any::type_name::<X>());
                let x: X = sample(rng, X::test_shape(), $lo, $hi, |$k: f64| $keep);
                let (y, h) = rules::$rule(&x $(, $extra)*);
                let mut want = x.clone();
                want.apply_elems(|$r: f64| $value);
                assert_close(&format!("{name} value"), &y, &want, 1e-15);
                let read = read!($read, &x, &y);
                check_pullback(&name, rng, &x, &|x| rules::$rule(x $(, $extra)*).0, &|d, s| h.arg(d, s, read $(, Const($extra))*));
            }
            all_types!(case, &mut rng(line!() as u64));
        }
    };
}

/// `x.exp()` is the exponential of a scalar and nalgebra's *matrix* exponential of a square
/// matrix: the rule's value is nalgebra's `exp` bit for bit, and its pullback (the Fréchet
/// derivative at `Aᵀ`, through a 2n×2n block exponential) passes central differences and the
/// dot-product test, on dynamic and static matrices, at small and large norms (different
/// Padé degrees and squarings), and on a 1×1 and a 1×n `DMatrix` (nalgebra's elementwise
/// case).
#[test]
fn exp_is_the_exponential_of_a_scalar_and_of_a_square_matrix() {
    let mut rng = rng(54);
    for x in [-2.0, -0.3, 0.0, 0.7, 2.0] {
        let (y, h) = rules::exp::<f64>(x);
        assert_eq!(y.to_bits(), f64::exp(x).to_bits());
        check_pullback(
            "exp::<f64>",
            &mut rng,
            &x,
            &|x| rules::exp::<f64>(*x).0,
            &|d, s| h.arg(d, s, Output(&y)),
        );
    }
    for (n, scale) in [(1, 1.0), (2, 0.01), (3, 0.2), (3, 1.0), (4, 3.0), (5, 0.6)] {
        let a = dmatrix(&mut rng, n, n) * scale;
        let (y, h) = rules::exp(&a);
        assert_eq!(y, a.exp(), "exp of a {n}x{n} matrix is nalgebra's");
        let name = format!("exp of a {n}x{n} matrix (scale {scale})");
        check_pullback(&name, &mut rng, &a, &|a| rules::exp(a).0, &|d, s| {
            h.arg(d, s, Output(&y))
        });
        let (y_moved, _) = rules::exp(a.clone());
        assert_eq!(y_moved, y, "{name}: moved and borrowed operands");
    }
    let a = SMatrix::<f64, 3, 3>::from_fn(|i, j| 0.3 * (i as f64) - 0.2 * (j as f64) + 0.1);
    let (y, h) = rules::exp(&a);
    assert_eq!(y, a.exp());
    check_pullback(
        "exp of an SMatrix<3, 3>",
        &mut rng,
        &a,
        &|a| rules::exp(a).0,
        &|d, s| h.arg(d, s, Output(&y)),
    );
    let row = dmatrix(&mut rng, 1, 4);
    let (y, h) = rules::exp(&row);
    assert_eq!(y, row.exp(), "a 1x4 DMatrix: nalgebra's elementwise case");
    assert_eq!(y, row.map(f64::exp));
    check_pullback(
        "exp of a 1x4 DMatrix",
        &mut rng,
        &row,
        &|a| rules::exp(a).0,
        &|d, s| h.arg(d, s, Output(&y)),
    );
}

/// The pullback of the matrix exponential is not the elementwise one: on a 3×3 matrix the
/// two gradients differ (so a test of the rule would catch the elementwise mistake).
#[test]
fn matrix_exp_gradient_is_not_the_elementwise_one() {
    let a = DMatrix::from_row_slice(3, 3, &[0.1, 0.5, -0.3, 0.2, -0.4, 0.6, 0.0, 0.3, 0.2]);
    let (y, h) = rules::exp(&a);
    let ones = DMatrix::from_element(3, 3, 1.0);
    let mut d = None;
    h.arg(&mut d, Seed::Borrowed(&ones), Output(&y));
    let elementwise = a.map(f64::exp);
    assert!((d.unwrap() - &elementwise).amax() > 0.1);
    assert!((a.exp().sum() - elementwise.sum()).abs() > 0.1);
}

/// The matrix exponential of a non-square matrix has no meaning: the rule says so, naming
/// the shape, instead of returning what nalgebra's `exp` computes from it.
#[test]
#[should_panic(expected = "exp: the matrix exponential needs a square matrix, not (3, 2)")]
fn matrix_exp_of_a_non_square_matrix_panics() {
    let _ = rules::exp(&DMatrix::<f64>::zeros(3, 2));
}

/// A matrix exponential's gradient with a zero seed is zero (and fills the slot: generated
/// code counts on a present seed reaching the operand); a huge seed is
/// scaled before the block exponential and gives the same gradient, scaled.
#[test]
fn matrix_exp_pullback_is_linear_in_the_seed() {
    let mut rng = rng(55);
    let a = dmatrix(&mut rng, 4, 4);
    let (y, h) = rules::exp(&a);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(DMatrix::zeros(4, 4)), Output(&y));
    assert_eq!(
        d,
        Some(DMatrix::zeros(4, 4)),
        "a zero seed reaches the slot as zeros"
    );
    let g = dmatrix(&mut rng, 4, 4);
    let (mut small, mut large) = (None, None);
    h.arg(&mut small, Seed::Borrowed(&g), Output(&y));
    h.arg(&mut large, Seed::Owned(&g * 1e200), Output(&y));
    assert_close(
        "seed 1e200",
        &(large.unwrap() / 1e200),
        small.as_ref().unwrap(),
        1e-13,
    );
}
unary_test!(ln: ln() reads x, domain 0.2, 3.0, keep |_v| true, value |v| v.ln());
unary_test!(sqrt: sqrt() reads y, domain 0.2, 3.0, keep |_v| true, value |v| v.sqrt());
unary_test!(sin: sin() reads x, domain -3.0, 3.0, keep |_v| true, value |v| v.sin());
unary_test!(cos: cos() reads x, domain -3.0, 3.0, keep |_v| true, value |v| v.cos());
unary_test!(tan: tan() reads y, domain -1.2, 1.2, keep |_v| true, value |v| v.tan());
unary_test!(tanh: tanh() reads y, domain -2.0, 2.0, keep |_v| true, value |v| v.tanh());
unary_test!(abs: abs() reads x, domain -2.0, 2.0, keep |v| v.abs() > 0.1, value |v| v.abs());
unary_test!(recip: recip() reads y, domain -2.0, 2.0, keep |v| v.abs() > 0.3, value |v| 1.0 / v);
unary_test!(powi_3: powi(3) reads x, domain -2.0, 2.0, keep |_v| true, value |v| v.powi(3));
unary_test!(powi_minus_2: powi(-2) reads x, domain -2.0, 2.0, keep |v| v.abs() > 0.3, value |v| v.powi(-2));
unary_test!(powi_1: powi(1) reads x, domain -2.0, 2.0, keep |_v| true, value |v| v);
unary_test!(relu: relu() reads nothing, domain -2.0, 2.0, keep |v| v.abs() > 0.1, value |v| v.max(0.0));
unary_test!(sigmoid: sigmoid() reads y, domain -4.0, 4.0, keep |_v| true, value |v| 1.0 / (1.0 + (-v).exp()));
unary_test!(square: square() reads x, domain -2.0, 2.0, keep |_v| true, value |v| v * v);
unary_test!(leaky_relu: leaky_relu(0.1) reads x, domain -2.0, 2.0, keep |v| v.abs() > 0.1,
    value |v| if v > 0.0 { v } else { 0.1 * v });
unary_test!(elu: elu(0.7) reads x, domain -2.0, 2.0, keep |v| v.abs() > 0.1,
    value |v| if v > 0.0 { v } else { 0.7 * (v.exp() - 1.0) });

#[test]
fn powi_zero_has_zero_derivative_everywhere() {
    for x in [0.0, -1.5, 2.0] {
        let (y, h) = rules::powi(&x, 0);
        assert_eq!(y, 1.0);
        let mut d = None;
        h.arg(&mut d, Seed::Borrowed(&3.0), Operand(&x), Const(0));
        assert_eq!(d, Some(0.0));
    }
    let (_, h) = rules::powi(&i32::MAX.into(), i32::MIN);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(1.0), Operand(&1.0_f64), Const(i32::MIN));
    assert_eq!(d, Some(f64::from(i32::MIN)));
}

// ------------------------------------------------------------------ kinks and stability

/// The pullback of `rule` at `x` with a unit seed, on a scalar and on a 1×1 `DMatrix`.
fn unit_pullback(x: f64, pullback: impl Fn(&mut Option<f64>, Seed<'_, f64>)) -> f64 {
    let mut d = None;
    pullback(&mut d, Seed::Owned(1.0));
    d.unwrap_or_else(|| panic!("no contribution at {x}"))
}

#[test]
fn kinks_take_the_stated_derivative() {
    let (y, h) = rules::relu(&0.0);
    assert_eq!(y, 0.0);
    assert_eq!(unit_pullback(0.0, |d, s| h.arg(d, s)), 0.0);
    let (y, h) = rules::abs(&0.0);
    assert_eq!(y, 0.0);
    assert_eq!(unit_pullback(0.0, |d, s| h.arg(d, s, Operand(&0.0))), 0.0);
    let (y, h) = rules::leaky_relu(&0.0, 0.2);
    assert_eq!(y, 0.0);
    assert_eq!(
        unit_pullback(0.0, |d, s| h.arg(d, s, Operand(&0.0), Const(0.2))),
        0.2
    );
    let (y, h) = rules::elu(&0.0, 0.5);
    assert_eq!(y, 0.0);
    assert_eq!(
        unit_pullback(0.0, |d, s| h.arg(d, s, Operand(&0.0), Const(0.5))),
        0.5
    );

    // The same conventions elementwise on a matrix that holds the kink.
    let m = DMatrix::from_row_slice(2, 2, &[0.0, 1.0, -1.0, 0.0]);
    let (_, h) = rules::relu(&m);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(DMatrix::repeat(2, 2, 1.0)));
    assert_eq!(
        d.unwrap(),
        DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 0.0, 0.0])
    );
    let (_, h) = rules::abs(&m);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(DMatrix::repeat(2, 2, 1.0)), Operand(&m));
    assert_eq!(
        d.unwrap(),
        DMatrix::from_row_slice(2, 2, &[0.0, 1.0, -1.0, 0.0])
    );
}

#[test]
fn relu_keeps_nan() {
    assert!(rules::relu(&f64::NAN).0.is_nan());
}

#[test]
fn sigmoid_is_stable_at_large_magnitudes() {
    for (x, want) in [
        (1000.0f64, 1.0),
        (-1000.0, 0.0),
        (40.0, 1.0 / (1.0 + (-40.0f64).exp())),
        (-40.0, (-40.0f64).exp() / (1.0 + (-40.0f64).exp())),
    ] {
        let (y, h) = rules::sigmoid(&x);
        assert!(y.is_finite());
        assert!(
            (y - want).abs() <= 1e-15 * want.max(1e-300),
            "sigmoid({x}) = {y}, want {want}"
        );
        let d = unit_pullback(x, |d, s| h.arg(d, s, Output(&y)));
        assert!(
            d.is_finite() && d >= 0.0 && d <= want.min(1.0 - want) + 1e-300,
            "sigmoid'({x}) = {d}"
        );
    }
    let m = DVector::from_vec(vec![-1000.0, 0.0, 1000.0]);
    let (y, h) = rules::sigmoid(&m);
    assert_eq!(y, DVector::from_vec(vec![0.0, 0.5, 1.0]));
    let mut d = None;
    h.arg(&mut d, Seed::Owned(DVector::repeat(3, 1.0)), Output(&y));
    assert_eq!(d.unwrap(), DVector::from_vec(vec![0.0, 0.25, 0.0]));
}

// ---------------------------------------------------------------------- powf, max, min

#[test]
fn powf() {
    let mut rng = rng(11);
    for _ in 0..5 {
        let x: f64 = sample(&mut rng, (), 0.3, 3.0, |_| true);
        let e: f64 = sample(&mut rng, (), -2.0, 2.0, |_| true);
        let (y, h) = rules::powf(&x, &e);
        assert_eq!(y, x.powf(e));
        check_pullback(
            "powf lhs",
            &mut rng,
            &x,
            &|x| rules::powf(x, &e).0,
            &|d, s| h.lhs(d, s, Operand(&x), Operand(&e)),
        );
        check_pullback(
            "powf rhs",
            &mut rng,
            &e,
            &|e| rules::powf(&x, e).0,
            &|d, s| h.rhs(d, s, Operand(&x), Output(&y)),
        );
    }
    // At x = 0 the derivative with respect to the exponent is 0, not NaN.
    let (y, h) = rules::powf(&0.0, &2.5);
    assert_eq!(
        unit_pullback(0.0, |d, s| h.rhs(d, s, Operand(&0.0), Output(&y))),
        0.0
    );
    assert_eq!(
        unit_pullback(0.0, |d, s| h.lhs(d, s, Operand(&0.0), Operand(&2.5))),
        0.0
    );
}

#[test]
fn max_and_min() {
    let mut rng = rng(12);
    for _ in 0..8 {
        let a: f64 = sample(&mut rng, (), -2.0, 2.0, |_| true);
        let b: f64 = sample(&mut rng, (), -2.0, 2.0, |v| (v - a).abs() > 0.1);
        let (y, h) = rules::max(&a, &b);
        assert_eq!(y, a.max(b));
        check_pullback(
            "max lhs",
            &mut rng,
            &a,
            &|a| rules::max(a, &b).0,
            &|d, s| h.lhs(d, s, Operand(&a), Operand(&b)),
        );
        check_pullback(
            "max rhs",
            &mut rng,
            &b,
            &|b| rules::max(&a, b).0,
            &|d, s| h.rhs(d, s, Operand(&a), Operand(&b)),
        );
        let (y, h) = rules::min(&a, &b);
        assert_eq!(y, a.min(b));
        check_pullback(
            "min lhs",
            &mut rng,
            &a,
            &|a| rules::min(a, &b).0,
            &|d, s| h.lhs(d, s, Operand(&a), Operand(&b)),
        );
        check_pullback(
            "min rhs",
            &mut rng,
            &b,
            &|b| rules::min(&a, b).0,
            &|d, s| h.rhs(d, s, Operand(&a), Operand(&b)),
        );
    }
}

#[test]
fn max_and_min_ties_go_to_the_receiver() {
    let (y, h) = rules::max(&1.5, &1.5);
    assert_eq!(y, 1.5);
    assert_eq!(
        unit_pullback(1.5, |d, s| h.lhs(d, s, Operand(&1.5), Operand(&1.5))),
        1.0
    );
    assert_eq!(
        unit_pullback(1.5, |d, s| h.rhs(d, s, Operand(&1.5), Operand(&1.5))),
        0.0
    );
    let (y, h) = rules::min(&1.5, &1.5);
    assert_eq!(y, 1.5);
    assert_eq!(
        unit_pullback(1.5, |d, s| h.lhs(d, s, Operand(&1.5), Operand(&1.5))),
        1.0
    );
    assert_eq!(
        unit_pullback(1.5, |d, s| h.rhs(d, s, Operand(&1.5), Operand(&1.5))),
        0.0
    );
    // A NaN operand loses, as with `f64::max`, and the derivative follows the value.
    let (y, h) = rules::max(&f64::NAN, &2.0);
    assert_eq!(y, 2.0);
    assert_eq!(
        unit_pullback(2.0, |d, s| h.rhs(d, s, Operand(&f64::NAN), Operand(&2.0))),
        1.0
    );
    let (y, _) = rules::min(&2.0, &f64::NAN);
    assert_eq!(y, 2.0);
}

// ------------------------------------------------------------------------------ maxout

#[test]
fn maxout() {
    fn case<X: Shaped>(rng: &mut Rng) {
        let name = format!("maxout::<{}>", std::any::type_name::<X>());
        let a: X = sample(rng, X::test_shape(), -2.0, 2.0, |_| true);
        // b stays at least 0.1 away from a, elementwise.
        let mut b: X = sample(rng, X::test_shape(), 0.1, 1.0, |_| true);
        b.zip2_apply_elems(
            &a,
            &sample(rng, X::test_shape(), -1.0, 1.0, |v| v != 0.0),
            |o, a, s| a + o * s.signum(),
        );
        let (y, h) = rules::maxout(&a, &b);
        let mut want = a.clone();
        want.zip_apply_elems(&b, f64::max);
        assert_eq!(y, want);
        check_pullback(
            &format!("{name} lhs"),
            rng,
            &a,
            &|a| rules::maxout(a, &b).0,
            &|d, s| h.lhs(d, s, Operand(&a), Operand(&b)),
        );
        check_pullback(
            &format!("{name} rhs"),
            rng,
            &b,
            &|b| rules::maxout(&a, b).0,
            &|d, s| h.rhs(d, s, Operand(&a), Operand(&b)),
        );
    }
    all_types!(case, &mut rng(13));
}

#[test]
fn maxout_ties_go_to_the_first_operand() {
    let a = RowDVector::from_row_slice(&[1.0, 2.0, 3.0]);
    let b = RowDVector::from_row_slice(&[1.0, 5.0, 0.0]);
    let (y, h) = rules::maxout(&a, &b);
    assert_eq!(y, RowDVector::from_row_slice(&[1.0, 5.0, 3.0]));
    let seed = RowDVector::from_row_slice(&[10.0, 20.0, 30.0]);
    let (mut da, mut db) = (None, None);
    h.lhs(&mut da, Seed::Borrowed(&seed), Operand(&a), Operand(&b));
    h.rhs(&mut db, Seed::Owned(seed), Operand(&a), Operand(&b));
    assert_eq!(da.unwrap(), RowDVector::from_row_slice(&[10.0, 0.0, 30.0]));
    assert_eq!(db.unwrap(), RowDVector::from_row_slice(&[0.0, 20.0, 0.0]));
    let (_, h) = rules::maxout(&2.0, &2.0);
    assert_eq!(
        unit_pullback(2.0, |d, s| h.lhs(d, s, Operand(&2.0), Operand(&2.0))),
        1.0
    );
    assert_eq!(
        unit_pullback(2.0, |d, s| h.rhs(d, s, Operand(&2.0), Operand(&2.0))),
        0.0
    );
}

#[test]
#[should_panic(expected = "maxout: shapes (2, 3) and (3, 2) do not match")]
fn maxout_shape_mismatch_panics() {
    let _ = rules::maxout(&DMatrix::<f64>::zeros(2, 3), &DMatrix::zeros(3, 2));
}

// ------------------------------------------------------------ component_mul, component_div

fn component_case<M: Shaped + MatrixValue>(rng: &mut Rng) {
    let name = std::any::type_name::<M>();
    let a: M = sample(rng, M::test_shape(), -2.0, 2.0, |_| true);
    let b: M = sample(rng, M::test_shape(), -2.0, 2.0, |v| v.abs() > 0.3);
    let mut want = a.clone();
    want.zip_apply_elems(&b, |a, b| a * b);
    let (y, h) = component_mul(&a, &b);
    assert_eq!(y, want);
    check_pullback(
        &format!("component_mul::<{name}> lhs"),
        rng,
        &a,
        &|a| component_mul(a, &b).0,
        &|d, s| h.lhs(d, s, Operand(&b)),
    );
    check_pullback(
        &format!("component_mul::<{name}> rhs"),
        rng,
        &b,
        &|b| component_mul(&a, b).0,
        &|d, s| h.rhs(d, s, Operand(&a)),
    );
    let mut want = a.clone();
    want.zip_apply_elems(&b, |a, b| a / b);
    let (y, h) = component_div(&a, &b);
    assert_eq!(y, want);
    check_pullback(
        &format!("component_div::<{name}> lhs"),
        rng,
        &a,
        &|a| component_div(a, &b).0,
        &|d, s| h.lhs(d, s, Operand(&b)),
    );
    check_pullback(
        &format!("component_div::<{name}> rhs"),
        rng,
        &b,
        &|b| component_div(&a, b).0,
        &|d, s| h.rhs(d, s, Operand(&a), Operand(&b)),
    );
}

// The component rules are for matrices: these wrappers name the handles' types per case.
fn component_mul<M: Shaped + MatrixValue>(a: &M, b: &M) -> (M, rules::ComponentMul<M>) {
    M::component_mul(a, b)
}
fn component_div<M: Shaped + MatrixValue>(a: &M, b: &M) -> (M, rules::ComponentDiv<M>) {
    M::component_div(a, b)
}

/// The matrix types of [`Shaped`], whose component rules the generic case calls.
trait MatrixValue: Sized {
    fn component_mul(a: &Self, b: &Self) -> (Self, rules::ComponentMul<Self>);
    fn component_div(a: &Self, b: &Self) -> (Self, rules::ComponentDiv<Self>);
}
macro_rules! matrix_value {
    ($($t:ty),*) => {$(
        impl MatrixValue for $t {
            fn component_mul(a: &Self, b: &Self) -> (Self, rules::ComponentMul<Self>) {
                rules::component_mul(a, b)
            }
            fn component_div(a: &Self, b: &Self) -> (Self, rules::ComponentDiv<Self>) {
                rules::component_div(a, b)
            }
        }
    )*};
}
matrix_value!(DMatrix<f64>, DVector<f64>, RowDVector<f64>, SMatrix<f64, 2, 3>);

#[test]
fn component_mul_and_div() {
    let mut rng = rng(14);
    component_case::<DMatrix<f64>>(&mut rng);
    component_case::<DVector<f64>>(&mut rng);
    component_case::<RowDVector<f64>>(&mut rng);
    component_case::<SMatrix<f64, 2, 3>>(&mut rng);
}

#[test]
#[should_panic(expected = "component_mul: shapes (2, 3) and (2, 2) do not match")]
fn component_mul_shape_mismatch_panics() {
    let _ = rules::component_mul(&DMatrix::<f64>::zeros(2, 3), &DMatrix::zeros(2, 2));
}

#[test]
#[should_panic(expected = "component_div: shapes (4, 1) and (3, 1) do not match")]
fn component_div_shape_mismatch_panics() {
    let _ = rules::component_div(&DVector::<f64>::zeros(4), &DVector::zeros(3));
}

#[test]
#[should_panic(expected = "elementwise: shapes (2, 2) and (3, 2) do not match")]
fn elementwise_pullback_with_a_seed_of_the_wrong_shape_panics() {
    let x = DMatrix::<f64>::zeros(3, 2);
    let (y, h) = rules::tanh(&x);
    h.arg(&mut None, Seed::Owned(DMatrix::zeros(2, 2)), Output(&y));
}

#[test]
#[should_panic(expected = "elementwise: shapes (2, 2) and (3, 2) do not match")]
fn accumulating_into_a_slot_of_the_wrong_shape_panics() {
    let x = DMatrix::<f64>::zeros(3, 2);
    let (_, h) = rules::sin(&x);
    h.arg(
        &mut Some(DMatrix::zeros(2, 2)),
        Seed::Owned(DMatrix::zeros(3, 2)),
        Operand(&x),
    );
}

// -------------------------------------------------------------------- f32 sanity checks

macro_rules! f32_unary {
    ($rng:expr, $x:expr, $rule:ident() reads nothing) => {{
        let x64: DMatrix<f64> = $x;
        let x32 = x64.map(|v| v as f32);
        let x64 = x32.map(f64::from);
        let u64_ = dmatrix($rng, x64.nrows(), x64.ncols());
        let u32_ = u64_.map(|v| v as f32);
        let u64_ = u32_.map(f64::from);
        let (y64, h64) = rules::$rule(&x64);
        let (y32, h32) = rules::$rule(&x32);
        assert_f32(concat!(stringify!($rule), " f32 value"), &y32, &y64);
        let (mut d64, mut d32) = (None, None);
        h64.arg(&mut d64, Seed::Owned(u64_));
        h32.arg(&mut d32, Seed::Owned(u32_));
        assert_f32(concat!(stringify!($rule), " f32 pullback"), &d32.unwrap(), &d64.unwrap());
        let s = x32[0];
        let (_, h) = rules::$rule(&s);
        let mut d = None;
        h.arg(&mut d, Seed::Owned(1.0f32));
        assert!(d.unwrap().is_finite());
    }};
    ($rng:expr, $x:expr, $rule:ident($($extra:expr),*) reads $read:ident) => {{
        let x64: DMatrix<f64> = $x;
        let x32 = x64.map(|v| v as f32);
        let x64 = x32.map(f64::from);
        let u64_ = dmatrix($rng, x64.nrows(), x64.ncols());
        let u32_ = u64_.map(|v| v as f32);
        let u64_ = u32_.map(f64::from);
        let (y64, h64) = rules::$rule(&x64 $(, $extra as f64)*);
        let (y32, h32) = rules::$rule(&x32 $(, $extra as f32)*);
        assert_f32(concat!(stringify!($rule), " f32 value"), &y32, &y64);
        let (mut d64, mut d32) = (None, None);
        h64.arg(&mut d64, Seed::Owned(u64_), read!($read, &x64, &y64) $(, Const($extra as f64))*);
        h32.arg(&mut d32, Seed::Owned(u32_), read!($read, &x32, &y32) $(, Const($extra as f32))*);
        assert_f32(concat!(stringify!($rule), " f32 pullback"), &d32.unwrap(), &d64.unwrap());
        // And a plain f32 scalar.
        let s = x32[0];
        // `y` is read only by the pullbacks that read the result.
        #[allow(unused_variables)]
        let (y, h) = rules::$rule(&s $(, $extra as f32)*);
        let mut d = None;
        h.arg(&mut d, Seed::Owned(1.0f32), read!($read, &s, &y) $(, Const($extra as f32))*);
        assert!(d.unwrap().is_finite());
    }};
}

#[test]
fn f32_unary_functions() {
    let mut rng = rng(15);
    let pos = |rng: &mut Rng| sample::<DMatrix<f64>>(rng, (Dyn(3), Dyn(2)), 0.3, 2.0, |_| true);
    let any =
        |rng: &mut Rng| sample::<DMatrix<f64>>(rng, (Dyn(3), Dyn(2)), -1.2, 1.2, |v| v.abs() > 0.2);
    // A square matrix: its matrix exponential.
    let square = sample::<DMatrix<f64>>(&mut rng, (Dyn(3), Dyn(3)), -1.2, 1.2, |_| true);
    f32_unary!(&mut rng, square, exp() reads y);
    f32_unary!(&mut rng, pos(&mut rng), ln() reads x);
    f32_unary!(&mut rng, pos(&mut rng), sqrt() reads y);
    f32_unary!(&mut rng, any(&mut rng), sin() reads x);
    f32_unary!(&mut rng, any(&mut rng), cos() reads x);
    f32_unary!(&mut rng, any(&mut rng), tan() reads y);
    f32_unary!(&mut rng, any(&mut rng), tanh() reads y);
    f32_unary!(&mut rng, any(&mut rng), abs() reads x);
    f32_unary!(&mut rng, any(&mut rng), recip() reads y);
    let x = any(&mut rng);
    let (y64, h64) = rules::powi(&x, -3);
    let (y32, h32) = rules::powi(&x.map(|v| v as f32), -3);
    assert_f32("powi f32 value", &y32, &y64);
    let (mut d64, mut d32) = (None, None);
    h64.arg(
        &mut d64,
        Seed::Owned(DMatrix::repeat(3, 2, 1.0)),
        Operand(&x),
        Const(-3),
    );
    h32.arg(
        &mut d32,
        Seed::Owned(DMatrix::repeat(3, 2, 1.0f32)),
        Operand(&x.map(|v| v as f32)),
        Const(-3),
    );
    assert_close(
        "powi f32 pullback",
        &d32.unwrap().map(f64::from),
        &d64.unwrap(),
        1e-5,
    );
}

#[test]
fn f32_activations() {
    let mut rng = rng(16);
    let any =
        |rng: &mut Rng| sample::<DMatrix<f64>>(rng, (Dyn(4), Dyn(3)), -3.0, 3.0, |v| v.abs() > 0.2);
    f32_unary!(&mut rng, any(&mut rng), relu() reads nothing);
    f32_unary!(&mut rng, any(&mut rng), sigmoid() reads y);
    f32_unary!(&mut rng, any(&mut rng), square() reads x);
    f32_unary!(&mut rng, any(&mut rng), leaky_relu(0.01) reads x);
    f32_unary!(&mut rng, any(&mut rng), elu(1.5) reads x);
    let (y, _) = rules::sigmoid(&DVector::from_vec(vec![-1000.0f32, 1000.0]));
    assert_eq!(y, DVector::from_vec(vec![0.0, 1.0]));
}

#[test]
fn f32_binary_functions() {
    let (y, h) = rules::powf(&2.0f32, &1.5f32);
    assert!((f64::from(y) - 2f64.powf(1.5)).abs() < 1e-6);
    let mut d = None;
    h.rhs(&mut d, Seed::Owned(1.0f32), Operand(&2.0), Output(&y));
    assert!((f64::from(d.unwrap()) - 2f64.powf(1.5) * 2f64.ln()).abs() < 1e-5);
    let (y, h) = rules::max(&1.0f32, &3.0f32);
    assert_eq!(y, 3.0);
    let mut d = None;
    h.rhs(&mut d, Seed::Owned(2.0f32), Operand(&1.0), Operand(&3.0));
    assert_eq!(d, Some(2.0));
    let mut rng = rng(17);
    let a = dmatrix(&mut rng, 3, 3);
    let b = sample::<DMatrix<f64>>(&mut rng, (Dyn(3), Dyn(3)), 0.5, 2.0, |_| true);
    let (a32, b32) = (a.map(|v| v as f32), b.map(|v| v as f32));
    let (a, b) = (a32.map(f64::from), b32.map(f64::from));
    let (y64, h64) = rules::component_div(&a, &b);
    let (y32, h32) = rules::component_div(&a32, &b32);
    assert_f32("component_div f32 value", &y32, &y64);
    let (mut d64, mut d32) = (None, None);
    h64.rhs(
        &mut d64,
        Seed::Owned(DMatrix::repeat(3, 3, 1.0)),
        Operand(&a),
        Operand(&b),
    );
    h32.rhs(
        &mut d32,
        Seed::Owned(DMatrix::repeat(3, 3, 1.0f32)),
        Operand(&a32),
        Operand(&b32),
    );
    assert_f32("component_div f32 pullback", &d32.unwrap(), &d64.unwrap());
    let (y32, h32) = rules::maxout(&a32, &b32);
    assert_f32("maxout f32 value", &y32, &rules::maxout(&a, &b).0);
    let mut d32 = None;
    h32.lhs(
        &mut d32,
        Seed::Owned(DMatrix::repeat(3, 3, 1.0f32)),
        Operand(&a32),
        Operand(&b32),
    );
    assert_eq!(
        d32.unwrap(),
        a32.zip_map(&b32, |a, b| if a >= b { 1.0 } else { 0.0 })
    );
}
