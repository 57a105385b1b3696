//! Parts of differentiable values (`v[i]`, `m[(i, j)]`, `m.row(i)`, `m.column(j)`,
//! `m.rows(i, n)`, `m.columns(j, n)`, `m.view((i, j), (r, c))`): derived gradients against
//! central differences in f64 and the dot-product test, on dynamic and static shapes, with
//! constant indices from literals, loop variables and shapes; values equal to the function's
//! own bit for bit; f32 values; out-of-range indices panicking as nalgebra's; and a loop
//! reading `n` elements whose reverse sweep takes as many buffers from the pool whatever `n`.

mod common;

use autodiff::buffers;
use autodiff::prelude::*;
use common::check::{check, flat, Draw};

fn vector(d: &mut Draw, n: usize) -> DVector<f64> {
    DVector::from_column_slice(d.matrix(n, 1).as_slice())
}

// ------------------------------------------------------------------------- Rosenbrock

/// The n-dimensional Rosenbrock function, `Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²`.
#[differentiate]
fn rosenbrock(x: &DVector<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

/// The same function by closed form, written without the macro.
fn rosenbrock_closed_form(x: &DVector<f64>) -> f64 {
    (0..x.len() - 1)
        .map(|i| 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2))
        .sum()
}

/// Its gradient by hand.
fn rosenbrock_gradient(x: &DVector<f64>) -> DVector<f64> {
    let n = x.len();
    DVector::from_fn(n, |k, _| {
        let mut g = 0.0;
        if k + 1 < n {
            g += -400.0 * x[k] * (x[k + 1] - x[k] * x[k]) - 2.0 * (1.0 - x[k]);
        }
        if k > 0 {
            g += 200.0 * (x[k] - x[k - 1] * x[k - 1]);
        }
        g
    })
}

#[test]
fn rosenbrock_value_and_gradient() {
    for (seed, n) in [(0, 2), (1, 3), (2, 7)] {
        let mut d = Draw::new(seed);
        let x = vector(&mut d, n);
        let (value, g) = rosenbrock_grad(&x);
        assert_eq!(value, rosenbrock(&x));
        let closed = rosenbrock_closed_form(&x);
        assert!((value - closed).abs() <= 1e-12 * closed.abs().max(1.0));
        let by_hand = rosenbrock_gradient(&x);
        assert!((&g.x - &by_hand).amax() <= 1e-10 * by_hand.amax().max(1.0));
        check("rosenbrock", &d.theta, g.x.as_slice(), |r| {
            rosenbrock(&DVector::from_column_slice(r.matrix(n, 1).as_slice()))
        });
    }
    // The minimum, at all ones: value and gradient zero.
    let ones = DVector::from_element(5, 1.0);
    let (value, g) = rosenbrock_grad(&ones);
    assert_eq!(value, 0.0);
    assert_eq!(g.x, DVector::zeros(5));
}

/// In f32, written for f32: the same value as the f64 function, to f32 precision.
#[differentiate]
fn rosenbrock32(x: &DVector<f32>) -> f32 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

#[test]
fn rosenbrock_in_f32() {
    let mut d = Draw::new(3);
    let x = vector(&mut d, 6);
    let x32 = x.cast::<f32>();
    let (value, g) = rosenbrock32_grad(&x32);
    assert_eq!(value, rosenbrock32(&x32));
    let (v64, g64) = rosenbrock_grad(&x32.cast::<f64>());
    assert!((f64::from(value) - v64).abs() <= 1e-5 * v64.abs());
    let err = (g.x.cast::<f64>() - &g64.x).amax() / g64.x.amax();
    assert!(err <= 1e-5, "f32 gradient differs from f64 by {err:e}");
}

// ------------------------------------------------------------------ elements of a matrix

/// Every element of `m` in turn, weighted by its position: `Σᵢⱼ (1 + i + 2j) mᵢⱼ²`.
#[differentiate]
fn every_element(m: &DMatrix<f64>) -> f64 {
    let mut s = 0.0;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            let w = (1 + i + 2 * j) as f64;
            s += w * m[(i, j)] * m[(i, j)];
        }
    }
    s
}

/// The plain sum of every element by a loop, against `m.sum()`.
#[differentiate]
fn sum_by_elements(m: &DMatrix<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            s += m[(i, j)];
        }
    }
    s
}

