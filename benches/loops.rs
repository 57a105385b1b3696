//! A loop inside `#[differentiate]` against the same body unrolled by hand, measured in one
//! run and reported as ratios loop ÷ unrolled (value and gradient per call; see
//! BENCHMARKS.md, "Loops"):
//!
//! - a scalar recurrence, `s = (s·a + xᵢ).tanh()`, for k = 10 and k = 1000 steps;
//! - an RNN step on a batch, `h = tanh(h·Wh + xₜ·Wx)` with h 32×64, Wh 64×64, xₜ 32×16 and
//!   Wx 16×64, for k = 10 and k = 100 steps, and the loop of k = 1000 steps against 100
//!   unrolled steps, per step (1000 unrolled steps take too long to compile).
//!
//! The unrolled functions are straight-line code: [`unrolled!`] writes the step k times
//! into the body of a `#[differentiate]` function, before the macro sees it.
//!
//! `cargo bench --bench loops` runs them and prints the ratio table at the end. `cargo test`
//! does not build this file (`test = false` in Cargo.toml): unoptimised, rustc overflows its
//! stack on the 1000-step unrolled function.

use autodiff::prelude::*;
use criterion::Criterion;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::hint::black_box;
use std::time::Instant;

/// `HEAD { INIT STEP…STEP TAIL }` with `STEP` written k times, k given by its binary digits,
/// most significant first (`1 0 1 0` is 10): each digit doubles what is written so far, and
/// a `1` adds one more step. The step's tokens come from the caller, so its names are the
/// function's.
macro_rules! unrolled {
    ([$($head:tt)*] [$($init:tt)*] [$($step:tt)*] [$($tail:tt)*] $($bits:tt)*) => {
        unrolled!(@double [$($head)*] [$($init)*] [$($step)*] [$($tail)*] [] $($bits)*);
    };
    (@double [$($head:tt)*] [$($init:tt)*] [$($step:tt)*] [$($tail:tt)*] [$($acc:tt)*]
        1 $($bits:tt)*) => {
        unrolled!(@double [$($head)*] [$($init)*] [$($step)*] [$($tail)*]
            [$($acc)* $($acc)* $($step)*] $($bits)*);
    };
    (@double [$($head:tt)*] [$($init:tt)*] [$($step:tt)*] [$($tail:tt)*] [$($acc:tt)*]
        0 $($bits:tt)*) => {
        unrolled!(@double [$($head)*] [$($init)*] [$($step)*] [$($tail)*]
            [$($acc)* $($acc)*] $($bits)*);
    };
    (@double [$($head:tt)*] [$($init:tt)*] [$($step:tt)*] [$($tail:tt)*] [$($acc:tt)*]) => {
        $($head)* { $($init)* $($acc)* $($tail)* }
    };
}

/// The scalar recurrence as a loop: one step per element of `xs`.
#[differentiate(wrt(a, s0))]
fn scalar_loop(a: f64, s0: f64, xs: &[f64]) -> f64 {
    let mut s = s0;
    for x in xs.iter() {
        s = (s * a + x).tanh();
    }
    s
}

/// The scalar recurrence unrolled: `xs[i]` with `i` a constant counted up after each step.
macro_rules! scalar_unrolled {
    ($name:ident, $($bits:tt)*) => {
        unrolled!(
            [#[differentiate(wrt(a, s0))]
             #[allow(unused_variables)]
             fn $name(a: f64, s0: f64, xs: &[f64]) -> f64]
            [let mut s = s0; let i = 0;]
            [s = (s * a + xs[i]).tanh(); let i = i + 1;]
            [s]
            $($bits)*
        );
    };
}
scalar_unrolled!(scalar_unrolled_10, 1 0 1 0);
scalar_unrolled!(scalar_unrolled_1000, 1 1 1 1 1 0 1 0 0 0);

