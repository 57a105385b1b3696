//! `ws[i]` on a differentiable collection (a slice or `Vec` of scalars or matrices, such as a
//! parameter `ws: &[DMatrix<f64>]` or a `Vec` field of a `Parameters` struct): the element, an
//! owned copy, whose pullback adds the seed into element `i` of the collection's adjoint, a
//! `Vec` of the same length and shapes. On a matrix (a matrix field read `p.v[i]`, which the
//! macro cannot tell from a `Vec` field) it is the element of [`super::parts::element`].

use super::adjoint::{accumulate, IntoGrad, Seed};
use super::parts::{element, Element, ElementIndex};
use super::reads::Operand;
use crate::params::Parameters;
use crate::real::Real;
use crate::value::Value;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// What `ws[i]` reads from: a slice or `Vec` of values (their element, copied) or a matrix
/// (a scalar element).
pub trait ItemSource<I> {
    /// What one element is.
    type Item;
    /// The pullback handle of a read.
    type Handle;
    /// The element at `index` (panicking as indexing does out of range) and the handle.
    fn read_item(&self, index: I) -> (Self::Item, Self::Handle);
}

/// What `item` reads from, as the generated code holds it: a borrowed [`ItemSource`], or a
/// skipped field ([`super::skipped::Skipped`]).
pub trait ItemRead<I> {
    /// What one element is.
    type Item;
    /// The pullback handle of a read.
    type Handle;
    /// The element at `index` and the handle.
    fn read(self, index: I) -> (Self::Item, Self::Handle);
}

impl<S: ItemSource<I> + ?Sized, I> ItemRead<I> for &S {
    type Item = S::Item;
    type Handle = S::Handle;
    #[inline]
    #[track_caller]
    fn read(self, index: I) -> (S::Item, S::Handle) {
        self.read_item(index)
    }
}

/// `y = ws[i]`, `ws` a slice or `Vec` of values, or a matrix. Derivative: the identity from
/// `y` to element `i` of `ws`, nothing to the other elements.
#[inline]
#[track_caller]
pub fn item<S: ItemRead<I>, I>(source: S, index: I) -> (S::Item, S::Handle) {
    source.read(index)
}

/// The pullback handle of `ws[i]` on a collection: the position read.
pub struct CollectionItem {
    at: usize,
}

impl<M: Value + Parameters> ItemSource<usize> for [M] {
    type Item = M;
    type Handle = CollectionItem;
    #[inline]
    #[track_caller]
    fn read_item(&self, index: usize) -> (M, CollectionItem) {
        (self[index].copied(), CollectionItem { at: index })
    }
}

impl<M: Value + Parameters> ItemSource<usize> for Vec<M> {
    type Item = M;
    type Handle = CollectionItem;
    #[inline]
    #[track_caller]
    fn read_item(&self, index: usize) -> (M, CollectionItem) {
        self.as_slice().read_item(index)
    }
}

impl CollectionItem {
    /// Pullback of `ws[i]` to `ws`: the seed added into element `i` of `d_ws`, which starts as
    /// zeros of `ws`'s lengths and shapes the first time a read of it receives a derivative.
    #[inline]
    #[track_caller]
    pub fn arg<'s, M: Value + Parameters + 's, S: AsRef<[M]> + ?Sized>(
        &self,
        d_ws: &mut Option<Vec<M>>,
        seed: impl Into<Seed<'s, M>>,
        source: Operand<0, &S>,
    ) {
        let seed = seed.into();
        let Some(g) = seed.get() else {
            return;
        };
        let acc = d_ws.get_or_insert_with(|| source.0.as_ref().iter().map(M::zeros_like).collect());
        acc[self.at].add_assign_ref(g);
        seed.done();
    }
}

impl<T: Real, R: Dim, C: Dim, I: ElementIndex> ItemSource<I> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Item = T;
    type Handle = MatrixItem<T, R, C>;
    #[inline]
    #[track_caller]
    fn read_item(&self, index: I) -> (T, MatrixItem<T, R, C>) {
        let (value, handle) = element(self, index);
        (value, MatrixItem(handle))
    }
}

