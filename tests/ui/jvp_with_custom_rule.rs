use autodiff::prelude::*;

fn square_rule(x: f64, value: &f64, seed: f64) -> SquareGrad {
    let _ = value;
    SquareGrad { x: 2.0 * x * seed }
}

// Forward mode derives the tangent from the body, which a custom rule keeps from the macro.
#[differentiate(vjp = square_rule, jvp)]
fn square(x: f64) -> f64 {
    x * x
}

fn main() {}
