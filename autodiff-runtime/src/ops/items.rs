//! `ws[i]` on a differentiable collection (a slice or `Vec` of scalars or matrices, such as a
//! parameter `ws: &[DMatrix<f64>]` or a `Vec` field of a `Parameters` struct): the element,
//! borrowed, whose pullback adds the seed into element `i` of the collection's adjoint, a
//! `Vec` of the same length and shapes. On a matrix (a matrix field read `p.v[i]`, which the
//! macro cannot tell from a `Vec` field) it is the element of [`super::parts::element`].
//!
//! The element is never copied: the reverse sweep borrows it again from the collection
//! through the handle (`element_of`), which keeps the position, so a loop's record keeps the
//! handle, not the element.

use super::adjoint::{accumulate, IntoGrad, Seed};
use super::parts::{element, Element, ElementIndex};
use super::reads::Operand;
use crate::params::Parameters;
use crate::real::Real;
use crate::value::Value;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// What `ws[i]` reads from: a slice or `Vec` of values or a matrix (a scalar element).
pub trait ItemSource<I> {
    /// What one element is.
    type Item;
    /// The pullback handle of a read.
    type Handle;
    /// The element at `index` (panicking as indexing does out of range) and the handle.
    fn read_item(&self, index: I) -> (&Self::Item, Self::Handle);
}

/// What `item` reads from, as the generated code holds it: a borrowed [`ItemSource`], or a
/// skipped field ([`super::skipped::Skipped`]).
pub trait ItemRead<I> {
    /// The element as the generated code holds it.
    type Item;
    /// The pullback handle of a read.
    type Handle;
    /// The element at `index` and the handle.
    fn read(self, index: I) -> (Self::Item, Self::Handle);
}

impl<'a, S: ItemSource<I> + ?Sized, I> ItemRead<I> for &'a S
where
    S::Item: 'a,
{
    type Item = &'a S::Item;
    type Handle = S::Handle;
    #[inline]
    #[track_caller]
    fn read(self, index: I) -> (&'a S::Item, S::Handle) {
        self.read_item(index)
    }
}

/// `y = ws[i]`, `ws` a slice or `Vec` of values, or a matrix: `y` borrowed. Derivative: the
/// identity from `y` to element `i` of `ws`, nothing to the other elements.
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
    fn read_item(&self, index: usize) -> (&M, CollectionItem) {
        (&self[index], CollectionItem { at: index })
    }
}

impl<M: Value + Parameters> ItemSource<usize> for Vec<M> {
    type Item = M;
    type Handle = CollectionItem;
    #[inline]
    #[track_caller]
    fn read_item(&self, index: usize) -> (&M, CollectionItem) {
        self.as_slice().read_item(index)
    }
}

impl CollectionItem {
    /// The element read, borrowed again from the collection: what the reverse sweep reads
    /// instead of a copy kept by the forward sweep.
    #[inline]
    pub fn element_of<'a, M: 'a, S: AsRef<[M]> + ?Sized>(&self, source: &'a S) -> &'a M {
        &source.as_ref()[self.at]
    }

    /// Pullback of `ws[i]` to `ws`: the seed added into element `i` of `d_ws`. The first time
    /// a read of `ws` receives a derivative, `d_ws` starts with placeholders of no size, and
    /// the first derivative of each element moves in; an element no derivative reaches
    /// becomes zeros when the gradient is finished ([`finish_items`], [`finish_like`]).
    #[inline]
    #[track_caller]
    pub fn arg<'s, M: Value + Parameters + 's, S: AsRef<[M]> + ?Sized>(
        &self,
        d_ws: &mut Option<Vec<M>>,
        seed: impl Into<Seed<'s, M>>,
        source: Operand<0, &S>,
    ) {
        let seed = seed.into();
        if seed.get().is_none() {
            return;
        }
        let like = source.0.as_ref();
        let acc = d_ws.get_or_insert_with(|| like.iter().map(|_| M::placeholder()).collect());
        let element = &mut acc[self.at];
        if element.dims() != like[self.at].dims() {
            *element = seed.into_owned().expect("a seed that is not zero");
        } else {
            element.add_assign_ref(seed.get().expect("a seed that is not zero"));
            seed.done();
        }
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
    fn read_item(&self, index: I) -> (&T, MatrixItem<T, R, C>) {
        let (_, handle) = element(self, index);
        (&self.as_slice()[handle.position()], MatrixItem(handle))
    }
}

/// The pullback handle of `m[i]` read as an item: [`Element`]'s.
pub struct MatrixItem<T, R: Dim, C: Dim>(Element<T, R, C>);

impl<T: Real, R: Dim, C: Dim> MatrixItem<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// The element read, borrowed again from `m`.
    #[inline]
    pub fn element_of<'a>(&self, m: &'a OMatrix<T, R, C>) -> &'a T {
        &m.as_slice()[self.0.position()]
    }

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
/// derivative reached it (or reached one of its elements).
#[inline]
pub fn finish_items<M: Parameters>(slot: Option<Vec<M>>, like: &[M]) -> Vec<M> {
    match slot {
        Some(mut acc) => {
            for (element, like) in acc.iter_mut().zip(like) {
                element.fill_placeholders(like);
            }
            acc
        }
        None => like.iter().map(M::zeros_like).collect(),
    }
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
        match slot {
            Some(mut acc) => {
                acc.fill_placeholders(self);
                acc
            }
            None => self.zeros_like(),
        }
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
                assert_eq!(
                    acc.len(),
                    grad.len(),
                    "gradients of collections of different lengths"
                );
                for (element, g) in acc.iter_mut().zip(grad) {
                    if element.dims() != g.dims() {
                        // A placeholder of `CollectionItem::arg`: no derivative reached it yet.
                        *element = g;
                    } else {
                        element.add_assign_ref(&g);
                        g.recycle();
                    }
                }
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
