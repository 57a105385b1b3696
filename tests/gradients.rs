//! Derived gradients of functions written in the language of `#[differentiate]`, against
//! central differences in f64 and the dot-product test, at seeded random points away from
//! kinks. Each function exercises a part of the language: operators, scalar and matrix
//! methods, free functions, `map` closures, `let mut`, branches, blocks, calls.

mod common;

use autodiff::prelude::*;
use common::check::{check, flat, inner, Draw};

/// The checker itself: a wrong gradient must fail it.
#[test]
#[should_panic(expected = "relative error")]
fn check_rejects_a_wrong_gradient() {
    let mut d = Draw::new(0);
    let (a, b, c) = (d.scalar(), d.scalar(), d.scalar());
    let (_, g) = scalar_methods_grad(a, b, c);
    check("wrong", &d.theta, &[g.a, g.b * 1.001, g.c], |r| {
        scalar_methods(r.scalar(), r.scalar(), r.scalar())
    });
}

// ------------------------------------------------------------------------------ scalars

#[differentiate]
fn scalar_methods(a: f64, b: f64, c: f64) -> f64 {
    let e = a.exp() + b.abs().ln() + c.abs().sqrt();
    let t = a.sin() * b.cos() + (c * 0.3).tan() + a.tanh();
    let p = b.powi(3) + c.abs().powf(a) + a.recip();
    let m = a.max(b) * c.min(b);
    e + t * p - m / (c * c + 1.0)
}

#[test]
fn scalar_methods_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let (a, b, c) = (d.scalar(), d.scalar(), d.scalar());
        let (_, g) = scalar_methods_grad(a, b, c);
        check("scalar_methods", &d.theta, &[g.a, g.b, g.c], |r| {
            scalar_methods(r.scalar(), r.scalar(), r.scalar())
        });
    }
}

#[differentiate]
fn scalar_free_functions(x: f64, y: f64) -> f64 {
    let s = sigmoid(x) + tanh(y) + relu(x * y) + leaky_relu(x, 0.1) + elu(y, 1.5);
    s * square(x - y) + maxout(x, y)
}

#[test]
fn scalar_free_functions_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let (x, y) = (d.scalar(), d.scalar());
        let (_, g) = scalar_free_functions_grad(x, y);
        check("scalar_free_functions", &d.theta, &[g.x, g.y], |r| {
            scalar_free_functions(r.scalar(), r.scalar())
        });
    }
}

/// `let mut`, compound assignment, shadowing, nested blocks, literals on either side.
#[differentiate]
#[allow(clippy::needless_return)] // `return` is part of what is tested
fn scalar_statements(x: f64, y: f64) -> f64 {
    let mut acc = x * 2.0;
    acc += y;
    acc *= x;
    acc -= 1.5;
    acc /= y * y + 1.0;
    let x = x * x; // shadows the parameter
    let inner = {
        let t = acc * 3.0;
        t - x
    };
    return -inner + 2.0 / (1.0 + x);
}

#[test]
fn scalar_statements_gradient() {
    for seed in 0..5 {
        let mut d = Draw::new(seed);
        let (x, y) = (d.scalar(), d.scalar());
        let (_, g) = scalar_statements_grad(x, y);
        check("scalar_statements", &d.theta, &[g.x, g.y], |r| {
            scalar_statements(r.scalar(), r.scalar())
        });
    }
}

/// Branches: `if` as a value, `else if` chains, `if` without `else`, and `if` assigning a
/// `let mut` declared before it; conditions with `&&`, `||`, `!` and constants.
#[differentiate]
#[allow(clippy::assign_op_pattern, clippy::neg_cmp_op_on_partial_ord)] // the forms under test
fn branches(x: f64, y: f64, n: usize) -> f64 {
    let mut out = x * y;
    if x > 0.0 && !(y < -1.0) {
        out = out * x;
    } else if y > 0.5 || n > 10 {
        out -= y;
    } else {
        out = out + x * 3.0;
    }
    if n == 3 {
        out *= 2.0;
    }
    let bonus = if out > 0.0 { out.sqrt() } else { -out };
    out + bonus * y
}

