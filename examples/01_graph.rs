//! The lecture's first computational graph, f = (x + y)·z at x = -2, y = 5, z = -4:
//! the forward values and then the gradients node by node, each one the upstream gradient
//! times the local gradient, exactly as on the slide. Every local gradient comes from a
//! function differentiated by `#[differentiate]`.
//!
//! Then the pictures, drawn by `#[differentiate(graph)]` from the same sweeps: this circuit,
//! the lecture's sigmoid neuron, and the two-layer net's loss, each with its values above
//! the wires (green) and its gradients below (red), written to `docs/graph_*.svg`.
//!
//! Run with `cargo run --example graph`.

use autodiff::prelude::*;
use std::path::Path;

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
#[differentiate(graph)]
fn f(x: f64, y: f64, z: f64) -> f64 {
    let q = x + y;
    q * z
}

/// The lecture's sigmoid neuron, gate by gate: f(w, x) = 1 / (1 + e^-(w0·x0 + w1·x1 + w2)).
#[differentiate(graph)]
fn neuron(w0: f64, x0: f64, w1: f64, x1: f64, w2: f64) -> f64 {
    1.0 / (1.0 + (-(w0 * x0 + w1 * x1 + w2)).exp())
}

/// The two-layer net's loss of `two_layer`, at a small size: the data are constants.
#[differentiate(graph, wrt(w1, w2))]
fn two_layer_loss(x: &DMatrix<f64>, y: &DMatrix<f64>, w1: &DMatrix<f64>, w2: &DMatrix<f64>) -> f64 {
    let h = sigmoid(x * w1);
    let y_pred = &h * w2;
    (y_pred - y).norm_squared()
}

/// Writes the pictures into `docs/`.
fn draw() -> std::io::Result<()> {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    f_graph(-2.0, 5.0, -4.0).write_svg(docs.join("graph_circuit.svg"))?;
    let neuron = neuron_graph(2.0, -1.0, -3.0, -2.0, -3.0);
    neuron.write_svg(docs.join("graph_neuron.svg"))?;
    println!("the sigmoid neuron, node by node (value, gradient):");
    for node in neuron.nodes() {
        let gradient = node.gradient.as_ref().map(|g| g.to_string());
        println!(
            "  {:12} {:>6} {:>6}",
            node.label,
            node.value.to_string(),
            gradient.unwrap_or_default()
        );
    }
    let entry = |i: usize, j: usize, k: usize| ((i * 7 + j * 3 + k) % 11) as f64 / 5.0 - 1.0;
    let x = DMatrix::from_fn(8, 5, |i, j| entry(i, j, 0));
    let y = DMatrix::from_fn(8, 2, |i, j| entry(i, j, 1));
    let w1 = DMatrix::from_fn(5, 4, |i, j| entry(i, j, 2) / 2.0);
    let w2 = DMatrix::from_fn(4, 2, |i, j| entry(i, j, 3) / 2.0);
    two_layer_loss_graph(&x, &y, &w1, &w2).write_svg(docs.join("graph_two_layer.svg"))?;
    println!("pictures written to docs/graph_circuit.svg, graph_neuron.svg, graph_two_layer.svg");
    Ok(())
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
    if let Err(e) = draw() {
        eprintln!("could not write the pictures: {e}");
        std::process::exit(1);
    }
}
