// A method whose body is rejected: its error alone, not one more at each caller of the
// method, of its generated functions or of its gradient struct.
use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Model {
    w: f64,
}

#[differentiate]
impl Model {
    #[differentiate]
    fn score(&self, x: f64) -> f64 {
        match x {
            _ => self.w * x,
        }
    }

    #[differentiate]
    fn loss(&self, x: f64) -> f64 {
        self.score(x) * x
    }
}

fn main() {
    let m = Model { w: 1.0 };
    let (_, g): (f64, ModelScoreGrad) = m.score_grad(2.0);
    let _: Model = g.self_;
    let _ = Model::loss_grad(&m, 2.0);
}
