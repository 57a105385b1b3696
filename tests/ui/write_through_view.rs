use autodiff::prelude::*;

#[differentiate]
fn f(x: &DVector<f64>) -> f64 {
    let mut y = DMatrix::zeros(2, x.len());
    y.row_mut(0).copy_from(&x.transpose());
    y.column_mut(1)[0] += x[0];
    *y.get_mut(0).unwrap() = x[1];
    y.sum()
}

fn main() {}
