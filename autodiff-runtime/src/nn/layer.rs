//! One layer of an [`Mlp`](super::Mlp) (dense or maxout) with its parameters, and the
//! gradient of a layer, of the same shapes.

use super::activation::Activation;
use super::fully_connected::{dense, maxout_dense};
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

/// The gradient of a loss with respect to the parameters of one [`Layer`], field by field.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerGrad {
    /// The gradient of a [`Layer::Dense`].
    Dense {
        /// With respect to `w`.
        w: DMatrix<f64>,
        /// With respect to `b`.
        b: RowDVector<f64>,
    },
    /// The gradient of a [`Layer::Maxout`].
    Maxout {
        /// With respect to `w_a`.
        w_a: DMatrix<f64>,
        /// With respect to `b_a`.
        b_a: RowDVector<f64>,
        /// With respect to `w_b`.
        w_b: DMatrix<f64>,
        /// With respect to `b_b`.
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

    /// Every parameter as a slice of its elements (column-major), in a fixed order: the
    /// order of [`LayerGrad::parameters`].
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

    /// [`Layer::parameters`], mutable.
    pub fn parameters_mut(&mut self) -> Vec<&mut [f64]> {
        match self {
            Layer::Dense { w, b, .. } => vec![w.as_mut_slice(), b.as_mut_slice()],
            Layer::Maxout { w_a, b_a, w_b, b_b } => vec![
                w_a.as_mut_slice(),
                b_a.as_mut_slice(),
                w_b.as_mut_slice(),
                b_b.as_mut_slice(),
            ],
        }
    }

    /// The layer's output for a batch `x` (one sample a row).
    pub fn forward(&self, x: DMatrix<f64>) -> DMatrix<f64> {
        match self {
            Layer::Dense { w, b, activation } => dense(x, w, b, *activation),
            Layer::Maxout { w_a, b_a, w_b, b_b } => maxout_dense(x, w_a, b_a, w_b, b_b),
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

impl LayerGrad {
    /// Every gradient as a slice, in the order of [`Layer::parameters`].
    pub fn parameters(&self) -> Vec<&[f64]> {
        match self {
            LayerGrad::Dense { w, b } => vec![w.as_slice(), b.as_slice()],
            LayerGrad::Maxout { w_a, b_a, w_b, b_b } => {
                vec![
                    w_a.as_slice(),
                    b_a.as_slice(),
                    w_b.as_slice(),
                    b_b.as_slice(),
                ]
            }
        }
    }

    /// Every gradient as a mutable slice, in the order of [`Layer::parameters`].
    pub fn parameters_mut(&mut self) -> Vec<&mut [f64]> {
        match self {
            LayerGrad::Dense { w, b } => vec![w.as_mut_slice(), b.as_mut_slice()],
            LayerGrad::Maxout { w_a, b_a, w_b, b_b } => vec![
                w_a.as_mut_slice(),
                b_a.as_mut_slice(),
                w_b.as_mut_slice(),
                b_b.as_mut_slice(),
            ],
        }
    }

    /// Adds `λ·W` (the gradient of `½·λ·‖W‖²`, given as `penalty_grads` in the order of
    /// [`Layer::weights`]) to the weight gradients.
    pub(super) fn add_to_weights(&mut self, penalty_grads: Vec<DMatrix<f64>>) {
        let targets: Vec<&mut DMatrix<f64>> = match self {
            LayerGrad::Dense { w, .. } => vec![w],
            LayerGrad::Maxout { w_a, w_b, .. } => vec![w_a, w_b],
        };
        for (target, g) in targets.into_iter().zip(penalty_grads) {
            *target += &g;
            crate::buffers::recycle(g);
        }
    }

    /// Gives every matrix back to the pool of [`crate::buffers`].
    pub fn recycle(self) {
        use crate::buffers::recycle;
        match self {
            LayerGrad::Dense { w, b } => {
                recycle(w);
                recycle(b);
            }
            LayerGrad::Maxout { w_a, b_a, w_b, b_b } => {
                recycle(w_a);
                recycle(b_a);
                recycle(w_b);
                recycle(b_b);
            }
        }
    }
}

impl crate::parallel::Gradient for LayerGrad {
    fn scale_by(&mut self, factor: f64) {
        match self {
            LayerGrad::Dense { w, b } => {
                w.scale_by(factor);
                b.scale_by(factor);
            }
            LayerGrad::Maxout { w_a, b_a, w_b, b_b } => {
                w_a.scale_by(factor);
                b_a.scale_by(factor);
                w_b.scale_by(factor);
                b_b.scale_by(factor);
            }
        }
    }

    #[track_caller]
    fn add_scaled(&mut self, factor: f64, other: &Self) {
        match (self, other) {
            (LayerGrad::Dense { w, b }, LayerGrad::Dense { w: ow, b: ob }) => {
                w.add_scaled(factor, ow);
                b.add_scaled(factor, ob);
            }
            (
                LayerGrad::Maxout { w_a, b_a, w_b, b_b },
                LayerGrad::Maxout {
                    w_a: owa,
                    b_a: oba,
                    w_b: owb,
                    b_b: obb,
                },
            ) => {
                w_a.add_scaled(factor, owa);
                b_a.add_scaled(factor, oba);
                w_b.add_scaled(factor, owb);
                b_b.add_scaled(factor, obb);
            }
            _ => panic!("add_scaled: the gradients of a dense and of a maxout layer"),
        }
    }

    fn recycle_buffers(self) {
        LayerGrad::recycle(self);
    }
}
