//! Classification losses of a batch of scores (one row per sample, one column per class)
//! against integer labels: the multiclass hinge loss `svm_loss` and the stable
//! `softmax_cross_entropy`. Each rule's value and pullback; the labels are constants.

use super::adjoint::{scalar_seed, Seed};
use super::reads::{Const, Operand};
use super::softmax::{exp_shifted, normalize_rows};
use crate::real::Real;
use crate::value::assert_same_shape;
use core::marker::PhantomData;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// Panics unless there is one label per row, each a valid column index.
#[track_caller]
pub(crate) fn check_labels(op: &str, (rows, classes): (usize, usize), labels: &[usize]) {
    if labels.len() != rows {
        panic!(
            "{op}: {} labels for {rows} rows of scores (scores of shape ({rows}, {classes}))",
            labels.len()
        );
    }
    if let Some((i, label)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        panic!("{op}: label {label} of row {i} is out of range for {classes} classes");
    }
}

/// `1 / n` for a mean over `n` rows (`1` for an empty batch, whose loss is `0`).
#[inline]
pub(crate) fn inverse_count<T: Real>(rows: usize) -> T {
    T::one() / T::from_count(rows.max(1))
}

// ---------------------------------------------------------------------------- svm_loss

/// The pullback handle of `svm_loss(scores, labels)`.
pub struct SvmLoss<M>(PhantomData<fn(&M)>);

/// The value of `svm_loss`, shared with the public function.
#[track_caller]
pub(crate) fn svm_value<T: Real, R: Dim, C: Dim>(scores: &OMatrix<T, R, C>, labels: &[usize]) -> T
where
    DefaultAllocator: Allocator<R, C>,
{
    check_labels("svm_loss", scores.shape(), labels);
    let mut total = T::zero();
    for (i, &label) in labels.iter().enumerate() {
        let row = scores.row(i);
        let correct = row[label];
        for (j, s) in row.iter().enumerate() {
            let margin = *s - correct + T::one();
            if j != label && margin > T::zero() {
                total += margin;
            }
        }
    }
    total * inverse_count(labels.len())
}

/// `L = (1/n) Σᵢ Σ_{j ≠ yᵢ} max(0, s[i, j] − s[i, yᵢ] + 1)`: the multiclass hinge loss with
/// margin 1, averaged over the `n` rows (`0` for an empty batch). A margin of exactly `0`
/// is inactive. Derivative: each active margin `(i, j)` adds `1/n` to `∂L/∂s[i, j]` and
/// `−1/n` to `∂L/∂s[i, yᵢ]`. Panics unless there is one label per row, each below the number
/// of columns.
#[inline]
#[track_caller]
pub fn svm_loss<T: Real, R: Dim, C: Dim>(
    scores: &OMatrix<T, R, C>,
    labels: &[usize],
) -> (T, SvmLoss<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    (svm_value(scores, labels), SvmLoss(PhantomData))
}

impl<T: Real, R: Dim, C: Dim> SvmLoss<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// Pullback of `svm_loss(scores, labels)` to `scores`; reads `scores` and `labels`.
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_scores: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, T>>,
        Operand(scores): Operand<0, &OMatrix<T, R, C>>,
        Const(labels): Const<0, &[usize]>,
    ) where
        T: 's,
    {
        let Some(g) = scalar_seed(seed.into()) else {
            return;
        };
        check_labels("svm_loss", scores.shape(), labels);
        let step = g * inverse_count::<T>(labels.len());
        let acc = match d_scores {
            Some(acc) => {
                assert_same_shape("svm_loss", acc.shape(), scores.shape());
                acc
            }
            None => d_scores.insert(crate::buffers::matrix(
                scores.shape_generic().0,
                scores.shape_generic().1,
                crate::buffers::Fill::Zeros,
            )),
        };
        for (i, &label) in labels.iter().enumerate() {
            let row = scores.row(i);
            let correct = row[label];
            for (j, s) in row.iter().enumerate() {
                if j != label && *s - correct + T::one() > T::zero() {
                    acc[(i, j)] += step;
                    acc[(i, label)] -= step;
                }
            }
        }
    }
}

// --------------------------------------------------------------- softmax_cross_entropy

/// The pullback handle of `softmax_cross_entropy(scores, labels)`: the softmax
/// probabilities of the scores, computed by the forward.
pub struct SoftmaxCrossEntropy<M> {
    probabilities: M,
}

/// The value of `softmax_cross_entropy` and the probabilities, shared with the public
/// function.
#[track_caller]
pub(crate) fn cross_entropy_parts<T: Real, R: Dim, C: Dim>(
    scores: &OMatrix<T, R, C>,
    labels: &[usize],
) -> (T, OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    check_labels("softmax_cross_entropy", scores.shape(), labels);
    let (mut e, max, sums) = exp_shifted(scores);
    let mut total = T::zero();
    for (i, &label) in labels.iter().enumerate() {
        total += sums[i].ln() - (scores[(i, label)] - max[i]);
    }
    normalize_rows(&mut e, &sums);
    crate::buffers::give_scratch(max);
    crate::buffers::give_scratch(sums);
    (total * inverse_count(labels.len()), e)
}

/// `L = (1/n) Σᵢ −ln softmax(s[i, ·])[yᵢ] = (1/n) Σᵢ (ln Σⱼ exp(s[i, j]) − s[i, yᵢ])`, the
/// cross-entropy of the row softmax against the labels, averaged over the `n` rows (`0` for
/// an empty batch), evaluated with each row's maximum subtracted so that it is finite for
/// any finite scores. Derivative `∂L/∂s = (p − onehot(y)) / n`, with `p` the probabilities
/// the forward computes and the handle keeps. Panics unless there is one label per row, each
/// below the number of columns.
#[inline]
#[track_caller]
pub fn softmax_cross_entropy<T: Real, R: Dim, C: Dim>(
    scores: &OMatrix<T, R, C>,
    labels: &[usize],
) -> (T, SoftmaxCrossEntropy<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let (loss, probabilities) = cross_entropy_parts(scores, labels);
    (loss, SoftmaxCrossEntropy { probabilities })
}

impl<T: Real, R: Dim, C: Dim> SoftmaxCrossEntropy<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// The softmax probabilities of the scores, one row per sample.
    #[inline]
    pub fn probabilities(&self) -> &OMatrix<T, R, C> {
        &self.probabilities
    }

    /// Pullback of `softmax_cross_entropy(scores, labels)` to `scores`; reads `labels`.
    /// Consumes the handle: the probabilities' buffer becomes the gradient.
    #[track_caller]
    pub fn arg<'s>(
        self,
        d_scores: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, T>>,
        Const(labels): Const<0, &[usize]>,
    ) where
        T: 's,
    {
        let Some(g) = scalar_seed(seed.into()) else {
            // No gradient to compute: the probabilities' buffer goes back to the pool.
            return crate::buffers::give_matrix(self.probabilities);
        };
        let mut p = self.probabilities;
        check_labels("softmax_cross_entropy", p.shape(), labels);
        let step = g * inverse_count::<T>(labels.len());
        let acc = match d_scores {
            Some(acc) => {
                assert_same_shape("softmax_cross_entropy", acc.shape(), p.shape());
                acc.zip_apply(&p, |a, p| *a += step * p);
                crate::buffers::give_matrix(p);
                acc
            }
            None => {
                p.apply(|v| *v *= step);
                d_scores.insert(p)
            }
        };
        for (i, &label) in labels.iter().enumerate() {
            acc[(i, label)] -= step;
        }
    }
}
