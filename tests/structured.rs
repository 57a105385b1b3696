//! Structured parameters: a `#[derive(Parameters)]` struct taken by reference, its fields read
//! in the body (`p.w1`, `&p.w1`, `p.inner.b`), its gradient of the struct's own type. Each
//! gradient is checked against central differences in f64 (`GradCheck::wrt_params`, leaf by
//! leaf) at random points away from kinks, and each vector-Jacobian product by the
//! dot-product test ⟨u, J v⟩ = ⟨Jᵀu, v⟩ along a random direction.

use autodiff::gradcheck::GradCheck;
use autodiff::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

mod common;

use common::params::{dot_product_test, random, value};

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct TwoLayer {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
    #[parameters(skip)]
    name: String,
}

/// The lecture's two-layer net with its parameters in one struct: every field read, by
/// reference and by place, in one expression and through a binding.
#[differentiate(wrt(p))]
fn two_layer_loss(x: &DMatrix<f64>, labels: &[usize], p: &TwoLayer, reg: f64) -> f64 {
    let hidden = relu(add_bias(x * &p.w1, &p.b1));
    let scores = add_bias(&hidden * &p.w2, &p.b2);
    softmax_cross_entropy(&scores, labels) + 0.5 * reg * (p.w1.norm_squared() + p.w2.norm_squared())
}

fn two_layer(rng: &mut ChaCha8Rng) -> TwoLayer {
    let shapes = TwoLayer {
        w1: DMatrix::zeros(3, 5),
        b1: RowDVector::zeros(5),
        w2: DMatrix::zeros(5, 4),
        b2: RowDVector::zeros(4),
        name: "net".into(),
    };
    random(&shapes, rng)
}

#[test]
fn a_struct_of_weights_has_the_gradient_of_its_fields() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = DMatrix::from_fn(6, 3, |_, _| value(&mut rng));
    let labels = [0, 3, 1, 2, 2, 0];
    for _ in 0..3 {
        let p = two_layer(&mut rng);
        let (loss, grad): (f64, TwoLayerLossGrad) = two_layer_loss_grad(&x, &labels, &p, 1e-2);
        assert_eq!(loss, two_layer_loss(&x, &labels, &p, 1e-2));
        assert_eq!(
            grad.p.name, "net",
            "a skipped field is copied into the gradient"
        );
        GradCheck::new()
            .wrt_params("p", &p, &grad.p, |p| two_layer_loss(&x, &labels, p, 1e-2))
            .run()
            .assert_passed();
    }
}

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Inner {
    w: DMatrix<f64>,
    s: f64,
    unread: DVector<f64>,
}

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Outer {
    inner: Inner,
    v: DVector<f64>,
    also_unread: DMatrix<f64>,
}

/// Nested fields, a scalar field, a field read in a loop and in a branch; fields never read
/// get zeros of their shapes.
#[differentiate]
fn nested(p: &Outer, m: &DMatrix<f64>) -> f64 {
    let y = &p.inner.w * &p.v;
    let mut acc = 0.0;
    for i in 0..y.len() {
        acc += y[i] * p.inner.s;
    }
    if acc > 0.0 {
        acc * p.inner.s + (m * &p.v).sum()
    } else {
        0.5 * acc * acc - p.v.norm_squared()
    }
}

