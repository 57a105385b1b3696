//! The arithmetic operators `+ - * /` and unary `-`, with nalgebra's meaning, on scalars and
//! matrices: each rule's value and pullbacks side by side.
//!
//! Every operation is a forward function returning `(value, pullback)`; the pullback is a
//! zero-sized handle that carries the operand types, with one method per operand.

use super::adjoint::{accumulate, accumulate_seed, Seed};
use super::reads::Operand;
use crate::buffers::Fill;
use crate::linalg::{gemm_accumulate, gemm_into, Op};
use crate::real::Real;
use crate::value::{assert_same_shape, Input, Value};
use core::marker::PhantomData;
use nalgebra::{
    allocator::Allocator,
    constraint::{AreMultipliable, ShapeConstraint},
    DefaultAllocator, Dim, OMatrix,
};

/// The pullback handle of `a + b`.
pub struct Add<A>(PhantomData<fn(&A)>);
/// The pullback handle of `a - b`.
pub struct Sub<A>(PhantomData<fn(&A)>);
/// The pullback handle of `-a`.
pub struct Neg<A>(PhantomData<fn(&A)>);
/// The pullback handle of `a * b`.
pub struct Mul<A, B>(PhantomData<fn(&A, &B)>);
/// The pullback handle of `a / b`.
pub struct Div<A, B>(PhantomData<fn(&A, &B)>);
// ---------------------------------------------------------------------------------- + and -

/// `a + b` and `a - b`: scalar with scalar, matrix with matrix of the same shape.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `{Self} + {B}` or `{Self} - {B}`",
    label = "no rule for these operand types",
    note = "`+` and `-` are differentiated for two scalars or two matrices of the same type: \
            add a bias vector to every row or column with `add_bias(m, b)` (a `RowDVector` to \
            each row, a `DVector` to each column), and a scalar to every element with \
            `m.add_scalar(s)`"
)]
pub trait AddRule<B>: Value {
    /// The pullback handle (a projection, so that a missing rule is one error, not a cascade).
    type Handle;
    /// The handle of this operation.
    fn handle() -> Self::Handle;
    /// `a + b`. Panics with both shapes when they differ.
    fn add(a: &Self, b: &B) -> Self;
    /// `a - b`. Panics with both shapes when they differ.
    fn sub(a: &Self, b: &B) -> Self;
    /// `a += b`, in `a`'s buffer.
    fn add_assign(a: &mut Self, b: &B);
    /// `a -= b`, in `a`'s buffer.
    fn sub_assign(a: &mut Self, b: &B);
}

impl<T: Real + Value> AddRule<T> for T {
    type Handle = Add<Self>;
    #[inline]
    fn handle() -> Add<Self> {
        Add(PhantomData)
    }
    #[inline]
    fn add(a: &T, b: &T) -> T {
        *a + *b
    }
    #[inline]
    fn sub(a: &T, b: &T) -> T {
        *a - *b
    }
    #[inline]
    fn add_assign(a: &mut T, b: &T) {
        *a += *b;
    }
    #[inline]
    fn sub_assign(a: &mut T, b: &T) {
        *a -= *b;
    }
}

impl<T: Real, R: Dim, C: Dim> AddRule<OMatrix<T, R, C>> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Handle = Add<Self>;
    #[inline]
    fn handle() -> Add<Self> {
        Add(PhantomData)
    }
    #[inline]
    #[track_caller]
    fn add(a: &Self, b: &Self) -> Self {
        assert_same_shape("`+`", a.shape(), b.shape());
        let mut c = a.copied();
        c += b;
        c
    }
    #[inline]
    #[track_caller]
    fn sub(a: &Self, b: &Self) -> Self {
        assert_same_shape("`-`", a.shape(), b.shape());
        let mut c = a.copied();
        c -= b;
        c
    }
    #[inline]
    #[track_caller]
    fn add_assign(a: &mut Self, b: &Self) {
        assert_same_shape("`+`", a.shape(), b.shape());
        *a += b;
    }
    #[inline]
    #[track_caller]
    fn sub_assign(a: &mut Self, b: &Self) {
        assert_same_shape("`-`", a.shape(), b.shape());
        *a -= b;
    }
}

/// No operand type: the second implementation of [`AddRule`] and [`DivRule`] for every
/// value, so that rustc does not guess the right-hand type from a single implementation and
/// reports a missing rule (`DMatrix + DVector`) with the rule's own message. It has no values:
/// these implementations can never be called.
#[doc(hidden)]
pub enum NoRule {}

