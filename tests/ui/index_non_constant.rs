use autodiff::prelude::*;

#[differentiate]
fn f(v: &DVector<f64>, y: f64) -> f64 {
    v[if y > 0.0 { 0 } else { 1 }] * y
}

fn main() {}
