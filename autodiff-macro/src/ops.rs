//! The table of primitive operations the macro recognises: for each, the runtime rule it
//! calls, its pullback methods and what each pullback reads. The macro knows names only;
//! rustc picks the rule's implementation from the operand types.
//!
//! The table restates what each rule's pullbacks read, and it cannot drift from the rules
//! unnoticed: the reverse sweep passes every read in a wrapper of the runtime's `ops::reads`
//! that names it (`Operand::<1, _>(&b)`, `Output(&y)`, `Const::<0, _>(n)`), and each pullback
//! method declares the same wrappers in its signature. An entry that says `Out` where the
//! rule reads its operand, or `Op(0)` where it reads `Op(1)`, is a type error at the
//! generated call (`tests/ui/rule_read_mismatch.rs` shows the message); a missing or extra
//! read is one too (a wrong number of arguments). The macro crate cannot depend on the
//! runtime to generate the table from it, so rustc checks the two against each other.
//!
//! `moves` is checked the same way in one direction: marking a rule whose forward borrows its
//! operand (`&X`) makes the generated call pass an owned value, a type error. A rule whose
//! forward takes `impl Input<X>` but is not marked only computes its result in a new buffer.

/// What a pullback reads besides the adjoint of the result: the runtime's wrapper of the
/// same name (`Operand<I, _>`, `Output<_>`, `Const<I, _>`) in the pullback's signature.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Read {
    /// The differentiable operand with this index.
    Operand(usize),
    /// The operation's result.
    Output,
    /// The constant argument with this index.
    Const(usize),
}

/// The pullback to one operand: a method of the rule's handle.
#[derive(Debug)]
pub struct Pullback {
    pub method: &'static str,
    pub reads: &'static [Read],
}

/// A primitive operation.
#[derive(Debug)]
pub struct OpDef {
    /// The rule's name in `__private::rules`.
    pub rule: &'static str,
    /// One pullback per differentiable operand.
    pub pullbacks: &'static [Pullback],
    /// Number of constant arguments after the operands.
    pub consts: usize,
    /// Whether the first operand may be moved into the rule (its forward takes
    /// `impl Input<X>`), so the result is computed in that operand's buffer.
    pub moves_first: bool,
    /// Whether the pullback to the first operand is emitted last. For `+`, `-`, `add_bias`, …
    /// it can reuse the buffer of the result's adjoint, which the last pullback takes by
    /// value. For a matrix product, the pullback to the second operand (`d_b = aᵀ·d_c`) is
    /// the one that reads the first: run first, it lets the first operand's buffer go back
    /// to the pool before `d_a = d_c·bᵀ` needs one of the same shape (and for `m * s`, the
    /// pullback to `m` reuses the adjoint's buffer).
    pub first_runs_last: bool,
}

/// Whether the flag `name` is among `flags` (the table's trailing words).
const fn has(flags: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < flags.len() {
        let (a, b) = (flags[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return true;
            }
        }
        i += 1;
    }
    false
}

impl OpDef {
    pub fn operands(&self) -> usize {
        self.pullbacks.len()
    }
}

use Read::{Const, Operand as Op, Output as Out};

macro_rules! unary {
    ($name:ident, $rule:literal, [$($read:expr),*], $consts:literal $(, $flag:ident)*) => {
        pub static $name: OpDef = OpDef {
            rule: $rule,
            pullbacks: &[Pullback { method: "arg", reads: &[$($read),*] }],
            consts: $consts,
            moves_first: has(&[$(stringify!($flag)),*], "moves"),
            first_runs_last: false,
        };
    };
}

macro_rules! binary {
    ($name:ident, $rule:literal, [$($l:expr),*], [$($r:expr),*] $(, $flag:ident)*) => {
        pub static $name: OpDef = OpDef {
            rule: $rule,
            pullbacks: &[
                Pullback { method: "lhs", reads: &[$($l),*] },
                Pullback { method: "rhs", reads: &[$($r),*] },
            ],
            consts: 0,
            moves_first: has(&[$(stringify!($flag)),*], "moves"),
            first_runs_last: has(&[$(stringify!($flag)),*], "first_last"),
        };
    };
}

binary!(ADD, "add", [], [], moves, first_last);
binary!(SUB, "sub", [], [], moves, first_last);
binary!(MUL, "mul", [Op(1)], [Op(0)], first_last);
binary!(DIV, "div", [Op(1)], [Op(0), Op(1)], first_last);
unary!(NEG, "neg", [], 0);

