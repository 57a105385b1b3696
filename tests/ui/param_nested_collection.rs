use autodiff::prelude::*;

// A slice of `Vec`s cannot be differentiated: the macro says so at the parameter, instead of
// a trait error from the generated code.
#[differentiate]
fn f(ws: &[Vec<f64>], x: &DMatrix<f64>) -> f64 {
    x.sum() * ws[0][0]
}

fn main() {}
