//! Loops compiled for the processor at hand: the rules' elementwise loops run inside
//! [`dispatch`], which picks AVX-512, AVX2 or the x86-64 baseline at run time (with `pulp`),
//! so that the compiler vectorises them for the widest registers there are.

/// Runs `f` compiled with the widest instruction set the processor supports. `f` should be
/// `#[inline(always)]` (on the closure) with its loops in functions that are too; a closure
/// handed in from a caller is not inlined into the vectorised copy (it is then called once
/// per element, slower than the plain loop), so only self-contained loops go through here.
#[inline(always)]
pub(crate) fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

mod tanh;

/// Replaces every element by its hyperbolic tangent, vectorised: within 3 ulp of the
/// standard library's `tanh`, which is a call per element. A single element (a scalar) is
/// left to the standard library, so a scalar `x.tanh()` and its rule agree bit for bit.
#[inline]
pub(crate) fn tanh_in_place<T: crate::Real>(elems: &mut [T]) {
    if elems.len() <= 1 {
        elems.iter_mut().for_each(|v| *v = v.tanh());
    } else if let Some(elems) = T::as_f64s_mut(elems) {
        tanh::tanh_f64(elems);
    } else if let Some(elems) = T::as_f32s_mut(elems) {
        tanh::tanh_f32(elems);
    } else {
        elems.iter_mut().for_each(|v| *v = v.tanh());
    }
}
