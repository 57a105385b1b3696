//! The rules that factorize a matrix (`determinant`, `try_inverse`, `lu().solve`,
//! `cholesky().l()`, `cholesky().solve`) and the Kronecker product: values equal to
//! nalgebra's bit for bit, pullbacks against central differences and the dot-product test at
//! random well-conditioned points on dynamic and static shapes (and each size where nalgebra
//! switches method), singular determinants, an ill-conditioned matrix with its documented
//! tolerance, panics, and f32 checks.

mod common;

use autodiff_runtime::__private::rules::{self, Const as ConstRead, Operand, Output, Seed};
use autodiff_runtime::gradcheck::{inner, numerical_gradient_with_step, relative_error};
use common::{assert_close, check_pullback, kind, rng, uniform, Rng};
use nalgebra::{
    allocator::Allocator, Const, DMatrix, DVector, DefaultAllocator, Dim, DimMin, Dyn, OMatrix,
    SMatrix, SVector, U1,
};

fn bits<R: Dim, C: Dim>(m: &OMatrix<f64, R, C>) -> Vec<u64>
where
    DefaultAllocator: Allocator<R, C>,
{
    m.iter().map(|v| v.to_bits()).collect()
}

/// A random well-conditioned square matrix whose LU factorization pivots: a diagonally
/// dominant one (elements in `[-1, 1)` plus `n` on the diagonal), its rows rotated by one, so
/// that the dominant element of column `j` is in row `j − 1` (a cycle: a pullback that
/// applied the permutation instead of its inverse fails).
fn well_conditioned<D: Dim>(rng: &mut Rng, d: D) -> OMatrix<f64, D, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    let mut m: OMatrix<f64, D, D> = uniform(rng, (d, d));
    let n = d.value();
    for i in 0..n {
        m[(i, i)] += n as f64;
    }
    let mut rotated = m.clone();
    for i in 0..n {
        rotated.set_row(i, &m.row((i + 1) % n));
    }
    rotated
}

/// A random symmetric positive-definite matrix, `M·Mᵀ + I`.
fn spd<D: Dim>(rng: &mut Rng, d: D) -> OMatrix<f64, D, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    let m: OMatrix<f64, D, D> = uniform(rng, (d, d));
    let mut a = &m * m.transpose();
    for i in 0..d.value() {
        a[(i, i)] += 1.0;
    }
    a
}

/// `(x + xᵀ)/2`: the Cholesky rules are checked along symmetric perturbations, the ones a
/// symmetric input has. (For a symmetric `x` it is `x`, bit for bit.)
fn sym<D: Dim>(x: &OMatrix<f64, D, D>) -> OMatrix<f64, D, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    (x + x.transpose()) * 0.5
}

// ------------------------------------------------------------------------- determinant

#[test]
fn determinant() {
    fn case<D: DimMin<D, Output = D>>(rng: &mut Rng, d: D)
    where
        DefaultAllocator: Allocator<D, D> + Allocator<D>,
    {
        let m = well_conditioned(rng, d);
        let (y, h) = rules::determinant(&m);
        assert_eq!(
            y.to_bits(),
            m.determinant().to_bits(),
            "determinant {}",
            d.value()
        );
        check_pullback(
            &format!("determinant {} {}", d.value(), kind::<D, D>()),
            rng,
            &m,
            &|m| rules::determinant(m).0,
            &|d, s| h.arg(d, s),
        );
    }
    let rng = &mut rng(61);
    // nalgebra's formulas up to 3×3, its LU beyond.
    for n in 1..=6 {
        case(rng, Dyn(n));
    }
    case(rng, Const::<3>);
    case(rng, Const::<5>);
    let (y, h) = rules::determinant(&DMatrix::<f64>::zeros(0, 0));
    assert_eq!(y, 1.0);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(1.0));
    assert_eq!(d.unwrap().shape(), (0, 0));
}

