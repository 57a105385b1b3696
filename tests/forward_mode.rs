//! Forward mode and second order (`#[differentiate(jvp)]`, `#[differentiate(hvp)]`), each
//! function checked at a random point away from kinks:
//!
//! - `NAME_jvp`: its value is the function's; its directional derivative along a random v
//!   matches central differences of the function along v, and ⟨u, J v⟩ matches ⟨Jᵀu, v⟩
//!   from `NAME_vjp` (the dot-product identity, from both sides);
//! - `NAME_hvp`: its value and gradient are `NAME_grad`'s; `H·v` matches central differences
//!   of the gradient along v; and ⟨u, H v⟩ = ⟨v, H u⟩ (symmetry).

mod common;

use autodiff::prelude::*;
use common::check::{Draw, Read};

/// Central differences of the function along v, relative error allowed.
const FD_TOLERANCE: f64 = 1e-6;
/// Identities that hold up to rounding (jvp against vjp, symmetry).
const EXACT_TOLERANCE: f64 = 1e-9;

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn along(theta: &[f64], v: &[f64], t: f64) -> Vec<f64> {
    theta.iter().zip(v).map(|(a, b)| a + t * b).collect()
}

/// `jvp(θ, v) = (f, ∇f·v)`.
type Jvp<'a> = &'a dyn Fn(&[f64], &[f64]) -> (f64, f64);
/// `grad(θ) = (f, ∇f)`.
type Grad<'a> = &'a dyn Fn(&[f64]) -> (f64, Vec<f64>);
/// `hvp(θ, v) = (f, ∇f, H·v)`.
type Hvp<'a> = &'a dyn Fn(&[f64], &[f64]) -> (f64, Vec<f64>, Vec<f64>);

/// A function of θ with `jvp` and `hvp`, each adapted to flat vectors.
struct Scalar<'a> {
    name: &'a str,
    theta: Vec<f64>,
    f: &'a dyn Fn(&[f64]) -> f64,
    jvp: Jvp<'a>,
    grad: Grad<'a>,
    hvp: Hvp<'a>,
}

impl Scalar<'_> {
    #[track_caller]
    fn check(&self) {
        let n = self.theta.len();
        let mut draw = Draw::new(n as u64 + 11);
        let v = draw.direction(n);
        let u = draw.direction(n);
        let name = self.name;
        let theta = &self.theta;

        let (value, derivative) = (self.jvp)(theta, &v);
        assert_eq!(value, (self.f)(theta), "{name}: jvp's value");
        let h = 1e-5;
        let fd = ((self.f)(&along(theta, &v, h)) - (self.f)(&along(theta, &v, -h))) / (2.0 * h);
        let e = relative(derivative, fd);
        assert!(
            e < FD_TOLERANCE,
            "{name}: jvp {derivative} against central differences {fd} ({e:e})"
        );
        let (g_value, gradient) = (self.grad)(theta);
        let e = relative(derivative, dot(&gradient, &v));
        assert!(
            e < EXACT_TOLERANCE,
            "{name}: ⟨∇f, v⟩ from jvp {derivative} and from the gradient {} ({e:e})",
            dot(&gradient, &v)
        );

        let (h_value, h_gradient, hv) = (self.hvp)(theta, &v);
        assert_eq!(h_value.to_bits(), g_value.to_bits(), "{name}: hvp's value");
        for (a, b) in h_gradient.iter().zip(&gradient) {
            assert!(
                relative(*a, *b) < 1e-12,
                "{name}: hvp's gradient {h_gradient:?} against {gradient:?}"
            );
        }
        let plus = (self.grad)(&along(theta, &v, h)).1;
        let minus = (self.grad)(&along(theta, &v, -h)).1;
        let fd: Vec<f64> = plus
            .iter()
            .zip(&minus)
            .map(|(p, m)| (p - m) / (2.0 * h))
            .collect();
        let scale = fd.iter().chain(&hv).fold(1e-12f64, |m, x| m.max(x.abs()));
        for (i, (a, b)) in hv.iter().zip(&fd).enumerate() {
            assert!((a - b).abs() / scale < 1e-5, "{name}: (H·v)[{i}] = {a} against central differences of the gradient {b}\n H·v {hv:?}\n fd {fd:?}");
        }
        let hu = (self.hvp)(theta, &u).2;
        let e = relative(dot(&u, &hv), dot(&v, &hu));
        assert!(
            e < EXACT_TOLERANCE,
            "{name}: ⟨u, Hv⟩ = {} but ⟨v, Hu⟩ = {} ({e:e})",
            dot(&u, &hv),
            dot(&v, &hu)
        );
    }
}

fn flat(parts: &[&[f64]]) -> Vec<f64> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

// ------------------------------------------------------------------------- scalars

#[differentiate(jvp, hvp)]
fn scalars(x: f64, y: f64, z: f64) -> f64 {
    let q = x + y;
    let a = (q * z).tanh() + x * x * y - z / y;
    let b = x.sin() * y.cos() + (x * x + 1.0).ln() + (y * y + 2.0).sqrt();
    let c = x.powi(3) - y.recip() + z.abs() * x.exp() + x.max(z) * y.min(z);
    a * b + c + z.powf(x * x)
}

