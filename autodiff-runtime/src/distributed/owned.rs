//! A training step in which each rank finishes only the segment of the parameters it owns:
//! the penalty's gradient, the gradient's norm and the optimizer's update run between the
//! reduce-scatter and the all-gather of the ring, each on `1/N` of the parameters.
//!
//! After the reduce-scatter a rank holds the finished sum of one chunk of the ranks'
//! gradients, each weighted by its rank's samples (`ring::weighted_reduce_scatter`, which
//! sends from the gradient's matrices and weighs what arrives: no weighted copy of the
//! whole gradient is made). In one pass, block by block, it writes that sum, scales it to
//! the mean, adds the penalty's gradient and takes the chunk's sums of squares; the ranks
//! sum these and their losses in one all-reduce of three numbers, so that every rank sees
//! the same loss and norm and takes (or refuses) the step alike. It then updates its chunk
//! of the parameters, and the all-gather copies every chunk from its owner to every rank:
//! the same bits everywhere. Each element is computed as the whole-buffer step computes it,
//! so on two ranks the parameters are those of that step, bit for bit (on more, the chunks
//! of the sum are cut elsewhere, that step's buffer also carrying the loss and the count,
//! so some additions run in another order); the loss and the norm are summed in another
//! order (equal to rounding).
//!
//! Only for an [`Optimizer::elementwise`] optimizer: its state is then kept for this rank's
//! chunk only.

use super::ring::overlaps;
use super::Cluster;
use crate::nn::Mlp;
use crate::optim::Optimizer;
use std::ops::Range;

impl Cluster {
    /// One optimizer step of `model` from this rank's mean loss `value` and gradient `grad`
    /// over its part of the minibatch, `counts[r]` the samples of rank `r`'s part (0 for a
    /// rank without samples, whose loss and gradient are then ignored), with the L2 penalty
    /// `lambda`: the objective, or what was not finite (and no step on any rank).
    pub(super) fn owned_step(
        &mut self,
        model: &mut Mlp,
        (value, grad): (f64, Mlp),
        counts: &[usize],
        lambda: f64,
        optimizer: &mut impl Optimizer,
    ) -> Result<f64, (&'static str, f64)> {
        let weights: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
        let total = counts.iter().sum::<usize>() as f64;
        let mut chunk = std::mem::take(&mut self.fused);
        let gradient = (&grad.parameters()[..], &weights[..]);
        let (own, (squares, weights_squared)) =
            self.weighted_reduce_scatter(gradient, &mut chunk, |sum, chunk| {
                // The chunk's sum is written block by block as `finish_segment` reaches it.
                chunk.resize(sum.range.len(), 0.0);
                let write = |within, out: &mut [f64]| sum.write(within, out);
                let range = sum.range.clone();
                (
                    range.clone(),
                    model.finish_segment(chunk, range, (total, lambda), write),
                )
            });
        grad.recycle();
        let weight = weights[self.rank()];
        let weighted_loss = if weight == 0.0 { 0.0 } else { weight * value };
        let mut sums = [weighted_loss, squares, weights_squared];
        self.all_reduce_sum(&mut sums);
        let loss = sums[0] / total + 0.5 * lambda * sums[2];
        let norm = sums[1].sqrt();
        let result = if !loss.is_finite() {
            Err(("loss", loss))
        } else if !norm.is_finite() {
            Err(("gradient", norm))
        } else {
            self.update_and_gather(model, &chunk, own, optimizer);
            Ok(loss)
        };
        self.fused = chunk;
        result
    }

    /// The optimizer's step on this rank's chunk `own` of the parameters (`grad` its
    /// gradient), then the all-gather of every rank's updated chunk, from and into the
    /// model's matrices.
    fn update_and_gather(
        &mut self,
        model: &mut Mlp,
        grad: &[f64],
        own: Range<usize>,
        optimizer: &mut impl Optimizer,
    ) {
        let grads = pieces(grad, &lengths(model), own.clone());
        optimizer.step(pieces_mut(model.parameters_mut(), own), grads);
        self.all_gather(&mut model.parameters_mut());
    }
}

fn lengths(model: &Mlp) -> Vec<usize> {
    model.parameters().iter().map(|leaf| leaf.len()).collect()
}

/// `segment` (the elements `range` of the leaves of `lengths`) cut at the leaves' borders.
fn pieces<'a>(segment: &'a [f64], lengths: &[usize], range: Range<usize>) -> Vec<&'a [f64]> {
    overlaps(lengths, range)
        .map(|(_, _, within)| &segment[within])
        .collect()
}

/// The parts of `leaves` inside `range`, in order.
fn pieces_mut(leaves: Vec<&mut [f64]>, range: Range<usize>) -> Vec<&mut [f64]> {
    let lengths: Vec<usize> = leaves.iter().map(|leaf| leaf.len()).collect();
    let mut parts: Vec<Option<Range<usize>>> = vec![None; leaves.len()];
    for (leaf, part, _) in overlaps(&lengths, range) {
        parts[leaf] = Some(part);
    }
    leaves
        .into_iter()
        .zip(parts)
        .filter_map(|(leaf, part)| part.map(|part| &mut leaf[part]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_cut_a_range_at_the_leaves() {
        let found: Vec<_> = overlaps(&[3, 0, 4, 2], 2..8).collect();
        assert_eq!(
            found,
            vec![(0, 2..3, 0..1), (2, 0..4, 1..5), (3, 0..1, 5..6)]
        );
        assert_eq!(overlaps(&[3, 4], 3..3).count(), 0);
    }

    #[test]
    fn pieces_cut_a_segment_and_the_leaves() {
        let (mut a, mut b) = (vec![1.0, 2.0, 3.0], vec![4.0, 5.0]);
        let cut = pieces(&[2.0, 3.0, 4.0], &[3, 2], 1..4);
        assert_eq!(cut, vec![&[2.0, 3.0][..], &[4.0][..]]);
        let parts = pieces_mut(vec![&mut a[..], &mut b[..]], 2..4);
        assert_eq!(parts, vec![&mut [3.0][..], &mut [4.0][..]]);
    }
}
