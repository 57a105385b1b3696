use autodiff::prelude::*;

#[differentiate]
fn f(x: f64) -> f64 {
    if x > 1.0 {
        return x;
    }
    x * x
}

fn main() {}
