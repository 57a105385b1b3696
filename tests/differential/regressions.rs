//! Minimal reductions of the macro bugs the generated functions and the fuzzer found, each
//! checked like a generated function. (Bugs that became compile errors, such as an early
//! `return` inside a branch, are UI tests: `tests/ui/return_not_last.rs`.)
#![allow(redundant_semicolons, clippy::needless_return)]

use crate::check_gradient as check;
use crate::common::check::{flat, Draw};
use autodiff::prelude::*;

/// A constant borrowed from a temporary (`&softmax(k)` with `k` left out of `wrt`) was
/// bound as `let c = &softmax(k);`, and the reverse sweep, a `move` closure, captured that
/// reference to a temporary of the forward sweep: E0716, "temporary value dropped while
/// borrowed". Now the value is bound and the binding borrowed.
#[differentiate(wrt(w))]
fn borrowed_temporary(k: &DMatrix<f64>, w: f64) -> f64 {
    (k * w).dot(&softmax(k))
}

#[test]
fn borrowed_temporary_gradient() {
    let mut d = Draw::new(1);
    let k = DMatrix::from_fn(2, 3, |i, j| 0.3 * i as f64 - 0.2 * j as f64 + 0.1);
    let w = d.scalar();
    let (_, g) = borrowed_temporary_grad(&k, w);
    check("borrowed_temporary", &d.theta, &[g.w], |r| {
        borrowed_temporary(&k, r.scalar())
    });
}

/// A stray `;` (an empty statement, which syn keeps as an empty expression) was lowered to
/// `let __ad_c1 = ;`, and made a final `return …;` look like it was not the last statement.
#[differentiate]
fn stray_semicolon(x: f64, m: &DMatrix<f64>) -> f64 {
    let y = x * m.sum();
    return y * x;
}

#[test]
fn stray_semicolon_gradient() {
    let mut d = Draw::new(2);
    let x = d.scalar();
    let m = d.matrix(2, 2);
    let (_, g) = stray_semicolon_grad(x, &m);
    check(
        "stray_semicolon",
        &d.theta,
        &flat(&[&[g.x], g.m.as_slice()]),
        |r| stray_semicolon(r.scalar(), &r.matrix(2, 2)),
    );
}

/// A `map` closure ending in `return`: it returns from the closure, which is the closure's
/// value (an early `return` anywhere else in a block or branch is rejected).
#[differentiate]
fn closure_return(m: &DMatrix<f64>, w: f64) -> f64 {
    let h = m.map(|v| {
        let t = v * w;
        return t.tanh();
    });
    h.sum()
}

#[test]
fn closure_return_gradient() {
    let mut d = Draw::new(3);
    let m = d.matrix(2, 3);
    let w = d.scalar();
    let (_, g) = closure_return_grad(&m, w);
    check(
        "closure_return",
        &d.theta,
        &flat(&[g.m.as_slice(), &[g.w]]),
        |r| closure_return(&r.matrix(2, 3), r.scalar()),
    );
}

/// Raw identifiers (found by the fuzzer): `r#relu(…)` made the macro panic building the
/// name `__ad_r#relu1`, and a parameter declared `r#x` but used as `x` was not found, so its
/// gradient was silently zero. `r#x` and `x` are one variable, `r#relu` is `relu`.
#[differentiate]
fn raw_identifiers(r#x: f64, m: &DMatrix<f64>) -> f64 {
    x * m.sum() + r#relu(x) + m.r#norm()
}

#[test]
fn raw_identifiers_gradient() {
    let mut d = Draw::new(4);
    let x = d.scalar();
    let m = d.matrix(2, 2);
    let (_, g) = raw_identifiers_grad(x, &m);
    check(
        "raw_identifiers",
        &d.theta,
        &flat(&[&[g.x], g.m.as_slice()]),
        |r| raw_identifiers(r.scalar(), &r.matrix(2, 2)),
    );
}

/// `return` ends the function only as its last statement, or as the last statement of a
/// branch of the `if` that ends it; an early `return` elsewhere is rejected (it used to be
/// taken for the branch's value, and the rest of the function was differentiated as if it
/// ran: `tests/ui/return_not_last.rs`).
#[differentiate]
fn tail_returns(x: f64, y: f64) -> f64 {
    let s = x * y;
    if s > 0.0 {
        return s.sqrt() * x;
    } else if x > y {
        let t = x - y;
        return t * s;
    } else {
        -s
    }
}

#[test]
fn tail_returns_gradient() {
    for seed in 0..6 {
        let mut d = Draw::new(10 + seed);
        let (x, y) = (d.scalar(), d.scalar());
        let (_, g) = tail_returns_grad(x, y);
        check("tail_returns", &d.theta, &[g.x, g.y], |r| {
            tail_returns(r.scalar(), r.scalar())
        });
    }
}

/// A constant matrix compound-assigned with a right side that reads it (`h += &h * 0.2`, `h
/// *= 0.3 - h.nrows() as f64`): the expansion moves `h` and then borrows it (E0382), inside a
/// loop or not. The generated loop functions write such updates `h = &h * k + …` instead.
#[test]
#[ignore = "macro bug: E0382 in the expansion of a constant matrix compound-assigned with a right side that reads it"]
fn constant_compound_reading_itself() {
    trybuild::TestCases::new()
        .pass("tests/differential/regressions/constant_compound_reading_itself.rs");
}

/// A matrix carried by a loop, assigned in the body and then read again in the same iteration
/// (`m = &m * x; let z = &m + v;`): the expansion moves the new value into the record of the
/// later operation although it is also the value the next iteration starts from (E0382).
#[test]
#[ignore = "macro bug: E0382 in the expansion of a carried matrix read after its assignment in the same iteration"]
fn carried_matrix_read_after_assignment() {
    trybuild::TestCases::new()
        .pass("tests/differential/regressions/carried_matrix_read_after_assignment.rs");
}
