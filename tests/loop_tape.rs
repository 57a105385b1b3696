//! The tape of a loop: the bytes `NAME_fwd` leaves allocated (the tape, alive until
//! `NAME_bwd`), measured by a counting global allocator for k and 2k iterations. A loop's
//! tape grows linearly with the iterations that ran, each iteration keeping what its
//! reverse sweep reads; the unrolled function keeps each value once. The numbers are printed
//! (`--nocapture`) for BENCHMARKS.md ("Loops").

use allocation_counter::measure;
use autodiff::buffers;
use autodiff::prelude::*;

const BATCH: usize = 32;
const HIDDEN: usize = 64;
const INPUT: usize = 16;
const F64: usize = std::mem::size_of::<f64>();

/// The scalar recurrence of the loop benchmark (`benches/loops.rs`).
#[differentiate(wrt(a, s0))]
fn scalar_loop(a: f64, s0: f64, xs: &[f64]) -> f64 {
    let mut s = s0;
    for x in xs.iter() {
        s = (s * a + x).tanh();
    }
    s
}

/// The n-dimensional Rosenbrock function of the example, a loop reading `x[i]` and `x[i + 1]`.
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

/// The RNN of the loop benchmark.
#[differentiate(wrt(wh, wx, h0))]
fn rnn_loop(xs: &[DMatrix<f64>], wh: &DMatrix<f64>, wx: &DMatrix<f64>, h0: &DMatrix<f64>) -> f64 {
    let mut h = h0.clone();
    for x in xs.iter() {
        h = tanh(&h * wh + x * wx);
    }
    h.norm_squared()
}

/// Two steps of the RNN, unrolled.
#[differentiate(wrt(wh, wx, h0))]
fn rnn_unrolled_2(
    xs: &[DMatrix<f64>],
    wh: &DMatrix<f64>,
    wx: &DMatrix<f64>,
    h0: &DMatrix<f64>,
) -> f64 {
    let mut h = h0.clone();
    let x = xs[0].clone();
    h = tanh(&h * wh + &x * wx);
    let x = xs[1].clone();
    h = tanh(&h * wh + &x * wx);
    h.norm_squared()
}

/// Four steps of the RNN, unrolled.
#[differentiate(wrt(wh, wx, h0))]
fn rnn_unrolled_4(
    xs: &[DMatrix<f64>],
    wh: &DMatrix<f64>,
    wx: &DMatrix<f64>,
    h0: &DMatrix<f64>,
) -> f64 {
    let mut h = h0.clone();
    let x = xs[0].clone();
    h = tanh(&h * wh + &x * wx);
    let x = xs[1].clone();
    h = tanh(&h * wh + &x * wx);
    let x = xs[2].clone();
    h = tanh(&h * wh + &x * wx);
    let x = xs[3].clone();
    h = tanh(&h * wh + &x * wx);
    h.norm_squared()
}

/// The bytes that `fwd` leaves allocated while its result (value and tape) is alive, with an
/// empty buffer pool before and what the pool holds afterwards (buffers given back during the
/// forward sweep, free for the next request) left out. Also checks that the tape gives the
/// gradient of a plain `NAME_vjp` call, so that what was measured is a whole tape.
fn tape_bytes<T>(fwd: impl FnOnce() -> T) -> (usize, T) {
    buffers::release();
    let mut kept = None;
    let info = measure(|| kept = Some(fwd()));
    let pooled = buffers::held_bytes::<f64>() + buffers::held_bits_bytes();
    let live = usize::try_from(info.bytes_current).expect("the tape is still alive");
    (live - pooled, kept.expect("fwd ran"))
}

fn rnn_data(k: usize) -> (Vec<DMatrix<f64>>, DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
    let xs = (0..k)
        .map(|t| DMatrix::from_fn(BATCH, INPUT, |i, j| ((t + 3 * i + 7 * j) as f64).sin()))
        .collect();
    let wh = DMatrix::from_fn(HIDDEN, HIDDEN, |i, j| ((i * HIDDEN + j) as f64).cos() * 0.1);
    let wx = DMatrix::from_fn(INPUT, HIDDEN, |i, j| ((i + j) as f64).sin() * 0.25);
    let h0 = DMatrix::from_fn(BATCH, HIDDEN, |i, j| ((i * j) as f64).sin() * 0.1);
    (xs, wh, wx, h0)
}

