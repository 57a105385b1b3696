#!/usr/bin/env bash
# The peer kit in one command (benches/peers/README.md):
#
#   bash benches/peers/run.sh
#
# 1. creates a Python virtual environment in target/peers/venv (once) with PyTorch (CPU),
#    JAX (CPU) and numpy; 2. builds benches/peers/rust in release (its own workspace, target
#    in target/peers/cargo or $CARGO_TARGET_DIR), with candle, and once more with
#    matrixmultiply's threads (rows hand+mt: ours does not use matrixmultiply); 3. runs every implementation, one
#    after the other, each writing JSON lines to target/peers/results/; 4. prints ONE table
#    (report.py), also written to target/peers/peers.md. Exit status 1 if a cell does not
#    validate.
#
# Environment: PEERS_WAIT_QUIET (seconds per cell to wait for, and retry until, a moment
# when other processes keep the machine idle; default 0), PEERS_BUDGET (seconds of
# measurement per cell, default 2), PEERS_ONLY (a comma-separated subset of
# rust,rust-mt,numpy,torch,jax), PEERS_WORKLOADS (default W1,W2,W3,W4,W5,W6,W7,peak; peak = the
# machine's matrix-product peak), PEERS_PEAK_N (its matrices' size, default 2048),
# PEERS_DTYPES (default f64,f32), PEERS_THREADS (threads of the peers, default the number of
# cores), PEERS_NICE (niceness of the measuring processes, default -15 where allowed; 0 to
# leave it), PEERS_VENV (the Python environment, default target/peers/venv; created there
# when it lacks a package).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KIT=$ROOT/benches/peers
OUT=$ROOT/target/peers
VENV=${PEERS_VENV:-$OUT/venv}
RES=$OUT/results-t${PEERS_THREADS:-$(getconf _NPROCESSORS_ONLN)}
BUDGET=${PEERS_BUDGET:-2}
ONLY=${PEERS_ONLY:-rust,rust-mt,numpy,torch,jax}
WORKLOADS=${PEERS_WORKLOADS:-W1,W2,W3,W4,W5,W6,W7,peak}
DTYPES=${PEERS_DTYPES:-f64,f32}
# Threads for every multi-threaded peer: the machine's cores by default. PEERS_THREADS=1
# compares one core with one core (ours and hand are single-threaded; the +mt rows are then
# skipped) and is robust to another process busy on the machine.
CORES=$(getconf _NPROCESSORS_ONLN)
THREADS=${PEERS_THREADS:-$CORES}
export PEERS_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS \
    OPENBLAS_NUM_THREADS=$THREADS RAYON_NUM_THREADS=$THREADS MATMUL_NUM_THREADS=$THREADS
# The measuring processes run at high priority when allowed (root), so that other processes
# on a shared machine take less of their time; PEERS_NICE=0 turns this off.
PIN=()
NICE=${PEERS_NICE:--15}
if [ "$NICE" != 0 ] && [ "$(id -u)" = 0 ]; then
    PIN=(nice -n "$NICE")
