//! GFLOP/s of `autodiff::linalg::gemm_into`, the product behind every derivative rule, in f64
//! and f32, on one thread and on all: a large square product and the products of one
//! training step of the two-layer net (W2), the spiral net (W3) and the 784 → 512 → 512 → 10
//! net (W4), forward and backward (the backward ones read an operand transposed).
//!
//! Run with `cargo run --release --example products`; the numbers on the reference machine
//! are in BENCHMARKS.md ("Matrix products").

use autodiff::linalg::{gemm_into, max_threads, set_max_threads, Op};
use autodiff::nalgebra::DMatrix;
use autodiff::runtime::Real;
use std::time::{Duration, Instant};

/// One product: `(m × k) · (k × n)` with the operands' layouts.
struct Shape {
    name: &'static str,
    m: usize,
    k: usize,
    n: usize,
    op_a: Op,
    op_b: Op,
}

const fn shape(name: &'static str, m: usize, k: usize, n: usize, op_a: Op, op_b: Op) -> Shape {
    Shape {
        name,
        m,
        k,
        n,
        op_a,
        op_b,
    }
}

use Op::{Plain as N, Transposed as T};

const SHAPES: &[Shape] = &[
    shape("square", 1024, 1024, 1024, N, N),
    // Around the size from which a product runs on more than one thread.
    shape("square 96", 96, 96, 96, N, N),
    shape("square 128", 128, 128, 128, N, N),
    shape("square 160", 160, 160, 160, N, N),
    shape("square 200", 200, 200, 200, N, N),
    shape("square 256", 256, 256, 256, N, N),
    // W2: x (64×1000), w1 (1000×100), w2 (100×10).
    shape("W2 x·w1", 64, 1000, 100, N, N),
    shape("W2 h·w2", 64, 100, 10, N, N),
    shape("W2 hᵀ·dy", 100, 64, 10, T, N),
    shape("W2 dy·w2ᵀ", 64, 10, 100, N, T),
    shape("W2 xᵀ·dh", 1000, 64, 100, T, N),
    // W3, the spiral: X (300×2), W1 (2×100), W2 (100×3).
    shape("W3 X·W1", 300, 2, 100, N, N),
    shape("W3 H·W2", 300, 100, 3, N, N),
    shape("W3 Hᵀ·dS", 100, 300, 3, T, N),
    shape("W3 dS·W2ᵀ", 300, 3, 100, N, T),
    shape("W3 Xᵀ·dH", 2, 300, 100, T, N),
    // W4: a batch of 256 through 784 → 512 → 512 → 10.
    shape("W4 x·W1", 256, 784, 512, N, N),
    shape("W4 h1·W2", 256, 512, 512, N, N),
    shape("W4 h2·W3", 256, 512, 10, N, N),
    shape("W4 h2ᵀ·d3", 512, 256, 10, T, N),
    shape("W4 d3·W3ᵀ", 256, 10, 512, N, T),
    shape("W4 h1ᵀ·d2", 512, 256, 512, T, N),
    shape("W4 d2·W2ᵀ", 256, 512, 512, N, T),
    shape("W4 xᵀ·d1", 784, 256, 512, T, N),
];

/// The stored matrix that reads as `rows × cols` through `op`.
fn operand<F: Real>(rows: usize, cols: usize, op: Op) -> DMatrix<F> {
    let (r, c) = match op {
        Op::Plain => (rows, cols),
        Op::Transposed => (cols, rows),
    };
    DMatrix::from_fn(r, c, |i, j| {
        F::from_count((i * 7 + j * 3) % 11) / F::from_count(11)
    })
}

/// GFLOP/s of `out = a·b` for `s`: the best of five batches of about 40 ms each.
fn gflops<F: Real>(s: &Shape) -> f64 {
    let (a, b) = (
        operand::<F>(s.m, s.k, s.op_a),
        operand::<F>(s.k, s.n, s.op_b),
    );
    let mut out = DMatrix::<F>::zeros(s.m, s.n);
    let mut run = || gemm_into(&mut out, F::one(), &a, s.op_a, &b, s.op_b, F::zero());
    run();
    let start = Instant::now();
    run();
    let once = start.elapsed().max(Duration::from_nanos(100));
    let reps = (Duration::from_millis(40).as_secs_f64() / once.as_secs_f64()).ceil() as usize;
    let best = (0..5)
        .map(|_| {
            let start = Instant::now();
            (0..reps).for_each(|_| run());
            start.elapsed().as_secs_f64() / reps as f64
        })
        .fold(f64::INFINITY, f64::min);
    2.0 * (s.m * s.k * s.n) as f64 / best / 1e9
}

/// GFLOP/s of `s` on one thread and on all.
fn both<F: Real>(s: &Shape) -> (f64, f64) {
    set_max_threads(1);
    let one = gflops::<F>(s);
    set_max_threads(0);
    (one, gflops::<F>(s))
}

fn main() {
    println!(
        "GFLOP/s of gemm_into, one thread and {} threads",
        max_threads()
    );
    println!(
        "| product | m×k·k×n | f64, 1 thread | f64, all | f32, 1 thread | f32, all |\n| --- | --- | --- | --- | --- | --- |"
    );
    for s in SHAPES {
        let (d1, dn) = both::<f64>(s);
        let (s1, sn) = both::<f32>(s);
        println!(
            "| {} | {}×{}·{}×{} | {d1:.1} | {dn:.1} | {s1:.1} | {sn:.1} |",
            s.name, s.m, s.k, s.k, s.n
        );
    }
}
