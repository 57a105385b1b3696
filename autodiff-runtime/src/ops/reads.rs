//! What a pullback reads, said by the types of its parameters: one source of truth shared by
//! every rule and the macro that calls it.
//!
//! A pullback method takes, besides the adjoint slot of an operand and the seed, the values
//! its derivative formula needs: an operand, the operation's result, or a constant argument.
//! The macro's table of operations says which of them it passes, and in which order. Were
//! they plain references, a table entry that disagreed with the rule (the result passed
//! where the rule reads its operand, both a `&X`) would compile and give a wrong gradient
//! without a word. So each read comes in a wrapper that names what it is:
//!
//! - [`Operand<I, _>`](Operand): the operand at position `I` (`0` for `x` in `x.tan()` and for
//!   `a` in `a * b`, `1` for `b`);
//! - [`Output<_>`](Output): the result of the operation;
//! - [`Const<I, _>`](Const): the constant argument at position `I` after the operands (`n`
//!   in `x.powi(n)`, `alpha` in `leaky_relu(x, alpha)`).
//!
//! The rule states its reads once, in its signature (`Output(y): Output<&X>`), and the
//! generated code states the table's (`h.arg(&mut d_x, seed, Output(&y))`, with the index
//! written out for operands and constants: `Operand::<0, _>(&x)`). When the two differ, the
//! call is a type error: `expected Output<&f64>, found Operand<0, &f64>`.
//!
//! The wrappers are `#[repr(transparent)]` newtypes of what they hold: passing one costs
//! what passing the bare value costs.
//!
//! (Why wrappers rather than generating the table from the rules: the macro crate cannot
//! depend on the runtime, and rustc, which knows both, checks types for free. The forward's
//! side needs no wrapper: a rule marked as taking its first operand by value whose forward
//! takes `&X` is an error already, an owned value where a reference is expected; the
//! converse only keeps a buffer from being reused.)

/// The operand at position `I` of an operation, as one of its pullbacks reads it (`I = 0`
/// for the only operand of a unary operation and for the left one of a binary operation).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(transparent)]
pub struct Operand<const I: usize, T>(pub T);

/// The result of an operation, as one of its pullbacks reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(transparent)]
pub struct Output<T>(pub T);

/// The constant argument at position `I` after an operation's operands, as one of its
/// pullbacks reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(transparent)]
pub struct Const<const I: usize, T>(pub T);
