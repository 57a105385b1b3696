use autodiff::prelude::*;

#[derive(Parameters, Clone)]
struct Layer {
    w: DMatrix<f64>,
    #[parameters(constant)]
    labels: Vec<usize>,
}

fn main() {}
