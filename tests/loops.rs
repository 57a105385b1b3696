//! Loops (`for`, `while`, `loop`, `break`, `continue`, nested, calling differentiated
//! functions, carrying scalars and matrices): derived gradients against central differences
//! in f64 and the dot-product test, at seeded random points away from kinks; and the value
//! the gradient functions return equal to the function's own, bit for bit.

mod common;

use autodiff::prelude::*;
use common::check::{check, flat, Draw};

/// A polynomial by Horner's rule over a constant collection.
#[differentiate(wrt(x))]
fn horner(x: f64, coefficients: &[f64]) -> f64 {
    let mut acc = 0.0;
    for c in coefficients.iter() {
        acc = acc * x + c;
    }
    acc
}

const COEFFICIENTS: [f64; 5] = [0.5, -1.25, 2.0, 0.75, -0.3];

#[test]
fn horner_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let x = d.scalar();
        let (value, g) = horner_grad(x, &COEFFICIENTS);
        assert_eq!(value, horner(x, &COEFFICIENTS));
        check("horner", &d.theta, &[g.x], |r| {
            horner(r.scalar(), &COEFFICIENTS)
        });
    }
}

/// The same polynomial from the highest index down (`(a..b).rev()` and indexing), plus the
/// even terms again by `step_by`, whose `powi(i)` the reverse sweep reads per iteration.
#[differentiate(wrt(x))]
fn reversed_and_stepped(x: f64, c: &[f64]) -> f64 {
    let mut acc = 0.0;
    for i in (0..c.len()).rev() {
        acc = acc * x + c[c.len() - 1 - i];
    }
    for i in (0..c.len()).step_by(2) {
        acc += x.powi(i as i32) * c[i];
    }
    acc
}

#[test]
fn reversed_and_stepped_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let x = d.scalar();
        let (value, g) = reversed_and_stepped_grad(x, &COEFFICIENTS);
        assert_eq!(value, reversed_and_stepped(x, &COEFFICIENTS));
        check("reversed_and_stepped", &d.theta, &[g.x], |r| {
            reversed_and_stepped(r.scalar(), &COEFFICIENTS)
        });
    }
}

/// `a..=b`, `.enumerate()` and `continue`.
#[differentiate(wrt(w, v))]
fn enumerate_and_continue(w: f64, v: f64, xs: &[f64]) -> f64 {
    let mut s = v;
    for (i, x) in xs.iter().enumerate() {
        if i % 3 == 1 {
            continue;
        }
        s += w * x;
        s = s.tanh() + 0.25 * s;
    }
    for k in 1..=3 {
        s = s * v + (k as f64) * w;
    }
    s
}

#[test]
fn enumerate_and_continue_gradient() {
    let xs = [0.3, -1.1, 0.8, 1.7, -0.4, 0.9, -0.2];
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let (w, v) = (d.scalar(), d.scalar());
        let (value, g) = enumerate_and_continue_grad(w, v, &xs);
        assert_eq!(value, enumerate_and_continue(w, v, &xs));
        check("enumerate_and_continue", &d.theta, &[g.w, g.v], |r| {
            enumerate_and_continue(r.scalar(), r.scalar(), &xs)
        });
    }
}

/// Newton's iteration for √a with a tolerance: how many iterations run depends on `a`.
#[differentiate]
fn newton_sqrt(a: f64) -> f64 {
    let mut x = a;
    let mut step: f64 = 1.0;
    while step.abs() > 1e-12 {
        let next = 0.5 * (x + a / x);
        step = next - x;
        x = next;
    }
    x
}

#[test]
fn newton_sqrt_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let a = d.positive_scalar() * 3.0;
        d.theta[0] = a;
        let (value, g) = newton_sqrt_grad(a);
        assert_eq!(value, newton_sqrt(a));
        assert!((value - a.sqrt()).abs() < 1e-12);
        // The derivative of the iteration that ran is the derivative of √a.
        assert!(
            (g.a - 0.5 / a.sqrt()).abs() < 1e-9,
            "{} vs {}",
            g.a,
            0.5 / a.sqrt()
        );
        check("newton_sqrt", &d.theta, &[g.a], |r| newton_sqrt(r.scalar()));
    }
}

/// Power iteration: 20 matrix-vector products, each normalised, then the Rayleigh quotient.
#[differentiate(wrt(a))]
fn power_iteration(a: &DMatrix<f64>, v0: &DMatrix<f64>) -> f64 {
    let mut v = v0.clone();
    for _ in 0..20 {
        let w = a * &v;
        v = &w / w.norm();
    }
    (v.transpose() * a * &v).sum()
}

