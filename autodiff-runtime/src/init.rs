//! Weight initialisation (Xavier/Glorot and He) from a seeded random number generator, so a
//! run is reproducible, and the constructor of an [`Mlp`] from layer sizes.

use crate::nn::{Activation, Layer, Mlp};
use nalgebra::{DMatrix, RowDVector};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

/// The random number generator of the crate: ChaCha8, whose stream for a given seed is fixed
/// (unlike `rand::rngs::StdRng`, which may change between releases of `rand`).
pub type SeededRng = rand_chacha::ChaCha8Rng;

/// A [`SeededRng`] from a seed: the same seed gives the same numbers on every machine.
pub fn seeded_rng(seed: u64) -> SeededRng {
    SeededRng::seed_from_u64(seed)
}

/// How the weights of a layer with `fan_in` inputs and `fan_out` outputs are drawn; biases
/// start at zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// Xavier (Glorot) normal: `N(0, 2 / (fan_in + fan_out))`, which keeps the variance of
    /// activations and gradients across layers for sigmoid and tanh units.
    Xavier,
    /// He (Kaiming) normal: `N(0, 2 / fan_in)`, which makes up for the half of the units that
    /// a ReLU switches off.
    He,
}

impl Init {
    /// The standard deviation of the weights of a layer.
    pub fn std_dev(self, fan_in: usize, fan_out: usize) -> f64 {
        match self {
            Init::Xavier => (2.0 / (fan_in + fan_out) as f64).sqrt(),
            Init::He => (2.0 / fan_in as f64).sqrt(),
        }
    }

    /// The initialisation that suits an activation: He for the rectifiers (ReLU, leaky ReLU,
    /// ELU, maxout), Xavier for the rest.
    pub fn for_activation(activation: Activation) -> Init {
        match activation {
            Activation::Identity | Activation::Sigmoid | Activation::Tanh => Init::Xavier,
            _ => Init::He,
        }
    }

    /// A `fan_in × fan_out` weight matrix drawn from this initialisation.
    pub fn weights(self, fan_in: usize, fan_out: usize, rng: &mut impl Rng) -> DMatrix<f64> {
        let normal = Normal::new(0.0, self.std_dev(fan_in, fan_out))
            .expect("the standard deviation of a layer with inputs is finite and positive");
        DMatrix::from_fn(fan_in, fan_out, |_, _| normal.sample(rng))
    }
}

impl Mlp {
    /// An `Mlp` with the given layer sizes (`[inputs, hidden…, outputs]`, at least two): each
    /// hidden layer has `activation` (a maxout layer when it is [`Activation::Maxout`]), the
    /// last layer is affine (its outputs are the scores). Weights are drawn from `init` with
    /// `rng`, in layer order; biases are zero.
    ///
    /// ```
    /// use autodiff_runtime::init::{seeded_rng, Init};
    /// use autodiff_runtime::nn::{Activation, Mlp};
    ///
    /// let mlp = Mlp::new(&[2, 100, 3], Activation::Relu, Init::He, &mut seeded_rng(0));
    /// assert_eq!(mlp.sizes(), vec![2, 100, 3]);
    /// assert_eq!(mlp.parameter_count(), 2 * 100 + 100 + 100 * 3 + 3);
    /// ```
    ///
    /// Panics when there are fewer than two sizes or a size is zero.
    #[track_caller]
    pub fn new(sizes: &[usize], activation: Activation, init: Init, rng: &mut impl Rng) -> Mlp {
        assert!(
            sizes.len() >= 2,
            "an Mlp needs at least two sizes (inputs and outputs), got {sizes:?}"
        );
        assert!(
            sizes.iter().all(|&s| s > 0),
            "every layer size must be positive, got {sizes:?}"
        );
        let last = sizes.len() - 2;
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, s)| {
                let (n_in, n_out) = (s[0], s[1]);
                let b = RowDVector::zeros(n_out);
                if i < last && activation == Activation::Maxout {
                    let w_a = init.weights(n_in, n_out, rng);
                    let w_b = init.weights(n_in, n_out, rng);
                    Layer::Maxout {
                        w_a,
                        b_a: b.clone(),
                        w_b,
                        b_b: b,
                    }
                } else {
                    let activation = if i < last {
                        activation
                    } else {
                        Activation::Identity
                    };
                    Layer::Dense {
                        w: init.weights(n_in, n_out, rng),
                        b,
                        activation,
                    }
                }
            })
            .collect();
        Mlp::from_layers(layers).expect("layers built from consecutive sizes fit together")
    }
}
