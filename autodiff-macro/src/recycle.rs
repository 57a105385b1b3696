//! Buffer reuse, as one pass over the plan of a function's sweep: each matrix the sweep
//! reads goes back to the runtime's pool right after the last step that reads it, so that
//! the gradients computed after it can reuse its buffer. A value whose last reader is a call
//! to a differentiated function is given to the callee instead, to go back to the pool
//! inside the callee's sweep.

use crate::ir::*;
use crate::plan::*;
use crate::walk::{defined_in, owned_value};
use std::collections::{BTreeSet, HashSet};

/// Adds the give-backs to a function's sweep. `params` are its parameters, `lent` those it
/// receives as `Lent` (a lent parameter the sweep never reads goes back first).
pub fn function(sweep: &mut Sweep, body: &Body, params: &[VarId], lent: &HashSet<VarId>) {
    let mut defined = defined_in(&body.block);
    defined.extend_from_slice(params);
    steps(&mut sweep.steps, body, &defined, lent);
    let read = sweep.steps.read_set();
    let unread: Vec<Step> = params
        .iter()
        .filter(|v| lent.contains(*v) && !read.contains(*v))
        .map(|&v| Step::GiveBack(v))
        .collect();
    sweep.steps.0.splice(0..0, unread);
}

/// The give-backs of one block's steps (`defined`: the values of the block, which it may
/// give back; `lent`: the parameters among them it holds as `Lent`), nested blocks first.
fn steps(steps_of_block: &mut Steps, body: &Body, defined: &[VarId], lent: &HashSet<VarId>) {
    for step in &mut steps_of_block.0 {
        match step {
            Step::Branch(b) => {
                for arm in [&mut b.then_arm, &mut b.else_arm] {
                    let locals = arm.locals.clone();
                    steps(&mut arm.steps, body, &locals, &HashSet::new());
                }
            }
            Step::Iterations(l) => {
                let locals = l.locals.clone();
                steps(&mut l.steps, body, &locals, &HashSet::new());
            }
            _ => {}
        }
    }
    let vars = &body.vars;
    let ours = |v: &VarId| defined.contains(v) && (owned_value(&vars[*v]) || lent.contains(v));
    let mut recycled = HashSet::new();
    // From the sweep's end backwards: the first step met that reads a value is the last one
    // to read it.
    let mut out = Vec::new();
    for mut step in std::mem::take(&mut steps_of_block.0).into_iter().rev() {
        let mut read = BTreeSet::new();
        step.reads(&mut |v| {
            read.insert(v);
        });
        let last: Vec<VarId> = read
            .into_iter()
            .filter(|v| ours(v) && recycled.insert(*v))
            .collect();
        if let Step::Call(call) = &mut step {
            call.given = last
                .iter()
                .copied()
                .filter(|&v| vars[v].active() && givable(call.call, v))
                .collect();
        }
        let given = match &step {
            Step::Call(call) => call.given.clone(),
            _ => Vec::new(),
        };
        for &v in last.iter().rev().filter(|v| !given.contains(v)) {
            out.push(Step::GiveBack(v));
        }
        out.push(step);
    }
    out.reverse();
    steps_of_block.0 = out;
}

/// Whether `call` can be given `v` (rather than lent it) when nothing reads `v` after the
/// call: `v` is an owned value passed once, by one reference (`&h`), and read by nothing
/// else in the call. (An active value goes to a differentiable parameter of the callee, which
/// its reverse sweep takes as a `Lent`: passing it to another is an error of its own.)
fn givable(call: &Call, v: VarId) -> bool {
    let passes = call.args.iter().filter(|a| a.value == Some(v)).count();
    let by_one_ref = call
        .args
        .iter()
        .any(|a| a.value == Some(v) && a.refs == 1 && a.constant.is_none());
    let in_constant = call
        .args
        .iter()
        .filter_map(|a| a.constant.as_ref())
        .any(|c| c.reads.contains(&v));
    passes == 1 && by_one_ref && !in_constant
}
