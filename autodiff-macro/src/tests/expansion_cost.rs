//! How long `expand` takes on a long function: a generated function of about 100 lines,
//! expanded many times, median reported. Run in release:
//! `cargo test -p autodiff-macro --release -- --ignored expansion_cost --nocapture`
//! (see BENCHMARKS.md, "Expansion cost"). The time is that of the expansion itself, on
//! proc-macro2's own token streams: inside rustc, tokens cross the proc-macro bridge, which
//! adds to it.

use super::language::{self, Rng};
use crate::expand::expand;
use std::time::{Duration, Instant};

/// A generated function of `lines` to `lines + 4` lines, and its line count.
pub fn long_function(lines: usize) -> (language::GenFn, usize) {
    let callees = language::program(7, 12);
    let mut statements = lines / 8;
    loop {
        for seed in 0..8 {
            let mut rng = Rng::new(1000 * statements as u64 + seed);
            let f = language::function_with(&mut rng, "long".into(), &callees, statements);
            let count = f.item().lines().count();
            if (lines..=lines + 4).contains(&count) {
                return (f, count);
            }
        }
        statements += 1;
    }
}

#[test]
#[ignore = "a measurement, not a test: run in release with --nocapture"]
fn expansion_cost() {
    for lines in [50, 100, 200] {
        measure(lines);
    }
}

fn measure(lines: usize) {
    let (f, lines) = long_function(lines);
    let attr: proc_macro2::TokenStream = f.args.parse().unwrap_or_default();
    let item: proc_macro2::TokenStream = match f.item().parse() {
        Ok(t) => t,
        Err(e) => panic!("the generated function does not lex: {e}"),
    };
    let out = expand(attr.clone(), item.clone());
    assert!(
        !out.to_string().contains("compile_error"),
        "the long function must expand cleanly"
    );
    let out_lines = match syn::parse2::<syn::File>(out) {
        Ok(file) => prettyplease::unparse(&file).lines().count(),
        Err(_) => 0,
    };
    let runs = 201;
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let (a, i) = (attr.clone(), item.clone());
            let start = Instant::now();
            let out = expand(a, i);
            let elapsed = start.elapsed();
            drop(out);
            elapsed
        })
        .collect();
    times.sort();
    println!(
        "expansion_cost: a {lines}-line function (expanded to {out_lines} lines): median {:.2?}, min {:.2?}, max {:.2?} over {runs} runs",
        times[runs / 2],
        times[0],
        times[runs - 1]
    );
}

/// The long function is the same every time (the measurement is reproducible).
#[test]
fn long_function_is_deterministic() {
    let (a, n) = long_function(100);
    let (b, m) = long_function(100);
    assert_eq!((a.source(), n), (b.source(), m));
    assert!((100..=104).contains(&n));
}
