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

/// Where each node goes, given the length of the straight, labelled wire out of each.
pub(crate) fn lay_out(graph: &Graph, stub_length: impl Fn(usize) -> f64) -> Layout {
    let nodes = graph.nodes();
    let layer: Vec<usize> = layers(graph);
    let layers = layer.iter().max().map_or(0, |l| l + 1);
    let width: Vec<f64> = nodes.iter().map(|n| text_width(&n.label) + 20.0).collect();
    // Each layer's column: as wide as its widest node, then a gap as long as the longest
    // wire leaving it, and room for the wires to bend.
    let mut column_x = vec![MARGIN; layers + 1];
    let mut column_width = vec![0.0; layers];
    for l in 0..layers {
        let members = (0..nodes.len()).filter(|i| layer[*i] == l);
        column_width[l] = members.clone().map(|i| width[i]).fold(0.0, f64::max);
        let stub = members.map(&stub_length).fold(0.0, f64::max);
        column_x[l + 1] = column_x[l] + column_width[l] + (stub + 50.0).max(MIN_GAP);
    }
    let y = heights(graph, &layer, layers);
    let placed: Vec<Placed> = (0..nodes.len())
        .map(|i| Placed {
            x: column_x[layer[i]] + column_width[layer[i]] / 2.0,
            y: y[i],
            width: width[i],
        })
        .collect();
    let last = placed.get(graph.output()).map_or(MARGIN, |p| p.right());
    let result_x = last + stub_length(graph.output()) + 40.0;
    let height = y.iter().fold(0.0, |a: f64, b| a.max(*b)) + ROW / 2.0 + MARGIN;
    Layout {
        nodes: placed,
        result_x,
        width: result_x + MARGIN,
        height,
    }
}

/// Every node one layer right of the rightmost node it reads; then each input one layer
/// left of its first reader, so that no wire from an input crosses the whole picture.
fn layers(graph: &Graph) -> Vec<usize> {
    let nodes = graph.nodes();
    let mut layer = vec![0usize; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        layer[i] = node.inputs.iter().map(|j| layer[*j] + 1).max().unwrap_or(0);
    }
    for i in (0..nodes.len()).filter(|i| nodes[*i].inputs.is_empty()) {
        let readers = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.inputs.contains(&i));
        if let Some(first) = readers.map(|(r, _)| layer[r]).min() {
            layer[i] = first.saturating_sub(1);
        }
    }
    layer
}

/// The vertical centre of each node: each node at the mean height of what it reads (an
/// input: next to the other values its first reader reads, else in rows from the top),
/// then pushed apart within its layer to one row at least.
fn heights(graph: &Graph, layer: &[usize], layers: usize) -> Vec<f64> {
    let nodes = graph.nodes();
    let top = MARGIN + ROW / 2.0;
    let mut y = vec![top; nodes.len()];
    let mean = |of: &mut dyn Iterator<Item = f64>| {
        let (sum, count) = of.fold((0.0, 0), |(s, c), v| (s + v, c + 1));
        (count > 0).then(|| sum / count as f64)
    };
    for l in 0..layers {
        let members: Vec<usize> = (0..nodes.len()).filter(|i| layer[*i] == l).collect();
        let mut wanted: Vec<(f64, usize)> = Vec::new();
        for &i in members.iter().filter(|i| !nodes[**i].inputs.is_empty()) {
            let at = mean(&mut nodes[i].inputs.iter().map(|j| y[*j])).unwrap_or(top);
            wanted.push((at, i));
        }
        // The computed nodes of this layer take their wanted heights first.
        for (at, i) in &wanted {
            y[*i] = *at;
        }
        let placed: Vec<usize> = wanted.iter().map(|(_, i)| *i).collect();
        for (row, &i) in members
            .iter()
            .filter(|i| nodes[**i].inputs.is_empty())
            .enumerate()
        {
            // Beside the values the first reader also reads, when they are further left.
            let reader = nodes.iter().find(|n| n.inputs.contains(&i));
            let others = reader.map(|r| {
                r.inputs
                    .iter()
                    .filter(|j| layer[**j] < l || placed.contains(j))
            });
            let at = others
                .and_then(|o| mean(&mut o.map(|j| y[*j])))
                .map(|m| m + ROW * 0.75);
            wanted.push((at.unwrap_or(top + row as f64 * ROW), i));
        }
        wanted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut floor = top;
        for (want, i) in wanted {
            y[i] = want.max(floor);
            floor = y[i] + ROW;
        }
    }
    y
}
