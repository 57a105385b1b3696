use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Model {
    w: f64,
}

#[differentiate]
impl Model {
    #[differentiate]
    fn loss(&self, self_: f64) -> f64 {
        self.w * self_
    }

    #[differentiate]
    fn local(&self, x: f64) -> f64 {
        let self_ = x * 2.0;
        self.w * self_
    }
}

fn main() {}
