//! Graphviz text of a [`Graph`]: inputs on the left, the result on the right, each edge
//! labelled with the value it carries (green, above) and the gradient (red, below).

use super::{Graph, Node, NodeKind};
use std::fmt::Write;

pub(crate) const VALUE_COLOUR: &str = "#2e7d32";
pub(crate) const GRADIENT_COLOUR: &str = "#c62828";
pub(crate) const CONSTANT_COLOUR: &str = "#757575";

pub(crate) fn write(graph: &Graph) -> String {
    let mut out = String::new();
    let name = quoted(graph.name());
    let _ = writeln!(out, "digraph {name} {{");
    out.push_str("  rankdir=LR;\n  node [fontname=\"DejaVu Sans\"];\n");
    out.push_str("  edge [fontname=\"DejaVu Sans\", arrowsize=0.6];\n");
    for (i, node) in graph.nodes().iter().enumerate() {
        let _ = writeln!(
            out,
            "  n{i} [label={}, {}];",
            quoted(&node.label),
            shape(node)
        );
    }
    for (i, node) in graph.nodes().iter().enumerate() {
        for input in &node.inputs {
            let label = edge_label(&graph.nodes()[*input]);
            let _ = writeln!(out, "  n{input} -> n{i} [label={label}];");
        }
    }
    // The result leaves the last node on an edge of its own, as on the slides.
    if let Some(result) = graph.nodes().get(graph.output()) {
        out.push_str("  result [shape=none, label=\"\"];\n");
        let label = edge_label(result);
        let _ = writeln!(out, "  n{} -> result [label={label}];", graph.output());
    }
    out.push_str("}\n");
    out
}

fn shape(node: &Node) -> String {
    match node.kind {
        NodeKind::Input => "shape=plaintext".to_owned(),
        NodeKind::Constant => format!("shape=plaintext, fontcolor=\"{CONSTANT_COLOUR}\""),
        NodeKind::Operation | NodeKind::Call | NodeKind::Map => {
            let style = match node.kind {
                NodeKind::Call => "\"rounded,bold\"",
                _ => "rounded",
            };
            format!("shape=box, style={style}")
        }
    }
}

/// `<value<br/>gradient>` in the two colours; a value without gradient says so in grey.
fn edge_label(from: &Node) -> String {
    let value = html(&from.value.to_string());
    let gradient = match &from.gradient {
        Some(g) => format!(
            "<font color=\"{GRADIENT_COLOUR}\">{}</font>",
            html(&g.to_string())
        ),
        None => format!("<font color=\"{CONSTANT_COLOUR}\">no gradient</font>"),
    };
    format!("<<font color=\"{VALUE_COLOUR}\">{value}</font><br/>{gradient}>")
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

pub(crate) fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::{Builder, NodeKind};

    #[test]
    fn every_edge_carries_its_value_and_gradient() {
        let b = Builder::new("f");
        let x = b.input("x", &-2.0, true);
        let y = b.input("y", &5.0, true);
        let q = b.operation(NodeKind::Operation, "x + y", &[x, y], &3.0);
        b.gradient(x, &-4.0);
        b.gradient(y, &-4.0);
        let dot = {
            b.output(q);
            b.finish()
        }
        .to_dot();
        assert!(dot.contains("n0 -> n2 [label=<<font color=\"#2e7d32\">-2</font><br/><font color=\"#c62828\">-4</font>>];"), "{dot}");
        assert!(dot.contains("n2 -> result [label=<<font color=\"#2e7d32\">3</font><br/><font color=\"#c62828\">1</font>>];"), "{dot}");
        assert!(
            dot.contains("n2 [label=\"x + y\", shape=box, style=rounded];"),
            "{dot}"
        );
    }
}
