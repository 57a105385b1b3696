//! Parts of a matrix read by a differentiated function: one element (`v[i]`, `m[(i, j)]`)
//! and the views `m.row(i)`, `m.column(j)`, `m.rows(i, n)`, `m.columns(j, n)` and
//! `m.view((i, j), (r, c))`.
//!
//! Each rule's value is the part as nalgebra reads it, bit for bit: the element, or the view
//! copied into an owned matrix (in storage from the pool when it is dynamic) of the type
//! nalgebra's `.into_owned()` gives: `OMatrix<T, U1, C>` for a row of an `R × C` matrix,
//! `OMatrix<T, R, U1>` for a column, `OMatrix<T, Dyn, C>` for `rows`, `OMatrix<T, R, Dyn>`
//! for `columns` and `OMatrix<T, Dyn, Dyn>` for `view`. An index out of range panics as
//! nalgebra's does.
//!
//! The derivative of a part is the seed added into that part of the source's adjoint, in
//! place: the handle keeps where the part is and the source's shape, the pullback reads
//! nothing else, and it creates the source's adjoint as zeros only when it is still empty.
//! A loop that reads `n` elements of a vector one by one costs `O(n)` in its reverse sweep,
//! with one adjoint for the whole vector.

use super::adjoint::{scalar_seed, slot_or_zeros, Seed};
use crate::buffers::{self, Fill};
use crate::real::Real;
use core::marker::PhantomData;
use nalgebra::{
    allocator::Allocator, storage::Storage, DefaultAllocator, Dim, Dyn, Matrix, OMatrix, U1,
};

/// A part read from an `R × C` matrix: its value, a `PR × PC` matrix, and its pullback handle.
pub type PartRead<T, R, C, PR, PC> = (OMatrix<T, PR, PC>, Part<T, R, C, PR, PC>);

/// An index of one element, as nalgebra's `Index` takes it: `i` (column-major, for a
/// vector) or `(i, j)` (row, column).
pub trait ElementIndex: Copy {
    /// The element of `m` at this index (panicking as nalgebra's indexing does when it is out
    /// of range) and its column-major position.
    fn read<T: Real, R: Dim, C: Dim>(self, m: &OMatrix<T, R, C>) -> (T, usize)
    where
        DefaultAllocator: Allocator<R, C>;
}

impl ElementIndex for usize {
    #[inline]
    #[track_caller]
    fn read<T: Real, R: Dim, C: Dim>(self, m: &OMatrix<T, R, C>) -> (T, usize)
    where
        DefaultAllocator: Allocator<R, C>,
    {
        (m[self], self)
    }
}

impl ElementIndex for (usize, usize) {
    #[inline]
    #[track_caller]
    fn read<T: Real, R: Dim, C: Dim>(self, m: &OMatrix<T, R, C>) -> (T, usize)
    where
        DefaultAllocator: Allocator<R, C>,
    {
        (m[self], self.0 + self.1 * m.nrows())
    }
}

/// The pullback handle of `m[i]` and `m[(i, j)]`: the shape of `m` and the column-major
/// position of the element.
pub struct Element<T, R: Dim, C: Dim> {
    shape: (R, C),
    at: usize,
    of: PhantomData<fn() -> T>,
}

/// The pullback handle of a view of `m` (`row`, `column`, `rows`, `columns`, `view`): the
/// shape of `m` and where the part starts; the part's own shape is the seed's.
pub struct Part<T, R: Dim, C: Dim, PR: Dim, PC: Dim> {
    shape: (R, C),
    at: (usize, usize),
    op: &'static str,
    of: PhantomData<fn() -> T>,
    part: PhantomData<(PR, PC)>,
}

/// `s = m[i]` or `s = m[(i, j)]`: one element, as nalgebra's indexing reads it. Derivative
/// `∂s/∂mₖ = 1` for that element, `0` elsewhere.
#[inline]
#[track_caller]
pub fn element<T: Real, R: Dim, C: Dim, I: ElementIndex>(
    m: &OMatrix<T, R, C>,
    index: I,
) -> (T, Element<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let (value, at) = index.read(m);
    let shape = m.shape_generic();
    let of = PhantomData;
    (value, Element { shape, at, of })
}

impl<T, R: Dim, C: Dim> Element<T, R, C> {
    /// The column-major position of the element read.
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.at
    }
}

impl<T: Real, R: Dim, C: Dim> Element<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// Pullback of `m[i]` to `m`: the seed added to that element. A present seed always
    /// leaves a gradient in the slot.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(&self, d_m: &mut Option<OMatrix<T, R, C>>, seed: impl Into<Seed<'s, T>>)
    where
        T: 's,
    {
        let Some(g) = scalar_seed(seed.into()) else {
            return;
        };
        let acc = slot_or_zeros("element", d_m, self.shape);
        acc[self.at] += g;
    }
}