/// On a singular matrix (a zero pivot) the gradient is the cofactor matrix, the derivative
/// of the polynomial `det`, which central differences check; below rank `n − 1` it is zero.
#[test]
fn determinant_of_singular_matrices() {
    // Rank 2 of 3: the second row is twice the first. Pivots: exact in binary.
    let m = DMatrix::<f64>::from_row_slice(3, 3, &[1.0, 2.0, -1.0, 2.0, 4.0, -2.0, 0.5, 1.0, 3.0]);
    let (y, h) = rules::determinant(&m);
    assert_eq!(y.to_bits(), m.determinant().to_bits());
    let (g, _) = check_pullback(
        "determinant, rank n − 1",
        &mut rng(62),
        &m,
        &|m| rules::determinant(m).0,
        &|d, s| h.arg(d, s),
    );
    assert!(
        g.amax() > 0.1,
        "the cofactors of a rank n − 1 matrix are not all zero"
    );
    // 5×5 with a zero row (nalgebra's LU path for the value).
    let mut m = well_conditioned(&mut rng(63), Dyn(5));
    m.row_mut(3).fill(0.0);
    let (y, h) = rules::determinant(&m);
    assert_eq!(y.to_bits(), m.determinant().to_bits());
    check_pullback(
        "determinant, a zero row",
        &mut rng(64),
        &m,
        &|m| rules::determinant(m).0,
        &|d, s| h.arg(d, s),
    );
    // Rank 1: every 2×2 minor is zero, and so is the gradient.
    let m = DMatrix::from_row_slice(3, 3, &[1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 3.0, 6.0, 9.0]);
    let (_, h) = rules::determinant(&m);
    let mut d = None;
    h.arg(&mut d, Seed::Owned(1.0));
    assert_eq!(d.unwrap(), DMatrix::zeros(3, 3));
}

// ----------------------------------------------------------------------------- inverse

#[test]
fn inverse() {
    fn case<D: Dim>(rng: &mut Rng, d: D)
    where
        DefaultAllocator: Allocator<D, D>,
    {
        let m = well_conditioned(rng, d);
        let (y, h) = rules::inverse(&m);
        assert_eq!(bits(&y), bits(&m.clone().try_inverse().unwrap()));
        let (e, _) = rules::inverse_expect(&m, "invertible");
        assert_eq!(bits(&e), bits(&y));
        check_pullback(
            &format!("inverse {} {}", d.value(), kind::<D, D>()),
            rng,
            &m,
            &|m| rules::inverse(m).0,
            &|d, s| h.arg(d, s, Output(&y)),
        );
    }
    let rng = &mut rng(65);
    // nalgebra's formulas up to 4×4, its LU beyond.
    for n in 1..=6 {
        case(rng, Dyn(n));
    }
    case(rng, Const::<2>);
    case(rng, Const::<3>);
    case(rng, Const::<4>);
}

#[test]
#[should_panic(expected = "try_inverse: the matrix is not invertible")]
fn inverse_of_a_singular_matrix_panics() {
    let _ = rules::inverse(&DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]));
}

#[test]
#[should_panic(expected = "the covariance must be invertible")]
fn inverse_expect_panics_with_its_message() {
    let _ = rules::inverse_expect(
        &DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]),
        "the covariance must be invertible",
    );
}

#[test]
#[should_panic(expected = "try_inverse: shape (2, 3) is not square")]
fn inverse_of_a_non_square_matrix_panics() {
    let _ = rules::inverse(&DMatrix::<f64>::zeros(2, 3));
}

// ---------------------------------------------------------------------------- LU solve

#[test]
fn lu_solve() {
    fn case<D: DimMin<D, Output = D>, C: Dim>(rng: &mut Rng, d: D, c: C)
    where
        DefaultAllocator: Allocator<D, D> + Allocator<D> + Allocator<D, C>,
    {
        let what = format!("lu().solve {} {}", kind::<D, D>(), kind::<D, C>());
        let a = well_conditioned(rng, d);
        let b: OMatrix<f64, D, C> = uniform(rng, (d, c));
        let (x, h) = rules::lu_solve(&a, &b);
        assert_eq!(bits(&x), bits(&a.clone().lu().solve(&b).unwrap()), "{what}");
        let (e, _) = rules::lu_solve_expect(&a, &b, "invertible");
        assert_eq!(bits(&e), bits(&x));
        check_pullback(
            &format!("{what}, to a"),
            rng,
            &a,
            &|a| rules::lu_solve(a, &b).0,
            &|d, s| h.lhs(d, s, Output(&x)),
        );
        check_pullback(
            &format!("{what}, to b"),
            rng,
            &b,
            &|b| rules::lu_solve(&a, b).0,
            &|d, s| h.rhs(d, s),
        );
    }
    let rng = &mut rng(67);
    case(rng, Dyn(4), U1);
    case(rng, Dyn(5), Dyn(3));
    case(rng, Dyn(1), Dyn(2));
    case(rng, Const::<3>, U1);
    case(rng, Const::<3>, Const::<2>);
}

