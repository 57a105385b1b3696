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

/// A constant matrix compound-assigned with a right side that reads it (`h += &h * 0.2`): the
/// expansion moved `h` before the right side borrowed it (E0382), inside a loop or not.
#[differentiate]
fn constant_compound_reading_itself(x: f64) -> f64 {
    let mut h = DMatrix::<f64>::from_element(2, 2, 0.5);
    h += &h * 0.2;
    h *= 0.3 - h.nrows() as f64 * 0.3 + 1.0;
    h.sum() * x
}

#[test]
fn constant_compound_reading_itself_gradient() {
    // h = 0.6 everywhere, then times 0.7: f = 4 · 0.42 · x.
    let (value, g) = constant_compound_reading_itself_grad(0.5);
    assert_eq!(value, constant_compound_reading_itself(0.5));
    assert!((g.x - 1.68).abs() < 1e-12, "{}", g.x);
}

/// A matrix carried by a loop, assigned in the body and read again in the same iteration
/// (`m = &m * x; let z = &m + v;`): the new value was moved into the later operation although
/// it is also the value the next iteration starts from (E0382).
#[differentiate(wrt(x))]
fn carried_matrix_read_after_assignment(x: f64, v: &DMatrix<f64>) -> f64 {
    let mut m = v.clone();
    let mut s = 0.0;
    for _ in 0..2 {
        m = &m * x;
        let z = &m + v;
        s += z.sum();
    }
    m.sum() + s
}

#[test]
fn carried_matrix_read_after_assignment_gradient() {
    // With v all ones: f = 8x² + 4x + 8, f' = 16x + 4.
    let v = DMatrix::from_element(2, 2, 1.0);
    let (value, g) = carried_matrix_read_after_assignment_grad(0.5, &v);
    assert_eq!(value, carried_matrix_read_after_assignment(0.5, &v));
    assert!((g.x - 12.0).abs() < 1e-12, "{}", g.x);
}

/// A `#[parameters(skip)]` field read in the condition of an `if` inside a `map` closure
/// (`p.w.map(|e| if p.on { e } else { -e })`): its read was a leaf the closure captured as a
/// differentiable scalar, and the expansion did not compile (E0308, `Skipped<bool>` where a
/// reference was expected; E0271 on its gradient slot). A field read in a condition is now
/// a constant read, as in a cast; also in a method (`self.on`).
#[derive(Parameters, Clone, Debug, PartialEq)]
pub struct Flagged {
    w: DMatrix<f64>,
    s: f64,
    #[parameters(skip)]
    on: bool,
}

#[differentiate]
fn skipped_flag_in_closure(p: &Flagged) -> f64 {
    let m = p.w.map(|e| if p.on { e * p.s } else { -e });
    let mut t = p.s;
    while t < 1.0 && p.s > 0.0 {
        t *= 2.0;
    }
    m.sum() + if p.s > 0.0 { t } else { 0.0 }
}

#[differentiate]
impl Flagged {
    #[differentiate]
    fn skipped_flag_in_method(&self) -> f64 {
        self.w.map(|e| if self.on { e * e } else { e }).sum()
    }
}

#[test]
fn skipped_flag_in_closure_gradient() {
    for on in [true, false] {
        let p = Flagged {
            w: DMatrix::from_row_slice(1, 2, &[0.5, -1.5]),
            s: 0.3,
            on,
        };
        // t: 0.3 → 0.6 → 1.2, so f = Σ(e·s or −e) + 4s.
        let (value, g) = skipped_flag_in_closure_grad(&p);
        assert_eq!(value, skipped_flag_in_closure(&p));
        assert_eq!(g.p.on, on);
        let (dw, ds) = if on { (0.3, -1.0 + 4.0) } else { (-1.0, 4.0) };
        assert!(g.p.w.iter().all(|&x| (x - dw).abs() < 1e-12), "{}", g.p.w);
        assert!((g.p.s - ds).abs() < 1e-12, "{}", g.p.s);
        let (value, g) = p.skipped_flag_in_method_grad();
        assert_eq!(value, p.skipped_flag_in_method());
        let want = if on { [1.0, -3.0] } else { [1.0, 1.0] };
        assert_eq!(g.self_.w.as_slice(), &want);
    }
}
