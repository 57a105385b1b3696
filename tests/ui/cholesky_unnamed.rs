use autodiff::prelude::*;

#[differentiate]
fn f(k: DMatrix<f64>) -> f64 {
    k.cholesky().unwrap().determinant()
}

fn main() {}
