//! Losses and gradients against the ones PyTorch computed in float64 for the benchmark
//! workloads (`tests/data`, see its README): an implementation no one here wrote.

mod common;

use common::fixtures::{labels, matrix, relative_error, row, scalar};
use common::workloads;

const AGREEMENT: f64 = 1e-10;

#[track_caller]
fn agree(what: &str, got: &[f64], want: &[f64]) {
    let e = relative_error(got, want);
    assert!(e < AGREEMENT, "{what}: relative error {e:e}");
}

#[test]
fn reduced_lecture_net() {
    let (x, y, w1, w2) = (
        matrix("w2s_x"),
        matrix("w2s_y"),
        matrix("w2s_w1"),
        matrix("w2s_w2"),
    );
    let (loss, grad) = workloads::two_layer_loss_grad(&x, &y, &w1, &w2);
    agree("loss", &[loss], &[scalar("w2s_loss")]);
    agree(
        "grad w1",
        grad.w1.as_slice(),
        matrix("w2s_grad_w1").as_slice(),
    );
    agree(
        "grad w2",
        grad.w2.as_slice(),
        matrix("w2s_grad_w2").as_slice(),
    );
    let (w1, w2) = (w1 - 1e-4 * grad.w1, w2 - 1e-4 * grad.w2);
    agree(
        "loss after one step",
        &[workloads::two_layer_loss(&x, &y, &w1, &w2)],
        &[scalar("w2s_loss_after_1_step")],
    );
}

#[test]
fn spiral_net() {
    let (x, y) = (matrix("w3_X"), labels("w3_y"));
    let (w1, b1, w2, b2) = (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let (loss, g) = workloads::spiral_loss_grad(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
    agree("loss", &[loss], &[scalar("w3_loss")]);
    agree("grad W1", g.w1.as_slice(), matrix("w3_grad_W1").as_slice());
    agree("grad b1", g.b1.as_slice(), row("w3_grad_b1").as_slice());
    agree("grad W2", g.w2.as_slice(), matrix("w3_grad_W2").as_slice());
    agree("grad b2", g.b2.as_slice(), row("w3_grad_b2").as_slice());
}

#[test]
fn spiral_training_follows_the_reference_trace() {
    // Full-batch SGD at learning rate 1.0; the trace has the loss at steps 0, 1, 2, 10, 100.
    let (x, y) = (matrix("w3_X"), labels("w3_y"));
    let (mut w1, mut b1, mut w2, mut b2) =
        (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let trace = matrix("w3_loss_trace");
    let wanted: Vec<(usize, f64)> = trace
        .row_iter()
        .map(|r| (r[0] as usize, r[1]))
        .filter(|(s, _)| *s <= 100)
        .collect();
    for step in 0..=100 {
        let (loss, g) = workloads::spiral_loss_grad(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
        if let Some((_, want)) = wanted.iter().find(|(s, _)| *s == step) {
            agree(&format!("loss at step {step}"), &[loss], &[*want]);
        }
        w1 -= g.w1;
        b1 -= g.b1;
        w2 -= g.w2;
        b2 -= g.b2;
    }
}

#[test]
fn wide_net_reduced() {
    let (x, y) = (matrix("w4s_x"), labels("w4s_y"));
    let (w1, b1, w2, b2, w3, b3) = (
        matrix("w4s_W1"),
        row("w4s_b1"),
        matrix("w4s_W2"),
        row("w4s_b2"),
        matrix("w4s_W3"),
        row("w4s_b3"),
    );
    let (loss, g) = workloads::wide_loss_grad(&x, &y, &w1, &b1, &w2, &b2, &w3, &b3);
    agree("loss", &[loss], &[scalar("w4s_loss")]);
    agree("grad W1", g.w1.as_slice(), matrix("w4s_grad_W1").as_slice());
    agree("grad b1", g.b1.as_slice(), row("w4s_grad_b1").as_slice());
    agree("grad W2", g.w2.as_slice(), matrix("w4s_grad_W2").as_slice());
    agree("grad b2", g.b2.as_slice(), row("w4s_grad_b2").as_slice());
    agree("grad W3", g.w3.as_slice(), matrix("w4s_grad_W3").as_slice());
    agree("grad b3", g.b3.as_slice(), row("w4s_grad_b3").as_slice());
}

#[test]
fn spiral_hand_written_agrees_too() {
    // The hand-written baseline of the benchmarks is checked against the same reference.
    let (x, y) = (matrix("w3_X"), labels("w3_y"));
    let (w1, b1, w2, b2) = (matrix("w3_W1"), row("w3_b1"), matrix("w3_W2"), row("w3_b2"));
    let (loss, g) = common::hand::spiral(&x, &y, &w1, &b1, &w2, &b2, 1e-3);
    agree("loss", &[loss], &[scalar("w3_loss")]);
    agree("grad W1", g.w1.as_slice(), matrix("w3_grad_W1").as_slice());
    agree("grad b1", g.b1.as_slice(), row("w3_grad_b1").as_slice());
    agree("grad W2", g.w2.as_slice(), matrix("w3_grad_W2").as_slice());
    agree("grad b2", g.b2.as_slice(), row("w3_grad_b2").as_slice());
}
