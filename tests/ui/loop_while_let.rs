use autodiff::prelude::*;

#[differentiate(wrt(x))]
fn f(x: f64, steps: &[f64]) -> f64 {
    let mut y = x;
    let mut rest = steps;
    while let Some((first, tail)) = rest.split_first() {
        y = y * first;
        rest = tail;
    }
    y
}

fn main() {}
