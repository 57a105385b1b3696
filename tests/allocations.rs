//! Allocations per training step, counted by a counting global allocator: a step leaves
//! nothing behind (memory does not grow from step to step) and allocates the same in every
//! step (the product kernel's per-thread packing buffer, allocated once, is allocated before
//! counting). The counts themselves are printed (`--nocapture`) for BENCHMARKS.md; the
//! runtime does not reuse buffers across steps yet, so they are a baseline, not a target.

mod common;

use allocation_counter::measure;
use common::fixtures::{labels, matrix, row};
use common::workloads;

#[test]
fn a_training_step_allocates_the_same_every_time_and_frees_it_all() {
    // One test: the counter sees every thread's allocations while it measures.
    let (x, y) = (matrix("w3_X"), labels("w3_y"));
    let (mut w1, mut b1, mut w2, mut b2) =
        (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let mut spiral = Vec::new();
    for _ in 0..4 {
        spiral.push(measure(|| {
            let (_, g) = workloads::spiral_loss_grad(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
            w1 -= &g.w1;
            b1 -= &g.b1;
            w2 -= &g.w2;
            b2 -= &g.b2;
        }));
    }
    let (mut w1, mut b1, mut w2, mut b2) =
        (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let mut spiral_hand = Vec::new();
    for _ in 0..4 {
        spiral_hand.push(measure(|| {
            let (_, g) = common::hand::spiral(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
            w1 -= &g.w1;
            b1 -= &g.b1;
            w2 -= &g.w2;
            b2 -= &g.b2;
        }));
    }
    let (x, t) = (matrix("w2s_x"), matrix("w2s_y"));
    let (mut v1, mut v2) = (matrix("w2s_w1"), matrix("w2s_w2"));
    // The product kernel (the `gemm` crate) keeps a packing buffer of the L2 cache's size
    // per thread, allocated by the first product that takes that path and kept until the
    // thread ends: a cache, not a leak. An unmeasured step allocates it before counting.
    let _ = workloads::two_layer_loss_grad(&x, &t, &v1, &v2);
    let mut two_layer = Vec::new();
    for _ in 0..4 {
        two_layer.push(measure(|| {
            let (_, g) = workloads::two_layer_loss_grad(&x, &t, &v1, &v2);
            v1 -= 1e-4 * g.w1;
            v2 -= 1e-4 * g.w2;
        }));
    }
    let runs = [
        ("spiral (300×2 → 100 → 3), generated", &spiral),
        ("spiral, hand-written", &spiral_hand),
        ("two-layer, reduced (8×20 → 7 → 3), generated", &two_layer),
    ];
    for (name, steps) in runs {
        for (i, s) in steps.iter().enumerate() {
            println!(
                "{name}: step {i}: {} allocations, {} bytes, peak {} bytes live",
                s.count_total, s.bytes_total, s.bytes_max
            );
            assert_eq!(
                s.bytes_current, 0,
                "{name}: step {i} left {} bytes behind",
                s.bytes_current
            );
        }
        let steady = &steps[1..];
        assert!(
            steady
                .iter()
                .all(|s| s.count_total == steady[0].count_total
                    && s.bytes_max == steady[0].bytes_max),
            "{name}: steps differ: {steady:?}"
        );
    }
}