#[test]
fn power_iteration_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let a = d.matrix(4, 4);
        let v0 = DMatrix::from_element(4, 1, 0.5);
        let (value, g) = power_iteration_grad(&a, &v0);
        assert_eq!(value, power_iteration(&a, &v0));
        check("power_iteration", &d.theta, g.a.as_slice(), |r| {
            power_iteration(&r.matrix(4, 4), &v0)
        });
    }
}

/// An RNN over the columns of a data matrix, the state starting at zero and at `h0`.
#[differentiate(wrt(wx, wh, b, h0))]
fn rnn(
    xs: &DMatrix<f64>,
    wx: &DMatrix<f64>,
    wh: &DMatrix<f64>,
    b: &DMatrix<f64>,
    h0: &DMatrix<f64>,
) -> f64 {
    let mut h = h0.clone();
    for t in 0..xs.ncols() {
        let x = xs.columns(t, 1).into_owned();
        h = tanh(wx * x + wh * &h + b);
    }
    let mut z: DMatrix<f64> = DMatrix::zeros(wh.nrows(), 1);
    for t in 0..xs.ncols() {
        let x = xs.columns(t, 1).into_owned();
        z = tanh(wx * x + wh * &z + b);
    }
    h.norm_squared() + z.sum()
}

#[test]
fn rnn_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let (n_in, n_h, steps) = (3, 4, 6);
        let xs = d.seed_matrix(n_in, steps);
        let wx = d.matrix(n_h, n_in);
        let wh = d.matrix(n_h, n_h) * 0.5;
        d.theta.truncate(n_h * n_in);
        d.theta.extend(wh.iter());
        let b = d.matrix(n_h, 1);
        let h0 = d.matrix(n_h, 1);
        let (value, g) = rnn_grad(&xs, &wx, &wh, &b, &h0);
        assert_eq!(value, rnn(&xs, &wx, &wh, &b, &h0));
        let derived = flat(&[
            g.wx.as_slice(),
            g.wh.as_slice(),
            g.b.as_slice(),
            g.h0.as_slice(),
        ]);
        check("rnn", &d.theta, &derived, |r| {
            let (wx, wh) = (r.matrix(n_h, n_in), r.matrix(n_h, n_h));
            rnn(&xs, &wx, &wh, &r.matrix(n_h, 1), &r.matrix(n_h, 1))
        });
    }
}

#[differentiate]
fn cell(h: &DMatrix<f64>, w: &DMatrix<f64>) -> DMatrix<f64> {
    tanh(w * h)
}

/// A loop calling a differentiated function.
#[differentiate]
fn cells(h0: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let mut h = h0.clone();
    for _ in 0..4 {
        h = cell(&h, w);
    }
    h.sum()
}

#[test]
fn cells_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let h0 = d.matrix(3, 2);
        let w = d.matrix(3, 3);
        let (value, g) = cells_grad(&h0, &w);
        assert_eq!(value, cells(&h0, &w));
        check(
            "cells",
            &d.theta,
            &flat(&[g.h0.as_slice(), g.w.as_slice()]),
            |r| cells(&r.matrix(3, 2), &r.matrix(3, 3)),
        );
    }
}

/// `loop` with a `break` in the middle of the body and a constant counter.
#[differentiate]
fn break_in_middle(x: f64, y: f64) -> f64 {
    let mut s = x;
    let mut i = 0;
    loop {
        s = s * y + 0.1;
        if s.abs() > 1.5 {
            break;
        }
        s = s.sin() + x;
        i += 1;
        if i >= 6 {
            break;
        }
    }
    s * (i as f64 + 1.0)
}

#[test]
fn break_in_middle_gradient() {
    for seed in 0..8 {
        let mut d = Draw::new(seed);
        let (x, y) = (d.scalar(), d.scalar() * 2.0);
        d.theta[1] = y;
        let (value, g) = break_in_middle_grad(x, y);
        assert_eq!(value, break_in_middle(x, y));
        check("break_in_middle", &d.theta, &[g.x, g.y], |r| {
            break_in_middle(r.scalar(), r.scalar())
        });
    }
}

/// `while` on a value with a `break` on a counter.
#[differentiate]
fn damped(x: f64) -> f64 {
    let mut v = x * 3.0;
    let mut k = 0;
    while v.abs() > 0.01 {
        v = v * 0.5 - 0.01 * v.sin();
        k += 1;
        if k > 100 {
            break;
        }
    }
    v + x
}

