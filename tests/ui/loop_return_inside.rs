use autodiff::prelude::*;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    for _ in 0..10 {
        y = y * 2.0;
        if y > 4.0 {
            return y;
        }
    }
    y
}

fn main() {}
