use autodiff::prelude::*;

// Each value of a picture is one node: a loop's values are many.
#[differentiate(graph)]
fn power(x: f64) -> f64 {
    let mut y = 1.0;
    for _ in 0..3 {
        y = y * x;
    }
    if y > 10.0 {
        y = y / 2.0;
    }
    y
}

fn main() {
    // The generated items exist: a caller sees the error above alone.
    let _ = power_graph(2.0);
}
