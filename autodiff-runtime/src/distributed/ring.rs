//! The ring all-reduce behind [`super::Cluster`]: one buffer summed over the ranks in an
//! order fixed by the number of ranks, the same bits on every rank, each exchange polled
//! against a deadline.
//!
//! The buffer is cut into `N` chunks ([`crate::parallel::shard_range`]). In `N − 1` steps of
//! the reduce-scatter, rank `r` sends a chunk to rank `r + 1` and adds the chunk it receives
//! from rank `r − 1` to its own, so that chunk `c` becomes
//! `((g_c + g_{c+1}) + …) + g_{c−1}` (ranks modulo `N`) on rank `c − 1`: an order that
//! depends on `N` only. In `N − 1` steps of the all-gather, each finished chunk travels round
//! the ring and is copied, not added, so every rank ends with the bits its owner computed.
//! The two halves are also called on their own ([`weighted_reduce_scatter`], [`all_gather`]),
//! so that a rank can work on the chunk it owns in between. Both take the buffer as a list of
//! slices (a model's matrices), so that they send from and receive into them directly; the
//! reduce-scatter's slices are weighted per rank (each rank's gradient by its samples): a
//! rank sends its raw chunk and the receiver weighs it, so no weighted copy is made.
//! Each rank sends and receives `2·(N − 1)/N` times the buffer: the bandwidth-optimal
//! all-reduce, as MPI libraries do it for large buffers, written here so that the order of
//! the sum is ours and every wait can time out.
//!
//! A small buffer (at most [`EXCHANGE_MAX_LEN`] numbers) on a power-of-two number of ranks
//! goes by recursive doubling instead: in step `k`, rank `r` swaps its whole buffer with
//! rank `r XOR 2ᵏ` and both add the two; after `log₂ N` steps every rank holds the sum.
//! Both partners of a swap compute `a + b` from the same two numbers, and floating-point
//! addition is commutative, so they hold the same bits, and the order of the sum depends on
//! `N` only. That is `log₂ N` messages per rank instead of `2·(N − 1)`: on two ranks one
//! exchange instead of two, which is what a step of a small model waits for.

use crate::parallel::shard_range;
use mpi::point_to_point::{Destination, Source};
use mpi::request::{Request, Scope};
use mpi::topology::{Communicator, SimpleCommunicator};
use std::convert::Infallible;
use std::ops::{Range, RangeInclusive};
use std::time::{Duration, Instant};

/// The largest buffer (in numbers) that goes by recursive doubling: above it, the ring's
/// halved messages and halved additions cost less than the messages saved.
pub(super) const EXCHANGE_MAX_LEN: usize = 32_768;

/// A message that did not arrive, or could not leave, within the deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stalled {
    /// The rank that sends to this one in the ring.
    pub from: usize,
    /// The rank this one sends to.
    pub to: usize,
    /// Whether the message from `from` had arrived (then the send to `to` is what waited).
    pub received: bool,
    /// The exchange that waited: of the ring, from 1 to `2·(N − 1)`; of recursive doubling,
    /// from 1 to `log₂ N`.
    pub step: usize,
}

/// `buf ← Σ_ranks buf`, in the order the module describes, with `scratch` (grown to the
/// largest chunk, kept for the next call) for what arrives. `stalled` is called when one
/// exchange takes longer than `timeout`, and must end the process (it cannot return).
pub(super) fn all_reduce(
    world: &SimpleCommunicator,
    buf: &mut [f64],
    scratch: &mut Vec<f64>,
    timeout: Duration,
    stalled: &dyn Fn(Stalled) -> Infallible,
) {
    let n = world.size() as usize;
    if n == 1 {
        return;
    }
    if !splits(n, buf.len()) {
        return recursive_doubling(world, buf, scratch, timeout, stalled);
    }
    ring_steps(world, buf, scratch, 1..=n - 1, timeout, stalled);
    all_gather(world, &mut [buf], timeout, stalled);
}

/// Whether a buffer of `len` numbers on `n` ranks goes by the ring, whose two halves
/// [`weighted_reduce_scatter`] and [`all_gather`] are then the two halves of [`all_reduce`].
pub(super) fn splits(n: usize, len: usize) -> bool {
    n > 1 && !(n.is_power_of_two() && len <= EXCHANGE_MAX_LEN)
}

