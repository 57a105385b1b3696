//! The differentiation stage: the reverse sweep of a lowered, analysed body as a [`Plan`].
//! For each active value, in reverse order, the pullbacks of the operation that produced it,
//! each accumulating the adjoint of the result times a local derivative into the adjoint of
//! one operand; the arms of a branch from its record; a loop's iterations backwards.

use crate::ir::*;
use crate::plan::*;
use crate::walk::{defined_in, for_each_let, loop_locals};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Which parameters each value depends on: a pullback into a value runs only when its caller
/// wants the gradient of one of them.
pub struct Mask {
    pub sources: Vec<BTreeSet<usize>>,
    /// Every differentiable parameter.
    pub all: BTreeSet<usize>,
}

/// The plan of a function's body: its sweep (with `params`' adjoints declared first, and
/// the give-backs of buffer reuse, `lent` being the parameters the sweep receives as `Lent`),
/// its tape, the plans of its `map` closures, and the moves of its forward sweep.
pub fn function<'a>(
    body: &'a Body,
    params: &[VarId],
    mask: Mask,
    lent: &HashSet<VarId>,
) -> Plan<'a> {
    let mut builder = Builder {
        body,
        mask: Some(mask),
        reached: HashSet::new(),
    };
    let mut sweep = builder.sweep(&body.block, &body.result, params);
    crate::recycle::function(&mut sweep, body, params, lent);
    let tape = Tape::of(&sweep.steps, &body.vars);
    let closures = closures(body);
    let moves = crate::recycle::forward(body, &tape, &closures, params);
    Plan {
        tape,
        moves,
        sweep,
        reached: builder.reached,
        closures,
    }
}

/// The plan of every active `map` closure of `body`: its sweep runs whole for each element,
/// inside the closure's forward code.
fn closures(body: &Body) -> HashMap<VarId, ClosurePlan<'_>> {
    let mut out = HashMap::new();
    for_each_let(&body.block, &mut |var, expr, _| {
        let Expr::Map(map) = expr else { return };
        if !body.vars[var].active() {
            return;
        }
        // The closure's own inputs: its element stands for the receiver.
        let inputs: Vec<VarId> = map
            .inputs(&body.vars)
            .into_iter()
            .map(|v| {
                if Some(v) == map.recv.var() {
                    map.param
                } else {
                    v
                }
            })
            .collect();
        let mut builder = Builder {
            body,
            mask: None,
            reached: HashSet::new(),
        };
        let sweep = builder.sweep(&map.body, &map.result, &inputs);
        let tape = Tape::of(&sweep.steps, &body.vars);
        out.insert(
            var,
            ClosurePlan {
                inputs,
                sweep,
                tape,
            },
        );
    });
    out
}

struct Builder<'a> {
    body: &'a Body,
    /// `None` in a closure's sweep, which runs whole.
    mask: Option<Mask>,
    /// Adjoint slots that always hold a value when the sweep ends.
    reached: HashSet<VarId>,
}

impl<'a> Builder<'a> {
    fn active(&self, v: VarId) -> bool {
        self.body.vars[v].active()
    }

    /// When a pullback into `v` is needed.
    fn guard(&self, v: VarId) -> Guard {
        let Some(mask) = &self.mask else {
            return Guard::Always;
        };
        let sources = &mask.sources[v];
        if mask.all.is_subset(sources) {
            Guard::Always
        } else if sources.is_empty() {
            Guard::Never
        } else {
            Guard::AnyOf(sources.iter().copied().collect())
        }
    }

    /// `to`'s adjoint is certain to hold a value when `from`'s is.
    fn reach(&mut self, from: VarId, to: VarId) {
        if self.reached.contains(&from) {
            self.reached.insert(to);
        }
    }

