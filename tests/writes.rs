//! Building values by parts (`y[i] = e`, `y[(i, j)] = e`, `y[i] += e` and the other compound
//! writes, `y.set_row(i, &r)`, `y.set_column(j, &c)`, `P::from_element(.., e)`): derived
//! gradients against central differences in f64 and the dot-product test, on dynamic and
//! static shapes, outside and inside loops and branches; overwrite semantics (an element
//! written over loses its earlier value's derivative); values equal to the function's own bit
//! for bit; f32; and a loop writing `n` elements whose sweeps take as many buffers from the
//! pool whatever `n` (no copy of the matrix per write, no dense adjoint per write).

mod common;

use autodiff::buffers;
use autodiff::prelude::*;
use common::check::{check, flat, inner, Draw};

fn vector(d: &mut Draw, n: usize) -> DVector<f64> {
    DVector::from_column_slice(d.matrix(n, 1).as_slice())
}

fn read_vector(r: &mut common::check::Read, n: usize) -> DVector<f64> {
    DVector::from_column_slice(r.matrix(n, 1).as_slice())
}

// ------------------------------------------------------------------ a vector in a loop

/// `yᵢ = xᵢ²` written element by element into zeros, then read whole.
#[differentiate]
fn squares_into(x: &DVector<f64>, w: &DVector<f64>) -> f64 {
    let mut y = DVector::zeros(x.len());
    for i in 0..x.len() {
        y[i] = x[i] * x[i];
    }
    y.dot(w) + y.norm_squared()
}

#[test]
fn a_vector_built_in_a_loop() {
    for (seed, n) in [(0, 1), (1, 4), (2, 9)] {
        let mut d = Draw::new(seed);
        let (x, w) = (vector(&mut d, n), vector(&mut d, n));
        let (value, g) = squares_into_grad(&x, &w);
        assert_eq!(value, squares_into(&x, &w));
        // By hand: y = x², d/dx = 2x ⊙ (w + 2y), d/dw = y.
        let y = x.component_mul(&x);
        assert_eq!(g.w, y);
        let by_hand = (x.component_mul(&(&w + &y * 2.0))) * 2.0;
        assert!((&g.x - &by_hand).amax() <= 1e-12 * by_hand.amax().max(1.0));
        check(
            "squares_into",
            &d.theta,
            &flat(&[g.x.as_slice(), g.w.as_slice()]),
            |r| squares_into(&read_vector(r, n), &read_vector(r, n)),
        );
    }
}

/// A recurrence that reads the element it wrote in the previous iteration, with every
/// compound write.
#[differentiate]
fn recurrence(x: &DVector<f64>, a: f64) -> f64 {
    let n = x.len();
    let mut y = DVector::zeros(n);
    y[0] = x[0];
    for i in 1..n {
        y[i] = a * y[i - 1] + x[i];
        y[i] *= x[i - 1];
        y[i] += 0.5 * y[i - 1];
        y[i] -= x[i] * a;
        y[i] /= 1.5 + x[i] * x[i];
    }
    y.norm_squared()
}

#[test]
fn a_recurrence_reading_what_it_wrote() {
    for (seed, n) in [(3, 2), (4, 5)] {
        let mut d = Draw::new(seed);
        let x = vector(&mut d, n);
        let a = d.scalar();
        let (value, g) = recurrence_grad(&x, a);
        assert_eq!(value, recurrence(&x, a));
        check(
            "recurrence",
            &d.theta,
            &flat(&[g.x.as_slice(), &[g.a]]),
            |r| {
                let x = read_vector(r, n);
                recurrence(&x, r.scalar())
            },
        );
    }
}

// ------------------------------------------------------------------------- overwrites

/// Writes over a copy of a parameter: element 0 twice (only the last value counts), element
/// 1 read and then overwritten with what was read, element 2 compound.
#[differentiate]
fn overwrites(x: &DVector<f64>, s: f64) -> f64 {
    let mut y = x.clone();
    y[0] = x[1] * s;
    y[0] = x[2] * 3.0;
    let old = y[1];
    y[1] = old * old;
    y[2] += s * y[0];
    y.norm_squared() + y[1] * x[0]
}

