//! Pictures of a computation, the way the lecture draws its circuits: the nodes of a
//! differentiated function with the forward value of each and the gradient of the result
//! with respect to it. `#[differentiate(graph)]` fills a [`Graph`] from its own sweeps;
//! [`Graph::to_dot`] and [`Graph::write_svg`] draw it.

mod dot;
mod layout;
mod summary;
mod svg;

use std::cell::RefCell;
use std::rc::Rc;
pub use summary::{Summarize, Summary};

/// What a node of a [`Graph`] stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A parameter of the function that is differentiated.
    Input,
    /// A parameter or value that is a constant: it has no gradient.
    Constant,
    /// An operation of the body: `x + y`, `relu(..)`, `w1 * x`.
    Operation,
    /// A call to another differentiated function, drawn as one node.
    Call,
    /// A `map` with a closure, drawn as one node.
    Map,
}

/// One node: an input or an operation, its forward value and the gradient of the result
/// with respect to that value.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The parameter's name, or the operation's source text (`x + y`).
    pub label: String,
    /// What the node stands for.
    pub kind: NodeKind,
    /// The nodes whose values this one reads, by their index in [`Graph::nodes`].
    pub inputs: Vec<usize>,
    /// The forward value.
    pub value: Summary,
    /// The gradient of the result with respect to the value, `None` for a value the result
    /// does not depend on differentiably (a constant, or a value that reaches the result
    /// only through a condition or an index).
    pub gradient: Option<Summary>,
}

/// A function's computational graph with forward values and gradients, in evaluation order:
/// every node comes after the nodes it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    name: String,
    nodes: Vec<Node>,
    output: usize,
}

impl Graph {
    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The nodes in evaluation order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The first node with this label (a parameter's name, an operation's source text).
    pub fn node(&self, label: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.label == label)
    }

    /// The index of the node whose value the function returns.
    pub fn output(&self) -> usize {
        self.output
    }

    /// Graphviz text (`dot -Tsvg`), laid out left to right, values above the edges in
    /// green and gradients below in red.
    pub fn to_dot(&self) -> String {
        dot::write(self)
    }

    /// The picture as SVG text, laid out without any external program.
    pub fn to_svg(&self) -> String {
        svg::draw(self)
    }

    /// Writes [`Graph::to_svg`] to a file.
    pub fn write_svg(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        std::fs::write(path, self.to_svg())
    }
}

/// Fills a [`Graph`] node by node: what `NAME_graph` calls. A handle: its clones fill the
/// same graph (the forward sweep's and the reverse closure's). Not a stable API.
#[doc(hidden)]
#[derive(Clone)]
pub struct Builder {
    graph: Rc<RefCell<Graph>>,
}

impl Builder {
    /// An empty graph of the named function.
    pub fn new(name: &str) -> Self {
        let graph = Graph {
            name: name.to_owned(),
            nodes: Vec::new(),
            output: 0,
        };
        Builder {
            graph: Rc::new(RefCell::new(graph)),
        }
    }

    /// A parameter; a constant one gets no gradient.
    pub fn input(&self, name: &str, value: &impl Summarize, differentiable: bool) -> usize {
        let kind = if differentiable {
            NodeKind::Input
        } else {
            NodeKind::Constant
        };
        self.push(kind, name, &[], value)
    }

    /// An operation reading the given nodes (constants and literals among its operands
    /// are part of its label).
    pub fn operation(
        &self,
        kind: NodeKind,
        text: &str,
        inputs: &[usize],
        value: &impl Summarize,
    ) -> usize {
        self.push(kind, text, inputs, value)
    }

    fn push(&self, kind: NodeKind, label: &str, inputs: &[usize], value: &impl Summarize) -> usize {
        let mut graph = self.graph.borrow_mut();
        graph.nodes.push(Node {
            label: label.to_owned(),
            kind,
            inputs: inputs.to_vec(),
            value: value.summary(),
            gradient: None,
        });
        graph.nodes.len() - 1
    }

    /// The gradient of the result with respect to a node's value, once it is complete.
    pub fn gradient(&self, node: usize, gradient: &impl Summarize) {
        if let Some(n) = self.graph.borrow_mut().nodes.get_mut(node) {
            n.gradient = Some(gradient.summary());
        }
    }

    /// The node whose value the function returns.
    pub fn output(&self, node: usize) {
        self.graph.borrow_mut().output = node;
    }

    /// The finished graph (the result's gradient is 1).
    pub fn finish(&self) -> Graph {
        let mut graph = self.graph.replace(Graph {
            name: String::new(),
            nodes: Vec::new(),
            output: 0,
        });
        let output = graph.output;
        if let Some(n) = graph.nodes.get_mut(output) {
            n.gradient.get_or_insert(Summary::Scalar(1.0));
        }
        graph
    }
}
