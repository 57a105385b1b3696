use autodiff::prelude::*;

struct Model {
    scale: f64,
}

impl Model {
    #[differentiate]
    fn loss(&self, w: f64) -> f64 {
        w * w * self.scale
    }
}

fn main() {}
