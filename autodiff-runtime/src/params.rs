//! Structured parameters: the trait [`Parameters`], a tree whose leaves are scalars and
//! owned nalgebra matrices (a struct of matrices, a `Vec` of layers, …), with what
//! optimizers and gradient checking need written once against it.

use crate::real::Real;
use crate::value::Value;
use nalgebra::{allocator::Allocator, DefaultAllocator, Dim, OMatrix};

/// A tree of differentiable values: `f32`, `f64`, an owned nalgebra matrix or vector
/// (`DMatrix`, `DVector`, `RowDVector`, `SMatrix`, `SVector`, …), a `Vec` of parameters, or a
/// struct with `#[derive(Parameters)]` whose fields are parameters. Its gradient has the same
/// type and structure; optimizers ([`crate::optim`]) and gradient checking
/// ([`crate::gradcheck::GradCheck::wrt_params`]) accept any of them.
///
/// The leaves are the scalars and matrices in the tree, always visited in the same order
/// (fields in declaration order, `Vec` elements in index order); a matrix's elements are in
/// column-major order. The method names are not nalgebra's, so bringing the trait into scope
/// changes no method call on a matrix.
///
/// ```
/// use autodiff_runtime::Parameters;
/// use nalgebra::{DMatrix, RowDVector};
///
/// #[derive(Parameters, Clone, Debug, PartialEq)]
/// #[parameters(crate = autodiff_runtime)] // not needed with `autodiff::prelude::*`
/// struct Layer {
///     w: DMatrix<f64>,
///     b: RowDVector<f64>,
///     #[parameters(skip)]
///     name: String,
/// }
///
/// let mut p = Layer { w: DMatrix::from_element(2, 3, 1.0), b: RowDVector::zeros(3),
///                     name: "hidden".into() };
/// let g = p.zeros_like();              // zeros of the same shapes; `name` copied
/// assert_eq!((g.w.shape(), g.name.as_str()), ((2, 3), "hidden"));
/// assert_eq!(p.scalar_count(), 9);
/// let mut step = g.clone();
/// step.w[(0, 0)] = 2.0;
/// p.add_scaled(-0.5, &step);           // p ← p − 0.5·step
/// assert_eq!(p.w[(0, 0)], 0.0);
/// let mut lengths = Vec::new();
/// p.for_each_leaf(&mut |leaf| lengths.push(leaf.len()));
/// assert_eq!(lengths, [6, 3]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a structure of differentiable parameters",
    label = "not a scalar, an owned nalgebra matrix, a `Vec` of those or a `#[derive(Parameters)]` struct",
    note = "derive it: `#[derive(Parameters, Clone, Debug, PartialEq)]` on a struct whose fields \
            are scalars, matrices, `Vec`s of those or other such structs"
)]
pub trait Parameters: Clone {
    /// The scalar type of every leaf.
    type Scalar: Real;

