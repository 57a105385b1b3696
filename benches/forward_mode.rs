//! Forward mode and second order against the first-order functions they extend, measured in
//! one run and reported as ratios (BENCHMARKS.md, "W7: Hessian-vector products"):
//!
//! - `NAME_jvp` (value and directional derivative) ÷ the primal `NAME` (value only);
//! - `NAME_hvp` (value, gradient and Hessian-vector product) ÷ `NAME_grad` (value and
//!   gradient);
//!
//! on the peer kit's W2 (the two-layer sigmoid net, x 64×1000, w1 1000×100, w2 100×10, y
//! 64×10, uniform random data) and W3 (the spiral net, 300 points, 2 → 100 → 3, its fixtures
//! in `tests/data`), each direction uniform on [−1, 1).
//!
//! `cargo bench --bench forward_mode` runs them and prints the ratio table at the end. The
//! tangent a `_jvp` or `_hvp` call consumes is cloned before each round, outside the timed
//! batch, so that the ratios hold the derivative's cost and not the copy of its argument.

use autodiff::prelude::*;
use criterion::Criterion;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::hint::black_box;
use std::time::Instant;

/// W2: h = sigmoid(x·w1), y_pred = h·w2, loss = Σ(y_pred − y)².
#[differentiate(wrt(w1, w2), jvp, hvp)]
fn two_layer_loss(x: &DMatrix<f64>, y: &DMatrix<f64>, w1: &DMatrix<f64>, w2: &DMatrix<f64>) -> f64 {
    let h = sigmoid(x * w1);
    let y_pred = &h * w2;
    (y_pred - y).norm_squared()
}

/// W3: 2 → H → 3, ReLU, biases, mean softmax cross-entropy + 0.5·reg·(‖W1‖² + ‖W2‖²).
#[differentiate(wrt(w1, b1, w2, b2), jvp, hvp)]
fn spiral_loss(
    x: &DMatrix<f64>,
    labels: &[usize],
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    reg: f64,
) -> f64 {
    let hidden = relu(add_bias(x * w1, b1));
    let scores = add_bias(&hidden * w2, b2);
    let data_loss = softmax_cross_entropy(&scores, labels);
    let reg_loss = 0.5 * reg * (w1.norm_squared() + w2.norm_squared());
    data_loss + reg_loss
}

fn uniform(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0))
}

fn uniform_row(rng: &mut ChaCha8Rng, n: usize) -> RowDVector<f64> {
    RowDVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0))
}

/// W2's shapes, uniform random data, and a direction.
struct W2 {
    x: DMatrix<f64>,
    y: DMatrix<f64>,
    w1: DMatrix<f64>,
    w2: DMatrix<f64>,
    v: TwoLayerLossGrad,
}

fn w2() -> W2 {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let x = uniform(&mut rng, 64, 1000);
    let y = uniform(&mut rng, 64, 10);
    // Scaled so that the sigmoid is not saturated (x·w1 of order 1).
    let w1 = uniform(&mut rng, 1000, 100) * 0.05;
    let w2 = uniform(&mut rng, 100, 10);
    let v = TwoLayerLossGrad {
        w1: uniform(&mut rng, 1000, 100),
        w2: uniform(&mut rng, 100, 10),
    };
    W2 { x, y, w1, w2, v }
}

/// A fixture of `tests/data`: `# shape d0 d1`, `#` comments, values in row-major order.
fn fixture(name: &str) -> (Vec<usize>, Vec<f64>) {
    let path = format!("{}/tests/data/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut shape = Vec::new();
    let mut values = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# shape") {
            shape = rest
                .split_whitespace()
                .map(|d| d.parse().unwrap())
                .collect();
        } else if !line.starts_with('#') {
            values.extend(line.split_whitespace().map(|v| v.parse::<f64>().unwrap()));
        }
    }
    (shape, values)
}

fn fixture_matrix(name: &str) -> DMatrix<f64> {
    let (shape, values) = fixture(name);
    DMatrix::from_row_slice(shape[0], shape[1], &values)
}

fn fixture_row(name: &str) -> RowDVector<f64> {
    RowDVector::from_row_slice(&fixture(name).1)
}

/// W3's fixtures (data and initial parameters) and a direction.
struct W3 {
    x: DMatrix<f64>,
    labels: Vec<usize>,
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
    v: SpiralLossGrad,
}

const REG: f64 = 1e-3;

fn w3() -> W3 {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let v = SpiralLossGrad {
        w1: uniform(&mut rng, 2, 100),
        b1: uniform_row(&mut rng, 100),
        w2: uniform(&mut rng, 100, 3),
        b2: uniform_row(&mut rng, 3),
    };
    W3 {
        x: fixture_matrix("w3_X"),
        labels: fixture("w3_y").1.into_iter().map(|v| v as usize).collect(),
        w1: fixture_matrix("w3_W1"),
        b1: fixture_row("w3_b1"),
        w2: fixture_matrix("w3_W2"),
        b2: fixture_row("w3_b2"),
        v,
    }
}

