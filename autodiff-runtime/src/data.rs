//! Labelled data for classification: a data set of samples (rows) and labels, shuffled
//! train/test splits, shuffled minibatches, and accuracy.

use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use rand::Rng;
use std::fmt;

/// Samples `x` (one a row) with one class label each.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The samples, `n × features`.
    pub x: DMatrix<f64>,
    /// One label per row of `x`, each below [`Dataset::classes`].
    pub labels: Vec<usize>,
}

/// Samples and labels that do not fit together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError(pub String);

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataError {}

impl Dataset {
    /// A data set, after checking there is one label per sample.
    pub fn new(x: DMatrix<f64>, labels: Vec<usize>) -> Result<Dataset, DataError> {
        if x.nrows() != labels.len() {
            return Err(DataError(format!(
                "{} samples but {} labels",
                x.nrows(),
                labels.len()
            )));
        }
        Ok(Dataset { x, labels })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The number of features (columns of `x`).
    pub fn features(&self) -> usize {
        self.x.ncols()
    }

    /// The number of classes: one more than the largest label (`0` when empty).
    pub fn classes(&self) -> usize {
        self.labels.iter().max().map_or(0, |m| m + 1)
    }

    /// The samples at `indices`, in that order.
    ///
    /// Panics when an index is out of range.
    #[track_caller]
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            x: self.x.select_rows(indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// A shuffled split: `test_fraction` of the samples (rounded) in the second set, the rest
    /// in the first.
    pub fn split(&self, test_fraction: f64, rng: &mut impl Rng) -> (Dataset, Dataset) {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(rng);
        let test =
            ((self.len() as f64 * test_fraction.clamp(0.0, 1.0)).round() as usize).min(self.len());
        let (test_idx, train_idx) = order.split_at(test);
        (self.select(train_idx), self.select(test_idx))
    }
}

/// The indices `0..n` shuffled and cut into batches of `batch_size` (the last one shorter
/// when `batch_size` does not divide `n`): one epoch of minibatches. A `batch_size` of `0`
/// or at least `n` gives one full batch (unshuffled order does not matter for a full batch,
/// but it is shuffled all the same, which draws from `rng`).
pub fn shuffled_batches(n: usize, batch_size: usize, rng: &mut impl Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let size = if batch_size == 0 {
        n.max(1)
    } else {
        batch_size
    };
    order.chunks(size).map(<[usize]>::to_vec).collect()
}

/// The fraction of `predictions` equal to `labels` (`0` for none).
///
/// Panics when the lengths differ.
#[track_caller]
pub fn accuracy(predictions: &[usize], labels: &[usize]) -> f64 {
    assert_eq!(
        predictions.len(),
        labels.len(),
        "accuracy: {} predictions for {} labels",
        predictions.len(),
        labels.len()
    );
    if labels.is_empty() {
        return 0.0;
    }
    let correct = predictions
        .iter()
        .zip(labels)
        .filter(|(p, y)| p == y)
        .count();
    correct as f64 / labels.len() as f64
}

/// The spiral data set of Stanford's CS231n: `classes` interleaved spiral arms of
/// `points_per_class` points each in the plane, labelled by arm. For arm `j`, point `i` has
/// radius `r = i / (N − 1)` and angle `t = 4j + 4·i / (N − 1) + 0.2·ε` with `ε ~ N(0, 1)`
/// (`r = linspace(0, 1, N)`, `t = linspace(4j, 4(j + 1), N) + 0.2·randn`), at
/// `(r·sin t, r·cos t)`. No line separates the arms.
pub fn spiral(points_per_class: usize, classes: usize, rng: &mut impl Rng) -> Dataset {
    let n = points_per_class;
    let mut x = DMatrix::zeros(n * classes, 2);
    let mut labels = Vec::with_capacity(n * classes);
    let step = if n > 1 { 1.0 / (n - 1) as f64 } else { 0.0 };
    for j in 0..classes {
        for i in 0..n {
            let r = i as f64 * step;
            let noise: f64 = rng.sample(rand_distr::StandardNormal);
            let t = 4.0 * j as f64 + 4.0 * i as f64 * step + 0.2 * noise;
            let row = j * n + i;
            x[(row, 0)] = r * t.sin();
            x[(row, 1)] = r * t.cos();
            labels.push(j);
        }
    }
    Dataset { x, labels }
}
