use autodiff::prelude::*;

struct Weights(f64);

impl Weights {
    #[differentiate]
    fn loss(self: Box<Self>, x: f64) -> f64 {
        x * x
    }
}

fn main() {}
