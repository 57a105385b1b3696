//! Allocations and memory per training step. A counting global allocator sees every
//! allocation; the buffer pool's own counters (`autodiff::buffers::stats`) tell which of them
//! were matrices of ours. After the pool has warmed up, a step takes every matrix (tape,
//! activations, gradients) from the pool and allocates none; what it still allocates is
//! the product kernel's packing scratch (the `gemm` crate allocates it inside a product and
//! frees it before returning; the spiral's products run on loops that pack nothing, so its
//! step allocates nothing at all) and, for the `Mlp`, the lists of slices its optimizer API
//! takes. Memory does not grow from step to step, and what the pool holds for a step, with
//! the largest scratch a product allocates on top, is within 1.1× of the parameters, their
//! gradients and the activations. The numbers are printed (`--nocapture`) for
//! BENCHMARKS.md.

mod common;

use allocation_counter::{measure, AllocationInfo};
use autodiff::buffers;
use autodiff::nalgebra::DMatrix;
use autodiff::nn::{Activation, Loss, Mlp};
use autodiff::optim::{Optimizer, Sgd};
use common::fixtures::{labels, matrix, row};
use common::workloads;

const STEPS: usize = 5;

/// The steps that warm the pool: the first allocates everything; in the second, a buffer
/// of one size may be taken for a request of a nearby size, which then allocates once more.
const WARM_UP: usize = 2;

/// One measured step: every allocation, and the pool's share.
struct Step {
    all: AllocationInfo,
    pool: buffers::Stats,
}

/// Runs `step` `STEPS` times, measuring each.
fn steps(mut step: impl FnMut()) -> Vec<Step> {
    (0..STEPS)
        .map(|_| {
            let before = buffers::stats();
            let all = measure(&mut step);
            let after = buffers::stats();
            let pool = buffers::Stats {
                reused: after.reused - before.reused,
                allocated: after.allocated - before.allocated,
            };
            Step { all, pool }
        })
        .collect()
}

fn report(name: &str, steps: &[Step]) {
    for (i, Step { all, pool }) in steps.iter().enumerate() {
        println!(
            "{name}: step {i}: matrices {} reused, {} allocated; all allocations: {}, {} bytes, \
             peak {} bytes live, {} bytes kept",
            pool.reused,
            pool.allocated,
            all.count_total,
            all.bytes_total,
            all.bytes_max,
            all.bytes_current
        );
    }
}

/// After the warm-up, no step allocates a matrix of ours, every step allocates the same, and
/// none changes the live memory.
#[track_caller]
fn assert_steady(name: &str, steps: &[Step]) {
    let first = &steps[WARM_UP].all;
    for (i, s) in steps.iter().enumerate().skip(WARM_UP) {
        assert_eq!(s.pool.allocated, 0, "{name}: step {i} allocated matrices");
        assert!(s.pool.reused > 0, "{name}: step {i} did not use the pool");
        assert_eq!(
            s.all.bytes_current, 0,
            "{name}: step {i} changed live memory: {:?}",
            s.all
        );
        assert_eq!(
            s.all.count_total, first.count_total,
            "{name}: step {i}: {:?}",
            s.all
        );
        assert_eq!(
            s.all.bytes_total, first.bytes_total,
            "{name}: step {i}: {:?}",
            s.all
        );
    }
}

/// What the pool holds for a step (every matrix the step needs, the parameters' gradients
/// included, and the bits `relu` keeps) plus the parameters, against the parameters, their
/// gradients and the activations; and the same with the largest scratch the step allocates
/// on top (products whose kernel copies an operand allocate scratch for it), which must fit
/// too.
#[track_caller]
fn assert_peak(name: &str, steps: &[Step], parameters: usize, activations: usize) {
    let held = buffers::held_bytes::<f64>() + buffers::held_bits_bytes();
    let budget = 2 * parameters + activations;
    let ours = parameters + held;
    let scratch = steps[WARM_UP..]
        .iter()
        .map(|s| s.all.bytes_max)
        .max()
        .unwrap_or(0) as usize;
    println!(
        "{name}: memory {ours} bytes = {:.3} × parameters + gradients + activations ({budget} \
         bytes); {:.3} × with the kernel's scratch ({scratch} bytes at most)",
        ours as f64 / budget as f64,
        (ours + scratch) as f64 / budget as f64
    );
    assert!(
        ours as f64 <= 1.1 * budget as f64,
        "{name}: {ours} > 1.1 × {budget}"
    );
    assert!(
        (ours + scratch) as f64 <= 1.1 * budget as f64,
        "{name}: {ours} + {scratch} bytes of scratch > 1.1 × {budget}"
    );
}

