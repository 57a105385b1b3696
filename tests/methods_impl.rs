//! Methods: `#[differentiate]` on an `impl` block and on the methods and associated functions
//! in it. The receiver `&self` is a `#[derive(Parameters)]` struct (matrices, a nested struct,
//! a `Vec` field, a skipped field) whose gradient is the field `self_`; methods call each other
//! through `self.f(..)`, `Self::f(..)` and `Net::f(..)`, and free differentiated functions.
//! Each gradient is checked against central differences in f64 and each vector-Jacobian
//! product by the dot-product test, at random points away from kinks.

use autodiff::gradcheck::GradCheck;
use autodiff::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

mod common;

use common::params::{dot_product_test, random, value};

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Head {
    w: DMatrix<f64>,
    reg: f64,
}

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Net {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    layers: Vec<DMatrix<f64>>,
    head: Head,
    unread: DVector<f64>,
    #[parameters(skip)]
    name: String,
    #[parameters(skip)]
    depth: usize,
}

/// A free differentiated function, called from a method with fields of `self`.
#[differentiate]
fn dense(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
    add_bias(x * w, b)
}

/// A module named like a differentiated method (`Net::hidden`): unlike a free function, a
/// method may share its name with a module or a type.
#[allow(dead_code)]
mod hidden {}

#[differentiate]
impl Net {
    /// The hidden layers: a free function, then a loop over a `Vec` field.
    #[differentiate]
    pub fn hidden(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let mut h = tanh(dense(x, &self.w1, &self.b1));
        for w in &self.layers {
            h = tanh(&h * w);
        }
        h
    }

    /// The scores, through `self.hidden(..)` and a nested field.
    #[differentiate]
    pub fn scores(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        self.hidden(x) * &self.head.w
    }

    /// The loss, through `Self::scores(self, ..)`, `Net::hidden(self, ..)` and the associated
    /// function `Net::penalty`.
    #[differentiate(wrt(self))]
    pub fn loss(&self, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
        let scores = Self::scores(self, x);
        let hidden = Net::hidden(self, x);
        softmax_cross_entropy(&scores, labels)
            + 0.1 * hidden.norm_squared() / self.depth as f64
            + self.head.reg * Net::penalty(&self.w1)
    }

    /// An associated function without `self`.
    #[differentiate]
    pub fn penalty(w: &DMatrix<f64>) -> f64 {
        w.norm_squared() + Self::half(w.sum())
    }

    #[differentiate]
    fn half(v: f64) -> f64 {
        0.5 * v * v
    }

    /// Every parameter differentiable: `self`, a matrix and a scalar.
    #[differentiate]
    pub fn energy(&self, x: &DMatrix<f64>, t: f64) -> f64 {
        let y = self.scores(x);
        t * y.norm_squared() + (x * &self.w1).sum() * self.head.reg
    }

    /// `self` a constant: its fields and the methods called with it cost no derivative work
    /// (as for any constant, the reverse sweep keeps an owned copy of a part it reads).
    #[differentiate(wrt(x))]
    pub fn data_term(&self, x: &DMatrix<f64>) -> f64 {
        let w1 = self.w1.clone();
        (x * &w1).sum() + self.scores(x).sum()
    }

    /// Another value of the same type, `&Self`: a structured parameter too.
    #[differentiate]
    pub fn distance(&self, other: &Self) -> f64 {
        (&self.w1 - &other.w1).norm_squared() + self.head.reg * other.head.reg
    }

    /// A method without the attribute stays as it is.
    pub fn width(&self) -> usize {
        self.w1.ncols()
    }
}

/// A free differentiated function calling an associated function.
#[differentiate]
fn free_penalty(w: &DMatrix<f64>, k: f64) -> f64 {
    k * Net::penalty(w)
}

/// A free differentiated function calling a method with structured parameters, by the path
/// of their type.
#[differentiate(wrt(p, q))]
fn ensemble(p: &Net, q: &Net, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    Net::loss(p, x, labels) + Net::loss(q, x, labels) * p.head.reg
}

fn net(rng: &mut ChaCha8Rng) -> Net {
    let shapes = Net {
        w1: DMatrix::zeros(3, 4),
        b1: RowDVector::zeros(4),
        layers: vec![DMatrix::zeros(4, 4), DMatrix::zeros(4, 3)],
        head: Head {
            w: DMatrix::zeros(3, 2),
            reg: 0.0,
        },
        unread: DVector::zeros(2),
        name: "net".into(),
        depth: 2,
    };
    random(&shapes, rng)
}

fn data(rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    DMatrix::from_fn(5, 3, |_, _| 0.5 * value(rng))
}

const LABELS: [usize; 5] = [0, 1, 1, 0, 1];

#[test]
fn the_gradient_of_self_is_the_field_self_() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..3 {
        let (p, x) = (net(&mut rng), data(&mut rng));
        let (loss, grad): (f64, NetLossGrad) = p.loss_grad(&x, &LABELS);
        assert_eq!(loss, p.loss(&x, &LABELS));
        assert_eq!(grad.self_.name, "net", "a skipped field is copied");
        assert_eq!(grad.self_.unread, DVector::zeros(2), "a field never read");
        assert_eq!(grad.self_.layers.len(), 2);
        GradCheck::new()
            .wrt_params("self", &p, &grad.self_, |p| p.loss(&x, &LABELS))
            .run()
            .assert_passed();
    }
}