#[test]
fn scalar_rules() {
    let mut d = Draw::new(1);
    let (x, y) = (d.scalar(), d.scalar());
    let z = d.positive_scalar();
    let read = |t: &[f64]| (t[0], t[1], t[2]);
    Scalar {
        name: "scalars",
        theta: vec![x, y, z],
        f: &|t| {
            let (x, y, z) = read(t);
            scalars(x, y, z)
        },
        jvp: &|t, v| {
            let (x, y, z) = read(t);
            scalars_jvp(
                x,
                y,
                z,
                ScalarsGrad {
                    x: v[0],
                    y: v[1],
                    z: v[2],
                },
            )
        },
        grad: &|t| {
            let (x, y, z) = read(t);
            let (f, g) = scalars_grad(x, y, z);
            (f, vec![g.x, g.y, g.z])
        },
        hvp: &|t, v| {
            let (x, y, z) = read(t);
            let (f, g, h) = scalars_hvp(
                x,
                y,
                z,
                ScalarsGrad {
                    x: v[0],
                    y: v[1],
                    z: v[2],
                },
            );
            (f, vec![g.x, g.y, g.z], vec![h.x, h.y, h.z])
        },
    }
    .check();
}

// ------------------------------------------------------------------------- matrices

/// The lecture's two-layer net: sigmoid, sum of squares.
#[differentiate(wrt(w1, w2), jvp, hvp)]
fn two_layer(w1: &DMatrix<f64>, w2: &DMatrix<f64>, x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let h = sigmoid(x * w1);
    let y_pred = &h * w2;
    (y_pred - y).norm_squared()
}

/// Two layers with biases, relu, softmax cross-entropy and an L2 penalty.
#[differentiate(wrt(w1, b1, w2, b2), jvp, hvp)]
fn classifier(
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    x: &DMatrix<f64>,
    labels: &[usize],
    lambda: f64,
) -> f64 {
    let h = relu(add_bias(x * w1, b1));
    let scores = add_bias(&h * w2, b2);
    softmax_cross_entropy(&scores, labels) + 0.5 * lambda * (w1.norm_squared() + w2.norm_squared())
}

/// The other activations and the hinge loss.
#[differentiate(wrt(w1, w2), jvp, hvp)]
fn activations(w1: &DMatrix<f64>, w2: &DMatrix<f64>, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let a = x * w1;
    let h = tanh(&a) + elu(&a, 0.7) + leaky_relu(&a, 0.1) + maxout(&a, &(&a * 0.5));
    let scores = &h * w2;
    svm_loss(&scores, labels) + softmax(&scores).sum() * log_softmax(&scores).mean()
}

/// Elementwise and linear-algebra methods.
#[differentiate(jvp, hvp)]
fn methods(a: &DMatrix<f64>, b: &DMatrix<f64>, s: f64) -> f64 {
    let c = a.component_mul(b).component_div(&b.map(|v| v * v + 1.0));
    let d = a.transpose() * b + a.scale(s).transpose() * b.add_scalar(s);
    let square = d.transpose() * &d + DMatrix::identity(3, 3) * 10.0;
    let inv = square.clone().try_inverse().unwrap();
    let solved = square.clone().lu().solve(&b.transpose()).unwrap();
    c.sum()
        + d.norm()
        + inv.trace()
        + square.determinant().ln()
        + solved.mean()
        + a.dot(b) * s
        + c.row_sum().sum()
        + c.column_mean().norm_squared()
        + c.map(|v| (v * s).sin() + v * v).sum()
        + c.max() * 2.0
        - c.min()
        + (a.transpose() * a * 0.1).exp().trace()
}

/// A Cholesky factorization named once and solved with: the factor's own tangent is not
/// needed.
#[differentiate(wrt(a, b), jvp, hvp)]
fn gaussian(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let k = a * a.transpose() + DMatrix::identity(3, 3);
    let c = k.cholesky().unwrap();
    let alpha = c.solve(b);
    b.dot(&alpha) + c.l().norm_squared() + c.l().trace()
}

#[test]
fn named_cholesky_solve() {
    let mut d = Draw::new(8);
    let _ = (d.matrix(3, 3), d.matrix(3, 2));
    let theta = d.theta.clone();
    let read = |t: &[f64]| {
        let mut r = Read::new(t);
        (r.matrix(3, 3), r.matrix(3, 2))
    };
    let grad_of = |v: &[f64]| {
        let (a, b) = read(v);
        GaussianGrad { a, b }
    };
    let flatten = |g: &GaussianGrad| flat(&[g.a.as_slice(), g.b.as_slice()]);
    Scalar {
        name: "gaussian",
        theta,
        f: &|t| {
            let (a, b) = read(t);
            gaussian(&a, &b)
        },
        jvp: &|t, v| {
            let (a, b) = read(t);
            gaussian_jvp(&a, &b, grad_of(v))
        },
        grad: &|t| {
            let (a, b) = read(t);
            let (f, g) = gaussian_grad(&a, &b);
            (f, flatten(&g))
        },
        hvp: &|t, v| {
            let (a, b) = read(t);
            let (f, g, h) = gaussian_hvp(&a, &b, grad_of(v));
            (f, flatten(&g), flatten(&h))
        },
    }
    .check();
}