#[test]
fn nested_fields_and_fields_never_read() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let shapes = Outer {
        inner: Inner {
            w: DMatrix::zeros(3, 4),
            s: 0.0,
            unread: DVector::zeros(2),
        },
        v: DVector::zeros(4),
        also_unread: DMatrix::zeros(2, 2),
    };
    let m = DMatrix::from_fn(2, 4, |_, _| value(&mut rng));
    let mut branches = [false; 2];
    for _ in 0..8 {
        let p = random(&shapes, &mut rng);
        let (value, grad) = nested_grad(&p, &m);
        assert_eq!(value, nested(&p, &m));
        branches[usize::from(value > 0.0)] = true;
        assert_eq!(grad.p.inner.unread, DVector::zeros(2));
        assert_eq!(grad.p.also_unread, DMatrix::zeros(2, 2));
        GradCheck::new()
            .wrt_params("p", &p, &grad.p, |p| nested(p, &m))
            .run()
            .assert_passed();
        // `m` is differentiable too, and its own field of the gradient.
        GradCheck::new()
            .wrt("m", &m, &grad.m, |m| nested(&p, m))
            .run()
            .assert_passed();
    }
    assert_eq!(branches, [true, true], "both branches taken");
}

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Dense {
    w: DMatrix<f64>,
    b: RowDVector<f64>,
    #[parameters(skip)]
    activation: bool,
}

/// A layer with a matrix result: its vector-Jacobian product.
#[differentiate]
pub fn dense(p: &Dense, x: &DMatrix<f64>) -> DMatrix<f64> {
    let z = add_bias(x * &p.w, &p.b);
    if p.activation {
        tanh(z)
    } else {
        z
    }
}

/// A caller that passes fields of its own struct on to another differentiated function.
#[differentiate(wrt(p, q))]
fn two_dense(p: &Dense, q: &Dense, x: &DMatrix<f64>) -> f64 {
    let h = dense_fields(&p.w, &p.b, x);
    dense_fields(&q.w, &q.b, &h).norm_squared()
}

#[differentiate]
fn dense_fields(w: &DMatrix<f64>, b: &RowDVector<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    tanh(add_bias(x * w, b))
}

fn dense_layer(rows: usize, cols: usize, activation: bool, rng: &mut ChaCha8Rng) -> Dense {
    let shapes = Dense {
        w: DMatrix::zeros(rows, cols),
        b: RowDVector::zeros(cols),
        activation,
    };
    random(&shapes, rng)
}

#[test]
fn a_layer_struct_passes_the_dot_product_test() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = DMatrix::from_fn(5, 3, |_, _| value(&mut rng));
    for activation in [false, true] {
        let p = dense_layer(3, 2, activation, &mut rng);
        let u = DMatrix::from_fn(5, 2, |_, _| value(&mut rng));
        let (y, grad) = dense_vjp(&p, &x, u.clone());
        assert_eq!(y, dense(&p, &x));
        assert_eq!(grad.p.activation, activation);
        dot_product_test(&p, &u, &grad.p, |p| dense(p, &x), &mut rng);
        GradCheck::new()
            .wrt_vjp("x", &x, &grad.x, &u, |x| dense(&p, x))
            .run()
            .assert_passed();
        // The split sweeps give what the joint one gives.
        let (_, tape) = dense_fwd(&p, &x);
        assert_eq!(dense_bwd(tape, u.clone()), grad);
    }
}

#[test]
fn fields_passed_on_to_another_differentiated_function() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let x = DMatrix::from_fn(4, 3, |_, _| value(&mut rng));
    let (p, q) = (
        dense_layer(3, 5, true, &mut rng),
        dense_layer(5, 2, false, &mut rng),
    );
    let (_, grad) = two_dense_grad(&p, &q, &x);
    GradCheck::new()
        .wrt_params("p", &p, &grad.p, |p| two_dense(p, &q, &x))
        .wrt_params("q", &q, &grad.q, |q| two_dense(&p, q, &x))
        .run()
        .assert_passed();
}

/// f32 fields, and a scalar field captured by a `map` closure after it is read into a local.
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Scaled {
    m: SMatrix<f32, 2, 2>,
    k: f32,
}

#[differentiate]
fn scaled(p: &Scaled, x: SVector<f32, 2>) -> f32 {
    let k = p.k;
    (p.m * x).map(|v| (k * v).tanh()).sum()
}