/// The RNN as a loop over the inputs (each input is copied into the tape: the reverse sweep
/// reads it for the gradient of `wx`).
#[differentiate(wrt(wh, wx, h0))]
fn rnn_loop(xs: &[DMatrix<f64>], wh: &DMatrix<f64>, wx: &DMatrix<f64>, h0: &DMatrix<f64>) -> f64 {
    let mut h = h0.clone();
    for x in xs.iter() {
        h = tanh(&h * wh + x * wx);
    }
    h.norm_squared()
}

/// The RNN unrolled: each input copied (`xs[i].clone()`), as the loop's tape copies it.
macro_rules! rnn_unrolled {
    ($name:ident, $($bits:tt)*) => {
        unrolled!(
            [#[differentiate(wrt(wh, wx, h0))]
             #[allow(unused_variables)]
             fn $name(xs: &[DMatrix<f64>], wh: &DMatrix<f64>, wx: &DMatrix<f64>,
                      h0: &DMatrix<f64>) -> f64]
            [let mut h = h0.clone(); let i = 0;]
            [let x = xs[i].clone(); h = tanh(&h * wh + &x * wx); let i = i + 1;]
            [h.norm_squared()]
            $($bits)*
        );
    };
}
rnn_unrolled!(rnn_unrolled_10, 1 0 1 0);
// 1000 steps unrolled did not compile in reasonable time (see BENCHMARKS.md, "Loops"): 100
// steps stand in for them, compared per step.
rnn_unrolled!(rnn_unrolled_100, 1 1 0 0 1 0 0);

const BATCH: usize = 32;
const HIDDEN: usize = 64;
const INPUT: usize = 16;

fn randn(rng: &mut ChaCha8Rng, rows: usize, cols: usize, scale: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| {
        scale * rng.sample::<f64, _>(StandardNormal)
    })
}

/// The inputs of the scalar recurrence: a, s0 and k values of x.
fn scalar_inputs(k: usize) -> (f64, f64, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(k as u64);
    let xs = (0..k).map(|_| rng.random_range(-1.0..1.0)).collect();
    (0.9, 0.1, xs)
}

/// The inputs of the RNN: k inputs, Wh scaled so that the state neither dies out nor
/// saturates over many steps, Wx, and h0.
struct RnnInputs {
    xs: Vec<DMatrix<f64>>,
    wh: DMatrix<f64>,
    wx: DMatrix<f64>,
    h0: DMatrix<f64>,
}

fn rnn_inputs(k: usize) -> RnnInputs {
    let mut rng = ChaCha8Rng::seed_from_u64(k as u64);
    RnnInputs {
        xs: (0..k).map(|_| randn(&mut rng, BATCH, INPUT, 1.0)).collect(),
        wh: randn(&mut rng, HIDDEN, HIDDEN, 1.0 / (HIDDEN as f64).sqrt()),
        wx: randn(&mut rng, INPUT, HIDDEN, 1.0 / (INPUT as f64).sqrt()),
        h0: randn(&mut rng, BATCH, HIDDEN, 0.1),
    }
}

type ScalarGrad = fn(f64, f64, &[f64]) -> (f64, f64, f64);
type RnnGradFn = fn(&RnnInputs) -> (f64, DMatrix<f64>, DMatrix<f64>, DMatrix<f64>);

