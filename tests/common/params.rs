//! Random `Parameters` values and the dot-product test of a vector-Jacobian product, for the
//! tests of structured parameters and methods.

use autodiff::prelude::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A value in ±[0.2, 1.5]: away from 0, where relu and abs have kinks.
pub fn value(rng: &mut ChaCha8Rng) -> f64 {
    let magnitude = rng.random_range(0.2..1.5);
    if rng.random_bool(0.5) {
        magnitude
    } else {
        -magnitude
    }
}

/// `p` with every scalar drawn afresh.
pub fn random<P: Parameters<Scalar = f64>>(p: &P, rng: &mut ChaCha8Rng) -> P {
    let mut out = p.clone();
    out.for_each_leaf_mut(&mut |leaf| leaf.iter_mut().for_each(|v| *v = value(rng)));
    out
}

/// `Σ aᵢbᵢ` over every scalar of two values of one structure.
pub fn dot<P: Parameters<Scalar = f64>>(a: &P, b: &P) -> f64 {
    let mut sum = 0.0;
    let mut b = b.clone();
    b.zip_leaves_mut(a, &mut |b, a| {
        sum += b.iter().zip(a).map(|(x, y)| x * y).sum::<f64>()
    });
    sum
}

/// The dot-product test of a vector-Jacobian product `jt_u` (for the seed `u`) of `f` at `p`:
/// ⟨u, J v⟩ by central differences along a random `v`, against ⟨Jᵀu, v⟩.
pub fn dot_product_test<P: Parameters<Scalar = f64>>(
    p: &P,
    u: &DMatrix<f64>,
    jt_u: &P,
    f: impl Fn(&P) -> DMatrix<f64>,
    rng: &mut ChaCha8Rng,
) {
    let v = random(p, rng);
    let t = 1e-5;
    let (mut up, mut down) = (p.clone(), p.clone());
    up.add_scaled(t, &v);
    down.add_scaled(-t, &v);
    let forward = (f(&up) - f(&down)).dot(u) / (2.0 * t);
    let adjoint = dot(jt_u, &v);
    let error = (forward - adjoint).abs() / forward.abs().max(adjoint.abs());
    assert!(error < 1e-7, "⟨u, Jv⟩ = {forward}, ⟨Jᵀu, v⟩ = {adjoint}");
}
