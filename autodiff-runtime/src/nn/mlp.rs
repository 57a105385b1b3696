//! The multilayer perceptron: a `#[derive(Parameters)]` struct of its layers' weights and
//! biases, and its training objective as one `#[differentiate]` function, a loop over the
//! layers, whose gradient is an `Mlp` of the same shapes.

use super::activation::Activation;
use super::fully_connected::mlp_layer;
use super::layer::Layer;
use super::loss::{classifier_loss, l2_penalties, Loss};
use crate::Parameters;
use autodiff_macro::differentiate;
use nalgebra::{DMatrix, RowDVector};
use std::fmt;

/// A multilayer perceptron: layers applied in order to a batch (one sample a row); the last
/// layer's outputs are the class scores.
///
/// Layer `i` is `activations[i](x·weights[i] + biases[i])`, or for a maxout layer
/// (`activations[i]` is [`Activation::Maxout`]) the elementwise maximum of that affine map
/// (without activation) and `x·maxout_weights[i] + maxout_biases[i]`. The other layers'
/// `maxout_weights` are `0 × 0` and their `maxout_biases` empty. [`Mlp::from_layers`] checks
/// that the shapes fit together; [`Mlp::layers`] gives the same layers back.
///
/// An `Mlp` is a [`Parameters`] value: the optimizers update it in place
/// ([`Optimizer::update`](crate::optim::Optimizer::update)), and the gradient of its
/// [`objective`] is an `Mlp` of the same shapes (whose `activations` are copied unchanged).
#[derive(Parameters, Debug, Clone, PartialEq)]
#[parameters(crate = autodiff_runtime)]
pub struct Mlp {
    /// Each layer's weights, `inputs × outputs` (a maxout layer's first map).
    pub weights: Vec<DMatrix<f64>>,
    /// Each layer's bias, one element per output (a maxout layer's first map).
    pub biases: Vec<RowDVector<f64>>,
    /// A maxout layer's second weights; `0 × 0` for the other layers.
    pub maxout_weights: Vec<DMatrix<f64>>,
    /// A maxout layer's second bias; empty for the other layers.
    pub maxout_biases: Vec<RowDVector<f64>>,
    /// Each layer's activation: constants, not parameters.
    #[parameters(skip)]
    pub activations: Vec<Activation>,
}

/// The gradient of a loss with respect to the parameters of an [`Mlp`]: an `Mlp` of the same
/// shapes.
pub type MlpGrad = Mlp;