fn f64s(n: usize) -> usize {
    n * std::mem::size_of::<f64>()
}

/// The counter sees every thread's allocations while it measures: one test at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// W4's net and W2's at full size (256×784 → 512 → 512 → 10, 64×1000 → 100 → 10): a few
/// seconds in a debug build.
#[test]
fn w4_and_w2_at_full_size_stay_within_the_memory_bound() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    autodiff::linalg::set_max_threads(1);
    wide_net(256, 784, 512, 10);
    two_layer_net(64, 1000, 100, 10);
}

/// Steps of the lecture's two-layer net at W2's size (`n×d → h → c`, sigmoid, sum of
/// squares), checked as the other workloads are.
fn two_layer_net(n: usize, d: usize, h: usize, c: usize) {
    let mut draw = common::check::Draw::new(5);
    let (x, y) = (draw.matrix(n, d), draw.matrix(n, c));
    let (w1, w2) = (draw.matrix(d, h), draw.matrix(h, c));
    let name = format!("two-layer ({n}×{d} → {h} → {c})");
    let steps = two_layer_steps(&name, &x, &y, w1, w2);
    // The hidden layer and the prediction.
    let parameters = f64s(d * h + h * c);
    assert_peak(&name, &steps, parameters, f64s(n * h + n * c));
}

/// Steps of the two-layer net from `w1`, `w2`, SGD by hand, gradients given back: reported,
/// and checked to reuse their buffers.
fn two_layer_steps(
    name: &str,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    mut w1: DMatrix<f64>,
    mut w2: DMatrix<f64>,
) -> Vec<Step> {
    buffers::release();
    let steps = steps(|| {
        let (_, g) = workloads::two_layer_loss_grad(x, y, &w1, &w2);
        w1.zip_apply(&g.w1, |v, g| *v -= 1e-4 * g);
        w2.zip_apply(&g.w2, |v, g| *v -= 1e-4 * g);
        buffers::recycle(g.w1);
        buffers::recycle(g.w2);
    });
    report(&format!("{name}, generated"), &steps);
    assert_steady(name, &steps);
    steps
}

/// Steps of the wide net `n×d → h → h → c` (ReLU, biases, softmax cross-entropy, SGD by
/// hand, gradients given back), checked as the other workloads are.
fn wide_net(n: usize, d: usize, h: usize, c: usize) {
    buffers::release();
    let mut draw = common::check::Draw::new(4);
    let xw = draw.matrix(n, d);
    let yw: Vec<usize> = (0..n).map(|i| i % c).collect();
    let mut w = [draw.matrix(d, h), draw.matrix(h, h), draw.matrix(h, c)];
    let mut b = [draw.row(h), draw.row(h), draw.row(c)];
    let wide = steps(|| {
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
    });
    let name = format!("wide ({n}×{d} → {h} → {h} → {c})");
    report(&format!("{name}, generated"), &wide);
    assert_steady(&name, &wide);
    let parameters =
        f64s(w.iter().map(|m| m.len()).sum::<usize>() + b.iter().map(|v| v.len()).sum::<usize>());
    // Two hidden layers, the scores and their softmax. The kernel copies transposed operands
    // in pieces (`linalg/kernel.rs`), and the second layer is given the first's output, so
    // that the first's gradient reuses its buffer.
    assert_peak(&name, &wide, parameters, f64s(2 * n * h + 2 * n * c));
}

