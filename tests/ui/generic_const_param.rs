use autodiff::prelude::*;

#[differentiate]
fn f<T: RealField + Copy, const N: usize>(m: &SMatrix<T, N, N>) -> T {
    m.norm_squared()
}

fn main() {}
