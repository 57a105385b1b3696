// A differentiated free function cannot share its name with a module or a type of the same
// module: its hidden items include a struct of its name (how `use m::f;` brings along what
// callers need). rustc reports the name at the function. A method has no such limit.
use autodiff::prelude::*;

mod loss {}

#[differentiate]
fn loss(x: f64) -> f64 {
    x * x
}

fn main() {}