unary!(EXP, "exp", [Out], 0, moves);
unary!(LN, "ln", [Op(0)], 0, moves);
unary!(SQRT, "sqrt", [Out], 0, moves);
unary!(SIN, "sin", [Op(0)], 0, moves);
unary!(COS, "cos", [Op(0)], 0, moves);
unary!(TAN, "tan", [Out], 0, moves);
unary!(TANH, "tanh", [Out], 0, moves);
unary!(ABS, "abs", [Op(0)], 0, moves);
unary!(RECIP, "recip", [Out], 0, moves);
unary!(POWI, "powi", [Op(0), Const(0)], 1, moves);
binary!(POWF, "powf", [Op(0), Op(1)], [Op(0), Out]);
binary!(MAX, "max", [Op(0), Op(1)], [Op(0), Op(1)]);
binary!(MIN, "min", [Op(0), Op(1)], [Op(0), Op(1)]);
// `m.max()`, `m.min()` with no argument: the largest, the smallest element of a matrix. The
// handle keeps which element it was; the pullback reads nothing else.
unary!(MAX_ELEMENT, "max_element", [], 0);
unary!(MIN_ELEMENT, "min_element", [], 0);

// The pullback of relu reads the sign pattern its handle keeps, not the output: the output
// can go back to the pool as soon as the product after it has read it.
unary!(RELU, "relu", [], 0, moves);
unary!(SIGMOID, "sigmoid", [Out], 0, moves);
unary!(SQUARE, "square", [Op(0)], 0, moves);
unary!(LEAKY_RELU, "leaky_relu", [Op(0), Const(0)], 1, moves);
unary!(ELU, "elu", [Op(0), Const(0)], 1, moves);
binary!(MAXOUT, "maxout", [Op(0), Op(1)], [Op(0), Op(1)]);

binary!(COMPONENT_MUL, "component_mul", [Op(1)], [Op(0)], first_last);
binary!(
    COMPONENT_DIV,
    "component_div",
    [Op(1)],
    [Op(0), Op(1)],
    first_last
);
unary!(TRANSPOSE, "transpose", [], 0);
unary!(SUM, "sum", [], 0);
unary!(MEAN, "mean", [], 0);
unary!(TRACE, "trace", [], 0);
unary!(ROW_SUM, "row_sum", [], 0);
unary!(COLUMN_SUM, "column_sum", [], 0);
unary!(ROW_MEAN, "row_mean", [], 0);
unary!(COLUMN_MEAN, "column_mean", [], 0);
unary!(NORM_SQUARED, "norm_squared", [Op(0)], 0);
unary!(NORM, "norm", [Op(0), Out], 0);
binary!(DOT, "dot", [Op(1)], [Op(0)]);
binary!(ADD_SCALAR, "add_scalar", [], [], first_last);
binary!(SCALE, "scale", [Op(1)], [Op(0)], first_last);
unary!(SOFTMAX, "softmax", [Out], 0);
unary!(LOG_SOFTMAX, "log_softmax", [Out], 0);
binary!(ADD_BIAS, "add_bias", [], [], moves, first_last);
unary!(SVM_LOSS, "svm_loss", [Op(0), Const(0)], 1);
unary!(
    SOFTMAX_CROSS_ENTROPY,
    "softmax_cross_entropy",
    [Const(0)],
    1
);

// Forward mode only (`tangent.rs`): the elementwise product of two values of any kind
// (scalars too), and each element of a matrix replaced by its row's sum (the softmax's
// tangent). No user syntax reaches them.
binary!(EMUL, "emul", [Op(1)], [Op(0)], first_last);
unary!(SPREAD_ROW_SUMS, "spread_row_sums", [], 0);
// The tangent of `x.exp()`: `t·eˣ` for a scalar, the Fréchet derivative for a matrix.
binary!(EXP_TANGENT, "exp_tangent", [Op(0), Op(1)], [Op(0)]);
// The lower triangle with its diagonal halved (the Cholesky factor's tangent).
unary!(LOWER_HALF, "lower_half", [], 0);
// The tangent of a callee's parameter: the caller's, or zero where the caller has none.
unary!(TANGENT_IF, "tangent_if", [Const(0)], 1);

// Parts of a value: `v[i]`, `m[(i, j)]` (`element`, whose constant is the index) and the
// views `m.row(i)`, `m.column(j)`, `m.rows(i, n)`, `m.columns(j, n)`, `m.view((i, j), (r, c))`,
// each an owned matrix. The handle keeps where the part is and the source's shape; the
// pullback adds the seed into that part of the source's adjoint and reads nothing else.
unary!(ELEMENT, "element", [], 1);
// `ws[i]` on a differentiable collection or a field of a `Parameters` struct (a `Vec` or a
// matrix: the rule tells them apart by type); its pullback reads the source, whose lengths
// and shapes the collection's adjoint takes.
unary!(ITEM, "item", [Op(0)], 1);
unary!(ROW, "part_row", [], 1);
unary!(COLUMN, "part_column", [], 1);
unary!(ROWS, "part_rows", [], 2);
unary!(COLUMNS, "part_columns", [], 2);
unary!(VIEW, "part_view", [], 2);

