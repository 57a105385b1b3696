//! `#[differentiate(graph)]`: the lecture's circuits drawn from the generated sweeps, with
//! the slides' numbers on their nodes, and the same numbers as `NAME_grad` on any function.

use autodiff::graph::{Graph, NodeKind};
use autodiff::prelude::*;

/// The lecture's first circuit.
#[differentiate(graph)]
fn circuit(x: f64, y: f64, z: f64) -> f64 {
    let q = x + y;
    q * z
}

/// The lecture's sigmoid neuron, written as on the slide, gate by gate.
#[differentiate(graph)]
fn neuron(w0: f64, x0: f64, w1: f64, x1: f64, w2: f64) -> f64 {
    1.0 / (1.0 + (-(w0 * x0 + w1 * x1 + w2)).exp())
}

fn scalar(graph: &Graph, label: &str) -> (f64, Option<f64>) {
    let node = graph
        .node(label)
        .unwrap_or_else(|| panic!("no node {label}: {graph:#?}"));
    let value = node.value.as_scalar().expect("a scalar value");
    (value, node.gradient.as_ref().and_then(|g| g.as_scalar()))
}

#[test]
fn the_first_circuit_has_the_slide_numbers() {
    let graph = circuit_graph(-2.0, 5.0, -4.0);
    assert_eq!(scalar(&graph, "x"), (-2.0, Some(-4.0)));
    assert_eq!(scalar(&graph, "y"), (5.0, Some(-4.0)));
    assert_eq!(scalar(&graph, "z"), (-4.0, Some(3.0)));
    assert_eq!(scalar(&graph, "x + y"), (3.0, Some(-4.0)));
    assert_eq!(scalar(&graph, "q * z"), (-12.0, Some(1.0)));
    let out = &graph.nodes()[graph.output()];
    assert_eq!(out.label, "q * z");
    let q = graph
        .nodes()
        .iter()
        .position(|n| n.label == "x + y")
        .unwrap();
    assert_eq!(out.inputs, vec![q, 2]);
    assert_eq!(graph.nodes().len(), 5);
}

#[test]
fn the_neuron_has_the_slide_numbers() {
    let graph = neuron_graph(2.0, -1.0, -3.0, -2.0, -3.0);
    let rounded = |v: f64| (v * 100.0).round() / 100.0;
    let slide = [
        ("w0", -0.20),
        ("x0", 0.39),
        ("w1", -0.39),
        ("x1", -0.59),
        ("w2", 0.20),
    ];
    for (name, want) in slide {
        let (_, gradient) = scalar(&graph, name);
        assert_eq!(gradient.map(rounded), Some(want), "{name}");
    }
    // Every gate of the slide, each sub-expression written `..`.
    let gates = [
        "w0 * x0",
        "w1 * x1",
        ".. + ..",
        ".. + w2",
        "-(..)",
        "(..).exp()",
        "1.0 + ..",
        "1.0 / (..)",
    ];
    for gate in gates {
        assert!(
            graph.node(gate).is_some(),
            "no gate {gate}: {:?}",
            labels(&graph)
        );
    }
    assert_eq!(rounded(scalar(&graph, "1.0 / (..)").0), 0.73);
    assert_eq!(rounded(scalar(&graph, "(..).exp()").1.unwrap()), -0.53);
}

fn labels(graph: &Graph) -> Vec<&str> {
    graph.nodes().iter().map(|n| n.label.as_str()).collect()
}

/// The graph's gradients are the gradient function's, on a matrix function with a constant
/// parameter and a call.
#[differentiate(wrt(w))]
fn scaled_norm(w: &DMatrix<f64>, c: f64) -> f64 {
    (w * c).norm_squared()
}

#[differentiate(graph, wrt(w, b))]
fn layer_loss(w: &DMatrix<f64>, b: f64, x: &DMatrix<f64>, c: f64) -> f64 {
    let h = relu(x * w);
    let s = scaled_norm(&h, c);
    s + b * b
}

#[test]
fn a_matrix_function_agrees_with_its_gradient() {
    let w = DMatrix::from_fn(3, 2, |i, j| (i as f64 - j as f64) * 0.7 + 0.1);
    let x = DMatrix::from_fn(4, 3, |i, j| ((i * 3 + j) as f64).sin());
    let graph = layer_loss_graph(&w, 0.5, &x, 2.0);
    let (value, grad) = layer_loss_grad(&w, 0.5, &x, 2.0);
    let out = &graph.nodes()[graph.output()];
    assert_eq!(out.value.as_scalar(), Some(value));
    let w_node = graph.node("w").unwrap();
    assert_eq!(w_node.kind, NodeKind::Input);
    assert_eq!(
        w_node.gradient,
        Some(autodiff::graph::Summarize::summary(&grad.w))
    );
    assert_eq!(scalar(&graph, "b").1, Some(grad.b));
    let (x_node, c_node) = (graph.node("x").unwrap(), graph.node("c").unwrap());
    assert_eq!(
        (x_node.kind, c_node.kind),
        (NodeKind::Constant, NodeKind::Constant)
    );
    assert_eq!((&x_node.gradient, &c_node.gradient), (&None, &None));
    let call = graph
        .nodes()
        .iter()
        .find(|n| n.kind == NodeKind::Call)
        .expect("the call");
    assert_eq!(call.label, "scaled_norm(&h, c)");
    assert!(graph.to_svg().contains("4×2"));
}

/// A vector built element by element, then read: each write is a node, and the gradients
/// on the inputs are the gradient function's.
#[differentiate(graph)]
fn built(x: f64, y: f64) -> f64 {
    let mut v = DVector::zeros(2);
    v[0] = x * y;
    v[1] = x + 1.0;
    v.norm_squared() + v[0]
}

#[test]
fn writes_and_reads_of_parts_are_nodes() {
    let graph = built_graph(1.5, -2.0);
    let (value, grad) = built_grad(1.5, -2.0);
    assert_eq!(graph.nodes()[graph.output()].value.as_scalar(), Some(value));
    assert_eq!(scalar(&graph, "x").1, Some(grad.x));
    assert_eq!(scalar(&graph, "y").1, Some(grad.y));
    let product = graph.node("x * y").expect("the product");
    assert_eq!(
        product.gradient.as_ref().and_then(|g| g.as_scalar()),
        Some(2.0 * -3.0 + 1.0)
    );
    let written = [
        "v[0] = ..",
        "v[1] = ..",
        "v.norm_squared()",
        "v[0]",
        ".. + ..",
    ];
    for label in written {
        assert!(
            graph.node(label).is_some(),
            "no node {label}: {:?}",
            labels(&graph)
        );
    }
}
