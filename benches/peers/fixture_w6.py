"""Writes W6's reduced fixture `tests/data/w6s_*.txt` (README.md, "Validation"): a Gaussian
process on 12 points drawn from stream 16 of the portable generator (common.w6_data), at the
log-hyperparameters theta = (log l, log sf2, log sn2) = (0.3, -0.2, -1.5), and what PyTorch's
autograd computes from them in float64: the negative log marginal likelihood, its gradient
with respect to theta, and the loss after one SGD step at W6's learning rate. Written here on
its own, with torch.linalg.cholesky and torch.cholesky_solve, so that no peer's code is its
own reference. Run from the kit's environment:

    target/peers/venv/bin/python benches/peers/fixture_w6.py
"""

import math

import torch

import common as c

N = 12
THETA = [0.3, -0.2, -1.5]


def write(name, a, comment):
    a = torch.as_tensor(a, dtype=torch.float64)
    values = a.reshape(-1, a.shape[-1]) if a.dim() > 0 else a.reshape(1, 1)
    lines = [f"# shape {' '.join(str(d) for d in a.shape)}".rstrip(), f"# {comment}"]
    lines += [" ".join(f"{v:.17g}" for v in row.tolist()) for row in values]
    (c.FIXTURES / f"{name}.txt").write_text("\n".join(lines) + "\n")


def loss_of(x, y, theta):
    d2 = (x[:, None] - x[None, :]) ** 2
    k = theta[1].exp() * torch.exp(-0.5 * d2 / (2 * theta[0]).exp()) + theta[2].exp() * torch.eye(len(x), dtype=torch.float64)
    l = torch.linalg.cholesky(k)
    alpha = torch.cholesky_solve(y[:, None], l)[:, 0]
    return 0.5 * y @ alpha + torch.log(torch.diagonal(l)).sum() + 0.5 * len(x) * math.log(2 * math.pi)


def main():
    x, y, _ = c.w6_data(16, N)
    x, y = torch.tensor(x), torch.tensor(y)
    theta = torch.tensor(THETA, dtype=torch.float64, requires_grad=True)
    loss = loss_of(x, y, theta)
    loss.backward()
    source = f"W6 reduced: stream 16, n={N} (benches/peers/fixture_w6.py)"
    write("w6s_x", x, source)
    write("w6s_y", y, source)
    write("w6s_theta", theta.detach(), "log l, log sf2, log sn2")
    write("w6s_loss", loss.detach(), "PyTorch float64: 0.5 y^T K^-1 y + 0.5 log det K + (n/2) log 2 pi")
    write("w6s_grad", theta.grad, "PyTorch float64: the gradient of the loss with respect to theta")
    with torch.no_grad():
        after = loss_of(x, y, theta - c.W6_LR * theta.grad)
    write("w6s_loss_after_1_step", after, f"PyTorch float64: the loss after one SGD step at lr {c.W6_LR}")


if __name__ == "__main__":
    main()
