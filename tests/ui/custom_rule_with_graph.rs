use autodiff::prelude::*;

// A picture draws the operations of a body the macro reads; with a rule it reads none.
#[differentiate(graph, vjp = softplus_rule)]
fn softplus(x: f64) -> f64 {
    x.exp().ln_1p()
}

fn softplus_rule(x: f64, _value: &f64, seed: f64) -> SoftplusGrad {
    SoftplusGrad { x: seed / (1.0 + (-x).exp()) }
}

fn main() {}
