use autodiff::prelude::*;

#[differentiate]
fn f(k: DMatrix<f64>, y: DVector<f64>) -> f64 {
    let mut c = k.clone().cholesky().unwrap();
    let a = c.solve(&y).sum();
    c = (k * 2.0).cholesky().unwrap();
    a + c.solve(&y).sum()
}

fn main() {}