#[test]
#[should_panic(expected = "lu().solve: the matrix is singular")]
fn lu_solve_of_a_singular_matrix_panics() {
    let a = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]);
    let _ = rules::lu_solve(&a, &DVector::from_column_slice(&[1.0, 1.0]));
}

#[test]
#[should_panic(expected = "no unique solution")]
fn lu_solve_expect_panics_with_its_message() {
    let a = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]);
    let _ = rules::lu_solve_expect(
        &a,
        &DVector::from_column_slice(&[1.0, 1.0]),
        "no unique solution",
    );
}

// ---------------------------------------------------------------------------- Cholesky

#[test]
fn cholesky_factor() {
    fn case<D: Dim>(rng: &mut Rng, d: D)
    where
        DefaultAllocator: Allocator<D, D>,
    {
        let what = format!("cholesky().l() {}", kind::<D, D>());
        let a = spd(rng, d);
        assert_eq!(bits(&sym(&a)), bits(&a));
        let (l, h) = rules::cholesky_l(&a);
        assert_eq!(bits(&l), bits(&a.clone().cholesky().unwrap().l()), "{what}");
        let (e, _) = rules::cholesky_l_expect(&a, "positive definite");
        assert_eq!(bits(&e), bits(&l));
        let (g, _) = check_pullback(
            &what,
            rng,
            &a,
            &|x| rules::cholesky_l(&sym(x)).0,
            &|d, s| h.arg(d, s, Output(&l)),
        );
        assert_eq!(
            bits(&g),
            bits(&g.transpose()),
            "{what}: the gradient is symmetric"
        );
    }
    let rng = &mut rng(71);
    for n in 1..=5 {
        case(rng, Dyn(n));
    }
    case(rng, Const::<3>);
}

/// The seed's upper triangle does not reach `A`: `L` is zero there whatever `A` is.
#[test]
fn cholesky_factor_ignores_the_seed_above_the_diagonal() {
    let a = spd(&mut rng(72), Dyn(3));
    let (l, h) = rules::cholesky_l(&a);
    let mut d = None;
    let mut upper = DMatrix::zeros(3, 3);
    upper[(0, 2)] = 1.0;
    upper[(0, 1)] = -2.0;
    h.arg(&mut d, Seed::Owned(upper), Output(&l));
    assert_eq!(d.unwrap(), DMatrix::zeros(3, 3));
}

#[test]
fn cholesky_solve() {
    fn case<D: Dim, C: Dim>(rng: &mut Rng, d: D, c: C)
    where
        DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
    {
        let what = format!("cholesky().solve {} {}", kind::<D, D>(), kind::<D, C>());
        let a = spd(rng, d);
        let b: OMatrix<f64, D, C> = uniform(rng, (d, c));
        let (x, h) = rules::cholesky_solve(&a, &b);
        let want = a.clone().cholesky().unwrap().solve(&b);
        assert_eq!(bits(&x), bits(&want), "{what}");
        let (e, _) = rules::cholesky_solve_expect(&a, &b, "positive definite");
        assert_eq!(bits(&e), bits(&x));
        let (g, _) = check_pullback(
            &format!("{what}, to a"),
            rng,
            &a,
            &|x| rules::cholesky_solve(&sym(x), &b).0,
            &|d, s| h.lhs(d, s, Output(&x)),
        );
        assert_close(&format!("{what}: symmetric"), &g, &g.transpose(), 1e-15);
        check_pullback(
            &format!("{what}, to b"),
            rng,
            &b,
            &|b| rules::cholesky_solve(&a, b).0,
            &|d, s| h.rhs(d, s),
        );
    }
    let rng = &mut rng(73);
    case(rng, Dyn(4), U1);
    case(rng, Dyn(3), Dyn(2));
    case(rng, Const::<3>, U1);
    case(rng, Const::<2>, Const::<3>);
}

