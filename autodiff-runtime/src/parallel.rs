//! Gradients of a minibatch computed on several cores at once: the batch cut into shards,
//! each shard's gradient derived on a thread of its own, the shards combined in a fixed
//! order ([`sharded_grad`]); and what a gradient must offer to be combined ([`Gradient`]).
//!
//! # The sum
//!
//! A loss that is a mean over the samples of a batch of `n` is the weighted sum of the means
//! over its shards, the weights being the shards' sizes over `n`:
//! `L = Σₛ (nₛ / n)·Lₛ`, and so is its gradient. [`sharded_grad`] cuts `0..n` into shards of
//! sizes differing by at most one (the first ones the larger), and sums values and gradients
//! in the order of the shards, whatever thread finishes first: a result depends on the
//! number of shards only, not on the number of threads nor on timing, and two runs with the
//! same number of shards agree bit for bit. With one shard it is the unsharded computation
//! itself; with more, it equals it to rounding (the sum of a mean is regrouped).
//!
//! A term that is not a mean over the samples, such as an L2 penalty on the weights, belongs
//! outside the shards: add it (and its gradient) once to the combined result. (Inside each
//! shard it would come out the same up to rounding, since the weights sum to one, at the
//! cost of computing it once per shard.)
//!
//! # Threads
//!
//! The shards run on the calling thread and the workers of the runtime's own pool (the one
//! large matrix products are split with, see [`crate::linalg`]): at most
//! [`crate::linalg::max_threads`] threads, one contiguous run of shards each. While a shard
//! runs, every product and shared loop it starts stays on its thread
//! ([`crate::linalg::max_threads`] is 1 there), so that products never hand blocks to a
//! thread that is busy with another shard. The thread `i` of a call is the same worker in
//! every call, and each thread gives back to its own pool of [`crate::buffers`] what it took
//! from it (the combined gradient excepted, which comes from the calling thread's pool): after
//! the first steps, the shards of a training loop reuse their buffers as an unsharded step
//! does. What a sharded step still allocates is small and the same every step: the list of
//! the shards' results and the pool's job records (a few hundred bytes).

use crate::buffers;
use crate::linalg;
use crate::value::Value;
use core::ops::Range;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// A gradient that shards can be combined into: scaled, added to with a weight, given back
/// to the buffer pool.
///
/// Implemented for scalars and owned nalgebra matrices (every [`Value`]), for tuples of up
/// to eight gradients and `Vec`s of them, and for [`crate::nn::MlpGrad`]. The gradient struct
/// that `#[differentiate]` writes (`LossGrad { w1, b1, … }`) can be returned from a shard as
/// a tuple of its fields, or implement this trait in a few lines.
pub trait Gradient: Send {
    /// `self ← factor · self`, elementwise.
    fn scale_by(&mut self, factor: f64);
    /// `self ← self + factor · other`, elementwise. Panics if the shapes differ.
    fn add_scaled(&mut self, factor: f64, other: &Self);
    /// Gives the storage back to the current thread's pool of [`crate::buffers`].
    fn recycle_buffers(self);
}

impl<V: Value + Send> Gradient for V {
    fn scale_by(&mut self, factor: f64) {
        let factor: V::Elem = nalgebra::convert(factor);
        self.apply_elems(|a| a * factor);
    }

    #[track_caller]
    fn add_scaled(&mut self, factor: f64, other: &Self) {
        crate::value::assert_same_shape("add_scaled", self.dims(), other.dims());
        let factor: V::Elem = nalgebra::convert(factor);
        self.zip_apply_elems(other, |a, b| a + factor * b);
    }

    fn recycle_buffers(self) {
        buffers::recycle(self);
    }
}

impl<G: Gradient> Gradient for Vec<G> {
    fn scale_by(&mut self, factor: f64) {
        self.iter_mut().for_each(|g| g.scale_by(factor));
    }

    #[track_caller]
    fn add_scaled(&mut self, factor: f64, other: &Self) {
        assert_eq!(
            self.len(),
            other.len(),
            "add_scaled: gradients of {} and {} parts",
            self.len(),
            other.len()
        );
        for (g, o) in self.iter_mut().zip(other) {
            g.add_scaled(factor, o);
        }
    }

    fn recycle_buffers(self) {
        self.into_iter().for_each(G::recycle_buffers);
    }
}

macro_rules! tuple_gradient {
    ($($name:ident $index:tt),+) => {
        impl<$($name: Gradient),+> Gradient for ($($name,)+) {
            fn scale_by(&mut self, factor: f64) {
                $(self.$index.scale_by(factor);)+
            }
            fn add_scaled(&mut self, factor: f64, other: &Self) {
                $(self.$index.add_scaled(factor, &other.$index);)+
            }
            fn recycle_buffers(self) {
                $(self.$index.recycle_buffers();)+
            }
        }
    };
}

tuple_gradient!(A 0);
tuple_gradient!(A 0, B 1);
tuple_gradient!(A 0, B 1, C 2);
tuple_gradient!(A 0, B 1, C 2, D 3);
tuple_gradient!(A 0, B 1, C 2, D 3, E 4);
tuple_gradient!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_gradient!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_gradient!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// The `shard`-th of `shards` contiguous ranges of `0..len`, of sizes differing by at most
/// one, the first ones the larger.
///
/// Panics when `shard` is not below `shards`.
#[track_caller]
pub fn shard_range(len: usize, shards: usize, shard: usize) -> Range<usize> {
    assert!(
        shard < shards,
        "shard_range: shard {shard} of {shards} shards"
    );
    let (size, extra) = (len / shards, len % shards);
    let start = shard * size + shard.min(extra);
    start..start + size + usize::from(shard < extra)
}

