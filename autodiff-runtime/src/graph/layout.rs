//! Where each node of a [`Graph`] goes in a picture: layers from left to right (a node one
//! layer right of the last node it reads), each node at the height of what it reads, the
//! gaps between layers wide enough for the labels of the edges that cross them.

use super::Graph;

/// Width of a character of the labels, in pixels, at the pictures' font size (13 px).
pub(crate) const CHAR_WIDTH: f64 = 7.6;
/// Height of an operation's box.
pub(crate) const BOX_HEIGHT: f64 = 32.0;
/// Vertical distance between neighbouring nodes of a layer, room for two label lines.
const ROW: f64 = 84.0;
/// The narrowest gap between layers.
const MIN_GAP: f64 = 110.0;
pub(crate) const MARGIN: f64 = 24.0;

/// A node's box: its centre and size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Placed {
    pub x: f64,
    pub y: f64,
    pub width: f64,
}

impl Placed {
    pub fn left(&self) -> f64 {
        self.x - self.width / 2.0
    }
    pub fn right(&self) -> f64 {
        self.x + self.width / 2.0
    }
}

pub(crate) struct Layout {
    pub nodes: Vec<Placed>,
    /// Where the result's edge ends, right of the last layer.
    pub result_x: f64,
    pub width: f64,
    pub height: f64,
}

pub(crate) fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_WIDTH
}

pub(crate) fn lay_out(graph: &Graph, edge_label_width: impl Fn(usize) -> f64) -> Layout {
    let nodes = graph.nodes();
    let layer: Vec<usize> = layers(graph);
    let layers = layer.iter().max().map_or(0, |l| l + 1);
    let width: Vec<f64> = nodes.iter().map(|n| text_width(&n.label) + 20.0).collect();
    // Each layer's column: as wide as its widest node, then a gap as wide as the widest
    // label on an edge leaving it.
    let mut column_x = vec![MARGIN; layers + 1];
    for l in 0..layers {
        let members = (0..nodes.len()).filter(|i| layer[*i] == l);
        let widest = members.clone().map(|i| width[i]).fold(0.0, f64::max);
        let label = members.map(&edge_label_width).fold(0.0, f64::max);
        column_x[l + 1] = column_x[l] + widest + (label + 16.0 + 50.0).max(MIN_GAP);
    }
    let y = heights(graph, &layer, layers);
    let placed: Vec<Placed> = (0..nodes.len())
        .map(|i| {
            let column_width = (0..nodes.len())
                .filter(|j| layer[*j] == layer[i])
                .map(|j| width[j])
                .fold(0.0, f64::max);
            let x = column_x[layer[i]] + column_width / 2.0;
            Placed {
                x,
                y: y[i],
                width: width[i],
            }
        })
        .collect();
    let label = edge_label_width(graph.output());
    let last = placed.get(graph.output()).map_or(MARGIN, |p| p.right());
    let result_x = last + label + 16.0 + 40.0;
    let height = y.iter().fold(0.0, |a: f64, b| a.max(*b)) + ROW / 2.0 + MARGIN;
    Layout {
        nodes: placed,
        result_x,
        width: result_x + MARGIN,
        height,
    }
}

/// Inputs in layer 0, every other node one right of the rightmost node it reads.
fn layers(graph: &Graph) -> Vec<usize> {
    let mut layer = vec![0; graph.nodes().len()];
    for (i, node) in graph.nodes().iter().enumerate() {
        layer[i] = node.inputs.iter().map(|j| layer[*j] + 1).max().unwrap_or(0);
    }
    layer
}

/// The vertical centre of each node: inputs in rows, each later node at the mean height
/// of what it reads, then pushed apart within its layer to one row at least.
fn heights(graph: &Graph, layer: &[usize], layers: usize) -> Vec<f64> {
    let nodes = graph.nodes();
    let top = MARGIN + ROW / 2.0;
    let mut y = vec![top; nodes.len()];
    for l in 0..layers {
        let members: Vec<usize> = (0..nodes.len()).filter(|i| layer[*i] == l).collect();
        let mut wanted: Vec<(f64, usize)> = members
            .iter()
            .enumerate()
            .map(|(row, &i)| {
                let reads = &nodes[i].inputs;
                let mean = reads.iter().map(|j| y[*j]).sum::<f64>() / reads.len().max(1) as f64;
                (
                    if reads.is_empty() {
                        top + row as f64 * ROW
                    } else {
                        mean
                    },
                    i,
                )
            })
            .collect();
        wanted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut floor = top;
        for (want, i) in wanted {
            y[i] = want.max(floor);
            floor = y[i] + ROW;
        }
    }
    y
}
