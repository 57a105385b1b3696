//! Elementwise activation functions (`relu`, `leaky_relu`, `elu`, `sigmoid`, `square`) on
//! scalars and matrices: each rule's value and pullback, with the derivative conventions at
//! the kinks.
//!
//! The public functions of the same names in [`crate::functions`] call these forwards, so
//! ordinary code and differentiated code compute the same values.

use super::adjoint::{accumulate_elementwise, Seed};
use super::map_elems;
use super::reads::{Const, Operand};
use crate::buffers::Bits;
use crate::real::Real;
use crate::value::{assert_same_shape, Input, Value};
use core::marker::PhantomData;

/// The pullback handle of `relu(x)`: which elements of `x` were positive, one bit each, so
/// that the reverse sweep needs neither `x` nor the result.
pub struct Relu<X> {
    positive: Bits,
    value: PhantomData<fn(&X)>,
}

/// `y = max(0, x)`, elementwise (NaN stays NaN). Derivative `1` for `x > 0`, `0` for
/// `x ≤ 0` (including the kink at `0`, and NaN).
#[inline]
pub fn relu<T: Real, X: Value<Elem = T>>(x: impl Input<X>) -> (X, Relu<X>) {
    let mut y = x.into_buffer();
    let mut positive = Bits::zeros(y.count_elems());
    // 64 elements to a word of the sign pattern: whole words in a loop of constant length,
    // which the compiler unrolls and vectorises, then the last, partial word.
    let (words, elems) = (positive.words_mut(), y.elems_mut());
    crate::simd::dispatch(
        #[inline(always)]
        || {
            let mut chunks = elems.chunks_exact_mut(64);
            for (word, chunk) in words.iter_mut().zip(&mut chunks) {
                *word = relu_word(chunk);
            }
            let rest = chunks.into_remainder();
            if let Some(last) = words.last_mut().filter(|_| !rest.is_empty()) {
                *last = relu_word(rest);
            }
        },
    );
    let handle = Relu {
        positive,
        value: PhantomData,
    };
    (y, handle)
}

/// `relu` of up to 64 elements in place, and which of them were positive, as the bits of a
/// word.
#[inline(always)]
fn relu_word<T: Real>(chunk: &mut [T]) -> u64 {
    let mut bits = 0u64;
    for (k, v) in chunk.iter_mut().enumerate() {
        bits |= u64::from(*v > T::zero()) << k;
        *v = relu_value(*v);
    }
    bits
}

/// Sets to zero the elements of a chunk of up to 64 whose bit in `word` is clear.
#[inline(always)]
fn keep_word<T: Real>(chunk: &mut [T], word: u64) {
    for (k, g) in chunk.iter_mut().enumerate() {
        if word >> k & 1 == 0 {
            *g = T::zero();
        }
    }
}

/// Adds into `acc` the elements of `g` whose bit in `word` is set (chunks of up to 64).
#[inline(always)]
fn add_word<T: Real>(acc: &mut [T], g: &[T], word: u64) {
    for (k, (a, g)) in acc.iter_mut().zip(g).enumerate() {
        if word >> k & 1 == 1 {
            *a += *g;
        }
    }
}

impl<T: Real, X: Value<Elem = T>> Relu<X> {
    /// Pullback of `relu(x)` to `x`: the seed where `x` was positive, zero elsewhere.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(&self, d_x: &mut Option<X>, seed: impl Into<Seed<'s, X>>)
    where
        X: 's,
    {
        let words = self.positive.words();
        let n = self.positive.len();
        match (d_x.as_mut(), seed.into()) {
            (_, Seed::Zero) => {}
            (None, seed) => {
                if let Some(mut g) = seed.into_owned() {
                    assert_same_shape("relu", g.count_elems(), n);
                    let elems = g.elems_mut();
                    crate::simd::dispatch(
                        #[inline(always)]
                        || {
                            let mut chunks = elems.chunks_exact_mut(64);
                            for (chunk, word) in (&mut chunks).zip(words) {
                                keep_word(chunk, *word);
                            }
                            let rest = chunks.into_remainder();
                            if let Some(word) = words.last().filter(|_| !rest.is_empty()) {
                                keep_word(rest, *word);
                            }
                        },
                    );
                    *d_x = Some(g);
                }
            }
            (Some(acc), seed) => {
                if let Some(g) = seed.get() {
                    assert_same_shape("relu", g.count_elems(), n);
                    assert_same_shape("relu", acc.count_elems(), n);
                    let chunks = acc.elems_mut().chunks_mut(64).zip(g.elems().chunks(64));
                    for ((acc, g), word) in chunks.zip(words) {
                        add_word(acc, g, *word);
                    }
                }
                seed.done();
            }
        }
    }
}