#[test]
fn damped_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let x = d.scalar();
        let (value, g) = damped_grad(x);
        assert_eq!(value, damped(x));
        check("damped", &d.theta, &[g.x], |r| damped(r.scalar()));
    }
}

/// Nested loops, the inner one's bounds set by the outer one's variable.
#[differentiate]
fn nested(x: f64, m: &DMatrix<f64>) -> f64 {
    let mut acc = 0.0;
    for i in 0..3 {
        let mut row = x;
        for j in 0..=i {
            row = row * x + (j as f64) * 0.5;
        }
        acc += row.sin();
        let mut inner = m.clone();
        for _ in 0..i {
            inner = &inner * x + m;
        }
        acc += inner.sum();
    }
    acc
}

#[test]
fn nested_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let x = d.scalar();
        let m = d.matrix(2, 2);
        let (value, g) = nested_grad(x, &m);
        assert_eq!(value, nested(x, &m));
        check("nested", &d.theta, &flat(&[&[g.x], g.m.as_slice()]), |r| {
            nested(r.scalar(), &r.matrix(2, 2))
        });
    }
}

/// Carried values exchanged: the values an iteration hands over are read before any is
/// replaced.
#[differentiate]
#[allow(clippy::manual_swap)] // the exchange through a temporary is what is tested
fn exchange(a: f64, b: f64) -> f64 {
    let mut p = a;
    let mut q = b;
    for _ in 0..3 {
        let t = p;
        p = q;
        q += t * 1.5;
    }
    for _ in 0..3 {
        let t = p;
        p = q;
        q = t;
    }
    p * q.sin()
}

#[test]
fn exchange_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let (a, b) = (d.scalar(), d.scalar());
        let (value, g) = exchange_grad(a, b);
        assert_eq!(value, exchange(a, b));
        check("exchange", &d.theta, &[g.a, g.b], |r| {
            exchange(r.scalar(), r.scalar())
        });
    }
}

/// A loop that runs no iteration: the gradient flows from before the loop to after it.
#[differentiate(wrt(x))]
fn maybe_empty(x: f64, n: usize) -> f64 {
    let mut y = x.sin();
    for _ in 0..n {
        y = y * y + x;
    }
    y * x
}

#[test]
fn maybe_empty_gradient() {
    for n in [0, 1, 3] {
        let mut d = Draw::new(n as u64);
        let x = d.scalar();
        let (value, g) = maybe_empty_grad(x, n);
        assert_eq!(value, maybe_empty(x, n));
        check("maybe_empty", &d.theta, &[g.x], |r| {
            maybe_empty(r.scalar(), n)
        });
    }
}

/// A loop inside a branch, and a branch inside a loop merging a matrix.
#[differentiate(wrt(x, m))]
fn branches_and_loops(x: f64, m: &DMatrix<f64>, n: usize) -> f64 {
    let mut y = x;
    if x > 0.0 {
        for _ in 0..n {
            y = y * y * 0.5 + 0.1;
        }
    } else {
        y = -y;
    }
    let mut h = m.clone();
    for i in 0..4 {
        if i % 2 == 0 {
            h = &h * y;
        } else {
            h = h.map(|v| v.sin());
        }
    }
    h.sum() + y
}

#[test]
fn branches_and_loops_gradient() {
    for seed in 0..6 {
        let mut d = Draw::new(seed);
        let x = d.scalar();
        let m = d.matrix(2, 3);
        let (value, g) = branches_and_loops_grad(x, &m, 3);
        assert_eq!(value, branches_and_loops(x, &m, 3));
        check(
            "branches_and_loops",
            &d.theta,
            &flat(&[&[g.x], g.m.as_slice()]),
            |r| branches_and_loops(r.scalar(), &r.matrix(2, 3), 3),
        );
    }
}

/// A `map` closure inside a loop, capturing a differentiable scalar.
#[differentiate]
fn map_in_loop(m: &DMatrix<f64>, s: f64) -> f64 {
    let mut h = m.clone();
    for _ in 0..3 {
        h = h.map(|v| (v * s).sin());
    }
    h.sum()
}

#[test]
fn map_in_loop_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let m = d.matrix(2, 2);
        let s = d.scalar();
        let (value, g) = map_in_loop_grad(&m, s);
        assert_eq!(value, map_in_loop(&m, s));
        check(
            "map_in_loop",
            &d.theta,
            &flat(&[g.m.as_slice(), &[g.s]]),
            |r| map_in_loop(&r.matrix(2, 2), r.scalar()),
        );
    }
}

