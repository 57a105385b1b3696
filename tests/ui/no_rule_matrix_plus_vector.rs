use autodiff::prelude::*;

#[differentiate]
fn f(m: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    let s = m + v;
    s.sum()
}

fn main() {}
