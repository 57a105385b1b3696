"""Reads the JSON lines of every implementation (target/peers/results/*.jsonl), checks that
every cell computed the same thing, and prints ONE markdown table: the median time per step
of each implementation and workload, and its ratio to ours (same dtype, same run).

A cell is valid when
  * its own check against the fixtures passed: max relative error of the loss and of every
    gradient (W1: the exact values; W2, W4, W5, W6: the reduced PyTorch fixtures w2s_*, w4s_*,
    w5s_*, w6s_*, and for W2, W5 and W6 the loss after one SGD step; W3: the full fixture and the losses
    of steps 0-2 of the reference trace; W7: W3's loss and gradients and the Hessian-vector
    product w7_hv_*) at most FIXTURE_TOL[dtype];
  * its loss at step 0 and at step 1 of the timed run agree with ours in f64 (the full-size
    workload; where ours is missing, W5 for now, the median of the f64 cells) within
    CROSS_TOL[dtype].
An invalid cell is printed as such and gets no ratio; the exit status is then 1.

It also prints the machine's matrix-product peak (the workload `peak`: GFLOP/s of one
n x n by n x n product per implementation, dtype and thread count; valid when its checked
entry agrees within FIXTURE_TOL), the GFLOP/s each implementation achieves on W2-W5 and W7
(FLOPS below / time per step) with its fraction of the best peak measured for the same dtype
and thread count, and the speed of f32 relative to f64 (time f64 / time f32).

Usage: python report.py RESULTS_DIR [--markdown OUT.md]
"""

import json
import math
import statistics
import sys
from pathlib import Path

DISTURBED = 0.25  # cores used by other processes during a cell's rounds: marked ‡ above this
FIXTURE_TOL = {"f64": 1e-10, "f32": 5e-3}
CROSS_TOL = {"f64": 1e-10, "f32": 1e-4}
ORDER = ["ours", "hand", "ours+mt", "hand+mt", "candle", "torch", "jax", "numpy"]
WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6", "W7"]
DTYPES = ["f64", "f32"]
TITLES = {
    "W1": "W1 (x+y)·z",
    "W2": "W2 two-layer 64×1000→100→10",
    "W3": "W3 spiral 300×2→100→3",
    "W4": "W4 wide 256×784→512→512→10",
    "W5": "W5 tanh RNN 64×32→128, 50 steps",
    "W6": "W6 GP likelihood n=500, 3 hyperparameters",
    "W7": "W7 Hessian-vector product of W3's loss",
}

# The shapes of W2-W4: N examples, then the widths of the layers (input first).
SHAPES = {"W2": (64, [1000, 100, 10]), "W3": (300, [2, 100, 3]), "W4": (256, [784, 512, 512, 10])}
# W5's: N examples, D inputs, H hidden units, T steps.
RNN = {"W5": (64, 32, 128, 50)}
# The Hessian-vector products (forward over reverse) of a net of SHAPES.
HVP = {"W7": "W3"}
COUNTED = list(SHAPES) + list(RNN) + list(HVP)  # the workloads whose GFLOP/s are reported
PEAK_ORDER = ["nalgebra", "nalgebra+mt", "gemm", "candle", "torch", "jax", "numpy"]


def flops(workload):
    """Floating-point operations of the matrix products of one step (2*m*n*k each): per layer
    of widths a -> b, the forward product (2*N*a*b), the weight gradient (2*N*a*b) and, except
    for the first layer (the data need no gradient), the input gradient (2*N*a*b).
    Elementwise work (activations, biases, softmax, the update) is not counted.

    The RNN (W5): every step's input product x_t·Wx and its weight gradient (2*N*D*H each);
    the recurrent product h_(t-1)·Wh, its weight gradient and the gradient of h_(t-1)
    (2*N*H*H each) at steps 2..T only, since h_0 = 0.

    A Hessian-vector product (W7, forward over reverse): the products of the gradient, and the
    tangent of each, dA·B + A·dB, one term per operand that depends on the parameters (the data
    have no tangent). Per layer of widths a -> b: the first layer's forward product x·W and
    weight gradient x^T·dZ get one tangent product each (4 products in all); a later layer's
    forward product, weight gradient and input gradient get two each (9 in all)."""
    if workload in HVP:
        n, widths = SHAPES[HVP[workload]]
        layers = list(zip(widths, widths[1:]))
        return sum((4 if k == 0 else 9) * 2 * n * a * b for k, (a, b) in enumerate(layers))
    if workload in RNN:
        n, d, h, t = RNN[workload]
        return 2 * n * (2 * t * d * h + 3 * (t - 1) * h * h)
    n, widths = SHAPES[workload]
    layers = list(zip(widths, widths[1:]))
    return sum((2 if k == 0 else 3) * 2 * n * a * b for k, (a, b) in enumerate(layers))


