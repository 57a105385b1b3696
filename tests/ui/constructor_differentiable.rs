use autodiff::prelude::*;

#[differentiate]
fn f(s: f64) -> f64 {
    let y = DVector::from_column_slice(&[s, 2.0 * s]);
    let z: DVector<f64> = DVector::zeros(if s > 0.0 { 2 } else { 3 });
    y.sum() + z.sum()
}

fn main() {}
