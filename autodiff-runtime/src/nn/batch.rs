//! An [`Mlp`]'s objective, gradient and gradient norm on a minibatch given as rows of a data
//! set, with every pass of a training step shared by the runtime's threads; and the number
//! of rows a model classifies correctly, on those threads.
//!
//! A step is two passes. The first derives the gradient of each shard of the minibatch on
//! a thread of its own, each shard copying its rows out of the data set on its thread (no
//! copy of the whole minibatch). The second combines them, block by block of the
//! parameters, the blocks split between the threads: the shards' gradients weighted by
//! their sizes and summed in the order of the shards, the L2 penalty's gradient (derived by
//! the macro from [`super::l2_penalty`], block by block on the thread that combines the
//! block) added,
//! and the sums of squares of the gradient (for its norm) and of the weights (for the
//! penalty's value) taken per block. Every element is computed as
//! [`crate::parallel::sharded_grad`] and [`Mlp::loss_and_grad_sharded`] compute it, and the
//! per-block sums are added in the order of the blocks, whose size is fixed: a result depends
//! on the number of shards only, never on the number of threads.

use super::loss::{l2_penalty_grad, Loss};
use super::mlp::Mlp;
use super::Activation;
use crate::buffers::{self, Fill};
use crate::linalg::{self, Op};
use crate::parallel::{lock, shard_range, wait_for, OnPanic};
use core::ops::Range;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use nalgebra::DMatrix;
use std::sync::{Mutex, RwLock};

/// The elements of one block of the combining pass: its partial sums are what the threads
/// hand over, so the block size (not the threads) fixes the order of the sums.
const BLOCK: usize = 4096;

/// The rows of one block of [`Mlp::correct_rows`]: small enough for a block's activations
/// to stay in the cache, large enough for the products to run at full speed.
const EVAL_ROWS: usize = 256;

/// The fewest parameters for which the combining pass of a one-shard step is shared between
/// threads: below it, waking another thread costs more than it saves.
const SHARE_MIN_PARAMS: usize = 65_536;

/// The objective of a minibatch, its gradient and the gradient's Euclidean norm.
pub(crate) struct BatchGrad {
    /// The mean loss over the minibatch, plus the L2 penalty when one was asked for.
    pub(crate) loss: f64,
    /// Its gradient, in buffers of the calling thread's pool.
    pub(crate) grad: Mlp,
    /// The Euclidean norm of `grad`; NaN when no penalty (not even 0) was asked for.
    pub(crate) norm: f64,
}

/// The rows of a minibatch: `None` for every row of the data in order.
pub(crate) type Rows<'a> = Option<&'a [usize]>;

/// One block of the combined gradient: leaf `leaf`, elements from `start`.
struct Block<'a> {
    leaf: usize,
    start: usize,
    out: &'a mut [f64],
}

/// Per block: the sum of squares of the combined gradient, and of the weights it penalises.
type Partial = (f64, f64);