/// A carried value that depends on the parameter only through another carried value
/// assigned later in the body: it is differentiable from the second iteration on.
#[differentiate(wrt(w))]
fn varied_late(w: f64, xs: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut t = 1.0;
    for x in xs.iter() {
        t = t * s + 1.0;
        s += w * x;
    }
    t + s
}

#[test]
fn varied_late_gradient() {
    let xs = [0.5, -0.7, 1.1, 0.2];
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let w = d.scalar();
        let (value, g) = varied_late_grad(w, &xs);
        assert_eq!(value, varied_late(w, &xs));
        check("varied_late", &d.theta, &[g.w], |r| {
            varied_late(r.scalar(), &xs)
        });
    }
}

/// Accumulating a matrix with `+=` over a constant collection of matrices, by reference.
#[differentiate(wrt(w))]
fn accumulate(w: &DMatrix<f64>, xs: &[DMatrix<f64>]) -> f64 {
    let mut total = DMatrix::zeros(w.nrows(), xs[0].ncols());
    for x in xs.iter() {
        total += sigmoid(w * x);
    }
    total.norm_squared()
}

#[test]
fn accumulate_gradient() {
    let mut data = Draw::new(99);
    let xs: Vec<DMatrix<f64>> = (0..4).map(|_| data.seed_matrix(3, 2)).collect();
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let w = d.matrix(2, 3);
        let (value, g) = accumulate_grad(&w, &xs);
        assert_eq!(value, accumulate(&w, &xs));
        check("accumulate", &d.theta, g.w.as_slice(), |r| {
            accumulate(&r.matrix(2, 3), &xs)
        });
    }
}

/// `zip` over two constant collections, pairs destructured by reference.
#[differentiate(wrt(w))]
fn zipped(w: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut loss = 0.0;
    for (x, y) in xs.iter().zip(ys.iter()) {
        let e = w * x - y;
        loss += e * e;
    }
    loss
}

#[test]
fn zipped_gradient() {
    let (xs, ys) = ([0.5, 1.5, -0.25], [1.0, 2.5, -0.5]);
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let w = d.scalar();
        let (value, g) = zipped_grad(w, &xs, &ys);
        assert_eq!(value, zipped(w, &xs, &ys));
        check("zipped", &d.theta, &[g.w], |r| zipped(r.scalar(), &xs, &ys));
    }
}

/// A looping function called from another differentiated function, and its forward and
/// reverse sweeps run apart (`NAME_fwd` then `NAME_bwd`).
#[differentiate]
fn calls_a_loop(x: f64) -> f64 {
    let y = damped(x) * x;
    horner_twice(y)
}

#[differentiate]
fn horner_twice(x: f64) -> f64 {
    let mut acc = 0.0;
    for _ in 0..2 {
        acc = horner_inline(acc, x);
    }
    acc
}

#[differentiate]
fn horner_inline(acc: f64, x: f64) -> f64 {
    acc * x + 0.5
}

#[test]
fn calls_a_loop_gradient_and_split_sweeps() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let x = d.scalar();
        let (value, g) = calls_a_loop_grad(x);
        assert_eq!(value, calls_a_loop(x));
        check("calls_a_loop", &d.theta, &[g.x], |r| {
            calls_a_loop(r.scalar())
        });
        let (forward_value, tape) = rnn_like_fwd(x, 4);
        let seed_value = 0.75;
        let split = rnn_like_bwd(tape, seed_value);
        let (vjp_value, joint) = rnn_like_vjp(x, 4, seed_value);
        assert_eq!(forward_value, vjp_value);
        assert_eq!(split, joint);
        check("rnn_like", &d.theta, &[split.x / seed_value], |r| {
            rnn_like(r.scalar(), 4)
        });
    }
}

#[differentiate(wrt(x))]
fn rnn_like(x: f64, steps: usize) -> f64 {
    let mut h = 0.0;
    let mut t = 0;
    while t < steps {
        h = (h * 0.8 + x).tanh();
        t += 1;
    }
    h
}

/// A gated recurrence carrying two matrices, each iteration reading both.
#[differentiate(wrt(wf, wc))]
fn gated(xs: &DMatrix<f64>, wf: &DMatrix<f64>, wc: &DMatrix<f64>) -> f64 {
    let mut c = DMatrix::zeros(wf.nrows(), 1);
    let mut h = DMatrix::zeros(wf.nrows(), 1);
    for t in 0..xs.ncols() {
        let x = xs.columns(t, 1).into_owned();
        let f = sigmoid(wf * &x + &h);
        c = f.component_mul(&c) + tanh(wc * &x);
        h = tanh(&c).component_mul(&f);
    }
    h.sum() + c.norm_squared()
}

