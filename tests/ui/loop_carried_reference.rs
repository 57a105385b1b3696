use autodiff::prelude::*;

#[differentiate]
fn f(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let mut larger = a;
    for _ in 0..2 {
        if b.sum() > larger.sum() {
            larger = b;
        }
    }
    larger.sum()
}

fn main() {}
