use autodiff::prelude::*;

#[differentiate]
fn f<T: RealField + Copy>(m: &DMatrix<T>) -> T {
    relu(m).sum()
}

fn main() {}
