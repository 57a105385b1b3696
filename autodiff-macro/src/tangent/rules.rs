//! The tangent of each operation, written with the rules of the body (and the runtime's
//! constants of `ops::tangent` for piecewise slopes): one function per family of rules.

use super::{Tan, Tangents};
use crate::ir::*;
use crate::ops::{self, OpDef};
use proc_macro2::Span;
use quote::quote;

/// An operation whose tangent is wanted: its result `y`, operands `a` and `b` and their
/// tangents.
pub(super) struct At<'o> {
    pub op: &'o OpCall,
    pub y: Operand,
    pub a: Operand,
    pub b: Option<Operand>,
    pub ta: Tan,
    pub tb: Tan,
}

impl At<'_> {
    fn span(&self) -> Span {
        self.op.span
    }
    fn rule(&self) -> &'static str {
        self.op.op.rule
    }
}

impl Tangents<'_> {
    /// The tangent of `y = op(operands…)`.
    pub(super) fn op(&mut self, out: &mut Block, y: VarId, op: &OpCall) -> Tan {
        let t: Vec<Tan> = op.operands.iter().map(|o| self.tan(o)).collect();
        if t.iter().all(Option::is_none) {
            return None;
        }
        let at = At {
            op,
            y: Operand::Var(y),
            a: op.operands[0].clone(),
            b: op.operands.get(1).cloned(),
            ta: t[0].clone(),
            tb: t.get(1).cloned().flatten(),
        };
        match at.rule() {
            "add" => self.sum(out, vec![at.ta, at.tb], op.span),
            "sub" => self.difference(out, at.ta, at.tb, op.span),
            "neg" | "transpose" | "sum" | "mean" | "trace" | "row_sum" | "column_sum"
            | "row_mean" | "column_mean" | "element" | "part_row" | "part_column" | "part_rows"
            | "part_columns" | "part_view" | "fill" => self.same(out, &at, vec![at.ta.clone()?]),
            "item" => self.item(out, &at.y, op, at.ta?),
            "mul" | "component_mul" | "dot" | "kronecker" | "emul" | "scale" | "div"
            | "component_div" | "add_scalar" | "add_bias" => self.product(out, at),
            "max" | "min" | "maxout" | "powf" => self.binary_function(out, at),
            "write_element"
            | "write_row"
            | "write_column"
            | "lu_solve"
            | "lu_solve_expect"
            | "cholesky_solve"
            | "cholesky_solve_expect"
            | "cholesky_factor_solve"
            | "cholesky_l"
            | "cholesky_l_expect" => self.matrix_rule(out, at),
            _ => {
                let (x, t) = (at.a.clone(), at.ta.clone()?);
                self.elementwise(out, &at, &x, t)
            }
        }
    }

    /// The same operation (same constants) on `operands`.
    fn same(&mut self, out: &mut Block, at: &At, operands: Vec<Operand>) -> Tan {
        Some(self.rule(out, at.op.op, operands, at.op.consts.clone(), at.span()))
    }

    /// Products and quotients, bilinear in their operands (`t_a·b + a·t_b`), and the sums
    /// that broadcast their second operand.
    fn product(&mut self, out: &mut Block, at: At) -> Tan {
        let (span, op, b) = (at.span(), at.op.op, at.b.clone()?);
        match at.rule() {
            "div" | "component_div" => {
                // (t_a − y·t_b) / b
                let product: &'static OpDef = match at.rule() {
                    "div" => &ops::MUL,
                    _ => &ops::COMPONENT_MUL,
                };
                let ytb = at
                    .tb
                    .map(|tb| self.bin(out, product, at.y.clone(), tb, span));
                let top = self.difference(out, at.ta, ytb, span)?;
                Some(self.bin(out, op, top, b, span))
            }
            "add_scalar" | "add_bias" => {
                // The broadcast operand's tangent broadcast the same way, onto a zero where
                // the first has none.
                let Some(tb) = at.tb else {
                    return at.ta;
                };
                let base = match at.ta {
                    Some(ta) => ta,
                    None => self.zeros_like(out, &at.a, span),
                };
                Some(self.bin(out, op, base, tb, span))
            }
            _ => {
                let left = at.ta.map(|ta| self.bin(out, op, ta, b.clone(), span));
                let right = at.tb.map(|tb| self.bin(out, op, at.a.clone(), tb, span));
                self.sum(out, vec![left, right], span)
            }
        }
    }

    /// `max`, `min`, `maxout` (the slope 1 for the operand each element came from, as the
    /// rule picks it) and `powf`.
    fn binary_function(&mut self, out: &mut Block, at: At) -> Tan {
        let (span, b) = (at.span(), at.b.clone()?);
        let a = at.a.clone();
        let (left, right) = if at.rule() == "powf" {
            // e·x^(e−1)·t_x + y·ln(x)·t_e, for scalars.
            let left = at.ta.map(|ta| {
                let one = self.count(out, &a, 1, span);
                let lower = self.bin(out, &ops::SUB, b.clone(), one, span);
                let p = self.bin(out, &ops::POWF, a.clone(), lower, span);
                let ep = self.bin(out, &ops::MUL, b.clone(), p, span);
                self.bin(out, &ops::MUL, ta, ep, span)
            });
            let right = at.tb.map(|tb| {
                let ln = self.un(out, &ops::LN, a.clone(), span);
                let yl = self.bin(out, &ops::MUL, at.y.clone(), ln, span);
                self.bin(out, &ops::MUL, tb, yl, span)
            });
            (left, right)
        } else {
            let (first, second) = match at.rule() {
                "min" => ("picks_first_min", "picks_second_min"),
                _ => ("picks_first_max", "picks_second_max"),
            };
            let mut picked = |this: &mut Self, which: &str, t: Operand| {
                let m = this.helper(out, which, &[&a, &b], quote!(), span);
                this.bin(out, &ops::EMUL, m, t, span)
            };
            let left = at.ta.map(|ta| picked(self, first, ta));
            let right = at.tb.map(|tb| picked(self, second, tb));
            (left, right)
        };
        self.sum(out, vec![left, right], span)
    }

    /// Writes into parts of a matrix (linear in both operands), solves (`x = a⁻¹·b`:
    /// `t_x = a⁻¹·(t_b − t_a·x)`, by the same solve), and the Cholesky factor.
    fn matrix_rule(&mut self, out: &mut Block, at: At) -> Tan {
        let span = at.span();
        match at.rule() {
            "write_element" | "write_row" | "write_column" => {
                let b = at.b.clone()?;
                let base = match at.ta.clone() {
                    Some(ta) => ta,
                    None => self.zeros_like(out, &at.a, span),
                };
                let part = match at.tb.clone() {
                    Some(tb) => tb,
                    None => self.zeros_like(out, &b, span),
                };
                self.same(out, &at, vec![base, part])
            }
            "cholesky_l" | "cholesky_l_expect" => {
                // L·Φ(L⁻¹·t·L⁻ᵀ), Φ the lower triangle with its diagonal halved.
                let t = at.ta.clone()?;
                let inv = self.un(out, &ops::INVERSE, at.y.clone(), span);
                let inv_t = self.un(out, &ops::TRANSPOSE, inv.clone(), span);
                let left = self.bin(out, &ops::MUL, inv, t, span);
                let m = self.bin(out, &ops::MUL, left, inv_t, span);
                let phi = self.un(out, &ops::LOWER_HALF, m, span);
                Some(self.bin(out, &ops::MUL, at.y.clone(), phi, span))
            }
            _ => {
                let tax =
                    (at.ta.clone()).map(|ta| self.bin(out, &ops::MUL, ta, at.y.clone(), span));
                let rhs = self.difference(out, at.tb.clone(), tax, span)?;
                self.same(out, &at, vec![at.a.clone(), rhs])
            }
        }
    }

    /// The tangent of an elementwise function of one value, of a loss or reduction of one
    /// matrix, or of an inverse or determinant: `t` the operand `x`'s tangent.
    fn elementwise(&mut self, out: &mut Block, at: &At, x: &Operand, t: Operand) -> Tan {
        let (span, y) = (at.span(), at.y.clone());
        Some(match at.rule() {
            // `t·eˣ` for a scalar; a matrix's `exp` is the matrix exponential, whose tangent
            // is its Fréchet derivative: one rule for both, chosen by the type.
            "exp" => self.bin(out, &ops::EXP_TANGENT, x.clone(), t, span),
            "ln" => {
                let r = self.un(out, &ops::RECIP, x.clone(), span);
                self.bin(out, &ops::EMUL, t, r, span)
            }
            "sqrt" => {
                let r = self.un(out, &ops::RECIP, y, span);
                let half = self.bin(out, &ops::EMUL, t, r, span);
                let two = self.count(out, x, 2, span);
                self.bin(out, &ops::DIV, half, two, span)
            }
            "sin" => {
                let c = self.un(out, &ops::COS, x.clone(), span);
                self.bin(out, &ops::EMUL, t, c, span)
            }
            "cos" => {
                let s = self.un(out, &ops::SIN, x.clone(), span);
                let ts = self.bin(out, &ops::EMUL, t, s, span);
                self.un(out, &ops::NEG, ts, span)
            }
            "tan" | "tanh" | "recip" | "sigmoid" | "square" => self.polynomial_slope(out, at, x, t),
            "powi" => self.powi(out, at, x, t),
            "abs" | "relu" | "leaky_relu" | "elu" => self.piecewise(out, at, x, t),
            _ => return self.reduction(out, at, x, t),
        })
    }

    /// Functions whose slope is a polynomial in their value or operand.
    fn polynomial_slope(&mut self, out: &mut Block, at: &At, x: &Operand, t: Operand) -> Operand {
        let (span, y) = (at.span(), at.y.clone());
        match at.rule() {
            // 1 + y²
            "tan" => {
                let tyy = self.times_square(out, t.clone(), &y, span);
                self.bin(out, &ops::ADD, t, tyy, span)
            }
            // 1 − y²
            "tanh" => {
                let tyy = self.times_square(out, t.clone(), &y, span);
                self.bin(out, &ops::SUB, t, tyy, span)
            }
            // −y²
            "recip" => {
                let tyy = self.times_square(out, t, &y, span);
                self.un(out, &ops::NEG, tyy, span)
            }
            // y − y²
            "sigmoid" => {
                let ty = self.bin(out, &ops::EMUL, t, y.clone(), span);
                let tyy = self.bin(out, &ops::EMUL, ty.clone(), y, span);
                self.bin(out, &ops::SUB, ty, tyy, span)
            }
            // 2x
            _ => {
                let tx = self.bin(out, &ops::EMUL, t, x.clone(), span);
                self.bin(out, &ops::ADD, tx.clone(), tx, span)
            }
        }
    }

    /// `x.powi(n)`: `n·x^(n−1)·t`.
    fn powi(&mut self, out: &mut Block, at: &At, x: &Operand, t: Operand) -> Operand {
        let span = at.span();
        let n = &at.op.consts[0];
        let tokens = &n.tokens;
        let lower = Verbatim {
            tokens: quote!((#tokens) - 1),
            reads: n.reads.clone(),
        };
        let p = self.rule(out, &ops::POWI, vec![x.clone()], vec![lower], span);
        let tp = self.bin(out, &ops::EMUL, t, p, span);
        let count = self.helper(out, "count_like", &[x], quote!(#tokens), span);
        self.bin(out, &ops::MUL, tp, count, span)
    }

    /// Piecewise functions: their slope a constant of the forward values (`relu`'s read from
    /// its output), and `elu`'s `y + α` below zero computed by rules.
    fn piecewise(&mut self, out: &mut Block, at: &At, x: &Operand, t: Operand) -> Operand {
        let (span, y) = (at.span(), at.y.clone());
        let (helper, read, extra) = match at.rule() {
            "abs" => ("sign_of", x.clone(), quote!()),
            "relu" => ("step_of", y.clone(), quote!()),
            _ => {
                let alpha = &at.op.consts[0].tokens;
                ("slope_of_positive", y.clone(), quote!(#alpha))
            }
        };
        let s = self.helper(out, helper, &[&read], extra, span);
        let ts = self.bin(out, &ops::EMUL, t.clone(), s, span);
        if at.rule() != "elu" {
            return ts;
        }
        // t where y > 0, t·(y + α) elsewhere: t ⊙ slope(α) + t ⊙ [y ≤ 0] ⊙ y.
        let below = self.helper(out, "nonpositive", &[&y], quote!(), span);
        let tb = self.bin(out, &ops::EMUL, t, below, span);
        let tby = self.bin(out, &ops::EMUL, tb, y, span);
        self.bin(out, &ops::ADD, ts, tby, span)
    }

    /// Reductions, softmaxes and losses of a matrix, its extremes, its inverse and
    /// determinant; a rule without a tangent is a spanned error.
    fn reduction(&mut self, out: &mut Block, at: &At, x: &Operand, t: Operand) -> Tan {
        let (span, y) = (at.span(), at.y.clone());
        Some(match at.rule() {
            "norm_squared" => {
                let d = self.bin(out, &ops::DOT, x.clone(), t, span);
                self.bin(out, &ops::ADD, d.clone(), d, span)
            }
            "norm" => {
                let d = self.bin(out, &ops::DOT, x.clone(), t, span);
                self.bin(out, &ops::DIV, d, y, span)
            }
            "softmax" | "log_softmax" => self.softmax(out, at, x, t),
            "softmax_cross_entropy" => {
                // ⟨softmax(s) − onehot, t⟩ / n
                let labels = &at.op.consts[0].tokens;
                let p = self.un(out, &ops::SOFTMAX, x.clone(), span);
                let pt = self.bin(out, &ops::DOT, p, t.clone(), span);
                let weight = self.helper(out, "row_weight", &[x], quote!(#labels), span);
                let mean = self.bin(out, &ops::MUL, pt, weight, span);
                let target = self.helper(out, "label_weights", &[x], quote!(#labels), span);
                let tt = self.bin(out, &ops::DOT, target, t, span);
                self.bin(out, &ops::SUB, mean, tt, span)
            }
            "max_element" | "min_element" | "svm_loss" => {
                // The gradient, constant between kinks, along t.
                let (helper, extra) = match at.rule() {
                    "max_element" => ("max_slope", quote!()),
                    "min_element" => ("min_slope", quote!()),
                    _ => {
                        let labels = &at.op.consts[0].tokens;
                        ("svm_slope", quote!(#labels))
                    }
                };
                let slope = self.helper(out, helper, &[x], extra, span);
                self.bin(out, &ops::DOT, slope, t, span)
            }
            "inverse" | "inverse_expect" => {
                // −y·t·y
                let yt = self.bin(out, &ops::MUL, y.clone(), t, span);
                let yty = self.bin(out, &ops::MUL, yt, y, span);
                self.un(out, &ops::NEG, yty, span)
            }
            "determinant" => {
                // y·tr(x⁻¹·t)
                let inv = self.un(out, &ops::INVERSE, x.clone(), span);
                let it = self.bin(out, &ops::MUL, inv, t, span);
                let tr = self.un(out, &ops::TRACE, it, span);
                self.bin(out, &ops::MUL, y, tr, span)
            }
            other => {
                self.errors.push_error(syn::Error::new(
                    span,
                    format!(
                        "`jvp` and `hvp` have no tangent for `{other}` yet: write it with the \
                         elementwise functions, products and sums they know"
                    ),
                ));
                return None;
            }
        })
    }

    /// `y ⊙ (t − rows(y ⊙ t))` for the softmax, `t − rows(p ⊙ t)` for its log (`p` the
    /// softmax), with `rows(m)` each row's sum spread over the row.
    fn softmax(&mut self, out: &mut Block, at: &At, x: &Operand, t: Operand) -> Operand {
        let span = at.span();
        let softmax = at.rule() == "softmax";
        let p = match softmax {
            true => at.y.clone(),
            false => self.un(out, &ops::SOFTMAX, x.clone(), span),
        };
        let pt = self.bin(out, &ops::EMUL, p.clone(), t.clone(), span);
        let spread = self.un(out, &ops::SPREAD_ROW_SUMS, pt, span);
        if softmax {
            let centred = self.bin(out, &ops::SUB, t, spread, span);
            self.bin(out, &ops::EMUL, p, centred, span)
        } else {
            self.bin(out, &ops::SUB, t, spread, span)
        }
    }
}
