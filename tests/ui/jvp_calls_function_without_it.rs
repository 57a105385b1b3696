use autodiff::prelude::*;

#[differentiate]
fn inner(w: &DMatrix<f64>) -> f64 {
    w.norm_squared()
}

// A function with forward mode calls only functions that have it too: `inner` has not.
#[differentiate(jvp)]
fn outer(w: &DMatrix<f64>) -> f64 {
    inner(w) * 2.0
}

fn main() {
    // The error above is the only one: `outer_jvp` exists for its callers.
    let w = DMatrix::<f64>::zeros(2, 2);
    let _ = outer_jvp(&w, OuterGrad { w: w.clone() });
}
