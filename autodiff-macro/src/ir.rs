//! The intermediate representation: a function body lowered to single-assignment values,
//! operations on them, and structured branches. Every node keeps the span of the user's code.

use crate::ops::OpDef;
use proc_macro2::{Span, TokenStream};
use syn::Ident;

/// Index of a value in [`Body::vars`].
pub type VarId = usize;

/// What a value is, for naming and for the analyses.
#[derive(Clone, Debug, PartialEq)]
pub enum VarKind {
    /// A parameter of the function; `differentiable` is false for constants.
    Param { index: usize, differentiable: bool },
    /// A value of the user's code (a `let`, a temporary, a closure parameter).
    Local,
    /// The pullback handle of an operation, the tape of a call, or the record of a branch:
    /// read only by the reverse sweep.
    Record,
}

/// One single-assignment value.
#[derive(Clone, Debug)]
pub struct Var {
    /// The binding's name in the generated code.
    pub name: Ident,
    /// How many references the binding itself holds: 1 for a `&T` parameter, else 0.
    pub binding_refs: i32,
    /// Whether the value depends on a differentiable parameter (set while lowering).
    pub varied: bool,
    /// Whether the result depends on the value (set by the activity analysis).
    pub useful: bool,
    pub kind: VarKind,
    /// The user's type annotation, if any.
    pub ty: Option<syn::Type>,
    /// For an element `ws[i]` of a differentiable collection, borrowed: how the reverse sweep
    /// borrows it again, so that no record keeps it.
    pub reread: Option<Reread>,
    /// Whether the macro introduced the value (a sub-expression), rather than the user's code.
    pub introduced: bool,
}

/// How the reverse sweep borrows an element again: `handle.element_of(source)`.
#[derive(Clone, Copy, Debug)]
pub struct Reread {
    /// The handle of the read, which keeps the position.
    pub handle: VarId,
    /// The collection (a parameter or a field of one), bound in both sweeps.
    pub source: VarId,
}

impl Var {
    /// Active values get adjoints: they depend on a differentiable parameter and the
    /// result depends on them.
    pub fn active(&self) -> bool {
        self.varied && self.useful && self.kind != VarKind::Record
    }

    /// Whether the binding's type is a differentiable value (so the runtime's pool can take
    /// it): an active local, or a differentiable parameter. Other bindings may be of any type.
    pub fn is_value(&self) -> bool {
        match self.kind {
            VarKind::Local => self.active(),
            VarKind::Param { differentiable, .. } => differentiable,
            VarKind::Record => false,
        }
    }

    /// Whether a loop's record keeps an owned copy of the value rather than the binding: a
    /// borrowed constant (`x` of `for x in xs.iter()`), which would borrow from the forward
    /// sweep.
    pub fn kept_owned(&self) -> bool {
        self.binding_refs == 1 && self.kind == VarKind::Local && !self.is_value()
    }
}

/// An operand of an operation: a value, or a literal inlined where it is used.
#[derive(Clone, Debug)]
pub enum Operand {
    Var(VarId),
    Lit(TokenStream),
}

impl Operand {
    pub fn var(&self) -> Option<VarId> {
        match self {
            Operand::Var(v) => Some(*v),
            Operand::Lit(_) => None,
        }
    }
}

/// Verbatim tokens of the user's code (constants, conditions) after renaming, with the
/// values they read.
#[derive(Clone, Debug)]
pub struct Verbatim {
    pub tokens: TokenStream,
    pub reads: Vec<VarId>,
}

/// A block: statements in order.
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// `let var = expr`.
    Let { var: VarId, expr: Expr, span: Span },
    /// `if cond { … } else { … }` merging values.
    If(Box<If>),
    /// `for`, `while` or `loop`, carrying values from one iteration to the next.
    Loop(Box<Loop>),
}

#[derive(Clone, Debug)]
pub enum Expr {
    /// A constant computed by the user's code as written.
    Const(Verbatim),
    /// A primitive operation with a derivative rule.
    Op(OpCall),
    /// A call to another differentiated function.
    Call(Call),
    /// `recv.map(|p| body)` with the closure differentiated from its body.
    Map(Box<MapCall>),
}

