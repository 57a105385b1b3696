//! Data-parallel training on several processes over MPI (feature `mpi`): each rank holds a
//! shard of the data, derives the gradient of its part of every minibatch, and the ranks sum
//! their gradients with one all-reduce per step, so that every rank takes the same optimizer
//! step and keeps bit-identical parameters ([`Cluster`], [`train`]).
//!
//! ```text
//! cargo build --release -p autodiff-example-digits --features mpi --example digits_mpi
//! mpirun -np 2 target/release/examples/digits_mpi
//! ```
//!
//! # The sum, the same bits on every rank
//!
//! A rank's contribution to a step is its mean loss and gradient over its `nᵣ` samples,
//! weighted by `nᵣ`; the step's gradient is `Σᵣ nᵣ·gᵣ / Σᵣ nᵣ`, the mean over the whole
//! minibatch, which equals one process's gradient of the whole minibatch to rounding.
//! Gradient, loss and count travel in **one fused buffer** per step (one all-reduce, not one
//! per matrix), kept by the [`Cluster`] and reused from step to step.
//!
//! An MPI sum reduction (`MPI_Allreduce` with `MPI_SUM`) fixes neither the order in which
//! the ranks' values are added nor that every rank gets the same bits: the standard only
//! recommends it, and implementations pick algorithms by message size. A rank whose
//! parameters differ from the others' by one bit drifts away from them, step after step.
//! So the all-reduce is a ring written here on MPI's non-blocking point-to-point calls
//! (`ring.rs`): a reduce-scatter in which each chunk of the buffer is summed in an order that
//! depends on the number of ranks only, then an all-gather that copies each finished chunk
//! from its owner to every rank. Every rank gets the same bits, and a run is reproduced bit
//! for bit with the same number of ranks; it costs what MPI's own ring costs, `2·(N − 1)/N`
//! times the buffer sent and received per rank. A small buffer on a power-of-two number of ranks
//! (two, say) is summed by recursive doubling instead, pairs of ranks swapping whole
//! buffers: fewer messages, each partner adding the same two numbers, so again the same
//! bits everywhere (see `ring.rs`). (An all-gather of every rank's gradient
//! summed in rank order would also be deterministic but sends `N − 1` times the buffer; a
//! reduce to rank 0 followed by a broadcast would be two collectives of a buffer each.)
//!
//! # Each rank its own chunk
//!
//! With an elementwise optimizer ([`crate::optim::Optimizer::elementwise`]) and a gradient
//! that goes by the ring, [`train`] stops the all-reduce between its halves: each rank adds
//! the penalty, takes the norm and updates the parameters of the chunk it owns after the
//! reduce-scatter, and the all-gather copies the updated parameters to every rank, so that
//! this work is shared instead of done by every rank (`owned.rs`). That reduce-scatter reads
//! the gradient's matrices directly, each rank sending its raw chunk and the receiver
//! weighing it by the sender's samples (the counts are known to every rank): no fused copy
//! of the whole gradient, and the same bits as the fused buffer's sum.
//!
//! # A rank that fails
//!
//! A blocking MPI collective waits forever for a rank that crashed without the launcher
//! noticing, or that hangs, or that left the collective early. Every exchange of the ring is
//! non-blocking, polled with `MPI_Test` against a deadline: [`Cluster::timeout`] (60 s unless
//! `AUTODIFF_MPI_TIMEOUT` gives seconds, or [`Cluster::set_timeout`]). When one exchange
//! takes longer, the rank prints which step and which neighbour it waited for on standard
//! error and calls `MPI_Abort` with exit code [`TIMEOUT_EXIT_CODE`], which ends every rank of
//! the job; `mpirun` then exits with a non-zero status. The deadline applies to each
//! exchange, so the first all-reduce also waits for the slowest rank to load its data:
//! set a timeout above that time.
//!
//! # Threads
//!
//! MPI is called from the thread that created the [`Cluster`] only (`MPI_THREAD_FUNNELED`).
//! The ranks on one machine share its cores: [`Cluster::init`] caps the threads of the
//! runtime's products ([`crate::linalg::set_max_threads`]) at the cores divided by the ranks
//! on this machine, at least 1, so that two ranks on two cores do not fight over them.
#![forbid(unsafe_code)]

mod owned;
mod ring;
mod training;

