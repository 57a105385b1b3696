//! The generated API: the split sweeps agree with the joint one, `wrt` leaves out the
//! constants, the tape holds exactly what the reverse sweep needs, `crate = path`.

mod common;

use autodiff::prelude::*;
use common::check::Draw;
use common::workloads;
use std::mem::size_of;

#[differentiate]
fn graph(x: f64, y: f64, z: f64) -> f64 {
    let q = x + y;
    q * z
}

#[differentiate]
fn layer(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
    tanh(add_bias(x * w, b))
}

#[test]
fn split_sweeps_give_the_joint_result() {
    let mut d = Draw::new(3);
    let (x, w, b) = (d.matrix(4, 3), d.matrix(3, 2), d.row(2));
    let seed = d.seed_matrix(4, 2);
    let (value, tape) = layer_fwd(&x, &w, &b);
    let split = layer_bwd(tape, seed.clone());
    let (joint_value, joint) = layer_vjp(&x, &w, &b, seed);
    assert_eq!(value, joint_value);
    assert_eq!(split, joint);
    assert_eq!(
        value,
        layer(&x, &w, &b),
        "the forward sweep computes what the function computes"
    );

    let (v, tape) = graph_fwd(-2.0, 5.0, -4.0);
    assert_eq!((v, graph_bwd(tape, 2.0)), graph_vjp(-2.0, 5.0, -4.0, 2.0));
}

#[test]
fn wrt_leaves_out_the_constants() {
    let (x, y) = (DMatrix::from_element(3, 2, 0.5), vec![0, 1, 2]);
    let (w1, b1) = (
        DMatrix::from_element(2, 4, 0.1),
        RowDVector::from_element(4, 0.0),
    );
    let (w2, b2) = (
        DMatrix::from_element(4, 3, -0.2),
        RowDVector::from_element(3, 0.1),
    );
    let (_, g) = workloads::spiral_loss_grad(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
    // An exhaustive pattern: it would not compile if the struct had a field for `x` or `reg`.
    let workloads::SpiralLossGrad {
        w1: g_w1,
        b1: g_b1,
        w2: g_w2,
        b2: g_b2,
    } = g;
    assert_eq!(
        (g_w1.shape(), g_b1.len(), g_w2.shape(), g_b2.len()),
        ((2, 4), 4, (4, 3), 3)
    );
}

#[test]
fn the_tape_holds_exactly_what_the_reverse_sweep_reads() {
    // (x + y)·z: the reverse sweep reads q and z, nothing else.
    let (_, tape) = graph_fwd(-2.0, 5.0, -4.0);
    assert_eq!(std::mem::size_of_val(&tape), 2 * size_of::<f64>());

    // The two-layer loss keeps the hidden activations and the residual; it borrows its four
    // parameters (one pointer each) instead of cloning them.
    let (x, y) = (
        DMatrix::from_element(4, 5, 0.1),
        DMatrix::from_element(4, 2, 0.3),
    );
    let (w1, w2) = (
        DMatrix::from_element(5, 3, 0.2),
        DMatrix::from_element(3, 2, -0.1),
    );
    let (_, tape) = workloads::two_layer_loss_fwd(&x, &y, &w1, &w2);
    assert_eq!(
        std::mem::size_of_val(&tape),
        2 * size_of::<DMatrix<f64>>() + 4 * size_of::<&DMatrix<f64>>()
    );
}

mod reexport {
    pub use autodiff as ad;
}

#[differentiate(crate = crate::reexport::ad, wrt(a))]
fn through_a_renamed_crate(a: f64, b: f64) -> f64 {
    a * b + a.exp()
}

#[test]
fn crate_path_names_a_reexport() {
    let (v, g) = through_a_renamed_crate_grad(1.0, 2.0);
    assert_eq!(v, 2.0 + 1f64.exp());
    assert_eq!(g.a, 2.0 + 1f64.exp());
}

#[differentiate]
#[allow(unused_variables)]
fn unused_parameter(a: f64, m: &DMatrix<f64>, v: DVector<f64>) -> f64 {
    a * 2.0
}

#[test]
fn unused_parameters_get_zero_gradients_of_their_shape() {
    let (_, g) = unused_parameter_grad(
        1.0,
        &DMatrix::from_element(2, 3, 1.0),
        DVector::from_element(4, 1.0),
    );
    assert_eq!(g.a, 2.0);
    assert_eq!(g.m, DMatrix::zeros(2, 3));
    assert_eq!(g.v, DVector::zeros(4));
}

#[differentiate]
fn returns_a_parameter(a: f64, m: &DMatrix<f64>) -> DMatrix<f64> {
    if a > 0.0 {
        m.clone()
    } else {
        m * a
    }
}

#[test]
fn a_result_that_is_a_parameter() {
    let m = DMatrix::from_element(2, 2, 3.0);
    let seed = DMatrix::from_element(2, 2, 1.0);
    let (v, g) = returns_a_parameter_vjp(1.0, &m, seed.clone());
    assert_eq!((v, g.a, g.m), (m.clone(), 0.0, seed.clone()));
    let (v, g) = returns_a_parameter_vjp(-1.0, &m, seed.clone());
    assert_eq!((v, g.a, g.m), (-&m, 12.0, -seed));
}

/// A `macro_rules!` macro that writes the attribute while its caller writes the function
/// (name, parameters and body): names the macro generates resolve where the attribute was
/// written, so this compiles and differentiates like the function written out.
macro_rules! differentiated {
    ($(#[$doc:meta])* fn $name:ident($($p:ident: $ty:ty),*) -> $ret:ty $body:block) => {
        $(#[$doc])*
        #[differentiate]
        fn $name($($p: $ty),*) -> $ret $body
    };
}

differentiated! {
    /// A scalar function with a branch and a call.
    fn through_a_macro(x: f64, m: &DMatrix<f64>) -> f64 {
        let s = m.map(|v| v * x).sum();
        if s > 0.0 { graph(x, s, 2.0) } else { s * s }
    }
}

differentiated! {
    fn matrix_through_a_macro(m: DMatrix<f64>, c: f64) -> DMatrix<f64> {
        tanh(m.scale(c)).transpose()
    }
}

#[test]
fn a_function_written_through_a_macro_rules_macro_is_differentiated() {
    let m = DMatrix::from_row_slice(2, 2, &[0.5, -0.2, 0.3, 0.4]);
    let (value, grad) = through_a_macro_grad(0.7, &m);
    assert_eq!(value, through_a_macro(0.7, &m));
    // f = 2(x + s), s = x·Σm: ∂f/∂x = 2(1 + Σm), ∂f/∂m = 2x.
    let sum = m.sum();
    assert!((grad.x - 2.0 * (1.0 + sum)).abs() < 1e-12);
    assert!((grad.m - DMatrix::from_element(2, 2, 1.4)).amax() < 1e-12);
    let seed = DMatrix::from_element(2, 2, 1.0);
    let (value, grad) = matrix_through_a_macro_vjp(m.clone(), 0.5, seed);
    assert_eq!(value, matrix_through_a_macro(m.clone(), 0.5));
    let want = m.map(|v| 0.5 * (1.0 - (0.5 * v).tanh().powi(2)));
    assert!((grad.m - want).amax() < 1e-12);
}

/// A function that applies no rule at all (its result is a parameter): the generated code
/// compiles without warnings (the crate denies them in CI) and its gradient is the identity.
#[differentiate]
fn identity(x: f64) -> f64 {
    x
}

#[test]
fn a_function_without_any_rule_is_differentiated() {
    assert_eq!(identity_grad(2.5), (2.5, IdentityGrad { x: 1.0 }));
}
