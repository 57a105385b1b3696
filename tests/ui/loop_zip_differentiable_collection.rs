use autodiff::prelude::*;

// A loop over a differentiable slice alone is accepted; zipped with another, it is not.
#[differentiate(wrt(ws))]
fn f(ws: &[DMatrix<f64>], xs: &[DMatrix<f64>]) -> f64 {
    let mut total = 0.0;
    for (w, x) in ws.iter().zip(xs.iter()) {
        total += (x * w).sum();
    }
    total
}

fn main() {}