fi
if [ "$THREADS" = 1 ]; then
    # XLA sizes its CPU thread pool by the CPU affinity mask (no flag limits it): every
    # implementation runs pinned to one core.
    PIN+=(taskset -c 0)
    ONLY=${ONLY//rust-mt/}
fi
# The Rust build goes to target/peers/cargo unless CARGO_TARGET_DIR says otherwise.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$OUT/cargo}
mkdir -p "$OUT" "$RES" "$OUT/bin"
rm -f "$RES"/*.jsonl
wanted() { [[ ",$ONLY," == *",$1,"* ]]; }
say() { printf '\n== %s\n' "$*" >&2; }

# --- 1. Python environment -----------------------------------------------------------------
if ! "$VENV/bin/python" -c 'import torch, jax, numpy, threadpoolctl' 2>/dev/null; then
    say "creating $VENV"
    start=$(date +%s)
    python3 -m venv "$VENV" || exit 1
    # The CPU-only wheel (~200 MB) when its index is reachable; otherwise PyPI's torch, which
    # also pulls the CUDA libraries (several GB) that a CPU run never loads.
    if python3 -c 'import urllib.request; urllib.request.urlopen("https://download.pytorch.org/whl/cpu/torch/", timeout=10)' 2>/dev/null; then
        "$VENV/bin/pip" install torch --index-url https://download.pytorch.org/whl/cpu || exit 1
    else
        echo "download.pytorch.org is not reachable: installing torch from PyPI" >&2
        "$VENV/bin/pip" install torch || exit 1
    fi
    "$VENV/bin/pip" install 'jax[cpu]' numpy threadpoolctl || exit 1
    echo "venv ready in $(( $(date +%s) - start )) s, $(du -sh "$VENV" | cut -f1)" >&2
fi
PY=$VENV/bin/python

# --- 2. Rust binaries ----------------------------------------------------------------------
CANDLE=yes
if wanted rust-mt; then
    say "building the Rust peers with matrixmultiply threading"
    (cd "$KIT/rust" && cargo build --release --features mm-threading) \
        && cp "$CARGO_TARGET_DIR/release/autodiff-peers" "$OUT/bin/peers-mt" \
        || { echo "the mm-threading build failed" >&2; ONLY=${ONLY//rust-mt/}; }
fi
if wanted rust; then
    say "building the Rust peers (ours, hand, candle)"
    if ! (cd "$KIT/rust" && cargo build --release --features candle); then
        echo "the build with candle failed: building without it" >&2
        CANDLE=no
        (cd "$KIT/rust" && cargo build --release) || exit 1
    fi
    cp "$CARGO_TARGET_DIR/release/autodiff-peers" "$OUT/bin/peers"
fi

# --- 3. the runs, one at a time ------------------------------------------------------------
{
    printf '{"meta": "machine", "cpu": "%s", "cores": %s, "peer_threads": %s, "loadavg_before": "%s"}\n' \
        "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "$CORES" "$THREADS" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '{"meta": "rust", "rustc": "%s", "nalgebra": "%s", "matrixmultiply": "%s", "gemm": "%s", "candle": "%s"}\n' \
        "$(rustc --version | cut -d' ' -f2)" \
        "$(grep -A1 '^name = "nalgebra"$' "$KIT/rust/Cargo.lock" | sed -n 's/version = "\(.*\)"/\1/p')" \
        "$(grep -A1 '^name = "matrixmultiply"$' "$KIT/rust/Cargo.lock" | sed -n 's/version = "\(.*\)"/\1/p')" \
        "$(grep -A1 '^name = "gemm"$' "$KIT/rust/Cargo.lock" | sed -n 's/version = "\(.*\)"/\1/p')" \
        "$([ $CANDLE = yes ] && grep -A1 '^name = "candle-core"$' "$KIT/rust/Cargo.lock" | sed -n 's/version = "\(.*\)"/\1/p' || echo 'not built')"
} > "$RES/meta.jsonl"
export PEERS_WAIT_QUIET=${PEERS_WAIT_QUIET:-0}
load=$(cut -d' ' -f1 /proc/loadavg)
if awk "BEGIN { exit !($load > 0.5) }"; then
    echo "WARNING: load average $load: other processes are running; multi-threaded peers suffer most" >&2
fi

ARGS=(--workloads "$WORKLOADS" --dtypes "$DTYPES" --budget "$BUDGET")
if wanted rust; then
    say "ours, hand$([ $CANDLE = yes ] && echo ', candle')"
    impls=ours,hand; [ $CANDLE = yes ] && impls=$impls,candle
    "${PIN[@]}" "$OUT/bin/peers" --impls "$impls" "${ARGS[@]}" > "$RES/rust.jsonl" || echo "the Rust peers failed" >&2
fi
if wanted rust-mt; then
    say "hand+mt"
    "${PIN[@]}" "$OUT/bin/peers-mt" --impls hand --tag +mt "${ARGS[@]}" > "$RES/rust-mt.jsonl" || echo "the mt peers failed" >&2
fi
for peer in numpy torch jax; do
    if wanted $peer; then
        say "$peer"
        (cd "$KIT" && "${PIN[@]}" "$PY" -W ignore "peer_$peer.py" "${ARGS[@]}") > "$RES/$peer.jsonl" || echo "$peer failed" >&2
    fi
done
printf '{"meta": "machine_after", "loadavg_after": "%s"}\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$RES/meta.jsonl"

# --- 4. the table --------------------------------------------------------------------------
say "results (also in $OUT/peers-t$THREADS.md)"
"$PY" "$KIT/report.py" "$RES" --markdown "$OUT/peers-t$THREADS.md"
