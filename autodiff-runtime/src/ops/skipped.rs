//! A `#[parameters(skip)]` field read in a differentiated function (`p.activation`,
//! `p.kinds[i]`): a constant, whatever its type. `#[derive(Parameters)]` hands such a field to
//! the generated code as [`Skipped`], so that passing it (or one of its elements) to a
//! differentiated callee's constant parameter needs no gradient, and the gradient struct
//! copies it unchanged.

use super::adjoint::{CopySource, IntoGrad, NoGrad};
use super::items::{CallSlot, ItemRead};

/// A skipped field, borrowed: reads as the field itself (`*p.kind`), has no derivative.
pub struct Skipped<'a, T>(pub &'a T);

impl<T> Clone for Skipped<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Skipped<'_, T> {}

impl<T> core::ops::Deref for Skipped<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        self.0
    }
}

/// A skipped field handed on by value: cloned.
impl<T: Clone> CopySource for Skipped<'_, T> {
    type Owned = T;
    #[inline]
    fn copy_out(self) -> T {
        self.0.clone()
    }
}

/// The adjoint of a skipped field or of one of its elements: there is none. Its type is fixed
/// by the read ([`SkippedItem::arg`], [`super::items::FieldGradient`]), never inferred from a
/// callee's [`NoGrad`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedSlot;

/// The pullback handle of an element of a skipped field: its position, and nothing to pull
/// back into.
pub struct SkippedItem {
    at: usize,
}

impl SkippedItem {
    /// The element read, borrowed again from the field.
    #[inline]
    pub fn element_of<'a, T, C: AsRef<[T]>>(&self, field: Skipped<'a, C>) -> Skipped<'a, T> {
        Skipped(&field.0.as_ref()[self.at])
    }

    /// A constant's pullback: nothing.
    #[inline(always)]
    pub fn arg<X>(
        &self,
        _d_field: &mut Option<SkippedSlot>,
        _seed: Option<SkippedSlot>,
        _source: X,
    ) {
    }
}

impl<'a, T> ItemRead<usize> for Skipped<'a, Vec<T>> {
    type Item = Skipped<'a, T>;
    type Handle = SkippedItem;
    #[inline]
    #[track_caller]
    fn read(self, index: usize) -> (Skipped<'a, T>, SkippedItem) {
        (Skipped(&self.0[index]), SkippedItem { at: index })
    }
}

impl<'a, T, const N: usize> ItemRead<usize> for Skipped<'a, [T; N]> {
    type Item = Skipped<'a, T>;
    type Handle = SkippedItem;
    #[inline]
    #[track_caller]
    fn read(self, index: usize) -> (Skipped<'a, T>, SkippedItem) {
        (Skipped(&self.0[index]), SkippedItem { at: index })
    }
}

/// A skipped field handed to a callee's constant parameter: the callee gives [`NoGrad`] back.
impl CallSlot for SkippedSlot {
    #[inline(always)]
    fn add_call(_slot: &mut Option<SkippedSlot>, _grad: SkippedSlot) {}
}

impl IntoGrad<SkippedSlot> for NoGrad {
    #[inline(always)]
    fn into_grad(self) -> SkippedSlot {
        SkippedSlot
    }
}

/// A skipped field passed to a parameter the callee differentiates (a rate, a scale): a
/// constant, whose gradient is dropped.
impl<T: crate::value::Value> IntoGrad<SkippedSlot> for T {
    #[inline(always)]
    fn into_grad(self) -> SkippedSlot {
        self.recycle();
        SkippedSlot
    }
}

/// Never a slot: a second type that accepts [`NoGrad`], so that rustc cannot infer an
/// adjoint's type from a callee's `NoGrad` alone. The adjoint of a differentiable value is
/// fixed by its other uses, and then `NoGrad` is reported where it meets it ([`IntoGrad`]'s
/// message: the callee does not differentiate that argument).
#[doc(hidden)]
pub enum NotASlot {}

impl IntoGrad<NotASlot> for NoGrad {
    fn into_grad(self) -> NotASlot {
        unreachable!("no adjoint is of type NotASlot")
    }
}
