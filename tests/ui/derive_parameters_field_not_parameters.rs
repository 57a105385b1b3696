use autodiff::prelude::*;

#[derive(Parameters, Clone)]
struct Layer {
    w: DMatrix<f64>,
    labels: Vec<usize>,
}

fn main() {}