// Writes: `y[i] = e` and `y[(i, j)] = e` (`write_element`, whose constant is the index),
// `y.set_row(i, &r)` and `y.set_column(j, &c)` (the constant is `i` or `j`): operand 0 is the
// matrix written into, moved in when nothing reads it afterwards, so that the write happens in
// its buffer. The handle keeps where the part is; the pullback to the value written (`part`)
// runs first and reads the seed, the one to the matrix (`matrix`) runs last and zeroes the part
// in the seed's own buffer. Neither reads anything else.
macro_rules! write {
    ($name:ident, $rule:literal) => {
        pub static $name: OpDef = OpDef {
            rule: $rule,
            pullbacks: &[
                Pullback {
                    method: "matrix",
                    reads: &[],
                },
                Pullback {
                    method: "part",
                    reads: &[],
                },
            ],
            consts: 1,
            moves_first: true,
            first_runs_last: true,
        };
    };
}

write!(WRITE_ELEMENT, "write_element");
write!(WRITE_ROW, "write_row");
write!(WRITE_COLUMN, "write_column");
// `P::from_element(.., e)` with a differentiable `e`: `e` is the operand, `P::zeros(..)` the
// constant (a matrix of the same shape and type) that the rule fills with it.
unary!(FILL, "fill", [], 1);

// Linear algebra. Each value is nalgebra's own; a handle keeps the factor (LU, Cholesky) its
// pullbacks solve with. `determinant` and `kronecker` are methods; the others are chains of
// methods (`chain`), whose `expect` variant takes the message as its constant.
unary!(DETERMINANT, "determinant", [], 0);
binary!(KRONECKER, "kronecker", [Op(1)], [Op(0)]);
unary!(INVERSE, "inverse", [Out], 0);
unary!(INVERSE_EXPECT, "inverse_expect", [Out], 1);
unary!(CHOLESKY_L, "cholesky_l", [Out], 0);
unary!(CHOLESKY_L_EXPECT, "cholesky_l_expect", [Out], 1);
binary!(LU_SOLVE, "lu_solve", [Out], []);
binary!(CHOLESKY_SOLVE, "cholesky_solve", [Out], []);
pub static LU_SOLVE_EXPECT: OpDef = OpDef {
    rule: "lu_solve_expect",
    consts: 1,
    ..LU_SOLVE
};
pub static CHOLESKY_SOLVE_EXPECT: OpDef = OpDef {
    rule: "cholesky_solve_expect",
    consts: 1,
    ..CHOLESKY_SOLVE
};

// A factorization named by `let c = a.cholesky().unwrap();` is the factor `L` (the rule
// `cholesky_l`): `c.l()` is that value, and `c.solve(&b)` reads it as its constant. The
// operands of the solve are `a` (its gradient goes there directly, at `O(n²)` per column of
// `b`, not through `L`) and `b`.
pub static CHOLESKY_FACTOR_SOLVE: OpDef = OpDef {
    rule: "cholesky_factor_solve",
    pullbacks: &[
        Pullback {
            method: "lhs",
            reads: &[Out, Const(0)],
        },
        Pullback {
            method: "rhs",
            reads: &[Const(0)],
        },
    ],
    consts: 1,
    moves_first: false,
    first_runs_last: false,
};

/// The factorization a `let` may name, `a.cholesky().unwrap()` or `.expect(..)`, as the
/// methods of [`chain`] (`[("cholesky", 0), ("unwrap", 0)]`): the rule of its factor `L`.
pub fn factorization(methods: &[(&str, usize)]) -> Option<&'static OpDef> {
    Some(match methods {
        [("cholesky", 0), ("unwrap", 0)] => &CHOLESKY_L,
        [("cholesky", 0), ("expect", 1)] => &CHOLESKY_L_EXPECT,
        _ => return None,
    })
}