impl Mlp {
    /// The objective of the minibatch `rows` of (`x`, `labels`) and its gradient, from
    /// `shards` shards of rows on the runtime's threads (see the module's documentation).
    ///
    /// `lambda`: `Some(λ)` adds the L2 penalty `Σ_W ½·λ·‖W‖²` (its value and gradient) and
    /// computes the gradient's norm; `None` gives the mean loss and its gradient alone (for
    /// a sum over MPI ranks, after which [`Mlp::add_penalty_and_norm`] adds the rest).
    ///
    /// With one shard the batch's products use every core; the gradient's elements are then
    /// the ones of [`Mlp::loss_and_grad`] (the penalty's gradient added to the data's), and
    /// the loss equals it to rounding. Panics when the minibatch is empty.
    pub(crate) fn batch_grad(
        &self,
        x: &DMatrix<f64>,
        labels: &[usize],
        rows: Rows<'_>,
        loss: Loss,
        lambda: Option<f64>,
        shards: usize,
    ) -> BatchGrad {
        let n = rows.map_or(x.nrows(), <[usize]>::len);
        assert!(n > 0, "batch_grad: a batch of no samples has no mean");
        let shards = shards.clamp(1, n);
        let shard_grad = |s: usize| {
            let range = shard_range(n, shards, s);
            if shards == 1 && rows.is_none() {
                return self.loss_and_grad(x, labels, loss, 0.0);
            }
            let batch_x = gather_rows(x, rows, range.clone());
            let batch_labels: Vec<usize> = match rows {
                None => labels[range].to_vec(),
                Some(rows) => rows[range].iter().map(|&i| labels[i]).collect(),
            };
            let result = self.loss_and_grad(&batch_x, &batch_labels, loss, 0.0);
            buffers::recycle(batch_x);
            result
        };
        if shards == 1 {
            let (data_loss, mut grad) = shard_grad(0);
            let Some(lambda) = lambda else {
                return BatchGrad {
                    loss: data_loss,
                    grad,
                    norm: f64::NAN,
                };
            };
            let threads = if self.parameter_count() >= SHARE_MIN_PARAMS {
                linalg::threads_for_shards(linalg::max_threads())
            } else {
                1
            };
            let partials = self.combine(&mut grad, &[], &[1.0], lambda, threads);
            let (loss, norm) = self.totals(data_loss, &grad, &partials, lambda);
            return BatchGrad { loss, grad, norm };
        }
        let threads = linalg::threads_for_shards(shards);
        let results: Vec<RwLock<Option<(f64, Mlp)>>> =
            (0..shards).map(|_| RwLock::new(None)).collect();
        let published = AtomicUsize::new(0);
        linalg::on_threads(threads, |thread| {
            for s in shard_range(shards, threads, thread) {
                let result = linalg::on_this_thread(|| shard_grad(s));
                *write(&results[s]) = Some(result);
                published.fetch_add(1, Ordering::Release);
            }
        });
        assert_eq!(
            published.load(Ordering::Acquire),
            shards,
            "batch_grad: a shard failed"
        );
        let weights: Vec<f64> = (0..shards)
            .map(|s| shard_range(n, shards, s).len() as f64 / n as f64)
            .collect();
        let (first_loss, mut grad) = write(&results[0]).take().expect("shard 0 is published");
        let mut data_loss = weights[0] * first_loss;
        for (s, result) in results.iter().enumerate().skip(1) {
            data_loss += weights[s] * read(result).as_ref().expect("published").0;
        }
        let partials = self.combine(
            &mut grad,
            &results[1..],
            &weights,
            lambda.unwrap_or(0.0),
            threads,
        );
        let Some(lambda) = lambda else {
            return BatchGrad {
                loss: data_loss,
                grad,
                norm: f64::NAN,
            };
        };
        let (loss, norm) = self.totals(data_loss, &grad, &partials, lambda);
        BatchGrad { loss, grad, norm }
    }

