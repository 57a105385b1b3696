use autodiff::prelude::*;

#[differentiate]
fn f(x: &DVector<f64>, m: &DMatrix<f64>) -> f64 {
    let mut a = m.clone();
    a[(0, 0)] += x[0];
    a.sum()
}

fn main() {}