#[test]
fn branches_gradient() {
    for seed in 0..12 {
        let mut d = Draw::new(seed);
        let (x, y) = (d.scalar(), d.scalar());
        let n = (seed % 4) as usize + if seed % 5 == 0 { 10 } else { 0 };
        let (_, g) = branches_grad(x, y, n);
        assert!(
            g == BranchesGrad { x: g.x, y: g.y },
            "the gradient has exactly the fields x and y"
        );
        check("branches", &d.theta, &[g.x, g.y], |r| {
            branches(r.scalar(), r.scalar(), n)
        });
    }
}

// ----------------------------------------------------------------------------- matrices

#[differentiate]
fn matrix_ops(a: &DMatrix<f64>, b: &DMatrix<f64>, s: f64) -> DMatrix<f64> {
    let p = a * b.transpose();
    let q = (&p * s - p.component_mul(&p) / 2.0).add_scalar(s);
    let r = -q.scale(s) + &p;
    r.component_div(&p.map(|v| v * v + 1.0))
}

#[test]
fn matrix_ops_vjp_check() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let a = d.matrix(3, 4);
        let b = d.matrix(2, 4);
        let s = d.scalar();
        let u = d.seed_matrix(3, 2);
        let (_, g) = matrix_ops_vjp(&a, &b, s, u.clone());
        check(
            "matrix_ops",
            &d.theta,
            &flat(&[g.a.as_slice(), g.b.as_slice(), &[g.s]]),
            |r| {
                let (a, b, s) = (r.matrix(3, 4), r.matrix(2, 4), r.scalar());
                inner(&u, &matrix_ops(&a, &b, s))
            },
        );
    }
}

#[differentiate]
fn reductions(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    a.sum() * b.mean() + a.norm_squared() - b.norm() + a.dot(b)
}

#[test]
fn reductions_gradient() {
    let mut d = Draw::new(1);
    let (a, b) = (d.matrix(3, 2), d.matrix(3, 2));
    let (_, g) = reductions_grad(&a, &b);
    check(
        "reductions",
        &d.theta,
        &flat(&[g.a.as_slice(), g.b.as_slice()]),
        |r| reductions(&r.matrix(3, 2), &r.matrix(3, 2)),
    );
}

#[differentiate]
fn activations(x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let a = relu(x) + sigmoid(x) + tanh(y) + square(x);
    let b = leaky_relu(y, 0.05) + elu(x, 0.7) + maxout(x, y);
    (a.component_mul(&b)).sum()
}

#[test]
fn activations_gradient() {
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let (x, y) = (d.matrix(4, 3), d.matrix(4, 3));
        let (_, g) = activations_grad(&x, &y);
        check(
            "activations",
            &d.theta,
            &flat(&[g.x.as_slice(), g.y.as_slice()]),
            |r| activations(&r.matrix(4, 3), &r.matrix(4, 3)),
        );
    }
}

#[differentiate]
fn softmax_family(m: &DMatrix<f64>, bias: &RowDVector<f64>, labels: &[usize]) -> f64 {
    let z = add_bias(m, bias);
    let p = softmax(&z);
    let l = log_softmax(&z);
    softmax_cross_entropy(&z, labels) + svm_loss(&z, labels) + p.component_mul(&l).sum()
}

#[test]
fn softmax_family_gradient() {
    let labels = [2, 0, 1, 2];
    for seed in 0..3 {
        let mut d = Draw::new(seed);
        let (m, bias) = (d.matrix(4, 3), d.row(3));
        let (_, g) = softmax_family_grad(&m, &bias, &labels);
        check(
            "softmax_family",
            &d.theta,
            &flat(&[g.m.as_slice(), g.bias.as_slice()]),
            |r| softmax_family(&r.matrix(4, 3), &r.row(3), &labels),
        );
    }
}

#[differentiate]
fn column_bias(m: DMatrix<f64>, b: DVector<f64>) -> f64 {
    add_bias(&m, &b).map(|v| v * v).sum()
}

