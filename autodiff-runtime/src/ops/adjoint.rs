//! Adjoint slots and how contributions flow into them: the plumbing every generated reverse
//! sweep uses, independent of any particular rule.
//!
//! An adjoint lives in an `Option<T>` slot: `None` until the first contribution arrives, so
//! no zero matrix is ever allocated just to be added to. The first contribution moves in,
//! later ones are added in place.

use super::items::CallSlot;
use crate::buffers::{self, Fill};
use crate::real::Real;
use crate::value::{assert_same_shape, Value};
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// The adjoint of an operation's result, handed to one of the operation's pullbacks.
///
/// The generated code passes `&slot` to every pullback of an operation but the last, and
/// the slot itself (moved) to the last one, so that rules can reuse its buffer instead of
/// allocating a new one.
pub enum Seed<'a, T> {
    /// No contribution reached the result (for example, it was used in a branch not taken).
    Zero,
    /// The adjoint is still needed by another pullback.
    Borrowed(&'a T),
    /// The adjoint's last reader: its buffer may be reused.
    Owned(T),
}

impl<'a, T> From<&'a Option<T>> for Seed<'a, T> {
    #[inline]
    fn from(slot: &'a Option<T>) -> Self {
        match slot {
            Some(v) => Seed::Borrowed(v),
            None => Seed::Zero,
        }
    }
}

impl<T> From<Option<T>> for Seed<'_, T> {
    #[inline]
    fn from(slot: Option<T>) -> Self {
        match slot {
            Some(v) => Seed::Owned(v),
            None => Seed::Zero,
        }
    }
}

impl<T> Seed<'_, T> {
    /// The adjoint, borrowed, or `None` when it is zero.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        match self {
            Seed::Zero => None,
            Seed::Borrowed(v) => Some(v),
            Seed::Owned(v) => Some(v),
        }
    }
}

/// The seed of a pullback that runs only when the caller wants a gradient it leads to: the
/// seed itself, or zero (the pullback then does nothing, and an owned seed goes back to the
/// pool, as the pullback would have given it).
#[inline]
pub fn only<'a, T: 'static>(wanted: bool, seed: impl Into<Seed<'a, T>>) -> Seed<'a, T> {
    match (wanted, seed.into()) {
        (true, seed) => seed,
        (false, Seed::Owned(v)) => {
            crate::buffers::recycle_any(v);
            Seed::Zero
        }
        (false, _) => Seed::Zero,
    }
}

impl<T: Value> Seed<'_, T> {
    /// The adjoint as an owned value (copied only when borrowed), or `None` when zero.
    #[inline]
    pub fn into_owned(self) -> Option<T> {
        match self {
            Seed::Zero => None,
            Seed::Borrowed(v) => Some(v.copied()),
            Seed::Owned(v) => Some(v),
        }
    }

    /// Ends a pullback that only read the adjoint: an owned one goes back to the pool.
    #[inline]
    pub fn done(self) {
        if let Seed::Owned(v) = self {
            v.recycle();
        }
    }
}

/// `slot += value`: the first contribution moves in, later ones are added in place.
#[inline]
#[track_caller]
pub fn accumulate<T: Value>(slot: &mut Option<T>, value: T) {
    match slot {
        Some(acc) => {
            acc.add_assign_ref(&value);
            value.recycle();
        }
        None => *slot = Some(value),
    }
}

/// `slot += seed` for pullbacks that pass the adjoint through unchanged (`+`, `transpose`
/// of a scalar, …): a moved seed is reused, a borrowed one is cloned only if the slot is empty.
#[inline]
#[track_caller]
pub fn accumulate_seed<T: Value>(slot: &mut Option<T>, seed: Seed<'_, T>) {
    match (slot.as_mut(), seed) {
        (_, Seed::Zero) => {}
        (Some(acc), Seed::Borrowed(g)) => acc.add_assign_ref(g),
        (Some(acc), Seed::Owned(g)) => {
            acc.add_assign_ref(&g);
            g.recycle();
        }
        (None, Seed::Borrowed(g)) => *slot = Some(g.copied()),
        (None, Seed::Owned(g)) => *slot = Some(g),
    }
}

