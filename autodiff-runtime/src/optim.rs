//! Optimizers: plain SGD, SGD with momentum, and Adam, updating a model's parameters (as
//! slices, or any [`Parameters`] value) from gradients of the same layout;
//! [`sgd_update`] for one parameter of a hand-written training loop; and the Newton-CG
//! minimiser [`NewtonCg`], driven by gradients and Hessian-vector products.

mod newton;

pub use newton::{NewtonCg, NewtonReport, NewtonStep};

use crate::params::Parameters;
use crate::real::Real;
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
/// Two ways to give the parameters: [`Optimizer::update`] takes any [`Parameters`] value (a
/// matrix, a `Vec` of them, a `#[derive(Parameters)]` struct) and its gradient of the same
/// structure; [`Optimizer::step`] takes them as lists of slices (such as
/// [`Mlp::parameters_mut`](crate::nn::Mlp::parameters_mut) and
/// [`Mlp::parameters`](crate::nn::Mlp::parameters) of its gradient). Either way the leaves are
/// updated in order and the state is kept per leaf; after the first step, a step allocates
/// nothing. Panics when the layouts differ from each other or from the first step's.
///
/// ```
/// use autodiff_runtime::optim::{Adam, Optimizer};
/// use autodiff_runtime::Parameters;
/// use nalgebra::{DMatrix, RowDVector};
///
/// #[derive(Parameters, Clone, Debug, PartialEq)]
/// #[parameters(crate = autodiff_runtime)] // not needed with `autodiff::prelude::*`
/// struct Linear {
///     w: DMatrix<f64>,
///     b: RowDVector<f64>,
/// }
///
/// let mut p = Linear { w: DMatrix::from_element(2, 2, 1.0), b: RowDVector::zeros(2) };
/// let mut g = p.zeros_like();
/// g.w.fill(0.5);
/// let mut adam = Adam::new(0.1);
/// adam.update(&mut p, &g);
/// assert!((p.w[(0, 0)] - 0.9).abs() < 1e-6);   // the first step of Adam: about η·sign(g)
/// assert_eq!(p.b, RowDVector::zeros(2));       // a zero gradient moves nothing
/// ```
pub trait Optimizer {
    /// One update of every parameter, given as slices.
    fn step(&mut self, params: Vec<&mut [f64]>, grads: Vec<&[f64]>);

    /// Whether the update of each element depends only on that element's parameter,
    /// gradient and state, and on the number of steps: then [`Optimizer::step`] on any
    /// parts of the parameters (the same parts at every step) gives those elements the bits
    /// of a step on the whole. Training over MPI then has each rank update only its part
    /// (`distributed::train`), and the optimizer keeps state for that part only. `false`
    /// unless an optimizer says otherwise; [`Sgd`], [`Momentum`] and [`Adam`] are.
    fn elementwise(&self) -> bool {
        false
    }

    /// One update of every leaf of `params` from the same leaf of `grads` (any scalar type:
    /// the update is computed in `f64`). The default copies the leaves into slices for
    /// [`Optimizer::step`]; the optimizers of this module update them in place.
    #[track_caller]
    fn update<P: Parameters>(&mut self, params: &mut P, grads: &P)
    where
        Self: Sized,
    {
        let mut flat_params = Vec::new();
        params.for_each_leaf(&mut |p| {
            flat_params.push(p.iter().map(|&v| to_f64(v)).collect::<Vec<f64>>())
        });
        let mut flat_grads = Vec::new();
        grads.for_each_leaf(&mut |g| {
            flat_grads.push(g.iter().map(|&v| to_f64(v)).collect::<Vec<f64>>())
        });
        self.step(
            flat_params.iter_mut().map(|p| &mut p[..]).collect(),
            flat_grads.iter().map(|g| &g[..]).collect(),
        );
        let mut leaves = flat_params.iter();
        params.for_each_leaf_mut(&mut |p| {
            if let Some(new) = leaves.next() {
                for (p, &v) in p.iter_mut().zip(new) {
                    *p = nalgebra::convert(v);
                }
            }
        });
    }
}

/// `v` as an `f64` (exact for `f32` and `f64`).
#[inline(always)]
fn to_f64<T: Real>(v: T) -> f64 {
    nalgebra::try_convert(v).unwrap_or(f64::NAN)
}

/// Walks the leaves of `params` beside those of `grads`: `f(k, p, g)` for the `k`-th leaf.
#[track_caller]
fn for_each_leaf<P: Parameters>(
    params: &mut P,
    grads: &P,
    mut f: impl FnMut(usize, &mut [P::Scalar], &[P::Scalar]),
) {
    let mut k = 0;
    params.zip_leaves_mut(grads, &mut |p, g| {
        f(k, p, g);
        k += 1;
    });
}

/// The per-leaf state of an optimizer (a velocity, a moment estimate): one `Vec` per leaf,
/// zeros on the first step, the same layout after.
#[derive(Debug, Clone, PartialEq, Default)]
struct LeafState {
    leaves: Vec<Vec<f64>>,
    /// Whether the layout is known (after the first step).
    known: bool,
}

impl LeafState {
    /// The state of leaf `k`, which has `len` elements.
    #[track_caller]
    fn leaf(&mut self, k: usize, len: usize) -> &mut [f64] {
        if !self.known && k == self.leaves.len() {
            self.leaves.push(vec![0.0; len]);
        }
        let same = self.leaves.get(k).is_some_and(|s| s.len() == len);
        assert!(same, "{LAYOUT_CHANGED}");
        &mut self.leaves[k]
    }