#[test]
fn every_form_of_the_generated_functions_agrees() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let (p, x) = (net(&mut rng), data(&mut rng));
    let grad = p.loss_grad(&x, &LABELS);
    assert_eq!(Net::loss_grad(&p, &x, &LABELS), grad);
    assert_eq!(p.loss_vjp(&x, &LABELS, 1.0), grad);
    let (value, tape) = p.loss_fwd(&x, &LABELS);
    assert_eq!((value, Net::loss_bwd(tape, 1.0)), grad);
    assert_eq!(p.width(), 4);
}

#[test]
fn a_matrix_valued_method_passes_the_dot_product_test() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for _ in 0..3 {
        let (p, x) = (net(&mut rng), data(&mut rng));
        let u = DMatrix::from_fn(5, 2, |_, _| value(&mut rng));
        let (scores, grad): (DMatrix<f64>, NetScoresGrad) = p.scores_vjp(&x, u.clone());
        assert_eq!(scores, p.scores(&x));
        dot_product_test(&p, &u, &grad.self_, |p| p.scores(&x), &mut rng);
        dot_product_test(&x, &u, &grad.x, |x| p.scores(x), &mut rng);
    }
}

#[test]
fn self_and_other_parameters_together() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let (p, x) = (net(&mut rng), data(&mut rng));
    let t = 0.7;
    let (value, grad) = p.energy_grad(&x, t);
    assert_eq!(value, p.energy(&x, t));
    GradCheck::new()
        .wrt_params("self", &p, &grad.self_, |p| p.energy(&x, t))
        .wrt("x", &x, &grad.x, |x| p.energy(x, t))
        .wrt("t", &t, &grad.t, |t| p.energy(&x, *t))
        .run()
        .assert_passed();
}

#[test]
fn associated_functions_without_self() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let w = DMatrix::from_fn(2, 3, |_, _| value(&mut rng));
    let (value, grad): (f64, NetPenaltyGrad) = Net::penalty_grad(&w);
    assert_eq!(value, Net::penalty(&w));
    // d/dw (|w|² + ½(Σw)²) = 2w + Σw
    let want = &w * 2.0 + DMatrix::from_element(2, 3, w.sum());
    assert!((&grad.w - &want).norm() < 1e-12, "{} vs {want}", grad.w);
    let (_, grad) = free_penalty_grad(&w, 3.0);
    assert!((&grad.w - want * 3.0).norm() < 1e-12);
    GradCheck::new()
        .wrt("k", &3.0, &grad.k, |k| free_penalty(&w, *k))
        .run()
        .assert_passed();
}

#[test]
fn self_left_out_of_wrt_is_a_constant() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (p, x) = (net(&mut rng), data(&mut rng));
    let (value, grad) = p.data_term_grad(&x);
    assert_eq!(value, p.data_term(&x));
    // The gradient has the field `x` alone.
    let NetDataTermGrad { x: dx } = grad;
    GradCheck::new()
        .wrt("x", &x, &dx, |x| p.data_term(x))
        .run()
        .assert_passed();
}

#[test]
fn another_value_of_the_type() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let (p, q) = (net(&mut rng), net(&mut rng));
    let (value, grad) = p.distance_grad(&q);
    assert_eq!(value, p.distance(&q));
    let other: Net = grad.other.clone();
    assert_eq!(other.w1, (&q.w1 - &p.w1) * 2.0);
    GradCheck::new()
        .wrt_params("self", &p, &grad.self_, |p| p.distance(&q))
        .wrt_params("other", &q, &grad.other, |q| p.distance(q))
        .run()
        .assert_passed();
}

/// The same with a struct taken by value.
#[differentiate(wrt(p))]
fn owned_loss(p: Net, x: &DMatrix<f64>) -> f64 {
    Net::loss(&p, x, &LABELS) * p.head.reg
}

#[test]
fn a_struct_by_value_passed_to_a_method() {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let (p, x) = (net(&mut rng), data(&mut rng));
    let (value, grad) = owned_loss_grad(p.clone(), &x);
    assert_eq!(value, owned_loss(p.clone(), &x));
    GradCheck::new()
        .wrt_params("p", &p, &grad.p, |p| owned_loss(p.clone(), &x))
        .run()
        .assert_passed();
}

#[test]
fn a_free_function_calls_methods() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let (p, q, x) = (net(&mut rng), net(&mut rng), data(&mut rng));
    let (value, grad) = ensemble_grad(&p, &q, &x, &LABELS);
    assert_eq!(value, ensemble(&p, &q, &x, &LABELS));
    GradCheck::new()
        .wrt_params("p", &p, &grad.p, |p| ensemble(p, &q, &x, &LABELS))
        .wrt_params("q", &q, &grad.q, |q| ensemble(&p, q, &x, &LABELS))
        .run()
        .assert_passed();
}
