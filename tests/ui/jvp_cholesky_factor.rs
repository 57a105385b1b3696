use autodiff::prelude::*;

// The Cholesky factor has no tangent rule yet: a spanned error, not a wrong tangent.
#[differentiate(jvp)]
fn logdet(a: &DMatrix<f64>) -> f64 {
    let l = a.clone().cholesky().unwrap().l();
    l.trace()
}

fn main() {}
