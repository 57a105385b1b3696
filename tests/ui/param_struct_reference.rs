use autodiff::prelude::*;

// Not `#[derive(Parameters)]`: the macro takes `&Params` to be a struct of parameters, and
// rustc says what is missing.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub w: DMatrix<f64>,
}

#[differentiate]
fn f(p: &Params, x: &DMatrix<f64>) -> f64 {
    (x * &p.w).sum()
}

fn main() {}
