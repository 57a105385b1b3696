//! A [`Graph`] drawn as SVG, as the lecture draws circuits: wires from left to right, the
//! forward value above each wire in green and the gradient below it in red.

use super::dot::{html, CONSTANT_COLOUR, GRADIENT_COLOUR, VALUE_COLOUR};
use super::layout::{lay_out, text_width, Placed, BOX_HEIGHT};
use super::{Graph, Node, NodeKind};
use std::fmt::Write;

const FONT: &str = "font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"13\"";
const HALO: &str = "stroke=\"white\" stroke-width=\"4\" paint-order=\"stroke\"";

pub(crate) fn draw(graph: &Graph) -> String {
    let nodes = graph.nodes();
    let labels: Vec<(String, String)> = nodes.iter().map(edge_texts).collect();
    let layout = lay_out(graph, |i| stub_length(&labels[i]));
    let mut svg = String::new();
    let (w, h) = (layout.width, layout.height);
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
         viewBox=\"0 0 {w:.0} {h:.0}\">"
    );
    let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    // A value leaves its node on one straight wire, labelled once, then branches to
    // every node that reads it.
    let stub_end = |i: usize| layout.nodes[i].right() + stub_length(&labels[i]);
    for (i, node) in nodes.iter().enumerate() {
        for input in &node.inputs {
            let (from, to) = (layout.nodes[*input], layout.nodes[i]);
            branch(&mut svg, (stub_end(*input), from.y), (to.left(), to.y));
        }
    }
    if let Some(out) = layout.nodes.get(graph.output()) {
        branch(
            &mut svg,
            (stub_end(graph.output()), out.y),
            (layout.result_x, out.y),
        );
    }
    let read: Vec<bool> = (0..nodes.len())
        .map(|i| i == graph.output() || nodes.iter().any(|n| n.inputs.contains(&i)))
        .collect();
    for (i, placed) in layout.nodes.iter().enumerate().filter(|(i, _)| read[*i]) {
        stub(&mut svg, placed, stub_end(i), &labels[i]);
    }
    for (node, placed) in nodes.iter().zip(&layout.nodes) {
        draw_node(&mut svg, node, placed);
    }
    svg.push_str("</svg>\n");
    svg
}

/// The two lines on a node's outgoing wires: its value, and its gradient or "no gradient".
fn edge_texts(node: &Node) -> (String, String) {
    let gradient = node
        .gradient
        .as_ref()
        .map_or_else(|| "no gradient".to_owned(), |g| g.to_string());
    (node.value.to_string(), gradient)
}

/// The straight wire out of a node: long enough for its two labels.
fn stub_length((value, gradient): &(String, String)) -> f64 {
    text_width(value).max(text_width(gradient)) + 16.0
}

/// The straight wire out of a node, with its value above and its gradient below.
fn stub(svg: &mut String, from: &Placed, end: f64, (value, gradient): &(String, String)) {
    let _ = writeln!(
        svg,
        "<path d=\"M {:.1} {:.1} H {end:.1}\" stroke=\"#424242\" stroke-width=\"1.4\"/>",
        from.right(),
        from.y
    );
    let middle = (from.right() + end) / 2.0;
    let gradient_colour = if gradient == "no gradient" {
        CONSTANT_COLOUR
    } else {
        GRADIENT_COLOUR
    };
    text(svg, (middle, from.y - 6.0), value, VALUE_COLOUR, "");
    text(svg, (middle, from.y + 17.0), gradient, gradient_colour, "");
}

/// A branch of a wire from `a` to the node at `b`: a curve where they differ in height,
/// and an arrow head.
fn branch(svg: &mut String, a: (f64, f64), b: (f64, f64)) {
    let bend = (b.0 - a.0) / 2.0;
    let _ = writeln!(
        svg,
        "<path d=\"M {:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {:.1} {:.1}\" fill=\"none\" \
         stroke=\"#424242\" stroke-width=\"1.4\"/>",
        a.0,
        a.1,
        a.0 + bend,
        a.1,
        b.0 - bend,
        b.1,
        b.0 - 6.0,
        b.1
    );
    let _ = writeln!(
        svg,
        "<path d=\"M {:.1} {:.1} L {:.1} {:.1} L {:.1} {:.1} Z\" fill=\"#424242\"/>",
        b.0,
        b.1,
        b.0 - 8.0,
        b.1 - 4.0,
        b.0 - 8.0,
        b.1 + 4.0
    );
}

fn draw_node(svg: &mut String, node: &Node, at: &Placed) {
    match node.kind {
        NodeKind::Input => text(
            svg,
            (at.x, at.y + 5.0),
            &node.label,
            "#000000",
            "font-weight=\"bold\"",
        ),
        NodeKind::Constant => text(svg, (at.x, at.y + 5.0), &node.label, CONSTANT_COLOUR, ""),
        NodeKind::Operation | NodeKind::Call | NodeKind::Map => {
            let stroke = if node.kind == NodeKind::Call {
                "2.4"
            } else {
                "1.4"
            };
            let _ = writeln!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BOX_HEIGHT}\" rx=\"14\" \
                 fill=\"#e3f2fd\" stroke=\"#1565c0\" stroke-width=\"{stroke}\"/>",
                at.left(),
                at.y - BOX_HEIGHT / 2.0,
                at.width
            );
            text(svg, (at.x, at.y + 5.0), &node.label, "#0d47a1", "");
        }
    }
}

fn text(svg: &mut String, (x, y): (f64, f64), content: &str, colour: &str, extra: &str) {
    let _ = writeln!(
        svg,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" fill=\"{colour}\" {FONT} {HALO} \
         {extra}>{}</text>",
        html(content)
    );
}
