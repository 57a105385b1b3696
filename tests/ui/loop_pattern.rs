use autodiff::prelude::*;

#[differentiate(wrt(x))]
fn f(x: f64, pairs: &[[f64; 2]]) -> f64 {
    let mut y = x;
    for [a, b] in pairs.iter() {
        y = y * a + b;
    }
    y
}

fn main() {}