/// Branches and loops.
#[differentiate(wrt(w, s), jvp, hvp)]
fn control(w: &DMatrix<f64>, s: f64, xs: &[DMatrix<f64>], n: usize) -> f64 {
    let mut h = w.rows(0, 2).map(|v| v * 0.5);
    let mut total = 0.0;
    for x in xs.iter() {
        h = tanh(&h * w + x * s);
        let r = h.sum();
        total += if r > 0.0 { r * s } else { r.powi(2) };
    }
    let mut k = 0;
    let mut p = s;
    while k < n {
        p = p * s + 0.5;
        k += 1;
        if p > 100.0 {
            break;
        }
    }
    total + p + h.norm_squared()
}

fn read_matrices(t: &[f64], shapes: &[(usize, usize)]) -> Vec<DMatrix<f64>> {
    let mut r = Read::new(t);
    shapes
        .iter()
        .map(|&(rows, cols)| r.matrix(rows, cols))
        .collect()
}

#[test]
fn two_layer_net() {
    let mut d = Draw::new(2);
    let (w1, w2) = (d.matrix(5, 4), d.matrix(4, 3));
    let theta = d.theta.clone();
    let x = d.seed_matrix(6, 5);
    let y = d.seed_matrix(6, 3);
    let shapes = [(5, 4), (4, 3)];
    let m = |t: &[f64]| read_matrices(t, &shapes);
    let _ = (w1, w2);
    Scalar {
        name: "two_layer",
        theta,
        f: &|t| {
            let w = m(t);
            two_layer(&w[0], &w[1], &x, &y)
        },
        jvp: &|t, v| {
            let (w, v) = (m(t), m(v));
            let tangent = TwoLayerGrad {
                w1: v[0].clone(),
                w2: v[1].clone(),
            };
            two_layer_jvp(&w[0], &w[1], &x, &y, tangent)
        },
        grad: &|t| {
            let w = m(t);
            let (f, g) = two_layer_grad(&w[0], &w[1], &x, &y);
            (f, flat(&[g.w1.as_slice(), g.w2.as_slice()]))
        },
        hvp: &|t, v| {
            let (w, v) = (m(t), m(v));
            let tangent = TwoLayerGrad {
                w1: v[0].clone(),
                w2: v[1].clone(),
            };
            let (f, g, h) = two_layer_hvp(&w[0], &w[1], &x, &y, tangent);
            (
                f,
                flat(&[g.w1.as_slice(), g.w2.as_slice()]),
                flat(&[h.w1.as_slice(), h.w2.as_slice()]),
            )
        },
    }
    .check();
}

#[test]
fn classifier_with_penalty() {
    let mut d = Draw::new(3);
    let _ = (d.matrix(4, 5), d.row(5), d.matrix(5, 3), d.row(3));
    let theta = d.theta.clone();
    let x = d.seed_matrix(7, 4);
    let labels = [0, 2, 1, 1, 0, 2, 2];
    let read = |t: &[f64]| {
        let mut r = Read::new(t);
        (r.matrix(4, 5), r.row(5), r.matrix(5, 3), r.row(3))
    };
    let grad_of = |v: &[f64]| {
        let (w1, b1, w2, b2) = read(v);
        ClassifierGrad { w1, b1, w2, b2 }
    };
    let flatten = |g: &ClassifierGrad| {
        flat(&[
            g.w1.as_slice(),
            g.b1.as_slice(),
            g.w2.as_slice(),
            g.b2.as_slice(),
        ])
    };
    Scalar {
        name: "classifier",
        theta,
        f: &|t| {
            let (w1, b1, w2, b2) = read(t);
            classifier(&w1, &b1, &w2, &b2, &x, &labels, 0.3)
        },
        jvp: &|t, v| {
            let (w1, b1, w2, b2) = read(t);
            classifier_jvp(&w1, &b1, &w2, &b2, &x, &labels, 0.3, grad_of(v))
        },
        grad: &|t| {
            let (w1, b1, w2, b2) = read(t);
            let (f, g) = classifier_grad(&w1, &b1, &w2, &b2, &x, &labels, 0.3);
            (f, flatten(&g))
        },
        hvp: &|t, v| {
            let (w1, b1, w2, b2) = read(t);
            let (f, g, h) = classifier_hvp(&w1, &b1, &w2, &b2, &x, &labels, 0.3, grad_of(v));
            (f, flatten(&g), flatten(&h))
        },
    }
    .check();
}

#[test]
fn activations_and_hinge() {
    let mut d = Draw::new(4);
    let _ = (d.matrix(4, 5), d.matrix(5, 3));
    let theta = d.theta.clone();
    let x = d.seed_matrix(6, 4);
    let labels = [0, 2, 1, 1, 0, 2];
    let shapes = [(4, 5), (5, 3)];
    let m = |t: &[f64]| read_matrices(t, &shapes);
    Scalar {
        name: "activations",
        theta,
        f: &|t| {
            let w = m(t);
            activations(&w[0], &w[1], &x, &labels)
        },
        jvp: &|t, v| {
            let (w, v) = (m(t), m(v));
            activations_jvp(
                &w[0],
                &w[1],
                &x,
                &labels,
                ActivationsGrad {
                    w1: v[0].clone(),
                    w2: v[1].clone(),
                },
            )
        },
        grad: &|t| {
            let w = m(t);
            let (f, g) = activations_grad(&w[0], &w[1], &x, &labels);
            (f, flat(&[g.w1.as_slice(), g.w2.as_slice()]))
        },
        hvp: &|t, v| {
            let (w, v) = (m(t), m(v));
            let (f, g, h) = activations_hvp(
                &w[0],
                &w[1],
                &x,
                &labels,
                ActivationsGrad {
                    w1: v[0].clone(),
                    w2: v[1].clone(),
                },
            );
            (
                f,
                flat(&[g.w1.as_slice(), g.w2.as_slice()]),
                flat(&[h.w1.as_slice(), h.w2.as_slice()]),
            )
        },
    }
    .check();
}

