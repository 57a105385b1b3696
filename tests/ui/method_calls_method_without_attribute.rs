use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Model {
    w: f64,
}

#[differentiate]
impl Model {
    fn scaled(&self, x: f64) -> f64 {
        self.w * x
    }

    #[differentiate]
    fn loss(&self, x: f64) -> f64 {
        self.scaled(x) * x
    }
}

fn main() {}