/// `slot[i] += f(seed[i], other[i])` elementwise, reusing the seed's buffer when it is owned
/// and the slot is empty: the shape of every unary elementwise pullback.
#[inline]
#[track_caller]
pub fn accumulate_elementwise<T: Value>(
    slot: &mut Option<T>,
    seed: Seed<'_, T>,
    other: &T,
    mut f: impl FnMut(T::Elem, T::Elem) -> T::Elem,
) {
    let mut fresh = match (slot.as_mut(), seed) {
        (_, Seed::Zero) => return,
        (Some(acc), Seed::Borrowed(g)) => {
            return acc.zip2_apply_elems(g, other, |a, g, o| a + f(g, o))
        }
        (Some(acc), Seed::Owned(g)) => {
            acc.zip2_apply_elems(&g, other, |a, g, o| a + f(g, o));
            return g.recycle();
        }
        (None, Seed::Borrowed(g)) => g.copied(),
        (None, Seed::Owned(g)) => g,
    };
    fresh.zip_apply_elems(other, f);
    *slot = Some(fresh);
}

/// `slot[i] += f(seed[i], a[i], b[i])` elementwise, reusing the seed's buffer when it is owned
/// and the slot is empty: the shape of a pullback that reads two values (both operands of
/// `maxout`, `component_div`, …).
#[inline]
#[track_caller]
pub fn accumulate_elementwise2<T: Value>(
    slot: &mut Option<T>,
    seed: Seed<'_, T>,
    a: &T,
    b: &T,
    mut f: impl FnMut(T::Elem, T::Elem, T::Elem) -> T::Elem,
) {
    let mut fresh = match (slot.as_mut(), seed) {
        (_, Seed::Zero) => return,
        (Some(acc), Seed::Borrowed(g)) => {
            return acc.zip3_apply_elems(g, a, b, |s, g, a, b| s + f(g, a, b))
        }
        (Some(acc), Seed::Owned(g)) => {
            acc.zip3_apply_elems(&g, a, b, |s, g, a, b| s + f(g, a, b));
            return g.recycle();
        }
        (None, Seed::Borrowed(g)) => g.copied(),
        (None, Seed::Owned(g)) => g,
    };
    fresh.zip2_apply_elems(a, b, f);
    *slot = Some(fresh);
}

/// `slot += s · value`, for pullbacks whose seed is a scalar and whose contribution is a
/// multiple of a value they read (`norm`, `dot`, `x * y` with scalar `x`, …). The value is
/// cloned only when the slot is empty.
#[inline]
#[track_caller]
pub fn accumulate_scaled<T: Value>(slot: &mut Option<T>, value: &T, s: T::Elem) {
    match slot {
        Some(acc) => acc.zip_apply_elems(value, |a, v| a + s * v),
        None => {
            *slot = Some(value.mapped(|v| s * v));
        }
    }
}

/// `slot[i] += s` for every element of a value of the given shape: the pullback of a
/// reduction to a scalar (`sum`, `mean`).
#[inline]
#[track_caller]
pub fn accumulate_broadcast<T: Value>(slot: &mut Option<T>, shape: T::Shape, s: T::Elem) {
    match slot {
        Some(acc) => acc.apply_elems(|a| a + s),
        None => {
            let mut fresh = T::zeros(shape);
            fresh.apply_elems(|_| s);
            *slot = Some(fresh);
        }
    }
}

