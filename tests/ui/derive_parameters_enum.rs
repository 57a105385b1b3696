use autodiff::prelude::*;

#[derive(Parameters, Clone)]
enum Layer {
    Dense { w: DMatrix<f64> },
    Identity,
}

fn main() {}
