//! One layer of an [`Mlp`](super::Mlp) (dense or maxout) with its parameters: what an `Mlp`
//! is built from and read back as.

use super::activation::Activation;
use nalgebra::{DMatrix, RowDVector};

/// A layer's parameters: `w` is `inputs × outputs`, `b` has `outputs` elements.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// `activation(x·w + b)`, with an elementwise activation (not [`Activation::Maxout`]).
    Dense {
        /// The weights, `inputs × outputs`.
        w: DMatrix<f64>,
        /// The bias, one element per output.
        b: RowDVector<f64>,
        /// The elementwise nonlinearity.
        activation: Activation,
    },
    /// `max(x·w_a + b_a, x·w_b + b_b)`, elementwise.
    Maxout {
        /// The weights of the first map, `inputs × outputs`.
        w_a: DMatrix<f64>,
        /// The bias of the first map.
        b_a: RowDVector<f64>,
        /// The weights of the second map, `inputs × outputs`.
        w_b: DMatrix<f64>,
        /// The bias of the second map.
        b_b: RowDVector<f64>,
    },
}

impl Layer {
    /// The number of inputs (rows of the weights).
    pub fn inputs(&self) -> usize {
        self.weights()[0].nrows()
    }

    /// The number of outputs (columns of the weights).
    pub fn outputs(&self) -> usize {
        self.weights()[0].ncols()
    }

    /// The layer's activation ([`Activation::Maxout`] for a maxout layer).
    pub fn activation(&self) -> Activation {
        match self {
            Layer::Dense { activation, .. } => *activation,
            Layer::Maxout { .. } => Activation::Maxout,
        }
    }

    /// The weight matrices (not the biases): what L2 regularization penalises.
    pub fn weights(&self) -> Vec<&DMatrix<f64>> {
        match self {
            Layer::Dense { w, .. } => vec![w],
            Layer::Maxout { w_a, w_b, .. } => vec![w_a, w_b],
        }
    }

    /// Every parameter as a slice of its elements (column-major): `w`, `b` (`w_a`, `b_a`,
    /// `w_b`, `b_b` for a maxout layer).
    pub fn parameters(&self) -> Vec<&[f64]> {
        match self {
            Layer::Dense { w, b, .. } => vec![w.as_slice(), b.as_slice()],
            Layer::Maxout { w_a, b_a, w_b, b_b } => {
                vec![
                    w_a.as_slice(),
                    b_a.as_slice(),
                    w_b.as_slice(),
                    b_b.as_slice(),
                ]
            }
        }
    }

    /// Checks that the parameters fit together: biases as long as the weights have
    /// columns, both maxout maps of one shape, no maxout activation on a dense layer.
    pub(super) fn check(&self) -> Result<(), String> {
        let w = self.weights()[0];
        if w.is_empty() {
            return Err(format!(
                "the weights are {}x{}: a layer needs at least one input and one output",
                w.nrows(),
                w.ncols()
            ));
        }
        match self {
            Layer::Dense { w, b, activation } => {
                if *activation == Activation::Maxout {
                    return Err(
                        "a dense layer cannot have the maxout activation: use Layer::Maxout".into(),
                    );
                }
                check_bias("b", w, b)
            }
            Layer::Maxout { w_a, b_a, w_b, b_b } => {
                if w_a.shape() != w_b.shape() {
                    return Err(format!(
                        "the two maxout weight matrices have different shapes: {:?} and {:?}",
                        w_a.shape(),
                        w_b.shape()
                    ));
                }
                check_bias("b_a", w_a, b_a)?;
                check_bias("b_b", w_b, b_b)
            }
        }
    }
}

fn check_bias(name: &str, w: &DMatrix<f64>, b: &RowDVector<f64>) -> Result<(), String> {
    if w.ncols() == b.len() {
        Ok(())
    } else {
        Err(format!(
            "the bias {name} has {} elements but the weights have {} columns",
            b.len(),
            w.ncols()
        ))
    }
}