    /// `data_loss` plus the L2 penalty, its derived gradient added to `grad` (the mean
    /// gradient of the data), and the norm of the result: the second pass of
    /// [`Mlp::batch_grad`] for a gradient summed elsewhere (over MPI ranks), on the
    /// runtime's threads for a large model.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn add_penalty_and_norm(
        &self,
        data_loss: f64,
        grad: &mut Mlp,
        lambda: f64,
    ) -> (f64, f64) {
        let threads = if self.parameter_count() >= SHARE_MIN_PARAMS {
            linalg::threads_for_shards(linalg::max_threads())
        } else {
            1
        };
        let partials = self.combine(grad, &[], &[1.0], lambda, threads);
        self.totals(data_loss, grad, &partials, lambda)
    }

    /// The second pass of a step for one segment of the gradient summed over MPI ranks,
    /// the elements `range` of that sum (the leaves of [`Mlp::parameters`] one after the
    /// other), each rank's gradient weighted by its samples, `total` the samples: block by
    /// block, `sum(within, block)` writes the elements `within` (of the segment) of the sum
    /// into `sums[within]`, then `sums ← sums / total + ∇penalty`, the derived penalty's
    /// gradient added to the elements of weight matrices, in blocks as
    /// [`Mlp::add_penalty_and_norm`] adds it (the same bits); returns the sums of squares
    /// of the result and of the penalised weights. Writing the sum block by block keeps
    /// each block in the cache for the rest of its pass.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn finish_segment(
        &self,
        sums: &mut [f64],
        range: Range<usize>,
        (total, lambda): (f64, f64),
        sum: impl Fn(Range<usize>, &mut [f64]),
    ) -> Partial {
        let penalised = self.penalised_leaves();
        let (mut squares, mut weights_squared) = (0.0, 0.0);
        let mut start = 0;
        for (leaf, w) in self.parameters().into_iter().enumerate() {
            let (from, to) = (range.start.max(start), range.end.min(start + w.len()));
            for lo in (from..to).step_by(BLOCK) {
                let hi = (lo + BLOCK).min(to);
                let within = lo - range.start..hi - range.start;
                let out = &mut sums[within.clone()];
                sum(within, out);
                crate::simd::dispatch(
                    #[inline(always)]
                    || out.iter_mut().for_each(|s| *s /= total),
                );
                let w = &w[lo - start..hi - start];
                let penalty =
                    (penalised[leaf].is_some() && lambda != 0.0).then(|| block_penalty(w, lambda));
                let p = penalty.as_ref().map(|p| p.as_slice());
                let (g, ws) = combine_block(out, &[], &[1.0], w, p);
                squares += g;
                weights_squared += ws;
                if let Some(p) = penalty {
                    buffers::recycle(p);
                }
            }
            start += w.len();
        }
        (squares, weights_squared)
    }

    /// The combining pass on `threads` threads, `grad ← weights[0]·grad + Σₛ weights[s]·gₛ +
    /// ∇penalty` with `gₛ` the gradients of `others` (shards 1, 2, … on the threads that
    /// computed them, which give them back to their pools at the end) and `∇penalty` the
    /// derived gradient of [`super::l2_penalty`] of each block of a weight matrix, computed
    /// by the thread that combines the block (so the penalty's work is split as evenly as the
    /// blocks); the per-block sums of squares, in the order of the blocks.
    fn combine(
        &self,
        grad: &mut Mlp,
        others: &[RwLock<Option<(f64, Mlp)>>],
        weights: &[f64],
        lambda: f64,
        threads: usize,
    ) -> Vec<Partial> {
        let penalised = self.penalised_leaves();
        let blocks = blocks_of(grad.parameters_mut());
        let count = blocks.len();
        let mut parts: Vec<Mutex<Vec<Block<'_>>>> = Vec::with_capacity(threads);
        let mut blocks = blocks.into_iter();
        for t in 0..threads {
            parts.push(Mutex::new(
                blocks
                    .by_ref()
                    .take(shard_range(count, threads, t).len())
                    .collect(),
            ));
        }
        let sums: Vec<Mutex<Vec<Partial>>> = (0..threads).map(|_| Mutex::new(Vec::new())).collect();
        let params = self.parameters();
        let shards = others.len() + 1;
        let done = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        linalg::on_threads(threads, |thread| {
            let _failed = OnPanic(&failed);
            let mine = std::mem::take(&mut *lock(&parts[thread]));
            let guards: Vec<_> = others.iter().map(read).collect();
            let leaves: Vec<Vec<&[f64]>> = guards
                .iter()
                .map(|g| g.as_ref().expect("published").1.parameters())
                .collect();
            let mut partials = Vec::with_capacity(mine.len());
            for block in mine {
                let range = block.start..block.start + block.out.len();
                let from: Vec<&[f64]> = leaves
                    .iter()
                    .map(|l| &l[block.leaf][range.clone()])
                    .collect();
                let w = &params[block.leaf][range];
                let penalty = (penalised[block.leaf].is_some() && lambda != 0.0)
                    .then(|| block_penalty(w, lambda));
                let p = penalty.as_ref().map(|p| p.as_slice());
                partials.push(combine_block(block.out, &from, weights, w, p));
                if let Some(p) = penalty {
                    buffers::recycle(p);
                }
            }
            *lock(&sums[thread]) = partials;
            drop(guards);
            // Every thread has read every shard: each gives back the ones it computed.
            done.fetch_add(1, Ordering::Release);
            wait_for(&failed, || done.load(Ordering::Acquire) == threads);
            for s in shard_range(shards, threads, thread).filter(|&s| s > 0) {
                if let Some((_, g)) = write(&others[s - 1]).take() {
                    g.recycle();
                }
            }
        });
        sums.into_iter()
            .flat_map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }

    /// The weight matrix of each leaf (in the order of [`Mlp::parameters`]) that the L2
    /// penalty covers; `None` for a bias.
    fn penalised_leaves(&self) -> Vec<Option<&DMatrix<f64>>> {
        let mut penalised = Vec::with_capacity(4 * self.weights.len());
        for (i, activation) in self.activations.iter().enumerate() {
            penalised.extend([Some(&self.weights[i]), None]);
            if *activation == Activation::Maxout {
                penalised.extend([Some(&self.maxout_weights[i]), None]);
            }
        }
        penalised
    }

    /// The objective (`data_loss` plus the penalty, summed as in [`super::objective`]) and
    /// the gradient's norm, from the per-block sums of squares of [`Mlp::combine`].
    fn totals(&self, data_loss: f64, grad: &Mlp, partials: &[Partial], lambda: f64) -> (f64, f64) {
        let mut norm_squared = 0.0;
        let mut weights_squared = Vec::new();
        let mut partials = partials.iter();
        for leaf in grad.parameters() {
            let mut leaf_squared = 0.0;
            for _ in 0..leaf.len().div_ceil(BLOCK) {
                let (g, w) = partials.next().expect("one partial per block");
                norm_squared += g;
                leaf_squared += w;
            }
            weights_squared.push(leaf_squared);
        }
        if lambda == 0.0 {
            return (data_loss, norm_squared.sqrt());
        }
        // The weights first, then the maxout layers' second weights, as `objective` sums.
        let mut first = 0.0;
        let mut second = 0.0;
        let mut leaf = 0;
        for activation in &self.activations {
            first += 0.5 * lambda * weights_squared[leaf];
            leaf += 2;
            if *activation == Activation::Maxout {
                second += 0.5 * lambda * weights_squared[leaf];
                leaf += 2;
            }
        }
        (data_loss + first + second, norm_squared.sqrt())
    }

    /// How many rows of `x` the model classifies as `labels` says: blocks of rows on the
    /// runtime's threads, each block's products on its thread alone. The count does not
    /// depend on the number of threads.
    pub(crate) fn correct_rows(&self, x: &DMatrix<f64>, labels: &[usize]) -> usize {
        let blocks = x.nrows().div_ceil(EVAL_ROWS);
        let threads = linalg::threads_for_shards(linalg::max_threads().min(blocks));
        let correct = AtomicUsize::new(0);
        linalg::on_threads(threads, |thread| {
            let mut mine = 0;
            for b in shard_range(blocks, threads, thread) {
                let rows = b * EVAL_ROWS..((b + 1) * EVAL_ROWS).min(x.nrows());
                let block = gather_rows(x, None, rows.clone());
                let scores = linalg::on_this_thread(|| self.scores_of(block));
                mine += super::argmax_rows(&scores)
                    .iter()
                    .zip(&labels[rows])
                    .filter(|(p, y)| p == y)
                    .count();
                buffers::recycle(scores);
            }
            correct.fetch_add(mine, Ordering::Relaxed);
        });
        correct.into_inner()
    }
}

