//! Functions generic over their scalar (`T: RealField`): derived once, used at `f64` against
//! central differences and the dot-product test, and at `f32` against the `f64` gradient.
//!
//! At `f32` the sweeps run the same operations in single precision on the same inputs
//! rounded to `f32`, so the gradient differs from the `f64` one by rounding alone: about
//! `1e-7` relative (one or two `f32::EPSILON` ≈ 1.2e-7) for these functions.
//! [`F32_TOLERANCE`], `1e-5`, bounds it with room for sums of more terms, and still fails a
//! gradient that is wrong in any one element by more than a rounding.

mod common;

use autodiff::nalgebra;
use autodiff::prelude::*;
use common::check::{check, flat, inner, Draw};

/// The relative difference allowed between a gradient computed at `f32` and the same
/// gradient at `f64` (norm of the difference over norm of the `f64` gradient).
const F32_TOLERANCE: f64 = 1e-5;

/// `‖a − b‖ / ‖b‖` of a gradient at `f32` against the one at `f64`.
fn f32_error(got: &[f32], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let diff: f64 = got
        .iter()
        .zip(want)
        .map(|(g, w)| (f64::from(*g) - w).powi(2))
        .sum();
    let norm: f64 = want.iter().map(|w| w * w).sum();
    diff.sqrt() / norm.sqrt().max(1e-30)
}

#[track_caller]
fn assert_f32_close(name: &str, got: &[f32], want: &[f64]) {
    let error = f32_error(got, want);
    assert!(
        error <= F32_TOLERANCE,
        "{name}: f32 gradient {got:?} differs from f64 gradient {want:?} by {error:e}"
    );
}

fn to_f32(m: &DMatrix<f64>) -> DMatrix<f32> {
    m.map(|v| v as f32)
}

/// A scalar function with constants of `T` written each supported way.
#[differentiate]
fn scalar<T: RealField + Copy>(x: T, y: T) -> T {
    let half: T = nalgebra::convert(0.5);
    let two = T::from_f64(2.0).unwrap();
    let s = x * y + half * x.sin() - (y / two).exp();
    s * s + T::one() - T::zero() * x
}

#[test]
fn scalar_gradient_at_f64() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let (x, y) = (d.scalar(), d.scalar());
        let (value, g) = scalar_grad(x, y);
        assert_eq!(value, scalar(x, y));
        check("scalar", &d.theta, &[g.x, g.y], |r| {
            scalar(r.scalar(), r.scalar())
        });
    }
}

#[test]
fn scalar_gradient_at_f32() {
    let (x, y) = (0.7_f64, -1.3_f64);
    let (_, want) = scalar_grad(x, y);
    let (value, got) = scalar_grad(x as f32, y as f32);
    assert_eq!(value, scalar(x as f32, y as f32));
    assert_f32_close("scalar", &[got.x, got.y], &[want.x, want.y]);
}

/// `T: RealField` without `Copy`, bound in a `where` clause: the body clones what it reads
/// twice, as the primal must.
#[differentiate]
fn without_copy<T>(x: T, w: &DVector<T>) -> T
where
    T: RealField,
{
    let scaled = w * x.clone();
    scaled.norm_squared() * x.clone() + x.sin()
}

#[test]
fn without_copy_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let x = d.scalar();
        let w = DVector::from_column_slice(d.matrix(3, 1).as_slice());
        let (value, g) = without_copy_grad(x, &w);
        assert_eq!(value, without_copy(x, &w));
        check(
            "without_copy",
            &d.theta,
            &flat(&[&[g.x], g.w.as_slice()]),
            |r| {
                let x = r.scalar();
                let w = DVector::from_column_slice(r.matrix(3, 1).as_slice());
                without_copy(x, &w)
            },
        );
        let wf = w.map(|v| v as f32);
        let (_, gf) = without_copy_grad(x as f32, &wf);
        assert_f32_close(
            "without_copy",
            &flat32(&[&[gf.x], gf.w.as_slice()]),
            &flat(&[&[g.x], g.w.as_slice()]),
        );
    }
}