    /// The sweep of a block whose result's adjoint is the seed, with slots for `inputs`
    /// (parameters, or a closure's element and captures) declared first.
    fn sweep(&mut self, block: &'a Block, result: &Operand, inputs: &[VarId]) -> Sweep<'a> {
        let mut slots: Vec<VarId> = inputs.iter().copied().filter(|&v| self.active(v)).collect();
        for v in defined_in(block) {
            if self.active(v) && !slots.contains(&v) {
                slots.push(v);
            }
        }
        let seeded = result.var().filter(|&v| self.active(v));
        if let Some(v) = seeded {
            self.reached.insert(v);
        }
        Sweep {
            declare: slots.into_iter().map(|v| (v, Some(v) == seeded)).collect(),
            steps: self.steps(block),
        }
    }

    /// The steps of a block: its statements' pullbacks, last statement first.
    fn steps(&mut self, block: &'a Block) -> Steps<'a> {
        let mut out = Vec::new();
        for stmt in block.stmts.iter().rev() {
            match stmt {
                Stmt::Let { var, expr, .. } if self.active(*var) => match expr {
                    Expr::Op(op) => self.op(*var, op, &mut out),
                    Expr::Call(call) => out.push(Step::Call(self.call(*var, call))),
                    Expr::Map(map) => self.map(*var, map, &mut out),
                    Expr::Const(_) => {}
                },
                Stmt::Let { .. } => {}
                Stmt::If(i) => out.extend(self.branch(i).map(Step::Branch)),
                Stmt::Loop(l) => out.extend(self.iterations(l).map(Step::Iterations)),
            }
        }
        Steps(out)
    }

    /// One pullback per active operand; the last takes the result's adjoint by value.
    fn op(&mut self, var: VarId, op: &'a OpCall, out: &mut Vec<Step<'a>>) {
        let mut active: Vec<(usize, VarId)> = op
            .operands
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.var().filter(|&v| self.active(v)).map(|v| (i, v)))
            .collect();
        if op.op.first_runs_last {
            active.reverse();
        }
        for (n, &(i, v)) in active.iter().enumerate() {
            let pullback = &op.op.pullbacks[i];
            let reads = pullback.reads.iter().map(|read| match *read {
                crate::ops::Read::Operand(j) => Read::Operand(j, &op.operands[j]),
                crate::ops::Read::Output => Read::Output(var),
                crate::ops::Read::Const(k) => Read::Const(k, &op.consts[k]),
            });
            out.push(Step::Pullback(Pullback {
                handle: op.handle,
                method: Method::Rule(pullback.method),
                input: v,
                output: var,
                takes_seed: n + 1 == active.len(),
                reads: reads.collect(),
                guard: self.guard(v),
                span: op.span,
            }));
            self.reach(var, v);
        }
    }

    /// The callee's reverse sweep, computing only the gradients this sweep needs.
    fn call(&mut self, var: VarId, call: &'a Call) -> CallBack<'a> {
        let mut accumulate = Vec::new();
        for (i, arg) in call.args.iter().enumerate() {
            if let Some(v) = arg.value.filter(|&v| self.active(v)) {
                accumulate.push((i, v, self.guard(v)));
            }
        }
        for &(_, v, _) in &accumulate {
            self.reach(var, v);
        }
        CallBack {
            var,
            call,
            accumulate,
            given: Vec::new(),
        }
    }

    /// The closure's partials, computed element by element in the forward sweep, times the
    /// result's adjoint.
    fn map(&mut self, var: VarId, map: &'a MapCall, out: &mut Vec<Step<'a>>) {
        let inputs = map.inputs(&self.body.vars);
        for (k, &v) in inputs.iter().enumerate() {
            let method = if Some(v) == map.recv.var() {
                Method::MapInput(k)
            } else {
                Method::MapCaptured(k)
            };
            out.push(Step::Pullback(Pullback {
                handle: map.handle,
                method,
                input: v,
                output: var,
                takes_seed: k + 1 == inputs.len(),
                reads: Vec::new(),
                guard: self.guard(v),
                span: map.span,
            }));
            self.reach(var, v);
        }
    }

    /// The arms of an `if` that merges an active value; an adjoint is reached after it when
    /// both arms reach it.
    fn branch(&mut self, i: &'a If) -> Option<Branch<'a>> {
        if !i.merges.iter().any(|m| self.active(m.var)) {
            return None;
        }
        let before = self.reached.clone();
        let (then_arm, then_reached) = self.arm(&i.then_block, i, true, &before);
        let (else_arm, else_reached) = self.arm(&i.else_block, i, false, &before);
        self.reached = then_reached.intersection(&else_reached).copied().collect();
        Some(Branch {
            record: i.record,
            then_arm,
            else_arm,
            span: i.span,
        })
    }

    fn arm(
        &mut self,
        block: &'a Block,
        i: &If,
        then: bool,
        before: &HashSet<VarId>,
    ) -> (Arm<'a>, HashSet<VarId>) {
        self.reached = before.clone();
        let locals = defined_in(block);
        let declare = locals.iter().copied().filter(|&v| self.active(v)).collect();
        let mut flows = Vec::new();
        let vars = &self.body.vars;
        for m in i.merges.iter().filter(|m| vars[m.var].active()) {
            let value = if then { &m.then_value } else { &m.else_value };
            if let Some(v) = value.var().filter(|&v| vars[v].active()) {
                flows.push((m.var, v));
                self.reach(m.var, v);
            }
        }
        let steps = self.steps(block);
        let saved = steps
            .kept_set(&self.body.vars)
            .into_iter()
            .filter(|v| locals.contains(v))
            .collect();
        let arm = Arm {
            declare,
            flows,
            steps,
            locals,
            saved,
        };
        (arm, std::mem::take(&mut self.reached))
    }

    /// A loop's iterations, when it carries an active value. How many ran is known only when
    /// the function runs: nothing the body reaches is certain to be reached.
    fn iterations(&mut self, l: &'a Loop) -> Option<Iterations<'a>> {
        let active = |o: &Operand| o.var().filter(|&v| self.active(v));
        let carried: Vec<CarriedBack> = l
            .carried
            .iter()
            .filter(|c| self.active(c.phi))
            .map(|c| CarriedBack {
                phi: c.phi,
                out: c.out,
                init: active(&c.init),
                next: active(&c.next),
            })
            .collect();
        if carried.is_empty() {
            return None;
        }
        let declare = defined_in(&l.body)
            .into_iter()
            .filter(|&v| self.active(v))
            .collect();
        let locals = loop_locals(l);
        let reached = self.reached.clone();
        let steps = self.steps(&l.body);
        self.reached = reached;
        let saved = steps
            .kept_set(&self.body.vars)
            .into_iter()
            .filter(|v| locals.contains(v))
            .collect();
        Some(Iterations {
            record: l.record,
            carried,
            declare,
            steps,
            locals,
            saved,
            span: l.span,
        })
    }
}
