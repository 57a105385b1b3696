use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Model {
    w: DMatrix<f64>,
}

#[differentiate]
impl Model {
    #[differentiate]
    pub fn score<T: RealField + Copy>(&self, x: T) -> T {
        x
    }
}

fn main() {}