    /// After a step that visited `count` leaves: the layout is now known, and must have had
    /// that many leaves.
    #[track_caller]
    fn finish(&mut self, count: usize) {
        self.known = true;
        assert!(self.leaves.len() == count, "{LAYOUT_CHANGED}");
    }
}

/// Why an optimizer with state refuses a step.
const LAYOUT_CHANGED: &str = "the optimizer was given parameters of a different layout than \
    on its first step (one optimizer per model; after `distributed::train`, an optimizer \
    holds the state of its rank's part of the parameters only: continue elsewhere with a new \
    one)";

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
        for_each(params, grads, |_, p, g| self.leaf(p, g));
    }

    fn elementwise(&self) -> bool {
        true
    }

    #[track_caller]
    fn update<P: Parameters>(&mut self, params: &mut P, grads: &P) {
        for_each_leaf(params, grads, |_, p, g| self.leaf(p, g));
    }
}

impl Sgd {
    /// `p ← p − η·g`, on two threads for a large leaf while the product threads are awake
    /// (as after the shards of a training step), as [`sgd_update`] does.
    fn leaf<T: Real>(&self, params: &mut [T], grads: &[T]) {
        let eta: T = nalgebra::convert(self.learning_rate);
        crate::linalg::zip_chunks(params, grads, SPLIT_MIN_LEN, |params, grads| {
            crate::simd::dispatch(
                #[inline(always)]
                || {
                    for (p, &g) in params.iter_mut().zip(grads) {
                        *p -= eta * g;
                    }
                },
            )
        });
    }
}

/// SGD with momentum: `v ← μ·v − η·g`, `p ← p + v`, with `v` starting at zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Momentum {
    /// The learning rate `η`.
    pub learning_rate: f64,
    /// The momentum `μ` (commonly `0.9`).
    pub momentum: f64,
    velocity: LeafState,
}

impl Momentum {
    /// SGD with learning rate `learning_rate` and momentum `momentum`.
    pub fn new(learning_rate: f64, momentum: f64) -> Momentum {
        Momentum {
            learning_rate,
            momentum,
            velocity: LeafState::default(),
        }
    }

    #[track_caller]
    fn leaf<T: Real>(&mut self, k: usize, params: &mut [T], grads: &[T]) {
        let (eta, mu) = (self.learning_rate, self.momentum);
        let velocity = self.velocity.leaf(k, params.len());
        for ((p, &g), v) in params.iter_mut().zip(grads).zip(velocity) {
            *v = mu * *v - eta * to_f64(g);
            *p = nalgebra::convert(to_f64(*p) + *v);
        }
    }
}

impl Optimizer for Momentum {
    #[track_caller]
    fn step(&mut self, params: Vec<&mut [f64]>, grads: Vec<&[f64]>) {
        let count = params.len();
        for_each(params, grads, |k, p, g| self.leaf(k, p, g));
        self.velocity.finish(count);
    }

    fn elementwise(&self) -> bool {
        true
    }

    #[track_caller]
    fn update<P: Parameters>(&mut self, params: &mut P, grads: &P) {
        let mut count = 0;
        for_each_leaf(params, grads, |k, p, g| {
            self.leaf(k, p, g);
            count = k + 1;
        });
        self.velocity.finish(count);
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
    m: LeafState,
    v: LeafState,
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
            m: LeafState::default(),
            v: LeafState::default(),
        }
    }

    /// The number of steps taken so far.
    pub fn steps(&self) -> i32 {
        self.t
    }

    #[track_caller]
    fn leaf<T: Real>(&mut self, k: usize, params: &mut [T], grads: &[T]) {
        let (b1, b2, eta, eps) = (self.beta1, self.beta2, self.learning_rate, self.epsilon);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        let m = self.m.leaf(k, params.len());
        let v = self.v.leaf(k, params.len());
        for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(m).zip(v) {
            let g = to_f64(g);
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p = nalgebra::convert(to_f64(*p) - eta * (*m / c1) / ((*v / c2).sqrt() + eps));
        }
    }

    #[track_caller]
    fn finish(&mut self, count: usize) {
        self.m.finish(count);
        self.v.finish(count);
    }
}

impl Optimizer for Adam {
    #[track_caller]
    fn step(&mut self, params: Vec<&mut [f64]>, grads: Vec<&[f64]>) {
        self.t += 1;
        let count = params.len();
        for_each(params, grads, |k, p, g| self.leaf(k, p, g));
        self.finish(count);
    }

    fn elementwise(&self) -> bool {
        true
    }

    #[track_caller]
    fn update<P: Parameters>(&mut self, params: &mut P, grads: &P) {
        self.t += 1;
        let mut count = 0;
        for_each_leaf(params, grads, |k, p, g| {
            self.leaf(k, p, g);
            count = k + 1;
        });
        self.finish(count);
    }
}

/// Calls `f(k, params[k], grads[k])` for every parameter.
#[track_caller]
fn for_each(
    params: Vec<&mut [f64]>,
    grads: Vec<&[f64]>,
    mut f: impl FnMut(usize, &mut [f64], &[f64]),
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
        f(k, p, g);
    }
}
