//! The lecture's first computational graph, f = (x + y)·z at x = -2, y = 5, z = -4:
//! the forward values and then the gradients node by node, each one the upstream gradient
//! times the local gradient, exactly as on the slide. Every local gradient comes from a
//! function differentiated by `#[differentiate]`.
//!
//! Run with `cargo run --example graph`.

use autodiff::prelude::*;

/// The add node: q = x + y.
#[differentiate]
fn add_node(x: f64, y: f64) -> f64 {
    x + y
}

/// The multiply node: f = q·z.
#[differentiate]
fn mul_node(q: f64, z: f64) -> f64 {
    q * z
}

/// The whole graph in one function.
#[differentiate]
fn f(x: f64, y: f64, z: f64) -> f64 {
    let q = x + y;
    q * z
}

fn main() {
    let (x, y, z) = (-2.0, 5.0, -4.0);
    println!("forward pass");
    let q = add_node(x, y);
    println!("  q = x + y = {x} + {y} = {q}");
    let value = mul_node(q, z);
    println!("  f = q * z = {q} * {z} = {value}");

    println!("backward pass (upstream gradient × local gradient)");
    let df_df = 1.0;
    println!("  df/df = {df_df}");
    // The vector-Jacobian product of a node is the upstream gradient times its local gradient.
    let (_, mul) = mul_node_vjp(q, z, df_df);
    println!("  df/dz = df/df · ∂f/∂z = {df_df} · q = {}", mul.z);
    println!("  df/dq = df/df · ∂f/∂q = {df_df} · z = {}", mul.q);
    let (_, add) = add_node_vjp(x, y, mul.q);
    println!("  df/dx = df/dq · ∂q/∂x = {} · 1 = {}", mul.q, add.x);
    println!("  df/dy = df/dq · ∂q/∂y = {} · 1 = {}", mul.q, add.y);

    let (whole, grad) = f_grad(x, y, z);
    println!(
        "the whole function at once: f = {whole}, gradient (x, y, z) = ({}, {}, {})",
        grad.x, grad.y, grad.z
    );
    assert_eq!(
        (whole, grad.x, grad.y, grad.z),
        (value, add.x, add.y, mul.z)
    );
}
