//! Allocations per training step, counted by a counting global allocator: after its first
//! step a training loop reuses the runtime's buffers (tape, activations, gradients) and
//! allocates no matrix at all; memory does not grow from step to step; and the first step's
//! peak is what the step needs. The counts are printed (`--nocapture`) for BENCHMARKS.md.

mod common;

use allocation_counter::{measure, AllocationInfo};
use autodiff::buffers;
use autodiff::nn::{Activation, Loss, Mlp};
use autodiff::optim::{Optimizer, Sgd};
use common::fixtures::{labels, matrix, row};
use common::workloads;

const STEPS: usize = 5;

fn report(name: &str, steps: &[AllocationInfo]) {
    for (i, s) in steps.iter().enumerate() {
        println!(
            "{name}: step {i}: {} allocations, {} bytes, peak {} bytes live, {} bytes kept",
            s.count_total, s.bytes_total, s.bytes_max, s.bytes_current
        );
    }
}

/// The steps that warm the pool: the first allocates everything; in the second, a buffer
/// of one size may be taken for a request of a nearby size, which then allocates once more.
const WARM_UP: usize = 2;

/// Every step after the warm-up allocates exactly `per_step` times, the same bytes, and
/// leaves the live memory where it found it.
#[track_caller]
fn assert_steady(name: &str, steps: &[AllocationInfo], per_step: u64) {
    for (i, s) in steps.iter().enumerate().skip(WARM_UP) {
        assert_eq!(s.count_total, per_step, "{name}: step {i}: {s:?}");
        assert_eq!(
            s.bytes_current, 0,
            "{name}: step {i} changed live memory: {s:?}"
        );
        let first = &steps[WARM_UP];
        assert_eq!(s.bytes_total, first.bytes_total, "{name}: step {i}: {s:?}");
    }
}