/// The ring's first half on a weighted sum, `Σ_r weights[r]·g_r`, `g_r` rank `r`'s buffer
/// held as `leaves` one after the other, a rank of weight 0 counting as zeros: the sum of
/// this rank's own chunk, to be written where its caller wants it ([`ChunkSum::write`]).
/// The bits are those of [`all_reduce`] of the weighted buffers: chunk `c` becomes
/// `((w_c·g_c + w_{c+1}·g_{c+1}) + …)`. A rank sends its raw chunk straight from its leaves
/// (of `lengths`) and the receiver weighs it, so no weighted copy of the whole buffer is
/// made; `acc` holds the partial sums passed on (on more than two ranks), `scratch` what
/// arrives.
pub(super) fn weighted_reduce_scatter<'a>(
    world: &SimpleCommunicator,
    (leaves, lengths): (&'a [&'a [f64]], &'a [usize]),
    weights: &[f64],
    (acc, scratch): (&mut Vec<f64>, &'a mut Vec<f64>),
    timeout: Duration,
    stalled: &dyn Fn(Stalled) -> Infallible,
) -> ChunkSum<'a> {
    let (n, r) = (world.size() as usize, world.rank() as usize);
    let (next, prev) = ((r + 1) % n, (r + n - 1) % n);
    let len = lengths.iter().sum();
    let chunk = |c: usize| shard_range(len, n, c);
    let pieces = |c: usize| overlaps(lengths, chunk(c)).map(|(_, _, within)| within);
    if scratch.len() < chunk(0).len() {
        scratch.resize(chunk(0).len(), 0.0);
    }
    // As in `ring_steps`: step s + 1 sends chunk r − s (raw from the leaves when s = 0, else
    // the sum `acc` made in step s) and receives chunk r − s − 1, a message per piece of a
    // chunk within one leaf on both sides.
    let mut arrived_weight = 0.0;
    for step in 1..n {
        let s = step - 1;
        let (send, recv) = ((r + n - s) % n, (r + 2 * n - s - 1) % n);
        if s > 0 {
            // What arrived in the step before, summed with this rank's part, is sent on.
            let last = ChunkSum::new(leaves, lengths, chunk(send), weights[r]);
            acc.resize(chunk(send).len(), 0.0);
            last.with(&scratch[..acc.len()], arrived_weight)
                .write(0..acc.len(), acc);
        }
        let mut receives = split_mut(&mut scratch[..chunk(recv).len()], pieces(recv));
        let sends: Vec<&[f64]> = if s == 0 {
            overlaps(lengths, chunk(send))
                .map(|(leaf, part, _)| &leaves[leaf][part])
                .collect()
        } else {
            pieces(send).map(|within| &acc[within]).collect()
        };
        let on_timeout = timed_out(stalled, (prev, next), step);
        exchange(
            world,
            &sends,
            next,
            &mut receives,
            prev,
            timeout,
            &on_timeout,
        );
        // What arrives in the first step is the sender's raw chunk, later a weighted sum.
        arrived_weight = if s == 0 { weights[prev] } else { 1.0 };
    }
    let own = owned_chunk(n, r, len);
    let sum = ChunkSum::new(leaves, lengths, own.clone(), weights[r]);
    match n {
        1 => sum,
        _ => sum.with(&scratch[..own.len()], arrived_weight),
    }
}

/// The weighted sum of one chunk of the ranks' buffers, read when written:
/// `own·g[range] + weight·arrived`, `g` this rank's leaves one after the other and
/// `arrived` (when given) what came from the ring; a weight of 0 gives zeros, whatever the
/// numbers it weighs.
pub(super) struct ChunkSum<'a> {
    leaves: &'a [&'a [f64]],
    lengths: &'a [usize],
    /// The chunk's elements, of the leaves one after the other.
    pub range: Range<usize>,
    own: f64,
    arrived: (&'a [f64], f64),
}

