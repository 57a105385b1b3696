use autodiff::prelude::*;

#[differentiate]
fn f(x: impl RealField + Copy) -> f64 {
    let _ = x;
    1.0
}

fn main() {}
