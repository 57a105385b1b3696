//! The pictures of `#[differentiate(graph)]`, read by other people's code: the DOT text parsed
//! by a DOT parser with every node and edge found again, and the SVG parsed and rendered by
//! resvg into a picture with its wires, values (green) and gradients (red).

use autodiff::graph::{Graph, NodeKind};
use autodiff::prelude::*;
use graphviz_rust::dot_structures::{Edge, EdgeTy, Graph as Dot, Stmt, Vertex};

/// The lecture's sigmoid neuron.
#[differentiate(graph)]
fn neuron(w0: f64, x0: f64, w1: f64, x1: f64, w2: f64) -> f64 {
    1.0 / (1.0 + (-(w0 * x0 + w1 * x1 + w2)).exp())
}

/// A loss of matrices, with constants and an elementwise `map`.
#[differentiate(graph, wrt(w))]
fn squared_error(x: &DMatrix<f64>, y: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let scores = (x * w).map(|s| s.tanh());
    (scores - y).norm_squared()
}

fn neuron_at_the_slide() -> Graph {
    neuron_graph(2.0, -1.0, -3.0, -2.0, -3.0)
}

#[test]
fn the_dot_text_parses_back_with_every_node_and_edge() {
    let graph = neuron_at_the_slide();
    let dot: Dot = graphviz_rust::parse(&graph.to_dot()).expect("valid DOT");
    let Dot::DiGraph { stmts, .. } = dot else {
        panic!("a directed graph")
    };
    let nodes = stmts.iter().filter(|s| matches!(s, Stmt::Node(_))).count();
    let edges: Vec<&Edge> = stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Edge(e) => Some(e),
            _ => None,
        })
        .collect();
    // One DOT node per graph node and one for the result's end; one edge per value read,
    // and the result's.
    assert_eq!(nodes, graph.nodes().len() + 1);
    let reads: usize = graph.nodes().iter().map(|n| n.inputs.len()).sum();
    assert_eq!(edges.len(), reads + 1);
    let endpoints = |e: &Edge| match &e.ty {
        EdgeTy::Pair(Vertex::N(a), Vertex::N(b)) => (a.0.to_string(), b.0.to_string()),
        other => panic!("an edge between two nodes, not {other:?}"),
    };
    let w0_times_x0 = graph
        .nodes()
        .iter()
        .position(|n| n.label == "w0 * x0")
        .unwrap();
    let edge = |a: usize, b: &str| (format!("n{a}"), b.to_owned());
    assert!(edges
        .iter()
        .any(|e| endpoints(e) == edge(0, &format!("n{w0_times_x0}"))));
    assert!(edges
        .iter()
        .any(|e| endpoints(e) == edge(graph.output(), "result")));
}

/// Renders SVG text with resvg, the text in DejaVu Sans.
fn render(svg: &str) -> resvg::tiny_skia::Pixmap {
    let mut options = resvg::usvg::Options::default();
    options
        .fontdb_mut()
        .load_font_data(dejavu::sans::regular().to_vec());
    options
        .fontdb_mut()
        .load_font_data(dejavu::sans::bold().to_vec());
    let tree = resvg::usvg::Tree::from_str(svg, &options).expect("valid SVG");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).expect("a size");
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap
}

/// How many pixels are drawn in each colour: (dark ink, green, red).
fn inks(pixmap: &resvg::tiny_skia::Pixmap) -> (usize, usize, usize) {
    let mut count = (0, 0, 0);
    for p in pixmap.pixels() {
        let (r, g, b) = (
            i32::from(p.red()),
            i32::from(p.green()),
            i32::from(p.blue()),
        );
        if r < 100 && g < 100 && b < 100 {
            count.0 += 1;
        } else if g > r + 40 && g > b + 40 {
            count.1 += 1;
        } else if r > g + 60 && r > b + 60 {
            count.2 += 1;
        }
    }
    count
}

#[test]
fn the_svg_renders_wires_values_and_gradients() {
    let pixmap = render(&neuron_at_the_slide().to_svg());
    assert!(pixmap.width() > 400 && pixmap.height() > 100);
    let (ink, green, red) = inks(&pixmap);
    assert!(ink > 500, "wires and labels: {ink} dark pixels");
    assert!(green > 100, "values: {green} green pixels");
    assert!(red > 100, "gradients: {red} red pixels");
}

#[test]
fn a_matrix_shows_its_shape_and_summary_and_constants_have_no_gradient() {
    let x = DMatrix::from_fn(6, 3, |i, j| (i as f64 - j as f64) / 4.0);
    let y = DMatrix::from_fn(6, 2, |i, j| ((i + j) % 3) as f64 - 1.0);
    let w = DMatrix::from_fn(3, 2, |i, j| 0.3 * i as f64 - 0.2 * j as f64);
    let graph = squared_error_graph(&x, &y, &w);
    let (value, grad) = squared_error_grad(&x, &y, &w);
    assert_eq!(graph.nodes()[graph.output()].value.as_scalar(), Some(value));
    let w_node = graph.node("w").unwrap();
    let want = autodiff::graph::Summarize::summary(&grad.w);
    assert_eq!(w_node.gradient.as_ref(), Some(&want));
    assert!(w_node
        .value
        .to_string()
        .starts_with("3×2 min -0.20 max 0.60 ‖·‖ "));
    for constant in ["x", "y"] {
        let node = graph.node(constant).unwrap();
        assert_eq!((node.kind, &node.gradient), (NodeKind::Constant, &None));
    }
    let map = graph
        .nodes()
        .iter()
        .find(|n| n.kind == NodeKind::Map)
        .expect("the map");
    assert_eq!(map.label, "(..).map(|s| s.tanh())");
    let svg = graph.to_svg();
    assert!(
        svg.contains("no gradient") && svg.contains("6×2 min"),
        "{svg}"
    );
    let (_, green, red) = inks(&render(&svg));
    assert!(green > 100 && red > 100);
}
