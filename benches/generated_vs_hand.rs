//! Generated gradients against backpropagation written by hand with nalgebra, measured in
//! one run, reported as ratios generated ÷ hand-written (see BENCHMARKS.md).
//!
//! `cargo bench --bench generated_vs_hand` runs them and prints the ratio table at the end.

#[path = "../tests/common/mod.rs"]
mod common;

use autodiff::prelude::*;
use common::fixtures::{labels, matrix, row};
use common::paired::paired_ratio;
use common::{hand, workloads};
use criterion::Criterion;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::hint::black_box;

#[differentiate]
fn graph(x: f64, y: f64, z: f64) -> f64 {
    let q = x + y;
    q * z
}

/// The gradient of (x + y)·z by hand: q = x + y, f = q·z, df/dx = df/dy = z, df/dz = q.
#[inline]
fn graph_by_hand(x: f64, y: f64, z: f64) -> (f64, [f64; 3]) {
    let q = x + y;
    (q * z, [z, z, q])
}

fn bench_graph(c: &mut Criterion) {
    let mut g = c.benchmark_group("a_graph");
    g.bench_function("generated", |b| {
        b.iter(|| {
            let (v, grad) = graph_grad(black_box(-2.0), black_box(5.0), black_box(-4.0));
            black_box((v, grad.x, grad.y, grad.z))
        })
    });
    g.bench_function("hand", |b| {
        b.iter(|| {
            black_box(graph_by_hand(
                black_box(-2.0),
                black_box(5.0),
                black_box(-4.0),
            ))
        })
    });
    g.finish();
}

fn randn(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| rand::Rng::sample(rng, StandardNormal))
}

fn bench_two_layer(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let x = randn(&mut rng, 64, 1000);
    let y = randn(&mut rng, 64, 10);
    let w1_0 = randn(&mut rng, 1000, 100);
    let w2_0 = randn(&mut rng, 100, 10);
    let lr = 1e-4;
    let mut g = c.benchmark_group("b_two_layer_step");
    let (mut w1, mut w2) = (w1_0.clone(), w2_0.clone());
    g.bench_function("generated", |b| {
        b.iter(|| {
            let (loss, grad) = workloads::two_layer_loss_grad(&x, &y, &w1, &w2);
            w1.zip_apply(&grad.w1, |w, g| *w -= lr * g);
            w2.zip_apply(&grad.w2, |w, g| *w -= lr * g);
            black_box(loss)
        })
    });
    let (mut w1, mut w2) = (w1_0.clone(), w2_0.clone());
    g.bench_function("hand", |b| {
        b.iter(|| {
            let (loss, g1, g2) = hand::two_layer(&x, &y, &w1, &w2);
            w1.zip_apply(&g1, |w, g| *w -= lr * g);
            w2.zip_apply(&g2, |w, g| *w -= lr * g);
            black_box(loss)
        })
    });
    g.finish();
}

fn bench_spiral(c: &mut Criterion) {
    let (x, y) = (matrix("w3_X"), labels("w3_y"));
    let start = (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let mut g = c.benchmark_group("c_spiral_step");
    let (mut w1, mut b1, mut w2, mut b2) = start.clone();
    g.bench_function("generated", |b| {
        b.iter(|| {
            let (loss, grad) = workloads::spiral_loss_grad(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
            w1 -= &grad.w1;
            b1 -= &grad.b1;
            w2 -= &grad.w2;
            b2 -= &grad.b2;
            black_box(loss)
        })
    });
    let (mut w1, mut b1, mut w2, mut b2) = start.clone();
    g.bench_function("hand", |b| {
        b.iter(|| {
            let (loss, grad) = hand::spiral(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
            w1 -= &grad.w1;
            b1 -= &grad.b1;
            w2 -= &grad.w2;
            b2 -= &grad.b2;
            black_box(loss)
        })
    });
    g.finish();
}

/// The median time of one benchmark in this run, from criterion's estimates.
fn median_ns(group: &str, name: &str) -> Option<f64> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn paired_table() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (x2, y2) = (randn(&mut rng, 64, 1000), randn(&mut rng, 64, 10));
    let (w1, w2) = (randn(&mut rng, 1000, 100), randn(&mut rng, 100, 10));
    let (x3, y3) = (matrix("w3_X"), labels("w3_y"));
    let (v1, c1, v2, c2) = (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let rounds = 101;
    let a = paired_ratio(
        rounds,
        || {
            black_box(graph_grad(black_box(-2.0), black_box(5.0), black_box(-4.0)));
        },
        || {
            black_box(graph_by_hand(
                black_box(-2.0),
                black_box(5.0),
                black_box(-4.0),
            ));
        },
    );
    let b = paired_ratio(
        rounds,
        || {
            drop(black_box(workloads::two_layer_loss_grad(
                &x2, &y2, &w1, &w2,
            )))
        },
        || drop(black_box(hand::two_layer(&x2, &y2, &w1, &w2))),
    );
    let c = paired_ratio(
        rounds,
        || {
            drop(black_box(workloads::spiral_loss_grad(
                &x3, &y3, &v1, &c1, &v2, &c2, 1e-3,
            )))
        },
        || drop(black_box(hand::spiral(&x3, &y3, &v1, &c1, &v2, &c2, 1e-3))),
    );
    println!("\npaired ratios, generated ÷ hand-written (median of {rounds} alternating rounds):");
    println!("| workload | ratio |");
    println!("| --- | --- |");
    println!("| (a) gradient of (x + y)·z | {a:.3} |");
    println!("| (b) two-layer net, loss and gradients | {b:.3} |");
    println!("| (c) spiral net, loss and gradients | {c:.3} |");
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_graph(&mut c);
    bench_two_layer(&mut c);
    bench_spiral(&mut c);
    c.final_summary();
    let benchmarking = std::env::args().any(|a| a == "--bench");
    if !benchmarking {
        return;
    }
    println!(
        "\ncriterion medians (each measured on its own, so drifting load shows in the ratio):"
    );
    println!("| workload | generated (median) | hand-written (median) | ratio |");
    println!("| --- | --- | --- | --- |");
    for group in ["a_graph", "b_two_layer_step", "c_spiral_step"] {
        if let (Some(gen), Some(hand)) = (median_ns(group, "generated"), median_ns(group, "hand")) {
            println!(
                "| {group} | {} | {} | {:.3} |",
                show(gen),
                show(hand),
                gen / hand
            );
        }
    }
    paired_table();
}

fn show(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.2} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.3} ms", ns / 1e6)
    }
}
