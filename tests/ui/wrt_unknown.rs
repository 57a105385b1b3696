use autodiff::prelude::*;

#[differentiate(wrt(w, bias))]
fn f(x: f64, w: f64, b: f64) -> f64 {
    x * w + b
}

fn main() {}
