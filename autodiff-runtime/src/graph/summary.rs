//! What a picture shows of a value: a scalar itself, a matrix by its shape and either its
//! few elements or its smallest, largest and norm.

use crate::real::Real;
use nalgebra::{Dim, Matrix, RawStorage};
use std::fmt;

/// Matrices of at most this many elements are shown element by element.
const FEW: usize = 4;

/// A value as a picture shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum Summary {
    /// A scalar.
    Scalar(f64),
    /// A matrix or vector (not named `Matrix`, which would make rustc spell out
    /// `nalgebra::Matrix` in full in every error message that names the type).
    Dense {
        /// Its number of rows.
        rows: usize,
        /// Its number of columns.
        cols: usize,
        /// Its elements in column-major order when it has at most four, else empty.
        elements: Vec<f64>,
        /// Its smallest element (NaN for an empty matrix).
        min: f64,
        /// Its largest element (NaN for an empty matrix).
        max: f64,
        /// Its Frobenius norm.
        norm: f64,
    },
}

impl Summary {
    /// The scalar, for a scalar value.
    pub fn as_scalar(&self) -> Option<f64> {
        match self {
            Summary::Scalar(v) => Some(*v),
            Summary::Dense { .. } => None,
        }
    }
}

/// A value that can be summarized for a picture: `f32`, `f64` and nalgebra matrices.
pub trait Summarize {
    /// The summary.
    fn summary(&self) -> Summary;
}

impl Summarize for f64 {
    fn summary(&self) -> Summary {
        Summary::Scalar(*self)
    }
}

impl Summarize for f32 {
    fn summary(&self) -> Summary {
        Summary::Scalar(f64::from(*self))
    }
}

impl<T: Real, R: Dim, C: Dim, S: RawStorage<T, R, C>> Summarize for Matrix<T, R, C, S> {
    fn summary(&self) -> Summary {
        let elements: Vec<f64> = self.iter().map(|v| to_f64(*v)).collect();
        // `f64::min(NaN, x)` is `x`: NaN elements are skipped, and an empty matrix gives NaN.
        let min = elements.iter().copied().fold(f64::NAN, f64::min);
        let max = elements.iter().copied().fold(f64::NAN, f64::max);
        let norm = elements.iter().map(|v| v * v).sum::<f64>().sqrt();
        let few = elements.len() <= FEW;
        Summary::Dense {
            rows: self.nrows(),
            cols: self.ncols(),
            elements: if few { elements } else { Vec::new() },
            min,
            max,
            norm,
        }
    }
}

impl<V: Summarize + ?Sized> Summarize for &V {
    fn summary(&self) -> Summary {
        (**self).summary()
    }
}

fn to_f64<T: Real>(v: T) -> f64 {
    nalgebra::try_convert(v).unwrap_or(f64::NAN)
}

/// A number as the slides write it: an integer without decimals, else two decimals, and
/// very large or small magnitudes in scientific notation.
pub(crate) fn number(v: f64) -> String {
    let a = v.abs();
    if v == v.trunc() && a < 1e6 {
        format!("{v:.0}")
    } else if (0.01..1e5).contains(&a) {
        format!("{v:.2}")
    } else {
        format!("{v:.2e}")
    }
}

impl fmt::Display for Summary {
    /// `-0.20`; `3×1 [1, 2, 3]`; `64×100 min -0.9 max 1.2 ‖·‖ 3.4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Summary::Scalar(v) => f.write_str(&number(*v)),
            Summary::Dense {
                rows,
                cols,
                elements,
                min,
                max,
                norm,
            } => {
                write!(f, "{rows}×{cols} ")?;
                if elements.len() == rows * cols {
                    let shown: Vec<String> = elements.iter().map(|v| number(*v)).collect();
                    write!(f, "[{}]", shown.join(", "))
                } else {
                    let (min, max, norm) = (number(*min), number(*max), number(*norm));
                    write!(f, "min {min} max {max} ‖·‖ {norm}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, DVector};

    #[test]
    fn numbers_as_on_the_slides() {
        assert_eq!(number(-12.0), "-12");
        assert_eq!(number(0.7310585786300049), "0.73");
        assert_eq!(number(-0.19661193324148185), "-0.20");
        assert_eq!(number(1.5e-7), "1.50e-7");
    }

    #[test]
    fn small_matrices_show_their_elements_and_large_ones_a_summary() {
        let v = DVector::from_vec(vec![1.0, -2.5, 3.0]);
        assert_eq!(v.summary().to_string(), "3×1 [1, -2.50, 3]");
        let m = DMatrix::from_fn(10, 20, |i, j| i as f64 - j as f64);
        let Summary::Dense { min, max, norm, .. } = m.summary() else {
            panic!("a matrix summarizes as a matrix")
        };
        assert_eq!((min, max), (-19.0, 9.0));
        assert_eq!(norm, m.norm());
        assert!(m
            .summary()
            .to_string()
            .starts_with("10×20 min -19 max 9 ‖·‖ "));
    }
}
