use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
struct Linear {
    w: DMatrix<f64>,
}

// Forward mode takes scalar and matrix parameters for now.
#[differentiate(hvp)]
fn loss(p: &Linear, x: &DMatrix<f64>) -> f64 {
    (x * &p.w).norm_squared()
}

fn main() {}