#[test]
fn f32_fields_against_the_same_function_in_f64() {
    let p = Scaled {
        m: SMatrix::<f32, 2, 2>::new(0.5, -0.3, 0.8, 0.2),
        k: 0.7,
    };
    let x = SVector::<f32, 2>::new(1.0, -0.5);
    let (_, grad) = scaled_grad(&p, x);
    // d/dk Σ tanh(k·yᵢ) = Σ yᵢ(1 − tanh²(k·yᵢ)); d/dm = (k(1 − tanh²(k·y))) xᵀ, in f64.
    let y = (p.m * x).cast::<f64>();
    let k = f64::from(p.k);
    let dk: f64 = y.iter().map(|&v| v * (1.0 - (k * v).tanh().powi(2))).sum();
    let dy = y.map(|v| k * (1.0 - (k * v).tanh().powi(2)));
    let dm = dy * x.cast::<f64>().transpose();
    assert!((f64::from(grad.p.k) - dk).abs() < 1e-5);
    assert!((grad.p.m.cast::<f64>() - dm).amax() < 1e-5);
}

/// A struct taken by value, named in `wrt(..)`; a struct passed by value without `wrt(..)` is
/// a constant, like an enum.
#[differentiate(wrt(p))]
fn by_value(p: Dense, x: &DMatrix<f64>, scale: f64) -> f64 {
    scale * (x * &p.w).norm_squared() + p.b.sum()
}

#[test]
fn a_struct_by_value_named_in_wrt() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = DMatrix::from_fn(4, 3, |_, _| value(&mut rng));
    let p = dense_layer(3, 2, false, &mut rng);
    let (_, grad) = by_value_grad(p.clone(), &x, 0.5);
    GradCheck::new()
        .wrt_params("p", &p, &grad.p, |p| by_value(p.clone(), &x, 0.5))
        .run()
        .assert_passed();
}

/// A stack of layers as a slice: `ws[i]` in a loop over the layers, and the length.
#[differentiate(wrt(ws, b))]
#[allow(clippy::ptr_arg)] // `&Vec<f64>` on purpose: the macro accepts it as it accepts `&[f64]`
fn stack(x: &DMatrix<f64>, ws: &[DMatrix<f64>], b: &Vec<f64>) -> f64 {
    let mut h = x.clone();
    for i in 0..ws.len() {
        h = tanh(&h * &ws[i]).add_scalar(b[i]);
    }
    h.norm_squared() + ws[0].sum()
}

#[test]
fn a_slice_of_matrices_has_a_vec_of_gradients() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let x = DMatrix::from_fn(4, 3, |_, _| value(&mut rng));
    let shapes = vec![
        DMatrix::zeros(3, 5),
        DMatrix::zeros(5, 5),
        DMatrix::zeros(5, 2),
    ];
    let ws = random(&shapes, &mut rng);
    let b = random(&vec![0.0; 3], &mut rng);
    let (value, grad): (f64, StackGrad) = stack_grad(&x, &ws, &b);
    assert_eq!(value, stack(&x, &ws, &b));
    let shapes: Vec<(usize, usize)> = grad.ws.iter().map(|g| g.shape()).collect();
    assert_eq!(shapes, [(3, 5), (5, 5), (5, 2)]);
    GradCheck::new()
        .wrt_params("ws", &ws, &grad.ws, |ws| stack(&x, ws, &b))
        .wrt_params("b", &b, &grad.b, |b| stack(&x, &ws, b))
        .run()
        .assert_passed();
}

/// A `Vec` field of matrices read by index, and an element of a vector field.
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Stack {
    ws: Vec<DMatrix<f64>>,
    v: DVector<f64>,
}

#[differentiate]
fn stack_field(p: &Stack, x: &DMatrix<f64>) -> DMatrix<f64> {
    let mut h = x * &p.ws[0];
    for i in 1..p.ws.len() {
        h = tanh(&h * &p.ws[i]) * p.v[i];
    }
    h
}

