use autodiff::prelude::*;

// A slice of weight matrices cannot be differentiated yet: the macro says so at the
// parameter, instead of a lifetime error from the generated code.
#[differentiate]
fn f(ws: &[DMatrix<f64>], x: &DMatrix<f64>) -> f64 {
    (x * &ws[0]).sum()
}

fn main() {}
