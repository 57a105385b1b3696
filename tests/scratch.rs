use autodiff::prelude::*;

#[differentiate]
pub fn f(x: f64, y: f64, z: f64) -> f64 {
    let q = x + y;
    q * z
}

#[test]
fn lecture() {
    let (value, grad) = f_grad(-2.0, 5.0, -4.0);
    assert_eq!(value, -12.0);
    assert_eq!((grad.x, grad.y, grad.z), (-4.0, -4.0, 3.0));
}