fn flat32(parts: &[&[f32]]) -> Vec<f32> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// One dense layer, generic, called by the net below with its scalar named (`dense::<T>`)
/// and inferred (`dense(..)`). Its body calls a free function (`add_bias`), written for
/// `f32` and `f64`: the bound is `RealScalar`.
#[differentiate]
fn dense<T: RealScalar>(x: &DMatrix<T>, w: &DMatrix<T>, b: &RowDVector<T>) -> DMatrix<T> {
    add_bias(x * w, b)
}

/// The lecture's two-layer net, generic: sigmoid hidden layer, squared error, an L2 penalty
/// whose weight is a constant of `T`.
#[differentiate(wrt(w1, b1, w2, b2))]
fn two_layer<T: RealScalar>(
    x: &DMatrix<T>,
    y: &DMatrix<T>,
    w1: &DMatrix<T>,
    b1: &RowDVector<T>,
    w2: &DMatrix<T>,
    b2: &RowDVector<T>,
) -> T {
    let h = sigmoid(dense::<T>(x, w1, b1));
    let y_pred = dense(&h, w2, b2);
    let reg: T = nalgebra::convert(0.01);
    (y_pred - y).norm_squared() + reg * (w1.norm_squared() + w2.norm_squared())
}

/// The same net with `RealField` alone: the logistic function written in a `map` closure
/// with constants of `T`, no biases.
#[differentiate(wrt(w1, w2))]
fn two_layer_real_field<T: RealField + Copy>(
    x: &DMatrix<T>,
    y: &DMatrix<T>,
    w1: &DMatrix<T>,
    w2: &DMatrix<T>,
) -> T {
    let h = (x * w1).map(|v| T::one() / (T::one() + (-v).exp()));
    let y_pred = &h * w2;
    (y_pred - y).norm_squared() / T::from_usize(x.nrows()).unwrap()
}

#[test]
fn two_layer_real_field_gradient() {
    let Net { x, y } = net();
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let (w1, w2) = (d.matrix(3, 4), d.matrix(4, 2));
        let (value, g) = two_layer_real_field_grad(&x, &y, &w1, &w2);
        assert_eq!(value, two_layer_real_field(&x, &y, &w1, &w2));
        let derived = flat(&[g.w1.as_slice(), g.w2.as_slice()]);
        check("two_layer_real_field", &d.theta, &derived, |r| {
            let (w1, w2) = (r.matrix(3, 4), r.matrix(4, 2));
            two_layer_real_field(&x, &y, &w1, &w2)
        });
        let (xf, yf, w1f, w2f) = (to_f32(&x), to_f32(&y), to_f32(&w1), to_f32(&w2));
        let (_, gf) = two_layer_real_field_grad(&xf, &yf, &w1f, &w2f);
        let derived_f = flat32(&[gf.w1.as_slice(), gf.w2.as_slice()]);
        assert_f32_close("two_layer_real_field", &derived_f, &derived);
    }
}

struct Net {
    x: DMatrix<f64>,
    y: DMatrix<f64>,
}

fn net() -> Net {
    let mut d = Draw::new(99);
    Net {
        x: d.matrix(5, 3),
        y: d.matrix(5, 2),
    }
}

#[test]
fn two_layer_gradient() {
    let Net { x, y } = net();
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let (w1, b1, w2, b2) = (d.matrix(3, 4), d.row(4), d.matrix(4, 2), d.row(2));
        let (value, g) = two_layer_grad(&x, &y, &w1, &b1, &w2, &b2);
        assert_eq!(value, two_layer(&x, &y, &w1, &b1, &w2, &b2));
        let derived = flat(&[
            g.w1.as_slice(),
            g.b1.as_slice(),
            g.w2.as_slice(),
            g.b2.as_slice(),
        ]);
        check("two_layer", &d.theta, &derived, |r| {
            let (w1, b1, w2, b2) = (r.matrix(3, 4), r.row(4), r.matrix(4, 2), r.row(2));
            two_layer(&x, &y, &w1, &b1, &w2, &b2)
        });

        let (xf, yf, w1f, w2f) = (to_f32(&x), to_f32(&y), to_f32(&w1), to_f32(&w2));
        let (b1f, b2f) = (b1.map(|v| v as f32), b2.map(|v| v as f32));
        let (value_f, gf) = two_layer_grad(&xf, &yf, &w1f, &b1f, &w2f, &b2f);
        assert_eq!(value_f, two_layer(&xf, &yf, &w1f, &b1f, &w2f, &b2f));
        let derived_f = flat32(&[
            gf.w1.as_slice(),
            gf.b1.as_slice(),
            gf.w2.as_slice(),
            gf.b2.as_slice(),
        ]);
        assert_f32_close("two_layer", &derived_f, &derived);
    }
}

