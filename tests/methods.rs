//! Every method the macro accepts, on every receiver kind where rustc compiles it (`f64`,
//! `f32`, `DMatrix`, `DVector`, `RowDVector`, static `SMatrix`/`SVector`, square matrices):
//! the value of every generated item is the primal's, bit for bit (a rule that computed
//! another function, as an elementwise `exp` did for nalgebra's matrix exponential, fails
//! here), and for `f64` the derived gradient passes central differences and the dot-product
//! test against the primal itself.

mod common;

use autodiff::prelude::*;
use common::check::TOLERANCE;
use nalgebra::{Dim, OMatrix};

/// A parameter or result of a test function: its bits, its elements as `f64`, and a value of
/// the same shape built from elements.
trait Probe: Clone {
    fn elems(&self) -> Vec<f64>;
    fn bits(&self) -> Vec<u64>;
    fn from_elems(like: &Self, elems: &[f64]) -> Self;
}

impl Probe for f64 {
    fn elems(&self) -> Vec<f64> {
        vec![*self]
    }
    fn bits(&self) -> Vec<u64> {
        vec![self.to_bits()]
    }
    fn from_elems(_: &Self, elems: &[f64]) -> Self {
        elems[0]
    }
}

impl Probe for f32 {
    fn elems(&self) -> Vec<f64> {
        vec![f64::from(*self)]
    }
    fn bits(&self) -> Vec<u64> {
        vec![u64::from(self.to_bits())]
    }
    fn from_elems(_: &Self, elems: &[f64]) -> Self {
        elems[0] as f32
    }
}

macro_rules! matrix_probe {
    ($t:ty, $bits:expr) => {
        impl<R: Dim, C: Dim> Probe for OMatrix<$t, R, C>
        where
            nalgebra::DefaultAllocator: nalgebra::allocator::Allocator<R, C>,
        {
            fn elems(&self) -> Vec<f64> {
                self.iter().map(|&v| v as f64).collect()
            }
            fn bits(&self) -> Vec<u64> {
                self.iter().map($bits).collect()
            }
            fn from_elems(like: &Self, elems: &[f64]) -> Self {
                let (r, c) = like.shape_generic();
                OMatrix::from_iterator_generic(r, c, elems.iter().map(|&v| v as $t))
            }
        }
    };
}
matrix_probe!(f64, |v: &f64| v.to_bits());
matrix_probe!(f32, |v: &f32| u64::from(v.to_bits()));

/// Draws element values in ±[0.3, 0.9] (away from the kinks of `abs`, `max`, `min`), or in
/// [0.5, 1.5] where the method needs positive values (`ln`, `sqrt`, `powf`).
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
    fn signed(&mut self) -> f64 {
        let m = 0.3 + 0.6 * self.next();
        if self.next() < 0.5 {
            -m
        } else {
            m
        }
    }
    fn positive(&mut self) -> f64 {
        0.5 + self.next()
    }
    fn like<P: Probe>(&mut self, like: &P, positive: bool) -> P {
        let n = like.elems().len();
        let v: Vec<f64> = (0..n)
            .map(|_| {
                if positive {
                    self.positive()
                } else {
                    self.signed()
                }
            })
            .collect();
        P::from_elems(like, &v)
    }
}

