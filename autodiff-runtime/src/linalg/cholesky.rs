//! nalgebra's Cholesky factorization `A = L·Lᵀ` computed by blocks of columns, the rows of
//! each block split between threads, with the same operations on every element in the same
//! order: the factor is nalgebra's, bit for bit, on any number of threads.
//!
//! nalgebra's `Cholesky::new` is left-looking and unblocked: element `(i, j)`, `i ≥ j`, starts
//! as `a_ij`, takes `y ← (−l_jk)·l_ik + y` for `k = 0, 1, …, j − 1` in that order (two
//! roundings each, no fused multiply-add), and ends as `y / l_jj`, or `√y` on the diagonal
//! (`None` when `y` is zero or has no real square root). One column at a time, it reads every
//! column to its left once per column: memory-bound, on one thread. Here, for each block of
//! columns `J = j0..j1`:
//!
//! 1. every element of the block's rows `j0..n` takes its updates from the columns `k < j0`,
//!    register-tiled (each `l_ik` loaded once for four columns); rows are independent, so
//!    they are split between threads;
//! 2. the diagonal block `J×J` is finished on the calling thread, in nalgebra's order;
//! 3. each row below the block takes its updates from `k ∈ J` and its division, column after
//!    column: the rows are independent again, and split between threads.
//!
//! The strictly upper triangle of the diagonal blocks gets step 1's updates too (a rectangle is
//! simpler to tile); nalgebra leaves `A`'s values there. Neither is read: `Cholesky::unpack`
//! zeroes it, and nalgebra's solves read the lower triangle only.

use super::split::each_part;
use super::{max_threads, threads_for_shards};
use crate::real::Real;
use crate::simd;
use std::time::Duration;

/// Columns per block.
const BLOCK: usize = 48;

/// The smallest `n` whose factorization uses the threads: below it the whole factorization
/// takes less than waking a thread does.
const THREADED_FROM: usize = 192;

/// Rows and columns of the register tile of step 1.
const TILE_ROWS: usize = 8;
const TILE_COLS: usize = 4;

/// Factorizes the column-major `n × n` matrix `a` in place, as nalgebra's `Cholesky::new`
/// does (the lower triangle of `a` becomes `L`'s, bit for bit). Returns `false`, as
/// nalgebra returns `None`, when `a` is not positive definite; `a` then holds partial results.
pub(crate) fn factorize_in_place<T: Real>(a: &mut [T], n: usize) -> bool {
    assert_eq!(a.len(), n * n, "A is n × n");
    let threads = if n >= THREADED_FROM {
        threads_for_shards(max_threads())
    } else {
        1
    };
    let mut j0 = 0;
    while j0 < n {
        let j1 = (j0 + BLOCK).min(n);
        if j0 > 0 {
            update_from_left(a, n, j0, j1, threads);
        }
        if !diagonal_block(a, n, j0, j1) {
            return false;
        }
        if j1 < n {
            rows_below(a, n, j0, j1, threads);
        }
        j0 = j1;
    }
    true
}

/// Row boundaries splitting `from..n` between `threads`, on multiples of [`TILE_ROWS`].
fn row_split(from: usize, n: usize, threads: usize) -> Vec<usize> {
    let rows = n - from;
    (0..=threads)
        .map(|t| (from + (rows * t / threads).div_ceil(TILE_ROWS) * TILE_ROWS).min(n))
        .collect()
}

/// The columns `j0..j1` of `a` cut at the rows `bounds` (from `bounds[0]` on): for each
/// thread, its rows of each column; and the columns to the left of `j0`, read-only.
#[allow(clippy::type_complexity)]
fn pieces<'a, T>(
    a: &'a mut [T],
    n: usize,
    (j0, j1): (usize, usize),
    bounds: &[usize],
) -> (&'a [T], Vec<Vec<&'a mut [T]>>) {
    let (left, block) = a.split_at_mut(j0 * n);
    let threads = bounds.len() - 1;
    let mut parts: Vec<Vec<&mut [T]>> = (0..threads).map(|_| Vec::new()).collect();
    for column in block[..(j1 - j0) * n].chunks_exact_mut(n) {
        let mut rest = &mut column[bounds[0]..];
        for (t, part) in parts.iter_mut().enumerate() {
            let (mine, others) = rest.split_at_mut(bounds[t + 1] - bounds[t]);
            part.push(mine);
            rest = others;
        }
    }
    (left, parts)
}