#[test]
fn a_vec_field_read_by_index() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let x = DMatrix::from_fn(4, 3, |_, _| value(&mut rng));
    let shapes = Stack {
        ws: vec![
            DMatrix::zeros(3, 4),
            DMatrix::zeros(4, 4),
            DMatrix::zeros(4, 2),
        ],
        v: DVector::zeros(3),
    };
    let p = random(&shapes, &mut rng);
    let u = DMatrix::from_fn(4, 2, |_, _| value(&mut rng));
    let (y, grad) = stack_field_vjp(&p, &x, u.clone());
    assert_eq!(y, stack_field(&p, &x));
    assert_eq!(grad.p.v[0], 0.0, "v[0] is never read");
    dot_product_test(&p, &u, &grad.p, |p| stack_field(p, &x), &mut rng);
    GradCheck::new()
        .wrt_params("p", &p, &grad.p, |p| {
            (stack_field(p, &x).component_mul(&u)).sum()
        })
        .run()
        .assert_passed();
}

/// Loops over the elements of differentiable collections: a slice parameter with `iter()`,
/// a `Vec` field by reference, with `enumerate()`, and a vector field's scalars.
#[differentiate]
fn loops_over_collections(ws: &[DMatrix<f64>], p: &Stack, x: &DMatrix<f64>) -> f64 {
    let mut h = x.clone();
    for w in ws.iter() {
        h = tanh(&h * w);
    }
    let mut total = h.sum();
    for (i, w) in p.ws.iter().enumerate() {
        total += w.norm_squared() * (i as f64 + 1.0);
    }
    for v in &p.v {
        total += v * v * v;
    }
    total
}

#[test]
fn loops_over_differentiable_collections() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let x = DMatrix::from_fn(4, 3, |_, _| value(&mut rng));
    let ws = random(&vec![DMatrix::zeros(3, 4), DMatrix::zeros(4, 2)], &mut rng);
    let shapes = Stack {
        ws: vec![DMatrix::zeros(2, 2), DMatrix::zeros(1, 3)],
        v: DVector::zeros(3),
    };
    let p = random(&shapes, &mut rng);
    let (value, grad) = loops_over_collections_grad(&ws, &p, &x);
    assert_eq!(value, loops_over_collections(&ws, &p, &x));
    GradCheck::new()
        .wrt_params("ws", &ws, &grad.ws, |ws| loops_over_collections(ws, &p, &x))
        .wrt_params("p", &p, &grad.p, |p| loops_over_collections(&ws, p, &x))
        .wrt("x", &x, &grad.x, |x| loops_over_collections(&ws, &p, x))
        .run()
        .assert_passed();
}

/// A `Vec` of scalars and one of vectors taken by value: both sweeps read them through the
/// reverse sweep's own copy.
#[differentiate]
fn owned_collections(cs: Vec<f64>, vs: Vec<DVector<f64>>, x: &DVector<f64>) -> f64 {
    let mut total = 0.0;
    for (i, v) in vs.iter().enumerate() {
        total += cs[i] * v.dot(x).tanh();
    }
    total * cs[0]
}

#[test]
fn vecs_by_value() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let x = DVector::from_fn(3, |_, _| value(&mut rng));
    let cs = random(&vec![0.0; 2], &mut rng);
    let vs = random(&vec![DVector::zeros(3); 2], &mut rng);
    let (value, grad) = owned_collections_grad(cs.clone(), vs.clone(), &x);
    assert_eq!(value, owned_collections(cs.clone(), vs.clone(), &x));
    GradCheck::new()
        .wrt_params("cs", &cs, &grad.cs, |cs| {
            owned_collections(cs.clone(), vs.clone(), &x)
        })
        .wrt_params("vs", &vs, &grad.vs, |vs| {
            owned_collections(cs.clone(), vs.clone(), &x)
        })
        .wrt("x", &x, &grad.x, |x| {
            owned_collections(cs.clone(), vs.clone(), x)
        })
        .run()
        .assert_passed();
}

