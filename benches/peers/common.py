"""Shared by the Python peers (numpy, PyTorch, JAX): the fixtures, the portable generator
of W2's, W4's, W5's and W6's data (and W7's direction), the timing protocol and the JSON lines that report.py reads.

The timing protocol is the one of benches/peers/rust/src/timing.rs: the losses of step 0
and step 1 are kept for the cross-check, a warm-up of at least 3 steps and WARMUP_S
seconds follows (JAX compiles there), then rounds of `batch` steps (a batch lasts about
BATCH_S) until the budget is spent; the result is the median over rounds of
(round time / batch).
"""

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

WARMUP_S = 0.3
BATCH_S = 0.01
MIN_ROUNDS = 7
MAX_ROUNDS = 1001

FIXTURES = Path(os.environ.get("PEERS_FIXTURES", Path(__file__).resolve().parents[2] / "tests" / "data"))


# --- fixtures ---------------------------------------------------------------------------

def read(name):
    """The values of a fixture as a float64 array of its shape (row-major)."""
    shape, values = None, []
    for line in (FIXTURES / f"{name}.txt").read_text().splitlines():
        if line.startswith("# shape"):
            shape = tuple(int(d) for d in line[len("# shape"):].split())
        elif not line.startswith("#"):
            values.extend(float(v) for v in line.split())
    assert shape is not None, f"fixture {name} has no shape line"
    return np.array(values, dtype=np.float64).reshape(shape)


def labels(name):
    return read(name).astype(np.int64)


def relative_error(got, want):
    """max|got - want| / max|want|, as the reference README defines agreement."""
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(float(np.max(np.abs(want))), sys.float_info.min)
    return float(np.max(np.abs(got - want))) / scale


def scalar_error(got, want):
    return abs((float(got) - want) / want)


# --- the portable generator (README.md, "Data") -------------------------------------------

GAMMA = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)


class Stream:
    """Output i (i = 0, 1, ...) is splitmix64's finaliser of seed + (i + 1)*GAMMA mod 2**64."""

    def __init__(self, seed):
        self.seed = np.uint64(seed)
        self.i = 0

    def next_u64(self, n):
        idx = np.arange(self.i + 1, self.i + n + 1, dtype=np.uint64)
        self.i += n
        z = self.seed + idx * GAMMA
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
        return z ^ (z >> np.uint64(31))

    def uniform(self, n):
        """Uniform on [-1, 1), exactly: (u >> 11) * 2**-52 - 1."""
        return (self.next_u64(n) >> np.uint64(11)).astype(np.float64) * (1.0 / 4503599627370496.0) - 1.0

    def matrix(self, rows, cols, scale=1.0):
        return (scale * self.uniform(rows * cols)).reshape(rows, cols)

    def row(self, n, scale=1.0):
        return scale * self.uniform(n)

    def labels(self, n, classes):
        return ((self.next_u64(n) >> np.uint64(32)) % np.uint64(classes)).astype(np.int64)


def w2_full():
    """x (64x1000), y (64x10), w1 (1000x100), w2 (100x10), uniform on [-1, 1), stream 2."""
    s = Stream(2)
    return s.matrix(64, 1000), s.matrix(64, 10), s.matrix(1000, 100), s.matrix(100, 10)


def w4_full():
    """Stream 4: x (256x784) uniform, labels (256) in 0..10, then per layer W = sqrt(6/fan_in)*uniform
    and b = uniform/8. Returns x, labels, [W1, W2, W3], [b1, b2, b3]."""
    s = Stream(4)
    x = s.matrix(256, 784)
    y = s.labels(256, 10)
    ws, bs = [], []
    for fan_in, fan_out in [(784, 512), (512, 512), (512, 10)]:
        ws.append(s.matrix(fan_in, fan_out, math.sqrt(6.0 / fan_in)))
        bs.append(s.row(fan_out, 0.125))
    return x, y, ws, bs


def w5_data(seed, steps, n, d, h):
    """A tanh RNN's data and starting point from stream `seed`: x (steps*n x d) uniform, the
    input of step t (t = 1..steps) in rows (t-1)*n .. t*n-1; y (n x h) uniform; Wx (d x h) =
    sqrt(3/d)*uniform, Wh (h x h) = sqrt(3/h)*uniform (variance 1/fan_in); b (h) = uniform/8.
    Returns x, y, [Wx, Wh, b]."""
    s = Stream(seed)
    x = s.matrix(steps * n, d)
    y = s.matrix(n, h)
    wx = s.matrix(d, h, math.sqrt(3.0 / d))
    wh = s.matrix(h, h, math.sqrt(3.0 / h))
    b = s.row(h, 0.125)
    return x, y, [wx, wh, b]


