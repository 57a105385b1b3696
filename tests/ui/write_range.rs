use autodiff::prelude::*;

#[differentiate]
fn f(x: &DVector<f64>) -> f64 {
    let mut y = DVector::zeros(4);
    y[1..3] = x[0];
    y.sum()
}

fn main() {}