/// A seed on the diagonal of `L` alone (a log-determinant's) takes the pullback's shortcut
/// (no product `Lᵀ·Ḡ`): against central differences of `Σᵢ dᵢ·Lᵢᵢ`, and equal to the general
/// path's result for the same seed with a zero below the diagonal made nonzero and back.
#[test]
fn cholesky_factor_with_a_diagonal_seed() {
    let rng = &mut rng(76);
    for n in [1, 3, 7] {
        let a = spd(rng, Dyn(n));
        let d: DVector<f64> = uniform(rng, (Dyn(n), U1));
        let (l, h) = rules::cholesky_l(&a);
        let seed = DMatrix::from_diagonal(&d);
        let mut got = None;
        h.arg(&mut got, Seed::Borrowed(&seed), Output(&l));
        let got = got.unwrap();
        let f = |x: &DMatrix<f64>| {
            let l = rules::cholesky_l(&sym(x)).0;
            (0..n).map(|i| d[i] * l[(i, i)]).sum::<f64>()
        };
        let numeric = numerical_gradient_with_step(&a, 1e-6, f);
        let err = relative_error(&got, &numeric);
        assert!(err < 1e-6, "n {n}: relative error {err:e}");
        // The general path: a seed with a tiny entry below the diagonal, whose contribution
        // is linear in it, so that the two agree to that entry's size.
        if n > 1 {
            let mut general = seed.clone();
            general[(n - 1, 0)] = 1e-300;
            let mut want = None;
            h.arg(&mut want, Seed::Borrowed(&general), Output(&l));
            assert_close(&format!("n {n}"), &got, &want.unwrap(), 1e-14);
        }
    }
}

/// `c.solve(&b)` on a named factorization `c` (given as its factor `L`): nalgebra's
/// `c.solve(&b)` bit for bit, and its pullbacks to `A` (direct, not through `L`) and to `b`.
#[test]
fn cholesky_factor_solve() {
    fn case<D: Dim, C: Dim>(rng: &mut Rng, d: D, c: C)
    where
        DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
    {
        let what = format!("c.solve {} {}", kind::<D, D>(), kind::<D, C>());
        let a = spd(rng, d);
        let b: OMatrix<f64, D, C> = uniform(rng, (d, c));
        let (l, _) = rules::cholesky_l(&a);
        let (x, h) = rules::cholesky_factor_solve(&a, &b, &l);
        let want = a.clone().cholesky().unwrap().solve(&b);
        assert_eq!(bits(&x), bits(&want), "{what}");
        let (g, _) = check_pullback(
            &format!("{what}, to a"),
            rng,
            &a,
            &|x| {
                let x = sym(x);
                let l = rules::cholesky_l(&x).0;
                rules::cholesky_factor_solve(&x, &b, &l).0
            },
            &|d, s| h.lhs(d, s, Output(&x), ConstRead(&l)),
        );
        assert_close(&format!("{what}: symmetric"), &g, &g.transpose(), 1e-15);
        check_pullback(
            &format!("{what}, to b"),
            rng,
            &b,
            &|b| rules::cholesky_factor_solve(&a, b, &l).0,
            &|d, s| h.rhs(d, s, ConstRead(&l)),
        );
    }
    let rng = &mut rng(74);
    case(rng, Dyn(4), U1);
    case(rng, Dyn(3), Dyn(2));
    case(rng, Dyn(1), U1);
    case(rng, Const::<3>, U1);
    case(rng, Const::<2>, Const::<3>);
}

#[test]
#[should_panic(expected = "cholesky().solve: the right-hand side has 2 rows, the matrix 3")]
fn cholesky_factor_solve_of_a_wrong_right_hand_side_panics() {
    let a = spd(&mut rng(75), Dyn(3));
    let (l, _) = rules::cholesky_l(&a);
    let _ = rules::cholesky_factor_solve(&a, &DVector::from_column_slice(&[1.0, 1.0]), &l);
}

#[test]
#[should_panic(expected = "cholesky: the matrix is not positive definite")]
fn cholesky_of_an_indefinite_matrix_panics() {
    let _ = rules::cholesky_l(&DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]));
}

#[test]
#[should_panic(expected = "the kernel must be positive definite")]
fn cholesky_solve_expect_panics_with_its_message() {
    let a = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
    let b = DVector::from_column_slice(&[1.0, 1.0]);
    let _ = rules::cholesky_solve_expect(&a, &b, "the kernel must be positive definite");
}

