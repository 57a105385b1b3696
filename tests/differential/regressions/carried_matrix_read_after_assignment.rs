// A matrix carried by a loop, assigned in the body and read again later in the same
// iteration. The function compiles; its expansion does not (E0382, "use of moved value
// `m__2`" at the assignment).
use autodiff::prelude::*;

#[differentiate(wrt(x))]
fn f(x: f64, v: &DMatrix<f64>) -> f64 {
    let mut m = v.clone();
    let mut s = 0.0;
    for _ in 0..2 {
        m = &m * x;
        let z = &m + v;
        s += z.sum();
    }
    m.sum() + s
}

fn main() {
    // With v all ones: f = 8x² + 4x + 8, f' = 16x + 4.
    let v = DMatrix::from_element(2, 2, 1.0);
    let (value, g) = f_grad(0.5, &v);
    assert_eq!(value, f(0.5, &v));
    assert!((g.x - 12.0).abs() < 1e-12, "{}", g.x);
}
