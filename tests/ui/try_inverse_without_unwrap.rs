use autodiff::prelude::*;

// `try_inverse` has a rule only as the chain `try_inverse().unwrap()` (or `.expect(..)`): its
// `Option` is not a value with a derivative.
#[differentiate]
fn f(m: &DMatrix<f64>) -> f64 {
    let inverse = m.clone().try_inverse();
    inverse.unwrap().sum()
}

fn main() {}
