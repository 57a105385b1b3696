use autodiff::prelude::*;

// A picture shows the gradient of a scalar result: a matrix result has none.
#[differentiate(graph)]
fn scores(w: &DMatrix<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    x * w
}

fn main() {}