#[test]
fn training_steps_reuse_their_buffers_and_memory_does_not_grow() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // One test: the counter sees every thread's allocations while it measures. Each
    // workload starts from an empty pool, so that what the pool holds is that workload's.
    // Products stay on this thread: one split between threads hands each other thread its
    // block as a job (rayon's, about 100 bytes, freed by that thread when the job ends,
    // which may be after the step) and each block packs its own scratch, so what a step
    // allocates would depend on whether the other thread was awake.
    autodiff::linalg::set_max_threads(1);

    // The spiral net as a user writes it, SGD by hand, gradients given back once applied.
    buffers::release();
    let (x, y) = (matrix("w3_X"), labels("w3_y"));
    let (mut w1, mut b1, mut w2, mut b2) =
        (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let spiral = steps(|| {
        let (_, g) = workloads::spiral_loss_grad(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
        w1 -= &g.w1;
        b1 -= &g.b1;
        w2 -= &g.w2;
        b2 -= &g.b2;
        buffers::recycle(g.w1);
        buffers::recycle(g.b1);
        buffers::recycle(g.w2);
        buffers::recycle(g.b2);
    });
    report("spiral (300×2 → 100 → 3), generated", &spiral);
    assert_steady("spiral", &spiral);
    let (n, h, c) = (x.nrows(), w1.ncols(), w2.ncols());
    let parameters = f64s(w1.len() + b1.len() + w2.len() + b2.len());
    // Every product of the spiral's step runs on loops that pack nothing: after the warm-up a
    // step allocates nothing at all.
    for (i, s) in spiral.iter().enumerate().skip(WARM_UP) {
        assert_eq!(
            s.all.count_total, 0,
            "spiral: step {i} allocated: {:?}",
            s.all
        );
    }
    // The hidden layer, the scores and their softmax.
    assert_peak("spiral", &spiral, parameters, f64s(n * h + 2 * n * c));

    // The same, dropping the gradients instead: those four are allocated again each step.
    let dropped = steps(|| {
        let (_, g) = workloads::spiral_loss_grad(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
        w1 -= &g.w1;
        b1 -= &g.b1;
        w2 -= &g.w2;
        b2 -= &g.b2;
    });
    report("spiral, gradients dropped", &dropped);
    for s in &dropped[WARM_UP..] {
        assert_eq!(s.pool.allocated, 4);
        assert_eq!(s.all.bytes_current, 0);
    }

    // The wide net (W4's structure at a quarter of its widths: 64×196 → 128 → 128 → 10).
    wide_net(64, 196, 128, 10);

    // The lecture's two-layer net (reduced fixture; not held to the memory bound, see
    // BENCHMARKS.md).
    let (x2, t) = (matrix("w2s_x"), matrix("w2s_y"));
    let name = "two-layer, reduced (8×20 → 7 → 3)";
    two_layer_steps(name, &x2, &t, matrix("w2s_w1"), matrix("w2s_w2"));

    // The runtime's Mlp, a `Parameters` model whose objective loops over its layers, with
    // SGD through slices and with Adam through `update`.
    buffers::release();
    let mut rng = autodiff::init::seeded_rng(3);
    let data = autodiff::data::spiral(100, 3, &mut rng);
    let mut mlp = Mlp::new(
        &[2, 100, 3],
        Activation::Relu,
        autodiff::init::Init::He,
        &mut rng,
    );
    let mut sgd = Sgd::new(1.0);
    let mlp_steps = steps(|| {
        let (_, grad) = mlp.loss_and_grad(&data.x, &data.labels, Loss::SoftmaxCrossEntropy, 1e-3);
        sgd.step(mlp.parameters_mut(), grad.parameters());
        grad.recycle();
    });
    report("Mlp 2 → 100 → 3, full batch, SGD", &mlp_steps);
    assert_steady("Mlp", &mlp_steps);
    let mut adam = autodiff::optim::Adam::new(1e-3);
    let adam_steps = steps(|| {
        let (_, grad) = mlp.loss_and_grad(&data.x, &data.labels, Loss::SoftmaxCrossEntropy, 1e-3);
        adam.update(&mut mlp, &grad);
        grad.recycle();
    });
    report("Mlp 2 → 100 → 3, full batch, Adam", &adam_steps);
    assert_steady("Mlp with Adam", &adam_steps);

    // The hand-written spiral backprop of the tests allocates its matrices every step.
    let (mut w1, mut b1, mut w2, mut b2) =
        (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let hand = steps(|| {
        let (_, g) = common::hand::spiral(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
        w1 -= &g.w1;
        b1 -= &g.b1;
        w2 -= &g.w2;
        b2 -= &g.b2;
    });
    report("spiral, hand-written (allocating) backprop", &hand);
    for s in &hand[WARM_UP..] {
        assert_eq!(s.all.bytes_current, 0);
    }
}

/// Steps of the `Mlp` with each minibatch cut into shards on several threads
/// (`parallel::sharded_grad`): after the warm-up, no thread allocates a matrix (each shard
/// reports its own thread's pool), and what a step still allocates on the calling thread
/// is small: the list of the shards' results, the `Mlp`'s and the optimizer's lists, the
/// records of the jobs handed to the workers.
#[test]
fn sharded_steps_reuse_every_threads_buffers() {
    use autodiff::parallel::sharded_grad;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // Shards on as many threads as there are cores (the other tests cap products at one).
    autodiff::linalg::set_max_threads(0);
    buffers::release();
    let mut rng = autodiff::init::seeded_rng(3);
    let data = autodiff::data::spiral(100, 3, &mut rng);
    let mut mlp = Mlp::new(
        &[2, 100, 3],
        Activation::Relu,
        autodiff::init::Init::He,
        &mut rng,
    );
    let mut sgd = Sgd::new(1.0);
    let shards = 4;
    // What each shard's thread took from its pool, and allocated, in the last step.
    let pools = std::sync::Mutex::new(vec![
        buffers::Stats {
            reused: 0,
            allocated: 0
        };
        shards
    ]);
    let sharded = steps(|| {
        let (_, grad) = sharded_grad(data.len(), shards, |rows| {
            let before = buffers::stats();
            let x = buffers::copy(&data.x.rows(rows.start, rows.len()).clone_owned());
            let result = mlp.loss_and_grad(&x, &data.labels[rows.clone()], Loss::Hinge, 0.0);
            buffers::recycle(x);
            let after = buffers::stats();
            pools.lock().unwrap()[rows.start * shards / data.len()] = buffers::Stats {
                reused: after.reused - before.reused,
                allocated: after.allocated - before.allocated,
            };
            result
        });
        sgd.step(mlp.parameters_mut(), grad.parameters());
        grad.recycle();
    });
    report("Mlp 2 → 100 → 3, 4 shards, SGD", &sharded);
    for (i, s) in sharded.iter().enumerate().skip(WARM_UP) {
        assert_eq!(s.pool.allocated, 0, "sharded: step {i} allocated matrices");
        // The `Mlp`'s and the optimizer's lists, the shards' results, the pool's jobs.
        assert!(s.all.count_total <= 32, "sharded: step {i}: {:?}", s.all);
        assert!(s.all.bytes_total <= 8192, "sharded: step {i}: {:?}", s.all);
        // The counter counts this thread's allocations and frees only: what a step leaves
        // live here are the records of the jobs handed to the pool's workers (the shards',
        // and the polling worker's when it had stopped polling), which the workers free.
        assert!(s.all.count_current <= 2, "sharded: step {i}: {:?}", s.all);
        assert!(s.all.bytes_current <= 128, "sharded: step {i}: {:?}", s.all);
    }
    for (i, pool) in pools.lock().unwrap().iter().enumerate() {
        println!(
            "  its shard {i}, last step: matrices {} reused, {} allocated",
            pool.reused, pool.allocated
        );
        assert_eq!(
            pool.allocated, 0,
            "shard {i} allocated matrices in the last step"
        );
        assert!(pool.reused > 0, "shard {i} did not use its thread's pool");
    }
    autodiff::linalg::set_max_threads(1);
}

/// The optimizers' `update` on a `#[derive(Parameters)]` struct: the first step allocates
/// the optimizer's state, every later step allocates nothing at all.
#[test]
fn optimizers_update_structured_parameters_without_allocating() {
    use autodiff::optim::{Adam, Momentum};
    use autodiff::prelude::*;
    // The counter sees every thread's allocations while it measures.
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());

    #[derive(Parameters, Clone, Debug, PartialEq)]
    struct Net {
        w: DMatrix<f64>,
        b: RowDVector<f64>,
        layers: Vec<SMatrix<f64, 3, 3>>,
        #[parameters(skip)]
        name: String,
    }

    let mut p = Net {
        w: DMatrix::from_element(20, 30, 0.5),
        b: RowDVector::from_element(30, -0.5),
        layers: vec![SMatrix::from_element(1.0); 3],
        name: "net".into(),
    };
    let mut g = p.zeros_like();
    g.w.fill(0.25);
    g.layers[2].fill(-1.0);
    fn run(name: &str, optimizer: &mut impl Optimizer, p: &mut Net, g: &Net) {
        let counts: Vec<AllocationInfo> =
            (0..4).map(|_| measure(|| optimizer.update(p, g))).collect();
        println!(
            "{name}: allocations per update {:?}",
            counts.iter().map(|c| c.count_total).collect::<Vec<_>>()
        );
        for (i, c) in counts.iter().enumerate().skip(1) {
            assert_eq!(c.count_total, 0, "{name}: update {i} allocated: {c:?}");
        }
    }
    run("Sgd", &mut Sgd::new(0.1), &mut p, &g);
    let mut momentum = Momentum::new(0.1, 0.9);
    run("Momentum", &mut momentum, &mut p, &g);
    let mut adam = Adam::new(0.1);
    run("Adam", &mut adam, &mut p, &g);
    // The first Momentum and Adam steps allocate their state: the counter sees allocations.
    let mut fresh = Adam::new(0.1);
    assert!(measure(|| fresh.update(&mut p, &g)).count_total > 0);
    assert_eq!(p.name, "net");
}

/// Training steps of a loss whose weights are a `#[derive(Parameters)]` struct with `Vec`
/// fields read in a loop: after the warm-up, the gradient's matrices all come from the pool
/// (each element read, each adjoint, the gradient itself, given back after the update) and
/// memory does not grow.
#[test]
fn structured_parameters_reuse_the_pool_step_after_step() {
    use autodiff::optim::Adam;
    use autodiff::prelude::*;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    autodiff::linalg::set_max_threads(1);
    buffers::release();

    #[derive(Parameters, Clone, Debug, PartialEq)]
    pub struct Deep {
        layers: Vec<DMatrix<f64>>,
        biases: Vec<RowDVector<f64>>,
        head: DMatrix<f64>,
    }

    #[differentiate(wrt(p))]
    fn deep_loss(x: &DMatrix<f64>, labels: &[usize], p: &Deep) -> f64 {
        let mut h = relu(add_bias(x * &p.layers[0], &p.biases[0]));
        for i in 1..p.layers.len() {
            h = relu(add_bias(&h * &p.layers[i], &p.biases[i]));
        }
        softmax_cross_entropy(&h * &p.head, labels)
    }

    let mut rng = autodiff::init::seeded_rng(4);
    let data = autodiff::data::spiral(50, 3, &mut rng);
    let he = autodiff::init::Init::He;
    let mut p = Deep {
        layers: vec![he.weights(2, 32, &mut rng), he.weights(32, 32, &mut rng)],
        biases: vec![RowDVector::zeros(32), RowDVector::zeros(32)],
        head: he.weights(32, 3, &mut rng),
    };
    let mut adam = Adam::new(1e-2);
    let (first, _) = deep_loss_grad(&data.x, &data.labels, &p);
    let measured = steps(|| {
        let (_, grad) = deep_loss_grad(&data.x, &data.labels, &p);
        adam.update(&mut p, &grad.p);
        grad.p.give_back();
    });
    report("Deep (Vec fields), Adam", &measured);
    assert_steady("Deep", &measured);
    let (last, _) = deep_loss_grad(&data.x, &data.labels, &p);
    assert!(last < first, "the loss went down: {first} → {last}");
}
