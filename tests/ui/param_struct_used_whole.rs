use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Layer {
    pub w: DMatrix<f64>,
}

fn weights(p: &Layer) -> DMatrix<f64> {
    p.w.clone()
}

#[differentiate]
fn f(p: &Layer, x: &DMatrix<f64>) -> f64 {
    (x * weights(p)).sum()
}

fn main() {}
