//! The scalar types the rules are written for: `f32` and `f64`, behind one trait.

use nalgebra::RealField;

/// A real scalar the derivative rules work on: implemented for `f32` and `f64`.
///
/// The trait is local so that rules can be written once for "a scalar" and once for "a
/// matrix of scalars" without the two blanket implementations overlapping.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not `f32` or `f64`, the scalar types of the derivative rules and free functions",
    note = "a function generic over its scalar whose body calls the free functions (`relu`, \
            `sigmoid`, `add_bias`, …) is bound by `RealScalar` (in the prelude) instead of \
            `RealField`: `fn f<T: RealScalar>(m: &DMatrix<T>) -> T`"
)]
pub trait Real: RealField + Copy + Default {
    /// Converts a count (a number of rows, of elements) into the scalar type.
    fn from_count(n: usize) -> Self;
    /// The slice as `f64`s, when the scalar is `f64` (for kernels written per type).
    #[doc(hidden)]
    fn as_f64s(s: &[Self]) -> Option<&[f64]>;
    /// The slice as `f32`s, when the scalar is `f32`.
    #[doc(hidden)]
    fn as_f32s(s: &[Self]) -> Option<&[f32]>;
    /// The slice as `f64`s to write, when the scalar is `f64`.
    #[doc(hidden)]
    fn as_f64s_mut(s: &mut [Self]) -> Option<&mut [f64]>;
    /// The slice as `f32`s to write, when the scalar is `f32`.
    #[doc(hidden)]
    fn as_f32s_mut(s: &mut [Self]) -> Option<&mut [f32]>;
    /// The scalar from an `f64` that came from [`Real::as_f64s`] or [`Real::as_f32s`].
    #[doc(hidden)]
    fn from_f64_exact(v: f64) -> Self;
}

impl Real for f64 {
    #[inline]
    fn from_count(n: usize) -> Self {
        n as f64
    }
    #[inline]
    fn as_f64s(s: &[Self]) -> Option<&[f64]> {
        Some(s)
    }
    #[inline]
    fn as_f32s(_: &[Self]) -> Option<&[f32]> {
        None
    }
    #[inline]
    fn as_f64s_mut(s: &mut [Self]) -> Option<&mut [f64]> {
        Some(s)
    }
    #[inline]
    fn as_f32s_mut(_: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
    #[inline]
    fn from_f64_exact(v: f64) -> Self {
        v
    }
}

impl Real for f32 {
    #[inline]
    fn from_count(n: usize) -> Self {
        n as f32
    }
    #[inline]
    fn as_f64s(_: &[Self]) -> Option<&[f64]> {
        None
    }
    #[inline]
    fn as_f32s(s: &[Self]) -> Option<&[f32]> {
        Some(s)
    }
    #[inline]
    fn as_f64s_mut(_: &mut [Self]) -> Option<&mut [f64]> {
        None
    }
    #[inline]
    fn as_f32s_mut(s: &mut [Self]) -> Option<&mut [f32]> {
        Some(s)
    }
    #[inline]
    fn from_f64_exact(v: f64) -> Self {
        // Only ever an f32 widened to f64 by the kernels: exact.
        v as f32
    }
}
