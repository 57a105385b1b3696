//! Large products split into blocks of columns of the result, one per thread: the calling
//! thread computes the first block while the workers of a small pool of its own compute the
//! others; long elementwise loops ([`zip_chunks`]) the same way.
//!
//! Waking a sleeping thread takes longer than a product of this size (about 0.2 ms measured
//! here), so work is split only while a worker is awake: after a product, one worker keeps
//! polling for the next for [`KEEP_WARM`] (as OpenMP runtimes do) and then sleeps. A
//! product that finds it asleep runs on the calling thread alone and wakes it for the next.
//! The polling worker yields its core between looks (`sched_yield`), so that another
//! process that wants the core gets it; when that makes the worker's parts late several
//! times in a row, work stays on the calling thread for [`BACK_OFF`].

use super::{kernel, Strided};
use crate::real::Real;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The fewest columns of the result one thread's block has.
const MIN_COLUMNS: usize = 16;

/// How long a worker keeps polling for the next product after it last ran one.
const KEEP_WARM: Duration = Duration::from_micros(500);

/// How much of [`KEEP_WARM`] must be left for a product to count on the worker.
const WARM_MARGIN: Duration = Duration::from_micros(50);

/// The threads products may use: `RAYON_NUM_THREADS` when set, the number of cores otherwise.
pub(super) fn available_threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
            .unwrap_or(1)
    })
}