/// A matrix result: the vector-Jacobian product of the generic layer, checked through
/// ⟨u, f(θ)⟩ at `f64` and against `f64` at `f32`.
#[test]
fn dense_layer_vjp() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let (x, w, b) = (d.matrix(4, 3), d.matrix(3, 2), d.row(2));
        let u = d.seed_matrix(4, 2);
        let (value, g) = dense_vjp(&x, &w, &b, u.clone());
        assert_eq!(value, dense(&x, &w, &b));
        let derived = flat(&[g.x.as_slice(), g.w.as_slice(), g.b.as_slice()]);
        check("dense", &d.theta, &derived, |r| {
            let (x, w, b) = (r.matrix(4, 3), r.matrix(3, 2), r.row(2));
            inner(&u, &dense(&x, &w, &b))
        });
        let (_, gf) = dense_vjp(&to_f32(&x), &to_f32(&w), &b.map(|v| v as f32), to_f32(&u));
        let derived_f = flat32(&[gf.x.as_slice(), gf.w.as_slice(), gf.b.as_slice()]);
        assert_f32_close("dense", &derived_f, &derived);
    }
}

/// A loop carrying a scalar and a matrix, `map` closures capturing a differentiable scalar,
/// `if` on values, and a static matrix.
#[differentiate]
fn recurrence<T: RealField + Copy>(
    h0: &SMatrix<T, 2, 1>,
    w: &SMatrix<T, 2, 2>,
    s: T,
    steps: usize,
) -> T {
    let mut h = *h0;
    let mut total = T::zero();
    for _ in 0..steps {
        h = (w * h).map(|v| v.tanh() * s);
        let e = h.norm_squared();
        if e > T::one() {
            total += e.sqrt();
        } else {
            total += e;
        }
    }
    total
}

#[test]
fn recurrence_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let h0 = SMatrix::<f64, 2, 1>::from_column_slice(d.matrix(2, 1).as_slice());
        let w = SMatrix::<f64, 2, 2>::from_column_slice(d.matrix(2, 2).as_slice());
        let s = d.scalar();
        let (value, g) = recurrence_grad(&h0, &w, s, 4);
        assert_eq!(value, recurrence(&h0, &w, s, 4));
        let derived = flat(&[g.h0.as_slice(), g.w.as_slice(), &[g.s]]);
        check("recurrence", &d.theta, &derived, |r| {
            let h0 = SMatrix::<f64, 2, 1>::from_column_slice(r.matrix(2, 1).as_slice());
            let w = SMatrix::<f64, 2, 2>::from_column_slice(r.matrix(2, 2).as_slice());
            recurrence(&h0, &w, r.scalar(), 4)
        });
        let (_, gf) = recurrence_grad(&h0.map(|v| v as f32), &w.map(|v| v as f32), s as f32, 4);
        let derived_f = flat32(&[gf.h0.as_slice(), gf.w.as_slice(), &[gf.s]]);
        assert_f32_close("recurrence", &derived_f, &derived);
    }
}