impl Mlp {
    /// The scores of the rows `x` (given back to the pool): [`Mlp::forward`], its products
    /// by the runtime's `gemm` kernel as in a training step (nalgebra's `*`, which
    /// `forward` calls, is slower at these sizes).
    fn scores_of(&self, x: DMatrix<f64>) -> DMatrix<f64> {
        let affine = |h: &DMatrix<f64>, w: &DMatrix<f64>, b: &nalgebra::RowDVector<f64>| {
            let mut z: DMatrix<f64> = buffers::matrix(
                nalgebra::Dyn(h.nrows()),
                nalgebra::Dyn(w.ncols()),
                Fill::Overwritten,
            );
            linalg::gemm_into(&mut z, 1.0, h, Op::Plain, w, Op::Plain, 0.0);
            crate::functions::add_bias(z, b)
        };
        let mut h = x;
        for (i, &activation) in self.activations.iter().enumerate() {
            let z = affine(&h, &self.weights[i], &self.biases[i]);
            let next = if activation == Activation::Maxout {
                let second = affine(&h, &self.maxout_weights[i], &self.maxout_biases[i]);
                let larger = crate::functions::maxout(&z, &second);
                buffers::recycle(z);
                buffers::recycle(second);
                larger
            } else {
                super::activate(z, activation)
            };
            buffers::recycle(core::mem::replace(&mut h, next));
        }
        h
    }
}

/// `out ← weights[0]·out + Σₛ weights[s + 1]·from[s] + penalty` (terms added in that order,
/// as the serial combination and penalty add them; `penalty` the derived gradient of the L2
/// penalty over the block of the weights `w`), and the sums of squares of the new `out` and
/// of `w` (0 without a penalty).
fn combine_block(
    out: &mut [f64],
    from: &[&[f64]],
    weights: &[f64],
    w: &[f64],
    penalty: Option<&[f64]>,
) -> Partial {
    crate::simd::dispatch(
        #[inline(always)]
        || {
            let first = weights[0];
            if first != 1.0 {
                out.iter_mut().for_each(|o| *o *= first);
            }
            for (g, &weight) in from.iter().zip(&weights[1..]) {
                for (o, g) in out.iter_mut().zip(g.iter()) {
                    *o += weight * g;
                }
            }
            let mut weights_squared = 0.0;
            if let Some(penalty) = penalty {
                for (o, p) in out.iter_mut().zip(penalty) {
                    *o += p;
                }
                weights_squared = linalg::dot(w, w);
            }
            (linalg::dot(out, out), weights_squared)
        },
    )
}

