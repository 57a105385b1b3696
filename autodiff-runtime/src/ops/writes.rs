//! Building a matrix by parts: one element (`y[i] = e`, `y[(i, j)] = e`), a row
//! (`y.set_row(i, &r)`), a column (`y.set_column(j, &c)`), and a matrix filled with one
//! differentiable element (`DVector::from_element(n, e)`).
//!
//! A write makes a new version of the matrix, `y₁ = y₀ with part p set to e`. Its value is
//! nalgebra's write, bit for bit, done in `y₀`'s own buffer when the generated code moves
//! `y₀` in (it does when nothing reads `y₀` afterwards), so a matrix built element by element
//! is never copied. Its pullbacks read nothing but where the part is, which the handle keeps:
//!
//! - `part`: `d_e += d_y₁[p]`, the seed's part (a scalar, a row, a column);
//! - `matrix`: `d_y₀ += d_y₁` with part p zeroed: what was written over loses the earlier
//!   value's derivative. When the seed is moved in (the last pullback of the write) and
//!   `d_y₀` is still empty, the seed's own buffer becomes `d_y₀` with the part zeroed in
//!   place, so the pullback costs the size of the part, not of the matrix: a loop that
//!   writes `n` elements costs `O(n)` in its reverse sweep, with one adjoint buffer.

use super::adjoint::{accumulate, Seed};
use super::parts::ElementIndex;
use crate::buffers;
use crate::real::Real;
use crate::value::{Input, Value};
use core::marker::PhantomData;
use nalgebra::{
    allocator::Allocator,
    constraint::{SameNumberOfColumns, SameNumberOfRows, ShapeConstraint},
    storage::Storage,
    DefaultAllocator, Dim, Matrix, OMatrix, U1,
};

/// A block of a matrix: its first element and its numbers of rows and columns.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Block {
    start: (usize, usize),
    shape: (usize, usize),
}

impl Block {
    fn contains(&self, (i, j): (usize, usize)) -> bool {
        (self.start.0..self.start.0 + self.shape.0).contains(&i)
            && (self.start.1..self.start.1 + self.shape.1).contains(&j)
    }

    /// Pullback of a write to the matrix written into: the seed with this block zeroed,
    /// added to `d_m` (in the seed's own buffer when it is moved in and `d_m` is empty).
    #[inline]
    #[track_caller]
    fn pass_around<T: Real, R: Dim, C: Dim>(
        self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: Seed<'_, OMatrix<T, R, C>>,
    ) where
        DefaultAllocator: Allocator<R, C>,
    {
        let mut fresh = match (d_m.as_mut(), seed) {
            (_, Seed::Zero) => return,
            (None, Seed::Owned(g)) => g,
            (None, Seed::Borrowed(g)) => g.copied(),
            (Some(acc), seed) => {
                if let Some(g) = seed.get() {
                    self.add_outside(acc, g);
                }
                return seed.done();
            }
        };
        fresh.view_mut(self.start, self.shape).fill(T::zero());
        *d_m = Some(fresh);
    }

    /// `acc += g` everywhere but in this block.
    #[track_caller]
    fn add_outside<T: Real, R: Dim, C: Dim>(self, acc: &mut OMatrix<T, R, C>, g: &OMatrix<T, R, C>)
    where
        DefaultAllocator: Allocator<R, C>,
    {
        crate::value::assert_same_shape("write", acc.shape(), g.shape());
        for j in 0..g.ncols() {
            for i in 0..g.nrows() {
                if !self.contains((i, j)) {
                    acc[(i, j)] += g[(i, j)];
                }
            }
        }
    }

    /// This block of `g`, as a `PR × PC` matrix (the type of the value written there).
    fn read<T: Real, R: Dim, C: Dim, PR: Dim, PC: Dim>(
        self,
        g: &OMatrix<T, R, C>,
        (r, c): (PR, PC),
    ) -> OMatrix<T, PR, PC>
    where
        DefaultAllocator: Allocator<R, C> + Allocator<PR, PC>,
    {
        let mut p = buffers::matrix(r, c, buffers::Fill::Overwritten);
        let (i0, j0) = self.start;
        for j in 0..p.ncols() {
            for i in 0..p.nrows() {
                p[(i, j)] = g[(i0 + i, j0 + j)];
            }
        }
        p
    }
}

/// The pullback handle of `m[i] = e` and `m[(i, j)] = e`: where the element is.
pub struct WrittenElement<T> {
    block: Block,
    of: PhantomData<fn() -> T>,
}

/// The pullback handle of `m.set_row(i, &r)` (`P = (U1, C2)`) and `m.set_column(j, &c)`
/// (`P = (R2, U1)`): where the row or column is, and its dimensions as written.
pub struct WrittenPart<T, PR: Dim, PC: Dim> {
    block: Block,
    part: (PR, PC),
    of: PhantomData<fn() -> T>,
}

impl<T: Real> WrittenElement<T> {
    /// Pullback of `m[i] = e` to `m`: the seed with element `i` zeroed (written over). A
    /// present seed always leaves a gradient in the slot.
    #[inline]
    #[track_caller]
    pub fn matrix<'s, R: Dim, C: Dim>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
    ) where
        T: 's,
        DefaultAllocator: Allocator<R, C>,
    {
        self.block.pass_around(d_m, seed.into());
    }

    /// Pullback of `m[i] = e` to `e`: the seed's element `i`.
    #[inline]
    #[track_caller]
    pub fn part<'s, R: Dim, C: Dim>(
        &self,
        d_e: &mut Option<T>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
    ) where
        T: 's + Value<Elem = T>,
        DefaultAllocator: Allocator<R, C>,
    {
        let seed = seed.into();
        if let Some(g) = seed.get() {
            accumulate(d_e, g[self.block.start]);
        }
        seed.done();
    }
}