// --------------------------------------------------------------------------- Kronecker

#[test]
fn kronecker() {
    fn case<R1, C1, R2: Dim, C2: Dim>(rng: &mut Rng, sa: (R1, C1), sb: (R2, C2))
    where
        R1: Dim + nalgebra::DimMul<R2>,
        C1: Dim + nalgebra::DimMul<C2>,
        DefaultAllocator: Allocator<R1, C1>
            + Allocator<R2, C2>
            + Allocator<nalgebra::DimProd<R1, R2>, nalgebra::DimProd<C1, C2>>,
    {
        let what = format!("kronecker {} {}", kind::<R1, C1>(), kind::<R2, C2>());
        let a: OMatrix<f64, R1, C1> = uniform(rng, sa);
        let b: OMatrix<f64, R2, C2> = uniform(rng, sb);
        let (k, h) = rules::kronecker(&a, &b);
        assert_eq!(bits(&k), bits(&a.kronecker(&b)), "{what}");
        check_pullback(
            &format!("{what}, to a"),
            rng,
            &a,
            &|a| rules::kronecker(a, &b).0,
            &|d, s| h.lhs(d, s, Operand(&b)),
        );
        check_pullback(
            &format!("{what}, to b"),
            rng,
            &b,
            &|b| rules::kronecker(&a, b).0,
            &|d, s| h.rhs(d, s, Operand(&a)),
        );
    }
    let rng = &mut rng(75);
    case(rng, (Dyn(2), Dyn(3)), (Dyn(3), Dyn(2)));
    case(rng, (Dyn(3), U1), (Dyn(2), Dyn(2)));
    case(rng, (Dyn(1), Dyn(4)), (Dyn(2), U1));
    case(rng, (Const::<2>, Const::<2>), (Const::<2>, Const::<3>));
    case(rng, (Const::<3>, U1), (Const::<1>, Const::<2>));
}

#[test]
#[should_panic(expected = "kronecker: shapes (5, 6) and (6, 6) do not match")]
fn kronecker_seed_of_the_wrong_shape_panics() {
    let a = DMatrix::<f64>::zeros(2, 3);
    let b = DMatrix::<f64>::zeros(3, 2);
    let (_, h) = rules::kronecker(&a, &b);
    h.lhs(&mut None, Seed::Owned(DMatrix::zeros(5, 6)), Operand(&b));
}

// --------------------------------------------------------------------- ill-conditioned

/// The 4×4 Hilbert matrix, condition number about 1.6·10⁴ (symmetric positive definite).
fn hilbert() -> DMatrix<f64> {
    DMatrix::from_fn(4, 4, |i, j| 1.0 / (i + j + 1) as f64)
}

/// The relative step of the central differences on the ill-conditioned matrix.
const STEP: f64 = 1e-8;

/// `relative_error` of a pullback against central differences of `⟨u, f(x)⟩`.
fn against_differences<Y: autodiff_runtime::Value<Elem = f64>>(
    x: &DMatrix<f64>,
    u: &Y,
    g: &DMatrix<f64>,
    f: impl Fn(&DMatrix<f64>) -> Y,
) -> f64 {
    relative_error(
        g,
        &numerical_gradient_with_step(x, STEP, |x| inner(u, &f(x))),
    )
}

