use autodiff::prelude::*;

#[differentiate]
fn f(ws: Vec<DMatrix<f64>>, x: f64) -> f64 {
    (&ws[0] * x).sum()
}

fn main() {}
