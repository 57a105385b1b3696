"""PyTorch CPU, eager autograd, on W1-W7: the loss built from tensor ops on leaf tensors
with requires_grad, loss.backward(), then the SGD update in place under no_grad with the
gradients set to None (what torch.optim.SGD does, without its bookkeeping); W7 eager
forward over reverse, torch.func.jvp of torch.func.grad_and_value, without an update.
torch.set_num_threads(cores)."""

import math
import os

import torch
import torch.nn.functional as F

import common as c

DT = {"f64": torch.float64, "f32": torch.float32}


def leaf(a, dtype):
    return torch.tensor(a, dtype=dtype).requires_grad_(True)


def const(a, dtype):
    return torch.tensor(a, dtype=dtype)


def grads_of(loss, params):
    loss.backward()
    return [p.grad.detach().numpy().copy() for p in params]


def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.sub_(p.grad, alpha=lr)
            p.grad = None


def w1(dtype, budget):
    t = DT[dtype]
    x, y, z = (torch.tensor(v, dtype=t, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    f = (x + y) * z
    g = grads_of(f, [x, y, z])
    err = max(c.scalar_error(f.item(), -12.0), c.relative_error(g, [-4, -4, 3]))

    def step():
        x.grad = y.grad = z.grad = None
        f = (x + y) * z
        f.backward()
        return f.detach()

    return err, c.measure(step, budget)


def w2_loss(x, y, w1, w2):
    h = torch.sigmoid(x @ w1)
    y_pred = h @ w2
    return (y_pred - y).pow(2).sum()


def w2(dtype, budget):
    t = DT[dtype]
    x, y, w1, w2 = c.w2_fixture()
    x, y, w1, w2 = const(x, t), const(y, t), leaf(w1, t), leaf(w2, t)
    loss = w2_loss(x, y, w1, w2)
    g1, g2 = grads_of(loss, [w1, w2])
    err = max(c.scalar_error(loss.item(), c.read("w2s_loss")[()]), c.relative_error(g1, c.read("w2s_grad_w1")),
              c.relative_error(g2, c.read("w2s_grad_w2")))
    sgd([w1, w2], 1e-4)
    err = max(err, c.scalar_error(w2_loss(x, y, w1, w2).item(), c.read("w2s_loss_after_1_step")[()]))

    x, y, w1, w2 = c.w2_full()
    x, y, w1, w2 = const(x, t), const(y, t), leaf(w1, t), leaf(w2, t)

    def step():
        loss = w2_loss(x, y, w1, w2)
        loss.backward()
        sgd([w1, w2], 1e-4)
        return loss.detach()

    return err, c.measure(step, budget)


def w3_loss(x, y, w1, b1, w2, b2, reg=1e-3):
    hidden = torch.relu(x @ w1 + b1)
    scores = hidden @ w2 + b2
    return F.cross_entropy(scores, y) + 0.5 * reg * (w1.pow(2).sum() + w2.pow(2).sum())


def w3(dtype, budget):
    t = DT[dtype]
    x0, y0, params0 = c.w3_fixture()
    x, y = const(x0, t), torch.tensor(y0)
    p = [leaf(q, t) for q in params0]
    loss = w3_loss(x, y, *p)
    grads = grads_of(loss, p)
    names = ["w3_grad_W1", "w3_grad_b1", "w3_grad_W2", "w3_grad_b2"]
    err = max([c.scalar_error(loss.item(), c.read("w3_loss")[()])] + [c.relative_error(g, c.read(n)) for g, n in zip(grads, names)])
    trace = c.read("w3_loss_trace")
    p = [leaf(q, t) for q in params0]
    for k in range(3):
        loss = w3_loss(x, y, *p)
        err = max(err, c.scalar_error(loss.item(), trace[k, 1]))
        loss.backward()
        sgd(p, 1.0)

    p = [leaf(q, t) for q in params0]

    def step():
        loss = w3_loss(x, y, *p)
        loss.backward()
        sgd(p, 1.0)
        return loss.detach()

    return err, c.measure(step, budget)


def w7(dtype, budget):
    """W3's loss: value, gradient and Hessian-vector product along v, forward over reverse
    (torch.func.jvp of torch.func.grad_and_value), eager, every step at the same point."""
    t = DT[dtype]
    x0, y0, params0 = c.w3_fixture()
    x, y = const(x0, t), torch.tensor(y0)
    p = tuple(const(q, t) for q in params0)
    v = tuple(const(q, t) for q in c.w7_direction())
    value_and_grad = torch.func.grad_and_value(lambda q: w3_loss(x, y, *q))

    def hvp():
        (grads, value), (hv, _) = torch.func.jvp(value_and_grad, (p,), (v,))
        return value, grads, hv

    value, grads, hv = hvp()
    names = ["w3_grad_W1", "w3_grad_b1", "w3_grad_W2", "w3_grad_b2"]
    err = max([c.scalar_error(value.item(), c.read("w3_loss")[()])] + [c.relative_error(g, c.read(n)) for g, n in zip(grads, names)]
              + [c.relative_error(h, c.read(n)) for h, n in zip(hv, c.W7_NAMES)])

    def step():
        value, grads, hv = hvp()
        return value

    return err, c.measure(step, budget)


def w4_loss(x, y, w1, b1, w2, b2, w3, b3):
    h1 = torch.relu(x @ w1 + b1)
    h2 = torch.relu(h1 @ w2 + b2)
    return F.cross_entropy(h2 @ w3 + b3, y)


def w4(dtype, budget):
    t = DT[dtype]
    x, y, ws, bs = c.w4_fixture()
    p = [leaf(q, t) for pair in zip(ws, bs) for q in pair]
    loss = w4_loss(const(x, t), torch.tensor(y), *p)
    grads = grads_of(loss, p)
    names = [f"w4s_grad_{n}{k}" for k in (1, 2, 3) for n in ("W", "b")]
    err = max([c.scalar_error(loss.item(), c.read("w4s_loss")[()])] + [c.relative_error(g, c.read(n)) for g, n in zip(grads, names)])

    x, y, ws, bs = c.w4_full()
    x, y = const(x, t), torch.tensor(y)
    p = [leaf(q, t) for pair in zip(ws, bs) for q in pair]

    def step():
        loss = w4_loss(x, y, *p)
        loss.backward()
        sgd(p, 0.01)
        return loss.detach()

    return err, c.measure(step, budget)


def w5_loss(xs, y, wx, wh, b):
    """The tanh RNN, a plain Python loop over the steps: h_t = tanh(x_t·Wx + h_{t-1}·Wh + b)."""
    h = torch.zeros_like(y)
    for t in range(xs.shape[0]):
        h = torch.tanh(xs[t] @ wx + h @ wh + b)
    return (h - y).pow(2).sum()


def w5(dtype, budget):
    t = DT[dtype]
    lr = 1e-3
    x, y, params = c.w5_fixture()
    xs, y = const(c.steps_of(x, y), t), const(y, t)
    p = [leaf(q, t) for q in params]
    loss = w5_loss(xs, y, *p)
    grads = grads_of(loss, p)
    err = max([c.scalar_error(loss.item(), c.read("w5s_loss")[()])]
              + [c.relative_error(g, c.read(n)) for g, n in zip(grads, c.W5_FIXTURE_GRADS)])
    sgd(p, lr)
    err = max(err, c.scalar_error(w5_loss(xs, y, *p).item(), c.read("w5s_loss_after_1_step")[()]))

    x, y, params = c.w5_full()
    xs, y = const(c.steps_of(x, y), t), const(y, t)
    p = [leaf(q, t) for q in params]

    def step():
        loss = w5_loss(xs, y, *p)
        loss.backward()
        sgd(p, lr)
        return loss.detach()

    return err, c.measure(step, budget)


def w6_loss(d2, y, theta):
    """The GP's negative log marginal likelihood: K = sf2 exp(-d2 / 2 l^2) + sn2 I = L L^T,
    0.5 y^T K^-1 y (torch.cholesky_solve) + sum log diag L + (n/2) log 2 pi."""
    n = y.shape[0]
    k = theta[1].exp() * torch.exp(-0.5 * (-2 * theta[0]).exp() * d2) + theta[2].exp() * torch.eye(n, dtype=y.dtype)
    l = torch.linalg.cholesky(k)
    alpha = torch.cholesky_solve(y[:, None], l)[:, 0]
    return 0.5 * (y @ alpha) + torch.log(torch.diagonal(l)).sum() + 0.5 * n * math.log(2 * math.pi)


def w6(dtype, budget):
    t = DT[dtype]
    d2, y, theta = c.w6_fixture()
    d2, y, theta = const(d2, t), const(y, t), leaf(theta, t)
    loss = w6_loss(d2, y, theta)
    (g,) = grads_of(loss, [theta])
    err = max(c.scalar_error(loss.item(), c.read("w6s_loss")[()]), c.relative_error(g, c.read("w6s_grad")))
    sgd([theta], c.W6_LR)
    err = max(err, c.scalar_error(w6_loss(d2, y, theta).item(), c.read("w6s_loss_after_1_step")[()]))

    d2, y, theta = c.w6_full()
    d2, y, theta = const(d2, t), const(y, t), leaf(theta, t)

    def step():
        loss = w6_loss(d2, y, theta)
        loss.backward()
        sgd([theta], c.W6_LR)
        return loss.detach()

    return err, c.measure(step, budget)


def peak(dtype, budget):
    """torch.matmul into a preallocated tensor (MKL)."""

    def prepare(a, b):
        a, b = torch.from_numpy(a), torch.from_numpy(b)
        out = torch.empty_like(a)
        return lambda: torch.matmul(a, b, out=out)

    return c.peak(dtype, budget, prepare)


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("PEERS_THREADS", os.cpu_count())))
    c.emit_meta("torch", version=torch.__version__, threads=torch.get_num_threads(),
                parallel=torch.__config__.parallel_info().splitlines()[0:3],
                mkldnn=torch.backends.mkldnn.is_available(), blas=torch.__config__.show().count("BLAS_INFO=mkl") and "mkl" or "other")
    c.run("torch", torch.get_num_threads(), {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7, "peak": peak})
