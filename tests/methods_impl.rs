//! Methods: `#[differentiate]` on an `impl` block and on its methods.

use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Model {
    w: DMatrix<f64>,
    b: RowDVector<f64>,
    scale: f64,
}

#[differentiate]
impl Model {
    #[differentiate(wrt(self))]
    pub fn scores(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        add_bias(x * &self.w, &self.b)
    }

    #[differentiate(wrt(self))]
    pub fn loss(&self, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
        let s = self.scores(x);
        softmax_cross_entropy(s, labels) + self.scale * Self::penalty(&self.w)
    }

    #[differentiate]
    fn penalty(w: &DMatrix<f64>) -> f64 {
        w.norm_squared()
    }
}

#[test]
fn compiles() {
    let m = Model { w: DMatrix::from_element(2, 3, 0.1), b: RowDVector::zeros(3), scale: 0.5 };
    let x = DMatrix::from_element(4, 2, 1.0);
    let (v, g) = m.loss_grad(&x, &[0, 1, 2, 0]);
    let _: ModelLossGrad = g.clone();
    println!("{v} {:?}", g.self_);
}