/// `Σᵢ uᵢ yᵢ`.
fn inner(u: &[f64], y: &[f64]) -> f64 {
    u.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// The test of one case: `NAME(p: P, …) -> R`, written with one method, its parameters drawn
/// like the shapes given (`+` for positive values). Checks that `NAME_vjp` and `NAME_fwd`
/// return the primal's value bit for bit, and (`grad`) that the derived gradient matches
/// central differences of `⟨u, NAME(θ)⟩` and passes the dot-product test.
macro_rules! case {
    ($check:ident $name:ident / $vjp:ident / $fwd:ident / $test:ident:
     ($($p:ident: $ty:ty = $shape:expr $(, $pos:tt)?);+) -> $ret:ty) => {
        #[test]
        fn $test() {
            let mut draw = Draw(line!() as u64);
            $( let $p: $ty = draw.like(&$shape, case!(@positive $($pos)?)); )+
            let primal = $name($($p.clone()),+);
            let seed: $ret = draw.like(&primal, false);
            let (value, grad) = $vjp($($p.clone()),+, seed.clone());
            assert_eq!(value.bits(), primal.bits(), "{}: NAME_vjp's value is not the primal's", stringify!($name));
            let (forward, _) = $fwd($($p.clone()),+);
            assert_eq!(forward.bits(), primal.bits(), "{}: NAME_fwd's value is not the primal's", stringify!($name));
            case!(@$check $name, grad, seed, ($($p: $ty),+));
        }
    };
    (@positive +) => { true };
    (@positive) => { false };
    // f32: the values only (each rule's f32 derivative is checked in the runtime's tests).
    (@bits $name:ident, $grad:ident, $($rest:tt)*) => {
        let _ = $grad;
    };
    (@grad $name:ident, $grad:ident, $seed:ident, ($($p:ident: $ty:ty),+)) => {{
        let theta: Vec<f64> = [$($p.elems()),+].concat();
        let derived: Vec<f64> = [$($grad.$p.elems()),+].concat();
        let u = $seed.elems();
        let eval = |theta: &[f64]| {
            let mut at = 0;
            $(
                let n = $p.elems().len();
                let $p = <$ty as Probe>::from_elems(&$p, &theta[at..at + n]);
                at += n;
            )+
            let _ = at;
            inner(&u, &$name($($p),+).elems())
        };
        check(stringify!($name), &theta, &derived, eval);
    }};
}

/// Central differences of `eval` at `theta` against `derived`, and the dot-product test
/// along a fixed direction.
#[track_caller]
fn check(name: &str, theta: &[f64], derived: &[f64], eval: impl Fn(&[f64]) -> f64) {
    let h = 1e-6;
    let mut numeric = Vec::with_capacity(theta.len());
    for i in 0..theta.len() {
        let (mut plus, mut minus) = (theta.to_vec(), theta.to_vec());
        plus[i] += h;
        minus[i] -= h;
        numeric.push((eval(&plus) - eval(&minus)) / (2.0 * h));
    }
    let diff: f64 = numeric
        .iter()
        .zip(derived)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    let size: f64 = numeric.iter().map(|a| a * a).sum::<f64>().sqrt().max(1.0);
    assert!(
        diff / size <= TOLERANCE,
        "{name}: relative error {:e}\n derived {derived:?}\n numeric {numeric:?}",
        diff / size
    );
    let v: Vec<f64> = (0..theta.len())
        .map(|i| 1.0 - 0.37 * i as f64 % 1.3)
        .collect();
    let along = |t: f64| -> Vec<f64> { theta.iter().zip(&v).map(|(a, b)| a + t * b).collect() };
    let forward = (eval(&along(h)) - eval(&along(-h))) / (2.0 * h);
    let adjoint = inner(derived, &v);
    assert!(
        (forward - adjoint).abs() <= TOLERANCE * forward.abs().max(adjoint.abs()).max(1.0),
        "{name}: dot-product test: ⟨u, J v⟩ = {forward}, ⟨Jᵀu, v⟩ = {adjoint}"
    );
}

// Shapes the parameters are drawn like.
fn s() -> f64 {
    0.0
}
fn s32() -> f32 {
    0.0
}
fn dm() -> DMatrix<f64> {
    DMatrix::zeros(3, 4)
}
fn sq() -> DMatrix<f64> {
    DMatrix::zeros(3, 3)
}
fn dv() -> DVector<f64> {
    DVector::zeros(4)
}
fn rv() -> RowDVector<f64> {
    RowDVector::zeros(4)
}
fn sm() -> SMatrix<f64, 2, 3> {
    SMatrix::zeros()
}
fn ss() -> SMatrix<f64, 3, 3> {
    SMatrix::zeros()
}
fn sv() -> SVector<f64, 3> {
    SVector::zeros()
}
fn dm32() -> DMatrix<f32> {
    DMatrix::zeros(3, 4)
}
fn sq32() -> DMatrix<f32> {
    DMatrix::zeros(3, 3)
}
fn one_row() -> DMatrix<f64> {
    DMatrix::zeros(1, 4)
}
fn sq5() -> DMatrix<f64> {
    DMatrix::zeros(5, 5)
}
fn dv3() -> DVector<f64> {
    DVector::zeros(3)
}
fn sm32() -> SMatrix<f64, 3, 2> {
    SMatrix::zeros()
}
fn dv32() -> DVector<f32> {
    DVector::zeros(3)
}

#[allow(clippy::clone_on_copy, clippy::redundant_clone)]
mod cases {
    use super::*;
    include!("methods/cases.rs");

    /// The scalar methods keep the primal's value bit for bit where rules are easy to get
    /// wrong: signed zeros, infinities, NaN, subnormals, overflow and underflow.
    #[test]
    fn scalar_methods_are_the_primal_at_special_values() {
        let special = [
            0.0,
            -0.0,
            1.5,
            -2.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e-310,
            710.0,
            -745.5,
        ];
        let same = |what: &str, got: f64, want: f64| {
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{what}: {got} is not the primal's {want}"
            );
        };
        for &x in &special {
            same(&format!("exp({x})"), s_exp_vjp(x, 1.0).0, s_exp(x));
            same(&format!("sin({x})"), s_sin_vjp(x, 1.0).0, s_sin(x));
            same(&format!("cos({x})"), s_cos_vjp(x, 1.0).0, s_cos(x));
            same(&format!("tan({x})"), s_tan_vjp(x, 1.0).0, s_tan(x));
            same(&format!("tanh({x})"), s_tanh_vjp(x, 1.0).0, s_tanh(x));
            same(&format!("abs({x})"), s_abs_vjp(x, 1.0).0, s_abs(x));
            same(&format!("recip({x})"), s_recip_vjp(x, 1.0).0, s_recip(x));
            same(&format!("ln({x})"), s_ln_vjp(x, 1.0).0, s_ln(x));
            same(&format!("sqrt({x})"), s_sqrt_vjp(x, 1.0).0, s_sqrt(x));
            same(&format!("powi({x}, 3)"), s_powi_vjp(x, 1.0).0, s_powi(x));
            for &y in &special {
                same(
                    &format!("max({x}, {y})"),
                    s_max_vjp(x, y, 1.0).0,
                    s_max(x, y),
                );
                same(
                    &format!("min({x}, {y})"),
                    s_min_vjp(x, y, 1.0).0,
                    s_min(x, y),
                );
                same(
                    &format!("powf({x}, {y})"),
                    s_powf_vjp(x, y, 1.0).0,
                    s_powf(x, y),
                );
            }
        }
    }
}