#[test]
fn an_element_written_over_loses_its_derivative() {
    let x = DVector::from_column_slice(&[1.0, 2.0, 3.0, 4.0]);
    let (value, g) = overwrites_grad(&x, 5.0);
    // y = [9, 4, 3 + 45, 4]: x[1]·s in y[0] was written over, so s reaches the value only
    // through y[2].
    assert_eq!(value, 81.0 + 16.0 + 48.0 * 48.0 + 16.0 + 4.0);
    assert_eq!(value, overwrites(&x, 5.0));
    assert_eq!(g.s, 2.0 * 48.0 * 9.0);
    // d/dx₀ = y₁ = 4 (y[0]'s first value is gone); d/dx₁ = (2y₁ + x₀)·2x₁ = 9·4;
    // d/dx₂ = 2y₀·3 + 2y₂·(1 + 3s); d/dx₃ = 2x₃.
    let expected = [4.0, 36.0, 54.0 + 96.0 * 16.0, 8.0];
    assert_eq!(g.x.as_slice(), &expected);
    for seed in 0..4 {
        let mut d = Draw::new(seed);
        let x = vector(&mut d, 3);
        let s = d.scalar();
        let (_, g) = overwrites_grad(&x, s);
        check(
            "overwrites",
            &d.theta,
            &flat(&[g.x.as_slice(), &[g.s]]),
            |r| {
                let x = read_vector(r, 3);
                overwrites(&x, r.scalar())
            },
        );
    }
}

/// A parameter taken by value and written into.
#[differentiate]
fn into_parameter(mut v: DVector<f64>, s: f64) -> f64 {
    v[1] = v[0] * s;
    v[2] += v[1];
    v.norm_squared()
}

#[test]
fn a_parameter_taken_by_value_is_written_into() {
    let mut d = Draw::new(8);
    let v = vector(&mut d, 3);
    let s = d.scalar();
    let (value, g) = into_parameter_grad(v.clone(), s);
    assert_eq!(value, into_parameter(v.clone(), s));
    assert_eq!(g.v[1], 0.0, "v[1] was written over before any read");
    check(
        "into_parameter",
        &d.theta,
        &flat(&[g.v.as_slice(), &[g.s]]),
        |r| {
            let v = read_vector(r, 3);
            into_parameter(v, r.scalar())
        },
    );
}

// ---------------------------------------------------------------- matrices, rows, columns

/// The outer product `uvᵀ` element by element, a matrix result.
#[differentiate]
fn outer(u: &DVector<f64>, v: &DVector<f64>) -> DMatrix<f64> {
    let mut m = DMatrix::zeros(u.len(), v.len());
    for j in 0..v.len() {
        for i in 0..u.len() {
            m[(i, j)] = u[i] * v[j];
        }
    }
    m
}

#[test]
fn a_matrix_built_element_by_element() {
    let mut d = Draw::new(11);
    let (u, v) = (vector(&mut d, 3), vector(&mut d, 2));
    let seed = d.seed_matrix(3, 2);
    let (value, g) = outer_vjp(&u, &v, seed.clone());
    assert_eq!(value, &u * v.transpose());
    assert_eq!(value, outer(&u, &v));
    check(
        "outer",
        &d.theta,
        &flat(&[g.u.as_slice(), g.v.as_slice()]),
        |r| {
            let (u, v) = (read_vector(r, 3), read_vector(r, 2));
            inner(&seed, &outer(&u, &v))
        },
    );
}

/// Rows and columns written, some written over, into zeros and into a computed matrix.
#[differentiate]
fn rows_and_columns(m: &DMatrix<f64>, r: &RowDVector<f64>, c: &DVector<f64>) -> DMatrix<f64> {
    let mut y = DMatrix::zeros(3, m.ncols());
    y.set_row(0, &m.row(1));
    y.set_row(2, &(m.row(0) * 2.0));
    y.set_column(1, c);
    y.set_row(0, r);
    let mut z = m * 2.0;
    for k in 0..z.nrows() {
        z.set_row(k, &(y.row(k) * z[(k, 0)]));
    }
    y + z
}

