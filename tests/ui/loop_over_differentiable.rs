use autodiff::prelude::*;

#[differentiate]
fn f(w: &DVector<f64>) -> f64 {
    let mut total = 0.0;
    for v in w.iter() {
        total += v * v;
    }
    total
}

fn main() {}
