use autodiff::prelude::*;

#[differentiate]
fn f(k: DMatrix<f64>) -> f64 {
    let c = k.cholesky().unwrap();
    c.determinant()
}

fn main() {}
