"""numpy with hand-written gradients (the lecture's own style: CS231n's two-layer and spiral
code, and its RNN assignment's backpropagation through time), on W1-W6 (W6 by the
textbook formula of the Gaussian process's gradient). One step = loss, gradients, in-place SGD update."""

import math
import os

import numpy as np

import common as c

DT = {"f64": np.float64, "f32": np.float32}


def w1(dtype, budget):
    # Plain Python floats: numpy adds nothing but overhead to three scalars.
    def step():
        x, y, z = -2.0, 5.0, -4.0
        q = x + y
        f = q * z
        dx, dy, dz = z, z, q
        return f

    x, y, z = -2.0, 5.0, -4.0
    err = max(c.scalar_error((x + y) * z, -12.0), c.relative_error([z, z, x + y], [-4, -4, 3]))
    return err, c.measure(step, budget)


def w2_grads(x, y, w1, w2):
    h = 1.0 / (1.0 + np.exp(-(x @ w1)))
    diff = h @ w2 - y
    loss = np.sum(diff * diff)
    grad_y_pred = 2.0 * diff
    grad_w2 = h.T @ grad_y_pred
    grad_h = grad_y_pred @ w2.T
    grad_h *= h * (1.0 - h)
    grad_w1 = x.T @ grad_h
    return loss, grad_w1, grad_w2


def w2(dtype, budget):
    t = DT[dtype]
    x, y, w1, w2 = (a.astype(t) for a in c.w2_fixture())
    lr = 1e-4
    loss, g1, g2 = w2_grads(x, y, w1, w2)
    err = max(c.scalar_error(loss, c.read("w2s_loss")[()]), c.relative_error(g1, c.read("w2s_grad_w1")),
              c.relative_error(g2, c.read("w2s_grad_w2")))
    w1 -= lr * g1
    w2 -= lr * g2
    err = max(err, c.scalar_error(w2_grads(x, y, w1, w2)[0], c.read("w2s_loss_after_1_step")[()]))

    x, y, w1, w2 = (a.astype(t) for a in c.w2_full())

    def step():
        loss, g1, g2 = w2_grads(x, y, w1, w2)
        np.subtract(w1, lr * g1, out=w1)
        np.subtract(w2, lr * g2, out=w2)
        return loss

    return err, c.measure(step, budget)


def softmax_ce(scores, y):
    """Mean softmax cross-entropy and its gradient with respect to the scores."""
    n = scores.shape[0]
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    probs = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(n), y]).sum() / n
    dscores = probs
    dscores[np.arange(n), y] -= 1
    dscores /= n
    return loss, dscores


def w3_grads(x, y, w1, b1, w2, b2, reg):
    hidden = np.maximum(0, x @ w1 + b1)
    scores = hidden @ w2 + b2
    data_loss, dscores = softmax_ce(scores, y)
    loss = data_loss + 0.5 * reg * (np.sum(w1 * w1) + np.sum(w2 * w2))
    dw2 = hidden.T @ dscores + reg * w2
    db2 = dscores.sum(axis=0)
    dhidden = dscores @ w2.T
    dhidden[hidden <= 0] = 0
    dw1 = x.T @ dhidden + reg * w1
    db1 = dhidden.sum(axis=0)
    return loss, [dw1, db1, dw2, db2]


def w3(dtype, budget):
    t = DT[dtype]
    x, y, params = c.w3_fixture()
    x = x.astype(t)
    params = [p.astype(t) for p in params]
    reg, lr = 1e-3, 1.0
    loss, grads = w3_grads(x, y, *params, reg)
    names = ["w3_grad_W1", "w3_grad_b1", "w3_grad_W2", "w3_grad_b2"]
    err = max([c.scalar_error(loss, c.read("w3_loss")[()])] + [c.relative_error(g, c.read(n)) for g, n in zip(grads, names)])
    trace = c.read("w3_loss_trace")
    p = [q.copy() for q in params]
    for k in range(3):
        loss, grads = w3_grads(x, y, *p, reg)
        err = max(err, c.scalar_error(loss, trace[k, 1]))
        for q, g in zip(p, grads):
            q -= lr * g

    p = [q.copy() for q in params]

    def step():
        loss, grads = w3_grads(x, y, *p, reg)
        for q, g in zip(p, grads):
            q -= lr * g
        return loss

    return err, c.measure(step, budget)


def w4_grads(x, y, ws, bs):
    h1 = x @ ws[0]
    h1 += bs[0]
    np.maximum(h1, 0, out=h1)
    h2 = h1 @ ws[1]
    h2 += bs[1]
    np.maximum(h2, 0, out=h2)
    scores = h2 @ ws[2] + bs[2]
    loss, ds = softmax_ce(scores, y)
    gw3 = h2.T @ ds
    gb3 = ds.sum(axis=0)
    dh2 = ds @ ws[2].T
    dh2[h2 <= 0] = 0
    gw2 = h1.T @ dh2
    gb2 = dh2.sum(axis=0)
    dh1 = dh2 @ ws[1].T
    dh1[h1 <= 0] = 0
    gw1 = x.T @ dh1
    gb1 = dh1.sum(axis=0)
    return loss, [gw1, gw2, gw3], [gb1, gb2, gb3]


