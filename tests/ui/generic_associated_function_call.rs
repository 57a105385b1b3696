use autodiff::prelude::*;

#[differentiate]
fn f<T: RealField + Copy>(x: T) -> T {
    T::exp(x) + x
}

fn main() {}
