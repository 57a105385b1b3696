// A matrix that does not depend on a differentiable parameter, compound-assigned with a right
// side that reads it. The function compiles; its expansion does not (E0382, "borrow of moved
// value"), with or without a loop.
use autodiff::prelude::*;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut h = DMatrix::<f64>::from_element(2, 2, 0.5);
    h += &h * 0.2;
    h.sum() * x
}

fn main() {
    let (value, g) = f_grad(0.5);
    assert_eq!(value, f(0.5));
    assert!((g.x - 2.4).abs() < 1e-12, "{}", g.x);
}
