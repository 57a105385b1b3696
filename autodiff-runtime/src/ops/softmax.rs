//! Row-wise `softmax` and `log_softmax` of a matrix, computed stably by subtracting each
//! row's maximum: each rule's value and pullback, and the row helpers the losses share.
//!
//! Each row of the matrix is one distribution (one sample of a batch, one score per class).
//! A column vector (`DVector`) is a batch of one-element rows: use a `RowDVector` (or
//! `transpose`) for the softmax of a single vector.
// The forwards return `(value, handle)` pairs of generic nalgebra matrices, spelled out.
#![allow(clippy::type_complexity)]

use super::adjoint::Seed;
use super::reads::Output;
use crate::buffers;
use crate::real::Real;
use crate::value::{assert_same_shape, Value};
use core::marker::PhantomData;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// The columns of a column-major buffer with `rows` rows (none when there are no rows).
#[inline]
fn columns<T>(buffer: &[T], rows: usize) -> core::slice::ChunksExact<'_, T> {
    buffer.chunks_exact(rows.max(1))
}

/// The maximum of each row (`0` for rows without elements; NaN if the first element is NaN).
pub(crate) fn row_max<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> Vec<T>
where
    DefaultAllocator: Allocator<R, C>,
{
    let rows = m.nrows();
    let mut it = columns(m.as_slice(), rows);
    let mut max = buffers::scratch(rows);
    if let Some(first) = it.next() {
        max.copy_from_slice(first);
    }
    for column in it {
        for (mx, v) in max.iter_mut().zip(column) {
            if *v > *mx {
                *mx = *v;
            }
        }
    }
    max
}

/// `(e, max, sums)`: `e[i, j] = exp(m[i, j] − max[i])` with `max` the row maxima, and the row
/// sums of `e`. Every element of `e` is in `[0, 1]` and every sum in `[1, ncols]`, so nothing
/// overflows, whatever the magnitude of the scores.
pub(crate) fn exp_shifted<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (OMatrix<T, R, C>, Vec<T>, Vec<T>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let rows = m.nrows();
    let max = row_max(m);
    let mut sums = buffers::scratch(rows);
    let mut e = m.copied();
    for column in e.as_mut_slice().chunks_exact_mut(rows.max(1)) {
        for ((v, mx), s) in column.iter_mut().zip(&max).zip(sums.iter_mut()) {
            *v = (*v - *mx).exp();
            *s += *v;
        }
    }
    (e, max, sums)
}

/// Divides each row of `e` by its sum.
pub(crate) fn normalize_rows<T: Real, R: Dim, C: Dim>(e: &mut OMatrix<T, R, C>, sums: &[T])
where
    DefaultAllocator: Allocator<R, C>,
{
    let rows = e.nrows();
    for column in e.as_mut_slice().chunks_exact_mut(rows.max(1)) {
        for (v, s) in column.iter_mut().zip(sums) {
            *v /= *s;
        }
    }
}

/// `Σⱼ a[i, j]·b[i, j]` for each row `i` (with `b = None`: `Σⱼ a[i, j]`).
fn row_dots<T: Real, R: Dim, C: Dim>(a: &OMatrix<T, R, C>, b: Option<&OMatrix<T, R, C>>) -> Vec<T>
where
    DefaultAllocator: Allocator<R, C>,
{
    let rows = a.nrows();
    let mut dots = buffers::scratch(rows);
    for (k, v) in a.as_slice().iter().enumerate() {
        let w = b.map_or(T::one(), |b| b.as_slice()[k]);
        dots[k % rows] += *v * w;
    }
    dots
}