impl<'a> ChunkSum<'a> {
    /// This rank's part alone, weighted by `own`.
    fn new(leaves: &'a [&'a [f64]], lengths: &'a [usize], range: Range<usize>, own: f64) -> Self {
        let arrived = (&[][..], 0.0);
        ChunkSum {
            leaves,
            lengths,
            range,
            own,
            arrived,
        }
    }

    /// The same plus what `arrived`, weighted by `weight`.
    fn with(self, arrived: &'a [f64], weight: f64) -> Self {
        ChunkSum {
            arrived: (arrived, weight),
            ..self
        }
    }

    /// Writes the elements `within` (of the chunk) of the sum into `out`, of that length.
    pub(super) fn write(&self, within: Range<usize>, out: &mut [f64]) {
        let (arrived, weight) = self.arrived;
        let start = self.range.start;
        let range = start + within.start..start + within.end;
        for (leaf, part, at) in overlaps(self.lengths, range) {
            let g = &self.leaves[leaf][part];
            let x = (!arrived.is_empty())
                .then(|| &arrived[within.start + at.start..within.start + at.end]);
            weigh(&mut out[at], (self.own, g), x.map(|x| (weight, x)));
        }
    }
}

/// `out ← own·g + weight·x` (without the second term when `arrived` is `None`), a weight of
/// 0 giving zeros whatever it weighs; vectorised for the processor at hand.
fn weigh(out: &mut [f64], (own, g): (f64, &[f64]), arrived: Option<(f64, &[f64])>) {
    #[inline(always)]
    fn weighed(w: f64, x: f64) -> f64 {
        if w == 0.0 {
            0.0
        } else {
            w * x
        }
    }
    crate::simd::dispatch(
        #[inline(always)]
        || match arrived {
            None => out
                .iter_mut()
                .zip(g)
                .for_each(|(o, &g)| *o = weighed(own, g)),
            Some((weight, x)) => {
                for ((o, &g), &x) in out.iter_mut().zip(g).zip(x) {
                    *o = weighed(own, g) + weighed(weight, x);
                }
            }
        },
    )
}

/// `buf` cut into consecutive parts at the `ranges` (which follow one another from 0).
fn split_mut(mut buf: &mut [f64], ranges: impl Iterator<Item = Range<usize>>) -> Vec<&mut [f64]> {
    ranges
        .map(|range| {
            let (part, rest) = std::mem::take(&mut buf).split_at_mut(range.len());
            buf = rest;
            part
        })
        .collect()
}

/// For each leaf (of `lengths`, one after the other) that meets `range`: the leaf, the
/// part of it inside `range`, and where that part lies in `range`.
pub(super) fn overlaps(
    lengths: &[usize],
    range: Range<usize>,
) -> impl Iterator<Item = (usize, Range<usize>, Range<usize>)> + '_ {
    let starts = lengths.iter().scan(0, |start, len| {
        let this = *start;
        *start += len;
        Some(this)
    });
    starts
        .zip(lengths)
        .enumerate()
        .filter_map(move |(leaf, (start, len))| {
            let (from, to) = (range.start.max(start), range.end.min(start + len));
            (from < to).then(|| {
                (
                    leaf,
                    from - start..to - start,
                    from - range.start..to - range.start,
                )
            })
        })
}

/// The ring's second half on a buffer held as `leaves`, one after the other (the model's
/// matrices, say): every rank's own chunk ([`weighted_reduce_scatter`]'s range), as its owner left
/// it, sent from the leaves and received into them, a message per part of a chunk within
/// one leaf (no copy into and out of one buffer).
pub(super) fn all_gather(
    world: &SimpleCommunicator,
    leaves: &mut [&mut [f64]],
    timeout: Duration,
    stalled: &dyn Fn(Stalled) -> Infallible,
) {
    let (n, r) = (world.size() as usize, world.rank() as usize);
    let (next, prev) = ((r + 1) % n, (r + n - 1) % n);
    let mut parts = cut(leaves, n);
    // Step n + s sends chunk r + 1 − s and receives chunk r − s (see `ring_steps`).
    for s in 0..n.saturating_sub(1) {
        let (send, recv) = ((r + 1 + n - s) % n, (r + n - s) % n);
        let (mut sends, mut recvs) = (Vec::new(), Vec::new());
        for (chunk, part) in parts.iter_mut() {
            if *chunk == send {
                sends.push(&**part);
            } else if *chunk == recv {
                recvs.push(&mut **part);
            }
        }
        let on_timeout = timed_out(stalled, (prev, next), n + s);
        exchange(world, &sends, next, &mut recvs, prev, timeout, &on_timeout);
    }
}