#[test]
fn methods_and_linear_algebra() {
    let mut d = Draw::new(5);
    let _ = (d.matrix(4, 3), d.matrix(4, 3), d.scalar());
    let theta = d.theta.clone();
    let read = |t: &[f64]| {
        let mut r = Read::new(t);
        (r.matrix(4, 3), r.matrix(4, 3), r.scalar())
    };
    let grad_of = |v: &[f64]| {
        let (a, b, s) = read(v);
        MethodsGrad { a, b, s }
    };
    let flatten = |g: &MethodsGrad| flat(&[g.a.as_slice(), g.b.as_slice(), &[g.s]]);
    Scalar {
        name: "methods",
        theta,
        f: &|t| {
            let (a, b, s) = read(t);
            methods(&a, &b, s)
        },
        jvp: &|t, v| {
            let (a, b, s) = read(t);
            methods_jvp(&a, &b, s, grad_of(v))
        },
        grad: &|t| {
            let (a, b, s) = read(t);
            let (f, g) = methods_grad(&a, &b, s);
            (f, flatten(&g))
        },
        hvp: &|t, v| {
            let (a, b, s) = read(t);
            let (f, g, h) = methods_hvp(&a, &b, s, grad_of(v));
            (f, flatten(&g), flatten(&h))
        },
    }
    .check();
}

#[test]
fn branches_and_loops() {
    let mut d = Draw::new(6);
    let _ = (d.matrix(3, 3), d.scalar());
    let theta = d.theta.clone();
    let xs: Vec<DMatrix<f64>> = (0..4).map(|_| d.seed_matrix(2, 3)).collect();
    let read = |t: &[f64]| {
        let mut r = Read::new(t);
        (r.matrix(3, 3), r.scalar())
    };
    let m = read;
    Scalar {
        name: "control",
        theta,
        f: &|t| {
            let (w, s) = m(t);
            control(&w, s, &xs, 5)
        },
        jvp: &|t, v| {
            let (w, s) = m(t);
            let (tw, ts) = read(v);
            control_jvp(&w, s, &xs, 5, ControlGrad { w: tw, s: ts })
        },
        grad: &|t| {
            let (w, s) = m(t);
            let (f, g) = control_grad(&w, s, &xs, 5);
            (f, flat(&[g.w.as_slice(), &[g.s]]))
        },
        hvp: &|t, v| {
            let (w, s) = m(t);
            let (tw, ts) = read(v);
            let (f, g, h) = control_hvp(&w, s, &xs, 5, ControlGrad { w: tw, s: ts });
            (
                f,
                flat(&[g.w.as_slice(), &[g.s]]),
                flat(&[h.w.as_slice(), &[h.s]]),
            )
        },
    }
    .check();
}

// -------------------------------------------------------------- matrix results, generics

/// A layer: its jvp is a matrix, checked against the vjp from both sides.
#[differentiate(wrt(w, b), jvp)]
fn layer(w: &DMatrix<f64>, b: &RowDVector<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    sigmoid(add_bias(x * w, b)).component_mul(&(x * w))
}

#[test]
fn matrix_result_against_vjp() {
    let mut d = Draw::new(7);
    let (w, b) = (d.matrix(3, 4), d.row(4));
    let x = d.seed_matrix(5, 3);
    let (tw, tb) = (d.seed_matrix(3, 4), RowDVector::from_fn(4, |_, _| d.seed()));
    let u = d.seed_matrix(5, 4);
    let (value, jv) = layer_jvp(
        &w,
        &b,
        &x,
        LayerGrad {
            w: tw.clone(),
            b: tb.clone(),
        },
    );
    assert_eq!(value, layer(&w, &b, &x));
    let (_, g) = layer_vjp(&w, &b, &x, u.clone());
    let (left, right) = (u.dot(&jv), g.w.dot(&tw) + g.b.dot(&tb));
    assert!(
        relative(left, right) < EXACT_TOLERANCE,
        "⟨u, Jv⟩ = {left}, ⟨Jᵀu, v⟩ = {right}"
    );
    let h = 1e-6;
    let plus = layer(&(&w + &tw * h), &(&b + &tb * h), &x);
    let minus = layer(&(&w - &tw * h), &(&b - &tb * h), &x);
    let fd = (plus - minus) / (2.0 * h);
    assert!(
        (&fd - &jv).amax() < 1e-6 * fd.amax().max(1.0),
        "jvp {jv} against {fd}"
    );
}

/// Generic over its scalar: the same items for f32 and f64.
#[differentiate(jvp, hvp)]
fn generic<T: RealScalar>(w: &DMatrix<T>, s: T) -> T {
    let h = tanh(w * w) * s;
    h.norm_squared() + s * s * s
}

