use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Model {
    w: f64,
}

#[differentiate]
impl Model {
    #[differentiate]
    fn loss(&mut self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {}
