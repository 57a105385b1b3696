//! Reads the reference files PyTorch wrote (`tests/data/*.txt`): a `# shape d0 d1` line,
//! optional `#` comments, then the values in row-major order.

use autodiff::prelude::*;
use std::path::PathBuf;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(format!("{name}.txt"))
}

/// The shape and the values of a fixture.
pub fn read(name: &str) -> (Vec<usize>, Vec<f64>) {
    let text =
        std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    let mut shape = None;
    let mut values = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# shape") {
            shape = Some(
                rest.split_whitespace()
                    .map(|d| d.parse().expect("shape"))
                    .collect(),
            );
        } else if !line.starts_with('#') {
            values.extend(
                line.split_whitespace()
                    .map(|v| v.parse::<f64>().expect("value")),
            );
        }
    }
    (
        shape.unwrap_or_else(|| panic!("fixture {name} has no shape line")),
        values,
    )
}

pub fn matrix(name: &str) -> DMatrix<f64> {
    let (shape, values) = read(name);
    assert_eq!(shape.len(), 2, "{name} is not a matrix");
    DMatrix::from_row_slice(shape[0], shape[1], &values)
}

pub fn row(name: &str) -> RowDVector<f64> {
    let (shape, values) = read(name);
    assert_eq!(shape.len(), 1, "{name} is not a vector");
    RowDVector::from_row_slice(&values)
}

pub fn scalar(name: &str) -> f64 {
    let (shape, values) = read(name);
    assert!(
        shape.is_empty() && values.len() == 1,
        "{name} is not a scalar"
    );
    values[0]
}

pub fn labels(name: &str) -> Vec<usize> {
    read(name).1.into_iter().map(|v| v as usize).collect()
}

/// max|got − want| / max|want|: the agreement the reference README asks for.
pub fn relative_error(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "lengths differ");
    let scale = want
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    got.iter()
        .zip(want)
        .fold(0.0f64, |m, (g, w)| m.max((g - w).abs()))
        / scale
}