/// The pullback handle of `m[i]` read as an item: [`Element`]'s.
pub struct MatrixItem<T, R: Dim, C: Dim>(Element<T, R, C>);

impl<T: Real, R: Dim, C: Dim> MatrixItem<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// Pullback of `m[i]` to `m`: the seed added to that element (the source is not read).
    #[inline]
    #[track_caller]
    pub fn arg<'s, X: ?Sized>(
        &self,
        d_m: &mut Option<OMatrix<T, R, C>>,
        seed: impl Into<Seed<'s, T>>,
        _source: Operand<0, &X>,
    ) where
        T: 's,
    {
        self.0.arg(d_m, seed);
    }
}

/// The gradient of a collection: its adjoint, or zeros of its lengths and shapes when no
/// derivative reached it.
#[inline]
pub fn finish_items<M: Parameters>(slot: Option<Vec<M>>, like: &[M]) -> Vec<M> {
    slot.unwrap_or_else(|| like.iter().map(M::zeros_like).collect())
}

/// A field of a `Parameters` struct as the generated code reads it, and what its gradient is.
pub trait FieldGradient {
    /// The adjoint the reverse sweep accumulates for it.
    type Slot;
    /// The field's value in the gradient.
    type Gradient;
    /// The gradient from the adjoint.
    fn finish(self, slot: Option<Self::Slot>) -> Self::Gradient;
}

/// A parameter field: its adjoint, or zeros of its structure when no derivative reached it.
impl<P: Parameters> FieldGradient for &P {
    type Slot = P;
    type Gradient = P;
    #[inline]
    fn finish(self, slot: Option<P>) -> P {
        slot.unwrap_or_else(|| self.zeros_like())
    }
}

/// A skipped field: a constant, copied into the gradient unchanged.
impl<T: Clone> FieldGradient for super::skipped::Skipped<'_, T> {
    type Slot = super::skipped::SkippedSlot;
    type Gradient = T;
    #[inline]
    fn finish(self, _slot: Option<super::skipped::SkippedSlot>) -> T {
        self.0.clone()
    }
}

/// The gradient of a field of a `Parameters` struct ([`FieldGradient`]).
#[inline]
pub fn finish_like<F: FieldGradient>(slot: Option<F::Slot>, like: F) -> F::Gradient {
    like.finish(slot)
}

/// Adds the gradient of a whole `Parameters` struct (what a differentiated method returns for
/// its receiver `self`) into its slot; an empty slot takes it as it is.
#[track_caller]
pub fn add_whole<P: Parameters>(slot: &mut Option<P>, grad: P) {
    match slot {
        Some(acc) => {
            acc.add_scaled(nalgebra::one(), &grad);
            grad.give_back();
        }
        None => *slot = Some(grad),
    }
}

/// The gradient of a method's receiver: what its fields read gave, plus what the methods it
/// called gave for `self` whole.
#[track_caller]
pub fn finish_whole<P: Parameters>(mut fields: P, whole: Option<P>) -> P {
    if let Some(whole) = whole {
        fields.add_scaled(nalgebra::one(), &whole);
        whole.give_back();
    }
    fields
}

/// A slot that a differentiated callee's gradient for one argument is added into: a value's,
/// or a collection's (an argument `ws` passed on whole to a callee taking `&[M]`).
pub trait CallSlot: Sized {
    /// `slot += grad`; an empty slot takes `grad` as it is.
    fn add_call(slot: &mut Option<Self>, grad: Self);
}

impl<T: Value> CallSlot for T {
    #[inline]
    #[track_caller]
    fn add_call(slot: &mut Option<T>, grad: T) {
        accumulate(slot, grad);
    }
}

impl<M: Value + Parameters> CallSlot for Vec<M> {
    #[track_caller]
    fn add_call(slot: &mut Option<Vec<M>>, grad: Vec<M>) {
        match slot {
            Some(acc) => {
                acc.add_scaled(nalgebra::one(), &grad);
                grad.into_iter().for_each(M::recycle);
            }
            None => *slot = Some(grad),
        }
    }
}

impl<M: Value + Parameters> IntoGrad<Vec<M>> for Vec<M> {
    #[inline]
    fn into_grad(self) -> Vec<M> {
        self
    }
}