/// A view copied into an owned matrix of its own type, in storage from the pool.
#[inline]
fn owned<T: Real, PR: Dim, PC: Dim, S: Storage<T, PR, PC>>(
    view: &Matrix<T, PR, PC, S>,
) -> OMatrix<T, PR, PC>
where
    DefaultAllocator: Allocator<PR, PC>,
{
    let (r, c) = view.shape_generic();
    let mut out = buffers::matrix(r, c, Fill::Overwritten);
    out.copy_from(view);
    out
}

impl<T, R: Dim, C: Dim, PR: Dim, PC: Dim> Part<T, R, C, PR, PC> {
    #[inline]
    fn new(op: &'static str, shape: (R, C), at: (usize, usize)) -> Self {
        Part {
            shape,
            at,
            op,
            of: PhantomData,
            part: PhantomData,
        }
    }
}

/// `p = m.row(i)`, as an owned row (`OMatrix<T, U1, C>`). Derivative: the seed goes to row
/// `i` of `m`'s adjoint.
#[inline]
#[track_caller]
pub fn part_row<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>, i: usize) -> PartRead<T, R, C, U1, C>
where
    DefaultAllocator: Allocator<R, C> + Allocator<U1, C>,
{
    (
        owned(&m.row(i)),
        Part::new("row", m.shape_generic(), (i, 0)),
    )
}

/// `p = m.column(j)`, as an owned column (`OMatrix<T, R, U1>`). Derivative: the seed goes to
/// column `j` of `m`'s adjoint.
#[inline]
#[track_caller]
pub fn part_column<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
    j: usize,
) -> PartRead<T, R, C, R, U1>
where
    DefaultAllocator: Allocator<R, C> + Allocator<R, U1>,
{
    (
        owned(&m.column(j)),
        Part::new("column", m.shape_generic(), (0, j)),
    )
}

/// `p = m.rows(i, n)`: the `n` rows from row `i`, as an owned `OMatrix<T, Dyn, C>` (on a
/// column vector, its elements `i..i + n`). Derivative: the seed goes to those rows of `m`'s
/// adjoint.
#[inline]
#[track_caller]
pub fn part_rows<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
    i: usize,
    n: usize,
) -> PartRead<T, R, C, Dyn, C>
where
    DefaultAllocator: Allocator<R, C> + Allocator<Dyn, C>,
{
    (
        owned(&m.rows(i, n)),
        Part::new("rows", m.shape_generic(), (i, 0)),
    )
}

/// `p = m.columns(j, n)`: the `n` columns from column `j`, as an owned `OMatrix<T, R, Dyn>`.
/// Derivative: the seed goes to those columns of `m`'s adjoint.
#[inline]
#[track_caller]
pub fn part_columns<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
    j: usize,
    n: usize,
) -> PartRead<T, R, C, R, Dyn>
where
    DefaultAllocator: Allocator<R, C> + Allocator<R, Dyn>,
{
    (
        owned(&m.columns(j, n)),
        Part::new("columns", m.shape_generic(), (0, j)),
    )
}

/// `p = m.view((i, j), (r, c))`: the `r × c` block from element `(i, j)`, as an owned
/// `OMatrix<T, Dyn, Dyn>`. Derivative: the seed goes to that block of `m`'s adjoint.
#[inline]
#[track_caller]
pub fn part_view<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
    start: (usize, usize),
    shape: (usize, usize),
) -> PartRead<T, R, C, Dyn, Dyn>
where
    DefaultAllocator: Allocator<R, C> + Allocator<Dyn, Dyn>,
{
    (
        owned(&m.view(start, shape)),
        Part::new("view", m.shape_generic(), start),
    )
}

impl<T: Real, R: Dim, C: Dim, PR: Dim, PC: Dim> Part<T, R, C, PR, PC>
where
    DefaultAllocator: Allocator<R, C> + Allocator<PR, PC>,
{
    /// Pullback of a view of `m` to `m`: the seed added into that part of `m`'s adjoint, in
    /// place. A present seed always leaves a gradient in the slot.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, PR, PC>>>,
    ) where
        T: 's,
    {
        let seed = seed.into();
        let Some(g) = seed.get() else {
            return;
        };
        let acc = slot_or_zeros(self.op, d_m, self.shape);
        let mut part = acc.generic_view_mut(self.at, g.shape_generic());
        part += g;
        seed.done();
    }
}
