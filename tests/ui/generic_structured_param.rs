use autodiff::prelude::*;

struct Model<T> {
    w: DMatrix<T>,
}

#[differentiate]
fn f<T: RealField + Copy>(p: &Model<T>) -> T {
    p.w.norm_squared()
}

fn main() {}

#[differentiate(wrt(p, s))]
fn g<T: RealField + Copy>(p: &Model<T>, s: T) -> T {
    p.w.norm_squared() * s
}
