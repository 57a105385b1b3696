//! The multilayer perceptron: layers chained at run time through the split sweeps of their
//! `#[differentiate]` functions.

use super::fully_connected::{
    dense_bwd, dense_fwd, dense_input, dense_input_bwd, dense_input_fwd, maxout_dense_bwd,
    maxout_dense_fwd, maxout_dense_input, maxout_dense_input_bwd, maxout_dense_input_fwd,
};
use super::layer::{Layer, LayerGrad};
use super::loss::{l2_penalty, l2_penalty_grad, Loss};
use nalgebra::DMatrix;
use std::fmt;

/// A multilayer perceptron: [`Layer`]s applied in order to a batch (one sample a row); the
/// last layer's outputs are the class scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    layers: Vec<Layer>,
}

/// The gradient of a loss with respect to every parameter of an [`Mlp`], layer by layer.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpGrad {
    /// One gradient per layer, in the order of [`Mlp::layers`].
    pub layers: Vec<LayerGrad>,
}

/// Layers that do not fit together: which layer, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    /// The index of the offending layer (0 is the first).
    pub layer: usize,
    /// What does not fit.
    pub message: String,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "layer {}: {}", self.layer, self.message)
    }
}

impl std::error::Error for ShapeError {}

/// A tape of one layer: the two kinds of layer have tapes of different (unnameable) types.
enum Tape<D, M> {
    Dense(D),
    Maxout(M),
}

impl Mlp {
    /// An `Mlp` of the given layers, after checking that each one's inputs are the previous
    /// one's outputs and that its parameters fit together.
    pub fn from_layers(layers: Vec<Layer>) -> Result<Mlp, ShapeError> {
        if layers.is_empty() {
            return Err(ShapeError {
                layer: 0,
                message: "an Mlp needs at least one layer".into(),
            });
        }
        for (i, layer) in layers.iter().enumerate() {
            layer
                .check()
                .map_err(|message| ShapeError { layer: i, message })?;
            if i > 0 && layers[i - 1].outputs() != layer.inputs() {
                let message = format!(
                    "takes {} inputs but layer {} has {} outputs",
                    layer.inputs(),
                    i - 1,
                    layers[i - 1].outputs()
                );
                return Err(ShapeError { layer: i, message });
            }
        }
        Ok(Mlp { layers })
    }