#[test]
fn column_bias_by_value() {
    let mut d = Draw::new(3);
    let m = d.matrix(3, 2);
    let b = DVector::from_fn(3, |_, _| d.scalar());
    let (_, g) = column_bias_grad(m, b);
    check(
        "column_bias",
        &d.theta,
        &flat(&[g.m.as_slice(), g.b.as_slice()]),
        |r| {
            let m = r.matrix(3, 2);
            let b = DVector::from_column_slice(r.matrix(3, 1).as_slice());
            column_bias(m, b)
        },
    );
}

/// A `map` closure written in the language itself: branches inside it, a captured
/// differentiable scalar and a captured constant.
#[differentiate]
fn map_closures(m: &DMatrix<f64>, w: f64, k: f64) -> f64 {
    let scaled = m.map(|v| {
        let mut t = v * w;
        if t > 0.0 {
            t = t.sqrt() + k;
        } else {
            t = -t * 0.5;
        }
        t * v
    });
    let constant_input = DMatrix::from_element(2, 2, 0.5).map(|c| c * w);
    scaled.sum() + constant_input.sum()
}

#[test]
fn map_closures_gradient() {
    for seed in 0..4 {
        let mut d = Draw::new(seed);
        let m = d.matrix(2, 2);
        let (w, k) = (d.scalar(), d.scalar());
        let (_, g) = map_closures_grad(&m, w, k);
        check(
            "map_closures",
            &d.theta,
            &flat(&[g.m.as_slice(), &[g.w, g.k]]),
            |r| map_closures(&r.matrix(2, 2), r.scalar(), r.scalar()),
        );
    }
}

// -------------------------------------------------------------------- static matrices, f32

#[differentiate]
fn static_shapes(a: &SMatrix<f64, 2, 3>, x: SVector<f64, 3>) -> f64 {
    let y = a * x;
    sigmoid(&y).dot(&y) + a.transpose().sum()
}

#[test]
fn static_shapes_gradient() {
    let mut d = Draw::new(5);
    let a = SMatrix::<f64, 2, 3>::from_column_slice(d.matrix(2, 3).as_slice());
    let x = SVector::<f64, 3>::from_column_slice(d.matrix(3, 1).as_slice());
    let (_, g) = static_shapes_grad(&a, x);
    check(
        "static_shapes",
        &d.theta,
        &flat(&[g.a.as_slice(), g.x.as_slice()]),
        |r| {
            let a = SMatrix::<f64, 2, 3>::from_column_slice(r.matrix(2, 3).as_slice());
            let x = SVector::<f64, 3>::from_column_slice(r.matrix(3, 1).as_slice());
            static_shapes(&a, x)
        },
    );
}

#[differentiate]
fn single_precision(w: &DMatrix<f32>, x: &DVector<f32>, s: f32) -> f32 {
    let h = tanh(w * x);
    h.norm_squared() * s + s.exp()
}

#[test]
fn single_precision_matches_f64() {
    // The f32 gradient equals the f64 one (computed by the same function written for f64)
    // to f32 precision.
    #[differentiate]
    fn double(w: &DMatrix<f64>, x: &DVector<f64>, s: f64) -> f64 {
        let h = tanh(w * x);
        h.norm_squared() * s + s.exp()
    }
    let mut d = Draw::new(9);
    let w = d.matrix(3, 2);
    let x = DVector::from_column_slice(d.matrix(2, 1).as_slice());
    let s = d.scalar();
    let (v64, g64) = double_grad(&w, &x, s);
    let (v32, g32) =
        single_precision_grad(&w.clone().cast::<f32>(), &x.clone().cast::<f32>(), s as f32);
    assert!((v32 as f64 - v64).abs() <= 1e-5 * v64.abs().max(1.0));
    assert_eq!(
        v32,
        single_precision(&w.clone().cast::<f32>(), &x.clone().cast::<f32>(), s as f32)
    );
    let err = (g32.w.cast::<f64>() - &g64.w).amax() / g64.w.amax();
    assert!(err <= 1e-5, "f32 gradient differs from f64 by {err:e}");
    assert!(((g32.s as f64) - g64.s).abs() <= 1e-5 * g64.s.abs().max(1.0));
    check(
        "double",
        &[w.as_slice(), x.as_slice(), &[s]].concat(),
        &flat(&[g64.w.as_slice(), g64.x.as_slice(), &[g64.s]]),
        |r| {
            double(
                &r.matrix(3, 2),
                &DVector::from_column_slice(r.matrix(2, 1).as_slice()),
                r.scalar(),
            )
        },
    );
}