/// Step 1: the rows `j0..n` of the columns `j0..j1` take `y ← (−l_jk)·l_ik + y` for every
/// `k < j0`, in order.
fn update_from_left<T: Real>(a: &mut [T], n: usize, j0: usize, j1: usize, threads: usize) {
    let bounds = row_split(j0, n, threads);
    let (left, mut parts) = pieces(a, n, (j0, j1), &bounds);
    let work = (n - j0) * (j1 - j0) * j0;
    each_part(&mut parts, expected(work), |t, part| {
        simd::dispatch(
            #[inline(always)]
            || update_part(part, left, n, j0, bounds[t]),
        );
    });
}

/// About how long `work` multiply-adds take on one thread, for [`each_part`]: a quarter of a
/// nanosecond each is about the tiles' speed.
fn expected(work: usize) -> Duration {
    Duration::from_nanos(u64::try_from(work / 4).unwrap_or(u64::MAX))
}

/// Step 1 on one thread's rows `r0..` of the columns `j0..`: tiles of [`TILE_ROWS`] ×
/// [`TILE_COLS`], the rest element by element (the same operations either way).
#[inline(always)]
fn update_part<T: Real>(part: &mut [&mut [T]], left: &[T], n: usize, j0: usize, r0: usize) {
    let rows = part.first().map_or(0, |c| c.len());
    let whole_rows = rows / TILE_ROWS * TILE_ROWS;
    let mut c = 0;
    while c + TILE_COLS <= part.len() {
        for i in (0..whole_rows).step_by(TILE_ROWS) {
            tile(&mut part[c..c + TILE_COLS], left, n, j0, j0 + c, r0, i);
        }
        for (k, column) in part[c..c + TILE_COLS].iter_mut().enumerate() {
            for (i, y) in column.iter_mut().enumerate().skip(whole_rows) {
                *y = dot_update(*y, left, n, j0 + c + k, r0 + i, 0..j0);
            }
        }
        c += TILE_COLS;
    }
    for (k, column) in part.iter_mut().enumerate().skip(c) {
        for (i, y) in column.iter_mut().enumerate() {
            *y = dot_update(*y, left, n, j0 + k, r0 + i, 0..j0);
        }
    }
}

/// One tile of step 1: rows `r0 + i ..` (of [`TILE_ROWS`]) of the columns `j..` (of
/// [`TILE_COLS`]), held in registers over every `k < k_end`.
#[inline(always)]
fn tile<T: Real>(
    columns: &mut [&mut [T]],
    left: &[T],
    n: usize,
    k_end: usize,
    j: usize,
    r0: usize,
    i: usize,
) {
    let mut acc = [[T::zero(); TILE_ROWS]; TILE_COLS];
    for (acc, column) in acc.iter_mut().zip(columns.iter()) {
        acc.copy_from_slice(&column[i..i + TILE_ROWS]);
    }
    for k in 0..k_end {
        let column_k = &left[k * n..(k + 1) * n];
        let x: &[T; TILE_ROWS] = column_k[r0 + i..r0 + i + TILE_ROWS]
            .try_into()
            .expect("a tile's rows");
        let factors: &[T; TILE_COLS] = column_k[j..j + TILE_COLS]
            .try_into()
            .expect("a tile's columns");
        for (acc, &l_jk) in acc.iter_mut().zip(factors) {
            let factor = -l_jk;
            for (y, &l_ik) in acc.iter_mut().zip(x) {
                *y = factor * l_ik + *y;
            }
        }
    }
    for (acc, column) in acc.iter().zip(columns.iter_mut()) {
        column[i..i + TILE_ROWS].copy_from_slice(acc);
    }
}

/// `y` after `y ← (−l_jk)·l_ik + y` for each `k` of `ks` in order, `l` read from the
/// column-major `left` (`n` rows).
#[inline(always)]
fn dot_update<T: Real>(
    mut y: T,
    left: &[T],
    n: usize,
    j: usize,
    i: usize,
    ks: core::ops::Range<usize>,
) -> T {
    for k in ks {
        y = -left[k * n + j] * left[k * n + i] + y;
    }
    y
}

/// Step 2: the diagonal block `j0..j1`, in nalgebra's order: for each column, its updates
/// from the block's columns to its left, then its square root and division. `false` when a
/// diagonal element is zero or negative (or NaN).
fn diagonal_block<T: Real>(a: &mut [T], n: usize, j0: usize, j1: usize) -> bool {
    for j in j0..j1 {
        for k in j0..j {
            let factor = -a[k * n + j];
            let (head, column_j) = a.split_at_mut(j * n);
            let column_k = &head[k * n..(k + 1) * n];
            for i in j..j1 {
                column_j[i] = factor * column_k[i] + column_j[i];
            }
        }
        let diagonal = a[j * n + j];
        let Some(root) = (diagonal != T::zero())
            .then(|| nalgebra::ComplexField::try_sqrt(diagonal))
            .flatten()
        else {
            return false;
        };
        a[j * n + j] = root;
        for v in &mut a[j * n + j + 1..j * n + j1] {
            *v /= root;
        }
    }
    true
}

