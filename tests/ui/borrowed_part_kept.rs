use autodiff::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub w: DMatrix<f64>,
}

// Constants are fine, but the reverse sweep cannot keep a borrow of part of one.
#[differentiate(wrt(x))]
fn part_of_a_struct(p: Params, x: &DMatrix<f64>) -> f64 {
    (x * &p.w).sum()
}

#[differentiate]
fn part_of_a_slice(labels: &[usize], scores: &DMatrix<f64>) -> f64 {
    softmax_cross_entropy(scores, &labels[..2])
}

// What the message suggests compiles.
#[differentiate]
fn copied_part(labels: &[usize], scores: &DMatrix<f64>) -> f64 {
    let part = labels[..2].to_vec();
    softmax_cross_entropy(scores, &part)
}

fn main() {}