#[test]
fn gated_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let xs = d.seed_matrix(3, 5);
        let wf = d.matrix(4, 3);
        let wc = d.matrix(4, 3);
        let (value, g) = gated_grad(&xs, &wf, &wc);
        assert_eq!(value, gated(&xs, &wf, &wc));
        check(
            "gated",
            &d.theta,
            &flat(&[g.wf.as_slice(), g.wc.as_slice()]),
            |r| gated(&xs, &r.matrix(4, 3), &r.matrix(4, 3)),
        );
    }
}

/// Static shapes carried through a loop.
#[differentiate]
fn rotations(a: &SMatrix<f64, 2, 2>, v: SVector<f64, 2>) -> f64 {
    let mut u = v;
    for _ in 0..5 {
        u = tanh(a * u);
    }
    u.norm_squared()
}

#[test]
fn rotations_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let a = SMatrix::<f64, 2, 2>::from_iterator(d.matrix(2, 2).iter().copied());
        let v = SVector::<f64, 2>::from_iterator(d.matrix(2, 1).iter().copied());
        let (value, g) = rotations_grad(&a, v);
        assert_eq!(value, rotations(&a, v));
        let derived = flat(&[g.a.as_slice(), g.v.as_slice()]);
        check("rotations", &d.theta, &derived, |r| {
            let a = SMatrix::<f64, 2, 2>::from_iterator(r.matrix(2, 2).iter().copied());
            rotations(
                &a,
                SVector::<f64, 2>::from_iterator(r.matrix(2, 1).iter().copied()),
            )
        });
    }
}

/// A loop in `f32`: the value equals the function's bit for bit, and the gradient agrees with
/// the same loop in `f64` to `f32` precision.
#[differentiate]
fn horner_f32(x: f32) -> f32 {
    let mut acc = 0.0f32;
    for k in 0..4 {
        acc = acc * x + (k as f32) * 0.5 - 0.75;
    }
    acc.tanh()
}

#[differentiate]
fn horner_f64(x: f64) -> f64 {
    let mut acc = 0.0f64;
    for k in 0..4 {
        acc = acc * x + (k as f64) * 0.5 - 0.75;
    }
    acc.tanh()
}

#[test]
fn loop_in_f32_agrees_with_f64() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let x = d.scalar();
        let (value, g) = horner_f32_grad(x as f32);
        assert_eq!(value, horner_f32(x as f32));
        let (_, g64) = horner_f64_grad(x);
        check("horner_f64", &d.theta, &[g64.x], |r| horner_f64(r.scalar()));
        assert!(
            (g.x as f64 - g64.x).abs() <= 1e-5 * g64.x.abs().max(1.0),
            "{} vs {}",
            g.x,
            g64.x
        );
    }
}

/// The value just assigned to a carried variable, read again by an operation that could
/// compute its result in that value's buffer: the value must stay for the next iteration.
#[differentiate]
fn assigned_then_read(m: &DMatrix<f64>) -> f64 {
    let mut c = m.clone();
    let mut s = 0.0;
    for _ in 0..3 {
        c = &c * 0.5 + m;
        s += tanh(c.clone()).sum();
    }
    s + c.sum()
}

#[test]
fn assigned_then_read_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let m = d.matrix(2, 3);
        let (value, g) = assigned_then_read_grad(&m);
        assert_eq!(value, assigned_then_read(&m));
        check("assigned_then_read", &d.theta, g.m.as_slice(), |r| {
            assigned_then_read(&r.matrix(2, 3))
        });
    }
}

/// A `while` whose condition reads the carried matrix, a `continue` after an operation that
/// reads it, and the carried value unchanged on that path.
#[differentiate]
fn while_on_carried(m: &DMatrix<f64>, s: f64) -> f64 {
    let mut h = m.clone();
    let mut k = 0;
    while h.norm_squared() < 50.0 {
        k += 1;
        let t = tanh(&h * s) + &h;
        if k % 3 == 0 {
            continue;
        }
        h = t * 1.5;
        if k > 20 {
            break;
        }
    }
    h.sum()
}

#[test]
fn while_on_carried_gradient() {
    for seed in 0..4 {
        let mut d = Draw::new(seed);
        let m = d.matrix(2, 2);
        let s = d.scalar();
        let (value, g) = while_on_carried_grad(&m, s);
        assert_eq!(value, while_on_carried(&m, s));
        check(
            "while_on_carried",
            &d.theta,
            &flat(&[g.m.as_slice(), &[g.s]]),
            |r| while_on_carried(&r.matrix(2, 2), r.scalar()),
        );
    }
}
