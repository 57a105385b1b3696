//! Analyses on the lowered body: which values the result depends on (usefulness; with
//! variedness from lowering this gives activity), and where each value is last read by the
//! forward sweep (so that a value is moved only when nothing reads it afterwards).

use crate::ir::*;
use crate::walk::expr_reads;
use std::collections::HashMap;

/// Marks every value the result depends on as useful, walking the body backwards.
pub fn mark_useful(body: &mut Body) {
    if let Operand::Var(v) = body.result {
        body.vars[v].useful = true;
    }
    let block = std::mem::take(&mut body.block);
    useful_block(&block, &mut body.vars);
    body.block = block;
}

fn useful_block(block: &Block, vars: &mut [Var]) {
    for stmt in block.stmts.iter().rev() {
        match stmt {
            Stmt::Let { var, expr, .. } => {
                if vars[*var].useful {
                    useful_expr(expr, vars);
                }
            }
            Stmt::If(i) => {
                for m in &i.merges {
                    if vars[m.var].useful {
                        for o in [&m.then_value, &m.else_value] {
                            if let Operand::Var(v) = o {
                                vars[*v].useful = true;
                            }
                        }
                    }
                }
                useful_block(&i.then_block, vars);
                useful_block(&i.else_block, vars);
            }
            Stmt::Loop(l) => useful_loop(l, vars),
        }
    }
}

/// A carried value is useful in every iteration when it is after the loop or when the
/// next iteration reads it: walks the body until no carried value becomes useful.
fn useful_loop(l: &Loop, vars: &mut [Var]) {
    loop {
        let mut changed = false;
        for c in &l.carried {
            if vars[c.out].useful || vars[c.phi].useful {
                for v in [Some(c.out), Some(c.phi), c.init.var(), c.next.var()]
                    .into_iter()
                    .flatten()
                {
                    changed |= !vars[v].useful;
                    vars[v].useful = true;
                }
            }
        }
        useful_block(&l.body, vars);
        if !changed {
            return;
        }
    }
}

fn useful_expr(expr: &Expr, vars: &mut [Var]) {
    let mut mark = |v: VarId| vars[v].useful = true;
    match expr {
        Expr::Const(_) => {}
        Expr::Op(op) => op
            .operands
            .iter()
            .filter_map(Operand::var)
            .for_each(&mut mark),
        Expr::Call(call) => call.args.iter().filter_map(|a| a.value).for_each(&mut mark),
        Expr::Map(map) => {
            map.recv.var().into_iter().for_each(&mut mark);
            map.captures.iter().copied().for_each(&mut mark);
            // Inside the closure, the element and the captures are the inputs: everything
            // leading from them to the closure's result is useful.
            vars[map.param].useful = true;
            if let Operand::Var(v) = map.result {
                vars[v].useful = true;
            }
            useful_block(&map.body, vars);
        }
    }
}

/// The position of each statement in forward order and, for each value, the last position
/// at which the forward sweep reads it.
#[derive(Default)]
pub struct LastUse {
    last: HashMap<VarId, usize>,
    /// For each `if` (by its record), the position of its last statement.
    if_end: HashMap<VarId, usize>,
    /// For each `let` (by the value it defines), its position.
    let_at: HashMap<VarId, usize>,
    /// For each call (by its tape), its position.
    call_at: HashMap<VarId, usize>,
    /// For each loop (by its record), the position where it starts.
    loop_at: HashMap<VarId, usize>,
    counter: usize,
}

impl LastUse {
    /// The positions in a block (a function's body or a closure's) whose value is `result`.
    pub fn of(block: &Block, result: &Operand) -> Self {
        let mut this = LastUse::default();
        this.block(block);
        this.counter += 1;
        if let Operand::Var(v) = result {
            this.last.insert(*v, this.counter);
        }
        this
    }

    fn read(&mut self, v: VarId) {
        self.last.insert(v, self.counter);
    }