impl<T: Real + Value> AddRule<NoRule> for T {
    type Handle = Add<Self>;
    fn handle() -> Add<Self> {
        Add(PhantomData)
    }
    fn add(_: &T, b: &NoRule) -> T {
        match *b {}
    }
    fn sub(_: &T, b: &NoRule) -> T {
        match *b {}
    }
    fn add_assign(_: &mut T, b: &NoRule) {
        match *b {}
    }
    fn sub_assign(_: &mut T, b: &NoRule) {
        match *b {}
    }
}

impl<T: Real, R: Dim, C: Dim> AddRule<NoRule> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Handle = Add<Self>;
    fn handle() -> Add<Self> {
        Add(PhantomData)
    }
    fn add(_: &Self, b: &NoRule) -> Self {
        match *b {}
    }
    fn sub(_: &Self, b: &NoRule) -> Self {
        match *b {}
    }
    fn add_assign(_: &mut Self, b: &NoRule) {
        match *b {}
    }
    fn sub_assign(_: &mut Self, b: &NoRule) {
        match *b {}
    }
}

impl<T: Real + Value> DivRule<NoRule> for T {
    type Handle = Div<Self, NoRule>;
    #[inline]
    fn handle() -> Self::Handle {
        Div(PhantomData)
    }
    fn div(_: &T, b: &NoRule) -> T {
        match *b {}
    }
    fn pullback_lhs(_: &mut Option<T>, _: Seed<'_, T>, b: &NoRule) {
        match *b {}
    }
    fn pullback_rhs(_: &mut Option<NoRule>, _: Seed<'_, T>, _: &T, b: &NoRule) {
        match *b {}
    }
}

impl<T: Real, R: Dim, C: Dim> DivRule<NoRule> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Handle = Div<Self, NoRule>;
    #[inline]
    fn handle() -> Self::Handle {
        Div(PhantomData)
    }
    fn div(_: &Self, b: &NoRule) -> Self {
        match *b {}
    }
    fn pullback_lhs(_: &mut Option<Self>, _: Seed<'_, Self>, b: &NoRule) {
        match *b {}
    }
    fn pullback_rhs(_: &mut Option<NoRule>, _: Seed<'_, Self>, _: &Self, b: &NoRule) {
        match *b {}
    }
}

/// `a + b`: d_a += d_c, d_b += d_c.
#[inline]
#[track_caller]
pub fn add<A: AddRule<B>, B, I: Input<A>>(a: I, b: &B) -> (A, A::Handle) {
    let value = if I::OWNED {
        let mut a = a.into_buffer();
        A::add_assign(&mut a, b);
        a
    } else {
        A::add(a.get(), b)
    };
    (value, A::handle())
}

/// `a - b`: d_a += d_c, d_b -= d_c.
#[inline]
#[track_caller]
pub fn sub<A: AddRule<B>, B, I: Input<A>>(a: I, b: &B) -> (A, Sub<A>) {
    let value = if I::OWNED {
        let mut a = a.into_buffer();
        A::sub_assign(&mut a, b);
        a
    } else {
        A::sub(a.get(), b)
    };
    (value, Sub(PhantomData))
}

impl<A: AddRule<A>> Add<A> {
    /// Pullback of `a + b` to `a`: the seed itself.
    #[inline]
    pub fn lhs<'s>(&self, d_a: &mut Option<A>, seed: impl Into<Seed<'s, A>>)
    where
        A: 's,
    {
        accumulate_seed(d_a, seed.into());
    }
    /// Pullback of `a + b` to `b`: the seed itself.
    #[inline]
    pub fn rhs<'s>(&self, d_b: &mut Option<A>, seed: impl Into<Seed<'s, A>>)
    where
        A: 's,
    {
        accumulate_seed(d_b, seed.into());
    }
}

impl<A: AddRule<A>> Sub<A> {
    /// Pullback of `a - b` to `a`: the seed itself.
    #[inline]
    pub fn lhs<'s>(&self, d_a: &mut Option<A>, seed: impl Into<Seed<'s, A>>)
    where
        A: 's,
    {
        accumulate_seed(d_a, seed.into());
    }
    /// Pullback of `a - b` to `b`: minus the seed.
    #[inline]
    pub fn rhs<'s>(&self, d_b: &mut Option<A>, seed: impl Into<Seed<'s, A>>)
    where
        A: 's,
    {
        negate_into(d_b, seed.into());
    }
}