// --------------------------------------------------------------------------------- calls

mod layers {
    use autodiff::prelude::*;

    #[differentiate]
    pub fn affine(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
        add_bias(x * w, b)
    }

    #[differentiate]
    pub fn squash(m: DMatrix<f64>) -> DMatrix<f64> {
        tanh(&m) * 2.0
    }

    pub mod deeper {
        use autodiff::prelude::*;

        #[differentiate]
        pub fn energy(m: &DMatrix<f64>, scale: f64) -> f64 {
            m.norm_squared() * scale
        }
    }
}

use layers::deeper::*;
use layers::squash;

/// Calls through every kind of path: `m::f`, a `use` of the function, a glob import, with
/// arguments by reference, by value, constants and intermediates.
#[differentiate]
fn composed(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    s: f64,
) -> f64 {
    let h = layers::affine(x, w1, b1);
    let a = squash(h);
    let out = layers::affine(&a, w2, &RowDVector::from_element(2, 0.1));
    energy(&out, s) + energy(&a, 0.5)
}

#[test]
fn composed_gradient() {
    let mut d = Draw::new(11);
    let x = DMatrix::from_fn(4, 3, |i, j| (i as f64 - j as f64) * 0.3);
    let (w1, b1, w2, s) = (d.matrix(3, 5), d.row(5), d.matrix(5, 2), d.scalar());
    let (_, g) = composed_grad(&x, &w1, &b1, &w2, s);
    check(
        "composed",
        &d.theta,
        &flat(&[g.w1.as_slice(), g.b1.as_slice(), g.w2.as_slice(), &[g.s]]),
        |r| composed(&x, &r.matrix(3, 5), &r.row(5), &r.matrix(5, 2), r.scalar()),
    );
}

/// A value handed to a call (`h`, read last there) whose result the branch taken may not
/// use: then the call's reverse sweep does not run, and `h` goes back to the pool all the
/// same; the gradients are those of the branch taken.
#[differentiate]
fn call_maybe_unused(x: &DMatrix<f64>, w: &DMatrix<f64>, s: f64) -> f64 {
    let h = x * w;
    let e = energy(&h, 2.0);
    if s > 0.0 {
        e * s
    } else {
        s * 3.0
    }
}

#[test]
fn call_maybe_unused_gradient() {
    let x = DMatrix::from_fn(3, 4, |i, j| (i as f64 + 1.0) * 0.4 - j as f64 * 0.3);
    for s in [0.8, -0.8] {
        let mut d = Draw::new(12);
        let w = d.matrix(4, 2);
        d.theta.push(s);
        let (_, g) = call_maybe_unused_grad(&x, &w, s);
        check(
            "call_maybe_unused",
            &d.theta,
            &flat(&[g.w.as_slice(), &[g.s]]),
            |r| call_maybe_unused(&x, &r.matrix(4, 2), r.scalar()),
        );
        if s < 0.0 {
            assert!(g.w.iter().all(|v| *v == 0.0) && g.s == 3.0);
        }
    }
}

/// A static matrix handed to a call (given, as the last read of `m`): it has no pool, so
/// giving it back drops it.
#[differentiate]
fn static_scaled(m: &SMatrix<f64, 3, 2>, s: f64) -> f64 {
    (m * s).norm_squared()
}

#[differentiate]
fn static_through_a_call(a: &SMatrix<f64, 3, 2>, s: f64) -> f64 {
    let m = a.map(|v| v.tanh());
    static_scaled(&m, s) + s
}

