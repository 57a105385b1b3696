use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Layer {
    pub w: DMatrix<f64>,
}

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Net {
    pub layers: Vec<Layer>,
}

#[differentiate]
fn f(p: &Net, x: &DMatrix<f64>) -> f64 {
    (x * &p.layers[0].w).sum()
}

fn main() {}
