"""Writes W5's reduced fixture `tests/data/w5s_*.txt` (README.md, "Validation"): a tanh RNN
of 6 steps, batch 4, 3 inputs, 5 hidden units, its data and starting point drawn from stream
15 of the portable generator (common.w5_data), and what PyTorch's autograd computes from them
in float64: the loss Σ (h_6 − y)², its gradients with respect to Wx, Wh and b, and the loss
after one SGD step at W5's learning rate. Written here on its own, so that no peer's code is
its own reference. Run from the kit's environment:

    target/peers/venv/bin/python benches/peers/fixture_w5.py
"""

import torch

import common as c

STEPS, N, D, H = 6, 4, 3, 5
LR = 1e-3
NAMES = ["Wx", "Wh", "b"]


def write(name, a, comment):
    a = torch.as_tensor(a, dtype=torch.float64)
    values = a.reshape(-1, a.shape[-1]) if a.dim() > 0 else a.reshape(1, 1)
    lines = [f"# shape {' '.join(str(d) for d in a.shape)}".rstrip(), f"# {comment}"]
    lines += [" ".join(f"{v:.17g}" for v in row.tolist()) for row in values]
    (c.FIXTURES / f"{name}.txt").write_text("\n".join(lines) + "\n")


def loss_of(x, y, wx, wh, b):
    h = torch.zeros(N, H, dtype=torch.float64)
    for t in range(STEPS):
        h = torch.tanh(x[t * N:(t + 1) * N] @ wx + h @ wh + b)
    return ((h - y) ** 2).sum()


def main():
    x, y, params = c.w5_data(15, STEPS, N, D, H)
    x, y = torch.tensor(x), torch.tensor(y)
    p = [torch.tensor(q, requires_grad=True) for q in params]
    loss = loss_of(x, y, *p)
    loss.backward()
    source = f"W5 reduced: stream 15, {STEPS} steps, N={N}, {D} -> {H} (benches/peers/fixture_w5.py)"
    write("w5s_x", x, f"{source}; step t's input is rows (t-1)*{N} .. t*{N}-1")
    write("w5s_y", y, source)
    for n, q in zip(NAMES, p):
        write(f"w5s_{n}", q.detach(), source)
    write("w5s_loss", loss.detach(), "PyTorch float64: sum((h_6 - y)^2)")
    for n, q in zip(NAMES, p):
        write(f"w5s_grad_{n}", q.grad, f"PyTorch float64: the gradient of the loss with respect to {n}")
    with torch.no_grad():
        after = loss_of(x, y, *[q - LR * q.grad for q in p])
    write("w5s_loss_after_1_step", after, f"PyTorch float64: the loss after one SGD step at lr {LR}")


if __name__ == "__main__":
    main()