/// Per iteration, the scalar recurrence keeps a few scalars: the state it multiplied (for
/// the gradient of `a`) and the output of `tanh`. Measured for k and 2k iterations, k a power
/// of two so that the `Vec` of records is full both times.
#[test]
fn scalar_loop_tape_grows_linearly() {
    let run = |k: usize| {
        let xs: Vec<f64> = (0..k).map(|i| (i as f64).sin()).collect();
        let (bytes, (value, tape)) = tape_bytes(|| scalar_loop_fwd(0.9, 0.1, &xs));
        let g = scalar_loop_bwd(tape, 1.0);
        assert_eq!((value, g), scalar_loop_grad(0.9, 0.1, &xs));
        bytes
    };
    let (k, b1, b2, b4) = (512, run(512), run(1024), run(2048));
    let per_iteration = (b2 - b1) as f64 / k as f64;
    println!(
        "scalar loop: tape {b1} bytes for {k} iterations, {b2} for {}, {b4} for {}: \
         {per_iteration} bytes per iteration",
        2 * k,
        4 * k
    );
    assert_eq!(b4 - b2, 2 * (b2 - b1), "the tape grows linearly");
    // What the reverse sweep of one iteration reads: the state before it and tanh's output.
    let reads = 2 * F64;
    assert!(
        per_iteration >= reads as f64 && per_iteration <= 2.0 * reads as f64,
        "{per_iteration} bytes per iteration against {reads} read"
    );
}

/// The Rosenbrock loop in n = 1,000, 10,000 and 100,000 dimensions: its tape grows by the
/// same bytes per iteration, between what an iteration's pullbacks read and twice that, and
/// the whole gradient call's peak memory is linear in n too (the tape, the argument's
/// adjoint, and the gradient returned).
#[test]
fn rosenbrock_memory_is_linear() {
    let start = |n: usize| DVector::from_fn(n, |i, _| if i % 2 == 0 { -1.2 } else { 1.0 });
    let run = |n: usize| {
        let x = start(n);
        let (bytes, (value, tape)) = tape_bytes(|| rosenbrock_fwd(&x));
        let g = rosenbrock_bwd(tape, 1.0);
        assert_eq!((value, g), rosenbrock_grad(&x));
        buffers::release();
        let peak = measure(|| drop(rosenbrock_grad(&x))).bytes_max;
        (bytes, peak as usize)
    };
    let sizes = [1_000, 10_000, 100_000];
    let [(t1, p1), (t2, p2), (t3, p3)] = sizes.map(run);
    // n − 1 iterations each.
    let per_iteration = (t2 - t1) as f64 / (sizes[1] - sizes[0]) as f64;
    let peak_per_element = (p3 - p2) as f64 / (sizes[2] - sizes[1]) as f64;
    println!(
        "Rosenbrock loop: tape {t1}, {t2}, {t3} bytes for n = {:?}: {per_iteration} bytes per \
         iteration; peak of a gradient call {p1}, {p2}, {p3} bytes: {peak_per_element} bytes \
         per element",
        sizes
    );
    assert_eq!(
        (t3 - t2) * (sizes[1] - sizes[0]),
        (t2 - t1) * (sizes[2] - sizes[1]),
        "the tape grows linearly"
    );
    // Counted per operation: the two operands of each product (`x[i] * x[i]`,
    // `100.0 * a * a`'s second product, `b * b`), `a` for the scaling by 100, and the index
    // of each of the four reads of `x`, which their pullbacks add into.
    let reads = 7 * F64 + 4 * std::mem::size_of::<usize>();
    assert!(
        per_iteration >= reads as f64 && per_iteration <= 2.0 * reads as f64,
        "{per_iteration} bytes per iteration against {reads} read"
    );
    // The peak: the tape, plus the adjoint of x and the gradient (n f64 each) at most.
    assert!(
        peak_per_element <= per_iteration + 2.0 * F64 as f64,
        "peak {peak_per_element} bytes per element against a tape of {per_iteration}"
    );
}

