use autodiff::prelude::*;

#[differentiate]
fn f(x: &DVector<f64>) -> f64 {
    let mut y = DVector::zeros(2);
    y[if x[0] > 0.0 { 0 } else { 1 }] = x[1];
    y.sum()
}

fn main() {}
