use autodiff::prelude::*;

#[differentiate]
fn f<T: autodiff::nalgebra::RealField + Copy>(x: T) -> T {
    x * x
}

fn main() {}
