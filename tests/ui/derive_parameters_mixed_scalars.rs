use autodiff::prelude::*;

#[derive(Parameters, Clone)]
struct Layer {
    w: DMatrix<f64>,
    b: RowDVector<f32>,
}

fn main() {}
