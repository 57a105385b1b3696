use autodiff::prelude::*;

#[differentiate]
fn f<T: RealField + Copy>(x: T) -> T {
    x * 2.0
}

fn main() {}
