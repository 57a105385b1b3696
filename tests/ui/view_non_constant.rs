use autodiff::prelude::*;

#[differentiate]
fn f(m: &DMatrix<f64>, y: f64) -> f64 {
    m.row(y as usize).sum()
}

fn main() {}