#[test]
fn rows_and_columns_written() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let m = d.matrix(3, 2);
        let r = d.row(2);
        let c = vector(&mut d, 3);
        let u = d.seed_matrix(3, 2);
        let (value, g) = rows_and_columns_vjp(&m, &r, &c, u.clone());
        assert_eq!(value, rows_and_columns(&m, &r, &c));
        check(
            "rows_and_columns",
            &d.theta,
            &flat(&[g.m.as_slice(), g.r.as_slice(), g.c.as_slice()]),
            |rd| {
                let (m, r, c) = (rd.matrix(3, 2), rd.row(2), read_vector(rd, 3));
                inner(&u, &rows_and_columns(&m, &r, &c))
            },
        );
    }
}

// --------------------------------------------------------------------- static shapes

#[differentiate]
fn static_shapes(x: &SVector<f64, 3>, m: &SMatrix<f64, 2, 3>) -> f64 {
    let mut y = SVector::<f64, 3>::zeros();
    for i in 0..3 {
        y[i] = x[i] * m[(1, i)];
    }
    let mut z = SMatrix::<f64, 2, 3>::zeros();
    z.set_row(0, &y.transpose());
    z.set_column(2, &(m.column(0) * x[1]));
    z[(1, 1)] += y[0];
    let f = SMatrix::<f64, 2, 2>::from_element(x[2]);
    (f * z).norm_squared() + z.sum()
}

#[test]
fn static_shapes_built() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let x = SVector::<f64, 3>::from_column_slice(d.matrix(3, 1).as_slice());
        let m = SMatrix::<f64, 2, 3>::from_column_slice(d.matrix(2, 3).as_slice());
        let (value, g) = static_shapes_grad(&x, &m);
        assert_eq!(value, static_shapes(&x, &m));
        check(
            "static_shapes",
            &d.theta,
            &flat(&[g.x.as_slice(), g.m.as_slice()]),
            |r| {
                let x = SVector::<f64, 3>::from_column_slice(r.matrix(3, 1).as_slice());
                let m = SMatrix::<f64, 2, 3>::from_column_slice(r.matrix(2, 3).as_slice());
                static_shapes(&x, &m)
            },
        );
    }
}

/// Every constructor of the reference, the types of static ones from an annotation; a row
/// vector built in a loop and read whole.
#[differentiate]
fn constructors(x: &DVector<f64>) -> f64 {
    let mut r = RowDVector::zeros(x.len());
    for j in 0..x.len() {
        r[j] = x[j] * (j + 1) as f64;
    }
    let mut v: SVector<f64, 2> = SVector::zeros();
    v[1] = x[0] * x[1];
    let mut m: SMatrix<f64, 2, 2> = SMatrix::zeros();
    m.set_column(0, &v);
    m[(0, 1)] = r[0];
    (r * x)[0] + m.sum() + v.norm_squared()
}

#[test]
fn every_constructor() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let x = vector(&mut d, 3);
        let (value, g) = constructors_grad(&x);
        assert_eq!(value, constructors(&x));
        check("constructors", &d.theta, g.x.as_slice(), |r| {
            constructors(&read_vector(r, 3))
        });
    }
}

// ------------------------------------------------------------------------ from_element

/// `from_element` with a differentiable element: every element of the matrix is `s`.
#[differentiate]
fn filled(s: f64, x: &DVector<f64>) -> f64 {
    let v = DVector::from_element(x.len(), s * 2.0);
    let m = DMatrix::from_element(2, x.len(), s);
    let mut w = RowDVector::from_element(x.len(), 0.5);
    w[0] = s;
    (m * x.component_mul(&v)).sum() + (w * x)[0]
}

#[test]
fn from_element_of_a_differentiable_element() {
    let x = DVector::from_column_slice(&[1.0, -2.0, 0.5]);
    let (value, g) = filled_grad(0.75, &x);
    assert_eq!(value, filled(0.75, &x));
    // value = 2·Σ s·2s·xᵢ + s·x₀ + 0.5·(x₁ + x₂): d/ds = 8s·Σx + x₀.
    assert_eq!(g.s, 8.0 * 0.75 * (-0.5) + 1.0);
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let s = d.scalar();
        let x = vector(&mut d, 4);
        let (_, g) = filled_grad(s, &x);
        check("filled", &d.theta, &flat(&[&[g.s], g.x.as_slice()]), |r| {
            let s = r.scalar();
            filled(s, &read_vector(r, 4))
        });
    }
}

// ------------------------------------------------------------ branches and constants