#[test]
fn static_through_a_call_gradient() {
    let mut d = Draw::new(13);
    let a = SMatrix::<f64, 3, 2>::from_column_slice(d.matrix(3, 2).as_slice());
    let s = d.scalar();
    let (_, g) = static_through_a_call_grad(&a, s);
    check(
        "static_through_a_call",
        &d.theta,
        &flat(&[g.a.as_slice(), &[g.s]]),
        |r| {
            let a = SMatrix::<f64, 3, 2>::from_column_slice(r.matrix(3, 2).as_slice());
            static_through_a_call(&a, r.scalar())
        },
    );
}

/// A `map` whose result the gradient does not depend on (used only in a condition) is
/// computed as written, not differentiated.
#[differentiate]
fn inactive_map(m: &DMatrix<f64>, s: f64) -> f64 {
    let positive = m.map(|v| v * s).sum();
    if positive > 0.0 {
        s * 2.0
    } else {
        s * 3.0
    }
}

#[test]
fn inactive_map_gradient() {
    let m = DMatrix::from_element(2, 2, 1.0);
    assert_eq!(
        inactive_map_grad(&m, 1.5).1,
        InactiveMapGrad {
            m: DMatrix::zeros(2, 2),
            s: 2.0
        }
    );
    assert_eq!(
        inactive_map_grad(&m, -1.5).1,
        InactiveMapGrad {
            m: DMatrix::zeros(2, 2),
            s: 3.0
        }
    );
}

/// The `mod f; pub use f::*;` layout: the path `shapes::dense` names the module `dense` in
/// the type namespace, and the call still reaches what the macro generated for the function.
mod shapes {
    pub mod dense {
        use autodiff::prelude::*;

        #[differentiate]
        pub fn dense(x: f64, w: f64) -> f64 {
            (x * w).tanh()
        }
    }
    pub use dense::*;
}

#[differentiate]
fn through_a_same_named_module(x: f64, w: f64) -> f64 {
    shapes::dense(x, w) * x
}

#[test]
fn calls_reach_a_function_re_exported_from_its_own_module() {
    let mut d = Draw::new(21);
    let (x, w) = (d.scalar(), d.scalar());
    let (_, g) = through_a_same_named_module_grad(x, w);
    check("same_named_module", &d.theta, &[g.x, g.w], |r| {
        through_a_same_named_module(r.scalar(), r.scalar())
    });
}

/// Names that the short generated names could take (`d_x`, `op_y`, `want_w`, and `mul1`, the
/// name a product's temporary would get): every generated name of the function carries the
/// prefix `__ad_` instead, and the gradient is that of the code as written.
#[differentiate]
fn names_like_generated_ones(x: f64, d_x: f64, w: &DMatrix<f64>) -> f64 {
    let mul1 = x * d_x;
    let op_y = (w * mul1).map(|v| v.sin()).sum();
    let want_w = op_y * x;
    want_w * d_x
}

#[test]
fn names_like_generated_ones_gradient() {
    let mut d = Draw::new(22);
    let (x, d_x, w) = (d.scalar(), d.scalar(), d.matrix(2, 3));
    let (_, g) = names_like_generated_ones_grad(x, d_x, &w);
    let mut derived = vec![g.x, g.d_x];
    derived.extend(g.w.iter());
    check("names_like_generated_ones", &d.theta, &derived, |r| {
        names_like_generated_ones(r.scalar(), r.scalar(), &r.matrix(2, 3))
    });
}

/// Raw identifiers: `r#x` and `x` are one variable, and a keyword stays a raw name.
#[differentiate]
fn raw_identifiers(r#x: f64, y: f64) -> f64 {
    let r#type = x * 2.0;
    r#type * y + r#x
}

#[test]
fn raw_identifiers_gradient() {
    let (v, g) = raw_identifiers_grad(3.0, 5.0);
    assert_eq!(v, 33.0);
    assert_eq!((g.x, g.y), (11.0, 6.0));
}