W5_STEPS, W5_N, W5_D, W5_H = 50, 64, 32, 128


def w5_full():
    """Stream 5: 50 steps of a batch of 64, 32 inputs, 128 hidden units."""
    return w5_data(5, W5_STEPS, W5_N, W5_D, W5_H)


def w6_data(seed, n):
    """A Gaussian process's data and starting point from stream `seed`: x (n) = 3*uniform, e (n)
    uniform, y = x - x*x*x/6 + 0.1*e (left to right). Returns the squared distances
    (x_i - x_j)^2 (n x n), y, and theta = [log l, log sf2, log sn2] = [0, 0, -2]."""
    s = Stream(seed)
    x = s.row(n, 3.0)
    e = s.row(n)
    y = x - x * x * x / 6.0 + 0.1 * e
    return x, y, np.array([0.0, 0.0, -2.0])


def squared_distances(x):
    return (x[:, None] - x[None, :]) ** 2


W6_N = 500
W6_LR = 1e-3


def w6_full():
    """Stream 6: 500 points. Returns d2, y, theta."""
    x, y, theta = w6_data(6, W6_N)
    return squared_distances(x), y, theta


def w7_direction():
    """W7's direction v, shaped like W3's parameters [W1 (2x100), b1 (100), W2 (100x3), b2 (3)]:
    W1, W2 and b2 uniform on [-1, 1) from stream 17, drawn in that order, and b1 = 0. (W3 starts
    with b1 = 0 and has three points at the origin: 300 pre-activations sit exactly on relu's
    kink, and a direction that moves b1 moves them across it, where the Hessian is not
    defined.)"""
    s = Stream(17)
    w1, w2, b2 = s.matrix(2, 100), s.matrix(100, 3), s.row(3)
    return [w1, np.zeros(100), w2, b2]


W7_NAMES = ["w7_hv_W1", "w7_hv_b1", "w7_hv_W2", "w7_hv_b2"]


def w6_fixture():
    """d2, y, theta of the reduced W6 (fixture_w6.py)."""
    return squared_distances(read("w6s_x")), read("w6s_y"), read("w6s_theta")


def steps_of(x, y):
    """The input x (steps*n x d) as an array of the steps' inputs (steps x n x d)."""
    n = y.shape[0]
    assert x.shape[0] % n == 0, (x.shape, y.shape)
    return x.reshape(x.shape[0] // n, n, x.shape[1])


# --- W2, W4 and W5 reduced, W3: the fixture sets --------------------------------------------

def w2_fixture():
    return [read(n) for n in ("w2s_x", "w2s_y", "w2s_w1", "w2s_w2")]


def w3_fixture():
    return read("w3_X"), labels("w3_y"), [read(n) for n in ("w3_W1", "w3_b1", "w3_W2", "w3_b2")]


def w4_fixture():
    ws = [read(f"w4s_W{k}") for k in (1, 2, 3)]
    bs = [read(f"w4s_b{k}") for k in (1, 2, 3)]
    return read("w4s_x"), labels("w4s_y"), ws, bs


W5_FIXTURE_PARAMS = ["w5s_Wx", "w5s_Wh", "w5s_b"]
W5_FIXTURE_GRADS = ["w5s_grad_Wx", "w5s_grad_Wh", "w5s_grad_b"]


def w5_fixture():
    """x, y, [Wx, Wh, b] of the reduced W5 (fixture_w5.py)."""
    return read("w5s_x"), read("w5s_y"), [read(n) for n in W5_FIXTURE_PARAMS]


# --- the machine's matrix-product peak ---------------------------------------------------

PEAK_N = int(os.environ.get("PEERS_PEAK_N", "2048"))
NP_DTYPE = {"f64": np.float64, "f32": np.float32}


def peak(dtype, budget, prepare):
    """The workload `peak`: one n x n by n x n product per step (n = PEERS_PEAK_N, 2*n**3
    floating-point operations), the operands uniform on [-1, 1) from stream 7, as in
    rust/src/peak.rs. `prepare(a, b)` gets the numpy operands and returns `product()`, which
    computes a.b into a buffer allocated once and returns that buffer. The check: one entry
    against its dot product in f64."""
    n = PEAK_N
    s = Stream(7)
    a, b = (s.matrix(n, n).astype(NP_DTYPE[dtype]) for _ in range(2))
    product = prepare(a, b)
    c = np.asarray(product())
    i, j = n // 3, n // 2
    want = float(np.dot(a[i].astype(np.float64), b[:, j].astype(np.float64)))
    err = abs(float(c[i, j]) - want) / max(abs(want), 1.0)
    timing = measure(lambda: product()[0, 0], budget)
    return err, dict(timing, n=n, gflops=2 * n**3 / timing["median_s"] / 1e9)


# --- timing and reporting ---------------------------------------------------------------

def jiffies():
    """Busy jiffies of the whole machine (/proc/stat) and this process's own CPU time (all
    threads), both in seconds."""
    try:
        with open("/proc/stat") as f:
            cpu = [float(v) for v in f.readline().split()[1:]]
        busy = (cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] if len(cpu) > 7 else 0.0)) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None
    t = os.times()
    return busy, t.user + t.system


