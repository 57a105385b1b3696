use autodiff::prelude::*;

fn cube(x: f64) -> f64 {
    x * x * x
}

#[differentiate]
fn f(x: f64) -> f64 {
    cube(x) + 1.0
}

fn main() {}