/// `leaves` cut at the borders of the `n` chunks of all their elements: each part with the
/// chunk it lies in, in order, empty parts left out.
fn cut<'a>(leaves: &'a mut [&mut [f64]], n: usize) -> Vec<(usize, &'a mut [f64])> {
    let len = leaves.iter().map(|leaf| leaf.len()).sum();
    let mut parts = Vec::new();
    let (mut at, mut chunk) = (0, 0);
    for leaf in leaves.iter_mut() {
        let mut rest: &'a mut [f64] = leaf;
        while !rest.is_empty() {
            while shard_range(len, n, chunk).end <= at {
                chunk += 1;
            }
            let take = (shard_range(len, n, chunk).end - at).min(rest.len());
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(take);
            parts.push((chunk, part));
            rest = tail;
            at += take;
        }
    }
    parts
}

/// The chunk of a buffer of `len` that rank `r` of `n` finishes in the reduce-scatter.
fn owned_chunk(n: usize, r: usize, len: usize) -> Range<usize> {
    shard_range(len, n, (r + 1) % n)
}

/// The reduce-scatter's exchanges `steps`, of `1..=N − 1`.
fn ring_steps(
    world: &SimpleCommunicator,
    buf: &mut [f64],
    scratch: &mut Vec<f64>,
    steps: RangeInclusive<usize>,
    timeout: Duration,
    stalled: &dyn Fn(Stalled) -> Infallible,
) {
    if steps.is_empty() {
        return;
    }
    let (n, r) = (world.size() as usize, world.rank() as usize);
    let (next, prev) = ((r + 1) % n, (r + n - 1) % n);
    let len = buf.len();
    let chunk = |c: usize| shard_range(len, n, c);
    if scratch.len() < chunk(0).len() {
        scratch.resize(chunk(0).len(), 0.0);
    }
    // With s counted from 0: step s + 1 sends chunk r − s and adds the chunk r − s − 1 that
    // arrives; then rank r owns the finished chunk r + 1, which the all-gather's step n + s
    // (s from 0 again) passes on as chunk r + 1 − s while the chunk r − s arrives.
    for step in steps {
        let s = step - 1;
        let (send, recv) = ((r + n - s) % n, (r + 2 * n - s - 1) % n);
        let range = chunk(recv);
        let arrived = &mut scratch[..range.len()];
        let on_timeout = timed_out(stalled, (prev, next), step);
        let sends = [&buf[chunk(send)]];
        exchange(
            world,
            &sends,
            next,
            &mut [&mut *arrived],
            prev,
            timeout,
            &on_timeout,
        );
        for (b, x) in buf[range].iter_mut().zip(arrived.iter()) {
            *b += *x;
        }
    }
}

/// `buf ← Σ_ranks buf` by recursive doubling (see the module's documentation), on a
/// power-of-two number of ranks.
fn recursive_doubling(
    world: &SimpleCommunicator,
    buf: &mut [f64],
    scratch: &mut Vec<f64>,
    timeout: Duration,
    stalled: &dyn Fn(Stalled) -> Infallible,
) {
    let (n, r) = (world.size() as usize, world.rank() as usize);
    if scratch.len() < buf.len() {
        scratch.resize(buf.len(), 0.0);
    }
    let arrived = &mut scratch[..buf.len()];
    for k in 0..n.trailing_zeros() as usize {
        let partner = r ^ (1 << k);
        let on_timeout = timed_out(stalled, (partner, partner), k + 1);
        let sends = [&*buf];
        exchange(
            world,
            &sends,
            partner,
            &mut [&mut *arrived],
            partner,
            timeout,
            &on_timeout,
        );
        for (b, x) in buf.iter_mut().zip(arrived.iter()) {
            *b += *x;
        }
    }
}

/// What an exchange of `step` with `from` and `to` calls when it stalls: `stalled` told
/// whether the message from `from` had arrived.
fn timed_out<'a>(
    stalled: &'a dyn Fn(Stalled) -> Infallible,
    (from, to): (usize, usize),
    step: usize,
) -> impl Fn(bool) -> Infallible + 'a {
    move |received| {
        stalled(Stalled {
            from,
            to,
            received,
            step,
        })
    }
}