def show_flops(f):
    return f"{f / 1e9:.3g} GFLOP" if f >= 1e9 else f"{f / 1e6:.3g} MFLOP"


def show(s):
    if s is None or not math.isfinite(s):
        return "—"
    if s < 1e-6:
        return f"{s * 1e9:.3g} ns"
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def ratio(r):
    return f"{r:.2f}×" if r < 10 else f"{r:.1f}×" if r < 100 else f"{r:.0f}×"


def rel(a, b):
    if a is None or b is None:
        return math.inf
    return abs(a - b) / max(abs(b), 1e-300)


def peak_tables(cells, peaks, impls):
    """The peak table, the achieved GFLOP/s of W2-W5 and W7 and the f32/f64 speed ratios (lines)."""
    out = []
    best = {}
    for (i, d, t), c in peaks.items():
        if c["valid"]:
            best[(d, t)] = max(best.get((d, t), 0.0), c["gflops"])
    if peaks:
        sizes = sorted({c["n"] for c in peaks.values()})
        sizes = "/".join(str(n) for n in sorted({c["n"] for c in peaks.values()}))
        out += ["", f"Matrix-product peak: GFLOP/s of one n×n by n×n product (n = {sizes}; 2·n³ operations), "
                    f"median over rounds; in bold the best per dtype and thread count; ‡ other processes kept more "
                    f"than {DISTURBED} core busy.", "",
                "| peak | threads | f64 | f32 |", "| --- | ---: | ---: | ---: |"]
        rows = sorted({(i, t) for i, _, t in peaks},
                      key=lambda r: (r[1], PEAK_ORDER.index(r[0]) if r[0] in PEAK_ORDER else len(PEAK_ORDER), r[0]))
        for i, t in rows:
            parts = []
            for d in DTYPES:
                c = peaks.get((i, d, t))
                if c is None:
                    parts.append("—")
                elif not c["valid"]:
                    parts.append(f"{c['gflops']:.1f} **invalid**")
                else:
                    g = f"{c['gflops']:.1f}"
                    parts.append((f"**{g}**" if c["gflops"] == best[(d, t)] else g)
                                 + (" ‡" if (c.get("other_load") or 0) > DISTURBED else ""))
            out.append(f"| {i} | {t} | " + " | ".join(parts) + " |")
    work = [w for w in COUNTED if any(k[2] == w for k in cells)]
    if work:
        out += ["", "Achieved GFLOP/s: the workload's matrix-product operations per step ÷ the median time per "
                    "step; in brackets the fraction of the best peak measured for the same dtype and thread count.", "",
                "| implementation | threads | " + " | ".join(f"{w} ({show_flops(flops(w))})" for w in work) + " |",
                "| --- | ---: | " + " | ".join("---:" for _ in work) + " |"]
        for d in DTYPES:
            for i in impls:
                row = [cells.get((i, d, w)) for w in work]
                if not any(row):
                    continue
                t = next(c for c in row if c)["threads"]
                parts = []
                for w, c in zip(work, row):
                    if c is None or not c["valid"]:
                        parts.append("—")
                        continue
                    g = flops(w) / c["median_s"] / 1e9
                    p = best.get((d, c["threads"]))
                    parts.append(f"{g:.3g}" + (f" ({100 * g / p:.0f}%)" if p else ""))
                out.append(f"| {i} {d} | {t} | " + " | ".join(parts) + " |")
        out += ["", "f32 against f64: time per step in f64 ÷ time per step in f32 (above 1: f32 is faster).", "",
                "| implementation | " + " | ".join(work) + " |", "| --- | " + " | ".join("---:" for _ in work) + " |"]
        for i in impls:
            parts = []
            for w in work:
                a, b = cells.get((i, "f64", w)), cells.get((i, "f32", w))
                parts.append(ratio(a["median_s"] / b["median_s"]) if a and b and a["valid"] and b["valid"] else "—")
            if any(p != "—" for p in parts):
                out.append(f"| {i} | " + " | ".join(parts) + " |")
    return out


