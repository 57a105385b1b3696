//! Matrix operations that keep a matrix a matrix: `transpose`, `add_scalar`, `scale` and
//! `add_bias` (a row or column vector broadcast over a batch). Each rule's value and its
//! pullbacks.
// The forwards return `(value, handle)` pairs of generic nalgebra matrices, spelled out.
#![allow(clippy::type_complexity)]

use super::adjoint::{accumulate, accumulate_seed, Seed};
use super::arith::scaled_into;
use super::reads::Operand;
use crate::buffers::{self, Fill};
use crate::real::Real;
use crate::value::{assert_same_shape, Input, Value};
use core::marker::PhantomData;
use nalgebra::{
    allocator::Allocator, DMatrix, DVector, DefaultAllocator, Dim, OMatrix, RowDVector,
};

// --------------------------------------------------------------------------- transpose

/// The pullback handle of `m.transpose()`.
pub struct Transpose<M>(PhantomData<fn(&M)>);

/// `mᵀ`. Its pullback transposes the seed back: `d_m += d_yᵀ`.
#[inline]
pub fn transpose<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
) -> (OMatrix<T, C, R>, Transpose<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C> + Allocator<C, R>,
{
    let (r, c) = m.shape_generic();
    let mut t = buffers::matrix(c, r, Fill::Overwritten);
    m.transpose_to(&mut t);
    (t, Transpose(PhantomData))
}

impl<T: Real, R: Dim, C: Dim> Transpose<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C> + Allocator<C, R>,
{
    /// Pullback of `m.transpose()` to `m`: the transposed seed.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, C, R>>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else { return };
        match d_m {
            Some(acc) => {
                assert_same_shape("transpose", acc.shape(), (g.ncols(), g.nrows()));
                for (j, mut column) in acc.column_iter_mut().enumerate() {
                    for (a, g) in column.iter_mut().zip(g.row(j).iter()) {
                        *a += *g;
                    }
                }
            }
            None => {
                let (r, c) = g.shape_generic();
                let mut t = buffers::matrix(c, r, Fill::Overwritten);
                g.transpose_to(&mut t);
                *d_m = Some(t);
            }
        }
        seed.done();
    }
}

// ------------------------------------------------------------------- add_scalar, scale

/// The pullback handle of `m.add_scalar(s)`.
pub struct AddScalar<M>(PhantomData<fn(&M)>);
/// The pullback handle of `m.scale(s)`.
pub struct Scale<M>(PhantomData<fn(&M)>);

/// `y = m + s`, the scalar added to every element. Derivatives `∂y/∂m = 1` elementwise,
/// `∂y/∂s = 1` for every element (the seed's sum).
#[inline]
pub fn add_scalar<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
    s: &T,
) -> (OMatrix<T, R, C>, AddScalar<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    (m.mapped(|v| v + *s), AddScalar(PhantomData))
}

/// `y = s·m`, every element scaled. Derivatives `∂y/∂m = s`, `∂y/∂s = m` (the seed's inner
/// product with `m`).
#[inline]
pub fn scale<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
    s: &T,
) -> (OMatrix<T, R, C>, Scale<OMatrix<T, R, C>>)
where
    DefaultAllocator: Allocator<R, C>,
{
    (m.mapped(|v| v * *s), Scale(PhantomData))
}

impl<T: Real, R: Dim, C: Dim> AddScalar<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// Pullback of `m.add_scalar(s)` to `m`: the seed itself.
    #[inline]
    #[track_caller]
    pub fn lhs<'s>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
    ) where
        T: 's,
    {
        accumulate_seed(d_m, seed.into());
    }
    /// Pullback of `m.add_scalar(s)` to `s`: the sum of the seed.
    #[inline]
    pub fn rhs<'s>(&self, d_s: &mut Option<T>, seed: impl Into<Seed<'s, OMatrix<T, R, C>>>)
    where
        T: 's + Value<Elem = T>,
    {
        let seed = seed.into();
        if let Some(g) = seed.get() {
            accumulate(d_s, g.sum());
        }
        seed.done();
    }
}

impl<T: Real, R: Dim, C: Dim> Scale<OMatrix<T, R, C>>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// Pullback of `m.scale(s)` to `m`; reads `s`.
    #[inline]
    #[track_caller]
    pub fn lhs<'s>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
        Operand(s): Operand<1, &T>,
    ) where
        T: 's,
    {
        scaled_into(d_m, seed.into(), *s);
    }
    /// Pullback of `m.scale(s)` to `s`; reads `m`.
    #[inline]
    #[track_caller]
    pub fn rhs<'s>(
        &self,
        d_s: &mut Option<T>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
        Operand(m): Operand<0, &OMatrix<T, R, C>>,
    ) where
        T: 's + Value<Elem = T>,
    {
        let seed = seed.into();
        if let Some(g) = seed.get() {
            assert_same_shape("scale", g.shape(), m.shape());
            accumulate(d_s, g.dot(m));
        }
        seed.done();
    }
}

// ---------------------------------------------------------------------------- add_bias

