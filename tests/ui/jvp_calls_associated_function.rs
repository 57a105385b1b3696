use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
struct Model {
    w: DMatrix<f64>,
}

#[differentiate]
impl Model {
    #[differentiate(jvp)]
    fn squash(x: f64) -> f64 {
        x.tanh()
    }

    // Forward mode calls free functions with it, not associated functions yet.
    #[differentiate(wrt(self), jvp)]
    fn loss(&self) -> f64 {
        Self::squash(self.w.sum())
    }
}

fn main() {}