/// The derived gradient of [`super::l2_penalty`] (`λ·W`, elementwise) of one block of a
/// weight matrix, taken as a column of its own (in buffers of the thread's pool).
fn block_penalty(w: &[f64], lambda: f64) -> DMatrix<f64> {
    let mut column: DMatrix<f64> =
        buffers::matrix(nalgebra::Dyn(w.len()), nalgebra::Dyn(1), Fill::Overwritten);
    column.as_mut_slice().copy_from_slice(w);
    let (_, g) = l2_penalty_grad(&column, lambda);
    buffers::recycle(column);
    g.w
}

/// The leaves cut into blocks of [`BLOCK`] elements (a leaf's last block shorter), in order.
fn blocks_of(leaves: Vec<&mut [f64]>) -> Vec<Block<'_>> {
    let mut blocks = Vec::new();
    for (leaf, elems) in leaves.into_iter().enumerate() {
        for (i, out) in elems.chunks_mut(BLOCK).enumerate() {
            blocks.push(Block {
                leaf,
                start: i * BLOCK,
                out,
            });
        }
    }
    blocks
}

/// The rows `range` of the minibatch `rows` of `x` (of every row in order when `None`): a
/// copy in a buffer of the current thread's pool.
fn gather_rows(x: &DMatrix<f64>, rows: Rows<'_>, range: Range<usize>) -> DMatrix<f64> {
    let mut out: DMatrix<f64> = buffers::matrix(
        nalgebra::Dyn(range.len()),
        nalgebra::Dyn(x.ncols()),
        Fill::Overwritten,
    );
    match rows {
        None => {
            for (mut to, from) in out.column_iter_mut().zip(x.column_iter()) {
                to.as_mut_slice()
                    .copy_from_slice(&from.as_slice()[range.clone()]);
            }
        }
        Some(rows) => {
            let rows = &rows[range];
            for (mut to, from) in out.column_iter_mut().zip(x.column_iter()) {
                let from = from.as_slice();
                for (t, &i) in to.as_mut_slice().iter_mut().zip(rows) {
                    *t = from[i];
                }
            }
        }
    }
    out
}

fn read<X>(m: &RwLock<X>) -> std::sync::RwLockReadGuard<'_, X> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

