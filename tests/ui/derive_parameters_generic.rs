use autodiff::prelude::*;

#[derive(Parameters, Clone)]
struct Layer<T> {
    w: DMatrix<T>,
}

fn main() {}
