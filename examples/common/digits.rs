//! The UCI 8×8 handwritten digits (scikit-learn's `load_digits`), shipped in the `smartcore`
//! crate: the data set of the digits examples.

use autodiff::data::Dataset;
use autodiff::prelude::*;
use std::error::Error;

/// The digits as a data set: pixel intensities 0..=16 scaled to [0, 1], labels 0..=9.
pub fn load_digits() -> Result<Dataset, Box<dyn Error>> {
    let raw = smartcore::dataset::digits::load_dataset();
    let x = DMatrix::from_row_iterator(
        raw.num_samples,
        raw.num_features,
        raw.data.iter().map(|&v| f64::from(v) / 16.0),
    );
    let labels = raw.target.iter().map(|&y| y as usize).collect();
    Ok(Dataset::new(x, labels)?)
}
