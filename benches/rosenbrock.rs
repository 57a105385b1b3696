//! The n-dimensional Rosenbrock function as a loop over `x[i]` (`examples/08_rosenbrock.rs`):
//! value and gradient per call at n = 1,000, 10,000 and 100,000, generated (`rosenbrock_grad`)
//! and by the closed form written by hand, to show that the loop's gradient costs O(n) time
//! (criterion reports elements per second: equal across n for linear cost). Its memory is
//! measured in `tests/loop_tape.rs`. See BENCHMARKS.md, "Loops".
//!
//! `cargo bench --bench rosenbrock`

use autodiff::prelude::*;
use criterion::{BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

/// Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², as the example writes it.
#[differentiate]
fn rosenbrock(x: &DVector<f64>) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        f += 100.0 * a * a + b * b;
    }
    f
}

/// The value and the gradient by hand, in one pass.
fn by_hand(x: &DVector<f64>) -> (f64, DVector<f64>) {
    let n = x.len();
    let mut g = DVector::zeros(n);
    let mut f = 0.0;
    for i in 0..n - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        f += 100.0 * a * a + b * b;
        g[i] += -400.0 * x[i] * a - 2.0 * b;
        g[i + 1] += 200.0 * a;
    }
    (f, g)
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("rosenbrock");
    for n in [1_000, 10_000, 100_000] {
        let x = DVector::from_fn(
            n,
            |i, _| if i % 2 == 0 { -1.2 } else { 1.0 } + 1e-3 * (i % 7) as f64,
        );
        let (value, g) = rosenbrock_grad(&x);
        let (hand_value, hand_g) = by_hand(&x);
        assert!((value - hand_value).abs() <= 1e-12 * hand_value.abs());
        assert!((&g.x - &hand_g).amax() <= 1e-12 * hand_g.amax());
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("generated", n), &x, |b, x| {
            b.iter(|| black_box(rosenbrock_grad(black_box(x))))
        });
        group.bench_with_input(BenchmarkId::new("hand", n), &x, |b, x| {
            b.iter(|| black_box(by_hand(black_box(x))))
        });
    }
    group.finish();
    c.final_summary();
}