/// Step 3: each row `i ≥ j1` of the columns `j0..j1`, column after column: the updates from
/// the block's columns to the left, `y ← (−l_jk)·l_ik + y` for `k = j0..j`, then `y / l_jj`.
fn rows_below<T: Real>(a: &mut [T], n: usize, j0: usize, j1: usize, threads: usize) {
    let bounds = row_split(j1, n, threads);
    // The diagonal block (rows j0..j1 of the columns j0..j1), read-only now, and the rows
    // below it, split between threads.
    let mut diagonal = Vec::with_capacity((j1 - j0) * (j1 - j0));
    for column in a[j0 * n..j1 * n].chunks_exact(n) {
        diagonal.extend_from_slice(&column[j0..j1]);
    }
    let width = j1 - j0;
    let (_, mut parts) = pieces(a, n, (j0, j1), &bounds);
    let diagonal = &diagonal;
    let work = (n - j1) * width * width / 2;
    each_part(&mut parts, expected(work), |_, part| {
        simd::dispatch(
            #[inline(always)]
            || below_part(part, diagonal, width),
        );
    });
}

/// Step 3 on one thread's rows: `part[c]` is column `j0 + c`, `diagonal` the `width × width`
/// diagonal block (column-major).
#[inline(always)]
fn below_part<T: Real>(part: &mut [&mut [T]], diagonal: &[T], width: usize) {
    for c in 0..part.len() {
        let (done, rest) = part.split_at_mut(c);
        let column = &mut *rest[0];
        for (k, column_k) in done.iter().enumerate() {
            let factor = -diagonal[k * width + c];
            for (y, &l_ik) in column.iter_mut().zip(column_k.iter()) {
                *y = factor * l_ik + *y;
            }
        }
        let root = diagonal[c * width + c];
        for y in column.iter_mut() {
            *y /= root;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    /// A random symmetric positive-definite matrix, `M·Mᵀ/n + I`.
    fn spd(n: usize, seed: u64) -> DMatrix<f64> {
        let mut s = seed;
        let m = DMatrix::from_fn(n, n, |_, _| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        });
        &m * m.transpose() / n as f64 + DMatrix::identity(n, n)
    }

    /// nalgebra's factor bit for bit, in f64 and f32, for sizes below, at and across the
    /// block and tile sizes and the threaded ones (split between the threads or not,
    /// whichever the machine gives).
    #[test]
    fn matches_nalgebra_bit_for_bit() {
        for n in [0, 1, 2, 7, 8, 9, 47, 48, 49, 100, 191, 192, 200, 301] {
            let a = spd(n, n as u64 + 1);
            let want = a.clone().cholesky().expect("positive definite").unpack();
            let mut got = a.clone();
            // Awake, the threads take the rows of the larger sizes.
            crate::linalg::wake_threads();
            assert!(factorize_in_place(got.as_mut_slice(), n), "n {n}");
            got.fill_upper_triangle(0.0, 1);
            assert!(
                got.iter()
                    .zip(want.iter())
                    .all(|(g, w)| g.to_bits() == w.to_bits()),
                "f64, n {n}"
            );
            let a32 = a.map(|v| v as f32);
            let want = a32.clone().cholesky().expect("positive definite").unpack();
            let mut got = a32.clone();
            assert!(factorize_in_place(got.as_mut_slice(), n), "n {n}");
            got.fill_upper_triangle(0.0, 1);
            assert!(
                got.iter()
                    .zip(want.iter())
                    .all(|(g, w)| g.to_bits() == w.to_bits()),
                "f32, n {n}"
            );
        }
    }

    /// Not positive definite: `false` where nalgebra gives `None`, in the first block and in
    /// a later one, and for a zero pivot.
    #[test]
    fn rejects_what_nalgebra_rejects() {
        for (n, at) in [(5, 2), (200, 3), (200, 150), (300, 299)] {
            let mut a = spd(n, 7);
            a[(at, at)] = -1.0;
            assert!(a.clone().cholesky().is_none());
            assert!(!factorize_in_place(a.as_mut_slice(), n), "n {n}, at {at}");
        }
        let mut zero = DMatrix::<f64>::zeros(3, 3);
        assert!(!factorize_in_place(zero.as_mut_slice(), 3));
    }
}