#[test]
fn generic_scalars() {
    let w = DMatrix::from_row_slice(2, 2, &[0.3, -0.2, 0.5, 0.1]);
    let (v, d) = generic_jvp(
        &w,
        0.7,
        GenericGrad {
            w: DMatrix::identity(2, 2),
            s: 1.0,
        },
    );
    let (_, g) = generic_grad(&w, 0.7);
    assert!(relative(d, g.w.trace() + g.s) < EXACT_TOLERANCE);
    let wf = w.map(|v| v as f32);
    let (vf, df) = generic_jvp(
        &wf,
        0.7f32,
        GenericGrad {
            w: DMatrix::identity(2, 2),
            s: 1.0f32,
        },
    );
    assert!(((vf as f64) - v).abs() < 1e-5 && ((df as f64) - d).abs() < 1e-4);
    let (_, _, hv) = generic_hvp(
        &wf,
        0.7f32,
        GenericGrad {
            w: DMatrix::zeros(2, 2),
            s: 1.0f32,
        },
    );
    let (_, gp) = generic_grad(&w, 0.7 + 1e-6);
    let (_, gm) = generic_grad(&w, 0.7 - 1e-6);
    assert!(((hv.s as f64) - (gp.s - gm.s) / 2e-6).abs() < 1e-3);
}

// ------------------------------------------------------------------------------- calls

mod layers {
    use autodiff::prelude::*;

    /// A layer with forward mode, called from other functions with it.
    #[differentiate(jvp)]
    pub fn dense(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
        tanh(add_bias(x * w, b))
    }
}

/// A scalar helper with forward mode, one of whose arguments is a constant at the call.
#[differentiate(jvp)]
fn penalty(w: &DMatrix<f64>, scale: f64) -> f64 {
    scale * w.norm_squared()
}

/// Calls: a matrix-valued function in a module, a scalar one with a constant argument, and
/// one called with an argument that has no tangent.
#[differentiate(wrt(w1, b1, w2), jvp, hvp)]
fn stacked(x: &DMatrix<f64>, w1: &DMatrix<f64>, b1: &RowDVector<f64>, w2: &DMatrix<f64>) -> f64 {
    let h = layers::dense(x, w1, b1);
    let zero = RowDVector::zeros(w2.ncols());
    let y = layers::dense(&h, w2, &zero);
    y.norm_squared() + penalty(w1, 0.5) + penalty(x, 2.0) * penalty(w2, 0.25)
}

#[test]
fn calls_of_functions_with_forward_mode() {
    let mut d = Draw::new(9);
    let _ = (d.matrix(3, 4), d.row(4), d.matrix(4, 2));
    let theta = d.theta.clone();
    let x = d.seed_matrix(5, 3);
    let read = |t: &[f64]| {
        let mut r = Read::new(t);
        (r.matrix(3, 4), r.row(4), r.matrix(4, 2))
    };
    let grad_of = |v: &[f64]| {
        let (w1, b1, w2) = read(v);
        StackedGrad { w1, b1, w2 }
    };
    let flatten = |g: &StackedGrad| flat(&[g.w1.as_slice(), g.b1.as_slice(), g.w2.as_slice()]);
    Scalar {
        name: "stacked",
        theta,
        f: &|t| {
            let (w1, b1, w2) = read(t);
            stacked(&x, &w1, &b1, &w2)
        },
        jvp: &|t, v| {
            let (w1, b1, w2) = read(t);
            stacked_jvp(&x, &w1, &b1, &w2, grad_of(v))
        },
        grad: &|t| {
            let (w1, b1, w2) = read(t);
            let (f, g) = stacked_grad(&x, &w1, &b1, &w2);
            (f, flatten(&g))
        },
        hvp: &|t, v| {
            let (w1, b1, w2) = read(t);
            let (f, g, h) = stacked_hvp(&x, &w1, &b1, &w2, grad_of(v));
            (f, flatten(&g), flatten(&h))
        },
    }
    .check();
}

// ------------------------------------------------------------------------- collections

/// Layers as a collection: `ws[i]` read in a loop, by reference and by value.
#[differentiate(wrt(ws, scales), jvp, hvp)]
fn deep(ws: &[DMatrix<f64>], scales: Vec<f64>, x: &DMatrix<f64>) -> f64 {
    let mut h = x.clone();
    for i in 0..ws.len() {
        h = tanh(&h * &ws[i]) * scales[i];
    }
    h.norm_squared()
}

#[test]
fn collections() {
    let mut d = Draw::new(10);
    let _ = (d.matrix(3, 3), d.matrix(3, 3), d.scalar(), d.scalar());
    let theta = d.theta.clone();
    let x = d.seed_matrix(4, 3);
    let read = |t: &[f64]| {
        let mut r = Read::new(t);
        let ws = vec![r.matrix(3, 3), r.matrix(3, 3)];
        (ws, vec![r.scalar(), r.scalar()])
    };
    let grad_of = |v: &[f64]| {
        let (ws, scales) = read(v);
        DeepGrad { ws, scales }
    };
    let flatten = |g: &DeepGrad| flat(&[g.ws[0].as_slice(), g.ws[1].as_slice(), &g.scales]);
    Scalar {
        name: "deep",
        theta,
        f: &|t| {
            let (ws, scales) = read(t);
            deep(&ws, scales, &x)
        },
        jvp: &|t, v| {
            let (ws, scales) = read(t);
            deep_jvp(&ws, scales, &x, grad_of(v))
        },
        grad: &|t| {
            let (ws, scales) = read(t);
            let (f, g) = deep_grad(&ws, scales, &x);
            (f, flatten(&g))
        },
        hvp: &|t, v| {
            let (ws, scales) = read(t);
            let (f, g, h) = deep_hvp(&ws, scales, &x, grad_of(v));
            (f, flatten(&g), flatten(&h))
        },
    }
    .check();
}

