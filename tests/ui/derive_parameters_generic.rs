use autodiff::prelude::*;

#[derive(Parameters, Clone)]
struct Layer<T: RealField, U> {
    w: DMatrix<T>,
    b: U,
}

#[derive(Parameters, Clone)]
struct Fixed<T: RealField, const N: usize> {
    w: SMatrix<T, N, N>,
}

fn main() {}