/// `slot[i, j] += f(seed[i, j], read[i, j], i)`, reusing the seed's buffer when it is owned
/// and the slot is empty: `accumulate_elementwise` for pullbacks that also need the row.
#[track_caller]
pub(crate) fn accumulate_rows<T: Real, R: Dim, C: Dim>(
    op: &str,
    slot: &mut Option<OMatrix<T, R, C>>,
    seed: Seed<'_, OMatrix<T, R, C>>,
    read: &OMatrix<T, R, C>,
    f: impl Fn(T, T, usize) -> T,
) where
    DefaultAllocator: Allocator<R, C>,
{
    let rows = read.nrows();
    if let (Some(acc), Some(g)) = (slot.as_mut(), seed.get()) {
        assert_same_shape(op, g.shape(), read.shape());
        assert_same_shape(op, acc.shape(), read.shape());
        let it = acc
            .as_mut_slice()
            .iter_mut()
            .zip(g.as_slice())
            .zip(read.as_slice());
        for (k, ((a, g), r)) in it.enumerate() {
            *a += f(*g, *r, k % rows);
        }
        return seed.done();
    }
    let Some(mut fresh) = seed.into_owned() else {
        return;
    };
    assert_same_shape(op, fresh.shape(), read.shape());
    for (k, (g, r)) in fresh
        .as_mut_slice()
        .iter_mut()
        .zip(read.as_slice())
        .enumerate()
    {
        *g = f(*g, *r, k % rows);
    }
    *slot = Some(fresh);
}

// ----------------------------------------------------------------------------- softmax

/// The pullback handle of `softmax(m)`.
pub struct Softmax<M>(PhantomData<fn(&M)>);
/// The pullback handle of `log_softmax(m)`.
pub struct LogSoftmax<M>(PhantomData<fn(&M)>);

/// `y[i, j] = exp(m[i, j]) / Σₖ exp(m[i, k])`: the softmax of each row, evaluated as
/// `exp(m[i, j] − maxₖ m[i, k]) / Σₖ exp(m[i, k] − maxₖ m[i, k])` so that it is finite for
/// any finite scores. Derivative (per row): `d_m = y ⊙ (d_y − ⟨d_y, y⟩)`.
#[inline]
pub fn softmax<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (OMatrix<T, R, C>, Softmax<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let (mut e, max, sums) = exp_shifted(m);
    normalize_rows(&mut e, &sums);
    buffers::give_scratch(max);
    buffers::give_scratch(sums);
    (e, Softmax(PhantomData))
}

/// `y[i, j] = m[i, j] − ln Σₖ exp(m[i, k])`: the log of the softmax of each row, evaluated as
/// `(m[i, j] − maxᵢ) − ln Σₖ exp(m[i, k] − maxᵢ)`, finite for any finite scores.
/// Derivative (per row): `d_m = d_y − exp(y)·Σₖ d_y[i, k]`.
#[inline]
pub fn log_softmax<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (OMatrix<T, R, C>, LogSoftmax<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let (mut y, max, mut sums) = exp_shifted(m);
    sums.iter_mut().for_each(|s| *s = s.ln());
    let rows = m.nrows();
    for (k, (v, x)) in y.as_mut_slice().iter_mut().zip(m.as_slice()).enumerate() {
        *v = (*x - max[k % rows]) - sums[k % rows];
    }
    buffers::give_scratch(max);
    buffers::give_scratch(sums);
    (y, LogSoftmax(PhantomData))
}

impl<T: Real, R: Dim, C: Dim> Softmax<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// Pullback of `softmax(m)` to `m`; reads the output `y`.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
        Output(y): Output<&OMatrix<T, R, C>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        assert_same_shape("softmax", g.shape(), y.shape());
        let dots = row_dots(g, Some(y));
        accumulate_rows("softmax", d_m, seed, y, |g, y, i| y * (g - dots[i]));
        buffers::give_scratch(dots);
    }
}

impl<T: Real, R: Dim, C: Dim> LogSoftmax<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// Pullback of `log_softmax(m)` to `m`; reads the output `y`.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
        Output(y): Output<&OMatrix<T, R, C>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        assert_same_shape("log_softmax", g.shape(), y.shape());
        let sums = row_dots(g, None);
        accumulate_rows("log_softmax", d_m, seed, y, |g, y, i| g - y.exp() * sums[i]);
        buffers::give_scratch(sums);
    }
}
