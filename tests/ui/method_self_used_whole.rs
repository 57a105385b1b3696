use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Model {
    w: f64,
}

fn weight(m: &Model) -> f64 {
    m.w
}

#[differentiate]
impl Model {
    #[differentiate]
    fn loss(&self, x: f64) -> f64 {
        weight(self) * x
    }
}

fn main() {}
