use autodiff::prelude::*;

#[differentiate]
fn f(x: f64, n: usize) -> f64 {
    match n {
        0 => x,
        _ => x * 2.0,
    }
}

fn main() {}
