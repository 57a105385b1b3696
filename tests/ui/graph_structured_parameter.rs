use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Layer {
    pub w: DMatrix<f64>,
}

#[differentiate(graph)]
fn f(p: &Layer, x: &DMatrix<f64>, ws: &[f64]) -> f64 {
    (x * &p.w).sum() * ws[0]
}

fn main() {}
