use autodiff::prelude::*;

#[differentiate(wrt(w))]
fn layer(x: &DMatrix<f64>, w: &DMatrix<f64>) -> DMatrix<f64> {
    x * w
}

#[differentiate]
fn f(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let h = x * 2.0;
    layer(&h, w).sum()
}

fn main() {}