/// A generic function called from one written for `f64`: the scalar is inferred.
#[differentiate]
fn concrete_caller(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> f64 {
    let y = dense(x, w, b);
    y.map(|v| v * v).sum()
}

#[test]
fn concrete_caller_gradient() {
    let mut d = Draw::new(5);
    let (x, w, b) = (d.matrix(3, 2), d.matrix(2, 2), d.row(2));
    let (value, g) = concrete_caller_grad(&x, &w, &b);
    assert_eq!(value, concrete_caller(&x, &w, &b));
    let derived = flat(&[g.x.as_slice(), g.w.as_slice(), g.b.as_slice()]);
    check("concrete_caller", &d.theta, &derived, |r| {
        let (x, w, b) = (r.matrix(3, 2), r.matrix(2, 2), r.row(2));
        concrete_caller(&x, &w, &b)
    });
}

/// `NAME_fwd` then `NAME_bwd` gives what `NAME_vjp` gives, at both scalar types.
#[test]
fn split_sweeps_match_vjp() {
    let Net { x, y } = net();
    let mut d = Draw::new(3);
    let (w1, b1, w2, b2) = (d.matrix(3, 4), d.row(4), d.matrix(4, 2), d.row(2));
    let (value, tape) = two_layer_fwd(&x, &y, &w1, &b1, &w2, &b2);
    let split = two_layer_bwd(tape, 0.5);
    let (joint_value, joint) = two_layer_vjp(&x, &y, &w1, &b1, &w2, &b2, 0.5);
    assert_eq!((value, &split), (joint_value, &joint));
    let (_, tape) = scalar_fwd(0.3_f32, 0.9_f32);
    let split = scalar_bwd(tape, 2.0_f32);
    let (_, joint) = scalar_vjp(0.3_f32, 0.9_f32, 2.0_f32);
    assert_eq!(split, joint);
}

/// A rule of the user's own, generic like its function: `softplus(x) = ln(1 + eˣ)`, whose
/// derivative is the logistic function.
#[differentiate(vjp = softplus_rule)]
fn softplus<T: RealField + Copy>(x: T) -> T {
    (T::one() + x.exp()).ln()
}

fn softplus_rule<T: RealScalar>(x: T, _value: &T, seed: T) -> SoftplusGrad<T> {
    SoftplusGrad {
        x: seed / (T::one() + (-x).exp()),
    }
}

/// A slice of weights of `T` (its gradient a `Vec`), and a call of the rule above.
#[differentiate(wrt(ws))]
fn layered<T: RealField + Copy>(x: &DVector<T>, ws: &[DMatrix<T>]) -> T {
    let mut h = x.clone();
    for w in ws.iter() {
        h = (w * h).map(|v| softplus::<T>(v));
    }
    h.sum()
}

#[test]
fn rule_and_collection_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let x = DVector::from_column_slice(d.seed_matrix(3, 1).as_slice());
        let ws = vec![d.matrix(2, 3), d.matrix(2, 2)];
        let (value, g) = layered_grad(&x, &ws);
        assert_eq!(value, layered(&x, &ws));
        let derived = flat(&[g.ws[0].as_slice(), g.ws[1].as_slice()]);
        check("layered", &d.theta, &derived, |r| {
            layered(&x, &[r.matrix(2, 3), r.matrix(2, 2)])
        });
        let wsf: Vec<DMatrix<f32>> = ws.iter().map(to_f32).collect();
        let (_, gf) = layered_grad(&x.map(|v| v as f32), &wsf);
        let derived_f = flat32(&[gf.ws[0].as_slice(), gf.ws[1].as_slice()]);
        assert_f32_close("layered", &derived_f, &derived);
    }
}

/// Parts of values and linear algebra at `T`: elements read and written, a row, a `while`
/// loop with `break`, a determinant and an inverse.
#[differentiate]
fn parts<T: RealField + Copy>(a: &DMatrix<T>, v: &DVector<T>) -> T {
    let mut y = DVector::zeros(v.len());
    y[0] = v[0] * a[(0, 0)];
    for i in 1..v.len() {
        y[i] = y[i - 1] * v[i] + a[(i % a.nrows(), 0)];
    }
    let mut s = y.sum();
    let mut k = 0;
    while k < 3 {
        s *= a.row(0).sum();
        k += 1;
        if s.abs() > T::from_f64(10.0).unwrap() {
            break;
        }
    }
    let inverse = a.clone().try_inverse().unwrap();
    s + a.determinant() + inverse.trace()
}

