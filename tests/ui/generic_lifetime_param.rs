use autodiff::prelude::*;

#[differentiate]
fn f<'a, T: RealField + Copy>(m: &'a DMatrix<T>) -> T {
    m.norm_squared()
}

fn main() {}
