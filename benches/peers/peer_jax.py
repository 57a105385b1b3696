"""JAX on CPU, W1-W7: one jitted function per workload that computes
jax.value_and_grad of the loss and applies the SGD update (parameters donated, so XLA
updates their buffers in place); W7 jits forward over reverse, jax.jvp of
jax.value_and_grad, and does not update. float64 through jax_enable_x64, and float32."""

import math
import os

import jax
import jax.scipy.linalg  # noqa: F401

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import common as c  # noqa: E402

DT = {"f64": jnp.float64, "f32": jnp.float32}


def sync(r):
    jax.block_until_ready(r)


def stepper(loss, lr):
    """jit(value_and_grad(loss) + SGD): (params, *data) -> (new params, loss)."""

    def step(params, *data):
        value, grads = jax.value_and_grad(loss)(params, *data)
        return jax.tree.map(lambda p, g: p - lr * g, params, grads), value

    return jax.jit(step, donate_argnums=0)


def timed(step_fn, params, data, budget):
    state = {"p": params}

    def step():
        state["p"], value = step_fn(state["p"], *data)
        return value

    return c.measure(step, budget, sync)


def w1(dtype, budget):
    t = DT[dtype]
    f = jax.jit(jax.value_and_grad(lambda x, y, z: (x + y) * z, argnums=(0, 1, 2)))
    x, y, z = (jnp.asarray(v, dtype=t) for v in (-2.0, 5.0, -4.0))
    v, g = f(x, y, z)
    err = max(c.scalar_error(v, -12.0), c.relative_error(np.array(g), [-4, -4, 3]))

    def step():
        value, grads = f(x, y, z)
        return value

    return err, c.measure(step, budget, sync)


def w2_loss(p, x, y):
    w1, w2 = p
    h = jax.nn.sigmoid(x @ w1)
    return jnp.sum((h @ w2 - y) ** 2)


def arrays(arrs, t):
    return [jnp.asarray(a, dtype=t) for a in arrs]


def w2(dtype, budget):
    t = DT[dtype]
    x, y, w1, w2 = arrays(c.w2_fixture(), t)
    v, (g1, g2) = jax.value_and_grad(w2_loss)([w1, w2], x, y)
    err = max(c.scalar_error(v, c.read("w2s_loss")[()]), c.relative_error(g1, c.read("w2s_grad_w1")),
              c.relative_error(g2, c.read("w2s_grad_w2")))
    step = stepper(w2_loss, 1e-4)
    p, _ = step([w1, w2], x, y)
    err = max(err, c.scalar_error(w2_loss(p, x, y), c.read("w2s_loss_after_1_step")[()]))

    x, y, w1, w2 = arrays(c.w2_full(), t)
    return err, timed(step, [w1, w2], (x, y), budget)


def softmax_ce(scores, y):
    logp = jax.nn.log_softmax(scores, axis=1)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def w3_loss(p, x, y, reg=1e-3):
    w1, b1, w2, b2 = p
    hidden = jax.nn.relu(x @ w1 + b1)
    scores = hidden @ w2 + b2
    return softmax_ce(scores, y) + 0.5 * reg * (jnp.sum(w1 * w1) + jnp.sum(w2 * w2))


def w3(dtype, budget):
    t = DT[dtype]
    x0, y0, params0 = c.w3_fixture()
    x, y = jnp.asarray(x0, dtype=t), jnp.asarray(y0, dtype=jnp.int32)
    v, grads = jax.value_and_grad(w3_loss)(arrays(params0, t), x, y)
    names = ["w3_grad_W1", "w3_grad_b1", "w3_grad_W2", "w3_grad_b2"]
    err = max([c.scalar_error(v, c.read("w3_loss")[()])] + [c.relative_error(g, c.read(n)) for g, n in zip(grads, names)])
    step = stepper(w3_loss, 1.0)
    trace = c.read("w3_loss_trace")
    p = arrays(params0, t)
    for k in range(3):
        p, v = step(p, x, y)
        err = max(err, c.scalar_error(v, trace[k, 1]))
    return err, timed(step, arrays(params0, t), (x, y), budget)


def w7(dtype, budget):
    """W3's loss: value, gradient and Hessian-vector product along v, forward over reverse
    (jax.jvp of jax.value_and_grad) in one jit, every step at the same point."""
    t = DT[dtype]
    x0, y0, params0 = c.w3_fixture()
    x, y = jnp.asarray(x0, dtype=t), jnp.asarray(y0, dtype=jnp.int32)
    p, v = arrays(params0, t), arrays(c.w7_direction(), t)

    @jax.jit
    def hvp(p, v, x, y):
        (value, grads), (_, hv) = jax.jvp(lambda q: jax.value_and_grad(w3_loss)(q, x, y), (p,), (v,))
        return value, grads, hv

    value, grads, hv = hvp(p, v, x, y)
    names = ["w3_grad_W1", "w3_grad_b1", "w3_grad_W2", "w3_grad_b2"]
    err = max([c.scalar_error(value, c.read("w3_loss")[()])] + [c.relative_error(g, c.read(n)) for g, n in zip(grads, names)]
              + [c.relative_error(h, c.read(n)) for h, n in zip(hv, c.W7_NAMES)])

    def step():
        value, grads, hv = hvp(p, v, x, y)
        return value

    return err, c.measure(step, budget, sync)