/// The four scalar workloads: (name, k, loop, unrolled), each returning the value and both
/// gradients.
fn scalar_pairs() -> [(&'static str, usize, ScalarGrad, ScalarGrad); 2] {
    [
        (
            "scalar, k = 10",
            10,
            |a, s0, xs| {
                let (v, g) = scalar_loop_grad(a, s0, xs);
                (v, g.a, g.s0)
            },
            |a, s0, xs| {
                let (v, g) = scalar_unrolled_10_grad(a, s0, xs);
                (v, g.a, g.s0)
            },
        ),
        (
            "scalar, k = 1000",
            1000,
            |a, s0, xs| {
                let (v, g) = scalar_loop_grad(a, s0, xs);
                (v, g.a, g.s0)
            },
            |a, s0, xs| {
                let (v, g) = scalar_unrolled_1000_grad(a, s0, xs);
                (v, g.a, g.s0)
            },
        ),
    ]
}

/// The RNN workloads: (name, k, loop, unrolled), each returning the value and the gradients.
fn rnn_pairs() -> [(&'static str, usize, RnnGradFn, RnnGradFn); 2] {
    [
        (
            "RNN 32×64, k = 10",
            10,
            |d| {
                let (v, g) = rnn_loop_grad(&d.xs, &d.wh, &d.wx, &d.h0);
                (v, g.wh, g.wx, g.h0)
            },
            |d| {
                let (v, g) = rnn_unrolled_10_grad(&d.xs, &d.wh, &d.wx, &d.h0);
                (v, g.wh, g.wx, g.h0)
            },
        ),
        (
            "RNN 32×64, k = 100",
            100,
            |d| {
                let (v, g) = rnn_loop_grad(&d.xs, &d.wh, &d.wx, &d.h0);
                (v, g.wh, g.wx, g.h0)
            },
            |d| {
                let (v, g) = rnn_unrolled_100_grad(&d.xs, &d.wh, &d.wx, &d.h0);
                (v, g.wh, g.wx, g.h0)
            },
        ),
    ]
}

/// Before anything is timed: the loop and its unrolled twin compute the same value and the
/// same gradient (the same operations in the same order, so bit for bit).
fn check_equal() {
    for (name, k, looped, unrolled) in scalar_pairs() {
        let (a, s0, xs) = scalar_inputs(k);
        assert_eq!(looped(a, s0, &xs), unrolled(a, s0, &xs), "{name}");
    }
    for (name, k, looped, unrolled) in rnn_pairs() {
        let d = rnn_inputs(k);
        assert_eq!(looped(&d), unrolled(&d), "{name}");
    }
}

fn bench_criterion(c: &mut Criterion) {
    for (name, k, looped, unrolled) in scalar_pairs() {
        let (a, s0, xs) = scalar_inputs(k);
        let mut g = c.benchmark_group(format!("loops_scalar_k{k}"));
        g.bench_function("loop", |b| {
            b.iter(|| black_box(looped(black_box(a), black_box(s0), black_box(&xs))))
        });
        g.bench_function("unrolled", |b| {
            b.iter(|| black_box(unrolled(black_box(a), black_box(s0), black_box(&xs))))
        });
        g.finish();
        let _ = name;
    }
    for (_, k, looped, unrolled) in rnn_pairs() {
        let d = rnn_inputs(k);
        let mut g = c.benchmark_group(format!("loops_rnn_k{k}"));
        g.bench_function("loop", |b| b.iter(|| black_box(looped(black_box(&d)))));
        g.bench_function("unrolled", |b| {
            b.iter(|| black_box(unrolled(black_box(&d))))
        });
        g.finish();
    }
    let d = rnn_inputs(1000);
    let mut g = c.benchmark_group("loops_rnn_k1000");
    g.bench_function("loop", |b| {
        b.iter(|| black_box(rnn_loop_grad(&d.xs, &d.wh, &d.wx, &d.h0)))
    });
    g.finish();
}

/// Times `a` and `b` alternately, batch against batch (about 2 ms each), `rounds` times:
/// load that drifts during the run slows both sides of a round alike.
fn paired(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> Paired {
    let time = |f: &mut dyn FnMut(), n: usize| {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed().as_secs_f64()
    };
    let once = time(&mut a, 1).max(1e-9);
    let batch = ((2e-3 / once) as usize).clamp(1, 1_000_000);
    let rounds_ab: Vec<(f64, f64)> = (0..rounds)
        .map(|_| (time(&mut a, batch), time(&mut b, batch)))
        .collect();
    let ratios: Vec<f64> = rounds_ab.iter().map(|(x, y)| x / y).collect();
    let per_call = |side: fn(&(f64, f64)) -> f64| {
        median(rounds_ab.iter().map(|r| side(r) / batch as f64).collect())
    };
    Paired {
        ratio: median(ratios.clone()),
        a: per_call(|r| r.0),
        b: per_call(|r| r.1),
        ratios,
    }
}

/// What [`paired`] measured: the median of the rounds' ratios a ÷ b, the median time of one
/// call of each, and the rounds' ratios in the order they ran.
struct Paired {
    ratio: f64,
    a: f64,
    b: f64,
    ratios: Vec<f64>,
}

impl Paired {
    /// The 10th and 90th percentiles of the rounds' ratios, each divided by `per`.
    fn spread(&self, per: f64) -> String {
        let mut sorted = self.ratios.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize] / per;
        format!("{:.3}–{:.3}", at(0.1), at(0.9))
    }

    /// The table's row for `name`, the unrolled side's time and the ratio per `per` calls of
    /// it (the loop of 1000 steps against 100 unrolled steps is compared per step).
    fn row(&self, name: &str, per: f64) -> String {
        let unrolled = match per {
            1.0 => show(self.b),
            _ => format!("{} × {per}", show(self.b)),
        };
        let (loop_, ratio, spread) = (show(self.a), self.ratio / per, self.spread(per));
        format!("| {name} | {loop_} | {unrolled} | {ratio:.3} | {spread} |")
    }

    /// The median ratio of each run of ten consecutive rounds, in order: a machine whose
    /// speed changes during the run (a shared one) shows as runs of rounds that disagree
    /// with each other.
    fn in_order(&self) -> String {
        let blocks: Vec<String> = (self.ratios.chunks(10))
            .map(|block| format!("{:.2}", median(block.to_vec())))
            .collect();
        blocks.join(" ")
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn paired_table(rounds: usize) {
    println!(
        "\npaired ratios, loop ÷ unrolled, value and gradient per call (median of {rounds} \
         alternating rounds, and the rounds' 10th to 90th percentile):"
    );
    println!("| workload | loop | unrolled | loop ÷ unrolled | rounds |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let mut scalar_in_order = Vec::new();
    for (name, k, looped, unrolled) in scalar_pairs() {
        let (a, s0, xs) = scalar_inputs(k);
        let p = paired(
            rounds,
            || {
                black_box(looped(black_box(a), black_box(s0), black_box(&xs)));
            },
            || {
                black_box(unrolled(black_box(a), black_box(s0), black_box(&xs)));
            },
        );
        println!("{}", p.row(name, 1.0));
        scalar_in_order.push((name, p.in_order()));
    }
    for (name, k, looped, unrolled) in rnn_pairs() {
        let d = rnn_inputs(k);
        let p = paired(
            rounds,
            || {
                black_box(looped(black_box(&d)));
            },
            || {
                black_box(unrolled(black_box(&d)));
            },
        );
        println!("{}", p.row(name, 1.0));
    }
    // The loop of 1000 steps against 100 unrolled steps, per step: each round times the
    // same number of calls of each, so the ratio of the rounds is divided by 10.
    let (long, short) = (rnn_inputs(1000), rnn_inputs(100));
    let p = paired(
        rounds,
        || {
            drop(black_box(rnn_loop_grad(
                &long.xs, &long.wh, &long.wx, &long.h0,
            )))
        },
        || {
            drop(black_box(rnn_unrolled_100_grad(
                &short.xs, &short.wh, &short.wx, &short.h0,
            )))
        },
    );
    let name = "RNN 32×64, k = 1000 (unrolled: k = 100, per step)";
    println!("{}", p.row(name, 10.0));
    println!("\nthe scalar rounds in order, median ratio of each ten:");
    for (name, blocks) in scalar_in_order {
        println!("- {name}: {blocks}");
    }
}

fn main() {
    check_equal();
    let mut c = Criterion::default().configure_from_args();
    bench_criterion(&mut c);
    c.final_summary();
    let benchmarking = std::env::args().any(|a| a == "--bench");
    if benchmarking {
        paired_table(101);
    }
}

fn show(seconds: f64) -> String {
    let ns = seconds * 1e9;
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.3} ms", ns / 1e6)
    }
}