// ------------------------------------------------------------------ structured parameters

/// A model as a struct: a matrix, a bias, a `Vec` of layers, and a skipped field read as a
/// constant (the number of layers used).
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Net {
    w: DMatrix<f64>,
    b: RowDVector<f64>,
    layers: Vec<DMatrix<f64>>,
    #[parameters(skip)]
    depth: usize,
}

#[differentiate(wrt(net), jvp, hvp)]
fn net_loss(net: &Net, x: &DMatrix<f64>) -> f64 {
    let mut h = tanh(add_bias(x * &net.w, &net.b));
    for i in 0..net.depth {
        h = sigmoid(&h * &net.layers[i]);
    }
    h.norm_squared()
}

#[test]
fn structured_parameters() {
    let mut d = Draw::new(11);
    let _ = (d.matrix(3, 4), d.row(4), d.matrix(4, 4), d.matrix(4, 4));
    let theta = d.theta.clone();
    let x = d.seed_matrix(5, 3);
    let read = |t: &[f64]| {
        let mut r = Read::new(t);
        Net {
            w: r.matrix(3, 4),
            b: r.row(4),
            layers: vec![r.matrix(4, 4), r.matrix(4, 4)],
            depth: 2,
        }
    };
    let grad_of = |v: &[f64]| NetLossGrad { net: read(v) };
    let flatten = |g: &NetLossGrad| {
        let n = &g.net;
        assert_eq!(n.depth, 2, "the skipped field is copied into the gradient");
        flat(&[
            n.w.as_slice(),
            n.b.as_slice(),
            n.layers[0].as_slice(),
            n.layers[1].as_slice(),
        ])
    };
    Scalar {
        name: "net_loss",
        theta,
        f: &|t| net_loss(&read(t), &x),
        jvp: &|t, v| net_loss_jvp(&read(t), &x, grad_of(v)),
        grad: &|t| {
            let (f, g) = net_loss_grad(&read(t), &x);
            (f, flatten(&g))
        },
        hvp: &|t, v| {
            let (f, g, h) = net_loss_hvp(&read(t), &x, grad_of(v));
            (f, flatten(&g), flatten(&h))
        },
    }
    .check();
}

// ----------------------------------------------------------------------------- methods

/// A model with its loss as a method.
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Layer {
    w: DMatrix<f64>,
    b: RowDVector<f64>,
}

#[differentiate]
impl Layer {
    #[differentiate(wrt(self, scale), jvp, hvp)]
    fn loss(&self, x: &DMatrix<f64>, scale: f64) -> f64 {
        sigmoid(add_bias(x * &self.w, &self.b)).norm_squared() * scale
    }
}

#[test]
fn methods_of_a_model() {
    let mut d = Draw::new(12);
    let _ = (d.matrix(3, 2), d.row(2), d.scalar());
    let theta = d.theta.clone();
    let x = d.seed_matrix(4, 3);
    let read = |t: &[f64]| {
        let mut r = Read::new(t);
        (
            Layer {
                w: r.matrix(3, 2),
                b: r.row(2),
            },
            r.scalar(),
        )
    };
    let grad_of = |v: &[f64]| {
        let (self_, scale) = read(v);
        LayerLossGrad { self_, scale }
    };
    let flatten =
        |g: &LayerLossGrad| flat(&[g.self_.w.as_slice(), g.self_.b.as_slice(), &[g.scale]]);
    Scalar {
        name: "Layer::loss",
        theta,
        f: &|t| {
            let (layer, scale) = read(t);
            layer.loss(&x, scale)
        },
        jvp: &|t, v| {
            let (layer, scale) = read(t);
            layer.loss_jvp(&x, scale, grad_of(v))
        },
        grad: &|t| {
            let (layer, scale) = read(t);
            let (f, g) = layer.loss_grad(&x, scale);
            (f, flatten(&g))
        },
        hvp: &|t, v| {
            let (layer, scale) = read(t);
            let (f, g, h) = layer.loss_hvp(&x, scale, grad_of(v));
            (f, flatten(&g), flatten(&h))
        },
    }
    .check();
}

// ----------------------------------------------- collections and structs passed on whole

/// Passes the collection it was given on to [`deep_leaf`], whole.
#[differentiate(wrt(ws, s), jvp, hvp)]
fn deep_middle(ws: &[DMatrix<f64>], s: f64) -> f64 {
    deep_leaf(ws, s) * s
}

#[differentiate(wrt(ws, s), jvp, hvp)]
fn deep_leaf(ws: &[DMatrix<f64>], s: f64) -> f64 {
    let mut total = s;
    for w in ws.iter() {
        total += (w * s).map(|v| v.tanh()).sum();
    }
    total
}

/// Differentiated with respect to `s` only: the collection reaches [`deep_middle`] without a
/// tangent, and must reach [`deep_leaf`] without one too.
#[differentiate(wrt(s), jvp, hvp)]
fn deep_outer(ws: &[DMatrix<f64>], s: f64) -> f64 {
    deep_middle(ws, s.sin())
}