def w4_loss(p, x, y):
    w1, b1, w2, b2, w3, b3 = p
    h1 = jax.nn.relu(x @ w1 + b1)
    h2 = jax.nn.relu(h1 @ w2 + b2)
    return softmax_ce(h2 @ w3 + b3, y)


def w4(dtype, budget):
    t = DT[dtype]
    x, y, ws, bs = c.w4_fixture()
    p = arrays([q for pair in zip(ws, bs) for q in pair], t)
    v, grads = jax.value_and_grad(w4_loss)(p, jnp.asarray(x, dtype=t), jnp.asarray(y, dtype=jnp.int32))
    names = [f"w4s_grad_{n}{k}" for k in (1, 2, 3) for n in ("W", "b")]
    err = max([c.scalar_error(v, c.read("w4s_loss")[()])] + [c.relative_error(g, c.read(n)) for g, n in zip(grads, names)])

    x, y, ws, bs = c.w4_full()
    p = arrays([q for pair in zip(ws, bs) for q in pair], t)
    step = stepper(w4_loss, 0.01)
    return err, timed(step, p, (jnp.asarray(x, dtype=t), jnp.asarray(y, dtype=jnp.int32)), budget)


def w5_loss(p, xs, y):
    """The tanh RNN: the recurrence h_t = tanh(x_t·Wx + h_{t-1}·Wh + b) as a lax.scan over the
    steps' inputs xs (steps x N x D)."""
    wx, wh, b = p

    def cell(h, x):
        return jnp.tanh(x @ wx + h @ wh + b), None

    h, _ = jax.lax.scan(cell, jnp.zeros_like(y), xs)
    return jnp.sum((h - y) ** 2)


def w5(dtype, budget):
    t = DT[dtype]
    lr = 1e-3
    x, y, params = c.w5_fixture()
    xs, y = jnp.asarray(c.steps_of(x, y), dtype=t), jnp.asarray(y, dtype=t)
    v, grads = jax.value_and_grad(w5_loss)(arrays(params, t), xs, y)
    err = max([c.scalar_error(v, c.read("w5s_loss")[()])]
              + [c.relative_error(g, c.read(n)) for g, n in zip(grads, c.W5_FIXTURE_GRADS)])
    step = stepper(w5_loss, lr)
    p, _ = step(arrays(params, t), xs, y)
    err = max(err, c.scalar_error(w5_loss(p, xs, y), c.read("w5s_loss_after_1_step")[()]))

    x, y, params = c.w5_full()
    xs, y = jnp.asarray(c.steps_of(x, y), dtype=t), jnp.asarray(y, dtype=t)
    return err, timed(step, arrays(params, t), (xs, y), budget)


def w6_loss(theta, d2, y):
    """The GP's negative log marginal likelihood: K = sf2 exp(-d2 / 2 l^2) + sn2 I = L L^T,
    0.5 y^T K^-1 y (jax.scipy.linalg.cho_solve) + sum log diag L + (n/2) log 2 pi."""
    n = y.shape[0]
    k = jnp.exp(theta[1]) * jnp.exp(-0.5 * jnp.exp(-2 * theta[0]) * d2) + jnp.exp(theta[2]) * jnp.eye(n, dtype=y.dtype)
    l = jnp.linalg.cholesky(k)
    alpha = jax.scipy.linalg.cho_solve((l, True), y)
    return 0.5 * (y @ alpha) + jnp.sum(jnp.log(jnp.diagonal(l))) + 0.5 * n * math.log(2 * math.pi)


def w6(dtype, budget):
    t = DT[dtype]
    d2, y, theta = arrays(c.w6_fixture(), t)
    v, g = jax.value_and_grad(w6_loss)(theta, d2, y)
    err = max(c.scalar_error(v, c.read("w6s_loss")[()]), c.relative_error(g, c.read("w6s_grad")))
    step = stepper(w6_loss, c.W6_LR)
    p, _ = step(theta, d2, y)
    err = max(err, c.scalar_error(w6_loss(p, d2, y), c.read("w6s_loss_after_1_step")[()]))

    d2, y, theta = arrays(c.w6_full(), t)
    return err, timed(step, theta, (d2, y), budget)


if __name__ == "__main__":
    import jaxlib

    # XLA's CPU client sizes its thread pool by the CPU affinity mask: run.sh pins the process
    # to one core for PEERS_THREADS=1.
    threads = int(os.environ.get("PEERS_THREADS", os.cpu_count()))
    c.emit_meta("jax", version=jax.__version__, jaxlib=jaxlib.__version__, devices=str(jax.devices()),
                affinity=len(os.sched_getaffinity(0)))
    c.run("jax", threads, {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7})
