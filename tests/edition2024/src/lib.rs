//! A crate of edition 2024 with `#![deny(missing_docs)]` that uses `#[differentiate]` (on
//! free functions and on the methods of an `impl` block): it
//! compiles only if every generated item is documented and the generated code is valid in
//! this edition.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use autodiff::prelude::*;

/// A dense layer with a tanh activation.
#[differentiate]
pub fn layer(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
    tanh(add_bias(x * w, b))
}

/// A loss over the layer, through a call, with a branch and a `map` closure.
#[differentiate(wrt(w, b))]
pub fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>, labels: &[usize]) -> f64 {
    let h = layer(x, w, b);
    let mut scale = 1.0;
    if labels.len() > 2 {
        scale = 0.5;
    }
    softmax_cross_entropy(&h, labels) + h.map(|v| v * v * scale).sum()
}

/// Weights with a differentiated method.
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Model {
    w: DMatrix<f64>,
    b: RowDVector<f64>,
}

#[differentiate]
impl Model {
    /// The loss of the layer with these weights, through a method and a free function.
    #[differentiate(wrt(self))]
    pub fn loss(&self, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
        softmax_cross_entropy(&self.scores(x), labels)
    }

    /// The layer's output.
    #[differentiate]
    pub fn scores(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        layer(x, &self.w, &self.b)
    }
}

/// An energy generic over its scalar: its generated items are generic and documented too.
#[differentiate]
pub fn energy<T: RealField + Copy>(x: &DMatrix<T>, s: T) -> T {
    let half: T = autodiff::nalgebra::convert(0.5);
    half * x.map(|v| v * s).norm_squared()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `½ s² Σ x²`: the gradient is `s² x` and `s Σ x²`, at both scalar types.
    #[test]
    fn generic_gradients_in_edition_2024() {
        let x = DMatrix::from_fn(2, 2, |i, j| (i + 2 * j) as f64 * 0.5 - 0.5);
        let (value, grad) = energy_grad(&x, 1.5);
        assert!((value - 0.5 * 2.25 * x.norm_squared()).abs() < 1e-12);
        assert!((grad.x - &x * 2.25).norm() < 1e-12);
        assert!((grad.s - 1.5 * x.norm_squared()).abs() < 1e-12);
        let (_, grad32) = energy_grad(&x.map(|v| v as f32), 1.5_f32);
        assert!((grad32.s - 1.5 * x.norm_squared() as f32).abs() < 1e-5);
    }

    #[test]
    fn methods_in_edition_2024() {
        let x = DMatrix::from_fn(3, 2, |i, j| (i + 2 * j) as f64 * 0.1);
        let w = DMatrix::from_fn(2, 3, |i, j| (i as f64 - j as f64) * 0.2);
        let b = RowDVector::from_element(3, 0.1);
        let model = Model {
            w: w.clone(),
            b: b.clone(),
        };
        let (value, grad) = model.loss_grad(&x, &[0, 2, 1]);
        assert_eq!(value, softmax_cross_entropy(&layer(&x, &w, &b), &[0, 2, 1]));
        let h = 1e-6;
        let mut up = model.clone();
        up.w[(1, 2)] += h;
        let mut down = model.clone();
        down.w[(1, 2)] -= h;
        let numeric = (up.loss(&x, &[0, 2, 1]) - down.loss(&x, &[0, 2, 1])) / (2.0 * h);
        assert!((grad.self_.w[(1, 2)] - numeric).abs() <= 1e-6 * numeric.abs().max(1.0));
    }

    #[test]
    fn gradients_in_edition_2024() {
        let x = DMatrix::from_fn(3, 2, |i, j| (i + 2 * j) as f64 * 0.1);
        let w = DMatrix::from_fn(2, 3, |i, j| (i as f64 - j as f64) * 0.2);
        let b = RowDVector::from_element(3, 0.1);
        let (value, grad) = loss_grad(&x, &w, &b, &[0, 2, 1]);
        assert!(value.is_finite());
        let h = 1e-6;
        let mut w_up = w.clone();
        w_up[(1, 2)] += h;
        let mut w_down = w.clone();
        w_down[(1, 2)] -= h;
        let numeric =
            (loss(&x, &w_up, &b, &[0, 2, 1]) - loss(&x, &w_down, &b, &[0, 2, 1])) / (2.0 * h);
        assert!((grad.w[(1, 2)] - numeric).abs() <= 1e-6 * numeric.abs().max(1.0));
    }
}
