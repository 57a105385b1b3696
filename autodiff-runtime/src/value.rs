//! What a differentiable value is: a scalar or an owned nalgebra matrix, with the few
//! operations every rule needs (its shape, zeros of a shape, elementwise traversal).

use crate::real::Real;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// A value that has an adjoint of its own type and shape: `f32`, `f64`, or an owned
/// nalgebra matrix or vector (`DMatrix`, `DVector`, `RowDVector`, `SMatrix`, `SVector`, …).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a differentiable value",
    label = "not a scalar or an owned nalgebra matrix",
    note = "differentiable values are `f32`, `f64` and owned nalgebra matrices and vectors; \
            convert views with `.clone_owned()`"
)]
pub trait Value: Clone {
    /// The scalar type of the elements.
    type Elem: Real;
    /// What is needed to make zeros of the same shape: `()` for scalars and static
    /// matrices, the dimensions for dynamic ones.
    type Shape: Copy + core::fmt::Debug + PartialEq;

    /// The shape of this value.
    fn shape(&self) -> Self::Shape;
    /// The numbers of rows and columns, for messages: `(1, 1)` for a scalar.
    fn dims(&self) -> (usize, usize);
    /// A value of the given shape filled with zeros.
    fn zeros(shape: Self::Shape) -> Self;
    /// The cheapest value of the type: zero, or a matrix with every dynamic dimension 0. What
    /// a differentiated function returns for a gradient its caller did not ask for.
    fn placeholder() -> Self;
    /// `self += other`, elementwise. Panics with both shapes if they differ.
    fn add_assign_ref(&mut self, other: &Self);
    /// A new value with `f` applied to every element.
    fn mapped(&self, f: impl FnMut(Self::Elem) -> Self::Elem) -> Self;
    /// A copy in reused storage (see [`crate::buffers`]): what rules use instead of `clone`.
    fn copied(&self) -> Self;
    /// Gives the value's storage back to the pool of [`crate::buffers`]; scalars and static
    /// matrices are simply dropped.
    fn recycle(self);
    /// `self[i] = f(self[i])` for every element.
    fn apply_elems(&mut self, f: impl FnMut(Self::Elem) -> Self::Elem);
    /// `self[i] = f(self[i], other[i])` for every element. Panics with both shapes if they differ.
    fn zip_apply_elems(
        &mut self,
        other: &Self,
        f: impl FnMut(Self::Elem, Self::Elem) -> Self::Elem,
    );
    /// `self[i] = f(self[i], a[i], b[i])` for every element. Panics with the shapes if they differ.
    fn zip2_apply_elems(
        &mut self,
        a: &Self,
        b: &Self,
        f: impl FnMut(Self::Elem, Self::Elem, Self::Elem) -> Self::Elem,
    );
    /// `self[i] = f(self[i], a[i], b[i], c[i])` for every element. Panics with the shapes if
    /// they differ.
    fn zip3_apply_elems(
        &mut self,
        a: &Self,
        b: &Self,
        c: &Self,
        f: impl FnMut(Self::Elem, Self::Elem, Self::Elem, Self::Elem) -> Self::Elem,
    );
    /// The elements, in column-major order for matrices.
    fn elems(&self) -> &[Self::Elem];
    /// The elements, mutably, in column-major order for matrices.
    fn elems_mut(&mut self) -> &mut [Self::Elem];
    /// The sum of the elements.
    fn sum_elems(&self) -> Self::Elem;
    /// The number of elements.
    fn count_elems(&self) -> usize;
    /// The element at linear index `i` (column-major for matrices; only `0` for a scalar).
    /// Panics when `i` is out of range.
    fn elem(&self, i: usize) -> Self::Elem;
    /// Sets the element at linear index `i` (column-major for matrices; only `0` for a
    /// scalar). Panics when `i` is out of range.
    fn set_elem(&mut self, i: usize, v: Self::Elem);
}

/// Panics with a message that names both shapes when `a` and `b` differ.
#[track_caller]
pub fn assert_same_shape<S: PartialEq + core::fmt::Debug>(op: &str, a: S, b: S) {
    if a != b {
        panic!("{op}: shapes {a:?} and {b:?} do not match");
    }
}

