use autodiff::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub w: DMatrix<f64>,
}

#[differentiate]
fn f(p: &Params, x: &DMatrix<f64>) -> f64 {
    (x * &p.w).sum()
}

fn main() {}