/// The adjoint in `slot`, created as zeros of shape `(r, c)` (from the pool) when empty: for
/// a pullback that adds to some elements only (`m.max()`, `m.trace()`, a row sum). A filled
/// slot must have that shape; `op` names the operation in the panic otherwise.
#[inline]
#[track_caller]
pub fn slot_or_zeros<'a, T: Real, R: Dim, C: Dim>(
    op: &str,
    slot: &'a mut Option<OMatrix<T, R, C>>,
    (r, c): (R, C),
) -> &'a mut OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let acc = slot.get_or_insert_with(|| buffers::matrix(r, c, Fill::Zeros));
    assert_same_shape(op, acc.shape(), (r.value(), c.value()));
    acc
}

/// The seed of a scalar-valued operation as a plain number, or `None` when it is zero.
#[inline]
pub fn scalar_seed<T: crate::real::Real>(seed: Seed<'_, T>) -> Option<T> {
    seed.get().copied()
}

/// Moves the adjoint of a merged value (after `if`/`else`) into the adjoint of the version
/// the taken branch produced.
#[inline]
#[track_caller]
pub fn flow<T: Value>(slot: &mut Option<T>, from: Option<T>) {
    if let Some(v) = from {
        accumulate(slot, v);
    }
}

/// The final gradient of a parameter: its adjoint, or zeros of its shape when nothing
/// reached it.
#[inline]
pub fn finish<T: Value>(slot: Option<T>, shape: T::Shape) -> T {
    slot.unwrap_or_else(|| T::zeros(shape))
}

/// The final gradient of a parameter that the macro has proven always receives a
/// contribution (so its shape need not be kept on the tape).
#[inline]
pub fn finish_reached<T>(slot: Option<T>) -> T {
    match slot {
        Some(v) => v,
        None => unreachable!("autodiff: a parameter's adjoint was proven to be reached"),
    }
}

/// The gradient of a parameter the caller did not ask for: never computed, and cheap to
/// return (zero, or a matrix whose dynamic dimensions are 0).
#[inline]
pub fn unwanted<T: Value>() -> T {
    T::placeholder()
}

/// The gradient of a parameter when the caller asked for it, a placeholder otherwise
/// ([`unwanted`]): `gradient` runs only when wanted.
#[inline]
pub fn wanted<T: Value>(want: bool, gradient: impl FnOnce() -> T) -> T {
    if want {
        gradient()
    } else {
        unwanted()
    }
}

/// The shape of a parameter, kept on the tape when its gradient may be all zeros.
#[inline]
pub fn shape_of<T: Value>(value: &T) -> T::Shape {
    value.shape()
}

/// The unit seed of a scalar-valued function: `1`.
#[inline]
pub fn one<T: crate::real::Real>() -> T {
    T::one()
}

/// Records which branch of an `if` ran, with what that branch's reverse sweep needs.
pub enum Branch<A, B> {
    /// The `then` block ran.
    Then(A),
    /// The `else` block ran.
    Else(B),
}

/// The gradient slot of a parameter that the called function does not differentiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoGrad;

/// A gradient returned by a differentiated function, to be added into the caller's slot.
#[diagnostic::on_unimplemented(
    message = "the called function does not differentiate this argument, but it depends on \
               a differentiable value",
    label = "no gradient for this argument",
    note = "make the parameter differentiable in the called function (its `wrt(..)`), or \
            pass a constant"
)]
pub trait IntoGrad<T> {
    /// The gradient as a value of the slot's type.
    fn into_grad(self) -> T;
}

impl<T: Value> IntoGrad<T> for T {
    #[inline]
    fn into_grad(self) -> T {
        self
    }
}

/// Adds the gradient a differentiated callee returned for one argument into its slot.
#[inline]
#[track_caller]
pub fn accumulate_call<T: CallSlot, G: IntoGrad<T>>(slot: &mut Option<T>, grad: G) {
    T::add_call(slot, grad.into_grad());
}

/// Gives a value the sweep no longer needs back to the pool of [`crate::buffers`].
#[inline]
pub fn recycle<T: Value>(value: T) {
    value.recycle();
}

