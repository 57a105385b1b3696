//! The activation functions of a layer, as one constant the differentiated layer functions
//! branch on.

use crate::functions::{elu, leaky_relu, relu, sigmoid, tanh};
use autodiff_macro::differentiate;
use nalgebra::DMatrix;

/// The nonlinearity a layer applies to its affine map `x·W + b`.
///
/// Every variant but [`Maxout`](Activation::Maxout) is elementwise and is applied by
/// [`activate`]; maxout takes the elementwise maximum of two affine maps, so it needs two
/// weight sets and has its own layer function ([`maxout_dense`](super::maxout_dense)).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Activation {
    /// No nonlinearity: the layer is affine (the output layer of a classifier).
    Identity,
    /// The logistic function `1 / (1 + e⁻ˣ)`.
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
    /// The rectified linear unit `max(0, x)`.
    Relu,
    /// `x` for `x > 0`, `alpha·x` otherwise.
    LeakyRelu {
        /// The slope for negative inputs (commonly `0.01`).
        alpha: f64,
    },
    /// `x` for `x > 0`, `alpha·(eˣ − 1)` otherwise.
    Elu {
        /// The value the unit saturates at for very negative inputs is `−alpha`.
        alpha: f64,
    },
    /// The elementwise maximum of two affine maps `max(x·W₁ + b₁, x·W₂ + b₂)`.
    Maxout,
}

impl Activation {
    /// The activations the `Mlp` supports, with the usual constants: handy for comparing
    /// them (leaky ReLU with `alpha = 0.01`, ELU with `alpha = 1`).
    pub const ALL: [Activation; 6] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu { alpha: 0.01 },
        Activation::Elu { alpha: 1.0 },
        Activation::Maxout,
    ];

    /// A short lowercase name: `relu`, `leaky_relu(0.01)`, …
    pub fn name(self) -> String {
        match self {
            Activation::Identity => "identity".into(),
            Activation::Sigmoid => "sigmoid".into(),
            Activation::Tanh => "tanh".into(),
            Activation::Relu => "relu".into(),
            Activation::LeakyRelu { alpha } => format!("leaky_relu({alpha})"),
            Activation::Elu { alpha } => format!("elu({alpha})"),
            Activation::Maxout => "maxout".into(),
        }
    }

    /// Whether this is [`Activation::LeakyRelu`].
    pub fn is_leaky_relu(self) -> bool {
        matches!(self, Activation::LeakyRelu { .. })
    }

    /// Whether this is [`Activation::Elu`].
    pub fn is_elu(self) -> bool {
        matches!(self, Activation::Elu { .. })
    }

    /// The `alpha` of leaky ReLU and ELU, `0` for the others.
    pub fn alpha(self) -> f64 {
        match self {
            Activation::LeakyRelu { alpha } | Activation::Elu { alpha } => alpha,
            _ => 0.0,
        }
    }
}

/// Applies an elementwise `activation` to the pre-activations `z`; the identity for
/// [`Activation::Identity`] and for [`Activation::Maxout`] (which is not elementwise: use
/// [`maxout_dense`](super::maxout_dense)).
///
/// Its derivative is derived by `#[differentiate]`: the branch taken is recorded on the tape
/// and the reverse sweep runs the pullback of that activation alone.
#[differentiate(crate = autodiff_runtime)]
pub fn activate(z: DMatrix<f64>, activation: Activation) -> DMatrix<f64> {
    if activation == Activation::Sigmoid {
        sigmoid(z)
    } else if activation == Activation::Tanh {
        tanh(z)
    } else if activation == Activation::Relu {
        relu(z)
    } else if activation.is_leaky_relu() {
        leaky_relu(z, activation.alpha())
    } else if activation.is_elu() {
        elu(z, activation.alpha())
    } else {
        z
    }
}
