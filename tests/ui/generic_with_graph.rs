use autodiff::prelude::*;

#[differentiate(graph)]
fn f<T: RealField + Copy>(x: T) -> T {
    x * x
}

fn main() {}
