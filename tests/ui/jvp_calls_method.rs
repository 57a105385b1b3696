use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
struct Model {
    w: DMatrix<f64>,
}

#[differentiate]
impl Model {
    #[differentiate(jvp)]
    fn scores(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        x * &self.w
    }

    // Forward mode calls free functions with it, not other methods yet.
    #[differentiate(wrt(self), jvp)]
    fn loss(&self, x: &DMatrix<f64>) -> f64 {
        self.scores(x).norm_squared()
    }
}

fn main() {}
