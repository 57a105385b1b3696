use autodiff::prelude::*;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    for _ in 0..10 {
        if y > 4.0 {
            break;
            y = y * 0.5;
        }
        y = y * 2.0;
    }
    y
}

fn main() {}