impl W2 {
    fn primal(&self) -> f64 {
        two_layer_loss(&self.x, &self.y, &self.w1, &self.w2)
    }
    fn grad(&self) -> (f64, TwoLayerLossGrad) {
        two_layer_loss_grad(&self.x, &self.y, &self.w1, &self.w2)
    }
    fn jvp(&self, v: TwoLayerLossGrad) -> (f64, f64) {
        two_layer_loss_jvp(&self.x, &self.y, &self.w1, &self.w2, v)
    }
    fn hvp(&self, v: TwoLayerLossGrad) -> (f64, TwoLayerLossGrad, TwoLayerLossGrad) {
        two_layer_loss_hvp(&self.x, &self.y, &self.w1, &self.w2, v)
    }
}

impl W3 {
    fn primal(&self) -> f64 {
        spiral_loss(
            &self.x,
            &self.labels,
            &self.w1,
            &self.b1,
            &self.w2,
            &self.b2,
            REG,
        )
    }
    fn grad(&self) -> (f64, SpiralLossGrad) {
        spiral_loss_grad(
            &self.x,
            &self.labels,
            &self.w1,
            &self.b1,
            &self.w2,
            &self.b2,
            REG,
        )
    }
    fn jvp(&self, v: SpiralLossGrad) -> (f64, f64) {
        spiral_loss_jvp(
            &self.x,
            &self.labels,
            &self.w1,
            &self.b1,
            &self.w2,
            &self.b2,
            REG,
            v,
        )
    }
    fn hvp(&self, v: SpiralLossGrad) -> (f64, SpiralLossGrad, SpiralLossGrad) {
        spiral_loss_hvp(
            &self.x,
            &self.labels,
            &self.w1,
            &self.b1,
            &self.w2,
            &self.b2,
            REG,
            v,
        )
    }
}

/// Before anything is timed: the values of `_jvp` and `_hvp` are the primal's and
/// `_grad`'s (W3: bit for bit), the directional derivative is ⟨∇f, v⟩, and on W3 the product along the output
/// bias matches central differences of the gradient (a direction along which no relu unit
/// changes sign).
fn check() {
    fn dot(a: &[&[f64]], b: &[&[f64]]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.iter().zip(*y).map(|(p, q)| p * q).sum::<f64>())
            .sum()
    }
    // W2's values are compared within rounding, not bit for bit: with two threads, whether
    // x·w1 (6.4M multiply-adds) is split between them is decided at run time, and two calls
    // may decide differently (with `RAYON_NUM_THREADS=1` they agree bit for bit).
    let d = w2();
    let (value, g) = d.grad();
    let (jv_value, jv) = d.jvp(d.v.clone());
    let primal = d.primal();
    assert!(
        (jv_value - primal).abs() <= 1e-12 * primal.abs(),
        "W2 jvp's value {jv_value} against {primal}"
    );
    let want = dot(
        &[g.w1.as_slice(), g.w2.as_slice()],
        &[d.v.w1.as_slice(), d.v.w2.as_slice()],
    );
    assert!(
        (jv - want).abs() <= 1e-9 * want.abs(),
        "W2 jvp {jv} against ⟨∇f, v⟩ {want}"
    );
    let (h_value, h_g, _) = d.hvp(d.v.clone());
    assert!(
        (h_value - value).abs() <= 1e-12 * value.abs(),
        "W2 hvp's value {h_value} against {value}"
    );
    assert!((&h_g.w1 - &g.w1).norm() <= 1e-12 * g.w1.norm());

    let d = w3();
    let (value, g) = d.grad();
    let (jv_value, jv) = d.jvp(d.v.clone());
    assert_eq!(jv_value, d.primal());
    let parts = |g: &SpiralLossGrad| -> Vec<f64> {
        [
            g.w1.as_slice(),
            g.b1.as_slice(),
            g.w2.as_slice(),
            g.b2.as_slice(),
        ]
        .concat()
    };
    let want = dot(&[&parts(&g)], &[&parts(&d.v)]);
    assert!(
        (jv - want).abs() <= 1e-9 * want.abs(),
        "W3 jvp {jv} against ⟨∇f, v⟩ {want}"
    );
    let (h_value, h_g, _) = d.hvp(d.v.clone());
    assert_eq!(h_value, value);
    assert!((&h_g.w2 - &g.w2).norm() <= 1e-12 * g.w2.norm());
    // Along the output bias alone the loss is smooth (the scores shift, no relu moves).
    let e = SpiralLossGrad {
        w1: DMatrix::zeros(2, 100),
        b1: RowDVector::zeros(100),
        w2: DMatrix::zeros(100, 3),
        b2: d.v.b2.clone(),
    };
    let he = d.hvp(e.clone()).2;
    let h = 1e-6;
    let at = |t: f64| {
        let b2 = &d.b2 + &e.b2 * t;
        spiral_loss_grad(&d.x, &d.labels, &d.w1, &d.b1, &d.w2, &b2, REG)
            .1
            .b2
    };
    let fd = (at(h) - at(-h)) / (2.0 * h);
    assert!(
        (&he.b2 - &fd).norm() <= 1e-6 * fd.norm(),
        "W3 (H·e)_b2 {} against central differences {}",
        he.b2,
        fd
    );
}

