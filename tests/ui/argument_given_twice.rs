use autodiff::prelude::*;

#[differentiate(wrt(x), crate = ::autodiff, wrt(y))]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