/// The mean loss of a batch of `len` samples and its gradient, from `loss_grad` of the
/// batch's shards computed on several threads at once.
///
/// `loss_grad(rows)` returns the **mean** loss over the samples `rows` of the batch and its
/// gradient (a derived `NAME_grad` on those rows, say). The batch is cut into `shards`
/// contiguous ranges ([`shard_range`]; `0` counts as 1, and there are never more shards
/// than samples), which run on up to `shards` threads (see the module's documentation);
/// the result is `Σₛ (nₛ / len)·(valueₛ, gradientₛ)`, summed in the order of the shards, so
/// it depends on the number of shards only. A term that is not a mean over the samples (L2
/// regularization) is best added once to the result, outside `loss_grad`.
///
/// The gradient returned comes from shard 0, computed on the calling thread; every other
/// shard's is given back to the buffer pool of the thread that computed it.
///
/// ```
/// use autodiff_runtime::parallel::sharded_grad;
/// use nalgebra::DVector;
///
/// // The mean of ½(w − xᵢ)² over 10 samples: its gradient is w − mean(x).
/// let x: Vec<f64> = (0..10).map(f64::from).collect();
/// let w = DVector::from_vec(vec![1.0]);
/// let (value, grad) = sharded_grad(x.len(), 3, |rows| {
///     let n = rows.len() as f64;
///     let value = x[rows.clone()].iter().map(|xi| 0.5 * (w[0] - xi).powi(2)).sum::<f64>() / n;
///     let grad = x[rows].iter().map(|xi| w[0] - xi).sum::<f64>() / n;
///     (value, DVector::from_vec(vec![grad]))
/// });
/// assert!((grad[0] - (1.0 - 4.5)).abs() < 1e-12);
/// assert!((value - 0.5 * (3.5f64.powi(2) + 8.25)).abs() < 1e-12);
/// ```
///
/// Panics when `len` is 0, or with the first panic of a shard.
#[track_caller]
pub fn sharded_grad<G: Gradient>(
    len: usize,
    shards: usize,
    loss_grad: impl Fn(Range<usize>) -> (f64, G) + Sync,
) -> (f64, G) {
    assert!(len > 0, "sharded_grad: a batch of no samples has no mean");
    let shards = shards.clamp(1, len);
    if shards == 1 {
        return loss_grad(0..len);
    }
    let threads = linalg::threads_for_shards(shards);
    let results: Vec<Mutex<Option<(f64, G)>>> = (0..shards).map(|_| Mutex::new(None)).collect();
    let published = AtomicUsize::new(0);
    let combined = AtomicBool::new(false);
    // Set when a shard panics, so that no thread waits for it forever; the panic then
    // reaches the caller.
    let failed = AtomicBool::new(false);
    let total: Mutex<Option<(f64, G)>> = Mutex::new(None);
    let weight = |s: usize| shard_range(len, shards, s).len() as f64 / len as f64;
    linalg::on_threads(threads, |thread| {
        let _failed = OnPanic(&failed);
        // This thread's shards: a contiguous run, in order.
        let mine = shard_range(shards, threads, thread);
        for s in mine.clone() {
            let result = linalg::on_this_thread(|| loss_grad(shard_range(len, shards, s)));
            *lock(&results[s]) = Some(result);
            published.fetch_add(1, Ordering::Release);
        }
        if thread == 0 {
            wait_for(&failed, || published.load(Ordering::Acquire) == shards);
            *lock(&total) = Some(combine(&results, weight));
            combined.store(true, Ordering::Release);
        } else {
            wait_for(&failed, || combined.load(Ordering::Acquire));
        }
        // Each thread gives back the gradients it computed (shard 0's is the total).
        for s in mine.filter(|&s| s > 0) {
            if let Some((_, g)) = lock(&results[s]).take() {
                g.recycle_buffers();
            }
        }
    });
    let total = total.into_inner().unwrap_or_else(|e| e.into_inner());
    total.expect("shard 0 runs on the calling thread and combines the shards")
}

/// `Σₛ weight(s)·resultₛ` in the order of the shards, in the storage of shard 0's gradient.
fn combine<G: Gradient>(
    results: &[Mutex<Option<(f64, G)>>],
    weight: impl Fn(usize) -> f64,
) -> (f64, G) {
    let (value, mut grad) = lock(&results[0]).take().expect("shard 0 is published");
    let mut total = weight(0) * value;
    grad.scale_by(weight(0));
    for (s, result) in results.iter().enumerate().skip(1) {
        let result = lock(result);
        let (value, g) = result.as_ref().expect("every shard is published");
        total += weight(s) * value;
        grad.add_scaled(weight(s), g);
    }
    (total, grad)
}

/// Locks `m`, going on after a panic elsewhere (which the scope then reports).
pub(crate) fn lock<X>(m: &Mutex<X>) -> std::sync::MutexGuard<'_, X> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits until `done()`, giving the core to other threads between looks; panics when
/// another thread of the same work has panicked instead.
pub(crate) fn wait_for(failed: &AtomicBool, done: impl Fn() -> bool) {
    while !done() {
        assert!(
            !failed.load(Ordering::Acquire),
            "another thread of this step panicked"
        );
        std::thread::yield_now();
    }
}

/// Sets its flag when dropped during a panic.
pub(crate) struct OnPanic<'a>(pub(crate) &'a AtomicBool);

impl Drop for OnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Release);
        }
    }
}
