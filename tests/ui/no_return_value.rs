use autodiff::prelude::*;

#[differentiate]
fn f(x: f64) {
    let _ = x * x;
}

fn main() {}
