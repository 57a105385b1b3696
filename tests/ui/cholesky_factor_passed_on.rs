use autodiff::prelude::*;
use nalgebra::{Cholesky, Dyn};

fn log_det(c: Cholesky<f64, Dyn>) -> f64 {
    2.0 * c.l().diagonal().map(f64::ln).sum()
}

#[differentiate]
fn f(k: DMatrix<f64>) -> f64 {
    let c = k.cholesky().unwrap();
    log_det(c)
}

fn main() {}