/// Per iteration, the RNN keeps the three matrices its reverse sweep reads: the state it
/// multiplied by `wh` (for the gradient of `wh`), the copy of its input (for the gradient
/// of `wx`) and the output of `tanh`; each record adds only their headers. The unrolled
/// function, measured the same way, keeps each state once (one step's output is the next
/// step's operand).
#[test]
fn rnn_loop_tape_grows_linearly() {
    let run = |k: usize| {
        let (xs, wh, wx, h0) = rnn_data(k);
        let (bytes, (value, tape)) = tape_bytes(|| rnn_loop_fwd(&xs, &wh, &wx, &h0));
        let g = rnn_loop_bwd(tape, 1.0);
        assert_eq!((value, g), rnn_loop_grad(&xs, &wh, &wx, &h0));
        bytes
    };
    // A first call leaves memory of its own allocated for the thread (the product kernel's
    // scratch, about 2 MB): not part of any tape.
    run(4);
    let (k, b1, b2, b4) = (64, run(64), run(128), run(256));
    let per_iteration = (b2 - b1) as f64 / k as f64;
    let state = BATCH * HIDDEN * F64;
    let input = BATCH * INPUT * F64;
    let reads = 2 * state + input;
    println!(
        "RNN loop (batch {BATCH}, hidden {HIDDEN}, input {INPUT}): tape {b1} bytes for {k} \
         iterations, {b2} for {}, {b4} for {}: {per_iteration} bytes per iteration; the \
         matrices its reverse sweep reads: {reads} bytes",
        2 * k,
        4 * k
    );
    assert_eq!(b4 - b2, 2 * (b2 - b1), "the tape grows linearly");
    assert!(
        per_iteration >= reads as f64 && per_iteration <= reads as f64 + 256.0,
        "{per_iteration} bytes per iteration against {reads} read"
    );

    let (xs, wh, wx, h0) = rnn_data(4);
    let per_step_kept_once = (state + input) as f64;
    let (u2, (v2, t2)) = tape_bytes(|| rnn_unrolled_2_fwd(&xs[..2], &wh, &wx, &h0));
    assert_eq!(
        (v2, rnn_unrolled_2_bwd(t2, 1.0)),
        rnn_unrolled_2_grad(&xs[..2], &wh, &wx, &h0)
    );
    let (u4, (v4, t4)) = tape_bytes(|| rnn_unrolled_4_fwd(&xs, &wh, &wx, &h0));
    assert_eq!(
        (v4, rnn_unrolled_4_bwd(t4, 1.0)),
        rnn_unrolled_4_grad(&xs, &wh, &wx, &h0)
    );
    let unrolled_per_step = (u4 - u2) as f64 / 2.0;
    println!(
        "RNN unrolled: tape {u2} bytes for 2 steps, {u4} for 4: {unrolled_per_step} bytes per \
         step"
    );
    assert!(
        unrolled_per_step >= per_step_kept_once && unrolled_per_step <= per_step_kept_once + 256.0,
        "{unrolled_per_step} bytes per step against {per_step_kept_once} kept once"
    );
}

/// What the unrolled function shows is possible: a carried state kept once, as the output of
/// the iteration that computed it, also serving as the operand of the next iteration's
/// product. The loop keeps a copy of it in the next iteration's record instead (the value
/// carried to the next iteration is a copy of the one kept), so its tape per iteration holds
/// one state more than needed, and each iteration copies the state once more.
#[test]
#[ignore = "the loop keeps a carried matrix twice (in the records of two iterations)"]
fn rnn_loop_keeps_each_state_once() {
    let run = |k: usize| {
        let (xs, wh, wx, h0) = rnn_data(k);
        tape_bytes(|| rnn_loop_fwd(&xs, &wh, &wx, &h0)).0
    };
    run(4);
    let (k, b1, b2) = (64, run(64), run(128));
    let per_iteration = (b2 - b1) as f64 / k as f64;
    let kept_once = (BATCH * HIDDEN * F64 + BATCH * INPUT * F64) as f64;
    assert!(
        per_iteration <= kept_once + 256.0,
        "{per_iteration} bytes per iteration against {kept_once} with each state kept once"
    );
}