def other_load(before, after, wall):
    """Cores kept busy by other processes between two readings `wall` seconds apart."""
    if before is None or after is None:
        return None
    return max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / wall)


DISTURBED = 0.25  # other processes' load (cores) above which a measurement counts as disturbed


def wait_quiet(deadline):
    """Sleeps until other processes have kept less than 0.1 core busy for two consecutive
    seconds, or until `deadline` (time.monotonic())."""
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        j0 = jiffies()
        time.sleep(1.0)
        load = other_load(j0, jiffies(), 1.0)
        quiet = quiet + 1 if load is not None and load < 0.1 else 0


def measure(step, budget, sync=lambda result: None):
    """`step()` runs one step and returns its loss (any object `float()` accepts after
    `sync`); `sync(result)` waits for asynchronous work (JAX)."""
    r = step()
    sync(r)
    loss0 = float(r)
    r = step()
    sync(r)
    loss1 = float(r)
    start = time.perf_counter()
    n = 0
    while n < 3 or time.perf_counter() - start < WARMUP_S:
        r = step()
        n += 1
    sync(r)
    per_step = (time.perf_counter() - start) / n
    batch = max(1, round(BATCH_S / per_step))
    rounds = min(max(int(budget / (batch * per_step)), MIN_ROUNDS), MAX_ROUNDS)
    # On a shared machine: wait for a quiet moment before the rounds, and measure them again
    # if another process was busy meanwhile, within PEERS_WAIT_QUIET seconds per cell.
    deadline = time.monotonic() + float(os.environ.get("PEERS_WAIT_QUIET", "0"))
    while True:
        wait_quiet(deadline)
        per = []
        j0, t0 = jiffies(), time.perf_counter()
        for _ in range(rounds):
            t = time.perf_counter()
            for _ in range(batch):
                r = step()
            sync(r)
            per.append((time.perf_counter() - t) / batch)
        load = other_load(j0, jiffies(), time.perf_counter() - t0)
        if load is None or load <= DISTURBED or time.monotonic() >= deadline:
            break
    per.sort()
    q = lambda f: per[round((rounds - 1) * f)]
    return dict(loss0=loss0, loss1=loss1, median_s=q(0.5), q1_s=q(0.25), q3_s=q(0.75), batch=batch, rounds=rounds,
                other_load=load)


def emit(impl, dtype, workload, threads, fixture_err, timing):
    line = dict(impl=impl, dtype=dtype, workload=workload, threads=threads, fixture_err=fixture_err, **timing)
    print(json.dumps(line), flush=True)
    if workload == "peak":
        print(f"  {impl:<10} {dtype} peak: {timing['n']}³ in {timing['median_s'] * 1e3:9.3f} ms, {timing['gflops']:.1f} "
              f"GFLOP/s on {threads} thread(s) (check err {fixture_err:.1e}, other load {timing['other_load'] or 0:.2f} cores)",
              file=sys.stderr, flush=True)
        return
    print(f"  {impl:<10} {dtype} {workload}: median {timing['median_s'] * 1e6:12.3f} µs/step  "
          f"(fixture err {fixture_err:.1e}, loss0 {timing['loss0']:.12e}, other load {timing['other_load'] or 0:.2f} cores)",
          file=sys.stderr, flush=True)


def emit_meta(impl, **info):
    print(json.dumps(dict(meta=impl, **info)), flush=True)


def args():
    p = argparse.ArgumentParser()
    p.add_argument("--workloads", default="W1,W2,W3,W4,W5,W6,W7")
    p.add_argument("--dtypes", default="f64,f32")
    p.add_argument("--budget", type=float, default=2.0, help="measuring time per cell, seconds")
    a = p.parse_args()
    return a.workloads.split(","), a.dtypes.split(","), a.budget


def run(impl, threads, table, fail_fast=False):
    """Runs `table[workload](dtype, budget) -> (fixture_err, timing)` for the selected cells."""
    workloads, dtypes, budget = args()
    for d in dtypes:
        for w in workloads:
            if w not in table:  # e.g. `peak`, measured by some implementations only
                continue
            try:
                err, timing = table[w](d, budget)
            except Exception as e:  # report and go on with the other cells
                if fail_fast:
                    raise
                print(f"{impl} {d} {w} failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                continue
            emit(impl, d, w, threads, err, timing)
