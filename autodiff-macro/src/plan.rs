//! The reverse sweep as a typed plan, between the analyses and the emitted tokens: which
//! adjoint slots exist, the pullbacks in the order they run with what each reads, the
//! branches and loops, and where a buffer goes back to the pool; and how the forward sweep
//! hands its values over ([`Moves`]). `differentiate` builds it, `recycle` adds the
//! give-backs and the moves, and `emit` prints it; what the forward sweep keeps for it (the
//! tape) is read off the plan by [`Tape::of`].

use crate::ir::*;
use proc_macro2::Span;
use std::collections::{BTreeSet, HashMap, HashSet};

/// When a step runs: always, never, or when the caller wants the gradient of one of these
/// parameters (by position).
#[derive(Clone, Debug, PartialEq)]
pub enum Guard {
    Always,
    Never,
    AnyOf(Vec<usize>),
}

/// The reverse sweep of a block whose result's adjoint is the seed.
pub struct Sweep<'a> {
    /// The adjoint slots declared first, and whether each starts with the seed.
    pub declare: Vec<(VarId, bool)>,
    pub steps: Steps<'a>,
}

/// Steps in the order they run.
#[derive(Default)]
pub struct Steps<'a>(pub Vec<Step<'a>>);

pub enum Step<'a> {
    Pullback(Pullback<'a>),
    Call(CallBack<'a>),
    Branch(Branch<'a>),
    Iterations(Iterations<'a>),
    /// The value goes back to the pool: the sweep reads it no more.
    GiveBack(VarId),
}

/// `handle.method(&mut d_input, seed, reads…)`: adds the operation's local derivative times
/// the adjoint of its result into the adjoint of one operand.
pub struct Pullback<'a> {
    pub handle: VarId,
    pub method: Method,
    pub input: VarId,
    pub output: VarId,
    /// Whether it takes the result's adjoint by value (the last pullback of an operation),
    /// so that a rule can reuse its buffer.
    pub takes_seed: bool,
    pub reads: Vec<Read<'a>>,
    pub guard: Guard,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// A rule's pullback method (`lhs`, `rhs`, `arg`, …).
    Rule(&'static str),
    /// The partial of a `map` closure with respect to its element, or to a captured value.
    MapInput(usize),
    MapCaptured(usize),
}

/// One value a pullback reads besides the adjoint.
pub enum Read<'a> {
    Operand(usize, &'a Operand),
    Output(VarId),
    Const(usize, &'a Verbatim),
}

/// The reverse sweep of a call to another differentiated function.
pub struct CallBack<'a> {
    pub var: VarId,
    pub call: &'a Call,
    /// The arguments whose adjoints receive a gradient: (position, value, guard); the callee
    /// computes the gradient of these only, when their guard holds.
    pub accumulate: Vec<(usize, VarId, Guard)>,
    /// The values given to the callee (to go back to the pool in its sweep) rather than lent.
    pub given: Vec<VarId>,
}

/// The reverse sweep of an `if`, from the record of which arm ran.
pub struct Branch<'a> {
    pub record: VarId,
    pub then_arm: Arm<'a>,
    pub else_arm: Arm<'a>,
    pub span: Span,
}

pub struct Arm<'a> {
    /// The adjoint slots of the arm's own values.
    pub declare: Vec<VarId>,
    /// `(merged, value)`: the merged value's adjoint flows to the arm's value.
    pub flows: Vec<(VarId, VarId)>,
    pub steps: Steps<'a>,
    /// The values the arm defines (its record may keep some).
    pub locals: Vec<VarId>,
    /// The arm's values its steps read: its record keeps them.
    pub saved: Vec<VarId>,
}

/// The reverse sweep of a loop: the iterations in reverse order, each from its record.
pub struct Iterations<'a> {
    pub record: VarId,
    pub carried: Vec<CarriedBack>,
    /// The adjoint slots of the body's own values, declared in each iteration.
    pub declare: Vec<VarId>,
    pub steps: Steps<'a>,
    /// The values of an iteration (head bindings, carried values as it starts, the body's).
    pub locals: Vec<VarId>,
    /// What each iteration's record keeps: the values of the iteration its steps read.
    pub saved: Vec<VarId>,
    pub span: Span,
}

/// An active carried value: `phi` as an iteration starts, `out` after the loop, and the
/// active values it came from (`init` before the loop, `next` at the end of an iteration).
pub struct CarriedBack {
    pub phi: VarId,
    pub out: VarId,
    pub init: Option<VarId>,
    pub next: Option<VarId>,
}

impl Steps<'_> {
    /// Calls `f` for every value of the forward sweep the steps read.
    pub fn reads(&self, f: &mut impl FnMut(VarId)) {
        for step in &self.0 {
            step.reads(f);
        }
    }

    /// The values the steps read, in order of their ids.
    pub fn read_set(&self) -> BTreeSet<VarId> {
        let mut out = BTreeSet::new();
        self.reads(&mut |v| {
            out.insert(v);
        });
        out
    }

    /// What the forward sweep must keep for the steps: the values they read, but for an
    /// element the reverse sweep borrows again ([`Reread`]), its handle.
    pub fn kept_set(&self, vars: &[Var]) -> BTreeSet<VarId> {
        let mut out = BTreeSet::new();
        self.reads(&mut |v| {
            out.insert(vars[v].reread.map_or(v, |r| r.handle));
        });
        out
    }
}