impl<T: Real, PR: Dim, PC: Dim> WrittenPart<T, PR, PC>
where
    DefaultAllocator: Allocator<PR, PC>,
{
    /// Pullback of a row or column write to `m`: the seed with that row or column zeroed
    /// (written over). A present seed always leaves a gradient in the slot.
    #[inline]
    #[track_caller]
    pub fn matrix<'s, R: Dim, C: Dim>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
    ) where
        T: 's,
        DefaultAllocator: Allocator<R, C>,
    {
        self.block.pass_around(d_m, seed.into());
    }

    /// Pullback of a row or column write to the row or column written: that row or column
    /// of the seed.
    #[inline]
    #[track_caller]
    pub fn part<'s, R: Dim, C: Dim>(
        &self,
        d_p: &mut Option<OMatrix<T, PR, PC>>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
    ) where
        T: 's,
        DefaultAllocator: Allocator<R, C>,
    {
        let seed = seed.into();
        if let Some(g) = seed.get() {
            accumulate(d_p, self.block.read(g, self.part));
        }
        seed.done();
    }
}

/// `m[index] = e` (`index` is `i` or `(i, j)`), in `m`'s buffer when it is moved in.
/// Derivative: `e` gets the seed's element, `m` the seed with that element zeroed.
#[inline]
#[track_caller]
pub fn write_element<T: Real, R: Dim, C: Dim, I: ElementIndex>(
    m: impl Input<OMatrix<T, R, C>>,
    e: &T,
    index: I,
) -> (OMatrix<T, R, C>, WrittenElement<T>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut y = m.into_buffer();
    let (_, at) = index.read(&y);
    y[at] = *e;
    let block = Block {
        start: (at % y.nrows().max(1), at / y.nrows().max(1)),
        shape: (1, 1),
    };
    (
        y,
        WrittenElement {
            block,
            of: PhantomData,
        },
    )
}

fn written<T, PR: Dim, PC: Dim>(block: Block, part: (PR, PC)) -> WrittenPart<T, PR, PC> {
    WrittenPart {
        block,
        part,
        of: PhantomData,
    }
}

/// `m.set_row(i, &r)`, as nalgebra does it, in `m`'s buffer when it is moved in. Derivative:
/// `r` gets row `i` of the seed, `m` the seed with row `i` zeroed.
#[inline]
#[track_caller]
pub fn write_row<T: Real, R: Dim, C: Dim, C2: Dim, S2: Storage<T, U1, C2>>(
    m: impl Input<OMatrix<T, R, C>>,
    r: &Matrix<T, U1, C2, S2>,
    i: usize,
) -> (OMatrix<T, R, C>, WrittenPart<T, U1, C2>)
where
    DefaultAllocator: Allocator<R, C>,
    ShapeConstraint: SameNumberOfColumns<C, C2>,
{
    let mut y = m.into_buffer();
    y.set_row(i, r);
    let block = Block {
        start: (i, 0),
        shape: (1, y.ncols()),
    };
    (y, written(block, r.shape_generic()))
}

/// `m.set_column(j, &c)`, as nalgebra does it, in `m`'s buffer when it is moved in.
/// Derivative: `c` gets column `j` of the seed, `m` the seed with column `j` zeroed.
#[inline]
#[track_caller]
pub fn write_column<T: Real, R: Dim, C: Dim, R2: Dim, S2: Storage<T, R2, U1>>(
    m: impl Input<OMatrix<T, R, C>>,
    c: &Matrix<T, R2, U1, S2>,
    j: usize,
) -> (OMatrix<T, R, C>, WrittenPart<T, R2, U1>)
where
    DefaultAllocator: Allocator<R, C>,
    ShapeConstraint: SameNumberOfRows<R, R2>,
{
    let mut y = m.into_buffer();
    y.set_column(j, c);
    let block = Block {
        start: (0, j),
        shape: (y.nrows(), 1),
    };
    (y, written(block, c.shape_generic()))
}

/// The pullback handle of `P::from_element(.., e)`: it reads nothing.
pub struct Filled<T>(PhantomData<fn() -> T>);

/// `P::from_element(.., e)` with a differentiable `e`: `zeros` (the matrix `P::zeros(..)` of
/// the same shape, a constant) with every element set to `e`. Derivative: `d_e = Σ seed`.
#[inline]
pub fn fill<T: Real, R: Dim, C: Dim>(
    e: &T,
    zeros: OMatrix<T, R, C>,
) -> (OMatrix<T, R, C>, Filled<T>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut y = zeros;
    y.fill(*e);
    (y, Filled(PhantomData))
}

impl<T: Real> Filled<T> {
    /// Pullback of `from_element(.., e)` to `e`: the sum of the seed.
    #[inline]
    #[track_caller]
    pub fn arg<'s, R: Dim, C: Dim>(
        &self,
        d_e: &mut Option<T>,
        seed: impl Into<Seed<'s, OMatrix<T, R, C>>>,
    ) where
        T: 's + Value<Elem = T>,
        DefaultAllocator: Allocator<R, C>,
    {
        let seed = seed.into();
        if let Some(g) = seed.get() {
            accumulate(d_e, g.sum());
        }
        seed.done();
    }
}
