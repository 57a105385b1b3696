use autodiff::prelude::*;

#[derive(Parameters, Clone)]
struct Weights(DMatrix<f64>, RowDVector<f64>);

fn main() {}