macro_rules! scalar_value {
    ($t:ty) => {
        impl Value for $t {
            type Elem = $t;
            type Shape = ();
            #[inline]
            fn shape(&self) {}
            #[inline]
            fn dims(&self) -> (usize, usize) {
                (1, 1)
            }
            #[inline]
            fn zeros((): ()) -> Self {
                0.0
            }
            #[inline]
            fn placeholder() -> Self {
                0.0
            }
            #[inline]
            fn add_assign_ref(&mut self, other: &Self) {
                *self += *other;
            }
            #[inline]
            fn mapped(&self, mut f: impl FnMut($t) -> $t) -> Self {
                f(*self)
            }
            #[inline]
            fn copied(&self) -> Self {
                *self
            }
            #[inline]
            fn recycle(self) {}
            #[inline]
            fn apply_elems(&mut self, mut f: impl FnMut($t) -> $t) {
                *self = f(*self);
            }
            #[inline]
            fn zip_apply_elems(&mut self, other: &Self, mut f: impl FnMut($t, $t) -> $t) {
                *self = f(*self, *other);
            }
            #[inline]
            fn zip2_apply_elems(
                &mut self,
                a: &Self,
                b: &Self,
                mut f: impl FnMut($t, $t, $t) -> $t,
            ) {
                *self = f(*self, *a, *b);
            }
            #[inline]
            fn zip3_apply_elems(
                &mut self,
                a: &Self,
                b: &Self,
                c: &Self,
                mut f: impl FnMut($t, $t, $t, $t) -> $t,
            ) {
                *self = f(*self, *a, *b, *c);
            }
            #[inline]
            fn elems(&self) -> &[$t] {
                core::slice::from_ref(self)
            }
            #[inline]
            fn elems_mut(&mut self) -> &mut [$t] {
                core::slice::from_mut(self)
            }
            #[inline]
            fn sum_elems(&self) -> $t {
                *self
            }
            #[inline]
            fn count_elems(&self) -> usize {
                1
            }
            #[inline]
            #[track_caller]
            fn elem(&self, i: usize) -> $t {
                assert!(i == 0, "index {i} is out of range for a scalar");
                *self
            }
            #[inline]
            #[track_caller]
            fn set_elem(&mut self, i: usize, v: $t) {
                assert!(i == 0, "index {i} is out of range for a scalar");
                *self = v;
            }
        }
    };
}
// The two scalar types are the one place a rule-level impl is written per type: a blanket
// impl over `T: Real` would overlap with the matrix impl below.
scalar_value!(f64);
scalar_value!(f32);

impl<T: Real, R: Dim, C: Dim> Value for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Elem = T;
    type Shape = (R, C);

    #[inline]
    fn shape(&self) -> (R, C) {
        self.shape_generic()
    }
    #[inline]
    fn dims(&self) -> (usize, usize) {
        (self.nrows(), self.ncols())
    }
    #[inline]
    fn zeros((r, c): (R, C)) -> Self {
        crate::buffers::matrix(r, c, crate::buffers::Fill::Zeros)
    }
    #[inline]
    fn placeholder() -> Self {
        let r = R::from_usize(R::try_to_usize().unwrap_or(0));
        let c = C::from_usize(C::try_to_usize().unwrap_or(0));
        OMatrix::zeros_generic(r, c)
    }
    #[inline]
    #[track_caller]
    fn add_assign_ref(&mut self, other: &Self) {
        assert_same_shape("add", self.shape(), other.shape());
        let (elems, other) = (self.as_mut_slice(), other.as_slice());
        crate::simd::dispatch(
            #[inline(always)]
            || elems.iter_mut().zip(other).for_each(|(s, o)| *s += *o),
        );
    }
    #[inline]
    fn mapped(&self, f: impl FnMut(T) -> T) -> Self {
        crate::buffers::map(self, f)
    }
    #[inline]
    fn copied(&self) -> Self {
        crate::buffers::copy(self)
    }
    #[inline]
    fn recycle(self) {
        crate::buffers::give_matrix(self)
    }
    #[inline]
    fn apply_elems(&mut self, mut f: impl FnMut(T) -> T) {
        // Not through `simd::dispatch`: a closure from outside is not inlined into the
        // vectorised copy, which then calls it once per element (measured 20% slower).
        self.as_mut_slice().iter_mut().for_each(|v| *v = f(*v));
    }
    #[inline]
    #[track_caller]
    fn zip_apply_elems(&mut self, other: &Self, mut f: impl FnMut(T, T) -> T) {
        assert_same_shape("elementwise", self.shape(), other.shape());
        for (s, o) in self.as_mut_slice().iter_mut().zip(other.as_slice()) {
            *s = f(*s, *o);
        }
    }
    #[inline]
    #[track_caller]
    fn zip2_apply_elems(&mut self, a: &Self, b: &Self, mut f: impl FnMut(T, T, T) -> T) {
        assert_same_shape("elementwise", self.shape(), a.shape());
        assert_same_shape("elementwise", self.shape(), b.shape());
        for ((s, x), y) in self
            .as_mut_slice()
            .iter_mut()
            .zip(a.as_slice())
            .zip(b.as_slice())
        {
            *s = f(*s, *x, *y);
        }
    }
    #[inline]
    #[track_caller]
    fn zip3_apply_elems(
        &mut self,
        a: &Self,
        b: &Self,
        c: &Self,
        mut f: impl FnMut(T, T, T, T) -> T,
    ) {
        assert_same_shape("elementwise", self.shape(), a.shape());
        assert_same_shape("elementwise", self.shape(), b.shape());
        assert_same_shape("elementwise", self.shape(), c.shape());
        let it = self
            .as_mut_slice()
            .iter_mut()
            .zip(a.as_slice())
            .zip(b.as_slice())
            .zip(c.as_slice());
        for (((s, x), y), z) in it {
            *s = f(*s, *x, *y, *z);
        }
    }
    #[inline]
    fn elems(&self) -> &[T] {
        self.as_slice()
    }
    #[inline]
    fn elems_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
    #[inline]
    fn sum_elems(&self) -> T {
        self.as_slice().iter().fold(T::zero(), |acc, v| acc + *v)
    }
    #[inline]
    fn count_elems(&self) -> usize {
        self.len()
    }
    #[inline]
    #[track_caller]
    fn elem(&self, i: usize) -> T {
        match self.as_slice().get(i) {
            Some(v) => *v,
            None => panic!(
                "index {i} is out of range for a matrix of shape {:?}",
                self.shape()
            ),
        }
    }
    #[inline]
    #[track_caller]
    fn set_elem(&mut self, i: usize, v: T) {
        let shape = self.shape();
        match self.as_mut_slice().get_mut(i) {
            Some(e) => *e = v,
            None => panic!("index {i} is out of range for a matrix of shape {shape:?}"),
        }
    }
}

