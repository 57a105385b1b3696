use autodiff::prelude::*;

#[differentiate]
fn f(x: f64) -> f32 {
    let y = x * 2.0;
    y as f32
}

fn main() {}
