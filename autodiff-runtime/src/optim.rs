//! Optimizers: plain SGD, SGD with momentum, and Adam, updating a model's parameters (as
//! slices) from gradients of the same layout; and [`sgd_update`] for one parameter of a
//! hand-written training loop.

use crate::value::Value;

/// The fewest parameters for which [`sgd_update`] shares the update between threads: below
/// it, handing half to another thread costs more than it saves.
const SPLIT_MIN_LEN: usize = 65_536;

/// `param ← param − learning_rate · grad`, elementwise (vectorised for the processor, and on
/// two threads for a large parameter while the product threads are awake), then
/// `grad`'s storage goes back to the pool of [`crate::buffers`] for the next step to reuse.
/// Panics with both shapes when they differ.
///
/// ```
/// use autodiff_runtime::optim::sgd_update;
/// use nalgebra::DMatrix;
///
/// let mut w = DMatrix::from_element(2, 2, 1.0);
/// sgd_update(&mut w, 0.5, DMatrix::from_element(2, 2, 4.0));
/// assert_eq!(w, DMatrix::from_element(2, 2, -1.0));
/// ```
#[track_caller]
pub fn sgd_update<V: Value>(param: &mut V, learning_rate: V::Elem, grad: V) {
    crate::value::assert_same_shape("sgd_update", param.dims(), grad.dims());
    let (params, grads) = (param.elems_mut(), grad.elems());
    crate::linalg::zip_chunks(params, grads, SPLIT_MIN_LEN, |params, grads| {
        crate::simd::dispatch(
            #[inline(always)]
            || {
                for (p, g) in params.iter_mut().zip(grads) {
                    *p -= learning_rate * *g;
                }
            },
        )
    });
    grad.recycle();
}

/// Updates parameters in place from their gradients, keeping whatever state it needs
/// (velocities, moment estimates) between steps.
///
/// `params` and `grads` list the same parameters in the same order (such as
/// [`Mlp::parameters_mut`](crate::nn::Mlp::parameters_mut) and
/// [`MlpGrad::parameters`](crate::nn::MlpGrad::parameters)). Panics when their layouts
/// differ from each other or from the first step's.
pub trait Optimizer {
    /// One update of every parameter.
    fn step(&mut self, params: Vec<&mut [f64]>, grads: Vec<&[f64]>);
}

/// Stochastic gradient descent: `p ← p − η·g`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd {
    /// The learning rate `η`.
    pub learning_rate: f64,
}

impl Sgd {
    /// SGD with learning rate `learning_rate`.
    pub fn new(learning_rate: f64) -> Sgd {
        Sgd { learning_rate }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: Vec<&mut [f64]>, grads: Vec<&[f64]>) {
        for_each(params, grads, |_, _, p, g| *p -= self.learning_rate * g);
    }
}

/// SGD with momentum: `v ← μ·v − η·g`, `p ← p + v`, with `v` starting at zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Momentum {
    /// The learning rate `η`.
    pub learning_rate: f64,
    /// The momentum `μ` (commonly `0.9`).
    pub momentum: f64,
    velocity: Vec<Vec<f64>>,
}

impl Momentum {
    /// SGD with learning rate `learning_rate` and momentum `momentum`.
    pub fn new(learning_rate: f64, momentum: f64) -> Momentum {
        Momentum {
            learning_rate,
            momentum,
            velocity: Vec::new(),
        }
    }
}

impl Optimizer for Momentum {
    fn step(&mut self, params: Vec<&mut [f64]>, grads: Vec<&[f64]>) {
        init_state(&mut self.velocity, &grads);
        let (eta, mu, velocity) = (self.learning_rate, self.momentum, &mut self.velocity);
        for_each(params, grads, |k, i, p, g| {
            let v = &mut velocity[k][i];
            *v = mu * *v - eta * g;
            *p += *v;
        });
    }
}

/// Adam (Kingma & Ba, 2015): with `t` the number of steps so far (from 1),
/// `m ← β₁·m + (1 − β₁)·g`, `v ← β₂·v + (1 − β₂)·g²`,
/// `p ← p − η·m̂ / (√v̂ + ε)` with `m̂ = m / (1 − β₁ᵗ)` and `v̂ = v / (1 − β₂ᵗ)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    /// The learning rate `η` (commonly `1e-3`).
    pub learning_rate: f64,
    /// The decay of the first moment `β₁` (default `0.9`).
    pub beta1: f64,
    /// The decay of the second moment `β₂` (default `0.999`).
    pub beta2: f64,
    /// The `ε` that keeps the division finite (default `1e-8`).
    pub epsilon: f64,
    t: i32,
    m: Vec<Vec<f64>>,
    v: Vec<Vec<f64>>,
}

impl Adam {
    /// Adam with learning rate `learning_rate` and the usual `β₁ = 0.9`, `β₂ = 0.999`,
    /// `ε = 1e-8`.
    pub fn new(learning_rate: f64) -> Adam {
        Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// The number of steps taken so far.
    pub fn steps(&self) -> i32 {
        self.t
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: Vec<&mut [f64]>, grads: Vec<&[f64]>) {
        init_state(&mut self.m, &grads);
        init_state(&mut self.v, &grads);
        self.t += 1;
        let (b1, b2, eta, eps) = (self.beta1, self.beta2, self.learning_rate, self.epsilon);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        let (m, v) = (&mut self.m, &mut self.v);
        for_each(params, grads, |k, i, p, g| {
            let (m, v) = (&mut m[k][i], &mut v[k][i]);
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= eta * (*m / c1) / ((*v / c2).sqrt() + eps);
        });
    }
}

/// Zeros shaped like `grads` on the first step; a check that the layout is unchanged after.
#[track_caller]
fn init_state(state: &mut Vec<Vec<f64>>, grads: &[&[f64]]) {
    if state.is_empty() {
        *state = grads.iter().map(|g| vec![0.0; g.len()]).collect();
    }
    let same =
        state.len() == grads.len() && state.iter().zip(grads).all(|(s, g)| s.len() == g.len());
    assert!(
        same,
        "the optimizer was given parameters of a different layout than on its first step"
    );
}

/// Calls `f(k, i, &mut params[k][i], grads[k][i])` for every element.
#[track_caller]
fn for_each(
    params: Vec<&mut [f64]>,
    grads: Vec<&[f64]>,
    mut f: impl FnMut(usize, usize, &mut f64, f64),
) {
    assert_eq!(
        params.len(),
        grads.len(),
        "{} parameters but {} gradients",
        params.len(),
        grads.len()
    );
    for (k, (p, g)) in params.into_iter().zip(grads).enumerate() {
        assert_eq!(
            p.len(),
            g.len(),
            "parameter {k} has {} elements but its gradient {}",
            p.len(),
            g.len()
        );
        for (i, (p, &g)) in p.iter_mut().zip(g).enumerate() {
            f(k, i, p, g);
        }
    }
}