/// Methods with a derivative rule: `recv.name(args)` with `args` arguments; the receiver is
/// operand 0. `max` and `min` are two methods: with no argument, the largest or smallest
/// element of a matrix; with one, the larger or smaller of two scalars.
pub fn method(name: &str, args: usize) -> Option<&'static OpDef> {
    Some(match name {
        "max" if args == 0 => &MAX_ELEMENT,
        "min" if args == 0 => &MIN_ELEMENT,
        "row" if args == 1 => &ROW,
        "column" if args == 1 => &COLUMN,
        "rows" if args == 2 => &ROWS,
        "columns" if args == 2 => &COLUMNS,
        "view" if args == 2 => &VIEW,
        "exp" => &EXP,
        "ln" => &LN,
        "sqrt" => &SQRT,
        "sin" => &SIN,
        "cos" => &COS,
        "tan" => &TAN,
        "tanh" => &TANH,
        "abs" => &ABS,
        "recip" => &RECIP,
        "powi" => &POWI,
        "powf" => &POWF,
        "max" => &MAX,
        "min" => &MIN,
        "transpose" => &TRANSPOSE,
        "component_mul" => &COMPONENT_MUL,
        "component_div" => &COMPONENT_DIV,
        "sum" => &SUM,
        "mean" => &MEAN,
        "trace" => &TRACE,
        "row_sum" => &ROW_SUM,
        "column_sum" => &COLUMN_SUM,
        "row_mean" => &ROW_MEAN,
        "column_mean" => &COLUMN_MEAN,
        "norm_squared" => &NORM_SQUARED,
        "norm" => &NORM,
        "dot" => &DOT,
        "add_scalar" => &ADD_SCALAR,
        "scale" => &SCALE,
        "determinant" => &DETERMINANT,
        "kronecker" => &KRONECKER,
        _ => return None,
    })
}

/// Chains of methods with one derivative rule, given as each method's name and number of
/// arguments from the innermost out: `a.lu().solve(&b).unwrap()` is
/// `[("lu", 0), ("solve", 1), ("unwrap", 0)]`. The receiver of the innermost method is
/// operand 0; the arguments of the others are the next operands, except those of `expect`
/// ([`is_chain_constant`]), the rule's constant.
pub fn chain(methods: &[(&str, usize)]) -> Option<&'static OpDef> {
    Some(match methods {
        [("try_inverse", 0), ("unwrap", 0)] => &INVERSE,
        [("try_inverse", 0), ("expect", 1)] => &INVERSE_EXPECT,
        [("lu", 0), ("solve", 1), ("unwrap", 0)] => &LU_SOLVE,
        [("lu", 0), ("solve", 1), ("expect", 1)] => &LU_SOLVE_EXPECT,
        [("cholesky", 0), ("unwrap", 0), ("l", 0)] => &CHOLESKY_L,
        [("cholesky", 0), ("expect", 1), ("l", 0)] => &CHOLESKY_L_EXPECT,
        [("cholesky", 0), ("unwrap", 0), ("solve", 1)] => &CHOLESKY_SOLVE,
        [("cholesky", 0), ("expect", 1), ("solve", 1)] => &CHOLESKY_SOLVE_EXPECT,
        _ => return None,
    })
}

/// The most methods a chain of [`chain`] has.
pub const LONGEST_CHAIN: usize = 3;

/// Whether the arguments of a method in a chain are the rule's constants (the message of
/// `expect`), not operands.
pub fn is_chain_constant(name: &str) -> bool {
    name == "expect"
}

/// Free functions with a derivative rule: `name(args)`.
pub fn function(name: &str) -> Option<&'static OpDef> {
    Some(match name {
        "relu" => &RELU,
        "leaky_relu" => &LEAKY_RELU,
        "sigmoid" => &SIGMOID,
        "tanh" => &TANH,
        "elu" => &ELU,
        "maxout" => &MAXOUT,
        "square" => &SQUARE,
        "softmax" => &SOFTMAX,
        "log_softmax" => &LOG_SOFTMAX,
        "add_bias" => &ADD_BIAS,
        "svm_loss" => &SVM_LOSS,
        "softmax_cross_entropy" => &SOFTMAX_CROSS_ENTROPY,
        _ => return None,
    })
}

/// Methods that read only a value's shape: their results are constants, whatever the value.
pub fn is_shape_query(name: &str) -> bool {
    matches!(
        name,
        "nrows" | "ncols" | "len" | "shape" | "is_empty" | "is_square"
    )
}

/// Methods that return the same value (a copy): differentiated as the identity.
pub fn is_identity_method(name: &str) -> bool {
    matches!(name, "clone" | "clone_owned" | "into_owned")
}

/// The methods with a rule, for error messages.
pub const METHOD_NAMES: &str =
    "exp, ln, sqrt, powi, powf, sin, cos, tan, tanh, abs, max, min, recip, \
     transpose, component_mul, component_div, sum, mean, row_sum, column_sum, row_mean, \
     column_mean, trace, norm_squared, norm, dot, add_scalar, scale, map, determinant, \
     kronecker, row, column, rows, columns, view, try_inverse().unwrap(), \
     lu().solve(&b).unwrap(), cholesky().unwrap().l(), cholesky().unwrap().solve(&b)";
