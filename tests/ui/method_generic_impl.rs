use autodiff::prelude::*;

pub struct Model<T> {
    w: T,
}

#[differentiate]
impl<T: Copy> Model<T> {
    #[differentiate]
    fn loss(&self, x: f64) -> f64 {
        x * x
    }
}

fn main() {}
