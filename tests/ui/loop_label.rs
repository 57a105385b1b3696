use autodiff::prelude::*;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    'rows: for i in 0..3 {
        for j in 0..3 {
            y = y * x;
            if i + j > 3 {
                break 'rows;
            }
        }
    }
    y
}

fn main() {}
