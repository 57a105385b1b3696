use autodiff::prelude::*;

#[differentiate]
fn f(m: &DMatrix<f64>) -> f64 {
    m.max() - m.min()
}

fn main() {}
