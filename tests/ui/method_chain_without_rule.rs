use autodiff::prelude::*;

// Reported at `qr`, the method without a rule, not at the `r` after it.
#[differentiate]
fn f(m: &DMatrix<f64>) -> f64 {
    m.clone().qr().r().sum()
}

fn main() {}
