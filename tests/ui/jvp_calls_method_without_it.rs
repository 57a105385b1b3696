use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
struct Model {
    w: DMatrix<f64>,
}

#[differentiate]
impl Model {
    #[differentiate]
    fn scores(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        x * &self.w
    }

    #[differentiate(jvp)]
    fn squash(x: f64) -> f64 {
        x.tanh()
    }

    // `scores` has no forward mode; `squash` has.
    #[differentiate(wrt(self), jvp)]
    fn loss(&self, x: &DMatrix<f64>) -> f64 {
        Self::squash(self.scores(x).norm_squared())
    }
}

fn main() {}