/// `slot -= seed`, reusing a moved seed's buffer.
#[inline]
#[track_caller]
fn negate_into<A: Value>(slot: &mut Option<A>, seed: Seed<'_, A>) {
    match (slot.as_mut(), seed) {
        (_, Seed::Zero) => {}
        (Some(acc), seed) => {
            if let Some(g) = seed.get() {
                acc.zip_apply_elems(g, |a, g| a - g);
            }
            seed.done();
        }
        (None, seed) => {
            if let Some(mut g) = seed.into_owned() {
                g.apply_elems(|v| -v);
                *slot = Some(g);
            }
        }
    }
}

/// `-a`: d_a -= d_c.
#[inline]
pub fn neg<A: Value>(a: &A) -> (A, Neg<A>) {
    (a.mapped(|v| -v), Neg(PhantomData))
}

impl<A: Value> Neg<A> {
    /// Pullback of `-a`: minus the seed.
    #[inline]
    pub fn arg<'s>(&self, d_a: &mut Option<A>, seed: impl Into<Seed<'s, A>>)
    where
        A: 's,
    {
        negate_into(d_a, seed.into());
    }
}

// ---------------------------------------------------------------------------------------- *

/// `a * b` with nalgebra's meaning: scalar product, scaling, or matrix product.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `{Self} * {B}`",
    label = "no rule for these operand types",
    note = "`*` is differentiated for scalar * scalar, scalar * matrix, matrix * scalar and \
            matrix * matrix (owned nalgebra matrices of the same scalar type)"
)]
pub trait MulRule<B>: Value {
    /// The pullback handle (a projection, so that a missing rule is one error, not a cascade).
    type Handle;
    /// The handle of this operation.
    fn handle() -> Self::Handle;
    /// The type of `a * b`.
    type Output: Value;
    /// `a * b`.
    fn mul(a: &Self, b: &B) -> Self::Output;
    /// `d_a += d_c · ∂(a * b)/∂a`.
    fn pullback_lhs(d_a: &mut Option<Self>, d_c: Seed<'_, Self::Output>, b: &B);
    /// `d_b += d_c · ∂(a * b)/∂b`.
    fn pullback_rhs(d_b: &mut Option<B>, d_c: Seed<'_, Self::Output>, a: &Self);
}

impl<T: Real + Value<Elem = T>> MulRule<T> for T {
    type Handle = Mul<Self, T>;
    #[inline]
    fn handle() -> Self::Handle {
        Mul(PhantomData)
    }
    type Output = T;
    #[inline]
    fn mul(a: &T, b: &T) -> T {
        *a * *b
    }
    #[inline]
    fn pullback_lhs(d_a: &mut Option<T>, d_c: Seed<'_, T>, b: &T) {
        if let Some(g) = d_c.get() {
            accumulate(d_a, *g * *b);
        }
        d_c.done();
    }
    #[inline]
    fn pullback_rhs(d_b: &mut Option<T>, d_c: Seed<'_, T>, a: &T) {
        if let Some(g) = d_c.get() {
            accumulate(d_b, *a * *g);
        }
        d_c.done();
    }
}

/// `s * m`: d_s += Σ d_c ⊙ m, d_m += s · d_c.
impl<T: Real + Value<Elem = T>, R: Dim, C: Dim> MulRule<OMatrix<T, R, C>> for T
where
    DefaultAllocator: Allocator<R, C>,
{
    type Handle = Mul<Self, OMatrix<T, R, C>>;
    #[inline]
    fn handle() -> Self::Handle {
        Mul(PhantomData)
    }
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn mul(a: &T, b: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        b.mapped(|v| *a * v)
    }
    #[inline]
    fn pullback_lhs(d_a: &mut Option<T>, d_c: Seed<'_, OMatrix<T, R, C>>, b: &OMatrix<T, R, C>) {
        if let Some(g) = d_c.get() {
            accumulate(d_a, g.dot(b));
        }
        d_c.done();
    }
    #[inline]
    fn pullback_rhs(d_b: &mut Option<OMatrix<T, R, C>>, d_c: Seed<'_, OMatrix<T, R, C>>, a: &T) {
        scaled_into(d_b, d_c, *a);
    }
}

/// `m * s`: d_m += s · d_c, d_s += Σ d_c ⊙ m.
impl<T: Real + Value<Elem = T>, R: Dim, C: Dim> MulRule<T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Handle = Mul<Self, T>;
    #[inline]
    fn handle() -> Self::Handle {
        Mul(PhantomData)
    }
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn mul(a: &Self, b: &T) -> Self {
        a.mapped(|v| v * *b)
    }
    #[inline]
    fn pullback_lhs(d_a: &mut Option<Self>, d_c: Seed<'_, Self>, b: &T) {
        scaled_into(d_a, d_c, *b);
    }
    #[inline]
    fn pullback_rhs(d_b: &mut Option<T>, d_c: Seed<'_, Self>, a: &Self) {
        if let Some(g) = d_c.get() {
            accumulate(d_b, g.dot(a));
        }
        d_c.done();
    }
}

/// `slot += s · seed`, reusing a moved seed's buffer.
#[inline]
#[track_caller]
pub(crate) fn scaled_into<A: Value>(slot: &mut Option<A>, seed: Seed<'_, A>, s: A::Elem) {
    match (slot.as_mut(), seed) {
        (_, Seed::Zero) => {}
        (Some(acc), seed) => {
            if let Some(g) = seed.get() {
                acc.zip_apply_elems(g, |a, g| a + s * g);
            }
            seed.done();
        }
        (None, seed) => {
            if let Some(mut g) = seed.into_owned() {
                g.apply_elems(|v| s * v);
                *slot = Some(g);
            }
        }
    }
}

/// The matrix product `a · b`: d_a += d_c · bᵀ, d_b += aᵀ · d_c, each one `gemm` with the
/// transposed operand read through a strided view.
impl<T: Real, R1: Dim, C1: Dim, R2: Dim, C2: Dim> MulRule<OMatrix<T, R2, C2>> for OMatrix<T, R1, C1>
where
    ShapeConstraint: AreMultipliable<R1, C1, R2, C2>,
    DefaultAllocator: Allocator<R1, C1> + Allocator<R2, C2> + Allocator<R1, C2>,
{
    type Handle = Mul<Self, OMatrix<T, R2, C2>>;
    #[inline]
    fn handle() -> Self::Handle {
        Mul(PhantomData)
    }
    type Output = OMatrix<T, R1, C2>;
    #[inline]
    #[track_caller]
    fn mul(a: &Self, b: &OMatrix<T, R2, C2>) -> OMatrix<T, R1, C2> {
        if a.ncols() != b.nrows() {
            panic!(
                "matrix product: shapes {:?} and {:?} do not fit",
                a.shape(),
                b.shape()
            );
        }
        let mut c =
            crate::buffers::matrix(a.shape_generic().0, b.shape_generic().1, Fill::Overwritten);
        gemm_into(&mut c, T::one(), a, Op::Plain, b, Op::Plain, T::zero());
        c
    }
    #[inline]
    #[track_caller]
    fn pullback_lhs(
        d_a: &mut Option<Self>,
        d_c: Seed<'_, OMatrix<T, R1, C2>>,
        b: &OMatrix<T, R2, C2>,
    ) {
        if let Some(g) = d_c.get() {
            let shape = (g.shape_generic().0, C1::from_usize(b.nrows()));
            gemm_accumulate(d_a, shape, g, Op::Plain, b, Op::Transposed);
        }
        d_c.done();
    }
    #[inline]
    #[track_caller]
    fn pullback_rhs(
        d_b: &mut Option<OMatrix<T, R2, C2>>,
        d_c: Seed<'_, OMatrix<T, R1, C2>>,
        a: &Self,
    ) {
        if let Some(g) = d_c.get() {
            let shape = (R2::from_usize(a.ncols()), g.shape_generic().1);
            gemm_accumulate(d_b, shape, a, Op::Transposed, g, Op::Plain);
        }
        d_c.done();
    }
}

/// `a * b`, differentiated according to the operand types.
#[inline]
#[track_caller]
pub fn mul<A: MulRule<B>, B>(a: &A, b: &B) -> (A::Output, A::Handle) {
    (A::mul(a, b), A::handle())
}

impl<A: MulRule<B>, B> Mul<A, B> {
    /// Pullback of `a * b` to `a`; reads `b`.
    #[inline]
    #[track_caller]
    pub fn lhs<'s>(
        &self,
        d_a: &mut Option<A>,
        seed: impl Into<Seed<'s, A::Output>>,
        Operand(b): Operand<1, &B>,
    ) where
        A::Output: 's,
    {
        A::pullback_lhs(d_a, seed.into(), b);
    }
    /// Pullback of `a * b` to `b`; reads `a`.
    #[inline]
    #[track_caller]
    pub fn rhs<'s>(
        &self,
        d_b: &mut Option<B>,
        seed: impl Into<Seed<'s, A::Output>>,
        Operand(a): Operand<0, &A>,
    ) where
        A::Output: 's,
    {
        A::pullback_rhs(d_b, seed.into(), a);
    }
}