#[differentiate]
fn sum_whole(m: &DMatrix<f64>) -> f64 {
    m.sum()
}

#[test]
fn elements_of_a_matrix() {
    for seed in 0..4 {
        let mut d = Draw::new(seed);
        let m = d.matrix(3, 4);
        let (value, g) = every_element_grad(&m);
        assert_eq!(value, every_element(&m));
        check("every_element", &d.theta, g.m.as_slice(), |r| {
            every_element(&r.matrix(3, 4))
        });

        let (value, g) = sum_by_elements_grad(&m);
        let (whole, g_whole) = sum_whole_grad(&m);
        assert!((value - whole).abs() <= 1e-12);
        assert_eq!(g.m, g_whole.m);
        assert_eq!(g.m, DMatrix::from_element(3, 4, 1.0));
    }
}

/// Elements of a static matrix and of a static vector, by literal indices and `(i, j)`
/// tuples bound to a name.
#[differentiate]
fn static_elements(m: &SMatrix<f64, 2, 3>, v: &SVector<f64, 3>) -> f64 {
    let ij = (1, 2);
    let a = m[(0, 1)] * v[2] + m[ij] * m[ij];
    let b = (m[(1, 0)] - v[0]).tanh() * m[4];
    a + b * v[1]
}

#[test]
fn static_elements_gradient() {
    for seed in 0..4 {
        let mut d = Draw::new(seed);
        let m = SMatrix::<f64, 2, 3>::from_column_slice(d.matrix(2, 3).as_slice());
        let v = SVector::<f64, 3>::from_column_slice(d.matrix(3, 1).as_slice());
        let (value, g) = static_elements_grad(&m, &v);
        assert_eq!(value, static_elements(&m, &v));
        check(
            "static_elements",
            &d.theta,
            &flat(&[g.m.as_slice(), g.v.as_slice()]),
            |r| {
                let m = SMatrix::<f64, 2, 3>::from_column_slice(r.matrix(2, 3).as_slice());
                let v = SVector::<f64, 3>::from_column_slice(r.matrix(3, 1).as_slice());
                static_elements(&m, &v)
            },
        );
    }
}

/// Elements of a row vector and of values computed in the function.
#[differentiate]
fn elements_of_computed_values(r: &RowDVector<f64>, m: &DMatrix<f64>) -> f64 {
    let p = r * m;
    let e = m.map(|v| v.exp());
    p[0] * r[1] + e[(1, 1)] - (&p * 2.0)[p.len() - 1]
}

#[test]
fn elements_of_computed_values_gradient() {
    for seed in 0..4 {
        let mut d = Draw::new(seed);
        let r = d.row(3);
        let m = d.matrix(3, 4);
        let (value, g) = elements_of_computed_values_grad(&r, &m);
        assert_eq!(value, elements_of_computed_values(&r, &m));
        check(
            "elements_of_computed_values",
            &d.theta,
            &flat(&[g.r.as_slice(), g.m.as_slice()]),
            |rd| elements_of_computed_values(&rd.row(3), &rd.matrix(3, 4)),
        );
    }
}

// --------------------------------------------------------------------------- views

/// Rows and columns as operands, arguments and receivers.
#[differentiate]
fn rows_and_columns(m: &DMatrix<f64>, w: &DVector<f64>, v: &DVector<f64>) -> f64 {
    let a = m.row(0) * w;
    let b = m.column(1).dot(v);
    let c = (m.row(0) - m.row(2)).norm_squared();
    let d = m.row(1).sum() * m.column(3).map(|x| x.tanh()).sum();
    let e = m.column(2).transpose() * m.column(0);
    a[0] + b + c + d + e[(0, 0)] + m.row(2).into_owned().mean() + m.column(0).clone_owned()[1]
}

#[test]
fn rows_and_columns_gradient() {
    for seed in 0..4 {
        let mut d = Draw::new(seed);
        let m = d.matrix(3, 4);
        let w = vector(&mut d, 4);
        let v = vector(&mut d, 3);
        let (value, g) = rows_and_columns_grad(&m, &w, &v);
        assert_eq!(value, rows_and_columns(&m, &w, &v));
        check(
            "rows_and_columns",
            &d.theta,
            &flat(&[g.m.as_slice(), g.w.as_slice(), g.v.as_slice()]),
            |r| {
                let m = r.matrix(3, 4);
                let w = DVector::from_column_slice(r.matrix(4, 1).as_slice());
                let v = DVector::from_column_slice(r.matrix(3, 1).as_slice());
                rows_and_columns(&m, &w, &v)
            },
        );
    }
}

