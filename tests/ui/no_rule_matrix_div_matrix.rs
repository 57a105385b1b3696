use autodiff::prelude::*;

#[differentiate]
fn f(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let q = a / b;
    q.sum()
}

fn main() {}
