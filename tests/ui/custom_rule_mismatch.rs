use autodiff::prelude::*;

// The rule must take the function's parameters (same types, same order), the value and the
// seed: this one takes the matrix by value.
#[differentiate(vjp = norm_rule)]
fn norm(m: &DMatrix<f64>) -> f64 {
    m.norm()
}

fn norm_rule(m: DMatrix<f64>, value: &f64, seed: f64) -> NormGrad {
    NormGrad { m: m * (seed / *value) }
}

fn main() {}