#[test]
fn training_steps_reuse_their_buffers_and_memory_does_not_grow() {
    // One test: the counter sees every thread's allocations while it measures.
    buffers::release();

    // The spiral net as a user writes it, SGD by hand, gradients given back once applied.
    let (x, y) = (matrix("w3_X"), labels("w3_y"));
    let (mut w1, mut b1, mut w2, mut b2) =
        (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let spiral: Vec<AllocationInfo> = (0..STEPS)
        .map(|_| {
            measure(|| {
                let (_, g) = workloads::spiral_loss_grad(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
                w1 -= &g.w1;
                b1 -= &g.b1;
                w2 -= &g.w2;
                b2 -= &g.b2;
                buffers::recycle(g.w1);
                buffers::recycle(g.b1);
                buffers::recycle(g.w2);
                buffers::recycle(g.b2);
            })
        })
        .collect();
    report("spiral (300×2 → 100 → 3), generated", &spiral);
    assert_steady("spiral", &spiral, 0);
    // Peak memory of a step: the parameters (which exist before it) and what the first step
    // allocates, which is everything the pool then holds. Against the parameters, their
    // gradients and the activations: the hidden layer, the scores and their softmax.
    let f64s = |n: usize| n * std::mem::size_of::<f64>();
    let parameters = f64s(w1.len() + b1.len() + w2.len() + b2.len());
    let (n, h, c) = (x.nrows(), w1.ncols(), w2.ncols());
    let activations = f64s(n * h + n * c + n * c);
    let budget = parameters + parameters + activations;
    let peak = parameters + spiral[0].bytes_max as usize;
    println!(
        "spiral: peak {peak} bytes = {:.3} × parameters + gradients + activations ({budget} bytes)",
        peak as f64 / budget as f64
    );
    assert!(peak as f64 <= 1.1 * budget as f64, "peak {peak} > 1.1 × {budget}");

    // The same, dropping the gradients instead: only those four are allocated again.
    let dropped: Vec<AllocationInfo> = (0..STEPS)
        .map(|_| {
            measure(|| {
                let (_, g) = workloads::spiral_loss_grad(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
                w1 -= &g.w1;
                b1 -= &g.b1;
                w2 -= &g.w2;
                b2 -= &g.b2;
            })
        })
        .collect();
    report("spiral, gradients dropped", &dropped);
    assert_steady("spiral, gradients dropped", &dropped, 4);

    // The wide net (W4's structure at a quarter of its widths: 64×196 → 128 → 128 → 10),
    // the gradients given back once applied.
    let mut draw = common::check::Draw::new(4);
    let (n, d, h, c) = (64, 196, 128, 10);
    let xw = draw.matrix(n, d);
    let yw: Vec<usize> = (0..n).map(|i| i % c).collect();
    let mut w = [draw.matrix(d, h), draw.matrix(h, h), draw.matrix(h, c)];
    let mut b = [draw.row(h), draw.row(h), draw.row(c)];
    let wide: Vec<AllocationInfo> = (0..STEPS)
        .map(|_| {
            measure(|| {
                let [w1, w2, w3] = &w;
                let [b1, b2, b3] = &b;
                let (_, g) = workloads::wide_loss_grad(&xw, &yw, w1, b1, w2, b2, w3, b3);
                for (p, g) in w.iter_mut().zip([g.w1, g.w2, g.w3]) {
                    p.zip_apply(&g, |p, g| *p -= 0.01 * g);
                    buffers::recycle(g);
                }
                for (p, g) in b.iter_mut().zip([g.b1, g.b2, g.b3]) {
                    p.zip_apply(&g, |p, g| *p -= 0.01 * g);
                    buffers::recycle(g);
                }
            })
        })
        .collect();
    report("wide (64×196 → 128 → 128 → 10), generated", &wide);
    let parameters = f64s(w.iter().map(|m| m.len()).sum::<usize>() + b.iter().map(|v| v.len()).sum::<usize>());
    let activations = f64s(n * h + n * h + n * c + n * c);
    let budget = parameters + parameters + activations;
    let peak = parameters + wide[0].bytes_max as usize;
    println!(
        "wide: peak {peak} bytes = {:.3} × parameters + gradients + activations ({budget} bytes)",
        peak as f64 / budget as f64
    );
    assert!(peak as f64 <= 1.1 * budget as f64, "peak {peak} > 1.1 × {budget}");
    for (i, s) in wide.iter().enumerate().skip(WARM_UP) {
        assert_eq!(s.bytes_current, 0, "wide: step {i} changed live memory: {s:?}");
        assert!(s.bytes_max < 65536, "wide: step {i} allocates matrices: {s:?}");
    }

    // The lecture's two-layer net (reduced fixture).
    let (x2, t) = (matrix("w2s_x"), matrix("w2s_y"));
    let (mut v1, mut v2) = (matrix("w2s_w1"), matrix("w2s_w2"));
    let two_layer: Vec<AllocationInfo> = (0..STEPS)
        .map(|_| {
            measure(|| {
                let (_, g) = workloads::two_layer_loss_grad(&x2, &t, &v1, &v2);
                v1.zip_apply(&g.w1, |v, g| *v -= 1e-4 * g);
                v2.zip_apply(&g.w2, |v, g| *v -= 1e-4 * g);
                buffers::recycle(g.w1);
                buffers::recycle(g.w2);
            })
        })
        .collect();
    report("two-layer, reduced (8×20 → 7 → 3), generated", &two_layer);
    // Its products reach matrixmultiply's blocked kernel, which allocates its packing
    // buffers in every call: two per step here, and no matrix.
    assert_steady("two-layer", &two_layer, 2);
    assert!(
        two_layer[WARM_UP].bytes_total < 8192,
        "{:?}",
        two_layer[WARM_UP]
    );

    // The runtime's Mlp (each layer's derived _fwd/_bwd chained) with its SGD.
    let mut rng = autodiff::init::seeded_rng(3);
    let data = autodiff::data::spiral(100, 3, &mut rng);
    let mut mlp = Mlp::new(
        &[2, 100, 3],
        Activation::Relu,
        autodiff::init::Init::He,
        &mut rng,
    );
    let mut sgd = Sgd::new(1.0);
    let mlp_steps: Vec<AllocationInfo> = (0..STEPS)
        .map(|_| {
            measure(|| {
                let (_, grad) =
                    mlp.loss_and_grad(&data.x, &data.labels, Loss::SoftmaxCrossEntropy, 1e-3);
                sgd.step(mlp.parameters_mut(), grad.parameters());
                grad.recycle();
            })
        })
        .collect();
    report("Mlp 2 → 100 → 3, full batch, SGD", &mlp_steps);
    // What remains are the lists of slices that `Mlp::parameters_mut`, `MlpGrad::parameters`
    // and the optimizer's `Vec` arguments are made of: about a kilobyte, no matrix.
    let first = &mlp_steps[WARM_UP];
    assert_steady("Mlp", &mlp_steps, first.count_total);
    assert!(
        first.bytes_total < 2048,
        "Mlp: a step allocates matrices: {first:?}"
    );

    // The hand-written spiral backprop of the tests allocates its matrices every step.
    let (mut w1, mut b1, mut w2, mut b2) =
        (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let hand: Vec<AllocationInfo> = (0..STEPS)
        .map(|_| {
            measure(|| {
                let (_, g) = common::hand::spiral(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
                w1 -= &g.w1;
                b1 -= &g.b1;
                w2 -= &g.w2;
                b2 -= &g.b2;
            })
        })
        .collect();
    report("spiral, hand-written (allocating) backprop", &hand);
    assert_steady("hand-written", &hand, hand[WARM_UP].count_total);
}