unary_rule! {
    /// `y = 1 / (1 + e⁻ˣ)`, elementwise, evaluated as `eˣ / (1 + eˣ)` for `x < 0` so that
    /// no exponential overflows: finite (`0` or `1`) even at `x = ±1000`. Derivative
    /// `y·(1 − y)`.
    sigmoid, Sigmoid,
    value: |v| sigmoid_value(v),
    pullback reads Output(y): |g, y| g * y * (T::one() - y),
}

unary_rule! {
    /// `y = x²`, elementwise. Derivative `2x`.
    square, Square,
    value: |v| v * v,
    pullback reads Operand::<0>(x): |g, x| g * (x + x),
}

#[inline]
fn relu_value<T: Real>(v: T) -> T {
    // NaN fails `v <= 0` and passes through unchanged.
    if v <= T::zero() {
        T::zero()
    } else {
        v
    }
}

#[inline]
fn sigmoid_value<T: Real>(v: T) -> T {
    // Stable without a branch: for very negative v, e^-v overflows to +∞ and the quotient is
    // exactly 0; for very positive v, e^-v underflows to 0 and the quotient is 1.
    T::one() / (T::one() + (-v).exp())
}

/// The pullback handle of `leaky_relu(x, alpha)`.
pub struct LeakyRelu<X>(PhantomData<fn(&X)>);

/// `y = x` for `x > 0`, `alpha·x` for `x ≤ 0`, elementwise, with a constant slope `alpha`.
/// Derivative `1` for `x > 0`, `alpha` for `x ≤ 0` (including the kink at `0`).
#[inline]
pub fn leaky_relu<T: Real, X: Value<Elem = T>>(x: impl Input<X>, alpha: T) -> (X, LeakyRelu<X>) {
    let value = map_elems(x, |v| if v > T::zero() { v } else { alpha * v });
    (value, LeakyRelu(PhantomData))
}

impl<T: Real, X: Value<Elem = T>> LeakyRelu<X> {
    /// Pullback of `leaky_relu(x, alpha)` to `x`; reads `x` and `alpha`.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_x: &mut Option<X>,
        seed: impl Into<Seed<'s, X>>,
        Operand(x): Operand<0, &X>,
        Const(alpha): Const<0, T>,
    ) where
        X: 's,
    {
        accumulate_elementwise(d_x, seed.into(), x, |g, x| {
            if x > T::zero() {
                g
            } else {
                alpha * g
            }
        });
    }
}

/// The pullback handle of `elu(x, alpha)`.
pub struct Elu<X>(PhantomData<fn(&X)>);

/// `y = x` for `x > 0`, `alpha·(eˣ − 1)` for `x ≤ 0` (computed with `exp_m1`), elementwise,
/// with a constant `alpha`. Derivative `1` for `x > 0`, `alpha·eˣ` for `x ≤ 0`.
#[inline]
pub fn elu<T: Real, X: Value<Elem = T>>(x: impl Input<X>, alpha: T) -> (X, Elu<X>) {
    let value = map_elems(x, |v| if v > T::zero() { v } else { alpha * v.exp_m1() });
    (value, Elu(PhantomData))
}

impl<T: Real, X: Value<Elem = T>> Elu<X> {
    /// Pullback of `elu(x, alpha)` to `x`; reads `x` and `alpha`.
    #[inline]
    #[track_caller]
    pub fn arg<'s>(
        &self,
        d_x: &mut Option<X>,
        seed: impl Into<Seed<'s, X>>,
        Operand(x): Operand<0, &X>,
        Const(alpha): Const<0, T>,
    ) where
        X: 's,
    {
        accumulate_elementwise(d_x, seed.into(), x, |g, x| {
            if x > T::zero() {
                g
            } else {
                g * alpha * x.exp()
            }
        });
    }
}
