use autodiff::prelude::*;

#[differentiate]
fn f(x: f64, n: usize) -> f64 {
    let mut y = x;
    'grow: while y < 10.0 {
        y *= 2.0;
    }
    let z = match n {
        0 => y,
        _ => -y,
    };
    let w = x.floor();
    println!("{z}");
    z as f64 + w
}

fn main() {}
