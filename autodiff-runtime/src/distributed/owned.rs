//! A training step in which each rank finishes only the segment of the parameters it owns:
//! the penalty's gradient, the gradient's norm and the optimizer's update run between the
//! reduce-scatter and the all-gather of the ring, each on `1/N` of the parameters.
//!
//! After the reduce-scatter a rank holds the finished sum of one chunk of the fused gradient
//! (`ring.rs`). It scales that chunk to the mean, adds the penalty's gradient, takes the
//! chunk's sums of squares, and the ranks sum these and their losses in one all-reduce of
//! three numbers, so that every rank sees the same loss and norm and takes (or refuses) the
//! step alike. It then updates its chunk of the parameters, and the all-gather copies every
//! chunk from its owner to every rank: the same bits everywhere. Each element is computed as
//! the whole-buffer step computes it, so on two ranks the parameters are those of that step,
//! bit for bit (on more, the chunks of the sum are cut elsewhere, that step's buffer also
//! carrying the loss and the count, so some additions run in another order); the loss and
//! the norm are summed in another order (equal to rounding).
//!
//! Only for an [`Optimizer::elementwise`] optimizer: its state is then kept for this rank's
//! chunk only.

use super::Cluster;
use crate::nn::Mlp;
use crate::optim::Optimizer;
use std::ops::Range;

impl Cluster {
    /// One optimizer step of `model` from this rank's mean loss `value` and gradient `grad`
    /// over its `count` samples, of `total` samples over all ranks, with the L2 penalty
    /// `lambda`: the objective, or what was not finite (and no step on any rank).
    pub(super) fn owned_step(
        &mut self,
        model: &mut Mlp,
        (count, value, grad): (usize, f64, Mlp),
        total: usize,
        lambda: f64,
        optimizer: &mut impl Optimizer,
    ) -> Result<f64, (&'static str, f64)> {
        let mut fused = std::mem::take(&mut self.fused);
        fused.clear();
        let weight = count as f64;
        if count == 0 {
            // What a rank without samples computed (NaN, say) must not reach the sum.
            fused.resize(grad.parameter_count(), 0.0);
        } else {
            for leaf in grad.parameters() {
                fused.extend(leaf.iter().map(|x| weight * x));
            }
        }
        grad.recycle();
        let own = self.reduce_scatter(&mut fused);
        let total = total as f64;
        let (squares, weights_squared) =
            model.finish_segment(&mut fused[own.clone()], own.clone(), total, lambda);
        let weighted_loss = if count == 0 { 0.0 } else { weight * value };
        let mut sums = [weighted_loss, squares, weights_squared];
        self.all_reduce_sum(&mut sums);
        let loss = sums[0] / total + 0.5 * lambda * sums[2];
        let norm = sums[1].sqrt();
        let result = if !loss.is_finite() {
            Err(("loss", loss))
        } else if !norm.is_finite() {
            Err(("gradient", norm))
        } else {
            self.update_and_gather(model, &fused, own, optimizer);
            Ok(loss)
        };
        self.fused = fused;
        result
    }

    /// The optimizer's step on this rank's chunk `own` of the parameters (`fused[own]` its
    /// gradient), then the all-gather of every rank's updated chunk, from and into the
    /// model's matrices.
    fn update_and_gather(
        &mut self,
        model: &mut Mlp,
        fused: &[f64],
        own: Range<usize>,
        optimizer: &mut impl Optimizer,
    ) {
        let grads = pieces(&fused[own.clone()], &lengths(model), own.clone());
        optimizer.step(pieces_mut(model.parameters_mut(), own), grads);
        self.all_gather(&mut model.parameters_mut());
    }
}

fn lengths(model: &Mlp) -> Vec<usize> {
    model.parameters().iter().map(|leaf| leaf.len()).collect()
}

/// For each leaf (of `lengths`, one after the other) that meets `range`: the leaf, the
/// part of it inside `range`, and where that part lies in `range`.
fn overlaps(
    lengths: &[usize],
    range: Range<usize>,
) -> impl Iterator<Item = (usize, Range<usize>, Range<usize>)> + '_ {
    let starts = lengths.iter().scan(0, |start, len| {
        let this = *start;
        *start += len;
        Some(this)
    });
    starts
        .zip(lengths)
        .enumerate()
        .filter_map(move |(leaf, (start, len))| {
            let (from, to) = (range.start.max(start), range.end.min(start + len));
            (from < to).then(|| {
                (
                    leaf,
                    from - start..to - start,
                    from - range.start..to - range.start,
                )
            })
        })
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