/// The function a user wrote on day one: `exp` of a borrowed square matrix, summed. Its value
/// is the sum of nalgebra's matrix exponential, not of the elements' exponentials, and so is
/// the value `f_grad` returns; the gradient is that function's.
#[differentiate]
fn matrix_exp_sum(m: &DMatrix<f64>) -> f64 {
    m.exp().sum()
}

#[test]
fn exp_of_a_borrowed_square_matrix_is_the_matrix_exponential() {
    let m = DMatrix::from_row_slice(3, 3, &[0.5, -0.2, 0.1, 0.3, 0.4, -0.6, -0.1, 0.2, 0.7]);
    let (value, grad) = matrix_exp_sum_grad(&m);
    assert_eq!(value.to_bits(), matrix_exp_sum(&m).to_bits());
    assert_eq!(value.to_bits(), m.exp().sum().to_bits());
    assert!((value - m.map(f64::exp).sum()).abs() > 1.0);
    let theta: Vec<f64> = m.iter().copied().collect();
    let eval = |t: &[f64]| matrix_exp_sum(&DMatrix::from_column_slice(3, 3, t));
    check("matrix_exp_sum", &theta, grad.m.as_slice(), eval);
}

/// A zero seed (or a result multiplied by zero) gives a zero gradient through the matrix
/// exponential, not a missing one.
#[differentiate]
fn matrix_exp_times_zero(m: &DMatrix<f64>) -> f64 {
    m.exp().sum() * 0.0
}

#[test]
fn a_zero_seed_through_the_matrix_exponential_gives_zeros() {
    let m = DMatrix::from_row_slice(2, 2, &[0.5, -0.2, 0.3, 0.4]);
    let (_, grad) = matrix_exp_times_zero_grad(&m);
    assert_eq!(grad.m, DMatrix::zeros(2, 2));
    let (value, grad) = matrix_exp_sum_vjp(&m, 0.0);
    assert_eq!(value, m.exp().sum());
    assert_eq!(grad.m, DMatrix::zeros(2, 2));
}

/// `expect`'s message is the panic's, as it is the primal's.
#[differentiate]
fn inverse_sum_or_message(m: &DMatrix<f64>) -> f64 {
    m.clone()
        .try_inverse()
        .expect("the metric must be invertible")
        .sum()
}

#[test]
#[should_panic(expected = "the metric must be invertible")]
fn expect_in_a_chain_panics_with_its_message() {
    let _ = inverse_sum_or_message_grad(&DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]));
}

/// A solve with a constant matrix: only the right-hand side has a gradient, `A⁻ᵀ·(2x)`.
#[differentiate(wrt(b))]
fn solve_with_a_constant_matrix(a: &DMatrix<f64>, b: &DVector<f64>) -> f64 {
    let x = a.clone().lu().solve(b).unwrap();
    x.norm_squared()
}

#[test]
fn a_solve_with_a_constant_matrix_differentiates_the_right_hand_side() {
    let a = DMatrix::from_row_slice(3, 3, &[0.5, 2.0, 0.1, 1.5, 0.3, -0.4, 0.2, -0.6, 1.8]);
    let b = DVector::from_column_slice(&[0.3, -0.7, 1.1]);
    let (value, grad) = solve_with_a_constant_matrix_grad(&a, &b);
    assert_eq!(
        value.to_bits(),
        solve_with_a_constant_matrix(&a, &b).to_bits()
    );
    let theta: Vec<f64> = b.iter().copied().collect();
    let eval = |t: &[f64]| solve_with_a_constant_matrix(&a, &DVector::from_column_slice(t));
    check(
        "solve_with_a_constant_matrix",
        &theta,
        grad.b.as_slice(),
        eval,
    );
}