/// Sends the slices `send` to rank `to` while receiving the slices `recv` from rank `from`
/// (a message each, matched in order), polling every request until done or until `timeout`
/// has passed; then calls `on_timeout(whether every receive had arrived)`, which must end
/// the job: a pending request can be neither dropped nor forgotten (rsmpi aborts the process
/// when its scope ends with one), and MPI may still write into `recv`.
fn exchange(
    world: &SimpleCommunicator,
    send: &[&[f64]],
    to: usize,
    recv: &mut [&mut [f64]],
    from: usize,
    timeout: Duration,
    on_timeout: &dyn Fn(bool) -> Infallible,
) {
    let start = Instant::now();
    mpi::request::scope(|scope| {
        let (to, from) = (
            world.process_at_rank(to as i32),
            world.process_at_rank(from as i32),
        );
        let mut sending: Vec<_> = send
            .iter()
            .map(|part| Some(to.immediate_send(scope, *part)))
            .collect();
        let mut receiving: Vec<_> = recv
            .iter_mut()
            .map(|part| Some(from.immediate_receive_into(scope, &mut **part)))
            .collect();
        loop {
            let sent = poll(&mut sending);
            let received = poll(&mut receiving);
            if sent && received {
                return;
            }
            if start.elapsed() > timeout {
                match on_timeout(received) {}
            }
            std::thread::yield_now();
        }
    })
}

/// Tests every pending request of `requests`, dropping those that completed: whether none
/// is left.
fn poll<'a, S: Scope<'a>>(requests: &mut [Option<Request<'a, [f64], S>>]) -> bool {
    for request in requests.iter_mut() {
        *request = request.take().and_then(|r| r.test().err());
    }
    requests.iter().all(Option::is_none)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_is_split_at_consecutive_ranges() {
        let mut buf = [1.0, 2.0, 3.0, 4.0, 5.0];
        let parts = split_mut(&mut buf, [0..2, 2..2, 2..5].into_iter());
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        assert_eq!(lens, vec![2, 0, 3]);
        assert_eq!(parts[2], [3.0, 4.0, 5.0]);
    }

    #[test]
    fn a_chunk_sum_weighs_both_parts_and_zero_weights_give_zeros() {
        let (a, b) = ([1.0, 2.0], [f64::NAN, 4.0]);
        let leaves = [&a[..], &b[..]];
        let arrived = [10.0, 20.0, 30.0];
        let sum = ChunkSum::new(&leaves, &[2, 2], 1..4, 2.0).with(&arrived, 0.5);
        let mut out = [0.0; 3];
        sum.write(0..3, &mut out);
        assert_eq!(out[0], 2.0 * 2.0 + 0.5 * 10.0);
        assert!(out[1].is_nan());
        assert_eq!(out[2], 2.0 * 4.0 + 0.5 * 30.0);
        // A part of the chunk, within the second leaf.
        let mut part = [0.0; 1];
        sum.write(2..3, &mut part);
        assert_eq!(part[0], out[2]);
        // A sender of weight 0 counts as zeros, and so does this rank's own part.
        let zeros = ChunkSum::new(&leaves, &[2, 2], 0..4, 0.0).with(&[1.0, 2.0, 3.0, 4.0], 3.0);
        let mut out = [f64::NAN; 4];
        zeros.write(0..4, &mut out);
        assert_eq!(out, [3.0, 6.0, 9.0, 12.0]);
        let alone = ChunkSum::new(&leaves, &[2, 2], 2..4, 1.0);
        let mut out = [0.0; 2];
        alone.write(0..2, &mut out);
        assert!(out[0].is_nan());
        assert_eq!(out[1], 4.0);
    }

    #[test]
    fn leaves_are_cut_at_the_chunks() {
        let (mut a, mut b, mut c) = ([1.0; 3], [2.0; 0], [3.0; 4]);
        let mut leaves = [&mut a[..], &mut b[..], &mut c[..]];
        let parts = cut(&mut leaves, 3);
        let shape: Vec<(usize, usize)> = parts.iter().map(|(c, p)| (*c, p.len())).collect();
        // Chunks of 7: 0..3, 3..5, 5..7.
        assert_eq!(shape, vec![(0, 3), (1, 2), (2, 2)]);
        let parts = cut(&mut leaves, 2);
        let shape: Vec<(usize, usize)> = parts.iter().map(|(c, p)| (*c, p.len())).collect();
        assert_eq!(shape, vec![(0, 3), (0, 1), (1, 3)]);
    }
}
