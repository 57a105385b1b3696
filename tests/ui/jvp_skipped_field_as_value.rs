use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
struct Model {
    w: DMatrix<f64>,
    #[parameters(skip)]
    rate: f64,
}

// A skipped field is read as a value: write it `(p.rate as f64)`, a constant.
#[differentiate(jvp)]
fn loss(p: &Model) -> f64 {
    p.w.sum() * p.rate
}

fn main() {}