def main():
    results = Path(sys.argv[1])
    md_out = Path(sys.argv[sys.argv.index("--markdown") + 1]) if "--markdown" in sys.argv else None
    cells, meta, peaks = {}, {}, {}
    for f in sorted(results.glob("*.jsonl")):
        for line in f.read_text().splitlines():
            if not line.startswith("{"):
                continue
            d = json.loads(line)
            if "meta" in d:
                meta[d.pop("meta")] = d
            elif d["workload"] == "peak":
                peaks[(d["impl"], d["dtype"], d["threads"])] = d
            else:
                cells[(d["impl"], d["dtype"], d["workload"])] = d
    impls = [i for i in ORDER if any(k[0] == i for k in cells)] + sorted({k[0] for k in cells} - set(ORDER))

    # Reference losses: ours in f64, or the median of the f64 cells when ours is missing.
    ref, median_ref = {}, []
    for w in WORKLOADS:
        o = cells.get(("ours", "f64", w))
        if o:
            ref[w] = (o["loss0"], o["loss1"])
        else:
            f64 = [c for k, c in cells.items() if k[1] == "f64" and k[2] == w]
            if f64:
                ref[w] = (statistics.median(c["loss0"] for c in f64), statistics.median(c["loss1"] for c in f64))
                median_ref.append(w)

    problems = []
    for (i, d, w), c in cells.items():
        why = []
        if c["fixture_err"] is None or not c["fixture_err"] <= FIXTURE_TOL[d]:
            why.append(f"fixture error {c['fixture_err']:.1e} > {FIXTURE_TOL[d]:.0e}")
        if w in ref:
            e0, e1 = rel(c["loss0"], ref[w][0]), rel(c["loss1"], ref[w][1])
            c["cross_err"] = max(e0, e1)
            if not c["cross_err"] <= CROSS_TOL[d]:
                who = "the median of the f64 cells" if w in median_ref else "ours f64"
                why.append(f"loss at step 0/1 differs from {who} by {c['cross_err']:.1e} > {CROSS_TOL[d]:.0e}")
        c["valid"] = not why
        if why:
            problems.append(f"{i} {d} {w}: " + "; ".join(why))
    for (i, d, t), c in peaks.items():
        c["valid"] = c["fixture_err"] is not None and c["fixture_err"] <= FIXTURE_TOL[d]
        if not c["valid"]:
            problems.append(f"{i} {d} peak on {t} thread(s): one entry of the product is off by {c['fixture_err']:.1e}")

    out = []
    out.append("| implementation | threads | " + " | ".join(TITLES[w] for w in WORKLOADS) + " |")
    out.append("| --- | ---: | " + " | ".join("---:" for _ in WORKLOADS) + " |")
    slower, disturbed = [], []
    for d in DTYPES:
        for i in impls:
            row = [c for w in WORKLOADS if (c := cells.get((i, d, w)))]
            if not row:
                continue
            threads = row[0].get("threads", "")
            parts = []
            for w in WORKLOADS:
                c = cells.get((i, d, w))
                o = cells.get(("ours", d, w))
                if c is not None and (c.get("other_load") or 0) > DISTURBED:
                    disturbed.append(f"{i} {d} {w} ({c['other_load']:.2f})")
                if c is None:
                    parts.append("not run")
                elif not c["valid"]:
                    parts.append(f"{show(c['median_s'])} **invalid**")
                elif i == "ours":
                    parts.append(f"**{show(c['median_s'])}**")
                elif o is not None and o["valid"]:
                    r = c["median_s"] / o["median_s"]
                    parts.append(f"{show(c['median_s'])} ({ratio(r)})")
                    if r < 1:
                        slower.append((d, w, i, o["median_s"] / c["median_s"], o["median_s"], c["median_s"]))
                else:
                    parts.append(show(c["median_s"]))
                if c is not None and (c.get("other_load") or 0) > DISTURBED:
                    parts[-1] += " ‡"
            out.append(f"| {i} {d} | {threads} | " + " | ".join(parts) + " |")

    text = "\n".join(out)
    notes = ["", "Median time per step (forward, backward, SGD update; W1: value and gradient; W7: value, gradient "
                 "and Hessian-vector product); in brackets "
                 "the implementation's time ÷ ours in the same dtype, measured in the same run (above 1: ours is faster)."]
    notes.append("")
    if disturbed:
        notes.append(f"‡ measured while other processes kept more than {DISTURBED} core busy (cores in brackets): "
                     "disturbed, rerun on a quiet machine or with PEERS_WAIT_QUIET: " + ", ".join(disturbed) + ".")
    elif all(c.get("other_load") is not None for c in cells.values()):
        notes.append(f"No cell was disturbed: other processes kept at most {DISTURBED} core busy during every measurement.")
    baselines = ("hand", "ours+mt", "hand+mt")
    for title, group in (("Where ours is slower than a peer:", [s for s in slower if s[2] not in baselines]),
                         ("Where ours is slower than the hand-written baseline or a threaded build of the same code:",
                          [s for s in slower if s[2] in baselines])):
        notes.append("")
        if not group:
            notes.append(title.replace("Where ours is slower", "Ours is slower nowhere").rstrip(":") + ".")
            continue
        notes.append(title)
        for d, w, i, factor, to, tc in sorted(group, key=lambda s: (s[1], s[0], -s[3])):
            notes.append(f"- {w} {d}: ours {show(to)} vs {i} {show(tc)}: ours is {factor:.2f}× slower")
    notes += peak_tables(cells, peaks, impls)
    notes.append("")
    notes.append("Validation: " + ("every cell agrees with the fixtures and with ours in f64 "
                                   f"(f64 within {FIXTURE_TOL['f64']:.0e}, f32 within {FIXTURE_TOL['f32']:.0e} of the fixtures "
                                   f"and {CROSS_TOL['f32']:.0e} of ours f64)." if not problems else "FAILED:"))
    notes += [f"- {p}" for p in sorted(problems)]
    if median_ref:
        notes.append("")
        notes.append(f"Ours did not run {', '.join(median_ref)}: there the losses at steps 0 and 1 are compared with the "
                     "median of the f64 cells instead.")
    worst = {}
    for (i, d, w), c in cells.items():
        worst[(i, d)] = max(worst.get((i, d), 0.0), c["fixture_err"] or 0.0)
    notes.append("")
    notes.append("Largest fixture error per implementation: " + ", ".join(
        f"{i} {d} {e:.1e}" for (i, d), e in sorted(worst.items(), key=lambda kv: (DTYPES.index(kv[0][1]), impls.index(kv[0][0])))))
    if meta:
        notes.append("")
        notes.append("Machine and versions:")
        m = {**meta.get("machine", {}), **meta.get("machine_after", {})}
        if m:
            notes.append(f"- machine: {m.get('cpu')}, {m.get('cores')} cores, peers on {m.get('peer_threads')} "
                         f"thread(s); load average {m.get('loadavg_before')} before, {m.get('loadavg_after')} after")
        for k in ["rust", "torch", "jax", "numpy"] + sorted(set(meta) - {"machine", "machine_after", "rust", "torch", "jax", "numpy"}):
            if k in meta:
                notes.append(f"- {k}: " + ", ".join(f"{a} {v}" for a, v in meta[k].items() if a != "parallel"))
    full = text + "\n" + "\n".join(notes) + "\n"
    print(full)
    if md_out:
        md_out.write_text(full)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
