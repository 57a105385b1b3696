//! The primitive operations: each rule's value and pullbacks, written once, generic over the
//! scalar, and resolved per type combination by rustc's trait system.

pub mod adjoint;
pub mod arith;