/// `add_bias(m, b)`: a batch `DMatrix` plus a bias vector broadcast over it.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `add_bias({Self}, {B})`",
    label = "no rule for these operand types",
    note = "`add_bias(m, b)` takes a `DMatrix<T>` and either a `RowDVector<T>` with one element \
            per column (added to every row) or a `DVector<T>` with one element per row (added \
            to every column), of the same scalar type"
)]
pub trait AddBiasRule<B>: Value {
    /// `m + b`, with `b` broadcast. Panics with both shapes when `b` does not fit.
    fn add_bias(m: Self, b: &B) -> Self;
    /// `d_b += ` the seed summed over the broadcast direction.
    fn pullback_bias(d_b: &mut Option<B>, seed: Seed<'_, Self>);
}

/// A row bias: `y[i, j] = m[i, j] + b[j]`; `d_b[j] += Σᵢ d_y[i, j]`.
impl<T: Real> AddBiasRule<RowDVector<T>> for DMatrix<T> {
    #[inline]
    #[track_caller]
    fn add_bias(m: Self, b: &RowDVector<T>) -> Self {
        if b.len() != m.ncols() {
            panic!(
                "add_bias: shapes {:?} and {:?} do not fit: a row bias needs one element per column",
                m.shape(),
                b.shape()
            );
        }
        let mut y = m;
        // Contiguous columns, so that the loop vectorises (nalgebra's column iterators are
        // strided and do not).
        let rows = y.nrows().max(1);
        let (columns, b) = (y.as_mut_slice(), b.as_slice());
        crate::simd::dispatch(
            #[inline(always)]
            || {
                for (column, b) in columns.chunks_exact_mut(rows).zip(b) {
                    column.iter_mut().for_each(|v| *v += *b);
                }
            },
        );
        y
    }
    #[inline]
    #[track_caller]
    fn pullback_bias(d_b: &mut Option<RowDVector<T>>, seed: Seed<'_, Self>) {
        if let Some(g) = seed.get() {
            // Column sums over contiguous columns, added in place.
            let rows = g.nrows().max(1);
            let sums = g.as_slice().chunks_exact(rows).map(crate::linalg::sum);
            let d_b = d_b.get_or_insert_with(|| {
                buffers::matrix(nalgebra::U1, nalgebra::Dyn(g.ncols()), Fill::Zeros)
            });
            assert_same_shape("add_bias", d_b.len(), g.ncols());
            let d_b = d_b.as_mut_slice();
            crate::simd::dispatch(
                #[inline(always)]
                || {
                    for (d, s) in d_b.iter_mut().zip(sums) {
                        *d += s;
                    }
                },
            );
        }
        seed.done();
    }
}

/// A column bias: `y[i, j] = m[i, j] + b[i]`; `d_b[i] += Σⱼ d_y[i, j]`.
impl<T: Real> AddBiasRule<DVector<T>> for DMatrix<T> {
    #[inline]
    #[track_caller]
    fn add_bias(m: Self, b: &DVector<T>) -> Self {
        if b.len() != m.nrows() {
            panic!(
                "add_bias: shapes {:?} and {:?} do not fit: a column bias needs one element per row",
                m.shape(),
                b.shape()
            );
        }
        let mut y = m;
        let rows = y.nrows().max(1);
        let (columns, b) = (y.as_mut_slice(), b.as_slice());
        crate::simd::dispatch(
            #[inline(always)]
            || {
                for column in columns.chunks_exact_mut(rows) {
                    column.iter_mut().zip(b).for_each(|(v, b)| *v += *b);
                }
            },
        );
        y
    }
    #[inline]
    #[track_caller]
    fn pullback_bias(d_b: &mut Option<DVector<T>>, seed: Seed<'_, Self>) {
        if let Some(g) = seed.get() {
            let d_b = d_b.get_or_insert_with(|| {
                buffers::matrix(nalgebra::Dyn(g.nrows()), nalgebra::U1, Fill::Zeros)
            });
            assert_same_shape("add_bias", d_b.len(), g.nrows());
            let rows = g.nrows().max(1);
            let (d_b, columns) = (d_b.as_mut_slice(), g.as_slice());
            crate::simd::dispatch(
                #[inline(always)]
                || {
                    for column in columns.chunks_exact(rows) {
                        d_b.iter_mut().zip(column).for_each(|(d, g)| *d += *g);
                    }
                },
            );
        }
        seed.done();
    }
}

/// The pullback handle of `add_bias(m, b)`.
pub struct AddBias<M, B>(PhantomData<fn(&M, &B)>);

/// `y = m + b` with the bias vector `b` broadcast over the batch `m`: a `RowDVector` (one
/// element per column) is added to every row, a `DVector` (one element per row) to every
/// column. Derivatives: `∂y/∂m = 1` elementwise; `d_b` is the seed summed over the rows (row
/// bias) or over the columns (column bias). Panics with both shapes when `b` does not fit.
#[inline]
#[track_caller]
pub fn add_bias<M: AddBiasRule<B>, B>(m: impl Input<M>, b: &B) -> (M, AddBias<M, B>) {
    (M::add_bias(m.into_buffer(), b), AddBias(PhantomData))
}

impl<M: AddBiasRule<B>, B> AddBias<M, B> {
    /// Pullback of `add_bias(m, b)` to `m`: the seed itself.
    #[inline]
    #[track_caller]
    pub fn lhs<'s>(&self, d_m: &mut Option<M>, seed: impl Into<Seed<'s, M>>)
    where
        M: 's,
    {
        accumulate_seed(d_m, seed.into());
    }
    /// Pullback of `add_bias(m, b)` to `b`: the seed summed over the broadcast direction.
    #[inline]
    #[track_caller]
    pub fn rhs<'s>(&self, d_b: &mut Option<B>, seed: impl Into<Seed<'s, M>>)
    where
        M: 's,
    {
        M::pullback_bias(d_b, seed.into());
    }
}
