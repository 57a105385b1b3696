use autodiff::prelude::*;

#[differentiate]
fn f(x: &DVector<f64>) -> f64 {
    let mut y = DVector::zeros(x.len());
    for i in 0..x.len() {
        y[i] = x[i] * x[i];
    }
    y.sum()
}

fn main() {}
