// Known limitation: a proc macro cannot see that it is inside an `impl`. An associated
// function without `self` whose `impl` block lacks `#[differentiate]` gets rustc's errors
// about the generated items ("struct is not supported in `trait`s or `impl`s"), not a
// message of the macro. The fix: `#[differentiate]` on the `impl` block too.
use autodiff::prelude::*;

struct Model;

impl Model {
    #[differentiate]
    fn loss(w: f64) -> f64 {
        w * w
    }
}

fn main() {}