/// Blocks of rows and columns, a view, and a part of a vector.
#[differentiate]
fn blocks(m: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    let top = m.rows(0, 2);
    let right = m.columns(2, 2);
    let corner = m.view((1, 1), (2, 3));
    let head = v.rows(1, 3);
    (right * top).sum() + corner.norm_squared() * head.dot(&m.column(0)) + head[2]
}

#[test]
fn blocks_gradient() {
    for seed in 0..4 {
        let mut d = Draw::new(seed);
        let m = d.matrix(3, 4);
        let v = vector(&mut d, 5);
        let (value, g) = blocks_grad(&m, &v);
        assert_eq!(value, blocks(&m, &v));
        check(
            "blocks",
            &d.theta,
            &flat(&[g.m.as_slice(), g.v.as_slice()]),
            |r| {
                let m = r.matrix(3, 4);
                let v = DVector::from_column_slice(r.matrix(5, 1).as_slice());
                blocks(&m, &v)
            },
        );
    }
}

/// Views of static matrices: a static row and column, and dynamic blocks of them.
#[differentiate]
fn static_views(m: &SMatrix<f64, 3, 3>, v: &SVector<f64, 3>) -> f64 {
    let r = m.row(1);
    let c = m.column(2);
    let block = m.view((0, 1), (2, 2));
    (r * v)[0] * c.dot(v) + block.sum() * m.rows(1, 2).norm() + v.rows(0, 2).sum()
}

#[test]
fn static_views_gradient() {
    for seed in 0..4 {
        let mut d = Draw::new(seed);
        let m = SMatrix::<f64, 3, 3>::from_column_slice(d.matrix(3, 3).as_slice());
        let v = SVector::<f64, 3>::from_column_slice(d.matrix(3, 1).as_slice());
        let (value, g) = static_views_grad(&m, &v);
        assert_eq!(value, static_views(&m, &v));
        check(
            "static_views",
            &d.theta,
            &flat(&[g.m.as_slice(), g.v.as_slice()]),
            |r| {
                let m = SMatrix::<f64, 3, 3>::from_column_slice(r.matrix(3, 3).as_slice());
                let v = SVector::<f64, 3>::from_column_slice(r.matrix(3, 1).as_slice());
                static_views(&m, &v)
            },
        );
    }
}

/// The views of `rows_and_columns` and `blocks` in f32.
#[differentiate]
fn views32(m: &DMatrix<f32>, w: &DVector<f32>) -> f32 {
    let a = m.row(0) * w;
    let c = (m.row(0) - m.row(2)).norm_squared();
    let block = m.view((1, 1), (2, 3));
    a[0] + c + block.sum() * m.column(1).dot(&w.rows(0, 3)) + m.columns(2, 2).norm()
}

#[differentiate]
fn views64(m: &DMatrix<f64>, w: &DVector<f64>) -> f64 {
    let a = m.row(0) * w;
    let c = (m.row(0) - m.row(2)).norm_squared();
    let block = m.view((1, 1), (2, 3));
    a[0] + c + block.sum() * m.column(1).dot(&w.rows(0, 3)) + m.columns(2, 2).norm()
}

#[test]
fn views_in_f32() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let m = d.matrix(3, 4);
        let w = vector(&mut d, 4);
        let (m32, w32) = (m.clone().cast::<f32>(), w.clone().cast::<f32>());
        let (value, g) = views32_grad(&m32, &w32);
        assert_eq!(value, views32(&m32, &w32));
        let (v64, g64) = views64_grad(&m32.cast::<f64>(), &w32.cast::<f64>());
        assert!((f64::from(value) - v64).abs() <= 1e-5 * v64.abs().max(1.0));
        let err = (g.m.cast::<f64>() - &g64.m)
            .amax()
            .max((g.w.cast::<f64>() - &g64.w).amax());
        assert!(
            err <= 1e-5 * g64.m.amax().max(g64.w.amax()),
            "f32 differs from f64 by {err:e}"
        );
        let (_, g_at_m) = views64_grad(&m, &w);
        check(
            "views64",
            &d.theta,
            &flat(&[g_at_m.m.as_slice(), g_at_m.w.as_slice()]),
            |r| {
                let m = r.matrix(3, 4);
                let w = DVector::from_column_slice(r.matrix(4, 1).as_slice());
                views64(&m, &w)
            },
        );
    }
}

