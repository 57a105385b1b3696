use autodiff::prelude::*;

#[derive(Parameters, Clone)]
struct Settings {
    #[parameters(skip)]
    name: String,
}

fn main() {}