// ---------------------------------------------------------------------------------------- /

/// `a / b`: scalar by scalar, matrix by scalar.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `{Self} / {B}`",
    label = "no rule for these operand types",
    note = "`/` is differentiated for scalar / scalar and matrix / scalar; divide matrices \
            elementwise with `.component_div(&b)`"
)]
pub trait DivRule<B>: Value {
    /// The pullback handle (a projection, so that a missing rule is one error, not a cascade).
    type Handle;
    /// The handle of this operation.
    fn handle() -> Self::Handle;
    /// `a / b`.
    fn div(a: &Self, b: &B) -> Self;
    /// `d_a += d_c / b`.
    fn pullback_lhs(d_a: &mut Option<Self>, d_c: Seed<'_, Self>, b: &B);
    /// `d_b -= Σ d_c ⊙ a / b²`.
    fn pullback_rhs(d_b: &mut Option<B>, d_c: Seed<'_, Self>, a: &Self, b: &B);
}

/// Scalar division, implemented per scalar type rather than for every `T: Real`, so that a
/// matrix divided by a matrix matches no implementation at all and is reported as one
/// missing rule (a blanket impl would be picked and fail later, in every pullback).
macro_rules! scalar_div {
    ($t:ty) => {
        impl DivRule<$t> for $t {
            type Handle = Div<Self, $t>;
            #[inline]
            fn handle() -> Self::Handle {
                Div(PhantomData)
            }
            #[inline]
            fn div(a: &$t, b: &$t) -> $t {
                *a / *b
            }
            #[inline]
            fn pullback_lhs(d_a: &mut Option<$t>, d_c: Seed<'_, $t>, b: &$t) {
                if let Some(g) = d_c.get() {
                    accumulate(d_a, *g / *b);
                }
                d_c.done();
            }
            #[inline]
            fn pullback_rhs(d_b: &mut Option<$t>, d_c: Seed<'_, $t>, a: &$t, b: &$t) {
                if let Some(g) = d_c.get() {
                    accumulate(d_b, -(*g * *a) / (*b * *b));
                }
                d_c.done();
            }
        }
    };
}
scalar_div!(f64);
scalar_div!(f32);

impl<T: Real + Value<Elem = T>, R: Dim, C: Dim> DivRule<T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Handle = Div<Self, T>;
    #[inline]
    fn handle() -> Self::Handle {
        Div(PhantomData)
    }
    #[inline]
    fn div(a: &Self, b: &T) -> Self {
        a.mapped(|v| v / *b)
    }
    #[inline]
    fn pullback_lhs(d_a: &mut Option<Self>, d_c: Seed<'_, Self>, b: &T) {
        scaled_into(d_a, d_c, T::one() / *b);
    }
    #[inline]
    fn pullback_rhs(d_b: &mut Option<T>, d_c: Seed<'_, Self>, a: &Self, b: &T) {
        if let Some(g) = d_c.get() {
            accumulate(d_b, -g.dot(a) / (*b * *b));
        }
        d_c.done();
    }
}

/// `a / b`, differentiated according to the operand types.
#[inline]
#[track_caller]
pub fn div<A: DivRule<B>, B>(a: &A, b: &B) -> (A, A::Handle) {
    (A::div(a, b), A::handle())
}

impl<A: DivRule<B>, B> Div<A, B> {
    /// Pullback of `a / b` to `a`; reads `b`.
    #[inline]
    pub fn lhs<'s>(
        &self,
        d_a: &mut Option<A>,
        seed: impl Into<Seed<'s, A>>,
        Operand(b): Operand<1, &B>,
    ) where
        A: 's,
    {
        A::pullback_lhs(d_a, seed.into(), b);
    }
    /// Pullback of `a / b` to `b`; reads `a` and `b`.
    #[inline]
    pub fn rhs<'s>(
        &self,
        d_b: &mut Option<B>,
        seed: impl Into<Seed<'s, A>>,
        Operand(a): Operand<0, &A>,
        Operand(b): Operand<1, &B>,
    ) where
        A: 's,
    {
        A::pullback_rhs(d_b, seed.into(), a, b);
    }
}