fn write<X>(m: &RwLock<X>) -> std::sync::RwLockWriteGuard<'_, X> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::spiral;
    use crate::init::{seeded_rng, Init};
    use crate::Parameters;

    fn bits(m: &Mlp) -> Vec<u64> {
        m.parameters()
            .concat()
            .iter()
            .map(|v| v.to_bits())
            .collect()
    }

    /// A net of more than one block per leaf (and more than [`SHARE_MIN_PARAMS`]).
    fn net(activation: Activation) -> Mlp {
        Mlp::new(&[2, 300, 240, 3], activation, Init::He, &mut seeded_rng(1))
    }

    /// One shard: the gradient of [`Mlp::loss_and_grad`] with the penalty inside the
    /// derived objective, element for element; the loss and the norm to rounding.
    #[test]
    fn one_shard_gives_the_derived_gradient_bit_for_bit() {
        let data = spiral(100, 3, &mut seeded_rng(0));
        for activation in [Activation::Relu, Activation::Maxout] {
            let model = net(activation);
            for lambda in [0.0, 1e-3] {
                let (value, whole) =
                    model.loss_and_grad(&data.x, &data.labels, Loss::SoftmaxCrossEntropy, lambda);
                let step = model.batch_grad(
                    &data.x,
                    &data.labels,
                    None,
                    Loss::SoftmaxCrossEntropy,
                    Some(lambda),
                    1,
                );
                assert_eq!(bits(&step.grad), bits(&whole), "{activation:?} λ={lambda}");
                assert!(
                    (step.loss - value).abs() <= 1e-14 * value,
                    "{} against {value}",
                    step.loss
                );
                let norm = whole.norm();
                assert!(
                    (step.norm - norm).abs() <= 1e-14 * norm,
                    "{} against {norm}",
                    step.norm
                );
            }
        }
    }

    /// The combining pass, shared by the threads block by block, gives the bits of the
    /// serial combination ([`crate::parallel::sharded_grad`]) plus the derived penalty's
    /// gradient added once.
    #[test]
    fn the_shared_combination_gives_the_serial_bits() {
        let data = spiral(100, 3, &mut seeded_rng(2));
        for activation in [Activation::Relu, Activation::Maxout] {
            let model = net(activation);
            for shards in [2, 3, 7] {
                let lambda = 1e-2;
                let (serial_loss, mut serial) =
                    crate::parallel::sharded_grad(data.len(), shards, |rows| {
                        let x = data.x.rows(rows.start, rows.len()).clone_owned();
                        model.loss_and_grad(&x, &data.labels[rows], Loss::Hinge, 0.0)
                    });
                let (_, first) = super::super::loss::l2_penalties_grad(&model.weights, lambda);
                let (_, second) =
                    super::super::loss::l2_penalties_grad(&model.maxout_weights, lambda);
                serial.weights.add_scaled(1.0, &first.weights);
                serial.maxout_weights.add_scaled(1.0, &second.weights);
                let step = model.batch_grad(
                    &data.x,
                    &data.labels,
                    None,
                    Loss::Hinge,
                    Some(lambda),
                    shards,
                );
                assert_eq!(
                    bits(&step.grad),
                    bits(&serial),
                    "{activation:?} {shards} shards"
                );
                let value = serial_loss + model.loss(&data.x, &data.labels, Loss::Hinge, lambda)
                    - model.loss(&data.x, &data.labels, Loss::Hinge, 0.0);
                assert!((step.loss - value).abs() <= 1e-12 * value);
                let norm = serial.norm();
                assert!((step.norm - norm).abs() <= 1e-14 * norm);
            }
        }
    }

    /// A minibatch given as rows of the data set: the gradient of those rows copied out.
    #[test]
    fn rows_read_in_place_give_the_gradient_of_the_copied_rows() {
        let data = spiral(100, 3, &mut seeded_rng(4));
        let model = net(Activation::Relu);
        let rows: Vec<usize> = (0..data.len()).rev().step_by(3).collect();
        let batch = data.select(&rows);
        for shards in [1, 2, 5] {
            let whole = model.batch_grad(
                &batch.x,
                &batch.labels,
                None,
                Loss::SumOfSquares,
                Some(1e-3),
                shards,
            );
            let step = model.batch_grad(
                &data.x,
                &data.labels,
                Some(&rows),
                Loss::SumOfSquares,
                Some(1e-3),
                shards,
            );
            assert_eq!(bits(&step.grad), bits(&whole.grad), "{shards} shards");
            assert_eq!(step.loss.to_bits(), whole.loss.to_bits());
            assert_eq!(step.norm.to_bits(), whole.norm.to_bits());
        }
    }

    /// Without a penalty asked for: the mean loss and its gradient alone; then
    /// [`Mlp::add_penalty_and_norm`] completes them to what one call gives.
    #[test]
    fn the_penalty_added_afterwards_completes_the_step() {
        let data = spiral(60, 3, &mut seeded_rng(5));
        let model = net(Activation::Maxout);
        for shards in [1, 3] {
            let full =
                model.batch_grad(&data.x, &data.labels, None, Loss::Hinge, Some(0.1), shards);
            let mut part = model.batch_grad(&data.x, &data.labels, None, Loss::Hinge, None, shards);
            assert!(part.norm.is_nan());
            let (loss, norm) = model.add_penalty_and_norm(part.loss, &mut part.grad, 0.1);
            assert_eq!(bits(&part.grad), bits(&full.grad));
            assert_eq!(
                (loss.to_bits(), norm.to_bits()),
                (full.loss.to_bits(), full.norm.to_bits())
            );
        }
    }

    #[test]
    fn correct_rows_count_the_accuracy() {
        let data = spiral(700, 3, &mut seeded_rng(6));
        let model = net(Activation::Relu);
        let correct = model.correct_rows(&data.x, &data.labels);
        let accuracy = model.accuracy(&data.x, &data.labels);
        assert_eq!(correct as f64 / data.len() as f64, accuracy);
        assert_eq!(model.correct_rows(&data.x.rows(0, 0).clone_owned(), &[]), 0);
    }
}
