// The body of `f` is rejected, but its signature is valid: the function and every generated
// item exist, so that its callers type-check and the only error is the macro's. The callers
// are in other modules: rustc itself hides unresolved names in the module of a
// `compile_error!`, not in the modules that use its items.
mod model {
    use autodiff::prelude::*;

    #[differentiate]
    pub fn f(x: f64, w: &DMatrix<f64>) -> f64 {
        let s = w.sum();
        match x > s {
            true => x * s,
            false => x,
        }
    }
}

mod layers {
    use super::model::*;
    use autodiff::prelude::*;

    // Calls `f` the way one differentiated function calls another: through what the macro
    // generated for `f`.
    #[differentiate]
    pub fn g(x: f64, w: &DMatrix<f64>) -> f64 {
        f(x, w) * x
    }
}

use autodiff::prelude::*;
use model::*;

fn main() {
    let w = DMatrix::from_element(2, 2, 0.5);
    let _ = f(1.0, &w);
    let (_, grad): (f64, FGrad) = f_grad(1.0, &w);
    let _: f64 = grad.x;
    let _: DMatrix<f64> = grad.w;
    let _ = f_vjp(1.0, &w, 1.0);
    let (_, tape) = f_fwd(1.0, &w);
    let _: FGrad = f_bwd(tape, 1.0);
    let _ = layers::g_grad(1.0, &w);
}