/// Constant fields: a `#[parameters(skip)]` count read in a cast and in a range bound, and a
/// flag in a condition; a scalar field captured by a `map` closure.
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Poly {
    coefficients: Vec<f64>,
    k: f64,
    #[parameters(skip)]
    degree: usize,
    #[parameters(skip)]
    squash: bool,
}

#[differentiate]
fn poly(p: &Poly, m: &DMatrix<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..p.degree {
        total += p.coefficients[i] * (i as f64 + 1.0);
    }
    let scaled = m.map(|v| (v * p.k).sin()).sum() / p.degree as f64;
    if p.squash {
        (total + scaled).tanh()
    } else {
        total + scaled
    }
}

#[test]
fn constant_fields_and_a_captured_field() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let m = DMatrix::from_fn(2, 3, |_, _| value(&mut rng));
    for squash in [false, true] {
        let shapes = Poly {
            coefficients: vec![0.0; 4],
            k: 0.0,
            degree: 3,
            squash,
        };
        let p = random(&shapes, &mut rng);
        let (value, grad) = poly_grad(&p, &m);
        assert_eq!(value, poly(&p, &m));
        assert_eq!((grad.p.degree, grad.p.squash), (3, squash));
        assert_eq!(grad.p.coefficients[3], 0.0, "beyond the degree: never read");
        GradCheck::new()
            .wrt_params("p", &p, &grad.p, |p| poly(p, &m))
            .wrt("m", &m, &grad.m, |m| poly(&p, m))
            .run()
            .assert_passed();
    }
}

/// A skipped rate passed to a parameter its callee differentiates: a constant there, whose
/// gradient the caller drops.
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Rated {
    w: DMatrix<f64>,
    #[parameters(skip)]
    rate: f64,
}

#[differentiate]
fn rated_penalty(w: &DMatrix<f64>, rate: f64) -> f64 {
    rate * w.map(|v| v.sin()).norm_squared()
}

#[differentiate(wrt(p))]
fn rated(p: &Rated) -> f64 {
    rated_penalty(&p.w, p.rate) + rated_penalty(&p.w, 2.0 * p.w.sum())
}

#[test]
fn a_skipped_field_passed_to_a_differentiated_parameter() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let shapes = Rated {
        w: DMatrix::zeros(2, 3),
        rate: 0.0,
    };
    let mut p = random(&shapes, &mut rng);
    p.rate = 0.75;
    let (value, grad) = rated_grad(&p);
    assert_eq!(value, rated(&p));
    assert_eq!(
        grad.p.rate, 0.75,
        "a skipped field is copied into the gradient"
    );
    GradCheck::new()
        .wrt_params("p", &p, &grad.p, rated)
        .run()
        .assert_passed();
}

/// A choice of nonlinearity, kept in skipped fields.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Squash {
    Tanh,
    Sigmoid,
    Identity,
}

#[differentiate]
fn squash(z: &DMatrix<f64>, how: Squash) -> DMatrix<f64> {
    if how == Squash::Tanh {
        tanh(z)
    } else if how == Squash::Sigmoid {
        sigmoid(z)
    } else {
        z.clone()
    }
}

/// Layers whose nonlinearities are skipped fields, an element of a `Vec` of them and one
/// whole, handed to a differentiated callee's constant parameter.
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Squashed {
    ws: Vec<DMatrix<f64>>,
    #[parameters(skip)]
    kinds: Vec<Squash>,
    #[parameters(skip)]
    last: Squash,
}

#[differentiate(wrt(p))]
fn squashed(p: &Squashed, x: &DMatrix<f64>) -> DMatrix<f64> {
    let z = x * &p.ws[0];
    let mut h = squash(&z, p.kinds[0]);
    for i in 1..p.ws.len() {
        let z = &h * &p.ws[i];
        h = squash(&z, p.kinds[i]);
    }
    squash(&h, p.last)
}