/// The pool of `available_threads() - 1` workers (the calling thread is the other one);
/// `None` on one core, or when the operating system refuses the threads.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let workers = available_threads().checked_sub(1).filter(|&w| w > 0)?;
        rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("autodiff-product-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// The products split between threads so far, in the whole process.
static SPLIT_PRODUCTS: AtomicUsize = AtomicUsize::new(0);

/// The products split between threads so far, in the whole process.
pub(super) fn split_products() -> usize {
    SPLIT_PRODUCTS.load(Ordering::Relaxed)
}

/// `out = alpha · a · b + beta · out` (column-major `out`) computed by up to `threads`
/// threads, each a block of columns of `out` on a single-threaded kernel call.
pub(super) fn by_column_blocks<T: Real>(
    out: &mut [T],
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: Option<T>,
    threads: usize,
) {
    let (m, n) = (a.rows, b.cols);
    // More than the product takes on one core: 4 multiply-adds a nanosecond is a quarter of
    // the kernel's speed or less.
    let work = m.saturating_mul(n).saturating_mul(a.cols);
    let expected = Duration::from_nanos(u64::try_from(work / 4).unwrap_or(u64::MAX));
    let Some((pool, parts)) = awake_pool(threads.min(n / MIN_COLUMNS), expected) else {
        return kernel::gemm(out, alpha, a, b, beta);
    };
    SPLIT_PRODUCTS.fetch_add(1, Ordering::Relaxed);
    // Block boundaries on multiples of 6 columns, the width of the kernel's AVX-512 register
    // tiles (W2, f64 / f32 on two cores, three rounds each: 298 / 151 µs a step against
    // 308 / 158 with multiples of 8 and 318 / 166 with 12).
    let first_column = |i: usize| ((n * i / parts).div_ceil(6) * 6).min(n);
    in_parts(
        pool,
        out,
        parts,
        |i| first_column(i) * m,
        |i, block| {
            let (j0, j1) = (first_column(i), first_column(i + 1));
            let b = Strided {
                data: &b.data[j0 * b.col_stride..],
                cols: j1 - j0,
                ..b
            };
            kernel::gemm(block, alpha, a, b, beta)
        },
    );
}

/// `f` over matching chunks of `a` and `b` (of equal length), on as many threads as
/// products use when the slices are at least `min_len` long and a worker is awake; on the
/// calling thread alone otherwise. For long elementwise loops, which one core's memory
/// bandwidth limits.
pub(crate) fn zip_chunks<A: Send, B: Sync>(
    a: &mut [A],
    b: &[B],
    min_len: usize,
    f: impl Fn(&mut [A], &[B]) + Sync,
) {
    assert_eq!(a.len(), b.len(), "zip_chunks: lengths differ");
    let len = a.len();
    let wanted = if len >= min_len {
        super::max_threads()
    } else {
        1
    };
    // An element a nanosecond: several times slower than such a loop runs.
    let Some((pool, parts)) = awake_pool(
        wanted,
        Duration::from_nanos(u64::try_from(len).unwrap_or(u64::MAX)),
    ) else {
        return f(a, b);
    };
    // Chunk boundaries on multiples of 64 elements (whole cache lines).
    let start = |i: usize| ((len * i / parts).div_ceil(64) * 64).min(len);
    in_parts(pool, a, parts, start, |i, chunk| {
        f(chunk, &b[start(i)..start(i + 1)])
    });
}

/// `f(i, &mut parts[i])` for every part: each on a thread of its own when a worker is awake
/// (part 0 on the calling thread), as products are split, else one after the other on the
/// calling thread. For work cut into independent parts of about equal size that takes about
/// `expected` on one thread; late parts count towards backing off, as a product's do.
pub(crate) fn each_part<A: Send>(
    parts: &mut [A],
    expected: Duration,
    f: impl Fn(usize, &mut A) + Sync,
) {
    match awake_pool(parts.len(), expected) {
        Some((pool, threads)) if threads == parts.len() => {
            in_parts(pool, parts, threads, |i| i, |i, part| f(i, &mut part[0]));
        }
        _ => parts
            .iter_mut()
            .enumerate()
            .for_each(|(i, part)| f(i, part)),
    }
}

/// The number of threads [`on_threads`] runs on when asked for `wanted`: at most the
/// threads products may use ([`super::max_threads`]), and at least 1.
pub(crate) fn threads_for_shards(wanted: usize) -> usize {
    let pool = pool().map_or(0, rayon::ThreadPool::current_num_threads);
    wanted.min(super::max_threads()).min(pool + 1).max(1)
}

/// `f(i)` for every `i` below `threads` (as given by [`threads_for_shards`]), each on its own
/// thread: `f(0)` on the calling thread, `f(i)` on the pool's worker `i − 1`, always the
/// same one, so that what a thread takes from its buffer pool in one call it gets back in
/// the next. Returns when every `f(i)` has returned; a worker then keeps polling for the
/// next call (see the module's documentation).
///
/// The `f(i)` may wait for each other (the threads run at the same time), but must not wait
/// for work given to the pool otherwise.
pub(crate) fn on_threads(threads: usize, f: impl Fn(usize) + Sync) {
    let Some(pool) = pool().filter(|_| threads > 1) else {
        return f(0);
    };
    assert!(
        threads <= pool.current_num_threads() + 1,
        "on_threads: {threads} threads asked of a pool of {} workers",
        pool.current_num_threads()
    );
    let pending = AtomicUsize::new(threads - 1);
    let (f, pending_ref) = (&f, &pending);
    pool.in_place_scope(|scope| {
        scope.spawn_broadcast(move |_, ctx| {
            let i = ctx.index() + 1;
            if i < threads {
                f(i);
                pending_ref.fetch_sub(1, Ordering::Release);
            }
        });
        f(0);
        // As in [`in_parts`]: poll for the workers a while rather than fall asleep at once.
        let polling = Instant::now();
        while pending.load(Ordering::Acquire) > 0 && polling.elapsed() < KEEP_WARM {
            std::thread::yield_now();
        }
    });
    keep_warm(pool);
}

/// The pool and the number of parts (at most `wanted`) for work that could use `wanted`
/// threads and takes about `expected` on one thread, when a worker is awake to take them;
/// `None` when the work should run on the calling thread. Then a worker is woken and asked
/// to poll until [`KEEP_WARM`] after the work's expected end, so that the next work finds it
/// awake however long this one takes.
fn awake_pool(wanted: usize, expected: Duration) -> Option<(&'static rayon::ThreadPool, usize)> {
    let pool = pool().filter(|_| wanted > 1)?;
    if backing_off() {
        return None;
    }
    if !warm(WARM_MARGIN) {
        keep_warm(pool);
        WARM_UNTIL.fetch_max(now_plus(expected + KEEP_WARM), Ordering::SeqCst);
        return None;
    }
    Some((pool, wanted.min(pool.current_num_threads() + 1)))
}

/// `f(i, part)` for each of the `parts` parts of `data`, part `i` starting at element
/// `start(i)` (`start(0) = 0`, `start(parts) = data.len()`): part 0 on the calling thread,
/// the others on the pool's workers. Returns when every part is done; a worker then keeps
/// polling for the next work.
fn in_parts<A: Send>(
    pool: &'static rayon::ThreadPool,
    data: &mut [A],
    parts: usize,
    start: impl Fn(usize) -> usize,
    f: impl Fn(usize, &mut [A]) + Sync,
) {
    let pending = AtomicUsize::new(parts - 1);
    let (f, pending_ref) = (&f, &pending);
    pool.in_place_scope(|scope| {
        let (first, mut rest) = data.split_at_mut(start(1));
        for i in 1..parts {
            let (part, others) = core::mem::take(&mut rest).split_at_mut(start(i + 1) - start(i));
            rest = others;
            scope.spawn(move |_| {
                f(i, part);
                pending_ref.fetch_sub(1, Ordering::Release);
            });
        }
        let started = Instant::now();
        f(0, first);
        let (mine, polling) = (started.elapsed(), Instant::now());
        // Poll for the other parts rather than fall asleep at the end of the scope (waking
        // takes longer than the parts' imbalance), for at most [`KEEP_WARM`].
        while pending.load(Ordering::Acquire) > 0 && polling.elapsed() < KEEP_WARM {
            core::hint::spin_loop();
        }
        // Parts of equal size end together unless another process holds the worker's core:
        // then waiting for it costs more than the threads give, so stop splitting a while.
        note_lateness(polling.elapsed() > mine.max(LATE));
    });
    if !backing_off() {
        keep_warm(pool);
    }
}

/// How late the other parts may end after the calling thread's (and later than the calling
/// thread's part took) before the split counts as late. On a quiet machine a worker's part
/// now and then takes twice the calling thread's; a worker whose core another process holds
/// is milliseconds late.
const LATE: Duration = Duration::from_micros(200);

/// How many late splits in a row make work stay on the calling thread for [`BACK_OFF`].
const LATE_IN_A_ROW: usize = 3;

/// How long work stays on the calling thread after [`LATE_IN_A_ROW`] late splits.
const BACK_OFF: Duration = Duration::from_millis(100);

/// The time since [`epoch`], in nanoseconds, until which work stays on the calling thread.
static BACKING_OFF_UNTIL: AtomicU64 = AtomicU64::new(0);

/// Late splits in a row so far.
static LATE_SPLITS: AtomicUsize = AtomicUsize::new(0);

/// Whether work stays on the calling thread now, after late splits.
fn backing_off() -> bool {
    BACKING_OFF_UNTIL.load(Ordering::SeqCst) > now_plus(Duration::ZERO)
}

/// Counts late splits in a row; at [`LATE_IN_A_ROW`], keeps work on the calling thread for
/// [`BACK_OFF`] and lets the polling worker sleep.
fn note_lateness(late: bool) {
    if !late {
        LATE_SPLITS.store(0, Ordering::Relaxed);
    } else if LATE_SPLITS.fetch_add(1, Ordering::Relaxed) + 1 >= LATE_IN_A_ROW {
        LATE_SPLITS.store(0, Ordering::Relaxed);
        BACKING_OFF_UNTIL.fetch_max(now_plus(BACK_OFF), Ordering::SeqCst);
        WARM_UNTIL.store(0, Ordering::SeqCst);
    }
}

/// Extends the time until which the polling worker polls to [`KEEP_WARM`] from now.
fn keep_polling() {
    WARM_UNTIL.fetch_max(now_plus(KEEP_WARM), Ordering::SeqCst);
}

/// The time since the first product, in nanoseconds, until which a worker polls the pool
/// (0: none does).
static WARM_UNTIL: AtomicU64 = AtomicU64::new(0);

/// Whether a worker polls the pool, or has been asked to and is on its way.
static POLLING: AtomicBool = AtomicBool::new(false);

/// Whether a worker is polling the pool now (it may take a while to wake after it was asked).
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The instant every [`WARM_UNTIL`] counts from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since [`epoch`], plus `ahead`.
fn now_plus(ahead: Duration) -> u64 {
    u64::try_from((epoch().elapsed() + ahead).as_nanos()).unwrap_or(u64::MAX)
}

/// Whether a worker polls the pool for at least `margin` more.
fn warm(margin: Duration) -> bool {
    RUNNING.load(Ordering::SeqCst) && WARM_UNTIL.load(Ordering::SeqCst) > now_plus(margin)
}

/// Wakes a worker and waits until it runs, so that the next large product is split between
/// threads from its start.
pub(super) fn wake_threads() {
    let Some(pool) = pool().filter(|_| super::max_threads() > 1) else {
        return;
    };
    // An explicit wake-up ends a back-off after late splits: the caller wants the threads now.
    LATE_SPLITS.store(0, Ordering::SeqCst);
    BACKING_OFF_UNTIL.store(0, Ordering::SeqCst);
    // `install` returns once a worker has run the job: awake.
    pool.install(keep_polling);
    keep_warm(pool);
}

/// Has one worker poll the pool until [`KEEP_WARM`] after its last job (or later, when a
/// product asks for it), spawning it unless one already does; a product that finds it
/// polling splits without waiting for a wake-up.
fn keep_warm(pool: &'static rayon::ThreadPool) {
    keep_polling();
    if POLLING.swap(true, Ordering::SeqCst) {
        return;
    }
    pool.spawn(move || loop {
        RUNNING.store(true, Ordering::SeqCst);
        while let Some(done) = pool.yield_now() {
            match done {
                rayon::Yield::Executed => keep_polling(),
                rayon::Yield::Idle
                    if WARM_UNTIL.load(Ordering::SeqCst) <= now_plus(Duration::ZERO) =>
                {
                    break
                }
                rayon::Yield::Idle => std::thread::yield_now(),
            }
        }
        RUNNING.store(false, Ordering::SeqCst);
        POLLING.store(false, Ordering::SeqCst);
        // A product may have moved the time on after the last look, having seen this worker
        // still polling: go on, unless another worker has taken over since.
        if WARM_UNTIL.load(Ordering::SeqCst) <= now_plus(Duration::ZERO)
            || POLLING.swap(true, Ordering::SeqCst)
        {
            break;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test, because the state is the process's: shared loops visit every element once
    /// (shared or not); then late splits back off only when they come [`LATE_IN_A_ROW`] in a
    /// row, and the back-off ends.
    #[test]
    fn shared_loops_and_backing_off() {
        for len in [0, 1, 63, 64, 65, 1000, 100_003] {
            let b: Vec<u64> = (0..len as u64).collect();
            let mut a = vec![0u64; len];
            wake_threads();
            zip_chunks(&mut a, &b, 64, |a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y + 1;
                }
            });
            assert!(a.iter().zip(&b).all(|(x, y)| *x == y + 1), "length {len}");
        }

        // The shared loops above may have come late themselves (the other tests of this
        // binary run on the same two cores) and started a back-off: start from none.
        LATE_SPLITS.store(0, Ordering::SeqCst);
        BACKING_OFF_UNTIL.store(0, Ordering::SeqCst);
        for late in [true, true, false, true, true] {
            note_lateness(late);
        }
        assert!(!backing_off(), "an on-time split resets the count");
        note_lateness(true);
        assert!(backing_off(), "three late splits in a row");
        assert!(awake_pool(2, Duration::ZERO).is_none());
        std::thread::sleep(BACK_OFF + Duration::from_millis(10));
        assert!(!backing_off(), "the back-off ends");
    }
}
