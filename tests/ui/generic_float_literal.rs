use autodiff::prelude::*;

#[differentiate]
fn f<T: RealField + Copy>(x: T) -> T {
    x * 2.0
}

fn main() {}

#[differentiate]
fn g<T: RealField + Copy>(x: T, m: &DMatrix<T>) -> T {
    let y = x - 1.5;
    m.map(|v| v * 3).sum() * y
}
