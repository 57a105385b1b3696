use autodiff::prelude::*;

struct Model<T> {
    w: DMatrix<T>,
}

#[differentiate]
fn f<T: RealField + Copy>(p: &Model<T>) -> T {
    p.w.norm_squared()
}

fn main() {}
