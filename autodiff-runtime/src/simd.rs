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
