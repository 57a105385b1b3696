use autodiff::prelude::*;

#[differentiate]
fn f(x: f64) -> f64 {
    x.floor() + x
}

fn main() {}