/// A value or a reference to one: what the public free functions (`relu`, `sigmoid`, …)
/// accept, so that `relu(x)` and `relu(&x)` both work.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a scalar, an owned nalgebra matrix, or a reference to one",
    note = "convert views with `.clone_owned()`"
)]
pub trait Arg {
    /// The owned value behind the argument.
    type Value: Value;
    /// Borrows the value.
    fn value(&self) -> &Self::Value;
}

impl Arg for f64 {
    type Value = f64;
    #[inline]
    fn value(&self) -> &f64 {
        self
    }
}

impl Arg for f32 {
    type Value = f32;
    #[inline]
    fn value(&self) -> &f32 {
        self
    }
}

impl<T: Real, R: Dim, C: Dim> Arg for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Value = Self;
    #[inline]
    fn value(&self) -> &Self {
        self
    }
}

impl<A: Arg + ?Sized> Arg for &A {
    type Value = A::Value;
    #[inline]
    fn value(&self) -> &A::Value {
        (**self).value()
    }
}

/// An operand handed to a rule's forward: borrowed (`&x`), or moved when the generated code
/// knows nothing reads it afterwards, so that the rule computes its result in the operand's
/// buffer instead of allocating a new one.
pub trait Input<X: Value> {
    /// Whether the operand was moved in (its buffer may be overwritten).
    const OWNED: bool;
    /// Borrows the value.
    fn get(&self) -> &X;
    /// The value as an owned buffer the rule may overwrite: moved, or cloned when borrowed.
    fn into_buffer(self) -> X;
}

impl<X: Value> Input<X> for &X {
    const OWNED: bool = false;
    #[inline]
    fn get(&self) -> &X {
        self
    }
    #[inline]
    fn into_buffer(self) -> X {
        self.copied()
    }
}

impl Input<f64> for f64 {
    const OWNED: bool = true;
    #[inline]
    fn get(&self) -> &f64 {
        self
    }
    #[inline]
    fn into_buffer(self) -> f64 {
        self
    }
}

impl Input<f32> for f32 {
    const OWNED: bool = true;
    #[inline]
    fn get(&self) -> &f32 {
        self
    }
    #[inline]
    fn into_buffer(self) -> f32 {
        self
    }
}

impl<T: Real, R: Dim, C: Dim> Input<OMatrix<T, R, C>> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    const OWNED: bool = true;
    #[inline]
    fn get(&self) -> &Self {
        self
    }
    #[inline]
    fn into_buffer(self) -> Self {
        self
    }
}