// ------------------------------------------------------------------------ in loops

/// Rows of a matrix in turn, against each other: `Σᵢ<ₖ exp(−‖mᵢ − mₖ‖²)`.
#[differentiate]
fn pairwise(m: &DMatrix<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..m.nrows() {
        for k in (i + 1)..m.nrows() {
            s += (-(m.row(i) - m.row(k)).norm_squared()).exp();
        }
    }
    s
}

/// Parts of a matrix carried from one iteration to the next, read as it changes.
#[differentiate]
fn carried_parts(a: &DMatrix<f64>, h0: &DMatrix<f64>) -> f64 {
    let mut h = h0.clone();
    let mut s = 0.0;
    for t in 0..3 {
        s += h[(t, 0)] * h.column(1).sum() + h.row(t).norm_squared();
        h = (a * &h).map(|v| v.tanh());
    }
    s + h[(0, 1)]
}

#[test]
fn parts_in_loops() {
    for seed in 0..4 {
        let mut d = Draw::new(seed);
        let m = d.matrix(4, 3);
        let (value, g) = pairwise_grad(&m);
        assert_eq!(value, pairwise(&m));
        check("pairwise", &d.theta, g.m.as_slice(), |r| {
            pairwise(&r.matrix(4, 3))
        });

        let mut d = Draw::new(seed + 10);
        let a = d.matrix(3, 3);
        let h0 = d.matrix(3, 2);
        let (value, g) = carried_parts_grad(&a, &h0);
        assert_eq!(value, carried_parts(&a, &h0));
        check(
            "carried_parts",
            &d.theta,
            &flat(&[g.a.as_slice(), g.h0.as_slice()]),
            |r| carried_parts(&r.matrix(3, 3), &r.matrix(3, 2)),
        );
    }
}

// -------------------------------------------------------------------- constant parts

/// Parts of constants stay constants: `labels[i]`, an element of a constant matrix.
#[differentiate(wrt(x))]
fn constant_parts(x: &DVector<f64>, labels: &[usize], c: &DMatrix<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[labels[i]] * c[(i, 0)] + c.row(i).sum() * x[i];
    }
    s
}

#[test]
fn constant_parts_gradient() {
    let labels = [2, 0, 1, 2];
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let x = vector(&mut d, 4);
        let c = Draw::new(seed + 100).matrix(4, 2);
        let (value, g) = constant_parts_grad(&x, &labels, &c);
        assert_eq!(value, constant_parts(&x, &labels, &c));
        check("constant_parts", &d.theta, g.x.as_slice(), |r| {
            let x = DVector::from_column_slice(r.matrix(4, 1).as_slice());
            constant_parts(&x, &labels, &c)
        });
    }
}

// ------------------------------------------------------------------------ out of range

#[differentiate]
fn element_at(x: &DVector<f64>, i: usize) -> f64 {
    x[i] * 2.0
}

#[differentiate]
fn row_at(m: &DMatrix<f64>, i: usize) -> f64 {
    m.row(i).sum()
}

#[test]
fn in_range_reads() {
    let x = DVector::from_column_slice(&[1.0, 2.0, 3.0]);
    let (value, g) = element_at_grad(&x, 2);
    assert_eq!(value, 6.0);
    assert_eq!(g.x, DVector::from_column_slice(&[0.0, 0.0, 2.0]));
    let m = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    let (value, g) = row_at_grad(&m, 1);
    assert_eq!(value, 7.0);
    assert_eq!(g.m, DMatrix::from_row_slice(2, 2, &[0.0, 0.0, 1.0, 1.0]));
}

#[test]
#[should_panic(expected = "Matrix index out of bounds")]
fn an_element_out_of_range_panics_as_nalgebra() {
    let _ = element_at_grad(&DVector::from_column_slice(&[1.0, 2.0, 3.0]), 3);
}

#[test]
#[should_panic(expected = "Matrix slicing out of bounds")]
fn a_row_out_of_range_panics_as_nalgebra() {
    let _ = row_at_grad(&DMatrix::zeros(2, 2), 2);
}

