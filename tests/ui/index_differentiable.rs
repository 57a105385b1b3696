use autodiff::prelude::*;

#[differentiate]
fn f(m: &DMatrix<f64>) -> f64 {
    m[(0, 0)] * 2.0
}

fn main() {}