    /// A value of the same structure and shapes, every scalar zero (skipped fields of a
    /// derived struct are copied as they are).
    fn zeros_like(&self) -> Self;
    /// The cheapest value of the type (zero, a matrix whose dynamic dimensions are 0, an
    /// empty `Vec`): what a gradient holds in a field about to be assigned.
    #[doc(hidden)]
    fn placeholder_like(&self) -> Self {
        self.zeros_like()
    }
    /// Replaces what is still a placeholder (a value of the wrong shape, left by a reverse
    /// sweep for an element no derivative reached) with zeros of `like`'s shape.
    #[doc(hidden)]
    fn fill_placeholders(&mut self, like: &Self) {
        let _ = like;
    }
    /// [`Parameters::zeros_like`], but the fields named in `taken` (of a derived struct)
    /// hold placeholders: the generated reverse sweep assigns them next.
    #[doc(hidden)]
    fn zeros_except(&self, taken: &[&str]) -> Self {
        let _ = taken;
        self.zeros_like()
    }
    /// `self ← self + alpha·g`, leaf by leaf. Panics when a shape or a length differs.
    fn add_scaled(&mut self, alpha: Self::Scalar, g: &Self);
    /// The number of scalars in all the leaves.
    fn scalar_count(&self) -> usize;
    /// Calls `f` with each leaf's elements, in the order of the leaves.
    fn for_each_leaf(&self, f: &mut dyn FnMut(&[Self::Scalar]));
    /// Calls `f` with each leaf's elements, mutably.
    fn for_each_leaf_mut(&mut self, f: &mut dyn FnMut(&mut [Self::Scalar]));
    /// Calls `f` with each leaf of `self`, mutably, beside the same leaf of `other`. Panics
    /// when a shape or a length differs.
    fn zip_leaves_mut(&mut self, other: &Self, f: &mut ZipLeaves<'_, Self::Scalar>);
    /// Gives every leaf's storage back to the pool of [`crate::buffers`], for the next
    /// gradient to reuse (what a training loop does with a gradient once the optimizer has
    /// read it); scalars and static matrices are simply dropped.
    fn give_back(self)
    where
        Self: Sized,
    {
    }
    /// Calls `f` with each leaf's path below `path` (`.w1`, `.layers[2].b`; `path` itself
    /// for a leaf) and its `(rows, columns)`, in the order of the leaves: for reports.
    fn describe_leaves(&self, path: &mut String, f: &mut dyn FnMut(&str, (usize, usize)));
}

/// What [`Parameters::zip_leaves_mut`] calls with each leaf and its counterpart.
pub type ZipLeaves<'f, S> = dyn FnMut(&mut [S], &[S]) + 'f;

/// Panics with both shapes when two leaves differ.
#[track_caller]
fn assert_same_dims(a: (usize, usize), b: (usize, usize)) {
    assert!(
        a == b,
        "parameters of different shapes: {a:?} and {b:?} (a gradient of another structure?)"
    );
}

macro_rules! scalar_parameters {
    ($t:ty) => {
        impl Parameters for $t {
            type Scalar = $t;
            #[inline]
            fn zeros_like(&self) -> Self {
                0.0
            }
            #[inline]
            fn add_scaled(&mut self, alpha: $t, g: &Self) {
                *self += alpha * *g;
            }
            #[inline]
            fn scalar_count(&self) -> usize {
                1
            }
            fn for_each_leaf(&self, f: &mut dyn FnMut(&[$t])) {
                f(core::slice::from_ref(self))
            }
            fn for_each_leaf_mut(&mut self, f: &mut dyn FnMut(&mut [$t])) {
                f(core::slice::from_mut(self))
            }
            fn zip_leaves_mut(&mut self, other: &Self, f: &mut ZipLeaves<'_, $t>) {
                f(core::slice::from_mut(self), core::slice::from_ref(other))
            }
            fn describe_leaves(&self, path: &mut String, f: &mut dyn FnMut(&str, (usize, usize))) {
                f(path, (1, 1))
            }
        }
    };
}

scalar_parameters!(f32);
scalar_parameters!(f64);

impl<T: Real, R: Dim, C: Dim> Parameters for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Scalar = T;
    fn zeros_like(&self) -> Self {
        // From the pool, as every gradient the generated code makes.
        <Self as Value>::zeros(self.shape_generic())
    }
    fn give_back(self) {
        <Self as Value>::recycle(self)
    }
    fn placeholder_like(&self) -> Self {
        <Self as crate::value::Value>::placeholder()
    }
    fn fill_placeholders(&mut self, like: &Self) {
        if self.shape() != like.shape() {
            *self = like.zeros_like();
        }
    }
    #[track_caller]
    fn add_scaled(&mut self, alpha: T, g: &Self) {
        assert_same_dims(self.shape(), g.shape());
        for (p, g) in self.as_mut_slice().iter_mut().zip(g.as_slice()) {
            *p += alpha * *g;
        }
    }
    fn scalar_count(&self) -> usize {
        self.len()
    }
    fn for_each_leaf(&self, f: &mut dyn FnMut(&[T])) {
        f(self.as_slice())
    }
    fn for_each_leaf_mut(&mut self, f: &mut dyn FnMut(&mut [T])) {
        f(self.as_mut_slice())
    }
    #[track_caller]
    fn zip_leaves_mut(&mut self, other: &Self, f: &mut ZipLeaves<'_, T>) {
        assert_same_dims(self.shape(), other.shape());
        f(self.as_mut_slice(), other.as_slice())
    }
    fn describe_leaves(&self, path: &mut String, f: &mut dyn FnMut(&str, (usize, usize))) {
        f(path, self.shape())
    }
}

/// A `Vec` of parameters is their concatenation, element by element.
impl<P: Parameters> Parameters for Vec<P> {
    type Scalar = P::Scalar;
    fn zeros_like(&self) -> Self {
        self.iter().map(P::zeros_like).collect()
    }
    fn placeholder_like(&self) -> Self {
        Vec::new()
    }
    fn fill_placeholders(&mut self, like: &Self) {
        if self.len() != like.len() {
            *self = like.zeros_like();
        } else {
            self.iter_mut()
                .zip(like)
                .for_each(|(p, like)| p.fill_placeholders(like));
        }
    }
    fn give_back(self) {
        self.into_iter().for_each(P::give_back);
    }
    #[track_caller]
    fn add_scaled(&mut self, alpha: P::Scalar, g: &Self) {
        assert_same_len(self.len(), g.len());
        for (p, g) in self.iter_mut().zip(g) {
            p.add_scaled(alpha, g);
        }
    }
    fn scalar_count(&self) -> usize {
        self.iter().map(P::scalar_count).sum()
    }
    fn for_each_leaf(&self, f: &mut dyn FnMut(&[P::Scalar])) {
        for p in self {
            p.for_each_leaf(f);
        }
    }
    fn for_each_leaf_mut(&mut self, f: &mut dyn FnMut(&mut [P::Scalar])) {
        for p in self {
            p.for_each_leaf_mut(f);
        }
    }
    #[track_caller]
    fn zip_leaves_mut(&mut self, other: &Self, f: &mut ZipLeaves<'_, P::Scalar>) {
        assert_same_len(self.len(), other.len());
        for (p, o) in self.iter_mut().zip(other) {
            p.zip_leaves_mut(o, f);
        }
    }
    fn describe_leaves(&self, path: &mut String, f: &mut dyn FnMut(&str, (usize, usize))) {
        for (i, p) in self.iter().enumerate() {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            p.describe_leaves(path, f);
            path.truncate(len);
        }
    }
}

/// Panics with both lengths when two `Vec`s of parameters differ.
#[track_caller]
fn assert_same_len(a: usize, b: usize) {
    assert!(
        a == b,
        "parameters of different lengths: {a} and {b} (a gradient of another structure?)"
    );
}

/// `path.field`, for [`Parameters::describe_leaves`] of a derived struct.
#[doc(hidden)]
pub fn describe_field<P: Parameters>(
    field: &P,
    name: &str,
    path: &mut String,
    f: &mut dyn FnMut(&str, (usize, usize)),
) {
    let len = path.len();
    path.push('.');
    path.push_str(name);
    field.describe_leaves(path, f);
    path.truncate(len);
}