/// What [`copied`] copies: a borrowed value (into reused storage), or a skipped field of a
/// `Parameters` struct (by `Clone`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a differentiable value",
    label = "not a scalar or an owned nalgebra matrix",
    note = "differentiable values are `f32`, `f64` and owned nalgebra matrices and vectors; \
            convert views with `.clone_owned()`"
)]
pub trait CopySource {
    /// The copy's type.
    type Owned;
    /// The copy.
    fn copy_out(self) -> Self::Owned;
}

impl<T: Value> CopySource for &T {
    type Owned = T;
    #[inline]
    fn copy_out(self) -> T {
        self.copied()
    }
}

/// A copy of a value that the forward sweep both hands on and keeps, in reused storage.
#[inline]
pub fn copied<S: CopySource>(value: S) -> S::Owned {
    value.copy_out()
}

/// A reference parameter as a differentiated callee's reverse sweep receives it: borrowed
/// (from the tape, or from a caller that still needs it), or given by a caller whose own
/// sweep reads it no more. A given value goes back to the pool right after the callee's last
/// pullback that reads it ([`give_back`]), so that the gradients computed after it reuse its
/// buffer, as they would within one function.
pub enum Lent<'a, T> {
    /// The caller keeps the value.
    Borrowed(&'a T),
    /// The callee owns the value now.
    Given(T),
}

impl<T> core::ops::Deref for Lent<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        match self {
            Lent::Borrowed(value) => value,
            Lent::Given(value) => value,
        }
    }
}

impl<'a, T> From<&'a T> for Lent<'a, T> {
    #[inline]
    fn from(value: &'a T) -> Self {
        Lent::Borrowed(value)
    }
}

/// What a caller passes for a reference parameter of a differentiated callee's reverse sweep,
/// as that sweep takes it (`Out`): a scalar or matrix as a [`Lent`] (from a `Lent`, or from any
/// reference that borrows as one: `&h`, `&&h`, a `&Box<T>`, as the forward call's coercions
/// allow), anything else as a plain reference.
pub trait Lend<Out> {
    /// The argument as the callee's reverse sweep takes it.
    fn lend(self) -> Out;
}

impl<'a, T> Lend<Lent<'a, T>> for Lent<'a, T> {
    #[inline]
    fn lend(self) -> Lent<'a, T> {
        self
    }
}

impl<'a, T, R: core::borrow::Borrow<T> + ?Sized> Lend<Lent<'a, T>> for &'a R {
    #[inline]
    fn lend(self) -> Lent<'a, T> {
        Lent::Borrowed(self.borrow())
    }
}

impl<'a, T: ?Sized, R: core::borrow::Borrow<T> + ?Sized> Lend<&'a T> for &'a R {
    #[inline]
    fn lend(self) -> &'a T {
        self.borrow()
    }
}

/// An argument of a differentiated callee's reverse sweep, as the sweep takes it ([`Lend`]).
#[inline]
pub fn lend<Out, A: Lend<Out>>(argument: A) -> Out {
    argument.lend()
}

/// Gives a [`Lent::Given`] parameter back to the pool once the sweep reads it no more (a
/// borrowed one stays with its owner).
///
/// Bounded by `'static` only, like [`discard`], so that a parameter type the signature check
/// let through but the rules reject is reported once, where it is used.
#[inline]
pub fn give_back<T: 'static>(lent: Lent<'_, T>) {
    if let Lent::Given(value) = lent {
        crate::buffers::recycle_any(value);
    }
}

/// Gives back the adjoint that a pullback which did not run would have taken by value (the
/// caller did not want the gradient it leads to).
///
/// Bounded by `'static` only, not by [`Value`], so that a type error found elsewhere in the
/// sweep is not reported here a second time.
#[inline]
pub fn discard<T: 'static>(slot: Option<T>) {
    if let Some(value) = slot {
        crate::buffers::recycle_any(value);
    }
}
