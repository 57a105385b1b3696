use autodiff::prelude::*;

#[differentiate(crate = "autodiff")]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
