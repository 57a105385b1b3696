use autodiff::prelude::*;

#[differentiate]
fn f(a: &SMatrix<f64, 2, 3>, b: &SMatrix<f64, 2, 3>) -> f64 {
    let p = a * b;
    p.sum()
}

fn main() {}