#[test]
fn a_collection_without_tangent_passed_on_whole() {
    let mut d = Draw::new(13);
    let ws = vec![d.seed_matrix(2, 3), d.seed_matrix(3, 2)];
    let _ = d.scalar();
    let theta = d.theta.clone();
    Scalar {
        name: "deep_outer",
        theta,
        f: &|t| deep_outer(&ws, t[0]),
        jvp: &|t, v| deep_outer_jvp(&ws, t[0], DeepOuterGrad { s: v[0] }),
        grad: &|t| {
            let (f, g) = deep_outer_grad(&ws, t[0]);
            (f, vec![g.s])
        },
        hvp: &|t, v| {
            let (f, g, h) = deep_outer_hvp(&ws, t[0], DeepOuterGrad { s: v[0] });
            (f, vec![g.s], vec![h.s])
        },
    }
    .check();
}

/// A model whose loss calls its other methods and associated functions, passing `self` on
/// whole.
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Stack {
    w1: DMatrix<f64>,
    w2: DMatrix<f64>,
    scale: f64,
}

#[differentiate]
impl Stack {
    #[differentiate(jvp)]
    fn hidden(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        tanh(x * &self.w1)
    }

    #[differentiate(jvp, hvp)]
    fn squash(v: f64) -> f64 {
        v.tanh() * v
    }

    #[differentiate(wrt(s, x), jvp, hvp)]
    fn scaled(s: &Stack, x: f64) -> f64 {
        s.scale * x * x
    }

    /// `self.hidden(..)` (the receiver passed whole), `Self::squash(..)`, `Stack::scaled(self,
    /// ..)` and its own fields.
    #[differentiate(wrt(self, t), jvp, hvp)]
    fn loss(&self, x: &DMatrix<f64>, t: f64) -> f64 {
        let h = self.hidden(x);
        let y = &h * &self.w2;
        Self::squash(y.norm_squared() * t) + Stack::scaled(self, t) + self.scale * t
    }
}

/// A free function calling a method with a struct parameter passed whole.
#[differentiate(wrt(stack), jvp, hvp)]
fn whole_stack_loss(stack: &Stack, x: &DMatrix<f64>) -> f64 {
    Stack::loss(stack, x, 0.75) + Stack::scaled(stack, 1.5)
}

fn read_stack(t: &[f64]) -> Stack {
    let mut r = Read::new(t);
    Stack {
        w1: r.matrix(3, 4),
        w2: r.matrix(4, 2),
        scale: r.scalar(),
    }
}

fn flat_stack(s: &Stack) -> Vec<f64> {
    flat(&[s.w1.as_slice(), s.w2.as_slice(), &[s.scale]])
}

#[test]
fn methods_calling_methods() {
    let mut d = Draw::new(14);
    let _ = (d.matrix(3, 4), d.matrix(4, 2), d.scalar(), d.scalar());
    let theta = d.theta.clone();
    let x = d.seed_matrix(5, 3);
    let read = |t: &[f64]| (read_stack(t), t[t.len() - 1]);
    let grad_of = |v: &[f64]| {
        let (self_, t) = read(v);
        StackLossGrad { self_, t }
    };
    let flatten = |g: &StackLossGrad| [flat_stack(&g.self_), vec![g.t]].concat();
    Scalar {
        name: "Stack::loss",
        theta,
        f: &|t| {
            let (s, t) = read(t);
            s.loss(&x, t)
        },
        jvp: &|t, v| {
            let (s, t) = read(t);
            s.loss_jvp(&x, t, grad_of(v))
        },
        grad: &|t| {
            let (s, t) = read(t);
            let (f, g) = s.loss_grad(&x, t);
            (f, flatten(&g))
        },
        hvp: &|t, v| {
            let (s, t) = read(t);
            let (f, g, h) = s.loss_hvp(&x, t, grad_of(v));
            (f, flatten(&g), flatten(&h))
        },
    }
    .check();
}

#[test]
fn a_struct_passed_whole_to_a_method() {
    let mut d = Draw::new(15);
    let _ = (d.matrix(3, 4), d.matrix(4, 2), d.scalar());
    let theta = d.theta.clone();
    let x = d.seed_matrix(5, 3);
    let grad_of = |v: &[f64]| WholeStackLossGrad {
        stack: read_stack(v),
    };
    Scalar {
        name: "whole_stack_loss",
        theta,
        f: &|t| whole_stack_loss(&read_stack(t), &x),
        jvp: &|t, v| whole_stack_loss_jvp(&read_stack(t), &x, grad_of(v)),
        grad: &|t| {
            let (f, g) = whole_stack_loss_grad(&read_stack(t), &x);
            (f, flat_stack(&g.stack))
        },
        hvp: &|t, v| {
            let (f, g, h) = whole_stack_loss_hvp(&read_stack(t), &x, grad_of(v));
            (f, flat_stack(&g.stack), flat_stack(&h.stack))
        },
    }
    .check();
}

/// Differentiated with respect to `t` only: `stack` reaches `Stack::loss` without a tangent,
/// and must reach the methods `loss` passes it on to without one too.
#[differentiate(wrt(t), jvp, hvp)]
fn stack_at(stack: &Stack, x: &DMatrix<f64>, t: f64) -> f64 {
    Stack::loss(stack, x, t * t)
}

