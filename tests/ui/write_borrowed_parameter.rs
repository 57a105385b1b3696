use autodiff::prelude::*;

#[differentiate]
fn f(x: &DVector<f64>, s: f64) -> f64 {
    x[0] = s * 2.0;
    x.sum()
}

fn main() {}