def w4(dtype, budget):
    t = DT[dtype]
    x, y, ws, bs = c.w4_fixture()
    loss, gw, gb = w4_grads(x.astype(t), y, [w.astype(t) for w in ws], [b.astype(t) for b in bs])
    err = c.scalar_error(loss, c.read("w4s_loss")[()])
    for k in range(3):
        err = max(err, c.relative_error(gw[k], c.read(f"w4s_grad_W{k + 1}")), c.relative_error(gb[k], c.read(f"w4s_grad_b{k + 1}")))

    x, y, ws, bs = c.w4_full()
    x = x.astype(t)
    ws = [w.astype(t) for w in ws]
    bs = [b.astype(t) for b in bs]
    lr = 0.01

    def step():
        loss, gw, gb = w4_grads(x, y, ws, bs)
        for p, g in zip(ws + bs, gw + gb):
            p -= lr * g
        return loss

    return err, c.measure(step, budget)


def w5_grads(xs, y, wx, wh, b):
    """The tanh RNN over the steps' inputs xs (steps x N x D): the forward pass keeps every
    hidden state, the backward pass walks the steps in reverse (backpropagation through time)."""
    hs = [np.zeros_like(y)]
    for x in xs:
        hs.append(np.tanh(x @ wx + hs[-1] @ wh + b))
    diff = hs[-1] - y
    loss = np.sum(diff * diff)
    dh = 2.0 * diff
    dwx, dwh, db = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    for t in range(len(xs), 0, -1):
        dz = dh * (1.0 - hs[t] * hs[t])
        dwx += xs[t - 1].T @ dz
        dwh += hs[t - 1].T @ dz
        db += dz.sum(axis=0)
        dh = dz @ wh.T
    return loss, [dwx, dwh, db]


def w5(dtype, budget):
    t = DT[dtype]
    lr = 1e-3
    x, y, params = c.w5_fixture()
    xs, y = c.steps_of(x, y).astype(t), y.astype(t)
    p = [q.astype(t) for q in params]
    loss, grads = w5_grads(xs, y, *p)
    err = max([c.scalar_error(loss, c.read("w5s_loss")[()])]
              + [c.relative_error(g, c.read(n)) for g, n in zip(grads, c.W5_FIXTURE_GRADS)])
    for q, g in zip(p, grads):
        q -= lr * g
    err = max(err, c.scalar_error(w5_grads(xs, y, *p)[0], c.read("w5s_loss_after_1_step")[()]))

    x, y, params = c.w5_full()
    xs, y = c.steps_of(x, y).astype(t), y.astype(t)
    p = [q.astype(t) for q in params]

    def step():
        loss, grads = w5_grads(xs, y, *p)
        for q, g in zip(p, grads):
            q -= lr * g
        return loss

    return err, c.measure(step, budget)


def w6_grads(d2, y, theta):
    """The GP's negative log marginal likelihood and its gradient in theta = (log l, log sf2,
    log sn2): K = L L^T by np.linalg.cholesky, K^-1 = L^-T L^-1 (numpy has no triangular
    solve), alpha = K^-1 y, and d/dtheta_j = 0.5 tr((K^-1 - alpha alpha^T) dK/dtheta_j)."""
    n = y.shape[0]
    inv_l2, sf2, sn2 = np.exp(-2 * theta[0]), np.exp(theta[1]), np.exp(theta[2])
    kf = sf2 * np.exp(-0.5 * inv_l2 * d2)
    k = kf + sn2 * np.eye(n, dtype=y.dtype)
    l = np.linalg.cholesky(k)
    l_inv = np.linalg.inv(l)
    k_inv = l_inv.T @ l_inv
    alpha = k_inv @ y
    loss = 0.5 * (y @ alpha) + np.sum(np.log(np.diagonal(l))) + 0.5 * n * math.log(2 * math.pi)
    w = k_inv - np.outer(alpha, alpha)
    wk = w * kf
    grad = np.array([0.5 * inv_l2 * np.sum(wk * d2), 0.5 * np.sum(wk), 0.5 * sn2 * np.trace(w)], dtype=y.dtype)
    return loss, grad


def w6(dtype, budget):
    t = DT[dtype]
    d2, y, theta = (a.astype(t) for a in c.w6_fixture())
    loss, g = w6_grads(d2, y, theta)
    err = max(c.scalar_error(loss, c.read("w6s_loss")[()]), c.relative_error(g, c.read("w6s_grad")))
    theta -= c.W6_LR * g
    err = max(err, c.scalar_error(w6_grads(d2, y, theta)[0], c.read("w6s_loss_after_1_step")[()]))

    d2, y, theta = (a.astype(t) for a in c.w6_full())

    def step():
        loss, g = w6_grads(d2, y, theta)
        theta[:] -= c.W6_LR * g
        return loss

    return err, c.measure(step, budget)


def peak(dtype, budget):
    """np.matmul into a preallocated array (the BLAS numpy links, OpenBLAS)."""

    def prepare(a, b):
        out = np.empty_like(a)
        return lambda: np.matmul(a, b, out=out)

    return c.peak(dtype, budget, prepare)


def blas_threads():
    try:
        from threadpoolctl import threadpool_info
        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if info:
            return info[0]["num_threads"], f"{info[0].get('internal_api')} {info[0].get('version')} ({info[0].get('architecture')})"
    except ImportError:
        pass
    return os.cpu_count(), "unknown BLAS"


if __name__ == "__main__":
    threads, blas = blas_threads()
    c.emit_meta("numpy", version=np.__version__, blas=blas, threads=threads)
    c.run("numpy", threads, {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "peak": peak})
