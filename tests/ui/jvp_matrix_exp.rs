use autodiff::prelude::*;

// On a matrix, `exp` is the matrix exponential: forward mode has no tangent for it.
#[differentiate(jvp)]
fn trace_of_exp(a: &DMatrix<f64>) -> f64 {
    a.exp().trace()
}

fn main() {}