#[test]
fn a_struct_without_tangent_passed_on_whole() {
    let mut d = Draw::new(16);
    let stack = Stack {
        w1: d.seed_matrix(3, 4),
        w2: d.seed_matrix(4, 2),
        scale: 0.8,
    };
    let x = d.seed_matrix(5, 3);
    let _ = d.scalar();
    let theta = d.theta.clone();
    Scalar {
        name: "stack_at",
        theta,
        f: &|t| stack_at(&stack, &x, t[0]),
        jvp: &|t, v| stack_at_jvp(&stack, &x, t[0], StackAtGrad { t: v[0] }),
        grad: &|t| {
            let (f, g) = stack_at_grad(&stack, &x, t[0]);
            (f, vec![g.t])
        },
        hvp: &|t, v| {
            let (f, g, h) = stack_at_hvp(&stack, &x, t[0], StackAtGrad { t: v[0] });
            (f, vec![g.t], vec![h.t])
        },
    }
    .check();
}

/// A model with skipped fields passed to calls: a count to a constant parameter, a rate to a
/// differentiable one (where it must arrive without a tangent).
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Tuned {
    w: DMatrix<f64>,
    #[parameters(skip)]
    rate: f64,
    #[parameters(skip)]
    repeats: usize,
}

#[differentiate(jvp, hvp)]
fn repeated(w: &DMatrix<f64>, n: usize) -> f64 {
    let mut total = 0.0;
    for k in 0..n {
        total += (w * (k as f64 + 1.0)).map(|v| v.sin()).sum();
    }
    total
}

#[differentiate(wrt(tuned), jvp, hvp)]
fn tuned_loss(tuned: &Tuned) -> f64 {
    repeated(&tuned.w, tuned.repeats) + penalty(&tuned.w, tuned.rate)
}

#[test]
fn skipped_fields_passed_to_calls() {
    let mut d = Draw::new(17);
    let _ = d.matrix(2, 3);
    let theta = d.theta.clone();
    let read = |t: &[f64]| Tuned {
        w: Read::new(t).matrix(2, 3),
        rate: 0.7,
        repeats: 3,
    };
    let grad_of = |v: &[f64]| TunedLossGrad { tuned: read(v) };
    let flatten = |g: &TunedLossGrad| g.tuned.w.as_slice().to_vec();
    Scalar {
        name: "tuned_loss",
        theta,
        f: &|t| tuned_loss(&read(t)),
        jvp: &|t, v| tuned_loss_jvp(&read(t), grad_of(v)),
        grad: &|t| {
            let (f, g) = tuned_loss_grad(&read(t));
            (f, flatten(&g))
        },
        hvp: &|t, v| {
            let (f, g, h) = tuned_loss_hvp(&read(t), grad_of(v));
            (f, flatten(&g), flatten(&h))
        },
    }
    .check();
}

/// Generic functions calling a generic function, with the scalar inferred and by turbofish.
#[differentiate(jvp, hvp)]
fn generic_caller<T: RealScalar>(w: &DMatrix<T>, s: T) -> T {
    generic(w, s * s) + generic::<T>(&(w * s), s)
}

#[test]
fn generic_functions_calling_generic_functions() {
    let mut d = Draw::new(18);
    let _ = (d.matrix(2, 2), d.scalar());
    let theta = d.theta.clone();
    let read = |t: &[f64]| {
        let mut r = Read::new(t);
        (r.matrix(2, 2), r.scalar())
    };
    let grad_of = |v: &[f64]| {
        let (w, s) = read(v);
        GenericCallerGrad { w, s }
    };
    let flatten = |g: &GenericCallerGrad<f64>| flat(&[g.w.as_slice(), &[g.s]]);
    Scalar {
        name: "generic_caller",
        theta,
        f: &|t| {
            let (w, s) = read(t);
            generic_caller(&w, s)
        },
        jvp: &|t, v| {
            let (w, s) = read(t);
            generic_caller_jvp(&w, s, grad_of(v))
        },
        grad: &|t| {
            let (w, s) = read(t);
            let (f, g) = generic_caller_grad(&w, s);
            (f, flatten(&g))
        },
        hvp: &|t, v| {
            let (w, s) = read(t);
            let (f, g, h) = generic_caller_hvp(&w, s, grad_of(v));
            (f, flatten(&g), flatten(&h))
        },
    }
    .check();
}

/// A module whose name is capitalised, as a type's is: its functions are reached as a
/// method's are (`Shifts::shift`).
#[allow(non_snake_case)]
mod Shifts {
    use autodiff::prelude::*;

    #[differentiate(jvp)]
    pub fn shift(x: f64, by: f64) -> f64 {
        (x + by).sin()
    }
}

#[differentiate(jvp, hvp)]
fn shifted(x: f64) -> f64 {
    Shifts::shift(x * x, 0.5)
}

#[test]
fn a_function_of_a_capitalised_module() {
    Scalar {
        name: "shifted",
        theta: vec![0.8],
        f: &|t| shifted(t[0]),
        jvp: &|t, v| shifted_jvp(t[0], ShiftedGrad { x: v[0] }),
        grad: &|t| {
            let (f, g) = shifted_grad(t[0]);
            (f, vec![g.x])
        },
        hvp: &|t, v| {
            let (f, g, h) = shifted_hvp(t[0], ShiftedGrad { x: v[0] });
            (f, vec![g.x], vec![h.x])
        },
    }
    .check();
}
