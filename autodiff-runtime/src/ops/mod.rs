//! The primitive operations: each rule's value and pullbacks, written once, generic over the
//! scalar, and resolved per type combination by rustc's trait system.

use crate::value::{Input, Value};

/// `x` with `f` applied to every element, in `x`'s own buffer when it was moved in: the
/// value of every elementwise rule.
#[inline]
pub(crate) fn map_elems<X: Value, I: Input<X>>(x: I, f: impl FnMut(X::Elem) -> X::Elem) -> X {
    if I::OWNED {
        let mut y = x.into_buffer();
        y.apply_elems(f);
        y
    } else {
        x.get().mapped(f)
    }
}

/// Defines a unary elementwise rule on any `X: Value` with elements `T`: its zero-sized
/// handle, its forward function and its one pullback `arg(d_x, seed, read)`, where `read` is
/// the operand, `Operand::<0>(x)`, or the result, `Output(y)` (see [`reads`]). The value and
/// derivative expressions are written for one element of type `T`.
macro_rules! unary_rule {
    (
        $(#[$doc:meta])*
        $name:ident, $Handle:ident,
        value: |$v:ident| $value:expr,
        pullback reads $Read:ident $(::<$index:literal>)? ($read:ident):
            |$g:ident, $r:ident| $grad:expr $(,)?
    ) => {
        #[doc = concat!("The pullback handle of `", stringify!($name), "(x)`.")]
        pub struct $Handle<X>(core::marker::PhantomData<fn(&X)>);

        $(#[$doc])*
        #[inline]
        pub fn $name<T, X>(x: impl $crate::value::Input<X>) -> (X, $Handle<X>)
        where
            T: $crate::real::Real,
            X: $crate::value::Value<Elem = T>,
        {
            ($crate::ops::map_elems(x, |$v: T| $value), $Handle(core::marker::PhantomData))
        }

        impl<T: $crate::real::Real, X: $crate::value::Value<Elem = T>> $Handle<X> {
            #[doc = concat!(
                "Pullback of `", stringify!($name), "(x)` to `x`; reads `", stringify!($read), "` (`",
                stringify!($Read), "`)."
            )]
            #[inline]
            #[track_caller]
            pub fn arg<'s>(
                &self,
                d_x: &mut Option<X>,
                seed: impl Into<$crate::ops::adjoint::Seed<'s, X>>,
                $crate::ops::reads::$Read($read): $crate::ops::reads::$Read<$($index,)? &X>,
            ) where
                X: 's,
            {
                $crate::ops::adjoint::accumulate_elementwise(
                    d_x,
                    seed.into(),
                    $read,
                    |$g: T, $r: T| $grad,
                );
            }
        }
    };
}

pub mod activation;
pub mod adjoint;
pub mod arith;
pub mod axis;
pub mod binary;
pub mod cholesky;
pub mod exp;
pub mod exp_tangent;
pub mod extremes;
pub mod inverse;
pub mod items;
pub mod kronecker;
pub mod loss;
pub mod map;
pub mod matrix;
pub mod parts;
pub mod reads;
pub mod reduce;
pub mod skipped;
pub mod softmax;
pub mod tangent;
pub mod unary;
pub mod writes;