/// On an ill-conditioned matrix (`κ ≈ 1.6·10⁴`) the pullbacks keep their accuracy; central
/// differences are the weaker side. Their truncation error grows like `(‖A⁻¹‖·h)²`
/// (`‖A⁻¹‖ ≈ 10⁴`): about `10⁻³` at the default step, which would hide a wrong rule no
/// better than a loose tolerance. With the step `h = 10⁻⁸` (where rounding, `ε·|f|/h`, is
/// still small) every rule agrees to within `5·10⁻⁸`; the tolerance is `10⁻⁶`.
#[test]
fn ill_conditioned_matrices_within_a_documented_tolerance() {
    const ILL_TOL: f64 = 1e-6;
    let a = hilbert();
    let rng = &mut rng(77);
    let u: DMatrix<f64> = uniform(rng, (Dyn(4), Dyn(4)));
    let v: DVector<f64> = uniform(rng, (Dyn(4), U1));
    let b: DVector<f64> = uniform(rng, (Dyn(4), U1));

    let (_, h) = rules::determinant(&a);
    let mut g = None;
    h.arg(&mut g, Seed::Owned(1.0));
    let err = against_differences(&a, &1.0, &g.unwrap(), |a| rules::determinant(a).0);
    assert!(err <= ILL_TOL, "determinant: {err:e}");

    let (y, h) = rules::inverse(&a);
    let mut g = None;
    h.arg(&mut g, Seed::Borrowed(&u), Output(&y));
    let err = against_differences(&a, &u, &g.unwrap(), |a| rules::inverse(a).0);
    assert!(err <= ILL_TOL, "inverse: {err:e}");

    let (x, h) = rules::lu_solve(&a, &b);
    let (mut ga, mut gb) = (None, None);
    h.lhs(&mut ga, Seed::Borrowed(&v), Output(&x));
    h.rhs(&mut gb, Seed::Borrowed(&v));
    let err = against_differences(&a, &v, &ga.unwrap(), |a| rules::lu_solve(a, &b).0);
    assert!(err <= ILL_TOL, "lu().solve to a: {err:e}");
    let err = relative_error(
        &gb.unwrap(),
        &numerical_gradient_with_step(&b, STEP, |b| inner(&v, &rules::lu_solve(&a, b).0)),
    );
    assert!(err <= ILL_TOL, "lu().solve to b: {err:e}");

    let (l, h) = rules::cholesky_l(&a);
    let mut g = None;
    h.arg(&mut g, Seed::Borrowed(&u), Output(&l));
    let err = against_differences(&a, &u, &g.unwrap(), |x| rules::cholesky_l(&sym(x)).0);
    assert!(err <= ILL_TOL, "cholesky().l(): {err:e}");

    let (x, h) = rules::cholesky_solve(&a, &b);
    let mut g = None;
    h.lhs(&mut g, Seed::Borrowed(&v), Output(&x));
    let err = against_differences(&a, &v, &g.unwrap(), |x| {
        rules::cholesky_solve(&sym(x), &b).0
    });
    assert!(err <= ILL_TOL, "cholesky().solve to a: {err:e}");
}

// --------------------------------------------------------------------------------- f32

