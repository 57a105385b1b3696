//! Walks over the lowered body shared by the stages: what a block reads, what it defines,
//! every `let` in it, and which values the function owns.

use crate::ir::*;

/// Calls `f` for every value a block's forward code reads, nested blocks included.
pub fn block_reads(block: &Block, f: &mut impl FnMut(VarId)) {
    for stmt in &block.stmts {
        stmt_reads(stmt, f);
    }
}

/// Calls `f` for every `let` of a block, nested blocks (branches, `map` closures) included.
pub fn for_each_let<'a>(block: &'a Block, f: &mut impl FnMut(VarId, &'a Expr, proc_macro2::Span)) {
    for stmt in &block.stmts {
        match stmt {
            Stmt::Let { var, expr, span } => {
                f(*var, expr, *span);
                if let Expr::Map(map) = expr {
                    for_each_let(&map.body, f);
                }
            }
            Stmt::If(i) => {
                for_each_let(&i.then_block, f);
                for_each_let(&i.else_block, f);
            }
            Stmt::Loop(l) => for_each_let(&l.body, f),
        }
    }
}

fn operand_reads(o: &Operand, f: &mut impl FnMut(VarId)) {
    if let Operand::Var(v) = o {
        f(*v);
    }
}

fn stmt_reads(stmt: &Stmt, f: &mut impl FnMut(VarId)) {
    match stmt {
        Stmt::Let { expr, .. } => expr_reads(expr, f),
        Stmt::If(i) => {
            i.cond.reads.iter().for_each(|&v| f(v));
            block_reads(&i.then_block, f);
            block_reads(&i.else_block, f);
            for m in &i.merges {
                operand_reads(&m.then_value, f);
                operand_reads(&m.else_value, f);
            }
        }
        Stmt::Loop(l) => {
            head_reads(&l.head, f);
            for c in &l.carried {
                operand_reads(&c.init, f);
                operand_reads(&c.next, f);
            }
            block_reads(&l.body, f);
            l.exit.into_iter().for_each(&mut *f);
        }
    }
}

/// Calls `f` for every value a loop's head reads (its iterator or its condition).
pub fn head_reads(head: &LoopHead, f: &mut impl FnMut(VarId)) {
    match head {
        LoopHead::For { iter, .. } => iter.reads.iter().for_each(|&v| f(v)),
        LoopHead::While(cond) => cond.reads.iter().for_each(|&v| f(v)),
        LoopHead::Loop => {}
    }
}

/// Calls `f` for every value an expression reads (a closure's body included).
pub fn expr_reads(expr: &Expr, f: &mut impl FnMut(VarId)) {
    match expr {
        Expr::Const(v) => v.reads.iter().for_each(|&v| f(v)),
        Expr::Op(op) => {
            op.operands.iter().for_each(|o| operand_reads(o, f));
            op.consts.iter().flat_map(|c| &c.reads).for_each(|&v| f(v));
        }
        Expr::Call(call) => {
            for a in &call.args {
                a.value.into_iter().for_each(&mut *f);
                a.constant.iter().flat_map(|c| &c.reads).for_each(|&v| f(v));
            }
        }
        Expr::Map(map) => {
            operand_reads(&map.recv, f);
            block_reads(&map.body, f);
            operand_reads(&map.result, f);
        }
    }
}

/// The values a block defines at its own level (nested blocks define their own).
pub fn defined_in(block: &Block) -> Vec<VarId> {
    let mut out = Vec::new();
    for stmt in &block.stmts {
        match stmt {
            Stmt::Let { var, expr, .. } => {
                out.push(*var);
                match expr {
                    Expr::Op(op) => out.push(op.handle),
                    Expr::Call(call) => out.push(call.tape),
                    Expr::Map(map) => out.push(map.handle),
                    Expr::Const(_) => {}
                }
            }
            Stmt::If(i) => {
                out.extend(i.merges.iter().map(|m| m.var));
                out.push(i.record);
            }
            Stmt::Loop(l) => {
                out.extend(l.carried.iter().map(|c| c.out));
                out.push(l.record);
            }
        }
    }
    out
}

/// The values that live in one iteration of a loop: the head's bindings, the carried values
/// as the iteration starts, and what the body defines at its own level.
pub fn loop_locals(l: &Loop) -> Vec<VarId> {
    let mut out = l.bindings.clone();
    out.extend(l.carried.iter().map(|c| c.phi));
    out.extend(defined_in(&l.body));
    out
}

/// Every value a block defines, nested blocks (branches, loops, `map` closures) included.
pub fn defined_within(block: &Block) -> Vec<VarId> {
    let mut out = defined_in(block);
    for stmt in &block.stmts {
        match stmt {
            Stmt::Let {
                expr: Expr::Map(map),
                ..
            } => {
                out.push(map.param);
                out.extend(defined_within(&map.body));
            }
            Stmt::Let { .. } => {}
            Stmt::If(i) => {
                out.extend(defined_within(&i.then_block));
                out.extend(defined_within(&i.else_block));
            }
            Stmt::Loop(l) => out.extend(defined_within_loop(l)),
        }
    }
    out
}

/// Every value that lives inside a loop: its head's bindings, its carried values as an
/// iteration starts, and everything its body defines, nested blocks included.
pub fn defined_within_loop(l: &Loop) -> Vec<VarId> {
    let mut out = l.bindings.clone();
    out.extend(l.carried.iter().map(|c| c.phi));
    out.extend(defined_within(&l.body));
    out
}

/// A value the function owns and whose type is a differentiable value (so the pool takes
/// it): an active local, or a differentiable parameter taken by value.
pub fn owned_value(var: &Var) -> bool {
    var.is_value() && var.binding_refs == 0
}
