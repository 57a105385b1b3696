use autodiff::prelude::*;

#[differentiate]
fn f(v: &DVector<f64>) -> f64 {
    let head = &v[1..3];
    head.sum()
}

fn main() {}
