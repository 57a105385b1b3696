//! What the reverse sweep needs from the forward sweep, as the reverse sweep's generation
//! records it and the forward sweep's generation reads it: the bindings the tape keeps, and
//! the reverse sweeps of `map` closures, which their forward code embeds.

use crate::ir::VarId;
use proc_macro2::TokenStream;
use std::collections::{HashMap, HashSet};

/// What the reverse sweep of a body needs from the forward sweep.
#[derive(Default)]
pub struct Needs {
    /// Every binding the reverse sweep reads.
    pub reads: HashSet<VarId>,
    /// For each `if` (by its record): the branch-local bindings each branch saves.
    pub saved: HashMap<VarId, (Vec<VarId>, Vec<VarId>)>,
    /// For each loop (by its record): the values of an iteration its reverse reads, which the
    /// forward sweep pushes to the record at the end of each iteration.
    pub iterations: HashMap<VarId, Vec<VarId>>,
    /// Adjoint slots that always hold a value when the sweep ends.
    pub reached: HashSet<VarId>,
}

/// The reverse sweep of an active `map` closure, with what its forward code must save.
pub struct ClosureSweep {
    /// The closure's inputs: its element (for the receiver) and the captured values.
    pub inputs: Vec<VarId>,
    pub sweep: TokenStream,
    pub needs: Needs,
}

/// The sweep of every active `map` closure of a body, by the closure's result.
pub type ClosureSweeps = HashMap<VarId, ClosureSweep>;
