use autodiff::prelude::*;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    loop {
        y = y * 2.0;
        if y > 10.0 {
            break;
        }
    }
    y
}

fn main() {
    // The function itself is still emitted: its callers compile, and the only error is the
    // macro's. (Its gradient is not generated, so `f_grad` would not resolve.)
    let _ = f(1.0);
}