// --------------------------------------------------------------------------- cost

/// `Σᵢ xᵢ²` element by element.
#[differentiate]
fn squares_by_elements(x: &DVector<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
    }
    s
}

/// The same of a vector computed before the loop, and a row of a matrix per iteration.
#[differentiate]
fn squares_of_computed(x: &DVector<f64>, m: &DMatrix<f64>) -> f64 {
    let y = x * 3.0;
    let mut s = 0.0;
    for i in 0..y.len() {
        s += y[i] * y[i] + m.row(i % m.nrows()).sum();
    }
    s
}

/// How many buffers the pool hands out for `f`.
fn buffers_taken(f: impl FnOnce()) -> u64 {
    let before = buffers::stats();
    f();
    let after = buffers::stats();
    (after.reused + after.allocated) - (before.reused + before.allocated)
}

/// A loop reading `n` elements creates one adjoint for the whole vector, not a dense zero
/// matrix per read: the buffers taken from the pool do not grow with `n`.
#[test]
fn reading_n_elements_takes_as_many_buffers_whatever_n() {
    let squares = |n: usize| {
        let x = DVector::from_fn(n, |i, _| i as f64 * 0.5 - 1.0);
        buffers_taken(|| {
            let (_, g) = squares_by_elements_grad(&x);
            assert_eq!(g.x, &x * 2.0);
        })
    };
    let few = squares(4);
    assert_eq!(squares(1000), few);
    // The adjoint of `x`, and nothing else.
    assert_eq!(few, 1);

    // A computed vector: its value, its adjoint and the adjoint of `x`, and the one adjoint
    // of `m`; and per iteration, the row of `m` it reads (a `RowDVector` from the pool) and
    // that row's adjoint, which its pullback adds into the adjoint of `m`.
    let computed = |n: usize| {
        let x = DVector::from_fn(n, |i, _| i as f64 * 0.25 - 0.5);
        let m = DMatrix::from_fn(3, 2, |i, j| (i + 2 * j) as f64);
        buffers_taken(|| {
            let (_, g) = squares_of_computed_grad(&x, &m);
            assert_eq!(g.x, &x * 18.0);
        }) - 2 * n as u64
    };
    let few = computed(4);
    assert_eq!(computed(1000), few);
    assert!(few <= 4, "{few} buffers besides those of the rows");
}

// ------------------------------------------------------------- other places of a part

/// Parts in a branch, in a `while` loop, of a value passed by value, captured by a `map`
/// closure, and passed to another differentiated function.
#[differentiate]
fn weighted_row(r: &RowDVector<f64>, w: &DVector<f64>) -> f64 {
    (r * w)[0]
}

#[differentiate]
fn elsewhere(m: &DMatrix<f64>, v: SVector<f64, 3>, w: &DVector<f64>) -> f64 {
    let first = if v[0] > 0.0 {
        m[(0, 0)] * v[1]
    } else {
        m.row(1).sum()
    };
    let mut k = 0;
    let mut s = first;
    while k < 3 {
        s += v[k] * m[(1, k)];
        k += 1;
    }
    // A `map` closure captures scalars: the element is read outside it.
    let w1 = w[1];
    let scaled = m.map(|x| x * w1);
    s + scaled[(1, 2)] + weighted_row(&m.row(0).into_owned(), &w.rows(0, 3).clone_owned())
}

#[test]
fn parts_elsewhere_gradient() {
    for seed in 0..6 {
        let mut d = Draw::new(seed);
        let m = d.matrix(2, 3);
        let v = SVector::<f64, 3>::from_column_slice(d.matrix(3, 1).as_slice());
        let w = vector(&mut d, 4);
        let (value, g) = elsewhere_grad(&m, v, &w);
        assert_eq!(value, elsewhere(&m, v, &w));
        check(
            "elsewhere",
            &d.theta,
            &flat(&[g.m.as_slice(), g.v.as_slice(), g.w.as_slice()]),
            |r| {
                let m = r.matrix(2, 3);
                let v = SVector::<f64, 3>::from_column_slice(r.matrix(3, 1).as_slice());
                let w = DVector::from_column_slice(r.matrix(4, 1).as_slice());
                elsewhere(&m, v, &w)
            },
        );
    }
}
