//! Reductions of a matrix along one direction, as nalgebra's statistics define them:
//! `m.row_sum()` and `m.row_mean()` (one entry per column: the rows summed or averaged, a
//! row vector) and `m.column_sum()`, `m.column_mean()` (one entry per row: the columns summed
//! or averaged, a column vector). Each rule's value, computed as nalgebra computes it (same
//! operations in the same order, so the same bits) in a buffer from the pool, and its
//! pullback, which spreads the seed back along the reduced direction.
// The forwards return `(value, handle)` pairs of generic nalgebra matrices, spelled out.
#![allow(clippy::type_complexity)]

use super::adjoint::{slot_or_zeros, Seed};
use crate::buffers::{self, Fill};
use crate::real::Real;
use crate::value::assert_same_shape;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix, U1};

/// The pullback handle of `m.row_sum()` and `m.row_mean()`: the shape of `m` and the factor
/// each seed entry is multiplied by (`1` for a sum, `1/r` for a mean over `r` rows).
pub struct AlongRows<T, R: Dim, C: Dim> {
    shape: (R, C),
    factor: T,
}

/// The pullback handle of `m.column_sum()` and `m.column_mean()`: the shape of `m` and the
/// factor each seed entry is multiplied by (`1` for a sum, `1/c` for a mean over `c`
/// columns).
pub struct AlongColumns<T, R: Dim, C: Dim> {
    shape: (R, C),
    factor: T,
}

/// `n` in the scalar type, converted as nalgebra's means convert it (through `f64`).
#[inline]
fn count<T: Real>(n: usize) -> T {
    nalgebra::convert::<f64, T>(n as f64)
}

/// `yⱼ = Σᵢ mᵢⱼ`: one entry per column, the sum of the rows (nalgebra's `row_sum`, a row
/// vector). Derivative `∂yⱼ/∂mᵢⱼ = 1`: `d_m[i, j] += g[j]`.
#[inline]
pub fn row_sum<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (OMatrix<T, U1, C>, AlongRows<T, R, C>)
where
    DefaultAllocator: Allocator<R, C> + Allocator<U1, C>,
{
    let mut y = buffers::matrix(U1, m.shape_generic().1, Fill::Overwritten);
    for (j, column) in m.column_iter().enumerate() {
        y[j] = column.iter().fold(T::zero(), |a, &b| a + b);
    }
    (
        y,
        AlongRows {
            shape: m.shape_generic(),
            factor: T::one(),
        },
    )
}

/// `yⱼ = (Σᵢ mᵢⱼ) / r` over the `r` rows: one entry per column, the mean of the rows
/// (nalgebra's `row_mean`, a row vector; `0` when there are no rows). Derivative
/// `∂yⱼ/∂mᵢⱼ = 1/r`: `d_m[i, j] += g[j] / r`.
#[inline]
pub fn row_mean<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (OMatrix<T, U1, C>, AlongRows<T, R, C>)
where
    DefaultAllocator: Allocator<R, C> + Allocator<U1, C>,
{
    let rows = m.nrows();
    let mut y = buffers::matrix(U1, m.shape_generic().1, Fill::Overwritten);
    for (j, column) in m.column_iter().enumerate() {
        y[j] = if rows == 0 {
            T::zero()
        } else {
            column.iter().fold(T::zero(), |a, &b| a + b) / count::<T>(rows)
        };
    }
    let factor = if rows == 0 {
        T::zero()
    } else {
        T::one() / count::<T>(rows)
    };
    (
        y,
        AlongRows {
            shape: m.shape_generic(),
            factor,
        },
    )
}

/// `yᵢ = Σⱼ mᵢⱼ`: one entry per row, the sum of the columns (nalgebra's `column_sum`, a
/// column vector). Derivative `∂yᵢ/∂mᵢⱼ = 1`: `d_m[i, j] += g[i]`.
#[inline]
pub fn column_sum<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (OMatrix<T, R, U1>, AlongColumns<T, R, C>)
where
    DefaultAllocator: Allocator<R, C> + Allocator<R, U1>,
{
    let mut y = buffers::matrix(m.shape_generic().0, U1, Fill::Zeros);
    for column in m.column_iter() {
        y.zip_apply(&column, |a, b| *a += b);
    }
    (
        y,
        AlongColumns {
            shape: m.shape_generic(),
            factor: T::one(),
        },
    )
}

/// `yᵢ = Σⱼ mᵢⱼ / c` over the `c` columns: one entry per row, the mean of the columns
/// (nalgebra's `column_mean`, a column vector, computed as it does: `yᵢ += (1/c)·mᵢⱼ` column
/// after column; `0` when there are no columns). Derivative `∂yᵢ/∂mᵢⱼ = 1/c`:
/// `d_m[i, j] += g[i] / c`.
#[inline]
pub fn column_mean<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (OMatrix<T, R, U1>, AlongColumns<T, R, C>)
where
    DefaultAllocator: Allocator<R, C> + Allocator<R, U1>,
{
    let denom = T::one() / count::<T>(m.ncols());
    let mut y = buffers::matrix(m.shape_generic().0, U1, Fill::Zeros);
    for column in m.column_iter() {
        y.zip_apply(&column, |a, b| *a += denom * b);
    }
    let factor = if m.ncols() == 0 { T::zero() } else { denom };
    (
        y,
        AlongColumns {
            shape: m.shape_generic(),
            factor,
        },
    )
}

impl<T: Real, R: Dim, C: Dim> AlongRows<T, R, C>
where
    DefaultAllocator: Allocator<R, C> + Allocator<U1, C>,
{
    /// Pullback of `m.row_sum()` or `m.row_mean()` to `m`: the seed entry `g[j]`, times the
    /// factor, added to every element of column `j`. The seed is only read: an owned one goes
    /// back to the pool.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, U1, C>>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        assert_same_shape("row reduction", g.ncols(), self.shape.1.value());
        let f = self.factor;
        let acc = slot_or_zeros("row reduction", d_m, self.shape);
        for (mut column, &g) in acc.column_iter_mut().zip(g.iter()) {
            let s = g * f;
            column.apply(|a| *a += s);
        }
        seed.done();
    }
}

impl<T: Real, R: Dim, C: Dim> AlongColumns<T, R, C>
where
    DefaultAllocator: Allocator<R, C> + Allocator<R, U1>,
{
    /// Pullback of `m.column_sum()` or `m.column_mean()` to `m`: the seed entry `g[i]`, times
    /// the factor, added to every element of row `i`. The seed is only read: an owned one
    /// goes back to the pool.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, R, U1>>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        assert_same_shape("column reduction", g.nrows(), self.shape.0.value());
        let f = self.factor;
        let acc = slot_or_zeros("column reduction", d_m, self.shape);
        for mut column in acc.column_iter_mut() {
            column.zip_apply(g, |a, g| *a += g * f);
        }
        seed.done();
    }
}
