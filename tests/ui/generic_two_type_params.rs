use autodiff::prelude::*;

#[differentiate]
fn f<T: RealField + Copy, U: Copy>(x: T, u: U) -> T {
    let _ = u;
    x * x
}

fn main() {}
