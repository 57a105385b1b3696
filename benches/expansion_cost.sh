#!/usr/bin/env bash
# What #[differentiate] adds to a build: the functions of tests/differential/generated.rs
# (220 random functions of the language, ~6,000 lines) compiled as a library twice, with the
# attribute and without it (the same bodies, primal only), in debug like the test suite.
# Each side is rebuilt from a touched file with warm dependencies, non-incrementally (the
# whole crate is compiled, expansion included), RUNS times; the medians are printed.
#
#     benches/expansion_cost.sh            # RUNS=5 by default
#
# The scratch crates live in target/expansion-cost/ (a workspace of their own, with its own
# target directory, so that nothing here disturbs the main build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${RUNS:-5}
dir=target/expansion-cost
mkdir -p "$dir/with/src" "$dir/without/src"

# The generated functions without their tests (and without the test-only imports).
strip_tests() {
    awk '/^#\[test\]/ {skip=1} !skip && !/^use crate::/ {print} skip && /^}$/ {skip=0}' \
        tests/differential/generated.rs
}
strip_tests > "$dir/with/src/lib.rs"
strip_tests | grep -v '^#\[differentiate' > "$dir/without/src/lib.rs"
functions=$(grep -c '^#\[differentiate' "$dir/with/src/lib.rs")
lines=$(wc -l < "$dir/without/src/lib.rs")

for side in with without; do
    cat > "$dir/$side/Cargo.toml" <<TOML
[package]
name = "cost-$side"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
autodiff = { path = "$root" }
TOML
done
cat > "$dir/Cargo.toml" <<TOML
[workspace]
members = ["with", "without"]
resolver = "2"
TOML
cp Cargo.lock "$dir/Cargo.lock" 2>/dev/null || true

export CARGO_INCREMENTAL=0 CARGO_TARGET_DIR="$dir/target"
# Warm the dependencies (and check that both sides compile).
cargo build --quiet --tests --manifest-path "$dir/Cargo.toml" --workspace

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
build() {
    touch "$dir/$1/src/lib.rs"
    local start end
    start=$(date +%s.%N)
    cargo build --quiet --tests --manifest-path "$dir/Cargo.toml" -p "cost-$1"
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}
# Alternate the sides, so that a change of load on the machine affects both alike.
with=() without=()
for _ in $(seq "$runs"); do
    with+=("$(build with)")
    without+=("$(build without)")
done
w=$(printf '%s\n' "${with[@]}" | median)
wo=$(printf '%s\n' "${without[@]}" | median)
echo "functions: $functions, lines of source: $lines, runs: $runs per side"
echo "with #[differentiate]:     ${w} s   (${with[*]})"
echo "without the attribute:     ${wo} s   (${without[*]})"
echo "added by #[differentiate]: $(echo "$w - $wo" | bc) s, $(echo "scale=1; 1000 * ($w - $wo) / $functions" | bc) ms per function"
