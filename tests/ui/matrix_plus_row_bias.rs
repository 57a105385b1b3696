use autodiff::prelude::*;

// nalgebra compiles `x * w + b` (and panics at run time); the note points to `add_bias`.
#[differentiate]
fn f(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> f64 {
    (x * w + b).sum()
}

fn main() {}