    fn block(&mut self, block: &Block) {
        for stmt in &block.stmts {
            self.counter += 1;
            match stmt {
                Stmt::Let { var, expr, .. } => {
                    self.let_at.insert(*var, self.counter);
                    if let Expr::Call(c) = expr {
                        self.call_at.insert(c.tape, self.counter);
                    }
                    let mut reads = Vec::new();
                    expr_reads(expr, &mut |v| reads.push(v));
                    reads.into_iter().for_each(|v| self.read(v));
                }
                Stmt::If(i) => {
                    i.cond.reads.iter().for_each(|&v| self.read(v));
                    self.block(&i.then_block);
                    self.block(&i.else_block);
                    self.counter += 1;
                    for m in &i.merges {
                        for o in [&m.then_value, &m.else_value] {
                            if let Operand::Var(v) = o {
                                self.read(*v);
                            }
                        }
                    }
                    self.if_end.insert(i.record, self.counter);
                }
                Stmt::Loop(l) => {
                    self.loop_at.insert(l.record, self.counter);
                    for c in &l.carried {
                        if let Operand::Var(v) = c.init {
                            self.read(v);
                        }
                    }
                    crate::walk::head_reads(&l.head, &mut |v| self.read(v));
                    self.block(&l.body);
                    self.counter += 1;
                    // What an iteration reads from before the loop, the next one reads again.
                    let locals = crate::walk::defined_within_loop(l);
                    let mut reads = Vec::new();
                    crate::walk::head_reads(&l.head, &mut |v| reads.push(v));
                    crate::walk::block_reads(&l.body, &mut |v| reads.push(v));
                    reads
                        .into_iter()
                        .filter(|v| !locals.contains(v))
                        .for_each(|v| self.read(v));
                    // Each iteration ends by handing its values to the next one.
                    l.carried
                        .iter()
                        .filter_map(|c| c.next.var())
                        .for_each(|v| self.read(v));
                    for c in &l.carried {
                        self.let_at.insert(c.out, self.counter);
                    }
                }
            }
        }
    }

    /// Whether the forward sweep reads `v` after the call with this tape.
    pub fn read_after_call(&self, v: VarId, tape: VarId) -> bool {
        let at = self.call_at.get(&tape).copied().unwrap_or(0);
        self.last.get(&v).is_some_and(|&last| last > at)
    }

    /// Whether the forward sweep reads `v` after the `let` that defines `var`.
    pub fn read_after_let(&self, v: VarId, var: VarId) -> bool {
        let at = self.let_at.get(&var).copied().unwrap_or(0);
        self.last.get(&v).is_none_or(|&last| last > at)
    }

    /// Whether the forward sweep reads `v` after the loop with this record has read its
    /// carried values' first values.
    pub fn read_after_loop_starts(&self, v: VarId, record: VarId) -> bool {
        let at = self.loop_at.get(&record).copied().unwrap_or(0);
        self.last.get(&v).is_some_and(|&last| last > at)
    }

    /// Whether the forward sweep reads `v` after the `if` with this record.
    pub fn read_after_if(&self, v: VarId, record: VarId) -> bool {
        let end = self.if_end.get(&record).copied().unwrap_or(0);
        self.last.get(&v).is_some_and(|&last| last > end)
    }
}

/// For each value, the differentiable parameters (by position) it depends on: a pullback into
/// a value is needed only when one of them is wanted by the caller.
pub fn sources(body: &Body) -> Vec<std::collections::BTreeSet<usize>> {
    let mut sources = vec![std::collections::BTreeSet::new(); body.vars.len()];
    for (v, var) in body.vars.iter().enumerate() {
        if let VarKind::Param {
            index,
            differentiable: true,
        } = var.kind
        {
            sources[v].insert(index);
        }
    }
    sources_block(&body.block, &mut sources);
    sources
}

fn sources_block(block: &Block, sources: &mut [std::collections::BTreeSet<usize>]) {
    for stmt in &block.stmts {
        match stmt {
            Stmt::Let { var, expr, .. } => {
                let mut reads = Vec::new();
                match expr {
                    Expr::Map(map) => {
                        sources_block(&map.body, sources);
                        reads.extend(map.recv.var());
                        reads.extend(map.captures.iter().copied());
                    }
                    other => expr_reads(other, &mut |v| reads.push(v)),
                }
                let union: std::collections::BTreeSet<usize> =
                    reads.iter().flat_map(|&v| sources[v].clone()).collect();
                sources[*var].extend(union);
            }
            Stmt::If(i) => {
                sources_block(&i.then_block, sources);
                sources_block(&i.else_block, sources);
                for m in &i.merges {
                    let union: std::collections::BTreeSet<usize> = [&m.then_value, &m.else_value]
                        .iter()
                        .filter_map(|o| o.var())
                        .flat_map(|v| sources[v].clone())
                        .collect();
                    sources[m.var].extend(union);
                }
            }
            Stmt::Loop(l) => loop {
                sources_block(&l.body, sources);
                let mut changed = false;
                for c in &l.carried {
                    let union: std::collections::BTreeSet<usize> = [&c.init, &c.next]
                        .iter()
                        .filter_map(|o| o.var())
                        .flat_map(|v| sources[v].clone())
                        .collect();
                    for v in [c.phi, c.out] {
                        let before = sources[v].len();
                        sources[v].extend(union.iter().copied());
                        changed |= sources[v].len() != before;
                    }
                }
                if !changed {
                    break;
                }
            },
        }
    }
}