use crate::params::Parameters;
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::Threading;
use std::convert::Infallible;
use std::fmt;
use std::ops::Range;
use std::time::Duration;

pub use training::train;

/// The MPI bindings ([rsmpi](https://docs.rs/mpi)) that [`Cluster::world`] belongs to, for
/// messages and collectives of one's own.
pub use mpi;

/// The exit code of a job that a rank ended because an all-reduce timed out.
pub const TIMEOUT_EXIT_CODE: i32 = 75;

/// The timeout of an all-reduce exchange when `AUTODIFF_MPI_TIMEOUT` does not set one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// This process's place among the processes of an MPI job, and the all-reduce they share.
///
/// Created once per process ([`Cluster::init`]); MPI is finalized when it is dropped.
///
/// ```no_run
/// use autodiff_runtime::data::spiral;
/// use autodiff_runtime::distributed::{self, Cluster};
/// use autodiff_runtime::init::{seeded_rng, Init};
/// use autodiff_runtime::nn::{Activation, Mlp};
/// use autodiff_runtime::optim::Adam;
/// use autodiff_runtime::train::TrainConfig;
///
/// let mut cluster = Cluster::init()?;
/// let all = spiral(100, 3, &mut seeded_rng(0)); // the same data on every rank…
/// let rows: Vec<usize> = cluster.shard(all.len()).collect();
/// let mine = all.select(&rows); // …of which each keeps its rows
/// // The same model on every rank: the same seed.
/// let mut model = Mlp::new(&[2, 100, 3], Activation::Relu, Init::He, &mut seeded_rng(1));
/// let config = TrainConfig { epochs: 100, batch_size: 60, ..TrainConfig::default() };
/// distributed::train(&mut cluster, &mut model, &mine, &mut Adam::new(0.01), &config)?;
/// if cluster.is_root() {
///     model.save("spiral.json")?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Cluster {
    world: SimpleCommunicator,
    timeout: Duration,
    /// The fused buffer of a step, reused.
    fused: Vec<f64>,
    /// What the ring receives, reused.
    scratch: Vec<f64>,
    /// The all-reduces so far, for error messages.
    reductions: usize,
    // Last: dropped after the communicator, it finalizes MPI.
    _universe: Universe,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("rank", &self.rank())
            .field("size", &self.size())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why [`Cluster::init`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitError {
    /// MPI was initialized already in this process (a second [`Cluster`]).
    AlreadyInitialized,
    /// `AUTODIFF_MPI_TIMEOUT` is not a positive number of seconds.
    BadTimeout(String),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::AlreadyInitialized => {
                write!(
                    f,
                    "MPI is initialized already: create one Cluster per process"
                )
            }
            InitError::BadTimeout(value) => write!(
                f,
                "AUTODIFF_MPI_TIMEOUT={value:?} is not a positive number of seconds"
            ),
        }
    }
}

impl std::error::Error for InitError {}

impl Cluster {
    /// Initializes MPI (`MPI_THREAD_FUNNELED`), reads `AUTODIFF_MPI_TIMEOUT` (seconds,
    /// fractions allowed), and caps the product threads at this machine's cores divided by
    /// its ranks. Without `mpirun` the process is a job of one rank.
    pub fn init() -> Result<Cluster, InitError> {
        let timeout = match std::env::var("AUTODIFF_MPI_TIMEOUT") {
            Err(_) => DEFAULT_TIMEOUT,
            Ok(value) => match value.trim().parse::<f64>() {
                Ok(s) if s > 0.0 && s.is_finite() => Duration::from_secs_f64(s),
                _ => return Err(InitError::BadTimeout(value)),
            },
        };
        let (universe, _) = mpi::initialize_with_threading(Threading::Funneled)
            .ok_or(InitError::AlreadyInitialized)?;
        let world = universe.world();
        let on_this_machine = world.split_shared(world.rank()).size().max(1) as usize;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        crate::linalg::set_max_threads((cores / on_this_machine).max(1));
        Ok(Cluster {
            world,
            timeout,
            fused: Vec::new(),
            scratch: Vec::new(),
            reductions: 0,
            _universe: universe,
        })
    }

    /// This process's rank, from 0.
    pub fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    /// The number of ranks of the job.
    pub fn size(&self) -> usize {
        self.world.size() as usize
    }