/// f32 values are nalgebra's own, bit for bit; f32 pullbacks agree with the f64 rules at the
/// same (f32-representable) point to about the f32 precision times the condition number.
#[test]
fn f32_values_and_pullbacks() {
    const F32_TOL: f64 = 2e-5;
    let rng = &mut rng(79);
    let a = well_conditioned(rng, Dyn(4)).map(|v| v as f32);
    let s = spd(rng, Dyn(4)).map(|v| v as f32);
    let b = uniform::<DVector<f64>>(rng, (Dyn(4), U1)).map(|v| v as f32);
    let small = SMatrix::<f32, 2, 2>::new(0.5, -1.0, 2.0, 0.25);
    let (a64, s64, b64) = (a.map(f64::from), s.map(f64::from), b.map(f64::from));
    let u = uniform::<DMatrix<f64>>(rng, (Dyn(4), Dyn(4))).map(|v| v as f32);
    let w = uniform::<DVector<f64>>(rng, (Dyn(4), U1)).map(|v| v as f32);
    let (u64_, w64) = (u.map(f64::from), w.map(f64::from));
    let close = |what: &str, got: &DMatrix<f32>, want: &DMatrix<f64>| {
        assert_close(what, &got.map(f64::from), want, F32_TOL);
    };

    let (y, h) = rules::determinant(&a);
    assert_eq!(y.to_bits(), a.determinant().to_bits());
    assert_eq!(
        rules::determinant(&small).0.to_bits(),
        small.determinant().to_bits()
    );
    let (_, h64) = rules::determinant(&a64);
    let (mut d, mut d64) = (None, None);
    h.arg(&mut d, Seed::Owned(1.0f32));
    h64.arg(&mut d64, Seed::Owned(1.0));
    close("determinant f32", &d.unwrap(), &d64.unwrap());

    let (y, h) = rules::inverse(&a);
    assert_eq!(y, a.clone().try_inverse().unwrap());
    let (y64, h64) = rules::inverse(&a64);
    let (mut d, mut d64) = (None, None);
    h.arg(&mut d, Seed::Borrowed(&u), Output(&y));
    h64.arg(&mut d64, Seed::Borrowed(&u64_), Output(&y64));
    close("inverse f32", &d.unwrap(), &d64.unwrap());

    let (x, h) = rules::lu_solve(&a, &b);
    assert_eq!(x, a.clone().lu().solve(&b).unwrap());
    let (x64, h64) = rules::lu_solve(&a64, &b64);
    let (mut d, mut d64) = (None, None);
    h.lhs(&mut d, Seed::Borrowed(&w), Output(&x));
    h64.lhs(&mut d64, Seed::Borrowed(&w64), Output(&x64));
    close("lu().solve f32", &d.unwrap(), &d64.unwrap());

    let (l, h) = rules::cholesky_l(&s);
    assert_eq!(l, s.clone().cholesky().unwrap().l());
    let (l64, h64) = rules::cholesky_l(&s64);
    let (mut d, mut d64) = (None, None);
    h.arg(&mut d, Seed::Borrowed(&u), Output(&l));
    h64.arg(&mut d64, Seed::Borrowed(&u64_), Output(&l64));
    close("cholesky().l() f32", &d.unwrap(), &d64.unwrap());

    let (x, h) = rules::cholesky_solve(&s, &b);
    assert_eq!(x, s.clone().cholesky().unwrap().solve(&b));
    let (x64, h64) = rules::cholesky_solve(&s64, &b64);
    let (mut d, mut d64) = (None, None);
    h.lhs(&mut d, Seed::Borrowed(&w), Output(&x));
    h64.lhs(&mut d64, Seed::Borrowed(&w64), Output(&x64));
    close("cholesky().solve f32", &d.unwrap(), &d64.unwrap());

    let (l, _) = rules::cholesky_l(&s);
    let (x, h) = rules::cholesky_factor_solve(&s, &b, &l);
    assert_eq!(x, s.clone().cholesky().unwrap().solve(&b));
    let (l64, _) = rules::cholesky_l(&s64);
    let (x64, h64) = rules::cholesky_factor_solve(&s64, &b64, &l64);
    let (mut d, mut d64) = (None, None);
    h.lhs(&mut d, Seed::Borrowed(&w), Output(&x), ConstRead(&l));
    h64.lhs(
        &mut d64,
        Seed::Borrowed(&w64),
        Output(&x64),
        ConstRead(&l64),
    );
    close("c.solve f32, to a", &d.unwrap(), &d64.unwrap());
    let (mut d, mut d64) = (None, None);
    h.rhs(&mut d, Seed::Borrowed(&w), ConstRead(&l));
    h64.rhs(&mut d64, Seed::Borrowed(&w64), ConstRead(&l64));
    let d = DMatrix::from_column_slice(4, 1, d.unwrap().as_slice());
    let d64 = DMatrix::from_column_slice(4, 1, d64.unwrap().as_slice());
    close("c.solve f32, to b", &d, &d64);

    let (k, h) = rules::kronecker(&a, &b);
    assert_eq!(k, a.kronecker(&b));
    let (_, h64) = rules::kronecker(&a64, &b64);
    let seed = k.map(|v| v * 0.5);
    let (mut d, mut d64) = (None, None);
    h.lhs(&mut d, Seed::Borrowed(&seed), Operand(&b));
    h64.lhs(&mut d64, Seed::Owned(seed.map(f64::from)), Operand(&b64));
    close("kronecker f32", &d.unwrap(), &d64.unwrap());
}

#[test]
fn static_shapes_have_static_results() {
    let a = SMatrix::<f64, 2, 2>::new(2.0, 1.0, 1.0, 3.0);
    let b = SVector::<f64, 2>::new(1.0, -1.0);
    let x: SVector<f64, 2> = rules::lu_solve(&a, &b).0;
    assert_eq!(x, a.lu().solve(&b).unwrap());
    let x: SVector<f64, 2> = rules::cholesky_solve(&a, &b).0;
    assert_eq!(x, a.cholesky().unwrap().solve(&b));
    let k: SMatrix<f64, 4, 2> = rules::kronecker(&a, &b).0;
    assert_eq!(k, a.kronecker(&b));
}