#[test]
fn parts_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let a = d.matrix(2, 2) + DMatrix::identity(2, 2) * 2.0;
        let v = DVector::from_column_slice(d.matrix(3, 1).as_slice());
        // θ holds the drawn values; the identity added to `a` is a constant shift.
        let (value, g) = parts_grad(&a, &v);
        assert_eq!(value, parts(&a, &v));
        let derived = flat(&[g.a.as_slice(), g.v.as_slice()]);
        check("parts", &d.theta, &derived, |r| {
            let a = r.matrix(2, 2) + DMatrix::identity(2, 2) * 2.0;
            let v = DVector::from_column_slice(r.matrix(3, 1).as_slice());
            parts(&a, &v)
        });
        let (_, gf) = parts_grad(&to_f32(&a), &v.map(|x| x as f32));
        let derived_f = flat32(&[gf.a.as_slice(), gf.v.as_slice()]);
        assert_f32_close("parts", &derived_f, &derived);
    }
}

/// A `#[derive(Parameters)]` struct generic over its scalar, with a scalar field, a `Vec` of
/// weights and a skipped constant.
#[derive(Parameters, Clone, Debug, PartialEq)]
struct Model<T: RealField + Copy> {
    w: DMatrix<T>,
    layers: Vec<DMatrix<T>>,
    s: T,
    #[parameters(skip)]
    name: String,
}

/// A loss that reads the struct's fields, and a scalar of `T` by value.
#[differentiate(wrt(p, scale))]
fn model_loss<T: RealField + Copy>(p: &Model<T>, x: &DMatrix<T>, scale: T) -> T {
    let mut h = (x * &p.w).map(|v| v.tanh());
    for i in 0..p.layers.len() {
        h = &h * &p.layers[i];
    }
    h.norm_squared() * p.s * scale
}

fn draw_model(d: &mut Draw) -> Model<f64> {
    Model {
        w: d.matrix(3, 2),
        layers: vec![d.matrix(2, 2), d.matrix(2, 1)],
        s: d.scalar(),
        name: "net".to_string(),
    }
}

fn read_model(r: &mut common::check::Read) -> Model<f64> {
    Model {
        w: r.matrix(3, 2),
        layers: vec![r.matrix(2, 2), r.matrix(2, 1)],
        s: r.scalar(),
        name: "net".to_string(),
    }
}

fn model_f32(m: &Model<f64>) -> Model<f32> {
    Model {
        w: to_f32(&m.w),
        layers: m.layers.iter().map(to_f32).collect(),
        s: m.s as f32,
        name: m.name.clone(),
    }
}

#[test]
fn structured_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let p = draw_model(&mut d);
        let scale = d.scalar();
        let x = d.seed_matrix(4, 3);
        let (value, g) = model_loss_grad(&p, &x, scale);
        assert_eq!(value, model_loss(&p, &x, scale));
        assert_eq!(g.p.name, "net");
        let derived = flat(&[
            g.p.w.as_slice(),
            g.p.layers[0].as_slice(),
            g.p.layers[1].as_slice(),
            &[g.p.s, g.scale],
        ]);
        check("model_loss", &d.theta, &derived, |r| {
            let p = read_model(r);
            model_loss(&p, &x, r.scalar())
        });
        let (_, gf) = model_loss_grad(&model_f32(&p), &to_f32(&x), scale as f32);
        let derived_f = flat32(&[
            gf.p.w.as_slice(),
            gf.p.layers[0].as_slice(),
            gf.p.layers[1].as_slice(),
            &[gf.p.s, gf.scale],
        ]);
        assert_f32_close("model_loss", &derived_f, &derived);
    }
}

/// A generic `Parameters` struct at `f32` is a `Parameters` like any other: Adam trains it
/// with the gradient of the generic loss.
#[test]
fn structured_training_at_f32() {
    use autodiff::optim::{Adam, Optimizer};
    let mut d = Draw::new(11);
    let mut p = model_f32(&draw_model(&mut d));
    p.s = 1.0;
    let x = to_f32(&d.seed_matrix(4, 3));
    let scale = 1.0_f32;
    let start = model_loss(&p, &x, scale);
    assert!(start > 0.0);
    let mut adam = Adam::new(0.01);
    for _ in 0..50 {
        let (_, g) = model_loss_grad(&p, &x, scale);
        adam.update(&mut p, &g.p);
    }
    let end = model_loss(&p, &x, scale);
    assert!(
        end < 0.5 * start,
        "Adam did not bring the loss from {start} towards its minimum: {end}"
    );
    assert_eq!(p.name, "net");
}