/// The training objective of `mlp` on the batch `x` (one sample a row) with `labels`:
/// `loss(scores, labels) + Σ_W ½·λ·‖W‖²` over every weight matrix (not the biases).
///
/// Its derived gradient ([`objective_grad`]) is what [`Mlp::loss_and_grad`] returns: the
/// layers run forward in a loop, and its reverse sweep runs them backwards, the adjoint of a
/// layer's input being the seed of the layer before it. The first layer reads the data, a
/// constant, so no adjoint of `x` is computed.
#[differentiate(crate = autodiff_runtime, wrt(mlp))]
pub fn objective(mlp: &Mlp, x: &DMatrix<f64>, labels: &[usize], loss: Loss, lambda: f64) -> f64 {
    let mut h = mlp_layer(
        x,
        &mlp.weights[0],
        &mlp.biases[0],
        &mlp.maxout_weights[0],
        &mlp.maxout_biases[0],
        mlp.activations[0],
    );
    for i in 1..mlp.weights.len() {
        h = mlp_layer(
            &h,
            &mlp.weights[i],
            &mlp.biases[i],
            &mlp.maxout_weights[i],
            &mlp.maxout_biases[i],
            mlp.activations[i],
        );
    }
    let data_loss = classifier_loss(&h, labels, loss);
    if lambda == 0.0 {
        data_loss
    } else {
        data_loss + l2_penalties(&mlp.weights, lambda) + l2_penalties(&mlp.maxout_weights, lambda)
    }
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
        let mut mlp = Mlp {
            weights: Vec::with_capacity(layers.len()),
            biases: Vec::with_capacity(layers.len()),
            maxout_weights: Vec::with_capacity(layers.len()),
            maxout_biases: Vec::with_capacity(layers.len()),
            activations: Vec::with_capacity(layers.len()),
        };
        for layer in layers {
            let activation = layer.activation();
            let (w, b, w_b, b_b) = match layer {
                Layer::Dense { w, b, .. } => (w, b, DMatrix::zeros(0, 0), RowDVector::zeros(0)),
                Layer::Maxout { w_a, b_a, w_b, b_b } => (w_a, b_a, w_b, b_b),
            };
            mlp.weights.push(w);
            mlp.biases.push(b);
            mlp.maxout_weights.push(w_b);
            mlp.maxout_biases.push(b_b);
            mlp.activations.push(activation);
        }
        Ok(mlp)
    }

    /// The layers, first to last (copies of the parameters).
    pub fn layers(&self) -> Vec<Layer> {
        (0..self.weights.len())
            .map(|i| match self.activations[i] {
                Activation::Maxout => Layer::Maxout {
                    w_a: self.weights[i].clone(),
                    b_a: self.biases[i].clone(),
                    w_b: self.maxout_weights[i].clone(),
                    b_b: self.maxout_biases[i].clone(),
                },
                activation => Layer::Dense {
                    w: self.weights[i].clone(),
                    b: self.biases[i].clone(),
                    activation,
                },
            })
            .collect()
    }

    /// The layer sizes: the number of inputs, then each layer's number of outputs.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.weights[0].nrows()];
        sizes.extend(self.weights.iter().map(DMatrix::ncols));
        sizes
    }

    /// Every parameter as a slice, layer by layer in the order of [`Layer::parameters`]
    /// (`w`, `b`, then `w_b`, `b_b` for a maxout layer).
    pub fn parameters(&self) -> Vec<&[f64]> {
        let mut all: Vec<&[f64]> = Vec::with_capacity(4 * self.weights.len());
        for i in 0..self.weights.len() {
            all.extend([self.weights[i].as_slice(), self.biases[i].as_slice()]);
            if self.activations[i] == Activation::Maxout {
                all.extend([
                    self.maxout_weights[i].as_slice(),
                    self.maxout_biases[i].as_slice(),
                ]);
            }
        }
        all
    }

    /// [`Mlp::parameters`], mutable.
    pub fn parameters_mut(&mut self) -> Vec<&mut [f64]> {
        let mut all: Vec<&mut [f64]> = Vec::with_capacity(4 * self.weights.len());
        let layers = self.weights.iter_mut().zip(&mut self.biases);
        let maxout = self.maxout_weights.iter_mut().zip(&mut self.maxout_biases);
        for (((w, b), (w_b, b_b)), activation) in layers.zip(maxout).zip(&self.activations) {
            all.extend([w.as_mut_slice(), b.as_mut_slice()]);
            if *activation == Activation::Maxout {
                all.extend([w_b.as_mut_slice(), b_b.as_mut_slice()]);
            }
        }
        all
    }

    /// The number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        self.scalar_count()
    }

    /// The scores of a batch `x` (`n × inputs`): `n × outputs`.
    ///
    /// Panics with both shapes when `x` does not have [`sizes`](Mlp::sizes)`[0]` columns.
    #[track_caller]
    pub fn forward(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let layer = |i: usize, x: &DMatrix<f64>| {
            let (w, b) = (&self.weights[i], &self.biases[i]);
            let (w_b, b_b) = (&self.maxout_weights[i], &self.maxout_biases[i]);
            mlp_layer(x, w, b, w_b, b_b, self.activations[i])
        };
        let mut h = layer(0, x);
        for i in 1..self.weights.len() {
            let next = layer(i, &h);
            crate::buffers::recycle(core::mem::replace(&mut h, next));
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
    /// matrix (not the biases): [`objective`].
    pub fn loss(&self, x: &DMatrix<f64>, labels: &[usize], loss: Loss, lambda: f64) -> f64 {
        objective(self, x, labels, loss, lambda)
    }

    /// [`Mlp::loss`] and its gradient with respect to every parameter: the derived gradient
    /// of [`objective`], an `Mlp` of the same shapes.
    pub fn loss_and_grad(
        &self,
        x: &DMatrix<f64>,
        labels: &[usize],
        loss: Loss,
        lambda: f64,
    ) -> (f64, MlpGrad) {
        let (value, grad) = objective_grad(self, x, labels, loss, lambda);
        (value, grad.mlp)
    }

    /// [`Mlp::loss_and_grad`] with the batch cut into `shards` shards of rows whose
    /// gradients are derived on several threads at once and summed in the order of the
    /// shards (as [`crate::parallel::sharded_grad`] sums them); the L2 penalty is added once,
    /// to the sum, in the same pass, which the threads share block by block of the
    /// parameters.
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
        let step = self.batch_grad(x, labels, None, loss, Some(lambda), shards);
        (step.loss, step.grad)
    }

    /// Gives every matrix back to the pool of [`crate::buffers`], for the next step to reuse:
    /// what a training loop does with a gradient once the optimizer has applied it.
    pub fn recycle(self) {
        self.give_back();
    }

    /// The Euclidean norm of all the parameters together (of a gradient: its length).
    pub fn norm(&self) -> f64 {
        let mut sum = 0.0;
        self.for_each_leaf(&mut |leaf| sum += leaf.iter().map(|g| g * g).sum::<f64>());
        sum.sqrt()
    }
}

impl crate::parallel::Gradient for Mlp {
    fn scale_by(&mut self, factor: f64) {
        self.for_each_leaf_mut(&mut |leaf| leaf.iter_mut().for_each(|g| *g *= factor));
    }

    #[track_caller]
    fn add_scaled(&mut self, factor: f64, other: &Self) {
        Parameters::add_scaled(self, factor, other);
    }

    fn recycle_buffers(self) {
        self.give_back();
    }
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
