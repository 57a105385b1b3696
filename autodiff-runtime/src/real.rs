//! The scalar types the rules are written for: `f32` and `f64`, behind one trait.

use nalgebra::RealField;

/// A real scalar the derivative rules work on: implemented for `f32` and `f64`.
///
/// The trait is local so that rules can be written once for "a scalar" and once for "a
/// matrix of scalars" without the two blanket implementations overlapping.
pub trait Real: RealField + Copy + Default {
    /// Converts a count (a number of rows, of elements) into the scalar type.
    fn from_count(n: usize) -> Self;
}

impl Real for f64 {
    #[inline]
    fn from_count(n: usize) -> Self {
        n as f64
    }
}

impl Real for f32 {
    #[inline]
    fn from_count(n: usize) -> Self {
        n as f32
    }
}
