//! The timing protocol shared by every implementation of the kit (the Python ones in
//! `benches/peers/common.py` do the same): two steps whose losses are reported (the loss
//! at step 0 and at step 1, for the cross-check), a warm-up of at least 3 steps and
//! `WARMUP_S` seconds, then rounds of `batch` steps (a batch lasts about `BATCH_S`) until
//! the budget is spent; the result is the median over rounds of (round time / batch).

use std::hint::black_box;
use std::time::Instant;

pub const WARMUP_S: f64 = 0.3;
pub const BATCH_S: f64 = 0.01;
pub const MIN_ROUNDS: usize = 7;
pub const MAX_ROUNDS: usize = 1001;

/// Busy jiffies of the whole machine (user, nice, system, irq, softirq, steal) from
/// /proc/stat, and this process's own (utime + stime, all threads) from /proc/self/stat.
fn jiffies() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<f64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    let busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu.get(7).copied().unwrap_or(0.0);
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest: Vec<f64> = own
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    Some((busy, rest[11] + rest[12]))
}

/// Cores kept busy by other processes between two readings `wall` seconds apart (jiffies
/// are 1/100 s on Linux).
fn other_load(before: Option<(f64, f64)>, after: Option<(f64, f64)>, wall: f64) -> f64 {
    match (before, after) {
        (Some((b0, o0)), Some((b1, o1))) => (((b1 - b0) - (o1 - o0)) / 100.0 / wall).max(0.0),
        _ => f64::NAN,
    }
}

/// Other processes' load (cores) above which a measurement counts as disturbed.
pub const DISTURBED: f64 = 0.25;

/// Sleeps until other processes have kept less than 0.1 core busy for two consecutive
/// seconds, or until `deadline`.
fn wait_quiet(deadline: Instant) {
    let mut quiet = 0;
    while quiet < 2 && Instant::now() < deadline {
        let j0 = jiffies();
        std::thread::sleep(std::time::Duration::from_secs(1));
        let load = other_load(j0, jiffies(), 1.0);
        quiet = if load < 0.1 { quiet + 1 } else { 0 };
    }
}

pub struct Timing {
    pub loss0: f64,
    pub loss1: f64,
    pub median_s: f64,
    pub q1_s: f64,
    pub q3_s: f64,
    pub batch: usize,
    pub rounds: usize,
    /// Cores used by other processes while the rounds ran.
    pub other_load: f64,
}

pub fn measure(mut step: impl FnMut() -> f64, budget_s: f64) -> Timing {
    let loss0 = black_box(step());
    let loss1 = black_box(step());
    let start = Instant::now();
    let mut n = 0usize;
    while n < 3 || start.elapsed().as_secs_f64() < WARMUP_S {
        black_box(step());
        n += 1;
    }
    let per_step = start.elapsed().as_secs_f64() / n as f64;
    let batch = ((BATCH_S / per_step).round() as usize).max(1);
    let rounds = ((budget_s / (batch as f64 * per_step)) as usize).clamp(MIN_ROUNDS, MAX_ROUNDS);
    // On a shared machine: wait for a quiet moment before the rounds, and measure them again
    // if another process was busy meanwhile, within PEERS_WAIT_QUIET seconds per cell.
    let wait_s: f64 = std::env::var("PEERS_WAIT_QUIET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let deadline = Instant::now() + std::time::Duration::from_secs_f64(wait_s);
    let (per, other_load) = loop {
        wait_quiet(deadline);
        let (j0, t0) = (jiffies(), Instant::now());
        let per: Vec<f64> = (0..rounds)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..batch {
                    black_box(step());
                }
                t.elapsed().as_secs_f64() / batch as f64
            })
            .collect();
        let load = other_load(j0, jiffies(), t0.elapsed().as_secs_f64());
        if load.is_nan() || load <= DISTURBED || Instant::now() >= deadline {
            break (per, load);
        }
    };
    let mut per = per;
    per.sort_by(f64::total_cmp);
    let q = |f: f64| per[((rounds - 1) as f64 * f).round() as usize];
    Timing {
        loss0,
        loss1,
        median_s: q(0.5),
        q1_s: q(0.25),
        q3_s: q(0.75),
        batch,
        rounds,
        other_load,
    }
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:e}")
    } else {
        "null".to_string()
    }
}

/// One JSON line on stdout: what `benches/peers/report.py` reads. `extra` holds more fields
/// (`,"name":value…`) or nothing.
fn line(imp: &str, dtype: &str, workload: &str, threads: usize, fixture_err: f64, t: &Timing, extra: &str) {
    println!(
        "{{\"impl\":\"{imp}\",\"dtype\":\"{dtype}\",\"workload\":\"{workload}\",\"threads\":{threads},\
         \"fixture_err\":{},\"loss0\":{},\"loss1\":{},\"median_s\":{},\"q1_s\":{},\"q3_s\":{},\
         \"batch\":{},\"rounds\":{},\"other_load\":{}{extra}}}",
        num(fixture_err),
        num(t.loss0),
        num(t.loss1),
        num(t.median_s),
        num(t.q1_s),
        num(t.q3_s),
        t.batch,
        t.rounds,
        num(t.other_load)
    );
}

/// The line of one workload cell, and a summary on stderr.
pub fn emit(imp: &str, dtype: &str, workload: &str, threads: usize, fixture_err: f64, t: &Timing) {
    line(imp, dtype, workload, threads, fixture_err, t, "");
    eprintln!(
        "  {imp:<10} {dtype} {workload}: median {:>12.3} µs/step  (fixture err {fixture_err:.1e}, loss0 {:.12e}, \
         other load {:.2} cores)",
        t.median_s * 1e6,
        t.loss0,
        t.other_load
    );
}

/// The line of one peak measurement (workload `peak`: one n×n by n×n product per step, its
/// `fixture_err` the check of one entry), and a summary on stderr.
pub fn emit_peak(imp: &str, dtype: &str, threads: usize, n: usize, check_err: f64, t: &Timing) {
    let gflops = 2.0 * (n as f64).powi(3) / t.median_s / 1e9;
    line(
        imp,
        dtype,
        "peak",
        threads,
        check_err,
        t,
        &format!(",\"n\":{n},\"gflops\":{}", num(gflops)),
    );
    eprintln!(
        "  {imp:<10} {dtype} peak: {n}³ in {:>9.3} ms, {gflops:.1} GFLOP/s on {threads} thread(s) \
         (check err {check_err:.1e}, other load {:.2} cores)",
        t.median_s * 1e3,
        t.other_load
    );
}