#[derive(Clone, Debug)]
pub struct OpCall {
    pub op: &'static OpDef,
    pub operands: Vec<Operand>,
    pub consts: Vec<Verbatim>,
    /// The pullback handle's value (a [`VarKind::Record`]).
    pub handle: VarId,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Call {
    /// The callee's path as written (`f`, `m::f`).
    pub path: syn::Path,
    pub args: Vec<CallArg>,
    /// The callee's tape (a [`VarKind::Record`]).
    pub tape: VarId,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct CallArg {
    /// The argument as passed: the value it reads (if any) and how many `&` are put before it.
    pub value: Option<VarId>,
    pub refs: i32,
    /// A constant argument, as written.
    pub constant: Option<Verbatim>,
}

#[derive(Clone, Debug)]
pub struct MapCall {
    pub recv: Operand,
    /// The closure's parameter.
    pub param: VarId,
    pub body: Block,
    pub result: Operand,
    /// Values of the enclosing function the closure reads (captures).
    pub captures: Vec<VarId>,
    pub handle: VarId,
    pub span: Span,
}

impl MapCall {
    /// The inputs the closure is differentiated with respect to, in the order of its
    /// partials: the element (when the receiver is active), then active captured values.
    pub fn inputs(&self, vars: &[Var]) -> Vec<VarId> {
        let mut inputs = Vec::new();
        if let Some(v) = self.recv.var().filter(|&v| vars[v].active()) {
            inputs.push(v);
        }
        inputs.extend(self.captures.iter().copied().filter(|&v| vars[v].active()));
        inputs
    }
}

#[derive(Clone, Debug)]
pub struct If {
    pub cond: Verbatim,
    pub then_block: Block,
    pub else_block: Block,
    /// Values merged after the branch: `var` is `then_value` or `else_value`.
    pub merges: Vec<Merge>,
    /// The record of which branch ran (a [`VarKind::Record`]).
    pub record: VarId,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Merge {
    pub var: VarId,
    /// How many references the merged value holds, as in the user's code.
    pub refs: i32,
    pub then_value: Operand,
    pub else_value: Operand,
}

/// A loop. Its body runs to its end in every iteration: the statements after a `break` or a
/// `continue` are lowered under a branch on the exit flags, so that the values each
/// iteration hands to the next are the body's values at its end.
#[derive(Clone, Debug)]
pub struct Loop {
    pub head: LoopHead,
    /// The constant values the head binds in each iteration (`i` of `for i in 0..n`).
    pub bindings: Vec<VarId>,
    /// The variables assigned in the body and declared before the loop.
    pub carried: Vec<Carried>,
    pub body: Block,
    /// The `break` flag's value at the end of the body, when the body has a `break`.
    pub exit: Option<VarId>,
    /// The per-iteration record of what the reverse sweep reads (a [`VarKind::Record`]).
    pub record: VarId,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum LoopHead {
    /// `for PATTERN in ITERATOR`: the pattern renamed to the bindings, the iterator constant.
    For {
        pattern: TokenStream,
        iter: Verbatim,
    },
    /// `while COND`.
    While(Verbatim),
    /// `loop`.
    Loop,
}

/// A variable carried from one iteration to the next: `phi` is its value when an iteration
/// starts (`init` in the first), `next` its value when the iteration ends, `out` its value
/// after the loop.
#[derive(Clone, Debug)]
pub struct Carried {
    pub phi: VarId,
    pub init: Operand,
    pub next: Operand,
    pub out: VarId,
}

/// A lowered function body.
#[derive(Clone, Debug)]
pub struct Body {
    pub vars: Vec<Var>,
    pub block: Block,
    pub result: Operand,
    /// The user's text of each value (`x + y`), when `NAME_graph` is generated.
    pub labels: std::collections::HashMap<VarId, String>,
    /// Whether generated names go without the prefix `__ad_` (`names`).
    pub short_names: bool,
}
