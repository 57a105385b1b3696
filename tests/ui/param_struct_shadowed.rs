use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Layer {
    pub w: DMatrix<f64>,
}

#[differentiate]
fn f(p: &Layer, x: &DMatrix<f64>) -> f64 {
    let p = x * &p.w;
    p.sum()
}

fn main() {}