impl Step<'_> {
    /// Calls `f` for every value of the forward sweep the step reads.
    pub fn reads(&self, f: &mut impl FnMut(VarId)) {
        match self {
            Step::Pullback(p) => {
                f(p.handle);
                for read in &p.reads {
                    match read {
                        Read::Operand(_, Operand::Var(v)) | Read::Output(v) => f(*v),
                        Read::Operand(_, Operand::Lit(_)) => {}
                        Read::Const(_, c) => c.reads.iter().for_each(|&v| f(v)),
                    }
                }
            }
            Step::Call(c) => {
                f(c.call.tape);
                for arg in c.call.args.iter().filter(|a| a.refs >= 1) {
                    match (&arg.constant, arg.value) {
                        (Some(constant), _) => constant.reads.iter().for_each(|&v| f(v)),
                        (None, Some(v)) => f(v),
                        (None, None) => {}
                    }
                }
            }
            Step::Branch(b) => {
                f(b.record);
                b.then_arm.steps.reads(f);
                b.else_arm.steps.reads(f);
            }
            Step::Iterations(l) => {
                f(l.record);
                l.steps.reads(f);
            }
            Step::GiveBack(_) => {}
        }
    }
}

/// What the forward sweep keeps for the reverse sweep, read off the plan.
#[derive(Default)]
pub struct Tape {
    /// Every value the reverse sweep reads.
    pub reads: HashSet<VarId>,
    /// For each `if` (by its record): the values each arm's record keeps.
    pub saved: HashMap<VarId, (Vec<VarId>, Vec<VarId>)>,
    /// For each loop (by its record): the values each iteration's record keeps.
    pub iterations: HashMap<VarId, Vec<VarId>>,
}

impl Tape {
    pub fn of(steps: &Steps, vars: &[Var]) -> Tape {
        let mut tape = Tape {
            reads: steps.kept_set(vars).into_iter().collect(),
            ..Tape::default()
        };
        tape.records(steps);
        tape
    }

    fn records(&mut self, steps: &Steps) {
        for step in &steps.0 {
            match step {
                Step::Branch(b) => {
                    let saved = (b.then_arm.saved.clone(), b.else_arm.saved.clone());
                    self.saved.insert(b.record, saved);
                    self.records(&b.then_arm.steps);
                    self.records(&b.else_arm.steps);
                }
                Step::Iterations(l) => {
                    self.iterations.insert(l.record, l.saved.clone());
                    self.records(&l.steps);
                }
                _ => {}
            }
        }
    }
}

/// The plan of a whole function: its sweep, what its tape keeps, which adjoints hold a
/// value when the sweep ends, and how the forward sweep hands its values over.
pub struct Plan<'a> {
    pub sweep: Sweep<'a>,
    pub tape: Tape,
    pub moves: Moves,
    pub reached: HashSet<VarId>,
    /// The plan of each active `map` closure, by the closure's result.
    pub closures: HashMap<VarId, ClosurePlan<'a>>,
}

/// The reverse sweep of a `map` closure's body, which runs whole for each element.
pub struct ClosurePlan<'a> {
    /// The closure's inputs: its element (standing for the receiver) and captured values.
    pub inputs: Vec<VarId>,
    pub sweep: Sweep<'a>,
    pub tape: Tape,
}

/// Where the forward sweep hands a value over by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Site {
    /// Argument `i` of the call with this tape.
    Arg(VarId, usize),
    /// Merged value `i` of the branch with this record, from its `then` arm (or its `else`).
    Merge(VarId, usize, bool),
    /// The first value of carried value `i` of the loop with this record.
    Init(VarId, usize),
    /// The value carried value `i` of the loop with this record takes as an iteration ends.
    Next(VarId, usize),
}

/// The forward sweep's half of buffer reuse: which values move into what reads them last,
/// and which go back to the pool because nothing reads them.
#[derive(Default)]
pub struct Moves {
    /// Operations (by the value they define) that take their first operand by value, so that
    /// the result is computed in its buffer.
    pub consumed: HashSet<VarId>,
    /// Hand-overs by value that copy the value, because something reads it afterwards.
    pub copies: HashSet<Site>,
    /// The function's values nothing moved, returned or kept: back to the pool at its end.
    pub leftovers: Vec<VarId>,
    /// For each loop (by its record): the body's values nothing moved or kept, back to the
    /// pool as an iteration ends.
    pub loop_leftovers: HashMap<VarId, Vec<VarId>>,
    /// For each loop: the carried values nothing moved or kept, back to the pool before the
    /// next iteration's values replace them.
    pub replaced: HashMap<VarId, Vec<VarId>>,
}