/// Writes in the arms of a branch, a constant written into a differentiable vector, and a
/// constant vector built by constant writes.
#[differentiate]
fn branches(x: &DVector<f64>) -> f64 {
    let mut mask = DVector::zeros(x.len());
    mask[0] = 1.0;
    mask[1] += 2.0;
    let mut y = x * 1.0;
    if x[0] > 0.0 {
        y[0] = x[1] * x[1];
    } else {
        y[1] = x[0] * 3.0;
    }
    y[2] = 0.25;
    y.dot(&mask) + y.sum()
}

#[test]
fn writes_in_branches() {
    for seed in 0..6 {
        let mut d = Draw::new(seed);
        let x = vector(&mut d, 3);
        let (value, g) = branches_grad(&x);
        assert_eq!(value, branches(&x));
        check("branches", &d.theta, g.x.as_slice(), |r| {
            branches(&read_vector(r, 3))
        });
    }
}

/// A copy taken before a write keeps the value before it: of a constant (computed as
/// written), of a differentiable value (the write goes to a copy, since `z` is read later).
#[differentiate]
fn copies_before_writes(x: &DVector<f64>) -> f64 {
    let mut mask = DVector::zeros(x.len());
    let zeros = mask.clone();
    mask[0] = 1.0;
    let mut y = x * 2.0;
    let z = y.clone();
    y[0] = x[1] * 5.0;
    x.dot(&mask) + x.dot(&zeros) + z.sum() + y.sum()
}

/// Constant writes in a loop and a constant row written, then read with differentiable values.
#[differentiate]
fn constant_writes_in_a_loop(x: &DVector<f64>) -> f64 {
    let mut weights = DVector::zeros(x.len());
    for i in 0..x.len() {
        weights[i] = i as f64;
    }
    let mut m = DMatrix::zeros(2, x.len());
    m.set_row(1, &weights.transpose());
    x.dot(&weights) + (m * x).sum()
}

#[test]
fn copies_and_constant_writes() {
    let x = DVector::from_column_slice(&[1.0, 3.0, 0.5]);
    let (value, g) = copies_before_writes_grad(&x);
    assert_eq!(value, copies_before_writes(&x));
    // x₀ + 2Σx + (15 + 2x₁ + 2x₂): the first element of y, 2x₀, was written over.
    assert_eq!(
        g.x,
        DVector::from_column_slice(&[1.0 + 2.0, 2.0 + 5.0 + 2.0, 2.0 + 2.0])
    );
    let (value, g) = constant_writes_in_a_loop_grad(&x);
    assert_eq!(value, constant_writes_in_a_loop(&x));
    assert_eq!(g.x, DVector::from_column_slice(&[0.0, 2.0, 4.0]));
}

/// A value the reverse sweep reads is not written over: the write goes to a copy. Before a
/// loop (the product reads `y` as it was), and in a loop (each iteration's record keeps the
/// `y` that `dot` read, and the write of that iteration makes the next `y`).
#[differentiate]
fn read_by_the_reverse_sweep(x: &DVector<f64>) -> f64 {
    let mut y = x * 2.0;
    let p = y.component_mul(&y);
    y[0] = x[1] * 3.0;
    let mut s = 0.0;
    for i in 0..x.len() {
        s += y.dot(x) * 0.5;
        y[i] = x[i] * s;
    }
    p.sum() + y.norm_squared() + s
}

#[test]
fn values_the_reverse_sweep_reads_are_not_written_over() {
    for (seed, n) in [(0, 2), (1, 4)] {
        let mut d = Draw::new(seed);
        let x = vector(&mut d, n);
        let (value, g) = read_by_the_reverse_sweep_grad(&x);
        assert_eq!(value, read_by_the_reverse_sweep(&x));
        check("read_by_the_reverse_sweep", &d.theta, g.x.as_slice(), |r| {
            read_by_the_reverse_sweep(&read_vector(r, n))
        });
    }
}

/// The split sweeps of a function that builds a vector: `_fwd` then `_bwd` is `_vjp`.
#[test]
fn split_sweeps_of_writes() {
    let mut d = Draw::new(21);
    let x = vector(&mut d, 5);
    let a = d.scalar();
    let (value, tape) = recurrence_fwd(&x, a);
    assert_eq!(value, recurrence(&x, a));
    let g = recurrence_bwd(tape, 0.5);
    let (_, whole) = recurrence_vjp(&x, a, 0.5);
    assert_eq!(g, whole);
}

