//! Two implementations of one computation timed against each other in one run, for the
//! benchmarks' ratio tables.

use std::time::Instant;

/// Times `generated` and `hand` alternately, batch against batch, and returns the median of
/// the per-round ratios: load that drifts during the run slows both sides of a round alike.
pub fn paired_ratio(rounds: usize, mut generated: impl FnMut(), mut hand: impl FnMut()) -> f64 {
    let time = |f: &mut dyn FnMut(), n: usize| {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed().as_secs_f64()
    };
    // A batch of about 2 ms per side.
    let once = time(&mut generated, 1).max(1e-9);
    let batch = ((2e-3 / once) as usize).clamp(1, 1_000_000);
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|_| time(&mut generated, batch) / time(&mut hand, batch))
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[rounds / 2]
}