#[test]
fn skipped_fields_passed_to_a_callee_are_constants() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let x = DMatrix::from_fn(4, 3, |_, _| value(&mut rng));
    let kinds = vec![Squash::Tanh, Squash::Identity, Squash::Sigmoid];
    for last in [Squash::Sigmoid, Squash::Identity] {
        let shapes = Squashed {
            ws: vec![
                DMatrix::zeros(3, 5),
                DMatrix::zeros(5, 5),
                DMatrix::zeros(5, 2),
            ],
            kinds: kinds.clone(),
            last,
        };
        let p = random(&shapes, &mut rng);
        let u = DMatrix::from_fn(4, 2, |_, _| value(&mut rng));
        let (y, grad) = squashed_vjp(&p, &x, u.clone());
        assert_eq!(y, squashed(&p, &x));
        assert_eq!(
            (&grad.p.kinds, grad.p.last),
            (&kinds, last),
            "copied unchanged"
        );
        dot_product_test(&p, &u, &grad.p, |p| squashed(p, &x), &mut rng);
        GradCheck::new()
            .wrt_params("p", &p, &grad.p, |p| squashed(p, &x).dot(&u))
            .run()
            .assert_passed();
    }
}

/// Raw field names.
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Raw {
    r#type: f64,
    r#inner: Inner,
}

#[differentiate]
fn raw_names(p: &Raw) -> f64 {
    p.r#type * p.r#inner.s + p.r#inner.w.sum()
}

#[test]
fn raw_field_names() {
    let p = Raw {
        r#type: 2.0,
        r#inner: Inner {
            w: DMatrix::from_element(1, 2, 0.5),
            s: 3.0,
            unread: DVector::zeros(1),
        },
    };
    let (value, grad) = raw_names_grad(&p);
    assert_eq!(value, 7.0);
    assert_eq!((grad.p.r#type, grad.p.r#inner.s), (3.0, 2.0));
    assert_eq!(grad.p.r#inner.w, DMatrix::from_element(1, 2, 1.0));
}

/// A collection passed on whole to another differentiated function, twice: the callee's
/// gradient of it is added into the caller's.
#[differentiate]
fn weighted_total(ws: &[DMatrix<f64>], c: f64) -> f64 {
    let mut total = 0.0;
    for (i, w) in ws.iter().enumerate() {
        total += c * (i as f64 + 1.0) * w.map(|v| v * v).sum();
    }
    total
}

#[differentiate]
fn passes_collection_on(ws: &[DMatrix<f64>], x: f64) -> f64 {
    weighted_total(ws, x) * x + weighted_total(ws, 2.0) + ws[1].sum()
}

#[test]
fn a_collection_passed_to_another_differentiated_function() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let ws = random(&vec![DMatrix::zeros(2, 2), DMatrix::zeros(1, 3)], &mut rng);
    let x = 0.7;
    let (value, grad) = passes_collection_on_grad(&ws, x);
    assert_eq!(value, passes_collection_on(&ws, x));
    GradCheck::new()
        .wrt_params("ws", &ws, &grad.ws, |ws| passes_collection_on(ws, x))
        .wrt("x", &x, &grad.x, |&x| passes_collection_on(&ws, x))
        .run()
        .assert_passed();
}

/// A `Vec` field passed on whole to a function that takes a slice.
#[differentiate]
fn passes_field_on(p: &Stack) -> f64 {
    weighted_total(&p.ws, 1.5) + p.v.norm_squared()
}

#[test]
fn a_vec_field_passed_to_another_differentiated_function() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let shapes = Stack {
        ws: vec![DMatrix::zeros(2, 3), DMatrix::zeros(3, 1)],
        v: DVector::zeros(2),
    };
    let p = random(&shapes, &mut rng);
    let (_, grad) = passes_field_on_grad(&p);
    GradCheck::new()
        .wrt_params("p", &p, &grad.p, passes_field_on)
        .run()
        .assert_passed();
}
