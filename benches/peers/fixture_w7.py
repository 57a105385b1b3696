"""Writes W7's fixture `tests/data/w7_hv_*.txt` (README.md, "Validation"): the Hessian-vector
product of W3's loss at W3's initial parameters (the fixtures w3_*) along the direction v drawn
from stream 17 of the portable generator (common.w7_direction), computed by PyTorch in float64
by double backward (the gradient g with create_graph, then the gradient of <g, v>), and checked
here against central differences of the gradient along v. Written here on its own, reverse over
reverse, so that no peer's code (forward over reverse) is its own reference. Run from the
kit's environment:

    target/peers/venv/bin/python benches/peers/fixture_w7.py
"""

import torch
import torch.nn.functional as F

import common as c

NAMES = ["W1", "b1", "W2", "b2"]
REG = 1e-3
H = 1e-7  # the step of the central differences along v: the nearest relu kink is 1.3e-6 away
FD_TOL = 1e-6  # their relative error against the double-backward product


def write(name, a, comment):
    a = torch.as_tensor(a, dtype=torch.float64)
    values = a.reshape(-1, a.shape[-1]) if a.dim() > 0 else a.reshape(1, 1)
    lines = [f"# shape {' '.join(str(d) for d in a.shape)}".rstrip(), f"# {comment}"]
    lines += [" ".join(f"{v:.17g}" for v in row.tolist()) for row in values]
    (c.FIXTURES / f"{name}.txt").write_text("\n".join(lines) + "\n")


def loss_of(x, y, w1, b1, w2, b2):
    hidden = torch.relu(x @ w1 + b1)
    scores = hidden @ w2 + b2
    return F.cross_entropy(scores, y) + 0.5 * REG * ((w1 * w1).sum() + (w2 * w2).sum())


def gradient(x, y, params, create_graph=False):
    return torch.autograd.grad(loss_of(x, y, *params), params, create_graph=create_graph)


def main():
    x0, y0, params0 = c.w3_fixture()
    x, y = torch.tensor(x0), torch.tensor(y0)
    params = [torch.tensor(p, requires_grad=True) for p in params0]
    v = [torch.tensor(a) for a in c.w7_direction()]
    g = gradient(x, y, params, create_graph=True)
    hv = torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, v)), params)

    def shifted(t):
        return [(p + t * vi).detach().requires_grad_(True) for p, vi in zip(params, v)]

    # No pre-activation changes sign between the two points of the central differences (other
    # than the ones that stay at 0: relu's kink, where v does not move them).
    def mask(t):
        p = shifted(t)
        return torch.sign(x @ p[0] + p[1])

    assert torch.equal(mask(H), mask(-H)) and torch.equal(mask(H), mask(0.0)), "a relu unit flips within ±H·v"
    plus, minus = gradient(x, y, shifted(H)), gradient(x, y, shifted(-H))
    fd = torch.cat([((p - m) / (2 * H)).reshape(-1) for p, m in zip(plus, minus)])
    flat = torch.cat([h.reshape(-1) for h in hv])
    fd_err = float((flat - fd).abs().max() / flat.abs().max())
    assert fd_err < FD_TOL, f"H·v against central differences of the gradient: {fd_err:.1e}"
    print(f"W7: H·v against central differences of the gradient (h = {H}): relative error {fd_err:.1e}")
    for name, h in zip(NAMES, hv):
        write(f"w7_hv_{name}", h, f"PyTorch float64 double backward: (H·v) for {name}, W3's loss at w3_*, v from "
                                  f"stream 17; central differences of the gradient agree within {fd_err:.0e}")


if __name__ == "__main__":
    main()
