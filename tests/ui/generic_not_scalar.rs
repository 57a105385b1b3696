use autodiff::prelude::*;

#[differentiate]
fn f<M: Clone>(x: f64, m: M) -> f64 {
    let _ = m;
    x * x
}

fn main() {}