/// A small vector built inside a `map` closure, whose derivative is derived from its body.
#[differentiate]
fn built_in_a_closure(m: &DMatrix<f64>, s: f64) -> f64 {
    m.map(|v| {
        let mut a = SVector::<f64, 2>::zeros();
        a[0] = v * s;
        a[1] = v;
        a.norm_squared()
    })
    .sum()
}

#[test]
fn writes_in_a_map_closure() {
    let m = DMatrix::from_row_slice(1, 2, &[1.0, 2.0]);
    let (value, g) = built_in_a_closure_grad(&m, 3.0);
    assert_eq!(value, built_in_a_closure(&m, 3.0));
    // Σ v²(s² + 1): d/dv = 2v(s² + 1), d/ds = 2s·Σ v².
    assert_eq!(g.m, DMatrix::from_row_slice(1, 2, &[20.0, 40.0]));
    assert_eq!(g.s, 2.0 * 3.0 * 5.0);
}

// --------------------------------------------------------------------------------- f32

#[differentiate]
fn recurrence32(x: &DVector<f32>, a: f32) -> f32 {
    let n = x.len();
    let mut y = DVector::zeros(n);
    y[0] = x[0];
    for i in 1..n {
        y[i] = a * y[i - 1] + x[i];
        y[i] *= x[i - 1];
        y[i] += 0.5 * y[i - 1];
        y[i] -= x[i] * a;
        y[i] /= 1.5 + x[i] * x[i];
    }
    y.norm_squared()
}

#[test]
fn writes_in_f32() {
    let mut d = Draw::new(5);
    let x = vector(&mut d, 6);
    let a = d.scalar();
    let x32 = x.clone().cast::<f32>();
    let (value, g) = recurrence32_grad(&x32, a as f32);
    assert_eq!(value, recurrence32(&x32, a as f32));
    let (v64, g64) = recurrence_grad(&x, a);
    assert!((f64::from(value) - v64).abs() <= 1e-5 * v64.abs().max(1.0));
    let err = (g.x.cast::<f64>() - &g64.x).amax() / g64.x.amax().max(1.0);
    assert!(err <= 1e-5, "f32 gradient differs from f64 by {err:e}");
    assert!((f64::from(g.a) - g64.a).abs() <= 1e-5 * g64.a.abs().max(1.0));
}

// ------------------------------------------------------------------------------ panics

#[differentiate]
fn write_at(x: &DVector<f64>, i: usize) -> f64 {
    let mut y = x.clone();
    y[i] = x[0];
    y.sum()
}

#[test]
#[should_panic(expected = "Matrix index out of bounds")]
fn a_write_out_of_range_panics_as_nalgebra() {
    let _ = write_at_grad(&DVector::from_column_slice(&[1.0, 2.0]), 2);
}

// -------------------------------------------------------------------------------- cost

/// How many buffers the pool hands out for `f`.
fn buffers_taken(f: impl FnOnce()) -> u64 {
    let before = buffers::stats();
    f();
    let after = buffers::stats();
    (after.reused + after.allocated) - (before.reused + before.allocated)
}

/// A vector of `n` elements written one by one: the forward sweep writes in place (a copy of
/// the vector per write would take `n` buffers) and the reverse sweep zeroes each element in
/// the one adjoint (a dense adjoint per write would take `n`).
#[differentiate]
fn build_and_sum(x: &DVector<f64>) -> f64 {
    let mut y = DVector::zeros(x.len());
    for i in 0..x.len() {
        y[i] = x[i] * 2.0;
        y[i] += x[i];
    }
    y.sum()
}

#[test]
fn writing_n_elements_takes_as_many_buffers_whatever_n() {
    let taken = |n: usize| {
        let x = DVector::from_fn(n, |i, _| i as f64 * 0.5 - 1.0);
        buffers_taken(|| {
            let (value, g) = build_and_sum_grad(&x);
            assert_eq!(value, build_and_sum(&x));
            assert_eq!(g.x, DVector::from_element(n, 3.0));
        })
    };
    let few = taken(4);
    assert_eq!(taken(1000), few);
    // The adjoint of `y` (from the seed of `sum`) and the adjoint of `x`.
    assert!(few <= 2, "{few} buffers");
}