    /// The layers, first to last.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The layer sizes: the number of inputs, then each layer's number of outputs.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.layers[0].inputs()];
        sizes.extend(self.layers.iter().map(Layer::outputs));
        sizes
    }

    /// Every parameter as a slice, layer by layer, in the order of [`MlpGrad::parameters`].
    pub fn parameters(&self) -> Vec<&[f64]> {
        self.layers.iter().flat_map(Layer::parameters).collect()
    }

    /// [`Mlp::parameters`], mutable: what an optimizer updates.
    pub fn parameters_mut(&mut self) -> Vec<&mut [f64]> {
        self.layers
            .iter_mut()
            .flat_map(Layer::parameters_mut)
            .collect()
    }

    /// The number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        self.parameters().iter().map(|p| p.len()).sum()
    }

    /// The scores of a batch `x` (`n × inputs`): `n × outputs`.
    ///
    /// Panics with both shapes when `x` does not have [`sizes`](Mlp::sizes)`[0]` columns.
    #[track_caller]
    pub fn forward(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let (first, rest) = self.split();
        let mut h = match first {
            Layer::Dense { w, b, activation } => dense_input(x, w, b, *activation),
            Layer::Maxout { w_a, b_a, w_b, b_b } => maxout_dense_input(x, w_a, b_a, w_b, b_b),
        };
        for layer in rest {
            h = layer.forward(h);
        }
        h
    }

    /// The predicted class of each row of `x`: the index of its largest score.
    pub fn predict(&self, x: &DMatrix<f64>) -> Vec<usize> {
        argmax_rows(&self.forward(x))
    }

    /// The fraction of the rows of `x` whose predicted class is the label.
    pub fn accuracy(&self, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
        crate::data::accuracy(&self.predict(x), labels)
    }

    /// The training objective: `loss(scores, labels) + Σ_W ½·λ·‖W‖²` over every weight
    /// matrix (not the biases).
    pub fn loss(&self, x: &DMatrix<f64>, labels: &[usize], loss: Loss, lambda: f64) -> f64 {
        loss.value(&self.forward(x), labels) + self.penalty(lambda)
    }

    /// The sum of `½·λ·‖W‖²` over every weight matrix.
    pub fn penalty(&self, lambda: f64) -> f64 {
        if lambda == 0.0 {
            return 0.0;
        }
        self.layers
            .iter()
            .flat_map(Layer::weights)
            .map(|w| l2_penalty(w, lambda))
            .sum()
    }

    /// [`Mlp::loss`] and its gradient with respect to every parameter.
    ///
    /// Runs each layer's derived forward sweep in order, keeping the tapes, then the loss's
    /// gradient, then each layer's derived reverse sweep in the opposite order: the adjoint
    /// of a layer's input is the seed of the layer before it. The first layer's input is
    /// the data, so its function differentiates with respect to its weights only.
    pub fn loss_and_grad(
        &self,
        x: &DMatrix<f64>,
        labels: &[usize],
        loss: Loss,
        lambda: f64,
    ) -> (f64, MlpGrad) {
        let (first, rest) = self.split();
        let (mut h, first_tape) = match first {
            Layer::Dense { w, b, activation } => {
                let (h, tape) = dense_input_fwd(x, w, b, *activation);
                (h, Tape::Dense(tape))
            }
            Layer::Maxout { w_a, b_a, w_b, b_b } => {
                let (h, tape) = maxout_dense_input_fwd(x, w_a, b_a, w_b, b_b);
                (h, Tape::Maxout(tape))
            }
        };
        let mut tapes = Vec::with_capacity(rest.len());
        for layer in rest {
            let (out, tape) = match layer {
                Layer::Dense { w, b, activation } => {
                    let (out, tape) = dense_fwd(h, w, b, *activation);
                    (out, Tape::Dense(tape))
                }
                Layer::Maxout { w_a, b_a, w_b, b_b } => {
                    let (out, tape) = maxout_dense_fwd(h, w_a, b_a, w_b, b_b);
                    (out, Tape::Maxout(tape))
                }
            };
            tapes.push(tape);
            h = out;
        }

        let (data_loss, mut seed) = loss.value_and_grad(&h, labels);
        crate::buffers::recycle(h);
        let mut grads = Vec::with_capacity(self.layers.len());
        for tape in tapes.into_iter().rev() {
            let (grad, d_input) = match tape {
                Tape::Dense(tape) => {
                    let g = dense_bwd(tape, seed);
                    (LayerGrad::Dense { w: g.w, b: g.b }, g.x)
                }
                Tape::Maxout(tape) => {
                    let g = maxout_dense_bwd(tape, seed);
                    (
                        LayerGrad::Maxout {
                            w_a: g.w_a,
                            b_a: g.b_a,
                            w_b: g.w_b,
                            b_b: g.b_b,
                        },
                        g.x,
                    )
                }
            };
            grads.push(grad);
            seed = d_input;
        }
        grads.push(match first_tape {
            Tape::Dense(tape) => {
                let g = dense_input_bwd(tape, seed);
                LayerGrad::Dense { w: g.w, b: g.b }
            }
            Tape::Maxout(tape) => {
                let g = maxout_dense_input_bwd(tape, seed);
                LayerGrad::Maxout {
                    w_a: g.w_a,
                    b_a: g.b_a,
                    w_b: g.w_b,
                    b_b: g.b_b,
                }
            }
        });
        grads.reverse();

        let penalty = self.add_penalty_grads(&mut grads, lambda);
        // The same sum in the same order as `loss`, so the two agree exactly.
        (data_loss + penalty, MlpGrad { layers: grads })
    }

    /// [`Mlp::loss_and_grad`] with the batch cut into `shards` shards of rows whose
    /// gradients are derived on several threads at once and summed in the order of the
    /// shards ([`crate::parallel::sharded_grad`]); the L2 penalty is added once, to the sum.
    ///
    /// The result depends on `shards` only (not on the number of threads or on timing), and
    /// equals [`Mlp::loss_and_grad`] to rounding; with `shards` 0 or 1 it is
    /// [`Mlp::loss_and_grad`] itself. Each shard copies its rows of `x` into a buffer of its
    /// thread's pool.
    pub fn loss_and_grad_sharded(
        &self,
        x: &DMatrix<f64>,
        labels: &[usize],
        loss: Loss,
        lambda: f64,
        shards: usize,
    ) -> (f64, MlpGrad) {
        if shards <= 1 || x.nrows() <= 1 {
            return self.loss_and_grad(x, labels, loss, lambda);
        }
        let (data_loss, mut grad) = crate::parallel::sharded_grad(x.nrows(), shards, |rows| {
            let shard = rows_of(x, rows.clone());
            let result = self.loss_and_grad(&shard, &labels[rows], loss, 0.0);
            crate::buffers::recycle(shard);
            result
        });
        let penalty = self.add_penalty_grads(&mut grad.layers, lambda);
        (data_loss + penalty, grad)
    }

    /// Adds the gradient of each weight matrix's `½·λ·‖W‖²` to `grads` and returns the sum
    /// of the penalties, in the order of [`Mlp::penalty`].
    pub(crate) fn add_penalty_grads(&self, grads: &mut [LayerGrad], lambda: f64) -> f64 {
        let mut penalty = 0.0;
        if lambda == 0.0 {
            return penalty;
        }
        for (layer, grad) in self.layers.iter().zip(grads) {
            let mut penalty_grads = Vec::new();
            for w in layer.weights() {
                let (value, g) = l2_penalty_grad(w, lambda);
                penalty += value;
                penalty_grads.push(g.w);
            }
            grad.add_to_weights(penalty_grads);
        }
        penalty
    }

    fn split(&self) -> (&Layer, &[Layer]) {
        self.layers
            .split_first()
            .expect("an Mlp has at least one layer")
    }
}