fn bench_criterion(c: &mut Criterion) {
    let d = w2();
    let mut g = c.benchmark_group("forward_mode_w2");
    g.sample_size(20);
    g.bench_function("primal", |b| b.iter(|| black_box(d.primal())));
    g.bench_function("grad", |b| b.iter(|| black_box(d.grad())));
    g.bench_function("jvp", |b| {
        b.iter_batched(
            || d.v.clone(),
            |v| black_box(d.jvp(v)),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("hvp", |b| {
        b.iter_batched(
            || d.v.clone(),
            |v| black_box(d.hvp(v)),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
    let d = w3();
    let mut g = c.benchmark_group("forward_mode_w3");
    g.bench_function("primal", |b| b.iter(|| black_box(d.primal())));
    g.bench_function("grad", |b| b.iter(|| black_box(d.grad())));
    g.bench_function("jvp", |b| {
        b.iter_batched(
            || d.v.clone(),
            |v| black_box(d.jvp(v)),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("hvp", |b| {
        b.iter_batched(
            || d.v.clone(),
            |v| black_box(d.hvp(v)),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// Times `a` and `b` alternately, batch against batch (about 2 ms each), and returns the
/// median of the per-round ratios a ÷ b and the median time of one call of each: load that
/// drifts during the run slows both sides of a round alike (as in `benches/loops.rs`).
/// `prepare(n)` runs before each timed batch of `a`, outside its timing, and readies what n
/// calls of `a` consume.
fn paired(
    rounds: usize,
    mut prepare: impl FnMut(usize),
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (f64, f64, f64) {
    let time = |f: &mut dyn FnMut(), n: usize, prepare: &mut dyn FnMut(usize)| {
        prepare(n);
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed().as_secs_f64()
    };
    let once = time(&mut a, 1, &mut prepare).max(1e-9);
    let batch = ((2e-3 / once) as usize).clamp(1, 1_000_000);
    let mut rounds_ab: Vec<(f64, f64)> = (0..rounds)
        .map(|_| {
            (
                time(&mut a, batch, &mut prepare),
                time(&mut b, batch, &mut |_| {}),
            )
        })
        .collect();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut ratios: Vec<f64> = rounds_ab.iter().map(|(x, y)| x / y).collect();
    let mut ta: Vec<f64> = rounds_ab.iter().map(|r| r.0 / batch as f64).collect();
    let mut tb: Vec<f64> = rounds_ab.iter_mut().map(|r| r.1 / batch as f64).collect();
    (median(&mut ratios), median(&mut ta), median(&mut tb))
}

/// One row of the table: `derived` consumes a tangent from a pool refilled with clones of `v`
/// before each of its batches; `base` is the function it is compared with.
fn row<V: Clone, R>(
    rounds: usize,
    label: &str,
    target: f64,
    v: &V,
    mut derived: impl FnMut(V) -> R,
    mut base: impl FnMut(),
) {
    let pool = RefCell::new(Vec::new());
    let (r, td, tb) = paired(
        rounds,
        |n| pool.borrow_mut().extend((0..n).map(|_| v.clone())),
        || {
            let t = pool.borrow_mut().pop().expect("a tangent");
            black_box(derived(black_box(t)));
        },
        &mut base,
    );
    let met = if r <= target { "yes" } else { "no" };
    println!(
        "| {label} | {} | {} | {r:.2} | ≤ {target} | {met} |",
        show(td),
        show(tb)
    );
}

fn paired_table(rounds: usize) {
    println!(
        "\npaired ratios, forward mode ÷ first order (median of {rounds} alternating rounds):"
    );
    println!("| workload | derived | base | ratio | target | met |");
    println!("| --- | ---: | ---: | ---: | ---: | --- |");
    let d = w2();
    row(
        rounds,
        "W2 two_layer_loss_jvp ÷ two_layer_loss",
        1.5,
        &d.v,
        |v| d.jvp(v),
        || {
            black_box(d.primal());
        },
    );
    row(
        rounds,
        "W2 two_layer_loss_hvp ÷ two_layer_loss_grad",
        4.0,
        &d.v,
        |v| d.hvp(v),
        || {
            black_box(d.grad());
        },
    );
    let d = w3();
    row(
        rounds,
        "W3 spiral_loss_jvp ÷ spiral_loss",
        1.5,
        &d.v,
        |v| d.jvp(v),
        || {
            black_box(d.primal());
        },
    );
    row(
        rounds,
        "W3 spiral_loss_hvp ÷ spiral_loss_grad",
        4.0,
        &d.v,
        |v| d.hvp(v),
        || {
            black_box(d.grad());
        },
    );
}

fn main() {
    check();
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
