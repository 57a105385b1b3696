use autodiff::prelude::*;

// Reported at `try_inverse`, the method without a rule, not at the `unwrap` after it.
#[differentiate]
fn f(m: &DMatrix<f64>) -> f64 {
    m.clone().try_inverse().unwrap().sum()
}

fn main() {}