    /// Whether this is rank 0, the one that reports progress and writes files.
    pub fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// How long one exchange of an all-reduce may wait before the job is aborted.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sets [`Cluster::timeout`]; every rank should set the same.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// MPI's communicator of every rank, for messages of one's own.
    pub fn world(&self) -> &SimpleCommunicator {
        &self.world
    }

    /// This rank's rows of `len`: the `rank`-th of `size` contiguous ranges of sizes within
    /// one ([`crate::parallel::shard_range`]). What a rank reads of a data set of `len`
    /// samples.
    pub fn shard(&self, len: usize) -> Range<usize> {
        crate::parallel::shard_range(len, self.size(), self.rank())
    }

    /// `buf ← Σ_ranks buf`, elementwise, the same bits on every rank (see the module's
    /// documentation). Every rank must call it with a buffer of the same length.
    pub fn all_reduce_sum(&mut self, buf: &mut [f64]) {
        self.reductions += 1;
        self.collective(buf.len(), |world, scratch, timeout, stalled| {
            ring::all_reduce(world, buf, scratch, timeout, stalled)
        });
    }

    /// The first half of [`Cluster::all_reduce_sum`] by the ring, of this rank's buffer
    /// held as `leaves` weighted by `weights[rank]` (`ring::weighted_reduce_scatter`, with
    /// `acc` for the partial sums passed on): `then` gets the sum of the chunk this rank
    /// owns, to write where it wants it, and `acc` back. Only for a buffer that goes by the
    /// ring (`ring::splits`); [`Cluster::all_gather`] completes it.
    fn weighted_reduce_scatter<T>(
        &mut self,
        (leaves, weights): (&[&[f64]], &[f64]),
        acc: &mut Vec<f64>,
        then: impl FnOnce(&ring::ChunkSum<'_>, &mut Vec<f64>) -> T,
    ) -> T {
        self.reductions += 1;
        let lengths: Vec<usize> = leaves.iter().map(|leaf| leaf.len()).collect();
        let len = lengths.iter().sum();
        self.collective(len, |world, scratch, timeout, stalled| {
            let (buffers, leaves) = ((&mut *acc, scratch), (leaves, &lengths[..]));
            let sum =
                ring::weighted_reduce_scatter(world, leaves, weights, buffers, timeout, stalled);
            then(&sum, acc)
        })
    }

    /// The second half of [`Cluster::all_reduce_sum`] after [`Cluster::weighted_reduce_scatter`],
    /// on the buffer held as `leaves` one after the other: every rank's chunk, as its owner
    /// left it, copied to every rank.
    fn all_gather(&mut self, leaves: &mut [&mut [f64]]) {
        let len = leaves.iter().map(|leaf| leaf.len()).sum();
        self.collective(len, |world, _, timeout, stalled| {
            ring::all_gather(world, leaves, timeout, stalled)
        });
    }

    /// Runs one of the ring's calls on a buffer of `len` numbers with the communicator, the
    /// scratch buffer, the timeout, and what ends the job when an exchange stalls.
    fn collective<T>(
        &mut self,
        len: usize,
        call: impl FnOnce(
            &SimpleCommunicator,
            &mut Vec<f64>,
            Duration,
            &dyn Fn(ring::Stalled) -> Infallible,
        ) -> T,
    ) -> T {
        let (rank, size, reduction) = (self.rank(), self.size(), self.reductions);
        let timeout = self.timeout;
        let world = &self.world;
        let stalled = |s: ring::Stalled| -> Infallible {
            let waited = if s.received {
                format!("could not deliver to rank {}", s.to)
            } else {
                format!("got nothing from rank {}", s.from)
            };
            eprintln!(
                "autodiff: rank {rank} of {size}: all-reduce {reduction} (of {len} numbers, \
                 exchange {}) {waited} within {timeout:?}: a rank failed, hangs or left the job \
                 early; aborting every rank (MPI_Abort, exit code {TIMEOUT_EXIT_CODE}). The \
                 timeout is AUTODIFF_MPI_TIMEOUT (seconds).",
                s.step
            );
            world.abort(TIMEOUT_EXIT_CODE)
        };
        call(world, &mut self.scratch, timeout, &stalled)
    }

    /// The mean over every rank's samples: from this rank's mean `value` and gradient
    /// `grads` over its `count` samples, the mean value and gradient over all ranks' samples
    /// (into `grads`, the same bits on every rank), and the number of samples of all ranks.
    ///
    /// One all-reduce of one buffer holding `count·grads`, `count·value` and `count`, kept
    /// by the cluster from call to call. A rank with no samples passes `count` 0 (its `value`
    /// and `grads` are then ignored); when no rank has a sample the result is NaN.
    pub fn mean_of_slices(
        &mut self,
        count: usize,
        value: f64,
        grads: &mut [&mut [f64]],
    ) -> (f64, usize) {
        let (mut fused, weight) = (std::mem::take(&mut self.fused), count as f64);
        fused.clear();
        for g in grads.iter() {
            fused.extend(g.iter().map(|x| weight * x));
        }
        let (mean, total) = self.sum_fused(&mut fused, count, value);
        let mut sums = &fused[..];
        for g in grads.iter_mut() {
            let (mine, rest) = sums.split_at(g.len());
            for (x, s) in g.iter_mut().zip(mine) {
                *x = s / total;
            }
            sums = rest;
        }
        self.fused = fused;
        (mean, total as usize)
    }

    /// [`Cluster::mean_of_slices`] for a gradient of structured parameters (a matrix, a `Vec`
    /// of them, a `#[derive(Parameters)]` struct), leaf by leaf.
    pub fn mean_of<P: Parameters<Scalar = f64>>(
        &mut self,
        count: usize,
        value: f64,
        grads: &mut P,
    ) -> (f64, usize) {
        let (mut fused, weight) = (std::mem::take(&mut self.fused), count as f64);
        fused.clear();
        grads.for_each_leaf(&mut |leaf| fused.extend(leaf.iter().map(|x| weight * x)));
        let (mean, total) = self.sum_fused(&mut fused, count, value);
        let mut sums = &fused[..];
        grads.for_each_leaf_mut(&mut |leaf| {
            let (mine, rest) = sums.split_at(leaf.len());
            for (x, s) in leaf.iter_mut().zip(mine) {
                *x = s / total;
            }
            sums = rest;
        });
        self.fused = fused;
        (mean, total as usize)
    }

    /// Appends `count·value` and `count` to `fused` (which holds `count·gradient`) and sums
    /// it over the ranks; returns the mean value and the total count (as `f64`).
    fn sum_fused(&mut self, fused: &mut Vec<f64>, count: usize, value: f64) -> (f64, f64) {
        let weight = count as f64;
        if count == 0 {
            // What this rank computed on no samples (NaN, say) must not reach the sum.
            fused.iter_mut().for_each(|x| *x = 0.0);
        }
        fused.push(if count == 0 { 0.0 } else { weight * value });
        fused.push(weight);
        self.all_reduce_sum(fused);
        let total = fused.pop().expect("the count");
        let sum = fused.pop().expect("the value");
        (sum / total, total)
    }

    /// Whether every rank passed the same bits (the parameters after training, say): one
    /// all-reduce of eight numbers.
    ///
    /// Each rank hashes `values` into four 16-bit pieces `p` and the ranks sum `p` and `p²`:
    /// all pieces are equal exactly when `Σp = N·p` and `Σp² = N·p²` on a rank, the sums
    /// exact in `f64` for fewer than 2²¹ ranks.
    pub fn agree(&mut self, values: &[f64]) -> bool {
        // FNV-1a's steps over whole 64-bit words rather than bytes (8 times fewer dependent
        // multiplications: a model's parameters are checked at the start of every training
        // run). Each step is a bijection of the hash, so values that differ in one word hash
        // differently.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for v in values {
            hash = (hash ^ v.to_bits()).wrapping_mul(0x0100_0000_01b3);
        }
        let pieces: Vec<f64> = (0..4)
            .map(|i| ((hash >> (16 * i)) & 0xffff) as f64)
            .collect();
        let mut buf: Vec<f64> = pieces.iter().chain(pieces.iter()).copied().collect();
        for p in &mut buf[4..] {
            *p *= *p;
        }
        self.all_reduce_sum(&mut buf);
        let n = self.size() as f64;
        pieces
            .iter()
            .enumerate()
            .all(|(i, p)| buf[i] == n * p && buf[4 + i] == n * p * p)
    }
}
