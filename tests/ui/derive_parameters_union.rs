use autodiff::prelude::*;

#[derive(Parameters, Clone, Copy)]
union Bits {
    a: f64,
    b: f32,
}

fn main() {}
