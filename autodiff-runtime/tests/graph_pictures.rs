//! The pictures of a `Graph`, read by other people's code: its DOT text parsed by a DOT
//! parser with every node and edge found again, and its SVG parsed and rendered by resvg
//! into a picture that is not blank.

use autodiff_runtime::graph::{Builder, Graph, NodeKind};
use graphviz_rust::dot_structures::{Edge, EdgeTy, Graph as Dot, Stmt, Vertex};
use nalgebra::DMatrix;

/// The lecture's sigmoid neuron at w = (2, -3, -3), x = (-1, -2), its gradients computed
/// here by the chain rule node by node (the numbers of the slide).
fn neuron() -> Graph {
    let (w0, x0, w1, x1, w2) = (2.0f64, -1.0, -3.0, -2.0, -3.0);
    let b = Builder::new("neuron");
    let inputs = [("w0", w0), ("x0", x0), ("w1", w1), ("x1", x1), ("w2", w2)];
    let [n_w0, n_x0, n_w1, n_x1, n_w2] = inputs.map(|(name, v)| b.input(name, &v, true));
    let op = NodeKind::Operation;
    let (a, c) = (w0 * x0, w1 * x1);
    let n_a = b.operation(op, "w0 * x0", &[n_w0, n_x0], &a);
    let n_c = b.operation(op, "w1 * x1", &[n_w1, n_x1], &c);
    let s = a + c + w2;
    let n_s = b.operation(op, "w0 * x0 + w1 * x1 + w2", &[n_a, n_c, n_w2], &s);
    let f = 1.0 / (1.0 + (-s).exp());
    let n_f = b.operation(op, "sigmoid(..)", &[n_s], &f);
    let d_s = f * (1.0 - f);
    for (node, d) in [(n_s, d_s), (n_a, d_s), (n_c, d_s), (n_w2, d_s)] {
        b.gradient(node, &d);
    }
    for (node, d) in [
        (n_w0, d_s * x0),
        (n_x0, d_s * w0),
        (n_w1, d_s * x1),
        (n_x1, d_s * w1),
    ] {
        b.gradient(node, &d);
    }
    {
        b.output(n_f);
        b.finish()
    }
}

#[test]
fn the_dot_text_parses_back_with_every_node_and_edge() {
    let graph = neuron();
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
    // One node per graph node and one for the result's end; one edge per input read, and
    // the result's.
    assert_eq!(nodes, graph.nodes().len() + 1);
    let reads: usize = graph.nodes().iter().map(|n| n.inputs.len()).sum();
    assert_eq!(edges.len(), reads + 1);
    let endpoints = |e: &Edge| match &e.ty {
        EdgeTy::Pair(Vertex::N(a), Vertex::N(b)) => (a.0.to_string(), b.0.to_string()),
        other => panic!("an edge between two nodes, not {other:?}"),
    };
    assert!(edges
        .iter()
        .any(|e| endpoints(e) == ("n0".into(), "n5".into())));
    assert!(edges
        .iter()
        .any(|e| endpoints(e) == ("n8".into(), "result".into())));
}

#[test]
fn the_slide_numbers_are_on_the_nodes() {
    let graph = neuron();
    let gradient = |label: &str| {
        let node = graph.node(label).expect(label);
        node.gradient
            .as_ref()
            .and_then(|g| g.as_scalar())
            .expect("a scalar gradient")
    };
    let rounded = |v: f64| (v * 100.0).round() / 100.0;
    let slide = [
        ("w0", -0.20),
        ("x0", 0.39),
        ("w1", -0.39),
        ("x1", -0.59),
        ("w2", 0.20),
    ];
    for (name, want) in slide {
        assert_eq!(rounded(gradient(name)), want, "{name}");
    }
}

/// Renders SVG text with resvg, the text in DejaVu Sans.
fn render(svg: &str) -> resvg::tiny_skia::Pixmap {
    let mut options = resvg::usvg::Options::default();
    options
        .fontdb_mut()
        .load_font_data(dejavu::sans::regular().to_vec());
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

/// How many pixels are drawn in each colour family: (dark ink, green, red).
fn inks(pixmap: &resvg::tiny_skia::Pixmap) -> (usize, usize, usize) {
    let mut count = (0, 0, 0);
    for p in pixmap.pixels() {
        let (r, g, b) = (p.red() as i32, p.green() as i32, p.blue() as i32);
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
    let pixmap = render(&neuron().to_svg());
    assert!(pixmap.width() > 400 && pixmap.height() > 100);
    let (ink, green, red) = inks(&pixmap);
    assert!(ink > 500, "wires and labels: {ink} dark pixels");
    assert!(green > 100, "values: {green} green pixels");
    assert!(red > 100, "gradients: {red} red pixels");
}

#[test]
fn a_matrix_shows_its_shape_and_summary() {
    let b = Builder::new("norm");
    let m = DMatrix::from_fn(64, 100, |i, j| (i as f64 - j as f64) / 50.0);
    let n_m = b.input("m", &m, true);
    let n_s = b.operation(
        NodeKind::Operation,
        "m.norm_squared()",
        &[n_m],
        &m.norm_squared(),
    );
    b.gradient(n_m, &(&m * 2.0));
    let graph = {
        b.output(n_s);
        b.finish()
    };
    let value = graph.nodes()[n_m].value.to_string();
    assert!(
        value.starts_with("64×100 min -1.98 max 1.26 ‖·‖ "),
        "{value}"
    );
    let svg = graph.to_svg();
    assert!(svg.contains("64×100 min -1.98"), "{svg}");
    let (_, green, red) = inks(&render(&svg));
    assert!(green > 100 && red > 100);
}

#[test]
fn a_constant_says_it_has_no_gradient() {
    let b = Builder::new("scaled");
    let x = b.input("x", &3.0, true);
    let c = b.input("c", &2.0, false);
    let y = b.operation(NodeKind::Operation, "c * x", &[c, x], &6.0);
    b.gradient(x, &2.0);
    let graph = {
        b.output(y);
        b.finish()
    };
    assert_eq!(graph.nodes()[c].kind, NodeKind::Constant);
    assert_eq!(graph.nodes()[c].gradient, None);
    assert!(graph.to_dot().contains("no gradient"));
}
