//! Buffer reuse, in one place. In the reverse sweep, a pass over the plan: each matrix the
//! sweep reads goes back to the runtime's pool right after the last step that reads it, so
//! that the gradients computed after it can reuse its buffer (a value whose last reader is a
//! call to a differentiated function is given to the callee instead, to go back to the pool
//! inside the callee's sweep). In the forward sweep, [`Moves`]: a value moves into what reads
//! it last, is copied when something reads it afterwards, and goes back to the pool when
//! nothing does.

use crate::analyse::LastUse;
use crate::ir::*;
use crate::plan::*;
use crate::walk::{defined_in, loop_locals, owned_value};
use std::collections::{BTreeSet, HashMap, HashSet};

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

// ------------------------------------------------------------------------- forward sweep

/// Decides the moves of the function's forward sweep (and of its `map` closures').
pub fn forward(
    body: &Body,
    tape: &Tape,
    closures: &HashMap<VarId, ClosurePlan>,
    params: &[VarId],
) -> Moves {
    let mut moves = Moves::default();
    let mut pass = MovePass::new(body, tape, closures, &body.block, &body.result);
    pass.block(&body.block, &mut moves);
    let mut candidates = defined_in(&body.block);
    candidates.extend_from_slice(params);
    moves.leftovers = pass.unused(candidates, body.result.var());
    pass.finish_loops(&mut moves);
    moves
}

/// One forward sweep: the function's, or a `map` closure's body.
struct MovePass<'a> {
    body: &'a Body,
    tape: &'a Tape,
    closures: &'a HashMap<VarId, ClosurePlan<'a>>,
    last_use: LastUse,
    /// Owned values moved somewhere in this sweep.
    moved: HashSet<VarId>,
    loops: Vec<&'a Loop>,
}

impl<'a> MovePass<'a> {
    fn new(
        body: &'a Body,
        tape: &'a Tape,
        closures: &'a HashMap<VarId, ClosurePlan<'a>>,
        block: &Block,
        result: &Operand,
    ) -> Self {
        MovePass {
            body,
            tape,
            closures,
            last_use: LastUse::of(block, result),
            moved: HashSet::new(),
            loops: Vec::new(),
        }
    }

    fn block(&mut self, block: &'a Block, moves: &mut Moves) {
        for stmt in &block.stmts {
            match stmt {
                Stmt::Let { var, expr, .. } => match expr {
                    Expr::Op(op) => self.op(*var, op, moves),
                    Expr::Call(call) => self.call(call, moves),
                    Expr::Map(map) => self.map(*var, map, moves),
                    Expr::Const(_) => {}
                },
                Stmt::If(i) => self.branch(i, moves),
                Stmt::Loop(l) => self.iterations(l, moves),
            }
        }
    }

    /// An operation that may compute its result in its first operand's buffer takes it when
    /// it is an owned local that neither the reverse sweep nor any later statement reads.
    fn op(&mut self, var: VarId, op: &OpCall, moves: &mut Moves) {
        let Some(v) = op.operands.first().and_then(Operand::var) else {
            return;
        };
        let value = &self.body.vars[v];
        let consumable = op.op.moves_first
            && value.binding_refs == 0
            && value.kind == VarKind::Local
            && !self.tape.reads.contains(&v)
            && op.operands.iter().filter(|o| o.var() == Some(v)).count() == 1
            && !self.last_use.read_after_let(v, var);
        if consumable {
            moves.consumed.insert(var);
            self.moved.insert(v);
        }
    }

    /// A value handed over by value is copied when something reads it afterwards (the
    /// reverse sweep, or the forward sweep after this point), and moved otherwise.
    fn hand_over(&mut self, v: VarId, refs: i32, read_later: bool, site: Site, moves: &mut Moves) {
        let var = &self.body.vars[v];
        if refs != var.binding_refs || var.binding_refs != 0 {
            return;
        }
        if read_later || self.tape.reads.contains(&v) {
            moves.copies.insert(site);
        } else {
            self.moved.insert(v);
        }
    }