impl MlpGrad {
    /// Gives every gradient matrix back to the pool of [`crate::buffers`], for the next step
    /// to reuse: what a training loop does once the optimizer has applied the gradient.
    pub fn recycle(self) {
        self.layers.into_iter().for_each(LayerGrad::recycle);
    }

    /// Every gradient as a slice, in the order of [`Mlp::parameters`].
    pub fn parameters(&self) -> Vec<&[f64]> {
        self.layers.iter().flat_map(LayerGrad::parameters).collect()
    }

    /// Every gradient as a mutable slice, in the order of [`Mlp::parameters`].
    pub fn parameters_mut(&mut self) -> Vec<&mut [f64]> {
        self.layers
            .iter_mut()
            .flat_map(LayerGrad::parameters_mut)
            .collect()
    }

    /// The Euclidean norm of the whole gradient.
    pub fn norm(&self) -> f64 {
        self.parameters()
            .iter()
            .flat_map(|p| p.iter())
            .map(|g| g * g)
            .sum::<f64>()
            .sqrt()
    }
}

impl crate::parallel::Gradient for MlpGrad {
    fn scale_by(&mut self, factor: f64) {
        self.layers.scale_by(factor);
    }

    #[track_caller]
    fn add_scaled(&mut self, factor: f64, other: &Self) {
        self.layers.add_scaled(factor, &other.layers);
    }

    fn recycle_buffers(self) {
        self.recycle();
    }
}

/// The rows `rows` of `x`, in a buffer of the current thread's pool.
fn rows_of(x: &DMatrix<f64>, rows: core::ops::Range<usize>) -> DMatrix<f64> {
    let mut out: DMatrix<f64> = crate::buffers::matrix(
        nalgebra::Dyn(rows.len()),
        nalgebra::Dyn(x.ncols()),
        crate::buffers::Fill::Overwritten,
    );
    for (mut to, from) in out.column_iter_mut().zip(x.column_iter()) {
        to.as_mut_slice()
            .copy_from_slice(&from.as_slice()[rows.clone()]);
    }
    out
}

/// The index of the largest element of each row (the first one on ties).
pub fn argmax_rows(scores: &DMatrix<f64>) -> Vec<usize> {
    scores
        .row_iter()
        .map(|row| {
            let mut best = 0;
            for j in 1..row.len() {
                if row[j] > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}
