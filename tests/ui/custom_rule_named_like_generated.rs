use autodiff::prelude::*;

// `softplus_vjp` is generated next to `softplus`: the rule needs a name of its own.
#[differentiate(vjp = softplus_vjp)]
fn softplus(x: f64) -> f64 {
    x.exp().ln_1p()
}

fn main() {}
