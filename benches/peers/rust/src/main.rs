//! The Rust side of the peer kit: "ours" (`#[differentiate]`), hand-written nalgebra
//! backprop and (with `--features candle`) candle, on W1–W7 in f64 and f32 (W7: ours only).
//! Prints one JSON line per implementation, dtype and workload on stdout (progress on
//! stderr); see `benches/peers/README.md`.
//!
//! Options: `--impls ours,hand,candle` `--workloads W1,W2,W3,W4,W5,W6,W7` `--dtypes f64,f32`
//! `--budget SECONDS` (measuring time per cell, default 2) `--tag SUFFIX` (appended to the
//! names of ours and hand, e.g. `+mt` for the build with matrixmultiply's threads).
//!
//! The workload `peak` (in `--workloads`, whatever `--impls`) measures the machine's
//! matrix-product peak (`src/peak.rs`): nalgebra's `gemm` (named `nalgebra`, with the tag),
//! and, in the build without the tag, the `gemm` crate on one thread and on `PEERS_THREADS`.

mod data;
mod hand;
mod native;
mod ours;
mod peak;
mod timing;

#[cfg(feature = "candle")]
mod cand;

use native::Imp;

fn list(args: &[String], flag: &str, default: &str) -> Vec<String> {
    let v = args
        .iter()
        .position(|a| a == flag)
        .map(|i| args[i + 1].clone())
        .unwrap_or_else(|| default.to_string());
    v.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let impls = list(&args, "--impls", "ours,hand,candle");
    let workloads = list(&args, "--workloads", "W1,W2,W3,W4,W5,W6,W7");
    let dtypes = list(&args, "--dtypes", "f64,f32");
    let budget: f64 = list(&args, "--budget", "2")[0].parse().expect("--budget SECONDS");
    let tag = list(&args, "--tag", "").first().cloned().unwrap_or_default();
    // nalgebra's products run on one thread unless matrixmultiply's `threading` feature is
    // on; then it uses MATMUL_NUM_THREADS or every core.
    let native_threads = if cfg!(feature = "mm-threading") {
        env_usize("MATMUL_NUM_THREADS").unwrap_or_else(cores)
    } else {
        1
    };
    for imp in &impls {
        let native = match imp.as_str() {
            "ours" => Some(Imp::Ours),
            "hand" => Some(Imp::Hand),
            _ => None,
        };
        if let Some(which) = native {
            let name = format!("{imp}{tag}");
            // Ours runs its large products on rayon's pool (`autodiff::linalg`); the
            // hand-written code on nalgebra's products, threaded only in the `+mt` build.
            let threads = match which {
                Imp::Ours => autodiff::linalg::max_threads(),
                Imp::Hand => native_threads,
            };
            for d in &dtypes {
                for w in workloads.iter().filter(|w| *w != "peak") {
                    let run = match (d.as_str(), w.as_str()) {
                        ("f64", "W1") => native::double::w1,
                        ("f64", "W2") => native::double::w2,
                        ("f64", "W3") => native::double::w3,
                        ("f64", "W4") => native::double::w4,
                        ("f64", "W5") => native::double::w5,
                        ("f64", "W6") => native::double::w6,
                        ("f64", "W7") => native::double::w7,
                        ("f32", "W1") => native::single::w1,
                        ("f32", "W2") => native::single::w2,
                        ("f32", "W3") => native::single::w3,
                        ("f32", "W4") => native::single::w4,
                        ("f32", "W5") => native::single::w5,
                        ("f32", "W6") => native::single::w6,
                        ("f32", "W7") => native::single::w7,
                        _ => panic!("unknown dtype/workload {d} {w}"),
                    };
                    run(which, threads, budget, &name);
                }
            }
        } else if imp == "candle" {
            #[cfg(feature = "candle")]
            cand::run(&workloads, &dtypes, budget);
            #[cfg(not(feature = "candle"))]
            eprintln!("candle: not built (build with --features candle)");
        } else {
            panic!("unknown implementation {imp}");
        }
    }
    if workloads.iter().any(|w| w == "peak") {
        let n = env_usize("PEERS_PEAK_N").unwrap_or(2048);
        let threads = env_usize("PEERS_THREADS").unwrap_or_else(cores);
        let name = format!("nalgebra{tag}");
        for d in &dtypes {
            match d.as_str() {
                "f64" => peak::double::nalgebra(n, budget, &name, native_threads),
                "f32" => peak::single::nalgebra(n, budget, &name, native_threads),
                _ => panic!("unknown dtype {d}"),
            }
            // The gemm crate does not depend on the build's features: only in the untagged run.
            let gemm_threads: &[usize] = match (tag.is_empty(), threads) {
                (false, _) => &[],
                (true, 1) => &[1],
                (true, _) => &[1, threads],
            };
            for &t in gemm_threads {
                match d.as_str() {
                    "f64" => peak::double::gemm_crate(n, budget, t),
                    _ => peak::single::gemm_crate(n, budget, t),
                }
            }
        }
    }
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
