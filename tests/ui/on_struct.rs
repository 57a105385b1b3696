use autodiff::prelude::*;

#[differentiate]
struct Weights {
    w: f64,
}

fn main() {}
