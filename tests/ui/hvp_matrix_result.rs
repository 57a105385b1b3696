use autodiff::prelude::*;

// A Hessian-vector product is of a scalar function: a matrix result has none.
#[differentiate(hvp)]
fn scores(w: &DMatrix<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    x * w
}

fn main() {}
