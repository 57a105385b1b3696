use autodiff::prelude::*;

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Inner {
    pub w: DMatrix<f64>,
}

#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Outer {
    pub inner: Inner,
}

#[differentiate]
fn f(p: &Outer, x: &DMatrix<f64>) -> f64 {
    let inner = p.inner.clone();
    (x * &p.inner.w).sum() + inner.w.sum()
}

fn main() {}