    fn call(&mut self, call: &Call, moves: &mut Moves) {
        let passed: Vec<VarId> = call.args.iter().filter_map(|a| a.value).collect();
        for (i, arg) in call.args.iter().enumerate() {
            if let (None, Some(v)) = (&arg.constant, arg.value) {
                let twice = passed.iter().filter(|&&w| w == v).count() > 1;
                let later = self.last_use.read_after_call(v, call.tape) || twice;
                self.hand_over(v, arg.refs, later, Site::Arg(call.tape, i), moves);
            }
        }
    }

    /// A closure's body is a forward sweep of its own, with the closure's tape.
    fn map(&mut self, var: VarId, map: &'a MapCall, moves: &mut Moves) {
        let empty = Tape::default();
        let tape = match self.closures.get(&var) {
            Some(closure) if self.body.vars[var].active() => &closure.tape,
            _ => &empty,
        };
        let mut inner = MovePass::new(self.body, tape, self.closures, &map.body, &map.result);
        inner.block(&map.body, moves);
        inner.finish_loops(moves);
    }

    fn branch(&mut self, i: &'a If, moves: &mut Moves) {
        self.block(&i.then_block, moves);
        self.block(&i.else_block, moves);
        for then in [true, false] {
            let values: Vec<&Operand> = i
                .merges
                .iter()
                .map(|m| if then { &m.then_value } else { &m.else_value })
                .collect();
            for (k, (m, o)) in i.merges.iter().zip(&values).enumerate() {
                let Some(v) = o.var() else { continue };
                // A value merged twice is copied but for its last hand-over.
                let again = values[k + 1..].iter().any(|o| o.var() == Some(v));
                let later = again || self.last_use.read_after_if(v, i.record);
                self.hand_over(v, m.refs, later, Site::Merge(i.record, k, then), moves);
            }
        }
    }

    fn iterations(&mut self, l: &'a Loop, moves: &mut Moves) {
        let inits: Vec<Option<VarId>> = l.carried.iter().map(|c| c.init.var()).collect();
        for (k, v) in inits.iter().enumerate() {
            let Some(v) = *v else { continue };
            let again = inits[k + 1..].contains(&Some(v));
            let later = again || self.last_use.read_after_loop_starts(v, l.record);
            self.hand_over(v, 0, later, Site::Init(l.record, k), moves);
        }
        self.block(&l.body, moves);
        // A value of the iteration moves to the next one; one from before the loop is copied
        // (the next iteration reads it again).
        let locals = loop_locals(l);
        let nexts: Vec<Option<VarId>> = l.carried.iter().map(|c| c.next.var()).collect();
        for (k, v) in nexts.iter().enumerate() {
            let Some(v) = *v else { continue };
            let site = Site::Next(l.record, k);
            if locals.contains(&v) && self.body.vars[v].binding_refs == 0 {
                if nexts[k + 1..].contains(&Some(v)) {
                    moves.copies.insert(site);
                } else {
                    self.moved.insert(v);
                }
            } else {
                self.hand_over(v, 0, true, site, moves);
            }
        }
        self.loops.push(l);
    }

    /// Owned values among `candidates` that nothing moved or kept, `result` aside.
    fn unused(&self, candidates: Vec<VarId>, result: Option<VarId>) -> Vec<VarId> {
        let vars = &self.body.vars;
        candidates
            .into_iter()
            .filter(|v| {
                owned_value(&vars[*v])
                    && !self.tape.reads.contains(v)
                    && !self.moved.contains(v)
                    && result != Some(*v)
            })
            .collect()
    }

    fn finish_loops(&self, moves: &mut Moves) {
        for l in &self.loops {
            let saved = self.tape.iterations.get(&l.record);
            let replaced = l
                .carried
                .iter()
                .map(|c| c.phi)
                .filter(|phi| {
                    owned_value(&self.body.vars[*phi])
                        && !self.moved.contains(phi)
                        && !saved.is_some_and(|s| s.contains(phi))
                })
                .collect();
            moves.replaced.insert(l.record, replaced);
            let leftovers = self.unused(defined_in(&l.body), None);
            moves.loop_leftovers.insert(l.record, leftovers);
        }
    }
}
